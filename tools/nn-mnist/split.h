/* The validation split: a class-stratified share of the training images held out from training. */
#ifndef NNM_SPLIT_H
#define NNM_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include <nn/nn.h>

/* Splits the first n examples of ds into fit (trained on) and val (held out), both ascending. From
 * each class, round(fraction * its count) examples drawn by a generator seeded with seed go to val,
 * so that the split has the training set's class balance and depends on the seed alone (not on the
 * run's seed: runs of every seed and cell see one split, and their differences are the training's).
 * fraction in (0, 1); a split that leaves either side empty is refused. The caller frees *fit and
 * *val. 0, or -1 with err. */
int nnm_split_stratified(const nn_dataset *ds, int64_t n, double fraction, uint64_t seed, uint32_t **fit,
                         int64_t *n_fit, uint32_t **val, int64_t *n_val, char *err, size_t errlen);

#endif
