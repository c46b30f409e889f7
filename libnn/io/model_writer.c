/* Encoding a model into the file format, through the public model API only, so the format does not
 * depend on how the model is laid out inside. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic_file.h"
#include "format.h"

static const size_t save_sizes[] = {sizeof(nn_save_options)};
static const nn_save_options save_defaults = NN_SAVE_OPTIONS_INIT;

nn_status nn_save_options_init(nn_save_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &save_defaults, save_sizes, NN_SAVE_OPTIONS_VERSION,
                            "nn_save_options_init");
}

static size_t begin_section(nnio_buf *b, uint32_t tag, uint32_t flags)
{
    size_t at = b->len;
    nnio_put_u32(b, tag);
    nnio_put_u32(b, flags);
    nnio_put_u64(b, 0); /* length and CRC are patched in by end_section */
    nnio_put_u32(b, 0);
    return at;
}

static void end_section(nnio_buf *b, size_t at)
{
    if (b->oom) return;
    size_t len = b->len - at - NNIO_SECTION_HEADER_LEN;
    nnio_store_u64(b->data + at + 8, len);
    nnio_store_u32(b->data + at + 16, nnio_crc32(0, b->data + at + NNIO_SECTION_HEADER_LEN, len));
}

static nn_status check_meta(const nn_save_options *o, int *has_created)
{
    *has_created = 0;
    if (o->meta_count == 0) return NN_OK;
    if (!o->meta_keys || !o->meta_values)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: meta_count is %zu but keys or values are NULL",
                        o->meta_count);
    if (o->meta_count > NN_FORMAT_MAX_META - 2)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: %zu metadata entries (at most %d besides the "
                                                 "library's own)",
                        o->meta_count, NN_FORMAT_MAX_META - 2);
    for (size_t i = 0; i < o->meta_count; i++) {
        const char *k = o->meta_keys[i], *v = o->meta_values[i];
        if (!k || !v) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: metadata entry %zu is NULL", i);
        size_t kl = strlen(k), vl = strlen(v);
        if (!nnio_valid_key((const uint8_t *)k, kl))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: metadata key %zu must be 1 to %d characters of "
                                                     "[A-Za-z0-9_.-]",
                            i, NN_FORMAT_MAX_STRING);
        if (strcmp(k, NNIO_KEY_VERSION) == 0)
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: metadata key '%s' is reserved for the library",
                            k);
        if (vl > NN_FORMAT_MAX_STRING || !nnio_valid_utf8((const uint8_t *)v, vl))
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: metadata value of '%s' must be UTF-8 of at most "
                                                     "%d bytes",
                            k, NN_FORMAT_MAX_STRING);
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->meta_keys[j], k) == 0)
                return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: duplicate metadata key '%s'", k);
        if (strcmp(k, NNIO_KEY_CREATED) == 0) *has_created = 1;
    }
    return NN_OK;
}

static void put_meta(nnio_buf *b, const nn_save_options *o, int has_created)
{
    const char *version = nn_version();
    char created[32] = "";
    if (!has_created) {
        /* The creation time is the only input that differs between two saves of the same model; a
         * caller who wants identical bytes passes its own "created" value (possibly empty). */
        time_t now = time(NULL);
        struct tm tm;
        if (now == (time_t)-1 || !gmtime_r(&now, &tm) || !strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm))
            created[0] = '\0';
    }
    nnio_put_u32(b, (uint32_t)(o->meta_count + 1 + !has_created));
    nnio_put_str(b, NNIO_KEY_VERSION, strlen(NNIO_KEY_VERSION));
    nnio_put_str(b, version, strlen(version));
    if (!has_created) {
        nnio_put_str(b, NNIO_KEY_CREATED, strlen(NNIO_KEY_CREATED));
        nnio_put_str(b, created, strlen(created));
    }
    for (size_t i = 0; i < o->meta_count; i++) {
        nnio_put_str(b, o->meta_keys[i], strlen(o->meta_keys[i]));
        nnio_put_str(b, o->meta_values[i], strlen(o->meta_values[i]));
    }
}

