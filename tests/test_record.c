/* nn-mnist's run records (tools/nn-mnist/record.c, record_json.c): the JSON form reads back bit for
 * bit (NaN metrics, uint64 seeds, subnormals, the test bitset), the older text form still reads,
 * and what the checks refuse is refused from either form and by save. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "record.h"

/* A finished run of 3 epochs, 3 classes, 6 test examples (4 right), no validation split. */
static void make_record(nnm_record *r)
{
    nnm_record_init(r);
    assert_int_equal(nnm_record_alloc(r, 3, 3), 0);
    snprintf(r->run_id, sizeof r->run_id, "adam_relu");
    snprintf(r->optimizer, sizeof r->optimizer, "adam");
    snprintf(r->activation, sizeof r->activation, "relu");
    snprintf(r->settings, sizeof r->settings, "dataset=mnist optimizer=adam \"quoted\" back\\slash ünï");
    snprintf(r->model_path, sizeof r->model_path, "/tmp/models/adam_relu.nnm");
    r->lr = 0.1;
    r->seed = UINT64_MAX;
    r->epochs = 3;
    r->batch_size = 32;
    r->params = 101770;
    r->blas_threads = 1;
    r->train_accuracy = 0.95250000000000001;
    r->test_accuracy = 4.0 / 6.0;
    r->train_loss = 1e-310; /* subnormal */
    r->test_loss = 0.29362446069717407;
    r->seconds = 12.345;
    int64_t conf[9] = {2, 0, 1, 0, 1, 0, 1, 0, 1};
    memcpy(r->confusion, conf, sizeof conf);
    for (int i = 0; i < 3; i++) {
        r->curve_loss[i] = 1.0 / (i + 3);
        r->curve_accuracy[i] = 0.5 + 0.1 * i;
        r->curve_heldout_loss[i] = -0.0 + i; /* -0.0 first: its sign must survive */
        r->curve_heldout_accuracy[i] = 1e-5 * i;
    }
    r->curve_heldout_loss[0] = -0.0;
    r->n_curve = 3;
    assert_int_equal(nnm_record_alloc_test_correct(r, 6), 0);
    r->test_correct[0] = 0x2d; /* 101101: examples 0, 2, 3, 5 */
}

/* format -> parse -> format gives the same text; the parsed record equals r bit for bit. */
static void round_trip(const nnm_record *r)
{
    char err[256] = "";
    char *a = nnm_record_format(r);
    assert_non_null(a);
    nnm_record b;
    if (nnm_record_parse(&b, a, err, sizeof err) != 0) fail_msg("does not read back: %s\n%s", err, a);
    char *c = nnm_record_format(&b);
    assert_non_null(c);
    assert_string_equal(a, c);
    assert_memory_equal(&r->lr, &b.lr, sizeof r->lr);
    assert_memory_equal(&r->train_loss, &b.train_loss, sizeof r->train_loss);
    assert_true(r->seed == b.seed && r->split_seed == b.split_seed);
    assert_int_equal(b.n_curve, r->n_curve);
    for (int i = 0; i < r->n_curve; i++) {
        const double *x[4] = {r->curve_loss, r->curve_accuracy, r->curve_heldout_loss, r->curve_heldout_accuracy};
        const double *y[4] = {b.curve_loss, b.curve_accuracy, b.curve_heldout_loss, b.curve_heldout_accuracy};
        for (int k = 0; k < 4; k++)
            assert_true(isnan(x[k][i]) ? isnan(y[k][i]) : memcmp(&x[k][i], &y[k][i], sizeof(double)) == 0);
    }
    assert_true(isnan(r->val_loss) ? isnan(b.val_loss) : r->val_loss == b.val_loss);
    assert_int_equal(b.n_test_correct, r->n_test_correct);
    if (r->n_test_correct) assert_memory_equal(b.test_correct, r->test_correct, (size_t)(r->n_test_correct + 7) / 8);
    assert_string_equal(b.settings, r->settings);
    free(a);
    free(c);
    nnm_record_free(&b);
}

