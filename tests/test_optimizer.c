/* Optimizer tests: every update rule against an independent double-precision transcription of the
 * published rule (in Keras 3's form), Keras' defaults, state access and resumption, validation, and
 * convergence on a quadratic. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nn/nn.h"
#include "testutil.h"

#define N 3
#define STEPS 3

static const float start_w[N] = {0.5f, -1.25f, 2.0f};
static const float grads[STEPS][N] = {
    {0.1f, -0.2f, 0.3f},
    {-0.5f, 0.25f, 1.5f},
    {2.0f, -0.01f, -0.7f},
};

/* ---- the reference: each rule written out in double from the formulas, not from libnn ---- */

typedef struct ref {
    nn_optimizer_kind kind;
    double lr, momentum, beta1, beta2, eps, wd, rho, acc0;
    int nesterov, centered;
    double t; /* steps done */
    double w[N];
    double m[N], v[N];    /* Adam moments */
    double vel[N];        /* SGD velocity; RMSprop's running mean of g^2 ("velocity" in Keras) */
    double avg[N];        /* RMSprop centered: running mean of g */
    double mom[N];        /* RMSprop momentum buffer */
    double acc[N];        /* Adagrad */
} ref;

static void ref_init(ref *r, nn_optimizer_kind kind)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    for (int i = 0; i < N; i++) r->w[i] = start_w[i];
}

static void ref_step(ref *r, const float *gf)
{
    r->t += 1.0;
    for (int i = 0; i < N; i++) {
        double g = gf[i];
        switch (r->kind) {
        case NN_OPT_SGD:
            if (r->momentum == 0.0) {
                r->w[i] -= r->lr * g;
            } else {
                r->vel[i] = r->momentum * r->vel[i] - r->lr * g;
                r->w[i] += r->nesterov ? r->momentum * r->vel[i] - r->lr * g : r->vel[i];
            }
            break;
        case NN_OPT_ADAMW:
        case NN_OPT_ADAM: {
            if (r->kind == NN_OPT_ADAMW) r->w[i] -= r->lr * r->wd * r->w[i]; /* decoupled decay first */
            r->m[i] = r->beta1 * r->m[i] + (1.0 - r->beta1) * g;
            r->v[i] = r->beta2 * r->v[i] + (1.0 - r->beta2) * g * g;
            double alpha = r->lr * sqrt(1.0 - pow(r->beta2, r->t)) / (1.0 - pow(r->beta1, r->t));
            r->w[i] -= alpha * r->m[i] / (sqrt(r->v[i]) + r->eps); /* eps outside the root */
            break;
        }
        case NN_OPT_RMSPROP: {
            r->vel[i] = r->rho * r->vel[i] + (1.0 - r->rho) * g * g;
            double denom = r->vel[i];
            if (r->centered) {
                r->avg[i] = r->rho * r->avg[i] + (1.0 - r->rho) * g;
                denom -= r->avg[i] * r->avg[i];
            }
            double inc = r->lr * g / sqrt(denom + r->eps); /* eps inside the root */
            if (r->momentum > 0.0) {
                r->mom[i] = r->momentum * r->mom[i] + inc;
                r->w[i] -= r->mom[i];
            } else {
                r->w[i] -= inc;
            }
            break;
        }
        case NN_OPT_ADAGRAD:
            if (r->t == 1.0) r->acc[i] = r->acc0;
            r->acc[i] += g * g;
            r->w[i] -= r->lr * g / sqrt(r->acc[i] + r->eps);
            break;
        }
    }
}

/* The reference's copy of a state array, by the name libnn gives it. */
static const double *ref_state(const ref *r, const char *name)
{
    if (strcmp(name, "m") == 0) return r->m;
    if (strcmp(name, "v") == 0) return r->v;
    if (strcmp(name, "velocity") == 0) return r->vel;
    if (strcmp(name, "mean_grad") == 0) return r->avg;
    if (strcmp(name, "momentum") == 0) return r->mom;
    if (strcmp(name, "accumulator") == 0) return r->acc;
    return NULL;
}

static void assert_close(double got, double want, const char *what, int step, int i)
{
    double tol = 1e-6 * fabs(want) + 1e-9;
    if (fabs(got - want) > tol)
        fail_msg("%s[%d] after step %d: got %.9g, want %.9g (diff %.3g)", what, i, step, got, want, fabs(got - want));
}

/* Three steps of opt against the reference, checking the parameters and every state array. */
static void check_against_ref(nn_optimizer *opt, ref *r, int expect_states)
{
    float w[N];
    memcpy(w, start_w, sizeof w);
    assert_int_equal(nn_optimizer_setup(opt, N), NN_OK);
    assert_int_equal(nn_optimizer_state_count(opt), expect_states);
    for (int s = 0; s < STEPS; s++) {
        assert_int_equal(nn_optimizer_step(opt, w, grads[s], N), NN_OK);
        ref_step(r, grads[s]);
        for (int i = 0; i < N; i++) assert_close(w[i], r->w[i], "w", s + 1, i);
        for (int k = 0; k < expect_states; k++) {
            const char *name;
            float *data;
            size_t n;
            assert_int_equal(nn_optimizer_state(opt, k, &name, &data, &n), NN_OK);
            assert_int_equal(n, N);
            const double *want = ref_state(r, name);
            if (!want) fail_msg("unexpected state array name '%s'", name);
            for (int i = 0; i < N; i++) assert_close(data[i], want[i], name, s + 1, i);
        }
    }
    assert_int_equal(nn_optimizer_get_iterations(opt), STEPS);
}

