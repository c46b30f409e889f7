/*
 * Composing test images of digit strings for the digit benchmark (bench/digits/eval.c).
 *
 * Glyphs come from MNIST's test set (never its training set) or are rendered with cairo from the
 * installed fonts (other "writers"). A string of 1 to 8 of them is laid out at a random scale, with
 * random gaps (touching and overlapping sometimes), rotations, stroke thickness, then painted with an
 * ink colour on textured paper under uneven light, blurred and noised. Everything is drawn from one
 * nn_rng, so a seed gives the same images, byte for byte.
 */
#ifndef BD_SYNTH_H
#define BD_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include <nn/nn.h>

#define BD_MAX_LEN 8
#define BD_MAX_STYLES 64 /* fonts in one set */

/* A glyph's ink coverage, 0..1, cropped to its ink. */
typedef struct bd_glyph {
    float *cov;
    int w, h, label;
    int style; /* which font (writer) drew it; 0 for MNIST */
} bd_glyph;

typedef struct bd_glyphs {
    bd_glyph *g;
    int n;
    int styles;           /* number of fonts (1 for MNIST) */
    char style_name[BD_MAX_STYLES][64]; /* fonts: style s + 1's fontconfig pattern */
    int *by_label[10];    /* glyph numbers of each label */
    int count[10];
} bd_glyphs;

/* MNIST test digits, as glyphs. 0 or -1 with err. */
int bd_glyphs_from_mnist(bd_glyphs *out, const nn_dataset *test, char *err, size_t errlen);

/* The digits 0-9 of each fontconfig pattern in families ("DejaVu Sans", "Comic Neue:bold") that is
 * installed, at most BD_MAX_STYLES of them; those not installed, and any past BD_MAX_STYLES, are
 * skipped (names in skipped, comma-separated). 0, or -1 with err when none is. */
int bd_glyphs_from_fonts(bd_glyphs *out, const char *const *families, int n, char *skipped, size_t skippedlen,
                         char *err, size_t errlen);

void bd_glyphs_free(bd_glyphs *gs);

typedef struct bd_box {
    int x, y, w, h, label;
} bd_box;

/* One composed image with its truth. */
typedef struct bd_sample {
    int width, height;
    uint8_t *rgb;            /* width x height x 3 */
    int n;                   /* digits */
    bd_box box[BD_MAX_LEN];  /* each digit's ink box (coverage >= 0.35) */
    char text[BD_MAX_LEN + 1];
    int light_on_dark;
    int style;               /* the font that drew it (1..styles), 0 for MNIST's writers */
    int ruled;               /* BD_RULED_*: the paper it is written on (bd_spec.rules) */
} bd_sample;

/* The paper of a sample (bd_sample.ruled); bd_ruled_names[k] names kind k. */
enum { BD_RULED_PLAIN, BD_RULED_UNDERLINED, BD_RULED_LINES, BD_RULED_SQUARED, BD_RULED_COUNT };
extern const char *const bd_ruled_names[BD_RULED_COUNT];

typedef struct bd_spec {
    int len;            /* digits, 1..BD_MAX_LEN */
    float hmin, hmax;   /* digit heights in pixels, drawn log-uniformly */
    int width, height;  /* 0: the canvas fits the string; else this size, the string shrunk to fit */
    float touch;        /* probability that a gap is touching or overlapping */
    float inverse;      /* probability of light ink on a dark ground */
    int clean;          /* non-zero: black on white, no rotation, distortion or noise */
    unsigned without;   /* BD_WITHOUT_* bits: distortions drawn but not applied */
    float rules;        /* probability that the string is written on ruled paper: underlined in its
                         * ink, on a page's printed lines, or on squared paper (drawn from a stream
                         * of the image's own, so that the images are otherwise those of rules 0) */
    int paired;         /* non-zero: the draws whose number depends on the image's size come from
                         * streams of their own, so that an image drawn without a distortion
                         * differs from the full one by that alone (--without) */
} bd_spec;

/* The distortions --without can leave out, one bit each; bd_without_names[i] names bit i. Their
 * random draws are made all the same, so an image differs from the full one by that distortion alone. */
enum {
    BD_WITHOUT_SIZE = 1u << 0,     /* each digit's height (+-8%) and baseline jitter */
    BD_WITHOUT_ROTATION = 1u << 1, /* +-10 degrees per digit */
    BD_WITHOUT_PEN = 1u << 2,      /* a thicker or thinner pen */
    BD_WITHOUT_COLOUR = 1u << 3,   /* tinted paper, coloured and faded ink: black on white instead */
    BD_WITHOUT_INVERSE = 1u << 4,  /* light ink on a dark ground: drawn the other way round */
    BD_WITHOUT_PAPER = 1u << 5,    /* the paper's texture */
    BD_WITHOUT_GRAIN = 1u << 6,    /* the ink's grain */
    BD_WITHOUT_GRADIENT = 1u << 7, /* a gradient of light */
    BD_WITHOUT_SHADOW = 1u << 8,   /* a soft shadow */
    BD_WITHOUT_SPECKS = 1u << 9,
    BD_WITHOUT_BLUR = 1u << 10,
    BD_WITHOUT_NOISE = 1u << 11, /* the sensor's noise */
    BD_WITHOUT_COUNT = 12
};
extern const char *const bd_without_names[BD_WITHOUT_COUNT];

/* 0, or -1 with err (out of memory). */
int bd_compose(bd_sample *out, const bd_glyphs *src, const bd_spec *spec, nn_rng *rng, char *err, size_t errlen);

void bd_sample_free(bd_sample *s);

/* ITU-R BT.601 luma, as libjpeg and libpng's rgb_to_gray compute it. */
void bd_rgb_to_grey(uint8_t *grey, const uint8_t *rgb, int64_t pixels);

#endif
