/* nn_digits_read() at several scales (docs/predict.md, step 9). The steps measure in pixels what a
 * digit's size does not fix: the one-column steps of the cut paths, the specks' minimum size, the
 * tiles, the noise. Read enlarged, small touching digits are parted along finer paths, and a stroke
 * two pixels wide is no longer all edge; but reading enlarged is not better everywhere. So each
 * region of the image is taken from the reading surest of it, as the model tells: readings of one
 * region can be compared where whole readings cannot (a reading right on one digit is wrong on
 * another). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

/* A reading that has more digits in a region than another pays this much log-probability per digit
 * more: a larger scale sees the gaps inside a digit (a 4 whose strokes do not meet, the double line
 * of an outline) and reads each piece, a narrow stroke, as a sure 1, surer than the whole digit read
 * at its own size. That the pieces are surer is not enough: they must be about 50 times surer. The
 * best of ten probabilities summing to 1 is at least 0.1 (log -2.3), so in effect the fewest digits
 * win, unless an 11-class model gives their ten classes little (a blob it reads as not one digit).
 * Chosen on bench-digits' seeds 1 and 2 among 0.5, 1, 2, 4 and no limit (docs/predict-log.md, "Fewest
 * digits per region"). */
#define COMBINE_MORE_DIGITS 4.0

nn_status nn__vision_enlarge(uint8_t **out, const uint8_t *px, int64_t w, int64_t h, int64_t stride, int s)
{
    const int64_t W = w * s, Hh = h * s;
    uint8_t *big = malloc((size_t)(W * Hh));
    *out = NULL;
    if (!big)
        return nn__fail(NN_ERR_NO_MEMORY, "nn_digits_read: out of memory enlarging a %lld x %lld image %d times",
                        (long long)w, (long long)h, s);
    /* Output pixel X's centre lies at (X + 1/2) / s - 1/2 in the source's pixel-centre coordinates;
     * beyond the outer centres the edge pixel is repeated. */
    for (int64_t Y = 0; Y < Hh; Y++) {
        const double v = (Y + 0.5) / s - 0.5;
        const int64_t y0 = v < 0 ? 0 : (int64_t)v;
        const double fy = v < 0 ? 0 : v - (double)y0;
        const uint8_t *r0 = px + y0 * stride, *r1 = px + (y0 + 1 < h ? y0 + 1 : y0) * stride;
        for (int64_t X = 0; X < W; X++) {
            const double u = (X + 0.5) / s - 0.5;
            const int64_t x0 = u < 0 ? 0 : (int64_t)u, x1 = x0 + 1 < w ? x0 + 1 : x0;
            const double fx = u < 0 ? 0 : u - (double)x0;
            const double top = r0[x0] + (r0[x1] - r0[x0]) * fx, bottom = r1[x0] + (r1[x1] - r1[x0]) * fx;
            big[Y * W + X] = (uint8_t)lround(top + (bottom - top) * fy);
        }
    }
    *out = big;
    return NN_OK;
}

void nn__digits_shrink_boxes(nn_digits *d, int s, int64_t x0, int64_t y0, int64_t w, int64_t h)
{
    for (int64_t i = 0; i < d->count; i++) {
        int64_t *b = d->boxes + i * 5;
        const int64_t x1 = (b[0] + b[2] + s - 1) / s, y1 = (b[1] + b[3] + s - 1) / s;
        b[0] /= s;
        b[1] /= s;
        b[2] = (x1 < w ? x1 : w) - b[0];
        b[3] = (y1 < h ? y1 : h) - b[1];
        b[0] += x0;
        b[1] += y0;
    }
}

/* The log-probability of digit i's most probable class. */
static double sureness(const nn_digits *d, int64_t i)
{
    float best = 0;
    for (int c = 0; c < 10; c++) best = d->probs[i * 10 + c] > best ? d->probs[i * 10 + c] : best;
    return log(best > 1e-30f ? (double)best : 1e-30);
}

/* A sort key: a coordinate (or a region's root), and the digit's number, which breaks ties so that
 * no libc's qsort decides the order. */
typedef struct place {
    int64_t x, i;
} place;

static int by_left(const void *pa, const void *pb)
{
    const place *a = pa, *b = pb;
    return a->x != b->x ? (a->x > b->x) - (a->x < b->x) : (a->i > b->i) - (a->i < b->i);
}

static int64_t root_of(int64_t *up, int64_t i)
{
    while (up[i] != i) i = up[i] = up[up[i]];
    return i;
}

/* Two digits lie in one region when their boxes share at least half of the smaller one. */
static int same_place(const int64_t *a, const int64_t *b)
{
    const int64_t iw = (a[0] + a[2] < b[0] + b[2] ? a[0] + a[2] : b[0] + b[2]) - (a[0] > b[0] ? a[0] : b[0]);
    const int64_t ih = (a[1] + a[3] < b[1] + b[3] ? a[1] + a[3] : b[1] + b[3]) - (a[1] > b[1] ? a[1] : b[1]);
    const int64_t smaller = a[2] * a[3] < b[2] * b[3] ? a[2] * a[3] : b[2] * b[3];
    return iw > 0 && ih > 0 && 2 * iw * ih >= smaller;
}

