/* The sequential model: layers, one flat parameter buffer, a workspace sized once, the training step. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct layer {
    nn_layer_kind kind;
    nn_activation act;
    int64_t in, out;
    nn_init weight_init, bias_init;
    size_t w_off, b_off, nparams; /* offsets into the flat parameter buffer (dense only) */
    float *pre, *y;               /* workspace views (capacity x out); y == pre for a linear dense layer */
} layer;

struct nn_model {
    int64_t input_features;
    int nlayers;
    layer layers[NN_MODEL_MAX_LAYERS];
    int compiled;
    nn_loss_kind loss;
    nn_optimizer *opt;
    float *params, *grads;
    size_t nparams;
    int64_t capacity;    /* batch size the workspace holds */
    float *workspace;    /* one allocation carved into the layer buffers and the two below */
    float *grad_a, *grad_b; /* (capacity x widest layer) ping-pong buffers for the backward pass */
    nn__sparse_rows sparse; /* the first layer's input, compressed when it is mostly zeros */
    void *sparse_buf;
    int sparse_valid;       /* the last forward pass used it */
};

nn_status nn_model_create(nn_model **out, int64_t input_features)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_create: out is NULL");
    *out = NULL;
    if (input_features <= 0 || input_features > INT32_MAX)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_create: input_features is %lld, must be in 1..%d",
                        (long long)input_features, INT32_MAX);
    nn_model *m = calloc(1, sizeof *m);
    if (!m) return nn__fail(NN_ERR_NO_MEMORY, "nn_model_create: out of memory");
    m->input_features = input_features;
    *out = m;
    return NN_OK;
}

void nn_model_free(nn_model *m)
{
    if (!m) return;
    nn_optimizer__release(m->opt);
    free(m->params);
    free(m->grads);
    free(m->workspace);
    free(m->sparse_buf);
    free(m);
}

static int64_t last_width(const nn_model *m)
{
    return m->nlayers ? m->layers[m->nlayers - 1].out : m->input_features;
}

static nn_status check_addable(nn_model *m, const char *who)
{
    if (!m) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: model is NULL", who);
    if (m->compiled) return nn__fail(NN_ERR_STATE, "%s: the model is already compiled", who);
    if (m->nlayers >= NN_MODEL_MAX_LAYERS)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: a model holds at most %d layers", who, NN_MODEL_MAX_LAYERS);
    return NN_OK;
}

static nn_status check_activation(nn_activation act, const char *who)
{
    if (!nn_activation_name(act.kind))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: unknown activation kind %d", who, (int)act.kind);
    if (!isfinite(act.alpha)) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: activation parameter is not finite", who);
    return NN_OK;
}

nn_status nn_model_add_dense_ex(nn_model *m, int64_t units, nn_activation act, const nn_dense_options *opts)
{
    nn_status st = check_addable(m, "nn_model_add_dense");
    if (st != NN_OK) return st;
    if ((st = check_activation(act, "nn_model_add_dense")) != NN_OK) return st;
    if (units <= 0 || units > INT32_MAX)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_add_dense: units is %lld, must be in 1..%d",
                        (long long)units, INT32_MAX);
    nn_dense_options o = opts ? *opts : nn_dense_default();
    if (o.version != NN_OPTIONS_VERSION)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_add_dense: options version %u, expected %u (use nn_dense_default())",
                        o.version, NN_OPTIONS_VERSION);
    if (!nn_init_name(o.weight_init) || !nn_init_name(o.bias_init))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_add_dense: unknown initialiser");
    layer *l = &m->layers[m->nlayers];
    memset(l, 0, sizeof *l);
    l->kind = NN_LAYER_DENSE;
    l->act = act;
    l->in = last_width(m);
    l->out = units;
    l->weight_init = o.weight_init;
    l->bias_init = o.bias_init;
    m->nlayers++;
    return NN_OK;
}

nn_status nn_model_add_dense(nn_model *m, int64_t units, nn_activation act)
{
    return nn_model_add_dense_ex(m, units, act, NULL);
}

nn_status nn_model_add_activation(nn_model *m, nn_activation act)
{
    nn_status st = check_addable(m, "nn_model_add_activation");
    if (st != NN_OK) return st;
    if ((st = check_activation(act, "nn_model_add_activation")) != NN_OK) return st;
    layer *l = &m->layers[m->nlayers];
    memset(l, 0, sizeof *l);
    l->kind = NN_LAYER_ACTIVATION;
    l->act = act;
    l->in = l->out = last_width(m);
    m->nlayers++;
    return NN_OK;
}

