/* `nn-mnist predict`: read the handwritten digits in PNG, JPEG and PGM images with a saved model.
 * image.c decodes the files to grey, libnn's nn_digits_read() finds, cuts (touching digits where
 * the model reads them best) and normalises the digits and classifies them with the model;
 * predict_debug.c draws what the model saw. */
#define _POSIX_C_SOURCE 200809L
#include "predict.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <nn/nn.h>

#include "errfmt.h"
#include "fsutil.h"
#include "image.h"
#include "names.h"
#include "predict_internal.h"

#define DEFAULT_MODEL "models/digits.nnm"
#define MAKE_MODEL "nn-mnist train --save " DEFAULT_MODEL

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: nn-mnist predict [options] IMAGE...\n\n"
            "Read the handwritten digits in each image (PNG, JPEG or binary PGM; grey or colour; \"-\" reads\n"
            "stdin) and print one line per image, 'FILE: DIGITS', the digits of each text line together and\n"
            "the lines separated by a space, top to bottom. A digit the model gives less than the\n"
            "--min-confidence probability is followed by '?' (e.g. 'postcode.jpg: 750?08'). An image without\n"
            "digits prints 'FILE: ' and is not an error. A file that cannot be read is reported on stderr,\n"
            "the other files are still read, and the exit status is then 1. A control character in a\n"
            "file's name is written as a C escape ('\\n'), and a backslash as two, so that each image\n"
            "and each message stays one line.\n\n"
            "  --model FILE          classifier of 28x28 digits into 10 classes (or 11, the 11th 'not one\n"
            "                        digit', or 12, the 12th text, as train makes), input 784 or\n"
            "                        (28, 28, 1)\n"
            "                        [" DEFAULT_MODEL "; make it with '" MAKE_MODEL "'];\n"
            "                        given again (up to 16), the models read together, their\n"
            "                        probabilities averaged: models trained with different --seed err\n"
            "                        on different digits, so together they misread fewer\n"
            "  --json                one JSON object per line per image instead: file, digits, text (as\n"
            "                        the plain output), lines, width, height, orientation (the EXIF\n"
            "                        orientation applied, 1 to 8; 1 when none or --ignore-orientation),\n"
            "                        and items, each with digit, probability, box [x, y, w, h], line and\n"
            "                        top3 [[digit, probability], ...] (and not_one_digit with an 11- or\n"
            "                        12-class model); a file that cannot be read gives {\"file\", \"error\"};\n"
            "                        a byte of a file's name that is not UTF-8 is U+FFFD there\n"
            "  --min-confidence P    probability under which a digit is marked with '?' [0.5]\n"
            "  --scales N            read each image at 1 to N times its size and keep, region by region,\n"
            "                        the reading of fewest digits (unless an 11-class model reads them as\n"
            "                        not one digit), and of those the one surest of its least sure digit\n"
            "                        (1 to 4; each scale adds its size squared to the work: 1 is\n"
            "                        fastest) [3]\n"
            "  --ignore-orientation  read the pixels as the file stores them: by default an image whose EXIF\n"
            "                        orientation says it is turned or mirrored (a phone's portrait photo)\n"
            "                        is read as a viewer shows it, and the boxes are in that image\n"
            "  --whole-image         read the whole photo: by default a plate or card of one colour lying\n"
            "                        wholly inside a photo of a wall or table of another is read alone\n"
            "                        (its edges are no digits), when digits are read on it\n"
            "  --no-deskew           read tilted lines as they lie: by default text lines tilted by 6 to 40\n"
            "                        degrees (a photo taken at an angle), where three digits or more line\n"
            "                        up, are turned level and read again, the boxes brought back\n"
            "  --keep-lines          leave ruled lines in the ink: by default an underline and the lines\n"
            "                        of a ruled or squared page (straight runs of ink 24 times as long\n"
            "                        as thick, tilted by 6 degrees at most) are taken out, except where\n"
            "                        a stroke crosses them, so that they do not join the digits\n"
            "  --keep-text           with a 12-class model, read text as digits too: by default what it\n");
    /* In two parts: ISO C asks compilers for string literals of 4095 characters at most. */
    fputs("                        reads surely as text (a letter, a sign) is left out, and so is every\n"
          "                        glyph of a word holding such text that reads as digits only doubtfully\n"
          "                        (a printed label, a name or a street beside the digits)\n"
          "  --max-digits N        an image in which more digits than this are found is an error (a\n"
          "                        texture of specks makes thousands; a page of handwriting hundreds)\n"
          "                        [4096]\n"
          "  --debug-dir DIR       write, per image, each digit as the model saw it (NAME-digit-000.png,\n"
          "                        28x28, white on black) and the image with the boxes and predictions\n"
          "                        drawn (NAME-annotated.png); NAME is the file's name, 'stdin' for -\n"
          "  --help                this text\n",
          f);
}

