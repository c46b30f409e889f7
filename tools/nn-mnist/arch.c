#include "arch.h"

#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#include "config.h"

#define ITEMS_HELP                                                                                          \
    "convFxK[xK2][/S][same], poolN[/S][same], avgpoolN[/S][same], gap, flatten, dropoutR, bn, denseN"

/* A whole number at *p, digits only (no sign, no blank: strtol would accept both), in [lo, hi]. */
static int take_num(const char **p, int64_t lo, int64_t hi, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        if (++digits > 9) return -1;
        v = v * 10 + (*s++ - '0');
    }
    if (!digits || v < lo || v > hi) return -1;
    *out = v;
    *p = s;
    return 0;
}

/* "[/S][same]" after a window; "" or "valid" ends it. */
static int take_stride_padding(const char *p, nnm_arch_item *it, const char *form, char *why, size_t len)
{
    int64_t v;
    if (*p == '/') {
        p++;
        if (take_num(&p, 1, 64, &v) != 0) {
            snprintf(why, len, "expected a stride from 1 to 64 after '/' (%s)", form);
            return -1;
        }
        it->stride = (int)v;
    }
    if (!strcmp(p, "same")) it->same = 1;
    else if (*p && strcmp(p, "valid") != 0) {
        snprintf(why, len, "unexpected '%s' (%s)", p, form);
        return -1;
    }
    return 0;
}

static int parse_conv(const char *p, nnm_arch_item *it, char *why, size_t len)
{
    static const char form[] = "convFxK[xK2][/S][same], e.g. conv32x3";
    int64_t v;
    it->kind = NNM_ITEM_CONV;
    it->stride = 1;
    if (take_num(&p, 1, 4096, &v) != 0) {
        snprintf(why, len, "expected a number of filters from 1 to 4096 after 'conv' (%s)", form);
        return -1;
    }
    it->units = v;
    if (*p != 'x') {
        snprintf(why, len, "expected 'x' and a kernel size after the filters (%s)", form);
        return -1;
    }
    p++;
    if (take_num(&p, 1, 64, &v) != 0) {
        snprintf(why, len, "expected a kernel size from 1 to 64 after 'x' (%s)", form);
        return -1;
    }
    it->kh = it->kw = (int)v;
    if (*p == 'x') {
        p++;
        if (take_num(&p, 1, 64, &v) != 0) {
            snprintf(why, len, "expected a kernel width from 1 to 64 after the second 'x' (%s)", form);
            return -1;
        }
        it->kw = (int)v;
    }
    return take_stride_padding(p, it, form, why, len);
}

static int parse_pool(const char *p, nnm_arch_item *it, nnm_item_kind kind, const char *name, char *why, size_t len)
{
    char form[64];
    snprintf(form, sizeof form, "%sN[/S][same], e.g. %s2", name, name);
    int64_t v;
    it->kind = kind;
    if (take_num(&p, 1, 64, &v) != 0) {
        snprintf(why, len, "expected a window size from 1 to 64 after '%s' (%s)", name, form);
        return -1;
    }
    it->kh = it->kw = it->stride = (int)v;
    return take_stride_padding(p, it, form, why, len);
}

static int parse_item(const char *s, nnm_arch_item *it, char *why, size_t len)
{
    memset(it, 0, sizeof *it);
    int64_t v;
    if (!strncmp(s, "conv", 4)) return parse_conv(s + 4, it, why, len);
    if (!strncmp(s, "maxpool", 7)) return parse_pool(s + 7, it, NNM_ITEM_MAXPOOL, "maxpool", why, len);
    if (!strncmp(s, "avgpool", 7)) return parse_pool(s + 7, it, NNM_ITEM_AVGPOOL, "avgpool", why, len);
    if (!strncmp(s, "pool", 4)) return parse_pool(s + 4, it, NNM_ITEM_MAXPOOL, "pool", why, len);
    if (!strcmp(s, "gap")) {
        it->kind = NNM_ITEM_GAP;
        return 0;
    }
    if (!strcmp(s, "flatten")) {
        it->kind = NNM_ITEM_FLATTEN;
        return 0;
    }
    if (!strcmp(s, "bn") || !strcmp(s, "batchnorm")) {
        it->kind = NNM_ITEM_BATCHNORM;
        return 0;
    }
    if (!strncmp(s, "dense", 5)) {
        const char *p = s + 5;
        it->kind = NNM_ITEM_DENSE;
        if (take_num(&p, 1, 65536, &v) != 0 || *p) {
            snprintf(why, len, "expected a number of units from 1 to 65536 after 'dense' (denseN, e.g. dense128)");
            return -1;
        }
        it->units = v;
        return 0;
    }
    if (!strncmp(s, "dropout", 7)) {
        const char *p = s + 7;
        char *end;
        it->kind = NNM_ITEM_DROPOUT;
        /* Digits or a point first: strtod would also take blanks, signs, "inf" and "nan". */
        double r = (*p >= '0' && *p <= '9') || *p == '.' ? strtod(p, &end) : -1;
        float f = (float)r;
        if (r < 0 || *end || !(f > 0) || !(f < 1) || !(f >= FLT_MIN)) {
            snprintf(why, len, "expected a rate above 0 and below 1 after 'dropout' (dropoutR, e.g. dropout0.5)");
            return -1;
        }
        it->rate = f;
        return 0;
    }
    snprintf(why, len, "unknown layer (accepted: %s; 'mlp' and 'cnn' stand alone)", ITEMS_HELP);
    return -1;
}

