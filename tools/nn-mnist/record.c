#define _POSIX_C_SOURCE 200809L
#include "record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

void nnm_record_init(nnm_record *r) { memset(r, 0, sizeof *r); }

void nnm_record_free(nnm_record *r)
{
    free(r->confusion);
    free(r->curve_loss);
    free(r->curve_accuracy);
    free(r->curve_test_accuracy);
    nnm_record_init(r);
}

int nnm_record_alloc(nnm_record *r, int classes, int epochs)
{
    if (classes < 1 || classes > NNM_MAX_CLASSES || epochs < 0 || epochs > NNM_MAX_EPOCHS) return -1;
    free(r->confusion);
    free(r->curve_loss);
    free(r->curve_accuracy);
    free(r->curve_test_accuracy);
    r->classes = classes;
    r->confusion = calloc((size_t)classes * (size_t)classes, sizeof *r->confusion);
    size_t ne = epochs ? (size_t)epochs : 1;
    r->curve_loss = calloc(ne, sizeof(double));
    r->curve_accuracy = calloc(ne, sizeof(double));
    r->curve_test_accuracy = calloc(ne, sizeof(double));
    r->n_curve = 0;
    r->curve_cap = (int)ne;
    if (!r->confusion || !r->curve_loss || !r->curve_accuracy || !r->curve_test_accuracy) return -1;
    return 0;
}

/* A growing string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void sb_add(sbuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void sb_doubles(sbuf *b, const char *key, const double *v, int n)
{
    sb_add(b, "%s %d", key, n);
    for (int i = 0; i < n; i++) sb_add(b, " %.17g", v[i]);
    sb_add(b, "\n");
}

char *nnm_record_format(const nnm_record *r)
{
    sbuf b = {0};
    /* %.17g: doubles read back bit for bit, so a report from records equals one from memory. */
    sb_add(&b, "nn-mnist-record %d\n", NNM_RECORD_VERSION);
    sb_add(&b, "run %s\noptimizer %s\nactivation %s\n", r->run_id, r->optimizer, r->activation);
    sb_add(&b, "settings %s\nmodel %s\n", r->settings, r->model_path);
    sb_add(&b, "lr %.17g\nseed %" PRIu64 "\nepochs %d\nbatch_size %" PRId64 "\nparams %" PRId64 "\nblas_threads %d\n",
           r->lr, r->seed, r->epochs, r->batch_size, r->params, r->blas_threads);
    sb_add(&b, "train_accuracy %.17g\ntest_accuracy %.17g\ntrain_loss %.17g\ntest_loss %.17g\nseconds %.3f\n",
           r->train_accuracy, r->test_accuracy, r->train_loss, r->test_loss, r->seconds);
    sb_add(&b, "confusion %d", r->classes);
    for (int i = 0; i < r->classes * r->classes; i++) sb_add(&b, " %" PRId64, r->confusion[i]);
    sb_add(&b, "\n");
    sb_doubles(&b, "curve_loss", r->curve_loss, r->n_curve);
    sb_doubles(&b, "curve_accuracy", r->curve_accuracy, r->n_curve);
    sb_doubles(&b, "curve_test_accuracy", r->curve_test_accuracy, r->n_curve);
    sb_add(&b, "end\n");
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* Copies the rest of the line after "key " into dst. */
static int take_string(const char *line, size_t keylen, char *dst, size_t cap)
{
    const char *v = line + keylen + 1;
    size_t n = strcspn(v, "\n");
    if (n >= cap) return -1;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return 0;
}

static int take_doubles(const char *v, double *dst, int n, int cap)
{
    if (n < 0 || n > cap) return -1;
    char *end;
    for (int i = 0; i < n; i++) {
        dst[i] = strtod(v, &end);
        if (end == v) return -1;
        v = end;
    }
    return 0;
}

