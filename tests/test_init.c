/* Initialiser tests: each distribution's range and variance against its formula (as Keras defines
 * them), determinism, names and errors. Statistical bounds sit at 4+ standard deviations. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/nn.h"

#define DRAWS 100000

typedef struct stats {
    double mean, var, max_abs;
} stats;

static stats draw(nn_init kind, int64_t fan_in, int64_t fan_out, uint64_t seed)
{
    float *w = malloc(DRAWS * sizeof *w);
    assert_non_null(w);
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, seed), NN_OK);
    assert_int_equal(nn_init_fill(w, DRAWS, kind, fan_in, fan_out, rng), NN_OK);
    double sum = 0.0, sum2 = 0.0, max_abs = 0.0;
    for (int i = 0; i < DRAWS; i++) {
        assert_true(isfinite(w[i]));
        sum += w[i];
        sum2 += (double)w[i] * w[i];
        max_abs = fmax(max_abs, fabs((double)w[i]));
    }
    nn_rng_free(rng);
    free(w);
    stats s = {sum / DRAWS, sum2 / DRAWS - (sum / DRAWS) * (sum / DRAWS), max_abs};
    return s;
}

/* U(-l, l): every draw within l, variance l^2 / 3, and the edges are reached. */
static void check_uniform(nn_init kind, int64_t fan_in, int64_t fan_out, double limit)
{
    stats s = draw(kind, fan_in, fan_out, 21);
    double var = limit * limit / 3.0;
    assert_true(s.max_abs <= limit);
    assert_true(s.max_abs > 0.999 * limit);
    assert_true(fabs(s.mean) < 0.01 * limit);   /* sd of the mean: 0.0018 l */
    if (fabs(s.var / var - 1.0) > 0.02)          /* relative sd of the variance: 0.003 */
        fail_msg("%s: variance %g, formula %g", nn_init_name(kind), s.var, var);
}

/* Standard deviation of a unit normal truncated to [-2, 2], from its closed form
 * var = 1 - 2 a phi(a) / (Phi(a) - Phi(-a)) at a = 2. */
static double truncated_unit_sd(void)
{
    const double a = 2.0;
    double phi = exp(-0.5 * a * a) / sqrt(2.0 * acos(-1.0));
    double mass = erf(a / sqrt(2.0));
    return sqrt(1.0 - 2.0 * a * phi / mass);
}

/* Truncated normal scaled to the target stddev: variance equals stddev^2 (the correction is what
 * makes it so; without it the variance would be 0.774 stddev^2), and nothing lies beyond the
 * truncation point 2 stddev / truncated_unit_sd. */
static void check_truncated_normal(nn_init kind, int64_t fan_in, int64_t fan_out, double stddev)
{
    stats s = draw(kind, fan_in, fan_out, 22);
    double cut = 2.0 * stddev / truncated_unit_sd();
    assert_true(s.max_abs <= cut * (1.0 + 1e-6));
    assert_true(s.max_abs > 0.99 * cut); /* truncated, not clipped short */
    assert_true(fabs(s.mean) < 0.02 * stddev);
    if (fabs(s.var / (stddev * stddev) - 1.0) > 0.02) /* relative sd of the variance: 0.004 */
        fail_msg("%s: variance %g, target %g", nn_init_name(kind), s.var, stddev * stddev);
}

static void test_glorot_uniform__range_and_variance(void **state)
{
    (void)state;
    check_uniform(NN_INIT_GLOROT_UNIFORM, 300, 100, sqrt(6.0 / 400.0));
    check_uniform(NN_INIT_GLOROT_UNIFORM, 784, 128, sqrt(6.0 / 912.0));
}

static void test_he_uniform__range_and_variance(void **state)
{
    (void)state;
    check_uniform(NN_INIT_HE_UNIFORM, 300, 100, sqrt(6.0 / 300.0));
    check_uniform(NN_INIT_HE_UNIFORM, 10, 1000, sqrt(6.0 / 10.0));
}

static void test_glorot_normal__truncated_variance(void **state)
{
    (void)state;
    check_truncated_normal(NN_INIT_GLOROT_NORMAL, 300, 100, sqrt(2.0 / 400.0));
    check_truncated_normal(NN_INIT_GLOROT_NORMAL, 1, 1, 1.0);
}

static void test_he_normal__truncated_variance(void **state)
{
    (void)state;
    check_truncated_normal(NN_INIT_HE_NORMAL, 300, 100, sqrt(2.0 / 300.0));
    check_truncated_normal(NN_INIT_HE_NORMAL, 2, 50, 1.0);
}

