#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#include "fsutil.h"
#include "plot.h"

static int optimizer_rank(const char *name)
{
    for (int k = 0; k < 64; k++) {
        const char *n = nn_optimizer_kind_name((nn_optimizer_kind)k);
        if (!n) break;
        if (!strcmp(n, name)) return k;
    }
    return 1000;
}

static int activation_rank(const char *name)
{
    nn_activation a;
    return nn_activation_from_name(&a, name) == NN_OK ? (int)a.kind : 1000;
}

static int by_grid_order(const void *pa, const void *pb)
{
    const nnm_record *a = pa, *b = pb;
    int d = optimizer_rank(a->optimizer) - optimizer_rank(b->optimizer);
    if (!d) d = activation_rank(a->activation) - activation_rank(b->activation);
    if (!d) d = strcmp(a->run_id, b->run_id);
    return d;
}

void nnm_report_sort(nnm_record *recs, int n) { qsort(recs, (size_t)n, sizeof *recs, by_grid_order); }

/* The unique values of a field, in record order, at most cap of them. */
static int unique_names(const nnm_record *recs, int n, int field, const char **out, int cap)
{
    int k = 0;
    for (int i = 0; i < n && k < cap; i++) {
        const char *v = field ? recs[i].activation : recs[i].optimizer;
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= !strcmp(out[j], v);
        if (!seen) out[k++] = v;
    }
    return k;
}

static int diverged(const nnm_record *r) { return r->diverged_epoch > 0; }

/* "%.6f", or "nan" for a diverged run's metrics whatever the sign bit of the NaN read back. */
static const char *metric(char *buf, size_t cap, double v)
{
    if (isnan(v)) snprintf(buf, cap, "nan");
    else snprintf(buf, cap, "%.6f", v);
    return buf;
}

/* "diverged (epoch 3, step 120)" or, for a run whose final evaluation overflowed, "diverged (final
 * evaluation)". */
