/* nn-mnist's image reader (tools/nn-mnist/image.c): the EXIF orientation of JPEG and PNG files, read
 * through libexif, and the pixels turned as a viewer shows them. The expected layouts are written out
 * by hand from the EXIF specification's table (TIFF tag 0x0112), not computed the way image.c does. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "image.h"

/* ---- EXIF blocks, built byte by byte ---- */

static void put16(uint8_t *p, int big, unsigned v)
{
    p[big ? 0 : 1] = (uint8_t)(v >> 8);
    p[big ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, int big, unsigned long v)
{
    for (int i = 0; i < 4; i++) p[big ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

/* A TIFF header in the given byte order and IFD0 with one entry: tag, type 3 (SHORT), one value. With
 * `header`, "Exif\0\0" first, as a JPEG's APP1 holds it; without, as PNG's eXIf chunk does. `entries`
 * is what IFD0 claims to hold: more than 1 makes a directory cut short. Returns the length. */
static size_t exif_block(uint8_t *b, int header, int big, unsigned tag, unsigned value, unsigned entries)
{
    size_t n = 0;
    if (header) {
        memcpy(b, "Exif\0\0", 6);
        n = 6;
    }
    uint8_t *t = b + n;
    t[0] = t[1] = big ? 'M' : 'I';
    put16(t + 2, big, 42);
    put32(t + 4, big, 8);
    put16(t + 8, big, entries);
    put16(t + 10, big, tag);
    put16(t + 12, big, 3);
    put32(t + 14, big, 1);
    put16(t + 18, big, value);
    put16(t + 20, big, 0);
    put32(t + 22, big, 0); /* no IFD1 */
    return n + 26;
}

/* ---- files made in memory ---- */

typedef struct membuf {
    unsigned char *data;
    size_t len;
} membuf;

/* A w x h JPEG of `components` values a pixel in colour space cs, every row `row`; with an APP1 of
 * `app1`, and Adobe's marker only where `adobe` says. */
static membuf jpeg_of(int w, int h, int components, J_COLOR_SPACE cs, const uint8_t *row, const uint8_t *app1,
                      size_t app1_len, int adobe)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&c, &out, &len);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = components;
    c.in_color_space = cs;
    jpeg_set_defaults(&c);
    c.write_Adobe_marker = adobe ? TRUE : FALSE;
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (app1) jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)app1_len);
    while (c.next_scanline < c.image_height) {
        JSAMPROW r = (JSAMPROW)row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return (membuf){out, len};
}

/* A w x h grey JPEG, dark (20) where x < w / 2 and light (230) elsewhere, with an APP1 of `app1`. */
static membuf jpeg_with(int w, int h, const uint8_t *app1, size_t app1_len)
{
    uint8_t *row = malloc((size_t)w);
    assert_non_null(row);
    for (int x = 0; x < w; x++) row[x] = x < w / 2 ? 20 : 230;
    membuf m = jpeg_of(w, h, 1, JCS_GRAYSCALE, row, app1, app1_len, 0);
    free(row);
    return m;
}

/* The same picture as a CMYK JPEG: the dark half black ink (K), the rest paper with a little of the
 * three colours' inks. Adobe's applications store every ink inverted and say so with their marker;
 * without it, as it is. */
static membuf jpeg_cmyk(int w, int h, int adobe)
{
    uint8_t *row = malloc((size_t)w * 4);
    assert_non_null(row);
    for (int x = 0; x < w; x++) {
        const uint8_t ink[4] = {25, 25, 25, x < w / 2 ? 230 : 0};
        for (int k = 0; k < 4; k++) row[4 * x + k] = (uint8_t)(adobe ? 255 - ink[k] : ink[k]);
    }
    membuf m = jpeg_of(w, h, 4, JCS_CMYK, row, NULL, 0, adobe);
    free(row);
    return m;
}

static void png_put(png_structp png, png_bytep d, png_size_t n)
{
    membuf *m = png_get_io_ptr(png);
    m->data = realloc(m->data, m->len + n);
    assert_non_null(m->data);
    memcpy(m->data + m->len, d, n);
    m->len += n;
}

static void png_flush_none(png_structp png) { (void)png; }