static void test_zeros__exact_and_needs_no_rng(void **state)
{
    (void)state;
    float w[257];
    for (int i = 0; i < 257; i++) w[i] = 3.0f;
    assert_int_equal(nn_init_fill(w, 256, NN_INIT_ZEROS, 4, 4, NULL), NN_OK);
    for (int i = 0; i < 256; i++) assert_true(w[i] == 0.0f && !signbit(w[i]));
    assert_true(w[256] == 3.0f); /* nothing past n */
}

static void test_fill__deterministic_per_seed(void **state)
{
    (void)state;
    static const nn_init kinds[] = {NN_INIT_GLOROT_UNIFORM, NN_INIT_GLOROT_NORMAL, NN_INIT_HE_UNIFORM,
                                    NN_INIT_HE_NORMAL};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        float a[500], b[500], c[500];
        nn_rng *ra, *rb, *rc;
        assert_int_equal(nn_rng_create(&ra, 77), NN_OK);
        assert_int_equal(nn_rng_create(&rb, 77), NN_OK);
        assert_int_equal(nn_rng_create(&rc, 78), NN_OK);
        assert_int_equal(nn_init_fill(a, 500, kinds[k], 20, 25, ra), NN_OK);
        assert_int_equal(nn_init_fill(b, 500, kinds[k], 20, 25, rb), NN_OK);
        assert_int_equal(nn_init_fill(c, 500, kinds[k], 20, 25, rc), NN_OK);
        assert_memory_equal(a, b, sizeof a);
        int same = 0;
        for (int i = 0; i < 500; i++) same += a[i] == c[i];
        assert_true(same < 5);
        nn_rng_free(ra);
        nn_rng_free(rb);
        nn_rng_free(rc);
    }
}

static void test_names__round_trip(void **state)
{
    (void)state;
    static const char *const expect[] = {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros",
                                         "ones"};
    for (int k = 0; k < 6; k++) {
        const char *name = nn_init_name((nn_init)k);
        assert_non_null(name);
        assert_string_equal(name, expect[k]);
        nn_init back = (nn_init)-1;
        assert_int_equal(nn_init_from_name(&back, name), NN_OK);
        assert_int_equal(back, k);
    }
    assert_int_equal(NN_INIT_GLOROT_UNIFORM, 0); /* the stored values are stable */
    assert_int_equal(NN_INIT_ZEROS, 4);
    assert_int_equal(NN_INIT_ONES, 5);
    assert_null(nn_init_name((nn_init)6));
    assert_null(nn_init_name((nn_init)-1));
}

static void test_names__unknown_lists_accepted(void **state)
{
    (void)state;
    nn_init k = NN_INIT_HE_NORMAL;
    assert_int_equal(nn_init_from_name(&k, "xavier"), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "xavier"));
    assert_non_null(strstr(nn_last_error(), "glorot_uniform"));
    assert_int_equal(k, NN_INIT_HE_NORMAL); /* untouched on failure */
    assert_int_equal(nn_init_from_name(&k, ""), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_init_from_name(&k, "zeros "), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_init_from_name(NULL, "zeros"), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_init_from_name(&k, NULL), NN_ERR_INVALID_ARGUMENT);
}

static void test_fill__errors(void **state)
{
    (void)state;
    float w[8];
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 1), NN_OK);
    assert_int_equal(nn_init_fill(w, 8, (nn_init)9, 4, 4, rng), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_init_fill(w, 8, (nn_init)-1, 4, 4, rng), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_init_fill(w, 8, NN_INIT_GLOROT_UNIFORM, 4, 4, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "glorot_uniform"));
    assert_int_equal(nn_init_fill(w, 8, NN_INIT_HE_NORMAL, 0, 4, rng), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_init_fill(w, 8, NN_INIT_GLOROT_NORMAL, 4, -1, rng), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "-1"));
    assert_int_equal(nn_init_fill(NULL, 8, NN_INIT_ZEROS, 4, 4, rng), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_init_fill(NULL, 8, NN_INIT_HE_UNIFORM, 4, 4, rng), NN_ERR_INVALID_ARGUMENT);
    /* an empty fill is fine, whatever the pointers */
    assert_int_equal(nn_init_fill(NULL, 0, NN_INIT_HE_UNIFORM, 4, 4, NULL), NN_OK);
    nn_rng_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glorot_uniform__range_and_variance),
        cmocka_unit_test(test_he_uniform__range_and_variance),
        cmocka_unit_test(test_glorot_normal__truncated_variance),
        cmocka_unit_test(test_he_normal__truncated_variance),
        cmocka_unit_test(test_zeros__exact_and_needs_no_rng),
        cmocka_unit_test(test_fill__deterministic_per_seed),
        cmocka_unit_test(test_names__round_trip),
        cmocka_unit_test(test_names__unknown_lists_accepted),
        cmocka_unit_test(test_fill__errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
