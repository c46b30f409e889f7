/* nn-mnist's side of MPI, which is none: every process is rank 0 of 1. The MPI grid is a second
 * program, nn-mnist-mpi (mpi_grid.c), so that nn-mnist does not need libmpi to start. */
#include <stdio.h>
#include <stdlib.h>

#include "mpi_grid.h"

/* The size of the job that mpirun (Open MPI, or a PMI launcher: MPICH's, Slurm's) says this process
 * belongs to; 1 when started by hand. */
static long launcher_size(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(vars[i]);
        if (v && atol(v) > 1) return atol(v);
    }
    return 1;
}

int nnm_mpi_init(int *argc, char ***argv, nnm_mpi *mpi)
{
    (void)argc;
    (void)argv;
    mpi->rank = 0;
    mpi->size = 1;
    mpi->initialized = 0;
    /* Under mpirun -np N, N copies of nn-mnist would each train the whole grid into the same folders:
     * they are told which program spreads it instead. */
    long size = launcher_size();
    if (size > 1) {
        const char *rank = getenv("OMPI_COMM_WORLD_RANK");
        if (!rank) rank = getenv("PMI_RANK");
        if (!rank || atol(rank) == 0)
            fprintf(stderr,
                    "nn-mnist: started as %ld MPI processes, but this program does not use MPI; run nn-mnist-mpi "
                    "under mpirun instead (mpirun -np %ld nn-mnist-mpi grid ...), installed when nn-mnist is "
                    "built with Open MPI\n",
                    size, size);
        return -1;
    }
    return 0;
}

void nnm_mpi_finalize(nnm_mpi *mpi) { (void)mpi; }

int nnm_mpi_run_grid(nnm_mpi *mpi, const nnm_train_env *env, const nnm_run *runs, int n, int *state, char *err,
                     size_t errlen)
{
    (void)mpi; (void)env; (void)runs; (void)n; (void)state;
    snprintf(err, errlen, "nn-mnist does not use MPI; nn-mnist-mpi does");
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