/* The three most probable classes of one row, most probable first; returns the first's probability. */
static double top3_of(const float *p, int top[3])
{
    for (int t = 0; t < 3; t++) {
        int best = -1;
        for (int c = 0; c < 10; c++) {
            int taken = 0;
            for (int u = 0; u < t; u++) taken |= top[u] == c;
            if (!taken && (best < 0 || p[c] > p[best])) best = c;
        }
        top[t] = best;
    }
    return p[top[0]];
}

/* A probability as JSON keeps 6 significant digits: the float carries no more, and %.17g would
 * print 0.99812346696853638. */
static json_object *json_prob(double p)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", p);
    return json_object_new_double_s(p, buf);
}

static void print_json(json_object *o)
{
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

/* A string of the JSON output: UTF-8, whatever bytes a file's name (or a message naming it) holds. */
static json_object *json_text(const char *s)
{
    char *v = nnm_utf8_valid(s);
    json_object *o = json_object_new_string(v ? v : "");
    free(v);
    return o;
}

static void json_error(const char *file, const char *msg)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "file", json_text(file));
    json_object_object_add(o, "error", json_text(msg));
    print_json(o);
}

typedef struct predictor {
    nn_model *models[NN_DIGITS_MAX_MODELS];
    int n_models;
    int json;
    double min_conf;
    int scales; /* nn_digits_options.scales */
    int keep_lines; /* --keep-lines: nn_digits_options.rules = 0 */
    int ignore_orientation; /* --ignore-orientation: the pixels as stored */
    int no_deskew;          /* --no-deskew: nn_digits_options.deskew = 0 */
    int whole_image;        /* --whole-image: nn_digits_options.plate = 0 */
    int keep_text;          /* --keep-text: nn_digits_options.skip_text = 0 */
    int max_digits;         /* --max-digits: nn_digits_options.max_digits */
    const char *debug_dir;
    nnm_debug_names names;
} predictor;

/* The library's message as this command's user reads it: without the name of the function that
 * failed, and with its option's name where it names max_digits. */
static const char *for_the_user(const char *msg)
{
    static const char prefix[] = "nn_digits_read_ensemble: ", name[] = "max_digits";
    static char out[1024];
    if (strncmp(msg, prefix, sizeof prefix - 1) == 0) msg += sizeof prefix - 1;
    size_t n = 0;
    for (const char *at; n < sizeof out && (at = strstr(msg, name)) != NULL; msg = at + sizeof name - 1)
        n += (size_t)snprintf(out + n, sizeof out - n, "%.*s--max-digits", (int)(at - msg), msg);
    if (n < sizeof out) snprintf(out + n, sizeof out - n, "%s", msg);
    return out;
}

/* A message about one file on stderr, one line whatever its name holds (names.h). */
static void report(const char *msg)
{
    fputs("nn-mnist predict: ", stderr);
    nnm_print_name(stderr, msg);
    fputc('\n', stderr);
}

