/* Composing digit-string images; see synth.h. */
#include "synth.h"

#include <cairo-ft.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PI 3.14159265358979323846

static float uni(nn_rng *rng, float lo, float hi) { return lo + (hi - lo) * nn_rng_uniform(rng); }
static int chance(nn_rng *rng, float p) { return nn_rng_uniform(rng) < p; }
static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

void bd_glyphs_free(bd_glyphs *gs)
{
    if (!gs) return;
    for (int i = 0; i < gs->n; i++) free(gs->g[i].cov);
    free(gs->g);
    for (int k = 0; k < 10; k++) free(gs->by_label[k]);
    memset(gs, 0, sizeof *gs);
}

/* Crops a coverage map (w x h, stride sw, values 0..255) to its ink and appends it as a glyph. */
static int add_glyph(bd_glyphs *gs, const uint8_t *px, int w, int h, int sw, int label, int style)
{
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (px[y * sw + x] > 0) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
    if (x1 < 0) return 0; /* no ink: a font without this digit */
    bd_glyph g = {NULL, x1 - x0 + 1, y1 - y0 + 1, label, style};
    g.cov = malloc((size_t)g.w * (size_t)g.h * sizeof *g.cov);
    bd_glyph *grown = realloc(gs->g, (size_t)(gs->n + 1) * sizeof *grown);
    if (!g.cov || !grown) {
        free(g.cov);
        if (grown) gs->g = grown;
        return -1;
    }
    gs->g = grown;
    for (int y = 0; y < g.h; y++)
        for (int x = 0; x < g.w; x++) g.cov[y * g.w + x] = px[(y + y0) * sw + x + x0] / 255.0f;
    gs->g[gs->n++] = g;
    return 0;
}

static int index_labels(bd_glyphs *gs)
{
    for (int k = 0; k < 10; k++) {
        gs->count[k] = 0;
        gs->by_label[k] = malloc((size_t)(gs->n ? gs->n : 1) * sizeof(int));
        if (!gs->by_label[k]) return -1;
    }
    for (int i = 0; i < gs->n; i++) {
        int k = gs->g[i].label;
        gs->by_label[k][gs->count[k]++] = i;
    }
    return 0;
}

int bd_glyphs_from_mnist(bd_glyphs *out, const nn_dataset *test, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int64_t rows, cols;
    nn_dataset_image_size(test, &rows, &cols);
    const uint8_t *px = nn_dataset_images(test), *labels = nn_dataset_labels(test);
    for (int64_t i = 0; i < nn_dataset_count(test); i++) {
        if (labels[i] > 9) {
            snprintf(err, errlen, "mnist: label %d of image %lld is not a digit", labels[i], (long long)i);
            bd_glyphs_free(out);
            return -1;
        }
        if (add_glyph(out, px + i * rows * cols, (int)cols, (int)rows, (int)cols, labels[i], 0) != 0) goto oom;
    }
    out->styles = 1;
    if (index_labels(out) != 0) goto oom;
    for (int k = 0; k < 10; k++)
        if (out->count[k] == 0) {
            snprintf(err, errlen, "mnist: no image of the digit %d", k);
            bd_glyphs_free(out);
            return -1;
        }
    return 0;
oom:
    snprintf(err, errlen, "mnist: out of memory");
    bd_glyphs_free(out);
    return -1;
}

/* The family of a fontconfig pattern string: what comes before ':' or '-'. */
static void pattern_family(char *fam, size_t cap, const char *pattern)
{
    size_t n = strcspn(pattern, ":-");
    if (n >= cap) n = cap - 1;
    memcpy(fam, pattern, n);
    fam[n] = 0;
}

/* Renders the ten digits of one installed font; 1 when the font is not installed. */
static int render_font(bd_glyphs *gs, const char *pattern, int style)
{
    enum { SIZE = 160, FONT_PX = 110 };
    FcPattern *pat = FcNameParse((const FcChar8 *)pattern);
    if (!pat) return 1;
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    FcPattern *match = FcFontMatch(NULL, pat, &res);
    FcPatternDestroy(pat);
    if (!match) return 1;
    /* fontconfig always answers with some font: only the family asked for counts. */
    FcChar8 *got = NULL;
    char want[128];
    pattern_family(want, sizeof want, pattern);
    if (FcPatternGetString(match, FC_FAMILY, 0, &got) != FcResultMatch || strcasecmp((const char *)got, want) != 0) {
        FcPatternDestroy(match);
        return 1;
    }
    cairo_font_face_t *face = cairo_ft_font_face_create_for_pattern(match);
    FcPatternDestroy(match);
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_A8, SIZE, SIZE);
    cairo_t *cr = cairo_create(surf);
    int rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS ? 0 : -1;
    cairo_set_font_face(cr, face);
    cairo_set_font_size(cr, FONT_PX);
    for (int k = 0; k < 10 && rc == 0; k++) {
        cairo_set_operator(cr, CAIRO_OPERATOR_CLEAR);
        cairo_paint(cr);
        cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
        cairo_set_source_rgba(cr, 0, 0, 0, 1);
        char text[2] = {(char)('0' + k), 0};
        cairo_move_to(cr, 30, 125);
        cairo_show_text(cr, text);
        cairo_surface_flush(surf);
        rc = add_glyph(gs, cairo_image_surface_get_data(surf), SIZE, SIZE, cairo_image_surface_get_stride(surf), k,
                       style);
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    cairo_font_face_destroy(face);
    return rc;
}

