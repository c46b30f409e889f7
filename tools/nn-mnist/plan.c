#define _POSIX_C_SOURCE 200809L
#include "plan.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nn/nn.h>

#include "fsutil.h"
#include "record.h"

void nnm_plan_free(nnm_plan *p)
{
    free(p->runs);
    memset(p, 0, sizeof *p);
}

static int plan_alloc(nnm_plan *p, int64_t n, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    /* The lists are bounded (16 x 16 cells, 100 seeds, 64 values), so is the plan. */
    p->runs = n > 0 && n <= 1 << 24 ? calloc((size_t)n, sizeof *p->runs) : NULL;
    if (!p->runs) {
        snprintf(err, errlen, "a plan of %lld runs: out of memory", (long long)n);
        return -1;
    }
    return 0;
}

static int n_seeds(const nnm_config *c) { return c->n_seeds > 0 ? c->n_seeds : 1; }

static uint64_t seed_of(const nnm_config *c, int s) { return c->n_seeds > 0 ? c->seeds[s] : c->seed; }

/* Appends the run of cell `cell` and seed index s, its id base "<opt>_<act>" plus suffix. */
static void add_run(const nnm_config *c, nnm_plan *p, int o, int a, int s, int cell, const char *suffix, float lr,
                    int64_t batch)
{
    nnm_run *r = &p->runs[p->n++];
    snprintf(r->optimizer, sizeof r->optimizer, "%s", c->optimizers[o]);
    snprintf(r->activation, sizeof r->activation, "%s", c->activations[a]);
    r->seed = seed_of(c, s);
    r->lr = lr;
    r->batch_size = batch;
    r->cell = cell;
    /* The original study's ids without --seeds, so that its folders resume and its files keep their names. */
    if (c->n_seeds > 0)
        snprintf(r->id, sizeof r->id, "%s_%s%s_s%" PRIu64, c->optimizers[o], c->activations[a], suffix, r->seed);
    else
        snprintf(r->id, sizeof r->id, "%s_%s%s", c->optimizers[o], c->activations[a], suffix);
}

int nnm_plan_grid(const nnm_config *c, nnm_plan *p, char *err, size_t errlen)
{
    if (plan_alloc(p, (int64_t)c->n_optimizers * c->n_activations * n_seeds(c), err, errlen) != 0) return -1;
    for (int o = 0; o < c->n_optimizers; o++)
        for (int a = 0; a < c->n_activations; a++, p->n_cells++)
            for (int s = 0; s < n_seeds(c); s++) add_run(c, p, o, a, s, p->n_cells, "", c->cell_lr[o][a], 0);
    return 0;
}

/* The rate an optimizer starts from when nothing sets one: its Keras default. */
static float default_lr(const char *optimizer)
{
    nn_optimizer *o = NULL;
    float lr = nn_optimizer_create_from_name(&o, optimizer, 0) == NN_OK ? nn_optimizer_get_lr(o) : 0;
    nn_optimizer_free(o);
    return lr;
}

int nnm_plan_sweep(const nnm_config *c, int kind, const double *values, int n_values, int scale_lr,
                   int64_t base_batch, nnm_plan *p, char *err, size_t errlen)
{
    if (plan_alloc(p, (int64_t)c->n_optimizers * c->n_activations * n_values * n_seeds(c), err, errlen) != 0)
        return -1;
    for (int o = 0; o < c->n_optimizers; o++)
        for (int a = 0; a < c->n_activations; a++)
            for (int v = 0; v < n_values; v++, p->n_cells++) {
                char suffix[48], text[32];
                float lr = 0;
                int64_t batch = 0;
                if (kind == NNM_SWEEP_LR) {
                    lr = (float)values[v];
                    nnm_format_float(text, sizeof text, lr);
                    snprintf(suffix, sizeof suffix, "_lr%s", text);
                } else {
                    batch = (int64_t)values[v];
                    lr = c->cell_lr[o][a] > 0 ? c->cell_lr[o][a] : c->lr > 0 ? c->lr : default_lr(c->optimizers[o]);
                    if (scale_lr) lr = (float)((double)lr * (double)batch / (double)base_batch);
                    snprintf(suffix, sizeof suffix, "_bs%" PRId64, batch);
                }
                for (int s = 0; s < n_seeds(c); s++) add_run(c, p, o, a, s, p->n_cells, suffix, lr, batch);
            }
    return 0;
}

int nnm_plan_mine(const nnm_config *c, int i) { return c->shard_n <= 0 || i % c->shard_n == c->shard_k - 1; }

void nnm_plan_settings(const nnm_config *c, const nnm_run *run, int64_t n_train, int64_t n_test, char *buf,
                       size_t len)
{
    nnm_config rc;
    nnm_run_config(c, run, &rc);
    nnm_config_settings_line(&rc, run->optimizer, run->activation, n_train, n_test, buf, len);
}

