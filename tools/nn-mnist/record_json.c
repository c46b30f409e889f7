/*
 * The JSON form of a run record (record.h), written and read with json-c. One object:
 *
 *   format "nn-mnist-record", version 2, run, optimizer, activation, settings, model, lr, seed,
 *   epochs, batch_size, params, blas_threads, dropout, batchnorm, arch, augment, lr_schedule,
 *   validation, split_seed, patience, best_epoch,
 *   metrics {train_accuracy, test_accuracy, train_loss, test_loss, val_accuracy, val_loss},
 *   seconds, diverged {epoch, step} or null, confusion {classes, counts [[...], ...]},
 *   history {train_loss [], train_accuracy [], heldout "validation" or "test", heldout_loss [],
 *   heldout_accuracy []}, test_correct {n, hex} or null
 *
 * NaN (a diverged run's metrics, the validation ones without a split, an older record's held-out
 * loss) is null. Every key is required; keys this version does not know are ignored, so that a
 * later one may add some.
 */
#define _POSIX_C_SOURCE 200809L
#include "augment_kind.h"
#include "record.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

/* ---- Writing ---- */

/* Building fails as a whole: each helper does nothing once an allocation has failed. */
typedef struct builder {
    int failed;
} builder;

static json_object *new_object(builder *b)
{
    json_object *o = b->failed ? NULL : json_object_new_object();
    if (!o) b->failed = 1;
    return o;
}

static json_object *new_array(builder *b)
{
    json_object *o = b->failed ? NULL : json_object_new_array();
    if (!o) b->failed = 1;
    return o;
}

/* A double with 17 significant digits, which read back bit for bit (json-c's own format is shorter
 * in some versions); always with a '.' or an exponent, so that it reads back as a double (-0.0
 * stays negative). Finite values only. */
static void format_double(char text[40], double v)
{
    snprintf(text, 40, "%.17g", v);
    if (!strpbrk(text, ".e")) strcat(text, ".0");
}

/* NULL, which json-c writes as null, for NaN or an infinity. */
static json_object *new_double(builder *b, double v)
{
    if (!isfinite(v) || b->failed) return NULL;
    char text[40];
    format_double(text, v);
    json_object *o = json_object_new_double_s(v, text);
    if (!o) b->failed = 1;
    return o;
}

/* An array of numbers (or nulls) on one line, even in the pretty form: a confusion matrix reads as
 * one row a line, a curve as one line. */
static int inline_array(json_object *a, struct printbuf *pb, int level, int flags)
{
    (void)level;
    (void)flags;
    if (printbuf_memappend(pb, "[", 1) < 0) return -1;
    size_t n = json_object_array_length(a);
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(a, i);
        char text[40] = "null";
        if (json_object_is_type(v, json_type_double)) format_double(text, json_object_get_double(v));
        else if (v) snprintf(text, sizeof text, "%" PRId64, json_object_get_int64(v));
        if ((i && printbuf_memappend(pb, ", ", 2) < 0) || printbuf_memappend(pb, text, (int)strlen(text)) < 0)
            return -1;
    }
    return printbuf_memappend(pb, "]", 1) < 0 ? -1 : 0;
}

static json_object *new_inline_array(builder *b)
{
    json_object *o = b->failed ? NULL : json_object_new_array();
    if (!o) b->failed = 1;
    else json_object_set_serializer(o, inline_array, NULL, NULL);
    return o;
}

static json_object *new_int64(builder *b, int64_t v)
{
    json_object *o = b->failed ? NULL : json_object_new_int64(v);
    if (!o) b->failed = 1;
    return o;
}

/* json-c's uint64: seeds use all 64 bits. */
static json_object *new_uint64(builder *b, uint64_t v)
{
    json_object *o = b->failed ? NULL : json_object_new_uint64(v);
    if (!o) b->failed = 1;
    return o;
}

static json_object *new_string(builder *b, const char *s)
{
    json_object *o = b->failed ? NULL : json_object_new_string(s);
    if (!o) b->failed = 1;
    return o;
}

