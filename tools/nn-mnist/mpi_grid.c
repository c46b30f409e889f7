/* The grid over MPI (Open MPI). Rank 0's main thread coordinates: it hands out runs one at a time to
 * whichever rank asks (dynamic assignment), receives each finished run's model file and record, and
 * writes them; a second thread on rank 0 trains runs too, so no core sits idle. Only the main thread
 * calls MPI (MPI_THREAD_FUNNELED). Every rank trains with one BLAS thread, so each run's result is the
 * same as in a single process. Records and models travel over MPI, so the ranks need no shared folder;
 * with one, rank 0 rewrites identical files. */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "scheduler.h"
#include "mpi_grid.h"

enum { TAG_REQUEST = 1, TAG_ASSIGN, TAG_RECORD, TAG_MODEL, TAG_FAILED };

int nnm_mpi_init(int *argc, char ***argv, nnm_mpi *mpi)
{
    mpi->rank = 0;
    mpi->size = 1;
    mpi->initialized = 0;
    /* Started by hand rather than by mpirun: stay a plain single process. */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK")) return 0;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "nn-mnist: MPI_Init failed\n");
        return -1;
    }
    mpi->initialized = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi->size);
    return 0;
}

void nnm_mpi_finalize(nnm_mpi *mpi)
{
    if (mpi->initialized) MPI_Finalize();
    mpi->initialized = 0;
}

int nnm_mpi_all_ok(nnm_mpi *mpi, int ok)
{
    if (mpi->size <= 1) return ok;
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    return all;
}

void nnm_mpi_share_state(nnm_mpi *mpi, int *state, int n)
{
    if (mpi->size > 1) MPI_Bcast(state, n, MPI_INT, 0, MPI_COMM_WORLD);
}

/* The runs still to hand out, shared between rank 0's coordinator and its local trainer. */
typedef struct queue {
    pthread_mutex_t lock;
    const int *state;
    int n, next, closed;
} queue;

static int queue_take(queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->next < q->n && q->state[q->next] >= 0) q->next++;
    int i = q->closed || q->next >= q->n ? -1 : q->next++;
    pthread_mutex_unlock(&q->lock);
    return i;
}

static void queue_close(queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_mutex_unlock(&q->lock);
}

typedef struct local_trainer {
    queue *q;
    const nnm_train_env *env;
    const nnm_run *runs;
    int failed;
    char error[2048];
} local_trainer;

static void *train_locally(void *p)
{
    local_trainer *t = p;
    int i;
    while ((i = queue_take(t->q)) >= 0 && !atomic_load(t->env->stop)) {
        int rc = nnm_execute_run(t->env, &t->runs[i], NULL, t->error, sizeof t->error);
        if (rc == NNM_TRAIN_FAILED) {
            t->failed = 1;
            queue_close(t->q);
            break;
        }
    }
    return NULL;
}

