/* Convolution and pooling kernels on channels-last images: x (B, H, W, C), y (B, OH, OW, F).
 *
 * The convolution is im2col + one GEMM for the whole batch: a row of the column matrix is one output
 * pixel's receptive field in (ky, kx, c) order, which is the row order of Keras' kernel
 * (kh, kw, C, F) read as a (kh * kw * C, F) matrix, so the product is the output in NHWC order with
 * no transpose. Padding positions are zeros in the columns. */
#include <float.h>
#include <string.h>

#include "compute.h"

/* The offsets [k0, k1) of a window of k starting at `start` that fall inside [0, n). */
static void inside(int64_t start, int64_t k, int64_t n, int64_t *k0, int64_t *k1)
{
    int64_t a = start < 0 ? -start : 0, b = n - start;
    if (a > k) a = k;
    if (b > k) b = k;
    if (b < a) b = a;
    *k0 = a;
    *k1 = b;
}

void nn__im2col(const nn__conv_geom *g, int64_t batch, const float *x, float *cols)
{
    const int64_t C = g->c, KW = g->kw, row = g->kh * KW * C;
    for (int64_t b = 0; b < batch; b++) {
        const float *img = x + b * g->h * g->w * C;
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                float *dst = cols + ((b * g->oh + oy) * g->ow + ox) * row;
                int64_t y0 = oy * g->sh - g->pt, x0 = ox * g->sw - g->pl;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    int64_t iy = y0 + ky;
                    float *d = dst + ky * KW * C;
                    if (iy < 0 || iy >= g->h) {
                        memset(d, 0, (size_t)(KW * C) * sizeof *d);
                        continue;
                    }
                    /* The run of kx inside the image is contiguous in x (channels last): one copy. */
                    int64_t kx0, kx1;
                    inside(x0, KW, g->w, &kx0, &kx1);
                    memset(d, 0, (size_t)(kx0 * C) * sizeof *d);
                    memcpy(d + kx0 * C, img + (iy * g->w + x0 + kx0) * C, (size_t)((kx1 - kx0) * C) * sizeof *d);
                    memset(d + kx1 * C, 0, (size_t)((KW - kx1) * C) * sizeof *d);
                }
            }
    }
}

void nn__col2im(const nn__conv_geom *g, int64_t batch, const float *cols, float *dx)
{
    const int64_t C = g->c, KW = g->kw, row = g->kh * KW * C;
    memset(dx, 0, (size_t)(batch * g->h * g->w * C) * sizeof *dx);
    for (int64_t b = 0; b < batch; b++) {
        float *img = dx + b * g->h * g->w * C;
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                const float *src = cols + ((b * g->oh + oy) * g->ow + ox) * row;
                int64_t y0 = oy * g->sh - g->pt, x0 = ox * g->sw - g->pl;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    int64_t iy = y0 + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    int64_t kx0, kx1;
                    inside(x0, KW, g->w, &kx0, &kx1);
                    const float *s = src + (ky * KW + kx0) * C;
                    float *d = img + (iy * g->w + x0 + kx0) * C;
                    for (int64_t i = 0; i < (kx1 - kx0) * C; i++) d[i] += s[i];
                }
            }
    }
}

void nn__col_sums(int64_t rows, int64_t n, const float *x, float *sums)
{
    memset(sums, 0, (size_t)n * sizeof *sums);
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * n;
        for (int64_t j = 0; j < n; j++) sums[j] += row[j];
    }
}

/* target_clones makes an ifunc, whose resolver would be exported from the shared library; the clones
 * stay static behind plain functions. */
NN_HOT static void bias_relu_rows(int64_t rows, int64_t n, const float *b, int relu, float *y)
{
    for (int64_t r = 0; r < rows; r++) {
        float *row = y + r * n;
        if (b)
            for (int64_t j = 0; j < n; j++) row[j] += b[j];
        /* As nn__act_forward's ReLU: "x < 0" so that NaN passes through. */
        if (relu)
            for (int64_t j = 0; j < n; j++) row[j] = row[j] < 0.0f ? 0.0f : row[j];
    }
}

void nn__bias_relu_rows(int64_t rows, int64_t n, const float *b, int relu, float *y)
{
    bias_relu_rows(rows, n, b, relu, y);
}

