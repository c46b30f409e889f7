/* Payloads of the small sections (architecture, metadata, generator state, progress) and the field
 * rules shared by the writer and the reader. */
#include <math.h>
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

int64_t nnio_layer_params(nn_layer_kind kind, int64_t in, int64_t out)
{
    if (kind != NN_LAYER_DENSE) return 0;
    /* in, out <= 2^24, so in * out + out cannot overflow int64; the limit is the real check. */
    if (in < 1 || out < 1 || in > NNIO_MAX_FEATURES || out > NNIO_MAX_FEATURES) return -1;
    int64_t p = in * out + out;
    return p > NNIO_MAX_PARAMS ? -1 : p;
}

static nn_status parse_layer(nnio_layer *l, nnio_cur *c, int i, int64_t in)
{
    uint64_t at = nnio_cur_offset(c);
    uint32_t kind;
    char act[NNIO_MAX_NAME + 1];
    float alpha;
    if (!nnio_get_u32(c, &kind) || !nnio_get_i64(c, &l->in) || !nnio_get_i64(c, &l->out))
        return nnio_truncated(c, "layer");
    nn_status st = nnio_get_name(c, act, "activation name");
    if (st != NN_OK) return st;
    if (!nnio_get_f32(c, &alpha)) return nnio_truncated(c, "layer");
    if (kind != NN_LAYER_DENSE && kind != NN_LAYER_ACTIVATION) {
        const char *name = kind <= NN_LAYER_FLATTEN ? nn_layer_kind_name((nn_layer_kind)kind) : NULL;
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has kind %u (%s), which this version does "
                                       "not support",
                        i, (unsigned long long)at, kind, name ? name : "unknown");
    }
    l->kind = (nn_layer_kind)kind;
    if (l->in != in)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu takes %lld inputs, but %s gives %lld", i,
                        (unsigned long long)at, (long long)l->in, i == 0 ? "the model" : "the layer before",
                        (long long)in);
    if (l->out < 1 || l->out > NNIO_MAX_FEATURES)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has %lld outputs (1 to %lld allowed)", i,
                        (unsigned long long)at, (long long)l->out, (long long)NNIO_MAX_FEATURES);
    if (l->kind == NN_LAYER_ACTIVATION && l->out != l->in)
        return nn__fail(NN_ERR_FORMAT, "model file: activation layer %d at byte %llu maps %lld to %lld features", i,
                        (unsigned long long)at, (long long)l->in, (long long)l->out);
    int k;
    for (k = 0; k < NN_ACT_COUNT; k++) {
        const char *n = nn_activation_name((nn_activation_kind)k);
        if (n && strcmp(n, act) == 0) break;
    }
    if (k == NN_ACT_COUNT)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has unknown activation '%s'", i,
                        (unsigned long long)at, act);
    if (!isfinite(alpha))
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu has a non-finite activation parameter", i,
                        (unsigned long long)at);
    l->act.kind = (nn_activation_kind)k;
    l->act.alpha = alpha;
    l->params = nnio_layer_params(l->kind, l->in, l->out);
    if (l->params < 0)
        return nn__fail(NN_ERR_FORMAT, "model file: layer %d at byte %llu (%lld -> %lld) exceeds %lld parameters", i,
                        (unsigned long long)at, (long long)l->in, (long long)l->out, (long long)NNIO_MAX_PARAMS);
    return NN_OK;
}

nn_status nnio_parse_arch(nnio_arch *a, const nnio_section *s)
{
    nnio_cur c;
    nnio_cur_init(&c, s->payload, (size_t)s->length, s->offset);
    uint32_t loss, count;
    memset(a, 0, sizeof *a);
    if (!nnio_get_i64(&c, &a->input) || !nnio_get_u32(&c, &loss) || !nnio_get_u32(&c, &count))
        return nnio_truncated(&c, "architecture");
    if (a->input < 1 || a->input > NNIO_MAX_FEATURES)
        return nn__fail(NN_ERR_FORMAT, "model file: architecture at byte %llu has %lld input features (1 to %lld "
                                       "allowed)",
                        (unsigned long long)s->offset, (long long)a->input, (long long)NNIO_MAX_FEATURES);
    if (loss != NN_LOSS_SOFTMAX_CROSS_ENTROPY && loss != NN_LOSS_MSE)
        return nn__fail(NN_ERR_FORMAT, "model file: unknown loss code %u at byte %llu",
                        loss, (unsigned long long)(s->offset + 8));
    a->loss = (nn_loss_kind)loss;
    if (count < 1 || count > NN_MODEL_MAX_LAYERS)
        return nn__fail(NN_ERR_FORMAT, "model file: %u layers at byte %llu (1 to %d allowed)", count,
                        (unsigned long long)(s->offset + 12), NN_MODEL_MAX_LAYERS);
    int64_t in = a->input;
    for (uint32_t i = 0; i < count; i++) {
        nn_status st = parse_layer(&a->layer[i], &c, (int)i, in);
        if (st != NN_OK) return st;
        in = a->layer[i].out;
        a->params += a->layer[i].params;
        if (a->params > NNIO_MAX_PARAMS)
            return nn__fail(NN_ERR_FORMAT, "model file: the model exceeds %lld parameters at layer %u",
                            (long long)NNIO_MAX_PARAMS, i);
    }
    a->count = (int)count;
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
