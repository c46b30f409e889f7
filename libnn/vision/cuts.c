/* Cut paths through a glyph of touching digits, and the pieces between them. A cut is not a straight
 * column: it is the cheapest path from the top row of the glyph's box to its bottom row, moving at
 * most one column per row, that parts as little ink as it can (dynamic programming over the ink, as
 * the "drop-fall" and shortest-path cuts of handwriting recognition). So two slanted digits part
 * along the slant, and a digit whose tail reaches under its neighbour keeps the tail.
 * docs/predict.md, step 6. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

/* Costs of a path, in tenths of a pixel of ink parted. Crossing a stroke costs a fixed amount
 * (stroke_cost: as much as a column of ink the glyph's height) plus its length, so that two touching 0s part
 * along their shared wall (one stroke, long) rather than through a hole (two short strokes). */
#define COST_INK 10  /* a row where the path parts two ink pixels side by side */
#define COST_STEP 1  /* a step sideways: straighter paths win among equals */
#define BAND 0.3     /* a path stays within 0.3 H of the column it starts from ... */
#define NARROW 0.1   /* ... or, for a second set of candidates, within 0.1 H ... */
#define STARTS 48    /* ... and at most 48 start columns are tried per glyph */
#define MOVED 0.25   /* two paths are one cut unless the ink between them is at least a stroke
                        0.25 H long */
#define INSIDE 0.5   /* a straighter path inside the ink for more than half its rows splits a
                        stroke lengthwise (the stem of a serif 1 into two 1s): not a cut */
#define CROSS 2      /* rows a path may lie on the wrong side of another and not cross it */

#define DROPPED INT64_MAX /* the cost of a candidate that is not a cut */

static nn_status oom(void)
{
    return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory cutting touching digits");
}

void nn__vision_cuts_free(nn__cuts *k)
{
    if (!k) return;
    free(k->x);
    free(k->cost);
    memset(k, 0, sizeof *k);
}

/* Narrows [*a, *b) on row y to what belongs to gl: its columns, and between its own cut paths. */
static void own(const nn__glyph *gl, const nn__components *c, const int32_t *cuts, int32_t y, int32_t *a, int32_t *b)
{
    if (*a < gl->cx0) *a = gl->cx0;
    if (*b > gl->cx1) *b = gl->cx1;
    if (!cuts) return;
    const int32_t gy = y - c->comps[gl->group].y0;
    if (gl->cut_l && *a < cuts[gl->cut_l - 1 + gy]) *a = cuts[gl->cut_l - 1 + gy];
    if (gl->cut_r && *b > cuts[gl->cut_r - 1 + gy]) *b = cuts[gl->cut_r - 1 + gy];
}

/* The glyph's pixels in a w x h bitmap of its box. */
static uint8_t *glyph_bits(const nn__glyph *gl, const nn__components *c, const int32_t *cuts)
{
    const int32_t w = gl->x1 - gl->x0, h = gl->y1 - gl->y0;
    uint8_t *bits = calloc((size_t)w * (size_t)h, 1);
    if (!bits) return NULL;
    for (int32_t k = gl->group; k >= 0; k = c->comps[k].next) {
        const nn__comp *cp = &c->comps[k];
        for (int32_t r = 0; r < cp->count; r++) {
            const nn__run *run = &c->runs[c->order[cp->first + r]];
            if (run->y < gl->y0 || run->y >= gl->y1) continue;
            int32_t a = run->x0 > gl->x0 ? run->x0 : gl->x0, b = run->x1 < gl->x1 ? run->x1 : gl->x1;
            own(gl, c, cuts, run->y, &a, &b);
            for (int32_t x = a; x < b; x++) bits[(int64_t)(run->y - gl->y0) * w + (x - gl->x0)] = 1;
        }
    }
    return bits;
}

typedef struct cand {
    int64_t cost;
    double mean;
    int32_t path, off; /* path: its number in paths[]; off: distance of its start from the middle,
                          which wins among equals */
} cand;

/* How far start s (column from + s x step) lies from the middle of [from, to], doubled. */
static int32_t start_off(int32_t s, int32_t from, int32_t to, int32_t step)
{
    return abs(2 * (from + s * step) - from - to);
}

static int cmp_cand(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    if (a->cost != b->cost) return a->cost < b->cost ? -1 : 1;
    if (a->off != b->off) return a->off < b->off ? -1 : 1;
    return (a->path > b->path) - (a->path < b->path);
}

/* What best_path() reads of the w x h bitmap bits, into pair and down (as it says), and the ink's
 * stroke width: 2 x area / outline, as normalize.c measures it, at least 1. */
