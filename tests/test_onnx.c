/* Tests of the ONNX export and import (include/nn/onnx.h, docs/onnx.md): round trips of every layer
 * kind and activation, options and states refused, damaged and hostile files refused cleanly.
 * Hostile files are written here by a small protobuf encoder from ONNX's field numbers, not with the
 * library's generated code. The comparisons with other runtimes (onnx.checker, OpenCV, PyTorch) are in
 * tests/onnx/test_onnx.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "nn/nn.h"
#include "onnx/models.h"
#include "testutil.h"

#define OK(call) assert_int_equal((call), NN_OK)

#ifndef NN_TEST_HAVE_ONNX
#define NN_TEST_HAVE_ONNX 0
#endif

/* ---------------------------------------------------------------- helpers */

static float *random_inputs(const nn_model *m, int64_t rows, uint64_t seed)
{
    nn_rng *rng;
    OK(nn_rng_create(&rng, seed));
    size_t n = (size_t)(rows * nn_model_input_features(m));
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    tu_fill_uniform(x, n, -1.0f, 1.0f, rng);
    nn_rng_free(rng);
    return x;
}

static float *outputs(nn_model *m, const float *x, int64_t rows)
{
    int64_t fin = nn_model_input_features(m), fout = nn_model_output_features(m);
    float *y = malloc((size_t)(rows * fout) * sizeof *y);
    assert_non_null(y);
    nn_tensor tx, ty;
    OK(nn_tensor_view(&tx, (float *)x, 2, (int64_t[]){rows, fin}));
    OK(nn_tensor_view(&ty, y, 2, (int64_t[]){rows, fout}));
    OK(nn_model_reserve(m, rows));
    OK(nn_model_forward(m, &ty, &tx));
    return y;
}

static nn_model *round_trip(const nn_model *m, const nn_onnx_options *o, void **bytes, size_t *size)
{
    void *buf;
    size_t len;
    OK(nn_model_save_onnx_buffer(m, &buf, &len, o));
    assert_true(len > 0);
    nn_model *back = NULL;
    nn_status st = nn_model_load_onnx_buffer(&back, buf, len, NULL);
    if (st != NN_OK) fail_msg("import of the export: %s", nn_last_error());
    if (bytes) {
        *bytes = buf;
        *size = len;
    } else {
        nn_buffer_free(buf);
    }
    return back;
}

/* ---------------------------------------------------------------- a protobuf encoder */

typedef struct pb {
    uint8_t *p;
    size_t n, cap;
} pb;

static void pb_bytes(pb *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = 2 * (b->n + n) + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void pb_varint(pb *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_bytes(b, t, n);
}

static void pb_int(pb *b, unsigned field, int64_t v)
{
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, (uint64_t)v);
}

static void pb_len(pb *b, unsigned field, const void *p, size_t n)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    pb_bytes(b, p, n);
}

static void pb_str(pb *b, unsigned field, const char *s) { pb_len(b, field, s, strlen(s)); }

static void pb_msg(pb *b, unsigned field, pb *m)
{
    pb_len(b, field, m->p, m->n);
    free(m->p);
    *m = (pb){0};
}

/* ValueInfoProto of a float tensor (N, dims...). */
static void value_info(pb *graph, unsigned field, const char *name, int rank, const int64_t *dims)
{
    pb shape = {0}, tensor = {0}, type = {0}, vi = {0}, dim = {0};
    pb_str(&dim, 2, "N");
    pb_msg(&shape, 1, &dim);
    for (int i = 0; i < rank; i++) {
        pb_int(&dim, 1, dims[i]);
        pb_msg(&shape, 1, &dim);
    }
    pb_int(&tensor, 1, 1);
    pb_msg(&tensor, 2, &shape);
    pb_msg(&type, 1, &tensor);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &type);
    pb_msg(graph, field, &vi);
}

static void node(pb *graph, const char *op, const char *name, const char *in1, const char *in2, const char *in3,
                 const char *out)
{
    pb n = {0};
    pb_str(&n, 1, in1);
    if (in2) pb_str(&n, 1, in2);
    if (in3) pb_str(&n, 1, in3);
    pb_str(&n, 2, out);
    pb_str(&n, 3, name);
    pb_str(&n, 4, op);
    pb_msg(graph, 1, &n);
}

