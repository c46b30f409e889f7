/* Direct convolution for small receptive fields (kh * kw * c <= NN__CONV_DIRECT_MAX_PATCH), channels last.
 *
 * A first layer on grey images has one input channel: im2col's K is then kh * kw (9 for 3x3), a shape
 * on which a BLAS spends more time packing than multiplying (measured 21-52 GFLOP/s against 90+ for the
 * second layer's K = 288), and the column matrix is 9x the input. Here each output pixel is computed
 * in registers instead: 16 filters at a time, each tap one broadcast input value times a kernel row,
 * with the bias and a ReLU applied before the single store. The kernel gradient is the same walk with
 * the roles turned round: per tap, the output gradient row times the input value, summed in registers
 * over every pixel of the batch. The sums run in another order than the GEMM's: tests compare the two
 * paths within a tolerance. */
#include <string.h>

#include "compute.h"

#define LANES 16

/* GCC and clang vectors of LANES floats: one AVX-512 register, two AVX2 or four SSE ones in the
 * other clones. Written out because the compilers would not vectorise the plain loop over 16
 * accumulators (measured: scalar code, a third of the speed). Loads and stores go through a copy of
 * the type that may alias floats and sit at any float's alignment (as the intrinsics' __m512_u);
 * macros, since a function passing such a vector by value would change the ABI between clones. */
typedef float vf __attribute__((vector_size(LANES * sizeof(float))));
typedef float vf_u __attribute__((vector_size(LANES * sizeof(float)), aligned(4), may_alias));
typedef int32_t vi __attribute__((vector_size(LANES * sizeof(float))));
#define LOAD(p) (*(const vf_u *)(const void *)(p))
#define STORE(p, v) (*(vf_u *)(void *)(p) = (v))

/* Offsets of the taps in (ky, kx, c) order from a window's top-left input value, for windows that lie
 * wholly inside the image. */
static int64_t tap_offsets(const nn__conv_geom *g, int64_t *off)
{
    int64_t t = 0;
    for (int64_t ky = 0; ky < g->kh; ky++)
        for (int64_t kx = 0; kx < g->kw; kx++)
            for (int64_t c = 0; c < g->c; c++) off[t++] = (ky * g->w + kx) * g->c + c;
    return t;
}

/* The output positions [lo, hi) along one axis whose windows lie inside [0, n). */
static void interior(int64_t out, int64_t stride, int64_t pad, int64_t k, int64_t n, int64_t *lo, int64_t *hi)
{
    int64_t a = 0, b = out;
    while (a < out && a * stride - pad < 0) a++;
    while (b > a && (b - 1) * stride - pad + k > n) b--;
    *lo = a;
    *hi = b;
}

/* Input values of one window into v[taps], zeros where it hangs over the padding. */
static void gather_window(const nn__conv_geom *g, const float *img, int64_t oy, int64_t ox, float *v)
{
    int64_t y0 = oy * g->sh - g->pt, x0 = ox * g->sw - g->pl, t = 0;
    for (int64_t ky = 0; ky < g->kh; ky++)
        for (int64_t kx = 0; kx < g->kw; kx++) {
            int64_t iy = y0 + ky, ix = x0 + kx;
            int in = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
            for (int64_t c = 0; c < g->c; c++, t++) v[t] = in ? img[(iy * g->w + ix) * g->c + c] : 0.0f;
        }
}

/* One group of LANES filters at one output pixel: out = act(b + sum_t v[t] kv[t]), v read through off[] from
 * `in` (or directly when off is NULL). The products are added in tap order, one rounding each, as the
 * scalar tail below and every earlier version: the same outputs bit for bit. */
static inline __attribute__((always_inline)) void group_pixel(const float *in, const int64_t *off, int64_t taps,
                                                              const vf *kv, const vf *bias, int relu, float *out)
{
    vf acc = *bias;
    for (int64_t t = 0; t < taps; t++) acc += (off ? in[off[t]] : in[t]) * kv[t];
    /* As nn__act_forward's ReLU: "x < 0" so that NaN passes through. */
    if (relu) acc = (vf)((vi)acc & ~(acc < 0.0f));
    STORE(out, acc);
}

