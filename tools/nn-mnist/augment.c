#include "augment.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include <nn/digits.h>

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

/* One pass of a 3-tap filter along rows (dx 1) or columns (dx w): the mean (blur) or the maximum (a
 * wider pen) of each pixel and its two neighbours; outside is blank. */
static void pass3(float *out, const float *in, int64_t w, int64_t h, int vertical, int maximum)
{
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            const int64_t i = y * w + x, d = vertical ? w : 1;
            const int lo = vertical ? y > 0 : x > 0, hi = vertical ? y + 1 < h : x + 1 < w;
            const float a = lo ? in[i - d] : 0, b = in[i], c = hi ? in[i + d] : 0;
            out[i] = maximum ? fmaxf(a, fmaxf(b, c)) : (a + b + c) / 3.0f;
        }
}

/* in (rows x cols, ink 0..1) drawn on paper into img (w x h) at `scale` times its size with `margin`
 * pixels around, bilinear; then, as a pen and a lens would, widened by `widen` and blurred by `blur`
 * passes of 3 x 3; dark ink of the given contrast on white, with uniform noise of +-noise grey levels
 * from a generator of its own (xorshift64), so that the run's stream takes one draw for all of it. */
static void render_scan(uint8_t *img, float *a, float *b, int64_t w, int64_t h, const float *in, int64_t rows,
                        int64_t cols, double scale, int64_t margin, int widen, int blur, double contrast,
                        double noise, uint64_t seed)
{
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            /* Pixel centres map to pixel centres. */
            double sx = ((double)(x - margin) + 0.5) / scale - 0.5, sy = ((double)(y - margin) + 0.5) / scale - 0.5;
            double fx0 = floor(sx), fy0 = floor(sy), fx = sx - fx0, fy = sy - fy0, v = 0;
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    int64_t px = (int64_t)fx0 + i, py = (int64_t)fy0 + j;
                    if (px >= 0 && px < cols && py >= 0 && py < rows)
                        v += (i ? fx : 1 - fx) * (j ? fy : 1 - fy) * (double)in[py * cols + px];
                }
            a[y * w + x] = (float)v;
        }
    for (int k = 0; k < widen + blur; k++) {
        pass3(b, a, w, h, 0, k < widen);
        pass3(a, b, w, h, 1, k < widen);
    }
    uint64_t z = seed | 1u;
    for (int64_t i = 0; i < w * h; i++) {
        z ^= z << 13;
        z ^= z >> 7;
        z ^= z << 17;
        double g = 255.0 * (1.0 - contrast * (double)a[i]) + noise * ((double)(z >> 11) * 0x1.0p-52 - 1.0);
        img[i] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : lround(g));
    }
}

void nnm_augment_batch_scan(float *out, const float *in, int64_t n, int64_t rows, int64_t cols, float *scratch,
                            nn_rng *rng)
{
    nnm_augment_batch_handwriting(out, in, n, rows, cols, scratch, rng);
    const int64_t px = rows * cols;
    static_assert(NNM_AUGMENT_SCAN_PIXELS >= (28 * 3 + 12) * (28 * 3 + 12), "a 28 x 28 image at 3 times fits");
    for (int64_t k = 0; k < n; k++) {
        /* Drawn for every image, used or not, so that the stream never depends on what was found. */
        int scan = nn_rng_uniform(rng) < NNM_AUGMENT_SCAN_SHARE;
        double scale = 1.0 + (NNM_AUGMENT_SCAN_SCALE - 1.0) * (double)nn_rng_uniform(rng);
        double contrast = 0.4 + 0.6 * (double)nn_rng_uniform(rng), noise = 12.0 * (double)nn_rng_uniform(rng);
        int widen = nn_rng_below(rng, 4) == 0, blur = (int)nn_rng_below(rng, 3);
        uint64_t seed = nn_rng_u64(rng);
        const int64_t margin = 6, w = (int64_t)ceil((double)cols * scale) + 2 * margin,
                      h = (int64_t)ceil((double)rows * scale) + 2 * margin;
        uint8_t img[NNM_AUGMENT_SCAN_PIXELS];
        float fa[NNM_AUGMENT_SCAN_PIXELS], fb[NNM_AUGMENT_SCAN_PIXELS];
        if (!scan || w * h > NNM_AUGMENT_SCAN_PIXELS || rows * cols != NN_DIGITS_PIXELS) continue;
        render_scan(img, fa, fb, w, h, out + k * px, rows, cols, scale, margin, widen, blur, contrast, noise, seed);
        nn_digits *d = NULL;
        /* One digit found is what a reader would see of it; none or a broken one keeps the image. A
         * lone digit is no photo of a plate (step 0 off). */
        nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
        o.plate = 0;
        if (nn_digits_find(&d, img, w, h, w, &o) == NN_OK && nn_digits_count(d) == 1)
            memcpy(out + k * px, nn_digits_image(d, 0), (size_t)px * sizeof *out);
        nn_digits_free(d);
    }
}

int nnm_augment_parse(const char *kind)
{
    if (!kind || !strcmp(kind, "light")) return NNM_AUGMENT_LIGHT;
    if (!strcmp(kind, "handwriting")) return NNM_AUGMENT_HANDWRITING;
    if (!strcmp(kind, "scan")) return NNM_AUGMENT_SCAN;
    return -1;
}

const char *nnm_augment_name(int augment)
{
    return augment == NNM_AUGMENT_SCAN          ? "scan"
           : augment == NNM_AUGMENT_HANDWRITING ? "handwriting"
           : augment == NNM_AUGMENT_LIGHT       ? "light"
                                                : "none";
}
