/* The sequential model: a generic loop over layers (libnn/layers/), one flat parameter buffer and
 * its gradients, one buffer of untrained state, a workspace sized once, and the training step. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"
#include "model_internal.h"

struct nn_model {
    nn__shape input;
    int nlayers;
    nn__layer layers[NN_MODEL_MAX_LAYERS];
    int compiled;
    nn_loss_kind loss;
    nn_optimizer *opt;
    float *params, *grads; /* trainable tensors, layer by layer in file order, and their gradients */
    size_t nparams;
    float *buffers; /* untrained state (moving statistics) */
    size_t nbuffers;
    nn_rng *rng;    /* the training generator (dropout masks) */
    int64_t capacity;       /* batch size the workspace holds */
    float *workspace;       /* one allocation carved into layer outputs, layer scratch and the two below */
    int32_t *iworkspace;    /* integer scratch of the layers (sparse indices, pooling positions) */
    float *grad_a, *grad_b; /* (capacity x widest) ping-pong buffers for the backward pass */
    float *stage_x, *stage_y; /* (capacity x inputs) and (capacity): a batch nn_model_train_step_indexed gathers */
    /* The last step fused the first layer's kernel gradient with its update (nn__dense_fuse_update):
     * that gradient is not in grads yet; settle_grads writes it from its inputs, which stay in the
     * workspace (the layer's compressed rows, d loss / d pre at pending_dpre) until the next forward
     * pass, staging of a batch or reallocation, and is called before each of them. */
    int grads_pending;
    const float *pending_dpre;
};

/* Arbitrary but fixed: a model whose generator nobody seeds still trains reproducibly. */
#define NN_MODEL_DEFAULT_SEED UINT64_C(0x6e6e2d6d6f64656c)

nn_status nn_model_create_shape(nn_model **out, int rank, const int64_t *shape)
{
    const char *who = "nn_model_create";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    if (!shape) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: shape is NULL", who);
    if (rank < 1 || rank > NN__MAX_RANK)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: input rank %d, must be 1 (features) to 3 (height, width, "
                                                 "channels)", who, rank);
    nn__shape s = {rank, {1, 1, 1}};
    for (int i = 0; i < rank; i++) s.dim[i] = shape[i];
    if (nn__shape_numel(&s) < 0) {
        char text[96];
        nn__shape_text(&s, text, sizeof text);
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: input shape %s: every extent must be at least 1, and the "
                                                 "product at most %d", who, text, INT32_MAX);
    }
    nn_model *m = calloc(1, sizeof *m);
    nn_rng *rng = NULL;
    if (!m || nn_rng_create(&rng, NN_MODEL_DEFAULT_SEED) != NN_OK) {
        free(m);
        return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    }
    m->input = s;
    m->rng = rng;
    *out = m;
    return NN_OK;
}

nn_status nn_model_create(nn_model **out, int64_t input_features)
{
    if (input_features <= 0 || input_features > INT32_MAX) {
        if (out) *out = NULL;
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_create: input_features is %lld, must be in 1..%d",
                        (long long)input_features, INT32_MAX);
    }
    return nn_model_create_shape(out, 1, &input_features);
}

void nn_model_free(nn_model *m)
{
    if (!m) return;
    nn_optimizer__release(m->opt);
    nn_rng_free(m->rng);
    free(m->params);
    free(m->grads);
    free(m->buffers);
    free(m->workspace);
    free(m->iworkspace);
    free(m);
}

static const nn__shape *last_shape(const nn_model *m)
{
    return m->nlayers ? &m->layers[m->nlayers - 1].out : &m->input;
}

static int64_t last_width(const nn_model *m) { return nn__shape_numel(last_shape(m)); }

static int64_t input_width(const nn_model *m) { return nn__shape_numel(&m->input); }

nn_status nn__model_append(nn_model *m, const nn__layer *proto, const char *who)
{
    if (!m) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: model is NULL", who);
    if (m->compiled) return nn__fail(NN_ERR_STATE, "%s: the model is already compiled", who);
    if (m->nlayers >= NN_MODEL_MAX_LAYERS)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: a model holds at most %d layers", who, NN_MODEL_MAX_LAYERS);
    if (!nn_activation_name(proto->act.kind))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: unknown activation kind %d", who, (int)proto->act.kind);
    if (!isfinite(proto->act.alpha))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: activation parameter is not finite", who);
    nn__layer l = *proto;
    l.index = m->nlayers;
    nn_status st = nn__layer_setup(&l, last_shape(m), who);
    if (st != NN_OK) return st;
    m->layers[m->nlayers++] = l;
    return NN_OK;
}

nn_status nn_model_add_activation(nn_model *m, nn_activation act)
{
    nn__layer l;
    nn__layer_blank(&l, &nn__activation_ops);
    l.act = act;
    return nn__model_append(m, &l, "nn_model_add_activation");
}

