#define _POSIX_C_SOURCE 200809L
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "augment_kind.h"
#include "fsutil.h"

void nnm_record_init(nnm_record *r)
{
    memset(r, 0, sizeof *r);
    r->val_accuracy = r->val_loss = NAN;
}

static void free_arrays(nnm_record *r)
{
    free(r->confusion);
    free(r->curve_loss);
    free(r->curve_accuracy);
    free(r->curve_heldout_loss);
    free(r->curve_heldout_accuracy);
    free(r->test_correct);
}

void nnm_record_free(nnm_record *r)
{
    free_arrays(r);
    nnm_record_init(r);
}

int nnm_record_alloc(nnm_record *r, int classes, int epochs)
{
    if (classes < 1 || classes > NNM_MAX_CLASSES || epochs < 0 || epochs > NNM_MAX_EPOCHS) return -1;
    free(r->confusion);
    free(r->curve_loss);
    free(r->curve_accuracy);
    free(r->curve_heldout_loss);
    free(r->curve_heldout_accuracy);
    r->classes = classes;
    r->confusion = calloc((size_t)classes * (size_t)classes, sizeof *r->confusion);
    size_t ne = epochs ? (size_t)epochs : 1;
    r->curve_loss = calloc(ne, sizeof(double));
    r->curve_accuracy = calloc(ne, sizeof(double));
    r->curve_heldout_loss = calloc(ne, sizeof(double));
    r->curve_heldout_accuracy = calloc(ne, sizeof(double));
    r->n_curve = 0;
    r->curve_cap = (int)ne;
    if (!r->confusion || !r->curve_loss || !r->curve_accuracy || !r->curve_heldout_loss || !r->curve_heldout_accuracy)
        return -1;
    return 0;
}

int nnm_record_alloc_test_correct(nnm_record *r, int64_t n)
{
    free(r->test_correct);
    r->test_correct = NULL;
    r->n_test_correct = 0;
    if (n < 1 || (uint64_t)n > (uint64_t)SIZE_MAX - 7) return -1;
    r->test_correct = calloc((size_t)((n + 7) / 8), 1);
    if (!r->test_correct) return -1;
    r->n_test_correct = n;
    return 0;
}

/*
 * The version-1 text form of older nn-mnist (no longer written): "nn-mnist-record 1", then one
 * "key value" line per field, the confusion matrix and three curves, and "end". A record is damaged or hostile input as far as this code knows (a torn file, an MPI peer,
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
    {"augment", F_INT, offsetof(nnm_record, augment), sizeof(int), 0, NNM_AUGMENT_SCAN, 1},
    {"lr_schedule", F_STRING, offsetof(nnm_record, lr_schedule), sizeof(((nnm_record *)0)->lr_schedule), 0, 0, 1},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])
_Static_assert(N_FIELDS < 32, "one bit per field in nnm_record_parse");
#define N_CURVES 3
/* The third is the held-out accuracy: always the test set's in these records. */
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