static void test_record__round_trip_plain(void **state)
{
    (void)state;
    nnm_record r;
    make_record(&r);
    round_trip(&r);
    char *text = nnm_record_format(&r);
    /* What a reader of the file sees. */
    assert_non_null(strstr(text, "\"seed\": 18446744073709551615"));
    assert_non_null(strstr(text, "\"lr\": 0.10000000000000001"));
    assert_non_null(strstr(text, "\"val_accuracy\": null"));
    assert_non_null(strstr(text, "\"heldout\": \"test\""));
    assert_non_null(strstr(text, "\"hex\": \"2d\""));
    assert_non_null(strstr(text, "\"diverged\": null"));
    assert_non_null(strstr(text, "-0.0"));
    free(text);
    nnm_record_free(&r);
}

static void test_record__round_trip_validation(void **state)
{
    (void)state;
    nnm_record r;
    make_record(&r);
    r.validation = 0.1;
    r.split_seed = UINT64_MAX - 1;
    r.patience = 2;
    r.best_epoch = 2;
    r.val_accuracy = 0.97;
    r.val_loss = 0.08;
    r.n_curve = 2; /* stopped early */
    round_trip(&r);
    char *text = nnm_record_format(&r);
    assert_non_null(strstr(text, "\"heldout\": \"validation\""));
    assert_non_null(strstr(text, "\"split_seed\": 18446744073709551614"));
    free(text);
    nnm_record_free(&r);
}

static void test_record__round_trip_diverged(void **state)
{
    (void)state;
    nnm_record r;
    make_record(&r);
    r.diverged_epoch = 2;
    r.diverged_step = 17;
    r.train_accuracy = r.test_accuracy = r.train_loss = r.test_loss = NAN;
    free(r.test_correct);
    r.test_correct = NULL;
    r.n_test_correct = 0;
    memset(r.confusion, 0, 9 * sizeof *r.confusion);
    r.n_curve = 1;
    r.curve_heldout_loss[0] = NAN;
    round_trip(&r);
    char *text = nnm_record_format(&r);
    assert_non_null(strstr(text, "\"test_loss\": null"));
    assert_non_null(strstr(text, "\"test_correct\": null"));
    assert_non_null(strstr(text, "\"step\": 17"));
    free(text);
    nnm_record_free(&r);
}

/* A large bitset: n not a multiple of 8, every byte value. */
static void test_record__round_trip_bitset(void **state)
{
    (void)state;
    nnm_record r;
    make_record(&r);
    int64_t n = 10003, right = 0;
    assert_int_equal(nnm_record_alloc_test_correct(&r, n), 0);
    for (int64_t i = 0; i < n; i++)
        if ((i * 7919) % 13 < 9) {
            r.test_correct[i / 8] |= (uint8_t)(1u << (i % 8));
            right++;
        }
    memset(r.confusion, 0, 9 * sizeof *r.confusion);
    r.confusion[0] = right;
    r.confusion[1] = n - right;
    round_trip(&r);
    nnm_record_free(&r);
}