/* The canonical spelling of an item: one per meaning, so that equal networks have equal settings. */
static void item_text(const nnm_arch_item *it, char *buf, size_t len)
{
    char rate[32];
    size_t n = 0;
    switch (it->kind) {
    case NNM_ITEM_CONV:
        n = (size_t)snprintf(buf, len, "conv%" PRId64 "x%d", it->units, it->kh);
        if (it->kw != it->kh && n < len) n += (size_t)snprintf(buf + n, len - n, "x%d", it->kw);
        if (it->stride != 1 && n < len) n += (size_t)snprintf(buf + n, len - n, "/%d", it->stride);
        break;
    case NNM_ITEM_MAXPOOL:
    case NNM_ITEM_AVGPOOL:
        n = (size_t)snprintf(buf, len, "%s%d", it->kind == NNM_ITEM_MAXPOOL ? "pool" : "avgpool", it->kh);
        if (it->stride != it->kh && n < len) n += (size_t)snprintf(buf + n, len - n, "/%d", it->stride);
        break;
    case NNM_ITEM_GAP: snprintf(buf, len, "gap"); break;
    case NNM_ITEM_FLATTEN: snprintf(buf, len, "flatten"); break;
    case NNM_ITEM_BATCHNORM: snprintf(buf, len, "bn"); break;
    case NNM_ITEM_DENSE: snprintf(buf, len, "dense%" PRId64, it->units); break;
    case NNM_ITEM_DROPOUT:
        nnm_format_float(rate, sizeof rate, it->rate);
        snprintf(buf, len, "dropout%s", rate);
        break;
    }
    if (it->same && n < len) snprintf(buf + n, len - n, "same");
}