/* Adds v (NULL: null) under a constant key; on failure v is released. */
static void put(builder *b, json_object *o, const char *key, json_object *v)
{
    if (b->failed || !o || json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW |
                                                                   JSON_C_OBJECT_KEY_IS_CONSTANT) != 0) {
        b->failed = 1;
        json_object_put(v);
    }
}

static void push(builder *b, json_object *a, json_object *v)
{
    if (b->failed || !a || json_object_array_add(a, v) != 0) {
        b->failed = 1;
        json_object_put(v);
    }
}

static json_object *new_curve(builder *b, const double *v, int n)
{
    json_object *a = new_inline_array(b);
    for (int i = 0; i < n && !b->failed; i++) {
        json_object *d = NULL;
        if (isfinite(v[i]) && !(d = json_object_new_double(v[i]))) b->failed = 1;
        push(b, a, d);
    }
    return a;
}

char *nnm_record_format(const nnm_record *r)
{
    builder b = {0};
    json_object *root = new_object(&b);
    put(&b, root, "format", new_string(&b, "nn-mnist-record"));
    put(&b, root, "version", new_int64(&b, NNM_RECORD_VERSION));
    put(&b, root, "run", new_string(&b, r->run_id));
    put(&b, root, "optimizer", new_string(&b, r->optimizer));
    put(&b, root, "activation", new_string(&b, r->activation));
    put(&b, root, "settings", new_string(&b, r->settings));
    put(&b, root, "model", new_string(&b, r->model_path));
    put(&b, root, "lr", new_double(&b, r->lr));
    put(&b, root, "seed", new_uint64(&b, r->seed));
    put(&b, root, "epochs", new_int64(&b, r->epochs));
    put(&b, root, "batch_size", new_int64(&b, r->batch_size));
    put(&b, root, "params", new_int64(&b, r->params));
    put(&b, root, "blas_threads", new_int64(&b, r->blas_threads));
    put(&b, root, "dropout", new_double(&b, r->dropout));
    put(&b, root, "batchnorm", new_int64(&b, r->batchnorm));
    put(&b, root, "arch", new_string(&b, r->arch));
    put(&b, root, "augment", new_int64(&b, r->augment));
    put(&b, root, "lr_schedule", new_string(&b, r->lr_schedule));
    put(&b, root, "validation", new_double(&b, r->validation));
    put(&b, root, "split_seed", new_uint64(&b, r->split_seed));
    put(&b, root, "patience", new_int64(&b, r->patience));
    put(&b, root, "best_epoch", new_int64(&b, r->best_epoch));

    json_object *m = new_object(&b);
    put(&b, m, "train_accuracy", new_double(&b, r->train_accuracy));
    put(&b, m, "test_accuracy", new_double(&b, r->test_accuracy));
    put(&b, m, "train_loss", new_double(&b, r->train_loss));
    put(&b, m, "test_loss", new_double(&b, r->test_loss));
    put(&b, m, "val_accuracy", new_double(&b, r->val_accuracy));
    put(&b, m, "val_loss", new_double(&b, r->val_loss));
    put(&b, root, "metrics", m);
    put(&b, root, "seconds", new_double(&b, r->seconds));

    json_object *d = NULL;
    if (r->diverged_epoch != 0) {
        d = new_object(&b);
        put(&b, d, "epoch", new_int64(&b, r->diverged_epoch));
        put(&b, d, "step", new_int64(&b, r->diverged_step));
    }
    put(&b, root, "diverged", d);

    json_object *conf = new_object(&b);
    put(&b, conf, "classes", new_int64(&b, r->classes));
    json_object *rows = new_array(&b);
    for (int i = 0; i < r->classes && !b.failed; i++) {
        json_object *row = new_inline_array(&b);
        for (int j = 0; j < r->classes && !b.failed; j++) push(&b, row, new_int64(&b, r->confusion[i * r->classes + j]));
        push(&b, rows, row);
    }
    put(&b, conf, "counts", rows);
    put(&b, root, "confusion", conf);

    json_object *h = new_object(&b);
    put(&b, h, "train_loss", new_curve(&b, r->curve_loss, r->n_curve));
    put(&b, h, "train_accuracy", new_curve(&b, r->curve_accuracy, r->n_curve));
    put(&b, h, "heldout", new_string(&b, r->validation > 0 ? "validation" : "test"));
    put(&b, h, "heldout_loss", new_curve(&b, r->curve_heldout_loss, r->n_curve));
    put(&b, h, "heldout_accuracy", new_curve(&b, r->curve_heldout_accuracy, r->n_curve));
    put(&b, root, "history", h);

    json_object *tc = NULL;
    if (r->test_correct && r->n_test_correct > 0 && !b.failed) {
        static const char digits[] = "0123456789abcdef";
        size_t bytes = (size_t)((r->n_test_correct + 7) / 8);
        char *hex = malloc(2 * bytes + 1);
        if (!hex) b.failed = 1;
        for (size_t i = 0; hex && i < bytes; i++) {
            unsigned v = r->test_correct[i];
            /* Bits past the last example are not part of the set. */
            if (i == bytes - 1 && r->n_test_correct % 8) v &= (1u << (r->n_test_correct % 8)) - 1;
            hex[2 * i] = digits[v >> 4];
            hex[2 * i + 1] = digits[v & 15];
        }
        if (hex) {
            hex[2 * bytes] = '\0';
            tc = new_object(&b);
            put(&b, tc, "n", new_int64(&b, r->n_test_correct));
            put(&b, tc, "hex", new_string(&b, hex));
            free(hex);
        }
    }
    put(&b, root, "test_correct", tc);

    char *out = NULL;
    if (!b.failed) {
        /* Pretty, for the person who opens one; jq and Python read it all the same. */
        size_t len;
        const char *s = json_object_to_json_string_length(
            root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (s && (out = malloc(len + 2))) {
            memcpy(out, s, len);
            out[len] = '\n';
            out[len + 1] = '\0';
        }
    }
    json_object_put(root);
    return out;
}

/* ---- Reading ---- */

/* The object tree a record's text becomes holds an object per number, some 50 bytes for a 2-byte
 * "0,": the values are bounded before json-c sees the text. A valid record has four curves of at
 * most NNM_MAX_EPOCHS and a confusion matrix of at most NNM_MAX_CLASSES^2 counts, plus a few dozen
 * scalars. */
#define MAX_VALUES (4 * (size_t)NNM_MAX_EPOCHS + (size_t)NNM_MAX_CLASSES * NNM_MAX_CLASSES + 4096)
/* root { confusion { counts [ row [ : four levels. */
#define MAX_DEPTH 6

typedef struct reader {
    char *err;
    size_t errlen;
} reader;

/* Every refusal names the key, e.g. "bad 'metrics.test_loss'". */
static int refuse(reader *rd, const char *what, const char *parent, const char *key)
{
    snprintf(rd->err, rd->errlen, "%s '%s%s%s'", what, parent ? parent : "", parent ? "." : "", key);
    return -1;
}

/* The member key of o; NULL with the refusal when absent (or, unless null_ok, null). */
static json_object *member(reader *rd, json_object *o, const char *parent, const char *key, int null_ok, int *ok)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) {
        *ok = refuse(rd, "missing", parent, key) == 0;
        return NULL;
    }
    if (!v && !null_ok) *ok = refuse(rd, "bad", parent, key) == 0;
    return v;
}

