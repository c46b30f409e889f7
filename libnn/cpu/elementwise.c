/* Element-wise kernels: dropout masks, products and copies. */
#include <float.h>
#include <string.h>

#include "compute.h"

void nn__dropout_forward(size_t n, float rate, nn_rng *rng, const float *x, float *mask, float *y)
{
    float scale = 1.0f / (1.0f - rate);
    for (size_t i = 0; i < n; i++) {
        mask[i] = nn_rng_uniform(rng) >= rate ? scale : 0.0f;
        y[i] = x[i] * mask[i];
    }
}

void nn__mul(size_t n, const float *a, const float *b, float *out)
{
    for (size_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void nn__copy(size_t n, const float *src, float *dst)
{
    if (src != dst) memmove(dst, src, n * sizeof *dst);
}

/* target_clones makes an ifunc, whose resolver would be exported from the shared library; the clones
 * stay static behind a plain function. */
NN_HOT static uint32_t max_bits(const float *v, size_t n, uint32_t mask)
{
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, v + i, sizeof u);
        u &= mask;
        top = u > top ? u : top;
    }
    return top;
}

uint32_t nn__max_abs_bits(const float *v, size_t n) { return max_bits(v, n, 0x7fffffffu); }
uint32_t nn__max_raw_bits(const float *v, size_t n) { return max_bits(v, n, 0xffffffffu); }

double nn__bits_value(uint32_t abs_bits)
{
    float f;
    memcpy(&f, &abs_bits, sizeof f);
    return (double)f;
}

/* When every |x| <= a and |dpre| <= d, no entry or partial sum of x^T dpre or of dpre's column sums
 * over `rows` rows exceeds rows * max(a, 1) * d. Looking at x and dpre costs a pass over data still
 * in cache, a fraction of one over the gradients themselves; a bound within a factor 2 of overflow is
 * refused too, which only ever happens to a run that has diverged already. */
int nn__grads_bounded(uint32_t a_bits, uint32_t d_bits, int64_t rows)
{
    if (!nn__finite_bits(a_bits) || !nn__finite_bits(d_bits)) return 0;
    double a = nn__bits_value(a_bits);
    return (double)rows * (a > 1.0 ? a : 1.0) * nn__bits_value(d_bits) < (double)FLT_MAX / 2;
}
