/* Element-wise activations, forward and backward, by kind.
 *
 * Speed: these run on every layer output of every training step, so each kind has its own plain loop
 * (the switch on the kind sits outside it) that GCC and clang vectorise at -O3. glibc's expf and tanhf
 * only vectorise under -ffast-math, which the library does not use, so the exponentials below come
 * from a small inline exp written with operations the vectoriser handles (round by a shifter
 * constant, a polynomial, and building 2^k in the exponent bits), and softplus's log1p likewise.
 * Only gelu's forward pass calls libm (erfcf) per element.
 *
 * Stability: every exponential is taken of a non-positive argument (exp(-|x|), expm1(-2|x|),
 * exp(-x^2/2)), so nothing overflows for any finite input, and |x| of 1e4 gives finite results. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"

/* Default parameters: leaky_relu as Keras 3; elu as Clevert et al. 2016; selu as Klambauer et al.
 * 2017, eq. 14 (the values that keep unit mean and variance fixed points). */
#define LEAKY_RELU_ALPHA 0.2f
#define ELU_ALPHA        1.0f
#define SELU_ALPHA       1.6732632423543772848170429916717f
#define SELU_SCALE       1.0507009873554804934193349852946f

/* Below this exp(x) would be subnormal (FLT_MIN is exp(-87.34)); results there are taken as 0, which
 * keeps 2^k representable as a normal float and avoids slow subnormal arithmetic. */
#define EXP_MIN_ARG -87.0f
#define LOG2E       1.44269504088896341f
/* ln 2 split so that k * LN2_HI is exact for |k| < 2^15 (LN2_HI has 9 significant bits): the
 * reduction x - k ln 2 then loses nothing to cancellation (Cody and Waite 1980). */
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
/* Adding and subtracting 1.5 * 2^23 rounds a float of magnitude below 2^22 to the nearest integer. */
#define ROUND_SHIFTER 12582912.0f

/* cond ? a : b without a branch. GCC (under the default -ftrapping-math) refuses to if-convert a
 * ternary once it has moved a float operation into one arm, and then leaves the whole loop scalar;
 * selecting bits with a mask is plain integer work it always vectorises. */
static inline float blend(int cond, float a, float b)
{
    uint32_t ua, ub, mask = (uint32_t)0 - (uint32_t)(cond != 0);
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    uint32_t r = (ua & mask) | (ub & ~mask);
    float f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* exp(x) = 2^k (1 + q) with |r| <= ln2/2, q = expm1(r). The Taylor series of expm1 to degree 7 has a
 * truncation error below 6e-9 relative on that interval, under float's rounding. x must be <= 0; NaN
 * is mapped to EXP_MIN_ARG here and restored by the callers. */
static inline float exp_reduce(float x, float *two_k)
{
    float xc = blend(x > EXP_MIN_ARG, x, EXP_MIN_ARG);
    float k = (xc * LOG2E + ROUND_SHIFTER) - ROUND_SHIFTER;
    float r = (xc - k * LN2_HI) - k * LN2_LO;
    float q = 1.0f / 5040; /* Horner, from the highest term */
    q = q * r + 1.0f / 720;
    q = q * r + 1.0f / 120;
    q = q * r + 1.0f / 24;
    q = q * r + 1.0f / 6;
    q = q * r + 1.0f / 2;
    q = q * r + 1.0f;
    q = q * r;
    /* k lies in [-126, 0], so 2^k is a normal float built directly in the exponent field. */
    uint32_t bits = (uint32_t)((int32_t)k + 127) << 23;
    memcpy(two_k, &bits, sizeof bits);
    return q;
}

/* exp(x) for x <= 0 (NaN in, NaN out), within a few ulp; 0 below EXP_MIN_ARG. */
static inline float exp_nonpos(float x)
{
    float s;
    float q = exp_reduce(x, &s);
    float y = (q + 1.0f) * s + (x - x); /* x - x is NaN only for NaN, which it propagates */
    return blend(x < EXP_MIN_ARG, 0.0f, y);
}

/* expm1(x) for x <= 0, accurate near 0 where exp(x) - 1 would cancel; -1 below EXP_MIN_ARG. */
static inline float expm1_nonpos(float x)
{
    float s;
    float q = exp_reduce(x, &s);
    float y = q * s + (s - 1.0f) + (x - x);
    return blend(x < EXP_MIN_ARG, -1.0f, y);
}

/* 1 / (1 + exp(-x)) from exp(-|x|), which never overflows. */
static inline float sigmoid1(float x)
{
    float e = exp_nonpos(-fabsf(x));
    return blend(x >= 0.0f, 1.0f, e) / (1.0f + e);
}

/* tanh |x| = -expm1(-2|x|) / (2 + expm1(-2|x|)): no cancellation for small |x|, 1 for large. */
static inline float tanh1(float x)
{
    float m = expm1_nonpos(-2.0f * fabsf(x));
    return copysignf(-m / (2.0f + m), x);
}

/* log1p(e) for e in [0, 1], as 2 atanh(s) with s = e / (2 + e) in [0, 1/3]: the odd series of atanh
 * to s^13 / 13 leaves a relative error below 2e-8, and tiny e keep full precision since s ~ e / 2
 * (forming 1 + e first would lose them). Vectorisable, unlike log1pf. */
static inline float log1p_unit(float e)
{
    float s = e / (2.0f + e);
    float z = s * s;
    float p = 1.0f / 13; /* Horner in z = s^2 */
    p = p * z + 1.0f / 11;
    p = p * z + 1.0f / 9;
    p = p * z + 1.0f / 7;
    p = p * z + 1.0f / 5;
    p = p * z + 1.0f / 3;
    p = p * z + 1.0f;
    return 2.0f * s * p;
}

/* Phi(x) through erfc, which stays accurate in the left tail where 1 + erf(x / sqrt 2) cancels. */
static inline float normal_cdf(float x) { return 0.5f * erfcf(-x * 0.707106781186547524f); }

/* ---- forward: out (n) = f(in (n)); out may equal in, so each loop reads in[i] before writing out[i]. */

NN_HOT static void relu_forward(float *out, const float *in, size_t n)
{
    /* Tested as "x < 0" so that NaN passes through instead of becoming 0. */
    for (size_t i = 0; i < n; i++) out[i] = blend(in[i] < 0.0f, 0.0f, in[i]);
}

NN_HOT static void leaky_relu_forward(float *out, const float *in, size_t n, float alpha)
{
    for (size_t i = 0; i < n; i++) out[i] = blend(in[i] > 0.0f, in[i], alpha * in[i]);
}

NN_HOT static void sigmoid_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = sigmoid1(in[i]);
}

