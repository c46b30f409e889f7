/*
 * bench-digits: how well and how fast libnn reads digit strings in images (issue 14).
 *
 * It composes images of digit strings (synth.c) from MNIST's TEST digits and from digits rendered
 * with installed fonts (other writers), stores each as PNG and as JPEG at several qualities
 * (encode.c), reads them back through the decoder `nn-mnist predict` uses (tools/nn-mnist/image.c),
 * finds and reads the digits with nn_digits_read() (or, with --geometric, nn_digits_find() and then
 * the model: touching digits cut without it), with a saved model. Found boxes are
 * matched to the true ones by overlap, and it reports, per source (mnist, fonts) and per format
 * (raw: the composed pixels with no codec; png; jpegQ):
 *   - digit accuracy: true digits found alone (a found box with IoU >= 0.5, matched one to one, and
 *     no other found box mostly inside it) and classified right, over all true digits (match.c);
 *   - string accuracy: strings read exactly (every digit, nothing more), per length and for 5 digits;
 *   - segmentation errors: true digits missed (nothing found there), split (two or more found boxes
 *     inside it, one of which may be its match), merged (a found box covering it and another), cut wrong (found, but the box is off),
 *     and spurious found boxes (mostly outside every true digit).
 *   - with several fonts, each font's digit and 5-digit string accuracy (one font can hold most of
 *     the errors);
 *   - what a reader that trusts only the digits read surely (`nn-mnist predict` prints the others
 *     with '?') keeps, and how many of those are right: found digits and 5-digit strings.
 * Then the speed of one 5-digit 640 x 200 PNG, model loaded once: decode, segment, predict and the
 * whole, each the median over --speed-images x --repeats runs, one thread.
 * One figure per line, "name value unit", as bench/bench.c prints.
 *
 * Usage: bench-digits --model FILE.nnm [--data-dir DIR] [--count N] [--seed N] ... (see --help)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <nn/nn.h>

#include "../timing.h"

#include "encode.h"
#include "match.h"
#include "synth.h"
#ifdef BD_HAVE_IMAGE
#include "image.h"
#endif

enum { MAX_FORMATS = 8, MAX_SOURCES = 2 };

static const char *const default_fonts[] = {
    "DejaVu Sans", "DejaVu Sans:bold", "DejaVu Serif", "DejaVu Sans Mono", "DejaVu Sans:oblique",
    "Comic Neue", "Comic Neue:bold", "Comic Neue:italic", "Humor Sans", "DkgHandwriting", "DkgHandwriting:italic",
    "Breip", "femkeklaver",
};


typedef struct format {
    char name[16]; /* raw, png, jpeg90 */
    int quality;   /* 0: raw, -1: png */
} format;


typedef struct ctx {
    nn_model *model;  /* the first of models */
    nn_model *models[NN_DIGITS_MAX_MODELS];
    int n_models;     /* more than one: read together (nn_digits_read_ensemble()) */
    int64_t shape[NN_MAX_EXAMPLE_RANK + 1];
    int rank;
    int32_t *cls;
    float *prob;     /* the probability of each class read, cls_cap */
    double min_conf; /* under it a digit is doubtful, as `nn-mnist predict --min-confidence` marks it */
    float *out;     /* the model's outputs, cls_cap x outputs */
    int64_t cls_cap;
    int geometric; /* nn_digits_find(), then classify, rather than nn_digits_read() */
    int scales;    /* nn_digits_options.scales of nn_digits_read() */
    int keep_lines; /* --keep-lines: nn_digits_options.rules = 0 */
    int no_deskew;  /* --no-deskew: nn_digits_options.deskew = 0 */
    int keep_text;  /* --keep-text: nn_digits_options.skip_text = 0 */
    FILE *errors;  /* --errors: one line per wrong digit, or NULL */
} ctx;

/* The digits of one image: read with the model, or found without it. */
static nn_status segment(ctx *c, nn_digits **d, const uint8_t *grey, int w, int h)
{
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.scales = c->scales;
    o.rules = !c->keep_lines;
    o.skip_text = !c->keep_text;
    o.deskew = !c->no_deskew;
    if (c->model && !c->geometric) return nn_digits_read_ensemble(d, c->models, c->n_models, grey, w, h, w, &o);
    return nn_digits_find(d, grey, w, h, w, &o);
}

/* The classes of d's digits: those nn_digits_read() chose, or the model's on the images (always
 * the model's when `model_only`, which times the model alone on the digits found): the most
 * probable of the ten digits, as nn_digits_read() reads an 11-class model. 0, or -1. */
static int classify_digits(ctx *c, nn_digits *d, int model_only)
{
    int64_t n = nn_digits_count(d);
    if (!c->model || n == 0) return 0;
    const int64_t k = nn_model_output_features(c->model);
    if (n > c->cls_cap) {
        int32_t *p = realloc(c->cls, (size_t)n * sizeof *p);
        if (p) c->cls = p;
        float *pr = realloc(c->prob, (size_t)n * sizeof *pr);
        if (pr) c->prob = pr;
        float *o = realloc(c->out, (size_t)(n * k) * sizeof *o);
        if (o) c->out = o;
        if (!p || !pr || !o) return -1;
        c->cls_cap = n;
    }
    if (!model_only && nn_digits_probabilities(d, 0)) { /* read already */
        for (int64_t i = 0; i < n; i++) {
            c->cls[i] = nn_digits_class(d, i);
            c->prob[i] = nn_digits_probabilities(d, i)[c->cls[i]];
        }
        return 0;
    }
    nn_tensor x, y;
    c->shape[0] = n;
    if (nn_tensor_view(&x, nn_digits_images(d), c->rank + 1, c->shape) != NN_OK ||
        nn_tensor_view(&y, c->out, 2, (int64_t[]){n, k}) != NN_OK || nn_model_predict(c->model, &y, &x) != NN_OK)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        const float *row = c->out + i * k;
        int best = 0;
        for (int j = 1; j < 10; j++)
            if (row[j] > row[best]) best = j;
        c->cls[i] = best;
        c->prob[i] = row[best];
    }
    return 0;
}

