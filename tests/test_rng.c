/* Generator tests: published test vectors, reproducibility, state save/restore, and loose statistical
 * checks of each distribution (bounds chosen at 5+ standard deviations, so they do not flake). */
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

static nn_rng *make(uint64_t seed)
{
    nn_rng *rng = NULL;
    assert_int_equal(nn_rng_create(&rng, seed), NN_OK);
    assert_non_null(rng);
    return rng;
}

/* xoshiro256** from the state {1, 2, 3, 4}: the first outputs of Blackman & Vigna's reference code. */
static void test_u64__xoshiro256starstar_vectors(void **state)
{
    (void)state;
    nn_rng *rng = make(0);
    const uint64_t s[NN_RNG_STATE_WORDS] = {1, 2, 3, 4};
    assert_int_equal(nn_rng_set_state(rng, s), NN_OK);
    assert_true(nn_rng_u64(rng) == UINT64_C(11520));
    assert_true(nn_rng_u64(rng) == UINT64_C(0));
    assert_true(nn_rng_u64(rng) == UINT64_C(1509978240));
    assert_true(nn_rng_u64(rng) == UINT64_C(1215971899390074240));
    nn_rng_free(rng);
}

/* Seeding fills the state with the first splitmix64 outputs from the seed; from 0 these are the
 * well-known 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec. */
static void test_seed__splitmix64_vectors(void **state)
{
    (void)state;
    nn_rng *rng = make(0);
    uint64_t s[NN_RNG_STATE_WORDS];
    nn_rng_get_state(rng, s);
    assert_true(s[0] == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(s[1] == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(s[2] == UINT64_C(0x06c45d188009454f));
    assert_true(s[3] == UINT64_C(0xf88bb8a8724c81ec));
    nn_rng_free(rng);
}

static void test_seed__same_seed_same_stream(void **state)
{
    (void)state;
    nn_rng *a = make(42), *b = make(42);
    for (int i = 0; i < 1000; i++) assert_true(nn_rng_u64(a) == nn_rng_u64(b));
    /* reseeding restarts the stream */
    uint64_t first = 0;
    nn_rng_seed(b, 42);
    first = nn_rng_u64(b);
    nn_rng_seed(a, 42);
    assert_true(nn_rng_u64(a) == first);
    nn_rng_free(a);
    nn_rng_free(b);
}

static void test_seed__different_seeds_differ(void **state)
{
    (void)state;
    static const uint64_t seeds[][2] = {{1, 2}, {0, 1}, {42, 43}, {0, UINT64_MAX}};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        nn_rng *a = make(seeds[k][0]), *b = make(seeds[k][1]);
        int same = 0;
        for (int i = 0; i < 100; i++) same += nn_rng_u64(a) == nn_rng_u64(b);
        assert_int_equal(same, 0);
        nn_rng_free(a);
        nn_rng_free(b);
    }
}

static void test_state__get_set_resumes_exactly(void **state)
{
    (void)state;
    nn_rng *a = make(7);
    for (int i = 0; i < 10; i++) (void)nn_rng_u64(a);
    uint64_t saved[NN_RNG_STATE_WORDS];
    nn_rng_get_state(a, saved);
    uint64_t expect[100];
    for (int i = 0; i < 100; i++) expect[i] = nn_rng_u64(a);
    /* the same object and a different one resume identically */
    nn_rng *b = make(999);
    assert_int_equal(nn_rng_set_state(a, saved), NN_OK);
    assert_int_equal(nn_rng_set_state(b, saved), NN_OK);
    for (int i = 0; i < 100; i++) {
        assert_true(nn_rng_u64(a) == expect[i]);
        assert_true(nn_rng_u64(b) == expect[i]);
    }
    nn_rng_free(a);
    nn_rng_free(b);
}

static void test_state__all_zero_refused(void **state)
{
    (void)state;
    nn_rng *a = make(3);
    uint64_t before[NN_RNG_STATE_WORDS], after[NN_RNG_STATE_WORDS];
    nn_rng_get_state(a, before);
    const uint64_t zero[NN_RNG_STATE_WORDS] = {0, 0, 0, 0};
    assert_int_equal(nn_rng_set_state(a, zero), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "zero"));
    nn_rng_get_state(a, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(nn_rng_set_state(NULL, before), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_rng_set_state(a, NULL), NN_ERR_INVALID_ARGUMENT);
    /* a single non-zero bit is a valid state */
    const uint64_t one[NN_RNG_STATE_WORDS] = {0, 0, 0, 1};
    assert_int_equal(nn_rng_set_state(a, one), NN_OK);
    nn_rng_free(a);
}

static void test_create__null_out(void **state)
{
    (void)state;
    assert_int_equal(nn_rng_create(NULL, 1), NN_ERR_INVALID_ARGUMENT);
    nn_rng_free(NULL);
}

static void test_below__range_and_balance(void **state)
{
    (void)state;
    nn_rng *rng = make(11);
    assert_true(nn_rng_below(rng, 0) == 0);
    for (int i = 0; i < 100; i++) assert_true(nn_rng_below(rng, 1) == 0);
    /* 10 buckets of 100k draws: expected 10000 each, sd about 95; allow 500 */
    int count[10] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t r = nn_rng_below(rng, 10);
        assert_true(r < 10);
        count[r]++;
    }
    for (int k = 0; k < 10; k++)
        if (abs(count[k] - DRAWS / 10) > 500) fail_msg("bucket %d got %d of %d", k, count[k], DRAWS);
    nn_rng_free(rng);
}

