/*
 * read_digits.c: read the handwritten digits in a greyscale image with a model trained on MNIST.
 *
 * Build and run against an installed libnn:
 *     cc read_digits.c $(pkg-config --cflags --libs nn) -o read_digits
 *     ./read_digits MODEL.nnm IMAGE.pgm
 * MODEL is any classifier of 28x28 images into 10 classes saved with nn_model_save(): input 784, or
 * (28, 28, 1) for a convolutional network (examples/mnist_cnn.c writes one, mnist_cnn.nnm). IMAGE
 * is a binary PGM ("P5"), which every image tool writes: `convert photo.jpg -colorspace gray x.pgm`.
 *
 * It prints the digits line by line, then one line per digit: its box in the image, the digit and
 * the model's probability, e.g.
 *     75008
 *     digit 0: box 12,40 60x88, line 0: 7 (0.998)
 * With MODEL "-" it only finds the digits and prints their boxes, no model needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn/nn.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        if ((call) != NN_OK) {                                                                     \
            fprintf(stderr, "%s: %s\n", #call, nn_last_error());                                   \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* A PGM header field: a number after blanks and "#" comments. */
static long pgm_field(FILE *f)
{
    int c = fgetc(f);
    while (c == '#' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        if (c == '#')
            while (c != '\n' && c != EOF) c = fgetc(f);
        c = fgetc(f);
    }
    long v = 0;
    int digits = 0;
    while (c >= '0' && c <= '9' && v < 100000000) {
        v = v * 10 + (c - '0');
        digits++;
        c = fgetc(f);
    }
    return digits ? v : -1; /* the one blank after the last field is consumed here */
}

/* Read a binary 8-bit PGM into a new buffer; NULL, with a message, when it is not one. */
static unsigned char *read_pgm(const char *path, long *w, long *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    unsigned char *px = NULL;
    long maxval = 0;
    if (fgetc(f) != 'P' || fgetc(f) != '5' || (*w = pgm_field(f)) < 1 || (*h = pgm_field(f)) < 1 ||
        (maxval = pgm_field(f)) < 1 || maxval > 255) {
        fprintf(stderr, "%s: not an 8-bit binary PGM (P5)\n", path);
    } else if (*w > 100000 || *h > 100000) {
        fprintf(stderr, "%s: %ld x %ld is too large\n", path, *w, *h);
    } else if (!(px = malloc((size_t)*w * (size_t)*h))) {
        fprintf(stderr, "%s: out of memory\n", path);
    } else if (fread(px, 1, (size_t)*w * (size_t)*h, f) != (size_t)*w * (size_t)*h) {
        fprintf(stderr, "%s: truncated\n", path);
        free(px);
        px = NULL;
    } else if (maxval != 255) { /* stretch to 0..255 */
        for (long i = 0; i < *w * *h; i++) px[i] = (unsigned char)(px[i] > maxval ? 255 : px[i] * 255 / maxval);
    }
    fclose(f);
    return px;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.nnm|- IMAGE.pgm\n", argv[0]);
        return 2;
    }
    /* 1. The image, as 8-bit grey: the library reads no files, only pixels. */
    long w, h;
    unsigned char *px = read_pgm(argv[2], &w, &h);
    if (!px) return 1;

    /* 2. Find the digits: background, threshold, components, merge, split, reading order, and each
     *    one made 28x28 as MNIST's were. NULL options: the defaults (everything automatic). */
    nn_digits *digits;
    CHECK(nn_digits_find(&digits, px, w, h, w, NULL));
    free(px);
    const int64_t n = nn_digits_count(digits);
    if (n == 0) {
        printf("no digits found\n");
        nn_digits_free(digits);
        return 0;
    }
    if (strcmp(argv[1], "-") == 0) {
        for (int64_t i = 0; i < n; i++) {
            int64_t x, y, bw, bh;
            CHECK(nn_digits_box(digits, i, &x, &y, &bw, &bh));
            printf("digit %lld: box %lld,%lld %lldx%lld, line %lld\n", (long long)i, (long long)x, (long long)y,
                   (long long)bw, (long long)bh, (long long)nn_digits_line(digits, i));
        }
        nn_digits_free(digits);
        return 0;
    }

    /* 3. The model, and all the digits through it at once: n rows of 784, seen as (n, 784) or as
     *    (n, 28, 28, 1) images, whichever the model's input is. (nn_digits_read() does steps 2 to 4
     *    in one call and lets the model choose where touching digits are cut, which reads more of
     *    them right, and with options.scales = 3 reads the image at three sizes; nn-mnist predict
     *    uses it so. This example keeps the steps apart to show them.) */
    nn_model *model;
    CHECK(nn_model_load(&model, argv[1], NULL));
    int64_t in_shape[NN_MAX_EXAMPLE_RANK], shape[NN_MAX_EXAMPLE_RANK + 1] = {n};
    const int rank = nn_model_input_shape(model, in_shape);
    /* 10 classes, or 12 from `nn-mnist train`: the 11th "not one digit", the 12th text (11 with
     * --no-letters; docs/predict.md). Only the ten digits are looked at below. */
    const int64_t classes = nn_model_output_features(model);
    if (nn_model_input_features(model) != NN_DIGITS_PIXELS || classes < 10 || classes > 12) {
        fprintf(stderr, "%s: the model reads %lld values into %lld classes, not 784 into 10 to 12\n", argv[1],
                (long long)nn_model_input_features(model), (long long)classes);
        return 1;
    }
    for (int k = 0; k < rank; k++) shape[k + 1] = in_shape[k];
    float *probs = malloc((size_t)(n * classes) * sizeof *probs);
    if (!probs) return 1;
    nn_tensor x, p;
    CHECK(nn_tensor_view(&x, nn_digits_images(digits), rank + 1, shape));
    CHECK(nn_tensor_view(&p, probs, 2, (int64_t[]){n, classes}));
    CHECK(nn_model_predict(model, &p, &x));

    /* 4. The answer: the most probable class of each digit, a new line where the text's line changes. */
    int *best = malloc((size_t)n * sizeof *best);
    if (!best) return 1;
    for (int64_t i = 0; i < n; i++) {
        best[i] = 0;
        for (int k = 1; k < 10; k++)
            if (probs[i * classes + k] > probs[i * classes + best[i]]) best[i] = k;
        if (i > 0 && nn_digits_line(digits, i) != nn_digits_line(digits, i - 1)) putchar('\n');
        putchar('0' + best[i]);
    }
    putchar('\n');
    for (int64_t i = 0; i < n; i++) {
        int64_t bx, by, bw, bh;
        CHECK(nn_digits_box(digits, i, &bx, &by, &bw, &bh));
        printf("digit %lld: box %lld,%lld %lldx%lld, line %lld: %d (%.3f)\n", (long long)i, (long long)bx,
               (long long)by, (long long)bw, (long long)bh, (long long)nn_digits_line(digits, i), best[i],
               (double)probs[i * classes + best[i]]);
    }
    free(best);
    free(probs);
    nn_model_free(model);
    nn_digits_free(digits);
    return 0;
}
