/* Optimizer updates: one pass over the flat parameter, gradient and state arrays.
 *
 * Shapes: w, g and every state array are (n,). restrict: the state never aliases the parameters or
 * gradients, which lets the loops vectorise without runtime overlap checks. Each variant has its own
 * loop, chosen outside it, so the loop bodies have no branches.
 *
 * target_clones makes an ifunc, whose resolver would be exported from the shared library; the clones
 * stay static behind the plain functions of compute.h. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "compute.h"

/* |u| - FLT_MIN, unsigned, is at least 0x7f000000 for a subnormal, -0, an infinity or a NaN. */
NN_HOT static int kept_by_zero_step(const float *restrict w, size_t n)
{
    uint32_t moved = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, w + i, sizeof u);
        moved |= (u != 0) & ((u & 0x7fffffffu) - 0x00800000u >= 0x7f000000u);
    }
    return !moved;
}

int nn__kept_by_zero_step(size_t n, const float *w) { return kept_by_zero_step(w, n); }

/* rmsprop_plain's s with g = +0: (1-rho) 0 0 is +0, and adding it is what the full rule does. */
NN_HOT static void rmsprop_decay(float *restrict s, size_t n, float rho)
{
    for (size_t i = 0; i < n; i++) s[i] = rho * s[i] + 0.0f;
}

void nn__rmsprop_decay(size_t n, float rho, float *s) { rmsprop_decay(s, n, rho); }

void nn__fill(size_t n, float value, float *dst)
{
    for (size_t i = 0; i < n; i++) dst[i] = value;
}

NN_HOT static void sgd_plain(float *restrict w, const float *restrict g, size_t n, float lr)
{
    for (size_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

/* Keras: v = momentum v - lr g; w += v. */
NN_HOT static void sgd_momentum(float *restrict w, const float *restrict g, float *restrict v, size_t n, float lr,
                                float mom)
{
    for (size_t i = 0; i < n; i++) {
        float vi = mom * v[i] - lr * g[i];
        v[i] = vi;
        w[i] += vi;
    }
}

/* Keras: v = momentum v - lr g; w += momentum v - lr g. */
NN_HOT static void sgd_nesterov(float *restrict w, const float *restrict g, float *restrict v, size_t n, float lr,
                                float mom)
{
    for (size_t i = 0; i < n; i++) {
        float step = lr * g[i];
        float vi = mom * v[i] - step;
        v[i] = vi;
        w[i] += mom * vi - step;
    }
}

void nn__sgd_update(size_t n, float lr, float *w, const float *g)
{
    sgd_plain(w, g, n, lr);
}

void nn__sgd_momentum_update(size_t n, float lr, float momentum, int nesterov, float *w, const float *g, float *v)
{
    if (nesterov) sgd_nesterov(w, g, v, n, lr, momentum);
    else sgd_momentum(w, g, v, n, lr, momentum);
}

/* Adam (Kingma & Ba 2015, Alg. 1) in Keras' form, with alpha = lr sqrt(1-b2^t)/(1-b1^t) and eps
 * outside the square root, not bias-corrected. decay = lr * weight_decay applies AdamW's decoupled
 * decay (Loshchilov & Hutter 2019) before the Adam update, as Keras does; it is 0 for Adam, where
 * w - 0 w leaves w unchanged. */
NN_HOT static void adam(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                        float alpha, float one_minus_b1, float one_minus_b2, float eps, float decay)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] + one_minus_b1 * (gi - m[i]);
        float vi = v[i] + one_minus_b2 * (gi * gi - v[i]);
        m[i] = mi;
        v[i] = vi;
        float wi = w[i] - decay * w[i];
        w[i] = wi - alpha * mi / (sqrtf(vi) + eps);
    }
}

void nn__adam_update(size_t n, float alpha, float one_minus_b1, float one_minus_b2, float eps, float decay, float *w,
                     const float *g, float *m, float *v)
{
    adam(w, g, m, v, n, alpha, one_minus_b1, one_minus_b2, eps, decay);
}

/* RMSprop (Hinton 2012) in Keras' form: s = rho s + (1-rho) g^2; inc = lr g / sqrt(s + eps), epsilon
 * inside the square root. Centered subtracts the squared running mean of g; with momentum the
 * increment is accumulated. */
NN_HOT static void rmsprop_plain(float *restrict w, const float *restrict g, float *restrict s, size_t n, float lr,
                                 float rho, float eps)
{
    float one_minus_rho = 1.0f - rho;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float si = rho * s[i] + one_minus_rho * gi * gi;
        s[i] = si;
        w[i] -= lr * gi / sqrtf(si + eps);
    }
}

NN_HOT static void rmsprop_centered(float *restrict w, const float *restrict g, float *restrict s, float *restrict a,
                                    size_t n, float lr, float rho, float eps)
{
    float one_minus_rho = 1.0f - rho;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float si = rho * s[i] + one_minus_rho * gi * gi;
        float ai = rho * a[i] + one_minus_rho * gi;
        s[i] = si;
        a[i] = ai;
        w[i] -= lr * gi / sqrtf(si - ai * ai + eps);
    }
}

NN_HOT static void rmsprop_momentum(float *restrict w, const float *restrict g, float *restrict s, float *restrict mo,
                                    size_t n, float lr, float rho, float eps, float mom)
{
    float one_minus_rho = 1.0f - rho;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float si = rho * s[i] + one_minus_rho * gi * gi;
        s[i] = si;
        float moi = mom * mo[i] + lr * gi / sqrtf(si + eps);
        mo[i] = moi;
        w[i] -= moi;
    }
}

NN_HOT static void rmsprop_centered_momentum(float *restrict w, const float *restrict g, float *restrict s,
                                             float *restrict a, float *restrict mo, size_t n, float lr, float rho,
                                             float eps, float mom)
{
    float one_minus_rho = 1.0f - rho;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float si = rho * s[i] + one_minus_rho * gi * gi;
        float ai = rho * a[i] + one_minus_rho * gi;
        s[i] = si;
        a[i] = ai;
        float moi = mom * mo[i] + lr * gi / sqrtf(si - ai * ai + eps);
        mo[i] = moi;
        w[i] -= moi;
    }
}

void nn__rmsprop_update(size_t n, float lr, float rho, float eps, float momentum, float *w, const float *g, float *s,
                        float *mean_grad, float *mom)
{
    if (mean_grad && mom) rmsprop_centered_momentum(w, g, s, mean_grad, mom, n, lr, rho, eps, momentum);
    else if (mean_grad) rmsprop_centered(w, g, s, mean_grad, n, lr, rho, eps);
    else if (mom) rmsprop_momentum(w, g, s, mom, n, lr, rho, eps, momentum);
    else rmsprop_plain(w, g, s, n, lr, rho, eps);
}

/* Adagrad (Duchi et al. 2011) in Keras' form: acc += g^2; w -= lr g / sqrt(acc + eps). */
NN_HOT static void adagrad(float *restrict w, const float *restrict g, float *restrict acc, size_t n, float lr,
                           float eps)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float ai = acc[i] + gi * gi;
        acc[i] = ai;
        w[i] -= lr * gi / sqrtf(ai + eps);
    }
}

void nn__adagrad_update(size_t n, float lr, float eps, float *w, const float *g, float *acc)
{
    adagrad(w, g, acc, n, lr, eps);
}
