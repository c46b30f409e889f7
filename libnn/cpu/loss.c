/* Losses and class predictions on (rows, c) arrays: softmax, fused softmax cross-entropy, mean
 * squared error, and the argmax behind predicted classes and accuracy.
 *
 * Sums run in double: a batch mean of per-row losses, and log-sum-exp over a row, keep float's
 * precision this way even with logits of 1e4, where float differences of nearby large values would
 * lose most digits. The arrays are small next to the matrix products of a step. */
#include <math.h>

#include "compute.h"

/* log sum_j exp(x_j) over one row of c; stores exp(x_j - max) into e unless NULL (e may equal x), and
 * their sum into *sum. */
static double row_logsumexp(const float *x, float *e, int64_t c, double *sum_out)
{
    float m = x[0];
    for (int64_t j = 1; j < c; j++) m = x[j] > m ? x[j] : m;
    double sum = 0.0;
    for (int64_t j = 0; j < c; j++) {
        double ej = exp((double)x[j] - m);
        sum += ej;
        if (e) e[j] = (float)ej;
    }
    *sum_out = sum;
    return m + log(sum);
}

void nn__softmax_rows(int64_t rows, int64_t c, const float *x, float *y)
{
    for (int64_t i = 0; i < rows; i++) {
        const float *xi = x + i * c;
        float *yi = y + i * c;
        /* y_j = exp(x_j - lse) directly, rather than e_j / sum, so each is rounded once. */
        double sum;
        double lse = row_logsumexp(xi, NULL, c, &sum);
        for (int64_t j = 0; j < c; j++) yi[j] = (float)exp((double)xi[j] - lse);
    }
}

float nn__softmax_xent(int64_t rows, int64_t c, const float *x, const float *target, int target_is_index,
                       float *grad)
{
    /* Row i: loss_i = sum_j t_j (lse - x_j) = lse sum(t) - sum_j t_j x_j, and
     * d loss_i / d x_j = sum(t) softmax_j - t_j: the exact gradient, which is softmax - t for rows
     * that sum to 1 and stays exact for rows that sum to nearly 1. The mean divides by rows.
     * grad may equal x: every x_j a row needs is read before e_j is stored in its place. */
    double total = 0.0, inv_b = 1.0 / (double)rows;
    for (int64_t i = 0; i < rows; i++) {
        const float *xi = x + i * c;
        const float *t = target_is_index ? NULL : target + i * c;
        int64_t y = target_is_index ? (int64_t)target[i] : -1;
        double tsum = 1.0, tx = 0.0;
        if (target_is_index) {
            tx = xi[y];
        } else {
            tsum = 0.0;
            for (int64_t j = 0; j < c; j++) {
                tsum += t[j];
                tx += (double)t[j] * xi[j];
            }
        }
        float *e = grad ? grad + i * c : NULL;
        double sum;
        total += row_logsumexp(xi, e, c, &sum) * tsum - tx;
        if (!e) continue;
        double p_scale = tsum / sum;
        for (int64_t j = 0; j < c; j++) {
            double tj = target_is_index ? (j == y) : t[j];
            e[j] = (float)((e[j] * p_scale - tj) * inv_b);
        }
    }
    return (float)(total * inv_b);
}

float nn__mse(int64_t n, const float *pred, const float *target, float *grad)
{
    double total = 0.0, two_over_n = 2.0 / (double)n;
    /* grad may equal pred or target: pred[i] and target[i] are read before grad[i] is written. */
    for (int64_t i = 0; i < n; i++) {
        double d = (double)pred[i] - target[i];
        total += d * d;
        if (grad) grad[i] = (float)(d * two_over_n);
    }
    return (float)(total / (double)n);
}

/* The first largest entry: ties go to the lower index, and NaN never wins over an earlier value. */
static int64_t argmax(const float *row, int64_t n)
{
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

void nn__argmax_rows(int64_t rows, int64_t c, const float *x, int32_t *out)
{
    for (int64_t i = 0; i < rows; i++) out[i] = (int32_t)argmax(x + i * c, c);
}

int64_t nn__argmax_matches(int64_t rows, int64_t c, const float *x, const float *target, int target_is_index)
{
    int64_t ok = 0;
    for (int64_t i = 0; i < rows; i++) {
        int64_t want = target_is_index ? (int64_t)target[i] : argmax(target + i * c, c);
        ok += argmax(x + i * c, c) == want;
    }
    return ok;
}
