/* Digits of installed fonts as training images; see fonts.h. */
#include "fonts.h"

#include <cairo-ft.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nn/digits.h>

/* None of bench-digits' fonts (DejaVu, Comic Neue, Humor Sans, DkgHandwriting, Breip, femkeklaver):
 * its font strings measure other writers than those trained on. Debian 12 packages, in
 * scripts/install-deps.sh: handwriting and script first, then print. */
const char *const nnm_font_families[] = {
    /* fonts-bwht, -cabinsketch, -dancingscript, -ecolier-court, -isabella, -joscelyn, -kaushanscript,
     * -seto, -kiloji, -tomsontalks, -yanone-kaffeesatz, and URW's Z003 (fonts-urw-base35) */
    "Because We Build", "Because We Connect", "Because We Create", "Because We Learn", "Because We Mentor",
    "Because We Organize", "Cabin Sketch", "Dancing Script", "Ecolier_court", "Isabella", "Joscelyn",
    "Kaushan Script", "SetoFont", "kiloji", "Tomson Talks", "Z003", "Yanone Kaffeesatz",
    /* fonts-liberation, -freefont-ttf, -urw-base35, -roboto-unhinted, -open-sans, -lato, -cantarell,
     * -linuxlibertine, -go, -hack, -gnutypewriter, -jura, -crosextra-carlito */
    "Liberation Sans", "Liberation Sans:bold", "Liberation Serif", "Liberation Serif:italic", "Liberation Mono",
    "FreeSans", "FreeSerif", "FreeMono", "Nimbus Roman", "Nimbus Sans:italic", "Nimbus Mono PS", "C059", "P052",
    "URW Bookman", "URW Gothic", "Roboto", "Roboto:bold", "Open Sans", "Lato:italic", "Cantarell",
    "Linux Libertine O", "Linux Biolinum O", "Go", "Go Mono", "Hack", "GNUTypewriter", "Jura", "Carlito",
};
const int nnm_n_font_families = (int)(sizeof nnm_font_families / sizeof *nnm_font_families);

/* fontconfig answers every pattern with some font: only one of the family asked for counts, and
 * only with all ten digits (a font without one would draw its missing-glyph box, labelled a digit). */
static FcPattern *match_family(const char *pattern)
{
    FcPattern *pat = FcNameParse((const FcChar8 *)pattern);
    if (!pat) return NULL;
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    FcPattern *match = FcFontMatch(NULL, pat, &res);
    FcPatternDestroy(pat);
    if (!match) return NULL;
    char want[128];
    size_t n = strcspn(pattern, ":");
    snprintf(want, sizeof want, "%.*s", (int)n, pattern);
    FcChar8 *got = NULL;
    int family = 0;
    for (int i = 0; !family && FcPatternGetString(match, FC_FAMILY, i, &got) == FcResultMatch; i++)
        family = !strcasecmp((const char *)got, want);
    FcCharSet *chars = NULL;
    int digits = FcPatternGetCharSet(match, FC_CHARSET, 0, &chars) == FcResultMatch;
    for (FcChar32 ch = '0'; digits && ch <= '9'; ch++) digits = FcCharSetHasChar(chars, ch);
    if (family && digits) return match;
    FcPatternDestroy(match);
    return NULL;
}

enum { CANVAS = 200, FONT_PX = 100, DIGIT_PIXELS = 28 * 28 };

/* Character ch of the face (a code point below 0x10000), dark on white and centred on a CANVAS x
 * CANVAS grey image. 0, or -1 when cairo fails. */
