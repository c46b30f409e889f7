/* libFuzzer target for the ONNX importer (libnn/onnx/import.c): the input is an ONNX file, given to
 * nn_model_load_onnx_buffer(). What loads is used: a forward pass on a small batch, an export, and a
 * second import of that export, which must give the same outputs; abort() on any violation. Without
 * ONNX in the build the call must say NN_ERR_UNSUPPORTED. The seed corpus fuzz/corpus-onnx/ holds
 * libnn's exports of every layer kind and PyTorch's exports (tests/onnx/make_corpus.py). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static float *forward(nn_model *m, const float *x, int64_t rows)
{
    int64_t fout = nn_model_output_features(m);
    float *y = malloc((size_t)(rows * fout) * sizeof *y);
    nn_tensor tx, ty;
    if (!y || nn_tensor_view(&tx, (float *)x, 2, (int64_t[]){rows, nn_model_input_features(m)}) != NN_OK ||
        nn_tensor_view(&ty, y, 2, (int64_t[]){rows, fout}) != NN_OK || nn_model_reserve(m, rows) != NN_OK ||
        nn_model_forward(m, &ty, &tx) != NN_OK) {
        free(y);
        return NULL;
    }
    return y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_model *m = (nn_model *)&m;
    nn_status st = nn_model_load_onnx_buffer(&m, data, size, NULL);
    if (!nn_onnx_available()) {
        if (st != NN_ERR_UNSUPPORTED || m) abort();
        return 0;
    }
    if (st != NN_OK) {
        if (m || !nn_last_error()[0]) abort();
        return 0;
    }
    /* Bounded work per input: large models are skipped after the load. */
    int64_t fin = nn_model_input_features(m);
    if (fin < 1 || nn_model_output_features(m) < 1) abort();
    if (fin > 4096 || nn_model_param_count(m) > 200000) {
        nn_model_free(m);
        return 0;
    }
    const int64_t rows = 2;
    float *x = malloc((size_t)(rows * fin) * sizeof *x);
    if (!x) abort();
    for (int64_t i = 0; i < rows * fin; i++) x[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    float *y = forward(m, x, rows);
    if (y) {
        /* Export and import again: the same outputs. */
        void *buf;
        size_t len;
        nn_model *back = NULL;
        if (nn_model_save_onnx_buffer(m, &buf, &len, NULL) != NN_OK) abort();
        if (nn_model_load_onnx_buffer(&back, buf, len, NULL) != NN_OK) abort();
        float *y2 = forward(back, x, rows);
        if (!y2) abort();
        for (int64_t i = 0; i < rows * nn_model_output_features(m); i++)
            if (!(y[i] == y2[i] || (isnan(y[i]) && isnan(y2[i])))) abort();
        free(y2);
        nn_model_free(back);
        nn_buffer_free(buf);
    }
    free(y);
    free(x);
    nn_model_free(m);
    return 0;
}
