/* 2-D convolution on channels-last images: y = act(conv(x, K) + b), K (kh, kw, C, F) as Keras'.
 *
 * Forward is im2col + one GEMM over the whole batch (libnn/cpu/conv.c); backward is the same two
 * products transposed, and col2im for the input gradient. The column matrix lives in the workspace,
 * kept from forward to backward, where it is reused for the column gradient once the kernel gradient
 * has been taken from it. */
#include <stdio.h>
#include <string.h>

#include "layer.h"

typedef struct conv2d_config {
    int64_t filters;
    int32_t kh, kw, sh, sw;
    int32_t padding;
    int32_t pt, pb, pl, pr; /* explicit padding; for same, computed by infer */
    int32_t use_bias;
    int32_t weight_init, bias_init;
} conv2d_config;
NN__CONFIG_FITS(conv2d_config);

enum { KERNEL, BIAS };
#define MAX_WINDOW 64

static const size_t conv2d_options_sizes[] = {sizeof(nn_conv2d_options)};
static const nn_conv2d_options conv2d_defaults = NN_CONV2D_OPTIONS_INIT;

nn_status nn_conv2d_options_init(nn_conv2d_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &conv2d_defaults, conv2d_options_sizes, NN_CONV2D_OPTIONS_VERSION,
                            "nn_conv2d_options_init");
}

/* Output extent and the padding before it, along one axis. */
nn_status nn__window_axis(int64_t in, int32_t k, int32_t stride, int32_t padding, int32_t *before, int32_t *after,
                          int64_t *out, const char *who, const char *axis)
{
    if (k < 1 || k > MAX_WINDOW || stride < 1 || stride > MAX_WINDOW)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s window %d and stride %d must be 1 to %d", who, axis, (int)k,
                        (int)stride, MAX_WINDOW);
    if (padding == NN_PADDING_VALID) {
        *before = *after = 0;
    } else if (padding == NN_PADDING_SAME) {
        /* TensorFlow's rule: out = ceil(in / stride), the odd pixel of padding at the end. */
        int64_t o = (in + stride - 1) / stride, total = (o - 1) * stride + k - in;
        if (total < 0) total = 0;
        *before = (int32_t)(total / 2);
        *after = (int32_t)(total - total / 2);
    } else if (padding != NN_PADDING_EXPLICIT) {
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: unknown padding %d", who, (int)padding);
    }
    /* A pad as wide as the window would make windows of padding only. */
    if (*before < 0 || *after < 0 || *before >= k || *after >= k)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s padding %d and %d must be 0 to %d (smaller than the window)",
                        who, axis, (int)*before, (int)*after, (int)k - 1);
    if (in + *before + *after < k)
        return nn__fail(NN_ERR_SHAPE, "%s: %s window %d is larger than the padded input (%lld)", who, axis, (int)k,
                        (long long)(in + *before + *after));
    *out = (in + *before + *after - k) / stride + 1;
    return NN_OK;
}

static void geometry(const nn__layer *l, nn__conv_geom *g)
{
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    g->h = l->in.dim[0];
    g->w = l->in.dim[1];
    g->c = l->in.dim[2];
    g->kh = c->kh;
    g->kw = c->kw;
    g->sh = c->sh;
    g->sw = c->sw;
    g->pt = c->pt;
    g->pl = c->pl;
    g->oh = l->out.dim[0];
    g->ow = l->out.dim[1];
}

static nn_status conv2d_infer(nn__layer *l, const char *who)
{
    conv2d_config *c = NN__CONFIG(l, conv2d_config);
    if (l->in.rank != 3) {
        char shape[64];
        nn__shape_text(&l->in, shape, sizeof shape);
        return nn__fail(NN_ERR_SHAPE, "%s: conv2d input %s must be (height, width, channels)", who, shape);
    }
    if (c->filters < 1 || c->filters > NN__MAX_FILTERS)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: conv2d filters is %lld, must be 1 to %d", who,
                        (long long)c->filters, NN__MAX_FILTERS);
    if (!nn_init_name((nn_init)c->weight_init) || !nn_init_name((nn_init)c->bias_init))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: conv2d: unknown initialiser", who);
    int64_t oh, ow;
    nn_status st = nn__window_axis(l->in.dim[0], c->kh, c->sh, c->padding, &c->pt, &c->pb, &oh, who, "conv2d height");
    if (st == NN_OK)
        st = nn__window_axis(l->in.dim[1], c->kw, c->sw, c->padding, &c->pl, &c->pr, &ow, who, "conv2d width");
    if (st != NN_OK) return st;
    l->out.rank = 3;
    l->out.dim[0] = oh;
    l->out.dim[1] = ow;
    l->out.dim[2] = c->filters;
    return NN_OK;
}

static int conv2d_tensors(const nn__layer *l, nn__tensor_spec *t)
{
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    int64_t C = l->in.dim[2], F = c->filters, area = (int64_t)c->kh * c->kw;
    /* Keras' fans for a convolution: the receptive field times the channels in, or the filters out. */
    t[KERNEL] = (nn__tensor_spec){"kernel", 4, {c->kh, c->kw, C, F}, 1, (nn_init)c->weight_init, area * C, area * F};
    if (!c->use_bias) return 1;
    t[BIAS] = (nn__tensor_spec){"bias", 1, {F}, 1, (nn_init)c->bias_init, area * C, area * F};
    return 2;
}

static int64_t patch(const nn__layer *l)
{
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    return (int64_t)c->kh * c->kw * l->in.dim[2];
}

static int64_t pixels(const nn__layer *l) { return l->out.dim[0] * l->out.dim[1]; }

