#define _POSIX_C_SOURCE 200809L
#include "grid.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "augment.h"
#include "datasets.h"
#include "fsutil.h"
#include "mpi_grid.h"
#include "report.h"
#include "tmpname.h"

/* Set by the signal handler and by a failing worker, read by every thread: a lock-free atomic is
 * safe in both places (a volatile sig_atomic_t is not, between threads). */
static atomic_int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, 1);
}

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

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: nn-mnist grid [options]\n\n"
            "Train a network (an MLP unless --arch says otherwise) for every optimizer x activation pair\n"
            "on MNIST, save each model, and write results.csv, results.png, results_heatmap.png,\n"
            "confusion_matrix.png and curves.png. Rerunning the same command resumes: finished runs are\n"
            "skipped, interrupted ones continue from their last checkpoint.\n\n"
            "  --activations LIST  hidden activations [relu,sigmoid,tanh]; any of:\n");
    print_accepted_names(f, 1);
    fprintf(f, "  --optimizers LIST   optimizers [sgd,adam,rmsprop]; any of:\n");
    print_accepted_names(f, 0);
    fprintf(f,
            "  --arch ARCH         the network [mlp]: mlp (784-hidden-10, the options below), cnn (Keras'\n"
            "                      MNIST convnet: " NNM_ARCH_CNN "),\n"
            "                      or a comma-separated list of layers on 28x28x1 images, to which a\n"
            "                      dense 10 output layer is added:\n"
            "                        convFxK[xK2][/S][same]  F filters K x K (x K2), stride S [1], valid\n"
            "                                                padding unless 'same'\n"
            "                        poolN[/S][same]         max pooling N x N, stride S [N]\n"
            "                        avgpoolN[/S][same]      average pooling\n"
            "                        gap                     global average pooling\n"
            "                        flatten, dropoutR, bn (batch norm), denseN (hidden dense)\n"
            "                      the grid's activation goes into conv and dense items (after the batch\n"
            "                      norm when bn follows one)\n"
            "  --hidden SIZES      mlp: hidden layer sizes, e.g. 256,128 [128]\n"
            "  --dropout RATE      mlp: dropout of RATE (0 to < 1) after each hidden layer [0: none]\n"
            "  --batchnorm         mlp: batch norm after each hidden dense layer, before its activation [off]\n"
            "  --epochs N          epochs per model [10; 12 with --arch other than mlp]\n"
            "  --batch-size N      examples per step [32; 128 with --arch other than mlp]\n"
            "  --lr RATE           learning rate for every optimizer [each optimizer's Keras default]\n"
            "  --lr-schedule NAME  constant, or cosine: from the rate down to 0 over the run, per step\n"
            "                      [constant]\n"
            "  --augment[=KIND]    transform every training image, drawn from the seed [off]: light (the\n"
            "                      default KIND) shifts by up to 2 pixels and rotates by up to 10 degrees;\n"
            "                      handwriting also scales (0.9 to 1.1), slants (shear up to 0.3) and\n"
            "                      thickens or thins the strokes\n"
            "  --seed N            seed of weights and shuffling [42]\n"
            "  --dataset NAME      mnist or fashion-mnist [mnist]\n"
            "  --data-dir DIR      folder holding the four IDX files [$NN_DATA_DIR/<dataset>, ./data/<dataset>]\n"
            "  --mirror URL        base URL to download MNIST from [$NN_MNIST_MIRROR, public mirrors]\n"
            "  --no-download       fail instead of downloading missing data\n"
            "  --out DIR           results folder [results]\n"
            "  --models DIR        models folder [models]\n"
            "  --jobs N            models trained at once [number of cores]\n"
            "  --threads N         BLAS threads per model [1]\n"
            "  --train-limit N     use only the first N training images [all]\n"
            "  --test-limit N      use only the first N test images [all]\n"
            "  --fresh             discard earlier runs of other settings instead of refusing\n"
            "  -q, --quiet         no progress output\n"
            "  -h, --help          this text\n");
}

int nnm_grid_runs(const nnm_config *c, nnm_run *runs, int cap)
{
    int n = 0;
    for (int o = 0; o < c->n_optimizers; o++)
        for (int a = 0; a < c->n_activations && n < cap; a++, n++) {
            snprintf(runs[n].optimizer, sizeof runs[n].optimizer, "%s", c->optimizers[o]);
            snprintf(runs[n].activation, sizeof runs[n].activation, "%s", c->activations[a]);
            snprintf(runs[n].id, sizeof runs[n].id, "%s_%s", c->optimizers[o], c->activations[a]);
        }
    return n;
}

