#include "internal.h"

#ifdef NN_HAVE_OPENBLAS
/* OpenBLAS' own controls; declared here rather than through its headers, whose names differ between
 * distributions. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);

nn_status nn_runtime_set_blas_threads(int n)
{
    if (n < 1) return nn__fail(NN_ERR_INVALID_ARGUMENT, "BLAS threads must be at least 1, got %d", n);
    openblas_set_num_threads(n);
    return NN_OK;
}

int nn_runtime_blas_threads(void) { return openblas_get_num_threads(); }

const char *nn_runtime_blas_name(void) { return openblas_get_config(); }
#else
nn_status nn_runtime_set_blas_threads(int n)
{
    if (n < 1) return nn__fail(NN_ERR_INVALID_ARGUMENT, "BLAS threads must be at least 1, got %d", n);
    if (n > 1) return nn__fail(NN_ERR_UNSUPPORTED, "the reference CBLAS is single-threaded");
    return NN_OK;
}

int nn_runtime_blas_threads(void) { return 1; }

/* Debian resolves libblas.so.3 through its alternatives: the reference BLAS or an optimised one. */
const char *nn_runtime_blas_name(void) { return "generic CBLAS (libblas.so.3)"; }
#endif
