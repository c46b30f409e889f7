/* The canvas: a white cairo image, its text helpers, and its PNG written safely to disk. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "plot_internal.h"
#include "tmpname.h"

#define PLOT_PI        3.14159265358979323846
#define LINE_SPACING   1.2 /* matplotlib's default, in font sizes */
#define LINE_MAX_BYTES 1024

int nnm_plot__fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int nnm_plot__canvas_open(nnm_plot__canvas *c, int w, int h, char *err, size_t errlen)
{
    c->surface = NULL;
    c->cr = NULL;
    c->width = w;
    c->height = h;
    /* RGB24: figures are opaque, and the PNG then has no alpha channel, as matplotlib's savefig. */
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_status_t st = cairo_surface_status(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return nnm_plot__fail(err, errlen, "cannot create a %dx%d image: %s", w, h,
                              cairo_status_to_string(st));
    }
    cairo_t *cr = cairo_create(s);
    st = cairo_status(cr);
    if (st != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(cr);
        cairo_surface_destroy(s);
        return nnm_plot__fail(err, errlen, "cannot draw on a %dx%d image: %s", w, h,
                              cairo_status_to_string(st));
    }
    cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
    cairo_paint(cr);
    /* Unhinted metrics make text widths independent of the size's rounding, so layouts scale smoothly. */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    c->surface = s;
    c->cr = cr;
    return 0;
}

void nnm_plot__canvas_close(nnm_plot__canvas *c)
{
    if (c->cr) cairo_destroy(c->cr);
    if (c->surface) cairo_surface_destroy(c->surface);
    c->cr = NULL;
    c->surface = NULL;
}

/* The PNG encoder: libpng with one filter and a fast zlib level, rather than cairo's writer (libpng's
 * defaults: every filter tried on every row, zlib level 6). Encoding was three quarters of writing a
 * grid's six figures (0.2 s on a 2-core Xeon, serial after the training, a tenth of a 1-epoch grid). */
typedef struct png_out {
    FILE *f;
    int err;       /* errno of the first failed write */
    char msg[160]; /* libpng's message for the error that stopped it */
} png_out;

static void png_out_write(png_structp png, png_bytep data, png_size_t n)
{
    png_out *o = png_get_io_ptr(png);
    if (fwrite(data, 1, n, o->f) != n) {
        if (!o->err) o->err = errno ? errno : EIO;
        png_error(png, "write failed");
    }
}

static void png_out_flush(png_structp png) { (void)png; }

static void png_out_error(png_structp png, png_const_charp msg)
{
    png_out *o = png_get_error_ptr(png);
    snprintf(o->msg, sizeof o->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_out_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* The RGB24 surface as an 8-bit RGB PNG. Its pixels are 32-bit words 0x00RRGGBB in the machine's byte
 * order, which libpng takes as they are: B, G, R, pad in memory on a little-endian machine, pad, R, G,
 * B on a big-endian one. 0, or -1 with o->err (a write's errno) or o->msg set. */
static int encode_png(cairo_surface_t *surface, png_out *o)
{
    const unsigned char *data = cairo_image_surface_get_data(surface);
    int w = cairo_image_surface_get_width(surface), h = cairo_image_surface_get_height(surface);
    int stride = cairo_image_surface_get_stride(surface);
    const uint32_t one = 1;
    unsigned char little;
    memcpy(&little, &one, 1);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, o, png_out_error, png_out_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || !data) {
        png_destroy_write_struct(&png, &info);
        snprintf(o->msg, sizeof o->msg, "%s", data ? "out of memory" : "the figure has no pixels");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, o, png_out_write, png_out_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* Measured on a grid's six figures: the up filter (each row against the one above) at level 3
     * encodes them in a third of the time of libpng's defaults, into files a fifth larger (246 KB
     * against 206 KB for the six); level 6 would take 0.56 of the time for 2% more. */
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    png_set_compression_level(png, 3);
    png_write_info(png, info);
    if (little) png_set_bgr(png);
    png_set_filler(png, 0, little ? PNG_FILLER_AFTER : PNG_FILLER_BEFORE);
    for (int y = 0; y < h; y++) png_write_row(png, data + (size_t)y * (size_t)stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

static int write_fail(const char *path, int e, char *err, size_t errlen)
{
    char why[128];
    if (strerror_r(e, why, sizeof why) != 0) snprintf(why, sizeof why, "errno %d", e);
    return nnm_plot__fail(err, errlen, "cannot write PNG '%s': %s (%s)", path,
                          cairo_status_to_string(CAIRO_STATUS_WRITE_ERROR), why);
}

int nnm_plot__canvas_save(nnm_plot__canvas *c, const char *path, char *err, size_t errlen)
{
    cairo_status_t st = cairo_status(c->cr);
    if (st == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(c->surface);
        st = cairo_surface_status(c->surface);
    }
    if (st != CAIRO_STATUS_SUCCESS)
        return nnm_plot__fail(err, errlen, "cannot draw '%s': %s", path, cairo_status_to_string(st));

    /* The rename below would replace a device or a folder entry, never what a caller means. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return nnm_plot__fail(err, errlen, "cannot write PNG '%s': not a regular file", path);

    /* A temporary file beside the target, renamed over it: a failure never leaves a torn figure. No
     * fsync: a figure lost to a power cut is regenerated from the results. */
    size_t cap = strlen(path) + NNM_TMP_EXTRA;
    char *tmp = malloc(cap);
    if (!tmp) return write_fail(path, ENOMEM, err, errlen);
    nnm_tmp_template(tmp, cap, path); /* cannot fail: cap has room for the longest template */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return write_fail(path, e, err, errlen);
    }
    (void)fchmod(fd, 0644); /* mkstemp's 0600 would hide figures from other readers */
    png_out out = {fdopen(fd, "wb"), 0, ""};
    if (!out.f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return write_fail(path, e, err, errlen);
    }
    int rc = encode_png(c->surface, &out);
    int e = out.err;
    if (fflush(out.f) != 0 && !e) e = errno ? errno : EIO;
    if (fclose(out.f) != 0 && !e) e = errno ? errno : EIO;
    if (rc != 0 && !e) {
        unlink(tmp);
        free(tmp);
        return nnm_plot__fail(err, errlen, "cannot write PNG '%s': %s", path, out.msg);
    }
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        unlink(tmp);
        free(tmp);
        return write_fail(path, e, err, errlen);
    }
    free(tmp);
    return 0;
}

void nnm_plot__font(cairo_t *cr, double px, int bold)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, px);
}

