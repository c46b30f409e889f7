/* Ruled lines taken out of the ink before its components are found: an underline, the lines of
 * ruled or squared paper, a form's frame. A line touching the digits joins them into one blob that
 * no later step can read (docs/predict.md, step 3). H is not known yet, so a line is told by its own
 * shape: a straight run of ink at least RULE_RATIO times as long as the ink is thick across it,
 * followed from row to row where the page is tilted. A digit's longest straight stroke (the bar of a
 * 7, the base of a 2) is some 7 to 15 times its thickness; a line under a string of digits, 50 times
 * and more. Where a stroke crosses the line or rests on it the ink across is thicker than the line
 * alone, and there the line stays: the digit keeps its stroke whole, with the line's width of it.
 * The edges of an outlined stroke (an outline font's bar) are as long and thin, but each runs beside
 * its twin, the stroke's other edge, at the same distance all along: such a line is kept, unless the
 * lines go on at that spacing (a squared page). A page's printed lines are paler than the pen, often
 * about the threshold, where the paper's noise breaks them into dashes: they are followed by the
 * mean of a few pixels along them, and a stroke lying along one keeps its own, stronger pixels. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

#define RULE_MIN 24 /* a line is at least 24 pixels long, */
#define RULE_RATIO                                                                                           \
    24                   /* and 24 times as long as thick, upright or lying (a fine pen's upright 1 on a
                             scan, 2 pixels by 40, is 20 times), */
#define UPRIGHT_RATIO 16 /* upright, once lying lines are found: 16 times, over a third of the height, */
#define UPRIGHT_SHARE 3
#define FRAMED_RATIO                                                                                         \
    6 /* or 6 times, as a side of a form's box (framed() and rows_of_boxes() decide): a
                           3-pixel side of a 70-pixel box measures 5 at the faint level, 15 times */
#define RULE_BEND                                                                                            \
    2.0                        /* and straight: within 2 pixels of the chord between its ends (1.5 for a
                             line 1 pixel thick), */
#define RULE_SLOPE   0.1       /* its ends at most a tenth of its length apart across (6 degrees), */
#define TRACE_THICK  32        /* (the thickness where it begins counted up to 65 pixels) */
#define TRACE_MAX    (1 << 20) /* a line is followed 1,048,576 pixels at most at a time, */
#define TRACE_WORK   16        /* following runs costs at most 16 steps per pixel */
#define RULE_SAMPLES 15        /* its thickness the median of 15 places along it; */
#define RULE_SPAN    2         /* over half the image, the 4th thinnest of them (a page's line, */
#define RULE_THIN    3         /* with strokes lying along much of it); */
#define RULE_KEEP    1.5       /* where the ink across is over 1.5 times that, a stroke crosses: kept */
#define TWIN_REACH   6 /* ink within 6 thicknesses beside it (a ruled page's lines lie 20 and more apart), */
#define TWIN_SLACK   2 /* at the same distance give or take 2 pixels, */
#define TWIN_SHARE   0.6 /* at 60% of the places along it: an outline's edge, not a line */
#define EDGE                                                                                                 \
    2 /* an upright line of a squared page runs to within 2 pixels of the edge, or
                             has such a neighbour */
#define BOX_DEEP   0.6  /* a box is at least 0.6 times as high as wide, */
#define BOX_TALL   3    /* and at most 3 times; */
#define BOX_FULL   0.9  /* its far line holds ink at 90% of the places along it, */
#define BOX_THIN   0.6  /* as thin as the near one at 60%; */
#define BOX_ALIKE  0.15 /* boxes of a row: as long within 15%; */
#define BOX_MIDDLE 0.15 /* a box's digit: ink 15% of its size in from its sides, */
#define BOX_HELD 0.3    /* over rows 30% of its depth at least (a dot is no digit: Jura's 0) */
#define BOX_SIDES 256 /* a row of boxes is judged when its two lines hold fewer sides than this */

/* Lying lines taken out, as the chords between their ends: from (x0, y0) to (x1, y1) along the
 * line's middle, where it is thick across. A tilted line is followed in straight pieces, with gaps
 * between them where a piece was too short for a line: once all are found, the pieces of one line
 * are c[first] to c[last] (join_pieces()), left to right. */
typedef struct chord {
    int64_t x0, x1, thick;
    double y0, y1;
    int64_t first, last;
} chord;

typedef struct chords {
    chord *c;
    int64_t n, cap;
} chords;

/* The ink seen along rows (r) of positions (i): pixel (r, i) is ink[r * rs + i * cs]; for vertical
 * lines, the image's columns are the rows. */
typedef struct view {
    uint8_t *ink;
    int64_t nr, nc, rs, cs;
    int on;      /* ink[] at or above this is ink for the runs (the faint level, which
                             bridges a line's noisy gaps) */
    int *pen;    /* the strokes' ink (pen_level()), -1 until a line is cleared */
    uint8_t *sm; /* ink[] averaged along the rows over 2 SMOOTH + 1 positions, as ink[] is laid out */
    const chords *lying; /* upright lines: the lying lines taken out before */
    int64_t page_len;    /* upright lines: the least length of a squared page's */
    int64_t *box_work;   /* what boxed() may still spend, in pixels looked at */
} view;

/* The mean of 5 pixels along a line (3 and 7 read worse; docs/predict-log.md, "Pale lines"). */
#define SMOOTH 2

static int on_at(const view *v, int64_t r, int64_t i)
{
    return v->ink[r * v->rs + i * v->cs] >= v->on || v->sm[r * v->rs + i * v->cs] >= v->on;
}

/* The mean of 2 SMOOTH + 1 pixels along the view's rows at image pixel (x, y), those inside it. */
static int mean_at(const uint8_t *ink, int64_t w, int64_t h, int64_t x, int64_t y, int horizontal)
{
    int sum = 0, n = 0;
    for (int q = -SMOOTH; q <= SMOOTH; q++) {
        const int64_t xx = horizontal ? x + q : x, yy = horizontal ? y : y + q;
        if (xx >= 0 && xx < w && yy >= 0 && yy < h) sum += ink[yy * w + xx], n++;
    }
    return (sum + n / 2) / n;
}

/* A pale line's pixels lie about the threshold, and the paper's noise breaks it into dashes; along
 * the line, the mean of a few is steadier. Computed in the image's own order, whichever way the
 * view's rows run, and without bounds tests inside, so that it vectorises. */
static void smooth_along(const view *v)
{
    const int horizontal = v->cs == 1;
    const int64_t w = horizontal ? v->nc : v->nr, h = horizontal ? v->nr : v->nc;
    const uint8_t *ink = v->ink;
    uint8_t *sm = v->sm;
    for (int64_t y = 0; y < h; y++) {
        const int inner_row = horizontal || (y >= SMOOTH && y + SMOOTH < h);
        const int64_t x0 = horizontal ? SMOOTH : 0, x1 = horizontal ? w - SMOOTH : w;
        if (!inner_row || x0 >= x1) {
            for (int64_t x = 0; x < w; x++) sm[y * w + x] = (uint8_t)mean_at(ink, w, h, x, y, horizontal);
            continue;
        }
        for (int64_t x = 0; x < x0; x++) sm[y * w + x] = (uint8_t)mean_at(ink, w, h, x, y, horizontal);
        const int64_t step = horizontal ? 1 : w;
        for (int64_t x = x0; x < x1; x++) {
            const uint8_t *c = ink + y * w + x;
            int sum = 0;
            for (int q = -SMOOTH; q <= SMOOTH; q++) sum += c[q * step];
            sm[y * w + x] = (uint8_t)((sum + (2 * SMOOTH + 1) / 2) / (2 * SMOOTH + 1));
        }
        for (int64_t x = x1; x < w; x++) sm[y * w + x] = (uint8_t)mean_at(ink, w, h, x, y, horizontal);
    }
}

static int raw_at(const view *v, int64_t r, int64_t i) { return v->ink[r * v->rs + i * v->cs] >= v->on; }

/* Ink across the row at (r, i): how far it reaches before r (*up) and after it (*down), each
 * counted up to cap, ink told by on. */
static void across_by(const view *v, int64_t r, int64_t i, int64_t cap, int64_t *up, int64_t *down,
                      int (*on)(const view *, int64_t, int64_t))
{
    int64_t u = 0, d = 0;
    while (u < cap && r - u - 1 >= 0 && on(v, r - u - 1, i)) u++;
    while (d < cap && r + d + 1 < v->nr && on(v, r + d + 1, i)) d++;
    *up = u;
    *down = d;
}

static void across(const view *v, int64_t r, int64_t i, int64_t cap, int64_t *up, int64_t *down)
{
    across_by(v, r, i, cap, up, down, on_at);
}

/* Paper between the ink across at (r, i), from r - up to r + down, and the next ink on that side
 * (dir -1 before, +1 after), past the edge's fainter pixels; -1 when none within reach. */
