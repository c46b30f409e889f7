/* bench-digits' matching of found boxes to the truth (bench/digits/match.c): what each kind of
 * error is, on boxes made up for it, and that --errors lists each digit counted wrong once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"

/* Two digits 20 x 40, 10 pixels apart, labelled 3 and 7. */
static const bd_box two[2] = {{10, 10, 20, 40, 3}, {40, 10, 20, 40, 7}};

typedef struct run {
    bd_tally t;
    char errors[1024];
} run;

static void match(run *r, const bd_box *truth, int n, const bd_box *found, const int *cls, int nf)
{
    memset(r, 0, sizeof *r);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(bd_match(&r->t, truth, n, found, cls, NULL, nf, f, "img"), 0);
    assert_int_equal(r->t.sure + r->t.sure_right, 0); /* no sure list: nothing counted sure */
    rewind(f);
    size_t got = fread(r->errors, 1, sizeof r->errors - 1, f);
    r->errors[got] = 0;
    fclose(f);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Sure boxes: counted whatever they cover; right only when they are a true digit's reading. */
static void sure_counted(void **state)
{
    (void)state;
    bd_tally t;
    memset(&t, 0, sizeof t);
    /* The 3 read right and surely, the 7 read as 1 surely, a speck far away read surely. */
    const bd_box found[3] = {{10, 10, 20, 40, 0}, {40, 10, 20, 40, 0}, {200, 10, 20, 40, 0}};
    assert_int_equal(bd_match(&t, two, 2, found, (const int[]){3, 1, 5}, (const unsigned char[]){1, 1, 1}, 3,
                              NULL, "img"),
                     0);
    assert_int_equal(t.sure, 3);
    assert_int_equal(t.sure_right, 1);
    /* Both read right, the 7 doubtfully. */
    memset(&t, 0, sizeof t);
    assert_int_equal(
        bd_match(&t, two, 2, found, (const int[]){3, 7}, (const unsigned char[]){1, 0}, 2, NULL, "img"), 0);
    assert_int_equal(t.right, 2);
    assert_int_equal(t.sure, 1);
    assert_int_equal(t.sure_right, 1);
    /* The 3 paired and read right, but a piece of it read as another digit: split, not right. */
    memset(&t, 0, sizeof t);
    const bd_box split[3] = {{10, 10, 20, 40, 0}, {12, 30, 6, 10, 0}, {40, 10, 20, 40, 0}};
    const unsigned char all_sure[3] = {1, 1, 1};
    assert_int_equal(bd_match(&t, two, 2, split, (const int[]){3, 1, 7}, all_sure, 3, NULL, "img"), 0);
    assert_int_equal(t.split, 1);
    assert_int_equal(t.sure, 3);
    assert_int_equal(t.sure_right, 1);
}

static void both_right(void **state)
{
    (void)state;
    run r;
    const bd_box found[2] = {{11, 10, 19, 41, 0}, {40, 11, 21, 39, 0}};
    match(&r, two, 2, found, (const int[]){3, 7}, 2);
    assert_int_equal(r.t.digits, 2);
    assert_int_equal(r.t.matched, 2);
    assert_int_equal(r.t.right, 2);
    assert_int_equal(r.t.split + r.t.merged + r.t.missed + r.t.cut + r.t.spurious, 0);
    assert_string_equal(r.errors, "");
}

static void misread_listed(void **state)
{
    (void)state;
    run r;
    const bd_box found[2] = {{10, 10, 20, 40, 0}, {40, 10, 20, 40, 0}};
    match(&r, two, 2, found, (const int[]){3, 1}, 2);
    assert_int_equal(r.t.matched, 2);
    assert_int_equal(r.t.right, 1);
    assert_string_equal(r.errors, "img\t1\t7\t40\tread as 1\n");
}

/* The 7's box is paired, and a piece of it (its bar) is read as one more digit: the output holds a
 * digit that is not there, so the 7 is not right, however its pair is read. Half of the piece
 * inside is enough (10 x 8 boxes, 40 pixels in); a little less makes it spurious. */
static void extra_piece_is_split(void **state)
{
    (void)state;
    run r;
    const bd_box found[3] = {{10, 10, 20, 40, 0}, {42, 12, 18, 38, 0}, {44, 10, 10, 8, 0}};
    match(&r, two, 2, found, (const int[]){3, 7, 1}, 3);
    assert_int_equal(r.t.matched, 1);
    assert_int_equal(r.t.right, 1);
    assert_int_equal(r.t.split, 1);
    assert_int_equal(r.t.spurious, 0);
    assert_string_equal(r.errors, "img\t1\t7\t40\tsplit\n");
    const bd_box half_in[3] = {{10, 10, 20, 40, 0}, {40, 10, 20, 40, 0}, {55, 10, 10, 8, 0}};
    match(&r, two, 2, half_in, (const int[]){3, 7, 1}, 3);
    assert_int_equal(r.t.split, 1);
    assert_int_equal(r.t.spurious, 0);
    const bd_box less_in[3] = {{10, 10, 20, 40, 0}, {40, 10, 20, 40, 0}, {56, 10, 10, 8, 0}};
    match(&r, two, 2, less_in, (const int[]){3, 7, 1}, 3);
    assert_int_equal(r.t.split, 0);
    assert_int_equal(r.t.right, 2);
    assert_int_equal(r.t.spurious, 1);
}

/* A piece on the border of both digits goes to the one that holds most of it, and only to it. */
static void shared_piece_counted_once(void **state)
{
    (void)state;
    run r;
    const bd_box touching[2] = {{10, 10, 20, 40, 3}, {28, 10, 20, 40, 7}};
    const bd_box found[3] = {{10, 10, 20, 40, 0}, {28, 10, 20, 40, 0}, {27, 30, 6, 6, 0}};
    match(&r, touching, 2, found, (const int[]){3, 7, 1}, 3);
    assert_int_equal(r.t.right, 1);
    assert_int_equal(r.t.split, 1);
    assert_int_equal(lines(r.errors), 1);
    assert_string_equal(r.errors, "img\t1\t7\t40\tsplit\n");
}

/* A box lying as much in one digit as in the next, and half of it in neither, adds a digit to the
 * output all the same: it goes to the first of the two. */
static void piece_between_goes_to_the_first(void **state)
{
    (void)state;
    run r;
    const bd_box found[3] = {{10, 10, 20, 40, 0}, {40, 10, 20, 40, 0}, {20, 20, 30, 10, 0}};
    match(&r, two, 2, found, (const int[]){3, 7, 1}, 3);
    assert_int_equal(r.t.right, 1);
    assert_int_equal(r.t.split, 1);
    assert_int_equal(r.t.spurious, 0);
    assert_string_equal(r.errors, "img\t0\t3\t40\tsplit\n");
}

static void too_many_digits_refused(void **state)
{
    (void)state;
    bd_box many[BD_MAX_LEN + 1];
    for (int i = 0; i <= BD_MAX_LEN; i++) many[i] = (bd_box){10 + 30 * i, 10, 20, 40, 1};
    bd_tally t;
    memset(&t, 0, sizeof t);
    assert_int_equal(bd_match(&t, many, BD_MAX_LEN + 1, many, NULL, NULL, BD_MAX_LEN + 1, NULL, "img"), -1);
    assert_int_equal(t.digits, 0);
    assert_int_equal(bd_match(&t, many, BD_MAX_LEN, many, NULL, NULL, BD_MAX_LEN, NULL, "img"), 0);
    assert_int_equal(t.matched, BD_MAX_LEN);
}

/* A box mostly outside every digit is spurious, and leaves the digits right. */
static void spurious_outside(void **state)
{
    (void)state;
    run r;
    const bd_box found[3] = {{10, 10, 20, 40, 0}, {40, 10, 20, 40, 0}, {55, 45, 20, 20, 0}};
    match(&r, two, 2, found, (const int[]){3, 7, 5}, 3);
    assert_int_equal(r.t.right, 2);
    assert_int_equal(r.t.split, 0);
    assert_int_equal(r.t.spurious, 1);
    assert_string_equal(r.errors, "img\t-\t-\t20\tspurious at 55,45\n");
}

static void merged_missed_cut_and_split(void **state)
{
    (void)state;
    run r;
    /* One box over both. */
    match(&r, two, 2, (const bd_box[]){{10, 10, 50, 40, 0}}, (const int[]){8}, 1);
    assert_int_equal(r.t.merged, 2);
    assert_int_equal(r.t.right, 0);
    /* Nothing found. */
    match(&r, two, 2, NULL, NULL, 0);
    assert_int_equal(r.t.missed, 2);
    /* The 3 in two pieces, neither large enough to pair; the 7 a box too low to pair but over a fifth of
     * it. */
    match(&r, two, 2, (const bd_box[]){{10, 10, 20, 16, 0}, {10, 34, 20, 16, 0}, {40, 10, 20, 12, 0}},
          (const int[]){0, 0, 1}, 3);
    assert_int_equal(r.t.split, 1);
    assert_int_equal(r.t.cut, 1);
    assert_int_equal(r.t.matched, 0);
    assert_int_equal(lines(r.errors), 2);
    assert_non_null(strstr(r.errors, "img\t0\t3\t40\tsplit\n"));
    assert_non_null(strstr(r.errors, "img\t1\t7\t40\tcut wrong\n"));
}

/* Touching or nearly: within max(2 pixels, 5% of the taller height), side by side. */
static void near_neighbours(void **state)
{
    (void)state;
    const bd_box tall[4] = {
        {0, 0, 50, 100, 1}, {55, 0, 40, 100, 2}, {101, 0, 40, 100, 3}, {0, 105, 50, 100, 4}};
    assert_true(bd_near(tall, 4, 0));  /* 5 pixels from the next, at 100 high */
    assert_true(bd_near(tall, 4, 1));
    assert_false(bd_near(tall, 4, 2)); /* 6 pixels */
    assert_false(bd_near(tall, 4, 3)); /* under the first, no row shared */
    const bd_box small[3] = {{0, 0, 10, 20, 1}, {12, 0, 10, 20, 2}, {25, 0, 10, 20, 3}};
    assert_true(bd_near(small, 3, 0)); /* 2 pixels, the least */
    assert_false(bd_near(small, 3, 2));
    /* The taller one's height counts: 3 pixels is near beside a digit 60 high. */
    const bd_box mixed[2] = {{0, 0, 10, 40, 1}, {13, 0, 10, 60, 2}};
    assert_true(bd_near(mixed, 2, 0));
    assert_true(bd_near(mixed, 2, 1));
    /* Rows that only meet are not shared. */
    const bd_box stacked[2] = {{0, 0, 10, 20, 1}, {0, 20, 10, 20, 2}};
    assert_false(bd_near(stacked, 2, 0));
    const bd_box overlapping[2] = {{0, 0, 30, 40, 1}, {20, 0, 30, 40, 2}};
    assert_true(bd_near(overlapping, 2, 1));
    assert_false(bd_near(overlapping, 1, 0)); /* alone */
}

/* The digits near another are counted apart, and right only when read right. */
static void touching_counted(void **state)
{
    (void)state;
    run r;
    const bd_box truth[3] = {{10, 10, 20, 40, 3}, {31, 10, 20, 40, 7}, {80, 10, 20, 40, 5}};
    match(&r, truth, 3, truth, (const int[]){3, 1, 5}, 3);
    assert_int_equal(r.t.right, 2);
    assert_int_equal(r.t.touching, 2);
    assert_int_equal(r.t.touching_right, 1);
    /* Merged, they are still touching digits, neither right. */
    match(&r, truth, 3, (const bd_box[]){{10, 10, 41, 40, 0}, {80, 10, 20, 40, 0}}, (const int[]){8, 5}, 2);
    assert_int_equal(r.t.touching, 2);
    assert_int_equal(r.t.touching_right, 0);
    assert_int_equal(r.t.right, 1);
    /* Nothing found (an image the decoder failed on): counted, none right. */
    match(&r, truth, 3, NULL, NULL, 0);
    assert_int_equal(r.t.touching, 2);
    assert_int_equal(r.t.touching_right + r.t.right, 0);
}

/* Written into each other: a neighbour's box over at least a tenth of the narrower one's width. */
static void overlapping_neighbours(void **state)
{
    (void)state;
    /* 20 wide: 2 columns shared is a tenth, 1 is less; a digit 10 wide under a 40 wide one's edge
     * is judged by its own width. */
    const bd_box pairs[6] = {{0, 0, 20, 40, 1},  {18, 0, 20, 40, 2},  {100, 0, 20, 40, 3},
                             {119, 0, 20, 40, 4}, {200, 0, 40, 40, 5}, {239, 0, 10, 40, 6}};
    assert_true(bd_overlapping(pairs, 6, 0));
    assert_true(bd_overlapping(pairs, 6, 1));
    assert_false(bd_overlapping(pairs, 6, 2));
    assert_true(bd_near(pairs, 6, 2)); /* touching, not written into each other */
    assert_true(bd_overlapping(pairs, 6, 4));
    assert_true(bd_overlapping(pairs, 6, 5));
    /* Boxes only meeting, or in other rows, are not. */
    const bd_box apart[3] = {{0, 0, 20, 40, 1}, {20, 0, 20, 40, 2}, {5, 40, 20, 40, 3}};
    for (int i = 0; i < 3; i++) assert_false(bd_overlapping(apart, 3, i));
}

/* Overlapping digits are counted among the touching ones and on their own, right only when read right. */
static void overlapping_counted(void **state)
{
    (void)state;
    run r;
    const bd_box truth[4] = {{10, 10, 20, 40, 3}, {25, 10, 20, 40, 7}, {80, 10, 20, 40, 5}, {101, 10, 20, 40, 2}};
    match(&r, truth, 4, truth, (const int[]){3, 1, 5, 2}, 4);
    assert_int_equal(r.t.touching, 4);
    assert_int_equal(r.t.touching_right, 3);
    assert_int_equal(r.t.overlapping, 2);
    assert_int_equal(r.t.overlapping_right, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_right),
        cmocka_unit_test(sure_counted),
        cmocka_unit_test(misread_listed),
        cmocka_unit_test(extra_piece_is_split),
        cmocka_unit_test(shared_piece_counted_once),
        cmocka_unit_test(piece_between_goes_to_the_first),
        cmocka_unit_test(too_many_digits_refused),
        cmocka_unit_test(spurious_outside),
        cmocka_unit_test(merged_missed_cut_and_split),
        cmocka_unit_test(near_neighbours),
        cmocka_unit_test(touching_counted),
        cmocka_unit_test(overlapping_neighbours),
        cmocka_unit_test(overlapping_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