/* Reads one image and prints its line; 0, or -1 after reporting the error. */
static int predict_one(predictor *pr, const char *path)
{
    char err[1024];
    nnm_image im;
    if (nnm_image_read(path, &im, err, sizeof err) != 0) {
        report(err);
        if (pr->json) json_error(path, err);
        return -1;
    }
    /* A phone stores a portrait photo on its side and records how to turn it: read it as it is seen. */
    const int orientation = pr->ignore_orientation ? 1 : im.orientation;
    if (pr->ignore_orientation) im.orientation = 1;
    if (nnm_image_orient(&im, err, sizeof err) != 0) {
        char msg[1100];
        nnm_errorf(msg, sizeof msg, "%s: %s", path, err);
        report(msg);
        if (pr->json) json_error(path, msg);
        nnm_image_free(&im);
        return -1;
    }
    nn_digits *d = NULL;
    nn_digits_options opts = NN_DIGITS_OPTIONS_INIT;
    opts.scales = pr->scales;
    opts.rules = !pr->keep_lines;
    opts.skip_text = !pr->keep_text;
    opts.deskew = !pr->no_deskew;
    opts.plate = !pr->whole_image;
    opts.max_digits = pr->max_digits;
    if (nn_digits_read_ensemble(&d, pr->models, pr->n_models, im.px, im.width, im.height, im.width, &opts) != NN_OK) {
        nnm_errorf(err, sizeof err, "%s: %s", path, for_the_user(nn_last_error()));
        report(err);
        if (pr->json) json_error(path, err);
        nnm_image_free(&im);
        return -1;
    }
    const int64_t n = nn_digits_count(d);
    float *probs = n ? malloc((size_t)n * 10 * sizeof *probs) : NULL;
    int *top = n ? malloc((size_t)n * 3 * sizeof *top) : NULL;
    char *text = malloc((size_t)n * 3 + 1); /* digit, '?', ' ' at most each */
    if ((n && (!probs || !top)) || !text) {
        nnm_errorf(err, sizeof err, "%s: out of memory", path);
        goto fail;
    }
    for (int64_t i = 0; i < n; i++) memcpy(probs + i * 10, nn_digits_probabilities(d, i), 10 * sizeof *probs);
    size_t len = 0;
    json_object *items = pr->json ? json_object_new_array() : NULL;
    char *plain = pr->json ? malloc((size_t)n * 2 + 1) : NULL;
    size_t plen = 0;
    for (int64_t i = 0; i < n; i++) {
        float *row = probs + i * 10;
        int *t = top + i * 3;
        const double pbest = top3_of(row, t);
        const int64_t line = nn_digits_line(d, i);
        if (i > 0 && line != nn_digits_line(d, i - 1)) {
            text[len++] = ' ';
            if (plain) plain[plen++] = ' ';
        }
        text[len++] = (char)('0' + t[0]);
        if (plain) plain[plen++] = (char)('0' + t[0]);
        if (pbest < pr->min_conf) text[len++] = '?';
        if (items) {
            int64_t bx = 0, by = 0, bw = 0, bh = 0;
            nn_digits_box(d, i, &bx, &by, &bw, &bh);
            json_object *it = json_object_new_object();
            json_object_object_add(it, "digit", json_object_new_int(t[0]));
            json_object_object_add(it, "probability", json_prob(pbest));
            json_object *box = json_object_new_array();
            json_object_array_add(box, json_object_new_int64(bx));
            json_object_array_add(box, json_object_new_int64(by));
            json_object_array_add(box, json_object_new_int64(bw));
            json_object_array_add(box, json_object_new_int64(bh));
            json_object_object_add(it, "box", box);
            json_object_object_add(it, "line", json_object_new_int64(line));
            json_object *t3 = json_object_new_array();
            for (int u = 0; u < 3; u++) {
                json_object *pair = json_object_new_array();
                json_object_array_add(pair, json_object_new_int(t[u]));
                json_object_array_add(pair, json_prob(row[t[u]]));
                json_object_array_add(t3, pair);
            }
            json_object_object_add(it, "top3", t3);
            if (nn_model_output_features(pr->models[0]) > 10) { /* the 11th class: what the 10 leave */
                double sum = 0;
                for (int k = 0; k < 10; k++) sum += row[k];
                json_object_object_add(it, "not_one_digit", json_prob(sum < 1 ? 1 - sum : 0));
            }
            json_object_array_add(items, it);
        }
    }
    text[len] = '\0';
    /* The debug images first, so that a reading whose images could not be written says so in its
     * own JSON object (an "error" beside the digits), as the exit status counts it failed. */
    int rc = 0;
    char dbg_err[1024] = "";
    if (pr->debug_dir) {
        nnm_debug_item *it = n ? malloc((size_t)n * sizeof *it) : NULL;
        if (n && !it) {
            nnm_errorf(dbg_err, sizeof dbg_err, "%s: out of memory", path);
            rc = -1;
        } else {
            for (int64_t i = 0; i < n; i++) {
                it[i].digit = top[i * 3];
                it[i].probability = probs[i * 10 + top[i * 3]];
            }
            rc = nnm_debug_write(&pr->names, pr->debug_dir, path, &im, d, it, pr->min_conf, err, sizeof err);
            if (rc != 0) nnm_errorf(dbg_err, sizeof dbg_err, "%s: %s", path, err);
        }
        free(it);
    }
    if (pr->json) {
        if (plain) plain[plen] = '\0';
        json_object *o = json_object_new_object();
        json_object_object_add(o, "file", json_text(path));
        json_object_object_add(o, "digits", json_object_new_string(plain ? plain : ""));
        json_object_object_add(o, "text", json_object_new_string(text));
        json_object_object_add(o, "lines", json_object_new_int64(nn_digits_line_count(d)));
        json_object_object_add(o, "width", json_object_new_int64(im.width));
        json_object_object_add(o, "height", json_object_new_int64(im.height));
        json_object_object_add(o, "orientation", json_object_new_int(orientation));
        json_object_object_add(o, "items", items);
        if (rc != 0) json_object_object_add(o, "error", json_text(dbg_err));
        print_json(o);
        free(plain);
    } else {
        nnm_print_name(stdout, path);
        printf(": %s\n", text);
    }
    fflush(stdout);
    if (rc != 0) report(dbg_err);
    free(text);
    free(top);
    free(probs);
    nn_digits_free(d);
    nnm_image_free(&im);
    return rc;
fail:
    report(err);
    if (pr->json) json_error(path, err);
    free(text);
    free(top);
    free(probs);
    nn_digits_free(d);
    nnm_image_free(&im);
    return -1;
}