/* Sums the layers' tensors into trainable and untrained counts, checking for overflow. */
static nn_status count_tensors(const nn_model *m, size_t *params, size_t *buffers, const char *who)
{
    *params = *buffers = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const nn__layer *l = &m->layers[i];
        for (int k = 0; k < l->ntensors; k++) {
            size_t n = 1;
            for (int d = 0; d < l->spec[k].rank; d++)
                if (!nn__mul_size(&n, n, (size_t)l->spec[k].shape[d]))
                    return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: parameter count overflows", who);
            size_t *total = l->spec[k].trainable ? params : buffers;
            if (n > (SIZE_MAX / sizeof(float)) / 2 - *total)
                return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: parameter count overflows", who);
            *total += n;
        }
    }
    return NN_OK;
}

static size_t spec_numel(const nn__tensor_spec *s)
{
    size_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= (size_t)s->shape[d];
    return n;
}

/* Points every layer's tensors into the flat buffers, in layer and file order. */
static void bind_tensors(nn_model *m)
{
    size_t p = 0, b = 0;
    for (int i = 0; i < m->nlayers; i++) {
        nn__layer *l = &m->layers[i];
        for (int k = 0; k < l->ntensors; k++) {
            size_t n = spec_numel(&l->spec[k]);
            if (l->spec[k].trainable) {
                l->t[k] = m->params + p;
                l->grad[k] = m->grads + p;
                p += n;
            } else {
                l->t[k] = m->buffers + b;
                l->grad[k] = NULL;
                b += n;
            }
        }
    }
}

/* Untrained state starts at its initial value (ones and zeros: no generator needed). */
static void reset_buffers(nn_model *m)
{
    for (int i = 0; i < m->nlayers; i++) {
        nn__layer *l = &m->layers[i];
        for (int k = 0; k < l->ntensors; k++)
            if (!l->spec[k].trainable)
                nn_init_fill(l->t[k], spec_numel(&l->spec[k]), l->spec[k].init, l->spec[k].fan_in,
                             l->spec[k].fan_out, NULL);
    }
}

nn_status nn_model_compile(nn_model *m, nn_loss_kind loss, nn_optimizer *opt)
{
    const char *who = "nn_model_compile";
    if (!m) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: model is NULL", who);
    if (m->compiled) return nn__fail(NN_ERR_STATE, "%s: the model is already compiled", who);
    if (m->nlayers == 0) return nn__fail(NN_ERR_STATE, "%s: the model has no layers", who);
    if (!nn_loss_name(loss)) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: unknown loss %d", who, (int)loss);
    if (loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY && last_width(m) < 2)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: softmax cross-entropy needs at least 2 outputs", who);
    if (nn_optimizer__owner(opt))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: the optimizer already belongs to another model; create one per "
                                                 "model", who);
    size_t total, nbuf;
    nn_status st = count_tensors(m, &total, &nbuf, who);
    if (st != NN_OK) return st;
    float *params = nn__aligned_alloc(total, sizeof(float), 1);
    float *grads = nn__aligned_alloc(total, sizeof(float), 1);
    float *buffers = nn__aligned_alloc(nbuf, sizeof(float), 1);
    if (!params || !grads || !buffers) {
        free(params);
        free(grads);
        free(buffers);
        return nn__fail(NN_ERR_NO_MEMORY, "%s: cannot allocate %zu parameters", who, total + nbuf);
    }
    if (opt && (st = nn_optimizer_setup(opt, total)) != NN_OK) {
        free(params);
        free(grads);
        free(buffers);
        return st;
    }
    m->params = params;
    m->grads = grads;
    m->nparams = total;
    m->buffers = buffers;
    m->nbuffers = nbuf;
    m->loss = loss;
    nn_optimizer__set_owner(opt, m);
    m->opt = opt;
    m->compiled = 1;
    bind_tensors(m);
    reset_buffers(m);
    return NN_OK;
}

nn_status nn_model_set_optimizer(nn_model *m, nn_optimizer *opt)
{
    const char *who = "nn_model_set_optimizer";
    if (!m || !opt) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: NULL argument", who);
    if (!m->compiled) return nn__fail(NN_ERR_STATE, "%s: compile the model first", who);
    if (opt == m->opt) return NN_OK;
    if (nn_optimizer__owner(opt))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: the optimizer already belongs to another model; create one per "
                                                 "model", who);
    nn_status st = nn_optimizer_setup(opt, m->nparams);
    if (st != NN_OK) return st;
    nn_optimizer__release(m->opt);
    nn_optimizer__set_owner(opt, m);
    m->opt = opt;
    return NN_OK;
}

nn_optimizer *nn_model_get_optimizer(nn_model *m) { return m ? m->opt : NULL; }

nn_loss_kind nn_model_get_loss(const nn_model *m) { return m ? m->loss : NN_LOSS_SOFTMAX_CROSS_ENTROPY; }

nn_rng *nn_model_rng(nn_model *m) { return m ? m->rng : NULL; }

static nn_status check_compiled(const nn_model *m, const char *who)
{
    if (!m) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: model is NULL", who);
    if (!m->compiled) return nn__fail(NN_ERR_STATE, "%s: compile the model first", who);
    return NN_OK;
}