static void test_sgd__plain_matches_rule(void **state)
{
    (void)state;
    nn_sgd_options o = NN_SGD_OPTIONS_INIT;
    o.lr = 0.1f;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_sgd(&opt, &o), NN_OK);
    ref r;
    ref_init(&r, NN_OPT_SGD);
    r.lr = o.lr;
    check_against_ref(opt, &r, 0);
    nn_optimizer_free(opt);
}

static void test_sgd__momentum_matches_rule(void **state)
{
    (void)state;
    nn_sgd_options o = NN_SGD_OPTIONS_INIT;
    o.lr = 0.1f;
    o.momentum = 0.9f;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_sgd(&opt, &o), NN_OK);
    ref r;
    ref_init(&r, NN_OPT_SGD);
    r.lr = o.lr;
    r.momentum = o.momentum;
    check_against_ref(opt, &r, 1);
    nn_optimizer_free(opt);
}

static void test_sgd__nesterov_matches_rule(void **state)
{
    (void)state;
    nn_sgd_options o = NN_SGD_OPTIONS_INIT;
    o.lr = 0.1f;
    o.momentum = 0.8f;
    o.nesterov = 1;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_sgd(&opt, &o), NN_OK);
    ref r;
    ref_init(&r, NN_OPT_SGD);
    r.lr = o.lr;
    r.momentum = o.momentum;
    r.nesterov = 1;
    check_against_ref(opt, &r, 1);
    nn_optimizer_free(opt);
}

/* Betas far from 1 and a large eps make bias correction and epsilon placement visible. */
static void test_adam__matches_rule(void **state)
{
    (void)state;
    nn_adam_options o = {NN_ADAM_OPTIONS_VERSION, 0.1f, 0.8f, 0.95f, 0.05f};
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adam(&opt, &o), NN_OK);
    ref r;
    ref_init(&r, NN_OPT_ADAM);
    r.lr = o.lr;
    r.beta1 = o.beta1;
    r.beta2 = o.beta2;
    r.eps = o.eps;
    check_against_ref(opt, &r, 2);
    nn_optimizer_free(opt);
}

static void test_adam__defaults_match_rule(void **state)
{
    (void)state;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adam(&opt, NULL), NN_OK);
    nn_adam_options o = NN_ADAM_OPTIONS_INIT;
    ref r;
    ref_init(&r, NN_OPT_ADAM);
    r.lr = o.lr;
    r.beta1 = o.beta1;
    r.beta2 = o.beta2;
    r.eps = o.eps;
    check_against_ref(opt, &r, 2);
    nn_optimizer_free(opt);
}

/* With bias correction, Adam's first step moves each weight by almost exactly lr against the sign
 * of its gradient, whatever the gradient's size. */
static void test_adam__bias_correction_first_step(void **state)
{
    (void)state;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adam(&opt, NULL), NN_OK);
    assert_int_equal(nn_optimizer_setup(opt, 3), NN_OK);
    float w[3] = {0.0f, 0.0f, 0.0f};
    const float g[3] = {0.1f, -3.0f, 40.0f};
    assert_int_equal(nn_optimizer_step(opt, w, g, 3), NN_OK);
    assert_float_equal(w[0], -1e-3, 1e-7);
    assert_float_equal(w[1], 1e-3, 1e-7);
    assert_float_equal(w[2], -1e-3, 1e-7);
    nn_optimizer_free(opt);
}

static void test_adamw__matches_rule(void **state)
{
    (void)state;
    nn_adamw_options o = {NN_ADAMW_OPTIONS_VERSION, 0.1f, 0.8f, 0.95f, 0.05f, 0.2f};
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adamw(&opt, &o), NN_OK);
    ref r;
    ref_init(&r, NN_OPT_ADAMW);
    r.lr = o.lr;
    r.beta1 = o.beta1;
    r.beta2 = o.beta2;
    r.eps = o.eps;
    r.wd = o.weight_decay;
    check_against_ref(opt, &r, 2);
    nn_optimizer_free(opt);
}

/* AdamW with no decay is Adam, bit for bit. */
static void test_adamw__zero_decay_is_adam(void **state)
{
    (void)state;
    nn_adamw_options ow = NN_ADAMW_OPTIONS_INIT;
    ow.weight_decay = 0.0f;
    nn_optimizer *a, *b;
    assert_int_equal(nn_optimizer_create_adam(&a, NULL), NN_OK);
    assert_int_equal(nn_optimizer_create_adamw(&b, &ow), NN_OK);
    assert_int_equal(nn_optimizer_setup(a, N), NN_OK);
    assert_int_equal(nn_optimizer_setup(b, N), NN_OK);
    float wa[N], wb[N];
    memcpy(wa, start_w, sizeof wa);
    memcpy(wb, start_w, sizeof wb);
    for (int s = 0; s < STEPS; s++) {
        assert_int_equal(nn_optimizer_step(a, wa, grads[s], N), NN_OK);
        assert_int_equal(nn_optimizer_step(b, wb, grads[s], N), NN_OK);
    }
    assert_memory_equal(wa, wb, sizeof wa);
    nn_optimizer_free(a);
    nn_optimizer_free(b);
}

static void rmsprop_case(float momentum, int centered, int expect_states)
{
    nn_rmsprop_options o = {NN_RMSPROP_OPTIONS_VERSION, 0.05f, 0.8f, momentum, 0.05f, centered};
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_rmsprop(&opt, &o), NN_OK);
    ref r;
    ref_init(&r, NN_OPT_RMSPROP);
    r.lr = o.lr;
    r.rho = o.rho;
    r.momentum = o.momentum;
    r.eps = o.eps;
    r.centered = centered;
    check_against_ref(opt, &r, expect_states);
    nn_optimizer_free(opt);
}

