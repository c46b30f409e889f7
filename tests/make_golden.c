/* Writes the golden model files of tests/test_io.c and prints, as hex-float literals, what the
 * tests expect from them. Built with the tests but never run by them: each golden file is committed
 * once, so that a change in the format or the loader that breaks old files shows up.
 *
 *   ./build/tests/make_golden /tmp/golden-4-3-2-adam.nnm tests/data/golden-v2-every-kind.nnm
 *
 * Everything comes from fixed seeds and fixed data.
 *
 * The first file is a 4-3-2 MLP (tanh, then logits) with Adam state after 5 steps, a generator state
 * and epoch 3. The committed tests/data/golden-4-3-2-adam.nnm was written by libnn 0.1 in format 1
 * and stays as it is, to prove that format-1 files still load: never overwrite it. This program now
 * writes that model in format 2; its printed values must still equal those in test_io.c.
 *
 * The second (optional) is the format-2 golden file: every layer kind, (4, 3, 2) images (channels
 * last) -> batch norm per channel -> gelu_tanh -> dropout 0.25 -> flatten -> dense 5 leaky_relu
 * (alpha 0.1, He-uniform) -> batch norm (momentum 0.9, epsilon 0.01) -> dense 3 logits, with Adam
 * state after 5 steps (so the moving statistics and the training generator have moved), a data
 * generator state and epoch 4. It also prints the losses of two more training steps on the golden
 * inputs and the moving statistics after them, which depend on what only training uses (dropout's
 * rate, the training generator, batch norm's momentum, the Adam state). */
#include <stdio.h>
#include <stdlib.h>

#include <nn/nn.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        nn_status st_ = (call);                                                                    \
        if (st_ != NN_OK) {                                                                        \
            fprintf(stderr, "%s: %s\n", #call, nn_last_error());                                   \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* The inputs test_io.c feeds the loaded model: exact binary fractions. */
static const float golden_x[3][4] = {
    {0.5f, -1.25f, 2.0f, 0.75f},
    {-0.5f, 0.25f, -1.5f, 1.0f},
    {1.0f, 1.0f, -0.125f, -2.0f},
};

static int golden_mlp(const char *path)
{
    nn_model *m;
    nn_optimizer *opt;
    nn_rng *rng;
    CHECK(nn_model_create(&m, 4));
    CHECK(nn_model_add_dense(m, 3, nn_activation_make(NN_ACT_TANH)));
    CHECK(nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_LINEAR)));
    nn_adam_options ao = NN_ADAM_OPTIONS_INIT;
    ao.lr = 0.01f;
    CHECK(nn_optimizer_create_adam(&opt, &ao));
    CHECK(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt));
    CHECK(nn_rng_create(&rng, 20261103));
    CHECK(nn_model_init(m, rng));
    CHECK(nn_model_reserve(m, 8));

    float xb[8 * 4], yb[8];
    for (int i = 0; i < 8 * 4; i++) xb[i] = nn_rng_uniform(rng) * 2.0f - 1.0f;
    for (int i = 0; i < 8; i++) yb[i] = (float)nn_rng_below(rng, 2);
    nn_tensor x, y, xg, out;
    int64_t xs[2] = {8, 4}, ys[1] = {8}, gs[2] = {3, 4}, os[2] = {3, 2};
    CHECK(nn_tensor_view(&x, xb, 2, xs));
    CHECK(nn_tensor_view(&y, yb, 1, ys));
    for (int step = 0; step < 5; step++) CHECK(nn_model_train_step(m, &x, &y, NULL, NULL));

    const char *keys[] = {"created", "purpose"};
    const char *values[] = {"2026-11-03T00:00:00Z", "golden file of tests/test_io.c"};
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.rng = rng;
    so.epoch = 3;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 2;
    CHECK(nn_model_save(m, path, &so));

    float ob[3 * 2];
    CHECK(nn_tensor_view(&xg, (float *)golden_x, 2, gs));
    CHECK(nn_tensor_view(&out, ob, 2, os));
    CHECK(nn_model_forward(m, &out, &xg));
    printf("static const float golden_out[3][2] = {\n");
    for (int i = 0; i < 3; i++) printf("    {%a, %a},\n", (double)ob[2 * i], (double)ob[2 * i + 1]);
    printf("};\n");
    float *p;
    size_t n;
    CHECK(nn_model_params(m, &p, &n));
    printf("static const float golden_params[%zu] = {\n", n);
    for (size_t i = 0; i < n; i++) printf("    %a,\n", (double)p[i]);
    printf("};\n");
    uint64_t s[NN_RNG_STATE_WORDS];
    nn_rng_get_state(rng, s);
    printf("static const uint64_t golden_rng[4] = {0x%016llxu, 0x%016llxu, 0x%016llxu, 0x%016llxu};\n",
           (unsigned long long)s[0], (unsigned long long)s[1], (unsigned long long)s[2], (unsigned long long)s[3]);
    printf("/* iterations: %llu */\n", (unsigned long long)nn_optimizer_get_iterations(nn_model_get_optimizer(m)));
    nn_rng_free(rng);
    nn_model_free(m);
    return 0;
}

/* The golden inputs of the format-2 file, 3 images of (4, 3, 2), as test_io.c computes them: exact
 * binary fractions in [-1, 1). */
static float golden_v2_input(int i, int j) { return (float)((5 * i + 7 * j) % 17) / 8.0f - 1.0f; }

