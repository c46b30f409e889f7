/*
 * The plan: the list of runs a command trains, in one fixed order. The grid's runs are its optimizer x
 * activation cells, once per seed; tune's are its cells at each learning rate or batch size, once per
 * seed. The plan is written to <out>/plan.txt, so that `report` shows this plan's runs and no other
 * record the folder holds, and so that shards (--shard K/N) and MPI ranks agree on which run is which.
 */
#ifndef NNM_PLAN_H
#define NNM_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "train.h"

typedef struct nnm_plan {
    nnm_run *runs;
    int n;
    int n_cells;
} nnm_plan;

/* What a sweep varies: the learning rate or the batch size. */
enum { NNM_SWEEP_LR = 1, NNM_SWEEP_BATCH = 2 };

/* The grid: for each optimizer, each activation (a cell), each seed; the rate of a cell is its
 * cell_lr, else --lr. 0 or -1 with err. */
int nnm_plan_grid(const nnm_config *c, nnm_plan *p, char *err, size_t errlen);

/* A sweep for tune: for each optimizer, activation and value (a cell), each seed. For NNM_SWEEP_BATCH
 * the rate is the cell's cell_lr, else --lr, else the optimizer's default, times batch / base_batch
 * when scale_lr is set (the linear scaling rule). 0 or -1 with err. */
int nnm_plan_sweep(const nnm_config *c, int kind, const double *values, int n_values, int scale_lr,
                   int64_t base_batch, nnm_plan *p, char *err, size_t errlen);

void nnm_plan_free(nnm_plan *p);

/* Whether run i is this process's: all of them, or with --shard K/N those with i % N == K - 1. */
int nnm_plan_mine(const nnm_config *c, int i);

/* The settings line of a run (nnm_config_settings_line of its own config). */
void nnm_plan_settings(const nnm_config *c, const nnm_run *run, int64_t n_train, int64_t n_test, char *buf,
                       size_t len);

/* <out>/plan.txt: one "<run id> TAB <settings line>" per run; 0 or -1 with err. */
int nnm_plan_write(const nnm_config *c, const nnm_plan *p, int64_t n_train, int64_t n_test, char *err, size_t errlen);

/* Reads <out_dir>/plan.txt: the runs' ids (other fields empty) and settings lines (caller frees each
 * and the arrays). The number of runs, -1 when there is no plan, -2 with err when it cannot be read. */
int nnm_plan_read(const char *out_dir, nnm_run **runs, char ***settings, char *err, size_t errlen);

/* For this process's runs: state[i] 1 when a finished record of the same settings and its model are
 * there (the run is skipped), -1 when the run is to train; runs of other shards get 2. A finished run
 * of other settings is refused (-1 with err) unless --fresh, which discards it. */
int nnm_plan_scan(const nnm_config *c, const nnm_plan *p, int64_t n_train, int64_t n_test, int *state, char *err,
                  size_t errlen);

#endif
