/* Tests of the model file format (include/nn/io.h, docs/model-format.md): round trips, the golden
 * file, damage of every kind, hand-made hostile files, and failing saves. Hostile files are built
 * here by a small encoder written from the specification, not with the library's own. */
#define _GNU_SOURCE /* unshare(), for the full-disk test */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "nn/nn.h"
#include "testutil.h"

#define OK(call) assert_int_equal((call), NN_OK)
#define FIXED_TIME "2026-11-03T12:00:00Z"

/* ---------------------------------------------------------------- models */

enum { N_IN = 4, N_HIDDEN = 5, N_OUT = 3, BATCH = 8 };

static nn_optimizer *make_optimizer(nn_optimizer_kind kind)
{
    nn_optimizer *opt = NULL;
    switch (kind) {
    case NN_OPT_SGD: {
        nn_sgd_options o = NN_SGD_OPTIONS_INIT;
        o.momentum = 0.9f;
        o.nesterov = 1;
        OK(nn_optimizer_create_sgd(&opt, &o));
        break;
    }
    case NN_OPT_ADAM: OK(nn_optimizer_create_adam(&opt, NULL)); break;
    case NN_OPT_ADAMW: {
        nn_adamw_options o = NN_ADAMW_OPTIONS_INIT;
        o.weight_decay = 0.01f;
        OK(nn_optimizer_create_adamw(&opt, &o));
        break;
    }
    case NN_OPT_RMSPROP: {
        nn_rmsprop_options o = NN_RMSPROP_OPTIONS_INIT;
        o.centered = 1;
        o.momentum = 0.5f;
        OK(nn_optimizer_create_rmsprop(&opt, &o));
        break;
    }
    case NN_OPT_ADAGRAD: OK(nn_optimizer_create_adagrad(&opt, NULL)); break;
    }
    return opt;
}

/* A fixed batch drawn from seed. */
static void make_batch(float x[BATCH * N_IN], float y[BATCH], uint64_t seed)
{
    nn_rng *r;
    OK(nn_rng_create(&r, seed));
    tu_fill_uniform(x, BATCH * N_IN, -1.0f, 1.0f, r);
    for (int i = 0; i < BATCH; i++) y[i] = (float)nn_rng_below(r, N_OUT);
    nn_rng_free(r);
}

static void train(nn_model *m, int steps, uint64_t seed)
{
    float xb[BATCH * N_IN], yb[BATCH];
    nn_tensor x, y;
    int64_t xs[2] = {BATCH, N_IN}, ys[1] = {BATCH};
    for (int s = 0; s < steps; s++) {
        make_batch(xb, yb, seed + (uint64_t)s);
        OK(nn_tensor_view(&x, xb, 2, xs));
        OK(nn_tensor_view(&y, yb, 1, ys));
        OK(nn_model_train_step(m, &x, &y, NULL, NULL));
    }
}

/* 4 -> dense 5 relu -> leaky_relu(0.1) -> dense 3 linear, trained a few steps when it has an optimizer. */
static nn_model *make_model(int opt_kind, int steps)
{
    nn_model *m;
    nn_rng *rng;
    nn_activation leaky = nn_activation_make(NN_ACT_LEAKY_RELU);
    leaky.alpha = 0.1f;
    OK(nn_model_create(&m, N_IN));
    OK(nn_model_add_dense(m, N_HIDDEN, nn_activation_make(NN_ACT_RELU)));
    OK(nn_model_add_activation(m, leaky));
    OK(nn_model_add_dense(m, N_OUT, nn_activation_make(NN_ACT_LINEAR)));
    OK(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt_kind < 0 ? NULL : make_optimizer(opt_kind)));
    OK(nn_rng_create(&rng, 7));
    OK(nn_model_init(m, rng));
    nn_rng_free(rng);
    OK(nn_model_reserve(m, BATCH));
    if (opt_kind >= 0) train(m, steps, 100);
    return m;
}

/* A 2 -> dense 2 model without optimizer: the smallest file, for the bit-flip test. */
static nn_model *make_tiny(void)
{
    nn_model *m;
    nn_rng *rng;
    OK(nn_model_create(&m, 2));
    OK(nn_model_add_dense(m, 2, nn_activation_make(NN_ACT_SIGMOID)));
    OK(nn_model_compile(m, NN_LOSS_MSE, NULL));
    OK(nn_rng_create(&rng, 3));
    OK(nn_model_init(m, rng));
    nn_rng_free(rng);
    return m;
}

static void forward(nn_model *m, float *out, int64_t in_features, int64_t out_features)
{
    float xb[BATCH * 16];
    nn_rng *r;
    OK(nn_rng_create(&r, 99));
    tu_fill_uniform(xb, (size_t)(BATCH * in_features), -2.0f, 2.0f, r);
    nn_rng_free(r);
    nn_tensor x, y;
    int64_t xs[2] = {BATCH, in_features}, ys[2] = {BATCH, out_features};
    OK(nn_tensor_view(&x, xb, 2, xs));
    OK(nn_tensor_view(&y, out, 2, ys));
    OK(nn_model_forward(m, &y, &x));
}

static void assert_same_params(nn_model *a, nn_model *b)
{
    float *pa, *pb;
    size_t na, nb;
    OK(nn_model_params(a, &pa, &na));
    OK(nn_model_params(b, &pb, &nb));
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na * sizeof *pa);
}

static void assert_same_optimizer(nn_optimizer *a, nn_optimizer *b)
{
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(nn_optimizer_get_kind(a), nn_optimizer_get_kind(b));
    assert_int_equal(nn_optimizer_get_iterations(a), nn_optimizer_get_iterations(b));
    assert_int_equal(nn_optimizer_hparam_count(a), nn_optimizer_hparam_count(b));
    for (int i = 0; i < nn_optimizer_hparam_count(a); i++) {
        const char *na, *nb;
        float va, vb;
        OK(nn_optimizer_hparam(a, i, &na, &va));
        OK(nn_optimizer_hparam(b, i, &nb, &vb));
        assert_string_equal(na, nb);
        assert_memory_equal(&va, &vb, sizeof va);
    }
    assert_int_equal(nn_optimizer_state_count(a), nn_optimizer_state_count(b));
    for (int i = 0; i < nn_optimizer_state_count(a); i++) {
        const char *na, *nb;
        float *da, *db;
        size_t la, lb;
        OK(nn_optimizer_state(a, i, &na, &da, &la));
        OK(nn_optimizer_state(b, i, &nb, &db, &lb));
        assert_string_equal(na, nb);
        assert_int_equal(la, lb);
        assert_memory_equal(da, db, la * sizeof *da);
    }
}

static const char *meta_keys[] = {"created", "dataset", "note"};
static const char *meta_values[] = {FIXED_TIME, "mnist", "caf\xc3\xa9 \xe2\x9c\x93"};

static nn_save_options full_options(const nn_rng *rng, int64_t epoch)
{
    nn_save_options o = NN_SAVE_OPTIONS_INIT;
    o.with_optimizer = 1;
    o.rng = rng;
    o.epoch = epoch;
    o.meta_keys = meta_keys;
    o.meta_values = meta_values;
    o.meta_count = 3;
    return o;
}

/* An exact-size heap copy, so that ASan sees any read past the end. */
static uint8_t *dup_exact(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    assert_non_null(d);
    if (n) memcpy(d, p, n);
    return d;
}

/* ---------------------------------------------------------------- a spec-level encoder */

typedef struct tb {
    uint8_t *d;
    size_t n, cap;
} tb;

static void tb_put(tb *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
        assert_non_null(b->d);
    }
    if (n) memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void tb_u32(tb *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tb_put(b, p, 4);
}

static void tb_u64(tb *b, uint64_t v)
{
    tb_u32(b, (uint32_t)v);
    tb_u32(b, (uint32_t)(v >> 32));
}

static void tb_f32(tb *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    tb_u32(b, u);
}

static void tb_str(tb *b, const char *s)
{
    tb_u32(b, (uint32_t)strlen(s));
    tb_put(b, s, strlen(s));
}

static uint32_t rd32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24); }

#define TAG(s) ((uint32_t)(s)[0] | (uint32_t)(s)[1] << 8 | (uint32_t)(s)[2] << 16 | (uint32_t)(s)[3] << 24)
#define REQUIRED 1u

typedef struct sec {
    uint32_t tag, flags;
    const uint8_t *p;
    size_t len;
} sec;

static void put_section(tb *b, uint32_t tag, uint32_t flags, const void *p, size_t len)
{
    tb_u32(b, tag);
    tb_u32(b, flags);
    tb_u64(b, len);
    tb_u32(b, (uint32_t)crc32(0, p, (uInt)len));
    tb_put(b, p, len);
}

/* Header + sections + a correct end section. */
static tb assemble(unsigned major, unsigned minor, const sec *s, int count)
{
    tb b = {0};
    tb_put(&b, "\x89NNM\r\n\x1a\n", 8);
    uint8_t v[8] = {(uint8_t)major, (uint8_t)(major >> 8), (uint8_t)minor, (uint8_t)(minor >> 8), 0, 0, 0, 0};
    tb_put(&b, v, 8);
    for (int i = 0; i < count; i++) put_section(&b, s[i].tag, s[i].flags, s[i].p, s[i].len);
    uint8_t crc[4];
    wr32(crc, (uint32_t)crc32(0, b.d, (uInt)b.n));
    put_section(&b, TAG("END!"), REQUIRED, crc, 4);
    return b;
}

/* Recompute every checksum after a deliberate edit, so that the edit itself is what the reader sees. */
static void fix_crcs(uint8_t *f, size_t n)
{
    size_t pos = 16;
    while (pos + 20 <= n) {
        uint64_t len = rd64(f + pos + 8);
        if (len > n - pos - 20) return;
        if (rd32(f + pos) == TAG("END!")) wr32(f + pos + 20, (uint32_t)crc32(0, f, (uInt)pos));
        wr32(f + pos + 16, (uint32_t)crc32(0, f + pos + 20, (uInt)len));
        pos += 20 + (size_t)len;
    }
}

typedef struct spec_layer {
    uint32_t kind;
    int64_t in, out;
    const char *act;
} spec_layer;

static tb arch_payload(int64_t input, uint32_t loss, uint32_t count, const spec_layer *l)
{
    tb b = {0};
    tb_u64(&b, (uint64_t)input);
    tb_u32(&b, loss);
    tb_u32(&b, count);
    for (uint32_t i = 0; i < count; i++) {
        tb_u32(&b, l[i].kind);
        tb_u64(&b, (uint64_t)l[i].in);
        tb_u64(&b, (uint64_t)l[i].out);
        tb_str(&b, l[i].act);
        tb_f32(&b, 0.0f);
    }
    return b;
}

/* The same architecture in format 2: a flat input, then per layer (kind, activation, alpha,
 * settings); a dense layer's settings are its units and its two initialisers. */
static tb arch_payload_v2(int64_t input, uint32_t loss, uint32_t count, const spec_layer *l)
{
    tb b = {0};
    tb_u32(&b, 1);
    tb_u64(&b, (uint64_t)input);
    tb_u32(&b, loss);
    tb_u32(&b, count);
    for (uint32_t i = 0; i < count; i++) {
        tb_u32(&b, l[i].kind);
        tb_str(&b, l[i].act);
        tb_f32(&b, 0.0f);
        if (l[i].kind == 0) {
            tb_u32(&b, 16);
            tb_u64(&b, (uint64_t)l[i].out);
            tb_u32(&b, 0); /* glorot_uniform */
            tb_u32(&b, 4); /* zeros */
        } else {
            tb_u32(&b, 0);
        }
    }
    return b;
}

