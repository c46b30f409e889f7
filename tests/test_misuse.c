/* API misuse: every public function of every header in include/nn/ called with NULL for each pointer,
 * with zero, negative and absurd sizes, with hand-built tensors that lie about their shape, and in
 * the wrong order. Each call must return a failing status with a message in nn_last_error() (or, for
 * calls that return a value, a documented safe value), and never crash: this program runs under ASan
 * and UBSan in CI, where an out-of-bounds read, a signed overflow, a leak or a double free fails it.
 * Grouped by header, in the order of include/nn/nn.h. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/nn.h"
#include "nn/experimental.h"
#include "testutil.h"

/* Some cases ask for more memory than any machine has, to see NN_ERR_NO_MEMORY. The C library then
 * returns NULL, as the library expects; ASan by default aborts instead, so ask it to behave the same.
 * Settings in ASAN_OPTIONS (CI's detect_leaks=1) still apply on top of this. */
const char *__asan_default_options(void);
__attribute__((visibility("default"), used)) const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* The call fails and says why. */
#define REFUSED(call)                                                                                  \
    do {                                                                                               \
        nn_clear_error();                                                                              \
        nn_status st_ = (call);                                                                        \
        if (st_ == NN_OK) fail_msg("%s returned NN_OK", #call);                                        \
        if (nn_last_error()[0] == '\0') fail_msg("%s failed (%d) without a message", #call, (int)st_); \
    } while (0)

/* The call fails with this status and says why. */
#define REFUSED_AS(code, call)                                                                        \
    do {                                                                                              \
        nn_clear_error();                                                                             \
        nn_status st_ = (call);                                                                       \
        if (st_ != (code))                                                                            \
            fail_msg("%s returned %s, expected %s (%s)", #call, nn_status_string(st_),                \
                     nn_status_string(code), nn_last_error());                                        \
        if (nn_last_error()[0] == '\0') fail_msg("%s failed without a message", #call);               \
    } while (0)

#define OK(call)                                                                                       \
    do {                                                                                               \
        nn_status st_ = (call);                                                                        \
        if (st_ != NN_OK) fail_msg("%s returned %s: %s", #call, nn_status_string(st_), nn_last_error()); \
    } while (0)

/* A message was recorded by the last call (for calls that return a value, not a status). */
static void assert_error_set(void) { assert_true(nn_last_error()[0] != '\0'); }

#define TWO_40 ((int64_t)1 << 40)

/* A struct filled in by hand, as the public nn_tensor allows. */
static nn_tensor hand_tensor(float *data, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    nn_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.rank = rank;
    t.shape[0] = d0;
    t.shape[1] = d1;
    t.shape[2] = d2;
    t.shape[3] = d3;
    return t;
}

/* 4 inputs -> 3 relu -> 2 logits, compiled with Adam unless opt_out is NULL (then no optimizer). */
static nn_model *small_model(nn_optimizer **opt_out)
{
    nn_model *m;
    OK(nn_model_create(&m, 4));
    OK(nn_model_add_dense(m, 3, nn_activation_make(NN_ACT_RELU)));
    OK(nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_LINEAR)));
    nn_optimizer *opt = NULL;
    if (opt_out) OK(nn_optimizer_create_adam(&opt, NULL));
    OK(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt));
    if (opt_out) *opt_out = opt;
    return m;
}

/* ---- status.h, version.h, runtime.h ---- */

static void test_status__unknown_codes_and_messages(void **state)
{
    (void)state;
    assert_non_null(nn_status_string((nn_status)-1));
    assert_non_null(nn_status_string((nn_status)9999));
    assert_non_null(nn_status_string((nn_status)INT_MIN));
    nn_clear_error();
    assert_non_null(nn_last_error());
    assert_string_equal(nn_last_error(), "");
    assert_non_null(nn_version());
    assert_true(NN_VERSION_CHECK(0, 0, 0));
}

static void test_runtime__bad_thread_counts(void **state)
{
    (void)state;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_runtime_set_blas_threads(0));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_runtime_set_blas_threads(-1));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_runtime_set_blas_threads(INT_MIN));
    assert_true(nn_runtime_blas_threads() >= 1);
    assert_non_null(nn_runtime_blas_name());
}

/* ---- tensor.h ---- */

static void test_tensor__create_and_view_bad_arguments(void **state)
{
    (void)state;
    nn_tensor *t = (nn_tensor *)&t; /* not NULL, so that the reset to NULL on failure shows */
    const int64_t ok2[2] = {2, 3};
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(NULL, 2, ok2));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, -1, ok2));
    assert_null(t);
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, NN_TENSOR_MAX_RANK + 1, ok2));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, INT_MAX, ok2));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, 2, NULL));
    const int64_t zero[2] = {0, 3}, neg[2] = {2, -3}, big[2] = {TWO_40, TWO_40}, top[2] = {INT64_MAX, 2},
                  min[2] = {INT64_MIN, INT64_MIN};
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, 2, zero));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, 2, neg));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, 2, big));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, 2, top));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_create(&t, 2, min));
    /* 2^61 floats pass the count check and cannot be allocated. */
    const int64_t huge[1] = {(int64_t)1 << 61};
    REFUSED_AS(NN_ERR_NO_MEMORY, nn_tensor_create(&t, 1, huge));
    assert_null(t);

    float buf[6];
    nn_tensor v;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_view(NULL, buf, 2, ok2));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_view(&v, NULL, 2, ok2));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_view(&v, buf, 5, ok2));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_view(&v, buf, 2, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_view(&v, buf, 2, big));

    nn_tensor_free(NULL);
    OK(nn_tensor_view(&v, buf, 2, ok2));
    nn_tensor_free(&v); /* a view: releases nothing */
}

/* The audit's cases: a caller-built 2^40 x 2^40 tensor overflowed the element count (signed overflow,
 * undefined), and rank 5 read shape[4], past the array. */
static void test_tensor__numel_of_hand_built_tensors(void **state)
{
    (void)state;
    float buf[8] = {0};
    nn_tensor t = hand_tensor(buf, 2, TWO_40, TWO_40, 1, 1);
    nn_clear_error();
    assert_int_equal(nn_tensor_numel(&t), 0);
    assert_error_set();
    t = hand_tensor(buf, 4, TWO_40, TWO_40, TWO_40, TWO_40);
    assert_int_equal(nn_tensor_numel(&t), 0);
    t = hand_tensor(buf, 2, INT64_MAX, INT64_MAX, 1, 1);
    assert_int_equal(nn_tensor_numel(&t), 0);
    t = hand_tensor(buf, 2, -2, -4, 1, 1); /* a positive product of negative extents */
    assert_int_equal(nn_tensor_numel(&t), 0);
    t = hand_tensor(buf, 2, 0, 4, 1, 1);
    assert_int_equal(nn_tensor_numel(&t), 0);
    t = hand_tensor(buf, NN_TENSOR_MAX_RANK + 1, 2, 2, 2, 1);
    nn_clear_error();
    assert_int_equal(nn_tensor_numel(&t), 0);
    assert_error_set();
    t = hand_tensor(buf, -1, 2, 2, 2, 1);
    assert_int_equal(nn_tensor_numel(&t), 0);
    t = hand_tensor(buf, INT_MAX, 2, 2, 2, 1);
    assert_int_equal(nn_tensor_numel(&t), 0);
    nn_clear_error();
    assert_int_equal(nn_tensor_numel(NULL), 0);
    assert_error_set();
    /* Still right for valid ones, without touching the message. */
    t = hand_tensor(buf, 0, 7, 7, 7, 7);
    assert_int_equal(nn_tensor_numel(&t), 1);
    t = hand_tensor(buf, 3, 2, 2, 2, 1);
    nn_clear_error();
    assert_int_equal(nn_tensor_numel(&t), 8);
    assert_string_equal(nn_last_error(), "");
}

