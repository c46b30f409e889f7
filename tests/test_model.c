/* The sequential model end to end: whole-model gradients, learning, determinism, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/nn.h"
#include "nn/experimental.h"
#include "testutil.h"

static nn_model *make_mlp(int64_t in, const int64_t *hidden, int nh, int64_t out, nn_activation act,
                          nn_optimizer *opt, uint64_t seed)
{
    nn_model *m;
    assert_int_equal(nn_model_create(&m, in), NN_OK);
    for (int i = 0; i < nh; i++) assert_int_equal(nn_model_add_dense(m, hidden[i], act), NN_OK);
    assert_int_equal(nn_model_add_dense(m, out, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt), NN_OK);
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, seed), NN_OK);
    assert_int_equal(nn_model_init(m, rng), NN_OK);
    nn_rng_free(rng);
    return m;
}

static nn_optimizer *adam(float lr)
{
    nn_optimizer *opt;
    nn_adam_options o = NN_ADAM_OPTIONS_INIT;
    o.lr = lr;
    assert_int_equal(nn_optimizer_create_adam(&opt, &o), NN_OK);
    return opt;
}

typedef struct eval_ctx {
    nn_model *m;
    const nn_tensor *x, *y;
} eval_ctx;

static double model_loss(void *ctx)
{
    eval_ctx *e = ctx;
    float l;
    assert_int_equal(nn_model_evaluate(e->m, e->x, e->y, &l, NULL), NN_OK);
    return l;
}

/* The gradient a training step computes (dense layers, a stand-alone activation layer, the fused
 * softmax cross-entropy) against central differences of the model's loss. */
static void test_model__train_step_gradient_matches_finite_differences(void **s)
{
    (void)s;
    nn_model *m;
    assert_int_equal(nn_model_create(&m, 4), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 5, nn_activation_make(NN_ACT_TANH)), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 6, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_model_add_activation(m, nn_activation_make(NN_ACT_SIGMOID)), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 3, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt), NN_OK);
    nn_rng *rng;
    nn_rng_create(&rng, 5);
    assert_int_equal(nn_model_init(m, rng), NN_OK);
    float xd[6 * 4], yd[6] = {0, 1, 2, 2, 1, 0};
    tu_fill_uniform(xd, 24, -1, 1, rng);
    nn_rng_free(rng);
    nn_tensor x, y;
    int64_t xs[2] = {6, 4}, ys[1] = {6};
    nn_tensor_view(&x, xd, 2, xs);
    nn_tensor_view(&y, yd, 1, ys);

    float *params, *grads;
    size_t n;
    assert_int_equal(nn_model_params(m, &params, &n), NN_OK);
    assert_int_equal(n, (size_t)nn_model_param_count(m));
    assert_int_equal(n, 4 * 5 + 5 + 5 * 6 + 6 + 6 * 3 + 3);
    float *before = malloc(n * sizeof *before), *g = malloc(n * sizeof *g);
    memcpy(before, params, n * sizeof *before);
    float loss_step, loss_eval;
    assert_int_equal(nn_model_train_step(m, &x, &y, &loss_step, NULL), NN_OK);
    assert_int_equal(nn_model_grads(m, &grads, NULL), NN_OK);
    memcpy(g, grads, n * sizeof *g);
    /* The step moved the weights by -lr * grad (plain SGD). */
    for (size_t i = 0; i < n; i++) assert_float_equal(params[i], before[i] - 0.01f * g[i], 1e-6);
    memcpy(params, before, n * sizeof *before);
    assert_int_equal(nn_model_evaluate(m, &x, &y, &loss_eval, NULL), NN_OK);
    assert_float_equal(loss_step, loss_eval, 1e-6);
    eval_ctx e = {m, &x, &y};
    /* float32 forward, h = 1e-2: errors of a right gradient stay below 1e-3 (see test_dense.c). */
    double err = tu_gradcheck(model_loss, &e, params, g, n, 1e-2, NULL);
    assert_true(err < 1e-3);
    free(before);
    free(g);
    nn_model_free(m);
}

/* Trains on (n, features) data, full batches of `batch`, for `epochs`; returns the final accuracy. */
static float train(nn_model *m, float *xd, float *yd, int64_t n, int64_t features, int64_t batch, int epochs)
{
    nn_tensor x, y;
    assert_int_equal(nn_model_reserve(m, batch), NN_OK);
    for (int e = 0; e < epochs; e++)
        for (int64_t r = 0; r < n; r += batch) {
            int64_t b = n - r < batch ? n - r : batch;
            int64_t xs[2] = {b, features}, ys[1] = {b};
            nn_tensor_view(&x, xd + r * features, 2, xs);
            nn_tensor_view(&y, yd + r, 1, ys);
            assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_OK);
        }
    int64_t xs[2] = {n, features}, ys[1] = {n};
    nn_tensor_view(&x, xd, 2, xs);
    nn_tensor_view(&y, yd, 1, ys);
    float acc = 0;
    assert_int_equal(nn_model_evaluate(m, &x, &y, NULL, &acc), NN_OK);
    return acc;
}

/* Mostly-zero inputs (like MNIST) take the first layer's sparse kernels: the same sums in another
 * order. Outputs match the dense BLAS kernel within rounding, and the gradient of a step matches
 * finite differences. */