NN_HOT static uint32_t relu_grad_rows(int64_t rows, int64_t n, const float *y, float *dy, float *db)
{
    uint32_t top = 0;
    for (int64_t r = 0; r < rows; r++) {
        float *d = dy + r * n;
        /* f'(0) = 0 as nn__act_backward: y > 0 exactly where the pre-activation is. */
        if (y)
            for (int64_t j = 0; j < n; j++) d[j] = y[r * n + j] > 0.0f ? d[j] : 0.0f;
        if (db)
            for (int64_t j = 0; j < n; j++) db[j] += d[j];
        for (int64_t j = 0; j < n; j++) {
            uint32_t u;
            memcpy(&u, d + j, sizeof u);
            u &= 0x7fffffffu;
            top = u > top ? u : top;
        }
    }
    return top;
}

uint32_t nn__relu_grad_rows(int64_t rows, int64_t n, const float *y, float *dy, float *db)
{
    return relu_grad_rows(rows, n, y, dy, db);
}

/* The rows [ya, yb) and columns [xa, xb) of output pixel (oy, ox)'s window that lie inside the image. */
static inline void pool_window(const nn__conv_geom *g, int64_t oy, int64_t ox, int64_t *ya, int64_t *yb, int64_t *xa,
                               int64_t *xb)
{
    int64_t y0 = oy * g->sh - g->pt, x0 = ox * g->sw - g->pl;
    *ya = y0 < 0 ? 0 : y0;
    *yb = y0 + g->kh > g->h ? g->h : y0 + g->kh;
    *xa = x0 < 0 ? 0 : x0;
    *xb = x0 + g->kw > g->w ? g->w : x0 + g->kw;
}

#define PATTR
#define PLANES 4
#define PNAME(name) name##_4
#include "maxpool_lanes.h"
#undef PATTR
#undef PLANES
#undef PNAME
#ifdef NN__WIDE_KERNELS
#define PATTR __attribute__((target("arch=x86-64-v3")))
#define PLANES 8
#define PNAME(name) name##_8
#include "maxpool_lanes.h"
#undef PATTR
#undef PLANES
#undef PNAME
#define PATTR __attribute__((target("arch=x86-64-v4")))
#define PLANES 16
#define PNAME(name) name##_16
#include "maxpool_lanes.h"
#undef PATTR
#undef PLANES
#undef PNAME
#endif

void nn__max_pool_lanes(int lanes, const nn__conv_geom *g, int64_t batch, const float *x, float *y, int32_t *argmax)
{
    switch (lanes) {
#ifdef NN__WIDE_KERNELS
    case 16: max_pool_16(g, batch, x, y, argmax); return;
    case 8: max_pool_8(g, batch, x, y, argmax); return;
#endif
    default: max_pool_4(g, batch, x, y, argmax); return;
    }
}

/* Average pooling, channels innermost: each window position adds to all channels of an output pixel
 * at once, which vectorises. Keras and PyTorch: an average counts only the pixels inside the image
 * (and padding never wins a max). */
NN_HOT static void avg_pool(const nn__conv_geom *g, int64_t batch, const float *x, float *y)
{
    const int64_t C = g->c;
    for (int64_t b = 0; b < batch; b++) {
        const float *img = x + b * g->h * g->w * C;
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t ya, yb, xa, xb;
                pool_window(g, oy, ox, &ya, &yb, &xa, &xb);
                float *out = y + ((b * g->oh + oy) * g->ow + ox) * C;
                for (int64_t c = 0; c < C; c++) out[c] = 0.0f;
                for (int64_t iy = ya; iy < yb; iy++)
                    for (int64_t ix = xa; ix < xb; ix++) {
                        const float *v = img + (iy * g->w + ix) * C;
                        for (int64_t c = 0; c < C; c++) out[c] += v[c];
                    }
                float count = (float)((yb - ya) * (xb - xa));
                for (int64_t c = 0; c < C; c++) out[c] /= count;
            }
    }
}

void nn__pool_forward(const nn__conv_geom *g, int64_t batch, int max, const float *x, float *y, int32_t *argmax)
{
    if (max)
        nn__max_pool_lanes(nn__vector_lanes(), g, batch, x, y, argmax);
    else
        avg_pool(g, batch, x, y);
}

