/**
 * @file runtime.h
 * @brief The linear-algebra backend under libnn: which one, and how many threads it uses.
 *
 * libnn does all matrix products through CBLAS. Its thread count is the BLAS library's own
 * process-wide setting, not libnn state: at batch 32 a second BLAS thread is slower, not faster, so
 * programs that train several models at once use one BLAS thread per model and one model per thread.
 * Results are bit-identical run to run for a fixed BLAS thread count, but may differ in the last bits
 * between thread counts (OpenBLAS splits sums differently).
 */
#ifndef NN_RUNTIME_H
#define NN_RUNTIME_H

#include "export.h"
#include "status.h"

NN_BEGIN_DECLS

/**
 * @brief Set the number of threads the BLAS backend uses for each product.
 * @return NN_OK; NN_ERR_INVALID_ARGUMENT for n < 1; NN_ERR_UNSUPPORTED when the backend (reference
 *         CBLAS) is single-threaded and n > 1.
 * @since 0.1
 */
NN_API nn_status nn_runtime_set_blas_threads(int n);

/** @brief Threads the BLAS backend currently uses (1 for the reference CBLAS). @since 0.1 */
NN_API int nn_runtime_blas_threads(void);

/** @brief A short description of the BLAS backend, e.g. "OpenBLAS 0.3.21 ... Haswell". @since 0.1 */
NN_API const char *nn_runtime_blas_name(void);

NN_END_DECLS

#endif /* NN_RUNTIME_H */
