/*
 * Matching the digits found in a composed image to its truth, and counting what went wrong
 * (bench/digits/eval.c; the definitions are docs/predict.md's, "The synthetic benchmark").
 */
#ifndef BD_MATCH_H
#define BD_MATCH_H

#include <stdio.h>

#include "synth.h"

typedef struct bd_tally {
    long images, digits, right, matched, missed, split, merged, cut, spurious, found, failures;
    long strings[BD_MAX_LEN + 1], strings_right[BD_MAX_LEN + 1];
} bd_tally;

/*
 * Adds one image's digits to t: the n true boxes (at most BD_MAX_LEN) against the nf found ones
 * (cls: the classes read, or NULL without a model). With `errors`, one line per true digit not read
 * right and per spurious box, tab-separated: where, position, truth, height, what happened.
 * Returns 0, or -1 (t unchanged) for n out of range or no memory.
 */
int bd_match(bd_tally *t, const bd_box *truth, int n, const bd_box *found, const int *cls, int nf, FILE *errors,
             const char *where);

#endif