static int classify(ctx *c, nn_digits *d)
{
    return classify_digits(c, d, 0);
}

static int nomem(void)
{
    fprintf(stderr, "bench-digits: out of memory\n");
    return -1;
}

/* Grey pixels of one format of a composed image: decoded from its encoding, or converted in memory. */
static int to_grey(uint8_t **grey, const bd_sample *s, const format *fmt, bd_bytes *enc, char *err, size_t errlen)
{
    *grey = NULL;
    if (fmt->quality == 0) {
        *grey = malloc((size_t)s->width * (size_t)s->height);
        if (!*grey) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        bd_rgb_to_grey(*grey, s->rgb, (int64_t)s->width * s->height);
        return 0;
    }
#ifdef BD_HAVE_IMAGE
    nnm_image im;
    if (nnm_image_decode(enc->data, enc->size, fmt->name, &im, err, errlen) != 0) return -1;
    if (im.width != s->width || im.height != s->height) {
        snprintf(err, errlen, "%s: decoded as %lld x %lld, written as %d x %d", fmt->name, (long long)im.width,
                 (long long)im.height, s->width, s->height);
        nnm_image_free(&im);
        return -1;
    }
    *grey = im.px;
    return 0;
#else
    (void)enc;
    snprintf(err, errlen, "%s: built without tools/nn-mnist/image.c", fmt->name);
    return -1;
#endif
}

static int encode(bd_bytes *out, const bd_sample *s, const format *fmt, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (fmt->quality == 0) return 0;
    if (fmt->quality < 0) return bd_encode_png(out, s->rgb, s->width, s->height, err, errlen);
    return bd_encode_jpeg(out, s->rgb, s->width, s->height, fmt->quality, err, errlen);
}

static int write_file(const char *path, const uint8_t *data, size_t size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (f) fclose(f);
        return -1;
    }
    return 0;
}

/* One font's (or one paper's) share of a format's figures. */
typedef struct by_font {
    long digits, right, strings5, strings5_right;
} by_font;

static void add_read(by_font *b, int n, long right, int exact)
{
    b->digits += n;
    b->right += right;
    b->strings5 += n == 5;
    b->strings5_right += n == 5 && exact;
}

typedef struct run_opts {
    int count, samples, len_lo, len_hi, mixed;
    const char *samples_dir;
    bd_spec spec;
} run_opts;

/* Tallies one image read into d: its digits against the truth, its string, and what a reader that
 * trusts only sure digits keeps (--geometric gives the model's raw outputs, not probabilities: no
 * sure figures). 0, or -1 out of memory. */
static int tally_read(const ctx *c, bd_tally *tf, int *exact_out, const bd_sample *s, const nn_digits *d,
                      const char *where)
{
    const int64_t n = nn_digits_count(d);
    const int judged = c->model && !c->geometric;
    bd_box *fb = malloc((size_t)(n ? n : 1) * sizeof *fb);
    unsigned char *sure = malloc((size_t)(n ? n : 1));
    char text[64];
    int tl = 0, all_sure = n > 0;
    if (!fb || !sure) {
        free(fb);
        free(sure);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t x, y, w, h;
        nn_digits_box(d, i, &x, &y, &w, &h);
        fb[i] = (bd_box){(int)x, (int)y, (int)w, (int)h, c->model ? c->cls[i] : -1};
        sure[i] = judged && c->prob[i] >= c->min_conf;
        all_sure &= sure[i];
        if (tl < (int)sizeof text - 1) text[tl++] = c->model ? (char)('0' + c->cls[i]) : '?';
    }
    text[tl] = 0;
    const int rc = bd_match(tf, s->box, s->n, fb, c->model ? c->cls : NULL, judged ? sure : NULL, (int)n,
                            c->errors, where);
    free(fb);
    free(sure);
    if (rc != 0) return -1;
    const int exact = c->model && strcmp(text, s->text) == 0;
    *exact_out = exact;
    if (exact) tf->strings_right[s->n]++;
    if (judged && all_sure) {
        tf->sure_strings[s->n]++;
        tf->sure_strings_right[s->n] += exact;
    }
    return 0;
}