static void test_rmsprop__matches_rule(void **state)
{
    (void)state;
    rmsprop_case(0.0f, 0, 1);
}

static void test_rmsprop__centered_matches_rule(void **state)
{
    (void)state;
    rmsprop_case(0.0f, 1, 2);
}

static void test_rmsprop__momentum_matches_rule(void **state)
{
    (void)state;
    rmsprop_case(0.5f, 0, 2);
}

static void test_rmsprop__centered_momentum_matches_rule(void **state)
{
    (void)state;
    rmsprop_case(0.5f, 1, 3);
}

static void test_adagrad__matches_rule(void **state)
{
    (void)state;
    nn_adagrad_options o = {NN_ADAGRAD_OPTIONS_VERSION, 0.1f, 0.1f, 0.05f};
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adagrad(&opt, &o), NN_OK);
    ref r;
    ref_init(&r, NN_OPT_ADAGRAD);
    r.lr = o.lr;
    r.acc0 = o.initial_accumulator;
    r.eps = o.eps;
    check_against_ref(opt, &r, 1);
    nn_optimizer_free(opt);
}

/* ---- defaults, names, hyperparameters ---- */

static void test_defaults__are_keras3(void **state)
{
    (void)state;
    nn_sgd_options s = NN_SGD_OPTIONS_INIT;
    assert_int_equal(s.version, NN_SGD_OPTIONS_VERSION);
    assert_true(s.lr == 0.01f && s.momentum == 0.0f && s.nesterov == 0);
    nn_adam_options a = NN_ADAM_OPTIONS_INIT;
    assert_int_equal(a.version, NN_ADAM_OPTIONS_VERSION);
    assert_true(a.lr == 1e-3f && a.beta1 == 0.9f && a.beta2 == 0.999f && a.eps == 1e-7f);
    nn_adamw_options w = NN_ADAMW_OPTIONS_INIT;
    assert_int_equal(w.version, NN_ADAMW_OPTIONS_VERSION);
    assert_true(w.lr == 1e-3f && w.beta1 == 0.9f && w.beta2 == 0.999f && w.eps == 1e-7f && w.weight_decay == 0.004f);
    nn_rmsprop_options r = NN_RMSPROP_OPTIONS_INIT;
    assert_int_equal(r.version, NN_RMSPROP_OPTIONS_VERSION);
    assert_true(r.lr == 1e-3f && r.rho == 0.9f && r.momentum == 0.0f && r.eps == 1e-7f && r.centered == 0);
    nn_adagrad_options g = NN_ADAGRAD_OPTIONS_INIT;
    assert_int_equal(g.version, NN_ADAGRAD_OPTIONS_VERSION);
    assert_true(g.lr == 1e-3f && g.initial_accumulator == 0.1f && g.eps == 1e-7f);
}

static float hparam_value(const nn_optimizer *opt, const char *want)
{
    for (int i = 0; i < nn_optimizer_hparam_count(opt); i++) {
        const char *name;
        float v;
        assert_int_equal(nn_optimizer_hparam(opt, i, &name, &v), NN_OK);
        if (strcmp(name, want) == 0) return v;
    }
    fail_msg("no hyperparameter '%s'", want);
    return NAN;
}

