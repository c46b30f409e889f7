#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "augment.h"
#include "reject.h"
#include "fsutil.h"
#include "split.h"

void nnm_run_config(const nnm_config *c, const nnm_run *run, nnm_config *out)
{
    *out = *c;
    out->seed = run->seed;
    if (run->lr > 0) out->lr = run->lr;
    if (run->batch_size > 0) out->batch_size = run->batch_size;
}

void nnm_best_path(const nnm_config *c, const char *run_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.best%s", c->models_dir, run_id, NN_MODEL_FILE_EXT);
}

void nnm_model_path(const nnm_config *c, const char *run_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s%s", c->models_dir, run_id, NN_MODEL_FILE_EXT);
}

void nnm_checkpoint_path(const nnm_config *c, const char *run_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.ckpt%s", c->models_dir, run_id, NN_MODEL_FILE_EXT);
}

static int64_t count_of(const nn_dataset *ds, int64_t limit)
{
    int64_t n = nn_dataset_count(ds);
    return limit > 0 && limit < n ? limit : n;
}

#define EVAL_CHUNK 1000

int nnm_evaluate_dataset(nn_model *m, const nn_dataset *ds, int64_t limit, double *loss, double *accuracy,
                         int64_t *confusion, int classes, char *err, size_t errlen)
{
    return nnm_evaluate_examples(m, ds, NULL, count_of(ds, limit), loss, accuracy, confusion, classes, NULL, err,
                                 errlen);
}

/* A model with more outputs than classes (train --reject's "not one digit", reject.h) is scored as a
 * reader uses it, by the most probable of the dataset's classes: its outputs are needed, in chunks. */
static int evaluate_extra(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t n, int classes,
                          int32_t *pred, char *err, size_t errlen)
{
    int64_t f = nn_dataset_features(ds), outputs = nn_model_output_features(m);
    float *xb = malloc((size_t)(EVAL_CHUNK * f) * sizeof(float)), *yb = malloc(EVAL_CHUNK * sizeof(float));
    float *ob = malloc((size_t)(EVAL_CHUNK * outputs) * sizeof(float));
    int rc = -1;
    if (!xb || !yb || !ob) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int64_t r = 0; r < n; r += EVAL_CHUNK) {
        int64_t b = n - r < EVAL_CHUNK ? n - r : EVAL_CHUNK;
        nn_tensor x, y, o;
        int64_t xs[2] = {b, f}, ys[1] = {b}, os[2] = {b, outputs};
        nn_tensor_view(&x, xb, 2, xs);
        nn_tensor_view(&y, yb, 1, ys);
        nn_tensor_view(&o, ob, 2, os);
        nn_status st = idx ? nn_dataset_gather(ds, idx + r, b, &x, &y) : nn_dataset_slice(ds, r, b, &x, &y);
        if (st != NN_OK || nn_model_predict(m, &o, &x) != NN_OK) {
            snprintf(err, errlen, "prediction failed: %s", nn_last_error());
            goto done;
        }
        for (int64_t i = 0; i < b; i++) {
            const float *row = ob + i * outputs;
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (row[k] > row[best]) best = k;
            pred[r + i] = best;
        }
    }
    rc = 0;
done:
    free(xb);
    free(yb);
    free(ob);
    return rc;
}

int nnm_evaluate_examples(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t n, double *loss,
                          double *accuracy, int64_t *confusion, int classes, uint8_t *correct, char *err,
                          size_t errlen)
{
    const int extra = nn_model_output_features(m) > classes;
    const uint8_t *labels = nn_dataset_labels(ds);
    int32_t *pred = malloc((size_t)n * sizeof(int32_t));
    float l;
    int rc = -1;
    if (!pred) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* One forward pass gives the loss and every prediction, straight from the dataset's bytes (a
     * second one, evaluate_extra, the predictions of a model with an extra class). */
    if (nn_model_evaluate_indexed(m, ds, idx, n, &l, NULL, pred) != NN_OK) {
        snprintf(err, errlen, "evaluation failed: %s", nn_last_error());
        goto done;
    }
    if (extra && evaluate_extra(m, ds, idx, n, classes, pred, err, errlen) != 0) goto done;
    /* train --pieces' images of "not one digit" (label NNM_REJECT_CLASS) count in the loss, but the
     * accuracy is the digits' read right, as the test set's is. */
    int64_t right = 0, digits = 0;
    for (int64_t i = 0; i < n; i++) {
        int t = labels[idx ? (int64_t)idx[i] : i], p = pred[i];
        if (t >= classes) continue;
        digits++;
        right += t == p;
        if (confusion && t >= 0 && t < classes && p >= 0 && p < classes) confusion[t * classes + p]++;
        if (correct && t == p) correct[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    *loss = (double)l;
    *accuracy = digits ? (double)right / (double)digits : 0.0;
    rc = 0;
done:
    free(pred);
    return rc;
}

static int build_model(const nnm_config *c, const nnm_run *run, const nn_dataset *ds, int classes, nn_model **out,
                       char *err, size_t errlen)
{
    nn_activation act;
    nn_optimizer *opt = NULL;
    nn_model *m = NULL;
    if (nn_activation_from_name(&act, run->activation) != NN_OK ||
        nn_optimizer_create_from_name(&opt, run->optimizer, c->lr) != NN_OK)
        goto fail;
    if (c->arch.n > 0) {
        /* The list's network on the dataset's images (channels last, one channel). */
        int64_t rows, cols;
        char why[1024];
        nn_dataset_image_size(ds, &rows, &cols);
        if (nnm_arch_create(&m, &c->arch, rows, cols, run->activation, classes, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: cannot build the model: %s", run->id, why);
            nn_optimizer_free(opt);
            return -1;
        }
        if (nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) != NN_OK) goto fail;
        *out = m;
        return 0;
    }
    if (nn_model_create(&m, nn_dataset_features(ds)) != NN_OK) goto fail;
    /* Each hidden layer as Keras users write it: Dense(activation) then Dropout; with batch norm,
     * Dense (linear) -> BatchNormalization -> Activation -> Dropout, so that the activation sees
     * normalised values (Ioffe & Szegedy 2015, sec. 3.2). The dense layer keeps its bias, as
     * Keras' default does. No flag, no extra layer: the original study's model. */
    for (int i = 0; i < c->n_hidden; i++) {
        nn_activation dense_act = c->batchnorm ? nn_activation_make(NN_ACT_LINEAR) : act;
        nn_status st = nn_model_add_dense(m, c->hidden[i], dense_act);
        if (st == NN_OK && c->batchnorm) st = nn_model_add_batchnorm(m, NULL);
        if (st == NN_OK && c->batchnorm) st = nn_model_add_activation(m, act);
        if (st == NN_OK && c->dropout > 0) st = nn_model_add_dropout(m, c->dropout);
        if (st != NN_OK) goto fail;
    }
    if (nn_model_add_dense(m, classes, nn_activation_make(NN_ACT_LINEAR)) != NN_OK ||
        nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt) != NN_OK)
        goto fail;
    *out = m;
    return 0;
fail:
    snprintf(err, errlen, "%s: cannot build the model: %s", run->id, nn_last_error());
    nn_model_free(m);
    nn_optimizer_free(opt);
    return -1;
}

