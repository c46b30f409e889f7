/* The compute interface's own contracts (libnn/compute.h) where no public function pins them down
 * alone: argmax ties and NaN, accuracy counting against both target forms, and the optimizer update
 * kernels' choice of variant from the state arrays they are given, and the compression of sparse
 * rows (whose vector versions pack 8 lanes at a time through a table). The arithmetic of losses and
 * optimizers is checked through the public API in test_loss.c and test_optimizer.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compute.h"
#include "cpu/pack_lut.h"
#include "internal.h"

static void test_argmax__first_maximum_wins_and_nan_compares_false(void **state)
{
    (void)state;
    const float x[4 * 3] = {
        1.0f, 3.0f, 3.0f,  /* tie: the first */
        NAN,  2.0f, 5.0f,  /* NaN first: nothing compares greater, it stays */
        0.0f, NAN,  -1.0f, /* NaN later: never greater */
        -2.0f, -2.0f, -2.0f,
    };
    int32_t out[4] = {-1, -1, -1, -1};
    nn__argmax_rows(4, 3, x, out);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 0);
}

static void test_argmax__matches_count_index_and_distribution_targets(void **state)
{
    (void)state;
    const float x[3 * 2] = {0.1f, 0.9f, 0.8f, 0.2f, 0.5f, 0.5f}; /* classes 1, 0, 0 */
    const float idx[3] = {1.0f, 1.0f, 0.0f};
    assert_int_equal(nn__argmax_matches(3, 2, x, idx, 1), 2);
    const float dist[3 * 2] = {0.0f, 1.0f, 0.0f, 1.0f, 0.3f, 0.7f}; /* classes 1, 1, 1 */
    assert_int_equal(nn__argmax_matches(3, 2, x, dist, 0), 1);
    assert_int_equal(nn__argmax_matches(2, 2, x, dist, 0), 1); /* only the rows asked for */
}

/* RMSprop's four variants are picked by which state arrays are non-NULL: each must touch only the
 * arrays it was given, and centered / momentum must change the result. */
static void test_rmsprop_update__variants_follow_the_state_given(void **state)
{
    (void)state;
    enum { N = 37 }; /* not a multiple of any vector width: the loops' tails run too */
    float g[N], w[4][N], s[4][N], a[4][N], mo[4][N];
    for (int i = 0; i < N; i++) g[i] = (float)(i - 18) * 0.25f;
    for (int v = 0; v < 4; v++)
        for (int i = 0; i < N; i++) {
            w[v][i] = 1.0f;
            s[v][i] = 0.5f;
            a[v][i] = 0.125f;
            mo[v][i] = 0.25f;
        }
    for (int v = 0; v < 4; v++)
        nn__rmsprop_update(N, 0.01f, 0.9f, 1e-7f, 0.5f, w[v], g, s[v], (v & 1) ? a[v] : NULL,
                           (v & 2) ? mo[v] : NULL);
    for (int v = 0; v < 4; v++) {
        if (!(v & 1)) assert_true(a[v][0] == 0.125f && a[v][N - 1] == 0.125f);
        if (!(v & 2)) assert_true(mo[v][0] == 0.25f && mo[v][N - 1] == 0.25f);
        for (int u = 0; u < v; u++) assert_memory_not_equal(w[u], w[v], sizeof w[v]);
    }
    /* The plain update, written out in the kernel's float order. */
    for (int i = 0; i < N; i++) {
        float si = 0.9f * 0.5f + (1.0f - 0.9f) * g[i] * g[i];
        float wi = 1.0f - 0.01f * g[i] / sqrtf(si + 1e-7f);
        assert_true(s[0][i] == si);
        assert_true(w[0][i] == wi);
    }
}

static void test_sgd_momentum_update__nesterov_differs_and_shares_velocity(void **state)
{
    (void)state;
    enum { N = 19 };
    float g[N], w0[N], w1[N], v0[N], v1[N];
    for (int i = 0; i < N; i++) {
        g[i] = (float)i - 9.0f;
        w0[i] = w1[i] = 2.0f;
        v0[i] = v1[i] = 0.5f;
    }
    nn__sgd_momentum_update(N, 0.1f, 0.9f, 0, w0, g, v0);
    nn__sgd_momentum_update(N, 0.1f, 0.9f, 1, w1, g, v1);
    assert_memory_equal(v0, v1, sizeof v0); /* the velocity rule is the same */
    for (int i = 0; i < N; i++) {
        assert_true(w0[i] == 2.0f + v0[i]);
        assert_true(w1[i] == 2.0f + (0.9f * v1[i] - 0.1f * g[i]));
    }
}