static int take_string(reader *rd, json_object *o, const char *parent, const char *key, char *dst, size_t size)
{
    int ok = 1;
    json_object *v = member(rd, o, parent, key, 0, &ok);
    if (!ok) return -1;
    if (!json_object_is_type(v, json_type_string)) return refuse(rd, "bad", parent, key);
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    /* A "\u0000" inside would cut the string short unnoticed. */
    if (!s || len >= size || strlen(s) != len) return refuse(rd, "bad", parent, key);
    memcpy(dst, s, len + 1);
    return 0;
}

/* An integer (json-c's int type, no fraction or exponent) in [lo, hi]. json-c saturates what does
 * not fit 64 bits, so a value beyond INT64_MAX shows as INT64_MAX with a uint64 above it. */
static int int_value(json_object *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!json_object_is_type(v, json_type_int)) return -1;
    int64_t i = json_object_get_int64(v);
    if (i == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX) return -1;
    if (i < lo || i > hi) return -1;
    *out = i;
    return 0;
}

static int take_i64(reader *rd, json_object *o, const char *parent, const char *key, int64_t lo, int64_t hi,
                    int64_t *dst)
{
    int ok = 1;
    json_object *v = member(rd, o, parent, key, 0, &ok);
    if (!ok) return -1;
    return int_value(v, lo, hi, dst) == 0 ? 0 : refuse(rd, "bad", parent, key);
}

