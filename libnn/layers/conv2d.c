/* 2-D convolution on channels-last images: y = act(conv(x, K) + b), K (kh, kw, C, F) as Keras'.
 *
 * Forward is im2col + GEMM (libnn/cpu/conv.c) a block of images at a time, so that the column matrix
 * stays in cache; backward rebuilds each block's columns (a copy, cheaper than keeping a batch of
 * them: 9x the input) for the kernel gradient cols^T dpre, then reuses the buffer for the column
 * gradient dpre K^T and col2im. Receptive fields of a few values (a first layer with one channel)
 * are convolved directly instead (libnn/cpu/conv_direct.c). */
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

/* ReLU and no activation are applied in the pass that adds the bias, and undone from the output alone
 * (y > 0 exactly where the pre-activation is); other activations keep the pre-activation. */
static int fused(const nn__layer *l) { return l->act.kind == NN_ACT_RELU || l->act.kind == NN_ACT_LINEAR; }

/* Small receptive fields (a first layer on grey images) are convolved directly (libnn/cpu/conv_direct.c). */
static int direct(const nn__layer *l) { return patch(l) <= NN__CONV_DIRECT_MAX_PATCH; }

/* The column matrix is built for a few images at a time, about this many floats (1 MB): the block's
 * product then runs on columns still in cache, with the bias and activation applied while its output
 * is, and the workspace stays small at any batch. Measured for (B * 121, 288) x (288, 64): 98 GFLOP/s
 * at 4 to 8 images, 71 at 128. */
#define COLS_BLOCK_FLOATS (256 * 1024)

static int64_t block_images(const nn__layer *l, int64_t batch)
{
    int64_t n = COLS_BLOCK_FLOATS / (pixels(l) * patch(l));
    if (n < 1) n = 1;
    return n < batch ? n : batch;
}

static void conv2d_workspace(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints)
{
    /* A direct layer needs its block of columns only for an input gradient (never asked of a first
     * layer), but it is small, and untouched memory costs nothing. */
    size_t cols = (size_t)(block_images(l, batch) * pixels(l) * patch(l));
    *floats = cols + (fused(l) ? 0 : (size_t)(batch * nn__shape_numel(&l->out)));
    *ints = 0;
}

static float *pre_of(const nn__layer *l, int64_t batch, float *y)
{
    return fused(l) ? y : l->ws + block_images(l, batch) * pixels(l) * patch(l);
}

static void conv2d_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    nn__conv_geom g;
    geometry(l, &g);
    int64_t P = pixels(l), k = patch(l), F = c->filters, in = g.h * g.w * g.c;
    const float *bias = c->use_bias ? l->t[BIAS] : NULL;
    int relu = l->act.kind == NN_ACT_RELU;
    float *pre = pre_of(l, p->batch, y);
    if (direct(l)) {
        nn__conv_direct_forward(&g, p->batch, F, x, l->t[KERNEL], bias, relu, pre);
    } else {
        int64_t nb = block_images(l, p->batch);
        for (int64_t b0 = 0; b0 < p->batch; b0 += nb) {
            int64_t n = p->batch - b0 < nb ? p->batch - b0 : nb;
            float *out = pre + b0 * P * F;
            nn__im2col(&g, n, x + b0 * in, l->ws);
            nn__gemm(0, 0, n * P, F, k, 1.0f, l->ws, k, l->t[KERNEL], F, 0.0f, out, F);
            nn__bias_relu_rows(n * P, F, bias, relu, out);
        }
    }
    if (!fused(l)) nn__act_forward(l->act, y, pre, (size_t)(p->batch * P * F));
}

static int conv2d_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    const conv2d_config *c = NN__CONFIG(l, conv2d_config);
    nn__conv_geom g;
    geometry(l, &g);
    int64_t P = pixels(l), k = patch(l), F = c->filters, in = g.h * g.w * g.c, rows = p->batch * P;
    float *db = c->use_bias ? l->grad[BIAS] : NULL, *cols = l->ws;
    uint32_t d_bits;
    /* dpre, the bias gradient (its column sums) and the largest |dpre|, in one pass. */
    if (db) memset(db, 0, (size_t)F * sizeof *db);
    if (fused(l)) {
        d_bits = nn__relu_grad_rows(rows, F, l->act.kind == NN_ACT_RELU ? y : NULL, dy, db);
    } else {
        nn__act_backward(l->act, dy, dy, pre_of(l, p->batch, (float *)y), y, (size_t)(rows * F));
        d_bits = nn__relu_grad_rows(rows, F, NULL, dy, db);
    }
    /* Every column entry is an input value or a zero of the padding: |x| bounds them at a ninth of
     * the cost of reading the columns. */
    uint32_t a_bits = nn__max_abs_bits(x, (size_t)(p->batch * in));
    if (direct(l)) {
        nn__conv_direct_kernel_grad(&g, p->batch, F, x, dy, l->grad[KERNEL]);
    }
    if (!direct(l) || dx) {
        /* Per block: dK (k, F) += cols^T dpre; dcols = dpre K^T, into the columns' place once read;
         * col2im of the block into its images of dx. */
        int64_t nb = block_images(l, p->batch);
        for (int64_t b0 = 0; b0 < p->batch; b0 += nb) {
            int64_t n = p->batch - b0 < nb ? p->batch - b0 : nb;
            const float *d = dy + b0 * P * F;
            if (!direct(l)) {
                nn__im2col(&g, n, x + b0 * in, cols);
                nn__gemm(1, 0, k, F, n * P, 1.0f, cols, k, d, F, b0 ? 1.0f : 0.0f, l->grad[KERNEL], F);
            }
            if (dx) {
                nn__gemm(0, 1, n * P, k, F, 1.0f, d, F, l->t[KERNEL], F, 0.0f, cols, k);
                nn__col2im(&g, n, cols, dx + b0 * in);
            }
        }
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