int nnm_load_datasets(const nnm_config *c, nn_dataset **train, nn_dataset **test, char *err, size_t errlen)
{
    nnm_data_request req = {0};
    req.dataset = c->dataset;
    req.data_dir = c->data_dir;
    req.mirror = c->mirror;
    req.allow_download = !c->no_download;
    req.quiet = c->quiet;
    nnm_dataset_paths paths;
    *train = *test = NULL;
    if (nnm_find_dataset(&req, &paths, err, errlen) != 0) return -1;
    /* 28x28 images, labels 0..9, and the files really the named dataset's (datasets.h). */
    return nnm_load_dataset(&req, &paths, train, test, err, errlen);
}

int nnm_parse_run_options(int argc, char **argv, nnm_config *c, nnm_parse_mode mode, const char **save, char *err,
                          size_t errlen)
{
    enum { O_ACT = 256, O_OPT, O_HIDDEN, O_EPOCHS, O_BATCH, O_LR, O_SEED, O_DATASET, O_DATA_DIR, O_MIRROR,
           O_NO_DOWNLOAD, O_OUT, O_MODELS, O_JOBS, O_THREADS, O_TRAIN_LIMIT, O_TEST_LIMIT, O_FRESH, O_QUIET,
           O_DROPOUT, O_BATCHNORM, O_ARCH, O_AUGMENT, O_LR_SCHEDULE, O_SAVE, O_NO_AUGMENT };
    const int train = mode == NNM_PARSE_TRAIN;
    const char *cmd = train ? "train" : "grid";
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
            if (nnm_parse_names(optarg, c->activations, &c->n_activations, "--activations", err, errlen)) return -1;
            break;
        case O_OPT:
            if (nnm_parse_names(optarg, c->optimizers, &c->n_optimizers, "--optimizers", err, errlen)) return -1;
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
                snprintf(err, errlen, "--augment=%s: unknown kind (accepted: light, handwriting)", optarg);
                return -1;
            }
            break;
        case O_NO_AUGMENT:
            c->augment = 0;
            if (!train) other_cmd_only = "--no-augment";
            break;
        case O_SAVE:
            if (train) *save = optarg;
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
        /* Keras' MNIST convnet example trains 12 epochs of 128 images. */
        if (!epochs_given) c->epochs = 12;
        if (!batch_given) c->batch_size = 128;
    }
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

/* For each run: -1 still to do, or the record's index in done[] when a finished, valid record exists.
 * A record of the same run with other settings is a conflict, refused unless --fresh. */
static int check_existing(const nnm_config *c, const nnm_run *runs, int n, int64_t n_train, int64_t n_test,
                          int *state, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        char path[4096], settings[NNM_SETTINGS_MAX], why[1024];
        state[i] = -1;
        nnm_record_path(c->out_dir, runs[i].id, path, sizeof path);
        if (!nnm_file_exists(path)) continue;
        nnm_record r;
        nnm_config_settings_line(c, runs[i].optimizer, runs[i].activation, n_train, n_test, settings, sizeof settings);
        if (nnm_record_load(&r, path, why, sizeof why) != 0) {
            /* Records are renamed into place whole, so this is damage from outside: redo the run. */
            fprintf(stderr, "nn-mnist grid: %s; the run will be redone\n", why);
            unlink(path);
            continue;
        }
        int same = strcmp(r.settings, settings) == 0;
        /* The model must be in this command's --models folder, not only where the record says. */
        char model[4096];
        nnm_model_path(c, runs[i].id, model, sizeof model);
        nn_file_info *info = NULL;
        /* The loader's full check (weights, optimizer state), not only checksums: a model that
         * `eval` or a resume would refuse is a run to redo. */
        int model_ok = nn_file_info_read(&info, model) == NN_OK;
        nn_file_info_free(info);
        if (!same && !c->fresh) {
            snprintf(err, errlen,
                     "%s holds a finished run '%s' of other settings:\n  recorded: %s\n  now:      %s\n"
                     "Use another --out folder, or --fresh to discard the earlier runs.",
                     c->out_dir, runs[i].id, r.settings, settings);
            nnm_record_free(&r);
            return -1;
        }
        nnm_record_free(&r);
        if (same && model_ok) {
            state[i] = 1;
            /* A kill between the record and the checkpoint's removal leaves the checkpoint behind. */
            char ckpt[4096];
            nnm_checkpoint_path(c, runs[i].id, ckpt, sizeof ckpt);
            unlink(ckpt);
        } else {
            unlink(path); /* other settings with --fresh, or the model file is gone: redo */
        }
    }
    return 0;
}

