/*
 * In-memory PNG (libpng) and JPEG (libjpeg-turbo) writers for the digit benchmark: the composed
 * images are encoded as a camera or a scanner would store them, then read back through the decoder
 * `nn-mnist predict` uses, so that the figures include what the codecs do to the pixels.
 */
#ifndef BD_ENCODE_H
#define BD_ENCODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct bd_bytes {
    uint8_t *data; /* malloc'ed */
    size_t size, cap;
} bd_bytes;

/* RGB (3 bytes a pixel, rows packed) as an 8-bit RGB PNG. 0, or -1 with err. */
int bd_encode_png(bd_bytes *out, const uint8_t *rgb, int width, int height, char *err, size_t errlen);

/* RGB as a baseline JPEG at quality 1..100 (4:2:0 chroma, as cameras write). 0, or -1 with err. */
int bd_encode_jpeg(bd_bytes *out, const uint8_t *rgb, int width, int height, int quality, char *err, size_t errlen);

void bd_bytes_free(bd_bytes *b);

#endif
