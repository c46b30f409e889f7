/* Writes the golden model file tests/data/golden-4-3-2-adam.nnm and prints, as hex-float literals,
 * what test_io.c expects from it. Built with the tests but never run by them: the golden file is
 * committed once, so that a change in the format or the loader that breaks old files shows up.
 *
 *   ./build/tests/make_golden tests/data/golden-4-3-2-adam.nnm
 *
 * Everything comes from fixed seeds and fixed data; the model is a 4-3-2 MLP (tanh, then logits)
 * with Adam state after 5 steps, a generator state and epoch 3. */
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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT.nnm\n", argv[0]);
        return 2;
    }
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
    CHECK(nn_model_save(m, argv[1], &so));

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
