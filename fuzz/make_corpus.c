/* Writes the seed corpus of the fuzzer into a folder: small valid files covering every section,
 * every optimizer and every layer kind. Built with the fuzz targets, run by hand after a format
 * change:
 *   ./build/fuzz/make_corpus fuzz/corpus
 *
 * It writes the current format (2), as v2-*.nnm. The v1-*.nnm files beside them in fuzz/corpus and
 * fuzz/corpus-model_file were written by libnn 0.1 (format 1), which this program can no longer
 * produce: they are kept as they are, to fuzz the format-1 reader that old files go through. */
#include <stdio.h>

#include <nn/nn.h>

static int save(nn_model *m, const char *dir, const char *name, const nn_save_options *o)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (nn_model_save(m, path, o) != NN_OK) {
        fprintf(stderr, "%s: %s\n", path, nn_last_error());
        return 1;
    }
    return 0;
}

/* A 3-2-2 MLP with a stand-alone activation, for each optimizer (k >= 0) or none (k < 0). */
static int mlp(const char *dir, int k)
{
    static const char *names[] = {"sgd", "adam", "rmsprop", "adamw", "adagrad"};
    const char *keys[] = {"created", "note"}, *values[] = {"", "seed"};
    nn_model *m;
    nn_rng *rng = NULL;
    nn_optimizer *opt = NULL;
    if (nn_model_create(&m, 3) || nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_ELU)) ||
        nn_model_add_activation(m, nn_activation_make(NN_ACT_TANH)) ||
        nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_LINEAR)) ||
        (k >= 0 && nn_optimizer_create_from_name(&opt, names[k], 0.0f)) ||
        nn_model_compile(m, k == 2 ? NN_LOSS_MSE : NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) ||
        nn_rng_create(&rng, (uint64_t)k + 10) || nn_model_init(m, rng)) {
        fprintf(stderr, "model: %s\n", nn_last_error());
        return 1;
    }
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = k >= 0;
    so.rng = k >= 0 ? rng : NULL;
    so.epoch = k;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 2;
    char name[64];
    snprintf(name, sizeof name, "v2-%s.nnm", k < 0 ? "weights-only" : names[k]);
    int failed = save(m, dir, name, &so);
    nn_rng_free(rng);
    nn_model_free(m);
    return failed;
}

/* Every layer kind with settings that differ from the defaults where a kind has any:
 * (4, 3, 2) images -> batch norm per channel -> gelu_tanh -> dropout -> flatten -> dense leaky_relu
 * (He-uniform) -> batch norm -> dense logits; trained two Adam steps, so that the moving statistics,
 * the optimizer state and the training generator have moved. Saved without the optimizer state
 * (ARCH META TENS) and with it (and TRNG, RNGS, PROG). */
static int every_kind(const char *dir)
{
    const char *keys[] = {"created"}, *values[] = {""};
    int64_t shape[3] = {4, 3, 2};
    nn_model *m;
    nn_rng *rng = NULL;
    nn_optimizer *opt = NULL;
    nn_dense_options dopt = NN_DENSE_OPTIONS_INIT;
    dopt.weight_init = NN_INIT_HE_UNIFORM;
    nn_batchnorm_options bo = NN_BATCHNORM_OPTIONS_INIT;
    bo.momentum = 0.5f;
    bo.epsilon = 0.01f;
    nn_activation leaky = nn_activation_make(NN_ACT_LEAKY_RELU);
    leaky.alpha = 0.2f;
    if (nn_model_create_shape(&m, 3, shape) || nn_model_add_batchnorm(m, NULL) ||
        nn_model_add_activation(m, nn_activation_make(NN_ACT_GELU_TANH)) || nn_model_add_dropout(m, 0.25f) ||
        nn_model_add_flatten(m) || nn_model_add_dense_ex(m, 3, leaky, &dopt) || nn_model_add_batchnorm(m, &bo) ||
        nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_LINEAR)) || nn_optimizer_create_adam(&opt, NULL) ||
        nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) || nn_rng_create(&rng, 7) ||
        nn_model_init(m, rng)) {
        fprintf(stderr, "every-kind model: %s\n", nn_last_error());
        nn_rng_free(rng);
        return 1;
    }
    float x[4 * 24], y[4];
    for (int i = 0; i < 4 * 24; i++) x[i] = nn_rng_uniform(rng) * 2.0f - 1.0f;
    for (int i = 0; i < 4; i++) y[i] = (float)(i % 2);
    nn_tensor tx, ty;
    int64_t xs[4] = {4, 4, 3, 2}, ys[1] = {4};
    int failed = 0;
    if (nn_tensor_view(&tx, x, 4, xs) || nn_tensor_view(&ty, y, 1, ys) ||
        nn_model_train_step(m, &tx, &ty, NULL, NULL) || nn_model_train_step(m, &tx, &ty, NULL, NULL)) {
        fprintf(stderr, "every-kind training: %s\n", nn_last_error());
        failed = 1;
    }
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 1;
    if (!failed) failed |= save(m, dir, "v2-every-kind.nnm", &so);
    so.with_optimizer = 1;
    so.rng = rng;
    so.epoch = 2;
    if (!failed) failed |= save(m, dir, "v2-every-kind-adam.nnm", &so);
    nn_rng_free(rng);
    nn_model_free(m);
    return failed;
}

