#include "reject.h"

#include <math.h>
#include <string.h>

enum { BOX = 20 }; /* MNIST's digits were fitted into 20 x 20 */

typedef struct box {
    int64_t x0, y0, x1, y1; /* ink at columns x0 .. x1 - 1, rows y0 .. y1 - 1; x1 == 0 when none */
} box;

/* The ink box (pixels above level) of the part of a (w wide) inside r; x1 == 0 when it holds none. */
static box ink_box_in(const float *a, int64_t w, box r, float level)
{
    box b = {r.x1, r.y1, 0, 0};
    for (int64_t y = r.y0; y < r.y1; y++)
        for (int64_t x = r.x0; x < r.x1; x++)
            if (a[y * w + x] > level) {
                if (x < b.x0) b.x0 = x;
                if (y < b.y0) b.y0 = y;
                if (x + 1 > b.x1) b.x1 = x + 1;
                if (y + 1 > b.y1) b.y1 = y + 1;
            }
    return b;
}

static box ink_box(const float *a, int64_t h, int64_t w, float level)
{
    return ink_box_in(a, w, (box){0, 0, w, h}, level);
}

/* The part of src (w wide) inside b, its top left at (x, y) of dst (dw x dh), by maximum. */
static void paste(float *dst, int64_t dh, int64_t dw, const float *src, int64_t w, box b, int64_t x, int64_t y)
{
    for (int64_t r = b.y0; r < b.y1; r++)
        for (int64_t c = b.x0; c < b.x1; c++) {
            const int64_t tx = x + c - b.x0, ty = y + r - b.y0;
            if (tx < 0 || ty < 0 || tx >= dw || ty >= dh) continue;
            const float v = src[r * w + c];
            if (v > dst[ty * dw + tx]) dst[ty * dw + tx] = v;
        }
}

/* How much of source cell [i, i + 1) lies in [a, b). */
static double overlap(int64_t i, double a, double b)
{
    const double lo = a > (double)i ? a : (double)i, hi = b < (double)(i + 1) ? b : (double)(i + 1);
    return hi > lo ? hi - lo : 0;
}

int nnm_reject_normalize(float *out, int64_t side, const float *canvas, int64_t h, int64_t w, float *tmp)
{
    float peak = 0;
    for (int64_t i = 0; i < h * w; i++)
        if (canvas[i] > peak) peak = canvas[i];
    if (!(peak > 0)) return -1;
    const box b = ink_box(canvas, h, w, 0.1f * peak);
    const int64_t bw = b.x1 - b.x0, bh = b.y1 - b.y0;
    const double s = (double)BOX / (double)(bw > bh ? bw : bh);
    int64_t ow = (int64_t)lround((double)bw * s), oh = (int64_t)lround((double)bh * s);
    if (ow < 1) ow = 1;
    if (oh < 1) oh = 1;
    /* Area averaging: each output pixel is the mean of the canvas under its footprint. */
    const double fx = (double)bw / (double)ow, fy = (double)bh / (double)oh;
    float *fit = tmp; /* oh x ow, at most 20 x 20; then the result, as large, after it */
    float top = 0;
    for (int64_t v = 0; v < oh; v++) {
        const double ya = (double)b.y0 + (double)v * fy, yb = ya + fy;
        for (int64_t u = 0; u < ow; u++) {
            const double xa = (double)b.x0 + (double)u * fx, xb = xa + fx;
            double acc = 0;
            for (int64_t y = (int64_t)floor(ya); y < (int64_t)ceil(yb) && y < h; y++) {
                const double wy = overlap(y, ya, yb);
                for (int64_t x = (int64_t)floor(xa); x < (int64_t)ceil(xb) && x < w; x++)
                    acc += wy * overlap(x, xa, xb) * canvas[y * w + x];
            }
            fit[v * ow + u] = (float)(acc / (fx * fy));
            if (fit[v * ow + u] > top) top = fit[v * ow + u];
        }
    }
    /* A shape shrunk to under 3/4 has strokes thinner and fainter than MNIST's, which the model would
     * learn to tell apart instead of the shape (nn_digits_read() brings every piece to MNIST's stroke
     * width): thickened by the maximum over each pixel's 4 neighbours, and brought back to full ink. */
    float *o = tmp + oh * ow; /* out stays untouched until the result is known to hold ink */
    double sum = 0, sx = 0, sy = 0;
    for (int64_t v = 0; v < oh; v++)
        for (int64_t u = 0; u < ow; u++) {
            float val = fit[v * ow + u];
            if (s < 0.75) {
                if (u > 0 && fit[v * ow + u - 1] > val) val = fit[v * ow + u - 1];
                if (u + 1 < ow && fit[v * ow + u + 1] > val) val = fit[v * ow + u + 1];
                if (v > 0 && fit[(v - 1) * ow + u] > val) val = fit[(v - 1) * ow + u];
                if (v + 1 < oh && fit[(v + 1) * ow + u] > val) val = fit[(v + 1) * ow + u];
            }
            if (top > 0 && peak > top) val = val * peak / top;
            if (val > 1) val = 1;
            o[v * ow + u] = val;
            sum += val;
            sx += val * (double)u;
            sy += val * (double)v;
        }
    if (!(sum > 0)) return -1; /* ink too faint to survive the averaging */
    /* Centre of mass on pixel (side / 2, side / 2), as nn_digits_find() places it. */
    const int64_t dx = (int64_t)lround((double)(side / 2) - sx / sum), dy = (int64_t)lround((double)(side / 2) - sy / sum);
    memset(out, 0, (size_t)(side * side) * sizeof *out);
    for (int64_t v = 0; v < oh; v++)
        for (int64_t u = 0; u < ow; u++) {
            const int64_t ty = v + dy, tx = u + dx;
            if (ty >= 0 && tx >= 0 && ty < side && tx < side) out[ty * side + tx] = o[v * ow + u];
        }
    return 0;
}

