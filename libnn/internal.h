/* Private helpers shared by libnn's source files; never installed, never included by a public header. */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn/nn.h"

/* The library is built for baseline x86-64 (SSE2) so that it runs anywhere; its hot loops are also
 * compiled for AVX2 and AVX-512 and the best one is picked when the library loads (GNU ifunc).
 * GCC only: clang 14's clones of these functions fail to link here, so clang builds use baseline. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(NN_NO_CLONES)
#define NN_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NN_HOT
#endif

/* Pixel and dynamic-programming loops compare values millions of times per call, and none of those
 * comparisons is a branch a fuzzer could learn from: such a function is left out of the fuzz
 * build's coverage instrumentation altogether (its comparison tracing made one 50 times slower,
 * past the fuzz targets' timeout; its branches are few and plain). Not inlined, as the caller's
 * instrumentation would come back with the inlined body. Clang 13 and later: older ones warn about
 * the "coverage" argument. */
#if defined(__clang__) && __clang_major__ >= 13
#define NN_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#endif
#ifndef NN_NO_COVERAGE
#define NN_NO_COVERAGE
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

/* Arrays that vector loops run over start on a cache line (libnn/memory.c says why): count * size
 * bytes, zeroed when zero is non-zero, NULL when out of memory or on overflow; freed with free(). */
#define NN_ALIGN_BYTES 64
#define NN_ALIGN_FLOATS (NN_ALIGN_BYTES / sizeof(float))
void *nn__aligned_alloc(size_t count, size_t size, int zero);
/* n rounded up to whole cache lines of floats: the stride that keeps the next array aligned too. */
size_t nn__align_floats(size_t n);

/* An optimizer given to a model belongs to it (nn_model_compile, nn_model_set_optimizer): the model
 * records itself as the owner, so that a second model refuses it and nn_optimizer_free() leaves it
 * alone; release clears the owner and frees, for the model's own use. */
const nn_model *nn_optimizer__owner(const nn_optimizer *opt);
void nn_optimizer__set_owner(nn_optimizer *opt, const nn_model *owner);
void nn_optimizer__release(nn_optimizer *opt);

/* One optimizer step taken in parts, for a caller that computes the gradient of some parameters
 * just before updating them (the model's sparse first layer: its weight gradient never leaves the
 * cache). begin checks the optimizer and fixes the step's constants as nn_optimizer_step() does;
 * part applies the rule to parameters [first, first + n) of the n, at params with their gradients at
 * grads; end counts the step. Every part of a step once, in any order, is nn_optimizer_step() bit for
 * bit: the rules are elementwise. */
typedef struct nn__step {
    nn_optimizer_kind kind;
    float lr, momentum, alpha, decay, one_minus_b1, one_minus_b2, eps, rho;
    int nesterov;
    float *s[3];                /* the state arrays, NULL past the optimizer's count */
    float *mean_grad, *mom;     /* RMSprop's, within s[] */
} nn__step;
nn_status nn__optimizer_begin(nn_optimizer *opt, size_t n, nn__step *step);
void nn__optimizer_part(const nn__step *step, size_t first, size_t n, float *params, const float *grads);
/* The part's rule for a zero gradient, doing only the work that changes bits: plain SGD leaves
 * the parameters as they are, plain RMSprop decays its mean square, Adam with both moments +0 changes
 * nothing. Returns 0, having written nothing, when it cannot tell without the full rule (other
 * optimizers, or a parameter that w - 0 may change): the caller then applies nn__optimizer_part to
 * a zero gradient. */
int nn__optimizer_idle(const nn__step *step, size_t first, size_t n, float *params);
void nn__optimizer_end(nn_optimizer *opt);

/* Versioned options structs (libgit2's scheme): the first field is the version the caller was built
 * with, fields are only ever appended, and sizes[v - 1] is the size of version v. take fills dst
 * (the library's current version) with defaults, then with the caller's fields of the caller's
 * version; NULL src means defaults. init fills a caller's struct of `version` with defaults. */
nn_status nn__options_take(void *dst, const void *defaults, const void *src, const size_t *sizes, unsigned current,
                           const char *who);
nn_status nn__options_init(void *dst, unsigned version, const void *defaults, const size_t *sizes,
                           unsigned current, const char *who);

/* io/open_regular.c: opens path to read it through, refusing what is not a regular file (sizes are
 * checked against its length, and a FIFO would block the open). On success *fp and *size are set
 * and step and kind are NULL; otherwise step names what failed (err: its errno), or kind says what
 * the path is instead ("a FIFO"; folder set for a folder). */
typedef struct nn__open_result {
    const char *step, *kind;
    int err, folder;
} nn__open_result;
nn__open_result nn__open_regular(const char *path, FILE **fp, uint64_t *size);

#endif /* NN_INTERNAL_H */