/* One tensor record with `fill` in every element (data omitted past `max_data` elements). */
static void tensor_record(tb *b, const char *name, uint32_t rank, const int64_t *dims, float fill, size_t max_data)
{
    tb_str(b, name);
    tb_u32(b, 1);
    tb_u32(b, rank);
    size_t n = 1;
    for (uint32_t i = 0; i < rank; i++) {
        tb_u64(b, (uint64_t)dims[i]);
        n *= (size_t)dims[i];
    }
    for (size_t i = 0; i < n && i < max_data; i++) tb_f32(b, fill);
}

/* A valid 2 -> dense 3 (tanh) file, made entirely by this encoder. */
static tb handmade_file(unsigned minor, const sec *extra, int n_extra)
{
    spec_layer l = {0, 2, 3, "tanh"};
    tb arch = arch_payload(2, 1, 1, &l), meta = {0}, tens = {0};
    tb_u32(&meta, 0);
    tb_u32(&tens, 2);
    int64_t kd[2] = {2, 3}, bd[1] = {3};
    tensor_record(&tens, "dense_0/kernel", 2, kd, 0.5f, SIZE_MAX);
    tensor_record(&tens, "dense_0/bias", 1, bd, -0.25f, SIZE_MAX);
    sec s[8] = {{TAG("ARCH"), REQUIRED, arch.d, arch.n}, {TAG("META"), 0, meta.d, meta.n},
                {TAG("TENS"), REQUIRED, tens.d, tens.n}};
    for (int i = 0; i < n_extra; i++) s[3 + i] = extra[i];
    tb f = assemble(1, minor, s, 3 + n_extra);
    free(arch.d);
    free(meta.d);
    free(tens.d);
    return f;
}

/* Load from an exact-size copy; return the status, and check that failure leaves nothing behind. */
static nn_status try_load(const void *data, size_t n, const nn_load_options *o)
{
    uint8_t *copy = dup_exact(data, n);
    nn_model *m = (nn_model *)&m;
    nn_status st = nn_model_load_buffer(&m, copy, n, o);
    if (st == NN_OK) {
        assert_non_null(m);
        nn_model_free(m);
    } else {
        assert_null(m);
        assert_true(strlen(nn_last_error()) > 0);
    }
    free(copy);
    return st;
}

static nn_status try_info(const void *data, size_t n)
{
    uint8_t *copy = dup_exact(data, n);
    nn_file_info *info = (nn_file_info *)&info;
    nn_status st = nn_file_info_read_buffer(&info, copy, n);
    if (st == NN_OK) nn_file_info_free(info);
    else assert_null(info);
    free(copy);
    return st;
}

static void assert_error_mentions(const char *text)
{
    if (!strstr(nn_last_error(), text)) fail_msg("error \"%s\" does not mention \"%s\"", nn_last_error(), text);
}

/* ---------------------------------------------------------------- round trips */

static void test_io__buffer_round_trip_restores_everything(void **state)
{
    (void)state;
    nn_model *m = make_model(NN_OPT_ADAM, 3);
    nn_rng *rng, *rng2;
    OK(nn_rng_create(&rng, 1234));
    for (int i = 0; i < 5; i++) nn_rng_u64(rng);
    OK(nn_rng_create(&rng2, 1));
    nn_save_options so = full_options(rng, 17);
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(m, &buf, &n, &so));

    nn_model *back;
    int64_t epoch = 0;
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.rng = rng2;
    lo.epoch = &epoch;
    OK(nn_model_load_buffer(&back, buf, n, &lo));
    assert_int_equal(epoch, 17);
    uint64_t s1[NN_RNG_STATE_WORDS], s2[NN_RNG_STATE_WORDS];
    nn_rng_get_state(rng, s1);
    nn_rng_get_state(rng2, s2);
    assert_memory_equal(s1, s2, sizeof s1);
    assert_int_equal(nn_model_get_loss(back), NN_LOSS_SOFTMAX_CROSS_ENTROPY);
    assert_int_equal(nn_model_layer_count(back), 3);
    nn_layer_info li = NN_LAYER_INFO_INIT;
    OK(nn_model_layer_info(back, 1, &li));
    assert_int_equal(li.kind, NN_LAYER_ACTIVATION);
    assert_int_equal(li.activation.kind, NN_ACT_LEAKY_RELU);
    assert_true(li.activation.alpha == 0.1f);
    assert_same_params(m, back);
    assert_same_optimizer(nn_model_get_optimizer(m), nn_model_get_optimizer(back));

    float o1[BATCH * N_OUT], o2[BATCH * N_OUT];
    forward(m, o1, N_IN, N_OUT);
    OK(nn_model_reserve(back, BATCH));
    forward(back, o2, N_IN, N_OUT);
    assert_memory_equal(o1, o2, sizeof o1);

    /* Save, load, save again: the same bytes. */
    void *buf2;
    size_t n2;
    so.rng = rng2;
    OK(nn_model_save_buffer(back, &buf2, &n2, &so));
    assert_int_equal(n, n2);
    assert_memory_equal(buf, buf2, n);

    nn_buffer_free(buf);
    nn_buffer_free(buf2);
    nn_model_free(back);
    nn_model_free(m);
    nn_rng_free(rng);
    nn_rng_free(rng2);
}

/* Training resumed from a file continues exactly as uninterrupted training, for every optimizer. */
static void test_io__every_optimizer_resumes_exactly(void **state)
{
    (void)state;
    for (int k = NN_OPT_SGD; k <= NN_OPT_ADAGRAD; k++) {
        nn_model *m = make_model(k, 3);
        nn_save_options so = NN_SAVE_OPTIONS_INIT;
        so.with_optimizer = 1;
        void *buf;
        size_t n;
        OK(nn_model_save_buffer(m, &buf, &n, &so));
        nn_model *back;
        OK(nn_model_load_buffer(&back, buf, n, NULL));
        assert_same_optimizer(nn_model_get_optimizer(m), nn_model_get_optimizer(back));
        OK(nn_model_reserve(back, BATCH));
        train(m, 2, 500);
        train(back, 2, 500);
        assert_same_params(m, back);
        assert_same_optimizer(nn_model_get_optimizer(m), nn_model_get_optimizer(back));
        nn_buffer_free(buf);
        nn_model_free(back);
        nn_model_free(m);
    }
}

static void test_io__weights_only_file_loads_without_optimizer(void **state)
{
    (void)state;
    nn_model *m = make_model(NN_OPT_ADAM, 1);
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(m, &buf, &n, NULL));
    nn_model *back;
    int64_t epoch = 5;
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.epoch = &epoch;
    OK(nn_model_load_buffer(&back, buf, n, &lo));
    assert_null(nn_model_get_optimizer(back));
    assert_int_equal(epoch, -1);
    assert_same_params(m, back);
    nn_buffer_free(buf);
    nn_model_free(back);
    nn_model_free(m);
}

static void test_io__path_round_trip_and_file_info(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    assert_non_null(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/model" NN_MODEL_FILE_EXT, dir);
    nn_model *m = make_model(NN_OPT_RMSPROP, 2);
    nn_rng *rng;
    OK(nn_rng_create(&rng, 5));
    nn_save_options so = full_options(rng, 4);
    OK(nn_model_save(m, path, &so));
    OK(nn_model_save(m, path, &so)); /* replacing an existing file */

    nn_model *back;
    OK(nn_model_load(&back, path, NULL));
    assert_same_params(m, back);
    assert_same_optimizer(nn_model_get_optimizer(m), nn_model_get_optimizer(back));

    nn_file_info *info;
    OK(nn_file_info_read(&info, path));
    unsigned major, minor;
    nn_file_info_format_version(info, &major, &minor);
    assert_int_equal(major, NN_FORMAT_VERSION_MAJOR);
    assert_int_equal(minor, NN_FORMAT_VERSION_MINOR);
    assert_int_equal(nn_file_info_layer_count(info), 3);
    assert_int_equal(nn_file_info_input_features(info), N_IN);
    assert_int_equal(nn_file_info_param_count(info), nn_model_param_count(m));
    assert_int_equal(nn_file_info_loss(info), NN_LOSS_SOFTMAX_CROSS_ENTROPY);
    assert_int_equal(nn_file_info_optimizer(info), NN_OPT_RMSPROP);
    assert_int_equal(nn_file_info_epoch(info), 4);
    assert_true(nn_file_info_has_rng(info));
    nn_layer_info li = NN_LAYER_INFO_INIT;
    OK(nn_file_info_layer(info, 2, &li));
    assert_int_equal(li.kind, NN_LAYER_DENSE);
    assert_int_equal(li.in_features, N_HIDDEN);
    assert_int_equal(li.out_features, N_OUT);
    assert_int_equal(li.param_count, N_HIDDEN * N_OUT + N_OUT);
    assert_null(li.weights.data);
    assert_int_equal(nn_file_info_layer(info, 3, &li), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_file_info_meta_count(info), 4); /* library version + the three given */
    const char *k, *v;
    OK(nn_file_info_meta(info, 0, &k, &v));
    assert_string_equal(k, "libnn.version");
    assert_string_equal(v, nn_version());
    assert_string_equal(nn_file_info_meta_get(info, "created"), FIXED_TIME);
    assert_string_equal(nn_file_info_meta_get(info, "note"), meta_values[2]);
    assert_null(nn_file_info_meta_get(info, "absent"));
    nn_file_info_free(info);

    /* No temporary file left next to the model. */
    DIR *d = opendir(dir);
    assert_non_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++; /* temporaries are hidden */
    closedir(d);
    assert_int_equal(entries, 1);

    nn_model_free(back);
    nn_model_free(m);
    nn_rng_free(rng);
    tu_rmtree(dir);
    free(dir);
}

static void test_io__creation_time_recorded_unless_given(void **state)
{
    (void)state;
    nn_model *m = make_tiny();
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(m, &buf, &n, NULL));
    nn_file_info *info;
    OK(nn_file_info_read_buffer(&info, buf, n));
    const char *created = nn_file_info_meta_get(info, "created");
    assert_non_null(created);
    int y, mo, d, h, mi, s;
    char z;
    assert_int_equal(sscanf(created, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z), 7);
    assert_true(y >= 2024 && z == 'Z');
    assert_int_equal(nn_file_info_meta_count(info), 2);
    assert_int_equal(nn_file_info_optimizer(info), -1);
    assert_int_equal(nn_file_info_epoch(info), -1);
    assert_false(nn_file_info_has_rng(info));
    nn_file_info_free(info);
    nn_buffer_free(buf);
    nn_model_free(m);
}

