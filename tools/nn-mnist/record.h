/*
 * A run record: the settings and results of one finished training run, one small JSON file per run
 * (<out>/runs/<run>.json, written by json-c; docs/study.md describes its keys), written atomically
 * after the run's model file. The records are the grid's source of truth: results.csv, the figures
 * and the summary are derived from them, a rerun skips the runs that have one, and under MPI they
 * travel to rank 0 as this same text. Folders of an older nn-mnist hold version-1 text records
 * (<run>.rec): they are still read, and replaced by the JSON form when the run's record is saved.
 */
#ifndef NNM_RECORD_H
#define NNM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define NNM_RECORD_VERSION 2      /* the JSON form */
#define NNM_RECORD_TEXT_VERSION 1 /* the text form of older nn-mnist, read only */
/* A record is refused above this size before it is parsed (the largest a valid one can be is some
 * 20 MiB: 100000 epochs of four curves). */
#define NNM_RECORD_MAX_TEXT (64u << 20)
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
    /* The protocol (--validation, --patience): a share of the training set held out, class-stratified,
     * drawn from split_seed; the per-epoch held-out figures and early stopping then use it, and the
     * test set is evaluated once, at the end. validation == 0: no split, the held-out set is the
     * test set (the original study), val_accuracy and val_loss are NaN. */
    double validation;
    uint64_t split_seed;
    int patience;              /* early stopping after this many epochs without a lower validation loss; 0: none */
    int best_epoch;            /* with patience, the 1-based epoch whose weights the model holds; else 0 */
    double val_accuracy, val_loss; /* the final model on the validation split */
    /* Which test examples the final model classified correctly, bit i of byte i / 8 (LSB first), for
     * McNemar's test between two runs; n_test_correct bits, NULL/0 when not recorded (older records,
     * diverged runs). Owned. */
    int64_t n_test_correct;
    uint8_t *test_correct;
    int n_curve;               /* epochs recorded in the curves */
    int curve_cap;             /* entries allocated for each curve */
    /* Per epoch; owned. curve_loss and curve_accuracy are the running figures over the epoch's training
     * batches; the held-out ones are on the validation split, or on the test set without one. A record
     * of an older nn-mnist has no held-out loss: NaN. */
    double *curve_loss, *curve_accuracy, *curve_heldout_loss, *curve_heldout_accuracy;
} nnm_record;

/* Zeroes r; val_accuracy and val_loss NaN. */
void nnm_record_init(nnm_record *r);
void nnm_record_free(nnm_record *r);
/* Size the confusion matrix and curves; 0 or -1. */
int nnm_record_alloc(nnm_record *r, int classes, int epochs);

/* Sizes r->test_correct for n bits, all clear (n >= 1); 0 or -1. */
int nnm_record_alloc_test_correct(nnm_record *r, int64_t n);

/* The JSON form, one object and a newline (caller frees); NULL on allocation failure. Doubles are
 * written with 17 significant digits, so that they read back bit for bit; NaN as null. */
char *nnm_record_format(const nnm_record *r);
/* Parse a record: the JSON form, or the version-1 text form of an older nn-mnist (told apart by the
 * first character). 0, or -1 with err and r freed: malformed, incomplete (e.g. torn), over
 * NNM_RECORD_MAX_TEXT, or failing nnm_record_check(). */
int nnm_record_parse(nnm_record *r, const char *text, char *err, size_t errlen);
/* The two forms on their own (nnm_record_parse picks one): the same contract. */
int nnm_record_parse_json(nnm_record *r, const char *text, char *err, size_t errlen);
int nnm_record_parse_text(nnm_record *r, const char *text, char *err, size_t errlen);
/* What every record must satisfy, whichever form it came from, and before it is saved: complete,
 * values in range, NaN metrics only for a diverged run (and validation ones only without a split),
 * curves no longer than the epochs, the test bitset consistent with the confusion matrix. 0, or -1
 * with err. */
int nnm_record_check(const nnm_record *r, char *err, size_t errlen);

/* <out>/runs/<id>.json, where a record is saved. */
void nnm_record_path(const char *out_dir, const char *run_id, char *buf, size_t len);
/* The existing record of run id: 1 and its path in buf (<id>.json, else a legacy <id>.rec); 0 when
 * there is neither (buf then holds the .json path). */
int nnm_record_find(const char *out_dir, const char *run_id, char *buf, size_t len);
/* Checks r, writes <out>/runs/<id>.json atomically, then removes a legacy <id>.rec of the run; 0 or
 * -1 with err. */
int nnm_record_save(const nnm_record *r, const char *out_dir, char *err, size_t errlen);
/* Either form from a regular file of at most NNM_RECORD_MAX_TEXT bytes; 0 or -1 with err, which
 * names the file. */
int nnm_record_load(nnm_record *r, const char *path, char *err, size_t errlen);
/* Every run's record in <out>/runs, each run once: its .json, else its legacy .rec (in no particular
 * order; *out is the caller's, each record to nnm_record_free, then free(*out)). A record that does
 * not load is left out, named on stderr as "<who>: skipping <why>". 0, or -1 with err when the
 * folder cannot be read or memory runs out. */
int nnm_record_load_dir(const char *out_dir, const char *who, nnm_record **out, int *n, char *err, size_t errlen);

#endif
