/* Dense (fully connected): y = act(x W + b), W (in, out) as Keras' kernel.
 *
 * As the model's first layer on mostly-zero inputs (MNIST's pixels are 81% zeros) it compresses the
 * batch into sparse rows and runs its forward product and weight gradient over the non-zeros only
 * (libnn/sparse.c): about a fifth of the dense work. That choice is this layer's own business. */
#include <stdio.h>
#include <string.h>

#include "layer.h"
#include "model_internal.h"

typedef struct dense_config {
    int64_t units;
    nn_init weight_init, bias_init;
    nn__sparse_rows sparse; /* the batch compressed by the forward pass, for the backward pass */
    int sparse_valid;
    float *update_rows; /* scratch of nn__sparse_weight_grad_update, in the workspace */
} dense_config;
NN__CONFIG_FITS(dense_config);

/* Inputs with at most NN_SPARSE_MAX_DENSITY non-zeros go sparse; only the first layer sees them. */
static int may_go_sparse(const nn__layer *l) { return l->index == 0; }

/* A linear activation needs no separate pre-activation: y is written in place. */
static int keeps_pre(const nn__layer *l) { return l->act.kind != NN_ACT_LINEAR; }

static nn_status dense_infer(nn__layer *l, const char *who)
{
    const dense_config *c = NN__CONFIG(l, dense_config);
    if (l->in.rank != 1) {
        char shape[64];
        nn__shape_text(&l->in, shape, sizeof shape);
        return nn__fail(NN_ERR_SHAPE, "%s: dense input %s must be flat; add a flatten layer first", who, shape);
    }
    if (c->units <= 0 || c->units > INT32_MAX)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: dense units is %lld, must be in 1..%d", who,
                        (long long)c->units, INT32_MAX);
    if (!nn_init_name(c->weight_init) || !nn_init_name(c->bias_init))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: dense: unknown initialiser", who);
    l->out.rank = 1;
    l->out.dim[0] = c->units;
    return NN_OK;
}

static int dense_tensors(const nn__layer *l, nn__tensor_spec *t)
{
    const dense_config *c = NN__CONFIG(l, dense_config);
    int64_t in = l->in.dim[0], out = c->units;
    t[0] = (nn__tensor_spec){"kernel", 2, {in, out}, 1, c->weight_init, in, out};
    t[1] = (nn__tensor_spec){"bias", 1, {out}, 1, c->bias_init, in, out};
    return 2;
}

static void dense_workspace(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints)
{
    int64_t in = l->in.dim[0], out = l->out.dim[0];
    *floats = keeps_pre(l) ? (size_t)(batch * out) : 0;
    *ints = 0;
    if (may_go_sparse(l)) {
        /* Every entry at worst, by row and by column, with the row and column offsets; then a block
         * of weight-gradient rows for the fused update (nn__sparse_weight_grad_update). */
        size_t entries = (size_t)(batch * in);
        *floats = nn__align_floats(*floats) + 2 * nn__align_floats(entries) +
                  (size_t)(nn__sparse_update_block(out) * out);
        *ints += 3 * nn__align_floats(entries) + (size_t)batch + 1 + 2 * (size_t)in + 1;
    }
}

static void dense_forward(nn__layer *l, const nn__pass *p, const float *x, float *y)
{
    dense_config *c = NN__CONFIG(l, dense_config);
    int64_t in = l->in.dim[0], out = c->units, b = p->batch;
    float *pre = keeps_pre(l) ? l->ws : y;
    if (p->presparse && may_go_sparse(l)) {
        /* nn__dense_take_sparse filled the rows from the dataset's bytes: x is NULL. */
        c->sparse_valid = 1;
        nn__dense_forward_sparse(&c->sparse, out, l->t[0], l->t[1], l->act, pre, y);
        return;
    }
    c->sparse_valid = 0;
    if (may_go_sparse(l) && b <= NN_SPARSE_MAX_ROWS) {
        nn__sparse_rows *s = &c->sparse;
        if (nn__sparse_compress(s, x, b, in)) {
            c->sparse_valid = 1;
            nn__dense_forward_sparse(s, out, l->t[0], l->t[1], l->act, pre, y);
            return;
        }
    }
    nn__dense_forward_raw(b, in, out, x, l->t[0], l->t[1], l->act, pre, y);
}

static int dense_backward(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx)
{
    dense_config *c = NN__CONFIG(l, dense_config);
    const float *pre = keeps_pre(l) ? l->ws : y;
    int64_t b = p->batch, in = l->in.dim[0];
    /* With p->fuse_kernel the model has the kernel's gradient computed with its update (nn__dense_fuse_update). */
    float *dw = p->fuse_kernel && nn__dense_can_fuse(l) ? NULL : l->grad[0];
    nn__dense_backward_raw(b, in, c->units, x, l->t[0], pre, y, l->act, dy, dw, l->grad[1], dx,
                           c->sparse_valid ? &c->sparse : NULL);
    /* dy now holds d loss / d pre. On the sparse path only the non-zero inputs were multiplied. */
    uint32_t a_bits = c->sparse_valid ? nn__max_abs_bits(c->sparse.value, (size_t)c->sparse.start[b])
                                      : nn__max_abs_bits(x, (size_t)(b * in));
    return !nn__grads_bounded(a_bits, nn__max_abs_bits(dy, (size_t)(b * c->units)), b);
}