static int keeps_pre(const nn__layer *l) { return l->act.kind != NN_ACT_LINEAR; }

static void conv2d_workspace(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints)
{
    size_t cols = (size_t)(batch * pixels(l) * patch(l));
    *floats = cols + (keeps_pre(l) ? (size_t)(batch * nn__shape_numel(&l->out)) : 0);
    *ints = 0;
}

static float *pre_of(const nn__layer *l, int64_t batch, float *y)
{
    return keeps_pre(l) ? l->ws + batch * pixels(l) * patch(l) : y;
}

static void conv2d_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    nn__conv_geom g;
    geometry(l, &g);
    int64_t rows = p->batch * pixels(l), k = patch(l), F = c->filters;
    float *cols = l->ws, *pre = pre_of(l, p->batch, y);
    nn__im2col(&g, p->batch, x, cols);
    if (c->use_bias)
        nn__bias_rows(rows, F, l->t[BIAS], pre);
    nn__gemm(0, 0, rows, F, k, 1.0f, cols, k, l->t[KERNEL], F, c->use_bias ? 1.0f : 0.0f, pre, F);
    if (keeps_pre(l)) nn__act_forward(l->act, y, pre, (size_t)(rows * F));
}

static int conv2d_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    (void)x;
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    int64_t rows = p->batch * pixels(l), k = patch(l), F = c->filters;
    float *cols = l->ws;
    if (keeps_pre(l)) nn__act_backward(l->act, dy, dy, pre_of(l, p->batch, (float *)y), y, (size_t)(rows * F));
    /* dK (k, F) = cols^T dpre; db = column sums of dpre; dcols = dpre K^T, into the columns' place. */
    nn__gemm(1, 0, k, F, rows, 1.0f, cols, k, dy, F, 0.0f, l->grad[KERNEL], F);
    if (c->use_bias) nn__col_sums(rows, F, dy, l->grad[BIAS]);
    uint32_t d_bits = nn__max_abs_bits(dy, (size_t)(rows * F)), a_bits = nn__max_abs_bits(cols, (size_t)(rows * k));
    if (dx) {
        nn__conv_geom g;
        geometry(l, &g);
        nn__gemm(0, 1, rows, k, F, 1.0f, dy, F, l->t[KERNEL], F, 0.0f, cols, k);
        nn__col2im(&g, p->batch, cols, dx);
    }
    /* As the dense layer: finite inputs and output gradients bound every kernel and bias gradient. */
    return !nn__grads_bounded(a_bits, d_bits, rows);
}

static void conv2d_write(const nn__layer *l, nnio_buf *b)
{
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    nnio_put_i64(b, c->filters);
    int32_t v[] = {c->kh, c->kw, c->sh, c->sw, c->padding, c->pt, c->pb, c->pl, c->pr, c->use_bias,
                   c->weight_init, c->bias_init};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) nnio_put_u32(b, (uint32_t)v[i]);
}

static nn_status conv2d_read(nn__layer *l, nnio_cur *cur, const char *who)
{
    conv2d_config *c = NN__CONFIG(l, conv2d_config);
    int32_t *v[] = {&c->kh, &c->kw, &c->sh, &c->sw, &c->padding, &c->pt, &c->pb, &c->pl, &c->pr, &c->use_bias,
                    &c->weight_init, &c->bias_init};
    if (!nnio_get_i64(cur, &c->filters)) return nn__fail(NN_ERR_FORMAT, "%s: conv2d settings are cut short", who);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint32_t u;
        if (!nnio_get_u32(cur, &u)) return nn__fail(NN_ERR_FORMAT, "%s: conv2d settings are cut short", who);
        *v[i] = (int32_t)u;
    }
    if (c->use_bias != 0 && c->use_bias != 1)
        return nn__fail(NN_ERR_FORMAT, "%s: conv2d use_bias is %d", who, (int)c->use_bias);
    return NN_OK;
}

static void conv2d_describe(const nn__layer *l, char *buf, size_t cap)
{
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    snprintf(buf, cap, "Conv2D %dx%d/%d, %s", (int)c->kh, (int)c->kw, (int)c->sh, nn_activation_name(l->act.kind));
}

const nn__layer_ops nn__conv2d_ops = {
    .kind = NN_LAYER_CONV2D,
    .name = "conv2d",
    .infer = conv2d_infer,
    .tensors = conv2d_tensors,
    .workspace = conv2d_workspace,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .write_settings = conv2d_write,
    .read_settings = conv2d_read,
    .describe = conv2d_describe,
};

nn_status nn_model_add_conv2d(nn_model *m, int64_t filters, nn_activation act, const nn_conv2d_options *opts)
{
    const char *who = "nn_model_add_conv2d";
    nn_conv2d_options o;
    nn_status st = nn__options_take(&o, &conv2d_defaults, opts, conv2d_options_sizes, NN_CONV2D_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    nn__layer l;
    nn__layer_blank(&l, &nn__conv2d_ops);
    l.act = act;
    conv2d_config *c = NN__CONFIG(&l, conv2d_config);
    c->filters = filters;
    c->kh = o.kernel_h;
    c->kw = o.kernel_w;
    c->sh = o.stride_h;
    c->sw = o.stride_w;
    c->padding = (int32_t)o.padding;
    c->pt = o.pad_top;
    c->pb = o.pad_bottom;
    c->pl = o.pad_left;
    c->pr = o.pad_right;
    c->use_bias = o.use_bias != 0;
    c->weight_init = (int32_t)o.weight_init;
    c->bias_init = (int32_t)o.bias_init;
    return nn__model_append(m, &l, who);
}
