/* Tests for data.h: the IDX reader on files this test writes (raw and gzip, valid and broken in
 * every way the reader must notice), datasets from memory, and batch gathering. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nn/nn.h"
#include "testutil.h"

static char *tmp; /* one temporary folder for the whole run */

/* A small valid set: 5 images of 3x4 that include the extreme pixels 0 and 255. */
enum { N = 5, ROWS = 3, COLS = 4, FEAT = ROWS * COLS };
static uint8_t pixels[N * FEAT];
static const uint8_t labels5[N] = {3, 0, 7, 1, 7};

static int setup(void **state)
{
    (void)state;
    tmp = tu_tmpdir();
    for (int i = 0; i < N * FEAT; i++) pixels[i] = (uint8_t)(i * 37 + 11);
    pixels[0] = 0;
    pixels[1] = 255;
    return tmp ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(tmp);
    free(tmp);
    return 0;
}

/* ---- building files ---- */

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static bytes make_idx(uint8_t type, uint8_t rank, const uint32_t *dims, const uint8_t *body, size_t body_len)
{
    bytes b;
    b.n = 4 + 4 * (size_t)rank + body_len;
    b.p = malloc(b.n);
    assert_non_null(b.p);
    b.p[0] = 0;
    b.p[1] = 0;
    b.p[2] = type;
    b.p[3] = rank;
    for (int i = 0; i < rank; i++) {
        b.p[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        b.p[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        b.p[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        b.p[7 + 4 * i] = (unsigned char)dims[i];
    }
    if (body_len) memcpy(b.p + 4 + 4 * (size_t)rank, body, body_len);
    return b;
}

static bytes images_idx(uint32_t n, uint32_t rows, uint32_t cols, const uint8_t *px)
{
    const uint32_t d[3] = {n, rows, cols};
    return make_idx(0x08, 3, d, px, px ? (size_t)n * rows * cols : 0); /* NULL: header only */
}

static bytes labels_idx(uint32_t n, const uint8_t *lb)
{
    const uint32_t d[1] = {n};
    return make_idx(0x08, 1, d, lb, lb ? n : 0);
}

/* One gzip member of in, built with deflate so that tests can cut and damage the compressed bytes. */
static bytes gzip_bytes(bytes in)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    bytes out;
    out.n = deflateBound(&zs, (uLong)in.n) + 64;
    out.p = malloc(out.n);
    assert_non_null(out.p);
    zs.next_in = in.p;
    zs.avail_in = (uInt)in.n;
    zs.next_out = out.p;
    zs.avail_out = (uInt)out.n;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.n = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* Writes b to tmp/name and returns the full path (static storage: one of a few rotating slots). */
static const char *put(const char *name, bytes b)
{
    static char slots[4][512];
    static int next;
    char *path = slots[next++ % 4];
    snprintf(path, sizeof slots[0], "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (b.n) assert_int_equal(fwrite(b.p, 1, b.n, f), b.n);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* put() and free b. */
static const char *put_free(const char *name, bytes b)
{
    const char *path = put(name, b);
    free(b.p);
    return path;
}

/* gzip_bytes() that frees its input. */
static bytes gzip_free(bytes in)
{
    bytes z = gzip_bytes(in);
    free(in.p);
    return z;
}

/* put() a gzip of b and free b. */
static const char *put_gz_free(const char *name, bytes b) { return put_free(name, gzip_free(b)); }

static const char *good_images(void) { return put_free("good-images", images_idx(N, ROWS, COLS, pixels)); }
static const char *good_labels(void) { return put_free("good-labels", labels_idx(N, labels5)); }

/* ---- checking failures ---- */

static void expect_text(const char *msg, const char *want)
{
    if (!strstr(msg, want)) fail_msg("error \"%s\" does not contain \"%s\"", msg, want);
}

/* What the caller declares to nn_dataset_load_idx_expect(); all 0 means nn_dataset_load_idx(). */
typedef struct expectation {
    int classes;
    int64_t rows, cols;
} expectation;

static void vexpect_fails(const char *images, const char *labels, expectation e, nn_status want, const char *path,
                          va_list ap)
{
    nn_dataset *ds = (nn_dataset *)&ds; /* not NULL, so the test sees that failure clears it */
    nn_status st = e.classes || e.rows || e.cols
                       ? nn_dataset_load_idx_expect(&ds, images, labels, e.classes, e.rows, e.cols)
                       : nn_dataset_load_idx(&ds, images, labels);
    if (st != want)
        fail_msg("status %d (%s), expected %d; error: %s", st, nn_status_string(st), want, nn_last_error());
    assert_null(ds);
    const char *msg = nn_last_error();
    if (path) expect_text(msg, path);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) expect_text(msg, s);
}

/* Loads and expects failure with status want and a message that names path and holds each of the
 * given fragments (NULL-terminated). */
static void expect_load_fails(const char *images, const char *labels, nn_status want, const char *path, ...)
{
    va_list ap;
    va_start(ap, path);
    vexpect_fails(images, labels, (expectation){0, 0, 0}, want, path, ap);
    va_end(ap);
}

/* The same through nn_dataset_load_idx_expect() with what the caller declares. */
static void expect_checked_load_fails(const char *images, const char *labels, expectation e, nn_status want,
                                      const char *path, ...)
{
    va_list ap;
    va_start(ap, path);
    vexpect_fails(images, labels, e, want, path, ap);
    va_end(ap);
}

static void check_matches_fixture(const nn_dataset *ds)
{
    assert_int_equal(nn_dataset_count(ds), N);
    assert_int_equal(nn_dataset_features(ds), FEAT);
    int64_t r = 0, c = 0;
    nn_dataset_image_size(ds, &r, &c);
    assert_int_equal(r, ROWS);
    assert_int_equal(c, COLS);
    assert_int_equal(nn_dataset_classes(ds), 8);
    assert_memory_equal(nn_dataset_images(ds), pixels, sizeof pixels);
    assert_memory_equal(nn_dataset_labels(ds), labels5, sizeof labels5);
}

static void load_and_check(const char *images, const char *labels)
{
    nn_dataset *ds = NULL;
    nn_status st = nn_dataset_load_idx(&ds, images, labels);
    if (st != NN_OK) fail_msg("load failed: %s", nn_last_error());
    check_matches_fixture(ds);
    nn_dataset_free(ds);
}

/* ---- round trips ---- */

static void test_idx__raw_round_trip(void **state)
{
    (void)state;
    load_and_check(good_images(), good_labels());
}

static void test_idx__gzip_round_trip(void **state)
{
    (void)state;
    const char *gi = put_gz_free("gz-images.gz", images_idx(N, ROWS, COLS, pixels));
    const char *gl = put_gz_free("gz-labels.gz", labels_idx(N, labels5));
    load_and_check(gi, gl);
    load_and_check(gi, good_labels()); /* mixed raw and gzip */
}

static void test_idx__gzip_detected_by_content_not_name(void **state)
{
    (void)state;
    const char *gi = put_gz_free("images-named-raw.idx", images_idx(N, ROWS, COLS, pixels));
    const char *rl = put_free("labels-named-gz.gz", labels_idx(N, labels5));
    load_and_check(gi, rl);
}

static void test_idx__gzip_written_by_gzwrite(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/gzwrite-labels.gz", tmp);
    bytes b = labels_idx(N, labels5);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, b.p, (unsigned)b.n), (int)b.n);
    assert_int_equal(gzclose(g), Z_OK);
    free(b.p);
    load_and_check(good_images(), path);
}

static void test_idx__concatenated_gzip_members(void **state)
{
    (void)state;
    /* gzip allows members back to back (cat a.gz b.gz); the content is their concatenation. */
    bytes whole = images_idx(N, ROWS, COLS, pixels);
    bytes a = {whole.p, 10}, b = {whole.p + 10, whole.n - 10};
    bytes za = gzip_bytes(a), zb = gzip_bytes(b);
    bytes cat = {malloc(za.n + zb.n), za.n + zb.n};
    assert_non_null(cat.p);
    memcpy(cat.p, za.p, za.n);
    memcpy(cat.p + za.n, zb.p, zb.n);
    load_and_check(put_free("concat-images.gz", cat), good_labels());
    free(whole.p);
    free(za.p);
    free(zb.p);
}

/* ---- malformed headers ---- */

static void test_idx__wrong_magic(void **state)
{
    (void)state;
    bytes b = images_idx(N, ROWS, COLS, pixels);
    b.p[0] = 0x12;
    b.p[1] = 0x34;
    const char *p = put_free("magic-images", b);
    expect_load_fails(p, good_labels(), NN_ERR_FORMAT, p, "not an IDX file", "wrong magic 12 34", NULL);
    /* The same inside a gzip stream says so. */
    b = images_idx(N, ROWS, COLS, pixels);
    b.p[1] = 0x01;
    p = put_gz_free("magic-images.gz", b);
    expect_load_fails(p, good_labels(), NN_ERR_FORMAT, p, "wrong magic 00 01", "after gzip decompression", NULL);
}

static void test_idx__wrong_type_byte(void **state)
{
    (void)state;
    const uint32_t d[1] = {N};
    const char *p = put_free("float-labels", make_idx(0x0D, 1, d, labels5, N));
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "data type 0x0d", "only 0x08", NULL);
}

static void test_idx__wrong_rank(void **state)
{
    (void)state;
    const uint32_t d[2] = {N, 1};
    const char *p = put_free("rank2-labels", make_idx(0x08, 2, d, labels5, N));
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "rank 2", "a labels file has rank 1", NULL);
    const uint32_t d4[4] = {N, ROWS, COLS, 1};
    p = put_free("rank4-images", make_idx(0x08, 4, d4, pixels, sizeof pixels));
    expect_load_fails(p, good_labels(), NN_ERR_FORMAT, p, "rank 4", "an images file has rank 3", NULL);
}

