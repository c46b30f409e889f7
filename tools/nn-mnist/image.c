/* Image files to 8-bit grey (image.h): PNG through libpng, JPEG through libjpeg-turbo, PGM by hand;
 * their EXIF orientation through libexif. */
#define _POSIX_C_SOURCE 200809L
#include "image.h"

#include "errfmt.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <libexif/exif-data.h>
/* jerror.h defines the message codes only when asked to: the warnings below are told apart by code. */
#include <jerror.h>
#include <png.h>

/* A file larger than this is refused before it is read whole: a 100-megapixel 8-bit PNG of noise
 * compresses to about 100 MB, and nothing sensible is larger. */
#define FILE_MAX_BYTES (512LL << 20)

void nnm_image_free(nnm_image *im)
{
    if (!im) return;
    free(im->px);
    im->px = NULL;
    im->width = im->height = 0;
}

static int too_large(int64_t w, int64_t h, int64_t max_pixels)
{
    return w < 1 || h < 1 || w > max_pixels / h;
}

static uint8_t *alloc_pixels(int64_t w, int64_t h, int channels)
{
    return malloc((size_t)w * (size_t)h * (size_t)channels);
}

/* ---- EXIF orientation ---- */

static const uint8_t exif_header[6] = {'E', 'x', 'i', 'f', 0, 0};

/* The orientation an EXIF block records ("Exif\0\0", then TIFF's header and directories, as in a
 * JPEG's APP1); 1 when it records none, or one libexif cannot read, or a value outside 1..8: a
 * damaged tag leaves the pixels as stored rather than failing an image that decodes. */
