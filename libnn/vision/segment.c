/* From components to glyphs, one digit each: specks and lines dropped, the pieces of a broken digit
 * merged, touching digits split; then, apart (the caller first checks how many glyphs there are),
 * lines of text found and the glyphs put in reading order. Every size is relative to H, the median
 * height of the ink weighted by its area, so that specks (small area) and a few lines do not move
 * it. docs/predict.md, steps 4 to 7. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

/* Relative to H. */
#define SPECK_AREA 0.02      /* area below 0.02 H^2: a speck, */
#define FRAGMENT_AREA 0.005  /* but from 0.005 H^2 one that may be part of a digit (a fragment); */
#define PEN_TYPICAL 0.1      /* both for a pen 0.1 H wide, and less for a finer one, */
#define PEN_SAME 0.7         /* for blobs drawn at least 0.7 as wide as it */
#define PEN_BINS 1024        /* runs counted by length up to this (a pen wider is no fine one) */
#define LINE_LENGTH 2.5      /* taller than 2.5 H, or wider with a height below LINE_THIN H: a line */
#define LINE_THIN 0.5
#define BARCODE_PX 12        /* a barcode's bars (barcodes()): 12 pixels high or more, */
#define BARCODE_THIN 0.25    /* at most a quarter as wide, */
#define BARCODE_FILL 0.8     /* solid, */
#define BARCODE_GAP 0.2      /* each at most 0.2 of its height from the next, */
#define BARCODE_LEVEL 0.03   /* their tops level within 3% of it (or 2 pixels), */
#define BARCODE_SAME 1.25    /* their heights within a quarter (a code's guard bars are longer), */
#define BARCODE_BARS 8       /* 8 or more, */
#define BARCODE_WIDTHS 1.5   /* the widest 1.5 times the narrowest or more; */
#define BARCODE_LOOK 64      /* the next 64 bars from the left are looked at for each (a hatching's
                                bars one above another would make it quadratic) */
#define RING_PX 16           /* a ring around digits (rings()): 16 pixels high or more, */
#define RING_FILL 0.3        /* its ink at most 30% of its box, */
#define RING_INNER 0.45      /* around a blob 0.45 of its height or more (a dot in a 0 is none); */
#define RING_TRIED 16        /* the 16 largest such blobs tried, */
#define RING_NEAR 0.7        /* and 85% of its ink 0.7 to 1.1 times the size of the ellipse in its box
                                from its centre */
#define RING_FAR 1.1
#define RING_ON 0.85
#define SOLID_PX 20          /* a solid patch (solid()): 20 pixels high or more, */
#define SOLID_FILL 0.7       /* filling 70% of its box, */
#define SOLID_RUN 0.5        /* in runs half its height long; */
#define SOLID_DROP 1.5       /* higher than 1.5 H, it is no digit (a bold digit written larger is), */
#define SOLID_FLAT_DROP 1.2  /* nor higher than 1.2 H when it fills 90% of its box (a printed patch, */
#define SOLID_FLAT 0.9       /* a logo; a blotted digit has its notches) */
#define CROSSING_CLIPPED 1.5 /* a blob from edge to edge longer than 1.5 H may be a thin line across
                                digits, cut short by the image (nn__vision_strip_thin()) */
#define EDGE_SUSPECT 0.25    /* ink along a quarter of an image's edge or more: left out of H's
                                first measure; along more than LINE_LENGTH H of it, dropped */
#define MERGE_OVERLAP 0.4    /* pieces sharing 40% of the narrower's columns ... */
#define MERGE_SIDE 0.5       /* ... one above the other (sharing at most half the lower's rows) ... */
#define MERGE_GAP 0.3        /* ... at most 0.3 H apart vertically ... */
#define MERGE_HEIGHT 1.5     /* ... and together at most 1.5 H high are one digit */
#define MIN_HEIGHT 0.45      /* a glyph lower than this is no digit (a dash, a dot, a fragment) */
#define CUT_FROM 0.3         /* a split cuts between 30% and 70% of the width */
#define CUT_TO 0.7
#define LINE_OVERLAP 0.5     /* a glyph continues a line when it shares half its height with the
                                line's last glyph, */
#define LINE_SMALL 0.6       /* or, lower than 0.6 H, any of it (a piece left over does not make a
                                line of its own) */
#define BRIDGE_HEIGHT 1.6    /* a blob 1.6 H high or more, between a digit of the line above and one
                                of the line below ... */
#define BRIDGE_NEIGHBOUR_MIN 0.7 /* ... (blobs 0.7 to 1.3 H high: whole digits, not the pieces of a
                                    broken one, ... */
#define BRIDGE_NEIGHBOUR 1.3
#define BRIDGE_REACH 2.5     /* ... at most 2.5 H away along the line, ... */
#define BRIDGE_SHARE 0.3     /* ... sharing 0.3 H of its rows or more, ... */
#define BRIDGE_BANDS 0.2     /* ... the two overlapping by at most 0.2 H) ... */
#define BRIDGE_SEARCH 0.3    /* ... is cut along the row of least ink within 0.3 H of the lines' middle */
#define BRIDGE_WIDTH 0.4     /* it is 0.4 H wide at least, */
#define BRIDGE_PART 0.6      /* leaving at least 0.6 H on either side */
#define SMALL_MIN 0.15       /* blobs lower than a digit (MIN_HEIGHT H) but 0.15 H high or more, */
#define SMALL_MIN_PX 10      /* and 10 pixels, */
#define SMALL_WIDE 2.5       /* at most 2.5 times as wide as high, */
#define SMALL_APART 0.25     /* in rows of their own (sharing less than a quarter of their rows with
                                any digit: no piece of a digit of H's size, no label beside one), */
#define SMALL_SAME 1.6       /* in a row of blobs within a factor 1.6 of each other's height, */
#define SMALL_GAP 1.5        /* at most 1.5 times the higher one's height apart, */
#define SMALL_COUNT 3        /* three or more, */
#define SMALL_FILL 0.6       /* strokes rather than solid dots (half of them fill at most 0.6 of
                                their box), are a line of smaller digits (digits.c reads it again), */
#define SMALL_STACK 0.5      /* unless a third of them have a blob (not a line) above or below within
                                half their height that merging would join them to (the pieces of
                                digits broken across) */
#define SMALL_MAX 4096       /* past this many blobs of either size, the image is a texture */

