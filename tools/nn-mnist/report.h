/* Everything derived from the run records: results.csv, the figures, the printed summary. */
#ifndef NNM_REPORT_H
#define NNM_REPORT_H

#include <stdio.h>

#include "record.h"
#include "plan.h"
#include "train.h"

/* Orders records canonically (optimizer, then activation, by libnn's enum order): the CSV and the
 * figures do not depend on which run finished first. */
void nnm_report_sort(nnm_record *recs, int n);

/* Everything derived from the records in out_dir: results.csv (the original study's columns first),
 * runs.csv, history.csv, classification_report.csv, results.png, results_heatmap.png,
 * confusion_matrix.png, confusion_matrix_normalized.png, curves.png, history.png. 0 or -1 with err. */
int nnm_report_write(const char *out_dir, const nnm_record *recs, int n, char *err, size_t errlen);

/* "Final Results Summary:", the table of cells best first (on the validation split when the runs have
 * one, else on the test set) with the test against the best, then what the marks mean. */
void nnm_report_summary(FILE *f, const nnm_record *recs, int n);

/* Loads every complete record under <out_dir>/runs (caller frees each and the array). */
int nnm_report_load_all(const char *out_dir, nnm_record **out, int *n, char *err, size_t errlen);

/* The records of the plan's runs that have one, in plan order (*m of them; the caller frees each and
 * the array); NULL when out of memory. */
nnm_record *nnm_report_load_plan(const char *out_dir, const nnm_plan *plan, int *m);

/* The report at the end of a grid: the plan's records to results, figures and summary; 0 or 1 (a run
 * without a record, or the report could not be written). */
int nnm_report_plan(const nnm_config *c, const nnm_plan *plan, double seconds);

/* The `nn-mnist report` subcommand. */
int nnm_cmd_report(int argc, char **argv);

#endif
