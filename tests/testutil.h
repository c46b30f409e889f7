/* Helpers shared by the unit tests: numeric comparisons and a finite-difference gradient check. */
#ifndef NN_TESTUTIL_H
#define NN_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

/* Fill n floats uniformly in [lo, hi) from rng. */
void tu_fill_uniform(float *x, size_t n, float lo, float hi, nn_rng *rng);

/* A scalar function of some float array, evaluated in double where the caller can. */
typedef double (*tu_scalar_fn)(void *ctx);

/* Compare grad[i] with the central difference (f(x+h) - f(x-h)) / 2h at every x[i] (x is perturbed
 * in place and restored). Returns the largest error |num - ana| / max(1, |num|, |ana|), and the
 * index where it happened through worst (may be NULL). */
double tu_gradcheck(tu_scalar_fn f, void *ctx, float *x, const float *grad, size_t n, double h, size_t *worst);

/* Largest |a[i] - b[i]|. */
double tu_max_abs_diff(const float *a, const float *b, size_t n);

/* A fresh temporary directory (mkdtemp under $TMPDIR or /tmp); the caller removes it with tu_rmtree. */
char *tu_tmpdir(void);
void tu_rmtree(const char *path);

/* A call that must not block (a FIFO opened for reading waits for a writer): between tu_watchdog(s,
 * what) and tu_watchdog(0, NULL), a call still running after s seconds ends the test with a message
 * naming `what`, a failure rather than a hung test. */
void tu_watchdog(unsigned seconds, const char *what);

#endif
