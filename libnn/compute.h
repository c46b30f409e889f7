/* The compute interface: every piece of arithmetic that layers, losses and optimizers do reaches
 * the hardware through these functions, on raw row-major arrays whose shapes each comment gives.
 * libnn/cpu/ implements them (CBLAS and vectorised C); a second backend would be a second folder
 * implementing the same declarations on its own memory. No argument checks here: the callers
 * (the public functions and the layers) have checked shapes once.
 *
 * What stays outside on purpose, as host work rather than compute: init.c's random fills of new
 * parameters (initialisation, drawn in order from the caller's generator, then copied wherever the
 * parameters live), the validation of caller-supplied targets in loss.c (it reads the caller's
 * arrays to refuse bad input before any kernel runs), the public tensor helpers of tensor.c (they
 * work on caller memory), and scalars computed once per step (Adam's bias-corrected step size). */
#ifndef NN_COMPUTE_H
#define NN_COMPUTE_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

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
 * overwritten; dx (B, in) is skipped when NULL (the first layer's input gradient is never needed), dw
 * too (the sparse first layer's, fused with the optimizer's update).
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
    int has_ranks;      /* rank and col_fill were filled with the rows (nn__sparse_compress_u8) */
    int32_t *rank;      /* each entry's place among its column's entries (the rows before it there) */
    int32_t *col_start; /* cols + 1 offsets into col_row/col_value: the same entries by column */
    int32_t *col_fill;  /* cols: the entries of each column when has_ranks, else scratch */
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
/* The same for rows idx[0..batch) of uint8 images (the first batch rows when idx is NULL), each
 * value the pixel / 255.0f: bit for bit what nn__sparse_compress gives on the converted floats,
 * without converting the zeros. With `ranks` (training: the weight gradient will want the entries by
 * column) it also counts each column's entries into col_fill and each entry's rank in its column
 * into rank (batch x cols entries), so that the column lists need no counting sort. */
int nn__sparse_compress_u8(nn__sparse_rows *s, const uint8_t *images, const uint32_t *idx, int64_t batch,
                           int64_t cols, int ranks);
/* The same with the kernel of a given width (16, 8 or 4 floats; 16 and 8 only where nn__vector_lanes
 * allows them), for the tests. */
int nn__sparse_compress_u8_lanes(int lanes, nn__sparse_rows *s, const uint8_t *images, const uint32_t *idx,
                                 int64_t batch, int64_t cols, int ranks);

/* pre (B, out) = x W + b for compressed x, then y = act(pre). */
void nn__dense_forward_sparse(const nn__sparse_rows *x, int64_t out, const float *w, const float *b, nn_activation act,
                              float *pre, float *y);

/* dW (in, out) = x^T dpre for compressed x (building its column lists when not yet done). */
void nn__dense_weight_grad_sparse(nn__sparse_rows *x, int64_t out, const float *dpre, float *dw);
/* The weight gradient and the optimizer's update of W in one pass, for a training step that needs
 * dW only to update W: dW = x^T dpre is computed for a block of nn__sparse_update_block(out) rows at
 * a time into scratch (that many rows of out floats), which the step's rule (internal.h) applies to
 * the same rows of w at once, while they are in the cache; first is w's place among the step's
 * parameters. The gradient never reaches memory: a caller that must show it later recomputes it
 * (nn__dense_weight_grad_sparse). Bit for bit the weight gradient followed by the step. */
struct nn__step;
#define NN_SPARSE_UPDATE_FLOATS 4096
int64_t nn__sparse_update_block(int64_t out);
void nn__sparse_weight_grad_update(nn__sparse_rows *x, int64_t out, const float *dpre, float *w, float *scratch,
                                   const struct nn__step *step, size_t first);

/* The two products above with vectors of `lanes` floats (16 and 8 only where this processor runs them,
 * see nn__vector_lanes), so that tests can check every width: pre = x W + b, and relu_y = max(pre, 0)
 * when non-NULL; dw = x^T dpre. */
void nn__sparse_forward_lanes(int lanes, const nn__sparse_rows *x, int64_t out, const float *w, const float *b,
                              float *pre, float *relu_y);
void nn__sparse_weight_grad_lanes(int lanes, nn__sparse_rows *x, int64_t out, const float *dpre, float *dw);

/* C (m, n) = alpha op(A) op(B) + beta C, row-major; op transposes when trans is non-zero. Every
 * matrix product in libnn goes through here, so a different backend needs one change. */
void nn__gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
              int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* The same product computed naively in double, for tests that check the BLAS path. */
void nn__gemm_ref(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                  int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* Element-wise activation of n values (out may equal in), and its backward pass: gi = go * f'(in),
 * with out = f(in) from the forward pass; gi may equal go. */
void nn__act_forward(nn_activation act, float *out, const float *in, size_t n);
void nn__act_backward(nn_activation act, float *grad_in, const float *grad_out, const float *in, const float *out,
                      size_t n);

/* Batch normalization over the last axis of x (rows, c), rows = batch x pixels.
 * Training: y = gamma x_hat + beta with the batch's mean and biased variance; keeps x_hat (rows, c),
 * inv = 1 / sqrt(var + eps) (c), and the batch's mean and var (c) for the moving statistics. */
void nn__batchnorm_forward_train(int64_t rows, int64_t c, const float *x, const float *gamma, const float *beta,
                                 float eps, float *xhat, float *inv, float *mean, float *var, float *y);
/* Inference: y = gamma (x - moving_mean) / sqrt(moving_var + eps) + beta. */
void nn__batchnorm_forward_infer(int64_t rows, int64_t c, const float *x, const float *gamma, const float *beta,
                                 const float *moving_mean, const float *moving_var, float eps, float *y);
/* From dy (rows, c): dgamma, dbeta (c) overwritten; dx (rows, c) when non-NULL. */
void nn__batchnorm_backward(int64_t rows, int64_t c, const float *dy, const float *xhat, const float *inv,
                            const float *gamma, float *dgamma, float *dbeta, float *dx);
/* moving = moving * momentum + batch * (1 - momentum), for mean and variance (c). */
void nn__batchnorm_update_moving(int64_t c, float momentum, const float *mean, const float *var,
                                 float *moving_mean, float *moving_var);

/* Inverted dropout of n values: mask[i] = 1 / (1 - rate) with probability 1 - rate, else 0, drawn
 * from rng in order; y = x * mask. */
void nn__dropout_forward(size_t n, float rate, nn_rng *rng, const float *x, float *mask, float *y);
/* out = a * b, element-wise, n values. */
void nn__mul(size_t n, const float *a, const float *b, float *out);
/* dst = src, n values (regions may overlap). */
void nn__copy(size_t n, const float *src, float *dst);

/* Softmax of each row of x (rows, c) into y (rows, c); y may equal x. Log-sum-exp in double. */
void nn__softmax_rows(int64_t rows, int64_t c, const float *x, float *y);
/* Mean over rows of the softmax cross-entropy of logits x (rows, c) against target: class indices
 * (rows), whole numbers in [0, c), when target_is_index, else distributions (rows, c). When grad
 * (rows, c) is non-NULL it receives d loss / d x = (sum(t) softmax(x) - t) / rows; grad may equal x. */
float nn__softmax_xent(int64_t rows, int64_t c, const float *x, const float *target, int target_is_index,
                       float *grad);
/* Mean of (pred - target)^2 over n values; grad (n), when non-NULL, receives 2 (pred - target) / n
 * and may equal pred or target. */
float nn__mse(int64_t n, const float *pred, const float *target, float *grad);
/* out (rows) = the index of the largest entry of each row of x (rows, c): the first one on ties, and
 * an entry wins only by comparing greater, so a NaN is never chosen unless it comes first. */
void nn__argmax_rows(int64_t rows, int64_t c, const float *x, int32_t *out);
/* How many rows of x (rows, c) have their argmax at the target's class: target holds class indices
 * (rows) when target_is_index, else rows (rows, c) whose argmax is the class. */
int64_t nn__argmax_matches(int64_t rows, int64_t c, const float *x, const float *target, int target_is_index);

/* Optimizer updates, in Keras 3's form, of the parameters w from the gradients g, each of n values
 * like every state array; the state never aliases w or g. */
/* SGD: w -= lr g. */
void nn__sgd_update(size_t n, float lr, float *w, const float *g);
/* SGD with momentum, velocity v: v = momentum v - lr g; w += v, or with Nesterov
 * w += momentum v - lr g (the new v). */
void nn__sgd_momentum_update(size_t n, float lr, float momentum, int nesterov, float *w, const float *g, float *v);
/* Adam / AdamW, moments m and v: m += (1-b1)(g - m); v += (1-b2)(g^2 - v); w -= decay w; then
 * w -= alpha m / (sqrt(v) + eps), where the caller folds the step's bias correction into
 * alpha = lr sqrt(1-b2^t) / (1-b1^t) and passes decay = lr weight_decay (0 for Adam). */
void nn__adam_update(size_t n, float alpha, float one_minus_b1, float one_minus_b2, float eps, float decay, float *w,
                     const float *g, float *m, float *v);
/* RMSprop, mean square s: s = rho s + (1-rho) g^2; the increment is lr g / sqrt(s + eps), or
 * lr g / sqrt(s - a^2 + eps) when mean_grad (a = rho a + (1-rho) g) is non-NULL (centered); with mom
 * non-NULL it accumulates, mom = momentum mom + increment, and w -= mom, else w -= increment. */
void nn__rmsprop_update(size_t n, float lr, float rho, float eps, float momentum, float *w, const float *g, float *s,
                        float *mean_grad, float *mom);
/* Adagrad, accumulator acc: acc += g^2; w -= lr g / sqrt(acc + eps). */
void nn__adagrad_update(size_t n, float lr, float eps, float *w, const float *g, float *acc);
/* 1 when each of the n values is +0 or a normal finite number: the values that an update with a zero
 * gradient (w - 0, and AdamW's w - 0 w) leaves bit for bit as they are. A subnormal one (under
 * flush-to-zero), -0 (-0 - -0 is +0), an infinity or a NaN may change. */
int nn__kept_by_zero_step(size_t n, const float *w);
/* RMSprop's mean square under a zero gradient: s = rho s + (1-rho) 0 0, the same bits. */
void nn__rmsprop_decay(size_t n, float rho, float *s);
/* dst = value, n values (optimizer state that starts non-zero, such as Adagrad's accumulator). */
void nn__fill(size_t n, float value, float *dst);

/* The largest |v[i]| of n floats, as the bits of a non-negative float: those order as the values do,
 * and an infinity or a NaN (0x7f800000 and up) ranks above every finite value. An integer reduction,
 * so no FPU mode (flush-to-zero) or finite-math assumption can bend it. */
uint32_t nn__max_abs_bits(const float *v, size_t n);
static inline int nn__finite_bits(uint32_t abs_bits) { return abs_bits < 0x7f800000u; }
/* The largest bit pattern of n floats, sign included: 0 when all are +0, under 0x7f800000 when all
 * are +0 or positive and finite (a negative one's sign bit puts it above them). */
uint32_t nn__max_raw_bits(const float *v, size_t n);
double nn__bits_value(uint32_t abs_bits);
/* Whether the gradients of a product x^T dpre (and dpre's column sums) over `rows` rows are sure to be
 * finite, from the largest |x| and |dpre| (as nn__max_abs_bits gives them). */
int nn__grads_bounded(uint32_t a_bits, uint32_t d_bits, int64_t rows);

/* Kernels compiled once per vector width (16, 8 or 4 floats) and chosen at run time, where GCC builds
 * for x86-64 Linux: GCC lowers a vector type wider than the target's registers through the stack, so
 * one width cannot suit every target (libnn/cpu/sparse_tile.h measured it). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(NN_NO_CLONES)
#define NN__WIDE_KERNELS 1
#endif
/* The widest vectors this processor runs: 16, 8 or 4 floats. */
int nn__vector_lanes(void);

/* ---- images, channels last: x (B, H, W, C) */

/* A window sliding over an image: input (h, w, c), window (kh, kw), stride (sh, sw), padding on the
 * top and left (pt, pl; the bottom and right follow from the output size), output (oh, ow). */
typedef struct nn__conv_geom {
    int64_t h, w, c, kh, kw, sh, sw, pt, pl, oh, ow;
} nn__conv_geom;

/* cols (B * oh * ow, kh * kw * c): each output pixel's receptive field in (ky, kx, c) order, zeros
 * where the window hangs over the padding. */
void nn__im2col(const nn__conv_geom *g, int64_t batch, const float *x, float *cols);
/* dx (B, h, w, c) = the sum of each column entry back into the pixel it came from (overwritten). */
void nn__col2im(const nn__conv_geom *g, int64_t batch, const float *cols, float *dx);
/* sums (n) = column sums of x (rows, n). */
void nn__col_sums(int64_t rows, int64_t n, const float *x, float *sums);
/* y (rows, n) = y + b (b (n) skipped when NULL), then ReLU when relu is non-zero, in one pass: the
 * bias and activation of a product still in cache. */
void nn__bias_relu_rows(int64_t rows, int64_t n, const float *b, int relu, float *y);
/* The backward pass of that: with y (rows, n) the ReLU's output (NULL for no activation), dy becomes
 * d loss / d pre (zero where y <= 0); db (n), when non-NULL, gets dy's column sums ADDED (so blocks of
 * rows can accumulate). Returns the largest |dy| as nn__max_abs_bits does. */
uint32_t nn__relu_grad_rows(int64_t rows, int64_t n, const float *y, float *dy, float *db);
/* Max pooling's forward pass with vectors of `lanes` floats (16 and 8 only where this processor runs
 * them, see nn__vector_lanes), so that tests can compare every width with the reference. */
void nn__max_pool_lanes(int lanes, const nn__conv_geom *g, int64_t batch, const float *x, float *y, int32_t *argmax);

/* Direct convolution, for receptive fields of at most this many values (kh * kw * c): a first layer on
 * grey images, where im2col's K would be 9 and the column matrix 9x the input. */
#define NN__CONV_DIRECT_MAX_PATCH 16
/* y (B, oh, ow, f) = conv(x, k) + b (b skipped when NULL), then ReLU when relu is non-zero;
 * x (B, h, w, c), k (kh * kw * c, f) in (ky, kx, c) row order. */
void nn__conv_direct_forward(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x, const float *k,
                             const float *b, int relu, float *y);
/* dk (kh * kw * c, f) = sum over the batch's output pixels of window^T dy (overwritten); dy (B, oh, ow, f). */
void nn__conv_direct_kernel_grad(const nn__conv_geom *g, int64_t batch, int64_t f, const float *x, const float *dy,
                                 float *dk);
/* The two above with vectors of `lanes` floats (16 and 8 only where this processor runs them), so
 * that tests can check that every width gives the same bits. */
void nn__conv_direct_forward_lanes(int lanes, const nn__conv_geom *g, int64_t batch, int64_t f, const float *x,
                                   const float *k, const float *b, int relu, float *y);
void nn__conv_direct_kernel_grad_lanes(int lanes, const nn__conv_geom *g, int64_t batch, int64_t f,
                                       const float *x, const float *dy, float *dk);
/* Max (max = 1, keeping the flat input index of each maximum in argmax) or average pooling, per
 * channel, over the part of each window inside the image; y (B, oh, ow, c). */
void nn__pool_forward(const nn__conv_geom *g, int64_t batch, int max, const float *x, float *y, int32_t *argmax);
/* The same, channel by channel: the plain loop kept for tests to compare with. */
void nn__pool_forward_ref(const nn__conv_geom *g, int64_t batch, int max, const float *x, float *y, int32_t *argmax);
/* dx (B, h, w, c) from dy (B, oh, ow, c), overwritten. */
void nn__pool_backward(const nn__conv_geom *g, int64_t batch, int max, const float *dy, const int32_t *argmax,
                       float *dx);

#endif /* NN_COMPUTE_H */
