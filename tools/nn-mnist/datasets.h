/*
 * Where nn-mnist finds its data. Folders are searched in a fixed order and one counts only if it
 * holds all four IDX files; when none does, MNIST or Fashion-MNIST is downloaded, each file checked
 * against the SHA-256 of its uncompressed content before it is given its final name.
 *
 *   nnm_data_request req = {0};
 *   req.dataset = "mnist";
 *   req.allow_download = 1;
 *   nnm_dataset_paths paths;
 *   char err[2048];
 *   if (nnm_find_dataset(&req, &paths, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); ... }
 *   if (nnm_load_dataset(&req, &paths, &train, &test, err, sizeof err) != 0) { ... }
 */
#ifndef NNM_DATASETS_H
#define NNM_DATASETS_H

#include <stddef.h>

#include <nn/data.h>

#include "fsutil.h" /* NNM_PATH_MAX */

/* The four files of a dataset, in the order of nnm_data_request.sha256. */
enum { NNM_TRAIN_IMAGES, NNM_TRAIN_LABELS, NNM_TEST_IMAGES, NNM_TEST_LABELS, NNM_N_FILES };

/* Zero-initialise, then set what is needed: every field has a meaningful zero. */
typedef struct nnm_data_request {
    const char *dataset;     /* "mnist" or "fashion-mnist"; NULL means "mnist" */
    const char *data_dir;    /* --data-dir: the only folder searched (DIR itself, else DIR/<dataset>), and
                                where a download goes; NULL: $NN_DATA_DIR/<dataset>, ./data/<dataset>, and
                                for fashion-mnist /usr/share/datasets/fashion-mnist, downloads to
                                ./data/<dataset> */
    const char *mirror;      /* --mirror base URL, the only one tried; NULL: $NN_MNIST_MIRROR (mnist only)
                                as the only one, else the public mirrors in turn */
    int allow_download;      /* 0 for --no-download */
    int quiet;               /* 1: nothing on stderr (otherwise download progress only) */
    int test_only;           /* 1: only the two test files are looked for, downloaded and loaded (eval);
                                a folder then counts when it holds those two */
    /* For tests; NULL in nn-mnist. */
    const char *const *mirrors; /* NULL-terminated base URLs that replace the public mirrors */
    const char *const *sha256;  /* NNM_N_FILES lowercase hex SHA-256 of the uncompressed files, replacing
                                   the published values compiled in */
} nnm_data_request;

typedef struct nnm_dataset_paths {
    char dir[NNM_PATH_MAX];          /* the folder the files are in */
    char train_images[NNM_PATH_MAX]; /* each a path to a raw or .gz IDX file */
    char train_labels[NNM_PATH_MAX];
    char test_images[NNM_PATH_MAX];
    char test_labels[NNM_PATH_MAX];
    int downloaded;                  /* files this call downloaded (0 when all were found) */
} nnm_dataset_paths;

/*
 * Finds the dataset's four files (req->test_only: the two test files; the training paths stay
 * empty), or downloads the missing ones when allowed; fills *out.
 * Returns 0, or -1 with err saying where it looked, which URLs were tried and why each failed, and
 * how to provide the files. err should hold 2048 bytes for a full report. Not thread-safe (it
 * initialises libcurl); call it before starting threads.
 */
int nnm_find_dataset(const nnm_data_request *req, nnm_dataset_paths *out, char *err, size_t errlen);

/*
 * Loads the four files nnm_find_dataset() found as req->dataset: every image must be 28x28 and every
 * label 0..9 (nn_dataset_load_idx_expect()), and no file may be, by the SHA-256 of its uncompressed
 * content, another known dataset's file or the named dataset's file in another place (MNIST's files
 * under --dataset fashion-mnist, or its training images where the test images belong). Files that
 * match no published checksum are the user's own data and are accepted: only a proven mix-up is
 * refused. The hashes come from the loaded data, so it costs one pass of SHA-256 (about 0.05 s
 * for MNIST), not a second decompression. Returns 0 with *train and *test (the caller frees them),
 * or -1 with err and both NULL. With req->test_only only the test files are loaded and checked,
 * *train is NULL, and train may be NULL.
 */
int nnm_load_dataset(const nnm_data_request *req, const nnm_dataset_paths *paths, nn_dataset **train,
                     nn_dataset **test, char *err, size_t errlen);

#endif
