#include <math.h>
#include <string.h>

#include "internal.h"

static const char *const init_names[] = {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros",
                                           "ones"};
#define INIT_COUNT (int)(sizeof init_names / sizeof init_names[0])

const char *nn_init_name(nn_init kind)
{
    return (int)kind >= 0 && (int)kind < INIT_COUNT ? init_names[kind] : NULL;
}

nn_status nn_init_from_name(nn_init *out, const char *name)
{
    if (!out || !name) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_init_from_name: NULL argument");
    for (int i = 0; i < INIT_COUNT; i++)
        if (strcmp(name, init_names[i]) == 0) {
            *out = (nn_init)i;
            return NN_OK;
        }
    return nn__fail(NN_ERR_INVALID_ARGUMENT,
                    "unknown initialiser '%s' (accepted: glorot_uniform, glorot_normal, he_uniform, he_normal, zeros, ones)",
                    name);
}

static void fill_uniform(float *out, size_t n, double limit, nn_rng *rng)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)((2.0 * nn_rng_uniform(rng) - 1.0) * limit);
}

/* Keras' truncated normal: redraw beyond two standard deviations; the stddev is divided by
 * 0.87962566103423978, the standard deviation of a unit normal truncated to [-2, 2], so the
 * resulting weights have the intended variance. */
static void fill_truncated_normal(float *out, size_t n, double stddev, nn_rng *rng)
{
    double s = stddev / 0.87962566103423978;
    for (size_t i = 0; i < n; i++) {
        double z;
        do {
            z = nn_rng_normal(rng);
        } while (z < -2.0 || z > 2.0);
        out[i] = (float)(z * s);
    }
}

nn_status nn_init_fill(float *out, size_t n, nn_init kind, int64_t fan_in, int64_t fan_out, nn_rng *rng)
{
    if (n == 0) return NN_OK;
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_init_fill: out is NULL");
    if (n > SIZE_MAX / sizeof *out)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_init_fill: %zu floats is more than memory holds", n);
    if (kind == NN_INIT_ZEROS) {
        memset(out, 0, n * sizeof *out);
        return NN_OK;
    }
    if (kind == NN_INIT_ONES) {
        for (size_t i = 0; i < n; i++) out[i] = 1.0f;
        return NN_OK;
    }
    if (!nn_init_name(kind)) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_init_fill: unknown kind %d", (int)kind);
    if (!rng) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_init_fill: %s needs a generator", nn_init_name(kind));
    if (fan_in <= 0 || fan_out <= 0)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_init_fill: fans must be positive (got %lld, %lld)",
                        (long long)fan_in, (long long)fan_out);
    /* In double: fan_in + fan_out in int64_t overflows for fans near INT64_MAX. */
    double glorot = (double)fan_in + (double)fan_out;
    switch (kind) {
    case NN_INIT_GLOROT_UNIFORM: fill_uniform(out, n, sqrt(6.0 / glorot), rng); break;
    case NN_INIT_GLOROT_NORMAL: fill_truncated_normal(out, n, sqrt(2.0 / glorot), rng); break;
    case NN_INIT_HE_UNIFORM: fill_uniform(out, n, sqrt(6.0 / (double)fan_in), rng); break;
    case NN_INIT_HE_NORMAL: fill_truncated_normal(out, n, sqrt(2.0 / (double)fan_in), rng); break;
    case NN_INIT_ZEROS:
    case NN_INIT_ONES: break;
    }
    return NN_OK;
}