nn_status nn_model_init(nn_model *m, nn_rng *rng)
{
    nn_status st = check_compiled(m, "nn_model_init");
    if (st != NN_OK) return st;
    if (!rng) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_init: rng is NULL");
    for (int i = 0; i < m->nlayers; i++) {
        nn__layer *l = &m->layers[i];
        for (int k = 0; k < l->ntensors && st == NN_OK; k++) {
            const nn__tensor_spec *s = &l->spec[k];
            st = nn_init_fill(l->t[k], spec_numel(s), s->init, s->fan_in, s->fan_out, s->trainable ? rng : NULL);
        }
        if (st != NN_OK) return st;
    }
    /* The training generator follows from the caller's without drawing from it, so that adding
     * dropout to a model changes neither its initial weights nor the caller's later draws. */
    uint64_t state[NN_RNG_STATE_WORDS], seed = NN_MODEL_DEFAULT_SEED;
    nn_rng_get_state(rng, state);
    for (int i = 0; i < NN_RNG_STATE_WORDS; i++) seed = (seed ^ state[i]) * UINT64_C(0x9e3779b97f4a7c15);
    nn_rng_seed(m->rng, seed);
    return NN_OK;
}

static void settle_grads(nn_model *m)
{
    if (!m->grads_pending) return;
    nn__fpenv env;
    nn__fpenv_enter(&env); /* as in the step it belongs to */
    nn__dense_kernel_grad(&m->layers[0], m->pending_dpre);
    nn__fpenv_leave(&env);
    m->grads_pending = 0;
}

nn_status nn_model_reserve(nn_model *m, int64_t max_batch)
{
    const char *who = "nn_model_reserve";
    nn_status st = check_compiled(m, who);
    if (st != NN_OK) return st;
    if (max_batch <= 0 || max_batch > INT32_MAX)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: batch size %lld out of range", who, (long long)max_batch);
    if (max_batch <= m->capacity) return NN_OK;
    /* Every array carved below starts on a cache line: each size is rounded up to whole lines. */
    size_t widest = (size_t)input_width(m), floats = 0, ints = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const nn__layer *l = &m->layers[i];
        size_t out = (size_t)nn__shape_numel(&l->out), f, n;
        if (out > widest) widest = out;
        l->ops->workspace(l, max_batch, &f, &n);
        if (out > SIZE_MAX / 8 / (size_t)max_batch || f > SIZE_MAX / 8 || n > SIZE_MAX / 8)
            return nn__fail(NN_ERR_NO_MEMORY, "%s: workspace size overflows", who);
        floats += nn__align_floats(out * (size_t)max_batch) + nn__align_floats(f);
        ints += nn__align_floats(n);
        if (floats > SIZE_MAX / 8 || ints > SIZE_MAX / 8)
            return nn__fail(NN_ERR_NO_MEMORY, "%s: workspace size overflows", who);
    }
    size_t pingpong, stage;
    if (!nn__mul_size(&pingpong, widest, (size_t)max_batch) || pingpong > SIZE_MAX / 32 ||
        !nn__mul_size(&stage, (size_t)input_width(m) + 1, (size_t)max_batch) || stage > SIZE_MAX / 32)
        return nn__fail(NN_ERR_NO_MEMORY, "%s: workspace size overflows", who);
    pingpong = 2 * nn__align_floats(pingpong);
    stage = nn__align_floats((size_t)input_width(m) * (size_t)max_batch) + nn__align_floats((size_t)max_batch);
    if (floats + pingpong > SIZE_MAX / 8 - stage) return nn__fail(NN_ERR_NO_MEMORY, "%s: workspace size overflows", who);
    floats += pingpong + stage;
    float *ws = nn__aligned_alloc(floats, sizeof(float), 0);
    int32_t *iws = nn__aligned_alloc(ints, sizeof(int32_t), 0);
    if (!ws || !iws) {
        free(ws);
        free(iws);
        return nn__fail(NN_ERR_NO_MEMORY, "%s: cannot allocate %zu floats", who, floats);
    }
    settle_grads(m);
    free(m->workspace);
    free(m->iworkspace);
    m->workspace = ws;
    m->iworkspace = iws;
    m->capacity = max_batch;
    float *p = ws;
    int32_t *q = iws;
    for (int i = 0; i < m->nlayers; i++) {
        nn__layer *l = &m->layers[i];
        size_t f, n;
        l->ops->workspace(l, max_batch, &f, &n);
        l->y = p;
        p += nn__align_floats((size_t)nn__shape_numel(&l->out) * (size_t)max_batch);
        l->ws = f ? p : NULL;
        p += nn__align_floats(f);
        l->iws = n ? q : NULL;
        q += nn__align_floats(n);
        if (l->ops->bind) l->ops->bind(l, max_batch);
    }
    m->grad_a = p;
    m->grad_b = p + nn__align_floats(widest * (size_t)max_batch);
    m->stage_x = m->grad_b + nn__align_floats(widest * (size_t)max_batch);
    m->stage_y = m->stage_x + nn__align_floats((size_t)input_width(m) * (size_t)max_batch);
    return NN_OK;
}

