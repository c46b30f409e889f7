/* The slashes of a date and the parentheses of a phone number, told from the digits beside them
 * (docs/predict.md, step 11). In isolation a slash is a 1 leaning over, and a model of digits reads
 * it as one surely; beside digits it stands out by its height: drawn through the line's band, above
 * and below the digits. A digit written larger than its neighbours is as tall, so the shape decides
 * too: a single thin stroke, leaning or bowed, which no other digit is. A date's slashes drawn no
 * taller than its digits stand out by their places, parting the digits into a date's groups. */
#include <math.h>
#include <stdlib.h>

#include "vision.h"

#define SEP_MIN_ITEMS 3 /* a line of at least 3 items: the band is the median item's */
#define SEP_TALL 1.35   /* a separator is at least 1.35 times the band's height, */
#define SEP_OUT 0.12    /* and reaches beyond it above and below by 0.12 of it; */
#define SEP_THIN 8.0    /* its ink one thin stroke: lengthwise, at least 8 times the variance across, */
#define SEP_LEAN 22.0   /* leaning by 22 degrees or more from upright (a slash; most written 1s
                           lean less, and one written larger rises above the line more than below), */
#define SEP_BOW 0.06    /* or bowed by 0.06 of its length (a parenthesis): an upright straight stroke
                           is a 1 */
#define SEP_DATE_HIGH 0.8 /* a date's slash as high as its digits: at least 0.8 of the band, leaning
                             by SEP_LEAN or more, */
#define SEP_DATE_THIN 30.0 /* thinner than a printed 7, 9 or 2 leaning over (their variance along the
                              axis 15 to 21 times that across; slashes 40 to 65), */
#define SEP_DATE_MAX 10   /* a date holds at most 10 items: dd/mm/yyyy */
#define SEP_PRINT_LEAN 12.0 /* a printed date's slashes lean less (DejaVu Sans, Liberation Serif and
                               FreeSans by 17.5 degrees, Humor Sans's lower than its digits): a pair
                               leaning by 12 degrees or more, at least 0.7 of the band high, */
#define SEP_PRINT_HIGH 0.7 /* (and straight as SEP_DATE_THIN asks: printed slashes 35 to 100) */
#define SEP_PRINT_LEAN_SAME 1.5 /* and the same glyph twice: leaning alike within 1.5 degrees, */
#define SEP_PRINT_THIN_SAME 1.5 /* elongated alike within a factor 1.5 (blur and JPEG move it), */
#define SEP_PRINT_BOX_SAME 0.08 /* their boxes alike within 0.08 of their size (or 2 pixels), */
#define SEP_PRINT_MARGIN 6.0 /* leaning by 6 degrees more than the line's median item: an italic
                                font's 1s lean as much as its other digits (Times Italic's by 15) */
#define SEP_PCT_RING 0.65 /* a percent sign's rings: each at most 0.65 of the band high, */
#define SEP_PCT_EDGE 0.15 /* one at the band's top, the other at its bottom, within 0.15 of it, */
#define SEP_PCT_ROUND 4.0 /* round (elongated less than 4 times: a 0 as its font draws it), */
#define SEP_PCT_APART 0.35 /* their centres 0.35 of the band apart (Liberation Sans: 0.4), */
#define SEP_PCT_HIGH 0.8  /* with a leaning stroke between them, 0.8 of the band high */

/* The shape of the ink of a normalised 28 x 28 image: its elongation (variance along its principal
 * axis over the variance across), the axis's lean from upright in degrees, and how far the middle
 * third of its length lies from the line through its outer thirds, over its length. */
typedef struct stroke_shape {
    double thin, lean, bow;
} stroke_shape;

