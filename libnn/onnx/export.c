/* A libnn model as an ONNX model of opset 13 (docs/onnx.md).
 *
 * The graph is laid out as PyTorch lays its graphs out: images channels first (N, C, H, W), so that
 * runtimes and tools that expect PyTorch's layout take it as it is. libnn keeps images channels last;
 * the conversions are the convolution kernel, (kh, kw, C, F) to (F, C, kh, kw), and the flatten of an
 * image, which becomes Transpose to channels last then Flatten, so that the dense layer after it keeps
 * libnn's weights (permuting that layer's rows instead would not cover a batch norm or the model's end
 * after the flatten). Settings come from each kind's settings block (docs/model-format.md), the one
 * description of a layer the kinds publish; tensors from the layer's own views. */
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/le.h"
#include "model_internal.h"
#include "onnx_internal.h"

#define MAX_NODES 2048 /* 64 layers of at most 11 nodes (gelu_tanh after a dense) and the end */
#define MAX_INITS 1024

typedef struct exporter {
    nn__arena a;
    Onnx__NodeProto **nodes;
    size_t n_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits;
    int serial;      /* tensor names: t<serial>_<what> */
    const char *cur; /* the tensor the next node reads */
    const char *who;
} exporter;

int nn_onnx_available(void) { return 1; }

static const char *fresh(exporter *e, const char *base, const char *what)
{
    return nn__arena_printf(&e->a, "%s.%s_%d", base, what, e->serial++);
}

static char **names(exporter *e, size_t n, const char *const *v)
{
    char **out = nn__arena_alloc(&e->a, n * sizeof *out);
    for (size_t i = 0; out && i < n; i++) out[i] = (char *)v[i];
    return out;
}

/* A node reading `in` (n_in names) and writing one new tensor, which becomes e->cur. */
static Onnx__NodeProto *node(exporter *e, const char *op, const char *name, size_t n_in, const char *const *in,
                             const char *out)
{
    Onnx__NodeProto *n = nn__arena_alloc(&e->a, sizeof *n);
    if (!n || e->n_nodes >= MAX_NODES) {
        e->a.oom = 1;
        return NULL;
    }
    onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = (char *)name;
    n->n_input = n_in;
    n->input = names(e, n_in, in);
    n->n_output = 1;
    n->output = names(e, 1, &out);
    e->nodes[e->n_nodes++] = n;
    e->cur = out;
    return n;
}

static Onnx__AttributeProto *attr(exporter *e, Onnx__NodeProto *n, const char *name)
{
    if (!n) return NULL;
    Onnx__AttributeProto *a = nn__arena_alloc(&e->a, sizeof *a);
    Onnx__AttributeProto **list = nn__arena_alloc(&e->a, (n->n_attribute + 1) * sizeof *list);
    if (!a || !list) return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    if (n->n_attribute) memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = a;
    n->attribute = list;
    return a;
}

static void attr_int(exporter *e, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(e, n, name);
    if (!a) return;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
}

static void attr_float(exporter *e, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(e, n, name);
    if (!a) return;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1;
    a->f = v;
}

static void attr_ints(exporter *e, Onnx__NodeProto *n, const char *name, size_t count, const int64_t *v)
{
    Onnx__AttributeProto *a = attr(e, n, name);
    int64_t *copy = nn__arena_alloc(&e->a, count * sizeof *copy);
    if (!a || !copy) return;
    memcpy(copy, v, count * sizeof *copy);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = count;
    a->ints = copy;
}

/* A float initializer of `rank` dims; data is taken in the given order, little-endian in raw_data.
 * src_index maps each destination element to its source (NULL: the same order). */