int nnm_record_parse(nnm_record *r, const char *text, char *err, size_t errlen)
{
    nnm_record_init(r);
    int version = 0, seen_end = 0, seen_conf = 0;
    if (sscanf(text, "nn-mnist-record %d", &version) != 1 || version != NNM_RECORD_VERSION) {
        snprintf(err, errlen, "not an nn-mnist record of version %d", NNM_RECORD_VERSION);
        return -1;
    }
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        char key[32];
        int n = 0;
        if (sscanf(line, "%31s%n", key, &n) != 1) continue;
        const char *v = line + n;
        size_t kl = strlen(key);
        int bad = 0, count = 0, off = 0;
        if (!strcmp(key, "run")) bad = take_string(line, kl, r->run_id, sizeof r->run_id);
        else if (!strcmp(key, "optimizer")) bad = take_string(line, kl, r->optimizer, sizeof r->optimizer);
        else if (!strcmp(key, "activation")) bad = take_string(line, kl, r->activation, sizeof r->activation);
        else if (!strcmp(key, "settings")) bad = take_string(line, kl, r->settings, sizeof r->settings);
        else if (!strcmp(key, "model")) bad = take_string(line, kl, r->model_path, sizeof r->model_path);
        else if (!strcmp(key, "lr")) bad = sscanf(v, "%lf", &r->lr) != 1;
        else if (!strcmp(key, "seed")) bad = sscanf(v, "%" SCNu64, &r->seed) != 1;
        else if (!strcmp(key, "epochs")) bad = sscanf(v, "%d", &r->epochs) != 1 || r->epochs < 0 || r->epochs > NNM_MAX_EPOCHS;
        else if (!strcmp(key, "batch_size")) bad = sscanf(v, "%" SCNd64, &r->batch_size) != 1;
        else if (!strcmp(key, "params")) bad = sscanf(v, "%" SCNd64, &r->params) != 1;
        else if (!strcmp(key, "blas_threads")) bad = sscanf(v, "%d", &r->blas_threads) != 1;
        else if (!strcmp(key, "train_accuracy")) bad = sscanf(v, "%lf", &r->train_accuracy) != 1;
        else if (!strcmp(key, "test_accuracy")) bad = sscanf(v, "%lf", &r->test_accuracy) != 1;
        else if (!strcmp(key, "train_loss")) bad = sscanf(v, "%lf", &r->train_loss) != 1;
        else if (!strcmp(key, "test_loss")) bad = sscanf(v, "%lf", &r->test_loss) != 1;
        else if (!strcmp(key, "seconds")) bad = sscanf(v, "%lf", &r->seconds) != 1;
        else if (!strcmp(key, "confusion")) {
            int classes = 0;
            /* Once only, and after "epochs", which sizes the curves that follow. */
            bad = seen_conf || r->epochs <= 0 || sscanf(v, "%d%n", &classes, &off) != 1 ||
                  nnm_record_alloc(r, classes, r->epochs) != 0;
            v += off;
            for (int i = 0; !bad && i < classes * classes; i++) {
                char *end;
                long long c = strtoll(v, &end, 10);
                bad = end == v || c < 0;
                r->confusion[i] = c;
                v = end;
            }
            seen_conf = !bad;
        } else if (!strcmp(key, "curve_loss") || !strcmp(key, "curve_accuracy") ||
                   !strcmp(key, "curve_test_accuracy")) {
            bad = !seen_conf || sscanf(v, "%d%n", &count, &off) != 1;
            double *dst = key[6] == 'l' ? r->curve_loss : key[6] == 'a' ? r->curve_accuracy : r->curve_test_accuracy;
            if (!bad) bad = take_doubles(v + off, dst, count, r->curve_cap);
            if (!bad) r->n_curve = count;
        } else if (!strcmp(key, "end")) {
            seen_end = 1;
        }
        if (bad) {
            snprintf(err, errlen, "bad '%s' line", key);
            nnm_record_free(r);
            return -1;
        }
    }
    /* Metrics are probabilities and non-negative losses; anything else is damage (and would break
     * the report's formatting). The curves must not outgrow the epochs they were sized for. */
    int sane = r->train_accuracy >= 0 && r->train_accuracy <= 1 && r->test_accuracy >= 0 && r->test_accuracy <= 1 &&
               r->train_loss >= 0 && r->train_loss < 1e30 && r->test_loss >= 0 && r->test_loss < 1e30 &&
               r->lr > 0 && r->lr < 1e30 && r->seconds >= 0 && r->seconds < 1e12 && r->epochs <= r->curve_cap;
    if (seen_end && seen_conf && !sane) {
        snprintf(err, errlen, "values out of range");
        nnm_record_free(r);
        return -1;
    }
    if (!seen_end || !seen_conf || !r->run_id[0] || !r->settings[0]) {
        snprintf(err, errlen, "incomplete record");
        nnm_record_free(r);
        return -1;
    }
    return 0;
}

void nnm_record_path(const char *out_dir, const char *run_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/runs/%s.rec", out_dir, run_id);
}

int nnm_record_save(const nnm_record *r, const char *out_dir, char *err, size_t errlen)
{
    char dir[4096], path[4096];
    snprintf(dir, sizeof dir, "%s/runs", out_dir);
    if (nnm_mkdirs(dir, err, errlen) != 0) return -1;
    nnm_record_path(out_dir, r->run_id, path, sizeof path);
    char *text = nnm_record_format(r);
    if (!text) {
        snprintf(err, errlen, "out of memory formatting record %s", r->run_id);
        return -1;
    }
    int rc = nnm_write_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

int nnm_record_load(nnm_record *r, const char *path, char *err, size_t errlen)
{
    char inner[256];
    char *text = nnm_read_file(path, NULL, err, errlen);
    if (!text) return -1;
    int rc = nnm_record_parse(r, text, inner, sizeof inner);
    free(text);
    if (rc != 0) snprintf(err, errlen, "%s: %s", path, inner);
    return rc;
}
