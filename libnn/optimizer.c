/* Optimizers: SGD (with momentum / Nesterov), Adam, AdamW, RMSprop, Adagrad, in Keras 3's form.
 *
 * All state (moments, velocities, accumulators) lives in one allocation made by nn_optimizer_setup(),
 * so nn_optimizer_step() never allocates. Each step is one pass over the flat arrays by an update
 * kernel of the compute interface (compute.h, libnn/cpu/optimizer.c); everything that depends only on
 * the step number (Adam's bias-corrected step size) is computed here once, in double, so the kernel's
 * loop body has no branches and vectorises. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"
#include "internal.h"

/* The most state arrays any optimizer keeps (centered RMSprop with momentum). */
#define MAX_STATE 3

/* Hyperparameters of every kind in one struct; each kind reads only its own (see kind_info).
 * The flags are stored as 0.0f / 1.0f so that every hyperparameter reads back as a float. */
typedef struct hparams {
    float lr;
    float momentum;
    float nesterov;
    float beta1;
    float beta2;
    float eps;
    float weight_decay;
    float rho;
    float centered;
    float initial_accumulator;
} hparams;

typedef enum hp_id {
    HP_LR,
    HP_MOMENTUM,
    HP_NESTEROV,
    HP_BETA1,
    HP_BETA2,
    HP_EPS,
    HP_WEIGHT_DECAY,
    HP_RHO,
    HP_CENTERED,
    HP_INITIAL_ACCUMULATOR,
    HP_COUNT
} hp_id;

static const char *const hp_names[HP_COUNT] = {
    "lr", "momentum", "nesterov", "beta1", "beta2", "eps", "weight_decay", "rho", "centered", "initial_accumulator",
};

#define KIND_COUNT 5
#define MAX_HP 5

/* Per kind: its name and, in the order reported by nn_optimizer_hparam(), its hyperparameters. */
static const struct kind_info {
    const char *name;
    int n_hp;
    hp_id hp[MAX_HP];
} kinds[KIND_COUNT] = {
    [NN_OPT_SGD] = {"sgd", 3, {HP_LR, HP_MOMENTUM, HP_NESTEROV}},
    [NN_OPT_ADAM] = {"adam", 4, {HP_LR, HP_BETA1, HP_BETA2, HP_EPS}},
    [NN_OPT_RMSPROP] = {"rmsprop", 5, {HP_LR, HP_RHO, HP_MOMENTUM, HP_EPS, HP_CENTERED}},
    [NN_OPT_ADAMW] = {"adamw", 5, {HP_LR, HP_BETA1, HP_BETA2, HP_EPS, HP_WEIGHT_DECAY}},
    [NN_OPT_ADAGRAD] = {"adagrad", 3, {HP_LR, HP_INITIAL_ACCUMULATOR, HP_EPS}},
};

struct nn_optimizer {
    nn_optimizer_kind kind;
    hparams hp;
    uint64_t iterations;
    int set_up;       /* non-zero once nn_optimizer_setup() succeeded */
    size_t n;         /* parameter count given to setup */
    float *buf;       /* state_count arrays of n floats, each on a cache line (state_at); NULL when none */
    int state_count;  /* fixed at setup: set_hparam refuses changes to it */
    const char *state_names[MAX_STATE];
    const nn_model *owner; /* the model that frees it (see nn_model_compile), or NULL */
};

/* State array i, or NULL when the optimizer keeps fewer. */
static float *state_at(const nn_optimizer *opt, int i)
{
    return opt->buf && i < opt->state_count ? opt->buf + (size_t)i * nn__align_floats(opt->n) : NULL;
}

/* ---- defaults (Keras 3) ---- */

static const size_t sgd_sizes[] = {sizeof(nn_sgd_options)};
static const nn_sgd_options sgd_defaults = NN_SGD_OPTIONS_INIT;

nn_status nn_sgd_options_init(nn_sgd_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &sgd_defaults, sgd_sizes, NN_SGD_OPTIONS_VERSION, "nn_sgd_options_init");
}

static const size_t adam_sizes[] = {sizeof(nn_adam_options)};
static const nn_adam_options adam_defaults = NN_ADAM_OPTIONS_INIT;

