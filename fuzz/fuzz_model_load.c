/* libFuzzer target for the model file reader: nn_model_load_buffer() and nn_file_info_read_buffer()
 * on the input as given, and again after its checksums were recomputed, so that mutations reach the
 * parsers behind the CRCs instead of stopping at them. What loads is used: a forward pass, and a
 * save / load / save round trip that must reproduce the same parameters and the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <nn/nn.h>

#include "crc_fix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile float sink;


static void use_model(nn_model *m, int allow_nonfinite)
{
    sink += forward_once(m);

    /* What loaded must save, load back identically, and save to the same bytes. */
    const char *keys[] = {"created"}, *values[] = {""};
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = nn_model_get_optimizer(m) != NULL;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 1;
    void *a = NULL, *b = NULL;
    size_t na, nb;
    nn_status saved = nn_model_save_buffer(m, &a, &na, &so);
    /* Save refuses whatever a default load refuses: non-finite values loaded with allow_nonfinite. */
    if (saved == NN_ERR_NUMERIC && allow_nonfinite) return;
    if (saved != NN_OK) abort();
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.allow_nonfinite = allow_nonfinite;
    nn_model *m2;
    if (nn_model_load_buffer(&m2, a, na, &lo) != NN_OK) abort();
    float *p1, *p2;
    size_t n1, n2;
    if (nn_model_params(m, &p1, &n1) != NN_OK || nn_model_params(m2, &p2, &n2) != NN_OK || n1 != n2 ||
        memcmp(p1, p2, n1 * sizeof *p1) != 0)
        abort();
    if (nn_model_save_buffer(m2, &b, &nb, &so) != NN_OK || na != nb || memcmp(a, b, na) != 0) abort();
    nn_buffer_free(a);
    nn_buffer_free(b);
    nn_model_free(m2);
}

static void use_info(const nn_file_info *info)
{
    unsigned major, minor;
    nn_file_info_format_version(info, &major, &minor);
    float acc = (float)(major + minor) + (float)nn_file_info_param_count(info) + (float)nn_file_info_epoch(info);
    for (int i = 0; i < nn_file_info_layer_count(info); i++) {
        nn_layer_info li = NN_LAYER_INFO_INIT;
        if (nn_file_info_layer(info, i, &li) != NN_OK) abort();
        acc += (float)li.in_features + li.activation.alpha;
    }
    for (size_t i = 0; i < nn_file_info_meta_count(info); i++) {
        const char *k, *v;
        if (nn_file_info_meta(info, i, &k, &v) != NN_OK) abort();
        if (nn_file_info_meta_get(info, k) == NULL) abort();
        acc += (float)(strlen(k) + strlen(v));
    }
    sink += acc + (float)nn_file_info_optimizer(info) + (float)nn_file_info_has_rng(info);
}

static void run(const uint8_t *data, size_t size)
{
    nn_rng *rng = NULL;
    int64_t epoch;
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.allow_nonfinite = size & 1;
    lo.epoch = &epoch;
    if (nn_rng_create(&rng, 1) == NN_OK) lo.rng = rng;
    nn_model *m;
    if (nn_model_load_buffer(&m, data, size, &lo) == NN_OK) {
        use_model(m, lo.allow_nonfinite);
        nn_model_free(m);
    }
    nn_rng_free(rng);
    nn_file_info *info;
    if (nn_file_info_read_buffer(&info, data, size) == NN_OK) {
        use_info(info);
        nn_file_info_free(info);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    /* An exact-size copy, so that reading past the end is caught, with its checksums made right. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    fix_crcs(copy, size);
    run(copy, size);
    free(copy);
    return 0;
}
