/* One glyph into MNIST's form (LeCun et al. 1998, and the MNIST page): the digit's grey levels,
 * white on black with the paper's level subtracted, its box fitted into 20 x 20 with its aspect kept
 * and anti-aliased, placed in 28 x 28 so that its centre of mass falls on pixel (14, 14), the mean
 * centre of MNIST's own digits. docs/predict.md, step 8. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

enum { SIDE = NN_DIGITS_SIDE, BOX = 20 };

/* Dilate a w x h mask by a (2r + 1)-square, separably, with running counts; tmp has w x h bytes. */
static void dilate(uint8_t *m, uint8_t *tmp, int64_t w, int64_t h, int64_t r)
{
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *in = m + y * w;
        uint8_t *o = tmp + y * w;
        int64_t cnt = 0;
        for (int64_t x = 0; x < r && x < w; x++) cnt += in[x];
        for (int64_t x = 0; x < w; x++) {
            if (x + r < w) cnt += in[x + r];
            if (x - r - 1 >= 0) cnt -= in[x - r - 1];
            o[x] = cnt > 0;
        }
    }
    for (int64_t x = 0; x < w; x++) {
        int64_t cnt = 0;
        for (int64_t y = 0; y < r && y < h; y++) cnt += tmp[y * w + x];
        for (int64_t y = 0; y < h; y++) {
            if (y + r < h) cnt += tmp[(y + r) * w + x];
            if (y - r - 1 >= 0) cnt -= tmp[(y - r - 1) * w + x];
            m[y * w + x] = cnt > 0;
        }
    }
}

