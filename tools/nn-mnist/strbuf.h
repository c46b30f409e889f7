/* A growing string, for the text files the report writes whole (tables, records). */
#ifndef NNM_STRBUF_H
#define NNM_STRBUF_H

#include <stddef.h>

typedef struct nnm_strbuf {
    char *s;          /* NUL-terminated while len > 0; NULL until the first add */
    size_t len, cap;
    int failed;       /* an allocation failed: later adds do nothing, the text is incomplete */
} nnm_strbuf;

void nnm_sb_add(nnm_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nnm_sb_free(nnm_strbuf *b);

/* Writes the text to path atomically (nnm_write_atomic) and frees it; an incomplete text (a failed
 * allocation) is refused. 0 or -1 with err. */
int nnm_sb_save(nnm_strbuf *b, const char *path, char *err, size_t errlen);

#endif
