/* Background, polarity and threshold: from the caller's grey pixels to an "ink strength" image that
 * is 0 on paper and grows with the ink's contrast, the same way round for pen on paper and chalk on a
 * board, and (adaptive) under uneven light. docs/predict.md, steps 1 and 2. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

/* Tiles for the paper's level: about 12 along the longer side, at least 32 pixels. Larger tiles
 * (8, 64: the first choice) cannot follow a shadow's edge in a small image, which then comes out as
 * ink along the border while faint digits are lost (bench-digits: 2% of the digits); a tile still
 * holds more paper than ink but for the heaviest strokes of the largest digits. */
enum { TILE_MIN = 32, TILES_LONG = 12 };

/* The first thresholding round under uneven light only measures the stroke: every this many rows. */
enum { STROKE_ROWS = 4 };

/* Paper-side quantile of a tile: a tile may hold up to 70% ink before its estimate falls on ink. */
#define PAPER_QUANTILE 0.7

/* Grain: paper's texture as a phone's noise reduction leaves it, smooth over a pixel or two, which the
 * difference of neighbours (sigma) hardly sees. Measured between pixels this far apart, where it is
 * no longer correlated, it says how far the polarity's ink must lie beyond the paper, and how far
 * ink must stand out of it at all (ink_level()): a blank sheet of such paper was thresholded into
 * thousands of specks, and a few digits in a large photo of it were read as light ink on dark.
 * The mean ink of blank grainy sheets stood 1.7 to 2.8 grains out, faint digits on the benchmark's
 * noisy paper 3.2 and more: the threshold lies between. */
enum { GRAIN = 4 };
#define GRAIN_STANDS_OUT 3.0
/* Ink edges count too, four times as often as in the neighbours' difference: where strokes follow
 * each other every few pixels (a tight crop of 1s) most pairs straddle one, and ink was taken for
 * grain and the image for blank. Grain has no direction and strokes do, so the lesser of the
 * differences along rows and along columns is taken, and at most 4 sigmas (smooth grain measured
 * 2.5 sigmas; the benchmark's blurred images up to 4). */
#define GRAIN_MAX 4.0

/* Smallest v with at least q * total values <= v. */
static int quantile(const int64_t *hist, int64_t total, double q)
{
    int64_t want = (int64_t)ceil(q * (double)total), acc = 0;
    if (want < 1) want = 1;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (acc >= want) return v;
    }
    return 255;
}

int nn__vision_otsu(const int64_t *hist, double *lo_mean, double *hi_mean)
{
    double total = 0, sum = 0;
    for (int v = 0; v < 256; v++) {
        total += (double)hist[v];
        sum += (double)v * (double)hist[v];
    }
    double w0 = 0, s0 = 0, best = -1;
    int t_best = 0;
    for (int t = 1; t < 256; t++) {
        w0 += (double)hist[t - 1];
        s0 += (double)(t - 1) * (double)hist[t - 1];
        double w1 = total - w0;
        if (w0 <= 0 || w1 <= 0) continue;
        double m0 = s0 / w0, m1 = (sum - s0) / w1, between = w0 * w1 * (m1 - m0) * (m1 - m0);
        if (between > best) {
            best = between;
            t_best = t;
            *lo_mean = m0;
            *hi_mean = m1;
        }
    }
    return t_best;
}

/* The paper's level as a smooth function of (x, y): values at tile centres, bilinear in between
 * (flat beyond the outer centres). */
typedef struct surface {
    int nx, ny;
    float *val;            /* ny x nx */
    int32_t *ix;           /* per column: left tile */
    float *fx;             /* per column: weight of the right tile */
    float *row;            /* nx: the current row, interpolated vertically */
} surface;

/* Per pixel along an axis: the tile to the left (or above) and the weight of the next one. Beyond
 * the outer centres the surface goes on in a straight line (light does not stop changing at the
 * last tile's centre); a single tile is flat. */
static double tile_centre(int i, int64_t n, int64_t tile)
{
    return ((double)i * (double)tile + fmin((double)n, (double)(i + 1) * (double)tile)) / 2;
}

