#include "errfmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Of a message cut, the start kept: a quarter of the buffer (the file's first folders), the rest from
 * the end (its name and the reason). */
#define ELLIPSIS "..."

int nnm_errorf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return -1;
    char full[16384];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(full, sizeof full, fmt, ap);
    va_end(ap);
    const size_t len = n < 0 ? 0 : (size_t)n < sizeof full ? (size_t)n : sizeof full - 1;
    if (len < errlen || errlen < 16) {
        snprintf(err, errlen, "%s", full);
        return -1;
    }
    size_t head = errlen / 4, from = len - (errlen - 1 - head - (sizeof ELLIPSIS - 1));
    while (head > 0 && ((unsigned char)full[head] & 0xC0) == 0x80) head--;
    while (from < len && ((unsigned char)full[from] & 0xC0) == 0x80) from++;
    memcpy(err, full, head);
    memcpy(err + head, ELLIPSIS, sizeof ELLIPSIS - 1);
    memcpy(err + head + sizeof ELLIPSIS - 1, full + from, len - from + 1);
    return -1;
}
