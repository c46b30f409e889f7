/* Dense kernels on raw row-major arrays: y = act(x W + b) and its backward pass. */
#include <string.h>

#include "compute.h"

void nn__dense_forward_raw(int64_t batch, int64_t in, int64_t out, const float *x, const float *w, const float *b,
                           nn_activation act, float *pre, float *y)
{
    /* The bias is broadcast into the output first so that the GEMM adds the product to it (beta = 1):
     * bias and product in one pass over the output. */
    for (int64_t r = 0; r < batch; r++) memcpy(pre + r * out, b, (size_t)out * sizeof(float));
    nn__gemm(0, 0, batch, out, in, 1.0f, x, in, w, out, 1.0f, pre, out);
    if (act.kind != NN_ACT_LINEAR || y != pre) nn__act_forward(act, y, pre, (size_t)(batch * out));
}

void nn__dense_backward_raw(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                            const float *pre, const float *y, nn_activation act, float *dy, float *dw, float *db,
                            float *dx, nn__sparse_rows *xs)
{
    size_t n = (size_t)(batch * out);
    if (act.kind != NN_ACT_LINEAR) nn__act_backward(act, dy, dy, pre, y, n);
    /* dW = x^T dpre (unless dw is NULL: the caller fuses it with the update); db = column sums of
     * dpre; dx = dpre W^T. */
    if (dw && xs)
        nn__dense_weight_grad_sparse(xs, out, dy, dw);
    else if (dw)
        nn__gemm(1, 0, in, out, batch, 1.0f, x, in, dy, out, 0.0f, dw, out);
    memset(db, 0, (size_t)out * sizeof(float));
    for (int64_t r = 0; r < batch; r++) {
        const float *row = dy + r * out;
        for (int64_t j = 0; j < out; j++) db[j] += row[j];
    }
    if (dx) nn__gemm(0, 1, batch, in, out, 1.0f, dy, out, w, out, 0.0f, dx, in);
}
