#define _POSIX_C_SOURCE 200809L
#include "scheduler.h"

#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets.h"
#include "fsutil.h"
#include "mpi_grid.h"
#include "progress.h"
#include "record.h"

/* Set by the signal handler and by a failing worker, read by every thread: a lock-free atomic is
 * safe in both places (a volatile sig_atomic_t is not, between threads). */
static atomic_int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, 1);
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


typedef struct worker_ctx {
    const nnm_config *config;
    const nnm_run *runs;
    const int *state;
    const int *order;  /* run indices, costliest first (by_cost) */
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

int nnm_execute_run(const nnm_train_env *env, const nnm_run *run, char **record_text, char *err, size_t errlen)
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
            if (!record_text) nnm_run_cleanup(env->config, run->id);
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
    nnm_train_env env = {.config = ctx->config, .train = ctx->train, .test = ctx->test, .progress = ctx->progress,
                         .slot = arg->slot, .stop = &stop_requested};
    for (;;) {
        pthread_mutex_lock(&ctx->lock);
        while (ctx->next < ctx->n && ctx->state[ctx->order[ctx->next]] >= 0) ctx->next++;
        int i = ctx->failed || atomic_load(&stop_requested) || ctx->next >= ctx->n ? ctx->n : ctx->order[ctx->next++];
        pthread_mutex_unlock(&ctx->lock);
        if (i >= ctx->n) break;
        char err[2048];
        int rc = nnm_execute_run(&env, &ctx->runs[i], NULL, err, sizeof err);
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
    char runs[NNM_PATH_MAX];
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
    if (c->shard_n > 0) {
        /* Shards share the folders while they run: none may sweep another's live temporaries. */
        return nnm_lock_folder_shard(c->out_dir, c->shard_k, c->shard_n, err, errlen) ||
                       (!same && nnm_lock_folder_shard(c->models_dir, c->shard_k, c->shard_n, err, errlen))
                   ? -1
                   : 0;
    }
    if (nnm_lock_folder(c->out_dir, err, errlen) || (!same && nnm_lock_folder(c->models_dir, err, errlen))) return -1;
    nnm_sweep_temporaries(c->out_dir);
    nnm_sweep_temporaries(runs);
    nnm_sweep_temporaries(c->models_dir);
    return 0;
}


/* A run's relative cost per image: the layers' work, the same for every image, and the optimizer's
 * pass, once a step. At the study's batch of 32 an SGD run is 1 and an adaptive optimizer's (Adam,
 * RMSprop...) about 1.35 in a default grid on 2 threads (its runs' seconds, three grids), of which
 * their pass over the parameters is 0.1 and 0.45. */
static double run_cost(const nnm_config *c, const nnm_run *r)
{
    int64_t batch = r->batch_size > 0 ? r->batch_size : c->batch_size;
    double pass = strcmp(r->optimizer, "sgd") == 0 ? 0.1 : 0.45;
    return 0.9 + pass * 32.0 / (double)(batch > 0 ? batch : 1);
}

/* When the last of `threads` threads finishes, each taking the next run of order as it frees. */
static double makespan(const double *cost, const int *order, int n, int threads, double *free_at)
{
    for (int t = 0; t < threads; t++) free_at[t] = 0;
    double end = 0;
    for (int i = 0; i < n; i++) {
        int t = 0;
        for (int u = 1; u < threads; u++)
            if (free_at[u] < free_at[t]) t = u;
        free_at[t] += cost[order[i]];
        if (free_at[t] > end) end = free_at[t];
    }
    return end;
}

/* Runs in the order the threads take them. One thread keeps the plan's order, which its output and
 * a resume follow. Several take the costliest first, so that the last to start is a short one; then
 * pairs of runs of different costs swap places while that shortens the expected end (finished runs,
 * state >= 0, cost nothing: the threads pass them by). Costliest first alone ends a 9-run grid on 2
 * threads with one thread training alone for most of a run (6 x 1.35 + 3 x 1 splits 5.05 against
 * 6.05); the swaps find 4 adaptive runs against 2 and the 3 SGD ones (5.4 and 5.7). Large plans, where
 * one run is a small part of a thread's share, keep costliest first. */
static void by_cost(const nnm_config *c, const nnm_plan *plan, const int *state, int threads, int *order)
{
    enum { SEARCHED = 64 };
    double cost[SEARCHED], free_at[SEARCHED];
    for (int i = 0; i < plan->n; i++) {
        int j = i;
        double ci = run_cost(c, &plan->runs[i]);
        for (; threads > 1 && j > 0 && run_cost(c, &plan->runs[order[j - 1]]) < ci; j--) order[j] = order[j - 1];
        order[j] = i;
    }
    if (threads < 2 || plan->n > SEARCHED || threads > SEARCHED) return;
    for (int i = 0; i < plan->n; i++) cost[i] = state[i] >= 0 ? 0 : run_cost(c, &plan->runs[i]);
    double best = makespan(cost, order, plan->n, threads, free_at);
    for (int improved = 1; improved;) {
        improved = 0;
        for (int i = 0; i < plan->n; i++)
            for (int j = i + 1; j < plan->n; j++) {
                if (cost[order[i]] == cost[order[j]]) continue;
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
                double m = makespan(cost, order, plan->n, threads, free_at);
                /* A relative margin: equal sums in another order differ in their last bits. */
                if (m < best * (1 - 1e-9)) {
                    best = m;
                    improved = 1;
                } else {
                    order[j] = order[i];
                    order[i] = t;
                }
            }
    }
}

/* The threads of one process: each takes the next run to do (dynamic assignment). 1 when a run
 * failed (err says why). */
static int run_threads(const nnm_config *c, const nnm_plan *plan, const int *state, const nn_dataset *train,
                       const nn_dataset *test, nnm_progress *progress, char *err, size_t errlen)
{
    int *order = malloc((size_t)(plan->n > 0 ? plan->n : 1) * sizeof *order);
    if (!order) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    int jobs = c->jobs < plan->n ? c->jobs : plan->n;
    if (jobs > 1024) jobs = 1024;
    by_cost(c, plan, state, jobs, order);
    worker_ctx ctx = {.config = c, .runs = plan->runs, .state = state, .order = order, .n = plan->n, .train = train,
                      .test = test, .progress = progress};
    pthread_mutex_init(&ctx.lock, NULL);
    pthread_t th[1024];
    worker_arg args[1024];
    int started = 0;
    for (int j = 0; j < jobs; j++) {
        args[j].ctx = &ctx;
        args[j].slot = j;
        if (pthread_create(&th[j], NULL, worker, &args[j]) != 0) break;
        started++;
    }
    if (started == 0) {
        args[0].ctx = &ctx;
        args[0].slot = 0;
        worker(&args[0]);
    }
    for (int j = 0; j < started; j++) pthread_join(th[j], NULL);
    pthread_mutex_destroy(&ctx.lock);
    free(order);
    if (ctx.failed) snprintf(err, errlen, "%s", ctx.error);
    return ctx.failed;
}

int nnm_schedule(nnm_config *c, const nnm_plan *plan, const char *cmd, int *argc, char ***argv, int *report)
{
    char err[NNM_PATH_MAX];
    *report = 0;
    nnm_mpi mpi;
    if (nnm_mpi_init(argc, argv, &mpi) != 0) return 1;
    if (c->jobs == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        c->jobs = cores > 0 ? (int)cores : 1;
    }
    if (mpi.size > 1) c->jobs = 1; /* one model per rank; ranks are the parallelism */
    int rc = 1, n = plan->n;
    nn_dataset *train = NULL, *test = NULL;
    int *state = calloc((size_t)n, sizeof *state);
    if (nn_runtime_set_blas_threads(c->threads) != NN_OK) {
        fprintf(stderr, "nn-mnist %s: --threads: %s\n", cmd, nn_last_error());
        rc = 2;
        goto out;
    }
    if (!state) goto out;
    if (mpi.size > 1 && c->shard_n > 0) {
        if (mpi.rank == 0) fprintf(stderr, "nn-mnist %s: --shard splits a plan without MPI; under mpirun, drop it\n", cmd);
        rc = 2;
        goto out;
    }
    /* Folders are checked before the data are loaded or fetched: a bad --out fails at once. Under
     * MPI every rank takes part in each check's verdict, so that all stop together. */
    int ok = mpi.rank == 0 ? prepare_folders(c, err, sizeof err) == 0
                           : nnm_mkdirs(c->models_dir, err, sizeof err) == 0; /* folders may not be shared */
    if (!ok) fprintf(stderr, "nn-mnist %s: %s\n", cmd, err);
    if (!nnm_mpi_all_ok(&mpi, ok)) {
        rc = 2;
        goto out;
    }
    ok = nnm_load_datasets(c, &train, &test, err, sizeof err) == 0;
    if (!ok) fprintf(stderr, "nn-mnist %s: %s\n", cmd, err);
    if (!nnm_mpi_all_ok(&mpi, ok)) goto out;
    int64_t n_train = c->train_limit && c->train_limit < nn_dataset_count(train) ? c->train_limit : nn_dataset_count(train);
    int64_t n_test = c->test_limit && c->test_limit < nn_dataset_count(test) ? c->test_limit : nn_dataset_count(test);
    int64_t largest_batch = c->batch_size;
    for (int i = 0; i < n; i++)
        if (plan->runs[i].batch_size > largest_batch) largest_batch = plan->runs[i].batch_size;
    int64_t trained_on = n_train - (int64_t)((double)c->validation * (double)n_train + 0.5);
    if (largest_batch > trained_on) {
        if (mpi.rank == 0)
            fprintf(stderr, "nn-mnist %s: --batch-size %lld is larger than the %lld images trained on\n", cmd,
                    (long long)largest_batch, (long long)trained_on);
        rc = 2;
        goto out;
    }
    /* The plan tells `report` which records in the folder are this command's runs. */
    ok = mpi.rank != 0 || (nnm_plan_scan(c, plan, n_train, n_test, state, err, sizeof err) == 0 &&
                           nnm_plan_write(c, plan, n_train, n_test, err, sizeof err) == 0);
    if (!ok) fprintf(stderr, "nn-mnist %s: %s\n", cmd, err);
    if (!nnm_mpi_all_ok(&mpi, ok)) {
        rc = 2;
        goto out;
    }
    nnm_mpi_share_state(&mpi, state, n);
    /* Under MPI only rank 0 writes to the terminal, as plain lines (ranks' output interleaves). The
     * lines above the bars go through it too, so that they fit the terminal's width. */
    nnm_progress *progress = nnm_progress_create(mpi.size > 1 ? 2 : c->jobs, c->quiet, mpi.size > 1);
    if (c->validation > 0) nnm_progress_set_heldout(progress, "val");
    if (!c->quiet && mpi.rank == 0) {
        int mine = 0, todo = 0;
        for (int i = 0; i < n; i++) {
            mine += state[i] != 2;
            todo += state[i] < 0;
        }
        nnm_progress_study(progress, mine, mine - todo);
        char shard[64] = "";
        if (c->shard_n > 0) snprintf(shard, sizeof shard, " in shard %d of %d", c->shard_k, c->shard_n);
        char held[64] = "";
        if (c->validation > 0)
            snprintf(held, sizeof held, " (%lld held out for validation)", (long long)(n_train - trained_on));
        nnm_progress_message(progress, "nn-mnist %s: %d model%s%s (%d to train), %lld training%s and %lld test images, %d job%s x %d BLAS thread%s",
                nn_version(), mine, mine == 1 ? "" : "s", shard, todo, (long long)n_train, held, (long long)n_test,
                c->jobs, c->jobs > 1 ? "s" : "", c->threads, c->threads > 1 ? "s" : "");
        if (mpi.size > 1) nnm_progress_message(progress, "spread over %d MPI ranks", mpi.size);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int failed = 0;
    if (mpi.size > 1) {
        nnm_train_env env = {.config = c, .train = train, .test = test, .progress = progress, .stop = &stop_requested};
        failed = nnm_mpi_run_grid(&mpi, &env, plan->runs, n, state, err, sizeof err) != 0;
        if (failed && mpi.rank != 0) {
            nnm_progress_free(progress);
            rc = 1; /* rank 0 reports the failure */
            goto out;
        }
    } else {
        failed = run_threads(c, plan, state, train, test, progress, err, sizeof err);
    }
    nnm_progress_free(progress);
    if (failed) {
        fprintf(stderr, "nn-mnist %s: %s\nFinished runs are kept; rerun the same command to continue.\n", cmd, err);
        goto out;
    }
    if (atomic_load(&stop_requested)) {
        if (mpi.rank == 0)
            fprintf(stderr, "\nnn-mnist %s: interrupted; finished runs and checkpoints are saved.\n"
                            "Run the same command again to resume where it stopped.\n", cmd);
        rc = 130;
        goto out;
    }
    rc = 0;
    *report = mpi.rank == 0 && c->shard_n == 0;
    if (c->shard_n > 0 && !c->quiet)
    {
        /* A grid's shards merge in `report`; a tune's in tune itself, rerun whole (it trains nothing then). */
        if (!strcmp(cmd, "tune"))
            fprintf(stderr, "nn-mnist tune: shard %d of %d done. When every shard is, the same `nn-mnist tune` "
                            "without --shard merges them (and trains nothing).\n", c->shard_k, c->shard_n);
        else
            fprintf(stderr, "nn-mnist %s: shard %d of %d done. When every shard is, `nn-mnist report --out %s` "
                            "merges them.\n", cmd, c->shard_k, c->shard_n, c->out_dir);
    }
out:
    nn_dataset_free(train);
    nn_dataset_free(test);
    free(state);
    nnm_mpi_finalize(&mpi);
    return rc;
}
