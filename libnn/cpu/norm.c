/* Batch normalization kernels (Ioffe & Szegedy 2015), over the last axis of (rows, c). */
#include <math.h>
#include <string.h>

#include "compute.h"

/* Channels per block of the statistics, whose sums are kept in double on the stack. */
enum { BLOCK = 256 };

void nn__batchnorm_forward_train(int64_t rows, int64_t c, const float *x, const float *gamma, const float *beta,
                                 float eps, float *xhat, float *inv, float *mean, float *var, float *y)
{
    /* Two passes in double, row by row so that memory is read in order: the one-pass sum of squares
     * cancels badly when the mean is large next to the spread. */
    double sum[BLOCK], sq[BLOCK];
    for (int64_t j0 = 0; j0 < c; j0 += BLOCK) {
        int64_t nj = c - j0 < BLOCK ? c - j0 : BLOCK;
        memset(sum, 0, sizeof sum);
        memset(sq, 0, sizeof sq);
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < nj; j++) sum[j] += x[r * c + j0 + j];
        for (int64_t j = 0; j < nj; j++) sum[j] /= (double)rows;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < nj; j++) {
                double d = x[r * c + j0 + j] - sum[j];
                sq[j] += d * d;
            }
        for (int64_t j = 0; j < nj; j++) {
            double v = sq[j] / (double)rows;
            inv[j0 + j] = (float)(1.0 / sqrt(v + eps));
            mean[j0 + j] = (float)sum[j];
            var[j0 + j] = (float)v;
        }
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < c; j++) {
            float h = (x[r * c + j] - mean[j]) * inv[j];
            xhat[r * c + j] = h;
            y[r * c + j] = gamma[j] * h + beta[j];
        }
}

void nn__batchnorm_forward_infer(int64_t rows, int64_t c, const float *x, const float *gamma, const float *beta,
                                 const float *moving_mean, const float *moving_var, float eps, float *y)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < c; j++)
            y[r * c + j] = gamma[j] * (x[r * c + j] - moving_mean[j]) / sqrtf(moving_var[j] + eps) + beta[j];
}

void nn__batchnorm_backward(int64_t rows, int64_t c, const float *dy, const float *xhat, const float *inv,
                            const float *gamma, float *dgamma, float *dbeta, float *dx)
{
    memset(dgamma, 0, (size_t)c * sizeof *dgamma);
    memset(dbeta, 0, (size_t)c * sizeof *dbeta);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < c; j++) {
            dgamma[j] += dy[r * c + j] * xhat[r * c + j];
            dbeta[j] += dy[r * c + j];
        }
    if (!dx) return;
    /* dx = gamma / sqrt(var + eps) * (dy - mean(dy) - x_hat * mean(dy * x_hat)) */
    float n = (float)rows;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < c; j++)
            dx[r * c + j] = gamma[j] * inv[j] * (dy[r * c + j] - dbeta[j] / n - xhat[r * c + j] * dgamma[j] / n);
}

void nn__batchnorm_update_moving(int64_t c, float momentum, const float *mean, const float *var,
                                 float *moving_mean, float *moving_var)
{
    for (int64_t j = 0; j < c; j++) {
        moving_mean[j] = moving_mean[j] * momentum + mean[j] * (1.0f - momentum);
        moving_var[j] = moving_var[j] * momentum + var[j] * (1.0f - momentum);
    }
}