static void test_model__sparse_inputs_match_dense_path_and_gradients(void **s)
{
    (void)s;
    /* H = 100: on each vector width a register tile and a narrower last one (AVX2: 64, a half tile of
     * 32, 4; AVX-512: a half tile of 64, 36; the baseline: 3 tiles of 32, 4). */
    enum { B = 9, IN = 40, H = 100, C = 4 };
    nn_rng *rng;
    nn_rng_create(&rng, 21);
    float xd[B * IN], yd[B];
    for (int i = 0; i < B * IN; i++) xd[i] = nn_rng_below(rng, 5) == 0 ? nn_rng_uniform(rng) : 0.0f;
    for (int i = 0; i < B; i++) yd[i] = (float)(i % C);
    int64_t hidden[1] = {H};
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    nn_model *m = make_mlp(IN, hidden, 1, C, nn_activation_make(NN_ACT_TANH), opt, 4);
    nn_tensor x, y, out;
    float od[B * C], ref_h[B * H], ref_o[B * C];
    int64_t xs[2] = {B, IN}, ys[1] = {B}, os[2] = {B, C}, hs[2] = {B, H};
    nn_tensor_view(&x, xd, 2, xs);
    nn_tensor_view(&y, yd, 1, ys);
    nn_tensor_view(&out, od, 2, os);
    assert_int_equal(nn_model_forward(m, &out, &x), NN_OK);
    nn_layer_info l0 = NN_LAYER_INFO_INIT, l1 = NN_LAYER_INFO_INIT;
    assert_int_equal(nn_model_layer_info(m, 0, &l0), NN_OK);
    assert_int_equal(nn_model_layer_info(m, 1, &l1), NN_OK);
    nn_tensor th, to;
    nn_tensor_view(&th, ref_h, 2, hs);
    nn_tensor_view(&to, ref_o, 2, os);
    assert_int_equal(nn_dense_forward(&th, NULL, &x, &l0.weights, &l0.bias, l0.activation), NN_OK);
    assert_int_equal(nn_dense_forward(&to, NULL, &th, &l1.weights, &l1.bias, l1.activation), NN_OK);
    assert_true(tu_max_abs_diff(od, ref_o, B * C) < 1e-5);

    float *params, *grads;
    size_t n;
    nn_model_params(m, &params, &n);
    float *before = malloc(n * sizeof *before), *g = malloc(n * sizeof *g);
    memcpy(before, params, n * sizeof *before);
    assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_OK);
    nn_model_grads(m, &grads, NULL);
    memcpy(g, grads, n * sizeof *g);
    memcpy(params, before, n * sizeof *before);
    eval_ctx e = {m, &x, &y};
    assert_true(tu_gradcheck(model_loss, &e, params, g, n, 1e-2, NULL) < 1e-3);
    /* Weights of inputs that are zero in the whole batch get exactly zero gradient. */
    for (int k = 0; k < IN; k++) {
        int any = 0;
        for (int r = 0; r < B; r++) any |= xd[r * IN + k] != 0.0f;
        if (!any)
            for (int j = 0; j < H; j++) assert_true(g[k * H + j] == 0.0f);
    }
    free(before);
    free(g);
    nn_rng_free(rng);
    nn_model_free(m);
}

static void test_model__learns_xor(void **s)
{
    (void)s;
    float xd[8] = {0, 0, 0, 1, 1, 0, 1, 1}, yd[4] = {0, 1, 1, 0};
    int64_t hidden[1] = {8};
    nn_model *m = make_mlp(2, hidden, 1, 2, nn_activation_make(NN_ACT_TANH), adam(0.05f), 1);
    assert_float_equal(train(m, xd, yd, 4, 2, 4, 300), 1.0f, 0.0);
    nn_model_free(m);
}

/* Two interleaved spirals, 1.25 turns each: not linearly separable, learnable by a small MLP. */
static void test_model__learns_two_spirals(void **s)
{
    (void)s;
    enum { PER = 100, N = 2 * PER };
    float xd[N * 2], yd[N];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < PER; i++) {
            double t = (double)i / PER, r = 0.1 + 0.9 * t, a = 2.5 * 3.14159265358979323846 * t + c * 3.14159265358979323846;
            xd[(c * PER + i) * 2] = (float)(r * cos(a));
            xd[(c * PER + i) * 2 + 1] = (float)(r * sin(a));
            yd[c * PER + i] = (float)c;
        }
    int64_t hidden[2] = {64, 64};
    nn_model *m = make_mlp(2, hidden, 2, 2, nn_activation_make(NN_ACT_TANH), adam(0.01f), 3);
    assert_float_equal(train(m, xd, yd, N, 2, 20, 1000), 1.0f, 0.0);
    nn_model_free(m);
}

/* Shuffled mini-batch training, all randomness from one seed. */
static void train_seeded(uint64_t seed, float *out_params, size_t *n)
{
    enum { ROWS = 64, F = 6 };
    nn_rng *rng;
    nn_rng_create(&rng, seed);
    float xd[ROWS * F], yd[ROWS], bx[16 * F], by[16];
    tu_fill_uniform(xd, ROWS * F, -1, 1, rng);
    for (int i = 0; i < ROWS; i++) yd[i] = (float)(i % 3);
    int64_t hidden[1] = {10};
    nn_model *m = make_mlp(F, hidden, 1, 3, nn_activation_make(NN_ACT_RELU), adam(0.01f), seed);
    uint32_t order[ROWS];
    for (int i = 0; i < ROWS; i++) order[i] = (uint32_t)i;
    for (int e = 0; e < 3; e++) {
        nn_rng_shuffle(rng, order, ROWS);
        for (int r = 0; r < ROWS; r += 16) {
            for (int i = 0; i < 16; i++) {
                memcpy(bx + i * F, xd + order[r + i] * F, F * sizeof(float));
                by[i] = yd[order[r + i]];
            }
            nn_tensor x, y;
            int64_t xs[2] = {16, F}, ys[1] = {16};
            nn_tensor_view(&x, bx, 2, xs);
            nn_tensor_view(&y, by, 1, ys);
            assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_OK);
        }
    }
    float *p;
    assert_int_equal(nn_model_params(m, &p, n), NN_OK);
    memcpy(out_params, p, *n * sizeof(float));
    nn_model_free(m);
    nn_rng_free(rng);
}

static void test_model__same_seed_gives_bit_identical_weights(void **s)
{
    (void)s;
    float a[256], b[256], c[256];
    size_t na, nb, nc;
    train_seeded(42, a, &na);
    train_seeded(42, b, &nb);
    train_seeded(43, c, &nc);
    assert_int_equal(na, 6 * 10 + 10 + 10 * 3 + 3);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof(float));
    assert_memory_not_equal(a, c, na * sizeof(float));
}