nn_status nn__vision_normalize(float *out, const nn__glyph *gl, const nn__components *c, const nn__ink *ink,
                               int64_t w, double stroke_width)
{
    const int64_t bw = gl->x1 - gl->x0, bh = gl->y1 - gl->y0;
    const double longer = (double)(bw > bh ? bw : bh);
    /* Thin strokes are thickened by r pixels each side (stroke_width, below); the box grows by r. */
    const int64_t rmax = stroke_width > 0 ? (int64_t)longer / 2 : 0;
    const int64_t cw = bw + 2 * rmax, chh = bh + 2 * rmax;
    const size_t cells_max = (size_t)cw * (size_t)chh;
    uint8_t *mask = calloc(cells_max, 2);
    float *val = malloc(cells_max * sizeof *val), *tmp = calloc((size_t)chh * SIDE, sizeof *tmp);
    if (!mask || !val || !tmp) {
        free(mask);
        free(val);
        free(tmp);
        return nn__fail(NN_ERR_NO_MEMORY, "nn_digits_find: out of memory normalising a %lld x %lld digit",
                        (long long)bw, (long long)bh);
    }
    /* The glyph's own pixels (a bw x bh mask for now), and the ink level of its strokes (the 90th
     * percentile). */
    int64_t hist[256] = {0}, n_ink = 0;
    for (int32_t k = gl->group; k >= 0; k = c->comps[k].next) {
        const nn__comp *cp = &c->comps[k];
        for (int32_t i = 0; i < cp->count; i++) {
            const nn__run *run = &c->runs[c->order[cp->first + i]];
            int32_t a = run->x0 > gl->cx0 ? run->x0 : gl->cx0, b = run->x1 < gl->cx1 ? run->x1 : gl->cx1;
            const uint8_t *src = ink->ink + (int64_t)run->y * w;
            for (int32_t x = a; x < b; x++) {
                mask[(run->y - gl->y0) * bw + (x - gl->x0)] = 1;
                hist[src[x]]++;
                n_ink++;
            }
        }
    }
    int level = 255;
    for (int64_t acc = 0, v = 0; v < 256; v++) {
        acc += hist[v];
        if (acc * 10 >= n_ink * 9) {
            level = (int)v;
            break;
        }
    }
    const double paper = ink->paper, span = level > paper ? level - paper : 1;

    /* Stroke width from the area and the outline (pixel sides between ink and not), 2 A / E: a
     * stroke of width k and length L has A = k L and E = 2 (k + L). After fitting into the box it
     * is est * 20 / longer; thicken it by r pixels each side, the box growing with it, until
     * (est + 2 r) * 20 / (longer + 2 r) reaches the target. */
    int64_t r = 0;
    if (stroke_width > 0) {
        int64_t edges = 0;
        for (int64_t y = 0; y < bh; y++)
            for (int64_t x = 0; x < bw; x++) {
                if (!mask[y * bw + x]) continue;
                edges += (x == 0 || !mask[y * bw + x - 1]) + (x == bw - 1 || !mask[y * bw + x + 1]) +
                         (y == 0 || !mask[(y - 1) * bw + x]) + (y == bh - 1 || !mask[(y + 1) * bw + x]);
            }
        const double est = 2.0 * (double)n_ink / (double)edges, t = stroke_width;
        if (est * BOX / longer < t) {
            r = (int64_t)ceil((t * longer - BOX * est) / (2 * BOX - 2 * t));
            if (r < 1) r = 1;
            if (r > rmax) r = rmax;
        }
    }
    const int64_t ew = bw + 2 * r, eh = bh + 2 * r, ex0 = gl->x0 - r, ey0 = gl->y0 - r;
    const size_t cells = (size_t)ew * (size_t)eh;
    if (r > 0) /* move the mask into the grown box, last row first (the rows only move later) */
        for (int64_t y = bh - 1; y >= 0; y--)
            for (int64_t x = bw - 1; x >= 0; x--) {
                uint8_t m = mask[y * bw + x];
                mask[y * bw + x] = 0;
                mask[(y + r) * ew + x + r] = m;
            }

    if (r > 0) {
        /* Thin strokes: the thickened shape at full ink, its edges anti-aliased by the resampling. */
        dilate(mask, mask + cells, ew, eh, r);
        for (size_t i = 0; i < cells; i++) val[i] = mask[i];
    } else {
        /* Grey levels of the glyph's pixels and of the paler pixels around them (the anti-aliased
         * edge), but not of another glyph's ink. */
        for (int64_t y = 0; y < eh; y++)
            for (int64_t x = 0; x < ew; x++) {
                const uint8_t v = ink->ink[(ey0 + y) * w + ex0 + x];
                int take = mask[y * ew + x];
                if (!take && v < ink->level)
                    for (int64_t dy = -1; dy <= 1 && !take; dy++)
                        for (int64_t dx = -1; dx <= 1 && !take; dx++) {
                            int64_t yy = y + dy, xx = x + dx;
                            take = yy >= 0 && yy < eh && xx >= 0 && xx < ew && mask[yy * ew + xx];
                        }
                double f = take ? ((double)v - paper) / span : 0;
                val[y * ew + x] = (float)(f < 0 ? 0 : f > 1 ? 1 : f);
            }
    }
    /* Centre of mass, pixel centres at +0.5. */
    double sum = 0, sx = 0, sy = 0;
    for (int64_t y = 0; y < eh; y++)
        for (int64_t x = 0; x < ew; x++) {
            double v = val[y * ew + x];
            sum += v;
            sx += v * ((double)x + 0.5);
            sy += v * ((double)y + 0.5);
        }
    const double s = BOX / (double)(ew > eh ? ew : eh);
    double cu = sum > 0 ? sx / sum : ew / 2.0, cv = sum > 0 ? sy / sum : eh / 2.0;
    /* Source u maps to ox + u s. Pixel 14 spans [14, 15): the centre of mass goes to 14.5, unless
     * that would push part of the digit out of the field. */
    double ox = (SIDE / 2 + 0.5) - cu * s, oy = (SIDE / 2 + 0.5) - cv * s;
    const double tw = (double)ew * s, th = (double)eh * s;
    ox = fmin(fmax(ox, 0), SIDE - tw);
    oy = fmin(fmax(oy, 0), SIDE - th);

    /* Area averaging, separably: each output pixel is the mean of the source over its preimage. */
    for (int X = 0; X < SIDE; X++) {
        const double u0 = (X - ox) / s, u1 = (X + 1 - ox) / s;
        int64_t xa = (int64_t)floor(u0), xb = (int64_t)ceil(u1);
        if (xa < 0) xa = 0;
        if (xb > ew) xb = ew;
        for (int64_t x = xa; x < xb; x++) {
            const double wt = (fmin((double)x + 1, u1) - fmax((double)x, u0)) * s;
            if (wt <= 0) continue;
            for (int64_t y = 0; y < eh; y++) tmp[y * SIDE + X] += (float)(wt * val[y * ew + x]);
        }
    }
    memset(out, 0, NN_DIGITS_PIXELS * sizeof *out);
    for (int Y = 0; Y < SIDE; Y++) {
        const double v0 = (Y - oy) / s, v1 = (Y + 1 - oy) / s;
        int64_t ya = (int64_t)floor(v0), yb = (int64_t)ceil(v1);
        if (ya < 0) ya = 0;
        if (yb > eh) yb = eh;
        for (int64_t y = ya; y < yb; y++) {
            const double wt = (fmin((double)y + 1, v1) - fmax((double)y, v0)) * s;
            if (wt <= 0) continue;
            for (int X = 0; X < SIDE; X++) out[Y * SIDE + X] += (float)(wt * tmp[y * SIDE + X]);
        }
    }
    for (int i = 0; i < NN_DIGITS_PIXELS; i++) out[i] = out[i] < 0 ? 0 : out[i] > 1 ? 1 : out[i];
    free(mask);
    free(val);
    free(tmp);
    return NN_OK;
}
