/* The options of the commands that train (grid, tune, train): one parser, so that an option means the
 * same everywhere and is checked the same way. */
#ifndef NNM_OPTIONS_H
#define NNM_OPTIONS_H

#include <stdio.h>

#include "config.h"

#define NNM_MAX_SWEEP 64

typedef enum nnm_parse_mode { NNM_PARSE_GRID, NNM_PARSE_TRAIN, NNM_PARSE_TUNE } nnm_parse_mode;

/* What some commands take beyond nnm_config. */
typedef struct nnm_cli_extra {
    const char *save;               /* train: --save FILE */
    double lrs[NNM_MAX_SWEEP];      /* tune: --lrs, ascending */
    int n_lrs;
    double batches[NNM_MAX_SWEEP];  /* tune: --batch-sizes, ascending */
    int n_batches;
    int scale_lr;                   /* tune: --scale-lr */
} nnm_cli_extra;

/* Parses the options of `mode` into c (whose defaults the caller set) and extra (may be NULL for
 * grid). train takes one --activation and one --optimizer, --save and --no-augment, and no folders,
 * jobs or shards; tune takes --lrs, --batch-sizes and --scale-lr. --lr tuned and --lr-from FILE read
 * the rates file here, so that a missing or bad one fails before any data are loaded. 0, 1 for
 * --help, or -1 with err (empty when getopt has already printed the message). */
int nnm_parse_run_options(int argc, char **argv, nnm_config *c, nnm_parse_mode mode, nnm_cli_extra *extra, char *err,
                          size_t errlen);

/* The help of the options every training command shares (model, training, data, protocol). */
void nnm_print_run_options(FILE *f, nnm_parse_mode mode);

/* The help of the options of grid and tune that run the plan (jobs, threads, limits, --fresh, -q, -h). */
void nnm_print_process_options(FILE *f);

/* Reads a rates table (tune's tuned_lr.csv: Optimizer,Activation,Learning Rate,...) into c->cell_lr:
 * each cell takes its own row, else its optimizer's row of another activation (tune ran for fewer
 * activations). An optimizer of c without a row is refused. 0 or -1 with err. */
int nnm_load_tuned_lr(nnm_config *c, const char *path, char *err, size_t errlen);

#endif
