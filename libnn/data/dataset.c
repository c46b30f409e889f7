/* In-memory datasets of uint8 images, and the conversion of batches to float32.
 *
 * A dataset never changes after it is made, and nothing here keeps state between calls, so any
 * number of threads may gather from one dataset at once (each into its own tensors). */
#include <stdlib.h>
#include <string.h>

#include "dataset_internal.h"

/* Pixels become pixel / 255.0f: float division is correctly rounded, so each value is the float
 * nearest to p/255 (p * (1.0f / 255) differs in the last bit for some p). Written as a division the
 * loop vectorises (widen, convert, divide 16 lanes at a time), which a table lookup does not. */

nn_status nn_dataset__adopt(nn_dataset **out, int64_t count, int64_t rows, int64_t cols, uint8_t *images,
                            uint8_t *labels)
{
    nn_dataset *ds = malloc(sizeof *ds);
    if (!ds) {
        free(images);
        free(labels);
        return nn__fail(NN_ERR_NO_MEMORY, "dataset: cannot allocate the dataset");
    }
    int max_label = 0;
    for (int64_t i = 0; i < count; i++)
        if (labels[i] > max_label) max_label = labels[i];
    ds->count = count;
    ds->rows = rows;
    ds->cols = cols;
    ds->features = rows * cols;
    ds->classes = max_label + 1;
    ds->images = images;
    ds->labels = labels;
    *out = ds;
    return NN_OK;
}

/* Checks n, rows, cols against the IDX limits (the same bounds a loaded file must meet) and
 * computes the image bytes. */
static nn_status checked_image_bytes(size_t *bytes, const char *who, int64_t n, int64_t rows, int64_t cols)
{
    if (n < 1 || n > NN_IDX_MAX_ITEMS)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %lld examples, expects 1..%lld", who, (long long)n,
                        NN_IDX_MAX_ITEMS);
    if (rows < 1 || rows > NN_IDX_MAX_DIM || cols < 1 || cols > NN_IDX_MAX_DIM)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: image size %lldx%lld, each side must be 1..%lld", who,
                        (long long)rows, (long long)cols, NN_IDX_MAX_DIM);
    size_t features;
    if (!nn__mul_size(&features, (size_t)rows, (size_t)cols) || !nn__mul_size(bytes, features, (size_t)n))
        return nn__fail(NN_ERR_NO_MEMORY, "%s: %lld images of %lldx%lld do not fit in memory", who,
                        (long long)n, (long long)rows, (long long)cols);
    return NN_OK;
}

static nn_status copy_into_dataset(nn_dataset **out, const char *who, int64_t n, int64_t rows, int64_t cols,
                                   const uint8_t *images, const uint8_t *labels, int classes)
{
    size_t bytes;
    nn_status st = checked_image_bytes(&bytes, who, n, rows, cols);
    if (st != NN_OK) return st;
    uint8_t *im = malloc(bytes);
    uint8_t *lb = malloc((size_t)n);
    if (!im || !lb) {
        free(im);
        free(lb);
        return nn__fail(NN_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes of images", who, bytes);
    }
    memcpy(im, images, bytes);
    memcpy(lb, labels, (size_t)n);
    st = nn_dataset__adopt(out, n, rows, cols, im, lb);
    if (st == NN_OK && classes > (*out)->classes) (*out)->classes = classes;
    return st;
}

nn_status nn_dataset_create(nn_dataset **out, int64_t n, int64_t rows, int64_t cols, const uint8_t *images,
                            const uint8_t *labels)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_create: out is NULL");
    *out = NULL;
    if (!images || !labels)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_create: %s is NULL", images ? "labels" : "images");
    return copy_into_dataset(out, "nn_dataset_create", n, rows, cols, images, labels, 0);
}

nn_status nn_dataset_subset(nn_dataset **out, const nn_dataset *src, int64_t start, int64_t count)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_subset: out is NULL");
    *out = NULL;
    if (!src) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_subset: src is NULL");
    if (start < 0 || count < 1 || start > src->count || count > src->count - start)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_subset: rows [%lld, %lld + %lld) outside 0..%lld",
                        (long long)start, (long long)start, (long long)count, (long long)src->count);
    /* A validation split that happens to miss the last class is still a problem with that many
     * classes, so the subset keeps its source's count rather than shrinking the model's output. */
    return copy_into_dataset(out, "nn_dataset_subset", count, src->rows, src->cols,
                             src->images + (size_t)start * (size_t)src->features, src->labels + start,
                             src->classes);
}

