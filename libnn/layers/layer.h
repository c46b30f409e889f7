/* The private layer interface. Each layer kind lives in one file of this folder and fills one
 * nn__layer_ops table; the model (libnn/model.c) and the file format (libnn/io/) only ever go
 * through that table, so adding a kind is its file, one line in registry.c, and its tests.
 *
 * Shapes are per example, rank 1 (features) to 3 (height, width, channels). Images are channels
 * last (NHWC with the batch): a convolution's im2col rows are then whole output pixels and one
 * GEMM covers the batch, a per-channel batch norm is a per-feature one over (B*H*W, C) rows, and
 * the layout is Keras', from which the reference MNIST models come. */
#ifndef NN_LAYERS_LAYER_H
#define NN_LAYERS_LAYER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compute.h"
#include "io/le.h"

#define NN__MAX_RANK 3
#define NN__MAX_LAYER_TENSORS 4
#define NN__LAYER_CONFIG_BYTES 160

typedef struct nn__shape {
    int rank;
    int64_t dim[NN__MAX_RANK];
} nn__shape;

/* Elements of one example of this shape, or -1 past the format's limits. */
int64_t nn__shape_numel(const nn__shape *s);
/* "(None, 28, 28, 1)" */
void nn__shape_text(const nn__shape *s, char *buf, size_t cap);

/* One tensor a layer owns: trainable (updated by the optimizer, has a gradient) or a buffer (state
 * that training changes by its own rule, such as batch norm's moving statistics). Names are the
 * layer's own ("kernel", "bias", "gamma", "moving_mean"): they name the tensors in model files. */
typedef struct nn__tensor_spec {
    const char *name;
    int rank;
    int64_t shape[4];
    int trainable;
    nn_init init; /* how nn_model_init fills it, with the fans below */
    int64_t fan_in, fan_out;
} nn__tensor_spec;

typedef struct nn__layer nn__layer;

/* What a forward or backward pass of one layer is told. */
typedef struct nn__pass {
    int64_t batch;
    int training;   /* dropout draws masks, batch norm uses and updates batch statistics */
    nn_rng *rng;    /* the model's training generator; NULL in inference */
    int first;      /* the layer reads the model's input: its input gradient is never needed */
    int presparse;  /* the first layer's input is already in its compressed rows (nn__dense_take_sparse):
                       its x is NULL */
    int fuse_kernel; /* backward: a first dense layer that nn__dense_can_fuse leaves its kernel's
                        gradient to nn__dense_fuse_update */
} nn__pass;

typedef struct nn__layer_ops {
    nn_layer_kind kind;
    const char *name; /* "dense": the summary's and the file's word for it */
    /* Check the settings against l->in and set l->out. Messages start with `who`. */
    nn_status (*infer)(nn__layer *l, const char *who);
    /* The layer's tensors in file order; returns how many (at most NN__MAX_LAYER_TENSORS). */
    int (*tensors)(const nn__layer *l, nn__tensor_spec *out);
    /* Scratch beyond the output, for a batch of `batch` examples, kept from forward to backward. */
    void (*workspace)(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints);
    /* Optional: called once the workspace for `batch` examples is in l->ws and l->iws. */
    void (*bind)(nn__layer *l, int64_t batch);
    /* y (batch, out) from x (batch, in). */
    void (*forward)(nn__layer *l, const nn__pass *p, const float *x, float *y);
    /* dy (batch, out) is d loss / d y and may be overwritten; dx (batch, in) is NULL when p->first.
     * Gradients of the trainable tensors are written (not accumulated) to l->grad[]. Returns 0, or 1
     * when those gradients may hold a NaN or an infinity (a finite loss does not rule that out: an
     * infinite input behind a saturated unit gives inf * 0): the step is then refused. */
    int (*backward)(nn__layer *l, const nn__pass *p, const float *x, const float *y, float *dy, float *dx);
    /* Optional: after a training step succeeded (finite loss and gradients, optimizer applied), move
     * state that is not trained, such as moving statistics. A failed step then changes nothing. */
    void (*commit)(nn__layer *l, const nn__pass *p);
    /* The per-kind settings block of the model file (length-prefixed by the caller). */
    void (*write_settings)(const nn__layer *l, nnio_buf *b);
    nn_status (*read_settings)(nn__layer *l, nnio_cur *c, const char *who);
    /* "Dense, relu": the summary's description after the layer's name. */
    void (*describe)(const nn__layer *l, char *buf, size_t cap);
} nn__layer_ops;