static void test_model__predict_gives_probabilities_and_classes_agree(void **s)
{
    (void)s;
    int64_t hidden[1] = {7};
    nn_model *m = make_mlp(3, hidden, 1, 4, nn_activation_make(NN_ACT_SIGMOID), NULL, 9);
    enum { ROWS = 600 }; /* more rows than the default chunk: exercises chunking */
    float *xd = malloc(ROWS * 3 * sizeof(float)), *pd = malloc(ROWS * 4 * sizeof(float)),
          *ld = malloc(ROWS * 4 * sizeof(float));
    int32_t *cls = malloc(ROWS * sizeof(int32_t));
    nn_rng *rng;
    nn_rng_create(&rng, 1);
    tu_fill_uniform(xd, ROWS * 3, -2, 2, rng);
    nn_rng_free(rng);
    nn_tensor x, p, l;
    int64_t xs[2] = {ROWS, 3}, ps[2] = {ROWS, 4};
    nn_tensor_view(&x, xd, 2, xs);
    nn_tensor_view(&p, pd, 2, ps);
    nn_tensor_view(&l, ld, 2, ps);
    assert_int_equal(nn_model_predict(m, &p, &x), NN_OK);
    assert_int_equal(nn_model_forward(m, &l, &x), NN_OK);
    assert_int_equal(nn_model_predict_classes(m, cls, &x), NN_OK);
    for (int r = 0; r < ROWS; r++) {
        double sum = 0;
        int best = 0;
        for (int j = 0; j < 4; j++) {
            sum += pd[r * 4 + j];
            if (ld[r * 4 + j] > ld[r * 4 + best]) best = j;
        }
        assert_float_equal(sum, 1.0, 1e-5);
        assert_int_equal(cls[r], best);
    }
    /* No optimizer: training is refused, inference works. */
    float yd[ROWS] = {0};
    nn_tensor y;
    int64_t ys[1] = {ROWS};
    nn_tensor_view(&y, yd, 1, ys);
    assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_ERR_STATE);
    assert_non_null(strstr(nn_last_error(), "no optimizer"));
    free(xd);
    free(pd);
    free(ld);
    free(cls);
    nn_model_free(m);
}

static void test_model__errors_are_reported(void **s)
{
    (void)s;
    nn_model *m;
    assert_int_equal(nn_model_create(NULL, 4), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_create(&m, 0), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_create(&m, 784), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_MSE, NULL), NN_ERR_STATE); /* no layers */
    assert_int_equal(nn_model_add_dense(m, 0, nn_activation_make(NN_ACT_RELU)), NN_ERR_INVALID_ARGUMENT);
    nn_activation bogus = {(nn_activation_kind)99, 0};
    assert_int_equal(nn_model_add_dense(m, 10, bogus), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_add_dense(m, 10, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    float xd[2 * 780] = {0}, yd[2] = {0};
    nn_tensor x, y;
    int64_t xs[2] = {2, 780}, ys[1] = {2};
    nn_tensor_view(&x, xd, 2, xs);
    nn_tensor_view(&y, yd, 1, ys);
    assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_ERR_STATE); /* not compiled */
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 3, nn_activation_make(NN_ACT_RELU)), NN_ERR_STATE);
    assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_ERR_SHAPE);
    assert_non_null(strstr(nn_last_error(), "input has 780 features, model expects 784"));
    float x2[2 * 784] = {0}, bad[3] = {0};
    int64_t x2s[2] = {2, 784}, bs[1] = {3};
    nn_tensor_view(&x, x2, 2, x2s);
    nn_tensor_view(&y, bad, 1, bs);
    assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_ERR_SHAPE);
    x.shape[0] = 0; /* a hand-filled tensor with no rows */
    assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_ERR_SHAPE);
    assert_int_equal(nn_model_evaluate(m, &x, &y, NULL, NULL), NN_ERR_SHAPE);
    nn_tensor_view(&x, x2, 2, x2s);
    yd[1] = 10.0f; /* class index out of range */
    nn_tensor_view(&y, yd, 1, ys);
    assert_int_not_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_OK);
    nn_layer_info info = NN_LAYER_INFO_INIT;
    assert_int_equal(nn_model_layer_info(m, 1, &info), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_layer_info(m, 0, &info), NN_OK);
    assert_int_equal(info.param_count, 7850);
    assert_int_equal(info.weights.shape[0], 784);
    nn_model_free(m);
    nn_model_free(NULL);
}

/* Everything a training step may change and the caller can see: parameters, the optimizer's state
 * arrays and step count, as one byte string. */
static unsigned char *training_state(nn_model *m, size_t *len)
{
    float *p;
    size_t np;
    assert_int_equal(nn_model_params(m, &p, &np), NN_OK);
    nn_optimizer *opt = nn_model_get_optimizer(m);
    int ns = nn_optimizer_state_count(opt);
    size_t total = np * sizeof(float) + sizeof(uint64_t) + (size_t)ns * np * sizeof(float);
    unsigned char *buf = malloc(total), *w = buf;
    assert_non_null(buf);
    memcpy(w, p, np * sizeof(float));
    w += np * sizeof(float);
    uint64_t it = nn_optimizer_get_iterations(opt);
    memcpy(w, &it, sizeof it);
    w += sizeof it;
    for (int i = 0; i < ns; i++) {
        float *d;
        size_t n;
        assert_int_equal(nn_optimizer_state(opt, i, NULL, &d, &n), NN_OK);
        assert_int_equal(n, np);
        memcpy(w, d, n * sizeof(float));
        w += n * sizeof(float);
    }
    *len = total;
    return buf;
}

