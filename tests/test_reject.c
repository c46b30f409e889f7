/* nn-mnist's --reject (tools/nn-mnist/reject.c): the shapes made are labelled as the eleventh class
 * and brought into MNIST's form (box fitted into 20 x 20, centre of mass on (14, 14)); a share of 0
 * changes nothing, images without ink are left alone, the same generator state gives the same
 * batch, and the images before augmentation (the partners) are never written. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <nn/nn.h>

#include "reject.h"

#define S 28
#define P (S * S)
#define B 16

/* A digit-like ring: an ellipse's outline, 2 pixels wide, of half-axes rx, ry about (cx, cy). */
static void ring(float *img, double cx, double cy, double rx, double ry)
{
    memset(img, 0, P * sizeof *img);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            const double u = (x - cx) / rx, v = (y - cy) / ry, r = sqrt(u * u + v * v);
            const double d = fabs(r - 1) * (rx < ry ? rx : ry);
            if (d < 1.0) img[y * S + x] = (float)(1.0 - d * 0.5);
        }
}

static void stats(const float *img, double *cx, double *cy, int *w, int *h)
{
    double m = 0, sx = 0, sy = 0;
    int x0 = S, y0 = S, x1 = -1, y1 = -1;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            const float v = img[y * S + x];
            m += v;
            sx += v * x;
            sy += v * y;
            if (v > 0.1f) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        }
    *cx = sx / m;
    *cy = sy / m;
    *w = x1 - x0 + 1;
    *h = y1 - y0 + 1;
}

static void make_batch(float *x, float *y, float *in)
{
    for (int k = 0; k < B; k++) {
        ring(in + k * P, 13.5 + (k % 3) - 1, 14, 4 + (k % 4), 9);
        y[k] = (float)(k % 10);
    }
    memcpy(x, in, B * P * sizeof *x);
}

/* A filled rectangle of 10 x 5 on a wide canvas: fitted to 20 x 10 and centred at (14, 14). */
static void test_normalize_rectangle(void **state)
{
    (void)state;
    float canvas[S * 3 * S] = {0}, out[P], tmp[NNM_REJECT_TMP];
    for (int y = 3; y < 8; y++)
        for (int x = 40; x < 50; x++) canvas[y * 3 * S + x] = 1.0f;
    assert_int_equal(nnm_reject_normalize(out, S, canvas, S, 3 * S, tmp), 0);
    double cx, cy;
    int w, h;
    stats(out, &cx, &cy, &w, &h);
    assert_int_equal(w, 20);
    assert_int_equal(h, 10);
    assert_true(fabs(cx - 14) <= 0.5 && fabs(cy - 14) <= 0.5);
    for (int i = 0; i < P; i++) assert_true(out[i] == 0.0f || out[i] == 1.0f); /* whole pixels stay whole */
    float empty[S * S] = {0};
    out[0] = 7;
    assert_int_equal(nnm_reject_normalize(out, S, empty, S, S, tmp), -1);
    assert_true(out[0] == 7); /* untouched */
    /* Ink so faint and far apart that area averaging rounds it to 0. */
    float faint[S * 3 * S] = {0};
    faint[0] = faint[S * 3 * S - 1] = 1e-45f;
    assert_int_equal(nnm_reject_normalize(out, S, faint, S, 3 * S, tmp), -1);
    assert_true(out[0] == 7);
}

static void test_share_zero_changes_nothing(void **state)
{
    (void)state;
    static float x[B * P], in[B * P], y[B], x0[B * P], y0[B], scratch[NNM_REJECT_SCRATCH(S, S)];
    make_batch(x, y, in);
    memcpy(x0, x, sizeof x);
    memcpy(y0, y, sizeof y);
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 1), NN_OK);
    nnm_reject_batch(x, y, in, B, S, S, 0.0, scratch, rng, NULL);
    assert_memory_equal(x, x0, sizeof x);
    assert_memory_equal(y, y0, sizeof y);
    nn_rng_free(rng);
}

static void test_rejects_are_labelled_and_normalised(void **state)
{
    (void)state;
    static float x[B * P], in[B * P], y[B], in0[B * P], scratch[NNM_REJECT_SCRATCH(S, S)];
    make_batch(x, y, in);
    memcpy(in0, in, sizeof in);
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 5), NN_OK);
    nnm_reject_batch(x, y, in, B, S, S, 1.0, scratch, rng, NULL);
    assert_memory_equal(in, in0, sizeof in); /* the partners are read, never written */
    for (int k = 0; k < B; k++) {
        /* every ring has ink, and a share of 1 replaces every image */
        assert_true(y[k] == (float)NNM_REJECT_CLASS);
        double cx, cy;
        int w, h;
        stats(x + k * P, &cx, &cy, &w, &h);
        assert_true(fabs(cx - 14) <= 0.6 && fabs(cy - 14) <= 0.6);
        /* the longer side fitted into 20 (22 once the strokes of a shrunk pair are thickened) */
        assert_true((w >= 19 && w <= 22) || (h >= 19 && h <= 22));
        assert_true(w <= 22 && h <= 22);
        assert_memory_not_equal(x + k * P, in + k * P, P * sizeof *x);
    }
    nn_rng_free(rng);
}