static void test_tensor__fill_copy_reshape_hand_built(void **state)
{
    (void)state;
    float a[8] = {0}, b[8] = {0};
    nn_tensor big = hand_tensor(a, 2, TWO_40, TWO_40, 1, 1);
    nn_tensor r5 = hand_tensor(a, NN_TENSOR_MAX_RANK + 1, 2, 2, 2, 1);
    nn_tensor r5b = hand_tensor(b, NN_TENSOR_MAX_RANK + 1, 2, 2, 2, 1);
    nn_tensor neg = hand_tensor(a, 1, -8, 1, 1, 1);
    nn_tensor nodata = hand_tensor(NULL, 1, 8, 1, 1, 1);
    nn_tensor good = hand_tensor(b, 1, 8, 1, 1, 1);

    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_fill(NULL, 1.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_fill(&nodata, 1.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_fill(&big, 1.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_fill(&r5, 1.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_fill(&neg, 1.0f));
    for (int i = 0; i < 8; i++) assert_true(a[i] == 0.0f);

    REFUSED(nn_tensor_copy(NULL, &good));
    REFUSED(nn_tensor_copy(&good, NULL));
    REFUSED(nn_tensor_copy(&good, &nodata));
    REFUSED(nn_tensor_copy(&r5b, &r5));
    nn_tensor big2 = hand_tensor(b, 2, TWO_40, TWO_40, 1, 1);
    REFUSED(nn_tensor_copy(&big2, &big));
    REFUSED(nn_tensor_copy(&good, &big));

    assert_false(nn_tensor_same_shape(&r5, &r5b));
    assert_false(nn_tensor_same_shape(&r5, &r5));
    nn_tensor rneg = hand_tensor(a, -3, 2, 2, 2, 1);
    assert_false(nn_tensor_same_shape(&rneg, &rneg));
    assert_false(nn_tensor_same_shape(NULL, &good));

    const int64_t s8[1] = {8}, s5[1] = {5};
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_reshape(NULL, 1, s8));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_reshape(&good, 1, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_reshape(&good, 9, s8));
    REFUSED_AS(NN_ERR_SHAPE, nn_tensor_reshape(&good, 1, s5));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_reshape(&big, 1, s8));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_tensor_reshape(&r5, 1, s8));
    assert_int_equal(r5.rank, NN_TENSOR_MAX_RANK + 1); /* left as it was */
}

/* ---- rng.h ---- */

static void test_rng__null_generator(void **state)
{
    (void)state;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_rng_create(NULL, 1));
    nn_rng_free(NULL);
    nn_clear_error();
    nn_rng_seed(NULL, 7);
    assert_error_set();

    nn_clear_error();
    assert_true(nn_rng_u64(NULL) == 0);
    assert_error_set();
    nn_clear_error();
    assert_true(nn_rng_below(NULL, 10) == 0);
    assert_error_set();
    nn_clear_error();
    assert_true(nn_rng_below(NULL, 0) == 0);
    assert_error_set();
    nn_clear_error();
    assert_true(isnan(nn_rng_uniform(NULL)));
    assert_error_set();
    nn_clear_error();
    assert_true(isnan(nn_rng_normal(NULL)));
    assert_error_set();

    uint64_t s[NN_RNG_STATE_WORDS] = {1, 2, 3, 4};
    nn_clear_error();
    nn_rng_get_state(NULL, s);
    assert_error_set();
    for (int i = 0; i < NN_RNG_STATE_WORDS; i++) assert_true(s[i] == 0);
    nn_rng *rng;
    OK(nn_rng_create(&rng, 1));
    /* ... and that state cannot be restored by mistake. */
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_rng_set_state(rng, s));
    nn_clear_error();
    nn_rng_get_state(rng, NULL);
    assert_error_set();
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_rng_set_state(NULL, s));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_rng_set_state(rng, NULL));

    uint32_t idx[3] = {0, 1, 2};
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_rng_shuffle(NULL, idx, 3));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_rng_shuffle(rng, NULL, 3));
    OK(nn_rng_shuffle(NULL, NULL, 0));
    assert_true(nn_rng_below(rng, 0) == 0);
    assert_true(nn_rng_below(rng, UINT64_MAX) < UINT64_MAX);
    nn_rng_free(rng);
}

/* ---- init.h ---- */

static void test_init__bad_arguments(void **state)
{
    (void)state;
    nn_rng *rng;
    OK(nn_rng_create(&rng, 3));
    float w[16];
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(NULL, 16, NN_INIT_GLOROT_UNIFORM, 4, 4, rng));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(NULL, 16, NN_INIT_ZEROS, 4, 4, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(w, 16, (nn_init)-1, 4, 4, rng));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(w, 16, (nn_init)99, 4, 4, rng));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(w, 16, NN_INIT_HE_NORMAL, 4, 4, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(w, 16, NN_INIT_GLOROT_UNIFORM, 0, 4, rng));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(w, 16, NN_INIT_GLOROT_UNIFORM, 4, -1, rng));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(w, 16, NN_INIT_GLOROT_UNIFORM, INT64_MIN, INT64_MIN, rng));
    /* More floats than memory holds: refused before anything is written. */
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(w, SIZE_MAX, NN_INIT_ZEROS, 4, 4, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_fill(w, SIZE_MAX / 2, NN_INIT_GLOROT_UNIFORM, 4, 4, rng));
    OK(nn_init_fill(NULL, 0, NN_INIT_GLOROT_UNIFORM, 4, 4, rng));

    assert_null(nn_init_name((nn_init)-1));
    assert_null(nn_init_name((nn_init)99));
    nn_init k;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_from_name(NULL, "zeros"));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_from_name(&k, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_from_name(&k, ""));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_init_from_name(&k, "Glorot_Uniform "));
    nn_rng_free(rng);
}

/* The audit's case: fan_in + fan_out near INT64_MAX overflowed (signed, undefined). Valid fans, so
 * the fill succeeds, with tiny finite weights. */
static void test_init__fans_near_int64_max(void **state)
{
    (void)state;
    nn_rng *rng;
    OK(nn_rng_create(&rng, 3));
    float w[16];
    const nn_init kinds[] = {NN_INIT_GLOROT_UNIFORM, NN_INIT_GLOROT_NORMAL, NN_INIT_HE_UNIFORM, NN_INIT_HE_NORMAL};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        OK(nn_init_fill(w, 16, kinds[k], INT64_MAX, INT64_MAX, rng));
        OK(nn_init_fill(w, 16, kinds[k], INT64_MAX, 1, rng));
        for (int i = 0; i < 16; i++) assert_true(isfinite(w[i]) && fabsf(w[i]) < 1e-8f);
    }
    nn_rng_free(rng);
}

/* ---- activation.h, layer.h ---- */

