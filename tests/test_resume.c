/* Resuming training from a saved file is exact: 2 epochs, save (with optimizer and generator state),
 * load, 1 more epoch, gives bit for bit the weights of an uninterrupted 3-epoch run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/nn.h"
#include "testutil.h"

enum { ROWS = 96, F = 8, CLASSES = 3, BATCH = 16 };

typedef struct data {
    float x[ROWS * F], y[ROWS];
} data;

static void make_data(data *d)
{
    nn_rng *rng;
    assert_int_equal(nn_rng_create(&rng, 99), NN_OK);
    tu_fill_uniform(d->x, ROWS * F, -1, 1, rng);
    for (int i = 0; i < ROWS; i++) d->y[i] = (float)(i % CLASSES);
    nn_rng_free(rng);
}

/* With `regularised`, the same examples as (2, 2, 2) images, batch norm per channel, flatten, and
 * batch norm and dropout after the hidden layer: masks and moving statistics must resume too. */
static int regularised;

static nn_model *make_model(const char *opt_name, nn_rng *rng)
{
    nn_model *m;
    nn_optimizer *opt;
    if (regularised) {
        int64_t shape[3] = {2, 2, 2};
        assert_int_equal(nn_model_create_shape(&m, 3, shape), NN_OK);
        assert_int_equal(nn_model_add_batchnorm(m, NULL), NN_OK);
        assert_int_equal(nn_model_add_flatten(m), NN_OK);
    } else {
        assert_int_equal(nn_model_create(&m, F), NN_OK);
    }
    assert_int_equal(nn_model_add_dense(m, 12, nn_activation_make(NN_ACT_TANH)), NN_OK);
    if (regularised) {
        nn_batchnorm_options bo = NN_BATCHNORM_OPTIONS_INIT;
        bo.momentum = 0.8f; /* moves visibly within a few epochs */
        assert_int_equal(nn_model_add_batchnorm(m, &bo), NN_OK);
        assert_int_equal(nn_model_add_dropout(m, 0.3f), NN_OK);
    }
    assert_int_equal(nn_model_add_dense(m, CLASSES, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_optimizer_create_from_name(&opt, opt_name, 0), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt), NN_OK);
    assert_int_equal(nn_model_init(m, rng), NN_OK);
    return m;
}

/* One epoch: a fresh shuffle from rng, then mini-batches (the last one partial). */
static void epoch(nn_model *m, nn_rng *rng, const data *d)
{
    uint32_t order[ROWS];
    float bx[BATCH * F], by[BATCH];
    for (int i = 0; i < ROWS; i++) order[i] = (uint32_t)i;
    assert_int_equal(nn_rng_shuffle(rng, order, ROWS), NN_OK);
    for (int s = 0; s < ROWS; s += BATCH - 3) {
        int b = ROWS - s < BATCH - 3 ? ROWS - s : BATCH - 3;
        for (int i = 0; i < b; i++) {
            memcpy(bx + i * F, d->x + order[s + i] * F, F * sizeof(float));
            by[i] = d->y[order[s + i]];
        }
        nn_tensor x, y;
        int64_t xs[2] = {b, F}, ys[1] = {b};
        nn_tensor_view(&x, bx, 2, xs);
        nn_tensor_view(&y, by, 1, ys);
        assert_int_equal(nn_model_train_step(m, &x, &y, NULL, NULL), NN_OK);
    }
}

static void same_buffers(nn_model *a, nn_model *b)
{
    size_t n = (size_t)nn_model_buffer_count(a);
    assert_int_equal(n, nn_model_buffer_count(b));
    if (n == 0) return;
    float *va = malloc(n * sizeof *va), *vb = malloc(n * sizeof *vb);
    assert_int_equal(nn_model_get_buffers(a, va, n), NN_OK);
    assert_int_equal(nn_model_get_buffers(b, vb, n), NN_OK);
    assert_memory_equal(va, vb, n * sizeof *va);
    free(va);
    free(vb);
}