/* One source: --count strings through every format. 0, or -1 after a message. */
static int run_source(ctx *c, const char *name, const bd_glyphs *src, const format *fmts, int nfmt,
                      const run_opts *o, uint64_t seed, bd_tally *t, by_font (*bf)[BD_MAX_STYLES + 1],
                      by_font (*bk)[BD_RULED_COUNT], FILE *truth)
{
    char err[512];
    nn_rng *rng;
    int bad = 0; /* -1 after a message: out of memory */
    if (nn_rng_create(&rng, seed) != NN_OK) return -1;
    for (int k = 0; k < o->count; k++) {
        bd_spec spec = o->spec;
        spec.len = o->mixed && nn_rng_below(rng, 2) == 0
                       ? 5
                       : o->len_lo + (int)nn_rng_below(rng, (uint64_t)(o->len_hi - o->len_lo + 1));
        bd_sample s;
        if (bd_compose(&s, src, &spec, rng, err, sizeof err) != 0) {
            fprintf(stderr, "bench-digits: %s\n", err);
            nn_rng_free(rng);
            return -1;
        }
        for (int f = 0; f < nfmt; f++) {
            bd_bytes enc;
            uint8_t *grey = NULL;
            bd_tally *tf = &t[f];
            by_font *ff = &bf[f][s.style], *fk = &bk[f][s.ruled];
            const long right_before = tf->right;
            int exact = 0;
            tf->images++;
            tf->strings[s.n]++;
            if (encode(&enc, &s, &fmts[f], err, sizeof err) != 0) {
                fprintf(stderr, "bench-digits: %s\n", err);
                bd_sample_free(&s);
                nn_rng_free(rng);
                return -1;
            }
            if (o->samples_dir && k < o->samples && fmts[f].quality != 0) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s-%03d-%s.%s", o->samples_dir, name, k, fmts[f].name,
                         fmts[f].quality < 0 ? "png" : "jpg");
                if (write_file(path, enc.data, enc.size, err, sizeof err) != 0) {
                    fprintf(stderr, "bench-digits: %s\n", err);
                    bd_bytes_free(&enc);
                    bd_sample_free(&s);
                    nn_rng_free(rng);
                    return -1;
                }
                if (truth) {
                    fprintf(truth, "%s\t%s", strrchr(path, '/') + 1, s.text);
                    for (int i = 0; i < s.n; i++)
                        fprintf(truth, "\t%d,%d,%d,%d", s.box[i].x, s.box[i].y, s.box[i].w, s.box[i].h);
                    fputc('\n', truth);
                }
            }
            nn_digits *d = NULL;
            char where[64];
            snprintf(where, sizeof where, "%s-%03d-%s", name, k, fmts[f].name);
            if (to_grey(&grey, &s, &fmts[f], &enc, err, sizeof err) != 0) {
                /* A decoder failure on our own file is a bug to see, not a figure to average. */
                fprintf(stderr, "bench-digits: %s-%03d: %s\n", name, k, err);
                tf->failures++;
                if (bd_match(tf, s.box, s.n, NULL, NULL, NULL, 0, c->errors, where) != 0) bad = nomem();
            } else if (segment(c, &d, grey, s.width, s.height) != NN_OK ||
                       classify(c, d) != 0) {
                fprintf(stderr, "bench-digits: %s-%03d %s: %s\n", name, k, fmts[f].name, nn_last_error());
                tf->failures++;
                if (bd_match(tf, s.box, s.n, NULL, NULL, NULL, 0, c->errors, where) != 0) bad = nomem();
            } else if (tally_read(c, tf, &exact, &s, d, where) != 0) {
                bad = nomem();
            }
            add_read(ff, s.n, tf->right - right_before, exact);
            add_read(fk, s.n, tf->right - right_before, exact);
            nn_digits_free(d);
            free(grey);
            bd_bytes_free(&enc);
            if (bad) break;
        }
        bd_sample_free(&s);
        if (bad) break;
    }
    nn_rng_free(rng);
    return bad;
}

static double pct(long a, long b) { return b ? 100.0 * (double)a / (double)b : 0.0; }

static void report(const char *src, const format *fmt, const bd_tally *t, int have_model, int judged)
{
    char p[64];
    snprintf(p, sizeof p, "%s_%s", src, fmt->name);
    printf("%s_images %ld images\n", p, t->images);
    printf("%s_digits %ld digits\n", p, t->digits);
    if (have_model) {
        printf("%s_digit_accuracy %.2f %%\n", p, pct(t->right, t->digits));
        const long apart = t->digits - t->touching;
        if (t->touching)
            printf("%s_touching_accuracy %.2f %% (%ld digits)\n", p, pct(t->touching_right, t->touching),
                   t->touching);
        if (t->overlapping)
            printf("%s_overlapping_accuracy %.2f %% (%ld digits)\n", p,
                   pct(t->overlapping_right, t->overlapping), t->overlapping);
        if (apart)
            printf("%s_apart_accuracy %.2f %% (%ld digits)\n", p, pct(t->right - t->touching_right, apart),
                   apart);
        long all = 0, right = 0;
        for (int l = 1; l <= BD_MAX_LEN; l++) {
            all += t->strings[l];
            right += t->strings_right[l];
        }
        printf("%s_string_accuracy %.2f %%\n", p, pct(right, all));
        for (int l = 1; l <= BD_MAX_LEN; l++)
            if (t->strings[l])
                printf("%s_string_accuracy_len%d %.2f %% (%ld strings)\n", p, l, pct(t->strings_right[l], t->strings[l]),
                       t->strings[l]);
        /* What a reader that trusts only the digits printed without '?' gets: how many it keeps,
         * and how many of those are right. */
        if (judged) {
            printf("%s_sure_digits %.2f %% (%ld of %ld found)\n", p, pct(t->sure, t->found), t->sure,
                   t->found);
            printf("%s_sure_digit_accuracy %.2f %% (%ld right)\n", p, pct(t->sure_right, t->sure),
                   t->sure_right);
        }
        if (judged && t->strings[5]) {
            printf("%s_sure_strings_len5 %.2f %% (%ld of %ld)\n", p, pct(t->sure_strings[5], t->strings[5]),
                   t->sure_strings[5], t->strings[5]);
            printf("%s_sure_string_accuracy_len5 %.2f %% (%ld right)\n", p,
                   pct(t->sure_strings_right[5], t->sure_strings[5]), t->sure_strings_right[5]);
        }
    }
    printf("%s_segmented_alone %.2f %%\n", p, pct(t->matched, t->digits));
    printf("%s_missed %ld digits\n", p, t->missed);
    printf("%s_split %ld digits\n", p, t->split);
    printf("%s_merged %ld digits\n", p, t->merged);
    printf("%s_cut_wrong %ld digits\n", p, t->cut);
    printf("%s_spurious %ld boxes\n", p, t->spurious);
    if (t->failures) printf("%s_failures %ld images\n", p, t->failures);
}

