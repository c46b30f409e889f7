/* Models of every layer kind and activation for the ONNX tests (test_onnx.c, onnx_bridge.c). */
#ifndef NN_TESTS_ONNX_MODELS_H
#define NN_TESTS_ONNX_MODELS_H

#include <stdint.h>

#include <nn/nn.h>

/* Kinds: "mlp" (784-128 relu-10), "cnn" (Keras' MNIST convnet on 28x28x1), "every" (every layer kind
 * and activation on 12x12x3 images), "gap" (conv, global average pool, batch norm, dense), "mse" (a
 * small regression). Compiled without an optimizer, weights and batch-norm statistics random from
 * seed, so that every tensor matters. NN_OK or the failing call's status. */
nn_status onnx_test_model(nn_model **out, const char *kind, uint64_t seed);

/* The kinds above, NULL-terminated. */
extern const char *const onnx_test_kinds[];

#endif