/* Per image, filters outer and pixels inner: a group's kernel rows and bias are loaded into registers
 * (9 taps and the bias fill 10 of AVX-512's 32) and stay there over the image's pixels, where the
 * pixel-outer loop reloaded them for every pixel and ran at less than half this speed. An image's
 * output (86 KB for 26 x 26 x 32) is still in L2 when the next group fills the rest of its lines. */
static inline __attribute__((always_inline)) void forward_body(const nn__conv_geom *g, int64_t batch, int64_t f,
                                                               const float *x, const float *k, const float *b,
                                                               int relu, float *restrict y, int64_t taps,
                                                               const int64_t *off)
{
    int64_t ylo, yhi, xlo, xhi;
    interior(g->oh, g->sh, g->pt, g->kh, g->h, &ylo, &yhi);
    interior(g->ow, g->sw, g->pl, g->kw, g->w, &xlo, &xhi);
    const int64_t in_img = g->h * g->w * g->c, step = g->sw * g->c;
    float v[NN__CONV_DIRECT_MAX_PATCH];
    for (int64_t n = 0; n < batch; n++) {
        const float *img = x + n * in_img;
        for (int64_t f0 = 0; f0 + LANES <= f; f0 += LANES) {
            vf kv[NN__CONV_DIRECT_MAX_PATCH], bias = {0};
            for (int64_t t = 0; t < taps; t++) kv[t] = LOAD(k + t * f + f0);
            if (b) bias = LOAD(b + f0);
            for (int64_t oy = 0; oy < g->oh; oy++) {
                float *row = y + (n * g->oh + oy) * g->ow * f + f0;
                if (oy < ylo || oy >= yhi) {
                    for (int64_t ox = 0; ox < g->ow; ox++) {
                        gather_window(g, img, oy, ox, v);
                        group_pixel(v, NULL, taps, kv, &bias, relu, row + ox * f);
                    }
                    continue;
                }
                for (int64_t ox = 0; ox < xlo; ox++) {
                    gather_window(g, img, oy, ox, v);
                    group_pixel(v, NULL, taps, kv, &bias, relu, row + ox * f);
                }
                const float *in = img + ((oy * g->sh - g->pt) * g->w + xlo * g->sw - g->pl) * g->c;
                for (int64_t ox = xlo; ox < xhi; ox++, in += step)
                    group_pixel(in, off, taps, kv, &bias, relu, row + ox * f);
                for (int64_t ox = xhi; ox < g->ow; ox++) {
                    gather_window(g, img, oy, ox, v);
                    group_pixel(v, NULL, taps, kv, &bias, relu, row + ox * f);
                }
            }
        }
    }
    /* Filters beyond the last whole group of LANES, one at a time. */
    for (int64_t f0 = f - f % LANES; f0 < f; f0++)
        for (int64_t n = 0; n < batch; n++) {
            const float *img = x + n * in_img;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    gather_window(g, img, oy, ox, v);
                    float acc = b ? b[f0] : 0.0f;
                    for (int64_t t = 0; t < taps; t++) acc += v[t] * k[t * f + f0];
                    y[((n * g->oh + oy) * g->ow + ox) * f + f0] = relu && acc < 0.0f ? 0.0f : acc;
                }
        }
}

NN_HOT static void direct_forward(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x, const float *k,
                                  const float *b, int relu, float *y)
{
    int64_t off[NN__CONV_DIRECT_MAX_PATCH], taps = tap_offsets(g, off);
    /* The common first layer (3x3, one channel) with its tap count known to the compiler. */
    if (taps == 9)
        forward_body(g, batch, f, x, k, b, relu, y, 9, off);
    else
        forward_body(g, batch, f, x, k, b, relu, y, taps, off);
}

