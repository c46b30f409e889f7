/* nn-mnist's --pieces (tools/nn-mnist/pieces.c): the labels a piece's box earns against the true
 * digits' boxes, the strings composed (their boxes hold their ink, one gap in five touches, the same
 * bytes from the same seed), and the dataset: the base first and unchanged, then pieces taught as
 * digits and as not one digit, as many as asked, the same every time. */
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

#include "pieces.h"
#include "reject.h"

static void test_pieces__labels_by_box(void **state)
{
    (void)state;
    /* Two digits 40 high: a 3 at columns 10..39, a 7 at 42..69 (touching, 2 apart). */
    const int64_t truth[2][4] = {{10, 5, 30, 40}, {42, 6, 28, 40}};
    const int labels[2] = {3, 7};
#define LABEL(x, y, w, h) nnm_piece_label((const int64_t[4]){x, y, w, h}, truth, labels, 2)
    assert_int_equal(LABEL(10, 5, 30, 40), 3); /* the 3 exactly */
    assert_int_equal(LABEL(12, 5, 30, 40), 3); /* 2 beyond, 2 missing: within 0.1 H and 0.15 H */
    assert_int_equal(LABEL(42, 6, 28, 40), 7); /* the 7 */
    assert_int_equal(LABEL(10, 5, 60, 41), NNM_REJECT_CLASS); /* both: 30 beyond the 3 */
    assert_int_equal(LABEL(10, 5, 44, 40), NNM_REJECT_CLASS); /* the 3 and half the 7's bar: 14 beyond */
    assert_int_equal(LABEL(10, 5, 12, 28),
                     NNM_REJECT_CLASS); /* the 3's left, 18 missing (0.45 H), 12 of 28 wide */
    assert_int_equal(LABEL(10, 5, 12, 40), NNM_PIECE_SKIP);   /* 18 missing but 12 wide: may be a 1 */
    assert_int_equal(LABEL(10, 5, 17, 40), NNM_PIECE_SKIP);   /* 13 missing (0.325 H): neither */
    assert_int_equal(LABEL(10, 5, 30, 30), NNM_PIECE_SKIP);   /* the 3's width but 10 lower: neither */
    assert_int_equal(LABEL(10, 5, 30, 49), NNM_PIECE_SKIP);   /* 9 (0.225 H) taller: not that digit */
    assert_int_equal(LABEL(80, 5, 10, 40), NNM_PIECE_SKIP);   /* over no digit */
    assert_int_equal(LABEL(30, 5, 9, 40), NNM_PIECE_SKIP);    /* the 3's right stroke: narrow */
    assert_int_equal(LABEL(26, 5, 34, 40), NNM_REJECT_CLASS); /* mostly over the 7, 16 beyond it */
    assert_int_equal(LABEL(30, 5, 30, 40), NNM_PIECE_SKIP);   /* mostly over the 7: 12 beyond, 10 missing */
#undef LABEL
}

/* Glyphs drawn here: a ring (0) and a bar (1), 20 x 28 and 6 x 28, two "fonts". */
static nnm_glyph *make_glyphs(int *n)
{
    nnm_glyph *g = calloc(4, sizeof *g);
    assert_non_null(g);
    for (int i = 0; i < 4; i++) {
        const int ring = i % 2 == 0;
        g[i].w = ring ? 20 : 6;
        g[i].h = 28;
        g[i].label = ring ? 0 : 1;
        g[i].font = i / 2;
        g[i].cov = calloc((size_t)(g[i].w * g[i].h), 1);
        assert_non_null(g[i].cov);
        for (int y = 0; y < g[i].h; y++)
            for (int x = 0; x < g[i].w; x++) {
                const double dx = (x + 0.5 - 10) / 10, dy = (y + 0.5 - 14) / 14, r = dx * dx + dy * dy;
                const int ink = ring ? (r <= 1 && r >= 0.5) : 1;
                g[i].cov[y * g[i].w + x] = ink ? 255 : 0;
            }
    }
    *n = 4;
    return g;
}

