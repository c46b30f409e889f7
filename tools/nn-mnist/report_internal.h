/* The report's parts (report_*.c): the study the records make, and what is derived from it. */
#ifndef NNM_REPORT_INTERNAL_H
#define NNM_REPORT_INTERNAL_H

#include <stdio.h>

#include "record.h"
#include "stats.h"

/* A cell: the runs of one setting that differ only by seed (grid: one optimizer x activation). */
typedef struct nnm_cell {
    const nnm_record **runs;  /* ordered by seed */
    int n;
    int diverged;             /* runs that diverged: they have no metrics, and count in no statistic */
    nnm_stat train_accuracy, test_accuracy, train_loss, test_loss, val_accuracy, val_loss;
    /* The difference to the best cell on test accuracy: the test's p-value, Holm-adjusted over the
     * study's comparisons (NaN: the best cell itself, or no test possible), and its name. */
    double p, p_holm;
    const char *test;
} nnm_cell;

typedef struct nnm_study {
    nnm_cell *cells;
    int n_cells;
    int best;                 /* the best cell (on validation accuracy with a split, else on test accuracy); -1 */
    const nnm_record *best_run; /* its best run by the same measure: the confusion matrix and the class report */
    int max_runs;             /* the most runs in one cell: > 1 is a study over seeds */
    int validation;           /* the runs held out a validation split */
    const nnm_record **slots; /* every cell's runs, contiguous */
} nnm_study;

/* Groups records (in grid order, nnm_report_sort) into cells and computes their statistics. 0 or -1. */
int nnm_study_build(const nnm_record *recs, int n, nnm_study *s);
void nnm_study_free(nnm_study *s);

/* The measure the best cell and run are chosen by. */
double nnm_selection_metric(const nnm_record *r);

/* The settings line of a record without its seed and libnn version: runs of one cell share it. */
void nnm_cell_key(const char *settings, char *out, size_t cap);

/* results.csv, runs.csv, history.csv, classification_report.csv. 0 or -1 with err. */
int nnm_report_tables(const char *out_dir, const nnm_record *recs, int n, const nnm_study *s, char *err, size_t errlen);

/* results.png, results_heatmap.png, confusion_matrix.png, confusion_matrix_normalized.png, curves.png,
 * history.png. 0 or -1 with err. */
int nnm_report_figures(const char *out_dir, const nnm_record *recs, int n, const nnm_study *s, char *err,
                       size_t errlen);

/* "%.6f", or "nan" for a diverged run's metrics whatever the sign bit of the NaN read back. */
const char *nnm_metric_text(char *buf, size_t cap, double v);

#endif
