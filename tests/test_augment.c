/* nn-mnist's --augment (tools/nn-mnist/augment.c): shifts move an image's centre of mass by exactly
 * the shift, rotations turn it about the centre in the documented direction, 0 degrees and no shift
 * is the identity bit for bit, the same generator state gives the same batch, and the input is never
 * written. */
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

#include "augment.h"

#define R 28
#define C 28
#define N (R * C)

/* A smooth blob (a Gaussian of sigma 2) centred at (x0, y0): far enough from the border in these
 * tests that nothing of weight is cut off by a shift or rotation. */
static void blob(float *img, double x0, double y0)
{
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            double d2 = (x - x0) * (x - x0) + (y - y0) * (y - y0);
            double v = exp(-d2 / 8.0);
            img[y * C + x] = v < 1e-6 ? 0.0f : (float)v;
        }
}

static void centre_of_mass(const float *img, double *cx, double *cy, double *mass)
{
    double m = 0, sx = 0, sy = 0;
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            m += img[y * C + x];
            sx += (double)x * img[y * C + x];
            sy += (double)y * img[y * C + x];
        }
    *cx = sx / m;
    *cy = sy / m;
    *mass = m;
}

static void random_image(float *img, uint64_t seed)
{
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, seed), NN_OK);
    for (int i = 0; i < N; i++) img[i] = nn_rng_uniform(rng);
    nn_rng_free(rng);
}

static void test_augment__zero_is_identity(void **state)
{
    (void)state;
    float in[N], out[N];
    random_image(in, 1);
    nnm_augment_image(out, in, R, C, 0, 0, 0);
    assert_memory_equal(out, in, sizeof in);
    /* So is a batch drawn with no shift and no rotation allowed. */
    float batch_in[3 * N], batch_out[3 * N];
    for (int k = 0; k < 3; k++) random_image(batch_in + k * N, 10 + (uint64_t)k);
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 5), NN_OK);
    nnm_augment_batch(batch_out, batch_in, 3, R, C, 0, 0.0, rng);
    nn_rng_free(rng);
    assert_memory_equal(batch_out, batch_in, sizeof batch_in);
}

static void test_augment__shift_moves_centre_of_mass_by_the_shift(void **state)
{
    (void)state;
    float in[N], out[N];
    blob(in, 12.0, 15.0);
    double x0, y0, m0;
    centre_of_mass(in, &x0, &y0, &m0);
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            nnm_augment_image(out, in, R, C, dx, dy, 0);
            double x1, y1, m1;
            centre_of_mass(out, &x1, &y1, &m1);
            if (fabs(x1 - x0 - dx) > 1e-9 || fabs(y1 - y0 - dy) > 1e-9 || fabs(m1 - m0) > 1e-9 * m0)
                fail_msg("shift (%d, %d): centre moved by (%.12f, %.12f), mass %.9g -> %.9g", dx, dy, x1 - x0, y1 - y0,
                         m0, m1);
            /* Whole-pixel shifts copy pixels exactly: (x, y) comes from (x - dx, y - dy). */
            for (int y = 0; y < R; y++)
                for (int x = 0; x < C; x++) {
                    int sx = x - dx, sy = y - dy;
                    float want = sx >= 0 && sx < C && sy >= 0 && sy < R ? in[sy * C + sx] : 0.0f;
                    if (memcmp(&out[y * C + x], &want, sizeof want) != 0)
                        fail_msg("shift (%d, %d): pixel (%d, %d) is %g, expected %g", dx, dy, x, y,
                                 (double)out[y * C + x], (double)want);
                }
        }
}

