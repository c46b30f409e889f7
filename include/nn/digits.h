/**
 * @file digits.h
 * @brief Finding handwritten digits in a greyscale image and bringing each into MNIST's form.
 *
 * A model trained on MNIST reads 28 x 28 images of one digit: white ink on black, the digit's box
 * fitted into 20 x 20 with its aspect kept and anti-aliased, its centre of mass at the centre. A
 * photo or a scan holds several digits, on paper of any brightness, under uneven light, with specks,
 * ruled lines, broken strokes and touching digits. nn_digits_find() goes from the one to the other:
 * background and polarity, threshold, connected components, filtering, merging of broken pieces,
 * splitting of touching digits, reading order, normalisation. docs/predict.md describes each step and
 * its limits. The library reads no image files: the caller decodes them into 8-bit grey.
 *
 * The search is deterministic (the same pixels and options give the same bytes out), allocates
 * memory in proportion to the image and to the digits found (at most `max_digits`, so that a texture
 * of specks cannot make it allocate 3 KiB per speck), and is thread-safe on distinct results.
 * @code
 * nn_digits *d;
 * if (nn_digits_find(&d, grey, width, height, width, NULL) != NN_OK) {
 *     fprintf(stderr, "%s\n", nn_last_error());
 *     return 1;
 * }
 * int64_t n = nn_digits_count(d);                       // 0 when the image holds no ink
 * nn_tensor x;                                          // all digits at once: (n, 784)
 * nn_tensor_view(&x, nn_digits_images(d), 2, (int64_t[]){n, 784});
 * nn_model_predict_classes(model, classes, &x);         // n >= 1
 * nn_digits_free(d);
 * @endcode
 */
#ifndef NN_DIGITS_H
#define NN_DIGITS_H

#include <stdint.h>

#include "export.h"
#include "status.h"

NN_BEGIN_DECLS

/** Side of a normalised digit image: MNIST's 28. */
#define NN_DIGITS_SIDE 28
/** Floats per normalised digit image (28 x 28), as a model of input 784 or (28, 28, 1) reads them. */
#define NN_DIGITS_PIXELS (NN_DIGITS_SIDE * NN_DIGITS_SIDE)
/** Largest image nn_digits_find() accepts, in pixels (width x height): 100 megapixels. */
#define NN_DIGITS_MAX_PIXELS 100000000LL

/** Opaque result of nn_digits_find(): the digits found, in reading order. */
typedef struct nn_digits nn_digits;

/** Which way round ink and paper are. Values are stable and only appended. */
typedef enum nn_digits_polarity {
    NN_DIGITS_POLARITY_AUTO = 0,          /**< decide from the image (the default) */
    NN_DIGITS_POLARITY_DARK_ON_LIGHT = 1, /**< dark ink on light paper: pen on paper */
    NN_DIGITS_POLARITY_LIGHT_ON_DARK = 2  /**< light ink on a dark ground: chalk, MNIST itself */
} nn_digits_polarity;

/** How ink is told from paper. Values are stable and only appended. */
typedef enum nn_digits_threshold {
    NN_DIGITS_THRESHOLD_AUTO = 0,    /**< adaptive when the paper's brightness varies across the image
                                          by more than a quarter of the ink's contrast, else Otsu */
    NN_DIGITS_THRESHOLD_OTSU = 1,    /**< one threshold for the whole image (Otsu 1979) */
    NN_DIGITS_THRESHOLD_ADAPTIVE = 2 /**< the paper's level estimated per tile and subtracted first
                                          (uneven light, shadows), then Otsu on what remains */
} nn_digits_threshold;

/** Version of ::nn_digits_options this header describes (2 since 0.3: `scales`; 3: `rules`; 4:
 *  `deskew`; 5: `skip_text`). */
#define NN_DIGITS_OPTIONS_VERSION 6

/** Options of nn_digits_find(). Sizes are relative to the median digit height H the search measures,
 *  so that one setting serves digits of 16 and of 200 pixels. */