/* JSON with one edit applied (the first occurrence of from replaced by to) must be refused. */
static void expect_refused(const char *from, const char *to, const char *why)
{
    nnm_record r;
    make_record(&r);
    char *text = nnm_record_format(&r);
    nnm_record_free(&r);
    char *at = strstr(text, from);
    if (!at) fail_msg("'%s' not in the record", from);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *edited = malloc(n);
    assert_non_null(edited);
    snprintf(edited, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    char err[256] = "";
    if (nnm_record_parse(&r, edited, err, sizeof err) == 0) fail_msg("accepted (%s):\n%s", why, edited);
    assert_true(err[0] != '\0');
    if (!strstr(err, why)) fail_msg("refused for '%s', expected '%s'", err, why);
    assert_null(r.confusion);
    free(edited);
    free(text);
}

static void test_record__refusals(void **state)
{
    (void)state;
    expect_refused("\"version\": 2", "\"version\": 3", "version 3");
    expect_refused("\"seed\": 18446744073709551615", "\"seed\": -1", "bad 'seed'");
    expect_refused("\"seed\": 18446744073709551615", "\"seed\": 1.5", "bad 'seed'");
    expect_refused("\"batch_size\": 32", "\"batch_size\": 9223372036854775808", "bad 'batch_size'");
    expect_refused("\"params\": 101770", "\"parameters\": 101770", "missing 'params'");
    expect_refused("\"test_loss\": 0.29362446069717407", "\"test_loss\": null", "test metrics");
    expect_refused("\"test_loss\": 0.29362446069717407", "\"test_loss\": NaN", "bad 'metrics.test_loss'");
    expect_refused("\"test_loss\": 0.29362446069717407", "\"test_loss\": Infinity", "bad 'metrics.test_loss'");
    expect_refused("\"val_loss\": null", "\"val_loss\": 0.5", "validation metrics");
    expect_refused("\"test_accuracy\": 0.", "\"test_accuracy\": 1.", "test metrics");
    expect_refused("\"hex\": \"2d\"", "\"hex\": \"2f\"", "disagree"); /* 5 right, 4 on the diagonal */
    expect_refused("\"hex\": \"2d\"", "\"hex\": \"6d\"", "disagree"); /* bit 6 past the 6 examples */
    expect_refused("\"hex\": \"2d\"", "\"hex\": \"2d00\"", "bad 'test_correct.hex'");
    expect_refused("\"hex\": \"2d\"", "\"hex\": \"zz\"", "bad 'test_correct.hex'");
    expect_refused("\"n\": 6", "\"n\": 9223372036854775807", "bad 'test_correct.hex'");
    expect_refused("\"classes\": 3", "\"classes\": 2", "bad 'confusion.counts'");
    expect_refused("\"classes\": 3", "\"classes\": 100000", "bad 'confusion.classes'");
    expect_refused("[2, 0, 1]", "[-2, 0, 1]", "bad 'confusion.counts'");
    expect_refused("[2, 0, 1]", "[2, 0]", "bad 'confusion.counts'");
    expect_refused("[2, 0, 1]", "[2, 0, 1.0]", "bad 'confusion.counts'");
    expect_refused("\"train_loss\": [", "\"train_loss\": [\"x\", ", "bad 'history.train_loss'");
    expect_refused("\"heldout\": \"test\"", "\"heldout\": \"validation\"", "bad 'history.heldout'");
    expect_refused("\"epochs\": 3", "\"epochs\": 2", "bad 'history.train_loss'");
    expect_refused("\"epochs\": 3", "\"epochs\": 4", "curves of 3 epochs for 4");
    expect_refused("\"run\": \"adam_relu\"", "\"run\": \"../x\"", "not a file name");
    expect_refused("\"run\": \"adam_relu\"", "\"run\": \"a\\u0000b\"", "bad 'run'");
    expect_refused("\"run\": \"adam_relu\"", "\"run\": \"a\\nb\"", "control character");
    expect_refused("\"run\": \"adam_relu\"", "\"run\": 5", "bad 'run'");
    expect_refused("\"diverged\": null", "\"diverged\": { \"epoch\": 1, \"step\": 2 }", "metrics");
    expect_refused("\"metrics\": {", "\"metrics\": [ {", "not valid JSON");
    expect_refused("\"format\": \"nn-mnist-record\"", "\"format\": \"other\"", "not an nn-mnist record");
    expect_refused("{", "{ \"a\": { \"b\": { \"c\": { \"d\": { \"e\": { \"f\": 1 } } } } },", "nesting too deep");
    expect_refused("\n}\n", "\n} x\n", "not valid JSON");
    expect_refused("\"test_correct\": {", "\"test_correct\": 7, \"x\": {", "bad 'test_correct'");
}

/* A torn record (cut anywhere) never parses. */
static void test_record__torn(void **state)
{
    (void)state;
    nnm_record r;
    make_record(&r);
    char *text = nnm_record_format(&r);
    nnm_record_free(&r);
    size_t len = strlen(text);
    /* Cutting the final newline leaves a whole object. */
    for (size_t cut = 0; cut + 1 < len; cut++) {
        char *part = strndup(text, cut);
        char err[256] = "";
        if (nnm_record_parse(&r, part, err, sizeof err) == 0) fail_msg("a record cut at %zu parsed", cut);
        assert_true(err[0] != '\0');
        free(part);
    }
    free(text);
}

static const char *legacy =
    "nn-mnist-record 1\nrun adam_relu\noptimizer adam\nactivation relu\n"
    "settings dataset=mnist optimizer=adam activation=relu hidden=128 epochs=2 batch=32\n"
    "model m/adam_relu.nnm\nlr 0.0010000000474974513\nseed 42\nepochs 2\nbatch_size 32\nparams 101770\n"
    "blas_threads 1\ntrain_accuracy 0.95250000000000001\ntest_accuracy 0.5\ntrain_loss 0.17\ntest_loss 0.29\n"
    "seconds 0.288\nconfusion 2 1 1 0 2\ncurve_loss 2 0.6 0.2\ncurve_accuracy 2 0.8 0.9\n"
    "curve_test_accuracy 2 0.88 0.9\nend\n";

static void test_record__legacy_text(void **state)
{
    (void)state;
    nnm_record r;
    char err[256] = "";
    if (nnm_record_parse(&r, legacy, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(r.run_id, "adam_relu");
    assert_int_equal(r.n_curve, 2);
    assert_true(r.curve_heldout_accuracy[1] == 0.9);
    assert_true(isnan(r.curve_heldout_loss[0]) && isnan(r.val_loss) && r.validation == 0);
    assert_int_equal(r.n_test_correct, 0);
    round_trip(&r);
    nnm_record_free(&r);
    /* Its checks still apply. */
    char *bad = strdup(legacy);
    memcpy(strstr(bad, "test_accuracy 0.5"), "test_accuracy 1.5", 17);
    assert_int_not_equal(nnm_record_parse(&r, bad, err, sizeof err), 0);
    assert_non_null(strstr(err, "out of range"));
    free(bad);
}

/* Files: save writes .json and replaces a legacy .rec; find prefers .json; load reads both forms;
 * load_dir lists each run once; save refuses what load would. */
static void test_record__files(void **state)
{
    (void)state;
    char dir[] = "/tmp/nn-test-record-XXXXXX", path[4096], runs[64], err[512] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(runs, sizeof runs, "%s/runs", dir);
    assert_int_equal(mkdir(runs, 0755), 0);
    assert_int_equal(nnm_record_find(dir, "adam_relu", path, sizeof path), 0);
    /* A legacy folder: the text record is found and read. */
    snprintf(path, sizeof path, "%s/adam_relu.rec", runs);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(legacy, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/sgd_tanh.rec", runs);
    f = fopen(path, "w");
    fputs(legacy, f);
    fclose(f);
    assert_int_equal(nnm_record_find(dir, "adam_relu", path, sizeof path), 1);
    assert_non_null(strstr(path, "/runs/adam_relu.rec"));
    nnm_record r;
    assert_int_equal(nnm_record_load(&r, path, err, sizeof err), 0);
    /* Saved again: JSON, and the .rec gone. */
    assert_int_equal(nnm_record_save(&r, dir, err, sizeof err), 0);
    nnm_record_free(&r);
    assert_int_equal(nnm_record_find(dir, "adam_relu", path, sizeof path), 1);
    assert_non_null(strstr(path, "/runs/adam_relu.json"));
    snprintf(path, sizeof path, "%s/adam_relu.rec", runs);
    assert_int_not_equal(access(path, F_OK), 0);
    /* Both forms of one run: the .json is the one listed. */
    f = fopen(path, "w");
    fputs(legacy, f);
    fclose(f);
    nnm_record *all = NULL;
    int n = 0;
    assert_int_equal(nnm_record_load_dir(dir, "test", &all, &n, err, sizeof err), 0);
    assert_int_equal(n, 2); /* adam_relu (once) and sgd_tanh's text record (named adam_relu inside) */
    for (int i = 0; i < n; i++) nnm_record_free(&all[i]);
    free(all);
    /* Save refuses what load refuses. */
    make_record(&r);
    r.test_accuracy = 2;
    assert_int_not_equal(nnm_record_save(&r, dir, err, sizeof err), 0);
    assert_non_null(strstr(err, "out of range"));
    nnm_record_free(&r);
    /* A FIFO in a record's place is refused without blocking. */
    snprintf(path, sizeof path, "%s/fifo.json", runs);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_not_equal(nnm_record_load(&r, path, err, sizeof err), 0);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(path);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -r '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record__round_trip_plain),
        cmocka_unit_test(test_record__round_trip_validation),
        cmocka_unit_test(test_record__round_trip_diverged),
        cmocka_unit_test(test_record__round_trip_bitset),
        cmocka_unit_test(test_record__refusals),
        cmocka_unit_test(test_record__torn),
        cmocka_unit_test(test_record__legacy_text),
        cmocka_unit_test(test_record__files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