static void assert_hparam_names(const nn_optimizer *opt, const char *const *names, int count)
{
    assert_int_equal(nn_optimizer_hparam_count(opt), count);
    for (int i = 0; i < count; i++) {
        const char *name = NULL;
        float v = NAN;
        assert_int_equal(nn_optimizer_hparam(opt, i, &name, &v), NN_OK);
        assert_string_equal(name, names[i]);
        assert_true(isfinite(v));
    }
    assert_int_equal(nn_optimizer_hparam(opt, count, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_hparam(opt, -1, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
}

static void test_hparams__names_and_default_values(void **state)
{
    (void)state;
    nn_optimizer *opt;
    static const char *const sgd[] = {"lr", "momentum", "nesterov"};
    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    assert_hparam_names(opt, sgd, 3);
    assert_true(hparam_value(opt, "lr") == 0.01f && hparam_value(opt, "momentum") == 0.0f &&
                hparam_value(opt, "nesterov") == 0.0f);
    nn_optimizer_free(opt);

    static const char *const adam[] = {"lr", "beta1", "beta2", "eps"};
    assert_int_equal(nn_optimizer_create_adam(&opt, NULL), NN_OK);
    assert_hparam_names(opt, adam, 4);
    assert_true(hparam_value(opt, "beta2") == 0.999f && hparam_value(opt, "eps") == 1e-7f);
    nn_optimizer_free(opt);

    static const char *const adamw[] = {"lr", "beta1", "beta2", "eps", "weight_decay"};
    assert_int_equal(nn_optimizer_create_adamw(&opt, NULL), NN_OK);
    assert_hparam_names(opt, adamw, 5);
    assert_true(hparam_value(opt, "weight_decay") == 0.004f);
    nn_optimizer_free(opt);

    static const char *const rms[] = {"lr", "rho", "momentum", "eps", "centered"};
    assert_int_equal(nn_optimizer_create_rmsprop(&opt, NULL), NN_OK);
    assert_hparam_names(opt, rms, 5);
    assert_true(hparam_value(opt, "rho") == 0.9f && hparam_value(opt, "centered") == 0.0f);
    nn_optimizer_free(opt);

    static const char *const ada[] = {"lr", "initial_accumulator", "eps"};
    assert_int_equal(nn_optimizer_create_adagrad(&opt, NULL), NN_OK);
    assert_hparam_names(opt, ada, 3);
    assert_true(hparam_value(opt, "initial_accumulator") == 0.1f);
    nn_optimizer_free(opt);
}

/* What a model file would do: read every hyperparameter, rebuild from defaults, set them back. */
static void test_hparams__round_trip_through_set_hparam(void **state)
{
    (void)state;
    nn_rmsprop_options o = {NN_RMSPROP_OPTIONS_VERSION, 0.02f, 0.7f, 0.3f, 1e-4f, 1};
    nn_optimizer *src, *dst;
    assert_int_equal(nn_optimizer_create_rmsprop(&src, &o), NN_OK);
    assert_int_equal(nn_optimizer_create_from_name(&dst, nn_optimizer_kind_name(nn_optimizer_get_kind(src)), 0.0f),
                     NN_OK);
    for (int i = 0; i < nn_optimizer_hparam_count(src); i++) {
        const char *name;
        float v;
        assert_int_equal(nn_optimizer_hparam(src, i, &name, &v), NN_OK);
        assert_int_equal(nn_optimizer_set_hparam(dst, name, v), NN_OK);
    }
    for (int i = 0; i < nn_optimizer_hparam_count(src); i++) {
        const char *name;
        float v;
        assert_int_equal(nn_optimizer_hparam(src, i, &name, &v), NN_OK);
        assert_true(hparam_value(dst, name) == v);
    }
    assert_int_equal(nn_optimizer_state_count(dst), 3); /* centered and momentum arrays appeared */
    nn_optimizer_free(src);
    nn_optimizer_free(dst);
}

static void test_hparams__set_validates(void **state)
{
    (void)state;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adam(&opt, NULL), NN_OK);
    assert_int_equal(nn_optimizer_set_hparam(opt, "beta1", 1.0f), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "beta1"));
    assert_int_equal(nn_optimizer_set_hparam(opt, "eps", 0.0f), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_set_hparam(opt, "lr", NAN), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_set_hparam(opt, "rho", 0.5f), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "rho"));
    assert_non_null(strstr(nn_last_error(), "beta2")); /* the accepted names are listed */
    assert_int_equal(nn_optimizer_set_hparam(opt, NULL, 0.5f), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_set_hparam(NULL, "lr", 0.5f), NN_ERR_INVALID_ARGUMENT);
    /* refused values left everything as it was */
    assert_true(hparam_value(opt, "beta1") == 0.9f && hparam_value(opt, "eps") == 1e-7f);
    assert_int_equal(nn_optimizer_set_hparam(opt, "beta1", 0.5f), NN_OK);
    assert_true(hparam_value(opt, "beta1") == 0.5f);
    nn_optimizer_free(opt);

    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    assert_int_equal(nn_optimizer_set_hparam(opt, "nesterov", 2.0f), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_set_hparam(opt, "momentum", 1.0f), NN_ERR_INVALID_ARGUMENT);
    nn_optimizer_free(opt);
}

static void test_hparams__state_layout_fixed_after_setup(void **state)
{
    (void)state;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    assert_int_equal(nn_optimizer_state_count(opt), 0);
    /* Before setup the layout follows the hyperparameters. */
    assert_int_equal(nn_optimizer_set_hparam(opt, "momentum", 0.9f), NN_OK);
    assert_int_equal(nn_optimizer_state_count(opt), 1);
    assert_int_equal(nn_optimizer_setup(opt, N), NN_OK);
    /* After setup: values may change, the set of arrays may not. */
    assert_int_equal(nn_optimizer_set_hparam(opt, "momentum", 0.5f), NN_OK);
    assert_int_equal(nn_optimizer_set_hparam(opt, "nesterov", 1.0f), NN_OK);
    assert_int_equal(nn_optimizer_set_hparam(opt, "momentum", 0.0f), NN_ERR_STATE);
    assert_non_null(strstr(nn_last_error(), "momentum"));
    assert_true(hparam_value(opt, "momentum") == 0.5f);
    assert_int_equal(nn_optimizer_state_count(opt), 1);
    /* A fresh setup is the way to change it. */
    assert_int_equal(nn_optimizer_setup(opt, N), NN_OK);
    nn_optimizer_free(opt);

    assert_int_equal(nn_optimizer_create_rmsprop(&opt, NULL), NN_OK);
    assert_int_equal(nn_optimizer_setup(opt, N), NN_OK);
    assert_int_equal(nn_optimizer_set_hparam(opt, "centered", 1.0f), NN_ERR_STATE);
    assert_int_equal(nn_optimizer_set_hparam(opt, "momentum", 0.2f), NN_ERR_STATE);
    assert_int_equal(nn_optimizer_set_hparam(opt, "rho", 0.5f), NN_OK);
    assert_int_equal(nn_optimizer_state_count(opt), 1);
    float w[N];
    memcpy(w, start_w, sizeof w);
    assert_int_equal(nn_optimizer_step(opt, w, grads[0], N), NN_OK);
    nn_optimizer_free(opt);
}

static void test_lr__get_and_set(void **state)
{
    (void)state;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adagrad(&opt, NULL), NN_OK);
    assert_true(nn_optimizer_get_lr(opt) == 1e-3f);
    assert_int_equal(nn_optimizer_set_lr(opt, 0.25f), NN_OK);
    assert_true(nn_optimizer_get_lr(opt) == 0.25f);
    assert_true(hparam_value(opt, "lr") == 0.25f);
    assert_int_equal(nn_optimizer_set_lr(opt, 0.0f), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_set_lr(opt, INFINITY), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_set_lr(opt, -1.0f), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "lr"));
    assert_true(nn_optimizer_get_lr(opt) == 0.25f);
    assert_int_equal(nn_optimizer_set_lr(NULL, 0.1f), NN_ERR_INVALID_ARGUMENT);
    nn_optimizer_free(opt);
}