static void test_idx__images_file_given_as_labels(void **state)
{
    (void)state;
    const char *im = good_images();
    const char *lb = good_labels();
    expect_load_fails(im, im, NN_ERR_FORMAT, im, "rank 3 (an images file?), a labels file has rank 1", NULL);
    expect_load_fails(lb, lb, NN_ERR_FORMAT, lb, "rank 1 (a labels file?), an images file has rank 3", NULL);
}

static void test_idx__zero_dimension(void **state)
{
    (void)state;
    const char *lb = good_labels();
    const char *p = put_free("zero-rows", images_idx(N, 0, COLS, NULL));
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "image height (dimension 1) is 0", NULL);
    p = put_free("zero-cols", images_idx(N, ROWS, 0, NULL));
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "image width (dimension 2) is 0", NULL);
    p = put_free("zero-count", labels_idx(0, NULL));
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "label count (dimension 0) is 0", NULL);
}

static void test_idx__huge_dimension_refused_before_allocating(void **state)
{
    (void)state;
    /* Under ASan an attempt to allocate these sizes would abort the test, so passing also shows
     * that nothing was allocated. */
    const char *lb = good_labels();
    const char *p = put_free("huge-rows", images_idx(N, 65537, COLS, NULL));
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "image height (dimension 1) is 65537", "limit is 65536", NULL);
    p = put_free("huge-count", labels_idx(100000001u, NULL));
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "label count (dimension 0) is 100000001", NULL);
    p = put_free("max-everything", images_idx(100000000u, 65536, 65536, NULL));
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "truncated", NULL);
    p = put_gz_free("max-everything.gz", images_idx(100000000u, 65536, 65536, NULL));
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "truncated", "cannot hold them", NULL);
}

