#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

/* Thread-local so that two threads training two models never see each other's messages. */
static _Thread_local char last_error[512];

const char *nn_status_string(nn_status status)
{
    switch (status) {
    case NN_OK: return "ok";
    case NN_ERR_INVALID_ARGUMENT: return "invalid argument";
    case NN_ERR_SHAPE: return "shape mismatch";
    case NN_ERR_NO_MEMORY: return "out of memory";
    case NN_ERR_IO: return "input/output error";
    case NN_ERR_FORMAT: return "malformed file";
    case NN_ERR_VERSION: return "unsupported file version";
    case NN_ERR_STATE: return "invalid state";
    case NN_ERR_NUMERIC: return "non-finite value";
    case NN_ERR_UNSUPPORTED: return "unsupported";
    case NN_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

const char *nn_last_error(void) { return last_error; }

void nn_clear_error(void) { last_error[0] = '\0'; }

nn_status nn__fail(nn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

int nn__mul_size(size_t *out, size_t a, size_t b)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}
