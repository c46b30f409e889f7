#ifndef NNM_PREDICT_H
#define NNM_PREDICT_H
/* `nn-mnist predict [options] IMAGE...`: the digits in photos and scans (docs/predict.md). */
int nnm_cmd_predict(int argc, char **argv);
#endif