static void test_augment__quarter_turn_is_counter_clockwise(void **state)
{
    (void)state;
    /* A quarter turn counter-clockwise (rows downwards) about (13.5, 13.5): pixel (x, y) goes to
     * (y, 27 - x), so out(x, y) = in(27 - y, x). */
    float in[N], out[N];
    random_image(in, 2);
    nnm_augment_image(out, in, R, C, 0, 0, 90);
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            float want = in[x * C + (27 - y)];
            if (fabsf(out[y * C + x] - want) > 1e-5f)
                fail_msg("pixel (%d, %d) is %g, expected %g", x, y, (double)out[y * C + x], (double)want);
        }
    /* A blob right of the centre ends above it: (x0, y0) goes to (y0, 27 - x0). */
    blob(in, 17.0, 13.0);
    double x0, y0, m0, cx, cy, m;
    centre_of_mass(in, &x0, &y0, &m0);
    nnm_augment_image(out, in, R, C, 0, 0, 90);
    centre_of_mass(out, &cx, &cy, &m);
    if (fabs(cx - y0) > 1e-4 || fabs(cy - (27 - x0)) > 1e-4)
        fail_msg("centre (%.4f, %.4f) went to (%.4f, %.4f), expected (%.4f, %.4f)", x0, y0, cx, cy, y0, 27 - x0);
}

static void test_augment__small_rotation_turns_centre_of_mass(void **state)
{
    (void)state;
    float in[N], out[N];
    blob(in, 18.5, 13.5); /* 5 pixels right of the centre */
    double x0, y0, m0;
    centre_of_mass(in, &x0, &y0, &m0);
    for (int deg = -10; deg <= 10; deg += 5) {
        nnm_augment_image(out, in, R, C, 0, 0, deg);
        double x1, y1, m1, a = deg * 3.14159265358979323846 / 180;
        centre_of_mass(out, &x1, &y1, &m1);
        double wx = 13.5 + (x0 - 13.5) * cos(a), wy = 13.5 - (x0 - 13.5) * sin(a);
        /* Bilinear resampling blurs a little; the centre moves where the rotation takes it. */
        if (fabs(x1 - wx) > 0.02 || fabs(y1 - wy) > 0.02 || fabs(m1 - m0) > 0.02 * m0)
            fail_msg("%d degrees: centre (%.4f, %.4f), expected (%.4f, %.4f); mass %.4f -> %.4f", deg, x1, y1, wx, wy,
                     m0, m1);
    }
}

static void test_augment__same_seed_same_batch(void **state)
{
    (void)state;
    enum { B = 16 };
    float *in = malloc(B * N * sizeof *in), *keep = malloc(B * N * sizeof *keep);
    float *a = malloc(B * N * sizeof *a), *b = malloc(B * N * sizeof *b), *c = malloc(B * N * sizeof *c);
    assert_non_null(in && keep && a && b && c);
    for (int k = 0; k < B; k++) blob(in + k * N, 10 + k % 8, 11 + k % 5);
    memcpy(keep, in, B * N * sizeof *in);
    nn_rng *r1, *r2, *r3;
    assert_int_equal(nn_rng_create(&r1, 42), NN_OK);
    assert_int_equal(nn_rng_create(&r2, 42), NN_OK);
    assert_int_equal(nn_rng_create(&r3, 43), NN_OK);
    nnm_augment_batch(a, in, B, R, C, NNM_AUGMENT_SHIFT, NNM_AUGMENT_DEGREES, r1);
    nnm_augment_batch(b, in, B, R, C, NNM_AUGMENT_SHIFT, NNM_AUGMENT_DEGREES, r2);
    nnm_augment_batch(c, in, B, R, C, NNM_AUGMENT_SHIFT, NNM_AUGMENT_DEGREES, r3);
    assert_memory_equal(a, b, B * N * sizeof *a);
    assert_true(memcmp(a, c, B * N * sizeof *a) != 0);
    assert_memory_equal(in, keep, B * N * sizeof *in); /* the input is read only */
    /* The generators advanced alike: the next draws agree. */
    assert_true(nn_rng_u64(r1) == nn_rng_u64(r2));
    /* Images are transformed, not all the same way, and each moved by at most the shift plus what
     * a 10-degree turn does to a point within 6 pixels of the centre. */
    int changed = 0;
    for (int k = 0; k < B; k++) {
        double x0, y0, m0, x1, y1, m1;
        centre_of_mass(in + k * N, &x0, &y0, &m0);
        centre_of_mass(a + k * N, &x1, &y1, &m1);
        changed += memcmp(a + k * N, in + k * N, N * sizeof *a) != 0;
        assert_true(fabs(x1 - x0) <= 2 + 1.1 && fabs(y1 - y0) <= 2 + 1.1);
    }
    assert_true(changed >= B - 2);
    nn_rng_free(r1);
    nn_rng_free(r2);
    nn_rng_free(r3);
    free(in);
    free(keep);
    free(a);
    free(b);
    free(c);
}

