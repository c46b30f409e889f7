/*
 * Reading image files into 8-bit grey for nn_digits_find(): PNG (libpng) and JPEG (libjpeg-turbo),
 * grey or colour, 8 or 16 bits, palette, alpha (composited on white, as a viewer shows it), and
 * binary PGM (P5). The format is told by the file's first bytes, never by its name, so a JPEG named
 * .png or an image on stdin reads the same. The EXIF orientation a camera records (JPEG's APP1,
 * PNG's eXIf chunk; libexif reads it) is reported, and nnm_image_orient() turns the pixels as a
 * viewer shows them. The library stays free of image formats: this is the tool's (and the bench's)
 * code.
 *
 *   nnm_image im;
 *   char err[512];
 *   if (nnm_image_read("photo.jpg", &im, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); ... }
 *   if (nnm_image_orient(&im, err, sizeof err) != 0) { ... }  // upright, as a viewer shows it
 *   nn_digits_find(&d, im.px, im.width, im.height, im.width, NULL);
 *   nnm_image_free(&im);
 */
#ifndef NNM_IMAGE_H
#define NNM_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Images larger than this many pixels are refused before their pixels are decoded: the same bound
 * as NN_DIGITS_MAX_PIXELS, so that nothing decoded is then refused by the library. */
#define NNM_IMAGE_MAX_PIXELS 100000000LL

typedef struct nnm_image {
    int64_t width, height; /* stride == width */
    uint8_t *px;           /* width x height grey bytes, 0 black .. 255 white; malloc'ed */
    /* The EXIF orientation the file records for its pixels, 1 to 8 (TIFF's tag 0x0112: 1 upright,
     * 3 upside down, 6 and 8 a quarter turn, 2, 4, 5 and 7 mirrored); 1 when it records none or a
     * value outside 1..8, and for PGM. Phones store a portrait photo's pixels on their side with 6
     * or 8, and every viewer turns them. */
    int orientation;
} nnm_image;

/* Reads the image at path ("-" reads stdin to its end). 0 with *out filled, or -1 with err saying
 * which file and why ("x.png: not a PNG, JPEG or PGM file", "y.jpg: truncated JPEG", "z.png: No
 * such file or directory"), and *out zeroed. A truncated or corrupt file is an error, not a partly
 * grey image. */
int nnm_image_read(const char *path, nnm_image *out, char *err, size_t errlen);

/* The same from bytes already in memory; name is used in messages only. */
int nnm_image_decode(const uint8_t *data, size_t size, const char *name, nnm_image *out, char *err, size_t errlen);

/* nnm_image_decode() with another bound than NNM_IMAGE_MAX_PIXELS: images of more pixels are refused
 * from their header. The decoder allocates up to 5 bytes per pixel before it reads them, so a short
 * file can claim a large image; the fuzz target bounds that at a few megapixels. */
int nnm_image_decode_max(const uint8_t *data, size_t size, const char *name, int64_t max_pixels, nnm_image *out,
                         char *err, size_t errlen);

/* Encodes a grey image (stride bytes per row) as an 8-bit grey PNG in memory: *out (the caller frees
 * it) of *len bytes, which the caller writes (nnm_write_atomic does it crash-safely). 0, or -1 with
 * err, the bare reason ("out of memory"). */
int nnm_image_encode_png_gray(unsigned char **out, size_t *len, const uint8_t *px, int64_t width, int64_t height,
                              int64_t stride, char *err, size_t errlen);

/* Turns im's pixels by its orientation, so that they lie as a viewer shows them (width and height
 * swapped by a quarter turn), and sets orientation to 1. 0, or -1 with err ("out of memory") and im
 * unchanged. Needs width x height bytes more while it runs. */
int nnm_image_orient(nnm_image *im, char *err, size_t errlen);

void nnm_image_free(nnm_image *im);

#endif
