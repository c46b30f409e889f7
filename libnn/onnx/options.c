/* nn_onnx_options, in every build: a program built against a libnn without ONNX still fills them. */
#include "onnx_internal.h"

static const size_t onnx_options_sizes[] = {sizeof(nn_onnx_options)};
static const nn_onnx_options onnx_defaults = NN_ONNX_OPTIONS_INIT;

nn_status nn_onnx_options_init(nn_onnx_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &onnx_defaults, onnx_options_sizes, NN_ONNX_OPTIONS_VERSION,
                            "nn_onnx_options_init");
}

nn_status nn__onnx_options_take(nn_onnx_options *dst, const nn_onnx_options *src, const char *who)
{
    return nn__options_take(dst, &onnx_defaults, src, onnx_options_sizes, NN_ONNX_OPTIONS_VERSION, who);
}
