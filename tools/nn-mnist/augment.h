/*
 * `--augment`: light data augmentation of a training batch, as Keras' ImageDataGenerator(
 * width_shift_range=2, height_shift_range=2, rotation_range=10) would do it, but drawn from a
 * generator the run owns and checkpoints, so that an augmented run is as reproducible, and resumes
 * as exactly, as a plain one. It reads the gathered batch and writes another buffer: the dataset is
 * neither copied nor changed.
 */
#ifndef NNM_AUGMENT_H
#define NNM_AUGMENT_H

#include <stdint.h>

#include <nn/nn.h>

#include "augment_kind.h"

#define NNM_AUGMENT_SHIFT 2        /* pixels, each axis: a whole number from -2 to 2 */
#define NNM_AUGMENT_DEGREES 10.0   /* rotations drawn uniformly from -10 to 10 degrees */
#define NNM_AUGMENT_SEED 0x61756731u /* "aug1", XORed into --seed: a stream of its own */

/* --augment=KIND: what nnm_config.augment holds (augment_kind.h); records and settings lines carry the number. */
#define NNM_AUGMENT_SCALE 0.1      /* handwriting: sizes from 0.9 to 1.1 */
#define NNM_AUGMENT_SLANT 0.3      /* handwriting: horizontal shear from -0.3 to 0.3 (about 17 degrees) */

/*
 * One image, rows x cols, row-major (one channel): out(x, y) = in(T^-1(x, y)), where T rotates by
 * `degrees` about the image's centre ((cols - 1) / 2, (rows - 1) / 2), counter-clockwise as the
 * image is displayed (rows downwards), then shifts by (dx, dy) pixels (dx to the right, dy down).
 * Bilinear sampling; outside the image is 0 (the background). A whole-pixel shift without rotation
 * copies pixels exactly, and 0 degrees with no shift is the identity. out and in must not overlap.
 */
void nnm_augment_image(float *out, const float *in, int64_t rows, int64_t cols, double dx, double dy, double degrees);

/*
 * n images from in to out (each rows x cols), each with its own shift and rotation drawn from rng in
 * this order: dx, dy (nn_rng_below(2 * max_shift + 1) - max_shift), then the angle (uniform in
 * [-max_degrees, max_degrees)). The same generator state gives the same output.
 */
void nnm_augment_batch(float *out, const float *in, int64_t n, int64_t rows, int64_t cols, int max_shift,
                       double max_degrees, nn_rng *rng);

/*
 * `--augment=handwriting`, what separates one writer, pen and scanner from another beyond MNIST's own
 * spread: each image is shifted and rotated as above, scaled by 1 +- NNM_AUGMENT_SCALE and slanted
 * (sheared horizontally about its centre) by up to NNM_AUGMENT_SLANT, then, one time in four each, its
 * strokes are thickened (the maximum over the pixel and its four neighbours) or thinned (the minimum;
 * kept only when at least half the ink remains, so that a thin digit never vanishes). Drawn from rng
 * in this order per image: dx, dy, angle, scale, slant, stroke. scratch holds rows x cols floats.
 */
void nnm_augment_batch_handwriting(float *out, const float *in, int64_t n, int64_t rows, int64_t cols,
                                   float *scratch, nn_rng *rng);

/*
 * `--augment=scan`: handwriting's transforms, then NNM_AUGMENT_SCAN_SHARE of the images drawn on paper
 * as a scan or photo would show them (1 to NNM_AUGMENT_SCAN_SCALE times their size, one in four with
 * a wider pen, blurred by 0 to 2 passes of 3 x 3, a faded or dark pen, noise) and brought back to
 * 28 x 28 by nn_digits_find(), as nn-mnist predict reads: so that the model learns the reader's
 * normalisation (box fitted, centre of mass, stroke width brought into MNIST's range) rather than
 * only MNIST's own. An image in which the reader finds no digit, or more than one, keeps its
 * handwriting form. Drawn from rng in this order per image, after all of handwriting's draws for the
 * batch: used or not, scale, contrast, noise, wider pen, blur, the noise's seed (all of them also
 * when unused, so that the stream never depends on what was found).
 */
#define NNM_AUGMENT_SCAN_SHARE 0.5
#define NNM_AUGMENT_SCAN_SCALE 3.0
#define NNM_AUGMENT_SCAN_PIXELS (96 * 96)
void nnm_augment_batch_scan(float *out, const float *in, int64_t n, int64_t rows, int64_t cols, float *scratch,
                            nn_rng *rng);

/* The number --augment=KIND names (NNM_AUGMENT_LIGHT for "light" and the bare --augment), and back. */
int nnm_augment_parse(const char *kind);
const char *nnm_augment_name(int augment);

#endif
