/* Private to libnn/vision: the steps of nn_digits_find() (include/nn/digits.h), one file each, and
 * the data they pass along. docs/predict.md explains the choices. */
#ifndef NN_VISION_H
#define NN_VISION_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "nn/digits.h"

/* The image as the caller gave it: pixel (x, y) is px[y * stride + x]. */
typedef struct nn__gray {
    const uint8_t *px;
    int64_t w, h, stride;
} nn__gray;

/* threshold.c: the "ink strength" image, 0 on paper and growing with the ink's contrast, whatever
 * the polarity and the light; ink is where ink[i] >= level. */
typedef struct nn__ink {
    uint8_t *ink;       /* w x h, row-major, dense (stride w) */
    int level;          /* threshold on ink[]: 1..255; 256 when the image has no ink */
    int weak;           /* lower threshold (1..level) through which pieces of ink are one component;
                         * 0 or level: none */
    int paper;          /* typical ink[] value of paper (its noise floor), subtracted when normalising */
    int dark_on_light;  /* polarity found or given */
    int adaptive;       /* the paper's level was estimated per tile */
    int64_t w, h;       /* the image's size */
} nn__ink;

nn_status nn__vision_ink(nn__ink *out, const nn__gray *g, int polarity, int method);
/* Otsu (1979): the t maximising the between-class variance of [0, t) and [t, 255]; 0 when the
 * histogram holds a single value. *lo_mean and *hi_mean receive the class means. */
int nn__vision_otsu(const int64_t *hist, double *lo_mean, double *hi_mean);

/* plate.c: a plate or card of one colour lying wholly inside a photo of a wall or table of another
 * (docs/predict.md, step 0). When there is one, *out (the caller frees) is the box [x0, x1) x
 * [y0, y1) around it, dense, with everything beyond the plate, and its edge, painted the plate's
 * level; else *out is NULL. */
typedef struct nn__plate {
    int64_t x0, y0, x1, y1;
} nn__plate;
nn_status nn__vision_plate(uint8_t **out, nn__plate *box, const nn__gray *g, const char *who);

/* rules.c: ruled lines (an underline, ruled or squared paper) cleared from ink->ink where no stroke
 * crosses them; *cleared: the positions cleared along the lines. */
nn_status nn__vision_rules(nn__ink *ink, int64_t *cleared);
/* The same, leaving lying lines shorter than min_len pixels; *shortest (when not NULL): the length of the
 * shortest lying line taken out, INT64_MAX when none. */
nn_status nn__vision_rules_longer(nn__ink *ink, int64_t min_len, int64_t *cleared, int64_t *shortest);

/* components.c: 8-connected components of the ink as horizontal runs. */
typedef struct nn__run {
    int32_t x0, x1; /* columns [x0, x1) */
    int32_t y;
    int32_t comp;   /* union-find parent while labelling, then the component's number */
} nn__run;

typedef struct nn__comp {
    int32_t x0, y0, x1, y1; /* bounding box, [x0, x1) x [y0, y1) */
    int64_t area;           /* ink pixels */
    int32_t first, count;   /* its runs: order[first .. first + count) */
    int32_t group;          /* the glyph it belongs to after merging; -1: dropped */
    int32_t next;           /* next component of the same group, -1 at the end */
} nn__comp;

typedef struct nn__components {
    nn__run *runs;
    int64_t nruns;
    int32_t *order;         /* run numbers sorted by component, each component's in image order */
    int64_t norder;         /* entries of order */
    nn__comp *comps;
    /* Blobs two lines high cut in two between the lines (segment.c): the upper part's and the
     * lower part's components, in pairs, for a reader to join again when it reads them better as
     * one digit. */
    int32_t *bridges;
    int64_t nbridges;
    int64_t ncomps;
} nn__components;

nn_status nn__vision_components(nn__components *out, const nn__ink *ink, int64_t w, int64_t h);
void nn__vision_components_free(nn__components *c);

/* segment.c: glyphs (one digit each) from components; nn__vision_order() puts them in reading order. */
typedef struct nn__glyph {
    int32_t group;          /* first component of the group (comps[].group == group) */
    int32_t cx0, cx1;       /* only the group's columns [cx0, cx1) (a part of a split) */
    int32_t x0, y0, x1, y1; /* tight bounding box of those pixels */
    int64_t area;
    int64_t line;
    /* A piece cut along paths (cuts.c) rather than columns: its left and right paths, as 1 + their
     * offsets in nn__glyphs.cuts (0: the group's own edge), one column per row of the box of its group. */
    int64_t cut_l, cut_r;
    int64_t tag;            /* the caller's, kept through nn__vision_order() */
} nn__glyph;