static void put_tensor(nnio_buf *b, const char *name, int rank, const int64_t *shape, const float *data, size_t n)
{
    nnio_put_str(b, name, strlen(name));
    nnio_put_u32(b, NNIO_DTYPE_F32);
    nnio_put_u32(b, (uint32_t)rank);
    for (int i = 0; i < rank; i++) nnio_put_i64(b, shape[i]);
    for (size_t i = 0; i < n; i++) nnio_put_f32(b, data[i]);
}

/* ARCH, format 2: the input shape, the loss, and per layer its kind, activation and own settings. */
static nn_status put_arch(nnio_buf *arch, const nn_model *m, int count)
{
    const nn__shape *in = nn__model_input(m);
    nnio_put_u32(arch, (uint32_t)in->rank);
    for (int d = 0; d < in->rank; d++) nnio_put_i64(arch, in->dim[d]);
    nnio_put_u32(arch, (uint32_t)nn_model_get_loss(m));
    nnio_put_u32(arch, (uint32_t)count);
    for (int i = 0; i < count; i++) {
        const nn__layer *l = nn__model_layer(m, i);
        const char *act = nn_activation_name(l->act.kind);
        if (!act) return nn__fail(NN_ERR_STATE, "nn_model_save: layer %d has an unknown activation", i);
        nnio_put_u32(arch, (uint32_t)l->ops->kind);
        nnio_put_str(arch, act, strlen(act));
        nnio_put_f32(arch, l->act.alpha);
        size_t at = arch->len;
        nnio_put_u32(arch, 0); /* settings length, patched below */
        l->ops->write_settings(l, arch);
        if (!arch->oom) nnio_store_u32(arch->data + at, (uint32_t)(arch->len - at - 4));
    }
    return NN_OK;
}

/* TENS: every tensor of every layer, trained or not, named "<kind>_<i>/<tensor>". */
static nn_status put_tensors(nnio_buf *tens, const nn_model *m, int count)
{
    uint32_t tensors = 0;
    nnio_put_u32(tens, 0); /* tensor count, patched below */
    for (int i = 0; i < count; i++) {
        const nn__layer *l = nn__model_layer(m, i);
        for (int k = 0; k < l->ntensors; k++) {
            char name[NNIO_MAX_NAME + 1];
            snprintf(name, sizeof name, "%s_%d/%s", l->ops->name, i, l->spec[k].name);
            size_t n = 1;
            for (int d = 0; d < l->spec[k].rank; d++) n *= (size_t)l->spec[k].shape[d];
            put_tensor(tens, name, l->spec[k].rank, l->spec[k].shape, l->t[k], n);
            tensors++;
        }
    }
    if (!tens->oom) nnio_store_u32(tens->data, tensors);
    return NN_OK;
}

/* The reader refused what the writer made: the model exceeds what the format holds. */
static nn_status refused_by_reader(nn_status st)
{
    if (st == NN_ERR_NO_MEMORY) return st;
    char detail[512];
    const char *msg = nn_last_error();
    if (strncmp(msg, "model file: ", 12) == 0) msg += 12;
    snprintf(detail, sizeof detail, "%s", msg);
    /* NN_ERR_FORMAT speaks of a damaged file; here a valid model exceeds the format. */
    return nn__fail(st == NN_ERR_FORMAT ? NN_ERR_UNSUPPORTED : st, "nn_model_save: %s", detail);
}