NN_NO_COVERAGE static double ink_flags(uint8_t *pair, uint8_t *down, const uint8_t *bits, int32_t w, int32_t h)
{
    int64_t area = 0, edges = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            const int64_t i = (int64_t)y * w + x;
            const uint8_t *p = bits + i;
            pair[i] = x > 0 && p[-1] && *p;
            down[i] = y > 0 && p[-w] && *p;
            if (!*p) continue;
            area++;
            edges += (x == 0 || !p[-1]) + (x == w - 1 || !p[1]) + (y == 0 || !p[-w]) + (y == h - 1 || !p[w]);
        }
    return edges > 0 ? fmax(1.0, 2.0 * (double)area / (double)edges) : 1.0;
}

/* The cheapest path whose columns stay in [lo, hi] (a cut at column x gives x.. to the right-hand
 * piece); into path[h], its cost returned. pair[y w + x] says whether pixels x - 1 and x of row y
 * are both ink (a path there parts them), down[y w + x] whether pixels (x, y - 1) and (x, y) are
 * (a step sideways between them parts them). D (2 rows) and back (h rows) are scratch of
 * hi - lo + 1 columns. A path can only grow dearer row by row, so once every path so far costs
 * more than bound, DROPPED is returned and path[] left as it was. */
NN_NO_COVERAGE static int64_t best_path(int32_t *path, const uint8_t *pair, const uint8_t *down, int32_t w,
                                        int32_t h, int32_t lo, int32_t hi, int64_t stroke_cost, int64_t *D,
                                        int8_t *back, int64_t bound)
{
    const int32_t bw = hi - lo + 1;
    int64_t *prev = D, *cur = D + bw;
    for (int32_t y = 0; y < h; y++) {
        int64_t row_min = DROPPED;
        const uint8_t *in_row = pair + (int64_t)y * w, *in_up = y > 0 ? in_row - w : NULL;
        const uint8_t *down_row = down + (int64_t)y * w;
        int8_t *bk = back + (int64_t)y * bw;
        for (int32_t i = 0; i < bw; i++) {
            const int32_t x = lo + i;
            const int in = in_row[x];
            int64_t here = in ? COST_INK : 0, best = in ? stroke_cost : 0;
            int8_t from = 0;
            if (y > 0) {
                /* Entering ink from paper: one more stroke crossed. */
#define ENTER(xx) (in && !in_up[xx] ? stroke_cost : 0)
                best = prev[i] + ENTER(x);
                /* From column x - 1 or x + 1 above: the pixel between changes side, which parts it
                 * from the one above when both are ink. */
                if (i > 0) {
                    int64_t v = prev[i - 1] + COST_STEP + (down_row[x - 1] ? COST_INK : 0) + ENTER(x - 1);
                    if (v < best) best = v, from = -1;
                }
                if (i + 1 < bw) {
                    int64_t v = prev[i + 1] + COST_STEP + (down_row[x] ? COST_INK : 0) + ENTER(x + 1);
#undef ENTER
                    if (v < best) best = v, from = 1;
                }
            }
            cur[i] = best + here;
            bk[i] = from;
            if (best + here < row_min) row_min = best + here;
        }
        if (row_min > bound) return DROPPED;
        int64_t *t = prev;
        prev = cur;
        cur = t;
    }
    const int64_t *last = prev;
    int32_t bi = 0;
    const int32_t mid = (lo + hi) / 2;
    for (int32_t i = 1; i < bw; i++)
        if (last[i] < last[bi] || (last[i] == last[bi] && abs(lo + i - mid) < abs(lo + bi - mid))) bi = i;
    const int64_t cost = last[bi];
    for (int32_t y = h - 1; y >= 0; y--) {
        path[y] = lo + bi;
        bi += back[(int64_t)y * bw + bi];
    }
    return cost;
}

/* Whether path p is another cut than path q: the ink between them is at least `moved` pixels, and
 * p does not cross q (lying left of it on some rows and right on others, beyond CROSS rows each
 * way), which the pieces between the paths, left to right, could not follow. */
static int another_cut(const uint8_t *bits, int32_t w, int32_t h, const int32_t *p, const int32_t *q,
                       double moved)
{
    int64_t ink = 0;
    int32_t left = 0, right = 0;
    for (int32_t y = 0; y < h; y++) {
        const uint8_t *row = bits + (int64_t)y * w;
        const int32_t a = p[y] < q[y] ? p[y] : q[y], b = p[y] < q[y] ? q[y] : p[y];
        for (int32_t x = a; x < b; x++) ink += row[x];
        left += p[y] < q[y];
        right += p[y] > q[y];
    }
    return (double)ink >= moved && (left <= CROSS || right <= CROSS);
}

/* The candidates to keep, cheapest first (cands sorted), into kept: at most max_cuts, each another
 * cut than every one kept before it. Their number. */