static int64_t beside(const view *v, int64_t r, int64_t i, int64_t up, int64_t down, int dir, int64_t reach,
                      int level)
{
    int64_t q = dir < 0 ? r - up - 1 : r + down + 1, d = 0;
    while (q >= 0 && q < v->nr && d < reach && v->ink[q * v->rs + i * v->cs] < level) {
        q += dir;
        d++;
    }
    return q >= 0 && q < v->nr && d < reach ? d : -1;
}

/* Past the ink that begins `from` pixels from r in direction dir (a twin line), the paper to the
 * next ink; -1 when none within reach. */
static int64_t beyond(const view *v, int64_t r, int64_t i, int64_t from, int dir, int64_t reach, int level)
{
    int64_t q = r + dir * from, k = 0, d = 0;
    while (q >= 0 && q < v->nr && k < reach && v->ink[q * v->rs + i * v->cs] >= level) q += dir, k++;
    while (q >= 0 && q < v->nr && d < reach && v->ink[q * v->rs + i * v->cs] < level) q += dir, d++;
    return q >= 0 && q < v->nr && d < reach && k < reach ? d : -1;
}

static int64_t median_small(int64_t *a, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: n is RULE_SAMPLES */
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            int64_t t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
    return a[n / 2];
}

/* What a line's RULE_SAMPLES places say of it (sorted in place): their median, or for a run spanning
 * RULE_SPAN-th of the view or more (a page's line, strokes lying along much of it) the (RULE_THIN + 1)th
 * smallest. */
static int64_t line_measure(const view *v, int64_t len, int64_t *a)
{
    const int64_t middle = median_small(a, RULE_SAMPLES);
    return RULE_SPAN * len >= v->nc ? a[RULE_THIN] : middle;
}

/* The distance most places along a line share, give or take TWIN_SLACK (-1 at the other places),
 * when TWIN_SHARE of them do; else -1. */
static int64_t common_distance(const int64_t *d)
{
    int64_t found[RULE_SAMPLES];
    int n = 0;
    for (int s = 0; s < RULE_SAMPLES; s++)
        if (d[s] >= 0) found[n++] = d[s];
    if (n < TWIN_SHARE * RULE_SAMPLES) return -1;
    const int64_t mid = median_small(found, n);
    int same = 0;
    for (int s = 0; s < RULE_SAMPLES; s++) same += d[s] >= 0 && llabs(d[s] - mid) <= TWIN_SLACK;
    return same >= TWIN_SHARE * RULE_SAMPLES ? mid : -1;
}

/* Clears pixels (r, i) from r0 to r1 inclusive, and beyond them the line's anti-aliased edge: up to
 * `halo` pixels on each side under the threshold, as long as they fade away from the line (a stroke's
 * own faint edge beyond a gap of paper is not the line's). Pixels at `dark` or above are a stroke's
 * over a pale line, and stay. */
static int dark_at(const view *v, int64_t r, int64_t i, int dark)
{
    return r >= 0 && r < v->nr && i >= 0 && i < v->nc && v->ink[r * v->rs + i * v->cs] >= dark;
}

static void clear_across(const view *v, int64_t i, int64_t r0, int64_t r1, int64_t halo, int level, int dark)
{
    for (int64_t r = r0; r <= r1; r++) {
        uint8_t *p = &v->ink[r * v->rs + i * v->cs];
        /* A stroke's pixel has another along the line; the paper's noise seldom does. */
        int along = 0;
        for (int64_t q = r - 1; *p >= dark && q <= r + 1; q++)
            along |= dark_at(v, q, i - 1, dark) || dark_at(v, q, i + 1, dark);
        if (!along) *p = 0, v->sm[r * v->rs + i * v->cs] = 0;
    }
    for (int dir = -1; dir <= 1; dir += 2) {
        int prev = level;
        for (int64_t k = 1; k <= halo; k++) {
            const int64_t r = dir < 0 ? r0 - k : r1 + k;
            if (r < 0 || r >= v->nr) break;
            uint8_t *p = &v->ink[r * v->rs + i * v->cs];
            if (*p >= prev) break;
            prev = *p;
            *p = 0;
            v->sm[r * v->rs + i * v->cs] = 0;
        }
    }
}

/* Where an upright run ends in lying lines (framed()): the lines' heights at its ends (top < 0:
 * not framed), their first pieces (which line), the top line's reach (everywhere for a page's
 * line), and whether the run stands at both lines' ends, a corner. */
typedef struct side_frame {
    double top, bottom;
    int64_t top_line, bottom_line, x0, x1;
    int corner;
} side_frame;

/* The height of a lying line at column x (flat beyond its ends). */
static double chord_y_at(const chord *c, int64_t x)
{
    const double at = c->x1 > c->x0 ? (double)(x - c->x0) / (double)(c->x1 - c->x0) : 0;
    return c->y0 + fmin(fmax(at, 0), 1) * (c->y1 - c->y0);
}

/* The height at column x of the straight way from piece p's right end to piece q's left end, across
 * the gap between them (p->x1 < x < q->x0). */
static double between(const chord *p, const chord *q, int64_t x)
{
    return p->y1 + (q->y0 - p->y1) * (double)(x - p->x1) / (double)(q->x0 - p->x1);
}

/* The height of the line of pieces c[first] to c[last] at column x, and its thickness there: a
 * piece's own chord where one holds x, the straight way between two pieces' ends in a gap between
 * them, flat beyond the line's ends. The piece looked at first is *from (first, or what an earlier
 * call for a column left of x left there), and the piece found is left there. */
static double line_y_at(const chord *c, int64_t first, int64_t last, int64_t x, int64_t *thick, int64_t *from)
{
    int64_t k = *from;
    while (k < last && x > c[k].x1) k++;
    *from = k;
    if (x >= c[k].x0 || k == first) {
        *thick = c[k].thick;
        return chord_y_at(&c[k], x);
    }
    const chord *p = &c[k - 1], *q = &c[k]; /* p->x1 < x < q->x0 */
    *thick = p->thick > q->thick ? p->thick : q->thick;
    return between(p, q, x);
}

/* Whether chord b (b->x0 >= a->x0) goes on from a as one straight line (v: the lying lines' view):
 * it ends beyond a, the gap between them (or their overlap, up to half) is no longer than the
 * shorter, their near ends lie on the chord from a's far end to b's, within half their thickness
 * and 1 + SMOOTH pixels, as a side's end must lie on a line (framed()), and ink bridges the gap at
 * BOX_FULL of its places. A tilted line's pieces, followed along its staircase, have their ends up
 * to 3 pixels off their common chord in a 3-pixel line tilted by 2 degrees, and the line goes on
 * between them; a row of separate boxes has paper between its boxes' lines. */
static int goes_on(const view *v, const chord *a, const chord *b, int64_t *work)
{
    const int64_t la = a->x1 - a->x0 + 1, lb = b->x1 - b->x0 + 1, shorter = la < lb ? la : lb,
                  gap = b->x0 - a->x1;
    if (b->x1 <= a->x1 || gap > shorter || -2 * gap > shorter) return 0;
    const double slope = (b->y1 - a->y0) / (double)(b->x1 - a->x0),
                 tol = 0.5 * (double)(a->thick > b->thick ? a->thick : b->thick) + 1 + SMOOTH;
    if (fabs(a->y0 + slope * (double)(a->x1 - a->x0) - a->y1) > tol ||
        fabs(a->y0 + slope * (double)(b->x0 - a->x0) - b->y0) > tol)
        return 0;
    const int64_t half = (a->thick > b->thick ? a->thick : b->thick) / 2 + 1;
    int64_t inked = 0;
    for (int64_t x = a->x1 + 1; x < b->x0; x++) {
        const int64_t y = (int64_t)lround(between(a, b, x));
        int found = 0;
        for (int64_t r = y - half; r <= y + half && !found; r++)
            found = r >= 0 && r < v->nr && on_at(v, r, x);
        inked += found;
        *work -= 2 * half + 1;
    }
    return gap <= 1 || (double)inked >= BOX_FULL * (double)(gap - 1);
}

static int64_t root_of(int64_t *parent, int64_t k)
{
    while (parent[k] != k) k = parent[k] = parent[parent[k]];
    return k;
}

typedef struct piece_key {
    int64_t line, x0, k; /* the line's first piece found, the piece's left end, its index */
} piece_key;

typedef struct piece_at {
    int64_t band, x0, k; /* the band of rows its left end lies in, its left end, its index */
} piece_at;

static int by_band_then_x(const void *pa, const void *pb)
{
    const piece_at *a = pa, *b = pb;
    if (a->band != b->band) return (a->band > b->band) - (a->band < b->band);
    if (a->x0 != b->x0) return (a->x0 > b->x0) - (a->x0 < b->x0);
    return (a->k > b->k) - (a->k < b->k);
}

enum { JOIN_BAND = 16, JOIN_BANDS = 1 << 16 }; /* pieces are looked up by bands of rows this high */

