/* Tests of activation.h: gradients against finite differences, values against formulas evaluated
 * independently in double, stability at |x| = 1e4, names and error paths. */
#include <float.h>
#include <math.h>
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

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946

/* ---- reference formulas in double, written from the definitions (not from the library) */

static double ref_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

static double ref_forward(nn_activation a, double x)
{
    double al = a.alpha;
    switch (a.kind) {
    case NN_ACT_LINEAR: return x;
    case NN_ACT_RELU: return x > 0 ? x : 0;
    case NN_ACT_SIGMOID: return ref_sigmoid(x);
    case NN_ACT_TANH: return tanh(x);
    case NN_ACT_LEAKY_RELU: return x > 0 ? x : al * x;
    case NN_ACT_ELU: return x > 0 ? x : al * expm1(x);
    case NN_ACT_GELU: return 0.5 * x * erfc(-x / sqrt(2.0));
    case NN_ACT_SILU: return x * ref_sigmoid(x);
    case NN_ACT_SOFTPLUS: return fmax(x, 0) + log1p(exp(-fabs(x)));
    case NN_ACT_SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
    /* 0.5 (1 + tanh(u)) = sigmoid(2u): the same function, without tanh's cancellation at -1. */
    case NN_ACT_GELU_TANH: return x * ref_sigmoid(2 * sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x));
    }
    return NAN;
}

static double ref_derivative(nn_activation a, double x)
{
    const double pi = 3.14159265358979323846;
    double s = ref_sigmoid(x);
    switch (a.kind) {
    case NN_ACT_LINEAR: return 1;
    case NN_ACT_RELU: return x > 0 ? 1 : 0;
    case NN_ACT_SIGMOID: return s * (1 - s);
    case NN_ACT_TANH: return 1 - tanh(x) * tanh(x);
    case NN_ACT_LEAKY_RELU: return x > 0 ? 1 : a.alpha;
    case NN_ACT_ELU: return x > 0 ? 1 : a.alpha * exp(x);
    case NN_ACT_GELU: return 0.5 * erfc(-x / sqrt(2.0)) + x * exp(-0.5 * x * x) / sqrt(2 * pi);
    case NN_ACT_SILU: return s + x * s * (1 - s);
    case NN_ACT_SOFTPLUS: return s;
    case NN_ACT_SELU: return SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * exp(x));
    case NN_ACT_GELU_TANH: {
        /* 0.5 (1 + tanh u) = sigmoid(2u) and 0.5 (1 - tanh^2 u) = 2 sigmoid(2u) (1 - sigmoid(2u)). */
        double k = sqrt(2 / pi), u = k * (x + 0.044715 * x * x * x), t = ref_sigmoid(2 * u);
        return t + x * 2 * t * (1 - t) * k * (1 + 3 * 0.044715 * x * x);
    }
    }
    return NAN;
}

/* ---- finite differences */

#define FD_N 64

typedef struct fd_ctx {
    nn_activation act;
    float *x, *y;
    const float *go;
} fd_ctx;

/* sum_i go_i f(x_i), accumulated in double. */
static double weighted_sum(void *p)
{
    fd_ctx *c = p;
    assert_int_equal(nn_activation_forward(c->act, c->y, c->x, FD_N), NN_OK);
    double s = 0;
    for (int i = 0; i < FD_N; i++) s += (double)c->go[i] * c->y[i];
    return s;
}

/* Checks backward against central differences of the forward pass at 64 points in [-3, 3], none
 * closer than 0.05 to the kink at 0 (h is 1e-3). Tolerance: the float forward rounds f to ~6e-8
 * relative, which the 2h division turns into ~1e-4 noise; the truncation error h^2 f'''/6 is ~1e-7.
 * So |fd - analytic| / max(1, |fd|, |analytic|) < 1e-3 holds for a right derivative, while a wrong
 * factor or a wrong branch misses it by orders of magnitude. */
