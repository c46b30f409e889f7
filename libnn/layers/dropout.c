/* Inverted dropout (Srivastava et al. 2014, scaled at training time as Keras and PyTorch do): in
 * training each element is kept with probability 1 - rate and scaled by 1 / (1 - rate), so that
 * inference is the identity. Masks come from the model's training generator (nn_model_rng), so the
 * same seed gives the same masks, and a resumed run the same masks as an uninterrupted one. */

#include "layer.h"

typedef struct dropout_config {
    float rate;
} dropout_config;
NN__CONFIG_FITS(dropout_config);

static nn_status check_rate(float rate, const char *who)
{
    if (!(rate >= 0.0f && rate < 1.0f))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: dropout rate %g must be in [0, 1)", who, (double)rate);
    return NN_OK;
}

static nn_status dropout_infer(nn__layer *l, const char *who)
{
    l->out = l->in;
    return check_rate(NN__CONFIG(l, dropout_config)->rate, who);
}

static void dropout_workspace(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints)
{
    *floats = (size_t)(batch * nn__shape_numel(&l->in)); /* the scaled mask */
    *ints = 0;
}

static void dropout_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    float rate = NN__CONFIG(l, dropout_config)->rate;
    size_t n = (size_t)(p->batch * nn__shape_numel(&l->in));
    if (!p->training || rate == 0.0f) {
        /* Rate 0 draws nothing either, so it changes neither outputs nor the generator's stream. */
        nn__copy(n, x, y);
        return;
    }
    nn__dropout_forward(n, rate, p->rng, x, l->ws, y);
}

static int dropout_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    (void)x;
    (void)y;
    if (!dx) return 0;
    size_t n = (size_t)(p->batch * nn__shape_numel(&l->in));
    if (NN__CONFIG(l, dropout_config)->rate == 0.0f) {
        nn__copy(n, dy, dx);
        return 0;
    }
    nn__mul(n, dy, l->ws, dx);
    return 0;
}

static void dropout_write(const nn__layer *l, nnio_buf *b) { nnio_put_f32(b, NN__CONFIG(l, dropout_config)->rate); }

static nn_status dropout_read(nn__layer *l, nnio_cur *c, const char *who)
{
    if (!nnio_get_f32(c, &NN__CONFIG(l, dropout_config)->rate))
        return nn__fail(NN_ERR_FORMAT, "%s: dropout settings are cut short", who);
    return NN_OK;
}

static void dropout_describe(const nn__layer *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "Dropout, rate %g", (double)NN__CONFIG(l, dropout_config)->rate);
}

const nn__layer_ops nn__dropout_ops = {
    .kind = NN_LAYER_DROPOUT,
    .name = "dropout",
    .infer = dropout_infer,
    .tensors = nn__no_tensors,
    .workspace = dropout_workspace,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .write_settings = dropout_write,
    .read_settings = dropout_read,
    .describe = dropout_describe,
};

nn_status nn_model_add_dropout(nn_model *m, float rate)
{
    const char *who = "nn_model_add_dropout";
    nn_status st = check_rate(rate, who);
    if (st != NN_OK) return st;
    nn__layer l;
    nn__layer_blank(&l, &nn__dropout_ops);
    NN__CONFIG(&l, dropout_config)->rate = rate;
    return nn__model_append(m, &l, who);
}
