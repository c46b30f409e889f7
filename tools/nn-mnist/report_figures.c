/* The report's figures, from the study's cells: with several seeds, error bars, mean +- sd and bands
 * show the spread; with one, the figures of the original study. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "plot.h"
#include "report_internal.h"

static int diverged_cell(const nnm_cell *c) { return c->diverged == c->n; }

/* The unique values of a field over the cells, in cell order, at most cap of them. */
static int unique_names(const nnm_study *s, int activation, const char **out, int cap)
{
    int k = 0;
    for (int i = 0; i < s->n_cells && k < cap; i++) {
        const char *v = activation ? s->cells[i].runs[0]->activation : s->cells[i].runs[0]->optimizer;
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= !strcmp(out[j], v);
        if (!seen) out[k++] = v;
    }
    return k;
}

static int bars(const char *out_dir, const nnm_study *s, char *err, size_t errlen)
{
    const char *labels[NNM_PLOT_MAX_BARS], *marks[NNM_PLOT_MAX_BARS];
    double values[NNM_PLOT_MAX_BARS], errors[NNM_PLOT_MAX_BARS];
    char names[NNM_PLOT_MAX_BARS][80], path[NNM_PATH_MAX], title[160];
    int nb = s->n_cells < NNM_PLOT_MAX_BARS ? s->n_cells : NNM_PLOT_MAX_BARS;
    for (int i = 0; i < nb; i++) {
        const nnm_cell *c = &s->cells[i];
        snprintf(names[i], sizeof names[i], "%s\n%s", c->runs[0]->optimizer, c->runs[0]->activation);
        labels[i] = names[i];
        values[i] = diverged_cell(c) ? NAN : c->test_accuracy.mean;
        errors[i] = c->test_accuracy.ci95;
        marks[i] = diverged_cell(c) ? "diverged" : NULL;
    }
    snprintf(path, sizeof path, "%s/results.png", out_dir);
    if (s->max_runs > 1)
        snprintf(title, sizeof title, "Test accuracy by optimizer and activation (mean, 95%% CI, %d seeds)", s->max_runs);
    else
        snprintf(title, sizeof title, "Test accuracy by optimizer and activation");
    return nnm_plot_bars_err(path, title, "Test accuracy", labels, values, s->max_runs > 1 ? errors : NULL, marks, nb,
                             err, errlen);
}

static int heatmap(const char *out_dir, const nnm_study *s, char *err, size_t errlen)
{
    const char *opts[NNM_MAX_LIST * 4], *acts[NNM_MAX_LIST * 4];
    int no = unique_names(s, 0, opts, NNM_MAX_LIST * 4), na = unique_names(s, 1, acts, NNM_MAX_LIST * 4);
    double *cells = malloc((size_t)(no * na) * sizeof(double));
    const char **marks = calloc((size_t)(no * na), sizeof *marks), **texts = calloc((size_t)(no * na), sizeof *texts);
    char (*text)[48] = calloc((size_t)(no * na), sizeof *text);
    int rc = -1;
    if (!cells || !marks || !texts || !text) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < no * na; i++) cells[i] = NAN;
    for (int i = 0; i < s->n_cells; i++) {
        const nnm_cell *c = &s->cells[i];
        for (int r = 0; r < no; r++)
            for (int k = 0; k < na; k++)
                if (!strcmp(c->runs[0]->optimizer, opts[r]) && !strcmp(c->runs[0]->activation, acts[k])) {
                    int at = r * na + k;
                    cells[at] = diverged_cell(c) ? NAN : c->test_accuracy.mean;
                    marks[at] = diverged_cell(c) ? "diverged" : NULL;
                    if (s->max_runs > 1 && !diverged_cell(c)) {
                        if (isnan(c->test_accuracy.sd)) snprintf(text[at], sizeof text[at], "%.4f", cells[at]);
                        else snprintf(text[at], sizeof text[at], "%.4f\n\u00b1%.4f", cells[at], c->test_accuracy.sd);
                        texts[at] = text[at];
                    }
                }
    }
    char path[NNM_PATH_MAX], title[160];
    snprintf(path, sizeof path, "%s/results_heatmap.png", out_dir);
    if (s->max_runs > 1)
        snprintf(title, sizeof title, "Test accuracy: optimizer x activation (mean \u00b1 sd, %d seeds)", s->max_runs);
    else
        snprintf(title, sizeof title, "Test accuracy: optimizer x activation");
    rc = nnm_plot_heatmap_text(path, title, "Optimizer", "Activation", opts, no, acts, na, cells, marks,
                               s->max_runs > 1 ? texts : NULL, "%.4f", NNM_CMAP_VIRIDIS, err, errlen);