/* Forward over `batch` rows (batch <= capacity); returns the last layer's output buffer. */
static const float *forward_rows(nn_model *m, const float *x, int64_t batch, int training, int presparse)
{
    if (!training) settle_grads(m);
    nn__pass pass = {batch, training, training ? m->rng : NULL, 1, presparse, 0};
    const float *in = x;
    for (int i = 0; i < m->nlayers; i++) {
        nn__layer *l = &m->layers[i];
        pass.first = i == 0;
        l->ops->forward(l, &pass, in, l->y);
        in = l->y;
    }
    return in;
}

static nn_status check_input(const nn_model *m, const nn_tensor *x, const char *who)
{
    if (!x || !x->data) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: input is NULL", who);
    if (x->rank < 2 || x->rank > NN_TENSOR_MAX_RANK)
        return nn__fail(NN_ERR_SHAPE, "%s: input must be (batch, %lld), got rank %d", who,
                        (long long)input_width(m), x->rank);
    /* nn_tensor is a public struct that callers may fill by hand: check what a view would have. */
    if (x->shape[0] < 1 || x->shape[0] > INT32_MAX)
        return nn__fail(NN_ERR_SHAPE, "%s: input has %lld rows, must be 1 to %d", who, (long long)x->shape[0],
                        INT32_MAX);
    /* Either the flat (batch, features) form or the full (batch, per-example shape) one. */
    int ok = x->rank == 2 && x->shape[1] == input_width(m);
    if (!ok && x->rank == m->input.rank + 1) {
        ok = 1;
        for (int i = 0; i < m->input.rank; i++) ok &= x->shape[i + 1] == m->input.dim[i];
    }
    if (!ok) {
        char want[96];
        nn__shape_text(&m->input, want, sizeof want);
        if (x->rank == 2)
            return nn__fail(NN_ERR_SHAPE, "%s: input has %lld features, model expects %lld", who,
                            (long long)x->shape[1], (long long)input_width(m));
        return nn__fail(NN_ERR_SHAPE, "%s: input of rank %d does not match the model's input %s", who, x->rank, want);
    }
    return NN_OK;
}

static nn_status check_output(const nn_model *m, const nn_tensor *out, int64_t rows, const char *who)
{
    if (!out || !out->data) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: output is NULL", who);
    if (out->rank != 2 || out->shape[0] != rows || out->shape[1] != last_width(m))
        return nn__fail(NN_ERR_SHAPE, "%s: output must be (%lld, %lld)", who, (long long)rows,
                        (long long)last_width(m));
    return NN_OK;
}

static nn_status ensure_capacity(nn_model *m, int64_t want)
{
    if (m->capacity >= want) return NN_OK;
    return nn_model_reserve(m, want);
}

/* Chunk size for whole-dataset passes when the caller reserved nothing. */
#define NN_DEFAULT_CHUNK 256

/* out (rows, C) = model(x), chunk by chunk, in inference mode; with softmax when asked. */
static nn_status forward_all(nn_model *m, nn_tensor *out, const nn_tensor *x, int softmax, const char *who)
{
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_input(m, x, who);
    if (st == NN_OK) st = check_output(m, out, x->shape[0], who);
    if (st == NN_OK) st = ensure_capacity(m, m->capacity ? m->capacity : NN_DEFAULT_CHUNK);
    if (st != NN_OK) return st;
    int64_t rows = x->shape[0], c = last_width(m), in = input_width(m);
    for (int64_t r = 0; r < rows; r += m->capacity) {
        int64_t b = rows - r < m->capacity ? rows - r : m->capacity;
        const float *y = forward_rows(m, x->data + r * in, b, 0, 0);
        float *dst = out->data + r * c;
        memcpy(dst, y, (size_t)(b * c) * sizeof(float));
        if (softmax) {
            nn_tensor v;
            int64_t shape[2] = {b, c};
            nn_tensor_view(&v, dst, 2, shape);
            nn_softmax(&v, &v);
        }
    }
    return NN_OK;
}

nn_status nn_model_forward(nn_model *m, nn_tensor *out, const nn_tensor *x)
{
    return forward_all(m, out, x, 0, "nn_model_forward");
}

nn_status nn_model_predict(nn_model *m, nn_tensor *out, const nn_tensor *x)
{
    return forward_all(m, out, x, m && m->loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY, "nn_model_predict");
}

nn_status nn_model_predict_classes(nn_model *m, int32_t *classes, const nn_tensor *x)
{
    const char *who = "nn_model_predict_classes";
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_input(m, x, who);
    if (st == NN_OK && !classes) st = nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: classes is NULL", who);
    if (st == NN_OK) st = ensure_capacity(m, m->capacity ? m->capacity : NN_DEFAULT_CHUNK);
    if (st != NN_OK) return st;
    int64_t rows = x->shape[0], c = last_width(m), in = input_width(m);
    for (int64_t r = 0; r < rows; r += m->capacity) {
        int64_t b = rows - r < m->capacity ? rows - r : m->capacity;
        const float *y = forward_rows(m, x->data + r * in, b, 0, 0);
        nn__argmax_rows(b, c, y, classes + r);
    }
    return NN_OK;
}