typedef struct worker_ctx {
    const nnm_config *config;
    const nnm_run *runs;
    const int *state;
    int n;
    const nn_dataset *train, *test;
    nnm_progress *progress;
    pthread_mutex_t lock;
    int next;          /* the next run to hand out: dynamic assignment */
    int failed;
    char error[2048];
} worker_ctx;

typedef struct worker_arg {
    worker_ctx *ctx;
    int slot;
} worker_arg;

int nnm_grid_execute_run(const nnm_train_env *env, const nnm_run *run, char **record_text, char *err, size_t errlen)
{
    nnm_record rec;
    nnm_record_init(&rec);
    int rc = nnm_train_run(env, run, &rec, err, errlen);
    if (rc == NNM_TRAIN_DONE) {
        if (record_text) {
            *record_text = nnm_record_format(&rec);
            if (!*record_text) {
                snprintf(err, errlen, "out of memory");
                rc = NNM_TRAIN_FAILED;
            }
        } else if (nnm_record_save(&rec, env->config->out_dir, err, errlen) != 0) {
            rc = NNM_TRAIN_FAILED;
        }
        if (rc == NNM_TRAIN_DONE) {
            /* An MPI worker keeps its checkpoint until rank 0 has the record (see mpi_grid.c). */
            char ckpt[4096];
            nnm_checkpoint_path(env->config, run->id, ckpt, sizeof ckpt);
            if (!record_text) unlink(ckpt);
            if (rec.diverged_epoch > 0)
                nnm_progress_finished(env->progress, "%-16s diverged at epoch %d: recorded, not retried (%.1fs)",
                                      run->id, rec.diverged_epoch, rec.seconds);
            else
                nnm_progress_finished(env->progress, "%-16s done: test accuracy %.4f, train accuracy %.4f (%.1fs)",
                                      run->id, rec.test_accuracy, rec.train_accuracy, rec.seconds);
        }
    }
    nnm_record_free(&rec);
    return rc;
}

static void *worker(void *p)
{
    worker_arg *arg = p;
    worker_ctx *ctx = arg->ctx;
    nnm_train_env env = {ctx->config, ctx->train, ctx->test, ctx->progress, arg->slot, &stop_requested};
    for (;;) {
        pthread_mutex_lock(&ctx->lock);
        while (ctx->next < ctx->n && ctx->state[ctx->next] >= 0) ctx->next++;
        int i = ctx->failed || atomic_load(&stop_requested) ? ctx->n : ctx->next++;
        pthread_mutex_unlock(&ctx->lock);
        if (i >= ctx->n) break;
        char err[2048];
        int rc = nnm_grid_execute_run(&env, &ctx->runs[i], NULL, err, sizeof err);
        if (rc == NNM_TRAIN_FAILED) {
            pthread_mutex_lock(&ctx->lock);
            if (!ctx->failed) snprintf(ctx->error, sizeof ctx->error, "%s", err);
            ctx->failed = 1;
            pthread_mutex_unlock(&ctx->lock);
            atomic_store(&stop_requested, 1); /* the others checkpoint and stop: nothing finished is lost */
        }
    }
    return NULL;
}

static int prepare_folders(const nnm_config *c, char *err, size_t errlen)
{
    char runs[4096];
    snprintf(runs, sizeof runs, "%s/runs", c->out_dir);
    if (nnm_mkdirs(c->out_dir, err, errlen) || nnm_mkdirs(runs, err, errlen) || nnm_mkdirs(c->models_dir, err, errlen))
        return -1;
    if (nnm_check_writable(c->out_dir, err, errlen) || nnm_check_writable(runs, err, errlen) ||
        nnm_check_writable(c->models_dir, err, errlen))
        return -1;
    /* One lock per folder: a second flock on the same file from this process would conflict. */
    struct stat so, sm;
    int same = stat(c->out_dir, &so) == 0 && stat(c->models_dir, &sm) == 0 && so.st_dev == sm.st_dev &&
               so.st_ino == sm.st_ino;
    if (nnm_lock_folder(c->out_dir, err, errlen) || (!same && nnm_lock_folder(c->models_dir, err, errlen))) return -1;
    nnm_sweep_temporaries(c->out_dir);
    nnm_sweep_temporaries(runs);
    nnm_sweep_temporaries(c->models_dir);
    return 0;
}

