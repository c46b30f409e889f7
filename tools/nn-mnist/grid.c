/* `nn-mnist grid`: options -> plan -> scheduler -> report. */
#define _POSIX_C_SOURCE 200809L
#include "grid.h"

#include <stdio.h>
#include <stdlib.h>

#include "fsutil.h"
#include "options.h"
#include "plan.h"
#include "report.h"
#include "scheduler.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: nn-mnist grid [options]\n\n"
            "Train a network (an MLP unless --arch says otherwise) for every optimizer x activation pair\n"
            "on MNIST, save each model, and write results.csv, results.png, results_heatmap.png,\n"
            "confusion_matrix.png and curves.png, and with --seeds or --validation the spread over seeds\n"
            "and the held-out curves (docs/study.md). Rerunning the same command resumes: finished runs\n"
            "are skipped, interrupted ones continue from their last checkpoint.\n\n");
    nnm_print_run_options(f, NNM_PARSE_GRID);
    fprintf(f, "  --out DIR           results folder [results]\n"
               "  --models DIR        models folder [models]\n");
    nnm_print_process_options(f);
}

int nnm_cmd_grid(int argc, char **argv)
{
    double t0 = nnm_now();
    nnm_config c;
    nnm_config_defaults(&c);
    char err[NNM_PATH_MAX];
    int prc = nnm_parse_run_options(argc, argv, &c, NNM_PARSE_GRID, NULL, err, sizeof err);
    if (prc == 1) {
        usage(stdout);
        return 0;
    }
    if (prc != 0 || nnm_config_validate(&c, err, sizeof err) != 0) {
        if (err[0]) fprintf(stderr, "nn-mnist grid: %s\n", err); /* empty: getopt's message is out */
        return 2;
    }
    nnm_plan plan;
    if (nnm_plan_grid(&c, &plan, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist grid: %s\n", err);
        return 1;
    }
    int report = 0, rc = nnm_schedule(&c, &plan, "grid", &argc, &argv, &report);
    if (rc == 0 && report) rc = nnm_report_plan(&c, &plan, nnm_now() - t0);
    nnm_plan_free(&plan);
    return rc;
}