/* The band of rows holding height y, in bands `band` rows high, n of them. */
static int64_t band_of(double y, int64_t band, int64_t n)
{
    const double b = floor(y / (double)band);
    return b < 0 ? 0 : b >= (double)n ? n - 1 : (int64_t)b;
}

static int by_line_then_x(const void *pa, const void *pb)
{
    const piece_key *a = pa, *b = pb;
    if (a->line != b->line) return (a->line > b->line) - (a->line < b->line);
    if (a->x0 != b->x0) return (a->x0 > b->x0) - (a->x0 < b->x0);
    return (a->k > b->k) - (a->k < b->k);
}

/* The lying lines' pieces (in view v) joined into lines (goes_on()), each line's pieces put side
 * by side, left to right, c[first] to c[last]; the lines in the order their first pieces were
 * found, so that lines in one piece keep theirs. A piece b that goes on from a starts at most
 * 3 tol + its thickness + 1 + RULE_SLOPE times a's length above or below a's right end (tol as in
 * goes_on(); a's ends at most RULE_SLOPE of its length and its thickness apart across, the gap at
 * most a's length), and at most a's length beyond it: only pieces starting there are compared, looked up by bands of rows and, within a
 * band, by where they start (a page of dashes has thousands of pieces under each other and beside
 * each other; comparing all those in reach across or along the page took most of a reading's
 * time). Pairs are compared while *work lasts. Returns 0, or -1 out of memory. */