static void test_activation__bad_arguments(void **state)
{
    (void)state;
    nn_activation a;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_from_name(NULL, "relu"));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_from_name(&a, NULL));
    const char *bad[] = {"", "bogus", "relu:0.1", "leaky_relu:", "leaky_relu:-1", "leaky_relu:nan",
                         "leaky_relu:inf", "elu:1x", ":", "relu:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_from_name(&a, bad[i]));
    char long_name[10000];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_from_name(&a, long_name));
    assert_true(strlen(nn_last_error()) < 1000);

    assert_null(nn_activation_name((nn_activation_kind)-1));
    assert_null(nn_activation_name((nn_activation_kind)NN_ACT_COUNT));
    nn_activation odd = nn_activation_make((nn_activation_kind)-5);
    float in[4] = {1, 2, 3, 4}, out[4], g[4] = {1, 1, 1, 1};
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_forward(odd, out, in, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_backward(odd, out, g, in, in, 4));
    nn_activation nan_alpha = {NN_ACT_LEAKY_RELU, NAN};
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_forward(nan_alpha, out, in, 4));
    nn_activation neg_alpha = {NN_ACT_ELU, -1.0f};
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_backward(neg_alpha, out, g, in, in, 4));
    nn_activation relu = nn_activation_make(NN_ACT_RELU);
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_forward(relu, NULL, in, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_forward(relu, out, NULL, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_backward(relu, NULL, g, in, out, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_backward(relu, out, NULL, in, out, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_backward(relu, out, g, NULL, out, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_activation_backward(relu, out, g, in, NULL, 4));
    OK(nn_activation_forward(relu, NULL, NULL, 0));
    OK(nn_activation_backward(relu, NULL, NULL, NULL, NULL, 0));
}

static void test_dense__bad_tensors(void **state)
{
    (void)state;
    assert_null(nn_layer_kind_name((nn_layer_kind)-1));
    assert_null(nn_layer_kind_name((nn_layer_kind)99));
    float xb[6] = {0}, wb[6] = {0}, bb[3] = {0}, yb[6] = {0}, pb[6] = {0}, dyb[6] = {0}, sb[6] = {0};
    float dxb[6] = {0}, dwb[6] = {0}, dbb[3] = {0};
    nn_tensor x = hand_tensor(xb, 2, 2, 2, 1, 1), w = hand_tensor(wb, 2, 2, 3, 1, 1), b = hand_tensor(bb, 1, 3, 1, 1, 1);
    nn_tensor y = hand_tensor(yb, 2, 2, 3, 1, 1), pre = hand_tensor(pb, 2, 2, 3, 1, 1);
    nn_tensor dy = hand_tensor(dyb, 2, 2, 3, 1, 1), scratch = hand_tensor(sb, 2, 2, 3, 1, 1);
    nn_tensor dx = hand_tensor(dxb, 2, 2, 2, 1, 1), dw = hand_tensor(dwb, 2, 2, 3, 1, 1), db = hand_tensor(dbb, 1, 3, 1, 1, 1);
    nn_tensor nodata = hand_tensor(NULL, 2, 2, 2, 1, 1), r5 = hand_tensor(xb, 5, 2, 2, 1, 1);
    nn_activation relu = nn_activation_make(NN_ACT_RELU), odd = {(nn_activation_kind)77, 0.0f};
    OK(nn_dense_forward(&y, &pre, &x, &w, &b, relu));
    OK(nn_dense_backward(&dx, &dw, &db, &dy, &x, &w, &pre, &y, relu, &scratch));

    REFUSED(nn_dense_forward(NULL, &pre, &x, &w, &b, relu));
    REFUSED(nn_dense_forward(&y, &pre, NULL, &w, &b, relu));
    REFUSED(nn_dense_forward(&y, &pre, &x, NULL, &b, relu));
    REFUSED(nn_dense_forward(&y, &pre, &x, &w, NULL, relu));
    REFUSED(nn_dense_forward(&y, &pre, &nodata, &w, &b, relu));
    REFUSED(nn_dense_forward(&y, &pre, &r5, &w, &b, relu));
    REFUSED(nn_dense_forward(&y, &pre, &x, &w, &b, odd));
    REFUSED(nn_dense_forward(&y, &x, &x, &w, &b, relu)); /* pre of the wrong shape */
    /* Negative extents that agree with each other: no BLAS call may see them (the reference BLAS
     * prints and may exit on an illegal argument). */
    nn_tensor xn = hand_tensor(xb, 2, -2, 2, 1, 1), yn = hand_tensor(yb, 2, -2, 3, 1, 1);
    REFUSED(nn_dense_forward(&yn, NULL, &xn, &w, &b, relu));
    nn_tensor wn = hand_tensor(wb, 2, -2, -3, 1, 1), bn = hand_tensor(bb, 1, -3, 1, 1, 1);
    nn_tensor xn2 = hand_tensor(xb, 2, 2, -2, 1, 1), yn2 = hand_tensor(yb, 2, 2, -3, 1, 1);
    REFUSED(nn_dense_forward(&yn2, NULL, &xn2, &wn, &bn, relu));
    nn_tensor xz = hand_tensor(xb, 2, 0, 2, 1, 1), yz = hand_tensor(yb, 2, 0, 3, 1, 1);
    REFUSED(nn_dense_forward(&yz, NULL, &xz, &w, &b, relu));

    REFUSED(nn_dense_backward(&dx, NULL, &db, &dy, &x, &w, &pre, &y, relu, &scratch));
    REFUSED(nn_dense_backward(&dx, &dw, NULL, &dy, &x, &w, &pre, &y, relu, &scratch));
    REFUSED(nn_dense_backward(&dx, &dw, &db, NULL, &x, &w, &pre, &y, relu, &scratch));
    REFUSED(nn_dense_backward(&dx, &dw, &db, &dy, NULL, &w, &pre, &y, relu, &scratch));
    REFUSED(nn_dense_backward(&dx, &dw, &db, &dy, &x, NULL, &pre, &y, relu, &scratch));
    REFUSED(nn_dense_backward(&dx, &dw, &db, &dy, &x, &w, NULL, &y, relu, &scratch));
    REFUSED(nn_dense_backward(&dx, &dw, &db, &dy, &x, &w, &pre, NULL, relu, &scratch));
    REFUSED(nn_dense_backward(&dx, &dw, &db, &dy, &x, &w, &pre, &y, relu, NULL));
    REFUSED(nn_dense_backward(&dx, &dw, &db, &dy, &x, &w, &pre, &y, odd, &scratch));
    REFUSED(nn_dense_backward(&dy, &dw, &db, &dy, &x, &w, &pre, &y, relu, &scratch)); /* dx (2, 3) */
    nn_tensor dyn = hand_tensor(dyb, 2, -2, 3, 1, 1), pn = hand_tensor(pb, 2, -2, 3, 1, 1);
    nn_tensor sn = hand_tensor(sb, 2, -2, 3, 1, 1);
    REFUSED(nn_dense_backward(NULL, &dw, &db, &dyn, &xn, &w, &pn, &yn, relu, &sn));
}

/* ---- loss.h ---- */

static void test_loss__bad_arguments(void **state)
{
    (void)state;
    assert_null(nn_loss_name((nn_loss_kind)-1));
    assert_null(nn_loss_name((nn_loss_kind)99));
    nn_loss_kind k;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_loss_from_name(NULL, "mse"));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_loss_from_name(&k, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_loss_from_name(&k, ""));

    float lb[6] = {0}, tb[2] = {0, 1}, gb[6] = {0}, db[6] = {0};
    float loss = 0.0f;
    nn_tensor logits = hand_tensor(lb, 2, 2, 3, 1, 1), labels = hand_tensor(tb, 1, 2, 1, 1, 1);
    nn_tensor grad = hand_tensor(gb, 2, 2, 3, 1, 1), dist = hand_tensor(db, 2, 2, 3, 1, 1);
    OK(nn_loss_softmax_cross_entropy(&loss, &grad, &logits, &labels));
    REFUSED(nn_loss_softmax_cross_entropy(NULL, &grad, &logits, &labels));
    REFUSED(nn_loss_softmax_cross_entropy(&loss, &grad, NULL, &labels));
    REFUSED(nn_loss_softmax_cross_entropy(&loss, &grad, &logits, NULL));
    REFUSED(nn_loss_softmax_cross_entropy(&loss, &labels, &logits, &labels)); /* grad of the wrong shape */
    REFUSED(nn_loss_softmax_cross_entropy(&loss, NULL, &logits, &dist));      /* rows sum to 0, not 1 */
    const float bad_labels[] = {-1.0f, 3.0f, 0.5f, NAN, INFINITY, 1e30f};
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        tb[1] = bad_labels[i];
        REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_loss_softmax_cross_entropy(&loss, &grad, &logits, &labels));
    }
    tb[1] = 1.0f;
    nn_tensor r5 = hand_tensor(lb, 5, 2, 3, 1, 1), rneg = hand_tensor(lb, -1, 2, 3, 1, 1);
    nn_tensor big = hand_tensor(lb, 2, TWO_40, TWO_40, 1, 1), big_t = hand_tensor(db, 2, TWO_40, TWO_40, 1, 1);
    nn_tensor zero = hand_tensor(lb, 2, 0, 3, 1, 1), nodata = hand_tensor(NULL, 2, 2, 3, 1, 1);
    REFUSED(nn_loss_softmax_cross_entropy(&loss, NULL, &r5, &labels));
    REFUSED(nn_loss_softmax_cross_entropy(&loss, NULL, &rneg, &labels));
    REFUSED(nn_loss_softmax_cross_entropy(&loss, NULL, &big, &big_t));
    REFUSED(nn_loss_softmax_cross_entropy(&loss, NULL, &zero, &labels));
    REFUSED(nn_loss_softmax_cross_entropy(&loss, NULL, &nodata, &labels));

    OK(nn_loss_mse(&loss, &grad, &logits, &dist));
    REFUSED(nn_loss_mse(NULL, NULL, &logits, &dist));
    REFUSED(nn_loss_mse(&loss, NULL, NULL, &dist));
    REFUSED(nn_loss_mse(&loss, NULL, &logits, NULL));
    REFUSED(nn_loss_mse(&loss, &labels, &logits, &dist));
    REFUSED(nn_loss_mse(&loss, NULL, &logits, &labels));
    REFUSED(nn_loss_mse(&loss, NULL, &r5, &r5));
    REFUSED(nn_loss_mse(&loss, NULL, &big, &big_t)); /* same (impossible) shape on both sides */

    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_loss_compute((nn_loss_kind)99, &loss, NULL, &logits, &dist));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_loss_compute((nn_loss_kind)-1, &loss, NULL, &logits, &dist));

    REFUSED(nn_softmax(NULL, &logits));
    REFUSED(nn_softmax(&grad, NULL));
    REFUSED(nn_softmax(&labels, &logits));
    REFUSED(nn_softmax(&labels, &labels)); /* rank 1 */
    REFUSED(nn_softmax(&r5, &r5));
    REFUSED(nn_softmax(&big_t, &big));
}