typedef struct nn_digits_options {
    unsigned version;              /**< NN_DIGITS_OPTIONS_VERSION: set by NN_DIGITS_OPTIONS_INIT */
    nn_digits_polarity polarity;   /**< default AUTO */
    nn_digits_threshold threshold; /**< default AUTO */
    int min_size;                  /**< ink blobs whose width and height are both below this many
                                        pixels are specks; default 4, 1 to 1000 */
    int merge;                     /**< non-zero (default): merge the pieces of a broken digit, those
                                        one above the other sharing most of their width; with a model
                                        (nn_digits_read()), also pieces the model reads as one digit */
    int split;                     /**< non-zero (default): split blobs too wide for one digit */
    float split_ratio;             /**< a blob wider than split_ratio x H is split (default 1.3; 0.5
                                        to 10); lower splits more eagerly */
    float stroke_width;            /**< after fitting into 20 x 20, thinner strokes are thickened to
                                        about this many pixels (MNIST's are about 2 to 2.5), and
                                        strokes over 3.6 (MNIST's 90th percentile) thinned where they
                                        stay at least 2 wide; default 2, 0 turns both off, at most 6 */
    int max_digits;                /**< more digits than this in one image is an error rather than a
                                        result (each costs 3 KiB; a page of handwriting holds hundreds,
                                        a texture of specks tens of thousands); default 4096, 1 to
                                        1000000 */
    int scales;                    /**< nn_digits_read() only: read the image at 1, 2, ...
                                        `scales` times its size (enlarged bilinearly around the
                                        digits found) and keep, region by region, the reading surest
                                        of its least sure digit there, one with more digits than
                                        another paying a factor e^4 per digit more; with 3, about 5
                                        times the time of one reading and half a point more digits
                                        read right on the synthetic benchmark (docs/predict.md, step
                                        9).
                                        Default 1; 1 to 4 (nn_digits_find() checks the range and
                                        reads once). @since 0.3 (unreleased: in the tree after
                                        0.2.0, options version 2) */
    int rules;                     /**< non-zero (default): ruled lines (an underline, the lines of
                                        ruled or squared paper: straight runs of ink at least 24
                                        times as long as thick, tilted by 6 degrees at most; upright
                                        ones only on a squared page) are taken out of the ink before
                                        the digits are found, except where a stroke crosses them
                                        (docs/predict.md, step 3); 0 keeps them (a line then joins
                                        the digits it touches into one blob). Callers of options
                                        versions 1 and 2 get the default. @since 0.3 (unreleased,
                                        options version 3) */
    int deskew;                    /**< non-zero (default): text lines tilted by 6 to 40 degrees (a
                                        photo taken at an angle), as the boxes of a first reading
                                        measure them where at least three digits line up, are
                                        turned level and read again; the boxes returned are then
                                        those around each digit's turned box, in the image as given
                                        (docs/predict.md, step 10). 0 reads the image as it lies.
                                        Callers of options versions 1 to 3 get the default. @since
                                        0.3 (unreleased, options version 4) */
    int skip_text;                 /**< nn_digits_read() with a model of 12 outputs (the last: text,
                                        a letter or a sign; `nn-mnist train --letters`): non-zero
                                        (default) leaves out a glyph read as text with a probability
                                        of 0.9 or more, and every glyph of its word (glyphs of a
                                        line at most 1.2 times the lower one's height apart) when
                                        the word's other glyphs read as digits at a mean probability
                                        under 0.85, or when it has one or two glyphs beside more
                                        than twice as many lower-case letters too low to be digits:
                                        a printed label, a name or a street beside the digits. Of
                                        such a word, runs of three or more glyphs read as digits at
                                        0.95 or more stay, and so does a number a space after or
                                        before the text (a gap at least half the lower glyph's
                                        height, no letter in it; none of the number's glyphs read
                                        as text at 0.9, each as a digit at 0.5 or more, all at a
                                        mean of 0.85 or more; never on the lower-case letters'
                                        side). So is a lower-case unit after a number (`565 mm`,
                                        `12 kg`): a glyph cut into digits whose pieces stand on the
                                        number's baseline and begin lower than its digits, and, beside
                                        a glyph read as text, one reaching below the baseline as a g.
                                        A run of sure digits holding a space is one number only
                                        from the word's start or a space, or grouped as thousands
                                        (`$8 084`), so that a label's last l is no digit (`Total
                                        36`); a glyph beside one read as text, on its baseline and
                                        lower by a fifth of its height and lower than the glyph
                                        after it, is a lower-case letter (the o of `No. 75`); a
                                        number between two spaces of a text word, after text, stays. docs/predict.md, step 7. 0 reads every glyph as a
                                        digit. Callers of options versions 1 to 4 get the default.
                                        @since 0.3 (unreleased, options version 5) */
    int plate;                     /**< non-zero (default): a plate or card of one colour lying
                                        wholly inside a photo of a wall or table of another (solid,
                                        sharp-edged, its digits strokes thinner than the plate
                                        around them, nothing else of its colour beside it) is read
                                        alone, its edge and what lies beyond painted as the plate,
                                        when that reading finds digits (and, with a model, the whole
                                        image does not read the plate itself as a surer digit); the
                                        boxes are in the image as given (docs/predict.md, step 0).
                                        0 reads the whole image. Callers of options versions 1 to 5
                                        get the default. @since 0.3 (unreleased, options version 6) */
} nn_digits_options;

