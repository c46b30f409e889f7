/*
 * `nn-mnist train --fonts SHARE`: digits of other writers than MNIST's. MNIST holds 60,000 digits of
 * about 500 writers, all of one look (American census staff and students, one pen, one scanner); a
 * reader trained on them alone misreads printed and other people's digits that it finds perfectly
 * (docs/predict-log.md, "Digits of other writers": 96.9% of the benchmark's font digits found
 * alone, 91% read right). So the ten digits of the installed fonts of a fixed list (handwriting,
 * script and print families, none of those bench-digits measures with) are rendered, brought into
 * MNIST's form as nn-mnist predict brings a digit it finds (nn_digits_find()), and added to the
 * training images, each glyph repeated so that they make about SHARE of them. The training's
 * augmentation then varies every copy.
 */
#ifndef NNM_FONTS_H
#define NNM_FONTS_H

#include <stddef.h>
#include <stdint.h>

#include <nn/nn.h>

#define NNM_FONTS_MAX 0.5       /* --fonts is at most half of the training images */
#define NNM_FONTS_DEFAULT 0.09f /* train's on mnist (docs/predict-log.md, "Digits of other writers") */

/* The families nnm_fonts_dataset() renders (fontconfig patterns), and how many. */
extern const char *const nnm_font_families[];
extern const int nnm_n_font_families;

typedef struct nnm_font_digits {
    int fonts;        /* families of the list found installed, each giving its ten digits */
    int64_t glyphs;   /* distinct images rendered (10 per font, less those not found as one digit) */
    int64_t added;    /* images added: glyphs times their copies */
    char missing[1024]; /* the families not installed (or without a digit found alone), comma
                           separated, cut short when long */
} nnm_font_digits;

/*
 * Renders the ten digits of each family of families[0..n) that fontconfig has (a pattern whose family
 * it does not have is skipped, not substituted), normalised as nn_digits_find() normalises a digit
 * found alone; a glyph it does not find as exactly one digit (a dotted zero, a 4 in two strokes) is
 * left out. On success *images (glyphs x 784 bytes, ink 255 on 0, MNIST's form) and *labels (glyphs),
 * malloc'd, and info; 1 with err when none of the families is installed, -1 with err when cairo or
 * memory fails.
 */
int nnm_fonts_render(const char *const *families, int n, uint8_t **images, uint8_t **labels, nnm_font_digits *info,
                     char *err, size_t errlen);

/* A digit's ink as drawn (coverage 0..255, w x h, dense), cropped to its box: what train --pieces
 * composes strings of. */
typedef struct nnm_glyph {
    uint8_t *cov;
    int w, h;
    int label, font;  /* the digit, and its font's number (0 .. fonts - 1) */
} nnm_glyph;

typedef struct nnm_glyph_set {
    nnm_glyph *g;
    int n, fonts;
} nnm_glyph_set;

/*
 * The digits of nnm_font_families as installed, as drawn at 100 pixels (those nnm_fonts_render()
 * keeps, font by font). 0; 1 with err when none is installed; -1 with err. Freed with
 * nnm_glyph_set_free() (also after a failure, and on a zeroed set).
 */
int nnm_fonts_glyphs(nnm_glyph_set *set, char *err, size_t errlen);
void nnm_glyph_set_free(nnm_glyph_set *set);

/*
 * *out = the first n images of base (28 x 28) followed by round(share / (1 - share) n) (at least one)
 * of the rendered digits of nnm_font_families: share of *out. As many whole copies of every glyph as
 * fit, then the rest spread over the ten digits evenly, each over its fonts.
 * Deterministic for one set of installed fonts. 0; 1 with err when none of the fonts is installed;
 * -1 with err.
 */
int nnm_fonts_dataset(nn_dataset **out, const nn_dataset *base, int64_t n, double share, nnm_font_digits *info,
                      char *err, size_t errlen);

/*
 * `nn-mnist train --letters SHARE`: text, a twelfth class. A printed label ("Postcode:", "Amount"), a
 * name or a street beside the digits is read as digits by a model that knows only digits and "not
 * one digit" (docs/predict-log.md, "Labels and names beside the digits"). So the letters and signs
 * of the same fonts that look like no digit in any hand are rendered and normalised as the fonts'
 * digits are, and taught as text, after --reject's class (its "not one digit" is the reader's cue to
 * cut a glyph; text is its cue to leave one out: nn_digits_options.skip_text).
 */
#define NNM_LETTERS_MAX     0.2   /* --letters is at most a fifth of the training images */
#define NNM_LETTERS_DEFAULT 0.06f /* train's on mnist with --reject; 0.05 showed the letters of before too
                                   * seldom once C, c, D, r and u joined them (docs/predict-log.md,
                                   * "C, c, D, r and u as text") */
#define NNM_TEXT_CLASS      11    /* the model's twelfth output, after NNM_REJECT_CLASS */

typedef struct nnm_font_letters {
    int fonts;      /* families of the list found installed with at least one of them */
    int64_t glyphs; /* distinct images rendered (those found as exactly one glyph) */
    int64_t added;  /* images added */
} nnm_font_letters;

/* The letters and signs of families[0..n) that each font has, normalised as nn_digits_find()
 * normalises a glyph found alone: *images (info->glyphs x 784 bytes), malloc'd. 0; 1 with err when
 * none is installed; -1 with err. */
int nnm_fonts_letters(const char *const *families, int n, uint8_t **images, nnm_font_letters *info, char *err,
                      size_t errlen);

/* *out = every image of base followed by round(share / (1 - share) n) (at least one) of the letters
 * of nnm_font_families, labelled `label`, each glyph in turn. 0; 1 with err when none is installed;
 * -1 with err. */
int nnm_letters_dataset(nn_dataset **out, const nn_dataset *base, int64_t n, double share, uint8_t label,
                        nnm_font_letters *info, char *err, size_t errlen);

#endif