static void test_io__save_refuses_bad_arguments(void **state)
{
    (void)state;
    nn_model *m = make_tiny();
    void *buf = NULL;
    size_t n;
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    const char *bad_key[] = {"has space"}, *dup[] = {"a", "a"}, *reserved[] = {"libnn.version"};
    const char *vals[] = {"x", "y"}, *bad_utf8[] = {"\xc3\x28"};
    so.meta_count = 1;
    so.meta_keys = bad_key;
    so.meta_values = vals;
    assert_int_equal(nn_model_save_buffer(m, &buf, &n, &so), NN_ERR_INVALID_ARGUMENT);
    so.meta_keys = reserved;
    assert_int_equal(nn_model_save_buffer(m, &buf, &n, &so), NN_ERR_INVALID_ARGUMENT);
    so.meta_keys = dup;
    so.meta_values = bad_utf8;
    assert_int_equal(nn_model_save_buffer(m, &buf, &n, &so), NN_ERR_INVALID_ARGUMENT);
    so.meta_count = 2;
    so.meta_values = vals;
    assert_int_equal(nn_model_save_buffer(m, &buf, &n, &so), NN_ERR_INVALID_ARGUMENT);
    assert_error_mentions("duplicate");
    so = (nn_save_options)NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1; /* the tiny model has none */
    assert_int_equal(nn_model_save_buffer(m, &buf, &n, &so), NN_ERR_STATE);
    so = (nn_save_options)NN_SAVE_OPTIONS_INIT;
    so.version = 99;
    assert_int_equal(nn_model_save_buffer(m, &buf, &n, &so), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_save_buffer(NULL, &buf, &n, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_save_buffer(m, NULL, &n, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(buf);

    nn_model *raw;
    OK(nn_model_create(&raw, 3));
    OK(nn_model_add_dense(raw, 2, nn_activation_make(NN_ACT_RELU)));
    assert_int_equal(nn_model_save_buffer(raw, &buf, &n, NULL), NN_ERR_STATE); /* not compiled */
    assert_error_mentions("nn_model_save: the model is not compiled");
    nn_model_free(raw);
    nn_model_free(m);
    nn_buffer_free(NULL);
}

/* ---------------------------------------------------------------- golden file */

/* From tests/make_golden.c (see there): outputs of the saved model for golden_x, and its weights. */
static const float golden_x[3][4] = {
    {0.5f, -1.25f, 2.0f, 0.75f},
    {-0.5f, 0.25f, -1.5f, 1.0f},
    {1.0f, 1.0f, -0.125f, -2.0f},
};
static const float golden_out[3][2] = {
    {0x1.3096d6p-2, 0x1.52ecep-4},
    {-0x1.3d8118p-4, 0x1.8c0d24p-1},
    {-0x1.f3df2ep-2, -0x1.bad6b4p+0},
};
static const float golden_params[23] = {
    -0x1.9b6c98p-3, 0x1.161156p-1,  -0x1.1b2d18p-4, -0x1.043034p-1, -0x1.053734p-4, -0x1.8d894ap-2,
    -0x1.b741aap-1, -0x1.5414fap-1, 0x1.782818p-2,  0x1.de4ec6p-2,  -0x1.5f75e6p-2, -0x1.47b958p-2,
    -0x1.992496p-5, -0x1.98de74p-5, -0x1.5c84fcp-5, -0x1.7bd2fp-9,  0x1.018a2cp+0,  -0x1.0d0a22p-1,
    -0x1.fdab2p-1,  -0x1.50114cp-3, -0x1.1653aap-3, -0x1.335506p-5, 0x1.335514p-5,
};
static const uint64_t golden_rng[4] = {0xfd009c8d010c6d44u, 0x27d2e9607894140cu, 0xab5568caa35f9f2du,
                                       0x1c3b4f811d3e9d60u};

static void test_io__golden_file_loads_with_same_outputs(void **state)
{
    (void)state;
    const char *path = NN_TEST_SRCDIR "/data/golden-4-3-2-adam.nnm";
    nn_model *m;
    nn_rng *rng;
    int64_t epoch;
    OK(nn_rng_create(&rng, 1));
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.rng = rng;
    lo.epoch = &epoch;
    if (nn_model_load(&m, path, &lo) != NN_OK) fail_msg("%s", nn_last_error());
    assert_int_equal(epoch, 3);
    uint64_t s[4];
    nn_rng_get_state(rng, s);
    assert_memory_equal(s, golden_rng, sizeof s);
    float *p;
    size_t n;
    OK(nn_model_params(m, &p, &n));
    assert_int_equal(n, 23);
    assert_memory_equal(p, golden_params, sizeof golden_params);
    nn_optimizer *opt = nn_model_get_optimizer(m);
    assert_non_null(opt);
    assert_int_equal(nn_optimizer_get_kind(opt), NN_OPT_ADAM);
    assert_int_equal(nn_optimizer_get_iterations(opt), 5);
    assert_true(nn_optimizer_get_lr(opt) == 0.01f);

    float out[3][2];
    nn_tensor x, y;
    int64_t xs[2] = {3, 4}, ys[2] = {3, 2};
    OK(nn_tensor_view(&x, (float *)golden_x, 2, xs));
    OK(nn_tensor_view(&y, &out[0][0], 2, ys));
    OK(nn_model_forward(m, &y, &x));
    /* The weights are bit-exact; the outputs may differ in the last bits on another CPU, whose
     * BLAS kernel can sum in another order. */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) assert_true(fabsf(out[i][j] - golden_out[i][j]) <= 1e-6f);

    nn_file_info *info;
    OK(nn_file_info_read(&info, path));
    assert_string_equal(nn_file_info_meta_get(info, "purpose"), "golden file of tests/test_io.c");
    assert_int_equal(nn_file_info_param_count(info), 23);
    nn_file_info_free(info);
    nn_model_free(m);
    nn_rng_free(rng);
}

/* From tests/make_golden.c (see there): the format-2 golden file, every layer kind, written once by
 * libnn 0.2. (3, 4, 3, 2) golden inputs, the saved model's outputs, trainable parameters, moving
 * statistics and generator states; then the losses of two more training steps on the golden inputs
 * and the moving statistics after them, which only come out right if dropout's rate, batch norm's
 * momentum, the training generator and the Adam state were all read back. */
static float golden_v2_input(int i, int j) { return (float)((5 * i + 7 * j) % 17) / 8.0f - 1.0f; }
static const float golden_v2_out[9] = {
    0x1.41fc6ep-2, -0x1.d41a12p-5, -0x1.212342p-4,
    0x1.216738p-2, -0x1.8ec2d4p-3, 0x1.7209f8p-7,
    -0x1.af049cp-2, 0x1.221ddcp-5, 0x1.1312cep-2,
};
static const float golden_v2_params[157] = {
    0x1.f6c4bcp-1, 0x1.001ce6p+0, -0x1.a3b38p-9, 0x1.d5c63cp-6, -0x1.38a73cp-2, 0x1.a1a70ep-3,
    -0x1.bee412p-6, -0x1.9a290ep-2, -0x1.0544bp-3, -0x1.95b794p-2, 0x1.c84024p-3, -0x1.fb119cp-5,
    -0x1.0a9fcp-5, 0x1.c29beep-2, 0x1.a4777ap-4, 0x1.64f0c2p-3, -0x1.a4615ep-2, 0x1.68e4c2p-4,
    0x1.b2d8ecp-3, 0x1.831158p-3, 0x1.be3b56p-3, 0x1.eebde8p-3, -0x1.866944p-3, 0x1.49479p-6,
    -0x1.562b4ap-4, -0x1.0327b4p-2, 0x1.19884p-5, -0x1.9bfccep-2, -0x1.f4bd14p-4, -0x1.ac22e6p-2,
    0x1.f65656p-3, 0x1.b54cecp-4, -0x1.c2768cp-4, 0x1.1ff596p-4, -0x1.4a4daep-3, 0x1.044966p-1,
    -0x1.551198p-3, 0x1.995ce4p-2, -0x1.52bc62p-5, -0x1.424112p-2, 0x1.f999d6p-3, -0x1.f9869ep-3,
    -0x1.a70816p-3, -0x1.2aa97ap-3, 0x1.df9324p-2, 0x1.a90288p-2, -0x1.c11914p-3, 0x1.866236p-2,
    -0x1.8b562cp-6, -0x1.6181b2p-3, 0x1.ab65dep-2, 0x1.63cd9p-2, -0x1.d9cd4ap-2, -0x1.d1e7a2p-2,
    0x1.dd35b8p-3, -0x1.39f948p-2, -0x1.27faa2p-4, -0x1.bab82ep-2, -0x1.c6c766p-2, -0x1.6c7c04p-2,
    -0x1.f7f164p-2, 0x1.4063f6p-6, -0x1.51b5dap-4, -0x1.07f4dcp-1, -0x1.4e0486p-2, -0x1.7ed988p-2,
    0x1.4e88p-9, 0x1.a50894p-3, -0x1.0b949ep-2, -0x1.b11f8ap-4, -0x1.b83d72p-3, 0x1.98e83ap-3,
    -0x1.8d58e2p-2, -0x1.85682cp-2, 0x1.aa471ap-4, 0x1.ea5898p-2, 0x1.0cfcfep-2, 0x1.09f886p-3,
    -0x1.f2c9b2p-4, 0x1.07e39ep-3, 0x1.c070e2p-6, 0x1.c8cc04p-2, -0x1.aac3bap-3, -0x1.60d9d2p-3,
    0x1.cf343ap-2, 0x1.a09842p-3, 0x1.3de7fp-6, -0x1.48fbc8p-6, -0x1.88ef0ap-2, -0x1.4d01bap-2,
    0x1.37d976p-3, -0x1.628a58p-8, 0x1.09a726p-2, -0x1.293fc6p-3, -0x1.80b934p-3, -0x1.3590e4p-8,
    -0x1.0d176ap-1, 0x1.c7d602p-2, 0x1.3da048p-3, 0x1.045536p-3, -0x1.bc8856p-2, -0x1.8903d6p-3,
    0x1.802c24p-2, -0x1.be1d5ep-2, -0x1.b670dcp-2, -0x1.453344p-2, 0x1.538268p-4, -0x1.0f014ep-5,
    -0x1.2c5dbcp-3, 0x1.013ac8p-3, -0x1.1af37p-3, 0x1.2d8f4ep-2, 0x1.0d996p-4, -0x1.60cae8p-2,
    0x1.427b38p-3, 0x1.28909p-3, -0x1.54f4b6p-5, -0x1.a36112p-2, 0x1.0ec0e8p-4, -0x1.e28f08p-4,
    -0x1.679fecp-2, -0x1.6eec64p-2, 0x1.cb0fa6p-3, -0x1.c6e97cp-2, 0x1.8f930ep-7, 0x1.4e8fcap-5,
    0x1.52062ap-5, -0x1.5aa338p-5, -0x1.a63e06p-17, 0x1.09c6a2p+0, 0x1.0a02a6p+0, 0x1.0b7972p+0,
    0x1.e78058p-1, 0x1.fd0582p-1, -0x1.99a2bep-5, -0x1.8c886cp-5, -0x1.985832p-5, 0x1.7e7fdp-5,
    -0x1.94b716p-5, -0x1.090becp-4, 0x1.6c4ec4p-2, 0x1.204a02p-2, -0x1.4618c2p-2, 0x1.1762cep-2,
    -0x1.69f55ap-2, -0x1.b8dc5p-1, 0x1.b8666ep-3, 0x1.476f56p-2, 0x1.a1d3cep-5, 0x1.15ba3ep-1,
    -0x1.670ffcp-3, -0x1.4c0d4cp-4, 0x1.701102p-2, -0x1.a16388p-5, 0x1.980d22p-5, -0x1.91d16p-5,
    -0x1.9889aep-5,
};
static const float golden_v2_buffers[14] = {
    0x1.b5321ep-9, -0x1.4cec74p-12, 0x1.f02258p-1, 0x1.ef2e5ep-1, -0x1.0fcd1cp-8, 0x1.875a88p-3,
    0x1.13a9fep-4, 0x1.8fdb5cp-5, -0x1.a3483cp-5, 0x1.3ba256p-1, 0x1.75ed98p-1, 0x1.41bb7p-1,
    0x1.4613f6p-1, 0x1.2eca1ap-1,
};
static const float golden_v2_step_buffers[14] = {
    0x1.7f364cp-9, -0x1.c4f6b8p-11, 0x1.ea10c6p-1, 0x1.e92ce4p-1, 0x1.f1f1e4p-6, 0x1.5af5aep-3,
    0x1.3db32cp-3, 0x1.b35182p-5, -0x1.2ccf8ap-4, 0x1.05a5dp-1, 0x1.333e56p-1, 0x1.1dc044p-1,
    0x1.0d135ep-1, 0x1.eb7e8ep-2,
};
static const uint64_t golden_v2_train_rng[4] = {0x2f34ee5ed8026055u, 0x522ca2b9a0f92d03u,
                                                0xb3ea7166872732a6u, 0xd3579cb0d739e812u};
static const uint64_t golden_v2_rng[4] = {0x2d137e1ec3268f9au, 0xb9812be371fcee6du,
                                          0x1df5473998f21cc4u, 0x59041f616eb6a4bau};
static const float golden_v2_step_loss[2] = {0x1.733ceap+0, 0x1.57534cp+0};

static void test_io__golden_v2_file_loads_every_kind_exactly(void **state)
{
    (void)state;
    const char *path = NN_TEST_SRCDIR "/data/golden-v2-every-kind.nnm";
    nn_model *m;
    nn_rng *rng;
    int64_t epoch;
    OK(nn_rng_create(&rng, 1));
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.rng = rng;
    lo.epoch = &epoch;
    if (nn_model_load(&m, path, &lo) != NN_OK) fail_msg("%s", nn_last_error());
    assert_int_equal(epoch, 4);
    uint64_t s[4];
    nn_rng_get_state(rng, s);
    assert_memory_equal(s, golden_v2_rng, sizeof s);
    nn_rng_get_state(nn_model_rng(m), s);
    assert_memory_equal(s, golden_v2_train_rng, sizeof s);

    float params[157], buffers[14];
    assert_int_equal(nn_model_param_count(m), 157);
    assert_int_equal(nn_model_buffer_count(m), 14);
    OK(nn_model_get_params(m, params, 157));
    OK(nn_model_get_buffers(m, buffers, 14));
    assert_memory_equal(params, golden_v2_params, sizeof params);
    assert_memory_equal(buffers, golden_v2_buffers, sizeof buffers);
    nn_optimizer *opt = nn_model_get_optimizer(m);
    assert_non_null(opt);
    assert_int_equal(nn_optimizer_get_kind(opt), NN_OPT_ADAM);
    assert_int_equal(nn_optimizer_get_iterations(opt), 5);
    assert_true(nn_optimizer_get_lr(opt) == 0.01f);

    static const nn_layer_kind kinds[7] = {NN_LAYER_BATCHNORM, NN_LAYER_ACTIVATION, NN_LAYER_DROPOUT,
                                           NN_LAYER_FLATTEN,   NN_LAYER_DENSE,      NN_LAYER_BATCHNORM,
                                           NN_LAYER_DENSE};
    assert_int_equal(nn_model_layer_count(m), 7);
    for (int i = 0; i < 7; i++) {
        nn_layer_info li = NN_LAYER_INFO_INIT;
        OK(nn_model_layer_info(m, i, &li));
        assert_int_equal(li.kind, kinds[i]);
        if (i == 1) assert_int_equal(li.activation.kind, NN_ACT_GELU_TANH);
        if (i == 4) assert_true(li.activation.kind == NN_ACT_LEAKY_RELU && li.activation.alpha == 0.1f);
    }

    /* Inference, images given channels last as (batch, height, width, channels). */
    float x[3 * 24], out[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 24; j++) x[24 * i + j] = golden_v2_input(i, j);
    nn_tensor tx, ty;
    int64_t xs[4] = {3, 4, 3, 2}, ys[2] = {3, 3};
    OK(nn_tensor_view(&tx, x, 4, xs));
    OK(nn_tensor_view(&ty, out, 2, ys));
    OK(nn_model_forward(m, &ty, &tx));
    for (int i = 0; i < 9; i++) assert_true(fabsf(out[i] - golden_v2_out[i]) <= 1e-6f);

    /* Training resumes where the file left it: the first loss needs dropout's rate and the training
     * generator, the second also the Adam state, the moving statistics batch norm's momentum. */
    float labels[3] = {2.0f, 0.0f, 1.0f}, loss;
    int64_t ls[1] = {3};
    OK(nn_tensor_view(&ty, labels, 1, ls));
    for (int step = 0; step < 2; step++) {
        OK(nn_model_train_step(m, &tx, &ty, &loss, NULL));
        assert_true(fabsf(loss - golden_v2_step_loss[step]) <= 1e-5f);
    }
    OK(nn_model_get_buffers(m, buffers, 14));
    for (int i = 0; i < 14; i++) assert_true(fabsf(buffers[i] - golden_v2_step_buffers[i]) <= 1e-5f);

    nn_file_info *info;
    OK(nn_file_info_read(&info, path));
    unsigned major, minor;
    nn_file_info_format_version(info, &major, &minor);
    assert_true(major == 2 && minor == 0);
    assert_string_equal(nn_file_info_meta_get(info, "purpose"), "format-2 golden file of tests/test_io.c");
    assert_string_equal(nn_file_info_meta_get(info, "created"), "2026-12-01T00:00:00Z");
    int64_t shape[NN_MAX_EXAMPLE_RANK];
    assert_int_equal(nn_file_info_input_shape(info, shape), 3);
    assert_true(shape[0] == 4 && shape[1] == 3 && shape[2] == 2);
    assert_int_equal(nn_file_info_param_count(info), 157);
    nn_file_info_free(info);
    nn_model_free(m);
    nn_rng_free(rng);
}

/* ---------------------------------------------------------------- format 2: every layer kind */

/* (4, 3, 2) images -> batch norm per channel -> gelu_tanh -> dropout -> flatten -> dense relu ->
 * batch norm -> dense logits, trained a few Adam steps so that moving statistics have moved. */
static nn_model *make_every_kind(void)
{
    nn_model *m;
    nn_optimizer *opt;
    nn_rng *rng;
    int64_t shape[3] = {4, 3, 2};
    OK(nn_model_create_shape(&m, 3, shape));
    OK(nn_model_add_batchnorm(m, NULL));
    OK(nn_model_add_activation(m, nn_activation_make(NN_ACT_GELU_TANH)));
    OK(nn_model_add_dropout(m, 0.25f));
    OK(nn_model_add_flatten(m));
    OK(nn_model_add_dense(m, 5, nn_activation_make(NN_ACT_RELU)));
    nn_batchnorm_options bo = NN_BATCHNORM_OPTIONS_INIT;
    bo.momentum = 0.5f;
    bo.epsilon = 0.01f;
    OK(nn_model_add_batchnorm(m, &bo));
    OK(nn_model_add_dense(m, 3, nn_activation_make(NN_ACT_LINEAR)));
    OK(nn_optimizer_create_adam(&opt, NULL));
    OK(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, opt));
    OK(nn_rng_create(&rng, 5));
    OK(nn_model_init(m, rng));
    float x[8 * 24], y[8];
    tu_fill_uniform(x, 8 * 24, -1, 2, rng);
    for (int i = 0; i < 8; i++) y[i] = (float)(i % 3);
    nn_tensor tx, ty;
    int64_t xs[4] = {8, 4, 3, 2}, ys[1] = {8};
    OK(nn_tensor_view(&tx, x, 4, xs));
    OK(nn_tensor_view(&ty, y, 1, ys));
    for (int i = 0; i < 4; i++) OK(nn_model_train_step(m, &tx, &ty, NULL, NULL));
    nn_rng_free(rng);
    return m;
}

static void test_io__format2_round_trip_of_every_layer_kind(void **state)
{
    (void)state;
    nn_model *m = make_every_kind();
    const char *keys[] = {"created"}, *values[] = {""};
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    so.meta_keys = keys;
    so.meta_values = values;
    so.meta_count = 1;
    void *buf, *again;
    size_t n, n2;
    OK(nn_model_save_buffer(m, &buf, &n, &so));
    assert_int_equal(((const uint8_t *)buf)[8], 2);
    nn_model *back;
    OK(nn_model_load_buffer(&back, buf, n, NULL));
    OK(nn_model_save_buffer(back, &again, &n2, &so));
    assert_int_equal(n, n2);
    assert_memory_equal(buf, again, n); /* everything, the training generator included */
    assert_int_equal(nn_model_buffer_count(back), 2 * 2 + 2 * 5);
    float ba[14], bb[14];
    OK(nn_model_get_buffers(m, ba, 14));
    OK(nn_model_get_buffers(back, bb, 14));
    assert_memory_equal(ba, bb, sizeof ba);
    assert_true(ba[0] != 0.0f); /* the moving mean moved */
    float x[5 * 24], oa[5 * 3], ob[5 * 3];
    for (int i = 0; i < 5 * 24; i++) x[i] = (float)((i * 7) % 11) / 4.0f - 1.0f;
    nn_tensor tx, ta, tb2;
    int64_t xs[2] = {5, 24}, os[2] = {5, 3};
    OK(nn_tensor_view(&tx, x, 2, xs));
    OK(nn_tensor_view(&ta, oa, 2, os));
    OK(nn_tensor_view(&tb2, ob, 2, os));
    OK(nn_model_predict(m, &ta, &tx));
    OK(nn_model_predict(back, &tb2, &tx));
    assert_memory_equal(oa, ob, sizeof oa);

    nn_file_info *info;
    OK(nn_file_info_read_buffer(&info, buf, n));
    int64_t shape[NN_MAX_EXAMPLE_RANK];
    assert_int_equal(nn_file_info_input_shape(info, shape), 3);
    assert_true(shape[0] == 4 && shape[1] == 3 && shape[2] == 2);
    assert_int_equal(nn_file_info_layer_count(info), 7);
    static const nn_layer_kind kinds[7] = {NN_LAYER_BATCHNORM, NN_LAYER_ACTIVATION, NN_LAYER_DROPOUT,
                                           NN_LAYER_FLATTEN, NN_LAYER_DENSE, NN_LAYER_BATCHNORM, NN_LAYER_DENSE};
    for (int i = 0; i < 7; i++) {
        nn_layer_info li = NN_LAYER_INFO_INIT;
        OK(nn_file_info_layer(info, i, &li));
        assert_int_equal(li.kind, kinds[i]);
        if (i == 3) assert_true(li.in_rank == 3 && li.out_rank == 1 && li.out_shape[0] == 24);
        if (i == 0) assert_true(li.param_count == 4 && li.buffer_count == 4);
    }
    nn_file_info_free(info);
    nn_buffer_free(buf);
    nn_buffer_free(again);
    nn_model_free(m);
    nn_model_free(back);
}

/* A format-2 file of input (3) -> [one hand-made layer record] -> dense 2, with its tensors. */
static nn_status try_v2_layer_minor(unsigned minor, uint32_t kind, const void *settings, uint32_t settings_len,
                                    uint32_t declared_len)
{
    tb a = {0}, t = {0};
    tb_u32(&a, 1);
    tb_u64(&a, 3);
    tb_u32(&a, 0);
    tb_u32(&a, 2);
    tb_u32(&a, kind);
    tb_str(&a, "linear");
    tb_f32(&a, 0.0f);
    tb_u32(&a, declared_len);
    tb_put(&a, settings, settings_len);
    tb_u32(&a, NN_LAYER_DENSE);
    tb_str(&a, "linear");
    tb_f32(&a, 0.0f);
    tb_u32(&a, 16);
    tb_u64(&a, 2);
    tb_u32(&a, 0);
    tb_u32(&a, 4);
    tb_u32(&t, 2);
    int64_t kd[2] = {3, 2}, bd[1] = {2};
    tensor_record(&t, "dense_1/kernel", 2, kd, 0.5f, SIZE_MAX);
    tensor_record(&t, "dense_1/bias", 1, bd, 0.0f, SIZE_MAX);
    sec s[2] = {{TAG("ARCH"), REQUIRED, a.d, a.n}, {TAG("TENS"), REQUIRED, t.d, t.n}};
    tb f = assemble(2, minor, s, 2);
    nn_status st = try_load(f.d, f.n, NULL);
    free(a.d);
    free(t.d);
    free(f.d);
    return st;
}

static nn_status try_v2_layer(uint32_t kind, const void *settings, uint32_t settings_len, uint32_t declared_len)
{
    return try_v2_layer_minor(0, kind, settings, settings_len, declared_len);
}

static void test_io__format2_layer_records_refused_when_damaged(void **state)
{
    (void)state;
    float rate = 0.5f, bad_rate = 1.5f;
    assert_int_equal(try_v2_layer(NN_LAYER_DROPOUT, &rate, 4, 4), NN_OK); /* the control */
    assert_int_equal(try_v2_layer(NN_LAYER_DROPOUT, &bad_rate, 4, 4), NN_ERR_FORMAT);
    assert_error_mentions("dropout rate 1.5");
    assert_int_equal(try_v2_layer(NN_LAYER_DROPOUT, &rate, 2, 2), NN_ERR_FORMAT);
    assert_error_mentions("cut short");
    uint8_t longer[8] = {0};
    memcpy(longer, &rate, 4);
    assert_int_equal(try_v2_layer(NN_LAYER_DROPOUT, longer, 8, 8), NN_ERR_FORMAT);
    assert_error_mentions("4 unexpected bytes at the end of its dropout settings");
    assert_int_equal(try_v2_layer(NN_LAYER_DROPOUT, &rate, 4, 1000), NN_ERR_FORMAT);
    assert_error_mentions("truncated");
    assert_int_equal(try_v2_layer(NN_LAYER_DROPOUT, &rate, 4, 1u << 30), NN_ERR_FORMAT);
    assert_error_mentions("bytes of settings");
    assert_int_equal(try_v2_layer(99, NULL, 0, 0), NN_ERR_FORMAT);
    assert_error_mentions("kind 99");
    /* ... but from a newer minor of the format, a kind this library does not know is a newer file. */
    assert_int_equal(try_v2_layer_minor(NN_FORMAT_VERSION_MINOR + 1, 99, NULL, 0, 0), NN_ERR_VERSION);
    assert_error_mentions("upgrade libnn");
    assert_int_equal(try_v2_layer(NN_LAYER_FLATTEN, NULL, 0, 0), NN_OK);
    float bn[2] = {0.99f, -1.0f}; /* a batch norm with a negative epsilon */
    assert_int_equal(try_v2_layer(NN_LAYER_BATCHNORM, bn, 8, 8), NN_ERR_FORMAT);
    assert_error_mentions("epsilon");
}

/* ---------------------------------------------------------------- damage */

static void test_io__every_truncation_is_refused(void **state)
{
    (void)state;
    nn_model *m = make_model(NN_OPT_ADAM, 2);
    nn_rng *rng;
    OK(nn_rng_create(&rng, 9));
    nn_save_options so = full_options(rng, 2);
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(m, &buf, &n, &so));
    for (size_t len = 0; len < n; len++) {
        nn_status st = try_load(buf, len, NULL);
        if (st != NN_ERR_FORMAT) fail_msg("truncated to %zu of %zu bytes: status %d (%s)", len, n, st, nn_last_error());
        assert_int_equal(try_info(buf, len), NN_ERR_FORMAT);
    }
    assert_int_equal(try_load(buf, n, NULL), NN_OK);

    /* nn_file_info_read() streams from the file instead: the same refusals through its own reads. */
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/t.nnm", dir);
    for (size_t len = 0; len <= n; len++) {
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, len, fp), len);
        fclose(fp);
        nn_file_info *info;
        nn_status st = nn_file_info_read(&info, path);
        if (len < n) {
            if (st != NN_ERR_FORMAT) fail_msg("file truncated to %zu of %zu bytes: status %d (%s)", len, n, st, nn_last_error());
        } else {
            OK(st);
            assert_int_equal(nn_file_info_optimizer(info), NN_OPT_ADAM);
            nn_file_info_free(info);
        }
    }
    tu_rmtree(dir);
    free(dir);
    nn_buffer_free(buf);
    nn_model_free(m);
    nn_rng_free(rng);
}