static nn_status put_optimizer(nnio_buf *b, nn_model *m, size_t params)
{
    nn_optimizer *opt = nn_model_get_optimizer(m);
    if (!opt) return nn__fail(NN_ERR_STATE, "nn_model_save: with_optimizer is set but the model has no optimizer");
    int nh = nn_optimizer_hparam_count(opt), ns = nn_optimizer_state_count(opt);
    if (nh < 0 || nh > NNIO_MAX_HPARAMS || ns < 0 || ns > NNIO_MAX_STATES)
        return nn__fail(NN_ERR_STATE, "nn_model_save: optimizer has %d hyperparameters and %d state arrays", nh, ns);
    nnio_put_u32(b, (uint32_t)nn_optimizer_get_kind(opt));
    nnio_put_u64(b, nn_optimizer_get_iterations(opt));
    nnio_put_u32(b, (uint32_t)nh);
    for (int i = 0; i < nh; i++) {
        const char *name;
        float v;
        nn_status st = nn_optimizer_hparam(opt, i, &name, &v);
        if (st != NN_OK) return st;
        if (!nnio_valid_name((const uint8_t *)name, strlen(name)))
            return nn__fail(NN_ERR_STATE, "nn_model_save: optimizer hyperparameter %d has an invalid name", i);
        nnio_put_str(b, name, strlen(name));
        nnio_put_f32(b, v);
    }
    nnio_put_u32(b, (uint32_t)ns);
    for (int i = 0; i < ns; i++) {
        const char *name;
        float *data;
        size_t n;
        nn_status st = nn_optimizer_state(opt, i, &name, &data, &n);
        if (st != NN_OK) return st;
        if (n != params || !nnio_valid_name((const uint8_t *)name, strlen(name)))
            return nn__fail(NN_ERR_STATE, "nn_model_save: optimizer state %d holds %zu values for %zu parameters",
                            i, n, params);
        nnio_put_str(b, name, strlen(name));
        nnio_put_u64(b, n);
        for (size_t j = 0; j < n; j++) nnio_put_f32(b, data[j]);
    }
    return NN_OK;
}

