#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nnm_cell_key(const char *settings, char *out, size_t cap)
{
    static const char *const varying[] = {"seed=", "libnn="};
    nnm_settings_without(settings, varying, 2, out, cap);
}

double nnm_selection_metric(const nnm_record *r)
{
    if (r->diverged_epoch > 0) return NAN;
    return r->validation > 0 ? r->val_accuracy : r->test_accuracy;
}

static int by_seed(const void *pa, const void *pb)
{
    const nnm_record *a = *(const nnm_record *const *)pa, *b = *(const nnm_record *const *)pb;
    return (a->seed > b->seed) - (a->seed < b->seed);
}

static void cell_stats(nnm_cell *c)
{
    double *v = malloc((size_t)c->n * 6 * sizeof *v);
    if (!v) return;
    c->diverged = 0;
    for (int i = 0; i < c->n; i++) {
        const nnm_record *r = c->runs[i];
        c->diverged += r->diverged_epoch > 0;
        v[i] = r->train_accuracy;
        v[c->n + i] = r->test_accuracy;
        v[2 * c->n + i] = r->train_loss;
        v[3 * c->n + i] = r->test_loss;
        v[4 * c->n + i] = r->validation > 0 ? r->val_accuracy : NAN;
        v[5 * c->n + i] = r->validation > 0 ? r->val_loss : NAN;
    }
    nnm_stat_of(v, c->n, &c->train_accuracy);
    nnm_stat_of(v + c->n, c->n, &c->test_accuracy);
    nnm_stat_of(v + 2 * c->n, c->n, &c->train_loss);
    nnm_stat_of(v + 3 * c->n, c->n, &c->test_loss);
    nnm_stat_of(v + 4 * c->n, c->n, &c->val_accuracy);
    nnm_stat_of(v + 5 * c->n, c->n, &c->val_loss);
    free(v);
}

/* McNemar's exact test between two runs' test predictions; NaN without both bitsets. */
static double mcnemar(const nnm_record *a, const nnm_record *b)
{
    if (!a->test_correct || !b->test_correct || a->n_test_correct != b->n_test_correct || a->n_test_correct <= 0)
        return NAN;
    int64_t n01 = 0, n10 = 0;
    for (int64_t i = 0; i < a->n_test_correct; i++) {
        int x = a->test_correct[i / 8] >> (i % 8) & 1, y = b->test_correct[i / 8] >> (i % 8) & 1;
        n01 += x && !y;
        n10 += y && !x;
    }
    return nnm_mcnemar_exact(n01, n10);
}

/* The test of cell c against the best: paired over the seeds both have, Welch's when they share
 * fewer than two, McNemar's for one run each. */
static void compare(nnm_cell *c, const nnm_cell *best)
{
    c->p = NAN;
    c->test = NULL;
    if (c->n == 1 && best->n == 1) {
        c->p = mcnemar(best->runs[0], c->runs[0]);
        c->test = "McNemar";
        return;
    }
    int cap = c->n < best->n ? c->n : best->n, m = 0;
    double *a = malloc((size_t)(cap + c->n + best->n) * 2 * sizeof *a);
    if (!a) return;
    double *b = a + cap + c->n + best->n;
    for (int i = 0; i < best->n; i++)
        for (int j = 0; j < c->n; j++)
            if (best->runs[i]->seed == c->runs[j]->seed && m < cap) {
                a[m] = best->runs[i]->test_accuracy;
                b[m++] = c->runs[j]->test_accuracy;
            }
    if (m >= 2) {
        c->p = nnm_paired_t_test(a, b, m, NULL, NULL);
        c->test = "paired t";
    } else {
        for (int i = 0; i < best->n; i++) a[i] = best->runs[i]->test_accuracy;
        for (int j = 0; j < c->n; j++) b[j] = c->runs[j]->test_accuracy;
        c->p = nnm_welch_t_test(a, best->n, b, c->n, NULL, NULL);
        c->test = "Welch t";
    }
    free(a);
}