static void test_io__every_bit_flip_is_refused(void **state)
{
    (void)state;
    nn_model *m = make_model(NN_OPT_ADAM, 1);
    nn_save_options so = full_options(NULL, 1);
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(m, &buf, &n, &so));
    uint8_t *f = buf;
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            f[i] ^= (uint8_t)(1u << bit);
            nn_status st = try_load(f, n, NULL);
            if (st == NN_OK) fail_msg("flipping bit %d of byte %zu went unnoticed", bit, i);
            assert_int_not_equal(try_info(f, n), NN_OK);
            f[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(try_load(f, n, NULL), NN_OK);
    nn_buffer_free(buf);
    nn_model_free(m);
}

static void test_io__magic_damage_is_named(void **state)
{
    (void)state;
    nn_model *m = make_tiny();
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(m, &buf, &n, NULL));
    uint8_t *f = dup_exact(buf, n);

    memcpy(f, "PK\x03\x04....", 8);
    assert_int_equal(try_load(f, n, NULL), NN_ERR_FORMAT);
    assert_error_mentions("not a libnn model");
    memcpy(f, "N\x89MN\n\r\n\x1a", 8); /* 16-bit swap */
    assert_int_equal(try_load(f, n, NULL), NN_ERR_FORMAT);
    assert_error_mentions("byte-swapped");
    memcpy(f, "\x09NNM\r\n\x1a\n", 8); /* 7-bit channel */
    assert_int_equal(try_load(f, n, NULL), NN_ERR_FORMAT);
    assert_error_mentions("7-bit");
    /* CR LF -> LF: the rest of the file shifts by one byte. */
    memcpy(f, buf, n);
    memmove(f + 4, f + 5, n - 5);
    assert_int_equal(try_load(f, n - 1, NULL), NN_ERR_FORMAT);
    assert_error_mentions("text mode");
    free(f);
    nn_buffer_free(buf);
    nn_model_free(m);
}

