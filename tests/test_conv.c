/* The convolution and pooling kernels' fast paths against plain references (libnn/cpu/conv.c,
 * libnn/cpu/conv_direct.c): the direct small-patch convolution against im2col and a product in
 * double, and bit for bit against a scalar loop in its documented order, the vectorised pooling against the channel-at-a-time loop (bit for bit: the same operations
 * in the same order), the fused bias/ReLU passes against the separate ones, and a conv2d layer whose
 * batch spans several column blocks against the convolution's definition in double. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model_internal.h"
#include "testutil.h"

static nn__conv_geom geom(int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                          int64_t pt, int64_t pl, int64_t pb, int64_t pr)
{
    return (nn__conv_geom){
        h, w, c, kh, kw, sh, sw, pt, pl, (h + pt + pb - kh) / sh + 1, (w + pl + pr - kw) / sw + 1};
}

static double rel_err(const float *got, const float *want, size_t n)
{
    double worst = 0, scale = 1;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)got[i] - want[i]) / scale);
    return worst;
}

/* Shapes the direct path takes: the MNIST first layer (whole groups of 16 filters), and padded,
 * strided, non-square, multi-channel ones with filter counts that leave a remainder. */
typedef struct direct_case {
    const char *name;
    nn__conv_geom g;
    int64_t f;
    int relu, bias;
} direct_case;

static void check_direct(const direct_case *dc)
{
    const nn__conv_geom *g = &dc->g;
    enum { B = 3 };
    int64_t k = g->kh * g->kw * g->c, rows = B * g->oh * g->ow, f = dc->f, nx = B * g->h * g->w * g->c;
    assert_true(k <= NN__CONV_DIRECT_MAX_PATCH);
    float *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)(k * f) * sizeof *w),
          *b = malloc((size_t)f * sizeof *b), *cols = malloc((size_t)(rows * k) * sizeof *cols),
          *y = malloc((size_t)(rows * f) * sizeof *y), *ref = malloc((size_t)(rows * f) * sizeof *ref),
          *dy = malloc((size_t)(rows * f) * sizeof *dy), *dk = malloc((size_t)(k * f) * sizeof *dk),
          *dkref = malloc((size_t)(k * f) * sizeof *dkref);
    nn_rng *r;
    nn_rng_create(&r, 11);
    tu_fill_uniform(x, (size_t)nx, -1.5f, 1.5f, r);
    tu_fill_uniform(w, (size_t)(k * f), -1, 1, r);
    tu_fill_uniform(b, (size_t)f, -0.5f, 0.5f, r);
    tu_fill_uniform(dy, (size_t)(rows * f), -1, 1, r);
    nn_rng_free(r);

    nn__im2col(g, B, x, cols);
    nn__gemm_ref(0, 0, rows, f, k, 1.0f, cols, k, w, f, 0.0f, ref, f);
    for (int64_t i = 0; i < rows * f; i++) {
        float v = ref[i] + (dc->bias ? b[i % f] : 0.0f);
        ref[i] = dc->relu && v < 0.0f ? 0.0f : v;
    }
    nn__conv_direct_forward(g, B, f, x, w, dc->bias ? b : NULL, dc->relu, y);
    double e = rel_err(y, ref, (size_t)(rows * f));
    if (e > 1e-5) fail_msg("%s: forward differs from im2col by %g", dc->name, e);
    int zeros = 0;
    for (int64_t i = 0; i < rows * f; i++) zeros += y[i] == 0.0f;
    if (dc->relu && zeros == 0) fail_msg("%s: ReLU never clipped: the case tests nothing", dc->name);

    nn__gemm_ref(1, 0, k, f, rows, 1.0f, cols, k, dy, f, 0.0f, dkref, f);
    memset(dk, 0xff, (size_t)(k * f) * sizeof *dk); /* NaN: every entry must be written */
    nn__conv_direct_kernel_grad(g, B, f, x, dy, dk);
    e = rel_err(dk, dkref, (size_t)(k * f));
    if (e > 1e-5) fail_msg("%s: kernel gradient differs from cols^T dy by %g", dc->name, e);
    /* Bit for bit, at every vector width this processor runs, against the order conv_direct.c
     * documents: the bias (or 0), then each tap's product in (ky, kx, c) order, one rounding each; the
     * kernel gradient from 0, each output pixel's term in batch, row, column order. Model files then
     * depend neither on the loop order nor on the processor's vector width. */
    for (int lanes = 4; lanes <= 16; lanes *= 2) {
        if (lanes > nn__vector_lanes()) break;
        memset(y, 0xff, (size_t)(rows * f) * sizeof *y);
        memset(dk, 0xff, (size_t)(k * f) * sizeof *dk);
        nn__conv_direct_forward_lanes(lanes, g, B, f, x, w, dc->bias ? b : NULL, dc->relu, y);
        nn__conv_direct_kernel_grad_lanes(lanes, g, B, f, x, dy, dk);
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < f; j++) {
                float acc = dc->bias ? b[j] : 0.0f;
                for (int64_t t = 0; t < k; t++) acc += cols[i * k + t] * w[t * f + j];
                if (dc->relu && acc < 0.0f) acc = 0.0f;
                if (memcmp(&acc, &y[i * f + j], sizeof acc) != 0)
                    fail_msg("%s, %d lanes: y[%lld, %lld] = %.9g, the documented order gives %.9g", dc->name,
                             lanes, (long long)i, (long long)j, (double)y[i * f + j], (double)acc);
            }
        for (int64_t t = 0; t < k; t++)
            for (int64_t j = 0; j < f; j++) {
                float acc = 0.0f;
                for (int64_t i = 0; i < rows; i++) acc += cols[i * k + t] * dy[i * f + j];
                if (memcmp(&acc, &dk[t * f + j], sizeof acc) != 0)
                    fail_msg("%s, %d lanes: dk[%lld, %lld] = %.9g, the documented order gives %.9g", dc->name,
                             lanes, (long long)t, (long long)j, (double)dk[t * f + j], (double)acc);
            }
    }
    free(x), free(w), free(b), free(cols), free(y), free(ref), free(dy), free(dk), free(dkref);
}

