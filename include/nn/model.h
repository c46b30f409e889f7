/**
 * @file model.h
 * @brief A sequential model: build it layer by layer, compile it with a loss and an optimizer, train.
 *
 * @code
 * nn_model *m;
 * nn_model_create(&m, 784);
 * nn_model_add_dense(m, 128, nn_activation_make(NN_ACT_RELU));
 * nn_model_add_dense(m, 10, nn_activation_make(NN_ACT_LINEAR));   // logits
 * nn_optimizer *opt;
 * nn_optimizer_create_adam(&opt, NULL);
 * nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt);       // m now owns opt
 * nn_model_init(m, rng);                                         // Glorot-uniform weights
 * nn_model_reserve(m, 32);                                       // workspace for batches of 32
 * for (...) nn_model_train_step(m, &x, &y, &loss, NULL);
 * nn_model_free(m);
 * @endcode
 *
 * Training mode and inference mode: nn_model_train_step() runs the layers in training mode (dropout
 * draws masks, batch norm uses and updates batch statistics); nn_model_forward(), nn_model_predict(),
 * nn_model_predict_classes() and nn_model_evaluate() in inference mode.
 *
 * Parameters live in one contiguous buffer (layer by layer, weights then bias, row-major), gradients
 * in another of the same layout, so the optimizer updates both in one pass. Once
 * nn_model_reserve() has sized the workspace, training and evaluation on batches no larger than that
 * allocate nothing.
 *
 * Floating point: during nn_model_train_step() libnn enables flush-to-zero and denormals-are-zero on
 * x86 (subnormal optimizer state is otherwise the main cost of Adam and RMSprop) and restores the
 * caller's floating-point control word before returning.
 *
 * Threads: one model, one thread at a time. Different models may train in parallel threads.
 */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "activation.h"
#include "data.h"
#include "export.h"
#include "layer.h"
#include "loss.h"
#include "optimizer.h"
#include "rng.h"
#include "status.h"
#include "tensor.h"

NN_BEGIN_DECLS

/** Opaque sequential model. */
typedef struct nn_model nn_model;

/** Hard limit on the number of layers of a model (also the file format's). */
#define NN_MODEL_MAX_LAYERS 64

/**
 * @brief Create an empty model whose examples have @p input_features values.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_model_create(nn_model **out, int64_t input_features);

/**
 * @brief Create an empty model whose examples have the shape @p shape of rank @p rank: (features),
 *        (length, channels) or (height, width, channels), channels last. An MNIST image is
 *        `{28, 28, 1}`. Inputs may then be given as (B, 28, 28, 1) or flat as (B, 784): the memory
 *        is the same.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (rank outside 1..3, an extent below 1, more than 2^31 - 1
 *         values), NN_ERR_NO_MEMORY.
 * @since 0.2
 */
NN_API nn_status nn_model_create_shape(nn_model **out, int rank, const int64_t *shape);

/** @brief Release a model, its layers, workspace and optimizer; NULL is a no-op. @since 0.1 */
NN_API void nn_model_free(nn_model *m);

/**
 * @brief Append a dense layer of @p units outputs with a fused activation (linear for none).
 * Only before nn_model_compile().
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_STATE (already compiled), NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_model_add_dense(nn_model *m, int64_t units, nn_activation act);

/** @brief As nn_model_add_dense(), with initialiser options (NULL: defaults). @since 0.1 */
NN_API nn_status nn_model_add_dense_ex(nn_model *m, int64_t units, nn_activation act,
                                       const nn_dense_options *opts);

/** @brief Append a stand-alone activation layer. @since 0.1 */
NN_API nn_status nn_model_add_activation(nn_model *m, nn_activation act);

/**
 * @brief Append inverted dropout: in training each value is zeroed with probability @p rate and the
 *        rest scaled by 1 / (1 - rate); in inference (forward, predict, evaluate) the identity.
 *        Masks are drawn from the model's training generator (nn_model_rng()).
 * @param rate  in [0, 1); 0 changes nothing
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_STATE (already compiled).
 * @since 0.2
 */
NN_API nn_status nn_model_add_dropout(nn_model *m, float rate);

