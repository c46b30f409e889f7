/* The table of layer kinds, shapes, and the pieces that several kinds share. */
#include <stdio.h>
#include <string.h>

#include "layer.h"

#define NN__LAYER_KIND(name) extern const nn__layer_ops nn__##name##_ops;
#include "kinds.def"
#undef NN__LAYER_KIND

static const nn__layer_ops *const kinds[] = {
#define NN__LAYER_KIND(name) &nn__##name##_ops,
#include "kinds.def"
#undef NN__LAYER_KIND
};

int nn__layer_kind_count(void) { return (int)(sizeof kinds / sizeof kinds[0]); }

const nn__layer_ops *nn__layer_ops_at(int i) { return i >= 0 && i < nn__layer_kind_count() ? kinds[i] : NULL; }

const nn__layer_ops *nn__layer_ops_for(nn_layer_kind kind)
{
    for (int i = 0; i < nn__layer_kind_count(); i++)
        if (kinds[i]->kind == kind) return kinds[i];
    return NULL;
}

const char *nn_layer_kind_name(nn_layer_kind kind)
{
    const nn__layer_ops *ops = nn__layer_ops_for(kind);
    return ops ? ops->name : NULL;
}

int64_t nn__shape_numel(const nn__shape *s)
{
    if (s->rank < 1 || s->rank > NN__MAX_RANK) return -1;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dim[i] < 1 || s->dim[i] > INT32_MAX || n > INT32_MAX / s->dim[i]) return -1;
        n *= s->dim[i];
    }
    return n;
}

void nn__shape_text(const nn__shape *s, char *buf, size_t cap)
{
    int at = snprintf(buf, cap, "(None");
    for (int i = 0; i < s->rank && at >= 0 && (size_t)at < cap; i++)
        at += snprintf(buf + at, cap - (size_t)at, ", %lld", (long long)s->dim[i]);
    if (at >= 0 && (size_t)at < cap) snprintf(buf + at, cap - (size_t)at, ")");
}

void nn__layer_blank(nn__layer *l, const nn__layer_ops *ops)
{
    memset(l, 0, sizeof *l);
    l->ops = ops;
    l->act = nn_activation_make(NN_ACT_LINEAR);
}

nn_status nn__layer_setup(nn__layer *l, const nn__shape *in, const char *who)
{
    l->in = *in;
    nn_status st = l->ops->infer(l, who);
    if (st != NN_OK) return st;
    if (nn__shape_numel(&l->out) < 0) {
        char shape[96];
        nn__shape_text(&l->out, shape, sizeof shape);
        return nn__fail(NN_ERR_SHAPE, "%s: %s output %s is too large", who, l->ops->name, shape);
    }
    l->ntensors = l->ops->tensors(l, l->spec);
    return NN_OK;
}

void nn__no_workspace(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints)
{
    (void)l;
    (void)batch;
    *floats = 0;
    *ints = 0;
}

void nn__no_settings_write(const nn__layer *l, nnio_buf *b)
{
    (void)l;
    (void)b;
}

nn_status nn__no_settings_read(nn__layer *l, nnio_cur *c, const char *who)
{
    (void)l;
    (void)c;
    (void)who;
    return NN_OK;
}

int nn__no_tensors(const nn__layer *l, nn__tensor_spec *out)
{
    (void)l;
    (void)out;
    return 0;
}
