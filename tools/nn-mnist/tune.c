/* `nn-mnist tune`: options -> a sweep plan -> the scheduler -> the sweep's table, the chosen values and
 * the sensitivity figure. Its runs live in OUT/tune-lr (or OUT/tune-batch), apart from the grid's, so
 * that a tune never mixes with a grid in one report; the chosen rates go to OUT/tuned_lr.csv, which
 * `grid --lr tuned` reads. */
#define _POSIX_C_SOURCE 200809L
#include "tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "options.h"
#include "plan.h"
#include "plot.h"
#include "report.h"
#include "report_internal.h"
#include "scheduler.h"
#include "strbuf.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: nn-mnist tune [options]\n\n"
            "Choose the learning rate of every optimizer x activation cell on a validation split: train each\n"
            "cell at every rate of a log grid for a few epochs (once per seed), and pick the rate with the\n"
            "best mean validation accuracy. Writes OUT/tuned_lr.csv (which `nn-mnist grid --lr tuned`\n"
            "reads), OUT/lr_sensitivity.png, and every point's numbers in OUT/tune-lr/sweep.csv. With\n"
            "--batch-sizes it sweeps the batch size instead, at the tuned rates when OUT/tuned_lr.csv\n"
            "exists: OUT/tuned_batch.csv, OUT/batch_sensitivity.png. Rerunning resumes, as grid does.\n\n"
            "  --lrs LIST|MIN:MAX:N  rates to try: a list, or N rates evenly spaced in log scale from MIN\n"
            "                      to MAX, two significant digits each [1e-4:1:9]\n"
            "  --batch-sizes LIST  sweep these batch sizes instead (e.g. 16,32,64,128,256,512)\n"
            "  --scale-lr          with --batch-sizes: scale the rate with the batch, rate x size /\n"
            "                      --batch-size (the linear scaling rule) [off]\n");
    nnm_print_run_options(f, NNM_PARSE_TUNE);
    fprintf(f, "  --out DIR           results folder [results]; the runs go to DIR/tune-lr or DIR/tune-batch\n"
               "  --models DIR        the runs' models [DIR/tune-lr/models or DIR/tune-batch/models]\n");
    nnm_print_process_options(f);
}

/* A point of the sweep: one cell at one value, over its seeds. */
typedef struct point {
    const char *optimizer, *activation;
    double value, lr;
    nnm_stat accuracy, loss;
    int runs, diverged;
} point;

/* Groups the sweep's records (plan order: optimizer, activation, value, seed) into points. */
static int gather(const nnm_plan *plan, const nnm_record *recs, int m, int kind, point *pts)
{
    int n_pts = plan->n_cells;
    double *acc = malloc((size_t)(m > 0 ? m : 1) * 2 * sizeof *acc);
    if (!acc) return -1;
    double *loss = acc + (m > 0 ? m : 1);
    for (int p = 0; p < n_pts; p++) {
        point *pt = &pts[p];
        memset(pt, 0, sizeof *pt);
        int k = 0;
        for (int i = 0; i < plan->n; i++) {
            if (plan->runs[i].cell != p) continue;
            const nnm_run *run = &plan->runs[i];
            pt->optimizer = run->optimizer;
            pt->activation = run->activation;
            pt->value = kind == NNM_SWEEP_LR ? (double)run->lr : (double)run->batch_size;
            for (int j = 0; j < m; j++)
                if (!strcmp(recs[j].run_id, run->id)) {
                    pt->lr = recs[j].lr;
                    acc[k] = recs[j].val_accuracy;
                    loss[k++] = recs[j].val_loss;
                    pt->runs++;
                    pt->diverged += recs[j].diverged_epoch > 0;
                }
        }
        nnm_stat_of(acc, k, &pt->accuracy);
        nnm_stat_of(loss, k, &pt->loss);
    }
    free(acc);
    return 0;
}

/* The figure: validation accuracy against the swept value, a line per optimizer with its band (the
 * range over seeds); a panel per activation while there are at most three, else a line per cell. */