static void check_resume_is_exact(const char *opt_name)
{
    data d;
    make_data(&d);

    nn_rng *rng_a;
    assert_int_equal(nn_rng_create(&rng_a, 7), NN_OK);
    nn_model *straight = make_model(opt_name, rng_a);
    for (int e = 0; e < 3; e++) epoch(straight, rng_a, &d);

    nn_rng *rng_b;
    assert_int_equal(nn_rng_create(&rng_b, 7), NN_OK);
    nn_model *first = make_model(opt_name, rng_b);
    for (int e = 0; e < 2; e++) epoch(first, rng_b, &d);
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.rng = rng_b;
    so.epoch = 2;
    void *buf;
    size_t size;
    assert_int_equal(nn_model_save_buffer(first, &buf, &size, &so), NN_OK);
    nn_model_free(first);
    nn_rng_free(rng_b);

    /* A new process, in effect: nothing survives but the bytes. */
    nn_rng *rng_c;
    assert_int_equal(nn_rng_create(&rng_c, 12345), NN_OK);
    nn_model *resumed;
    int64_t saved_epoch = -1;
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.rng = rng_c;
    lo.epoch = &saved_epoch;
    assert_int_equal(nn_model_load_buffer(&resumed, buf, size, &lo), NN_OK);
    nn_buffer_free(buf);
    assert_int_equal(saved_epoch, 2);
    assert_non_null(nn_model_get_optimizer(resumed));
    assert_int_equal(nn_optimizer_get_iterations(nn_model_get_optimizer(resumed)),
                     2 * ((ROWS + BATCH - 4) / (BATCH - 3)));
    epoch(resumed, rng_c, &d);

    float *pa, *pb;
    size_t na, nb;
    assert_int_equal(nn_model_params(straight, &pa, &na), NN_OK);
    assert_int_equal(nn_model_params(resumed, &pb, &nb), NN_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na * sizeof(float));
    same_buffers(straight, resumed);

    nn_model_free(straight);
    nn_model_free(resumed);
    nn_rng_free(rng_a);
    nn_rng_free(rng_c);
}

static void test_resume__dropout_and_batchnorm_are_bit_identical(void **s)
{
    (void)s;
    regularised = 1;
    check_resume_is_exact("adam");
    check_resume_is_exact("sgd");
    regularised = 0;
}

static void test_resume__adam_is_bit_identical(void **s) { (void)s; check_resume_is_exact("adam"); }
static void test_resume__rmsprop_is_bit_identical(void **s) { (void)s; check_resume_is_exact("rmsprop"); }
static void test_resume__sgd_is_bit_identical(void **s) { (void)s; check_resume_is_exact("sgd"); }
static void test_resume__adagrad_is_bit_identical(void **s) { (void)s; check_resume_is_exact("adagrad"); }

/* Dropping the optimizer state on save breaks exactness for Adam: proof that the state matters and
 * that the comparison above is sensitive to it. */
static void test_resume__without_optimizer_state_differs(void **s)
{
    (void)s;
    data d;
    make_data(&d);
    nn_rng *ra, *rb;
    nn_rng_create(&ra, 7);
    nn_rng_create(&rb, 7);
    nn_model *straight = make_model("adam", ra), *first = make_model("adam", rb);
    for (int e = 0; e < 3; e++) epoch(straight, ra, &d);
    for (int e = 0; e < 2; e++) epoch(first, rb, &d);
    nn_save_options so = NN_SAVE_OPTIONS_INIT; /* weights only */
    void *buf;
    size_t size;
    assert_int_equal(nn_model_save_buffer(first, &buf, &size, &so), NN_OK);
    nn_model *loaded;
    assert_int_equal(nn_model_load_buffer(&loaded, buf, size, NULL), NN_OK);
    nn_buffer_free(buf);
    assert_null(nn_model_get_optimizer(loaded));
    nn_optimizer *fresh;
    assert_int_equal(nn_optimizer_create_adam(&fresh, NULL), NN_OK);
    assert_int_equal(nn_model_set_optimizer(loaded, fresh), NN_OK);
    epoch(loaded, rb, &d);
    float *pa, *pb;
    size_t n;
    nn_model_params(straight, &pa, &n);
    nn_model_params(loaded, &pb, &n);
    assert_memory_not_equal(pa, pb, n * sizeof(float));
    nn_model_free(straight);
    nn_model_free(first);
    nn_model_free(loaded);
    nn_rng_free(ra);
    nn_rng_free(rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume__adam_is_bit_identical),
        cmocka_unit_test(test_resume__rmsprop_is_bit_identical),
        cmocka_unit_test(test_resume__sgd_is_bit_identical),
        cmocka_unit_test(test_resume__adagrad_is_bit_identical),
        cmocka_unit_test(test_resume__dropout_and_batchnorm_are_bit_identical),
        cmocka_unit_test(test_resume__without_optimizer_state_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