/* A step that nn_model_train_step refuses must leave the training state bit for bit as it was. */
static void assert_step_refused_unchanged(nn_model *m, const nn_tensor *x, const nn_tensor *y, nn_status want)
{
    size_t n0, n1;
    unsigned char *before = training_state(m, &n0);
    float loss = 0.0f;
    assert_int_equal(nn_model_train_step(m, x, y, &loss, NULL), want);
    unsigned char *after = training_state(m, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
}

/* A few clean steps, so that the optimizer's moments and step count are not trivially zero. */
static void warm_up(nn_model *m, const nn_tensor *x, const nn_tensor *y)
{
    for (int i = 0; i < 3; i++) assert_int_equal(nn_model_train_step(m, x, y, NULL, NULL), NN_OK);
    assert_int_equal(nn_optimizer_get_iterations(nn_model_get_optimizer(m)), 3);
}

/* NaN or infinite inputs used to return NN_OK and turn every parameter into NaN (issue 10, item 6). */
static void test_model__nonfinite_inputs_and_targets_refused_state_unchanged(void **s)
{
    (void)s;
    enum { B = 4, IN = 6, C = 3 };
    int64_t hidden[1] = {5};
    nn_model *m = make_mlp(IN, hidden, 1, C, nn_activation_make(NN_ACT_TANH), adam(1e-2f), 7);
    float xd[B * IN], yd[B] = {0, 1, 2, 1};
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 3), NN_OK);
    tu_fill_uniform(xd, B * IN, -1.0f, 1.0f, rng);
    nn_tensor x, y;
    int64_t xs[2] = {B, IN}, ys[1] = {B};
    nn_tensor_view(&x, xd, 2, xs);
    nn_tensor_view(&y, yd, 1, ys);
    warm_up(m, &x, &y);

    float keep = xd[7];
    xd[7] = NAN;
    assert_step_refused_unchanged(m, &x, &y, NN_ERR_NUMERIC);
    assert_non_null(strstr(nn_last_error(), "left unchanged"));
    xd[7] = INFINITY;
    assert_step_refused_unchanged(m, &x, &y, NN_ERR_NUMERIC);
    xd[7] = -INFINITY;
    assert_step_refused_unchanged(m, &x, &y, NN_ERR_NUMERIC);
    xd[7] = keep;
    /* A NaN class index is refused by the loss's own target check, with the same guarantee. */
    yd[2] = NAN;
    assert_step_refused_unchanged(m, &x, &y, NN_ERR_INVALID_ARGUMENT);
    yd[2] = 2;
    /* The model trains on afterwards. */
    size_t n0, n1;
    unsigned char *before = training_state(m, &n0);
    float loss = NAN;
    assert_int_equal(nn_model_train_step(m, &x, &y, &loss, NULL), NN_OK);
    assert_true(isfinite(loss));
    unsigned char *after = training_state(m, &n1);
    assert_memory_not_equal(before, after, n0);
    free(before);
    free(after);
    nn_model_free(m);

    /* MSE: NaN and infinite targets give a non-finite loss. */
    nn_model *r;
    assert_int_equal(nn_model_create(&r, IN), NN_OK);
    assert_int_equal(nn_model_add_dense(r, C, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    nn_optimizer *rms;
    assert_int_equal(nn_optimizer_create_rmsprop(&rms, NULL), NN_OK);
    assert_int_equal(nn_model_compile(r, NN_LOSS_MSE, rms), NN_OK);
    assert_int_equal(nn_model_init(r, rng), NN_OK);
    float td[B * C];
    tu_fill_uniform(td, B * C, -1.0f, 1.0f, rng);
    nn_tensor t;
    int64_t tshape[2] = {B, C};
    nn_tensor_view(&t, td, 2, tshape);
    warm_up(r, &x, &t);
    td[4] = NAN;
    assert_step_refused_unchanged(r, &x, &t, NN_ERR_NUMERIC);
    td[4] = INFINITY;
    assert_step_refused_unchanged(r, &x, &t, NN_ERR_NUMERIC);
    nn_model_free(r);
    nn_rng_free(rng);
}

/* The sparse kernels apply a ReLU while the tile is in registers (sparse_tile.h): the hidden
 * layer's output, negative pre-activations and all, matches the dense path's, in full tiles and the
 * narrower last ones (H = 200 on AVX-512: a tile of 128, a half tile of 64, 8). */
static void test_model__sparse_relu_matches_dense_path(void **s)
{
    (void)s;
    enum { B = 7, IN = 48, H = 200, C = 3 };
    nn_rng *rng;
    nn_rng_create(&rng, 22);
    float xd[B * IN];
    for (int i = 0; i < B * IN; i++) xd[i] = nn_rng_below(rng, 5) == 0 ? nn_rng_uniform(rng) : 0.0f;
    int64_t hidden[1] = {H};
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    nn_model *m = make_mlp(IN, hidden, 1, C, nn_activation_make(NN_ACT_RELU), opt, 6);
    float od[B * C], ref_h[B * H], ref_o[B * C];
    int64_t xs[2] = {B, IN}, os[2] = {B, C}, hs[2] = {B, H};
    nn_tensor x, out, th, to;
    nn_tensor_view(&x, xd, 2, xs);
    nn_tensor_view(&out, od, 2, os);
    nn_tensor_view(&th, ref_h, 2, hs);
    nn_tensor_view(&to, ref_o, 2, os);
    assert_int_equal(nn_model_forward(m, &out, &x), NN_OK);
    nn_layer_info l0 = NN_LAYER_INFO_INIT, l1 = NN_LAYER_INFO_INIT;
    assert_int_equal(nn_model_layer_info(m, 0, &l0), NN_OK);
    assert_int_equal(nn_model_layer_info(m, 1, &l1), NN_OK);
    assert_int_equal(nn_dense_forward(&th, NULL, &x, &l0.weights, &l0.bias, l0.activation), NN_OK);
    int zeros = 0;
    for (int i = 0; i < B * H; i++) zeros += ref_h[i] == 0.0f;
    assert_true(zeros > 0 && zeros < B * H); /* both sides of the ReLU are exercised */
    assert_int_equal(nn_dense_forward(&to, NULL, &th, &l1.weights, &l1.bias, l1.activation), NN_OK);
    assert_true(tu_max_abs_diff(od, ref_o, B * C) < 1e-5);
    nn_model_free(m);
    nn_rng_free(rng);
}

/* An infinite input behind relu units it drives to -inf gives outputs of 0, a finite loss, and NaN
 * (inf * 0) in the first layer's weight gradient: the loss alone does not catch it. Both first-layer
 * paths: dense inputs (BLAS) and mostly-zero ones (the sparse kernels). */
static void test_model__nonfinite_gradient_with_finite_loss_refused(void **s)
{
    (void)s;
    for (int sparse = 0; sparse < 2; sparse++) {
        enum { H = 2, C = 2 };
        int64_t in = sparse ? 64 : 2, hidden[1] = {H};
        nn_optimizer *opt;
        nn_sgd_options o = NN_SGD_OPTIONS_INIT;
        o.momentum = 0.9f;
        assert_int_equal(nn_optimizer_create_sgd(&opt, &o), NN_OK);
        nn_model *m = make_mlp(in, hidden, 1, C, nn_activation_make(NN_ACT_RELU), opt, 5);
        float *p;
        size_t np;
        assert_int_equal(nn_model_params(m, &p, &np), NN_OK);
        assert_int_equal(np, (size_t)(in * H + H + H * C + C));
        memset(p, 0, np * sizeof(float));
        for (int j = 0; j < H; j++) p[j] = -1.0f; /* input 0 pushes both hidden units down */
        for (int64_t k = 1; k < in; k++)
            for (int j = 0; j < H; j++) p[k * H + j] = 0.5f;
        float *w2 = p + in * H + H;
        w2[0] = w2[3] = 1.0f; /* identity to the logits */
        float *xd = calloc((size_t)(2 * in), sizeof(float)), yd[2] = {0, 1};
        assert_non_null(xd);
        xd[1] = xd[in + 1] = 1.0f;
        nn_tensor x, y;
        int64_t xs[2] = {2, in}, ys[1] = {2};
        nn_tensor_view(&x, xd, 2, xs);
        nn_tensor_view(&y, yd, 1, ys);
        warm_up(m, &x, &y);
        xd[0] = INFINITY;
        float loss = NAN;
        assert_step_refused_unchanged(m, &x, &y, NN_ERR_NUMERIC);
        assert_int_equal(nn_model_train_step(m, &x, &y, &loss, NULL), NN_ERR_NUMERIC);
        assert_true(isfinite(loss)); /* caught by the gradient check, not the loss */
        assert_non_null(strstr(nn_last_error(), "gradient"));
        free(xd);
        nn_model_free(m);
    }
}

/* An image dataset of n examples of rows x cols: mostly zero like MNIST (density 1/5), or every
 * pixel lit (dense: the sparse path is not taken). */
static nn_dataset *image_dataset(int64_t n, int64_t rows, int64_t cols, int dense, uint64_t seed)
{
    uint8_t *pix = malloc((size_t)(n * rows * cols)), *lab = malloc((size_t)n);
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, seed), NN_OK);
    for (int64_t i = 0; i < n * rows * cols; i++)
        pix[i] = dense ? (uint8_t)(1 + nn_rng_below(rng, 255))
                       : nn_rng_below(rng, 5) == 0 ? (uint8_t)(1 + nn_rng_below(rng, 255)) : 0;
    for (int64_t i = 0; i < n; i++) lab[i] = (uint8_t)nn_rng_below(rng, 10);
    nn_dataset *ds;
    assert_int_equal(nn_dataset_create(&ds, n, rows, cols, pix, lab), NN_OK);
    nn_rng_free(rng);
    free(pix);
    free(lab);
    return ds;
}

