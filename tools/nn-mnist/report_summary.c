/* The summary printed at the end of a grid and by `report`: the cells sorted best first, and what
 * can be concluded from them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment_kind.h"
#include "report.h"
#include "report_internal.h"

/* The measure cells are ranked by; NaN for a cell whose every run diverged. */
static double cell_measure(const nnm_study *s, int c)
{
    const nnm_cell *cell = &s->cells[c];
    if (cell->diverged == cell->n) return NAN;
    return s->validation ? cell->val_accuracy.mean : cell->test_accuracy.mean;
}

/* Whether cell a ranks before cell b: best first, the diverged last, ties in the grid's order. */
static int before(const nnm_study *s, int a, int b)
{
    double x = cell_measure(s, a), y = cell_measure(s, b);
    if (isnan(x) != isnan(y)) return !isnan(x);
    if (!isnan(x) && x != y) return x > y;
    return a < b;
}

/* "0.9781±0.0012" (mean ± 95% CI), or the mean alone for one run. */
static const char *mean_ci(char *buf, size_t cap, const nnm_stat *s)
{
    if (s->n == 0) snprintf(buf, cap, "nan");
    else if (isnan(s->ci95)) snprintf(buf, cap, "%.4f", s->mean);
    else snprintf(buf, cap, "%.4f\u00b1%.4f", s->mean, s->ci95);
    return buf;
}

/* The last column: "best", or the p-value of the difference from the best, "=" when it is not
 * significant at 5% after Holm's correction. */
static const char *versus(char *buf, size_t cap, const nnm_study *s, int c)
{
    const nnm_cell *cell = &s->cells[c];
    if (c == s->best) snprintf(buf, cap, "best");
    else if (isnan(cell->p_holm)) snprintf(buf, cap, "-");
    else if (cell->p_holm < 0.001) snprintf(buf, cap, "p<0.001");
    else snprintf(buf, cap, "p=%.3f%s", cell->p_holm, cell->p_holm >= 0.05 ? " =" : "");
    return buf;
}

static void headline(FILE *f, const nnm_record *recs, int n)
{
    int reg = 0, opts = 0;
    for (int i = 0; i < n; i++) {
        reg |= recs[i].dropout > 0 || recs[i].batchnorm;
        opts |= recs[i].arch[0] || recs[i].augment || recs[i].lr_schedule[0];
    }
    /* The regularisation, when there is one, is the grid's (a folder holds one setting, grid.c). */
    if (reg) {
        if (recs[0].batchnorm && recs[0].dropout > 0)
            fprintf(f, "(hidden layers with batch norm and dropout %.6g)\n", recs[0].dropout);
        else if (recs[0].batchnorm)
            fprintf(f, "(hidden layers with batch norm)\n");
        else
            fprintf(f, "(hidden layers with dropout %.6g)\n", recs[0].dropout);
    }
    /* And the network, augmentation and schedule, when not the original study's. */
    if (opts)
        fprintf(f, "(network: %s%s%s%s)\n", recs[0].arch[0] ? recs[0].arch : "mlp",
                recs[0].augment == NNM_AUGMENT_SCAN ? "; augmented: shifts, rotations, scale, slant, stroke width "
                                                      "and half the images drawn and read back as scans"
                : recs[0].augment == NNM_AUGMENT_HANDWRITING ? "; augmented: shifts, rotations, scale, slant and stroke width"
                : recs[0].augment                            ? "; augmented: shifts and rotations"
                                                             : "",
                recs[0].lr_schedule[0] ? "; learning rate schedule: " : "", recs[0].lr_schedule);
}

