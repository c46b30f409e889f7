/* The compute interface's own contracts (libnn/compute.h) where no public function pins them down
 * alone: argmax ties and NaN, accuracy counting against both target forms, and the optimizer update
 * kernels' choice of variant from the state arrays they are given. The arithmetic of losses and
 * optimizers is checked through the public API in test_loss.c and test_optimizer.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "compute.h"

static void test_argmax__first_maximum_wins_and_nan_compares_false(void **state)
{
    (void)state;
    const float x[4 * 3] = {
        1.0f, 3.0f, 3.0f,  /* tie: the first */
        NAN,  2.0f, 5.0f,  /* NaN first: nothing compares greater, it stays */
        0.0f, NAN,  -1.0f, /* NaN later: never greater */
        -2.0f, -2.0f, -2.0f,
    };
    int32_t out[4] = {-1, -1, -1, -1};
    nn__argmax_rows(4, 3, x, out);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 0);
}

static void test_argmax__matches_count_index_and_distribution_targets(void **state)
{
    (void)state;
    const float x[3 * 2] = {0.1f, 0.9f, 0.8f, 0.2f, 0.5f, 0.5f}; /* classes 1, 0, 0 */
    const float idx[3] = {1.0f, 1.0f, 0.0f};
    assert_int_equal(nn__argmax_matches(3, 2, x, idx, 1), 2);
    const float dist[3 * 2] = {0.0f, 1.0f, 0.0f, 1.0f, 0.3f, 0.7f}; /* classes 1, 1, 1 */
    assert_int_equal(nn__argmax_matches(3, 2, x, dist, 0), 1);
    assert_int_equal(nn__argmax_matches(2, 2, x, dist, 0), 1); /* only the rows asked for */
}

/* RMSprop's four variants are picked by which state arrays are non-NULL: each must touch only the
 * arrays it was given, and centered / momentum must change the result. */
static void test_rmsprop_update__variants_follow_the_state_given(void **state)
{
    (void)state;
    enum { N = 37 }; /* not a multiple of any vector width: the loops' tails run too */
    float g[N], w[4][N], s[4][N], a[4][N], mo[4][N];
    for (int i = 0; i < N; i++) g[i] = (float)(i - 18) * 0.25f;
    for (int v = 0; v < 4; v++)
        for (int i = 0; i < N; i++) {
            w[v][i] = 1.0f;
            s[v][i] = 0.5f;
            a[v][i] = 0.125f;
            mo[v][i] = 0.25f;
        }
    for (int v = 0; v < 4; v++)
        nn__rmsprop_update(N, 0.01f, 0.9f, 1e-7f, 0.5f, w[v], g, s[v], (v & 1) ? a[v] : NULL,
                           (v & 2) ? mo[v] : NULL);
    for (int v = 0; v < 4; v++) {
        if (!(v & 1)) assert_true(a[v][0] == 0.125f && a[v][N - 1] == 0.125f);
        if (!(v & 2)) assert_true(mo[v][0] == 0.25f && mo[v][N - 1] == 0.25f);
        for (int u = 0; u < v; u++) assert_memory_not_equal(w[u], w[v], sizeof w[v]);
    }
    /* The plain update, written out in the kernel's float order. */
    for (int i = 0; i < N; i++) {
        float si = 0.9f * 0.5f + (1.0f - 0.9f) * g[i] * g[i];
        float wi = 1.0f - 0.01f * g[i] / sqrtf(si + 1e-7f);
        assert_true(s[0][i] == si);
        assert_true(w[0][i] == wi);
    }
}

static void test_sgd_momentum_update__nesterov_differs_and_shares_velocity(void **state)
{
    (void)state;
    enum { N = 19 };
    float g[N], w0[N], w1[N], v0[N], v1[N];
    for (int i = 0; i < N; i++) {
        g[i] = (float)i - 9.0f;
        w0[i] = w1[i] = 2.0f;
        v0[i] = v1[i] = 0.5f;
    }
    nn__sgd_momentum_update(N, 0.1f, 0.9f, 0, w0, g, v0);
    nn__sgd_momentum_update(N, 0.1f, 0.9f, 1, w1, g, v1);
    assert_memory_equal(v0, v1, sizeof v0); /* the velocity rule is the same */
    for (int i = 0; i < N; i++) {
        assert_true(w0[i] == 2.0f + v0[i]);
        assert_true(w1[i] == 2.0f + (0.9f * v1[i] - 0.1f * g[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argmax__first_maximum_wins_and_nan_compares_false),
        cmocka_unit_test(test_argmax__matches_count_index_and_distribution_targets),
        cmocka_unit_test(test_rmsprop_update__variants_follow_the_state_given),
        cmocka_unit_test(test_sgd_momentum_update__nesterov_differs_and_shares_velocity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