static void axis_weights(int32_t *idx, float *frac, int64_t n, int tiles, int64_t tile)
{
    for (int64_t p = 0; p < n; p++) {
        if (tiles == 1) {
            idx[p] = 0;
            frac[p] = 0;
            continue;
        }
        const double pos = (double)p + 0.5;
        int a = (int)(p / tile);
        if (pos < tile_centre(a, n, tile)) a--;
        if (a < 0) a = 0;
        if (a > tiles - 2) a = tiles - 2;
        const double ca = tile_centre(a, n, tile), cb = tile_centre(a + 1, n, tile);
        idx[p] = a;
        frac[p] = (float)((pos - ca) / (cb - ca));
    }
}

/* Row y of the surface into s->row, given the rows' weights. */
static void surface_row(surface *s, int32_t iy, float fy)
{
    const float *a = s->val + (int64_t)iy * s->nx;
    const float *b = iy + 1 < s->ny ? a + s->nx : a;
    for (int i = 0; i < s->nx; i++) s->row[i] = a[i] + fy * (b[i] - a[i]);
}

static float surface_at(const surface *s, int64_t x)
{
    int32_t i = s->ix[x];
    float a = s->row[i], b = i + 1 < s->nx ? s->row[i + 1] : a;
    return a + s->fx[x] * (b - a);
}

/* The current row of the surface at every column. */
static void surface_fill(float *out, const surface *s, int64_t w)
{
    for (int64_t x = 0; x < w; x++) out[x] = surface_at(s, x);
}

/* Running maximum (or minimum) over a window of k positions, in place, by doubling: after the round
 * of width p, position i holds the extreme of [i, i + p); a window of k is then two overlapping
 * powers of two. A position is `lanes` bytes: one pixel when filtering a row, a stripe of a row's
 * pixels when filtering columns, so that every round is a pass over contiguous bytes. */
typedef struct extreme {
    int k, lanes;         /* the window; bytes per position (1 along a row, a stripe's width down columns) */
    int is_max;
} extreme;

NN_NO_COVERAGE static void extreme_1d(const extreme *e, uint8_t *buf, int64_t n)
{
    /* buf: positions [0, k) neutral, [k, k + n) the values, [k + n, 2k + n) neutral; lanes bytes each. */
    const int64_t L = e->lanes, r = e->k / 2;
    int64_t p = 1;
    while (2 * p <= e->k) {
        const int64_t end = (2 * (int64_t)e->k + n - p) * L, d = p * L;
        if (e->is_max)
            for (int64_t i = 0; i < end; i++) buf[i] = buf[i] > buf[i + d] ? buf[i] : buf[i + d];
        else
            for (int64_t i = 0; i < end; i++) buf[i] = buf[i] < buf[i + d] ? buf[i] : buf[i + d];
        p *= 2;
    }
    /* Window of position x (buffer index k + x): [k + x - r, k + x - r + k). Reads lie ahead of
     * the write, so the result goes in place, to positions [0, n). */
    const int64_t a = (e->k - r) * L, b = a + ((int64_t)e->k - p) * L, end = n * L;
    if (e->is_max)
        for (int64_t i = 0; i < end; i++) buf[i] = buf[a + i] > buf[b + i] ? buf[a + i] : buf[b + i];
    else
        for (int64_t i = 0; i < end; i++) buf[i] = buf[a + i] < buf[b + i] ? buf[a + i] : buf[b + i];
}

/* The paper's brightness where ink is dark (b = p, or 255 - p for light ink), as the grey closing
 * of b by a k x k square: a maximum filter that fills every dark feature narrower than k with the
 * paper around it, then a minimum filter that brings the paper's edges back where they were. A
 * shadow's edge, sharp or soft, comes out unchanged (a monotone edge is kept by a closing), where
 * the tiles' smooth surface cannot follow it. Written into bg (w x h). */
