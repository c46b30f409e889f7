/* Losses: fused softmax cross-entropy and mean squared error, with their gradients.
 *
 * This file names the losses and checks shapes and targets; the arithmetic is in the compute
 * interface (compute.h, libnn/cpu/loss.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compute.h"
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

    nn__softmax_rows(logits->shape[0], logits->shape[1], logits->data, out->data);
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

    /* The gradient the kernel computes is exact for any row sum (sum(t) softmax - t), so rows
     * within the tolerance above still get the true gradient of the loss they were given. */
    *loss = nn__softmax_xent(b, c, logits->data, target->data, sparse, grad ? grad->data : NULL);
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

    *loss = nn__mse(nn_tensor_numel(pred), pred->data, target->data, grad ? grad->data : NULL);
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