void nn_dataset_free(nn_dataset *ds)
{
    if (!ds) return;
    free(ds->images);
    free(ds->labels);
    free(ds);
}

int64_t nn_dataset_count(const nn_dataset *ds) { return ds ? ds->count : 0; }

int64_t nn_dataset_features(const nn_dataset *ds) { return ds ? ds->features : 0; }

void nn_dataset_image_size(const nn_dataset *ds, int64_t *rows, int64_t *cols)
{
    if (rows) *rows = ds ? ds->rows : 0;
    if (cols) *cols = ds ? ds->cols : 0;
}

int nn_dataset_classes(const nn_dataset *ds) { return ds ? ds->classes : 0; }

const uint8_t *nn_dataset_images(const nn_dataset *ds) { return ds ? ds->images : NULL; }

const uint8_t *nn_dataset_labels(const nn_dataset *ds) { return ds ? ds->labels : NULL; }

/* Everything a batch needs checked before a single element is written, so a refused call leaves
 * x and y as they were. */
static nn_status check_batch(const char *who, const nn_dataset *ds, int64_t n, const nn_tensor *x,
                             const nn_tensor *y)
{
    if (!ds || !x || !y)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", who, !ds ? "dataset" : !x ? "x" : "y");
    if (!x->data || !y->data) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %s has no data", who, !x->data ? "x" : "y");
    if (n < 1) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: batch of %lld examples", who, (long long)n);
    if (x->rank != 2 || x->shape[0] < n || x->shape[1] != ds->features)
        return nn__fail(NN_ERR_SHAPE, "%s: x is (%lld, %lld) of rank %d, needs rank 2 with at least %lld rows of %lld",
                        who, (long long)x->shape[0], (long long)x->shape[1], x->rank, (long long)n,
                        (long long)ds->features);
    /* y may be (N) or (N, 1): one label per row either way. */
    int64_t per_row = 1;
    for (int i = 1; i < y->rank && i < NN_TENSOR_MAX_RANK; i++) per_row *= y->shape[i];
    if (y->rank < 1 || y->rank > NN_TENSOR_MAX_RANK || y->shape[0] < n || per_row != 1)
        return nn__fail(NN_ERR_SHAPE, "%s: y has rank %d and %lld rows, needs one label for each of %lld rows", who,
                        y->rank, (long long)y->shape[0], (long long)n);
    return NN_OK;
}

/* x (n, features), y (n): the hot loop of every training step. Rows are contiguous in both the
 * dataset and x, so each row is one pass of table look-ups with no allocation. */
NN_HOT static void convert_rows(const nn_dataset *ds, const uint32_t *idx, int64_t start, int64_t n, nn_tensor *x,
                         nn_tensor *y)
{
    const size_t features = (size_t)ds->features;
    float *restrict xd = x->data;
    float *restrict yd = y->data;
    for (int64_t i = 0; i < n; i++) {
        const size_t row = idx ? (size_t)idx[i] : (size_t)(start + i);
        const uint8_t *restrict src = ds->images + row * features;
        float *restrict dst = xd + (size_t)i * features;
        for (size_t j = 0; j < features; j++) dst[j] = (float)src[j] / 255.0f;
        yd[i] = (float)ds->labels[row];
    }
    x->shape[0] = n;
    y->shape[0] = n;
}

nn_status nn_dataset_gather(const nn_dataset *ds, const uint32_t *idx, int64_t n, nn_tensor *x, nn_tensor *y)
{
    nn_status st = check_batch("nn_dataset_gather", ds, n, x, y);
    if (st != NN_OK) return st;
    if (!idx) {
        if (n > ds->count)
            return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_gather: %lld examples asked, dataset holds %lld",
                            (long long)n, (long long)ds->count);
    } else {
        for (int64_t i = 0; i < n; i++)
            if ((int64_t)idx[i] >= ds->count)
                return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_gather: idx[%lld] = %lu, dataset holds %lld",
                                (long long)i, (unsigned long)idx[i], (long long)ds->count);
    }
    convert_rows(ds, idx, 0, n, x, y);
    return NN_OK;
}

nn_status nn_dataset_slice(const nn_dataset *ds, int64_t start, int64_t n, nn_tensor *x, nn_tensor *y)
{
    nn_status st = check_batch("nn_dataset_slice", ds, n, x, y);
    if (st != NN_OK) return st;
    if (start < 0 || start > ds->count || n > ds->count - start)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_dataset_slice: rows [%lld, %lld + %lld) outside 0..%lld",
                        (long long)start, (long long)start, (long long)n, (long long)ds->count);
    convert_rows(ds, NULL, start, n, x, y);
    return NN_OK;
}