/* Loss of `b` rows of outputs `out` against rows [r, r + b) of y; gradient into grad when non-NULL. */
static nn_status loss_rows(nn_model *m, const float *out, const nn_tensor *y, int64_t r, int64_t b, float *loss,
                           float *grad, int64_t *correct)
{
    int64_t c = last_width(m);
    nn_tensor logits, target, g;
    int64_t oshape[2] = {b, c};
    nn_tensor_view(&logits, (float *)out, 2, oshape);
    int64_t tshape[2] = {b, y->rank == 2 ? y->shape[1] : 1};
    nn_tensor_view(&target, y->data + r * (y->rank == 2 ? y->shape[1] : 1), y->rank, tshape);
    if (grad) nn_tensor_view(&g, grad, 2, oshape);
    nn_status st = nn_loss_compute(m->loss, loss, grad ? &g : NULL, &logits, &target);
    if (st != NN_OK || !correct) return st;
    /* The target's class: the index itself (rank 1) or its largest entry (rank 2). */
    *correct = nn__argmax_matches(b, c, out, target.data, y->rank == 1);
    return NN_OK;
}

static nn_status check_target(const nn_model *m, const nn_tensor *y, int64_t rows, const char *who)
{
    if (!y || !y->data) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: target is NULL", who);
    int64_t c = last_width(m);
    int ok = (y->rank == 2 && y->shape[0] == rows && y->shape[1] == c) ||
             (y->rank == 1 && y->shape[0] == rows && m->loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY);
    if (!ok)
        return nn__fail(NN_ERR_SHAPE, "%s: targets must be (%lld)%s(%lld, %lld) for %lld input rows, got rank %d with %lld rows",
                        who, (long long)rows, " class indices or ", (long long)rows, (long long)c, (long long)rows,
                        y->rank, (long long)(y->rank ? y->shape[0] : 0));
    return NN_OK;
}

/* The optimizer's step with the first layer's kernel updated as its gradient is computed (the
 * optimizer's rules are elementwise, so the parts' order does not matter). */
static nn_status fused_step(nn_model *m, const float *dpre0)
{
    nn__step step = {.lr = 0.0f};
    nn_status st = nn__optimizer_begin(m->opt, m->nparams, &step);
    if (st != NN_OK) return st;
    nn__layer *l0 = &m->layers[0];
    size_t first = (size_t)(l0->t[0] - m->params), end = first + spec_numel(&l0->spec[0]);
    if (first > 0) nn__optimizer_part(&step, 0, first, m->params, m->grads);
    if (end < m->nparams) nn__optimizer_part(&step, end, m->nparams - end, m->params + end, m->grads + end);
    nn__dense_fuse_update(l0, dpre0, &step, first);
    nn__optimizer_end(m->opt);
    m->grads_pending = 1;
    m->pending_dpre = dpre0;
    return NN_OK;
}

/* The step on b checked rows: x (NULL when presparse: the first layer holds them compressed). */
static nn_status train_rows(nn_model *m, const float *x, const nn_tensor *y, int64_t b, int presparse, float *loss,
                            int64_t *correct, const char *who)
{
    nn_status st = NN_OK;
    nn__fpenv env;
    nn__fpenv_enter(&env);
    m->grads_pending = 0; /* this step's gradients replace the last one's */
    const float *out = forward_rows(m, x, b, 1, presparse);
    float l = 0.0f;
    float *grad = m->grad_a, *spare = m->grad_b;
    st = loss_rows(m, out, y, 0, b, &l, grad, correct);
    if (st == NN_OK && loss) *loss = l; /* also when refused below: the caller may log it */
    /* NaN or infinite inputs, targets or outputs would turn every parameter into NaN. Nothing the caller
     * can see changes before the optimizer step, so refusing here (or below) leaves the model and its
     * optimizer exactly as they were; only the gradient buffer holds partial results. */
    if (st == NN_OK && !isfinite(l))
        st = nn__fail(NN_ERR_NUMERIC, "%s: the loss is %g; parameters and optimizer state left unchanged", who,
                      (double)l);
    /* The first layer's kernel gradient with its update, in one pass, when its forward went sparse:
     * its backward leaves that gradient out, and the step below applies it (nn__dense_fuse_update). */
    int fuse = nn__dense_can_fuse(&m->layers[0]);
    const float *dpre0 = NULL;
    nn__pass pass = {b, 1, m->rng, 0, presparse, fuse};
    for (int i = m->nlayers - 1; st == NN_OK && i >= 0; i--) {
        nn__layer *lay = &m->layers[i];
        const float *in = i > 0 ? m->layers[i - 1].y : x;
        pass.first = i == 0;
        if (i == 0) dpre0 = grad;
        /* The first layer's input gradient is never used: skip that product. */
        if (lay->ops->backward(lay, &pass, in, lay->y, grad, i > 0 ? spare : NULL))
            st = nn__fail(NN_ERR_NUMERIC,
                          "%s: layer %d's gradient is non-finite or would overflow (loss %g); parameters and "
                          "optimizer state left unchanged", who, i, (double)l);
        float *t = grad;
        grad = spare;
        spare = t;
    }
    if (st == NN_OK && !fuse) st = nn_optimizer_step(m->opt, m->params, m->grads, m->nparams);
    if (st == NN_OK && fuse) st = fused_step(m, dpre0);
    if (st == NN_OK) {
        pass.first = 0;
        for (int i = 0; i < m->nlayers; i++)
            if (m->layers[i].ops->commit) m->layers[i].ops->commit(&m->layers[i], &pass);
    }
    nn__fpenv_leave(&env);
    return st;
}