int nnm_grid_report(const nnm_config *c, const nnm_run *runs, int n, double seconds)
{
    char err[2048];
    nnm_record *recs = calloc((size_t)n, sizeof *recs);
    int m = 0;
    for (int i = 0; recs && i < n; i++) {
        char path[4096];
        nnm_record_path(c->out_dir, runs[i].id, path, sizeof path);
        if (nnm_record_load(&recs[m], path, err, sizeof err) == 0) m++;
        else fprintf(stderr, "nn-mnist grid: %s\n", err);
    }
    int rc = 0;
    if (!recs || m < n) {
        fprintf(stderr, "nn-mnist grid: %d of %d runs %s no record\n", n - m, n, n - m == 1 ? "has" : "have");
        rc = 1;
    }
    nnm_report_sort(recs, m);
    if (m > 0 && nnm_report_write(c->out_dir, recs, m, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist grid: cannot write the report: %s\n", err);
        rc = 1;
    }
    if (m > 0) {
        /* Apart from the progress above it on a terminal; stdout itself starts with the table. */
        if (!c->quiet) fputc('\n', stderr);
        nnm_report_summary(stdout, recs, m);
    }
    int diverged = 0;
    for (int i = 0; i < m; i++) diverged += recs[i].diverged_epoch > 0;
    if (diverged && !c->quiet)
        fprintf(stderr, "\n%d of %d runs diverged (non-finite loss): their metrics are nan, marked in the results\n",
                diverged, m);
    if (!c->quiet)
        fprintf(stderr, "\n%d model%s in %.1f s; results in %s/, models in %s/\n", m, m == 1 ? "" : "s", seconds, c->out_dir,
                c->models_dir);
    for (int i = 0; i < m; i++) nnm_record_free(&recs[i]);
    free(recs);
    return rc;
}

int nnm_cmd_grid(int argc, char **argv)
{
    double t0 = nnm_now();
    nnm_config c;
    nnm_config_defaults(&c);
    char err[4096];
    int prc = nnm_parse_run_options(argc, argv, &c, NNM_PARSE_GRID, NULL, err, sizeof err);
    if (prc == 1) {
        usage(stdout);
        return 0;
    }
    if (prc != 0 || nnm_config_validate(&c, err, sizeof err) != 0) {
        if (err[0]) fprintf(stderr, "nn-mnist grid: %s\n", err); /* empty: getopt's message is out */
        return 2;
    }
    nnm_mpi mpi;
    if (nnm_mpi_init(&argc, &argv, &mpi) != 0) return 1;
    if (c.jobs == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        c.jobs = cores > 0 ? (int)cores : 1;
    }
    if (mpi.size > 1) c.jobs = 1; /* one model per rank; ranks are the parallelism */
    if (nn_runtime_set_blas_threads(c.threads) != NN_OK) {
        fprintf(stderr, "nn-mnist grid: --threads: %s\n", nn_last_error());
        nnm_mpi_finalize(&mpi);
        return 2;
    }
    nnm_run runs[NNM_MAX_LIST * NNM_MAX_LIST];
    int n = nnm_grid_runs(&c, runs, NNM_MAX_LIST * NNM_MAX_LIST);
    nn_dataset *train = NULL, *test = NULL;
    int rc = 1;
    int *state = calloc((size_t)n, sizeof *state);
    if (!state) goto out;
    /* Folders are checked before the data are loaded or fetched: a bad --out fails at once. Under
     * MPI every rank takes part in each check's verdict, so that all stop together. */
    int ok = mpi.rank == 0 ? prepare_folders(&c, err, sizeof err) == 0
                           : nnm_mkdirs(c.models_dir, err, sizeof err) == 0; /* folders may not be shared */
    if (!ok) fprintf(stderr, "nn-mnist grid: %s\n", err);
    if (!nnm_mpi_all_ok(&mpi, ok)) {
        rc = 2;
        goto out;
    }
    ok = nnm_load_datasets(&c, &train, &test, err, sizeof err) == 0;
    if (!ok) fprintf(stderr, "nn-mnist grid: %s\n", err);
    if (!nnm_mpi_all_ok(&mpi, ok)) goto out;
    int64_t n_train = c.train_limit && c.train_limit < nn_dataset_count(train) ? c.train_limit : nn_dataset_count(train);
    int64_t n_test = c.test_limit && c.test_limit < nn_dataset_count(test) ? c.test_limit : nn_dataset_count(test);
    if (c.batch_size > n_train) {
        if (mpi.rank == 0)
            fprintf(stderr, "nn-mnist grid: --batch-size %lld is larger than the %lld training images\n",
                    (long long)c.batch_size, (long long)n_train);
        rc = 2;
        goto out;
    }
    /* The plan tells `report` which records in the folder are this grid's runs. */
    ok = mpi.rank != 0 || (check_existing(&c, runs, n, n_train, n_test, state, err, sizeof err) == 0 &&
                           nnm_report_write_plan(&c, runs, n, n_train, n_test, err, sizeof err) == 0);
    if (!ok) fprintf(stderr, "nn-mnist grid: %s\n", err);
    if (!nnm_mpi_all_ok(&mpi, ok)) {
        rc = 2;
        goto out;
    }
    nnm_mpi_share_state(&mpi, state, n);
    /* Under MPI only rank 0 writes to the terminal, as plain lines (ranks' output interleaves). The
     * lines above the bars go through it too, so that they fit the terminal's width. */
    nnm_progress *progress = nnm_progress_create(mpi.size > 1 ? 2 : c.jobs, c.quiet, mpi.size > 1);
    if (!c.quiet && mpi.rank == 0) {
        int todo = 0;
        for (int i = 0; i < n; i++) todo += state[i] < 0;
        nnm_progress_study(progress, n, n - todo);
        nnm_progress_message(progress, "nn-mnist %s: %d model%s (%d to train), %lld training and %lld test images, %d job%s x %d BLAS thread%s%s",
                nn_version(), n, n == 1 ? "" : "s", todo, (long long)n_train, (long long)n_test, c.jobs, c.jobs > 1 ? "s" : "",
                c.threads, c.threads > 1 ? "s" : "", mpi.size > 1 ? "" : "");
        if (mpi.size > 1) nnm_progress_message(progress, "spread over %d MPI ranks", mpi.size);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int failed = 0;
    if (mpi.size > 1) {
        nnm_train_env env = {&c, train, test, progress, 0, &stop_requested};
        failed = nnm_mpi_run_grid(&mpi, &env, runs, n, state, err, sizeof err) != 0;
        if (failed && mpi.rank != 0) {
            /* Rank 0 reports the failure. */
            rc = 1;
            goto out;
        }
    } else {
        worker_ctx ctx = {.config = &c, .runs = runs, .state = state, .n = n, .train = train, .test = test,
                          .progress = progress};
        pthread_mutex_init(&ctx.lock, NULL);
        int jobs = c.jobs < n ? c.jobs : n;
        pthread_t th[1024];
        worker_arg args[1024];
        int started = 0;
        for (int j = 0; j < jobs; j++) {
            args[j].ctx = &ctx;
            args[j].slot = j;
            if (pthread_create(&th[j], NULL, worker, &args[j]) != 0) break;
            started++;
        }
        if (started == 0) worker(&args[0]);
        for (int j = 0; j < started; j++) pthread_join(th[j], NULL);
        pthread_mutex_destroy(&ctx.lock);
        failed = ctx.failed;
        if (failed) snprintf(err, sizeof err, "%s", ctx.error);
    }
    nnm_progress_free(progress);
    if (failed) {
        fprintf(stderr, "nn-mnist grid: %s\nFinished runs are kept; rerun the same command to continue.\n", err);
        goto out;
    }
    if (atomic_load(&stop_requested)) {
        if (mpi.rank == 0)
            fprintf(stderr, "\nnn-mnist grid: interrupted; finished runs and checkpoints are saved.\n"
                            "Run the same command again to resume where it stopped.\n");
        rc = 130;
        goto out;
    }
    rc = mpi.rank == 0 ? nnm_grid_report(&c, runs, n, nnm_now() - t0) : 0;
out:
    nn_dataset_free(train);
    nn_dataset_free(test);
    free(state);
    nnm_mpi_finalize(&mpi);
    return rc;
}
