/**
 * @file nn.h
 * @brief libnn, a small neural-network library in C11: include this one header for all of it.
 *
 * Conventions (docs/api.md has the details): fallible calls return ::nn_status and leave a detail in
 * nn_last_error(); the object behind every `**out` belongs to the caller and has a matching _free();
 * freeing NULL does nothing; one object, one thread at a time; tensors are float32, row-major.
 */
#ifndef NN_NN_H
#define NN_NN_H

#include <nn/version.h>
#include "status.h"
#include "tensor.h"
#include "rng.h"
#include "init.h"
#include "activation.h"
#include "loss.h"
#include "layer.h"
#include "optimizer.h"
#include "model.h"
#include "data.h"
#include "io.h"
#include "onnx.h"
#include "runtime.h"
#include "digits.h"

#endif /* NN_NN_H */