static int figure(const char *path, int kind, const point *pts, int n_pts, int n_values, int seeds, char *err,
                  size_t errlen)
{
    int cells = n_values > 0 ? n_pts / n_values : 0, rc = -1;
    if (cells <= 0) {
        snprintf(err, errlen, "nothing to draw");
        return -1;
    }
    const char *acts[NNM_MAX_LIST];
    int na = 0;
    for (int c = 0; c < cells; c++) {
        int seen = 0;
        for (int j = 0; j < na; j++) seen |= !strcmp(acts[j], pts[c * n_values].activation);
        if (!seen && na < NNM_MAX_LIST) acts[na++] = pts[c * n_values].activation;
    }
    int panels_n = na <= 3 ? na : 1;
    double *buf = calloc((size_t)n_pts * 4, sizeof *buf);
    nnm_plot_series *series = calloc((size_t)cells, sizeof *series);
    char (*names)[80] = calloc((size_t)cells, sizeof *names);
    nnm_plot_panel panels[3];
    char titles[3][80];
    if (!buf || !series || !names) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    int ns = 0;
    for (int panel = 0; panel < panels_n; panel++) {
        int first = ns;
        for (int c = 0; c < cells; c++) {
            const point *p0 = &pts[c * n_values];
            if (panels_n > 1 && strcmp(p0->activation, acts[panel])) continue;
            double *x = buf + (size_t)c * n_values * 4, *y = x + n_values, *lo = y + n_values, *hi = lo + n_values;
            for (int v = 0; v < n_values; v++) {
                const point *p = &pts[c * n_values + v];
                x[v] = p->value;
                y[v] = p->accuracy.mean;
                lo[v] = seeds > 1 && p->accuracy.n > 1 ? p->accuracy.mean - p->accuracy.sd : NAN;
                hi[v] = seeds > 1 && p->accuracy.n > 1 ? p->accuracy.mean + p->accuracy.sd : NAN;
            }
            if (panels_n > 1) snprintf(names[ns], sizeof names[ns], "%s", p0->optimizer);
            else snprintf(names[ns], sizeof names[ns], "%s / %s", p0->optimizer, p0->activation);
            series[ns] = (nnm_plot_series){names[ns], x, y, seeds > 1 ? lo : NULL, seeds > 1 ? hi : NULL, n_values,
                                           ns - first, 0};
            ns++;
        }
        if (panels_n > 1) snprintf(titles[panel], sizeof titles[panel], "activation %s", acts[panel]);
        else titles[panel][0] = '\0';
        panels[panel] = (nnm_plot_panel){titles[panel], kind == NNM_SWEEP_LR ? "Learning rate" : "Batch size",
                                         "Validation accuracy", series + first, ns - first,
                                         kind == NNM_SWEEP_LR ? 10 : 2, 0};
    }
    char title[160];
    snprintf(title, sizeof title, "Validation accuracy by %s%s", kind == NNM_SWEEP_LR ? "learning rate" : "batch size",
             seeds > 1 ? " (mean; band: \u00b1 sd over seeds)" : "");
    rc = nnm_plot_panels(path, title, panels, panels_n, err, errlen);
done:
    free(buf);
    free(series);
    free(names);
    return rc;
}