static int take_int(reader *rd, json_object *o, const char *parent, const char *key, int lo, int hi, int *dst)
{
    int64_t v;
    if (take_i64(rd, o, parent, key, lo, hi, &v) != 0) return -1;
    *dst = (int)v;
    return 0;
}

static int take_u64(reader *rd, json_object *o, const char *parent, const char *key, uint64_t *dst)
{
    int ok = 1;
    json_object *v = member(rd, o, parent, key, 0, &ok);
    if (!ok) return -1;
    /* Negative numbers read as 0 through get_uint64: the int64 view tells them. */
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) return refuse(rd, "bad", parent, key);
    *dst = json_object_get_uint64(v);
    return 0;
}

/* A finite number (json-c accepts NaN and Infinity literals: refused), or null for NaN. */
static int double_value(json_object *v, int null_ok, double *out)
{
    if (!v) {
        if (!null_ok) return -1;
        *out = NAN;
        return 0;
    }
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) return -1;
    double d = json_object_get_double(v);
    if (!isfinite(d)) return -1;
    *out = d;
    return 0;
}

static int take_double(reader *rd, json_object *o, const char *parent, const char *key, int null_ok, double *dst)
{
    int ok = 1;
    json_object *v = member(rd, o, parent, key, null_ok, &ok);
    if (!ok) return -1;
    return double_value(v, null_ok, dst) == 0 ? 0 : refuse(rd, "bad", parent, key);
}

/* An object member that must be an object, or (null_ok) null: *out NULL. */
static int take_object(reader *rd, json_object *o, const char *key, int null_ok, json_object **out)
{
    int ok = 1;
    *out = member(rd, o, NULL, key, null_ok, &ok);
    if (!ok) return -1;
    if (*out && !json_object_is_type(*out, json_type_object)) return refuse(rd, "bad", NULL, key);
    return 0;
}