static nn_status closing(uint8_t *bg, const nn__gray *g, int dark, int k)
{
    const int64_t w = g->w, h = g->h;
    enum { STRIPE = 256 };
    /* A window of 2n - 1 or more already spans a line of n wherever it is centred: a wider one would
     * give the same values, at the cost of its padding (a 100000 x 1 image, k = 3001: 12 s). */
    const int kr = (int64_t)k < 2 * w - 1 ? k : (int)(2 * w - 1), kc = (int64_t)k < 2 * h - 1 ? k : (int)(2 * h - 1);
    const int64_t row_bytes = w + 2 * (int64_t)kr, col_bytes = (h + 2 * (int64_t)kc) * (w < STRIPE ? w : STRIPE);
    uint8_t *line = malloc((size_t)(row_bytes > col_bytes ? row_bytes : col_bytes));
    if (!line) return NN_ERR_NO_MEMORY;
    for (int pass = 0; pass < 2; pass++) {
        const int is_max = pass == 0;
        const uint8_t neutral = is_max ? 0 : 255;
        const extreme rows = {kr, 1, is_max};
        for (int64_t y = 0; y < h; y++) {
            uint8_t *o = bg + y * w;
            memset(line, neutral, (size_t)kr);
            if (pass == 0) {
                const uint8_t *p = g->px + y * g->stride;
                for (int64_t x = 0; x < w; x++) line[kr + x] = dark ? p[x] : (uint8_t)(255 - p[x]);
            } else {
                memcpy(line + kr, o, (size_t)w);
            }
            memset(line + kr + w, neutral, (size_t)kr);
            extreme_1d(&rows, line, w);
            memcpy(o, line, (size_t)w);
        }
        for (int64_t x0 = 0; x0 < w; x0 += STRIPE) {
            const int lanes = (int)(w - x0 < STRIPE ? w - x0 : STRIPE);
            const extreme cols = {kc, lanes, is_max};
            memset(line, neutral, (size_t)kc * lanes);
            for (int64_t y = 0; y < h; y++) memcpy(line + (kc + y) * lanes, bg + y * w + x0, (size_t)lanes);
            memset(line + (kc + h) * lanes, neutral, (size_t)kc * lanes);
            extreme_1d(&cols, line, h);
            for (int64_t y = 0; y < h; y++) memcpy(bg + y * w + x0, line + y * lanes, (size_t)lanes);
        }
    }
    free(line);
    return NN_OK;
}

/* Whether the tiles' levels lv (nt of them) differ by more than noise (4 sigmas) and a quarter of
 * the ink's contrast (Otsu's two classes over the whole image, histogram global). */
static int levels_vary(const float *lv, int nt, const int64_t *global, double sigma)
{
    double m0 = 0, m1 = 0;
    nn__vision_otsu(global, &m0, &m1);
    float lo = 255, hi = 0;
    for (int t = 0; t < nt; t++) {
        lo = fminf(lo, lv[t]);
        hi = fmaxf(hi, lv[t]);
    }
    return (double)(hi - lo) > fmax(4 * sigma, (m1 - m0) / 4);
}

/* The lowest ink strength that stands out of the paper's noise: three sigmas above typical paper. */
static int noise_floor(int paper, double sigma) { return paper + (int)ceil(3 * sigma) + 1; }

/* Threshold: Otsu on the ink strength (histogram ch of n pixels), never within the paper's noise
 * (sigma). A few digits in a large photo are too little ink for Otsu, which then parts the paper's
 * own spread, below the noise floor; above the floor lie the noise's tail and the ink. Otsu on those
 * alone parts them when they are two: the lower within 4 grains of the paper (the noise's tail, not
 * ink with a darker speck above it), and their means 4 sigmas apart (the tail of the noise alone,
 * cut in two, is not); else the floor is the threshold. Ink must stand out from the paper by at least 10
 * levels, 4 sigmas and 3 grains, or the image has none (256): the tail of a blank sheet's
 * grain, which the neighbours' difference (sigma) hardly sees, is no ink. *paper receives the
 * strength of typical paper. */
