/* An ONNX model as a libnn model (docs/onnx.md): a chain of supported operators, read with the care
 * of libnn's own files.
 *
 * The walk: constants (initializers, Constant nodes, Identity nodes on constants) are set apart;
 * the remaining nodes must form a chain from the graph's one input to its one output. Each step of
 * the chain is a region: the shortest run of nodes after which only one tensor is still needed (a
 * single node, or a branching element-wise subgraph such as gelu's x * 0.5 * (1 + erf(x / sqrt 2))).
 * A single node maps to a layer, or changes the layout; a subgraph of element-wise arithmetic on
 * scalar constants is evaluated on probe values and matched against libnn's activations, which
 * accepts every spelling of the same function (PyTorch's and libnn's gelu, gelu_tanh and silu).
 *
 * Layouts: ONNX images are channels first (N, C, H, W), libnn's channels last. A Conv's kernel is
 * reordered; a Flatten of channels-first images gives features in (C, H, W) order, so the next
 * Gemm's rows (and a batch norm's parameters in between) are permuted to libnn's (H, W, C) order; a
 * Transpose to channels last before the Flatten (libnn's exports) needs no permutation. The plan is
 * built first and the model created from it at the end, so that a refused file leaves nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/format.h"
#include "io/le.h"
#include "model_internal.h"
#include "onnx_internal.h"

#define MAX_TENSOR_RANK 8
#define MAX_REGION 32 /* nodes in one element-wise subgraph (gelu_tanh has 9) */

enum layout { FLAT, NCHW, NHWC, POOLED }; /* POOLED: ONNX (N, C, 1, 1) after GlobalAveragePool, libnn (C) */

/* One libnn layer to be created. Arrays are owned by the importer until the model takes a copy. */
typedef struct plan {
    nn_layer_kind kind;
    nn_activation act;
    int64_t units; /* dense units, conv filters */
    int kh, kw, sh, sw, pt, pb, pl, pr;
    float rate, momentum, epsilon;
    float *t[4]; /* dense/conv: kernel, bias; batch norm: gamma, beta, moving mean, moving variance */
    int open_bias; /* a MatMul's dense layer, whose bias an Add may still give */
} plan;

typedef struct constant {
    const char *name;
    const Onnx__TensorProto *t; /* checked: dims, type, byte length */
} constant;

typedef struct importer {
    const Onnx__ModelProto *mp;
    const Onnx__GraphProto *g;
    int64_t opset;
    constant *consts;
    size_t n_consts;
    /* The chain: nodes that are not constants, in graph order. */
    const Onnx__NodeProto **ops;
    size_t n_ops;
    /* Tensor names as small integers, and for each the last op index that reads it. */
    const char **names;
    size_t n_names, cap_names;
    size_t *hash; /* open addressing: index + 1 into names, 0 empty */
    size_t hash_cap;
    int64_t *last_use;
    plan layers[NN_MODEL_MAX_LAYERS];
    int n_layers;
    /* The state of the walk. */
    enum layout layout;
    int at_input;          /* nothing has read the graph input yet */
    int64_t h, w, c, f;    /* image (h, w, c) or flat f */
    int64_t perm_h, perm_w, perm_c; /* non-zero: the flat features are in (C, H, W) order */
    int softmax;           /* a final Softmax was dropped */
    int in_rank;
    int64_t in_shape[3];
    const char *input_name; /* the graph's input that is not an initializer */
    void **owned;
    size_t n_owned, cap_owned;
} importer;

/* ------------------------------------------------------------------ names and messages */

static const char *str(const char *s) { return s ? s : ""; }

/* "node 'conv1' (Conv)": how every refusal names the node. */
static nn_status node_fail(nn_status st, const Onnx__NodeProto *n, const char *fmt, const char *detail)
{
    return nn__fail(st, "onnx import: node '%.80s' (%.40s): %s%s", str(n->name), str(n->op_type), fmt,
                    detail ? detail : "");
}

static nn_status oom(void) { return nn__fail(NN_ERR_NO_MEMORY, "onnx import: out of memory"); }

static void *own(importer *im, size_t bytes)
{
    if (im->n_owned == im->cap_owned) {
        size_t cap = im->cap_owned ? 2 * im->cap_owned : 64;
        void **p = realloc(im->owned, cap * sizeof *p);
        if (!p) return NULL;
        im->owned = p;
        im->cap_owned = cap;
    }
    void *p = malloc(bytes ? bytes : 1);
    if (p) im->owned[im->n_owned++] = p;
    return p;
}

static size_t name_hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The id of a tensor name, added when absent; SIZE_MAX when out of memory. */
static size_t name_id(importer *im, const char *s)
{
    s = str(s);
    size_t mask = im->hash_cap - 1, i = name_hash(s) & mask;
    for (; im->hash[i]; i = (i + 1) & mask)
        if (strcmp(im->names[im->hash[i] - 1], s) == 0) return im->hash[i] - 1;
    if (im->n_names == im->cap_names) return SIZE_MAX; /* the table was sized for every name */
    im->names[im->n_names] = s;
    im->last_use[im->n_names] = -1;
    im->hash[i] = ++im->n_names;
    return im->n_names - 1;
}

static const constant *find_const(const importer *im, const char *name)
{
    if (!name || !*name) return NULL;
    for (size_t i = im->n_consts; i-- > 0;)
        if (strcmp(im->consts[i].name, name) == 0) return &im->consts[i];
    return NULL;
}

/* ------------------------------------------------------------------ tensors */

static int64_t tensor_numel(const Onnx__TensorProto *t)
{
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) n *= t->dims[i]; /* bounded by check_tensor */
    return n;
}

/* Dims, type and byte length of an untrusted tensor, before anything reads its data. */
static nn_status check_tensor(const Onnx__TensorProto *t, const char *what)
{
    if (t->n_dims > MAX_TENSOR_RANK)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: tensor '%.80s' (%s) has rank %zu, over %d", str(t->name),
                        what, t->n_dims, MAX_TENSOR_RANK);
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || (t->dims[i] > 0 && n > NN_FORMAT_MAX_PARAMS / t->dims[i]))
            return nn__fail(NN_ERR_FORMAT, "onnx import: tensor '%.80s' (%s): dimension %zu is %lld, a negative or "
                                           "absurd shape (at most %lld elements)",
                            str(t->name), what, i, (long long)t->dims[i], (long long)NN_FORMAT_MAX_PARAMS);
        n *= t->dims[i];
    }
    if (t->segment || (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        t->n_external_data)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: tensor '%.80s' (%s): segments and external data are not "
                                            "supported (save the model with its weights inside)",
                        str(t->name), what);
    int type = t->has_data_type ? t->data_type : 0;
    size_t size, typed;
    switch (type) {
    case NN__ONNX_FLOAT: size = 4, typed = t->n_float_data; break;
    case NN__ONNX_DOUBLE: size = 8, typed = t->n_double_data; break;
    case NN__ONNX_INT64: size = 8, typed = t->n_int64_data; break;
    default: return NN_OK; /* judged if used: only these types are ever read */
    }
    if (t->has_raw_data) {
        if (typed != 0 || t->raw_data.len != (size_t)n * size)
            return nn__fail(NN_ERR_FORMAT, "onnx import: tensor '%.80s' (%s): %zu bytes of raw data for %lld "
                                           "elements of %zu bytes",
                            str(t->name), what, t->raw_data.len, (long long)n, size);
    } else if (typed != (size_t)n) {
        return nn__fail(NN_ERR_FORMAT, "onnx import: tensor '%.80s' (%s): %zu values for a shape of %lld elements",
                        str(t->name), what, typed, (long long)n);
    }
    return NN_OK;
}