struct nn__layer {
    const nn__layer_ops *ops;
    int index;
    nn__shape in, out;
    nn_activation act; /* fused (dense, conv2d) or the layer itself (activation); linear otherwise */
    /* Per-kind settings; each kind casts this to its own struct (checked by a static assert). */
    union {
        double align_d;
        int64_t align_i;
        unsigned char bytes[NN__LAYER_CONFIG_BYTES];
    } config;
    int ntensors;
    nn__tensor_spec spec[NN__MAX_LAYER_TENSORS];
    float *t[NN__MAX_LAYER_TENSORS];    /* into the model's parameter or buffer memory */
    float *grad[NN__MAX_LAYER_TENSORS]; /* into the gradient memory; NULL for buffers */
    float *y;                            /* output, capacity x numel(out) */
    float *ws;                           /* workspace floats */
    int32_t *iws;                        /* workspace ints */
};

#define NN__CONFIG(l, type) ((type *)(void *)(l)->config.bytes)
#define NN__CONFIG_FITS(type) _Static_assert(sizeof(type) <= NN__LAYER_CONFIG_BYTES, #type " too large")

/* The table of a kind, or NULL when this version has none. */
const nn__layer_ops *nn__layer_ops_for(nn_layer_kind kind);

/* Every kind, for tests that must cover each one. */
int nn__layer_kind_count(void);
const nn__layer_ops *nn__layer_ops_at(int i);

/* A layer of kind ops with no settings yet and a linear activation. */
void nn__layer_blank(nn__layer *l, const nn__layer_ops *ops);
/* With l's settings filled: take input shape `in`, infer the output shape and list the tensors. */
nn_status nn__layer_setup(nn__layer *l, const nn__shape *in, const char *who);
/* Appends a set-up copy of l to the model (the model is not compiled yet). */
nn_status nn__model_append(nn_model *m, const nn__layer *l, const char *who);

/* Filters of a convolution: far beyond any real network, small enough that counts stay in int32. */
#define NN__MAX_FILTERS 65536

/* Output extent `out` of a window k with stride over `in` values, and the padding before and after
 * it: computed for NN_PADDING_SAME, zero for VALID, checked for EXPLICIT (each below k). */
nn_status nn__window_axis(int64_t in, int32_t k, int32_t stride, int32_t padding, int32_t *before, int32_t *after,
                          int64_t *out, const char *who, const char *axis);

/* Shared helpers of the kinds. */
void nn__no_workspace(const nn__layer *l, int64_t batch, size_t *floats, size_t *ints);
void nn__no_settings_write(const nn__layer *l, nnio_buf *b);
nn_status nn__no_settings_read(nn__layer *l, nnio_cur *c, const char *who);
int nn__no_tensors(const nn__layer *l, nn__tensor_spec *out);

/* Compresses examples idx[0..n) (the first n when idx is NULL) of a uint8 image array straight into a dense first layer's sparse
 * rows, as nn__sparse_compress would compress their float conversion (pixel / 255): 1 when done (a
 * training pass may then set presparse), 0 when the layer cannot take them (not a dense first layer,
 * too many rows, or images dense enough that its dense product wins). `training`: the step will want
 * the rows by column too, for its weight gradient (nn__sparse_compress_u8's ranks). */
int nn__dense_take_sparse(nn__layer *l, const uint8_t *images, int64_t features, const uint32_t *idx, int64_t n,
                          int training);

/* A training step's first dense layer on compressed rows can have its kernel's gradient computed
 * and applied in one pass (nn__sparse_weight_grad_update): can_fuse says whether this step's forward
 * took that path; fuse_update runs it with the backward pass's d loss / d pre and the step's rule,
 * the kernel being parameters [first, ...) of the step; kernel_grad writes the gradient it skipped to
 * l->grad[0], for a caller that asks for it later (its inputs last until the next forward pass, the
 * next staging of a batch into the layer, or a reallocation of the workspace). */
struct nn__step;
int nn__dense_can_fuse(const nn__layer *l);
void nn__dense_fuse_update(nn__layer *l, const float *dpre, const struct nn__step *step, size_t first);
void nn__dense_kernel_grad(nn__layer *l, const float *dpre);

#endif /* NN_LAYERS_LAYER_H */
