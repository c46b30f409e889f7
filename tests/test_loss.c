/* Tests of loss.h: values against hand computations, gradients against finite differences,
 * stability at logits of 1e4, aliasing, and error messages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs these before it, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "nn/nn.h"
#include "testutil.h"

static nn_tensor view2(float *data, int64_t b, int64_t c)
{
    nn_tensor t;
    int64_t shape[2] = {b, c};
    assert_int_equal(nn_tensor_view(&t, data, 2, shape), NN_OK);
    return t;
}

static nn_tensor view1(float *data, int64_t b)
{
    nn_tensor t;
    assert_int_equal(nn_tensor_view(&t, data, 1, &b), NN_OK);
    return t;
}

static void expect_error(nn_status got, nn_status want, const char *detail)
{
    assert_int_equal(got, want);
    if (!strstr(nn_last_error(), detail)) fail_msg("message \"%s\" lacks \"%s\"", nn_last_error(), detail);
}

/* ---- names */

static void test_names__round_trip_and_reject_unknown(void **state)
{
    (void)state;
    nn_loss_kind k;
    for (int i = 0; i < 2; i++) {
        const char *name = nn_loss_name((nn_loss_kind)i);
        assert_non_null(name);
        assert_int_equal(nn_loss_from_name(&k, name), NN_OK);
        assert_int_equal(k, i);
    }
    assert_string_equal(nn_loss_name(NN_LOSS_SOFTMAX_CROSS_ENTROPY), "softmax_cross_entropy");
    assert_string_equal(nn_loss_name(NN_LOSS_MSE), "mse");
    assert_null(nn_loss_name((nn_loss_kind)2));
    expect_error(nn_loss_from_name(&k, "hinge"), NN_ERR_INVALID_ARGUMENT, "\"hinge\"");
    assert_non_null(strstr(nn_last_error(), "softmax_cross_entropy"));
    assert_non_null(strstr(nn_last_error(), "mse"));
    expect_error(nn_loss_from_name(NULL, "mse"), NN_ERR_INVALID_ARGUMENT, "out");
    expect_error(nn_loss_from_name(&k, NULL), NN_ERR_INVALID_ARGUMENT, "name");
}

/* ---- softmax cross-entropy: values */

/* Logits {1, 2, 3} class 2 and {1, 1, 1} class 0: log(e + e^2 + e^3) - 3 and log 3. */
static void test_cross_entropy__equals_hand_computation(void **state)
{
    (void)state;
    float x[6] = {1, 2, 3, 1, 1, 1}, y[2] = {2, 0}, g[6];
    nn_tensor lt = view2(x, 2, 3), yt = view1(y, 2), gt = view2(g, 2, 3);
    float loss;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, &gt, &lt, &yt), NN_OK);
    double e = exp(1.0);
    double row0 = log(e + e * e + e * e * e) - 3, row1 = log(3.0);
    assert_float_equal(loss, (row0 + row1) / 2, 1e-6);
    /* d/dx = (softmax - onehot) / B */
    double s0 = e / (e + e * e + e * e * e);
    assert_float_equal(g[0], s0 / 2, 1e-7);
    assert_float_equal(g[2], (e * e * e / (e + e * e + e * e * e) - 1) / 2, 1e-7);
    assert_float_equal(g[3], (1.0 / 3 - 1) / 2, 1e-7);
    assert_float_equal(g[4], (1.0 / 3) / 2, 1e-7);

    /* The same targets as one-hot rows give the same loss and gradient. */
    float dist[6] = {0, 0, 1, 1, 0, 0}, g2[6], loss2;
    nn_tensor dt = view2(dist, 2, 3), g2t = view2(g2, 2, 3);
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss2, &g2t, &lt, &dt), NN_OK);
    assert_float_equal(loss2, loss, 1e-7);
    assert_true(tu_max_abs_diff(g, g2, 6) < 1e-7);

    /* Without a gradient, the same loss. */
    float loss3;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss3, NULL, &lt, &yt), NN_OK);
    assert_true(loss3 == loss);
}

/* Soft targets: loss = -sum t log softmax, checked in double. */
static void test_cross_entropy__soft_targets_equal_hand_computation(void **state)
{
    (void)state;
    float x[3] = {0.5f, -1.0f, 2.0f}, t[3] = {0.2f, 0.3f, 0.5f};
    nn_tensor lt = view2(x, 1, 3), tt = view2(t, 1, 3);
    double z = exp(0.5) + exp(-1.0) + exp(2.0);
    double want = -(0.2 * log(exp(0.5) / z) + 0.3 * log(exp(-1.0) / z) + 0.5 * log(exp(2.0) / z));
    float loss;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &tt), NN_OK);
    assert_float_equal(loss, want, 1e-6);
}

