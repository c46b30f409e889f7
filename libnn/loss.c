/* Losses: fused softmax cross-entropy and mean squared error, with their gradients.
 *
 * Sums run in double: a batch mean of per-row losses, and log-sum-exp over a row, keep float's
 * precision this way even with logits of 1e4, where float differences of nearby large values
 * would lose most digits. The (B, C) arrays are small next to the matrix products of a step. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A distribution target row may differ from a sum of 1 by this much (float rounding of soft labels
 * stays far below it; a row of counts or of logits does not). */
#define TARGET_SUM_TOLERANCE 1e-3

static const char *const loss_names[] = {"softmax_cross_entropy", "mse"};
#define LOSS_COUNT (int)(sizeof loss_names / sizeof loss_names[0])

const char *nn_loss_name(nn_loss_kind kind)
{
    return (int)kind >= 0 && (int)kind < LOSS_COUNT ? loss_names[kind] : NULL;
}

nn_status nn_loss_from_name(nn_loss_kind *out, const char *name)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_loss_from_name: out is NULL");
    if (!name) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_loss_from_name: name is NULL");
    for (int i = 0; i < LOSS_COUNT; i++)
        if (strcmp(name, loss_names[i]) == 0) {
            *out = (nn_loss_kind)i;
            return NN_OK;
        }
    return nn__fail(NN_ERR_INVALID_ARGUMENT, "unknown loss \"%.64s\" (accepted: softmax_cross_entropy, mse)",
                    name);
}

/* "(32, 10)" into buf, for shape messages. */
static const char *shape_str(char *buf, size_t size, const nn_tensor *t)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < t->rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (used < size) snprintf(buf + used, size - used, ")");
    return buf;
}

/* A tensor argument must exist, have data and a sane shape: the structs are public, so a caller may
 * have filled one in by hand. */
static nn_status check_tensor(const char *who, const char *what, const nn_tensor *t)
{
    if (!t) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", who, what);
    if (!t->data) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s has no data", who, what);
    if (t->rank < 0 || t->rank > NN_TENSOR_MAX_RANK)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s has rank %d", who, what, t->rank);
    for (int i = 0; i < t->rank; i++)
        if (t->shape[i] <= 0)
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s has dimension %d of %lld", who, what, i,
                            (long long)t->shape[i]);
    /* With the extents checked above, numel is 0 only when their product overflows. */
    if (nn_tensor_numel(t) == 0)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s has more elements than memory holds", who, what);
    return NN_OK;
}

/* Checks that b has a's shape; the message names both. */
static nn_status check_same_shape(const char *who, const char *what_a, const nn_tensor *a, const char *what_b,
                                  const nn_tensor *b)
{
    if (nn_tensor_same_shape(a, b)) return NN_OK;
    char sa[96], sb[96];
    return nn__fail(NN_ERR_SHAPE, "%s: %s is %s, %s %s", who, what_a, shape_str(sa, sizeof sa, a), what_b,
                    shape_str(sb, sizeof sb, b));
}

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

nn_status nn_softmax(nn_tensor *out, const nn_tensor *logits)
{
    static const char who[] = "nn_softmax";
    nn_status st = check_tensor(who, "logits", logits);
    if (st == NN_OK) st = check_tensor(who, "out", out);
    if (st != NN_OK) return st;
    if (logits->rank != 2) {
        char s[96];
        return nn__fail(NN_ERR_SHAPE, "%s: logits are %s, expected (B, C)", who,
                        shape_str(s, sizeof s, logits));
    }
    st = check_same_shape(who, "logits", logits, "out", out);
    if (st != NN_OK) return st;

    int64_t b = logits->shape[0], c = logits->shape[1];
    for (int64_t i = 0; i < b; i++) {
        const float *x = logits->data + i * c;
        float *y = out->data + i * c;
        /* y_j = exp(x_j - lse) directly, rather than e_j / sum, so each is rounded once. */
        double sum;
        double lse = row_logsumexp(x, NULL, c, &sum);
        for (int64_t j = 0; j < c; j++) y[j] = (float)exp((double)x[j] - lse);
    }
    return NN_OK;
}

/* Validates class-index targets: whole numbers in [0, c). */
static nn_status check_class_indices(const char *who, const float *t, int64_t b, int64_t c)
{
    for (int64_t i = 0; i < b; i++) {
        float v = t[i];
        if (!(v >= 0.0f && v < (float)c))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: target %lld is %g, outside [0, %lld)", who,
                            (long long)i, (double)v, (long long)c);
        if (v != floorf(v))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: target %lld is %g, not a whole class index", who,
                            (long long)i, (double)v);
    }
    return NN_OK;
}

