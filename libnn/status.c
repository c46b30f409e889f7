#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A message longer than the buffer loses its middle, not its end: a long path in it would otherwise
 * push out the reason that follows it. Some HEAD bytes of the start are kept (the function's name),
 * the rest from the end, no UTF-8 character cut in two. */
#define HEAD 128
#define ELLIPSIS "..."

nn_status nn__fail(nn_status status, const char *fmt, ...)
{
    char local[4096], *full = local;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const int n = vsnprintf(local, sizeof local, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (n < 0) local[0] = '\0';
    else if (len >= sizeof local) {
        char *big = malloc(len + 1);
        if (big && vsnprintf(big, len + 1, fmt, again) == n) full = big;
        else {
            free(big);
            len = sizeof local - 1;
        }
    }
    va_end(again);
    if (len < sizeof last_error) {
        memcpy(last_error, full, len + 1);
    } else {
        /* UTF-8 continues a character in bytes 10xxxxxx, at most three of them */
        size_t head = HEAD, from = len - (sizeof last_error - 1 - HEAD - (sizeof ELLIPSIS - 1));
        for (int k = 0; k < 3 && head > 0 && ((unsigned char)full[head] & 0xC0) == 0x80; k++) head--;
        for (int k = 0; k < 3 && from < len && ((unsigned char)full[from] & 0xC0) == 0x80; k++) from++;
        memcpy(last_error, full, head);
        memcpy(last_error + head, ELLIPSIS, sizeof ELLIPSIS - 1);
        memcpy(last_error + head + sizeof ELLIPSIS - 1, full + from, len - from + 1);
    }
    if (full != local) free(full);
    return status;
}

int nn__mul_size(size_t *out, size_t a, size_t b)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}
