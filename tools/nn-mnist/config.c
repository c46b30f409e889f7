#include "config.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#include "fonts.h"
#include "pieces.h"
#include "reject.h"

void nnm_config_defaults(nnm_config *c)
{
    memset(c, 0, sizeof *c);
    const char *acts[] = {"relu", "sigmoid", "tanh"}, *opts[] = {"sgd", "adam", "rmsprop"};
    for (int i = 0; i < 3; i++) {
        snprintf(c->activations[i], NNM_MAX_NAME, "%s", acts[i]);
        snprintf(c->optimizers[i], NNM_MAX_NAME, "%s", opts[i]);
    }
    c->n_activations = c->n_optimizers = 3;
    c->hidden[0] = 128;
    c->n_hidden = 1;
    c->epochs = 10;
    c->batch_size = 32;
    c->seed = 42;
    c->dataset = "mnist";
    c->out_dir = "results";
    c->models_dir = "models";
    c->threads = 1;
    c->jobs = 0; /* the number of cores, decided at run time */
}

/* Splits "a,b,c" into at most NNM_MAX_LIST items. */
static int split_list(const char *arg, char out[][NNM_MAX_NAME], int *n, const char *what, char *err, size_t errlen)
{
    *n = 0;
    const char *p = arg;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= NNM_MAX_NAME) {
            snprintf(err, errlen, "%s: '%s' is not a comma-separated list of names", what, arg);
            return -1;
        }
        if (*n >= NNM_MAX_LIST) {
            snprintf(err, errlen, "%s: at most %d names", what, NNM_MAX_LIST);
            return -1;
        }
        memcpy(out[*n], p, len);
        out[*n][len] = '\0';
        (*n)++;
        if (!comma) return 0;
        p = comma + 1;
    }
}

/* The spelling a name is kept under: libnn's names are lowercase ASCII, and a parameter after a colon
 * ("leaky_relu:.20") is written as its float's shortest round trip ("leaky_relu:0.2"). One spelling
 * per meaning keeps a rerun on the same model files and records, and a report to one row per run. */