static void test_idx__truncated_header(void **state)
{
    (void)state;
    bytes b = images_idx(N, ROWS, COLS, pixels);
    const char *im = put("cut-header-images", (bytes){b.p, 6});
    expect_load_fails(im, good_labels(), NN_ERR_FORMAT, im, "truncated header: 6 of 16 bytes", NULL);
    im = put("cut-magic-images", (bytes){b.p, 3});
    expect_load_fails(im, good_labels(), NN_ERR_FORMAT, im, "truncated header: 3 of 4", NULL);
    im = put("empty-images", (bytes){b.p, 0});
    expect_load_fails(im, good_labels(), NN_ERR_FORMAT, im, "empty file", NULL);
    free(b.p);
}

/* ---- bodies of the wrong length ---- */

static void test_idx__truncated_body_raw(void **state)
{
    (void)state;
    bytes b = labels_idx(N, labels5);
    b.n -= 2;
    const char *p = put_free("cut-labels", b);
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "truncated: header promises 5 labels, file holds 3",
                      NULL);
    b = images_idx(N, ROWS, COLS, pixels);
    b.n -= 1;
    p = put_free("cut-images", b);
    expect_load_fails(p, good_labels(), NN_ERR_FORMAT, p,
                      "truncated: header promises 76 bytes (5 images of 3x4), file holds 75", NULL);
}

static void test_idx__truncated_body_gzip(void **state)
{
    (void)state;
    /* Content cut short inside the gzip stream: what gzread would report as a normal end. */
    bytes b = labels_idx(N, labels5);
    b.n -= 2;
    const char *p = put_gz_free("short-labels.gz", b);
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "truncated: header promises 5 labels, file holds 3",
                      NULL);

    /* The compressed file itself cut: the stream stops in the middle. */
    enum { BIG = 2000 };
    uint8_t *px = malloc((size_t)BIG * FEAT);
    uint8_t *lb = calloc(BIG, 1);
    assert_non_null(px);
    assert_non_null(lb);
    uint32_t s = 1;
    for (size_t i = 0; i < (size_t)BIG * FEAT; i++) px[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 24);
    bytes z = gzip_free(images_idx(BIG, ROWS, COLS, px));
    const char *lp = put_free("big-labels", labels_idx(BIG, lb));
    bytes half = {z.p, z.n / 2};
    p = put("half-images.gz", half);
    expect_load_fails(p, lp, NN_ERR_FORMAT, p, "truncated: header promises 24016 bytes", "cut short", NULL);

    /* Only the 8-byte trailer (CRC-32 and length) missing: every content byte is there. */
    bytes no_trailer = {z.p, z.n - 8};
    p = put("no-trailer-images.gz", no_trailer);
    expect_load_fails(p, lp, NN_ERR_FORMAT, p, "truncated", "trailer", NULL);

    /* And the undamaged stream loads, so the cuts above are what the reader noticed. */
    p = put("whole-images.gz", z);
    nn_dataset *ds = NULL;
    assert_int_equal(nn_dataset_load_idx(&ds, p, lp), NN_OK);
    assert_memory_equal(nn_dataset_images(ds), px, (size_t)BIG * FEAT);
    nn_dataset_free(ds);
    free(z.p);
    free(px);
    free(lb);
}

static void test_idx__extra_trailing_bytes(void **state)
{
    (void)state;
    uint8_t more[N + 3];
    memcpy(more, labels5, N);
    memset(more + N, 1, 3);
    const uint32_t d[1] = {N};
    const char *p = put_free("long-labels", make_idx(0x08, 1, d, more, N + 3));
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "3 extra bytes after the 13 the header promises", NULL);
    p = put_gz_free("long-labels.gz", make_idx(0x08, 1, d, more, N + 3));
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "3 extra bytes", "after gzip decompression", NULL);
}

