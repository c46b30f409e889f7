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

void nn__bias_rows(int64_t rows, int64_t n, const float *b, float *y)
{
    for (int64_t r = 0; r < rows; r++) memcpy(y + r * n, b, (size_t)n * sizeof *y);
}

void nn__col_sums(int64_t rows, int64_t n, const float *x, float *sums)
{
    memset(sums, 0, (size_t)n * sizeof *sums);
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * n;
        for (int64_t j = 0; j < n; j++) sums[j] += row[j];
    }
}

void nn__pool_forward(const nn__conv_geom *g, int64_t batch, int max, const float *x, float *y, int32_t *argmax)
{
    const int64_t C = g->c;
    for (int64_t b = 0; b < batch; b++) {
        const float *img = x + b * g->h * g->w * C;
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t o = ((b * g->oh + oy) * g->ow + ox) * C;
                int64_t y0 = oy * g->sh - g->pt, x0 = ox * g->sw - g->pl;
                int64_t ya = y0 < 0 ? 0 : y0, yb = y0 + g->kh > g->h ? g->h : y0 + g->kh;
                int64_t xa = x0 < 0 ? 0 : x0, xb = x0 + g->kw > g->w ? g->w : x0 + g->kw;
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

void nn__pool_backward(const nn__conv_geom *g, int64_t batch, int max, const float *dy, const int32_t *argmax,
                       float *dx)
{
    const int64_t C = g->c, in = g->h * g->w * C, out = g->oh * g->ow * C;
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
                int64_t y0 = oy * g->sh - g->pt, x0 = ox * g->sw - g->pl;
                int64_t ya = y0 < 0 ? 0 : y0, yb = y0 + g->kh > g->h ? g->h : y0 + g->kh;
                int64_t xa = x0 < 0 ? 0 : x0, xb = x0 + g->kw > g->w ? g->w : x0 + g->kw;
                float scale = 1.0f / (float)((yb - ya) * (xb - xa));
                for (int64_t c = 0; c < C; c++) {
                    float v = d[(oy * g->ow + ox) * C + c] * scale;
                    for (int64_t iy = ya; iy < yb; iy++)
                        for (int64_t ix = xa; ix < xb; ix++) img[(iy * g->w + ix) * C + c] += v;
                }
            }
    }
}
