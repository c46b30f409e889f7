#define _POSIX_C_SOURCE 200809L
#include "options.h"

#include <ctype.h>
#include <float.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#include "augment.h"
#include "fonts.h"
#include "pieces.h"
#include "reject.h"
#include "fsutil.h"

/* Lists, wrapped under the option column, the names the parser accepts, asked of the library itself
 * so that the help cannot fall behind it. */
static void print_accepted_names(FILE *f, int activations)
{
    char names[32][48];
    int n = 0;
    for (int k = 0; k < 32 && n < 32; k++) {
        if (activations) {
            const char *name = nn_activation_name((nn_activation_kind)k);
            if (!name) break;
            /* leaky_relu and elu, the kinds with a parameter, have a non-zero default for it. */
            nn_activation a = nn_activation_make((nn_activation_kind)k);
            if (a.alpha != 0.0f) snprintf(names[n++], sizeof names[0], "%s[:ALPHA] (default %g)", name, (double)a.alpha);
            else snprintf(names[n++], sizeof names[0], "%s", name);
            nn_activation swish;
            if (k == NN_ACT_SILU && nn_activation_from_name(&swish, "swish") == NN_OK && swish.kind == NN_ACT_SILU)
                snprintf(names[n - 1], sizeof names[0], "%s (or swish)", name);
        } else {
            const char *name = nn_optimizer_kind_name((nn_optimizer_kind)k);
            if (!name) break;
            snprintf(names[n++], sizeof names[0], "%s", name);
        }
    }
    const int indent = 22, width = 100;
    int col = fprintf(f, "%*s", indent, "");
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(names[i]) + (i + 1 < n ? 1 : 0);
        if (i > 0 && col + 1 + len > width) col = fprintf(f, "\n%*s", indent, "") - 1;
        else if (i > 0) col += fprintf(f, " ");
        col += fprintf(f, "%s%s", names[i], i + 1 < n ? "," : "");
    }
    fprintf(f, "\n");
}

/* --activations all / --optimizers all: every one libnn has, in its order, with default parameters. */
static void all_names(char out[][NNM_MAX_NAME], int *n, int activations)
{
    *n = 0;
    for (int k = 0; k < 64 && *n < NNM_MAX_LIST; k++) {
        const char *name = activations ? nn_activation_name((nn_activation_kind)k)
                                       : nn_optimizer_kind_name((nn_optimizer_kind)k);
        if (!name) break;
        snprintf(out[(*n)++], NNM_MAX_NAME, "%s", name);
    }
}

