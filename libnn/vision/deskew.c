/* Text lines tilted as a photo held at an angle tilts them (docs/predict.md, step 10): the tilt is
 * measured from a first reading's boxes, the part of the image around them turned level, read again,
 * and the boxes brought back. The model tolerates a digit turned by 10 degrees or so, but the reading
 * order does not: past 20 degrees one line of digits is read as two or three, and each digit leans
 * further than any the model learnt. */
#include <math.h>
#include <stdlib.h>

#include "vision.h"

/* Pairs of glyphs whose centres are at most 3 H apart and at most 45 degrees off level vote for
 * the angle between them, each with a spread of atan(0.12 H / distance): a digit's box centre sits
 * 0.1 H or so off its line (a 7's box is not a 4's), so near pairs say less than far ones. */
#define SKEW_REACH         3.0
#define SKEW_CENTRE_SPREAD 0.12
#define SKEW_STEP_DEG      0.25
#define SKEW_HALF_BINS     180 /* 45 degrees either way */
/* A level peak (under NN__DESKEW_MIN_DEG) within 5% of the highest wins: two lines of a page, one
 * level and one tilted by a writer's hand, say nothing for turning the page. */
#define SKEW_NEAR_LEVEL 0.95
/* Glyphs from half to twice the median height take part: specks, fragments and merged lines not. */
#define SKEW_MIN_HEIGHT 0.5
#define SKEW_MAX_HEIGHT 2.0
/* The first glyphs are plenty: a page of hundreds of digits tells its tilt from any few lines. */
#define SKEW_MAX_GLYPHS 256

typedef struct vote {
    double angle, spread;
    int left, right; /* the glyphs, left one first */
} vote;

nn_status nn__vision_skew(double *angle, int *lined, const int64_t *boxes, int64_t n, double H)
{
    *angle = 0;
    *lined = 0;
    if (n < 3 || !(H > 0)) return NN_OK;
    const int m = n < SKEW_MAX_GLYPHS ? (int)n : SKEW_MAX_GLYPHS;
    const double deg = 3.14159265358979323846 / 180.0;
    enum { BINS = 2 * SKEW_HALF_BINS + 1 };
    double score[BINS] = {0};
    vote *v = malloc((size_t)m * (size_t)(m - 1) / 2 * sizeof *v);
    unsigned char *side = calloc((size_t)m, 1);
    if (!v || !side) {
        free(v);
        free(side);
        return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory measuring the tilt of %d glyphs", m);
    }
    int64_t votes = 0;
    for (int i = 0; i < m; i++) {
        const int64_t *a = boxes + i * 5;
        if (a[3] < SKEW_MIN_HEIGHT * H || a[3] > SKEW_MAX_HEIGHT * H) continue;
        for (int j = 0; j < m; j++) {
            const int64_t *b = boxes + j * 5;
            if (j == i || b[3] < SKEW_MIN_HEIGHT * H || b[3] > SKEW_MAX_HEIGHT * H) continue;
            const double dx = (double)(b[0] - a[0]) + 0.5 * (double)(b[2] - a[2]),
                         dy = (double)(b[1] - a[1]) + 0.5 * (double)(b[3] - a[3]);
            const double r = hypot(dx, dy);
            if (dx <= 0 || r > SKEW_REACH * H || fabs(dy) > dx) continue;
            v[votes++] = (vote){atan2(dy, dx), atan2(SKEW_CENTRE_SPREAD * H, r), i, j};
        }
    }
    for (int k = 0; k < BINS; k++) {
        const double t = (k - SKEW_HALF_BINS) * SKEW_STEP_DEG * deg;
        for (int64_t p = 0; p < votes; p++) {
            const double z = (t - v[p].angle) / v[p].spread;
            if (z * z < 16) score[k] += exp(-0.5 * z * z);
        }
    }
    int best = SKEW_HALF_BINS;
    for (int k = 0; k < BINS; k++) best = score[k] > score[best] ? k : best;
    const int level = (int)(NN__DESKEW_MIN_DEG / SKEW_STEP_DEG);
    for (int k = SKEW_HALF_BINS - level + 1; k < SKEW_HALF_BINS + level; k++) {
        const int peak = score[k] >= score[k - 1] && score[k] >= score[k + 1];
        if (peak && score[k] > 0 && score[k] >= SKEW_NEAR_LEVEL * score[best] &&
            (abs(best - SKEW_HALF_BINS) >= level || abs(k - SKEW_HALF_BINS) < abs(best - SKEW_HALF_BINS)))
            best = k;
    }
    const double t = (best - SKEW_HALF_BINS) * SKEW_STEP_DEG * deg;
    /* Three glyphs in one line at least: one with a neighbour agreeing with the tilt on each side,
     * each within its pair's spread (two lines of two digits each are no line). */
    for (int64_t p = 0; p < votes; p++)
        if (fabs(t - v[p].angle) <= v[p].spread) {
            side[v[p].left] |= 2; /* it has a neighbour on its right */
            side[v[p].right] |= 1;
        }
    for (int i = 0; i < m; i++) *lined += side[i] == 3;
    free(v);
    free(side);
    *angle = t;
    return NN_OK;
}

