/* `nn-mnist info FILE` and `nn-mnist eval FILE`: look at and evaluate saved models. */
#define _POSIX_C_SOURCE 200809L
#include "inspect.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#include "config.h"
#include "datasets.h"
#include "scheduler.h"
#include "train.h"

/* "(None, 28, 28, 1)": a per-example shape with the batch first, as Keras prints it. */
static void shape_text(char *buf, size_t cap, int rank, const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "(None");
    for (int i = 0; i < rank && i < NN_MAX_EXAMPLE_RANK && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, ", %" PRId64, shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, ")");
}

int nnm_cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (ch == 'h') {
            printf("Usage: nn-mnist info FILE\n\n"
                   "Print a model file's format version, input shape, layers (with their output shapes\n"
                   "and parameter counts, as Keras' summary) and metadata, after checking everything\n"
                   "'nn-mnist eval' checks (checksums, sizes, weights, optimizer state), without\n"
                   "evaluating it.\n");
            return 0;
        }
        fprintf(stderr, "Try 'nn-mnist info --help'.\n");
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "nn-mnist info: expected one model file (see nn-mnist info --help)\n");
        return 2;
    }
    const char *path = argv[optind];
    nn_file_info *info;
    if (nn_file_info_read(&info, path) != NN_OK) {
        fprintf(stderr, "nn-mnist info: %s\n", nn_last_error());
        return 1;
    }
    unsigned major, minor;
    nn_file_info_format_version(info, &major, &minor);
    printf("File:          %s\n", path);
    printf("Format:        libnn model file %u.%u\n", major, minor);
    char shape[96];
    int64_t in_shape[NN_MAX_EXAMPLE_RANK];
    int in_rank = nn_file_info_input_shape(info, in_shape);
    shape_text(shape, sizeof shape, in_rank, in_shape);
    printf("Inputs:        %" PRId64 "\n", nn_file_info_input_features(info));
    printf("Input shape:   %s\n", shape);
    printf("Loss:          %s\n", nn_loss_name(nn_file_info_loss(info)));
    int opt = nn_file_info_optimizer(info);
    /* The rate the optimizer trains with: a grid run without --lr records "lr=0" in its settings,
     * meaning the optimizer's default, which only the saved optimizer knows. */
    double lr = 0.0;
    nn_model *model = NULL;
    if (opt >= 0 && nn_model_load(&model, path, NULL) == NN_OK && nn_model_get_optimizer(model))
        lr = nn_optimizer_get_lr(nn_model_get_optimizer(model));
    nn_model_free(model);
    if (opt >= 0 && lr > 0)
        printf("Optimizer:     %s, learning rate %.6g\n", nn_optimizer_kind_name((nn_optimizer_kind)opt), lr);
    else
        printf("Optimizer:     %s\n", opt >= 0 ? nn_optimizer_kind_name((nn_optimizer_kind)opt) : "(not saved)");
    if (nn_file_info_epoch(info) >= 0) printf("Epochs done:   %" PRId64 "\n", nn_file_info_epoch(info));
    /* As Keras' model.summary(): each layer's output shape (None: the batch) and parameters, then
     * the totals; the state that is saved but not trained (batch norm's moving mean and variance)
     * has a column and a total of its own. */
    printf("Layers:\n");
    /* The Layer column fits the longest kind name, global_avgpool2d. */
    printf("  %-2s %-16s %-10s %-16s  %-18s %10s %14s\n", "#", "Layer", "Activation", "    in -> out",
           "Output shape", "Params", "Non-trainable");
    int64_t buffers = 0;
    for (int i = 0; i < nn_file_info_layer_count(info); i++) {
        nn_layer_info l = NN_LAYER_INFO_INIT;
        if (nn_file_info_layer(info, i, &l) != NN_OK) continue;
        const char *kind = nn_layer_kind_name(l.kind);
        shape_text(shape, sizeof shape, l.out_rank, l.out_shape);
        /* Dense and conv2d layers (fused) and activation layers have an activation; the others none. */
        int has_act = l.kind == NN_LAYER_DENSE || l.kind == NN_LAYER_CONV2D || l.kind == NN_LAYER_ACTIVATION;
        const char *act = has_act ? nn_activation_name(l.activation.kind) : "-";
        printf("  %-2d %-16s %-10s %6" PRId64 " -> %-6" PRId64 "  %-18s %10" PRId64 " %14" PRId64 "\n", i,
               kind ? kind : "?", act ? act : "?", l.in_features, l.out_features, shape, l.param_count,
               l.buffer_count);
        buffers += l.buffer_count;
    }
    printf("Parameters:    %" PRId64 "\n", nn_file_info_param_count(info));
    printf("Non-trainable: %" PRId64 "\n", buffers);
    size_t n = nn_file_info_meta_count(info);
    if (n) printf("Metadata:\n");
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        if (nn_file_info_meta(info, i, &k, &v) != NN_OK) continue;
        const char *lr0 = !strcmp(k, "settings") && lr > 0 ? strstr(v, " lr=0 ") : NULL;
        if (lr0) /* the default rate, as results.csv shows it */
            printf("  %-16s %.*s lr=%.6g (default)%s\n", k, (int)(lr0 - v), v, lr, lr0 + 5);
        else
            printf("  %-16s %s\n", k, v);
    }
    nn_file_info_free(info);
    return 0;
}

/* The dataset a model file says it was trained on: nn-mnist's "dataset" metadata, else the one in
 * its settings line (a checkpoint's); NULL when it says none (an imported model). The text lives in
 * buf. */