/* With a bound of about 2/3 of 2^64, plain "r % bound" would put about 2/3 of the draws in the lower
 * half of the range; an unbiased draw puts half there. */
static void test_below__no_modulo_bias(void **state)
{
    (void)state;
    nn_rng *rng = make(12);
    const uint64_t bound = UINT64_MAX / 3 * 2 + 1;
    int low = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        uint64_t r = nn_rng_below(rng, bound);
        assert_true(r < bound);
        low += r < bound / 2;
    }
    double frac = (double)low / n;
    if (fabs(frac - 0.5) > 0.02) fail_msg("fraction in the lower half %.4f, expected 0.5", frac);
    nn_rng_free(rng);
}

static void test_uniform__range_mean_variance(void **state)
{
    (void)state;
    nn_rng *rng = make(13);
    double sum = 0.0, sum2 = 0.0;
    float lo = 1.0f, hi = 0.0f;
    for (int i = 0; i < DRAWS; i++) {
        float u = nn_rng_uniform(rng);
        assert_true(u >= 0.0f && u < 1.0f);
        /* 24 random bits: u * 2^24 is a whole number */
        float scaled = u * 16777216.0f;
        assert_true(scaled == floorf(scaled));
        lo = fminf(lo, u);
        hi = fmaxf(hi, u);
        sum += u;
        sum2 += (double)u * u;
    }
    double mean = sum / DRAWS, var = sum2 / DRAWS - mean * mean;
    assert_true(fabs(mean - 0.5) < 0.005);        /* sd of the mean: 0.0009 */
    assert_true(fabs(var - 1.0 / 12.0) < 0.002);  /* sd of the variance: 0.0002 */
    assert_true(lo < 1e-3f && hi > 1.0f - 1e-3f); /* the whole interval is reached */
    nn_rng_free(rng);
}

static void test_normal__moments_and_mass(void **state)
{
    (void)state;
    nn_rng *rng = make(14);
    double sum = 0.0, sum2 = 0.0, sum4 = 0.0;
    int within1 = 0;
    for (int i = 0; i < DRAWS; i++) {
        double z = nn_rng_normal(rng);
        assert_true(isfinite(z));
        sum += z;
        sum2 += z * z;
        sum4 += z * z * z * z;
        within1 += fabs(z) < 1.0;
    }
    double mean = sum / DRAWS, var = sum2 / DRAWS - mean * mean;
    assert_true(fabs(mean) < 0.02);              /* sd of the mean: 0.0032 */
    assert_true(fabs(sqrt(var) - 1.0) < 0.02);   /* sd of the std: 0.0022 */
    assert_true(fabs(sum4 / DRAWS - 3.0) < 0.15); /* kurtosis of a normal, sd about 0.03 */
    double p1 = (double)within1 / DRAWS;
    assert_true(fabs(p1 - erf(1.0 / sqrt(2.0))) < 0.01); /* 0.6827, sd 0.0015 */
    nn_rng_free(rng);
}

