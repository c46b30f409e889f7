/* One glyph into MNIST's form (LeCun et al. 1998, and the MNIST page). MNIST's digits were binary
 * NIST scans whose box was fitted into 20 x 20 with its aspect kept and anti-aliased, then placed in
 * 28 x 28 with their centre of mass at the centre. So here: the glyph's grey levels (the paper's level
 * subtracted, white on black) are resampled to a fine grid, FINE pixels to one of the 20 x 20 box, and
 * cut at the stroke's half level into a binary shape, which blur, uneven ink and the scale no longer
 * change; its strokes are thinned or thickened to MNIST's width; then its box is fitted into 20 x 20
 * by area averaging (the anti-aliasing) and its centre of mass put on pixel (14, 14), the mean centre
 * of MNIST's own digits. docs/predict.md, step 8. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

enum { SIDE = NN_DIGITS_SIDE, BOX = 20, FINE = 4, GRID = BOX * FINE };

/* Strokes thicker than this (pixels of the 20 x 20 box, as stroke_width_of() measures them) are
 * thinned to it: MNIST's 90th percentile (its median is 2.55, its 10th percentile 1.85). */
#define THICK 3.6
/* Wider than this after fitting, a shape is a filled blob rather than a pen's stroke. */
#define BLOB 8.0

/* Chamfer distances (Borgefors 1986, weights 3 and 4: within 8% of Euclidean) from every pixel to the
 * nearest pixel whose mask value is not `inside`, in thirds of a pixel; the grid's border counts as
 * such a pixel when `border` is set. d and m are w x h. */
NN_NO_COVERAGE static void chamfer(int32_t *d, const uint8_t *m, int64_t w, int64_t h, int inside, int border)
{
    const int32_t far = INT32_MAX / 2;
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            const int64_t i = y * w + x;
            if ((m[i] != 0) != (inside != 0)) {
                d[i] = 0;
                continue;
            }
            int32_t v = far;
            if (border && (x == 0 || y == 0 || x == w - 1 || y == h - 1)) v = 3;
            if (x > 0 && d[i - 1] + 3 < v) v = d[i - 1] + 3;
            if (y > 0) {
                if (d[i - w] + 3 < v) v = d[i - w] + 3;
                if (x > 0 && d[i - w - 1] + 4 < v) v = d[i - w - 1] + 4;
                if (x < w - 1 && d[i - w + 1] + 4 < v) v = d[i - w + 1] + 4;
            }
            d[i] = v;
        }
    for (int64_t y = h - 1; y >= 0; y--)
        for (int64_t x = w - 1; x >= 0; x--) {
            const int64_t i = y * w + x;
            int32_t v = d[i];
            if (v == 0) continue;
            if (x < w - 1 && d[i + 1] + 3 < v) v = d[i + 1] + 3;
            if (y < h - 1) {
                if (d[i + w] + 3 < v) v = d[i + w] + 3;
                if (x < w - 1 && d[i + w + 1] + 4 < v) v = d[i + w + 1] + 4;
                if (x > 0 && d[i + w - 1] + 4 < v) v = d[i + w - 1] + 4;
            }
            d[i] = v;
        }
}

/* Local thickness (Hildebrand & Ruegsegger 1997): for every pixel of a shape, the radius of the
 * largest disc inside the shape that covers it, in thirds of a pixel, from the inside distances d
 * (chamfer(), thirds): the discs centred on the ridge of d (pixels at least as deep as their 8
 * neighbours) are painted, the largest winning. lt and d are w x h. */