static stroke_shape shape_of(const float *img)
{
    const int side = 28;
    stroke_shape sh = {0, 0, 0};
    double s = 0, sx = 0, sy = 0;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            const double v = img[y * side + x];
            s += v, sx += v * x, sy += v * y;
        }
    if (!(s > 0)) return sh;
    const double mx = sx / s, my = sy / s;
    double cxx = 0, cyy = 0, cxy = 0;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            const double v = img[y * side + x], dx = x - mx, dy = y - my;
            cxx += v * dx * dx, cyy += v * dy * dy, cxy += v * dx * dy;
        }
    const double half = 0.5 * (cxx + cyy), disc = sqrt(0.25 * (cxx - cyy) * (cxx - cyy) + cxy * cxy);
    const double l1 = half + disc, l2 = half - disc;
    sh.thin = l2 > 0 ? l1 / l2 : INFINITY;
    const double phi = 0.5 * atan2(2 * cxy, cxx - cyy); /* the axis's angle from the rows, -90..90 degrees */
    sh.lean = 90.0 - fabs(phi) * 180.0 / 3.14159265358979323846;
    const double ux = cos(phi), uy = sin(phi);
    /* Length: where the ink lies along the axis (pixels above a third of full ink). */
    double t0 = INFINITY, t1 = -INFINITY;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            if (img[y * side + x] < 1.0f / 3.0f) continue;
            const double t = (x - mx) * ux + (y - my) * uy;
            t0 = t < t0 ? t : t0, t1 = t > t1 ? t : t1;
        }
    const double len = t1 - t0;
    if (!(len > 0)) return sh;
    double mid = 0, wmid = 0, ends = 0, wends = 0;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            const double v = img[y * side + x];
            if (v <= 0) continue;
            const double t = (x - mx) * ux + (y - my) * uy - 0.5 * (t0 + t1), q = (y - my) * ux - (x - mx) * uy;
            if (fabs(t) < len / 6) mid += v * q, wmid += v;
            else if (fabs(t) > len / 3) ends += v * q, wends += v;
        }
    if (wmid > 0 && wends > 0) sh.bow = fabs(mid / wmid - ends / wends) / len;
    return sh;
}

/* Whether a reading's most probable digit is a 1, as a slash reads (a leaning 7 does not). */
static int one(const float *probs)
{
    for (int k = 0; k < 10; k++)
        if (probs[k] > probs[1]) return 0;
    return 1;
}

/* Whether groups of g1, g2 and g3 digits between two slashes make a date: d/m/yy, dd/mm/yyyy and the
 * like, or yyyy/mm/dd. */
static int date_groups(int64_t g1, int64_t g2, int64_t g3)
{
    const int short1 = g1 == 1 || g1 == 2, short2 = g2 == 1 || g2 == 2, short3 = g3 == 1 || g3 == 2;
    return (short1 && short2 && (g3 == 2 || g3 == 4)) || (g1 == 4 && short2 && short3);
}

/* The number items [i, j) of at read as (their most probable digits), or -1 when there are none. */
static int64_t value_of(const nn_digits *d, const int64_t *at, int64_t i, int64_t j)
{
    int64_t v = 0;
    for (int64_t k = i; k < j; k++) v = 10 * v + nn_digits_class(d, at[k]);
    return j > i ? v : -1;
}

/* Whether the n items of at, less slashes s1 and s2, read as a possible date: its day and month, in
 * either order, 1 to 31 and 1 to 12. Two 1s at a date's places in a longer number seldom part it so
 * (`32193182` is no 32/93/82). Without a model's reading, any digits may be. */
static int possible_date(const nn_digits *d, const int64_t *at, int64_t n, int64_t s1, int64_t s2)
{
    if (!d->probs) return 1;
    const int year_first = s1 == 4;
    const int64_t a = year_first ? value_of(d, at, s1 + 1, s2) : value_of(d, at, 0, s1),
                  b = year_first ? value_of(d, at, s2 + 1, n) : value_of(d, at, s1 + 1, s2);
    return (a >= 1 && a <= 31 && b >= 1 && b <= 12) || (a >= 1 && a <= 12 && b >= 1 && b <= 31);
}

/* Whether boxes' sizes a and b agree within SEP_PRINT_BOX_SAME of the larger, or 2 pixels. */
static int alike(int64_t a, int64_t b)
{
    const double hi = (double)(a > b ? a : b), diff = (double)(a > b ? a - b : b - a);
    return diff <= fmax(2.0, SEP_PRINT_BOX_SAME * hi);
}

/* Whether two strokes (shapes si and sk, boxes bi and bk) could be a printed date's two slashes: the
 * same glyph twice, alike in lean, elongation and box. A writer's two 1s are seldom so alike in all
 * three. */
