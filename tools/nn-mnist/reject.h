/*
 * `--reject SHARE`: teach a digit reader what is not one digit. nn_digits_read() cuts a blob that
 * may hold touching digits where the model reads the pieces best; a model that has only ever seen
 * single digits reads two touching digits confidently as one (a 1 against an 8 is a fine 8), and the
 * arc of a wide 0 cut off as a fine 1. So SHARE of the training images are replaced by such shapes,
 * labelled with an eleventh class, NNM_REJECT_CLASS: two digits side by side, touching or
 * overlapping, and the left or right part of a digit cut down a column. Each is brought into MNIST's
 * form as MNIST's digits were (box fitted into 20 x 20 with its aspect kept, area-averaged, centre of
 * mass at the centre), so that only the shape tells the classes apart.
 */
#ifndef NNM_REJECT_H
#define NNM_REJECT_H

#include <stdint.h>

#include <nn/nn.h>

#define NNM_REJECT_CLASS 10      /* the model's eleventh output: not one digit */
#define NNM_REJECT_MAX 0.5       /* --reject is at most half of the training images */
#define NNM_REJECT_DEFAULT 0.25f /* train's: 94.6% of the benchmark's MNIST digits against 92.9% without,
                                    0.15 gave 93.6% (docs/predict-log.md) */
#define NNM_REJECT_TMP (2 * 20 * 20) /* floats nnm_reject_normalize() needs in tmp */
#define NNM_REJECT_SCRATCH(rows, cols) (3 * (rows) * (cols) + NNM_REJECT_TMP) /* nnm_reject_batch()'s */

/*
 * Replaces about share of the n images of x (rows x cols each, ink 1 on 0) and their labels y by
 * shapes that are not one digit, labelled NNM_REJECT_CLASS; the partner of a pair is drawn from in,
 * the same n images before augmentation (never changed). Per image, drawn from rng in this order: a
 * uniform number (replaced when below share), and for a replaced one the kind, the partner, the gap
 * or the cut, the vertical offset and the side. scratch holds NNM_REJECT_SCRATCH(rows, cols) floats.
 * An image without ink is left as it is, and so is one marked in keep (n flags, or NULL: the fonts'
 * digits), which may still be another's partner; the draws are the same either way.
 */
void nnm_reject_batch(float *x, float *y, const float *in, int64_t n, int64_t rows, int64_t cols, double share,
                      float *scratch, nn_rng *rng, const uint8_t *keep);
/* (The images must be square, rows == cols >= 20, as MNIST's: the shapes are fitted into 20 x 20.
 * The partner of a pair is drawn only when n > 1; a single image is cut instead, or left as it is.) */

/*
 * The MNIST form of a shape drawn on a canvas of h x w floats: its box (pixels above a tenth of the
 * brightest) fitted into 20 x 20 with its aspect kept by area averaging, strokes thickened where the
 * fit shrank them below MNIST's width, then placed in out (side x side, side >= 20) with its centre
 * of mass on pixel (side / 2, side / 2). Returns 0, or -1 for a canvas without ink (out untouched).
 * tmp holds NNM_REJECT_TMP floats.
 */
int nnm_reject_normalize(float *out, int64_t side, const float *canvas, int64_t h, int64_t w, float *tmp);

#endif
