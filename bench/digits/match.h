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
    long touching, touching_right; /* digits bd_near() another, and how many of them were read right */
    long overlapping, overlapping_right; /* of those, the digits bd_overlapping() another, and how
                              many of them were read right */
    long sure, sure_right; /* found boxes read surely (as `nn-mnist predict` prints them without '?'),
                              and how many of those are a true digit read right */
    long sure_strings[BD_MAX_LEN + 1], sure_strings_right[BD_MAX_LEN + 1]; /* images read with every
                              digit sure (eval.c counts them), and how many of those exactly */
} bd_tally;

/* Whether true digit i (0 <= i < n) lies side by side with another of the n (their rows overlapping)
 * and at most max(2 pixels, 5% of the taller one's height) from it, or over it: touching or nearly,
 * the digits that must be cut apart. */
int bd_near(const bd_box *truth, int n, int i);

/* Whether true digit i lies side by side with another whose box covers at least a tenth of the
 * narrower one's width: written into each other (a 7's bar over the digit before it), where a cut
 * from top to bottom often cannot part the two without taking a stroke from one. A subset of
 * bd_near(). */
int bd_overlapping(const bd_box *truth, int n, int i);

/*
 * Adds one image's digits to t: the n true boxes (at most BD_MAX_LEN) against the nf found ones
 * (cls: the classes read, or NULL without a model; sure: which of them were read surely, or NULL).
 * With `errors`, one line per true digit not read right and per spurious box, tab-separated: where,
 * position, truth, height, what happened. Digits bd_near() another count in t->touching as well,
 * and in t->touching_right when right (bd_overlapping() ones in t->overlapping and
 * t->overlapping_right too); found boxes read surely in t->sure, and in t->sure_right
 * when they are the right reading of a true digit (paired with it, no piece of it read as well).
 * Returns 0, or -1 (t unchanged) for n out of range or no memory.
 */
int bd_match(bd_tally *t, const bd_box *truth, int n, const bd_box *found, const int *cls,
             const unsigned char *sure, int nf, FILE *errors,
             const char *where);

#endif
