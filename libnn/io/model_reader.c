/* Loading a model: first the whole file is walked and validated against the architecture, holding
 * no more than a valid file of that architecture needs; only then is the model built through the
 * public API and the tensors copied in. This is the format's one validation path: nn_model_load,
 * nn_file_info_read (which builds the model and drops it) and nn_model_save (which checks its own
 * output) all go through it, so that they accept and refuse the same files with the same words. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

static const size_t load_sizes[] = {sizeof(nn_load_options)};
static const nn_load_options load_defaults = NN_LOAD_OPTIONS_INIT;

nn_status nn_load_options_init(nn_load_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &load_defaults, load_sizes, NN_LOAD_OPTIONS_VERSION,
                            "nn_load_options_init");
}

/* The caller's options of any known version, as this version's struct. */
nn_status nnio_load_options(nn_load_options *o, const nn_load_options *opts)
{
    return nn__options_take(o, &load_defaults, opts, load_sizes, NN_LOAD_OPTIONS_VERSION, "nn_model_load");
}

typedef struct blob {
    const uint8_t *data; /* float32 little-endian values inside the file's bytes */
    uint64_t offset;
} blob;

typedef struct opt_state {
    char name[NNIO_MAX_NAME + 1];
    blob values;
} opt_state;

typedef struct load_ctx {
    const nn_load_options *o;
    nnio_arch arch;
    blob tensor[NN_MODEL_MAX_LAYERS][NN__MAX_LAYER_TENSORS]; /* by layer and the layer's tensor order */
    int has_opt;
    nn_optimizer_kind opt_kind;
    uint64_t iterations;
    int n_hp, n_state;
    char hp_name[NNIO_MAX_HPARAMS][NNIO_MAX_NAME + 1];
    float hp_value[NNIO_MAX_HPARAMS];
    uint64_t hp_offset[NNIO_MAX_HPARAMS];
    opt_state state[NNIO_MAX_STATES];
    int has_rng, has_train_rng;
    uint64_t rng[NN_RNG_STATE_WORDS], train_rng[NN_RNG_STATE_WORDS];
    int64_t epoch;
    uint8_t *kept[2];           /* TENS and OPTM payloads read from a file, which blobs point into */
    const nnio_visitor *extra;
} load_ctx;

/* n float32 values at p: refused when one is NaN or infinite, unless the caller allows them. */
static nn_status check_finite(const load_ctx *L, const uint8_t *p, uint64_t n, uint64_t offset, const char *what)
{
    if (L->o->allow_nonfinite) return NN_OK;
    for (uint64_t i = 0; i < n; i++) {
        /* All exponent bits set means infinity or NaN. */
        if ((nnio_load_u32(p + 4 * i) & 0x7f800000u) == 0x7f800000u)
            return nn__fail(NN_ERR_NUMERIC, "model file: %s has a non-finite value at element %llu (byte %llu), "
                                            "which nn_model_load refuses unless allow_nonfinite is set",
                            what, (unsigned long long)i, (unsigned long long)(offset + 4 * i));
    }
    return NN_OK;
}

/* The file's name of tensor k of layer i: "<kind>_<i>/<tensor>", e.g. "dense_0/kernel". */
static void tensor_name(char *buf, size_t cap, const nn__layer *l, int i, int k)
{
    snprintf(buf, cap, "%s_%d/%s", l->ops->name, i, l->spec[k].name);
}

/* Which layer and which of its tensors a name refers to; -1 when none has that name. */
static int tensor_slot(const nnio_arch *a, const char *name, int *slot)
{
    for (int i = 0; i < a->count; i++)
        for (int k = 0; k < a->layer[i].ntensors; k++) {
            char want[NNIO_MAX_NAME + 1];
            tensor_name(want, sizeof want, &a->layer[i], i, k);
            if (strcmp(name, want) == 0) return *slot = k, i;
        }
    return -1;
}

