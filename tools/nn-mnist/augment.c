#include "augment.h"

#include <math.h>
#include <string.h>

static const double pi = 3.14159265358979323846;

/* out(q) = in(M (q - centre - d) + centre): the inverse of "M^-1 about the centre, then shift by d". */
static void affine_image(float *out, const float *in, int64_t rows, int64_t cols, const double m[4], double dx,
                         double dy)
{
    double cx = (double)(cols - 1) / 2, cy = (double)(rows - 1) / 2;
    for (int64_t y = 0; y < rows; y++)
        for (int64_t x = 0; x < cols; x++) {
            double u = (double)x - cx - dx, v = (double)y - cy - dy;
            double sx = cx + m[0] * u + m[1] * v, sy = cy + m[2] * u + m[3] * v;
            double fx0 = floor(sx), fy0 = floor(sy);
            double fx = sx - fx0, fy = sy - fy0;
            int64_t x0 = (int64_t)fx0, y0 = (int64_t)fy0;
            float acc = 0;
            /* Weights exactly 0 are skipped, so an exact sample is the pixel itself, bit for bit. */
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    double w = (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
                    int64_t px = x0 + i, py = y0 + j;
                    if (w != 0 && px >= 0 && px < cols && py >= 0 && py < rows) acc += (float)w * in[py * cols + px];
                }
            out[y * cols + x] = acc;
        }
}

void nnm_augment_image(float *out, const float *in, int64_t rows, int64_t cols, double dx, double dy, double degrees)
{
    double a = degrees * pi / 180.0;
    /* Exactly 1 and 0 at 0 degrees (cos(0), sin(0)), so that whole-pixel shifts sample whole pixels.
     * With rows downwards, a visual counter-clockwise turn by a maps (u, v) to (u c + v s, -u s + v c):
     * its inverse is the matrix below. */
    double c = cos(a), s = sin(a);
    const double m[4] = {c, -s, s, c};
    affine_image(out, in, rows, cols, m, dx, dy);
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

/* The maximum (thicken) or minimum (thin) over each pixel and its 4 neighbours; outside is 0. */
static void cross_filter(float *out, const float *in, int64_t rows, int64_t cols, int thicken)
{
    for (int64_t y = 0; y < rows; y++)
        for (int64_t x = 0; x < cols; x++) {
            float v = in[y * cols + x];
            const float nb[4] = {x > 0 ? in[y * cols + x - 1] : 0, x + 1 < cols ? in[y * cols + x + 1] : 0,
                                 y > 0 ? in[(y - 1) * cols + x] : 0, y + 1 < rows ? in[(y + 1) * cols + x] : 0};
            for (int k = 0; k < 4; k++) v = thicken ? (nb[k] > v ? nb[k] : v) : (nb[k] < v ? nb[k] : v);
            out[y * cols + x] = v;
        }
}

static double sum_of(const float *a, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i];
    return s;
}

void nnm_augment_batch_handwriting(float *out, const float *in, int64_t n, int64_t rows, int64_t cols,
                                   float *scratch, nn_rng *rng)
{
    const uint64_t span = 2 * NNM_AUGMENT_SHIFT + 1;
    const int64_t px = rows * cols;
    for (int64_t k = 0; k < n; k++) {
        double dx = (double)((int64_t)nn_rng_below(rng, span) - NNM_AUGMENT_SHIFT);
        double dy = (double)((int64_t)nn_rng_below(rng, span) - NNM_AUGMENT_SHIFT);
        double deg = (2.0 * (double)nn_rng_uniform(rng) - 1.0) * NNM_AUGMENT_DEGREES;
        double scale = 1.0 + (2.0 * (double)nn_rng_uniform(rng) - 1.0) * NNM_AUGMENT_SCALE;
        double slant = (2.0 * (double)nn_rng_uniform(rng) - 1.0) * NNM_AUGMENT_SLANT;
        uint64_t stroke = nn_rng_below(rng, 4); /* 0 thicken, 1 thin, else as drawn */
        /* The forward map is rotate(a) . scale . shear(slant); its inverse, shear(-slant) / scale .
         * rotate(-a), written for rows downwards as nnm_augment_image's. */
        double a = deg * pi / 180.0, c = cos(a), s = sin(a);
        const double r[4] = {c, -s, s, c};
        const double m[4] = {(r[0] - slant * r[2]) / scale, (r[1] - slant * r[3]) / scale, r[2] / scale,
                             r[3] / scale};
        float *o = out + k * px;
        affine_image(o, in + k * px, rows, cols, m, dx, dy);
        if (stroke > 1) continue;
        cross_filter(scratch, o, rows, cols, stroke == 0);
        if (stroke == 0 || sum_of(scratch, px) >= 0.5 * sum_of(o, px)) memcpy(o, scratch, (size_t)px * sizeof *o);
    }
}

int nnm_augment_parse(const char *kind)
{
    if (!kind || !strcmp(kind, "light")) return NNM_AUGMENT_LIGHT;
    if (!strcmp(kind, "handwriting")) return NNM_AUGMENT_HANDWRITING;
    return -1;
}

const char *nnm_augment_name(int augment)
{
    return augment == NNM_AUGMENT_HANDWRITING ? "handwriting" : augment == NNM_AUGMENT_LIGHT ? "light" : "none";
}