nn_status nn_model_train_step(nn_model *m, const nn_tensor *x, const nn_tensor *y, float *loss, int64_t *correct)
{
    const char *who = "nn_model_train_step";
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_input(m, x, who);
    if (st == NN_OK) st = check_target(m, y, x->shape[0], who);
    if (st == NN_OK && !m->opt) st = nn__fail(NN_ERR_STATE, "%s: the model has no optimizer", who);
    if (st == NN_OK) st = ensure_capacity(m, x->shape[0]);
    if (st != NN_OK) return st;
    return train_rows(m, x->data, y, x->shape[0], 0, loss, correct, who);
}

/* Checks examples idx[0..n) of ds (the first n when idx may be and is NULL) against the model. */
static nn_status check_examples(const nn_model *m, const nn_dataset *ds, const uint32_t *idx, int null_idx_ok,
                                int64_t n, const char *who)
{
    if (!ds || (!idx && !null_idx_ok)) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: dataset or indices NULL", who);
    if (n < 1 || n > INT32_MAX)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %lld examples, must be 1 to %d", who, (long long)n, INT32_MAX);
    int64_t features = nn_dataset_features(ds), count = nn_dataset_count(ds);
    if (features != input_width(m))
        return nn__fail(NN_ERR_SHAPE, "%s: the dataset's examples have %lld values, the model takes %lld", who,
                        (long long)features, (long long)input_width(m));
    if (!idx && n > count)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %lld examples asked, dataset holds %lld", who, (long long)n,
                        (long long)count);
    for (int64_t i = 0; idx && i < n; i++)
        if ((int64_t)idx[i] >= count)
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: idx[%lld] = %lu, dataset holds %lld", who, (long long)i,
                            (unsigned long)idx[i], (long long)count);
    return NN_OK;
}

/* Stages the targets of examples idx[0..b) (or [first, first + b)) as nn_dataset_gather gives them,
 * class indices as floats, into y, and checks them against the model. */
static nn_status stage_targets(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t first, int64_t b,
                               nn_tensor *y, const char *who)
{
    const uint8_t *labels = nn_dataset_labels(ds);
    for (int64_t i = 0; i < b; i++) m->stage_y[i] = (float)labels[idx ? (int64_t)idx[i] : first + i];
    int64_t ys[1] = {b};
    nn_tensor_view(y, m->stage_y, 1, ys);
    return check_target(m, y, b, who);
}

/* The model's input for examples idx[0..b) (or [first, first + b)): compressed straight into the
 * first layer when it can take them (returns NULL and sets *presparse), else gathered into floats. */
static const float *stage_inputs(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t first, int64_t b,
                                 int training, int *presparse, nn_status *st)
{
    int64_t features = nn_dataset_features(ds);
    const uint8_t *images = nn_dataset_images(ds) + (idx ? 0 : first * features);
    *st = NN_OK;
    *presparse = nn__dense_take_sparse(&m->layers[0], images, features, idx, b, training);
    if (*presparse) return NULL;
    nn_tensor x, y;
    int64_t xs[2] = {b, features}, ys[1] = {b};
    nn_tensor_view(&x, m->stage_x, 2, xs);
    nn_tensor_view(&y, m->stage_y, 1, ys);
    *st = idx ? nn_dataset_gather(ds, idx, b, &x, &y) : nn_dataset_slice(ds, first, b, &x, &y);
    return m->stage_x;
}

nn_status nn_model_train_step_indexed(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t n, float *loss,
                                      int64_t *correct)
{
    const char *who = "nn_model_train_step_indexed";
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_examples(m, ds, idx, 0, n, who);
    if (st != NN_OK) return st;
    if (!m->opt) return nn__fail(NN_ERR_STATE, "%s: the model has no optimizer", who);
    st = ensure_capacity(m, n);
    nn_tensor y;
    if (st == NN_OK) st = stage_targets(m, ds, idx, 0, n, &y, who);
    if (st != NN_OK) return st;
    int presparse;
    m->grads_pending = 0; /* the staging below overwrites the last step's inputs; this step replaces it */
    const float *x = stage_inputs(m, ds, idx, 0, n, 1, &presparse, &st);
    return st == NN_OK ? train_rows(m, x, &y, n, presparse, loss, correct, who) : st;
}

