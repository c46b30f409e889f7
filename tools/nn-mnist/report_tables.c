/* The report's tables: results.csv (a row per cell), runs.csv (a row per run), history.csv (a row per
 * run and epoch), classification_report.csv (the best model's classes). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "report_internal.h"
#include "strbuf.h"

const char *nnm_metric_text(char *buf, size_t cap, double v)
{
    if (isnan(v)) snprintf(buf, cap, "nan");
    else snprintf(buf, cap, "%.6f", v);
    return buf;
}

/* Whether any run used --dropout or --batchnorm. */
static int regularised(const nnm_record *recs, int n)
{
    for (int i = 0; i < n; i++)
        if (recs[i].dropout > 0 || recs[i].batchnorm) return 1;
    return 0;
}

/* Whether any run used --arch (other than mlp), --augment or --lr-schedule cosine. */
static int has_training_options(const nnm_record *recs, int n)
{
    for (int i = 0; i < n; i++)
        if (recs[i].arch[0] || recs[i].augment || recs[i].lr_schedule[0]) return 1;
    return 0;
}

static int save(const char *out_dir, const char *name, nnm_strbuf *b, char *err, size_t errlen)
{
    char path[NNM_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    return nnm_sb_save(b, path, err, errlen);
}

/* The columns after the metrics, which describe how a run trained; a cell's are its first run's
 * (runs of a cell differ only by seed). */
static void settings_columns(nnm_strbuf *b, const nnm_record *r)
{
    nnm_sb_add(b, ",%d,%lld,%.6g", r->epochs, (long long)r->batch_size, r->lr);
}

static void tail_columns(nnm_strbuf *b, const nnm_record *r, int reg, int opts, int protocol)
{
    nnm_sb_add(b, ",%lld,%d", (long long)r->params, r->blas_threads);
    /* RFC 4180: the list is quoted, as it holds commas. */
    if (reg) nnm_sb_add(b, ",%.6g,%d", r->dropout, r->batchnorm);
    if (opts)
        nnm_sb_add(b, ",\"%s\",%d,%s", r->arch[0] ? r->arch : "mlp", r->augment,
                   r->lr_schedule[0] ? r->lr_schedule : "constant");
    if (protocol) nnm_sb_add(b, ",%.6g,%d", r->validation, r->patience);
}

static void tail_header(nnm_strbuf *b, int reg, int opts, int protocol)
{
    nnm_sb_add(b, ",Parameters,BLAS Threads%s%s%s\n", reg ? ",Dropout,Batch Norm" : "",
               opts ? ",Architecture,Augment,LR Schedule" : "", protocol ? ",Validation,Patience" : "");
}

static const char *const metric_names[6] = {"Train Accuracy", "Test Accuracy", "Train Loss", "Test Loss",
                                             "Validation Accuracy", "Validation Loss"};

static const nnm_stat *cell_metric(const nnm_cell *c, int k)
{
    const nnm_stat *m[6] = {&c->train_accuracy, &c->test_accuracy, &c->train_loss, &c->test_loss, &c->val_accuracy,
                            &c->val_loss};
    return m[k];
}

/* results.csv. One seed per cell: a row per run, the original study's columns (and its bytes, when
 * no option of the protocol is used). Several: a row per cell, the six columns the means, then the
 * spread of each metric and n, so that the file still reads as the original table first. */
static int results_csv(const char *out_dir, const nnm_record *recs, int n, const nnm_study *s, char *err,
                       size_t errlen)
{
    int reg = regularised(recs, n), opts = has_training_options(recs, n), protocol = s->validation;
    int seeds = s->max_runs > 1, metrics = protocol ? 6 : 4;
    nnm_strbuf b = {0};
    nnm_sb_add(&b, "Optimizer,Activation,Train Accuracy,Test Accuracy,Train Loss,Test Loss");
    if (protocol) nnm_sb_add(&b, ",Validation Accuracy,Validation Loss");
    if (seeds) {
        for (int k = 0; k < metrics; k++) nnm_sb_add(&b, ",%s SD,%s CI95", metric_names[k], metric_names[k]);
        nnm_sb_add(&b, ",N,Diverged");
    }
    nnm_sb_add(&b, ",Epochs,Batch Size,Learning Rate,%s", seeds ? "Seeds" : "Seed");
    tail_header(&b, reg, opts, protocol);
    char m[2][32];
    if (!seeds) {
        /* A diverged run keeps its row, and the six leading columns, with "nan" for its metrics
         * (pandas and R read it as missing): the run finished, it has no results. */
        for (int i = 0; i < n; i++) {
            const nnm_record *r = &recs[i];
            const double v[6] = {r->train_accuracy, r->test_accuracy, r->train_loss, r->test_loss, r->val_accuracy,
                                 r->val_loss};
            nnm_sb_add(&b, "%s,%s", r->optimizer, r->activation);
            for (int k = 0; k < metrics; k++) nnm_sb_add(&b, ",%s", nnm_metric_text(m[0], sizeof m[0], v[k]));
            settings_columns(&b, r);
            nnm_sb_add(&b, ",%" PRIu64, r->seed);
            tail_columns(&b, r, reg, opts, protocol);
            nnm_sb_add(&b, "\n");
        }
        return save(out_dir, "results.csv", &b, err, errlen);
    }
    for (int c = 0; c < s->n_cells; c++) {
        const nnm_cell *cell = &s->cells[c];
        const nnm_record *r = cell->runs[0];
        nnm_sb_add(&b, "%s,%s", r->optimizer, r->activation);
        for (int k = 0; k < metrics; k++) nnm_sb_add(&b, ",%s", nnm_metric_text(m[0], sizeof m[0], cell_metric(cell, k)->mean));
        for (int k = 0; k < metrics; k++)
            nnm_sb_add(&b, ",%s,%s", nnm_metric_text(m[0], sizeof m[0], cell_metric(cell, k)->sd),
                       nnm_metric_text(m[1], sizeof m[1], cell_metric(cell, k)->ci95));
        nnm_sb_add(&b, ",%d,%d", cell->test_accuracy.n, cell->diverged);
        settings_columns(&b, r);
        nnm_sb_add(&b, ",");
        for (int i = 0; i < cell->n; i++) nnm_sb_add(&b, "%s%" PRIu64, i ? " " : "", cell->runs[i]->seed);
        tail_columns(&b, r, reg, opts, protocol);
        nnm_sb_add(&b, "\n");
    }
    return save(out_dir, "results.csv", &b, err, errlen);
}

/* runs.csv: every run, whatever the seeds, with the seconds it took and where it stopped. */
static int runs_csv(const char *out_dir, const nnm_record *recs, int n, char *err, size_t errlen)
{
    nnm_strbuf b = {0};
    nnm_sb_add(&b, "Run,Optimizer,Activation,Seed,Learning Rate,Batch Size,Epochs,Train Accuracy,Test Accuracy,"
                   "Train Loss,Test Loss,Validation Accuracy,Validation Loss,Epochs Trained,Best Epoch,"
                   "Diverged Epoch,Seconds\n");
    char m[6][32];
    for (int i = 0; i < n; i++) {
        const nnm_record *r = &recs[i];
        nnm_sb_add(&b, "%s,%s,%s,%" PRIu64 ",%.6g,%lld,%d,%s,%s,%s,%s,%s,%s,%d,%d,%d,%.3f\n", r->run_id, r->optimizer,
                   r->activation, r->seed, r->lr, (long long)r->batch_size, r->epochs,
                   nnm_metric_text(m[0], 32, r->train_accuracy), nnm_metric_text(m[1], 32, r->test_accuracy),
                   nnm_metric_text(m[2], 32, r->train_loss), nnm_metric_text(m[3], 32, r->test_loss),
                   nnm_metric_text(m[4], 32, r->val_accuracy), nnm_metric_text(m[5], 32, r->val_loss), r->n_curve,
                   r->best_epoch, r->diverged_epoch, r->seconds);
    }
    return save(out_dir, "runs.csv", &b, err, errlen);
}

/* history.csv: the per-epoch figures of every run, in the long form plotting tools take. */
static int history_csv(const char *out_dir, const nnm_record *recs, int n, char *err, size_t errlen)
{
    nnm_strbuf b = {0};
    nnm_sb_add(&b, "Run,Optimizer,Activation,Seed,Epoch,Train Loss,Train Accuracy,Held-out Set,Held-out Loss,"
                   "Held-out Accuracy\n");
    char m[4][32];
    for (int i = 0; i < n; i++) {
        const nnm_record *r = &recs[i];
        for (int e = 0; e < r->n_curve; e++)
            nnm_sb_add(&b, "%s,%s,%s,%" PRIu64 ",%d,%s,%s,%s,%s,%s\n", r->run_id, r->optimizer, r->activation, r->seed,
                       e + 1, nnm_metric_text(m[0], 32, r->curve_loss[e]),
                       nnm_metric_text(m[1], 32, r->curve_accuracy[e]), r->validation > 0 ? "validation" : "test",
                       nnm_metric_text(m[2], 32, r->curve_heldout_loss[e]),
                       nnm_metric_text(m[3], 32, r->curve_heldout_accuracy[e]));
    }
    return save(out_dir, "history.csv", &b, err, errlen);
}

/* classification_report.csv: scikit-learn's report of the best run, as a table. */
static int class_report_csv(const char *out_dir, const nnm_study *s, char *err, size_t errlen)
{
    const nnm_record *r = s->best_run;
    nnm_strbuf b = {0};
    nnm_sb_add(&b, "Class,Precision,Recall,F1,Support\n");
    if (r) {
        int k = r->classes;
        nnm_class_report *rows = calloc((size_t)k, sizeof *rows);
        nnm_class_report macro, weighted;
        double accuracy;
        if (!rows || nnm_classification_report(r->confusion, k, rows, &macro, &weighted, &accuracy) != 0) {
            free(rows);
            nnm_sb_free(&b);
            snprintf(err, errlen, "classification_report.csv: the best run's confusion matrix is not one");
            return -1;
        }
        for (int i = 0; i < k; i++)
            nnm_sb_add(&b, "%d,%.6f,%.6f,%.6f,%lld\n", i, rows[i].precision, rows[i].recall, rows[i].f1,
                       (long long)rows[i].support);
        nnm_sb_add(&b, "accuracy,,,%.6f,%lld\n", accuracy, (long long)macro.support);
        nnm_sb_add(&b, "macro avg,%.6f,%.6f,%.6f,%lld\n", macro.precision, macro.recall, macro.f1,
                   (long long)macro.support);
        nnm_sb_add(&b, "weighted avg,%.6f,%.6f,%.6f,%lld\n", weighted.precision, weighted.recall, weighted.f1,
                   (long long)weighted.support);
        free(rows);
    }
    return save(out_dir, "classification_report.csv", &b, err, errlen);
}

int nnm_report_tables(const char *out_dir, const nnm_record *recs, int n, const nnm_study *s, char *err, size_t errlen)
{
    if (results_csv(out_dir, recs, n, s, err, errlen) != 0 || runs_csv(out_dir, recs, n, err, errlen) != 0 ||
        history_csv(out_dir, recs, n, err, errlen) != 0 || class_report_csv(out_dir, s, err, errlen) != 0)
        return -1;
    return 0;
}
