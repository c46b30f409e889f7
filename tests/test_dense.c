/* The dense layer: BLAS against the naive product, and finite-difference gradients for inputs, weights
 * and biases under several activations. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compute.h"
#include "nn/experimental.h"
#include "testutil.h"

enum { B = 3, IN = 5, OUT = 4 };

typedef struct fixture {
    float x[B * IN], w[IN * OUT], b[OUT], g[B * OUT]; /* g: fixed upstream gradient d loss / d y */
    nn_tensor tx, tw, tb;
    nn_activation act;
} fixture;

/* loss = sum(g * dense(x)): its gradient with respect to y is exactly g. */
static double dense_loss(void *ctx)
{
    fixture *f = ctx;
    float y[B * OUT];
    nn_tensor ty;
    int64_t s[2] = {B, OUT};
    nn_tensor_view(&ty, y, 2, s);
    assert_int_equal(nn_dense_forward(&ty, NULL, &f->tx, &f->tw, &f->tb, f->act), NN_OK);
    double l = 0.0;
    for (int i = 0; i < B * OUT; i++) l += (double)f->g[i] * y[i];
    return l;
}

static void setup_fixture(fixture *f, nn_activation act, uint64_t seed)
{
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, seed), NN_OK);
    tu_fill_uniform(f->x, B * IN, -1.0f, 1.0f, rng);
    tu_fill_uniform(f->w, IN * OUT, -1.0f, 1.0f, rng);
    tu_fill_uniform(f->b, OUT, -0.5f, 0.5f, rng);
    tu_fill_uniform(f->g, B * OUT, -1.0f, 1.0f, rng);
    nn_rng_free(rng);
    int64_t xs[2] = {B, IN}, ws[2] = {IN, OUT}, bs[1] = {OUT};
    nn_tensor_view(&f->tx, f->x, 2, xs);
    nn_tensor_view(&f->tw, f->w, 2, ws);
    nn_tensor_view(&f->tb, f->b, 1, bs);
    f->act = act;
}

/* Tolerance: float32 forward, central differences with h = 1e-2; the truncation error is O(h^2) and
 * the rounding error about 1e-7 / h, so 2e-3 (relative, for values above 1) separates a right
 * gradient from a wrong one by orders of magnitude. */
#define GRAD_TOL 2e-3

static void check_dense_gradients(nn_activation act)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        fixture f;
        setup_fixture(&f, act, seed);
        float pre[B * OUT], y[B * OUT], dy[B * OUT], dx[B * IN], dw[IN * OUT], db[OUT];
        nn_tensor tpre, ty, tdy, tdx, tdw, tdb;
        int64_t os[2] = {B, OUT}, xs[2] = {B, IN}, ws[2] = {IN, OUT}, bs[1] = {OUT};
        nn_tensor_view(&tpre, pre, 2, os);
        nn_tensor_view(&ty, y, 2, os);
        nn_tensor_view(&tdy, dy, 2, os);
        nn_tensor_view(&tdx, dx, 2, xs);
        nn_tensor_view(&tdw, dw, 2, ws);
        nn_tensor_view(&tdb, db, 1, bs);
        assert_int_equal(nn_dense_forward(&ty, &tpre, &f.tx, &f.tw, &f.tb, act), NN_OK);
        memcpy(dy, f.g, sizeof dy);
        assert_int_equal(nn_dense_backward(&tdx, &tdw, &tdb, &tdy, &f.tx, &f.tw, &tpre, &ty, act, &tdy), NN_OK);
        double ex = tu_gradcheck(dense_loss, &f, f.x, dx, B * IN, 1e-2, NULL);
        double ew = tu_gradcheck(dense_loss, &f, f.w, dw, IN * OUT, 1e-2, NULL);
        double eb = tu_gradcheck(dense_loss, &f, f.b, db, OUT, 1e-2, NULL);
        if (ex > GRAD_TOL || ew > GRAD_TOL || eb > GRAD_TOL)
            fail_msg("%s seed %llu: gradient errors x %.2e w %.2e b %.2e", nn_activation_name(act.kind),
                     (unsigned long long)seed, ex, ew, eb);
    }
}

