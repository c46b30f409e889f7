/* Thin lines across the digits: a crease or fold of the paper, a pen line, the edge of another sheet.
 * Such a line joins every digit it crosses into one blob longer than any digit, which step 4 would
 * drop as a line, digits and all: the number came out short, with nothing marked. What makes the
 * line a line is that it is thinner than the digits' strokes, so its thin pixels are taken out of
 * the blob and what is left is labelled anew. docs/predict.md, step 4. */
#include <stdlib.h>
#include <string.h>

#include "vision.h"

#define OUTSIDE_MIN 0.6  /* a line runs on beyond the digits' band of H rows by 0.6 H at least (the
                            blob of two digits touching, a tail sticking out, does not; a faint
                            line may link the blob through rows without ink, threshold.c), */
#define BOTH_SIDES 0.2   /* by 0.2 H at least on each side (a pen line thickened at its end is
                            no digit), */
#define DIGITS_INK 2.0   /* and the band holds twice the ink per row of the rows outside it; */
#define THIN_MAX 0.08    /* the line (the thinnest ink of the rows outside the blob's thickest band
                            of H, in most of those rows) is at most 0.08 H thick, a stroke being 0.1
                            to 0.2 H; */
#define STROKE_SHARE 0.6 /* and at most 0.6 of the digits' strokes (the median thickness in the band), */
#define STROKE_MORE 2    /* and 2 pixels thinner at least; */
#define STROKE_BINS 256
#define KEPT_MIN 0.25    /* what is left must be a quarter of the blob at least: digits drawn as thin
                            as the line would go with it (a blob of such digits is left as it is) */

static nn_status oom(void)
{
    return nn__fail(NN_ERR_NO_MEMORY, "nn_digits_find: out of memory taking a line out of the digits");
}

static int by_u16(const void *a, const void *b)
{
    const uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

/* The components of src, each moved by (ox, oy), appended to c as components of their own. */
static nn_status append_components(nn__components *c, const nn__components *src, int32_t ox, int32_t oy)
{
    if (src->ncomps == 0) return NN_OK;
    nn__run *runs = realloc(c->runs, (size_t)(c->nruns + src->nruns) * sizeof *runs);
    if (!runs) return oom();
    c->runs = runs;
    int32_t *order = realloc(c->order, (size_t)(c->norder + src->norder) * sizeof *order);
    if (!order) return oom();
    c->order = order;
    nn__comp *comps = realloc(c->comps, (size_t)(c->ncomps + src->ncomps) * sizeof *comps);
    if (!comps) return oom();
    c->comps = comps;
    for (int64_t r = 0; r < src->nruns; r++) {
        const nn__run *s = &src->runs[r];
        c->runs[c->nruns + r] = (nn__run){s->x0 + ox, s->x1 + ox, s->y + oy, s->comp + (int32_t)c->ncomps};
    }
    for (int64_t k = 0; k < src->norder; k++) c->order[c->norder + k] = src->order[k] + (int32_t)c->nruns;
    for (int64_t k = 0; k < src->ncomps; k++) {
        nn__comp cp = src->comps[k];
        cp.x0 += ox, cp.x1 += ox, cp.y0 += oy, cp.y1 += oy;
        cp.first += (int32_t)c->norder;
        cp.group = (int32_t)(c->ncomps + k);
        cp.next = -1;
        c->comps[c->ncomps + k] = cp;
    }
    c->nruns += src->nruns;
    c->norder += src->norder;
    c->ncomps += src->ncomps;
    return NN_OK;
}

/* The thickness of the ink at each set pixel of a w x h bitmap (0 elsewhere): the shortest of the
 * runs of set pixels through it along a row, a column and the two diagonals, one of which lies
 * within 22.5 degrees of across a straight stroke, so that a line's thickness is read whatever its
 * angle (a row alone reads a steep line 2 pixels thick as 3 or 4). Capped at 65535. */
static void thickness(const uint8_t *bits, int32_t w, int32_t h, uint16_t *thick)
{
    static const int32_t dirs[4][2] = {{1, 0}, {0, 1}, {1, 1}, {1, -1}};
    for (size_t k = 0; k < (size_t)w * (size_t)h; k++) thick[k] = bits[k] ? 65535 : 0;
    for (int d = 0; d < 4; d++) {
        const int32_t dx = dirs[d][0], dy = dirs[d][1];
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                /* Each run from its first pixel: the one before it along (dx, dy) is unset. */
                const int32_t px = x - dx, py = y - dy;
                if (!bits[(size_t)y * (size_t)w + (size_t)x]) continue;
                if (px >= 0 && py >= 0 && py < h && bits[(size_t)py * (size_t)w + (size_t)px]) continue;
                int32_t len = 0;
                for (int32_t ex = x, ey = y;
                     ex < w && ey >= 0 && ey < h && bits[(size_t)ey * (size_t)w + (size_t)ex];
                     ex += dx, ey += dy)
                    len++;
                const uint16_t v = (uint16_t)(len > 65535 ? 65535 : len);
                for (int32_t k = 0, ex = x, ey = y; k < len; k++, ex += dx, ey += dy) {
                    uint16_t *t = &thick[(size_t)ey * (size_t)w + (size_t)ex];
                    if (v < *t) *t = v;
                }
            }
    }
}

