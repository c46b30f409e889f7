/* nn-mnist's --fonts (tools/nn-mnist/fonts.c): a font's ten digits come out labelled 0 to 9, in
 * MNIST's form (box fitted into 20 x 20, centre of mass near (14, 14), ink 255 on 0), the same bytes
 * every time; a family fontconfig does not have is left out, not substituted; the dataset keeps the
 * base images first and adds about the share asked for. DejaVu Sans comes with fontconfig's own
 * dependencies (fonts-dejavu-core); the list nn-mnist train renders, with scripts/install-deps.sh. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include <nn/nn.h>

#include "fonts.h"

#define P (28 * 28)

static void form(const uint8_t *img, double *cx, double *cy, int *w, int *h)
{
    double m = 0, sx = 0, sy = 0;
    int x0 = 28, y0 = 28, x1 = -1, y1 = -1;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            const double v = img[y * 28 + x];
            m += v;
            sx += v * x;
            sy += v * y;
            if (v > 25) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        }
    assert_true(m > 0);
    *cx = sx / m;
    *cy = sy / m;
    *w = x1 - x0 + 1;
    *h = y1 - y0 + 1;
}

static void test_fonts__a_fonts_ten_digits_in_mnists_form(void **state)
{
    (void)state;
    const char *const families[] = {"DejaVu Sans"};
    uint8_t *im = NULL, *lb = NULL;
    nnm_font_digits info;
    char err[256] = "";
    int rc = nnm_fonts_render(families, 1, &im, &lb, &info, err, sizeof err);
    if (rc == 1) skip(); /* no DejaVu Sans here (scripts/install-deps.sh installs fonts-dejavu-core) */
    assert_int_equal(rc, 0);
    assert_int_equal(info.fonts, 1);
    assert_int_equal(info.glyphs, 10);
    assert_string_equal(info.missing, "");
    for (int k = 0; k < 10; k++) {
        assert_int_equal(lb[k], k);
        double cx, cy;
        int w, h;
        form(im + k * P, &cx, &cy, &w, &h);
        /* MNIST's form: the longer side of the box is 20 (a pixel of anti-aliasing either way), the
         * centre of mass on the centre within the pixel the shift rounds to. */
        assert_true(h >= 19 && h <= 21);
        assert_true(w <= h);
        assert_true(fabs(cx - 14) < 1.0 && fabs(cy - 14) < 1.0);
        for (int j = 0; j < k; j++) assert_memory_not_equal(im + k * P, im + j * P, P);
    }
    /* A 1 is a stroke down the middle; a 0 is a ring with nothing there. */
    int one_mid = 0, zero_mid = 0;
    for (int y = 10; y < 18; y++) {
        one_mid += im[1 * P + y * 28 + 14] > 128;
        zero_mid += im[0 * P + y * 28 + 14] > 128;
    }
    assert_int_equal(one_mid, 8);
    assert_int_equal(zero_mid, 0);
    /* A 1 is narrower than an 8. */
    double cx, cy;
    int w1, w8, h;
    form(im + 1 * P, &cx, &cy, &w1, &h);
    form(im + 8 * P, &cx, &cy, &w8, &h);
    assert_true(w1 < w8);
    uint8_t *im2 = NULL, *lb2 = NULL;
    assert_int_equal(nnm_fonts_render(families, 1, &im2, &lb2, &info, err, sizeof err), 0);
    assert_memory_equal(im, im2, 10 * P);
    free(im);
    free(lb);
    free(im2);
    free(lb2);
}

static void test_fonts__a_family_not_installed_is_left_out_not_substituted(void **state)
{
    (void)state;
    const char *const families[] = {"No Such Family Xq", "DejaVu Sans", "Another Missing One:bold"};
    uint8_t *im = NULL, *lb = NULL;
    nnm_font_digits info;
    char err[256] = "";
    int rc = nnm_fonts_render(families, 3, &im, &lb, &info, err, sizeof err);
    if (rc == 1) skip();
    assert_int_equal(rc, 0);
    assert_int_equal(info.fonts, 1);
    assert_int_equal(info.glyphs, 10);
    assert_string_equal(info.missing, "No Such Family Xq, Another Missing One:bold");
    free(im);
    free(lb);
    /* None installed: 1, an error that says what to do, and nothing allocated. */
    im = lb = (uint8_t *)1;
    assert_int_equal(nnm_fonts_render(families, 1, &im, &lb, &info, err, sizeof err), 1);
    assert_null(im);
    assert_null(lb);
    assert_non_null(strstr(err, "--no-fonts"));
}