/* Steps of nn_model_train_step_indexed against nn_dataset_gather + nn_model_train_step on a twin
 * model: the same losses, correct counts and parameters, bit for bit. */
static void indexed_equals_gathered(nn_model *a, nn_model *b, const nn_dataset *ds, int64_t batch)
{
    int64_t n = nn_dataset_count(ds), f = nn_dataset_features(ds);
    float *xb = malloc((size_t)(batch * f) * sizeof(float)), *yb = malloc((size_t)batch * sizeof(float));
    uint32_t *idx = malloc((size_t)n * sizeof *idx);
    for (int64_t i = 0; i < n; i++) idx[i] = (uint32_t)((i * 7919) % n); /* a permutation: 7919 is prime */
    for (int64_t s0 = 0; s0 + batch <= n; s0 += batch) {
        nn_tensor x, y;
        int64_t xs[2] = {batch, f}, ys[1] = {batch};
        nn_tensor_view(&x, xb, 2, xs);
        nn_tensor_view(&y, yb, 1, ys);
        float la, lb;
        int64_t ca, cb;
        assert_int_equal(nn_model_train_step_indexed(a, ds, idx + s0, batch, &la, &ca), NN_OK);
        assert_int_equal(nn_dataset_gather(ds, idx + s0, batch, &x, &y), NN_OK);
        assert_int_equal(nn_model_train_step(b, &x, &y, &lb, &cb), NN_OK);
        assert_memory_equal(&la, &lb, sizeof la);
        assert_int_equal(ca, cb);
    }
    float *pa, *pb;
    size_t na, nb;
    assert_int_equal(nn_model_params(a, &pa, &na), NN_OK);
    assert_int_equal(nn_model_params(b, &pb, &nb), NN_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na * sizeof(float));
    free(xb);
    free(yb);
    free(idx);
}

