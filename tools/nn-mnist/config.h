/* nn-mnist's settings: what the command line asks for, validated before any training starts. */
#ifndef NNM_CONFIG_H
#define NNM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "arch.h"

#define NNM_MAX_LIST 16
#define NNM_MAX_SEEDS 100
#define NNM_MAX_NAME 32
#define NNM_MAX_HIDDEN 8
#define NNM_MAX_GRID_EPOCHS 5000 /* bounded by what a checkpoint's metadata can carry (train.c) */
#define NNM_IMAGE_PIXELS 784     /* MNIST and Fashion-MNIST: 28 x 28 images */
#define NNM_IMAGE_ROWS 28
#define NNM_IMAGE_COLS 28
#define NNM_CLASSES 10
/* The largest network nn-mnist trains: 2^28 parameters, 1 GiB of weights and, with gradients and
 * Adam's two moments, 4 GiB per model being trained (--jobs of them at once). */
#define NNM_MAX_PARAMS ((int64_t)1 << 28)
/* A settings line: the original study's fields, an --arch list (NNM_MAX_ARCH_TEXT) and the options. */
#define NNM_SETTINGS_MAX 1024

/* --lr-schedule */
enum { NNM_LR_CONSTANT = 0, NNM_LR_COSINE = 1 };

typedef struct nnm_config {
    char activations[NNM_MAX_LIST][NNM_MAX_NAME];
    int n_activations;
    char optimizers[NNM_MAX_LIST][NNM_MAX_NAME];
    int n_optimizers;
    int64_t hidden[NNM_MAX_HIDDEN];
    int n_hidden;
    int epochs;
    int64_t batch_size;
    float lr;                 /* 0: each optimizer's Keras default */
    uint64_t seed;
    const char *dataset;      /* "mnist" or "fashion-mnist" */
    const char *data_dir;     /* --data-dir, or NULL */
    const char *mirror;       /* --mirror, or NULL */
    const char *out_dir;      /* results */
    const char *models_dir;   /* models */
    int threads;              /* BLAS threads per model */
    int jobs;                 /* models trained at once */
    int quiet;
    int fresh;                /* discard earlier records of other settings */
    int no_download;
    int64_t train_limit;      /* 0: all; otherwise the first N training examples (quick runs, tests) */
    int64_t test_limit;
    /* Regularisation of the hidden layers (train.c builds them): 0 and 0, the original study, add no
     * layer and leave the settings line, the records and the model files as they were. */
    float dropout;            /* --dropout: rate of a dropout layer after each hidden layer, in [0, 1) */
    int batchnorm;            /* --batchnorm: batch norm between each hidden dense layer and its activation */
    /* --arch (arch.h): arch.n == 0 is the MLP above (the default); otherwise a network on 28 x 28 x 1
     * images, and --hidden, --dropout and --batchnorm do not apply. */
    nnm_arch arch;
    int augment;              /* --augment: shifts and rotations of every training batch (augment.h) */
    float reject;             /* train --reject: share of training images made "not one digit", an
                                 eleventh class (reject.h); 0: none, ten outputs */
    float fonts;              /* train --fonts: share of training images that are installed fonts' digits
                                 (fonts.h); 0: none; -1 until the dataset gives its default */
    float pieces;             /* train --pieces: the reader's own pieces taught (pieces.h), of each kind
                                 from MNIST's strings this share of MNIST's images trained on; 0: none;
                                 -1 until the dataset gives its default */
    float letters;            /* train --letters: share of training images that are installed fonts'
                                 letters and signs, taught as text, a twelfth class after --reject's
                                 (fonts.h); 0: none; -1 until the dataset gives its default */
    int lr_schedule;          /* --lr-schedule: NNM_LR_CONSTANT or NNM_LR_COSINE */
    /* The protocol (docs/study.md). 0 and 0: the original study (no split, the best model picked on the
     * test set). */
    float validation;         /* --validation: share of the training set held out, in [0, 0.9] */
    uint64_t split_seed;      /* the split's seed: the grid's --seed, so that runs of every seed share one split */
    int patience;             /* --patience: early stopping on the validation loss; 0: none */
    /* --seeds: every cell runs once per seed. n_seeds 0: the one --seed, and run ids without a seed
     * (the original study's); otherwise the ids carry "_s<seed>". --seed stays the split's seed. */
    uint64_t seeds[NNM_MAX_SEEDS];
    int n_seeds;
    /* --shard K/N: this process trains the plan's runs i with i % N == K - 1 (1 <= K <= N); 0/0: all. */
    int shard_k, shard_n;
    /* --lr tuned / --lr-from FILE: a rate per optimizer x activation cell (0: the --lr, else each
     * optimizer's default), indexed like optimizers[] and activations[]; lr_from names the file. */
    float cell_lr[NNM_MAX_LIST][NNM_MAX_LIST];
    const char *lr_from;
} nnm_config;

/* The original study's settings (784-128-10, relu/sigmoid/tanh x sgd/adam/rmsprop, batch 32, 10 epochs). */
void nnm_config_defaults(nnm_config *c);

/* Parse "a,b,c" into names, each kept in the one spelling libnn's names have: lowercase ("Adam" is
 * adam), a parameter as its shortest float ("leaky_relu:.20" is leaky_relu:0.2). A name listed twice,
 * in any spelling, is refused. 0 or -1 with err. */
int nnm_parse_names(const char *arg, char out[][NNM_MAX_NAME], int *n, const char *what, char *err, size_t errlen);
/* Parse "256,128" into positive sizes. */
int nnm_parse_sizes(const char *arg, int64_t *out, int *n, char *err, size_t errlen);
/* Parse a whole number in [lo, hi]. */
int nnm_parse_int(const char *arg, int64_t lo, int64_t hi, int64_t *out, const char *what, char *err, size_t errlen);

/* Parse a dropout rate: a number in [0, 1) whose float32 is 0 or a normal float (a rate that rounds
 * to 0 or to a subnormal would silently mean "no dropout"); 0 or -1 with err. */
int nnm_parse_rate(const char *arg, float *out, const char *what, char *err, size_t errlen);

/* The shortest decimal that reads back as the float f ("0.2", not %.9g's "0.200000003"). */
void nnm_format_float(char *buf, size_t len, float f);

/* Check names against libnn and ranges; 0 or -1 with err saying what is accepted. Two names of one
 * activation (swish and silu) or optimizer are refused. */
int nnm_config_validate(const nnm_config *c, char *err, size_t errlen);

/* "constant" or "cosine" */
const char *nnm_lr_schedule_name(int schedule);

/* The learning rate of global step `step` (0-based) of `total`: base for the constant schedule; for
 * the cosine one base * (1 + cos(pi * step / total)) / 2, from base at the first step towards 0
 * (Loshchilov & Hutter 2017, without restarts). */
double nnm_lr_at(int schedule, double base, int64_t step, int64_t total);

/* The settings that determine a run's results, as one canonical line (records compare it on resume).
 * c is the run's own config (nnm_run_config). */
void nnm_config_settings_line(const nnm_config *c, const char *optimizer, const char *activation, int64_t n_train,
                              int64_t n_test, char *buf, size_t len);

/* A settings line without its items "KEY=value" for the given keys ("libnn=", "seed="); items are
 * separated by single spaces. */
void nnm_settings_without(const char *line, const char *const *keys, int n_keys, char *out, size_t cap);

#endif