static void shape_text(char *buf, size_t cap, uint32_t rank, const int64_t *dims)
{
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (uint32_t i = 0; i < rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (n < cap) snprintf(buf + n, cap - n, rank == 1 ? ",)" : ")");
}

static nn_status parse_tensor(load_ctx *L, nnio_cur *c)
{
    char name[NNIO_MAX_NAME + 1], shape[96];
    uint64_t at = nnio_cur_offset(c);
    uint32_t dtype, rank;
    int64_t dims[NN_TENSOR_MAX_RANK];
    nn_status st = nnio_get_name(c, name, "tensor name");
    if (st != NN_OK) return st;
    if (!nnio_get_u32(c, &dtype) || !nnio_get_u32(c, &rank)) return nnio_truncated(c, "tensor header");
    if (dtype != NNIO_DTYPE_F32)
        return nn__fail(NN_ERR_FORMAT, "model file: tensor '%s' at byte %llu has dtype %u (only 1, float32, exists)",
                        name, (unsigned long long)at, dtype);
    if (rank < 1 || rank > NN_TENSOR_MAX_RANK)
        return nn__fail(NN_ERR_FORMAT, "model file: tensor '%s' at byte %llu has rank %u (1 to %d allowed)", name,
                        (unsigned long long)at, rank, NN_TENSOR_MAX_RANK);
    int64_t numel = 1;
    for (uint32_t i = 0; i < rank; i++) {
        if (!nnio_get_i64(c, &dims[i])) return nnio_truncated(c, "tensor shape");
        if (dims[i] < 1 || dims[i] > NNIO_MAX_FEATURES)
            return nn__fail(NN_ERR_FORMAT, "model file: tensor '%s' at byte %llu has extent %lld (1 to %lld allowed)",
                            name, (unsigned long long)at, (long long)dims[i], (long long)NNIO_MAX_FEATURES);
        numel *= dims[i]; /* at most 2^24 * 2^30 before the check below: no overflow */
        if (numel > NNIO_MAX_PARAMS)
            return nn__fail(NN_ERR_FORMAT, "model file: tensor '%s' at byte %llu exceeds %lld elements", name,
                            (unsigned long long)at, (long long)NNIO_MAX_PARAMS);
    }
    shape_text(shape, sizeof shape, rank, dims);
    int k, i = tensor_slot(&L->arch, name, &k);
    if (i < 0)
        return nn__fail(NN_ERR_FORMAT, "model file: tensor '%s' at byte %llu belongs to no layer", name,
                        (unsigned long long)at);
    const nn__tensor_spec *spec = &L->arch.layer[i].spec[k];
    int ok = (int)rank == spec->rank;
    for (uint32_t d = 0; ok && d < rank; d++) ok = dims[d] == spec->shape[d];
    if (!ok) {
        char want[96];
        shape_text(want, sizeof want, (uint32_t)spec->rank, spec->shape);
        return nn__fail(NN_ERR_FORMAT, "model file: tensor '%s' at byte %llu: shape %s, layer %d's %s is %s", name,
                        (unsigned long long)at, shape, i, spec->name, want);
    }
    blob *b = &L->tensor[i][k];
    if (b->data)
        return nn__fail(NN_ERR_FORMAT, "model file: duplicate tensor '%s' at byte %llu", name, (unsigned long long)at);
    b->offset = nnio_cur_offset(c);
    if ((uint64_t)numel > nnio_cur_left(c) / 4)
        return nn__fail(NN_ERR_FORMAT, "model file: tensor '%s' at byte %llu: shape %s needs %lld bytes, %zu remain",
                        name, (unsigned long long)at, shape, (long long)numel * 4, nnio_cur_left(c));
    nnio_get_bytes(c, (size_t)numel * 4, &b->data);
    char what[NNIO_MAX_NAME + 16];
    snprintf(what, sizeof what, "tensor '%s'", name);
    return check_finite(L, b->data, (uint64_t)numel, b->offset, what);
}

static nn_status parse_tensors(load_ctx *L, const nnio_section *s)
{
    nnio_cur c;
    nnio_cur_init(&c, s->payload, (size_t)s->length, s->offset);
    uint32_t count;
    if (!nnio_get_u32(&c, &count)) return nnio_truncated(&c, "tensor count");
    if (count > NNIO_MAX_TENSORS)
        return nn__fail(NN_ERR_FORMAT, "model file: %u tensors at byte %llu (at most %d)", count,
                        (unsigned long long)s->offset, NNIO_MAX_TENSORS);
    for (uint32_t i = 0; i < count; i++) {
        nn_status st = parse_tensor(L, &c);
        if (st != NN_OK) return st;
    }
    if (nnio_cur_left(&c))
        return nn__fail(NN_ERR_FORMAT, "model file: %zu bytes after the last tensor (byte %llu)", nnio_cur_left(&c),
                        (unsigned long long)nnio_cur_offset(&c));
    for (int i = 0; i < L->arch.count; i++)
        for (int k = 0; k < L->arch.layer[i].ntensors; k++)
            if (!L->tensor[i][k].data) {
                char name[NNIO_MAX_NAME + 1];
                tensor_name(name, sizeof name, &L->arch.layer[i], i, k);
                return nn__fail(NN_ERR_FORMAT, "model file: tensor '%s' is missing", name);
            }
    return NN_OK;
}

static nn_status parse_optimizer(load_ctx *L, const nnio_section *s)
{
    nn_status st = nnio_parse_optimizer_kind(&L->opt_kind, s);
    if (st != NN_OK) return st;
    nnio_cur c;
    nnio_cur_init(&c, s->payload, (size_t)s->length, s->offset);
    uint32_t kind, nh, ns;
    nnio_get_u32(&c, &kind);
    if (!nnio_get_u64(&c, &L->iterations) || !nnio_get_u32(&c, &nh)) return nnio_truncated(&c, "optimizer");
    if (nh > NNIO_MAX_HPARAMS)
        return nn__fail(NN_ERR_FORMAT, "model file: %u optimizer hyperparameters at byte %llu (at most %d)", nh,
                        (unsigned long long)(s->offset + 12), NNIO_MAX_HPARAMS);
    for (uint32_t i = 0; i < nh; i++) {
        L->hp_offset[i] = nnio_cur_offset(&c);
        if ((st = nnio_get_name(&c, L->hp_name[i], "hyperparameter name")) != NN_OK) return st;
        if (!nnio_get_f32(&c, &L->hp_value[i])) return nnio_truncated(&c, "hyperparameter");
        if (!isfinite(L->hp_value[i]))
            return nn__fail(NN_ERR_FORMAT, "model file: hyperparameter '%s' at byte %llu is not finite", L->hp_name[i],
                            (unsigned long long)L->hp_offset[i]);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(L->hp_name[j], L->hp_name[i]) == 0)
                return nn__fail(NN_ERR_FORMAT, "model file: duplicate hyperparameter '%s' at byte %llu",
                                L->hp_name[i], (unsigned long long)L->hp_offset[i]);
    }
    L->n_hp = (int)nh;
    if (!nnio_get_u32(&c, &ns)) return nnio_truncated(&c, "optimizer state count");
    if (ns > NNIO_MAX_STATES)
        return nn__fail(NN_ERR_FORMAT, "model file: %u optimizer state arrays at byte %llu (at most %d)", ns,
                        (unsigned long long)(nnio_cur_offset(&c) - 4), NNIO_MAX_STATES);
    for (uint32_t i = 0; i < ns; i++) {
        opt_state *o = &L->state[i];
        uint64_t at = nnio_cur_offset(&c), n;
        if ((st = nnio_get_name(&c, o->name, "optimizer state name")) != NN_OK) return st;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(L->state[j].name, o->name) == 0)
                return nn__fail(NN_ERR_FORMAT, "model file: duplicate optimizer state '%s' at byte %llu", o->name,
                                (unsigned long long)at);
        if (!nnio_get_u64(&c, &n)) return nnio_truncated(&c, "optimizer state");
        if (n != (uint64_t)L->arch.params)
            return nn__fail(NN_ERR_FORMAT, "model file: optimizer state '%s' at byte %llu holds %llu values for %lld "
                                           "parameters",
                            o->name, (unsigned long long)at, (unsigned long long)n, (long long)L->arch.params);
        o->values.offset = nnio_cur_offset(&c);
        if (n > nnio_cur_left(&c) / 4 || !nnio_get_bytes(&c, (size_t)n * 4, &o->values.data))
            return nnio_truncated(&c, "optimizer state");
        char what[NNIO_MAX_NAME + 32];
        snprintf(what, sizeof what, "optimizer state '%s'", o->name);
        if ((st = check_finite(L, o->values.data, n, o->values.offset, what)) != NN_OK) return st;
    }
    L->n_state = (int)ns;
    if (nnio_cur_left(&c))
        return nn__fail(NN_ERR_FORMAT, "model file: %zu unexpected bytes at the end of section OPTM (byte %llu)",
                        nnio_cur_left(&c), (unsigned long long)nnio_cur_offset(&c));
    L->has_opt = 1;
    return NN_OK;
}

