/* The ONNX tests' bridge between libnn and Python (test_onnx.py):
 *   onnx_bridge make KIND SEED OUT.nnm         a test model (models.h)
 *   onnx_bridge export IN.nnm OUT.onnx [softmax]
 *   onnx_bridge import IN.onnx OUT.nnm
 *   onnx_bridge forward MODEL IN.f32 OUT.f32   MODEL .nnm or .onnx; IN rows of the model's inputs
 *                                              (float32, channels last); OUT its outputs, float32
 * Exit status 0, or 1 with libnn's message on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#include "models.h"

static int fail(const char *what)
{
    fprintf(stderr, "onnx_bridge: %s: %s\n", what, nn_last_error());
    return 1;
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

static nn_status load_any(nn_model **m, const char *path)
{
    return ends_with(path, ".onnx") ? nn_model_load_onnx(m, path, NULL) : nn_model_load(m, path, NULL);
}

static int forward(const char *model, const char *in_path, const char *out_path)
{
    nn_model *m;
    if (load_any(&m, model) != NN_OK) return fail(model);
    int64_t fin = nn_model_input_features(m), fout = nn_model_output_features(m);
    FILE *f = fopen(in_path, "rb");
    if (!f) {
        perror(in_path);
        nn_model_free(m);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int64_t rows = bytes / (long)(fin * 4);
    float *x = malloc((size_t)bytes + 4), *y = malloc((size_t)(rows * fout) * 4 + 4);
    int rc = 1;
    if (x && y && fread(x, 1, (size_t)bytes, f) == (size_t)bytes && rows * fin * 4 == bytes) {
        nn_tensor tx, ty;
        int64_t sx[] = {rows, fin}, sy[] = {rows, fout};
        nn_tensor_view(&tx, x, 2, sx);
        nn_tensor_view(&ty, y, 2, sy);
        if (nn_model_reserve(m, rows) != NN_OK || nn_model_forward(m, &ty, &tx) != NN_OK) {
            rc = fail("forward");
        } else {
            FILE *o = fopen(out_path, "wb");
            rc = !o || fwrite(y, 4, (size_t)(rows * fout), o) != (size_t)(rows * fout);
            if (o && fclose(o) != 0) rc = 1;
            if (rc) perror(out_path);
        }
    } else {
        fprintf(stderr, "onnx_bridge: %s: %ld bytes, not rows of %lld float32 inputs\n", in_path, bytes,
                (long long)fin);
    }
    fclose(f);
    free(x);
    free(y);
    nn_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "make")) {
        nn_model *m;
        if (onnx_test_model(&m, argv[2], strtoull(argv[3], NULL, 10)) != NN_OK) return fail("make");
        nn_save_options so = NN_SAVE_OPTIONS_INIT;
        const char *k[] = {"created", "dataset"}, *v[] = {"", "test"};
        so.meta_keys = k, so.meta_values = v, so.meta_count = 2;
        int rc = nn_model_save(m, argv[4], &so) != NN_OK ? fail("save") : 0;
        nn_model_free(m);
        return rc;
    }
    if (argc >= 4 && !strcmp(argv[1], "export")) {
        nn_model *m;
        if (nn_model_load(&m, argv[2], NULL) != NN_OK) return fail(argv[2]);
        nn_onnx_options o = NN_ONNX_OPTIONS_INIT;
        o.softmax = argc > 4 && !strcmp(argv[4], "softmax");
        int rc = nn_model_save_onnx(m, argv[3], &o) != NN_OK ? fail("export") : 0;
        nn_model_free(m);
        return rc;
    }
    if (argc == 4 && !strcmp(argv[1], "import")) {
        nn_model *m;
        if (nn_model_load_onnx(&m, argv[2], NULL) != NN_OK) return fail(argv[2]);
        int rc = nn_model_save(m, argv[3], NULL) != NN_OK ? fail("save") : 0;
        nn_model_free(m);
        return rc;
    }
    if (argc == 5 && !strcmp(argv[1], "forward")) return forward(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: onnx_bridge make KIND SEED OUT.nnm | export IN.nnm OUT.onnx [softmax] | "
                    "import IN.onnx OUT.nnm | forward MODEL IN.f32 OUT.f32\n");
    return 2;
}
