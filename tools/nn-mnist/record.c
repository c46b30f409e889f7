#define _POSIX_C_SOURCE 200809L
#include "record.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
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
    if (r->dropout > 0) sb_add(&b, "dropout %.17g\n", r->dropout);
    if (r->batchnorm) sb_add(&b, "batchnorm %d\n", r->batchnorm);
    if (r->arch[0]) sb_add(&b, "arch %s\n", r->arch);
    if (r->augment) sb_add(&b, "augment %d\n", r->augment);
    if (r->lr_schedule[0]) sb_add(&b, "lr_schedule %s\n", r->lr_schedule);
    sb_add(&b, "train_accuracy %.17g\ntest_accuracy %.17g\ntrain_loss %.17g\ntest_loss %.17g\nseconds %.3f\n",
           r->train_accuracy, r->test_accuracy, r->train_loss, r->test_loss, r->seconds);
    if (r->diverged_epoch > 0)
        sb_add(&b, "diverged_epoch %d\ndiverged_step %" PRId64 "\n", r->diverged_epoch, r->diverged_step);
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

/*
 * Parsing. A record is damaged or hostile input as far as this code knows (a torn file, an MPI peer,
 * a user's editor), so every read is bounded by the line it belongs to: [p, end), end being the
 * line's '\n' or the text's NUL. No sscanf (it skips newlines and blanks, so it reads into the next
 * line, and strlen()s the whole text on every call), and no strto* call where a blank comes first
 * (they would skip it, and the line's end with it): a number must start right where it is expected.
 * Every key appears once; the scalar keys are a table, so that a field is one line to add.
 */
enum field_kind { F_STRING, F_DOUBLE, F_INT, F_I64, F_U64 };

typedef struct field {
    const char *key;
    enum field_kind kind;
    size_t offset, size; /* of the member in nnm_record */
    long long min, max;  /* F_INT only */
    int optional;        /* may be absent (keeps its nnm_record_init value); else a record without it is incomplete */
} field;

#define FIELD(key, kind, member) {key, kind, offsetof(nnm_record, member), sizeof(((nnm_record *)0)->member), 0, 0, 0}
#define INT_FIELD(key, member, lo, hi) {key, F_INT, offsetof(nnm_record, member), sizeof(int), lo, hi, 0}

static const field fields[] = {
    FIELD("run", F_STRING, run_id),
    FIELD("optimizer", F_STRING, optimizer),
    FIELD("activation", F_STRING, activation),
    FIELD("settings", F_STRING, settings),
    FIELD("model", F_STRING, model_path),
    FIELD("lr", F_DOUBLE, lr),
    FIELD("seed", F_U64, seed),
    INT_FIELD("epochs", epochs, 1, NNM_MAX_EPOCHS),
    FIELD("batch_size", F_I64, batch_size),
    FIELD("params", F_I64, params),
    INT_FIELD("blas_threads", blas_threads, INT_MIN, INT_MAX),
    FIELD("train_accuracy", F_DOUBLE, train_accuracy),
    FIELD("test_accuracy", F_DOUBLE, test_accuracy),
    FIELD("train_loss", F_DOUBLE, train_loss),
    FIELD("test_loss", F_DOUBLE, test_loss),
    FIELD("seconds", F_DOUBLE, seconds),
    {"diverged_epoch", F_INT, offsetof(nnm_record, diverged_epoch), sizeof(int), 1, NNM_MAX_EPOCHS, 1},
    {"diverged_step", F_I64, offsetof(nnm_record, diverged_step), sizeof(int64_t), 0, 0, 1},
    {"dropout", F_DOUBLE, offsetof(nnm_record, dropout), sizeof(double), 0, 0, 1},
    {"batchnorm", F_INT, offsetof(nnm_record, batchnorm), sizeof(int), 0, 1, 1},
    {"arch", F_STRING, offsetof(nnm_record, arch), sizeof(((nnm_record *)0)->arch), 0, 0, 1},
    {"augment", F_INT, offsetof(nnm_record, augment), sizeof(int), 0, 2, 1},
    {"lr_schedule", F_STRING, offsetof(nnm_record, lr_schedule), sizeof(((nnm_record *)0)->lr_schedule), 0, 0, 1},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])
