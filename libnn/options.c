/* Versioned options structs: a program built against an older minor passes its older, shorter
 * struct, and gets today's defaults for the fields it does not know. */
#include <string.h>

#include "internal.h"

static nn_status check_version(unsigned version, unsigned current, const char *who)
{
    if (version < 1 || version > current)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: options version %u, this library knows 1 to %u (initialise "
                                                 "the struct with its _INIT macro or _options_init())",
                        who, version, current);
    return NN_OK;
}

nn_status nn__options_take(void *dst, const void *defaults, const void *src, const size_t *sizes, unsigned current,
                           const char *who)
{
    memcpy(dst, defaults, sizes[current - 1]);
    if (src) {
        unsigned version;
        memcpy(&version, src, sizeof version);
        nn_status st = check_version(version, current, who);
        if (st != NN_OK) return st;
        memcpy(dst, src, sizes[version - 1]);
    }
    memcpy(dst, &current, sizeof current);
    return NN_OK;
}

nn_status nn__options_init(void *dst, unsigned version, const void *defaults, const size_t *sizes,
                           unsigned current, const char *who)
{
    if (!dst) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: options is NULL", who);
    nn_status st = check_version(version, current, who);
    if (st != NN_OK) return st;
    memcpy(dst, defaults, sizes[version - 1]);
    memcpy(dst, &version, sizeof version);
    return NN_OK;
}
