/* libFuzzer target for nn-mnist's image reader (tools/nn-mnist/image.c): PNG through libpng, JPEG
 * through libjpeg-turbo, PGM by hand, told apart by their first bytes, and their EXIF orientation
 * through libexif, as `nn-mnist predict` reads a file or stdin and turns it. Whatever the bytes, the
 * reader must return an image whose every pixel can be read, turned by an orientation of 1 to 8,
 * or an error with a message and nothing allocated: abort() otherwise. Images are bounded at 4
 * megapixels (nnm_image_decode_max), since a header of a few bytes may claim 100 and the decoder
 * allocates before it reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nnm_image im;
    char err[512];
    err[0] = '\0';
    if (nnm_image_decode_max(data, size, "fuzz", (int64_t)1 << 22, &im, err, sizeof err) != 0) {
        if (!err[0] || im.px || im.width || im.height) abort();
        return 0;
    }
    if (!im.px || im.width < 1 || im.height < 1 || im.width * im.height > ((int64_t)1 << 22)) abort();
    if (im.orientation < 1 || im.orientation > 8) abort();
    const int64_t w = im.width, h = im.height, turned = im.orientation >= 5;
    if (nnm_image_orient(&im, err, sizeof err) != 0) abort(); /* a few megapixels: memory is there */
    if (im.orientation != 1 || im.width != (turned ? h : w) || im.height != (turned ? w : h)) abort();
    /* Every pixel read once: ASan sees a buffer shorter than width x height. */
    unsigned sum = 0;
    for (int64_t i = 0; i < im.width * im.height; i++) sum += im.px[i];
    if (sum == 0xffffffffu) abort(); /* keeps the loop */
    nnm_image_free(&im);
    return 0;
}