static void check_fd(nn_activation act)
{
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 1234u + (unsigned)act.kind), NN_OK);
    float x[FD_N], y[FD_N], go[FD_N], gi[FD_N];
    tu_fill_uniform(x, FD_N, -3.0f, 3.0f, rng);
    tu_fill_uniform(go, FD_N, -1.0f, 1.0f, rng);
    for (int i = 0; i < FD_N; i++)
        if (fabsf(x[i]) < 0.05f) x[i] = x[i] < 0 ? -0.05f : 0.05f;
    nn_rng_free(rng);

    assert_int_equal(nn_activation_forward(act, y, x, FD_N), NN_OK);
    assert_int_equal(nn_activation_backward(act, gi, go, x, y, FD_N), NN_OK);
    fd_ctx c = {act, x, y, go};
    float ybuf[FD_N];
    c.y = ybuf;
    size_t worst = 0;
    double err = tu_gradcheck(weighted_sum, &c, x, gi, FD_N, 1e-3, &worst);
    if (err >= 1e-3)
        fail_msg("%s: gradient error %g at x = %g (analytic %g)", nn_activation_name(act.kind), err,
                 (double)x[worst], (double)gi[worst]);
}

#define FD_TEST(name, kind)                                                                                  \
    static void test_##name##__matches_finite_differences(void **state)                                      \
    {                                                                                                        \
        (void)state;                                                                                         \
        check_fd(nn_activation_make(kind));                                                                  \
    }
FD_TEST(linear, NN_ACT_LINEAR)
FD_TEST(relu, NN_ACT_RELU)
FD_TEST(sigmoid, NN_ACT_SIGMOID)
FD_TEST(tanh, NN_ACT_TANH)
FD_TEST(leaky_relu, NN_ACT_LEAKY_RELU)
FD_TEST(elu, NN_ACT_ELU)
FD_TEST(gelu, NN_ACT_GELU)
FD_TEST(silu, NN_ACT_SILU)
FD_TEST(softplus, NN_ACT_SOFTPLUS)
FD_TEST(selu, NN_ACT_SELU)

static void test_leaky_relu_and_elu__non_default_alpha_matches_finite_differences(void **state)
{
    (void)state;
    nn_activation a = {NN_ACT_LEAKY_RELU, 0.05f};
    check_fd(a);
    a.kind = NN_ACT_ELU;
    a.alpha = 0.5f;
    check_fd(a);
    a.alpha = 2.5f;
    check_fd(a);
}

/* ---- values against the double formulas */

/* Forward within 4e-7 (a few float ulp) times (1 + |x f'(x) / f(x)|), and derivative within 2e-6, at
 * points spread over the interesting range, for every kind. The condition number |x f' / f| is there
 * because any float rounding of an intermediate (x / sqrt 2 in gelu) is magnified by it: gelu(-12)
 * has a condition number of about 144. */
static void check_against_reference(nn_activation act)
{
    enum { N = 2001 };
    static float x[N], y[N], g[N], ones[N];
    for (int i = 0; i < N; i++) {
        x[i] = -20.0f + 40.0f * (float)i / (N - 1);
        ones[i] = 1.0f;
    }
    assert_int_equal(nn_activation_forward(act, y, x, N), NN_OK);
    assert_int_equal(nn_activation_backward(act, g, ones, x, y, N), NN_OK);
    for (int i = 0; i < N; i++) {
        double rf = ref_forward(act, x[i]), rd = ref_derivative(act, x[i]);
        /* Absolute floors: where f is ~0 the float result can only be as good as float near 0, and
         * derivatives from the forward output (sigmoid, tanh, elu) inherit its absolute error. */
        double ef = fabs(y[i] - rf) / fmax(fabs(rf), 1e-30), ed = fabs(g[i] - rd);
        double cond = fabs(x[i] * rd / fmax(fabs(rf), 1e-30));
        if (ef > 4e-7 * (1 + cond) && fabs(y[i] - rf) > 1e-37)
            fail_msg("%s(%g) = %.9g, expected %.17g", nn_activation_name(act.kind), (double)x[i],
                     (double)y[i], rf);
        if (ed > 2e-6 * fmax(1.0, fabs(rd)))
            fail_msg("%s'(%g) = %.9g, expected %.17g", nn_activation_name(act.kind), (double)x[i],
                     (double)g[i], rd);
    }
}