static void test_io__versions(void **state)
{
    (void)state;
    nn_model *m = make_tiny();
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(m, &buf, &n, NULL));
    uint8_t *f = dup_exact(buf, n);

    f[8] = NN_FORMAT_VERSION_MAJOR + 1; /* newer major */
    fix_crcs(f, n);
    assert_int_equal(try_load(f, n, NULL), NN_ERR_VERSION);
    assert_error_mentions("3.0");
    assert_int_equal(try_info(f, n), NN_ERR_VERSION);
    f[8] = 0;
    f[9] = 1; /* major 1 written big-endian */
    fix_crcs(f, n);
    assert_int_equal(try_load(f, n, NULL), NN_ERR_FORMAT);
    assert_error_mentions("byte-swapped");
    f[9] = 0; /* major 0 never existed */
    fix_crcs(f, n);
    assert_int_equal(try_load(f, n, NULL), NN_ERR_FORMAT);
    f[8] = NN_FORMAT_VERSION_MAJOR;
    f[10] = 7; /* a newer minor of the same major loads */
    fix_crcs(f, n);
    assert_int_equal(try_load(f, n, NULL), NN_OK);
    free(f);
    nn_buffer_free(buf);
    nn_model_free(m);
}

static void test_io__unknown_sections(void **state)
{
    (void)state;
    const char extra[] = "a section from the future";
    sec opt_sec = {TAG("XTRA"), 0x10, (const uint8_t *)extra, sizeof extra};
    sec req_sec = {TAG("XTRA"), REQUIRED, (const uint8_t *)extra, sizeof extra};

    tb base = handmade_file(0, NULL, 0);
    nn_model *m;
    OK(nn_model_load_buffer(&m, base.d, base.n, NULL));
    float *p;
    size_t n;
    OK(nn_model_params(m, &p, &n));
    assert_int_equal(n, 9);
    assert_true(p[0] == 0.5f && p[6] == -0.25f);
    nn_model_free(m);

    tb f = handmade_file(1, &opt_sec, 1); /* newer minor, unknown optional section: skipped */
    assert_int_equal(try_load(f.d, f.n, NULL), NN_OK);
    assert_int_equal(try_info(f.d, f.n), NN_OK);
    free(f.d);
    f = handmade_file(1, &req_sec, 1); /* ... but a required one needs a newer reader */
    assert_int_equal(try_load(f.d, f.n, NULL), NN_ERR_VERSION);
    assert_error_mentions("XTRA");
    free(f.d);
    f = handmade_file(0, &req_sec, 1); /* same minor: not a section of this version at all */
    assert_int_equal(try_load(f.d, f.n, NULL), NN_ERR_FORMAT);
    free(f.d);
    sec dup = {TAG("META"), 0, (const uint8_t *)"\0\0\0\0", 4};
    f = handmade_file(0, &dup, 1);
    assert_int_equal(try_load(f.d, f.n, NULL), NN_ERR_FORMAT);
    assert_error_mentions("duplicate section META");
    free(f.d);
    free(base.d);
}

/* Build a file from ARCH and TENS payloads (and optional extras) and expect refusal. */
static void expect_refused(const tb *arch, const tb *tens, const sec *extra, int n_extra, nn_status want,
                           const char *mention)
{
    sec s[6] = {{TAG("ARCH"), REQUIRED, arch->d, arch->n}, {TAG("TENS"), REQUIRED, tens->d, tens->n}};
    for (int i = 0; i < n_extra; i++) s[2 + i] = extra[i];
    tb f = assemble(1, 0, s, 2 + n_extra);
    nn_status st = try_load(f.d, f.n, NULL);
    if (st != want) fail_msg("status %d, expected %d: %s", st, want, nn_last_error());
    if (mention) assert_error_mentions(mention);
    free(f.d);
}

static void test_io__huge_counts_refused_before_allocation(void **state)
{
    (void)state;
    spec_layer l = {0, 2, 3, "tanh"};
    tb arch = arch_payload(2, 1, 1, &l), tens = {0};
    tb_u32(&tens, 0);

    tb a = arch_payload((int64_t)1 << 40, 1, 1, &l);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "input features");
    free(a.d);
    a = arch_payload(2, 1, 1, &l);
    wr32(a.d + 12, UINT32_MAX); /* layer count */
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "layers");
    free(a.d);
    spec_layer wide = {0, 2, (int64_t)1 << 31, "relu"};
    a = arch_payload(2, 1, 1, &wide);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "outputs");
    free(a.d);
    spec_layer big[2] = {{0, 1 << 24, 1 << 24, "relu"}};
    a = arch_payload(1 << 24, 1, 1, big);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "parameters");
    free(a.d);

    /* Within the limits (2^29 parameters, 2 GiB), but the file holds a few bytes of them: refused
     * while reading the tensor header, before the model's buffers exist. */
    spec_layer large = {0, 1 << 20, 512, "relu"};
    a = arch_payload(1 << 20, 1, 1, &large);
    tb t = {0};
    int64_t kd[2] = {1 << 20, 512};
    tb_u32(&t, 2);
    tensor_record(&t, "dense_0/kernel", 2, kd, 1.0f, 16);
    expect_refused(&a, &t, NULL, 0, NN_ERR_FORMAT, "remain");
    free(a.d);
    free(t.d);

    t = (tb){0};
    tb_u32(&t, UINT32_MAX); /* tensor count */
    expect_refused(&arch, &t, NULL, 0, NN_ERR_FORMAT, "tensors");
    free(t.d);
    t = (tb){0};
    tb_u32(&t, 1);
    tb_u32(&t, UINT32_MAX); /* name length */
    expect_refused(&arch, &t, NULL, 0, NN_ERR_FORMAT, "tensor name");
    free(t.d);

    /* Valid tensors, so that what follows them is what fails. */
    tb okt = {0};
    int64_t kd2[2] = {2, 3}, bd[1] = {3};
    tb_u32(&okt, 2);
    tensor_record(&okt, "dense_0/kernel", 2, kd2, 0.5f, SIZE_MAX);
    tensor_record(&okt, "dense_0/bias", 1, bd, 0.5f, SIZE_MAX);
    tb meta = {0};
    tb_u32(&meta, UINT32_MAX);
    sec ms = {TAG("META"), 0, meta.d, meta.n};
    expect_refused(&arch, &okt, &ms, 1, NN_ERR_FORMAT, "metadata entries");
    free(meta.d);
    meta = (tb){0};
    tb_u32(&meta, 1);
    tb_u32(&meta, 3);
    tb_put(&meta, "key", 3);
    tb_u32(&meta, UINT32_MAX); /* value length */
    ms = (sec){TAG("META"), 0, meta.d, meta.n};
    expect_refused(&arch, &okt, &ms, 1, NN_ERR_FORMAT, "metadata value");
    free(meta.d);

    /* A valid model with an optimizer state that claims 2^60 values. */
    tb om = {0};
    tb_u32(&om, NN_OPT_ADAGRAD);
    tb_u64(&om, 1);
    tb_u32(&om, 0);
    tb_u32(&om, 1);
    tb_str(&om, "accumulator");
    tb_u64(&om, (uint64_t)1 << 60);
    sec os = {TAG("OPTM"), 0, om.d, om.n};
    expect_refused(&arch, &okt, &os, 1, NN_ERR_FORMAT, "values for 9 parameters");
    om.n -= 8;
    tb_u64(&om, 9); /* the right length, but no data */
    os.len = om.n;
    expect_refused(&arch, &okt, &os, 1, NN_ERR_FORMAT, "truncated optimizer state");
    free(om.d);

    /* A section that claims more bytes than the file has. */
    tb f = handmade_file(0, NULL, 0);
    f.d[16 + 8 + 7] = 0x7f;
    fix_crcs(f.d, f.n);
    assert_int_equal(try_load(f.d, f.n, NULL), NN_ERR_FORMAT);
    assert_error_mentions("remain");
    free(f.d);
    free(okt.d);
    free(arch.d);
    free(tens.d);
}

