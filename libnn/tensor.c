#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Validates rank and extents and returns the element count, or -1 with the error set. */
static int64_t checked_numel(const char *who, int rank, const int64_t *shape)
{
    if (rank < 0 || rank > NN_TENSOR_MAX_RANK) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: rank %d outside 0..%d", who, rank, NN_TENSOR_MAX_RANK);
        return -1;
    }
    if (rank > 0 && !shape) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: shape is NULL", who);
        return -1;
    }
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] <= 0) {
            nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: dimension %d is %lld, must be positive", who, i,
                     (long long)shape[i]);
            return -1;
        }
        if (n > INT64_MAX / shape[i] || n * shape[i] > (int64_t)(SIZE_MAX / sizeof(float))) {
            nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: element count overflows", who);
            return -1;
        }
        n *= shape[i];
    }
    return n;
}

static void set_shape(nn_tensor *t, int rank, const int64_t *shape)
{
    t->rank = rank;
    for (int i = 0; i < NN_TENSOR_MAX_RANK; i++) t->shape[i] = i < rank ? shape[i] : 1;
}

nn_status nn_tensor_create(nn_tensor **out, int rank, const int64_t *shape)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_tensor_create: out is NULL");
    *out = NULL;
    int64_t n = checked_numel("nn_tensor_create", rank, shape);
    if (n < 0) return NN_ERR_INVALID_ARGUMENT;
    nn_tensor *t = malloc(sizeof *t);
    float *data = nn__aligned_alloc((size_t)n, sizeof(float), 1);
    if (!t || !data) {
        free(t);
        free(data);
        return nn__fail(NN_ERR_NO_MEMORY, "nn_tensor_create: cannot allocate %lld floats", (long long)n);
    }
    t->data = data;
    t->owns_data = 1;
    set_shape(t, rank, shape);
    *out = t;
    return NN_OK;
}

void nn_tensor_free(nn_tensor *t)
{
    if (!t || !t->owns_data) return;
    free(t->data);
    free(t);
}

nn_status nn_tensor_view(nn_tensor *out, float *data, int rank, const int64_t *shape)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_tensor_view: out is NULL");
    if (!data) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_tensor_view: data is NULL");
    if (checked_numel("nn_tensor_view", rank, shape) < 0) return NN_ERR_INVALID_ARGUMENT;
    out->data = data;
    out->owns_data = 0;
    set_shape(out, rank, shape);
    return NN_OK;
}

/* nn_tensor is a public struct that callers may fill by hand, so its rank and extents are checked
 * here like any other input; a valid tensor has at least one element, which leaves 0 free to mean
 * "not a tensor" and keeps a caller that ignores it from looping over anything. */
int64_t nn_tensor_numel(const nn_tensor *t)
{
    if (!t) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_tensor_numel: tensor is NULL");
        return 0;
    }
    int64_t n = checked_numel("nn_tensor_numel", t->rank, t->shape);
    return n < 0 ? 0 : n;
}

nn_status nn_tensor_reshape(nn_tensor *t, int rank, const int64_t *shape)
{
    if (!t) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_tensor_reshape: tensor is NULL");
    int64_t n = checked_numel("nn_tensor_reshape", rank, shape);
    if (n < 0) return NN_ERR_INVALID_ARGUMENT;
    int64_t have = nn_tensor_numel(t);
    if (have == 0) return NN_ERR_INVALID_ARGUMENT;
    if (n != have)
        return nn__fail(NN_ERR_SHAPE, "nn_tensor_reshape: %lld elements cannot take a shape of %lld",
                        (long long)have, (long long)n);
    set_shape(t, rank, shape);
    return NN_OK;
}

nn_status nn_tensor_fill(nn_tensor *t, float value)
{
    if (!t || !t->data) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_tensor_fill: tensor is NULL");
    int64_t n = nn_tensor_numel(t);
    if (n == 0) return NN_ERR_INVALID_ARGUMENT;
    for (int64_t i = 0; i < n; i++) t->data[i] = value;
    return NN_OK;
}

int nn_tensor_same_shape(const nn_tensor *a, const nn_tensor *b)
{
    if (!a || !b || a->rank != b->rank || a->rank < 0 || a->rank > NN_TENSOR_MAX_RANK) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

nn_status nn_tensor_copy(nn_tensor *dst, const nn_tensor *src)
{
    if (!dst || !src || !dst->data || !src->data)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_tensor_copy: tensor is NULL");
    if (!nn_tensor_same_shape(dst, src))
        return nn__fail(NN_ERR_SHAPE, "nn_tensor_copy: shapes differ (rank %d vs %d, %lld vs %lld elements)",
                        dst->rank, src->rank, (long long)nn_tensor_numel(dst), (long long)nn_tensor_numel(src));
    int64_t n = nn_tensor_numel(src);
    if (n == 0) return NN_ERR_INVALID_ARGUMENT;
    memmove(dst->data, src->data, (size_t)n * sizeof(float));
    return NN_OK;
}
