/* Tensor tests: creation, views, reshape, fill, copy, and every way a shape can be wrong. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nn/nn.h"

static void test_create__zero_filled_with_shape(void **state)
{
    (void)state;
    nn_tensor *t;
    const int64_t shape[2] = {3, 4};
    assert_int_equal(nn_tensor_create(&t, 2, shape), NN_OK);
    assert_non_null(t->data);
    assert_true(t->owns_data);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->shape[0], 3);
    assert_int_equal(t->shape[1], 4);
    assert_int_equal(t->shape[2], 1); /* unused entries are 1 */
    assert_int_equal(t->shape[3], 1);
    assert_int_equal(nn_tensor_numel(t), 12);
    for (int i = 0; i < 12; i++) assert_true(t->data[i] == 0.0f);
    t->data[11] = 5.0f; /* the whole extent is writable (ASan checks the bound) */
    nn_tensor_free(t);
}

static void test_create__scalar_and_max_rank(void **state)
{
    (void)state;
    nn_tensor *t;
    assert_int_equal(nn_tensor_create(&t, 0, NULL), NN_OK);
    assert_int_equal(t->rank, 0);
    assert_int_equal(nn_tensor_numel(t), 1);
    assert_true(t->data[0] == 0.0f);
    for (int i = 0; i < NN_TENSOR_MAX_RANK; i++) assert_int_equal(t->shape[i], 1);
    nn_tensor_free(t);

    const int64_t shape[NN_TENSOR_MAX_RANK] = {2, 3, 4, 5};
    assert_int_equal(nn_tensor_create(&t, NN_TENSOR_MAX_RANK, shape), NN_OK);
    assert_int_equal(nn_tensor_numel(t), 120);
    assert_int_equal(t->shape[3], 5);
    nn_tensor_free(t);
}

static void test_create__rejects_bad_rank(void **state)
{
    (void)state;
    static int dummy;
    nn_tensor *t = (nn_tensor *)&dummy;
    const int64_t shape[NN_TENSOR_MAX_RANK + 1] = {1, 1, 1, 1, 1};
    assert_int_equal(nn_tensor_create(&t, NN_TENSOR_MAX_RANK + 1, shape), NN_ERR_INVALID_ARGUMENT);
    assert_null(t);
    assert_non_null(strstr(nn_last_error(), "rank"));
    assert_int_equal(nn_tensor_create(&t, -1, shape), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_create(&t, 2, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_create(NULL, 1, shape), NN_ERR_INVALID_ARGUMENT);
}

static void test_create__rejects_non_positive_extents(void **state)
{
    (void)state;
    nn_tensor *t;
    const int64_t zero[2] = {3, 0};
    assert_int_equal(nn_tensor_create(&t, 2, zero), NN_ERR_INVALID_ARGUMENT);
    assert_null(t);
    assert_non_null(strstr(nn_last_error(), "dimension 1"));
    const int64_t negative[3] = {2, -4, 2};
    assert_int_equal(nn_tensor_create(&t, 3, negative), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "-4"));
}

/* Sizes that overflow int64 or size_t bytes must be refused before any allocation is attempted. */
static void test_create__rejects_overflowing_shapes(void **state)
{
    (void)state;
    nn_tensor *t;
    const int64_t huge[2] = {INT64_MAX, 2};
    assert_int_equal(nn_tensor_create(&t, 2, huge), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "overflow"));
    const int64_t wrap[4] = {INT64_C(1) << 16, INT64_C(1) << 16, INT64_C(1) << 16, INT64_C(1) << 16};
    assert_int_equal(nn_tensor_create(&t, 4, wrap), NN_ERR_INVALID_ARGUMENT); /* 2^64 elements */
    /* 2^62 floats fit in int64 but their byte count does not fit in size_t */
    const int64_t bytes[2] = {INT64_C(1) << 31, INT64_C(1) << 31};
    assert_int_equal(nn_tensor_create(&t, 2, bytes), NN_ERR_INVALID_ARGUMENT);
    float x = 0.0f;
    nn_tensor v;
    assert_int_equal(nn_tensor_view(&v, &x, 2, huge), NN_ERR_INVALID_ARGUMENT);
}