static int draw_char(cairo_t *cr, cairo_surface_t *surf, uint8_t *grey, uint32_t ch)
{
    cairo_set_operator(cr, CAIRO_OPERATOR_CLEAR);
    cairo_paint(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    cairo_set_source_rgba(cr, 0, 0, 0, 1);
    char text[4] = {(char)ch, 0, 0, 0}; /* UTF-8 */
    if (ch >= 0x800) {
        text[0] = (char)(0xe0 | ch >> 12), text[1] = (char)(0x80 | (ch >> 6 & 0x3f)),
        text[2] = (char)(0x80 | (ch & 0x3f));
    } else if (ch >= 0x80) {
        text[0] = (char)(0xc0 | ch >> 6), text[1] = (char)(0x80 | (ch & 0x3f));
    }
    cairo_text_extents_t e;
    cairo_text_extents(cr, text, &e);
    /* Centred by its ink, so that a script font's swash stays on the canvas. */
    cairo_move_to(cr, (CANVAS - e.width) / 2 - e.x_bearing, (CANVAS - e.height) / 2 - e.y_bearing);
    cairo_show_text(cr, text);
    cairo_surface_flush(surf);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) return -1;
    const uint8_t *a = cairo_image_surface_get_data(surf);
    const int stride = cairo_image_surface_get_stride(surf);
    for (int y = 0; y < CANVAS; y++)
        for (int x = 0; x < CANVAS; x++) grey[y * CANVAS + x] = (uint8_t)(255 - a[y * stride + x]);
    return 0;
}

/* The digit drawn in grey found and normalised as nn-mnist predict would: 1 with the 784 bytes in
 * out, 0 when not found as one digit, -1 when libnn fails. */
static int normalize_digit(const uint8_t *grey, uint8_t *out)
{
    nn_digits *d = NULL;
    /* One glyph on a canvas is no photo of a plate: the inside of an @ passed for one. */
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.plate = 0;
    nn_status st = nn_digits_find(&d, grey, CANVAS, CANVAS, CANVAS, &o);
    int rc = st == NN_OK ? 0 : -1;
    if (st == NN_OK && nn_digits_count(d) == 1) {
        const float *im = nn_digits_image(d, 0);
        for (int i = 0; i < DIGIT_PIXELS; i++) out[i] = (uint8_t)lroundf(fminf(fmaxf(im[i], 0.0f), 1.0f) * 255.0f);
        rc = 1;
    }
    nn_digits_free(d);
    return rc;
}

/* The ink of the digit drawn in grey, cropped, as a glyph of font f; 0 or -1 (memory). */
static int add_glyph(nnm_glyph_set *set, const uint8_t *grey, int label, int font)
{
    int x0 = CANVAS, y0 = CANVAS, x1 = -1, y1 = -1;
    for (int y = 0; y < CANVAS; y++)
        for (int x = 0; x < CANVAS; x++)
            if (grey[y * CANVAS + x] < 255) {
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            }
    if (x1 < 0) return 0;
    nnm_glyph g = {NULL, x1 - x0 + 1, y1 - y0 + 1, label, font};
    g.cov = malloc((size_t)g.w * (size_t)g.h);
    nnm_glyph *grown = realloc(set->g, (size_t)(set->n + 1) * sizeof *grown);
    if (grown) set->g = grown;
    if (!g.cov || !grown) {
        free(g.cov);
        return -1;
    }
    for (int y = 0; y < g.h; y++)
        for (int x = 0; x < g.w; x++) g.cov[y * g.w + x] = (uint8_t)(255 - grey[(y + y0) * CANVAS + x + x0]);
    set->g[set->n++] = g;
    return 0;
}

void nnm_glyph_set_free(nnm_glyph_set *set)
{
    for (int i = 0; set && i < set->n; i++) free(set->g[i].cov);
    if (set) free(set->g);
    if (set) memset(set, 0, sizeof *set);
}

static void note_missing(nnm_font_digits *info, const char *family, const char *why)
{
    size_t len = strlen(info->missing);
    if (len + 1 < sizeof info->missing)
        snprintf(info->missing + len, sizeof info->missing - len, "%s%s%s", len ? ", " : "", family, why);
}

/* The digits of the installed families: normalised into im and lb, and with set, also kept as
 * glyphs. */