/* out[i]: how far towards ink a pixel beyond the edge may go, from the n pixels px[k * step] within
 * `reach` of i: their median less twice their spread (1.5 times the interquartile range, and 2
 * levels), or more for light ink. Paper noise lies within it; a stroke the border cuts lies beyond. */
static void edge_limits(uint8_t *out, const uint8_t *px, int64_t n, int64_t step, int64_t reach,
                        int dark_on_light)
{
    int64_t hist[256] = {0}, count = 0, lo = 0, hi = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t a = i > reach ? i - reach : 0, b = n - i > reach + 1 ? i + reach + 1 : n;
        for (; hi < b; hi++, count++) hist[px[hi * step]]++;
        for (; lo < a; lo++, count--) hist[px[lo * step]]--;
        int64_t seen = 0;
        int q[3] = {0, 0, 0}, v = 0, k = 0;
        for (; v < 256 && k < 3; v++)
            for (seen += hist[v]; k < 3 && seen * 4 >= count * (k + 1); k++) q[k] = v;
        const int spread = (3 * (q[2] - q[0])) / 2 + 2, lim = dark_on_light ? q[1] - spread : q[1] + spread;
        out[i] = (uint8_t)(lim < 0 ? 0 : lim > 255 ? 255 : lim);
    }
}

nn_status nn__vision_turn(uint8_t **out, const uint8_t *px, int64_t w, int64_t h, int64_t stride,
                          const nn__turn *t, const char *who)
{
    *out = NULL;
    const int64_t W = t->out_w, Hh = t->out_h;
    uint8_t *o = malloc((size_t)(W * Hh)), *edge = malloc((size_t)(2 * (w + h)));
    if (!o || !edge) {
        free(o);
        free(edge);
        return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory turning a %lld x %lld part of the image level",
                        who, (long long)W, (long long)Hh);
    }
    /* Beyond the image its edge repeats: paper goes on as it lies there (a gradient, a shadow, its
     * texture), but a stroke the border cuts would run on as a streak joining the digits, so what
     * repeats is held to within the paper's spread along the edge. */
    uint8_t *top = edge, *bottom = top + w, *left = bottom + w, *right = left + h;
    edge_limits(top, px, w, 1, t->reach, t->dark_on_light);
    edge_limits(bottom, px + (h - 1) * stride, w, 1, t->reach, t->dark_on_light);
    edge_limits(left, px, h, stride, t->reach, t->dark_on_light);
    edge_limits(right, px + w - 1, h, stride, t->reach, t->dark_on_light);
    /* A corner's pixel repeats into both edges' regions beyond it: one limit for both, the looser,
     * or a seam runs where they meet. */
    uint8_t *corner[4][2] = {{&top[0], &left[0]},
                             {&top[w - 1], &right[0]},
                             {&bottom[0], &left[h - 1]},
                             {&bottom[w - 1], &right[h - 1]}};
    for (int k = 0; k < 4; k++) {
        const uint8_t a = *corner[k][0], b = *corner[k][1],
                      loose = t->dark_on_light ? (a < b ? a : b) : (a > b ? a : b);
        *corner[k][0] = *corner[k][1] = loose;
    }
    const double c = cos(t->angle), s = sin(t->angle);
    for (int64_t Y = 0; Y < Hh; Y++) {
        const double qy = (double)Y + 0.5 - t->out_cy;
        for (int64_t X = 0; X < W; X++) {
            const double qx = (double)X + 0.5 - t->out_cx;
            /* Pixel centres: the source point in the image's pixel-centre coordinates. */
            double u = t->cx + c * qx - s * qy - 0.5, v = t->cy + s * qx + c * qy - 0.5;
            const int out_x = u < -0.5 || u > (double)w - 0.5, out_y = v < -0.5 || v > (double)h - 0.5;
            u = u < 0 ? 0 : u > (double)(w - 1) ? (double)(w - 1) : u;
            v = v < 0 ? 0 : v > (double)(h - 1) ? (double)(h - 1) : v;
            const int64_t x0 = (int64_t)u, y0 = (int64_t)v, x1 = x0 + 1 < w ? x0 + 1 : x0,
                          y1 = y0 + 1 < h ? y0 + 1 : y0;
            const double fx = u - (double)x0, fy = v - (double)y0;
            const uint8_t *r0 = px + y0 * stride, *r1 = px + y1 * stride;
            const double t0 = r0[x0] + (r0[x1] - r0[x0]) * fx, t1 = r1[x0] + (r1[x1] - r1[x0]) * fx;
            long g = lround(t0 + (t1 - t0) * fy);
            if (out_x || out_y) {
                const int64_t xi = (int64_t)lround(u), yi = (int64_t)lround(v);
                const long lim = out_x ? (u < 1 ? left : right)[yi] : (v < 1 ? top : bottom)[xi];
                g = t->dark_on_light ? (g > lim ? g : lim) : (g < lim ? g : lim);
            }
            o[Y * W + X] = (uint8_t)g;
        }
    }
    free(edge);
    *out = o;
    return NN_OK;
}