int bd_glyphs_from_fonts(bd_glyphs *out, const char *const *families, int n, char *skipped, size_t skippedlen,
                         char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (skippedlen) skipped[0] = 0;
    for (int f = 0; f < n; f++) {
        int before = out->n;
        if (out->styles == BD_MAX_STYLES) {
            size_t len = strlen(skipped);
            snprintf(skipped + len, skippedlen - len, "%s%s (over %d fonts)", len ? ", " : "", families[f],
                     BD_MAX_STYLES);
            continue;
        }
        int rc = render_font(out, families[f], out->styles + 1);
        if (rc < 0) {
            snprintf(err, errlen, "fonts: out of memory rendering %s", families[f]);
            bd_glyphs_free(out);
            return -1;
        }
        if (rc == 0 && out->n - before == 10) {
            snprintf(out->style_name[out->styles], sizeof out->style_name[0], "%s", families[f]);
            out->styles++;
        } else {
            for (int i = before; i < out->n; i++) free(out->g[i].cov);
            out->n = before;
            size_t len = strlen(skipped);
            snprintf(skipped + len, skippedlen - len, "%s%s", len ? ", " : "", families[f]);
        }
    }
    if (out->styles == 0) {
        snprintf(err, errlen, "fonts: none of the fonts asked for is installed (fc-list lists those that are)");
        bd_glyphs_free(out);
        return -1;
    }
    if (index_labels(out) != 0) {
        snprintf(err, errlen, "fonts: out of memory");
        bd_glyphs_free(out);
        return -1;
    }
    return 0;
}

/* ---- one glyph, scaled, rotated, thickened or thinned ---- */

typedef struct layer {
    float *cov;
    int w, h;
    int bx, by, bw, bh; /* ink box (coverage >= 0.35) in the layer */
} layer;

static float sample(const bd_glyph *g, float x, float y)
{
    x -= 0.5f;
    y -= 0.5f;
    int x0 = (int)floorf(x), y0 = (int)floorf(y);
    float fx = x - (float)x0, fy = y - (float)y0, v = 0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int xx = x0 + dx, yy = y0 + dy;
            if (xx < 0 || yy < 0 || xx >= g->w || yy >= g->h) continue;
            v += g->cov[yy * g->w + xx] * (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
        }
    return v;
}

/* Grey dilation (r > 0) or erosion (r < 0) with a disc: a thicker or thinner pen. */
static int morph(float *cov, int w, int h, int r)
{
    float *src = malloc((size_t)w * (size_t)h * sizeof *src);
    if (!src) return -1;
    memcpy(src, cov, (size_t)w * (size_t)h * sizeof *src);
    int a = abs(r);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float v = r > 0 ? 0.0f : 1.0f;
            for (int dy = -a; dy <= a; dy++)
                for (int dx = -a; dx <= a; dx++) {
                    if (dx * dx + dy * dy > a * a + a) continue;
                    int xx = x + dx, yy = y + dy;
                    float s = (xx < 0 || yy < 0 || xx >= w || yy >= h) ? 0.0f : src[yy * w + xx];
                    v = r > 0 ? fmaxf(v, s) : fminf(v, s);
                }
            cov[y * w + x] = v;
        }
    free(src);
    return 0;
}

static void ink_box(layer *l)
{
    int x0 = l->w, y0 = l->h, x1 = -1, y1 = -1;
    for (int y = 0; y < l->h; y++)
        for (int x = 0; x < l->w; x++)
            if (l->cov[y * l->w + x] >= 0.35f) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
    if (x1 < 0) {
        l->bx = l->by = l->bw = l->bh = 0;
        return;
    }
    l->bx = x0;
    l->by = y0;
    l->bw = x1 - x0 + 1;
    l->bh = y1 - y0 + 1;
}