static int32_t keep_cuts(int32_t *kept, const cand *cands, int32_t ncand, const int32_t *paths,
                         const uint8_t *bits, int32_t w, int32_t h, double moved, int max_cuts)
{
    int32_t n = 0;
    for (int32_t i = 0; i < ncand && n < max_cuts; i++) {
        int ok = cands[i].cost != DROPPED;
        const int32_t *pi = paths + (int64_t)cands[i].path * h;
        for (int32_t j = 0; j < n && ok; j++)
            ok = another_cut(bits, w, h, pi, paths + (int64_t)cands[kept[j]].path * h, moved);
        if (ok) kept[n++] = i;
    }
    return n;
}

nn_status nn__vision_cuts(nn__cuts *out, const nn__glyph *gl, const nn__components *c, const int32_t *cuts,
                          double H, int32_t from, int32_t to, int max_cuts)
{
    memset(out, 0, sizeof *out);
    const int32_t w = gl->x1 - gl->x0, h = gl->y1 - gl->y0;
    from -= gl->x0;
    to -= gl->x0;
    if (from < 1) from = 1;
    if (to > w - 1) to = w - 1;
    out->h = h;
    if (from > to || h < 1 || max_cuts < 1) return NN_OK;
    int32_t band = (int32_t)lrint(BAND * H);
    if (band < 2) band = 2;
    const int32_t bw = 2 * band + 1;
    int32_t starts = to - from + 1, step = 1;
    if (starts > STARTS) {
        step = (starts + STARTS - 1) / STARTS;
        starts = (to - from) / step + 1;
    }
    /* One cut (nn_digits_find()) is the cheapest path, which the wide band always holds. */
    int32_t narrow = (int32_t)lrint(NARROW * H);
    if (narrow < 1) narrow = 1;
    const int32_t ncand = max_cuts > 1 && narrow < band ? 2 * starts : starts;
    uint8_t *bits = glyph_bits(gl, c, cuts);
    int64_t *D = malloc(2 * (size_t)bw * sizeof *D);
    uint8_t *pair = malloc((size_t)w * (size_t)h), *down = malloc((size_t)w * (size_t)h);
    int8_t *back = malloc((size_t)h * (size_t)bw);
    int32_t *paths = malloc((size_t)ncand * (size_t)h * sizeof *paths);
    cand *cands = malloc((size_t)ncand * sizeof *cands);
    int32_t *kept = malloc((size_t)ncand * sizeof *kept);
    out->x = malloc((size_t)(max_cuts < ncand ? max_cuts : ncand) * (size_t)h * sizeof *out->x);
    out->cost = malloc((size_t)(max_cuts < ncand ? max_cuts : ncand) * sizeof *out->cost);
    nn_status st = NN_OK;
    if (!bits || !D || !pair || !down || !back || !paths || !cands || !kept || !out->x || !out->cost) {
        st = oom();
        goto done;
    }
    /* Stroke width (2 x area / outline, as normalize.c) turns the parted ink into strokes crossed. */
    const double stroke = ink_flags(pair, down, bits, w, h);
    const int64_t stroke_cost = COST_INK * (int64_t)h;
    /* One cut wanted: only the cheapest path counts, so starts are tried from the middle out (the
     * order that wins among equals) and a path dearer than the cheapest so far is given up. The
     * same cut as trying every start in full; the time saved is what the dearer starts' rows below
     * the point they pass the cheapest would have cost (a fifth of a texture's splitting). */
    const int prune = max_cuts == 1;
    int64_t cheapest = DROPPED;
    /* l and r walk out from the middle start, by what cmp_cand compares first. */
    int32_t l = (to - from) / (2 * step), r = l + 1;
    for (int32_t t = 0; t < ncand; t++) {
        int32_t s = t;
        if (prune) {
            const int left = l >= 0 && (r >= starts || start_off(l, from, to, step) <= start_off(r, from, to, step));
            s = left ? l-- : r++;
        }
        const int32_t x = from + (s % starts) * step, b = s < starts ? band : narrow;
        const int32_t lo = x - b < from ? from : x - b, hi = x + b > to ? to : x + b;
        int32_t *p = paths + (int64_t)s * h;
        int64_t cost = best_path(p, pair, down, w, h, lo, hi, stroke_cost, D, back, prune ? cheapest : DROPPED);
        if (cost == DROPPED) {
            cands[s] = (cand){cost, 0, s, start_off(s, from, to, step)};
            continue;
        }
        if (cost < cheapest) cheapest = cost;
        double sum = 0;
        int32_t inside = 0;
        for (int32_t y = 0; y < h; y++) {
            sum += p[y];
            inside += bits[(int64_t)y * w + p[y] - 1] && bits[(int64_t)y * w + p[y]];
        }
        /* Only the straighter paths: the others' long runs inside ink are walls two digits share
         * (two touching 0s), where the wide band leaves them no way around. */
        if (s >= starts && inside > INSIDE * h) cost = DROPPED;
        cands[s] = (cand){cost, sum / h, s, start_off(s % starts, from, to, step)};
    }
    /* The cheapest first; a path is kept when it parts the ink differently from every path kept
     * before it, by at least a stroke MOVED x H long. Not by how far apart the paths lie: a path
     * around a slanted 1 and one along the 1's contact with a neighbour lie close together, but
     * give the 1's foot to different sides, and only the model can tell which is right. */
    qsort(cands, (size_t)ncand, sizeof *cands, cmp_cand);
    const double moved = fmax(2.0, MOVED * H * stroke);
    const int32_t n = keep_cuts(kept, cands, ncand, paths, bits, w, h, moved, max_cuts);
    /* Left to right. A path kept may still lie up to CROSS rows on the wrong side of the one before
     * it: those rows are clamped to it, so that pieces do not overlap. */
    for (int32_t a = 1; a < n; a++)
        for (int32_t b = a; b > 0 && cands[kept[b]].mean < cands[kept[b - 1]].mean; b--) {
            int32_t t = kept[b];
            kept[b] = kept[b - 1];
            kept[b - 1] = t;
        }
    for (int32_t j = 0; j < n; j++) {
        const int32_t *p = paths + (int64_t)cands[kept[j]].path * h;
        int32_t *q = out->x + (int64_t)j * h;
        for (int32_t y = 0; y < h; y++) {
            int32_t x = gl->x0 + p[y], a = INT32_MIN, b = INT32_MAX;
            if (j > 0 && x < q[y - h]) x = q[y - h];
            own(gl, c, cuts, gl->y0 + y, &a, &b);
            q[y] = x < a ? a : x > b ? b : x;
        }
        out->cost[j] = (double)cands[kept[j]].cost / ((double)stroke_cost + COST_INK * stroke);
    }
    out->n = n;
done:
    free(bits);
    free(D);
    free(pair);
    free(down);
    free(back);
    free(paths);
    free(cands);
    free(kept);
    if (st != NN_OK) nn__vision_cuts_free(out);
    return st;
}