static void test_kind__names(void **state)
{
    (void)state;
    assert_string_equal(nn_optimizer_kind_name(NN_OPT_SGD), "sgd");
    assert_string_equal(nn_optimizer_kind_name(NN_OPT_ADAM), "adam");
    assert_string_equal(nn_optimizer_kind_name(NN_OPT_RMSPROP), "rmsprop");
    assert_string_equal(nn_optimizer_kind_name(NN_OPT_ADAMW), "adamw");
    assert_string_equal(nn_optimizer_kind_name(NN_OPT_ADAGRAD), "adagrad");
    assert_null(nn_optimizer_kind_name((nn_optimizer_kind)99));
    assert_null(nn_optimizer_kind_name(nn_optimizer_get_kind(NULL)));
}

static void test_from_name__each_kind(void **state)
{
    (void)state;
    static const char *const names[] = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
    static const nn_optimizer_kind kinds[] = {NN_OPT_SGD, NN_OPT_ADAM, NN_OPT_ADAMW, NN_OPT_RMSPROP, NN_OPT_ADAGRAD};
    static const float default_lr[] = {0.01f, 1e-3f, 1e-3f, 1e-3f, 1e-3f};
    for (int k = 0; k < 5; k++) {
        nn_optimizer *opt;
        assert_int_equal(nn_optimizer_create_from_name(&opt, names[k], 0.0f), NN_OK);
        assert_int_equal(nn_optimizer_get_kind(opt), kinds[k]);
        assert_true(nn_optimizer_get_lr(opt) == default_lr[k]);
        nn_optimizer_free(opt);
        assert_int_equal(nn_optimizer_create_from_name(&opt, names[k], 0.5f), NN_OK);
        assert_true(nn_optimizer_get_lr(opt) == 0.5f);
        nn_optimizer_free(opt);
    }
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_from_name(&opt, "Adam", -1.0f), NN_OK); /* Keras' class name */
    assert_int_equal(nn_optimizer_get_kind(opt), NN_OPT_ADAM);
    assert_true(nn_optimizer_get_lr(opt) == 1e-3f);
    nn_optimizer_free(opt);
}

static void test_from_name__unknown_lists_accepted(void **state)
{
    (void)state;
    static int dummy;
    nn_optimizer *opt = (nn_optimizer *)&dummy; /* must be reset to NULL on failure */
    assert_int_equal(nn_optimizer_create_from_name(&opt, "adamax", 0.0f), NN_ERR_INVALID_ARGUMENT);
    assert_null(opt);
    assert_non_null(strstr(nn_last_error(), "adamax"));
    assert_non_null(strstr(nn_last_error(), "sgd"));
    assert_non_null(strstr(nn_last_error(), "adagrad"));
    assert_int_equal(nn_optimizer_create_from_name(&opt, "ada", 0.0f), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_create_from_name(&opt, "", 0.0f), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_create_from_name(&opt, NULL, 0.0f), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_create_from_name(NULL, "sgd", 0.0f), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_create_from_name(&opt, "sgd", NAN), NN_ERR_INVALID_ARGUMENT);
}

/* ---- validation ---- */

/* out is read only after the call has returned (argument evaluation order is unspecified). */
static void expect_invalid(nn_status st, nn_optimizer *const *out, const char *field)
{
    assert_int_equal(st, NN_ERR_INVALID_ARGUMENT);
    assert_null(*out);
    if (!strstr(nn_last_error(), field)) fail_msg("message '%s' does not name '%s'", nn_last_error(), field);
}

