/* Direct convolution for small receptive fields (kh * kw * c <= NN__CONV_DIRECT_MAX_PATCH), channels last.
 *
 * A first layer on grey images has one input channel: im2col's K is then kh * kw (9 for 3x3), a shape
 * on which a BLAS spends more time packing than multiplying (measured 21-52 GFLOP/s against 90+ for the
 * second layer's K = 288), and the column matrix is 9x the input. Here each output pixel is computed
 * in registers instead: a vector of filters at a time (4, 8 or 16, conv_direct_lanes.h), each tap one
 * broadcast input value times a kernel row, with the bias and a ReLU applied before the single
 * store. The kernel gradient is the same walk with the roles turned round: per tap, the output
 * gradient row times the input value, summed over every pixel of the batch (in registers within an
 * image, in dk between images). The sums run in another order than the GEMM's: tests compare the two
 * paths within a tolerance, and each kernel bit for bit with a scalar loop that adds in its
 * documented order. */
#include <string.h>

#include "compute.h"

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

/* The kernels in GCC and clang vectors of 4, 8 or 16 floats (one SSE, AVX2 or AVX-512 register),
 * written out because the compilers would not vectorise the plain loop over the filters'
 * accumulators (measured: scalar code, a third of the speed). Loads and stores go through a copy of
 * the type that may alias floats and sit at any float's alignment (as the intrinsics' __m512_u);
 * vectors never pass by value, which would change the ABI between targets. */
#define DATTR
#define DLANES      4
#define DNAME(name) name##_4
#include "conv_direct_lanes.h"
#undef DATTR
#undef DLANES
#undef DNAME
#ifdef NN__WIDE_KERNELS
#define DATTR       __attribute__((target("arch=x86-64-v3")))
#define DLANES      8
#define DNAME(name) name##_8
#include "conv_direct_lanes.h"
#undef DATTR
#undef DLANES
#undef DNAME
#define DATTR       __attribute__((target("arch=x86-64-v4")))
#define DLANES      16
#define DNAME(name) name##_16
#include "conv_direct_lanes.h"
#undef DATTR
#undef DLANES
#undef DNAME
#endif

void nn__conv_direct_forward_lanes(int lanes, const nn__conv_geom *g, int64_t batch, int64_t f,
                                   const float *x, const float *k, const float *b, int relu, float *y)
{
    switch (lanes) {
#ifdef NN__WIDE_KERNELS
    case 16: direct_forward_16(g, batch, f, x, k, b, relu, y); return;
    case 8: direct_forward_8(g, batch, f, x, k, b, relu, y); return;
#endif
    default: direct_forward_4(g, batch, f, x, k, b, relu, y); return;
    }
}

void nn__conv_direct_kernel_grad_lanes(int lanes, const nn__conv_geom *g, int64_t batch, int64_t f,
                                       const float *x, const float *dy, float *dk)
{
    switch (lanes) {
#ifdef NN__WIDE_KERNELS
    case 16: direct_kernel_grad_16(g, batch, f, x, dy, dk); return;
    case 8: direct_kernel_grad_8(g, batch, f, x, dy, dk); return;
#endif
    default: direct_kernel_grad_4(g, batch, f, x, dy, dk); return;
    }
}

void nn__conv_direct_forward(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x, const float *k,
                             const float *b, int relu, float *y)
{
    nn__conv_direct_forward_lanes(nn__vector_lanes(), g, batch, f, x, k, b, relu, y);
}

void nn__conv_direct_kernel_grad(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x,
                                 const float *dy, float *dk)
{
    nn__conv_direct_kernel_grad_lanes(nn__vector_lanes(), g, batch, f, x, dy, dk);
}