_Static_assert(N_FIELDS < 32, "one bit per field in nnm_record_parse");
#define N_CURVES 3
static const char *const curve_keys[N_CURVES] = {"curve_loss", "curve_accuracy", "curve_test_accuracy"};

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* The separator before a value: one space, then the value's first character on the same line. */
static int take_sep(const char **p, const char *end)
{
    if (*p + 1 >= end || **p != ' ' || is_blank((*p)[1])) return -1;
    (*p)++;
    return 0;
}

/* Numbers at *p, which take_sep has left on a non-blank character of the line: strto* then stop at
 * the first blank, '\n' and the terminating NUL included, so they never leave the line. */
static int take_i64(const char **p, const char *end, int64_t *out)
{
    char *e;
    errno = 0;
    long long v = strtoll(*p, &e, 10);
    if (e == *p || e > end || errno == ERANGE) return -1;
    *out = (int64_t)v;
    *p = e;
    return 0;
}

static int take_u64(const char **p, const char *end, uint64_t *out)
{
    if (**p < '0' || **p > '9') return -1; /* strtoull would accept, and negate, "-1" */
    char *e;
    errno = 0;
    unsigned long long v = strtoull(*p, &e, 10);
    if (e > end || errno == ERANGE) return -1;
    *out = (uint64_t)v;
    *p = e;
    return 0;
}

static int take_double(const char **p, const char *end, double *out)
{
    char *e;
    double v = strtod(*p, &e); /* ERANGE is not checked: %.17g writes subnormals, which set it */
    if (e == *p || e > end) return -1;
    *out = v;
    *p = e;
    return 0;
}