typedef struct nn__glyphs {
    nn__glyph *g;
    int64_t n, cap;
    /* Fragments: glyphs dropped for being lower than a digit can be (a detached bar, the end of a
     * broken stroke) and the larger specks, kept aside for a reader that can try them as parts of a
     * digit nearby. A speck's component keeps group -1 (dropped) until it is joined to a glyph. */
    nn__glyph *frag;
    int64_t nfrag, frag_cap;
    int64_t lines;
    double height;          /* H, the median digit height the sizes are relative to */
    double pen;             /* the pen's width in pixels (segment.c, pen_of()); 0 when not measured */
    /* A line of digits lower than H allows, left out of these glyphs for a reading of its own: the
     * box around all such lines, and their mean height (0: none). */
    int32_t small[4];
    double small_height;
    int32_t *cuts;          /* the cut paths the glyphs refer to */
    int64_t ncuts, cuts_cap;
} nn__glyphs;

/* crossing.c: component i (one component, not a group) with the pixels of a thin line across it
 * taken out, when it holds one: what is left is appended as components of their own, i is dropped
 * (group -1), and *stripped set. */
nn_status nn__vision_strip_thin(nn__components *c, int64_t i, double H, int *stripped);

/* segment.c: a key to sort by with qsort() and nn__sort_key_cmp(): k1, then k2, then i (each key's
 * own index: the order is total). */
typedef struct nn__sort_key {
    double k1, k2;
    int64_t i;
} nn__sort_key;
int nn__sort_key_cmp(const void *a, const void *b);
/* qsort() comparator of int64_t, ascending. */
int nn__int64_cmp(const void *a, const void *b);

/* The glyphs come out in no particular order: nn__vision_order() puts them in reading order. */
nn_status nn__vision_segment(nn__glyphs *out, nn__components *c, int64_t w, int64_t h, int min_size,
                             int merge, int split, double split_ratio);

/* segment.c: joins group b's components to group a's (b's list appended; a's head entry holds the
 * union's box and area, as merging does), and undoes it. */
typedef struct nn__join {
    int32_t a, b, a_last, b_group;
    int32_t x0, y0, x1, y1;
    int64_t area;
} nn__join;
void nn__vision_join(nn__components *c, int32_t a, int32_t b, nn__join *undo);
void nn__vision_unjoin(nn__components *c, const nn__join *undo);

/* segment.c: glyphs into reading order (lines top to bottom, each left to right). */
nn_status nn__vision_order(nn__glyphs *gs, double H);
/* Appends a path of h columns for rows y .. y + h - 1 to gs->cuts as one for the rows of the box of
 * gl's group (the first and last columns repeated above and below); returns 1 + its offset, or 0
 * when out of memory (the message set). */
int64_t nn__vision_add_cut(nn__glyphs *gs, const nn__glyph *gl, const nn__components *c, const int32_t *x,
                           int32_t y, int32_t h);

/* cuts.c: up to max_cuts cut paths through glyph gl (its pixels between its own cut paths, from
 * cuts, when it has them) starting between columns from and to: cheapest first, then returned left
 * to right, not crossing, and within gl's own paths; cost[i] is the ink path i parts, in strokes. */
typedef struct nn__cuts {
    int32_t n, h;           /* paths, and rows each: those of gl's box, from its y0 */
    int32_t *x;             /* n x h: the column where the right-hand piece begins, per row */
    double *cost;
} nn__cuts;

nn_status nn__vision_cuts(nn__cuts *out, const nn__glyph *gl, const nn__components *c, const int32_t *cuts,
                          double H, int32_t from, int32_t to, int max_cuts);
void nn__vision_cuts_free(nn__cuts *k);
/* The pixels of gl (within its own paths, from cuts) between paths left and right (NULL: no bound;
 * rows of the box of gl's group) as a glyph of one component of its own: pc needs comps[1] and room
 * for nn__vision_group_runs(gl) runs and order entries. An empty piece has area 0. */