/* Element i of a checked FLOAT or DOUBLE tensor, as a double. */
static double tensor_at(const Onnx__TensorProto *t, size_t i)
{
    if (t->data_type == NN__ONNX_FLOAT) {
        if (!t->has_raw_data) return t->float_data[i];
        return nnio_load_f32(t->raw_data.data + 4 * i);
    }
    if (!t->has_raw_data) return t->double_data[i];
    uint64_t u = nnio_load_u64(t->raw_data.data + 8 * i);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static int64_t tensor_i64(const Onnx__TensorProto *t, size_t i)
{
    return t->has_raw_data ? (int64_t)nnio_load_u64(t->raw_data.data + 8 * i) : t->int64_data[i];
}

static int is_real(const Onnx__TensorProto *t)
{
    return t->has_data_type && (t->data_type == NN__ONNX_FLOAT || t->data_type == NN__ONNX_DOUBLE);
}

/* The constant input `k` of node n, a real tensor of `count` elements (any shape of that size), or
 * NULL with the failure recorded. */
static const Onnx__TensorProto *const_input(importer *im, const Onnx__NodeProto *n, size_t k, int64_t count,
                                            const char *what, nn_status *st)
{
    const constant *c = k < n->n_input ? find_const(im, n->input[k]) : NULL;
    char why[160];
    if (!c) {
        snprintf(why, sizeof why, "the %s must be a constant (an initializer)", what);
    } else if (!is_real(c->t)) {
        snprintf(why, sizeof why, "the %s '%.60s' is not float32 or float64", what, c->name);
    } else if (count >= 0 && tensor_numel(c->t) != count) {
        snprintf(why, sizeof why, "the %s '%.60s' has %lld values, expects %lld", what, c->name,
                 (long long)tensor_numel(c->t), (long long)count);
    } else {
        return c->t;
    }
    *st = node_fail(NN_ERR_UNSUPPORTED, n, why, NULL);
    return NULL;
}

/* ------------------------------------------------------------------ attributes */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
    return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_i ? a->i : dflt;
}

static float attr_float(const Onnx__NodeProto *n, const char *name, float dflt)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_f ? a->f : dflt;
}

/* An INTS attribute of exactly `count` values into v; absent: v keeps its defaults. 0 if malformed. */
static int attr_ints(const Onnx__NodeProto *n, const char *name, size_t count, int64_t *v)
{
    const Onnx__AttributeProto *a = attr(n, name);
    if (!a) return 1;
    if (a->n_ints != count) return 0;
    memcpy(v, a->ints, count * sizeof *v);
    return 1;
}

/* ------------------------------------------------------------------ the plan */

static plan *add_layer(importer *im, nn_layer_kind kind, const Onnx__NodeProto *n, nn_status *st)
{
    if (im->n_layers >= NN_MODEL_MAX_LAYERS) {
        *st = node_fail(NN_ERR_UNSUPPORTED, n, "more than the 64 layers a libnn model holds", NULL);
        return NULL;
    }
    plan *p = &im->layers[im->n_layers++];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->act = nn_activation_make(NN_ACT_LINEAR);
    return p;
}

static float *floats(importer *im, int64_t n, nn_status *st)
{
    float *p = own(im, (size_t)n * sizeof *p);
    if (!p) *st = oom();
    return p;
}

/* libnn's feature j of the flat vector, in ONNX's order: with a pending (C, H, W) flatten, libnn's
 * (h, w, c) element reads ONNX's (c, h, w) one. */
static int64_t onnx_feature(const importer *im, int64_t j)
{
    if (!im->perm_c) return j;
    int64_t c = j % im->perm_c, hw = j / im->perm_c;
    return c * im->perm_h * im->perm_w + hw;
}

/* A per-feature (or per-channel) vector, permuted to libnn's order when a flatten left ONNX's. */
static float *vector(importer *im, const Onnx__TensorProto *t, int64_t n, int permute, nn_status *st)
{
    float *v = floats(im, n, st);
    for (int64_t j = 0; v && j < n; j++) v[j] = (float)tensor_at(t, (size_t)(permute ? onnx_feature(im, j) : j));
    return v;
}

/* The activation a fused or stand-alone layer computes; dense and conv2d take it in, once. */
static nn_status add_activation(importer *im, nn_activation act, const Onnx__NodeProto *n)
{
    if (act.kind == NN_ACT_LINEAR) return NN_OK;
    plan *last = im->n_layers ? &im->layers[im->n_layers - 1] : NULL;
    if (last && (last->kind == NN_LAYER_DENSE || last->kind == NN_LAYER_CONV2D) && last->act.kind == NN_ACT_LINEAR) {
        last->act = act;
        last->open_bias = 0;
        return NN_OK;
    }
    nn_status st = NN_OK;
    plan *p = add_layer(im, NN_LAYER_ACTIVATION, n, &st);
    if (p) p->act = act;
    return st;
}

static void close_bias(importer *im)
{
    if (im->n_layers) im->layers[im->n_layers - 1].open_bias = 0;
}

/* ------------------------------------------------------------------ operators */

static nn_status need_layout(const importer *im, const Onnx__NodeProto *n, int images)
{
    if (images && im->layout != NCHW)
        return node_fail(NN_ERR_UNSUPPORTED, n, "expects images in (N, C, H, W) layout here", NULL);
    if (!images && im->layout != FLAT)
        return node_fail(NN_ERR_UNSUPPORTED, n, "expects a flat (N, features) input here (Flatten first)", NULL);
    return NN_OK;
}

static nn_status op_gemm(importer *im, const Onnx__NodeProto *n, int matmul)
{
    nn_status st = need_layout(im, n, 0);
    if (st != NN_OK) return st;
    if (!matmul && (attr_int(n, "transA", 0) != 0 || n->n_input < 2))
        return node_fail(NN_ERR_UNSUPPORTED, n, "transA is not supported", NULL);
    const Onnx__TensorProto *B = const_input(im, n, 1, -1, "weight matrix B", &st);
    if (!B) return st;
    int transB = matmul ? 0 : (int)attr_int(n, "transB", 0);
    float alpha = matmul ? 1.0f : attr_float(n, "alpha", 1.0f), beta = matmul ? 1.0f : attr_float(n, "beta", 1.0f);
    if (B->n_dims != 2 || B->dims[transB ? 1 : 0] != im->f)
        return node_fail(NN_ERR_UNSUPPORTED, n, "B must be a matrix with one row per input feature", NULL);
    int64_t K = im->f, N = B->dims[transB ? 0 : 1];
    if (N < 1 || N > NN_FORMAT_MAX_FEATURES)
        return node_fail(NN_ERR_UNSUPPORTED, n, "the number of outputs is 0 or over libnn's limit", NULL);
    plan *p = add_layer(im, NN_LAYER_DENSE, n, &st);
    if (!p) return st;
    p->units = N;
    p->t[0] = floats(im, K * N, &st);
    p->t[1] = floats(im, N, &st);
    if (!p->t[0] || !p->t[1]) return st;
    /* libnn's kernel is (in, out); its row j reads ONNX's input feature onnx_feature(j). */
    for (int64_t j = 0; j < K; j++) {
        int64_t r = onnx_feature(im, j);
        for (int64_t o = 0; o < N; o++)
            p->t[0][j * N + o] = alpha * (float)tensor_at(B, (size_t)(transB ? o * K + r : r * N + o));
    }
    memset(p->t[1], 0, (size_t)N * sizeof(float));
    if (!matmul && n->n_input > 2 && n->input[2] && *n->input[2]) {
        const constant *c = find_const(im, n->input[2]);
        if (!c || !is_real(c->t) || (tensor_numel(c->t) != N && tensor_numel(c->t) != 1))
            return node_fail(NN_ERR_UNSUPPORTED, n, "C must be a constant of one value or one per output", NULL);
        int64_t cn = tensor_numel(c->t);
        for (int64_t o = 0; o < N; o++) p->t[1][o] = beta * (float)tensor_at(c->t, (size_t)(cn == 1 ? 0 : o));
    }
    p->open_bias = matmul;
    im->perm_c = im->perm_h = im->perm_w = 0;
    im->f = N;
    return NN_OK;
}