/* A float initializer with the given dims and raw_data of raw_len bytes (of value 0). */
static void initializer(pb *graph, const char *name, int rank, const int64_t *dims, size_t raw_len)
{
    pb t = {0};
    for (int i = 0; i < rank; i++) pb_int(&t, 1, dims[i]);
    pb_int(&t, 2, 1);
    pb_str(&t, 8, name);
    uint8_t *zeros = calloc(1, raw_len + 1);
    pb_len(&t, 9, zeros, raw_len);
    free(zeros);
    pb_msg(graph, 5, &t);
}

static void model(pb *out, pb *graph, int64_t opset)
{
    pb ops = {0};
    pb_int(out, 1, 7);
    pb_int(&ops, 2, opset);
    pb_msg(out, 8, &ops);
    pb_msg(out, 7, graph);
}

/* input (N, 4) -> Gemm(W (4, 3), b (3)) -> output (N, 3), with a node inserted after the Gemm. */
static void gemm_model(pb *out, const int64_t *wdims, size_t wbytes, const char *extra_op)
{
    pb g = {0};
    node(&g, "Gemm", "fc", "x", "W", "b", extra_op ? "h" : "y");
    if (extra_op) node(&g, extra_op, "mystery", "h", NULL, NULL, "y");
    initializer(&g, "W", 2, wdims, wbytes);
    initializer(&g, "b", 1, (int64_t[]){3}, 12);
    value_info(&g, 11, "x", 1, (int64_t[]){4});
    value_info(&g, 12, "y", 1, (int64_t[]){3});
    model(out, &g, 13);
}

static nn_status load_pb(pb *b, nn_model **m)
{
    nn_status st = nn_model_load_onnx_buffer(m, b->p, b->n, NULL);
    free(b->p);
    *b = (pb){0};
    return st;
}

/* ---------------------------------------------------------------- tests */

static void test_onnx__export_then_import_predicts_identically(void **state)
{
    (void)state;
    for (int k = 0; onnx_test_kinds[k]; k++) {
        nn_model *m;
        OK(onnx_test_model(&m, onnx_test_kinds[k], 100 + (uint64_t)k));
        nn_model *back = round_trip(m, NULL, NULL, NULL);
        assert_int_equal(nn_model_input_features(back), nn_model_input_features(m));
        assert_int_equal(nn_model_output_features(back), nn_model_output_features(m));
        assert_int_equal(nn_model_param_count(back), nn_model_param_count(m));
        assert_int_equal(nn_model_get_loss(back), nn_model_get_loss(m));
        int64_t shape_a[3], shape_b[3];
        assert_int_equal(nn_model_input_shape(back, shape_b), nn_model_input_shape(m, shape_a));
        const int64_t rows = 33;
        float *x = random_inputs(m, rows, 7);
        float *ya = outputs(m, x, rows), *yb = outputs(back, x, rows);
        int64_t fout = nn_model_output_features(m);
        double diff = tu_max_abs_diff(ya, yb, (size_t)(rows * fout));
        if (diff > 1e-6) fail_msg("%s: outputs differ by %g after export and import", onnx_test_kinds[k], diff);
        int32_t ca[33], cb[33];
        nn_tensor tx;
        OK(nn_tensor_view(&tx, x, 2, (int64_t[]){rows, nn_model_input_features(m)}));
        OK(nn_model_predict_classes(m, ca, &tx));
        OK(nn_model_predict_classes(back, cb, &tx));
        assert_memory_equal(ca, cb, sizeof ca);
        free(x);
        free(ya);
        free(yb);
        nn_model_free(back);
        nn_model_free(m);
    }
}