static void test_model__train_step_indexed_is_gather_and_step(void **s)
{
    (void)s;
    const int64_t hidden[] = {24};
    for (int dense = 0; dense < 2; dense++) {
        /* Sparse images take the compressed path, dense ones the gathered batch. */
        nn_dataset *ds = image_dataset(200, 8, 8, dense, 11 + (uint64_t)dense);
        nn_model *a = make_mlp(64, hidden, 1, 10, nn_activation_make(NN_ACT_RELU), adam(1e-2f), 3);
        nn_model *b = make_mlp(64, hidden, 1, 10, nn_activation_make(NN_ACT_RELU), adam(1e-2f), 3);
        indexed_equals_gathered(a, b, ds, 20);
        nn_model_free(a);
        nn_model_free(b);
        /* A linear first layer, and a batch larger than the reserved one (the step reserves). */
        a = make_mlp(64, hidden, 1, 10, nn_activation_make(NN_ACT_TANH), adam(1e-2f), 4);
        b = make_mlp(64, hidden, 1, 10, nn_activation_make(NN_ACT_TANH), adam(1e-2f), 4);
        indexed_equals_gathered(a, b, ds, 33);
        nn_model_free(a);
        nn_model_free(b);
        nn_dataset_free(ds);
    }
    /* A network whose first layer is not dense trains from the gathered batch. */
    nn_dataset *ds = image_dataset(60, 8, 8, 0, 5);
    nn_model *m[2];
    for (int k = 0; k < 2; k++) {
        int64_t shape[3] = {8, 8, 1};
        nn_conv2d_options co = NN_CONV2D_OPTIONS_INIT;
        co.kernel_h = co.kernel_w = 3;
        assert_int_equal(nn_model_create_shape(&m[k], 3, shape), NN_OK);
        assert_int_equal(nn_model_add_conv2d(m[k], 4, nn_activation_make(NN_ACT_RELU), &co), NN_OK);
        assert_int_equal(nn_model_add_flatten(m[k]), NN_OK);
        assert_int_equal(nn_model_add_dense(m[k], 10, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
        assert_int_equal(nn_model_compile(m[k], NN_LOSS_SOFTMAX_CROSS_ENTROPY, adam(1e-2f)), NN_OK);
        nn_rng *rng;
        assert_int_equal(nn_rng_create(&rng, 9), NN_OK);
        assert_int_equal(nn_model_init(m[k], rng), NN_OK);
        nn_rng_free(rng);
    }
    indexed_equals_gathered(m[0], m[1], ds, 12);
    nn_model_free(m[0]);
    nn_model_free(m[1]);
    nn_dataset_free(ds);
}

/* Optimizer `which` of the fused-update test, twice alike: one for the model, one for the reference. */
static nn_optimizer *fused_test_optimizer(int which)
{
    nn_optimizer *opt = NULL;
    nn_sgd_options sgd = NN_SGD_OPTIONS_INIT;
    nn_adamw_options adamw = NN_ADAMW_OPTIONS_INIT;
    nn_rmsprop_options rms = NN_RMSPROP_OPTIONS_INIT;
    nn_adagrad_options ada = NN_ADAGRAD_OPTIONS_INIT;
    switch (which) {
    case 0: sgd.lr = 0.1f; assert_int_equal(nn_optimizer_create_sgd(&opt, &sgd), NN_OK); break;
    case 1:
        sgd.momentum = 0.9f;
        sgd.nesterov = 1;
        assert_int_equal(nn_optimizer_create_sgd(&opt, &sgd), NN_OK);
        break;
    case 2: opt = adam(1e-2f); break;
    case 3:
        adamw.weight_decay = 0.1f;
        assert_int_equal(nn_optimizer_create_adamw(&opt, &adamw), NN_OK);
        break;
    case 4:
        rms.centered = 1;
        rms.momentum = 0.5f;
        assert_int_equal(nn_optimizer_create_rmsprop(&opt, &rms), NN_OK);
        break;
    default: assert_int_equal(nn_optimizer_create_adagrad(&opt, &ada), NN_OK); break;
    }
    return opt;
}

/* One fused-update case: the first layer's width and activation, and whether steps go through
 * nn_model_train_step_indexed (the dataset's bytes) or nn_model_train_step (a float batch). */
typedef struct fused_case {
    int64_t hidden;
    nn_activation_kind act;
    int indexed;
} fused_case;

/* Steps of the case with optimizer `which`, each checked against the gradients nn_model_grads()
 * reports followed by nn_optimizer_step(): parameters and optimizer state bit for bit. */
static void check_fused_case(const nn_dataset *ds, const uint32_t *idx, int64_t in, fused_case fc, int which)
{
    enum { B = 19, STEPS = 5 };
    nn_model *m = make_mlp(in, &fc.hidden, 1, 10, nn_activation_make(fc.act), fused_test_optimizer(which), 8);
    nn_optimizer *ref = fused_test_optimizer(which), *mine = nn_model_get_optimizer(m);
    float *p, *g, *xd = malloc((size_t)(B * in) * sizeof(float)), yd[B];
    size_t np, kernel = (size_t)(in * fc.hidden);
    assert_non_null(xd);
    assert_int_equal(nn_model_params(m, &p, &np), NN_OK);
    assert_int_equal(nn_optimizer_setup(ref, np), NN_OK);
    float *want = malloc(np * sizeof(float));
    assert_non_null(want);
    nn_tensor x, y;
    int64_t xs[2] = {B, in}, ys[1] = {B};
    nn_tensor_view(&x, xd, 2, xs);
    nn_tensor_view(&y, yd, 1, ys);
    for (int step = 0; step < STEPS; step++) {
        const uint32_t *batch = idx + step * B;
        memcpy(want, p, np * sizeof(float));
        assert_int_equal(nn_model_grads(m, &g, NULL), NN_OK);
        memset(g, 0xff, np * sizeof(float)); /* NaN: shows which gradients the step wrote */
        float loss;
        if (fc.indexed) {
            assert_int_equal(nn_model_train_step_indexed(m, ds, batch, B, &loss, NULL), NN_OK);
        } else {
            assert_int_equal(nn_dataset_gather(ds, batch, B, &x, &y), NN_OK);
            assert_int_equal(nn_model_train_step(m, &x, &y, &loss, NULL), NN_OK);
        }
        for (size_t i = 0; i < kernel; i++) assert_true(isnan(g[i])); /* not written: fused */
        assert_false(isnan(g[kernel]));
        if (step == 1) {
            float acc;
            assert_int_equal(nn_model_evaluate_indexed(m, ds, idx + 60, 30, &loss, &acc, NULL), NN_OK);
        }
        if (step == 2) assert_int_equal(nn_model_reserve(m, 64), NN_OK);
        if (step == 3) {
            float out[B * 10];
            nn_tensor o;
            int64_t os[2] = {B, 10};
            nn_tensor_view(&o, out, 2, os);
            assert_int_equal(nn_dataset_gather(ds, idx, B, &x, &y), NN_OK);
            assert_int_equal(nn_model_predict(m, &o, &x), NN_OK);
        }
        float *g2;
        assert_int_equal(nn_model_grads(m, &g2, NULL), NN_OK);
        assert_ptr_equal(g2, g);
        assert_int_equal(nn_optimizer_step(ref, want, g, np), NN_OK);
        assert_memory_equal(p, want, np * sizeof(float));
        assert_int_equal(nn_optimizer_state_count(mine), nn_optimizer_state_count(ref));
        for (int k = 0; k < nn_optimizer_state_count(ref); k++) {
            float *a, *b;
            assert_int_equal(nn_optimizer_state(mine, k, NULL, &a, NULL), NN_OK);
            assert_int_equal(nn_optimizer_state(ref, k, NULL, &b, NULL), NN_OK);
            assert_memory_equal(a, b, np * sizeof(float));
        }
        assert_int_equal(nn_optimizer_get_iterations(mine), nn_optimizer_get_iterations(ref));
    }
    /* A step refused after its forward pass (an infinite pixel gives an infinite loss) changes
     * neither the parameters nor the optimizer's state, fused or not. */
    assert_int_equal(nn_dataset_gather(ds, idx, B, &x, &y), NN_OK);
    xd[7] = INFINITY;
    memcpy(want, p, np * sizeof(float));
    uint64_t iterations = nn_optimizer_get_iterations(mine);
    float loss;
    assert_int_equal(nn_model_train_step(m, &x, &y, &loss, NULL), NN_ERR_NUMERIC);
    assert_memory_equal(p, want, np * sizeof(float));
    assert_int_equal(nn_optimizer_get_iterations(mine), iterations);
    free(want);
    free(xd);
    nn_optimizer_free(ref);
    nn_model_free(m);
}

/* A training step on compressed rows computes the first layer's kernel gradient and applies the
 * optimizer to it in one pass, leaving the gradient out of the buffer until asked for. Checked bit
 * for bit against nn_optimizer_step() on the gradients nn_model_grads() then reports, for every
 * optimizer kind, from the dataset's bytes and from a float batch, with a first layer that keeps
 * its pre-activations and one that does not (linear), with one block of kernel rows and with
 * several (a partial last one), and with the gradient asked for after an evaluation, a
 * reallocation and a prediction, which reuse the inputs it is computed from. 63 inputs and batches
 * of 19 keep the workspace's arrays off whole cache lines, so that its padding shows under ASan.
 * Columns blank in every image give rows whose gradient is zero. */
static void test_model__fused_first_layer_update_is_gradient_then_step(void **s)
{
    (void)s;
    enum { N = 120, IN = 63 };
    uint8_t *pix = malloc(N * IN), lab[N];
    assert_non_null(pix);
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 17), NN_OK);
    for (int i = 0; i < N * IN; i++)
        pix[i] = (i % IN) < 6 || (i % IN) == 40 || nn_rng_below(rng, 5) ? 0 : (uint8_t)(1 + nn_rng_below(rng, 255));
    for (int i = 0; i < N; i++) lab[i] = (uint8_t)nn_rng_below(rng, 10);
    nn_rng_free(rng);
    nn_dataset *ds;
    assert_int_equal(nn_dataset_create(&ds, N, 7, 9, pix, lab), NN_OK);
    free(pix);
    uint32_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = (uint32_t)((i * 37) % N);
    /* 4096 / 300 = 13 rows a block: 5 blocks for 63 */
    static const fused_case cases[] = {
        {40, NN_ACT_RELU, 1}, {300, NN_ACT_RELU, 1}, {40, NN_ACT_LINEAR, 0}, {300, NN_ACT_TANH, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int which = 0; which < 6; which++) check_fused_case(ds, idx, IN, cases[c], which);
    nn_dataset_free(ds);
}

static void test_model__train_step_indexed_refuses_bad_arguments(void **s)
{
    (void)s;
    const int64_t hidden[] = {8};
    nn_dataset *ds = image_dataset(10, 8, 8, 0, 1), *wide = image_dataset(10, 9, 9, 0, 2);
    nn_model *m = make_mlp(64, hidden, 1, 10, nn_activation_make(NN_ACT_RELU), adam(1e-2f), 1);
    uint32_t idx[3] = {0, 9, 10};
    assert_int_equal(nn_model_train_step_indexed(m, NULL, idx, 2, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_train_step_indexed(m, ds, NULL, 2, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_train_step_indexed(m, ds, idx, 0, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_train_step_indexed(m, ds, idx, 3, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "idx[2] = 10"));
    assert_int_equal(nn_model_train_step_indexed(m, wide, idx, 2, NULL, NULL), NN_ERR_SHAPE);
    assert_int_equal(nn_model_train_step_indexed(NULL, ds, idx, 2, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    nn_model_free(m);
    nn_dataset_free(ds);
    nn_dataset_free(wide);
}

/* nn_model_evaluate_indexed against a gathered tensor, nn_model_evaluate and
 * nn_model_predict_classes: the same loss, accuracy and classes, bit for bit. */
static void evaluate_indexed_equals_gathered(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t n)
{
    int64_t f = nn_dataset_features(ds), xs[2] = {n, f}, ys[1] = {n};
    float *xb = malloc((size_t)(n * f) * sizeof(float)), *yb = malloc((size_t)n * sizeof(float));
    int32_t *ca = malloc((size_t)n * sizeof(int32_t)), *cb = malloc((size_t)n * sizeof(int32_t));
    nn_tensor x, y;
    nn_tensor_view(&x, xb, 2, xs);
    nn_tensor_view(&y, yb, 1, ys);
    assert_int_equal(idx ? nn_dataset_gather(ds, idx, n, &x, &y) : nn_dataset_slice(ds, 0, n, &x, &y), NN_OK);
    float la, aa, lb, ab;
    assert_int_equal(nn_model_evaluate_indexed(m, ds, idx, n, &la, &aa, ca), NN_OK);
    assert_int_equal(nn_model_evaluate(m, &x, &y, &lb, &ab), NN_OK);
    assert_int_equal(nn_model_predict_classes(m, cb, &x), NN_OK);
    assert_memory_equal(&la, &lb, sizeof la);
    assert_memory_equal(&aa, &ab, sizeof aa);
    assert_memory_equal(ca, cb, (size_t)n * sizeof(int32_t));
    assert_int_equal(nn_model_evaluate_indexed(m, ds, idx, n, NULL, NULL, NULL), NN_OK);
    free(xb);
    free(yb);
    free(ca);
    free(cb);
}

static void test_model__evaluate_indexed_is_gather_and_evaluate(void **s)
{
    (void)s;
    const int64_t hidden[] = {24};
    for (int dense = 0; dense < 2; dense++) {
        /* Sparse images take the compressed path, dense ones the gathered batch. */
        nn_dataset *ds = image_dataset(200, 8, 8, dense, 21 + (uint64_t)dense);
        nn_model *m = make_mlp(64, hidden, 1, 10, nn_activation_make(NN_ACT_RELU), adam(1e-2f), 7);
        uint32_t idx[150];
        for (int i = 0; i < 150; i++) idx[i] = (uint32_t)((i * 7919) % 200);
        /* Trained a little, so that the classes are not all one. */
        for (int i = 0; i + 20 <= 150; i += 20)
            assert_int_equal(nn_model_train_step_indexed(m, ds, idx + i, 20, NULL, NULL), NN_OK);
        evaluate_indexed_equals_gathered(m, ds, idx, 150);  /* 150: several reserved batches and a part */
        evaluate_indexed_equals_gathered(m, ds, NULL, 200); /* the first n, consecutive */
        evaluate_indexed_equals_gathered(m, ds, idx + 3, 1);
        nn_model_free(m);
        nn_dataset_free(ds);
    }
}

static void test_model__evaluate_indexed_refuses_bad_arguments(void **s)
{
    (void)s;
    const int64_t hidden[] = {8};
    nn_dataset *ds = image_dataset(10, 8, 8, 0, 1), *wide = image_dataset(10, 9, 9, 0, 2);
    nn_model *m = make_mlp(64, hidden, 1, 10, nn_activation_make(NN_ACT_RELU), adam(1e-2f), 1);
    uint32_t idx[3] = {0, 9, 10};
    float loss;
    assert_int_equal(nn_model_evaluate_indexed(m, NULL, idx, 2, &loss, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_evaluate_indexed(m, ds, idx, 0, &loss, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_evaluate_indexed(m, ds, idx, 3, &loss, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "idx[2] = 10"));
    assert_int_equal(nn_model_evaluate_indexed(m, ds, NULL, 11, &loss, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "11 examples"));
    assert_int_equal(nn_model_evaluate_indexed(m, wide, NULL, 2, &loss, NULL, NULL), NN_ERR_SHAPE);
    assert_int_equal(nn_model_evaluate_indexed(NULL, ds, idx, 2, &loss, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    nn_model_free(m);
    nn_dataset_free(ds);
    nn_dataset_free(wide);
}

static void test_model__summary_lists_layers_and_params(void **s)
{
    (void)s;
    int64_t hidden[1] = {128};
    nn_model *m = make_mlp(784, hidden, 1, 10, nn_activation_make(NN_ACT_RELU), adam(1e-3f), 1);
    size_t need = 0;
    assert_int_equal(nn_model_summary(m, NULL, 0, &need), NN_OK);
    char *buf = malloc(need + 1);
    assert_int_equal(nn_model_summary(m, buf, need + 1, NULL), NN_OK);
    assert_int_equal(strlen(buf), need);
    assert_non_null(strstr(buf, "Total params: 101770"));
    assert_non_null(strstr(buf, "(Dense, relu)"));
    assert_non_null(strstr(buf, "100480"));
    char small[16];
    assert_int_equal(nn_model_summary(m, small, sizeof small, NULL), NN_OK);
    assert_int_equal(strlen(small), sizeof small - 1);
    free(buf);
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model__train_step_gradient_matches_finite_differences),
        cmocka_unit_test(test_model__sparse_inputs_match_dense_path_and_gradients),
        cmocka_unit_test(test_model__sparse_relu_matches_dense_path),
        cmocka_unit_test(test_model__learns_xor),
        cmocka_unit_test(test_model__learns_two_spirals),
        cmocka_unit_test(test_model__same_seed_gives_bit_identical_weights),
        cmocka_unit_test(test_model__predict_gives_probabilities_and_classes_agree),
        cmocka_unit_test(test_model__errors_are_reported),
        cmocka_unit_test(test_model__summary_lists_layers_and_params),
        cmocka_unit_test(test_model__train_step_indexed_is_gather_and_step),
        cmocka_unit_test(test_model__fused_first_layer_update_is_gradient_then_step),
        cmocka_unit_test(test_model__train_step_indexed_refuses_bad_arguments),
        cmocka_unit_test(test_model__evaluate_indexed_is_gather_and_evaluate),
        cmocka_unit_test(test_model__evaluate_indexed_refuses_bad_arguments),
        cmocka_unit_test(test_model__nonfinite_inputs_and_targets_refused_state_unchanged),
        cmocka_unit_test(test_model__nonfinite_gradient_with_finite_loss_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