/* The bias of a MatMul's dense layer. */
static nn_status op_add(importer *im, const Onnx__NodeProto *n, size_t x)
{
    plan *last = im->n_layers ? &im->layers[im->n_layers - 1] : NULL;
    if (!last || !last->open_bias || n->n_input != 2)
        return node_fail(NN_ERR_UNSUPPORTED, n, "Add is supported only as the bias of a MatMul", NULL);
    nn_status st = NN_OK;
    const Onnx__TensorProto *b = const_input(im, n, 1 - x, last->units, "bias", &st);
    if (!b) return st;
    for (int64_t o = 0; o < last->units; o++) last->t[1][o] = (float)tensor_at(b, (size_t)o);
    last->open_bias = 0;
    return NN_OK;
}

/* pads (top, left, bottom, right) of a window from auto_pad or pads; out the output extents. */
static nn_status window(importer *im, const Onnx__NodeProto *n, int64_t kh, int64_t kw, plan *p, int64_t *oh,
                        int64_t *ow)
{
    int64_t s[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, dil[2] = {1, 1};
    if (!attr_ints(n, "strides", 2, s) || !attr_ints(n, "pads", 4, pads) || !attr_ints(n, "dilations", 2, dil))
        return node_fail(NN_ERR_UNSUPPORTED, n, "strides, pads or dilations of the wrong length", NULL);
    if (dil[0] != 1 || dil[1] != 1) return node_fail(NN_ERR_UNSUPPORTED, n, "dilations other than 1", NULL);
    if (kh < 1 || kw < 1 || kh > 64 || kw > 64 || s[0] < 1 || s[1] < 1 || s[0] > 64 || s[1] > 64)
        return node_fail(NN_ERR_UNSUPPORTED, n, "windows and strides must be 1 to 64", NULL);
    const Onnx__AttributeProto *ap = attr(n, "auto_pad");
    const char *mode = ap && ap->has_s ? (const char *)ap->s.data : NULL;
    size_t mlen = ap && ap->has_s ? ap->s.len : 0;
    int64_t in[2] = {im->h, im->w}, k[2] = {kh, kw};
    if (mode && mlen >= 4 && memcmp(mode, "SAME", 4) == 0) {
        int lower = mlen == 10 && memcmp(mode, "SAME_LOWER", 10) == 0;
        for (int a = 0; a < 2; a++) {
            int64_t o = (in[a] + s[a] - 1) / s[a], total = (o - 1) * s[a] + k[a] - in[a];
            if (total < 0) total = 0;
            pads[a] = lower ? total - total / 2 : total / 2;
            pads[a + 2] = total - pads[a];
        }
    } else if (mode && !(mlen == 6 && memcmp(mode, "NOTSET", 6) == 0) && !(mlen == 5 && memcmp(mode, "VALID", 5) == 0)) {
        return node_fail(NN_ERR_UNSUPPORTED, n, "unknown auto_pad", NULL);
    } else if (mode && mlen == 5) {
        memset(pads, 0, sizeof pads);
    }
    for (int a = 0; a < 4; a++)
        if (pads[a] < 0 || pads[a] >= k[a % 2])
            return node_fail(NN_ERR_UNSUPPORTED, n, "pads must be 0 to the window's size - 1", NULL);
    int64_t o[2];
    for (int a = 0; a < 2; a++) {
        if (in[a] + pads[a] + pads[a + 2] < k[a])
            return node_fail(NN_ERR_UNSUPPORTED, n, "the window is larger than the padded image", NULL);
        o[a] = (in[a] + pads[a] + pads[a + 2] - k[a]) / s[a] + 1;
    }
    p->kh = (int)kh, p->kw = (int)kw, p->sh = (int)s[0], p->sw = (int)s[1];
    p->pt = (int)pads[0], p->pl = (int)pads[1], p->pb = (int)pads[2], p->pr = (int)pads[3];
    *oh = o[0];
    *ow = o[1];
    return NN_OK;
}

static nn_status op_conv(importer *im, const Onnx__NodeProto *n)
{
    nn_status st = need_layout(im, n, 1);
    if (st != NN_OK) return st;
    if (attr_int(n, "group", 1) != 1) return node_fail(NN_ERR_UNSUPPORTED, n, "grouped convolutions", NULL);
    const Onnx__TensorProto *W = const_input(im, n, 1, -1, "kernel W", &st);
    if (!W) return st;
    if (W->n_dims != 4 || W->dims[1] != im->c || W->dims[0] < 1 || W->dims[0] > 65536)
        return node_fail(NN_ERR_UNSUPPORTED, n, "W must be (filters, channels in, kh, kw), 1 to 65536 filters", NULL);
    int64_t F = W->dims[0], C = im->c, kh = W->dims[2], kw = W->dims[3], ks[2] = {kh, kw};
    if (!attr_ints(n, "kernel_shape", 2, ks) || ks[0] != kh || ks[1] != kw)
        return node_fail(NN_ERR_UNSUPPORTED, n, "kernel_shape disagrees with W", NULL);
    plan *p = add_layer(im, NN_LAYER_CONV2D, n, &st);
    if (!p) return st;
    int64_t oh, ow;
    if ((st = window(im, n, kh, kw, p, &oh, &ow)) != NN_OK) return st;
    p->units = F;
    if (!(p->t[0] = floats(im, kh * kw * C * F, &st))) return st;
    for (int64_t f = 0; f < F; f++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t y = 0; y < kh; y++)
                for (int64_t x = 0; x < kw; x++)
                    p->t[0][((y * kw + x) * C + c) * F + f] = (float)tensor_at(W, (size_t)(((f * C + c) * kh + y) * kw + x));
    if (n->n_input > 2 && n->input[2] && *n->input[2]) {
        const Onnx__TensorProto *B = const_input(im, n, 2, F, "bias B", &st);
        if (!B || !(p->t[1] = vector(im, B, F, 0, &st))) return st;
    } else {
        /* libnn's convolutions here always have a bias: a zero one computes the same. */
        if (!(p->t[1] = floats(im, F, &st))) return st;
        memset(p->t[1], 0, (size_t)F * sizeof(float));
    }
    im->h = oh, im->w = ow, im->c = F;
    return NN_OK;
}

static nn_status op_pool(importer *im, const Onnx__NodeProto *n, int is_max)
{
    nn_status st = need_layout(im, n, 1);
    if (st != NN_OK) return st;
    int64_t ks[2] = {0, 0};
    if (!attr(n, "kernel_shape") || !attr_ints(n, "kernel_shape", 2, ks))
        return node_fail(NN_ERR_UNSUPPORTED, n, "kernel_shape must give 2 values", NULL);
    if (attr_int(n, "ceil_mode", 0) != 0) return node_fail(NN_ERR_UNSUPPORTED, n, "ceil_mode 1", NULL);
    if (is_max && attr_int(n, "storage_order", 0) != 0) return node_fail(NN_ERR_UNSUPPORTED, n, "storage_order 1", NULL);
    plan *p = add_layer(im, is_max ? NN_LAYER_MAXPOOL2D : NN_LAYER_AVGPOOL2D, n, &st);
    if (!p) return st;
    int64_t oh, ow;
    if ((st = window(im, n, ks[0], ks[1], p, &oh, &ow)) != NN_OK) return st;
    /* libnn's average counts only the pixels inside the image: ONNX's count_include_pad 0. */
    if (!is_max && attr_int(n, "count_include_pad", 0) != 0 && (p->pt || p->pb || p->pl || p->pr))
        return node_fail(NN_ERR_UNSUPPORTED, n, "count_include_pad 1 with padding (libnn averages only the pixels "
                                                "inside the image)",
                         NULL);
    im->h = oh, im->w = ow;
    return NN_OK;
}

static nn_status op_batchnorm(importer *im, const Onnx__NodeProto *n)
{
    if (im->layout == NHWC)
        return node_fail(NN_ERR_UNSUPPORTED, n, "batch normalization over channels-last images", NULL);
    if (attr_int(n, "training_mode", 0) != 0 || attr_int(n, "spatial", 1) != 1)
        return node_fail(NN_ERR_UNSUPPORTED, n, "training_mode or spatial 0", NULL);
    int images = im->layout == NCHW, permute = !images && im->perm_c != 0;
    int64_t C = images ? im->c : im->f;
    nn_status st = NN_OK;
    const char *what[] = {"scale", "bias B", "mean", "variance"};
    const Onnx__TensorProto *t[4];
    for (int k = 0; k < 4; k++)
        if (!(t[k] = const_input(im, n, (size_t)k + 1, C, what[k], &st))) return st;
    float eps = attr_float(n, "epsilon", 1e-5f), momentum = attr_float(n, "momentum", 0.9f);
    if (!(eps > 0.0f && isfinite(eps)) || !(momentum >= 0.0f && momentum <= 1.0f))
        return node_fail(NN_ERR_UNSUPPORTED, n, "epsilon must be positive and momentum in [0, 1]", NULL);
    plan *p = add_layer(im, NN_LAYER_BATCHNORM, n, &st);
    if (!p) return st;
    p->epsilon = eps;
    p->momentum = momentum;
    for (int k = 0; k < 4; k++)
        if (!(p->t[k] = vector(im, t[k], C, permute, &st))) return st;
    /* A batch norm of the flat features after a global pool normalises the channels. */
    return NN_OK;
}

static nn_status op_flatten(importer *im, const Onnx__NodeProto *n, int64_t axis_ok)
{
    if (!axis_ok) return node_fail(NN_ERR_UNSUPPORTED, n, "only a flatten to (N, features) is supported", NULL);
    nn_status st = NN_OK;
    switch (im->layout) {
    case FLAT: return NN_OK;
    case POOLED: im->layout = FLAT; return NN_OK; /* (N, C, 1, 1): the same order either way */
    case NCHW:
        /* Features come out in (C, H, W) order; the next weights are permuted to libnn's (H, W, C). */
        if (im->c > 1 && im->h * im->w > 1) im->perm_h = im->h, im->perm_w = im->w, im->perm_c = im->c;
        break;
    case NHWC: break;
    }
    if (!add_layer(im, NN_LAYER_FLATTEN, n, &st)) return st;
    im->f = im->h * im->w * im->c;
    im->layout = FLAT;
    return NN_OK;
}

static nn_status op_reshape(importer *im, const Onnx__NodeProto *n)
{
    nn_status st = NN_OK;
    const constant *c = n->n_input == 2 ? find_const(im, n->input[1]) : NULL;
    if (!c || !c->t->has_data_type || c->t->data_type != NN__ONNX_INT64 || tensor_numel(c->t) != 2)
        return node_fail(NN_ERR_UNSUPPORTED, n, "only a Reshape to 2-D by a constant shape is supported", NULL);
    int64_t numel = im->layout == FLAT ? im->f : im->h * im->w * im->c, a = tensor_i64(c->t, 0),
            b = tensor_i64(c->t, 1);
    int allowzero = (int)attr_int(n, "allowzero", 0);
    /* (N, features) in any of the spellings that keep the batch: (-1, F), (0, -1), (0, F), (B, -1), (B, F). */
    int ok = !allowzero && ((b == numel && (a == -1 || a >= 0)) || (b == -1 && a >= 0));
    st = op_flatten(im, n, ok);
    return st;
}

static nn_status op_transpose(importer *im, const Onnx__NodeProto *n)
{
    int64_t p[4] = {0, 0, 0, 0};
    const Onnx__AttributeProto *a = attr(n, "perm");
    if (!a || a->n_ints != 4 || !attr_ints(n, "perm", 4, p))
        return node_fail(NN_ERR_UNSUPPORTED, n, "only 4-D transposes between (N, C, H, W) and (N, H, W, C)", NULL);
    int to_nchw = p[0] == 0 && p[1] == 3 && p[2] == 1 && p[3] == 2, to_nhwc = p[0] == 0 && p[1] == 2 && p[2] == 3 && p[3] == 1;
    if (to_nchw && im->at_input && im->layout == NCHW) {
        /* The graph's input was channels last after all: (N, H, W, C) as libnn's own. */
        int64_t d1 = im->c, d2 = im->h, d3 = im->w;
        im->h = d1, im->w = d2, im->c = d3;
        im->in_shape[0] = d1, im->in_shape[1] = d2, im->in_shape[2] = d3;
        return NN_OK;
    }
    if (to_nchw && im->layout == NHWC) {
        im->layout = NCHW;
        return NN_OK;
    }
    if (to_nhwc && im->layout == NCHW) {
        im->layout = NHWC;
        return NN_OK;
    }
    return node_fail(NN_ERR_UNSUPPORTED, n, "only 4-D transposes between (N, C, H, W) and (N, H, W, C)", NULL);
}

static nn_status op_dropout(importer *im, const Onnx__NodeProto *n)
{
    nn_status st = NN_OK;
    float rate = attr_float(n, "ratio", 0.5f);
    if (n->n_input > 1 && n->input[1] && *n->input[1]) {
        const Onnx__TensorProto *r = const_input(im, n, 1, 1, "ratio", &st);
        if (!r) return st;
        rate = (float)tensor_at(r, 0);
    }
    if (n->n_input > 2 && n->input[2] && *n->input[2]) {
        const constant *c = find_const(im, n->input[2]);
        /* training_mode: a bool; true would make inference random. */
        int is_false = c && c->t->has_raw_data ? c->t->raw_data.len == 1 && c->t->raw_data.data[0] == 0
                                               : c && c->t->n_int32_data == 1 && c->t->int32_data[0] == 0;
        if (!is_false)
            return node_fail(NN_ERR_UNSUPPORTED, n, "training_mode must be a constant false", NULL);
    }
    if (!(rate >= 0.0f && rate < 1.0f)) return node_fail(NN_ERR_UNSUPPORTED, n, "ratio must be in [0, 1)", NULL);
    plan *p = add_layer(im, NN_LAYER_DROPOUT, n, &st);
    if (p) p->rate = rate;
    return st;
}

static nn_status op_activation(importer *im, const Onnx__NodeProto *n, nn_activation_kind kind)
{
    nn_activation act = nn_activation_make(kind);
    if (kind == NN_ACT_LEAKY_RELU) act.alpha = attr_float(n, "alpha", 0.01f);
    if (kind == NN_ACT_ELU) act.alpha = attr_float(n, "alpha", 1.0f);
    if (kind == NN_ACT_SELU) {
        /* libnn's selu has Klambauer et al.'s constants, ONNX's defaults. */
        float alpha = attr_float(n, "alpha", 1.67326319217681884765625f), gamma = attr_float(n, "gamma", 1.05070102214813232421875f);
        if (fabsf(alpha - 1.67326319217681884765625f) > 1e-6f || fabsf(gamma - 1.05070102214813232421875f) > 1e-6f)
            return node_fail(NN_ERR_UNSUPPORTED, n, "Selu with other constants than the standard ones", NULL);
    }
    if ((kind == NN_ACT_LEAKY_RELU || kind == NN_ACT_ELU) && !(isfinite(act.alpha) && act.alpha >= 0.0f))
        return node_fail(NN_ERR_UNSUPPORTED, n, "alpha must be finite and non-negative", NULL);
    close_bias(im);
    return add_activation(im, act, n);
}

static nn_status op_softmax(importer *im, const Onnx__NodeProto *n, int last)
{
    int64_t axis = attr_int(n, "axis", im->opset >= 13 ? -1 : 1);
    if (!last) return node_fail(NN_ERR_UNSUPPORTED, n, "Softmax is supported only at the end of the graph", NULL);
    if (im->layout != FLAT || (axis != 1 && axis != -1))
        return node_fail(NN_ERR_UNSUPPORTED, n, "Softmax must be over the features of a (N, features) tensor", NULL);
    close_bias(im);
    im->softmax = 1;
    return NN_OK;
}

/* ------------------------------------------------------------------ element-wise subgraphs */

static const char *const elementwise_ops[] = {"Add", "Sub", "Mul", "Div", "Erf", "Tanh", "Sigmoid", "Exp", "Log",
                                              "Neg", "Sqrt", "Pow", "Reciprocal", "Softplus", "Relu", "Abs"};

static int is_elementwise(const char *op)
{
    for (size_t i = 0; i < sizeof elementwise_ops / sizeof *elementwise_ops; i++)
        if (strcmp(op, elementwise_ops[i]) == 0) return 1;
    return 0;
}

static double apply(const char *op, double a, double b)
{
    if (!strcmp(op, "Add")) return a + b;
    if (!strcmp(op, "Sub")) return a - b;
    if (!strcmp(op, "Mul")) return a * b;
    if (!strcmp(op, "Div")) return a / b;
    if (!strcmp(op, "Pow")) return pow(a, b);
    if (!strcmp(op, "Erf")) return erf(a);
    if (!strcmp(op, "Tanh")) return tanh(a);
    if (!strcmp(op, "Sigmoid")) return 1.0 / (1.0 + exp(-a));
    if (!strcmp(op, "Exp")) return exp(a);
    if (!strcmp(op, "Log")) return log(a);
    if (!strcmp(op, "Neg")) return -a;
    if (!strcmp(op, "Sqrt")) return sqrt(a);
    if (!strcmp(op, "Reciprocal")) return 1.0 / a;
    if (!strcmp(op, "Softplus")) return a > 30 ? a : log1p(exp(a));
    if (!strcmp(op, "Relu")) return a > 0 ? a : 0;
    return fabs(a); /* Abs */
}

/* The activation that nodes ops[i..j] compute from tensor x, found by evaluating them on probe
 * values; NN_ERR_UNSUPPORTED when they are not all element-wise on x and scalar constants, or
 * compute none of libnn's activations. */
static nn_status match_subgraph(importer *im, size_t i, size_t j, size_t x, nn_activation *out)
{
    enum { PROBES = 49 };
    double probe[PROBES];
    for (int k = 0; k < PROBES; k++) probe[k] = -6.0 + 0.25 * k + 0.03; /* off the kinks at 0 */
    double vals[MAX_REGION][PROBES];
    size_t ids[MAX_REGION];
    for (size_t k = i; k <= j; k++) {
        const Onnx__NodeProto *n = im->ops[k];
        size_t arity = (!strcmp(n->op_type, "Add") || !strcmp(n->op_type, "Sub") || !strcmp(n->op_type, "Mul") ||
                        !strcmp(n->op_type, "Div") || !strcmp(n->op_type, "Pow"))
                           ? 2
                           : 1;
        if (!is_elementwise(n->op_type) || n->n_input != arity || n->n_output < 1)
            return node_fail(NN_ERR_UNSUPPORTED, n, "is part of a subgraph libnn has no layer for", NULL);
        const double *arg[2];
        double scalar[2];
        for (size_t a = 0; a < arity; a++) {
            size_t id = name_id(im, n->input[a]);
            arg[a] = NULL;
            if (id == x) continue;
            for (size_t q = i; q < k; q++)
                if (ids[q - i] == id) arg[a] = vals[q - i];
            if (arg[a]) continue;
            const constant *c = find_const(im, n->input[a]);
            if (!c || !is_real(c->t) || tensor_numel(c->t) != 1)
                return node_fail(NN_ERR_UNSUPPORTED, n, "an element-wise operator on something other than its input "
                                                        "and scalar constants",
                                 NULL);
            scalar[a] = tensor_at(c->t, 0);
            arg[a] = &scalar[a];
        }
        for (int p = 0; p < PROBES; p++) {
            double a = arg[0] ? (arg[0] == &scalar[0] ? scalar[0] : arg[0][p]) : probe[p];
            double b = arity == 1 ? 0 : arg[1] ? (arg[1] == &scalar[1] ? scalar[1] : arg[1][p]) : probe[p];
            vals[k - i][p] = apply(n->op_type, a, b);
        }
        ids[k - i] = name_id(im, n->output[0]);
    }
    const double *y = vals[j - i];
    for (int kind = 0; kind < NN_ACT_COUNT; kind++) {
        nn_activation act = nn_activation_make((nn_activation_kind)kind);
        int same = 1;
        for (int p = 0; p < PROBES && same; p++) {
            float xin = (float)probe[p], f;
            nn_activation_forward(act, &f, &xin, 1);
            same = fabs(y[p] - f) <= 1e-5 + 1e-5 * fabs(f);
        }
        if (same) {
            *out = act;
            return NN_OK;
        }
    }
    char detail[160];
    snprintf(detail, sizeof detail, " to '%.60s': an element-wise subgraph that computes none of libnn's activations",
             str(im->ops[j]->name));
    return node_fail(NN_ERR_UNSUPPORTED, im->ops[i], "the nodes from here", detail);
}

/* ------------------------------------------------------------------ the walk */

static nn_status region(importer *im, size_t i, size_t x, size_t *end);

/* The activation of the element-wise region ops[i..*j] from x, extended by the element-wise regions
 * that follow it until one matches: PyTorch writes gelu as (x * (1 + erf(x / sqrt 2))) * 0.5, whose
 * first closed region is 2 gelu(x). The first refusal is the one reported. */
static nn_status match_region(importer *im, size_t i, size_t *j, size_t x, nn_activation *act)
{
    char first[512] = "";
    nn_status first_st = NN_OK;
    for (size_t end = *j;;) {
        nn_status st = match_subgraph(im, i, end, x, act);
        if (st == NN_OK) {
            *j = end;
            return NN_OK;
        }
        if (first_st == NN_OK) {
            first_st = st;
            snprintf(first, sizeof first, "%s", nn_last_error());
        }
        size_t next;
        if (end + 1 >= im->n_ops || !is_elementwise(im->ops[end + 1]->op_type) ||
            region(im, end + 1, name_id(im, im->ops[end]->output[0]), &next) != NN_OK || next - i >= MAX_REGION)
            break;
        end = next;
    }
    return nn__fail(first_st, "%s", first);
}

/* One region from ops[i], reading tensor x: returns the index j of its last node. A region ends at the
 * first node after which no tensor of the region (x included) is read again but the last one's output. */
static nn_status region(importer *im, size_t i, size_t x, size_t *end)
{
    for (size_t j = i; j < im->n_ops && j < i + MAX_REGION; j++) {
        const Onnx__NodeProto *n = im->ops[j];
        size_t out = name_id(im, n->output[0]);
        int closed = im->last_use[x] <= (int64_t)j;
        for (size_t k = i; k <= j && closed; k++) {
            const Onnx__NodeProto *m = im->ops[k];
            for (size_t o = 0; o < m->n_output && closed; o++) {
                if (!m->output[o] || !*m->output[o]) continue;
                size_t id = name_id(im, m->output[o]);
                if (id != out && im->last_use[id] > (int64_t)j) closed = 0;
            }
        }
        if (closed) {
            *end = j;
            return NN_OK;
        }
    }
    return node_fail(NN_ERR_UNSUPPORTED, im->ops[i], "the graph is not a chain of layers from here", NULL);
}

static nn_status walk(importer *im, size_t graph_out)
{
    size_t x = name_id(im, im->input_name);
    for (size_t i = 0; i < im->n_ops;) {
        const Onnx__NodeProto *n = im->ops[i];
        size_t j = i;
        nn_status st;
        int reads_x = 0;
        for (size_t a = 0; a < n->n_input; a++)
            if (n->input[a] && name_id(im, n->input[a]) == x) reads_x = 1;
        if (!reads_x) return node_fail(NN_ERR_UNSUPPORTED, n, "does not read the previous layer's output", NULL);
        if ((st = region(im, i, x, &j)) != NN_OK) return st;
        int last = j + 1 == im->n_ops;
        if (j > i) {
            nn_activation act;
            if ((st = match_region(im, i, &j, x, &act)) != NN_OK) return st;
            close_bias(im);
            st = add_activation(im, act, n);
        } else {
            const char *op = n->op_type;
            /* Inputs past the first that are not constants would be a branch. */
            for (size_t a = 1; a < n->n_input; a++)
                if (n->input[a] && *n->input[a] && name_id(im, n->input[a]) != x && !find_const(im, n->input[a]))
                    return node_fail(NN_ERR_UNSUPPORTED, n, "an input is neither the chain's tensor nor a constant", NULL);
            if (!strcmp(op, "Gemm")) st = op_gemm(im, n, 0);
            else if (!strcmp(op, "MatMul")) st = op_gemm(im, n, 1);
            else if (!strcmp(op, "Add")) st = op_add(im, n, name_id(im, n->input[0]) == x ? 0 : 1);
            else if (!strcmp(op, "Conv")) st = op_conv(im, n);
            else if (!strcmp(op, "MaxPool")) st = op_pool(im, n, 1);
            else if (!strcmp(op, "AveragePool")) st = op_pool(im, n, 0);
            else if (!strcmp(op, "GlobalAveragePool")) {
                st = need_layout(im, n, 1);
                if (st == NN_OK && add_layer(im, NN_LAYER_GLOBAL_AVGPOOL2D, n, &st)) {
                    im->layout = POOLED;
                    im->f = im->c;
                }
            } else if (!strcmp(op, "BatchNormalization")) st = op_batchnorm(im, n);
            else if (!strcmp(op, "Flatten")) {
                int64_t axis = attr_int(n, "axis", 1);
                st = op_flatten(im, n, axis == 1 || (im->layout != FLAT && axis == -3));
            } else if (!strcmp(op, "Reshape")) st = op_reshape(im, n);
            else if (!strcmp(op, "Transpose")) st = op_transpose(im, n);
            else if (!strcmp(op, "Dropout")) st = op_dropout(im, n);
            else if (!strcmp(op, "Identity")) st = NN_OK;
            else if (!strcmp(op, "Relu")) st = op_activation(im, n, NN_ACT_RELU);
            else if (!strcmp(op, "Sigmoid")) st = op_activation(im, n, NN_ACT_SIGMOID);
            else if (!strcmp(op, "Tanh")) st = op_activation(im, n, NN_ACT_TANH);
            else if (!strcmp(op, "LeakyRelu")) st = op_activation(im, n, NN_ACT_LEAKY_RELU);
            else if (!strcmp(op, "Elu")) st = op_activation(im, n, NN_ACT_ELU);
            else if (!strcmp(op, "Selu")) st = op_activation(im, n, NN_ACT_SELU);
            else if (!strcmp(op, "Softplus")) st = op_activation(im, n, NN_ACT_SOFTPLUS);
            else if (!strcmp(op, "Softmax")) st = op_softmax(im, n, last);
            else if (is_elementwise(op)) {
                nn_activation act;
                st = match_region(im, i, &j, x, &act);
                if (st == NN_OK) {
                    close_bias(im);
                    st = add_activation(im, act, n);
                }
            } else st = node_fail(NN_ERR_UNSUPPORTED, n, "libnn has no layer for this operator", NULL);
        }
        if (st != NN_OK) return st;
        im->at_input = 0;
        x = name_id(im, im->ops[j]->output[0]);
        i = j + 1;
    }
    if (x != graph_out)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the chain of nodes does not end at the graph's output");
    if (im->layout != FLAT && im->layout != POOLED)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the graph ends in images; libnn imports models whose "
                                            "output is (N, features)");
    if (im->perm_c)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the graph ends with the flattened channels-first "
                                            "features, in an order libnn's flatten does not give");
    return NN_OK;
}

