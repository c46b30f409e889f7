#ifndef NNM_INSPECT_H
#define NNM_INSPECT_H
int nnm_cmd_info(int argc, char **argv);
int nnm_cmd_eval(int argc, char **argv);
#endif