static void test_idx__garbage_after_gzip_stream(void **state)
{
    (void)state;
    bytes z = gzip_free(labels_idx(N, labels5));
    unsigned char *p2 = realloc(z.p, z.n + 5);
    assert_non_null(p2);
    z.p = p2;
    memcpy(z.p + z.n, "JUNK!", 5);
    z.n += 5;
    const char *p = put_free("garbage-labels.gz", z);
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "garbage after the end of the gzip stream", NULL);
}

static void test_idx__corrupt_gzip(void **state)
{
    (void)state;
    const char *lb = good_labels();
    bytes z = gzip_free(images_idx(N, ROWS, COLS, pixels));
    /* A wrong CRC-32: the content decodes, the check at the end fails. */
    z.p[z.n - 8] ^= 0xFF;
    const char *p = put("bad-crc-images.gz", z);
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "corrupt gzip data", "incorrect data check", NULL);
    z.p[z.n - 8] ^= 0xFF;
    /* A damaged deflate body, right after the 10-byte gzip header. */
    z.p[10] = 0xFF; /* block type 3 does not exist */
    p = put("bad-body-images.gz", z);
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "corrupt gzip data", "invalid block type", NULL);
    free(z.p);
    /* A gzip magic followed by nonsense. */
    bytes junk = {(unsigned char *)"\x1f\x8b\x42\x42\x42\x42\x42\x42\x42\x42\x42\x42", 12};
    p = put("junk-images.gz", junk);
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "corrupt gzip data", NULL);
    /* Nothing but the magic. */
    p = put("magic-only-images.gz", (bytes){(unsigned char *)"\x1f\x8b", 2});
    expect_load_fails(p, lb, NN_ERR_FORMAT, p, "the file ends inside the 10-byte gzip header", NULL);
}

static void test_idx__false_fextra_flag_named_as_a_damaged_header(void **state)
{
    (void)state;
    /* FLG with FEXTRA set on a stream that has no extra field: inflate reads the first two deflate
     * bytes as the field's length and skips that much, past the end of this small file. This was
     * reported as "the gzip stream is cut short after 0 bytes". */
    bytes z = gzip_free(labels_idx(N, labels5));
    assert_int_equal(z.p[3], 0);
    z.p[3] = 0x04;
    const unsigned xlen = z.p[10] | (unsigned)z.p[11] << 8;
    assert_true(xlen > z.n - 12); /* the premise: the supposed field runs past the end */
    char want[64];
    snprintf(want, sizeof want, "an extra field of %u bytes", xlen);
    const char *p = put("fextra-labels.gz", z);
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "gzip header does not end", "flags byte (0x04)", want,
                      "but the file ends first", NULL);
    /* Cut right after the fixed 10 bytes, before the field's length: the field is named, unsized. */
    p = put("fextra-cut-labels.gz", (bytes){z.p, 11});
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "flags byte (0x04) announces an extra field, but",
                      NULL);
    /* Every optional field is named. */
    z.p[3] = 0x04 | 0x08 | 0x10 | 0x02;
    p = put("flags-labels.gz", z);
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "flags byte (0x1e)",
                      "an extra field of", "a file name, a comment and a header CRC", NULL);
    /* In a file bigger than any extra field (65535 bytes at most), the supposed field ends inside
     * the data, where inflate then fails. */
    enum { BIG = 200000 };
    uint8_t *lb = malloc(BIG);
    assert_non_null(lb);
    uint32_t r = 7;
    for (int i = 0; i < BIG; i++) lb[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 28) % 10;
    bytes big = gzip_free(labels_idx(BIG, lb));
    big.p[3] = 0x04;
    const unsigned big_xlen = big.p[10] | (unsigned)big.p[11] << 8;
    assert_true(big_xlen + 12 < big.n); /* the premise */
    p = put("fextra-big-labels.gz", big);
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "corrupt gzip data",
                      "flags byte (0x04) announces an extra field of", "that byte is damaged", NULL);
    free(big.p);
    free(lb);
    /* The honest header still loads, so the flag is what the reader noticed. */
    z.p[3] = 0;
    nn_dataset *ds = NULL;
    assert_int_equal(nn_dataset_load_idx(&ds, good_images(), put("plain-labels.gz", z)), NN_OK);
    nn_dataset_free(ds);
    free(z.p);
}

static void test_idx__second_gzip_member_cut_in_its_header(void **state)
{
    (void)state;
    bytes whole = labels_idx(N, labels5);
    bytes a = {whole.p, 8}, b = {whole.p + 8, whole.n - 8}; /* the IDX header, then the labels */
    bytes za = gzip_bytes(a), zb = gzip_bytes(b);
    bytes cat = {malloc(za.n + 5), za.n + 5};
    assert_non_null(cat.p);
    memcpy(cat.p, za.p, za.n);
    memcpy(cat.p + za.n, zb.p, 5); /* 5 of the second member's 10 header bytes */
    const char *p = put("cut-member-labels.gz", cat);
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "truncated: header promises 5 labels, file holds 0",
                      "the file ends inside the 10-byte gzip header", NULL);
    /* The same cut inside the IDX header. */
    bytes a6 = {whole.p, 6};
    bytes z6 = gzip_bytes(a6);
    memcpy(cat.p, z6.p, z6.n);
    memcpy(cat.p + z6.n, zb.p, 5);
    p = put("cut-member-header-labels.gz", (bytes){cat.p, z6.n + 5});
    expect_load_fails(good_images(), p, NN_ERR_FORMAT, p, "truncated header: 6 of 8 bytes",
                      "the file ends inside the 10-byte gzip header", NULL);
    free(z6.p);
    free(cat.p);
    free(whole.p);
    free(za.p);
    free(zb.p);
}