nn_status nn_model_compile(nn_model *m, nn_loss_kind loss, nn_optimizer *opt)
{
    if (!m) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_compile: model is NULL");
    if (m->compiled) return nn__fail(NN_ERR_STATE, "nn_model_compile: the model is already compiled");
    if (nn_optimizer__owner(opt))
        return nn__fail(NN_ERR_INVALID_ARGUMENT,
                        "nn_model_compile: the optimizer already belongs to another model; create one per model");
    if (m->nlayers == 0) return nn__fail(NN_ERR_STATE, "nn_model_compile: the model has no layers");
    if (!nn_loss_name(loss)) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_compile: unknown loss %d", (int)loss);
    if (loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY && last_width(m) < 2)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_compile: softmax cross-entropy needs at least 2 outputs");
    size_t total = 0;
    for (int i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        if (l->kind != NN_LAYER_DENSE) continue;
        size_t w;
        if (!nn__mul_size(&w, (size_t)l->in, (size_t)l->out) || w > SIZE_MAX / 2 - total - (size_t)l->out)
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_compile: parameter count overflows");
        l->w_off = total;
        l->b_off = total + w;
        l->nparams = w + (size_t)l->out;
        total += l->nparams;
    }
    float *params = calloc(total ? total : 1, sizeof(float));
    float *grads = calloc(total ? total : 1, sizeof(float));
    if (!params || !grads) {
        free(params);
        free(grads);
        return nn__fail(NN_ERR_NO_MEMORY, "nn_model_compile: cannot allocate %zu parameters", total);
    }
    if (opt) {
        nn_status st = nn_optimizer_setup(opt, total);
        if (st != NN_OK) {
            free(params);
            free(grads);
            return st;
        }
    }
    m->params = params;
    m->grads = grads;
    m->nparams = total;
    m->loss = loss;
    m->opt = opt;
    nn_optimizer__set_owner(opt, m);
    m->compiled = 1;
    return NN_OK;
}

nn_status nn_model_set_optimizer(nn_model *m, nn_optimizer *opt)
{
    if (!m || !opt) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_set_optimizer: NULL argument");
    if (!m->compiled) return nn__fail(NN_ERR_STATE, "nn_model_set_optimizer: compile the model first");
    if (opt == m->opt) return NN_OK;
    if (nn_optimizer__owner(opt))
        return nn__fail(NN_ERR_INVALID_ARGUMENT,
                        "nn_model_set_optimizer: the optimizer already belongs to another model; create one per model");
    nn_status st = nn_optimizer_setup(opt, m->nparams);
    if (st != NN_OK) return st;
    nn_optimizer__release(m->opt);
    m->opt = opt;
    nn_optimizer__set_owner(opt, m);
    return NN_OK;
}

nn_optimizer *nn_model_get_optimizer(nn_model *m) { return m ? m->opt : NULL; }

nn_loss_kind nn_model_get_loss(const nn_model *m) { return m ? m->loss : NN_LOSS_SOFTMAX_CROSS_ENTROPY; }

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
        layer *l = &m->layers[i];
        if (l->kind != NN_LAYER_DENSE) continue;
        st = nn_init_fill(m->params + l->w_off, (size_t)(l->in * l->out), l->weight_init, l->in, l->out, rng);
        if (st == NN_OK)
            st = nn_init_fill(m->params + l->b_off, (size_t)l->out, l->bias_init, l->in, l->out, rng);
        if (st != NN_OK) return st;
    }
    return NN_OK;
}

/* A dense layer with a linear activation needs no separate pre-activation buffer. */
static int shares_buffer(const layer *l) { return l->kind == NN_LAYER_DENSE && l->act.kind == NN_ACT_LINEAR; }

