/* Every layer kind, through the private layer interface: finite-difference gradients of the input and
 * of every trainable tensor, in training mode, from one table of cases. A kind registered in
 * libnn/layers/kinds.def without a case here fails test_layers__every_kind_has_a_gradient_case. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model_internal.h"
#include "testutil.h"

/* One layer under test: its input shape and how a model appends it. */
typedef struct layer_case {
    const char *name;
    nn_layer_kind kind;
    int rank;
    int64_t shape[3];
    nn_status (*add)(nn_model *m);
    double h; /* finite-difference step; 0 for 1e-2 (max pooling needs a smaller one, to stay off ties) */
} layer_case;

static nn_status add_dense_tanh(nn_model *m) { return nn_model_add_dense(m, 5, nn_activation_make(NN_ACT_TANH)); }
static nn_status add_dense_gelu(nn_model *m) { return nn_model_add_dense(m, 3, nn_activation_make(NN_ACT_GELU_TANH)); }
static nn_status add_activation(nn_model *m) { return nn_model_add_activation(m, nn_activation_make(NN_ACT_SILU)); }
static nn_status add_dropout(nn_model *m) { return nn_model_add_dropout(m, 0.4f); }
static nn_status add_batchnorm(nn_model *m) { return nn_model_add_batchnorm(m, NULL); }
static nn_status add_flatten(nn_model *m) { return nn_model_add_flatten(m); }

static nn_status add_conv_same_stride2(nn_model *m)
{
    nn_conv2d_options o = NN_CONV2D_OPTIONS_INIT;
    o.kernel_h = 3;
    o.kernel_w = 2;
    o.stride_h = o.stride_w = 2;
    o.padding = NN_PADDING_SAME;
    return nn_model_add_conv2d(m, 3, nn_activation_make(NN_ACT_TANH), &o);
}

static nn_status add_conv_valid_nobias(nn_model *m)
{
    nn_conv2d_options o = NN_CONV2D_OPTIONS_INIT;
    o.kernel_h = 2;
    o.kernel_w = 3;
    o.use_bias = 0;
    return nn_model_add_conv2d(m, 2, nn_activation_make(NN_ACT_LINEAR), &o);
}

static nn_status add_conv_explicit(nn_model *m)
{
    nn_conv2d_options o = NN_CONV2D_OPTIONS_INIT;
    o.padding = NN_PADDING_EXPLICIT;
    o.pad_top = 2;
    o.pad_left = 1;
    o.pad_right = 2;
    o.stride_w = 2;
    return nn_model_add_conv2d(m, 4, nn_activation_make(NN_ACT_SIGMOID), &o);
}

static nn_status add_maxpool_same(nn_model *m)
{
    nn_pool2d_options o = NN_POOL2D_OPTIONS_INIT;
    o.pool_h = 2;
    o.pool_w = 3;
    o.stride_w = 2;
    o.padding = NN_PADDING_SAME;
    return nn_model_add_maxpool2d(m, &o);
}

static nn_status add_avgpool_same(nn_model *m)
{
    nn_pool2d_options o = NN_POOL2D_OPTIONS_INIT;
    o.stride_h = o.stride_w = 1;
    o.padding = NN_PADDING_SAME;
    return nn_model_add_avgpool2d(m, &o);
}

static nn_status add_global_avgpool(nn_model *m) { return nn_model_add_global_avgpool2d(m); }

