/*
 * A program that uses an installed libnn the way an outside project would: only <nn/nn.h>, built by
 * tests/install/install-test.sh from a temporary folder with
 *     cc -DEXPECTED_VERSION='"x.y.z"' prog.c $(pkg-config --cflags --libs nn)
 * It checks that the headers and the library agree on the version, that errors and their thread-local
 * message cross the library boundary, and that a tiny model learns a separable problem.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <nn/nn.h>

#ifndef EXPECTED_VERSION
#error "define EXPECTED_VERSION as the project's version string"
#endif

#define N_EXAMPLES 6
#define N_FEATURES 4
#define N_CLASSES 3

static int failed(const char *what, nn_status st)
{
    fprintf(stderr, "FAIL: %s: %s (%s)\n", what, nn_status_string(st), nn_last_error());
    return 1;
}

int main(void)
{
    char numbers[32];
    snprintf(numbers, sizeof numbers, "%d.%d.%d", NN_VERSION_MAJOR, NN_VERSION_MINOR, NN_VERSION_PATCH);
    if (strcmp(numbers, EXPECTED_VERSION) != 0 || strcmp(NN_VERSION_STRING, EXPECTED_VERSION) != 0 ||
        strcmp(nn_version(), EXPECTED_VERSION) != 0) {
        fprintf(stderr, "FAIL: version: macros %s, string %s, library %s, project %s\n", numbers,
                NN_VERSION_STRING, nn_version(), EXPECTED_VERSION);
        return 1;
    }
#if !NN_VERSION_CHECK(NN_VERSION_MAJOR, NN_VERSION_MINOR, NN_VERSION_PATCH) || NN_VERSION_CHECK(NN_VERSION_MAJOR + 1, 0, 0)
#error "NN_VERSION_CHECK disagrees with the version macros"
#endif

    /* A refused argument: the status and the thread-local message come back through the library. */
    nn_model *bad = NULL;
    nn_status st = nn_model_create(&bad, 0);
    if (st != NN_ERR_INVALID_ARGUMENT || bad != NULL || nn_last_error()[0] == '\0') {
        fprintf(stderr, "FAIL: nn_model_create(0 inputs) gave %d, message \"%s\"\n", (int)st, nn_last_error());
        return 1;
    }

    /* Class c has its largest feature at index c: separable, so a few SGD steps must lower the loss. */
    float xs[N_EXAMPLES * N_FEATURES];
    float ys[N_EXAMPLES];
    for (int i = 0; i < N_EXAMPLES; i++) {
        ys[i] = (float)(i % N_CLASSES);
        for (int j = 0; j < N_FEATURES; j++)
            xs[i * N_FEATURES + j] = (j == i % N_CLASSES) ? 1.0f : 0.1f * (float)(i + j) / N_EXAMPLES;
    }
    nn_tensor x, y;
    const int64_t xshape[2] = {N_EXAMPLES, N_FEATURES}, yshape[1] = {N_EXAMPLES};
    if ((st = nn_tensor_view(&x, xs, 2, xshape)) != NN_OK) return failed("nn_tensor_view", st);
    if ((st = nn_tensor_view(&y, ys, 1, yshape)) != NN_OK) return failed("nn_tensor_view", st);

    nn_rng *rng = NULL;
    nn_model *m = NULL;
    nn_optimizer *opt = NULL;
    nn_sgd_options so = NN_SGD_OPTIONS_INIT;
    so.lr = 0.5f;
    if ((st = nn_rng_create(&rng, 42)) != NN_OK) return failed("nn_rng_create", st);
    if ((st = nn_model_create(&m, N_FEATURES)) != NN_OK) return failed("nn_model_create", st);
    if ((st = nn_model_add_dense(m, 8, nn_activation_make(NN_ACT_RELU))) != NN_OK) return failed("add_dense", st);
    if ((st = nn_model_add_dense(m, N_CLASSES, nn_activation_make(NN_ACT_LINEAR))) != NN_OK)
        return failed("add_dense", st);
    if ((st = nn_optimizer_create_sgd(&opt, &so)) != NN_OK) return failed("nn_optimizer_create_sgd", st);
    if ((st = nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt)) != NN_OK) {
        nn_optimizer_free(opt); /* still ours when compile fails */
        return failed("nn_model_compile", st);
    }
    if ((st = nn_model_init(m, rng)) != NN_OK) return failed("nn_model_init", st);
    if ((st = nn_model_reserve(m, N_EXAMPLES)) != NN_OK) return failed("nn_model_reserve", st);
    if (nn_model_param_count(m) != (N_FEATURES * 8 + 8) + (8 * N_CLASSES + N_CLASSES)) {
        fprintf(stderr, "FAIL: %lld parameters\n", (long long)nn_model_param_count(m));
        return 1;
    }

    float first = 0.0f, loss = 0.0f;
    for (int step = 0; step < 50; step++) {
        if ((st = nn_model_train_step(m, &x, &y, &loss, NULL)) != NN_OK) return failed("nn_model_train_step", st);
        if (step == 0) first = loss;
    }
    if (!isfinite(first) || !isfinite(loss) || !(loss < 0.5f * first)) {
        fprintf(stderr, "FAIL: loss went from %g to %g in 50 steps\n", (double)first, (double)loss);
        return 1;
    }
    printf("libnn %s: loss %.4f -> %.4f\n", nn_version(), (double)first, (double)loss);
    nn_model_free(m);
    nn_rng_free(rng);
    return 0;
}
