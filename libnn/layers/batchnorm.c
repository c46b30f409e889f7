/* Batch normalization (Ioffe & Szegedy 2015) over the last axis: per feature after a dense layer,
 * per channel on images (channels last, so the rows are the batch's pixels).
 *
 * Training normalises with the batch's mean and (biased) variance and moves the moving statistics
 * by Keras' rule, moving = moving * momentum + batch * (1 - momentum), with Keras' defaults
 * (momentum 0.99, epsilon 1e-3); inference uses the moving statistics. gamma and beta are trained;
 * the moving statistics are buffers the optimizer never touches. */
#include <math.h>

#include "layer.h"

typedef struct batchnorm_config {
    float momentum, epsilon;
} batchnorm_config;
NN__CONFIG_FITS(batchnorm_config);

enum { GAMMA, BETA, MOVING_MEAN, MOVING_VARIANCE };

static int64_t channels(const nn__layer *l) { return l->in.dim[l->in.rank - 1]; }

static nn_status check_settings(float momentum, float epsilon, const char *who)
{
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: batch norm momentum %g must be in [0, 1]", who, (double)momentum);
    if (!(epsilon > 0.0f && isfinite(epsilon)))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: batch norm epsilon %g must be positive", who, (double)epsilon);
    return NN_OK;
}

static nn_status batchnorm_infer(nn__layer *l, const char *who)
{
    const batchnorm_config *c = NN__CONFIG(l, batchnorm_config);
    l->out = l->in;
    return check_settings(c->momentum, c->epsilon, who);
}

static int batchnorm_tensors(const nn__layer *l, nn__tensor_spec *t)
{
    int64_t c = channels(l);
    t[GAMMA] = (nn__tensor_spec){"gamma", 1, {c}, 1, NN_INIT_ONES, c, c};
    t[BETA] = (nn__tensor_spec){"beta", 1, {c}, 1, NN_INIT_ZEROS, c, c};
    t[MOVING_MEAN] = (nn__tensor_spec){"moving_mean", 1, {c}, 0, NN_INIT_ZEROS, c, c};
    t[MOVING_VARIANCE] = (nn__tensor_spec){"moving_variance", 1, {c}, 0, NN_INIT_ONES, c, c};
    return 4;
}

static void batchnorm_workspace(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints)
{
    /* x_hat for the backward pass; per channel 1 / sqrt(var + eps), and the batch's mean and variance
     * for the moving statistics, which move only once the whole step has succeeded (commit). */
    *floats = (size_t)(batch * nn__shape_numel(&l->in)) + 3 * (size_t)channels(l);
    *ints = 0;
}

static void batchnorm_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    const batchnorm_config *cfg = NN__CONFIG(l, batchnorm_config);
    int64_t c = channels(l), rows = p->batch * (nn__shape_numel(&l->in) / c);
    if (!p->training) {
        nn__batchnorm_forward_infer(rows, c, x, l->t[GAMMA], l->t[BETA], l->t[MOVING_MEAN], l->t[MOVING_VARIANCE],
                                    cfg->epsilon, y);
        return;
    }
    float *xhat = l->ws, *inv = xhat + rows * c, *mean = inv + c, *var = mean + c;
    nn__batchnorm_forward_train(rows, c, x, l->t[GAMMA], l->t[BETA], cfg->epsilon, xhat, inv, mean, var, y);
}

static void batchnorm_commit(nn__layer *l, const nn__pass *p)
{
    int64_t c = channels(l), rows = p->batch * (nn__shape_numel(&l->in) / c);
    const float *mean = l->ws + rows * c + c, *var = mean + c;
    nn__batchnorm_update_moving(c, NN__CONFIG(l, batchnorm_config)->momentum, mean, var, l->t[MOVING_MEAN],
                                l->t[MOVING_VARIANCE]);
}

static int batchnorm_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    (void)x;
    (void)y;
    int64_t c = channels(l), rows = p->batch * (nn__shape_numel(&l->in) / c);
    const float *xhat = l->ws, *inv = xhat + rows * c;
    nn__batchnorm_backward(rows, c, dy, xhat, inv, l->t[GAMMA], l->grad[GAMMA], l->grad[BETA], dx);
    /* gamma's and beta's gradients are short (one per channel): look at them directly. */
    return !nn__finite_bits(nn__max_abs_bits(l->grad[GAMMA], (size_t)c)) ||
           !nn__finite_bits(nn__max_abs_bits(l->grad[BETA], (size_t)c));
}

static void batchnorm_write(const nn__layer *l, nnio_buf *b)
{
    const batchnorm_config *c = NN__CONFIG(l, batchnorm_config);
    nnio_put_f32(b, c->momentum);
    nnio_put_f32(b, c->epsilon);
}

static nn_status batchnorm_read(nn__layer *l, nnio_cur *cur, const char *who)
{
    batchnorm_config *c = NN__CONFIG(l, batchnorm_config);
    if (!nnio_get_f32(cur, &c->momentum) || !nnio_get_f32(cur, &c->epsilon))
        return nn__fail(NN_ERR_FORMAT, "%s: batch norm settings are cut short", who);
    return NN_OK;
}

static void batchnorm_describe(const nn__layer *l, char *buf, size_t cap)
{
    const batchnorm_config *c = NN__CONFIG(l, batchnorm_config);
    snprintf(buf, cap, "BatchNorm, momentum %g", (double)c->momentum);
}

const nn__layer_ops nn__batchnorm_ops = {
    .kind = NN_LAYER_BATCHNORM,
    .name = "batchnorm",
    .infer = batchnorm_infer,
    .tensors = batchnorm_tensors,
    .workspace = batchnorm_workspace,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
    .commit = batchnorm_commit,
    .write_settings = batchnorm_write,
    .read_settings = batchnorm_read,
    .describe = batchnorm_describe,
};

static const size_t batchnorm_options_sizes[] = {sizeof(nn_batchnorm_options)};
static const nn_batchnorm_options batchnorm_defaults = NN_BATCHNORM_OPTIONS_INIT;

nn_status nn_batchnorm_options_init(nn_batchnorm_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &batchnorm_defaults, batchnorm_options_sizes,
                            NN_BATCHNORM_OPTIONS_VERSION, "nn_batchnorm_options_init");
}

nn_status nn_model_add_batchnorm(nn_model *m, const nn_batchnorm_options *opts)
{
    const char *who = "nn_model_add_batchnorm";
    nn_batchnorm_options o;
    nn_status st = nn__options_take(&o, &batchnorm_defaults, opts, batchnorm_options_sizes,
                                    NN_BATCHNORM_OPTIONS_VERSION, who);
    if (st == NN_OK) st = check_settings(o.momentum, o.epsilon, who);
    if (st != NN_OK) return st;
    nn__layer l;
    nn__layer_blank(&l, &nn__batchnorm_ops);
    NN__CONFIG(&l, batchnorm_config)->momentum = o.momentum;
    NN__CONFIG(&l, batchnorm_config)->epsilon = o.epsilon;
    return nn__model_append(m, &l, who);
}