int64_t nn__vision_group_runs(const nn__glyph *gl, const nn__components *c)
{
    int64_t n = 0;
    for (int32_t k = gl->group; k >= 0; k = c->comps[k].next) n += c->comps[k].count;
    return n;
}

void nn__vision_piece(nn__glyph *piece, nn__components *pc, const nn__glyph *gl, const nn__components *c,
                      const int32_t *cuts, const int32_t *left, const int32_t *right)
{
    const int32_t y0 = c->comps[gl->group].y0;
    nn__comp *cp = pc->comps;
    int64_t n = 0;
    for (int32_t k = gl->group; k >= 0; k = c->comps[k].next) {
        const nn__comp *src = &c->comps[k];
        for (int32_t r = 0; r < src->count; r++) {
            const nn__run *run = &c->runs[c->order[src->first + r]];
            if (run->y < gl->y0 || run->y >= gl->y1) continue;
            int32_t a = run->x0, b = run->x1;
            own(gl, c, cuts, run->y, &a, &b);
            const int32_t y = run->y - y0;
            if (left && a < left[y]) a = left[y];
            if (right && b > right[y]) b = right[y];
            if (a >= b) continue;
            pc->runs[n] = (nn__run){a, b, run->y, 0};
            pc->order[n] = (int32_t)n;
            n++;
        }
    }
    pc->nruns = pc->norder = n;
    pc->ncomps = 1;
    *cp = (nn__comp){INT32_MAX, INT32_MAX, -1, -1, 0, 0, (int32_t)n, 0, -1};
    for (int64_t i = 0; i < n; i++) {
        const nn__run *run = &pc->runs[i];
        if (run->x0 < cp->x0) cp->x0 = run->x0;
        if (run->x1 > cp->x1) cp->x1 = run->x1;
        if (run->y < cp->y0) cp->y0 = run->y;
        if (run->y + 1 > cp->y1) cp->y1 = run->y + 1;
        cp->area += run->x1 - run->x0;
    }
    *piece = *gl;
    piece->group = 0;
    piece->area = cp->area;
    if (n == 0) {
        piece->x0 = piece->x1 = piece->cx0 = piece->cx1 = gl->x0;
        piece->y0 = piece->y1 = gl->y0;
        return;
    }
    piece->x0 = piece->cx0 = cp->x0;
    piece->x1 = piece->cx1 = cp->x1;
    piece->y0 = cp->y0;
    piece->y1 = cp->y1;
}