/* A one-pixel vertical bar, 12 rows tall, in the middle. */
static void bar(float *img)
{
    memset(img, 0, N * sizeof *img);
    for (int y = 8; y < 20; y++) img[y * C + 14] = 1.0f;
}

/* --augment=handwriting: deterministic, the input untouched, values in 0..1, the centre of mass within
 * the shift of the centre (scale, slant, rotation and stroke keep it near), slant and stroke width
 * varied across a batch, and thinning never taking more than half the ink. */
static void test_augment__handwriting(void **state)
{
    (void)state;
    enum { B = 400 };
    float *in = malloc(B * N * sizeof *in), *a = malloc(B * N * sizeof *a), *b = malloc(B * N * sizeof *b);
    float scratch[N];
    assert_non_null(in);
    assert_non_null(a);
    assert_non_null(b);
    for (int k = 0; k < B; k++) blob(in + k * N, 13.5, 13.5);
    for (int k = 0; k < B; k += 2) bar(in + k * N);
    float *copy = malloc(B * N * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, in, B * N * sizeof *in);
    nn_rng *r1 = NULL, *r2 = NULL;
    assert_int_equal(nn_rng_create(&r1, 7), NN_OK);
    assert_int_equal(nn_rng_create(&r2, 7), NN_OK);
    nnm_augment_batch_handwriting(a, in, B, R, C, scratch, r1);
    nnm_augment_batch_handwriting(b, in, B, R, C, scratch, r2);
    assert_memory_equal(a, b, B * N * sizeof *a);
    assert_memory_equal(in, copy, B * N * sizeof *in);
    int thicker = 0, thinner = 0, slanted_left = 0, slanted_right = 0;
    for (int k = 0; k < B; k++) {
        const float *o = a + k * N;
        double cx, cy, m, cx0, cy0, m0;
        for (int i = 0; i < N; i++) assert_true(o[i] >= 0.0f && o[i] <= 1.0f);
        centre_of_mass(o, &cx, &cy, &m);
        centre_of_mass(in + k * N, &cx0, &cy0, &m0);
        assert_true(fabs(cx - 13.5) <= NNM_AUGMENT_SHIFT + 1.0 && fabs(cy - 13.5) <= NNM_AUGMENT_SHIFT + 1.0);
        assert_true(m >= 0.5 * 0.8 * m0); /* scale 0.9 squared and at most half lost to thinning */
        if (m > 1.6 * m0) thicker++;
        if (m < 0.75 * m0) thinner++;
        if (k % 2 == 0) {
            /* The bar's slope: its top row's column against its bottom row's, rotation included. */
            double top = 0, bottom = 0, wt = 0, wb = 0;
            for (int y = 0; y < R; y++)
                for (int x = 0; x < C; x++) {
                    double v = o[y * C + x];
                    if (y < (int)cy) top += v * x, wt += v;
                    else bottom += v * x, wb += v;
                }
            double lean = top / wt - bottom / wb;
            if (lean > 1.0) slanted_right++;
            if (lean < -1.0) slanted_left++;
        }
    }
    /* One in four thickened; thinning often gives back the original on a one-pixel bar, not on blobs. */
    assert_true(thicker > B / 8 && thinner > B / 16);
    /* The halves' centres are 6 rows apart: a slant of 0.3 leans them 1.8 pixels, a 10-degree turn 1.1
     * more. Of the B / 2 bars about half lean past 1 pixel (95 of 200 at this seed); rotation alone
     * would lean 1 in 20. */
    assert_true(slanted_left > B / 20 && slanted_right > B / 20);
    assert_int_equal(nnm_augment_parse(NULL), NNM_AUGMENT_LIGHT);
    assert_int_equal(nnm_augment_parse("handwriting"), NNM_AUGMENT_HANDWRITING);
    assert_int_equal(nnm_augment_parse("heavy"), -1);
    nn_rng_free(r1);
    nn_rng_free(r2);
    free(in);
    free(a);
    free(b);
    free(copy);
}

