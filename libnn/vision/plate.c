/* Step 0 (docs/predict.md): a plate or card of one colour lying wholly inside a photo of a wall or
 * table of another. Read with the wall, the plate's edges became ink: a white plate small on a dark
 * wall was itself the ink (light on dark won the polarity, and the digits were its holes), and a
 * larger one gained a strip of the wall, cut straight where a threshold tile whose paper is the
 * plate's ends, read as a sure 1. On the plate alone both read as the crop of the plate reads.
 *
 * The plate is told by its shape, not by what a model reads on it: a blob of one of the image's two
 * Otsu classes that does not reach the image's border, solid (filling its convex hull but for
 * holes), sharp-edged (a shadow's edge is soft), whose holes are strokes (thinner than the plate is
 * wide around them), and around which the image is flat (no other blob of its class worth the
 * name). A digit drawn solid enough is no plate: the other digits lie beside it, its holes are not
 * strokes, or the digit is no wider around them than they are. (digits.c asks the model too, where
 * the plate's reading finds a digit or two.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

/* Found on the image reduced to at most this many pixels (box averages): a plate is large, and a
 * 100-megapixel photo needs no more bytes for it than a 4-megapixel one. */
#define PLATE_WORK_PIXELS 4000000
/* The plate's two levels stand this far apart (grey levels): a plate is a plain contrast. */
#define PLATE_CONTRAST 32.0
/* Its box is at least this many pixels each way (of the image as given) ... */
#define PLATE_MIN_SIDE 32
/* ... and it fills, holes and all, at least this share of the image. */
#define PLATE_MIN_SHARE 0.01
/* Solid: the plate with its holes filled covers this share of its convex hull at least (a plate
 * turned, seen at a slant or oval does: the share of its box does not); ... */
#define PLATE_SOLID 0.9
/* ... its holes are between these shares of it (a frame around a digit is mostly hole, a patch of
 * colour has none); */
#define PLATE_HOLES_MIN 0.001
#define PLATE_HOLES_MAX 0.5
/* what lies in its holes is strokes: their width (the median run across them, along the rows or the
 * columns, whichever is less) at most a third of their height (an 8's loops, a 0's inside, are
 * about half as wide as they are high; DejaVu Sans Bold's strokes 0.255 of its digits' height), and
 * the plate around them is wider than they are; */
#define PLATE_PEN 0.33
#define PLATE_MARGIN 1.0
/* The strokes' extent, for both, leaves out 1% of their pixels at either end: noise along a
 * slanted edge makes gaps in the plate right at its edge. */
#define PLATE_TAIL 0.01
/* and no other blob of the plate's class beyond its box is as large as this share of it, or as
 * this share of its strokes' pixels. */
#define PLATE_FLAT 0.02
#define PLATE_FLAT_STROKES 0.5
/* A blob of its colour around it that reaches the image's border makes it the inside of a frame
 * drawn on a page, unless the other class beyond its edge is wider than 3 strokes (the median of
 * the runs across it, counted up to 64): a sticky note on a monitor's dark bezel, the wall behind. */
#define PLATE_BEYOND 3.0
#define PLATE_BEYOND_MAX 64
/* Its edge is sharp, not a shadow's (a card half in shadow is two blobs, the lit half taken for the
 * plate): at PLATE_SHARP_SHARE of its rows' and columns' ends or more, the grey PLATE_STEP pixels
 * (of the reduced image) inside and one of the PLATE_STEP + 1 beyond differ by PLATE_SHARP of the
 * contrast (the two Otsu classes' means) or more. */
#define PLATE_STEP 2
#define PLATE_SHARP 0.5
#define PLATE_SHARP_SHARE 0.9
/* Its edge, this share of its shorter side (at least 2 pixels of the reduced image) inwards, is
 * painted too: the blur between the plate and the wall is neither. */
#define PLATE_EDGE 0.02

typedef struct span {
    int32_t lo, hi; /* [lo, hi); empty when hi <= lo */
} span;

/* A blob that passed, with its filled shape as spans: row y's columns rows[y - y0], column x's rows
 * cols[x - x0] (reduced image). */
typedef struct plate {
    int64_t x0, y0, x1, y1;
    int64_t filled;
    span *rows, *cols;
    int level; /* the plate's median grey */
} plate;

static void plate_free(plate *p)
{
    free(p->rows);
    free(p->cols);
    memset(p, 0, sizeof *p);
}