/**
 * @brief Append batch normalization over the last axis (per feature after a dense layer, per channel
 *        on images), with trainable gamma and beta and moving statistics used in inference.
 * @param opts  NULL for Keras' defaults (momentum 0.99, epsilon 1e-3)
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_STATE (already compiled).
 * @since 0.2
 */
NN_API nn_status nn_model_add_batchnorm(nn_model *m, const nn_batchnorm_options *opts);

/**
 * @brief Append a flatten layer: (height, width, channels) to one feature axis, in memory order.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_STATE (already compiled).
 * @since 0.2
 */
NN_API nn_status nn_model_add_flatten(nn_model *m);

/**
 * @brief Append a 2-D convolution of @p filters filters over (height, width, channels) inputs, with
 *        a fused activation (linear for none). The kernel is (kh, kw, channels, filters), as Keras'.
 * @param opts  NULL for a 3 x 3 kernel, stride 1, valid padding, bias (see ::nn_conv2d_options)
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_SHAPE (input not rank 3, window larger than the
 *         padded image), NN_ERR_STATE (already compiled).
 * @since 0.2
 */
NN_API nn_status nn_model_add_conv2d(nn_model *m, int64_t filters, nn_activation act,
                                     const nn_conv2d_options *opts);

/**
 * @brief Append max pooling (per channel) over (height, width, channels) inputs.
 * @param opts  NULL for 2 x 2 windows with stride 2 (see ::nn_pool2d_options)
 * @since 0.2
 */
NN_API nn_status nn_model_add_maxpool2d(nn_model *m, const nn_pool2d_options *opts);

/** @brief Append average pooling, as nn_model_add_maxpool2d(). @since 0.2 */
NN_API nn_status nn_model_add_avgpool2d(nn_model *m, const nn_pool2d_options *opts);

/** @brief Append a global average pool: (height, width, channels) to (channels). @since 0.2 */
NN_API nn_status nn_model_add_global_avgpool2d(nn_model *m);

/**
 * @brief Fix the architecture, allocate the parameters (zero) and attach a loss and an optimizer.
 * @param opt  NULL for a model used only for inference; otherwise, on success, the model owns it
 *             (it is set up for the model's parameter count and freed with the model, and
 *             nn_optimizer_free() on it does nothing). On failure the caller still owns it.
 *             An optimizer serves one model: one that already belongs to a model is refused.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (also: @p opt belongs to a model), NN_ERR_STATE (no
 *         layers, or compiled twice), NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_model_compile(nn_model *m, nn_loss_kind loss, nn_optimizer *opt);

/**
 * @brief Replace the model's optimizer (e.g. after loading a model saved without one). The model
 *        owns @p opt on success and frees the previous one; on failure the caller still owns it.
 *        Passing the model's own optimizer does nothing and succeeds.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (NULL, or @p opt belongs to another model), NN_ERR_STATE
 *         (not compiled), NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_model_set_optimizer(nn_model *m, nn_optimizer *opt);

/** @brief Borrow the model's optimizer; NULL when it has none. @since 0.1 */
NN_API nn_optimizer *nn_model_get_optimizer(nn_model *m);

/** @brief The model's loss. @since 0.1 */
NN_API nn_loss_kind nn_model_get_loss(const nn_model *m);

/**
 * @brief Initialise every layer's parameters with its initialisers, drawing from @p rng.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_STATE (not compiled).
 * @since 0.1
 */
NN_API nn_status nn_model_init(nn_model *m, nn_rng *rng);

/**
 * @brief Size the workspace for batches of up to @p max_batch examples. Training, forward and
 *        evaluation on larger inputs either grow it (train, forward) or work in chunks (evaluate).
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_STATE, NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_model_reserve(nn_model *m, int64_t max_batch);

/**
 * @brief Forward pass: @p out (B, outputs) receives the last layer's outputs (logits for a softmax
 *        cross-entropy model). x is (B, inputs).
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_SHAPE, NN_ERR_STATE, NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_model_forward(nn_model *m, nn_tensor *out, const nn_tensor *x);

/**
 * @brief As nn_model_forward(), then softmax for a softmax cross-entropy model: class
 *        probabilities, rows summing to 1. x may hold any number of rows (worked in chunks).
 * @since 0.1
 */