/* ---- the pair of files ---- */

static void test_idx__count_mismatch(void **state)
{
    (void)state;
    const char *im = good_images();
    const char *lb = put_free("four-labels", labels_idx(N - 1, labels5));
    expect_load_fails(im, lb, NN_ERR_FORMAT, im, lb, "holds 5 images", "holds 4 labels", NULL);
}

/* ---- what the caller expects: classes and image size ---- */

static void test_idx__label_outside_declared_classes_refused(void **state)
{
    (void)state;
    const char *im = good_images();
    const uint8_t ten[N] = {3, 0, 10, 1, 7};
    const char *p = put_free("label-ten", labels_idx(N, ten));
    expect_checked_load_fails(im, p, (expectation){10, 0, 0}, NN_ERR_FORMAT, p, "label 10 at index 2 is outside 0..9",
                              NULL);
    /* Also gzipped, also at the last index, also 255, also with the image size checked. */
    const uint8_t high[N] = {3, 0, 1, 1, 255};
    p = put_gz_free("label-255.gz", labels_idx(N, high));
    expect_checked_load_fails(im, p, (expectation){10, ROWS, COLS}, NN_ERR_FORMAT, p,
                              "label 255 at index 4 is outside 0..9", NULL);
    /* The boundary: 7 is the largest label of the fixture, so 7 classes refuse it and 8 take it. */
    const char *lb = good_labels();
    expect_checked_load_fails(im, lb, (expectation){7, 0, 0}, NN_ERR_FORMAT, lb, "label 7 at index 2 is outside 0..6",
                              NULL);
    nn_dataset *ds = NULL;
    assert_int_equal(nn_dataset_load_idx_expect(&ds, im, lb, 8, ROWS, COLS), NN_OK);
    check_matches_fixture(ds);
    nn_dataset_free(ds);
    /* Without a declared count the file still loads, as one of 11 classes. */
    lb = put_free("label-ten", labels_idx(N, ten));
    assert_int_equal(nn_dataset_load_idx(&ds, good_images(), lb), NN_OK); /* put() reuses 4 path slots */
    assert_int_equal(nn_dataset_classes(ds), 11);
    nn_dataset_free(ds);
}

static void test_idx__declared_classes_kept_when_the_last_are_absent(void **state)
{
    (void)state;
    /* A small test split holding only labels 0..7 is still a 10-class problem. */
    nn_dataset *ds = NULL, *sub = NULL;
    assert_int_equal(nn_dataset_load_idx_expect(&ds, good_images(), good_labels(), 10, 0, 0), NN_OK);
    assert_int_equal(nn_dataset_classes(ds), 10);
    assert_int_equal(nn_dataset_subset(&sub, ds, 0, 2), NN_OK);
    assert_int_equal(nn_dataset_classes(sub), 10);
    nn_dataset_free(sub);
    nn_dataset_free(ds);
}

static void test_idx__image_size_other_than_expected_refused(void **state)
{
    (void)state;
    /* Same pixel count, other shape: 4x3 and 6x2 images hold the 12 pixels of a 3x4 one. */
    const char *lb = good_labels();
    const char *p = put_free("images-4x3", images_idx(N, COLS, ROWS, pixels));
    expect_checked_load_fails(p, lb, (expectation){0, ROWS, COLS}, NN_ERR_FORMAT, p,
                              "images are 4x3 (height x width), expected 3x4", NULL);
    p = put_gz_free("images-6x2.gz", images_idx(N, 6, 2, pixels));
    expect_checked_load_fails(p, lb, (expectation){10, ROWS, COLS}, NN_ERR_FORMAT, p, "images are 6x2", "expected 3x4",
                              NULL);
    /* One side alone can be checked. */
    expect_checked_load_fails(p, lb, (expectation){0, 3, 0}, NN_ERR_FORMAT, p, "images are 6x2", "expected 3 high",
                              NULL);
    expect_checked_load_fails(p, lb, (expectation){0, 0, 4}, NN_ERR_FORMAT, p, "expected 4 wide", NULL);
    nn_dataset *ds = NULL;
    assert_int_equal(nn_dataset_load_idx_expect(&ds, p, lb, 0, 6, 0), NN_OK);
    nn_dataset_free(ds);
    /* Refused from the header alone, before the body: a header-only file says "wrong size", not
     * "truncated". */
    p = put_free("images-header-only", images_idx(N, 14, 56, NULL));
    expect_checked_load_fails(p, lb, (expectation){10, 28, 28}, NN_ERR_FORMAT, p,
                              "images are 14x56 (height x width), expected 28x28", NULL);
}