static const char *init_floats(exporter *e, const char *name, int rank, const int64_t *dims, const float *data,
                               const size_t *src_index)
{
    Onnx__TensorProto *t = nn__arena_alloc(&e->a, sizeof *t);
    int64_t *d = nn__arena_alloc(&e->a, (size_t)(rank ? rank : 1) * sizeof *d);
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    uint8_t *raw = nn__arena_alloc(&e->a, n * 4);
    if (!t || !d || !raw || e->n_inits >= MAX_INITS) {
        e->a.oom = 1;
        return name;
    }
    onnx__tensor_proto__init(t);
    if (rank) memcpy(d, dims, (size_t)rank * sizeof *d);
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &data[src_index ? src_index[i] : i], 4);
        nnio_store_u32(raw + 4 * i, u);
    }
    t->name = (char *)name;
    t->n_dims = (size_t)rank;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = NN__ONNX_FLOAT;
    t->has_raw_data = 1;
    t->raw_data.len = n * 4;
    t->raw_data.data = raw;
    e->inits[e->n_inits++] = t;
    return name;
}

static const char *scalar(exporter *e, const char *base, const char *what, float v)
{
    return init_floats(e, fresh(e, base, what), 0, NULL, &v, NULL);
}

static void unary(exporter *e, const char *op, const char *base)
{
    const char *in[] = {e->cur};
    node(e, op, fresh(e, base, op), 1, in, fresh(e, base, op));
}

static void binary(exporter *e, const char *op, const char *base, const char *a, const char *b)
{
    const char *in[] = {a, b};
    node(e, op, fresh(e, base, op), 2, in, fresh(e, base, op));
}

/* The activation act on e->cur, in opset 13's operators. gelu, gelu_tanh and silu have no operator
 * there (Gelu came in opset 20): they are written in primitives, in the forms PyTorch writes, which
 * the importer recognises by what they compute. */
static void activation(exporter *e, nn_activation act, const char *base)
{
    const char *x = e->cur;
    Onnx__NodeProto *n;
    switch (act.kind) {
    case NN_ACT_LINEAR: break;
    case NN_ACT_RELU: unary(e, "Relu", base); break;
    case NN_ACT_SIGMOID: unary(e, "Sigmoid", base); break;
    case NN_ACT_TANH: unary(e, "Tanh", base); break;
    case NN_ACT_SOFTPLUS: unary(e, "Softplus", base); break;
    case NN_ACT_SELU: unary(e, "Selu", base); break; /* ONNX's default alpha and gamma are libnn's constants */
    case NN_ACT_LEAKY_RELU:
    case NN_ACT_ELU:
        unary(e, act.kind == NN_ACT_ELU ? "Elu" : "LeakyRelu", base);
        n = e->nodes[e->n_nodes - 1];
        attr_float(e, n, "alpha", act.alpha);
        break;
    case NN_ACT_GELU: /* x * 0.5 * (1 + erf(x / sqrt 2)) */
        binary(e, "Div", base, x, scalar(e, base, "sqrt2", 1.41421356237309504880f));
        unary(e, "Erf", base);
        binary(e, "Add", base, e->cur, scalar(e, base, "one", 1.0f));
        binary(e, "Mul", base, x, e->cur);
        binary(e, "Mul", base, e->cur, scalar(e, base, "half", 0.5f));
        break;
    case NN_ACT_GELU_TANH: { /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
        binary(e, "Mul", base, x, x);
        binary(e, "Mul", base, e->cur, x);
        binary(e, "Mul", base, e->cur, scalar(e, base, "kappa", 0.044715f));
        binary(e, "Add", base, x, e->cur);
        binary(e, "Mul", base, e->cur, scalar(e, base, "beta", 0.79788456080286535588f));
        unary(e, "Tanh", base);
        binary(e, "Add", base, e->cur, scalar(e, base, "one", 1.0f));
        binary(e, "Mul", base, x, e->cur);
        binary(e, "Mul", base, e->cur, scalar(e, base, "half", 0.5f));
        break;
    }
    case NN_ACT_SILU: {
        unary(e, "Sigmoid", base);
        binary(e, "Mul", base, x, e->cur);
        break;
    }
    }
}

/* A kind's settings block (docs/model-format.md, "Layer settings") as 32-bit words after `skip`
 * bytes: conv2d is i64 filters, then kh kw sh sw padding pt pb pl pr use_bias weight_init bias_init;
 * the pools ph pw sh sw padding pt pb pl pr; batch norm f32 momentum, epsilon; dropout f32 rate. The
 * padding words hold the resolved padding (same padding is computed when the layer is set up). */