static const layer_case cases[] = {
    {"dense tanh", NN_LAYER_DENSE, 1, {7}, add_dense_tanh, 0},
    {"dense gelu_tanh", NN_LAYER_DENSE, 1, {4}, add_dense_gelu, 0},
    {"activation silu on an image", NN_LAYER_ACTIVATION, 3, {3, 2, 2}, add_activation, 0},
    {"dropout 0.4", NN_LAYER_DROPOUT, 1, {9}, add_dropout, 0},
    {"dropout on an image", NN_LAYER_DROPOUT, 3, {2, 3, 2}, add_dropout, 0},
    {"batchnorm features", NN_LAYER_BATCHNORM, 1, {5}, add_batchnorm, 0},
    {"batchnorm channels", NN_LAYER_BATCHNORM, 3, {3, 2, 4}, add_batchnorm, 0},
    {"flatten", NN_LAYER_FLATTEN, 3, {2, 3, 2}, add_flatten, 0},
    {"conv2d 3x2 stride 2 same tanh", NN_LAYER_CONV2D, 3, {5, 7, 2}, add_conv_same_stride2, 0},
    {"conv2d 2x3 valid no bias", NN_LAYER_CONV2D, 3, {6, 5, 3}, add_conv_valid_nobias, 0},
    {"conv2d 3x3 explicit padding stride (1, 2) sigmoid", NN_LAYER_CONV2D, 3, {4, 5, 1}, add_conv_explicit, 0},
    {"maxpool2d 2x3 stride (2, 2) same", NN_LAYER_MAXPOOL2D, 3, {5, 6, 2}, add_maxpool_same, 1e-4},
    {"maxpool2d default", NN_LAYER_MAXPOOL2D, 3, {4, 5, 3}, NULL, 1e-4},
    {"avgpool2d 2x2 stride 1 same", NN_LAYER_AVGPOOL2D, 3, {5, 5, 3}, add_avgpool_same, 0},
    {"global avgpool", NN_LAYER_GLOBAL_AVGPOOL2D, 3, {3, 4, 2}, add_global_avgpool, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

enum { BATCH = 3 };

/* A copy of a model's layer with buffers of the test's own, so that it runs outside any model. */
typedef struct harness {
    nn_model *model;
    nn__layer l;
    int64_t nin, nout;
    float *x, *y, *dy, *dx, *r, *ws;
    int32_t *iws;
    float *t[NN__MAX_LAYER_TENSORS], *g[NN__MAX_LAYER_TENSORS];
    size_t tn[NN__MAX_LAYER_TENSORS];
    nn_rng *rng;
    uint64_t rng_state[NN_RNG_STATE_WORDS];
} harness;

static void harness_setup(harness *h, const layer_case *c)
{
    memset(h, 0, sizeof *h);
    assert_int_equal(nn_model_create_shape(&h->model, c->rank, c->shape), NN_OK);
    assert_int_equal(c->add ? c->add(h->model) : nn_model_add_maxpool2d(h->model, NULL), NN_OK);
    h->l = *nn__model_layer(h->model, 0);
    h->nin = nn__shape_numel(&h->l.in);
    h->nout = nn__shape_numel(&h->l.out);
    nn_rng_create(&h->rng, 77);
    h->x = malloc((size_t)(BATCH * h->nin) * sizeof(float));
    h->dx = malloc((size_t)(BATCH * h->nin) * sizeof(float));
    h->y = malloc((size_t)(BATCH * h->nout) * sizeof(float));
    h->dy = malloc((size_t)(BATCH * h->nout) * sizeof(float));
    h->r = malloc((size_t)(BATCH * h->nout) * sizeof(float));
    tu_fill_uniform(h->x, (size_t)(BATCH * h->nin), -1.5f, 1.5f, h->rng);
    tu_fill_uniform(h->r, (size_t)(BATCH * h->nout), -1.0f, 1.0f, h->rng);
    for (int k = 0; k < h->l.ntensors; k++) {
        size_t n = 1;
        for (int d = 0; d < h->l.spec[k].rank; d++) n *= (size_t)h->l.spec[k].shape[d];
        h->tn[k] = n;
        h->t[k] = malloc(n * sizeof(float));
        h->g[k] = malloc(n * sizeof(float));
        /* Not the initial values: gamma of 1 and beta of 0 would hide a swapped gradient. */
        tu_fill_uniform(h->t[k], n, 0.5f, 1.5f, h->rng);
        h->l.t[k] = h->t[k];
        h->l.grad[k] = h->l.spec[k].trainable ? h->g[k] : NULL;
    }
    size_t f, n;
    h->l.ops->workspace(&h->l, BATCH, &f, &n);
    h->ws = malloc((f ? f : 1) * sizeof(float));
    h->iws = malloc((n ? n : 1) * sizeof(int32_t));
    h->l.ws = h->ws;
    h->l.iws = h->iws;
    h->l.y = h->y;
    if (h->l.ops->bind) h->l.ops->bind(&h->l, BATCH);
    nn_rng_get_state(h->rng, h->rng_state);
}

static void harness_free(harness *h)
{
    for (int k = 0; k < h->l.ntensors; k++) {
        free(h->t[k]);
        free(h->g[k]);
    }
    free(h->x);
    free(h->dx);
    free(h->y);
    free(h->dy);
    free(h->r);
    free(h->ws);
    free(h->iws);
    nn_rng_free(h->rng);
    nn_model_free(h->model);
}

/* L = sum(y * r) in training mode, with the generator rewound so that dropout draws the same mask. */
static double loss_of(void *ctx)
{
    harness *h = ctx;
    nn_rng_set_state(h->rng, h->rng_state);
    nn__pass p = {BATCH, 1, h->rng, 0, 0, 0};
    h->l.ops->forward(&h->l, &p, h->x, h->y);
    double sum = 0.0;
    for (int64_t i = 0; i < BATCH * h->nout; i++) sum += (double)h->y[i] * h->r[i];
    return sum;
}

static void check_case(const layer_case *c)
{
    harness h;
    harness_setup(&h, c);
    loss_of(&h);
    memcpy(h.dy, h.r, (size_t)(BATCH * h.nout) * sizeof(float));
    nn__pass p = {BATCH, 1, h.rng, 0, 0, 0};
    h.l.ops->backward(&h.l, &p, h.x, h.y, h.dy, h.dx);
    size_t worst;
    double step = c->h > 0 ? c->h : 1e-2;
    double err = tu_gradcheck(loss_of, &h, h.x, h.dx, (size_t)(BATCH * h.nin), step, &worst);
    if (err > 2e-2) fail_msg("%s: input gradient error %g at %zu", c->name, err, worst);
    for (int k = 0; k < h.l.ntensors; k++) {
        if (!h.l.spec[k].trainable) continue;
        err = tu_gradcheck(loss_of, &h, h.t[k], h.g[k], h.tn[k], step, &worst);
        if (err > 2e-2) fail_msg("%s: gradient of %s: error %g at %zu", c->name, h.l.spec[k].name, err, worst);
    }
    harness_free(&h);
}

static void test_layers__every_kind_has_a_gradient_case(void **s)
{
    (void)s;
    for (int i = 0; i < nn__layer_kind_count(); i++) {
        const nn__layer_ops *ops = nn__layer_ops_at(i);
        int found = 0;
        for (size_t k = 0; k < NCASES; k++) found |= cases[k].kind == ops->kind;
        if (!found) fail_msg("layer kind '%s' has no gradient case in tests/test_layers.c", ops->name);
    }
}

static void test_layers__gradients_match_finite_differences(void **s)
{
    (void)s;
    for (size_t k = 0; k < NCASES; k++) check_case(&cases[k]);
}

/* ---- conv2d against the definition */

/* TensorFlow's "same": out = ceil(in / stride), the odd padding pixel at the end. */
static int64_t same_before(int64_t in, int64_t k, int64_t stride, int64_t *out)
{
    *out = (in + stride - 1) / stride;
    int64_t total = (*out - 1) * stride + k - in;
    return total > 0 ? total / 2 : 0;
}

/* y[b, oy, ox, f] = bias[f] + sum over ky, kx, c of x[b, oy*sh + ky - pt, ox*sw + kx - pl, c] K[ky, kx, c, f],
 * in double, straight from the definition. */
static void test_conv2d__matches_a_direct_convolution_in_double(void **s)
{
    (void)s;
    enum { B = 2, H = 7, W = 6, C = 3, F = 4, KH = 3, KW = 2, SH = 2, SW = 1 };
    int64_t oh, ow, pt = same_before(H, KH, SH, &oh), pl = same_before(W, KW, SW, &ow);
    nn_model *m;
    int64_t shape[3] = {H, W, C};
    assert_int_equal(nn_model_create_shape(&m, 3, shape), NN_OK);
    nn_conv2d_options o = NN_CONV2D_OPTIONS_INIT;
    o.kernel_h = KH;
    o.kernel_w = KW;
    o.stride_h = SH;
    o.stride_w = SW;
    o.padding = NN_PADDING_SAME;
    assert_int_equal(nn_model_add_conv2d(m, F, nn_activation_make(NN_ACT_LINEAR), &o), NN_OK);
    assert_int_equal(nn_model_add_flatten(m), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_MSE, NULL), NN_OK);
    assert_int_equal(nn_model_output_features(m), oh * ow * F);
    enum { NP = KH * KW * C * F + F };
    float p[NP], x[B * H * W * C];
    nn_rng *r;
    nn_rng_create(&r, 31);
    tu_fill_uniform(p, NP, -1, 1, r);
    tu_fill_uniform(x, B * H * W * C, -2, 2, r);
    nn_rng_free(r);
    assert_int_equal(nn_model_set_params(m, p, NP), NN_OK);
    const float *k = p, *bias = p + KH * KW * C * F;
    float *y = malloc((size_t)(B * oh * ow * F) * sizeof *y);
    nn_tensor tx, ty;
    int64_t xs[4] = {B, H, W, C}, ys[2] = {B, oh * ow * F};
    nn_tensor_view(&tx, x, 4, xs);
    nn_tensor_view(&ty, y, 2, ys);
    assert_int_equal(nn_model_forward(m, &ty, &tx), NN_OK);
    double worst = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t f = 0; f < F; f++) {
                    double want = bias[f];
                    for (int64_t ky = 0; ky < KH; ky++)
                        for (int64_t kx = 0; kx < KW; kx++)
                            for (int64_t c = 0; c < C; c++) {
                                int64_t iy = oy * SH + ky - pt, ix = ox * SW + kx - pl;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                want += (double)x[((b * H + iy) * W + ix) * C + c] * k[((ky * KW + kx) * C + c) * F + f];
                            }
                    double got = y[((b * oh + oy) * ow + ox) * F + f];
                    if (fabs(got - want) > worst) worst = fabs(got - want);
                }
    assert_true(worst < 1e-5);
    free(y);
    nn_model_free(m);
}