/* ------------------------------------------------------------------ the graph's frame */

static nn_status read_input(importer *im)
{
    const Onnx__GraphProto *g = im->g;
    const Onnx__ValueInfoProto *in = NULL;
    for (size_t i = 0; i < g->n_input; i++) {
        if (find_const(im, g->input[i]->name)) continue; /* initializers listed as inputs (IR < 4) */
        if (in) return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the graph has several inputs; libnn models have one");
        in = g->input[i];
    }
    if (!in || !in->name || !*in->name) return nn__fail(NN_ERR_FORMAT, "onnx import: the graph has no named input");
    im->input_name = in->name;
    const Onnx__TypeProto *t = in->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type ||
        t->tensor_type->elem_type != NN__ONNX_FLOAT || !t->tensor_type->shape)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: input '%.80s' must be a float32 tensor of known shape",
                        str(in->name));
    const Onnx__TensorShapeProto *s = t->tensor_type->shape;
    if (s->n_dim != 2 && s->n_dim != 4)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: input '%.80s' has rank %zu; libnn takes (N, features) or "
                                            "(N, C, H, W)",
                        str(in->name), s->n_dim);
    int64_t d[4] = {0, 0, 0, 0}, total = 1;
    for (size_t i = 1; i < s->n_dim; i++) {
        if (s->dim[i]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || s->dim[i]->dim_value < 1 ||
            s->dim[i]->dim_value > NN_FORMAT_MAX_FEATURES || (total *= s->dim[i]->dim_value) > NN_FORMAT_MAX_FEATURES)
            return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: input '%.80s': dimension %zu must be a number from 1 "
                                                "and the input at most %lld values",
                            str(in->name), i, (long long)NN_FORMAT_MAX_FEATURES);
        d[i] = s->dim[i]->dim_value;
    }
    if (s->n_dim == 2) {
        im->layout = FLAT;
        im->f = d[1];
        im->in_rank = 1;
        im->in_shape[0] = d[1];
    } else {
        im->layout = NCHW;
        im->c = d[1], im->h = d[2], im->w = d[3];
        im->in_rank = 3;
        im->in_shape[0] = d[2], im->in_shape[1] = d[3], im->in_shape[2] = d[1];
    }
    im->at_input = 1;
    return NN_OK;
}