static void test_dense__gradients_linear(void **s) { (void)s; check_dense_gradients(nn_activation_make(NN_ACT_LINEAR)); }
static void test_dense__gradients_sigmoid(void **s) { (void)s; check_dense_gradients(nn_activation_make(NN_ACT_SIGMOID)); }
static void test_dense__gradients_tanh(void **s) { (void)s; check_dense_gradients(nn_activation_make(NN_ACT_TANH)); }
static void test_dense__gradients_gelu(void **s) { (void)s; check_dense_gradients(nn_activation_make(NN_ACT_GELU)); }
static void test_dense__gradients_softplus(void **s) { (void)s; check_dense_gradients(nn_activation_make(NN_ACT_SOFTPLUS)); }

/* A wrong gradient must be caught: the check is not vacuous. */
static void test_dense__gradcheck_detects_a_wrong_gradient(void **s)
{
    (void)s;
    fixture f;
    setup_fixture(&f, nn_activation_make(NN_ACT_TANH), 7);
    float wrong[IN * OUT] = {0};
    assert_true(tu_gradcheck(dense_loss, &f, f.w, wrong, IN * OUT, 1e-2, NULL) > 0.05);
}

static void test_dense__forward_matches_definition(void **s)
{
    (void)s;
    fixture f;
    setup_fixture(&f, nn_activation_make(NN_ACT_TANH), 3);
    float y[B * OUT];
    nn_tensor ty;
    int64_t os[2] = {B, OUT};
    nn_tensor_view(&ty, y, 2, os);
    assert_int_equal(nn_dense_forward(&ty, NULL, &f.tx, &f.tw, &f.tb, f.act), NN_OK);
    for (int r = 0; r < B; r++)
        for (int j = 0; j < OUT; j++) {
            double acc = f.b[j];
            for (int k = 0; k < IN; k++) acc += (double)f.x[r * IN + k] * f.w[k * OUT + j];
            assert_float_equal(y[r * OUT + j], tanh(acc), 1e-5);
        }
}

static void test_dense__blas_matches_naive_product(void **s)
{
    (void)s;
    nn_rng *rng;
    nn_rng_create(&rng, 11);
    enum { M = 7, N = 9, K = 13 };
    float a[M * K], b[K * N], c1[M * N], c2[M * N];
    tu_fill_uniform(a, M * K, -1, 1, rng);
    tu_fill_uniform(b, K * N, -1, 1, rng);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            tu_fill_uniform(c1, M * N, -1, 1, rng);
            memcpy(c2, c1, sizeof c1);
            /* The same buffers read as (M,K)/(K,N) or their transposes. */
            int64_t lda = ta ? M : K, ldb = tb ? K : N;
            nn__gemm(ta, tb, M, N, K, 0.5f, a, lda, b, ldb, 0.25f, c1, N);
            nn__gemm_ref(ta, tb, M, N, K, 0.5f, a, lda, b, ldb, 0.25f, c2, N);
            assert_true(tu_max_abs_diff(c1, c2, M * N) < 1e-5);
        }
    nn_rng_free(rng);
}

static void test_dense__shape_errors_name_the_sizes(void **s)
{
    (void)s;
    float x[2 * 780] = {0}, w[784 * 3] = {0}, b[3] = {0}, y[2 * 3];
    nn_tensor tx, tw, tb, ty;
    int64_t xs[2] = {2, 780}, ws[2] = {784, 3}, bs[1] = {3}, ys[2] = {2, 3};
    nn_tensor_view(&tx, x, 2, xs);
    nn_tensor_view(&tw, w, 2, ws);
    nn_tensor_view(&tb, b, 1, bs);
    nn_tensor_view(&ty, y, 2, ys);
    assert_int_equal(nn_dense_forward(&ty, NULL, &tx, &tw, &tb, nn_activation_make(NN_ACT_RELU)), NN_ERR_SHAPE);
    assert_non_null(strstr(nn_last_error(), "input has 780 features, layer expects 784"));
    assert_int_equal(nn_dense_forward(&ty, NULL, NULL, &tw, &tb, nn_activation_make(NN_ACT_RELU)),
                     NN_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense__gradients_linear),
        cmocka_unit_test(test_dense__gradients_sigmoid),
        cmocka_unit_test(test_dense__gradients_tanh),
        cmocka_unit_test(test_dense__gradients_gelu),
        cmocka_unit_test(test_dense__gradients_softplus),
        cmocka_unit_test(test_dense__gradcheck_detects_a_wrong_gradient),
        cmocka_unit_test(test_dense__forward_matches_definition),
        cmocka_unit_test(test_dense__blas_matches_naive_product),
        cmocka_unit_test(test_dense__shape_errors_name_the_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