/* A curve of at most cap values (numbers or null) into dst; its length in *n. */
static int take_curve(reader *rd, json_object *h, const char *key, double *dst, int cap, int *n)
{
    int ok = 1;
    json_object *a = member(rd, h, "history", key, 0, &ok);
    if (!ok) return -1;
    if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > (size_t)cap)
        return refuse(rd, "bad", "history", key);
    *n = (int)json_object_array_length(a);
    for (int i = 0; i < *n; i++)
        if (double_value(json_object_array_get_idx(a, (size_t)i), 1, &dst[i]) != 0)
            return refuse(rd, "bad", "history", key);
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int take_test_correct(reader *rd, nnm_record *r, json_object *tc)
{
    int64_t n;
    int ok = 1;
    json_object *hex = member(rd, tc, "test_correct", "hex", 0, &ok);
    if (take_i64(rd, tc, "test_correct", "n", 1, INT64_MAX, &n) != 0 || !ok) return -1;
    if (!json_object_is_type(hex, json_type_string)) return refuse(rd, "bad", "test_correct", "hex");
    /* The length first, so that n cannot size anything the text does not hold. */
    size_t len = (size_t)json_object_get_string_len(hex);
    const char *s = json_object_get_string(hex);
    if (len % 2 || (uint64_t)n > (uint64_t)len * 4 || (size_t)((n + 7) / 8) != len / 2)
        return refuse(rd, "bad", "test_correct", "hex");
    if (nnm_record_alloc_test_correct(r, n) != 0) {
        snprintf(rd->err, rd->errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return refuse(rd, "bad", "test_correct", "hex");
        r->test_correct[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static int take_confusion(reader *rd, nnm_record *r, json_object *conf)
{
    int classes, ok = 1;
    if (take_int(rd, conf, "confusion", "classes", 1, NNM_MAX_CLASSES, &classes) != 0) return -1;
    json_object *rows = member(rd, conf, "confusion", "counts", 0, &ok);
    if (!ok) return -1;
    if (nnm_record_alloc(r, classes, r->epochs) != 0) {
        snprintf(rd->err, rd->errlen, "out of memory");
        return -1;
    }
    if (!json_object_is_type(rows, json_type_array) || json_object_array_length(rows) != (size_t)classes)
        return refuse(rd, "bad", "confusion", "counts");
    for (int i = 0; i < classes; i++) {
        json_object *row = json_object_array_get_idx(rows, (size_t)i);
        if (!json_object_is_type(row, json_type_array) || json_object_array_length(row) != (size_t)classes)
            return refuse(rd, "bad", "confusion", "counts");
        for (int j = 0; j < classes; j++)
            if (int_value(json_object_array_get_idx(row, (size_t)j), 0, INT64_MAX, &r->confusion[i * classes + j]) != 0)
                return refuse(rd, "bad", "confusion", "counts");
    }
    return 0;
}

static int take_history(reader *rd, nnm_record *r, json_object *h)
{
    char heldout[16];
    int n[4];
    if (take_curve(rd, h, "train_loss", r->curve_loss, r->curve_cap, &n[0]) != 0 ||
        take_curve(rd, h, "train_accuracy", r->curve_accuracy, r->curve_cap, &n[1]) != 0 ||
        take_curve(rd, h, "heldout_loss", r->curve_heldout_loss, r->curve_cap, &n[2]) != 0 ||
        take_curve(rd, h, "heldout_accuracy", r->curve_heldout_accuracy, r->curve_cap, &n[3]) != 0 ||
        take_string(rd, h, "history", "heldout", heldout, sizeof heldout) != 0)
        return -1;
    if (n[1] != n[0] || n[2] != n[0] || n[3] != n[0]) return refuse(rd, "curves of different lengths in", NULL, "history");
    if (strcmp(heldout, r->validation > 0 ? "validation" : "test") != 0) return refuse(rd, "bad", "history", "heldout");
    r->n_curve = n[0];
    return 0;
}

static int take_record(reader *rd, nnm_record *r, json_object *root)
{
    char format[32];
    int64_t version;
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(rd->err, rd->errlen, "not an nn-mnist record (not a JSON object)");
        return -1;
    }
    if (take_string(rd, root, NULL, "format", format, sizeof format) != 0 || strcmp(format, "nn-mnist-record") != 0 ||
        take_i64(rd, root, NULL, "version", 1, INT32_MAX, &version) != 0) {
        snprintf(rd->err, rd->errlen, "not an nn-mnist record");
        return -1;
    }
    if (version != NNM_RECORD_VERSION) {
        snprintf(rd->err, rd->errlen, "a record of version %" PRId64 "; this nn-mnist reads version %d", version,
                 NNM_RECORD_VERSION);
        return -1;
    }
    json_object *metrics, *diverged, *conf, *history, *tc;
    if (take_string(rd, root, NULL, "run", r->run_id, sizeof r->run_id) != 0 ||
        take_string(rd, root, NULL, "optimizer", r->optimizer, sizeof r->optimizer) != 0 ||
        take_string(rd, root, NULL, "activation", r->activation, sizeof r->activation) != 0 ||
        take_string(rd, root, NULL, "settings", r->settings, sizeof r->settings) != 0 ||
        take_string(rd, root, NULL, "model", r->model_path, sizeof r->model_path) != 0 ||
        take_double(rd, root, NULL, "lr", 0, &r->lr) != 0 ||
        take_u64(rd, root, NULL, "seed", &r->seed) != 0 ||
        take_int(rd, root, NULL, "epochs", 1, NNM_MAX_EPOCHS, &r->epochs) != 0 ||
        take_i64(rd, root, NULL, "batch_size", 1, INT64_MAX, &r->batch_size) != 0 ||
        take_i64(rd, root, NULL, "params", 0, INT64_MAX, &r->params) != 0 ||
        take_int(rd, root, NULL, "blas_threads", INT_MIN, INT_MAX, &r->blas_threads) != 0 ||
        take_double(rd, root, NULL, "dropout", 0, &r->dropout) != 0 ||
        take_int(rd, root, NULL, "batchnorm", 0, 1, &r->batchnorm) != 0 ||
        take_string(rd, root, NULL, "arch", r->arch, sizeof r->arch) != 0 ||
        take_int(rd, root, NULL, "augment", 0, NNM_AUGMENT_SCAN, &r->augment) != 0 ||
        take_string(rd, root, NULL, "lr_schedule", r->lr_schedule, sizeof r->lr_schedule) != 0 ||
        take_double(rd, root, NULL, "validation", 0, &r->validation) != 0 ||
        take_u64(rd, root, NULL, "split_seed", &r->split_seed) != 0 ||
        take_int(rd, root, NULL, "patience", 0, NNM_MAX_EPOCHS, &r->patience) != 0 ||
        take_int(rd, root, NULL, "best_epoch", 0, NNM_MAX_EPOCHS, &r->best_epoch) != 0 ||
        take_double(rd, root, NULL, "seconds", 0, &r->seconds) != 0 ||
        take_object(rd, root, "metrics", 0, &metrics) != 0 || take_object(rd, root, "diverged", 1, &diverged) != 0 ||
        take_object(rd, root, "confusion", 0, &conf) != 0 || take_object(rd, root, "history", 0, &history) != 0 ||
        take_object(rd, root, "test_correct", 1, &tc) != 0)
        return -1;
    if (take_double(rd, metrics, "metrics", "train_accuracy", 1, &r->train_accuracy) != 0 ||
        take_double(rd, metrics, "metrics", "test_accuracy", 1, &r->test_accuracy) != 0 ||
        take_double(rd, metrics, "metrics", "train_loss", 1, &r->train_loss) != 0 ||
        take_double(rd, metrics, "metrics", "test_loss", 1, &r->test_loss) != 0 ||
        take_double(rd, metrics, "metrics", "val_accuracy", 1, &r->val_accuracy) != 0 ||
        take_double(rd, metrics, "metrics", "val_loss", 1, &r->val_loss) != 0)
        return -1;
    if (diverged && (take_int(rd, diverged, "diverged", "epoch", 1, NNM_MAX_EPOCHS, &r->diverged_epoch) != 0 ||
                     take_i64(rd, diverged, "diverged", "step", 0, INT64_MAX, &r->diverged_step) != 0))
        return -1;
    /* The confusion matrix sizes the curves, from epochs. */
    if (take_confusion(rd, r, conf) != 0 || take_history(rd, r, history) != 0) return -1;
    if (tc && take_test_correct(rd, r, tc) != 0) return -1;
    return nnm_record_check(r, rd->err, rd->errlen);
}

int nnm_record_parse_json(nnm_record *r, const char *text, char *err, size_t errlen)
{
    nnm_record_init(r);
    reader rd = {err, errlen};
    size_t len = strnlen(text, (size_t)NNM_RECORD_MAX_TEXT + 1), commas = 0;
    if (len > NNM_RECORD_MAX_TEXT) {
        snprintf(err, errlen, "record larger than %u MiB", NNM_RECORD_MAX_TEXT >> 20);
        return -1;
    }
    /* Commas inside strings count too: a bound, not a parse. */
    for (const char *p = text; (p = memchr(p, ',', len - (size_t)(p - text))); p++) commas++;
    if (commas > MAX_VALUES) {
        snprintf(err, errlen, "more values than a record holds");
        return -1;
    }
    json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int rc;
    if (jerr == json_tokener_continue) {
        snprintf(err, errlen, "incomplete record (the JSON text ends early)");
        rc = -1;
    } else if (jerr != json_tokener_success) {
        snprintf(err, errlen, "not valid JSON: %s at byte %zu", json_tokener_error_desc(jerr), end);
        rc = -1;
    } else if (!root) {
        snprintf(err, errlen, "not an nn-mnist record (not a JSON object)");
        rc = -1;
    } else if (text[end + strspn(text + end, " \t\r\n")] != '\0') {
        snprintf(err, errlen, "text after the record's JSON object, at byte %zu", end);
        rc = -1;
    } else {
        rc = take_record(&rd, r, root);
    }
    json_object_put(root);
    if (rc != 0) nnm_record_free(r);
    return rc;
}
