/* A build without ONNX (meson -Donnx=disabled, or protobuf-c or onnx.proto not found): the functions
 * exist, so that programs link either way, and say why they do nothing. */
#include "onnx_internal.h"

static nn_status unsupported(const char *who)
{
    return nn__fail(NN_ERR_UNSUPPORTED, "%s: this libnn was built without ONNX support (meson -Donnx=enabled "
                                        "needs protobuf-c and onnx.proto)", who);
}

int nn_onnx_available(void) { return 0; }

nn_status nn_model_save_onnx(const nn_model *m, const char *path, const nn_onnx_options *opts)
{
    (void)m, (void)path, (void)opts;
    return unsupported("nn_model_save_onnx");
}

nn_status nn_model_save_onnx_buffer(const nn_model *m, void **out, size_t *size, const nn_onnx_options *opts)
{
    (void)m, (void)opts;
    if (out) *out = NULL;
    if (size) *size = 0;
    return unsupported("nn_model_save_onnx_buffer");
}

nn_status nn_model_load_onnx(nn_model **out, const char *path, const nn_onnx_options *opts)
{
    (void)path, (void)opts;
    if (out) *out = NULL;
    return unsupported("nn_model_load_onnx");
}

nn_status nn_model_load_onnx_buffer(nn_model **out, const void *data, size_t size, const nn_onnx_options *opts)
{
    (void)data, (void)size, (void)opts;
    if (out) *out = NULL;
    return unsupported("nn_model_load_onnx_buffer");
}
