/**
 * @file rng.h
 * @brief An explicit, seedable random number generator.
 *
 * libnn has no global random state: everything random (weight initialisation, shuffling, dropout)
 * takes an ::nn_rng. The generator is xoshiro256** seeded through splitmix64, so the same seed gives
 * the same stream on every machine; float results are bit-identical on the same machine and build.
 * @code
 * nn_rng *rng;
 * nn_rng_create(&rng, 42);
 * float u = nn_rng_uniform(rng);   // [0, 1)
 * nn_rng_free(rng);
 * @endcode
 */
#ifndef NN_RNG_H
#define NN_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"

NN_BEGIN_DECLS

/** Opaque generator. One thread at a time. */
typedef struct nn_rng nn_rng;

/** Number of 64-bit words in a generator's state (see nn_rng_get_state()). */
#define NN_RNG_STATE_WORDS 4

/** @brief Create a generator from a seed. @return NN_OK, NN_ERR_INVALID_ARGUMENT, NN_ERR_NO_MEMORY. @since 0.1 */
NN_API nn_status nn_rng_create(nn_rng **out, uint64_t seed);

/** @brief Release a generator; NULL is a no-op. @since 0.1 */
NN_API void nn_rng_free(nn_rng *rng);

/** @brief Restart the stream as if just created with @p seed; a NULL @p rng does nothing (and sets
 *  nn_last_error()). @since 0.1 */
NN_API void nn_rng_seed(nn_rng *rng, uint64_t seed);

/**
 * @name Drawing
 * These return values, not statuses. Called with a NULL generator they never crash: they return 0
 * (nn_rng_u64(), nn_rng_below()) or NaN (nn_rng_uniform(), nn_rng_normal()) and set nn_last_error().
 * @{
 */

/** @brief Next 64 random bits. @since 0.1 */
NN_API uint64_t nn_rng_u64(nn_rng *rng);

/** @brief Uniform integer in [0, bound), without modulo bias; 0 when bound is 0. @since 0.1 */
NN_API uint64_t nn_rng_below(nn_rng *rng, uint64_t bound);

/** @brief Uniform float in [0, 1) (24 random bits). @since 0.1 */
NN_API float nn_rng_uniform(nn_rng *rng);

/** @brief Standard normal sample (mean 0, standard deviation 1), computed in double. @since 0.1 */
NN_API double nn_rng_normal(nn_rng *rng);

/** @} */

/**
 * @brief Shuffle @p n indices in place (Fisher-Yates).
 * @return NN_OK or NN_ERR_INVALID_ARGUMENT when rng or idx is NULL with n > 0.
 * @since 0.1
 */
NN_API nn_status nn_rng_shuffle(nn_rng *rng, uint32_t *idx, size_t n);

/**
 * @brief Copy the state out, for saving; resumes exactly with nn_rng_set_state().
 * With a NULL @p rng it writes the all-zero state, which nn_rng_set_state() refuses, and sets
 * nn_last_error(); with a NULL @p state it does nothing but set nn_last_error().
 * @since 0.1
 */
NN_API void nn_rng_get_state(const nn_rng *rng, uint64_t state[NN_RNG_STATE_WORDS]);

/**
 * @brief Restore a state saved with nn_rng_get_state().
 * @return NN_OK, or NN_ERR_INVALID_ARGUMENT for the all-zero state, which the generator cannot leave.
 * @since 0.1
 */
NN_API nn_status nn_rng_set_state(nn_rng *rng, const uint64_t state[NN_RNG_STATE_WORDS]);

NN_END_DECLS

#endif /* NN_RNG_H */
