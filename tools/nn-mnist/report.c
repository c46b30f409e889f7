#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#include "fsutil.h"
#include "options.h"
#include "plan.h"
#include "report_internal.h"

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

int nnm_report_write(const char *out_dir, const nnm_record *recs, int n, char *err, size_t errlen)
{
    if (n <= 0) {
        snprintf(err, errlen, "no finished runs to report in %s", out_dir);
        return -1;
    }
    nnm_study s;
    if (nnm_study_build(recs, n, &s) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = nnm_report_tables(out_dir, recs, n, &s, err, errlen) != 0 ||
                     nnm_report_figures(out_dir, recs, n, &s, err, errlen) != 0
                 ? -1
                 : 0;
    nnm_study_free(&s);
    return rc;
}

nnm_record *nnm_report_load_plan(const char *out_dir, const nnm_plan *plan, int *m)
{
    char err[2048];
    nnm_record *recs = calloc((size_t)(plan->n > 0 ? plan->n : 1), sizeof *recs);
    *m = 0;
    for (int i = 0; recs && i < plan->n; i++) {
        char path[NNM_PATH_MAX];
        if (!nnm_record_find(out_dir, plan->runs[i].id, path, sizeof path)) continue;
        if (nnm_record_load(&recs[*m], path, err, sizeof err) == 0) (*m)++;
        else fprintf(stderr, "nn-mnist: %s\n", err);
    }
    return recs;
}

int nnm_report_plan(const nnm_config *c, const nnm_plan *plan, double seconds)
{
    char err[2048];
    int n = plan->n, m = 0;
    nnm_record *recs = nnm_report_load_plan(c->out_dir, plan, &m);
    int rc = 0;
    if (!recs || m < n) {
        fprintf(stderr, "nn-mnist: %d of %d runs %s no record\n", n - m, n, n - m == 1 ? "has" : "have");
        rc = 1;
    }
    nnm_report_sort(recs, m);
    if (m > 0 && nnm_report_write(c->out_dir, recs, m, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist: cannot write the report: %s\n", err);
        rc = 1;
    }
    if (m > 0) {
        /* Apart from the progress above it on a terminal; stdout itself starts with the table. */
        if (!c->quiet) fputc('\n', stderr);
        nnm_report_summary(stdout, recs, m);
    }
    int diverged = 0;
    for (int i = 0; i < m; i++) diverged += recs[i].diverged_epoch > 0;
    if (diverged && !c->quiet)
        fprintf(stderr, "\n%d of %d runs diverged (non-finite loss): their metrics are nan, marked in the results\n",
                diverged, m);
    if (!c->quiet)
        fprintf(stderr, "\n%d model%s in %.1f s; results in %s/, models in %s/\n", m, m == 1 ? "" : "s", seconds,
                c->out_dir, c->models_dir);
    for (int i = 0; i < m; i++) nnm_record_free(&recs[i]);
    free(recs);
    return rc;
}

int nnm_report_load_all(const char *out_dir, nnm_record **out, int *n, char *err, size_t errlen)
{
    if (nnm_record_load_dir(out_dir, "nn-mnist report", out, n, err, errlen) != 0) return -1;
    nnm_report_sort(*out, *n);
    return 0;
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
    nnm_plan_settings(c, run, n_train, n_test, want, sizeof want);
    static const char *const version[] = {"libnn="};
    nnm_settings_without(want, version, 1, a, sizeof a);
    nnm_settings_without(r->settings, version, 1, b, sizeof b);
    return strcmp(a, b) == 0;
}

/* Loads the plan's records into recs (room for n); the plan is runs[] with their settings lines
 * (settings NULL: compare with the options in c instead). Returns how many were loaded. */
static int load_plan(const char *out_dir, const nnm_config *c, const nnm_run *runs, char *const *settings, int n,
                     nnm_record *recs)
{
    int m = 0, missing = 0;
    for (int i = 0; i < n; i++) {
        char path[NNM_PATH_MAX], why[512];
        if (!nnm_record_find(out_dir, runs[i].id, path, sizeof path)) {
            missing++;
            continue;
        }
        if (nnm_record_load(&recs[m], path, why, sizeof why) != 0) {
            fprintf(stderr, "nn-mnist report: skipping %s\n", why);
            continue;
        }
        int same = settings ? !strcmp(recs[m].settings, settings[i]) : record_matches(c, &runs[i], &recs[m]);
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
           "  --out DIR     results folder [results]\n\n"
           "The shards of a grid run with --shard K/N into one folder are merged here: run report once\n"
           "every shard has finished.\n");
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
                                              {"shard", required_argument, NULL, 'i'},
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
    nnm_plan plan = {0};
    nnm_run *runs = NULL;
    char **settings = NULL;
    int planned = -1;
    if (grid_options) {
        if (nnm_plan_grid(&c, &plan, err, sizeof err) != 0) {
            fprintf(stderr, "nn-mnist report: %s\n", err);
            return 1;
        }
        runs = plan.runs;
        planned = plan.n;
    } else if (!all) {
        planned = nnm_plan_read(out_dir, &runs, &settings, err, sizeof err);
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
        recs = calloc((size_t)(planned > 0 ? planned : 1), sizeof *recs);
        n = recs ? load_plan(out_dir, &c, runs, settings, planned, recs) : 0;
        for (int i = 0; settings && i < planned; i++) free(settings[i]);
        free(settings);
        if (!grid_options) free(runs);
        nnm_plan_free(&plan);
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