NN_NO_COVERAGE static void local_thickness(int32_t *lt, const int32_t *d, int64_t w, int64_t h)
{
    memset(lt, 0, (size_t)(w * h) * sizeof *lt);
    for (int64_t y = 1; y < h - 1; y++)
        for (int64_t x = 1; x < w - 1; x++) {
            const int64_t i = y * w + x;
            const int32_t r = d[i];
            if (r == 0 || d[i - 1] > r || d[i + 1] > r || d[i - w] > r || d[i + w] > r || d[i - w - 1] > r ||
                d[i - w + 1] > r || d[i + w - 1] > r || d[i + w + 1] > r)
                continue;
            const int64_t reach = r / 3 + 1;
            for (int64_t dy = -reach; dy <= reach; dy++) {
                const int64_t yy = y + dy;
                if (yy < 0 || yy >= h) continue;
                for (int64_t dx = -reach; dx <= reach; dx++) {
                    const int64_t xx = x + dx;
                    if (xx < 0 || xx >= w || 9 * (dx * dx + dy * dy) >= (int64_t)r * r) continue;
                    if (lt[yy * w + xx] < r) lt[yy * w + xx] = r;
                }
            }
        }
}

/* Shrinking by q < 1 is area averaging, separably: each source row into its row of tmp (dw floats)
 * first, then tmp's sh rows into dst (dw x dh). A row at a time, so that a glyph as large as the image
 * need not be held as floats. */
NN_NO_COVERAGE static void shrink_row(float *trow, int64_t dw, const float *row, int64_t sw, double q)
{
    for (int64_t X = 0; X < dw; X++) {
        const double u0 = X / q, u1 = (X + 1) / q;
        int64_t xa = (int64_t)floor(u0), xb = (int64_t)ceil(u1);
        if (xa < 0) xa = 0;
        if (xb > sw) xb = sw;
        float acc = 0;
        for (int64_t x = xa; x < xb; x++) {
            const double wt = (fmin((double)x + 1, u1) - fmax((double)x, u0)) * q;
            if (wt <= 0) continue;
            acc += (float)(wt * row[x]);
        }
        trow[X] = acc;
    }
}

NN_NO_COVERAGE static void shrink_columns(float *dst, int64_t dw, int64_t dh, const float *tmp, int64_t sh, double q)
{
    memset(dst, 0, (size_t)(dw * dh) * sizeof *dst);
    for (int64_t Y = 0; Y < dh; Y++) {
        const double v0 = Y / q, v1 = (Y + 1) / q;
        int64_t ya = (int64_t)floor(v0), yb = (int64_t)ceil(v1);
        if (ya < 0) ya = 0;
        if (yb > sh) yb = sh;
        for (int64_t y = ya; y < yb; y++) {
            const double wt = (fmin((double)y + 1, v1) - fmax((double)y, v0)) * q;
            if (wt <= 0) continue;
            for (int64_t X = 0; X < dw; X++) dst[Y * dw + X] += (float)(wt * tmp[y * dw + X]);
        }
    }
}

/* Enlarges src (sw x sh floats, pixel i spanning [i, i + 1)) to dst (dw x dh) bilinearly, source
 * coordinate u landing on q u (q >= 1). */
NN_NO_COVERAGE static void enlarge(float *dst, int64_t dw, int64_t dh, const float *src, int64_t sw, int64_t sh,
                                   double q)
{
    for (int64_t Y = 0; Y < dh; Y++) {
        double v = (Y + 0.5) / q - 0.5;
        int64_t y0 = (int64_t)floor(v);
        double fy = v - (double)y0;
        for (int64_t X = 0; X < dw; X++) {
            double u = (X + 0.5) / q - 0.5;
            int64_t x0 = (int64_t)floor(u);
            double fx = u - (double)x0, acc = 0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    int64_t xx = x0 + dx, yy = y0 + dy;
                    if (xx < 0 || yy < 0 || xx >= sw || yy >= sh) continue;
                    acc += src[yy * sw + xx] * (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
                }
            dst[Y * dw + X] = (float)acc;
        }
    }
}

/* Hollow strokes (an outline font, bubble digits) enclose *bands*: holes long and thin, the inside
 * of a stroke, where a pen's own holes (the loops of 0, 6, 8, 9, the triangle of a 4) are round or
 * oval. A hole is a band when its area is at least BAND times the square of its thickness (twice the
 * depth of its deepest pixel): a disc's is 0.8, an oval twice as high as wide 1.6, the inside of an
 * outlined 1 over 10. The thickness counted is 2 d - 1 pixels for a deepest pixel d from the ink (a
 * band k pixels wide is about k / 2 + 1 / 2 deep). bin (w x h, zero within 2 pixels of its border,
 * so that the paper around the shape is one component) is labelled into lab, queue holding the
 * flood's pixels and d the distances of the paper to the ink; the bands' area is returned, and
 * with fill set they become ink. */
