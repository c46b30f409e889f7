/* Shared by libnn/onnx/: options, the generated protobuf-c code, and a small arena for the messages
 * an export builds. docs/onnx.md describes the subset, the opset and the layout conversions. */
#ifndef NN_ONNX_INTERNAL_H
#define NN_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* dst (the library's current version) from the caller's options of any known version; NULL: defaults. */
nn_status nn__onnx_options_take(nn_onnx_options *dst, const nn_onnx_options *src, const char *who);

#ifdef NN_HAVE_ONNX
#include "onnx/onnx.pb-c.h"

/* ONNX's TensorProto.DataType values that libnn reads. */
enum { NN__ONNX_FLOAT = 1, NN__ONNX_INT64 = 7, NN__ONNX_DOUBLE = 11 };

/* Every allocation of an export, released at once. After a failed allocation, oom stays set and
 * every later one returns NULL, so a builder checks once at the end. */
typedef struct nn__arena {
    void *head; /* a chain of blocks, each with the previous one's address first */
    int oom;
} nn__arena;

void *nn__arena_alloc(nn__arena *a, size_t n); /* zeroed */
char *nn__arena_printf(nn__arena *a, const char *fmt, ...) NN_PRINTF(2, 3);
void nn__arena_free(nn__arena *a);

/* Parse an untrusted ONNX model: nesting depth and wire format checked first, then protobuf-c with
 * a memory budget. Release with nn__onnx_model_free(). NN_ERR_FORMAT or NN_ERR_NO_MEMORY. */
nn_status nn__onnx_unpack(Onnx__ModelProto **out, const uint8_t *data, size_t size);
void nn__onnx_model_free(Onnx__ModelProto *mp);
#endif

#endif /* NN_ONNX_INTERNAL_H */