/* Constants: initializers, Constant nodes (their 'value'), Identity nodes on either. Everything else
 * goes to the chain. */
static nn_status collect(importer *im)
{
    const Onnx__GraphProto *g = im->g;
    if (g->n_node > NN_ONNX_MAX_NODES || g->n_initializer > NN_ONNX_MAX_INITIALIZERS)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: %zu nodes and %zu initializers; at most %d and %d",
                        g->n_node, g->n_initializer, NN_ONNX_MAX_NODES, NN_ONNX_MAX_INITIALIZERS);
    if (g->n_sparse_initializer) return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: sparse initializers");
    im->consts = own(im, (g->n_initializer + g->n_node + 1) * sizeof *im->consts);
    im->ops = own(im, (g->n_node + 1) * sizeof *im->ops);
    if (!im->consts || !im->ops) return oom();
    int64_t total = 0;
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        nn_status st = check_tensor(t, "initializer");
        if (st != NN_OK) return st;
        if (!t->name || !*t->name) return nn__fail(NN_ERR_FORMAT, "onnx import: initializer %zu has no name", i);
        if ((total += tensor_numel(t)) > NN_FORMAT_MAX_PARAMS)
            return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the initializers hold over %lld values",
                            (long long)NN_FORMAT_MAX_PARAMS);
        im->consts[im->n_consts++] = (constant){t->name, t};
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (!n->op_type) return nn__fail(NN_ERR_FORMAT, "onnx import: node %zu has no operator", i);
        if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)
            return node_fail(NN_ERR_UNSUPPORTED, n, "operator domain '", n->domain);
        if (n->n_output < 1 || !n->output[0] || !*n->output[0])
            return node_fail(NN_ERR_FORMAT, n, "has no output", NULL);
        if (!strcmp(n->op_type, "Constant")) {
            const Onnx__AttributeProto *a = attr(n, "value");
            if (!a || !a->t || n->n_attribute != 1)
                return node_fail(NN_ERR_UNSUPPORTED, n, "only Constant nodes with a 'value' tensor", NULL);
            nn_status st = check_tensor(a->t, "Constant");
            if (st != NN_OK) return st;
            if ((total += tensor_numel(a->t)) > NN_FORMAT_MAX_PARAMS)
                return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the constants hold over %lld values",
                                (long long)NN_FORMAT_MAX_PARAMS);
            im->consts[im->n_consts++] = (constant){n->output[0], a->t};
            continue;
        }
        const constant *c = !strcmp(n->op_type, "Identity") && n->n_input == 1 ? find_const(im, n->input[0]) : NULL;
        if (c) {
            im->consts[im->n_consts++] = (constant){n->output[0], c->t};
            continue;
        }
        im->ops[im->n_ops++] = n;
    }
    return NN_OK;
}