void nnm_reject_batch(float *x, float *y, const float *in, int64_t n, int64_t rows, int64_t cols, double share,
                      float *scratch, nn_rng *rng, const uint8_t *keep)
{
    const int64_t px = rows * cols, cw = 3 * cols;
    float *canvas = scratch, *tmp = scratch + rows * cw;
    for (int64_t k = 0; k < n; k++) {
        if ((double)nn_rng_uniform(rng) >= share) continue;
        float *a = x + k * px;
        const box ba = ink_box(a, rows, cols, 0.2f);
        int pair = (int)nn_rng_below(rng, 2) == 0;
        const int64_t j = n > 1 ? (k + 1 + (int64_t)nn_rng_below(rng, (uint64_t)(n - 1))) % n : k;
        const double t = (double)nn_rng_uniform(rng);
        const int64_t shift = (int64_t)nn_rng_below(rng, 5) - 2;
        const int left = (int)nn_rng_below(rng, 2);
        if (ba.x1 == 0 || (keep && keep[k])) continue;
        const int64_t wa = ba.x1 - ba.x0, ha = ba.y1 - ba.y0;
        box part = ba;
        if (!pair) {
            const int64_t cut = ba.x0 + (int64_t)lround((0.3 + 0.4 * t) * (double)wa);
            if (left) part.x1 = cut;
            else part.x0 = cut;
            /* A part as narrow as a 1 (the stem of a 4, a 1 cut down its length) may well be a 1:
             * taught as "not one digit", it would teach the model to doubt every 1. */
            const box pb = part.x1 > part.x0 ? ink_box_in(a, cols, part, 0.2f) : (box){0, 0, 0, 0};
            if (pb.x1 == 0 || (double)(pb.x1 - pb.x0) < 0.4 * (double)(pb.y1 - pb.y0)) pair = 1;
        }
        if (pair && n < 2) continue;
        memset(canvas, 0, (size_t)(rows * cw) * sizeof *canvas);
        if (pair) {
            const float *bimg = in + j * px;
            const box bb = ink_box(bimg, rows, cols, 0.2f);
            if (bb.x1 == 0) continue;
            const int64_t hb = bb.y1 - bb.y0, hmax = ha > hb ? ha : hb;
            /* From overlapping by 0.3 of the height to a gap of 0.1: touching or nearly. */
            int64_t at = wa + (int64_t)lround((-0.3 + 0.4 * t) * (double)hmax);
            if (at < wa / 3 + 1) at = wa / 3 + 1;
            int64_t yb = (rows - hb) / 2 + shift;
            if (yb < 0) yb = 0;
            if (yb > rows - hb) yb = rows - hb;
            paste(canvas, rows, cw, a, cols, ba, 0, (rows - ha) / 2);
            paste(canvas, rows, cw, bimg, cols, bb, at, yb);
        } else {
            paste(canvas, rows, cw, a, cols, part, 0, (rows - ha) / 2);
        }
        if (nnm_reject_normalize(a, rows, canvas, rows, cw, tmp) == 0) y[k] = (float)NNM_REJECT_CLASS;
    }
}
