#include "errfmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Of a message cut, the start kept: a quarter of the buffer (the file's first folders), the rest from
 * the end (its name and the reason). */
#define ELLIPSIS "..."

int nnm_errorf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return -1;
    char local[4096], *full = local;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const int n = vsnprintf(local, sizeof local, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (n < 0) local[0] = '\0';
    else if (len >= sizeof local) { /* a name longer than PATH_MAX is still a name argv can hold */
        char *big = malloc(len + 1);
        if (big && vsnprintf(big, len + 1, fmt, again) == n) full = big;
        else {
            free(big);
            len = sizeof local - 1;
        }
    }
    va_end(again);
    if (len < errlen || errlen < 16) {
        snprintf(err, errlen, "%s", full);
    } else {
        /* UTF-8 continues a character in bytes 10xxxxxx, at most three of them */
        size_t head = errlen / 4, from = len - (errlen - 1 - head - (sizeof ELLIPSIS - 1));
        for (int k = 0; k < 3 && head > 0 && ((unsigned char)full[head] & 0xC0) == 0x80; k++) head--;
        for (int k = 0; k < 3 && from < len && ((unsigned char)full[from] & 0xC0) == 0x80; k++) from++;
        memcpy(err, full, head);
        memcpy(err + head, ELLIPSIS, sizeof ELLIPSIS - 1);
        memcpy(err + head + sizeof ELLIPSIS - 1, full + from, len - from + 1);
    }
    if (full != local) free(full);
    return -1;
}