static int by_value(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int by_point(const void *a, const void *b)
{
    const int64_t *p = a, *q = b;
    return p[0] != q[0] ? (p[0] > q[0]) - (p[0] < q[0]) : (p[1] > q[1]) - (p[1] < q[1]);
}

/* [*lo, *hi): where v[0..n) holds its middle, all but PLATE_TAIL of its sum at either end. */
static void middle(const int64_t *v, int64_t n, int64_t sum, int64_t *lo, int64_t *hi)
{
    const double tail = PLATE_TAIL * (double)sum;
    double acc = 0;
    for (*lo = 0; *lo < n - 1 && acc + (double)v[*lo] <= tail; ++*lo) acc += (double)v[*lo];
    acc = 0;
    for (*hi = n; *hi > *lo + 1 && acc + (double)v[*hi - 1] <= tail; --*hi) acc += (double)v[*hi - 1];
}

/* Whether the grey at `in` and the most different of the PLATE_STEP + 1 pixels from `out` on, `step`
 * apart, outwards (clamped to [lo, hi]), differ by `need` or more. */
static int sharp_at(const uint8_t *r, int64_t in, int64_t out, int64_t step, int64_t lo, int64_t hi, int need)
{
    int most = 0;
    for (int s = 0; s <= PLATE_STEP; s++) {
        int64_t o = out + s * step;
        o = o < lo ? lo : o > hi ? hi : o;
        const int d = abs((int)r[in] - (int)r[o]);
        most = d > most ? d : most;
    }
    return most >= need;
}

/* How many of p's row and column ends (2 (w + h) of them) are a sharp edge: the grey PLATE_STEP
 * pixels inside and one of the PLATE_STEP + 1 pixels outside differ by PLATE_SHARP of the contrast or
 * more (a line drawn along the plate's edge, inside it, is an edge too). */
static int64_t sharp_edge(const plate *p, const uint8_t *r, int64_t w, int64_t h, double contrast)
{
    const int need = (int)ceil(PLATE_SHARP * contrast);
    int64_t n = 0;
    for (int64_t y = p->y0; y < p->y1; y++) {
        const span rs = p->rows[y - p->y0];
        const int64_t in_l = rs.lo + PLATE_STEP < rs.hi ? rs.lo + PLATE_STEP : rs.hi - 1;
        const int64_t in_r = rs.hi - 1 - PLATE_STEP > rs.lo ? rs.hi - 1 - PLATE_STEP : rs.lo;
        n += sharp_at(r, y * w + in_l, y * w + rs.lo - 1, -1, y * w, y * w + w - 1, need);
        n += sharp_at(r, y * w + in_r, y * w + rs.hi, 1, y * w, y * w + w - 1, need);
    }
    for (int64_t x = p->x0; x < p->x1; x++) {
        const span cs = p->cols[x - p->x0];
        const int64_t in_t = cs.lo + PLATE_STEP < cs.hi ? cs.lo + PLATE_STEP : cs.hi - 1;
        const int64_t in_b = cs.hi - 1 - PLATE_STEP > cs.lo ? cs.hi - 1 - PLATE_STEP : cs.lo;
        n += sharp_at(r, in_t * w + x, (cs.lo - 1) * w + x, -w, x, (h - 1) * w + x, need);
        n += sharp_at(r, in_b * w + x, cs.hi * w + x, w, x, (h - 1) * w + x, need);
    }
    return n;
}

static int64_t cross(const int64_t *o, const int64_t *a, const int64_t *b)
{
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/* Twice the area of the convex hull of p's filled shape (the corners of its rows' spans): Andrew's
 * monotone chain, pts with room for 4 points per row, hull for 8 per row and 2 more. */
static int64_t hull_area2(const plate *p, int64_t (*pts)[2], int64_t (*hull)[2])
{
    int64_t n = 0;
    /* The corners of its rows' spans, sorted by x then y for the chain. */
    for (int64_t y = p->y0; y < p->y1; y++) {
        const span rs = p->rows[y - p->y0];
        if (rs.hi <= rs.lo) continue;
        pts[n][0] = rs.lo, pts[n++][1] = y;
        pts[n][0] = rs.lo, pts[n++][1] = y + 1;
        pts[n][0] = rs.hi, pts[n++][1] = y;
        pts[n][0] = rs.hi, pts[n++][1] = y + 1;
    }
    qsort(pts, (size_t)n, sizeof *pts, by_point);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) k--;
        hull[k][0] = pts[i][0], hull[k++][1] = pts[i][1];
    }
    for (int64_t i = n - 2, lower = k + 1; i >= 0; i--) {
        while (k >= lower && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) k--;
        hull[k][0] = pts[i][0], hull[k++][1] = pts[i][1];
    }
    int64_t a2 = 0;
    for (int64_t i = 0; i + 1 < k; i++) a2 += hull[i][0] * hull[i + 1][1] - hull[i + 1][0] * hull[i][1];
    return a2 < 0 ? -a2 : a2;
}