int nnm_record_parse_text(nnm_record *r, const char *text, char *err, size_t errlen)
{
    nnm_record_init(r);
    /* The first line: "nn-mnist-record VERSION". */
    const char *end = text + strcspn(text, "\n"), *v = text + strcspn(text, " \n");
    int version = 0;
    if (!key_is(text, (size_t)(v - text), "nn-mnist-record") || take_sep(&v, end) != 0 ||
        take_int(&v, end, 0, INT32_MAX, &version) != 0 || v != end || version != NNM_RECORD_TEXT_VERSION) {
        snprintf(err, errlen, "not an nn-mnist record of version %d", NNM_RECORD_TEXT_VERSION);
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
                double *dst = i == 0 ? r->curve_loss : i == 1 ? r->curve_accuracy : r->curve_heldout_accuracy;
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
    int complete = seen_end && seen_conf && (seen & required) == required && curve_count[0] >= 0 &&
                   curve_count[1] >= 0 && curve_count[2] >= 0;
    if (!complete) {
        snprintf(err, errlen, "incomplete record");
        nnm_record_free(r);
        return -1;
    }
    /* These records predate the held-out loss. */
    for (int i = 0; i < r->n_curve; i++) r->curve_heldout_loss[i] = NAN;
    if (nnm_record_check(r, err, errlen) != 0) {
        nnm_record_free(r);
        return -1;
    }
    return 0;
}

int nnm_record_parse(nnm_record *r, const char *text, char *err, size_t errlen)
{
    nnm_record_init(r);
    if (strnlen(text, (size_t)NNM_RECORD_MAX_TEXT + 1) > NNM_RECORD_MAX_TEXT) {
        snprintf(err, errlen, "record larger than %u MiB", NNM_RECORD_MAX_TEXT >> 20);
        return -1;
    }
    const char *p = text + strspn(text, " \t\r\n");
    if (*p == '{') return nnm_record_parse_json(r, p, err, errlen);
    if (*p == 'n') return nnm_record_parse_text(r, text, err, errlen);
    snprintf(err, errlen, "not an nn-mnist record");
    return -1;
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

int nnm_record_check(const nnm_record *r, char *err, size_t errlen)
{
#define REFUSE(...)                              \
    do {                                         \
        snprintf(err, errlen, __VA_ARGS__);      \
        return -1;                               \
    } while (0)
    if (!r->run_id[0] || !r->settings[0] || !r->confusion || !r->curve_loss || !r->curve_accuracy ||
        !r->curve_heldout_loss || !r->curve_heldout_accuracy)
        REFUSE("incomplete record");
    const char *strings[] = {r->run_id, r->optimizer, r->activation, r->settings, r->model_path, r->arch, r->lr_schedule};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (has_control(strings[i])) REFUSE("a control character in a name or setting");
    /* The id names the record's and the model's files. */
    if (strchr(r->run_id, '/') || !strcmp(r->run_id, ".") || !strcmp(r->run_id, ".."))
        REFUSE("run id '%s' is not a file name", r->run_id);
    if (r->epochs < 1 || r->epochs > NNM_MAX_EPOCHS || r->epochs > r->curve_cap || r->n_curve < 0 ||
        r->n_curve > r->epochs || r->classes < 1 || r->classes > NNM_MAX_CLASSES)
        REFUSE("values out of range: epochs, classes or curves");
    /* seconds <= 1e12: what the text form's "%.3f" rounds up to must still parse. */
    if (!(r->lr > 0 && r->lr < 1e30 && r->dropout >= 0 && r->dropout < 1 && r->seconds >= 0 &&
          r->seconds <= 1e12 && r->batch_size >= 1 && r->params >= 0 && r->batchnorm >= 0 && r->batchnorm <= 1 &&
          r->augment >= 0 && r->augment <= NNM_AUGMENT_SCAN))
        REFUSE("values out of range: settings");
    if (!(r->validation >= 0 && r->validation < 1 && r->patience >= 0 && r->patience <= NNM_MAX_EPOCHS &&
          r->best_epoch >= 0 && r->best_epoch <= r->n_curve))
        REFUSE("values out of range: validation, patience or best epoch");
    int diverged = r->diverged_epoch != 0;
    if (diverged && (r->diverged_epoch < 0 || r->diverged_epoch > r->epochs || r->diverged_step < 0))
        REFUSE("values out of range: divergence");
    /* Metrics are probabilities and non-negative losses (anything else is damage, and would break the
     * report's formatting); a diverged run has none: NaN in all, and a run without a validation split
     * none on it. */
    int has_val = r->validation > 0 && !diverged;
    const double acc[] = {r->train_accuracy, r->test_accuracy, r->val_accuracy};
    const double loss[] = {r->train_loss, r->test_loss, r->val_loss};
    for (int i = 0; i < 3; i++) {
        int want = !diverged && (i < 2 || has_val);
        if (want ? !(acc[i] >= 0 && acc[i] <= 1 && loss[i] >= 0 && loss[i] < 1e30) : !(isnan(acc[i]) && isnan(loss[i])))
            REFUSE("values out of range: %s metrics", i == 0 ? "training" : i == 1 ? "test" : "validation");
    }
    /* Without early stopping a finished run has every epoch's figures. */
    if (!diverged && r->patience == 0 && r->n_curve != r->epochs) REFUSE("curves of %d epochs for %d", r->n_curve, r->epochs);
    int64_t total = 0, trace = 0;
    for (int i = 0; i < r->classes; i++)
        for (int j = 0; j < r->classes; j++) {
            int64_t c = r->confusion[i * r->classes + j];
            if (c < 0 || c > INT64_MAX - total) REFUSE("values out of range: confusion matrix");
            total += c;
            if (i == j) trace += c;
        }
    if (r->n_test_correct < 0 || (r->n_test_correct > 0) != (r->test_correct != NULL))
        REFUSE("values out of range: test predictions");
    if (r->test_correct) {
        /* The bits are the confusion matrix's test examples, one each, set where it counts them on
         * the diagonal; bits past the last example are clear. */
        int64_t set = 0, n = r->n_test_correct;
        for (int64_t i = 0; i < (n + 7) / 8; i++)
            for (int b = 0; b < 8; b++) set += r->test_correct[i] >> b & 1;
        int pad = (int)(n % 8);
        if (diverged || n != total || set != trace || (pad && r->test_correct[n / 8] >> pad))
            REFUSE("test predictions (%" PRId64 " examples, %" PRId64 " right) disagree with the confusion matrix "
                   "(%" PRId64 ", %" PRId64 ")", n, set, total, trace);
    }
    return 0;
#undef REFUSE
}

void nnm_record_path(const char *out_dir, const char *run_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/runs/%s.json", out_dir, run_id);
}

static void legacy_path(const char *out_dir, const char *run_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/runs/%s.rec", out_dir, run_id);
}

int nnm_record_find(const char *out_dir, const char *run_id, char *buf, size_t len)
{
    nnm_record_path(out_dir, run_id, buf, len);
    if (nnm_file_exists(buf)) return 1;
    legacy_path(out_dir, run_id, buf, len);
    if (nnm_file_exists(buf)) return 1;
    nnm_record_path(out_dir, run_id, buf, len);
    return 0;
}

int nnm_record_save(const nnm_record *r, const char *out_dir, char *err, size_t errlen)
{
    char dir[NNM_PATH_MAX], path[NNM_PATH_MAX], why[256];
    /* What load would refuse is never written. */
    if (nnm_record_check(r, why, sizeof why) != 0) {
        snprintf(err, errlen, "record %s: %s", r->run_id, why);
        return -1;
    }
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
    /* The run's older text record is superseded. Should removing it fail, or a crash undo it, the
     * .json still wins (nnm_record_find, nnm_record_load_dir). */
    if (rc == 0) {
        legacy_path(out_dir, r->run_id, path, sizeof path);
        unlink(path);
    }
    return rc;
}

/* The whole file, NUL-terminated, if it is a regular file of at most NNM_RECORD_MAX_TEXT bytes
 * without a NUL: O_NONBLOCK, so that a FIFO in its place cannot block the open, and the size from
 * fstat, checked before anything is allocated. */
static char *read_record_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
    } else if (st.st_size > (off_t)NNM_RECORD_MAX_TEXT) {
        snprintf(err, errlen, "%s: larger than %u MiB, not a record", path, NNM_RECORD_MAX_TEXT >> 20);
    } else if (!(text = malloc((size_t)st.st_size + 1))) {
        snprintf(err, errlen, "%s: out of memory", path);
    } else {
        /* One byte more than fstat said, to see a file that grew meanwhile. */
        size_t want = (size_t)st.st_size + 1, n = 0;
        ssize_t got = 0;
        while (n < want && (got = read(fd, text + n, want - n)) != 0) {
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) break;
            n += (size_t)got;
        }
        if (got < 0 || n != (size_t)st.st_size) {
            snprintf(err, errlen, "cannot read %s%s%s", path, got < 0 ? ": " : " (it changed while read)",
                     got < 0 ? strerror(errno) : "");
            free(text);
            text = NULL;
        } else {
            text[n] = '\0';
            if (strlen(text) != n) {
                snprintf(err, errlen, "%s: holds a NUL byte, not a record", path);
                free(text);
                text = NULL;
            }
        }
    }
    close(fd);
    return text;
}

