/* The reader's own pieces as training images; see pieces.h. */
#include "pieces.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn/digits.h>

#include "reject.h"

enum { SIDE = 28, PIXELS = SIDE * SIDE };

#define TOUCH_SHARE       0.2f  /* one gap in five touching or overlapping, as the benchmark's */
#define MIN_HEIGHT        16.0f /* digit heights, pixels (log-uniform) */
#define MAX_HEIGHT        120.0f
#define INK_LEVEL         0.35f /* a digit's true box: its pixels of at least this coverage */
#define STRINGS_PER_PIECE 4     /* composing gives up on a kind after this many strings per piece asked */

/* Labelling, relative to the true digit's height H (pieces.h). */
#define DIGIT_BEYOND    0.10
#define DIGIT_MISSING   0.15
#define DIGIT_HEIGHT    0.20
#define NOT_ONE_BEYOND  0.35
#define NOT_ONE_MISSING 0.45
#define NOT_ONE_NARROW  0.4

static float uni(nn_rng *rng, float lo, float hi) { return lo + (hi - lo) * nn_rng_uniform(rng); }

int nnm_piece_label(const int64_t piece[4], const int64_t (*truth)[4], const int *labels, int n)
{
    const int64_t x0 = piece[0], x1 = piece[0] + piece[2];
    int best = -1;
    int64_t most = 0;
    for (int i = 0; i < n; i++) {
        const int64_t lo = x0 > truth[i][0] ? x0 : truth[i][0];
        const int64_t hi = x1 < truth[i][0] + truth[i][2] ? x1 : truth[i][0] + truth[i][2];
        if (hi - lo > most) most = hi - lo, best = i;
    }
    if (best < 0) return NNM_PIECE_SKIP;
    const int64_t X0 = truth[best][0], X1 = X0 + truth[best][2];
    const double H = (double)truth[best][3];
    const double beyond = (double)((X0 > x0 ? X0 - x0 : 0) + (x1 > X1 ? x1 - X1 : 0));
    const double missing = (double)((x0 > X0 ? x0 - X0 : 0) + (X1 > x1 ? X1 - x1 : 0));
    if (beyond <= DIGIT_BEYOND * H && missing <= DIGIT_MISSING * H &&
        fabs((double)piece[3] - H) <= DIGIT_HEIGHT * H)
        return labels[best];
    if ((beyond >= NOT_ONE_BEYOND * H || missing >= NOT_ONE_MISSING * H) &&
        (double)piece[2] >= NOT_ONE_NARROW * (double)piece[3])
        return NNM_REJECT_CLASS;
    return NNM_PIECE_SKIP;
}

/* ---- composing ---- */

/* A glyph drawn at a size: coverage 0..1, w x h, and its true box (bx, by, bw, bh) in it. */
typedef struct layer {
    float *cov;
    int w, h, bx, by, bw, bh;
} layer;

/* Coverage of g at (x, y) in its pixels, bilinear between pixel centres, 0 outside. */
static float sample(const nnm_glyph *g, float x, float y)
{
    x -= 0.5f;
    y -= 0.5f;
    const int x0 = (int)floorf(x), y0 = (int)floorf(y);
    const float fx = x - (float)x0, fy = y - (float)y0;
    float v = 0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            const int xx = x0 + dx, yy = y0 + dy;
            if (xx < 0 || yy < 0 || xx >= g->w || yy >= g->h) continue;
            v += (float)g->cov[yy * g->w + xx] * (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
        }
    return v / 255.0f;
}