/* ---- dropout */

/* Training-mode output of a dropout layer on n ones, from generator seed `seed`. */
static void dropout_on_ones(float rate, uint64_t seed, float *y, int64_t n, uint64_t *state_after)
{
    nn_model *m;
    assert_int_equal(nn_model_create(&m, n), NN_OK);
    assert_int_equal(nn_model_add_dropout(m, rate), NN_OK);
    nn__layer l = *nn__model_layer(m, 0);
    float *x = malloc((size_t)n * sizeof *x), *mask = malloc((size_t)n * sizeof *mask);
    for (int64_t i = 0; i < n; i++) x[i] = 1.0f;
    l.ws = mask;
    nn_rng *rng;
    nn_rng_create(&rng, seed);
    nn__pass p = {1, 1, rng, 1, 0, 0};
    l.ops->forward(&l, &p, x, y);
    uint64_t st[NN_RNG_STATE_WORDS];
    nn_rng_get_state(rng, st);
    if (state_after) *state_after = st[0];
    nn_rng_free(rng);
    free(x);
    free(mask);
    nn_model_free(m);
}

/* 200,000 draws at rate 0.3: the kept fraction's standard deviation is sqrt(0.7 * 0.3 / 2e5) = 0.001,
 * so 5 standard deviations (0.005) fail a correct layer about once in 1.7 million runs. */
