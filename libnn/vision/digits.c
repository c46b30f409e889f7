/* nn_digits_find() and nn_digits_read() (include/nn/digits.h): the steps in order, the options, and
 * the result. nn_digits_read() segments touching digits by recognition: docs/predict.md, step 6;
 * nn_digits_read_ensemble() does it with several models, their probabilities averaged. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/loss.h"
#include "nn/model.h"
#include "nn/tensor.h"
#include "vision.h"

/* Options version 1 ended before `scales`, version 2 before `rules`, version 3 before `deskew`,
 * version 4 before `skip_text`, version 5 before `plate`. */
static const size_t digits_options_sizes[] = {
    offsetof(nn_digits_options, scales), offsetof(nn_digits_options, rules),
    offsetof(nn_digits_options, deskew), offsetof(nn_digits_options, skip_text),
    offsetof(nn_digits_options, plate), sizeof(nn_digits_options)};
static const nn_digits_options digits_defaults = NN_DIGITS_OPTIONS_INIT;

nn_status nn_digits_options_init(nn_digits_options *opts, unsigned version)
{
    return nn__options_init(opts, version, &digits_defaults, digits_options_sizes, NN_DIGITS_OPTIONS_VERSION,
                            "nn_digits_options_init");
}

static nn_status check_options(const nn_digits_options *o, const char *who)
{
    if ((unsigned)o->polarity > NN_DIGITS_POLARITY_LIGHT_ON_DARK)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: unknown polarity %d", who, (int)o->polarity);
    if ((unsigned)o->threshold > NN_DIGITS_THRESHOLD_ADAPTIVE)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: unknown threshold method %d", who, (int)o->threshold);
    if (o->min_size < 1 || o->min_size > 1000)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: min_size %d is outside 1..1000", who, o->min_size);
    if (!(o->split_ratio >= 0.5f && o->split_ratio <= 10.0f))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: split_ratio %g is outside 0.5..10", who, (double)o->split_ratio);
    if (!(o->stroke_width >= 0.0f && o->stroke_width <= 6.0f))
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: stroke_width %g is outside 0..6", who, (double)o->stroke_width);
    if (o->max_digits < 1 || o->max_digits > 1000000)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: max_digits %d is outside 1..1000000", who, o->max_digits);
    if (o->scales < 1 || o->scales > NN__DIGITS_MAX_SCALES)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: scales %d is outside 1..%d", who, o->scales,
                        NN__DIGITS_MAX_SCALES);
    return NN_OK;
}

/* The image's arguments: NN_OK, or NN_ERR_INVALID_ARGUMENT with its message. */
static nn_status check_image(const uint8_t *pixels, int64_t width, int64_t height, int64_t stride, const char *who)
{
    if (!pixels) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: pixels is NULL", who);
    if (width < 1 || height < 1)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: image is %lld x %lld, both sides must be at least 1", who,
                        (long long)width, (long long)height);
    if (width > NN_DIGITS_MAX_PIXELS || height > NN_DIGITS_MAX_PIXELS || width * height > NN_DIGITS_MAX_PIXELS)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: image is %lld x %lld, more than the %lld pixels accepted", who,
                        (long long)width, (long long)height, (long long)NN_DIGITS_MAX_PIXELS);
    if (stride < width)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: stride %lld is smaller than the width %lld", who,
                        (long long)stride, (long long)width);
    if (stride > INT64_MAX / height)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: stride %lld is too large", who, (long long)stride);
    return NN_OK;
}

void nn_digits_free(nn_digits *d)
{
    if (!d) return;
    free(d->images);
    free(d->probs);
    free(d->boxes);
    free(d);
}

/* What the steps pass along, freed together. */
typedef struct pipeline {
    nn_digits_options o;
    nn__ink ink;
    nn__components comps;
    nn__glyphs glyphs;
    int64_t w;
    nn__components piece;   /* scratch for a piece cut along paths */
    nn__comp piece_comp;
    int64_t piece_cap;
    int fill;               /* the text is drawn with hollow strokes: fill them (normalize.c) */
} pipeline;

static void pipeline_free(pipeline *p)
{
    free(p->ink.ink);
    nn__vision_components_free(&p->comps);
    free(p->glyphs.g);
    free(p->glyphs.frag);
    free(p->glyphs.cuts);
    free(p->piece.runs);
    free(p->piece.order);
}

/* A lying line up to this many H long may be a digit's stroke (the bar of a 7, the base of a 2, in a
 * pen fine enough to be 24 times thinner): the ruled-line step takes out only longer ones when such a
 * line was taken (step 3). */
#define RULE_DIGIT 1.2
/* ... where the digits' pen is this fine (a stroke no longer than RULE_DIGIT H is then 24 times as
 * long as thick): the short sides of a form's boxes around digits in a thicker pen stay lines. */
#define RULE_FINE 0.05

/* Arguments checked, then the image to glyphs in reading order (split: whether to cut wide ones
 * geometrically; -1: as the options say). */
