/* Payloads of the small sections (architecture, metadata, generator state, progress) and the field
 * rules shared by the writer and the reader. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

nn_status nnio_truncated(const nnio_cur *c, const char *what)
{
    return nn__fail(NN_ERR_FORMAT, "model file: truncated %s at byte %llu", what,
                    (unsigned long long)nnio_cur_offset(c));
}

static nn_status trailing(const nnio_cur *c, const char *section)
{
    return nn__fail(NN_ERR_FORMAT, "model file: %zu unexpected bytes at the end of section %s (byte %llu)",
                    nnio_cur_left(c), section, (unsigned long long)nnio_cur_offset(c));
}

static int key_char(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '.' || ch == '-';
}

int nnio_valid_key(const uint8_t *s, size_t n)
{
    if (n == 0 || n > NN_FORMAT_MAX_STRING) return 0;
    for (size_t i = 0; i < n; i++)
        if (!key_char(s[i])) return 0;
    return 1;
}

/* Names may also hold '/' ("dense_0/kernel"); keys may not. */
int nnio_valid_name(const uint8_t *s, size_t n)
{
    if (n == 0 || n > NNIO_MAX_NAME) return 0;
    for (size_t i = 0; i < n; i++)
        if (!key_char(s[i]) && s[i] != '/') return 0;
    return 1;
}

/* Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF; and no NUL,
 * so that values can be handed out as C strings. */
int nnio_valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1fu, min = 0x80;
        else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0fu, min = 0x800;
        else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07u, min = 0x10000;
        else return 0;
        if ((size_t)len > n - i) return 0;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += (size_t)len;
    }
    return 1;
}

nn_status nnio_get_name(nnio_cur *c, char buf[NNIO_MAX_NAME + 1], const char *what)
{
    uint64_t at = nnio_cur_offset(c);
    uint32_t n;
    const uint8_t *p;
    if (!nnio_get_u32(c, &n)) return nnio_truncated(c, what);
    if (n == 0 || n > NNIO_MAX_NAME)
        return nn__fail(NN_ERR_FORMAT, "model file: %s at byte %llu has length %u (1 to %d allowed)", what,
                        (unsigned long long)at, n, NNIO_MAX_NAME);
    if (!nnio_get_bytes(c, n, &p)) return nnio_truncated(c, what);
    if (!nnio_valid_name(p, n))
        return nn__fail(NN_ERR_FORMAT, "model file: %s at byte %llu has characters outside [A-Za-z0-9_./-]", what,
                        (unsigned long long)at);
    memcpy(buf, p, n);
    buf[n] = '\0';
    return NN_OK;
}

/* The activation of a layer record: a name and a parameter. */
static nn_status get_activation(nnio_cur *c, nn_activation *act, int i, uint64_t at)
{
    char name[NNIO_MAX_NAME + 1];
    float alpha;
    nn_status st = nnio_get_name(c, name, "activation name");
    if (st != NN_OK) return st;
    if (!nnio_get_f32(c, &alpha)) return nnio_truncated(c, "layer");
    int k;
    for (k = 0; k < NN_ACT_COUNT; k++) {
        const char *n = nn_activation_name((nn_activation_kind)k);
        if (n && strcmp(n, name) == 0) break;
    }
    if (k == NN_ACT_COUNT)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has unknown activation '%s'", i,
                        (unsigned long long)at, name);
    if (!isfinite(alpha))
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has a non-finite activation parameter", i,
                        (unsigned long long)at);
    act->kind = (nn_activation_kind)k;
    act->alpha = alpha;
    return NN_OK;
}

/* A layer whose settings are read: infer its shapes and tensors as the model would, then hold it to
 * the format's limits. The kind's own checks speak for the settings. */