static void test_dropout__kept_fraction_and_mean_match_the_rate(void **s)
{
    (void)s;
    enum { N = 200000 };
    float *y = malloc(N * sizeof *y);
    dropout_on_ones(0.3f, 5, y, N, NULL);
    double kept = 0, mean = 0;
    for (int i = 0; i < N; i++) {
        kept += y[i] != 0.0f;
        mean += y[i];
        assert_true(y[i] == 0.0f || fabsf(y[i] - 1.0f / 0.7f) < 1e-6f);
    }
    kept /= N;
    mean /= N;
    assert_true(fabs(kept - 0.7) < 0.005);
    assert_true(fabs(mean - 1.0) < 0.005 / 0.7);
    free(y);
}

static void test_dropout__same_seed_same_mask_and_rate_zero_draws_nothing(void **s)
{
    (void)s;
    enum { N = 1000 };
    float a[N], b[N], c[N];
    uint64_t sa, sc;
    dropout_on_ones(0.5f, 9, a, N, &sa);
    dropout_on_ones(0.5f, 9, b, N, NULL);
    assert_memory_equal(a, b, sizeof a);
    dropout_on_ones(0.5f, 10, b, N, NULL);
    assert_true(memcmp(a, b, sizeof a) != 0);
    dropout_on_ones(0.0f, 9, c, N, &sc);
    for (int i = 0; i < N; i++) assert_true(c[i] == 1.0f);
    nn_rng *fresh;
    nn_rng_create(&fresh, 9);
    uint64_t st[NN_RNG_STATE_WORDS];
    nn_rng_get_state(fresh, st);
    assert_true(sc == st[0]); /* the generator did not move */
    assert_true(sa != st[0]);
    nn_rng_free(fresh);
}