static nn_status find_glyphs(pipeline *p, const uint8_t *pixels, int64_t width, int64_t height, int64_t stride,
                             const nn_digits_options *opts, int split, const char *who)
{
    memset(p, 0, sizeof *p);
    p->ink.ink = NULL;
    if (check_image(pixels, width, height, stride, who) != NN_OK) return NN_ERR_INVALID_ARGUMENT;
    nn_status st = nn__options_take(&p->o, &digits_defaults, opts, digits_options_sizes, NN_DIGITS_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    if ((st = check_options(&p->o, who)) != NN_OK) return st;
    const nn_digits_options *o = &p->o;
    nn__gray g = {pixels, width, height, stride};
    p->w = width;
    int64_t min_rule = 0, cleared = 0, shortest = INT64_MAX;
    for (int pass = 0; pass < 2 && st == NN_OK; pass++) {
        st = nn__vision_ink(&p->ink, &g, (int)o->polarity, (int)o->threshold);
        if (st == NN_OK && o->rules) st = nn__vision_rules_longer(&p->ink, min_rule, &cleared, &shortest);
        if (st == NN_OK) st = nn__vision_components(&p->comps, &p->ink, width, height);
        if (st == NN_OK)
            st = nn__vision_segment(&p->glyphs, &p->comps, width, height, o->min_size, o->merge,
                                    split < 0 ? o->split : split, (double)o->split_ratio);
        /* A line no longer than a digit is wide was a stroke of a fine pen (step 3): the image is
         * read again with such lines left in the ink, now that H tells their length. */
        const double H = p->glyphs.height;
        if (st != NN_OK || pass > 0 || cleared == 0 || !(H > 0) || (double)shortest >= RULE_DIGIT * H ||
            !(p->glyphs.pen > 0 && p->glyphs.pen <= RULE_FINE * H))
            break;
        pipeline_free(p);
        memset(&p->ink, 0, sizeof p->ink);
        memset(&p->comps, 0, sizeof p->comps);
        memset(&p->glyphs, 0, sizeof p->glyphs);
        min_rule = (int64_t)ceil(RULE_DIGIT * H);
    }
    if (st == NN_OK && p->glyphs.n > o->max_digits)
        st = nn__fail(NN_ERR_INVALID_ARGUMENT,
                      "%s: found %lld digits, more than max_digits (%d): the image is likely a texture or "
                      "noise rather than writing; raise max_digits if it is not",
                      who, (long long)p->glyphs.n, o->max_digits);
    /* Only now: ordering compares each glyph with every line so far, the longest step of all on a
     * texture of tens of thousands of specks that is refused anyway. */
    if (st == NN_OK) st = nn__vision_order(&p->glyphs, p->glyphs.height);
    return st;
}

/* Glyphs at least 0.6 H high vote on whether the text is drawn with hollow strokes. */
#define HOLLOW_HEIGHT 0.6

/* One glyph into MNIST's form; a piece cut along paths first becomes a component of its own. */
static nn_status normalize_glyph(float *out, const nn__glyph *gl, pipeline *p, int *hollow)
{
    if (!gl->cut_l && !gl->cut_r)
        return nn__vision_normalize(out, gl, &p->comps, &p->ink, p->w, (double)p->o.stroke_width, p->fill, hollow);
    const int64_t runs = nn__vision_group_runs(gl, &p->comps);
    if (runs > p->piece_cap) {
        nn__run *r = realloc(p->piece.runs, (size_t)runs * sizeof *r);
        if (r) p->piece.runs = r;
        int32_t *o = realloc(p->piece.order, (size_t)runs * sizeof *o);
        if (o) p->piece.order = o;
        if (!r || !o) return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory cutting a digit");
        p->piece_cap = runs;
    }
    p->piece.comps = &p->piece_comp;
    const int32_t *cuts = p->glyphs.cuts;
    nn__glyph piece;
    nn__vision_piece(&piece, &p->piece, gl, &p->comps, cuts, gl->cut_l ? cuts + gl->cut_l - 1 : NULL,
                     gl->cut_r ? cuts + gl->cut_r - 1 : NULL);
    if (piece.area == 0) return nn__fail(NN_ERR_STATE, "nn_digits: a cut piece holds no ink");
    return nn__vision_normalize(out, &piece, &p->piece, &p->ink, p->w, (double)p->o.stroke_width, p->fill, hollow);
}

/* Every glyph into images (row i; tag = i). Hollow strokes are the text's, not one digit's, and most
 * digits (1, 2, 3, 5, 7) have no hole at all: when most glyphs of a digit's height enclose bands
 * (normalize.c), the text is hollow, and every glyph, and later every piece, is normalised filled. */
static nn_status normalize_all(pipeline *p, float *images)
{
    nn_status st = NN_OK;
    int64_t hollow = 0, tall = 0;
    for (int64_t i = 0; i < p->glyphs.n && st == NN_OK; i++) {
        const nn__glyph *gl = &p->glyphs.g[i];
        int h = 0;
        p->glyphs.g[i].tag = i;
        st = normalize_glyph(images + i * NN_DIGITS_PIXELS, gl, p, &h);
        if (gl->y1 - gl->y0 >= HOLLOW_HEIGHT * p->glyphs.height) tall++, hollow += h;
    }
    if (st != NN_OK || hollow == 0 || 2 * hollow <= tall) return st;
    p->fill = 1;
    for (int64_t i = 0; i < p->glyphs.n && st == NN_OK; i++)
        st = normalize_glyph(images + i * NN_DIGITS_PIXELS, &p->glyphs.g[i], p, NULL);
    return st;
}

/* The result: glyph i's image and probabilities from images/probs row tag (>= 0) or from the
 * pieces' rows -1 - tag. */
static nn_status make_result(nn_digits **out, pipeline *p, const float *images, const float *probs,
                             const float *pimages, const float *pprobs, const char *who)
{
    const nn__glyphs *gs = &p->glyphs;
    nn_digits *d = calloc(1, sizeof *d);
    if (!d) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    nn_status st = NN_OK;
    if (gs->n > 0) {
        d->images = malloc((size_t)gs->n * NN_DIGITS_PIXELS * sizeof *d->images);
        d->boxes = malloc((size_t)gs->n * 5 * sizeof *d->boxes);
        if (probs) d->probs = malloc((size_t)gs->n * 10 * sizeof *d->probs);
        if (!d->images || !d->boxes || (probs && !d->probs))
            st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory for %lld digits", who, (long long)gs->n);
    }
    for (int64_t i = 0; i < gs->n && st == NN_OK; i++) {
        const nn__glyph *gl = &gs->g[i];
        const int64_t t = gl->tag;
        memcpy(d->images + i * NN_DIGITS_PIXELS,
               t >= 0 ? images + t * NN_DIGITS_PIXELS : pimages + (-1 - t) * NN_DIGITS_PIXELS,
               NN_DIGITS_PIXELS * sizeof *d->images);
        if (probs) memcpy(d->probs + i * 10, t >= 0 ? probs + t * 10 : pprobs + (-1 - t) * 10, 10 * sizeof *d->probs);
        int64_t *b = d->boxes + i * 5;
        b[0] = gl->x0;
        b[1] = gl->y0;
        b[2] = gl->x1 - gl->x0;
        b[3] = gl->y1 - gl->y0;
        b[4] = gl->line;
    }
    if (st != NN_OK) {
        nn_digits_free(d);
        return st;
    }
    d->count = gs->n;
    d->lines = gs->lines;
    d->polarity = p->ink.dark_on_light ? NN_DIGITS_POLARITY_DARK_ON_LIGHT : NN_DIGITS_POLARITY_LIGHT_ON_DARK;
    d->threshold = p->ink.level > 255 ? NN_DIGITS_THRESHOLD_AUTO
                   : p->ink.adaptive  ? NN_DIGITS_THRESHOLD_ADAPTIVE
                                      : NN_DIGITS_THRESHOLD_OTSU;
    *out = d;
    return NN_OK;
}

/* One way of reading the image as it lies, for deskewed(): ctx (a level_ctx) is what it reads with. */
typedef nn_status (*level_fn)(nn_digits **out, const void *ctx, const uint8_t *pixels, int64_t width,
                              int64_t height, int64_t stride, const nn_digits_options *opts, const char *who);
static nn_status deskewed(nn_digits **out, level_fn level, const void *ctx, const uint8_t *pixels,
                          int64_t width, int64_t height, int64_t stride, const nn_digits_options *opts,
                          const char *who);
static nn_status plated(nn_digits **out, level_fn level, const void *ctx, const uint8_t *pixels, int64_t width,
                        int64_t height, int64_t stride, const nn_digits_options *opts, const char *who);

typedef struct reader reader;
typedef struct level_ctx {
    const reader *r; /* the models (NULL: finding only) */
    int nested;      /* reading a line of smaller digits set aside: none is set aside again */
} level_ctx;

/* ---- Lines of smaller digits (docs/predict.md, step 4) ---- */

/* Around a line of smaller digits that segment.c set aside, this much of their height is read with
 * them. */
#define SMALL_MARGIN 0.5
/* With a model, a line of that reading is kept when its digits are read with a mean probability of
 * at least this: a printed label's letters, a row of dashes or a signature's strokes come out as
 * digits read unsurely (means of 0.57 to 0.69 on a helper's images, where lines of digits read
 * 0.79 to 1.00). */
#define SMALL_SURE 0.75

/* The part of the image to read again for the smaller digits gs set aside: [x0, x1) x [y0, y1). */
typedef struct small_part {
    int64_t x0, y0, x1, y1;
} small_part;

static small_part small_part_of(const nn__glyphs *gs, int64_t width, int64_t height)
{
    small_part sp = {0, 0, 0, 0};
    if (gs->small_height <= 0) return sp;
    const int64_t m = (int64_t)ceil(SMALL_MARGIN * gs->small_height);
    sp.x0 = gs->small[0] > m ? gs->small[0] - m : 0, sp.y0 = gs->small[1] > m ? gs->small[1] - m : 0;
    sp.x1 = width - gs->small[2] > m ? gs->small[2] + m : width;
    sp.y1 = height - gs->small[3] > m ? gs->small[3] + m : height;
    return sp;
}

/* Readings a and b of one image (b's lines apart from a's) as one: every line in order of its mean
 * centre, top to bottom, each left to right by the digits' centres. Takes both. */
static nn_status join_readings(nn_digits **out, nn_digits *a, nn_digits *b, const char *who)
{
    const int64_t n = a->count + b->count, lines = a->lines + b->lines, nl = lines ? lines : 1, ni = n ? n : 1;
    nn_digits *d = calloc(1, sizeof *d);
    double *centre = calloc((size_t)nl * 2, sizeof *centre); /* per line: the centres' sum, and count */
    int64_t *rank = malloc((size_t)nl * sizeof *rank);
    nn__sort_key *key = malloc((size_t)(ni > nl ? ni : nl) * sizeof *key);
    nn_status st = NN_OK;
    if (!d || !centre || !rank || !key || !(d->images = malloc((size_t)ni * NN_DIGITS_PIXELS * sizeof *d->images)) ||
        !(d->boxes = malloc((size_t)ni * 5 * sizeof *d->boxes)) ||
        (a->probs && !(d->probs = malloc((size_t)ni * 10 * sizeof *d->probs))))
        st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    /* Item i < a->count is a's, the rest b's, whose lines are numbered after a's. */
#define JOINED_BOX(i) ((i) < a->count ? a->boxes + (i) * 5 : b->boxes + ((i) - a->count) * 5)
#define JOINED_LINE(i) (JOINED_BOX(i)[4] + ((i) < a->count ? 0 : a->lines))
    for (int64_t i = 0; i < n && st == NN_OK; i++) {
        const int64_t *bx = JOINED_BOX(i), l = JOINED_LINE(i);
        centre[2 * l] += (double)bx[1] + 0.5 * (double)bx[3];
        centre[2 * l + 1]++;
    }
    if (st == NN_OK) {
        for (int64_t l = 0; l < lines; l++)
            key[l] = (nn__sort_key){centre[2 * l + 1] > 0 ? centre[2 * l] / centre[2 * l + 1] : 0, 0, l};
        qsort(key, (size_t)lines, sizeof *key, nn__sort_key_cmp);
        for (int64_t r = 0; r < lines; r++) rank[key[r].i] = r;
        for (int64_t i = 0; i < n; i++) /* by centre, as nn__vision_order() orders a line */
            key[i] = (nn__sort_key){(double)rank[JOINED_LINE(i)], (double)(2 * JOINED_BOX(i)[0] + JOINED_BOX(i)[2]), i};
        qsort(key, (size_t)n, sizeof *key, nn__sort_key_cmp);
        for (int64_t j = 0; j < n; j++) {
            const int64_t i = key[j].i, k = i < a->count ? i : i - a->count;
            const nn_digits *src = i < a->count ? a : b;
            memcpy(d->images + j * NN_DIGITS_PIXELS, src->images + k * NN_DIGITS_PIXELS,
                   NN_DIGITS_PIXELS * sizeof *d->images);
            if (d->probs) memcpy(d->probs + j * 10, src->probs + k * 10, 10 * sizeof *d->probs);
            memcpy(d->boxes + j * 5, src->boxes + k * 5, 4 * sizeof *d->boxes);
            d->boxes[j * 5 + 4] = (int64_t)key[j].k1;
        }
        d->count = n;
        d->lines = lines;
        d->polarity = a->polarity;
        d->threshold = a->threshold;
    }
#undef JOINED_BOX
#undef JOINED_LINE
    free(centre);
    free(rank);
    free(key);
    nn_digits_free(a);
    nn_digits_free(b);
    if (st != NN_OK) {
        nn_digits_free(d);
        d = NULL;
    }
    *out = d;
    return st;
}

/* d without the items keep[] says 0 to, its lines numbered anew. */
static void keep_items(nn_digits *d, const unsigned char *keep)
{
    int64_t m = 0, lines = 0, last = -1;
    for (int64_t i = 0; i < d->count; i++) {
        if (!keep[i]) continue;
        const int64_t line = d->boxes[i * 5 + 4];
        if (line != last) lines++, last = line;
        memmove(d->images + m * NN_DIGITS_PIXELS, d->images + i * NN_DIGITS_PIXELS,
                NN_DIGITS_PIXELS * sizeof *d->images);
        if (d->probs) memmove(d->probs + m * 10, d->probs + i * 10, 10 * sizeof *d->probs);
        memmove(d->boxes + m * 5, d->boxes + i * 5, 5 * sizeof *d->boxes);
        d->boxes[m * 5 + 4] = lines - 1;
        m++;
    }
    d->count = m;
    d->lines = lines;
}

/* The reading *out (status st) without the slashes and parentheses between its digits (step 11). */
static nn_status without_separators(nn_digits **out, nn_status st, const char *who)
{
    if (st != NN_OK || !*out || (*out)->count < 3) return st;
    nn_digits *d = *out;
    unsigned char *keep = malloc((size_t)d->count);
    int64_t *scratch = malloc((size_t)d->count * 2 * sizeof *scratch);
    if (!keep || !scratch) {
        st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
        nn_digits_free(d);
        *out = NULL;
    } else if (nn__digits_separators(keep, d, scratch) > 0) {
        keep_items(d, keep);
    }
    free(keep);
    free(scratch);
    return st;
}

/* Which of the second reading's items stand: none that touches an edge of the part inside the image
 * (the stub of a table's rule or of a larger digit, cut short there), and with a model, only lines
 * read surely enough (SMALL_SURE). */
static void small_keep(unsigned char *keep, const nn_digits *d, int64_t w, int64_t h, const small_part *sp,
                       int64_t width, int64_t height)
{
    for (int64_t i = 0; i < d->count; i++) {
        const int64_t *b = d->boxes + i * 5;
        keep[i] = !((b[0] == 0 && sp->x0 > 0) || (b[1] == 0 && sp->y0 > 0) || (b[0] + b[2] == w && sp->x1 < width) ||
                    (b[1] + b[3] == h && sp->y1 < height));
    }
    if (!d->probs) return;
    for (int64_t i = 0; i < d->count;) {
        int64_t j = i, n = 0;
        double sum = 0;
        for (; j < d->count && d->boxes[j * 5 + 4] == d->boxes[i * 5 + 4]; j++) {
            if (!keep[j]) continue;
            float best = 0;
            for (int c = 0; c < 10; c++) best = d->probs[j * 10 + c] > best ? d->probs[j * 10 + c] : best;
            sum += best;
            n++;
        }
        if (n > 0 && sum < SMALL_SURE * (double)n)
            for (int64_t k = i; k < j; k++) keep[k] = 0;
        i = j;
    }
}

/* The part sp of the image read again with level(), the digits of *out within it painted as paper
 * first, and what it reads (small_keep()) added to *out. */
static nn_status read_small(nn_digits **out, level_fn level, const level_ctx *ctx, const uint8_t *pixels,
                            int64_t width, int64_t height, int64_t stride, const nn_digits_options *opts,
                            const small_part *sp, const char *who)
{
    const int64_t w = sp->x1 - sp->x0, h = sp->y1 - sp->y0;
    uint8_t *part = malloc((size_t)(w * h));
    if (!part) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    int64_t hist[256] = {0};
    for (int64_t y = 0; y < h; y++) {
        memcpy(part + y * w, pixels + (sp->y0 + y) * stride + sp->x0, (size_t)w);
        for (int64_t x = 0; x < w; x++) hist[part[y * w + x]]++;
    }
    /* Mostly paper: its median is the paper's level, whichever the polarity. */
    int paper = 0;
    int64_t below = hist[0];
    while (2 * below < w * h) below += hist[++paper];
    for (int64_t i = 0; i < (*out)->count; i++) {
        const int64_t *b = (*out)->boxes + i * 5;
        const int64_t x0 = b[0] > sp->x0 ? b[0] : sp->x0, y0 = b[1] > sp->y0 ? b[1] : sp->y0;
        const int64_t x1 = b[0] + b[2] < sp->x1 ? b[0] + b[2] : sp->x1;
        const int64_t y1 = b[1] + b[3] < sp->y1 ? b[1] + b[3] : sp->y1;
        for (int64_t y = y0; y < y1 && x1 > x0; y++)
            memset(part + (y - sp->y0) * w + (x0 - sp->x0), paper, (size_t)(x1 - x0));
    }
    nn_digits_options o = *opts;
    o.polarity = (*out)->polarity;
    const level_ctx nested = {ctx->r, 1};
    nn_digits *d = NULL;
    nn_status st = level(&d, &nested, part, w, h, w, &o, who);
    free(part);
    /* The arguments passed for the whole image, so a refusal is more than max_digits glyphs: the
     * first reading stands. */
    if (st == NN_ERR_INVALID_ARGUMENT) {
        nn_clear_error();
        nn_digits_free(d);
        return NN_OK;
    }
    unsigned char *keep = st == NN_OK && d && d->count > 0 ? malloc((size_t)d->count) : NULL;
    if (st == NN_OK && d && d->count > 0 && !keep) st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    if (keep) {
        small_keep(keep, d, w, h, sp, width, height);
        keep_items(d, keep);
        free(keep);
    }
    if (st != NN_OK || !d || d->count == 0) {
        nn_digits_free(d);
        return st;
    }
    for (int64_t i = 0; i < d->count; i++) d->boxes[i * 5] += sp->x0, d->boxes[i * 5 + 1] += sp->y0;
    if ((*out)->count + d->count > o.max_digits) {
        nn_digits_free(d);
        return NN_OK;
    }
    nn_digits *a = *out;
    *out = NULL;
    return join_readings(out, a, d, who);
}

static nn_status find_level(nn_digits **out, const void *ctx, const uint8_t *pixels, int64_t width,
                            int64_t height, int64_t stride, const nn_digits_options *opts, const char *who)
{
    const level_ctx *lc = ctx;
    pipeline p;
    nn_status st = find_glyphs(&p, pixels, width, height, stride, opts, -1, who);
    float *images = NULL;
    if (st == NN_OK && p.glyphs.n > 0 && !(images = malloc((size_t)p.glyphs.n * NN_DIGITS_PIXELS * sizeof *images)))
        st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory for %lld digits", who, (long long)p.glyphs.n);
    if (st == NN_OK) st = normalize_all(&p, images);
    if (st == NN_OK) st = make_result(out, &p, images, NULL, NULL, NULL, who);
    const small_part sp = small_part_of(&p.glyphs, width, height);
    free(images);
    pipeline_free(&p);
    if (st == NN_OK && !lc->nested && sp.x1 > sp.x0)
        st = read_small(out, find_level, lc, pixels, width, height, stride, opts, &sp, who);
    if (st != NN_OK) {
        nn_digits_free(*out);
        *out = NULL;
    }
    return st;
}

nn_status nn_digits_find(nn_digits **out, const uint8_t *pixels, int64_t width, int64_t height,
                         int64_t stride, const nn_digits_options *opts)
{
    const char *who = "nn_digits_find";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    nn_digits_options o;
    nn_status st =
        nn__options_take(&o, &digits_defaults, opts, digits_options_sizes, NN_DIGITS_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    const level_ctx ctx = {NULL, 0};
    return without_separators(out, plated(out, find_level, &ctx, pixels, width, height, stride, &o, who), who);
}

/* ---- Recognition-based segmentation (nn_digits_read). ---- */

/* Relative to H, the median digit height. */
#define READ_GATE_WIDTH 1.0   /* a glyph wider than H and than its own height may hold several
                                 digits (narrower ones, or any read with little confidence, were
                                 tried too: a few more merges undone, but isolated odd digits, a
                                 wide 4 read unsure by a weak model, came out as two) */
#define READ_MIN_PIECE 0.1    /* cuts start at least 0.1 H inside the glyph ... */
#define READ_MAX_WIDTH 1.6    /* ... and pieces wider than 1.6 H are not tried */
#define READ_MAX_CUTS 8       /* cut paths tried per glyph, at most */
/* A cut costs a factor e^0.3 in probability per stroke it parts (a cost per cut as well made merges
 * more common, not fewer splits), and e^3 more per stroke above 1.3. Touching digits meet in one
 * stroke; a path through a loop parts two, and a slice of an 8 or a 0 between two such paths, read
 * as a fine 1, won. cuts.c counts the rows a path parts as well as the strokes it enters, so one
 * stroke crossed at a slant or a short contact costs a little over 1; a long contact (two 0s
 * sharing a wall) or a run down inside a stroke costs more, and its cut must win by more. */
#define READ_CUT_STROKE 0.3
#define READ_CUT_ONE 1.3
#define READ_CUT_MORE 3.0
#define READ_LOW 0.7          /* pieces lower than 0.7 H are less and less likely (fragments) */
#define READ_ASPECT_SPREAD 1.3
#define READ_JOIN_REACH 0.25  /* a fragment at most 0.25 H from a glyph may be part of it (the two
                                 nearest are tried); */
#define READ_JOIN_FRAGMENTS 2
#define READ_JOIN_GAP 0.15    /* two glyphs of a line at most 0.15 H apart may be parts of one digit, */
#define READ_JOIN_WIDTH 1.2   /* what is joined being at most 1.2 H wide */
#define READ_JOIN_HEIGHT 1.6  /* and 1.6 H high; */
#define READ_JOIN_MARGIN 0.5  /* two glyphs are read as one digit when that scores e^0.5 times better; */
#define READ_JOIN_SURE -0.05  /* a glyph scoring above this (read surely, in a likely shape) gains
                                 too little from a fragment to try one */
#define READ_REJECT_GATE 0.5  /* a glyph an 11-output model reads as more likely not one digit than
                                 one is tried however narrow */
#define READ_SURE_ONE 0.99    /* a glyph an 11-output model reads as one digit with this probability,
                                 and as not one digit with at most 1 - this, ... */
#define READ_TEXT_SURE   0.9  /* a glyph a 12-output model reads as text this surely is left out, */
#define READ_WORD_GAP    1.2  /* and so is its word (glyphs at most 1.2 times the lower's height apart) */
#define READ_WORD_DIGITS 0.85 /* when its other glyphs read as digits at a mean probability under this, */
#define READ_WORD_SURE_DIGIT 0.95 /* all but a run of glyphs read as digits this surely, */
#define READ_WORD_DIGIT_RUN 3 /* this many or more; */
#define READ_LETTER_LOW 0.3   /* a word of one or two glyphs is text beside more than twice as many
                                 lower-case letters, as high as this share of its lowest glyph */
#define READ_LOWER_CASE_FRAGMENTS 4096 /* looked for among this many fragments at most */
#define READ_WORD_SPACE 0.5   /* a text word's glyphs after (or before) a space this share of the
                                 lower glyph's height wide, empty of letters, stay when they read as
                                 digits as READ_WORD_DIGITS asks, none under READ_NUMBER_DIGIT: a
                                 number written after a label (`Qty 579`) */
#define READ_NUMBER_DIGIT 0.5
#define READ_SPACE_NARROW 0.3 /* a narrower space (a serif font's: 0.37 to 0.48 of the digits' height) is
                                 at least this share of the word's tallest glyph wide, */
#define READ_SPACE_MEDIAN 2.5 /* and this many times the word's median gap between glyphs */
#define READ_UNIT_ALIGN 0.05  /* a printed number: two or more glyphs of a line read surely as digits, whose
                                 tops and bottoms agree within this share of their height h; */
#define READ_UNIT_GAP 1.0     /* its unit: the glyphs after it, each at most this share of h from the one
                                 before (`565 mm`, `582cm`); */
#define READ_UNIT_X_HEIGHT 0.2 /* a glyph of the unit that step 6 cut into digits is a lower-case letter
                                  (an m's arches read as 7s, its stem as a 1) when every piece of it stands
                                  on the number's baseline (within READ_UNIT_ALIGN h) and begins this
                                  share of h below the digits' tops; */
#define READ_UNIT_DESCENT_TOP 0.12 /* and in a unit holding a glyph read surely as text, so is one that
                                      begins this share of h below the tops, */
#define READ_UNIT_DESCENT 0.2 /* ends this share below the baseline */
#define READ_UNIT_DESCENDER_LOW 0.6  /* and is 0.6 to 1.2 h high, as a g, p, q or y (the g of `kg` */
#define READ_UNIT_DESCENDER_HIGH 1.2 /* reads as a sure 9; a comma is lower) */
#define READ_LOWER_BESIDE 0.2 /* a glyph read as a digit beside a sure text glyph of height t, on its
                                 baseline (within READ_UNIT_ALIGN t), beginning this share of t below
                                 it, is a lower-case letter of its word (the o of `No. 75`) */
#define READ_LOWER_NEXT 0.1   /* ... and this share of t below the next glyph on that baseline */
#define READ_LABEL_GLYPHS 3   /* a label apart from its number (or a unit) has 3 glyphs or more: a
                                 sign and a digit are none (`$8 084` is 8084, `£2 563` 2563) */
#define READ_SURE_SHAPE 1.0   /* ... loses at most e^1 to its shape prior when its cuts are weighed:
                                 the 11th class has seen digits side by side and says there is one
                                 (a wide 9 was cut into a 0 and a 1 for its aspect alone) */

static double sq(double v) { return v * v; }

/* Width / height of MNIST's training digits by class (their bounding boxes at ink > 64 / 255):
 * mean and standard deviation. */
static const double aspect_mean[10] = {0.92, 0.44, 0.95, 0.81, 0.80, 0.96, 0.74, 0.79, 0.77, 0.69};
static const double aspect_sd[10] = {0.18, 0.20, 0.21, 0.17, 0.17, 0.25, 0.16, 0.17, 0.17, 0.14};

/* Log prior of a piece of w x h pixels being digit k, given H, relative to the most likely shape:
 * the aspect of MNIST's digits of class k, its spread widened by READ_ASPECT_SPREAD for other
 * writers, slant and rotation; and low pieces are fragments. Soft, so that the classifier's
 * confidence can outweigh it. */
static double shape_prior(int k, double w, double h, double H)
{
    const double a = w / h, r = h / H;
    double pen = 0;
    if (r < READ_LOW) pen += sq((READ_LOW - r) / 0.12);
    pen += 0.5 * sq((a - aspect_mean[k]) / (READ_ASPECT_SPREAD * aspect_sd[k]));
    return -pen;
}

/* The highest of a reading's 10 digit probabilities. */
static float top_of(const float *pr)
{
    float top = 0;
    for (int c = 0; c < 10; c++) top = pr[c] > top ? pr[c] : top;
    return top;
}

/* Best class score of a piece: max over k of log p_k + its shape prior. */
static double piece_score(const float *prob, double w, double h, double H)
{
    double best = -DBL_MAX;
    for (int k = 0; k < 10; k++) {
        const double v = log(fmax((double)prob[k], 1e-30)) + shape_prior(k, w, h, H);
        if (v > best) best = v;
    }
    return best;
}

/* Log-probability cost of a cut path that parts `strokes` strokes. */
static double cut_cost(double strokes)
{
    return READ_CUT_STROKE * strokes + READ_CUT_MORE * fmax(0.0, strokes - READ_CUT_ONE);
}

/* One model of a reading: its input shape as a batch of n, and how its outputs become probabilities. */
typedef struct member {
    nn_model *model;
    int64_t shape[NN_MAX_EXAMPLE_RANK + 1];
    int rank;
    int softmax_given; /* nn_model_predict() gives probabilities */
} member;

typedef struct reader {
    member m[NN_DIGITS_MAX_MODELS];
    int count;
    int64_t outputs; /* 10; 11 when the last class is "not one digit" (nn-mnist train --reject); 12
                        when a class of text follows it (--letters) */
    float *out;      /* n x outputs, as a model gives them */
    float *sum;      /* n x outputs, the members' probabilities added (more than one model) */
    int64_t out_cap;
} reader;

/* The readers' models checked: each reads a 28 x 28 digit into the same 10 or 11 classes. */
static nn_status reader_init(reader *r, nn_model *const *models, int count, const char *who)
{
    memset(r, 0, sizeof *r);
    if (!models) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: models is NULL", who);
    if (count < 1 || count > NN_DIGITS_MAX_MODELS)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: %d models; give 1 to %d", who, count, NN_DIGITS_MAX_MODELS);
    for (int k = 0; k < count; k++) {
        nn_model *model = models[k];
        if (!model) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: model %d is NULL", who, k);
        /* Asked here, or the message would name nn_model_predict(), which the caller never called. */
        if (nn_model_params(model, NULL, NULL) != NN_OK) {
            if (count > 1)
                return nn__fail(NN_ERR_STATE, "%s: model %d is not compiled: compile it first (nn_model_compile)",
                                who, k);
            return nn__fail(NN_ERR_STATE, "%s: the model is not compiled: compile it first (nn_model_compile)", who);
        }
        member *m = &r->m[k];
        m->model = model;
        m->softmax_given = nn_model_get_loss(model) == NN_LOSS_SOFTMAX_CROSS_ENTROPY;
        m->rank = nn_model_input_shape(model, m->shape + 1);
        int64_t in = 1;
        for (int i = 1; i <= m->rank; i++) in *= m->shape[i];
        const int64_t outputs = nn_model_output_features(model);
        if (m->rank < 1 || in != NN_DIGITS_PIXELS || outputs < 10 || outputs > 12) {
            char which[32] = "the model";
            if (count > 1) snprintf(which, sizeof which, "model %d", k);
            return nn__fail(NN_ERR_SHAPE,
                            "%s: %s reads %lld values into %lld classes; a digit reader reads %d "
                            "(28 x 28) into 10, 11 whose last is \"not one digit\", or 12 whose last is text",
                            who, which, (long long)nn_model_input_features(model), (long long)outputs,
                            NN_DIGITS_PIXELS);
        }
        if (k > 0 && outputs != r->outputs)
            return nn__fail(NN_ERR_SHAPE, "%s: model %d has %lld classes and model 0 %lld; models read together "
                            "must share their classes", who, k, (long long)outputs, (long long)r->outputs);
        r->outputs = outputs;
    }
    r->count = count;
    return NN_OK;
}

/* One member's outputs as probabilities, in place: another loss's outputs already a distribution are
 * taken as they are, others through softmax. */
static void to_probabilities(float *p, int64_t c, int softmax_given)
{
    if (softmax_given) return;
    float mx = p[0];
    double sum = 0;
    int dist = 1;
    for (int64_t k = 0; k < c; k++) {
        dist &= p[k] >= 0 && p[k] <= 1;
        sum += p[k];
        if (p[k] > mx) mx = p[k];
    }
    if (!dist || fabs(sum - 1) >= 1e-3) {
        sum = 0;
        for (int64_t k = 0; k < c; k++) sum += exp((double)(p[k] - mx));
        for (int64_t k = 0; k < c; k++) p[k] = (float)(exp((double)(p[k] - mx)) / sum);
    }
}

/* Probabilities of n images: the 10 digits' (n x 10) and, with 11- and 12-output models, the rest,
 * that of not being one digit, in reject[i] (else 0); with 12, of that the text's in text[i] (else 0;
 * text may be NULL). Several models' probabilities are averaged. */
static nn_status classify(reader *r, float *probs, float *reject, float *text, float *images, int64_t n)
{
    if (n == 0) return NN_OK;
    const int64_t c = r->outputs;
    if (n > r->out_cap) {
        float *o = realloc(r->out, (size_t)n * (size_t)c * sizeof *o);
        if (o) r->out = o;
        float *s = r->count > 1 ? realloc(r->sum, (size_t)n * (size_t)c * sizeof *s) : NULL;
        if (s) r->sum = s;
        if (!o || (r->count > 1 && !s)) return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory");
        r->out_cap = n;
    }
    for (int k = 0; k < r->count; k++) {
        member *m = &r->m[k];
        nn_tensor x, y;
        m->shape[0] = n;
        nn_status st = nn_tensor_view(&x, images, m->rank + 1, m->shape);
        if (st == NN_OK) st = nn_tensor_view(&y, r->out, 2, (int64_t[]){n, c});
        if (st == NN_OK) st = nn_model_predict(m->model, &y, &x);
        if (st != NN_OK) return st;
        /* A NaN compares false with everything: read on, it would come out as a sure 0. */
        for (int64_t i = 0; i < n * c; i++)
            if (!isfinite(r->out[i]))
                return nn__fail(NN_ERR_NUMERIC, "nn_digits: model %d gave a non-finite output (%g) for a "
                                "glyph: are its weights finite?", k, (double)r->out[i]);
        for (int64_t i = 0; i < n; i++) to_probabilities(r->out + i * c, c, m->softmax_given);
        if (r->count == 1) break;
        for (int64_t i = 0; i < n * c; i++) r->sum[i] = k ? r->sum[i] + r->out[i] : r->out[i];
    }
    const float *p = r->out;
    if (r->count > 1) {
        for (int64_t i = 0; i < n * c; i++) r->sum[i] /= (float)r->count;
        p = r->sum;
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(probs + i * 10, p + i * c, 10 * sizeof *probs);
        reject[i] = c > 10 ? p[i * c + 10] + (c > 11 ? p[i * c + 11] : 0.0f) : 0.0f;
        if (text) text[i] = c > 11 ? p[i * c + 11] : 0.0f;
    }
    return NN_OK;
}

static nn_status push_glyph(nn__glyphs *gs, const nn__glyph *gl)
{
    if (gs->n == gs->cap) {
        int64_t cap = gs->cap ? gs->cap * 2 : 16;
        nn__glyph *g = realloc(gs->g, (size_t)cap * sizeof *g);
        if (!g) return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory");
        gs->g = g;
        gs->cap = cap;
    }
    gs->g[gs->n++] = *gl;
    return NN_OK;
}

/* Kept pieces' images and probabilities (none when prob is NULL: nn_digits_pieces()), grown as
 * digits are found. */
typedef struct kept {
    float *images, *probs, *text; /* text: the probability of being text, with 12-output models */
    int64_t n, cap;
} kept;

static nn_status keep(kept *k, const float *img, const float *prob, float text)
{
    if (k->n == k->cap) {
        int64_t cap = k->cap ? 2 * k->cap : 16;
        float *a = realloc(k->images, (size_t)cap * NN_DIGITS_PIXELS * sizeof *a);
        if (a) k->images = a;
        float *b = prob ? realloc(k->probs, (size_t)cap * 10 * sizeof *b) : NULL;
        if (b) k->probs = b;
        float *c = prob ? realloc(k->text, (size_t)cap * sizeof *c) : NULL;
        if (c) k->text = c;
        if (!a || (prob && (!b || !c))) return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory");
        k->cap = cap;
    }
    memcpy(k->images + k->n * NN_DIGITS_PIXELS, img, NN_DIGITS_PIXELS * sizeof *img);
    if (prob) memcpy(k->probs + k->n * 10, prob, 10 * sizeof *prob);
    if (prob) k->text[k->n] = text;
    k->n++;
    return NN_OK;
}

enum { MAXP = (READ_MAX_CUTS + 2) * (READ_MAX_CUTS + 1) / 2 };

/* A glyph wider than the gate may hold several digits (two touching digits can also be no wider
 * than one, a 1 against an 8: an 11-output model's reading tells those, in read_image()). */
static int may_hold_several(const nn__glyph *g, double H)
{
    const double gw = g->x1 - g->x0, gh = g->y1 - g->y0;
    return gw > READ_GATE_WIDTH * H && gw > READ_GATE_WIDTH * gh;
}

/* The lattice of glyph gl: up to READ_MAX_CUTS cut paths through it (*k, left to right), and every
 * piece between two of them, paths 0 and K + 1 being the glyph's own edges, but not the whole glyph:
 * piece (i, j) is pg[idx[i][j]], normalised as image idx[i][j] of images; -1 when it holds no ink or
 * is wider than READ_MAX_WIDTH H. *np pieces; none when no path was found (k->n == 0). The caller
 * frees *k. */
static nn_status lattice(pipeline *p, const nn__glyph *gl, nn__cuts *k, nn__glyph *pg,
                         int idx[READ_MAX_CUTS + 2][READ_MAX_CUTS + 2], float *images, int *np)
{
    const double H = p->glyphs.height;
    const int32_t m = (int32_t)ceil(READ_MIN_PIECE * H);
    *np = 0;
    nn_status st = nn__vision_cuts(k, gl, &p->comps, p->glyphs.cuts, H, gl->x0 + m, gl->x1 - m, READ_MAX_CUTS);
    if (st != NN_OK || k->n == 0) return st;
    const int K = k->n;
    const int64_t runs = nn__vision_group_runs(gl, &p->comps);
    if (runs > p->piece_cap) {
        nn__run *rr = realloc(p->piece.runs, (size_t)runs * sizeof *rr);
        if (rr) p->piece.runs = rr;
        int32_t *o = realloc(p->piece.order, (size_t)runs * sizeof *o);
        if (o) p->piece.order = o;
        if (!rr || !o) return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory cutting a glyph");
        p->piece_cap = runs;
    }
    p->piece.comps = &p->piece_comp;
    for (int i = 0; i <= K + 1 && st == NN_OK; i++)
        for (int j = i + 1; j <= K + 1 && st == NN_OK; j++) {
            idx[i][j] = -1;
            if (i == 0 && j == K + 1) continue;
            nn__glyph piece;
            nn__vision_piece(&piece, &p->piece, gl, &p->comps, p->glyphs.cuts,
                             i ? k->x + (int64_t)(i - 1) * k->h : NULL, j <= K ? k->x + (int64_t)(j - 1) * k->h : NULL);
            if (piece.area == 0 || piece.x1 - piece.x0 > READ_MAX_WIDTH * H) continue;
            st = nn__vision_normalize(images + (int64_t)*np * NN_DIGITS_PIXELS, &piece, &p->piece, &p->ink, p->w,
                                      (double)p->o.stroke_width, p->fill, NULL);
            pg[*np] = piece;
            idx[i][j] = (*np)++;
        }
    return st;
}

/* Glyph gi read as 1 to READ_MAX_CUTS + 1 digits: cut paths between them, every piece between two
 * paths classified in one batch, and the partition of highest score kept (dynamic programming over
 * the paths, left to right). When it is more than one digit, the glyph is replaced by its pieces.
 * text1: its probability of being text, with a 12-output model whose text is left out (else 0). */
static nn_status read_glyph(pipeline *p, reader *r, int64_t gi, const float *prob1, float reject1, float text1,
                            float *images, float *probs, float *reject, float *text, kept *kp)
{
    nn__glyphs *gs = &p->glyphs;
    const nn__glyph gl = gs->g[gi];
    const double H = gs->height;
    nn__cuts k;
    nn__glyph pg[MAXP];
    int idx[READ_MAX_CUTS + 2][READ_MAX_CUTS + 2];
    int np = 0;
    nn_status st = lattice(p, &gl, &k, pg, idx, images, &np);
    if (st == NN_OK && k.n > 0) st = classify(r, probs, reject, text, images, np);
    if (st != NN_OK || k.n == 0) {
        nn__vision_cuts_free(&k);
        return st;
    }
    const int K = k.n;
    double whole = piece_score(prob1, gl.x1 - gl.x0, gl.y1 - gl.y0, H);
    if (r->outputs > 10 && reject1 <= 1 - READ_SURE_ONE) {
        const float top = top_of(prob1);
        if (top >= READ_SURE_ONE) whole = fmax(whole, log((double)top) - READ_SURE_SHAPE);
    }
    /* best[j]: the best reading of the glyph up to path j; from[j] the path before. */
    double best[READ_MAX_CUTS + 2];
    int from[READ_MAX_CUTS + 2];
    best[0] = 0;
    from[0] = -1;
    for (int j = 1; j <= K + 1; j++) {
        best[j] = -DBL_MAX;
        from[j] = -1;
        for (int i = 0; i < j; i++) {
            if (best[i] == -DBL_MAX) continue;
            double s;
            if (i == 0 && j == K + 1) {
                s = whole;
            } else {
                const int q = idx[i][j];
                if (q < 0) continue;
                s = piece_score(probs + q * 10, pg[q].x1 - pg[q].x0, pg[q].y1 - pg[q].y0, H);
            }
            if (i > 0) s -= cut_cost(k.cost[i - 1]);
            if (best[i] + s > best[j]) {
                best[j] = best[i] + s;
                from[j] = i;
            }
        }
    }
    /* Text (text1, when it is to be left out) is cut only into pieces read surely as digits: else a
     * letter's strokes would come out as 1s. It is then left out whole (drop_text()). */
    int all_sure = 1;
    for (int j = K + 1; text1 >= READ_TEXT_SURE && from[K + 1] > 0 && j > 0; j = from[j]) {
        all_sure &= top_of(probs + idx[from[j]][j] * 10) >= READ_WORD_SURE_DIGIT;
    }
    if (from[K + 1] <= 0 || !all_sure) { /* one digit (or text) after all */
        nn__vision_cuts_free(&k);
        return NN_OK;
    }
    /* The pieces, right to left; each path used is stored once and shared by its two sides. */
    int64_t right_cut = 0;
    for (int j = K + 1; j > 0 && st == NN_OK;) {
        const int i = from[j];
        int64_t left_cut = 0;
        if (i > 0) {
            left_cut = nn__vision_add_cut(gs, &gl, &p->comps, k.x + (int64_t)(i - 1) * k.h, gl.y0, k.h);
            if (!left_cut) st = NN_ERR_NO_MEMORY;
        }
        if (st != NN_OK) break;
        const int q = idx[i][j];
        nn__glyph g = gl;
        g.cut_l = left_cut;
        g.cut_r = right_cut;
        g.x0 = pg[q].x0;
        g.x1 = pg[q].x1;
        g.y0 = pg[q].y0;
        g.y1 = pg[q].y1;
        g.area = pg[q].area;
        g.tag = -1 - kp->n;
        st = keep(kp, images + (int64_t)q * NN_DIGITS_PIXELS, probs + q * 10, text[q]);
        if (st == NN_OK) st = push_glyph(gs, &g);
        right_cut = left_cut;
        j = i;
    }
    gs->g[gi].area = 0; /* replaced by its pieces */
    nn__vision_cuts_free(&k);
    return st;
}

/* A way to join two pieces into one digit: glyph g with glyph `other` (>= 0) or fragment -1 - other. */
typedef struct join_try {
    int64_t g, other;
    nn__glyph joined;
    double gain;
} join_try;

static int uncut(const nn__glyph *gl, const nn__components *c)
{
    const nn__comp *head = &c->comps[gl->group];
    return !gl->cut_l && !gl->cut_r && gl->cx0 <= head->x0 && gl->cx1 >= head->x1;
}

/* The larger of the horizontal and vertical gaps between two boxes (negative when they overlap). */
static double box_gap(const nn__glyph *a, const nn__glyph *b)
{
    const double gx = (double)((a->x0 > b->x0 ? a->x0 : b->x0) - (a->x1 < b->x1 ? a->x1 : b->x1));
    const double gy = (double)((a->y0 > b->y0 ? a->y0 : b->y0) - (a->y1 < b->y1 ? a->y1 : b->y1));
    return gx > gy ? gx : gy;
}

/* Adds the try of a and b joined when the union is no larger than a digit can be (any size when
 * H is 0). */
static void add_try(join_try *t, int64_t *n, int64_t g, int64_t other, const nn__glyph *a, const nn__glyph *b,
                    double H)
{
    nn__glyph j = *a;
    j.x0 = a->x0 < b->x0 ? a->x0 : b->x0;
    j.y0 = a->y0 < b->y0 ? a->y0 : b->y0;
    j.x1 = a->x1 > b->x1 ? a->x1 : b->x1;
    j.y1 = a->y1 > b->y1 ? a->y1 : b->y1;
    j.cx0 = a->cx0 < b->cx0 ? a->cx0 : b->cx0;
    j.cx1 = a->cx1 > b->cx1 ? a->cx1 : b->cx1;
    j.area = a->area + b->area;
    if (H > 0 && (j.x1 - j.x0 > READ_JOIN_WIDTH * H || j.y1 - j.y0 > READ_JOIN_HEIGHT * H)) return;
    t[(*n)++] = (join_try){g, other, j, 0};
}

/* Higher gain first; equal gains in the order tried (joined.tag), so that no libc's qsort decides. */
static int by_gain(const void *a, const void *b)
{
    const join_try *p = a, *q = b;
    if (p->gain != q->gain) return (p->gain < q->gain) - (p->gain > q->gain);
    return (p->joined.tag > q->joined.tag) - (p->joined.tag < q->joined.tag);
}

/* The pieces of a broken digit, joined by what the model reads: a fragment too low to be a digit
 * (a detached bar, the end of a faint stroke) near a glyph, and two neighbours of a line, are tried
 * as one digit; the join is kept when the model reads it better than the glyph alone (a fragment) or
 * than the two apart by READ_JOIN_MARGIN, and an 11-output model does not read it as not one digit.
 * Best joins first, each glyph and fragment in one join at most. images, probs and reject rows are
 * the glyphs' (tag = index); a joined glyph takes the join's, its partner is emptied (area 0). */
static nn_status rejoin(pipeline *p, reader *r, float *images, float *probs, float *reject, float *text)
{
    nn__glyphs *gs = &p->glyphs;
    const double H = gs->height;
    if (gs->n == 0) return NN_OK;
    /* At most READ_JOIN_FRAGMENTS fragment tries per glyph, one pair try and one try of the parts of
     * a blob cut between two lines: memory follows the digits (max_digits bounds it), never the
     * specks of a texture. */
    const int64_t cap = gs->n * (READ_JOIN_FRAGMENTS + 2);
    join_try *t = malloc((size_t)cap * sizeof *t);
    float *ti = NULL, *tp = NULL, *tr = NULL;
    char *used = calloc((size_t)(gs->n + gs->nfrag), 1);
    double *score = malloc((size_t)gs->n * sizeof *score);
    nn_status st = t && used && score ? NN_OK : nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory");
    /* Scores are at most 0, so a join can only win where the glyphs alone score low enough: the
     * others are not tried (two glyphs scoring above -READ_JOIN_MARGIN together never lose to one). */
    for (int64_t g = 0; g < gs->n && st == NN_OK; g++) {
        const nn__glyph *a = &gs->g[g];
        score[g] = piece_score(probs + g * 10, a->x1 - a->x0, a->y1 - a->y0, H);
    }
    int64_t n = 0;
    for (int64_t g = 0; g < gs->n && st == NN_OK; g++) {
        /* The nearest fragments within reach of a glyph not read surely. */
        const nn__glyph *a = &gs->g[g];
        int64_t near[READ_JOIN_FRAGMENTS];
        double gap[READ_JOIN_FRAGMENTS];
        for (int k = 0; k < READ_JOIN_FRAGMENTS; k++) near[k] = -1, gap[k] = DBL_MAX;
        if (score[g] > READ_JOIN_SURE || !uncut(a, &p->comps)) continue;
        for (int64_t f = 0; f < gs->nfrag; f++) {
            const double d = box_gap(a, &gs->frag[f]);
            if (d > READ_JOIN_REACH * H || d >= gap[READ_JOIN_FRAGMENTS - 1] || !uncut(&gs->frag[f], &p->comps))
                continue;
            int k = READ_JOIN_FRAGMENTS - 1;
            for (; k > 0 && d < gap[k - 1]; k--) near[k] = near[k - 1], gap[k] = gap[k - 1];
            near[k] = f, gap[k] = d;
        }
        for (int k = 0; k < READ_JOIN_FRAGMENTS; k++)
            if (near[k] >= 0) add_try(t, &n, g, -1 - near[k], a, &gs->frag[near[k]], H);
    }
    for (int64_t g = 0; g + 1 < gs->n && st == NN_OK; g++) {
        const nn__glyph *a = &gs->g[g], *b = &gs->g[g + 1];
        const double gx = (double)((a->x0 > b->x0 ? a->x0 : b->x0) - (a->x1 < b->x1 ? a->x1 : b->x1));
        if (a->line == b->line && gx <= READ_JOIN_GAP * H && score[g] + score[g + 1] <= -READ_JOIN_MARGIN &&
            uncut(a, &p->comps) && uncut(b, &p->comps))
            add_try(t, &n, g, g + 1, a, b, H);
    }
    /* A blob two lines high that segment.c cut between the lines, when neither part reads well:
     * the cut may have parted one tall digit among small or broken ones. */
    for (int64_t b = 0; b < p->comps.nbridges && st == NN_OK; b++) {
        const int32_t up = p->comps.comps[p->comps.bridges[2 * b]].group,
                      down = p->comps.comps[p->comps.bridges[2 * b + 1]].group;
        int64_t ga = -1, gb = -1;
        for (int64_t g = 0; g < gs->n && up >= 0 && down >= 0 && up != down; g++) {
            if (gs->g[g].area == 0 || !uncut(&gs->g[g], &p->comps)) continue;
            if (gs->g[g].group == up) ga = g;
            if (gs->g[g].group == down) gb = g;
        }
        if (ga >= 0 && gb >= 0 && score[ga] + score[gb] <= -READ_JOIN_MARGIN && n < cap)
            add_try(t, &n, ga, gb, &gs->g[ga], &gs->g[gb], 0);
    }
    if (st == NN_OK && n > 0) {
        ti = malloc((size_t)n * NN_DIGITS_PIXELS * sizeof *ti);
        tp = malloc((size_t)n * 10 * sizeof *tp);
        tr = malloc((size_t)n * sizeof *tr);
        if (!ti || !tp || !tr) st = nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory");
    }
    for (int64_t k = 0; k < n && st == NN_OK; k++) {
        const nn__glyph *o = t[k].other >= 0 ? &gs->g[t[k].other] : &gs->frag[-1 - t[k].other];
        nn__join undo;
        nn__vision_join(&p->comps, gs->g[t[k].g].group, o->group, &undo);
        st = nn__vision_normalize(ti + k * NN_DIGITS_PIXELS, &t[k].joined, &p->comps, &p->ink, p->w,
                                  (double)p->o.stroke_width, p->fill, NULL);
        nn__vision_unjoin(&p->comps, &undo);
    }
    if (st == NN_OK) st = classify(r, tp, tr, NULL, ti, n);
    for (int64_t k = 0; k < n && st == NN_OK; k++) {
        const nn__glyph *j = &t[k].joined;
        double gain = piece_score(tp + k * 10, j->x1 - j->x0, j->y1 - j->y0, H) - score[t[k].g];
        if (t[k].other >= 0) gain -= score[t[k].other] + READ_JOIN_MARGIN;
        t[k].gain = tr[k] > READ_REJECT_GATE ? -DBL_MAX : gain;
    }
    /* Sorting loses each try's row in ti/tp/tr: keep it in `joined.tag`. */
    for (int64_t k = 0; k < n; k++) t[k].joined.tag = k;
    if (st == NN_OK) qsort(t, (size_t)n, sizeof *t, by_gain);
    for (int64_t k = 0; k < n && st == NN_OK && t[k].gain > 0; k++) {
        const int64_t g = t[k].g, o = t[k].other, uo = o >= 0 ? o : gs->n + (-1 - o), row = t[k].joined.tag;
        if (used[g] || used[uo]) continue;
        used[g] = used[uo] = 1;
        nn__join undo;
        nn__vision_join(&p->comps, gs->g[g].group, o >= 0 ? gs->g[o].group : gs->frag[-1 - o].group, &undo);
        const int64_t tag = gs->g[g].tag;
        gs->g[g] = t[k].joined;
        gs->g[g].tag = tag;
        memcpy(images + g * NN_DIGITS_PIXELS, ti + row * NN_DIGITS_PIXELS, NN_DIGITS_PIXELS * sizeof *images);
        memcpy(probs + g * 10, tp + row * 10, 10 * sizeof *probs);
        reject[g] = tr[row];
        text[g] = 0;
        if (o >= 0) gs->g[o].area = 0;
    }
    free(t);
    free(ti);
    free(tp);
    free(tr);
    free(used);
    free(score);
    return st;
}

/* The glyphs nn__vision_order() would keep, in their order: those emptied (area 0) taken out. */
static void compact(nn__glyphs *gs)
{
    int64_t m = 0;
    for (int64_t i = 0; i < gs->n; i++)
        if (gs->g[i].area > 0) gs->g[m++] = gs->g[i];
    gs->n = m;
}

/* Glyph i's probabilities: its row of probs/text (tag >= 0) or of the pieces kept (-1 - tag). */
static const float *probs_of(const nn__glyph *g, const float *probs, const kept *kp)
{
    return g->tag >= 0 ? probs + g->tag * 10 : kp->probs + (-1 - g->tag) * 10;
}

/* Whether a glyph reads as one digit at READ_WORD_SURE_DIGIT or more. */
static int sure_digit(const nn__glyph *g, const float *probs, const kept *kp)
{
    return top_of(probs_of(g, probs, kp)) >= READ_WORD_SURE_DIGIT;
}

static double text_of(const nn__glyph *g, const float *text, const kept *kp)
{
    return g->tag >= 0 ? text[g->tag] : kp->text[-1 - g->tag];
}

/* How many of the fragments (glyphs too low to be digits, set aside by step 5) stand on the baseline of
 * glyphs [a, b) of gs, a word, as lower-case letters beside a capital (`Invoice`): at least
 * READ_LETTER_LOW of its lowest glyph's height, not dots, their bottoms within 0.2 of that height
 * of the word's, in a chain from the word's ends with gaps of at most READ_WORD_GAP times that
 * height; counted up to `enough`. *sides gets 1 when the chain runs to the left, 2 to the right. */
static int64_t lower_case_beside(const nn__glyphs *gs, int64_t a, int64_t b, int64_t enough, int *sides)
{
    const nn__glyph *g = gs->g;
    double lo = DBL_MAX, bottom = 0;
    for (int64_t i = a; i < b; i++) {
        lo = fmin(lo, g[i].y1 - g[i].y0);
        bottom = fmax(bottom, g[i].y1);
    }
    double left = g[a].x0, right = g[b - 1].x1;
    const double gap = READ_WORD_GAP * lo;
    int64_t letters = 0;
    for (int grown = 1; grown && letters < enough;) { /* each pass takes those now within reach */
        grown = 0;
        for (int64_t f = 0; f < gs->nfrag; f++) {
            const nn__glyph *q = &gs->frag[f];
            const double h = q->y1 - q->y0;
            if ((q->x0 >= left && q->x1 <= right) || h < READ_LETTER_LOW * lo || q->x1 - q->x0 < 0.2 * h ||
                fabs(q->y1 - bottom) > 0.2 * lo)
                continue;
            if (q->x0 > right && q->x0 - right <= gap) right = q->x1, *sides |= 2;
            else if (q->x1 < left && left - q->x1 <= gap) left = q->x0, *sides |= 1;
            else continue;
            letters++;
            grown = 1;
        }
    }
    return letters;
}

/* The narrowest gap between glyphs of word [a, b) of g that is a space however high the glyphs beside
 * it: READ_SPACE_NARROW of its tallest glyph, and READ_SPACE_MEDIAN times its median gap. */
static double narrow_space(const nn__glyph *g, int64_t a, int64_t b)
{
    double tall = 0, gaps[64];
    int64_t n = 0;
    for (int64_t k = a; k < b; k++) {
        tall = fmax(tall, g[k].y1 - g[k].y0);
        if (k == a || n == 64) continue;
        const double gap = fmax(0.0, (double)(g[k].x0 - g[k - 1].x1));
        int64_t t = n++;
        for (; t > 0 && gaps[t - 1] > gap; t--) gaps[t] = gaps[t - 1];
        gaps[t] = gap;
    }
    return n ? fmax(READ_SPACE_NARROW * tall, READ_SPACE_MEDIAN * gaps[(n - 1) / 2]) : DBL_MAX;
}

/* Whether the gap between glyphs l and r of a word (l left of r) is a space: at least
 * READ_WORD_SPACE times the lower one's height wide, or `narrow` (narrow_space()), with no fragment
 * as high as a lower-case letter (READ_LETTER_LOW of that height; a colon's dots are lower) standing
 * in it beside them. Not judged (no space) on a page of more than READ_LOWER_CASE_FRAGMENTS
 * fragments. */
static int space_between(const nn__glyphs *gs, const nn__glyph *l, const nn__glyph *r, double narrow)
{
    const double lo = fmin(l->y1 - l->y0, r->y1 - r->y0), gap = r->x0 - l->x1;
    if ((gap < READ_WORD_SPACE * lo && gap < narrow) || gs->nfrag > READ_LOWER_CASE_FRAGMENTS) return 0;
    const double top = fmin(l->y0, r->y0), bottom = fmax(l->y1, r->y1);
    for (int64_t f = 0; f < gs->nfrag; f++) {
        const nn__glyph *q = &gs->frag[f];
        if (q->x1 > l->x1 && q->x0 < r->x0 && q->y1 > top && q->y0 < bottom && q->y1 - q->y0 >= READ_LETTER_LOW * lo)
            return 0;
    }
    return 1;
}

/* Whether glyphs [i, j) read as a number: none as text surely nor lower[k], each as a digit at
 * READ_NUMBER_DIGIT or more, and all at a mean of READ_WORD_DIGITS or more. */
static int number_of(const nn__glyph *g, int64_t i, int64_t j, const float *probs, const float *text,
                     const kept *kp, const unsigned char *lower)
{
    double sum = 0;
    for (int64_t k = i; k < j; k++) {
        if (text_of(&g[k], text, kp) >= READ_TEXT_SURE || lower[k]) return 0;
        const float top = top_of(probs_of(&g[k], probs, kp));
        if (top < READ_NUMBER_DIGIT) return 0;
        sum += top;
    }
    return j > i && sum >= READ_WORD_DIGITS * (double)(j - i);
}

/* Whether glyphs [i, j) of a line are a text word: one or more read as text surely, and the others
 * (one or more) as digits at a mean probability under READ_WORD_DIGITS, or (half: a label apart
 * from its number) no more of them than the sure ones, counting lower-case letters beside those
 * (lower[k]) with the sure ones there. */
static int text_word(const nn__glyph *g, int64_t i, int64_t j, const float *probs, const float *text,
                     const kept *kp, const unsigned char *lower, int half)
{
    int64_t sure = 0, letters = 0;
    double digits = 0;
    for (int64_t k = i; k < j; k++) {
        if (text_of(&g[k], text, kp) >= READ_TEXT_SURE) {
            sure++;
            continue;
        }
        digits += top_of(probs_of(&g[k], probs, kp));
        letters += lower[k];
    }
    const int64_t others = j - i - sure;
    return sure > 0 && others > 0 &&
           (digits < READ_WORD_DIGITS * (double)others || (half && others - letters <= sure + letters));
}

/* Where the part of glyphs [k, j) of a word that begins at k ends: at its first space, or j. */
static int64_t part_end(const nn__glyphs *gs, int64_t k, int64_t j, double narrow)
{
    for (int64_t m = k + 1; m < j; m++)
        if (space_between(gs, &gs->g[m - 1], &gs->g[m], narrow)) return m;
    return j;
}

/* Where the number of run [i, j) of sure digits, in a word that begins at a, ends. A run that begins
 * the word, or a space after its start, or after a glyph not known as text (read surely as text, or
 * lower[]), is one number across its spaces (`84 680`); one that goes on from a letter with no space
 * is so only as thousands are grouped (`$8 084`: 1 to 3 glyphs, then 3 and 3) and that letter is no
 * lower-case one on its baseline; else its part before the first space is the word's last letters
 * (the l of `Total 36`, read surely as a 1), judged alone. */
static int64_t number_end(const nn__glyphs *gs, int64_t a, int64_t i, int64_t j, double narrow, const float *text,
                          const kept *kp, const unsigned char *lower)
{
    const nn__glyph *g = gs->g;
    const int64_t e = part_end(gs, i, j, narrow);
    if (i == a || (text_of(&g[i - 1], text, kp) < READ_TEXT_SURE && !lower[i - 1]) ||
        space_between(gs, &g[i - 1], &g[i], narrow) || e - i > 3)
        return j;
    /* after a lower-case letter (the a of `Total 250`) the part is the word's end, grouped or not */
    const double h = g[i].y1 - g[i].y0;
    if (fabs((double)(g[i - 1].y1 - g[i].y1)) <= READ_UNIT_ALIGN * h &&
        g[i - 1].y0 - g[i].y0 >= READ_LOWER_BESIDE * h)
        return e;
    for (int64_t from = e, next; from < j; from = next)
        if ((next = part_end(gs, from, j, narrow)) - from != 3) return e;
    return j;
}

/* Whether glyph k is lower, by READ_LOWER_NEXT of t, than the next glyph of its line that stands on
 * its baseline (within READ_UNIT_ALIGN of t; not a piece of the same cut glyph), or when none
 * follows, than the nearest such glyph before it not read surely as text: a lower-case letter beside
 * taller glyphs (the o of `Lot 42` before its t, the z of `5.70Hz` after the digits), not a digit
 * written smaller than a capital beside it (`E24`, whose 4 is as high as its 2; `N5`). */
static int lower_than_neighbour(const nn__glyphs *gs, int64_t k, double t, const float *text, const kept *kp)
{
    const nn__glyph *g = gs->g;
    const int cut = g[k].cut_l || g[k].cut_r;
    for (int dir = 1; dir >= -1; dir -= 2)
        for (int64_t n = k + dir; n >= 0 && n < gs->n && g[n].line == g[k].line; n += dir)
            if (fabs((double)(g[n].y1 - g[k].y1)) <= READ_UNIT_ALIGN * t &&
                !(cut && (g[n].cut_l || g[n].cut_r) && g[n].group == g[k].group) &&
                (dir > 0 || text_of(&g[n], text, kp) < READ_TEXT_SURE))
                return g[k].y0 - g[n].y0 >= READ_LOWER_NEXT * t;
    return 0;
}

/* Whether glyph k of word [a, b) stands beside a glyph read surely as text, with no space between,
 * as a lower-case letter beside a capital: on its baseline and READ_LOWER_BESIDE of its height lower,
 * and lower than the glyphs on its baseline beside it (lower_than_neighbour()). */
static int lower_beside_text(const nn__glyphs *gs, int64_t k, int64_t a, int64_t b, const float *text,
                             const kept *kp, double narrow)
{
    const nn__glyph *g = gs->g;
    for (int64_t n = k - 1; n <= k + 1; n += 2) {
        if (n < a || n >= b || text_of(&g[n], text, kp) < READ_TEXT_SURE) continue;
        const double t = g[n].y1 - g[n].y0;
        if (fabs((double)(g[k].y1 - g[n].y1)) <= READ_UNIT_ALIGN * t &&
            g[k].y0 - g[n].y0 >= READ_LOWER_BESIDE * t &&
            !space_between(gs, n < k ? &g[n] : &g[k], n < k ? &g[k] : &g[n], narrow) && lower_than_neighbour(gs, k, t, text, kp))
            return 1;
    }
    return 0;
}

/* lower[k] for glyphs [a, b) of a word: set where lower_beside_text() finds a lower-case letter, but
 * not in three sure digits or more with no space between (a number). */
static void lower_case_marks(const nn__glyphs *gs, int64_t a, int64_t b, const float *probs,
                             const float *text, const kept *kp, double narrow, unsigned char *lower)
{
    const nn__glyph *g = gs->g;
    for (int64_t k = a; k < b; k++) {
        if (text_of(&g[k], text, kp) >= READ_TEXT_SURE || !lower_beside_text(gs, k, a, b, text, kp, narrow))
            continue;
        int64_t l = k, r = k + 1;
        if (sure_digit(&g[k], probs, kp)) {
            while (l > a && sure_digit(&g[l - 1], probs, kp) && !space_between(gs, &g[l - 1], &g[l], narrow)) l--;
            while (r < b && sure_digit(&g[r], probs, kp) && !space_between(gs, &g[r - 1], &g[r], narrow)) r++;
        }
        lower[k] = r - l < READ_WORD_DIGIT_RUN;
    }
}

/* Text among the digits, by a 12-output model's last class (a letter or a sign: nn-mnist train
 * --letters): a glyph read as text surely is left out, and so is every glyph of a word (glyphs of one
 * line, each at most READ_WORD_GAP times the lower one's height from the next) that holds one and
 * whose other glyphs read as digits only doubtfully: a printed label, a name or a street, whose
 * letters that look like digits (o, l, S, B) the model cannot tell from them one by one. So is a word
 * of one or two glyphs beside more than twice as many lower-case letters, too low to be glyphs
 * (lower_case_beside()), and a glyph read as a digit that stands beside a sure text one as a
 * lower-case letter does (lower_beside_text()). Digits
 * written beside a label are a word of their own, read surely. Leaves the glyphs compacted and
 * ordered. docs/predict.md, step 7. */
static nn_status drop_text(nn__glyphs *gs, const float *probs, const float *text, const kept *kp, double H)
{
    compact(gs);
    nn_status st = nn__vision_order(gs, H);
    nn__glyph *g = gs->g;
    /* per glyph: in a number between two spaces of a text word; a lower-case letter beside a capital */
    unsigned char *middle = st == NN_OK ? calloc(2 * (size_t)gs->n + 1, 1) : NULL, *lower = NULL;
    if (st == NN_OK && !middle) st = nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory reading words");
    if (middle) lower = middle + gs->n;
    for (int64_t a = 0; st == NN_OK && a < gs->n;) {
        int64_t b = a + 1;
        while (b < gs->n && g[b].line == g[a].line &&
               g[b].x0 - g[b - 1].x1 <= READ_WORD_GAP * fmin(g[b].y1 - g[b].y0, g[b - 1].y1 - g[b - 1].y0))
            b++;
        const double narrow = narrow_space(g, a, b);
        lower_case_marks(gs, a, b, probs, text, kp, narrow, lower);
        int word = text_word(g, a, b, probs, text, kp, lower, 0);
        /* One or two glyphs, as a label's capitals; a page of specks is no label beside digits. */
        int letters = 0; /* where lower-case letters made the word text: 1 left of it, 2 right */
        if (!word && b - a <= 2 && gs->nfrag <= READ_LOWER_CASE_FRAGMENTS)
            word = lower_case_beside(gs, a, b, 2 * (b - a) + 1, &letters) > 2 * (b - a);
        int64_t head = a, tail = b;
        /* A label before the word's first space, or a unit after its last, whose number's sure
         * digits keep the word from being text as a whole (`Date 12/06/2016`, whose D and t read
         * surely as 0 and 1): that part is a word of its own, and goes when it is text. Not a
         * part between spaces: `32 091 8451 EUR` would lose a group. */
        int64_t first = 0, last = 0;
        for (int64_t k = a + 1; !word && k < b; k++)
            if (space_between(gs, &g[k - 1], &g[k], narrow)) last = k, first = first ? first : k;
        if (first - a >= READ_LABEL_GLYPHS && text_word(g, a, first, probs, text, kp, lower, 1) &&
            number_of(g, first, b, probs, text, kp, lower))
            word = 1, tail = first;
        else if (last && b - last >= READ_LABEL_GLYPHS && text_word(g, last, b, probs, text, kp, lower, 1) &&
                 number_of(g, a, last, probs, text, kp, lower))
            word = 1, head = last;
        /* A number a space after its label, or before its unit, is no part of the word: [a, head)
         * and [tail, b) stay. The longest such is taken; never on the side of the lower-case letters
         * (in `7 Items` the I, read surely as a 1, is the capital, and the 7 the number). */
        for (int64_t k = a + 1; word && !(letters & 2) && k < b && tail == b; k++)
            if (space_between(gs, &g[k - 1], &g[k], narrow) && number_of(g, k, b, probs, text, kp, lower))
                tail = k;
        for (int64_t k = b - 1; word && !(letters & 1) && k > a && head == a; k--)
            if (k < tail && space_between(gs, &g[k - 1], &g[k], narrow) &&
                number_of(g, a, k, probs, text, kp, lower))
                head = k;
        /* So is a number between two spaces of a text word, of two glyphs or more, after a part that
         * holds text (`Total: 69 EUR`; the lb of `Weight 5 lb net` comes after a number). */
        for (int64_t k = a, e, texty = 0; word && k < b; k = e) {
            e = part_end(gs, k, b, narrow);
            if (texty && e < b && e - k >= 2 && number_of(g, k, e, probs, text, kp, lower))
                memset(middle + k, 1, (size_t)(e - k));
            texty = 0;
            for (int64_t q = k; q < e; q++) texty |= text_of(&g[q], text, kp) >= READ_TEXT_SURE || lower[q];
        }
        for (int64_t i = a; i < b;) {
            /* A run of sure digits in a text word stays when READ_WORD_DIGIT_RUN long: the digits
             * written after a label's colon or a currency sign, one word with them. */
            int64_t j = i;
            while (j < b && sure_digit(&g[j], probs, kp)) j++;
            if (j == i) j++;
            for (int64_t k = i, e; k < j; k = e) {
                e = word ? number_end(gs, a, k, j, narrow, text, kp, lower) : j;
                const int stays = e - k >= READ_WORD_DIGIT_RUN;
                for (int64_t q = k; q < e; q++)
                    if ((word && !stays && !middle[q] && q >= head && q < tail) ||
                        text_of(&g[q], text, kp) >= READ_TEXT_SURE || lower[q])
                        g[q].area = 0;
            }
            i = j;
        }
        a = b;
    }
    free(middle);
    return st;
}

/* Where the pieces of the glyph a cut piece came from lie, up and down: the highest top, and the
 * highest and lowest bottom of the pieces of its group on its line. */
typedef struct cut_span {
    int32_t top, bottom_lo, bottom_hi;
} cut_span;

/* span[k] for every cut piece k of glyphs [a, e) of a line, each group measured once. */
static void cut_spans(const nn__glyph *g, int64_t a, int64_t e, cut_span *span, unsigned char *done)
{
    for (int64_t k = a; k < e; k++) done[k] = !g[k].cut_l && !g[k].cut_r;
    for (int64_t k = a; k < e; k++) {
        if (done[k]) continue;
        cut_span s = {g[k].y0, g[k].y1, g[k].y1};
        for (int64_t j = k + 1; j < e; j++)
            if (!done[j] && g[j].group == g[k].group) {
                s.top = g[j].y0 < s.top ? g[j].y0 : s.top;
                s.bottom_lo = g[j].y1 < s.bottom_lo ? g[j].y1 : s.bottom_lo;
                s.bottom_hi = g[j].y1 > s.bottom_hi ? g[j].y1 : s.bottom_hi;
            }
        for (int64_t j = k; j < e; j++)
            if (!done[j] && g[j].group == g[k].group) span[j] = s, done[j] = 1;
    }
}

/* Whether q, a piece of a glyph that step 6 cut (its span: cut_spans()), is one of a lower-case
 * letter's: every piece of that glyph on its line stands on the baseline `bottom` of a number of
 * digits `top` to `bottom`, h high, and begins READ_UNIT_X_HEIGHT h below its top. */
static int cut_lower_case(const nn__glyph *q, const cut_span *span, double top, double bottom, double h)
{
    return (q->cut_l || q->cut_r) && span->top >= top + READ_UNIT_X_HEIGHT * h &&
           bottom - span->bottom_lo <= READ_UNIT_ALIGN * h && span->bottom_hi - bottom <= READ_UNIT_ALIGN * h;
}

/* Whether q reaches below the baseline as a lower-case g, p, q or y does (READ_UNIT_DESCENT_TOP). */
static int descender(const nn__glyph *q, double top, double bottom, double h)
{
    const double high = q->y1 - q->y0;
    return q->y0 >= top + READ_UNIT_DESCENT_TOP * h && q->y1 >= bottom + READ_UNIT_DESCENT * h &&
           high >= READ_UNIT_DESCENDER_LOW * h && high <= READ_UNIT_DESCENDER_HIGH * h;
}

/* A unit in lower case after a number (`565 mm`, `582cm`, `29 kg`): its letters that look like digits
 * were read as digits, an m cut into a 1 and two 7s, the g of kg a sure 9. Printed digits stand on
 * one baseline at one height, and the unit's lower-case letters begin lower: a glyph cut into
 * pieces that all stand on the baseline and begin lower (READ_UNIT_X_HEIGHT) after two or more such
 * digits, or after any number when the unit holds a glyph read surely as text, and a descender
 * (descender()) in a unit that holds one, are lower case. The unit is the word after the number (a
 * space may part them); such a glyph goes with the rest of it and the lower glyphs just before it
 * (the c of cm). Handwriting's digits rarely share a
 * baseline and height this closely, and a small digit written after them is one glyph, not a cut
 * one; a digit hanging below the line is no unit's without text beside it. Glyphs of gs ordered
 * by line (drop_text()); those left out get area 0. */
static nn_status drop_units(nn__glyphs *gs, const float *probs, const float *text, const kept *kp)
{
    nn__glyph *g = gs->g;
    cut_span *span = malloc((size_t)(gs->n ? gs->n : 1) * sizeof *span);
    unsigned char *done = malloc((size_t)(gs->n ? gs->n : 1));
    if (!span || !done) {
        free(span);
        free(done);
        return nn__fail(NN_ERR_NO_MEMORY, "nn_digits: out of memory");
    }
    for (int64_t a = 0; a < gs->n;) {
        int64_t e = a + 1;
        while (e < gs->n && g[e].line == g[a].line) e++;
        cut_spans(g, a, e, span, done);
        for (int64_t i = a; i < e;) {
            if (g[i].area == 0 || !sure_digit(&g[i], probs, kp)) {
                i++;
                continue;
            }
            const double top = g[i].y0, bottom = g[i].y1, h = bottom - top;
            int64_t last = i, digits = 1;
            for (int64_t j = i + 1; j < e; j++) {
                if (g[j].area == 0) continue;
                if (!sure_digit(&g[j], probs, kp) || fabs(g[j].y0 - top) > READ_UNIT_ALIGN * h ||
                    fabs(g[j].y1 - bottom) > READ_UNIT_ALIGN * h || g[j].x0 - g[last].x1 > READ_UNIT_GAP * h)
                    break;
                last = j;
                digits++;
            }
            /* The unit is one word: it ends at a space (`15 mar 2024`, `Invoice 26`). */
            int64_t w = last + 1, text_sure = 0;
            for (; w < e && g[w].x0 - g[w - 1].x1 <= READ_UNIT_GAP * h; w++) {
                const double lower = fmin(g[w].y1 - g[w].y0, g[w - 1].y1 - g[w - 1].y0);
                if (w > last + 1 && g[w].x0 - g[w - 1].x1 >= READ_WORD_SPACE * lower) break;
                text_sure |= text_of(&g[w], text, kp) >= READ_TEXT_SURE;
            }
            int64_t from = -1;
            for (int64_t k = last + 1; k < w && from < 0; k++) {
                if (g[k].area > 0 && (((digits >= 2 || text_sure) && cut_lower_case(&g[k], &span[k], top, bottom, h)) ||
                                      (text_sure && descender(&g[k], top, bottom, h))))
                    from = k;
            }
            if (from >= 0) {
                for (int64_t k = from - 1; k > last && (g[k].area == 0 || g[k].y0 >= top + READ_UNIT_X_HEIGHT * h); k--)
                    if (g[k].area > 0) from = k;
                for (int64_t k = from; k < w; k++) g[k].area = 0;
            }
            i = last + 1; /* a digit of the unit's word may begin the number of the next */
        }
        a = e;
    }
    free(span);
    free(done);
    return NN_OK;
}

/* One reading of the image at its size with the models of `models` (reader_init()); H is the median
 * digit height measured, and sp (when given) where a line of smaller digits was set aside. */
static nn_status read_image(nn_digits **out, double *H_out, small_part *sp, const reader *models,
                            const uint8_t *pixels, int64_t width, int64_t height, int64_t stride,
                            const nn_digits_options *opts, const char *who)
{
    *out = NULL;
    *H_out = 0;
    reader r = *models;
    r.out = r.sum = NULL;
    r.out_cap = 0;
    pipeline p;
    /* Touching digits are cut below, by what the model reads, rather than geometrically. */
    nn_status st = find_glyphs(&p, pixels, width, height, stride, opts, 0, who);
    float *images = NULL, *probs = NULL, *reject = NULL, *pimages = NULL, *pprobs = NULL, *preject = NULL;
    float *text = NULL, *ptext = NULL;
    kept kp = {NULL, NULL, NULL, 0, 0};
    const int64_t n = p.glyphs.n;
    if (st == NN_OK && n > 0) {
        images = malloc((size_t)n * NN_DIGITS_PIXELS * sizeof *images);
        probs = malloc((size_t)n * 10 * sizeof *probs);
        reject = malloc((size_t)n * sizeof *reject);
        pimages = malloc((size_t)MAXP * NN_DIGITS_PIXELS * sizeof *pimages);
        pprobs = malloc((size_t)MAXP * 10 * sizeof *pprobs);
        preject = malloc((size_t)MAXP * sizeof *preject);
        text = malloc((size_t)n * sizeof *text);
        ptext = malloc((size_t)MAXP * sizeof *ptext);
        if (!images || !probs || !reject || !pimages || !pprobs || !preject || !text || !ptext)
            st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    }
    if (st == NN_OK) st = normalize_all(&p, images);
    if (st == NN_OK) st = classify(&r, probs, reject, text, images, n);
    if (st == NN_OK && p.o.merge) st = rejoin(&p, &r, images, probs, reject, text);
    const double H = p.glyphs.height;
    for (int64_t i = 0; i < n && st == NN_OK && p.o.split; i++) {
        const nn__glyph *g = &p.glyphs.g[i];
        if (g->area == 0) continue; /* joined to its neighbour */
        /* Wide enough for two digits; or, with a model that knows what is not one digit, read as
         * not one (two digits touching can be no wider than one: a 1 against an 8). */
        if (may_hold_several(g, H) || reject[i] > READ_REJECT_GATE)
            st = read_glyph(&p, &r, i, probs + i * 10, reject[i], r.outputs > 11 && p.o.skip_text ? text[i] : 0,
                            pimages, pprobs, preject, ptext, &kp);
    }
    if (st == NN_OK && r.outputs > 11 && p.o.skip_text) {
        st = drop_text(&p.glyphs, probs, text, &kp, H);
        if (st == NN_OK) st = drop_units(&p.glyphs, probs, text, &kp);
    }
    if (st == NN_OK) {
        compact(&p.glyphs);
        const int64_t m = p.glyphs.n;
        if (m > p.o.max_digits)
            st = nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: found %lld digits, more than max_digits (%d)", who,
                          (long long)m, p.o.max_digits);
    }
    if (st == NN_OK) st = nn__vision_order(&p.glyphs, H);
    if (st == NN_OK) st = make_result(out, &p, images, probs, kp.images, kp.probs, who);
    *H_out = H;
    if (sp) *sp = small_part_of(&p.glyphs, width, height);
    free(images);
    free(probs);
    free(reject);
    free(pimages);
    free(pprobs);
    free(preject);
    free(text);
    free(ptext);
    free(r.out);
    free(r.sum);
    free(kp.images);
    free(kp.probs);
    free(kp.text);
    pipeline_free(&p);
    return st;
}

/* Readings at larger scales stop where the median digit would pass this height (pixels): the cuts and
 * the normalisation have all the resolution they use long before. */
#define SCALED_MAX_HEIGHT 400.0
/* ... and read only the box around the digits found at scale 1, grown by half a digit's height. */
#define SCALED_MARGIN 0.5

/* The box [x0, x1) x [y0, y1) around d's digits, grown by margin pixels within the image. */
static void around_digits(const nn_digits *d, int64_t margin, int64_t width, int64_t height, int64_t *x0,
                          int64_t *y0, int64_t *x1, int64_t *y1)
{
    int64_t a = width, b = height, c = 0, e = 0;
    for (int64_t i = 0; i < d->count; i++) {
        const int64_t *r = d->boxes + i * 5;
        a = r[0] < a ? r[0] : a, b = r[1] < b ? r[1] : b;
        c = r[0] + r[2] > c ? r[0] + r[2] : c, e = r[1] + r[3] > e ? r[1] + r[3] : e;
    }
    *x0 = a > margin ? a - margin : 0, *y0 = b > margin ? b - margin : 0;
    *x1 = width - c > margin ? c + margin : width, *y1 = height - e > margin ? e + margin : height;
}

/* The image as it lies, at 1 to o.scales times its size; sp: where scale 1 set a line of smaller
 * digits aside. */
static nn_status read_scales(nn_digits **out, small_part *sp, const reader *models, const uint8_t *pixels,
                             int64_t width, int64_t height, int64_t stride, const nn_digits_options *opts,
                             const char *who)
{
    const reader rm = *models;
    const nn_digits_options o = *opts;
    double H = 0;
    nn_status st = read_image(out, &H, sp, &rm, pixels, width, height, stride, &o, who);
    if (st != NN_OK || o.scales <= 1 || nn_digits_count(*out) == 0) return st;
    /* An image without digits stays so: reading a blank page enlarged is work for nothing. */
    nn_digits *rd[NN__DIGITS_MAX_SCALES] = {*out};
    int k = 1;
    /* Only the part of the image around the digits found is read again: a region is kept only
     * where the image as given has digits (scales.c), and a photo's text is a small part of it. */
    int64_t x0, y0, x1, y1;
    around_digits(rd[0], (int64_t)ceil(SCALED_MARGIN * H) + 2, width, height, &x0, &y0, &x1, &y1);
    const int64_t cw = x1 - x0, ch = y1 - y0;
    const uint8_t *crop = pixels + y0 * stride + x0;
    /* The crop is mostly ink: its polarity is the image's, not decided again. */
    nn_digits_options os = o;
    os.polarity = rd[0]->polarity;
    for (int s = 2; s <= o.scales && st == NN_OK; s++) {
        if (H * s > SCALED_MAX_HEIGHT || cw > NN_DIGITS_MAX_PIXELS / (s * s) / ch) continue;
        uint8_t *big = NULL;
        if ((st = nn__vision_enlarge(&big, crop, cw, ch, stride, s)) != NN_OK) break;
        double Hs;
        nn_digits *d = NULL;
        st = read_image(&d, &Hs, NULL, &rm, big, cw * s, ch * s, cw * s, &os, who);
        free(big);
        /* The arguments passed at scale 1, so a refusal here is more than max_digits glyphs (specks
         * grown past min_size): that reading is left out. */
        if (st == NN_ERR_INVALID_ARGUMENT) {
            st = NN_OK;
            nn_clear_error();
        }
        if (st != NN_OK || !d) continue;
        nn__digits_shrink_boxes(d, s, x0, y0, cw, ch);
        rd[k++] = d;
    }
    if (st == NN_OK && k == 1) return st; /* every larger scale skipped: *out is rd[0] */
    nn_digits *c = NULL;
    if (st == NN_OK) st = nn__digits_combine(&c, rd, k, H);
    /* Regions of several digits at a larger scale can add up past max_digits: scale 1's reading,
     * within it, stands then. */
    if (st == NN_OK && c->count > o.max_digits) {
        nn_digits_free(c);
        c = rd[0];
        rd[0] = NULL;
    }
    for (int r = 0; r < k; r++) nn_digits_free(rd[r]);
    *out = c;
    return st;
}

/* The image as it lies, at every scale, and a line of smaller digits set aside read on its own
 * (ctx: a level_ctx with the reader). */
static nn_status read_level(nn_digits **out, const void *ctx, const uint8_t *pixels, int64_t width,
                            int64_t height, int64_t stride, const nn_digits_options *opts, const char *who)
{
    const level_ctx *lc = ctx;
    small_part sp = {0, 0, 0, 0};
    nn_status st = read_scales(out, &sp, lc->r, pixels, width, height, stride, opts, who);
    if (st == NN_OK && !lc->nested && sp.x1 > sp.x0)
        st = read_small(out, read_level, lc, pixels, width, height, stride, opts, &sp, who);
    if (st != NN_OK) {
        nn_digits_free(*out);
        *out = NULL;
    }
    return st;
}

static nn_status read_models(nn_digits **out, nn_model *const *models, int count, const uint8_t *pixels,
                             int64_t width, int64_t height, int64_t stride, const nn_digits_options *opts,
                             const char *who)
{
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    nn_digits_options o;
    nn_status st =
        nn__options_take(&o, &digits_defaults, opts, digits_options_sizes, NN_DIGITS_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    reader rm;
    st = reader_init(&rm, models, count, who);
    if (st != NN_OK) return st;
    const level_ctx ctx = {&rm, 0};
    return without_separators(out, plated(out, read_level, &ctx, pixels, width, height, stride, &o, who), who);
}

/* ---- Tilted lines (step 10, deskew.c) ---- */

/* Lines tilted by less than NN__DESKEW_MIN_DEG (vision.h) are read as they lie: the model has learnt
 * digits turned by up to 10 degrees or so, and the reading order follows a line that falls by a
 * third of a digit's height over a string. Past this a "line" is as likely a column. */
#define DESKEW_MAX_DEG 40.0
/* Around the digits found, this much of H is turned with them. */
#define DESKEW_MARGIN 1.0
/* Beyond the image, the paper's spread along its edge over 2 H either way: a digit the border cuts
 * is about H wide, so paper is most of the window. */
#define DESKEW_EDGE_REACH 2.0

/* Whether reading d's image turned level is worth it (*go), and how to turn it. */
static nn_status deskew_plan(int *go, nn__turn *t, const nn_digits *d, int64_t width, int64_t height)
{
    *go = 0;
    if (d->count < 3) return NN_OK;
    const int64_t n = d->count < 256 ? d->count : 256;
    int64_t hs[256];
    for (int64_t i = 0; i < n; i++) hs[i] = d->boxes[i * 5 + 3];
    qsort(hs, (size_t)n, sizeof *hs, nn__int64_cmp);
    const double H = (double)hs[n / 2], deg = 3.14159265358979323846 / 180.0;
    double angle = 0;
    int lined = 0;
    nn_status st = nn__vision_skew(&angle, &lined, d->boxes, d->count, H);
    if (st != NN_OK || lined < 1 || fabs(angle) < NN__DESKEW_MIN_DEG * deg ||
        fabs(angle) > DESKEW_MAX_DEG * deg)
        return st;
    int64_t x0, y0, x1, y1;
    around_digits(d, (int64_t)ceil(DESKEW_MARGIN * H) + 2, width, height, &x0, &y0, &x1, &y1);
    nn__vision_turn_plan(t, angle, x0, y0, x1, y1, (int64_t)ceil(DESKEW_EDGE_REACH * H),
                         d->polarity != NN_DIGITS_POLARITY_LIGHT_ON_DARK);
    *go = t->out_w <= NN_DIGITS_MAX_PIXELS / t->out_h;
    return NN_OK;
}

/* How surely a reading with probabilities reads its digits: the mean log-probability of the class
 * each is read as (from 1e-4 up). */
static double sureness(const nn_digits *d)
{
    double sum = 0;
    for (int64_t i = 0; i < d->count; i++) {
        float best = 0;
        for (int c = 0; c < 10; c++) best = d->probs[i * 10 + c] > best ? d->probs[i * 10 + c] : best;
        sum += log(best > 1e-4f ? (double)best : 1e-4);
    }
    return d->count ? sum / (double)d->count : log(1e-4);
}

/* The image read as it lies; then, where its lines are tilted, the part around the digits turned
 * level and read again, in place of the first reading. */
static nn_status deskewed(nn_digits **out, level_fn level, const void *ctx, const uint8_t *pixels,
                          int64_t width, int64_t height, int64_t stride, const nn_digits_options *opts,
                          const char *who)
{
    nn_status st = level(out, ctx, pixels, width, height, stride, opts, who);
    nn__turn t;
    int go = 0;
    if (st != NN_OK || !opts->deskew) return st;
    uint8_t *turned = NULL;
    if ((st = deskew_plan(&go, &t, *out, width, height)) != NN_OK ||
        (go && (st = nn__vision_turn(&turned, pixels, width, height, stride, &t, who)) != NN_OK)) {
        nn_digits_free(*out);
        *out = NULL;
        return st;
    }
    if (!go) return NN_OK;
    /* The turned part is mostly ink: its polarity is the image's, not decided again. */
    nn_digits_options o = *opts;
    o.polarity = (*out)->polarity;
    nn_digits *d = NULL;
    st = level(&d, ctx, turned, t.out_w, t.out_h, t.out_w, &o, who);
    free(turned);
    /* The arguments passed as the image lay, so a refusal is more than max_digits glyphs (the
     * image's edge repeated into specks): the first reading stands. */
    if (st == NN_ERR_INVALID_ARGUMENT) {
        st = NN_OK;
        nn_clear_error();
    }
    if (st != NN_OK) {
        nn_digits_free(*out);
        *out = NULL;
        return st;
    }
    if (!d || d->count == 0) {
        nn_digits_free(d);
        return NN_OK;
    }
    /* With a model, the turned reading must be read at least as surely: a broken digit's pieces can
     * line up at a slant in level text, and turning it then only leans the digits over. */
    if (d->probs && sureness(d) < sureness(*out) && d->count >= (*out)->count && d->lines >= (*out)->lines) {
        nn_digits_free(d);
        return NN_OK;
    }
    nn__digits_unturn_boxes(d, &t, width, height);
    nn_digits_free(*out);
    *out = d;
    return NN_OK;
}

/* ---- A plate or card (step 0, plate.c) ---- */

/* A plate read as one digit is a box sharing PLATE_DIGIT_BOX of the plate's (intersection over union)
 * read at PLATE_DIGIT_SURE or more. */
#define PLATE_DIGIT_BOX 0.7
#define PLATE_DIGIT_SURE 0.9
/* A digit taken for a plate holds a dot or two loops: a plate's reading of more digits is no digit's. */
#define PLATE_DIGIT_HOLDS 2

/* Whether reading d (with probabilities) holds plate b read surely as one digit. */
static int plate_read_as_digit(const nn_digits *d, const nn__plate *b)
{
    for (int64_t i = 0; d && i < d->count; i++) {
        const int64_t *r = d->boxes + i * 5;
        const double ix = fmax(0, fmin((double)(r[0] + r[2]), (double)b->x1) - fmax((double)r[0], (double)b->x0));
        const double iy = fmax(0, fmin((double)(r[1] + r[3]), (double)b->y1) - fmax((double)r[1], (double)b->y0));
        const double both = (double)(r[2] * r[3]) + (double)((b->x1 - b->x0) * (b->y1 - b->y0)) - ix * iy;
        if (ix * iy >= PLATE_DIGIT_BOX * both && top_of(d->probs + i * 10) >= PLATE_DIGIT_SURE) return 1;
    }
    return 0;
}

/* The plate alone, when the image shows one and digits are read on it (and, with a model, the whole
 * image does not read the plate as a digit); else the whole image. */
static nn_status plated(nn_digits **out, level_fn level, const void *ctx, const uint8_t *pixels, int64_t width,
                        int64_t height, int64_t stride, const nn_digits_options *opts, const char *who)
{
    *out = NULL;
    uint8_t *crop = NULL;
    nn__plate b;
    const nn__gray g = {pixels, width, height, stride};
    nn_status st = NN_OK;
    if (opts->plate) {
        if ((st = check_image(pixels, width, height, stride, who)) != NN_OK || (st = check_options(opts, who)) != NN_OK ||
            (st = nn__vision_plate(&crop, &b, &g, who)) != NN_OK)
            return st;
    }
    if (crop) {
        nn_digits *d = NULL;
        st = deskewed(&d, level, ctx, crop, b.x1 - b.x0, b.y1 - b.y0, b.x1 - b.x0, opts, who);
        free(crop);
        /* The arguments passed, so a refusal is more than max_digits glyphs: the whole image is read. */
        if (st == NN_ERR_INVALID_ARGUMENT) {
            st = NN_OK;
            nn_clear_error();
        }
        if (st != NN_OK) return st;
        if (d && d->count > 0) {
            for (int64_t i = 0; i < d->count; i++) d->boxes[i * 5] += b.x0, d->boxes[i * 5 + 1] += b.y0;
            if (!d->probs || d->count > PLATE_DIGIT_HOLDS) {
                *out = d;
                return NN_OK;
            }
            /* With a model, the whole image is read too: where it reads the plate itself surely as a
             * digit (a bold 0 with a dot inside, the only ink of its image), and reads more surely than
             * the plate's reading (the dot read as a doubtful digit), the plate was a digit. A plate
             * read whole as the ink is often a sure 1 too, beside digits read less surely. */
            nn_digits *whole = NULL;
            st = deskewed(&whole, level, ctx, pixels, width, height, stride, opts, who);
            /* A refusal (more than max_digits glyphs: the wall's texture) leaves the plate's reading. */
            if (st == NN_ERR_INVALID_ARGUMENT) {
                st = NN_OK;
                nn_clear_error();
            }
            if (st == NN_OK && plate_read_as_digit(whole, &b) && sureness(whole) > sureness(d)) {
                nn_digits_free(d);
                *out = whole;
                return NN_OK;
            }
            nn_digits_free(whole);
            if (st != NN_OK) {
                nn_digits_free(d);
                return st;
            }
            *out = d;
            return NN_OK;
        }
        nn_digits_free(d);
    }
    return deskewed(out, level, ctx, pixels, width, height, stride, opts, who);
}

nn_status nn_digits_read(nn_digits **out, nn_model *model, const uint8_t *pixels, int64_t width, int64_t height,
                         int64_t stride, const nn_digits_options *opts)
{
    const char *who = "nn_digits_read";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    if (!model) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: model is NULL", who);
    return read_models(out, &model, 1, pixels, width, height, stride, opts, who);
}

nn_status nn_digits_read_ensemble(nn_digits **out, nn_model *const *models, int count, const uint8_t *pixels,
                                  int64_t width, int64_t height, int64_t stride, const nn_digits_options *opts)
{
    return read_models(out, models, count, pixels, width, height, stride, opts, "nn_digits_read_ensemble");
}

nn_status nn_digits_pieces(nn_digits **out, const uint8_t *pixels, int64_t width, int64_t height, int64_t stride,
                           const nn_digits_options *opts)
{
    const char *who = "nn_digits_pieces";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    pipeline p;
    /* The glyphs nn_digits_read() starts from: none cut geometrically. */
    nn_status st = find_glyphs(&p, pixels, width, height, stride, opts, 0, who);
    float *images = NULL, *pimages = NULL;
    kept kp = {NULL, NULL, NULL, 0, 0};
    nn__glyphs pieces = {0};
    const int64_t n = p.glyphs.n;
    if (st == NN_OK && n > 0) {
        images = malloc((size_t)n * NN_DIGITS_PIXELS * sizeof *images);
        pimages = malloc((size_t)MAXP * NN_DIGITS_PIXELS * sizeof *pimages);
        if (!images || !pimages) st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    }
    /* Every glyph normalised first, only to learn whether the text is hollow, as a reading does. */
    if (st == NN_OK) st = normalize_all(&p, images);
    for (int64_t gi = 0; gi < n && st == NN_OK && p.o.split; gi++) {
        const nn__glyph gl = p.glyphs.g[gi];
        if (!may_hold_several(&gl, p.glyphs.height)) continue;
        nn__cuts k;
        nn__glyph pg[MAXP];
        int idx[READ_MAX_CUTS + 2][READ_MAX_CUTS + 2];
        int np = 0;
        st = lattice(&p, &gl, &k, pg, idx, pimages, &np);
        for (int q = 0; q < np && st == NN_OK; q++) {
            nn__glyph g = gl;
            g.cut_l = g.cut_r = 0; /* the image is made: the paths are not needed again */
            g.x0 = pg[q].x0;
            g.x1 = pg[q].x1;
            g.y0 = pg[q].y0;
            g.y1 = pg[q].y1;
            g.area = pg[q].area;
            g.tag = -1 - kp.n;
            st = keep(&kp, pimages + (int64_t)q * NN_DIGITS_PIXELS, NULL, 0);
            if (st == NN_OK) st = push_glyph(&pieces, &g);
        }
        nn__vision_cuts_free(&k);
    }
    if (st == NN_OK) {
        /* The result holds the pieces, in their glyphs' reading order; its lines are those that
         * hold pieces, numbered again from 0. */
        int64_t lines = 0, prev = -1;
        for (int64_t i = 0; i < pieces.n; i++) {
            const int64_t line = pieces.g[i].line;
            if (i == 0 || line != prev) lines++;
            prev = line;
            pieces.g[i].line = lines - 1;
        }
        free(p.glyphs.g);
        p.glyphs.g = pieces.g;
        p.glyphs.n = pieces.n;
        p.glyphs.cap = pieces.cap;
        p.glyphs.lines = lines;
        pieces.g = NULL;
        st = make_result(out, &p, NULL, NULL, kp.images, NULL, who);
    }
    free(pieces.g);
    free(images);
    free(pimages);
    free(kp.images);
    free(kp.probs);
    free(kp.text);
    pipeline_free(&p);
    return st;
}

int64_t nn_digits_count(const nn_digits *d)
{
    return d ? d->count : 0;
}

float *nn_digits_image(nn_digits *d, int64_t i)
{
    return d && i >= 0 && i < d->count ? d->images + i * NN_DIGITS_PIXELS : NULL;
}

float *nn_digits_images(nn_digits *d)
{
    return d && d->count > 0 ? d->images : NULL;
}

nn_status nn_digits_box(const nn_digits *d, int64_t i, int64_t *x, int64_t *y, int64_t *w, int64_t *h)
{
    if (!d) return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_digits_box: result is NULL");
    if (i < 0 || i >= d->count)
        return nn__fail(NN_ERR_INVALID_ARGUMENT, "nn_digits_box: digit %lld of %lld", (long long)i,
                        (long long)d->count);
    const int64_t *b = d->boxes + i * 5;
    if (x) *x = b[0];
    if (y) *y = b[1];
    if (w) *w = b[2];
    if (h) *h = b[3];
    return NN_OK;
}

int64_t nn_digits_line(const nn_digits *d, int64_t i)
{
    return d && i >= 0 && i < d->count ? d->boxes[i * 5 + 4] : -1;
}

int64_t nn_digits_line_count(const nn_digits *d)
{
    return d ? d->lines : 0;
}

nn_digits_polarity nn_digits_polarity_used(const nn_digits *d)
{
    return d ? d->polarity : NN_DIGITS_POLARITY_AUTO;
}

nn_digits_threshold nn_digits_threshold_used(const nn_digits *d)
{
    return d ? d->threshold : NN_DIGITS_THRESHOLD_AUTO;
}

const float *nn_digits_probabilities(const nn_digits *d, int64_t i)
{
    return d && d->probs && i >= 0 && i < d->count ? d->probs + i * 10 : NULL;
}

int nn_digits_class(const nn_digits *d, int64_t i)
{
    const float *p = nn_digits_probabilities(d, i);
    if (!p) return -1;
    int best = 0;
    for (int k = 1; k < 10; k++)
        if (p[k] > p[best]) best = k;
    return best;
}