/* Curves travel in checkpoint metadata as space-separated %.17g numbers (exact round trip), in chunks
 * of CURVE_CHUNK epochs under the keys NAME, NAME.1, NAME.2, ...: one metadata value holds at most
 * NN_FORMAT_MAX_STRING bytes. N_CURVES curves x (NNM_MAX_GRID_EPOCHS / CURVE_CHUNK) keys stay within
 * the format's NN_FORMAT_MAX_META entries. */
enum { CURVE_CHUNK = 100, CURVE_KEYS = NNM_MAX_GRID_EPOCHS / CURVE_CHUNK, N_CURVES = 4 };
_Static_assert(12 + N_CURVES * CURVE_KEYS <= NN_FORMAT_MAX_META, "checkpoint metadata fits the format");

typedef struct meta_list {
    const char *keys[12 + N_CURVES * CURVE_KEYS];
    const char *values[12 + N_CURVES * CURVE_KEYS];
    char names[N_CURVES * CURVE_KEYS][40];
    char texts[N_CURVES * CURVE_KEYS][CURVE_CHUNK * 25 + 1];
    size_t n, used;
} meta_list;

static void meta_add(meta_list *l, const char *key, const char *value)
{
    l->keys[l->n] = key;
    l->values[l->n] = value;
    l->n++;
}

static void meta_add_curve(meta_list *l, const char *name, const double *v, int n)
{
    for (int c = 0; c * CURVE_CHUNK < n || c == 0; c++) {
        char *key = l->names[l->used], *text = l->texts[l->used];
        l->used++;
        if (c == 0) snprintf(key, sizeof l->names[0], "%s", name);
        else snprintf(key, sizeof l->names[0], "%s.%d", name, c);
        size_t len = 0;
        text[0] = '\0';
        for (int i = c * CURVE_CHUNK; i < n && i < (c + 1) * CURVE_CHUNK; i++)
            len += (size_t)snprintf(text + len, sizeof l->texts[0] - len, "%s%.17g", len ? " " : "", v[i]);
        meta_add(l, key, text);
    }
}

/* Reads NAME, NAME.1, ... back; returns the number of values. */
static int curve_from_meta(const nn_file_info *info, const char *name, double *v, int cap)
{
    int n = 0;
    for (int c = 0; c < CURVE_KEYS; c++) {
        char key[40];
        if (c == 0) snprintf(key, sizeof key, "%s", name);
        else snprintf(key, sizeof key, "%s.%d", name, c);
        const char *text = nn_file_info_meta_get(info, key);
        if (!text) break;
        char *end;
        while (*text && n < cap) {
            v[n] = strtod(text, &end);
            if (end == text) break;
            n++;
            text = end;
        }
    }
    return n;
}

/* Whether every parameter is finite. libnn refuses a step whose loss or gradients are not, before it
 * changes anything, but an update from finite gradients can still overflow (lr * g beyond FLT_MAX):
 * a checkpoint or a model must never hold such weights, since loading refuses them. */
static int params_finite(nn_model *m)
{
    float *p;
    size_t n;
    if (nn_model_params(m, &p, &n) != NN_OK) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return 0;
    /* Batch norm's moving statistics are saved and checked on load as well. */
    int64_t nb = nn_model_buffer_count(m);
    if (nb <= 0) return 1;
    float *b = malloc((size_t)nb * sizeof *b);
    if (!b) return 1; /* unchecked, not diverged: saving refuses non-finite state with a message */
    int ok = nn_model_get_buffers(m, b, (size_t)nb) == NN_OK;
    for (int64_t i = 0; ok && i < nb; i++) ok = isfinite(b[i]);
    free(b);
    return ok;
}

typedef struct progress_state {
    int epoch;          /* epochs completed */
    int64_t step;       /* steps completed in the current epoch */
    double loss_sum;    /* sums over the current epoch, for the running figures */
    int64_t correct, seen;
    uint64_t rng_at_epoch_start[NN_RNG_STATE_WORDS];
} progress_state;

/* Early stopping (--patience): the best epoch so far by validation loss, and the epochs since. */
typedef struct stopping_state {
    int best_epoch;     /* 1-based; 0: none yet */
    double best_loss;
    int bad_epochs;
} stopping_state;