/* Builds in -> [dropout] -> [batchnorm] -> dense(C) and runs `steps` Adam steps on fixed data. */
static nn_model *small_model(int dropout, int batchnorm, uint64_t seed, int steps, float *x, float *y, int64_t b)
{
    enum { IN = 6, C = 3 };
    nn_model *m;
    nn_optimizer *opt;
    nn_rng *rng;
    assert_int_equal(nn_model_create(&m, IN), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 8, nn_activation_make(NN_ACT_RELU)), NN_OK);
    if (batchnorm) assert_int_equal(nn_model_add_batchnorm(m, NULL), NN_OK);
    if (dropout) assert_int_equal(nn_model_add_dropout(m, 0.5f), NN_OK);
    assert_int_equal(nn_model_add_dense(m, C, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_optimizer_create_adam(&opt, NULL), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt), NN_OK);
    nn_rng_create(&rng, 3);
    assert_int_equal(nn_model_init(m, rng), NN_OK);
    nn_rng_free(rng);
    nn_rng_seed(nn_model_rng(m), seed);
    nn_tensor tx, ty;
    int64_t xs[2] = {b, IN}, ys[1] = {b};
    nn_tensor_view(&tx, x, 2, xs);
    nn_tensor_view(&ty, y, 1, ys);
    for (int i = 0; i < steps; i++) assert_int_equal(nn_model_train_step(m, &tx, &ty, NULL, NULL), NN_OK);
    return m;
}

static void params_of(nn_model *m, float **p, size_t *n)
{
    assert_int_equal(nn_model_params(m, p, n), NN_OK);
}