nn_status nn_adam_options_init(nn_adam_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &adam_defaults, adam_sizes, NN_ADAM_OPTIONS_VERSION, "nn_adam_options_init");
}

static const size_t adamw_sizes[] = {sizeof(nn_adamw_options)};
static const nn_adamw_options adamw_defaults = NN_ADAMW_OPTIONS_INIT;

nn_status nn_adamw_options_init(nn_adamw_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &adamw_defaults, adamw_sizes, NN_ADAMW_OPTIONS_VERSION, "nn_adamw_options_init");
}

static const size_t rmsprop_sizes[] = {sizeof(nn_rmsprop_options)};
static const nn_rmsprop_options rmsprop_defaults = NN_RMSPROP_OPTIONS_INIT;

nn_status nn_rmsprop_options_init(nn_rmsprop_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &rmsprop_defaults, rmsprop_sizes, NN_RMSPROP_OPTIONS_VERSION, "nn_rmsprop_options_init");
}

static const size_t adagrad_sizes[] = {sizeof(nn_adagrad_options)};
static const nn_adagrad_options adagrad_defaults = NN_ADAGRAD_OPTIONS_INIT;

nn_status nn_adagrad_options_init(nn_adagrad_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &adagrad_defaults, adagrad_sizes, NN_ADAGRAD_OPTIONS_VERSION, "nn_adagrad_options_init");
}

/* ---- hyperparameters ---- */

static float *hp_slot(hparams *h, hp_id id)
{
    switch (id) {
    case HP_LR: return &h->lr;
    case HP_MOMENTUM: return &h->momentum;
    case HP_NESTEROV: return &h->nesterov;
    case HP_BETA1: return &h->beta1;
    case HP_BETA2: return &h->beta2;
    case HP_EPS: return &h->eps;
    case HP_WEIGHT_DECAY: return &h->weight_decay;
    case HP_RHO: return &h->rho;
    case HP_CENTERED: return &h->centered;
    case HP_INITIAL_ACCUMULATOR: return &h->initial_accumulator;
    case HP_COUNT: break;
    }
    return NULL;
}

/* Checks one hyperparameter's range. The comparisons are written so that NaN fails them. */
static nn_status check_hp(const char *who, hp_id id, float v)
{
    double d = (double)v;
    switch (id) {
    case HP_LR:
        if (!(v > 0.0f) || !isfinite(v))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: lr is %g, must be positive and finite", who, d);
        break;
    case HP_MOMENTUM:
    case HP_BETA1:
    case HP_BETA2:
    case HP_RHO:
        if (!(v >= 0.0f && v < 1.0f))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s is %g, must be in [0, 1)", who, hp_names[id], d);
        break;
    case HP_NESTEROV:
    case HP_CENTERED:
        if (v != 0.0f && v != 1.0f)
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s is %g, must be 0 or 1", who, hp_names[id], d);
        break;
    case HP_EPS:
        if (!(v > 0.0f) || !isfinite(v))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: eps is %g, must be positive and finite", who, d);
        break;
    case HP_WEIGHT_DECAY:
    case HP_INITIAL_ACCUMULATOR:
        if (!(v >= 0.0f) || !isfinite(v))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s is %g, must be non-negative and finite", who,
                            hp_names[id], d);
        break;
    case HP_COUNT: break;
    }
    return NN_OK;
}

static nn_status check_all(const char *who, nn_optimizer_kind kind, hparams *h)
{
    const struct kind_info *k = &kinds[kind];
    for (int i = 0; i < k->n_hp; i++) {
        nn_status st = check_hp(who, k->hp[i], *hp_slot(h, k->hp[i]));
        if (st != NN_OK) return st;
    }
    return NN_OK;
}

/* The state arrays a configuration needs, in the order nn_optimizer_state() reports them. */
static int state_layout(nn_optimizer_kind kind, const hparams *h, const char *names[MAX_STATE])
{
    int c = 0;
    switch (kind) {
    case NN_OPT_SGD:
        if (h->momentum > 0.0f) names[c++] = "velocity";
        break;
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW:
        names[c++] = "m";
        names[c++] = "v";
        break;
    case NN_OPT_RMSPROP:
        names[c++] = "velocity";
        if (h->centered != 0.0f) names[c++] = "mean_grad";
        if (h->momentum > 0.0f) names[c++] = "momentum";
        break;
    case NN_OPT_ADAGRAD:
        names[c++] = "accumulator";
        break;
    }
    return c;
}