/* The optimizer kinds and variants nn__optimizer_idle is asked about, and the rows of the test
 * below it applies a zero gradient to without the full rule (bit k: row k). */
typedef struct idle_case {
    const char *name, *hparam;
    float value;
    unsigned idle_rows;
} idle_case;

static nn_optimizer *idle_optimizer(const idle_case *c)
{
    nn_optimizer *o;
    assert_int_equal(nn_optimizer_create_from_name(&o, c->name, 0.01f), NN_OK);
    if (c->hparam) assert_int_equal(nn_optimizer_set_hparam(o, c->hparam, c->value), NN_OK);
    return o;
}

/* A zero gradient's update without the full rule (the rows of a batch that no image touches):
 * the same bits of parameters and state as nn__optimizer_part on zeros, with and without
 * flush-to-zero, for every optimizer, on rows that w - 0 keeps and on rows it may not (a subnormal,
 * -0, an infinity, a NaN); and it is taken exactly where it can be. Rows 0 and 1 have a state that
 * earlier steps left non-zero, rows 2 to 7 a zero one, row 8 a negative one (RMSprop's w - 0 /
 * sqrt(rho s + eps) is then a NaN). */
static void test_optimizer_idle__same_bits_as_a_zero_gradient(void **state)
{
    (void)state;
    enum { W = 19, ROWS = 9, N = W * ROWS };
    static const idle_case cases[] = {
        {"sgd", NULL, 0, 0x10f}, /* plain SGD: every row w - 0 keeps */
        {"sgd", "momentum", 0.9f, 0},
        {"rmsprop", NULL, 0, 0x0f},
        {"rmsprop", "centered", 1, 0},
        {"rmsprop", "momentum", 0.5f, 0},
        {"adam", NULL, 0, 0x0c}, /* only where both moments are +0 */
        {"adamw", NULL, 0, 0},
        {"adagrad", NULL, 0, 0},
    };
    const float odd[4] = {1e-40f, -0.0f, INFINITY, NAN}; /* in rows 4 to 7 */
    float warm[N], zero[N] = {0};
    for (int i = 0; i < N; i++) warm[i] = i < 2 * W ? 0.25f - 0.01f * (float)i : 0.0f;
    for (int ftz = 1; ftz >= 0; ftz--)
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            nn_optimizer *oa = idle_optimizer(&cases[c]), *ob = idle_optimizer(&cases[c]);
            float wa[N], wb[N];
            for (int i = 0; i < N; i++) wa[i] = 0.5f + 0.03f * (float)(i % 23);
            for (int r = 1; r < ROWS; r += 2) wa[r * W] = 0.0f; /* +0 is kept too */
            memcpy(wb, wa, sizeof wa);
            assert_int_equal(nn_optimizer_setup(oa, N), NN_OK);
            assert_int_equal(nn_optimizer_setup(ob, N), NN_OK);
            for (int k = 0; k < 3; k++) {
                assert_int_equal(nn_optimizer_step(oa, wa, warm, N), NN_OK);
                assert_int_equal(nn_optimizer_step(ob, wb, warm, N), NN_OK);
            }
            for (int r = 4; r < 8; r++) wa[r * W + 5] = wb[r * W + 5] = odd[r - 4];
            for (int k = 0; k < nn_optimizer_state_count(oa); k++) {
                float *a, *b;
                assert_int_equal(nn_optimizer_state(oa, k, NULL, &a, NULL), NN_OK);
                assert_int_equal(nn_optimizer_state(ob, k, NULL, &b, NULL), NN_OK);
                for (int i = 8 * W; i < 9 * W; i++) a[i] = b[i] = -1.0f; /* what no training leaves */
            }
            nn__step sa, sb;
            assert_int_equal(nn__optimizer_begin(oa, N, &sa), NN_OK);
            assert_int_equal(nn__optimizer_begin(ob, N, &sb), NN_OK);
            unsigned taken = 0;
            nn__fpenv env;
            if (ftz) nn__fpenv_enter(&env);
            for (int r = 0; r < ROWS; r++) {
                size_t at = (size_t)(r * W);
                if (nn__optimizer_idle(&sa, at, W, wa + at)) taken |= 1u << r;
                else nn__optimizer_part(&sa, at, W, wa + at, zero);
                nn__optimizer_part(&sb, at, W, wb + at, zero);
            }
            if (ftz) nn__fpenv_leave(&env);
            assert_memory_equal(wa, wb, sizeof wa);
            for (int k = 0; k < nn_optimizer_state_count(oa); k++) {
                float *a, *b;
                assert_int_equal(nn_optimizer_state(oa, k, NULL, &a, NULL), NN_OK);
                assert_int_equal(nn_optimizer_state(ob, k, NULL, &b, NULL), NN_OK);
                assert_memory_equal(a, b, N * sizeof(float));
            }
            assert_int_equal(taken, cases[c].idle_rows);
            nn_optimizer_free(oa);
            nn_optimizer_free(ob);
        }
}