static void divergence_note(char *buf, size_t cap, const nnm_record *r)
{
    if (r->diverged_step > 0)
        snprintf(buf, cap, "diverged (epoch %d, step %lld)", r->diverged_epoch, (long long)r->diverged_step);
    else
        snprintf(buf, cap, "diverged (final evaluation)");
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

static int write_csv(const char *out_dir, const nnm_record *recs, int n, char *err, size_t errlen)
{
    /* Every line is bounded (names of at most 32 bytes, metrics range-checked when records are read),
     * and each snprintf is still checked against the room left. */
    size_t cap = 512 + (size_t)n * (512 + NNM_MAX_ARCH_TEXT), len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Two more columns when a run used --dropout or --batchnorm; without them the CSV stays the
     * original study's, byte for byte. */
    int reg = regularised(recs, n), opts = has_training_options(recs, n);
    /* Likewise three more for --arch, --augment and --lr-schedule; the list is quoted (RFC 4180), as
     * it holds commas. */
    int w = snprintf(buf, cap, "Optimizer,Activation,Train Accuracy,Test Accuracy,Train Loss,Test Loss,"
                               "Epochs,Batch Size,Learning Rate,Seed,Parameters,BLAS Threads%s%s\n",
                     reg ? ",Dropout,Batch Norm" : "", opts ? ",Architecture,Augment,LR Schedule" : "");
    len = (size_t)w;
    for (int i = 0; i < n && w >= 0 && len < cap; i++) {
        const nnm_record *r = &recs[i];
        /* A diverged run keeps its row, and the six leading columns, with "nan" for its metrics
         * (pandas and R read it as missing): the run finished, it has no results. */
        char m[4][32];
        char extra[64] = "", more[NNM_MAX_ARCH_TEXT + 64] = "";
        if (reg) snprintf(extra, sizeof extra, ",%.6g,%d", r->dropout, r->batchnorm);
        if (opts)
            snprintf(more, sizeof more, ",\"%s\",%d,%s", r->arch[0] ? r->arch : "mlp", r->augment,
                     r->lr_schedule[0] ? r->lr_schedule : "constant");
        w = snprintf(buf + len, cap - len, "%s,%s,%s,%s,%s,%s,%d,%lld,%.6g,%llu,%lld,%d%s%s\n", r->optimizer,
                     r->activation, metric(m[0], sizeof m[0], r->train_accuracy),
                     metric(m[1], sizeof m[1], r->test_accuracy), metric(m[2], sizeof m[2], r->train_loss),
                     metric(m[3], sizeof m[3], r->test_loss), r->epochs,
                     (long long)r->batch_size, r->lr, (unsigned long long)r->seed, (long long)r->params,
                     r->blas_threads, extra, more);
        if (w >= 0) len += (size_t)w;
    }
    if (w < 0 || len >= cap) {
        free(buf);
        snprintf(err, errlen, "results.csv: a record holds values too long to tabulate");
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/results.csv", out_dir);
    int rc = nnm_write_atomic(path, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* The run with the best test accuracy, or -1 when every run diverged. */
static int best_index(const nnm_record *recs, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (!diverged(&recs[i]) && (best < 0 || recs[i].test_accuracy > recs[best].test_accuracy)) best = i;
    return best;
}

/* Figures are written to a temporary name and renamed, like everything else in the results folder. */
static int figures(const char *out_dir, const nnm_record *recs, int n, char *err, size_t errlen)
{
    char path[4096];
    const char *labels[NNM_PLOT_MAX_BARS], *bar_marks[NNM_PLOT_MAX_BARS];
    double values[NNM_PLOT_MAX_BARS];
    char names[NNM_PLOT_MAX_BARS][80];
    int nb = n < NNM_PLOT_MAX_BARS ? n : NNM_PLOT_MAX_BARS;
    for (int i = 0; i < nb; i++) {
        snprintf(names[i], sizeof names[i], "%s\n%s", recs[i].optimizer, recs[i].activation);
        labels[i] = names[i];
        values[i] = diverged(&recs[i]) ? NAN : recs[i].test_accuracy;
        bar_marks[i] = diverged(&recs[i]) ? "diverged" : NULL;
    }
    snprintf(path, sizeof path, "%s/results.png", out_dir);
    if (nnm_plot_bars_marked(path, "Test accuracy by optimizer and activation", "Test accuracy", labels, values,
                             bar_marks, nb, err, errlen) != 0)
        return -1;

    const char *opts[NNM_MAX_LIST * 4], *acts[NNM_MAX_LIST * 4];
    int no = unique_names(recs, n, 0, opts, NNM_MAX_LIST * 4), na = unique_names(recs, n, 1, acts, NNM_MAX_LIST * 4);
    double *cells = malloc((size_t)(no * na) * sizeof(double));
    const char **cell_marks = calloc((size_t)(no * na), sizeof *cell_marks);
    if (!cells || !cell_marks) {
        free(cells);
        free(cell_marks);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < no * na; i++) cells[i] = NAN;
    for (int i = 0; i < n; i++)
        for (int r = 0; r < no; r++)
            for (int c = 0; c < na; c++)
                if (!strcmp(recs[i].optimizer, opts[r]) && !strcmp(recs[i].activation, acts[c])) {
                    cells[r * na + c] = diverged(&recs[i]) ? NAN : recs[i].test_accuracy;
                    cell_marks[r * na + c] = diverged(&recs[i]) ? "diverged" : NULL;
                }
    snprintf(path, sizeof path, "%s/results_heatmap.png", out_dir);
    int rc = nnm_plot_heatmap_marked(path, "Test accuracy: optimizer x activation", "Optimizer", "Activation", opts,
                                     no, acts, na, cells, cell_marks, "%.4f", NNM_CMAP_VIRIDIS, err, errlen);
    free(cells);
    free(cell_marks);
    if (rc != 0) return -1;

    /* The best run's confusion matrix; when every run diverged, an empty one that says so. */
    int bi = best_index(recs, n);
    const nnm_record *b = &recs[bi < 0 ? 0 : bi];
    int k = b->classes;
    double *conf = malloc((size_t)(k * k) * sizeof(double));
    char (*cls)[12] = malloc((size_t)k * sizeof *cls);
    const char **cl = malloc((size_t)k * sizeof *cl);
    if (!conf || !cls || !cl) {
        free(conf);
        free(cls);
        free(cl);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < k * k; i++) conf[i] = bi < 0 ? NAN : (double)b->confusion[i]; /* grey "n/a" cells */
    for (int i = 0; i < k; i++) {
        snprintf(cls[i], sizeof cls[i], "%d", i);
        cl[i] = cls[i];
    }
    char title[160];
    if (bi < 0)
        snprintf(title, sizeof title, "Confusion matrix: none, every run diverged");
    else
        snprintf(title, sizeof title, "Confusion matrix: %s + %s (test accuracy %.4f)", b->optimizer, b->activation,
                 b->test_accuracy);
    snprintf(path, sizeof path, "%s/confusion_matrix.png", out_dir);
    rc = nnm_plot_heatmap(path, title, "True label", "Predicted label", cl, k, cl, k, conf, "%.0f", NNM_CMAP_BLUES,
                          err, errlen);
    free(conf);
    free(cls);
    free(cl);
    if (rc != 0) return -1;

    const char *series[NNM_PLOT_MAX_SERIES];
    const double *ys[NNM_PLOT_MAX_SERIES];
    int lens[NNM_PLOT_MAX_SERIES], ns = n < NNM_PLOT_MAX_SERIES ? n : NNM_PLOT_MAX_SERIES;
    char snames[NNM_PLOT_MAX_SERIES][80];
    for (int i = 0; i < ns; i++) {
        snprintf(snames[i], sizeof snames[i], "%s / %s%s", recs[i].optimizer, recs[i].activation,
                 diverged(&recs[i]) ? " (diverged)" : "");
        series[i] = snames[i];
        ys[i] = recs[i].curve_test_accuracy;
        lens[i] = recs[i].n_curve;
    }
    snprintf(path, sizeof path, "%s/curves.png", out_dir);
    return nnm_plot_curves(path, "Test accuracy per epoch", "Epoch", "Test accuracy", series, ys, lens, ns, err, errlen);
}

int nnm_report_write(const char *out_dir, const nnm_record *recs, int n, char *err, size_t errlen)
{
    if (n <= 0) {
        snprintf(err, errlen, "no finished runs to report in %s", out_dir);
        return -1;
    }
    if (write_csv(out_dir, recs, n, err, errlen) != 0) return -1;
    return figures(out_dir, recs, n, err, errlen);
}

static int by_test_accuracy(const void *pa, const void *pb)
{
    const nnm_record *a = *(const nnm_record *const *)pa, *b = *(const nnm_record *const *)pb;
    if (diverged(a) != diverged(b)) return diverged(a) ? 1 : -1; /* diverged runs last: NaN has no order */
    if (!diverged(a) && a->test_accuracy != b->test_accuracy) return a->test_accuracy < b->test_accuracy ? 1 : -1;
    return by_grid_order(a, b); /* ties in a fixed order */
}

void nnm_report_summary(FILE *f, const nnm_record *recs, int n)
{
    const nnm_record **sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted) return;
    for (int i = 0; i < n; i++) sorted[i] = &recs[i];
    qsort(sorted, (size_t)n, sizeof *sorted, by_test_accuracy);
    fprintf(f, "\nFinal Results Summary:\n");
    /* The regularisation, when there is one, is the grid's (a folder holds one setting, grid.c). */
    if (regularised(recs, n)) {
        if (recs[0].batchnorm && recs[0].dropout > 0)
            fprintf(f, "(hidden layers with batch norm and dropout %.6g)\n", recs[0].dropout);
        else if (recs[0].batchnorm)
            fprintf(f, "(hidden layers with batch norm)\n");
        else
            fprintf(f, "(hidden layers with dropout %.6g)\n", recs[0].dropout);
    }
    /* And the network, augmentation and schedule, when not the original study's. */
    if (n > 0 && has_training_options(recs, n)) {
        fprintf(f, "(network: %s%s%s%s)\n", recs[0].arch[0] ? recs[0].arch : "mlp",
                recs[0].augment ? "; augmented: shifts and rotations" : "",
                recs[0].lr_schedule[0] ? "; learning rate schedule: " : "", recs[0].lr_schedule);
    }
    fprintf(f, "%-10s %-11s %14s %13s %10s %10s\n", "Optimizer", "Activation", "Train Accuracy", "Test Accuracy",
            "Train Loss", "Test Loss");
    for (int i = 0; i < n; i++) {
        const nnm_record *r = sorted[i];
        if (diverged(r)) {
            char note[96];
            divergence_note(note, sizeof note, r);
            fprintf(f, "%-10s %-11s %14s %13s %10s %10s  %s\n", r->optimizer, r->activation, "nan", "nan", "nan", "nan",
                    note);
            continue;
        }
        fprintf(f, "%-10s %-11s %14.4f %13.4f %10.4f %10.4f\n", r->optimizer, r->activation, r->train_accuracy,
                r->test_accuracy, r->train_loss, r->test_loss);
    }
    free(sorted);
}

int nnm_report_load_all(const char *out_dir, nnm_record **out, int *n, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/runs", out_dir);
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "no run records in %s (run `nn-mnist grid` first)", dir);
        return -1;
    }
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".rec") != 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            nnm_record *bigger = realloc(*out, (size_t)cap * sizeof **out);
            if (!bigger) break;
            *out = bigger;
        }
        char path[4096 + 256], why[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (nnm_record_load(&(*out)[*n], path, why, sizeof why) == 0) (*n)++;
        else fprintf(stderr, "nn-mnist: skipping %s\n", why);
    }
    closedir(d);
    nnm_report_sort(*out, *n);
    return 0;
}

int nnm_cmd_report(int argc, char **argv)
{
    const char *out_dir = "results";
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        if (ch == 'o') out_dir = optarg;
        else if (ch == 'h') {
            printf("Usage: nn-mnist report [--out DIR]\n\n"
                   "Rebuild results.csv, the figures and the summary from the run records in DIR/runs,\n"
                   "without training.\n\n  --out DIR   results folder [results]\n");
            return 0;
        } else {
            fprintf(stderr, "Try 'nn-mnist report --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "nn-mnist report: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!out_dir[0]) { /* it would read "/runs" */
        fprintf(stderr, "nn-mnist report: --out is empty; give the results folder (or leave the option out)\n");
        return 2;
    }
    nnm_record *recs;
    int n;
    char err[1024];
    if (nnm_report_load_all(out_dir, &recs, &n, err, sizeof err) != 0 ||
        nnm_report_write(out_dir, recs, n, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist report: %s\n", err);
        for (int i = 0; i < n; i++) nnm_record_free(&recs[i]);
        free(recs);
        return 1;
    }
    nnm_report_summary(stdout, recs, n);
    for (int i = 0; i < n; i++) nnm_record_free(&recs[i]);
    free(recs);
    return 0;
}
