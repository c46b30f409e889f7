#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#include "fsutil.h"
#include "grid.h"
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
    fprintf(f, "Final Results Summary:\n");
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
                recs[0].augment == 2   ? "; augmented: shifts, rotations, scale, slant and stroke width"
                : recs[0].augment ? "; augmented: shifts and rotations"
                                  : "",
                recs[0].lr_schedule[0] ? "; learning rate schedule: " : "", recs[0].lr_schedule);
    }
    /* The name columns widen for long names (leaky_relu:0.25), and keep the study's widths otherwise. */
    int wo = 10, wa = 11;
    for (int i = 0; i < n; i++) {
        int lo = (int)strlen(recs[i].optimizer), la = (int)strlen(recs[i].activation);
        if (lo > wo) wo = lo;
        if (la + 1 > wa) wa = la + 1;
    }
    fprintf(f, "%-*s %-*s %14s %13s %10s %10s\n", wo, "Optimizer", wa, "Activation", "Train Accuracy", "Test Accuracy",
            "Train Loss", "Test Loss");
    for (int i = 0; i < n; i++) {
        const nnm_record *r = sorted[i];
        if (diverged(r)) {
            char note[96];
            divergence_note(note, sizeof note, r);
            fprintf(f, "%-*s %-*s %14s %13s %10s %10s  %s\n", wo, r->optimizer, wa, r->activation, "nan", "nan",
                    "nan", "nan", note);
            continue;
        }
        fprintf(f, "%-*s %-*s %14.4f %13.4f %10.4f %10.4f\n", wo, r->optimizer, wa, r->activation, r->train_accuracy,
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
        else fprintf(stderr, "nn-mnist report: skipping %s\n", why);
    }
    closedir(d);
    nnm_report_sort(*out, *n);
    return 0;
}