static int join_pieces(const view *v, chords *lines, int64_t *work)
{
    const int64_t n = lines->n;
    if (n == 0) return 0;
    const int64_t band = v->nr / JOIN_BANDS + 1 > JOIN_BAND ? v->nr / JOIN_BANDS + 1 : JOIN_BAND,
                  bands = v->nr / band + 1;
    int64_t *parent = malloc((size_t)n * sizeof *parent),
            *start = malloc((size_t)(bands + 1) * sizeof *start);
    piece_key *key = malloc((size_t)n * sizeof *key);
    piece_at *at = malloc((size_t)n * sizeof *at);
    chord *sorted = malloc((size_t)n * sizeof *sorted);
    if (!parent || !start || !key || !at || !sorted) {
        free(parent), free(start), free(key), free(at), free(sorted);
        return -1;
    }
    const chord *c = lines->c;
    int64_t thickest = 0;
    for (int64_t k = 0; k < n; k++) {
        parent[k] = k, at[k] = (piece_at){band_of(c[k].y0, band, bands), c[k].x0, k};
        thickest = c[k].thick > thickest ? c[k].thick : thickest;
    }
    qsort(at, (size_t)n, sizeof *at, by_band_then_x);
    for (int64_t b = 0, q = 0; b <= bands; b++) {
        while (q < n && at[q].band < b) q++;
        start[b] = q; /* at[start[b]] to at[start[b + 1] - 1] start in band b */
    }
    const double tol = 0.5 * (double)thickest + 1 + SMOOTH;
    for (int64_t k = 0; k < n && 0 < *work; k++) {
        const chord *a = &c[k];
        const int64_t la = a->x1 - a->x0 + 1;
        const double near = 3 * tol + (double)thickest + 1 + RULE_SLOPE * (double)la;
        const int64_t b1 = band_of(a->y1 + near, band, bands);
        for (int64_t b = band_of(a->y1 - near, band, bands); b <= b1 && 0 < *work; b++) {
            int64_t lo = start[b], hi = start[b + 1]; /* the first starting at a->x0 or beyond */
            while (lo < hi) {
                const int64_t mid = lo + (hi - lo) / 2;
                if (at[mid].x0 < a->x0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (int64_t q = lo; q < start[b + 1] && at[q].x0 <= a->x1 + la && 0 < *work; q++) {
                const int64_t j = at[q].k;
                const chord *p = &c[j];
                (*work)--;
                if ((p->x0 == a->x0 && j <= k) || fabs(p->y0 - a->y1) > near || !goes_on(v, a, p, work))
                    continue;
                const int64_t ra = root_of(parent, k), rb = root_of(parent, j);
                parent[ra > rb ? ra : rb] = ra < rb ? ra : rb; /* the first found stands for the line */
            }
        }
    }
    for (int64_t k = 0; k < n; k++) key[k] = (piece_key){root_of(parent, k), lines->c[k].x0, k};
    qsort(key, (size_t)n, sizeof *key, by_line_then_x);
    for (int64_t k = 0, first = 0; k < n; k++) {
        if (k > 0 && key[k].line != key[k - 1].line) first = k;
        sorted[k] = lines->c[key[k].k];
        sorted[k].first = first;
    }
    for (int64_t k = n - 1, last = n - 1; k >= 0; k--) {
        if (k < n - 1 && sorted[k + 1].first != sorted[k].first) last = k;
        sorted[k].last = last;
    }
    memcpy(lines->c, sorted, (size_t)n * sizeof *sorted);
    free(parent), free(start), free(key), free(at), free(sorted);
    return 0;
}

/* The right end of the line of pieces c[first] to c[last] (pieces may overlap). */
static int64_t line_x1(const chord *c, int64_t first, int64_t last)
{
    int64_t x1 = c[first].x1;
    for (int64_t k = first + 1; k <= last; k++) x1 = c[k].x1 > x1 ? c[k].x1 : x1;
    return x1;
}

/* Whether a lying line from x0 to x1 runs to the edge of an image `width` wide: a page's, not a
 * form's. */
static int page_wide(int64_t x0, int64_t x1, int64_t width) { return x0 <= EDGE || x1 >= width - 1 - EDGE; }

/* Whether the upright run (positions a to a + len - 1 its rows, row[] its columns, thick) ends in
 * a lying line at each end, two lines: a side of a form's box, from its top rule into its bottom
 * one. Its ends must lie within the lines (give or take the SMOOTH pixels by which the means along
 * the column reach past the ink), not near them: a 1 crossing a ruled page's line is no side.
 * Whether it is one of a row of sides is rows_of_boxes()' to say. Where it ends into *f. */
static int framed(const view *v, const int32_t *row, int64_t a, int64_t len, int64_t thick, side_frame *f,
                  int relaxed)
{
    double at_y[2] = {-1, -1};
    const chord *c = v->lying->c;
    const int64_t n = v->lying->n;
    int64_t on[2] = {-1, -1}, x[2] = {row[0], row[len - 1]}, line_thick[2] = {0, 0};
    for (int end = 0; end < 2; end++) {
        const int64_t y = end ? a + len - 1 : a;
        for (int64_t k = 0; k < n && on[end] < 0; k = c[k].last + 1) {
            if (x[end] < c[k].x0 - thick - EDGE || x[end] > line_x1(c, k, c[k].last) + thick + EDGE) continue;
            int64_t t, from = k;
            const double cy = line_y_at(c, k, c[k].last, x[end], &t, &from);
            if (fabs((double)y - cy) <= 0.5 * (double)t + 1 + SMOOTH)
                on[end] = k, at_y[end] = cy, line_thick[end] = t;
        }
    }
    /* The heights as far as found, even if the run is no side: one whose end alone rests on a
     * line is judged with its like by rows_of_boxes(). */
    f->top = at_y[0], f->bottom = at_y[1];
    if (on[0] < 0 || on[1] < 0) return 0;
    const int64_t top0 = c[on[0]].x0, top1 = line_x1(c, on[0], c[on[0]].last), bottom0 = c[on[1]].x0,
                  bottom1 = line_x1(c, on[1], c[on[1]].last);
    /* At the two lines' same ends: a corner of a single box (a cheque's amount, a form's one
     * field), whose sides were read as 1s beside the digits. */
    const int64_t reach = thick + EDGE + 1;
    /* The reach of the top line, for rows_of_boxes(); a page's line reaches everywhere. */
    const int wide = page_wide(top0, top1, v->nr);
    f->top_line = on[0], f->bottom_line = on[1];
    f->x0 = wide ? INT64_MIN / 2 : top0, f->x1 = wide ? INT64_MAX / 2 : top1;
    f->corner = (llabs(x[0] - top0) <= reach && llabs(x[1] - bottom0) <= reach) ||
                (llabs(x[0] - top1) <= reach && llabs(x[1] - bottom1) <= reach);
    const double gap = at_y[1] - at_y[0];
    if (!(fabs(gap) > 0.5 * (double)len)) return 0;
    /* A stroke as thick as a digit's (relaxed: under UPRIGHT_RATIO) is a side only between the two
     * lines of a box, printed as they are: no thicker than they (RULE_KEEP), and no third line at
     * the same spacing (a ruled or squared page, whose lines are paler and thinner than the pen;
     * a digit's stem standing from one of them to the next is no side). Whether a line runs to the
     * image's edge says less: a larger scale reads the box around the digits, to which a form's
     * lines run. */
    const int64_t lines = line_thick[0] > line_thick[1] ? line_thick[0] : line_thick[1];
    if (relaxed && (double)thick > RULE_KEEP * (double)lines + 1) return 0;
    for (int64_t k = 0; relaxed && k < n; k = c[k].last + 1) {
        if (x[0] < c[k].x0 - thick - EDGE || x[0] > line_x1(c, k, c[k].last) + thick + EDGE) continue;
        int64_t t, from = k;
        const double cy = line_y_at(c, k, c[k].last, x[0], &t, &from);
        if (fabs(cy - (at_y[0] - gap)) <= (double)(thick + EDGE + SMOOTH) ||
            fabs(cy - (at_y[1] + gap)) <= (double)(thick + EDGE + SMOOTH))
            return 0;
    }
    return 1;
}

static int taken_at(const chords *taken, int64_t x0, int64_t x1, double y, int64_t slack)
{
    for (int64_t k = 0; taken && k < taken->n; k++) {
        const chord *c = &taken->c[k];
        if (c->x0 <= x0 + slack && c->x1 >= x1 - slack && fabs(0.5 * (c->y0 + c->y1) - y) <= (double)slack)
            return 1;
    }
    return 0;
}

/* Whether the side at a run's end (end 0: its first position, 1: its last) goes straight on from
 * it for deep rows in direction dir, as thick as the run: its outer edge keeps within EDGE pixels
 * and a tilt of RULE_SLOPE, and its ink across is within RULE_KEEP times the run's thickness either
 * way at most rows. The side of a loop (a 9's, two digits' tops touching) bends away, and a digit's
 * stroke across a box's sides (a 0 wider than its box) is no thicker than they. */
static int straight_side(const view *v, const int32_t *row, int64_t a, int64_t len, int64_t thick, int dir,
                         int end, int64_t deep)
{
    const int64_t k0 = end ? len - 1 : 0, inward = end ? -1 : 1, from = a + k0 - inward * EDGE;
    const int64_t wide = (int64_t)(RULE_KEEP * (double)thick) + 1,
                  narrow = (int64_t)((double)thick / RULE_KEEP) - 1;
    int64_t lo = INT64_MAX, hi = INT64_MIN, rows = 0, alike = 0;
    for (int64_t d = thick; d <= deep - thick; d++) {
        const int64_t r = row[k0] + dir * d;
        if (r < 0 || r >= v->nr) return 0;
        int64_t e = 0, w = 0;
        const int64_t far = thick + 2 * EDGE;
        /* The pixels themselves: the means along the view's rows widen an upright side. */
        while (e <= far &&
               (from + inward * e < 0 || from + inward * e >= v->nc || !raw_at(v, r, from + inward * e)))
            e++;
        while (w <= wide && from + inward * (e + w) >= 0 && from + inward * (e + w) < v->nc &&
               raw_at(v, r, from + inward * (e + w)))
            w++;
        lo = e < lo ? e : lo;
        hi = e > hi ? e : hi;
        rows++;
        *v->box_work -= e + w + 2;
        alike += w >= narrow && w <= wide;
    }
    return rows == 0 ||
           ((double)(hi - lo) <= EDGE + RULE_SLOPE * (double)deep && alike >= BOX_THIN * (double)rows);
}

/* Whether the middle of a box (its line len from a, row[] its rows, thick, its sides going deep in
 * direction dir) holds a digit's ink: at least as many pixels as half its depth, BOX_MIDDLE of its
 * width and of its depth, and its lines' thickness, in from its sides (the wavering sides of a 0
 * drawn square come that far in; a digit in a box stands in its middle), spread over BOX_HELD of its
 * depth or more (a dot in a rounded square is a 0 of some fonts). */
static int holds_ink(const view *v, const int32_t *row, int64_t a, int64_t len, int64_t thick, int dir,
                     int64_t deep)
{
    const int64_t in_k = thick + EDGE + (int64_t)(BOX_MIDDLE * (double)len),
                  in_d = thick + EDGE + (int64_t)(BOX_MIDDLE * (double)deep);
    int64_t ink = 0, first = deep, last = -1;
    if (len > 2 * in_k && deep >= 2 * in_d) *v->box_work -= (len - 2 * in_k) * (deep - 2 * in_d + 1);
    for (int64_t k = in_k; k < len - in_k; k++)
        for (int64_t d = in_d; d <= deep - in_d; d++) {
            const int64_t r = row[k] + dir * d;
            if (r < 0 || r >= v->nr || !raw_at(v, r, a + k)) continue;
            ink++;
            first = d < first ? d : first;
            last = d > last ? d : last;
        }
    return 2 * ink >= deep && (double)(last - first + 1) >= BOX_HELD * (double)deep;
}

/* Whether another box as large stands beside this one at its level: on the left, its line taken
 * out already (lines are followed left to right); on the right, a run of ink along the same row as
 * long within BOX_ALIKE, with sides going the same way, as deep within BOX_ALIKE, at both ends. */
static int beside_box(const view *v, const int32_t *row, int64_t a, int64_t len, int64_t thick, int dir,
                      int64_t deep, const chords *taken)
{
    const int64_t slack = thick + EDGE, most = (int64_t)(BOX_ALIKE * (double)len) + EDGE;
    for (int64_t k = 0; taken && k < taken->n; k++) {
        const chord *c = &taken->c[k];
        const double y = 0.5 * (c->y0 + c->y1), mid = 0.5 * (double)(row[0] + row[len - 1]);
        if (fabs(y - mid) <= (double)slack && c->x1 < a && c->x1 >= a - len - slack &&
            llabs((c->x1 - c->x0 + 1) - len) <= most)
            return 1;
    }
    const int64_t r = row[len - 1];
    int64_t b = a + len;
    while (b < v->nc && b < a + 2 * len && !on_at(v, r, b)) b++;
    if (b >= v->nc || b >= a + 2 * len) return 0;
    int64_t e = b;
    while (e < v->nc && on_at(v, r, e)) e++;
    if (llabs((e - b) - len) > most) return 0;
    const int64_t want = (int64_t)((1.0 - BOX_ALIKE) * (double)deep), cap = BOX_TALL * len;
    int64_t u0, d0, u1, d1;
    across(v, r, b, cap, &u0, &d0);
    across(v, r, e - 1, cap, &u1, &d1);
    return (dir < 0 ? u0 : d0) >= want && (dir < 0 ? u1 : d1) >= want;
}

/* Whether a lying run too short for a line by its own shape (len from a, row[] its rows, thick) is
 * the top or bottom of a box drawn around a digit: at both its ends, its corners, an upright side
 * goes the same way and not the other, straight (straight_side()) for BOX_DEEP to BOX_TALL of its
 * length, and where they stop a lying run as long joins them, at BOX_FULL of the places along it
 * and as thin at BOX_THIN; the box holds a digit in its middle (holds_ink()) or stands beside
 * another as large (beside_box()). Or the sides end at a line taken out already (taken), the box's
 * other line. A form's separate boxes are no longer than a digit is wide, and their lines no
 * thinner than a digit's strokes: their sides were read as 1s. */
static int boxed(const view *v, const int32_t *row, int64_t a, int64_t len, int64_t thick,
                 const chords *taken)
{
    const int64_t cap = BOX_TALL * len, slack = thick + EDGE;
    if (*v->box_work <= 0) return 0;
    for (int dir = -1; dir <= 1; dir += 2) {
        int64_t deep[2] = {0, 0}, back = 0;
        for (int end = 0; end < 2; end++) {
            const int64_t k0 = end ? len - 1 : 0, inward = end ? -1 : 1;
            for (int64_t k = 0; k <= thick && k < len; k++) { /* the side's columns, its edge first */
                int64_t up, down;
                across(v, row[k0 + inward * k], a + k0 + inward * k, cap, &up, &down);
                const int64_t d = dir < 0 ? up : down, b = dir < 0 ? down : up;
                if (d > deep[end]) deep[end] = d;
                if (b > back) back = b;
                *v->box_work -= d + b + 2;
            }
        }
        /* The sides begin at the run, its corners: a stroke lying across a box from side to side (a
         * wide 2's base) has the sides going on beyond it. */
        if (back > slack || deep[0] < BOX_DEEP * (double)len || deep[1] < BOX_DEEP * (double)len ||
            llabs(deep[0] - deep[1]) > slack || deep[0] >= cap || deep[1] >= cap ||
            !straight_side(v, row, a, len, thick, dir, 0, deep[0]) ||
            !straight_side(v, row, a, len, thick, dir, 1, deep[1]))
            continue;
        /* The far line: ink within its thickness of where the sides stop nearly all along, and as
         * thin as this one at most places (a digit in the box may rest on it). */
        int64_t on = 0, thin = 0;
        const int64_t keep = (int64_t)(RULE_KEEP * (double)thick) + 1;
        for (int64_t k = 0; k < len; k++) {
            const int64_t far = row[k] + dir * (deep[0] + (deep[1] - deep[0]) * k / (len > 1 ? len - 1 : 1));
            for (int64_t q = far - slack; q <= far + slack; q++)
                if (q >= 0 && q < v->nr && on_at(v, q, a + k)) {
                    int64_t u, d;
                    across(v, q, a + k, keep, &u, &d);
                    *v->box_work -= q - (far - slack) + u + d + 2;
                    on++;
                    thin += 1 + u + d <= keep;
                    break;
                }
        }
        /* Or taken out already: the box's other line, found first. */
        const double far_mid =
            0.5 * (double)(row[0] + row[len - 1]) + dir * 0.5 * (double)(deep[0] + deep[1]);
        *v->box_work -= taken ? 2 * taken->n : 0; /* taken_at() and beside_box() look at each */
        if (taken_at(taken, a, a + len - 1, far_mid, slack)) return 1;
        /* A rectangle that holds nothing, alone, is a 0 drawn square: a box holds a digit, or
         * stands in a row of boxes like it. */
        const int64_t depth = deep[0] < deep[1] ? deep[0] : deep[1];
        if (on >= BOX_FULL * (double)len && thin >= BOX_THIN * (double)len &&
            (holds_ink(v, row, a, len, thick, dir, depth) ||
             beside_box(v, row, a, len, thick, dir, depth, taken)))
            return 1;
    }
    return 0;
}

/* A line found on a page, cleared once all are found: (r, i) where it begins, its thickness, and
 * for a box's side, where it ends (framed()). */
typedef struct found_line {
    int64_t r, i, thick;
    side_frame f;
    int dropped; /* a box's side in no row of boxes, nor a corner */
} found_line;

static int by_r(const void *pa, const void *pb)
{
    const found_line *a = pa, *b = pb;
    return (a->r > b->r) - (a->r < b->r);
}

/* A form's boxes come in rows: a side is one only between two lines that hold three sides or more
 * within the reach of its top line (a row of separate boxes, each its own, would mix the boxes'
 * widths with the gaps between them), two of the gaps between neighbouring sides at the row's
 * spacing (their median, within 2 pixels), and with another side at that spacing. The two lines are
 * the same lines (their pieces joined, join_pieces()) or lie at the same heights within 2 pixels:
 * on a tilted page a comb's sides end higher one after another. A 1 that touches both of a ruled
 * page's lines, or both rules of its box, lies nearer its neighbours than that (unless 1s fill most
 * of the boxes, or a 1 stands in the middle of a single box). A side at the two lines' ends
 * (framed()) is a box's corner, and one whatever the rest. A side 2 or 3 pixels thick is found as 2
 * or 3 runs side by side: those within its thickness plus one of the first are one side, and a run
 * is judged with the side it is one of (a thick 1 a few pixels left of a side was judged as that
 * side). Sides in no row are marked dropped, and are not cleared. */
static void rows_of_boxes(found_line *f, int64_t n)
{
    if (n < 1) return; /* f may be NULL, which qsort() must not be given */
    qsort(f, (size_t)n, sizeof *f, by_r);
    for (int64_t k = 0; k < n; k++) {
        const side_frame *fk = &f[k].f;
        if (fk->top < 0) continue;
        int64_t side[BOX_SIDES], gap[BOX_SIDES], ns = 0, mine = -1; /* mine: the side f[k] is of */
        for (int64_t j = 0; j < n && ns < BOX_SIDES; j++) {
            const side_frame *fj = &f[j].f;
            const int same_lines = fk->top_line >= 0 && fk->bottom_line >= 0 &&
                                   fj->top_line == fk->top_line && fj->bottom_line == fk->bottom_line,
                      same_heights = fabs(fj->top - fk->top) <= EDGE && fabs(fj->bottom - fk->bottom) <= EDGE;
            if (fj->top < 0 || !(same_lines || same_heights) || f[j].r < fk->x0 - f[k].thick - EDGE ||
                f[j].r > fk->x1 + f[k].thick + EDGE)
                continue;
            const int same_side = ns > 0 && f[j].r - side[ns - 1] <= f[j].thick + 1;
            if (j == k) mine = same_side ? ns - 1 : ns;
            if (!same_side) side[ns++] = f[j].r;
        }
        if (ns >= BOX_SIDES) continue; /* more than a form holds: not judged */
        int in_row = 0;
        if (ns >= 3) {
            for (int64_t s = 1; s < ns; s++) gap[s - 1] = side[s] - side[s - 1];
            qsort(gap, (size_t)(ns - 1), sizeof *gap, nn__int64_cmp);
            const int64_t spacing = gap[(ns - 1) / 2];
            /* Two gaps at least at the spacing: of three sides, one is always at the larger gap from
             * another, and a 1 in a single box would make a row of two. */
            int64_t at_spacing = 0;
            for (int64_t g = 0; g < ns - 1; g++) at_spacing += llabs(gap[g] - spacing) <= EDGE;
            for (int64_t o = 0; o < ns && mine >= 0 && spacing > 2 * f[k].thick + 2 && at_spacing >= 2; o++)
                in_row |= o != mine && llabs(llabs(side[o] - side[mine]) - spacing) <= EDGE;
        }
        f[k].dropped = !in_row && !fk->corner;
    }
}

/* Whether the run of ink from position a, row[k] its row at position a + k (k < len), is a line:
 * long and thin (its thickness into *thick) and no outline's edge, or a box's line (boxed(), from
 * FRAMED_RATIO times as long as thick; taken: the lying lines taken out so far); with page (upright lines), only
 * when it looks like a squared page's line, at least page_len long: another beside it at the same
 * distance all along, or running to the edge of the image; or like a side of a form's box, ending at
 * a lying line at both ends, from FRAMED_RATIO times as long as thick. Work: RULE_SAMPLES walks of at
 * most len / FRAMED_RATIO (len / 2 with page), and boxed()'s, charged to v->box_work. */
static int is_line(const view *v, const int32_t *row, int64_t a, int64_t len, int ratio, int page, int level,
                   const chords *taken, int64_t *thick_out, side_frame *frame)
{
    *frame = (side_frame){-1, -1, -1, -1, INT64_MIN / 2, INT64_MAX / 2, 0};
    int64_t t[RULE_SAMPLES], up[RULE_SAMPLES], down[RULE_SAMPLES], at[RULE_SAMPLES];
    /* Measured once as a line (walks of len / ratio), and only if too thick for one, as a box's
     * (walks of len / FRAMED_RATIO): what is a line by its own shape is measured as it always was. */
    for (int box = 0; box < 2; box++) {
        const int64_t cap = len / (box ? 2 * FRAMED_RATIO : ratio) + 1;
        for (int s = 0; s < RULE_SAMPLES; s++) {
            at[s] = (2 * s + 1) * len / (2 * RULE_SAMPLES);
            across(v, row[at[s]], a + at[s], cap, &up[s], &down[s]);
            t[s] = 1 + up[s] + down[s];
        }
        int64_t sorted[RULE_SAMPLES];
        memcpy(sorted, t, sizeof t);
        const int64_t thick = line_measure(v, len, sorted);
        *thick_out = thick;
        if (!box && thick * ratio <= len) break;
        if (box) {
            if (thick * FRAMED_RATIO > len) return 0;
            return page ? framed(v, row, a, len, thick, frame, 1) : boxed(v, row, a, len, thick, taken);
        }
    }
    const int64_t thick = *thick_out;
    if (page && framed(v, row, a, len, thick, frame, 0)) return 1;
    if (page && len < v->page_len) return 0;
    /* An outline's edge: its twin beside it at the same distance all along, and no third line as far
     * again (nor one as far on the other side), which a squared page would have. With page, a line
     * beside it at the same distance, as far as half its length away, is what is looked for. */
    const int64_t reach = page ? len / 2 : TWIN_REACH * thick + 2;
    int64_t d[2][RULE_SAMPLES];
    for (int side = 0; side < 2; side++)
        for (int s = 0; s < RULE_SAMPLES; s++)
            d[side][s] = beside(v, row[at[s]], a + at[s], up[s], down[s], side ? 1 : -1, reach, level);
    int spaced_side = 0, twin_side = 0;
    for (int side = 0; side < 2; side++) {
        const int64_t mid = common_distance(d[side]);
        if (mid < 0) continue;
        int64_t third[RULE_SAMPLES];
        for (int s = 0; s < RULE_SAMPLES; s++)
            third[s] = d[side][s] < 0
                           ? -1
                           : beyond(v, row[at[s]], a + at[s], (side ? down[s] : up[s]) + 1 + d[side][s],
                                    side ? 1 : -1, reach, level);
        const int64_t again = common_distance(third), other = common_distance(d[!side]);
        if ((again >= 0 && llabs(again - mid) <= TWIN_SLACK) ||
            (other >= 0 && llabs(other - mid) <= TWIN_SLACK))
            spaced_side = 1;
        else
            twin_side = 1;
    }
    if (!page) return !twin_side;
    return spaced_side || twin_side || a <= EDGE || a + len >= v->nc - EDGE;
}

/* The strongest ink across the run at (r, i), from r - up to r + down, by its means along the row
 * (a noisy pale line's pixels stray far from its level). */
static int peak_across(const view *v, int64_t r, int64_t i, int64_t up, int64_t down)
{
    int peak = 0;
    for (int64_t q = r - up; q <= r + down; q++)
        if (v->sm[q * v->rs + i * v->cs] > peak) peak = v->sm[q * v->rs + i * v->cs];
    return peak;
}

/* The strokes' ink strength: the 99th percentile of the ink's pixels at the threshold or above, most
 * of which are strokes' (a page's lines are paler; the strongest 1% may be specks or noise). */
static int pen_level(const uint8_t *ink, int64_t n_px, int level)
{
    int64_t hist[256] = {0}, n = 0;
    for (int64_t k = 0; k < n_px; k++) hist[ink[k]]++;
    for (int k = level; k < 256; k++) n += hist[k];
    int pen = 255;
    for (int64_t above = 0; pen > level && (above + hist[pen]) * 100 <= n; pen--) above += hist[pen];
    return pen;
}

/* Clears the line along row (len positions from a, thick) wherever the ink across is the line's
 * alone; returns the positions cleared. One walk per position, and RULE_SAMPLES more.
 * Where the pen is at least twice as strong as the line (a page's printed lines), a stroke lying
 * along the line keeps its own pixels: those a third of the way from the line's strength to the
 * pen's. A stroke along an underline in the ink's own colour cannot be told from it and goes. */
static int64_t clear_line(const view *v, const int32_t *row, int64_t a, int64_t len, int64_t thick, int level)
{
    const int64_t keep = (int64_t)(RULE_KEEP * (double)thick) + 1; /* the ink across reaching it is more */
    int64_t peaks[RULE_SAMPLES];
    for (int s = 0; s < RULE_SAMPLES; s++) {
        const int64_t k = (2 * s + 1) * len / (2 * RULE_SAMPLES);
        int64_t u, dn;
        across(v, row[k], a + k, keep, &u, &dn);
        peaks[s] = peak_across(v, row[k], a + k, u, dn);
    }
    const int64_t line = line_measure(v, len, peaks); /* a page's line at its weaker places, as is_line() */
    if (*v->pen < 0) *v->pen = pen_level(v->ink, v->nr * v->nc, level);
    const int pen = *v->pen;
    const int64_t d = line + (pen - line) / 3;
    const int dark = 2 * line > pen ? 256 : (int)(d > level ? d : level); /* 256: none */
    int64_t cleared = 0;
    for (int64_t k = 0; k < len; k++) {
        if (!on_at(v, row[k], a + k)) continue; /* cleared with an earlier row of the same line */
        /* Crossed where the pixels themselves say so: the means along the row widen a thin stroke. */
        int64_t u, dn;
        across_by(v, row[k], a + k, keep, &u, &dn, raw_at);
        if ((double)(1 + u + dn) > RULE_KEEP * (double)thick) continue;
        /* The line's noisy gaps by the means too, unless they bridge paper to a stroke beside it. */
        int64_t su, sd;
        across(v, row[k], a + k, keep, &su, &sd);
        if ((double)(1 + su + sd) <= RULE_KEEP * (double)thick) u = su, dn = sd;
        clear_across(v, a + k, row[k] - u, row[k] + dn, thick, level, dark);
        cleared++;
    }
    return cleared;
}

/* Whether a followed run keeps within `bend` of the chord between its ends: a line does, tilted or
 * not (its rows step like a staircase), while the side of a large 0 drawn with a fine pen, as thin
 * and nearly as straight, bends away from its chord by 2 pixels over 40. */
static int straight(const int32_t *row, int64_t len, double bend)
{
    const double slope = (double)(row[len - 1] - row[0]) / (double)(len - 1);
    for (int64_t k = 0; k < len; k++)
        if (fabs((double)row[k] - (double)row[0] - slope * (double)k) > bend) return 0;
    return 1;
}

/* Follows the run that begins at (r, i) to its end, stepping to the row above or below where its own
 * ends, but not more often than RULE_SLOPE allows, its rows into row (at most cap); returns the
 * length of its straight part (0 when under min_len), counting the steps taken into *work. */
static int64_t follow(const view *v, int64_t r, int64_t i, int32_t *row, int64_t cap, int64_t min_len,
                      int64_t *work)
{
    int64_t cur = r, len = 0, steps = 0;
    for (int64_t k = i; k < v->nc && len < cap; k++) {
        if (!on_at(v, cur, k)) {
            if (steps + 1 > RULE_SLOPE * (double)(k - i) + 1) break;
            if (cur > 0 && on_at(v, cur - 1, k))
                cur--;
            else if (cur + 1 < v->nr && on_at(v, cur + 1, k))
                cur++;
            else
                break;
            steps++;
        }
        row[len++] = (int32_t)cur;
    }
    *work -= len;
    if (len < RULE_MIN || len < min_len) return 0;
    /* Only its straight part: where it went on along a stroke that bends away, or was a hairline's
     * gentle curve (the bottom of an outlined 0), no line. A line's rows step like a staircase, by up
     * to half its thickness from its chord. */
    int64_t up, down;
    across(v, r, i, TRACE_THICK, &up, &down);
    const double bend = fmin(RULE_BEND, 1 + 0.5 * (double)(1 + up + down));
    while (len >= RULE_MIN && !straight(row, len, bend)) *work -= len, len = len * 7 / 8;
    return len >= RULE_MIN && len >= min_len ? len : 0;
}

/* An open comb field: a line with short ticks standing on it at equal spacing, between which the
 * digits are written. Where a tick stands the ink across is thicker than the line, so there the line
 * stays (clear_line()), with the tick on it: a row of short bars, read as a line of small 1s under
 * the digits (`508669624 1111111111`). After the line is cleared, the stretches left on it that rise
 * to one side only (a tick), no wider than TICK_WIDE of the line's thickness, and as high as the
 * median of them within TICK_SAME, are ticks when at least TICK_MIN of them stand at their median
 * spacing from another (within EDGE pixels and TICK_SPREAD of it) and are at most TICK_HIGH of the
 * least spacing between them high; they are cleared. A digit resting on the line is wider, or
 * higher, or stands between the ticks (its foot, as short as a tick, is at no spacing from one).
 * Returns the pixels cleared. */
enum { TICK_MIN = 4, TICK_CAP = 128 }; /* ticks looked at on one line, at most */
#define TICK_WIDE   3.0
#define TICK_OUT    1.5 /* a tick rises 1.5 times the line's thickness beyond it at least */
#define TICK_SAME   0.25
#define TICK_HIGH   0.6  /* at most 0.6 times their spacing high */
#define TICK_SPREAD 0.05 /* their spacing within 5% and EDGE pixels */

typedef struct tick {
    int64_t k0, k1, reach, hi; /* positions [k0, k1) along the line, its height beyond the line and
                                  beyond the row followed, up its column */
    int64_t along;             /* its height beyond the line, followed where it steps aside */
    int dir;
} tick;

static int tick_cmp(const void *pa, const void *pb)
{
    const tick *a = pa, *b = pb;
    return (a->reach > b->reach) - (a->reach < b->reach);
}

/* Ink from (r, i) on in direction dir, counted up to cap, stepping a position aside where it
 * ends ahead but goes on beside, at most once per ten rows (the side of a tilted comb leaves its
 * column after a few rows). */
static int64_t reach_along(const view *v, int64_t r, int64_t i, int dir, int64_t cap)
{
    int64_t d = 0, steps = 0;
    while (d < cap) {
        const int64_t q = r + dir * (d + 1);
        if (q < 0 || q >= v->nr) break;
        if (!raw_at(v, q, i)) {
            if (++steps > RULE_SLOPE * (double)d + 1) break; /* tilted by 6 degrees at most, as lines */
            if (i > 0 && raw_at(v, q, i - 1))
                i--;
            else if (i + 1 < v->nc && raw_at(v, q, i + 1))
                i++;
            else
                break;
        }
        d++;
    }
    return d;
}

/* Whether row[k] at position a + k is ink: a joined line's row, placed by its chords, may lie a
 * pixel or two beyond the image (clear_joins()). */
static int row_ink(const view *v, const int32_t *row, int64_t a, int64_t k)
{
    return row[k] >= 0 && row[k] < v->nr && raw_at(v, row[k], a + k);
}

static int64_t clear_ticks(const view *v, const int32_t *row, int64_t a, int64_t len, int64_t thick)
{
    tick t[TICK_CAP];
    int64_t n = 0;
    const int64_t wide = (int64_t)(TICK_WIDE * (double)thick) + 2, cap = TRACE_THICK * 4;
    for (int64_t k = 0; k < len && n < TICK_CAP;) {
        if (!row_ink(v, row, a, k)) {
            k++;
            continue;
        }
        const int64_t k0 = k;
        while (k < len && row_ink(v, row, a, k)) k++;
        const int64_t m = (k0 + k) / 2;
        int64_t up, down;
        across(v, row[m], a + m, cap, &up, &down);
        const int64_t lo = up < down ? up : down, hi = up < down ? down : up;
        const int dir = up > down ? -1 : 1;
        /* Beyond the line's far edge (the row followed lies somewhere within the line). */
        const int64_t beyond = hi + lo + 1 - thick;
        if (k - k0 <= wide && lo <= thick && (double)beyond >= TICK_OUT * (double)thick && beyond >= 4 &&
            hi < cap)
            t[n++] = (tick){k0, k, beyond, hi, reach_along(v, row[m], a + m, dir, cap) + lo + 1 - thick, dir};
    }
    if (n < TICK_MIN) return 0;
    tick by_reach[TICK_CAP];
    memcpy(by_reach, t, (size_t)n * sizeof *t);
    qsort(by_reach, (size_t)n, sizeof *t, tick_cmp);
    const double reach = (double)by_reach[n / 2].reach;
    int64_t keep[TICK_CAP], m = 0, gap[TICK_CAP];
    for (int64_t j = 0; j < n; j++)
        if (fabs((double)t[j].reach - reach) <= TICK_SAME * reach && t[j].dir == by_reach[n / 2].dir)
            keep[m++] = j;
    if (m < TICK_MIN) return 0;
    for (int64_t j = 1; j < m; j++) gap[j - 1] = t[keep[j]].k0 - t[keep[j - 1]].k0;
    int64_t sorted[TICK_CAP];
    memcpy(sorted, gap, (size_t)(m - 1) * sizeof *gap);
    qsort(sorted, (size_t)(m - 1), sizeof *sorted, nn__int64_cmp);
    const double spacing = (double)sorted[(m - 1) / 2], slack = EDGE + TICK_SPREAD * spacing;
    int64_t regular = 0;
    unsigned char on_row[TICK_CAP] = {0};
    /* At the spacing from any other, not only the next: a digit's foot on the line between two
     * ticks (a tilted line's stretches are looked at again whole, clear_joins()) is no tick, and
     * breaks no row. */
    for (int64_t j = 0; j < m; j++)
        for (int64_t o = j + 1; o < m; o++)
            if (fabs((double)(t[keep[o]].k0 - t[keep[j]].k0) - spacing) <= slack) on_row[j] = on_row[o] = 1;
    for (int64_t j = 0; j < m; j++) regular += on_row[j];
    /* Ticks are short beside their spacing, the least of it (some may be missing); a comb's box
     * sides are as tall (rows_of_boxes()), and a tilted comb's leave their column after a few rows. */
    int64_t tallest = 0, least = INT64_MAX;
    for (int64_t j = 0, prev = -1; j < m; j++) {
        if (!on_row[j]) continue;
        if (t[keep[j]].along > tallest) tallest = t[keep[j]].along;
        if (prev >= 0 && t[keep[j]].k0 - t[keep[prev]].k0 < least) least = t[keep[j]].k0 - t[keep[prev]].k0;
        prev = j;
    }
    if (regular < TICK_MIN || !(spacing > (double)wide) || (double)tallest > TICK_HIGH * (double)least)
        return 0;
    int64_t cleared = 0;
    for (int64_t j = 0; j < m; j++) {
        if (!on_row[j]) continue;
        const tick *tk = &t[keep[j]];
        for (int64_t k = tk->k0; k < tk->k1; k++)
            for (int64_t q = 0; q <= tk->hi + 1; q++) {
                const int64_t r = row[k] + tk->dir * q, i = a + k;
                if (r < 0 || r >= v->nr) break;
                uint8_t *p = &v->ink[r * v->rs + i * v->cs];
                if (!*p && q > thick) break;
                *p = 0, v->sm[r * v->rs + i * v->cs] = 0;
                cleared++;
            }
    }
    return cleared;
}

static int double_cmp(const void *pa, const void *pb)
{
    const double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* The median of a[0..n-1] (n >= 1), sorting a. */
static double median_double(double *a, int n)
{
    qsort(a, (size_t)n, sizeof *a, double_cmp);
    return n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

/* Where the middle of a line lies at its two ends (*y0 at position a, *y1 at a + len - 1): the
 * straight line through the middles of the ink across it at those of RULE_SAMPLES places along it
 * where it is thinnest, within a pixel (a stroke may cross at some), when over half are; else the
 * row followed, moved to the middle at the thinnest place. Three places were once asked,
 * at its quarters: a comb field of 4, 8 or 12 boxes has a side at each, and its rules were put in
 * the middle of its sides, which then rested on no rule and were read as 1s. Then the row followed,
 * moved to the middle at the thinnest place: a thick line tilted by less than its thickness over
 * its length is followed along one row, and its middle was put up to half its thickness off at its
 * ends. (The middle measured near each end alone read tilted combs better but squared paper worse:
 * digits' strokes then ended on its lines.) */
static void line_chord(const view *v, const int32_t *row, int64_t a, int64_t len, double *y0, double *y1)
{
    int64_t u[RULE_SAMPLES], d[RULE_SAMPLES], best = INT64_MAX;
    double mid = 0;
    for (int64_t s = 0; s < RULE_SAMPLES; s++) {
        const int64_t k = (2 * s + 1) * len / (2 * RULE_SAMPLES);
        across(v, row[k], a + k, TRACE_THICK, &u[s], &d[s]);
        if (u[s] + d[s] < best) best = u[s] + d[s], mid = 0.5 * (double)(d[s] - u[s]);
    }
    *y0 = (double)row[0] + mid, *y1 = (double)row[len - 1] + mid; /* where too few places agree */
    double x[RULE_SAMPLES], y[RULE_SAMPLES], slopes[RULE_SAMPLES * (RULE_SAMPLES - 1) / 2], at[RULE_SAMPLES];
    int n = 0, ns = 0;
    for (int64_t s = 0; s < RULE_SAMPLES; s++) {
        if (u[s] + d[s] > best + 1) continue;
        const int64_t k = (2 * s + 1) * len / (2 * RULE_SAMPLES);
        x[n] = (double)k, y[n++] = (double)row[k] + 0.5 * (double)(d[s] - u[s]);
    }
    /* Over half the places, and the median of the slopes between every two of them and of the
     * heights it gives at position a (Theil and Sen): a pale line on a squared page, thin at 3
     * places of 15 only (1 pixel, 2 or 3 elsewhere), had its left end put 2 pixels off by a
     * least-squares line through those 3. */
    if (2 * n <= RULE_SAMPLES) return;
    int level = 1; /* a line followed along one row, its middle there all along: nothing to sort */
    for (int i = 1; i < n; i++) level &= y[i] == y[0];
    if (level) {
        *y0 = *y1 = y[0];
        return;
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) slopes[ns++] = (y[j] - y[i]) / (x[j] - x[i]);
    const double slope = median_double(slopes, ns);
    for (int i = 0; i < n; i++) at[i] = y[i] - slope * x[i];
    const double at0 = median_double(at, n);
    *y0 = at0, *y1 = at0 + slope * (double)(len - 1);
}

/* Every run is followed (follow()): first those that begin where no ink precedes them, in their row
 * or the rows beside, so that a line is followed whole from its end rather than from a stroke that
 * joins it; then the rest (a line's stretch beyond a digit that crosses it). With page, the lines are
 * cleared only once all are found, since each is known by its neighbours. row has room for cap
 * entries. Returns the positions cleared, or -1 out of memory. */
static int64_t rules_view(const view *v, int ratio, int64_t min_len, int page, int level, int32_t *row,
                          int64_t cap, chords *taken)
{
    int64_t cleared = 0, nfound = 0, found_cap = 0;
    found_line *found = NULL;
    /* Runs followed again and again (parallel lines close together, refused as an outline's edges,
     * each started from every step of its staircase) could take time quadratic in the image; the
     * following stops after TRACE_WORK times the pixels, which no page of writing comes near. */
    int64_t work = TRACE_WORK * v->nr * v->nc;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t r = 0; r < v->nr && work > 0; r++)
            for (int64_t i = 0; i < v->nc && work > 0; i++) {
                if (!on_at(v, r, i) || (i > 0 && on_at(v, r, i - 1))) continue;
                if (pass == 0 && i > 0 &&
                    ((r > 0 && on_at(v, r - 1, i - 1)) || (r + 1 < v->nr && on_at(v, r + 1, i - 1))))
                    continue;
                const int64_t len = follow(v, r, i, row, cap, min_len, &work);
                int64_t thick;
                side_frame frame;
                if (!len || !is_line(v, row, i, len, ratio, page, level, taken, &thick, &frame)) continue;
                if (!page) {
                    double y0, y1;
                    line_chord(v, row, i, len, &y0, &y1);
                    const int64_t c = clear_line(v, row, i, len, thick, level);
                    cleared += c;
                    if (c > 0) cleared += clear_ticks(v, row, i, len, thick);
                    if (c > 0 && taken) {
                        if (taken->n == taken->cap) {
                            const int64_t nc = taken->cap ? 2 * taken->cap : 16;
                            chord *p = realloc(taken->c, (size_t)nc * sizeof *p);
                            if (!p) {
                                free(found);
                                return -1;
                            }
                            taken->c = p;
                            taken->cap = nc;
                        }
                        taken->c[taken->n] = (chord){i, i + len - 1, thick, y0, y1, taken->n, taken->n};
                        taken->n++;
                    }
                    continue;
                }
                if (nfound == found_cap) {
                    found_cap = found_cap ? 2 * found_cap : 64;
                    found_line *f = realloc(found, (size_t)found_cap * sizeof *f);
                    if (!f) {
                        free(found);
                        return -1;
                    }
                    found = f;
                }
                found[nfound++] = (found_line){r, i, thick, frame, 0};
            }
    rows_of_boxes(found, nfound);
    for (int64_t k = 0; k < nfound; k++) {
        if (found[k].dropped) continue;
        int64_t unbounded = INT64_MAX;
        const int64_t len = follow(v, found[k].r, found[k].i, row, cap, min_len, &unbounded);
        if (len) cleared += clear_line(v, row, found[k].i, len, found[k].thick, level);
    }
    free(found);
    return cleared;
}

/* The ink row nearest to height y at position x within half (the line's middle there, placed by
 * its chord), or -1 where there is none. */
static int64_t ink_near(const view *v, int64_t x, double y, int64_t half)
{
    const int64_t mid = (int64_t)lround(y);
    for (int64_t d = 0; d <= half; d++)
        for (int side = 0; side < 2; side++) {
            const int64_t r = side ? mid + d : mid - d;
            if (r >= 0 && r < v->nr && raw_at(v, r, x)) return r;
        }
    return -1;
}

/* A tilted line's stretches that none of its pieces holds, once they are joined (join_pieces()):
 * the gaps between its pieces, and past its ends as far as its ink goes on along its end pieces'
 * chords (at most as far as a line too short to be one, RULE_RATIO times as long as thick). They are
 * taken out as its pieces were (clear_line()), and the end pieces' chords carried to where the line
 * ends. Left, a gap's stretch of line joined a digit above or below it as a broken piece of it, and a
 * comb's last side, standing on the stretch past the last piece, rested on no line. Lines in one
 * piece stay as followed. row has room for cap entries. Returns the positions cleared. */
static int64_t clear_joins(const view *v, chords *lines, int32_t *row, int64_t cap, int level)
{
    int64_t cleared = 0;
    chord *c = lines->c;
    for (int64_t k = 0; k < lines->n; k = c[k].last + 1) {
        const int64_t first = k, last = c[k].last;
        if (last == first) continue;
        int64_t thick = 0, e = first;
        for (int64_t q = first; q <= last; q++) {
            thick = c[q].thick > thick ? c[q].thick : thick;
            e = c[q].x1 > c[e].x1 ? q : e;
        }
        const int64_t half = thick / 2 + 1;
        /* The gaps: from the furthest end reached so far to the next piece's start (pieces go by
         * their starts), along the straight way between. */
        for (int64_t q = first + 1, reach = first; q <= last; q++) {
            const chord *p = &c[reach], *next = &c[q];
            for (int64_t x = p->x1 + 1, run = 0; x <= next->x0; x++) {
                const int64_t r = x == next->x0 ? -1 : ink_near(v, x, between(p, next, x), half);
                if (r >= 0 && run < cap) row[run++] = (int32_t)r;
                if ((r < 0 || run == cap) && run > 0)
                    cleared += clear_line(v, row, x - run + (r >= 0), run, thick, level), run = 0;
            }
            reach = next->x1 > p->x1 ? q : reach;
        }
        /* Past the ends, along the end pieces' chords. */
        for (int end = 0; end < 2; end++) {
            chord *p = end ? &c[e] : &c[first];
            if (p->x1 <= p->x0) continue;
            const double slope = (p->y1 - p->y0) / (double)(p->x1 - p->x0);
            const int64_t dir = end ? 1 : -1, from = end ? p->x1 : p->x0;
            const int64_t most = RULE_RATIO * p->thick < cap ? RULE_RATIO * p->thick : cap;
            int64_t n = 0;
            while (n < most && from + dir * (n + 1) >= 0 && from + dir * (n + 1) < v->nc) {
                const int64_t x = from + dir * (n + 1),
                              r = ink_near(v, x, p->y0 + slope * (double)(x - p->x0), half);
                if (r < 0) break;
                row[end ? n : most - 1 - n] = (int32_t)r; /* in order of position */
                n++;
            }
            if (n == 0) continue;
            const int32_t *in_order = end ? row : row + most - n;
            cleared += clear_line(v, in_order, end ? from + 1 : from - n, n, thick, level);
            const double y_end = p->y0 + slope * (double)(from + dir * n - p->x0);
            if (end)
                p->x1 += n, p->y1 = y_end;
            else
                p->x0 -= n, p->y0 = y_end;
        }
        /* An open comb's ticks along the whole line: those standing in its gaps, and on pieces
         * with too few of their own to be told (clear_ticks() after each piece). */
        const int64_t x0 = c[first].x0, len = c[e].x1 - x0 + 1 < cap ? c[e].x1 - x0 + 1 : cap;
        for (int64_t x = x0, from = first, t; x < x0 + len; x++)
            row[x - x0] = (int32_t)lround(line_y_at(c, first, last, x, &t, &from));
        cleared += clear_ticks(v, row, x0, len, thick);
    }
    return cleared;
}

nn_status nn__vision_rules(nn__ink *ink, int64_t *cleared)
{
    return nn__vision_rules_longer(ink, 0, cleared, NULL);
}

nn_status nn__vision_rules_longer(nn__ink *ink, int64_t min_len, int64_t *cleared, int64_t *shortest)
{
    *cleared = 0;
    if (shortest) *shortest = INT64_MAX;
    if (ink->level > 255) return NN_OK;
    const int64_t longer = ink->w > ink->h ? ink->w : ink->h, cap = longer < TRACE_MAX ? longer : TRACE_MAX;
    int32_t *row = malloc((size_t)cap * sizeof *row);
    if (!row) return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory looking for ruled lines");
    const int on = ink->weak > 0 && ink->weak < ink->level ? ink->weak : ink->level;
    int pen = -1;
    uint8_t *sm = malloc((size_t)(ink->w * ink->h));
    if (!sm) {
        free(row);
        return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory looking for ruled lines");
    }
    chords lying = {NULL, 0, 0};
    /* The boxes' tests are bounded as following is: a thick square frame, each row of its bars a
     * run of its own, cost the cube of its size (0.7 s at 1000 pixels, 81 s at 4000). */
    int64_t box_work = TRACE_WORK * ink->w * ink->h;
    const view rows = {ink->ink, ink->h, ink->w, ink->w, 1, on, &pen, sm, NULL, 0, &box_work};
    const int64_t page_len = (ink->h + UPRIGHT_SHARE - 1) / UPRIGHT_SHARE;
    const view cols = {ink->ink, ink->w, ink->h, 1, ink->w, on, &pen, sm, &lying, page_len, &box_work};
    smooth_along(&rows);
    int64_t found = rules_view(&rows, RULE_RATIO, min_len, 0, ink->level, row, cap, &lying);
    for (int64_t k = 0; shortest && k < lying.n; k++)
        if (lying.c[k].x1 - lying.c[k].x0 + 1 < *shortest) *shortest = lying.c[k].x1 - lying.c[k].x0 + 1;
    /* Upright lines only where lying lines were found: a squared page's, each beside another at the
     * same distance all along or running to the image's edge, and a form's boxes' sides, which end
     * at a lying line at both ends. The stem of a 4 in a fine pen, 3 pixels by 100, is as thin and
     * straight as a line, but its neighbours are other digits' strokes, it ends short of the edge,
     * and at most one of its ends rests on a line. Such lines are looked for more eagerly than lying
     * ones: the squares of a small image read enlarged (step 9) are thickened by the enlarging and
     * cut short by the digits (measured against a page's equally spaced lines only, or no test at
     * all: MNIST's digits on squared paper 77.7% and 89.1%, this test 88.7%; docs/predict.md, step 3). */
    if (found > 0 && join_pieces(&rows, &lying, &box_work) < 0) found = -1;
    if (found > 0) found += clear_joins(&rows, &lying, row, cap, ink->level);
    if (found > 0) {
        smooth_along(&cols);
        const int64_t up = rules_view(&cols, UPRIGHT_RATIO, RULE_MIN, 1, ink->level, row, cap, NULL);
        found = up < 0 ? up : found + up;
    }
    free(lying.c);
    free(sm);
    free(row);
    if (found < 0) return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory looking for ruled lines");
    *cleared = found;
    return NN_OK;
}
