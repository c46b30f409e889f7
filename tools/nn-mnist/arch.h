/*
 * `--arch`: the network of a grid, as a short comma-separated list of layers on 28 x 28 x 1 images
 * ("conv32x3,pool2,conv64x3,pool2,flatten,dropout0.5"), to which the output layer (dense, one unit
 * per class, linear: the loss applies the softmax) is always appended. "mlp" (the default) is the
 * original study's MLP, built from --hidden, --dropout and --batchnorm instead; "cnn" names Keras'
 * MNIST convnet, the list above, and "reader" the same with a dense layer of 256 before the output.
 *
 * Items (the grid's activation goes into every conv and dense item):
 *   convFxK[xK2][/S][same]  F filters of K x K (K x K2: height x width), stride S [1], valid padding
 *                           unless "same"
 *   poolN[/S][same]         max pooling, N x N windows, stride S [N] (maxpoolN: the same)
 *   avgpoolN[/S][same]      average pooling
 *   gap                     global average pooling: (h, w, c) to (c)
 *   flatten                 (h, w, c) to h * w * c features
 *   dropoutR                dropout of rate R, 0 < R < 1
 *   bn, batchnorm           batch normalization (per channel on images)
 *   denseN                  a hidden dense layer of N units
 * A conv or dense item followed directly by bn gets its activation after the batch norm, as
 * Ioffe & Szegedy (2015) place it and --batchnorm does for the MLP: conv (linear) -> batchnorm ->
 * activation.
 */
#ifndef NNM_ARCH_H
#define NNM_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* No libnn header here: config.h and record.h include this one, and the record parser is also built
 * on its own, with the C library only (fuzz/). */
struct nn_model;

#define NNM_MAX_ARCH_ITEMS 32
#define NNM_MAX_ARCH_TEXT 400 /* the canonical spelling, which settings lines and records carry */

typedef enum nnm_item_kind {
    NNM_ITEM_CONV,
    NNM_ITEM_MAXPOOL,
    NNM_ITEM_AVGPOOL,
    NNM_ITEM_GAP,
    NNM_ITEM_FLATTEN,
    NNM_ITEM_DROPOUT,
    NNM_ITEM_BATCHNORM,
    NNM_ITEM_DENSE
} nnm_item_kind;

typedef struct nnm_arch_item {
    nnm_item_kind kind;
    int64_t units;    /* conv filters, dense units */
    int kh, kw;       /* conv kernel, pool window */
    int stride;       /* conv: 1 by default; pools: the window's size by default */
    int same;         /* "same" padding */
    float rate;       /* dropout */
} nnm_arch_item;

typedef struct nnm_arch {
    int n;                                 /* 0: the MLP (--arch mlp) */
    nnm_arch_item items[NNM_MAX_ARCH_ITEMS];
    char text[NNM_MAX_ARCH_TEXT + 1];      /* canonical spelling; "" for the MLP */
} nnm_arch;

/* The default CNN that "--arch cnn" names: Keras' MNIST convnet. */
#define NNM_ARCH_CNN "conv32x3,pool2,conv64x3,pool2,flatten,dropout0.5"
/* "--arch reader", nn-mnist train's default: the convnet with a hidden dense layer of 256 before
 * the output. Its "not one digit" class guides the reader's cuts better (fewer merged digits), and
 * 256 units read other writers' digits as well as the convnet alone where 128 read them worse; the
 * figures are in docs/predict.md. */
#define NNM_ARCH_READER "conv32x3,pool2,conv64x3,pool2,flatten,dense256,dropout0.5"

/* Parses spec ("mlp", "cnn", "reader" or a list of items) into a; 0, or -1 with err naming the item
 * ("--arch: 'conv32x' at item 1: ..."). Only the syntax: nnm_arch_check tries the shapes. */
int nnm_arch_parse(nnm_arch *a, const char *spec, char *err, size_t errlen);

/* Creates the model of a non-MLP architecture on rows x cols x 1 images, with the activation named
 * `activation` in its conv and dense items and the output layer of `classes` units; not compiled.
 * 0, or -1 with err naming the item whose shapes do not fit. */
int nnm_arch_create(struct nn_model **out, const nnm_arch *a, int64_t rows, int64_t cols, const char *activation,
                    int classes, char *err, size_t errlen);

#endif