/* The median, over p's rows' and columns' ends, of the run of the other class beyond its edge. */
static int64_t beyond(const plate *p, const uint8_t *r, int64_t w, int64_t h, int t, int light)
{
    int64_t hist[PLATE_BEYOND_MAX + 1] = {0}, n = 0;
#define PLATE_RUN(start, step, count)                                                                   \
    do {                                                                                                \
        int64_t len = 0;                                                                                \
        while (len < PLATE_BEYOND_MAX && len < (count) && (r[(start) + len * (step)] >= t) != light) len++; \
        hist[len]++, n++;                                                                               \
    } while (0)
    for (int64_t y = p->y0; y < p->y1; y++) {
        const span rs = p->rows[y - p->y0];
        PLATE_RUN(y * w + rs.lo - 1, -1, rs.lo);
        PLATE_RUN(y * w + rs.hi, 1, w - rs.hi);
    }
    for (int64_t x = p->x0; x < p->x1; x++) {
        const span cs = p->cols[x - p->x0];
        PLATE_RUN((cs.lo - 1) * w + x, -w, cs.lo);
        PLATE_RUN(cs.hi * w + x, w, h - cs.hi);
    }
#undef PLATE_RUN
    int64_t m = 0, acc = hist[0];
    while (2 * acc < n && m < PLATE_BEYOND_MAX) acc += hist[++m];
    return m;
}

/* Whether component ci of c (the pixels of class `light`, at or above t, in the reduced image r, w x h)
 * is a plate; when it is, and larger than *best, *best becomes it. */