static void test_free__null_and_views_are_harmless(void **state)
{
    (void)state;
    nn_tensor_free(NULL);
    float data[6] = {0};
    nn_tensor v;
    const int64_t shape[2] = {2, 3};
    assert_int_equal(nn_tensor_view(&v, data, 2, shape), NN_OK);
    nn_tensor_free(&v); /* releases nothing: v and data live on the stack */
    assert_true(v.data == data);
}

static void test_view__borrows_without_copy(void **state)
{
    (void)state;
    float data[6] = {1, 2, 3, 4, 5, 6};
    nn_tensor v;
    const int64_t shape[2] = {2, 3};
    assert_int_equal(nn_tensor_view(&v, data, 2, shape), NN_OK);
    assert_true(v.data == data);
    assert_false(v.owns_data);
    assert_int_equal(v.rank, 2);
    assert_int_equal(nn_tensor_numel(&v), 6);
    v.data[4] = 50.0f;
    assert_true(data[4] == 50.0f);
    assert_int_equal(nn_tensor_view(&v, NULL, 2, shape), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_view(NULL, data, 2, shape), NN_ERR_INVALID_ARGUMENT);
    const int64_t bad[2] = {2, 0};
    assert_int_equal(nn_tensor_view(&v, data, 2, bad), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_view(&v, data, 5, shape), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_numel(NULL), 0);
}

static void test_reshape__keeps_data_checks_count(void **state)
{
    (void)state;
    nn_tensor *t;
    const int64_t shape[2] = {3, 4};
    assert_int_equal(nn_tensor_create(&t, 2, shape), NN_OK);
    for (int i = 0; i < 12; i++) t->data[i] = (float)i;
    float *data = t->data;

    const int64_t flat[1] = {12};
    assert_int_equal(nn_tensor_reshape(t, 1, flat), NN_OK);
    assert_int_equal(t->rank, 1);
    assert_int_equal(t->shape[0], 12);
    assert_int_equal(t->shape[1], 1); /* the old extent does not linger */
    assert_true(t->data == data);

    const int64_t cube[3] = {2, 3, 2};
    assert_int_equal(nn_tensor_reshape(t, 3, cube), NN_OK);
    assert_int_equal(nn_tensor_numel(t), 12);
    for (int i = 0; i < 12; i++) assert_true(t->data[i] == (float)i);

    const int64_t wrong[2] = {5, 2};
    assert_int_equal(nn_tensor_reshape(t, 2, wrong), NN_ERR_SHAPE);
    assert_non_null(strstr(nn_last_error(), "12"));
    assert_int_equal(t->rank, 3); /* unchanged after the refusal */
    assert_int_equal(t->shape[2], 2);
    const int64_t bad[2] = {-3, -4};
    assert_int_equal(nn_tensor_reshape(t, 2, bad), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_reshape(t, 7, cube), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_reshape(NULL, 1, flat), NN_ERR_INVALID_ARGUMENT);
    nn_tensor_free(t);

    /* one element: to a scalar and back */
    const int64_t one[2] = {1, 1};
    assert_int_equal(nn_tensor_create(&t, 2, one), NN_OK);
    assert_int_equal(nn_tensor_reshape(t, 0, NULL), NN_OK);
    assert_int_equal(t->rank, 0);
    assert_int_equal(nn_tensor_reshape(t, 2, one), NN_OK);
    nn_tensor_free(t);
}

