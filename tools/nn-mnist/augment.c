#include "augment.h"

#include <math.h>

static const double pi = 3.14159265358979323846;

void nnm_augment_image(float *out, const float *in, int64_t rows, int64_t cols, double dx, double dy, double degrees)
{
    double a = degrees * pi / 180.0;
    /* Exactly 1 and 0 at 0 degrees (cos(0), sin(0)), so that whole-pixel shifts sample whole pixels. */
    double c = cos(a), s = sin(a);
    double cx = (double)(cols - 1) / 2, cy = (double)(rows - 1) / 2;
    for (int64_t y = 0; y < rows; y++)
        for (int64_t x = 0; x < cols; x++) {
            /* The inverse map: undo the shift, then rotate back by -a about the centre. With rows
             * downwards, a visual counter-clockwise turn by a maps (u, v) to (u c + v s, -u s + v c). */
            double u = (double)x - cx - dx, v = (double)y - cy - dy;
            double sx = cx + u * c - v * s, sy = cy + u * s + v * c;
            double fx0 = floor(sx), fy0 = floor(sy);
            double fx = sx - fx0, fy = sy - fy0;
            int64_t x0 = (int64_t)fx0, y0 = (int64_t)fy0;
            float acc = 0;
            /* Weights exactly 0 are skipped, so an exact sample is the pixel itself, bit for bit. */
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    double w = (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
                    int64_t px = x0 + i, py = y0 + j;
                    if (w != 0 && px >= 0 && px < cols && py >= 0 && py < rows)
                        acc += (float)w * in[py * cols + px];
                }
            out[y * cols + x] = acc;
        }
}

void nnm_augment_batch(float *out, const float *in, int64_t n, int64_t rows, int64_t cols, int max_shift,
                       double max_degrees, nn_rng *rng)
{
    uint64_t span = (uint64_t)(2 * max_shift + 1);
    for (int64_t k = 0; k < n; k++) {
        double dx = (double)((int64_t)nn_rng_below(rng, span) - max_shift);
        double dy = (double)((int64_t)nn_rng_below(rng, span) - max_shift);
        double deg = (2.0 * (double)nn_rng_uniform(rng) - 1.0) * max_degrees;
        nnm_augment_image(out + k * rows * cols, in + k * rows * cols, rows, cols, dx, dy, deg);
    }
}