static int render_families(const char *const *families, int n, uint8_t **images, uint8_t **labels,
                           nnm_glyph_set *set, nnm_font_digits *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    *images = *labels = NULL;
    uint8_t *im = malloc(((size_t)n * 10 + 1) * DIGIT_PIXELS), *lb = malloc((size_t)n * 10 + 1);
    uint8_t *grey = malloc((size_t)CANVAS * CANVAS);
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_A8, CANVAS, CANVAS);
    int rc = im && lb && grey && cairo_surface_status(surf) == CAIRO_STATUS_SUCCESS ? 0 : -1;
    if (rc) snprintf(err, errlen, "--fonts: out of memory");
    for (int f = 0; f < n && rc == 0; f++) {
        FcPattern *match = match_family(families[f]);
        if (!match) {
            note_missing(info, families[f], "");
            continue;
        }
        cairo_font_face_t *face = cairo_ft_font_face_create_for_pattern(match);
        FcPatternDestroy(match);
        cairo_t *cr = cairo_create(surf);
        cairo_set_font_face(cr, face);
        cairo_set_font_size(cr, FONT_PX);
        int got = 0;
        for (int k = 0; k < 10 && rc == 0; k++) {
            int r = draw_char(cr, surf, grey, (uint32_t)('0' + k));
            if (r == 0) r = normalize_digit(grey, im + info->glyphs * DIGIT_PIXELS);
            if (r < 0) {
                snprintf(err, errlen, "--fonts: rendering %s's %d: %s", families[f], k,
                         cairo_status(cr) != CAIRO_STATUS_SUCCESS ? cairo_status_to_string(cairo_status(cr))
                                                                  : nn_last_error());
                rc = -1;
            } else if (r == 1) {
                if (set && add_glyph(set, grey, k, info->fonts) != 0) {
                    snprintf(err, errlen, "--fonts: out of memory");
                    rc = -1;
                }
                lb[info->glyphs++] = (uint8_t)k;
                got++;
            }
        }
        info->fonts += got > 0;
        if (got == 0 && rc == 0) note_missing(info, families[f], " (no digit found alone)");
        cairo_destroy(cr);
        cairo_font_face_destroy(face);
    }
    cairo_surface_destroy(surf);
    free(grey);
    if (rc == 0 && info->glyphs == 0) {
        snprintf(err, errlen,
                 "--fonts: none of the %d fonts it renders is installed (scripts/install-deps.sh installs "
                 "them; fc-list lists what is): install them, or train without with --no-fonts", n);
        rc = 1;
    }
    if (rc != 0) {
        free(im);
        free(lb);
        return rc;
    }
    *images = im;
    *labels = lb;
    return 0;
}

int nnm_fonts_render(const char *const *families, int n, uint8_t **images, uint8_t **labels, nnm_font_digits *info,
                     char *err, size_t errlen)
{
    return render_families(families, n, images, labels, NULL, info, err, errlen);
}

int nnm_fonts_glyphs(nnm_glyph_set *set, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    uint8_t *im, *lb;
    nnm_font_digits info;
    int rc = render_families(nnm_font_families, nnm_n_font_families, &im, &lb, set, &info, err, errlen);
    if (rc == 0) {
        free(im);
        free(lb);
        set->fonts = info.fonts;
    } else {
        nnm_glyph_set_free(set);
    }
    return rc;
}

/* base holds images of 784 pixels (28 x 28), at least n of them; else -1 with err. */
static int check_base(const nn_dataset *base, int64_t n, const char *who, char *err, size_t errlen)
{
    int64_t rows = 0, cols = 0;
    nn_dataset_image_size(base, &rows, &cols);
    if (n < 0 || n > nn_dataset_count(base)) {
        snprintf(err, errlen, "%s: %lld images asked of a dataset of %lld", who, (long long)n,
                 (long long)nn_dataset_count(base));
        return -1;
    }
    if (rows * cols != DIGIT_PIXELS) {
        snprintf(err, errlen, "%s adds 28 x 28 glyphs to datasets of 28 x 28 images, not %lld x %lld", who,
                 (long long)rows, (long long)cols);
        return -1;
    }
    return 0;
}

/* *out = the first `first` images of base, then image pick[j] of src for j < added, labelled
 * src_labels[pick[j]] (or `label` when src_labels is NULL). 0, or -1 with err. */
