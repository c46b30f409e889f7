/* Activations: names, defaults and the checked public entry points; the kernels are in
 * libnn/cpu/activation.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"

/* Default parameters: leaky_relu as Keras 3; elu as Clevert et al. 2016. */
#define LEAKY_RELU_ALPHA 0.2f
#define ELU_ALPHA        1.0f

/* ---- names and parameters */

static const char *const act_names[NN_ACT_COUNT] = {
    "linear", "relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "silu", "softplus", "selu",
    "gelu_tanh",
};

#define ACCEPTED_NAMES                                                                                       \
    "linear, relu, sigmoid, tanh, leaky_relu[:alpha], elu[:alpha], gelu, gelu_tanh, silu, swish, softplus, selu"

static int has_alpha(nn_activation_kind kind) { return kind == NN_ACT_LEAKY_RELU || kind == NN_ACT_ELU; }

nn_activation nn_activation_make(nn_activation_kind kind)
{
    nn_activation a = {kind, 0.0f};
    if (kind == NN_ACT_LEAKY_RELU) a.alpha = LEAKY_RELU_ALPHA;
    if (kind == NN_ACT_ELU) a.alpha = ELU_ALPHA;
    return a;
}

const char *nn_activation_name(nn_activation_kind kind)
{
    return (int)kind >= 0 && (int)kind < NN_ACT_COUNT ? act_names[kind] : NULL;
}

nn_status nn_activation_from_name(nn_activation *out, const char *name)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_activation_from_name: out is NULL");
    if (!name) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_activation_from_name: name is NULL");
    const char *colon = strchr(name, ':');
    size_t len = colon ? (size_t)(colon - name) : strlen(name);

    int kind = -1;
    if (len == 5 && strncmp(name, "swish", 5) == 0) kind = NN_ACT_SILU;
    for (int i = 0; i < NN_ACT_COUNT && kind < 0; i++)
        if (strlen(act_names[i]) == len && strncmp(name, act_names[i], len) == 0) kind = i;
    if (kind < 0)
        return nn__fail(NN_ERR_INVALID_ARGUMENT,
                        "unknown activation \"%.64s\" (accepted: " ACCEPTED_NAMES ")", name);

    nn_activation act = nn_activation_make((nn_activation_kind)kind);
    if (colon) {
        if (!has_alpha(act.kind))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "activation \"%.64s\": %s takes no parameter", name,
                            act_names[kind]);
        char *end;
        float alpha = strtof(colon + 1, &end);
        if (end == colon + 1 || *end != '\0' || !isfinite(alpha) || alpha < 0.0f)
            return nn__fail(NN_ERR_INVALID_ARGUMENT,
                            "activation \"%.64s\": alpha must be a finite number >= 0", name);
        act.alpha = alpha;
    }
    *out = act;
    return NN_OK;
}

/* Common checks of forward and backward; `who` names the caller in the message. */
static nn_status check_act(const char *who, nn_activation act)
{
    if (!nn_activation_name(act.kind))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: unknown activation kind %d", who, (int)act.kind);
    if (has_alpha(act.kind) && !(isfinite(act.alpha) && act.alpha >= 0.0f))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s alpha is %g, must be finite and >= 0", who,
                        act_names[act.kind], (double)act.alpha);
    return NN_OK;
}

nn_status nn_activation_forward(nn_activation act, float *out, const float *in, size_t n)
{
    nn_status st = check_act("nn_activation_forward", act);
    if (st != NN_OK) return st;
    if (n == 0) return NN_OK;
    if (!out || !in)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_activation_forward: %s is NULL", !out ? "out" : "in");

    nn__act_forward(act, out, in, n);
    return NN_OK;
}

nn_status nn_activation_backward(nn_activation act, float *grad_in, const float *grad_out, const float *in,
                                 const float *out, size_t n)
{
    nn_status st = check_act("nn_activation_backward", act);
    if (st != NN_OK) return st;
    if (n == 0) return NN_OK;
    /* All four are required whatever the kind, so a caller's mistake shows with every activation. */
    const char *missing = !grad_in ? "grad_in" : !grad_out ? "grad_out" : !in ? "in" : !out ? "out" : NULL;
    if (missing) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_activation_backward: %s is NULL", missing);

    nn__act_backward(act, grad_in, grad_out, in, out, n);
    return NN_OK;
}
