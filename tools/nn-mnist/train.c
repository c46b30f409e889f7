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
#include "fsutil.h"

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
    int64_t n = count_of(ds, limit), f = nn_dataset_features(ds);
    float *xb = malloc((size_t)(EVAL_CHUNK * f) * sizeof(float)), *yb = malloc(EVAL_CHUNK * sizeof(float));
    int32_t *pred = malloc(EVAL_CHUNK * sizeof(int32_t));
    double sum_loss = 0, sum_correct = 0;
    int rc = -1;
    if (!xb || !yb || !pred) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int64_t r = 0; r < n; r += EVAL_CHUNK) {
        int64_t b = n - r < EVAL_CHUNK ? n - r : EVAL_CHUNK;
        nn_tensor x, y;
        int64_t xs[2] = {EVAL_CHUNK, f}, ys[1] = {EVAL_CHUNK};
        nn_tensor_view(&x, xb, 2, xs);
        nn_tensor_view(&y, yb, 1, ys);
        float l, a;
        if (nn_dataset_slice(ds, r, b, &x, &y) != NN_OK || nn_model_evaluate(m, &x, &y, &l, &a) != NN_OK) {
            snprintf(err, errlen, "evaluation failed: %s", nn_last_error());
            goto done;
        }
        sum_loss += (double)l * (double)b;
        /* a is correct / b rounded to float; b <= EVAL_CHUNK, so rounding a * b recovers the count. */
        sum_correct += (double)llround((double)a * (double)b);
        if (confusion) {
            if (nn_model_predict_classes(m, pred, &x) != NN_OK) {
                snprintf(err, errlen, "prediction failed: %s", nn_last_error());
                goto done;
            }
            for (int64_t i = 0; i < b; i++) {
                int t = (int)yb[i], p = pred[i];
                if (t >= 0 && t < classes && p >= 0 && p < classes) confusion[t * classes + p]++;
            }
        }
    }
    *loss = sum_loss / (double)n;
    *accuracy = sum_correct / (double)n;
    rc = 0;
done:
    free(xb);
    free(yb);
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
 * NN_FORMAT_MAX_STRING bytes. 3 curves x (NNM_MAX_GRID_EPOCHS / CURVE_CHUNK) keys stay within the
 * format's NN_FORMAT_MAX_META entries. */
enum { CURVE_CHUNK = 100, CURVE_KEYS = NNM_MAX_GRID_EPOCHS / CURVE_CHUNK };

