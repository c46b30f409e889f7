/* The dense (fully connected) layer: y = act(x W + b), and its backward pass. */
#include <string.h>

#include "internal.h"

static const char *const layer_kind_names[] = {"dense", "activation", "dropout", "batchnorm",
                                               "conv2d", "maxpool2d", "flatten"};

const char *nn_layer_kind_name(nn_layer_kind kind)
{
    int k = (int)kind;
    return k >= 0 && k < (int)(sizeof layer_kind_names / sizeof layer_kind_names[0]) ? layer_kind_names[k] : NULL;
}

nn_dense_options nn_dense_default(void)
{
    nn_dense_options o = {NN_OPTIONS_VERSION, NN_INIT_GLOROT_UNIFORM, NN_INIT_ZEROS};
    return o;
}

void nn__dense_forward_raw(int64_t batch, int64_t in, int64_t out, const float *x, const float *w, const float *b,
                           nn_activation act, float *pre, float *y)
{
    /* The bias is broadcast into the output first so that the GEMM adds the product to it (beta = 1):
     * bias and product in one pass over the output. */
    for (int64_t r = 0; r < batch; r++) memcpy(pre + r * out, b, (size_t)out * sizeof(float));
    nn__gemm(0, 0, batch, out, in, 1.0f, x, in, w, out, 1.0f, pre, out);
    if (act.kind != NN_ACT_LINEAR || y != pre) nn_activation_forward(act, y, pre, (size_t)(batch * out));
}

void nn__dense_backward_raw(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                            const float *pre, const float *y, nn_activation act, float *dy, float *dw, float *db,
                            float *dx, nn__sparse_rows *xs)
{
    size_t n = (size_t)(batch * out);
    if (act.kind != NN_ACT_LINEAR) nn_activation_backward(act, dy, dy, pre, y, n);
    /* dW = x^T dpre; db = column sums of dpre; dx = dpre W^T. */
    if (xs)
        nn__dense_weight_grad_sparse(xs, out, dy, dw);
    else
        nn__gemm(1, 0, in, out, batch, 1.0f, x, in, dy, out, 0.0f, dw, out);
    memset(db, 0, (size_t)out * sizeof(float));
    for (int64_t r = 0; r < batch; r++) {
        const float *row = dy + r * out;
        for (int64_t j = 0; j < out; j++) db[j] += row[j];
    }
    if (dx) nn__gemm(0, 1, batch, in, out, 1.0f, dy, out, w, out, 0.0f, dx, in);
}

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
