/**
 * @file layer.h
 * @brief Layer kinds, their description, and the dense layer's kernels.
 *
 * Layers live inside an ::nn_model (see model.h), which owns their parameters in one contiguous
 * buffer. This header names the kinds, holds their options, and describes a layer (nn_layer_info).
 * The stand-alone dense kernels are in nn/experimental.h.
 *
 * Per-example shapes have rank 1 to 3; images are (height, width, channels), channels last, as
 * Keras: see docs/design.md for why.
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
    NN_LAYER_DROPOUT = 2,     /**< inverted dropout; the identity in inference @since 0.2 */
    NN_LAYER_BATCHNORM = 3,   /**< batch normalization over the last axis @since 0.2 */
    NN_LAYER_CONV2D = 4,      /**< 2-D convolution over (height, width, channels) images @since 0.2 */
    NN_LAYER_MAXPOOL2D = 5,   /**< max pooling @since 0.2 */
    NN_LAYER_FLATTEN = 6,     /**< (height, width, channels) to one axis @since 0.2 */
    NN_LAYER_AVGPOOL2D = 7,   /**< average pooling @since 0.2 */
    NN_LAYER_GLOBAL_AVGPOOL2D = 8 /**< average over height and width: (h, w, c) to (c) @since 0.2 */
} nn_layer_kind;

/** @brief Stable lowercase name of a layer kind ("dense"); NULL if this version has no such kind. @since 0.1 */
NN_API const char *nn_layer_kind_name(nn_layer_kind kind);

/** Version of ::nn_dense_options this header describes. */
#define NN_DENSE_OPTIONS_VERSION 1

/** Options of a dense layer. Defaults: Glorot-uniform weights, zero biases, as Keras. */
typedef struct nn_dense_options {
    unsigned version;   /**< NN_DENSE_OPTIONS_VERSION: set by NN_DENSE_OPTIONS_INIT */
    nn_init weight_init;
    nn_init bias_init;
} nn_dense_options;

/** Initialiser of ::nn_dense_options with the defaults: `nn_dense_options o = NN_DENSE_OPTIONS_INIT;` */
#define NN_DENSE_OPTIONS_INIT {NN_DENSE_OPTIONS_VERSION, NN_INIT_GLOROT_UNIFORM, NN_INIT_ZEROS}

/**
 * @brief Fill @p opts with the defaults of options version @p version (for callers that cannot use
 *        the macro, e.g. bindings from other languages).
 * @return NN_OK, or NN_ERR_INVALID_ARGUMENT for NULL or a version this library does not know.
 * @since 0.2
 */
NN_API nn_status nn_dense_options_init(nn_dense_options *opts, unsigned version);

/** Version of ::nn_batchnorm_options this header describes. */
#define NN_BATCHNORM_OPTIONS_VERSION 1

/** Options of a batch-normalization layer; defaults as Keras (momentum 0.99, epsilon 1e-3). */
typedef struct nn_batchnorm_options {
    unsigned version; /**< NN_BATCHNORM_OPTIONS_VERSION */
    float momentum;   /**< moving = moving * momentum + batch * (1 - momentum); 0 to 1 */
    float epsilon;    /**< added to the variance before the square root; positive */
} nn_batchnorm_options;

/** Initialiser of ::nn_batchnorm_options with the defaults. */
#define NN_BATCHNORM_OPTIONS_INIT {NN_BATCHNORM_OPTIONS_VERSION, 0.99f, 1e-3f}

/** @brief As nn_dense_options_init(), for ::nn_batchnorm_options. @since 0.2 */
NN_API nn_status nn_batchnorm_options_init(nn_batchnorm_options *opts, unsigned version);

/** How a window (convolution or pooling) treats the image border. */
typedef enum nn_padding {
    NN_PADDING_VALID = 0,   /**< no padding: windows lie inside the image */
    NN_PADDING_SAME = 1,    /**< zeros around the image so that out = ceil(in / stride), extra on the
                                 bottom and right when odd (TensorFlow's rule, which Keras uses) */
    NN_PADDING_EXPLICIT = 2 /**< the pad_* fields, each smaller than the window */
} nn_padding;

/** Version of ::nn_conv2d_options this header describes. */
#define NN_CONV2D_OPTIONS_VERSION 1

/** Options of a 2-D convolution. Defaults: 3 x 3 kernel, stride 1, valid padding, a bias,
 *  Glorot-uniform kernel and zero bias (Keras' Conv2D). */