/* Each font's digit and 5-digit string accuracy, where a source has several: one font can hold most
 * of the errors (an outline font's hollow strokes). Names keep letters and digits, the rest as '_'. */
/* A font's pattern as part of a figure's name: letters and digits kept, the rest '_'. */
static void figure_name(char *out, size_t cap, const char *pattern)
{
    snprintf(out, cap, "%s", pattern);
    for (char *q = out; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))) *q = '_';
}

static void report_fonts(const char *src, const format *fmt, const bd_glyphs *gs, const by_font *bf)
{
    for (int k = 1; gs->styles > 1 && k <= gs->styles; k++) {
        char name[80], other[80];
        figure_name(name, sizeof name, gs->style_name[k - 1]);
        /* Two patterns that read alike ("DejaVu Sans:oblique", "DejaVu Sans oblique") keep apart. */
        for (int j = 1; j < k; j++) {
            figure_name(other, sizeof other, gs->style_name[j - 1]);
            if (strcmp(name, other) == 0) {
                size_t len = strlen(name);
                snprintf(name + len, sizeof name - len, "_%d", k);
                break;
            }
        }
        const by_font *b = &bf[k];
        if (!b->digits) continue;
        printf("%s_%s_digit_accuracy_%s %.2f %% (%ld digits)\n", src, fmt->name, name, pct(b->right, b->digits),
               b->digits);
        if (b->strings5)
            printf("%s_%s_string_accuracy_len5_%s %.2f %% (%ld strings)\n", src, fmt->name, name,
                   pct(b->strings5_right, b->strings5), b->strings5);
    }
}

/* Each paper's share of a format's figures, with --rules: mnist_png_digit_accuracy_squared. */
static void report_ruled(const char *src, const format *fmt, const by_font *bk)
{
    for (int k = 0; k < BD_RULED_COUNT; k++) {
        const by_font *b = &bk[k];
        if (!b->digits) continue;
        printf("%s_%s_digit_accuracy_%s %.2f %% (%ld digits)\n", src, fmt->name, bd_ruled_names[k],
               pct(b->right, b->digits), b->digits);
        if (b->strings5)
            printf("%s_%s_string_accuracy_len5_%s %.2f %% (%ld strings)\n", src, fmt->name, bd_ruled_names[k],
                   pct(b->strings5_right, b->strings5), b->strings5);
    }
}

