/* `nn-mnist tune`: the learning rate (or the batch size) of each optimizer x activation cell, chosen on
 * the validation split over a log grid, with the figures of how much it matters. */
#ifndef NNM_TUNE_H
#define NNM_TUNE_H

int nnm_cmd_tune(int argc, char **argv);

#endif