/* The glyph at ink height ht, rotated by deg degrees, its pen changed by r pixels. */
static int render_glyph(layer *l, const bd_glyph *g, float ht, float deg, int r)
{
    float s = ht / (float)g->h, th = (float)(deg * PI / 180.0);
    float c = cosf(th), sn = sinf(th);
    float sw = (float)g->w * s, sh = (float)g->h * s;
    int pad = abs(r) + 3;
    l->w = (int)ceilf(fabsf(sw * c) + fabsf(sh * sn)) + 2 * pad;
    l->h = (int)ceilf(fabsf(sw * sn) + fabsf(sh * c)) + 2 * pad;
    l->cov = calloc((size_t)l->w * (size_t)l->h, sizeof *l->cov);
    if (!l->cov) return -1;
    /* Shrinking averages several samples a pixel, so thin font strokes do not alias away. */
    int n = s < 1 ? (int)ceilf(1.0f / s) : 1;
    if (n > 4) n = 4;
    float cx = l->w * 0.5f, cy = l->h * 0.5f;
    for (int v = 0; v < l->h; v++)
        for (int u = 0; u < l->w; u++) {
            float acc = 0;
            for (int b = 0; b < n; b++)
                for (int a = 0; a < n; a++) {
                    float dx = (float)u + (a + 0.5f) / (float)n - cx, dy = (float)v + (b + 0.5f) / (float)n - cy;
                    float gx = (c * dx + sn * dy) / s + g->w * 0.5f, gy = (-sn * dx + c * dy) / s + g->h * 0.5f;
                    acc += sample(g, gx, gy);
                }
            l->cov[v * l->w + u] = acc / (float)(n * n);
        }
    if (r != 0 && morph(l->cov, l->w, l->h, r) != 0) return -1;
    ink_box(l);
    return 0;
}

/* Whether thinning the pen by a pixels took strokes away from the glyph rather than only making them
 * thinner: some fonts' strokes are narrower than 2a, and a digit with a stroke gone (a 0 open at the
 * top, a 6 left as a dot) is no longer the digit its label says. The thin glyph, thickened back by
 * a + 1, must cover 90% of the plain glyph's ink. Of the glyphs drawn with a thin pen in 400 strings
 * of each source (seed 1), 13 of the fonts' 194 and 2 of MNIST's 234 kept less (from 3%); most kept
 * over 99%, what they lose being tips a thinner pen shortens. 1 if strokes were lost, 0 if not, -1
 * out of memory. */
static int lost_strokes(const layer *thin, const bd_glyph *g, float ht, float deg, int a)
{
    layer plain;
    if (thin->bw == 0) return 1;
    if (render_glyph(&plain, g, ht, deg, 0) != 0) return -1;
    float *back = malloc((size_t)thin->w * (size_t)thin->h * sizeof *back);
    if (!back) {
        free(plain.cov);
        return -1;
    }
    memcpy(back, thin->cov, (size_t)thin->w * (size_t)thin->h * sizeof *back);
    if (morph(back, thin->w, thin->h, a + 1) != 0) {
        free(back);
        free(plain.cov);
        return -1;
    }
    /* The thin layer's pad is a wider, the same glyph at the same centre. */
    long ink = 0, kept = 0;
    for (int v = 0; v < plain.h; v++)
        for (int u = 0; u < plain.w; u++) {
            if (plain.cov[v * plain.w + u] < 0.5f) continue;
            ink++;
            int x = u + a, y = v + a;
            if (x < thin->w && y < thin->h && back[y * thin->w + x] >= 0.35f) kept++;
        }
    free(back);
    free(plain.cov);
    return kept < 0.9 * ink;
}

/* ---- noise fields ---- */

/* Adds amp x smooth value noise of the given cell size (pixels) to f (w x h). */
static int value_noise(float *f, int w, int h, float cell, float amp, nn_rng *rng)
{
    int gw = (int)(w / cell) + 3, gh = (int)(h / cell) + 3;
    float *grid = malloc((size_t)gw * (size_t)gh * sizeof *grid);
    if (!grid) return -1;
    for (int i = 0; i < gw * gh; i++) grid[i] = uni(rng, -1, 1);
    for (int y = 0; y < h; y++) {
        float gy = y / cell;
        int iy = (int)gy;
        float ty = gy - iy;
        ty = ty * ty * (3 - 2 * ty);
        for (int x = 0; x < w; x++) {
            float gx = x / cell;
            int ix = (int)gx;
            float tx = gx - ix;
            tx = tx * tx * (3 - 2 * tx);
            float a = grid[iy * gw + ix] * (1 - tx) + grid[iy * gw + ix + 1] * tx;
            float b = grid[(iy + 1) * gw + ix] * (1 - tx) + grid[(iy + 1) * gw + ix + 1] * tx;
            f[y * w + x] += amp * (a * (1 - ty) + b * ty);
        }
    }
    free(grid);
    return 0;
}