/* Tensor ids and their last readers, for the regions. */
static nn_status index_names(importer *im, size_t *graph_out)
{
    size_t total = 2;
    for (size_t i = 0; i < im->n_ops; i++) total += im->ops[i]->n_input + im->ops[i]->n_output;
    if (total > 16 * (size_t)NN_ONNX_MAX_NODES)
        return nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the nodes name %zu tensors, over %d", total,
                        16 * NN_ONNX_MAX_NODES);
    size_t cap = 16;
    while (cap < 2 * total) cap *= 2;
    im->names = own(im, total * sizeof *im->names);
    im->last_use = own(im, total * sizeof *im->last_use);
    im->hash = own(im, cap * sizeof *im->hash);
    if (!im->names || !im->last_use || !im->hash) return oom();
    memset(im->hash, 0, cap * sizeof *im->hash);
    im->hash_cap = cap;
    im->cap_names = total;
    name_id(im, im->input_name);
    for (size_t i = 0; i < im->n_ops; i++) {
        const Onnx__NodeProto *n = im->ops[i];
        for (size_t a = 0; a < n->n_input; a++)
            if (n->input[a] && *n->input[a]) im->last_use[name_id(im, n->input[a])] = (int64_t)i;
        for (size_t o = 0; o < n->n_output; o++) name_id(im, n->output[o]);
    }
    *graph_out = name_id(im, im->g->output[0]->name);
    im->last_use[*graph_out] = INT64_MAX; /* read after the last node: by the caller */
    return NN_OK;
}

