/* The scheduler: trains a plan's runs that have no record yet, with --jobs threads in one process or
 * over MPI ranks (nn-mnist-mpi), each run resumable, each finished run's record written as it ends.
 * One scheduler for grid and tune, whole or sharded. */
#ifndef NNM_SCHEDULER_H
#define NNM_SCHEDULER_H

#include <stddef.h>

#include "config.h"
#include "plan.h"
#include "train.h"

/* Loads the datasets named by the config (finding or downloading them); 0 or -1 with err. */
int nnm_load_datasets(const nnm_config *c, nn_dataset **train, nn_dataset **test, char *err, size_t errlen);

/* Trains one run and records it: into <out>/runs, or, when record_text is non-NULL, into a new string
 * (MPI workers send it to rank 0). Returns an NNM_TRAIN_ value. */
int nnm_execute_run(const nnm_train_env *env, const nnm_run *run, char **record_text, char *err, size_t errlen);

/* Everything between the options and the report: the folders (checked and locked before any data are
 * loaded), the data, the resume scan, plan.txt, the runs. cmd names the command in messages. Returns
 * the exit status so far: 0 when every run of this process is done and *report is set where the
 * report is to be written (rank 0, not a shard); 1 failure, 2 bad usage, 130 interrupted. */
int nnm_schedule(nnm_config *c, const nnm_plan *plan, const char *cmd, int *argc, char ***argv, int *report);

#endif