static void test_dropout__masks_follow_the_model_generator_and_inference_is_identity(void **s)
{
    (void)s;
    enum { B = 16 };
    float x[B * 6], y[B];
    nn_rng *r;
    nn_rng_create(&r, 1);
    tu_fill_uniform(x, B * 6, -1, 1, r);
    for (int i = 0; i < B; i++) y[i] = (float)(i % 3);
    nn_rng_free(r);
    nn_model *a = small_model(1, 0, 42, 5, x, y, B), *b = small_model(1, 0, 42, 5, x, y, B),
             *c = small_model(1, 0, 43, 5, x, y, B);
    float *pa, *pb, *pc;
    size_t n;
    params_of(a, &pa, &n);
    params_of(b, &pb, &n);
    params_of(c, &pc, &n);
    assert_memory_equal(pa, pb, n * sizeof *pa);
    assert_true(memcmp(pa, pc, n * sizeof *pa) != 0);
    /* Inference: the same outputs as the same weights without the dropout layer. */
    nn_model *plain = small_model(0, 0, 42, 0, x, y, B);
    float *pp;
    params_of(plain, &pp, &n);
    memcpy(pp, pa, n * sizeof *pp);
    float oa[B * 3], op[B * 3];
    nn_tensor tx, toa, top;
    int64_t xs[2] = {B, 6}, os[2] = {B, 3};
    nn_tensor_view(&tx, x, 2, xs);
    nn_tensor_view(&toa, oa, 2, os);
    nn_tensor_view(&top, op, 2, os);
    assert_int_equal(nn_model_forward(a, &toa, &tx), NN_OK);
    assert_int_equal(nn_model_forward(plain, &top, &tx), NN_OK);
    assert_memory_equal(oa, op, sizeof oa);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
    nn_model_free(plain);
}

/* ---- batch norm */

static void test_batchnorm__inference_is_the_closed_form_with_moving_statistics(void **s)
{
    (void)s;
    enum { B = 5, C = 4 };
    nn_model *m;
    assert_int_equal(nn_model_create(&m, C), NN_OK);
    nn_batchnorm_options o = NN_BATCHNORM_OPTIONS_INIT;
    o.epsilon = 0.01f;
    assert_int_equal(nn_model_add_batchnorm(m, &o), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_MSE, NULL), NN_OK);
    assert_int_equal(nn_model_param_count(m), 2 * C);
    assert_int_equal(nn_model_buffer_count(m), 2 * C);
    float params[2 * C] = {0.5f, 1.5f, -2.0f, 1.0f, 0.1f, -0.2f, 0.3f, 0.0f};
    float buffers[2 * C] = {1.0f, -1.0f, 0.25f, 3.0f, 4.0f, 0.5f, 2.0f, 0.01f};
    assert_int_equal(nn_model_set_params(m, params, 2 * C), NN_OK);
    assert_int_equal(nn_model_set_buffers(m, buffers, 2 * C), NN_OK);
    float x[B * C], out[B * C];
    nn_rng *r;
    nn_rng_create(&r, 2);
    tu_fill_uniform(x, B * C, -3, 3, r);
    nn_rng_free(r);
    nn_tensor tx, to;
    int64_t sh[2] = {B, C};
    nn_tensor_view(&tx, x, 2, sh);
    nn_tensor_view(&to, out, 2, sh);
    assert_int_equal(nn_model_forward(m, &to, &tx), NN_OK);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < C; j++) {
            double want = params[j] * (x[i * C + j] - buffers[j]) / sqrt((double)buffers[C + j] + 0.01) + params[C + j];
            assert_true(fabs(out[i * C + j] - want) < 1e-5 * fmax(1.0, fabs(want)));
        }
    assert_int_equal(nn_model_set_buffers(m, buffers, C), NN_ERR_INVALID_ARGUMENT);
    nn_model_free(m);
}

/* Keras: moving = moving * momentum + batch * (1 - momentum), with the batch's biased variance,
 * starting from mean 0 and variance 1; computed here in double from the inputs of each step. */
