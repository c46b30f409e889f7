/**
 * @file experimental.h
 * @brief Kernels whose signatures may still change between minor versions.
 *
 * Not part of the stable API: a program that includes this header must expect to be changed when
 * libnn's minor version changes (nn.h does not include it). What is here is the maths of the layers,
 * on caller-owned tensors, without a model: useful for tests and for building other things.
 *
 * Dense shapes: x (B, in), W (in, out), b (out), y (B, out); y = act(x W + b).
 */
#ifndef NN_EXPERIMENTAL_H
#define NN_EXPERIMENTAL_H

#include "activation.h"
#include "export.h"
#include "status.h"
#include "tensor.h"

NN_BEGIN_DECLS

/**
 * @brief Dense forward pass: pre = x W + b, y = act(pre).
 * @param[out] y    (B, out)
 * @param[out] pre  NULL, or (B, out) receiving the pre-activation values (needed by backward)
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_SHAPE (with the offending sizes in the message).
 * @since 0.1
 */
NN_API nn_status nn_dense_forward(nn_tensor *y, nn_tensor *pre, const nn_tensor *x, const nn_tensor *w,
                                  const nn_tensor *b, nn_activation act);

/**
 * @brief Dense backward pass, from d loss / d y.
 * @param[out] dx  NULL (not needed, e.g. first layer), or (B, in)
 * @param[out] dw  (in, out), overwritten with d loss / d W
 * @param[out] db  (out), overwritten with d loss / d b
 * @param dy       (B, out) d loss / d y
 * @param x, w     the forward inputs; pre and y the forward results
 * @param scratch  (B, out) workspace; may alias @p dy, which is then overwritten
 * @since 0.1
 */
NN_API nn_status nn_dense_backward(nn_tensor *dx, nn_tensor *dw, nn_tensor *db, const nn_tensor *dy,
                                   const nn_tensor *x, const nn_tensor *w, const nn_tensor *pre,
                                   const nn_tensor *y, nn_activation act, nn_tensor *scratch);

NN_END_DECLS

#endif /* NN_EXPERIMENTAL_H */
