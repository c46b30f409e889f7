/* `nn-mnist grid`: train every optimizer x activation pair, resumably, then report. */
#ifndef NNM_GRID_H
#define NNM_GRID_H

#include "config.h"
#include "train.h"

/* The grid's runs, optimizer-major, as the summary and figures order them. */
int nnm_grid_runs(const nnm_config *c, nnm_run *runs, int cap);

/* Loads the datasets named by the config (finding or downloading them); 0 or -1 with err. */
int nnm_load_datasets(const nnm_config *c, nn_dataset **train, nn_dataset **test, char *err, size_t errlen);

/* Trains one run and records it: into <out>/runs, or, when record_text is non-NULL, into a new string
 * (MPI workers send it to rank 0). Returns an NNM_TRAIN_ value. */
int nnm_grid_execute_run(const nnm_train_env *env, const nnm_run *run, char **record_text, char *err, size_t errlen);

/* Writes results.csv, figures and the summary from the records of runs; 0 or 1. */
int nnm_grid_report(const nnm_config *c, const nnm_run *runs, int n, double seconds);

typedef enum nnm_parse_mode { NNM_PARSE_GRID, NNM_PARSE_TRAIN } nnm_parse_mode;

/* Parses grid's options into c (whose defaults the caller set), or train's: the same options less
 * the grid's folders and jobs, plus --save FILE (into *save), --activation/--optimizer (one name)
 * and --no-augment. 0, 1 for --help, or -1 with err. */
int nnm_parse_run_options(int argc, char **argv, nnm_config *c, nnm_parse_mode mode, const char **save, char *err,
                          size_t errlen);

int nnm_cmd_grid(int argc, char **argv);

#endif