/* ---- creation ---- */

static int kind_valid(nn_optimizer_kind kind) { return (unsigned)kind < KIND_COUNT; }

static nn_status create(nn_optimizer **out, nn_optimizer_kind kind, hparams *h, const char *who)
{
    nn_status st = check_all(who, kind, h);
    if (st != NN_OK) return st;
    nn_optimizer *o = calloc(1, sizeof *o);
    if (!o) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    o->kind = kind;
    o->hp = *h;
    o->state_count = state_layout(kind, h, o->state_names);
    *out = o;
    return NN_OK;
}

nn_status nn_optimizer_create_sgd(nn_optimizer **out, const nn_sgd_options *opts)
{
    const char *who = "sgd";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    nn_sgd_options o;
    nn_status st = nn__options_take(&o, &sgd_defaults, opts, sgd_sizes, NN_SGD_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    hparams h = {0};
    h.lr = o.lr;
    h.momentum = o.momentum;
    h.nesterov = o.nesterov ? 1.0f : 0.0f;
    return create(out, NN_OPT_SGD, &h, who);
}

nn_status nn_optimizer_create_adam(nn_optimizer **out, const nn_adam_options *opts)
{
    const char *who = "adam";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    nn_adam_options o;
    nn_status st = nn__options_take(&o, &adam_defaults, opts, adam_sizes, NN_ADAM_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    hparams h = {0};
    h.lr = o.lr;
    h.beta1 = o.beta1;
    h.beta2 = o.beta2;
    h.eps = o.eps;
    return create(out, NN_OPT_ADAM, &h, who);
}

nn_status nn_optimizer_create_adamw(nn_optimizer **out, const nn_adamw_options *opts)
{
    const char *who = "adamw";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    nn_adamw_options o;
    nn_status st = nn__options_take(&o, &adamw_defaults, opts, adamw_sizes, NN_ADAMW_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    hparams h = {0};
    h.lr = o.lr;
    h.beta1 = o.beta1;
    h.beta2 = o.beta2;
    h.eps = o.eps;
    h.weight_decay = o.weight_decay;
    return create(out, NN_OPT_ADAMW, &h, who);
}

nn_status nn_optimizer_create_rmsprop(nn_optimizer **out, const nn_rmsprop_options *opts)
{
    const char *who = "rmsprop";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    nn_rmsprop_options o;
    nn_status st = nn__options_take(&o, &rmsprop_defaults, opts, rmsprop_sizes, NN_RMSPROP_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    hparams h = {0};
    h.lr = o.lr;
    h.rho = o.rho;
    h.momentum = o.momentum;
    h.eps = o.eps;
    h.centered = o.centered ? 1.0f : 0.0f;
    return create(out, NN_OPT_RMSPROP, &h, who);
}

nn_status nn_optimizer_create_adagrad(nn_optimizer **out, const nn_adagrad_options *opts)
{
    const char *who = "adagrad";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    nn_adagrad_options o;
    nn_status st = nn__options_take(&o, &adagrad_defaults, opts, adagrad_sizes, NN_ADAGRAD_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    hparams h = {0};
    h.lr = o.lr;
    h.initial_accumulator = o.initial_accumulator;
    h.eps = o.eps;
    return create(out, NN_OPT_ADAGRAD, &h, who);
}

/* ASCII case-insensitive equality, so "Adam" (Keras' class name) is accepted too. */
static int name_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        if (ca != *b) return 0;
    }
    return *a == *b;
}

nn_status nn_optimizer_create_from_name(nn_optimizer **out, const char *name, float lr)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_optimizer_create_from_name: out is NULL");
    *out = NULL;
    if (!name) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_optimizer_create_from_name: name is NULL");
    /* lr <= 0 means "the default"; NaN or infinity is a mistake, not a request for the default. */
    if (!isfinite(lr))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: lr is %g, must be positive and finite", name, (double)lr);
    int use_lr = lr > 0.0f;
    if (name_equal(name, "sgd")) {
        nn_sgd_options o = NN_SGD_OPTIONS_INIT;
        if (use_lr) o.lr = lr;
        return nn_optimizer_create_sgd(out, &o);
    }
    if (name_equal(name, "adam")) {
        nn_adam_options o = NN_ADAM_OPTIONS_INIT;
        if (use_lr) o.lr = lr;
        return nn_optimizer_create_adam(out, &o);
    }
    if (name_equal(name, "adamw")) {
        nn_adamw_options o = NN_ADAMW_OPTIONS_INIT;
        if (use_lr) o.lr = lr;
        return nn_optimizer_create_adamw(out, &o);
    }
    if (name_equal(name, "rmsprop")) {
        nn_rmsprop_options o = NN_RMSPROP_OPTIONS_INIT;
        if (use_lr) o.lr = lr;
        return nn_optimizer_create_rmsprop(out, &o);
    }
    if (name_equal(name, "adagrad")) {
        nn_adagrad_options o = NN_ADAGRAD_OPTIONS_INIT;
        if (use_lr) o.lr = lr;
        return nn_optimizer_create_adagrad(out, &o);
    }
    return nn__fail(NN_ERR_INVALID_ARGUMENT, "unknown optimizer '%s' (accepted: sgd, adam, adamw, rmsprop, adagrad)",
                    name);
}

void nn_optimizer_free(nn_optimizer *opt)
{
    if (!opt) return;
    /* The model frees it: freeing it here too would leave the model a dangling pointer and free it
     * twice, so the caller's stray free is refused rather than honoured. */
    if (opt->owner) {
        nn__fail(NN_ERR_STATE, "nn_optimizer_free: the optimizer belongs to a model, which frees it");
        return;
    }
    free(opt->buf);
    free(opt);
}

const nn_model *nn_optimizer__owner(const nn_optimizer *opt) { return opt ? opt->owner : NULL; }

void nn_optimizer__set_owner(nn_optimizer *opt, const nn_model *owner)
{
    if (opt) opt->owner = owner;
}

void nn_optimizer__release(nn_optimizer *opt)
{
    if (!opt) return;
    opt->owner = NULL;
    nn_optimizer_free(opt);
}

/* ---- accessors ---- */

nn_optimizer_kind nn_optimizer_get_kind(const nn_optimizer *opt)
{
    /* Out of range on purpose, so that nn_optimizer_kind_name() answers NULL for it. */
    return opt ? opt->kind : (nn_optimizer_kind)KIND_COUNT;
}

const char *nn_optimizer_kind_name(nn_optimizer_kind kind) { return kind_valid(kind) ? kinds[kind].name : NULL; }

float nn_optimizer_get_lr(const nn_optimizer *opt) { return opt ? opt->hp.lr : 0.0f; }

nn_status nn_optimizer_set_lr(nn_optimizer *opt, float lr)
{
    if (!opt) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_optimizer_set_lr: optimizer is NULL");
    nn_status st = check_hp(kinds[opt->kind].name, HP_LR, lr);
    if (st != NN_OK) return st;
    opt->hp.lr = lr;
    return NN_OK;
}

uint64_t nn_optimizer_get_iterations(const nn_optimizer *opt) { return opt ? opt->iterations : 0; }

void nn_optimizer_set_iterations(nn_optimizer *opt, uint64_t iterations)
{
    if (opt) opt->iterations = iterations;
}

int nn_optimizer_state_count(const nn_optimizer *opt) { return opt ? opt->state_count : 0; }

nn_status nn_optimizer_state(nn_optimizer *opt, int i, const char **name, float **data, size_t *n)
{
    if (!opt) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_optimizer_state: optimizer is NULL");
    const char *who = kinds[opt->kind].name;
    if (i < 0 || i >= opt->state_count)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: state index %d outside 0..%d", who, i, opt->state_count - 1);
    if (!opt->set_up) return nn__fail(NN_ERR_STATE, "%s: state read before nn_optimizer_setup()", who);
    if (name) *name = opt->state_names[i];
    if (data) *data = state_at(opt, i);
    if (n) *n = opt->n;
    return NN_OK;
}

int nn_optimizer_hparam_count(const nn_optimizer *opt) { return opt ? kinds[opt->kind].n_hp : 0; }

nn_status nn_optimizer_hparam(const nn_optimizer *opt, int i, const char **name, float *value)
{
    if (!opt) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_optimizer_hparam: optimizer is NULL");
    const struct kind_info *k = &kinds[opt->kind];
    if (i < 0 || i >= k->n_hp)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: hyperparameter index %d outside 0..%d", k->name, i, k->n_hp - 1);
    hparams h = opt->hp;
    if (name) *name = hp_names[k->hp[i]];
    if (value) *value = *hp_slot(&h, k->hp[i]);
    return NN_OK;
}

nn_status nn_optimizer_set_hparam(nn_optimizer *opt, const char *name, float value)
{
    if (!opt || !name) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_optimizer_set_hparam: NULL argument");
    const struct kind_info *k = &kinds[opt->kind];
    int found = -1;
    for (int i = 0; i < k->n_hp; i++)
        if (strcmp(name, hp_names[k->hp[i]]) == 0) found = i;
    if (found < 0) {
        char list[128] = "";
        for (int i = 0; i < k->n_hp; i++) {
            if (i) strcat(list, ", ");
            strcat(list, hp_names[k->hp[i]]);
        }
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: no hyperparameter '%s' (accepted: %s)", k->name, name, list);
    }
    hp_id id = k->hp[found];
    nn_status st = check_hp(k->name, id, value);
    if (st != NN_OK) return st;
    hparams h = opt->hp;
    *hp_slot(&h, id) = value;
    const char *names[MAX_STATE];
    int count = state_layout(opt->kind, &h, names);
    /* The state arrays were sized at setup; silently growing or dropping one would lose or invent
     * moments, so a change of layout needs an explicit new setup. */
    if (count != opt->state_count || memcmp(names, opt->state_names, (size_t)count * sizeof names[0]) != 0) {
        if (opt->set_up)
            return nn__fail(NN_ERR_STATE,
                            "%s: setting %s to %g changes the state arrays; call nn_optimizer_setup() again first",
                            k->name, name, (double)value);
        opt->state_count = count;
        memcpy(opt->state_names, names, sizeof names);
    }
    opt->hp = h;
    return NN_OK;
}

/* ---- setup and step ---- */

nn_status nn_optimizer_setup(nn_optimizer *opt, size_t n)
{
    if (!opt) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_optimizer_setup: optimizer is NULL");
    const char *who = kinds[opt->kind].name;
    if (n == 0) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: setup for 0 parameters", who);
    size_t total;
    if (!nn__mul_size(&total, n, (size_t)opt->state_count) || !nn__mul_size(&total, total, sizeof(float)))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: state for %zu parameters overflows", who, n);
    float *buf = NULL;
    if (total > 0) {
        /* Each state array starts on a cache line, as the parameters do (state_at); n is at most
         * SIZE_MAX / 4 here, so rounding it up cannot wrap, and the allocator checks the product. */
        buf = nn__aligned_alloc(nn__align_floats(n) * (size_t)opt->state_count, sizeof(float), 1);
        if (!buf) return nn__fail(NN_ERR_NO_MEMORY, "%s: cannot allocate state for %zu parameters", who, n);
    }
    if (opt->kind == NN_OPT_ADAGRAD) nn__fill(n, opt->hp.initial_accumulator, buf);
    free(opt->buf);
    opt->buf = buf;
    opt->n = n;
    opt->iterations = 0;
    opt->set_up = 1;
    return NN_OK;
}

nn_status nn__optimizer_begin(nn_optimizer *opt, size_t n, nn__step *step)
{
    if (!opt) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_optimizer_step: optimizer is NULL");
    const char *who = kinds[opt->kind].name;
    if (!opt->set_up) return nn__fail(NN_ERR_STATE, "%s: step before nn_optimizer_setup()", who);
    if (n != opt->n) return nn__fail(NN_ERR_STATE, "%s: step on %zu parameters, set up for %zu", who, n, opt->n);
    const hparams *h = &opt->hp;
    /* The step number t of the rules starts at 1 (Keras' iterations + 1). */
    double t = (double)opt->iterations + 1.0;
    *step = (nn__step){.kind = opt->kind, .lr = h->lr, .s = {state_at(opt, 0), state_at(opt, 1), state_at(opt, 2)}};
    switch (opt->kind) {
    case NN_OPT_SGD:
        step->momentum = opt->state_count ? h->momentum : 0.0f;
        step->nesterov = h->nesterov != 0.0f;
        break;
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW:
        step->alpha = (float)((double)h->lr * sqrt(1.0 - pow((double)h->beta2, t)) / (1.0 - pow((double)h->beta1, t)));
        step->decay = opt->kind == NN_OPT_ADAMW ? (float)((double)h->lr * (double)h->weight_decay) : 0.0f;
        step->one_minus_b1 = 1.0f - h->beta1;
        step->one_minus_b2 = 1.0f - h->beta2;
        step->eps = h->eps;
        break;
    case NN_OPT_RMSPROP:
        step->rho = h->rho;
        step->eps = h->eps;
        step->momentum = h->momentum;
        /* The state arrays follow state_layout(): velocity, then mean_grad when centered, then
         * momentum when there is momentum. */
        step->mean_grad = h->centered != 0.0f ? step->s[1] : NULL;
        step->mom = h->momentum > 0.0f ? (step->mean_grad ? step->s[2] : step->s[1]) : NULL;
        break;
    case NN_OPT_ADAGRAD: step->eps = h->eps; break;
    }
    return NN_OK;
}

void nn__optimizer_part(const nn__step *step, size_t first, size_t n, float *params, const float *grads)
{
    float *s0 = step->s[0] ? step->s[0] + first : NULL, *s1 = step->s[1] ? step->s[1] + first : NULL;
    switch (step->kind) {
    case NN_OPT_SGD:
        if (!s0) nn__sgd_update(n, step->lr, params, grads);
        else nn__sgd_momentum_update(n, step->lr, step->momentum, step->nesterov, params, grads, s0);
        break;
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW:
        nn__adam_update(n, step->alpha, step->one_minus_b1, step->one_minus_b2, step->eps, step->decay, params, grads,
                        s0, s1);
        break;
    case NN_OPT_RMSPROP:
        nn__rmsprop_update(n, step->lr, step->rho, step->eps, step->momentum, params, grads, s0,
                           step->mean_grad ? step->mean_grad + first : NULL, step->mom ? step->mom + first : NULL);
        break;
    case NN_OPT_ADAGRAD: nn__adagrad_update(n, step->lr, step->eps, params, grads, s0); break;
    }
}

int nn__optimizer_idle(const nn__step *step, size_t first, size_t n, float *params)
{
    float *s0 = step->s[0] ? step->s[0] + first : NULL;
    switch (step->kind) {
    case NN_OPT_SGD: /* w - lr 0 */
        return !s0 && isfinite(step->lr) && nn__kept_by_zero_step(n, params);
    case NN_OPT_RMSPROP:
        /* w - lr 0 / sqrt(rho s + eps): w while rho s + eps > 0. Training keeps s >= 0, but a
         * caller (nn_optimizer_state) or a model file may hand it anything. */
        if (step->mean_grad || step->mom || !isfinite(step->lr) || !(step->eps > 0) ||
            nn__max_raw_bits(s0, n) >= 0x7f800000u || !nn__kept_by_zero_step(n, params))
            return 0;
        nn__rmsprop_decay(n, step->rho, s0);
        return 1;
    case NN_OPT_ADAM: /* m and v stay +0, and w - 0 w - alpha 0 / (0 + eps) is w */
        /* Few rows qualify (MNIST's 67 pixels blank in every image): one value says no to most. */
        if (n == 0 || step->s[1][first] != 0) return 0;
        return step->decay == 0 && isfinite(step->alpha) && step->eps > 0 && nn__max_raw_bits(s0, n) == 0 &&
               nn__max_raw_bits(step->s[1] + first, n) == 0 && nn__kept_by_zero_step(n, params);
    default: return 0;
    }
}

void nn__optimizer_end(nn_optimizer *opt) { opt->iterations++; }

nn_status nn_optimizer_step(nn_optimizer *opt, float *params, const float *grads, size_t n)
{
    if (opt && (!params || !grads))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: step with NULL params or grads", kinds[opt->kind].name);
    nn__step step = {.lr = 0.0f};
    nn_status st = nn__optimizer_begin(opt, n, &step);
    if (st != NN_OK) return st;
    nn__optimizer_part(&step, 0, n, params, grads);
    nn__optimizer_end(opt);
    return NN_OK;
}