static nn_status setup_layer(nnio_arch *a, nn__layer *l, int i, uint64_t at)
{
    const nn__shape *in = i == 0 ? &a->input : &a->layer[i - 1].out;
    char who[64];
    snprintf(who, sizeof who, "model file: layer %d at byte %llu", i, (unsigned long long)at);
    l->index = i;
    nn_status st = nn__layer_setup(l, in, who);
    if (st != NN_OK) {
        if (st == NN_ERR_NO_MEMORY) return st;
        char detail[512]; /* nn__fail writes the buffer nn_last_error() reads */
        snprintf(detail, sizeof detail, "%s", nn_last_error());
        return nn__fail(NN_ERR_FORMAT, "%s", detail);
    }
    int64_t out = nn__shape_numel(&l->out);
    if (out < 1 || out > NNIO_MAX_FEATURES)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has %lld outputs (1 to %lld allowed)", i,
                        (unsigned long long)at, (long long)out, (long long)NNIO_MAX_FEATURES);
    for (int k = 0; k < l->ntensors; k++) {
        int64_t n = 1;
        for (int d = 0; d < l->spec[k].rank; d++) {
            /* extents <= 2^24 and n <= 2^30 before each product: no overflow */
            if (l->spec[k].shape[d] > NNIO_MAX_FEATURES) n = NNIO_MAX_PARAMS + 1;
            else n *= l->spec[k].shape[d];
            if (n > NNIO_MAX_PARAMS) break;
        }
        int64_t *total = l->spec[k].trainable ? &a->params : &a->buffers;
        *total += n;
        if (n > NNIO_MAX_PARAMS || *total > NNIO_MAX_PARAMS)
            return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu (%lld -> %lld) exceeds %lld parameters",
                            i, (unsigned long long)at, (long long)nn__shape_numel(in), (long long)out,
                            (long long)NNIO_MAX_PARAMS);
    }
    return NN_OK;
}

/* Format 1 knew dense and activation layers only, as (kind, in, out, activation, alpha). */
static nn_status parse_layer_v1(nnio_arch *a, nnio_cur *c, int i)
{
    uint64_t at = nnio_cur_offset(c);
    uint32_t kind;
    int64_t in, out;
    if (!nnio_get_u32(c, &kind) || !nnio_get_i64(c, &in) || !nnio_get_i64(c, &out)) return nnio_truncated(c, "layer");
    nn_activation act;
    nn_status st = get_activation(c, &act, i, at);
    if (st != NN_OK) return st;
    if (kind != NN_LAYER_DENSE && kind != NN_LAYER_ACTIVATION) {
        const char *name = nn_layer_kind_name((nn_layer_kind)kind);
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has kind %u (%s), which format 1 does not "
                                       "have",
                        i, (unsigned long long)at, kind, name ? name : "unknown");
    }
    int64_t given = nn__shape_numel(i == 0 ? &a->input : &a->layer[i - 1].out);
    if (in != given)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu takes %lld inputs, but %s gives %lld", i,
                        (unsigned long long)at, (long long)in, i == 0 ? "the model" : "the layer before",
                        (long long)given);
    if (out < 1 || out > NNIO_MAX_FEATURES)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has %lld outputs (1 to %lld allowed)", i,
                        (unsigned long long)at, (long long)out, (long long)NNIO_MAX_FEATURES);
    if (kind == NN_LAYER_ACTIVATION && out != in)
        return nn__fail(NN_ERR_FORMAT, "model file: activation layer %d at byte %llu maps %lld to %lld features", i,
                        (unsigned long long)at, (long long)in, (long long)out);
    nn__layer *l = &a->layer[i];
    nn__layer_blank(l, nn__layer_ops_for((nn_layer_kind)kind));
    l->act = act;
    /* Format 1 did not record initialisers; they only matter before training, and these were the
     * only ones nn_model_add_dense used. */
    if (kind == NN_LAYER_DENSE) nn__dense_configure(l, out, NN_INIT_GLOROT_UNIFORM, NN_INIT_ZEROS);
    return setup_layer(a, l, i, at);
}