/* The same picture as a PNG, with an eXIf chunk of `tiff` before the pixels or, with `after`, after. */
static membuf png_with(int w, int h, const uint8_t *tiff, size_t tiff_len, int after)
{
    membuf m = {NULL, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png), end = png_create_info_struct(png);
    assert_non_null(end);
    png_set_write_fn(png, &m, png_put, png_flush_none);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (tiff) png_set_eXIf_1(png, after ? end : info, (png_uint_32)tiff_len, (png_bytep)tiff);
    png_write_info(png, info);
    uint8_t *row = malloc((size_t)w);
    assert_non_null(row);
    for (int x = 0; x < w; x++) row[x] = x < w / 2 ? 20 : 230;
    for (int y = 0; y < h; y++) png_write_row(png, row);
    png_write_end(png, end);
    png_destroy_info_struct(png, &end);
    png_destroy_write_struct(&png, &info);
    free(row);
    return m;
}

/* A w x h 16-bit grey PNG (with an opaque 16-bit alpha channel when `alpha`), `ink` where x < w / 2
 * and `paper` elsewhere, and `dead` pixels of 0 at the end of row 0. */
static membuf png16_with(int w, int h, unsigned ink, unsigned paper, int alpha, int dead)
{
    membuf m = {NULL, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    png_set_write_fn(png, &m, png_put, png_flush_none);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 16, alpha ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const int step = alpha ? 4 : 2;
    uint8_t *row = malloc((size_t)w * (size_t)step);
    assert_non_null(row);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const unsigned v = y == 0 && x >= w - dead ? 0 : x < w / 2 ? ink : paper;
            put16(row + x * step, 1, v);
            if (alpha) put16(row + x * step + 2, 1, 65535);
        }
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    return m;
}

static nnm_image decoded(membuf m)
{
    nnm_image im;
    char err[256];
    int rc = nnm_image_decode(m.data, m.len, "test", &im, err, sizeof err);
    if (rc != 0) fail_msg("decode: %s", err);
    free(m.data);
    return im;
}

/* ---- the turn of each orientation ---- */

static void test_orient_every_value(void **state)
{
    (void)state;
    /* Stored 3 x 2:   a b c
     *                 d e f
     * and as shown, by the EXIF table: 2 mirrored left to right, 3 turned 180 degrees, 4 mirrored top
     * to bottom, 5 mirrored along the main diagonal, 6 turned 90 degrees clockwise to be shown, 7
     * mirrored along the other diagonal, 8 turned 90 degrees counter-clockwise. */
    static const char *const shown[9] = {NULL,     "abcdef", "cbafed", "fedcba", "defabc",
                                         "adbecf", "daebfc", "fcebda", "cfbead"};
    for (int o = 1; o <= 8; o++) {
        nnm_image im = {3, 2, malloc(6), o};
        assert_non_null(im.px);
        memcpy(im.px, "abcdef", 6);
        char err[64];
        assert_int_equal(nnm_image_orient(&im, err, sizeof err), 0);
        assert_int_equal(im.orientation, 1);
        assert_int_equal(im.width, o >= 5 ? 2 : 3);
        assert_int_equal(im.height, o >= 5 ? 3 : 2);
        if (memcmp(im.px, shown[o], 6) != 0)
            fail_msg("orientation %d: %.6s, expected %s", o, (const char *)im.px, shown[o]);
        nnm_image_free(&im);
    }
    /* Out of range: left as stored, and then upright. */
    for (int o = -1; o <= 9; o += 10) {
        nnm_image im = {3, 2, malloc(6), o};
        assert_non_null(im.px);
        memcpy(im.px, "abcdef", 6);
        assert_int_equal(nnm_image_orient(&im, NULL, 0), 0);
        assert_int_equal(im.orientation, 1);
        assert_memory_equal(im.px, "abcdef", 6);
        nnm_image_free(&im);
    }
}