static void test_fill__every_element(void **state)
{
    (void)state;
    nn_tensor *t;
    const int64_t shape[3] = {2, 3, 5};
    assert_int_equal(nn_tensor_create(&t, 3, shape), NN_OK);
    assert_int_equal(nn_tensor_fill(t, -2.5f), NN_OK);
    for (int i = 0; i < 30; i++) assert_true(t->data[i] == -2.5f);
    nn_tensor_free(t);

    float data[5] = {9, 9, 9, 9, 9};
    nn_tensor v;
    const int64_t four[1] = {4};
    assert_int_equal(nn_tensor_view(&v, data, 1, four), NN_OK);
    assert_int_equal(nn_tensor_fill(&v, 1.0f), NN_OK);
    assert_true(data[3] == 1.0f);
    assert_true(data[4] == 9.0f); /* nothing past the view's extent */
    assert_int_equal(nn_tensor_fill(NULL, 1.0f), NN_ERR_INVALID_ARGUMENT);
}

static void test_copy__same_shape_only(void **state)
{
    (void)state;
    nn_tensor *a, *b;
    const int64_t s34[2] = {3, 4};
    assert_int_equal(nn_tensor_create(&a, 2, s34), NN_OK);
    assert_int_equal(nn_tensor_create(&b, 2, s34), NN_OK);
    for (int i = 0; i < 12; i++) a->data[i] = (float)(i * i) - 3.0f;
    assert_int_equal(nn_tensor_copy(b, a), NN_OK);
    assert_memory_equal(a->data, b->data, 12 * sizeof(float));
    assert_true(a->data != b->data);

    /* same element count, different shape: refused, destination untouched */
    nn_tensor *c;
    const int64_t s26[2] = {2, 6};
    assert_int_equal(nn_tensor_create(&c, 2, s26), NN_OK);
    assert_false(nn_tensor_same_shape(a, c));
    assert_int_equal(nn_tensor_copy(c, a), NN_ERR_SHAPE);
    for (int i = 0; i < 12; i++) assert_true(c->data[i] == 0.0f);
    const int64_t s12[1] = {12};
    nn_tensor flat;
    assert_int_equal(nn_tensor_view(&flat, c->data, 1, s12), NN_OK);
    assert_int_equal(nn_tensor_copy(&flat, a), NN_ERR_SHAPE); /* rank differs */

    assert_int_equal(nn_tensor_copy(NULL, a), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_copy(b, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_tensor_copy(a, a), NN_OK); /* onto itself is a no-op */
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(c);
}

static void test_same_shape__rank_extents_null(void **state)
{
    (void)state;
    float d[24] = {0};
    nn_tensor a, b;
    const int64_t s234[3] = {2, 3, 4};
    const int64_t s243[3] = {2, 4, 3};
    assert_int_equal(nn_tensor_view(&a, d, 3, s234), NN_OK);
    assert_int_equal(nn_tensor_view(&b, d, 3, s234), NN_OK);
    assert_true(nn_tensor_same_shape(&a, &b));
    assert_int_equal(nn_tensor_view(&b, d, 3, s243), NN_OK);
    assert_false(nn_tensor_same_shape(&a, &b));
    const int64_t s64[2] = {6, 4};
    assert_int_equal(nn_tensor_view(&b, d, 2, s64), NN_OK);
    assert_false(nn_tensor_same_shape(&a, &b));
    assert_false(nn_tensor_same_shape(&a, NULL));
    assert_false(nn_tensor_same_shape(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create__zero_filled_with_shape),
        cmocka_unit_test(test_create__scalar_and_max_rank),
        cmocka_unit_test(test_create__rejects_bad_rank),
        cmocka_unit_test(test_create__rejects_non_positive_extents),
        cmocka_unit_test(test_create__rejects_overflowing_shapes),
        cmocka_unit_test(test_free__null_and_views_are_harmless),
        cmocka_unit_test(test_view__borrows_without_copy),
        cmocka_unit_test(test_reshape__keeps_data_checks_count),
        cmocka_unit_test(test_fill__every_element),
        cmocka_unit_test(test_copy__same_shape_only),
        cmocka_unit_test(test_same_shape__rank_extents_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