/* Speed on 5-digit 640 x 200 images: decode (PNG and the lowest JPEG quality), segment, predict. */
static int speed(ctx *c, const bd_glyphs *src, const run_opts *o, int images, int repeats, int jpeg_q, uint64_t seed)
{
    char err[512];
    nn_rng *rng;
    if (nn_rng_create(&rng, seed) != NN_OK) return -1;
    int runs = images * repeats;
    double *td = calloc((size_t)runs, sizeof(double)), *tj = calloc((size_t)runs, sizeof(double)),
           *ts = calloc((size_t)runs, sizeof(double)), *tp = calloc((size_t)runs, sizeof(double)),
           *tt = calloc((size_t)runs, sizeof(double)), *tm = calloc((size_t)runs, sizeof(double));
    int rc = td && tj && ts && tp && tt && tm ? 0 : -1, r = 0;
    long found = 0;
    for (int k = 0; k < images && rc == 0; k++) {
        bd_spec spec = o->spec;
        spec.len = 5;
        spec.width = 640;
        spec.height = 200;
        spec.hmin = 40;
        spec.hmax = 120;
        bd_sample s;
        bd_bytes png = {0}, jpg = {0};
        format fpng = {"png", -1}, fjpg = {"jpeg", jpeg_q}, fraw = {"raw", 0};
        (void)fraw;
        if (bd_compose(&s, src, &spec, rng, err, sizeof err) != 0 || encode(&png, &s, &fpng, err, sizeof err) != 0 ||
            encode(&jpg, &s, &fjpg, err, sizeof err) != 0) {
            fprintf(stderr, "bench-digits: %s\n", err);
            rc = -1;
            break;
        }
        for (int rep = 0; rep < repeats && rc == 0; rep++, r++) {
            uint8_t *grey = NULL, *gj = NULL;
            nn_digits *d = NULL;
#ifdef BD_HAVE_IMAGE
            const format *fmt = &fpng;
#else
            const format *fmt = &fraw; /* no decoder built: the figures leave decoding out */
#endif
            double t0 = bench_now();
            int bad = to_grey(&grey, &s, fmt, &png, err, sizeof err);
            double t1 = bench_now();
            bad = bad || segment(c, &d, grey, s.width, s.height) != NN_OK;
            double t2 = bench_now();
            bad = bad || classify(c, d) != 0;
            double t3 = bench_now();
            /* The model alone on the digits found: what the image work is compared with. With
             * nn_digits_read() the reading above is part of the segmentation, so this is extra. */
            double t5 = bench_now();
            bad = bad || classify_digits(c, d, 1) != 0;
            tm[r] = bench_now() - t5;
            if (!bad && rep == 0) found += nn_digits_count(d);
#ifdef BD_HAVE_IMAGE
            double t4 = bench_now();
            bad = bad || to_grey(&gj, &s, &fjpg, &jpg, err, sizeof err) != 0;
            tj[r] = bench_now() - t4;
#else
            (void)fjpg;
#endif
            if (bad) {
                fprintf(stderr, "bench-digits: speed image %d: %s\n", k, err[0] ? err : nn_last_error());
                rc = -1;
            }
            td[r] = t1 - t0;
            ts[r] = t2 - t1;
            tp[r] = t3 - t2;
            tt[r] = t3 - t0;
            nn_digits_free(d);
            free(grey);
            free(gj);
        }
        bd_bytes_free(&png);
        bd_bytes_free(&jpg);
        bd_sample_free(&s);
    }
    if (rc == 0 && runs > 0) {
        double total = bench_median(tt, runs), pred = bench_median(tp, runs), model = bench_median(tm, runs);
        printf("speed_images %d images of 640x200, 5 digits\n", images);
        printf("speed_runs %d runs\n", runs);
        printf("speed_digits_found %.2f digits/image\n", (double)found / images);
#ifdef BD_HAVE_IMAGE
        printf("speed_decode_png %.3f ms\n", 1e3 * bench_median(td, runs));
        printf("speed_decode_jpeg%d %.3f ms\n", jpeg_q, 1e3 * bench_median(tj, runs));
#endif
        printf("speed_segment %.3f ms%s\n", 1e3 * bench_median(ts, runs),
               !c->model || c->geometric ? ""
               : c->n_models > 1  ? " (finding, cutting and classifying: nn_digits_read_ensemble)"
                                  : " (finding, cutting and classifying: nn_digits_read)");
        if (c->model) printf("speed_predict %.3f ms (after the segmentation)\n", 1e3 * pred);
        if (c->model) printf("speed_model %.3f ms (the first model alone on the digits found)\n", 1e3 * model);
        printf("speed_total%s %.3f ms\n",
#ifdef BD_HAVE_IMAGE
               "_png",
#else
               "_raw",
#endif
               1e3 * total);
        /* How much the image work costs beside the model's own: 1.0 would be free. */
        if (c->model && model > 0) printf("speed_ratio_total_to_model %.2f x\n", total / model);
    }
    free(td);
    free(tj);
    free(ts);
    free(tp);
    free(tm);
    free(tt);
    nn_rng_free(rng);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: bench-digits [options]\n"
            "Compose digit-string images from MNIST's test digits and from installed fonts, store them as\n"
            "PNG and JPEG, read them back, find and classify the digits, and report accuracy and speed.\n\n"
            "  --model FILE        a saved classifier of 28x28 digits (input 784 or 28x28x1) [none:\n"
            "                      segmentation figures only]; given up to 16 times, the models read\n"
            "                      together, their probabilities averaged (nn_digits_read_ensemble())\n"
            "  --data-dir DIR      folder holding t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz)\n"
            "                      [$NN_DATA_DIR/mnist]\n"
            "  --sources LIST      mnist, fonts or both [mnist,fonts]\n"
            "  --fonts LIST        fontconfig patterns separated by ';' [DejaVu, Comic Neue, Humor Sans,\n"
            "                      DkgHandwriting, Breip, femkeklaver: those installed]\n"
            "  --count N           strings per source [400]\n"
            "  --lengths SPEC      mixed (half of 5 digits, half of 1 to 8), N, or A-B [mixed]\n"
            "  --heights A-B       digit heights in pixels, drawn log-uniformly [16-120]\n"
            "  --touch P           probability that two neighbours touch or overlap [0.2]\n"
            "  --inverse P         probability of light ink on a dark ground [0.15]\n"
            "  --rules P           probability of ruled paper: underlined in the ink, a page's pale\n"
            "                      lines or squares, tilted up to 1.5 degrees; the images are\n"
            "                      otherwise those of --rules 0 [0]\n"
            "  --keep-lines        read with nn_digits_options.rules 0: ruled lines left in the ink\n"
            "  --no-deskew         read with nn_digits_options.deskew 0: tilted lines read as they lie\n"
            "  --keep-text         read with nn_digits_options.skip_text 0: a 12-class model's text read\n"
            "                      as digits too\n"
            "  --clean             black on white, upright, apart, no texture, light, blur or noise\n"
            "  --without LIST      leave out these distortions, comma-separated: size, rotation, pen,\n"
            "                      colour, inverse, paper, grain, gradient, shadow, specks, blur,\n"
            "                      noise, or none; the images are drawn so that two runs with the same\n"
            "                      seed and different lists pair image by image (not with a run\n"
            "                      without --without)\n"
            "  --jpeg-qualities L  JPEG qualities, comma-separated [90,75,50]\n"
            "  --seed N            seed of everything drawn [1]\n"
            "  --write-samples DIR write the first --samples images of each source in each format there,\n"
            "                      with truth.tsv (file, digits, boxes x,y,w,h)\n"
            "  --samples N         [12]\n"
            "  --errors FILE       list every digit not read right there, tab-separated: image (as\n"
            "                      --write-samples names it, without extension), position, truth, height,\n"
            "                      what happened (read as D, missed, split, merged, cut wrong), and\n"
            "                      every spurious box\n"
            "  --speed-images N    640x200 5-digit images timed [40; 0: no timing]\n"
            "  --repeats N         timings per image [3]\n"
            "  --threads N         BLAS threads [1]\n"
            "  --geometric         cut touching digits by their shape alone (nn_digits_find()), then\n"
            "                      classify, rather than by what the model reads (nn_digits_read())\n"
            "  --scales N          nn_digits_read() reads each image at 1 to N times its size, region by\n"
            "                      region as nn-mnist predict keeps them (1 to 4) [3, as nn-mnist\n"
            "                      predict]\n"
            "  --min-confidence P  a digit read with a probability under P is doubtful, as nn-mnist\n"
            "                      predict marks it with '?'; the sure_ figures count the others [0.5]\n"
            "  --help              this text\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* --without's names into bits; 0, or -1 for a name not known. */
static int parse_without(const char *list, unsigned *bits)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *bits = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < BD_WITHOUT_COUNT && strcmp(tok, bd_without_names[k]) != 0) k++;
        if (k < BD_WITHOUT_COUNT) *bits |= 1u << k;
        else if (strcmp(tok, "none") != 0) return -1;
    }
    return 0;
}