int nnm_study_build(const nnm_record *recs, int n, nnm_study *s)
{
    memset(s, 0, sizeof *s);
    s->best = -1;
    s->cells = calloc((size_t)(n > 0 ? n : 1), sizeof *s->cells);
    const nnm_record **slots = malloc((size_t)(n > 0 ? n : 1) * sizeof *slots);
    char(*keys)[NNM_SETTINGS_MAX] = malloc((size_t)(n > 0 ? n : 1) * sizeof *keys);
    int *cell_of = malloc((size_t)(n > 0 ? n : 1) * sizeof *cell_of);
    if (!s->cells || !slots || !keys || !cell_of) {
        free(slots);
        free(keys);
        free(cell_of);
        free(s->cells);
        s->cells = NULL;
        return -1;
    }
    s->slots = slots;
    /* Cells in the order of their first run (keys[] holds one key per cell); each cell's runs
     * contiguous in slots, placed by counting: linear in the runs once the cells are known. */
    char key[NNM_SETTINGS_MAX];
    for (int i = 0; i < n; i++) {
        nnm_cell_key(recs[i].settings, key, sizeof key);
        cell_of[i] = -1;
        for (int c = 0; c < s->n_cells && cell_of[i] < 0; c++)
            if (!strcmp(key, keys[c])) cell_of[i] = c;
        if (cell_of[i] < 0) {
            memcpy(keys[s->n_cells], key, sizeof key);
            cell_of[i] = s->n_cells++;
        }
        s->cells[cell_of[i]].n++;
        s->validation |= recs[i].validation > 0;
    }
    int used = 0;
    for (int c = 0; c < s->n_cells; c++) {
        s->cells[c].runs = slots + used;
        used += s->cells[c].n;
        s->cells[c].n = 0;
    }
    for (int i = 0; i < n; i++) {
        nnm_cell *cell = &s->cells[cell_of[i]];
        cell->runs[cell->n++] = &recs[i];
    }
    for (int c = 0; c < s->n_cells; c++) {
        nnm_cell *cell = &s->cells[c];
        qsort(cell->runs, (size_t)cell->n, sizeof *cell->runs, by_seed);
        cell_stats(cell);
        if (cell->n > s->max_runs) s->max_runs = cell->n;
        nnm_stat *sel = s->validation ? &cell->val_accuracy : &cell->test_accuracy;
        const nnm_cell *b = s->best >= 0 ? &s->cells[s->best] : NULL;
        const nnm_stat *bsel = b ? (s->validation ? &b->val_accuracy : &b->test_accuracy) : NULL;
        if (sel->n > 0 && (!b || sel->mean > bsel->mean)) s->best = c;
    }
    free(keys);
    free(cell_of);
    if (s->best >= 0) {
        const nnm_cell *b = &s->cells[s->best];
        for (int i = 0; i < b->n; i++)
            if (!isnan(nnm_selection_metric(b->runs[i])) &&
                (!s->best_run || nnm_selection_metric(b->runs[i]) > nnm_selection_metric(s->best_run)))
                s->best_run = b->runs[i];
        double *p = malloc((size_t)s->n_cells * 2 * sizeof *p);
        for (int c = 0; c < s->n_cells; c++) {
            s->cells[c].p = s->cells[c].p_holm = NAN;
            if (c != s->best) compare(&s->cells[c], b);
            if (p) p[c] = s->cells[c].p;
        }
        if (p) {
            nnm_holm(p, s->n_cells, p + s->n_cells);
            for (int c = 0; c < s->n_cells; c++) s->cells[c].p_holm = p[s->n_cells + c];
            free(p);
        }
    }
    return 0;
}

void nnm_study_free(nnm_study *s)
{
    free((void *)s->slots);
    free(s->cells);
    memset(s, 0, sizeof *s);
}