nn_status nn_model_evaluate_indexed(nn_model *m, const nn_dataset *ds, const uint32_t *idx, int64_t n, float *loss,
                                    float *accuracy, int32_t *classes)
{
    const char *who = "nn_model_evaluate_indexed";
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_examples(m, ds, idx, 1, n, who);
    if (st == NN_OK) st = ensure_capacity(m, m->capacity ? m->capacity : NN_DEFAULT_CHUNK);
    if (st != NN_OK) return st;
    settle_grads(m); /* before the staging overwrites its inputs */
    int64_t correct = 0, c = last_width(m);
    double sum = 0.0;
    for (int64_t r = 0; r < n; r += m->capacity) {
        int64_t b = n - r < m->capacity ? n - r : m->capacity, ok = 0;
        const uint32_t *chunk = idx ? idx + r : NULL;
        nn_tensor y;
        int presparse;
        float l = 0.0f;
        st = stage_targets(m, ds, chunk, r, b, &y, who);
        const float *x = st == NN_OK ? stage_inputs(m, ds, chunk, r, b, 0, &presparse, &st) : NULL;
        if (st != NN_OK) return st;
        const float *out = forward_rows(m, x, b, 0, presparse);
        st = loss_rows(m, out, &y, 0, b, &l, NULL, &ok);
        if (st != NN_OK) return st;
        sum += (double)l * (double)b;
        correct += ok;
        if (classes) nn__argmax_rows(b, c, out, classes + r);
    }
    if (loss) *loss = (float)(sum / (double)n);
    if (accuracy) *accuracy = (float)((double)correct / (double)n);
    return NN_OK;
}

nn_status nn_model_evaluate(nn_model *m, const nn_tensor *x, const nn_tensor *y, float *loss, float *accuracy)
{
    const char *who = "nn_model_evaluate";
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_input(m, x, who);
    if (st == NN_OK) st = check_target(m, y, x->shape[0], who);
    if (st == NN_OK) st = ensure_capacity(m, m->capacity ? m->capacity : NN_DEFAULT_CHUNK);
    if (st != NN_OK) return st;
    int64_t rows = x->shape[0], in = input_width(m), correct = 0;
    double sum = 0.0;
    for (int64_t r = 0; r < rows; r += m->capacity) {
        int64_t b = rows - r < m->capacity ? rows - r : m->capacity, ok = 0;
        float l = 0.0f;
        const float *out = forward_rows(m, x->data + r * in, b, 0, 0);
        st = loss_rows(m, out, y, r, b, &l, NULL, &ok);
        if (st != NN_OK) return st;
        sum += (double)l * (double)b; /* chunk losses are means: weight them by their rows */
        correct += ok;
    }
    if (loss) *loss = (float)(sum / (double)rows);
    if (accuracy) *accuracy = (float)((double)correct / (double)rows);
    return NN_OK;
}

int64_t nn_model_input_features(const nn_model *m) { return m ? input_width(m) : 0; }
int64_t nn_model_output_features(const nn_model *m) { return m ? last_width(m) : 0; }
int nn_model_layer_count(const nn_model *m) { return m ? m->nlayers : 0; }

int nn_model_input_shape(const nn_model *m, int64_t shape[NN_MAX_EXAMPLE_RANK])
{
    if (!m || !shape) return 0;
    for (int i = 0; i < NN_MAX_EXAMPLE_RANK; i++) shape[i] = i < m->input.rank ? m->input.dim[i] : 1;
    return m->input.rank;
}

/* Trainable (trainable = 1) or untrained values of one layer. */
static int64_t layer_count_of(const nn__layer *l, int trainable)
{
    int64_t n = 0;
    for (int k = 0; k < l->ntensors; k++)
        if (l->spec[k].trainable == trainable) n += (int64_t)spec_numel(&l->spec[k]);
    return n;
}

int64_t nn_model_param_count(const nn_model *m)
{
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->nlayers; i++) n += layer_count_of(&m->layers[i], 1);
    return n;
}

int64_t nn_model_buffer_count(const nn_model *m)
{
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->nlayers; i++) n += layer_count_of(&m->layers[i], 0);
    return n;
}

void nn__layer_describe_info(const nn__layer *l, nn_layer_info *out)
{
    /* Only as much as the caller's struct holds: a program built against an older, shorter
     * nn_layer_info passes its own size. */
    size_t size = out->size < sizeof *out ? out->size : sizeof *out;
    nn_layer_info li;
    memset(&li, 0, sizeof li);
    li.size = size;
    li.kind = l->ops->kind;
    li.activation = l->act;
    li.in_features = nn__shape_numel(&l->in);
    li.out_features = nn__shape_numel(&l->out);
    li.param_count = layer_count_of(l, 1);
    li.buffer_count = layer_count_of(l, 0);
    li.in_rank = l->in.rank;
    li.out_rank = l->out.rank;
    for (int d = 0; d < NN_MAX_EXAMPLE_RANK; d++) {
        li.in_shape[d] = d < l->in.rank ? l->in.dim[d] : 1;
        li.out_shape[d] = d < l->out.rank ? l->out.dim[d] : 1;
    }
    nn_tensor *views[2] = {&li.weights, &li.bias};
    for (int k = 0, v = 0; k < l->ntensors && v < 2; k++) {
        if (!l->spec[k].trainable) continue;
        nn_tensor *t = views[v++];
        t->rank = l->spec[k].rank;
        for (int d = 0; d < NN_TENSOR_MAX_RANK; d++) t->shape[d] = d < t->rank ? l->spec[k].shape[d] : 1;
        t->data = l->t[k];
    }
    memcpy(out, &li, size);
}

