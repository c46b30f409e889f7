#include "strbuf.h"

#include "fsutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void nnm_sb_add(nnm_strbuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

void nnm_sb_free(nnm_strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

int nnm_sb_save(nnm_strbuf *b, const char *path, char *err, size_t errlen)
{
    if (b->failed) {
        nnm_sb_free(b);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int rc = nnm_write_atomic(path, b->s ? b->s : "", b->len, err, errlen);
    nnm_sb_free(b);
    return rc;
}
