/**
 * @file onnx.h
 * @brief Models that travel: export to and import from ONNX (docs/onnx.md).
 *
 * A libnn model exports as an ONNX model of opset 13 (read by ONNX Runtime, OpenCV's dnn module,
 * onnx.checker), laid out as PyTorch lays its models out: images channels first. An ONNX model
 * written by PyTorch (torch.onnx.export) or by libnn imports as a libnn model, when it is a chain of
 * the operators libnn has layers for; anything else is refused with the node's name and operator.
 *
 * @code
 * nn_onnx_options o = NN_ONNX_OPTIONS_INIT;
 * o.softmax = 1;                                      // the graph ends in probabilities
 * if (nn_model_save_onnx(model, "mnist.onnx", &o) != NN_OK) puts(nn_last_error());
 * nn_model *m;
 * if (nn_model_load_onnx(&m, "from_pytorch.onnx", NULL) != NN_OK) puts(nn_last_error());
 * @endcode
 *
 * Names and shapes of an exported graph: one input "input", float32, (N, features) for a model on
 * flat inputs and (N, channels, height, width) for a model on images; one output, (N, outputs),
 * named "logits" (a softmax cross-entropy model), "probabilities" (the same with
 * nn_onnx_options.softmax) or "output" (an MSE model). N is symbolic. Weights are initializers named
 * after the layer and tensor ("l0_dense.kernel"); the model's properties and the caller's metadata
 * are metadata_props.
 *
 * Layouts: libnn's images are channels last (height, width, channels), ONNX's channels first. An
 * image of one channel (MNIST) has the same bytes either way; for more channels, the imported model
 * takes its inputs channels last, as every libnn model does. Convolution kernels are converted in
 * both directions, and a flatten of channels-first images is handled exactly (docs/onnx.md).
 *
 * Built without ONNX support (meson -Donnx=disabled, or protobuf-c not found), every function here
 * but nn_onnx_options_init() returns NN_ERR_UNSUPPORTED, so that programs link either way;
 * nn_onnx_available() tells which.
 */
#ifndef NN_ONNX_H
#define NN_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "model.h"
#include "status.h"

NN_BEGIN_DECLS

/** The ONNX operator set (default domain) that exports declare. */
#define NN_ONNX_OPSET 13
/** Oldest and newest default-domain opsets an import accepts. */
#define NN_ONNX_OPSET_MIN 9
#define NN_ONNX_OPSET_MAX 21

/** Hard limits of an import: file bytes (protobuf's own limit), graph nodes, initializers. */
#define NN_ONNX_MAX_BYTES ((int64_t)0x7fffffff)
#define NN_ONNX_MAX_NODES 4096
#define NN_ONNX_MAX_INITIALIZERS 4096

/** nn_onnx_options.loss: decide from the file (see nn_model_load_onnx()). */
#define NN_ONNX_LOSS_AUTO (-1)

/** Version of ::nn_onnx_options this header describes. */
#define NN_ONNX_OPTIONS_VERSION 1

/** How to export or import. Defaults: NN_ONNX_OPTIONS_INIT. */
typedef struct nn_onnx_options {
    unsigned version;              /**< NN_ONNX_OPTIONS_VERSION */
    int opset;                     /**< export: 0 or NN_ONNX_OPSET (the only one written) */
    int softmax;                   /**< export: non-zero appends Softmax to a softmax cross-entropy model */
    const char *const *meta_keys;  /**< export: meta_count extra metadata_props (keys unique, not "libnn.*") */
    const char *const *meta_values;
    size_t meta_count;
    int loss;                      /**< import: an ::nn_loss_kind, or NN_ONNX_LOSS_AUTO */
} nn_onnx_options;

/** Defaults: opset 13, logits out, no extra metadata; the loss on import from the file. */
#define NN_ONNX_OPTIONS_INIT {NN_ONNX_OPTIONS_VERSION, 0, 0, NULL, NULL, 0, NN_ONNX_LOSS_AUTO}