nn_status nn__digits_combine(nn_digits **out, nn_digits *const *rd, int k, double H)
{
    *out = NULL;
    int64_t n = 0;
    for (int r = 0; r < k; r++) n += rd[r]->count;
    /* Every digit of every reading, as (reading, index); regions are the sets that same_place()
     * links across readings, found with union-find. */
    int64_t *up = malloc((size_t)(n + 1) * sizeof *up), *idx = malloc((size_t)(n + 1) * sizeof *idx);
    int *reading = malloc((size_t)(n + 1) * sizeof *reading);
    double *sure = malloc((size_t)(n + 1) * sizeof *sure);
    place *key = malloc((size_t)(n + 1) * sizeof *key);
    nn__glyphs gs = {0};
    gs.g = malloc((size_t)(n + 1) * sizeof *gs.g);
    nn_digits *d = calloc(1, sizeof *d);
    nn_status st = NN_OK;
    if (!up || !idx || !reading || !sure || !key || !gs.g || !d) {
        st = nn__fail(NN_ERR_NO_MEMORY, "nn_digits_read: out of memory combining %lld digits", (long long)n);
        goto done;
    }
    int64_t m = 0;
    for (int r = 0; r < k; r++)
        for (int64_t i = 0; i < rd[r]->count; i++, m++) {
            up[m] = m, idx[m] = i, reading[m] = r, sure[m] = sureness(rd[r], i);
            const int64_t *b = rd[r]->boxes + i * 5;
            key[m] = (place){b[0], m};
        }
    /* Pairs that may overlap, by a sweep over the boxes' left edges. */
    qsort(key, (size_t)n, sizeof *key, by_left);
    for (int64_t p = 0; p < n; p++) {
        const int64_t a = key[p].i, *A = rd[reading[a]]->boxes + idx[a] * 5;
        for (int64_t q = p + 1; q < n && key[q].x < A[0] + A[2]; q++) {
            const int64_t b = key[q].i;
            if (reading[a] != reading[b] && same_place(A, rd[reading[b]]->boxes + idx[b] * 5))
                up[root_of(up, a)] = root_of(up, b);
        }
    }
    /* Each region's digits together (ordered by region, then as listed). */
    for (int64_t a = 0; a < n; a++) key[a] = (place){root_of(up, a), a};
    qsort(key, (size_t)n, sizeof *key, by_left);
    /* A region is kept when the image as given has digits there, and at least half of the readings
     * do: enlarged, noise leaves specks that both larger scales may read as digits (a faint, noisy
     * image gave 30 such boxes), and a speck read at scale 1 alone is most often noise too. Of the
     * readings with digits there, the one whose least sure digit is surest gives the region's
     * digits (the smaller scale on a tie), each digit more than the fewest any reading has there
     * counting COMBINE_MORE_DIGITS against it. */
    int64_t c = 0;
    for (int64_t p = 0, q; p < n; p = q) {
        for (q = p; q < n && key[q].x == key[p].x; q++) {}
        double worst[NN__DIGITS_MAX_SCALES];
        int found[NN__DIGITS_MAX_SCALES] = {0}, count[NN__DIGITS_MAX_SCALES] = {0}, readers = 0, fewest = INT_MAX;
        for (int64_t t = p; t < q; t++) {
            const int64_t a = key[t].i;
            const int r = reading[a];
            if (!found[r]) found[r] = 1, worst[r] = sure[a], readers++;
            if (sure[a] < worst[r]) worst[r] = sure[a];
            count[r]++;
        }
        if (!found[0] || 2 * readers < k) continue;
        for (int r = 0; r < k; r++)
            if (found[r] && count[r] < fewest) fewest = count[r];
        for (int r = 0; r < k; r++)
            if (found[r]) worst[r] -= COMBINE_MORE_DIGITS * (count[r] - fewest);
        int best = -1;
        for (int r = 0; r < k; r++)
            if (found[r] && (best < 0 || worst[r] > worst[best])) best = r;
        for (int64_t t = p; t < q; t++) {
            const int64_t a = key[t].i;
            if (reading[a] != best) continue;
            const int64_t *b = rd[best]->boxes + idx[a] * 5;
            nn__glyph g = {0};
            g.x0 = (int32_t)b[0], g.y0 = (int32_t)b[1], g.x1 = (int32_t)(b[0] + b[2]), g.y1 = (int32_t)(b[1] + b[3]);
            g.tag = a;
            gs.g[c++] = g;
        }
    }
    gs.n = c;
    if ((st = nn__vision_order(&gs, H)) != NN_OK) goto done;
    d->images = malloc((size_t)(c + 1) * NN_DIGITS_PIXELS * sizeof *d->images);
    d->probs = malloc((size_t)(c + 1) * 10 * sizeof *d->probs);
    d->boxes = malloc((size_t)(c + 1) * 5 * sizeof *d->boxes);
    if (!d->images || !d->probs || !d->boxes) {
        st = nn__fail(NN_ERR_NO_MEMORY, "nn_digits_read: out of memory for %lld digits", (long long)c);
        goto done;
    }
    for (int64_t j = 0; j < c; j++) {
        const int64_t a = gs.g[j].tag;
        const nn_digits *src = rd[reading[a]];
        memcpy(d->images + j * NN_DIGITS_PIXELS, src->images + idx[a] * NN_DIGITS_PIXELS,
               NN_DIGITS_PIXELS * sizeof *d->images);
        memcpy(d->probs + j * 10, src->probs + idx[a] * 10, 10 * sizeof *d->probs);
        memcpy(d->boxes + j * 5, src->boxes + idx[a] * 5, 4 * sizeof *d->boxes);
        d->boxes[j * 5 + 4] = gs.g[j].line;
    }
    d->count = c;
    d->lines = gs.lines;
    d->polarity = rd[0]->polarity;
    d->threshold = rd[0]->threshold;
    *out = d;
    d = NULL;
done:
    nn_digits_free(d);
    free(up);
    free(idx);
    free(reading);
    free(sure);
    free(key);
    free(gs.g);
    return st;
}