static int appended(nn_dataset **out, const nn_dataset *base, int64_t first, const uint8_t *src,
                    const uint8_t *src_labels, uint8_t label, const int64_t *pick, int64_t added, const char *who,
                    char *err, size_t errlen)
{
    const int64_t total = first + added;
    uint8_t *images = malloc((size_t)total * DIGIT_PIXELS), *labels = malloc((size_t)total);
    int rc = -1;
    if (!images || !labels) {
        snprintf(err, errlen, "%s: out of memory", who);
    } else {
        memcpy(images, nn_dataset_images(base), (size_t)first * DIGIT_PIXELS);
        memcpy(labels, nn_dataset_labels(base), (size_t)first);
        for (int64_t j = 0; j < added; j++) {
            memcpy(images + (first + j) * DIGIT_PIXELS, src + pick[j] * DIGIT_PIXELS, DIGIT_PIXELS);
            labels[first + j] = src_labels ? src_labels[pick[j]] : label;
        }
        int64_t rows = 0, cols = 0;
        nn_dataset_image_size(base, &rows, &cols);
        if (nn_dataset_create(out, total, rows, cols, images, labels) == NN_OK) rc = 0;
        else snprintf(err, errlen, "%s: %s", who, nn_last_error());
    }
    free(images);
    free(labels);
    return rc;
}

/* Letters and signs that a label, an address or a date written beside digits holds, and that look
 * like no digit in any hand: those that can (O, I, l, S, Z, B, b, G, g, q, U, y, T, f, t, +, !, ?)
 * are left out, lest a digit so written be taught as not one. C and c, open where a 0 closes, are
 * in: left out, `Col`, `Ch.`, `cm` and the C of `°C` read as sure 0s (docs/predict-log.md, "C, c, D,
 * r and u as text"), and as text they cost the benchmark's open 0s nothing measurable. */
static const uint32_t letters[] = {'A', 'E', 'F', 'H', 'K', 'L', 'M', 'N', 'P', 'R', 'V',
                                   'W', 'X', 'a', 'd', 'e', 'h', 'k', 'm', 'n', 'p', 'v',
                                   'w', 'x', '#', '$', '%', '&', '*', '=', '@', ':', 0x20ac /* euro */,
                                   '/', '(', ')', 'C', 'c', 'D', 'r', 'u'};

static int has_char(FcPattern *match, uint32_t ch)
{
    FcCharSet *chars = NULL;
    return FcPatternGetCharSet(match, FC_CHARSET, 0, &chars) == FcResultMatch && FcCharSetHasChar(chars, ch);
}

int nnm_fonts_letters(const char *const *families, int n, uint8_t **images, nnm_font_letters *info, char *err,
                      size_t errlen)
{
    memset(info, 0, sizeof *info);
    *images = NULL;
    const int per_font = (int)(sizeof letters / sizeof *letters);
    uint8_t *im = malloc(((size_t)n * (size_t)per_font + 1) * DIGIT_PIXELS),
            *grey = malloc((size_t)CANVAS * CANVAS);
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_A8, CANVAS, CANVAS);
    int rc = im && grey && cairo_surface_status(surf) == CAIRO_STATUS_SUCCESS ? 0 : -1;
    if (rc) snprintf(err, errlen, "--letters: out of memory");
    for (int f = 0; f < n && rc == 0; f++) {
        FcPattern *match = match_family(families[f]);
        if (!match) continue;
        cairo_font_face_t *face = cairo_ft_font_face_create_for_pattern(match);
        cairo_t *cr = cairo_create(surf);
        cairo_set_font_face(cr, face);
        cairo_set_font_size(cr, FONT_PX);
        int got = 0;
        for (int k = 0; k < per_font && rc == 0; k++) {
            if (!has_char(match, letters[k])) continue;
            int r = draw_char(cr, surf, grey, letters[k]);
            if (r == 0) r = normalize_digit(grey, im + info->glyphs * DIGIT_PIXELS);
            if (r < 0) {
                snprintf(err, errlen, "--letters: rendering %s's U+%04X: %s", families[f],
                         (unsigned)letters[k],
                         cairo_status(cr) != CAIRO_STATUS_SUCCESS ? cairo_status_to_string(cairo_status(cr))
                                                                  : nn_last_error());
                rc = -1;
            }
            if (r == 1) info->glyphs++, got++;
        }
        info->fonts += got > 0;
        cairo_destroy(cr);
        cairo_font_face_destroy(face);
        FcPatternDestroy(match);
    }
    cairo_surface_destroy(surf);
    free(grey);
    if (rc == 0 && info->glyphs == 0) {
        snprintf(err, errlen,
                 "--letters: none of the %d fonts it renders is installed (scripts/install-deps.sh installs "
                 "them; fc-list lists what is): install them, or train without with --no-letters",
                 n);
        rc = 1;
    }
    if (rc != 0) free(im);
    else *images = im;
    return rc;
}

