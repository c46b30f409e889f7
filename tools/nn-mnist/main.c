/* nn-mnist: the activation x optimizer study on MNIST, built on libnn's public API only. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nn/nn.h>

#include "convert.h"
#include "grid.h"
#include "inspect.h"
#include "predict.h"
#include "report.h"
#include "tune.h"
#include "train_cmd.h"

/* Every command, in the order the help lists them. The help, `help COMMAND`, --help-all (the man
 * page's source) and the bash completion (which reads the help) all come from this table. */
typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"grid", nnm_cmd_grid, "train every optimizer x activation pair and report (resumes when rerun)"},
    {"tune", nnm_cmd_tune, "choose each optimizer's learning rate (or batch size) on a validation split"},
    {"train", nnm_cmd_train, "train one model (the recipe for reading handwriting by default) and save it"},
    {"predict", nnm_cmd_predict, "read the handwritten digits in PNG, JPEG and PGM images with a saved model"},
    {"report", nnm_cmd_report, "rebuild results.csv, the figures and the summary from finished runs"},
    {"info", nnm_cmd_info, "show a saved model's architecture, parameters and metadata"},
    {"eval", nnm_cmd_eval, "evaluate a saved model on the test set"},
    {"export", nnm_cmd_export, "write a saved model as an ONNX model"},
    {"import", nnm_cmd_import, "read an ONNX model into a model file"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f)
{
    fprintf(f, "Usage: nn-mnist COMMAND [OPTION]... [FILE]...\n"
               "  or:  nn-mnist help [COMMAND]\n"
               "  or:  nn-mnist -h | --help | --help-all | -V | --version\n"
               "Train neural networks on MNIST with libnn and compare them: a grid of optimizers x\n"
               "activations with its results table and figures, single models, and their files.\n\n"
               "Commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-8s %s\n", "help", "show a command's options: nn-mnist help COMMAND");
    fprintf(f, "\nOptions:\n"
               "  -h, --help      show this help and exit\n"
               "      --help-all  show this help, then every command's\n"
               "  -V, --version   show the version and the BLAS library in use, and exit\n\n"
               "Run 'nn-mnist COMMAND --help' (or 'nn-mnist help COMMAND') for a command's options.\n\n"
               "Environment:\n"
               "  NN_DATA_DIR       folder holding mnist/ and fashion-mnist/, searched before ./data\n"
               "  NN_MNIST_MIRROR   base URL to download MNIST from, instead of the public mirrors\n");
}

static const command *find_command(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

/* Runs a command with "nn-mnist NAME" as its argv[0]: getopt's own messages ("option '--epochs'
 * requires an argument") are prefixed with it, as every other message of the command is. */
static int run_command(const command *c, int argc, char **argv, char *prog, size_t cap)
{
    snprintf(prog, cap, "nn-mnist %s", c->name);
    argv[0] = prog;
    return c->run(argc, argv);
}

static int show_command_help(const command *c)
{
    char prog[64], help[] = "--help";
    char *argv[] = {prog, help, NULL};
    return run_command(c, 2, argv, prog, sizeof prog);
}

/* A write error on stdout (a full disk, a closed descriptor...) must not end in exit status 0,
 * as it would if only the stdio buffer saw it; on stderr it can only be reported by the status. */
static int check_output(int rc, const char *prog)
{
    errno = 0;
    int failed = ferror(stdout) != 0;
    int err = 0;
    if (fflush(stdout) != 0) {
        failed = 1;
        err = errno;
    }
    if (failed) {
        if (err) fprintf(stderr, "%s: write error on standard output: %s\n", prog, strerror(err));
        else fprintf(stderr, "%s: write error on standard output\n", prog);
    }
    if (fflush(stderr) != 0 || ferror(stderr)) failed = 1;
    return failed && rc == 0 ? 1 : rc;
}

int main(int argc, char **argv)
{
    char prog[64] = "nn-mnist";
    if (argc < 2) {
        usage(stderr);
        return check_output(2, prog);
    }
    const char *arg = argv[1];
    int rc;
    const command *c = find_command(arg);
    if (c) {
        rc = run_command(c, argc - 1, argv + 1, prog, sizeof prog);
    } else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
        usage(stdout);
        rc = 0;
    } else if (!strcmp(arg, "--help-all")) {
        usage(stdout);
        rc = 0;
        for (int i = 0; i < N_COMMANDS && rc == 0; i++) {
            /* help2man makes each "*nn-mnist NAME*" line a section of the man page. */
            printf("\n*nn-mnist %s*\n", commands[i].name);
            rc = show_command_help(&commands[i]);
        }
    } else if (!strcmp(arg, "help")) {
        if (argc == 2) {
            usage(stdout);
            rc = 0;
        } else if (argc > 3) {
            fprintf(stderr, "nn-mnist help: expected one command, got %d\nTry 'nn-mnist --help'.\n", argc - 2);
            rc = 2;
        } else if ((c = find_command(argv[2]))) {
            rc = show_command_help(c);
        } else {
            fprintf(stderr, "nn-mnist help: unknown command '%s'\nTry 'nn-mnist --help'.\n", argv[2]);
            rc = 2;
        }
    } else if (!strcmp(arg, "--version") || !strcmp(arg, "-V")) {
        printf("nn-mnist (libnn) %s\nBLAS: %s\n", nn_version(), nn_runtime_blas_name());
        rc = 0;
    } else if (arg[0] == '-') {
        /* Worded as getopt words its own, which the commands' options get. */
        if (arg[1] == '-') fprintf(stderr, "nn-mnist: unrecognized option '%s'\n", arg);
        else fprintf(stderr, "nn-mnist: invalid option -- '%s'\n", arg + 1);
        fprintf(stderr, "Try 'nn-mnist --help'.\n");
        rc = 2;
    } else {
        fprintf(stderr, "nn-mnist: unknown command '%s'\nTry 'nn-mnist --help'.\n", arg);
        rc = 2;
    }
    return check_output(rc, prog);
}
