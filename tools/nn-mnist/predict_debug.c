/* `nn-mnist predict --debug-dir`: what the model saw (each normalised digit) and where (the image with
 * boxes and answers drawn with cairo), so that a person can tell a segmentation error from a
 * misread digit. */
#define _POSIX_C_SOURCE 200809L
#include "predict_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>

#include "errfmt.h"
#include "fsutil.h"

/* The annotated copy's longer side is brought within these bounds: a 40-megapixel photo is shrunk
 * (area-averaged) to a size that opens anywhere, and a 60-pixel-high crop is enlarged (whole
 * factors, nearest pixel) until the labels drawn on it can be read. */
#define ANNOTATED_MAX_SIDE 2048
#define ANNOTATED_MIN_SIDE 512
#define ANNOTATED_MAX_ZOOM 8

void nnm_debug_names_free(nnm_debug_names *n)
{
    for (size_t i = 0; i < n->count; i++) free(n->names[i]);
    free(n->names);
    memset(n, 0, sizeof *n);
}

/* path's last component ("stdin" for "-"), made unique within this run; borrowed from names. */
static const char *unique_name(nnm_debug_names *n, const char *path)
{
    const char *base = "stdin";
    size_t blen = 5;
    if (strcmp(path, "-") != 0) {
        size_t end = strlen(path);
        while (end > 1 && path[end - 1] == '/') end--; /* "dir/" names dir */
        size_t start = end;
        while (start > 0 && path[start - 1] != '/') start--;
        base = path + start;
        blen = end - start;
        if (blen == 0 || (blen == 1 && base[0] == '.') || (blen == 2 && !strncmp(base, "..", 2))) {
            base = "image";
            blen = 5;
        }
        if (blen > 200) blen = 200; /* room for the suffixes within NAME_MAX */
    }
    char cand[256];
    snprintf(cand, sizeof cand, "%.*s", (int)blen, base);
    for (unsigned k = 2;; k++) {
        int taken = 0;
        for (size_t i = 0; i < n->count && !taken; i++) taken = strcmp(n->names[i], cand) == 0;
        if (!taken) break;
        snprintf(cand, sizeof cand, "%.*s-%u", (int)blen, base, k);
    }
    if (n->count == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 16;
        char **p = realloc(n->names, cap * sizeof *p);
        if (!p) return NULL;
        n->names = p;
        n->cap = cap;
    }
    char *copy = strdup(cand);
    if (!copy) return NULL;
    n->names[n->count++] = copy;
    return copy;
}

typedef struct membuf {
    unsigned char *data;
    size_t len, cap;
} membuf;

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int length)
{
    membuf *b = closure;
    if (length > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (length > cap - b->len) cap *= 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p) return CAIRO_STATUS_NO_MEMORY;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
    return CAIRO_STATUS_SUCCESS;
}

/* The grey image into an RGB24 surface of w x h: each output pixel the mean of the source pixels it
 * covers (shrinking) or the one it falls in (enlarging). */
static void fill_grey(cairo_surface_t *s, const nnm_image *im, int w, int h)
{
    unsigned char *data = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    int64_t *xs = malloc(((size_t)w + 1) * sizeof *xs);
    if (!xs) return; /* the picture stays black; the boxes are still drawn */
    for (int X = 0; X <= w; X++) xs[X] = (int64_t)X * im->width / w;
    for (int Y = 0; Y < h; Y++) {
        int64_t y0 = (int64_t)Y * im->height / h, y1 = (int64_t)(Y + 1) * im->height / h;
        if (y1 <= y0) y1 = y0 + 1;
        uint32_t *row = (uint32_t *)(data + (size_t)Y * (size_t)stride);
        for (int X = 0; X < w; X++) {
            int64_t x0 = xs[X], x1 = xs[X + 1] > x0 ? xs[X + 1] : x0 + 1;
            uint64_t sum = 0;
            for (int64_t y = y0; y < y1; y++) {
                const uint8_t *p = im->px + (size_t)y * (size_t)im->width;
                for (int64_t x = x0; x < x1; x++) sum += p[x];
            }
            uint32_t g = (uint32_t)((sum + (uint64_t)((y1 - y0) * (x1 - x0)) / 2) / (uint64_t)((y1 - y0) * (x1 - x0)));
            row[X] = 0xff000000u | g << 16 | g << 8 | g;
        }
    }
    free(xs);
}