done:
    free(cells);
    free(marks);
    free(texts);
    free(text);
    return rc;
}

/* The best run's confusion matrix, in counts and normalised by row (each row the recall of a class);
 * when every run diverged, empty ones that say so. */
static int confusion(const char *out_dir, const nnm_record *recs, const nnm_study *s, char *err, size_t errlen)
{
    const nnm_record *b = s->best_run ? s->best_run : &recs[0];
    int k = b->classes;
    double *conf = malloc((size_t)(k * k) * sizeof(double));
    char (*cls)[12] = malloc((size_t)k * sizeof *cls);
    const char **cl = malloc((size_t)k * sizeof *cl);
    int rc = -1;
    if (!conf || !cls || !cl) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < k * k; i++) conf[i] = s->best_run ? (double)b->confusion[i] : NAN; /* grey "n/a" cells */
    for (int i = 0; i < k; i++) {
        snprintf(cls[i], sizeof cls[i], "%d", i);
        cl[i] = cls[i];
    }
    char title[200], path[NNM_PATH_MAX];
    if (!s->best_run)
        snprintf(title, sizeof title, "Confusion matrix: none, every run diverged");
    else if (s->max_runs > 1)
        snprintf(title, sizeof title, "Confusion matrix: %s + %s, seed %llu (test accuracy %.4f)", b->optimizer,
                 b->activation, (unsigned long long)b->seed, b->test_accuracy);
    else
        snprintf(title, sizeof title, "Confusion matrix: %s + %s (test accuracy %.4f)", b->optimizer, b->activation,
                 b->test_accuracy);
    snprintf(path, sizeof path, "%s/confusion_matrix.png", out_dir);
    if (nnm_plot_heatmap(path, title, "True label", "Predicted label", cl, k, cl, k, conf, "%.0f", NNM_CMAP_BLUES,
                         err, errlen) != 0)
        goto done;
    for (int r = 0; r < k && s->best_run; r++) {
        double sum = 0;
        for (int c = 0; c < k; c++) sum += conf[r * k + c];
        for (int c = 0; c < k; c++) conf[r * k + c] = sum > 0 ? conf[r * k + c] / sum : NAN;
    }
    /* Shorter than the counts' title, which the same canvas must hold with a suffix. */
    char title2[240];
    if (!s->best_run) snprintf(title2, sizeof title2, "%s", title);
    else snprintf(title2, sizeof title2, "Row-normalised confusion: %s + %s", b->optimizer, b->activation);
    snprintf(path, sizeof path, "%s/confusion_matrix_normalized.png", out_dir);
    rc = nnm_plot_heatmap(path, title2, "True label", "Predicted label", cl, k, cl, k, conf, "%.2f", NNM_CMAP_BLUES,
                          err, errlen);
done:
    free(conf);
    free(cls);
    free(cl);
    return rc;
}

/* Per epoch over a cell's runs: the mean and the range (a run stopped early counts until it stopped). */
typedef struct band {
    double *mean, *lo, *hi;
    int n;
} band;