/* The model from the plan; NN_OK with *out compiled and filled. */
static nn_status create(importer *im, nn_loss_kind loss, nn_model **out)
{
    nn_model *m = NULL;
    nn_status st = nn_model_create_shape(&m, im->in_rank, im->in_shape);
    for (int i = 0; i < im->n_layers && st == NN_OK; i++) {
        const plan *p = &im->layers[i];
        switch (p->kind) {
        case NN_LAYER_DENSE: st = nn_model_add_dense(m, p->units, p->act); break;
        case NN_LAYER_CONV2D: {
            nn_conv2d_options o = NN_CONV2D_OPTIONS_INIT;
            o.kernel_h = p->kh, o.kernel_w = p->kw, o.stride_h = p->sh, o.stride_w = p->sw;
            o.padding = NN_PADDING_EXPLICIT;
            o.pad_top = p->pt, o.pad_bottom = p->pb, o.pad_left = p->pl, o.pad_right = p->pr;
            st = nn_model_add_conv2d(m, p->units, p->act, &o);
            break;
        }
        case NN_LAYER_MAXPOOL2D:
        case NN_LAYER_AVGPOOL2D: {
            nn_pool2d_options o = NN_POOL2D_OPTIONS_INIT;
            o.pool_h = p->kh, o.pool_w = p->kw, o.stride_h = p->sh, o.stride_w = p->sw;
            o.padding = NN_PADDING_EXPLICIT;
            o.pad_top = p->pt, o.pad_bottom = p->pb, o.pad_left = p->pl, o.pad_right = p->pr;
            st = p->kind == NN_LAYER_MAXPOOL2D ? nn_model_add_maxpool2d(m, &o) : nn_model_add_avgpool2d(m, &o);
            break;
        }
        case NN_LAYER_GLOBAL_AVGPOOL2D: st = nn_model_add_global_avgpool2d(m); break;
        case NN_LAYER_FLATTEN: st = nn_model_add_flatten(m); break;
        case NN_LAYER_DROPOUT: st = nn_model_add_dropout(m, p->rate); break;
        case NN_LAYER_BATCHNORM: {
            nn_batchnorm_options o = NN_BATCHNORM_OPTIONS_INIT;
            o.momentum = p->momentum, o.epsilon = p->epsilon;
            st = nn_model_add_batchnorm(m, &o);
            break;
        }
        case NN_LAYER_ACTIVATION: st = nn_model_add_activation(m, p->act); break;
        }
        if (st != NN_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", nn_last_error());
            st = nn__fail(st, "onnx import: layer %d: %s", i, why);
        }
    }
    if (st == NN_OK) st = nn_model_compile(m, loss, NULL);
    for (int i = 0; i < im->n_layers && st == NN_OK; i++) {
        const nn__layer *l = nn__model_layer(m, i);
        const plan *p = &im->layers[i];
        for (int k = 0; k < l->ntensors; k++) {
            int64_t n = 1;
            for (int d = 0; d < l->spec[k].rank; d++) n *= l->spec[k].shape[d];
            if (!p->t[k]) {
                st = nn__fail(NN_ERR_STATE, "onnx import: layer %d: tensor %s was not read", i, l->spec[k].name);
                break;
            }
            for (int64_t e = 0; e < n; e++)
                if (!isfinite(p->t[k][e])) {
                    st = nn__fail(NN_ERR_NUMERIC, "onnx import: layer %d (%s): tensor %s holds NaN or infinity", i,
                                  l->ops->name, l->spec[k].name);
                    break;
                }
            if (st != NN_OK) break;
            memcpy(l->t[k], p->t[k], (size_t)n * sizeof(float));
        }
    }
    if (st != NN_OK) {
        nn_model_free(m);
        return st;
    }
    *out = m;
    return NN_OK;
}