static nn_status encode(nnio_buf *b, const nn_model *m, const nn_save_options *o)
{
    int has_created;
    nn_status st = check_meta(o, &has_created);
    if (st != NN_OK) return st;
    /* The getters that lend the parameter buffer and the optimizer are non-const because callers may
     * write through what they lend; saving only reads, so casting const away here is sound. */
    nn_model *mm = (nn_model *)m;
    float *params;
    size_t n;
    if (nn_model_params(mm, &params, &n) != NN_OK)
        return nn__fail(NN_ERR_STATE, "nn_model_save: the model is not compiled: an uncompiled model has no "
                        "parameters to save (nn_model_compile)");
    int count = nn_model_layer_count(m);
    if (count < 1 || count > NN_MODEL_MAX_LAYERS)
        return nn__fail(NN_ERR_STATE, "nn_model_save: the model has %d layers", count);

    nnio_buf arch = {0}, tens = {0};
    st = put_arch(&arch, m, count);
    if (st == NN_OK && arch.oom) st = nn__fail(NN_ERR_NO_MEMORY, "nn_model_save: out of memory encoding the model");
    if (st == NN_OK) {
        /* The reader's own check of the architecture, before the weights are copied: a model past
         * the format's limits is refused without encoding its (possibly huge) tensors. */
        nnio_section s = {NNIO_TAG_ARCH, NNIO_FLAG_REQUIRED, NNIO_ARCH_OFFSET, arch.len, arch.data, NULL,
                          NN_FORMAT_VERSION_MAJOR, NN_FORMAT_VERSION_MINOR};
        nnio_arch *parsed = malloc(sizeof *parsed);
        if (!parsed) st = nn__fail(NN_ERR_NO_MEMORY, "nn_model_save: out of memory");
        else if ((st = nnio_parse_arch(parsed, &s)) != NN_OK) st = refused_by_reader(st);
        free(parsed);
    }
    if (st == NN_OK) st = put_tensors(&tens, m, count);
    if (st != NN_OK) {
        nnio_buf_free(&arch);
        nnio_buf_free(&tens);
        return st;
    }

    static const uint8_t header[NNIO_HEADER_LEN] = {
        0x89, 'N', 'N', 'M', '\r', '\n', 0x1a, '\n', NN_FORMAT_VERSION_MAJOR, 0, NN_FORMAT_VERSION_MINOR, 0, 0, 0, 0, 0,
    };
    nnio_put_bytes(b, header, sizeof header);
    size_t at = begin_section(b, NNIO_TAG_ARCH, NNIO_FLAG_REQUIRED);
    nnio_put_bytes(b, arch.data, arch.len);
    end_section(b, at);
    at = begin_section(b, NNIO_TAG_META, 0);
    put_meta(b, o, has_created);
    end_section(b, at);
    at = begin_section(b, NNIO_TAG_TENS, NNIO_FLAG_REQUIRED);
    nnio_put_bytes(b, tens.data, tens.len);
    end_section(b, at);
    if (arch.oom || tens.oom) b->oom = 1;
    nnio_buf_free(&arch);
    nnio_buf_free(&tens);
    if (st != NN_OK) return st;

    if (o->with_optimizer) {
        at = begin_section(b, NNIO_TAG_OPTM, 0);
        if ((st = put_optimizer(b, mm, n)) != NN_OK) return st;
        end_section(b, at);
        /* The training generator goes with the optimizer state: resuming then draws the dropout
         * masks an uninterrupted run would. */
        uint64_t s[NN_RNG_STATE_WORDS];
        nn_rng_get_state(nn_model_rng(mm), s);
        at = begin_section(b, NNIO_TAG_TRNG, 0);
        for (int i = 0; i < NN_RNG_STATE_WORDS; i++) nnio_put_u64(b, s[i]);
        end_section(b, at);
    }
    if (o->rng) {
        uint64_t s[NN_RNG_STATE_WORDS];
        nn_rng_get_state(o->rng, s);
        at = begin_section(b, NNIO_TAG_RNGS, 0);
        for (int i = 0; i < NN_RNG_STATE_WORDS; i++) nnio_put_u64(b, s[i]);
        end_section(b, at);
    }
    if (o->epoch >= 0) {
        at = begin_section(b, NNIO_TAG_PROG, 0);
        nnio_put_i64(b, o->epoch);
        end_section(b, at);
    }
    at = begin_section(b, NNIO_TAG_END, NNIO_FLAG_REQUIRED);
    nnio_put_u32(b, b->oom ? 0 : nnio_crc32(0, b->data, at));
    end_section(b, at);
    if (b->oom) return nn__fail(NN_ERR_NO_MEMORY, "nn_model_save: out of memory encoding the model");
    /* Whatever nn_model_load would refuse, refused here, by the same code. */
    if ((st = nnio_check_encoded(b->data, b->len)) != NN_OK) return refused_by_reader(st);
    return NN_OK;
}

static nn_status encode_checked(nnio_buf *b, const nn_model *m, const nn_save_options *opts)
{
    if (!m) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: model is NULL");
    nn_save_options o;
    nn_status st = nn__options_take(&o, &save_defaults, opts, save_sizes, NN_SAVE_OPTIONS_VERSION, "nn_model_save");
    if (st != NN_OK) return st;
    st = encode(b, m, &o);
    if (st != NN_OK) nnio_buf_free(b);
    return st;
}

nn_status nn_model_save_buffer(const nn_model *m, void **out, size_t *size, const nn_save_options *opts)
{
    if (!out || !size) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save_buffer: out or size is NULL");
    *out = NULL;
    *size = 0;
    nnio_buf b = {0};
    nn_status st = encode_checked(&b, m, opts);
    if (st != NN_OK) return st;
    *out = b.data;
    *size = b.len;
    return NN_OK;
}

void nn_buffer_free(void *buf) { free(buf); }

nn_status nn_model_save(const nn_model *m, const char *path, const nn_save_options *opts)
{
    if (!path || !*path) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_save: path is NULL or empty");
    nnio_buf b = {0};
    nn_status st = encode_checked(&b, m, opts);
    if (st != NN_OK) return st;
    st = nnio_write_atomic(path, b.data, b.len);
    nnio_buf_free(&b);
    return st;
}