static nn_status try_blob(plate *best, const nn__components *c, int64_t ci, const uint8_t *r, int64_t w,
                          int64_t h, int f, int t, int light, double contrast)
{
    const nn__comp *k = &c->comps[ci];
    const int64_t bw = k->x1 - k->x0, bh = k->y1 - k->y0;
    if (k->x0 == 0 || k->y0 == 0 || k->x1 == w || k->y1 == h) return NN_OK;
    if (bw * f < PLATE_MIN_SIDE || bh * f < PLATE_MIN_SIDE) return NN_OK;
    if ((double)(bw * bh) < PLATE_MIN_SHARE * (double)(w * h) || bw * bh <= best->filled) return NN_OK;
    /* A plate turned by 45 degrees covers half its box, and holes take up to half of that. */
    if ((double)k->area < 0.5 * (1 - PLATE_HOLES_MAX) * PLATE_SOLID * (double)(bw * bh)) return NN_OK;
    plate p = {k->x0, k->y0, k->x1, k->y1, 0, calloc((size_t)bh, sizeof(span)), calloc((size_t)bw, sizeof(span)), 0};
    /* The strokes across its holes: at most one run per two pixels of its box. */
    int32_t *scratch = malloc((size_t)(bw * bh / 2 + 1) * sizeof *scratch);
    /* Their pixels per row and per column of the box. */
    int64_t *in_row = calloc((size_t)bh, sizeof *in_row), *in_col = calloc((size_t)bw, sizeof *in_col);
    /* The hull's chain: 4 corners per row, and up to twice as many points on the chain. */
    int64_t(*pts)[2] = malloc((size_t)(12 * bh + 2) * sizeof *pts);
    if (!p.rows || !p.cols || !scratch || !in_row || !in_col || !pts) {
        plate_free(&p);
        free(scratch);
        free(in_row);
        free(in_col);
        free(pts);
        return NN_ERR_NO_MEMORY;
    }
    for (int64_t i = 0; i < bh; i++) p.rows[i] = (span){INT32_MAX, INT32_MIN};
    for (int64_t i = 0; i < bw; i++) p.cols[i] = (span){INT32_MAX, INT32_MIN};
    int64_t hist[256] = {0}, gaps = 0, strokes = 0;
    const nn__run *prev = NULL;
    for (int32_t j = 0; j < k->count; j++) {
        const nn__run *u = &c->runs[c->order[k->first + j]];
        span *rs = &p.rows[u->y - k->y0];
        rs->lo = u->x0 < rs->lo ? u->x0 : rs->lo;
        rs->hi = u->x1 > rs->hi ? u->x1 : rs->hi;
        for (int32_t x = u->x0; x < u->x1; x++) {
            span *cs = &p.cols[x - k->x0];
            cs->lo = u->y < cs->lo ? u->y : cs->lo;
            cs->hi = u->y + 1 > cs->hi ? u->y + 1 : cs->hi;
            hist[r[u->y * w + x]]++;
        }
        /* Runs are in image order: a gap between two of one row lies in a hole (or a bay). Its runs
         * of the other class are strokes across; the plate's class in it is a loop's inside. */
        if (prev && prev->y == u->y) {
            const uint8_t *row = r + u->y * w;
            for (int32_t x = prev->x1; x < u->x0;) {
                int32_t e = x;
                while (e < u->x0 && (row[e] >= t) != light) e++;
                if (e > x) {
                    scratch[gaps++] = e - x;
                    in_row[u->y - k->y0] += e - x;
                    for (int32_t q = x; q < e; q++) in_col[q - k->x0]++;
                    strokes += e - x;
                }
                for (x = e; x < u->x0 && (row[x] >= t) == light; x++) {}
            }
        }
        prev = u;
    }
    const int64_t sharp = sharp_edge(&p, r, w, h, contrast);
    for (int64_t y = 0; y < bh; y++)
        for (int32_t x = p.rows[y].lo; x < p.rows[y].hi; x++) {
            const span cs = p.cols[x - k->x0];
            p.filled += cs.lo <= y + k->y0 && y + k->y0 < cs.hi;
        }
    const int64_t hull2 = hull_area2(&p, pts, pts + 4 * bh);
    free(pts);
    int ok = 2 * (double)p.filled >= PLATE_SOLID * (double)hull2 && p.filled > best->filled &&
             (double)p.filled >= PLATE_MIN_SHARE * (double)(w * h) && gaps > 0 &&
             (double)sharp >= PLATE_SHARP_SHARE * (double)(2 * (bw + bh));
    const double holes = (double)(p.filled - k->area);
    ok = ok && holes >= PLATE_HOLES_MIN * (double)p.filled && holes <= PLATE_HOLES_MAX * (double)p.filled;
    double pen = 0;
    if (ok) {
        qsort(scratch, (size_t)gaps, sizeof *scratch, by_value);
        pen = scratch[gaps / 2];
        /* Down the columns too: a stroke's width is the lesser of its runs across, along the rows
         * (an upright stroke) or the columns (a bar). */
        int64_t n = 0;
        for (int64_t x = 0; x < bw; x++) {
            const span cs = p.cols[x];
            for (int32_t y = cs.lo; y < cs.hi;) {
                int32_t e = y;
                while (e < cs.hi && (r[e * w + k->x0 + x] >= t) != light) e++;
                if (e > y) scratch[n++] = e - y;
                for (y = e; y < cs.hi && (r[y * w + k->x0 + x] >= t) == light; y++) {}
            }
        }
        if (n > 0) {
            qsort(scratch, (size_t)n, sizeof *scratch, by_value);
            pen = scratch[n / 2] < pen ? scratch[n / 2] : pen;
        }
        int64_t x0, x1, y0, y1;
        middle(in_col, bw, strokes, &x0, &x1);
        middle(in_row, bh, strokes, &y0, &y1);
        const int64_t margin[4] = {x0, bw - x1, y0, bh - y1};
        for (int s = 0; s < 4; s++) ok = ok && (double)margin[s] > PLATE_MARGIN * pen;
        ok = ok && pen <= PLATE_PEN * (double)(y1 - y0);
    }
    /* Beside it, nothing of its colour as large as 2% of it or half its strokes: a door's handle is
     * no number when the number is on the wall beside the door. A blob around it (the plate's rim
     * beyond a line drawn along its edge) is no patch beside it, unless it reaches the image's
     * border: then the plate is of the wall's colour, the inside of a frame drawn on a page, and the
     * page's other digits would be lost. */
    const double beside = fmin(PLATE_FLAT * (double)p.filled, PLATE_FLAT_STROKES * (double)strokes);
    int64_t wide = -1; /* beyond(), measured once when a blob around it reaches the border */
    for (int64_t o = 0; o < c->ncomps && ok; o++) {
        const nn__comp *q = &c->comps[o];
        const int inside = q->x0 >= k->x0 && q->x1 <= k->x1 && q->y0 >= k->y0 && q->y1 <= k->y1;
        const int around = q->x0 <= k->x0 && q->x1 >= k->x1 && q->y0 <= k->y0 && q->y1 >= k->y1;
        const int bordering = q->x0 == 0 || q->y0 == 0 || q->x1 == w || q->y1 == h;
        if (around && bordering && wide < 0) wide = beyond(&p, r, w, h, t, light);
        ok = o == ci || inside || (around && (!bordering || (double)wide > PLATE_BEYOND * pen)) ||
             (!around && (double)q->area < beside);
    }
    free(scratch);
    free(in_row);
    free(in_col);
    if (!ok) {
        plate_free(&p);
        return NN_OK;
    }
    int64_t below = 0;
    while (2 * (below + hist[p.level]) < k->area) below += hist[p.level++];
    plate_free(best);
    *best = p;
    return NN_OK;
}