static void test_every_activation__matches_double_formulas_on_minus_20_to_20(void **state)
{
    (void)state;
    for (int k = 0; k < NN_ACT_COUNT; k++) check_against_reference(nn_activation_make((nn_activation_kind)k));
    nn_activation a = {NN_ACT_ELU, 0.3f};
    check_against_reference(a);
}

static float fwd1(nn_activation_kind kind, float x)
{
    float y;
    assert_int_equal(nn_activation_forward(nn_activation_make(kind), &y, &x, 1), NN_OK);
    return y;
}

static float bwd1(nn_activation act, float x)
{
    float y, g, one = 1.0f;
    assert_int_equal(nn_activation_forward(act, &y, &x, 1), NN_OK);
    assert_int_equal(nn_activation_backward(act, &g, &one, &x, &y, 1), NN_OK);
    return g;
}

/* Constants from the literature / exact arithmetic, not from the formulas above. */
static void test_known_values__match_published_constants(void **state)
{
    (void)state;
    assert_float_equal(fwd1(NN_ACT_GELU, 1.0f), 0.8413447460685429, 1e-6); /* Phi(1) */
    assert_float_equal(fwd1(NN_ACT_GELU, -1.0f), -0.15865525393145707, 1e-6);
    assert_float_equal(fwd1(NN_ACT_SOFTPLUS, 0.0f), 0.6931471805599453, 1e-7); /* log 2 */
    assert_true(fwd1(NN_ACT_SIGMOID, 0.0f) == 0.5f);
    assert_float_equal(fwd1(NN_ACT_SIGMOID, 1.0f), 0.7310585786300049, 1e-7);
    assert_float_equal(fwd1(NN_ACT_TANH, 0.5f), 0.46211715726000974, 1e-7);
    /* selu(-1) = 1.0507009873554805 * 1.6732632423543772 * (e^-1 - 1) */
    assert_float_equal(fwd1(NN_ACT_SELU, -1.0f), -1.1113307378125628, 1e-6);
    assert_float_equal(fwd1(NN_ACT_SELU, 2.0f), 2.101401974710961, 1e-6);
    assert_float_equal(fwd1(NN_ACT_ELU, -1.0f), -0.6321205588285577, 1e-7);
    assert_float_equal(fwd1(NN_ACT_SILU, 1.0f), 0.7310585786300049, 1e-7);
    assert_true(fwd1(NN_ACT_LEAKY_RELU, -2.0f) == -0.4f);
    assert_true(fwd1(NN_ACT_RELU, -2.0f) == 0.0f && fwd1(NN_ACT_RELU, 3.5f) == 3.5f);
    assert_float_equal(bwd1(nn_activation_make(NN_ACT_GELU), 0.0f), 0.5, 1e-7);
    assert_float_equal(bwd1(nn_activation_make(NN_ACT_SIGMOID), 0.0f), 0.25, 1e-7);
    assert_float_equal(bwd1(nn_activation_make(NN_ACT_TANH), 0.0f), 1.0, 1e-7);
}

static void test_relu_and_leaky_relu__derivative_at_zero_is_left_slope(void **state)
{
    (void)state;
    assert_true(bwd1(nn_activation_make(NN_ACT_RELU), 0.0f) == 0.0f);
    assert_true(bwd1(nn_activation_make(NN_ACT_LEAKY_RELU), 0.0f) == 0.2f);
    assert_true(bwd1(nn_activation_make(NN_ACT_RELU), 1e-30f) == 1.0f);
}