static void test_batchnorm__moving_statistics_follow_keras_rule(void **s)
{
    (void)s;
    enum { B = 7, C = 3, STEPS = 4 };
    nn_model *m;
    nn_optimizer *opt;
    assert_int_equal(nn_model_create(&m, C), NN_OK);
    nn_batchnorm_options o = NN_BATCHNORM_OPTIONS_INIT;
    o.momentum = 0.9f;
    assert_int_equal(nn_model_add_batchnorm(m, &o), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt), NN_OK);
    nn_rng *r;
    nn_rng_create(&r, 8);
    assert_int_equal(nn_model_init(m, r), NN_OK);
    double mm[C] = {0, 0, 0}, mv[C] = {1, 1, 1};
    for (int step = 0; step < STEPS; step++) {
        float x[B * C], y[B];
        tu_fill_uniform(x, B * C, -2.0f + step, 3.0f + step, r);
        for (int i = 0; i < B; i++) y[i] = (float)(i % 2);
        nn_tensor tx, ty;
        int64_t xs[2] = {B, C}, ys[1] = {B};
        nn_tensor_view(&tx, x, 2, xs);
        nn_tensor_view(&ty, y, 1, ys);
        assert_int_equal(nn_model_train_step(m, &tx, &ty, NULL, NULL), NN_OK);
        for (int j = 0; j < C; j++) {
            double mean = 0, var = 0;
            for (int i = 0; i < B; i++) mean += x[i * C + j];
            mean /= B;
            for (int i = 0; i < B; i++) var += (x[i * C + j] - mean) * (x[i * C + j] - mean);
            var /= B;
            mm[j] = mm[j] * 0.9 + mean * 0.1;
            mv[j] = mv[j] * 0.9 + var * 0.1;
        }
    }
    float buf[2 * C];
    assert_int_equal(nn_model_get_buffers(m, buf, 2 * C), NN_OK);
    for (int j = 0; j < C; j++) {
        assert_true(fabs(buf[j] - mm[j]) < 1e-5 * fmax(1.0, fabs(mm[j])));
        assert_true(fabs(buf[C + j] - mv[j]) < 1e-5 * fmax(1.0, fabs(mv[j])));
    }
    nn_rng_free(r);
    nn_model_free(m);
}

/* A model with batch norm learns, and inference uses no batch statistics: one example
 * alone gives the same outputs as inside a batch. */
static void test_batchnorm__inference_does_not_depend_on_the_batch(void **s)
{
    (void)s;
    enum { B = 16 };
    float x[B * 6], y[B];
    nn_rng *r;
    nn_rng_create(&r, 4);
    tu_fill_uniform(x, B * 6, -1, 1, r);
    for (int i = 0; i < B; i++) y[i] = (float)(x[i * 6] > 0) + (float)(x[i * 6 + 1] > 0);
    nn_rng_free(r);
    nn_model *m = small_model(0, 1, 7, 2000, x, y, B);
    float all[B * 3], one[3];
    nn_tensor tx, to, t1x, t1o;
    int64_t xs[2] = {B, 6}, os[2] = {B, 3}, x1[2] = {1, 6}, o1[2] = {1, 3};
    nn_tensor_view(&tx, x, 2, xs);
    nn_tensor_view(&to, all, 2, os);
    nn_tensor_view(&t1x, x + 6 * 5, 2, x1);
    nn_tensor_view(&t1o, one, 2, o1);
    assert_int_equal(nn_model_forward(m, &to, &tx), NN_OK);
    assert_int_equal(nn_model_forward(m, &t1o, &t1x), NN_OK);
    assert_true(tu_max_abs_diff(one, all + 3 * 5, 3) < 1e-6);
    nn_tensor ty;
    int64_t ys[1] = {B};
    nn_tensor_view(&ty, y, 1, ys);
    float acc;
    assert_int_equal(nn_model_evaluate(m, &tx, &ty, NULL, &acc), NN_OK);
    assert_true(acc >= 0.9f);
    nn_model_free(m);
}

/* ---- options versions */