#define BAND 6.0
NN_NO_COVERAGE static int64_t bands(uint8_t *bin, uint8_t *lab, int32_t *queue, int32_t *d, int64_t w, int64_t h,
                                    int fill)
{
    const int64_t n = w * h;
    chamfer(d, bin, w, h, 0, 0);
    memset(lab, 0, (size_t)n);
    int64_t total = 0;
    for (int64_t s = 0; s < n; s++) {
        if (bin[s] || lab[s]) continue;
        int64_t head = 0, tail = 0;
        int32_t deepest = 0;
        int border = 0;
        lab[s] = 1;
        queue[tail++] = (int32_t)s;
        while (head < tail) {
            const int64_t i = queue[head++], x = i % w, y = i / w;
            if (d[i] > deepest) deepest = d[i];
            if (x == 0 || y == 0 || x == w - 1 || y == h - 1) {
                border = 1;
                continue;
            }
            const int64_t nb[4] = {i - 1, i + 1, i - w, i + w};
            for (int k = 0; k < 4; k++)
                if (!bin[nb[k]] && !lab[nb[k]]) {
                    lab[nb[k]] = 1;
                    queue[tail++] = (int32_t)nb[k];
                }
        }
        /* d is in thirds of a pixel */
        double t = 2.0 * deepest / 3.0 - 1.0;
        if (t < 1) t = 1;
        if (border || (double)tail < BAND * t * t) continue;
        total += tail;
        if (fill)
            for (int64_t k = 0; k < tail; k++) bin[queue[k]] = 1;
    }
    return total;
}

/* Stroke width of a binary shape, in its pixels: 4 x the mean distance of its pixels to the outside
 * (a stroke of width k has distances spread evenly over 0 .. k / 2), from chamfer distances d. */
NN_NO_COVERAGE static double stroke_width_of(const int32_t *d, int64_t n)
{
    double sum = 0;
    int64_t cnt = 0;
    for (int64_t i = 0; i < n; i++)
        if (d[i] > 0) {
            /* a pixel's centre lies half a pixel inside its edge */
            sum += d[i] / 3.0 - 0.5;
            cnt++;
        }
    return cnt ? 4 * sum / (double)cnt : 0;
}

/* Grey levels of row y of a glyph's pixels (mask, vw x vh from (vx0, vy0) in the image) and of the
 * paler pixels around them, but not of another glyph's ink: the ink strength less the paper's, over
 * span, into row (vw floats). */
NN_NO_COVERAGE static void grey_row(float *row, int64_t y, const uint8_t *mask, int64_t vw, int64_t vh, int64_t vx0,
                                    int64_t vy0, const nn__ink *ink, double paper, double span)
{
    const int64_t W = ink->w, H = ink->h;
    for (int64_t x = 0; x < vw; x++) {
        const int64_t gx = vx0 + x, gy = vy0 + y;
        if (gx < 0 || gy < 0 || gx >= W || gy >= H) {
            row[x] = 0;
            continue;
        }
        const uint8_t v = ink->ink[gy * W + gx];
        int take = mask[y * vw + x];
        if (!take && v < ink->level)
            for (int64_t dy = -1; dy <= 1 && !take; dy++)
                for (int64_t dx = -1; dx <= 1 && !take; dx++) {
                    int64_t yy = y + dy, xx = x + dx;
                    take = yy >= 0 && yy < vh && xx >= 0 && xx < vw && mask[yy * vw + xx];
                }
        double f = take ? ((double)v - paper) / span : 0;
        row[x] = (float)(f < 0 ? 0 : f > 1 ? 1 : f);
    }
}