/** Initialiser of ::nn_digits_options with the defaults: `nn_digits_options o = NN_DIGITS_OPTIONS_INIT;` */
#define NN_DIGITS_OPTIONS_INIT                                                                     \
    {NN_DIGITS_OPTIONS_VERSION, NN_DIGITS_POLARITY_AUTO, NN_DIGITS_THRESHOLD_AUTO, 4, 1, 1, 1.3f, 2.0f,      \
     4096, 1, 1, 1, 1, 1}

/**
 * @brief Fill @p opts with the defaults of options version @p version (for callers that cannot use
 *        the macro).
 * @return NN_OK, or NN_ERR_INVALID_ARGUMENT for NULL or a version this library does not know.
 * @since 0.2
 */
NN_API nn_status nn_digits_options_init(nn_digits_options *opts, unsigned version);

/**
 * @brief Find the digits in an 8-bit greyscale image and normalise each as MNIST was.
 *
 * Pixel (x, y) is `pixels[y * stride + x]`, 0 black to 255 white; the image is not modified. An image
 * without ink (a blank page, a uniform colour, pure noise) is not an error: the call succeeds with
 * nn_digits_count() == 0, and the caller decides what that means. Text drawn in outline (hollow
 * strokes) is filled before normalising when most of its glyphs are so drawn (docs/predict.md, step 8).
 * What is no digit is left out: specks, lines, a ring around digits, a barcode, a solid patch higher
 * than the digits (step 4), and slashes and parentheses taller than the digits beside them, or a
 * date's two slashes as high as its digits (step 11). A plate or card of one colour lying wholly
 * inside a photo of a wall or table of another is read alone (`plate`, step 0).
 * @param[out] out   the result, which the caller frees with nn_digits_free(); NULL on failure
 * @param pixels     @p height rows of @p width bytes, @p stride bytes apart
 * @param width, height  1 or more each, at most NN_DIGITS_MAX_PIXELS together
 * @param stride     bytes from one row to the next, at least @p width
 * @param opts       NULL for the defaults
 * @return NN_OK; NN_ERR_INVALID_ARGUMENT (NULL, a size out of range, stride < width, an image over
 *         NN_DIGITS_MAX_PIXELS, a bad option, more than `max_digits` digits found); NN_ERR_NO_MEMORY.
 *         The memory used is about 1 byte per pixel (2 while ruled lines are looked for), plus 16
 *         bytes per horizontal run of ink, plus 6.3 KiB per digit found while it runs (3.2 KiB of
 *         which the result keeps); where a tilted line is turned level (`deskew`), the turned part
 *         (up to twice the part around the digits) is read as a second image, after the first.
 *         Looking for a plate (`plate`) takes 2 bytes per pixel of the image reduced to at most 4
 *         megapixels, plus 20 bytes per horizontal run of each of its two classes there, and a
 *         plate found is copied once and read instead of the whole image.
 * @since 0.2
 */
NN_API nn_status nn_digits_find(nn_digits **out, const uint8_t *pixels, int64_t width, int64_t height,
                                int64_t stride, const nn_digits_options *opts);

/** Opaque model (include/nn/model.h). */
typedef struct nn_model nn_model;