/* Loads the next of the models; each must read as the first does. */
static int load_model(predictor *pr, const char *path, int is_default)
{
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        if (is_default)
            fprintf(stderr, "nn-mnist predict: no model at %s (the default); make one with\n  " MAKE_MODEL
                            "\nor name another with --model FILE\n", path);
        else
            fprintf(stderr, "nn-mnist predict: %s: no such model file (make one with 'nn-mnist train --save %s')\n",
                    path, path);
        return -1;
    }
    nn_model *m = NULL;
    if (nn_model_load(&m, path, NULL) != NN_OK) {
        fprintf(stderr, "nn-mnist predict: %s\n", nn_last_error());
        return -1;
    }
    pr->models[pr->n_models++] = m;
    const int64_t classes = nn_model_output_features(m);
    if (nn_model_input_features(m) != NN_DIGITS_PIXELS || classes < 10 || classes > 12) {
        fprintf(stderr, "nn-mnist predict: %s reads %lld values into %lld classes; a digit reader reads 784 (28x28) "
                        "into 10, 11 (the 11th: not one digit) or 12 (the 12th: text)\n", path, (long long)nn_model_input_features(m),
                (long long)classes);
        return -1;
    }
    const int64_t first = nn_model_output_features(pr->models[0]);
    if (classes != first) {
        fprintf(stderr, "nn-mnist predict: %s has %lld classes and the first --model %lld; models read together "
                        "must share their classes (train both with the same --reject and --letters)\n", path,
                (long long)classes, (long long)first);
        return -1;
    }
    return 0;
}