static int normalise_name(char name[NNM_MAX_NAME], const char *what, char *err, size_t errlen)
{
    char given[NNM_MAX_NAME];
    snprintf(given, sizeof given, "%s", name);
    for (char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    char *colon = strchr(name, ':');
    if (!colon || !colon[1]) return 0;
    char *end;
    errno = 0;
    float v = strtof(colon + 1, &end);
    /* Anything that is not a plain finite number is left for libnn to refuse with its own words. */
    if (*end || errno || !isfinite(v)) return 0;
    char num[32];
    nnm_format_float(num, sizeof num, v);
    size_t head = (size_t)(colon - name) + 1;
    if (head + strlen(num) >= NNM_MAX_NAME) {
        snprintf(err, errlen, "%s: '%s' is too long", what, given);
        return -1;
    }
    memcpy(colon + 1, num, strlen(num) + 1);
    return 0;
}

int nnm_parse_names(const char *arg, char out[][NNM_MAX_NAME], int *n, const char *what, char *err, size_t errlen)
{
    char given[NNM_MAX_LIST][NNM_MAX_NAME];
    if (split_list(arg, given, n, what, err, errlen) != 0) return -1;
    for (int i = 0; i < *n; i++) {
        memcpy(out[i], given[i], NNM_MAX_NAME);
        if (normalise_name(out[i], what, err, errlen) != 0) return -1;
        for (int j = 0; j < i; j++)
            if (strcmp(out[j], out[i]) == 0) {
                if (strcmp(given[j], given[i]) == 0)
                    snprintf(err, errlen, "%s: '%s' is listed twice", what, given[i]);
                else
                    snprintf(err, errlen, "%s: '%s' and '%s' are the same name ('%s'; case does not count)", what,
                             given[j], given[i], out[i]);
                return -1;
            }
    }
    return 0;
}

int nnm_parse_int(const char *arg, int64_t lo, int64_t hi, int64_t *out, const char *what, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        snprintf(err, errlen, "%s must be a whole number from %" PRId64 " to %" PRId64 ", got '%s'", what, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

void nnm_format_float(char *buf, size_t len, float f)
{
    /* 9 significant digits always round-trip a float; fewer usually do. */
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, len, "%.*g", digits, (double)f);
        if ((float)strtod(buf, NULL) == f) return;
    }
}

int nnm_parse_rate(const char *arg, float *out, const char *what, char *err, size_t errlen)
{
    char *end;
    double r = strtod(arg, &end);
    float f = (float)r;
    /* The comparisons are on the float that training uses: 0.99999999 rounds to 1.0f. */
    if (end == arg || *end || !(r >= 0) || !(f < 1) || (r > 0 && !(f >= FLT_MIN))) {
        snprintf(err, errlen,
                 "%s must be a number from 0 to less than 1 (a fraction of the units to drop), got '%s'", what,
                 arg);
        return -1;
    }
    *out = f;
    return 0;
}

int nnm_parse_sizes(const char *arg, int64_t *out, int *n, char *err, size_t errlen)
{
    char names[NNM_MAX_LIST][NNM_MAX_NAME];
    int count;
    /* Two layers of one size are an ordinary network (128,128): sizes may repeat, names may not. */
    if (split_list(arg, names, &count, "--hidden", err, errlen) != 0) return -1;
    if (count > NNM_MAX_HIDDEN) {
        snprintf(err, errlen, "--hidden: at most %d hidden layers", NNM_MAX_HIDDEN);
        return -1;
    }
    for (int i = 0; i < count; i++)
        if (nnm_parse_int(names[i], 1, 65536, &out[i], "--hidden sizes", err, errlen) != 0) return -1;
    *n = count;
    return 0;
}

int nnm_config_validate(const nnm_config *c, char *err, size_t errlen)
{
    nn_activation acts[NNM_MAX_LIST];
    for (int i = 0; i < c->n_activations; i++) {
        if (nn_activation_from_name(&acts[i], c->activations[i]) != NN_OK) {
            snprintf(err, errlen, "--activations: %s", nn_last_error());
            return -1;
        }
        /* Two spellings of one function (swish and silu; leaky_relu and leaky_relu:0.2) would train
         * the same network twice under two names. */
        for (int j = 0; j < i; j++)
            if (acts[j].kind == acts[i].kind && acts[j].alpha == acts[i].alpha) {
                snprintf(err, errlen, "--activations: '%s' and '%s' are the same activation; list it once",
                         c->activations[j], c->activations[i]);
                return -1;
            }
    }
    int kinds[NNM_MAX_LIST];
    for (int i = 0; i < c->n_optimizers; i++) {
        nn_optimizer *o;
        if (nn_optimizer_create_from_name(&o, c->optimizers[i], c->lr) != NN_OK) {
            snprintf(err, errlen, "--optimizers: %s", nn_last_error());
            return -1;
        }
        kinds[i] = (int)nn_optimizer_get_kind(o);
        nn_optimizer_free(o);
        for (int j = 0; j < i; j++)
            if (kinds[j] == kinds[i]) {
                snprintf(err, errlen, "--optimizers: '%s' and '%s' are the same optimizer; list it once",
                         c->optimizers[j], c->optimizers[i]);
                return -1;
            }
    }
    if (strcmp(c->dataset, "mnist") != 0 && strcmp(c->dataset, "fashion-mnist") != 0) {
        snprintf(err, errlen, "--dataset: unknown dataset '%s' (accepted: mnist, fashion-mnist)", c->dataset);
        return -1;
    }
    if (c->epochs < 1 || c->batch_size < 1 || c->threads < 1 || c->jobs < 0) {
        snprintf(err, errlen, "epochs, batch size, threads and jobs must be positive");
        return -1;
    }
    if (!(c->reject >= 0 && c->reject <= NNM_REJECT_MAX)) {
        snprintf(err, errlen, "--reject must be from 0 to %g, got %g", NNM_REJECT_MAX, (double)c->reject);
        return -1;
    }
    if (!(c->fonts >= 0 && c->fonts <= NNM_FONTS_MAX)) {
        snprintf(err, errlen, "--fonts must be from 0 to %g, got %g", NNM_FONTS_MAX, (double)c->fonts);
        return -1;
    }
    if (!(c->pieces >= 0 && c->pieces <= NNM_PIECES_MAX)) {
        snprintf(err, errlen, "--pieces must be from 0 to %g, got %g", NNM_PIECES_MAX, (double)c->pieces);
        return -1;
    }
    if (c->pieces > 0 && !(c->reject > 0)) {
        snprintf(err, errlen, "--pieces teaches the pieces that are not one digit as --reject's 11th class: "
                              "use it with --reject, or --no-pieces");
        return -1;
    }
    if (!(c->letters >= 0 && c->letters <= NNM_LETTERS_MAX)) {
        snprintf(err, errlen, "--letters must be from 0 to %g, got %g", NNM_LETTERS_MAX, (double)c->letters);
        return -1;
    }
    if (c->letters > 0 && !(c->reject > 0)) {
        snprintf(err, errlen,
                 "--letters teaches text as a 12th class after --reject's 11th: use it with "
                 "--reject, or --no-letters");
        return -1;
    }
    /* train --reject's "not one digit", and --letters' text */
    const int classes = NNM_CLASSES + (c->reject > 0) + (c->letters > 0);
    /* Both datasets are 28 x 28 images of 10 classes (datasets.h checks the files), so the size of
     * the network is known before the data are loaded: refuse one that cannot be trained now, not
     * after minutes of downloading, or with an allocation failure half-way through a grid. */
    if (!(c->dropout >= 0 && c->dropout < 1)) {
        snprintf(err, errlen, "--dropout must be from 0 to less than 1, got %g", (double)c->dropout);
        return -1;
    }
    if (c->arch.n > 0) {
        /* The network is built once here, so that a list whose shapes do not fit (a window larger
         * than its input, a dense layer on images) is refused before any data are loaded. The
         * activation changes no shape. */
        nn_model *m = NULL;
        if (nnm_arch_create(&m, &c->arch, NNM_IMAGE_ROWS, NNM_IMAGE_COLS, c->activations[0], classes, err,
                            errlen) != 0)
            return -1;
        int64_t params = nn_model_param_count(m);
        nn_model_free(m);
        if (params > NNM_MAX_PARAMS) {
            snprintf(err, errlen,
                     "--arch %s: the network has %" PRId64 " parameters, more than the %" PRId64
                     " nn-mnist trains (each takes 16 bytes or more while training)",
                     c->arch.text, params, (int64_t)NNM_MAX_PARAMS);
            return -1;
        }
        return 0;
    }
    int64_t params = 0, in = NNM_IMAGE_PIXELS;
    for (int i = 0; i <= c->n_hidden; i++) {
        int64_t out = i < c->n_hidden ? c->hidden[i] : classes;
        params += in * out + out; /* at most 8 layers of 65536 x 65536: no overflow */
        if (c->batchnorm && i < c->n_hidden) params += 2 * out; /* gamma and beta */
        in = out;
    }
    if (params > NNM_MAX_PARAMS) {
        char sizes[160] = "";
        size_t used = 0;
        for (int i = 0; i < c->n_hidden && used < sizeof sizes; i++)
            used += (size_t)snprintf(sizes + used, sizeof sizes - used, "%s%" PRId64, i ? "," : "", c->hidden[i]);
        snprintf(err, errlen,
                 "--hidden %s: the network has %" PRId64 " parameters (%d inputs, %d classes), more than the %"
                 PRId64 " nn-mnist trains (each takes 16 bytes or more while training)",
                 sizes, params, NNM_IMAGE_PIXELS, classes, (int64_t)NNM_MAX_PARAMS);
        return -1;
    }
    return 0;
}

const char *nnm_lr_schedule_name(int schedule) { return schedule == NNM_LR_COSINE ? "cosine" : "constant"; }

double nnm_lr_at(int schedule, double base, int64_t step, int64_t total)
{
    if (schedule != NNM_LR_COSINE || total <= 0) return base;
    return base * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)step / (double)total));
}

