/* nn_digits_find() (include/nn/digits.h): the steps in order, the options, and the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision.h"

struct nn_digits {
    int64_t count, lines;
    float *images;                  /* count x NN_DIGITS_PIXELS */
    int64_t *boxes;                 /* count x (x, y, w, h, line) */
    nn_digits_polarity polarity;
    nn_digits_threshold threshold;
};

static const size_t digits_options_sizes[] = {sizeof(nn_digits_options)};
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
    return NN_OK;
}

void nn_digits_free(nn_digits *d)
{
    if (!d) return;
    free(d->images);
    free(d->boxes);
    free(d);
}

nn_status nn_digits_find(nn_digits **out, const uint8_t *pixels, int64_t width, int64_t height, int64_t stride,
                         const nn_digits_options *opts)
{
    const char *who = "nn_digits_find";
    if (!out) return nn__fail(NN_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
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
    nn_digits_options o;
    nn_status st = nn__options_take(&o, &digits_defaults, opts, digits_options_sizes, NN_DIGITS_OPTIONS_VERSION, who);
    if (st != NN_OK) return st;
    if ((st = check_options(&o, who)) != NN_OK) return st;

    nn__gray g = {pixels, width, height, stride};
    nn__ink ink;
    nn__components comps;
    nn__glyphs glyphs;
    memset(&comps, 0, sizeof comps);
    memset(&glyphs, 0, sizeof glyphs);
    nn_digits *d = calloc(1, sizeof *d);
    if (!d) return nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory", who);
    st = nn__vision_ink(&ink, &g, (int)o.polarity, (int)o.threshold);
    if (st == NN_OK) st = nn__vision_components(&comps, &ink, width, height);
    if (st == NN_OK)
        st = nn__vision_segment(&glyphs, &comps, width, o.min_size, o.merge, o.split, (double)o.split_ratio);
    if (st == NN_OK && glyphs.n > o.max_digits)
        st = nn__fail(NN_ERR_INVALID_ARGUMENT,
                      "%s: found %lld digits, more than max_digits (%d): the image is likely a texture or "
                      "noise rather than writing; raise max_digits if it is not",
                      who, (long long)glyphs.n, o.max_digits);
    if (st == NN_OK && glyphs.n > 0) {
        d->images = malloc((size_t)glyphs.n * NN_DIGITS_PIXELS * sizeof *d->images);
        d->boxes = malloc((size_t)glyphs.n * 5 * sizeof *d->boxes);
        if (!d->images || !d->boxes) st = nn__fail(NN_ERR_NO_MEMORY, "%s: out of memory for %lld digits", who,
                                                   (long long)glyphs.n);
    }
    for (int64_t i = 0; i < glyphs.n && st == NN_OK; i++) {
        const nn__glyph *gl = &glyphs.g[i];
        st = nn__vision_normalize(d->images + i * NN_DIGITS_PIXELS, gl, &comps, &ink, width, (double)o.stroke_width);
        int64_t *b = d->boxes + i * 5;
        b[0] = gl->x0;
        b[1] = gl->y0;
        b[2] = gl->x1 - gl->x0;
        b[3] = gl->y1 - gl->y0;
        b[4] = gl->line;
    }
    if (st == NN_OK) {
        d->count = glyphs.n;
        d->lines = glyphs.lines;
        d->polarity = ink.dark_on_light ? NN_DIGITS_POLARITY_DARK_ON_LIGHT : NN_DIGITS_POLARITY_LIGHT_ON_DARK;
        d->threshold = ink.level > 255 ? NN_DIGITS_THRESHOLD_AUTO
                       : ink.adaptive  ? NN_DIGITS_THRESHOLD_ADAPTIVE
                                       : NN_DIGITS_THRESHOLD_OTSU;
        *out = d;
    } else {
        nn_digits_free(d);
    }
    free(ink.ink);
    nn__vision_components_free(&comps);
    free(glyphs.g);
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
