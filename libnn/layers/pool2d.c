/* Pooling on channels-last images: max and average over windows (two kinds sharing one geometry and
 * one pair of kernels), and the global average over height and width. No tensors to train. */
#include <stdio.h>
#include <string.h>

#include "layer.h"

typedef struct pool_config {
    int32_t ph, pw, sh, sw, padding, pt, pb, pl, pr;
} pool_config;
NN__CONFIG_FITS(pool_config);

static const size_t pool2d_options_sizes[] = {sizeof(nn_pool2d_options)};
static const nn_pool2d_options pool2d_defaults = NN_POOL2D_OPTIONS_INIT;

nn_status nn_pool2d_options_init(nn_pool2d_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &pool2d_defaults, pool2d_options_sizes, NN_POOL2D_OPTIONS_VERSION,
                            "nn_pool2d_options_init");
}

static int is_max(const nn__layer *l) { return l->ops->kind == NN_LAYER_MAXPOOL2D; }

static nn_status need_image(const nn__layer *l, const char *who)
{
    if (l->in.rank == 3) return NN_OK;
    char shape[64];
    nn__shape_text(&l->in, shape, sizeof shape);
    return nn__fail(NN_ERR_SHAPE, "%s: %s input %s must be (height, width, channels)", who, l->ops->name, shape);
}

static nn_status pool_infer(nn__layer *l, const char *who)
{
    pool_config *c = NN__CONFIG(l, pool_config);
    nn_status st = need_image(l, who);
    if (st != NN_OK) return st;
    int64_t oh, ow;
    char axis[48];
    snprintf(axis, sizeof axis, "%s height", l->ops->name);
    st = nn__window_axis(l->in.dim[0], c->ph, c->sh, c->padding, &c->pt, &c->pb, &oh, who, axis);
    snprintf(axis, sizeof axis, "%s width", l->ops->name);
    if (st == NN_OK) st = nn__window_axis(l->in.dim[1], c->pw, c->sw, c->padding, &c->pl, &c->pr, &ow, who, axis);
    if (st != NN_OK) return st;
    l->out.rank = 3;
    l->out.dim[0] = oh;
    l->out.dim[1] = ow;
    l->out.dim[2] = l->in.dim[2];
    return NN_OK;
}

static void geometry(const nn__layer *l, nn__conv_geom *g)
{
    const pool_config *c = NN__CONFIG(l, pool_config);
    *g = (nn__conv_geom){l->in.dim[0], l->in.dim[1], l->in.dim[2], c->ph, c->pw, c->sh, c->sw, c->pt, c->pl,
                         l->out.dim[0], l->out.dim[1]};
}

static void pool_workspace(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints)
{
    *floats = 0;
    /* The position of each maximum, for the backward pass. */
    *ints = is_max(l) ? (size_t)(batch * nn__shape_numel(&l->out)) : 0;
}

static void pool_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    nn__conv_geom g;
    geometry(l, &g);
    nn__pool_forward(&g, p->batch, is_max(l), x, y, l->iws);
}

static int pool_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    (void)x;
    (void)y;
    if (!dx) return 0;
    nn__conv_geom g;
    geometry(l, &g);
    nn__pool_backward(&g, p->batch, is_max(l), dy, l->iws, dx);
    return 0;
}

static void pool_write(const nn__layer *l, nnio_buf *b)
{
    const pool_config *c = NN__CONFIG(l, pool_config);
    int32_t v[] = {c->ph, c->pw, c->sh, c->sw, c->padding, c->pt, c->pb, c->pl, c->pr};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) nnio_put_u32(b, (uint32_t)v[i]);
}

static nn_status pool_read(nn__layer *l, nnio_cur *cur, const char *who)
{
    pool_config *c = NN__CONFIG(l, pool_config);
    int32_t *v[] = {&c->ph, &c->pw, &c->sh, &c->sw, &c->padding, &c->pt, &c->pb, &c->pl, &c->pr};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint32_t u;
        if (!nnio_get_u32(cur, &u)) return nn__fail(NN_ERR_FORMAT, "%s: %s settings are cut short", who, l->ops->name);
        *v[i] = (int32_t)u;
    }
    return NN_OK;
}

