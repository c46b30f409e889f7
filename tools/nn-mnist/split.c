#include "split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ascending(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int nnm_split_stratified(const nn_dataset *ds, int64_t n, double fraction, uint64_t seed, uint32_t **fit,
                         int64_t *n_fit, uint32_t **val, int64_t *n_val, char *err, size_t errlen)
{
    *fit = *val = NULL;
    *n_fit = *n_val = 0;
    const uint8_t *labels = nn_dataset_labels(ds);
    int classes = nn_dataset_classes(ds);
    if (!labels || classes < 1 || classes > 256 || n < 2 || n > nn_dataset_count(ds) || n > UINT32_MAX ||
        !(fraction > 0 && fraction < 1)) {
        snprintf(err, errlen, "cannot split %lld images at %g", (long long)n, fraction);
        return -1;
    }
    uint32_t *by_class = malloc((size_t)n * sizeof *by_class), *f = malloc((size_t)n * sizeof *f),
             *v = malloc((size_t)n * sizeof *v);
    int64_t start[257] = {0};
    nn_rng *rng = NULL;
    if (!by_class || !f || !v || nn_rng_create(&rng, seed) != NN_OK) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* Counting sort by label: each class's examples in ascending order, then shuffled within. */
    for (int64_t i = 0; i < n; i++) start[labels[i] + 1]++;
    for (int k = 0; k < 256; k++) start[k + 1] += start[k];
    int64_t fill[256];
    memcpy(fill, start, sizeof fill);
    for (int64_t i = 0; i < n; i++) by_class[fill[labels[i]]++] = (uint32_t)i;
    int64_t nf = 0, nv = 0;
    for (int k = 0; k < 256; k++) {
        int64_t count = start[k + 1] - start[k];
        if (count == 0) continue;
        nn_rng_shuffle(rng, by_class + start[k], (size_t)count);
        int64_t take = llround(fraction * (double)count);
        memcpy(v + nv, by_class + start[k], (size_t)take * sizeof *v);
        memcpy(f + nf, by_class + start[k] + take, (size_t)(count - take) * sizeof *f);
        nv += take;
        nf += count - take;
    }
    if (nv == 0 || nf == 0) {
        snprintf(err, errlen, "--validation %g of %lld training images leaves %s", fraction, (long long)n,
                 nv == 0 ? "no image to validate on" : "no image to train on");
        goto fail;
    }
    qsort(f, (size_t)nf, sizeof *f, ascending);
    qsort(v, (size_t)nv, sizeof *v, ascending);
    nn_rng_free(rng);
    free(by_class);
    *fit = f;
    *val = v;
    *n_fit = nf;
    *n_val = nv;
    return 0;
fail:
    nn_rng_free(rng);
    free(by_class);
    free(f);
    free(v);
    return -1;
}
