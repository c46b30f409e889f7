/**
 * @file layer.h
 * @brief Layer kinds, their description, and the dense layer's kernels.
 *
 * Layers live inside an ::nn_model (see model.h), which owns their parameters in one contiguous
 * buffer. This header describes them (nn_layer_info) and exposes the stateless dense kernels, which
 * are useful on their own and are what the gradient checks test.
 *
 * Shapes: x (B, in), W (in, out), b (out), y (B, out); y = act(x W + b).
 */
#ifndef NN_LAYER_H
#define NN_LAYER_H

#include <stdint.h>

#include "activation.h"
#include "export.h"
#include "init.h"
#include "status.h"
#include "tensor.h"

NN_BEGIN_DECLS

/** Layer kinds; values are stable (they are stored in model files) and only appended. */
typedef enum nn_layer_kind {
    NN_LAYER_DENSE = 0,       /**< fully connected, with an optional fused activation */
    NN_LAYER_ACTIVATION = 1,  /**< a stand-alone element-wise activation */
    NN_LAYER_DROPOUT = 2,     /**< reserved */
    NN_LAYER_BATCHNORM = 3,   /**< reserved */
    NN_LAYER_CONV2D = 4,      /**< reserved */
    NN_LAYER_MAXPOOL2D = 5,   /**< reserved */
    NN_LAYER_FLATTEN = 6      /**< reserved */
} nn_layer_kind;

/** @brief Stable lowercase name of a layer kind ("dense"); NULL if unknown. @since 0.1 */
NN_API const char *nn_layer_kind_name(nn_layer_kind kind);

/** Options of a dense layer. Defaults (nn_dense_default()): Glorot-uniform weights, zero biases. */
typedef struct nn_dense_options {
    unsigned version;   /**< NN_OPTIONS_VERSION (see optimizer.h); set by nn_dense_default() */
    nn_init weight_init;
    nn_init bias_init;
} nn_dense_options;

/** @brief Default dense options, as Keras. @since 0.1 */
NN_API nn_dense_options nn_dense_default(void);

/** What a model says about one of its layers. The tensors are borrowed views into the model. */
typedef struct nn_layer_info {
    nn_layer_kind kind;
    nn_activation activation; /**< the fused (dense) or stand-alone activation */
    int64_t in_features;      /**< per-example input size */
    int64_t out_features;     /**< per-example output size */
    int64_t param_count;
    nn_tensor weights;        /**< dense: (in, out); rank 0 with data NULL when the layer has none */
    nn_tensor bias;           /**< dense: (out); rank 0 with data NULL when the layer has none */
} nn_layer_info;

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

#endif /* NN_LAYER_H */