nn_status nn__vision_normalize(float *out, const nn__glyph *gl, const nn__components *c, const nn__ink *ink,
                               int64_t w, double stroke_width, int fill_bands, int *hollow)
{
    (void)w; /* the image's width, as ink->w */
    const int64_t W = ink->w;
    const int64_t bw = gl->x1 - gl->x0, bh = gl->y1 - gl->y0;
    /* The glyph's pixels and a ring of one pixel around them (the anti-aliased edge), as grey levels:
     * vw x vh from (vx0, vy0). */
    const int64_t vw = bw + 2, vh = bh + 2, vx0 = gl->x0 - 1, vy0 = gl->y0 - 1;
    const int64_t longer = bw > bh ? bw : bh;
    const double q = (double)GRID / (double)longer;
    /* The fine grid: the glyph's box becomes GRID pixels on its longer side; a margin around it
     * leaves room for thickening (up to a quarter of the box) and keeps a border of zeros. */
    const int64_t margin = GRID / 4 + 2;
    const int64_t fw0 = (int64_t)ceil((double)vw * q), fh0 = (int64_t)ceil((double)vh * q);
    const int64_t fw = fw0 + 2 * margin, fh = fh0 + 2 * margin, nf = fw * fh;
    const size_t nv = (size_t)(vw * vh);
    uint8_t *mask = calloc(nv, 1), *bin = calloc((size_t)nf, 1);
    /* The grey levels as floats: the whole box where it is enlarged (at most GRID pixels a side), a
     * row at a time where it is shrunk. */
    const int shrink = q < 1;
    float *val = calloc(shrink ? (size_t)vw : nv, sizeof *val), *fine = malloc((size_t)(fw0 * fh0) * sizeof *fine),
          *tmp = malloc((size_t)(fw0 * (vh > SIDE ? vh : SIDE)) * sizeof *tmp), *cov = NULL;
    int32_t *dist = malloc((size_t)nf * sizeof *dist), *lt = malloc((size_t)nf * sizeof *lt);
    uint8_t *seen = hollow || fill_bands ? malloc((size_t)nf) : NULL;
    nn_status st = NN_OK;
    if (hollow) *hollow = 0;
    if (!mask || !bin || !val || !fine || !tmp || !dist || !lt || ((hollow || fill_bands) && !seen)) {
        st = nn__fail(NN_ERR_NO_MEMORY, "nn_digits_find: out of memory normalising a %lld x %lld digit",
                      (long long)bw, (long long)bh);
        goto done;
    }

    /* The glyph's own pixels, and the ink level of its strokes (the 90th percentile). */
    int64_t hist[256] = {0}, n_ink = 0;
    for (int32_t k = gl->group; k >= 0; k = c->comps[k].next) {
        const nn__comp *cp = &c->comps[k];
        for (int32_t i = 0; i < cp->count; i++) {
            const nn__run *run = &c->runs[c->order[cp->first + i]];
            int32_t a = run->x0 > gl->cx0 ? run->x0 : gl->cx0, b = run->x1 < gl->cx1 ? run->x1 : gl->cx1;
            const uint8_t *src = ink->ink + (int64_t)run->y * W;
            for (int32_t x = a; x < b; x++) {
                mask[(run->y - vy0) * vw + (x - vx0)] = 1;
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

    /* The binary shape: the fine grid cut at half the stroke's level (a blurred edge's true place),
     * or at the threshold that found the glyph where that is lower (a hairline found as ink stays). */
    if (shrink) {
        for (int64_t y = 0; y < vh; y++) {
            grey_row(val, y, mask, vw, vh, vx0, vy0, ink, paper, span);
            shrink_row(tmp + y * fw0, fw0, val, vw, q);
        }
        shrink_columns(fine, fw0, fh0, tmp, vh, q);
    } else {
        for (int64_t y = 0; y < vh; y++) grey_row(val + y * vw, y, mask, vw, vh, vx0, vy0, ink, paper, span);
        enlarge(fine, fw0, fh0, val, vw, vh, q);
    }
    double cut = ((double)ink->level - paper) / span;
    if (!(cut < 0.5)) cut = 0.5;
    if (cut < 0.2) cut = 0.2;
    /* Strokes far thinner than the glyph is large (hairlines of a 400-pixel digit) come out of the
     * shrinking diluted, and may all fall below the cut: rather than an empty digit, the cut then
     * goes to half the darkest fine pixel, where such a stroke's edge now lies. */
    float darkest = 0;
    for (int64_t i = 0; i < fw0 * fh0; i++) darkest = fine[i] > darkest ? fine[i] : darkest;
    if (darkest > 0 && darkest < cut) cut = 0.5 * darkest;
    int64_t inked = 0;
    for (int64_t y = 0; y < fh0; y++)
        for (int64_t x = 0; x < fw0; x++) inked += bin[(y + margin) * fw + x + margin] = fine[y * fw0 + x] >= cut;

    /* A hollow digit: its bands hold at least a quarter as much as its ink (a pen's own slivers, as
     * where a 0's stroke ends past its start, hold far less). The caller decides from the whole
     * image whether to fill them. */
    if (hollow || fill_bands) {
        const int64_t banded = bands(bin, seen, lt, dist, fw, fh, fill_bands);
        if (hollow) *hollow = banded > 0 && 4 * banded >= inked;
    }

    /* Strokes to MNIST's width: measured as 4 x the mean inside distance, in fine pixels, sw; the
     * shape's longer side is L. Thinning (or thickening) by r on each side gives a width of
     * (sw - 2 r) BOX / (L - 2 r) after fitting; r makes that the target t. */
    if (stroke_width > 0) {
        int64_t bx0 = fw, bx1 = -1, by0 = fh, by1 = -1;
        for (int64_t y = 0; y < fh; y++)
            for (int64_t x = 0; x < fw; x++)
                if (bin[y * fw + x]) {
                    if (x < bx0) bx0 = x;
                    if (x > bx1) bx1 = x;
                    if (y < by0) by0 = y;
                    if (y > by1) by1 = y;
                }
        if (bx1 >= 0) {
            chamfer(dist, bin, fw, fh, 1, 1);
            /* The target: the width itself when it lies between stroke_width and THICK (about
             * MNIST's 10th and 90th percentiles: forcing every digit to the median misreads more),
             * else the nearer end of that range. */
            const double sw = stroke_width_of(dist, nf);
            const double L = (double)((bx1 - bx0 > by1 - by0 ? bx1 - bx0 : by1 - by0) + 1);
            const double lo = stroke_width, hi = stroke_width > THICK ? stroke_width : THICK, now = sw * BOX / L;
            /* A shape wider than BLOB is a filled blob rather than a pen's stroke: thinning would
             * only leave its corners behind. */
            const double t = now < lo ? lo : now > hi && now < BLOB ? hi : now;
            const double r = (BOX * sw - t * L) / (2 * (BOX - t));
            const int64_t steps = (int64_t)lround(fabs(r));
            if (r > 0) {
                /* Peeling steps layers off every side, but only where the stroke (the largest disc
                 * inside the shape covering the pixel) stays at least lo wide: the thin parts of a
                 * shape of uneven width (a hairline beside a heavy stroke) stay as they are, and no
                 * stroke is cut. Depths and radii in pixels: a boundary pixel is 1 deep. */
                const double m2 = lo * L / BOX / 2;
                local_thickness(lt, dist, fw, fh);
                for (int64_t i = 0; i < nf; i++) {
                    const double depth = dist[i] / 3.0;
                    if (bin[i] && depth <= (double)steps && depth <= lt[i] / 3.0 - m2) bin[i] = 0;
                }
            } else if (steps > 0) {
                /* Thickening: every pixel within steps of the shape (a disc, nearly). */
                const int32_t reach = (int32_t)(3 * (steps < margin - 1 ? steps : margin - 1));
                chamfer(dist, bin, fw, fh, 0, 0);
                for (int64_t i = 0; i < nf; i++) bin[i] = dist[i] <= reach;
            }
        }
    }

    /* The shape's box fitted into BOX x BOX, its centre of mass on pixel (14, 14), by area averaging. */
    int64_t bx0 = fw, bx1 = -1, by0 = fh, by1 = -1;
    double sum = 0, sx = 0, sy = 0;
    for (int64_t y = 0; y < fh; y++)
        for (int64_t x = 0; x < fw; x++)
            if (bin[y * fw + x]) {
                if (x < bx0) bx0 = x;
                if (x > bx1) bx1 = x;
                if (y < by0) by0 = y;
                if (y > by1) by1 = y;
                sum += 1;
                sx += (double)x + 0.5;
                sy += (double)y + 0.5;
            }
    memset(out, 0, NN_DIGITS_PIXELS * sizeof *out);
    if (bx1 < 0) goto done; /* nothing reached half the stroke's level: an empty image */
    const int64_t ew = bx1 - bx0 + 1, eh = by1 - by0 + 1;
    cov = malloc((size_t)(ew * eh) * sizeof *cov);
    if (!cov) {
        st = nn__fail(NN_ERR_NO_MEMORY, "nn_digits_find: out of memory normalising a %lld x %lld digit",
                      (long long)bw, (long long)bh);
        goto done;
    }
    for (int64_t y = 0; y < eh; y++)
        for (int64_t x = 0; x < ew; x++) cov[y * ew + x] = bin[(by0 + y) * fw + bx0 + x];
    const double s = BOX / (double)(ew > eh ? ew : eh);
    const double cu = sx / sum - (double)bx0, cv = sy / sum - (double)by0;
    /* Source u maps to ox + u s. Pixel 14 spans [14, 15): the centre of mass goes to 14.5, unless
     * that would push part of the digit out of the field. */
    double ox = (SIDE / 2 + 0.5) - cu * s, oy = (SIDE / 2 + 0.5) - cv * s;
    ox = fmin(fmax(ox, 0), SIDE - (double)ew * s);
    oy = fmin(fmax(oy, 0), SIDE - (double)eh * s);
    /* Area averaging, separably: each output pixel is the mean of the shape over its preimage. */
    float *t2 = tmp; /* SIDE x eh: eh <= fh0 + 2 margin; reallocated when larger */
    if ((size_t)eh * SIDE > (size_t)(fw0 * (vh > SIDE ? vh : SIDE))) {
        t2 = malloc((size_t)eh * SIDE * sizeof *t2);
        if (!t2) {
            st = nn__fail(NN_ERR_NO_MEMORY, "nn_digits_find: out of memory normalising a %lld x %lld digit",
                          (long long)bw, (long long)bh);
            goto done;
        }
    }
    memset(t2, 0, (size_t)eh * SIDE * sizeof *t2);
    for (int X = 0; X < SIDE; X++) {
        const double u0 = (X - ox) / s, u1 = (X + 1 - ox) / s;
        int64_t xa = (int64_t)floor(u0), xb = (int64_t)ceil(u1);
        if (xa < 0) xa = 0;
        if (xb > ew) xb = ew;
        for (int64_t x = xa; x < xb; x++) {
            const double wt = (fmin((double)x + 1, u1) - fmax((double)x, u0)) * s;
            if (wt <= 0) continue;
            for (int64_t y = 0; y < eh; y++) t2[y * SIDE + X] += (float)(wt * cov[y * ew + x]);
        }
    }
    for (int Y = 0; Y < SIDE; Y++) {
        const double v0 = (Y - oy) / s, v1 = (Y + 1 - oy) / s;
        int64_t ya = (int64_t)floor(v0), yb = (int64_t)ceil(v1);
        if (ya < 0) ya = 0;
        if (yb > eh) yb = eh;
        for (int64_t y = ya; y < yb; y++) {
            const double wt = (fmin((double)y + 1, v1) - fmax((double)y, v0)) * s;
            if (wt <= 0) continue;
            for (int X = 0; X < SIDE; X++) out[Y * SIDE + X] += (float)(wt * t2[y * SIDE + X]);
        }
    }
    if (t2 != tmp) free(t2);
    for (int i = 0; i < NN_DIGITS_PIXELS; i++) out[i] = out[i] < 0 ? 0 : out[i] > 1 ? 1 : out[i];
done:
    free(mask);
    free(bin);
    free(val);
    free(fine);
    free(tmp);
    free(cov);
    free(dist);
    free(lt);
    free(seen);
    return st;
}
