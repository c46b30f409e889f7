/* nn-mnist: the activation x optimizer study on MNIST, built on libnn's public API only. */
#include <stdio.h>
#include <string.h>

#include <nn/nn.h>

#include "convert.h"
#include "grid.h"
#include "inspect.h"
#include "report.h"
#include "train_cmd.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: nn-mnist COMMAND [options]\n\n"
               "Commands:\n"
               "  grid     train every optimizer x activation pair and report (resumes when rerun);\n"
               "           --dropout RATE [0: none] and --batchnorm [off] regularise the hidden layers;\n"
               "           --arch cnn (or a list of layers) trains a convolutional network instead\n"
               "  train    train one model (the recipe for reading handwriting by default) and save it\n"
               "  report   rebuild results.csv, the figures and the summary from finished runs\n"
               "  info     show a saved model's architecture, parameters and metadata\n"
               "  eval     evaluate a saved model on the test set\n"
               "  export   write a saved model as an ONNX model\n"
               "  import   read an ONNX model into a model file\n\n"
               "Run 'nn-mnist COMMAND --help' for a command's options; 'nn-mnist --version'.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("nn-mnist (libnn) %s\nBLAS: %s\n", nn_version(), nn_runtime_blas_name());
        return 0;
    }
    if (!strcmp(cmd, "grid")) return nnm_cmd_grid(argc - 1, argv + 1);
    if (!strcmp(cmd, "train")) return nnm_cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "report")) return nnm_cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return nnm_cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return nnm_cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "export")) return nnm_cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "import")) return nnm_cmd_import(argc - 1, argv + 1);
    fprintf(stderr, "nn-mnist: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