nn_status nn_model_reserve(nn_model *m, int64_t max_batch)
{
    nn_status st = check_compiled(m, "nn_model_reserve");
    if (st != NN_OK) return st;
    if (max_batch <= 0 || max_batch > INT32_MAX)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_reserve: batch size %lld out of range", (long long)max_batch);
    if (max_batch <= m->capacity) return NN_OK;
    int64_t widest = m->input_features, floats = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        if (l->out > widest) widest = l->out;
        floats += (shares_buffer(l) || l->kind == NN_LAYER_ACTIVATION ? 1 : 2) * l->out;
    }
    floats += 2 * widest;
    size_t total;
    if (!nn__mul_size(&total, (size_t)floats, (size_t)max_batch) || total > SIZE_MAX / sizeof(float))
        return nn__fail(NN_ERR_NO_MEMORY, "nn_model_reserve: workspace size overflows");
    float *ws = malloc(total * sizeof(float));
    /* Room for the first layer's input as compressed rows: every entry at worst, and row offsets. */
    size_t entries = (size_t)(max_batch * m->input_features);
    size_t cols = (size_t)m->input_features;
    void *sp = m->layers[0].kind == NN_LAYER_DENSE
                   ? malloc(2 * entries * (sizeof(int32_t) + sizeof(float)) +
                            ((size_t)max_batch + 1 + 2 * cols + 1) * sizeof(int32_t))
                   : NULL;
    if (!ws || (m->layers[0].kind == NN_LAYER_DENSE && !sp)) {
        free(ws);
        free(sp);
        return nn__fail(NN_ERR_NO_MEMORY, "nn_model_reserve: cannot allocate %zu floats", total);
    }
    free(m->sparse_buf);
    m->sparse_buf = sp;
    if (sp) {
        m->sparse.value = sp;
        m->sparse.col_value = m->sparse.value + entries;
        m->sparse.index = (int32_t *)(m->sparse.col_value + entries);
        m->sparse.col_row = m->sparse.index + entries;
        m->sparse.start = m->sparse.col_row + entries;
        m->sparse.col_start = m->sparse.start + max_batch + 1;
        m->sparse.col_fill = m->sparse.col_start + cols + 1;
    }
    free(m->workspace);
    m->workspace = ws;
    m->capacity = max_batch;
    float *p = ws;
    for (int i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        size_t n = (size_t)(max_batch * l->out);
        if (l->kind == NN_LAYER_ACTIVATION) {
            l->pre = NULL; /* its input is the previous layer's output */
            l->y = p;
            p += n;
        } else {
            l->pre = p;
            p += n;
            if (shares_buffer(l)) {
                l->y = l->pre;
            } else {
                l->y = p;
                p += n;
            }
        }
    }
    m->grad_a = p;
    m->grad_b = p + (size_t)(max_batch * widest);
    return NN_OK;
}

/* Forward over `batch` rows (batch <= capacity); returns the last layer's output buffer. */
static const float *forward_rows(nn_model *m, const float *x, int64_t batch)
{
    const float *in = x;
    m->sparse_valid = 0;
    for (int i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        if (i == 0 && l->kind == NN_LAYER_DENSE && batch <= NN_SPARSE_MAX_ROWS &&
            nn__sparse_compress(&m->sparse, x, batch, l->in)) {
            m->sparse_valid = 1;
            nn__dense_forward_sparse(&m->sparse, l->out, m->params + l->w_off, m->params + l->b_off, l->act, l->pre,
                                     l->y);
        } else if (l->kind == NN_LAYER_DENSE) {
            nn__dense_forward_raw(batch, l->in, l->out, in, m->params + l->w_off, m->params + l->b_off, l->act,
                                  l->pre, l->y);
        } else {
            nn_activation_forward(l->act, l->y, in, (size_t)(batch * l->out));
        }
        in = l->y;
    }
    return in;
}

