/* Shared by predict.c and predict_debug.c: the --debug-dir pictures. */
#ifndef NNM_PREDICT_INTERNAL_H
#define NNM_PREDICT_INTERNAL_H

#include <stddef.h>

#include <nn/nn.h>

#include "image.h"

/* The names already given in this run, so that a second "x.png" (from another folder) becomes
 * "x.png-2" instead of overwriting the first one's pictures. */
typedef struct nnm_debug_names {
    char **names;
    size_t count, cap;
} nnm_debug_names;

void nnm_debug_names_free(nnm_debug_names *n);

typedef struct nnm_debug_item {
    int digit;          /* the model's answer */
    double probability; /* its probability */
} nnm_debug_item;

/* Writes DIR/NAME-digit-000.png... (each normalised digit, 28x28 grey, white on black, as the model
 * read it) and DIR/NAME-annotated.png (the image with each digit's box and answer drawn; digits under
 * min_conf in orange rather than red). NAME is path's last component, "stdin" for "-". items holds
 * nn_digits_count(d) entries. 0, or -1 with err. */
int nnm_debug_write(nnm_debug_names *names, const char *dir, const char *path, const nnm_image *im, nn_digits *d,
                    const nnm_debug_item *items, double min_conf, char *err, size_t errlen);

#endif
