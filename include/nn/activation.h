/**
 * @file activation.h
 * @brief Element-wise activation functions and their derivatives, looked up by stable names.
 *
 * | name         | f(x)                                                    | parameter          |
 * |--------------|---------------------------------------------------------|--------------------|
 * | linear       | x                                                       |                    |
 * | relu         | max(0, x)                                               |                    |
 * | sigmoid      | 1 / (1 + exp(-x))                                       |                    |
 * | tanh         | tanh(x)                                                 |                    |
 * | leaky_relu   | x if x > 0 else alpha x                                 | alpha = 0.2 (Keras 3) |
 * | elu          | x if x > 0 else alpha (exp(x) - 1)                      | alpha = 1.0        |
 * | gelu         | x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), the exact erf form |                 |
 * | silu (swish) | x sigmoid(x)                                            |                    |
 * | softplus     | log(1 + exp(x)), computed without overflow              |                    |
 * | selu         | scale (x if x > 0 else alpha (exp(x) - 1)), Klambauer et al. 2017 constants | |
 * | gelu_tanh    | 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), PyTorch approximate='tanh' | |
 *
 * The derivative of relu at exactly 0 is taken as 0, as in Keras and PyTorch.
 * Softmax is not an element-wise activation: the softmax cross-entropy loss applies it (see loss.h).
 */
#ifndef NN_ACTIVATION_H
#define NN_ACTIVATION_H

#include <stddef.h>

#include "export.h"
#include "status.h"

NN_BEGIN_DECLS

/** Activation kinds; values are stable (they are stored in model files) and only appended. */
typedef enum nn_activation_kind {
    NN_ACT_LINEAR = 0,
    NN_ACT_RELU = 1,
    NN_ACT_SIGMOID = 2,
    NN_ACT_TANH = 3,
    NN_ACT_LEAKY_RELU = 4,
    NN_ACT_ELU = 5,
    NN_ACT_GELU = 6,
    NN_ACT_SILU = 7,
    NN_ACT_SOFTPLUS = 8,
    NN_ACT_SELU = 9,
    NN_ACT_GELU_TANH = 10 /**< gelu's tanh approximation @since 0.2 */
} nn_activation_kind;

/** Number of activation kinds in this version. */
#define NN_ACT_COUNT 11

/** An activation: its kind and its parameter (alpha for leaky_relu and elu; unused otherwise). */
typedef struct nn_activation {
    nn_activation_kind kind;
    float alpha;
} nn_activation;

/** @brief The activation @p kind with its default parameter. @since 0.1 */
NN_API nn_activation nn_activation_make(nn_activation_kind kind);

/**
 * @brief Look an activation up by name, with its default parameter.
 *
 * Accepts the names in the table above ("swish" is an alias of "silu"), and an explicit parameter
 * after a colon for leaky_relu and elu ("leaky_relu:0.1", "elu:0.5").
 * @return NN_OK, or NN_ERR_INVALID_ARGUMENT with a message listing the accepted names.
 * @since 0.1
 */
NN_API nn_status nn_activation_from_name(nn_activation *out, const char *name);

/** @brief Stable lowercase name of a kind ("relu"); NULL for an unknown kind. @since 0.1 */
NN_API const char *nn_activation_name(nn_activation_kind kind);

/**
 * @brief out[i] = f(in[i]) for i < n. @p out may equal @p in.
 * @return NN_OK or NN_ERR_INVALID_ARGUMENT.
 * @since 0.1
 */
NN_API nn_status nn_activation_forward(nn_activation act, float *out, const float *in, size_t n);

/**
 * @brief Back-propagate through the activation: grad_in[i] = grad_out[i] * f'(in[i]).
 * @param in   the pre-activation values given to the forward pass
 * @param out  the forward results f(in); used where the derivative is cheaper from them
 * @p grad_in may equal @p grad_out.
 * @return NN_OK or NN_ERR_INVALID_ARGUMENT.
 * @since 0.1
 */
NN_API nn_status nn_activation_backward(nn_activation act, float *grad_in, const float *grad_out,
                                        const float *in, const float *out, size_t n);

NN_END_DECLS

#endif /* NN_ACTIVATION_H */