static const char *recorded_dataset(const char *path, char *buf, size_t cap)
{
    nn_file_info *info = NULL;
    if (nn_file_info_read(&info, path) != NN_OK) return NULL;
    const char *v = nn_file_info_meta_get(info, "dataset");
    const char *settings = nn_file_info_meta_get(info, "settings");
    const char *at = settings ? strstr(settings, "dataset=") : NULL;
    if (v && *v) snprintf(buf, cap, "%s", v);
    else if (at && (at == settings || at[-1] == ' ')) snprintf(buf, cap, "%.*s", (int)strcspn(at + 8, " "), at + 8);
    else buf[0] = '\0';
    nn_file_info_free(info);
    return buf[0] ? buf : NULL;
}

int nnm_cmd_eval(int argc, char **argv)
{
    nnm_config c;
    nnm_config_defaults(&c);
    enum { O_DATASET = 256, O_DATA_DIR, O_MIRROR, O_NO_DOWNLOAD, O_FORCE };
    static const struct option longopts[] = {{"dataset", required_argument, NULL, O_DATASET},
                                              {"data-dir", required_argument, NULL, O_DATA_DIR},
                                              {"mirror", required_argument, NULL, O_MIRROR},
                                              {"no-download", no_argument, NULL, O_NO_DOWNLOAD},
                                              {"force", no_argument, NULL, O_FORCE},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
    int ch, dataset_given = 0, force = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_DATASET:
            c.dataset = optarg;
            dataset_given = 1;
            break;
        case O_DATA_DIR: c.data_dir = optarg; break;
        case O_MIRROR: c.mirror = optarg; break;
        case O_NO_DOWNLOAD: c.no_download = 1; break;
        case O_FORCE: force = 1; break;
        case 'h':
            printf("Usage: nn-mnist eval [options] FILE\n\nEvaluate a saved model on the test set and print its "
                   "loss and accuracy.\n"
                   "Only the test set's two files are needed (and downloaded when missing).\n\n"
                   "  --dataset NAME   mnist or fashion-mnist [the one the model was trained on, else mnist];\n"
                   "                   another than the model's is refused\n"
                   "  --force          evaluate on --dataset even when the model was trained on another\n"
                   "  --data-dir DIR   folder holding the IDX files [$NN_DATA_DIR/<dataset>, ./data/<dataset>]\n"
                   "  --mirror URL     base URL to download from [$NN_MNIST_MIRROR, public mirrors]\n"
                   "  --no-download    fail instead of downloading missing data\n");
            return 0;
        default: fprintf(stderr, "Try 'nn-mnist eval --help'.\n"); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "nn-mnist eval: expected one model file (see nn-mnist eval --help)\n");
        return 2;
    }
    const char *path = argv[optind];
    nn_model *m;
    if (nn_model_load(&m, path, NULL) != NN_OK) {
        fprintf(stderr, "nn-mnist eval: %s\n", nn_last_error());
        return 1;
    }
    /* A model scored on a dataset other than its own gives a figure that means nothing, under the
     * other dataset's name: refused unless asked for. */
    char trained_on[64];
    const char *recorded = recorded_dataset(path, trained_on, sizeof trained_on);
    if (recorded && !dataset_given) c.dataset = recorded;
    if (recorded && strcmp(recorded, c.dataset) != 0) {
        if (!force) {
            fprintf(stderr,
                    "nn-mnist eval: %s was trained on %s, not %s; leave --dataset out to evaluate it on %s, or add "
                    "--force to evaluate it on %s anyway\n",
                    path, recorded, c.dataset, recorded, c.dataset);
            nn_model_free(m);
            return 2;
        }
        fprintf(stderr, "nn-mnist eval: %s was trained on %s; evaluating it on %s as asked (--force)\n", path,
                recorded, c.dataset);
    }
    nn_dataset *test = NULL;
    char err[NNM_PATH_MAX];
    nnm_data_request req = {0};
    req.dataset = c.dataset;
    req.data_dir = c.data_dir;
    req.mirror = c.mirror;
    req.allow_download = !c.no_download;
    req.quiet = 1;
    req.test_only = 1; /* eval needs no training images: neither find nor download them */
    nnm_dataset_paths paths;
    if (nnm_find_dataset(&req, &paths, err, sizeof err) != 0 ||
        nnm_load_dataset(&req, &paths, NULL, &test, err, sizeof err) != 0) {
        fprintf(stderr, "nn-mnist eval: %s\n", err);
        nn_model_free(m);
        return 1;
    }
    int rc = 0;
    if (nn_model_input_features(m) != nn_dataset_features(test) ||
        nn_model_output_features(m) < nn_dataset_classes(test)) {
        fprintf(stderr, "nn-mnist eval: the model takes %" PRId64 " inputs and gives %" PRId64
                        " outputs; the %s test set has %" PRId64 " pixels and %d classes\n",
                nn_model_input_features(m), nn_model_output_features(m), c.dataset, nn_dataset_features(test),
                nn_dataset_classes(test));
        rc = 1;
    } else {
        double loss, acc;
        if (nnm_evaluate_dataset(m, test, 0, &loss, &acc, NULL, nn_dataset_classes(test), err, sizeof err) != 0) {
            fprintf(stderr, "nn-mnist eval: %s\n", err);
            rc = 1;
        } else {
            printf("Model:         %s\nTest images:   %" PRId64 " (%s)\nTest loss:     %.4f\nTest accuracy: %.4f\n",
                   path, nn_dataset_count(test), c.dataset, loss, acc);
        }
    }
    nn_model_free(m);
    nn_dataset_free(test);
    return rc;
}