/* Bytes per tensor record besides its values: name, dtype, rank and dimensions. */
#define TENSOR_RECORD_MAX (4 + NNIO_MAX_NAME + 8 + 8 * NN_TENSOR_MAX_RANK)

static uint64_t limit(void *ctx, uint32_t tag)
{
    const load_ctx *L = ctx;
    uint64_t params = (uint64_t)L->arch.params, values = params + (uint64_t)L->arch.buffers, tensors = 0;
    for (int i = 0; i < L->arch.count; i++) tensors += (uint64_t)L->arch.layer[i].ntensors;
    switch (tag) {
    case NNIO_TAG_ARCH:
        return 4 + 8 * NN__MAX_RANK + 8 + (uint64_t)NN_MODEL_MAX_LAYERS * (28 + NNIO_MAX_NAME + NNIO_MAX_SETTINGS);
    case NNIO_TAG_META: return 4 + (uint64_t)NN_FORMAT_MAX_META * (8 + 2 * NN_FORMAT_MAX_STRING);
    case NNIO_TAG_RNGS:
    case NNIO_TAG_TRNG: return 8 * NN_RNG_STATE_WORDS;
    case NNIO_TAG_PROG: return 8;
    /* params <= 2^30, so none of these sums can overflow. */
    case NNIO_TAG_TENS: return 4 + tensors * TENSOR_RECORD_MAX + 4 * values;
    case NNIO_TAG_OPTM:
        return 20 + (uint64_t)NNIO_MAX_HPARAMS * (8 + NNIO_MAX_NAME) +
               (uint64_t)NNIO_MAX_STATES * (12 + NNIO_MAX_NAME + 4 * params);
    default: return 0;
    }
}