/* Validates distribution targets: finite, non-negative rows summing to 1. */
static nn_status check_distributions(const char *who, const float *t, int64_t b, int64_t c)
{
    for (int64_t i = 0; i < b; i++) {
        double sum = 0.0;
        for (int64_t j = 0; j < c; j++) {
            float v = t[i * c + j];
            if (!(v >= 0.0f && v <= 1.0f))
                return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: target (%lld, %lld) is %g, not a probability",
                                who, (long long)i, (long long)j, (double)v);
            sum += v;
        }
        if (fabs(sum - 1.0) > TARGET_SUM_TOLERANCE)
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: target row %lld sums to %g, not 1", who,
                            (long long)i, sum);
    }
    return NN_OK;
}

nn_status nn_loss_softmax_cross_entropy(float *loss, nn_tensor *grad, const nn_tensor *logits,
                                        const nn_tensor *target)
{
    static const char who[] = "softmax_cross_entropy";
    if (!loss) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: loss is NULL", who);
    nn_status st = check_tensor(who, "logits", logits);
    if (st == NN_OK) st = check_tensor(who, "targets", target);
    if (st == NN_OK && grad) st = check_tensor(who, "grad", grad);
    if (st != NN_OK) return st;

    char sl[96], stg[96];
    if (logits->rank != 2)
        return nn__fail(NN_ERR_SHAPE, "%s: logits are %s, expected (B, C)", who,
                        shape_str(sl, sizeof sl, logits));
    int64_t b = logits->shape[0], c = logits->shape[1];
    int sparse = target->rank == 1;
    if (!(sparse && target->shape[0] == b) && !(target->rank == 2 && nn_tensor_same_shape(target, logits)))
        return nn__fail(NN_ERR_SHAPE, "%s: logits are %s, targets %s (expected (%lld) or (%lld, %lld))", who,
                        shape_str(sl, sizeof sl, logits), shape_str(stg, sizeof stg, target), (long long)b,
                        (long long)b, (long long)c);
    if (grad && (st = check_same_shape(who, "grad", grad, "logits", logits)) != NN_OK) return st;
    st = sparse ? check_class_indices(who, target->data, b, c) : check_distributions(who, target->data, b, c);
    if (st != NN_OK) return st;

    /* Row i: loss_i = sum_j t_j (lse - x_j) = lse sum(t) - sum_j t_j x_j, and
     * d loss_i / d x_j = sum(t) softmax_j - t_j: the exact gradient, which is softmax - t for rows
     * that sum to 1 and stays exact within the tolerance allowed above. The mean divides by B.
     * grad may equal logits: every x_j a row needs is read before e_j is stored in its place. */
    double total = 0.0, inv_b = 1.0 / (double)b;
    for (int64_t i = 0; i < b; i++) {
        const float *x = logits->data + i * c;
        const float *t = sparse ? NULL : target->data + i * c;
        int64_t y = sparse ? (int64_t)target->data[i] : -1;
        double tsum = 1.0, tx = 0.0;
        if (sparse) {
            tx = x[y];
        } else {
            tsum = 0.0;
            for (int64_t j = 0; j < c; j++) {
                tsum += t[j];
                tx += (double)t[j] * x[j];
            }
        }
        float *e = grad ? grad->data + i * c : NULL;
        double sum;
        total += row_logsumexp(x, e, c, &sum) * tsum - tx;
        if (!e) continue;
        double p_scale = tsum / sum;
        for (int64_t j = 0; j < c; j++) {
            double tj = sparse ? (j == y) : t[j];
            e[j] = (float)((e[j] * p_scale - tj) * inv_b);
        }
    }
    *loss = (float)(total * inv_b);
    return NN_OK;
}

nn_status nn_loss_mse(float *loss, nn_tensor *grad, const nn_tensor *pred, const nn_tensor *target)
{
    static const char who[] = "mse";
    if (!loss) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: loss is NULL", who);
    nn_status st = check_tensor(who, "pred", pred);
    if (st == NN_OK) st = check_tensor(who, "target", target);
    if (st == NN_OK && grad) st = check_tensor(who, "grad", grad);
    if (st == NN_OK) st = check_same_shape(who, "pred", pred, "target", target);
    if (st == NN_OK && grad) st = check_same_shape(who, "grad", grad, "pred", pred);
    if (st != NN_OK) return st;

    int64_t n = nn_tensor_numel(pred);
    const float *p = pred->data, *t = target->data;
    double total = 0.0, two_over_n = 2.0 / (double)n;
    /* grad may equal pred or target: p[i] and t[i] are read before g[i] is written. */
    for (int64_t i = 0; i < n; i++) {
        double d = (double)p[i] - t[i];
        total += d * d;
        if (grad) grad->data[i] = (float)(d * two_over_n);
    }
    *loss = (float)(total / (double)n);
    return NN_OK;
}

nn_status nn_loss_compute(nn_loss_kind kind, float *loss, nn_tensor *grad, const nn_tensor *pred,
                          const nn_tensor *target)
{
    switch (kind) {
    case NN_LOSS_SOFTMAX_CROSS_ENTROPY: return nn_loss_softmax_cross_entropy(loss, grad, pred, target);
    case NN_LOSS_MSE: return nn_loss_mse(loss, grad, pred, target);
    }
    return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_loss_compute: unknown loss kind %d", (int)kind);
}