static void test_empty_images_left_alone(void **state)
{
    (void)state;
    static float x[B * P], in[B * P], y[B], scratch[NNM_REJECT_SCRATCH(S, S)];
    memset(x, 0, sizeof x);
    memset(in, 0, sizeof in);
    for (int k = 0; k < B; k++) y[k] = 3;
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 2), NN_OK);
    nnm_reject_batch(x, y, in, B, S, S, 1.0, scratch, rng, NULL);
    for (int k = 0; k < B; k++) assert_true(y[k] == 3);
    for (int i = 0; i < B * P; i++) assert_true(x[i] == 0);
    nn_rng_free(rng);
}

static void test_same_state_same_batch(void **state)
{
    (void)state;
    static float xa[B * P], xb[B * P], in[B * P], ya[B], yb[B], scratch[NNM_REJECT_SCRATCH(S, S)];
    make_batch(xa, ya, in);
    make_batch(xb, yb, in);
    nn_rng *r1, *r2;
    assert_int_equal(nn_rng_create(&r1, 9), NN_OK);
    assert_int_equal(nn_rng_create(&r2, 9), NN_OK);
    nnm_reject_batch(xa, ya, in, B, S, S, 0.5, scratch, r1, NULL);
    nnm_reject_batch(xb, yb, in, B, S, S, 0.5, scratch, r2, NULL);
    assert_memory_equal(xa, xb, sizeof xa);
    assert_memory_equal(ya, yb, sizeof ya);
    int replaced = 0;
    for (int k = 0; k < B; k++) replaced += ya[k] == (float)NNM_REJECT_CLASS;
    assert_true(replaced > 0 && replaced < B); /* about half of 16 */
    nn_rng_free(r1);
    nn_rng_free(r2);
}

/* Kept images (the fonts' digits) stay as they are, labels and pixels, while every other image is
 * replaced at a share of 1 exactly as without the flags (the same draws: the generators end in the
 * same state); without the flags the kept ones are replaced too, which shows the check can fail.
 * A kept image is still a partner: with the kept images' partner copies blanked, some pair is not
 * made (a blank partner leaves its image a digit). */
static void test_kept_images_stay_digits(void **state)
{
    (void)state;
    static float x[3][B * P], in[B * P], y[3][B], x0[B * P], y0[B], scratch[NNM_REJECT_SCRATCH(S, S)];
    uint8_t keep[B];
    uint64_t next[3];
    for (int k = 0; k < B; k++) keep[k] = k % 3 == 0;
    for (int pass = 0; pass < 3; pass++) {
        make_batch(x[pass], y[pass], in);
        memcpy(x0, x[pass], sizeof x0);
        memcpy(y0, y[pass], sizeof y0);
        for (int k = 0; pass == 2 && k < B; k++)
            if (keep[k]) memset(in + k * P, 0, P * sizeof *in);
        nn_rng *rng;
        assert_int_equal(nn_rng_create(&rng, 3), NN_OK);
        nnm_reject_batch(x[pass], y[pass], in, B, S, S, 1.0, scratch, rng, pass ? keep : NULL);
        next[pass] = nn_rng_u64(rng);
        nn_rng_free(rng);
    }
    assert_true(next[0] == next[1] && next[1] == next[2]);
    int replaced_without = 0, unpaired = 0;
    for (int k = 0; k < B; k++) {
        assert_true(y[1][k] == (keep[k] ? y0[k] : (float)NNM_REJECT_CLASS));
        if (keep[k]) {
            assert_memory_equal(x[1] + k * P, x0 + k * P, P * sizeof *x0);
            replaced_without += y[0][k] == (float)NNM_REJECT_CLASS;
        } else {
            assert_memory_equal(x[1] + k * P, x[0] + k * P, P * sizeof *x0);
            unpaired += y[2][k] != (float)NNM_REJECT_CLASS;
        }
    }
    assert_true(replaced_without > 0);
    assert_true(unpaired > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_rectangle),
        cmocka_unit_test(test_share_zero_changes_nothing),
        cmocka_unit_test(test_rejects_are_labelled_and_normalised),
        cmocka_unit_test(test_empty_images_left_alone),
        cmocka_unit_test(test_same_state_same_batch),
        cmocka_unit_test(test_kept_images_stay_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