NN_HOT static void tanh_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = tanh1(in[i]);
}

/* elu and selu: scale * (x if x > 0 else alpha expm1(x)). */
NN_HOT static void elu_forward(float *out, const float *in, size_t n, float alpha, float scale)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float neg = alpha * expm1_nonpos(blend(x > 0.0f, 0.0f, x)); /* NaN stays NaN */
        out[i] = scale * blend(x > 0.0f, x, neg);
    }
}

NN_HOT static void gelu_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = in[i] * normal_cdf(in[i]);
}

/* The tanh approximation (Hendrycks & Gimpel 2016; PyTorch's approximate='tanh', Keras'
 * approximate=True): 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), written as
 * x sigmoid(2u), since 0.5 (1 + tanh(u)) = sigmoid(2u) and sigmoid1 vectorises. */
#define GELU_TANH_K 0.797884560802865355f /* sqrt(2 / pi) */
#define GELU_TANH_C 0.044715f

NN_HOT static void gelu_tanh_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        out[i] = x * sigmoid1(2.0f * GELU_TANH_K * (x + GELU_TANH_C * x * x * x));
    }
}

NN_HOT static void silu_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = in[i] * sigmoid1(in[i]);
}

/* max(x, 0) + log1p(exp(-|x|)): the large part exact, the correction never overflows. */
NN_HOT static void softplus_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        out[i] = blend(x > 0.0f, x, 0.0f) + log1p_unit(exp_nonpos(-fabsf(x)));
    }
}

/* ---- backward: gi = go * f'(in), with out = f(in); gi may equal go. */

NN_HOT static void relu_backward(float *gi, const float *go, const float *in, size_t n)
{
    /* f'(0) = 0, as Keras and PyTorch. */
    for (size_t i = 0; i < n; i++) gi[i] = blend(in[i] > 0.0f, go[i], 0.0f);
}

NN_HOT static void leaky_relu_backward(float *gi, const float *go, const float *in, size_t n, float alpha)
{
    for (size_t i = 0; i < n; i++) gi[i] = go[i] * blend(in[i] > 0.0f, 1.0f, alpha);
}

NN_HOT static void sigmoid_backward(float *gi, const float *go, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) gi[i] = go[i] * (out[i] * (1.0f - out[i]));
}

NN_HOT static void tanh_backward(float *gi, const float *go, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) gi[i] = go[i] * (1.0f - out[i] * out[i]);
}