/**
 * @brief Find the digits as nn_digits_find() does, and read them with @p model, which also decides
 *        where touching digits part.
 *
 * A blob that may hold several digits (wider than the median digit height H and than its own
 * height) is cut along paths that part as little ink as they can and may bend around strokes
 * (not only straight columns); every piece between two paths is normalised and classified, all in
 * one batch, and the blob is read as the partition into 1 to 9 digits of highest score: the sum of
 * the pieces' log-probabilities, a prior on each piece's shape (fragments, and digits other than 1
 * much wider than high, are unlikely) and a cost per cut and per stroke it parts. With `merge` on,
 * the pieces of a broken digit that nn_digits_find() leaves apart (a piece too low to be a digit
 * beside one, two close neighbours of a line) are also tried as one digit, and joined when the model
 * reads them better so. The result holds each digit's 10 probabilities (nn_digits_probabilities()).
 * docs/predict.md, step 6. With `scales` over 1, the part of the image around the digits found is
 * also read enlarged 2 (and 3, 4) times, and each region is taken from the reading surest of its
 * least sure digit there, each digit more than the fewest any reading has there counting as a factor
 * e^4 against it (in effect the fewest digits, unless an 11-class model reads them as not one digit
 * each); a region is kept where the image as given and at least half the readings found digits.
 * Boxes are in the caller's pixels. A scale that would make the median digit over 400 pixels high or
 * the part read over NN_DIGITS_MAX_PIXELS is skipped, and so is a reading refused for more than
 * `max_digits` glyphs; if the combined reading holds more than `max_digits` digits, the reading at
 * scale 1 is the result. docs/predict.md, step 9.
 *
 * @param[out] out   as nn_digits_find()
 * @param model      a classifier of 28 x 28 digits into 10 classes, input 784 or (28, 28, 1), as
 *                   nn_digits_images() feeds it; its outputs are taken as probabilities when it was
 *                   compiled with softmax cross-entropy (or they already sum to 1), else through a
 *                   softmax. It may have an 11th output, "not one digit" (two touching digits, part
 *                   of one: `nn-mnist train --reject`): then a glyph read as more likely not one
 *                   digit than one is tried for cuts however narrow, and every reading scores only the
 *                   digits' probabilities, so that a blob of two touching digits loses to its pieces.
 *                   It may have a 12th after it, "text" (a letter or a sign: `nn-mnist train
 *                   --letters`): the two count together as not one digit, and with `skip_text` (the
 *                   default) text and the words that hold it are left out.
 *                   It is used as nn_model_predict() uses it: one thread at a time.
 * @param pixels, width, height, stride, opts  as nn_digits_find(); `split` = 0 reads each blob as
 *                   one digit
 * @return as nn_digits_find(), and NN_ERR_INVALID_ARGUMENT for a NULL @p model, NN_ERR_SHAPE for a
 *         model of another input or output size, NN_ERR_NUMERIC when the model's outputs are not
 *         finite (NaN or infinite weights), or the model's own error. Deterministic for a
 *         given model and BLAS thread count. Besides nn_digits_find()'s memory, it classifies about
 *         twice as many images as there are digits when few touch, up to 44 more per blob cut and
 *         up to 3 more per digit read with little confidence (the joins tried). With `scales` s
 *         over 1, each larger scale holds the part read, enlarged (s^2 bytes per pixel of it), and
 *         that reading's own memory as above, one scale at a time; the readings kept until they are
 *         combined hold their digits (about 3.2 KiB each).
 * @since 0.2
 */
NN_API nn_status nn_digits_read(nn_digits **out, nn_model *model, const uint8_t *pixels, int64_t width,
                                int64_t height, int64_t stride, const nn_digits_options *opts);

/** Most models nn_digits_read_ensemble() reads with at once. */
#define NN_DIGITS_MAX_MODELS 16

/**
 * @brief nn_digits_read() with several models at once (an ensemble): every glyph and piece is
 *        classified by each, and their probabilities averaged, before anything is chosen.
 *
 * Models trained alike from different seeds err on different digits, so that together they misread
 * fewer: two default models of `nn-mnist train` (seeds 42 and 43) read about a fifth of a point
 * more of the synthetic benchmark's digits than either alone, and a point more of its 5-digit
 * strings (docs/predict-log.md, "Two models read together"). Each model costs its inference on every
 * image classified; finding, cutting and normalising are done once. With one model it is
 * nn_digits_read(), bit for bit.
 * @param models, count  1 to NN_DIGITS_MAX_MODELS models, each as nn_digits_read()'s @p model, all
 *                   with the same number of outputs (10, 11 with "not one digit", 12 with text);
 *                   the same model may be given twice (it then weighs twice)
 * @return as nn_digits_read(); NN_ERR_INVALID_ARGUMENT for NULL @p models, a NULL model or
 *         @p count out of range, NN_ERR_SHAPE for a model of another input size or for models of
 *         different numbers of outputs. Memory as nn_digits_read(), plus 4 bytes per output of
 *         each image classified at once when @p count is over 1.
 * @since 0.3
 */
NN_API nn_status nn_digits_read_ensemble(nn_digits **out, nn_model *const *models, int count, const uint8_t *pixels,
                                         int64_t width, int64_t height, int64_t stride,
                                         const nn_digits_options *opts);