static int ink_level(const int64_t *ch, int64_t n, double sigma, double grain, int *paper)
{
    *paper = quantile(ch, n, 0.5);
    double m0 = 0, m1 = 0;
    int level = nn__vision_otsu(ch, &m0, &m1);
    const int floor_level = noise_floor(*paper, sigma);
    if (level < floor_level && floor_level <= 255) {
        int64_t tail[256] = {0};
        memcpy(tail + floor_level, ch + floor_level, (size_t)(256 - floor_level) * sizeof *tail);
        m0 = m1 = 0;
        const int split = nn__vision_otsu(tail, &m0, &m1);
        level = split > floor_level && m1 - m0 >= 4 * sigma && m0 - *paper <= 4 * grain ? split : floor_level;
    }
    int64_t above = 0;
    double above_sum = 0;
    for (int v = level < 256 ? level : 256; v < 256; v++) {
        above += ch[v];
        above_sum += (double)v * (double)ch[v];
    }
    const double stands_out = fmax(10, fmax(4 * sigma, GRAIN_STANDS_OUT * grain));
    if (level > 255 || above == 0 || above_sum / (double)above - *paper < stands_out) level = 256;
    return level;
}

/* The stroke's width: the median length of the ink's horizontal runs in every step-th row, among
 * those shorter than a quarter of the image's width (a shadow taken for ink, a rule, makes long
 * runs; a stroke rarely does). Counted by runs, not pixels: the pixels of a shadow's blob outweigh
 * the digits' in a small image. Noise above the threshold makes the stroke look thinner than it is. */
static int64_t ink_stroke(const uint8_t *ink, int64_t w, int64_t h, int64_t step, int level)
{
    enum { MAX_RUN = 1024 };
    int64_t runs[MAX_RUN] = {0}, nruns = 0;
    const int64_t cap = w / 4 < MAX_RUN ? w / 4 : MAX_RUN;
    for (int64_t y = 0; y < h; y += step) {
        const uint8_t *p = ink + y * w;
        for (int64_t x = 0, len = 0; x <= w; x++) {
            if (x < w && p[x] >= level) {
                len++;
            } else if (len > 0) {
                if (len < cap) {
                    runs[len]++;
                    nruns++;
                }
                len = 0;
            }
        }
    }
    for (int64_t acc = 0, len = 1; len < cap; len++)
        if ((acc += runs[len]) * 2 >= nruns) return len;
    return 1;
}