void nnm_config_settings_line(const nnm_config *c, const char *optimizer, const char *activation, int64_t n_train,
                              int64_t n_test, char *buf, size_t len)
{
    /* The network: "hidden=128" for the MLP, as before --arch existed, or the list's canonical
     * spelling ("arch=conv32x3,pool2,..."), so that a folder of MLP runs refuses a CNN grid and
     * the reverse, and two spellings of one network are one setting. */
    char hidden[NNM_MAX_ARCH_TEXT + 16] = "";
    size_t used = 0;
    if (c->arch.n > 0) snprintf(hidden, sizeof hidden, "arch=%s", c->arch.text);
    else used = (size_t)snprintf(hidden, sizeof hidden, "hidden=");
    for (int i = 0; c->arch.n == 0 && i < c->n_hidden && used < sizeof hidden; i++)
        used += (size_t)snprintf(hidden + used, sizeof hidden - used, "%s%" PRId64, i ? "," : "", c->hidden[i]);
    /* The regularisation settings appear only when used: a run without them keeps the line of the
     * nn-mnist before them, so that its records and checkpoints still match and resume. */
    char reg[256] = "", rate[32];
    size_t r = 0;
    nnm_format_float(rate, sizeof rate, c->dropout);
    if (c->dropout > 0) r += (size_t)snprintf(reg, sizeof reg, " dropout=%s", rate);
    if (c->batchnorm) r += (size_t)snprintf(reg + r, sizeof reg - r, " batchnorm=1");
    /* Likewise --augment and --lr-schedule, only when used. */
    if (c->augment && r < sizeof reg) r += (size_t)snprintf(reg + r, sizeof reg - r, " augment=%d", c->augment);
    nnm_format_float(rate, sizeof rate, c->reject);
    if (c->reject > 0 && r < sizeof reg) r += (size_t)snprintf(reg + r, sizeof reg - r, " reject=%s", rate);
    nnm_format_float(rate, sizeof rate, c->fonts);
    if (c->fonts > 0 && r < sizeof reg) r += (size_t)snprintf(reg + r, sizeof reg - r, " fonts=%s", rate);
    nnm_format_float(rate, sizeof rate, c->pieces);
    if (c->pieces > 0 && r < sizeof reg) r += (size_t)snprintf(reg + r, sizeof reg - r, " pieces=%s", rate);
    nnm_format_float(rate, sizeof rate, c->letters);
    if (c->letters > 0 && r < sizeof reg) r += (size_t)snprintf(reg + r, sizeof reg - r, " letters=%s", rate);
    if (c->lr_schedule != NNM_LR_CONSTANT && r < sizeof reg)
        r += (size_t)snprintf(reg + r, sizeof reg - r, " lr_schedule=%s", nnm_lr_schedule_name(c->lr_schedule));
    /* And the protocol: the split decides which images train, the patience when training stops. */
    nnm_format_float(rate, sizeof rate, c->validation);
    if (c->validation > 0 && r < sizeof reg)
        r += (size_t)snprintf(reg + r, sizeof reg - r, " validation=%s split_seed=%" PRIu64, rate, c->split_seed);
    if (c->patience > 0 && r < sizeof reg) snprintf(reg + r, sizeof reg - r, " patience=%d", c->patience);
    /* lr is printed with %.9g and dropout as its shortest round trip: every float has one spelling. */
    snprintf(buf, len,
             "dataset=%s optimizer=%s activation=%s %s epochs=%d batch=%" PRId64 " lr=%.9g seed=%" PRIu64
             " train=%" PRId64 " test=%" PRId64 " blas_threads=%d libnn=%s%s",
             c->dataset, optimizer, activation, hidden, c->epochs, c->batch_size, (double)c->lr, c->seed, n_train,
             n_test, c->threads, nn_version(), reg);
}

void nnm_settings_without(const char *line, const char *const *keys, int n_keys, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = line; *p;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        int drop = 0;
        for (int k = 0; k < n_keys && !drop; k++) drop = len >= strlen(keys[k]) && !strncmp(p, keys[k], strlen(keys[k]));
        if (!drop && used + len + 2 < cap) {
            if (used) out[used++] = ' ';
            memcpy(out + used, p, len);
            used += len;
            out[used] = '\0';
        }
        p += len;
        while (*p == ' ') p++;
    }
}
