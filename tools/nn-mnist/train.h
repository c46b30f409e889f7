/* Training one run of the grid: build the MLP, train it with checkpoints, evaluate it, save it. */
#ifndef NNM_TRAIN_H
#define NNM_TRAIN_H

#include <stdatomic.h>
#include <stddef.h>

#include <nn/nn.h>

#include "config.h"
#include "progress.h"
#include "record.h"

/* One run of a plan (plan.h): a cell (optimizer, activation and, when tuning, a rate or a batch size)
 * with one seed. */
typedef struct nnm_run {
    char id[96];                 /* "<optimizer>_<activation>" [ "_lr<rate>" | "_bs<batch>" ] [ "_s<seed>" ] */
    char optimizer[NNM_MAX_NAME];
    char activation[NNM_MAX_NAME];
    uint64_t seed;
    float lr;                    /* 0: the config's --lr (0 there too: the optimizer's default) */
    int64_t batch_size;          /* 0: the config's */
    int cell;                    /* runs of one cell differ only by seed */
} nnm_run;

/* The config one run trains with: c with the run's seed, rate and batch size. */
void nnm_run_config(const nnm_config *c, const nnm_run *run, nnm_config *out);

typedef struct nnm_train_env {
    const nnm_config *config;
    const nn_dataset *train, *test;
    nnm_progress *progress;
    int slot;                    /* progress slot of the worker */
    atomic_int *stop;            /* set by SIGINT/SIGTERM or a failing worker: checkpoint and return */
    int64_t extra;               /* the last `extra` images of train (train --fonts) are always trained on:
                                    outside --train-limit and the validation split */
    const char *extra_what;      /* what they are, for the model file ("5934 images of 449 glyphs ...") */
    int classes;                 /* the datasets' classes, when the labels would say more (train --pieces'
                                    "not one digit", an 11th); 0: from the datasets */
    const char *pieces_what;     /* train --pieces' images among the extra ones, for the model file */
    const char *letters_what;    /* train --letters' images among them, likewise */
} nnm_train_env;

enum { NNM_TRAIN_DONE = 0, NNM_TRAIN_STOPPED = 1, NNM_TRAIN_FAILED = -1 };

/* Trains the run (resuming from its checkpoint when one of the same settings exists), saves the
 * model to <models>/<id>.nnm and fills rec; the caller then writes the record. Returns one of the
 * NNM_TRAIN_ values; err says why on failure. */
int nnm_train_run(const nnm_train_env *env, const nnm_run *run, nnm_record *rec, char *err, size_t errlen);

/* Removes a finished run's checkpoint and best-epoch file. */
void nnm_run_cleanup(const nnm_config *c, const char *run_id);

/* <models>/<id>.nnm, <models>/<id>.ckpt.nnm, and <models>/<id>.best.nnm (the weights of the best epoch so
 * far, under --patience) */
void nnm_model_path(const nnm_config *c, const char *run_id, char *buf, size_t len);
void nnm_checkpoint_path(const nnm_config *c, const char *run_id, char *buf, size_t len);
void nnm_best_path(const nnm_config *c, const char *run_id, char *buf, size_t len);

/* Loss, accuracy and (when confusion is non-NULL, classes x classes) the confusion matrix of m over a
 * whole dataset, in chunks. classes is the dataset's: a model with more outputs (train --reject's
 * "not one digit") is scored by the most probable of the first `classes`, as a reader uses it.
 * 0 or -1 with err. */
int nnm_evaluate_dataset(nn_model *m, const nn_dataset *ds, int64_t limit, double *loss, double *accuracy,
                         int64_t *confusion, int classes, char *err, size_t errlen);
/* The same over the examples idx[0..n) (idx NULL: the first n). correct, when non-NULL, is a zeroed
 * bitset of n bits: bit i (LSB first) is set when example i is classified correctly. */
int nnm_evaluate_examples(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t n, double *loss,
                          double *accuracy, int64_t *confusion, int classes, uint8_t *correct, char *err,
                          size_t errlen);

#endif