/* The layout a program built against libnn 0.1 passes: version 1 of the dense options. */
typedef struct dense_options_v1 {
    unsigned version;
    nn_init weight_init, bias_init;
} dense_options_v1;

static void test_options__older_and_newer_versions(void **s)
{
    (void)s;
    nn_model *m;
    assert_int_equal(nn_model_create(&m, 3), NN_OK);
    dense_options_v1 old = {1, NN_INIT_HE_UNIFORM, NN_INIT_ZEROS};
    assert_int_equal(nn_model_add_dense_ex(m, 2, nn_activation_make(NN_ACT_RELU), (const nn_dense_options *)&old),
                     NN_OK);
    nn_dense_options future = NN_DENSE_OPTIONS_INIT;
    future.version = NN_DENSE_OPTIONS_VERSION + 1;
    assert_int_equal(nn_model_add_dense_ex(m, 2, nn_activation_make(NN_ACT_RELU), &future), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "options version"));
    nn_batchnorm_options bo;
    assert_int_equal(nn_batchnorm_options_init(&bo, 1), NN_OK);
    assert_true(bo.version == 1 && bo.momentum == 0.99f && bo.epsilon == 1e-3f);
    assert_int_equal(nn_batchnorm_options_init(&bo, 0), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_batchnorm_options_init(NULL, 1), NN_ERR_INVALID_ARGUMENT);
    nn_model_free(m);
}

/* The mechanism for the day a struct grows: version 2 appends a field; a caller compiled against
 * version 1 passes the shorter struct and gets version 2's default for the new field, and the
 * library never reads past the caller's struct (the v1 value sits at the end of an exact-size
 * allocation, so ASan would see an over-read). */
typedef struct grow_v1 {
    unsigned version;
    float a;
} grow_v1;
typedef struct grow_v2 {
    unsigned version;
    float a, b;
} grow_v2;

static void test_options__a_struct_that_grew_takes_the_older_version(void **s)
{
    (void)s;
    static const size_t sizes[] = {sizeof(grow_v1), sizeof(grow_v2)};
    static const grow_v2 defaults = {2, 1.0f, 2.0f};
    grow_v1 *old = malloc(sizeof *old);
    old->version = 1;
    old->a = 5.0f;
    grow_v2 got;
    assert_int_equal(nn__options_take(&got, &defaults, old, sizes, 2, "test"), NN_OK);
    assert_true(got.version == 2 && got.a == 5.0f && got.b == 2.0f);
    assert_int_equal(nn__options_take(&got, &defaults, NULL, sizes, 2, "test"), NN_OK);
    assert_true(got.a == 1.0f && got.b == 2.0f);
    grow_v1 init;
    assert_int_equal(nn__options_init(&init, 1, &defaults, sizes, 2, "test"), NN_OK);
    assert_true(init.version == 1 && init.a == 1.0f);
    old->version = 3;
    assert_int_equal(nn__options_take(&got, &defaults, old, sizes, 2, "test"), NN_ERR_INVALID_ARGUMENT);
    free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers__every_kind_has_a_gradient_case),
        cmocka_unit_test(test_layers__gradients_match_finite_differences),
        cmocka_unit_test(test_conv2d__matches_a_direct_convolution_in_double),
        cmocka_unit_test(test_dropout__kept_fraction_and_mean_match_the_rate),
        cmocka_unit_test(test_dropout__same_seed_same_mask_and_rate_zero_draws_nothing),
        cmocka_unit_test(test_dropout__masks_follow_the_model_generator_and_inference_is_identity),
        cmocka_unit_test(test_batchnorm__inference_is_the_closed_form_with_moving_statistics),
        cmocka_unit_test(test_batchnorm__moving_statistics_follow_keras_rule),
        cmocka_unit_test(test_batchnorm__inference_does_not_depend_on_the_batch),
        cmocka_unit_test(test_options__older_and_newer_versions),
        cmocka_unit_test(test_options__a_struct_that_grew_takes_the_older_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