static void test_conv_direct__matches_im2col_and_gemm(void **s)
{
    (void)s;
    const direct_case cases[] = {
        {"28x28x1 3x3 valid, 32 filters, relu", geom(28, 28, 1, 3, 3, 1, 1, 0, 0, 0, 0), 32, 1, 1},
        {"9x7x1 3x3 stride 2 same, 20 filters", geom(9, 7, 1, 3, 3, 2, 2, 1, 1, 1, 1), 20, 0, 1},
        {"6x5x2 2x3 stride (1, 2) padded, 17 filters, relu, no bias", geom(6, 5, 2, 2, 3, 1, 2, 1, 1, 0, 1),
         17, 1, 0},
        {"8x8x1 4x4 same, 16 filters", geom(8, 8, 1, 4, 4, 1, 1, 1, 1, 2, 2), 16, 0, 1},
        {"5x6x1 1x1, 3 filters", geom(5, 6, 1, 1, 1, 1, 1, 0, 0, 0, 0), 3, 1, 1},
        {"2x2x1 3x3 same: no window wholly inside, 16 filters, relu", geom(2, 2, 1, 3, 3, 1, 1, 1, 1, 1, 1),
         16, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_direct(&cases[i]);
}

/* Float equality that counts two NaNs as equal. */
static int same_float(float a, float b) { return a == b || (isnan(a) && isnan(b)); }

static void test_pool__vectorised_matches_the_reference_loop(void **s)
{
    (void)s;
    const nn__conv_geom gs[] = {
        geom(26, 26, 32, 2, 2, 2, 2, 0, 0, 0, 0), /* the MNIST CNN's first pool */
        geom(11, 11, 64, 2, 2, 2, 2, 0, 0, 0, 0), /* ... and its second, with a row and column left over */
        geom(7, 6, 5, 3, 3, 2, 2, 1, 1, 1, 1),    /* overlapping, padded, odd channels */
        geom(5, 7, 3, 2, 3, 1, 3, 0, 1, 1, 1),
        geom(6, 6, 21, 2, 2, 2, 2, 0, 0, 0, 0), /* whole vectors of every width and a remainder */
        geom(7, 6, 21, 3, 3, 2, 2, 1, 1, 1, 1),
    };
    enum { B = 2 };
    for (size_t gi = 0; gi < sizeof gs / sizeof gs[0]; gi++) {
        const nn__conv_geom *g = &gs[gi];
        int64_t nx = B * g->h * g->w * g->c, ny = B * g->oh * g->ow * g->c;
        float *x = malloc((size_t)nx * sizeof *x), *y = malloc((size_t)ny * sizeof *y),
              *ref = malloc((size_t)ny * sizeof *ref);
        int32_t *at = malloc((size_t)ny * sizeof *at), *atref = malloc((size_t)ny * sizeof *atref);
        nn_rng *r;
        nn_rng_create(&r, 5 + gi);
        tu_fill_uniform(x, (size_t)nx, -1, 1, r);
        /* Ties (a coarse grid of values), NaNs and -inf: which index wins must not change. */
        for (int64_t i = 0; i < nx; i++) {
            x[i] = roundf(x[i] * 2.0f) / 2.0f;
            uint64_t u = nn_rng_below(r, 40);
            if (u == 0) x[i] = NAN;
            if (u == 1) x[i] = -INFINITY;
        }
        nn_rng_free(r);
        /* max = 0, 1: the kernel this processor gets; 2, 3, 4: max pooling at each vector width it runs. */
        for (int mode = 0; mode <= 4; mode++) {
            int max = mode > 0, lanes = mode == 2 ? 4 : mode == 3 ? 8 : 16;
            if (mode >= 2 && lanes > nn__vector_lanes()) {
                if (gi == 0)
                    print_message("max pooling with %d-float vectors not run: this processor lacks them\n",
                                  lanes);
                continue;
            }
            if (mode >= 2)
                nn__max_pool_lanes(lanes, g, B, x, y, at);
            else
                nn__pool_forward(g, B, max, x, y, at);
            nn__pool_forward_ref(g, B, max, x, ref, atref);
            for (int64_t i = 0; i < ny; i++) {
                if (!same_float(y[i], ref[i]))
                    fail_msg("pool %zu mode %d: y[%lld] = %g, reference %g", gi, mode, (long long)i,
                             (double)y[i], (double)ref[i]);
                if (max && at[i] != atref[i])
                    fail_msg("pool %zu mode %d: argmax[%lld] = %d, reference %d", gi, mode, (long long)i,
                             at[i], atref[i]);
            }
        }
        free(x), free(y), free(ref), free(at), free(atref);
    }
}

static void test_pool__max_backward_routes_each_gradient_to_its_maximum(void **s)
{
    (void)s;
    const nn__conv_geom gs[] = {
        geom(11, 11, 3, 2, 2, 2, 2, 0, 0, 0, 0), /* non-overlapping, a row and column left out */
        geom(7, 8, 2, 2, 2, 3, 3, 0, 0, 0, 0),   /* stride beyond the window: gaps */
        geom(7, 6, 5, 3, 3, 2, 2, 1, 1, 1, 1),   /* overlapping and padded */
    };
    enum { B = 2 };
    for (size_t gi = 0; gi < sizeof gs / sizeof gs[0]; gi++) {
        const nn__conv_geom *g = &gs[gi];
        int64_t in = g->h * g->w * g->c, out = g->oh * g->ow * g->c;
        float *x = malloc((size_t)(B * in) * sizeof *x), *y = malloc((size_t)(B * out) * sizeof *y),
              *dy = malloc((size_t)(B * out) * sizeof *dy), *dx = malloc((size_t)(B * in) * sizeof *dx),
              *want = calloc((size_t)(B * in), sizeof *want);
        int32_t *at = malloc((size_t)(B * out) * sizeof *at);
        nn_rng *r;
        nn_rng_create(&r, 9);
        tu_fill_uniform(x, (size_t)(B * in), -1, 1, r);
        tu_fill_uniform(dy, (size_t)(B * out), -1, 1, r);
        nn_rng_free(r);
        nn__pool_forward(g, B, 1, x, y, at);
        for (int64_t b = 0; b < B; b++)
            for (int64_t o = 0; o < out; o++) want[b * in + at[b * out + o]] += dy[b * out + o];
        memset(dx, 0xff, (size_t)(B * in) * sizeof *dx); /* NaN: every entry must be written */
        nn__pool_backward(g, B, 1, dy, at, dx);
        for (int64_t i = 0; i < B * in; i++)
            if (dx[i] != want[i])
                fail_msg("pool %zu: dx[%lld] = %g, want %g", gi, (long long)i, (double)dx[i],
                         (double)want[i]);
        free(x), free(y), free(dy), free(dx), free(want), free(at);
    }
}

static void test_conv_rows__fused_passes_match_the_separate_ones(void **s)
{
    (void)s;
    enum { R = 37, N = 21 };
    float y[R * N], ref[R * N], b[N], dy[R * N], dref[R * N], db[N], dbref[N];
    nn_rng *r;
    nn_rng_create(&r, 3);
    tu_fill_uniform(y, R * N, -1, 1, r);
    tu_fill_uniform(b, N, -0.5f, 0.5f, r);
    tu_fill_uniform(dy, R * N, -2, 2, r);
    nn_rng_free(r);
    y[5] = NAN;
    for (int relu = 0; relu <= 1; relu++) {
        float pre[R * N];
        for (int i = 0; i < R * N; i++) pre[i] = y[i] + b[i % N];
        nn__act_forward(nn_activation_make(relu ? NN_ACT_RELU : NN_ACT_LINEAR), ref, pre, R * N);
        float out[R * N];
        memcpy(out, y, sizeof out);
        nn__bias_relu_rows(R, N, b, relu, out);
        for (int i = 0; i < R * N; i++)
            if (!same_float(out[i], ref[i]))
                fail_msg("relu %d: y[%d] = %g, want %g", relu, i, (double)out[i], (double)ref[i]);
        assert_true(isnan(out[5])); /* a NaN passes through the ReLU */

        memcpy(dref, dy, sizeof dref);
        if (relu) nn__act_backward(nn_activation_make(NN_ACT_RELU), dref, dref, pre, ref, R * N);
        nn__col_sums(R, N, dref, dbref);
        float d[R * N];
        memcpy(d, dy, sizeof d);
        for (int j = 0; j < N; j++) db[j] = 1.0f; /* the sums are added */
        uint32_t bits = nn__relu_grad_rows(R, N, relu ? out : NULL, d, db);
        assert_true(bits == nn__max_abs_bits(dref, R * N));
        for (int i = 0; i < R * N; i++) assert_true(d[i] == dref[i]);
        for (int j = 0; j < N; j++) assert_true(fabsf(db[j] - 1.0f - dbref[j]) < 1e-5f);
    }
}

/* A conv2d layer over a batch that spans several blocks of columns (libnn/layers/conv2d.c builds them a
 * few images at a time), against the definition in double: output, kernel and bias gradients, and the
 * input gradient. Layers of both paths: im2col (32 channels) and direct (one channel). */
static void check_layer_against_definition(int64_t h, int64_t w, int64_t c, int64_t f, int64_t batch)
{
    nn_model *m;
    int64_t shape[3] = {h, w, c};
    assert_int_equal(nn_model_create_shape(&m, 3, shape), NN_OK);
    assert_int_equal(nn_model_add_conv2d(m, f, nn_activation_make(NN_ACT_RELU), NULL), NN_OK);
    nn__layer l = *nn__model_layer(m, 0);
    int64_t oh = h - 2, ow = w - 2, nx = batch * h * w * c, ny = batch * oh * ow * f, nk = 9 * c * f;
    float *x = malloc((size_t)nx * sizeof *x), *y = malloc((size_t)ny * sizeof *y),
          *dy = malloc((size_t)ny * sizeof *dy), *dx = malloc((size_t)nx * sizeof *dx),
          *k = malloc((size_t)nk * sizeof *k), *bias = malloc((size_t)f * sizeof *bias),
          *dk = malloc((size_t)nk * sizeof *dk), *db = malloc((size_t)f * sizeof *db);
    double *dpre = malloc((size_t)ny * sizeof *dpre), *dkw = calloc((size_t)nk, sizeof *dkw),
           *dbw = calloc((size_t)f, sizeof *dbw), *dxw = calloc((size_t)nx, sizeof *dxw),
           *dbabs = calloc((size_t)f, sizeof *dbabs);
    nn_rng *r;
    nn_rng_create(&r, 21);
    tu_fill_uniform(x, (size_t)nx, -1, 1, r);
    tu_fill_uniform(k, (size_t)nk, -0.3f, 0.3f, r);
    tu_fill_uniform(bias, (size_t)f, -0.2f, 0.2f, r);
    tu_fill_uniform(dy, (size_t)ny, -1, 1, r);
    nn_rng_free(r);
    size_t fl, in;
    l.ops->workspace(&l, batch, &fl, &in);
    float *ws = malloc((fl ? fl : 1) * sizeof *ws);
    l.ws = ws;
    l.t[0] = k;
    l.t[1] = bias;
    l.grad[0] = dk;
    l.grad[1] = db;
    l.y = y;
    nn__pass p = {batch, 1, NULL, 0, 0, 0};
    l.ops->forward(&l, &p, x, y);
    double worst = 0, scale = 1;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t j = 0; j < f; j++) {
                    double v = bias[j];
                    for (int64_t t = 0; t < 9 * c; t++) {
                        int64_t ky = t / (3 * c), kx = t / c % 3, ch = t % c;
                        v += (double)x[((b * h + oy + ky) * w + ox + kx) * c + ch] * k[t * f + j];
                    }
                    int64_t o = ((b * oh + oy) * ow + ox) * f + j;
                    worst = fmax(worst, fabs(y[o] - fmax(v, 0.0)));
                    dpre[o] = v > 0 ? dy[o] : 0.0;
                }
    if (worst > 1e-5)
        fail_msg("%lldx%lldx%lld -> %lld, batch %lld: output off by %g", (long long)h, (long long)w,
                 (long long)c, (long long)f, (long long)batch, worst);
    assert_int_equal(l.ops->backward(&l, &p, x, y, dy, dx), 0);
    for (int64_t b = 0; b < batch; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t j = 0; j < f; j++) {
                    double d = dpre[((b * oh + oy) * ow + ox) * f + j];
                    dbw[j] += d;
                    dbabs[j] += fabs(d);
                    for (int64_t t = 0; t < 9 * c; t++) {
                        int64_t ky = t / (3 * c), kx = t / c % 3, ch = t % c;
                        int64_t xi = ((b * h + oy + ky) * w + ox + kx) * c + ch;
                        dkw[t * f + j] += x[xi] * d;
                        dxw[xi] += k[t * f + j] * d;
                    }
                }
    for (int64_t i = 0; i < nk; i++) scale = fmax(scale, fabs(dkw[i]));
    worst = 0;
    for (int64_t i = 0; i < nk; i++) worst = fmax(worst, fabs(dk[i] - dkw[i]) / scale);
    if (worst > 1e-5) fail_msg("kernel gradient off by %g (relative)", worst);
    worst = 0;
    /* A float sum of thousands of terms: its error scales with the sum of their sizes. */
    for (int64_t j = 0; j < f; j++) worst = fmax(worst, fabs(db[j] - dbw[j]) / fmax(1, dbabs[j]));
    if (worst > 1e-6) fail_msg("bias gradient off by %g (relative to the sum of |terms|)", worst);
    worst = 0;
    for (int64_t i = 0; i < nx; i++) worst = fmax(worst, fabs(dx[i] - dxw[i]));
    if (worst > 1e-5) fail_msg("input gradient off by %g", worst);
    free(x), free(y), free(dy), free(dx), free(k), free(bias), free(dk), free(db), free(ws);
    free(dpre), free(dkw), free(dbw), free(dxw), free(dbabs);
    nn_model_free(m);
}

static void test_conv2d__column_blocks_match_the_definition(void **s)
{
    (void)s;
    check_layer_against_definition(13, 13, 32, 64, 17); /* 7 images a block: 7 + 7 + 3 */
    check_layer_against_definition(12, 10, 1, 20, 5);   /* direct, with an input gradient */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_direct__matches_im2col_and_gemm),
        cmocka_unit_test(test_pool__vectorised_matches_the_reference_loop),
        cmocka_unit_test(test_pool__max_backward_routes_each_gradient_to_its_maximum),
        cmocka_unit_test(test_conv_rows__fused_passes_match_the_separate_ones),
        cmocka_unit_test(test_conv2d__column_blocks_match_the_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