/* ---- optimizer.h ---- */

static void test_optimizer__create_bad_options(void **state)
{
    (void)state;
    nn_optimizer *o = (nn_optimizer *)&o;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_sgd(NULL, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_adam(NULL, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_adamw(NULL, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_rmsprop(NULL, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_adagrad(NULL, NULL));

    nn_sgd_options sgd = NN_SGD_OPTIONS_INIT;
    sgd.version = 0;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_sgd(&o, &sgd));
    assert_null(o);
    const float bad_lr[] = {0.0f, -1.0f, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad_lr / sizeof bad_lr[0]; i++) {
        sgd = (nn_sgd_options)NN_SGD_OPTIONS_INIT;
        sgd.lr = bad_lr[i];
        REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_sgd(&o, &sgd));
    }
    sgd = (nn_sgd_options)NN_SGD_OPTIONS_INIT;
    sgd.momentum = 1.0f;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_sgd(&o, &sgd));
    nn_adam_options adam = NN_ADAM_OPTIONS_INIT;
    adam.beta1 = NAN;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_adam(&o, &adam));
    adam = (nn_adam_options)NN_ADAM_OPTIONS_INIT;
    adam.eps = 0.0f;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_adam(&o, &adam));
    adam.version = UINT_MAX;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_adam(&o, &adam));
    nn_adamw_options adamw = NN_ADAMW_OPTIONS_INIT;
    adamw.weight_decay = -1.0f;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_adamw(&o, &adamw));
    nn_rmsprop_options rms = NN_RMSPROP_OPTIONS_INIT;
    rms.rho = 1.0f;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_rmsprop(&o, &rms));
    nn_adagrad_options ada = NN_ADAGRAD_OPTIONS_INIT;
    ada.initial_accumulator = INFINITY;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_adagrad(&o, &ada));

    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_from_name(NULL, "adam", 0.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_from_name(&o, NULL, 0.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_from_name(&o, "", 0.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_from_name(&o, "adamx", 0.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_from_name(&o, "adam", NAN));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_create_from_name(&o, "adam", INFINITY));
    assert_null(o);

    nn_optimizer_free(NULL);
    assert_null(nn_optimizer_kind_name((nn_optimizer_kind)-1));
    assert_null(nn_optimizer_kind_name((nn_optimizer_kind)5));
    assert_null(nn_optimizer_kind_name(nn_optimizer_get_kind(NULL)));
    assert_true(nn_optimizer_get_lr(NULL) == 0.0f);
    assert_true(nn_optimizer_get_iterations(NULL) == 0);
    nn_optimizer_set_iterations(NULL, 5);
    assert_int_equal(nn_optimizer_state_count(NULL), 0);
    assert_int_equal(nn_optimizer_hparam_count(NULL), 0);
}

static void test_optimizer__calls_out_of_order_and_bad_sizes(void **state)
{
    (void)state;
    nn_optimizer *adam, *sgd;
    OK(nn_optimizer_create_adam(&adam, NULL));
    OK(nn_optimizer_create_sgd(&sgd, NULL));
    float w[4] = {0}, g[4] = {1, 1, 1, 1};
    const char *name;
    float *data, value;
    size_t n;

    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_lr(NULL, 0.1f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_lr(adam, 0.0f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_lr(adam, NAN));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_lr(adam, -INFINITY));

    /* step and state before setup */
    REFUSED_AS(NN_ERR_STATE, nn_optimizer_step(adam, w, g, 4));
    REFUSED_AS(NN_ERR_STATE, nn_optimizer_state(adam, 0, &name, &data, &n));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_setup(NULL, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_setup(adam, 0));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_setup(adam, SIZE_MAX));
    REFUSED_AS(NN_ERR_NO_MEMORY, nn_optimizer_setup(adam, SIZE_MAX / 8));
    OK(nn_optimizer_setup(adam, 4));
    OK(nn_optimizer_setup(sgd, 4));

    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_step(NULL, w, g, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_step(adam, NULL, g, 4));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_step(adam, w, NULL, 4));
    REFUSED_AS(NN_ERR_STATE, nn_optimizer_step(adam, w, g, 3));
    REFUSED_AS(NN_ERR_STATE, nn_optimizer_step(adam, w, g, SIZE_MAX));
    REFUSED_AS(NN_ERR_STATE, nn_optimizer_step(adam, w, g, 0));

    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_state(NULL, 0, &name, &data, &n));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_state(adam, -1, &name, &data, &n));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_state(adam, 2, &name, &data, &n));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_state(adam, INT_MIN, NULL, NULL, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_state(sgd, 0, &name, &data, &n)); /* plain SGD: none */
    OK(nn_optimizer_state(adam, 1, NULL, NULL, NULL));

    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_hparam(NULL, 0, &name, &value));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_hparam(adam, -1, &name, &value));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_hparam(adam, 4, &name, &value));
    OK(nn_optimizer_hparam(adam, 0, NULL, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_hparam(NULL, "lr", 0.1f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_hparam(adam, NULL, 0.1f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_hparam(adam, "", 0.1f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_hparam(adam, "momentum", 0.1f));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_hparam(adam, "beta2", NAN));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_optimizer_set_hparam(sgd, "nesterov", 0.5f));
    /* After setup, a change that adds a state array needs a new setup. */
    REFUSED_AS(NN_ERR_STATE, nn_optimizer_set_hparam(sgd, "momentum", 0.9f));
    OK(nn_optimizer_step(sgd, w, g, 4));

    nn_optimizer_free(adam);
    nn_optimizer_free(sgd);
}

/* The audit's case: one optimizer compiled into two models was freed by both (use-after-free, then
 * a double free). The second model now refuses it; every optimizer is freed exactly once, which
 * ASan and LeakSanitizer check at exit. */
static void test_optimizer__one_owner(void **state)
{
    (void)state;
    nn_optimizer *shared;
    nn_model *a = small_model(&shared);
    nn_model *b;
    OK(nn_model_create(&b, 4));
    OK(nn_model_add_dense(b, 2, nn_activation_make(NN_ACT_LINEAR)));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_compile(b, NN_LOSS_SOFTMAX_CROSS_ENTROPY, shared));
    assert_non_null(strstr(nn_last_error(), "another model"));
    assert_ptr_equal(nn_model_get_optimizer(a), shared);
    assert_null(nn_model_get_optimizer(b));
    /* b is still uncompiled and can take an optimizer of its own. */
    nn_optimizer *own_b;
    OK(nn_optimizer_create_sgd(&own_b, NULL));
    OK(nn_model_compile(b, NN_LOSS_SOFTMAX_CROSS_ENTROPY, own_b));

    /* set_optimizer: another model's optimizer is refused; the model's own one is a no-op. */
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_set_optimizer(b, shared));
    assert_ptr_equal(nn_model_get_optimizer(b), own_b);
    OK(nn_model_set_optimizer(a, shared));
    assert_ptr_equal(nn_model_get_optimizer(a), shared);
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_set_optimizer(a, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_set_optimizer(NULL, shared));

    /* Compiling a compiled model fails, and the optimizer offered stays the caller's to free. */
    nn_optimizer *spare;
    OK(nn_optimizer_create_rmsprop(&spare, NULL));
    REFUSED_AS(NN_ERR_STATE, nn_model_compile(a, NN_LOSS_SOFTMAX_CROSS_ENTROPY, spare));
    assert_ptr_equal(nn_model_get_optimizer(a), shared);
    /* ... or the model can take it in place of its own, which it frees. */
    OK(nn_model_set_optimizer(a, spare));
    assert_ptr_equal(nn_model_get_optimizer(a), spare);
    /* The same optimizer compiled into the same model twice. */
    REFUSED(nn_model_compile(a, NN_LOSS_SOFTMAX_CROSS_ENTROPY, spare));

    /* A stray free of an owned optimizer is refused instead of leaving the model a dangling pointer. */
    nn_clear_error();
    nn_optimizer_free(own_b);
    assert_error_set();
    assert_ptr_equal(nn_model_get_optimizer(b), own_b);
    nn_rng *rng;
    OK(nn_rng_create(&rng, 1));
    OK(nn_model_init(b, rng));
    float xb[4] = {0.1f, 0.2f, 0.3f, 0.4f}, yb[1] = {1};
    nn_tensor x = hand_tensor(xb, 2, 1, 4, 1, 1), y = hand_tensor(yb, 1, 1, 1, 1, 1);
    OK(nn_model_train_step(b, &x, &y, NULL, NULL));

    /* set_optimizer on an uncompiled model: refused, the caller keeps it. */
    nn_model *c;
    nn_optimizer *for_c;
    OK(nn_model_create(&c, 4));
    OK(nn_optimizer_create_adagrad(&for_c, NULL));
    REFUSED_AS(NN_ERR_STATE, nn_model_set_optimizer(c, for_c));
    nn_optimizer_free(for_c);
    nn_model_free(c);

    nn_rng_free(rng);
    nn_model_free(a);
    nn_model_free(b);
}