static nn_dataset *base_set(int64_t n)
{
    uint8_t *img = calloc((size_t)n, P), *lab = malloc((size_t)n);
    assert_non_null(img);
    assert_non_null(lab);
    for (int64_t i = 0; i < n; i++) {
        lab[i] = (uint8_t)(i % 10);
        for (int p = 0; p < P; p++) img[i * P + p] = (uint8_t)((i * 31 + p * 7) % 251);
    }
    nn_dataset *ds = NULL;
    assert_int_equal(nn_dataset_create(&ds, n, 28, 28, img, lab), NN_OK);
    free(img);
    free(lab);
    return ds;
}

/* The base images first, unchanged; then share of the whole: font digits, each one of the glyphs
 * the fonts render with its label; whole copies of all of them, and the rest over every digit. */
static void check_dataset(int64_t n_base, int64_t n, double share)
{
    nn_dataset *base = base_set(n_base), *mixed = NULL;
    nnm_font_digits info;
    char err[256] = "";
    int rc = nnm_fonts_dataset(&mixed, base, n, share, &info, err, sizeof err);
    if (rc == 1) {
        nn_dataset_free(base);
        skip(); /* the list's fonts are not on this machine (scripts/install-deps.sh installs them) */
    }
    assert_int_equal(rc, 0);
    assert_true(info.fonts >= 1 && info.glyphs >= 9 * info.fonts);
    const int64_t want = llround(share / (1 - share) * (double)n);
    assert_int_equal(info.added, want > 0 ? want : 1);
    assert_int_equal(nn_dataset_count(mixed), n + info.added);
    assert_memory_equal(nn_dataset_images(mixed), nn_dataset_images(base), (size_t)n * P);
    assert_memory_equal(nn_dataset_labels(mixed), nn_dataset_labels(base), (size_t)n);
    uint8_t *im = NULL, *lb = NULL;
    nnm_font_digits again;
    assert_int_equal(nnm_fonts_render(nnm_font_families, nnm_n_font_families, &im, &lb, &again, err, sizeof err), 0);
    assert_int_equal(again.glyphs, info.glyphs);
    const uint8_t *added = nn_dataset_images(mixed) + n * P, *labels = nn_dataset_labels(mixed) + n;
    const int64_t whole = info.added / info.glyphs * info.glyphs;
    int seen[10] = {0};
    for (int64_t j = 0; j < info.added; j++) {
        if (j < whole) { /* copies in the order rendered */
            assert_memory_equal(added + j * P, im + (j % info.glyphs) * P, P);
            assert_int_equal(labels[j], lb[j % info.glyphs]);
            continue;
        }
        int64_t k = 0;
        while (k < info.glyphs && memcmp(added + j * P, im + k * P, P) != 0) k++;
        assert_true(k < info.glyphs);
        assert_int_equal(labels[j], lb[k]);
        seen[labels[j]]++;
    }
    /* The rest in turn over the digits, so no digit has two more than another. */
    const int64_t rest = info.added - whole;
    for (int d = 0; d < 10; d++) assert_int_equal(seen[d], (rest - d + 9) / 10);
    free(im);
    free(lb);
    nn_dataset_free(mixed);
    nn_dataset_free(base);
}

static void test_fonts__dataset_adds_the_share_after_the_base_images(void **state)
{
    (void)state;
    check_dataset(12000, 12000, 0.09); /* two whole copies of 450 and the rest */
    check_dataset(12000, 3000, 0.25);  /* the first n of a larger set, as --train-limit asks */
    check_dataset(300, 300, 0.09);     /* less than one copy: 30 glyphs, 3 of each digit */
    check_dataset(40, 40, 0.01);       /* 0.4 of an image rounds to none: one at least */
}

/* A font's letters and signs for --letters: in MNIST's form as its digits are, the same bytes every
 * time, and none of them the image of one of its digits. */
