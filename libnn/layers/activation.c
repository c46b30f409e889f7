/* A stand-alone element-wise activation, of any shape. */
#include "layer.h"

static nn_status activation_infer(nn__layer *l, const char *who)
{
    (void)who;
    l->out = l->in;
    return NN_OK;
}

static void activation_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    nn__act_forward(l->act, y, x, (size_t)(p->batch * nn__shape_numel(&l->out)));
}

static int activation_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    if (dx) nn__act_backward(l->act, dx, dy, x, y, (size_t)(p->batch * nn__shape_numel(&l->out)));
    return 0;
}

static void activation_describe(const nn__layer *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "Activation, %s", nn_activation_name(l->act.kind));
}

const nn__layer_ops nn__activation_ops = {
    .kind = NN_LAYER_ACTIVATION,
    .name = "activation",
    .infer = activation_infer,
    .tensors = nn__no_tensors,
    .workspace = nn__no_workspace,
    .forward = activation_forward,
    .backward = activation_backward,
    .write_settings = nn__no_settings_write,
    .read_settings = nn__no_settings_read,
    .describe = activation_describe,
};