static void nap(void)
{
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Receives a message of unknown length from `source` with `tag`; caller frees. */
static char *recv_bytes(int source, int tag, int *len)
{
    MPI_Status st;
    MPI_Probe(source, tag, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_BYTE, len);
    char *buf = malloc((size_t)*len + 1);
    if (!buf) return NULL;
    MPI_Recv(buf, *len, MPI_BYTE, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    buf[*len] = '\0';
    return buf;
}

static int coordinate(nnm_mpi *mpi, const nnm_train_env *env, const nnm_run *runs, int n, queue *q, char *err,
                      size_t errlen)
{
    local_trainer lt = {q, env, runs, 0, ""};
    pthread_t th;
    int threaded = pthread_create(&th, NULL, train_locally, &lt) == 0;
    int active = mpi->size - 1, failed = 0;
    while (active > 0) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (!flag) {
            /* Polling with naps rather than a blocking receive: Open MPI's blocking calls spin and would
             * take the core rank 0's trainer needs. */
            if (atomic_load(env->stop)) queue_close(q);
            nap();
            continue;
        }
        int src = st.MPI_SOURCE, len = 0;
        if (st.MPI_TAG == TAG_REQUEST) {
            int dummy;
            MPI_Recv(&dummy, 1, MPI_INT, src, TAG_REQUEST, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            int i = atomic_load(env->stop) ? -1 : queue_take(q);
            MPI_Send(&i, 1, MPI_INT, src, TAG_ASSIGN, MPI_COMM_WORLD);
            if (i < 0) active--;
        } else if (st.MPI_TAG == TAG_MODEL) {
            /* A finished run: its model file, then its record. The model is written first, so that a
             * record never exists without its model. */
            char *model = recv_bytes(src, TAG_MODEL, &len);
            int rlen = 0;
            char *text = recv_bytes(src, TAG_RECORD, &rlen);
            nnm_record rec;
            char why[2048];
            if (!model || !text || nnm_record_parse(&rec, text, why, sizeof why) != 0) {
                snprintf(err, errlen, "rank %d sent a bad record", src);
                failed = 1;
            } else {
                if (nnm_write_atomic(rec.model_path, model, (size_t)len, why, sizeof why) != 0 ||
                    nnm_record_save(&rec, env->config->out_dir, why, sizeof why) != 0) {
                    snprintf(err, errlen, "%s", why);
                    failed = 1;
                    queue_close(q);
                } else {
                    nnm_progress_finished(env->progress, "%-16s done on rank %d: test accuracy %.4f (%.1fs)",
                                          rec.run_id, src, rec.test_accuracy, rec.seconds);
                }
                nnm_record_free(&rec);
            }
            free(model);
            free(text);
        } else if (st.MPI_TAG == TAG_FAILED) {
            char *text = recv_bytes(src, TAG_FAILED, &len);
            snprintf(err, errlen, "rank %d: %s", src, text ? text : "failed");
            free(text);
            failed = 1;
            queue_close(q);
        } else {
            char *junk = recv_bytes(src, st.MPI_TAG, &len);
            free(junk);
        }
    }
    if (threaded) pthread_join(th, NULL);
    else train_locally(&lt);
    if (lt.failed && !failed) {
        snprintf(err, errlen, "%s", lt.error);
        failed = 1;
    }
    return failed ? -1 : 0;
}

static int work(const nnm_train_env *env, const nnm_run *runs, int n)
{
    char sent[sizeof runs[0].id] = ""; /* the run sent last, whose checkpoint is kept until rank 0 has it */
    for (;;) {
        int ask = 0, i = -1;
        MPI_Send(&ask, 1, MPI_INT, 0, TAG_REQUEST, MPI_COMM_WORLD);
        MPI_Recv(&i, 1, MPI_INT, 0, TAG_ASSIGN, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        /* Messages between two ranks arrive in order, so rank 0 answering this request means it has
         * written the run sent before it: only now is that run's checkpoint no longer needed. */
        if (sent[0]) nnm_run_cleanup(env->config, sent);
        sent[0] = '\0';
        if (i < 0 || i >= n) return 0;
        char err[2048], *text = NULL;
        int rc = atomic_load(env->stop) ? NNM_TRAIN_STOPPED : nnm_execute_run(env, &runs[i], &text, err, sizeof err);
        if (rc == NNM_TRAIN_DONE) {
            char path[NNM_PATH_MAX];
            size_t len = 0;
            nnm_model_path(env->config, runs[i].id, path, sizeof path);
            char *model = nnm_read_file(path, &len, err, sizeof err);
            if (!model) {
                MPI_Send(err, (int)strlen(err), MPI_BYTE, 0, TAG_FAILED, MPI_COMM_WORLD);
                free(text);
                continue;
            }
            MPI_Send(model, (int)len, MPI_BYTE, 0, TAG_MODEL, MPI_COMM_WORLD);
            MPI_Send(text, (int)strlen(text), MPI_BYTE, 0, TAG_RECORD, MPI_COMM_WORLD);
            snprintf(sent, sizeof sent, "%s", runs[i].id);
            free(model);
            free(text);
        } else if (rc == NNM_TRAIN_FAILED) {
            MPI_Send(err, (int)strlen(err), MPI_BYTE, 0, TAG_FAILED, MPI_COMM_WORLD);
        }
        /* Stopped: keep asking; rank 0 answers -1 once it has seen the stop too. */
    }
}

int nnm_mpi_run_grid(nnm_mpi *mpi, const nnm_train_env *env, const nnm_run *runs, int n, int *state, char *err,
                     size_t errlen)
{
    int rc = 0;
    if (mpi->rank == 0) {
        queue q = {PTHREAD_MUTEX_INITIALIZER, state, n, 0, 0};
        rc = coordinate(mpi, env, runs, n, &q, err, errlen);
    } else {
        rc = work(env, runs, n);
    }
    /* Every rank learns whether the grid failed, so all exit alike. */
    return nnm_mpi_all_ok(mpi, rc == 0) ? 0 : -1;
}