typedef struct nn_conv2d_options {
    unsigned version;       /**< NN_CONV2D_OPTIONS_VERSION */
    int kernel_h, kernel_w; /**< window, 1 to 64 */
    int stride_h, stride_w; /**< 1 to 64 */
    nn_padding padding;
    int pad_top, pad_bottom, pad_left, pad_right; /**< with NN_PADDING_EXPLICIT */
    int use_bias;           /**< non-zero: add a bias per filter */
    nn_init weight_init;
    nn_init bias_init;
} nn_conv2d_options;

/** Initialiser of ::nn_conv2d_options with the defaults. */
#define NN_CONV2D_OPTIONS_INIT                                                                     \
    {NN_CONV2D_OPTIONS_VERSION, 3, 3, 1, 1, NN_PADDING_VALID, 0, 0, 0, 0, 1, NN_INIT_GLOROT_UNIFORM, NN_INIT_ZEROS}

/** @brief As nn_dense_options_init(), for ::nn_conv2d_options. @since 0.2 */
NN_API nn_status nn_conv2d_options_init(nn_conv2d_options *opts, unsigned version);

/** Version of ::nn_pool2d_options this header describes. */
#define NN_POOL2D_OPTIONS_VERSION 1

/** Options of max and average pooling. Defaults: 2 x 2 windows, stride equal to the window, valid
 *  padding (Keras' MaxPooling2D). Padding never wins a maximum, and an average counts only the pixels
 *  inside the image. */
typedef struct nn_pool2d_options {
    unsigned version;       /**< NN_POOL2D_OPTIONS_VERSION */
    int pool_h, pool_w;     /**< window, 1 to 64 */
    int stride_h, stride_w; /**< 0: the window's size */
    nn_padding padding;
    int pad_top, pad_bottom, pad_left, pad_right; /**< with NN_PADDING_EXPLICIT */
} nn_pool2d_options;

/** Initialiser of ::nn_pool2d_options with the defaults. */
#define NN_POOL2D_OPTIONS_INIT {NN_POOL2D_OPTIONS_VERSION, 2, 2, 0, 0, NN_PADDING_VALID, 0, 0, 0, 0}

/** @brief As nn_dense_options_init(), for ::nn_pool2d_options. @since 0.2 */
NN_API nn_status nn_pool2d_options_init(nn_pool2d_options *opts, unsigned version);

/** Largest rank of a per-example shape: (features), (length, channels) or (height, width, channels). */
#define NN_MAX_EXAMPLE_RANK 3

/**
 * What a model says about one of its layers. The caller sets @c size (NN_LAYER_INFO_INIT does), so
 * that a later library with more fields writes only what the caller's struct holds.
 */
typedef struct nn_layer_info {
    size_t size;              /**< sizeof(nn_layer_info) as the caller was compiled */
    nn_layer_kind kind;
    nn_activation activation; /**< the fused (dense) or stand-alone activation; linear otherwise */
    int64_t in_features;      /**< per-example input elements */
    int64_t out_features;     /**< per-example output elements */
    int64_t param_count;      /**< trainable parameters */
    int64_t buffer_count;     /**< untrained state, e.g. batch norm's moving statistics */
    int in_rank;              /**< per-example input shape */
    int64_t in_shape[NN_MAX_EXAMPLE_RANK];
    int out_rank;             /**< per-example output shape */
    int64_t out_shape[NN_MAX_EXAMPLE_RANK];
    /** The first two trainable tensors (dense: kernel (in, out) and bias (out); batch norm: gamma and
     *  beta), as borrowed views into a compiled model's memory, valid until the model is freed, and
     *  only for models on the CPU; rank 0 with data NULL when absent. Files and uncompiled models
     *  give the shapes with data NULL. */
    nn_tensor weights;
    nn_tensor bias;
} nn_layer_info;

/** Initialiser of ::nn_layer_info: `nn_layer_info li = NN_LAYER_INFO_INIT;` */
#ifdef __cplusplus
#define NN_LAYER_INFO_INIT                                                                         \
    {sizeof(nn_layer_info), NN_LAYER_DENSE, {NN_ACT_LINEAR, 0.0f}, 0, 0, 0, 0, 0, {0, 0, 0}, 0, {0, 0, 0}, \
     {0, 0, {0, 0, 0, 0}, 0}, {0, 0, {0, 0, 0, 0}, 0}}
#else
#define NN_LAYER_INFO_INIT {.size = sizeof(nn_layer_info)}
#endif

NN_END_DECLS

#endif /* NN_LAYER_H */
