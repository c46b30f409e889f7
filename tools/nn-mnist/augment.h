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

#define NNM_AUGMENT_SHIFT 2        /* pixels, each axis: a whole number from -2 to 2 */
#define NNM_AUGMENT_DEGREES 10.0   /* rotations drawn uniformly from -10 to 10 degrees */
#define NNM_AUGMENT_SEED 0x61756731u /* "aug1", XORed into --seed: a stream of its own */

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

#endif