/* ---- model.h ---- */

static void test_model__build_bad_arguments(void **state)
{
    (void)state;
    nn_model *m = (nn_model *)&m;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_create(NULL, 4));
    const int64_t bad_inputs[] = {0, -1, INT64_MIN, (int64_t)INT32_MAX + 1, INT64_MAX};
    for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++) {
        REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_create(&m, bad_inputs[i]));
        assert_null(m);
    }
    nn_model_free(NULL);

    OK(nn_model_create(&m, 4));
    nn_activation relu = nn_activation_make(NN_ACT_RELU), odd = {(nn_activation_kind)99, 0.0f};
    nn_activation nan_alpha = {NN_ACT_ELU, NAN};
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense(NULL, 3, relu));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense(m, 0, relu));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense(m, -3, relu));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense(m, INT64_MAX, relu));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense(m, 3, odd));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense(m, 3, nan_alpha));
    nn_dense_options o = NN_DENSE_OPTIONS_INIT;
    o.version = 0;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense_ex(m, 3, relu, &o));
    o = (nn_dense_options)NN_DENSE_OPTIONS_INIT;
    o.weight_init = (nn_init)42;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense_ex(m, 3, relu, &o));
    o = (nn_dense_options)NN_DENSE_OPTIONS_INIT;
    o.bias_init = (nn_init)-1;
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense_ex(m, 3, relu, &o));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_activation(NULL, relu));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_activation(m, odd));
    assert_int_equal(nn_model_layer_count(m), 0);

    /* compile: NULL, no layers, unknown loss, softmax over one output */
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_compile(NULL, NN_LOSS_MSE, NULL));
    REFUSED_AS(NN_ERR_STATE, nn_model_compile(m, NN_LOSS_MSE, NULL));
    OK(nn_model_add_dense(m, 1, relu));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_compile(m, (nn_loss_kind)7, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_compile(m, (nn_loss_kind)-1, NULL));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, NULL));
    for (int i = 1; i < NN_MODEL_MAX_LAYERS; i++) OK(nn_model_add_activation(m, relu));
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_activation(m, relu)); /* layer 65 */
    REFUSED_AS(NN_ERR_INVALID_ARGUMENT, nn_model_add_dense(m, 2, relu));
    OK(nn_model_compile(m, NN_LOSS_MSE, NULL));
    REFUSED_AS(NN_ERR_STATE, nn_model_compile(m, NN_LOSS_MSE, NULL));
    REFUSED_AS(NN_ERR_STATE, nn_model_add_dense(m, 3, relu));
    REFUSED_AS(NN_ERR_STATE, nn_model_add_activation(m, relu));
    nn_model_free(m);

    /* 2^31 - 1 inputs into 2^31 - 1 units: 2^62 parameters cannot be allocated. */
    OK(nn_model_create(&m, INT32_MAX));
    OK(nn_model_add_dense(m, INT32_MAX, relu));
    REFUSED(nn_model_compile(m, NN_LOSS_MSE, NULL));
    nn_model_free(m);
}