#define SHUF 1000

static void test_shuffle__is_permutation_deterministic(void **state)
{
    (void)state;
    uint32_t a[SHUF], b[SHUF], c[SHUF];
    for (uint32_t i = 0; i < SHUF; i++) a[i] = b[i] = c[i] = i;
    nn_rng *ra = make(5), *rb = make(5), *rc = make(6);
    assert_int_equal(nn_rng_shuffle(ra, a, SHUF), NN_OK);
    assert_int_equal(nn_rng_shuffle(rb, b, SHUF), NN_OK);
    assert_int_equal(nn_rng_shuffle(rc, c, SHUF), NN_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    int seen[SHUF] = {0}, fixed = 0;
    for (uint32_t i = 0; i < SHUF; i++) {
        assert_true(a[i] < SHUF);
        seen[a[i]]++;
        fixed += a[i] == i;
    }
    for (int i = 0; i < SHUF; i++) assert_int_equal(seen[i], 1);
    assert_true(fixed < 10); /* a random permutation has about one fixed point */
    nn_rng_free(ra);
    nn_rng_free(rb);
    nn_rng_free(rc);
}

/* All 6 orders of 3 items equally likely: catches the classic off-by-one Fisher-Yates variants. */
static void test_shuffle__uniform_over_permutations(void **state)
{
    (void)state;
    nn_rng *rng = make(8);
    int count[6] = {0};
    const int n = 60000;
    for (int k = 0; k < n; k++) {
        uint32_t p[3] = {0, 1, 2};
        assert_int_equal(nn_rng_shuffle(rng, p, 3), NN_OK);
        /* index of the permutation: first element * 2 + whether the other two are swapped */
        count[p[0] * 2 + (p[1] > p[2])]++;
    }
    for (int i = 0; i < 6; i++)
        if (abs(count[i] - n / 6) > 500) fail_msg("permutation %d came %d times of %d", i, count[i], n);
    nn_rng_free(rng);
}

static void test_shuffle__edges(void **state)
{
    (void)state;
    nn_rng *rng = make(9);
    assert_int_equal(nn_rng_shuffle(rng, NULL, 0), NN_OK);
    assert_int_equal(nn_rng_shuffle(NULL, NULL, 0), NN_OK);
    uint32_t one[1] = {17};
    assert_int_equal(nn_rng_shuffle(rng, one, 1), NN_OK);
    assert_int_equal(one[0], 17);
    assert_int_equal(nn_rng_shuffle(rng, NULL, 3), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_rng_shuffle(NULL, one, 1), NN_ERR_INVALID_ARGUMENT);
    nn_rng_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64__xoshiro256starstar_vectors),
        cmocka_unit_test(test_seed__splitmix64_vectors),
        cmocka_unit_test(test_seed__same_seed_same_stream),
        cmocka_unit_test(test_seed__different_seeds_differ),
        cmocka_unit_test(test_state__get_set_resumes_exactly),
        cmocka_unit_test(test_state__all_zero_refused),
        cmocka_unit_test(test_create__null_out),
        cmocka_unit_test(test_below__range_and_balance),
        cmocka_unit_test(test_below__no_modulo_bias),
        cmocka_unit_test(test_uniform__range_mean_variance),
        cmocka_unit_test(test_normal__moments_and_mass),
        cmocka_unit_test(test_shuffle__is_permutation_deterministic),
        cmocka_unit_test(test_shuffle__uniform_over_permutations),
        cmocka_unit_test(test_shuffle__edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