static void legend(FILE *f, const nnm_study *s, const nnm_record *recs)
{
    const char *test = NULL;
    int tested = 0;
    for (int c = 0; c < s->n_cells; c++) {
        if (!test) test = s->cells[c].test;
        tested += !isnan(s->cells[c].p);
    }
    fprintf(f, "\n");
    if (s->validation)
        fprintf(f, "Best cell picked on the validation split (%.3g of the training set); the test set was evaluated "
                   "once per run, at the end.\n", recs[0].validation);
    else
        fprintf(f, "Best model picked on the test set (no --validation split): its test accuracy is an optimistic "
                   "estimate.\n");
    if (!test) return;
    if (!tested)
        fprintf(f, "vs best: no test was possible (records of an older nn-mnist keep no test predictions; "
                   "rerun with --fresh for them).\n");
    else if (!strcmp(test, "McNemar"))
        fprintf(f, "vs best: McNemar's exact test on the %lld test predictions of each model against the best's, "
                   "Holm-adjusted;\n'=' marks a difference that is not significant at 5%%. One seed measures one "
                   "training run: --seeds 5 measures the cells.\n",
                (long long)(s->best_run ? s->best_run->n_test_correct : 0));
    else
        fprintf(f, "Metrics are means \u00b1 95%% confidence intervals over %d seeds. vs best: %s-test over seeds of "
                   "the test accuracy against the best cell's, Holm-adjusted; '=' marks a difference that is not "
                   "significant at 5%%.\n", s->max_runs, test);
}

void nnm_report_summary(FILE *f, const nnm_record *recs, int n)
{
    nnm_study s;
    if (n <= 0 || nnm_study_build(recs, n, &s) != 0) return;
    int *order = malloc((size_t)s.n_cells * sizeof *order);
    if (!order) {
        nnm_study_free(&s);
        return;
    }
    /* Insertion sort: a study has tens of cells, and qsort has no context argument in C11. */
    for (int c = 0; c < s.n_cells; c++) {
        int j = c;
        for (; j > 0 && before(&s, c, order[j - 1]); j--) order[j] = order[j - 1];
        order[j] = c;
    }
    fprintf(f, "Final Results Summary:\n");
    headline(f, recs, n);
    /* The name columns widen for long names (leaky_relu:0.25), and keep the study's widths otherwise. */
    int wo = 10, wa = 11, seeds = s.max_runs > 1, wm = seeds ? 15 : 0;
    for (int i = 0; i < n; i++) {
        int lo = (int)strlen(recs[i].optimizer), la = (int)strlen(recs[i].activation);
        if (lo > wo) wo = lo;
        if (la + 1 > wa) wa = la + 1;
    }
    int w[6] = {14, 13, 10, 10, 14, 13};
    for (int k = 0; k < 6 && seeds; k++) w[k] = w[k] > wm ? w[k] : wm;
    int metrics = s.validation ? 6 : 4;
    const char *heads[6] = {"Train Accuracy", "Test Accuracy", "Train Loss", "Test Loss", "Val Accuracy", "Val Loss"};
    fprintf(f, "%-*s %-*s", wo, "Optimizer", wa, "Activation");
    for (int k = 0; k < metrics; k++) fprintf(f, " %*s", w[k], heads[k]);
    if (seeds) fprintf(f, " %3s", "n");
    fprintf(f, "  vs best\n");
    for (int i = 0; i < s.n_cells; i++) {
        const nnm_cell *c = &s.cells[order[i]];
        const nnm_record *r = c->runs[0];
        char v[6][48], vs[32];
        const nnm_stat *st[6] = {&c->train_accuracy, &c->test_accuracy, &c->train_loss, &c->test_loss, &c->val_accuracy,
                                 &c->val_loss};
        fprintf(f, "%-*s %-*s", wo, r->optimizer, wa, r->activation);
        for (int k = 0; k < metrics; k++) {
            /* "±" is two bytes and one column: printf pads by bytes. */
            mean_ci(v[k], sizeof v[k], st[k]);
            int extra = strstr(v[k], "\u00b1") ? 1 : 0;
            fprintf(f, " %*s", w[k] + extra, v[k]);
        }
        if (seeds) fprintf(f, " %3d", c->test_accuracy.n);
        if (c->diverged == c->n) {
            char note[96];
            if (r->diverged_step > 0)
                snprintf(note, sizeof note, "diverged (epoch %d, step %lld)", r->diverged_epoch,
                         (long long)r->diverged_step);
            else
                snprintf(note, sizeof note, "diverged (final evaluation)");
            fprintf(f, "  %s\n", note);
        } else {
            fprintf(f, "  %s%s\n", versus(vs, sizeof vs, &s, order[i]),
                    c->diverged ? " (some seeds diverged)" : "");
        }
    }
    legend(f, &s, recs);
    free(order);
    nnm_study_free(&s);
}