int nnm_cmd_predict(int argc, char **argv)
{
    enum {
        O_MODEL = 256,
        O_JSON,
        O_DEBUG_DIR,
        O_MIN_CONF,
        O_SCALES,
        O_KEEP_LINES,
        O_IGNORE_ORIENTATION,
        O_NO_DESKEW,
        O_WHOLE_IMAGE,
        O_KEEP_TEXT,
        O_MAX_DIGITS
    };
    static const struct option longopts[] = {{"model", required_argument, NULL, O_MODEL},
                                              {"json", no_argument, NULL, O_JSON},
                                              {"debug-dir", required_argument, NULL, O_DEBUG_DIR},
                                              {"min-confidence", required_argument, NULL, O_MIN_CONF},
                                              {"scales", required_argument, NULL, O_SCALES},
                                              {"keep-lines", no_argument, NULL, O_KEEP_LINES},
                                              {"ignore-orientation", no_argument, NULL, O_IGNORE_ORIENTATION},
                                              {"no-deskew", no_argument, NULL, O_NO_DESKEW},
                                              {"whole-image", no_argument, NULL, O_WHOLE_IMAGE},
                                              {"keep-text", no_argument, NULL, O_KEEP_TEXT},
                                              {"max-digits", required_argument, NULL, O_MAX_DIGITS},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
    predictor pr;
    memset(&pr, 0, sizeof pr);
    pr.min_conf = 0.5;
    pr.scales = 3;
    const nn_digits_options defaults = NN_DIGITS_OPTIONS_INIT;
    pr.max_digits = defaults.max_digits;
    const char *model[NN_DIGITS_MAX_MODELS];
    int n_model = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_MODEL:
            if (!*optarg) {
                fprintf(stderr, "nn-mnist predict: --model wants a file name\n");
                return 2;
            }
            if (n_model == NN_DIGITS_MAX_MODELS) {
                fprintf(stderr, "nn-mnist predict: more than %d --model; read with at most %d models\n",
                        NN_DIGITS_MAX_MODELS, NN_DIGITS_MAX_MODELS);
                return 2;
            }
            model[n_model++] = optarg;
            break;
        case O_JSON: pr.json = 1; break;
        case O_KEEP_LINES: pr.keep_lines = 1; break;
        case O_IGNORE_ORIENTATION: pr.ignore_orientation = 1; break;
        case O_NO_DESKEW: pr.no_deskew = 1; break;
        case O_WHOLE_IMAGE: pr.whole_image = 1; break;
        case O_KEEP_TEXT: pr.keep_text = 1; break;
        case O_DEBUG_DIR: pr.debug_dir = optarg; break;
        case O_MIN_CONF: {
            char *end;
            errno = 0;
            pr.min_conf = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(pr.min_conf >= 0 && pr.min_conf <= 1)) {
                fprintf(stderr, "nn-mnist predict: --min-confidence wants a probability from 0 to 1, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        }
        case O_SCALES: {
            char *end;
            errno = 0;
            const long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 1 || v > 4) {
                fprintf(stderr, "nn-mnist predict: --scales wants a whole number from 1 to 4, not '%s'\n", optarg);
                return 2;
            }
            pr.scales = (int)v;
            break;
        }
        case O_MAX_DIGITS: {
            char *end;
            errno = 0;
            const long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 1 || v > 1000000) {
                fprintf(stderr, "nn-mnist predict: --max-digits wants a whole number from 1 to 1000000, not '%s'\n",
                        optarg);
                return 2;
            }
            pr.max_digits = (int)v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, "Try 'nn-mnist predict --help'.\n"); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "nn-mnist predict: no image given (see nn-mnist predict --help)\n");
        return 2;
    }
    char err[1024];
    /* Made and tried before any image is read: a folder that takes no files (a read-only mount,
     * /proc) would otherwise fail every image after its reading was printed. */
    if (pr.debug_dir && (nnm_mkdirs(pr.debug_dir, err, sizeof err) != 0 || nnm_check_writable(pr.debug_dir, err, sizeof err) != 0)) {
        fprintf(stderr, "nn-mnist predict: --debug-dir: %s\n", err);
        return 1;
    }
    int failed = 0;
    if (n_model == 0) failed = load_model(&pr, DEFAULT_MODEL, 1) != 0;
    for (int k = 0; k < n_model && !failed; k++) failed = load_model(&pr, model[k], 0) != 0;
    if (failed) {
        for (int k = 0; k < pr.n_models; k++) nn_model_free(pr.models[k]);
        return 1;
    }
    for (int i = optind; i < argc; i++) failed += predict_one(&pr, argv[i]) != 0;
    nnm_debug_names_free(&pr.names);
    for (int k = 0; k < pr.n_models; k++) nn_model_free(pr.models[k]);
    if (failed) fprintf(stderr, "nn-mnist predict: %d of %d images failed\n", failed, argc - optind);
    return failed ? 1 : 0;
}