/* The former channel-at-a-time loop, kept as the reference the tests compare the kernel above with. */
void nn__pool_forward_ref(const nn__conv_geom *g, int64_t batch, int max, const float *x, float *y, int32_t *argmax)
{
    const int64_t C = g->c;
    for (int64_t b = 0; b < batch; b++) {
        const float *img = x + b * g->h * g->w * C;
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t o = ((b * g->oh + oy) * g->ow + ox) * C;
                int64_t ya, yb, xa, xb;
                pool_window(g, oy, ox, &ya, &yb, &xa, &xb);
                for (int64_t c = 0; c < C; c++) {
                    /* Keras and PyTorch: padding never wins a max, and an average counts only the
                     * pixels inside the image. */
                    float best = -FLT_MAX, sum = 0.0f;
                    int32_t at = (int32_t)((ya * g->w + xa) * C + c);
                    for (int64_t iy = ya; iy < yb; iy++)
                        for (int64_t ix = xa; ix < xb; ix++) {
                            int32_t i = (int32_t)((iy * g->w + ix) * C + c);
                            float v = img[i];
                            sum += v;
                            if (v > best) best = v, at = i;
                        }
                    if (max) {
                        y[o + c] = best;
                        argmax[o + c] = at;
                    } else {
                        y[o + c] = sum / (float)((yb - ya) * (xb - xa));
                    }
                }
            }
    }
}

/* Max pooling's backward pass when windows do not overlap and have no padding (the usual 2x2 stride
 * 2): each input value belongs to at most one window, so dx is written once, row by row, as the
 * window's gradient where the value was its maximum and zero elsewhere, instead of zeroing all of dx
 * and then scattering into it. */
NN_HOT static void max_unpool_tiled(const nn__conv_geom *g, int64_t batch, const float *dy, const int32_t *argmax,
                                    float *dx)
{
    const int64_t C = g->c, in = g->h * g->w * C, out = g->oh * g->ow * C;
    for (int64_t b = 0; b < batch; b++) {
        float *img = dx + b * in;
        const float *d = dy + b * out;
        const int32_t *a = argmax + b * out;
        for (int64_t iy = 0; iy < g->h; iy++) {
            int64_t oy = iy / g->sh;
            float *row = img + iy * g->w * C;
            if (iy % g->sh >= g->kh || oy >= g->oh) {
                memset(row, 0, (size_t)(g->w * C) * sizeof *row);
                continue;
            }
            for (int64_t ix = 0; ix < g->w; ix++) {
                int64_t ox = ix / g->sw;
                float *px = row + ix * C;
                if (ix % g->sw >= g->kw || ox >= g->ow) {
                    for (int64_t c = 0; c < C; c++) px[c] = 0.0f;
                    continue;
                }
                int64_t o = (oy * g->ow + ox) * C;
                int32_t base = (int32_t)((iy * g->w + ix) * C);
                for (int64_t c = 0; c < C; c++) px[c] = a[o + c] == base + (int32_t)c ? d[o + c] : 0.0f;
            }
        }
    }
}

void nn__pool_backward(const nn__conv_geom *g, int64_t batch, int max, const float *dy, const int32_t *argmax,
                       float *dx)
{
    const int64_t C = g->c, in = g->h * g->w * C, out = g->oh * g->ow * C;
    if (max && g->sh >= g->kh && g->sw >= g->kw && g->pt == 0 && g->pl == 0) {
        max_unpool_tiled(g, batch, dy, argmax, dx);
        return;
    }
    memset(dx, 0, (size_t)(batch * in) * sizeof *dx);
    for (int64_t b = 0; b < batch; b++) {
        float *img = dx + b * in;
        const float *d = dy + b * out;
        if (max) {
            const int32_t *a = argmax + b * out;
            for (int64_t o = 0; o < out; o++) img[a[o]] += d[o];
            continue;
        }
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t ya, yb, xa, xb;
                pool_window(g, oy, ox, &ya, &yb, &xa, &xb);
                float scale = 1.0f / (float)((yb - ya) * (xb - xa));
                for (int64_t c = 0; c < C; c++) {
                    float v = d[(oy * g->ow + ox) * C + c] * scale;
                    for (int64_t iy = ya; iy < yb; iy++)
                        for (int64_t ix = xa; ix < xb; ix++) img[(iy * g->w + ix) * C + c] += v;
                }
            }
    }
}
