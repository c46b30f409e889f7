/* Test models for the ONNX export and import (see models.h). */
#include <stdlib.h>
#include <string.h>

#include "models.h"

const char *const onnx_test_kinds[] = {"mlp", "cnn", "every", "gap", "mse", NULL};

#define TRY(call)                                                                                                  \
    do {                                                                                                           \
        if ((st = (call)) != NN_OK) return st;                                                                     \
    } while (0)

static nn_activation act(nn_activation_kind k, float alpha)
{
    nn_activation a = nn_activation_make(k);
    if (alpha != 0.0f) a.alpha = alpha;
    return a;
}

static nn_conv2d_options conv(int k, int stride, nn_padding padding)
{
    nn_conv2d_options o = NN_CONV2D_OPTIONS_INIT;
    o.kernel_h = o.kernel_w = k;
    o.stride_h = o.stride_w = stride;
    o.padding = padding;
    return o;
}

static nn_pool2d_options pool(int k, int stride, nn_padding padding)
{
    nn_pool2d_options o = NN_POOL2D_OPTIONS_INIT;
    o.pool_h = o.pool_w = k;
    o.stride_h = o.stride_w = stride;
    o.padding = padding;
    return o;
}

static nn_status layers(nn_model *m, const char *kind)
{
    nn_status st;
    if (!strcmp(kind, "mlp")) {
        TRY(nn_model_add_dense(m, 128, act(NN_ACT_RELU, 0)));
        TRY(nn_model_add_dense(m, 10, act(NN_ACT_LINEAR, 0)));
    } else if (!strcmp(kind, "cnn")) {
        TRY(nn_model_add_conv2d(m, 32, act(NN_ACT_RELU, 0), NULL));
        TRY(nn_model_add_maxpool2d(m, NULL));
        TRY(nn_model_add_conv2d(m, 64, act(NN_ACT_RELU, 0), NULL));
        TRY(nn_model_add_maxpool2d(m, NULL));
        TRY(nn_model_add_flatten(m));
        TRY(nn_model_add_dropout(m, 0.5f));
        TRY(nn_model_add_dense(m, 10, act(NN_ACT_LINEAR, 0)));
    } else if (!strcmp(kind, "every")) {
        nn_conv2d_options c1 = conv(3, 1, NN_PADDING_SAME), c2 = conv(2, 2, NN_PADDING_EXPLICIT);
        c2.pad_top = 1, c2.pad_left = 1, c2.pad_bottom = 0, c2.pad_right = 1;
        nn_pool2d_options p1 = pool(3, 2, NN_PADDING_SAME), p2 = pool(2, 1, NN_PADDING_SAME);
        TRY(nn_model_add_conv2d(m, 4, act(NN_ACT_GELU, 0), &c1));
        TRY(nn_model_add_batchnorm(m, NULL));
        TRY(nn_model_add_avgpool2d(m, &p1)); /* padded: the average counts only the image's pixels */
        TRY(nn_model_add_conv2d(m, 5, act(NN_ACT_SILU, 0), &c2));
        TRY(nn_model_add_maxpool2d(m, &p2));
        TRY(nn_model_add_flatten(m));
        TRY(nn_model_add_dense(m, 16, act(NN_ACT_GELU_TANH, 0)));
        TRY(nn_model_add_batchnorm(m, NULL));
        TRY(nn_model_add_dropout(m, 0.3f));
        TRY(nn_model_add_activation(m, act(NN_ACT_LEAKY_RELU, 0.1f)));
        TRY(nn_model_add_dense(m, 12, act(NN_ACT_ELU, 0.5f)));
        TRY(nn_model_add_activation(m, act(NN_ACT_SELU, 0)));
        TRY(nn_model_add_dense(m, 8, act(NN_ACT_SOFTPLUS, 0)));
        TRY(nn_model_add_activation(m, act(NN_ACT_SIGMOID, 0)));
        TRY(nn_model_add_dense(m, 6, act(NN_ACT_TANH, 0)));
        TRY(nn_model_add_activation(m, act(NN_ACT_RELU, 0)));
        TRY(nn_model_add_dense(m, 5, act(NN_ACT_LINEAR, 0)));
    } else if (!strcmp(kind, "gap")) {
        TRY(nn_model_add_conv2d(m, 3, act(NN_ACT_RELU, 0), NULL));
        TRY(nn_model_add_global_avgpool2d(m));
        TRY(nn_model_add_batchnorm(m, NULL));
        TRY(nn_model_add_dense(m, 4, act(NN_ACT_LINEAR, 0)));
    } else if (!strcmp(kind, "mse")) {
        TRY(nn_model_add_dense(m, 7, act(NN_ACT_TANH, 0)));
        TRY(nn_model_add_dense(m, 3, act(NN_ACT_LINEAR, 0)));
    } else {
        return NN_ERR_INVALID_ARGUMENT;
    }
    return NN_OK;
}