/* sweep.csv, the chosen values, the figure and the table on stdout. 0 or 1. */
static int report(const nnm_config *c, const char *work, const nnm_plan *plan, int kind, const double *values,
                  int n_values)
{
    char err[2048], path[NNM_PATH_MAX];
    int m = 0, rc = 1;
    nnm_record *recs = nnm_report_load_plan(work, plan, &m);
    point *pts = calloc((size_t)plan->n_cells, sizeof *pts);
    if (!recs || !pts || gather(plan, recs, m, kind, pts) != 0) {
        fprintf(stderr, "nn-mnist tune: out of memory\n");
        goto done;
    }
    if (m < plan->n) fprintf(stderr, "nn-mnist tune: %d of %d runs have no record\n", plan->n - m, plan->n);
    nnm_strbuf sweep = {0}, tuned = {0};
    nnm_sb_add(&sweep, "Optimizer,Activation,%sLearning Rate,Validation Accuracy,SD,CI95,Validation Loss,N,Diverged\n",
               kind == NNM_SWEEP_LR ? "" : "Batch Size,");
    if (kind == NNM_SWEEP_LR) nnm_sb_add(&tuned, "Optimizer,Activation,Learning Rate,Validation Accuracy,SD,CI95,N\n");
    else nnm_sb_add(&tuned, "Optimizer,Activation,Batch Size,Learning Rate,Validation Accuracy,SD,CI95,N\n");
    int seeds = c->n_seeds > 0 ? c->n_seeds : 1;
    printf("Tuned %s (validation accuracy on %.3g of the training set, mean \u00b1 95%% CI over %d seed%s, %d "
           "epoch%s):\n", kind == NNM_SWEEP_LR ? "learning rates" : "batch sizes", (double)c->validation, seeds,
           seeds > 1 ? "s" : "", c->epochs, c->epochs > 1 ? "s" : "");
    printf("%-10s %-11s %14s %20s  %s\n", "Optimizer", "Activation", kind == NNM_SWEEP_LR ? "Learning Rate" : "Batch Size",
           "Validation Accuracy", "note");
    char m1[32], m2[32], m3[32], m4[32];
    for (int cell = 0; cell < plan->n_cells / n_values; cell++) {
        int best = -1;
        for (int v = 0; v < n_values; v++) {
            const point *p = &pts[cell * n_values + v];
            char value[32] = "";
            if (kind == NNM_SWEEP_BATCH) snprintf(value, sizeof value, "%.0f,", p->value);
            nnm_sb_add(&sweep, "%s,%s,%s%.6g,%s,%s,%s,%s,%d,%d\n", p->optimizer, p->activation, value, p->lr,
                       nnm_metric_text(m1, 32, p->accuracy.mean), nnm_metric_text(m2, 32, p->accuracy.sd),
                       nnm_metric_text(m3, 32, p->accuracy.ci95), nnm_metric_text(m4, 32, p->loss.mean), p->runs,
                       p->diverged);
            if (p->accuracy.n > 0 && (best < 0 || p->accuracy.mean > pts[cell * n_values + best].accuracy.mean))
                best = v;
        }
        const point *b = best >= 0 ? &pts[cell * n_values + best] : &pts[cell * n_values];
        if (best < 0) {
            printf("%-10s %-11s %14s %20s  every run diverged or is missing\n", b->optimizer, b->activation, "-", "-");
            continue;
        }
        /* Rates as the shortest text that reads back as the same float32: "0.32", not "0.319999993". */
        char rate[32];
        nnm_format_float(rate, sizeof rate, (float)(kind == NNM_SWEEP_LR ? b->value : b->lr));
        if (kind == NNM_SWEEP_LR)
            nnm_sb_add(&tuned, "%s,%s,%s,%.6f,%s,%s,%d\n", b->optimizer, b->activation, rate, b->accuracy.mean,
                       nnm_metric_text(m2, 32, b->accuracy.sd), nnm_metric_text(m3, 32, b->accuracy.ci95),
                       b->accuracy.n);
        else
            nnm_sb_add(&tuned, "%s,%s,%.0f,%s,%.6f,%s,%s,%d\n", b->optimizer, b->activation, b->value, rate,
                       b->accuracy.mean, nnm_metric_text(m2, 32, b->accuracy.sd),
                       nnm_metric_text(m3, 32, b->accuracy.ci95), b->accuracy.n);
        char acc[48];
        if (isnan(b->accuracy.ci95)) snprintf(acc, sizeof acc, "%.4f", b->accuracy.mean);
        else snprintf(acc, sizeof acc, "%.4f\u00b1%.4f", b->accuracy.mean, b->accuracy.ci95);
        /* A best value at an end of the grid may not be the best there is. */
        const char *note = n_values > 1 && (best == 0 || best == n_values - 1) ? "at the edge of the grid: widen it" : "";
        printf("%-10s %-11s %14.6g %*s  %s\n", b->optimizer, b->activation, b->value, 20 + (strstr(acc, "\u00b1") ? 1 : 0),
               acc, note);
    }
    snprintf(path, sizeof path, "%s/sweep.csv", work);
    if (nnm_sb_save(&sweep, path, err, sizeof err) != 0) {
        nnm_sb_free(&tuned);
        fprintf(stderr, "nn-mnist tune: %s\n", err);
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s", c->out_dir, kind == NNM_SWEEP_LR ? "tuned_lr.csv" : "tuned_batch.csv");
    if (nnm_sb_save(&tuned, path, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist tune: %s\n", err);
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s", c->out_dir, kind == NNM_SWEEP_LR ? "lr_sensitivity.png" : "batch_sensitivity.png");
    if (figure(path, kind, pts, plan->n_cells, n_values, seeds, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist tune: %s\n", err);
        goto done;
    }
    if (!c->quiet)
        fprintf(stderr, "\nnn-mnist tune: %s/%s and %s written; the runs are in %s/\n", c->out_dir,
                kind == NNM_SWEEP_LR ? "tuned_lr.csv" : "tuned_batch.csv",
                kind == NNM_SWEEP_LR ? "lr_sensitivity.png" : "batch_sensitivity.png", work);
    rc = m < plan->n;
done:
    for (int i = 0; recs && i < m; i++) nnm_record_free(&recs[i]);
    free(recs);
    free(pts);
    return rc;
}

int nnm_cmd_tune(int argc, char **argv)
{
    nnm_config c;
    nnm_config_defaults(&c);
    c.validation = 0.1f;
    nnm_cli_extra x;
    char err[NNM_PATH_MAX];
    int prc = nnm_parse_run_options(argc, argv, &c, NNM_PARSE_TUNE, &x, err, sizeof err);
    if (prc == 1) {
        usage(stdout);
        return 0;
    }
    if (prc == 0 && !(c.validation > 0)) {
        snprintf(err, sizeof err, "tune chooses on a validation split: --validation must be above 0");
        prc = -1;
    }
    if (prc == 0 && x.n_lrs > 0 && x.n_batches > 0) {
        snprintf(err, sizeof err, "--lrs and --batch-sizes: tune sweeps one of them at a time");
        prc = -1;
    }
    if (prc == 0 && x.n_batches == 0 && (c.lr > 0 || c.lr_from)) {
        snprintf(err, sizeof err, "tune sweeps the learning rate (--lrs): --lr and --lr-from apply only with "
                                  "--batch-sizes");
        prc = -1;
    }
    if (prc == 0 && x.scale_lr && x.n_batches == 0) {
        snprintf(err, sizeof err, "--scale-lr scales the rate with the batch size: give --batch-sizes too");
        prc = -1;
    }
    if (prc != 0 || nnm_config_validate(&c, err, sizeof err) != 0) {
        if (err[0]) fprintf(stderr, "nn-mnist tune: %s\n", err);
        return 2;
    }
    int kind = x.n_batches > 0 ? NNM_SWEEP_BATCH : NNM_SWEEP_LR;
    if (kind == NNM_SWEEP_LR && x.n_lrs == 0) {
        /* 1e-4 to 1 in half decades: the range DeepOBS and Keras users search. */
        const double grid[] = {1e-4, 3.2e-4, 1e-3, 3.2e-3, 1e-2, 3.2e-2, 0.1, 0.32, 1};
        x.n_lrs = (int)(sizeof grid / sizeof grid[0]);
        memcpy(x.lrs, grid, sizeof grid);
    }
    /* The batch sweep runs at the tuned rates when there are some and no rate was given. */
    char tuned[NNM_PATH_MAX];
    snprintf(tuned, sizeof tuned, "%s/tuned_lr.csv", c.out_dir);
    if (kind == NNM_SWEEP_BATCH && !c.lr_from && c.lr == 0 && nnm_file_exists(tuned)) {
        if (nnm_load_tuned_lr(&c, tuned, err, sizeof err) != 0) {
            fprintf(stderr, "nn-mnist tune: %s\n", err);
            return 2;
        }
        if (!c.quiet) fprintf(stderr, "nn-mnist tune: the batch sizes at the rates of %s\n", tuned);
    } else if (kind == NNM_SWEEP_BATCH && !c.quiet) {
        fprintf(stderr, "nn-mnist tune: the batch sizes at %s\n",
                c.lr_from ? "the rates of --lr-from" : c.lr > 0 ? "--lr" : "each optimizer's default rate (no tuned_lr.csv)");
    }
    char work[NNM_PATH_MAX], models[NNM_PATH_MAX];
    snprintf(work, sizeof work, "%s/%s", c.out_dir, kind == NNM_SWEEP_LR ? "tune-lr" : "tune-batch");
    snprintf(models, sizeof models, "%s/models", work);
    const char *out_dir = c.out_dir;
    if (nnm_mkdirs(out_dir, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist tune: %s\n", err);
        return 2;
    }
    nnm_config wc = c;
    wc.out_dir = work;
    /* tune holds out other images than grid with the same --seed: the rate is chosen on one split and
     * the best cell of `grid --lr tuned` on another, so that neither choice sees the other's data. */
    wc.split_seed = c.seed ^ UINT64_C(0x74756e65); /* "tune" */
    if (!strcmp(wc.models_dir, "models")) wc.models_dir = models;
    nnm_plan plan;
    const double *values = kind == NNM_SWEEP_LR ? x.lrs : x.batches;
    int n_values = kind == NNM_SWEEP_LR ? x.n_lrs : x.n_batches;
    if (nnm_plan_sweep(&wc, kind, values, n_values, x.scale_lr, c.batch_size, &plan, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist tune: %s\n", err);
        return 1;
    }
    int rep = 0, rc = nnm_schedule(&wc, &plan, "tune", &argc, &argv, &rep);
    if (rc == 0 && rep) rc = report(&c, work, &plan, kind, values, n_values);
    nnm_plan_free(&plan);
    return rc;
}