/* The library's own exp: tanh and sigmoid stay within a few ulp of double over the whole float range
 * that matters, including tiny inputs where tanh(x) ~ x must not lose digits to cancellation. */
static void test_sigmoid_and_tanh__within_few_ulp_everywhere(void **state)
{
    (void)state;
    enum { N = 4096 };
    static float x[N], y[N];
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 77), NN_OK);
    for (int i = 0; i < N; i++) {
        /* log-uniform magnitudes from 1e-8 to 1e2, random sign */
        float m = powf(10.0f, -8.0f + 10.0f * nn_rng_uniform(rng));
        x[i] = nn_rng_uniform(rng) < 0.5f ? -m : m;
    }
    nn_rng_free(rng);
    for (int k = 0; k < 2; k++) {
        nn_activation_kind kind = k ? NN_ACT_TANH : NN_ACT_SIGMOID;
        assert_int_equal(nn_activation_forward(nn_activation_make(kind), y, x, N), NN_OK);
        for (int i = 0; i < N; i++) {
            double r = k ? tanh(x[i]) : ref_sigmoid(x[i]);
            if (fabs(r) < FLT_MIN) continue; /* flushed underflow: checked by the stability test */
            double ulps = fabs(y[i] - r) / (fabs(r) * FLT_EPSILON);
            if (ulps > 4.0)
                fail_msg("%s(%g) = %.9g, expected %.17g (%.1f ulp)", nn_activation_name(kind), (double)x[i],
                         (double)y[i], r, ulps);
        }
    }
}

/* ---- stability and special values */

static void test_large_inputs__give_finite_exact_limits(void **state)
{
    (void)state;
    float x[4] = {1e4f, -1e4f, 100.0f, -100.0f}, y[4], g[4], ones[4] = {1, 1, 1, 1};
    for (int k = 0; k < NN_ACT_COUNT; k++) {
        nn_activation a = nn_activation_make((nn_activation_kind)k);
        assert_int_equal(nn_activation_forward(a, y, x, 4), NN_OK);
        assert_int_equal(nn_activation_backward(a, g, ones, x, y, 4), NN_OK);
        for (int i = 0; i < 4; i++)
            if (!isfinite(y[i]) || !isfinite(g[i]))
                fail_msg("%s at %g: f = %g, f' = %g", nn_activation_name(a.kind), (double)x[i], (double)y[i],
                         (double)g[i]);
    }
    assert_true(fwd1(NN_ACT_SIGMOID, 1e4f) == 1.0f);
    assert_true(fwd1(NN_ACT_SIGMOID, -1e4f) == 0.0f);
    assert_true(fwd1(NN_ACT_SOFTPLUS, 1e4f) == 1e4f);
    assert_true(fwd1(NN_ACT_SOFTPLUS, -1e4f) == 0.0f);
    assert_true(fwd1(NN_ACT_SILU, 1e4f) == 1e4f);
    assert_true(fwd1(NN_ACT_SILU, -1e4f) == 0.0f);
    assert_true(fwd1(NN_ACT_TANH, -1e4f) == -1.0f);
    assert_true(fwd1(NN_ACT_ELU, -1e4f) == -1.0f);
    assert_true(fwd1(NN_ACT_GELU, -1e4f) == 0.0f && fwd1(NN_ACT_GELU, 1e4f) == 1e4f);
    assert_float_equal(fwd1(NN_ACT_SOFTPLUS, -50.0f), 1.9287498479639178e-22,
                       1e-28); /* log1p(e^-50) ~ e^-50 */
}

static void test_nan_input__propagates_through_every_activation(void **state)
{
    (void)state;
    for (int k = 0; k < NN_ACT_COUNT; k++) {
        float y = fwd1((nn_activation_kind)k, NAN);
        if (!isnan(y)) fail_msg("%s(NaN) = %g", nn_activation_name((nn_activation_kind)k), (double)y);
    }
}

