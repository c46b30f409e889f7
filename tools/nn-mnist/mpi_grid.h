/* The grid over MPI: rank 0 hands runs out one at a time (a rank that finishes early takes the next),
 * workers train them and send their records back, and rank 0 writes every record and the report. */
#ifndef NNM_MPI_GRID_H
#define NNM_MPI_GRID_H

#include <stddef.h>

#include "train.h"

typedef struct nnm_mpi {
    int rank, size;
    int initialized;
} nnm_mpi;

/* Two implementations: mpi_grid.c, linked into nn-mnist-mpi, and mpi_none.c, into nn-mnist (which so
 * needs no libmpi to run). nn-mnist-mpi joins MPI when started under mpirun, otherwise it is rank 0
 * of 1; nn-mnist is always rank 0 of 1, and refuses (-1, with a message naming nn-mnist-mpi) to
 * start as one of several MPI processes. 0 or -1. */
int nnm_mpi_init(int *argc, char ***argv, nnm_mpi *mpi);
void nnm_mpi_finalize(nnm_mpi *mpi);

/* 1 when ok is non-zero on every rank (collective; plain ok without MPI). */
int nnm_mpi_all_ok(nnm_mpi *mpi, int ok);
/* Rank 0's view of which runs are done, to every rank. */
void nnm_mpi_share_state(nnm_mpi *mpi, int *state, int n);

/* Trains the runs whose state is < 0 across all ranks; 0 or -1 with err. */
int nnm_mpi_run_grid(nnm_mpi *mpi, const nnm_train_env *env, const nnm_run *runs, int n, int *state, char *err,
                     size_t errlen);

#endif