static void test_io__inconsistent_architecture_refused(void **state)
{
    (void)state;
    tb tens = {0};
    tb_u32(&tens, 0);
    spec_layer chain[2] = {{0, 4, 3, "relu"}, {0, 5, 2, "linear"}};
    tb a = arch_payload(4, 0, 2, chain);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "layer 1");
    free(a.d);
    spec_layer first = {0, 3, 3, "relu"};
    a = arch_payload(4, 0, 1, &first);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "layer 0");
    free(a.d);
    spec_layer act = {1, 4, 5, "relu"};
    a = arch_payload(4, 0, 1, &act);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "activation layer");
    free(a.d);
    spec_layer unknown_act = {0, 4, 3, "softmax"};
    a = arch_payload(4, 0, 1, &unknown_act);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "unknown activation 'softmax'");
    free(a.d);
    spec_layer conv = {4, 4, 3, "relu"};
    a = arch_payload(4, 0, 1, &conv);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "kind 4");
    free(a.d);
    spec_layer ok = {0, 4, 3, "relu"};
    a = arch_payload(4, 9, 1, &ok);
    expect_refused(&a, &tens, NULL, 0, NN_ERR_FORMAT, "loss");
    free(a.d);
    free(tens.d);
}

static void test_io__tensor_problems_refused(void **state)
{
    (void)state;
    spec_layer l[2] = {{0, 4, 3, "relu"}, {0, 3, 2, "linear"}};
    tb arch = arch_payload(4, 0, 2, l);
    int64_t k0[2] = {4, 3}, b0[1] = {3}, k1[2] = {3, 2}, b1[1] = {2}, k1_wrong[2] = {2, 3};

    tb t = {0};
    tb_u32(&t, 4);
    tensor_record(&t, "dense_0/kernel", 2, k0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_0/bias", 1, b0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_1/kernel", 2, k1_wrong, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_1/bias", 1, b1, 1.0f, SIZE_MAX);
    expect_refused(&arch, &t, NULL, 0, NN_ERR_FORMAT, "tensor 'dense_1/kernel' at byte");
    assert_error_mentions("shape (2, 3), layer 1's kernel is (3, 2)");
    free(t.d);

    t = (tb){0}; /* missing bias */
    tb_u32(&t, 3);
    tensor_record(&t, "dense_0/kernel", 2, k0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_0/bias", 1, b0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_1/kernel", 2, k1, 1.0f, SIZE_MAX);
    expect_refused(&arch, &t, NULL, 0, NN_ERR_FORMAT, "'dense_1/bias' is missing");
    free(t.d);

    t = (tb){0}; /* duplicate */
    tb_u32(&t, 5);
    tensor_record(&t, "dense_0/kernel", 2, k0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_0/bias", 1, b0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_0/bias", 1, b0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_1/kernel", 2, k1, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_1/bias", 1, b1, 1.0f, SIZE_MAX);
    expect_refused(&arch, &t, NULL, 0, NN_ERR_FORMAT, "duplicate tensor 'dense_0/bias'");
    free(t.d);

    t = (tb){0}; /* a name that belongs to no layer */
    tb_u32(&t, 1);
    tensor_record(&t, "dense_7/kernel", 2, k0, 1.0f, SIZE_MAX);
    expect_refused(&arch, &t, NULL, 0, NN_ERR_FORMAT, "belongs to no layer");
    free(t.d);

    t = (tb){0}; /* trailing bytes after the last tensor */
    tb_u32(&t, 4);
    tensor_record(&t, "dense_0/kernel", 2, k0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_0/bias", 1, b0, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_1/kernel", 2, k1, 1.0f, SIZE_MAX);
    tensor_record(&t, "dense_1/bias", 1, b1, 1.0f, SIZE_MAX);
    sec good[2] = {{TAG("ARCH"), REQUIRED, arch.d, arch.n}, {TAG("TENS"), REQUIRED, t.d, t.n}};
    tb f = assemble(1, 0, good, 2);
    assert_int_equal(try_load(f.d, f.n, NULL), NN_OK); /* the control */
    free(f.d);
    tb_u32(&t, 0);
    expect_refused(&arch, &t, NULL, 0, NN_ERR_FORMAT, "after the last tensor");
    free(t.d);

    t = (tb){0}; /* wrong dtype */
    tb_u32(&t, 1);
    tb_str(&t, "dense_0/bias");
    tb_u32(&t, 2);
    tb_u32(&t, 1);
    tb_u64(&t, 3);
    tb_put(&t, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
    expect_refused(&arch, &t, NULL, 0, NN_ERR_FORMAT, "dtype");
    free(t.d);
    free(arch.d);
}

/* The file's bytes of the first float equal to v, replaced by `bits`, with checksums fixed. */
static void patch_float(uint8_t *f, size_t n, float v, uint32_t bits)
{
    uint8_t want[4];
    uint32_t u;
    memcpy(&u, &v, 4);
    wr32(want, u);
    for (size_t i = 16; i + 4 <= n; i++) {
        if (memcmp(f + i, want, 4) == 0) {
            wr32(f + i, bits);
            fix_crcs(f, n);
            return;
        }
    }
    fail_msg("value %g not found in the file", (double)v);
}

static void test_io__nonfinite_weights_refused_unless_allowed(void **state)
{
    (void)state;
    nn_model *m = make_model(NN_OPT_ADAM, 1);
    float *p;
    size_t n;
    OK(nn_model_params(m, &p, &n));
    p[n - 1] = 1234.5f; /* a marker to find in the file, replaced there by a NaN */
    uint32_t nan_bits = 0x7fc01234u; /* a NaN with a payload, to check it survives exactly */
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    void *buf;
    size_t len;
    OK(nn_model_save_buffer(m, &buf, &len, &so));
    patch_float(buf, len, 1234.5f, nan_bits);
    assert_int_equal(try_load(buf, len, NULL), NN_ERR_NUMERIC);
    assert_error_mentions("dense_2/bias");
    assert_int_equal(try_info(buf, len), NN_ERR_NUMERIC);
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.allow_nonfinite = 1;
    nn_model *back;
    OK(nn_model_load_buffer(&back, buf, len, &lo));
    float *pb;
    size_t nb;
    OK(nn_model_params(back, &pb, &nb));
    assert_int_equal(nb, n);
    assert_memory_equal(&pb[n - 1], &nan_bits, 4);
    nn_model_free(back);
    nn_buffer_free(buf);

    p[n - 1] = 0.0f;
    const char *name;
    float *st;
    size_t sn;
    OK(nn_optimizer_state(nn_model_get_optimizer(m), 1, &name, &st, &sn));
    st[0] = 4321.25f;
    OK(nn_model_save_buffer(m, &buf, &len, &so));
    patch_float(buf, len, 4321.25f, 0x7f800000u); /* +infinity */
    assert_int_equal(try_load(buf, len, NULL), NN_ERR_NUMERIC);
    assert_error_mentions("optimizer state");
    nn_buffer_free(buf);
    nn_model_free(m);
}

/* ---------------------------------------------------------------- save refuses what load refuses */

static int count_entries(const char *dir);

/* The message after its "who" prefix ("nn_model_save: ", "model file: ", "model file 'p': "). */
static const char *detail_of(const char *msg)
{
    const char *p = strstr(msg, ": ");
    return p ? p + 2 : msg;
}

/* Save m (buffer and path) and load `file` (n bytes): all three refused, with the same words. */
static void expect_save_and_load_agree(nn_model *m, const nn_save_options *so, const void *file, size_t n,
                                       nn_status load_status, nn_status save_status, const char *mention)
{
    char load_msg[1024], save_msg[1024];
    assert_int_equal(try_load(file, n, NULL), load_status);
    assert_error_mentions(mention);
    snprintf(load_msg, sizeof load_msg, "%s", detail_of(nn_last_error()));
    void *buf = (void *)&buf;
    size_t len = 1;
    assert_int_equal(nn_model_save_buffer(m, &buf, &len, so), save_status);
    assert_null(buf);
    assert_int_equal(len, 0);
    snprintf(save_msg, sizeof save_msg, "%s", nn_last_error());
    assert_true(strncmp(save_msg, "nn_model_save: ", 15) == 0);
    assert_string_equal(detail_of(save_msg), load_msg);
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/m.nnm", dir);
    assert_int_equal(nn_model_save(m, path, so), save_status);
    assert_string_equal(nn_last_error(), save_msg);
    assert_int_equal(count_entries(dir), 0); /* nothing written, not even a temporary */
    tu_rmtree(dir);
    free(dir);
}

static void test_io__save_refuses_what_load_refuses(void **state)
{
    (void)state;
    nn_model *m;
    const int64_t over = NN_FORMAT_MAX_FEATURES + 1;

    /* 2^24 + 1 inputs: the model API takes them, the format does not. */
    OK(nn_model_create(&m, over));
    OK(nn_model_add_dense(m, 1, nn_activation_make(NN_ACT_LINEAR)));
    OK(nn_model_compile(m, NN_LOSS_MSE, NULL));
    spec_layer wide_in = {0, over, 1, "linear"};
    tb a = arch_payload_v2(over, 1, 1, &wide_in), t = {0};
    tb_u32(&t, 0);
    sec s[2] = {{TAG("ARCH"), REQUIRED, a.d, a.n}, {TAG("TENS"), REQUIRED, t.d, t.n}};
    tb f = assemble(NN_FORMAT_VERSION_MAJOR, 0, s, 2);
    expect_save_and_load_agree(m, NULL, f.d, f.n, NN_ERR_FORMAT, NN_ERR_UNSUPPORTED, "input features");
    free(a.d);
    free(f.d);
    nn_model_free(m);

    /* A layer of 2^24 + 1 units. */
    OK(nn_model_create(&m, 1));
    OK(nn_model_add_dense(m, over, nn_activation_make(NN_ACT_LINEAR)));
    OK(nn_model_compile(m, NN_LOSS_MSE, NULL));
    spec_layer wide_out = {0, 1, over, "linear"};
    a = arch_payload_v2(1, 1, 1, &wide_out);
    s[0] = (sec){TAG("ARCH"), REQUIRED, a.d, a.n};
    f = assemble(NN_FORMAT_VERSION_MAJOR, 0, s, 2);
    expect_save_and_load_agree(m, NULL, f.d, f.n, NN_ERR_FORMAT, NN_ERR_UNSUPPORTED, "outputs");
    free(a.d);
    free(f.d);
    free(t.d);
    nn_model_free(m);

    /* A NaN weight, and an infinite optimizer state: the file with those values, written by hand
     * (the writer no longer makes it), is refused by load in the same words. */
    m = make_model(NN_OPT_ADAM, 1);
    float *p;
    size_t n;
    OK(nn_model_params(m, &p, &n));
    nn_save_options so = NN_SAVE_OPTIONS_INIT;
    so.with_optimizer = 1;
    p[3] = 1234.5f;
    void *buf;
    size_t len;
    OK(nn_model_save_buffer(m, &buf, &len, &so));
    patch_float(buf, len, 1234.5f, 0x7fc00000u);
    p[3] = NAN;
    expect_save_and_load_agree(m, &so, buf, len, NN_ERR_NUMERIC, NN_ERR_NUMERIC, "tensor 'dense_0/kernel'");
    nn_buffer_free(buf);
    p[3] = 0.5f;
    const char *name;
    float *st;
    size_t sn;
    OK(nn_optimizer_state(nn_model_get_optimizer(m), 0, &name, &st, &sn));
    st[2] = 4321.25f;
    OK(nn_model_save_buffer(m, &buf, &len, &so));
    patch_float(buf, len, 4321.25f, 0xff800000u);
    st[2] = -INFINITY;
    expect_save_and_load_agree(m, &so, buf, len, NN_ERR_NUMERIC, NN_ERR_NUMERIC, "optimizer state");
    nn_buffer_free(buf);
    /* Weights only: the optimizer's state is not written, so it does not matter. */
    OK(nn_model_save_buffer(m, &buf, &len, NULL));
    assert_int_equal(try_load(buf, len, NULL), NN_OK);
    nn_buffer_free(buf);
    nn_model_free(m);
}

/* ---------------------------------------------------------------- info refuses what load refuses */

/* The sections of a file (without its end section), pointing into it. */
static int split_sections(const uint8_t *f, size_t n, sec *out, int cap)
{
    int count = 0;
    for (size_t pos = 16; pos + 20 <= n && count < cap;) {
        uint64_t len = rd64(f + pos + 8);
        if (rd32(f + pos) == TAG("END!")) break;
        out[count++] = (sec){rd32(f + pos), rd32(f + pos + 4), f + pos + 20, (size_t)len};
        pos += 20 + (size_t)len;
    }
    return count;
}

typedef struct optm_edit {
    int set_lr;
    float lr;              /* replaces the first hyperparameter's value */
    const char *extra_hp;  /* appended hyperparameter name */
    int drop_states;       /* state arrays left out, from the end */
    int64_t length_delta;  /* added to every state's declared and written length */
} optm_edit;

/* An OPTM payload from the optimizer's own values, edited. */
static tb optm_payload(nn_optimizer *opt, size_t params, const optm_edit *e)
{
    tb b = {0};
    int nh = nn_optimizer_hparam_count(opt), ns = nn_optimizer_state_count(opt) - e->drop_states;
    tb_u32(&b, (uint32_t)nn_optimizer_get_kind(opt));
    tb_u64(&b, nn_optimizer_get_iterations(opt));
    tb_u32(&b, (uint32_t)(nh + (e->extra_hp != NULL)));
    for (int i = 0; i < nh; i++) {
        const char *name;
        float v;
        OK(nn_optimizer_hparam(opt, i, &name, &v));
        tb_str(&b, name);
        tb_f32(&b, i == 0 && e->set_lr ? e->lr : v);
    }
    if (e->extra_hp) {
        tb_str(&b, e->extra_hp);
        tb_f32(&b, 0.5f);
    }
    tb_u32(&b, (uint32_t)ns);
    for (int i = 0; i < ns; i++) {
        const char *name;
        float *data;
        size_t len;
        OK(nn_optimizer_state(opt, i, &name, &data, &len));
        assert_int_equal(len, params);
        size_t written = (size_t)((int64_t)len + e->length_delta);
        tb_str(&b, name);
        tb_u64(&b, written);
        for (size_t j = 0; j < written; j++) tb_f32(&b, j < len ? data[j] : 0.0f);
    }
    return b;
}

/* Checksum-consistent files that only a full check refuses: load, info, by path and from memory,
 * must all refuse each with one status and one message. */
static void test_io__info_refuses_what_load_refuses(void **state)
{
    (void)state;
    nn_model *m = make_model(NN_OPT_ADAM, 2);
    float *p;
    size_t n;
    OK(nn_model_params(m, &p, &n));
    void *buf;
    size_t len;
    OK(nn_model_save_buffer(m, &buf, &len, NULL)); /* ARCH, META, TENS */
    sec base[8];
    int nb = split_sections(buf, len, base, 8);
    assert_int_equal(nb, 3);
    nn_optimizer *opt = nn_model_get_optimizer(m);

    /* TENS with a NaN kernel value, and with its last tensor (dense_2/bias, 3 values) cut. */
    uint8_t *nan_tens = dup_exact(base[2].p, base[2].len);
    wr32(nan_tens + 4 + 4 + strlen("dense_0/kernel") + 4 + 4 + 16, 0x7fc00000u);
    uint8_t *short_tens = dup_exact(base[2].p, base[2].len);
    wr32(short_tens, rd32(short_tens) - 1);
    size_t short_len = base[2].len - (4 + strlen("dense_2/bias") + 4 + 4 + 8 + 3 * 4);

    static const struct {
        const char *what;
        optm_edit e;
        int tens; /* 0 as saved, 1 NaN, 2 a tensor missing */
        nn_status want;
        const char *mention;
    } cases[] = {
        {"as saved (the control)", {0}, 0, NN_OK, NULL},
        {"NaN weight", {0}, 1, NN_ERR_NUMERIC, "non-finite"},
        {"tensor missing", {0}, 2, NN_ERR_FORMAT, "'dense_2/bias' is missing"},
        {"negative learning rate", {1, -1.0f, NULL, 0, 0}, 0, NN_ERR_FORMAT, "lr is -1"},
        {"infinite learning rate", {1, INFINITY, NULL, 0, 0}, 0, NN_ERR_FORMAT, "not finite"},
        {"hyperparameter Adam lacks", {0, 0, "momentum", 0, 0}, 0, NN_ERR_FORMAT, "no hyperparameter 'momentum'"},
        {"one state array too few", {0, 0, NULL, 1, 0}, 0, NN_ERR_FORMAT, "adam keeps 2"},
        {"state arrays one value short", {0, 0, NULL, 0, -1}, 0, NN_ERR_FORMAT, "values for"},
        {"state arrays one value long", {0, 0, NULL, 0, 1}, 0, NN_ERR_FORMAT, "values for"},
    };
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/case.nnm", dir);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tb optm = optm_payload(opt, n, &cases[c].e);
        sec s[4] = {base[0], base[1], base[2], {TAG("OPTM"), 0, optm.d, optm.n}};
        if (cases[c].tens == 1) s[2].p = nan_tens;
        if (cases[c].tens == 2) s[2].p = short_tens, s[2].len = short_len;
        tb f = assemble(NN_FORMAT_VERSION_MAJOR, 0, s, 4);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(f.d, 1, f.n, fp), f.n);
        assert_int_equal(fclose(fp), 0);

        char load_msg[1024];
        nn_model *back = NULL;
        nn_status ls = nn_model_load(&back, path, NULL);
        snprintf(load_msg, sizeof load_msg, "%s", nn_last_error());
        nn_model_free(back);
        nn_file_info *info = NULL;
        nn_status is = nn_file_info_read(&info, path);
        if (ls != cases[c].want || is != ls)
            fail_msg("%s: load %d, info %d, expected %d (%s)", cases[c].what, ls, is, cases[c].want, nn_last_error());
        if (ls != NN_OK) {
            assert_null(info);
            assert_string_equal(nn_last_error(), load_msg);
            assert_error_mentions(path);
            assert_error_mentions(cases[c].mention);
            /* From memory: the same words, without the path. */
            assert_int_equal(try_load(f.d, f.n, NULL), ls);
            snprintf(load_msg, sizeof load_msg, "%s", nn_last_error());
            assert_int_equal(try_info(f.d, f.n), ls);
            assert_string_equal(nn_last_error(), load_msg);
        } else {
            assert_int_equal(nn_file_info_optimizer(info), NN_OPT_ADAM);
        }
        nn_file_info_free(info);
        free(f.d);
        free(optm.d);
    }
    tu_rmtree(dir);
    free(dir);
    free(nan_tens);
    free(short_tens);
    nn_buffer_free(buf);
    nn_model_free(m);
}