static int printed_pair(const stroke_shape *si, const stroke_shape *sk, const int64_t *bi, const int64_t *bk)
{
    return fabs(si->lean - sk->lean) <= SEP_PRINT_LEAN_SAME && si->thin <= SEP_PRINT_THIN_SAME * sk->thin &&
           sk->thin <= SEP_PRINT_THIN_SAME * si->thin && alike(bi[2], bk[2]) && alike(bi[3], bk[3]);
}

/* The lower median lean of the n items of sh but i and j. */
static double median_lean(const stroke_shape *sh, int64_t n, int64_t i, int64_t j)
{
    double v[SEP_DATE_MAX];
    int64_t m = 0;
    for (int64_t k = 0; k < n; k++) {
        if (k == i || k == j) continue;
        int64_t t = m++;
        for (; t > 0 && v[t - 1] > sh[k].lean; t--) v[t] = v[t - 1];
        v[t] = sh[k].lean;
    }
    return v[(m - 1) / 2];
}

/* A date's two slashes drawn no taller than its digits, in the line of items [a, b) still kept (band:
 * the line's median bottom less its median top): a slash is then told from a 1 by its place and its
 * lean alone. Two thin straight strokes (read as 1s, when read), each leaning by SEP_LEAN or more,
 * that part the line's other items into a date's groups; when exactly one such pair does, both go.
 * Not asked to lean more than the line's 1s: written by another hand, or slanted as much, those lean
 * as often as the slashes (a number of 6 to 10 digits loses two only when two 1s leaning so stand at
 * a date's places). A printed date's slashes lean less, but are the same glyph twice and lean more
 * than the line's digits: a pair as printed_pair() says, each leaning by SEP_PRINT_LEAN or more and
 * by SEP_PRINT_MARGIN more than the line's median other item, counts too. Returns how many went (0
 * or 2). */
static int64_t date_slashes(unsigned char *keep, const nn_digits *d, int64_t a, int64_t b, double band)
{
    int64_t at[SEP_DATE_MAX];
    int slash[SEP_DATE_MAX], printed[SEP_DATE_MAX];
    stroke_shape sh[SEP_DATE_MAX];
    int64_t n = 0;
    for (int64_t i = a; i < b; i++) {
        if (!keep[i]) continue;
        if (n == SEP_DATE_MAX) return 0;
        at[n++] = i;
    }
    if (n < 6) return 0;
    for (int64_t k = 0; k < n; k++) {
        sh[k] = shape_of(d->images + at[k] * NN_DIGITS_PIXELS);
        const double high = (double)d->boxes[at[k] * 5 + 3];
        const int read_one = !d->probs || one(d->probs + at[k] * 10);
        slash[k] = sh[k].thin >= SEP_DATE_THIN && sh[k].lean >= SEP_LEAN && high >= SEP_DATE_HIGH * band && read_one;
        printed[k] = sh[k].thin >= SEP_DATE_THIN && sh[k].lean >= SEP_PRINT_LEAN && high >= SEP_PRINT_HIGH * band &&
                     read_one;
    }
    int64_t s1 = -1, s2 = -1, pairs = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 2; (slash[i] || printed[i]) && j < n; j++) {
            const int pair = (slash[i] && slash[j]) ||
                             (printed[i] && printed[j] &&
                              printed_pair(&sh[i], &sh[j], d->boxes + at[i] * 5, d->boxes + at[j] * 5) &&
                              fmin(sh[i].lean, sh[j].lean) >= median_lean(sh, n, i, j) + SEP_PRINT_MARGIN);
            if (pair && date_groups(i, j - i - 1, n - j - 1) && possible_date(d, at, n, i, j)) s1 = i, s2 = j, pairs++;
        }
    if (pairs != 1) return 0;
    keep[at[s1]] = keep[at[s2]] = 0;
    return 2;
}

/* Whether item i (its box) is a percent sign's ring at the band's top (upper) or bottom, between the
 * line's median top and bottom. */
