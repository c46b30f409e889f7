/* nn-mnist's validation split (tools/nn-mnist/split.c): stratified, disjoint, covering, determined by
 * its seed alone. */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "split.h"

/* n examples whose labels cycle unevenly: class k has about (k + 1) shares, so rounding per class
 * shows. */
static nn_dataset *labelled(int64_t n)
{
    uint8_t *img = calloc((size_t)n * 4, 1), *lab = malloc((size_t)n);
    for (int64_t i = 0, k = 0, left = 1; i < n; i++) {
        lab[i] = (uint8_t)k;
        if (--left == 0) {
            k = (k + 1) % 10;
            left = k + 1;
        }
    }
    nn_dataset *ds = NULL;
    assert_int_equal(nn_dataset_create(&ds, n, 2, 2, img, lab), NN_OK);
    free(img);
    free(lab);
    return ds;
}

static void stratified_disjoint_covering(void **state)
{
    (void)state;
    const int64_t n = 1003;
    nn_dataset *ds = labelled(n);
    const uint8_t *lab = nn_dataset_labels(ds);
    uint32_t *fit, *val;
    int64_t nf, nv;
    char err[256];
    assert_int_equal(nnm_split_stratified(ds, n, 0.1, 42, &fit, &nf, &val, &nv, err, sizeof err), 0);
    assert_int_equal(nf + nv, n);
    int64_t count[10] = {0}, held[10] = {0};
    uint8_t *seen = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++) count[lab[i]]++;
    for (int64_t i = 0; i < nv; i++) {
        assert_true(val[i] < n);
        assert_true(i == 0 || val[i] > val[i - 1]); /* ascending, so no repeats */
        held[lab[val[i]]]++;
        seen[val[i]]++;
    }
    for (int64_t i = 0; i < nf; i++) {
        assert_true(i == 0 || fit[i] > fit[i - 1]);
        seen[fit[i]]++;
    }
    for (int64_t i = 0; i < n; i++) assert_int_equal(seen[i], 1);
    /* Each class holds out round(0.1 x its count): the split keeps the classes' proportions. */
    for (int k = 0; k < 10; k++) assert_int_equal(held[k], llround(0.1 * (double)count[k]));
    free(seen);
    free(fit);
    free(val);
    nn_dataset_free(ds);
}

static void seed_decides(void **state)
{
    (void)state;
    const int64_t n = 500;
    nn_dataset *ds = labelled(n);
    uint32_t *f1, *v1, *f2, *v2, *f3, *v3;
    int64_t nf1, nv1, nf2, nv2, nf3, nv3;
    char err[256];
    assert_int_equal(nnm_split_stratified(ds, n, 0.2, 7, &f1, &nf1, &v1, &nv1, err, sizeof err), 0);
    assert_int_equal(nnm_split_stratified(ds, n, 0.2, 7, &f2, &nf2, &v2, &nv2, err, sizeof err), 0);
    assert_int_equal(nnm_split_stratified(ds, n, 0.2, 8, &f3, &nf3, &v3, &nv3, err, sizeof err), 0);
    assert_int_equal(nv1, nv2);
    assert_memory_equal(v1, v2, (size_t)nv1 * sizeof *v1);
    assert_int_equal(nv1, nv3);
    assert_true(memcmp(v1, v3, (size_t)nv1 * sizeof *v1) != 0);
    free(f1), free(v1), free(f2), free(v2), free(f3), free(v3);
    nn_dataset_free(ds);
}

static void empty_sides_refused(void **state)
{
    (void)state;
    nn_dataset *ds = labelled(30);
    uint32_t *fit = (uint32_t *)1, *val = (uint32_t *)1;
    int64_t nf, nv;
    char err[256] = "";
    /* 30 images over 10 classes, 1% of each rounds to none. */
    assert_int_equal(nnm_split_stratified(ds, 30, 0.01, 1, &fit, &nf, &val, &nv, err, sizeof err), -1);
    assert_non_null(strstr(err, "no image to validate on"));
    assert_null(fit);
    assert_null(val);
    assert_int_equal(nnm_split_stratified(ds, 30, 1.0, 1, &fit, &nf, &val, &nv, err, sizeof err), -1);
    assert_int_equal(nnm_split_stratified(ds, 31, 0.5, 1, &fit, &nf, &val, &nv, err, sizeof err), -1);
    nn_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stratified_disjoint_covering),
        cmocka_unit_test(seed_decides),
        cmocka_unit_test(empty_sides_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
