/**
 * @file init.h
 * @brief Weight initialisers, as Keras defines them.
 *
 * fan_in and fan_out are the layer's input and output sizes. The normal variants draw from a normal
 * distribution truncated at two standard deviations (redrawn beyond), scaled so that the truncated
 * distribution has the target variance, exactly as Keras' GlorotNormal and HeNormal do.
 */
#ifndef NN_INIT_H
#define NN_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "rng.h"
#include "status.h"

NN_BEGIN_DECLS

/** Initialiser kinds; values are stable (they are stored in model files). */
typedef enum nn_init {
    NN_INIT_GLOROT_UNIFORM = 0, /**< U(-l, l), l = sqrt(6 / (fan_in + fan_out)); the default */
    NN_INIT_GLOROT_NORMAL = 1,  /**< truncated normal, stddev sqrt(2 / (fan_in + fan_out)) */
    NN_INIT_HE_UNIFORM = 2,     /**< U(-l, l), l = sqrt(6 / fan_in) */
    NN_INIT_HE_NORMAL = 3,      /**< truncated normal, stddev sqrt(2 / fan_in) */
    NN_INIT_ZEROS = 4,          /**< all zeros (Keras' default for biases) */
    NN_INIT_ONES = 5            /**< all ones (batch norm's gamma and moving variance) @since 0.2 */
} nn_init;

/**
 * @brief Fill @p n floats with draws of initialiser @p kind.
 * @param rng  may be NULL only for NN_INIT_ZEROS
 * @return NN_OK or NN_ERR_INVALID_ARGUMENT (unknown kind, non-positive fans, NULL pointers).
 * @since 0.1
 */
NN_API nn_status nn_init_fill(float *out, size_t n, nn_init kind, int64_t fan_in, int64_t fan_out,
                              nn_rng *rng);

/** @brief Stable lowercase name ("glorot_uniform", ...); NULL for an unknown kind. @since 0.1 */
NN_API const char *nn_init_name(nn_init kind);

/** @brief Look an initialiser up by its name. @return NN_OK or NN_ERR_INVALID_ARGUMENT. @since 0.1 */
NN_API nn_status nn_init_from_name(nn_init *out, const char *name);

NN_END_DECLS

#endif /* NN_INIT_H */
