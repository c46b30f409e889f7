/* The compute interface: every piece of arithmetic that layers, losses and optimizers do reaches
 * the hardware through these functions, on raw row-major arrays whose shapes each comment gives.
 * libnn/cpu/ implements them (CBLAS and vectorised C); a second backend would be a second folder
 * implementing the same declarations on its own memory. No argument checks here: the callers
 * (the public functions and the layers) have checked shapes once. */
#ifndef NN_COMPUTE_H
#define NN_COMPUTE_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* C (m, n) = alpha op(A) op(B) + beta C, row-major; op transposes when trans is non-zero. Every
 * matrix product in libnn goes through here, so a different backend needs one change. */
void nn__gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
              int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* The same product computed naively in double, for tests that check the BLAS path. */
void nn__gemm_ref(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                  int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* Element-wise activation of n values (out may equal in), and its backward pass: gi = go * f'(in),
 * with out = f(in) from the forward pass; gi may equal go. */
void nn__act_forward(nn_activation act, float *out, const float *in, size_t n);
void nn__act_backward(nn_activation act, float *grad_in, const float *grad_out, const float *in, const float *out,
                      size_t n);

/* Batch normalization over the last axis of x (rows, c), rows = batch x pixels.
 * Training: y = gamma x_hat + beta with the batch's mean and biased variance; keeps x_hat (rows, c),
 * inv = 1 / sqrt(var + eps) (c), and the batch's mean and var (c) for the moving statistics. */
void nn__batchnorm_forward_train(int64_t rows, int64_t c, const float *x, const float *gamma, const float *beta,
                                 float eps, float *xhat, float *inv, float *mean, float *var, float *y);
/* Inference: y = gamma (x - moving_mean) / sqrt(moving_var + eps) + beta. */
void nn__batchnorm_forward_infer(int64_t rows, int64_t c, const float *x, const float *gamma, const float *beta,
                                 const float *moving_mean, const float *moving_var, float eps, float *y);
/* From dy (rows, c): dgamma, dbeta (c) overwritten; dx (rows, c) when non-NULL. */
void nn__batchnorm_backward(int64_t rows, int64_t c, const float *dy, const float *xhat, const float *inv,
                            const float *gamma, float *dgamma, float *dbeta, float *dx);
/* moving = moving * momentum + batch * (1 - momentum), for mean and variance (c). */
void nn__batchnorm_update_moving(int64_t c, float momentum, const float *mean, const float *var,
                                 float *moving_mean, float *moving_var);

/* Inverted dropout of n values: mask[i] = 1 / (1 - rate) with probability 1 - rate, else 0, drawn
 * from rng in order; y = x * mask. */
void nn__dropout_forward(size_t n, float rate, nn_rng *rng, const float *x, float *mask, float *y);
/* out = a * b, element-wise, n values. */
void nn__mul(size_t n, const float *a, const float *b, float *out);
/* dst = src, n values (regions may overlap). */
void nn__copy(size_t n, const float *src, float *dst);

/* The largest |v[i]| of n floats, as the bits of a non-negative float: those order as the values do,
 * and an infinity or a NaN (0x7f800000 and up) ranks above every finite value. An integer reduction,
 * so no FPU mode (flush-to-zero) or finite-math assumption can bend it. */
uint32_t nn__max_abs_bits(const float *v, size_t n);
static inline int nn__finite_bits(uint32_t abs_bits) { return abs_bits < 0x7f800000u; }
double nn__bits_value(uint32_t abs_bits);

#endif /* NN_COMPUTE_H */