static void test_in_place__equals_out_of_place(void **state)
{
    (void)state;
    enum { N = 257 }; /* odd, so vector loops have a remainder */
    float x[N], y[N], buf[N], go[N], gi[N], gbuf[N];
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 5), NN_OK);
    tu_fill_uniform(x, N, -4.0f, 4.0f, rng);
    tu_fill_uniform(go, N, -1.0f, 1.0f, rng);
    nn_rng_free(rng);
    for (int k = 0; k < NN_ACT_COUNT; k++) {
        nn_activation a = nn_activation_make((nn_activation_kind)k);
        assert_int_equal(nn_activation_forward(a, y, x, N), NN_OK);
        memcpy(buf, x, sizeof buf);
        assert_int_equal(nn_activation_forward(a, buf, buf, N), NN_OK);
        assert_memory_equal(buf, y, sizeof buf);
        assert_int_equal(nn_activation_backward(a, gi, go, x, y, N), NN_OK);
        memcpy(gbuf, go, sizeof gbuf);
        assert_int_equal(nn_activation_backward(a, gbuf, gbuf, x, y, N), NN_OK);
        assert_memory_equal(gbuf, gi, sizeof gbuf);
    }
}

/* ---- names */

static void test_names__round_trip_for_every_kind(void **state)
{
    (void)state;
    for (int k = 0; k < NN_ACT_COUNT; k++) {
        const char *name = nn_activation_name((nn_activation_kind)k);
        assert_non_null(name);
        nn_activation a;
        assert_int_equal(nn_activation_from_name(&a, name), NN_OK);
        assert_int_equal(a.kind, k);
        nn_activation d = nn_activation_make((nn_activation_kind)k);
        assert_true(a.alpha == d.alpha);
    }
    assert_null(nn_activation_name((nn_activation_kind)NN_ACT_COUNT));
    assert_null(nn_activation_name((nn_activation_kind)-1));
}

static void test_from_name__accepts_alias_and_alpha_suffix(void **state)
{
    (void)state;
    nn_activation a;
    assert_int_equal(nn_activation_from_name(&a, "swish"), NN_OK);
    assert_int_equal(a.kind, NN_ACT_SILU);
    assert_int_equal(nn_activation_from_name(&a, "leaky_relu:0.1"), NN_OK);
    assert_int_equal(a.kind, NN_ACT_LEAKY_RELU);
    assert_true(a.alpha == 0.1f);
    assert_int_equal(nn_activation_from_name(&a, "elu:0.5"), NN_OK);
    assert_int_equal(a.kind, NN_ACT_ELU);
    assert_true(a.alpha == 0.5f);
}

static void test_make__uses_documented_defaults(void **state)
{
    (void)state;
    assert_true(nn_activation_make(NN_ACT_LEAKY_RELU).alpha == 0.2f);
    assert_true(nn_activation_make(NN_ACT_ELU).alpha == 1.0f);
    assert_int_equal(nn_activation_make(NN_ACT_GELU).kind, NN_ACT_GELU);
}

static void expect_name_error(const char *name, const char *detail1, const char *detail2)
{
    nn_activation a = nn_activation_make(NN_ACT_TANH);
    nn_clear_error();
    assert_int_equal(nn_activation_from_name(&a, name), NN_ERR_INVALID_ARGUMENT);
    const char *msg = nn_last_error();
    if (!strstr(msg, detail1) || (detail2 && !strstr(msg, detail2)))
        fail_msg("for \"%s\": message \"%s\" lacks \"%s\"/\"%s\"", name, msg, detail1,
                 detail2 ? detail2 : "");
    assert_int_equal(a.kind, NN_ACT_TANH); /* untouched on failure */
}