static nn_status parse_section(load_ctx *L, const nnio_section *s)
{
    switch (s->tag) {
    case NNIO_TAG_ARCH: return nnio_parse_arch(&L->arch, s);
    case NNIO_TAG_TENS: return parse_tensors(L, s);
    case NNIO_TAG_OPTM: return parse_optimizer(L, s);
    case NNIO_TAG_RNGS: L->has_rng = 1; return nnio_parse_rng(L->rng, s);
    case NNIO_TAG_TRNG: L->has_train_rng = 1; return nnio_parse_rng(L->train_rng, s);
    case NNIO_TAG_PROG: return nnio_parse_progress(&L->epoch, s);
    case NNIO_TAG_META: {
        /* Not kept by the model, but validated so that a damaged file is never half-accepted. */
        nnio_meta *m = malloc(sizeof *m);
        if (!m) return nn__fail(NN_ERR_NO_MEMORY, "model file: out of memory");
        nn_status st = nnio_parse_meta(m, s);
        free(m);
        return st;
    }
    default: return NN_OK;
    }
}

static nn_status visit(void *ctx, nnio_section *s)
{
    load_ctx *L = ctx;
    nn_status st = parse_section(L, s);
    if (st != NN_OK) return st;
    /* The blobs of TENS and OPTM point into their payload until the model is built. */
    if (s->owned && (s->tag == NNIO_TAG_TENS || s->tag == NNIO_TAG_OPTM)) {
        L->kept[s->tag == NNIO_TAG_OPTM] = s->owned;
        s->owned = NULL;
    }
    return L->extra ? L->extra->visit(L->extra->ctx, s) : NN_OK;
}

static load_ctx *ctx_new(const nn_load_options *o, const nnio_visitor *extra)
{
    load_ctx *L = calloc(1, sizeof *L);
    if (!L) return NULL;
    L->o = o;
    L->epoch = -1;
    L->extra = extra;
    return L;
}