/* ---------------------------------------------------------------- what a path can be */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Opening a FIFO for reading waits for a writer: load and info must refuse it without waiting.
 * tu_watchdog() turns a regression into a failure instead of a hung test. */
static void test_io__fifo_refused_without_blocking(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/pipe.nnm", dir);
    if (mkfifo(path, 0600) != 0) {
        tu_rmtree(dir);
        free(dir);
        skip();
    }
    tu_watchdog(10, "test_io: a model read on a FIFO");
    nn_model *m = (nn_model *)&m;
    assert_int_equal(nn_model_load(&m, path, NULL), NN_ERR_IO);
    assert_null(m);
    assert_error_mentions("FIFO");
    assert_error_mentions(path);
    nn_file_info *info = (nn_file_info *)&info;
    assert_int_equal(nn_file_info_read(&info, path), NN_ERR_IO);
    assert_null(info);
    assert_error_mentions("FIFO");
    tu_watchdog(0, NULL);
    /* A character device is refused the same way. */
    if (access("/dev/zero", R_OK) == 0) {
        assert_int_equal(nn_model_load(&m, "/dev/zero", NULL), NN_ERR_IO);
        assert_error_mentions("character device");
    }
    tu_rmtree(dir);
    free(dir);
}

static long peak_rss_kb(void)
{
    struct rusage u;
    assert_int_equal(getrusage(RUSAGE_SELF, &u), 0);
    return u.ru_maxrss;
}

/* Load and info of path must fail quickly, mentioning `mention`, without the peak memory growing
 * by anything near the file's size. */
static void expect_quick_refusal(const char *path, const char *mention)
{
    long before = peak_rss_kb();
    double t0 = now_s();
    nn_model *m;
    nn_status st = nn_model_load(&m, path, NULL);
    if (st == NN_OK) fail_msg("%s loaded", path);
    assert_error_mentions(mention);
    nn_file_info *info;
    assert_int_equal(nn_file_info_read(&info, path), st);
    assert_error_mentions(mention);
    double dt = now_s() - t0;
    long grew = peak_rss_kb() - before;
    if (dt > 2.0) fail_msg("refusing %s took %.1f s", path, dt);
    if (grew > 64 * 1024) fail_msg("refusing %s raised the peak memory by %ld MB", path, grew / 1024);
}

/* A file of 3 GiB (sparse: no disk used) is judged by its header, not read into memory first; one
 * whose sections disagree with its size is refused before the excess is read. */
