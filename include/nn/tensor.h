/**
 * @file tensor.h
 * @brief float32, row-major tensors of up to four dimensions.
 *
 * An ::nn_tensor is a small public view: a data pointer, a rank and a shape, outermost dimension
 * first (shape[0] is the batch). A tensor made by nn_tensor_create() owns its data and must be
 * released with nn_tensor_free(); a view made by nn_tensor_view() borrows memory the caller owns and
 * needs no free (calling nn_tensor_free() on it is harmless: it releases nothing).
 * @code
 * nn_tensor *x;
 * int64_t shape[2] = {32, 784};
 * if (nn_tensor_create(&x, 2, shape) != NN_OK) return 1;
 * nn_tensor_fill(x, 0.5f);
 * ...
 * nn_tensor_free(x);
 * @endcode
 */
#ifndef NN_TENSOR_H
#define NN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

NN_BEGIN_DECLS

/** Largest rank a tensor may have. */
#define NN_TENSOR_MAX_RANK 4

/** A float32 row-major tensor (or a view on someone else's memory). */
typedef struct nn_tensor {
    float *data;                         /**< rank-dimensional array, row-major */
    int rank;                            /**< 0 (scalar) to ::NN_TENSOR_MAX_RANK */
    int64_t shape[NN_TENSOR_MAX_RANK];   /**< extents, outermost first; unused entries are 1 */
    int owns_data;                       /**< non-zero when nn_tensor_free() releases data */
} nn_tensor;

/**
 * @brief Allocate a zero-filled tensor.
 * @param[out] out   receives the new tensor; the caller frees it with nn_tensor_free().
 * @param rank       0 to ::NN_TENSOR_MAX_RANK
 * @param shape      @p rank positive extents (may be NULL when rank is 0)
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT (bad rank, non-positive or overflowing extents),
 *         NN_ERR_NO_MEMORY.
 * @since 0.1
 */
NN_API nn_status nn_tensor_create(nn_tensor **out, int rank, const int64_t *shape);

/** @brief Release a tensor from nn_tensor_create(); NULL is a no-op. @since 0.1 */
NN_API void nn_tensor_free(nn_tensor *t);

/**
 * @brief Describe caller-owned memory as a tensor, without copying or allocating.
 * @param[out] out  the view, filled in place (no free needed)
 * @param data      at least product(shape) floats; the view is valid while they are
 * @return NN_OK or NN_ERR_INVALID_ARGUMENT.
 * @since 0.1
 */
NN_API nn_status nn_tensor_view(nn_tensor *out, float *data, int rank, const int64_t *shape);

/**
 * @brief Number of elements (product of the shape); 1 for a scalar.
 * @return the count, at least 1 for a valid tensor; 0, with nn_last_error() set, when @p t is NULL
 *         or not a valid tensor (a struct filled in by hand with a rank outside
 *         0..::NN_TENSOR_MAX_RANK, an extent below 1, or more elements than memory could hold).
 * @since 0.1
 */
NN_API int64_t nn_tensor_numel(const nn_tensor *t);

/**
 * @brief Change the shape in place, keeping the data; the element count must not change.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT, or NN_ERR_SHAPE when the counts differ.
 * @since 0.1
 */
NN_API nn_status nn_tensor_reshape(nn_tensor *t, int rank, const int64_t *shape);

/** @brief Set every element to @p value. @return NN_OK or NN_ERR_INVALID_ARGUMENT (NULL, or not a
 *  valid tensor: see nn_tensor_numel()). @since 0.1 */
NN_API nn_status nn_tensor_fill(nn_tensor *t, float value);

/**
 * @brief Copy the elements of @p src into @p dst; both must have the same shape.
 * @return NN_OK, NN_ERR_INVALID_ARGUMENT or NN_ERR_SHAPE.
 * @since 0.1
 */
NN_API nn_status nn_tensor_copy(nn_tensor *dst, const nn_tensor *src);

/** @brief Non-zero when both tensors have the same rank and extents; 0 when either is NULL or has a
 *  rank outside 0..::NN_TENSOR_MAX_RANK. @since 0.1 */
NN_API int nn_tensor_same_shape(const nn_tensor *a, const nn_tensor *b);

NN_END_DECLS

#endif /* NN_TENSOR_H */