static int gauss_blur(float *f, int w, int h, float sigma)
{
    int r = (int)ceilf(3 * sigma);
    if (r < 1) return 0;
    float *k = malloc((size_t)(2 * r + 1) * sizeof *k), *tmp = malloc((size_t)w * (size_t)h * sizeof *tmp);
    if (!k || !tmp) {
        free(k);
        free(tmp);
        return -1;
    }
    float sum = 0;
    for (int i = -r; i <= r; i++) sum += k[i + r] = expf(-0.5f * (float)(i * i) / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) k[i] /= sum;
    for (int y = 0; y < h; y++) /* edges repeat the border pixel */
        for (int x = 0; x < w; x++) {
            float v = 0;
            for (int i = -r; i <= r; i++) {
                int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
                v += k[i + r] * f[y * w + xx];
            }
            tmp[y * w + x] = v;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float v = 0;
            for (int i = -r; i <= r; i++) {
                int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
                v += k[i + r] * tmp[yy * w + x];
            }
            f[y * w + x] = v;
        }
    free(k);
    free(tmp);
    return 0;
}

/* ---- the string ---- */

typedef struct draw {
    int glyph[BD_MAX_LEN];
    float hs[BD_MAX_LEN], rot[BD_MAX_LEN], dy[BD_MAX_LEN], gap[BD_MAX_LEN];
    float h0, pen, margin[4], slack_x, slack_y;
} draw;

void bd_sample_free(bd_sample *s)
{
    if (!s) return;
    free(s->rgb);
    memset(s, 0, sizeof *s);
}

void bd_rgb_to_grey(uint8_t *grey, const uint8_t *rgb, int64_t pixels)
{
    for (int64_t i = 0; i < pixels; i++)
        grey[i] = (uint8_t)((19595 * rgb[3 * i] + 38470 * rgb[3 * i + 1] + 7471 * rgb[3 * i + 2] + 32768) >> 16);
}

/* Lays out the string at scale k: the layers and their places; the canvas size in *cw, *ch. */
static int layout(layer *ls, int *ox, int *oy, int *cw, int *ch, const bd_glyphs *src, const bd_spec *spec,
                  const draw *d, float k)
{
    float h0 = d->h0 * k;
    int r = (int)lroundf(d->pen * h0);
    int x = 0;
    int minx = 1 << 30, miny = 1 << 30, maxx = -(1 << 30), maxy = -(1 << 30); /* ink extent */
    int lminx = 1 << 30, lminy = 1 << 30, lmaxx = -(1 << 30), lmaxy = -(1 << 30); /* layers' extent */
    for (int i = 0; i < spec->len; i++) {
        const bd_glyph *g = &src->g[d->glyph[i]];
        if (render_glyph(&ls[i], g, h0 * d->hs[i], d->rot[i], r) != 0) return -1;
        if (r < 0) {
            int lost = lost_strokes(&ls[i], g, h0 * d->hs[i], d->rot[i], -r);
            if (lost < 0) return -1;
            if (lost) { /* the thin pen wiped out strokes of this glyph: a plain pen */
                free(ls[i].cov);
                if (render_glyph(&ls[i], g, h0 * d->hs[i], d->rot[i], 0) != 0) return -1;
            }
        }
        if (i > 0) x += (int)lroundf(d->gap[i] * h0);
        ox[i] = x - ls[i].bx;
        oy[i] = (int)lroundf(d->dy[i] * h0 - ls[i].bh * 0.5f) - ls[i].by;
        x = ox[i] + ls[i].bx + ls[i].bw;
        int x0 = ox[i] + ls[i].bx, y0 = oy[i] + ls[i].by;
        if (x0 < minx) minx = x0;
        if (y0 < miny) miny = y0;
        if (x0 + ls[i].bw > maxx) maxx = x0 + ls[i].bw;
        if (y0 + ls[i].bh > maxy) maxy = y0 + ls[i].bh;
        if (ox[i] < lminx) lminx = ox[i];
        if (oy[i] < lminy) lminy = oy[i];
        if (ox[i] + ls[i].w > lmaxx) lmaxx = ox[i] + ls[i].w;
        if (oy[i] + ls[i].h > lmaxy) lmaxy = oy[i] + ls[i].h;
    }
    int left, top;
    if (spec->width > 0) {
        /* Centred in the fixed canvas, shifted by the slack the string leaves. */
        left = minx - (int)((spec->width - (maxx - minx)) * d->slack_x);
        top = miny - (int)((spec->height - (maxy - miny)) * d->slack_y);
        *cw = spec->width;
        *ch = spec->height;
        if (maxx - minx > spec->width * 0.94 || maxy - miny > spec->height * 0.8) return 1; /* too big */
    } else {
        float m = h0 < 8 ? 8 : h0;
        left = minx - 3 - (int)(d->margin[0] * m);
        top = miny - 3 - (int)(d->margin[1] * m);
        int right = maxx + 3 + (int)(d->margin[2] * m), bottom = maxy + 3 + (int)(d->margin[3] * m);
        if (lminx < left) left = lminx;
        if (lminy < top) top = lminy;
        if (lmaxx > right) right = lmaxx;
        if (lmaxy > bottom) bottom = lmaxy;
        *cw = right - left;
        *ch = bottom - top;
    }
    for (int i = 0; i < spec->len; i++) {
        ox[i] -= left;
        oy[i] -= top;
    }
    return 0;
}

