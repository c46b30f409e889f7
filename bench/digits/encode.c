/* PNG and JPEG into memory; see encode.h. */
#include "encode.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

void bd_bytes_free(bd_bytes *b)
{
    if (!b) return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ---- PNG ---- */

typedef struct png_sink {
    bd_bytes *out;
    int failed;
} png_sink;

static void png_write_mem(png_structp png, png_bytep data, png_size_t n)
{
    png_sink *s = png_get_io_ptr(png);
    bd_bytes *b = s->out;
    if (s->failed) return;
    if (b->size + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->size + n) cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            s->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->size, data, n);
    b->size += n;
}

static void png_flush_mem(png_structp png) { (void)png; }

int bd_encode_png(bd_bytes *out, const uint8_t *rgb, int width, int height, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    png_sink sink = {out, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *rows = malloc((size_t)height * sizeof *rows);
    if (!png || !info || !rows) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        snprintf(err, errlen, "png: out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        bd_bytes_free(out);
        snprintf(err, errlen, "png: libpng failed to encode");
        return -1;
    }
    png_set_write_fn(png, &sink, png_write_mem, png_flush_mem);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)(rgb + (size_t)y * (size_t)width * 3);
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    if (sink.failed) {
        bd_bytes_free(out);
        snprintf(err, errlen, "png: out of memory");
        return -1;
    }
    return 0;
}

/* ---- JPEG ---- */

typedef struct jpeg_fail {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_fail;

static void jpeg_fail_exit(j_common_ptr c)
{
    jpeg_fail *f = (jpeg_fail *)c->err;
    c->err->format_message(c, f->msg);
    longjmp(f->jump, 1);
}

int bd_encode_jpeg(bd_bytes *out, const uint8_t *rgb, int width, int height, int quality, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct jpeg_compress_struct c;
    jpeg_fail fail;
    /* Both are set before setjmp and read after a longjmp, so they are volatile. */
    unsigned char *volatile buf = NULL;
    volatile unsigned long size = 0;
    c.err = jpeg_std_error(&fail.mgr);
    fail.mgr.error_exit = jpeg_fail_exit;
    if (setjmp(fail.jump)) {
        jpeg_destroy_compress(&c);
        free(buf);
        snprintf(err, errlen, "jpeg: %s", fail.msg);
        return -1;
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, (unsigned char **)&buf, (unsigned long *)&size);
    c.image_width = (JDIMENSION)width;
    c.image_height = (JDIMENSION)height;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    out->data = buf;
    out->size = out->cap = size;
    return 0;
}