/* Format 2: (kind, activation, alpha, settings length, the kind's own settings). */
static nn_status parse_layer_v2(nnio_arch *a, nnio_cur *c, int i, unsigned minor)
{
    uint64_t at = nnio_cur_offset(c);
    uint32_t kind, len;
    if (!nnio_get_u32(c, &kind)) return nnio_truncated(c, "layer");
    nn_activation act;
    nn_status st = get_activation(c, &act, i, at);
    if (st != NN_OK) return st;
    const nn__layer_ops *ops = nn__layer_ops_for((nn_layer_kind)kind);
    /* A kind added by a later minor of the format is a newer file, not a damaged one. */
    if (!ops && minor > NN_FORMAT_VERSION_MINOR)
        return nn__fail(NN_ERR_VERSION, "model file: layer %d at byte %llu has kind %u, from format %d.%u; this "
                                        "library reads %d.%d: upgrade libnn",
                        i, (unsigned long long)at, kind, NN_FORMAT_VERSION_MAJOR, minor, NN_FORMAT_VERSION_MAJOR,
                        NN_FORMAT_VERSION_MINOR);
    if (!ops)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has kind %u, which this version does not "
                                       "know",
                        i, (unsigned long long)at, kind);
    const uint8_t *settings;
    if (!nnio_get_u32(c, &len)) return nnio_truncated(c, "layer settings length");
    if (len > NNIO_MAX_SETTINGS)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has %u bytes of settings (at most %d)", i,
                        (unsigned long long)at, len, NNIO_MAX_SETTINGS);
    uint64_t settings_at = nnio_cur_offset(c);
    if (!nnio_get_bytes(c, len, &settings)) return nnio_truncated(c, "layer settings");
    nn__layer *l = &a->layer[i];
    nn__layer_blank(l, ops);
    l->act = act;
    nnio_cur sc;
    nnio_cur_init(&sc, settings, len, settings_at);
    char who[64];
    snprintf(who, sizeof who, "model file: layer %d at byte %llu", i, (unsigned long long)at);
    if ((st = ops->read_settings(l, &sc, who)) != NN_OK) return st;
    if (nnio_cur_left(&sc))
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu: %zu unexpected bytes at the end of its %s "
                                       "settings",
                        i, (unsigned long long)at, nnio_cur_left(&sc), ops->name);
    return setup_layer(a, l, i, at);
}

nn_status nnio_parse_arch(nnio_arch *a, const nnio_section *s)
{
    nnio_cur c;
    nnio_cur_init(&c, s->payload, (size_t)s->length, s->offset);
    uint32_t loss, count;
    memset(a, 0, sizeof *a);
    if (s->major == 1) {
        int64_t input;
        if (!nnio_get_i64(&c, &input)) return nnio_truncated(&c, "architecture");
        a->input.rank = 1;
        a->input.dim[0] = input;
        a->input.dim[1] = a->input.dim[2] = 1;
    } else {
        uint32_t rank;
        if (!nnio_get_u32(&c, &rank)) return nnio_truncated(&c, "architecture");
        if (rank < 1 || rank > NN__MAX_RANK)
            return nn__fail(NN_ERR_FORMAT, "model file: input rank %u at byte %llu (1 to %d allowed)", rank,
                            (unsigned long long)s->offset, NN__MAX_RANK);
        a->input.rank = (int)rank;
        a->input.dim[0] = a->input.dim[1] = a->input.dim[2] = 1;
        for (uint32_t d = 0; d < rank; d++)
            if (!nnio_get_i64(&c, &a->input.dim[d])) return nnio_truncated(&c, "input shape");
    }
    int64_t features = nn__shape_numel(&a->input);
    if (features < 1 || features > NNIO_MAX_FEATURES)
        return nn__fail(NN_ERR_FORMAT, "model file: architecture at byte %llu has %lld input features (1 to %lld "
                                       "allowed)",
                        (unsigned long long)s->offset, (long long)features, (long long)NNIO_MAX_FEATURES);
    uint64_t loss_at = nnio_cur_offset(&c);
    if (!nnio_get_u32(&c, &loss) || !nnio_get_u32(&c, &count)) return nnio_truncated(&c, "architecture");
    if (loss != NN_LOSS_SOFTMAX_CROSS_ENTROPY && loss != NN_LOSS_MSE)
        return nn__fail(NN_ERR_FORMAT, "model file: unknown loss code %u at byte %llu", loss,
                        (unsigned long long)loss_at);
    a->loss = (nn_loss_kind)loss;
    if (count < 1 || count > NN_MODEL_MAX_LAYERS)
        return nn__fail(NN_ERR_FORMAT, "model file: %u layers at byte %llu (1 to %d allowed)", count,
                        (unsigned long long)(loss_at + 4), NN_MODEL_MAX_LAYERS);
    for (uint32_t i = 0; i < count; i++) {
        nn_status st = s->major == 1 ? parse_layer_v1(a, &c, (int)i) : parse_layer_v2(a, &c, (int)i, s->minor);
        if (st != NN_OK) return st;
        a->count = (int)i + 1;
    }
    if (nnio_cur_left(&c)) return trailing(&c, "ARCH");
    return NN_OK;
}