/* A row of a few sizes, so that the strides of the turn are not those of a square. */
static void test_orient_rows_and_columns(void **state)
{
    (void)state;
    const int w = 7, h = 4;
    for (int o = 1; o <= 8; o++) {
        nnm_image im = {w, h, malloc((size_t)(w * h)), o};
        assert_non_null(im.px);
        for (int i = 0; i < w * h; i++) im.px[i] = (uint8_t)i;
        assert_int_equal(nnm_image_orient(&im, NULL, 0), 0);
        /* Each stored pixel appears once, and the stored (0, 0) corner lands where the table says. */
        int seen[28] = {0};
        for (int i = 0; i < w * h; i++) seen[im.px[i]]++;
        for (int i = 0; i < w * h; i++) assert_int_equal(seen[i], 1);
        const int64_t W = im.width, H = im.height;
        static const int corner_x_far[9] = {0, 0, 1, 1, 0, 0, 1, 1, 0},
                         corner_y_far[9] = {0, 0, 0, 1, 1, 0, 0, 1, 1};
        const int64_t cx = corner_x_far[o] ? W - 1 : 0, cy = corner_y_far[o] ? H - 1 : 0;
        if (im.px[cy * W + cx] != 0)
            fail_msg("orientation %d: the stored first pixel is not at (%lld, %lld)", o, (long long)cx,
                     (long long)cy);
        nnm_image_free(&im);
    }
}

/* ---- JPEG ---- */

static void test_jpeg_exif_orientation(void **state)
{
    (void)state;
    uint8_t b[64];
    /* Big-endian, 6 (turned clockwise to be shown): the dark left half comes out on top. */
    nnm_image im = decoded(jpeg_with(32, 16, b, exif_block(b, 1, 1, 0x0112, 6, 1)));
    assert_int_equal(im.orientation, 6);
    assert_int_equal(im.width, 32);
    assert_int_equal(im.height, 16);
    assert_int_equal(nnm_image_orient(&im, NULL, 0), 0);
    assert_int_equal(im.width, 16);
    assert_int_equal(im.height, 32);
    assert_true(im.px[4 * 16 + 8] < 60);   /* top: the stored left */
    assert_true(im.px[27 * 16 + 8] > 190); /* bottom: the stored right */
    nnm_image_free(&im);

    /* Little-endian, 8 (counter-clockwise): the dark half at the bottom. */
    im = decoded(jpeg_with(32, 16, b, exif_block(b, 1, 0, 0x0112, 8, 1)));
    assert_int_equal(im.orientation, 8);
    assert_int_equal(nnm_image_orient(&im, NULL, 0), 0);
    assert_true(im.px[4 * 16 + 8] > 190);
    assert_true(im.px[27 * 16 + 8] < 60);
    nnm_image_free(&im);

    /* 3: upside down, the dark half on the right. */
    im = decoded(jpeg_with(32, 16, b, exif_block(b, 1, 1, 0x0112, 3, 1)));
    assert_int_equal(im.orientation, 3);
    assert_int_equal(nnm_image_orient(&im, NULL, 0), 0);
    assert_true(im.px[8 * 32 + 4] > 190 && im.px[8 * 32 + 27] < 60);
    nnm_image_free(&im);
}

/* A CMYK JPEG (a print workflow's) is read as grey: the black half dark, the paper with a little
 * of each colour's ink light (255 less 10% at each colour: 230). It was refused. */
static void test_jpeg_cmyk_as_grey(void **state)
{
    (void)state;
    for (int adobe = 0; adobe < 2; adobe++) {
        nnm_image im = decoded(jpeg_cmyk(32, 16, adobe));
        assert_int_equal(im.width, 32);
        assert_int_equal(im.height, 16);
        for (int y = 0; y < 16; y += 5) {
            assert_true(abs(im.px[y * 32 + 4] - 23) <= 6);
            assert_true(abs(im.px[y * 32 + 27] - 230) <= 6);
        }
        nnm_image_free(&im);
    }
}