void nn__conv_direct_forward(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x, const float *k,
                             const float *b, int relu, float *y)
{
    direct_forward(g, batch, f, x, k, b, relu, y);
}

/* acc[t][:] += v[t] * d (LANES filters), v read through off[] from `in` (or directly). */
static inline __attribute__((always_inline)) void pixel_grad(const float *in, const int64_t *off, int64_t taps,
                                                             const float *d, vf *acc)
{
    vf dv = LOAD(d);
    for (int64_t t = 0; t < taps; t++) acc[t] += (off ? in[off[t]] : in[t]) * dv;
}

static inline __attribute__((always_inline)) void grad_body(const nn__conv_geom *g, int64_t batch, int64_t f,
                                                            const float *x, const float *dy, float *dk,
                                                            int64_t taps, const int64_t *off)
{
    int64_t ylo, yhi, xlo, xhi;
    interior(g->oh, g->sh, g->pt, g->kh, g->h, &ylo, &yhi);
    interior(g->ow, g->sw, g->pl, g->kw, g->w, &xlo, &xhi);
    float v[NN__CONV_DIRECT_MAX_PATCH];
    const int64_t groups = f - f % LANES;
    /* Images outer, so that an image's output gradient (86 KB for 26 x 26 x 32) is read from memory
     * once and from L2 by the other groups. dk holds the running sums between images: stored and
     * reloaded exactly, they add every pixel's term in the same order as one register sum over the
     * batch would. */
    memset(dk, 0, (size_t)(taps * f) * sizeof *dk);
    for (int64_t n = 0; n < batch; n++) {
        const float *img = x + n * g->h * g->w * g->c;
        for (int64_t f0 = 0; f0 < groups; f0 += LANES) {
            vf acc[NN__CONV_DIRECT_MAX_PATCH];
            for (int64_t t = 0; t < taps; t++) acc[t] = LOAD(dk + t * f + f0);
            for (int64_t oy = 0; oy < g->oh; oy++) {
                const float *drow = dy + (n * g->oh + oy) * g->ow * f + f0;
                int inside_y = oy >= ylo && oy < yhi;
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    if (inside_y && ox >= xlo && ox < xhi) {
                        const float *in = img + ((oy * g->sh - g->pt) * g->w + ox * g->sw - g->pl) * g->c;
                        pixel_grad(in, off, taps, drow + ox * f, acc);
                    } else {
                        gather_window(g, img, oy, ox, v);
                        pixel_grad(v, NULL, taps, drow + ox * f, acc);
                    }
                }
            }
            for (int64_t t = 0; t < taps; t++) STORE(dk + t * f + f0, acc[t]);
        }
    }
    /* Filters beyond the last whole group of LANES, one at a time. */
    for (int64_t f0 = groups; f0 < f; f0++) {
        float acc[NN__CONV_DIRECT_MAX_PATCH] = {0};
        for (int64_t n = 0; n < batch; n++) {
            const float *img = x + n * g->h * g->w * g->c;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    float d = dy[((n * g->oh + oy) * g->ow + ox) * f + f0];
                    gather_window(g, img, oy, ox, v);
                    for (int64_t t = 0; t < taps; t++) acc[t] += v[t] * d;
                }
        }
        for (int64_t t = 0; t < taps; t++) dk[t * f + f0] = acc[t];
    }
}

NN_HOT static void direct_kernel_grad(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x,
                                      const float *dy, float *dk)
{
    int64_t off[NN__CONV_DIRECT_MAX_PATCH], taps = tap_offsets(g, off);
    if (taps == 9)
        grad_body(g, batch, f, x, dy, dk, 9, off);
    else
        grad_body(g, batch, f, x, dy, dk, taps, off);
}

void nn__conv_direct_kernel_grad(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x, const float *dy,
                                 float *dk)
{
    direct_kernel_grad(g, batch, f, x, dy, dk);
}