static int settings(const nn__layer *l, size_t skip, uint32_t *w, size_t n)
{
    nnio_buf b = {0};
    l->ops->write_settings(l, &b);
    int ok = !b.oom && b.len >= skip + 4 * n;
    for (size_t i = 0; ok && i < n; i++) w[i] = nnio_load_u32(b.data + skip + 4 * i);
    nnio_buf_free(&b);
    return ok;
}

static float word_f32(uint32_t w)
{
    float f;
    memcpy(&f, &w, sizeof f);
    return f;
}

static void window_attrs(exporter *e, Onnx__NodeProto *n, const uint32_t *w)
{
    /* w: kh kw sh sw padding pt pb pl pr; ONNX pads are (top, left, bottom, right). */
    int64_t k[] = {(int32_t)w[0], (int32_t)w[1]}, s[] = {(int32_t)w[2], (int32_t)w[3]};
    int64_t pads[] = {(int32_t)w[5], (int32_t)w[7], (int32_t)w[6], (int32_t)w[8]};
    attr_ints(e, n, "kernel_shape", 2, k);
    attr_ints(e, n, "strides", 2, s);
    attr_ints(e, n, "pads", 4, pads);
}

static nn_status export_layer(exporter *e, const nn__layer *l, int i)
{
    const char *base = nn__arena_printf(&e->a, "l%d_%s", i, l->ops->name);
    if (!base) return NN_ERR_NO_MEMORY;
    const nn__shape *in = &l->in;
    uint32_t w[13];
    const char *cur = e->cur;
    Onnx__NodeProto *n;
    switch (l->ops->kind) {
    case NN_LAYER_DENSE: {
        /* Gemm with transB = 1 and B (out, in), libnn's kernel (in, out) transposed: PyTorch's form,
         * which every runtime reads (OpenCV 4.6 takes no other with a bias). */
        int64_t K = l->spec[0].shape[0], N = l->spec[0].shape[1], kd[] = {N, K};
        size_t *idx = nn__arena_alloc(&e->a, (size_t)(K * N) * sizeof *idx);
        if (!idx) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", e->who);
        for (int64_t o = 0; o < N; o++)
            for (int64_t k = 0; k < K; k++) idx[o * K + k] = (size_t)(k * N + o);
        const char *in3[] = {cur, init_floats(e, nn__arena_printf(&e->a, "%s.kernel", base), 2, kd, l->t[0], idx),
                             init_floats(e, nn__arena_printf(&e->a, "%s.bias", base), 1, kd, l->t[1], NULL)};
        n = node(e, "Gemm", base, 3, in3, fresh(e, base, "Gemm"));
        attr_int(e, n, "transB", 1);
        activation(e, l->act, base);
        break;
    }
    case NN_LAYER_CONV2D: {
        if (!settings(l, 8, w, 12)) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", e->who);
        int64_t kh = l->spec[0].shape[0], kw = l->spec[0].shape[1], C = l->spec[0].shape[2], F = l->spec[0].shape[3];
        /* (kh, kw, C, F) to ONNX's (F, C, kh, kw). */
        size_t count = (size_t)(kh * kw * C * F), *idx = nn__arena_alloc(&e->a, count * sizeof *idx);
        if (!idx) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", e->who);
        for (int64_t f = 0; f < F; f++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t y = 0; y < kh; y++)
                    for (int64_t x = 0; x < kw; x++)
                        idx[((f * C + c) * kh + y) * kw + x] = (size_t)(((y * kw + x) * C + c) * F + f);
        int64_t kd[] = {F, C, kh, kw};
        const char *in3[] = {cur, init_floats(e, nn__arena_printf(&e->a, "%s.kernel", base), 4, kd, l->t[0], idx),
                             NULL};
        if (l->ntensors > 1) in3[2] = init_floats(e, nn__arena_printf(&e->a, "%s.bias", base), 1, kd, l->t[1], NULL);
        n = node(e, "Conv", base, l->ntensors > 1 ? 3 : 2, in3, fresh(e, base, "Conv"));
        window_attrs(e, n, w);
        int64_t ones[] = {1, 1};
        attr_ints(e, n, "dilations", 2, ones);
        attr_int(e, n, "group", 1);
        activation(e, l->act, base);
        break;
    }
    case NN_LAYER_MAXPOOL2D:
    case NN_LAYER_AVGPOOL2D: {
        if (!settings(l, 0, w, 9)) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", e->who);
        int is_max = l->ops->kind == NN_LAYER_MAXPOOL2D;
        const char *in1[] = {cur};
        n = node(e, is_max ? "MaxPool" : "AveragePool", base, 1, in1, fresh(e, base, "Pool"));
        window_attrs(e, n, w);
        /* libnn averages only the pixels inside the image; padding never wins a maximum (ONNX's rule). */
        if (!is_max) attr_int(e, n, "count_include_pad", 0);
        break;
    }
    case NN_LAYER_GLOBAL_AVGPOOL2D: {
        unary(e, "GlobalAveragePool", base);
        n = node(e, "Flatten", fresh(e, base, "Flatten"), 1, &e->cur, fresh(e, base, "Flatten"));
        attr_int(e, n, "axis", 1);
        break;
    }
    case NN_LAYER_FLATTEN: {
        if (in->rank != 3) break; /* already flat: nothing to do */
        if (in->dim[2] > 1 && in->dim[0] * in->dim[1] > 1) {
            /* Back to channels last, so that the flat order is libnn's (see the top of this file). */
            static const int64_t perm[] = {0, 2, 3, 1};
            n = node(e, "Transpose", fresh(e, base, "Transpose"), 1, &e->cur, fresh(e, base, "Transpose"));
            attr_ints(e, n, "perm", 4, perm);
        }
        n = node(e, "Flatten", base, 1, &e->cur, fresh(e, base, "Flatten"));
        attr_int(e, n, "axis", 1);
        break;
    }
    case NN_LAYER_DROPOUT: {
        if (!settings(l, 0, w, 1)) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", e->who);
        /* The identity in inference (training_mode absent); the rate is kept for a round trip. */
        const char *in2[] = {cur, scalar(e, base, "ratio", word_f32(w[0]))};
        node(e, "Dropout", base, 2, in2, fresh(e, base, "Dropout"));
        break;
    }
    case NN_LAYER_BATCHNORM: {
        if (!settings(l, 0, w, 2)) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", e->who);
        const char *in5[5] = {cur};
        for (int k = 0; k < 4; k++)
            in5[k + 1] = init_floats(e, nn__arena_printf(&e->a, "%s.%s", base, l->spec[k].name), 1, l->spec[k].shape,
                                     l->t[k], NULL);
        /* ONNX's momentum is Keras' and libnn's: moving = moving * momentum + batch * (1 - momentum). */
        n = node(e, "BatchNormalization", base, 5, in5, fresh(e, base, "BatchNormalization"));
        attr_float(e, n, "epsilon", word_f32(w[1]));
        attr_float(e, n, "momentum", word_f32(w[0]));
        break;
    }
    case NN_LAYER_ACTIVATION: activation(e, l->act, base); break;
    default:
        return nn__fail(NN_ERR_UNSUPPORTED, "%s: layer %d (%s) has no ONNX form in this version", e->who, i,
                        l->ops->name);
    }
    return e->a.oom ? nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", e->who) : NN_OK;
}