static void test_model__calls_out_of_order(void **state)
{
    (void)state;
    nn_model *m;
    OK(nn_model_create(&m, 4));
    OK(nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_LINEAR)));
    nn_rng *rng;
    OK(nn_rng_create(&rng, 5));
    float xb[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}, yb[2] = {0, 1}, ob[4] = {0};
    nn_tensor x = hand_tensor(xb, 2, 2, 4, 1, 1), y = hand_tensor(yb, 1, 2, 1, 1, 1), out = hand_tensor(ob, 2, 2, 2, 1, 1);
    int32_t classes[2];
    float *p, loss, acc;
    void *saved;
    size_t n;
    nn_optimizer *opt;
    OK(nn_optimizer_create_sgd(&opt, NULL));

    /* Everything before compile. */
    REFUSED_AS(NN_ERR_STATE, nn_model_init(m, rng));
    REFUSED_AS(NN_ERR_STATE, nn_model_reserve(m, 2));
    REFUSED_AS(NN_ERR_STATE, nn_model_forward(m, &out, &x));
    REFUSED_AS(NN_ERR_STATE, nn_model_predict(m, &out, &x));
    REFUSED_AS(NN_ERR_STATE, nn_model_predict_classes(m, classes, &x));
    REFUSED_AS(NN_ERR_STATE, nn_model_train_step(m, &x, &y, &loss, NULL));
    REFUSED_AS(NN_ERR_STATE, nn_model_evaluate(m, &x, &y, &loss, &acc));
    REFUSED_AS(NN_ERR_STATE, nn_model_params(m, &p, &n));
    REFUSED_AS(NN_ERR_STATE, nn_model_grads(m, &p, &n));
    REFUSED_AS(NN_ERR_STATE, nn_model_set_optimizer(m, opt));
    REFUSED_AS(NN_ERR_STATE, nn_model_save_buffer(m, &saved, &n, NULL));
    assert_null(nn_model_get_optimizer(m));

    /* Compiled without an optimizer: inference works, training does not. */
    OK(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, NULL));
    REFUSED_AS(NN_ERR_STATE, nn_model_train_step(m, &x, &y, &loss, NULL));
    /* Forward before init is defined: compile zeroes the parameters, so the logits are 0. */
    ob[0] = 5.0f;
    OK(nn_model_forward(m, &out, &x));
    for (int i = 0; i < 4; i++) assert_true(ob[i] == 0.0f);
    OK(nn_model_set_optimizer(m, opt));
    OK(nn_model_init(m, rng));
    OK(nn_model_train_step(m, &x, &y, &loss, NULL));

    nn_rng_free(rng);
    nn_model_free(m);
}

static void test_model__bad_arguments_after_compile(void **state)
{
    (void)state;
    nn_optimizer *opt;
    nn_model *m = small_model(&opt);
    nn_rng *rng;
    OK(nn_rng_create(&rng, 5));
    OK(nn_model_init(m, rng));
    float xb[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}, yb[4] = {0, 1, 0, 1}, ob[4] = {0};
    nn_tensor x = hand_tensor(xb, 2, 2, 4, 1, 1), y = hand_tensor(yb, 1, 2, 1, 1, 1);
    nn_tensor out = hand_tensor(ob, 2, 2, 2, 1, 1);
    nn_tensor nodata = hand_tensor(NULL, 2, 2, 4, 1, 1), x_rank1 = hand_tensor(xb, 1, 8, 1, 1, 1);
    nn_tensor x_r5 = hand_tensor(xb, 5, 2, 4, 1, 1), x_wide = hand_tensor(xb, 2, 1, 8, 1, 1);
    nn_tensor x_rows0 = hand_tensor(xb, 2, 0, 4, 1, 1), x_rowsneg = hand_tensor(xb, 2, -2, 4, 1, 1);
    nn_tensor x_rowsbig = hand_tensor(xb, 2, TWO_40, 4, 1, 1);
    nn_tensor out_bad = hand_tensor(ob, 2, 2, 3, 1, 1), y_bad = hand_tensor(yb, 1, 3, 1, 1, 1);
    float zb[4] = {0};
    nn_tensor y_r5 = hand_tensor(yb, 5, 2, 1, 1, 1), y_2d = hand_tensor(zb, 2, 2, 2, 1, 1);
    const nn_tensor *bad_x[] = {NULL, &nodata, &x_rank1, &x_r5, &x_wide, &x_rows0, &x_rowsneg, &x_rowsbig};
    int32_t classes[2];
    float loss, acc;

    REFUSED(nn_model_init(NULL, rng));
    REFUSED(nn_model_init(m, NULL));
    const int64_t bad_batch[] = {0, -1, INT64_MIN, (int64_t)INT32_MAX + 1, INT64_MAX};
    for (size_t i = 0; i < sizeof bad_batch / sizeof bad_batch[0]; i++) REFUSED(nn_model_reserve(m, bad_batch[i]));
    REFUSED(nn_model_reserve(NULL, 2));

    for (size_t i = 0; i < sizeof bad_x / sizeof bad_x[0]; i++) {
        REFUSED(nn_model_forward(m, &out, bad_x[i]));
        REFUSED(nn_model_predict(m, &out, bad_x[i]));
        REFUSED(nn_model_predict_classes(m, classes, bad_x[i]));
        REFUSED(nn_model_train_step(m, bad_x[i], &y, &loss, NULL));
        REFUSED(nn_model_evaluate(m, bad_x[i], &y, &loss, &acc));
    }
    REFUSED(nn_model_forward(NULL, &out, &x));
    REFUSED(nn_model_forward(m, NULL, &x));
    REFUSED(nn_model_forward(m, &out_bad, &x));
    REFUSED(nn_model_forward(m, &nodata, &x));
    REFUSED(nn_model_predict(NULL, &out, &x));
    REFUSED(nn_model_predict(m, NULL, &x));
    REFUSED(nn_model_predict_classes(NULL, classes, &x));
    REFUSED(nn_model_predict_classes(m, NULL, &x));
    REFUSED(nn_model_train_step(NULL, &x, &y, &loss, NULL));
    REFUSED(nn_model_train_step(m, &x, NULL, &loss, NULL));
    REFUSED(nn_model_train_step(m, &x, &y_bad, &loss, NULL));
    REFUSED(nn_model_train_step(m, &x, &y_r5, &loss, NULL));
    REFUSED(nn_model_train_step(m, &x, &y_2d, &loss, NULL)); /* rows of zeros are not distributions */
    REFUSED(nn_model_evaluate(NULL, &x, &y, &loss, &acc));
    REFUSED(nn_model_evaluate(m, &x, NULL, &loss, &acc));
    REFUSED(nn_model_evaluate(m, &x, &y_bad, &loss, &acc));
    const float bad_labels[] = {-1.0f, 2.0f, 0.5f, NAN, 1e30f};
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        yb[1] = bad_labels[i];
        REFUSED(nn_model_train_step(m, &x, &y, &loss, NULL));
        REFUSED(nn_model_evaluate(m, &x, &y, &loss, &acc));
    }
    yb[1] = 1.0f;
    OK(nn_model_train_step(m, &x, &y, NULL, NULL));
    OK(nn_model_evaluate(m, &x, &y, NULL, NULL));

    assert_int_equal(nn_model_input_features(NULL), 0);
    assert_int_equal(nn_model_output_features(NULL), 0);
    assert_int_equal(nn_model_param_count(NULL), 0);
    assert_int_equal(nn_model_layer_count(NULL), 0);
    assert_null(nn_model_get_optimizer(NULL));
    (void)nn_model_get_loss(NULL);

    nn_layer_info li = NN_LAYER_INFO_INIT, sizeless = {0};
    REFUSED(nn_model_layer_info(m, 0, &sizeless)); /* size not set: nothing is written */
    REFUSED(nn_model_layer_info(NULL, 0, &li));
    REFUSED(nn_model_layer_info(m, 0, NULL));
    REFUSED(nn_model_layer_info(m, -1, &li));
    REFUSED(nn_model_layer_info(m, 2, &li));
    REFUSED(nn_model_layer_info(m, INT_MAX, &li));
    REFUSED(nn_model_params(NULL, NULL, NULL));
    REFUSED(nn_model_grads(NULL, NULL, NULL));
    OK(nn_model_params(m, NULL, NULL));
    OK(nn_model_grads(m, NULL, NULL));

    char buf[16];
    size_t need = 0;
    REFUSED(nn_model_summary(NULL, buf, sizeof buf, &need));
    REFUSED(nn_model_summary(m, NULL, sizeof buf, &need));
    OK(nn_model_summary(m, NULL, 0, &need));
    assert_true(need > sizeof buf);
    OK(nn_model_summary(m, buf, sizeof buf, NULL));
    assert_int_equal(strlen(buf), sizeof buf - 1);
    OK(nn_model_summary(m, buf, 1, NULL));
    assert_string_equal(buf, "");

    nn_rng_free(rng);
    nn_model_free(m);
}

