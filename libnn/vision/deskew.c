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
#define SKEW_NEAR_LEVEL    0.95
/* Glyphs from half to twice the median height take part: specks, fragments and merged lines not. */
#define SKEW_MIN_HEIGHT 0.5
#define SKEW_MAX_HEIGHT 2.0

double nn__vision_skew(const int64_t *boxes, int64_t n, double H, int *support)
{
    *support = 0;
    if (n < 3 || !(H > 0)) return 0;
    /* The first glyphs are plenty: a page of hundreds of digits tells its tilt from any few lines. */
    const int64_t m = n < 256 ? n : 256;
    const double pi = 3.14159265358979323846, deg = pi / 180.0;
    enum { BINS = 2 * SKEW_HALF_BINS + 1 };
    double score[BINS] = {0};
    double *ang = malloc((size_t)(m * (m - 1) / 2) * 2 * sizeof *ang);
    if (!ang) return 0; /* no tilt measured: the reading stands as it is */
    int64_t pairs = 0;
    for (int64_t i = 0; i < m; i++) {
        const int64_t *a = boxes + i * 5;
        if (a[3] < SKEW_MIN_HEIGHT * H || a[3] > SKEW_MAX_HEIGHT * H) continue;
        for (int64_t j = 0; j < m; j++) {
            const int64_t *b = boxes + j * 5;
            if (j == i || b[3] < SKEW_MIN_HEIGHT * H || b[3] > SKEW_MAX_HEIGHT * H) continue;
            const double dx = (double)(b[0] - a[0]) + 0.5 * (double)(b[2] - a[2]),
                         dy = (double)(b[1] - a[1]) + 0.5 * (double)(b[3] - a[3]);
            const double r = hypot(dx, dy);
            if (dx <= 0 || r > SKEW_REACH * H || fabs(dy) > dx) continue;
            ang[2 * pairs] = atan2(dy, dx);
            ang[2 * pairs + 1] = atan2(SKEW_CENTRE_SPREAD * H, r);
            pairs++;
        }
    }
    for (int k = 0; k < BINS; k++) {
        const double t = (k - SKEW_HALF_BINS) * SKEW_STEP_DEG * deg;
        for (int64_t p = 0; p < pairs; p++) {
            const double z = (t - ang[2 * p]) / ang[2 * p + 1];
            if (z * z < 16) score[k] += exp(-0.5 * z * z);
        }
    }
    /* The highest peak; but a peak nearer level within 5% of it wins: two lines of a page, one level
     * and one tilted by a writer's hand, say nothing for turning the page. */
    double top = 0;
    for (int k = 0; k < BINS; k++) top = score[k] > top ? score[k] : top;
    int best = SKEW_HALF_BINS;
    for (int k = 0; k < BINS; k++) {
        const int peak = (k == 0 || score[k] >= score[k - 1]) && (k == BINS - 1 || score[k] >= score[k + 1]);
        if (peak && score[k] >= SKEW_NEAR_LEVEL * top && top > 0 &&
            (score[best] < SKEW_NEAR_LEVEL * top || abs(k - SKEW_HALF_BINS) < abs(best - SKEW_HALF_BINS)))
            best = k;
    }
    const double t = (best - SKEW_HALF_BINS) * SKEW_STEP_DEG * deg;
    /* How many pairs agree with it, each within its own spread. */
    for (int64_t p = 0; p < pairs; p++) *support += fabs(t - ang[2 * p]) <= ang[2 * p + 1];
    free(ang);
    return t;
}

nn_status nn__vision_turn(uint8_t **out, const uint8_t *px, int64_t w, int64_t h, int64_t stride,
                          const nn__turn *t, const char *who)
{
    *out = NULL;
    const int64_t W = t->out_w, Hh = t->out_h;
    uint8_t *o = malloc((size_t)(W * Hh));
    if (!o)
        return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory turning a %lld x %lld part of the image level",
                        who, (long long)W, (long long)Hh);
    const double c = cos(t->angle), s = sin(t->angle);
    for (int64_t Y = 0; Y < Hh; Y++) {
        const double qy = (double)Y + 0.5 - t->out_cy;
        for (int64_t X = 0; X < W; X++) {
            const double qx = (double)X + 0.5 - t->out_cx;
            /* Pixel centres: the source point in the image's pixel-centre coordinates, clamped to
             * its edge (what lies beyond the image repeats its edge, as scales.c's enlarging does). */
            double u = t->cx + c * qx - s * qy - 0.5, v = t->cy + s * qx + c * qy - 0.5;
            u = u < 0 ? 0 : u > (double)(w - 1) ? (double)(w - 1) : u;
            v = v < 0 ? 0 : v > (double)(h - 1) ? (double)(h - 1) : v;
            const int64_t x0 = (int64_t)u, y0 = (int64_t)v, x1 = x0 + 1 < w ? x0 + 1 : x0,
                          y1 = y0 + 1 < h ? y0 + 1 : y0;
            const double fx = u - (double)x0, fy = v - (double)y0;
            const uint8_t *r0 = px + y0 * stride, *r1 = px + y1 * stride;
            const double top = r0[x0] + (r0[x1] - r0[x0]) * fx, bottom = r1[x0] + (r1[x1] - r1[x0]) * fx;
            o[Y * W + X] = (uint8_t)lround(top + (bottom - top) * fy);
        }
    }
    *out = o;
    return NN_OK;
}

void nn__vision_turn_plan(nn__turn *t, double angle, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    const double c = fabs(cos(angle)), s = fabs(sin(angle)), cw = (double)(x1 - x0), ch = (double)(y1 - y0);
    t->angle = angle;
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