/* A float tensor type of shape (N, dims...), N symbolic. */
static Onnx__ValueInfoProto *value_info(exporter *e, const char *name, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = nn__arena_alloc(&e->a, sizeof *v);
    Onnx__TypeProto *t = nn__arena_alloc(&e->a, sizeof *t);
    Onnx__TypeProto__Tensor *tt = nn__arena_alloc(&e->a, sizeof *tt);
    Onnx__TensorShapeProto *s = nn__arena_alloc(&e->a, sizeof *s);
    Onnx__TensorShapeProto__Dimension **d = nn__arena_alloc(&e->a, (size_t)(rank + 1) * sizeof *d);
    if (!v || !t || !tt || !s || !d) return NULL;
    for (int i = 0; i <= rank; i++) {
        d[i] = nn__arena_alloc(&e->a, sizeof **d);
        if (!d[i]) return NULL;
        onnx__tensor_shape_proto__dimension__init(d[i]);
        if (i == 0) {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d[i]->dim_param = "N";
        } else {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[i]->dim_value = dims[i - 1];
        }
    }
    onnx__tensor_shape_proto__init(s);
    s->n_dim = (size_t)rank + 1;
    s->dim = d;
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = NN__ONNX_FLOAT;
    tt->shape = s;
    onnx__type_proto__init(t);
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    onnx__value_info_proto__init(v);
    v->name = (char *)name;
    v->type = t;
    return v;
}