/* The next line of text into line; returns where the following one starts, or NULL after the last. */
static const char *next_line(const char *text, char line[LINE_MAX_BYTES])
{
    const char *nl = strchr(text, '\n');
    size_t n = nl ? (size_t)(nl - text) : strlen(text);
    if (n >= LINE_MAX_BYTES) n = LINE_MAX_BYTES - 1;
    memcpy(line, text, n);
    line[n] = '\0';
    return nl ? nl + 1 : NULL;
}

static double line_width(cairo_t *cr, const char *line)
{
    cairo_text_extents_t te;
    cairo_text_extents(cr, line, &te);
    return te.x_advance;
}

double nnm_plot__text_width(cairo_t *cr, const char *text)
{
    char line[LINE_MAX_BYTES];
    double w = 0.0;
    for (const char *p = text; p;) {
        p = next_line(p, line);
        w = fmax(w, line_width(cr, line));
    }
    return w;
}

static int count_lines(const char *text)
{
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == '\n';
    return n;
}

double nnm_plot__text_height(cairo_t *cr, const char *text)
{
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    cairo_matrix_t m;
    cairo_get_font_matrix(cr, &m);
    return fe.ascent + fe.descent + (count_lines(text) - 1) * LINE_SPACING * m.yy;
}

void nnm_plot__text(cairo_t *cr, const char *text, double x, double y, double halign, double valign,
                    double angle)
{
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    cairo_matrix_t m;
    cairo_get_font_matrix(cr, &m);
    double h = nnm_plot__text_height(cr, text);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -angle * PLOT_PI / 180.0);
    double baseline = -valign * h + fe.ascent;
    char line[LINE_MAX_BYTES];
    for (const char *p = text; p; baseline += LINE_SPACING * m.yy) {
        p = next_line(p, line);
        /* Lines align among themselves as the block does: centred, left or right. */
        cairo_move_to(cr, -halign * line_width(cr, line), baseline);
        cairo_show_text(cr, line);
    }
    cairo_restore(cr);
    cairo_new_path(cr); /* the move_to calls above stay in the path; the next stroke must not see them */
}

void nnm_plot__text_quad(cairo_t *cr, const char *text, double x, double y, double halign, double valign,
                         double angle, double quad[4][2])
{
    double w = nnm_plot__text_width(cr, text), h = nnm_plot__text_height(cr, text);
    double a = -angle * PLOT_PI / 180.0, c = cos(a), s = sin(a);
    /* The same box nnm_plot__text() fills, in its rotated frame, taken back to canvas coordinates. */
    const double corner[4][2] = {{-halign * w, -valign * h},
                                 {(1.0 - halign) * w, -valign * h},
                                 {(1.0 - halign) * w, (1.0 - valign) * h},
                                 {-halign * w, (1.0 - valign) * h}};
    for (int k = 0; k < 4; k++) {
        quad[k][0] = x + c * corner[k][0] - s * corner[k][1];
        quad[k][1] = y + s * corner[k][0] + c * corner[k][1];
    }
}

void nnm_plot__rotated_size(cairo_t *cr, const char *text, double angle, double *w, double *h)
{
    double tw = nnm_plot__text_width(cr, text), th = nnm_plot__text_height(cr, text);
    double a = angle * PLOT_PI / 180.0;
    *w = fabs(tw * cos(a)) + fabs(th * sin(a));
    *h = fabs(tw * sin(a)) + fabs(th * cos(a));
}

void nnm_plot__shorten(const char *text, size_t max_bytes, char *out, size_t cap)
{
    if (!text) text = "";
    /* cairo refuses invalid UTF-8 for good (the context enters an error state), so bad bytes and
     * control characters become '?' and ' ' here, once, for every string the figures draw. */
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0, limit = cap - 1 < max_bytes ? cap - 1 : max_bytes;
    int cut = 0;
    while (*s) {
        size_t n = nnm_utf8_sequence(s);
        if (o + (n ? n : 1) > limit) {
            cut = 1;
            break;
        }
        if (n == 0) {
            out[o++] = '?';
            s++;
        } else if (n == 1 && *s < 0x20 && *s != '\n') {
            out[o++] = ' ';
            s++;
        } else {
            memcpy(out + o, s, n);
            o += n;
            s += n;
        }
    }
    if (cut) {
        while (o > 0 && o + 3 > limit) /* make room for "...", then back up to a character start */
            o--;
        while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80) o--;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