static void ctx_free(load_ctx *L)
{
    if (!L) return;
    free(L->kept[0]);
    free(L->kept[1]);
    free(L);
}

/* A call into the model API refused what the file describes: the file is at fault, and the
 * library's own message says why. */
static nn_status refused(nn_status st, const char *what)
{
    if (st == NN_ERR_NO_MEMORY) return st;
    char detail[512];
    snprintf(detail, sizeof detail, "%s", nn_last_error());
    return nn__fail(NN_ERR_FORMAT, "model file: %s: %s", what, detail);
}

static void copy_floats(float *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = nnio_load_f32(src + 4 * i);
}

static nn_status build_optimizer(nn_optimizer **out, const load_ctx *L)
{
    *out = NULL;
    nn_optimizer *opt;
    nn_status st = nn_optimizer_create_from_name(&opt, nn_optimizer_kind_name(L->opt_kind), 0.0f);
    if (st != NN_OK) return refused(st, "optimizer");
    for (int i = 0; i < L->n_hp; i++) {
        if ((st = nn_optimizer_set_hparam(opt, L->hp_name[i], L->hp_value[i])) != NN_OK) {
            char what[NNIO_MAX_NAME + 64];
            snprintf(what, sizeof what, "hyperparameter '%s' at byte %llu", L->hp_name[i],
                     (unsigned long long)L->hp_offset[i]);
            nn_optimizer_free(opt);
            return refused(st, what);
        }
    }
    *out = opt;
    return NN_OK;
}

static nn_status restore_optimizer(nn_optimizer *opt, const load_ctx *L)
{
    int n = nn_optimizer_state_count(opt);
    if (n != L->n_state)
        return nn__fail(NN_ERR_FORMAT, "model file: the file holds %d optimizer state arrays, %s keeps %d", L->n_state,
                        nn_optimizer_kind_name(L->opt_kind), n);
    for (int i = 0; i < n; i++) {
        const char *name;
        float *data;
        size_t len;
        nn_status st = nn_optimizer_state(opt, i, &name, &data, &len);
        if (st != NN_OK) return st;
        int j;
        for (j = 0; j < L->n_state && strcmp(L->state[j].name, name) != 0; j++) {}
        if (j == L->n_state)
            return nn__fail(NN_ERR_FORMAT, "model file: optimizer state '%s' of %s is missing", name,
                            nn_optimizer_kind_name(L->opt_kind));
        if (len != (size_t)L->arch.params)
            return nn__fail(NN_ERR_STATE, "model file: optimizer state '%s' has %zu values, the model %lld parameters",
                            name, len, (long long)L->arch.params);
        copy_floats(data, L->state[j].values.data, len);
    }
    nn_optimizer_set_iterations(opt, L->iterations);
    return NN_OK;
}

static nn_status build(nn_model **out, const load_ctx *L)
{
    nn_model *m;
    nn_status st = nn_model_create_shape(&m, L->arch.input.rank, L->arch.input.dim);
    if (st != NN_OK) return refused(st, "architecture");
    for (int i = 0; i < L->arch.count && st == NN_OK; i++) {
        st = nn__model_append(m, &L->arch.layer[i], "nn_model_load");
        if (st != NN_OK) st = refused(st, "layer");
    }
    nn_optimizer *opt = NULL;
    if (st == NN_OK && L->has_opt) st = build_optimizer(&opt, L);
    if (st == NN_OK) {
        /* compile() sizes the optimizer's state from the parameter count, and the state's layout
         * (how many arrays) from the hyperparameters set above. */
        st = nn_model_compile(m, L->arch.loss, opt);
        if (st != NN_OK) {
            nn_optimizer_free(opt);
            st = refused(st, "compile");
        }
    }
    if (st == NN_OK && (nn_model_param_count(m) != L->arch.params || nn_model_buffer_count(m) != L->arch.buffers))
        st = nn__fail(NN_ERR_STATE, "model file: the model has %lld parameters, the file describes %lld",
                      (long long)nn_model_param_count(m), (long long)L->arch.params);
    for (int i = 0; i < L->arch.count && st == NN_OK; i++) {
        const nn__layer *l = nn__model_layer(m, i);
        for (int k = 0; k < l->ntensors; k++) {
            size_t n = 1;
            for (int d = 0; d < l->spec[k].rank; d++) n *= (size_t)l->spec[k].shape[d];
            copy_floats(l->t[k], L->tensor[i][k].data, n);
        }
    }
    if (st == NN_OK && L->has_train_rng && (st = nn_rng_set_state(nn_model_rng(m), L->train_rng)) != NN_OK)
        st = refused(st, "training generator state");
    if (st == NN_OK && L->has_opt) st = restore_optimizer(nn_model_get_optimizer(m), L);
    if (st != NN_OK) {
        nn_model_free(m);
        return st;
    }
    *out = m;
    return NN_OK;
}