/* ONNX's (C, H, W) of libnn's (H, W, C), or (F). */
static int onnx_dims(const nn__shape *s, int64_t *dims)
{
    if (s->rank == 3) {
        dims[0] = s->dim[2];
        dims[1] = s->dim[0];
        dims[2] = s->dim[1];
        return 3;
    }
    dims[0] = s->dim[0];
    return 1;
}

static nn_status check_options(const nn_onnx_options *o, const char *who)
{
    if (o->opset != 0 && o->opset != NN_ONNX_OPSET)
        return nn__fail(NN_ERR_UNSUPPORTED, "%s: opset %d; this version writes opset %d only", who, o->opset,
                        NN_ONNX_OPSET);
    if (o->meta_count == 0) return NN_OK;
    if (!o->meta_keys || !o->meta_values || o->meta_count > NN_FORMAT_MAX_META)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: meta_count is %zu with keys or values NULL, or over %d", who,
                        o->meta_count, NN_FORMAT_MAX_META);
    for (size_t i = 0; i < o->meta_count; i++) {
        const char *k = o->meta_keys[i];
        if (!k || !*k || !o->meta_values[i])
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: metadata entry %zu is NULL or has an empty key", who, i);
        if (strncmp(k, "libnn.", 6) == 0)
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: metadata key '%s': the prefix libnn. is the library's", who,
                            k);
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->meta_keys[j], k) == 0)
                return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: duplicate metadata key '%s'", who, k);
    }
    return NN_OK;
}