nn_status nn__vision_strip_thin(nn__components *c, int64_t i, double H, int *stripped)
{
    *stripped = 0;
    const nn__comp a = c->comps[i];
    const int32_t w = a.x1 - a.x0, h = a.y1 - a.y0;
    if (a.next >= 0 || w <= 0 || h <= 0) return NN_OK;
    const size_t n = (size_t)w * (size_t)h;
    uint8_t *bits = NULL;
    uint16_t *thin = NULL;
    /* Per row: its ink; and the rows outside the band, as their ink and then their thickness. */
    int64_t *ink_in_row = calloc((size_t)h, sizeof *ink_in_row),
            *outside = malloc((size_t)h * sizeof *outside);
    uint16_t *thick = malloc((size_t)h * sizeof *thick);
    nn__components tc = {0};
    nn_status st = ink_in_row && outside && thick ? NN_OK : oom();
    if (st != NN_OK) goto done;
    for (int32_t r = 0; r < a.count; r++) {
        const nn__run *run = &c->runs[c->order[a.first + r]];
        ink_in_row[run->y - a.y0] += run->x1 - run->x0;
    }
    /* The band of H rows holding the most ink is where the digits are; what lies outside it is the
     * line, mostly, and a line across the digits runs on at both sides of them. Where the band
     * holds no more ink per row than the rest, it is a line alone (or a texture of lines, which
     * would cost the thickness below for nothing). */
    const int32_t band = H < h ? (int32_t)H : h;
    int64_t sum = 0, best = -1;
    int32_t at = 0;
    for (int32_t y = 0; y < h; y++) {
        sum += ink_in_row[y] - (y >= band ? ink_in_row[y - band] : 0);
        if (y >= band - 1 && sum > best) best = sum, at = y - band + 1;
    }
    if ((double)at < BOTH_SIDES * H || (double)(h - at - band) < BOTH_SIDES * H ||
        (double)(h - band) < OUTSIDE_MIN * H)
        goto done;
    int32_t m = 0;
    for (int32_t y = 0; y < h; y++)
        if ((y < at || y >= at + band) && ink_in_row[y] > 0) outside[m++] = ink_in_row[y];
    if (m < 3) goto done;
    qsort(outside, (size_t)m, sizeof *outside, nn__int64_cmp);
    if ((double)best < DIGITS_INK * (double)band * (double)outside[m / 2]) goto done;

    bits = calloc(n, 1);
    thin = malloc(n * sizeof *thin);
    if (!bits || !thin) {
        st = oom();
        goto done;
    }
    for (int32_t r = 0; r < a.count; r++) {
        const nn__run *run = &c->runs[c->order[a.first + r]];
        memset(bits + (size_t)(run->y - a.y0) * (size_t)w + (size_t)(run->x0 - a.x0), 1,
               (size_t)(run->x1 - run->x0));
    }
    thickness(bits, w, h, thin);
    /* The line's thickness: over the rows outside the band, the median of each row's thickest ink. */
    m = 0;
    for (int32_t y = 0; y < h; y++) {
        if ((y >= at && y < at + band) || ink_in_row[y] == 0) continue;
        uint16_t t = 0;
        for (int32_t x = 0; x < w; x++) {
            const uint16_t v = thin[(size_t)y * (size_t)w + (size_t)x];
            if (v > t) t = v;
        }
        thick[m++] = t;
    }
    qsort(thick, (size_t)m, sizeof *thick, by_u16);
    const uint16_t T = thick[m / 2];
    if ((double)T > THIN_MAX * H) goto done;
    /* The digits' strokes must be thicker than the line: the median thickness of the band's ink
     * (an outline font's digits, drawn with lines as thin, are left as they are). */
    int64_t hist[STROKE_BINS] = {0}, count = 0;
    for (int32_t y = at; y < at + band; y++)
        for (int32_t x = 0; x < w; x++) {
            const uint16_t v = thin[(size_t)y * (size_t)w + (size_t)x];
            if (v) hist[v < STROKE_BINS ? v : STROKE_BINS - 1]++, count++;
        }
    int32_t stroke = 0;
    for (int64_t acc = 0; stroke < STROKE_BINS - 1 && (acc += hist[stroke]) * 2 < count;) stroke++;
    if ((double)T > STROKE_SHARE * stroke || stroke < T + STROKE_MORE) goto done;
    /* Out go the pixels no thicker than the line; a digit's stroke is thicker, also where the line
     * crosses it. */
    int64_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        if (bits[k] && thin[k] <= T) bits[k] = 0;
        kept += bits[k];
        bits[k] = bits[k] ? 255 : 0;
    }
    if ((double)kept < KEPT_MIN * (double)a.area) goto done;
    const nn__ink ink = {.ink = bits, .level = 1, .w = w, .h = h};
    st = nn__vision_components(&tc, &ink, w, h);
    if (st == NN_OK) st = append_components(c, &tc, a.x0, a.y0);
    if (st == NN_OK) {
        c->comps[i].group = -1;
        *stripped = 1;
    }
done:
    nn__vision_components_free(&tc);
    free(bits);
    free(thin);
    free(ink_in_row);
    free(outside);
    free(thick);
    return st;
}
