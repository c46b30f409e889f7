/*
 * `nn-mnist train --pieces N`: teach the model the pieces its reader will show it. nn_digits_read()
 * cuts a blob of touching digits along paths and reads every piece between two of them; a model that
 * has seen only whole digits (and --reject's pairs and straight cuts) takes a 2 with half of the next
 * 7's bar for a fine 2, and the 7's stem for a 1. So before its first epoch train composes strings
 * of digits, clean (dark on white, upright, one pen) but laid out as written ones are (1 to 8 digits,
 * 16 to 120 pixels high, one gap in five touching), from MNIST's training digits and from the fonts'
 * (fonts.h); cuts each with nn_digits_pieces(), as the reader would; and labels every piece by its box
 * against the true digits' (nnm_piece_label()). Of each kind, taught as digits and as not one digit
 * (NNM_REJECT_CLASS), SHARE of MNIST's images trained on come from MNIST's strings (6,000 of 60,000
 * by default), half as many from the fonts'. They are added to the
 * training images as the fonts' digits are: always trained on, never replaced by --reject's shapes.
 * Training a recogniser on its segmenter's hypotheses: LeCun, Bottou, Bengio and Haffner 1998.
 * docs/predict-log.md, "The reader's own pieces".
 */
#ifndef NNM_PIECES_H
#define NNM_PIECES_H

#include <stddef.h>
#include <stdint.h>

#include <nn/nn.h>

#include "fonts.h"

#define NNM_PIECES_DEFAULT                                                                                   \
    0.1f /* train's on mnist (6,000 of each kind from MNIST's 60,000):
                                   docs/predict-log.md, "The reader's own pieces" */
#define NNM_PIECES_MAX     0.5
#define NNM_PIECES_SEED    UINT64_C(0x7069656365) /* "piece": the strings' draws, from the run's --seed */
#define NNM_PIECES_MAX_LEN 8                      /* digits in a composed string, at most */
#define NNM_PIECE_SKIP     (-1) /* nnm_piece_label(): neither one digit nor clearly not one */

/*
 * What a piece is, by its box (x, y, w, h) against the true digits' boxes truth[0..n) and labels:
 * against the digit it overlaps most in columns, of height H, a piece reaching at most 0.1 H beyond
 * that digit's box on the left and right together, missing at most 0.15 H of it and within 0.2 H of
 * its height is that digit (0..9); one reaching 0.35 H beyond or missing 0.45 H, unless narrower
 * than 0.4 of its own height (the stem of a 4 or a 7 may be a 1), is NNM_REJECT_CLASS; the rest,
 * and a piece overlapping no digit, NNM_PIECE_SKIP.
 */
int nnm_piece_label(const int64_t piece[4], const int64_t (*truth)[4], const int *labels, int n);

/* One composed string: grey (w x h, dense, dark ink on white) and its digits' ink boxes. */
typedef struct nnm_string {
    uint8_t *grey;
    int w, h, n;
    int64_t box[NNM_PIECES_MAX_LEN][4];
    int label[NNM_PIECES_MAX_LEN];
} nnm_string;

/*
 * A string of 1 to 8 digits (5 in half of them) composed from glyphs g[0..n) (coverage, fonts.h): one
 * font per string where they have several, each digit a glyph of it drawn uniformly (so the labels
 * as common as in the glyphs), all drawn from rng. 0, or -1 when out of memory or n < 1.
 * out->grey is the caller's to free.
 */
int nnm_pieces_compose(nnm_string *out, const nnm_glyph *g, int n, nn_rng *rng);

typedef struct nnm_pieces_info {
    int64_t added;           /* images added */
    int64_t digits, not_one; /* of those, taught as digits and as not one digit */
    int64_t strings;         /* strings composed */
} nnm_pieces_info;

/*
 * *out = base followed by the pieces: per_kind taught as digits and per_kind as not one digit from
 * strings of the images from[0..n_from) of base (MNIST's training digits, 28 x 28, ink 255 on 0; from
 * NULL: the first n_from), and per_kind / 2 of each from strings of fonts (NULL or empty: none). The
 * strings are drawn from seed. Fewer when a kind stays short after 4 strings per piece asked (info
 * says). 0, or -1 with err.
 */
int nnm_pieces_dataset(nn_dataset **out, const nn_dataset *base, const uint32_t *from, int64_t n_from,
                       int64_t per_kind, const nnm_glyph_set *fonts, uint64_t seed, nnm_pieces_info *info,
                       char *err, size_t errlen);

#endif
