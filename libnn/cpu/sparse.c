/* The first layer on sparse inputs: products that skip the zero pixels.
 *
 * Both kernels keep a block of 64 outputs in registers while they run over the non-zero inputs that
 * feed it, so each output is loaded and stored once rather than once per non-zero. The weight
 * gradient runs column by column of x (each input's non-zero rows), which is what makes that
 * possible for it: the backward pass turns the row lists into column lists first. */
#include <string.h>

#include "compute.h"

enum { TILE = 64 };

/* Four 16-float vectors hold a tile of 64 outputs. GCC and clang lower the vector type to what the
 * target has (one AVX-512 register, two AVX ones or four SSE ones each). */
typedef float vec16 __attribute__((vector_size(64)));

/* Unaligned moves; vectors go through pointers, since passing 64-byte vectors by value has no
 * stable ABI across targets. */
#define LOAD16(v, p) memcpy(&(v), (p), sizeof(vec16))
#define STORE16(p, v) memcpy((p), &(v), sizeof(vec16))


NN_HOT static int compress(nn__sparse_rows *s, const float *x, int64_t batch, int64_t cols)
{
    /* Local restrict copies: stores through int32 arrays could otherwise alias the offsets, and the
     * compiler would reload them on every entry. */
    int32_t *restrict index = s->index, *restrict start = s->start;
    float *restrict value = s->value;
    int64_t limit = (int64_t)(NN_SPARSE_MAX_DENSITY * (double)(batch * cols)), nnz = 0;
    s->rows = batch;
    s->cols = cols;
    s->has_columns = 0;
    start[0] = 0;
    for (int64_t r = 0; r < batch; r++) {
        const float *restrict row = x + r * cols;
        int64_t k = 0;
        /* Most of an image is blank: skip 16 zeros at a time (one OR of their bits), and compact the
         * rest without branches (write every entry, advance past the non-zero ones). */
        for (; k + 16 <= cols; k += 16) {
            uint64_t bits[8], any = 0;
            memcpy(bits, row + k, sizeof bits);
            for (int j = 0; j < 8; j++) any |= bits[j];
            if ((any & 0x7fffffff7fffffffULL) == 0) continue;
            for (int j = 0; j < 16; j++) {
                float v = row[k + j];
                index[nnz] = (int32_t)(k + j);
                value[nnz] = v;
                nnz += v != 0.0f;
            }
        }
        for (; k < cols; k++) {
            float v = row[k];
            index[nnz] = (int32_t)k;
            value[nnz] = v;
            nnz += v != 0.0f;
        }
        start[r + 1] = (int32_t)nnz;
        if (nnz > limit) return 0; /* dense enough that BLAS wins: stop early */
    }
    return 1;
}

/* The same entries by column (a counting sort), which only the weight gradient needs: evaluation
 * never pays for it. */
NN_HOT static void columns(nn__sparse_rows *s)
{
    const int32_t *restrict start = s->start, *restrict index = s->index;
    const float *restrict value = s->value;
    int32_t *restrict col_start = s->col_start, *restrict fill = s->col_fill, *restrict col_row = s->col_row;
    float *restrict col_value = s->col_value;
    int64_t cols = s->cols, nnz = start[s->rows];
    memset(col_start, 0, (size_t)(cols + 1) * sizeof(int32_t));
    for (int64_t p = 0; p < nnz; p++) col_start[index[p] + 1]++;
    for (int64_t k = 0; k < cols; k++) col_start[k + 1] += col_start[k];
    memcpy(fill, col_start, (size_t)cols * sizeof(int32_t));
    for (int64_t r = 0; r < s->rows; r++) {
        int32_t end = start[r + 1];
        for (int32_t p = start[r]; p < end; p++) {
            int32_t q = fill[index[p]]++;
            col_row[q] = (int32_t)r;
            col_value[q] = value[p];
        }
    }
    s->has_columns = 1;
}

/* dst[0..TILE) = init + sum over p of val[p] * base[off[p] * stride + 0..TILE), in registers. */
static inline void tile_sum(float *dst, const float *init, const float *base, int64_t stride, const int32_t *off,
                            const float *val, int32_t n)
{
    vec16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    if (init) {
        LOAD16(a0, init);
        LOAD16(a1, init + 16);
        LOAD16(a2, init + 32);
        LOAD16(a3, init + 48);
    }
    for (int32_t p = 0; p < n; p++) {
        const float *src = base + (int64_t)off[p] * stride;
        float v = val[p];
        vec16 w0, w1, w2, w3;
        LOAD16(w0, src);
        LOAD16(w1, src + 16);
        LOAD16(w2, src + 32);
        LOAD16(w3, src + 48);
        a0 += v * w0;
        a1 += v * w1;
        a2 += v * w2;
        a3 += v * w3;
    }
    STORE16(dst, a0);
    STORE16(dst + 16, a1);
    STORE16(dst + 32, a2);
    STORE16(dst + 48, a3);
}

/* The same for a last tile narrower than TILE. */
static void tile_sum_tail(float *dst, const float *init, const float *base, int64_t stride, const int32_t *off,
                          const float *val, int32_t n, int64_t width)
{
    for (int64_t j = 0; j < width; j++) dst[j] = init ? init[j] : 0.0f;
    for (int32_t p = 0; p < n; p++)
        for (int64_t j = 0; j < width; j++) dst[j] += val[p] * base[(int64_t)off[p] * stride + j];
}

NN_HOT static void forward(const nn__sparse_rows *x, int64_t out, const float *w, const float *b, float *pre)
{
    for (int64_t r = 0; r < x->rows; r++) {
        int32_t first = x->start[r], n = x->start[r + 1] - first;
        int64_t j0 = 0;
        for (; j0 + TILE <= out; j0 += TILE)
            tile_sum(pre + r * out + j0, b + j0, w + j0, out, x->index + first, x->value + first, n);
        if (j0 < out) tile_sum_tail(pre + r * out + j0, b + j0, w + j0, out, x->index + first, x->value + first, n, out - j0);
    }
}

NN_HOT static void weight_grad(const nn__sparse_rows *x, int64_t out, const float *dpre, float *dw)
{
    for (int64_t k = 0; k < x->cols; k++) {
        int32_t first = x->col_start[k], n = x->col_start[k + 1] - first;
        float *row = dw + k * out;
        if (n == 0) {
            memset(row, 0, (size_t)out * sizeof(float));
            continue;
        }
        int64_t j0 = 0;
        for (; j0 + TILE <= out; j0 += TILE)
            tile_sum(row + j0, NULL, dpre + j0, out, x->col_row + first, x->col_value + first, n);
        if (j0 < out) tile_sum_tail(row + j0, NULL, dpre + j0, out, x->col_row + first, x->col_value + first, n, out - j0);
    }
}

/* The cloned kernels stay static: GCC exports the clones and resolvers of non-static functions even
 * under -fvisibility=hidden, which would leak them from libnn.so. */
int nn__sparse_compress(nn__sparse_rows *s, const float *x, int64_t batch, int64_t cols)
{
    return compress(s, x, batch, cols);
}

void nn__dense_forward_sparse(const nn__sparse_rows *x, int64_t out, const float *w, const float *b, nn_activation act,
                              float *pre, float *y)
{
    forward(x, out, w, b, pre);
    if (act.kind != NN_ACT_LINEAR || y != pre) nn__act_forward(act, y, pre, (size_t)(x->rows * out));
}

void nn__dense_weight_grad_sparse(nn__sparse_rows *x, int64_t out, const float *dpre, float *dw)
{
    if (!x->has_columns) columns(x);
    weight_grad(x, out, dpre, dw);
}