nn_status nnio_parse_meta(nnio_meta *m, const nnio_section *s)
{
    nnio_cur c;
    nnio_cur_init(&c, s->payload, (size_t)s->length, s->offset);
    uint32_t count;
    m->count = 0;
    if (!nnio_get_u32(&c, &count)) return nnio_truncated(&c, "metadata");
    if (count > NN_FORMAT_MAX_META)
        return nn__fail(NN_ERR_FORMAT, "model file: %u metadata entries at byte %llu (at most %d)", count,
                        (unsigned long long)s->offset, NN_FORMAT_MAX_META);
    for (uint32_t i = 0; i < count; i++) {
        nnio_meta_entry *e = &m->e[i];
        uint64_t at = nnio_cur_offset(&c);
        if (!nnio_get_u32(&c, &e->key_len)) return nnio_truncated(&c, "metadata key");
        if (e->key_len == 0 || e->key_len > NN_FORMAT_MAX_STRING)
            return nn__fail(NN_ERR_FORMAT, "model file: metadata key at byte %llu has length %u (1 to %d allowed)",
                            (unsigned long long)at, e->key_len, NN_FORMAT_MAX_STRING);
        if (!nnio_get_bytes(&c, e->key_len, &e->key)) return nnio_truncated(&c, "metadata key");
        if (!nnio_valid_key(e->key, e->key_len))
            return nn__fail(NN_ERR_FORMAT, "model file: metadata key at byte %llu has characters outside "
                                           "[A-Za-z0-9_.-]",
                            (unsigned long long)at);
        for (uint32_t j = 0; j < i; j++)
            if (m->e[j].key_len == e->key_len && memcmp(m->e[j].key, e->key, e->key_len) == 0)
                return nn__fail(NN_ERR_FORMAT, "model file: duplicate metadata key '%.*s' at byte %llu",
                                (int)(e->key_len > 64 ? 64 : e->key_len), (const char *)e->key,
                                (unsigned long long)at);
        at = nnio_cur_offset(&c);
        if (!nnio_get_u32(&c, &e->value_len)) return nnio_truncated(&c, "metadata value");
        if (e->value_len > NN_FORMAT_MAX_STRING)
            return nn__fail(NN_ERR_FORMAT, "model file: metadata value at byte %llu has length %u (at most %d)",
                            (unsigned long long)at, e->value_len, NN_FORMAT_MAX_STRING);
        if (!nnio_get_bytes(&c, e->value_len, &e->value)) return nnio_truncated(&c, "metadata value");
        if (!nnio_valid_utf8(e->value, e->value_len))
            return nn__fail(NN_ERR_FORMAT, "model file: metadata value at byte %llu is not valid UTF-8 without NUL",
                            (unsigned long long)at);
        m->count = i + 1;
    }
    if (nnio_cur_left(&c)) return trailing(&c, "META");
    return NN_OK;
}

nn_status nnio_parse_rng(uint64_t state[NN_RNG_STATE_WORDS], const nnio_section *s)
{
    nnio_cur c;
    nnio_cur_init(&c, s->payload, (size_t)s->length, s->offset);
    uint64_t any = 0;
    for (int i = 0; i < NN_RNG_STATE_WORDS; i++) {
        if (!nnio_get_u64(&c, &state[i])) return nnio_truncated(&c, "generator state");
        any |= state[i];
    }
    if (!any)
        return nn__fail(NN_ERR_FORMAT, "model file: generator state at byte %llu is all zero",
                        (unsigned long long)s->offset);
    if (nnio_cur_left(&c)) return trailing(&c, "RNGS");
    return NN_OK;
}

nn_status nnio_parse_progress(int64_t *epoch, const nnio_section *s)
{
    nnio_cur c;
    nnio_cur_init(&c, s->payload, (size_t)s->length, s->offset);
    if (!nnio_get_i64(&c, epoch)) return nnio_truncated(&c, "progress");
    if (*epoch < 0)
        return nn__fail(NN_ERR_FORMAT, "model file: negative epoch %lld at byte %llu", (long long)*epoch,
                        (unsigned long long)s->offset);
    if (nnio_cur_left(&c)) return trailing(&c, "PROG");
    return NN_OK;
}

nn_status nnio_parse_optimizer_kind(nn_optimizer_kind *out, const nnio_section *s)
{
    nnio_cur c;
    nnio_cur_init(&c, s->payload, (size_t)s->length, s->offset);
    uint32_t kind;
    if (!nnio_get_u32(&c, &kind)) return nnio_truncated(&c, "optimizer");
    if (kind > NN_OPT_ADAGRAD || !nn_optimizer_kind_name((nn_optimizer_kind)kind))
        return nn__fail(NN_ERR_FORMAT, "model file: unknown optimizer kind %u at byte %llu", kind,
                        (unsigned long long)s->offset);
    *out = (nn_optimizer_kind)kind;
    return NN_OK;
}