static int write_annotated(const char *path, const nnm_image *im, nn_digits *d, const nnm_debug_item *items,
                           double min_conf, char *err, size_t errlen)
{
    const double longer = (double)(im->width > im->height ? im->width : im->height);
    double zoom = 1;
    if (longer > ANNOTATED_MAX_SIDE) zoom = ANNOTATED_MAX_SIDE / longer;
    else if (longer < ANNOTATED_MIN_SIDE) zoom = fmin(ceil(ANNOTATED_MIN_SIDE / longer), ANNOTATED_MAX_ZOOM);
    int w = (int)fmax(1, lround((double)im->width * zoom)), h = (int)fmax(1, lround((double)im->height * zoom));
    const double sx = (double)w / (double)im->width, sy = (double)h / (double)im->height;

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        nnm_errorf(err, errlen, "cannot draw %s: %s", path, cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return -1;
    }
    cairo_surface_flush(s);
    fill_grey(s, im, w, h);
    cairo_surface_mark_dirty(s);

    cairo_t *cr = cairo_create(s);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    const double lw = fmax(1.0, fmin(w, h) / 300.0);
    for (int64_t i = 0; i < nn_digits_count(d); i++) {
        int64_t bx, by, bw, bh;
        if (nn_digits_box(d, i, &bx, &by, &bw, &bh) != NN_OK) continue;
        const int sure = items[i].probability >= min_conf;
        const double r = sure ? 0.9 : 1.0, g = sure ? 0.0 : 0.55, b = 0.0; /* red, or orange when unsure */
        const double x0 = (double)bx * sx, y0 = (double)by * sy, x1 = (double)(bx + bw) * sx,
                     y1 = (double)(by + bh) * sy;
        cairo_set_source_rgb(cr, r, g, b);
        cairo_set_line_width(cr, lw);
        cairo_rectangle(cr, x0 + lw / 2, y0 + lw / 2, fmax(x1 - x0 - lw, 1), fmax(y1 - y0 - lw, 1));
        cairo_stroke(cr);

        char label[32];
        snprintf(label, sizeof label, "%d %.2f", items[i].digit, items[i].probability);
        double fs = fmin(fmax((y1 - y0) * 0.3, 11.0), 64.0);
        cairo_set_font_size(cr, fs);
        cairo_text_extents_t te;
        cairo_text_extents(cr, label, &te);
        if (te.x_advance > x1 - x0 && te.x_advance > 0) { /* as wide as its box, so neighbours' labels do not overlap */
            fs = fmax(9.0, fs * (x1 - x0) / te.x_advance);
            cairo_set_font_size(cr, fs);
            cairo_text_extents(cr, label, &te);
        }
        /* Above the box; below it when the box touches the top; inside it when neither fits. */
        double ty = y0 - lw - 2;
        if (ty - fs < 0) ty = y1 + fs + 1;
        if (ty > h) ty = y0 + fs;
        double tx = fmin(x0, w - te.x_advance - 1);
        tx = fmax(tx, 0);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
        cairo_rectangle(cr, tx - 1, ty - fs * 0.95, te.x_advance + 2, fs * 1.15);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, r, g, b);
        cairo_move_to(cr, tx, ty);
        cairo_show_text(cr, label);
    }
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    membuf buf = {NULL, 0, 0};
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_write_to_png_stream(s, membuf_write, &buf);
    cairo_surface_destroy(s);
    int rc = 0;
    if (st != CAIRO_STATUS_SUCCESS) {
        nnm_errorf(err, errlen, "cannot draw %s: %s", path, cairo_status_to_string(st));
        rc = -1;
    } else {
        rc = nnm_write_atomic(path, buf.data, buf.len, err, errlen);
    }
    free(buf.data);
    return rc;
}

int nnm_debug_write(nnm_debug_names *names, const char *dir, const char *path, const nnm_image *im, nn_digits *d,
                    const nnm_debug_item *items, double min_conf, char *err, size_t errlen)
{
    const char *name = unique_name(names, path);
    if (!name) {
        nnm_errorf(err, errlen, "out of memory naming its debug images");
        return -1;
    }
    char out[NNM_PATH_MAX];
    for (int64_t i = 0; i < nn_digits_count(d); i++) {
        const float *src = nn_digits_image(d, i);
        uint8_t px[NN_DIGITS_PIXELS];
        for (int k = 0; k < NN_DIGITS_PIXELS; k++) {
            float v = src[k] < 0 ? 0 : src[k] > 1 ? 1 : src[k];
            px[k] = (uint8_t)lrintf(v * 255.0f);
        }
        if (snprintf(out, sizeof out, "%s/%s-digit-%03lld.png", dir, name, (long long)i) >= (int)sizeof out) {
            nnm_errorf(err, errlen, "%s: debug path too long", dir);
            return -1;
        }
        unsigned char *png;
        size_t len;
        char why[160];
        if (nnm_image_encode_png_gray(&png, &len, px, NN_DIGITS_SIDE, NN_DIGITS_SIDE, NN_DIGITS_SIDE, why,
                                      sizeof why) != 0) {
            nnm_errorf(err, errlen, "cannot write %s: %s", out, why);
            return -1;
        }
        int rc = nnm_write_atomic(out, png, len, err, errlen);
        free(png);
        if (rc != 0) return -1;
    }
    if (snprintf(out, sizeof out, "%s/%s-annotated.png", dir, name) >= (int)sizeof out) {
        nnm_errorf(err, errlen, "%s: debug path too long", dir);
        return -1;
    }
    return write_annotated(out, im, d, items, min_conf, err, errlen);
}