int nnm_record_load(nnm_record *r, const char *path, char *err, size_t errlen)
{
    char inner[256];
    nnm_record_init(r);
    char *text = read_record_file(path, err, errlen);
    if (!text) return -1;
    int rc = nnm_record_parse(r, text, inner, sizeof inner);
    free(text);
    if (rc != 0) snprintf(err, errlen, "%s: %s", path, inner);
    return rc;
}

/* Whether a file name in runs/ is a record: its run id in id, and 1 for .json, 2 for .rec; 0
 * otherwise (temporaries and other files). */
static int record_name(const char *name, char *id, size_t idlen)
{
    size_t len = strlen(name);
    int kind = 0;
    size_t ext = 0;
    if (len > 5 && !strcmp(name + len - 5, ".json")) kind = 1, ext = 5;
    else if (len > 4 && !strcmp(name + len - 4, ".rec")) kind = 2, ext = 4;
    if (!kind || name[0] == '.' || len - ext >= idlen) return 0;
    memcpy(id, name, len - ext);
    id[len - ext] = '\0';
    return kind;
}

int nnm_record_load_dir(const char *out_dir, const char *who, nnm_record **out, int *n, char *err, size_t errlen)
{
    char dir[NNM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/runs", out_dir);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "no run records in %s (run `nn-mnist grid` first)", dir);
        return -1;
    }
    int cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char id[sizeof (*out)->run_id], path[NNM_PATH_MAX + 256], why[1024];
        int kind = record_name(e->d_name, id, sizeof id);
        if (!kind) continue;
        if (kind == 2) {
            nnm_record_path(out_dir, id, path, sizeof path);
            if (nnm_file_exists(path)) continue; /* superseded by the run's .json */
        }
        if (*n == cap) {
            int bigger_cap = cap ? cap * 2 : 16;
            nnm_record *bigger = cap < INT_MAX / 2 ? realloc(*out, (size_t)bigger_cap * sizeof **out) : NULL;
            if (!bigger) {
                snprintf(err, errlen, "out of memory reading the records in %s", dir);
                rc = -1;
                break;
            }
            *out = bigger;
            cap = bigger_cap;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (nnm_record_load(&(*out)[*n], path, why, sizeof why) == 0) (*n)++;
        else fprintf(stderr, "%s: skipping %s\n", who, why);
    }
    closedir(d);
    if (rc != 0) {
        for (int i = 0; i < *n; i++) nnm_record_free(&(*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