typedef struct meta_list {
    const char *keys[8 + 3 * CURVE_KEYS];
    const char *values[8 + 3 * CURVE_KEYS];
    char names[3 * CURVE_KEYS][40];
    char texts[3 * CURVE_KEYS][CURVE_CHUNK * 25 + 1];
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

static int save_checkpoint(const nnm_train_env *env, const nnm_run *run, nn_model *m, const char *settings,
                           const progress_state *ps, const nnm_record *rec, const nn_rng *aug, char *err,
                           size_t errlen)
{
    char path[4096], step[32], sums[128], aug_state[96];
    nnm_checkpoint_path(env->config, run->id, path, sizeof path);
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
    meta_add_curve(meta, "curve_loss", rec->curve_loss, rec->n_curve);
    meta_add_curve(meta, "curve_accuracy", rec->curve_accuracy, rec->n_curve);
    meta_add_curve(meta, "curve_test_accuracy", rec->curve_test_accuracy, rec->n_curve);
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
static int try_resume(const nnm_train_env *env, const nnm_run *run, const char *settings, nn_model **m, nn_rng *rng,
                      nn_rng *aug, progress_state *ps, nnm_record *rec, char *err, size_t errlen)
{
    uint64_t aug_state[NN_RNG_STATE_WORDS] = {0};
    char path[4096];
    nnm_checkpoint_path(env->config, run->id, path, sizeof path);
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
    int epochs = env->config->epochs;
    rec->n_curve = curve_from_meta(info, "curve_loss", rec->curve_loss, epochs);
    int ok = curve_from_meta(info, "curve_accuracy", rec->curve_accuracy, epochs) == rec->n_curve &&
             curve_from_meta(info, "curve_test_accuracy", rec->curve_test_accuracy, epochs) == rec->n_curve &&
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
        unlink(path);
        return 0;
    }
    if (st != NN_OK) {
        snprintf(err, errlen, "%s: cannot resume from %s: %s", run->id, path, nn_last_error());
        nn_model_free(loaded);
        return -1;
    }
    if (epoch < 0 || epoch > env->config->epochs) {
        snprintf(err, errlen, "%s: checkpoint %s is at epoch %lld of %d", run->id, path, (long long)epoch,
                 env->config->epochs);
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

int nnm_train_run(const nnm_train_env *env, const nnm_run *run, nnm_record *rec, char *err, size_t errlen)
{
    const nnm_config *c = env->config;
    double t0 = nnm_now();
    int64_t n_train = count_of(env->train, c->train_limit), n_test = count_of(env->test, c->test_limit);
    int64_t features = nn_dataset_features(env->train), batch = c->batch_size;
    int classes = nn_dataset_classes(env->train);
    if (nn_dataset_classes(env->test) > classes) classes = nn_dataset_classes(env->test);
    int64_t steps = (n_train + batch - 1) / batch;
    char settings[NNM_SETTINGS_MAX];
    nnm_config_settings_line(c, run->optimizer, run->activation, n_train, n_test, settings, sizeof settings);

    nn_model *m = NULL;
    nn_rng *rng = NULL, *aug = NULL;
    float *xb = malloc((size_t)(batch * features) * sizeof(float)), *yb = malloc((size_t)batch * sizeof(float));
    /* --augment: the batch as trained on, transformed from the gathered one (xb), and its generator. */
    float *xa = c->augment ? malloc((size_t)((batch + 1) * features) * sizeof(float)) : NULL; /* + scratch */
    int64_t rows = 0, cols = 0;
    nn_dataset_image_size(env->train, &rows, &cols);
    uint32_t *order = malloc((size_t)n_train * sizeof(uint32_t));
    int rc = NNM_TRAIN_FAILED;
    progress_state ps = {0};
    int div_epoch = 0; /* where the loss became non-finite (record.h) */
    int64_t div_step = 0;
    if (!xb || !yb || !order || (c->augment && !xa) || nnm_record_alloc(rec, classes, c->epochs) != 0) {
        snprintf(err, errlen, "%s: out of memory", run->id);
        goto done;
    }
    if (build_model(c, run, env->train, classes, &m, err, errlen) != 0) goto done;
    if (nn_rng_create(&rng, c->seed) != NN_OK || nn_model_init(m, rng) != NN_OK) {
        snprintf(err, errlen, "%s: %s", run->id, nn_last_error());
        goto done;
    }
    if (c->augment && nn_rng_create(&aug, c->seed ^ NNM_AUGMENT_SEED) != NN_OK) {
        snprintf(err, errlen, "%s: %s", run->id, nn_last_error());
        goto done;
    }
    /* The rate the optimizer was built with: the schedule's start, and the rate recorded. */
    double base_lr = nn_optimizer_get_lr(nn_model_get_optimizer(m));
    nn_rng_get_state(rng, ps.rng_at_epoch_start);
    if (try_resume(env, run, settings, &m, rng, aug, &ps, rec, err, errlen) < 0) goto done;
    if (ps.step >= steps) {
        snprintf(err, errlen, "%s: checkpoint is at step %" PRId64 " of an epoch of %" PRId64, run->id, ps.step, steps);
        goto done;
    }
    if (nn_model_reserve(m, batch) != NN_OK) {
        snprintf(err, errlen, "%s: %s", run->id, nn_last_error());
        goto done;
    }

    nnm_progress_start(env->progress, env->slot, run->id, c->epochs, steps);
    for (int epoch = ps.epoch; epoch < c->epochs; epoch++) {
        double te = nnm_now();
        nn_rng_get_state(rng, ps.rng_at_epoch_start);
        /* The order starts from the identity every epoch, so that it depends only on the generator's
         * state, which is what a checkpoint saves. */
        for (int64_t i = 0; i < n_train; i++) order[i] = (uint32_t)i;
        nn_rng_shuffle(rng, order, (size_t)n_train);
        for (int64_t s = ps.step; s < steps; s++) {
            int64_t start = s * batch, b = n_train - start < batch ? n_train - start : batch;
            nn_tensor x, y;
            int64_t xs[2] = {batch, features}, ys[1] = {batch};
            nn_tensor_view(&x, xb, 2, xs);
            nn_tensor_view(&y, yb, 1, ys);
            float loss;
            int64_t correct;
            nn_status st = nn_dataset_gather(env->train, order + start, b, &x, &y);
            if (st == NN_OK && aug) {
                if (c->augment == NNM_AUGMENT_HANDWRITING)
                    nnm_augment_batch_handwriting(xa, xb, b, rows, cols, xa + batch * features, aug);
                else
                    nnm_augment_batch(xa, xb, b, rows, cols, NNM_AUGMENT_SHIFT, NNM_AUGMENT_DEGREES, aug);
                int64_t as[2] = {b, features};
                nn_tensor_view(&x, xa, 2, as);
            }
            if (st == NN_OK && c->lr_schedule != NNM_LR_CONSTANT) {
                /* A function of the global step alone, so that a resumed run sets the same rates. */
                float lr = (float)nnm_lr_at(c->lr_schedule, base_lr, (int64_t)epoch * steps + s,
                                            (int64_t)c->epochs * steps);
                st = nn_optimizer_set_lr(nn_model_get_optimizer(m), lr >= FLT_MIN ? lr : FLT_MIN);
            }
            if (st == NN_OK) st = nn_model_train_step(m, &x, &y, &loss, &correct);
            if (st == NN_ERR_NUMERIC) {
                /* Diverged: the step changed nothing; stop here and record it (training on only
                 * spreads NaN, and a rerun would diverge again at the same step). */
                div_epoch = epoch + 1;
                div_step = s + 1;
                nnm_progress_message(env->progress, "%s: the loss became non-finite at epoch %d, step %" PRId64
                                     "; stopped, recorded as diverged", run->id, div_epoch, div_step);
                goto finish;
            }
            if (st != NN_OK) {
                snprintf(err, errlen, "%s: training step failed: %s", run->id, nn_last_error());
                goto done;
            }
            ps.loss_sum += (double)loss * (double)b;
            ps.correct += correct;
            ps.seen += b;
            ps.step = s + 1;
            nnm_progress_step(env->progress, env->slot, epoch + 1, s + 1, ps.loss_sum / (double)ps.seen,
                              (double)ps.correct / (double)ps.seen);
            if (env->stop && atomic_load(env->stop) && s + 1 < steps) {
                if (!params_finite(m)) {
                    div_epoch = epoch + 1;
                    div_step = s + 1;
                    goto finish;
                }
                if (save_checkpoint(env, run, m, settings, &ps, rec, aug, err, errlen) != 0) goto done;
                rc = NNM_TRAIN_STOPPED;
                goto done;
            }
        }
        double test_loss, test_acc;
        if (nnm_evaluate_dataset(m, env->test, c->test_limit, &test_loss, &test_acc, NULL, classes, err, errlen) != 0)
            goto done;
        rec->curve_loss[epoch] = ps.loss_sum / (double)ps.seen;
        rec->curve_accuracy[epoch] = (double)ps.correct / (double)ps.seen;
        rec->curve_test_accuracy[epoch] = test_acc;
        rec->n_curve = epoch + 1;
        nnm_progress_epoch(env->progress, env->slot, epoch + 1, rec->curve_loss[epoch], rec->curve_accuracy[epoch],
                           test_loss, test_acc, nnm_now() - te);
        if (c->lr_schedule != NNM_LR_CONSTANT)
            nnm_progress_message(env->progress, "%s: epoch %d/%d ended at learning rate %.9g", run->id, epoch + 1,
                                 c->epochs, (double)nn_optimizer_get_lr(nn_model_get_optimizer(m)));
        if (!params_finite(m)) {
            div_epoch = epoch + 1;
            div_step = steps;
            goto finish;
        }
        memset(&ps, 0, sizeof ps);
        ps.epoch = epoch + 1;
        nn_rng_get_state(rng, ps.rng_at_epoch_start);
        if (epoch + 1 < c->epochs && save_checkpoint(env, run, m, settings, &ps, rec, aug, err, errlen) != 0) goto done;
        if (env->stop && atomic_load(env->stop) && epoch + 1 < c->epochs) {
            rc = NNM_TRAIN_STOPPED;
            goto done;
        }
    }

finish:
    /* Final figures, with the final weights, on the whole training and test sets. */
    snprintf(rec->run_id, sizeof rec->run_id, "%s", run->id);
    snprintf(rec->optimizer, sizeof rec->optimizer, "%s", run->optimizer);
    snprintf(rec->activation, sizeof rec->activation, "%s", run->activation);
    snprintf(rec->settings, sizeof rec->settings, "%s", settings);
    nnm_model_path(c, run->id, rec->model_path, sizeof rec->model_path);
    rec->lr = base_lr;
    rec->seed = c->seed;
    rec->epochs = c->epochs;
    rec->batch_size = batch;
    rec->params = nn_model_param_count(m);
    rec->blas_threads = c->threads;
    rec->dropout = c->dropout;
    rec->batchnorm = c->batchnorm;
    snprintf(rec->arch, sizeof rec->arch, "%s", c->arch.text);
    rec->augment = c->augment;
    snprintf(rec->lr_schedule, sizeof rec->lr_schedule, "%s",
             c->lr_schedule != NNM_LR_CONSTANT ? nnm_lr_schedule_name(c->lr_schedule) : "");
    /* The saved model's optimizer holds the run's rate, not the schedule's last, so that training
     * it further starts from that rate. */
    if (c->lr_schedule != NNM_LR_CONSTANT) nn_optimizer_set_lr(nn_model_get_optimizer(m), (float)base_lr);
    if (!div_epoch) {
        if (nnm_evaluate_dataset(m, env->train, c->train_limit, &rec->train_loss, &rec->train_accuracy, NULL, classes,
                                 err, errlen) != 0 ||
            nnm_evaluate_dataset(m, env->test, c->test_limit, &rec->test_loss, &rec->test_accuracy, rec->confusion,
                                 classes, err, errlen) != 0)
            goto done;
        /* Finite weights can still overflow on some example; such losses are no result either. */
        if (!isfinite(rec->train_loss) || !isfinite(rec->test_loss)) {
            div_epoch = c->epochs;
            div_step = 0;
            nnm_progress_message(env->progress, "%s: the final evaluation's loss is non-finite; recorded as diverged",
                                 run->id);
        }
    }
    if (div_epoch) {
        rec->diverged_epoch = div_epoch;
        rec->diverged_step = div_step;
        rec->train_accuracy = rec->test_accuracy = rec->train_loss = rec->test_loss = NAN;
        memset(rec->confusion, 0, (size_t)classes * (size_t)classes * sizeof *rec->confusion);
        if (!params_finite(m)) {
            /* An update overflowed: no finite weights of this run's are left in memory. Its initial ones
             * (the same seed gives the same) stand in, so that the model file loads. */
            nn_model_free(m);
            m = NULL;
            nn_rng_free(rng);
            rng = NULL;
            if (build_model(c, run, env->train, classes, &m, err, errlen) != 0) goto done;
            if (nn_rng_create(&rng, c->seed) != NN_OK || nn_model_init(m, rng) != NN_OK) {
                snprintf(err, errlen, "%s: %s", run->id, nn_last_error());
                goto done;
            }
        }
    }
    char v[4][32], seed[32], epochs[16], bs[32], diverged[64], dropout[32];
    snprintf(v[0], sizeof v[0], "%.6f", rec->train_accuracy);
    snprintf(v[1], sizeof v[1], "%.6f", rec->test_accuracy);
    snprintf(v[2], sizeof v[2], "%.6f", rec->train_loss);
    snprintf(v[3], sizeof v[3], "%.6f", rec->test_loss);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    snprintf(epochs, sizeof epochs, "%d", c->epochs);
    snprintf(bs, sizeof bs, "%" PRId64, batch);
    /* An empty "created" keeps the save time out of the file: the same settings give the same bytes,
     * so a resumed or distributed grid can be checked against an uninterrupted one. */
    snprintf(diverged, sizeof diverged, "epoch %d step %" PRId64, div_epoch, div_step);
    nnm_format_float(dropout, sizeof dropout, c->dropout);
    const char *keys[24] = {"created", "dataset", "optimizer", "activation", "seed", "epochs", "batch_size",
                            "train_accuracy", "test_accuracy", "train_loss", "test_loss", "settings"};
    const char *values[24] = {"", c->dataset, run->optimizer, run->activation, seed, epochs, bs,
                              v[0], v[1], v[2], v[3], settings};
    size_t n_meta = 12;
    /* "dropout", "batchnorm" and "diverged" only where they apply: the file of a finished run of the
     * original study stays byte for byte what it was. */
    if (c->dropout > 0) {
        keys[n_meta] = "dropout";
        values[n_meta++] = dropout;
    }
    if (c->batchnorm) {
        keys[n_meta] = "batchnorm";
        values[n_meta++] = "1";
    }
    /* Likewise the network list, the augmentation and the schedule. */
    if (c->arch.n > 0) {
        keys[n_meta] = "arch";
        values[n_meta++] = c->arch.text;
    }
    if (c->augment) {
        keys[n_meta] = "augment";
        values[n_meta++] = c->augment == NNM_AUGMENT_HANDWRITING ? "2" : "1";
    }
    if (c->lr_schedule != NNM_LR_CONSTANT) {
        keys[n_meta] = "lr_schedule";
        values[n_meta++] = nnm_lr_schedule_name(c->lr_schedule);
    }
    if (div_epoch) {
        keys[n_meta] = "diverged";
        values[n_meta++] = diverged;
    }
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.rng = rng;
    so.epoch = div_epoch ? rec->n_curve : c->epochs; /* the epochs the weights completed */
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = n_meta;
    if (nn_model_save(m, rec->model_path, &so) != NN_OK) {
        snprintf(err, errlen, "%s: cannot save the model: %s", run->id, nn_last_error());
        goto done;
    }
    rec->seconds = nnm_now() - t0;
    rc = NNM_TRAIN_DONE;
done:
    nnm_progress_end(env->progress, env->slot);
    nn_model_free(m);
    nn_rng_free(rng);
    nn_rng_free(aug);
    free(xa);
    free(xb);
    free(yb);
    free(order);
    return rc;
}