static int load_mnist(nn_dataset **ds, const char *dir)
{
    char img[4096], lab[4096];
    const char *suffix[2] = {".gz", ""};
    for (int i = 0; i < 2; i++) {
        snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte%s", dir, suffix[i]);
        snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte%s", dir, suffix[i]);
        struct stat st;
        if (stat(img, &st) == 0 || i == 1) break;
    }
    if (nn_dataset_load_idx(ds, img, lab) != NN_OK) {
        fprintf(stderr, "bench-digits: MNIST test set: %s (give --data-dir, or --sources fonts)\n", nn_last_error());
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int n_models = 0;
    const char *model_paths[NN_DIGITS_MAX_MODELS], *data_dir = NULL, *sources = "mnist,fonts", *fonts_arg = NULL,
               *lengths = "mixed", *heights = "16-120", *qualities = "90,75,50";
    long seed = 1, speed_images = 40, repeats = 3, threads = 1, scales = 3, v;
    int geometric = 0, keep_lines = 0, no_deskew = 0, keep_text = 0;
    double min_conf = 0.5;
    const char *errors_path = NULL;
    run_opts o = {400, 12, 1, BD_MAX_LEN, 1, NULL, {5, 16, 120, 0, 0, 0.2f, 0.15f, 0, 0, 0, 0}};
    static const struct option longs[] = {
        {"model", required_argument, NULL, 'm'},       {"data-dir", required_argument, NULL, 'd'},
        {"sources", required_argument, NULL, 's'},     {"fonts", required_argument, NULL, 'F'},
        {"count", required_argument, NULL, 'n'},       {"lengths", required_argument, NULL, 'l'},
        {"heights", required_argument, NULL, 'H'},     {"touch", required_argument, NULL, 't'},
        {"inverse", required_argument, NULL, 'i'},     {"clean", no_argument, NULL, 'c'},
        {"jpeg-qualities", required_argument, NULL, 'q'}, {"seed", required_argument, NULL, 'S'},
        {"write-samples", required_argument, NULL, 'w'}, {"samples", required_argument, NULL, 'k'},
        {"speed-images", required_argument, NULL, 'I'}, {"repeats", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 'T'},     {"help", no_argument, NULL, 'h'},
        {"geometric", no_argument, NULL, 'G'},         {"errors", required_argument, NULL, 'e'},
        {"scales", required_argument, NULL, 'x'},      {"min-confidence", required_argument, NULL, 'C'},
        {"without", required_argument, NULL, 'W'},     {"rules", required_argument, NULL, 'R'},
        {"keep-lines", no_argument, NULL, 'K'},        {"no-deskew", no_argument, NULL, 'D'},
        {"keep-text", no_argument, NULL, 'X'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        const char *bad = NULL;
        char *end;
        switch (opt) {
        case 'm':
            if (n_models == NN_DIGITS_MAX_MODELS) bad = "--model (at most 16)";
            else model_paths[n_models++] = optarg;
            break;
        case 'd': data_dir = optarg; break;
        case 's': sources = optarg; break;
        case 'F': fonts_arg = optarg; break;
        case 'n': if (parse_int(optarg, 0, 10000000, &v)) bad = "--count"; else o.count = (int)v; break;
        case 'l': lengths = optarg; break;
        case 'H': heights = optarg; break;
        case 't':
        case 'i':
        case 'R':
        case 'C': {
            errno = 0;
            double p = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(p >= 0 && p <= 1))
                bad = opt == 't'   ? "--touch"
                      : opt == 'i' ? "--inverse"
                      : opt == 'R' ? "--rules"
                                   : "--min-confidence";
            else if (opt == 't') o.spec.touch = (float)p;
            else if (opt == 'R') o.spec.rules = (float)p;
            else if (opt == 'i') o.spec.inverse = (float)p;
            else min_conf = p;
            break;
        }
        case 'c': o.spec.clean = 1; break;
        case 'W':
            if (parse_without(optarg, &o.spec.without)) bad = "--without";
            o.spec.paired = 1;
            break;
        case 'q': qualities = optarg; break;
        case 'S': if (parse_int(optarg, 0, 2147483647, &seed)) bad = "--seed"; break;
        case 'w': o.samples_dir = optarg; break;
        case 'k': if (parse_int(optarg, 0, 1000000, &v)) bad = "--samples"; else o.samples = (int)v; break;
        case 'I': if (parse_int(optarg, 0, 1000000, &speed_images)) bad = "--speed-images"; break;
        case 'r': if (parse_int(optarg, 1, 1000, &repeats)) bad = "--repeats"; break;
        case 'T': if (parse_int(optarg, 1, 256, &threads)) bad = "--threads"; break;
        case 'G': geometric = 1; break;
        case 'K': keep_lines = 1; break;
        case 'X': keep_text = 1; break;
        case 'D': no_deskew = 1; break;
        case 'x': if (parse_int(optarg, 1, 4, &scales)) bad = "--scales"; break;
        case 'e': errors_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "bench-digits: %s: bad value '%s'\n", bad, optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bench-digits: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    int a, b;
    char tail;
    if (strcmp(lengths, "mixed") == 0) {
        o.mixed = 1;
    } else if (sscanf(lengths, "%d-%d%c", &a, &b, &tail) == 2 && a >= 1 && b >= a && b <= BD_MAX_LEN) {
        o.mixed = 0, o.len_lo = a, o.len_hi = b;
    } else if (sscanf(lengths, "%d%c", &a, &tail) == 1 && a >= 1 && a <= BD_MAX_LEN) {
        o.mixed = 0, o.len_lo = o.len_hi = a;
    } else {
        fprintf(stderr, "bench-digits: --lengths: 'mixed', N or A-B with 1 <= A <= B <= %d, not '%s'\n", BD_MAX_LEN,
                lengths);
        return 2;
    }
    if (sscanf(heights, "%d-%d%c", &a, &b, &tail) != 2 || a < 8 || b < a || b > 1000) {
        fprintf(stderr, "bench-digits: --heights: A-B pixels with 8 <= A <= B <= 1000, not '%s'\n", heights);
        return 2;
    }
    o.spec.hmin = (float)a;
    o.spec.hmax = (float)b;
    int use_mnist = 0, use_fonts = 0;
    {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", sources);
        for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (strcmp(tok, "mnist") == 0) use_mnist = 1;
            else if (strcmp(tok, "fonts") == 0) use_fonts = 1;
            else {
                fprintf(stderr, "bench-digits: --sources: 'mnist' or 'fonts', not '%s'\n", tok);
                return 2;
            }
        }
        if (!use_mnist && !use_fonts) {
            fprintf(stderr, "bench-digits: --sources: none given\n");
            return 2;
        }
    }
    format fmts[MAX_FORMATS] = {{"raw", 0}};
    int nfmt = 1;
#ifdef BD_HAVE_IMAGE
    fmts[nfmt++] = (format){"png", -1};
    {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", qualities);
        for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (parse_int(tok, 1, 100, &v) || nfmt == MAX_FORMATS) {
                fprintf(stderr, "bench-digits: --jpeg-qualities: up to %d numbers 1..100, not '%s'\n",
                        MAX_FORMATS - 2, qualities);
                return 2;
            }
            fmts[nfmt].quality = (int)v;
            snprintf(fmts[nfmt].name, sizeof fmts[nfmt].name, "jpeg%ld", v);
            nfmt++;
        }
    }
#else
    (void)qualities;
    fprintf(stderr, "bench-digits: built without tools/nn-mnist/image.c: only the in-memory (raw) path\n");
#endif
    char env_dir[4096];
    if (!data_dir && getenv("NN_DATA_DIR")) {
        snprintf(env_dir, sizeof env_dir, "%s/mnist", getenv("NN_DATA_DIR"));
        data_dir = env_dir;
    }
    if (use_mnist && !data_dir) {
        fprintf(stderr, "bench-digits: no MNIST: give --data-dir or set NN_DATA_DIR (or --sources fonts)\n");
        return 2;
    }
    nn_runtime_set_blas_threads((int)threads);

    ctx c;
    memset(&c, 0, sizeof c);
    c.geometric = geometric;
    c.scales = (int)scales;
    c.keep_lines = keep_lines;
    c.keep_text = keep_text;
    c.no_deskew = no_deskew;
    c.min_conf = min_conf;
    c.n_models = n_models;
    int rc = 1;
    nn_dataset *test = NULL;
    bd_glyphs gs[MAX_SOURCES];
    const char *names[MAX_SOURCES];
    int nsrc = 0;
    FILE *truth = NULL;
    memset(gs, 0, sizeof gs);
    if (geometric && c.n_models > 1) {
        fprintf(stderr, "bench-digits: --geometric classifies with one model; give one --model\n");
        goto out;
    }
    for (int k = 0; k < c.n_models; k++) {
        nn_model *m;
        if (nn_model_load(&c.models[k], model_paths[k], NULL) != NN_OK) {
            fprintf(stderr, "bench-digits: %s\n", nn_last_error());
            goto out;
        }
        m = c.models[k];
        const int64_t classes = nn_model_output_features(m);
        if (nn_model_input_features(m) != NN_DIGITS_PIXELS || classes < 10 || classes > 12) {
            fprintf(stderr, "bench-digits: %s: the model reads %lld values into %lld classes, not 784 into 10 to 12\n",
                    model_paths[k], (long long)nn_model_input_features(m), (long long)classes);
            goto out;
        }
        if (classes != nn_model_output_features(c.models[0])) {
            fprintf(stderr, "bench-digits: %s: %lld classes, the first --model %lld; models read together must share "
                            "their classes\n", model_paths[k], (long long)classes,
                    (long long)nn_model_output_features(c.models[0]));
            goto out;
        }
    }
    c.model = c.models[0];
    if (c.model) {
        int64_t in[NN_MAX_EXAMPLE_RANK];
        c.rank = nn_model_input_shape(c.model, in);
        for (int k = 0; k < c.rank; k++) c.shape[k + 1] = in[k];
    }
    char err[512], skipped[1024];
    if (use_mnist) {
        if (load_mnist(&test, data_dir) != 0) goto out;
        if (bd_glyphs_from_mnist(&gs[nsrc], test, err, sizeof err) != 0) {
            fprintf(stderr, "bench-digits: %s\n", err);
            goto out;
        }
        names[nsrc++] = "mnist";
    }
    if (use_fonts) {
        const char *list[64];
        int nf = 0;
        char buf[2048];
        if (fonts_arg) {
            snprintf(buf, sizeof buf, "%s", fonts_arg);
            for (char *save, *tok = strtok_r(buf, ";", &save); tok && nf < 64; tok = strtok_r(NULL, ";", &save))
                list[nf++] = tok;
        } else {
            for (size_t i = 0; i < sizeof default_fonts / sizeof *default_fonts; i++) list[nf++] = default_fonts[i];
        }
        if (bd_glyphs_from_fonts(&gs[nsrc], list, nf, skipped, sizeof skipped, err, sizeof err) != 0) {
            fprintf(stderr, "bench-digits: %s\n", err);
            goto out;
        }
        if (skipped[0]) fprintf(stderr, "bench-digits: fonts not installed, skipped: %s\n", skipped);
        names[nsrc++] = "fonts";
    }
    if (o.samples_dir) {
        char path[4096];
        if (mkdir(o.samples_dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "bench-digits: %s: %s\n", o.samples_dir, strerror(errno));
            goto out;
        }
        snprintf(path, sizeof path, "%s/truth.tsv", o.samples_dir);
        if (!(truth = fopen(path, "w"))) {
            fprintf(stderr, "bench-digits: %s: %s\n", path, strerror(errno));
            goto out;
        }
    }

    if (errors_path && !(c.errors = fopen(errors_path, "w"))) {
        fprintf(stderr, "bench-digits: %s: %s\n", errors_path, strerror(errno));
        goto out;
    }

    printf("libnn %s\nblas %s\nblas_threads %ld\nseed %ld\nmodel %s\n", nn_version(), nn_runtime_blas_name(), threads,
           seed, n_models ? model_paths[0] : "none");
    for (int k = 1; k < n_models; k++) printf("model %s (read together with the first)\n", model_paths[k]);
    if (c.model && !geometric) printf("scales %ld\n", scales);
    if (o.spec.rules > 0) printf("rules %.2f\n", (double)o.spec.rules);
    if (keep_lines) printf("keep_lines 1\n");
    if (keep_text) printf("keep_text 1\n");
    if (no_deskew) printf("deskew 0\n");
    for (int s = 0; s < nsrc; s++)
        printf("%s_glyphs %d glyphs from %d %s\n", names[s], gs[s].n, gs[s].styles,
               strcmp(names[s], "fonts") == 0 ? "fonts" : "writers' test set");
    for (int s = 0; s < nsrc; s++) {
        bd_tally t[MAX_FORMATS];
        by_font bf[MAX_FORMATS][BD_MAX_STYLES + 1], bk[MAX_FORMATS][BD_RULED_COUNT];
        memset(t, 0, sizeof t);
        memset(bf, 0, sizeof bf);
        memset(bk, 0, sizeof bk);
        /* Each source its own stream, so that leaving a source out does not change the other's images. */
        const uint64_t stream = strcmp(names[s], "fonts") == 0;
        if (run_source(&c, names[s], &gs[s], fmts, nfmt, &o, (uint64_t)seed * 2 + stream, t, bf, bk, truth) !=
            0)
            goto out;
        for (int f = 0; f < nfmt; f++) {
            report(names[s], &fmts[f], &t[f], c.model != NULL, c.model && !geometric);
            if (c.model) report_fonts(names[s], &fmts[f], &gs[s], bf[f]);
            if (c.model && o.spec.rules > 0) report_ruled(names[s], &fmts[f], bk[f]);
        }
    }
    if (speed_images > 0 &&
        speed(&c, &gs[0], &o, (int)speed_images, (int)repeats, nfmt > 2 ? fmts[nfmt - 1].quality : 75,
              (uint64_t)seed * 2 + 101) != 0)
        goto out;
    rc = 0;
out:
    if (truth && fclose(truth) != 0 && rc == 0) {
        fprintf(stderr, "bench-digits: truth.tsv: %s\n", strerror(errno));
        rc = 1;
    }
    if (c.errors && fclose(c.errors) != 0 && rc == 0) {
        fprintf(stderr, "bench-digits: %s: %s\n", errors_path, strerror(errno));
        rc = 1;
    }
    for (int s = 0; s < nsrc; s++) bd_glyphs_free(&gs[s]);
    nn_dataset_free(test);
    for (int k = 0; k < c.n_models; k++) nn_model_free(c.models[k]);
    free(c.cls);
    free(c.prob);
    free(c.out);
    return rc;
}