static void test_io__huge_file_refused_by_its_header(void **state)
{
    (void)state;
    const off_t big = (off_t)3 << 30;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/sparse.nnm", dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fclose(fp), 0);
    if (truncate(path, big) != 0) {
        tu_rmtree(dir);
        free(dir);
        skip(); /* a file system without sparse files this large */
    }
    expect_quick_refusal(path, "wrong magic at byte 0");

    /* A valid model followed by 3 GiB of zeros. */
    nn_model *m = make_tiny();
    void *buf;
    size_t n;
    OK(nn_model_save_buffer(m, &buf, &n, NULL));
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(truncate(path, big), 0);
    expect_quick_refusal(path, "unexpected bytes after the end section");

    /* A valid header and architecture, then a tensor section that declares the rest of the file:
     * more than a 2 -> 3 model's weights can take. */
    spec_layer l = {0, 2, 3, "tanh"};
    tb arch = arch_payload(2, 1, 1, &l), f = {0};
    tb_put(&f, "\x89NNM\r\n\x1a\n\x01\0\0\0\0\0\0\0", 16);
    put_section(&f, TAG("ARCH"), REQUIRED, arch.d, arch.n);
    tb_u32(&f, TAG("TENS"));
    tb_u32(&f, REQUIRED);
    tb_u64(&f, (uint64_t)big - f.n - 16);
    tb_u32(&f, 0);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f.d, 1, f.n, fp), f.n);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(truncate(path, big), 0);
    expect_quick_refusal(path, "a valid one holds at most");
    free(arch.d);
    free(f.d);
    nn_buffer_free(buf);
    nn_model_free(m);
    tu_rmtree(dir);
    free(dir);
}

static void test_io__load_argument_and_file_errors(void **state)
{
    (void)state;
    nn_model *m = (nn_model *)&m;
    assert_int_equal(nn_model_load(&m, "/nonexistent-folder/x.nnm", NULL), NN_ERR_IO);
    assert_null(m);
    assert_error_mentions("No such file");
    /* A path longer than the message's buffer loses its middle, not the reason after it; no UTF-8
     * character is cut in two. */
    char longpath[1200] = "/nonexistent-folder/";
    for (size_t k = strlen(longpath); k + 8 < sizeof longpath; k += 2) memcpy(longpath + k, "\xc3\xa9", 2);
    strcat(longpath, "/x.nnm");
    assert_int_equal(nn_model_load(&m, longpath, NULL), NN_ERR_IO);
    const char *msg = nn_last_error(), *dots = strstr(msg, "...");
    if (!dots || !strstr(dots, "/x.nnm") || !strstr(dots, "No such file") || strlen(msg) > 511)
        fail_msg("a 1,200-byte path: %s", msg);
    assert_true(strncmp(msg, "cannot open '/nonexistent-folder/", 32) == 0);
    assert_int_equal((unsigned char)dots[-1], 0xa9); /* the last character before the cut whole */
    assert_int_equal((unsigned char)dots[3], 0xc3);  /* and the first after it */
    char *dir = tu_tmpdir();
    assert_int_equal(nn_model_load(&m, dir, NULL), NN_ERR_IO); /* a folder */
    nn_file_info *info;
    assert_int_equal(nn_file_info_read(&info, dir), NN_ERR_IO);
    assert_int_equal(nn_model_load(NULL, dir, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_model_load_buffer(&m, NULL, 10, NULL), NN_ERR_INVALID_ARGUMENT);
    nn_load_options lo = NN_LOAD_OPTIONS_INIT;
    lo.version = 0;
    tb f = handmade_file(0, NULL, 0);
    assert_int_equal(nn_model_load_buffer(&m, f.d, f.n, &lo), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(try_load(f.d, 0, NULL), NN_ERR_FORMAT);

    /* A damaged file on disk: the message names the file and the byte. */
    char path[512];
    snprintf(path, sizeof path, "%s/bad.nnm", dir);
    f.d[f.n - 30] ^= 1;
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f.d, 1, f.n, fp), f.n);
    fclose(fp);
    assert_int_equal(nn_model_load(&m, path, NULL), NN_ERR_FORMAT);
    assert_error_mentions(path);
    assert_error_mentions("at byte");
    assert_int_equal(nn_file_info_read(&info, path), NN_ERR_FORMAT);
    assert_error_mentions(path);
    free(f.d);
    tu_rmtree(dir);
    free(dir);
}

/* ---------------------------------------------------------------- failing saves */

static void test_io__save_failures_leave_earlier_file(void **state)
{
    (void)state;
    nn_model *m = make_tiny();
    assert_int_equal(nn_model_save(m, "/nonexistent-folder/m.nnm", NULL), NN_ERR_IO);
    assert_error_mentions("No such file or directory");

    char *dir = tu_tmpdir();
    char path[512];
    /* The target is a folder: refused, and the folder is untouched. */
    assert_int_equal(nn_model_save(m, dir, NULL), NN_ERR_IO);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* A device (as root, a rename would replace /dev/full itself). */
    if (stat("/dev/full", &st) == 0) {
        assert_int_equal(nn_model_save(m, "/dev/full", NULL), NN_ERR_IO);
        assert_int_equal(stat("/dev/full", &st), 0);
        assert_true(S_ISCHR(st.st_mode));
    }
    /* A symbolic link is not silently replaced. */
    snprintf(path, sizeof path, "%s/link.nnm", dir);
    assert_int_equal(symlink("elsewhere.nnm", path), 0);
    assert_int_equal(nn_model_save(m, path, NULL), NN_ERR_IO);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    tu_rmtree(dir);
    free(dir);
    nn_model_free(m);
}

static int file_equals(const char *path, const void *data, size_t n)
{
    uint8_t buf[4096];
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    size_t got = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    return got == n && memcmp(buf, data, n) == 0;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++; /* temporaries are hidden */
    closedir(d);
    return n;
}

/* In a child with its own mount namespace: a 16 KiB tmpfs gives a real ENOSPC, a read-only remount
 * a real EROFS. Exit codes: 0 pass, 77 cannot set up (skip), others name the failed check. */
static int full_disk_child(const char *dir)
{
    if (unshare(CLONE_NEWNS) != 0) return 77;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return 77;
    if (mount("tmpfs", dir, "tmpfs", 0, "size=16k") != 0) return 77;
    char path[512];
    snprintf(path, sizeof path, "%s/m.nnm", dir);
    nn_model *small = make_tiny(), *big;
    void *before;
    size_t n;
    if (nn_model_save_buffer(small, &before, &n, NULL) != NN_OK) return 10;
    if (nn_model_save(small, path, NULL) != NN_OK) return 11;
    if (!file_equals(path, before, n)) {
        nn_buffer_free(before);
        if (nn_model_save_buffer(small, &before, &n, NULL) != NN_OK) return 12;
    }
    /* The creation time may have ticked between the two encodings; compare with what is on disk. */
    FILE *fp = fopen(path, "rb");
    uint8_t disk[4096];
    size_t dn = fp ? fread(disk, 1, sizeof disk, fp) : 0;
    if (fp) fclose(fp);
    if (dn == 0) return 13;

    if (nn_model_create(&big, 1000) != NN_OK || nn_model_add_dense(big, 64, nn_activation_make(NN_ACT_RELU)) ||
        nn_model_compile(big, NN_LOSS_MSE, NULL))
        return 14;
    if (nn_model_save(big, path, NULL) != NN_ERR_IO) return 15; /* 256 KB into 16 KiB */
    if (!strstr(nn_last_error(), "No space left")) return 16;
    if (!file_equals(path, disk, dn)) return 17;
    if (count_entries(dir) != 1) return 18; /* the temporary file was removed */
    if (mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, "size=16k") != 0) return 77;
    if (nn_model_save(small, path, NULL) != NN_ERR_IO) return 19;
    if (!strstr(nn_last_error(), "Read-only")) return 20;
    if (!file_equals(path, disk, dn)) return 21;
    nn_buffer_free(before);
    nn_model_free(small);
    nn_model_free(big);
    umount(dir);
    return 0;
}

static void test_io__full_disk_and_read_only_leave_earlier_file(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    assert_non_null(dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(full_disk_child(dir));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    tu_rmtree(dir);
    free(dir);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) skip(); /* no mount namespace here (not root, or a sandbox) */
    if (WEXITSTATUS(status) != 0) fail_msg("full-disk check %d failed", WEXITSTATUS(status));
}

/* A save killed midway (here by SIGXFSZ: the file-size limit is below the model's size) leaves its
 * temporary file under the name io.h documents, ".NAME.nntmp-XXXXXX", so that a caller can tell an
 * orphan from its own files; and the target is not created. */
static void test_io__killed_save_leaves_documented_temporary_name(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.nnm", dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit fsize = {4096, 4096}, core = {0, 0};
        nn_model *big;
        signal(SIGXFSZ, SIG_DFL);
        if (setrlimit(RLIMIT_CORE, &core) != 0 || setrlimit(RLIMIT_FSIZE, &fsize) != 0) _exit(77);
        if (nn_model_create(&big, 1000) != NN_OK || nn_model_add_dense(big, 64, nn_activation_make(NN_ACT_RELU)) ||
            nn_model_compile(big, NN_LOSS_MSE, NULL))
            _exit(2);
        nn_model_save(big, path, NULL); /* 256 KB: killed at the 4 KiB limit */
        _exit(3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        tu_rmtree(dir);
        free(dir);
        skip();
    }
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int entries = 0, shaped = 0;
    const char *stem = ".model.nnm.nntmp-";
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        entries++;
        const char *n = e->d_name;
        if (strlen(n) == strlen(stem) + 6 && !strncmp(n, stem, strlen(stem)) &&
            strspn(n + strlen(stem), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 6)
            shaped++;
        else
            fprintf(stderr, "unexpected entry: %s\n", n);
    }
    closedir(d);
    tu_rmtree(dir);
    free(dir);
    assert_int_equal(entries, 1);
    assert_int_equal(shaped, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io__buffer_round_trip_restores_everything),
        cmocka_unit_test(test_io__format2_round_trip_of_every_layer_kind),
        cmocka_unit_test(test_io__format2_layer_records_refused_when_damaged),
        cmocka_unit_test(test_io__every_optimizer_resumes_exactly),
        cmocka_unit_test(test_io__weights_only_file_loads_without_optimizer),
        cmocka_unit_test(test_io__path_round_trip_and_file_info),
        cmocka_unit_test(test_io__creation_time_recorded_unless_given),
        cmocka_unit_test(test_io__save_refuses_bad_arguments),
        cmocka_unit_test(test_io__golden_file_loads_with_same_outputs),
        cmocka_unit_test(test_io__golden_v2_file_loads_every_kind_exactly),
        cmocka_unit_test(test_io__every_truncation_is_refused),
        cmocka_unit_test(test_io__every_bit_flip_is_refused),
        cmocka_unit_test(test_io__magic_damage_is_named),
        cmocka_unit_test(test_io__versions),
        cmocka_unit_test(test_io__unknown_sections),
        cmocka_unit_test(test_io__huge_counts_refused_before_allocation),
        cmocka_unit_test(test_io__inconsistent_architecture_refused),
        cmocka_unit_test(test_io__tensor_problems_refused),
        cmocka_unit_test(test_io__nonfinite_weights_refused_unless_allowed),
        cmocka_unit_test(test_io__save_refuses_what_load_refuses),
        cmocka_unit_test(test_io__info_refuses_what_load_refuses),
        cmocka_unit_test(test_io__fifo_refused_without_blocking),
        cmocka_unit_test(test_io__huge_file_refused_by_its_header),
        cmocka_unit_test(test_io__load_argument_and_file_errors),
        cmocka_unit_test(test_io__save_failures_leave_earlier_file),
        cmocka_unit_test(test_io__full_disk_and_read_only_leave_earlier_file),
        cmocka_unit_test(test_io__killed_save_leaves_documented_temporary_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