static nn_status import(const Onnx__ModelProto *mp, const nn_onnx_options *o, nn_model **out)
{
    importer im;
    memset(&im, 0, sizeof im);
    im.mp = mp;
    im.g = mp->graph;
    im.opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const char *d = str(mp->opset_import[i]->domain);
        if (!*d || !strcmp(d, "ai.onnx")) im.opset = mp->opset_import[i]->version;
    }
    nn_status st = NN_OK;
    if (!im.g) st = nn__fail(NN_ERR_FORMAT, "onnx import: the model has no graph");
    else if (im.opset < NN_ONNX_OPSET_MIN || im.opset > NN_ONNX_OPSET_MAX)
        st = nn__fail(NN_ERR_UNSUPPORTED, "onnx import: opset %lld of the default domain; libnn reads %d to %d",
                      (long long)im.opset, NN_ONNX_OPSET_MIN, NN_ONNX_OPSET_MAX);
    else if (im.g->n_output != 1 || !im.g->output[0]->name)
        st = nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the graph has %zu outputs; libnn models have one",
                      im.g->n_output);
    if (st == NN_OK) st = collect(&im);
    if (st == NN_OK) st = read_input(&im);
    size_t graph_out = 0;
    if (st == NN_OK) st = index_names(&im, &graph_out);
    if (st == NN_OK) st = walk(&im, graph_out);
    if (st == NN_OK && im.n_layers == 0)
        st = nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the graph computes nothing libnn has a layer for");
    if (st == NN_OK && im.layers[im.n_layers - 1].kind == NN_LAYER_DENSE) close_bias(&im);
    nn_loss_kind loss = NN_LOSS_SOFTMAX_CROSS_ENTROPY;
    if (st == NN_OK) {
        if (o->loss != NN_ONNX_LOSS_AUTO) {
            if (!nn_loss_name((nn_loss_kind)o->loss))
                st = nn__fail(NN_ERR_INVALID_ARGUMENT, "onnx import: unknown loss %d", o->loss);
            else if (im.softmax && o->loss != NN_LOSS_SOFTMAX_CROSS_ENTROPY)
                st = nn__fail(NN_ERR_UNSUPPORTED, "onnx import: the graph ends in Softmax, which only a softmax "
                                                  "cross-entropy model computes");
            loss = (nn_loss_kind)o->loss;
        } else if (!im.softmax) {
            for (size_t i = 0; i < mp->n_metadata_props; i++)
                if (mp->metadata_props[i]->key && !strcmp(mp->metadata_props[i]->key, "libnn.loss") &&
                    mp->metadata_props[i]->value && !strcmp(mp->metadata_props[i]->value, nn_loss_name(NN_LOSS_MSE)))
                    loss = NN_LOSS_MSE;
        }
    }
    if (st == NN_OK) st = create(&im, loss, out);
    for (size_t i = 0; i < im.n_owned; i++) free(im.owned[i]);
    free(im.owned);
    return st;
}

static nn_status load(nn_model **out, const uint8_t *data, size_t size, const nn_onnx_options *opts, const char *who)
{
    nn_onnx_options o;
    nn_status st = nn__onnx_options_take(&o, opts, who);
    if (st != NN_OK) return st;
    Onnx__ModelProto *mp;
    if ((st = nn__onnx_unpack(&mp, data, size)) != NN_OK) return st;
    st = import(mp, &o, out);
    nn__onnx_model_free(mp);
    return st;
}

nn_status nn_model_load_onnx_buffer(nn_model **out, const void *data, size_t size, const nn_onnx_options *opts)
{
    const char *who = "nn_model_load_onnx_buffer";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    if (!data && size) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: data is NULL", who);
    if ((uint64_t)size > (uint64_t)NN_ONNX_MAX_BYTES)
        return nn__fail(NN_ERR_UNSUPPORTED, "%s: %zu bytes, over ONNX's limit of 2 GiB", who, size);
    return load(out, data, size, opts, who);
}

nn_status nn_model_load_onnx(nn_model **out, const char *path, const nn_onnx_options *opts)
{
    const char *who = "nn_model_load_onnx";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    if (!path) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: path is NULL", who);
    nnio_src src;
    nn_status st = nnio_src_open(&src, path);
    if (st != NN_OK) return st;
    uint8_t *buf = NULL;
    if (src.size > (uint64_t)NN_ONNX_MAX_BYTES)
        st = nn__fail(NN_ERR_UNSUPPORTED, "%s: '%s' has %llu bytes, over ONNX's limit of 2 GiB", who, path,
                      (unsigned long long)src.size);
    else if (!(buf = malloc(src.size ? (size_t)src.size : 1)))
        st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory for %llu bytes", who, (unsigned long long)src.size);
    else
        st = nnio_src_read(&src, buf, (size_t)src.size);
    nnio_src_close(&src);
    if (st == NN_OK) st = load(out, buf, (size_t)src.size, opts, who);
    free(buf);
    return st;
}