/* For x <= 0, d/dx scale alpha (e^x - 1) = scale alpha e^x = out + scale alpha. */
NN_HOT static void elu_backward(float *gi, const float *go, const float *in, const float *out, size_t n, float alpha,
                         float scale)
{
    float sa = scale * alpha;
    for (size_t i = 0; i < n; i++) gi[i] = go[i] * blend(in[i] > 0.0f, scale, out[i] + sa);
}

/* d/dx x Phi(x) = Phi(x) + x phi(x), with Phi(x) = out / x: one rounding away from the erfc value,
 * and it spares a scalar erfcf call per element. Near 0, where out / x would divide tiny numbers,
 * Phi is 1/2 to float precision. */
NN_HOT static void gelu_backward(float *gi, const float *go, const float *in, const float *out, size_t n)
{
    const float inv_sqrt_2pi = 0.398942280401432678f;
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float cdf = blend(fabsf(x) < 1e-20f, 0.5f, out[i] / x);
        float pdf = inv_sqrt_2pi * exp_nonpos(-0.5f * x * x);
        gi[i] = go[i] * (cdf + x * pdf);
    }
}

/* d/dx x s(2u) = s + x s (1 - s) 2 u', with u' = sqrt(2/pi) (1 + 3 0.044715 x^2). */
NN_HOT static void gelu_tanh_backward(float *gi, const float *go, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i], x2 = x * x;
        float s = sigmoid1(2.0f * GELU_TANH_K * (x + GELU_TANH_C * x2 * x));
        float du = GELU_TANH_K * (1.0f + 3.0f * GELU_TANH_C * x2);
        gi[i] = go[i] * (s + x * s * (1.0f - s) * 2.0f * du);
    }
}

/* d/dx x s(x) = s (1 + x (1 - s)); s is recomputed because out / in is unstable near 0. */
NN_HOT static void silu_backward(float *gi, const float *go, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        float s = sigmoid1(x);
        gi[i] = go[i] * (s * (1.0f + x * (1.0f - s)));
    }
}

/* softplus' = sigmoid. */
NN_HOT static void softplus_backward(float *gi, const float *go, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) gi[i] = go[i] * sigmoid1(in[i]);
}

/* ---- dispatch, without checks (the public functions and the layers have checked) */

void nn__act_forward(nn_activation act, float *out, const float *in, size_t n)
{
    switch (act.kind) {
    case NN_ACT_LINEAR:
        if (out != in) memmove(out, in, n * sizeof *out);
        break;
    case NN_ACT_RELU: relu_forward(out, in, n); break;
    case NN_ACT_SIGMOID: sigmoid_forward(out, in, n); break;
    case NN_ACT_TANH: tanh_forward(out, in, n); break;
    case NN_ACT_LEAKY_RELU: leaky_relu_forward(out, in, n, act.alpha); break;
    case NN_ACT_ELU: elu_forward(out, in, n, act.alpha, 1.0f); break;
    case NN_ACT_GELU: gelu_forward(out, in, n); break;
    case NN_ACT_SILU: silu_forward(out, in, n); break;
    case NN_ACT_SOFTPLUS: softplus_forward(out, in, n); break;
    case NN_ACT_SELU: elu_forward(out, in, n, SELU_ALPHA, SELU_SCALE); break;
    case NN_ACT_GELU_TANH: gelu_tanh_forward(out, in, n); break;
    }
}

void nn__act_backward(nn_activation act, float *grad_in, const float *grad_out, const float *in, const float *out,
                      size_t n)
{
    switch (act.kind) {
    case NN_ACT_LINEAR:
        if (grad_in != grad_out) memmove(grad_in, grad_out, n * sizeof *grad_in);
        break;
    case NN_ACT_RELU: relu_backward(grad_in, grad_out, in, n); break;
    case NN_ACT_SIGMOID: sigmoid_backward(grad_in, grad_out, out, n); break;
    case NN_ACT_TANH: tanh_backward(grad_in, grad_out, out, n); break;
    case NN_ACT_LEAKY_RELU: leaky_relu_backward(grad_in, grad_out, in, n, act.alpha); break;
    case NN_ACT_ELU: elu_backward(grad_in, grad_out, in, out, n, act.alpha, 1.0f); break;
    case NN_ACT_GELU: gelu_backward(grad_in, grad_out, in, out, n); break;
    case NN_ACT_SILU: silu_backward(grad_in, grad_out, in, n); break;
    case NN_ACT_SOFTPLUS: softplus_backward(grad_in, grad_out, in, n); break;
    case NN_ACT_SELU: elu_backward(grad_in, grad_out, in, out, n, SELU_ALPHA, SELU_SCALE); break;
    case NN_ACT_GELU_TANH: gelu_tanh_backward(grad_in, grad_out, in, n); break;
    }
}