static nn_status build(const nn_model *m, const nn_onnx_options *o, void **out, size_t *size, const char *who)
{
    exporter e = {.who = who};
    e.nodes = nn__arena_alloc(&e.a, MAX_NODES * sizeof *e.nodes);
    e.inits = nn__arena_alloc(&e.a, MAX_INITS * sizeof *e.inits);
    if (!e.nodes || !e.inits) {
        nn__arena_free(&e.a);
        return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    }
    const nn__shape *shape = nn__model_input(m);
    int nl = nn_model_layer_count(m);
    nn_status st = NN_OK;
    for (int i = 0; i < nl && st == NN_OK; i++) {
        const nn__shape *s = &nn__model_layer(m, i)->in;
        if (s->rank == 2)
            st = nn__fail(NN_ERR_UNSUPPORTED, "%s: layer %d takes (length, channels) inputs, which have no ONNX "
                                              "form in this version",
                          who, i);
    }
    int64_t in_dims[3], out_dims[3];
    int in_rank = onnx_dims(shape, in_dims);
    e.cur = "input";
    for (int i = 0; i < nl && st == NN_OK; i++) st = export_layer(&e, nn__model_layer(m, i), i);
    nn_loss_kind loss = nn_model_get_loss(m);
    const char *out_name = loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY ? (o->softmax ? "probabilities" : "logits") : "output";
    if (st == NN_OK && loss == NN_LOSS_SOFTMAX_CROSS_ENTROPY && o->softmax) {
        Onnx__NodeProto *n = node(&e, "Softmax", "softmax", 1, &e.cur, out_name);
        attr_int(&e, n, "axis", 1);
    }
    if (st == NN_OK && e.n_nodes == 0) node(&e, "Identity", "identity", 1, &e.cur, out_name);
    if (st == NN_OK) e.nodes[e.n_nodes - 1]->output[0] = (char *)out_name;
    int out_rank = onnx_dims(&nn__model_layer(m, nl - 1)->out, out_dims);

    char input_shape[96];
    if (shape->rank == 3)
        snprintf(input_shape, sizeof input_shape, "%lld,%lld,%lld", (long long)shape->dim[0], (long long)shape->dim[1],
                 (long long)shape->dim[2]);
    else
        snprintf(input_shape, sizeof input_shape, "%lld", (long long)shape->dim[0]);
    const char *keys[] = {"libnn.version", "libnn.loss", "libnn.input_shape"};
    const char *values[] = {nn_version(), nn_loss_name(loss), input_shape};
    size_t n_meta = 3 + o->meta_count;
    Onnx__StringStringEntryProto **meta = nn__arena_alloc(&e.a, n_meta * sizeof *meta);
    for (size_t i = 0; meta && i < n_meta; i++) {
        meta[i] = nn__arena_alloc(&e.a, sizeof **meta);
        if (!meta[i]) break;
        onnx__string_string_entry_proto__init(meta[i]);
        meta[i]->key = (char *)(i < 3 ? keys[i] : o->meta_keys[i - 3]);
        meta[i]->value = (char *)(i < 3 ? values[i] : o->meta_values[i - 3]);
        meta[i]->value = nn__arena_printf(&e.a, "%s", meta[i]->value);
    }

    Onnx__ValueInfoProto *vin = value_info(&e, "input", in_rank, in_dims);
    Onnx__ValueInfoProto *vout = value_info(&e, out_name, out_rank, out_dims);
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[] = {&opset};
    opset.domain = "";
    opset.has_version = 1;
    opset.version = NN_ONNX_OPSET;
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "libnn";
    g.n_node = e.n_nodes;
    g.node = e.nodes;
    g.n_initializer = e.n_inits;
    g.initializer = e.inits;
    g.n_input = 1;
    g.input = &vin;
    g.n_output = 1;
    g.output = &vout;
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    mp.has_ir_version = 1;
    mp.ir_version = 7; /* the IR version that came with opset 13 (ONNX 1.8) */
    mp.n_opset_import = 1;
    mp.opset_import = opsets;
    mp.producer_name = "libnn";
    mp.producer_version = (char *)nn_version();
    mp.graph = &g;
    mp.n_metadata_props = n_meta;
    mp.metadata_props = meta;
    if (st == NN_OK && e.a.oom) st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    if (st == NN_OK && (!vin || !vout || !meta)) st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    if (st == NN_OK) {
        size_t len = onnx__model_proto__get_packed_size(&mp);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
            st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory for %zu bytes", who, len);
        } else {
            onnx__model_proto__pack(&mp, buf);
            *out = buf;
            *size = len;
        }
    }
    nn__arena_free(&e.a);
    return st;
}

static nn_status prepare(const nn_model *m, const nn_onnx_options *opts, nn_onnx_options *o, const char *who)
{
    if (!m) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: model is NULL", who);
    nn_status st = nn__onnx_options_take(o, opts, who);
    if (st != NN_OK) return st;
    /* Tensors live in the model's memory only once it is compiled; the copy of zero values says
     * whether it is (NN_ERR_STATE) without copying anything. */
    float none;
    if (nn_model_layer_count(m) == 0 || nn_model_get_params(m, &none, 0) == NN_ERR_STATE)
        return nn__fail(NN_ERR_STATE, "%s: the model is not compiled", who);
    return check_options(o, who);
}

nn_status nn_model_save_onnx_buffer(const nn_model *m, void **out, size_t *size, const nn_onnx_options *opts)
{
    const char *who = "nn_model_save_onnx_buffer";
    if (!out || !size) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out or size is NULL", who);
    *out = NULL;
    *size = 0;
    nn_onnx_options o;
    nn_status st = prepare(m, opts, &o, who);
    return st != NN_OK ? st : build(m, &o, out, size, who);
}

nn_status nn_model_save_onnx(const nn_model *m, const char *path, const nn_onnx_options *opts)
{
    const char *who = "nn_model_save_onnx";
    if (!path || !*path) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: path is NULL or empty", who);
    nn_onnx_options o;
    nn_status st = prepare(m, opts, &o, who);
    void *buf = NULL;
    size_t len = 0;
    if (st == NN_OK) st = build(m, &o, &buf, &len, who);
    if (st == NN_OK) st = nnio_write_atomic(path, buf, len);
    free(buf);
    return st;
}
