/**
 * @file loss.h
 * @brief Loss functions: fused, numerically stable softmax cross-entropy, and mean squared error.
 *
 * Targets are float tensors. For softmax cross-entropy they are either class indices, shape (B),
 * holding whole numbers in [0, C) (Keras' sparse_categorical_crossentropy), or a probability
 * distribution per row, shape (B, C) (categorical_crossentropy). For mean squared error they have
 * the prediction's shape. Losses are means over the batch; gradients are of that mean.
 */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include "export.h"
#include "status.h"
#include "tensor.h"

NN_BEGIN_DECLS

/** Loss kinds; values are stable (they are stored in model files). */
typedef enum nn_loss_kind {
    NN_LOSS_SOFTMAX_CROSS_ENTROPY = 0, /**< softmax over the last axis, then cross-entropy */
    NN_LOSS_MSE = 1                    /**< mean over all elements of (pred - target)^2 */
} nn_loss_kind;

/** @brief Stable lowercase name ("softmax_cross_entropy", "mse"); NULL if unknown. @since 0.1 */
NN_API const char *nn_loss_name(nn_loss_kind kind);

/** @brief Look a loss up by name. @return NN_OK or NN_ERR_INVALID_ARGUMENT. @since 0.1 */
NN_API nn_status nn_loss_from_name(nn_loss_kind *out, const char *name);

/**
 * @brief Softmax cross-entropy of logits (B, C) against targets, with log-sum-exp so that logits
 *        of +-1e4 give finite results.
 * @param[out] loss  mean loss over the B rows
 * @param[out] grad  NULL, or a (B, C) tensor receiving d loss / d logits = (softmax - target) / B
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (NULL, label out of range or not whole), NN_ERR_SHAPE.
 * @since 0.1
 */
NN_API nn_status nn_loss_softmax_cross_entropy(float *loss, nn_tensor *grad, const nn_tensor *logits,
                                               const nn_tensor *target);

/**
 * @brief Mean squared error over all elements.
 * @param[out] grad  NULL, or a tensor of pred's shape receiving d loss / d pred = 2 (pred - target) / N
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT or NN_ERR_SHAPE.
 * @since 0.1
 */
NN_API nn_status nn_loss_mse(float *loss, nn_tensor *grad, const nn_tensor *pred, const nn_tensor *target);

/**
 * @brief Loss of kind @p kind: dispatches to the functions above.
 * @since 0.1
 */
NN_API nn_status nn_loss_compute(nn_loss_kind kind, float *loss, nn_tensor *grad, const nn_tensor *pred,
                                 const nn_tensor *target);

/**
 * @brief Row-wise softmax of (B, C) logits into probabilities; @p out may equal @p logits.
 * @since 0.1
 */
NN_API nn_status nn_softmax(nn_tensor *out, const nn_tensor *logits);

NN_END_DECLS

#endif /* NN_LOSS_H */