static void free_glyphs(nnm_glyph *g, int n)
{
    for (int i = 0; i < n; i++) free(g[i].cov);
    free(g);
}

static void test_pieces__strings_composed(void **state)
{
    (void)state;
    int n;
    nnm_glyph *g = make_glyphs(&n);
    nn_rng *a, *b;
    assert_int_equal(nn_rng_create(&a, 7), NN_OK);
    assert_int_equal(nn_rng_create(&b, 7), NN_OK);
    int gaps = 0, touching = 0, fives = 0;
    for (int s = 0; s < 400; s++) {
        nnm_string x, y;
        assert_int_equal(nnm_pieces_compose(&x, g, n, a), 0);
        assert_int_equal(nnm_pieces_compose(&y, g, n, b), 0);
        assert_true(x.w == y.w && x.h == y.h && x.n == y.n);
        assert_memory_equal(x.grey, y.grey, (size_t)x.w * (size_t)x.h);
        assert_true(x.n >= 1 && x.n <= NNM_PIECES_MAX_LEN);
        fives += x.n == 5;
        const int64_t H = x.box[0][3];
        assert_true(H >= 15 && H <= 122);
        for (int i = 0; i < x.n; i++) {
            const int64_t *bx = x.box[i];
            assert_true(bx[0] >= 0 && bx[1] >= 0 && bx[0] + bx[2] <= x.w && bx[1] + bx[3] <= x.h);
            assert_true(llabs(bx[3] - H) <= 2); /* one height, one line */
            assert_true(llabs(bx[1] - x.box[0][1]) <= 2);
            /* a bar is a 1 and narrow, a ring a 0 and wide */
            assert_true(x.label[i] == (bx[2] < bx[3] / 2 ? 1 : 0));
            /* Ink within the box: its middle row dark somewhere. */
            int dark = 0;
            for (int64_t c = bx[0]; c < bx[0] + bx[2]; c++)
                dark |= x.grey[(bx[1] + bx[3] / 2) * x.w + c] < 100;
            assert_true(dark);
            if (i > 0) {
                gaps++;
                touching +=
                    bx[0] - (x.box[i - 1][0] + x.box[i - 1][2]) <= (int64_t)ceil(0.02 * (double)H) + 1;
            }
        }
        /* Outside every box, paper: the left margin's column is white. */
        for (int y0 = 0; y0 < x.h; y0++) assert_int_equal(x.grey[y0 * x.w], 255);
        free(x.grey);
        free(y.grey);
    }
    /* One gap in five touching (binomial over ~1,500 gaps: 0.2 +- 0.05), half the strings of 5. */
    assert_true(touching > 0.15 * gaps && touching < 0.25 * gaps);
    assert_true(fives > 150 && fives < 280);
    nn_rng_free(a);
    nn_rng_free(b);
    free_glyphs(g, n);
}

/* 200 images: rings (0) and bars (1) of MNIST's form, 28 x 28, ink 255 on 0. */
static nn_dataset *ring_bar_dataset(void)
{
    enum { N = 200 };
    uint8_t *im = calloc(N, 784), lb[N];
    assert_non_null(im);
    for (int k = 0; k < N; k++) {
        lb[k] = (uint8_t)(k % 2);
        for (int y = 4; y < 24; y++)
            for (int x = 0; x < 28; x++) {
                const double dx = (x + 0.5 - 14) / (7 + k % 3), dy = (y + 0.5 - 14) / 10,
                             r = dx * dx + dy * dy;
                const int ink = lb[k] ? (x >= 13 && x < 16) : (r <= 1 && r >= 0.45);
                im[k * 784 + y * 28 + x] = ink ? 255 : 0;
            }
    }
    nn_dataset *ds;
    assert_int_equal(nn_dataset_create(&ds, N, 28, 28, im, lb), NN_OK);
    free(im);
    return ds;
}

