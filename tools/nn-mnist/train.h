/* Training one run of the grid: build the MLP, train it with checkpoints, evaluate it, save it. */
#ifndef NNM_TRAIN_H
#define NNM_TRAIN_H

#include <stdatomic.h>
#include <stddef.h>

#include <nn/nn.h>

#include "config.h"
#include "progress.h"
#include "record.h"

typedef struct nnm_run {
    char id[96];                 /* "<optimizer>_<activation>" */
    char optimizer[NNM_MAX_NAME];
    char activation[NNM_MAX_NAME];
} nnm_run;

typedef struct nnm_train_env {
    const nnm_config *config;
    const nn_dataset *train, *test;
    nnm_progress *progress;
    int slot;                    /* progress slot of the worker */
    atomic_int *stop;            /* set by SIGINT/SIGTERM or a failing worker: checkpoint and return */
} nnm_train_env;

enum { NNM_TRAIN_DONE = 0, NNM_TRAIN_STOPPED = 1, NNM_TRAIN_FAILED = -1 };

/* Trains the run (resuming from its checkpoint when one of the same settings exists), saves the
 * model to <models>/<id>.nnm and fills rec; the caller then writes the record. Returns one of the
 * NNM_TRAIN_ values; err says why on failure. */
int nnm_train_run(const nnm_train_env *env, const nnm_run *run, nnm_record *rec, char *err, size_t errlen);

/* <models>/<id>.nnm and <models>/<id>.ckpt.nnm */
void nnm_model_path(const nnm_config *c, const char *run_id, char *buf, size_t len);
void nnm_checkpoint_path(const nnm_config *c, const char *run_id, char *buf, size_t len);

/* Loss, accuracy and (when confusion is non-NULL, classes x classes) the confusion matrix of m over a
 * whole dataset, in chunks. 0 or -1 with err. */
int nnm_evaluate_dataset(nn_model *m, const nn_dataset *ds, int64_t limit, double *loss, double *accuracy,
                         int64_t *confusion, int classes, char *err, size_t errlen);

#endif