/**
 * @brief Every piece nn_digits_read() may read as one digit when it cuts a blob, without reading
 *        any: for teaching a model the pieces its reader will show it.
 *
 * The blobs are found as nn_digits_read() finds them (nn_digits_find() with `split` = 0: nothing
 * cut geometrically), in the whole image (no plate is looked for: `plate` is not read); each that may hold several digits (wider than the median digit height H and
 * than its own height) is cut along up to 8 paths as nn_digits_read() cuts it, and every piece
 * between two of its paths (the blob's own edges counting as paths, the whole blob not counted) is
 * normalised as a digit is, each with its box: the right digits of touching ones and the wrong
 * parts both. A recogniser trained on its segmenter's hypotheses (LeCun, Bottou, Bengio and Haffner
 * 1998) learns which is which: `nn-mnist train` labels them by their boxes against strings it
 * composes (docs/predict-log.md, "The reader's own pieces"). A blob nn_digits_read() would try only
 * because an 11-output model reads it as not one digit is not cut here. nn_digits_find() gives the
 * blobs themselves.
 *
 * @param[out] out   the pieces, blob by blob in reading order, each blob's by its left path then its
 *                   right (nn_digits_image(), nn_digits_box(); nn_digits_line() numbers the lines
 *                   that hold pieces from 0); none when no blob is wide enough, or `split` is 0.
 *                   The caller frees it with nn_digits_free(); it has no probabilities.
 * @param pixels, width, height, stride, opts  as nn_digits_find(), `merge` as there (no model);
 *                   `split_ratio` and `scales` are not used
 * @return as nn_digits_find(). Deterministic. At most 44 pieces per blob cut (3.1 KiB each): up to
 *         44 x `max_digits` for an image of nothing but wide blobs.
 * @since 0.3
 */
NN_API nn_status nn_digits_pieces(nn_digits **out, const uint8_t *pixels, int64_t width, int64_t height,
                                  int64_t stride, const nn_digits_options *opts);

/**
 * @brief The 10 class probabilities of digit @p i, from nn_digits_read(). With a model of 11 or 12
 *        outputs they sum to 1 less the probability that the glyph is not one digit, or text.
 * @return a pointer borrowed from @p d, valid until nn_digits_free(); NULL when @p i is out of range
 *         or @p d came from nn_digits_find().
 * @since 0.2
 */
NN_API const float *nn_digits_probabilities(const nn_digits *d, int64_t i);

/** @brief The most probable class of digit @p i (0 to 9) from nn_digits_read(); -1 as
 *         nn_digits_probabilities() gives NULL. @since 0.2 */
NN_API int nn_digits_class(const nn_digits *d, int64_t i);

/** @brief Release a result; NULL is a no-op. @since 0.2 */
NN_API void nn_digits_free(nn_digits *d);

/** @brief Number of digits found (0 for NULL). @since 0.2 */
NN_API int64_t nn_digits_count(const nn_digits *d);

/**
 * @brief The normalised image of digit @p i: NN_DIGITS_PIXELS floats in 0..1, row-major, white
 *        (1) ink on black (0), as MNIST's pixels / 255.
 * @return a pointer borrowed from @p d, valid until nn_digits_free(); NULL when @p i is out of range.
 * @since 0.2
 */
NN_API float *nn_digits_image(nn_digits *d, int64_t i);

/**
 * @brief All the normalised images, one after the other: nn_digits_count() x NN_DIGITS_PIXELS
 *        floats, ready for a tensor view of shape (n, 784) or (n, 28, 28, 1).
 * @return borrowed from @p d as nn_digits_image(); NULL when there are none.
 * @since 0.2
 */
NN_API float *nn_digits_images(nn_digits *d);

/**
 * @brief Bounding box of digit @p i in the original image: columns x .. x + w - 1, rows y .. y + h - 1.
 * @param x, y, w, h  each may be NULL
 * @return NN_OK, or NN_ERR_INVALID_ARGUMENT for NULL @p d or @p i out of range.
 * @since 0.2
 */
NN_API nn_status nn_digits_box(const nn_digits *d, int64_t i, int64_t *x, int64_t *y, int64_t *w, int64_t *h);

/** @brief Text line of digit @p i, 0 for the top line; -1 when @p i is out of range. @since 0.2 */
NN_API int64_t nn_digits_line(const nn_digits *d, int64_t i);

/** @brief Number of text lines (0 when no digits). @since 0.2 */
NN_API int64_t nn_digits_line_count(const nn_digits *d);

/** @brief The polarity found (or given): DARK_ON_LIGHT or LIGHT_ON_DARK; AUTO for NULL. @since 0.2 */
NN_API nn_digits_polarity nn_digits_polarity_used(const nn_digits *d);

/** @brief The threshold method used: OTSU or ADAPTIVE; AUTO for NULL or an image without ink. @since 0.2 */
NN_API nn_digits_threshold nn_digits_threshold_used(const nn_digits *d);

NN_END_DECLS

#endif /* NN_DIGITS_H */