int nnm_arch_parse(nnm_arch *a, const char *spec, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (!strcmp(spec, "mlp")) return 0;
    if (!strcmp(spec, "cnn")) spec = NNM_ARCH_CNN;
    if (!strcmp(spec, "reader")) spec = NNM_ARCH_READER;
    if (!*spec) {
        snprintf(err, errlen, "--arch is empty (mlp, cnn, reader, or a list such as '%s')", NNM_ARCH_CNN);
        return -1;
    }
    const char *p = spec;
    size_t used = 0;
    for (int k = 1;; k++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        /* Blanks around an item are allowed ("conv32x3, pool2"), not inside it. */
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        char item[48], why[256];
        if (len == 0) {
            snprintf(err, errlen, "--arch: item %d is empty (items are separated by single commas)", k);
            return -1;
        }
        if (len >= sizeof item) {
            snprintf(err, errlen, "--arch: '%.20s...' at item %d: too long for an item", p, k);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (a->n >= NNM_MAX_ARCH_ITEMS) {
            snprintf(err, errlen, "--arch: '%s' at item %d: at most %d items", item, k, NNM_MAX_ARCH_ITEMS);
            return -1;
        }
        if (parse_item(item, &a->items[a->n], why, sizeof why) != 0) {
            snprintf(err, errlen, "--arch: '%s' at item %d: %s", item, k, why);
            return -1;
        }
        char canon[64];
        item_text(&a->items[a->n], canon, sizeof canon);
        int w = snprintf(a->text + used, sizeof a->text - used, "%s%s", used ? "," : "", canon);
        if (w < 0 || used + (size_t)w >= sizeof a->text) {
            snprintf(err, errlen, "--arch: longer than %d characters once written out", NNM_MAX_ARCH_TEXT);
            return -1;
        }
        used += (size_t)w;
        a->n++;
        if (!comma) return 0;
        p = comma + 1;
    }
}

/* "(5, 5, 64)" */
static void shape_text(char *buf, size_t len, int rank, const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < rank && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (n < len) snprintf(buf + n, len - n, ")");
}

int nnm_arch_create(nn_model **out, const nnm_arch *a, int64_t rows, int64_t cols, const char *activation,
                    int classes, char *err, size_t errlen)
{
    const int64_t shape[3] = {rows, cols, 1};
    nn_model *m = NULL;
    nn_activation act;
    *out = NULL;
    if (nn_activation_from_name(&act, activation) != NN_OK) {
        snprintf(err, errlen, "--activations: %s", nn_last_error());
        return -1;
    }
    if (nn_model_create_shape(&m, 3, shape) != NN_OK) {
        snprintf(err, errlen, "--arch: %s", nn_last_error());
        return -1;
    }
    const nn_activation linear = nn_activation_make(NN_ACT_LINEAR);
    for (int i = 0; i < a->n; i++) {
        const nnm_arch_item *it = &a->items[i];
        /* Batch norm right after a conv or dense layer takes that layer's activation after it. */
        int bn_next = i + 1 < a->n && a->items[i + 1].kind == NNM_ITEM_BATCHNORM;
        int deferred = i > 0 && (a->items[i - 1].kind == NNM_ITEM_CONV || a->items[i - 1].kind == NNM_ITEM_DENSE);
        nn_status st = NN_OK;
        switch (it->kind) {
        case NNM_ITEM_CONV: {
            nn_conv2d_options o = NN_CONV2D_OPTIONS_INIT;
            o.kernel_h = it->kh;
            o.kernel_w = it->kw;
            o.stride_h = o.stride_w = it->stride;
            o.padding = it->same ? NN_PADDING_SAME : NN_PADDING_VALID;
            st = nn_model_add_conv2d(m, it->units, bn_next ? linear : act, &o);
            break;
        }
        case NNM_ITEM_MAXPOOL:
        case NNM_ITEM_AVGPOOL: {
            nn_pool2d_options o = NN_POOL2D_OPTIONS_INIT;
            o.pool_h = o.pool_w = it->kh;
            o.stride_h = o.stride_w = it->stride;
            o.padding = it->same ? NN_PADDING_SAME : NN_PADDING_VALID;
            st = it->kind == NNM_ITEM_MAXPOOL ? nn_model_add_maxpool2d(m, &o) : nn_model_add_avgpool2d(m, &o);
            break;
        }
        case NNM_ITEM_GAP: st = nn_model_add_global_avgpool2d(m); break;
        case NNM_ITEM_FLATTEN: st = nn_model_add_flatten(m); break;
        case NNM_ITEM_DROPOUT: st = nn_model_add_dropout(m, it->rate); break;
        case NNM_ITEM_BATCHNORM:
            st = nn_model_add_batchnorm(m, NULL);
            if (st == NN_OK && deferred) st = nn_model_add_activation(m, act);
            break;
        case NNM_ITEM_DENSE: st = nn_model_add_dense(m, it->units, bn_next ? linear : act); break;
        }
        if (st != NN_OK) {
            char text[64];
            item_text(it, text, sizeof text);
            snprintf(err, errlen, "--arch: '%s' at item %d: %s", text, i + 1, nn_last_error());
            nn_model_free(m);
            return -1;
        }
    }
    nn_layer_info last = NN_LAYER_INFO_INIT;
    int nl = nn_model_layer_count(m);
    if (nl > 0 && nn_model_layer_info(m, nl - 1, &last) == NN_OK && last.out_rank > 1) {
        char text[64], sh[96];
        item_text(&a->items[a->n - 1], text, sizeof text);
        shape_text(sh, sizeof sh, last.out_rank, last.out_shape);
        snprintf(err, errlen,
                 "--arch: the output layer (dense %d) needs flat inputs, and the last item, '%s' (item %d), gives "
                 "%s: end the list with flatten or gap",
                 classes, text, a->n, sh);
        nn_model_free(m);
        return -1;
    }
    if (nn_model_add_dense(m, classes, linear) != NN_OK) {
        snprintf(err, errlen, "--arch: the output layer (dense %d): %s", classes, nn_last_error());
        nn_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}