/* ---- io.h ---- */

static void test_io__save_and_load_bad_arguments(void **state)
{
    (void)state;
    nn_model *m = small_model(NULL), *loaded = (nn_model *)&loaded;
    char *dir = tu_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/m.nnm", dir);
    void *buf = NULL;
    size_t size = 0;

    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    REFUSED(nn_model_save(NULL, path, NULL));
    REFUSED(nn_model_save(m, NULL, NULL));
    REFUSED(nn_model_save(m, "", NULL));
    REFUSED(nn_model_save(m, dir, NULL)); /* a folder */
    REFUSED(nn_model_save(m, "/nonexistent-folder-for-nn-tests/m.nnm", NULL));
    so.version = 0;
    REFUSED(nn_model_save(m, path, &so));
    so = (nn_save_options)NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1; /* the model has none */
    REFUSED(nn_model_save(m, path, &so));
    so = (nn_save_options)NN_SAVE_OPTIONS_INIT;
    so.meta_count = 2; /* with NULL arrays */
    REFUSED(nn_model_save(m, path, &so));
    const char *keys[2] = {"ok", "bad key"}, *values[2] = {"v", NULL};
    so.meta_keys = keys;
    so.meta_values = values;
    REFUSED(nn_model_save(m, path, &so));
    const char *dup_keys[2] = {"k", "k"}, *vals[2] = {"a", "b"};
    so.meta_keys = dup_keys;
    so.meta_values = vals;
    REFUSED(nn_model_save(m, path, &so));

    REFUSED(nn_model_save_buffer(NULL, &buf, &size, NULL));
    REFUSED(nn_model_save_buffer(m, NULL, &size, NULL));
    REFUSED(nn_model_save_buffer(m, &buf, NULL, NULL));
    nn_buffer_free(NULL);

    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    REFUSED(nn_model_load(NULL, path, NULL));
    REFUSED(nn_model_load(&loaded, NULL, NULL));
    assert_null(loaded);
    REFUSED(nn_model_load(&loaded, "", NULL));
    REFUSED(nn_model_load(&loaded, dir, NULL));
    REFUSED(nn_model_load(&loaded, "/nonexistent-folder-for-nn-tests/m.nnm", NULL));
    REFUSED(nn_model_load(&loaded, "/dev/null", NULL));
    lo.version = 0;
    OK(nn_model_save(m, path, NULL));
    REFUSED(nn_model_load(&loaded, path, &lo));
    assert_null(loaded);

    OK(nn_model_save_buffer(m, &buf, &size, NULL));
    REFUSED(nn_model_load_buffer(NULL, buf, size, NULL));
    REFUSED(nn_model_load_buffer(&loaded, NULL, size, NULL));
    REFUSED(nn_model_load_buffer(&loaded, buf, 0, NULL));
    REFUSED(nn_model_load_buffer(&loaded, buf, size - 1, NULL));
    REFUSED(nn_model_load_buffer(&loaded, buf, size, &lo));
    REFUSED(nn_model_load_buffer(&loaded, "garbage", 7, NULL));
    OK(nn_model_load_buffer(&loaded, buf, size, NULL));
    nn_model_free(loaded);
    nn_buffer_free(buf);

    tu_rmtree(dir);
    free(dir);
    nn_model_free(m);
}

static void test_io__file_info_bad_arguments(void **state)
{
    (void)state;
    nn_model *m = small_model(NULL);
    void *buf;
    size_t size;
    OK(nn_model_save_buffer(m, &buf, &size, NULL));
    nn_file_info *info = (nn_file_info *)&info;

    REFUSED(nn_file_info_read(NULL, "/dev/null"));
    REFUSED(nn_file_info_read(&info, NULL));
    assert_null(info);
    REFUSED(nn_file_info_read(&info, ""));
    REFUSED(nn_file_info_read(&info, "/"));
    REFUSED(nn_file_info_read(&info, "/nonexistent-folder-for-nn-tests/m.nnm"));
    REFUSED(nn_file_info_read_buffer(NULL, buf, size));
    REFUSED(nn_file_info_read_buffer(&info, NULL, size));
    REFUSED(nn_file_info_read_buffer(&info, buf, 0));
    REFUSED(nn_file_info_read_buffer(&info, buf, 3));
    nn_file_info_free(NULL);

    unsigned major = 7, minor = 7;
    nn_file_info_format_version(NULL, &major, &minor);
    assert_int_equal(nn_file_info_layer_count(NULL), 0);
    assert_int_equal(nn_file_info_input_features(NULL), 0);
    assert_int_equal(nn_file_info_param_count(NULL), 0);
    (void)nn_file_info_loss(NULL);
    assert_int_equal(nn_file_info_optimizer(NULL), -1);
    assert_int_equal(nn_file_info_epoch(NULL), -1);
    assert_int_equal(nn_file_info_has_rng(NULL), 0);
    assert_int_equal(nn_file_info_meta_count(NULL), 0);
    assert_null(nn_file_info_meta_get(NULL, "x"));
    nn_layer_info li = NN_LAYER_INFO_INIT;
    const char *k, *v;
    REFUSED(nn_file_info_layer(NULL, 0, &li));
    REFUSED(nn_file_info_meta(NULL, 0, &k, &v));

    OK(nn_file_info_read_buffer(&info, buf, size));
    nn_file_info_format_version(info, NULL, NULL);
    REFUSED(nn_file_info_layer(info, -1, &li));
    REFUSED(nn_file_info_layer(info, 2, &li));
    REFUSED(nn_file_info_layer(info, INT_MIN, &li));
    REFUSED(nn_file_info_layer(info, 0, NULL));
    REFUSED(nn_file_info_meta(info, nn_file_info_meta_count(info), &k, &v));
    REFUSED(nn_file_info_meta(info, SIZE_MAX, &k, &v));
    REFUSED(nn_file_info_meta(info, 0, NULL, NULL));
    assert_null(nn_file_info_meta_get(info, NULL));
    assert_null(nn_file_info_meta_get(info, ""));
    nn_file_info_free(info);

    nn_buffer_free(buf);
    nn_model_free(m);
}

/* ---- data.h ---- */