nn_status nn_model_layer_info(const nn_model *m, int i, nn_layer_info *out)
{
    if (!m || !out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_layer_info: NULL argument");
    if (out->size < offsetof(nn_layer_info, buffer_count))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_layer_info: info.size is %zu; initialise it with "
                                                 "NN_LAYER_INFO_INIT", out->size);
    if (i < 0 || i >= m->nlayers)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_layer_info: layer %d of %d", i, m->nlayers);
    nn__layer_describe_info(&m->layers[i], out);
    return NN_OK;
}

nn_status nn_model_params(nn_model *m, float **data, size_t *n)
{
    nn_status st = check_compiled(m, "nn_model_params");
    if (st != NN_OK) return st;
    if (data) *data = m->params;
    if (n) *n = m->nparams;
    return NN_OK;
}

nn_status nn_model_grads(nn_model *m, float **data, size_t *n)
{
    nn_status st = check_compiled(m, "nn_model_grads");
    if (st != NN_OK) return st;
    settle_grads(m);
    if (data) *data = m->grads;
    if (n) *n = m->nparams;
    return NN_OK;
}

/* The checks every copy in or out needs. */
static nn_status check_copy(const nn_model *m, const void *array, size_t have, size_t n, const char *who)
{
    nn_status st = check_compiled(m, who);
    if (st != NN_OK) return st;
    if (!array) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: array is NULL", who);
    if (n != have) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: n is %zu, the model holds %zu", who, n, have);
    return NN_OK;
}

nn_status nn_model_get_params(const nn_model *m, float *dst, size_t n)
{
    nn_status st = check_copy(m, dst, m ? m->nparams : 0, n, "nn_model_get_params");
    if (st == NN_OK && n) memcpy(dst, m->params, n * sizeof *dst);
    return st;
}

nn_status nn_model_set_params(nn_model *m, const float *src, size_t n)
{
    nn_status st = check_copy(m, src, m ? m->nparams : 0, n, "nn_model_set_params");
    if (st == NN_OK && n) memcpy(m->params, src, n * sizeof *src);
    return st;
}

nn_status nn_model_get_buffers(const nn_model *m, float *dst, size_t n)
{
    nn_status st = check_copy(m, dst, m ? m->nbuffers : 0, n, "nn_model_get_buffers");
    if (st == NN_OK && n) memcpy(dst, m->buffers, n * sizeof *dst);
    return st;
}

nn_status nn_model_set_buffers(nn_model *m, const float *src, size_t n)
{
    nn_status st = check_copy(m, src, m ? m->nbuffers : 0, n, "nn_model_set_buffers");
    if (st == NN_OK && n) memcpy(m->buffers, src, n * sizeof *src);
    return st;
}

const nn__layer *nn__model_layer(const nn_model *m, int i) { return &m->layers[i]; }

const nn__shape *nn__model_input(const nn_model *m) { return &m->input; }

/* Appends to a bounded buffer while counting the full length, as snprintf does. */
typedef struct text {
    char *buf;
    size_t cap, len;
} text;

static void text_add(text *t, const char *fmt, ...) NN_PRINTF(2, 3);
static void text_add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    int n = vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
}

nn_status nn_model_summary(const nn_model *m, char *buf, size_t cap, size_t *needed)
{
    if (!m || (!buf && cap)) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_summary: NULL argument");
    text t = {buf, cap, 0};
    if (cap) buf[0] = '\0';
    const char *rule = "_________________________________________________________________\n";
    char shape[96];
    nn__shape_text(&m->input, shape, sizeof shape);
    text_add(&t, "Model: sequential, input %s, loss %s, optimizer %s\n", shape, nn_loss_name(m->loss),
             m->opt ? nn_optimizer_kind_name(nn_optimizer_get_kind(m->opt)) : "none");
    text_add(&t, "%s%-32s %-20s %10s\n", rule, "Layer (type)", "Output Shape", "Param #");
    text_add(&t, "=================================================================\n");
    for (int i = 0; i < m->nlayers; i++) {
        const nn__layer *l = &m->layers[i];
        char what[48], name[80];
        l->ops->describe(l, what, sizeof what);
        snprintf(name, sizeof name, "%s_%d (%s)", l->ops->name, i, what);
        nn__shape_text(&l->out, shape, sizeof shape);
        text_add(&t, "%-32s %-20s %10lld\n", name, shape, (long long)(layer_count_of(l, 1) + layer_count_of(l, 0)));
    }
    text_add(&t, "=================================================================\n");
    text_add(&t, "Total params: %lld\n", (long long)(nn_model_param_count(m) + nn_model_buffer_count(m)));
    text_add(&t, "Trainable params: %lld\n", (long long)nn_model_param_count(m));
    text_add(&t, "Non-trainable params: %lld\n", (long long)nn_model_buffer_count(m));
    if (needed) *needed = t.len;
    return NN_OK;
}