/* Rows [1e4, -1e4, 0] with classes 0, 1, 2 lose about 0, 2e4 and 1e4: mean exactly 1e4 in float. */
static void test_cross_entropy__logits_of_1e4_give_finite_exact_loss(void **state)
{
    (void)state;
    float x[9] = {1e4f, -1e4f, 0, 1e4f, -1e4f, 0, 1e4f, -1e4f, 0}, y[3] = {0, 1, 2}, g[9];
    nn_tensor lt = view2(x, 3, 3), yt = view1(y, 3), gt = view2(g, 3, 3);
    float loss;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, &gt, &lt, &yt), NN_OK);
    assert_true(isfinite(loss));
    assert_float_equal(loss, 1e4, 1e-3);
    for (int i = 0; i < 9; i++) assert_true(isfinite(g[i]));
    /* softmax is (1, 0, 0): row 0's gradient is 0, row 1's is (1, -1, 0) / 3. */
    assert_float_equal(g[0], 0, 1e-7);
    assert_float_equal(g[3], 1.0 / 3, 1e-7);
    assert_float_equal(g[4], -1.0 / 3, 1e-7);

    float big[2] = {-1e4f, 1e4f}, cls = 0;
    nn_tensor bt = view2(big, 1, 2), ct = view1(&cls, 1);
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, NULL, &bt, &ct), NN_OK);
    assert_float_equal(loss, 2e4, 1e-3);
}

/* A float running sum of 1e5 equal losses drifts by ~1e-4 relative; the mean must not. */
static void test_cross_entropy__mean_of_many_rows_stays_accurate(void **state)
{
    (void)state;
    enum { B = 100000, C = 10 };
    float *x = malloc(sizeof(float) * B * C), *y = malloc(sizeof(float) * B);
    assert_non_null(x);
    assert_non_null(y);
    for (int i = 0; i < B; i++) {
        for (int j = 0; j < C; j++) x[i * C + j] = 0.1f * (float)j;
        y[i] = 3;
    }
    double z = 0;
    for (int j = 0; j < C; j++) z += exp(0.1 * j);
    double want = log(z) - (double)0.1f * 3;
    nn_tensor lt = view2(x, B, C), yt = view1(y, B);
    float loss;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &yt), NN_OK);
    assert_float_equal(loss, want, 2e-7 * want);
    free(x);
    free(y);
}

/* ---- softmax cross-entropy: gradients */

typedef struct ce_ctx {
    nn_tensor *logits, *target;
} ce_ctx;

static double ce_value(void *p)
{
    ce_ctx *c = p;
    float loss;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, NULL, c->logits, c->target), NN_OK);
    return loss;
}

/* h = 1e-2: the loss is rounded to float (~6e-8 relative), so the difference quotient carries ~1e-5
 * of noise, and the truncation error h^2 f''' / 6 is below 1e-5 for these smooth functions. Entries
 * of the gradient are ~0.1 (1 / B scale), so 1e-4 absolute is a tight bound: a missing 1 / B or a
 * sign error is off by more than 1e-2. */
#define GRAD_TOL 1e-4

static void check_ce_gradient(int dense, uint64_t seed)
{
    enum { B = 4, C = 5 };
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, seed), NN_OK);
    float x[B * C], t[B * C], g[B * C];
    tu_fill_uniform(x, B * C, -3.0f, 3.0f, rng);
    if (dense) {
        /* random distributions: normalised positive weights */
        for (int i = 0; i < B; i++) {
            double s = 0;
            float w[C];
            for (int j = 0; j < C; j++) s += w[j] = 0.05f + nn_rng_uniform(rng);
            for (int j = 0; j < C; j++) t[i * C + j] = (float)(w[j] / s);
        }
    } else {
        for (int i = 0; i < B; i++) t[i] = (float)nn_rng_below(rng, C);
    }
    nn_rng_free(rng);
    nn_tensor lt = view2(x, B, C), tt = dense ? view2(t, B, C) : view1(t, B), gt = view2(g, B, C);
    float loss;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, &gt, &lt, &tt), NN_OK);
    ce_ctx c = {&lt, &tt};
    size_t worst = 0;
    double err = tu_gradcheck(ce_value, &c, x, g, B * C, 1e-2, &worst);
    if (err >= GRAD_TOL) fail_msg("%s targets: error %g at %zu", dense ? "dense" : "index", err, worst);
}

