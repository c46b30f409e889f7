/* File names as the output shows them: JSON must be UTF-8, and a line of text must stay one line,
 * whatever bytes a file's name holds. */
#ifndef NNM_NAMES_H
#define NNM_NAMES_H

#include <stddef.h>
#include <stdio.h>

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), or 0. */
size_t nnm_utf8_sequence(const unsigned char *s);

/* A copy of s (malloc'd; NULL when out of memory) in which each byte that is not part of a valid
 * UTF-8 sequence (a Latin-1 name from an old archive) is U+FFFD, as a JSON reader requires. */
char *nnm_utf8_valid(const char *s);

/* s written to f with its control characters (a newline in a name) as C escapes (\n, \t, \x1b) and
 * a backslash as two, so that 'FILE: DIGITS' stays one line. */
void nnm_print_name(FILE *f, const char *s);

#endif
