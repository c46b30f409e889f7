/* The dataset's layout, shared by the IDX reader and the dataset functions; never installed. */
#ifndef NN_DATASET_INTERNAL_H
#define NN_DATASET_INTERNAL_H

#include <stdint.h>

#include "internal.h"

/* Immutable after creation: every function that takes a const nn_dataset * only reads, which is
 * what lets several threads gather batches from one dataset at once. */
struct nn_dataset {
    int64_t count;     /* examples */
    int64_t rows;      /* image height */
    int64_t cols;      /* image width */
    int64_t features;  /* rows * cols */
    int classes;       /* largest label + 1 (for a subset: its source's) */
    uint8_t *images;   /* count x features, row-major */
    uint8_t *labels;   /* count */
};

/* Make a dataset from malloc'd buffers, taking ownership of both on success and on failure (so a
 * loader never has to free them after calling this). The arguments were validated by the caller. */
nn_status nn_dataset__adopt(nn_dataset **out, int64_t count, int64_t rows, int64_t cols, uint8_t *images,
                            uint8_t *labels);

#endif /* NN_DATASET_INTERNAL_H */
