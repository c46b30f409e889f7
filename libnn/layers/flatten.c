/* Flatten: (height, width, channels) to (height * width * channels), in memory order (channels
 * last, so a pixel's channels stay together, as Keras' Flatten on channels-last data). The values
 * are copied: the layer is cheap next to the dense layer after it, and every layer keeps an output
 * buffer of its own. */
#include "layer.h"

static nn_status flatten_infer(nn__layer *l, const char *who)
{
    (void)who;
    l->out.rank = 1;
    l->out.dim[0] = nn__shape_numel(&l->in);
    l->out.dim[1] = l->out.dim[2] = 1;
    return NN_OK;
}

static void flatten_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    nn__copy((size_t)(p->batch * nn__shape_numel(&l->in)), x, y);
}

static int flatten_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    (void)x;
    (void)y;
    if (dx) nn__copy((size_t)(p->batch * nn__shape_numel(&l->in)), dy, dx);
    return 0;
}

static void flatten_describe(const nn__layer *l, char *buf, size_t cap)
{
    (void)l;
    snprintf(buf, cap, "Flatten");
}

const nn__layer_ops nn__flatten_ops = {
    .kind = NN_LAYER_FLATTEN,
    .name = "flatten",
    .infer = flatten_infer,
    .tensors = nn__no_tensors,
    .workspace = nn__no_workspace,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .write_settings = nn__no_settings_write,
    .read_settings = nn__no_settings_read,
    .describe = flatten_describe,
};

nn_status nn_model_add_flatten(nn_model *m)
{
    nn__layer l;
    nn__layer_blank(&l, &nn__flatten_ops);
    return nn__model_append(m, &l, "nn_model_add_flatten");
}
