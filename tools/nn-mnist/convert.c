/* `nn-mnist export MODEL.nnm OUT.onnx` and `nn-mnist import IN.onnx OUT.nnm`, through libnn's ONNX
 * export and import (include/nn/onnx.h). An exported model keeps the file's metadata as ONNX
 * metadata_props; an imported one records where it came from. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nn/nn.h>

#include "convert.h"

static void print_io(const nn_model *m, const char *out_name)
{
    int64_t shape[NN_MAX_EXAMPLE_RANK];
    int rank = nn_model_input_shape(m, shape);
    if (rank == 3)
        printf("  input 'input' (N, %" PRId64 ", %" PRId64 ", %" PRId64 ") channels first", shape[2], shape[0], shape[1]);
    else
        printf("  input 'input' (N, %" PRId64 ")", nn_model_input_features(m));
    printf(", output '%s' (N, %" PRId64 ")\n", out_name, nn_model_output_features(m));
}

int nnm_cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {{"softmax", no_argument, NULL, 's'},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
    nn_onnx_options o = NN_ONNX_OPTIONS_INIT;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': o.softmax = 1; break;
        case 'h':
            printf("Usage: nn-mnist export [options] MODEL.nnm OUT.onnx\n\nWrite a saved model as an ONNX model "
                   "(opset %d; docs/onnx.md), for ONNX Runtime, OpenCV's dnn module or PyTorch tools.\n\n"
                   "  --softmax   end the graph in class probabilities instead of logits [off]\n",
                   NN_ONNX_OPSET);
            return 0;
        default: fprintf(stderr, "Try 'nn-mnist export --help'.\n"); return 2;
        }
    }
    if (optind != argc - 2) {
        fprintf(stderr, "nn-mnist export: expected MODEL.nnm OUT.onnx (see nn-mnist export --help)\n");
        return 2;
    }
    const char *in = argv[optind], *out = argv[optind + 1];
    nn_model *m = NULL;
    nn_file_info *info = NULL;
    if (nn_model_load(&m, in, NULL) != NN_OK || nn_file_info_read(&info, in) != NN_OK) {
        fprintf(stderr, "nn-mnist export: %s\n", nn_last_error());
        nn_model_free(m);
        return 1;
    }
    /* The file's metadata travels, except the library's own keys, which the export writes afresh. */
    const char *keys[NN_FORMAT_MAX_META], *values[NN_FORMAT_MAX_META];
    size_t n = 0;
    for (size_t i = 0; i < nn_file_info_meta_count(info) && n < NN_FORMAT_MAX_META; i++) {
        const char *k, *v;
        if (nn_file_info_meta(info, i, &k, &v) == NN_OK && strncmp(k, "libnn.", 6) != 0) {
            keys[n] = k;
            values[n++] = v;
        }
    }
    o.meta_keys = keys;
    o.meta_values = values;
    o.meta_count = n;
    int rc = 0;
    if (nn_model_save_onnx(m, out, &o) != NN_OK) {
        fprintf(stderr, "nn-mnist export: %s\n", nn_last_error());
        rc = 1;
    } else {
        printf("Exported %s to %s (ONNX opset %d, %d layer%s, %" PRId64 " parameters)\n", in, out, NN_ONNX_OPSET,
               nn_model_layer_count(m), nn_model_layer_count(m) == 1 ? "" : "s", nn_model_param_count(m));
        print_io(m, nn_model_get_loss(m) == NN_LOSS_MSE ? "output" : o.softmax ? "probabilities" : "logits");
    }
    nn_file_info_free(info);
    nn_model_free(m);
    return rc;
}

int nnm_cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            printf("Usage: nn-mnist import IN.onnx OUT.nnm\n\nRead an ONNX model (from PyTorch's torch.onnx.export, "
                   "libnn's export, ...) made of the operators libnn has layers for (docs/onnx.md), and save it as "
                   "a libnn model, which 'nn-mnist eval' and 'nn-mnist info' then read. Images are taken channels "
                   "last, as every libnn model takes them; for one channel (MNIST) that is the same.\n");
            return 0;
        default: fprintf(stderr, "Try 'nn-mnist import --help'.\n"); return 2;
        }
    }
    if (optind != argc - 2) {
        fprintf(stderr, "nn-mnist import: expected IN.onnx OUT.nnm (see nn-mnist import --help)\n");
        return 2;
    }
    const char *in = argv[optind], *out = argv[optind + 1];
    nn_model *m;
    if (nn_model_load_onnx(&m, in, NULL) != NN_OK) {
        fprintf(stderr, "nn-mnist import: %s\n", nn_last_error());
        return 1;
    }
    const char *keys[] = {"imported_from"}, *values[] = {in};
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 1;
    int rc = 0;
    if (nn_model_save(m, out, &so) != NN_OK) {
        fprintf(stderr, "nn-mnist import: %s\n", nn_last_error());
        rc = 1;
    } else {
        char summary[8192];
        nn_model_summary(m, summary, sizeof summary, NULL);
        printf("Imported %s to %s (loss %s)\n%s", in, out, nn_loss_name(nn_model_get_loss(m)), summary);
    }
    nn_model_free(m);
    return rc;
}