static void test_create__rejects_bad_options(void **state)
{
    (void)state;
    nn_optimizer *opt;

    nn_sgd_options s = NN_SGD_OPTIONS_INIT;
    s.version = 2;
    expect_invalid(nn_optimizer_create_sgd(&opt, &s), &opt, "version");
    s = (nn_sgd_options)NN_SGD_OPTIONS_INIT;
    s.lr = 0.0f;
    expect_invalid(nn_optimizer_create_sgd(&opt, &s), &opt, "lr");
    s.lr = -0.1f;
    expect_invalid(nn_optimizer_create_sgd(&opt, &s), &opt, "lr");
    s.lr = NAN;
    expect_invalid(nn_optimizer_create_sgd(&opt, &s), &opt, "lr");
    s.lr = INFINITY;
    expect_invalid(nn_optimizer_create_sgd(&opt, &s), &opt, "lr");
    s = (nn_sgd_options)NN_SGD_OPTIONS_INIT;
    s.momentum = 1.0f;
    expect_invalid(nn_optimizer_create_sgd(&opt, &s), &opt, "momentum");
    s.momentum = -0.1f;
    expect_invalid(nn_optimizer_create_sgd(&opt, &s), &opt, "momentum");

    nn_adam_options a = NN_ADAM_OPTIONS_INIT;
    a.beta1 = 1.0f;
    expect_invalid(nn_optimizer_create_adam(&opt, &a), &opt, "beta1");
    a = (nn_adam_options)NN_ADAM_OPTIONS_INIT;
    a.beta2 = -0.5f;
    expect_invalid(nn_optimizer_create_adam(&opt, &a), &opt, "beta2");
    a = (nn_adam_options)NN_ADAM_OPTIONS_INIT;
    a.eps = 0.0f;
    expect_invalid(nn_optimizer_create_adam(&opt, &a), &opt, "eps");
    a.eps = NAN;
    expect_invalid(nn_optimizer_create_adam(&opt, &a), &opt, "eps");
    a = (nn_adam_options)NN_ADAM_OPTIONS_INIT;
    a.version = 0;
    expect_invalid(nn_optimizer_create_adam(&opt, &a), &opt, "version");

    nn_adamw_options w = NN_ADAMW_OPTIONS_INIT;
    w.weight_decay = -0.01f;
    expect_invalid(nn_optimizer_create_adamw(&opt, &w), &opt, "weight_decay");
    w = (nn_adamw_options)NN_ADAMW_OPTIONS_INIT;
    w.beta2 = 1.0f;
    expect_invalid(nn_optimizer_create_adamw(&opt, &w), &opt, "beta2");

    nn_rmsprop_options r = NN_RMSPROP_OPTIONS_INIT;
    r.rho = 1.0f;
    expect_invalid(nn_optimizer_create_rmsprop(&opt, &r), &opt, "rho");
    r = (nn_rmsprop_options)NN_RMSPROP_OPTIONS_INIT;
    r.momentum = 1.5f;
    expect_invalid(nn_optimizer_create_rmsprop(&opt, &r), &opt, "momentum");
    r = (nn_rmsprop_options)NN_RMSPROP_OPTIONS_INIT;
    r.eps = -1e-7f;
    expect_invalid(nn_optimizer_create_rmsprop(&opt, &r), &opt, "eps");

    nn_adagrad_options g = NN_ADAGRAD_OPTIONS_INIT;
    g.initial_accumulator = -0.1f;
    expect_invalid(nn_optimizer_create_adagrad(&opt, &g), &opt, "initial_accumulator");
    g = (nn_adagrad_options)NN_ADAGRAD_OPTIONS_INIT;
    g.lr = 0.0f;
    expect_invalid(nn_optimizer_create_adagrad(&opt, &g), &opt, "lr");

    /* the value itself is in the message too */
    a = (nn_adam_options)NN_ADAM_OPTIONS_INIT;
    a.beta1 = 1.5f;
    expect_invalid(nn_optimizer_create_adam(&opt, &a), &opt, "1.5");

    assert_int_equal(nn_optimizer_create_adam(NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    /* the edges of the ranges are accepted */
    a = (nn_adam_options)NN_ADAM_OPTIONS_INIT;
    a.beta1 = 0.0f;
    a.beta2 = 0.0f;
    assert_int_equal(nn_optimizer_create_adam(&opt, &a), NN_OK);
    nn_optimizer_free(opt);
    nn_optimizer_free(NULL);
}

/* ---- state, setup, steps ---- */

static void test_state__before_setup_and_out_of_range(void **state)
{
    (void)state;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adam(&opt, NULL), NN_OK);
    float *data;
    assert_int_equal(nn_optimizer_state_count(opt), 2);
    assert_int_equal(nn_optimizer_state(opt, 0, NULL, &data, NULL), NN_ERR_STATE);
    assert_int_equal(nn_optimizer_setup(opt, N), NN_OK);
    assert_int_equal(nn_optimizer_state(opt, 2, NULL, &data, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_state(opt, -1, NULL, &data, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_state(NULL, 0, NULL, &data, NULL), NN_ERR_INVALID_ARGUMENT);
    const char *n0, *n1;
    assert_int_equal(nn_optimizer_state(opt, 0, &n0, NULL, NULL), NN_OK);
    assert_int_equal(nn_optimizer_state(opt, 1, &n1, NULL, NULL), NN_OK);
    assert_string_equal(n0, "m");
    assert_string_equal(n1, "v");
    nn_optimizer_free(opt);
}

static void test_state__names_per_configuration(void **state)
{
    (void)state;
    nn_optimizer *opt;
    const char *name;
    nn_rmsprop_options r = NN_RMSPROP_OPTIONS_INIT;
    r.centered = 1;
    r.momentum = 0.9f;
    assert_int_equal(nn_optimizer_create_rmsprop(&opt, &r), NN_OK);
    assert_int_equal(nn_optimizer_setup(opt, 4), NN_OK);
    static const char *const rms[] = {"velocity", "mean_grad", "momentum"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nn_optimizer_state(opt, i, &name, NULL, NULL), NN_OK);
        assert_string_equal(name, rms[i]);
    }
    nn_optimizer_free(opt);

    nn_sgd_options s = NN_SGD_OPTIONS_INIT;
    s.momentum = 0.5f;
    assert_int_equal(nn_optimizer_create_sgd(&opt, &s), NN_OK);
    assert_int_equal(nn_optimizer_setup(opt, 4), NN_OK);
    assert_int_equal(nn_optimizer_state(opt, 0, &name, NULL, NULL), NN_OK);
    assert_string_equal(name, "velocity");
    nn_optimizer_free(opt);

    /* Adagrad's accumulator starts at initial_accumulator, the others at zero. */
    nn_adagrad_options g = NN_ADAGRAD_OPTIONS_INIT;
    g.initial_accumulator = 0.75f;
    assert_int_equal(nn_optimizer_create_adagrad(&opt, &g), NN_OK);
    assert_int_equal(nn_optimizer_setup(opt, 5), NN_OK);
    float *data;
    size_t n;
    assert_int_equal(nn_optimizer_state(opt, 0, &name, &data, &n), NN_OK);
    assert_string_equal(name, "accumulator");
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) assert_true(data[i] == 0.75f);
    nn_optimizer_free(opt);
}

static void test_step__wrong_size_or_not_set_up(void **state)
{
    (void)state;
    nn_optimizer *opt;
    float w[N + 1] = {0};
    const float g[N + 1] = {1, 1, 1, 1};
    assert_int_equal(nn_optimizer_create_sgd(&opt, NULL), NN_OK);
    assert_int_equal(nn_optimizer_step(opt, w, g, N), NN_ERR_STATE);
    assert_int_equal(nn_optimizer_setup(opt, N), NN_OK);
    assert_int_equal(nn_optimizer_step(opt, w, g, N + 1), NN_ERR_STATE);
    assert_non_null(strstr(nn_last_error(), "4"));
    assert_int_equal(nn_optimizer_step(opt, w, g, N - 1), NN_ERR_STATE);
    assert_int_equal(nn_optimizer_step(opt, NULL, g, N), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_step(opt, w, NULL, N), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_step(NULL, w, g, N), NN_ERR_INVALID_ARGUMENT);
    /* refused steps changed nothing */
    for (int i = 0; i < N + 1; i++) assert_true(w[i] == 0.0f);
    assert_int_equal(nn_optimizer_get_iterations(opt), 0);
    assert_int_equal(nn_optimizer_setup(opt, 0), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_optimizer_setup(opt, SIZE_MAX), NN_OK); /* plain SGD keeps no state */
    nn_optimizer_free(opt);
    assert_int_equal(nn_optimizer_create_adam(&opt, NULL), NN_OK);
    assert_int_equal(nn_optimizer_setup(opt, SIZE_MAX / 2), NN_ERR_INVALID_ARGUMENT); /* overflow */
    assert_int_equal(nn_optimizer_setup(NULL, 3), NN_ERR_INVALID_ARGUMENT);
    nn_optimizer_free(opt);
}

static void test_iterations__counted_set_and_reset(void **state)
{
    (void)state;
    nn_optimizer *opt;
    assert_int_equal(nn_optimizer_create_adam(&opt, NULL), NN_OK);
    assert_int_equal(nn_optimizer_setup(opt, N), NN_OK);
    assert_int_equal(nn_optimizer_get_iterations(opt), 0);
    float w[N];
    memcpy(w, start_w, sizeof w);
    for (int s = 0; s < STEPS; s++) assert_int_equal(nn_optimizer_step(opt, w, grads[s], N), NN_OK);
    assert_int_equal(nn_optimizer_get_iterations(opt), STEPS);

    /* The step count drives bias correction: resume at t = 11 and compare with the rule there. */
    nn_optimizer_set_iterations(opt, 10);
    assert_int_equal(nn_optimizer_get_iterations(opt), 10);
    ref r;
    ref_init(&r, NN_OPT_ADAM);
    nn_adam_options o = NN_ADAM_OPTIONS_INIT;
    r.lr = o.lr;
    r.beta1 = o.beta1;
    r.beta2 = o.beta2;
    r.eps = o.eps;
    for (int i = 0; i < N; i++) r.w[i] = w[i];
    float *m, *v;
    assert_int_equal(nn_optimizer_state(opt, 0, NULL, &m, NULL), NN_OK);
    assert_int_equal(nn_optimizer_state(opt, 1, NULL, &v, NULL), NN_OK);
    for (int i = 0; i < N; i++) {
        r.m[i] = m[i];
        r.v[i] = v[i];
    }
    r.t = 10.0;
    assert_int_equal(nn_optimizer_step(opt, w, grads[1], N), NN_OK);
    ref_step(&r, grads[1]);
    for (int i = 0; i < N; i++) assert_close(w[i], r.w[i], "w", 11, i);
    assert_int_equal(nn_optimizer_get_iterations(opt), 11);

    /* Setup starts over. */
    assert_int_equal(nn_optimizer_setup(opt, N), NN_OK);
    assert_int_equal(nn_optimizer_get_iterations(opt), 0);
    assert_int_equal(nn_optimizer_state(opt, 0, NULL, &m, NULL), NN_OK);
    for (int i = 0; i < N; i++) assert_true(m[i] == 0.0f);
    nn_optimizer_free(opt);
    assert_int_equal(nn_optimizer_get_iterations(NULL), 0);
    nn_optimizer_set_iterations(NULL, 5);
}

/* Saving the state arrays and the step count and writing them into a fresh optimizer resumes
 * training bit for bit. */
static void test_state__restore_resumes_exactly(void **state)
{
    (void)state;
    nn_rmsprop_options o = {NN_RMSPROP_OPTIONS_VERSION, 0.05f, 0.8f, 0.5f, 1e-3f, 1};
    nn_optimizer *a, *b;
    assert_int_equal(nn_optimizer_create_rmsprop(&a, &o), NN_OK);
    assert_int_equal(nn_optimizer_create_rmsprop(&b, &o), NN_OK);
    assert_int_equal(nn_optimizer_setup(a, N), NN_OK);
    assert_int_equal(nn_optimizer_setup(b, N), NN_OK);
    float wa[N], wb[N];
    memcpy(wa, start_w, sizeof wa);
    for (int s = 0; s < 2; s++) assert_int_equal(nn_optimizer_step(a, wa, grads[s], N), NN_OK);
    memcpy(wb, wa, sizeof wb);
    for (int k = 0; k < nn_optimizer_state_count(a); k++) {
        float *src, *dst;
        size_t n;
        assert_int_equal(nn_optimizer_state(a, k, NULL, &src, &n), NN_OK);
        assert_int_equal(nn_optimizer_state(b, k, NULL, &dst, NULL), NN_OK);
        memcpy(dst, src, n * sizeof *dst);
    }
    nn_optimizer_set_iterations(b, nn_optimizer_get_iterations(a));
    assert_int_equal(nn_optimizer_step(a, wa, grads[2], N), NN_OK);
    assert_int_equal(nn_optimizer_step(b, wb, grads[2], N), NN_OK);
    assert_memory_equal(wa, wb, sizeof wa);
    nn_optimizer_free(a);
    nn_optimizer_free(b);
}

/* ---- convergence ---- */

#define QN 64

/* f(w) = 1/2 sum c_i (w_i - t_i)^2, minimum at t; curvatures c_i spread over [0.5, 2]. */
static void converge(nn_optimizer *opt, double tol)
{
    float w[QN], g[QN], c[QN], t[QN];
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 7), NN_OK);
    tu_fill_uniform(w, QN, -2.0f, 2.0f, rng);
    tu_fill_uniform(t, QN, -1.0f, 1.0f, rng);
    tu_fill_uniform(c, QN, 0.5f, 2.0f, rng);
    nn_rng_free(rng);
    assert_int_equal(nn_optimizer_setup(opt, QN), NN_OK);
    for (int s = 0; s < 1000; s++) {
        for (int i = 0; i < QN; i++) g[i] = c[i] * (w[i] - t[i]);
        assert_int_equal(nn_optimizer_step(opt, w, g, QN), NN_OK);
    }
    double worst = tu_max_abs_diff(w, t, QN);
    if (!(worst < tol))
        fail_msg("%s: max |w - w*| = %g after 1000 steps", nn_optimizer_kind_name(nn_optimizer_get_kind(opt)), worst);
    nn_optimizer_free(opt);
}

