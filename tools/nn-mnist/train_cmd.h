/* `nn-mnist train`: one model, the recommended recipe by default, saved for `nn-mnist predict`. */
#ifndef NNM_TRAIN_CMD_H
#define NNM_TRAIN_CMD_H

int nnm_cmd_train(int argc, char **argv);

#endif