static int exif_orientation(const uint8_t *data, size_t size)
{
    if (size <= sizeof exif_header || size > 0xffffffffu || memcmp(data, exif_header, sizeof exif_header) != 0)
        return 1;
    ExifData *ed = exif_data_new();
    if (!ed) return 1;
    /* What the file says, nothing more: following the specification would add the entries it misses. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, data, (unsigned int)size);
    int orientation = 1;
    ExifEntry *e = ed->ifd[EXIF_IFD_0] ? exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION) : NULL;
    if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data && e->size >= 2) {
        const int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
        if (v >= 1 && v <= 8) orientation = v;
    }
    exif_data_unref(ed);
    return orientation;
}

/* PNG's eXIf chunk holds the TIFF part alone, without the header a JPEG's APP1 puts before it. */
static int exif_orientation_tiff(const uint8_t *tiff, size_t size)
{
    if (size == 0 || size > 0xffffffffu - sizeof exif_header) return 1;
    uint8_t *block = malloc(size + sizeof exif_header);
    if (!block) return 1;
    memcpy(block, exif_header, sizeof exif_header);
    memcpy(block + sizeof exif_header, tiff, size);
    const int orientation = exif_orientation(block, size + sizeof exif_header);
    free(block);
    return orientation;
}

int nnm_image_orient(nnm_image *im, char *err, size_t errlen)
{
    const int o = im->orientation;
    if (o < 2 || o > 8) {
        im->orientation = 1;
        return 0;
    }
    /* Where the shown pixel (x, y) is stored: x0 + dxx x + dxy y, y0 + dyx x + dyy y, with x0 and y0
     * at the stored image's far edge (w - 1, h - 1) where flagged. */
    static const signed char map[9][6] = {
        /* x0? dxx dxy y0? dyx dyy */
        {0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 1},  {1, -1, 0, 0, 0, 1},  {1, -1, 0, 1, 0, -1}, {0, 1, 0, 1, 0, -1},
        {0, 0, 1, 0, 1, 0}, {0, 0, 1, 1, -1, 0}, {1, 0, -1, 1, -1, 0}, {1, 0, -1, 0, 1, 0},
    };
    const signed char *m = map[o];
    const int64_t w = im->width, h = im->height;
    const int64_t ow = o >= 5 ? h : w, oh = o >= 5 ? w : h;
    uint8_t *px = alloc_pixels(ow, oh, 1);
    if (!px) return nnm_errorf(err, errlen, "out of memory");
    const int64_t start = (m[3] ? h - 1 : 0) * w + (m[0] ? w - 1 : 0);
    const int64_t step_x = m[4] * w + m[1], step_y = m[5] * w + m[2];
    for (int64_t y = 0; y < oh; y++) {
        const uint8_t *src = im->px + start + y * step_y;
        uint8_t *row = px + y * ow;
        for (int64_t x = 0; x < ow; x++) row[x] = src[x * step_x];
    }
    free(im->px);
    im->px = px;
    im->width = ow;
    im->height = oh;
    im->orientation = 1;
    return 0;
}

/* A deep grey image (16 bits, or a PGM's maxval above 255) whose darkest and lightest pixels (the
 * SPECKS darkest and lightest set aside: dust, a dead pixel) lie fewer than this many grey levels of
 * 8 bits apart is stretched over 0..255 from its deep values, not reduced: the 8-bit reduction of a
 * faint scan keeps too few levels for the digits to stand out from the paper (the reader asks some
 * 16), where the file holds hundreds. A share set aside rather than a count would set aside the
 * ink of a small number on a large page, and stretch its paper's noise. */
#define STRETCH_BELOW 32u
#define SPECKS 16

/* grey: n deep values scaled to 0..65535; px: their 8-bit reduction, replaced when stretched. 0, or -1
 * when out of memory. */
static int keep_contrast(uint8_t *px, const uint16_t *grey, size_t n)
{
    uint32_t *hist = calloc(65536, sizeof *hist);
    if (!hist) return -1;
    for (size_t i = 0; i < n; i++) hist[grey[i]]++;
    const size_t cut = SPECKS;
    size_t seen = 0;
    unsigned lo = 0, hi = 65535;
    while (lo < 65535 && (seen += hist[lo]) <= cut) lo++;
    seen = 0;
    while (hi > lo && (seen += hist[hi]) <= cut) hi--;
    free(hist);
    if (hi == lo || hi - lo >= STRETCH_BELOW * 257u) return 0;
    const unsigned span = hi - lo;
    for (size_t i = 0; i < n; i++) {
        const unsigned v = grey[i] < lo ? 0 : grey[i] > hi ? span : grey[i] - lo;
        px[i] = (uint8_t)((v * 255u + span / 2) / span);
    }
    return 0;
}

/* ---- PNG ---- */

typedef struct png_src {
    const uint8_t *data;
    size_t size, pos;
    int truncated;
    char msg[160]; /* libpng's message for the error that stopped it */
} png_src;

static void png_read_mem(png_structp png, png_bytep out, png_size_t n)
{
    png_src *s = png_get_io_ptr(png);
    if (n > s->size - s->pos) {
        s->truncated = 1;
        png_error(png, "truncated");
    }
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* Ancillary trouble (a bad ICC profile, a CRC error in a text chunk) does not change the pixels. */
static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* The bytes of the file's IDAT chunks, or PNG_CUT when a chunk its headers announce (up to IEND)
 * does not lie within its bytes. libpng allocates an ancillary chunk (eXIf, a colour profile) at the
 * length its header claims before it reads it, so a file of a few bytes could make it allocate 2 GiB
 * before it finds the file cut. */
#define PNG_CUT UINT64_MAX
static uint64_t png_idat_bytes(const uint8_t *data, size_t size)
{
    size_t pos = 8;
    uint64_t idat = 0;
    while (size - pos >= 12) {
        const size_t len = (size_t)data[pos] << 24 | (size_t)data[pos + 1] << 16 |
                           (size_t)data[pos + 2] << 8 | data[pos + 3];
        if (len > size - pos - 12) return PNG_CUT;
        if (memcmp(data + pos + 4, "IEND", 4) == 0) return idat;
        if (memcmp(data + pos + 4, "IDAT", 4) == 0) idat += len;
        pos += 12 + len;
    }
    return PNG_CUT;
}

/* Deflate writes at most 258 bytes for 2 bits (a match of the longest length and nearest distance,
 * each with a 1-bit code): no zlib stream inflates more than 1032 times its size. */
#define DEFLATE_MAX_RATIO 1032

static int decode_png(const uint8_t *data, size_t size, const char *name, int64_t max_pixels, nnm_image *out,
                      char *err, size_t errlen)
{
    /* volatile only for -Wclobbered, which cannot tell that it is set before the setjmp */
    const volatile uint64_t idat = png_idat_bytes(data, size);
    if (idat == PNG_CUT) return nnm_errorf(err, errlen, "%s: truncated PNG", name);
    png_src src = {data, size, 0, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return nnm_errorf(err, errlen, "%s: out of memory", name);
    }
    /* Everything malloc'ed below is reachable from here, so that the longjmp can free it. */
    uint8_t *volatile px = NULL;
    uint8_t *volatile buf = NULL;
    if (setjmp(png_jmpbuf(png))) {
        if (buf != px) free(buf); /* grey without alpha is read straight into px */
        free(px);
        png_destroy_read_struct(&png, &info, NULL);
        if (src.truncated) return nnm_errorf(err, errlen, "%s: truncated PNG", name);
        return nnm_errorf(err, errlen, "%s: corrupt PNG (%s)", name, src.msg);
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff); /* our own bound comes after the header */
    png_read_info(png, info);
    png_uint_32 w32, h32;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w32, &h32, &depth, &color, &interlace, NULL, NULL);
    const int64_t w = w32, h = h32;
    if (too_large(w, h, max_pixels)) {
        png_destroy_read_struct(&png, &info, NULL);
        return nnm_errorf(err, errlen, "%s: %lld x %lld pixels is more than the %lld this tool reads", name, (long long)w,
                    (long long)h, (long long)max_pixels);
    }
    /* The pixels' bytes (filter bytes aside) cannot come from fewer compressed bytes than this: a
     * header that claims a large image over a few bytes of data is refused before the image is
     * allocated, not after. */
    const uint64_t packed = ((uint64_t)w * (uint64_t)h * (uint64_t)png_get_channels(png, info) * (uint64_t)depth) / 8;
    if (idat * DEFLATE_MAX_RATIO < packed) {
        png_destroy_read_struct(&png, &info, NULL);
        return nnm_errorf(err, errlen, "%s: truncated PNG (%llu bytes of image data for %lld x %lld pixels)", name,
                    (unsigned long long)idat, (long long)w, (long long)h);
    }
    /* Whatever the file holds, ask libpng for grey, with an alpha channel when the file has
     * transparency (an alpha channel, or a tRNS colour or palette entries): 8 bits, or 16 when a grey
     * file has them, reduced here (keep_contrast()). Colour is reduced by libpng, whose gamma tables
     * for the turn to grey are built for the depth it is asked for. */
    const int deep = depth == 16 && !(color & PNG_COLOR_MASK_COLOR);
    if (!deep) png_set_scale_16(png);
    png_set_packing(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color & PNG_COLOR_MASK_COLOR || color == PNG_COLOR_TYPE_PALETTE)
        png_set_rgb_to_gray_fixed(png, 1, -1, -1); /* 1: no warning for non-grey pixels; -1: default weights */
    const int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const int channels = png_get_channels(png, info);
    const int bytes = channels * (deep ? 2 : 1);
    if (png_get_bit_depth(png, info) != (deep ? 16 : 8) || channels < 1 || channels > 2 ||
        png_get_rowbytes(png, info) != (size_t)w * (size_t)bytes)
        png_error(png, "unexpected layout after conversion to grey");
    px = alloc_pixels(w, h, 1);
    buf = bytes == 1 ? px : alloc_pixels(w, h, bytes);
    if (!px || !buf) png_error(png, "out of memory");
    /* Row by row, each pass of an interlaced file over the rows the passes before it filled, as
     * png_read_image() does, without its array of a pointer per row (800 MB for 1 x 10^8 pixels). */
    for (int pass = 0; pass < passes; pass++)
        for (int64_t y = 0; y < h; y++) png_read_row(png, buf + (size_t)y * (size_t)w * (size_t)bytes, NULL);
    /* Reading to IEND makes a file cut after its last pixel an error too, as any other cut is; and
     * an eXIf chunk may come after the pixels. */
    png_read_end(png, info);
    int orientation = 1;
#ifdef PNG_eXIf_SUPPORTED
    png_uint_32 exif_len = 0;
    png_bytep exif = NULL;
    if (png_get_eXIf_1(png, info, &exif_len, &exif)) orientation = exif_orientation_tiff(exif, exif_len);
#endif
    const size_t n = (size_t)w * (size_t)h;
    if (deep) {
        /* Each pixel's 8 bits as libpng's png_set_scale_16() makes them (then over white, as
         * below), and its deep value over white into the first 2 n bytes of buf, which it has read. */
        uint16_t *grey = (uint16_t *)(void *)buf;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *s = buf + i * (size_t)bytes;
            const uint32_t g = (uint32_t)s[0] << 8 | s[1], a = channels == 2 ? (uint32_t)s[2] << 8 | s[3] : 65535u;
            const uint32_t g8 = (g * 255u + 32895u) >> 16, a8 = (a * 255u + 32895u) >> 16;
            px[i] = (uint8_t)(channels == 2 ? (g8 * a8 + 255u * (255u - a8) + 127u) / 255u : g8);
            grey[i] = (uint16_t)(((uint64_t)g * a + 65535u * (uint64_t)(65535u - a) + 32767u) / 65535u);
        }
        if (keep_contrast(px, grey, n) != 0) png_error(png, "out of memory");
        free(buf);
    } else if (channels == 2) { /* grey + alpha over white paper, as a viewer shows it */
        for (size_t i = 0; i < n; i++) {
            unsigned g = buf[2 * i], a = buf[2 * i + 1];
            px[i] = (uint8_t)((g * a + 255u * (255u - a) + 127u) / 255u);
        }
        free(buf);
    }
    png_destroy_read_struct(&png, &info, NULL);
    out->width = w;
    out->height = h;
    out->px = px;
    out->orientation = orientation;
    return 0;
}