static nn_status check_input(const nn_model *m, const nn_tensor *x, const char *who)
{
    if (!x || !x->data) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: input is NULL", who);
    if (x->rank != 2)
        return nn__fail(NN_ERR_SHAPE, "%s: input must be (batch, %lld), got rank %d", who,
                        (long long)m->input_features, x->rank);
    if (x->shape[1] != m->input_features)
        return nn__fail(NN_ERR_SHAPE, "%s: input has %lld features, model expects %lld", who,
                        (long long)x->shape[1], (long long)m->input_features);
    /* nn_tensor is a public struct that callers may fill by hand: check what a view would have. */
    if (x->shape[0] < 1 || x->shape[0] > INT32_MAX)
        return nn__fail(NN_ERR_SHAPE, "%s: input has %lld rows, must be 1 to %d", who, (long long)x->shape[0],
                        INT32_MAX);
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

/* out (rows, C) = model(x), chunk by chunk; with softmax when asked. */
static nn_status forward_all(nn_model *m, nn_tensor *out, const nn_tensor *x, int softmax, const char *who)
{
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_input(m, x, who);
    if (st == NN_OK) st = check_output(m, out, x->shape[0], who);
    if (st == NN_OK) st = ensure_capacity(m, m->capacity ? m->capacity : NN_DEFAULT_CHUNK);
    if (st != NN_OK) return st;
    int64_t rows = x->shape[0], c = last_width(m), in = m->input_features;
    for (int64_t r = 0; r < rows; r += m->capacity) {
        int64_t b = rows - r < m->capacity ? rows - r : m->capacity;
        const float *y = forward_rows(m, x->data + r * in, b);
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

static int64_t argmax(const float *row, int64_t n)
{
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

nn_status nn_model_predict_classes(nn_model *m, int32_t *classes, const nn_tensor *x)
{
    const char *who = "nn_model_predict_classes";
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_input(m, x, who);
    if (st == NN_OK && !classes) st = nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: classes is NULL", who);
    if (st == NN_OK) st = ensure_capacity(m, m->capacity ? m->capacity : NN_DEFAULT_CHUNK);
    if (st != NN_OK) return st;
    int64_t rows = x->shape[0], c = last_width(m), in = m->input_features;
    for (int64_t r = 0; r < rows; r += m->capacity) {
        int64_t b = rows - r < m->capacity ? rows - r : m->capacity;
        const float *y = forward_rows(m, x->data + r * in, b);
        for (int64_t i = 0; i < b; i++) classes[r + i] = (int32_t)argmax(y + i * c, c);
    }
    return NN_OK;
}

/* Arg max of target row i: the class index itself (rank 1) or the largest entry (rank 2). */
static int64_t target_class(const nn_tensor *y, int64_t i, int64_t c)
{
    return y->rank == 1 ? (int64_t)y->data[i] : argmax(y->data + i * c, c);
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
    int64_t ok = 0;
    for (int64_t i = 0; i < b; i++) ok += argmax(out + i * c, c) == target_class(y, r + i, c);
    *correct = ok;
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

/* The largest |v[i]| of n floats, as the bits of a non-negative float: those order as the values do,
 * and an infinity or a NaN (0x7f800000 and up) ranks above every finite value. An integer reduction:
 * it vectorises and no FPU mode (flush-to-zero) or finite-math assumption can bend it. */
NN_HOT static uint32_t max_abs_bits(const float *v, size_t n)
{
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, v + i, sizeof u);
        u &= 0x7fffffffu;
        top = u > top ? u : top;
    }
    return top;
}

static double bits_value(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return (double)f;
}

/* Whether a dense layer's parameter gradients, dW = x^T dpre and db = column sums of dpre over `batch`
 * rows, are sure to be finite: when every |x| <= a and |dpre| <= d, no entry or partial sum exceeds
 * batch * max(a, 1) * d. Checking x and dpre costs batch * (in + out) reads of data still in cache,
 * a fraction of a pass over the in * out gradients; a bound within a factor 2 of overflow is refused
 * too, which only ever happens to a run that has diverged already. */
static int layer_grads_safe(uint32_t a_bits, uint32_t d_bits, int64_t batch)
{
    if (a_bits >= 0x7f800000u || d_bits >= 0x7f800000u) return 0;
    double a = bits_value(a_bits);
    return (double)batch * (a > 1.0 ? a : 1.0) * bits_value(d_bits) < (double)FLT_MAX / 2;
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

    nn__fpenv env;
    nn__fpenv_enter(&env);
    int64_t b = x->shape[0];
    const float *out = forward_rows(m, x->data, b);
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
    for (int i = m->nlayers - 1; st == NN_OK && i >= 0; i--) {
        layer *lay = &m->layers[i];
        const float *in = i > 0 ? m->layers[i - 1].y : x->data;
        /* The first layer's input gradient is never used: skip that product. */
        float *dx = i > 0 ? spare : NULL;
        size_t n = (size_t)(b * lay->out);
        int sparse = i == 0 && m->sparse_valid;
        if (lay->kind == NN_LAYER_DENSE) {
            nn__dense_backward_raw(b, lay->in, lay->out, in, m->params + lay->w_off, lay->pre, lay->y, lay->act,
                                   grad, m->grads + lay->w_off, m->grads + lay->b_off, dx,
                                   sparse ? &m->sparse : NULL);
            /* A finite loss does not make the gradients finite: an infinite input behind a unit that relu
             * or sigmoid saturates gives a finite output but inf * 0 = NaN in dW. grad now holds dpre. */
            uint32_t a_bits = sparse ? max_abs_bits(m->sparse.value, (size_t)m->sparse.start[b])
                                     : max_abs_bits(in, (size_t)(b * lay->in));
            uint32_t d_bits = max_abs_bits(grad, n);
            if (!layer_grads_safe(a_bits, d_bits, b))
                st = nn__fail(NN_ERR_NUMERIC,
                              "%s: layer %d's gradient is non-finite or would overflow (inputs up to %g, output "
                              "gradients up to %g; loss %g); parameters and optimizer state left unchanged",
                              who, i, bits_value(a_bits), bits_value(d_bits), (double)l);
        } else if (dx) {
            nn_activation_backward(lay->act, dx, grad, in, lay->y, n);
        }
        float *t = grad;
        grad = spare;
        spare = t;
    }
    if (st == NN_OK) st = nn_optimizer_step(m->opt, m->params, m->grads, m->nparams);
    nn__fpenv_leave(&env);
    return st;
}

nn_status nn_model_evaluate(nn_model *m, const nn_tensor *x, const nn_tensor *y, float *loss, float *accuracy)
{
    const char *who = "nn_model_evaluate";
    nn_status st = check_compiled(m, who);
    if (st == NN_OK) st = check_input(m, x, who);
    if (st == NN_OK) st = check_target(m, y, x->shape[0], who);
    if (st == NN_OK) st = ensure_capacity(m, m->capacity ? m->capacity : NN_DEFAULT_CHUNK);
    if (st != NN_OK) return st;
    int64_t rows = x->shape[0], in = m->input_features, correct = 0;
    double sum = 0.0;
    for (int64_t r = 0; r < rows; r += m->capacity) {
        int64_t b = rows - r < m->capacity ? rows - r : m->capacity, ok = 0;
        float l = 0.0f;
        const float *out = forward_rows(m, x->data + r * in, b);
        st = loss_rows(m, out, y, r, b, &l, NULL, &ok);
        if (st != NN_OK) return st;
        sum += (double)l * (double)b; /* chunk losses are means: weight them by their rows */
        correct += ok;
    }
    if (loss) *loss = (float)(sum / (double)rows);
    if (accuracy) *accuracy = (float)((double)correct / (double)rows);
    return NN_OK;
}

int64_t nn_model_input_features(const nn_model *m) { return m ? m->input_features : 0; }
int64_t nn_model_output_features(const nn_model *m) { return m ? last_width(m) : 0; }
int nn_model_layer_count(const nn_model *m) { return m ? m->nlayers : 0; }

int64_t nn_model_param_count(const nn_model *m)
{
    if (!m) return 0;
    int64_t n = 0;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == NN_LAYER_DENSE) n += m->layers[i].in * m->layers[i].out + m->layers[i].out;
    return n;
}

nn_status nn_model_layer_info(const nn_model *m, int i, nn_layer_info *out)
{
    if (!m || !out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_layer_info: NULL argument");
    if (i < 0 || i >= m->nlayers)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_model_layer_info: layer %d of %d", i, m->nlayers);
    const layer *l = &m->layers[i];
    memset(out, 0, sizeof *out);
    out->kind = l->kind;
    out->activation = l->act;
    out->in_features = l->in;
    out->out_features = l->out;
    if (l->kind == NN_LAYER_DENSE) {
        out->param_count = l->in * l->out + l->out;
        if (m->compiled) {
            int64_t ws[2] = {l->in, l->out}, bs[1] = {l->out};
            nn_tensor_view(&out->weights, m->params + l->w_off, 2, ws);
            nn_tensor_view(&out->bias, m->params + l->b_off, 1, bs);
        }
    }
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
    if (data) *data = m->grads;
    if (n) *n = m->nparams;
    return NN_OK;
}

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
    text_add(&t, "Model: sequential, %lld inputs, loss %s, optimizer %s\n", (long long)m->input_features,
             nn_loss_name(m->loss), m->opt ? nn_optimizer_kind_name(nn_optimizer_get_kind(m->opt)) : "none");
    text_add(&t, "%s%-32s %-20s %10s\n", rule, "Layer (type)", "Output Shape", "Param #");
    text_add(&t, "=================================================================\n");
    for (int i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        char name[64], shape[32];
        if (l->kind == NN_LAYER_DENSE)
            snprintf(name, sizeof name, "dense_%d (Dense, %s)", i, nn_activation_name(l->act.kind));
        else
            snprintf(name, sizeof name, "activation_%d (%s)", i, nn_activation_name(l->act.kind));
        snprintf(shape, sizeof shape, "(None, %lld)", (long long)l->out);
        long long p = l->kind == NN_LAYER_DENSE ? (long long)(l->in * l->out + l->out) : 0;
        text_add(&t, "%-32s %-20s %10lld\n", name, shape, p);
    }
    text_add(&t, "=================================================================\n");
    text_add(&t, "Total params: %lld\n", (long long)nn_model_param_count(m));
    if (needed) *needed = t.len;
    return NN_OK;
}