static int ascending(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "a,b,c", or for rates also "MIN:MAX:N" (N rates evenly spaced in log scale, each rounded to two
 * significant digits, so that ids and tables stay readable: 1e-4:1:9 is 0.0001, 0.00032, 0.001, ...).
 * Rates are in (0, 100], batch sizes whole numbers from 1 to 2^20; sorted, no repeats. */
static int parse_values(const char *arg, double *out, int *n, int rates, const char *what, char *err, size_t errlen)
{
    *n = 0;
    double lo, hi;
    int count, used = 0;
    if (rates && sscanf(arg, "%lf:%lf:%d%n", &lo, &hi, &count, &used) == 3 && !arg[used]) {
        if (!(lo > 0 && hi > lo && hi <= 100) || count < 2 || count > NNM_MAX_SWEEP) {
            snprintf(err, errlen, "%s MIN:MAX:N needs 0 < MIN < MAX <= 100 and 2 <= N <= %d, got '%s'", what,
                     NNM_MAX_SWEEP, arg);
            return -1;
        }
        for (int i = 0; i < count; i++) {
            char text[32];
            snprintf(text, sizeof text, "%.2g", exp(log(lo) + (log(hi) - log(lo)) * i / (count - 1)));
            out[(*n)++] = strtod(text, NULL);
        }
    } else {
        for (const char *p = arg; *p;) {
            char *end;
            double v = strtod(p, &end);
            int ok = end != p && (*end == ',' || !*end) && *n < NNM_MAX_SWEEP &&
                     (rates ? v > 0 && v <= 100 && (float)v >= FLT_MIN : v >= 1 && v <= (1 << 20) && v == floor(v));
            if (!ok) {
                snprintf(err, errlen, "%s: '%s' is not a list of %s (at most %d)", what, arg,
                         rates ? "rates from 0 to 100, or MIN:MAX:N" : "batch sizes from 1 to 1048576", NNM_MAX_SWEEP);
                return -1;
            }
            out[(*n)++] = v;
            p = *end ? end + 1 : end;
        }
    }
    qsort(out, (size_t)*n, sizeof *out, ascending);
    for (int i = 1; i < *n; i++)
        if (out[i] == out[i - 1] || (rates && (float)out[i] == (float)out[i - 1])) {
            snprintf(err, errlen, "%s: %g is listed twice", what, out[i]);
            return -1;
        }
    if (*n == 0) {
        snprintf(err, errlen, "%s is empty", what);
        return -1;
    }
    return 0;
}

/* --reject's, --fonts', --pieces' and --letters' SHARE of the training images, from 0 to max. */
static int parse_share(const char *arg, double max, const char *what, float *out, char *err, size_t errlen)
{
    char *end;
    double share = strtod(arg, &end);
    if (end == arg || *end || !(share >= 0 && share <= max)) {
        snprintf(err, errlen, "%s must be a share of the training images from 0 to %g, got '%s'", what, max, arg);
        return -1;
    }
    *out = (float)share;
    return 0;
}

/* --seeds N (seeds --seed, --seed + 1, ...) or --seeds a,b,c. */
static int parse_seeds(const char *arg, nnm_config *c, char *err, size_t errlen)
{
    int64_t v;
    if (!strchr(arg, ',')) {
        if (nnm_parse_int(arg, 1, NNM_MAX_SEEDS, &v, "--seeds", err, errlen)) return -1;
        if (c->seed > UINT64_MAX - (uint64_t)v) {
            snprintf(err, errlen, "--seeds %s from --seed %" PRIu64 " runs past the largest seed", arg, c->seed);
            return -1;
        }
        c->n_seeds = (int)v;
        for (int i = 0; i < c->n_seeds; i++) c->seeds[i] = c->seed + (uint64_t)i;
        return 0;
    }
    c->n_seeds = 0;
    for (const char *p = arg; *p;) {
        char *end;
        if (!isdigit((unsigned char)*p) || c->n_seeds >= NNM_MAX_SEEDS) {
            snprintf(err, errlen, "--seeds: '%s' is not a count or a list of at most %d seeds", arg, NNM_MAX_SEEDS);
            return -1;
        }
        uint64_t s = strtoull(p, &end, 10);
        if ((*end != ',' && *end) || (*end == ',' && !end[1])) {
            snprintf(err, errlen, "--seeds: '%s' is not a list of whole numbers", arg);
            return -1;
        }
        for (int i = 0; i < c->n_seeds; i++)
            if (c->seeds[i] == s) {
                snprintf(err, errlen, "--seeds: %" PRIu64 " is listed twice", s);
                return -1;
            }
        c->seeds[c->n_seeds++] = s;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* The fields of one CSV line (no quoting: the tables nn-mnist writes have none), at most cap. */
static int csv_fields(char *line, char **f, int cap)
{
    int n = 0;
    line[strcspn(line, "\r")] = '\0';
    for (char *p = line; n < cap;) {
        f[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

int nnm_load_tuned_lr(nnm_config *c, const char *path, char *err, size_t errlen)
{
    char why[512];
    char *text = nnm_read_file(path, NULL, why, sizeof why);
    if (!text) {
        snprintf(err, errlen, "the tuned rates: %s%s", why,
                 c->lr_from && strcmp(c->lr_from, path) == 0 ? "" : " (run `nn-mnist tune` first, with the same --out)");
        return -1;
    }
    /* The columns are found by their names, so that tuned_lr.csv and tuned_batch.csv (whose rate is
     * its fourth column, after the batch size) both read right, and any other table is refused. */
    char opt[64][NNM_MAX_NAME], act[64][NNM_MAX_NAME];
    double lr[64];
    int rows = 0, line_no = 0, co = -1, ca = -1, cr = -1, cb = -1, rc = -1;
    for (char *line = text, *next; line && *line && rows < 64; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *f[16];
        int nf = csv_fields(line, f, 16);
        if (line_no++ == 0) {
            for (int k = 0; k < nf; k++) {
                if (!strcmp(f[k], "Optimizer")) co = k;
                if (!strcmp(f[k], "Activation")) ca = k;
                if (!strcmp(f[k], "Learning Rate")) cr = k;
                if (!strcmp(f[k], "Batch Size")) cb = k;
            }
            if (co < 0 || ca < 0 || cr < 0) {
                snprintf(err, errlen, "%s: not a table of tuned rates (its header has no Optimizer, Activation and "
                                      "Learning Rate columns; tune writes one as tuned_lr.csv)", path);
                goto done;
            }
            if (cb >= 0) {
                /* The rates of a batch sweep belong with its batch sizes. */
                snprintf(err, errlen, "%s is a table of batch sizes: give --lr-from a tuned_lr.csv", path);
                goto done;
            }
            continue;
        }
        char *end = NULL;
        double v = nf > cr ? strtod(f[cr], &end) : 0;
        if (nf <= co || nf <= ca || nf <= cr || end == f[cr] || *end || !(v > 0 && v <= 100) ||
            strlen(f[co]) >= NNM_MAX_NAME || strlen(f[ca]) >= NNM_MAX_NAME) {
            snprintf(err, errlen, "%s:%d: not a row of Optimizer,Activation,Learning Rate", path, line_no);
            goto done;
        }
        snprintf(opt[rows], NNM_MAX_NAME, "%s", f[co]);
        snprintf(act[rows], NNM_MAX_NAME, "%s", f[ca]);
        lr[rows++] = v;
    }
    /* Each cell takes its own row; an optimizer tuned for one activation only lends that rate to the
     * others (tune --activations relu); one tuned for several but not this one is refused, since no
     * rate of theirs is this cell's. */
    for (int o = 0; o < c->n_optimizers; o++)
        for (int a = 0; a < c->n_activations; a++) {
            int exact = -1, any = -1, count = 0;
            for (int r = 0; r < rows; r++) {
                if (strcmp(opt[r], c->optimizers[o])) continue;
                any = r;
                count++;
                if (!strcmp(act[r], c->activations[a])) exact = r;
            }
            if (count == 0 || (exact < 0 && count > 1)) {
                snprintf(err, errlen, "%s has no rate for %s with %s (tune it, or leave it out)", path, c->optimizers[o],
                         count ? c->activations[a] : "any activation");
                goto done;
            }
            c->cell_lr[o][a] = (float)lr[exact >= 0 ? exact : any];
        }
    rc = 0;
done:
    free(text);
    return rc;
}

int nnm_parse_run_options(int argc, char **argv, nnm_config *c, nnm_parse_mode mode, nnm_cli_extra *extra, char *err,
                          size_t errlen)
{
    enum { O_ACT = 256, O_OPT, O_HIDDEN, O_EPOCHS, O_BATCH, O_LR, O_SEED, O_DATASET, O_DATA_DIR, O_MIRROR,
           O_NO_DOWNLOAD, O_OUT, O_MODELS, O_JOBS, O_THREADS, O_TRAIN_LIMIT, O_TEST_LIMIT, O_FRESH, O_QUIET,
           O_DROPOUT, O_BATCHNORM, O_ARCH, O_AUGMENT, O_LR_SCHEDULE, O_SAVE, O_NO_AUGMENT, O_VALIDATION,
           O_PATIENCE, O_SEEDS, O_SHARD, O_LR_FROM, O_LRS, O_BATCHES, O_SCALE_LR, O_REJECT, O_NO_REJECT, O_FONTS, O_NO_FONTS,
           O_PIECES, O_NO_PIECES, O_LETTERS, O_NO_LETTERS };
    const int train = mode == NNM_PARSE_TRAIN, tune = mode == NNM_PARSE_TUNE;
    const char *cmd = train ? "train" : tune ? "tune" : "grid";
    nnm_cli_extra unused;
    if (!extra) extra = &unused;
    memset(extra, 0, sizeof *extra);
    const char *seeds_arg = NULL, *lr_arg = NULL;
    static const struct option longopts[] = {
        {"activations", required_argument, NULL, O_ACT}, {"optimizers", required_argument, NULL, O_OPT},
        {"hidden", required_argument, NULL, O_HIDDEN},   {"epochs", required_argument, NULL, O_EPOCHS},
        {"batch-size", required_argument, NULL, O_BATCH}, {"lr", required_argument, NULL, O_LR},
        {"seed", required_argument, NULL, O_SEED},       {"dataset", required_argument, NULL, O_DATASET},
        {"data-dir", required_argument, NULL, O_DATA_DIR}, {"mirror", required_argument, NULL, O_MIRROR},
        {"no-download", no_argument, NULL, O_NO_DOWNLOAD}, {"out", required_argument, NULL, O_OUT},
        {"models", required_argument, NULL, O_MODELS},   {"jobs", required_argument, NULL, O_JOBS},
        {"threads", required_argument, NULL, O_THREADS}, {"train-limit", required_argument, NULL, O_TRAIN_LIMIT},
        {"test-limit", required_argument, NULL, O_TEST_LIMIT}, {"fresh", no_argument, NULL, O_FRESH},
        {"quiet", no_argument, NULL, O_QUIET},           {"help", no_argument, NULL, 'h'},
        {"dropout", required_argument, NULL, O_DROPOUT}, {"batchnorm", no_argument, NULL, O_BATCHNORM},
        {"arch", required_argument, NULL, O_ARCH},       {"augment", optional_argument, NULL, O_AUGMENT},
        {"lr-schedule", required_argument, NULL, O_LR_SCHEDULE},
        /* train's: one model, one name each, saved where asked */
        {"activation", required_argument, NULL, O_ACT}, {"optimizer", required_argument, NULL, O_OPT},
        {"save", required_argument, NULL, O_SAVE},       {"no-augment", no_argument, NULL, O_NO_AUGMENT},
        {"reject", required_argument, NULL, O_REJECT},   {"no-reject", no_argument, NULL, O_NO_REJECT},
        {"fonts", required_argument, NULL, O_FONTS},     {"no-fonts", no_argument, NULL, O_NO_FONTS},
        {"pieces", required_argument, NULL, O_PIECES},   {"no-pieces", no_argument, NULL, O_NO_PIECES},
        {"letters", required_argument, NULL, O_LETTERS}, {"no-letters", no_argument, NULL, O_NO_LETTERS},
        /* the protocol */
        {"validation", required_argument, NULL, O_VALIDATION}, {"patience", required_argument, NULL, O_PATIENCE},
        {"seeds", required_argument, NULL, O_SEEDS},     {"shard", required_argument, NULL, O_SHARD},
        {"lr-from", required_argument, NULL, O_LR_FROM},
        /* tune's */
        {"lrs", required_argument, NULL, O_LRS},         {"batch-sizes", required_argument, NULL, O_BATCHES},
        {"scale-lr", no_argument, NULL, O_SCALE_LR},
        {NULL, 0, NULL, 0}};
    /* Which options were given: the CNN's defaults differ, and the MLP's options do not apply to it. */
    int epochs_given = 0, batch_given = 0;
    const char *mlp_only = NULL, *other_cmd_only = NULL;
    int ch;
    int64_t v;
    optind = 1;
    /* getopt words its own errors (argv[0] is "nn-mnist COMMAND", main.c); err then stays empty */
    opterr = 1;
    while ((ch = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        switch (ch) {
        case O_ACT:
            if (!strcmp(optarg, "all") && !train) all_names(c->activations, &c->n_activations, 1);
            else if (nnm_parse_names(optarg, c->activations, &c->n_activations, "--activations", err, errlen)) return -1;
            break;
        case O_OPT:
            if (!strcmp(optarg, "all") && !train) all_names(c->optimizers, &c->n_optimizers, 0);
            else if (nnm_parse_names(optarg, c->optimizers, &c->n_optimizers, "--optimizers", err, errlen)) return -1;
            break;
        case O_VALIDATION: {
            char *end;
            double share = strtod(optarg, &end);
            if (end == optarg || *end || !(share >= 0 && share <= 0.9)) {
                snprintf(err, errlen, "--validation must be a share of the training set from 0 to 0.9, got '%s'",
                         optarg);
                return -1;
            }
            c->validation = (float)share;
            break;
        }
        case O_PATIENCE:
            if (nnm_parse_int(optarg, 1, NNM_MAX_GRID_EPOCHS, &v, "--patience", err, errlen)) return -1;
            c->patience = (int)v;
            break;
        case O_SEEDS:
            seeds_arg = optarg;
            if (train) other_cmd_only = "--seeds";
            break;
        case O_SHARD: {
            int k = 0, n = 0, used = 0;
            if (sscanf(optarg, "%d/%d%n", &k, &n, &used) != 2 || optarg[used] || n < 1 || n > 100000 || k < 1 ||
                k > n) {
                snprintf(err, errlen, "--shard must be K/N with 1 <= K <= N (the K-th of N slices), got '%s'", optarg);
                return -1;
            }
            c->shard_k = k;
            c->shard_n = n;
            if (train) other_cmd_only = "--shard";
            break;
        }
        case O_LR_FROM:
            c->lr_from = optarg;
            break;
        case O_LRS:
            if (parse_values(optarg, extra->lrs, &extra->n_lrs, 1, "--lrs", err, errlen)) return -1;
            if (!tune) other_cmd_only = "--lrs";
            break;
        case O_BATCHES:
            if (parse_values(optarg, extra->batches, &extra->n_batches, 0, "--batch-sizes", err, errlen)) return -1;
            if (!tune) other_cmd_only = "--batch-sizes";
            break;
        case O_SCALE_LR:
            extra->scale_lr = 1;
            if (!tune) other_cmd_only = "--scale-lr";
            break;
        case O_HIDDEN:
            if (nnm_parse_sizes(optarg, c->hidden, &c->n_hidden, err, errlen)) return -1;
            mlp_only = "--hidden";
            break;
        case O_EPOCHS:
            if (nnm_parse_int(optarg, 1, NNM_MAX_GRID_EPOCHS, &v, "--epochs", err, errlen)) return -1;
            c->epochs = (int)v;
            epochs_given = 1;
            break;
        case O_BATCH:
            if (nnm_parse_int(optarg, 1, 1 << 20, &v, "--batch-size", err, errlen)) return -1;
            c->batch_size = v;
            batch_given = 1;
            break;
        case O_ARCH:
            if (nnm_arch_parse(&c->arch, optarg, err, errlen)) return -1;
            break;
        case O_AUGMENT:
            c->augment = nnm_augment_parse(optarg);
            if (c->augment < 0) {
                snprintf(err, errlen, "--augment=%s: unknown kind (accepted: light, handwriting, scan)", optarg);
                return -1;
            }
            break;
        case O_NO_AUGMENT:
            c->augment = 0;
            if (!train) other_cmd_only = "--no-augment";
            break;
        case O_REJECT:
            if (parse_share(optarg, NNM_REJECT_MAX, "--reject", &c->reject, err, errlen) != 0) return -1;
            if (!train) other_cmd_only = "--reject";
            break;
        case O_NO_REJECT:
            c->reject = 0;
            if (!train) other_cmd_only = "--no-reject";
            break;
        case O_FONTS:
            if (parse_share(optarg, NNM_FONTS_MAX, "--fonts", &c->fonts, err, errlen) != 0) return -1;
            if (!train) other_cmd_only = "--fonts";
            break;
        case O_NO_FONTS:
            c->fonts = 0;
            if (!train) other_cmd_only = "--no-fonts";
            break;
        case O_PIECES:
            if (parse_share(optarg, NNM_PIECES_MAX, "--pieces", &c->pieces, err, errlen) != 0) return -1;
            if (!train) other_cmd_only = "--pieces";
            break;
        case O_NO_PIECES:
            c->pieces = 0;
            if (!train) other_cmd_only = "--no-pieces";
            break;
        case O_LETTERS:
            if (parse_share(optarg, NNM_LETTERS_MAX, "--letters", &c->letters, err, errlen) != 0) return -1;
            if (!train) other_cmd_only = "--letters";
            break;
        case O_NO_LETTERS:
            c->letters = 0;
            if (!train) other_cmd_only = "--no-letters";
            break;
        case O_SAVE:
            if (train) extra->save = optarg;
            else other_cmd_only = "--save";
            break;
        case O_LR_SCHEDULE:
            if (!strcmp(optarg, "constant")) c->lr_schedule = NNM_LR_CONSTANT;
            else if (!strcmp(optarg, "cosine")) c->lr_schedule = NNM_LR_COSINE;
            else {
                snprintf(err, errlen, "--lr-schedule: unknown schedule '%s' (accepted: constant, cosine)", optarg);
                return -1;
            }
            break;
        case O_LR: {
            if (!strcmp(optarg, "tuned")) {
                lr_arg = optarg; /* the file is in --out, which may come later */
                break;
            }
            /* The rate is a float32: one that rounds to 0 (1e-50), or to a subnormal that training's
             * flush-to-zero turns into 0, would silently mean "no rate", which here means the default. */
            char *end;
            double lr = strtod(optarg, &end);
            if (end == optarg || *end || !(lr > 0) || lr > 100 || !((float)lr >= FLT_MIN)) {
                snprintf(err, errlen, "--lr must be a number from %g (the smallest normal float) to 100, got '%s'",
                         (double)FLT_MIN, optarg);
                return -1;
            }
            c->lr = (float)lr;
            break;
        }
        case O_DROPOUT:
            if (nnm_parse_rate(optarg, &c->dropout, "--dropout", err, errlen)) return -1;
            mlp_only = "--dropout";
            break;
        case O_BATCHNORM:
            c->batchnorm = 1;
            mlp_only = "--batchnorm";
            break;
        case O_SEED:
            if (nnm_parse_int(optarg, 0, INT64_MAX, &v, "--seed", err, errlen)) return -1;
            c->seed = (uint64_t)v;
            break;
        case O_DATASET: c->dataset = optarg; break;
        case O_DATA_DIR: c->data_dir = optarg; break;
        case O_MIRROR: c->mirror = optarg; break;
        case O_NO_DOWNLOAD: c->no_download = 1; break;
        case O_OUT:
            c->out_dir = optarg;
            if (train) other_cmd_only = "--out";
            break;
        case O_MODELS:
            c->models_dir = optarg;
            if (train) other_cmd_only = "--models";
            break;
        case O_JOBS:
            if (nnm_parse_int(optarg, 1, 1024, &v, "--jobs", err, errlen)) return -1;
            c->jobs = (int)v;
            if (train) other_cmd_only = "--jobs";
            break;
        case O_THREADS:
            if (nnm_parse_int(optarg, 1, 1024, &v, "--threads", err, errlen)) return -1;
            c->threads = (int)v;
            break;
        case O_TRAIN_LIMIT:
            if (nnm_parse_int(optarg, 1, INT64_MAX, &v, "--train-limit", err, errlen)) return -1;
            c->train_limit = v;
            break;
        case O_TEST_LIMIT:
            if (nnm_parse_int(optarg, 1, INT64_MAX, &v, "--test-limit", err, errlen)) return -1;
            c->test_limit = v;
            break;
        case O_FRESH:
            c->fresh = 1;
            if (train) other_cmd_only = "--fresh";
            break;
        case O_QUIET:
        case 'q': c->quiet = 1; break;
        case 'h': return 1;
        default:
            fprintf(stderr, "Try '%s --help'.\n", argv[0]); /* report parses the grid's options too */
            err[0] = '\0';
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see nn-mnist %s --help)", argv[optind], cmd);
        return -1;
    }
    if (other_cmd_only) {
        snprintf(err, errlen, "%s is not an option of nn-mnist %s (see nn-mnist %s --help)", other_cmd_only, cmd, cmd);
        return -1;
    }
    if (seeds_arg && parse_seeds(seeds_arg, c, err, errlen) != 0) return -1;
    c->split_seed = c->seed;
    if (c->patience > 0 && !(c->validation > 0) && !tune) {
        snprintf(err, errlen, "--patience stops on the validation loss: give --validation too (e.g. --validation 0.1)");
        return -1;
    }
    char tuned[NNM_PATH_MAX];
    if (lr_arg) {
        if (c->lr_from) {
            snprintf(err, errlen, "--lr tuned and --lr-from both name the rates: give one");
            return -1;
        }
        snprintf(tuned, sizeof tuned, "%s/tuned_lr.csv", c->out_dir);
    }
    if (c->lr_from || lr_arg) {
        if (c->lr > 0) {
            snprintf(err, errlen, "--lr %g and the tuned rates both set the rate: give one", (double)c->lr);
            return -1;
        }
        /* lr_from stays NULL while tune's own file is read: a missing one then says to run tune. */
        if (nnm_load_tuned_lr(c, lr_arg ? tuned : c->lr_from, err, errlen) != 0) return -1;
        if (lr_arg) c->lr_from = "tuned"; /* tuned[] goes out of scope */
    }
    if (train && (c->n_activations != 1 || c->n_optimizers != 1)) {
        snprintf(err, errlen, "train makes one model: give one name to --activation and one to --optimizer");
        return -1;
    }
    if (c->arch.n > 0) {
        if (mlp_only) {
            snprintf(err, errlen, "%s shapes the mlp; with --arch %s, write the layers into the list instead "
                                  "(denseN, dropoutR, bn)", mlp_only, c->arch.text);
            return -1;
        }
        /* Keras' MNIST convnet example trains 12 epochs. The study keeps its batch of 32 (Keras'
         * own default), with which Adam at its defaults passes 99.2% (0.9923 over seeds 42 to 46;
         * 0.9916 with the example's 128: docs/study.md); train's recipe, which anneals the rate,
         * keeps the example's 128, and trains 20 epochs: its augmented and "not one digit" images
         * take longer to learn, and 20 read other writers' digits about a point better than 12
         * (bench-digits, two training seeds: docs/predict.md). */
        if (!epochs_given) c->epochs = train ? 20 : 12;
        if (!batch_given) c->batch_size = train ? 128 : 32;
    }
    /* tune compares rates after a few epochs: enough to rank them, a fraction of a grid's time. */
    if (tune && !epochs_given) c->epochs = 3;
    /* An empty name would become "/runs", "/<run>.nnm" or a silent fallback to the defaults. */
    const char *const given[] = {c->out_dir, c->models_dir, c->data_dir, c->mirror, c->dataset};
    const char *const names[] = {"--out", "--models", "--data-dir", "--mirror", "--dataset"};
    for (int i = 0; i < 5; i++)
        if (given[i] && !given[i][0]) {
            snprintf(err, errlen, "%s is empty; give a folder name (or leave the option out)", names[i]);
            return -1;
        }
    return 0;
}

void nnm_print_run_options(FILE *f, nnm_parse_mode mode)
{
    const int train = mode == NNM_PARSE_TRAIN;
    if (!train) {
        fprintf(f, "  --activations LIST  hidden activations [relu,sigmoid,tanh], or all; any of:\n");
        print_accepted_names(f, 1);
        fprintf(f, "  --optimizers LIST   optimizers [sgd,adam,rmsprop], or all; any of:\n");
        print_accepted_names(f, 0);
    }
    fprintf(f,
            "  --arch ARCH         the network [mlp]: mlp (784-hidden-10, the options below), cnn (Keras'\n"
            "                      MNIST convnet: " NNM_ARCH_CNN "),\n"
            "                      reader (nn-mnist train's: cnn with dense256 before dropout0.5),\n"
            "                      or a comma-separated list of layers on 28x28x1 images, to which a\n"
            "                      dense 10 output layer is added:\n"
            "                        convFxK[xK2][/S][same]  F filters K x K (x K2), stride S [1], valid\n"
            "                                                padding unless 'same'\n"
            "                        poolN[/S][same]         max pooling N x N, stride S [N]\n"
            "                        avgpoolN[/S][same]      average pooling\n"
            "                        gap                     global average pooling\n"
            "                        flatten, dropoutR, bn (batch norm), denseN (hidden dense)\n"
            "                      the activation goes into conv and dense items (after the batch\n"
            "                      norm when bn follows one)\n"
            "  --hidden SIZES      mlp: hidden layer sizes, e.g. 256,128 [128]\n"
            "  --dropout RATE      mlp: dropout of RATE (0 to < 1) after each hidden layer [0: none]\n"
            "  --batchnorm         mlp: batch norm after each hidden dense layer, before its activation [off]\n"
            "  --epochs N          epochs per model [%s]\n"
            "  --batch-size N      examples per step [32]\n"
            "  --lr RATE           learning rate for every optimizer [each optimizer's Keras default];\n"
            "                      tuned: the rates `nn-mnist tune` wrote to OUT/tuned_lr.csv\n"
            "  --lr-from FILE      the rates of a tuned_lr.csv, per optimizer and activation\n"
            "  --lr-schedule NAME  constant, or cosine: from the rate down to 0 over the run, per step\n"
            "                      [constant]\n"
            "  --augment[=KIND]    transform every training image, drawn from the seed [off]: light (the\n"
            "                      default KIND) shifts by up to 2 pixels and rotates by up to 10 degrees;\n"
            "                      handwriting also scales (0.9 to 1.1), slants (shear up to 0.3) and\n"
            "                      thickens or thins the strokes; scan also draws half the images as a\n"
            "                      scan would show them (1 to 3 times larger, faded pens, noise) and\n"
            "                      reads them back as nn-mnist predict does\n"
            "  --validation SHARE  hold out SHARE (0 to 0.9) of the training set, the same images from\n"
            "                      each class, drawn from --seed: the per-epoch curves, --patience and\n"
            "                      the choice of the best model use it, and the test set is evaluated\n"
            "                      once, at the end [%s]\n"
            "  --patience N        stop after N epochs without a lower validation loss, and keep the\n"
            "                      best epoch's weights [off]\n"
            "  --seed N            seed of weights and shuffling, and of the validation split [42]\n",
            train ? "20 for the default cnn; 10 for an mlp" : mode == NNM_PARSE_TUNE ? "3" : "10; 12 with --arch other than mlp",
            mode == NNM_PARSE_TUNE ? "0.1" : "0: none, the original study");
    if (!train)
        fprintf(f, "  --seeds N|LIST      train every cell once per seed: N seeds from --seed on, or a list\n"
                   "                      [one: --seed]; --validation 0.1 --seeds 5 is the protocol to draw\n"
                   "                      conclusions from (docs/study.md)\n"
                   "  --shard K/N         train only the K-th of N slices of the runs (1 <= K <= N), into\n"
                   "                      shared folders; `nn-mnist report` merges them\n");
    fprintf(f,
            "  --dataset NAME      mnist or fashion-mnist [mnist]\n"
            "  --data-dir DIR      folder holding the four IDX files [$NN_DATA_DIR/<dataset>, ./data/<dataset>]\n"
            "  --mirror URL        base URL to download MNIST from [$NN_MNIST_MIRROR, public mirrors]\n"
            "  --no-download       fail instead of downloading missing data\n");
}

void nnm_print_process_options(FILE *f)
{
    fprintf(f, "  --jobs N            models trained at once [number of cores]\n"
               "  --threads N         BLAS threads per model [1]\n"
               "  --train-limit N     use only the first N training images [all]\n"
               "  --test-limit N      use only the first N test images [all]\n"
               "  --fresh             discard earlier runs of other settings instead of refusing\n"
               "  -q, --quiet         no progress output\n"
               "  -h, --help          this text\n");
}