int nn__int64_cmp(const void *pa, const void *pb)
{
    const int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

int nn__sort_key_cmp(const void *pa, const void *pb)
{
    const nn__sort_key *a = pa, *b = pb;
    if (a->k1 != b->k1) return a->k1 < b->k1 ? -1 : 1;
    if (a->k2 != b->k2) return a->k2 < b->k2 ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static nn_status oom(void)
{
    return nn__fail(NN_ERR_NO_MEMORY, "nn_digits_find: out of memory segmenting the digits");
}

/* Tight box and area of a glyph's pixels: its group's runs within columns [cx0, cx1) and between
 * its cut paths. */
static void glyph_measure(nn__glyph *gl, const nn__components *c, const int32_t *cuts)
{
    const int32_t gy0 = c->comps[gl->group].y0;
    gl->x0 = gl->y0 = INT32_MAX;
    gl->x1 = gl->y1 = -1;
    gl->area = 0;
    for (int32_t k = gl->group; k >= 0; k = c->comps[k].next) {
        const nn__comp *cp = &c->comps[k];
        for (int32_t r = 0; r < cp->count; r++) {
            const nn__run *run = &c->runs[c->order[cp->first + r]];
            int32_t a = run->x0 > gl->cx0 ? run->x0 : gl->cx0, b = run->x1 < gl->cx1 ? run->x1 : gl->cx1;
            if (gl->cut_l && a < cuts[gl->cut_l - 1 + run->y - gy0]) a = cuts[gl->cut_l - 1 + run->y - gy0];
            if (gl->cut_r && b > cuts[gl->cut_r - 1 + run->y - gy0]) b = cuts[gl->cut_r - 1 + run->y - gy0];
            if (a >= b) continue;
            if (a < gl->x0) gl->x0 = a;
            if (b > gl->x1) gl->x1 = b;
            if (run->y < gl->y0) gl->y0 = run->y;
            if (run->y + 1 > gl->y1) gl->y1 = run->y + 1;
            gl->area += b - a;
        }
    }
}

int64_t nn__vision_add_cut(nn__glyphs *gs, const nn__glyph *gl, const nn__components *c, const int32_t *x,
                           int32_t y, int32_t h)
{
    const nn__comp *g = &c->comps[gl->group];
    const int64_t gh = g->y1 - g->y0;
    if (gs->ncuts + gh > gs->cuts_cap) {
        int64_t cap = gs->cuts_cap ? gs->cuts_cap * 2 : 1024;
        while (cap < gs->ncuts + gh) cap *= 2;
        int32_t *p = realloc(gs->cuts, (size_t)cap * sizeof *p);
        if (!p) {
            oom();
            return 0;
        }
        gs->cuts = p;
        gs->cuts_cap = cap;
    }
    int32_t *o = gs->cuts + gs->ncuts;
    for (int64_t r = 0; r < gh; r++) {
        int64_t i = g->y0 + r - y;
        o[r] = x[i < 0 ? 0 : i >= h ? h - 1 : i];
    }
    gs->ncuts += gh;
    return gs->ncuts - gh + 1;
}

/* Appends gl to the growing array *a of *n entries (room for *cap). */
static nn_status append(nn__glyph **a, int64_t *n, int64_t *cap, const nn__glyph *gl)
{
    if (*n == *cap) {
        int64_t c = *cap ? *cap * 2 : 16;
        nn__glyph *g = realloc(*a, (size_t)c * sizeof *g);
        if (!g) return oom();
        *a = g;
        *cap = c;
    }
    (*a)[(*n)++] = *gl;
    return NN_OK;
}

static nn_status push(nn__glyphs *gs, const nn__glyph *gl)
{
    return append(&gs->g, &gs->n, &gs->cap, gl);
}

static nn_status push_fragment(nn__glyphs *gs, const nn__glyph *gl)
{
    return append(&gs->frag, &gs->nfrag, &gs->frag_cap, gl);
}

/* How far component i's ink lies along the image's border: the most pixels it has on one edge, and
 * that as a share of that edge's length. */
static int64_t edge_contact(const nn__components *c, int64_t i, int64_t w, int64_t h, double *share)
{
    const nn__comp *cp = &c->comps[i];
    *share = 0;
    if (cp->x0 > 0 && cp->y0 > 0 && cp->x1 < w && cp->y1 < h) return 0;
    int64_t top = 0, bottom = 0, left = 0, right = 0;
    for (int32_t k = 0; k < cp->count; k++) {
        const nn__run *r = &c->runs[c->order[cp->first + k]];
        if (r->y == 0) top += r->x1 - r->x0;
        if (r->y == h - 1) bottom += r->x1 - r->x0;
        left += r->x0 == 0;
        right += r->x1 == w;
    }
    const int64_t across = top > bottom ? top : bottom, down = left > right ? left : right;
    *share = across > down ? (double)across / (double)w : (double)down / (double)h;
    return across > down ? across : down;
}

/* A wedge of what lies beyond the paper: a photo of a sheet turned a little, or taken at a slant,
 * shows the table in a corner or along an edge as a triangle, which is solid ink and read as a sure
 * 1 (and shorter along the edge than the strips dropped below). Component i is one when it lies
 * flush along an image edge (touching it along SLIVER_FLUSH of its own extent there), fills
 * SLIVER_FILL of its box or more, is solid from the edge (SLIVER_SOLID of its ink reached from the
 * edge without crossing paper), and tapers away along the edge: its depth from the edge at one end
 * a SLIVER_TAPER part of that at the other at most. A digit cropped tightly and flush along an edge
 * keeps its width (a 1), or has paper between the edge and some of its strokes (a marker's 7, whose
 * bar lies along the edge and fills much of its box). */
#define SLIVER_FLUSH 0.9
#define SLIVER_FILL 0.4
#define SLIVER_TAPER 0.4
#define SLIVER_SOLID 0.95 /* of its ink reached straight from the edge: a 7's stem lies beyond paper */
#define SLIVER_MIN 8 /* pixels along the edge, at least */

static int sliver(const nn__components *c, int64_t i, int64_t w, int64_t h, int *oom_hit)
{
    const nn__comp *cp = &c->comps[i];
    const int32_t bw = cp->x1 - cp->x0, bh = cp->y1 - cp->y0;
    *oom_hit = 0;
    if (cp->x0 > 0 && cp->y0 > 0 && cp->x1 < w && cp->y1 < h) return 0;
    if ((double)cp->area < SLIVER_FILL * (double)bw * (double)bh) return 0;
    uint8_t *bits = calloc((size_t)bw * (size_t)bh, 1);
    int32_t *depth = malloc((size_t)(bw > bh ? bw : bh) * sizeof *depth);
    if (!bits || !depth) {
        free(bits);
        free(depth);
        *oom_hit = 1;
        return 0;
    }
    for (int32_t k = 0; k < cp->count; k++) {
        const nn__run *r = &c->runs[c->order[cp->first + k]];
        memset(bits + (size_t)(r->y - cp->y0) * (size_t)bw + (size_t)(r->x0 - cp->x0), 1,
               (size_t)(r->x1 - r->x0));
    }
    int found = 0;
    /* Edges: left, right, top, bottom; along the left and right edges position p is a row. */
    const int touches[4] = {cp->x0 == 0, cp->x1 == w, cp->y0 == 0, cp->y1 == h};
    for (int e = 0; e < 4 && !found; e++) {
        if (!touches[e]) continue;
        const int rows = e < 2;
        const int32_t len = rows ? bh : bw, deep = rows ? bw : bh;
        if (len < SLIVER_MIN) continue;
        int32_t contact = 0;
        int64_t reached = 0;
        for (int32_t p = 0; p < len; p++) {
            int32_t d = 0;
            for (; d < deep; d++) {
                const int32_t q = (e == 0 || e == 2) ? d : deep - 1 - d;
                const size_t at =
                    rows ? (size_t)p * (size_t)bw + (size_t)q : (size_t)q * (size_t)bw + (size_t)p;
                if (!bits[at]) break;
            }
            depth[p] = d;
            contact += d > 0;
            reached += d;
        }
        if ((double)contact < SLIVER_FLUSH * len || (double)reached < SLIVER_SOLID * (double)cp->area)
            continue;
        const int32_t quarter = len / 4 > 0 ? len / 4 : 1;
        double first = 0, last = 0;
        for (int32_t p = 0; p < quarter; p++) first += depth[p], last += depth[len - 1 - p];
        found = (first < last ? first : last) <= SLIVER_TAPER * (first > last ? first : last);
    }
    free(bits);
    free(depth);
    return found;
}

/* Whether a blob is a solid patch rather than strokes (a stamp, a logo, a blacked-out box): at least
 * SOLID_PX high, filling SOLID_FILL of its box, with runs of ink as long as half its height. */
static int solid(const nn__comp *cp)
{
    const double bw = cp->x1 - cp->x0, bh = cp->y1 - cp->y0;
    return bh >= SOLID_PX && cp->count > 0 && (double)cp->area >= SOLID_FILL * bw * bh &&
           (double)cp->area / (double)cp->count >= SOLID_RUN * bh;
}

/* H: the height below and above which half the ink's area lies, over groups of components (each
 * component alone before merging) that are not horizontal lines (wider than 8 times their height)
 * and, with skip_edges, do not lie along a quarter of an edge of the image or more. 0 when there
 * are none, -1 when out of memory. */
static double median_height(const nn__components *c, int64_t w, int64_t h, int skip_edges, int64_t skip)
{
    nn__sort_key *keys = malloc((size_t)(c->ncomps ? c->ncomps : 1) * sizeof *keys);
    if (!keys) return -1;
    int64_t m = 0;
    double total = 0;
    /* Solid patches hold much ink and no writing: left out while two blobs of strokes as high as a
     * patch may be remain (not dust: digits all drawn solid, in a heavy marker, stay H's). */
    for (int with_solid = 0, strokes = 0; with_solid < 2 && strokes < 2; with_solid++) {
        m = 0, total = 0;
        for (int64_t i = 0; i < c->ncomps; i++) {
            const nn__comp *cp = &c->comps[i];
            if (cp->group != i || i == skip || (cp->x1 - cp->x0) > 8 * (cp->y1 - cp->y0)) continue;
            const int patch = solid(cp);
            if (!with_solid && patch) continue;
            double share = 0;
            if (skip_edges) edge_contact(c, i, w, h, &share);
            if (share >= EDGE_SUSPECT) continue;
            keys[m++] = (nn__sort_key){(double)(cp->y1 - cp->y0), 0, i};
            total += (double)cp->area;
            strokes += !patch && cp->y1 - cp->y0 >= SOLID_PX;
        }
    }
    double median = 0, acc = 0;
    qsort(keys, (size_t)m, sizeof *keys, nn__sort_key_cmp);
    for (int64_t j = 0; j < m; j++) {
        acc += (double)c->comps[keys[j].i].area;
        if (acc >= total / 2) {
            median = keys[j].k1;
            break;
        }
    }
    free(keys);
    return median;
}

/* The pen's width in pixels into *pen_px and over PEN_TYPICAL H, at most 1, into *share: the median
 * length of the runs of ink of the blobs as high as a digit (a stroke's width across, where strokes
 * stand upright or slant; a 7's bar, a few long runs, moves it little). The speck areas are for a pen
 * a tenth of H wide; a fine pen's 1, 3 pixels by 200, holds less ink than a speck may, and the flag
 * of its 5 less than a fragment. */
static nn_status pen_of(const nn__components *c, double H, double *share, double *pen_px)
{
    *share = 1;
    *pen_px = 0;
    int64_t *count = calloc(PEN_BINS + 1, sizeof *count), total = 0;
    if (!count) return oom();
    for (int64_t i = 0; i < c->ncomps; i++) {
        const nn__comp *cp = &c->comps[i];
        if (cp->group != i || (double)(cp->y1 - cp->y0) < MIN_HEIGHT * H || (double)(cp->y1 - cp->y0) > LINE_LENGTH * H)
            continue;
        for (int32_t k = 0; k < cp->count; k++) {
            const nn__run *r = &c->runs[c->order[cp->first + k]];
            count[r->x1 - r->x0 < PEN_BINS ? r->x1 - r->x0 : PEN_BINS]++;
            total++;
        }
    }
    for (int64_t len = 0, seen = 0; total > 0 && len <= PEN_BINS; len++)
        if ((seen += count[len]) * 2 >= total) {
            *pen_px = (double)len;
            break;
        }
    free(count);
    const double pen = *pen_px / (PEN_TYPICAL * H);
    if (*pen_px > 0 && pen < 1) *share = pen;
    return NN_OK;
}

static int mergeable(const nn__comp *a, const nn__comp *b, double H)
{
    double wa = a->x1 - a->x0, wb = b->x1 - b->x0;
    double overlap = (double)((a->x1 < b->x1 ? a->x1 : b->x1) - (a->x0 > b->x0 ? a->x0 : b->x0));
    if (overlap < MERGE_OVERLAP * (wa < wb ? wa : wb)) return 0;
    double gap = (double)((a->y0 > b->y0 ? a->y0 : b->y0) - (a->y1 < b->y1 ? a->y1 : b->y1));
    double height = (double)((a->y1 > b->y1 ? a->y1 : b->y1) - (a->y0 < b->y0 ? a->y0 : b->y0));
    double ha = a->y1 - a->y0, hb = b->y1 - b->y0;
    /* Side by side (a 1 in the box of a 0 beside it) is two digits, however much the boxes overlap. */
    if (-gap > MERGE_SIDE * (ha < hb ? ha : hb)) return 0;
    return gap <= MERGE_GAP * H && height <= MERGE_HEIGHT * H;
}

void nn__vision_join(nn__components *c, int32_t a, int32_t b, nn__join *undo)
{
    nn__comp *ca = &c->comps[a];
    const nn__comp *cb = &c->comps[b];
    int32_t last = a;
    while (c->comps[last].next >= 0) last = c->comps[last].next;
    *undo = (nn__join){a, b, last, cb->group, ca->x0, ca->y0, ca->x1, ca->y1, ca->area};
    c->comps[last].next = b;
    for (int32_t k = b; k >= 0; k = c->comps[k].next) c->comps[k].group = a;
    if (cb->x0 < ca->x0) ca->x0 = cb->x0;
    if (cb->x1 > ca->x1) ca->x1 = cb->x1;
    if (cb->y0 < ca->y0) ca->y0 = cb->y0;
    if (cb->y1 > ca->y1) ca->y1 = cb->y1;
    ca->area += cb->area;
}

void nn__vision_unjoin(nn__components *c, const nn__join *u)
{
    nn__comp *ca = &c->comps[u->a];
    c->comps[u->a_last].next = -1;
    for (int32_t k = u->b; k >= 0; k = c->comps[k].next) c->comps[k].group = u->b_group;
    ca->x0 = u->x0;
    ca->y0 = u->y0;
    ca->x1 = u->x1;
    ca->y1 = u->y1;
    ca->area = u->area;
}

/* Component i's box and area from its runs. */
static void comp_measure(nn__components *c, int64_t i)
{
    nn__comp *cp = &c->comps[i];
    cp->x0 = cp->y0 = INT32_MAX;
    cp->x1 = cp->y1 = -1;
    cp->area = 0;
    for (int32_t r = 0; r < cp->count; r++) {
        const nn__run *run = &c->runs[c->order[cp->first + r]];
        if (run->x0 < cp->x0) cp->x0 = run->x0;
        if (run->x1 > cp->x1) cp->x1 = run->x1;
        if (run->y < cp->y0) cp->y0 = run->y;
        if (run->y + 1 > cp->y1) cp->y1 = run->y + 1;
        cp->area += run->x1 - run->x0;
    }
}

/* The neighbour of component i nearest along the line, among the digit-sized blobs that share at
 * least BRIDGE_SHARE H of its rows and lie in its upper half (above > 0) or lower half: -1 if none. */
static int64_t bridge_neighbour(const nn__components *c, int64_t i, double H, int above)
{
    const nn__comp *a = &c->comps[i];
    const double mid = (a->y0 + a->y1) / 2.0;
    int64_t best = -1;
    double best_gap = BRIDGE_REACH * H;
    for (int64_t j = 0; j < c->ncomps; j++) {
        const nn__comp *b = &c->comps[j];
        const double bh = b->y1 - b->y0, bc = (b->y0 + b->y1) / 2.0;
        if (j == i || b->group != j || bh < BRIDGE_NEIGHBOUR_MIN * H || bh > BRIDGE_NEIGHBOUR * H) continue;
        if (above ? bc >= mid || b->y1 < a->y0 + BRIDGE_SHARE * H || b->y1 > a->y1 - BRIDGE_PART * H
                  : bc <= mid || b->y0 > a->y1 - BRIDGE_SHARE * H || b->y0 < a->y0 + BRIDGE_PART * H)
            continue;
        const double gap = (double)((a->x0 > b->x0 ? a->x0 : b->x0) - (a->x1 < b->x1 ? a->x1 : b->x1));
        if (gap <= best_gap) {
            best_gap = gap;
            best = j;
        }
    }
    return best;
}

/* The boundary between the two parts of component a: top[x - a->x0] is the first row of the lower
 * part in column x. It is the cut path of touching digits side by side (cuts.c), found in the
 * component turned on its side, starting between rows lo and hi: so it parts the fewest strokes,
 * and passes between a digit and the one it touches below even where their rows overlap (the bar
 * of a 7 inside the bottom of a 0 above it). *found is 0 when no path parts it. */
static nn_status bridge_seam(int32_t *top, int *found, const nn__components *c, const nn__comp *a, int32_t lo,
                             int32_t hi, double H)
{
    const int32_t W = a->x1 - a->x0, R = a->y1 - a->y0;
    *found = 0;
    /* Turned: row x of the turned image is column a->x0 + x, its column y row a->y0 + y. */
    uint8_t *turned = calloc((size_t)W * (size_t)R, 1);
    if (!turned) return oom();
    for (int32_t r = 0; r < a->count; r++) {
        const nn__run *run = &c->runs[c->order[a->first + r]];
        for (int32_t x = run->x0; x < run->x1; x++) turned[(size_t)(x - a->x0) * R + (run->y - a->y0)] = 255;
    }
    const nn__ink ink = {.ink = turned, .level = 1, .w = R, .h = W};
    nn__components tc;
    nn_status st = nn__vision_components(&tc, &ink, R, W);
    free(turned);
    if (st != NN_OK) return st;
    nn__cuts k = {0};
    /* Pieces linked through faint ink (threshold.c) are one component without touching. */
    for (int64_t j = 1; j < tc.ncomps; j++) {
        nn__join undo;
        nn__vision_join(&tc, 0, (int32_t)j, &undo);
    }
    if (tc.ncomps > 0) {
        const nn__comp *t = &tc.comps[0];
        const nn__glyph gl = {0, t->x0, t->x1, t->x0, t->y0, t->x1, t->y1, t->area, 0, 0, 0, 0};
        st = nn__vision_cuts(&k, &gl, &tc, NULL, H, lo - a->y0, hi - a->y0, 1);
        if (st == NN_OK && k.n == 1 && k.h == W) {
            for (int32_t x = 0; x < W; x++) top[x] = a->y0 + k.x[x];
            *found = 1;
        }
    }
    nn__vision_cuts_free(&k);
    nn__vision_components_free(&tc);
    return st;
}

/* Component i cut along top[] (bridge_seam()): the pieces of its runs below the boundary become
 * component ncomps (appended), in image order; a run the boundary crosses is cut, its further
 * pieces appended to the runs. Both parts' run lists go to the end of order. */
static nn_status cut_component(nn__components *c, int64_t i, const int32_t *top)
{
    const nn__comp a = c->comps[i];
    /* A run is cut at most where the boundary crosses its row, once per column. */
    int64_t extra = 0;
    for (int32_t r = 0; r < a.count; r++) {
        const nn__run *run = &c->runs[c->order[a.first + r]];
        for (int32_t x = run->x0 + 1; x < run->x1; x++)
            extra += (run->y < top[x - 1 - a.x0]) != (run->y < top[x - a.x0]);
    }
    nn__run *runs = realloc(c->runs, (size_t)(c->nruns + extra) * sizeof *runs);
    if (!runs) return oom();
    c->runs = runs;
    int32_t *order = realloc(c->order, (size_t)(c->norder + a.count + extra) * sizeof *order);
    if (!order) return oom();
    c->order = order;
    nn__comp *comps = realloc(c->comps, (size_t)(c->ncomps + 1) * sizeof *comps);
    if (!comps) return oom();
    c->comps = comps;
    const int64_t b = c->ncomps++;
    /* Two passes over the old list: the upper part's pieces, then the lower part's. */
    int32_t *list = c->order + c->norder;
    int32_t count[2] = {0, 0};
    for (int part = 0; part < 2; part++)
        for (int32_t r = 0; r < a.count; r++) {
            const int32_t ri = c->order[a.first + r];
            const nn__run run = c->runs[ri];
            for (int32_t x = run.x0; x < run.x1;) {
                const int lower = run.y >= top[x - a.x0];
                int32_t e = x + 1;
                while (e < run.x1 && (run.y >= top[e - a.x0]) == lower) e++;
                if (lower == part) {
                    /* The run's first piece keeps its number; the others are new. */
                    const int32_t at = x == run.x0 ? ri : (int32_t)c->nruns++;
                    c->runs[at] = (nn__run){x, e, run.y, part ? (int32_t)b : (int32_t)i};
                    list[count[0] + count[1]] = at;
                    count[part]++;
                }
                x = e;
            }
        }
    c->comps[i].first = (int32_t)c->norder;
    c->comps[i].count = count[0];
    c->comps[b] = (nn__comp){0, 0, 0, 0, 0, (int32_t)c->norder + count[0], count[1], (int32_t)b, -1};
    c->norder += count[0] + count[1];
    comp_measure(c, i);
    comp_measure(c, b);
    return NN_OK;
}

/* Lines written close together: a digit touching one of the line below makes one blob two lines
 * high, which the reader would take for one digit (a 0 above a 7 reads as a 9) and which pulls
 * the two lines into one. A blob that high, with a digit of the line above beside its upper half
 * and one of the line below beside its lower half, is cut in two along the boundary of bridge_seam()
 * near the middle between the two lines. A digit this tall within one line, with its neighbours
 * higher and lower, does not qualify: their rows overlap more than two lines' do. *changed says
 * whether any blob was cut. */
static nn_status split_across_lines(nn__components *c, double H, int *changed)
{
    *changed = 0;
    const int64_t n = c->ncomps;
    nn_status st = NN_OK;
    for (int64_t i = 0; i < n && st == NN_OK; i++) {
        const nn__comp a = c->comps[i];
        if (a.group != i || a.next >= 0 || (double)(a.y1 - a.y0) < BRIDGE_HEIGHT * H) continue;
        const int64_t up = bridge_neighbour(c, i, H, 1), down = bridge_neighbour(c, i, H, 0);
        if (up < 0 || down < 0) continue;
        const nn__comp *u = &c->comps[up], *d = &c->comps[down];
        if ((double)(u->y1 - d->y0) > BRIDGE_BANDS * H) continue;
        /* Two digits high beside its neighbours too, and as wide as a digit: where strokes break
         * into pieces (a thin pen, faint ink), H is the pieces' height, and a whole digit, a long 1
         * most of all, is as high as two of them. */
        const int32_t nh = u->y1 - u->y0 > d->y1 - d->y0 ? u->y1 - u->y0 : d->y1 - d->y0;
        if (a.y1 - a.y0 < BRIDGE_HEIGHT * nh || (double)(a.x1 - a.x0) < BRIDGE_WIDTH * H) continue;
        const double target = (u->y1 + d->y0) / 2.0;
        const int32_t lo = (int32_t)ceil(fmax(target - BRIDGE_SEARCH * H, a.y0 + BRIDGE_PART * H));
        const int32_t hi = (int32_t)floor(fmin(target + BRIDGE_SEARCH * H, a.y1 - BRIDGE_PART * H));
        if (lo > hi) continue;
        int32_t *top = malloc((size_t)(a.x1 - a.x0) * sizeof *top);
        if (!top) return oom();
        int found = 0;
        st = bridge_seam(top, &found, c, &a, lo, hi, H);
        if (st == NN_OK && found) {
            int32_t *pairs = realloc(c->bridges, (size_t)(c->nbridges + 1) * 2 * sizeof *pairs);
            if (!pairs) {
                st = oom();
            } else {
                c->bridges = pairs;
                pairs[c->nbridges * 2] = (int32_t)i;
                pairs[c->nbridges * 2 + 1] = (int32_t)c->ncomps; /* the lower part, appended next */
                c->nbridges++;
            }
        }
        if (st == NN_OK && found) st = cut_component(c, i, top);
        free(top);
        *changed |= found;
    }
    return st;
}

/* The first of the n increasing positions of list greater than p (n when none). */
static int64_t first_after(const int64_t *list, int64_t n, int64_t p)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (list[mid] > p) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Merge broken digits: the group's box and area live in its first component's entry. Each piece a,
 * in order of left edges, is tried with the pieces after it that start left of its right edge. Only
 * those whose tops lie within MERGE_HEIGHT H of a's box can merge with it (the two together are at
 * most that high, however a grows), so the pieces are kept in bands of their tops, MERGE_HEIGHT H
 * high, and a looks in the few bands it can reach, in the same order: a column of thousands of blobs
 * sharing their columns (a tall image one pixel wide) is not a comparison of every pair. */
#define MERGE_BANDS_SEEN 6 /* the bands one piece can reach (4), and one each side for rounding */
static nn_status merge_pieces(nn__components *c, double H)
{
    const size_t cap = (size_t)(c->ncomps ? c->ncomps : 1);
    nn__sort_key *keys = malloc(cap * sizeof *keys);
    int64_t *list = malloc(cap * sizeof *list), *start = NULL;
    nn_status st = keys && list ? NN_OK : oom();
    const double reach = MERGE_HEIGHT * H;
    const int64_t band = reach >= 1 ? (int64_t)ceil(reach) : 1;
    for (int changed = 1; changed && st == NN_OK;) {
        changed = 0;
        int64_t m = 0, top = 0;
        for (int64_t i = 0; i < c->ncomps; i++)
            if (c->comps[i].group == i) {
                keys[m++] = (nn__sort_key){c->comps[i].x0, c->comps[i].y0, i};
                if (c->comps[i].y0 > top) top = c->comps[i].y0;
            }
        qsort(keys, (size_t)m, sizeof *keys, nn__sort_key_cmp);
        /* Positions in keys by band of their tops, each band's in increasing order. */
        const int64_t bands = top / band + 1;
        free(start);
        start = calloc((size_t)bands + 1, sizeof *start);
        if (!start) {
            st = oom();
            break;
        }
        for (int64_t p = 0; p < m; p++) start[(int64_t)keys[p].k2 / band + 1]++;
        for (int64_t b = 0; b < bands; b++) start[b + 1] += start[b];
        for (int64_t p = 0; p < m; p++) list[start[(int64_t)keys[p].k2 / band]++] = p;
        for (int64_t b = bands; b > 0; b--) start[b] = start[b - 1];
        start[0] = 0;
        for (int64_t p = 0; p < m; p++) {
            nn__comp *a = &c->comps[keys[p].i];
            if (a->group != keys[p].i) continue;
            int64_t lo = (int64_t)floor((a->y1 - reach) / (double)band) - 1,
                    hi = (int64_t)floor((a->y0 + reach) / (double)band) + 1;
            lo = lo < 0 ? 0 : lo;
            hi = hi >= bands ? bands - 1 : hi;
            if (hi - lo + 1 > MERGE_BANDS_SEEN) hi = lo + MERGE_BANDS_SEEN - 1; /* never, by the bound */
            int64_t at[MERGE_BANDS_SEEN], end[MERGE_BANDS_SEEN], nb = 0;
            for (int64_t b = lo; b <= hi; b++, nb++) {
                end[nb] = start[b + 1];
                at[nb] = start[b] + first_after(list + start[b], start[b + 1] - start[b], p);
            }
            for (;;) {
                int64_t best = -1;
                for (int64_t k = 0; k < nb; k++)
                    if (at[k] < end[k] && (best < 0 || list[at[k]] < list[at[best]])) best = k;
                if (best < 0) break;
                const int64_t q = list[at[best]++];
                if (keys[q].k1 >= a->x1) break; /* as every later piece starts further right */
                const int64_t bi = keys[q].i;
                nn__comp *b = &c->comps[bi];
                if (b->group != bi || !mergeable(a, b, H)) continue;
                nn__join undo;
                nn__vision_join(c, (int32_t)keys[p].i, (int32_t)bi, &undo);
                changed = 1;
            }
        }
    }
    free(start);
    free(list);
    free(keys);
    return st;
}

/* Split glyph i in two along the cheapest cut path (cuts.c) starting between 30% and 70% of its
 * width, the nearest the middle among equals; the parts go to the end of the list. A path costs the
 * ink it parts: so two touching 0s part at their shared wall (one stroke) rather than through a
 * hole (two strokes), slanted digits along their slant, and otherwise the cut takes the thinnest
 * joint. *split says whether it did. */
static nn_status split_glyph(nn__glyphs *gs, int64_t i, const nn__components *c, double H, int *split)
{
    nn__glyph gl = gs->g[i];
    const int32_t w = gl.x1 - gl.x0;
    *split = 0;
    int32_t from = gl.x0 + (int32_t)ceil(CUT_FROM * w), to = gl.x0 + (int32_t)floor(CUT_TO * w);
    nn__cuts k;
    nn_status st = nn__vision_cuts(&k, &gl, c, gs->cuts, H, from, to, 1);
    if (st != NN_OK || k.n == 0) {
        nn__vision_cuts_free(&k);
        return st;
    }
    const int64_t cut = nn__vision_add_cut(gs, &gl, c, k.x, gl.y0, k.h);
    nn__vision_cuts_free(&k);
    if (!cut) return NN_ERR_NO_MEMORY;
    nn__glyph left = gl, right = gl;
    left.cut_r = right.cut_l = cut;
    glyph_measure(&left, c, gs->cuts);
    glyph_measure(&right, c, gs->cuts);
    /* A part that is all of it: the path found no way through. */
    if (left.area == 0 || right.area == 0) return NN_OK;
    gs->g[i].area = 0; /* removed */
    *split = 1;
    st = push(gs, &left);
    if (st == NN_OK) st = push(gs, &right);
    return st;
}

/* Lines: glyphs taken left to right, each continuing the line whose last glyph shares most of its
 * height (so slanted lines are followed), or starting a new one; lines then ordered top to bottom by
 * their mean centre, and glyphs by line, then left to right. */
nn_status nn__vision_order(nn__glyphs *gs, double H)
{
    const int64_t n = gs->n;
    if (n == 0) {
        gs->lines = 0; /* all left out since an earlier ordering (text, step 7) */
        return NN_OK;
    }
    nn__sort_key *keys = malloc((size_t)n * sizeof *keys);
    int64_t *last = malloc((size_t)n * sizeof *last);
    double *ysum = calloc((size_t)n, sizeof *ysum);
    int64_t *cnt = calloc((size_t)n, sizeof *cnt), *rank = malloc((size_t)n * sizeof *rank);
    nn__glyph *sorted = malloc((size_t)n * sizeof *sorted);
    nn_status st = NN_OK;
    if (!keys || !last || !ysum || !cnt || !rank || !sorted) {
        st = oom();
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        keys[i] = (nn__sort_key){(double)gs->g[i].x0 + gs->g[i].x1, (double)gs->g[i].y0 + gs->g[i].y1, i};
    qsort(keys, (size_t)n, sizeof *keys, nn__sort_key_cmp);
    int64_t lines = 0;
    for (int64_t k = 0; k < n; k++) {
        nn__glyph *g = &gs->g[keys[k].i];
        int64_t best = -1;
        double best_share = LINE_OVERLAP;
        for (int64_t l = 0; l < lines; l++) {
            const nn__glyph *p = &gs->g[last[l]];
            double ov = (double)((g->y1 < p->y1 ? g->y1 : p->y1) - (g->y0 > p->y0 ? g->y0 : p->y0));
            double hmin = (double)((g->y1 - g->y0) < (p->y1 - p->y0) ? (g->y1 - g->y0) : (p->y1 - p->y0));
            double share = ov / hmin;
            if (share >= best_share && (best < 0 || share > best_share)) {
                best = l;
                best_share = share;
            }
        }
        int attached = 0;
        if (best < 0 && (double)(g->y1 - g->y0) < LINE_SMALL * H) {
            int64_t most = 0;
            for (int64_t l = 0; l < lines; l++) {
                const nn__glyph *p = &gs->g[last[l]];
                int64_t ov = (g->y1 < p->y1 ? g->y1 : p->y1) - (g->y0 > p->y0 ? g->y0 : p->y0);
                if (ov > most) {
                    most = ov;
                    best = l;
                    attached = 1;
                }
            }
        }
        if (best < 0) best = lines++;
        if (!attached) last[best] = keys[k].i; /* the line goes on from its last full glyph */
        g->line = best;
        ysum[best] += (g->y0 + g->y1) / 2.0;
        cnt[best]++;
    }
    for (int64_t l = 0; l < lines; l++) keys[l] = (nn__sort_key){ysum[l] / (double)cnt[l], 0, l};
    qsort(keys, (size_t)lines, sizeof *keys, nn__sort_key_cmp);
    for (int64_t l = 0; l < lines; l++) rank[keys[l].i] = l;
    for (int64_t i = 0; i < n; i++) {
        gs->g[i].line = rank[gs->g[i].line];
        keys[i] = (nn__sort_key){(double)gs->g[i].line, (double)gs->g[i].x0 + gs->g[i].x1, i};
    }
    qsort(keys, (size_t)n, sizeof *keys, nn__sort_key_cmp);
    for (int64_t i = 0; i < n; i++) sorted[i] = gs->g[keys[i].i];
    memcpy(gs->g, sorted, (size_t)n * sizeof *sorted);
    gs->lines = lines;
done:
    free(keys);
    free(last);
    free(ysum);
    free(cnt);
    free(rank);
    free(sorted);
    return st;
}

/* Whether digit d shares a quarter of blob s's rows or more. */
static int beside_digit(const nn__comp *d, const nn__comp *s)
{
    const int32_t shared = (d->y1 < s->y1 ? d->y1 : s->y1) - (d->y0 > s->y0 ? d->y0 : s->y0);
    return shared >= SMALL_APART * (s->y1 - s->y0);
}

/* Whether merging would join blob b, above or below blob a, to it, b lying within SMALL_STACK of a's
 * height: as the pieces of a digit broken across. */
static int stacked(const nn__comp *a, const nn__comp *b, double H)
{
    const double gap = (double)((a->y0 > b->y0 ? a->y0 : b->y0) - (a->y1 < b->y1 ? a->y1 : b->y1));
    return mergeable(a, b, H) && gap <= SMALL_STACK * (a->y1 - a->y0);
}

/* Lines of digits written smaller than H allows (a title above them, three times their size, makes H
 * its own height): blobs lower than a digit that stand in a row of their own are set aside for a
 * reading of their own (out->small), and every blob lower than a digit within their box dropped
 * from this one, where merging by H would stack the digits of two such lines into one. */
static nn_status small_lines(nn__glyphs *out, nn__components *c, double H, int min_size)
{
    const size_t nc = (size_t)(c->ncomps ? c->ncomps : 1);
    nn__sort_key *keys = malloc(nc * sizeof *keys);
    /* The blobs digit-sized, then those lower (at the other end), and the rows' links. */
    int64_t *chain = malloc(nc * sizeof *chain), *blobs = malloc(nc * sizeof *blobs);
    if (!keys || !chain || !blobs) {
        free(keys);
        free(chain);
        free(blobs);
        return oom();
    }
    const double low = SMALL_MIN * H > SMALL_MIN_PX ? SMALL_MIN * H : SMALL_MIN_PX;
    int64_t m = 0, digits = 0, lows = 0;
    for (int64_t i = 0; i < c->ncomps; i++) {
        const nn__comp *cp = &c->comps[i];
        if (cp->group != i) continue;
        const double cw = cp->x1 - cp->x0, ch = cp->y1 - cp->y0;
        if (ch >= MIN_HEIGHT * H) {
            /* a line (a rule, a table's side) is no digit beside the blobs it crosses */
            if (ch <= LINE_LENGTH * H && !(cw > LINE_LENGTH * H && ch < LINE_THIN * H)) blobs[digits++] = i;
        } else if (cp->x1 - cp->x0 >= min_size || cp->y1 - cp->y0 >= min_size)
            blobs[nc - 1 - lows++] = i;
    }
    /* Past SMALL_MAX blobs of either size the image is a texture, refused later for its count: the
     * comparisons below grow with their product. */
    int64_t candidates = 0;
    for (int64_t i = 0; i < c->ncomps && digits <= SMALL_MAX && lows <= 4 * SMALL_MAX && candidates <= SMALL_MAX;
         i++) {
        const nn__comp *cp = &c->comps[i];
        const double cw = cp->x1 - cp->x0, ch = cp->y1 - cp->y0;
        if (cp->group != i || ch >= MIN_HEIGHT * H || ch < low || ch < min_size || cw > SMALL_WIDE * ch) continue;
        candidates++;
        int near = 0;
        for (int64_t j = 0; j < digits && !near; j++) near = beside_digit(&c->comps[blobs[j]], cp);
        if (!near) keys[m++] = (nn__sort_key){cp->x0, cp->y0, i};
    }
    if (candidates > SMALL_MAX || digits > SMALL_MAX || lows > 4 * SMALL_MAX) m = 0;
    qsort(keys, (size_t)m, sizeof *keys, nn__sort_key_cmp);
    /* Rows left to right: each blob continues the row whose last blob shares half the lower's rows,
     * is of a like height and near enough; chain[k] is the next blob of k's row, -1 at its end, and
     * keys[k].k2 marks a blob taken (1) or the first of a row (2). */
    for (int64_t k = 0; k < m; k++) chain[k] = -1, keys[k].k2 = 0;
    int32_t bx0 = INT32_MAX, by0 = INT32_MAX, bx1 = -1, by1 = -1;
    double hsum = 0;
    int64_t hcount = 0;
    for (int64_t k = 0; k < m; k++) {
        if (keys[k].k2 != 0) continue;
        keys[k].k2 = 2;
        int64_t last = k, n = 1, thin = 0, pieces = 0;
        for (int64_t q = k + 1; q < m; q++) {
            const nn__comp *a = &c->comps[keys[last].i], *b = &c->comps[keys[q].i];
            const double ha = a->y1 - a->y0, hb = b->y1 - b->y0, hi = ha > hb ? ha : hb, lo = ha < hb ? ha : hb;
            const double shared = (double)((a->y1 < b->y1 ? a->y1 : b->y1) - (a->y0 > b->y0 ? a->y0 : b->y0));
            if (b->x0 - a->x1 > SMALL_GAP * SMALL_SAME * ha) break; /* and every later one */
            if (keys[q].k2 != 0 || shared < 0.5 * lo || hi > SMALL_SAME * lo || b->x0 - a->x1 > SMALL_GAP * hi)
                continue;
            chain[last] = q;
            keys[q].k2 = 1;
            last = q;
            n++;
        }
        for (int64_t q = k; q >= 0 && n >= SMALL_COUNT; q = chain[q]) {
            const nn__comp *a = &c->comps[keys[q].i];
            thin += (double)a->area <= SMALL_FILL * (double)(a->x1 - a->x0) * (double)(a->y1 - a->y0);
            /* Its other piece may be lower than a digit too, or not (a break near the top). */
            int piece = 0;
            for (int64_t j = 0; j < digits && !piece; j++) piece = stacked(a, &c->comps[blobs[j]], H);
            for (int64_t j = 0; j < lows && !piece; j++)
                piece = blobs[nc - 1 - j] != keys[q].i && stacked(a, &c->comps[blobs[nc - 1 - j]], H);
            pieces += piece;
        }
        if (n < SMALL_COUNT || 2 * thin < n || 3 * pieces >= n) continue;
        for (int64_t q = k; q >= 0; q = chain[q]) {
            const nn__comp *a = &c->comps[keys[q].i];
            bx0 = a->x0 < bx0 ? a->x0 : bx0, by0 = a->y0 < by0 ? a->y0 : by0;
            bx1 = a->x1 > bx1 ? a->x1 : bx1, by1 = a->y1 > by1 ? a->y1 : by1;
            hsum += a->y1 - a->y0;
            hcount++;
        }
    }
    free(keys);
    free(chain);
    free(blobs);
    if (hcount == 0) return NN_OK;
    out->small_height = hsum / (double)hcount;
    out->small[0] = bx0, out->small[1] = by0, out->small[2] = bx1, out->small[3] = by1;
    for (int64_t i = 0; i < c->ncomps; i++) {
        nn__comp *cp = &c->comps[i];
        if (cp->group == i && (double)(cp->y1 - cp->y0) < MIN_HEIGHT * H && cp->x0 >= bx0 && cp->x1 <= bx1 &&
            cp->y0 >= by0 && cp->y1 <= by1)
            cp->group = -1;
    }
    return NN_OK;
}

/* Whether r's ink lies on all four sides of box b: on b's middle row left and right of it, on its
 * middle column above and below (two strokes meeting below the digits, a V, hold a digit in their box
 * but not within them). */
static int encloses(const nn__components *c, const nn__comp *r, const nn__comp *b)
{
    const int32_t my = (b->y0 + b->y1) / 2, mx = (b->x0 + b->x1) / 2;
    int sides = 0;
    for (int32_t k = 0; k < r->count && sides != 15; k++) {
        const nn__run *run = &c->runs[c->order[r->first + k]];
        if (run->y == my) sides |= (run->x0 < b->x0) | (run->x1 > b->x1) << 1;
        if (run->x0 <= mx && mx < run->x1) sides |= (run->y < b->y0) << 2 | (run->y >= b->y1) << 3;
    }
    return sides == 15;
}

/* Whether r's ink lies along the ellipse its box holds: RING_ON of it between RING_NEAR and RING_FAR
 * times the ellipse's size from its centre. An outline font's 8 or 6 holds its holes' outlines as a
 * ring holds digits, but its own outline pinches at the waist or curls into the hook. */
static int elliptic(const nn__components *c, const nn__comp *r)
{
    const double cx = 0.5 * (r->x0 + r->x1), cy = 0.5 * (r->y0 + r->y1), a = 0.5 * (r->x1 - r->x0),
                 b = 0.5 * (r->y1 - r->y0);
    int64_t on = 0;
    for (int32_t k = 0; k < r->count; k++) {
        const nn__run *run = &c->runs[c->order[r->first + k]];
        const double dy = (run->y + 0.5 - cy) / b;
        for (int32_t x = run->x0; x < run->x1; x++) {
            const double dx = (x + 0.5 - cx) / a, d2 = dx * dx + dy * dy;
            on += d2 >= RING_NEAR * RING_NEAR && d2 <= RING_FAR * RING_FAR;
        }
    }
    return (double)on >= RING_ON * (double)r->area;
}

/* A ring drawn around digits (a circled answer, a number ringed on a form) would be read as a 0, and
 * holding more ink than they, make H its own height and the digits inside too low to be digits. A
 * blob is such a ring when it is hollow (its ink at most RING_FILL of its box) and its box holds a
 * blob at least RING_INNER of its height whole, away from its edges, with its ink on all four sides
 * of it, along the ellipse in its box; the largest RING_TRIED hollow blobs are looked at, each
 * against every blob. A 0 written twice over, its inner loop apart, loses its outer loop and still
 * reads 0. */
static void rings(nn__components *c)
{
    int64_t cand[RING_TRIED], nc = 0;
    for (int64_t i = 0; i < c->ncomps; i++) {
        const nn__comp *cp = &c->comps[i];
        const double bw = cp->x1 - cp->x0, bh = cp->y1 - cp->y0;
        if (cp->group != i || bh < RING_PX || (double)cp->area > RING_FILL * bw * bh) continue;
        int64_t at = nc < RING_TRIED ? nc++ : RING_TRIED;
        const double box = bw * bh;
        while (at > 0) { /* by box area, largest first; equal ones in index order */
            const nn__comp *q = &c->comps[cand[at - 1]];
            if ((double)(q->x1 - q->x0) * (double)(q->y1 - q->y0) >= box) break;
            if (at < RING_TRIED) cand[at] = cand[at - 1];
            at--;
        }
        if (at < RING_TRIED) cand[at] = i;
    }
    for (int64_t k = 0; k < nc; k++) {
        nn__comp *r = &c->comps[cand[k]];
        const int32_t m = (r->y1 - r->y0) / 16 + 1; /* inside by more than the ring's own stroke, roughly */
        int shape = -1;                            /* elliptic(), once asked */
        for (int64_t i = 0; i < c->ncomps; i++) {
            const nn__comp *cp = &c->comps[i];
            if (cp->group != i || i == cand[k] || cp->x0 < r->x0 + m || cp->x1 > r->x1 - m || cp->y0 < r->y0 + m ||
                cp->y1 > r->y1 - m || (double)(cp->y1 - cp->y0) < RING_INNER * (double)(r->y1 - r->y0) ||
                !encloses(c, r, cp))
                continue;
            if (shape < 0) shape = elliptic(c, r);
            if (shape) r->group = -1;
            break;
        }
    }
}

/* A barcode is a row of solid upright bars of several widths, their tops level to a pixel or two and
 * each close to the next: read, it is a line of sure 1s. Such a row of BARCODE_BARS or more is
 * dropped. A row of written 1s is neither so level nor so close, nor of such different widths, and
 * a printed 1 has its flag. */
static nn_status barcodes(nn__components *c)
{
    nn__sort_key *bars = malloc((size_t)(c->ncomps ? c->ncomps : 1) * sizeof *bars);
    int64_t chain[BARCODE_LOOK + 1];
    if (!bars) return oom();
    int64_t n = 0;
    for (int64_t i = 0; i < c->ncomps; i++) {
        const nn__comp *cp = &c->comps[i];
        const double bw = cp->x1 - cp->x0, bh = cp->y1 - cp->y0;
        if (cp->group == i && bh >= BARCODE_PX && bw <= BARCODE_THIN * bh &&
            (double)cp->area >= BARCODE_FILL * bw * bh)
            bars[n++] = (nn__sort_key){(double)cp->x0, 0, i};
    }
    qsort(bars, (size_t)n, sizeof *bars, nn__sort_key_cmp);
    for (int64_t a = 0; a < n; a++) {
        const nn__comp *first = &c->comps[bars[a].i];
        if (first->group < 0) continue;
        int64_t len = 0;
        chain[len++] = bars[a].i;
        for (int64_t b = a + 1; b < n && b <= a + BARCODE_LOOK; b++) {
            const nn__comp *cur = &c->comps[chain[len - 1]], *q = &c->comps[bars[b].i];
            const double hc = cur->y1 - cur->y0, hq = q->y1 - q->y0;
            if ((double)(q->x0 - cur->x1) > BARCODE_GAP * hc) break;
            if (q->group < 0 || q->x0 < cur->x1 || q->y1 <= cur->y0 || q->y0 >= cur->y1) continue; /* not beside */
            if (fabs((double)(q->y0 - cur->y0)) > fmax(2.0, BARCODE_LEVEL * hc) || hq > BARCODE_SAME * hc ||
                hc > BARCODE_SAME * hq)
                break;
            chain[len++] = bars[b].i;
        }
        int32_t narrow = INT32_MAX, wide = 0; /* a code's bars are of several widths; a row of 1s, of one */
        for (int64_t k = 0; k < len; k++) {
            const int32_t bw = c->comps[chain[k]].x1 - c->comps[chain[k]].x0;
            narrow = bw < narrow ? bw : narrow, wide = bw > wide ? bw : wide;
        }
        if (len >= BARCODE_BARS && (double)wide >= BARCODE_WIDTHS * (double)narrow)
            for (int64_t k = 0; k < len; k++) c->comps[chain[k]].group = -1;
    }
    free(bars);
    return NN_OK;
}

/* Writing's blobs lie side by side, their boxes covering a part of the image once; the long strokes
 * of a hatching, a grille or wood grain lie across each other's boxes, and the steps after this one
 * work over each glyph's box (normalising it, cutting it): 400 parallel strokes across a
 * 12-megapixel image took minutes, and their height was taken for the digits'. While the boxes
 * cover the image more than this many times over, the largest blob is dropped: the strokes go, the
 * digits among them stay. */
#define TEXTURE_COVER 4.0

static double comp_box(const nn__comp *cp) { return (double)(cp->x1 - cp->x0) * (double)(cp->y1 - cp->y0); }

/* Larger box first; equal boxes in their order, so that no libc's qsort decides. */
static int by_box(const void *a, const void *b)
{
    const nn__comp *ca = *(const nn__comp *const *)a, *cb = *(const nn__comp *const *)b;
    const double x = comp_box(ca), y = comp_box(cb);
    return x < y ? 1 : x > y ? -1 : (ca > cb) - (ca < cb);
}

static nn_status drop_texture(nn__components *c, int64_t w, int64_t h)
{
    const double most = TEXTURE_COVER * (double)w * (double)h;
    double sum = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < c->ncomps; i++)
        if (c->comps[i].group >= 0) sum += comp_box(&c->comps[i]), n++;
    if (sum <= most) return NN_OK;
    nn__comp **by = malloc((size_t)n * sizeof *by);
    if (!by) return oom();
    n = 0;
    for (int64_t i = 0; i < c->ncomps; i++)
        if (c->comps[i].group >= 0) by[n++] = &c->comps[i];
    qsort(by, (size_t)n, sizeof *by, by_box);
    for (int64_t k = 0; k < n && sum > most; k++) {
        sum -= comp_box(by[k]);
        by[k]->group = -1;
    }
    free(by);
    return NN_OK;
}

nn_status nn__vision_segment(nn__glyphs *out, nn__components *c, int64_t w, int64_t h, int min_size,
                             int merge, int split, double split_ratio)
{
    memset(out, 0, sizeof *out);
    /* Specks, absolutely; and wedges of what lies beyond the paper. */
    for (int64_t i = 0; i < c->ncomps; i++) {
        nn__comp *cp = &c->comps[i];
        int failed = 0;
        if (cp->x1 - cp->x0 < min_size && cp->y1 - cp->y0 < min_size) cp->group = -1;
        else if (sliver(c, i, w, h, &failed))
            cp->group = -1;
        if (failed) return oom();
    }
    nn_status tst = drop_texture(c, w, h);
    if (tst != NN_OK) return tst;
    rings(c);
    nn_status bst = barcodes(c);
    if (bst != NN_OK) return bst;
    /* What lies beyond the paper: a photo of a sheet often takes in the table or desk beside it, darker
     * than the paper and so ink, one blob far larger than the digits, which would make H its own height
     * and the digits specks. Measured without the ink along the image's edge, H tells it from a
     * digit cropped tightly (which may touch an edge too, but along no more than its own size). It is
     * trusted only when at least two blobs away from the edge are as high as half of it: in a tight
     * crop every digit may touch an edge, and a dot beside them (a decimal point, dust) would be H
     * alone, and the digits dropped. Where nothing else is left, the ink along the edge is all there
     * is to read. */
    double H0 = median_height(c, w, h, 1, -1);
    if (H0 < 0) return oom();
    int64_t inside = 0;
    for (int64_t i = 0; i < c->ncomps && H0 > 0 && inside < 2; i++) {
        double share;
        if (c->comps[i].group == i && edge_contact(c, i, w, h, &share) == 0 &&
            (double)(c->comps[i].y1 - c->comps[i].y0) >= 0.5 * H0)
            inside++;
    }
    for (int64_t i = 0; i < c->ncomps && inside >= 2; i++) {
        double share;
        if (c->comps[i].group == i && (double)edge_contact(c, i, w, h, &share) > LINE_LENGTH * H0 &&
            share >= EDGE_SUSPECT)
            c->comps[i].group = -1;
    }
    double H = median_height(c, w, h, 0, -1);
    if (H < 0) return oom();
    out->height = H;
    if (H == 0) return NN_OK;
    /* A blob longer than a digit may be a thin line crossing digits: the line is taken out. A long
     * line holds more ink than a few digits, and H may then be its own height: when the blob of
     * most ink is that long beside the height measured without it, that height is the digits'. */
    nn_status st = NN_OK;
    int64_t largest = -1;
    for (int64_t i = 0; i < c->ncomps; i++)
        if (c->comps[i].group == i && (largest < 0 || c->comps[i].area > c->comps[largest].area)) largest = i;
    double Hs = largest >= 0 ? median_height(c, w, h, 0, largest) : 0;
    if (Hs < 0) return oom();
    if (Hs == 0 || Hs > H ||
        (c->comps[largest].y1 - c->comps[largest].y0 <= LINE_LENGTH * Hs &&
         c->comps[largest].x1 - c->comps[largest].x0 <= LINE_LENGTH * Hs))
        Hs = H;
    int stripped = 0;
    for (int64_t i = 0, n0 = c->ncomps; i < n0 && st == NN_OK; i++) {
        const nn__comp *cp = &c->comps[i];
        const double cw = cp->x1 - cp->x0, ch = cp->y1 - cp->y0;
        int done = 0;
        /* A line running off the image at both ends is long whatever the image's size: the larger
         * scales read only the box around the digits (docs/predict.md, step 9). */
        const int across = (cp->y0 == 0 && cp->y1 == h && ch > CROSSING_CLIPPED * Hs) ||
                           (cp->x0 == 0 && cp->x1 == w && cw > CROSSING_CLIPPED * Hs && ch >= LINE_THIN * Hs);
        const int long_blob = ch > LINE_LENGTH * Hs || (cw > LINE_LENGTH * Hs && ch >= LINE_THIN * Hs);
        if (cp->group == i && (long_blob || across)) st = nn__vision_strip_thin(c, i, Hs, &done);
        stripped |= done;
    }
    if (st == NN_OK && stripped) {
        H = median_height(c, w, h, 0, -1);
        if (H < 0) return oom();
        out->height = H;
        if (H == 0) return NN_OK;
    }
    if (st == NN_OK) st = small_lines(out, c, H, min_size);
    /* Specks and lines, relative to H and the pen; the larger specks kept aside as fragments. */
    double pen_share = 1, pen = 0;
    if (st == NN_OK) st = pen_of(c, H, &pen_share, &pen);
    out->pen = pen;
    for (int64_t i = 0; i < c->ncomps && st == NN_OK; i++) {
        nn__comp *cp = &c->comps[i];
        const double cw = cp->x1 - cp->x0, ch = cp->y1 - cp->y0;
        if (cp->group != i) continue;
        /* Scaled for blobs of the text's pen only: a hair or fibre thinner than it stays a speck. */
        const double k = cp->count > 0 && (double)cp->area / (double)cp->count >= PEN_SAME * pen ? pen_share : 1;
        const double speck = SPECK_AREA * k * H * H, fragment = FRAGMENT_AREA * k * H * H;
        if ((double)cp->area < speck && (double)cp->area >= fragment) {
            nn__glyph gl = {(int32_t)i, cp->x0, cp->x1, cp->x0, cp->y0, cp->x1, cp->y1, cp->area, 0, 0, 0, 0};
            st = push_fragment(out, &gl);
        }
        const int patch = solid(cp) && (ch > SOLID_DROP * H || (ch > SOLID_FLAT_DROP * H && (double)cp->area >= SOLID_FLAT * cw * ch));
        if ((double)cp->area < speck || ch > LINE_LENGTH * H || patch ||
            (cw > LINE_LENGTH * H && ch < LINE_THIN * H))
            cp->group = -1;
    }
    /* Merging twice: H measured on the pieces of broken digits is too small for the whole, so it
     * is measured again on what the first round merged. */
    if (merge && st == NN_OK) {
        st = merge_pieces(c, H);
        double H2 = st == NN_OK ? median_height(c, w, h, 0, -1) : 0;
        if (H2 < 0) st = oom();
        if (st == NN_OK && H2 > H) {
            H = H2;
            st = merge_pieces(c, H);
        }
        out->height = H;
    }
    /* After merging, so that the neighbours a blob two lines high is measured against are whole
     * digits, not the pieces of broken ones. */
    int bridged = 0;
    if (st == NN_OK) st = split_across_lines(c, H, &bridged);
    if (st == NN_OK && bridged) {
        H = median_height(c, w, h, 0, -1);
        if (H < 0) return oom();
        out->height = H;
    }
    if (st != NN_OK) return st;

    for (int64_t i = 0; i < c->ncomps && st == NN_OK; i++) {
        const nn__comp *cp = &c->comps[i];
        if (cp->group != i) continue;
        nn__glyph gl = {(int32_t)i, cp->x0, cp->x1, cp->x0, cp->y0, cp->x1, cp->y1, cp->area, 0, 0, 0, 0};
        st = push(out, &gl);
    }
    if (st == NN_OK && split) {
        /* Parts are appended and visited in turn, so a part still too wide is split again; each cut
         * takes at least 30% off, so this ends. */
        for (int64_t i = 0; i < out->n && st == NN_OK; i++) {
            const nn__glyph *g = &out->g[i];
            int done = 0;
            if ((double)(g->x1 - g->x0) > split_ratio * H) st = split_glyph(out, i, c, H, &done);
        }
    }
    /* Drop what was split away; set aside what is too low to be a digit. */
    int64_t kept = 0;
    for (int64_t i = 0; i < out->n && st == NN_OK; i++) {
        const nn__glyph *g = &out->g[i];
        if (g->area == 0) continue;
        if ((double)(g->y1 - g->y0) >= MIN_HEIGHT * H) out->g[kept++] = *g;
        else st = push_fragment(out, g);
    }
    out->n = kept;
    return st;
}
