/**
 * @file data.h
 * @brief Labelled image datasets: the IDX format of MNIST and Fashion-MNIST, and batching.
 *
 * A dataset keeps its images as uint8 (47 MB for MNIST's training set rather than 188 MB as float32)
 * and converts only the rows a batch needs, to float32 in [0, 1], when the batch is gathered. A
 * dataset is read-only once loaded, so several threads may gather from one dataset at once.
 * @code
 * nn_dataset *train;
 * if (nn_dataset_load_idx(&train, "data/mnist/train-images-idx3-ubyte.gz",
 *                         "data/mnist/train-labels-idx1-ubyte.gz") != NN_OK) {
 *     fprintf(stderr, "%s\n", nn_last_error());   // names the file and what is wrong
 *     return 1;
 * }
 * uint32_t *order = ...;                          // 0..N-1
 * nn_rng_shuffle(rng, order, N);                  // a new order each epoch
 * for (int64_t i = 0; i < N; i += 32) {
 *     int64_t b = N - i < 32 ? N - i : 32;        // the last batch may be partial
 *     nn_dataset_gather(train, order + i, b, x, y);
 *     ...
 * }
 * @endcode
 */
#ifndef NN_DATA_H
#define NN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

NN_BEGIN_DECLS

/** Opaque, read-only dataset of uint8 images with class labels. */
typedef struct nn_dataset nn_dataset;

/** Hard limits the IDX reader enforces before allocating. */
#define NN_IDX_MAX_ITEMS 100000000LL
#define NN_IDX_MAX_DIM 65536LL

/**
 * @brief Read an images file (IDX3, uint8, N x rows x cols) and a labels file (IDX1, uint8, N),
 *        each raw or gzip-compressed (detected from the content, not the name).
 *
 * Every header field is validated: magic and data type, rank, non-zero dimensions within limits,
 * the file's length against the header, the same N in both files, and labels below 256. Errors name
 * the file and the problem, e.g. "train-images-idx3-ubyte.gz: truncated: header promises
 * 47040016 bytes, file holds 1000".
 * @return NN_OK, NN_ERR_IO (cannot open or read), NN_ERR_FORMAT (malformed, truncated, mismatched),
 *         NN_ERR_NO_MEMORY, NN_ERR_INVALID_ARGUMENT.
 * @since 0.1
 */
NN_API nn_status nn_dataset_load_idx(nn_dataset **out, const char *images_path, const char *labels_path);

/**
 * @brief As nn_dataset_load_idx(), and the files must also be the dataset the caller expects: every
 *        label below @p classes and every image @p rows x @p cols. For MNIST and Fashion-MNIST:
 *        `nn_dataset_load_idx_expect(&ds, images, labels, 10, 28, 28)`.
 *
 * Without these checks a stray label of 10 silently makes an 11-class problem, and 14 x 56 images
 * pass as MNIST's 784 pixels. Errors name the file and the offence, e.g.
 * "t10k-labels-idx1-ubyte.gz: label 10 at index 17 is outside 0..9" or
 * "t10k-images-idx3-ubyte.gz: images are 14x56 (height x width), expected 28x28".
 * @param classes  1..256: the number of classes, which nn_dataset_classes() then returns even when
 *                 the files lack the last ones; 0: not checked (the largest label plus one)
 * @param rows, cols  the image height and width, each 1..NN_IDX_MAX_DIM; 0: not checked
 * @return as nn_dataset_load_idx(); NN_ERR_FORMAT for a label or an image size other than
 *         expected; NN_ERR_INVALID_ARGUMENT for @p classes or a size out of range.
 * @since 0.2
 */
NN_API nn_status nn_dataset_load_idx_expect(nn_dataset **out, const char *images_path, const char *labels_path,
                                            int classes, int64_t rows, int64_t cols);

/**
 * @brief Make a dataset from memory (copied): @p n images of @p rows x @p cols bytes each, and
 *        @p n labels.
 * @since 0.1
 */
NN_API nn_status nn_dataset_create(nn_dataset **out, int64_t n, int64_t rows, int64_t cols,
                                   const uint8_t *images, const uint8_t *labels);

/** @brief A new dataset holding rows [start, start + count) of @p src (copied). @since 0.1 */
NN_API nn_status nn_dataset_subset(nn_dataset **out, const nn_dataset *src, int64_t start, int64_t count);

/** @brief Release a dataset; NULL is a no-op. @since 0.1 */
NN_API void nn_dataset_free(nn_dataset *ds);

/** @brief Number of examples. @since 0.1 */
NN_API int64_t nn_dataset_count(const nn_dataset *ds);
/** @brief Values per example (rows x cols). @since 0.1 */
NN_API int64_t nn_dataset_features(const nn_dataset *ds);
/** @brief Image height and width. @since 0.1 */
NN_API void nn_dataset_image_size(const nn_dataset *ds, int64_t *rows, int64_t *cols);
/** @brief Number of classes: those declared to nn_dataset_load_idx_expect(), else the largest label plus
 *         one (a subset keeps its source's count). @since 0.1 */
NN_API int nn_dataset_classes(const nn_dataset *ds);

/** @brief Borrow the raw images (count x features bytes) and labels (count bytes). @since 0.1 */
NN_API const uint8_t *nn_dataset_images(const nn_dataset *ds);
NN_API const uint8_t *nn_dataset_labels(const nn_dataset *ds);

/**
 * @brief Gather the examples @p idx[0..n) into a batch: x (n, features) as float32 in [0, 1]
 *        (pixel / 255), y (n) as class indices. x and y must be at least that large: their first
 *        dimension is set to n (so a view on a bigger buffer can take a partial last batch).
 * @param idx  example numbers, each < count; NULL means n consecutive examples from 0
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (index out of range), NN_ERR_SHAPE (x or y too small).
 * @since 0.1
 */
NN_API nn_status nn_dataset_gather(const nn_dataset *ds, const uint32_t *idx, int64_t n, nn_tensor *x,
                                   nn_tensor *y);

/** @brief As nn_dataset_gather() with the consecutive examples [start, start + n). @since 0.1 */
NN_API nn_status nn_dataset_slice(const nn_dataset *ds, int64_t start, int64_t n, nn_tensor *x, nn_tensor *y);

NN_END_DECLS

#endif /* NN_DATA_H */