nn_status nnio_load(nn_model **out, nnio_src *src, const nn_load_options *o, const nnio_visitor *extra,
                    unsigned *major, unsigned *minor)
{
    if (out) *out = NULL;
    load_ctx *L = ctx_new(o, extra);
    if (!L) return nn__fail(NN_ERR_NO_MEMORY, "nn_model_load: out of memory");
    nnio_visitor v = {limit, visit, L};
    unsigned maj = 0, min = 0;
    nn_status st = nnio_walk(src, &v, &maj, &min);
    if (major) *major = maj;
    if (minor) *minor = min;
    nn_model *m = NULL;
    if (st == NN_OK) st = build(&m, L);
    if (st == NN_OK && o->rng && L->has_rng && nn_rng_set_state(o->rng, L->rng) != NN_OK) {
        nn_model_free(m);
        m = NULL;
        st = refused(NN_ERR_INVALID_ARGUMENT, "generator state");
    }
    if (st == NN_OK) {
        if (o->epoch) *o->epoch = L->epoch;
        if (out) *out = m;
        else nn_model_free(m);
    }
    ctx_free(L);
    return st;
}

nn_status nnio_load_path(nn_model **out, const char *path, const nn_load_options *o, const nnio_visitor *extra,
                         unsigned *major, unsigned *minor)
{
    nnio_src src;
    nn_status st = nnio_src_open(&src, path);
    if (st == NN_OK) {
        st = nnio_load(out, &src, o, extra, major, minor);
        nnio_src_close(&src);
    }
    if (st != NN_OK) {
        /* Name the file in the message: "model file 'a.nnm': truncated ..." */
        char detail[512];
        const char *msg = nn_last_error();
        if (strncmp(msg, "model file: ", 12) == 0) {
            snprintf(detail, sizeof detail, "%s", msg + 12);
            nn__fail(st, "model file '%s': %s", path, detail);
        }
    }
    return st;
}

nn_status nnio_check_encoded(const uint8_t *data, size_t size)
{
    nn_load_options o = NN_LOAD_OPTIONS_INIT;
    load_ctx *L = ctx_new(&o, NULL);
    if (!L) return nn__fail(NN_ERR_NO_MEMORY, "nn_model_save: out of memory");
    nnio_src src;
    nnio_src_mem(&src, data, size);
    nnio_visitor v = {limit, visit, L};
    unsigned major, minor;
    nn_status st = nnio_walk(&src, &v, &major, &minor);
    ctx_free(L);
    return st;
}

nn_status nn_model_load_buffer(nn_model **out, const void *data, size_t size, const nn_load_options *opts)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_load: out is NULL");
    *out = NULL;
    if (!data && size) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_load: data is NULL");
    nn_load_options o;
    nn_status st = nnio_load_options(&o, opts);
    if (st != NN_OK) return st;
    nnio_src src;
    nnio_src_mem(&src, data ? data : "", size);
    return nnio_load(out, &src, &o, NULL, NULL, NULL);
}

nn_status nn_model_load(nn_model **out, const char *path, const nn_load_options *opts)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_load: out is NULL");
    *out = NULL;
    if (!path) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_load: path is NULL");
    nn_load_options o;
    nn_status st = nnio_load_options(&o, opts);
    if (st != NN_OK) return st;
    return nnio_load_path(out, path, &o, NULL, NULL, NULL);
}