nn_status nn__vision_ink(nn__ink *out, const nn__gray *g, int polarity, int method)
{
    const char *who = "nn_digits_find";
    const int64_t w = g->w, h = g->h, n = w * h;
    memset(out, 0, sizeof *out);

    const int64_t longer = w > h ? w : h;
    int64_t tile = (longer + TILES_LONG - 1) / TILES_LONG;
    if (tile < TILE_MIN) tile = TILE_MIN;
    {
        /* ... and at least 2 strokes wide, so that a heavy stroke does not fill a tile (4 would cost
         * MNIST's digits in small images 2% in bench-digits, 2 costs 0.3%): the stroke
         * width is the median length of the horizontal runs of the smaller class of Otsu's
         * threshold over the whole image (the ink, unless the light is very uneven). */
        int64_t gh[256] = {0}, runs[257] = {0}, below = 0;
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) gh[g->px[y * g->stride + x]]++;
        double m0, m1;
        const int t = nn__vision_otsu(gh, &m0, &m1);
        for (int v = 0; v < t; v++) below += gh[v];
        const int ink_low = 2 * below <= w * h;
        int64_t nruns = 0;
        for (int64_t y = 0; y < h; y++) {
            const uint8_t *p = g->px + y * g->stride;
            for (int64_t x = 0, len = 0; x <= w; x++) {
                if (x < w && (p[x] < t) == ink_low) {
                    len++;
                } else if (len > 0) {
                    runs[len < 256 ? len : 256]++;
                    nruns++;
                    len = 0;
                }
            }
        }
        /* A median run over a quarter of the shorter side is no stroke: Otsu parted shade from
         * light (a shadow over most of a small image), and tiles that size would leave one flat
         * tile, blind to the light's change, under which the lit paper passes for light ink. */
        const int64_t shorter = w < h ? w : h;
        for (int64_t acc = 0, len = 1; len <= 256 && nruns > 0; len++)
            if ((acc += runs[len]) * 2 >= nruns) {
                if (tile < 2 * len && 4 * len <= shorter) tile = 2 * len;
                break;
            }
    }
    const int nx = (int)((w + tile - 1) / tile), ny = (int)((h + tile - 1) / tile), nt = nx * ny;

    int64_t *hist = calloc((size_t)(nt + 4) * 256, sizeof *hist); /* tiles, global, |dx|, the grain's */
    float *val = malloc((size_t)nt * 3 * sizeof *val);
    int32_t *ix = malloc((size_t)w * sizeof *ix), *iy = malloc((size_t)h * sizeof *iy);
    float *fx = malloc((size_t)w * sizeof *fx), *fy = malloc((size_t)h * sizeof *fy);
    float *row = malloc((size_t)nx * sizeof *row), *srow = malloc((size_t)w * sizeof *srow);
    uint8_t *ink = malloc((size_t)n);
    nn_status st = NN_OK;
    if (!hist || !val || !ix || !iy || !fx || !fy || !row || !srow || !ink) {
        st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory for a %lld x %lld image", who, (long long)w, (long long)h);
        goto done;
    }
    int64_t *global = hist + (int64_t)nt * 256, *dxh = global + 256, *grain_x = dxh + 256,
            *grain_y = grain_x + 256;
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *p = g->px + y * g->stride;
        int64_t *trow = hist + (y / tile) * nx * 256;
        for (int64_t x0 = 0; x0 < w; x0 += tile) {
            int64_t *th = trow + (x0 / tile) * 256;
            for (int64_t x = x0; x < x0 + tile && x < w; x++) th[p[x]]++;
        }
        for (int64_t x = 1; x < w; x++) dxh[abs((int)p[x] - (int)p[x - 1])]++;
        for (int64_t x = GRAIN; x < w; x++) grain_x[abs((int)p[x] - (int)p[x - GRAIN])]++;
        if (y >= GRAIN)
            for (int64_t x = 0; x < w; x++) grain_y[abs((int)p[x] - (int)p[x - GRAIN * g->stride])]++;
    }
    for (int t = 0; t < nt; t++)
        for (int v = 0; v < 256; v++) global[v] += hist[(int64_t)t * 256 + v];

    /* Noise: the median difference of horizontal neighbours, which ink edges (rare) and smooth
     * gradients (small) barely move; for Gaussian noise it is 0.954 sigma. */
    double sigma = 1.0;
    if (w > 1) {
        int med = quantile(dxh, (w - 1) * h, 0.5);
        if (med / 0.954 > sigma) sigma = med / 0.954;
    }
    double grain = sigma;
    if (w > GRAIN && h > GRAIN) {
        const int mx = quantile(grain_x, (w - GRAIN) * h, 0.5), my = quantile(grain_y, w * (h - GRAIN), 0.5);
        grain = fmin(fmax((mx < my ? mx : my) / 0.954, sigma), GRAIN_MAX * sigma);
    }

    /* Median and paper-side quantiles per tile, and the same for the whole image. */
    float *med = val, *paper_hi = val + nt, *paper_lo = val + 2 * nt;
    for (int t = 0; t < nt; t++) {
        const int64_t *th = hist + (int64_t)t * 256;
        int64_t cnt = 0;
        for (int v = 0; v < 256; v++) cnt += th[v];
        med[t] = (float)quantile(th, cnt, 0.5);
        paper_hi[t] = (float)quantile(th, cnt, PAPER_QUANTILE);
        paper_lo[t] = (float)quantile(th, cnt, 1 - PAPER_QUANTILE);
    }
    const float g_hi = (float)quantile(global, n, PAPER_QUANTILE),
                g_lo = (float)quantile(global, n, 1 - PAPER_QUANTILE);
    axis_weights(ix, fx, w, nx, tile);
    axis_weights(iy, fy, h, ny, tile);

    /* Polarity: ink departs from the paper in one direction, noise in both. Sum what lies beyond
     * three sigmas on each side of the tiles' median surface; the heavier side is ink. Under uneven
     * light (the tiles' medians differ by more than noise and a quarter of the contrast) a shadow's
     * edge departs too, below the surface on its dark side and above it on its lit side, and in a
     * small image it can outweigh the ink. A pixel then counts as departing downwards only when it
     * also lies below the closing (the paper's level with every dark feature narrower than an eighth
     * of the image's shorter side filled in), and upwards only when above the opening (the same for
     * light features): both follow a shadow's edge. The window must be wider than a stroke and
     * narrower than a loop's hole, or the holes of dark digits count as light ink (a quarter of the
     * side was too wide for a digit filling a small image); and the tiles' surface must agree, or
     * paper between the strokes would count. */
    surface s = {nx, ny, med, ix, fx, row};
    int dark = polarity != NN_DIGITS_POLARITY_LIGHT_ON_DARK;
    if (polarity == NN_DIGITS_POLARITY_AUTO) {
        const int uneven = levels_vary(med, nt, global, sigma);
        const int64_t shorter = w < h ? w : h, k0 = (shorter / 8 > 5 ? shorter / 8 : 5) | 1;
        double side[2] = {0, 0}; /* below, above */
        const double margin = 3 * grain;
        for (int pass = 0; pass < (uneven ? 2 : 1); pass++) {
            /* pass 0: below (and, on even light, above); pass 1: above */
            if (uneven && closing(ink, g, pass == 0, (int)k0) != NN_OK) {
                st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory for a %lld x %lld image", who, (long long)w,
                              (long long)h);
                goto done;
            }
            /* Under uneven light every other row: the sums only compare the two sides. */
            for (int64_t y = 0; y < h; y += uneven ? 2 : 1) {
                surface_row(&s, iy[y], fy[y]);
                surface_fill(srow, &s, w);
                const uint8_t *p = g->px + y * g->stride, *c = ink + y * w;
                double below = 0, above = 0;
                if (uneven && pass == 0) {
                    for (int64_t x = 0; x < w; x++) {
                        /* below both the surface and the closing of p */
                        const double v = p[x], a = v - srow[x], b = v - c[x], d = a > b ? a : b;
                        below += d < -margin ? -d - margin : 0;
                    }
                } else if (uneven) {
                    for (int64_t x = 0; x < w; x++) {
                        /* above both the surface and the opening of p (255 - c) */
                        const double v = p[x], a = v - srow[x], b = v - (255 - c[x]), d = a < b ? a : b;
                        above += d > margin ? d - margin : 0;
                    }
                } else {
                    for (int64_t x = 0; x < w; x++) {
                        const double d = (double)p[x] - srow[x];
                        above += d > margin ? d - margin : 0;
                        below += d < -margin ? -d - margin : 0;
                    }
                }
                side[0] += below;
                side[1] += above;
            }
        }
        dark = side[0] >= side[1];
    }
    float *paper_t = dark ? paper_hi : paper_lo;

    /* Threshold method: adaptive when the paper's level varies across tiles by more than a quarter
     * of the ink's contrast (Otsu's two classes over the whole image). */
    int adaptive = method == NN_DIGITS_THRESHOLD_ADAPTIVE;
    if (method == NN_DIGITS_THRESHOLD_AUTO) adaptive = levels_vary(paper_t, nt, global, sigma);
    if (!adaptive)
        for (int t = 0; t < nt; t++) paper_t[t] = dark ? g_hi : g_lo;

    /* Ink strength: how far each pixel lies from the paper, towards the ink. Light multiplies: under
     * uneven light, dark ink keeps its contrast relative to the paper around it, not in grey levels,
     * so the adaptive method scales each difference by the typical paper level over the local one. */
    s.val = paper_t;
    float ref = 0;
    if (adaptive && dark) {
        int64_t levels[256] = {0};
        for (int t = 0; t < nt; t++) levels[(int)paper_t[t]]++;
        ref = (float)quantile(levels, nt, 0.5);
    }
    /* Under uneven light the tiles' surface is then bounded by the closing (a second round): inside
     * a shadow, near its edge, the surface still leans towards the lit paper beyond, and the shadow
     * comes out as ink (in a small image, a blob that swallows its digits). Where the closing says
     * the paper is darker than the surface, the closing is right; elsewhere (under ink, on lit
     * paper) it lies at or above the surface and changes nothing. Its window must hold the widest
     * ink, which would otherwise lose its middle: 3 strokes (a stroke and most crossings of two),
     * the stroke measured on the first round's ink, and never less than a quarter of the image's
     * shorter side, since noise can make the stroke look thin (a window too wide only leaves a
     * narrow shadow as it was). */
    int level = 256, paper = 0;
    for (int round = adaptive ? 0 : 1; round < 2; round++) {
        const int64_t step = round == 0 ? STROKE_ROWS : 1;
        if (round == 1 && adaptive) {
            int64_t k = 3 * ink_stroke(ink, w, h, STROKE_ROWS, level);
            if (k < (w < h ? w : h) / 4) k = (w < h ? w : h) / 4;
            if (k < 5) k = 5;
            if (k > INT32_MAX / 4 || closing(ink, g, dark, (int)(k | 1)) != NN_OK) {
                st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory for a %lld x %lld image", who, (long long)w,
                              (long long)h);
                goto done;
            }
        }
        int64_t *ch = global, counted = 0; /* reused: the histogram of ink strength */
        memset(ch, 0, 256 * sizeof *ch);
        for (int64_t y = 0; y < h; y += step, counted += w) {
            surface_row(&s, iy[y], fy[y]);
            surface_fill(srow, &s, w);
            const uint8_t *p = g->px + y * g->stride;
            uint8_t *o = ink + y * w;
            /* In three passes, the first two of which vectorise: the paper's level, the strength,
             * then its rounding and histogram. */
            if (round == 1 && adaptive) {
                if (dark)
                    for (int64_t x = 0; x < w; x++) srow[x] = (float)o[x] < srow[x] ? (float)o[x] : srow[x];
                else
                    for (int64_t x = 0; x < w; x++)
                        srow[x] = (float)(255 - o[x]) > srow[x] ? (float)(255 - o[x]) : srow[x];
            }
            if (ref > 0)
                for (int64_t x = 0; x < w; x++) {
                    const float bg = srow[x];
                    srow[x] = (dark ? bg - (float)p[x] : (float)p[x] - bg) * (ref / (bg > 16.0f ? bg : 16.0f));
                }
            else
                for (int64_t x = 0; x < w; x++) srow[x] = dark ? srow[x] - (float)p[x] : (float)p[x] - srow[x];
            for (int64_t x = 0; x < w; x++) {
                const float d = srow[x];
                const int v = d <= 0 ? 0 : d >= 255 ? 255 : (int)lrintf(d);
                o[x] = (uint8_t)v;
                ch[v]++;
            }
        }
        level = ink_level(ch, counted, sigma, grain, &paper);
    }

    out->ink = ink;
    ink = NULL;
    out->level = level;
    /* Faint ink, through which pieces of ink are linked (components.c): 70% of the way from the
     * paper to the threshold, never within the paper's noise. Half way read as well on the digits
     * but cost more strings (bench-digits, two seeds): blurred neighbours link more often. */
    out->weak = level;
    if (level <= 255) {
        const int faint = paper + (int)lround(0.7 * (level - paper)), floor_level = noise_floor(paper, sigma);
        out->weak = faint > floor_level ? faint : floor_level < level ? floor_level : level;
    }
    out->paper = paper;
    out->dark_on_light = dark;
    out->adaptive = adaptive;
    out->w = w;
    out->h = h;
done:
    free(hist);
    free(val);
    free(ix);
    free(iy);
    free(fx);
    free(fy);
    free(row);
    free(srow);
    free(ink);
    return st;
}