static void test_from_name__rejects_unknown_names_and_bad_alpha_with_detail(void **state)
{
    (void)state;
    expect_name_error("rectifier", "\"rectifier\"", "leaky_relu");
    expect_name_error("rectifier", "swish", "softplus");
    expect_name_error("", "\"\"", "relu");
    expect_name_error("ReLU", "\"ReLU\"", NULL);
    expect_name_error("relu:0.1", "relu", "no parameter");
    expect_name_error("leaky_relu:", "leaky_relu:", "alpha");
    expect_name_error("leaky_relu:abc", "leaky_relu:abc", "alpha");
    expect_name_error("leaky_relu:0.1x", "leaky_relu:0.1x", "alpha");
    expect_name_error("elu:-1", "elu:-1", "alpha");
    expect_name_error("elu:inf", "elu:inf", "alpha");
    expect_name_error("elu:nan", "elu:nan", "alpha");
    nn_activation a;
    assert_int_equal(nn_activation_from_name(NULL, "relu"), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "out"));
    assert_int_equal(nn_activation_from_name(&a, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "name"));
}

/* ---- error paths of forward and backward */

static void test_forward_and_backward__reject_bad_arguments_with_detail(void **state)
{
    (void)state;
    float x[2] = {1, 2}, y[2], g[2];
    nn_activation bad = {(nn_activation_kind)42, 0.0f};
    assert_int_equal(nn_activation_forward(bad, y, x, 2), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "42"));
    assert_int_equal(nn_activation_backward(bad, g, x, x, y, 2), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "42"));

    nn_activation relu = nn_activation_make(NN_ACT_RELU);
    assert_int_equal(nn_activation_forward(relu, NULL, x, 2), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "out is NULL"));
    assert_int_equal(nn_activation_forward(relu, y, NULL, 2), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "in is NULL"));
    assert_int_equal(nn_activation_backward(relu, g, NULL, x, y, 2), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "grad_out is NULL"));
    assert_int_equal(nn_activation_backward(relu, g, x, x, NULL, 2), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "out is NULL"));
    /* Nothing to do: NULL is fine. */
    assert_int_equal(nn_activation_forward(relu, NULL, NULL, 0), NN_OK);
    assert_int_equal(nn_activation_backward(relu, NULL, NULL, NULL, NULL, 0), NN_OK);

    nn_activation nan_alpha = {NN_ACT_LEAKY_RELU, NAN};
    assert_int_equal(nn_activation_forward(nan_alpha, y, x, 2), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "alpha"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear__matches_finite_differences),
        cmocka_unit_test(test_relu__matches_finite_differences),
        cmocka_unit_test(test_sigmoid__matches_finite_differences),
        cmocka_unit_test(test_tanh__matches_finite_differences),
        cmocka_unit_test(test_leaky_relu__matches_finite_differences),
        cmocka_unit_test(test_elu__matches_finite_differences),
        cmocka_unit_test(test_gelu__matches_finite_differences),
        cmocka_unit_test(test_silu__matches_finite_differences),
        cmocka_unit_test(test_softplus__matches_finite_differences),
        cmocka_unit_test(test_selu__matches_finite_differences),
        cmocka_unit_test(test_leaky_relu_and_elu__non_default_alpha_matches_finite_differences),
        cmocka_unit_test(test_every_activation__matches_double_formulas_on_minus_20_to_20),
        cmocka_unit_test(test_known_values__match_published_constants),
        cmocka_unit_test(test_relu_and_leaky_relu__derivative_at_zero_is_left_slope),
        cmocka_unit_test(test_sigmoid_and_tanh__within_few_ulp_everywhere),
        cmocka_unit_test(test_large_inputs__give_finite_exact_limits),
        cmocka_unit_test(test_nan_input__propagates_through_every_activation),
        cmocka_unit_test(test_in_place__equals_out_of_place),
        cmocka_unit_test(test_names__round_trip_for_every_kind),
        cmocka_unit_test(test_from_name__accepts_alias_and_alpha_suffix),
        cmocka_unit_test(test_make__uses_documented_defaults),
        cmocka_unit_test(test_from_name__rejects_unknown_names_and_bad_alpha_with_detail),
        cmocka_unit_test(test_forward_and_backward__reject_bad_arguments_with_detail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