static void test_cross_entropy__class_index_gradient_matches_finite_differences(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) check_ce_gradient(0, seed);
}

static void test_cross_entropy__distribution_gradient_matches_finite_differences(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) check_ce_gradient(1, seed);
}

static void test_cross_entropy__gradient_rows_sum_to_zero(void **state)
{
    (void)state;
    enum { B = 8, C = 10 };
    float x[B * C], y[B], g[B * C];
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 9), NN_OK);
    tu_fill_uniform(x, B * C, -5.0f, 5.0f, rng);
    for (int i = 0; i < B; i++) y[i] = (float)nn_rng_below(rng, C);
    nn_rng_free(rng);
    nn_tensor lt = view2(x, B, C), yt = view1(y, B), gt = view2(g, B, C);
    float loss;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, &gt, &lt, &yt), NN_OK);
    for (int i = 0; i < B; i++) {
        double s = 0;
        for (int j = 0; j < C; j++) s += g[i * C + j];
        assert_float_equal(s, 0, 1e-7);
    }
}

static void test_cross_entropy__grad_may_alias_logits(void **state)
{
    (void)state;
    enum { B = 3, C = 4 };
    float x[B * C], y[B] = {0, 3, 1}, g[B * C], inplace[B * C];
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 11), NN_OK);
    tu_fill_uniform(x, B * C, -2.0f, 2.0f, rng);
    nn_rng_free(rng);
    memcpy(inplace, x, sizeof x);
    nn_tensor lt = view2(x, B, C), yt = view1(y, B), gt = view2(g, B, C), it = view2(inplace, B, C);
    float loss, loss_inplace;
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, &gt, &lt, &yt), NN_OK);
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss_inplace, &it, &it, &yt), NN_OK);
    assert_true(loss == loss_inplace);
    assert_memory_equal(inplace, g, sizeof g);

    /* the same with distribution targets */
    float t[B * C] = {1, 0, 0, 0, 0, 0, 0.5f, 0.5f, 0.25f, 0.25f, 0.25f, 0.25f};
    nn_tensor tt = view2(t, B, C);
    memcpy(inplace, x, sizeof x);
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss, &gt, &lt, &tt), NN_OK);
    assert_int_equal(nn_loss_softmax_cross_entropy(&loss_inplace, &it, &it, &tt), NN_OK);
    assert_true(loss == loss_inplace);
    assert_memory_equal(inplace, g, sizeof g);
}

/* ---- softmax */

static void test_softmax__rows_sum_to_one_and_match_double(void **state)
{
    (void)state;
    enum { B = 5, C = 7 };
    float x[B * C], p[B * C];
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 3), NN_OK);
    tu_fill_uniform(x, B * C, -10.0f, 10.0f, rng);
    nn_rng_free(rng);
    x[0] = 1e4f; /* row 0 dominated by one huge logit */
    x[C] = -1e4f;
    nn_tensor lt = view2(x, B, C), pt = view2(p, B, C);
    assert_int_equal(nn_softmax(&pt, &lt), NN_OK);
    for (int i = 0; i < B; i++) {
        double m = -INFINITY, z = 0, s = 0;
        for (int j = 0; j < C; j++) m = fmax(m, x[i * C + j]);
        for (int j = 0; j < C; j++) z += exp(x[i * C + j] - m);
        for (int j = 0; j < C; j++) {
            double want = exp(x[i * C + j] - m) / z;
            assert_true(isfinite(p[i * C + j]));
            assert_float_equal(p[i * C + j], want, 1e-7 + 2e-7 * want);
            s += p[i * C + j];
        }
        assert_float_equal(s, 1.0, 1e-6);
    }
    assert_true(p[0] == 1.0f);

    /* in place */
    float q[B * C];
    memcpy(q, x, sizeof q);
    nn_tensor qt = view2(q, B, C);
    assert_int_equal(nn_softmax(&qt, &qt), NN_OK);
    assert_memory_equal(q, p, sizeof q);
}

static void test_softmax__rejects_bad_shapes(void **state)
{
    (void)state;
    float x[6], y[6];
    nn_tensor a = view1(x, 6), b = view2(y, 2, 3), c = view2(x, 3, 2);
    expect_error(nn_softmax(&b, &a), NN_ERR_SHAPE, "(6)");
    expect_error(nn_softmax(&b, &c), NN_ERR_SHAPE, "(3, 2)");
    assert_non_null(strstr(nn_last_error(), "(2, 3)"));
    expect_error(nn_softmax(NULL, &b), NN_ERR_INVALID_ARGUMENT, "out is NULL");
    expect_error(nn_softmax(&b, NULL), NN_ERR_INVALID_ARGUMENT, "logits is NULL");
}