void nn__vision_turn_plan(nn__turn *t, double angle, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
                          int64_t reach, int dark_on_light)
{
    const double c = fabs(cos(angle)), s = fabs(sin(angle)), cw = (double)(x1 - x0), ch = (double)(y1 - y0);
    t->angle = angle;
    t->reach = reach;
    t->dark_on_light = dark_on_light;
    t->cx = 0.5 * (double)(x0 + x1);
    t->cy = 0.5 * (double)(y0 + y1);
    t->out_w = (int64_t)ceil(cw * c + ch * s);
    t->out_h = (int64_t)ceil(cw * s + ch * c);
    if (t->out_w < 1) t->out_w = 1;
    if (t->out_h < 1) t->out_h = 1;
    t->out_cx = 0.5 * (double)t->out_w;
    t->out_cy = 0.5 * (double)t->out_h;
}

void nn__digits_unturn_boxes(nn_digits *d, const nn__turn *t, int64_t w, int64_t h)
{
    const double c = cos(t->angle), s = sin(t->angle);
    for (int64_t i = 0; i < d->count; i++) {
        int64_t *b = d->boxes + i * 5;
        double lo_x = INFINITY, lo_y = INFINITY, hi_x = -INFINITY, hi_y = -INFINITY;
        for (int k = 0; k < 4; k++) {
            const double qx = (double)(b[0] + (k & 1 ? b[2] : 0)) - t->out_cx,
                         qy = (double)(b[1] + (k & 2 ? b[3] : 0)) - t->out_cy;
            const double u = t->cx + c * qx - s * qy, v = t->cy + s * qx + c * qy;
            lo_x = fmin(lo_x, u), hi_x = fmax(hi_x, u), lo_y = fmin(lo_y, v), hi_y = fmax(hi_y, v);
        }
        /* The box around the turned box, within the image. */
        int64_t X0 = (int64_t)floor(lo_x), Y0 = (int64_t)floor(lo_y), X1 = (int64_t)ceil(hi_x),
                Y1 = (int64_t)ceil(hi_y);
        X0 = X0 < 0 ? 0 : X0 > w - 1 ? w - 1 : X0;
        Y0 = Y0 < 0 ? 0 : Y0 > h - 1 ? h - 1 : Y0;
        X1 = X1 > w ? w : X1 <= X0 ? X0 + 1 : X1;
        Y1 = Y1 > h ? h : Y1 <= Y0 ? Y0 + 1 : Y1;
        b[0] = X0;
        b[1] = Y0;
        b[2] = X1 - X0;
        b[3] = Y1 - Y0;
    }
}