/* g drawn with its ink ht pixels high; 0, or -1 when out of memory. */
static int draw(layer *l, const nnm_glyph *g, float ht)
{
    const float s = ht / (float)g->h;
    /* Enlarged, the glyph's edge pixels fade out over half an enlarged pixel beyond it. */
    const int pad = 2 + (int)ceilf(s / 2);
    l->w = (int)ceilf((float)g->w * s) + 2 * pad;
    l->h = (int)ceilf((float)g->h * s) + 2 * pad;
    l->cov = calloc((size_t)l->w * (size_t)l->h, sizeof *l->cov);
    if (!l->cov) return -1;
    /* Shrinking averages several samples a pixel, so that a font's thin strokes do not alias away. */
    int k = s < 1 ? (int)ceilf(1.0f / s) : 1;
    if (k > 4) k = 4;
    int x0 = l->w, y0 = l->h, x1 = -1, y1 = -1;
    for (int v = 0; v < l->h; v++)
        for (int u = 0; u < l->w; u++) {
            float acc = 0;
            for (int b = 0; b < k; b++)
                for (int a = 0; a < k; a++)
                    acc += sample(g, ((float)(u - pad) + (a + 0.5f) / (float)k) / s,
                                  ((float)(v - pad) + (b + 0.5f) / (float)k) / s);
            const float c = acc / (float)(k * k);
            l->cov[v * l->w + u] = c;
            if (c >= INK_LEVEL) {
                x0 = u < x0 ? u : x0, x1 = u > x1 ? u : x1;
                y0 = v < y0 ? v : y0, y1 = v > y1 ? v : y1;
            }
        }
    if (x1 < 0) { /* too faint to have a box: its whole layer stands for it */
        x0 = y0 = 0;
        x1 = l->w - 1;
        y1 = l->h - 1;
    }
    l->bx = x0;
    l->by = y0;
    l->bw = x1 - x0 + 1;
    l->bh = y1 - y0 + 1;
    return 0;
}