/* ---- mean squared error */

static void test_mse__equals_hand_computation(void **state)
{
    (void)state;
    float p[4] = {1, 2, 3, 4}, t[4] = {0, 2, 5, 4}, g[4];
    nn_tensor pt = view2(p, 2, 2), tt = view2(t, 2, 2), gt = view2(g, 2, 2);
    float loss;
    assert_int_equal(nn_loss_mse(&loss, &gt, &pt, &tt), NN_OK);
    assert_true(loss == 1.25f);          /* (1 + 0 + 4 + 0) / 4 */
    float want[4] = {0.5f, 0, -1.0f, 0}; /* 2 (p - t) / 4 */
    assert_memory_equal(g, want, sizeof want);
    /* in place over pred */
    assert_int_equal(nn_loss_mse(&loss, &pt, &pt, &tt), NN_OK);
    assert_memory_equal(p, want, sizeof want);
}

typedef struct mse_ctx {
    nn_tensor *pred, *target;
} mse_ctx;

static double mse_value(void *p)
{
    mse_ctx *c = p;
    float loss;
    assert_int_equal(nn_loss_mse(&loss, NULL, c->pred, c->target), NN_OK);
    return loss;
}

static void test_mse__gradient_matches_finite_differences(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        float p[12], t[12], g[12];
        nn_rng *rng;
        assert_int_equal(nn_rng_create(&rng, seed), NN_OK);
        tu_fill_uniform(p, 12, -2.0f, 2.0f, rng);
        tu_fill_uniform(t, 12, -2.0f, 2.0f, rng);
        nn_rng_free(rng);
        nn_tensor pt = view2(p, 3, 4), tt = view2(t, 3, 4), gt = view2(g, 3, 4);
        float loss;
        assert_int_equal(nn_loss_mse(&loss, &gt, &pt, &tt), NN_OK);
        mse_ctx c = {&pt, &tt};
        double err = tu_gradcheck(mse_value, &c, p, g, 12, 1e-2, NULL);
        assert_true(err < GRAD_TOL);
    }
}

/* ---- dispatch */

static void test_compute__dispatches_by_kind(void **state)
{
    (void)state;
    float x[6] = {0.1f, 0.2f, 0.3f, -1, 0, 1}, y[2] = {1, 2}, t[6] = {0, 1, 0, 0, 0, 1};
    nn_tensor lt = view2(x, 2, 3), yt = view1(y, 2), tt = view2(t, 2, 3);
    float a, b;
    assert_int_equal(nn_loss_compute(NN_LOSS_SOFTMAX_CROSS_ENTROPY, &a, NULL, &lt, &yt), NN_OK);
    assert_int_equal(nn_loss_softmax_cross_entropy(&b, NULL, &lt, &yt), NN_OK);
    assert_true(a == b);
    assert_int_equal(nn_loss_compute(NN_LOSS_MSE, &a, NULL, &lt, &tt), NN_OK);
    assert_int_equal(nn_loss_mse(&b, NULL, &lt, &tt), NN_OK);
    assert_true(a == b);
    expect_error(nn_loss_compute((nn_loss_kind)7, &a, NULL, &lt, &tt), NN_ERR_INVALID_ARGUMENT, "7");
}

/* ---- error paths */

static void test_cross_entropy__shape_errors_name_both_shapes(void **state)
{
    (void)state;
    static float x[32 * 10], y[32], g[32 * 10];
    nn_tensor lt = view2(x, 32, 10), short_t = view1(y, 31), yt = view1(y, 32);
    float loss;
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &short_t), NN_ERR_SHAPE,
                 "softmax_cross_entropy: logits are (32, 10), targets (31)");
    nn_tensor wide = view2(g, 32, 9);
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &wide), NN_ERR_SHAPE, "targets (32, 9)");
    expect_error(nn_loss_softmax_cross_entropy(&loss, &wide, &lt, &yt), NN_ERR_SHAPE, "grad is (32, 9)");
    nn_tensor flat = view1(x, 320);
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &flat, &yt), NN_ERR_SHAPE, "logits are (320)");
}