static void test_idx__expectations_out_of_range_refused(void **state)
{
    (void)state;
    const char *im = good_images(), *lb = good_labels();
    nn_dataset *ds = (nn_dataset *)&ds;
    assert_int_equal(nn_dataset_load_idx_expect(&ds, im, lb, -1, 0, 0), NN_ERR_INVALID_ARGUMENT);
    assert_null(ds);
    expect_text(nn_last_error(), "-1 classes");
    assert_int_equal(nn_dataset_load_idx_expect(&ds, im, lb, 257, 0, 0), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_load_idx_expect(&ds, im, lb, 0, -3, 0), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_load_idx_expect(&ds, im, lb, 0, 0, NN_IDX_MAX_DIM + 1), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_load_idx_expect(NULL, im, lb, 10, 0, 0), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_load_idx_expect(&ds, NULL, lb, 10, 0, 0), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_load_idx_expect(&ds, im, lb, 256, ROWS, COLS), NN_OK); /* every byte a class */
    assert_int_equal(nn_dataset_classes(ds), 256);
    nn_dataset_free(ds);
}

static void test_idx__missing_file(void **state)
{
    (void)state;
    char missing[512];
    snprintf(missing, sizeof missing, "%s/no-such-file.gz", tmp);
    expect_load_fails(missing, good_labels(), NN_ERR_IO, missing, "cannot open", "No such file", NULL);
    expect_load_fails(good_images(), missing, NN_ERR_IO, missing, "cannot open", NULL);
    expect_load_fails(tmp, good_labels(), NN_ERR_IO, tmp, "is a directory", NULL);
}

/* Opening a FIFO for reading waits for a writer: the load must refuse it without waiting. */
static void test_idx__fifo_refused_without_blocking(void **state)
{
    (void)state;
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/pipe-idx", tmp);
    if (mkfifo(fifo, 0600) != 0) skip();
    tu_watchdog(10, "test_data: an IDX load on a FIFO");
    expect_load_fails(fifo, good_labels(), NN_ERR_IO, fifo, "a FIFO, not a regular file", NULL);
    expect_load_fails(good_images(), fifo, NN_ERR_IO, fifo, "a FIFO, not a regular file", NULL);
    tu_watchdog(0, NULL);
    remove(fifo);
}

