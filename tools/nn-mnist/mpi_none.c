/* Built when MPI is not: every process is rank 0 of 1. */
#include <stdio.h>

#include "mpi_grid.h"

int nnm_mpi_init(int *argc, char ***argv, nnm_mpi *mpi)
{
    (void)argc;
    (void)argv;
    mpi->rank = 0;
    mpi->size = 1;
    mpi->initialized = 0;
    return 0;
}

void nnm_mpi_finalize(nnm_mpi *mpi) { (void)mpi; }

int nnm_mpi_run_grid(nnm_mpi *mpi, const nnm_train_env *env, const nnm_run *runs, int n, int *state, char *err,
                     size_t errlen)
{
    (void)mpi; (void)env; (void)runs; (void)n; (void)state;
    snprintf(err, errlen, "this nn-mnist was built without MPI");
    return -1;
}

int nnm_mpi_all_ok(nnm_mpi *mpi, int ok)
{
    (void)mpi;
    return ok;
}

void nnm_mpi_share_state(nnm_mpi *mpi, int *state, int n)
{
    (void)mpi; (void)state; (void)n;
}