/* Rows and columns of the box of the pixels above 0.25. */
static void ink_extent(const float *img, int *w, int *h)
{
    int x0 = C, x1 = -1, y0 = R, y1 = -1;
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++)
            if (img[y * C + x] > 0.25f) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
    *w = x1 - x0 + 1;
    *h = y1 - y0 + 1;
}

/* --augment=scan: deterministic, the input untouched; each image is either handwriting's (drawn from
 * the same stream first) or the reader's normalisation of its drawing, whose box fits 20 x 20 as
 * MNIST's does (a bar 12 rows tall comes back 19 to 21 tall, slanted at most 12 wide): about half
 * of them. */
static void test_augment__scan(void **state)
{
    (void)state;
    enum { B = 64 };
    float *in = malloc(B * N * sizeof *in), *a = malloc(B * N * sizeof *a), *b = malloc(B * N * sizeof *b);
    float *h = malloc(B * N * sizeof *h), *copy = malloc(B * N * sizeof *copy), scratch[N];
    assert_true(in && a && b && h && copy);
    for (int k = 0; k < B; k++) bar(in + k * N);
    memcpy(copy, in, B * N * sizeof *in);
    nn_rng *r1 = NULL, *r2 = NULL, *r3 = NULL;
    assert_int_equal(nn_rng_create(&r1, 5), NN_OK);
    assert_int_equal(nn_rng_create(&r2, 5), NN_OK);
    assert_int_equal(nn_rng_create(&r3, 5), NN_OK);
    nnm_augment_batch_scan(a, in, B, R, C, scratch, r1);
    nnm_augment_batch_scan(b, in, B, R, C, scratch, r2);
    nnm_augment_batch_handwriting(h, in, B, R, C, scratch, r3);
    assert_memory_equal(a, b, B * N * sizeof *a);
    assert_memory_equal(in, copy, B * N * sizeof *in);
    assert_true(nn_rng_u64(r1) == nn_rng_u64(r2));
    int scanned = 0;
    for (int k = 0; k < B; k++) {
        const float *o = a + k * N;
        for (int i = 0; i < N; i++) assert_true(o[i] >= 0.0f && o[i] <= 1.0f);
        if (memcmp(o, h + k * N, N * sizeof *o) == 0) continue;
        int w, ht;
        ink_extent(o, &w, &ht);
        if (ht < 19 || ht > 21 || w > 12) fail_msg("image %d: a drawn bar came back %d x %d", k, w, ht);
        scanned++;
    }
    assert_true(scanned > B / 4 && scanned < 3 * B / 4);
    assert_int_equal(nnm_augment_parse("scan"), NNM_AUGMENT_SCAN);
    assert_string_equal(nnm_augment_name(NNM_AUGMENT_SCAN), "scan");
    nn_rng_free(r1);
    nn_rng_free(r2);
    nn_rng_free(r3);
    free(in);
    free(a);
    free(b);
    free(h);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_augment__zero_is_identity),
        cmocka_unit_test(test_augment__shift_moves_centre_of_mass_by_the_shift),
        cmocka_unit_test(test_augment__quarter_turn_is_counter_clockwise),
        cmocka_unit_test(test_augment__small_rotation_turns_centre_of_mass),
        cmocka_unit_test(test_augment__same_seed_same_batch),
        cmocka_unit_test(test_augment__handwriting),
        cmocka_unit_test(test_augment__scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