int nnm_pieces_compose(nnm_string *out, const nnm_glyph *g, int n, nn_rng *rng)
{
    memset(out, 0, sizeof *out);
    if (n < 1) return -1;
    const int len = nn_rng_below(rng, 2) == 0 ? 5 : 1 + (int)nn_rng_below(rng, NNM_PIECES_MAX_LEN);
    const float h0 = expf(uni(rng, logf(MIN_HEIGHT), logf(MAX_HEIGHT)));
    /* One writer per string: a font's digits together; MNIST's glyphs are all of "font" 0. */
    const int font = g[nn_rng_below(rng, (uint64_t)n)].font;
    layer ls[NNM_PIECES_MAX_LEN];
    int ox[NNM_PIECES_MAX_LEN], oy[NNM_PIECES_MAX_LEN];
    memset(ls, 0, sizeof ls);
    int rc = 0, x = 0;
    int minx = 1 << 30, miny = 1 << 30, maxx = -(1 << 30), maxy = -(1 << 30);
    for (int i = 0; i < len && rc == 0; i++) {
        int k;
        do k = (int)nn_rng_below(rng, (uint64_t)n);
        while (g[k].font != font);
        const float gap = nn_rng_uniform(rng) < TOUCH_SHARE ? uni(rng, -0.15f, 0.02f) : uni(rng, 0.08f, 0.5f);
        if ((rc = draw(&ls[i], &g[k], h0)) != 0) break;
        out->label[i] = g[k].label;
        if (i > 0) x += (int)lroundf(gap * h0);
        /* Boxes side by side, centred on one line. */
        ox[i] = x - ls[i].bx;
        oy[i] = -(ls[i].by + ls[i].bh / 2);
        x = ox[i] + ls[i].bx + ls[i].bw;
        minx = ox[i] < minx ? ox[i] : minx;
        miny = oy[i] < miny ? oy[i] : miny;
        maxx = ox[i] + ls[i].w > maxx ? ox[i] + ls[i].w : maxx;
        maxy = oy[i] + ls[i].h > maxy ? oy[i] + ls[i].h : maxy;
    }
    float *cov = NULL;
    if (rc == 0) {
        const float m = h0 < 8 ? 8 : h0;
        const int left = minx - 3 - (int)(uni(rng, 0.25f, 1.0f) * m),
                  top = miny - 3 - (int)(uni(rng, 0.25f, 1.0f) * m);
        const int right = maxx + 3 + (int)(uni(rng, 0.25f, 1.0f) * m);
        const int bottom = maxy + 3 + (int)(uni(rng, 0.25f, 1.0f) * m);
        out->w = right - left;
        out->h = bottom - top;
        out->n = len;
        cov = calloc((size_t)out->w * (size_t)out->h, sizeof *cov);
        out->grey = malloc((size_t)out->w * (size_t)out->h);
        if (!cov || !out->grey) rc = -1;
        for (int i = 0; i < len && rc == 0; i++) {
            const layer *l = &ls[i];
            const int X = ox[i] - left, Y = oy[i] - top;
            for (int y = 0; y < l->h; y++)
                for (int u = 0; u < l->w; u++) {
                    float *c = &cov[(size_t)(Y + y) * (size_t)out->w + (size_t)(X + u)];
                    *c = fmaxf(*c, l->cov[y * l->w + u]);
                }
            out->box[i][0] = X + l->bx;
            out->box[i][1] = Y + l->by;
            out->box[i][2] = l->bw;
            out->box[i][3] = l->bh;
        }
        for (size_t i = 0; rc == 0 && i < (size_t)out->w * (size_t)out->h; i++)
            out->grey[i] = (uint8_t)lroundf(255.0f * (1.0f - fminf(cov[i], 1.0f)));
    }
    free(cov);
    for (int i = 0; i < len; i++) free(ls[i].cov);
    if (rc != 0) {
        free(out->grey);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* ---- the dataset ---- */

typedef struct pool {
    uint8_t *images, *labels;
    int64_t n, cap;
} pool;

static int pool_add(pool *p, const float *img, int label)
{
    if (p->n == p->cap) {
        const int64_t cap = p->cap ? 2 * p->cap : 1024;
        uint8_t *im = realloc(p->images, (size_t)cap * PIXELS);
        if (im) p->images = im;
        uint8_t *lb = realloc(p->labels, (size_t)cap);
        if (lb) p->labels = lb;
        if (!im || !lb) return -1;
        p->cap = cap;
    }
    for (int i = 0; i < PIXELS; i++)
        p->images[p->n * PIXELS + i] = (uint8_t)lroundf(fminf(fmaxf(img[i], 0.0f), 1.0f) * 255.0f);
    p->labels[p->n++] = (uint8_t)label;
    return 0;
}

/* Strings of g[0..n) cut and labelled until want pieces of each kind are in p (or the strings run
 * out). 0, or -1 with err. */
static int harvest(pool *p, const nnm_glyph *g, int n, int64_t want, nn_rng *rng, nnm_pieces_info *info,
                   const char *what, char *err, size_t errlen)
{
    int64_t digits = 0, not_one = 0;
    const int64_t max_strings = STRINGS_PER_PIECE * want;
    for (int64_t s = 0; s < max_strings && (digits < want || not_one < want); s++) {
        nnm_string str;
        if (nnm_pieces_compose(&str, g, n, rng) != 0) {
            snprintf(err, errlen, "--pieces: out of memory composing %s strings", what);
            return -1;
        }
        info->strings++;
        nn_digits *d = NULL;
        if (nn_digits_pieces(&d, str.grey, str.w, str.h, str.w, NULL) != NN_OK) {
            snprintf(err, errlen, "--pieces: cutting a %s string: %s", what, nn_last_error());
            free(str.grey);
            return -1;
        }
        int rc = 0;
        for (int64_t i = 0; i < nn_digits_count(d) && rc == 0; i++) {
            int64_t b[4];
            nn_digits_box(d, i, &b[0], &b[1], &b[2], &b[3]);
            const int label = nnm_piece_label(b, (const int64_t(*)[4])str.box, str.label, str.n);
            if (label == NNM_PIECE_SKIP) continue;
            int64_t *count = label == NNM_REJECT_CLASS ? &not_one : &digits;
            if (*count >= want) continue;
            rc = pool_add(p, nn_digits_image(d, i), label);
            ++*count;
        }
        nn_digits_free(d);
        free(str.grey);
        if (rc != 0) {
            snprintf(err, errlen, "--pieces: out of memory");
            return -1;
        }
    }
    info->digits += digits;
    info->not_one += not_one;
    return 0;
}

/* MNIST's digits as glyphs: each image cropped to its ink, in one block. How many (an image
 * without ink is left out), or -1 when out of memory. */
static int64_t mnist_glyphs(nnm_glyph **out, uint8_t **block, const nn_dataset *ds, const uint32_t *from,
                            int64_t n)
{
    *out = malloc((size_t)n * sizeof **out);
    *block = malloc((size_t)n * PIXELS);
    if (!*out || !*block) return -1;
    const uint8_t *im = nn_dataset_images(ds), *lb = nn_dataset_labels(ds);
    uint8_t *at = *block;
    int64_t kept = 0;
    for (int64_t j = 0; j < n; j++) {
        const int64_t k = from ? from[j] : j;
        const uint8_t *a = im + k * PIXELS;
        int x0 = SIDE, y0 = SIDE, x1 = -1, y1 = -1;
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++)
                if (a[y * SIDE + x]) {
                    x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                    y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
                }
        if (x1 < 0) continue;
        nnm_glyph g = {at, x1 - x0 + 1, y1 - y0 + 1, lb[k], 0};
        for (int y = 0; y < g.h; y++) memcpy(at + y * g.w, a + (y + y0) * SIDE + x0, (size_t)g.w);
        at += g.w * g.h;
        (*out)[kept++] = g;
    }
    return kept;
}

int nnm_pieces_dataset(nn_dataset **out, const nn_dataset *base, const uint32_t *from, int64_t n_from,
                       int64_t per_kind, const nnm_glyph_set *fonts, uint64_t seed, nnm_pieces_info *info,
                       char *err, size_t errlen)
{
    *out = NULL;
    memset(info, 0, sizeof *info);
    int64_t rows = 0, cols = 0;
    nn_dataset_image_size(base, &rows, &cols);
    int bad = rows != SIDE || cols != SIDE || n_from < 1 || per_kind < 1 ||
              (!from && n_from > nn_dataset_count(base));
    for (int64_t j = 0; from && !bad && j < n_from; j++) bad = from[j] >= nn_dataset_count(base);
    if (bad) {
        snprintf(err, errlen,
                 "--pieces composes strings of 28 x 28 digits, not of %lld of %lld images of %lld x %lld",
                 (long long)n_from, (long long)nn_dataset_count(base), (long long)rows, (long long)cols);
        return -1;
    }
    nn_rng *rng = NULL;
    nnm_glyph *mg = NULL;
    uint8_t *block = NULL, *images = NULL, *labels = NULL;
    pool p = {0};
    int rc = -1;
    const int64_t nm =
        nn_rng_create(&rng, seed) == NN_OK ? mnist_glyphs(&mg, &block, base, from, n_from) : -1;
    if (nm < 0) {
        snprintf(err, errlen, "--pieces: out of memory");
        goto out;
    }
    if (nm == 0 || nm > INT32_MAX) {
        snprintf(err, errlen, "--pieces: %lld MNIST digits with ink to compose strings of", (long long)nm);
        goto out;
    }
    if (harvest(&p, mg, (int)nm, per_kind, rng, info, "MNIST", err, errlen) != 0) goto out;
    if (fonts && fonts->n > 0 && per_kind / 2 > 0 &&
        harvest(&p, fonts->g, fonts->n, per_kind / 2, rng, info, "font", err, errlen) != 0)
        goto out;
    const int64_t nb = nn_dataset_count(base), total = nb + p.n;
    images = malloc((size_t)total * PIXELS);
    labels = malloc((size_t)total);
    if (!images || !labels) {
        snprintf(err, errlen, "--pieces: out of memory");
        goto out;
    }
    memcpy(images, nn_dataset_images(base), (size_t)nb * PIXELS);
    memcpy(labels, nn_dataset_labels(base), (size_t)nb);
    if (p.n) {
        memcpy(images + nb * PIXELS, p.images, (size_t)p.n * PIXELS);
        memcpy(labels + nb, p.labels, (size_t)p.n);
    }
    if (nn_dataset_create(out, total, SIDE, SIDE, images, labels) != NN_OK) {
        snprintf(err, errlen, "--pieces: %s", nn_last_error());
        goto out;
    }
    info->added = p.n;
    rc = 0;
out:
    nn_rng_free(rng);
    free(mg);
    free(block);
    free(p.images);
    free(p.labels);
    free(images);
    free(labels);
    return rc;
}