/* A block without a usable orientation leaves the pixels as stored, and the image still decodes. */
static void test_jpeg_exif_without_orientation(void **state)
{
    (void)state;
    uint8_t b[64];
    const struct {
        unsigned tag, value, entries;
        int header;
        size_t cut;
        int expect;
        const char *what;
    } bad[] = {
        {0x0110, 6, 1, 1, 0, 1, "another tag only"},
        {0x0112, 9, 1, 1, 0, 1, "a value outside 1..8"},
        {0x0112, 0, 1, 1, 0, 1, "a value of 0"},
        {0x0112, 6, 1, 1, 12, 1, "a block cut inside its directory"},
        {0x0112, 6, 1, 1, 20, 1, "a block cut inside its one entry"},
        {0x0112, 6, 1, 0, 0, 1, "an APP1 without the Exif header (XMP's, say)"},
        /* The entries that are there are read, as viewers read them. */
        {0x0112, 6, 200, 1, 0, 6, "a directory claiming 200 entries in 26 bytes"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        size_t len = exif_block(b, bad[k].header, 1, bad[k].tag, bad[k].value, bad[k].entries);
        if (bad[k].cut) len = bad[k].cut;
        nnm_image im = decoded(jpeg_with(32, 16, b, len));
        if (im.orientation != bad[k].expect)
            fail_msg("%s: orientation %d, expected %d", bad[k].what, im.orientation, bad[k].expect);
        assert_int_equal(im.width, 32);
        nnm_image_free(&im);
    }
    nnm_image im = decoded(jpeg_with(32, 16, NULL, 0));
    assert_int_equal(im.orientation, 1);
    nnm_image_free(&im);
}

/* ---- PNG ---- */

static void test_png_exif_orientation(void **state)
{
    (void)state;
    uint8_t b[64];
    for (int after = 0; after <= 1; after++) {
        nnm_image im = decoded(png_with(32, 16, b, exif_block(b, 0, after, 0x0112, 6, 1), after));
        if (im.orientation != 6)
            fail_msg("eXIf %s the pixels: orientation %d", after ? "after" : "before", im.orientation);
        assert_int_equal(nnm_image_orient(&im, NULL, 0), 0);
        assert_int_equal(im.width, 16);
        assert_int_equal(im.height, 32);
        assert_int_equal(im.px[4 * 16 + 8], 20);
        assert_int_equal(im.px[27 * 16 + 8], 230);
        nnm_image_free(&im);
    }
    nnm_image im = decoded(png_with(32, 16, NULL, 0, 0));
    assert_int_equal(im.orientation, 1);
    nnm_image_free(&im);
    /* An eXIf chunk whose header claims 17 MiB, in a file of a few hundred bytes: refused as cut
     * before libpng sees it (it would allocate the claimed size first; the fuzz target runs with a
     * malloc limit that tells). */
    membuf m = png_with(32, 16, NULL, 0, 0);
    const size_t ihdr_end = 8 + 25;
    unsigned char *big = malloc(m.len + 12);
    assert_non_null(big);
    memcpy(big, m.data, ihdr_end);
    const unsigned char claim[12] = {0x01, 0x10, 0x00, 0x00, 'e', 'X', 'I', 'f', 'M', 'M', 0, 42};
    memcpy(big + ihdr_end, claim, sizeof claim);
    memcpy(big + ihdr_end + sizeof claim, m.data + ihdr_end, m.len - ihdr_end);
    char err[256] = "";
    assert_int_equal(nnm_image_decode(big, m.len + 12, "claims.png", &im, err, sizeof err), -1);
    if (strcmp(err, "claims.png: truncated PNG") != 0) fail_msg("a 17 MiB eXIf chunk: %s", err);
    assert_null(im.px);
    free(big);
    free(m.data);
    /* A PGM has no such tag. */
    const char pgm[] = "P5 2 1 255\n\x10\x20";
    assert_int_equal(nnm_image_decode((const uint8_t *)pgm, sizeof pgm - 1, "pgm", &im, err, sizeof err), 0);
    assert_int_equal(im.orientation, 1);
    nnm_image_free(&im);
}

/* An interlaced PNG is read pass by pass into the same pixels as a plain one. A header that claims
 * more pixels than its compressed data can hold (deflate inflates at most 1032 times) is refused
 * before the image is allocated: 8 x 8 pixels of data under a header of 10,000 x 10,000. */
static void test_png_passes_and_claims(void **state)
{
    (void)state;
    enum { W = 37, H = 23 };
    uint8_t px[W * H];
    png_bytep rows[H];
    for (int i = 0; i < W * H; i++) px[i] = (uint8_t)(i * 7 % 251);
    for (int y = 0; y < H; y++) rows[y] = px + y * W;
    for (int interlace = 0; interlace <= 1; interlace++) {
        membuf m = {NULL, 0};
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        assert_non_null(info);
        png_set_write_fn(png, &m, png_put, png_flush_none);
        png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_GRAY, interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        png_write_image(png, rows);
        png_write_end(png, info);
        png_destroy_write_struct(&png, &info);
        if (interlace) assert_int_equal(m.data[8 + 8 + 12], 1); /* IHDR's interlace byte */
        nnm_image im = decoded(m);
        assert_int_equal(im.width, W);
        assert_int_equal(im.height, H);
        assert_memory_equal(im.px, px, sizeof px);
        nnm_image_free(&im);
    }
    membuf m = png_with(8, 8, NULL, 0, 0);
    put32(m.data + 16, 1, 10000);
    put32(m.data + 20, 1, 10000);
    put32(m.data + 29, 1, crc32(crc32(0, NULL, 0), m.data + 12, 17)); /* IHDR's type and data */
    nnm_image im;
    char err[256] = "";
    assert_int_equal(nnm_image_decode(m.data, m.len, "claims.png", &im, err, sizeof err), -1);
    if (strncmp(err, "claims.png: truncated PNG (", 27) != 0 || !strstr(err, "10000 x 10000 pixels"))
        fail_msg("10,000 x 10,000 pixels over 8 x 8 of data: %s", err);
    assert_null(im.px);
    free(m.data);
}

/* A faint 16-bit scan (ink 1,000 of 65,535 below the paper: 4 grey levels of 8 bits, too few for the
 * reader) is stretched over 0..255 from its 16 bits, a dead pixel aside; a PGM of 16 bits too. A
 * 16-bit image of ordinary contrast, or of a few pixels of ink on a large page, is reduced as
 * libpng's png_set_scale_16() reduces it. */
static void test_deep_faint_stretched(void **state)
{
    (void)state;
    for (int alpha = 0; alpha < 2; alpha++) {
        nnm_image im = decoded(png16_with(64, 16, 59000, 60000, alpha, 1));
        assert_int_equal(im.px[1 * 64 + 10], 0);
        assert_int_equal(im.px[1 * 64 + 50], 255);
        assert_int_equal(im.px[63], 0); /* the dead pixel, below the ink */
        nnm_image_free(&im);
        im = decoded(png16_with(64, 16, 5000, 60000, alpha, 1));
        assert_int_equal(im.px[1 * 64 + 10], (5000 * 255 + 32895) >> 16);
        assert_int_equal(im.px[1 * 64 + 50], (60000 * 255 + 32895) >> 16);
        nnm_image_free(&im);
    }
    /* A small number on a large page: 20 pixels of ink in 40,000, on paper of two levels 200 apart
     * (its noise): ink and paper as libpng reduces them, the paper's noise not stretched. */
    nnm_image page = decoded(png16_with(200, 200, 59900, 60100, 0, 20));
    assert_int_equal(page.px[199], 0);
    assert_int_equal(page.px[1 * 200 + 10], (59900 * 255 + 32895) >> 16);
    assert_int_equal(page.px[1 * 200 + 150], (60100 * 255 + 32895) >> 16);
    nnm_image_free(&page);
    uint8_t pgm[16 + 2 * 64];
    const int head = snprintf((char *)pgm, sizeof pgm, "P5 8 8 65535\n");
    for (int i = 0; i < 64; i++) put16(pgm + head + 2 * i, 1, i % 8 < 4 ? 59000 : 60000);
    nnm_image im;
    char err[256];
    assert_int_equal(nnm_image_decode(pgm, (size_t)head + 128, "deep.pgm", &im, err, sizeof err), 0);
    assert_int_equal(im.px[9], 0);
    assert_int_equal(im.px[13], 255);
    nnm_image_free(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orient_every_value),    cmocka_unit_test(test_orient_rows_and_columns),
        cmocka_unit_test(test_jpeg_exif_orientation), cmocka_unit_test(test_jpeg_exif_without_orientation),
        cmocka_unit_test(test_png_exif_orientation),  cmocka_unit_test(test_jpeg_cmyk_as_grey),
        cmocka_unit_test(test_deep_faint_stretched),  cmocka_unit_test(test_png_passes_and_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