static void test_pack_lut__each_entry_lists_its_set_bits_lowest_first(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 256; m++) {
        uint64_t want = 0;
        int n = 0;
        for (unsigned j = 0; j < 8; j++)
            if (m >> j & 1u) want |= (uint64_t)j << (8 * n++);
        assert_true(nn__pack_lut[m] == want);
    }
}

/* Images of `cols` pixels: mostly blank, some ink of every value, one blank and one fully inked. */
static uint8_t *sparse_images(int64_t n, int64_t cols, unsigned seed)
{
    uint8_t *im = malloc((size_t)(n * cols));
    for (int64_t i = 0; i < n * cols; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 16;
        im[i] = r % 5 == 0 ? (uint8_t)(1 + r / 5 % 255) : 0;
    }
    memset(im + 1 * cols, 0, (size_t)cols);
    memset(im + 2 * cols, 255, (size_t)cols);
    return im;
}

/* The weight gradient x^T dpre of compressed rows at the widest width, from the column lists the
 * compression's ranks give (has_ranks as it left it) or from the counting sort (has_ranks cleared). */
static float *grad_of(nn__sparse_rows *s, int64_t out, const float *dpre, int from_ranks)
{
    float *dw = malloc((size_t)(s->cols * out) * sizeof(float));
    s->has_columns = 0;
    if (!from_ranks) s->has_ranks = 0;
    nn__sparse_weight_grad_lanes(nn__vector_lanes(), s, out, dpre, dw);
    return dw;
}

/* Compresses rows idx[0..b) (or the first b) from their floats, from the bytes, and from the bytes
 * with ranks, into arrays of exactly batch x cols entries (so that a write beyond them shows under
 * ASan), and checks each against the definition: every non-zero pixel in order, as pixel / 255.0f;
 * with ranks, each column's count and each entry's rank in its column (the rows above it with ink
 * there), and the column lists built from them, which must give the weight gradient the counting
 * sort gives, bit for bit. */
static void check_compress(const uint8_t *im, const uint32_t *idx, int64_t b, int64_t cols)
{
    size_t entries = (size_t)(b * cols);
    int32_t *start = malloc((size_t)(b + 1) * sizeof(int32_t)), *index = malloc(entries * sizeof(int32_t));
    int32_t *rank = malloc(entries * sizeof(int32_t)), *col_row = malloc(entries * sizeof(int32_t));
    int32_t *col_start = malloc((size_t)(cols + 1) * sizeof(int32_t)), *count = malloc((size_t)cols * sizeof(int32_t));
    float *value = malloc(entries * sizeof(float)), *x = malloc(entries * sizeof(float));
    float *col_value = malloc(entries * sizeof(float));
    nn__sparse_rows s = {.start = start, .index = index, .value = value, .rank = rank, .col_start = col_start,
                         .col_fill = count, .col_row = col_row, .col_value = col_value};
    for (int64_t r = 0; r < b; r++)
        for (int64_t k = 0; k < cols; k++) x[r * cols + k] = (float)im[(idx ? idx[r] : r) * cols + k] / 255.0f;
    /* how: 0 from the floats; from the bytes at 4, 8 and 16 lanes, without ranks (odd) and with them. */
    for (int how = 0; how < 7; how++) {
        int lanes = 4 << (how - 1) / 2, ranks = how && how % 2 == 0;
        if (how && lanes > nn__vector_lanes()) {
            print_message("compression at %d lanes not checked: this processor runs at most %d\n", lanes,
                          nn__vector_lanes());
            break;
        }
        int ok = how ? nn__sparse_compress_u8_lanes(lanes, &s, im, idx, b, cols, ranks) : nn__sparse_compress(&s, x, b, cols);
        assert_int_equal(ok, 1);
        assert_int_equal(s.rows, b);
        assert_int_equal(s.has_ranks, ranks);
        int32_t p = 0;
        for (int64_t r = 0; r < b; r++) {
            assert_int_equal(start[r], p);
            for (int64_t k = 0; k < cols; k++) {
                uint8_t px = im[(idx ? idx[r] : r) * cols + k];
                if (!px) continue;
                assert_int_equal(index[p], k);
                float want = (float)px / 255.0f;
                assert_memory_equal(&value[p], &want, sizeof want);
                if (ranks) {
                    int32_t above = 0;
                    for (int64_t q = 0; q < r; q++) above += im[(idx ? idx[q] : q) * cols + k] != 0;
                    assert_int_equal(rank[p], above);
                }
                p++;
            }
        }
        assert_int_equal(start[b], p);
        if (!ranks) continue;
        for (int64_t k = 0; k < cols; k++) {
            int32_t inked = 0;
            for (int64_t r = 0; r < b; r++) inked += im[(idx ? idx[r] : r) * cols + k] != 0;
            assert_int_equal(count[k], inked);
        }
        int64_t out = 37;
        float *dpre = malloc((size_t)(b * out) * sizeof(float));
        for (int64_t i = 0; i < b * out; i++) dpre[i] = (float)((i * 13 + 5) % 29 - 14) / 16.0f;
        float *by_rank = grad_of(&s, out, dpre, 1), *by_sort = grad_of(&s, out, dpre, 0);
        assert_memory_equal(by_rank, by_sort, (size_t)(cols * out) * sizeof(float));
        free(dpre);
        free(by_rank);
        free(by_sort);
    }
    free(start);
    free(index);
    free(rank);
    free(col_row);
    free(col_start);
    free(count);
    free(value);
    free(x);
    free(col_value);
}

