/* nn_file_info: what a model file holds. It is read through the loader itself (nnio_load), which
 * checks everything and builds the model before this file keeps a summary, so that a file has
 * info exactly when it loads: `nn-mnist info`, `eval` and the grid's resume check cannot disagree. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

struct nn_file_info {
    unsigned major, minor;
    nnio_arch arch;
    int optimizer; /* kind, or -1 */
    int64_t epoch;
    int has_rng;
    size_t meta_count;
    char **keys, **values;
};

static char *dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static nn_status keep_meta(nn_file_info *info, const nnio_section *s)
{
    nnio_meta *m = malloc(sizeof *m);
    if (!m) return nn__fail(NN_ERR_NO_MEMORY, "model file: out of memory");
    nn_status st = nnio_parse_meta(m, s);
    if (st == NN_OK && m->count) {
        info->keys = calloc(m->count, sizeof *info->keys);
        info->values = calloc(m->count, sizeof *info->values);
        if (!info->keys || !info->values) st = nn__fail(NN_ERR_NO_MEMORY, "model file: out of memory");
        for (size_t i = 0; i < m->count && st == NN_OK; i++) {
            info->keys[i] = dup_bytes(m->e[i].key, m->e[i].key_len);
            info->values[i] = dup_bytes(m->e[i].value, m->e[i].value_len);
            info->meta_count = i + 1; /* so that nn_file_info_free() releases what was copied */
            if (!info->keys[i] || !info->values[i]) st = nn__fail(NN_ERR_NO_MEMORY, "model file: out of memory");
        }
    }
    free(m);
    return st;
}

/* Sees each section after the loader accepted it. */
static nn_status visit(void *ctx, nnio_section *s)
{
    nn_file_info *info = ctx;
    switch (s->tag) {
    case NNIO_TAG_ARCH: return nnio_parse_arch(&info->arch, s);
    case NNIO_TAG_META: return keep_meta(info, s);
    case NNIO_TAG_RNGS: {
        uint64_t state[NN_RNG_STATE_WORDS];
        info->has_rng = 1;
        return nnio_parse_rng(state, s);
    }
    case NNIO_TAG_PROG: return nnio_parse_progress(&info->epoch, s);
    case NNIO_TAG_OPTM: {
        nn_optimizer_kind k;
        nn_status st = nnio_parse_optimizer_kind(&k, s);
        info->optimizer = (int)k;
        return st;
    }
    default: return NN_OK;
    }
}

/* src NULL: from path. */
static nn_status read_info(nn_file_info **out, nnio_src *src, const char *path)
{
    nn_file_info *info = calloc(1, sizeof *info);
    if (!info) return nn__fail(NN_ERR_NO_MEMORY, "model file: out of memory");
    info->optimizer = -1;
    info->epoch = -1;
    nnio_visitor v = {NULL, visit, info};
    nn_load_options o = NN_LOAD_OPTIONS_INIT;
    nn_status st = src ? nnio_load(NULL, src, &o, &v, &info->major, &info->minor)
                       : nnio_load_path(NULL, path, &o, &v, &info->major, &info->minor);
    if (st != NN_OK) {
        nn_file_info_free(info);
        return st;
    }
    *out = info;
    return NN_OK;
}

nn_status nn_file_info_read_buffer(nn_file_info **out, const void *data, size_t size)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_read: out is NULL");
    *out = NULL;
    if (!data && size) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_read: data is NULL");
    nnio_src src;
    nnio_src_mem(&src, data ? data : "", size);
    return read_info(out, &src, NULL);
}

nn_status nn_file_info_read(nn_file_info **out, const char *path)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_read: out is NULL");
    *out = NULL;
    if (!path) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_read: path is NULL");
    return read_info(out, NULL, path);
}

void nn_file_info_free(nn_file_info *info)
{
    if (!info) return;
    for (size_t i = 0; i < info->meta_count; i++) {
        free(info->keys[i]);
        free(info->values[i]);
    }
    free(info->keys);
    free(info->values);
    free(info);
}

void nn_file_info_format_version(const nn_file_info *info, unsigned *major, unsigned *minor)
{
    if (major) *major = info ? info->major : 0;
    if (minor) *minor = info ? info->minor : 0;
}

int nn_file_info_layer_count(const nn_file_info *info) { return info ? info->arch.count : 0; }

nn_status nn_file_info_layer(const nn_file_info *info, int i, nn_layer_info *out)
{
    if (!info || !out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_layer: info or out is NULL");
    if (i < 0 || i >= info->arch.count)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_layer: layer %d of %d", i, info->arch.count);
    if (out->size < offsetof(nn_layer_info, buffer_count))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_layer: info.size is %zu; initialise it with "
                                                 "NN_LAYER_INFO_INIT", out->size);
    nn__layer_describe_info(&info->arch.layer[i], out);
    return NN_OK;
}

int64_t nn_file_info_input_features(const nn_file_info *info)
{
    return info ? nn__shape_numel(&info->arch.input) : 0;
}

int nn_file_info_input_shape(const nn_file_info *info, int64_t shape[NN_MAX_EXAMPLE_RANK])
{
    if (!info || !shape) return 0;
    for (int d = 0; d < NN_MAX_EXAMPLE_RANK; d++) shape[d] = d < info->arch.input.rank ? info->arch.input.dim[d] : 1;
    return info->arch.input.rank;
}

int64_t nn_file_info_param_count(const nn_file_info *info) { return info ? info->arch.params : 0; }

nn_loss_kind nn_file_info_loss(const nn_file_info *info)
{
    return info ? info->arch.loss : NN_LOSS_SOFTMAX_CROSS_ENTROPY;
}

int nn_file_info_optimizer(const nn_file_info *info) { return info ? info->optimizer : -1; }

int64_t nn_file_info_epoch(const nn_file_info *info) { return info ? info->epoch : -1; }

int nn_file_info_has_rng(const nn_file_info *info) { return info ? info->has_rng : 0; }

size_t nn_file_info_meta_count(const nn_file_info *info) { return info ? info->meta_count : 0; }

nn_status nn_file_info_meta(const nn_file_info *info, size_t i, const char **key, const char **value)
{
    if (!info || !key || !value) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_meta: NULL argument");
    if (i >= info->meta_count)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_file_info_meta: entry %zu of %zu", i, info->meta_count);
    *key = info->keys[i];
    *value = info->values[i];
    return NN_OK;
}

const char *nn_file_info_meta_get(const nn_file_info *info, const char *key)
{
    if (!info || !key) return NULL;
    for (size_t i = 0; i < info->meta_count; i++)
        if (strcmp(info->keys[i], key) == 0) return info->values[i];
    return NULL;
}