static void test_cross_entropy__rejects_bad_class_indices(void **state)
{
    (void)state;
    float x[6] = {0}, y[2] = {0, 3};
    nn_tensor lt = view2(x, 2, 3), yt = view1(y, 2);
    float loss = -1;
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &yt), NN_ERR_INVALID_ARGUMENT,
                 "outside [0, 3)");
    assert_non_null(strstr(nn_last_error(), "target 1 is 3"));
    assert_true(loss == -1); /* untouched */
    y[1] = 1.5f;
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &yt), NN_ERR_INVALID_ARGUMENT,
                 "not a whole");
    y[1] = -1;
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &yt), NN_ERR_INVALID_ARGUMENT, "is -1");
    y[1] = NAN;
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &yt), NN_ERR_INVALID_ARGUMENT,
                 "target 1 is nan");
}

static void test_cross_entropy__rejects_rows_that_are_not_distributions(void **state)
{
    (void)state;
    float x[6] = {0}, t[6] = {1, 0, 0, 0.25f, 0.25f, 0};
    nn_tensor lt = view2(x, 2, 3), tt = view2(t, 2, 3);
    float loss;
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &tt), NN_ERR_INVALID_ARGUMENT,
                 "row 1 sums to 0.5");
    t[3] = -0.5f;
    t[4] = 1.5f;
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, &tt), NN_ERR_INVALID_ARGUMENT, "(1, 0)");
}

static void test_null_arguments__are_rejected_with_their_name(void **state)
{
    (void)state;
    float x[4] = {0}, y[2] = {0, 1};
    nn_tensor lt = view2(x, 2, 2), yt = view1(y, 2), nodata = lt;
    nodata.data = NULL;
    float loss;
    expect_error(nn_loss_softmax_cross_entropy(NULL, NULL, &lt, &yt), NN_ERR_INVALID_ARGUMENT,
                 "loss is NULL");
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, NULL, &yt), NN_ERR_INVALID_ARGUMENT,
                 "logits is NULL");
    expect_error(nn_loss_softmax_cross_entropy(&loss, NULL, &lt, NULL), NN_ERR_INVALID_ARGUMENT,
                 "targets is NULL");
    expect_error(nn_loss_softmax_cross_entropy(&loss, &nodata, &lt, &yt), NN_ERR_INVALID_ARGUMENT,
                 "grad has no data");
    expect_error(nn_loss_mse(NULL, NULL, &lt, &lt), NN_ERR_INVALID_ARGUMENT, "loss is NULL");
    expect_error(nn_loss_mse(&loss, NULL, NULL, &lt), NN_ERR_INVALID_ARGUMENT, "pred is NULL");
    expect_error(nn_loss_mse(&loss, NULL, &lt, NULL), NN_ERR_INVALID_ARGUMENT, "target is NULL");
}

static void test_mse__shape_mismatch_names_both_shapes(void **state)
{
    (void)state;
    float a[6] = {0}, b[6] = {0};
    nn_tensor p = view2(a, 2, 3), t = view2(b, 3, 2), g = view1(b, 6);
    float loss;
    expect_error(nn_loss_mse(&loss, NULL, &p, &t), NN_ERR_SHAPE, "mse: pred is (2, 3), target (3, 2)");
    expect_error(nn_loss_mse(&loss, &g, &p, &p), NN_ERR_SHAPE, "grad is (6), pred (2, 3)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names__round_trip_and_reject_unknown),
        cmocka_unit_test(test_cross_entropy__equals_hand_computation),
        cmocka_unit_test(test_cross_entropy__soft_targets_equal_hand_computation),
        cmocka_unit_test(test_cross_entropy__logits_of_1e4_give_finite_exact_loss),
        cmocka_unit_test(test_cross_entropy__mean_of_many_rows_stays_accurate),
        cmocka_unit_test(test_cross_entropy__class_index_gradient_matches_finite_differences),
        cmocka_unit_test(test_cross_entropy__distribution_gradient_matches_finite_differences),
        cmocka_unit_test(test_cross_entropy__gradient_rows_sum_to_zero),
        cmocka_unit_test(test_cross_entropy__grad_may_alias_logits),
        cmocka_unit_test(test_softmax__rows_sum_to_one_and_match_double),
        cmocka_unit_test(test_softmax__rejects_bad_shapes),
        cmocka_unit_test(test_mse__equals_hand_computation),
        cmocka_unit_test(test_mse__gradient_matches_finite_differences),
        cmocka_unit_test(test_compute__dispatches_by_kind),
        cmocka_unit_test(test_cross_entropy__shape_errors_name_both_shapes),
        cmocka_unit_test(test_cross_entropy__rejects_bad_class_indices),
        cmocka_unit_test(test_cross_entropy__rejects_rows_that_are_not_distributions),
        cmocka_unit_test(test_null_arguments__are_rejected_with_their_name),
        cmocka_unit_test(test_mse__shape_mismatch_names_both_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