/** @brief Fill @p opts with the defaults of options version @p version. @since 0.2 */
NN_API nn_status nn_onnx_options_init(nn_onnx_options *opts, unsigned version);

/** @brief Non-zero when this build of libnn reads and writes ONNX. @since 0.2 */
NN_API int nn_onnx_available(void);

/**
 * @brief Write a compiled model to @p path as an ONNX model (opset 13), atomically as nn_model_save().
 *
 * Every layer kind exports: dense (Gemm), activations (Relu, Sigmoid, Tanh, LeakyRelu, Elu, Selu,
 * Softplus; gelu as x * 0.5 * (1 + Erf(x / sqrt 2)), gelu_tanh as its tanh formula and silu as
 * x * Sigmoid(x), in primitive operators), dropout (Dropout, the identity in inference), batch norm
 * (BatchNormalization), conv2d (Conv), max and average pooling (MaxPool, AveragePool with
 * count_include_pad 0), global average pooling (GlobalAveragePool, Flatten) and flatten (Flatten,
 * after a Transpose back to channels last when the input has several channels and pixels, so that the
 * next layer's weights keep libnn's order). metadata_props hold "libnn.version", "libnn.loss" and
 * "libnn.input_shape" (libnn's own, channels last), then the caller's entries.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (NULL, a bad option or metadata key), NN_ERR_STATE (not
 *         compiled), NN_ERR_UNSUPPORTED (another opset; an input of shape (length, channels); a
 *         build without ONNX), NN_ERR_NO_MEMORY, NN_ERR_IO.
 * @since 0.2
 */
NN_API nn_status nn_model_save_onnx(const nn_model *m, const char *path, const nn_onnx_options *opts);

/** @brief As nn_model_save_onnx(), into a new buffer the caller frees with nn_buffer_free(). @since 0.2 */
NN_API nn_status nn_model_save_onnx_buffer(const nn_model *m, void **out, size_t *size, const nn_onnx_options *opts);

/**
 * @brief Read an ONNX model as a compiled libnn model (no optimizer: set one with
 *        nn_model_set_optimizer() to train it further).
 *
 * The graph must be a chain from its one float input, (N, features) or (N, channels, height, width)
 * (or channels last followed by a Transpose to channels first), to its one output, of: Gemm, MatMul
 * (with an Add of its bias), Conv, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization,
 * Dropout, Flatten or Reshape to 2-D, Transpose between the two image layouts, Identity, Relu,
 * Sigmoid, Tanh, LeakyRelu, Elu, Selu, Softplus, an element-wise subgraph that computes one of
 * libnn's activations (gelu, gelu_tanh and silu as PyTorch and libnn write them), and a final
 * Softmax, which is dropped: libnn's softmax cross-entropy models output logits. Weights come from
 * initializers, Constant nodes or Identity nodes on them. The loss is @p opts->loss, or with
 * NN_ONNX_LOSS_AUTO: softmax cross-entropy after a final Softmax, else the file's "libnn.loss",
 * else softmax cross-entropy.
 *
 * The file is untrusted: nesting depth, node and initializer counts, every tensor's element count
 * and byte length (raw_data or typed data) are checked before use, and the protobuf decoder draws on
 * a bounded memory budget. Weights must be finite.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_IO, NN_ERR_FORMAT (not a well-formed ONNX model:
 *         the message says what), NN_ERR_UNSUPPORTED (a valid model outside the subset: the node's name
 *         and operator; a build without ONNX), NN_ERR_NUMERIC, NN_ERR_NO_MEMORY.
 * @since 0.2
 */
NN_API nn_status nn_model_load_onnx(nn_model **out, const char *path, const nn_onnx_options *opts);

/** @brief As nn_model_load_onnx(), from @p size bytes in memory. @since 0.2 */
NN_API nn_status nn_model_load_onnx_buffer(nn_model **out, const void *data, size_t size,
                                           const nn_onnx_options *opts);

NN_END_DECLS

#endif /* NN_ONNX_H */