/* A (length, channels) input, the remaining rank: (5, 2) -> batch norm per channel -> flatten ->
 * dense sigmoid, MSE loss, SGD with momentum. */
static int sequence(const char *dir)
{
    const char *keys[] = {"created"}, *values[] = {""};
    int64_t shape[2] = {5, 2};
    nn_model *m;
    nn_rng *rng = NULL;
    nn_optimizer *opt = NULL;
    nn_sgd_options sgd = NN_SGD_OPTIONS_INIT;
    sgd.momentum = 0.9f;
    if (nn_model_create_shape(&m, 2, shape) || nn_model_add_batchnorm(m, NULL) || nn_model_add_flatten(m) ||
        nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_SIGMOID)) || nn_optimizer_create_sgd(&opt, &sgd) ||
        nn_model_compile(m, NN_LOSS_MSE, opt) || nn_rng_create(&rng, 8) || nn_model_init(m, rng)) {
        fprintf(stderr, "sequence model: %s\n", nn_last_error());
        nn_rng_free(rng);
        return 1;
    }
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 1;
    int failed = save(m, dir, "v2-sequence-sgd.nnm", &so);
    nn_rng_free(rng);
    nn_model_free(m);
    return failed;
}

/* A small CNN, every image kind: (6, 5, 2) -> conv 3 filters 3x2 stride 2 same relu -> max-pool 2x2
 * same -> conv 2 filters 2x2 valid no bias -> avg-pool 1x1 explicit -> global average -> dense. */
static int cnn(const char *dir)
{
    const char *keys[] = {"created"}, *values[] = {""};
    int64_t shape[3] = {6, 5, 2};
    nn_model *m;
    nn_rng *rng = NULL;
    nn_optimizer *opt = NULL;
    nn_conv2d_options c1 = NN_CONV2D_OPTIONS_INIT, c2 = NN_CONV2D_OPTIONS_INIT;
    c1.kernel_w = 2;
    c1.stride_h = c1.stride_w = 2;
    c1.padding = NN_PADDING_SAME;
    c2.kernel_h = c2.kernel_w = 2;
    c2.use_bias = 0;
    nn_pool2d_options p1 = NN_POOL2D_OPTIONS_INIT, p2 = NN_POOL2D_OPTIONS_INIT;
    p1.padding = NN_PADDING_SAME;
    p2.pool_h = p2.pool_w = 1;
    if (nn_model_create_shape(&m, 3, shape) || nn_model_add_conv2d(m, 3, nn_activation_make(NN_ACT_RELU), &c1) ||
        nn_model_add_maxpool2d(m, &p1) || nn_model_add_conv2d(m, 2, nn_activation_make(NN_ACT_LINEAR), &c2) ||
        nn_model_add_avgpool2d(m, &p2) || nn_model_add_global_avgpool2d(m) ||
        nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_LINEAR)) || nn_optimizer_create_adam(&opt, NULL) ||
        nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) || nn_rng_create(&rng, 9) || nn_model_init(m, rng)) {
        fprintf(stderr, "cnn model: %s\n", nn_last_error());
        nn_rng_free(rng);
        return 1;
    }
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 1;
    int failed = save(m, dir, "v2-cnn-adam.nnm", &so);
    nn_rng_free(rng);
    nn_model_free(m);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FOLDER\n", argv[0]);
        return 2;
    }
    int failures = 0;
    for (int k = -1; k < 5; k++) failures += mlp(argv[1], k);
    failures += every_kind(argv[1]);
    failures += sequence(argv[1]);
    failures += cnn(argv[1]);
    return failures ? 1 : 0;
}