static void test_data__bad_arguments(void **state)
{
    (void)state;
    uint8_t images[3 * 2 * 2] = {0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, labels[3] = {0, 1, 2};
    nn_dataset *ds = (nn_dataset *)&ds, *sub = (nn_dataset *)&sub;
    REFUSED(nn_dataset_load_idx(NULL, "/dev/null", "/dev/null"));
    REFUSED(nn_dataset_load_idx(&ds, NULL, "/dev/null"));
    REFUSED(nn_dataset_load_idx(&ds, "/dev/null", NULL));
    REFUSED(nn_dataset_load_idx(&ds, "", ""));
    REFUSED(nn_dataset_load_idx(&ds, "/", "/"));
    REFUSED(nn_dataset_load_idx(&ds, "/nonexistent-folder-for-nn-tests/i", "/nonexistent-folder-for-nn-tests/l"));
    REFUSED(nn_dataset_load_idx(&ds, "/dev/null", "/dev/null"));

    REFUSED(nn_dataset_create(NULL, 3, 2, 2, images, labels));
    REFUSED(nn_dataset_create(&ds, 3, 2, 2, NULL, labels));
    REFUSED(nn_dataset_create(&ds, 3, 2, 2, images, NULL));
    const int64_t bad[] = {0, -1, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        REFUSED(nn_dataset_create(&ds, bad[i], 2, 2, images, labels));
        REFUSED(nn_dataset_create(&ds, 3, bad[i], 2, images, labels));
        REFUSED(nn_dataset_create(&ds, 3, 2, bad[i], images, labels));
    }
    assert_null(ds);
    OK(nn_dataset_create(&ds, 3, 2, 2, images, labels));

    REFUSED(nn_dataset_subset(NULL, ds, 0, 1));
    REFUSED(nn_dataset_subset(&sub, NULL, 0, 1));
    REFUSED(nn_dataset_subset(&sub, ds, -1, 1));
    REFUSED(nn_dataset_subset(&sub, ds, 0, 0));
    REFUSED(nn_dataset_subset(&sub, ds, 0, -1));
    REFUSED(nn_dataset_subset(&sub, ds, 2, 2));
    REFUSED(nn_dataset_subset(&sub, ds, 3, 1));
    REFUSED(nn_dataset_subset(&sub, ds, 1, INT64_MAX));
    REFUSED(nn_dataset_subset(&sub, ds, INT64_MAX, INT64_MAX));
    REFUSED(nn_dataset_subset(&sub, ds, INT64_MIN, 2));

    nn_dataset_free(NULL);
    assert_int_equal(nn_dataset_count(NULL), 0);
    assert_int_equal(nn_dataset_features(NULL), 0);
    assert_int_equal(nn_dataset_classes(NULL), 0);
    assert_null(nn_dataset_images(NULL));
    assert_null(nn_dataset_labels(NULL));
    int64_t rows = 9, cols = 9;
    nn_dataset_image_size(NULL, &rows, &cols);
    nn_dataset_image_size(ds, NULL, NULL);

    float xb[3 * 4], yb[3];
    nn_tensor x = hand_tensor(xb, 2, 3, 4, 1, 1), y = hand_tensor(yb, 1, 3, 1, 1, 1);
    nn_tensor x_small = hand_tensor(xb, 2, 1, 4, 1, 1), x_wide = hand_tensor(xb, 2, 3, 5, 1, 1);
    nn_tensor x_r5 = hand_tensor(xb, 5, 3, 4, 1, 1), x_nodata = hand_tensor(NULL, 2, 3, 4, 1, 1);
    nn_tensor x_neg = hand_tensor(xb, 2, -3, 4, 1, 1), y_r5 = hand_tensor(yb, 5, 3, 1, 1, 1);
    nn_tensor y_small = hand_tensor(yb, 1, 1, 1, 1, 1), y_nodata = hand_tensor(NULL, 1, 3, 1, 1, 1);
    const uint32_t idx[3] = {2, 0, 1}, bad_idx[3] = {0, 3, UINT32_MAX};
    REFUSED(nn_dataset_gather(NULL, idx, 3, &x, &y));
    REFUSED(nn_dataset_gather(ds, idx, 3, NULL, &y));
    REFUSED(nn_dataset_gather(ds, idx, 3, &x, NULL));
    REFUSED(nn_dataset_gather(ds, bad_idx, 3, &x, &y));
    REFUSED(nn_dataset_gather(ds, idx, -1, &x, &y));
    REFUSED(nn_dataset_gather(ds, idx, INT64_MIN, &x, &y));
    REFUSED(nn_dataset_gather(ds, NULL, 4, &x, &y));
    const nn_tensor *bad_x[] = {&x_small, &x_wide, &x_r5, &x_nodata, &x_neg};
    for (size_t i = 0; i < sizeof bad_x / sizeof bad_x[0]; i++) {
        nn_tensor t = *bad_x[i];
        REFUSED(nn_dataset_gather(ds, idx, 3, &t, &y));
        t = *bad_x[i];
        REFUSED(nn_dataset_slice(ds, 0, 3, &t, &y));
    }
    const nn_tensor *bad_y[] = {&y_r5, &y_small, &y_nodata};
    for (size_t i = 0; i < sizeof bad_y / sizeof bad_y[0]; i++) {
        nn_tensor t = *bad_y[i];
        REFUSED(nn_dataset_gather(ds, idx, 3, &x, &t));
        t = *bad_y[i];
        REFUSED(nn_dataset_slice(ds, 0, 3, &x, &t));
    }
    REFUSED(nn_dataset_slice(NULL, 0, 1, &x, &y));
    REFUSED(nn_dataset_slice(ds, 0, 1, NULL, &y));
    REFUSED(nn_dataset_slice(ds, 0, 1, &x, NULL));
    REFUSED(nn_dataset_slice(ds, -1, 1, &x, &y));
    REFUSED(nn_dataset_slice(ds, 0, -1, &x, &y));
    REFUSED(nn_dataset_slice(ds, 2, 2, &x, &y));
    REFUSED(nn_dataset_slice(ds, 3, 1, &x, &y));
    REFUSED(nn_dataset_slice(ds, 1, INT64_MAX, &x, &y));
    REFUSED(nn_dataset_slice(ds, INT64_MAX, INT64_MAX, &x, &y));
    OK(nn_dataset_gather(ds, idx, 3, &x, &y));
    assert_true(yb[0] == 2.0f);
    nn_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status__unknown_codes_and_messages),
        cmocka_unit_test(test_runtime__bad_thread_counts),
        cmocka_unit_test(test_tensor__create_and_view_bad_arguments),
        cmocka_unit_test(test_tensor__numel_of_hand_built_tensors),
        cmocka_unit_test(test_tensor__fill_copy_reshape_hand_built),
        cmocka_unit_test(test_rng__null_generator),
        cmocka_unit_test(test_init__bad_arguments),
        cmocka_unit_test(test_init__fans_near_int64_max),
        cmocka_unit_test(test_activation__bad_arguments),
        cmocka_unit_test(test_dense__bad_tensors),
        cmocka_unit_test(test_loss__bad_arguments),
        cmocka_unit_test(test_optimizer__create_bad_options),
        cmocka_unit_test(test_optimizer__calls_out_of_order_and_bad_sizes),
        cmocka_unit_test(test_optimizer__one_owner),
        cmocka_unit_test(test_model__build_bad_arguments),
        cmocka_unit_test(test_model__calls_out_of_order),
        cmocka_unit_test(test_model__bad_arguments_after_compile),
        cmocka_unit_test(test_io__save_and_load_bad_arguments),
        cmocka_unit_test(test_io__file_info_bad_arguments),
        cmocka_unit_test(test_data__bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