int nnm_plan_write(const nnm_config *c, const nnm_plan *p, int64_t n_train, int64_t n_test, char *err, size_t errlen)
{
    size_t cap = 256 + (size_t)p->n * (sizeof p->runs[0].id + NNM_SETTINGS_MAX + 2), len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    len = (size_t)snprintf(buf, cap, "# the runs of the last nn-mnist grid in this folder: `nn-mnist report` shows "
                                     "these (--all: every record)\n");
    for (int i = 0; i < p->n && len < cap; i++) {
        char settings[NNM_SETTINGS_MAX];
        nnm_plan_settings(c, &p->runs[i], n_train, n_test, settings, sizeof settings);
        len += (size_t)snprintf(buf + len, cap - len, "%s\t%s\n", p->runs[i].id, settings);
    }
    char path[NNM_PATH_MAX];
    snprintf(path, sizeof path, "%s/plan.txt", c->out_dir);
    int rc = len < cap ? nnm_write_atomic(path, buf, len, err, errlen) : -1;
    if (len >= cap) snprintf(err, errlen, "%s: the plan does not fit its buffer", path);
    free(buf);
    return rc;
}

/* A run id read from plan.txt names a file in DIR/runs: no folders, nothing hidden. */
static int plain_id(const char *id)
{
    return id[0] && id[0] != '.' && !strchr(id, '/') && strlen(id) < sizeof((nnm_run *)0)->id;
}

int nnm_plan_read(const char *out_dir, nnm_run **runs, char ***settings, char *err, size_t errlen)
{
    char path[NNM_PATH_MAX];
    snprintf(path, sizeof path, "%s/plan.txt", out_dir);
    *runs = NULL;
    *settings = NULL;
    if (!nnm_file_exists(path)) return -1;
    size_t len;
    char *text = nnm_read_file(path, &len, err, errlen);
    if (!text) return -2;
    int lines = 1;
    for (char *q = text; *q; q++) lines += *q == '\n';
    *runs = calloc((size_t)lines, sizeof **runs);
    *settings = calloc((size_t)lines, sizeof **settings);
    if (!*runs || !*settings) {
        free(text);
        free(*runs);
        free(*settings);
        *runs = NULL;
        *settings = NULL;
        snprintf(err, errlen, "%s: out of memory", path);
        return -2;
    }
    int n = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab) continue;
        *tab = '\0';
        if (!plain_id(line)) continue;
        snprintf((*runs)[n].id, sizeof (*runs)[n].id, "%s", line);
        (*settings)[n] = strdup(tab + 1);
        if ((*settings)[n]) n++;
    }
    free(text);
    return n;
}

int nnm_plan_scan(const nnm_config *c, const nnm_plan *p, int64_t n_train, int64_t n_test, int *state, char *err,
                  size_t errlen)
{
    for (int i = 0; i < p->n; i++) {
        const nnm_run *run = &p->runs[i];
        char path[NNM_PATH_MAX], settings[NNM_SETTINGS_MAX], why[1024];
        int mine = nnm_plan_mine(c, i);
        state[i] = mine ? -1 : 2;
        if (!nnm_record_find(c->out_dir, run->id, path, sizeof path)) continue;
        nnm_record r;
        nnm_plan_settings(c, run, n_train, n_test, settings, sizeof settings);
        if (!mine) {
            /* Another shard's run: only compared, so that shards of other settings cannot share a
             * folder unnoticed; never changed (that shard may be writing it). */
            if (nnm_record_load(&r, path, why, sizeof why) != 0) continue;
            int same = strcmp(r.settings, settings) == 0;
            if (!same && !c->fresh)
                snprintf(err, errlen,
                         "%s holds a finished run '%s' of another shard, of other settings:\n  recorded: %s\n"
                         "  now:      %s\nEvery shard of a grid must be given the same options.",
                         c->out_dir, run->id, r.settings, settings);
            nnm_record_free(&r);
            if (!same && !c->fresh) return -1;
            continue;
        }
        if (nnm_record_load(&r, path, why, sizeof why) != 0) {
            /* Records are renamed into place whole, so this is damage from outside: redo the run. */
            fprintf(stderr, "nn-mnist: %s; the run will be redone\n", why);
            unlink(path);
            continue;
        }
        int same = strcmp(r.settings, settings) == 0;
        /* The model must be in this command's --models folder, not only where the record says. */
        char model[NNM_PATH_MAX];
        nnm_model_path(c, run->id, model, sizeof model);
        nn_file_info *info = NULL;
        /* The loader's full check (weights, optimizer state), not only checksums: a model that
         * `eval` or a resume would refuse is a run to redo. */
        int model_ok = nn_file_info_read(&info, model) == NN_OK;
        nn_file_info_free(info);
        if (!same && !c->fresh) {
            snprintf(err, errlen,
                     "%s holds a finished run '%s' of other settings:\n  recorded: %s\n  now:      %s\n"
                     "Use another --out folder, or --fresh to discard the earlier runs.",
                     c->out_dir, run->id, r.settings, settings);
            nnm_record_free(&r);
            return -1;
        }
        nnm_record_free(&r);
        if (same && model_ok) {
            state[i] = 1;
            /* A kill between the record and the checkpoint's removal leaves the checkpoint behind. */
            nnm_run_cleanup(c, run->id);
        } else {
            unlink(path); /* other settings with --fresh, or the model file is gone: redo */
        }
    }
    return 0;
}
