/* Error messages into fixed buffers, a long file name in them losing its middle rather than the
 * reason that follows it. */
#ifndef NNM_ERRFMT_H
#define NNM_ERRFMT_H

#include <stddef.h>

/* printf's fmt into err (errlen bytes); a message that does not fit keeps its start and its end, "..."
 * between them, no UTF-8 character cut in two (in a buffer of 16 bytes or more; a smaller one is cut
 * plainly). Returns -1, for `return nnm_errorf(...)` on failure. */
int nnm_errorf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
