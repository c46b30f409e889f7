/* The dense kernels on checked tensors (nn/experimental.h), over the raw kernels of libnn/cpu/dense.c. */
#include <string.h>

#include "compute.h"
#include "nn/experimental.h"

static int is_matrix(const nn_tensor *t, int64_t rows, int64_t cols)
{
    /* numel refuses extents below 1 and counts that overflow, which a hand-filled struct may hold. */
    return t && t->data && t->rank == 2 && t->shape[0] == rows && t->shape[1] == cols && nn_tensor_numel(t) > 0;
}

static nn_status check_dense(const char *who, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b)
{
    if (!x || !w || !b || !x->data || !w->data || !b->data)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: NULL tensor", who);
    /* Extents below 1 would reach memcpy and BLAS as huge sizes or illegal arguments. */
    if (nn_tensor_numel(x) == 0 || nn_tensor_numel(w) == 0 || nn_tensor_numel(b) == 0)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: a tensor has a rank outside 0..%d, an extent below 1 or too many elements",
                        who, NN_TENSOR_MAX_RANK);
    if (w->rank != 2) return nn__fail(NN_ERR_SHAPE, "%s: weights must be (in, out), got rank %d", who, w->rank);
    if (x->rank != 2) return nn__fail(NN_ERR_SHAPE, "%s: input must be (batch, features), got rank %d", who, x->rank);
    if (x->shape[1] != w->shape[0])
        return nn__fail(NN_ERR_SHAPE, "%s: input has %lld features, layer expects %lld", who,
                        (long long)x->shape[1], (long long)w->shape[0]);
    if (b->rank != 1 || b->shape[0] != w->shape[1])
        return nn__fail(NN_ERR_SHAPE, "%s: bias must be (%lld)", who, (long long)w->shape[1]);
    return NN_OK;
}

nn_status nn_dense_forward(nn_tensor *y, nn_tensor *pre, const nn_tensor *x, const nn_tensor *w,
                           const nn_tensor *b, nn_activation act)
{
    nn_status st = check_dense("dense", x, w, b);
    if (st != NN_OK) return st;
    int64_t batch = x->shape[0], in = w->shape[0], out = w->shape[1];
    if (!is_matrix(y, batch, out))
        return nn__fail(NN_ERR_SHAPE, "dense: output must be (%lld, %lld)", (long long)batch, (long long)out);
    if (pre && !is_matrix(pre, batch, out))
        return nn__fail(NN_ERR_SHAPE, "dense: pre-activation must be (%lld, %lld)", (long long)batch, (long long)out);
    if (!nn_activation_name(act.kind)) return nn__fail(NN_ERR_INVALID_ARGUMENT, "dense: unknown activation");
    /* Without a caller buffer, the pre-activation is computed in y and activated in place. */
    nn__dense_forward_raw(batch, in, out, x->data, w->data, b->data, act, pre ? pre->data : y->data, y->data);
    return NN_OK;
}

nn_status nn_dense_backward(nn_tensor *dx, nn_tensor *dw, nn_tensor *db, const nn_tensor *dy,
                            const nn_tensor *x, const nn_tensor *w, const nn_tensor *pre,
                            const nn_tensor *y, nn_activation act, nn_tensor *scratch)
{
    nn_status st = check_dense("dense backward", x, w, db);
    if (st != NN_OK) return st;
    int64_t batch = x->shape[0], in = w->shape[0], out = w->shape[1];
    if (!is_matrix(dy, batch, out) || !is_matrix(pre, batch, out) || !is_matrix(y, batch, out) ||
        !is_matrix(scratch, batch, out))
        return nn__fail(NN_ERR_SHAPE, "dense backward: dy, pre, y and scratch must be (%lld, %lld)",
                        (long long)batch, (long long)out);
    if (!is_matrix(dw, in, out))
        return nn__fail(NN_ERR_SHAPE, "dense backward: dw must be (%lld, %lld)", (long long)in, (long long)out);
    if (dx && !is_matrix(dx, batch, in))
        return nn__fail(NN_ERR_SHAPE, "dense backward: dx must be (%lld, %lld)", (long long)batch, (long long)in);
    if (!nn_activation_name(act.kind)) return nn__fail(NN_ERR_INVALID_ARGUMENT, "dense backward: unknown activation");
    if (scratch->data != dy->data) memcpy(scratch->data, dy->data, (size_t)(batch * out) * sizeof(float));
    nn__dense_backward_raw(batch, in, out, x->data, w->data, pre->data, y->data, act, scratch->data, dw->data,
                           db->data, dx ? dx->data : NULL, NULL);
    return NN_OK;
}