NN_API nn_status nn_model_predict(nn_model *m, nn_tensor *out, const nn_tensor *x);

/**
 * @brief Predicted class (arg max of the outputs) of each of the B rows of x into @p classes.
 * @since 0.1
 */
NN_API nn_status nn_model_predict_classes(nn_model *m, int32_t *classes, const nn_tensor *x);

/**
 * @brief One training step on a batch: forward, loss, backward, optimizer update.
 * @param x        (B, inputs)
 * @param y        targets, as loss.h describes: (B) class indices or (B, C) for cross-entropy
 * @param[out] loss     NULL, or the batch's mean loss before the update (also set, to the non-finite
 *                      value, when the step is refused with NN_ERR_NUMERIC)
 * @param[out] correct  NULL, or how many rows' arg max matched the target before the update
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_SHAPE, NN_ERR_STATE (not compiled, no optimizer),
 *         NN_ERR_NO_MEMORY (only when B exceeds the reserved batch), NN_ERR_NUMERIC: the loss is NaN or
 *         infinite (a non-finite input or target, or outputs that overflowed: the run has diverged), or
 *         a layer's gradient is non-finite or could overflow. On NN_ERR_NUMERIC, as on every error, the
 *         parameters and the optimizer's state (moments, step count) are exactly as before the call;
 *         only the gradients (nn_model_grads()) may hold partial results. An update that overflows
 *         from finite gradients (a learning rate near FLT_MAX) is not caught until the next step's loss.
 * @since 0.1
 */
NN_API nn_status nn_model_train_step(nn_model *m, const nn_tensor *x, const nn_tensor *y, float *loss,
                                     int64_t *correct);

/**
 * @brief One training step on examples idx[0..n) of a dataset: the same, bit for bit, as
 *        nn_dataset_gather() into a batch followed by nn_model_train_step(), without the float batch
 *        where the model can do without it.
 *
 * A dense first layer on sparse images (MNIST's pixels are 81% zeros) reads the non-zero pixels
 * straight from the dataset's bytes into its compressed rows, so that the batch is neither converted
 * to floats nor scanned for zeros twice; other models gather into a buffer nn_model_reserve() sized.
 * @param ds   a dataset whose examples have the model's input width (nn_dataset_features())
 * @param idx  n example indices, each below nn_dataset_count(ds)
 * @return as nn_model_train_step(); NN_ERR_SHAPE when the widths differ, NN_ERR_INVALID_ARGUMENT for
 *         NULL arguments, n < 1 or an index out of range
 * @since 0.3 (unreleased: in the tree after 0.2.0, with the same SONAME)
 */
NN_API nn_status nn_model_train_step_indexed(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t n,
                                             float *loss, int64_t *correct);

/**
 * @brief Mean loss and accuracy over all N rows of x (worked in chunks of the reserved batch).
 * @param[out] loss, accuracy  either may be NULL. Accuracy compares arg maxes; for MSE models it is
 *             computed the same way. The loss is reported as it comes out, NaN or infinite when the
 *             outputs overflow or x holds non-finite values: a measurement, not an error.
 * @since 0.1
 */
NN_API nn_status nn_model_evaluate(nn_model *m, const nn_tensor *x, const nn_tensor *y, float *loss,
                                   float *accuracy);

/**
 * @brief nn_model_evaluate() on examples of a dataset, read straight from its bytes, and optionally
 *        the predicted class of each, from the same forward pass.
 *
 * The examples are idx[0..n), or the first n when idx is NULL. The loss and accuracy are those of
 * nn_dataset_gather() (or nn_dataset_slice()) into one tensor followed by nn_model_evaluate(), and
 * the classes those of nn_model_predict_classes() on it, without the float copy of the examples: a
 * dense first layer on sparse images compresses them from the bytes, as
 * nn_model_train_step_indexed() does; other models gather one reserved batch at a time.
 * @param idx      n example indices, each below nn_dataset_count(ds), or NULL for examples 0..n-1
 * @param[out] loss, accuracy  either may be NULL, as for nn_model_evaluate()
 * @param[out] classes  NULL, or n entries: the arg max of each example's outputs
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (NULL model or dataset, n < 1, n or an index beyond the
 *         dataset), NN_ERR_SHAPE (widths differ, or class-index targets on a model whose loss needs
 *         one-hot ones), NN_ERR_STATE (not compiled), NN_ERR_NO_MEMORY
 * @since 0.3 (unreleased: in the tree after 0.2.0, with the same SONAME)
 */