/* An augmentation generator's state as metadata: four 64-bit words in hex. */
static void rng_state_text(const nn_rng *rng, char *buf, size_t len)
{
    uint64_t st[NN_RNG_STATE_WORDS];
    nn_rng_get_state(rng, st);
    size_t n = 0;
    for (int i = 0; i < NN_RNG_STATE_WORDS && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%016" PRIx64, i ? " " : "", st[i]);
}

static int rng_state_parse(const char *text, uint64_t st[NN_RNG_STATE_WORDS])
{
    for (int i = 0; i < NN_RNG_STATE_WORDS; i++) {
        char *end;
        if (!text || (i ? *text != ' ' : 0)) return -1;
        if (i) text++;
        if (!((*text >= '0' && *text <= '9') || (*text >= 'a' && *text <= 'f'))) return -1;
        st[i] = (uint64_t)strtoull(text, &end, 16);
        if (end - text != 16) return -1;
        text = end;
    }
    /* The all-zero state is one the generator cannot leave, and nn_rng_set_state refuses it. */
    return *text || !(st[0] | st[1] | st[2] | st[3]) ? -1 : 0;
}

static int save_checkpoint(const nnm_config *c, const nnm_run *run, nn_model *m, const char *settings,
                           const progress_state *ps, const stopping_state *es, const nnm_record *rec,
                           const nn_rng *aug, char *err, size_t errlen)
{
    char path[NNM_PATH_MAX], step[32], sums[128], aug_state[96], stopping[96];
    nnm_checkpoint_path(c, run->id, path, sizeof path);
    snprintf(step, sizeof step, "%" PRId64, ps->step);
    snprintf(sums, sizeof sums, "%.17g %" PRId64 " %" PRId64, ps->loss_sum, ps->correct, ps->seen);
    meta_list *meta = calloc(1, sizeof *meta);
    if (!meta) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    meta_add(meta, "settings", settings);
    meta_add(meta, "step", step);
    meta_add(meta, "epoch_sums", sums);
    /* The augmentation generator is saved as it is now, after the steps done: a resume continues
     * its sequence where the interrupted run left it (the shuffle instead restarts the epoch). */
    if (aug) {
        rng_state_text(aug, aug_state, sizeof aug_state);
        meta_add(meta, "augment_rng", aug_state);
    }
    if (c->patience > 0) {
        snprintf(stopping, sizeof stopping, "%d %.17g %d", es->best_epoch, es->best_loss, es->bad_epochs);
        meta_add(meta, "early_stopping", stopping);
    }
    meta_add_curve(meta, "curve_loss", rec->curve_loss, rec->n_curve);
    meta_add_curve(meta, "curve_accuracy", rec->curve_accuracy, rec->n_curve);
    /* The held-out accuracy keeps its first name, so that an older checkpoint still resumes. */
    meta_add_curve(meta, "curve_test_accuracy", rec->curve_heldout_accuracy, rec->n_curve);
    meta_add_curve(meta, "curve_heldout_loss", rec->curve_heldout_loss, rec->n_curve);
    /* The generator state saved is the one at the start of the current epoch: a resume reshuffles
     * identically and skips the steps already done. */
    nn_rng *at_start = NULL;
    if (nn_rng_create(&at_start, 1) != NN_OK || nn_rng_set_state(at_start, ps->rng_at_epoch_start) != NN_OK) {
        nn_rng_free(at_start);
        free(meta);
        snprintf(err, errlen, "%s", nn_last_error());
        return -1;
    }
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.rng = at_start;
    so.epoch = ps->epoch;
    so.meta_keys = meta->keys;
    so.meta_values = meta->values;
    so.meta_count = meta->n;
    nn_status st = nn_model_save(m, path, &so);
    nn_rng_free(at_start);
    free(meta);
    if (st != NN_OK) {
        snprintf(err, errlen, "checkpoint %s: %s", path, nn_last_error());
        return -1;
    }
    return 0;
}

/* Loads a checkpoint of the same settings, if there is one; 1 resumed, 0 none, -1 error. */
static int try_resume(const nnm_train_env *env, const nnm_config *c, const nnm_run *run, const char *settings,
                      nn_model **m, nn_rng *rng, nn_rng *aug, progress_state *ps, stopping_state *es,
                      nnm_record *rec, char *err, size_t errlen)
{
    uint64_t aug_state[NN_RNG_STATE_WORDS] = {0};
    char path[NNM_PATH_MAX];
    nnm_checkpoint_path(c, run->id, path, sizeof path);
    if (!nnm_file_exists(path)) return 0;
    nn_file_info *info = NULL;
    if (nn_file_info_read(&info, path) != NN_OK) {
        /* A checkpoint torn by a crash is worth nothing: start the run again. */
        nnm_progress_message(env->progress, "%s: ignoring unreadable checkpoint (%s)", run->id, nn_last_error());
        unlink(path);
        return 0;
    }
    const char *saved = nn_file_info_meta_get(info, "settings");
    if (!saved || strcmp(saved, settings) != 0) {
        nn_file_info_free(info);
        nnm_progress_message(env->progress, "%s: checkpoint is of other settings; starting again", run->id);
        unlink(path);
        return 0;
    }
    const char *step = nn_file_info_meta_get(info, "step"), *sums = nn_file_info_meta_get(info, "epoch_sums");
    ps->step = step ? strtoll(step, NULL, 10) : 0;
    if (!sums || sscanf(sums, "%lf %" SCNd64 " %" SCNd64, &ps->loss_sum, &ps->correct, &ps->seen) != 3) ps->step = 0;
    int epochs = c->epochs;
    rec->n_curve = curve_from_meta(info, "curve_loss", rec->curve_loss, epochs);
    /* A checkpoint of an older nn-mnist has no held-out loss: NaN for its epochs. */
    int n_heldout_loss = curve_from_meta(info, "curve_heldout_loss", rec->curve_heldout_loss, epochs);
    for (int i = n_heldout_loss > 0 ? rec->n_curve : 0; i < rec->n_curve; i++) rec->curve_heldout_loss[i] = NAN;
    const char *stopping = nn_file_info_meta_get(info, "early_stopping");
    int stopping_ok = c->patience == 0 ||
                      (stopping && sscanf(stopping, "%d %lf %d", &es->best_epoch, &es->best_loss, &es->bad_epochs) == 3 &&
                       es->best_epoch >= 0 && es->best_epoch <= rec->n_curve && es->bad_epochs >= 0);
    int ok = curve_from_meta(info, "curve_accuracy", rec->curve_accuracy, epochs) == rec->n_curve &&
             curve_from_meta(info, "curve_test_accuracy", rec->curve_heldout_accuracy, epochs) == rec->n_curve &&
             (n_heldout_loss == 0 || n_heldout_loss == rec->n_curve) && stopping_ok &&
             rec->n_curve == nn_file_info_epoch(info) && ps->step >= 0 && ps->step < (int64_t)1 << 40 &&
             ps->seen >= 0 && ps->correct >= 0 && ps->correct <= ps->seen &&
             (!aug || rng_state_parse(nn_file_info_meta_get(info, "augment_rng"), aug_state) == 0);
    nn_file_info_free(info);
    if (!ok) {
        /* Valid as a file, inconsistent as a checkpoint: nothing in it can be trusted. */
        nnm_progress_message(env->progress, "%s: ignoring an inconsistent checkpoint; starting again", run->id);
        rec->n_curve = 0;
        ps->step = ps->seen = ps->correct = 0;
        ps->loss_sum = 0;
        memset(es, 0, sizeof *es);
        unlink(path);
        return 0;
    }
    nn_model *loaded = NULL;
    int64_t epoch = -1;
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.rng = rng;
    lo.epoch = &epoch;
    nn_status st = nn_model_load(&loaded, path, &lo);
    if (st == NN_ERR_NUMERIC) {
        /* Non-finite weights: a diverged run checkpointed by an nn-mnist older than the divergence
         * check. Resuming cannot work; training again reaches the divergence and records it. */
        nnm_progress_message(env->progress, "%s: ignoring a checkpoint with non-finite weights; starting again", run->id);
        nn_model_free(loaded);
        rec->n_curve = 0;
        ps->step = ps->seen = ps->correct = 0;
        ps->loss_sum = 0;
        memset(es, 0, sizeof *es);
        unlink(path);
        return 0;
    }
    if (st != NN_OK) {
        snprintf(err, errlen, "%s: cannot resume from %s: %s", run->id, path, nn_last_error());
        nn_model_free(loaded);
        return -1;
    }
    if (epoch < 0 || epoch > c->epochs) {
        snprintf(err, errlen, "%s: checkpoint %s is at epoch %lld of %d", run->id, path, (long long)epoch,
                 c->epochs);
        nn_model_free(loaded);
        return -1;
    }
    nn_model_free(*m);
    *m = loaded;
    if (aug) nn_rng_set_state(aug, aug_state); /* checked above: not the all-zero state */
    ps->epoch = (int)epoch;
    nn_rng_get_state(rng, ps->rng_at_epoch_start);
    nnm_progress_message(env->progress, "%s: resuming at epoch %d, step %" PRId64, run->id, ps->epoch + 1, ps->step);
    return 1;
}

/* Everything one run holds while it trains: nnm_train_run's parts share it. */
typedef struct run_ctx {
    const nnm_train_env *env;
    const nnm_run *run;
    nnm_config c;                 /* the run's own (nnm_run_config) */
    char settings[NNM_SETTINGS_MAX];
    nnm_record *rec;
    nn_model *m;
    nn_rng *rng, *aug;            /* weights and shuffling; --augment's and --reject's draws */
    int classes;
    int64_t features, rows, cols, batch, steps;
    /* The examples trained on (fit, ascending) and, with --validation, those held out (val); without
     * a split val is NULL and the held-out set is the test set, as in the original study. */
    uint32_t *fit, *val;
    int64_t n_fit, n_val, n_test;
    uint32_t *order;
    float *xb, *yb, *xa;          /* the gathered batch, and with --augment or --reject the one trained on */
    uint8_t *keep;                /* with --reject and --fonts, which of the batch are font digits */
    double base_lr;               /* the rate the optimizer was built with: the schedule's start, and recorded */
    progress_state ps;
    stopping_state es;
    int div_epoch;                /* where the loss became non-finite (record.h) */
    int64_t div_step;
    int test_done;                /* the last epoch's evaluation on the test set was the final one */
} run_ctx;

static int fail_lib(run_ctx *r, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", r->run->id, nn_last_error());
    return -1;
}

/* Data, split, buffers, the model (fresh, or from its checkpoint). 0 or -1 with err. */
static int run_prepare(run_ctx *r, char *err, size_t errlen)
{
    const nnm_config *c = &r->c;
    const nnm_train_env *env = r->env;
    /* train --fonts' images, at the end, are trained on whatever the limit and the split. */
    const int64_t base = nn_dataset_count(env->train) - env->extra;
    int64_t n_train = c->train_limit && c->train_limit < base ? c->train_limit : base;
    r->n_test = count_of(env->test, c->test_limit);
    r->features = nn_dataset_features(env->train);
    r->batch = c->batch_size;
    r->classes = env->classes ? env->classes : nn_dataset_classes(env->train);
    if (nn_dataset_classes(env->test) > r->classes) r->classes = nn_dataset_classes(env->test);
    nn_dataset_image_size(env->train, &r->rows, &r->cols);
    nnm_config_settings_line(c, r->run->optimizer, r->run->activation, n_train + env->extra, r->n_test, r->settings,
                             sizeof r->settings);
    if (c->validation > 0) {
        if (nnm_split_stratified(env->train, n_train, c->validation, c->split_seed, &r->fit, &r->n_fit, &r->val,
                                 &r->n_val, err, errlen) != 0)
            return -1;
    } else {
        r->n_fit = n_train;
        r->fit = malloc((size_t)n_train * sizeof *r->fit);
        for (int64_t i = 0; r->fit && i < n_train; i++) r->fit[i] = (uint32_t)i;
    }
    if (env->extra > 0 && r->fit) {
        uint32_t *fit = realloc(r->fit, (size_t)(r->n_fit + env->extra) * sizeof *fit);
        if (!fit) {
            snprintf(err, errlen, "%s: out of memory", r->run->id);
            return -1;
        }
        r->fit = fit;
        for (int64_t i = 0; i < env->extra; i++) r->fit[r->n_fit + i] = (uint32_t)(base + i);
        r->n_fit += env->extra;
    }
    if (r->batch > r->n_fit) {
        snprintf(err, errlen, "%s: --batch-size %lld is larger than the %lld images trained on", r->run->id,
                 (long long)r->batch, (long long)r->n_fit);
        return -1;
    }
    if (c->reject > 0 && r->classes != NNM_REJECT_CLASS) {
        snprintf(err, errlen, "%s: --reject adds an 11th class to datasets of 10, not of %d", r->run->id, r->classes);
        return -1;
    }
    if (c->reject > 0 && (r->rows != r->cols || r->rows < 20)) {
        snprintf(err, errlen, "%s: --reject composes square images of at least 20 x 20, not %lld x %lld", r->run->id,
                 (long long)r->rows, (long long)r->cols);
        return -1;
    }
    r->steps = (r->n_fit + r->batch - 1) / r->batch;
    r->xb = malloc((size_t)(r->batch * r->features) * sizeof(float));
    r->yb = malloc((size_t)r->batch * sizeof(float));
    /* The transforms write a copy (and use scratch after it): a pair's partner is read from the
     * gathered batch, which must stay as gathered. */
    const int transform = c->augment || c->reject > 0;
    r->xa = transform ? malloc((size_t)(r->batch * r->features + NNM_REJECT_SCRATCH(r->rows, r->cols)) * sizeof(float))
                      : NULL;
    r->order = malloc((size_t)r->n_fit * sizeof(uint32_t));
    const int fonts_kept = c->reject > 0 && env->extra > 0;
    r->keep = fonts_kept ? malloc((size_t)r->batch) : NULL;
    if (!r->fit || !r->xb || !r->yb || !r->order || (transform && !r->xa) || (fonts_kept && !r->keep) ||
        nnm_record_alloc(r->rec, r->classes, c->epochs) != 0) {
        snprintf(err, errlen, "%s: out of memory", r->run->id);
        return -1;
    }
    if (build_model(c, r->run, env->train, r->classes + (c->reject > 0) + (c->letters > 0), &r->m, err,
                    errlen) != 0)
        return -1;
    if (nn_rng_create(&r->rng, c->seed) != NN_OK || nn_model_init(r->m, r->rng) != NN_OK) return fail_lib(r, err, errlen);
    if (transform && nn_rng_create(&r->aug, c->seed ^ NNM_AUGMENT_SEED) != NN_OK) return fail_lib(r, err, errlen);
    r->base_lr = nn_optimizer_get_lr(nn_model_get_optimizer(r->m));
    nn_rng_get_state(r->rng, r->ps.rng_at_epoch_start);
    if (try_resume(env, c, r->run, r->settings, &r->m, r->rng, r->aug, &r->ps, &r->es, r->rec, err, errlen) < 0)
        return -1;
    if (r->ps.step >= r->steps) {
        snprintf(err, errlen, "%s: checkpoint is at step %" PRId64 " of an epoch of %" PRId64, r->run->id, r->ps.step,
                 r->steps);
        return -1;
    }
    if (nn_model_reserve(r->m, r->batch) != NN_OK) return fail_lib(r, err, errlen);
    return 0;
}

/* Loss and accuracy on the held-out set: the validation split, or the test set without one. */
static int evaluate_heldout(run_ctx *r, double *loss, double *acc, char *err, size_t errlen)
{
    if (r->val)
        return nnm_evaluate_examples(r->m, r->env->train, r->val, r->n_val, loss, acc, NULL, r->classes, NULL, err,
                                     errlen);
    return nnm_evaluate_examples(r->m, r->env->test, NULL, r->n_test, loss, acc, NULL, r->classes, NULL, err, errlen);
}

/* --patience after an epoch: keeps the best epoch's weights in their own file (a resumed run still
 * has them), and says whether to stop. 1 stop, 0 go on, -1 error. */
static int early_stopping(run_ctx *r, int epoch, double heldout_loss, char *err, size_t errlen)
{
    if (r->c.patience <= 0) return 0;
    stopping_state *es = &r->es;
    if (es->best_epoch == 0 || heldout_loss < es->best_loss) {
        char path[NNM_PATH_MAX];
        nnm_best_path(&r->c, r->run->id, path, sizeof path);
        nn_save_options so = NN_SAVE_OPTIONS_INIT;
        so.with_optimizer = 1;
        so.epoch = epoch + 1;
        if (nn_model_save(r->m, path, &so) != NN_OK) {
            snprintf(err, errlen, "%s: cannot save the best epoch's weights: %s", r->run->id, nn_last_error());
            return -1;
        }
        es->best_epoch = epoch + 1;
        es->best_loss = heldout_loss;
        es->bad_epochs = 0;
        return 0;
    }
    return ++es->bad_epochs >= r->c.patience;
}

/* One training step of batch s of the epoch; the step's status. */
static nn_status train_step(run_ctx *r, int epoch, int64_t s, float *loss, int64_t *correct, int64_t *b)
{
    const nnm_config *c = &r->c;
    int64_t start = s * r->batch;
    *b = r->n_fit - start < r->batch ? r->n_fit - start : r->batch;
    nn_tensor x, y;
    int64_t xs[2] = {r->batch, r->features}, ys[1] = {r->batch};
    nn_tensor_view(&x, r->xb, 2, xs);
    nn_tensor_view(&y, r->yb, 1, ys);
    /* Untransformed, the model takes the examples from the dataset itself (no float batch for a
     * sparse first layer); with --augment or --reject, the batch is gathered, transformed, then
     * trained on. */
    nn_status st = r->aug ? nn_dataset_gather(r->env->train, r->order + start, *b, &x, &y) : NN_OK;
    if (st == NN_OK && r->aug) {
        float *scratch = r->xa + r->batch * r->features;
        if (c->augment == NNM_AUGMENT_SCAN)
            nnm_augment_batch_scan(r->xa, r->xb, *b, r->rows, r->cols, scratch, r->aug);
        else if (c->augment == NNM_AUGMENT_HANDWRITING)
            nnm_augment_batch_handwriting(r->xa, r->xb, *b, r->rows, r->cols, scratch, r->aug);
        else if (c->augment)
            nnm_augment_batch(r->xa, r->xb, *b, r->rows, r->cols, NNM_AUGMENT_SHIFT, NNM_AUGMENT_DEGREES, r->aug);
        else
            memcpy(r->xa, r->xb, (size_t)(*b * r->features) * sizeof *r->xa);
        if (c->reject > 0) {
            /* The fonts' digits are always taught as digits (docs/predict-log.md, "The fonts' digits
             * stay digits"), and train --pieces' pieces as labelled. They follow MNIST's. */
            const int64_t base = nn_dataset_count(r->env->train) - r->env->extra;
            for (int64_t k = 0; r->keep && k < *b; k++) r->keep[k] = r->order[start + k] >= base;
            nnm_reject_batch(r->xa, r->yb, r->xb, *b, r->rows, r->cols, (double)c->reject, scratch, r->aug, r->keep);
        }
        int64_t as[2] = {*b, r->features};
        nn_tensor_view(&x, r->xa, 2, as);
    }
    if (st == NN_OK && c->lr_schedule != NNM_LR_CONSTANT) {
        /* A function of the global step alone, so that a resumed run sets the same rates. */
        float lr = (float)nnm_lr_at(c->lr_schedule, r->base_lr, (int64_t)epoch * r->steps + s,
                                    (int64_t)c->epochs * r->steps);
        st = nn_optimizer_set_lr(nn_model_get_optimizer(r->m), lr >= FLT_MIN ? lr : FLT_MIN);
    }
    if (st == NN_OK)
        st = r->aug ? nn_model_train_step(r->m, &x, &y, loss, correct)
                    : nn_model_train_step_indexed(r->m, r->env->train, r->order + start, *b, loss, correct);
    return st;
}

/* The epochs: NNM_TRAIN_DONE when training ended (all epochs, early stopping or divergence, which
 * r->div_epoch tells), NNM_TRAIN_STOPPED when asked to stop (checkpointed), NNM_TRAIN_FAILED. */
static int run_epochs(run_ctx *r, char *err, size_t errlen)
{
    const nnm_config *c = &r->c;
    const nnm_train_env *env = r->env;
    nnm_record *rec = r->rec;
    progress_state *ps = &r->ps;
    const char *id = r->run->id;
    nnm_progress_start(env->progress, env->slot, id, c->epochs, r->steps);
    for (int epoch = ps->epoch; epoch < c->epochs; epoch++) {
        double te = nnm_now();
        nn_rng_get_state(r->rng, ps->rng_at_epoch_start);
        /* The order starts from the examples in ascending order every epoch, so that it depends only
         * on the generator's state, which is what a checkpoint saves. */
        memcpy(r->order, r->fit, (size_t)r->n_fit * sizeof *r->order);
        nn_rng_shuffle(r->rng, r->order, (size_t)r->n_fit);
        for (int64_t s = ps->step; s < r->steps; s++) {
            float loss;
            int64_t correct, b;
            nn_status st = train_step(r, epoch, s, &loss, &correct, &b);
            if (st == NN_ERR_NUMERIC) {
                /* Diverged: the step changed nothing; stop here and record it (training on only
                 * spreads NaN, and a rerun would diverge again at the same step). */
                r->div_epoch = epoch + 1;
                r->div_step = s + 1;
                nnm_progress_message(env->progress, "%s: the loss became non-finite at epoch %d, step %" PRId64
                                     "; stopped, recorded as diverged", id, r->div_epoch, r->div_step);
                return NNM_TRAIN_DONE;
            }
            if (st != NN_OK) {
                snprintf(err, errlen, "%s: training step failed: %s", id, nn_last_error());
                return NNM_TRAIN_FAILED;
            }
            ps->loss_sum += (double)loss * (double)b;
            ps->correct += correct;
            ps->seen += b;
            ps->step = s + 1;
            nnm_progress_step(env->progress, env->slot, epoch + 1, s + 1, ps->loss_sum / (double)ps->seen,
                              (double)ps->correct / (double)ps->seen);
            if (env->stop && atomic_load(env->stop) && s + 1 < r->steps) {
                if (!params_finite(r->m)) {
                    r->div_epoch = epoch + 1;
                    r->div_step = s + 1;
                    return NNM_TRAIN_DONE;
                }
                if (save_checkpoint(c, r->run, r->m, r->settings, ps, &r->es, rec, r->aug, err, errlen) != 0)
                    return NNM_TRAIN_FAILED;
                return NNM_TRAIN_STOPPED;
            }
        }
        double heldout_loss, heldout_acc;
        if (!r->val && epoch + 1 == c->epochs) {
            /* Without a validation split the last epoch's held-out set is the test set, with the
             * final weights: its figures are the final ones, predictions and all (one pass, not two). */
            if (nnm_record_alloc_test_correct(rec, r->n_test) != 0) {
                snprintf(err, errlen, "out of memory");
                return NNM_TRAIN_FAILED;
            }
            if (nnm_evaluate_examples(r->m, env->test, NULL, r->n_test, &heldout_loss, &heldout_acc, rec->confusion,
                                      r->classes, rec->test_correct, err, errlen) != 0)
                return NNM_TRAIN_FAILED;
            rec->test_loss = heldout_loss;
            rec->test_accuracy = heldout_acc;
            r->test_done = 1;
        } else if (evaluate_heldout(r, &heldout_loss, &heldout_acc, err, errlen) != 0) {
            return NNM_TRAIN_FAILED;
        }
        rec->curve_loss[epoch] = ps->loss_sum / (double)ps->seen;
        rec->curve_accuracy[epoch] = (double)ps->correct / (double)ps->seen;
        rec->curve_heldout_loss[epoch] = heldout_loss;
        rec->curve_heldout_accuracy[epoch] = heldout_acc;
        rec->n_curve = epoch + 1;
        nnm_progress_epoch(env->progress, env->slot, epoch + 1, rec->curve_loss[epoch], rec->curve_accuracy[epoch],
                           heldout_loss, heldout_acc, nnm_now() - te);
        if (c->lr_schedule != NNM_LR_CONSTANT)
            nnm_progress_message(env->progress, "%s: epoch %d/%d ended at learning rate %.9g", id, epoch + 1,
                                 c->epochs, (double)nn_optimizer_get_lr(nn_model_get_optimizer(r->m)));
        if (!params_finite(r->m)) {
            r->div_epoch = epoch + 1;
            r->div_step = r->steps;
            return NNM_TRAIN_DONE;
        }
        int stop = early_stopping(r, epoch, heldout_loss, err, errlen);
        if (stop < 0) return NNM_TRAIN_FAILED;
        if (stop) {
            nnm_progress_message(env->progress, "%s: no lower validation loss for %d epochs: stopped after epoch %d, "
                                 "keeping epoch %d's weights", id, c->patience, epoch + 1, r->es.best_epoch);
            return NNM_TRAIN_DONE;
        }
        memset(ps, 0, sizeof *ps);
        ps->epoch = epoch + 1;
        nn_rng_get_state(r->rng, ps->rng_at_epoch_start);
        if (epoch + 1 < c->epochs &&
            save_checkpoint(c, r->run, r->m, r->settings, ps, &r->es, rec, r->aug, err, errlen) != 0)
            return NNM_TRAIN_FAILED;
        if (env->stop && atomic_load(env->stop) && epoch + 1 < c->epochs) return NNM_TRAIN_STOPPED;
    }
    return NNM_TRAIN_DONE;
}

/* Early stopping keeps the best epoch's weights: they replace the last epoch's. 0 or -1. */
static int restore_best(run_ctx *r, char *err, size_t errlen)
{
    if (r->c.patience <= 0 || r->div_epoch || r->es.best_epoch == 0 || r->es.best_epoch == r->rec->n_curve) return 0;
    char path[NNM_PATH_MAX];
    nnm_best_path(&r->c, r->run->id, path, sizeof path);
    nn_model *best = NULL;
    if (nn_model_load(&best, path, NULL) != NN_OK) {
        snprintf(err, errlen, "%s: cannot load the best epoch's weights from %s: %s", r->run->id, path, nn_last_error());
        return -1;
    }
    nn_model_free(r->m);
    r->m = best;
    r->test_done = 0; /* those were the last epoch's weights' figures */
    memset(r->rec->confusion, 0, (size_t)r->classes * (size_t)r->classes * sizeof *r->rec->confusion);
    return 0;
}

/* The final figures, with the final weights: on the images trained on, the validation split and the
 * test set (once, here), into the record. 0 or -1. */
static int run_evaluate(run_ctx *r, char *err, size_t errlen)
{
    const nnm_config *c = &r->c;
    nnm_record *rec = r->rec;
    if (r->div_epoch) return 0;
    if (!r->test_done && nnm_record_alloc_test_correct(rec, r->n_test) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (nnm_evaluate_examples(r->m, r->env->train, r->val || r->env->extra ? r->fit : NULL, r->n_fit, &rec->train_loss,
                              &rec->train_accuracy, NULL, r->classes, NULL, err, errlen) != 0 ||
        (r->val && nnm_evaluate_examples(r->m, r->env->train, r->val, r->n_val, &rec->val_loss, &rec->val_accuracy,
                                         NULL, r->classes, NULL, err, errlen) != 0) ||
        (!r->test_done && nnm_evaluate_examples(r->m, r->env->test, NULL, r->n_test, &rec->test_loss,
                                                &rec->test_accuracy, rec->confusion, r->classes, rec->test_correct,
                                                err, errlen) != 0))
        return -1;
    /* Finite weights can still overflow on some example; such losses are no result either. */
    if (!isfinite(rec->train_loss) || !isfinite(rec->test_loss) || (r->val && !isfinite(rec->val_loss))) {
        r->div_epoch = c->epochs;
        r->div_step = 0;
        nnm_progress_message(r->env->progress, "%s: the final evaluation's loss is non-finite; recorded as diverged",
                             r->run->id);
    }
    return 0;
}

/* A diverged run has no metrics; its model file holds its last finite weights. 0 or -1. */
static int run_diverged(run_ctx *r, char *err, size_t errlen)
{
    nnm_record *rec = r->rec;
    rec->diverged_epoch = r->div_epoch;
    rec->diverged_step = r->div_step;
    rec->train_accuracy = rec->test_accuracy = rec->train_loss = rec->test_loss = NAN;
    rec->val_accuracy = rec->val_loss = NAN;
    free(rec->test_correct);
    rec->test_correct = NULL;
    rec->n_test_correct = 0;
    memset(rec->confusion, 0, (size_t)r->classes * (size_t)r->classes * sizeof *rec->confusion);
    if (params_finite(r->m)) return 0;
    /* An update overflowed: no finite weights of this run's are left in memory. Its initial ones (the
     * same seed gives the same) stand in, so that the model file loads. */
    nn_model_free(r->m);
    r->m = NULL;
    nn_rng_free(r->rng);
    r->rng = NULL;
    if (build_model(&r->c, r->run, r->env->train, r->classes + (r->c.reject > 0) + (r->c.letters > 0), &r->m, err,
                    errlen) != 0)
        return -1;
    if (nn_rng_create(&r->rng, r->c.seed) != NN_OK || nn_model_init(r->m, r->rng) != NN_OK) return fail_lib(r, err, errlen);
    return 0;
}

static void fill_record(run_ctx *r)
{
    const nnm_config *c = &r->c;
    nnm_record *rec = r->rec;
    snprintf(rec->run_id, sizeof rec->run_id, "%s", r->run->id);
    snprintf(rec->optimizer, sizeof rec->optimizer, "%s", r->run->optimizer);
    snprintf(rec->activation, sizeof rec->activation, "%s", r->run->activation);
    snprintf(rec->settings, sizeof rec->settings, "%s", r->settings);
    nnm_model_path(c, r->run->id, rec->model_path, sizeof rec->model_path);
    rec->lr = r->base_lr;
    rec->seed = c->seed;
    rec->epochs = c->epochs;
    rec->batch_size = r->batch;
    rec->params = nn_model_param_count(r->m);
    rec->blas_threads = c->threads;
    rec->dropout = c->dropout;
    rec->batchnorm = c->batchnorm;
    snprintf(rec->arch, sizeof rec->arch, "%s", c->arch.text);
    rec->augment = c->augment;
    snprintf(rec->lr_schedule, sizeof rec->lr_schedule, "%s",
             c->lr_schedule != NNM_LR_CONSTANT ? nnm_lr_schedule_name(c->lr_schedule) : "");
    rec->validation = c->validation;
    rec->split_seed = c->validation > 0 ? c->split_seed : 0;
    rec->patience = c->patience;
    rec->best_epoch = c->patience > 0 && !r->div_epoch ? r->es.best_epoch : 0;
}

/* The model file, its metadata the run's settings and results. 0 or -1. */
static int run_save_model(run_ctx *r, char *err, size_t errlen)
{
    const nnm_config *c = &r->c;
    nnm_record *rec = r->rec;
    /* The saved model's optimizer holds the run's rate, not the schedule's last, so that training it
     * further starts from that rate. */
    if (c->lr_schedule != NNM_LR_CONSTANT) nn_optimizer_set_lr(nn_model_get_optimizer(r->m), (float)r->base_lr);
    char v[4][32], seed[32], epochs[16], bs[32], diverged[64], dropout[32], reject[32], fonts[32],
        validation[32], patience[16], best[16], pieces[32], letters[32];
    snprintf(v[0], sizeof v[0], "%.6f", rec->train_accuracy);
    snprintf(v[1], sizeof v[1], "%.6f", rec->test_accuracy);
    snprintf(v[2], sizeof v[2], "%.6f", rec->train_loss);
    snprintf(v[3], sizeof v[3], "%.6f", rec->test_loss);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    snprintf(epochs, sizeof epochs, "%d", c->epochs);
    snprintf(bs, sizeof bs, "%" PRId64, r->batch);
    snprintf(diverged, sizeof diverged, "epoch %d step %" PRId64, r->div_epoch, r->div_step);
    nnm_format_float(dropout, sizeof dropout, c->dropout);
    nnm_format_float(reject, sizeof reject, c->reject);
    nnm_format_float(fonts, sizeof fonts, c->fonts);
    nnm_format_float(validation, sizeof validation, c->validation);
    snprintf(patience, sizeof patience, "%d", c->patience);
    snprintf(best, sizeof best, "%d", rec->best_epoch);
    nnm_format_float(pieces, sizeof pieces, c->pieces);
    nnm_format_float(letters, sizeof letters, c->letters);
    /* An empty "created" keeps the save time out of the file: the same settings give the same bytes,
     * so a resumed or distributed grid can be checked against an uninterrupted one. */
    const char *keys[28] = {"created", "dataset", "optimizer", "activation", "seed", "epochs", "batch_size",
                            "train_accuracy", "test_accuracy", "train_loss", "test_loss", "settings"};
    const char *values[28] = {"", c->dataset, r->run->optimizer, r->run->activation, seed, epochs, bs,
                              v[0], v[1], v[2], v[3], r->settings};
    size_t n = 12;
    /* The other keys only where they apply: the file of a finished run of the original study stays
     * byte for byte what it was. */
#define META_IF(cond, key, value) \
    do { \
        if (cond) { \
            keys[n] = key; \
            values[n++] = value; \
        } \
    } while (0)
    META_IF(c->dropout > 0, "dropout", dropout);
    META_IF(c->batchnorm, "batchnorm", "1");
    META_IF(c->arch.n > 0, "arch", c->arch.text);
    META_IF(c->augment, "augment", c->augment == NNM_AUGMENT_SCAN ? "3" : c->augment == NNM_AUGMENT_HANDWRITING ? "2" : "1");
    META_IF(c->reject > 0, "reject", reject);
    META_IF(c->fonts > 0, "fonts", fonts);
    META_IF(r->env->extra > 0 && r->env->extra_what, "font_digits", r->env->extra_what);
    META_IF(c->pieces > 0, "pieces", pieces);
    META_IF(c->pieces > 0 && r->env->pieces_what, "pieces_added", r->env->pieces_what);
    META_IF(c->letters > 0, "letters", letters);
    META_IF(c->letters > 0 && r->env->letters_what, "letters_added", r->env->letters_what);
    META_IF(c->lr_schedule != NNM_LR_CONSTANT, "lr_schedule", nnm_lr_schedule_name(c->lr_schedule));
    META_IF(c->validation > 0, "validation", validation);
    META_IF(c->patience > 0, "patience", patience);
    META_IF(rec->best_epoch > 0, "best_epoch", best);
    META_IF(r->div_epoch, "diverged", diverged);
#undef META_IF
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.rng = r->rng;
    /* the epochs the weights completed */
    so.epoch = r->div_epoch ? rec->n_curve : rec->best_epoch > 0 ? rec->best_epoch : rec->n_curve;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = n;
    if (nn_model_save(r->m, rec->model_path, &so) != NN_OK) {
        snprintf(err, errlen, "%s: cannot save the model: %s", r->run->id, nn_last_error());
        return -1;
    }
    return 0;
}

int nnm_train_run(const nnm_train_env *env, const nnm_run *run, nnm_record *rec, char *err, size_t errlen)
{
    double t0 = nnm_now();
    run_ctx *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", run->id);
        return NNM_TRAIN_FAILED;
    }
    r->env = env;
    r->run = run;
    r->rec = rec;
    nnm_run_config(env->config, run, &r->c);
    int rc = NNM_TRAIN_FAILED;
    if (run_prepare(r, err, errlen) == 0) rc = run_epochs(r, err, errlen);
    if (rc == NNM_TRAIN_DONE) {
        if (restore_best(r, err, errlen) != 0 || run_evaluate(r, err, errlen) != 0 ||
            (r->div_epoch && run_diverged(r, err, errlen) != 0))
            rc = NNM_TRAIN_FAILED;
        if (rc == NNM_TRAIN_DONE) {
            fill_record(r);
            if (run_save_model(r, err, errlen) != 0) rc = NNM_TRAIN_FAILED;
        }
        rec->seconds = nnm_now() - t0;
    }
    nnm_progress_end(env->progress, env->slot);
    nn_model_free(r->m);
    nn_rng_free(r->rng);
    nn_rng_free(r->aug);
    free(r->xa);
    free(r->keep);
    free(r->xb);
    free(r->yb);
    free(r->order);
    free(r->fit);
    free(r->val);
    free(r);
    return rc;
}

void nnm_run_cleanup(const nnm_config *c, const char *run_id)
{
    char path[NNM_PATH_MAX];
    nnm_checkpoint_path(c, run_id, path, sizeof path);
    unlink(path);
    nnm_best_path(c, run_id, path, sizeof path);
    unlink(path);
}