static void test_sparse_compress__bytes_and_floats_give_every_non_zero_in_order(void **state)
{
    (void)state;
    const int64_t widths[] = {784, 30, 7, 41, 64, 100, 129};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        int64_t cols = widths[w], n = 40;
        uint8_t *im = sparse_images(n, cols, (unsigned)cols);
        uint32_t idx[12] = {5, 1, 39, 2, 5, 0, 17, 33, 8, 1, 21, 30}; /* scattered, repeated, blank, full */
        check_compress(im, idx, 12, cols);
        check_compress(im, NULL, 12, cols);
        check_compress(im + 3 * cols, NULL, 1, cols);
        free(im);
    }
}

/* Every byte's conversion, at every place in a vector group and at every width: each must round as
 * pixel / 255.0f does, for all 256 values. */
static void test_sparse_compress__every_byte_value_converts_as_the_division(void **state)
{
    (void)state;
    enum { ROWS = 12, COLS = 300 };
    uint8_t *im = calloc(ROWS, COLS);
    for (int v = 0; v < 256; v++) {
        im[2 * COLS + 7 + v] = (uint8_t)v;        /* not on a group's boundary */
        im[5 * COLS + v] = (uint8_t)(255 - v);    /* on it */
        im[9 * COLS + 44 + v] = (uint8_t)(v * 7); /* mixed */
    }
    check_compress(im, NULL, ROWS, COLS);
    free(im);
}

static void test_sparse_compress__dense_rows_give_up(void **state)
{
    (void)state;
    int64_t cols = 784, b = 4;
    uint8_t *im = malloc((size_t)(b * cols));
    memset(im, 7, (size_t)(b * cols));
    int32_t start[5], *index = malloc((size_t)(b * cols) * sizeof(int32_t));
    float *value = malloc((size_t)(b * cols) * sizeof(float));
    nn__sparse_rows s = {.start = start, .index = index, .value = value};
    assert_int_equal(nn__sparse_compress_u8(&s, im, NULL, b, cols, 0), 0);
    free(im);
    free(index);
    free(value);
}

/* The sparse first layer's kernels at every width this processor runs, against sums in double: pre =
 * x W + b (and its ReLU, bit for bit from pre), dw = x^T dpre with exact zeros where a column of x is
 * all zero. The widths of out cover every tile shape: full tiles of 32, 64 or 128 outputs, the half
 * tile after them, and the scalar tail (sparse_tile.h). Arrays are exactly as large as the outputs,
 * so a kernel that writes past the last row's end shows under ASan (past another row's, the check of
 * the next row's values catches it). */
