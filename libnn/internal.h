/* Private helpers shared by libnn's source files; never installed, never included by a public header. */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

/* The library is built for baseline x86-64 (SSE2) so that it runs anywhere; its hot loops are also
 * compiled for AVX2 and AVX-512 and the best one is picked when the library loads (GNU ifunc).
 * GCC only: clang 14's clones of these functions fail to link here, so clang builds use baseline. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(NN_NO_CLONES)
#define NN_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NN_HOT
#endif

#if defined(__GNUC__) || defined(__clang__)
#define NN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NN_PRINTF(a, b)
#endif

/* Record a formatted message as the thread's last error and return status, so that a failure reads
 * `return nn__fail(NN_ERR_SHAPE, "dense: input has %lld features, expects %lld", ...);`. */
nn_status nn__fail(nn_status status, const char *fmt, ...) NN_PRINTF(2, 3);

/* a * b into *out, false on overflow or a negative operand. */
int nn__mul_size(size_t *out, size_t a, size_t b);

/* An optimizer given to a model belongs to it (nn_model_compile, nn_model_set_optimizer): the model
 * records itself as the owner, so that a second model refuses it and nn_optimizer_free() leaves it
 * alone; release clears the owner and frees, for the model's own use. */
const nn_model *nn_optimizer__owner(const nn_optimizer *opt);
void nn_optimizer__set_owner(nn_optimizer *opt, const nn_model *owner);
void nn_optimizer__release(nn_optimizer *opt);

/* An optimizer given to a model belongs to it (nn_model_compile, nn_model_set_optimizer): the model
 * records itself as the owner, so that a second model refuses it and nn_optimizer_free() leaves it
 * alone; release clears the owner and frees, for the model's own use. */
const nn_model *nn_optimizer__owner(const nn_optimizer *opt);
void nn_optimizer__set_owner(nn_optimizer *opt, const nn_model *owner);
void nn_optimizer__release(nn_optimizer *opt);

/* Flush-to-zero / denormals-are-zero for the duration of a computation: save, enable, restore. */
typedef struct nn__fpenv {
    unsigned saved;
} nn__fpenv;
void nn__fpenv_enter(nn__fpenv *env);
void nn__fpenv_leave(const nn__fpenv *env);


/* Dense kernels on raw row-major arrays, without argument checks (the model has checked shapes once).
 * x (B, in), w (in, out), b (out), pre and y (B, out); y may equal pre when act is linear. */
void nn__dense_forward_raw(int64_t batch, int64_t in, int64_t out, const float *x, const float *w, const float *b,
                           nn_activation act, float *pre, float *y);

/* dy (B, out) holds d loss / d y and is overwritten with d loss / d pre. dw (in, out) and db (out) are
 * overwritten; dx (B, in) is skipped when NULL (the first layer's input gradient is never needed).
 * xs, when non-NULL, is x compressed (see nn__sparse_rows) and used for the weight gradient. */
struct nn__sparse_rows;
void nn__dense_backward_raw(int64_t batch, int64_t in, int64_t out, const float *x, const float *w,
                            const float *pre, const float *y, nn_activation act, float *dy, float *dw, float *db,
                            float *dx, struct nn__sparse_rows *xs);

/* A batch of inputs with most entries zero (MNIST images are 81% zeros), as compressed rows. The
 * first layer's forward product and weight gradient then touch only the non-zero inputs, about a
 * fifth of the dense work; the sums are the same in another order (tests compare within a tolerance). */
typedef struct nn__sparse_rows {
    int64_t rows, cols;
    int32_t *start; /* rows + 1 offsets into index/value */
    int32_t *index; /* column of each non-zero, ascending within a row */
    float *value;
    int has_columns;    /* the column lists below are built (by the weight gradient, on demand) */
    int32_t *col_start; /* cols + 1 offsets into col_row/col_value: the same entries by column */
    int32_t *col_fill;  /* cols, scratch */
    int32_t *col_row;
    float *col_value;
} nn__sparse_rows;

/* Inputs with at most this fraction of non-zeros take the sparse path (-DNN_SPARSE_MAX_DENSITY=0
 * turns it off, for benchmarking the dense path). */
#ifndef NN_SPARSE_MAX_DENSITY
#define NN_SPARSE_MAX_DENSITY 0.35
#endif
/* ... and at most this many rows: on large batches (evaluation) BLAS's blocking wins (measured
 * 409k against 357k images/s at 1,000 rows). */
#define NN_SPARSE_MAX_ROWS 256

/* Compresses x (batch, cols) into s, whose arrays hold batch * cols entries. Returns 1 when x is
 * sparse enough to use it, 0 when the dense product is the better choice. */
int nn__sparse_compress(nn__sparse_rows *s, const float *x, int64_t batch, int64_t cols);

/* pre (B, out) = x W + b for compressed x, then y = act(pre). */
void nn__dense_forward_sparse(const nn__sparse_rows *x, int64_t out, const float *w, const float *b, nn_activation act,
                              float *pre, float *y);

/* dW (in, out) = x^T dpre for compressed x (building its column lists when not yet done). */
void nn__dense_weight_grad_sparse(nn__sparse_rows *x, int64_t out, const float *dpre, float *dw);

/* Versioned options structs (libgit2's scheme): the first field is the version the caller was built
 * with, fields are only ever appended, and sizes[v - 1] is the size of version v. take fills dst
 * (the library's current version) with defaults, then with the caller's fields of the caller's
 * version; NULL src means defaults. init fills a caller's struct of `version` with defaults. */
nn_status nn__options_take(void *dst, const void *defaults, const void *src, const size_t *sizes, unsigned current,
                           const char *who);
nn_status nn__options_init(void *dst, unsigned version, const void *defaults, const size_t *sizes,
                           unsigned current, const char *who);

#endif /* NN_INTERNAL_H */
