/* `nn-mnist grid`: train every optimizer x activation pair (once per seed), resumably, then report. */
#ifndef NNM_GRID_H
#define NNM_GRID_H

int nnm_cmd_grid(int argc, char **argv);

#endif