const char *const bd_without_names[BD_WITHOUT_COUNT] = {
    "size", "rotation", "pen", "colour", "inverse", "paper", "grain", "gradient", "shadow", "specks", "blur", "noise",
};

/* Ruled paper under the string (bd_spec.rules): an underline in the ink's colour, added to the ink's
 * coverage, or a page's printed lines (one near the digits' baseline, then every 1.1 to 1.6 heights)
 * or squares (every 0.45 to 0.7 heights), pale, into *paper_cov (how far the paper turns towards the
 * ink there). The page is tilted by up to 1.5 degrees. Its draws come from rng, the image's own. */
const char *const bd_ruled_names[BD_RULED_COUNT] = {"plain", "underlined", "ruled", "squared"};

/* ... returns the BD_RULED_* kind drawn. */
static int rule_lines(float *ink_cov, float *paper_cov, int W, int H, const bd_box *box, int n, float h0,
                      nn_rng *rng)
{
    int bottoms[BD_MAX_LEN];
    for (int i = 0; i < n; i++) {
        int b = box[i].y + box[i].h, j = i;
        for (; j > 0 && bottoms[j - 1] > b; j--) bottoms[j] = bottoms[j - 1];
        bottoms[j] = b;
    }
    const float base = (float)bottoms[n / 2];
    const int kind = (int)nn_rng_below(rng, 3); /* 0 underline, 1 ruled, 2 squared */
    const float t = fmaxf(1.0f, uni(rng, 0.03f, 0.07f) * h0), tilt = uni(rng, -1.5f, 1.5f) * (float)PI / 180;
    const float ta = tanf(tilt), ca = cosf(tilt);
    const float step = kind == 1 ? uni(rng, 1.1f, 1.6f) * h0 : uni(rng, 0.45f, 0.7f) * h0;
    const float y0 = base + uni(rng, -0.04f, 0.03f) * h0, x0 = uni(rng, 0, step);
    const float strength = kind == 0 ? 1.0f : uni(rng, 0.25f, 0.5f);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            /* Distance across the tilted horizontal lines, then the upright ones. */
            float dy = ((float)y + 0.5f - y0 - ta * ((float)x + 0.5f - 0.5f * (float)W)) * ca;
            if (kind != 0) dy -= step * floorf(dy / step + 0.5f);
            float c = clampf(0.5f * t - fabsf(dy) + 0.5f, 0, 1);
            if (kind == 2) {
                float dx = ((float)x + 0.5f - x0 + ta * ((float)y + 0.5f - 0.5f * (float)H)) * ca;
                dx -= step * floorf(dx / step + 0.5f);
                c = fmaxf(c, clampf(0.5f * t - fabsf(dx) + 0.5f, 0, 1));
            }
            const size_t i = (size_t)y * (size_t)W + (size_t)x;
            if (kind == 0) ink_cov[i] = fmaxf(ink_cov[i], c);
            else paper_cov[i] = c * strength;
        }
    return BD_RULED_UNDERLINED + kind;
}

