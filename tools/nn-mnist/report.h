/* Everything derived from the run records: results.csv, the figures, the printed summary. */
#ifndef NNM_REPORT_H
#define NNM_REPORT_H

#include <stdio.h>

#include "record.h"
#include "train.h"

/* Orders records canonically (optimizer, then activation, by libnn's enum order): the CSV and the
 * figures do not depend on which run finished first. */
void nnm_report_sort(nnm_record *recs, int n);

/* results.csv (exact columns first), results.png, results_heatmap.png, confusion_matrix.png,
 * curves.png in out_dir. 0 or -1 with err. */
int nnm_report_write(const char *out_dir, const nnm_record *recs, int n, char *err, size_t errlen);

/* "Final Results Summary:" and the table sorted by test accuracy, best first. */
void nnm_report_summary(FILE *f, const nnm_record *recs, int n);

/* Loads every complete record under <out_dir>/runs (caller frees each and the array). */
int nnm_report_load_all(const char *out_dir, nnm_record **out, int *n, char *err, size_t errlen);

/* <out_dir>/plan.txt: the grid's runs, one "<run id> TAB <settings line>" each, so that `report`
 * shows the runs of the last grid and no other record the folder holds. n_train and n_test are the
 * image counts of the settings lines. 0 or -1 with err. */
int nnm_report_write_plan(const nnm_config *c, const nnm_run *runs, int n, int64_t n_train, int64_t n_test,
                          char *err, size_t errlen);

/* The `nn-mnist report` subcommand. */
int nnm_cmd_report(int argc, char **argv);

#endif