/* Every parameter moved off its initial value, and the moving statistics made non-trivial
 * (variances in [0.5, 1.5]), so that a tensor exported or imported in the wrong order shows. */
static nn_status perturb(nn_model *m, nn_rng *rng)
{
    size_t np = (size_t)nn_model_param_count(m), nb = (size_t)nn_model_buffer_count(m);
    float *v = malloc((np > nb ? np : nb) * sizeof *v + 1);
    if (!v) return NN_ERR_NO_MEMORY;
    nn_status st = nn_model_get_params(m, v, np);
    for (size_t i = 0; i < np; i++) v[i] += 0.2f * (nn_rng_uniform(rng) - 0.5f);
    if (st == NN_OK) st = nn_model_set_params(m, v, np);
    /* Buffers are batch norm's (mean, variance) pairs, layer by layer. */
    for (int i = 0, at = 0; st == NN_OK && i < nn_model_layer_count(m); i++) {
        nn_layer_info li = NN_LAYER_INFO_INIT;
        st = nn_model_layer_info(m, i, &li);
        int64_t c = li.buffer_count / 2;
        for (int64_t k = 0; k < c; k++) {
            v[at + k] = nn_rng_uniform(rng) - 0.5f;
            v[at + c + k] = 0.5f + nn_rng_uniform(rng);
        }
        at += (int)li.buffer_count;
    }
    if (st == NN_OK && nb) st = nn_model_set_buffers(m, v, nb);
    free(v);
    return st;
}

nn_status onnx_test_model(nn_model **out, const char *kind, uint64_t seed)
{
    static const int64_t mnist[] = {28, 28, 1}, flat[] = {784}, every[] = {12, 12, 3}, gap[] = {10, 10, 2}, mse[] = {5};
    const int64_t *shape = mnist;
    int rank = 3;
    if (!strcmp(kind, "mlp")) shape = flat, rank = 1;
    if (!strcmp(kind, "every")) shape = every;
    if (!strcmp(kind, "gap")) shape = gap;
    if (!strcmp(kind, "mse")) shape = mse, rank = 1;
    nn_model *m = NULL;
    nn_rng *rng = NULL;
    nn_status st = nn_model_create_shape(&m, rank, shape);
    if (st == NN_OK) st = layers(m, kind);
    if (st == NN_OK) st = nn_model_compile(m, strcmp(kind, "mse") ? NN_LOSS_SOFTMAX_CROSS_ENTROPY : NN_LOSS_MSE, NULL);
    if (st == NN_OK) st = nn_rng_create(&rng, seed);
    if (st == NN_OK) st = nn_model_init(m, rng);
    if (st == NN_OK) st = perturb(m, rng);
    nn_rng_free(rng);
    if (st != NN_OK) {
        nn_model_free(m);
        return st;
    }
    *out = m;
    return NN_OK;
}
