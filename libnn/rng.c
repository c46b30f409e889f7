/* xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64: fast, small state, and the same
 * integer stream on every platform, which makes seeded runs reproducible. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

struct nn_rng {
    uint64_t s[NN_RNG_STATE_WORDS];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void nn_rng_seed(nn_rng *rng, uint64_t seed)
{
    if (!rng) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_seed: generator is NULL");
        return;
    }
    uint64_t x = seed;
    for (int i = 0; i < NN_RNG_STATE_WORDS; i++) rng->s[i] = splitmix64(&x);
}

nn_status nn_rng_create(nn_rng **out, uint64_t seed)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_create: out is NULL");
    *out = malloc(sizeof **out);
    if (!*out) return nn__fail(NN_ERR_NO_MEMORY, "nn_rng_create: out of memory");
    nn_rng_seed(*out, seed);
    return NN_OK;
}

void nn_rng_free(nn_rng *rng) { free(rng); }

/* The drawing functions return values, not statuses: on a NULL generator they answer a fixed value
 * (0, or NaN for the floating-point ones, which poisons whatever is computed from it) and record the
 * mistake in nn_last_error(), rather than crash. */
uint64_t nn_rng_u64(nn_rng *rng)
{
    if (!rng) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_u64: generator is NULL");
        return 0;
    }
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t nn_rng_below(nn_rng *rng, uint64_t bound)
{
    if (!rng) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_below: generator is NULL");
        return 0;
    }
    if (bound == 0) return 0;
    /* Rejection of the short top range removes modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do {
        r = nn_rng_u64(rng);
    } while (r >= limit);
    return r % bound;
}

float nn_rng_uniform(nn_rng *rng)
{
    if (!rng) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_uniform: generator is NULL");
        return NAN;
    }
    return (float)(nn_rng_u64(rng) >> 40) * 0x1.0p-24f;
}

double nn_rng_normal(nn_rng *rng)
{
    if (!rng) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_normal: generator is NULL");
        return NAN;
    }
    /* Box-Muller in double; u1 in (0, 1] so that log never sees 0. */
    double u1 = ((double)(nn_rng_u64(rng) >> 11) + 1.0) * 0x1.0p-53;
    double u2 = (double)(nn_rng_u64(rng) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

nn_status nn_rng_shuffle(nn_rng *rng, uint32_t *idx, size_t n)
{
    if (n == 0) return NN_OK;
    if (!rng || !idx) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_shuffle: NULL argument");
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)nn_rng_below(rng, (uint64_t)i + 1);
        uint32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return NN_OK;
}

void nn_rng_get_state(const nn_rng *rng, uint64_t state[NN_RNG_STATE_WORDS])
{
    if (!state) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_get_state: state is NULL");
        return;
    }
    /* All zeros is the one state nn_rng_set_state() refuses, so a state read from no generator
     * cannot be restored by mistake. */
    if (!rng) {
        nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_get_state: generator is NULL");
        for (int i = 0; i < NN_RNG_STATE_WORDS; i++) state[i] = 0;
        return;
    }
    for (int i = 0; i < NN_RNG_STATE_WORDS; i++) state[i] = rng->s[i];
}

nn_status nn_rng_set_state(nn_rng *rng, const uint64_t state[NN_RNG_STATE_WORDS])
{
    if (!rng || !state) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_set_state: NULL argument");
    uint64_t any = 0;
    for (int i = 0; i < NN_RNG_STATE_WORDS; i++) any |= state[i];
    if (!any) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_rng_set_state: the all-zero state is invalid");
    for (int i = 0; i < NN_RNG_STATE_WORDS; i++) rng->s[i] = state[i];
    return NN_OK;
}