static void test_sparse_kernels__every_width_matches_double_sums(void **state)
{
    (void)state;
    enum { B = 6, COLS = 37 };
    static const int64_t outs[] = {1, 15, 16, 17, 32, 33, 63, 64, 65, 100, 127, 128, 129, 192, 200, 300};
    uint8_t *im = sparse_images(B, COLS, 7);
    memset(im + 4 * COLS, 0, COLS); /* an empty row besides sparse_images' */
    for (int r = 0; r < B; r++) im[r * COLS + 5] = im[r * COLS + 30] = 0; /* columns with no non-zero */
    float x[B * COLS];
    for (int i = 0; i < B * COLS; i++) x[i] = (float)im[i] / 255.0f;
    int32_t start[B + 1], index[B * COLS], col_start[COLS + 1], col_fill[COLS], col_row[B * COLS];
    float value[B * COLS], col_value[B * COLS];
    for (int lanes = 4; lanes <= 16; lanes *= 2) {
        if (lanes > nn__vector_lanes()) break;
        for (size_t t = 0; t < sizeof outs / sizeof *outs; t++) {
            int64_t out = outs[t];
            float *w = malloc((size_t)(COLS * out) * sizeof(float)), *b = malloc((size_t)out * sizeof(float));
            float *pre = malloc((size_t)(B * out) * sizeof(float)), *relu = malloc((size_t)(B * out) * sizeof(float));
            float *dpre = malloc((size_t)(B * out) * sizeof(float)), *dw = malloc((size_t)(COLS * out) * sizeof(float));
            for (int64_t i = 0; i < COLS * out; i++) w[i] = (float)((i * 37 + 11) % 101 - 50) / 64.0f;
            for (int64_t j = 0; j < out; j++) b[j] = (float)(j % 7 - 3) / 8.0f;
            for (int64_t i = 0; i < B * out; i++) dpre[i] = (float)((i * 13 + 5) % 29 - 14) / 16.0f;
            nn__sparse_rows s = {.start = start, .index = index, .value = value, .col_start = col_start,
                                 .col_fill = col_fill, .col_row = col_row, .col_value = col_value};
            /* Compressed by hand: nn__sparse_compress would refuse the fully inked row as too dense. */
            s.rows = B;
            s.cols = COLS;
            s.has_columns = 0;
            int32_t p = 0;
            start[0] = 0;
            for (int r = 0; r < B; r++) {
                for (int k = 0; k < COLS; k++)
                    if (x[r * COLS + k] != 0.0f) {
                        index[p] = k;
                        value[p++] = x[r * COLS + k];
                    }
                start[r + 1] = p;
            }
            /* NaN everywhere first: an output the kernels skip cannot pass for a written one. */
            memset(pre, 0xff, (size_t)(B * out) * sizeof(float));
            memset(relu, 0xff, (size_t)(B * out) * sizeof(float));
            memset(dw, 0xff, (size_t)(COLS * out) * sizeof(float));
            nn__sparse_forward_lanes(lanes, &s, out, w, b, pre, relu);
            nn__sparse_weight_grad_lanes(lanes, &s, out, dpre, dw);
            for (int r = 0; r < B; r++)
                for (int64_t j = 0; j < out; j++) {
                    double want = b[j];
                    for (int k = 0; k < COLS; k++) want += (double)x[r * COLS + k] * w[k * out + j];
                    float got = pre[r * out + j], r_want = got < 0.0f ? 0.0f : got;
                    assert_true(fabs(got - want) <= 1e-5 * (1.0 + fabs(want)));
                    assert_memory_equal(&relu[r * out + j], &r_want, sizeof r_want);
                }
            int empty_columns = 0;
            for (int k = 0; k < COLS; k++) {
                int any = 0;
                for (int r = 0; r < B; r++) any |= x[r * COLS + k] != 0.0f;
                empty_columns += !any;
                for (int64_t j = 0; j < out; j++) {
                    double want = 0;
                    for (int r = 0; r < B; r++) want += (double)x[r * COLS + k] * dpre[r * out + j];
                    float got = dw[k * out + j];
                    if (!any) assert_true(got == 0.0f);
                    assert_true(fabs(got - want) <= 1e-5 * (1.0 + fabs(want)));
                }
            }
            assert_int_equal(empty_columns, 2);
            free(w);
            free(b);
            free(pre);
            free(relu);
            free(dpre);
            free(dw);
        }
    }
    free(im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argmax__first_maximum_wins_and_nan_compares_false),
        cmocka_unit_test(test_pack_lut__each_entry_lists_its_set_bits_lowest_first),
        cmocka_unit_test(test_sparse_compress__bytes_and_floats_give_every_non_zero_in_order),
        cmocka_unit_test(test_sparse_compress__every_byte_value_converts_as_the_division),
        cmocka_unit_test(test_sparse_compress__dense_rows_give_up),
        cmocka_unit_test(test_sparse_kernels__every_width_matches_double_sums),
        cmocka_unit_test(test_argmax__matches_count_index_and_distribution_targets),
        cmocka_unit_test(test_rmsprop_update__variants_follow_the_state_given),
        cmocka_unit_test(test_sgd_momentum_update__nesterov_differs_and_shares_velocity),
        cmocka_unit_test(test_optimizer_idle__same_bits_as_a_zero_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