int nnm_report_write_plan(const nnm_config *c, const nnm_run *runs, int n, int64_t n_train, int64_t n_test,
                          char *err, size_t errlen)
{
    size_t cap = 256 + (size_t)n * (sizeof runs[0].id + NNM_SETTINGS_MAX + 2), len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    len = (size_t)snprintf(buf, cap, "# the runs of the last nn-mnist grid in this folder: `nn-mnist report` shows "
                                     "these (--all: every record)\n");
    for (int i = 0; i < n && len < cap; i++) {
        char settings[NNM_SETTINGS_MAX];
        nnm_config_settings_line(c, runs[i].optimizer, runs[i].activation, n_train, n_test, settings, sizeof settings);
        len += (size_t)snprintf(buf + len, cap - len, "%s\t%s\n", runs[i].id, settings);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/plan.txt", c->out_dir);
    int rc = len < cap ? nnm_write_atomic(path, buf, len, err, errlen) : -1;
    if (len >= cap) snprintf(err, errlen, "%s: the plan does not fit its buffer", path);
    free(buf);
    return rc;
}

/* The settings line without its key=value item for key ("libnn="); items are separated by spaces. */
static void settings_without(const char *line, const char *key, char *out, size_t cap)
{
    size_t used = 0, klen = strlen(key);
    out[0] = '\0';
    for (const char *p = line; *p;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (!(len >= klen && !strncmp(p, key, klen)) && used + len + 2 < cap) {
            if (used) out[used++] = ' ';
            memcpy(out + used, p, len);
            used += len;
            out[used] = '\0';
        }
        p += len;
        while (*p == ' ') p++;
    }
}

/* The number after key ("train=") in a settings line; -1 when absent. */
static long long setting_count(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    while (p && p != line && p[-1] != ' ') p = strstr(p + 1, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* Whether record r is run of the grid c describes. Report loads no data, so the image counts are
 * those the options limit them to, else the record's; and the libnn that trained it does not count. */
static int record_matches(const nnm_config *c, const nnm_run *run, const nnm_record *r)
{
    long long rec_train = setting_count(r->settings, "train="), rec_test = setting_count(r->settings, "test=");
    int64_t n_train = c->train_limit && c->train_limit < rec_train ? c->train_limit : rec_train;
    int64_t n_test = c->test_limit && c->test_limit < rec_test ? c->test_limit : rec_test;
    char want[NNM_SETTINGS_MAX], a[NNM_SETTINGS_MAX], b[NNM_SETTINGS_MAX];
    nnm_config_settings_line(c, run->optimizer, run->activation, n_train, n_test, want, sizeof want);
    settings_without(want, "libnn=", a, sizeof a);
    settings_without(r->settings, "libnn=", b, sizeof b);
    return strcmp(a, b) == 0;
}

/* A run id read from plan.txt names a file in DIR/runs: no folders, nothing hidden. */
static int plain_id(const char *id)
{
    return id[0] && id[0] != '.' && !strchr(id, '/') && strlen(id) < sizeof((nnm_run *)0)->id;
}

/* Loads the plan's records into recs (room for NNM_MAX_LIST^2); the plan is runs[] with their settings
 * lines (settings[i] NULL: compare with the options in c instead). Returns how many were loaded. */
static int load_plan(const char *out_dir, const nnm_config *c, const nnm_run *runs, char *const *settings, int n,
                     nnm_record *recs)
{
    int m = 0, missing = 0;
    for (int i = 0; i < n; i++) {
        char path[4096], why[512];
        nnm_record_path(out_dir, runs[i].id, path, sizeof path);
        if (!nnm_file_exists(path)) {
            missing++;
            continue;
        }
        if (nnm_record_load(&recs[m], path, why, sizeof why) != 0) {
            fprintf(stderr, "nn-mnist report: skipping %s\n", why);
            continue;
        }
        int same = settings[i] ? !strcmp(recs[m].settings, settings[i]) : record_matches(c, &runs[i], &recs[m]);
        if (!same) {
            fprintf(stderr, "nn-mnist report: %s was recorded with other settings; not shown (--all shows it)\n"
                            "  recorded: %s\n",
                    path, recs[m].settings);
            nnm_record_free(&recs[m]);
            continue;
        }
        m++;
    }
    if (missing)
        fprintf(stderr, "nn-mnist report: %d of the %d runs have no record yet (`nn-mnist grid` with the same "
                        "options trains them)\n",
                missing, n);
    return m;
}

/* Reads DIR/plan.txt into runs and settings (malloc'd lines); the number of runs, or -1 when there is
 * no plan (a folder of a grid from before plans were written). */
static int read_plan(const char *out_dir, nnm_run *runs, char **settings, int cap, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/plan.txt", out_dir);
    if (!nnm_file_exists(path)) return -1;
    size_t len;
    char *text = nnm_read_file(path, &len, err, errlen);
    if (!text) return -2;
    int n = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab) continue;
        *tab = '\0';
        if (!plain_id(line) || n >= cap) continue;
        snprintf(runs[n].id, sizeof runs[n].id, "%s", line);
        runs[n].optimizer[0] = runs[n].activation[0] = '\0';
        settings[n] = strdup(tab + 1);
        if (settings[n]) n++;
    }
    free(text);
    return n;
}

static void report_usage(void)
{
    printf("Usage: nn-mnist report [--out DIR] [--all | GRID OPTIONS]\n\n"
           "Rebuild results.csv, the figures and the summary from the run records in DIR/runs,\n"
           "without training. Which runs:\n"
           "  (none)        the runs of the last grid in DIR (DIR/plan.txt, which nn-mnist grid writes)\n"
           "  GRID OPTIONS  the runs of the grid these options describe, as nn-mnist grid takes them\n"
           "                (--activations, --optimizers, --arch, --hidden, --epochs, --lr, --seed, ...;\n"
           "                see nn-mnist grid --help); records of other settings are left out\n"
           "  --all         every record in DIR/runs\n\n"
           "  --out DIR     results folder [results]\n");
}

int nnm_cmd_report(int argc, char **argv)
{
    /* A first pass over a copy (getopt reorders what it scans) finds --out, --all and --help, and
     * passes over the grid's options that do not shape its runs (--quiet, --data-dir, --jobs...), so
     * that a grid's command line works with `report` in place of `grid`. Any other option describes
     * a plan, and the grid's own parser reads them all. */
    const char *out_dir = "results";
    int all = 0, grid_options = 0;
    char **copy = calloc((size_t)argc + 1, sizeof *copy);
    if (!copy) {
        fprintf(stderr, "nn-mnist report: out of memory\n");
        return 1;
    }
    memcpy(copy, argv, (size_t)argc * sizeof *copy);
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'},
                                              {"all", no_argument, NULL, 'a'},
                                              {"help", no_argument, NULL, 'h'},
                                              {"quiet", no_argument, NULL, 'q'},
                                              {"data-dir", required_argument, NULL, 'i'},
                                              {"mirror", required_argument, NULL, 'i'},
                                              {"no-download", no_argument, NULL, 'i'},
                                              {"models", required_argument, NULL, 'i'},
                                              {"jobs", required_argument, NULL, 'i'},
                                              {"fresh", no_argument, NULL, 'i'},
                                              {NULL, 0, NULL, 0}};
    int ch;
    optind = 0; /* a full restart of GNU getopt */
    opterr = 0;
    while ((ch = getopt_long(argc, copy, "hq", longopts, NULL)) != -1) {
        if (ch == 'o') out_dir = optarg;
        else if (ch == 'a') all = 1;
        else if (ch == 'q' || ch == 'i') continue;
        else if (ch == 'h') {
            free(copy);
            report_usage();
            return 0;
        } else grid_options = 1;
    }
    if (!grid_options && optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help'.\n", argv[0], copy[optind], argv[0]);
        free(copy);
        return 2;
    }
    free(copy);
    opterr = 1;
    nnm_config c;
    nnm_config_defaults(&c);
    if (grid_options) {
        if (all) {
            fprintf(stderr, "nn-mnist report: --all shows every record; it takes no grid options\n");
            return 2;
        }
        char err[2048];
        int prc = nnm_parse_run_options(argc, argv, &c, NNM_PARSE_GRID, NULL, err, sizeof err);
        if (prc == 1) {
            report_usage();
            return 0;
        }
        if (prc != 0 || nnm_config_validate(&c, err, sizeof err) != 0) {
            if (err[0]) fprintf(stderr, "nn-mnist report: %s\n", err); /* empty: getopt's message is out */
            return 2;
        }
        out_dir = c.out_dir;
    }
    if (!out_dir[0]) { /* it would read "/runs" */
        fprintf(stderr, "nn-mnist report: --out is empty; give the results folder (or leave the option out)\n");
        return 2;
    }
    nnm_record *recs = NULL;
    int n = 0;
    char err[1024];
    enum { CAP = NNM_MAX_LIST * NNM_MAX_LIST };
    nnm_run runs[CAP];
    char *settings[CAP] = {NULL};
    int planned = -1;
    if (grid_options) {
        planned = nnm_grid_runs(&c, runs, CAP);
    } else if (!all) {
        planned = read_plan(out_dir, runs, settings, CAP, err, sizeof err);
        if (planned == -2) {
            fprintf(stderr, "nn-mnist report: %s\n", err);
            return 1;
        }
        if (planned < 0)
            fprintf(stderr, "nn-mnist report: %s/plan.txt not found (a grid of an older nn-mnist): showing every "
                            "record\n",
                    out_dir);
    }
    int rc = 0;
    if (planned >= 0) {
        recs = calloc(CAP, sizeof *recs);
        n = recs ? load_plan(out_dir, &c, runs, settings, planned, recs) : 0;
        for (int i = 0; i < CAP; i++) free(settings[i]);
        if (recs) nnm_report_sort(recs, n);
        if (!recs || n == 0) {
            snprintf(err, sizeof err, "no finished run of the plan in %s/runs (--all shows every record)", out_dir);
            rc = 1;
        }
    } else if (nnm_report_load_all(out_dir, &recs, &n, err, sizeof err) != 0) {
        rc = 1;
    }
    if (rc == 0 && nnm_report_write(out_dir, recs, n, err, sizeof err) != 0) rc = 1;
    if (rc == 0) nnm_report_summary(stdout, recs, n);
    else fprintf(stderr, "nn-mnist report: %s\n", err);
    for (int i = 0; i < n; i++) nnm_record_free(&recs[i]);
    free(recs);
    return rc;
}