static void test_onnx__softmax_option_and_loss(void **state)
{
    (void)state;
    nn_model *m, *back;
    nn_onnx_options o = NN_ONNX_OPTIONS_INIT;
    o.softmax = 1;
    /* A classifier's Softmax is dropped again on import: the model gives logits, as before. */
    OK(onnx_test_model(&m, "mlp", 1));
    back = round_trip(m, &o, NULL, NULL);
    assert_int_equal(nn_model_get_loss(back), NN_LOSS_SOFTMAX_CROSS_ENTROPY);
    assert_int_equal(nn_model_layer_count(back), nn_model_layer_count(m));
    nn_model_free(back);
    /* ... and asking for MSE on a graph that ends in Softmax is refused. */
    void *buf;
    size_t len;
    OK(nn_model_save_onnx_buffer(m, &buf, &len, &o));
    nn_onnx_options mse = NN_ONNX_OPTIONS_INIT;
    mse.loss = NN_LOSS_MSE;
    assert_int_equal(nn_model_load_onnx_buffer(&back, buf, len, &mse), NN_ERR_UNSUPPORTED);
    assert_null(back);
    nn_buffer_free(buf);
    nn_model_free(m);
    /* An MSE model gets no Softmax, and its loss comes back from the metadata. */
    OK(onnx_test_model(&m, "mse", 1));
    back = round_trip(m, &o, NULL, NULL);
    assert_int_equal(nn_model_get_loss(back), NN_LOSS_MSE);
    nn_model_free(back);
    nn_model_free(m);
}