static int band_of(const nnm_cell *c, int heldout, int accuracy, band *b)
{
    int n = 0;
    for (int i = 0; i < c->n; i++)
        if (c->runs[i]->n_curve > n) n = c->runs[i]->n_curve;
    b->n = n;
    b->mean = calloc((size_t)(n > 0 ? n : 1) * 3, sizeof(double));
    if (!b->mean) return -1;
    b->lo = b->mean + n;
    b->hi = b->lo + n;
    for (int e = 0; e < n; e++) {
        double sum = 0, lo = INFINITY, hi = -INFINITY;
        int m = 0;
        for (int i = 0; i < c->n; i++) {
            const nnm_record *r = c->runs[i];
            if (e >= r->n_curve) continue;
            double v = heldout ? (accuracy ? r->curve_heldout_accuracy[e] : r->curve_heldout_loss[e])
                               : (accuracy ? r->curve_accuracy[e] : r->curve_loss[e]);
            if (!isfinite(v)) continue;
            sum += v;
            m++;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        b->mean[e] = m ? sum / m : NAN;
        b->lo[e] = m > 1 ? lo : NAN;
        b->hi[e] = m > 1 ? hi : NAN;
    }
    return 0;
}

/* The tab10 colour of the k-th cell shown: every colour but grey. */
static int colour(int k) { return k < 7 ? k : k + 1; }

/* curves.png (the held-out accuracy per epoch) and history.png (loss and accuracy, train and held
 * out). One seed per cell: curves.png is the original study's figure. */
static int curves(const char *out_dir, const nnm_study *s, char *err, size_t errlen)
{
    enum { MAX_CELLS = 48 }; /* two lines each in history.png, within NNM_PLOT_MAX_SERIES */
    int nc = s->n_cells < MAX_CELLS ? s->n_cells : MAX_CELLS, rc = -1;
    const char *heldout = s->validation ? "Validation" : "Test";
    char names[MAX_CELLS][80], path[NNM_PATH_MAX], title[160], ylabel[64];
    band bands[MAX_CELLS][4];
    memset(bands, 0, sizeof bands);
    for (int i = 0; i < nc; i++) {
        const nnm_cell *c = &s->cells[i];
        snprintf(names[i], sizeof names[i], "%s / %s%s", c->runs[0]->optimizer, c->runs[0]->activation,
                 diverged_cell(c) ? " (diverged)" : "");
        for (int k = 0; k < 4; k++)
            if (band_of(c, k >= 2, k % 2, &bands[i][k]) != 0) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
    }
    /* The figures that give each cell one colour show at most nine: the best, by the measure the study
     * picks on, in the grid's order. tab10 has ten colours; its grey (7) is kept for the legend
     * entries that say which line style is which set. */
    enum { COLOURS = 9 };
    int shown[COLOURS], ns = 0;
    for (int pick = 0; pick < COLOURS && pick < nc; pick++) {
        int best = -1;
        for (int i = 0; i < nc; i++) {
            int taken = 0;
            for (int j = 0; j < ns; j++) taken |= shown[j] == i;
            if (taken) continue;
            const nnm_cell *c = &s->cells[i];
            double m = diverged_cell(c) ? NAN : s->validation ? c->val_accuracy.mean : c->test_accuracy.mean;
            const nnm_cell *b = best >= 0 ? &s->cells[best] : NULL;
            double mb = !b || diverged_cell(b) ? NAN : s->validation ? b->val_accuracy.mean : b->test_accuracy.mean;
            if (best < 0 || (!isnan(m) && (isnan(mb) || m > mb))) best = i;
        }
        shown[ns++] = best;
    }
    for (int i = 1; i < ns; i++)
        for (int j = i; j > 0 && shown[j] < shown[j - 1]; j--) {
            int t = shown[j];
            shown[j] = shown[j - 1];
            shown[j - 1] = t;
        }
    char of[48] = "";
    if (ns < s->n_cells) snprintf(of, sizeof of, "; the %d best of %d cells", ns, s->n_cells);
    snprintf(path, sizeof path, "%s/curves.png", out_dir);
    snprintf(ylabel, sizeof ylabel, "%s accuracy", heldout);
    if (s->max_runs <= 1 && !s->validation) {
        const char *series[MAX_CELLS];
        const double *ys[MAX_CELLS];
        int lens[MAX_CELLS];
        for (int i = 0; i < nc; i++) {
            series[i] = names[i];
            ys[i] = s->cells[i].runs[0]->curve_heldout_accuracy;
            lens[i] = s->cells[i].runs[0]->n_curve;
        }
        if (nnm_plot_curves(path, "Test accuracy per epoch", "Epoch", "Test accuracy", series, ys, lens, nc, err,
                            errlen) != 0)
            goto done;
    } else {
        nnm_plot_series series[COLOURS];
        for (int k = 0; k < ns; k++) {
            band *b = &bands[shown[k]][3];
            series[k] = (nnm_plot_series){names[shown[k]], NULL, b->mean, b->lo, b->hi, b->n, colour(k), 0};
        }
        nnm_plot_panel panel = {NULL, "Epoch", ylabel, series, ns, 0, 1};
        if (s->max_runs > 1)
            snprintf(title, sizeof title, "%s accuracy per epoch (mean; band: range over %d seeds%s)", heldout,
                     s->max_runs, of);
        else
            snprintf(title, sizeof title, "%s accuracy per epoch%s%s%s", heldout, ns < s->n_cells ? " (" : "",
                     ns < s->n_cells ? of + 2 : "", ns < s->n_cells ? ")" : "");
        if (nnm_plot_panels(path, title, &panel, 1, err, errlen) != 0) goto done;
    }
    /* history.png: per cell, the training figures solid and the held-out ones dashed, in one colour. */
    nnm_plot_series loss[2 * COLOURS + 2], acc[2 * COLOURS + 2];
    for (int k = 0; k < ns; k++)
        for (int h = 0; h < 2; h++) {
            band *bl = &bands[shown[k]][2 * h], *ba = &bands[shown[k]][2 * h + 1];
            const char *name = h ? NULL : names[shown[k]];
            loss[2 * k + h] = (nnm_plot_series){name, NULL, bl->mean, bl->lo, bl->hi, bl->n, colour(k), h};
            acc[2 * k + h] = (nnm_plot_series){name, NULL, ba->mean, ba->lo, ba->hi, ba->n, colour(k), h};
        }
    /* Two legend entries in grey (tab10's 7) say which line style is which set. */
    const char *held = s->validation ? "validation" : "test";
    loss[2 * ns] = acc[2 * ns] = (nnm_plot_series){"train", NULL, NULL, NULL, NULL, 0, 7, 0};
    loss[2 * ns + 1] = acc[2 * ns + 1] = (nnm_plot_series){held, NULL, NULL, NULL, NULL, 0, 7, 1};
    nnm_plot_panel panels[2] = {{"Loss", "Epoch", "Loss", loss, 2 * ns + 2, 0, 1},
                                {"Accuracy", "Epoch", "Accuracy", acc, 2 * ns + 2, 0, 1}};
    if (s->max_runs > 1)
        snprintf(title, sizeof title, "Training history (mean; band: range over %d seeds%s)", s->max_runs, of);
    else
        snprintf(title, sizeof title, "Training history%s%s%s", ns < s->n_cells ? " (" : "",
                 ns < s->n_cells ? of + 2 : "", ns < s->n_cells ? ")" : "");
    snprintf(path, sizeof path, "%s/history.png", out_dir);
    rc = nnm_plot_panels(path, title, panels, 2, err, errlen);
done:
    for (int i = 0; i < nc; i++)
        for (int k = 0; k < 4; k++) free(bands[i][k].mean);
    return rc;
}

int nnm_report_figures(const char *out_dir, const nnm_record *recs, int n, const nnm_study *s, char *err,
                       size_t errlen)
{
    (void)n;
    if (bars(out_dir, s, err, errlen) != 0 || heatmap(out_dir, s, err, errlen) != 0 ||
        confusion(out_dir, recs, s, err, errlen) != 0 || curves(out_dir, s, err, errlen) != 0)
        return -1;
    return 0;
}
