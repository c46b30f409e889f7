/* `nn-mnist export` and `nn-mnist import`: libnn model files to and from ONNX (docs/onnx.md). */
#ifndef NNM_CONVERT_H
#define NNM_CONVERT_H
int nnm_cmd_export(int argc, char **argv);
int nnm_cmd_import(int argc, char **argv);
#endif