static void test_idx__null_arguments(void **state)
{
    (void)state;
    nn_dataset *ds;
    assert_int_equal(nn_dataset_load_idx(NULL, "a", "b"), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_load_idx(&ds, NULL, "b"), NN_ERR_INVALID_ARGUMENT);
    assert_null(ds);
    assert_int_equal(nn_dataset_load_idx(&ds, "a", NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(ds);
}

/* ---- datasets from memory ---- */

static void test_dataset__create_copies_and_validates(void **state)
{
    (void)state;
    uint8_t px[sizeof pixels], lb[N];
    memcpy(px, pixels, sizeof px);
    memcpy(lb, labels5, N);
    nn_dataset *ds = NULL;
    assert_int_equal(nn_dataset_create(&ds, N, ROWS, COLS, px, lb), NN_OK);
    memset(px, 9, sizeof px); /* a copy: changing the source changes nothing */
    memset(lb, 9, sizeof lb);
    check_matches_fixture(ds);
    nn_dataset_free(ds);
    nn_dataset_free(NULL);

    assert_int_equal(nn_dataset_create(&ds, 0, ROWS, COLS, pixels, labels5), NN_ERR_INVALID_ARGUMENT);
    assert_null(ds);
    assert_int_equal(nn_dataset_create(&ds, N, 0, COLS, pixels, labels5), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_create(&ds, N, ROWS, NN_IDX_MAX_DIM + 1, pixels, labels5), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_create(&ds, N, ROWS, COLS, NULL, labels5), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_create(&ds, N, ROWS, COLS, pixels, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_create(NULL, N, ROWS, COLS, pixels, labels5), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_count(NULL), 0);
    assert_null(nn_dataset_images(NULL));
}

static void test_dataset__subset_copies_rows_and_keeps_classes(void **state)
{
    (void)state;
    nn_dataset *ds, *sub;
    assert_int_equal(nn_dataset_create(&ds, N, ROWS, COLS, pixels, labels5), NN_OK);
    assert_int_equal(nn_dataset_subset(&sub, ds, 1, 3), NN_OK); /* labels 0 7 1 */
    assert_int_equal(nn_dataset_count(sub), 3);
    assert_memory_equal(nn_dataset_images(sub), pixels + FEAT, 3 * FEAT);
    assert_memory_equal(nn_dataset_labels(sub), labels5 + 1, 3);
    assert_int_equal(nn_dataset_classes(sub), 8);
    nn_dataset_free(sub);
    assert_int_equal(nn_dataset_subset(&sub, ds, 0, 2), NN_OK); /* labels 3 0: still 8 classes */
    assert_int_equal(nn_dataset_classes(sub), 8);
    nn_dataset_free(sub);
    assert_int_equal(nn_dataset_subset(&sub, ds, 3, 3), NN_ERR_INVALID_ARGUMENT);
    assert_null(sub);
    assert_int_equal(nn_dataset_subset(&sub, ds, -1, 2), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_subset(&sub, ds, 0, 0), NN_ERR_INVALID_ARGUMENT);
    nn_dataset_free(ds);
}

/* ---- batches ---- */

static void check_row(const float *x, float y, int example)
{
    for (int j = 0; j < FEAT; j++) {
        float want = (float)pixels[example * FEAT + j] / 255.0f;
        if (x[j] != want) fail_msg("example %d pixel %d: %.9g, expected %.9g", example, j, x[j], want);
    }
    assert_true(y == (float)labels5[example]);
}

static void test_gather__values_exact(void **state)
{
    (void)state;
    nn_dataset *ds;
    assert_int_equal(nn_dataset_create(&ds, N, ROWS, COLS, pixels, labels5), NN_OK);
    float xb[3 * FEAT], yb[3];
    nn_tensor x, y;
    assert_int_equal(nn_tensor_view(&x, xb, 2, (int64_t[]){3, FEAT}), NN_OK);
    assert_int_equal(nn_tensor_view(&y, yb, 1, (int64_t[]){3}), NN_OK);
    const uint32_t idx[3] = {4, 0, 2};
    assert_int_equal(nn_dataset_gather(ds, idx, 3, &x, &y), NN_OK);
    for (int i = 0; i < 3; i++) check_row(xb + i * FEAT, yb[i], (int)idx[i]);
    assert_true(xb[FEAT + 0] == 0.0f && xb[FEAT + 1] == 1.0f); /* example 0 holds pixels 0 and 255 */

    assert_int_equal(nn_dataset_slice(ds, 2, 3, &x, &y), NN_OK);
    for (int i = 0; i < 3; i++) check_row(xb + i * FEAT, yb[i], 2 + i);
    assert_int_equal(nn_dataset_gather(ds, NULL, 2, &x, &y), NN_OK); /* NULL: from example 0 */
    for (int i = 0; i < 2; i++) check_row(xb + i * FEAT, yb[i], i);
    nn_dataset_free(ds);
}

static void test_gather__partial_last_batch_in_a_bigger_view(void **state)
{
    (void)state;
    nn_dataset *ds;
    assert_int_equal(nn_dataset_create(&ds, N, ROWS, COLS, pixels, labels5), NN_OK);
    float xb[4 * FEAT], yb[4];
    for (int i = 0; i < 4 * FEAT; i++) xb[i] = -1.0f;
    yb[3] = -1.0f;
    nn_tensor x, y;
    assert_int_equal(nn_tensor_view(&x, xb, 2, (int64_t[]){4, FEAT}), NN_OK);
    assert_int_equal(nn_tensor_view(&y, yb, 2, (int64_t[]){4, 1}), NN_OK); /* (N, 1) labels work too */
    /* 5 examples in batches of 4: the second batch holds one. */
    assert_int_equal(nn_dataset_slice(ds, 4, 1, &x, &y), NN_OK);
    assert_int_equal(x.shape[0], 1);
    assert_int_equal(x.shape[1], FEAT);
    assert_int_equal(y.shape[0], 1);
    check_row(xb, yb[0], 4);
    for (int i = FEAT; i < 4 * FEAT; i++) assert_true(xb[i] == -1.0f); /* rows past n untouched */
    assert_true(yb[3] == -1.0f);
    nn_dataset_free(ds);
}

static void test_gather__bad_indices_and_shapes_refused(void **state)
{
    (void)state;
    nn_dataset *ds;
    assert_int_equal(nn_dataset_create(&ds, N, ROWS, COLS, pixels, labels5), NN_OK);
    float xb[3 * FEAT], yb[3];
    for (int i = 0; i < 3 * FEAT; i++) xb[i] = -1.0f;
    nn_tensor x, y;
    assert_int_equal(nn_tensor_view(&x, xb, 2, (int64_t[]){3, FEAT}), NN_OK);
    assert_int_equal(nn_tensor_view(&y, yb, 1, (int64_t[]){3}), NN_OK);

    const uint32_t bad[3] = {0, 5, 1};
    assert_int_equal(nn_dataset_gather(ds, bad, 3, &x, &y), NN_ERR_INVALID_ARGUMENT);
    expect_text(nn_last_error(), "idx[1] = 5");
    for (int i = 0; i < 3 * FEAT; i++) assert_true(xb[i] == -1.0f); /* refused before writing */
    assert_int_equal(x.shape[0], 3);
    const uint32_t huge[1] = {UINT32_MAX};
    assert_int_equal(nn_dataset_gather(ds, huge, 1, &x, &y), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_gather(ds, NULL, N + 1, &x, &y), NN_ERR_SHAPE); /* x holds 3 rows */
    assert_int_equal(nn_dataset_slice(ds, 3, 3, &x, &y), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_slice(ds, -1, 1, &x, &y), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_slice(ds, 0, 0, &x, &y), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_slice(ds, 0, 4, &x, &y), NN_ERR_SHAPE);

    nn_tensor narrow, short_y;
    assert_int_equal(nn_tensor_view(&narrow, xb, 2, (int64_t[]){3, FEAT - 1}), NN_OK);
    assert_int_equal(nn_dataset_slice(ds, 0, 2, &narrow, &y), NN_ERR_SHAPE);
    expect_text(nn_last_error(), "12");
    assert_int_equal(nn_tensor_view(&short_y, yb, 1, (int64_t[]){1}), NN_OK);
    assert_int_equal(nn_dataset_slice(ds, 0, 2, &x, &short_y), NN_ERR_SHAPE);
    nn_tensor wide_y;
    assert_int_equal(nn_tensor_view(&wide_y, yb, 2, (int64_t[]){1, 3}), NN_OK); /* 3 numbers, one row */
    assert_int_equal(nn_dataset_slice(ds, 0, 2, &x, &wide_y), NN_ERR_SHAPE);
    assert_int_equal(nn_dataset_slice(NULL, 0, 1, &x, &y), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_dataset_slice(ds, 0, 1, NULL, &y), NN_ERR_INVALID_ARGUMENT);
    for (int i = 0; i < 3 * FEAT; i++) assert_true(xb[i] == -1.0f);
    nn_dataset_free(ds);
}

/* ---- the real MNIST, when NN_DATA_DIR provides it ---- */

static int mnist_path(char *buf, size_t n, const char *name)
{
    const char *root = getenv("NN_DATA_DIR");
    if (!root || !*root) return 0;
    snprintf(buf, n, "%s/mnist/%s", root, name);
    struct stat st;
    return stat(buf, &st) == 0;
}

static void test_idx__real_mnist(void **state)
{
    (void)state;
    char ti[1024], tl[1024], vi[1024], vl[1024];
    if (!mnist_path(ti, sizeof ti, "train-images-idx3-ubyte.gz") ||
        !mnist_path(tl, sizeof tl, "train-labels-idx1-ubyte.gz") ||
        !mnist_path(vi, sizeof vi, "t10k-images-idx3-ubyte.gz") || !mnist_path(vl, sizeof vl, "t10k-labels-idx1-ubyte.gz")) {
        print_message("NN_DATA_DIR/mnist with the four .gz files not found: skipping\n");
        skip();
    }
    nn_dataset *train = NULL, *test = NULL;
    if (nn_dataset_load_idx(&train, ti, tl) != NN_OK) fail_msg("%s", nn_last_error());
    if (nn_dataset_load_idx(&test, vi, vl) != NN_OK) fail_msg("%s", nn_last_error());
    assert_int_equal(nn_dataset_count(train), 60000);
    assert_int_equal(nn_dataset_count(test), 10000);
    assert_int_equal(nn_dataset_features(train), 784);
    assert_int_equal(nn_dataset_classes(train), 10);
    const uint8_t first_train[10] = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, first_test[10] = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
    assert_memory_equal(nn_dataset_labels(train), first_train, 10);
    assert_memory_equal(nn_dataset_labels(test), first_test, 10);
    /* Counts from shared/data/README.md, written down independently of this reader. */
    const int64_t want_train[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    const int64_t want_test[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    int64_t got_train[10] = {0}, got_test[10] = {0};
    for (int64_t i = 0; i < 60000; i++) got_train[nn_dataset_labels(train)[i]]++;
    for (int64_t i = 0; i < 10000; i++) got_test[nn_dataset_labels(test)[i]]++;
    for (int c = 0; c < 10; c++) {
        assert_int_equal(got_train[c], want_train[c]);
        assert_int_equal(got_test[c], want_test[c]);
    }
    nn_dataset_free(train);
    nn_dataset_free(test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx__raw_round_trip),
        cmocka_unit_test(test_idx__gzip_round_trip),
        cmocka_unit_test(test_idx__gzip_detected_by_content_not_name),
        cmocka_unit_test(test_idx__gzip_written_by_gzwrite),
        cmocka_unit_test(test_idx__concatenated_gzip_members),
        cmocka_unit_test(test_idx__wrong_magic),
        cmocka_unit_test(test_idx__wrong_type_byte),
        cmocka_unit_test(test_idx__wrong_rank),
        cmocka_unit_test(test_idx__images_file_given_as_labels),
        cmocka_unit_test(test_idx__zero_dimension),
        cmocka_unit_test(test_idx__huge_dimension_refused_before_allocating),
        cmocka_unit_test(test_idx__truncated_header),
        cmocka_unit_test(test_idx__truncated_body_raw),
        cmocka_unit_test(test_idx__truncated_body_gzip),
        cmocka_unit_test(test_idx__extra_trailing_bytes),
        cmocka_unit_test(test_idx__garbage_after_gzip_stream),
        cmocka_unit_test(test_idx__corrupt_gzip),
        cmocka_unit_test(test_idx__false_fextra_flag_named_as_a_damaged_header),
        cmocka_unit_test(test_idx__second_gzip_member_cut_in_its_header),
        cmocka_unit_test(test_idx__count_mismatch),
        cmocka_unit_test(test_idx__label_outside_declared_classes_refused),
        cmocka_unit_test(test_idx__declared_classes_kept_when_the_last_are_absent),
        cmocka_unit_test(test_idx__image_size_other_than_expected_refused),
        cmocka_unit_test(test_idx__expectations_out_of_range_refused),
        cmocka_unit_test(test_idx__missing_file),
        cmocka_unit_test(test_idx__fifo_refused_without_blocking),
        cmocka_unit_test(test_idx__null_arguments),
        cmocka_unit_test(test_dataset__create_copies_and_validates),
        cmocka_unit_test(test_dataset__subset_copies_rows_and_keeps_classes),
        cmocka_unit_test(test_gather__values_exact),
        cmocka_unit_test(test_gather__partial_last_batch_in_a_bigger_view),
        cmocka_unit_test(test_gather__bad_indices_and_shapes_refused),
        cmocka_unit_test(test_idx__real_mnist),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