static void test_fonts__letters_in_mnists_form_and_no_digit(void **state)
{
    (void)state;
    const char *const families[] = {"DejaVu Sans"};
    uint8_t *im = NULL, *lb = NULL, *lt = NULL, *lt2 = NULL;
    nnm_font_digits digits;
    nnm_font_letters info, again;
    char err[256] = "";
    int rc = nnm_fonts_render(families, 1, &im, &lb, &digits, err, sizeof err);
    if (rc == 1) skip(); /* no DejaVu Sans here */
    assert_int_equal(rc, 0);
    assert_int_equal(nnm_fonts_letters(families, 1, &lt, &info, err, sizeof err), 0);
    /* 41 letters and signs; DejaVu Sans has them all, and a few (":", "%", "=") may not be found as
     * one glyph. */
    assert_int_equal(info.fonts, 1);
    assert_true(info.glyphs >= 35 && info.glyphs <= 41);
    for (int64_t k = 0; k < info.glyphs; k++) {
        double cx, cy;
        int w, h;
        form(lt + k * P, &cx, &cy, &w, &h);
        assert_true(w <= 21 && h <= 21 && (w >= 19 || h >= 19));
        assert_true(fabs(cx - 14) < 2.5 && fabs(cy - 14) < 2.5);
        for (int64_t d = 0; d < digits.glyphs; d++) assert_true(memcmp(lt + k * P, im + d * P, P) != 0);
    }
    assert_int_equal(nnm_fonts_letters(families, 1, &lt2, &again, err, sizeof err), 0);
    assert_int_equal(again.glyphs, info.glyphs);
    assert_memory_equal(lt, lt2, (size_t)info.glyphs * P);
    const char *const none[] = {"No Such Family 4711"};
    uint8_t *nothing = (uint8_t *)"";
    assert_int_equal(nnm_fonts_letters(none, 1, &nothing, &again, err, sizeof err), 1);
    assert_null(nothing);
    assert_non_null(strstr(err, "--no-letters"));
    free(im);
    free(lb);
    free(lt);
    free(lt2);
}

/* --letters' dataset: every base image first, then the share asked for of the letters, each in
 * turn, all labelled text (NNM_TEXT_CLASS). */
static void test_fonts__letters_dataset_adds_text_after_every_image(void **state)
{
    (void)state;
    nn_dataset *base = base_set(500), *with = NULL;
    nnm_font_letters info;
    char err[256] = "";
    int rc = nnm_letters_dataset(&with, base, 400, 0.2, NNM_TEXT_CLASS, &info, err, sizeof err);
    if (rc == 1) {
        nn_dataset_free(base);
        skip(); /* the list's fonts are not on this machine */
    }
    assert_int_equal(rc, 0);
    assert_int_equal(info.added, 100); /* 0.2 of 400 + 100 */
    assert_int_equal(nn_dataset_count(with), 600);
    assert_memory_equal(nn_dataset_images(with), nn_dataset_images(base), (size_t)500 * P);
    assert_memory_equal(nn_dataset_labels(with), nn_dataset_labels(base), 500);
    uint8_t *lt = NULL;
    nnm_font_letters again;
    assert_int_equal(nnm_fonts_letters(nnm_font_families, nnm_n_font_families, &lt, &again, err, sizeof err),
                     0);
    assert_int_equal(again.glyphs, info.glyphs);
    for (int64_t j = 0; j < info.added; j++) {
        assert_int_equal(nn_dataset_labels(with)[500 + j], NNM_TEXT_CLASS);
        assert_memory_equal(nn_dataset_images(with) + (500 + j) * P, lt + j % info.glyphs * P, P);
    }
    free(lt);
    nn_dataset_free(with);
    nn_dataset_free(base);
}

/* cairo and fontconfig keep font caches for the process's life; LeakSanitizer would report them. */
static int group_teardown(void **state)
{
    (void)state;
    cairo_debug_reset_static_data();
    FcFini();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fonts__a_fonts_ten_digits_in_mnists_form),
        cmocka_unit_test(test_fonts__a_family_not_installed_is_left_out_not_substituted),
        cmocka_unit_test(test_fonts__dataset_adds_the_share_after_the_base_images),
        cmocka_unit_test(test_fonts__letters_in_mnists_form_and_no_digit),
        cmocka_unit_test(test_fonts__letters_dataset_adds_text_after_every_image),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