static void print_floats(const char *name, const float *v, size_t n)
{
    printf("static const float %s[%zu] = {\n", name, n);
    for (size_t i = 0; i < n; i++) printf("    %a,\n", (double)v[i]);
    printf("};\n");
}

static void print_state(const char *name, const nn_rng *rng)
{
    uint64_t s[NN_RNG_STATE_WORDS];
    nn_rng_get_state(rng, s);
    printf("static const uint64_t %s[4] = {0x%016llxu, 0x%016llxu, 0x%016llxu, 0x%016llxu};\n", name,
           (unsigned long long)s[0], (unsigned long long)s[1], (unsigned long long)s[2], (unsigned long long)s[3]);
}

static int golden_every_kind(const char *path)
{
    nn_model *m;
    nn_optimizer *opt;
    nn_rng *rng;
    int64_t shape[3] = {4, 3, 2};
    CHECK(nn_model_create_shape(&m, 3, shape));
    CHECK(nn_model_add_batchnorm(m, NULL));
    CHECK(nn_model_add_activation(m, nn_activation_make(NN_ACT_GELU_TANH)));
    CHECK(nn_model_add_dropout(m, 0.25f));
    CHECK(nn_model_add_flatten(m));
    nn_activation leaky = nn_activation_make(NN_ACT_LEAKY_RELU);
    leaky.alpha = 0.1f;
    nn_dense_options dopt = NN_DENSE_OPTIONS_INIT;
    dopt.weight_init = NN_INIT_HE_UNIFORM;
    CHECK(nn_model_add_dense_ex(m, 5, leaky, &dopt));
    nn_batchnorm_options bo = NN_BATCHNORM_OPTIONS_INIT;
    bo.momentum = 0.9f;
    bo.epsilon = 0.01f;
    CHECK(nn_model_add_batchnorm(m, &bo));
    CHECK(nn_model_add_dense(m, 3, nn_activation_make(NN_ACT_LINEAR)));
    nn_adam_options ao = NN_ADAM_OPTIONS_INIT;
    ao.lr = 0.01f;
    CHECK(nn_optimizer_create_adam(&opt, &ao));
    CHECK(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt));
    CHECK(nn_rng_create(&rng, 20261201));
    CHECK(nn_model_init(m, rng));
    CHECK(nn_model_reserve(m, 8));

    float xb[8 * 24], yb[8];
    for (int i = 0; i < 8 * 24; i++) xb[i] = nn_rng_uniform(rng) * 2.0f - 1.0f;
    for (int i = 0; i < 8; i++) yb[i] = (float)nn_rng_below(rng, 3);
    nn_tensor x, y;
    int64_t xs[4] = {8, 4, 3, 2}, ys[1] = {8};
    CHECK(nn_tensor_view(&x, xb, 4, xs));
    CHECK(nn_tensor_view(&y, yb, 1, ys));
    for (int step = 0; step < 5; step++) CHECK(nn_model_train_step(m, &x, &y, NULL, NULL));

    const char *keys[] = {"created", "purpose"};
    const char *values[] = {"2026-12-01T00:00:00Z", "format-2 golden file of tests/test_io.c"};
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.rng = rng;
    so.epoch = 4;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 2;
    CHECK(nn_model_save(m, path, &so));

    float gx[3 * 24], ob[3 * 3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 24; j++) gx[24 * i + j] = golden_v2_input(i, j);
    nn_tensor xg, out;
    int64_t gs[4] = {3, 4, 3, 2}, os[2] = {3, 3};
    CHECK(nn_tensor_view(&xg, gx, 4, gs));
    CHECK(nn_tensor_view(&out, ob, 2, os));
    CHECK(nn_model_forward(m, &out, &xg));
    print_floats("golden_v2_out", ob, 9);
    float params[256], buffers[32];
    size_t np = (size_t)nn_model_param_count(m), nb = (size_t)nn_model_buffer_count(m);
    if (np > 256 || nb > 32) {
        fprintf(stderr, "every-kind model: %zu parameters and %zu buffer values, more than expected\n", np, nb);
        return 1;
    }
    CHECK(nn_model_get_params(m, params, np));
    CHECK(nn_model_get_buffers(m, buffers, nb));
    print_floats("golden_v2_params", params, np);
    print_floats("golden_v2_buffers", buffers, nb);
    print_state("golden_v2_train_rng", nn_model_rng(m));
    print_state("golden_v2_rng", rng);
    printf("/* iterations: %llu */\n", (unsigned long long)nn_optimizer_get_iterations(nn_model_get_optimizer(m)));

    /* Two more steps, on the golden inputs with labels 2, 0, 1: the second step's loss depends on
     * the first step's update, hence on the Adam state. */
    float gy[3] = {2.0f, 0.0f, 1.0f}, loss[2];
    nn_tensor ty;
    int64_t tys[1] = {3};
    CHECK(nn_tensor_view(&ty, gy, 1, tys));
    for (int step = 0; step < 2; step++) CHECK(nn_model_train_step(m, &xg, &ty, &loss[step], NULL));
    CHECK(nn_model_get_buffers(m, buffers, nb));
    printf("static const float golden_v2_step_loss[2] = {%a, %a};\n", (double)loss[0], (double)loss[1]);
    print_floats("golden_v2_step_buffers", buffers, nb);
    nn_rng_free(rng);
    nn_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s MLP.nnm [EVERY-KIND.nnm]\n", argv[0]);
        return 2;
    }
    if (golden_mlp(argv[1]) != 0) return 1;
    return argc == 3 ? golden_every_kind(argv[2]) : 0;
}