/* ---- JPEG ---- */

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    int truncated;
} jpeg_err;

static void jpeg_on_error(j_common_ptr c)
{
    jpeg_err *e = (jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* libjpeg reports damage in the data as warnings and carries on, padding the rest of the image with
 * grey; a truncated file (JWRN_JPEG_EOF) is the common case. Such an image would give wrong digits
 * silently, so damage is an error here. The warnings that do not touch the pixels are let through. */
static void jpeg_on_message(j_common_ptr c, int level)
{
    if (level >= 0) return; /* trace messages */
    const int code = c->err->msg_code;
    if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC) return;
    jpeg_err *e = (jpeg_err *)c->err;
    e->truncated = code == JWRN_JPEG_EOF;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

static int decode_jpeg(const uint8_t *data, size_t size, const char *name, int64_t max_pixels, nnm_image *out,
                      char *err, size_t errlen)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_err e;
    memset(&e, 0, sizeof e);
    cinfo.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jpeg_on_error;
    e.mgr.emit_message = jpeg_on_message;
    uint8_t *volatile px = NULL, *volatile inks = NULL;
    if (setjmp(e.jb)) {
        free(px);
        free(inks);
        jpeg_destroy_decompress(&cinfo);
        if (e.truncated) return nnm_errorf(err, errlen, "%s: truncated JPEG", name);
        return nnm_errorf(err, errlen, "%s: corrupt JPEG (%s)", name, e.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff); /* EXIF (and XMP) live in APP1 */
    jpeg_read_header(&cinfo, TRUE);
    int orientation = 1;
    for (jpeg_saved_marker_ptr mk = cinfo.marker_list; mk; mk = mk->next)
        if (mk->marker == JPEG_APP0 + 1 && mk->data_length > sizeof exif_header &&
            memcmp(mk->data, exif_header, sizeof exif_header) == 0) {
            orientation = exif_orientation(mk->data, mk->data_length);
            break;
        }
    const int64_t w = cinfo.image_width, h = cinfo.image_height;
    if (too_large(w, h, max_pixels)) {
        jpeg_destroy_decompress(&cinfo);
        return nnm_errorf(err, errlen, "%s: %lld x %lld pixels is more than the %lld this tool reads", name, (long long)w,
                    (long long)h, (long long)max_pixels);
    }
    /* A print workflow's JPEG holds four inks, which libjpeg gives as they are (YCCK turned to CMYK):
     * made grey here, with the weights of JPEG's own luma. */
    const int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE; /* from YCbCr, grey is the Y plane */
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != (cmyk ? 4 : 1) || (int64_t)cinfo.output_width != w ||
        (int64_t)cinfo.output_height != h) {
        snprintf(e.msg, sizeof e.msg, "unexpected output layout");
        longjmp(e.jb, 1);
    }
    px = alloc_pixels(w, h, 1);
    if (cmyk) inks = malloc((size_t)w * 4);
    if (!px || (cmyk && !inks)) {
        snprintf(e.msg, sizeof e.msg, "out of memory");
        longjmp(e.jb, 1);
    }
    /* Adobe's applications, which write nearly every CMYK JPEG (and their marker with it), store each
     * ink inverted: 255 is none. */
    const unsigned none = cinfo.saw_Adobe_marker ? 255 : 0;
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dst = px + (size_t)cinfo.output_scanline * (size_t)w;
        JSAMPROW row = cmyk ? inks : dst;
        jpeg_read_scanlines(&cinfo, &row, 1);
        for (int64_t x = 0; cmyk && x < w; x++) {
            const uint8_t *q = inks + 4 * x;
            /* Each colour's light: what its ink and the black leave of it. */
            const unsigned k = (unsigned)q[3] ^ none ^ 255, r = ((unsigned)q[0] ^ none ^ 255) * k,
                           g = ((unsigned)q[1] ^ none ^ 255) * k, b = ((unsigned)q[2] ^ none ^ 255) * k;
            dst[x] = (uint8_t)((299 * r + 587 * g + 114 * b + 127500) / 255000);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(inks);
    out->width = w;
    out->height = h;
    out->px = px;
    out->orientation = orientation;
    return 0;
}

/* ---- PGM (binary, "P5") ---- */

/* A header field: a decimal number after blanks and "#" comments; -1 when there is none. */
static long long pgm_field(const uint8_t *d, size_t n, size_t *pos)
{
    size_t p = *pos;
    for (;;) {
        while (p < n && (d[p] == ' ' || d[p] == '\t' || d[p] == '\r' || d[p] == '\n' || d[p] == '\v' || d[p] == '\f'))
            p++;
        if (p < n && d[p] == '#') {
            while (p < n && d[p] != '\n') p++;
            continue;
        }
        break;
    }
    long long v = 0;
    size_t start = p;
    while (p < n && d[p] >= '0' && d[p] <= '9' && v < 1000000000LL) v = v * 10 + (d[p++] - '0');
    if (p == start || (p < n && d[p] >= '0' && d[p] <= '9')) return -1;
    *pos = p;
    return v;
}

static int decode_pgm(const uint8_t *d, size_t n, const char *name, int64_t max_pixels, nnm_image *out, char *err,
                      size_t errlen)
{
    size_t pos = 2;
    const long long w = pgm_field(d, n, &pos), h = pgm_field(d, n, &pos), maxval = pgm_field(d, n, &pos);
    /* Exactly one blank ends the header; the pixels follow. */
    if (w < 1 || h < 1 || maxval < 1 || maxval > 65535 || pos >= n ||
        !(d[pos] == ' ' || d[pos] == '\t' || d[pos] == '\r' || d[pos] == '\n'))
        return nnm_errorf(err, errlen, "%s: corrupt PGM header", name);
    pos++;
    if (too_large(w, h, max_pixels))
        return nnm_errorf(err, errlen, "%s: %lld x %lld pixels is more than the %lld this tool reads", name, w, h,
                    (long long)max_pixels);
    const size_t bytes = maxval > 255 ? 2 : 1, count = (size_t)w * (size_t)h;
    if (n - pos < count * bytes) return nnm_errorf(err, errlen, "%s: truncated PGM", name);
    uint8_t *px = alloc_pixels(w, h, 1);
    uint16_t *grey = bytes == 2 ? malloc(count * sizeof *grey) : NULL;
    if (!px || (bytes == 2 && !grey)) {
        free(px);
        free(grey);
        return nnm_errorf(err, errlen, "%s: out of memory", name);
    }
    const uint8_t *s = d + pos;
    for (size_t i = 0; i < count; i++) {
        unsigned long v = bytes == 2 ? (unsigned long)s[2 * i] << 8 | s[2 * i + 1] : s[i];
        if (v > (unsigned long)maxval) v = (unsigned long)maxval; /* out of range: as bright as allowed */
        px[i] = (uint8_t)((v * 255 + (unsigned long)maxval / 2) / (unsigned long)maxval);
        if (grey) grey[i] = (uint16_t)((v * 65535 + (unsigned long)maxval / 2) / (unsigned long)maxval);
    }
    const int kept = grey ? keep_contrast(px, grey, count) : 0;
    free(grey);
    if (kept != 0) {
        free(px);
        return nnm_errorf(err, errlen, "%s: out of memory", name);
    }
    out->width = w;
    out->height = h;
    out->px = px;
    out->orientation = 1;
    return 0;
}

/* ---- entry points ---- */

int nnm_image_decode(const uint8_t *data, size_t size, const char *name, nnm_image *out, char *err, size_t errlen)
{
    return nnm_image_decode_max(data, size, name, NNM_IMAGE_MAX_PIXELS, out, err, errlen);
}

int nnm_image_decode_max(const uint8_t *data, size_t size, const char *name, int64_t max_pixels, nnm_image *out,
                         char *err, size_t errlen)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memset(out, 0, sizeof *out);
    if (size == 0) return nnm_errorf(err, errlen, "%s: empty file", name);
    if (size >= 8 && memcmp(data, png_magic, 8) == 0) return decode_png(data, size, name, max_pixels, out, err, errlen);
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return decode_jpeg(data, size, name, max_pixels, out, err, errlen);
    if (size >= 3 && data[0] == 'P' && data[1] == '5' &&
        (data[2] == ' ' || data[2] == '\t' || data[2] == '\r' || data[2] == '\n' || data[2] == '#'))
        return decode_pgm(data, size, name, max_pixels, out, err, errlen);
    /* A PNG or JPEG cut inside its signature is still most likely what it was meant to be. */
    if (size < 8 && memcmp(data, png_magic, size) == 0) return nnm_errorf(err, errlen, "%s: truncated PNG", name);
    if (size < 3 && data[0] == 0xff && (size == 1 || data[1] == 0xd8)) return nnm_errorf(err, errlen, "%s: truncated JPEG", name);
    return nnm_errorf(err, errlen, "%s: not a PNG, JPEG or PGM file", name);
}

int nnm_image_read(const char *path, nnm_image *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const int is_stdin = strcmp(path, "-") == 0;
    const char *name = path; /* "-" for stdin, as the output line names it */
    if (!*path) return nnm_errorf(err, errlen, "an empty file name");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) return nnm_errorf(err, errlen, "%s: %s", path, strerror(errno));
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            if ((long long)ncap > FILE_MAX_BYTES + 1) ncap = (size_t)FILE_MAX_BYTES + 1;
            if (ncap == cap) {
                rc = nnm_errorf(err, errlen, "%s: larger than %lld MiB, not read", name, FILE_MAX_BYTES >> 20);
                break;
            }
            uint8_t *p = realloc(data, ncap);
            if (!p) {
                rc = nnm_errorf(err, errlen, "%s: out of memory", name);
                break;
            }
            data = p;
            cap = ncap;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            /* A folder opens on Linux and fails here with EISDIR. */
            if (ferror(f)) rc = nnm_errorf(err, errlen, "%s: %s", name, strerror(errno ? errno : EIO));
            break;
        }
    }
    if (!is_stdin) fclose(f);
    if (rc == 0 && is_stdin && len == 0)
        rc = nnm_errorf(err, errlen, "-: nothing on standard input (nothing was piped in, or an earlier '-' read it all)");
    if (rc == 0) rc = nnm_image_decode(data, len, name, out, err, errlen);
    free(data);
    return rc;
}

/* ---- writing ---- */

int nnm_image_encode_png_gray(unsigned char **out, size_t *len, const uint8_t *px, int64_t width, int64_t height,
                              int64_t stride, char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (!px || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff || stride < width)
        return nnm_errorf(err, errlen, "invalid image to encode");
    /* Not volatile: after a longjmp, fclose sets them again before they are read. */
    char *data = NULL;
    size_t size = 0;
    FILE *volatile f = open_memstream(&data, &size);
    if (!f) return nnm_errorf(err, errlen, "%s", strerror(errno));
    png_src sink = {NULL, 0, 0, 0, ""}; /* for png_on_error's message only */
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(data);
        return nnm_errorf(err, errlen, "%s", sink.msg[0] ? sink.msg : "out of memory");
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int64_t y = 0; y < height; y++) png_write_row(png, px + (size_t)y * (size_t)stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) { /* the stream's buffer could not grow */
        free(data);
        return nnm_errorf(err, errlen, "out of memory");
    }
    *out = (unsigned char *)data;
    *len = size;
    return 0;
}