int bd_compose(bd_sample *out, const bd_glyphs *src, const bd_spec *spec, nn_rng *rng, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const int clean = spec->clean;
    const unsigned left_out = spec->without;
    draw d;
    memset(&d, 0, sizeof d);
    /* Paired: a seed per stage whose draws depend on the canvas's size (which the size, rotation and
     * pen change), drawn first; otherwise one stream, as every run before --without. */
    uint64_t seeds[4] = {0, 0, 0, 0};
    nn_rng *own = NULL;
    if (spec->paired) {
        for (int i = 0; i < 4; i++) seeds[i] = nn_rng_u64(rng);
        if (nn_rng_create(&own, seeds[0]) != NN_OK) {
            snprintf(err, errlen, "compose: out of memory");
            return -1;
        }
    }
    /* Every draw is made here, in a fixed order, so that refitting a fixed canvas draws nothing. */
    d.h0 = expf(uni(rng, logf(spec->hmin), logf(spec->hmax)));
    int style = src->styles > 1 ? 1 + (int)nn_rng_below(rng, (uint64_t)src->styles) : 0;
    out->style = style;
    for (int i = 0; i < spec->len; i++) {
        int label = (int)nn_rng_below(rng, 10);
        /* A font string keeps one font (one writer); MNIST's digits are each another writer. */
        int pick;
        do {
            pick = src->by_label[label][nn_rng_below(rng, (uint64_t)src->count[label])];
        } while (style && src->g[pick].style != style);
        d.glyph[i] = pick;
        d.hs[i] = clean ? 1.0f : uni(rng, 0.92f, 1.08f);
        d.rot[i] = clean ? 0.0f : uni(rng, -10, 10);
        d.dy[i] = clean ? 0.0f : uni(rng, -0.06f, 0.06f);
        if (left_out & BD_WITHOUT_SIZE) d.hs[i] = 1.0f, d.dy[i] = 0.0f;
        if (left_out & BD_WITHOUT_ROTATION) d.rot[i] = 0.0f;
        d.gap[i] = clean ? uni(rng, 0.3f, 0.6f)
                         : chance(rng, spec->touch) ? uni(rng, -0.15f, 0.02f) : uni(rng, 0.08f, 0.5f);
    }
    d.pen = clean || chance(rng, 0.4f) ? 0.0f : uni(rng, -0.025f, 0.045f);
    if (left_out & BD_WITHOUT_PEN) d.pen = 0.0f;
    for (int i = 0; i < 4; i++) d.margin[i] = uni(rng, 0.25f, 1.0f);
    d.slack_x = uni(rng, 0.1f, 0.9f);
    d.slack_y = uni(rng, 0.2f, 0.8f);

    layer ls[BD_MAX_LEN];
    int ox[BD_MAX_LEN], oy[BD_MAX_LEN], W = 0, H = 0, rc;
    float k = 1.0f;
    memset(ls, 0, sizeof ls);
    for (int tries = 0;; tries++) {
        rc = layout(ls, ox, oy, &W, &H, src, spec, &d, k);
        if (rc <= 0 || tries == 20) break;
        for (int i = 0; i < spec->len; i++) free(ls[i].cov);
        memset(ls, 0, sizeof ls);
        k *= 0.9f;
    }
    float *cov = NULL, *plane[3] = {NULL, NULL, NULL}, *grain = NULL, *light = NULL;
    if (rc < 0) goto oom;
    if (rc > 0) {
        snprintf(err, errlen, "compose: %d digits do not fit in %d x %d", spec->len, spec->width, spec->height);
        goto fail;
    }
    const size_t np = (size_t)W * (size_t)H;
    cov = calloc(np, sizeof *cov);
    grain = calloc(np, sizeof *grain);
    light = malloc(np * sizeof *light);
    for (int c = 0; c < 3; c++) plane[c] = malloc(np * sizeof(float));
    out->rgb = malloc(np * 3);
    if (!cov || !grain || !light || !plane[0] || !plane[1] || !plane[2] || !out->rgb) goto oom;
    out->width = W;
    out->height = H;
    out->n = spec->len;
    for (int i = 0; i < spec->len; i++) {
        const layer *l = &ls[i];
        for (int y = 0; y < l->h; y++) {
            int cy = oy[i] + y;
            if (cy < 0 || cy >= H) continue;
            for (int x = 0; x < l->w; x++) {
                int cx = ox[i] + x;
                if (cx < 0 || cx >= W) continue;
                cov[(size_t)cy * W + cx] = fmaxf(cov[(size_t)cy * W + cx], l->cov[y * l->w + x]);
            }
        }
        int x0 = ox[i] + l->bx, y0 = oy[i] + l->by, x1 = x0 + l->bw, y1 = y0 + l->bh;
        x0 = x0 < 0 ? 0 : x0;
        y0 = y0 < 0 ? 0 : y0;
        x1 = x1 > W ? W : x1;
        y1 = y1 > H ? H : y1;
        int label = src->g[d.glyph[i]].label;
        out->box[i] = (bd_box){x0, y0, x1 - x0, y1 - y0, label};
        out->text[i] = (char)('0' + label);
    }
    out->text[spec->len] = 0;

    /* Paper, ink and light. Colours are RGB in 0..255. */
    float paper[3], ink[3];
    out->light_on_dark = !clean && chance(rng, spec->inverse);
    if (clean) {
        paper[0] = paper[1] = paper[2] = 255;
        ink[0] = ink[1] = ink[2] = 0;
    } else if (out->light_on_dark) { /* chalk on a board, a negative */
        float g = uni(rng, 0, 90), tint = uni(rng, -0.15f, 0.15f);
        paper[0] = g * (1 - tint);
        paper[1] = g;
        paper[2] = g * (1 + tint);
        float v = uni(rng, fminf(g + 70, 250), 255);
        for (int c = 0; c < 3; c++) ink[c] = v;
    } else {
        static const float pens[6][3] = {{20, 20, 25}, {25, 45, 160}, {20, 30, 90}, {170, 30, 35}, {30, 110, 50}, {90, 90, 95}};
        float p = uni(rng, 150, 250);
        paper[0] = p * uni(rng, 0.94f, 1.04f);
        paper[1] = p;
        paper[2] = p * uni(rng, 0.90f, 1.02f);
        for (int c = 0; c < 3; c++) paper[c] = fminf(paper[c], 255);
        const float *pen = pens[nn_rng_below(rng, 6)];
        /* Faded ink: part way towards the paper, but keeping a contrast of at least 45 levels. */
        float fade = chance(rng, 0.5f) ? uni(rng, 0.0f, 0.5f) : 0.0f;
        for (;;) {
            for (int c = 0; c < 3; c++) ink[c] = pen[c] + fade * (paper[c] - pen[c]);
            float lp = 0.299f * paper[0] + 0.587f * paper[1] + 0.114f * paper[2];
            float li = 0.299f * ink[0] + 0.587f * ink[1] + 0.114f * ink[2];
            if (lp - li >= 45 || fade <= 0) break;
            fade = fmaxf(0, fade - 0.1f);
        }
    }
    if (!clean && (left_out & BD_WITHOUT_INVERSE) && out->light_on_dark) {
        out->light_on_dark = 0;
        for (int c = 0; c < 3; c++) paper[c] = 255 - paper[c], ink[c] = 255 - ink[c];
    }
    if (!clean && (left_out & BD_WITHOUT_COLOUR)) {
        for (int c = 0; c < 3; c++) paper[c] = out->light_on_dark ? 0 : 255, ink[c] = out->light_on_dark ? 255 : 0;
    }
    for (size_t i = 0; i < np; i++) light[i] = 1;
    if (!clean) {
        float texture = uni(rng, 0, 18), fine = uni(rng, 0, 10), grainy = chance(rng, 0.4f) ? uni(rng, 0.1f, 0.35f) : 0;
        if (left_out & BD_WITHOUT_PAPER) texture = fine = 0;
        if (own) nn_rng_seed(rng = own, seeds[0]);
        if (value_noise(grain, W, H, uni(rng, 30, 90), texture, rng) != 0 ||
            value_noise(grain, W, H, uni(rng, 1.5f, 4), fine, rng) != 0)
            goto oom;
        if (own) nn_rng_seed(own, seeds[1]);
        /* The ink's own grain (pencil, a dry pen): coverage thinned by a fine noise. */
        if (grainy > 0) {
            float *g2 = calloc(np, sizeof *g2);
            if (!g2 || value_noise(g2, W, H, uni(rng, 1.2f, 3), 1, rng) != 0) {
                free(g2);
                goto oom;
            }
            if (!(left_out & BD_WITHOUT_GRAIN))
                for (size_t i = 0; i < np; i++) cov[i] *= 1 - grainy * 0.5f * (1 + g2[i]);
            free(g2);
        }
        if (own) nn_rng_seed(own, seeds[2]);
        /* Uneven light: a gradient in some direction, and sometimes a soft shadow. */
        if (chance(rng, 0.6f)) {
            float a = uni(rng, 0, (float)(2 * PI)), g = uni(rng, 0.05f, 0.3f);
            if (left_out & BD_WITHOUT_GRADIENT) g = 0;
            float ca = cosf(a), sa = sinf(a), half = 0.5f * (fabsf(ca) * W + fabsf(sa) * H);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    light[(size_t)y * W + x] *= 1 + g * ((x - W * 0.5f) * ca + (y - H * 0.5f) * sa) / half;
        }
        if (chance(rng, 0.3f)) {
            float a = uni(rng, 0, (float)(2 * PI)), depth = uni(rng, 0.2f, 0.45f);
            if (left_out & BD_WITHOUT_SHADOW) depth = 0;
            float soft = uni(rng, 0.15f, 0.5f) * (float)(W > H ? W : H), off = uni(rng, -0.3f, 0.3f);
            float ca = cosf(a), sa = sinf(a), half = 0.5f * (fabsf(ca) * W + fabsf(sa) * H);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    float t = (((x - W * 0.5f) * ca + (y - H * 0.5f) * sa) - off * half) / soft + 0.5f;
                    t = clampf(t, 0, 1);
                    light[(size_t)y * W + x] *= 1 - depth * t * t * (3 - 2 * t);
                }
        }
    }
    float *ruled = NULL; /* the page's printed lines: how far the paper turns towards the ink */
    if (spec->rules > 0) {
        /* A stream of the image's own, seeded by what it holds, so the main stream is untouched. */
        uint64_t h = 0x9e3779b97f4a7c15u;
        for (int i = 0; i < spec->len; i++) h = (h ^ (uint64_t)d.glyph[i]) * 0x100000001b3u;
        uint32_t hb;
        memcpy(&hb, &d.h0, sizeof hb);
        h = (h ^ hb) * 0x100000001b3u;
        nn_rng *lr = NULL;
        if (nn_rng_create(&lr, h) != NN_OK || !(ruled = calloc(np, sizeof *ruled))) {
            nn_rng_free(lr);
            goto oom;
        }
        if (chance(lr, spec->rules))
            out->ruled = rule_lines(cov, ruled, W, H, out->box, spec->len, d.h0 * k, lr);
        nn_rng_free(lr);
    }
    for (size_t i = 0; i < np; i++)
        for (int c = 0; c < 3; c++) {
            float p = paper[c] + (out->light_on_dark ? 0.5f : 1.0f) * grain[i];
            if (ruled) p += (ink[c] - p) * ruled[i];
            plane[c][i] = (p + (ink[c] - p) * cov[i]) * light[i];
        }
    free(ruled);
    if (!clean) {
        /* Specks of dirt or toner, smaller than a digit's stroke is long. */
        if (chance(rng, 0.3f)) {
            int n = (int)nn_rng_below(rng, 13);
            for (int s = 0; s < n; s++) {
                float sx = uni(rng, 0, (float)W), sy = uni(rng, 0, (float)H), sr = uni(rng, 0.6f, 1.5f);
                if (left_out & BD_WITHOUT_SPECKS) continue;
                for (int y = (int)(sy - 2); y <= (int)(sy + 2); y++)
                    for (int x = (int)(sx - 2); x <= (int)(sx + 2); x++) {
                        if (x < 0 || y < 0 || x >= W || y >= H) continue;
                        float dd = hypotf(x + 0.5f - sx, y + 0.5f - sy), a = clampf(sr - dd + 0.5f, 0, 1);
                        for (int c = 0; c < 3; c++)
                            plane[c][(size_t)y * W + x] += (ink[c] * light[(size_t)y * W + x] - plane[c][(size_t)y * W + x]) * a;
                    }
            }
        }
        if (chance(rng, 0.5f)) {
            float sigma = uni(rng, 0.3f, fmaxf(0.6f, 0.025f * d.h0 * k));
            for (int c = 0; c < 3 && !(left_out & BD_WITHOUT_BLUR); c++)
                if (gauss_blur(plane[c], W, H, sigma) != 0) goto oom;
        }
        if (own) nn_rng_seed(own, seeds[3]);
        float sigma = uni(rng, 0, 8);
        if (left_out & BD_WITHOUT_NOISE) sigma = 0;
        for (size_t i = 0; i < np; i++) {
            float lum = sigma * (float)nn_rng_normal(rng); /* sensor noise: mostly luminance */
            for (int c = 0; c < 3; c++) plane[c][i] += lum;
        }
    }
    for (size_t i = 0; i < np; i++)
        for (int c = 0; c < 3; c++) out->rgb[3 * i + c] = (uint8_t)lroundf(clampf(plane[c][i], 0, 255));
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "compose: out of memory");
fail:
    rc = -1;
    bd_sample_free(out);
done:
    for (int i = 0; i < spec->len; i++) free(ls[i].cov);
    nn_rng_free(own);
    free(cov);
    free(grain);
    free(light);
    for (int c = 0; c < 3; c++) free(plane[c]);
    return rc;
}