static void pool_describe(const nn__layer *l, char *buf, size_t cap)
{
    const pool_config *c = NN__CONFIG(l, pool_config);
    snprintf(buf, cap, "%s %dx%d/%d", is_max(l) ? "MaxPool2D" : "AvgPool2D", (int)c->ph, (int)c->pw, (int)c->sh);
}

const nn__layer_ops nn__maxpool2d_ops = {
    .kind = NN_LAYER_MAXPOOL2D,
    .name = "maxpool2d",
    .infer = pool_infer,
    .tensors = nn__no_tensors,
    .workspace = pool_workspace,
    .forward = pool_forward,
    .backward = pool_backward,
    .write_settings = pool_write,
    .read_settings = pool_read,
    .describe = pool_describe,
};

const nn__layer_ops nn__avgpool2d_ops = {
    .kind = NN_LAYER_AVGPOOL2D,
    .name = "avgpool2d",
    .infer = pool_infer,
    .tensors = nn__no_tensors,
    .workspace = pool_workspace,
    .forward = pool_forward,
    .backward = pool_backward,
    .write_settings = pool_write,
    .read_settings = pool_read,
    .describe = pool_describe,
};

static nn_status add_pool(nn_model *m, const nn__layer_ops *ops, const nn_pool2d_options *opts, const char *who)
{
    nn_pool2d_options o;
    nn_status st = nn__options_take(&o, &pool2d_defaults, opts, pool2d_options_sizes, NN_POOL2D_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    nn__layer l;
    nn__layer_blank(&l, ops);
    *NN__CONFIG(&l, pool_config) = (pool_config){o.pool_h, o.pool_w, o.stride_h ? o.stride_h : o.pool_h,
                                                 o.stride_w ? o.stride_w : o.pool_w, (int32_t)o.padding, o.pad_top,
                                                 o.pad_bottom, o.pad_left, o.pad_right};
    return nn__model_append(m, &l, who);
}

nn_status nn_model_add_maxpool2d(nn_model *m, const nn_pool2d_options *opts)
{
    return add_pool(m, &nn__maxpool2d_ops, opts, "nn_model_add_maxpool2d");
}

nn_status nn_model_add_avgpool2d(nn_model *m, const nn_pool2d_options *opts)
{
    return add_pool(m, &nn__avgpool2d_ops, opts, "nn_model_add_avgpool2d");
}

/* ---- global average pooling: (h, w, c) -> (c) */

static nn_status global_infer(nn__layer *l, const char *who)
{
    nn_status st = need_image(l, who);
    if (st != NN_OK) return st;
    l->out.rank = 1;
    l->out.dim[0] = l->in.dim[2];
    l->out.dim[1] = l->out.dim[2] = 1;
    return NN_OK;
}

/* The whole image is one window: the window kernels with a geometry to match. */
static void global_geometry(const nn__layer *l, nn__conv_geom *g)
{
    *g = (nn__conv_geom){l->in.dim[0], l->in.dim[1], l->in.dim[2], l->in.dim[0], l->in.dim[1], 1, 1, 0, 0, 1, 1};
}

static void global_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    nn__conv_geom g;
    global_geometry(l, &g);
    nn__pool_forward(&g, p->batch, 0, x, y, NULL);
}

static int global_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    (void)x;
    (void)y;
    if (!dx) return 0;
    nn__conv_geom g;
    global_geometry(l, &g);
    nn__pool_backward(&g, p->batch, 0, dy, NULL, dx);
    return 0;
}

static void global_describe(const nn__layer *l, char *buf, size_t cap)
{
    (void)l;
    snprintf(buf, cap, "GlobalAvgPool2D");
}

const nn__layer_ops nn__global_avgpool2d_ops = {
    .kind = NN_LAYER_GLOBAL_AVGPOOL2D,
    .name = "global_avgpool2d",
    .infer = global_infer,
    .tensors = nn__no_tensors,
    .workspace = nn__no_workspace,
    .forward = global_forward,
    .backward = global_backward,
    .write_settings = nn__no_settings_write,
    .read_settings = nn__no_settings_read,
    .describe = global_describe,
};

nn_status nn_model_add_global_avgpool2d(nn_model *m)
{
    nn__layer l;
    nn__layer_blank(&l, &nn__global_avgpool2d_ops);
    return nn__model_append(m, &l, "nn_model_add_global_avgpool2d");
}