int nnm_letters_dataset(nn_dataset **out, const nn_dataset *base, int64_t n, double share, uint8_t label,
                        nnm_font_letters *info, char *err, size_t errlen)
{
    *out = NULL;
    if (check_base(base, n, "--letters", err, errlen) != 0) return -1;
    uint8_t *lim;
    int rc = nnm_fonts_letters(nnm_font_families, nnm_n_font_families, &lim, info, err, errlen);
    if (rc != 0) return rc;
    const int64_t want = llround(share / (1.0 - share) * (double)n);
    info->added = want > 0 ? want : 1;
    int64_t *pick = malloc((size_t)info->added * sizeof *pick);
    for (int64_t j = 0; pick && j < info->added; j++) pick[j] = j % info->glyphs;
    rc = pick ? appended(out, base, nn_dataset_count(base), lim, NULL, label, pick, info->added, "--letters", err,
                         errlen)
              : -1;
    if (!pick) snprintf(err, errlen, "--letters: out of memory");
    free(pick);
    free(lim);
    return rc;
}

/* Which glyph image j of `added` repeats: whole copies of all g glyphs in order, then the rest spread
 * over the digits first and the fonts second (glyphs are stored font by font, 0 to 9 in each, so a
 * plain stride would take a few digits only: every 45th glyph of 450 is a 0 or a 5). */
static int64_t glyph_of(int64_t j, int64_t added, int64_t g, const uint8_t *labels)
{
    const int64_t whole = added / g * g;
    if (j < whole) return j % g;
    const int64_t r = j - whole, rest = added - whole;
    const int d = (int)(r % 10);
    const int64_t of_d = (rest - d + 9) / 10; /* the rest's images of digit d */
    int64_t count = 0;
    for (int64_t k = 0; k < g; k++) count += labels[k] == d;
    if (count == 0) return r % g; /* no glyph of this digit (its fonts' d not found alone) */
    const int64_t pick = r / 10 * count / of_d;
    for (int64_t k = 0, seen = 0; k < g; k++)
        if (labels[k] == d && seen++ == pick) return k;
    return r % g; /* not reached: pick < count */
}

int nnm_fonts_dataset(nn_dataset **out, const nn_dataset *base, int64_t n, double share, nnm_font_digits *info,
                      char *err, size_t errlen)
{
    *out = NULL;
    if (check_base(base, n, "--fonts", err, errlen) != 0) return -1;
    uint8_t *fim, *flb;
    int rc = nnm_fonts_render(nnm_font_families, nnm_n_font_families, &fim, &flb, info, err, errlen);
    if (rc != 0) return rc;
    const int64_t want = llround(share / (1.0 - share) * (double)n);
    info->added = want > 0 ? want : 1;
    int64_t *pick = malloc((size_t)info->added * sizeof *pick);
    for (int64_t j = 0; pick && j < info->added; j++) pick[j] = glyph_of(j, info->added, info->glyphs, flb);
    rc = pick ? appended(out, base, n, fim, flb, 0, pick, info->added, "--fonts", err, errlen) : -1;
    if (!pick) snprintf(err, errlen, "--fonts: out of memory");
    free(pick);
    free(fim);
    free(flb);
    return rc;
}