static void test_converge__quadratic_each_optimizer(void **state)
{
    (void)state;
    nn_optimizer *opt;
    nn_sgd_options s = NN_SGD_OPTIONS_INIT;
    s.lr = 0.1f;
    assert_int_equal(nn_optimizer_create_sgd(&opt, &s), NN_OK);
    converge(opt, 1e-4);
    s.momentum = 0.9f;
    assert_int_equal(nn_optimizer_create_sgd(&opt, &s), NN_OK);
    converge(opt, 1e-4);
    s.nesterov = 1;
    assert_int_equal(nn_optimizer_create_sgd(&opt, &s), NN_OK);
    converge(opt, 1e-4);

    nn_adam_options a = NN_ADAM_OPTIONS_INIT;
    a.lr = 0.01f;
    assert_int_equal(nn_optimizer_create_adam(&opt, &a), NN_OK);
    converge(opt, 1e-2);
    nn_adamw_options aw = NN_ADAMW_OPTIONS_INIT;
    aw.lr = 0.01f;
    assert_int_equal(nn_optimizer_create_adamw(&opt, &aw), NN_OK);
    converge(opt, 1e-2);

    nn_rmsprop_options r = NN_RMSPROP_OPTIONS_INIT;
    r.lr = 0.01f;
    assert_int_equal(nn_optimizer_create_rmsprop(&opt, &r), NN_OK);
    converge(opt, 1e-2);
    r.centered = 1;
    r.momentum = 0.5f;
    assert_int_equal(nn_optimizer_create_rmsprop(&opt, &r), NN_OK);
    converge(opt, 1e-2);

    nn_adagrad_options g = NN_ADAGRAD_OPTIONS_INIT;
    g.lr = 0.5f;
    assert_int_equal(nn_optimizer_create_adagrad(&opt, &g), NN_OK);
    converge(opt, 1e-2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd__plain_matches_rule),
        cmocka_unit_test(test_sgd__momentum_matches_rule),
        cmocka_unit_test(test_sgd__nesterov_matches_rule),
        cmocka_unit_test(test_adam__matches_rule),
        cmocka_unit_test(test_adam__defaults_match_rule),
        cmocka_unit_test(test_adam__bias_correction_first_step),
        cmocka_unit_test(test_adamw__matches_rule),
        cmocka_unit_test(test_adamw__zero_decay_is_adam),
        cmocka_unit_test(test_rmsprop__matches_rule),
        cmocka_unit_test(test_rmsprop__centered_matches_rule),
        cmocka_unit_test(test_rmsprop__momentum_matches_rule),
        cmocka_unit_test(test_rmsprop__centered_momentum_matches_rule),
        cmocka_unit_test(test_adagrad__matches_rule),
        cmocka_unit_test(test_defaults__are_keras3),
        cmocka_unit_test(test_hparams__names_and_default_values),
        cmocka_unit_test(test_hparams__round_trip_through_set_hparam),
        cmocka_unit_test(test_hparams__set_validates),
        cmocka_unit_test(test_hparams__state_layout_fixed_after_setup),
        cmocka_unit_test(test_lr__get_and_set),
        cmocka_unit_test(test_kind__names),
        cmocka_unit_test(test_from_name__each_kind),
        cmocka_unit_test(test_from_name__unknown_lists_accepted),
        cmocka_unit_test(test_create__rejects_bad_options),
        cmocka_unit_test(test_state__before_setup_and_out_of_range),
        cmocka_unit_test(test_state__names_per_configuration),
        cmocka_unit_test(test_step__wrong_size_or_not_set_up),
        cmocka_unit_test(test_iterations__counted_set_and_reset),
        cmocka_unit_test(test_state__restore_resumes_exactly),
        cmocka_unit_test(test_converge__quadratic_each_optimizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