NN_API nn_status nn_model_evaluate_indexed(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t n,
                                           float *loss, float *accuracy, int32_t *classes);

/** @brief Number of inputs per example (the product of the input shape). @since 0.1 */
NN_API int64_t nn_model_input_features(const nn_model *m);
/**
 * @brief The per-example input shape into @p shape (NN_MAX_EXAMPLE_RANK entries).
 * @return its rank, or 0 for a NULL argument.
 * @since 0.2
 */
NN_API int nn_model_input_shape(const nn_model *m, int64_t shape[NN_MAX_EXAMPLE_RANK]);
/** @brief Number of outputs per example (of the last layer). @since 0.1 */
NN_API int64_t nn_model_output_features(const nn_model *m);
/** @brief Total number of trainable parameters. @since 0.1 */
NN_API int64_t nn_model_param_count(const nn_model *m);
/** @brief Total number of untrained state values (batch norm's moving statistics). @since 0.2 */
NN_API int64_t nn_model_buffer_count(const nn_model *m);
/** @brief Number of layers. @since 0.1 */
NN_API int nn_model_layer_count(const nn_model *m);

/** @brief Describe layer @p i (0 = first); the info's tensors are views into the model. @since 0.1 */
NN_API nn_status nn_model_layer_info(const nn_model *m, int i, nn_layer_info *out);

/**
 * @brief Borrow the flat parameter buffer (or the gradient buffer of the last step).
 * Valid until the model is freed, and only for models whose memory is the CPU's (all of them in this
 * version; a model on another backend would refuse). Writing through it changes the model.
 * nn_model_get_params() / nn_model_set_params() copy instead, and work for every model.
 * The gradients are those of the last step once nn_model_grads() returns: a step may leave some to
 * be computed then (a sparse first dense layer's weight gradient is applied as it is computed and
 * not stored), so call it after each step whose gradients you read, rather than reading through a
 * pointer kept from an earlier call. A step refused after its forward pass leaves them partial.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_STATE (not compiled).
 * @since 0.1
 */
NN_API nn_status nn_model_params(nn_model *m, float **data, size_t *n);
NN_API nn_status nn_model_grads(nn_model *m, float **data, size_t *n);

/**
 * @brief Copy all @p n trainable parameters out of (get) or into (set) a caller array, in the flat
 *        layout nn_model_params() describes. Unlike the borrowed pointers, these work whatever memory
 *        the model lives in, and stay valid for models on other backends.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (NULL, or n is not nn_model_param_count()), NN_ERR_STATE
 *         (not compiled).
 * @since 0.2
 */
NN_API nn_status nn_model_get_params(const nn_model *m, float *dst, size_t n);
NN_API nn_status nn_model_set_params(nn_model *m, const float *src, size_t n);

/** @brief As nn_model_get_params(), for the untrained state (nn_model_buffer_count() values). @since 0.2 */
NN_API nn_status nn_model_get_buffers(const nn_model *m, float *dst, size_t n);
NN_API nn_status nn_model_set_buffers(nn_model *m, const float *src, size_t n);

/**
 * @brief The model's training generator, which draws dropout masks; borrowed, valid until the model
 *        is freed. nn_model_init() seeds it from its own generator's state (without drawing from it);
 *        reseed it here for other masks. Its state is saved with the optimizer state, so a resumed
 *        run draws the masks an uninterrupted run would.
 * @since 0.2
 */
NN_API nn_rng *nn_model_rng(nn_model *m);

/**
 * @brief A Keras-like text summary (layers, output shapes, parameter counts) into @p buf.
 * @param[out] needed  NULL, or the length the full text needs (without the terminating NUL);
 *                     the text is truncated to cap - 1 characters if cap is smaller.
 * @since 0.1
 */
NN_API nn_status nn_model_summary(const nn_model *m, char *buf, size_t cap, size_t *needed);

NN_END_DECLS

#endif /* NN_MODEL_H */