static void test_onnx__options_and_states_refused(void **state)
{
    (void)state;
    void *buf = (void *)1;
    size_t len = 1;
    nn_model *m, *back = (nn_model *)1;
    assert_int_equal(nn_model_save_onnx_buffer(NULL, &buf, &len, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(buf);
    assert_int_equal(nn_model_load_onnx_buffer(&back, NULL, 3, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(back);
    assert_int_equal(nn_model_load_onnx(NULL, "x.onnx", NULL), NN_ERR_INVALID_ARGUMENT);
    /* Not compiled: no weights to write. */
    OK(nn_model_create(&m, 4));
    OK(nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_RELU)));
    assert_int_equal(nn_model_save_onnx_buffer(m, &buf, &len, NULL), NN_ERR_STATE);
    nn_model_free(m);
    OK(onnx_test_model(&m, "mse", 3));
    nn_onnx_options o = NN_ONNX_OPTIONS_INIT;
    o.opset = 12;
    assert_int_equal(nn_model_save_onnx_buffer(m, &buf, &len, &o), NN_ERR_UNSUPPORTED);
    assert_non_null(strstr(nn_last_error(), "opset"));
    o = (nn_onnx_options)NN_ONNX_OPTIONS_INIT;
    o.version = 99;
    assert_int_equal(nn_model_save_onnx_buffer(m, &buf, &len, &o), NN_ERR_INVALID_ARGUMENT);
    o = (nn_onnx_options)NN_ONNX_OPTIONS_INIT;
    const char *keys[] = {"run", "libnn.loss"}, *dup[] = {"run", "run"}, *values[] = {"a", "b"};
    o.meta_keys = keys, o.meta_values = values, o.meta_count = 2;
    assert_int_equal(nn_model_save_onnx_buffer(m, &buf, &len, &o), NN_ERR_INVALID_ARGUMENT);
    o.meta_keys = dup;
    assert_int_equal(nn_model_save_onnx_buffer(m, &buf, &len, &o), NN_ERR_INVALID_ARGUMENT);
    o.meta_count = 1;
    OK(nn_model_save_onnx_buffer(m, &buf, &len, &o));
    nn_buffer_free(buf);
    nn_onnx_options defaults;
    OK(nn_onnx_options_init(&defaults, NN_ONNX_OPTIONS_VERSION));
    assert_int_equal(defaults.loss, NN_ONNX_LOSS_AUTO);
    assert_int_equal(nn_onnx_options_init(&defaults, 2), NN_ERR_INVALID_ARGUMENT);
    nn_model_free(m);
}

static void test_onnx__files(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), path[512];
    nn_model *m, *back;
    OK(onnx_test_model(&m, "gap", 5));
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    OK(nn_model_save_onnx(m, path, NULL));
    OK(nn_model_load_onnx(&back, path, NULL));
    assert_int_equal(nn_model_param_count(back), nn_model_param_count(m));
    nn_model_free(back);
    assert_int_equal(nn_model_load_onnx(&back, dir, NULL), NN_ERR_IO); /* a folder */
    snprintf(path, sizeof path, "%s/absent.onnx", dir);
    assert_int_equal(nn_model_load_onnx(&back, path, NULL), NN_ERR_IO);
    snprintf(path, sizeof path, "%s/no/such/dir/m.onnx", dir);
    assert_int_equal(nn_model_save_onnx(m, path, NULL), NN_ERR_IO);
    /* An empty file is a ModelProto with nothing in it. */
    snprintf(path, sizeof path, "%s/empty.onnx", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(nn_model_load_onnx(&back, path, NULL), NN_ERR_FORMAT);
    assert_null(back);
    nn_model_free(m);
    tu_rmtree(dir);
    free(dir);
}

/* Every truncation and many single-byte changes of a real export: refused cleanly or, where the change
 * hit a weight's bytes, loaded as a working model. Run under ASan and UBSan by the sanitizer builds. */
static void test_onnx__damaged_files_refused_cleanly(void **state)
{
    (void)state;
    nn_model *m;
    OK(onnx_test_model(&m, "every", 9));
    void *buf;
    size_t len;
    OK(nn_model_save_onnx_buffer(m, &buf, &len, NULL));
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    size_t refused = 0, loaded = 0;
    for (size_t cut = 0; cut < len; cut++) {
        nn_model *back = NULL;
        memcpy(copy, buf, cut);
        nn_status st = nn_model_load_onnx_buffer(&back, copy, cut, NULL);
        if (st == NN_OK) {
            loaded++;
            nn_model_free(back);
        } else {
            assert_null(back);
            assert_true(strlen(nn_last_error()) > 0);
            refused++;
        }
    }
    assert_true(refused > len * 9 / 10); /* a cut almost always breaks a length or drops the graph */
    nn_rng *rng;
    OK(nn_rng_create(&rng, 11));
    float *x = random_inputs(m, 2, 3);
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(copy, buf, len);
        size_t at = (size_t)nn_rng_below(rng, len);
        copy[at] ^= (uint8_t)(1 + nn_rng_below(rng, 255));
        nn_model *back = NULL;
        if (nn_model_load_onnx_buffer(&back, copy, len, NULL) == NN_OK) {
            /* A model that loads must run. */
            if (nn_model_input_features(back) == nn_model_input_features(m)) free(outputs(back, x, 2));
            nn_model_free(back);
        }
    }
    (void)loaded;
    free(x);
    nn_rng_free(rng);
    free(copy);
    nn_buffer_free(buf);
    nn_model_free(m);
}

static void test_onnx__hostile_files_refused(void **state)
{
    (void)state;
    pb b = {0};
    nn_model *m = NULL;
    /* The hand-made model itself loads. */
    gemm_model(&b, (int64_t[]){4, 3}, 48, NULL);
    OK(load_pb(&b, &m));
    assert_int_equal(nn_model_output_features(m), 3);
    nn_model_free(m);
    /* An operator libnn lacks: named with its node. */
    gemm_model(&b, (int64_t[]){4, 3}, 48, "Cos");
    assert_int_equal(load_pb(&b, &m), NN_ERR_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(nn_last_error(), "'mystery'"));
    assert_non_null(strstr(nn_last_error(), "Cos"));
    /* Raw data one byte short of the shape. */
    gemm_model(&b, (int64_t[]){4, 3}, 47, NULL);
    assert_int_equal(load_pb(&b, &m), NN_ERR_FORMAT);
    assert_non_null(strstr(nn_last_error(), "raw data"));
    /* Absurd shapes: 2^40 x 2^40, negative, and a product that overflows int64 in a naive check. */
    gemm_model(&b, (int64_t[]){(int64_t)1 << 40, (int64_t)1 << 40}, 48, NULL);
    assert_int_equal(load_pb(&b, &m), NN_ERR_FORMAT);
    assert_non_null(strstr(nn_last_error(), "absurd"));
    gemm_model(&b, (int64_t[]){-4, -3}, 48, NULL);
    assert_int_equal(load_pb(&b, &m), NN_ERR_FORMAT);
    gemm_model(&b, (int64_t[]){(int64_t)1 << 62, 4}, 48, NULL);
    assert_int_equal(load_pb(&b, &m), NN_ERR_FORMAT);
    /* A weight matrix of the wrong shape for the input. */
    gemm_model(&b, (int64_t[]){5, 3}, 60, NULL);
    assert_int_equal(load_pb(&b, &m), NN_ERR_UNSUPPORTED);
    assert_non_null(strstr(nn_last_error(), "'fc'"));
    /* Another opset. */
    {
        pb g = {0};
        node(&g, "Relu", "r", "x", NULL, NULL, "y");
        value_info(&g, 11, "x", 1, (int64_t[]){4});
        value_info(&g, 12, "y", 1, (int64_t[]){4});
        model(&b, &g, 3);
        assert_int_equal(load_pb(&b, &m), NN_ERR_UNSUPPORTED);
        assert_non_null(strstr(nn_last_error(), "opset"));
    }
    /* A branch: the input feeds two nodes that are not one activation. */
    {
        pb g = {0};
        node(&g, "Relu", "r1", "x", NULL, NULL, "a");
        node(&g, "Sigmoid", "s1", "x", NULL, NULL, "c");
        node(&g, "Concat", "cat", "a", "c", NULL, "y");
        value_info(&g, 11, "x", 1, (int64_t[]){4});
        value_info(&g, 12, "y", 1, (int64_t[]){8});
        model(&b, &g, 13);
        assert_int_equal(load_pb(&b, &m), NN_ERR_UNSUPPORTED);
    }
    /* Messages nested far deeper than any model (graph in attribute in node in graph ...): refused
     * before the recursive decoder sees them. */
    {
        pb inner = {0};
        for (int depth = 0; depth < 3000; depth++) {
            pb wrap = {0};
            if (depth % 3 == 0) pb_msg(&wrap, 6, &inner);      /* AttributeProto.g */
            else if (depth % 3 == 1) pb_msg(&wrap, 5, &inner); /* NodeProto.attribute */
            else pb_msg(&wrap, 1, &inner);                     /* GraphProto.node */
            inner = wrap;
        }
        pb top = {0};
        pb_msg(&top, 7, &inner);
        assert_int_equal(load_pb(&top, &m), NN_ERR_FORMAT);
        assert_non_null(strstr(nn_last_error(), "nested"));
    }
    /* Not protobuf at all. */
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(nn_model_load_onnx_buffer(&m, junk, sizeof junk, NULL), NN_ERR_FORMAT);
    /* A length past the end. */
    static const uint8_t cut[] = {0x3a, 0x7f, 0x0a};
    assert_int_equal(nn_model_load_onnx_buffer(&m, cut, sizeof cut, NULL), NN_ERR_FORMAT);
}

static void test_onnx__unavailable_build_says_so(void **state)
{
    (void)state;
    nn_model *m;
    OK(onnx_test_model(&m, "mse", 1));
    void *buf;
    size_t len;
    assert_int_equal(nn_model_save_onnx_buffer(m, &buf, &len, NULL), NN_ERR_UNSUPPORTED);
    assert_non_null(strstr(nn_last_error(), "without ONNX"));
    nn_model_free(m);
}

int main(void)
{
    if (!NN_TEST_HAVE_ONNX || !nn_onnx_available()) {
        /* The build has no ONNX: the functions must say so, and nothing else can be tested. */
        const struct CMUnitTest none[] = {cmocka_unit_test(test_onnx__unavailable_build_says_so)};
        if (NN_TEST_HAVE_ONNX) {
            fprintf(stderr, "test_onnx: meson built ONNX support, but nn_onnx_available() says no\n");
            return 1;
        }
        return cmocka_run_group_tests(none, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onnx__export_then_import_predicts_identically),
        cmocka_unit_test(test_onnx__softmax_option_and_loss),
        cmocka_unit_test(test_onnx__options_and_states_refused),
        cmocka_unit_test(test_onnx__files),
        cmocka_unit_test(test_onnx__damaged_files_refused_cleanly),
        cmocka_unit_test(test_onnx__hostile_files_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