static void dense_write(const nn__layer *l, nnio_buf *b)
{
    const dense_config *c = NN__CONFIG(l, dense_config);
    nnio_put_i64(b, c->units);
    nnio_put_u32(b, (uint32_t)c->weight_init);
    nnio_put_u32(b, (uint32_t)c->bias_init);
}

static nn_status dense_read(nn__layer *l, nnio_cur *c, const char *who)
{
    dense_config *d = NN__CONFIG(l, dense_config);
    uint32_t wi, bi;
    if (!nnio_get_i64(c, &d->units) || !nnio_get_u32(c, &wi) || !nnio_get_u32(c, &bi))
        return nn__fail(NN_ERR_FORMAT, "%s: dense settings are cut short", who);
    d->weight_init = (nn_init)wi;
    d->bias_init = (nn_init)bi;
    return NN_OK;
}

static void dense_describe(const nn__layer *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "Dense, %s", nn_activation_name(l->act.kind));
}


static const size_t dense_options_sizes[] = {sizeof(nn_dense_options)};
static const nn_dense_options dense_defaults = NN_DENSE_OPTIONS_INIT;

nn_status nn_dense_options_init(nn_dense_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &dense_defaults, dense_options_sizes, NN_DENSE_OPTIONS_VERSION,
                            "nn_dense_options_init");
}

nn_status nn_model_add_dense_ex(nn_model *m, int64_t units, nn_activation act, const nn_dense_options *opts)
{
    const char *who = "nn_model_add_dense";
    nn_dense_options o;
    nn_status st = nn__options_take(&o, &dense_defaults, opts, dense_options_sizes, NN_DENSE_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    nn__layer l;
    nn__layer_blank(&l, &nn__dense_ops);
    l.act = act;
    nn__dense_configure(&l, units, o.weight_init, o.bias_init);
    return nn__model_append(m, &l, who);
}

nn_status nn_model_add_dense(nn_model *m, int64_t units, nn_activation act)
{
    return nn_model_add_dense_ex(m, units, act, NULL);
}

/* Settings of a new dense layer, for nn_model_add_dense and the v1 file reader. */
void nn__dense_configure(nn__layer *l, int64_t units, nn_init weight_init, nn_init bias_init)
{
    dense_config *c = NN__CONFIG(l, dense_config);
    memset(c, 0, sizeof *c);
    c->units = units;
    c->weight_init = weight_init;
    c->bias_init = bias_init;
}

/* Carves the sparse arrays out of the workspace that dense_workspace sized for `batch`. */
static void dense_bind(nn__layer *l, int64_t batch)
{
    if (!may_go_sparse(l)) return;
    dense_config *c = NN__CONFIG(l, dense_config);
    int64_t in = l->in.dim[0];
    size_t entries = nn__align_floats((size_t)(batch * in));
    nn__sparse_rows *s = &c->sparse;
    s->value = l->ws + (keeps_pre(l) ? nn__align_floats((size_t)(batch * c->units)) : 0);
    s->col_value = s->value + entries;
    c->update_rows = s->col_value + entries;
    s->index = l->iws;
    s->col_row = s->index + entries;
    s->start = s->col_row + entries;
    s->col_start = s->start + batch + 1;
    s->col_fill = s->col_start + in + 1;
    s->rank = s->col_fill + in;
}

const nn__layer_ops nn__dense_ops = {
    .kind = NN_LAYER_DENSE,
    .name = "dense",
    .infer = dense_infer,
    .tensors = dense_tensors,
    .workspace = dense_workspace,
    .bind = dense_bind,
    .forward = dense_forward,
    .backward = dense_backward,
    .write_settings = dense_write,
    .read_settings = dense_read,
    .describe = dense_describe,
};

int nn__dense_take_sparse(nn__layer *l, const uint8_t *images, int64_t features, const uint32_t *idx, int64_t n,
                          int training)
{
    if (l->ops->kind != NN_LAYER_DENSE || !may_go_sparse(l) || n > NN_SPARSE_MAX_ROWS || l->in.dim[0] != features)
        return 0;
    dense_config *c = NN__CONFIG(l, dense_config);
    return nn__sparse_compress_u8(&c->sparse, images, idx, n, features, training);
}

int nn__dense_can_fuse(const nn__layer *l)
{
    return l->ops->kind == NN_LAYER_DENSE && may_go_sparse(l) && NN__CONFIG(l, const dense_config)->sparse_valid;
}

void nn__dense_fuse_update(nn__layer *l, const float *dpre, const nn__step *step, size_t first)
{
    dense_config *c = NN__CONFIG(l, dense_config);
    nn__sparse_weight_grad_update(&c->sparse, c->units, dpre, l->t[0], c->update_rows, step, first);
}

void nn__dense_kernel_grad(nn__layer *l, const float *dpre)
{
    dense_config *c = NN__CONFIG(l, dense_config);
    nn__dense_weight_grad_sparse(&c->sparse, c->units, dpre, l->grad[0]);
}