/* The blobs of one class (pixels at or above t when light, below it else) of r tried as plates. */
static nn_status try_class(plate *best, uint8_t *mask, const uint8_t *r, int64_t w, int64_t h, int f, int t,
                           int light, double contrast)
{
    for (int64_t i = 0; i < w * h; i++) mask[i] = (r[i] >= t) == light;
    nn__ink ink = {mask, 1, 0, 0, 0, 0, w, h};
    nn__components c;
    nn_status st = nn__vision_components(&c, &ink, w, h);
    if (st != NN_OK) return st;
    for (int64_t i = 0; i < c.ncomps && st == NN_OK; i++) st = try_blob(best, &c, i, r, w, h, f, t, light, contrast);
    nn__vision_components_free(&c);
    return st;
}

nn_status nn__vision_plate(uint8_t **out, nn__plate *box, const nn__gray *g, const char *who)
{
    *out = NULL;
    int f = 1;
    while ((double)(g->w / f) * (double)(g->h / f) > PLATE_WORK_PIXELS) f++;
    const int64_t w = g->w / f, h = g->h / f;
    if (w < 3 || h < 3) return NN_OK;
    uint8_t *r = malloc((size_t)(w * h)), *mask = malloc((size_t)(w * h));
    int64_t hist[256] = {0};
    nn_status st = r && mask ? NN_OK : NN_ERR_NO_MEMORY;
    for (int64_t y = 0; y < h && st == NN_OK; y++)
        for (int64_t x = 0; x < w; x++) {
            int64_t sum = 0;
            for (int dy = 0; dy < f; dy++)
                for (int dx = 0; dx < f; dx++) sum += g->px[(y * f + dy) * g->stride + x * f + dx];
            hist[r[y * w + x] = (uint8_t)((sum + f * f / 2) / (f * f))]++;
        }
    plate best = {0};
    double lo = 0, hi = 0;
    const int t = st == NN_OK ? nn__vision_otsu(hist, &lo, &hi) : 0;
    if (st == NN_OK && hi - lo >= PLATE_CONTRAST) {
        st = try_class(&best, mask, r, w, h, f, t, 1, hi - lo);
        if (st == NN_OK) st = try_class(&best, mask, r, w, h, f, t, 0, hi - lo);
    }
    free(r);
    free(mask);
    if (st == NN_OK && best.filled > 0) {
        const int64_t x0 = best.x0 * f, y0 = best.y0 * f;
        const int64_t x1 = best.x1 * f < g->w ? best.x1 * f : g->w, y1 = best.y1 * f < g->h ? best.y1 * f : g->h;
        const int64_t cw = x1 - x0, ch = y1 - y0, bw = best.x1 - best.x0, bh = best.y1 - best.y0;
        const int32_t e = (int32_t)fmax(2, ceil(PLATE_EDGE * (double)(bw < bh ? bw : bh)));
        uint8_t *crop = malloc((size_t)(cw * ch));
        if (!crop) st = NN_ERR_NO_MEMORY;
        for (int64_t y = 0; y < ch && crop; y++) {
            const int64_t ry = (y0 + y) / f;
            const span rs = best.rows[ry - best.y0];
            for (int64_t x = 0; x < cw; x++) {
                const int64_t rx = (x0 + x) / f;
                const span cs = best.cols[rx - best.x0];
                const int in = rx >= rs.lo + e && rx < rs.hi - e && ry >= cs.lo + e && ry < cs.hi - e;
                crop[y * cw + x] = in ? g->px[(y0 + y) * g->stride + x0 + x] : (uint8_t)best.level;
            }
        }
        *out = crop;
        *box = (nn__plate){x0, y0, x1, y1};
    }
    plate_free(&best);
    if (st == NN_ERR_NO_MEMORY) return nn__fail(st, "%s: out of memory looking for a plate", who);
    return st;
}