static int pct_ring(const nn_digits *d, int64_t i, double top, double bottom, int upper)
{
    const int64_t *bx = d->boxes + i * 5;
    const double band = bottom - top, y0 = (double)bx[1], y1 = (double)(bx[1] + bx[3]);
    if ((double)bx[3] > SEP_PCT_RING * band) return 0;
    if (upper ? fabs(y0 - top) > SEP_PCT_EDGE * band : fabs(y1 - bottom) > SEP_PCT_EDGE * band) return 0;
    return shape_of(d->images + i * NN_DIGITS_PIXELS).thin < SEP_PCT_ROUND;
}

/* Percent signs in the line of items [a, b) still kept: a small ring at the band's top, a leaning
 * stroke as high as the digits, a small ring at its bottom, one after the other and each reaching
 * over the stroke's columns (so the stroke leans forward, or it would cross them). Read as digits,
 * `50%` is `50010`. Returns how many items went. */
static int64_t percent_signs(unsigned char *keep, const nn_digits *d, int64_t a, int64_t b, double top,
                             double bottom)
{
    const double band = bottom - top;
    int64_t dropped = 0;
    for (int64_t i = a; i < b; i++) {
        int64_t k[3], n = 0;
        for (int64_t j = i; j < b && n < 3; j++)
            if (keep[j]) k[n++] = j;
        if (n < 3) break;
        const int64_t *r1 = d->boxes + k[0] * 5, *sl = d->boxes + k[1] * 5, *r2 = d->boxes + k[2] * 5;
        const stroke_shape sh = shape_of(d->images + k[1] * NN_DIGITS_PIXELS);
        if (!keep[i] || (double)sl[3] < SEP_PCT_HIGH * band || sh.thin < SEP_THIN || sh.lean < SEP_PRINT_LEAN ||
            r1[0] + r1[2] <= sl[0] || r2[0] >= sl[0] + sl[2] || r1[0] >= r2[0] ||
            !pct_ring(d, k[0], top, bottom, 1) || !pct_ring(d, k[2], top, bottom, 0) ||
            (double)(2 * r2[1] + r2[3] - 2 * r1[1] - r1[3]) < 2 * SEP_PCT_APART * band)
            continue;
        keep[k[0]] = keep[k[1]] = keep[k[2]] = 0;
        dropped += 3;
    }
    return dropped;
}

int64_t nn__digits_separators(unsigned char *keep, const nn_digits *d, int64_t *scratch)
{
    int64_t dropped = 0;
    for (int64_t a = 0; a < d->count; a++) keep[a] = 1;
    for (int64_t a = 0, b; a < d->count; a = b) {
        for (b = a; b < d->count && d->boxes[b * 5 + 4] == d->boxes[a * 5 + 4]; b++) {
        }
        const int64_t n = b - a;
        if (n < SEP_MIN_ITEMS) continue;
        int64_t *tops = scratch, *bottoms = scratch + n;
        for (int64_t i = 0; i < n; i++) {
            const int64_t *bx = d->boxes + (a + i) * 5;
            tops[i] = bx[1], bottoms[i] = bx[1] + bx[3];
        }
        qsort(tops, (size_t)n, sizeof *tops, nn__int64_cmp);
        qsort(bottoms, (size_t)n, sizeof *bottoms, nn__int64_cmp);
        const double top = (double)tops[n / 2], bottom = (double)bottoms[n / 2], band = bottom - top;
        if (!(band > 0)) continue;
        int64_t tall = 0;
        for (int64_t i = a; i < b; i++) {
            const int64_t *bx = d->boxes + i * 5;
            if ((double)bx[3] < SEP_TALL * band || (double)bx[1] > top - SEP_OUT * band ||
                (double)(bx[1] + bx[3]) < bottom + SEP_OUT * band)
                continue;
            const stroke_shape sh = shape_of(d->images + i * NN_DIGITS_PIXELS);
            if (sh.thin >= SEP_THIN && (sh.lean >= SEP_LEAN || sh.bow >= SEP_BOW)) {
                keep[i] = 0;
                tall++;
            }
        }
        dropped += tall;
        dropped += percent_signs(keep, d, a, b, top, bottom);
        /* Where tall slashes went, those of the line's date are known: its leaning 1s stay (in
         * `01/01/2020` so written, the 1s would part the rest as a date's slashes). */
        if (tall == 0) dropped += date_slashes(keep, d, a, b, band);
    }
    return dropped;
}