static void test_pieces__dataset(void **state)
{
    (void)state;
    nn_dataset *base = ring_bar_dataset();
    int n;
    nnm_glyph *g = make_glyphs(&n);
    nnm_glyph_set fonts = {g, n, 2};
    nn_dataset *a = NULL, *b = NULL;
    nnm_pieces_info ia, ib;
    char err[256] = "";
    assert_int_equal(nnm_pieces_dataset(&a, base, NULL, 200, 40, &fonts, 5, &ia, err, sizeof err), 0);
    /* 40 of each kind from the dataset's strings, 20 from the fonts': rings touching are cut. */
    assert_int_equal(ia.digits, 60);
    assert_int_equal(ia.not_one, 60);
    assert_int_equal(ia.added, 120);
    assert_true(ia.strings > 0);
    assert_int_equal(nn_dataset_count(a), 200 + 120);
    assert_memory_equal(nn_dataset_images(a), nn_dataset_images(base), 200 * 784);
    assert_memory_equal(nn_dataset_labels(a), nn_dataset_labels(base), 200);
    int64_t not_one = 0, zeros = 0;
    for (int64_t i = 200; i < 320; i++) {
        const uint8_t l = nn_dataset_labels(a)[i];
        assert_true(l <= 1 || l == NNM_REJECT_CLASS);
        not_one += l == NNM_REJECT_CLASS;
        zeros += l == 0;
        int64_t ink = 0;
        for (int p = 0; p < 784; p++) ink += nn_dataset_images(a)[i * 784 + p];
        assert_true(ink > 0);
    }
    assert_int_equal(not_one, 60);
    assert_true(zeros > 0);
    /* The same seed, the same bytes; only some images as sources (a split's fit) take those. */
    assert_int_equal(nnm_pieces_dataset(&b, base, NULL, 200, 40, &fonts, 5, &ib, err, sizeof err), 0);
    assert_memory_equal(nn_dataset_images(a), nn_dataset_images(b), 320 * 784);
    assert_memory_equal(nn_dataset_labels(a), nn_dataset_labels(b), 320);
    nn_dataset_free(b);
    const uint32_t rings[3] = {0, 2, 4};
    assert_int_equal(nnm_pieces_dataset(&b, base, rings, 3, 10, NULL, 5, &ib, err, sizeof err), 0);
    /* Strings of those rings alone: pieces of 0s, or not one digit. */
    assert_int_equal(ib.added, 20);
    assert_int_equal(nn_dataset_count(b), 220);
    for (int64_t i = 200; i < 220; i++)
        assert_true(nn_dataset_labels(b)[i] == 0 || nn_dataset_labels(b)[i] == NNM_REJECT_CLASS);
    nn_dataset_free(b);
    /* Refused: no source images, an index outside, images of another size. */
    const uint32_t outside[1] = {200};
    assert_int_equal(nnm_pieces_dataset(&b, base, outside, 1, 10, NULL, 5, &ib, err, sizeof err), -1);
    assert_null(b);
    assert_non_null(strstr(err, "--pieces"));
    assert_int_equal(nnm_pieces_dataset(&b, base, NULL, 0, 10, NULL, 5, &ib, err, sizeof err), -1);
    nn_dataset *small;
    uint8_t px[4 * 4 * 16] = {0}, lb[4] = {0, 1, 0, 1};
    assert_int_equal(nn_dataset_create(&small, 4, 4, 16, px, lb), NN_OK);
    assert_int_equal(nnm_pieces_dataset(&b, small, NULL, 4, 10, NULL, 5, &ib, err, sizeof err), -1);
    assert_null(b);
    nn_dataset_free(small);
    nn_dataset_free(a);
    nn_dataset_free(base);
    free_glyphs(g, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces__labels_by_box),
        cmocka_unit_test(test_pieces__strings_composed),
        cmocka_unit_test(test_pieces__dataset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