static int take_int(const char **p, const char *end, long long lo, long long hi, int *out)
{
    int64_t v;
    if (take_i64(p, end, &v) != 0 || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

/* One table field from the line's value part v (which starts at the separator); nothing may follow. */
static int take_field(nnm_record *r, const field *f, const char *v, const char *end)
{
    char *dst = (char *)r + f->offset;
    if (f->kind == F_STRING) {
        /* The whole rest of the line, blanks included; it may be empty, and the completeness check
         * refuses the empty ones that matter. */
        if (v >= end || *v != ' ') return -1;
        size_t n = (size_t)(end - v - 1);
        if (n >= f->size) return -1;
        memcpy(dst, v + 1, n);
        dst[n] = '\0';
        return 0;
    }
    if (take_sep(&v, end) != 0) return -1;
    int bad = 0;
    switch (f->kind) {
    case F_STRING: break;
    case F_DOUBLE: bad = take_double(&v, end, (double *)(void *)dst); break;
    case F_INT: bad = take_int(&v, end, f->min, f->max, (int *)(void *)dst); break;
    case F_I64: bad = take_i64(&v, end, (int64_t *)(void *)dst); break;
    case F_U64: bad = take_u64(&v, end, (uint64_t *)(void *)dst); break;
    }
    return bad || v != end ? -1 : 0;
}

/* "confusion C n n ...": C classes, C x C non-negative counts; sizes the matrix and the curves. */
static int take_confusion(nnm_record *r, const char *v, const char *end)
{
    int classes;
    if (take_sep(&v, end) != 0 || take_int(&v, end, 1, NNM_MAX_CLASSES, &classes) != 0 ||
        nnm_record_alloc(r, classes, r->epochs) != 0)
        return -1;
    for (int i = 0; i < classes * classes; i++) {
        int64_t c;
        if (take_sep(&v, end) != 0 || take_i64(&v, end, &c) != 0 || c < 0) return -1;
        r->confusion[i] = c;
    }
    return v == end ? 0 : -1;
}

/* "curve_x N v ...": N values, at most the epochs the curves were sized for. */
static int take_curve(double *dst, int cap, int *count, const char *v, const char *end)
{
    if (take_sep(&v, end) != 0 || take_int(&v, end, 0, cap, count) != 0) return -1;
    for (int i = 0; i < *count; i++)
        if (take_sep(&v, end) != 0 || take_double(&v, end, &dst[i]) != 0) return -1;
    return v == end ? 0 : -1;
}

static int key_is(const char *key, size_t len, const char *name) { return strlen(name) == len && !memcmp(key, name, len); }

int nnm_record_parse(nnm_record *r, const char *text, char *err, size_t errlen)
{
    nnm_record_init(r);
    /* The first line: "nn-mnist-record VERSION". */
    const char *end = text + strcspn(text, "\n"), *v = text + strcspn(text, " \n");
    int version = 0;
    if (!key_is(text, (size_t)(v - text), "nn-mnist-record") || take_sep(&v, end) != 0 ||
        take_int(&v, end, 0, INT32_MAX, &version) != 0 || v != end || version != NNM_RECORD_VERSION) {
        snprintf(err, errlen, "not an nn-mnist record of version %d", NNM_RECORD_VERSION);
        return -1;
    }
    unsigned seen = 0, required = 0; /* one bit per table field */
    for (size_t i = 0; i < N_FIELDS; i++)
        if (!fields[i].optional) required |= 1u << i;
    int seen_conf = 0, seen_end = 0, curve_count[N_CURVES] = {-1, -1, -1};
    for (const char *line = *end ? end + 1 : end; *line && !seen_end; line = *end ? end + 1 : end) {
        end = line + strcspn(line, "\n");
        v = line + strcspn(line, " \n");
        const char *key = line;
        size_t kl = (size_t)(v - line);
        int bad = 0;
        size_t i;
        for (i = 0; i < N_FIELDS && !key_is(key, kl, fields[i].key); i++) {}
        if (i < N_FIELDS) {
            bad = (seen >> i & 1u) || take_field(r, &fields[i], v, end) != 0;
            seen |= 1u << i;
        } else if (key_is(key, kl, "confusion")) {
            /* After "epochs", which sizes the curves that follow. */
            bad = seen_conf || r->epochs <= 0 || take_confusion(r, v, end) != 0;
            seen_conf = 1;
        } else if (key_is(key, kl, "end")) {
            bad = v != end;
            seen_end = 1;
        } else {
            for (i = 0; i < N_CURVES && !key_is(key, kl, curve_keys[i]); i++) {}
            if (i < N_CURVES) {
                double *dst = i == 0 ? r->curve_loss : i == 1 ? r->curve_accuracy : r->curve_test_accuracy;
                /* Once each, after the confusion matrix (which sizes them), all of one length. */
                bad = !seen_conf || curve_count[i] >= 0 || take_curve(dst, r->curve_cap, &curve_count[i], v, end) != 0;
                for (size_t j = 0; !bad && j < N_CURVES; j++)
                    bad = curve_count[j] >= 0 && curve_count[j] != curve_count[i];
                if (!bad) r->n_curve = curve_count[i];
            }
            /* Other keys are ignored: lines a later version may add. */
        }
        if (bad) {
            snprintf(err, errlen, "bad '%.*s' line", kl > 40 ? 40 : (int)kl, key);
            nnm_record_free(r);
            return -1;
        }
    }
    /* Metrics are probabilities and non-negative losses; anything else is damage (and would break
     * the report's formatting). seconds <= 1e12: what "%.3f" rounds up to must still parse. */
    int metrics = r->train_accuracy >= 0 && r->train_accuracy <= 1 && r->test_accuracy >= 0 &&
                  r->test_accuracy <= 1 && r->train_loss >= 0 && r->train_loss < 1e30 && r->test_loss >= 0 &&
                  r->test_loss < 1e30;
    /* A diverged run has no metrics: NaN, and nothing else, in all four. */
    int diverged = r->diverged_epoch > 0, no_metrics = isnan(r->train_accuracy) && isnan(r->test_accuracy) &&
                                                       isnan(r->train_loss) && isnan(r->test_loss);
    int sane = (diverged ? no_metrics && r->diverged_epoch <= r->epochs && r->diverged_step >= 0 : metrics) &&
               r->lr > 0 && r->lr < 1e30 && r->dropout >= 0 && r->dropout < 1 && r->seconds >= 0 &&
               r->seconds <= 1e12 && r->epochs <= r->curve_cap;
    int complete = seen_end && seen_conf && (seen & required) == required && curve_count[0] >= 0 &&
                   curve_count[1] >= 0 && curve_count[2] >= 0;
    if (complete && !sane) {
        snprintf(err, errlen, "values out of range");
        nnm_record_free(r);
        return -1;
    }
    if (!complete || !r->run_id[0] || !r->settings[0]) {
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