int64_t nn__vision_group_runs(const nn__glyph *gl, const nn__components *c);
void nn__vision_piece(nn__glyph *piece, nn__components *pc, const nn__glyph *gl, const nn__components *c,
                      const int32_t *cuts, const int32_t *left, const int32_t *right);

/* normalize.c: one glyph into 28 x 28 floats (out), as MNIST; with fill_bands, the inside of hollow
 * strokes filled first. hollow (may be NULL) tells whether the glyph is drawn with hollow strokes. */
nn_status nn__vision_normalize(float *out, const nn__glyph *gl, const nn__components *c, const nn__ink *ink,
                               int64_t w, double stroke_width, int fill_bands, int *hollow);

/* The result of nn_digits_find() and nn_digits_read(). */
struct nn_digits {
    int64_t count, lines;
    float *images;                  /* count x NN_DIGITS_PIXELS */
    float *probs;                   /* count x 10 (nn_digits_read()), else NULL */
    int64_t *boxes;                 /* count x (x, y, w, h, line) */
    nn_digits_polarity polarity;
    nn_digits_threshold threshold;
};

/* scales.c: nn_digits_read() at several scales (docs/predict.md, step 9). */
#define NN__DIGITS_MAX_SCALES 4
/* px (w x h, stride) enlarged s times, bilinearly, into *out (w s x h s, dense; the caller frees). */
nn_status nn__vision_enlarge(uint8_t **out, const uint8_t *px, int64_t w, int64_t h, int64_t stride, int s);
/* Boxes of a reading of a part of the image (w x h from (x0, y0)) enlarged s times, brought back to
 * the image's pixels. */
void nn__digits_shrink_boxes(nn_digits *d, int s, int64_t x0, int64_t y0, int64_t w, int64_t h);
/* Readings rd[0..k) of one image (rd[0] at its own size, all with probabilities and boxes in its
 * pixels) into one, region by region; H orders the result's lines. rd is left as it was. */
nn_status nn__digits_combine(nn_digits **out, nn_digits *const *rd, int k, double H);

/* deskew.c: text lines tilted as a photo held at an angle tilts them (docs/predict.md, step 10). */
/* Lines tilted by less than this many degrees are read as they lie. */
#define NN__DESKEW_MIN_DEG 6.0
/* The tilt of the text lines (*angle, radians, positive where a line falls to the right in the
 * image's rows, which run down) from the boxes of a reading (x, y, w, h, line; n of them) with
 * median digit height H: the angle most pairs of neighbouring glyphs agree on, a level one winning
 * within 5%; *lined counts the glyphs with a neighbour agreeing on each side (the middle ones of
 * lines of three or more). 0 and 0 for fewer than 3 glyphs. NN_OK or NN_ERR_NO_MEMORY. */
nn_status nn__vision_skew(double *angle, int *lined, const int64_t *boxes, int64_t n, double H);
/* A part of an image turned level: the source rectangle's centre (cx, cy), the angle, and the turned
 * image's size and centre (pixel-edge coordinates). Beyond the image its edge repeats, held within
 * the paper's spread along the edge over `reach` pixels, on the ink's side (dark_on_light or not). */
typedef struct nn__turn {
    double angle, cx, cy, out_cx, out_cy;
    int64_t out_w, out_h, reach;
    int dark_on_light;
} nn__turn;
/* The turn of the rectangle [x0, x1) x [y0, y1) by -angle, large enough to hold all of it. */
void nn__vision_turn_plan(nn__turn *t, double angle, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
                          int64_t reach, int dark_on_light);
/* px (w x h, stride) turned as t plans into *out (t->out_w x t->out_h, dense; the caller frees),
 * bilinearly; beyond the image its nearest edge repeats, a stroke the border cuts held to paper. */
nn_status nn__vision_turn(uint8_t **out, const uint8_t *px, int64_t w, int64_t h, int64_t stride,
                          const nn__turn *t, const char *who);
/* Boxes of a reading of the turned image brought back: each the box around the turned one, within
 * the w x h image. */
void nn__digits_unturn_boxes(nn_digits *d, const nn__turn *t, int64_t w, int64_t h);

/* separators.c: the slashes and parentheses between a line's digits (docs/predict.md, step 11):
 * keep[i] = 0 for those of d's items, 1 for the rest; how many are not kept is returned. scratch
 * holds 2 x d->count. */
int64_t nn__digits_separators(unsigned char *keep, const nn_digits *d, int64_t *scratch);

#endif /* NN_VISION_H */
