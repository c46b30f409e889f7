/*
 * A run record: the settings and results of one finished training run, one small text file per run
 * (<out>/runs/<run>.rec), written atomically after the run's model file. The records are the grid's
 * source of truth: results.csv, the figures and the summary are derived from them, a rerun skips the
 * runs that have one, and under MPI they travel to rank 0 as this same text.
 */
#ifndef NNM_RECORD_H
#define NNM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define NNM_RECORD_VERSION 1
#define NNM_MAX_CLASSES 256
#define NNM_MAX_EPOCHS 100000

typedef struct nnm_record {
    char run_id[96];
    char optimizer[NNM_MAX_NAME];
    char activation[NNM_MAX_NAME];
    char settings[NNM_SETTINGS_MAX]; /* nnm_config_settings_line() of the run */
    char model_path[1024];
    double lr;                 /* the learning rate actually used */
    uint64_t seed;
    int epochs;
    int64_t batch_size;
    int64_t params;
    int blas_threads;
    double dropout;            /* --dropout rate (0: none) */
    int batchnorm;             /* --batchnorm given; both written only when set (older records unchanged) */
    char arch[NNM_MAX_ARCH_TEXT + 1]; /* --arch list, canonical; "" for the MLP */
    int augment;               /* --augment given */
    char lr_schedule[16];      /* "cosine"; "" for the constant rate. These three, too, only when set */
    double train_accuracy, test_accuracy, train_loss, test_loss;
    double seconds;            /* training and evaluation wall time (not part of results.csv) */
    /* A run whose loss became non-finite stopped there and counts as finished: its metrics are NaN,
     * its curves hold the epochs it completed, its model the last finite weights. diverged_epoch is
     * the 1-based epoch (0: the run did not diverge), diverged_step the step in it (0: the loss of the
     * final evaluation was non-finite). Written only for such runs, so other records are unchanged. */
    int diverged_epoch;
    int64_t diverged_step;
    int classes;
    int64_t *confusion;        /* classes x classes, rows true, columns predicted; owned */
    int n_curve;               /* epochs recorded in the curves */
    int curve_cap;             /* entries allocated for each curve */
    double *curve_loss, *curve_accuracy, *curve_test_accuracy; /* per epoch; owned */
} nnm_record;

void nnm_record_init(nnm_record *r);
void nnm_record_free(nnm_record *r);
/* Size the confusion matrix and curves; 0 or -1. */
int nnm_record_alloc(nnm_record *r, int classes, int epochs);

/* Text form (caller frees); NULL on allocation failure. */
char *nnm_record_format(const nnm_record *r);
/* Parse the text form; 0 or -1 with err (an incomplete record, e.g. torn, is an error). */
int nnm_record_parse(nnm_record *r, const char *text, char *err, size_t errlen);

/* <out>/runs/<id>.rec */
void nnm_record_path(const char *out_dir, const char *run_id, char *buf, size_t len);
int nnm_record_save(const nnm_record *r, const char *out_dir, char *err, size_t errlen);
int nnm_record_load(nnm_record *r, const char *path, char *err, size_t errlen);

#endif
