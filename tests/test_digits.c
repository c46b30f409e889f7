/* nn_digits_find() (include/nn/digits.h) on images the tests draw, and on real MNIST digits pasted
 * into a page (NN_DATA_DIR, skipped without). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/nn.h"
#include "vision/vision.h"

typedef struct canvas {
    int64_t w, h;
    uint8_t *px;
} canvas;

static canvas canvas_new(int64_t w, int64_t h, uint8_t paper)
{
    canvas c = {w, h, malloc((size_t)(w * h))};
    assert_non_null(c.px);
    memset(c.px, paper, (size_t)(w * h));
    return c;
}

static void rect(canvas *c, int64_t x0, int64_t y0, int64_t w, int64_t h, uint8_t v)
{
    for (int64_t y = y0; y < y0 + h; y++)
        for (int64_t x = x0; x < x0 + w; x++)
            if (x >= 0 && y >= 0 && x < c->w && y < c->h) c->px[y * c->w + x] = v;
}

/* An axis-aligned elliptical ring in box (x0, y0, w, h) with stroke t: a drawn 0. */
static void ring(canvas *c, int64_t x0, int64_t y0, int64_t w, int64_t h, double t, uint8_t v)
{
    const double cx = x0 + w / 2.0, cy = y0 + h / 2.0, a = w / 2.0, b = h / 2.0;
    for (int64_t y = y0; y < y0 + h; y++)
        for (int64_t x = x0; x < x0 + w; x++) {
            double dx = (x + 0.5 - cx), dy = (y + 0.5 - cy);
            double outer = dx * dx / (a * a) + dy * dy / (b * b);
            double inner = dx * dx / ((a - t) * (a - t)) + dy * dy / ((b - t) * (b - t));
            if (outer <= 1 && inner > 1 && x >= 0 && y >= 0 && x < c->w && y < c->h) c->px[y * c->w + x] = v;
        }
}

/* Deterministic noise of amplitude +-amp. */
static void noise(canvas *c, int amp, uint32_t seed)
{
    uint32_t s = seed;
    for (int64_t i = 0; i < c->w * c->h; i++) {
        s = s * 1664525u + 1013904223u;
        int v = c->px[i] + (int)((s >> 16) % (uint32_t)(2 * amp + 1)) - amp;
        c->px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

static void invert(canvas *c)
{
    for (int64_t i = 0; i < c->w * c->h; i++) c->px[i] = (uint8_t)(255 - c->px[i]);
}

static nn_digits *find(const canvas *c, const nn_digits_options *o)
{
    nn_digits *d = NULL;
    nn_status st = nn_digits_find(&d, c->px, c->w, c->h, c->w, o);
    if (st != NN_OK) fprintf(stderr, "%s\n", nn_last_error());
    assert_int_equal(st, NN_OK);
    assert_non_null(d);
    return d;
}

static void box(const nn_digits *d, int64_t i, int64_t b[4])
{
    assert_int_equal(nn_digits_box(d, i, &b[0], &b[1], &b[2], &b[3]), NN_OK);
}

static void centre_of_mass(const float *img, double *cx, double *cy)
{
    double s = 0, sx = 0, sy = 0;
    for (int y = 0; y < NN_DIGITS_SIDE; y++)
        for (int x = 0; x < NN_DIGITS_SIDE; x++) {
            double v = img[y * NN_DIGITS_SIDE + x];
            s += v;
            sx += v * x;
            sy += v * y;
        }
    assert_true(s > 0);
    *cx = sx / s;
    *cy = sy / s;
}

/* Extent of the non-zero pixels (> 0.05) of a normalised image. */
static void extent(const float *img, int *w, int *h)
{
    int x0 = 99, x1 = -1, y0 = 99, y1 = -1;
    for (int y = 0; y < NN_DIGITS_SIDE; y++)
        for (int x = 0; x < NN_DIGITS_SIDE; x++)
            if (img[y * NN_DIGITS_SIDE + x] > 0.05f) {
                x0 = x < x0 ? x : x0;
                x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
    *w = x1 - x0 + 1;
    *h = y1 - y0 + 1;
}

static void test_digits__square_centre_of_mass_at_14(void **state)
{
    (void)state;
    canvas c = canvas_new(200, 160, 235);
    rect(&c, 60, 70, 40, 40, 20);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 1);
    int64_t b[4];
    box(d, 0, b);
    assert_int_equal(b[0], 60);
    assert_int_equal(b[1], 70);
    assert_int_equal(b[2], 40);
    assert_int_equal(b[3], 40);
    const float *img = nn_digits_image(d, 0);
    double cx, cy;
    centre_of_mass(img, &cx, &cy);
    assert_true(fabs(cx - 14) < 1e-3 && fabs(cy - 14) < 1e-3);
    int ew, eh;
    extent(img, &ew, &eh);
    assert_true(ew >= 20 && ew <= 21 && eh >= 20 && eh <= 21); /* the 20 x 20 box, edges anti-aliased */
    assert_true(img[14 * 28 + 14] > 0.95f && img[0] == 0.0f);
    assert_int_equal(nn_digits_polarity_used(d), NN_DIGITS_POLARITY_DARK_ON_LIGHT);
    assert_int_equal(nn_digits_line(d, 0), 0);
    assert_int_equal(nn_digits_line_count(d), 1);
    nn_digits_free(d);

    /* An L: lopsided, its centre of mass still at (14, 14), its aspect kept (20 high, 10 wide). */
    memset(c.px, 235, (size_t)(c.w * c.h));
    rect(&c, 50, 20, 12, 80, 10);
    rect(&c, 50, 88, 40, 12, 10);
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 1);
    centre_of_mass(nn_digits_image(d, 0), &cx, &cy);
    assert_true(fabs(cx - 14) < 0.1 && fabs(cy - 14) < 0.1);
    extent(nn_digits_image(d, 0), &ew, &eh);
    assert_true(eh >= 20 && eh <= 21 && ew >= 10 && ew <= 11);
    nn_digits_free(d);
    free(c.px);
}

/* A 5 with its top stroke apart from the rest: one digit, whose box holds both. */
static void test_digits__broken_digit_merged(void **state)
{
    (void)state;
    canvas c = canvas_new(160, 140, 240);
    rect(&c, 50, 30, 34, 7, 30);   /* the separate top stroke */
    rect(&c, 50, 42, 7, 24, 30);   /* the stem */
    ring(&c, 44, 58, 44, 44, 7, 30); /* the belly (a ring stands in) */
    rect(&c, 44, 58, 13, 22, 240);  /* opened on the left top */
    rect(&c, 50, 58, 7, 10, 30);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 1);
    int64_t b[4];
    box(d, 0, b);
    assert_int_equal(b[1], 30);                     /* from the top stroke */
    assert_true(b[1] + b[3] >= 100 && b[3] <= 72);  /* to the belly's bottom */
    nn_digits_free(d);

    /* Without merging, the stroke stays alone: too low for a digit, it is dropped. */
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.merge = 0;
    d = find(&c, &o);
    assert_int_equal(nn_digits_count(d), 1);
    box(d, 0, b);
    assert_int_equal(b[1], 42);
    nn_digits_free(d);
    free(c.px);
}

/* Two 0s that touch: one component too wide for a digit, split at their shared wall. */
static void test_digits__touching_blobs_split(void **state)
{
    (void)state;
    canvas c = canvas_new(220, 120, 230);
    ring(&c, 40, 30, 36, 50, 6, 20);
    ring(&c, 72, 30, 36, 50, 6, 20); /* overlaps the first by 4 columns */
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 2);
    int64_t a[4], b[4];
    box(d, 0, a);
    box(d, 1, b);
    assert_int_equal(a[0], 40);
    assert_int_equal(b[0] + b[2], 108);
    assert_true(a[0] + a[2] >= 72 && a[0] + a[2] <= 76); /* the cut lies in the shared wall */
    assert_int_equal(b[0], a[0] + a[2]);
    /* Each part still looks like a 0: ink at its left and right edges in the middle row. */
    for (int i = 0; i < 2; i++) {
        const float *img = nn_digits_image(d, i);
        int left = 0, right = 0;
        for (int x = 0; x < 14; x++) left |= img[14 * 28 + x] > 0.5f;
        for (int x = 14; x < 28; x++) right |= img[14 * 28 + x] > 0.5f;
        assert_true(left && right && img[14 * 28 + 14] < 0.2f);
    }
    nn_digits_free(d);

    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.split = 0;
    d = find(&c, &o);
    assert_int_equal(nn_digits_count(d), 1);
    nn_digits_free(d);

    /* Three in a row: split twice. */
    canvas c3 = canvas_new(260, 120, 230);
    ring(&c3, 40, 30, 36, 50, 6, 20);
    ring(&c3, 72, 30, 36, 50, 6, 20);
    ring(&c3, 104, 30, 36, 50, 6, 20);
    d = find(&c3, NULL);
    assert_int_equal(nn_digits_count(d), 3);
    nn_digits_free(d);
    free(c3.px);
    free(c.px);
}

static void draw_scene(canvas *c)
{
    ring(c, 30, 30, 30, 44, 5, 25);
    rect(c, 90, 30, 6, 44, 25);               /* a 1 */
    rect(c, 120, 30, 30, 6, 25);              /* a 7 */
    rect(c, 144, 30, 6, 44, 25);
    rect(c, 180, 30, 26, 6, 25);              /* a squarish 2 */
    rect(c, 200, 30, 6, 22, 25);
    rect(c, 180, 50, 26, 6, 25);
    rect(c, 180, 50, 6, 24, 25);
    rect(c, 180, 68, 26, 6, 25);
}

static void test_digits__inverted_polarity_same_result(void **state)
{
    (void)state;
    canvas c = canvas_new(240, 110, 225);
    draw_scene(&c);
    noise(&c, 6, 7);
    nn_digits *a = find(&c, NULL);
    invert(&c);
    nn_digits *b = find(&c, NULL);
    assert_int_equal(nn_digits_count(a), 4);
    assert_int_equal(nn_digits_count(b), 4);
    assert_int_equal(nn_digits_polarity_used(a), NN_DIGITS_POLARITY_DARK_ON_LIGHT);
    assert_int_equal(nn_digits_polarity_used(b), NN_DIGITS_POLARITY_LIGHT_ON_DARK);
    for (int64_t i = 0; i < 4; i++) {
        int64_t ba[4], bb[4];
        box(a, i, ba);
        box(b, i, bb);
        assert_memory_equal(ba, bb, sizeof ba);
        double diff = 0;
        for (int k = 0; k < NN_DIGITS_PIXELS; k++)
            diff = fmax(diff, fabs(nn_digits_image(a, i)[k] - nn_digits_image(b, i)[k]));
        assert_true(diff < 0.1);
    }
    /* Told the wrong polarity, it finds the paper between the strokes instead: not these digits. */
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.polarity = NN_DIGITS_POLARITY_DARK_ON_LIGHT;
    nn_digits *wrong = find(&c, &o);
    assert_true(nn_digits_count(wrong) != 4);
    nn_digits_free(wrong);
    nn_digits_free(a);
    nn_digits_free(b);
    free(c.px);
}

/* Five rings 34 x 50 at x = 30, 102, ...: each found alone, at most `taller` pixels taller than drawn
 * (a ring keeps the stretch of a line under its stroke) or 2 pixels off. */
static int five_rings_taller(const nn_digits *d, int64_t taller)
{
    if (nn_digits_count(d) != 5) return 0;
    for (int64_t i = 0; i < 5; i++) {
        int64_t b[4];
        box(d, i, b);
        if (llabs(b[0] - (30 + 72 * i)) > 1 || llabs(b[2] - 34) > 2 || b[3] < 48 || b[3] > 50 + taller)
            return 0;
    }
    return 1;
}

static int five_rings_found(const nn_digits *d) { return five_rings_taller(d, 2); }

/* Light from the left: paper from 70 to 245, ink at 45% of the paper's level. At the right, the ink
 * (112) is brighter than the paper at the left: no single threshold separates them. */
static void test_digits__gradient_background(void **state)
{
    (void)state;
    canvas c = canvas_new(400, 120, 0);
    canvas mask = canvas_new(400, 120, 0);
    for (int i = 0; i < 5; i++) ring(&mask, 30 + 72 * i, 35, 34, 50, 6, 1);
    for (int64_t y = 0; y < c.h; y++)
        for (int64_t x = 0; x < c.w; x++) {
            double paper = 70 + 165.0 * (double)x / (double)(c.w - 1) + 10.0 * (double)y / (double)c.h;
            c.px[y * c.w + x] = (uint8_t)lrint(mask.px[y * c.w + x] ? 0.45 * paper : paper);
        }
    noise(&c, 4, 11);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_threshold_used(d), NN_DIGITS_THRESHOLD_ADAPTIVE);
    assert_true(five_rings_found(d));
    nn_digits_free(d);
    /* One global threshold cannot read it: the dim half of the paper becomes ink. */
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.threshold = NN_DIGITS_THRESHOLD_OTSU;
    d = find(&c, &o);
    assert_int_equal(nn_digits_threshold_used(d), NN_DIGITS_THRESHOLD_OTSU);
    assert_false(five_rings_found(d));
    nn_digits_free(d);
    /* Even light: AUTO keeps one threshold. */
    canvas e = canvas_new(240, 110, 225);
    draw_scene(&e);
    d = find(&e, NULL);
    assert_int_equal(nn_digits_threshold_used(d), NN_DIGITS_THRESHOLD_OTSU);
    nn_digits_free(d);
    free(e.px);
    free(mask.px);
    free(c.px);
}

/* c with p pasted at (x0, y0). */
static void paste(canvas *c, const canvas *p, int64_t x0, int64_t y0)
{
    for (int64_t y = 0; y < p->h; y++) memcpy(c->px + (y0 + y) * c->w + x0, p->px + y * p->w, (size_t)p->w);
}

/* b's boxes are a's moved by (dx, dy), as many. */
static void expect_boxes_moved(const nn_digits *a, const nn_digits *b, int64_t dx, int64_t dy)
{
    assert_int_equal(nn_digits_count(a), nn_digits_count(b));
    for (int64_t i = 0; i < nn_digits_count(a); i++) {
        int64_t ba[4], bb[4];
        box(a, i, ba);
        box(b, i, bb);
        ba[0] += dx, ba[1] += dy;
        assert_memory_equal(ba, bb, sizeof ba);
    }
}

/* A white plate small on a dark wall (step 0): the digits read are the plate's own, read as on the
 * plate alone, where they lie in the photo. Read whole, the photo makes the plate the ink (light on
 * dark wins) and its digits are holes. A dark plate with light digits on a light wall, the same. */
static void test_digits__plate_on_a_wall_read_alone(void **state)
{
    (void)state;
    canvas plate = canvas_new(240, 110, 235), wall = canvas_new(640, 480, 80);
    draw_scene(&plate);
    noise(&wall, 6, 5);
    paste(&wall, &plate, 260, 190);
    nn_digits *alone = find(&plate, NULL);
    assert_int_equal(nn_digits_count(alone), 4);
    for (int dark_plate = 0; dark_plate < 2; dark_plate++) {
        nn_digits *d = find(&wall, NULL);
        assert_int_equal(nn_digits_count(d), 4);
        assert_int_equal(nn_digits_polarity_used(d),
                         dark_plate ? NN_DIGITS_POLARITY_LIGHT_ON_DARK : NN_DIGITS_POLARITY_DARK_ON_LIGHT);
        expect_boxes_moved(alone, d, 260, 190);
        for (int64_t i = 0; i < 4; i++)
            assert_memory_equal(nn_digits_image(alone, i), nn_digits_image(d, i), NN_DIGITS_PIXELS * sizeof(float));
        nn_digits_free(d);
        nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
        o.plate = 0;
        d = find(&wall, &o);
        assert_true(nn_digits_count(d) != 4 || nn_digits_polarity_used(d) == (dark_plate ? NN_DIGITS_POLARITY_DARK_ON_LIGHT
                                                                                         : NN_DIGITS_POLARITY_LIGHT_ON_DARK));
        nn_digits_free(d);
        invert(&wall);
        invert(&plate);
        nn_digits_free(alone);
        alone = find(&plate, NULL);
    }
    nn_digits_free(alone);
    free(plate.px);
    free(wall.px);
}

/* An oval plate (half of its box's corners are wall) and a plate with a line drawn along its edge,
 * inside it (a frame around the plate's middle): each read alone, the scene's four digits where they
 * lie on the plate read alone. */
static void test_digits__oval_and_framed_plates(void **state)
{
    (void)state;
    canvas plate = canvas_new(240, 110, 235);
    draw_scene(&plate);
    nn_digits *alone = find(&plate, NULL);
    assert_int_equal(nn_digits_count(alone), 4);
    nn_digits_options off = NN_DIGITS_OPTIONS_INIT;
    off.plate = 0;
    for (int framed = 0; framed < 2; framed++) {
        canvas wall = canvas_new(640, 480, 80);
        noise(&wall, 6, 5);
        if (framed) {
            rect(&wall, 253, 182, 250, 120, 235);
            rect(&wall, 258, 187, 240, 2, 40), rect(&wall, 258, 295, 240, 2, 40);
            rect(&wall, 258, 187, 2, 110, 40), rect(&wall, 496, 187, 2, 110, 40);
        } else {
            for (int64_t y = 0; y < wall.h; y++)
                for (int64_t x = 0; x < wall.w; x++) {
                    const double dx = (x + 0.5 - 378) / 130, dy = (y + 0.5 - 242) / 60;
                    if (dx * dx + dy * dy <= 1) wall.px[y * wall.w + x] = 235;
                }
        }
        for (int64_t y = 30; y < 75; y++)
            for (int64_t x = 30; x < 207; x++)
                if (plate.px[y * plate.w + x] != 235) wall.px[(190 + y) * wall.w + 260 + x] = plate.px[y * plate.w + x];
        nn_digits *d = find(&wall, NULL), *whole = find(&wall, &off);
        expect_boxes_moved(alone, d, 260, 190);
        /* Read whole, the plate's edges or the frame are read too, or the plate is the ink. */
        assert_true(nn_digits_count(whole) != 4 || nn_digits_polarity_used(whole) == NN_DIGITS_POLARITY_LIGHT_ON_DARK);
        nn_digits_free(d);
        nn_digits_free(whole);
        free(wall.px);
    }
    nn_digits_free(alone);
    free(plate.px);
}

/* What is no plate reads the same with the step as without: a square 0 (Jura's, with its dot), the
 * only ink in the image, whose inside is no stroke; a condensed bold 8, whose loops are as wide as
 * the 8 around them; a plate the photo's edge cuts (read with the wall: the plate is the ink, and
 * the photo's edge no plate's edge); a plate beside another patch of its colour; a dark door with a
 * light handle, the number on the wall beside it; a number in a frame drawn on a page, beside
 * another (the frame's inside is of the page's colour: read alone, the other number was lost). */
static void test_digits__not_a_plate(void **state)
{
    (void)state;
    canvas zero = canvas_new(240, 240, 230), bold = canvas_new(240, 240, 230);
    canvas cut = canvas_new(640, 480, 80), two = canvas_new(640, 480, 80), door = canvas_new(640, 480, 220);
    canvas number = canvas_new(240, 110, 220), page = canvas_new(640, 240, 220);
    draw_scene(&number);
    rect(&page, 40, 90, 6, 44, 25);   /* 1 7 1: no loop of the page's colour beside the frame */
    rect(&page, 70, 90, 30, 6, 25), rect(&page, 94, 90, 6, 44, 25);
    rect(&page, 130, 90, 6, 44, 25);
    paste(&page, &number, 360, 70);
    rect(&page, 370, 80, 220, 2, 25), rect(&page, 370, 168, 220, 2, 25);
    rect(&page, 370, 80, 2, 90, 25), rect(&page, 588, 80, 2, 90, 25);
    noise(&door, 6, 5);
    rect(&door, 60, 80, 200, 320, 60);
    rect(&door, 230, 230, 10, 40, 220);
    paste(&door, &number, 330, 190);
    rect(&zero, 70, 50, 100, 140, 25);
    rect(&zero, 105, 85, 30, 70, 230);
    rect(&zero, 115, 115, 10, 10, 25);
    rect(&bold, 90, 50, 60, 140, 25);
    rect(&bold, 110, 70, 20, 40, 230);
    rect(&bold, 110, 130, 20, 40, 230);
    canvas plate = canvas_new(240, 110, 235);
    draw_scene(&plate);
    noise(&cut, 6, 5);
    noise(&two, 6, 5);
    paste(&cut, &plate, 0, 190);
    paste(&two, &plate, 260, 190);
    rect(&two, 40, 40, 60, 30, 235);
    const canvas *cs[6] = {&zero, &bold, &cut, &two, &door, &page};
    nn_digits_options off = NN_DIGITS_OPTIONS_INIT;
    off.plate = 0;
    for (int k = 0; k < 6; k++) {
        nn_digits *a = find(cs[k], NULL), *b = find(cs[k], &off);
        assert_true(nn_digits_count(a) > 0);
        expect_boxes_moved(a, b, 0, 0);
        assert_int_equal(nn_digits_polarity_used(a), nn_digits_polarity_used(b));
        if (cs[k] == &cut) assert_int_equal(nn_digits_polarity_used(a), NN_DIGITS_POLARITY_LIGHT_ON_DARK);
        if (cs[k] == &page) assert_int_equal(nn_digits_count(a), 7);
        nn_digits_free(a);
        nn_digits_free(b);
    }
    free(zero.px);
    free(bold.px);
    free(cut.px);
    free(two.px);
    free(door.px);
    free(number.px);
    free(page.px);
    free(plate.px);
}

/* Two lines, the second slanting; digits told apart by their widths. */
static void test_digits__reading_order(void **state)
{
    (void)state;
    canvas c = canvas_new(360, 220, 230);
    const int widths[6] = {10, 20, 30, 14, 24, 34};
    /* Drawn out of order: the second line first, right to left. */
    for (int k = 5; k >= 0; k--) {
        int line = k / 3, col = k % 3;
        int64_t x = 40 + 90 * col, y = line == 0 ? 30 : 120 + 12 * col; /* the second line slants down */
        rect(&c, x, y, widths[k], 50, 30);
    }
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 6);
    assert_int_equal(nn_digits_line_count(d), 2);
    for (int64_t i = 0; i < 6; i++) {
        int64_t b[4];
        box(d, i, b);
        assert_int_equal(b[2], widths[i]);
        assert_int_equal(nn_digits_line(d, i), i / 3);
    }
    nn_digits_free(d);
    free(c.px);
}

static void test_digits__bad_arguments_refused(void **state)
{
    (void)state;
    uint8_t px[64] = {0};
    nn_digits *d = (nn_digits *)px; /* must be reset to NULL on failure */
    assert_int_equal(nn_digits_find(NULL, px, 8, 8, 8, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_find(&d, NULL, 8, 8, 8, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(d);
    assert_int_equal(nn_digits_find(&d, px, 0, 8, 8, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_find(&d, px, 8, 0, 8, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_find(&d, px, -1, 8, 8, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_find(&d, px, 8, 8, 7, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "stride"));
    /* 100 megapixels and one row more: refused before a pixel is read. */
    assert_int_equal(nn_digits_find(&d, px, 10000, 10001, 10000, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "pixels"));
    assert_int_equal(nn_digits_find(&d, px, INT64_MAX, INT64_MAX, INT64_MAX, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_find(&d, px, 8, 8, INT64_MAX, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(d);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.version = 99;
    assert_int_equal(nn_digits_find(&d, px, 8, 8, 8, &o), NN_ERR_INVALID_ARGUMENT);
    nn_digits_options bad[7];
    for (int i = 0; i < 7; i++) assert_int_equal(nn_digits_options_init(&bad[i], NN_DIGITS_OPTIONS_VERSION), NN_OK);
    bad[0].polarity = (nn_digits_polarity)7;
    bad[1].threshold = (nn_digits_threshold)-1;
    bad[2].min_size = 0;
    bad[3].split_ratio = NAN;
    bad[4].stroke_width = 7;
    bad[5].max_digits = 0;
    bad[6].max_digits = 1000001;
    for (int i = 0; i < 7; i++) assert_int_equal(nn_digits_find(&d, px, 8, 8, 8, &bad[i]), NN_ERR_INVALID_ARGUMENT);
    assert_null(d);
    assert_int_equal(nn_digits_options_init(NULL, 1), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_options_init(&o, 0), NN_ERR_INVALID_ARGUMENT);
    /* The accessors on NULL and out of range. */
    assert_int_equal(nn_digits_count(NULL), 0);
    assert_null(nn_digits_image(NULL, 0));
    assert_null(nn_digits_images(NULL));
    assert_int_equal(nn_digits_box(NULL, 0, NULL, NULL, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_line(NULL, 0), -1);
    nn_digits_free(NULL);
}

static void test_digits__no_ink_is_zero_digits(void **state)
{
    (void)state;
    static const uint8_t levels[] = {0, 128, 255};
    for (int k = 0; k < 3; k++) {
        canvas c = canvas_new(120, 80, levels[k]);
        nn_digits *d = find(&c, NULL);
        assert_int_equal(nn_digits_count(d), 0);
        assert_null(nn_digits_image(d, 0));
        assert_null(nn_digits_images(d));
        assert_int_equal(nn_digits_box(d, 0, NULL, NULL, NULL, NULL), NN_ERR_INVALID_ARGUMENT);
        assert_int_equal(nn_digits_line_count(d), 0);
        nn_digits_free(d);
        /* Paper with a little noise and nothing else. */
        noise(&c, 5, 3 + k);
        d = find(&c, NULL);
        assert_int_equal(nn_digits_count(d), 0);
        nn_digits_free(d);
        free(c.px);
    }
    /* A single pixel, and a single row, both with a stride wider than the width. */
    uint8_t one[4] = {9, 1, 2, 3};
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_find(&d, one, 1, 1, 4, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 0);
    nn_digits_free(d);
}

/* A texture of specks (what the fuzzer found: a 512 x 512 image that made 18 000 digits, 59 MB of
 * output) fails with max_digits named, instead of allocating 3 KiB per speck. */
static void test_digits__too_many_digits_refused(void **state)
{
    (void)state;
    canvas c = canvas_new(240, 240, 255);
    for (int64_t y = 2; y < 240; y += 8)
        for (int64_t x = 2; x < 240; x += 8) rect(&c, x, y, 5, 5, 0); /* 30 x 30 = 900 squares */
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_find(&d, c.px, c.w, c.h, c.w, &o), NN_OK);
    const int64_t n = nn_digits_count(d);
    assert_int_equal(n, 900);
    nn_digits_free(d);
    o.max_digits = (int)n;                /* exactly the limit is fine */
    assert_int_equal(nn_digits_find(&d, c.px, c.w, c.h, c.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(d), n);
    nn_digits_free(d);
    o.max_digits = (int)n - 1;
    d = NULL;
    assert_int_equal(nn_digits_find(&d, c.px, c.w, c.h, c.w, &o), NN_ERR_INVALID_ARGUMENT);
    assert_null(d);
    assert_non_null(strstr(nn_last_error(), "max_digits (899)"));
    assert_non_null(strstr(nn_last_error(), "found 900 digits"));
    free(c.px);
}

/* Blobs stacked in the same columns (a tall image one pixel wide: 75,000 dashes) are refused for
 * max_digits as the squares above are. Merging broken digits compared every two blobs that share
 * columns: 25 s on this image before the refusal in a release build (quadratic), half a second now. */
static void test_digits__stacked_blobs_refused(void **state)
{
    (void)state;
    const int64_t h = 3000000;
    uint8_t *px = malloc((size_t)h);
    assert_non_null(px);
    memset(px, 255, (size_t)h);
    for (int64_t y = 0; y < h; y += 40) memset(px + y, 0, 20);
    nn_digits *d = (nn_digits *)&d;
    assert_int_equal(nn_digits_find(&d, px, 1, h, 1, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(d);
    assert_non_null(strstr(nn_last_error(), "found 75000 digits"));
    free(px);
}

/* The same input gives the same bytes; the stride is honoured (the padding holds ink-like bytes). */
static void test_digits__deterministic_and_stride(void **state)
{
    (void)state;
    canvas c = canvas_new(240, 110, 225);
    draw_scene(&c);
    noise(&c, 10, 5);
    const int64_t stride = 256;
    uint8_t *padded = malloc((size_t)(stride * c.h));
    assert_non_null(padded);
    memset(padded, 0, (size_t)(stride * c.h));
    for (int64_t y = 0; y < c.h; y++) memcpy(padded + y * stride, c.px + y * c.w, (size_t)c.w);
    nn_digits *a = find(&c, NULL), *b = NULL;
    assert_int_equal(nn_digits_find(&b, padded, c.w, c.h, stride, NULL), NN_OK);
    assert_int_equal(nn_digits_count(a), nn_digits_count(b));
    assert_int_equal(nn_digits_count(a), 4);
    assert_memory_equal(nn_digits_images(a), nn_digits_images(b), (size_t)(4 * NN_DIGITS_PIXELS) * sizeof(float));
    nn_digits_free(a);
    nn_digits_free(b);
    free(padded);
    free(c.px);
}

/* Thin strokes (a 2-pixel pen on a 120-pixel digit) come out about as thick as MNIST's. */
static void test_digits__thin_strokes_thickened(void **state)
{
    (void)state;
    canvas c = canvas_new(200, 200, 230);
    ring(&c, 50, 40, 80, 120, 2, 20);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 1);
    double ink = 0;
    for (int k = 0; k < NN_DIGITS_PIXELS; k++) ink += nn_digits_image(d, 0)[k];
    nn_digits_free(d);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.stroke_width = 0;
    d = find(&c, &o);
    double thin = 0;
    for (int k = 0; k < NN_DIGITS_PIXELS; k++) thin += nn_digits_image(d, 0)[k];
    nn_digits_free(d);
    /* A ring 20 high and about 13 wide has a perimeter near 52: a 2-pixel stroke holds ~100. */
    assert_true(thin < 40);
    assert_true(ink > 80 && ink < 160);
    free(c.px);
}

/* Mass (sum of the pixels) of normalised digit i. */
static double mass_of(nn_digits *d, int64_t i)
{
    double m = 0;
    for (int k = 0; k < NN_DIGITS_PIXELS; k++) m += nn_digits_image(d, i)[k];
    return m;
}

/* A 7 of two bars 20 pixels thick, 60 wide and 100 high at (x0, y0); hollow: only its outline, 3
 * pixels, drawn (an outline font), so that the inside of its strokes is one long band of paper. */
static void seven(canvas *c, int64_t x0, int64_t y0, int hollow)
{
    rect(c, x0, y0, 60, 20, 20);
    rect(c, x0 + 40, y0, 20, 100, 20);
    if (!hollow) return;
    rect(c, x0 + 3, y0 + 3, 54, 14, 230);
    rect(c, x0 + 43, y0 + 3, 14, 94, 230);
}

static double image_distance(const float *a, const float *b)
{
    double s = 0;
    for (int k = 0; k < NN_DIGITS_PIXELS; k++) s += fabs((double)a[k] - (double)b[k]);
    return s;
}

/* Text drawn in outline has its strokes filled before normalising, so that a hollow 7 reads as the
 * solid 7 it outlines; but only when most of the text is hollow: one glyph enclosing a band among
 * solid ones stays as it is drawn. */
static void test_digits__hollow_strokes_filled(void **state)
{
    (void)state;
    canvas solid = canvas_new(340, 140, 230), hollow = canvas_new(340, 140, 230), mixed = canvas_new(340, 140, 230);
    for (int k = 0; k < 3; k++) {
        seven(&solid, 20 + 110 * k, 20, 0);
        seven(&hollow, 20 + 110 * k, 20, 1);
        seven(&mixed, 20 + 110 * k, 20, k == 0);
    }
    nn_digits *ds = find(&solid, NULL), *dh = find(&hollow, NULL), *dm = find(&mixed, NULL);
    assert_int_equal(nn_digits_count(ds), 3);
    assert_int_equal(nn_digits_count(dh), 3);
    assert_int_equal(nn_digits_count(dm), 3);
    for (int64_t i = 0; i < 3; i++) {
        const double d = image_distance(nn_digits_image(dh, i), nn_digits_image(ds, i));
        assert_true(d < 0.05 * mass_of(ds, i));
    }
    const double d0 = image_distance(nn_digits_image(dm, 0), nn_digits_image(ds, 0));
    assert_true(d0 > 0.2 * mass_of(ds, 0));
    for (int64_t i = 1; i < 3; i++)
        assert_true(image_distance(nn_digits_image(dm, i), nn_digits_image(ds, i)) < 1e-6);
    nn_digits_free(ds);
    nn_digits_free(dh);
    nn_digits_free(dm);
    free(solid.px);
    free(hollow.px);
    free(mixed.px);
}

/* A hairline on a large glyph (a stroke under a pixel thick, sloping across 450 x 150 pixels) thins to
 * a fifth of a pixel once the glyph is fitted into 20 x 20, below any fixed cut: the digit must
 * still hold ink, with thickening on or off (the fuzzer found such glyphs normalised to nothing). */
static void test_digits__hairline_on_a_large_glyph_kept(void **state)
{
    (void)state;
    canvas c = canvas_new(500, 200, 230);
    for (int64_t y = 0; y < 150; y++)
        for (int64_t x = 0; x < 3; x++) c.px[(25 + y) * c.w + 25 + 3 * y + x] = 20;
    for (int thicken = 0; thicken < 2; thicken++) {
        nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
        o.stroke_width = thicken ? 2.0f : 0.0f;
        o.split = 0;
        nn_digits *d = find(&c, &o);
        assert_int_equal(nn_digits_count(d), 1);
        printf("stroke_width %g: mass %.1f\n", (double)o.stroke_width, mass_of(d, 0));
        assert_true(mass_of(d, 0) > 2);
        nn_digits_free(d);
    }
    free(c.px);
}

/* A marker's strokes (5 pixels wide after fitting, MNIST's rarely pass 3.6) come out thinner, the
 * loop still open. */
static void test_digits__thick_strokes_thinned(void **state)
{
    (void)state;
    canvas c = canvas_new(200, 200, 230);
    ring(&c, 50, 40, 100, 120, 30, 20);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 1);
    const double thinned = mass_of(d, 0);
    assert_true(nn_digits_image(d, 0)[14 * NN_DIGITS_SIDE + 14] == 0.0f);
    nn_digits_free(d);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.stroke_width = 0;
    d = find(&c, &o);
    const double thick = mass_of(d, 0);
    nn_digits_free(d);
    /* A ring 20 high and about 17 wide, its centre line near 50 long: 5 pixels hold ~250. */
    assert_true(thick > 190);
    assert_true(thinned < 0.92 * thick && thinned > 100);
    free(c.px);
}

/* Box blur of radius r, separable, the border repeated. */
static void blur(canvas *c, int r)
{
    uint8_t *t = malloc((size_t)(c->w * c->h));
    assert_non_null(t);
    for (int pass = 0; pass < 2; pass++) {
        const int64_t step = pass ? c->w : 1, n = pass ? c->h : c->w, lines = pass ? c->w : c->h;
        for (int64_t l = 0; l < lines; l++) {
            uint8_t *p = c->px + (pass ? l : l * c->w);
            for (int64_t i = 0; i < n; i++) {
                int sum = 0;
                for (int64_t k = i - r; k <= i + r; k++) sum += p[(k < 0 ? 0 : k >= n ? n - 1 : k) * step];
                t[i] = (uint8_t)((sum + r) / (2 * r + 1));
            }
            for (int64_t i = 0; i < n; i++) p[i * step] = t[i];
        }
    }
    free(t);
}

/* Blur spreads a stroke's ink, but its half level stays where the edge was: a blurred digit comes
 * out as the sharp one did, not fatter. */
static void test_digits__blur_does_not_fatten(void **state)
{
    (void)state;
    canvas c = canvas_new(200, 200, 230);
    ring(&c, 50, 40, 80, 120, 14, 20);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 1);
    float sharp[NN_DIGITS_PIXELS];
    memcpy(sharp, nn_digits_image(d, 0), sizeof sharp);
    const double m0 = mass_of(d, 0);
    nn_digits_free(d);
    blur(&c, 4);
    blur(&c, 4);
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 1);
    const double m1 = mass_of(d, 0);
    double diff = 0;
    for (int k = 0; k < NN_DIGITS_PIXELS; k++) diff += fabs(nn_digits_image(d, 0)[k] - sharp[k]);
    nn_digits_free(d);
    assert_true(fabs(m1 - m0) < 0.08 * m0);
    assert_true(diff < 0.25 * m0);
    free(c.px);
}

/* Digit i's box is (x, y, w, h), its corner within pos pixels and its size within size. */
static int box_near(const nn_digits *d, int64_t i, int64_t x, int64_t y, int64_t w, int64_t h, int64_t pos,
                    int64_t size)
{
    int64_t b[4];
    box(d, i, b);
    return llabs(b[0] - x) <= pos && llabs(b[1] - y) <= pos && llabs(b[2] - w) <= size && llabs(b[3] - h) <= size;
}

/* A small photo with a shadow over its left side, its edge 30 pixels soft: the paper's level must
 * follow the edge, or the shadow comes out as ink and the digits' threshold moves. */
static void test_digits__shadow_edge_in_small_image(void **state)
{
    (void)state;
    canvas c = canvas_new(180, 80, 0);
    for (int64_t y = 0; y < c.h; y++)
        for (int64_t x = 0; x < c.w; x++) {
            double t = (double)(x - 30) / 30;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            c.px[y * c.w + x] = (uint8_t)lround(110 + 100 * t);
        }
    /* Faint digits: ink 60 levels under the paper, in the light and in the shade. */
    for (int k = 0; k < 4; k++) {
        const int64_t x0 = 10 + 42 * k;
        ring(&c, x0, 20, 24, 40, 4, 0);
        for (int64_t y = 20; y < 60; y++)
            for (int64_t x = x0; x < x0 + 24; x++) {
                uint8_t *p = &c.px[y * c.w + x];
                double t = (double)(x - 30) / 30;
                t = t < 0 ? 0 : t > 1 ? 1 : t;
                if (*p == 0) *p = (uint8_t)lround((110 + 100 * t) * 0.55);
            }
    }
    noise(&c, 3, 7);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 4);
    for (int64_t i = 0; i < 4; i++) assert_true(box_near(d, i, 10 + 42 * i, 20, 24, 40, 2, 4));
    nn_digits_free(d);
    free(c.px);
}

/* A band of shade across a small photo (as a hand or a phone casts it), 36 pixels wide with edges
 * 16 pixels soft, 40% darker, and five small digits: in the light, on each edge and inside. The
 * tiles (32 pixels) cannot follow the band: it came out as ink, one blob taller than the digits,
 * which then passed for specks beside it. */
static void test_digits__shadow_band_in_small_image(void **state)
{
    (void)state;
    canvas c = canvas_new(170, 90, 0);
    double light[170];
    for (int64_t x = 0; x < c.w; x++) {
        const double d = fabs((double)x - 85) - 18; /* distance outside the band's core */
        double t = d <= 0 ? 1 : d >= 16 ? 0 : 1 - d / 16;
        t = t * t * (3 - 2 * t);
        light[x] = 1 - 0.4 * t;
    }
    for (int64_t y = 0; y < c.h; y++)
        for (int64_t x = 0; x < c.w; x++) c.px[y * c.w + x] = (uint8_t)lround(200 * light[x]);
    canvas mask = canvas_new(170, 90, 0);
    const int64_t xs[5] = {8, 44, 74, 104, 140};
    for (int k = 0; k < 5; k++) ring(&mask, xs[k], 33, 16, 24, 3, 1);
    for (int64_t i = 0; i < c.w * c.h; i++)
        if (mask.px[i]) c.px[i] = (uint8_t)lround(c.px[i] * 0.5);
    noise(&c, 3, 5);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 5);
    for (int64_t i = 0; i < 5; i++) assert_true(box_near(d, i, xs[i], 33, 16, 24, 1, 2));
    nn_digits_free(d);
    free(mask.px);
    free(c.px);
}

/* A deep shadow (45%) over a small image's top left, its edge 30 pixels soft, and two small faint
 * digits (ink at 70% of the paper) of a fine pen: the shadow's edge departs from the tiles' smooth
 * surface more than the ink does, on both sides, and turned the polarity (the lit paper became the
 * ink). Inverted, the same holds for light ink on a dark ground. */
static void test_digits__polarity_under_a_shadow(void **state)
{
    (void)state;
    canvas c = canvas_new(64, 52, 0), mask = canvas_new(64, 52, 0);
    ring(&mask, 12, 14, 14, 24, 1.5, 1);
    ring(&mask, 38, 14, 14, 24, 1.5, 1);
    for (int64_t y = 0; y < c.h; y++)
        for (int64_t x = 0; x < c.w; x++) {
            double t = (70.0 - (double)(x + y)) / 30 + 0.5; /* shade towards the top left */
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            const double light = 1 - 0.45 * t * t * (3 - 2 * t);
            c.px[y * c.w + x] = (uint8_t)lround(210 * light * (mask.px[y * c.w + x] ? 0.7 : 1));
        }
    noise(&c, 3, 9);
    for (int inverted = 0; inverted < 2; inverted++) {
        nn_digits *d = find(&c, NULL);
        assert_int_equal(nn_digits_polarity_used(d),
                         inverted ? NN_DIGITS_POLARITY_LIGHT_ON_DARK : NN_DIGITS_POLARITY_DARK_ON_LIGHT);
        assert_int_equal(nn_digits_count(d), 2);
        assert_true(box_near(d, 0, 12, 14, 14, 24, 1, 2) && box_near(d, 1, 38, 14, 14, 24, 1, 2));
        nn_digits_free(d);
        invert(&c);
    }
    free(mask.px);
    free(c.px);
}

/* A soft shadow over a small image's upper two thirds, the lit paper below it, and five digits in
 * the shade (MNIST string 142 of bench-digits' seed 4, drawn): over the whole image Otsu's
 * threshold parts shade from light, so the runs that should measure the stroke measured the lit
 * band, a tile grew past the image, one flat tile could not see the light vary, and the lit band
 * passed for light ink on a dark ground, one glyph the image's width. */
static void test_digits__lit_band_below_a_shadow(void **state)
{
    (void)state;
    canvas c = canvas_new(140, 80, 0), mask = canvas_new(140, 80, 0);
    const int64_t xs[5] = {10, 36, 62, 88, 114};
    for (int k = 0; k < 5; k++) ring(&mask, xs[k], 10, 18, 32, 3, 1);
    for (int64_t y = 0; y < c.h; y++)
        for (int64_t x = 0; x < c.w; x++) {
            double t = ((double)y - 46) / 12; /* 0 in the shade, 1 in the light */
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            const double paper = 140 + 95 * t * t * (3 - 2 * t);
            c.px[y * c.w + x] = (uint8_t)lround(paper * (mask.px[y * c.w + x] ? 0.45 : 1));
        }
    noise(&c, 3, 11);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_polarity_used(d), NN_DIGITS_POLARITY_DARK_ON_LIGHT);
    assert_int_equal(nn_digits_count(d), 5);
    for (int64_t i = 0; i < 5; i++) assert_true(box_near(d, i, xs[i], 10, 18, 32, 1, 2));
    nn_digits_free(d);
    free(mask.px);
    free(c.px);
}

/* A blurred 0 whose top and bottom are faint (a pen running dry): at the threshold it is two arcs
 * side by side, which no merging joins (they are not one above the other); through the faint ink
 * they link into one digit. */
static void test_digits__faint_stretch_links_pieces(void **state)
{
    (void)state;
    canvas c = canvas_new(160, 100, 220), mask = canvas_new(160, 100, 0);
    ring(&mask, 50, 20, 44, 60, 5, 1);
    for (int64_t y = 0; y < c.h; y++)
        for (int64_t x = 0; x < c.w; x++)
            if (mask.px[y * c.w + x]) c.px[y * c.w + x] = (y < 32 || y >= 68) ? 165 : 20;
    blur(&c, 2);
    noise(&c, 3, 3);
    /* As drawn: the faint stretches lie below the threshold and above the faint ink's level. */
    const nn__gray g = {c.px, c.w, c.h, c.w};
    nn__ink ink;
    assert_int_equal(nn__vision_ink(&ink, &g, NN_DIGITS_POLARITY_AUTO, NN_DIGITS_THRESHOLD_OTSU), NN_OK);
    const int faint = ink.ink[22 * c.w + 72], strong = ink.ink[50 * c.w + 52]; /* the top, the left side */
    free(ink.ink);
    assert_true(faint >= ink.weak && faint < ink.level && strong >= ink.level);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.threshold = NN_DIGITS_THRESHOLD_OTSU;
    nn_digits *d = find(&c, &o);
    /* One digit, both sides: its box is that of its ink (the faint pixels only link). */
    assert_int_equal(nn_digits_count(d), 1);
    assert_true(box_near(d, 0, 49, 30, 46, 40, 1, 2));
    nn_digits_free(d);
    free(mask.px);
    free(c.px);
}

/* A rectangle of ink strength v in the ink map px, W wide (of the test drawing it). */
#define INK(x0, y0, w, h, v)                                                                       \
    for (int y = (y0); y < (y0) + (h); y++)                                                                \
        for (int x = (x0); x < (x0) + (w); x++) px[y * W + x] = (v)

/* The rules step alone, on an ink map drawn directly: what it clears and what it keeps. */
static void test_digits__rules_cleared_strokes_kept(void **state)
{
    (void)state;
    enum { W = 200, H = 64 };
    uint8_t *px = calloc(W * H, 1);
    assert_non_null(px);
    nn__ink ink = {px, 128, 0, 0, 1, 0, W, H};
    INK(10, 30, 180, 3, 200);  /* a line 3 thick, 60 times as long */
    INK(10, 29, 180, 1, 90);   /* its anti-aliased edges, under the threshold */
    INK(10, 33, 180, 1, 90);
    INK(100, 4, 6, 56, 200);   /* an upright stroke crossing it */
    INK(30, 10, 40, 5, 200);   /* a 7's bar, 8 times as long as thick */
    INK(60, 15, 5, 16, 200);   /* its stem, resting on the line */
    INK(150, 2, 4, 58, 200);   /* an upright stroke 14 times as long as thick (a line's 16 upright) */
    INK(176, 0, 1, 64, 200);   /* a squared page's upright lines, 1 pixel wide, 10 apart */
    INK(186, 0, 1, 64, 200);
    INK(196, 0, 1, 64, 200);
    INK(20, 36, 1, 24, 200);   /* an upright line alone, as thin and long, short of the edge: kept */
    int64_t cleared;
    assert_int_equal(nn__vision_rules(&ink, &cleared), NN_OK);
    assert_true(cleared > 0);
    for (int x = 10; x < 190; x++) {
        const int crossed = (x >= 100 && x < 106) || (x >= 60 && x < 65) || (x >= 150 && x < 154) || x == 20;
        for (int y = 29; y <= 33; y++)
            if (!crossed) assert_int_equal(px[y * W + x], 0);
    }
    for (int y = 4; y < 60; y++)
        for (int x = 100; x < 106; x++) assert_int_equal(px[y * W + x], 200); /* the crossing stroke, whole */
    for (int y = 2; y < 60; y++)
        for (int x = 150; x < 154; x++) assert_int_equal(px[y * W + x], 200);
    for (int y = 10; y < 31; y++) {
        for (int x = 30; x < 70; x++)
            if (y < 15) assert_int_equal(px[y * W + x], 200);
        for (int x = 60; x < 65; x++) assert_int_equal(px[y * W + x], 200); /* the stem reaches the line */
    }
    for (int y = 0; y < H; y++)
        for (int x = 176; x <= 196; x += 10)
            if (y < 29 || y > 33) assert_int_equal(px[y * W + x], 0);
    for (int y = 36; y < 60; y++) assert_int_equal(px[y * W + 20], 200);
    /* Without a lying line, an upright one is a stroke however thin: the stem of a 4 in a fine pen. */
    memset(px, 0, W * H);
    for (int y = 2; y < 62; y++) px[y * W + 50] = px[y * W + 51] = 200; /* 30 times as long as thick */
    assert_int_equal(nn__vision_rules(&ink, &cleared), NN_OK);
    assert_int_equal(cleared, 0);
    for (int y = 2; y < 62; y++) assert_true(px[y * W + 50] == 200 && px[y * W + 51] == 200);
    free(px);
}

/* A squared page printed paler than the pen: a stroke lying along one of its lines, as thick as it,
 * and one standing along an upright line are the pen's, stronger than the line by far, and stay;
 * the lines go everywhere else, beside a crossing stroke too. */
static void test_digits__pale_lines_strokes_along_kept(void **state)
{
    (void)state;
    enum { W = 200, H = 64 };
    uint8_t *px = calloc(W * H, 1);
    assert_non_null(px);
    nn__ink ink = {px, 64, 0, 0, 1, 0, W, H};
    INK(0, 20, W, 2, 70); /* the page's lines, 2 thick, 24 and 40 apart */
    INK(0, 44, W, 2, 70);
    for (int c = 40; c < W; c += 40) INK(c, 0, 2, H, 70);
    INK(50, 20, 25, 2, 200); /* a stroke along a lying line, */
    INK(80, 4, 2, 48, 200);  /* one along three quarters of an upright line, */
    INK(100, 10, 4, 40, 200); /* one crossing both lying lines */
#undef INK
    int64_t cleared;
    assert_int_equal(nn__vision_rules(&ink, &cleared), NN_OK);
    assert_true(cleared > 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int stroke = (y >= 20 && y < 22 && x >= 50 && x < 75) || (x >= 80 && x < 82 && y >= 4 && y < 52) ||
                               (x >= 100 && x < 104 && y >= 10 && y < 50);
            if (stroke)
                assert_int_equal(px[y * W + x], 200);
            else
                assert_int_equal(px[y * W + x], 0);
        }
    /* A line about the threshold, broken every 4 pixels by the paper's noise into dashes too short
     * to be lines, is followed by the mean of 5 pixels along it. */
    memset(px, 0, W * H);
    for (int x = 12; x < 185; x++) px[30 * W + x] = px[31 * W + x] = x % 4 == 2 ? 40 : 80;
    assert_int_equal(nn__vision_rules(&ink, &cleared), NN_OK);
    assert_true(cleared > 0);
    for (int k = 0; k < W * H; k++) assert_int_equal(px[k], 0);
    /* A stroke beside a line, a row of paper between them, joined to it at one place: the means
     * along the rows bridge that row, but the line's clearing stops at the paper. */
    memset(px, 0, W * H);
    for (int x = 10; x < 190; x++) px[30 * W + x] = px[31 * W + x] = 220;
    for (int y = 24; y < 29; y++)
        for (int x = 40; x < 100; x++) px[y * W + x] = 220; /* 5 thick: no line */
    px[29 * W + 70] = px[29 * W + 71] = 220;
    nn__ink faint = {px, 128, 64, 0, 1, 0, W, H};
    assert_int_equal(nn__vision_rules(&faint, &cleared), NN_OK);
    assert_true(cleared > 0);
    for (int y = 24; y < 29; y++)
        for (int x = 40; x < 100; x++) assert_int_equal(px[y * W + x], 220);
    free(px);
}

/* The ruled lines step (nn__vision_rules()) on ink drawn directly: strength 200 on 0. */
static void rules_on(canvas *c, int64_t *cleared)
{
    nn__ink in = {
        .ink = c->px, .level = 100, .weak = 100, .paper = 0, .dark_on_light = 1, .w = c->w, .h = c->h};
    assert_int_equal(nn__vision_rules(&in, cleared), NN_OK);
}

/* Five rings standing on a line of the same ink, as on ruled paper or underlined: the line joins
 * them into one blob unless the rules step takes it out (`rules`, on by default). */
static void test_digits__underline_taken_out(void **state)
{
    (void)state;
    canvas c = canvas_new(400, 120, 225);
    for (int i = 0; i < 5; i++) ring(&c, 30 + 72 * i, 35, 34, 50, 6, 25);
    rect(&c, 5, 83, 390, 4, 25); /* over the rings' lowest two rows */
    rect(&c, 5, 20, 390, 2, 25); /* the paper's line above, through nothing */
    noise(&c, 6, 13);
    nn_digits *d = find(&c, NULL);
    assert_true(five_rings_found(d));
    nn_digits_free(d);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.rules = 0;
    d = find(&c, &o);
    assert_false(five_rings_found(d));
    nn_digits_free(d);
    /* The page tilted by 3 degrees, a line 2 pixels thick: its rows' runs are 38 pixels long, too short
     * for a line, but it is followed from row to row and goes as well. */
    canvas t = canvas_new(400, 120, 225);
    for (int i = 0; i < 5; i++) ring(&t, 30 + 72 * i, 35, 34, 50, 6, 25);
    for (int64_t x = 5; x < 395; x++) rect(&t, x, 70 + (int64_t)lrint(0.0524 * (double)x), 1, 2, 25);
    noise(&t, 6, 13);
    d = find(&t, NULL);
    assert_true(five_rings_taller(d, 4));
    nn_digits_free(d);
    /* The rules step itself clears it between the rings. */
    canvas ink = canvas_new(400, 120, 0);
    for (int64_t k = 0; k < 400 * 120; k++) ink.px[k] = t.px[k] < 128 ? 200 : 0;
    int64_t cleared;
    rules_on(&ink, &cleared);
    for (int i = 0; i + 1 < 5; i++) {
        const int64_t x = 30 + 72 * i + 53, y = 70 + (int64_t)lrint(0.0524 * (double)x);
        assert_true(ink.px[y * 400 + x] < 100 && ink.px[(y + 1) * 400 + x] < 100);
    }
    free(ink.px);
    d = find(&t, &o);
    assert_false(five_rings_taller(d, 4));
    nn_digits_free(d);
    free(t.px);
    free(c.px);
}

/* An underline that touches nothing opens the search for upright lines, but the upright stroke of a
 * 1 drawn with a fine pen (2 pixels by 52) is a digit: its neighbours are other digits, at other
 * distances, and it ends short of the image's edge. */
static void test_digits__fine_one_beside_an_underline_kept(void **state)
{
    (void)state;
    canvas c = canvas_new(260, 84, 225);
    ring(&c, 20, 12, 34, 52, 6, 25);
    rect(&c, 90, 12, 2, 52, 25);
    ring(&c, 130, 12, 34, 52, 6, 25);
    ring(&c, 190, 12, 34, 52, 6, 25);
    rect(&c, 5, 70, 250, 3, 25);
    noise(&c, 4, 21);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 4);
    int64_t b[4];
    box(d, 1, b);
    assert_true(b[0] >= 88 && b[0] <= 90 && b[3] >= 50);
    nn_digits_free(d);
    free(c.px);
}

/* The digits of draw_scene on ruled paper, a line through their middles as well: found as on plain
 * paper, each box within a pixel or two of its own. */
static void test_digits__ruled_paper_same_digits(void **state)
{
    (void)state;
    canvas plain = canvas_new(240, 110, 225), ruled = canvas_new(240, 110, 225);
    draw_scene(&plain);
    for (int y = 12; y < 110; y += 21) rect(&ruled, 0, y, 240, 2, 120);
    draw_scene(&ruled);
    noise(&plain, 5, 5);
    noise(&ruled, 5, 5);
    nn_digits *a = find(&plain, NULL), *b = find(&ruled, NULL);
    assert_int_equal(nn_digits_count(a), 4);
    assert_int_equal(nn_digits_count(b), 4);
    for (int64_t i = 0; i < 4; i++) {
        int64_t ba[4], bb[4];
        box(a, i, ba);
        box(b, i, bb);
        for (int k = 0; k < 4; k++) assert_true(llabs(ba[k] - bb[k]) <= 2);
    }
    nn_digits_free(a);
    nn_digits_free(b);
    free(plain.px);
    free(ruled.px);
}

/* Real MNIST test digits, 3x larger, dark on light with noise, in a page: found in order, and each
 * normalised image close to the original. */
static void test_digits__mnist_digits_in_a_page(void **state)
{
    (void)state;
    const char *dir = getenv("NN_DATA_DIR");
    char img[4096], lab[4096];
    snprintf(img, sizeof img, "%s/mnist/t10k-images-idx3-ubyte.gz", dir ? dir : "/nonexistent");
    snprintf(lab, sizeof lab, "%s/mnist/t10k-labels-idx1-ubyte.gz", dir ? dir : "/nonexistent");
    FILE *f = fopen(img, "rb");
    if (!f) skip();
    fclose(f);
    nn_dataset *ds;
    assert_int_equal(nn_dataset_load_idx_expect(&ds, img, lab, 10, 28, 28), NN_OK);
    const uint8_t *images = nn_dataset_images(ds);
    enum { N = 5, SCALE = 3 };
    const int pick[N] = {0, 1, 2, 3, 4}; /* 7 2 1 0 4 */
    canvas c = canvas_new(40 + N * (28 * SCALE + 12), 28 * SCALE + 60, 0);
    for (int64_t y = 0; y < c.h; y++)
        for (int64_t x = 0; x < c.w; x++) c.px[y * c.w + x] = (uint8_t)(215 + (x + 2 * y) % 17);
    for (int k = 0; k < N; k++) {
        const uint8_t *src = images + (int64_t)pick[k] * 784;
        const int64_t ox = 20 + k * (28 * SCALE + 12), oy = 30 + (k % 2) * 8;
        for (int64_t y = 0; y < 28 * SCALE; y++)
            for (int64_t x = 0; x < 28 * SCALE; x++) {
                /* Bilinear 3x up-scaling. */
                double u = (x + 0.5) / SCALE - 0.5, v = (y + 0.5) / SCALE - 0.5;
                int iu = (int)floor(u), iv = (int)floor(v);
                double fu = u - iu, fv = v - iv, s = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        int xx = iu + dx, yy = iv + dy;
                        double p = xx >= 0 && yy >= 0 && xx < 28 && yy < 28 ? src[yy * 28 + xx] : 0;
                        s += p * (dx ? fu : 1 - fu) * (dy ? fv : 1 - fv);
                    }
                uint8_t *o = &c.px[(oy + y) * c.w + ox + x];
                *o = (uint8_t)lrint(*o - s / 255.0 * (*o - 30));
            }
    }
    noise(&c, 12, 99);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), N);
    for (int k = 0; k < N; k++) {
        int64_t b[4];
        box(d, k, b);
        const int64_t ox = 20 + k * (28 * SCALE + 12);
        assert_true(b[0] >= ox && b[0] + b[2] <= ox + 28 * SCALE);
        /* Pearson correlation with the original 28 x 28. */
        const float *a = nn_digits_image(d, k);
        const uint8_t *src = images + (int64_t)pick[k] * 784;
        double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < 784; i++) {
            ma += a[i];
            mb += src[i] / 255.0;
        }
        ma /= 784;
        mb /= 784;
        for (int i = 0; i < 784; i++) {
            double da = a[i] - ma, db = src[i] / 255.0 - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        double r = sab / sqrt(saa * sbb);
        printf("mnist digit %d (label %d): correlation %.3f\n", k, nn_dataset_labels(ds)[pick[k]], r);
        assert_true(r > 0.8);
    }
    nn_digits_free(d);
    nn_dataset_free(ds);
    free(c.px);
}

/* A ring as ring() draws it, sheared: x moves by slant x (cy - y), as a forward-leaning 0. */
static void slanted_ring(canvas *c, int64_t x0, int64_t y0, int64_t w, int64_t h, double t, double slant, uint8_t v)
{
    const double cx = x0 + w / 2.0, cy = y0 + h / 2.0, a = w / 2.0, b = h / 2.0;
    for (int64_t y = y0; y < y0 + h; y++)
        for (int64_t x = x0 - w; x < x0 + 2 * w; x++) {
            double dx = (x + 0.5 - cx) - slant * (cy - (y + 0.5)), dy = (y + 0.5 - cy);
            double outer = dx * dx / (a * a) + dy * dy / (b * b);
            double inner = dx * dx / ((a - t) * (a - t)) + dy * dy / ((b - t) * (b - t));
            if (outer <= 1 && inner > 1 && x >= 0 && y >= 0 && x < c->w && y < c->h) c->px[y * c->w + x] = v;
        }
}

/* Slanted touching 0s: the cut follows the slant, so the two boxes overlap in columns, which no
 * straight column cut can give, and each part keeps its whole height. */
static void test_digits__slanted_touching_split_along_path(void **state)
{
    (void)state;
    canvas c = canvas_new(240, 120, 230);
    slanted_ring(&c, 50, 30, 36, 56, 6, 0.35, 20);
    slanted_ring(&c, 82, 30, 36, 56, 6, 0.35, 20);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.split_ratio = 1.0f; /* the pair is 72 wide and 56 high: split what is wider than 56 */
    nn_digits *d = find(&c, &o);
    assert_int_equal(nn_digits_count(d), 2);
    int64_t a[4], b[4];
    box(d, 0, a);
    box(d, 1, b);
    assert_true(a[0] + a[2] > b[0] + 4); /* the boxes overlap: the cut is slanted */
    assert_true(a[3] >= 54 && b[3] >= 54);
    for (int i = 0; i < 2; i++) { /* each part is a whole ring: ink left and right of the middle */
        const float *img = nn_digits_image(d, i);
        int left = 0, right = 0;
        for (int x = 0; x < 14; x++) left |= img[14 * 28 + x] > 0.5f;
        for (int x = 14; x < 28; x++) right |= img[14 * 28 + x] > 0.5f;
        assert_true(left && right && img[14 * 28 + 14] < 0.2f);
    }
    nn_digits_free(d);
    free(c.px);
}

/* A linear "ring detector" of 10 classes: class 0's logit is +10 on the normalised image `ring`
 * and -10 on `other`, the other classes' logits 0. Enough to tell a 0 from two 0s squeezed into
 * one 28 x 28, deterministic, and trained by nobody. */
static nn_model *ring_model_loss(const float *ring, const float *other, int classes, nn_loss_kind loss)
{
    nn_model *m;
    assert_int_equal(nn_model_create(&m, NN_DIGITS_PIXELS), NN_OK);
    assert_int_equal(nn_model_add_dense(m, classes, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_model_compile(m, loss, NULL), NN_OK);
    float *p;
    size_t n;
    assert_int_equal(nn_model_params(m, &p, &n), NN_OK);
    assert_int_equal(n, (size_t)(NN_DIGITS_PIXELS * classes + classes));
    memset(p, 0, n * sizeof *p);
    double mean = 0, sr = 0, so = 0;
    for (int i = 0; i < NN_DIGITS_PIXELS; i++) mean += ring[i] / (double)NN_DIGITS_PIXELS;
    for (int i = 0; i < NN_DIGITS_PIXELS; i++) {
        sr += (ring[i] - mean) * ring[i];
        so += (ring[i] - mean) * other[i];
    }
    assert_true(sr > so);
    const double beta = 20 / (sr - so);
    for (int i = 0; i < NN_DIGITS_PIXELS; i++) p[i * classes] = (float)(beta * (ring[i] - mean));
    p[NN_DIGITS_PIXELS * classes] = (float)(-beta * (sr + so) / 2);
    /* An 11th class, "not one digit", is the opposite: +10 on `other`, -10 on `ring`. */
    for (int k = 10; k < classes; k++) {
        for (int i = 0; i < NN_DIGITS_PIXELS; i++) p[i * classes + k] = -p[i * classes];
        p[NN_DIGITS_PIXELS * classes + k] = -p[NN_DIGITS_PIXELS * classes];
    }
    return m;
}

static nn_model *ring_model_of(const float *ring, const float *other, int classes)
{
    return ring_model_loss(ring, other, classes, NN_LOSS_SOFTMAX_CROSS_ENTROPY);
}

static nn_model *ring_model(const float *ring, const float *other)
{
    return ring_model_of(ring, other, 10);
}

/* Two narrow rings touching are no wider than they are high: a 10-class model is not asked about
 * cuts and reads one glyph, an 11-class one that reads the pair as "not one digit" has it cut into
 * two 0s, whose probabilities leave out the 11th class's. A 13-class model is refused. */
static void test_digits__read_reject_class_cuts_narrow_pairs(void **state)
{
    (void)state;
    canvas one = canvas_new(160, 120, 230), two = canvas_new(160, 120, 230);
    slanted_ring(&one, 60, 30, 18, 50, 5, 0, 20);
    slanted_ring(&two, 60, 30, 18, 50, 5, 0, 20);
    slanted_ring(&two, 76, 30, 18, 50, 5, 0, 20); /* overlapping by 2 columns: 34 wide, 50 high */
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.split = 0;
    nn_digits *d1 = find(&one, NULL), *d2 = find(&two, &o);
    assert_int_equal(nn_digits_count(d1), 1);
    assert_int_equal(nn_digits_count(d2), 1);
    nn_model *m10 = ring_model_of(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 10);
    nn_model *m11 = ring_model_of(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 11);
    nn_model *m13 = ring_model_of(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 13);
    nn_digits_free(d1);
    nn_digits_free(d2);

    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m10, two.px, two.w, two.h, two.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    nn_digits_free(d);
    assert_int_equal(nn_digits_read(&d, m11, two.px, two.w, two.h, two.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    int64_t a[4], b[4];
    box(d, 0, a);
    box(d, 1, b);
    assert_true(a[0] < b[0] && a[3] >= 48 && b[3] >= 48);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(nn_digits_class(d, i), 0);
        const float *p = nn_digits_probabilities(d, i);
        float sum = 0;
        for (int k = 0; k < 10; k++) sum += p[k];
        assert_true(p[0] > 0.9f && sum < 1.0f); /* the rest is the 11th class's */
    }
    nn_digits_free(d);
    /* A single ring stays one for both. */
    assert_int_equal(nn_digits_read(&d, m11, one.px, one.w, one.h, one.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    assert_int_equal(nn_digits_class(d, 0), 0);
    nn_digits_free(d);
    d = (nn_digits *)&one;
    assert_int_equal(nn_digits_read(&d, m13, one.px, one.w, one.h, one.w, NULL), NN_ERR_SHAPE);
    assert_null(d);
    nn_model_free(m10);
    nn_model_free(m11);
    nn_model_free(m13);
    free(one.px);
    free(two.px);
}

/* A stroke of thickness t from (x0, y0) to (x1, y1). */
static void stroke(canvas *c, double x0, double y0, double x1, double y1, double t, uint8_t v)
{
    const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (int64_t y = 0; y < c->h; y++)
        for (int64_t x = 0; x < c->w; x++) {
            double u = ((x + 0.5 - x0) * dx + (y + 0.5 - y0) * dy) / len2;
            u = u < 0 ? 0 : u > 1 ? 1 : u;
            const double ex = x + 0.5 - (x0 + u * dx), ey = y + 0.5 - (y0 + u * dy);
            if (ex * ex + ey * ey <= t * t / 4) c->px[y * c->w + x] = v;
        }
}

/* Hatching, parallel strokes across the image, each stroke a glyph whose box spans most of it: the
 * steps after finding the glyphs work over each glyph's box (400 strokes across a 4000 x 3000 image
 * took nearly four minutes), so the largest are left out until the boxes cover the image at most 4
 * times over, and the digits of a label on hatched paper are read. Strokes as far apart as digits
 * are all kept (and as the tallest blobs they are taken for the digits, the label's for specks). */
static void test_digits__hatching_left_out(void **state)
{
    (void)state;
    const int gaps[2] = {12, 120};
    for (int k = 0; k < 2; k++) {
        canvas c = canvas_new(400, 300, 235);
        int strokes = 0;
        for (int x = -300; x < 400; x += gaps[k], strokes++) stroke(&c, x, 0, x + 300, 300, 2.5, 20);
        rect(&c, 140, 110, 120, 80, 235); /* the label */
        ring(&c, 160, 120, 40, 60, 7, 20); /* a 0 */
        rect(&c, 225, 120, 7, 60, 20);     /* a 1 */
        nn_digits *d = find(&c, NULL);
        double cover = 0;
        int in_label = 0;
        for (int64_t i = 0; i < nn_digits_count(d); i++) {
            int64_t x, y, w, h;
            nn_digits_box(d, i, &x, &y, &w, &h);
            cover += (double)(w * h) / (400.0 * 300.0);
            in_label += x >= 140 && y >= 110 && x + w <= 260 && y + h <= 190;
        }
        if ((k == 0 && in_label != 2) || cover > 4)
            fail_msg("strokes %d apart: %d digits in the label, boxes covering the image %.1f times", gaps[k],
                     in_label, cover);
        if (k == 1) assert_true(nn_digits_count(d) >= strokes); /* each stroke at least one piece */
        nn_digits_free(d);
        free(c.px);
    }
}

/* A 12-class model whose last class is text: here a "+" (its logit +10 on the normalised +, -10 on a
 * ring), class 0 a ring (+10 on it, -10 on the +), the rest 0. */
static nn_model *plus_text_model(void)
{
    canvas ring = canvas_new(100, 100, 230), plus = canvas_new(100, 100, 230);
    slanted_ring(&ring, 32, 20, 36, 60, 6, 0, 20);
    stroke(&plus, 30, 50, 70, 50, 6, 20);
    stroke(&plus, 50, 25, 50, 75, 6, 20);
    nn_digits *dr = find(&ring, NULL), *dp = find(&plus, NULL);
    assert_int_equal(nn_digits_count(dr), 1);
    assert_int_equal(nn_digits_count(dp), 1);
    nn_model *m = ring_model_of(nn_digits_image(dr, 0), nn_digits_image(dp, 0), 12);
    nn_model *mp = ring_model_of(nn_digits_image(dp, 0), nn_digits_image(dr, 0), 10);
    nn_digits_free(dr);
    nn_digits_free(dp);
    float *p, *pp;
    size_t n;
    assert_int_equal(nn_model_params(m, &p, &n), NN_OK);
    assert_int_equal(nn_model_params(mp, &pp, &n), NN_OK);
    for (int i = 0; i <= NN_DIGITS_PIXELS; i++) { /* weights, then the bias */
        p[i * 12 + 10] = 0;                       /* "not one digit": logit 0 */
        p[i * 12 + 11] = pp[i * 10 + 0];          /* text: mp's "+" */
    }
    nn_model_free(mp);
    free(ring.px);
    free(plus.px);
    return m;
}

/* The + is left out; an x beside it, which the model reads as no digit surely (no logit above 0),
 * goes with it as a word; the rings, a word apart, stay 0s; skip_text = 0 reads all four. */
static void test_digits__read_text_class_leaves_words_out(void **state)
{
    (void)state;
    canvas c = canvas_new(460, 120, 230);
    slanted_ring(&c, 20, 30, 36, 60, 6, 0, 20);
    stroke(&c, 160, 60, 200, 60, 6, 20); /* the + */
    stroke(&c, 180, 35, 180, 85, 6, 20);
    stroke(&c, 212, 38, 244, 82, 6, 20); /* the x, 12 pixels from it */
    stroke(&c, 244, 38, 212, 82, 6, 20);
    slanted_ring(&c, 380, 30, 36, 60, 6, 0, 20);
    nn_model *m = plus_text_model();

    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    int64_t a[4], b[4];
    box(d, 0, a);
    box(d, 1, b);
    assert_true(a[0] < 60 && b[0] > 370);
    assert_int_equal(nn_digits_class(d, 0), 0);
    assert_int_equal(nn_digits_class(d, 1), 0);
    nn_digits_free(d);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.skip_text = 0;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(d), 4);
    nn_digits_free(d);
    /* Options of version 4 (before skip_text) get the default. */
    o.version = 4;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    nn_digits_free(d);
    /* Text alone: nothing is left, and no line (a fuzzer's find: one line of no digits). */
    canvas t = canvas_new(460, 120, 230);
    stroke(&t, 160, 60, 200, 60, 6, 20);
    stroke(&t, 180, 35, 180, 85, 6, 20);
    stroke(&t, 212, 38, 244, 82, 6, 20);
    stroke(&t, 244, 38, 212, 82, 6, 20);
    assert_int_equal(nn_digits_read(&d, m, t.px, t.w, t.h, t.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 0);
    assert_int_equal(nn_digits_line_count(d), 0);
    nn_digits_free(d);
    free(t.px);
    nn_model_free(m);
    free(c.px);
}

/* A number a space after a label read as text (`Qty 579`), or before a unit, is not part of the
 * label's word, even when its digits are too few to stay as a run of sure digits: two rings about 30
 * pixels after "+ x" (within a word's gap, over half the lower glyph's height) stay, and so do two
 * before it; written 5 pixels after it they go with the word, as a word's last letters would. */
static void test_digits__read_text_number_after_label_stays(void **state)
{
    (void)state;
    nn_model *m = plus_text_model();
    /* after: the label at 160 to 247, the rings from `at`; before: the rings at 20 and 64, the label
     * 44 pixels after them */
    const int64_t after[2] = {280, 252};
    for (int k = 0; k < 3; k++) {
        canvas c = canvas_new(460, 120, 230);
        const int64_t at = k < 2 ? after[k] : 20, label = k < 2 ? 160 : 150;
        stroke(&c, (double)label, 60, (double)label + 40, 60, 6, 20); /* the + */
        stroke(&c, (double)label + 20, 35, (double)label + 20, 85, 6, 20);
        stroke(&c, (double)label + 52, 38, (double)label + 84, 82, 6, 20); /* the x */
        stroke(&c, (double)label + 84, 38, (double)label + 52, 82, 6, 20);
        slanted_ring(&c, at, 30, 36, 60, 6, 0, 20);
        slanted_ring(&c, at + 44, 30, 36, 60, 6, 0, 20);
        nn_digits *d = NULL;
        assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, NULL), NN_OK);
        assert_int_equal(nn_digits_count(d), k == 1 ? 0 : 2);
        for (int64_t i = 0; i < nn_digits_count(d); i++) {
            int64_t b[4];
            box(d, i, b);
            assert_true(b[0] >= at - 4 && b[0] + b[2] <= at + 84);
            assert_int_equal(nn_digits_class(d, i), 0);
        }
        nn_digits_free(d);
        free(c.px);
    }
    nn_model_free(m);
}

/* A unit in lower case after a number (`565 mm`, `12 kg`). Two rings 60 high read as 0s, then a
 * glyph of three small rings, 40 high, on their baseline, that is cut into digits: an m's arches,
 * left out; after one ring, raised off the baseline, as high as the rings, or read with skip_text 0,
 * it is read. A ring hanging 18 pixels below the line after a + read as text is a g, left out with
 * the +; 10 pixels below, or without the +, it is a digit written low. */
static void test_digits__read_unit_lower_case_left_out(void **state)
{
    (void)state;
    nn_model *m = plus_text_model();
    /* rings before; the three rings' bottom (0: none), height and width; the + (0: none); the
     * single ring's top (0: none); skip_text; whether what follows the rings is read */
    struct {
        int64_t before, low, high, wide, plus, single, skip, read;
    } t[] = {{2, 90, 40, 26, 0, 0, 1, 0},  {1, 90, 40, 26, 0, 0, 1, 1},  {2, 82, 40, 26, 0, 0, 1, 1},
             {2, 90, 60, 36, 0, 0, 1, 1},  {2, 90, 40, 26, 0, 0, 0, 1},  {2, 0, 0, 0, 108, 48, 1, 0},
             {2, 0, 0, 0, 108, 40, 1, 1},  {2, 0, 0, 0, 0, 48, 1, 1}};
    for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
        canvas c = canvas_new(460, 140, 230);
        const int64_t first = 20 + 44 * (2 - t[k].before); /* the last ring ends at 100 */
        for (int i = 0; i < t[k].before; i++) slanted_ring(&c, first + 44 * i, 30, 36, 60, 6, 0, 20);
        for (int i = 0; t[k].low && i < 3; i++) /* overlapping by 4 columns */
            slanted_ring(&c, 130 + (t[k].wide - 4) * i, t[k].low - t[k].high, t[k].wide, t[k].high, 5, 0, 20);
        if (t[k].plus) {
            stroke(&c, (double)t[k].plus, 60, (double)t[k].plus + 40, 60, 6, 20);
            stroke(&c, (double)t[k].plus + 20, 35, (double)t[k].plus + 20, 85, 6, 20);
        }
        if (t[k].single) slanted_ring(&c, 156, t[k].single, 36, 60, 6, 0, 20);
        nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
        o.skip_text = (int)t[k].skip;
        nn_digits *d = NULL;
        assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, &o), NN_OK);
        int64_t rings = 0, after = 0;
        for (int64_t i = 0; i < nn_digits_count(d); i++) {
            int64_t b[4];
            box(d, i, b);
            if (b[0] < 105) {
                assert_int_equal(b[0], first + 44 * rings++);
                assert_int_equal(nn_digits_class(d, i), 0);
            } else {
                after += b[0] >= 130;
            }
        }
        assert_int_equal(rings, t[k].before);
        assert_int_equal(after > 0, t[k].read);
        nn_digits_free(d);
        free(c.px);
    }
    nn_model_free(m);
}

/* What follows the unit's lower-case glyph: two rings 60 high, then (a) the three small rings of
 * the test above, a space, and two rings as high as the first: the unit goes, the number after it
 * stays (`15 mar 2024`); (b) a lone small ring just before the three, as the c of `cm`: it goes with
 * them; (c) the three small rings joined to a ring as high as the first two: a touching group cut
 * into digits, not all of whose pieces begin lower, stays. */
static void test_digits__read_unit_word_ends_at_space(void **state)
{
    (void)state;
    nn_model *m = plus_text_model();
    for (int k = 0; k < 3; k++) {
        canvas c = canvas_new(460, 140, 230);
        slanted_ring(&c, 20, 30, 36, 60, 6, 0, 20);
        slanted_ring(&c, 64, 30, 36, 60, 6, 0, 20);
        const int64_t at = k == 1 ? 160 : 130; /* the three small rings, 70 wide */
        for (int i = 0; i < 3; i++) slanted_ring(&c, at + 22 * i, 50, 26, 40, 5, 0, 20);
        if (k == 0) {
            slanted_ring(&c, 240, 30, 36, 60, 6, 0, 20);
            slanted_ring(&c, 284, 30, 36, 60, 6, 0, 20);
        }
        if (k == 1) slanted_ring(&c, 128, 50, 26, 40, 5, 0, 20); /* 6 pixels before them */
        if (k == 2) slanted_ring(&c, 98, 30, 36, 60, 6, 0, 20);  /* touching the first, at 130 */
        nn_digits *d = NULL;
        assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, NULL), NN_OK);
        int64_t before = 0, unit = 0, after = 0;
        for (int64_t i = 0; i < nn_digits_count(d); i++) {
            int64_t b[4];
            box(d, i, b);
            if (b[0] < 90) before++;
            else if (b[0] < 235) unit++;
            else after++, assert_int_equal(nn_digits_class(d, i), 0);
        }
        assert_int_equal(before, 2);
        assert_int_equal(unit > 0, k == 2);
        assert_int_equal(after, k == 0 ? 2 : 0);
        nn_digits_free(d);
        free(c.px);
    }
    nn_model_free(m);
}

/* What m reads in c: n digits, all 0s, the left edge of digit i at x0[i] (within 4 pixels). */
static void expect_zeros_at(const canvas *c, nn_model *m, int64_t n, const int64_t *x0)
{
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m, c->px, c->w, c->h, c->w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), n);
    for (int64_t i = 0; i < n; i++) {
        int64_t b[4];
        box(d, i, b);
        assert_true(labs(b[0] - x0[i]) <= 4);
        assert_int_equal(nn_digits_class(d, i), 0);
    }
    nn_digits_free(d);
}

/* A label a space before a number (`Date 12/06/2016`, whose D and t read surely as digits), or a unit
 * a space after it: the number's sure digits kept the word from being text as a whole, and the
 * label's digit-like letters stayed. Rings read surely as 0s beside +s read as text (as many of
 * each), a space from three rings, now go; with no space, with more rings than +s, or as a sign and
 * one digit (`$8 0`: no run of three sure digits to keep it), they stay. */
static void test_digits__read_text_label_apart_from_number_goes(void **state)
{
    (void)state;
    nn_model *m = plus_text_model();
    /* rings' and +s' left edges (0: none), and the rings read (the first `from` of them go) for: a
     * label before, a unit after, no space, more rings than +s, a sign and one digit */
    const int64_t rings[5][7] = {{20, 116, 250, 294, 338},
                                 {20, 64, 108, 238, 338},
                                 {20, 116, 212, 256, 300},
                                 {20, 64, 194, 238, 282},
                                 {72, 150}};
    const int64_t plus[5][2] = {{64, 160}, {186, 286}, {64, 160}, {112, 0}, {20, 0}};
    const int64_t nrings[5] = {5, 5, 5, 5, 2}, want[5] = {3, 3, 5, 5, 2}, from[5] = {2, 0, 0, 0, 0};
    for (int k = 0; k < 5; k++) {
        canvas c = canvas_new(460, 120, 230);
        for (int i = 0; i < nrings[k]; i++) slanted_ring(&c, rings[k][i], 30, 36, 60, 6, 0, 20);
        for (int i = 0; i < 2 && plus[k][i]; i++) {
            stroke(&c, (double)plus[k][i], 60, (double)plus[k][i] + 40, 60, 6, 20);
            stroke(&c, (double)plus[k][i] + 20, 35, (double)plus[k][i] + 20, 85, 6, 20);
        }
        expect_zeros_at(&c, m, want[k], rings[k] + from[k]);
        free(c.px);
    }
    nn_model_free(m);
}

/* A run of sure digits in a text word is one number across a space only as thousands are grouped:
 * after "x +", a ring read surely as a 0 with no space after the + (the l of `Total 36`) went with
 * the two rings a space on, as a run of three; it goes now, and stays before three rings (`8 084`),
 * one number of four, but not after a + as low as a lower-case letter (`Total 250`), nor after an x
 * (read as no digit, not as text) before three rings or two. */
static void test_digits__read_text_digit_run_parts_at_spaces(void **state)
{
    (void)state;
    nn_model *m = plus_text_model();
    const int64_t x[4] = {116, 182, 226, 270}, rings[5] = {3, 4, 4, 4, 3}, want[5] = {2, 4, 3, 4, 3};
    for (int k = 0; k < 5; k++) {
        canvas c = canvas_new(520, 120, 230);
        const double top = k == 2 ? 52 : 35, mid = k == 2 ? 70 : 60; /* the +, small on the baseline */
        const double left = k < 3 ? 20 : 72, right = k < 3 ? 72 : 20; /* the x's and the +'s */
        stroke(&c, left, 38, left + 32, 86, 6, 20); /* the x */
        stroke(&c, left + 32, 38, left, 86, 6, 20);
        stroke(&c, right - 4, mid, right + 36, mid, 6, 20); /* the + */
        stroke(&c, right + 16, top, right + 16, 85, 6, 20);
        for (int i = 0; i < rings[k]; i++) slanted_ring(&c, x[i], 30, 36, 60, 6, 0, 20);
        expect_zeros_at(&c, m, want[k], x + rings[k] - want[k]);
        free(c.px);
    }
    nn_model_free(m);
}

/* A number between a label and its unit, a space from each (`Total: 69 EUR`), stays with a text
 * word on both sides: two rings between "+ x" and "x +" are read; one ring alone there goes with the
 * word, as a single letter would, and so do two rings a space after a number rather than a label
 * (the lb of `Weight 5 lb net`). */
static void test_digits__read_text_number_between_label_and_unit(void **state)
{
    (void)state;
    nn_model *m = plus_text_model();
    for (int k = 0; k < 3; k++) {
        canvas c = canvas_new(600, 120, 230);
        /* k = 2: "ring x" first, then the two rings from 276 */
        const int64_t x[3] = {k == 2 ? 276 : 150, k == 2 ? 320 : 194, 150}, rings = k == 1 ? 1 : 2;
        const int64_t unit = x[rings - 1] + 36 + 30;
        stroke(&c, 20, 60, 60, 60, 6, 20); /* the label: + */
        stroke(&c, 40, 35, 40, 85, 6, 20);
        stroke(&c, 72, 38, 104, 82, 6, 20); /* x */
        stroke(&c, 104, 38, 72, 82, 6, 20);
        if (k == 2) {
            slanted_ring(&c, x[2], 30, 36, 60, 6, 0, 20);
            stroke(&c, 198, 38, 230, 82, 6, 20);
            stroke(&c, 230, 38, 198, 82, 6, 20);
        }
        for (int i = 0; i < rings; i++) slanted_ring(&c, x[i], 30, 36, 60, 6, 0, 20);
        stroke(&c, (double)unit, 38, (double)unit + 32, 82, 6, 20); /* the unit: x */
        stroke(&c, (double)unit + 32, 38, (double)unit, 82, 6, 20);
        stroke(&c, (double)unit + 44, 60, (double)unit + 84, 60, 6, 20); /* + */
        stroke(&c, (double)unit + 64, 35, (double)unit + 64, 85, 6, 20);
        expect_zeros_at(&c, m, k ? 0 : 2, x);
        free(c.px);
    }
    nn_model_free(m);
}

/* A glyph read as a digit beside one read as text, on its baseline and lower by a fifth of its
 * height, is a lower-case letter of the word (the o of `No 75`): a ring 40 high after a + 56 high,
 * before two rings 60 high a space on, goes and they stay. It stays as high as the +, raised off its
 * baseline, a space from it, before a ring as low as itself (`E24`), or glued to two tall rings, as
 * the first of three sure digits with no space between them. Such a letter counts as text in a label
 * before a number. */
static void test_digits__read_text_lower_case_beside_capital(void **state)
{
    (void)state;
    nn_model *m = plus_text_model();
    /* the small ring's top, height, width, left edge; the small rings; from the last to the first
     * of the two tall rings; how many rings are read */
    const int64_t top[6] = {48, 32, 46, 48, 48, 48}, high[6] = {40, 56, 34, 40, 40, 40};
    const int64_t wide[6] = {26, 35, 22, 26, 26, 26}, left[6] = {68, 68, 68, 96, 68, 68};
    const int64_t count[6] = {1, 1, 1, 1, 2, 1}, after[6] = {80, 80, 80, 80, 80, 30};
    const int64_t want[6] = {2, 3, 3, 3, 4, 3};
    for (int k = 0; k < 6; k++) {
        canvas c = canvas_new(520, 120, 230);
        stroke(&c, 20, 60, 60, 60, 6, 20); /* the +, 32 to 88 */
        stroke(&c, 40, 35, 40, 85, 6, 20);
        int64_t x[4];
        for (int i = 0; i < count[k]; i++) {
            x[i] = left[k] + 30 * i;
            slanted_ring(&c, x[i], top[k], wide[k], high[k], 5, 0, 20);
        }
        x[count[k]] = x[count[k] - 1] + after[k];
        x[count[k] + 1] = x[count[k]] + 44;
        for (int i = 0; i < 2; i++) slanted_ring(&c, x[count[k] + i], 30, 36, 60, 6, 0, 20);
        expect_zeros_at(&c, m, want[k], x + count[k] + 2 - want[k]);
        free(c.px);
    }
    /* Such a letter counts as text when a label a space before a number is judged (`Postcode:
     * 75008`, whose o, s, t, c, o all read as digits): "+", the small ring and a ring go; without
     * it they were two letters against one. */
    canvas c = canvas_new(520, 120, 230);
    stroke(&c, 20, 60, 60, 60, 6, 20);
    stroke(&c, 40, 35, 40, 85, 6, 20);
    slanted_ring(&c, 68, 48, 26, 40, 5, 0, 20);
    slanted_ring(&c, 98, 30, 36, 60, 6, 0, 20);
    const int64_t number[2] = {200, 244};
    for (int i = 0; i < 2; i++) slanted_ring(&c, number[i], 30, 36, 60, 6, 0, 20);
    expect_zeros_at(&c, m, 2, number);
    free(c.px);
    nn_model_free(m);
}

/* A label before its number, the space between them as a serif font sets it (`69 EUR`, `Qty 579`:
 * 0.37 to 0.48 of the digits' height, under the half asked of a space) but much wider than the word's
 * other gaps: the label goes, the number stays. A gap of a quarter of the digits' height is no
 * space, nor one that is not 2.5 times the others, and the label's ring stays with the number. */
static void test_digits__read_label_narrow_space_before_number(void **state)
{
    (void)state;
    nn_model *m = plus_text_model();
    /* the space, the other gaps between inks, and how many rings are read (the last ones) */
    const int64_t space[5] = {24, 16, 12, 16, 24}, gap[5] = {8, 8, 8, 2, 12}, want[5] = {2, 3, 3, 3, 3};
    for (int k = 0; k < 5; k++) {
        canvas c = canvas_new(420, 120, 230);
        int64_t x[3] = {20, 0, 0}; /* rings, 36 wide: the label's, then the number's */
        int64_t at = 56 + gap[k];
        for (int i = 0; i < 2; i++, at += 46 + gap[k]) { /* the label's two +s, their ink 46 wide */
            stroke(&c, (double)at + 3, 60, (double)at + 43, 60, 6, 20);
            stroke(&c, (double)at + 23, 35, (double)at + 23, 85, 6, 20);
        }
        x[1] = at - gap[k] + space[k];
        x[2] = x[1] + 36 + gap[k];
        for (int i = 0; i < 3; i++) slanted_ring(&c, x[i], 30, 36, 60, 6, 0, 20);
        expect_zeros_at(&c, m, want[k], x + 3 - want[k]);
        free(c.px);
    }
    nn_model_free(m);
}

/* A capital beside lower-case letters too low to be glyphs (`Invoice`): with a 12-class model the
 * word goes, however surely its one glyph reads as a digit; a digit beside dots or a dash stays. */
static void test_digits__read_text_capital_beside_lower_case(void **state)
{
    (void)state;
    canvas ring = canvas_new(100, 100, 230), plus = canvas_new(100, 100, 230), c = canvas_new(460, 120, 230);
    slanted_ring(&ring, 32, 20, 36, 60, 6, 0, 20);
    stroke(&plus, 30, 50, 70, 50, 6, 20);
    stroke(&plus, 50, 25, 50, 75, 6, 20);
    slanted_ring(&c, 20, 30, 36, 60, 6, 0, 20); /* the capital, bottom at 90 */
    for (int k = 0; k < 4; k++) slanted_ring(&c, 64 + 22 * k, 66, 16, 24, 4, 0, 20); /* lower case */
    slanted_ring(&c, 300, 30, 36, 60, 6, 0, 20); /* a digit */
    rect(&c, 352, 84, 6, 6, 20);                 /* and a dot, */
    rect(&c, 366, 84, 6, 6, 20);                 /* and another */
    nn_digits *dr = find(&ring, NULL), *dp = find(&plus, NULL);
    nn_model *m = ring_model_of(nn_digits_image(dr, 0), nn_digits_image(dp, 0), 12);
    nn_digits_free(dr);
    nn_digits_free(dp);
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    int64_t b[4];
    box(d, 0, b);
    assert_true(b[0] >= 295 && b[0] + b[2] <= 340);
    assert_int_equal(nn_digits_class(d, 0), 0);
    nn_digits_free(d);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.skip_text = 0;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    nn_digits_free(d);
    /* A digit a space before such a word (`7 Items`), one word with its capital: the digit stays,
     * not the capital, however surely both read as digits. */
    canvas u = canvas_new(460, 120, 230);
    slanted_ring(&u, 20, 30, 36, 60, 6, 0, 20);  /* the digit */
    slanted_ring(&u, 100, 30, 36, 60, 6, 0, 20); /* the capital, 44 pixels on */
    for (int k = 0; k < 6; k++) slanted_ring(&u, 144 + 22 * k, 66, 16, 24, 4, 0, 20);
    assert_int_equal(nn_digits_read(&d, m, u.px, u.w, u.h, u.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    box(d, 0, b);
    assert_true(b[0] >= 15 && b[0] + b[2] <= 62);
    nn_digits_free(d);
    free(u.px);
    nn_model_free(m);
    free(ring.px);
    free(plus.px);
    free(c.px);
}

static void assert_same_reading(nn_digits *a, nn_digits *b)
{
    assert_int_equal(nn_digits_count(a), nn_digits_count(b));
    for (int64_t i = 0; i < nn_digits_count(a); i++) {
        int64_t ba[4], bb[4];
        box(a, i, ba);
        box(b, i, bb);
        assert_memory_equal(ba, bb, sizeof ba);
        assert_memory_equal(nn_digits_image(a, i), nn_digits_image(b, i), NN_DIGITS_PIXELS * sizeof(float));
        assert_memory_equal(nn_digits_probabilities(a, i), nn_digits_probabilities(b, i), 10 * sizeof(float));
    }
}

/* nn_digits_read_ensemble() averages its models' probabilities: one model, or one model twice,
 * reads bit for bit as nn_digits_read() (cuts, joins and three scales included); two different
 * models give, glyph by glyph, the mean of what each gives alone; models of different classes,
 * none, too many or a NULL one are refused. */
static void test_digits__read_ensemble_averages(void **state)
{
    (void)state;
    canvas one = canvas_new(160, 120, 230), two = canvas_new(160, 120, 230), apart = canvas_new(200, 120, 230);
    slanted_ring(&one, 60, 30, 18, 50, 5, 0, 20);
    slanted_ring(&two, 60, 30, 18, 50, 5, 0, 20);
    slanted_ring(&two, 76, 30, 18, 50, 5, 0, 20);
    slanted_ring(&apart, 40, 30, 18, 50, 5, 0, 20);
    slanted_ring(&apart, 110, 35, 30, 44, 4, 0.2, 20);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.split = 0;
    nn_digits *d1 = find(&one, NULL), *d2 = find(&two, &o);
    nn_model *m11 = ring_model_of(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 11);
    nn_model *soft = ring_model_of(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 11);
    nn_model *m10 = ring_model_of(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 10);
    /* Models of another loss give logits, which the reader puts through a softmax each. */
    nn_model *raw = ring_model_loss(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 11, NN_LOSS_MSE);
    nn_model *raw_soft = ring_model_loss(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 11, NN_LOSS_MSE);
    nn_digits_free(d1);
    nn_digits_free(d2);
    /* A second opinion, less sure of everything: the same weights halved. */
    float *p;
    size_t n;
    assert_int_equal(nn_model_params(soft, &p, &n), NN_OK);
    for (size_t i = 0; i < n; i++) p[i] *= 0.5f;
    assert_int_equal(nn_model_params(raw_soft, &p, &n), NN_OK);
    for (size_t i = 0; i < n; i++) p[i] *= 0.5f;

    nn_digits_options three = NN_DIGITS_OPTIONS_INIT;
    three.scales = 3;
    const nn_digits_options *settings[2] = {NULL, &three};
    for (int k = 0; k < 2; k++) {
        nn_digits *alone = NULL, *once = NULL, *twice = NULL;
        nn_model *const pair[2] = {m11, m11};
        assert_int_equal(nn_digits_read(&alone, m11, two.px, two.w, two.h, two.w, settings[k]), NN_OK);
        assert_int_equal(nn_digits_count(alone), 2); /* cut in two by recognition */
        assert_int_equal(nn_digits_read_ensemble(&once, pair, 1, two.px, two.w, two.h, two.w, settings[k]), NN_OK);
        assert_int_equal(nn_digits_read_ensemble(&twice, pair, 2, two.px, two.w, two.h, two.w, settings[k]), NN_OK);
        assert_same_reading(alone, once);
        assert_same_reading(alone, twice);
        nn_digits_free(alone);
        nn_digits_free(once);
        nn_digits_free(twice);
    }

    /* Glyphs fixed (no cuts, no joins): each glyph's probabilities are the mean of the models', for
     * models that give probabilities and for models whose outputs go through a softmax. */
    o.merge = 0;
    nn_digits *a = NULL, *b = NULL, *e = NULL;
    nn_model *const both[2] = {m11, soft}, *const raw_both[2] = {raw, raw_soft};
    for (int k = 0; k < 2; k++) {
        nn_model *const *pair = k ? raw_both : both;
        assert_int_equal(nn_digits_read(&a, pair[0], apart.px, apart.w, apart.h, apart.w, &o), NN_OK);
        assert_int_equal(nn_digits_read(&b, pair[1], apart.px, apart.w, apart.h, apart.w, &o), NN_OK);
        assert_int_equal(nn_digits_read_ensemble(&e, pair, 2, apart.px, apart.w, apart.h, apart.w, &o), NN_OK);
        assert_int_equal(nn_digits_count(e), 2);
        assert_int_equal(nn_digits_count(a), 2);
        assert_int_equal(nn_digits_count(b), 2);
        int differ = 0;
        for (int64_t i = 0; i < 2; i++) {
            const float *pa = nn_digits_probabilities(a, i), *pb = nn_digits_probabilities(b, i),
                        *pe = nn_digits_probabilities(e, i);
            for (int c = 0; c < 10; c++) {
                assert_true(pa[c] >= 0 && pa[c] <= 1); /* a softmax's, even from MSE's logits */
                assert_float_equal(pe[c], 0.5f * (pa[c] + pb[c]), 1e-6f);
                differ |= fabsf(pa[c] - pb[c]) > 1e-3f;
            }
            assert_memory_equal(nn_digits_image(a, i), nn_digits_image(e, i), NN_DIGITS_PIXELS * sizeof(float));
        }
        assert_true(differ); /* the two models do disagree */
        nn_digits_free(a);
        nn_digits_free(b);
        nn_digits_free(e);
    }

    /* Refused, with nothing handed back. */
    nn_model *uncompiled;
    assert_int_equal(nn_model_create(&uncompiled, NN_DIGITS_PIXELS), NN_OK);
    assert_int_equal(nn_model_add_dense(uncompiled, 10, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    nn_model *const mixed[2] = {m11, m10}, *const with_null[2] = {m11, NULL}, *const not_ready[2] = {m11, uncompiled};
    nn_model *many[NN_DIGITS_MAX_MODELS + 1];
    for (int i = 0; i <= NN_DIGITS_MAX_MODELS; i++) many[i] = m11;
    struct {
        nn_model *const *models;
        int count;
        nn_status want;
        const char *says;
    } bad[] = {
        {mixed, 2, NN_ERR_SHAPE, "share their classes"},
        {with_null, 2, NN_ERR_INVALID_ARGUMENT, "model 1 is NULL"},
        {not_ready, 2, NN_ERR_STATE, "model 1 is not compiled"},
        {NULL, 1, NN_ERR_INVALID_ARGUMENT, "models is NULL"},
        {both, 0, NN_ERR_INVALID_ARGUMENT, "0 models"},
        {many, NN_DIGITS_MAX_MODELS + 1, NN_ERR_INVALID_ARGUMENT, "give 1 to 16"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nn_digits *d = (nn_digits *)&one;
        assert_int_equal(nn_digits_read_ensemble(&d, bad[i].models, bad[i].count, one.px, one.w, one.h, one.w, NULL),
                         bad[i].want);
        assert_null(d);
        assert_non_null(strstr(nn_last_error(), "nn_digits_read_ensemble"));
        assert_non_null(strstr(nn_last_error(), bad[i].says));
    }
    assert_int_equal(nn_digits_read_ensemble(&e, many, NN_DIGITS_MAX_MODELS, one.px, one.w, one.h, one.w, NULL),
                     NN_OK);
    assert_int_equal(nn_digits_count(e), 1);
    nn_digits_free(e);
    /* Alone, the message names the function called, not nn_model_predict() inside it. */
    nn_digits *u = (nn_digits *)&one;
    assert_int_equal(nn_digits_read(&u, uncompiled, one.px, one.w, one.h, one.w, NULL), NN_ERR_STATE);
    assert_null(u);
    assert_non_null(strstr(nn_last_error(), "nn_digits_read: the model is not compiled"));
    nn_model_free(uncompiled);
    nn_model_free(m11);
    nn_model_free(soft);
    nn_model_free(m10);
    nn_model_free(raw);
    nn_model_free(raw_soft);
    free(one.px);
    free(two.px);
    free(apart.px);
}

/* nn_digits_read() cuts two touching or overlapping 0s where the model reads two 0s best, upright
 * and slanted, and with split off reads one blob. */
/* The model that reads one ring as a 0 and two touching as not one (ring_model()), from the two
 * canvases as nn_digits_find() normalises them. */
static nn_model *model_of(const canvas *one, const canvas *two)
{
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.split = 0;
    nn_digits *d1 = find(one, NULL), *d2 = find(two, &o);
    assert_int_equal(nn_digits_count(d1), 1);
    assert_int_equal(nn_digits_count(d2), 1);
    nn_model *m = ring_model(nn_digits_image(d1, 0), nn_digits_image(d2, 0));
    nn_digits_free(d1);
    nn_digits_free(d2);
    return m;
}

static void test_digits__read_splits_touching_by_recognition(void **state)
{
    (void)state;
    for (int slanted = 0; slanted < 2; slanted++) {
        const double s = slanted ? 0.3 : 0;
        canvas one = canvas_new(200, 120, 230), two = canvas_new(200, 120, 230);
        slanted_ring(&one, 60, 30, 36, 50, 6, s, 20);
        slanted_ring(&two, 60, 30, 36, 50, 6, s, 20);
        slanted_ring(&two, 94, 30, 36, 50, 6, s, 20); /* overlapping by 2 columns */
        nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
        o.split = 0;
        nn_model *m = model_of(&one, &two);

        nn_digits *d = NULL;
        assert_int_equal(nn_digits_read(&d, m, two.px, two.w, two.h, two.w, NULL), NN_OK);
        assert_int_equal(nn_digits_count(d), 2);
        int64_t a[4], b[4];
        box(d, 0, a);
        box(d, 1, b);
        assert_true(a[0] < b[0]);
        assert_true(a[3] >= 48 && b[3] >= 48);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(nn_digits_class(d, i), 0);
            const float *p = nn_digits_probabilities(d, i);
            assert_non_null(p);
            assert_true(p[0] > 0.9f);
        }
        assert_null(nn_digits_probabilities(d, 2));
        assert_int_equal(nn_digits_class(d, -1), -1);
        nn_digits_free(d);

        /* The same bytes again (determinism), and one blob with split off. */
        nn_digits *again = NULL;
        assert_int_equal(nn_digits_read(&again, m, two.px, two.w, two.h, two.w, NULL), NN_OK);
        assert_int_equal(nn_digits_count(again), 2);
        nn_digits_free(again);
        assert_int_equal(nn_digits_read(&d, m, two.px, two.w, two.h, two.w, &o), NN_OK);
        assert_int_equal(nn_digits_count(d), 1);
        nn_digits_free(d);
        /* A single 0 stays one. */
        assert_int_equal(nn_digits_read(&d, m, one.px, one.w, one.h, one.w, NULL), NN_OK);
        assert_int_equal(nn_digits_count(d), 1);
        assert_int_equal(nn_digits_class(d, 0), 0);
        nn_digits_free(d);
        nn_model_free(m);
        free(one.px);
        free(two.px);
    }
}

/* nn_digits_pieces() gives every piece nn_digits_read() chooses from: two overlapping rings give
 * each ring alone among them, and the digits a reading cut out are pieces of it, bit for bit. A
 * blob one digit wide, or split off, gives none. */
static void test_digits__pieces_are_what_read_chooses_from(void **state)
{
    (void)state;
    canvas one = canvas_new(200, 120, 230), two = canvas_new(200, 120, 230);
    slanted_ring(&one, 60, 30, 36, 50, 6, 0, 20);
    slanted_ring(&two, 60, 30, 36, 50, 6, 0, 20);
    slanted_ring(&two, 94, 30, 36, 50, 6, 0, 20); /* overlapping by 2 columns */
    nn_digits *p = NULL;
    assert_int_equal(nn_digits_pieces(&p, two.px, two.w, two.h, two.w, NULL), NN_OK);
    const int64_t n = nn_digits_count(p);
    assert_true(n >= 2 && n <= 44);
    assert_null(nn_digits_probabilities(p, 0));
    int left = -1, right = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t b[4];
        box(p, i, b);
        assert_true(b[0] >= 60 && b[0] + b[2] <= 130 && b[2] < 70); /* within the blob, never all of it */
        assert_int_equal(nn_digits_line(p, i), 0);
        int w, h;
        extent(nn_digits_image(p, i), &w, &h);
        assert_true(h > 0);
        if (labs((long)(b[0] - 60)) <= 1 && labs((long)(b[0] + b[2] - 96)) <= 3) left = (int)i;
        if (labs((long)(b[0] - 94)) <= 3 && labs((long)(b[0] + b[2] - 130)) <= 1) right = (int)i;
    }
    assert_true(left >= 0 && right >= 0);
    assert_int_equal(nn_digits_line_count(p), 1);

    /* What a reading cut out is among the pieces, image and box. */
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.split = 0;
    nn_model *m = model_of(&one, &two);
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m, two.px, two.w, two.h, two.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    for (int64_t k = 0; k < 2; k++) {
        int64_t a[4];
        box(d, k, a);
        int found = 0;
        for (int64_t i = 0; i < n && !found; i++) {
            int64_t b[4];
            box(p, i, b);
            found = !memcmp(a, b, sizeof a) &&
                    !memcmp(nn_digits_image(d, k), nn_digits_image(p, i), NN_DIGITS_PIXELS * sizeof(float));
        }
        assert_true(found);
    }
    nn_digits_free(d);
    nn_model_free(m);

    /* The same pieces again; none with split off, none from one ring, none from a blank page. */
    nn_digits *again = NULL;
    assert_int_equal(nn_digits_pieces(&again, two.px, two.w, two.h, two.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(again), n);
    assert_memory_equal(nn_digits_images(again), nn_digits_images(p), (size_t)n * NN_DIGITS_PIXELS * sizeof(float));
    nn_digits_free(again);
    nn_digits_free(p);
    assert_int_equal(nn_digits_pieces(&p, two.px, two.w, two.h, two.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(p), 0);
    assert_int_equal(nn_digits_line_count(p), 0);
    nn_digits_free(p);
    assert_int_equal(nn_digits_pieces(&p, one.px, one.w, one.h, one.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(p), 0);
    assert_int_equal(nn_digits_line_count(p), 0);
    assert_null(nn_digits_images(p));
    nn_digits_free(p);
    /* A line of digits apart above a line with the touching pair: the pieces' one line is line 0. */
    canvas page = canvas_new(200, 200, 230);
    slanted_ring(&page, 20, 10, 36, 50, 6, 0, 20);
    slanted_ring(&page, 120, 10, 36, 50, 6, 0, 20);
    slanted_ring(&page, 60, 120, 36, 50, 6, 0, 20);
    slanted_ring(&page, 94, 120, 36, 50, 6, 0, 20);
    assert_int_equal(nn_digits_pieces(&p, page.px, page.w, page.h, page.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(p), n);
    assert_int_equal(nn_digits_line_count(p), 1);
    for (int64_t i = 0; i < n; i++) {
        int64_t b[4];
        box(p, i, b);
        assert_int_equal(nn_digits_line(p, i), 0);
        assert_true(b[1] >= 115);
    }
    nn_digits_free(p);
    free(page.px);
    memset(one.px, 230, (size_t)(one.w * one.h));
    assert_int_equal(nn_digits_pieces(&p, one.px, one.w, one.h, one.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(p), 0);
    nn_digits_free(p);

    /* Bad arguments as nn_digits_find(). */
    assert_int_equal(nn_digits_pieces(NULL, two.px, two.w, two.h, two.w, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_pieces(&p, NULL, two.w, two.h, two.w, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(p);
    assert_int_equal(nn_digits_pieces(&p, two.px, two.w, two.h, two.w - 1, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_pieces(&p, two.px, 0, two.h, two.w, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "nn_digits_pieces"));
    free(one.px);
    free(two.px);
}

/* A model of `classes` outputs whose logits are `logits` whatever it reads. */
static nn_model *constant_logits_model(int classes, const float *logits)
{
    nn_model *m;
    assert_int_equal(nn_model_create(&m, NN_DIGITS_PIXELS), NN_OK);
    assert_int_equal(nn_model_add_dense(m, classes, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, NULL), NN_OK);
    float *p;
    size_t n;
    assert_int_equal(nn_model_params(m, &p, &n), NN_OK);
    assert_int_equal(n, (size_t)(NN_DIGITS_PIXELS * classes + classes));
    memset(p, 0, n * sizeof *p);
    memcpy(p + NN_DIGITS_PIXELS * classes, logits, (size_t)classes * sizeof *logits);
    return m;
}

/* A model that reads every image alike: 11 outputs, "1" with probability 0.35, "not one digit" 0.6,
 * the other nine digits 0.05 together. */
static nn_model *constant_one_model(void)
{
    /* Logits 0 for the nine other digits, log(63) for the 1, log(108) for the 11th: a softmax total
     * of 180. */
    float logits[11] = {0};
    logits[1] = (float)log(63.0);
    logits[10] = (float)log(108.0);
    return constant_logits_model(11, logits);
}

/* A model whose outputs are not finite (NaN or infinite weights) is refused: a NaN compares false
 * with everything, and read on it came out as a sure 0. Read alone or with a sound model. */
static void test_digits__read_non_finite_outputs_refused(void **state)
{
    (void)state;
    canvas c = canvas_new(200, 120, 230);
    ring(&c, 70, 30, 52, 52, 6, 20);
    const float surely_0[10] = {10.0f};
    float nan_logits[10] = {10.0f}, inf_logits[10] = {10.0f};
    nan_logits[3] = NAN;
    inf_logits[7] = INFINITY;
    nn_model *sound = constant_logits_model(10, surely_0), *nan_m = constant_logits_model(10, nan_logits),
             *inf_m = constant_logits_model(10, inf_logits);
    nn_model *bad[2] = {nan_m, inf_m};
    for (int k = 0; k < 2; k++) {
        nn_digits *d = (nn_digits *)&d;
        assert_int_equal(nn_digits_read(&d, bad[k], c.px, c.w, c.h, c.w, NULL), NN_ERR_NUMERIC);
        assert_null(d);
        assert_non_null(strstr(nn_last_error(), "non-finite"));
        nn_model *pair[2] = {sound, bad[k]};
        d = (nn_digits *)&d;
        assert_int_equal(nn_digits_read_ensemble(&d, pair, 2, c.px, c.w, c.h, c.w, NULL), NN_ERR_NUMERIC);
        assert_null(d);
        assert_non_null(strstr(nn_last_error(), "model 1"));
    }
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, sound, c.px, c.w, c.h, c.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    assert_int_equal(nn_digits_class(d, 0), 0);
    nn_digits_free(d);
    nn_model_free(sound);
    nn_model_free(nan_m);
    nn_model_free(inf_m);
    free(c.px);
}

/* A path down through a 0 parts two strokes, its top and bottom; touching digits meet in one. A
 * model that reads any narrow shape as a likely 1 (and a round one as an unlikely 1) would read the
 * 0's halves as "11" if a cut through two strokes cost little: it must not. */
static void test_digits__read_no_cut_through_a_loop(void **state)
{
    (void)state;
    canvas c = canvas_new(200, 120, 230);
    ring(&c, 70, 30, 52, 52, 6, 20);
    nn_model *m = constant_one_model();
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    int64_t b[4];
    box(d, 0, b);
    assert_true(b[2] >= 50 && b[3] >= 50);
    nn_digits_free(d);
    nn_model_free(m);
    free(c.px);
}

/* At most max_cuts cut paths through the one glyph of a w x h bitmap (non-zero: ink), starting
 * between margin columns in from its sides (-1: as nn_digits_read() tries them), with median height
 * H: into k, the glyph's box into box[4] (x0, y0, x1, y1). */
static void glyph_cuts(nn__cuts *k, int32_t box[4], const uint8_t *bits, int w, int h, double H, int max_cuts,
                       int margin)
{
    uint8_t *ink = calloc((size_t)(w * h), 1);
    assert_non_null(ink);
    for (int i = 0; i < w * h; i++) ink[i] = bits[i] ? 200 : 0;
    nn__ink in = {.ink = ink, .level = 100, .paper = 0, .dark_on_light = 1, .adaptive = 0, .w = w, .h = h};
    nn__components comps;
    nn__glyphs gs;
    assert_int_equal(nn__vision_components(&comps, &in, w, h), NN_OK);
    assert_int_equal(nn__vision_segment(&gs, &comps, w, h, 4, 1, 0, 1.3), NN_OK);
    assert_int_equal(gs.n, 1);
    const nn__glyph *gl = &gs.g[0];
    const int32_t m = margin >= 0 ? margin : (int32_t)ceil(0.1 * H); /* as nn_digits_read() */
    assert_int_equal(nn__vision_cuts(k, gl, &comps, NULL, H, gl->x0 + m, gl->x1 - m, max_cuts), NN_OK);
    assert_true(k->n >= 1 && k->n <= max_cuts);
    box[0] = gl->x0, box[1] = gl->y0, box[2] = gl->x1, box[3] = gl->y1;
    free(gs.g);
    free(gs.frag);
    free(gs.cuts);
    nn__vision_components_free(&comps);
    free(ink);
}

/* Two rings joined by a short bar, 78 x 60: a model of 11 classes reads the whole surely as a 1 (its
 * template), and each ring, cut off at the bar, as a 9 with probability 0.67. A 1 this wide is most
 * unlikely by its shape (step 6's prior), and the two 9s would win; but the model reads the glyph as
 * one digit at 0.999 and as not one at 0.00005, and such a glyph loses at most e^1 to its shape:
 * it stays one. */
static void test_digits__read_sure_glyph_not_cut_for_its_shape(void **state)
{
    (void)state;
    canvas whole = canvas_new(200, 120, 230), alone = canvas_new(200, 120, 230);
    ring(&whole, 50, 30, 34, 60, 6, 20);
    ring(&whole, 94, 30, 34, 60, 6, 20);
    rect(&whole, 82, 57, 14, 6, 20);
    ring(&alone, 50, 30, 34, 60, 6, 20);
    rect(&alone, 82, 57, 6, 6, 20);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.split = 0;
    o.scales = 1;
    nn_digits *dw = find(&whole, &o), *da = find(&alone, &o);
    assert_int_equal(nn_digits_count(dw), 1);
    assert_int_equal(nn_digits_count(da), 1);
    int64_t b[4];
    box(dw, 0, b);
    assert_true(b[2] >= 76 && b[3] >= 58 && b[2] > 1.2 * b[3]);
    /* The ring detector's class 0 moved to class 1; no 11th class of its own; a 9 at logit 3. */
    nn_model *m = ring_model_of(nn_digits_image(dw, 0), nn_digits_image(da, 0), 11);
    nn_digits_free(dw);
    nn_digits_free(da);
    float *p;
    size_t n;
    assert_int_equal(nn_model_params(m, &p, &n), NN_OK);
    for (int i = 0; i <= NN_DIGITS_PIXELS; i++) {
        p[i * 11 + 1] = p[i * 11];
        p[i * 11] = 0;
        p[i * 11 + 10] = 0;
    }
    p[NN_DIGITS_PIXELS * 11 + 9] = 3;

    o.split = 1;
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m, whole.px, whole.w, whole.h, whole.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    assert_int_equal(nn_digits_class(d, 0), 1);
    assert_true(nn_digits_probabilities(d, 0)[1] > 0.99f);
    nn_digits_free(d);
    /* Read less surely (the 1 at logit 10 - 6), its shape counts in full, and the 9s win. */
    p[NN_DIGITS_PIXELS * 11 + 1] -= 6;
    assert_int_equal(nn_digits_read(&d, m, whole.px, whole.w, whole.h, whole.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    assert_int_equal(nn_digits_class(d, 0), 9);
    assert_int_equal(nn_digits_class(d, 1), 9);
    nn_digits_free(d);
    nn_model_free(m);
    free(whole.px);
    free(alone.px);
}

/* The cut paths nn_digits_read() tries (8 at most). */
static void read_cuts(nn__cuts *k, int32_t box[4], const uint8_t *bits, int w, int h, double H)
{
    glyph_cuts(k, box, bits, w, h, H, 8, -1);
}

/* A glyph of random thick scribbles into bits (w x h): a random walk of a 5 x 5 brush drifting
 * right, so one connected glyph most of the width. */
static void scribble(uint8_t *bits, int w, int h, uint64_t *seed)
{
    memset(bits, 0, (size_t)(w * h));
    int x = 4 + (int)(*seed >> 61), y = h / 2;
    for (int step = 0; step < 600; step++) {
        *seed = *seed * 6364136223846793005u + 1442695040888963407u;
        const int dir = (int)((*seed >> 58) % 6);
        x += dir <= 1 ? 1 : dir == 2 ? -1 : 0;
        y += dir == 3 ? 1 : dir == 4 ? -1 : 0;
        x = x < 3 ? 3 : x > w - 4 ? w - 4 : x;
        y = y < 3 ? 3 : y > h - 4 ? h - 4 : y;
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++) bits[(y + dy) * w + x + dx] = 1;
    }
}

/* The cut path's definition, written out plainly (a full table of costs, the pixels read where
 * they lie): the cheapest path from the top row of the glyph's box (bw x bh, bits from (x0, y0)
 * with row stride w) to its bottom row with columns in [lo, hi], moving at most one column a row;
 * a row where it parts two ink pixels costs 10 and, entering ink from paper, 10 x bh more; a step
 * sideways 1, and 10 more where it parts the pixel it passes from the one above. Ties: straight
 * down, then left, then right; at the bottom, the column nearest the middle of [lo, hi]. */
static void reference_path(int32_t *path, const uint8_t *bits, int w, int x0, int y0, int bh, int lo, int hi)
{
    const int bw = hi - lo + 1;
    const int64_t stroke = 10 * (int64_t)bh;
    int64_t *D = malloc((size_t)(bw * bh) * sizeof *D);
    int8_t *back = malloc((size_t)(bw * bh));
    assert_non_null(D);
    assert_non_null(back);
#define INK(xx, yy) (bits[(y0 + (yy)) * w + x0 + (xx)] != 0)
#define PARTS(xx, yy) (INK((xx) - 1, yy) && INK(xx, yy))
    for (int y = 0; y < bh; y++)
        for (int i = 0; i < bw; i++) {
            const int x = lo + i, in = PARTS(x, y);
            int64_t best = in ? stroke : 0;
            int8_t from = 0;
            if (y > 0) {
                best = D[(y - 1) * bw + i] + (in && !PARTS(x, y - 1) ? stroke : 0);
                if (i > 0) {
                    const int64_t v = D[(y - 1) * bw + i - 1] + 1 + (INK(x - 1, y - 1) && INK(x - 1, y) ? 10 : 0) +
                                      (in && !PARTS(x - 1, y - 1) ? stroke : 0);
                    if (v < best) best = v, from = -1;
                }
                if (i + 1 < bw) {
                    const int64_t v = D[(y - 1) * bw + i + 1] + 1 + (INK(x, y - 1) && INK(x, y) ? 10 : 0) +
                                      (in && !PARTS(x + 1, y - 1) ? stroke : 0);
                    if (v < best) best = v, from = 1;
                }
            }
            D[y * bw + i] = best + (in ? 10 : 0);
            back[y * bw + i] = from;
        }
#undef PARTS
#undef INK
    int bi = 0;
    const int mid = (lo + hi) / 2;
    for (int i = 1; i < bw; i++) {
        const int64_t a = D[(bh - 1) * bw + i], b = D[(bh - 1) * bw + bi];
        if (a < b || (a == b && abs(lo + i - mid) < abs(lo + bi - mid))) bi = i;
    }
    for (int y = bh - 1; y >= 0; y--) {
        path[y] = lo + bi;
        bi += back[y * bw + bi];
    }
    free(D);
    free(back);
}

/* With a band wider than the glyph every start's window is the whole of it, and the cut found is
 * the path of the definition above, column for column (scribbles, and ink lines with random ink
 * between them, so that ink crossings, steps through ink and ties all occur). */
static void test_digits__cut_path_as_defined(void **state)
{
    (void)state;
    enum { W = 160, Hh = 60 };
    uint64_t seed = 777;
    uint8_t bits[W * Hh];
    int32_t ref[Hh];
    for (int round = 0; round < 30; round++) {
        if (round % 2) {
            scribble(bits, W, Hh, &seed);
        } else {
            /* Ink lines every third row and random ink between them: one component where every
             * path crosses ink and steps through it. */
            for (int i = 0; i < W * Hh; i++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                const int x = i % W, y = i / W;
                bits[i] = x >= 10 && x < W - 10 && y >= 5 && y < Hh - 5 && ((y - 5) % 3 == 0 || (seed >> 63));
            }
        }
        nn__cuts k;
        int32_t box[4];
        /* H 1000: a band of 300 columns; starts one column in from each side. */
        glyph_cuts(&k, box, bits, W, Hh, 1000, 1, 1);
        assert_int_equal(k.n, 1);
        const int bh = box[3] - box[1];
        assert_int_equal(k.h, bh);
        reference_path(ref, bits, W, box[0], box[1], bh, 1, box[2] - box[0] - 1);
        for (int y = 0; y < bh; y++) assert_int_equal(k.x[y], box[0] + ref[y]);
        nn__vision_cuts_free(&k);
    }
}

/* One cut wanted (nn_digits_find() splitting a glyph) gives up the start columns whose paths grow
 * dearer than the cheapest so far: the cut must still cost what the cheapest of the candidates
 * nn_digits_read() ranks costs, which are all computed in full. Scribbles of 100 to 150 columns:
 * more than 48 starts, so several columns apart. */
static void test_digits__one_cut_is_the_cheapest_path(void **state)
{
    (void)state;
    enum { W = 160, Hh = 70 };
    uint64_t seed = 12345;
    uint8_t bits[W * Hh];
    int wide = 0;
    for (int round = 0; round < 40; round++) {
        scribble(bits, W, Hh, &seed);
        nn__cuts one, all;
        int32_t box1[4], box8[4];
        glyph_cuts(&one, box1, bits, W, Hh, 40, 1, -1);
        glyph_cuts(&all, box8, bits, W, Hh, 40, 8, -1);
        wide += box1[2] - box1[0] - 8 > 48;
        assert_int_equal(one.n, 1);
        assert_int_equal(one.h, all.h);
        int64_t cheapest = 0;
        for (int j = 1; j < all.n; j++)
            if (all.cost[j] < all.cost[cheapest]) cheapest = j;
        assert_true(one.cost[0] == all.cost[cheapest]);
        nn__vision_cuts_free(&one);
        nn__vision_cuts_free(&all);
    }
    printf("%d of 40 glyphs with more than 48 start columns\n", wide);
    assert_true(wide >= 20);
}

/* A 1 with a foot, as serif fonts draw it, its stem wider than the straighter paths' band: no cut
 * runs down inside the stem. Cut there, a 1 became two thin 1s when the model read the whole as
 * not one digit (a font it had not seen) and any thin slice as a sure 1. */
static void test_digits__cuts_not_along_a_stem(void **state)
{
    (void)state;
    enum { W = 80, Hh = 90 };
    uint8_t bits[W * Hh];
    memset(bits, 0, sizeof bits);
    for (int y = 5; y < 85; y++)
        for (int x = 0; x < W; x++) {
            const int stem = x >= 32 && x < 50, foot = y >= 76 && x >= 14 && x < 68;
            bits[y * W + x] = (uint8_t)(stem || foot);
        }
    nn__cuts k;
    int32_t box[4];
    read_cuts(&k, box, bits, W, Hh, 80);
    for (int j = 0; j < k.n; j++) {
        int inside = 0;
        for (int y = box[1]; y < box[3]; y++) {
            const int32_t x = k.x[(int64_t)j * k.h + (y - box[1])];
            inside += bits[y * W + x - 1] && bits[y * W + x];
        }
        printf("cut %d: inside the ink on %d of %d rows\n", j, inside, box[3] - box[1]);
        assert_true(2 * inside <= box[3] - box[1]);
    }
    nn__vision_cuts_free(&k);
}

/* A 6 and a 1 touching, as the benchmark drew them from MNIST's test digits (bench-digits, seed 1,
 * string 283): the 1 leans on the 6's bowl, its foot along the bowl's right side for 12 rows. */
static const char *const six_one[] = {
    ".........................................##.",
    "..................#.....................####",
    ".................#......................####",
    "..............###......................#####",
    ".............####......................#####",
    ".............####......................#####",
    "............#####......................#####",
    "...........#####.......................#####",
    "...........#####.......................#####",
    "..........####.........................#####",
    ".........#####.........................####.",
    ".........#####........................#####.",
    "........#####.........................####..",
    ".......#####..........................####..",
    ".......####...........................####..",
    ".......####...........................####..",
    "......####...........................#####..",
    ".....#####...........................####...",
    ".....####...........................#####...",
    "....####............................#####...",
    "...#####............................####....",
    "...#####............................####....",
    "..#####.............................####....",
    "...###.............................####.....",
    "..####.............................####.....",
    "..###..............................###......",
    "#####.....................#.......####......",
    "#####...................######....####......",
    ".####................###########..####......",
    "#####...............#############.####......",
    ".####.............######.#############......",
    "..####...........####.......#########.......",
    "..####..........####.........########.......",
    "...####.........###..........########.......",
    "...####........####..........########.......",
    "....####......####...........########.......",
    "....####......###............########.......",
    ".....######.#####...........##########......",
    ".....############...........###########.....",
    "......###########..........####.#######.....",
    "........###########......#####..######......",
    ".........###################....#####.......",
    "............##############.......####.......",
    "..............#########.....................",
    "...............####........................."
};

/* Whether pixel (x, y) of six_one belongs to the 1: ink within 2.5 pixels of its axis, from column
 * 42 at the top to 34 at the bottom. */
static int six_one_is_one(int x, int y)
{
    const double axis = 42.0 - 8.0 * y / 42.0;
    return six_one[y][x] == '#' && fabs(x - axis) <= 2.5;
}

/* The cut paths nn_digits_read() tries through six_one: one of them must give the 1 to the right and
 * the 6 to the left, each but for a few pixels where they touch. The cheapest path around the 1
 * cuts through its stroke above the contact and gives its foot to the 6, and the right cut, along
 * the contact, lies only a few columns to its left: paths are kept when they part the ink
 * differently, not when they lie far apart, and narrower bands give straighter paths too. */
static void test_digits__cuts_part_a_one_leaning_on_a_six(void **state)
{
    (void)state;
    const int h = (int)(sizeof six_one / sizeof *six_one), w = (int)strlen(six_one[0]);
    uint8_t *bits = calloc((size_t)(w * h), 1);
    assert_non_null(bits);
    int64_t ones = 0, sixes = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            bits[y * w + x] = six_one[y][x] == '#';
            if (six_one[y][x] == '#') six_one_is_one(x, y) ? ones++ : sixes++;
        }
    nn__cuts k;
    int32_t box[4];
    read_cuts(&k, box, bits, w, h, 45);
    int parted = 0;
    for (int j = 0; j < k.n; j++) {
        int64_t wrong_one = 0, wrong_six = 0;
        for (int y = box[1]; y < box[3]; y++) {
            const int32_t cut = k.x[(int64_t)j * k.h + (y - box[1])];
            for (int x = 0; x < w; x++) {
                if (six_one[y][x] != '#') continue;
                if (six_one_is_one(x, y) && x < cut) wrong_one++;
                if (!six_one_is_one(x, y) && x >= cut) wrong_six++;
            }
        }
        printf("cut %d: %lld of the 1's %lld pixels on the left, %lld of the 6's %lld on the right\n", j,
               (long long)wrong_one, (long long)ones, (long long)wrong_six, (long long)sixes);
        /* The 1 whole (its foot included), and the 6 but for the side of its bowl the 1 lies on: the
         * contact cut gives 26 of the 6's 367 pixels to the 1; the paths of the older rule, 37 or more. */
        parted |= wrong_one <= ones / 20 && wrong_six <= sixes / 12;
    }
    assert_true(parted);
    nn__vision_cuts_free(&k);
    free(bits);
}

/* Ink of a normalised digit in its top-right quarter. */
static double top_right_ink(const float *img)
{
    double s = 0;
    for (int y = 0; y < 14; y++)
        for (int x = 14; x < 28; x++) s += img[y * 28 + x];
    return s;
}

/* nn_digits_read() joins the two halves of a 0 broken down the middle, which nn_digits_find() leaves
 * as two glyphs side by side, when the model reads them as one 0 better than as two halves; and a 0
 * whose top-right arc broke off, beside its body rather than above it and too low to be a digit,
 * gets it back. With merge off, neither. */
static void test_digits__read_joins_broken_digit_by_recognition(void **state)
{
    (void)state;
    canvas one = canvas_new(200, 120, 230), broken = canvas_new(200, 120, 230), capped = canvas_new(200, 120, 230);
    ring(&one, 60, 30, 40, 56, 6, 20);
    ring(&broken, 60, 30, 40, 56, 6, 20);
    rect(&broken, 78, 0, 4, 120, 230); /* a gap of 4 columns down the middle */
    ring(&capped, 60, 30, 40, 56, 6, 20);
    rect(&capped, 78, 0, 4, 42, 230);   /* the top-right arc apart: 12 rows high (0.21 H), and */
    rect(&capped, 78, 42, 122, 3, 230); /* beside the rest of the 0, which reaches as high */
    nn_digits *d1 = find(&one, NULL), *d2 = find(&broken, NULL), *d3 = find(&capped, NULL);
    assert_int_equal(nn_digits_count(d1), 1);
    assert_int_equal(nn_digits_count(d2), 2);
    assert_int_equal(nn_digits_count(d3), 1); /* the arc dropped as too low */
    const double without = top_right_ink(nn_digits_image(d3, 0)), whole = top_right_ink(nn_digits_image(d1, 0));
    assert_true(without < 0.75 * whole);
    int64_t b[4];
    nn_model *m = ring_model(nn_digits_image(d1, 0), nn_digits_image(d2, 0));
    nn_model *m11 = ring_model_of(nn_digits_image(d1, 0), nn_digits_image(d2, 0), 11);
    nn_digits_free(d1);
    nn_digits_free(d2);
    nn_digits_free(d3);

    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m, broken.px, broken.w, broken.h, broken.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    assert_int_equal(nn_digits_class(d, 0), 0);
    assert_true(nn_digits_probabilities(d, 0)[0] > 0.9f);
    box(d, 0, b);
    assert_true(b[0] <= 61 && b[0] + b[2] >= 99 && b[3] >= 54);
    nn_digits_free(d);
    assert_int_equal(nn_digits_read(&d, m, capped.px, capped.w, capped.h, capped.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    assert_true(top_right_ink(nn_digits_image(d, 0)) > 0.8 * whole); /* the arc is back (less the gaps) */
    nn_digits_free(d);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    o.merge = 0;
    assert_int_equal(nn_digits_read(&d, m, broken.px, broken.w, broken.h, broken.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    nn_digits_free(d);
    /* Two whole 0s side by side, as close, stay two: as one they read as "other". */
    canvas two = canvas_new(200, 120, 230);
    ring(&two, 40, 30, 40, 56, 6, 20);
    ring(&two, 84, 30, 40, 56, 6, 20);
    assert_int_equal(nn_digits_read(&d, m, two.px, two.w, two.h, two.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    nn_digits_free(d);
    /* The same with an 11-class model: the halves join (the union is a 0, not "not one digit"). */
    assert_int_equal(nn_digits_read(&d, m11, broken.px, broken.w, broken.h, broken.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    assert_int_equal(nn_digits_class(d, 0), 0);
    nn_digits_free(d);
    assert_int_equal(nn_digits_read(&d, m11, two.px, two.w, two.h, two.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 2);
    nn_digits_free(d);
    nn_model_free(m11);
    nn_model_free(m);
    free(one.px);
    free(broken.px);
    free(capped.px);
    free(two.px);
}

/* nn_digits_read() refuses what it cannot use, with a status; nn_digits_find()'s results carry no
 * probabilities. */
/* One digit of a made-up reading: class k with probability p, the rest spread evenly. */
static void made_digit(nn_digits *d, float *probs, int64_t *boxes, int64_t x, int64_t y, int64_t w, int64_t h, int k,
                       float p)
{
    const int64_t i = d->count++;
    for (int c = 0; c < 10; c++) probs[i * 10 + c] = c == k ? p : (1 - p) / 9;
    int64_t *b = boxes + i * 5;
    b[0] = x, b[1] = y, b[2] = w, b[3] = h, b[4] = 0;
}

/* Combines the k readings and checks the classes of the n digits that come out, in order. */
static void expect_combined(nn_digits *const *rd, int k, const int *want, int64_t n)
{
    nn_digits *d = NULL;
    assert_int_equal(nn__digits_combine(&d, rd, k, 40), NN_OK);
    assert_int_equal(nn_digits_count(d), n);
    for (int64_t i = 0; i < n; i++) assert_int_equal(nn_digits_class(d, i), want[i]);
    nn_digits_free(d);
}

/* Readings at several scales are combined region by region: digits of two readings are in one region
 * when their boxes share half of the smaller one; a region is kept where the first reading (the
 * image as given) and at least half of the readings found digits, and takes the digits of the
 * reading whose least sure digit there is surest (the first such reading on a tie); the result is
 * in reading order. */
static void test_digits__scales_combined_by_region(void **state)
{
    (void)state;
    static float images[3][8 * NN_DIGITS_PIXELS], probs[3][80];
    static int64_t boxes[3][40];
    nn_digits rd[3];
    memset(rd, 0, sizeof rd);
    for (int r = 0; r < 3; r++) rd[r].images = images[r], rd[r].probs = probs[r], rd[r].boxes = boxes[r];
    /* Scale 1. */
    made_digit(&rd[0], probs[0], boxes[0], 10, 10, 30, 40, 3, 0.5f);   /* A: unsure */
    made_digit(&rd[0], probs[0], boxes[0], 60, 10, 40, 40, 1, 0.93f);  /* B: one digit */
    made_digit(&rd[0], probs[0], boxes[0], 20, 80, 30, 40, 6, 0.6f);   /* D: second line */
    made_digit(&rd[0], probs[0], boxes[0], 220, 20, 30, 30, 4, 0.99f); /* F: found at scale 1 only */
    made_digit(&rd[0], probs[0], boxes[0], 260, 10, 30, 40, 2, 0.8f);  /* G: a tie */
    made_digit(&rd[0], probs[0], boxes[0], 300, 10, 30, 40, 6, 0.9f);  /* H: overlaps H' by 40% only */
    /* Scale 2. */
    made_digit(&rd[1], probs[1], boxes[1], 11, 10, 29, 41, 8, 0.95f);
    made_digit(&rd[1], probs[1], boxes[1], 60, 10, 20, 40, 4, 0.92f);  /* B in two pieces: the least */
    made_digit(&rd[1], probs[1], boxes[1], 80, 10, 20, 40, 7, 0.999f); /* sure 0.92, the mean higher */
    made_digit(&rd[1], probs[1], boxes[1], 170, 20, 30, 30, 9, 0.99f); /* E: noise the larger scales see */
    made_digit(&rd[1], probs[1], boxes[1], 261, 10, 29, 40, 3, 0.8f);
    made_digit(&rd[1], probs[1], boxes[1], 318, 10, 30, 40, 0, 0.95f); /* H' */
    /* Scale 3. */
    made_digit(&rd[2], probs[2], boxes[2], 10, 11, 30, 39, 8, 0.9f);
    made_digit(&rd[2], probs[2], boxes[2], 61, 10, 39, 40, 1, 0.9f);
    made_digit(&rd[2], probs[2], boxes[2], 120, 20, 30, 30, 2, 0.999f); /* C: scale 3 only */
    made_digit(&rd[2], probs[2], boxes[2], 171, 20, 30, 30, 9, 0.99f);
    made_digit(&rd[2], probs[2], boxes[2], 20, 81, 30, 40, 5, 0.8f);
    for (int r = 0; r < 3; r++)
        for (int64_t i = 0; i < rd[r].count; i++) images[r][i * NN_DIGITS_PIXELS] = (float)(10 * r + i);

    /* All three: A from scale 2, B and G (the tie) from scale 1, D from scale 3; C, E, F, H, H' out. */
    nn_digits *d = NULL;
    assert_int_equal(nn__digits_combine(&d, (nn_digits *const[]){&rd[0], &rd[1], &rd[2]}, 3, 40), NN_OK);
    const int want3[4] = {8, 1, 2, 5}, line3[4] = {0, 0, 0, 1};
    const float image3[4] = {10, 1, 4, 24}; /* 10 r + i: reading r's digit i */
    assert_int_equal(nn_digits_count(d), 4);
    assert_int_equal(nn_digits_line_count(d), 2);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(nn_digits_class(d, i), want3[i]);
        assert_int_equal(nn_digits_line(d, i), line3[i]);
        assert_true(nn_digits_image(d, i)[0] == image3[i]);
    }
    int64_t b[4];
    box(d, 0, b);
    assert_true(b[0] == 11 && b[1] == 10 && b[2] == 29 && b[3] == 41);
    nn_digits_free(d);

    /* Scales 1 and 2: F and H are scale 1's call; E and H' (which must not join H) are left out. */
    expect_combined((nn_digits *const[]){&rd[0], &rd[1]}, 2, (const int[]){8, 1, 4, 2, 6, 6}, 6);

    /* With scale 3's reading first, what it alone found (C, E) is kept, and F, G, H are not. */
    expect_combined((nn_digits *const[]){&rd[2], &rd[0]}, 2, (const int[]){8, 1, 2, 9, 5}, 5);
}

/* A reading with more digits in a region than another must be surer by a factor of about 50 (e^4)
 * per digit more: an enlarged reading sees the gaps inside a digit and reads its pieces as sure 1s.
 * With ten classes summing to 1 the best is at least 0.1, so only a reading whose ten digits' share
 * is small (an 11-class model's "not one digit") can lose to one with more digits. */
static void test_digits__scales_more_digits_must_be_much_surer(void **state)
{
    (void)state;
    static float images[2][8 * NN_DIGITS_PIXELS], probs[2][80];
    static int64_t boxes[2][40];
    nn_digits rd[2];
    memset(rd, 0, sizeof rd);
    for (int r = 0; r < 2; r++) rd[r].images = images[r], rd[r].probs = probs[r], rd[r].boxes = boxes[r];
    made_digit(&rd[0], probs[0], boxes[0], 10, 10, 40, 40, 4, 0.4f);  /* K: a 4, unsure */
    made_digit(&rd[0], probs[0], boxes[0], 80, 10, 40, 40, 8, 0.01f); /* L: two digits read as one, */
    for (int c = 0; c < 10; c++) probs[0][10 + c] = c == 8 ? 0.01f : 0.005f; /* by an 11-class model
                                                                                 sure it is not one */
    made_digit(&rd[0], probs[0], boxes[0], 150, 10, 40, 40, 6, 0.3f); /* M: a 6, unsure */
    made_digit(&rd[0], probs[0], boxes[0], 220, 10, 40, 40, 0, 0.101f); /* N: as unsure as ten can be */
    made_digit(&rd[1], probs[1], boxes[1], 10, 10, 20, 40, 1, 0.99f); /* K in two pieces, surer */
    made_digit(&rd[1], probs[1], boxes[1], 30, 10, 20, 40, 1, 0.99f);
    made_digit(&rd[1], probs[1], boxes[1], 80, 10, 20, 40, 3, 0.999f); /* L as two, far surer */
    made_digit(&rd[1], probs[1], boxes[1], 100, 10, 20, 40, 5, 0.999f);
    made_digit(&rd[1], probs[1], boxes[1], 150, 10, 40, 40, 5, 0.9f);   /* M as one, surer: it wins */
    made_digit(&rd[1], probs[1], boxes[1], 220, 10, 20, 40, 1, 0.999f); /* N in two, sure: it loses */
    made_digit(&rd[1], probs[1], boxes[1], 240, 10, 20, 40, 1, 0.999f);
    expect_combined((nn_digits *const[]){&rd[0], &rd[1]}, 2, (const int[]){4, 3, 5, 5, 0}, 5);
}

/* Reading at 1 to 3 times the size reads well-written digits as reading once does, with the boxes in
 * the image's own pixels. */
static void test_digits__read_at_scales_same_on_clear_digits(void **state)
{
    (void)state;
    canvas c = canvas_new(400, 250, 230);
    for (int k = 0; k < 3; k++) ring(&c, 120 + 70 * k, 100, 36, 56, 5, 20); /* away from the corner */
    nn_digits *ref = find(&c, NULL);
    assert_int_equal(nn_digits_count(ref), 3);
    canvas bar = canvas_new(60, 100, 230);
    rect(&bar, 25, 20, 8, 56, 20);
    nn_digits *one = find(&bar, NULL);
    nn_model *m = ring_model(nn_digits_image(ref, 0), nn_digits_image(one, 0));
    nn_digits *d1 = NULL, *d3 = NULL;
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    assert_int_equal(nn_digits_read(&d1, m, c.px, c.w, c.h, c.w, &o), NN_OK);
    o.scales = 3;
    assert_int_equal(nn_digits_read(&d3, m, c.px, c.w, c.h, c.w, &o), NN_OK);
    assert_int_equal(nn_digits_count(d1), 3);
    assert_int_equal(nn_digits_count(d3), 3);
    int differ = 0;
    for (int i = 0; i < 3; i++) {
        int64_t a[4], b[4];
        box(d1, i, a);
        box(d3, i, b);
        for (int j = 0; j < 4; j++) assert_true(llabs(a[j] - b[j]) <= 1);
        assert_int_equal(nn_digits_class(d3, i), 0);
        differ |= image_distance(nn_digits_image(d1, i), nn_digits_image(d3, i)) > 0;
    }
    assert_true(differ); /* some digit came from an enlarged reading */
    nn_digits_free(d1);
    nn_digits_free(d3);
    nn_digits_free(ref);
    nn_digits_free(one);
    nn_model_free(m);
    free(c.px);
    free(bar.px);
}

static void test_digits__read_bad_arguments_refused(void **state)
{
    (void)state;
    canvas c = canvas_new(60, 60, 230);
    ring(&c, 10, 10, 30, 40, 5, 20);
    nn_model *m, *wrong;
    assert_int_equal(nn_model_create(&m, NN_DIGITS_PIXELS), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 10, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_model_compile(m, NN_LOSS_SOFTMAX_CROSS_ENTROPY, NULL), NN_OK);
    assert_int_equal(nn_model_create(&wrong, 100), NN_OK);
    assert_int_equal(nn_model_add_dense(wrong, 10, nn_activation_make(NN_ACT_LINEAR)), NN_OK);
    assert_int_equal(nn_model_compile(wrong, NN_LOSS_SOFTMAX_CROSS_ENTROPY, NULL), NN_OK);
    nn_digits *d = (nn_digits *)&c;
    assert_int_equal(nn_digits_read(&d, NULL, c.px, c.w, c.h, c.w, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_null(d);
    assert_int_equal(nn_digits_read(NULL, m, c.px, c.w, c.h, c.w, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_read(&d, wrong, c.px, c.w, c.h, c.w, NULL), NN_ERR_SHAPE);
    assert_int_equal(nn_digits_read(&d, m, NULL, c.w, c.h, c.w, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_read(&d, m, c.px, 0, c.h, c.w, NULL), NN_ERR_INVALID_ARGUMENT);
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w - 1, NULL), NN_ERR_INVALID_ARGUMENT);
    nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
    assert_int_equal(o.scales, 1);
    o.scales = 0;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, &o), NN_ERR_INVALID_ARGUMENT);
    assert_null(d);
    o.scales = 5;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, &o), NN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(nn_last_error(), "scales"));
    /* A program built with options version 1 (no `scales`) passes the shorter struct. */
    nn_digits_options *v1 = malloc(offsetof(nn_digits_options, scales));
    assert_non_null(v1);
    assert_int_equal(nn_digits_options_init(v1, 1), NN_OK);
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, v1), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    nn_digits_free(d);
    free(v1);
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 1);
    const float *p = nn_digits_probabilities(d, 0);
    assert_non_null(p);
    float sum = 0;
    for (int k = 0; k < 10; k++) sum += p[k];
    assert_true(fabsf(sum - 1) < 1e-4f); /* all-zero weights: uniform */
    nn_digits_free(d);
    d = find(&c, NULL);
    assert_null(nn_digits_probabilities(d, 0));
    assert_int_equal(nn_digits_class(d, 0), -1);
    nn_digits_free(d);
    nn_model_free(m);
    nn_model_free(wrong);
    free(c.px);
}

/* Rings (0s) 34 x 50 whose centres lie 72 pixels apart along a line falling by `deg` degrees (rising
 * where negative), from (60, y0): each ring is drawn upright, as a digit written level on tilted
 * paper is not, but the line is what the step measures. */
static canvas tilted_rings(double deg, double y0, double cx[5], double cy[5])
{
    canvas c = canvas_new(520, 340, 230);
    const double a = deg * 3.14159265358979323846 / 180.0;
    for (int i = 0; i < 5; i++) {
        cx[i] = 60 + 72 * i * cos(a);
        cy[i] = y0 + 72 * i * sin(a);
        ring(&c, (int64_t)lround(cx[i] - 17), (int64_t)lround(cy[i] - 25), 34, 50, 6, 30);
    }
    return c;
}

/* Step 10: a line of digits tilted by 25 degrees is read as one line, in order, each box around its
 * digit in the image as given; read as it lies, it falls apart into lines of one or two. So is one
 * cut tight to its ink, and a page of three lines tilted by 30 degrees either way. Lines tilted by 3
 * degrees, and lines of two digits, are left as they lie. */
static void test_digits__tilted_line_turned_level(void **state)
{
    (void)state;
    double cx[5], cy[5];
    for (int sign = -1; sign <= 1; sign += 2) {
        canvas c = tilted_rings(25.0 * sign, sign > 0 ? 60 : 280, cx, cy);
        nn_digits *d = find(&c, NULL);
        assert_int_equal(nn_digits_count(d), 5);
        assert_int_equal(nn_digits_line_count(d), 1);
        for (int64_t i = 0; i < 5; i++) {
            int64_t b[4];
            box(d, i, b);
            /* The box around the turned box: centred on the ring, at least as large as it. */
            const double bx = (double)b[0] + b[2] / 2.0, by = (double)b[1] + b[3] / 2.0;
            if (fabs(bx - cx[i]) > 4 || fabs(by - cy[i]) > 4 || b[2] < 33 || b[3] < 49 || b[2] > 70 ||
                b[3] > 70)
                fail_msg("tilt %d, digit %lld: box %lld %lld %lld %lld, ring centred at %.1f %.1f", 25 * sign,
                         (long long)i, (long long)b[0], (long long)b[1], (long long)b[2], (long long)b[3],
                         cx[i], cy[i]);
        }
        nn_digits_free(d);
        nn_digits_options o = NN_DIGITS_OPTIONS_INIT;
        o.deskew = 0;
        d = find(&c, &o);
        assert_true(nn_digits_line_count(d) >= 2);
        nn_digits_free(d);
        /* A program built with options version 3 (no `deskew`) gets the default. */
        nn_digits_options *v3 = malloc(offsetof(nn_digits_options, deskew));
        assert_non_null(v3);
        assert_int_equal(nn_digits_options_init(v3, 3), NN_OK);
        d = find(&c, v3);
        assert_int_equal(nn_digits_line_count(d), 1);
        nn_digits_free(d);
        free(v3);
        free(c.px);
    }
    /* Cut tight to the ink, the first and last rings on the image's edges, on noisy paper: what lies
     * beyond the image must be paper once turned, not the edge's ink or noise repeated into streaks. */
    for (int k = 0; k < 4; k++) {
        const double deg = (k & 1 ? -1 : 1) * (k < 2 ? 16.0 : 20.0);
        canvas big = tilted_rings(deg, deg > 0 ? 60 : 280, cx, cy);
        const int64_t x0 = (int64_t)lround(cx[0] - 17), x1 = (int64_t)lround(cx[4] - 17) + 34,
                      y0 = (int64_t)lround(fmin(cy[0], cy[4]) - 25),
                      y1 = (int64_t)lround(fmax(cy[0], cy[4]) - 25) + 50;
        canvas c = canvas_new(x1 - x0, y1 - y0, 230);
        for (int64_t y = 0; y < c.h; y++) memcpy(c.px + y * c.w, big.px + (y + y0) * big.w + x0, (size_t)c.w);
        /* A photo's paper is noisy: its edge repeated as it is would run into streaks of noise. */
        noise(&c, 12, 7 + (uint32_t)k);
        nn_digits *d = find(&c, NULL);
        if (nn_digits_count(d) != 5 || nn_digits_line_count(d) != 1)
            fail_msg("cut tight at %g degrees: %lld digits in %lld lines", deg, (long long)nn_digits_count(d),
                     (long long)nn_digits_line_count(d));
        nn_digits_free(d);
        free(c.px);
        free(big.px);
    }
    /* A page of six lines of eight, tilted by 30 degrees either way: glyphs of neighbouring lines
     * pair up at a slant too, some nearly level, but the page's lines are what it is turned by. */
    for (int sign = -1; sign <= 1; sign += 2) {
        const double a = 30.0 * sign * 3.14159265358979323846 / 180.0;
        canvas c = canvas_new(1000, 1000, 230);
        for (int line = 0; line < 6; line++)
            for (int i = 0; i < 8; i++) {
                const double x = 300 + 60 * i * cos(a) - 80 * line * sin(a),
                             y = 330 + 60 * i * sin(a) + 80 * line * cos(a);
                ring(&c, (int64_t)lround(x - 17), (int64_t)lround(y - 25), 34, 50, 6, 30);
            }
        nn_digits *d = find(&c, NULL);
        if (nn_digits_count(d) != 48 || nn_digits_line_count(d) != 6)
            fail_msg("a page tilted by %d degrees: %lld digits in %lld lines", 30 * sign,
                     (long long)nn_digits_count(d), (long long)nn_digits_line_count(d));
        for (int64_t i = 0; i < 48; i++) assert_int_equal(nn_digits_line(d, i), i / 8);
        nn_digits_free(d);
        free(c.px);
    }
    /* Two lines of two digits, both tilted by 20 degrees: no line of three, read as they lie. */
    {
        canvas c = canvas_new(400, 300, 230);
        const double a = 20.0 * 3.14159265358979323846 / 180.0;
        for (int line = 0; line < 2; line++)
            for (int i = 0; i < 2; i++)
                ring(&c, (int64_t)lround(60 + 72 * i * cos(a)),
                     (int64_t)lround(40 + 150 * line + 72 * i * sin(a)), 34, 50, 6, 30);
        nn_digits_options off = NN_DIGITS_OPTIONS_INIT;
        off.deskew = 0;
        nn_digits *on = find(&c, NULL), *as_is = find(&c, &off);
        assert_int_equal(nn_digits_count(on), nn_digits_count(as_is));
        for (int64_t i = 0; i < nn_digits_count(on); i++) {
            int64_t p[4], q[4];
            box(on, i, p);
            box(as_is, i, q);
            assert_memory_equal(p, q, sizeof p);
        }
        nn_digits_free(on);
        nn_digits_free(as_is);
        free(c.px);
    }
    /* 3 degrees: the reading of the image as it lies, box for box. */
    canvas c = tilted_rings(3.0, 60, cx, cy);
    nn_digits_options off = NN_DIGITS_OPTIONS_INIT;
    off.deskew = 0;
    nn_digits *on = find(&c, NULL), *as_is = find(&c, &off);
    assert_int_equal(nn_digits_count(on), 5);
    assert_int_equal(nn_digits_count(as_is), 5);
    for (int64_t i = 0; i < 5; i++) {
        int64_t a[4], b[4];
        box(on, i, a);
        box(as_is, i, b);
        assert_memory_equal(a, b, sizeof a);
        assert_int_equal(b[2], 34);
    }
    nn_digits_free(on);
    nn_digits_free(as_is);
    free(c.px);
}

/* Glyphs (nn__vision_segment()) of a canvas whose ink is where it is darker than 128. */
static void segment_canvas(const canvas *c, nn__glyphs *gs, nn__components *comps, uint8_t **ink)
{
    *ink = malloc((size_t)(c->w * c->h));
    assert_non_null(*ink);
    for (int64_t i = 0; i < c->w * c->h; i++) (*ink)[i] = c->px[i] < 128 ? 200 : 0;
    nn__ink in = {
        .ink = *ink, .level = 100, .paper = 0, .dark_on_light = 1, .adaptive = 0, .w = c->w, .h = c->h};
    assert_int_equal(nn__vision_components(comps, &in, c->w, c->h), NN_OK);
    assert_int_equal(nn__vision_segment(gs, comps, c->w, c->h, 4, 1, 1, 1.3), NN_OK);
}

static void segment_free(nn__glyphs *gs, nn__components *comps, uint8_t *ink)
{
    free(gs->g);
    free(gs->frag);
    free(gs->cuts);
    nn__vision_components_free(comps);
    free(ink);
}

/* A photo of a sheet that takes in the table beside it: the table is darker than the paper, so ink,
 * one blob along the image's edge with more ink than the digits. It is not writing, and must not
 * make H its own height (the digits were then dropped as specks, and the strip read as a 1). A digit
 * cropped tightly, touching the edge along its own length only, stays; so does a bar that is all
 * the image holds. */
static void test_digits__dark_edge_beyond_the_paper(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        canvas c = canvas_new(600, 450, 225);
        for (int i = 0; i < 5; i++) ring(&c, 150 + 60 * i, 200, 34, 50, 3, 30);
        if (k == 0) rect(&c, 0, 0, 40, c.h, 60);        /* the table at the left */
        if (k == 1) rect(&c, 0, c.h - 60, c.w, 60, 60); /* below */
        if (k == 2) rect(&c, 0, 0, 40, c.h, 60), rect(&c, 0, c.h - 60, c.w, 60, 60); /* both */
        nn__glyphs gs;
        nn__components comps;
        uint8_t *ink;
        segment_canvas(&c, &gs, &comps, &ink);
        assert_true(fabs(gs.height - 50) <= 1);
        assert_int_equal(gs.n, 5);
        for (int64_t i = 0; i < gs.n; i++) assert_true(gs.g[i].x0 >= 150 && gs.g[i].y1 - gs.g[i].y0 == 50);
        segment_free(&gs, &comps, ink);
        free(c.px);
    }
    /* A bar the whole height of a tight crop, beside rings as high: a 1, kept. */
    canvas c = canvas_new(400, 50, 225);
    rect(&c, 0, 0, 8, 50, 30);
    for (int i = 1; i < 5; i++) ring(&c, 30 + 72 * i, 0, 34, 50, 3, 30);
    nn__glyphs gs;
    nn__components comps;
    uint8_t *ink;
    segment_canvas(&c, &gs, &comps, &ink);
    assert_int_equal(gs.n, 5);
    segment_free(&gs, &comps, ink);
    free(c.px);
    /* A tight crop of a 7 and a 1, each along an edge, beside a dot: too little away from the edges
     * to measure H on, and both stay. */
    c = canvas_new(120, 100, 225);
    rect(&c, 0, 0, 60, 10, 30);    /* the 7's bar along the top */
    rect(&c, 45, 10, 10, 90, 30);  /* its stem to the bottom */
    rect(&c, 110, 0, 10, 100, 30); /* a 1 along the right */
    rect(&c, 80, 60, 8, 8, 30);    /* a dot */
    segment_canvas(&c, &gs, &comps, &ink);
    int big = 0;
    for (int64_t i = 0; i < gs.n; i++) big += gs.g[i].y1 - gs.g[i].y0 == 100;
    assert_int_equal(big, 2);
    segment_free(&gs, &comps, ink);
    free(c.px);
    /* Nothing but the bar: it is all there is to read. */
    c = canvas_new(20, 60, 225);
    rect(&c, 0, 0, 10, 60, 30);
    segment_canvas(&c, &gs, &comps, &ink);
    assert_int_equal(gs.n, 1);
    segment_free(&gs, &comps, ink);
    free(c.px);
}

/* Paper with a smooth grain (noise blurred over a few pixels, as a phone's noise reduction leaves
 * it), which the difference of neighbours hardly sees: blank, it has no digits (it was thresholded
 * into thousands of specks, then refused for max_digits); with a few digits in a large image, they
 * are found and the grain is not. */
static void grainy(canvas *c, uint32_t seed)
{
    noise(c, 180, seed);
    blur(c, 2);
    blur(c, 2);
    noise(c, 3, seed + 1);
}

static void test_digits__grainy_paper(void **state)
{
    (void)state;
    canvas c = canvas_new(900, 700, 200);
    grainy(&c, 5);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 0);
    nn_digits_free(d);
    free(c.px);
    c = canvas_new(900, 700, 200);
    for (int i = 0; i < 5; i++) ring(&c, 300 + 72 * i, 320, 34, 50, 6, 40);
    grainy(&c, 5);
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 5);
    for (int64_t i = 0; i < 5; i++) {
        int64_t b[4];
        box(d, i, b);
        assert_true(llabs(b[0] - (300 + 72 * i)) <= 3 && llabs(b[1] - 320) <= 3 && b[3] >= 45 && b[3] <= 55);
    }
    nn_digits_free(d);
    free(c.px);
    /* Upright strokes every 8 pixels, a tight crop of 1s: most pixels 4 apart along a row straddle a
     * stroke's edge, which is no grain (along the columns they do not). */
    c = canvas_new(52, 40, 230);
    for (int i = 0; i < 6; i++) rect(&c, 4 + 8 * i, 4, 3, 32, 20);
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 6);
    nn_digits_free(d);
    free(c.px);
    /* The same under a vignette (uneven light): the grain's tail on both sides of the paper is
     * heavier than the few digits' ink, unless the polarity is judged beyond the grain. */
    c = canvas_new(3000, 2000, 212);
    for (int i = 0; i < 5; i++) ring(&c, 1300 + 72 * i, 870, 40, 60, 6, 45);
    grainy(&c, 7);
    for (int64_t y = 0; y < c.h; y++)
        for (int64_t x = 0; x < c.w; x++) {
            const double dx = (double)x / (double)c.w - 0.4, dy = (double)y / (double)c.h - 0.45,
                         r = fmin(sqrt(dx * dx + dy * dy) / 0.7, 1);
            c.px[y * c.w + x] = (uint8_t)lrint(c.px[y * c.w + x] * (1 - 0.45 * r * r));
        }
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 5);
    nn_digits_free(d);
    free(c.px);
}


/* A straight line from (x0, y0) to (x1, y1), t pixels thick, of value v. */
static void line(canvas *c, double x0, double y0, double x1, double y1, double t, uint8_t v)
{
    const double len = hypot(x1 - x0, y1 - y0);
    for (int64_t y = 0; y < c->h; y++)
        for (int64_t x = 0; x < c->w; x++) {
            const double px = x + 0.5 - x0, py = y + 0.5 - y0;
            const double along = (px * (x1 - x0) + py * (y1 - y0)) / len;
            const double across = fabs(px * (y1 - y0) - py * (x1 - x0)) / len;
            if (along >= 0 && along <= len && across <= t / 2) c->px[y * c->w + x] = v;
        }
}

/* Five rings 34 x 50 (stroke 5) from x = 40, 60 apart, at y = 55 in a 360 x 160 canvas: each found
 * where drawn. */
static canvas five_rings_canvas(void)
{
    canvas c = canvas_new(360, 160, 225);
    for (int i = 0; i < 5; i++) ring(&c, 40 + 60 * i, 55, 34, 50, 5, 30);
    return c;
}

static void expect_five_rings(const canvas *c)
{
    nn_digits *d = find(c, NULL);
    assert_int_equal(nn_digits_count(d), 5);
    for (int64_t i = 0; i < 5; i++) {
        int64_t b[4];
        box(d, i, b);
        assert_true(llabs(b[0] + b[2] / 2 - (57 + 60 * i)) <= 4 && llabs(b[1] + b[3] / 2 - 80) <= 4);
        assert_true(b[3] >= 46 && b[3] <= 58);
    }
    nn_digits_free(d);
}

/* A crease, a fold or a pen line from edge to edge joins the digits it crosses into one blob
 * longer than a digit, which was dropped as a line, digits and all (the number read short, with
 * nothing marked). The line is thinner than the strokes: it is taken out, and the digits stay. */
static void test_digits__thin_line_across_digits_taken_out(void **state)
{
    (void)state;
    /* One line at 35 degrees from upright through the second and third rings, 1 and 2 pixels
     * thick; two lines meeting below the digits; a shallow one, 60 degrees from upright. */
    const double lines[4][5] = {
        {120, 0, 232, 160, 1}, {120, 0, 232, 160, 2}, {200, 0, 300, 160, 1}, {20, 0, 297, 160, 1}};
    for (int k = 0; k < 4; k++) {
        canvas c = five_rings_canvas();
        line(&c, lines[k][0], lines[k][1], lines[k][2], lines[k][3], lines[k][4], 120);
        if (k == 2) line(&c, 330, 0, 300, 160, 1, 120);
        expect_five_rings(&c);
        free(c.px);
    }
    /* A line beside the digits is still no digit, nor are its pieces; nor is a pen line thickened
     * over its first quarter (the thick stretch was kept and read as a 1). */
    for (int k = 0; k < 2; k++) {
        canvas c = five_rings_canvas();
        line(&c, 330, 0, 359, 160, 1, 120);
        if (k == 1) line(&c, 330, 0, 337, 40, 10, 120);
        expect_five_rings(&c);
        free(c.px);
    }
}

/* A page with a title of four rings 120 pixels high at its top. */
static canvas title_canvas(void)
{
    canvas c = canvas_new(560, 330, 230);
    for (int i = 0; i < 4; i++) ring(&c, 40 + 130 * i, 20, 90, 120, 12, 25);
    return c;
}

/* A title three times the size of the digits under it made H its own height, and the two lines of
 * small digits, lower than a digit may be, were dropped, or each pair one above the other stacked
 * into one glyph (10 glyphs where 16 are drawn). They are read on their own, without what a rule
 * leaves cut short at the edge of their box, and with a model only where it reads them surely; a
 * row of solid dots, of small blobs in the digits' rows, or of the pieces of broken digits, is no
 * such line. */
static void test_digits__small_lines_under_a_title(void **state)
{
    (void)state;
    canvas c = title_canvas();
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < 6; i++) ring(&c, 40 + 45 * i, 180 + 63 * l, 26, 35, 4, 25);
    for (int i = 0; i < 5; i++) rect(&c, 340 + 36 * i, 290, 18, 20, 25);
    const float surely_0[10] = {10.0f};
    nn_model *m = constant_logits_model(10, surely_0);
    for (int k = 0; k < 2; k++) {
        nn_digits *d = NULL;
        if (k == 0)
            d = find(&c, NULL);
        else
            assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, NULL), NN_OK);
        assert_int_equal(nn_digits_count(d), 16);
        assert_int_equal(nn_digits_line_count(d), 3);
        for (int64_t i = 0; i < 16; i++) {
            const int64_t line = i < 4 ? 0 : i < 10 ? 1 : 2, at = i < 4 ? i : (i - 4) % 6;
            int64_t b[4];
            box(d, i, b);
            assert_int_equal(nn_digits_line(d, i), line);
            if (line == 0)
                assert_true(labs(b[0] - (40 + 130 * at)) <= 2 && labs(b[3] - 120) <= 2);
            else
                assert_true(labs(b[0] - (40 + 45 * at)) <= 2 && labs(b[1] - (180 + 63 * (line - 1))) <= 2 &&
                            labs(b[3] - 35) <= 2);
        }
        nn_digits_free(d);
    }
    nn_model_free(m);
    /* A model that reads every glyph as a 0 at 0.6 does not read the small line surely enough: a
     * label's letters read so. */
    const float unsure_0[10] = {(float)log(13.5)};
    m = constant_logits_model(10, unsure_0);
    nn_digits *d = NULL;
    assert_int_equal(nn_digits_read(&d, m, c.px, c.w, c.h, c.w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), 4);
    nn_digits_free(d);
    nn_model_free(m);
    free(c.px);
    /* Small blobs in the rows of the digits (a printed label before them, the pieces of a broken
     * digit) are no line of their own: they stay out. */
    c = canvas_new(560, 160, 230);
    for (int i = 0; i < 4; i++) ring(&c, 20 + 40 * i, 105, 26, 35, 4, 25);
    for (int i = 0; i < 3; i++) ring(&c, 200 + 120 * i, 20, 90, 120, 12, 25);
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 3);
    nn_digits_free(d);
    free(c.px);
    /* One small line with a table's rule down through it: cut short by the box read again, the rule
     * is no digit there. */
    c = title_canvas();
    for (int i = 0; i < 6; i++) ring(&c, 40 + 45 * i, 180, 26, 35, 4, 25);
    rect(&c, 162, 0, 3, 330, 25);
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 10);
    nn_digits_free(d);
    free(c.px);
    /* Nor are the pieces of a line of digits each broken across in three (a faint pen): merged, the
     * digits are whole again. */
    c = title_canvas();
    for (int i = 0; i < 4; i++) {
        ring(&c, 40 + 130 * i, 190, 90, 120, 12, 25);
        rect(&c, 40 + 130 * i, 230, 90, 4, 230);
        rect(&c, 40 + 130 * i, 270, 90, 4, 230);
    }
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 8);
    assert_int_equal(nn_digits_line_count(d), 2);
    nn_digits_free(d);
    free(c.px);
}

/* The part of the circle about (cx, cy) of radius r, t wide, within half of cy and on the left of
 * cx (side -1: a '(') or its right (side 1: a ')'). */
static void arc(canvas *c, double cx, double cy, double r, double half, int side, double t, uint8_t v)
{
    for (int64_t y = 0; y < c->h; y++)
        for (int64_t x = 0; x < c->w; x++) {
            const double ex = x + 0.5 - cx, ey = y + 0.5 - cy;
            if (fabs(sqrt(ex * ex + ey * ey) - r) <= t / 2 && fabs(ey) <= half && ex * side > 0)
                c->px[y * c->w + x] = v;
        }
}

/* What c reads as, found (m NULL) or read with m: n items on one line, the left edge of item i at
 * x0[i] within 4 pixels when x0 is given. */
static void expect_items(const canvas *c, nn_model *m, int64_t n, const int64_t *x0)
{
    nn_digits *d = NULL;
    if (!m)
        d = find(c, NULL);
    else
        assert_int_equal(nn_digits_read(&d, m, c->px, c->w, c->h, c->w, NULL), NN_OK);
    assert_int_equal(nn_digits_count(d), n);
    assert_int_equal(nn_digits_line_count(d), 1);
    for (int64_t i = 0; x0 && i < n; i++) {
        int64_t b[4];
        box(d, i, b);
        assert_true(labs(b[0] - x0[i]) <= 4);
    }
    nn_digits_free(d);
}

/* The slashes of a date and the parentheses around a phone number's area code were read as 1s (a
 * slash is a 1 leaning over): drawn through the line's band, above and below its digits, as thin
 * strokes leaning or bowed, they are no digits. A digit as tall but upright and straight (a 1
 * written large), one that is no thin stroke (a large 0), and a slash no taller than the digits
 * stay. */
static void test_digits__slashes_and_parentheses_dropped(void **state)
{
    (void)state;
    const float surely_0[10] = {10.0f};
    nn_model *m = constant_logits_model(10, surely_0);
    for (int k = 0; k < 2; k++) {
        canvas c = canvas_new(720, 150, 230);
        int64_t want[7];
        if (k == 0) { /* 00/00 (000) */
            const int64_t xs[7] = {20, 75, 175, 230, 335, 390, 445};
            for (int i = 0; i < 7; i++) ring(&c, xs[i], 40, 40, 60, 7, 25), want[i] = xs[i];
            line(&c, 122, 112, 164, 28, 7, 25);
            arc(&c, 373.5, 70, 70, 42, -1, 7, 25);
            arc(&c, 443.5, 70, 70, 42, 1, 7, 25);
        } else { /* a 1 written large, a 0 written large, a slash of the digits' height */
            const int64_t xs[4] = {20, 75, 300, 420};
            for (int i = 0; i < 4; i++) ring(&c, xs[i], 40, 40, 60, 7, 25);
            rect(&c, 140, 28, 8, 84, 25);
            ring(&c, 190, 28, 50, 84, 7, 25);
            line(&c, 360, 98, 380, 42, 7, 25);
            const int64_t all[7] = {20, 75, 140, 190, 300, 360, 420};
            memcpy(want, all, sizeof want);
        }
        for (int r = 0; r < 2; r++) expect_items(&c, r ? m : NULL, 7, want);
        free(c.px);
    }
    nn_model_free(m);
}

/* A date's slashes drawn no taller than its digits (`dd/dd/dddd`, leaning by 30 degrees) go, told
 * from 1s by their places, also when a model reads them as 1s; the same strokes upright (1s), leaning
 * between groups that make no date (`ddd/d/dddd`), or read as another digit, stay. */
static void test_digits__date_slashes_as_high_as_digits_dropped(void **state)
{
    (void)state;
    const float surely_1[10] = {0, 10.0f}, surely_0[10] = {10.0f};
    nn_model *ones = constant_logits_model(10, surely_1), *zeros = constant_logits_model(10, surely_0);
    for (int k = 0; k < 3; k++) {
        canvas c = canvas_new(640, 150, 230);
        const int groups[3][3] = {{2, 2, 4}, {2, 2, 4}, {3, 1, 4}};
        int64_t x = 20, rings[8], n = 0;
        for (int g = 0; g < 3; g++) {
            for (int i = 0; i < groups[k][g]; i++, x += 55) {
                ring(&c, x, 40, 40, 60, 7, 25);
                rings[n++] = x;
            }
            if (g < 2) { /* a stroke as high as the rings, upright or leaning by 30 degrees */
                const double lean = k == 1 ? 0 : 60 * tan(30 * 3.14159265358979 / 180);
                line(&c, (double)x + 5, 100, (double)x + 5 + lean, 40, 7, 25);
                x += 35 + (int64_t)lean;
            }
        }
        nn_model *const models[3] = {NULL, ones, zeros}; /* found, read as 1s, read as 0s */
        for (int r = 0; r < 3; r++) {
            const int gone = k == 0 && r < 2;
            expect_items(&c, models[r], gone ? 8 : 10, gone ? rings : NULL);
        }
        if (k == 0) { /* the rings read as 0s and the strokes as 1s: 00/00/0000 is no date */
            canvas one = canvas_new(200, 150, 230);
            line(&one, 60, 100, 60 + 60 * tan(30 * 3.14159265358979 / 180), 40, 7, 25);
            nn_digits *d = find(&c, NULL), *d1 = find(&one, NULL);
            nn_model *rz = ring_model(nn_digits_image(d, 0), nn_digits_image(d1, 0));
            nn_digits_free(d);
            nn_digits_free(d1);
            free(one.px);
            expect_items(&c, rz, 10, NULL);
            nn_model_free(rz);
        }
        free(c.px);
    }
    /* `01/01/2020` with its slashes a third taller than the digits, which step 11 leaves out as such,
     * and its 1s leaning by 30 degrees: the 1s stay, though they part the rest as a date's slashes. */
    canvas c = canvas_new(800, 150, 230);
    const double lean = 60 * tan(30 * 3.14159265358979 / 180), tall = 100 * tan(30 * 3.14159265358979 / 180);
    int64_t x = 20, want[8], n = 0;
    for (int g = 0; g < 2; g++) {
        ring(&c, x, 40, 40, 60, 7, 25);
        want[n++] = x;
        line(&c, (double)x + 60, 100, (double)x + 60 + lean, 40, 7, 25); /* a 1 */
        want[n++] = x + 56;
        line(&c, (double)x + 110 + lean, 120, (double)x + 110 + lean + tall, 20, 7, 25); /* a slash */
        x += 160 + (int64_t)(lean + tall);
    }
    for (int i = 0; i < 4; i++, x += 55) {
        ring(&c, x, 40, 40, 60, 7, 25);
        want[n++] = x;
    }
    for (int r = 0; r < 2; r++) expect_items(&c, r ? ones : NULL, 8, want);
    free(c.px);
    nn_model_free(ones);
    nn_model_free(zeros);
}

/* A printed date's slashes lean less than the 22 degrees asked of a written one (DejaVu Sans's by
 * 17.5), but are the same glyph twice, leaning more than the digits: a pair alike, leaning by 17
 * degrees beside upright digits or beside digits slanted by 4 degrees (their axes lean by about
 * 7.5), goes; the pair unlike in lean and width (17 and 12.5 degrees) or in height and width, or
 * beside digits slanted by 6 degrees (their axes within 6 degrees of the slashes': an italic font,
 * whose 1s lean so), stays. */
static void test_digits__printed_date_slashes_dropped(void **state)
{
    (void)state;
    const float surely_1[10] = {0, 10.0f};
    nn_model *ones = constant_logits_model(10, surely_1);
    const double slant[5] = {0, 0, 0, 4, 6}; /* the rings' slant, degrees */
    for (int k = 0; k < 5; k++) {
        canvas c = canvas_new(700, 150, 230);
        const int groups[3] = {2, 2, 4};
        int64_t x = 20, rings[8], n = 0;
        for (int g = 0; g < 3; g++) {
            for (int i = 0; i < groups[g]; i++, x += 60) {
                slanted_ring(&c, x, 40, 40, 60, 7, tan(slant[k] * 3.14159265358979 / 180), 25);
                rings[n++] = x;
            }
            if (g < 2) { /* the second slash at another lean (k 1) or 10 pixels taller (k 2) */
                const double deg = k == 1 && g == 1 ? 12.5 : 17, top = k == 2 && g == 1 ? 30 : 40;
                const double lean = (100 - top) * tan(deg * 3.14159265358979 / 180);
                line(&c, (double)x + 5, 100, (double)x + 5 + lean, top, 7, 25);
                x += 40 + (int64_t)lean;
            }
        }
        const int gone = k == 0 || k == 3;
        for (int r = 0; r < 2; r++) expect_items(&c, r ? ones : NULL, gone ? 8 : 10, gone ? rings : NULL);
        free(c.px);
    }
    nn_model_free(ones);
}

/* A percent sign printed as three pieces (a small ring at the top of the digits' band, a stroke
 * leaning forward as high as the digits, a small ring at the band's bottom) was read as `010`: it
 * goes. Both rings halfway up the band, an upright stroke, one lower, or rings at the band's edges
 * but their centres a third of it apart (small 0s written high and low), and the three stay. */
static void test_digits__percent_sign_dropped(void **state)
{
    (void)state;
    for (int k = 0; k < 5; k++) {
        canvas c = canvas_new(360, 150, 230);
        const int64_t rings[2] = {20, 80};
        const double top = k == 3 ? 56 : 40; /* the stroke's */
        for (int i = 0; i < 2; i++) slanted_ring(&c, rings[i], 40, 40, 60, 7, 0, 25);
        /* (halfway up, the rings are moved out, clear of the stroke) */
        const int64_t x = 140, up = k == 1 ? 50 : k == 4 ? 46 : 40, down = k == 1 ? 50 : k == 4 ? 62 : 68,
                      out = k == 1 ? 6 : 0;
        ring(&c, x - 8 - out, up, 20, 32, 5, 25);
        if (k == 2) line(&c, x + 17, 100, x + 17, 40, 5, 25); /* upright */
        else line(&c, x + 2, 100, x + 2 + 28 * (100 - top) / 60, top, 5, 25);
        ring(&c, x + 24 + out, down, 20, 32, 5, 25);
        expect_items(&c, NULL, k == 0 ? 2 : 5, k == 0 ? rings : NULL);
        free(c.px);
    }
}

/* What find() gives for c: n digits, the left edge of digit i at x0[i] (within 2 pixels). */
static void expect_lefts(const canvas *c, int64_t n, const int64_t *x0)
{
    nn_digits *d = find(c, NULL);
    assert_int_equal(nn_digits_count(d), n);
    for (int64_t i = 0; i < n; i++) {
        int64_t b[4];
        box(d, i, b);
        assert_true(labs(b[0] - x0[i]) <= 2);
    }
    nn_digits_free(d);
}

/* Digits 200 pixels high in a pen 3 pixels wide (a fine liner, a close photo): the bar of a 7, 40
 * times as long as thick, was taken out as a ruled line, and a 1 holding less ink than 0.02 H^2 was
 * dropped as a speck. A line as long as the digits' row under them still goes. */
static void test_digits__fine_pen_strokes_kept(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        canvas c = canvas_new(600, 300, 230);
        line(&c, 40, 50, 160, 50, 3, 25); /* a 7 */
        line(&c, 158, 50, 80, 250, 3, 25);
        line(&c, 260, 50, 240, 250, 3, 25); /* a 1 */
        if (k < 2) ring(&c, 330, 50, 120, 200, 3, 25); /* a 0 */
        if (k == 1) line(&c, 10, 252, 590, 252, 3, 25);
        nn_digits *d = find(&c, NULL);
        assert_int_equal(nn_digits_count(d), k < 2 ? 3 : 2); /* 17 alone: the 7's bar is no pen */
        const int64_t x0[3] = {40, 240, 330}, w[3] = {120, 20, 120};
        for (int64_t i = 0; i < nn_digits_count(d); i++) {
            int64_t b[4];
            box(d, i, b);
            assert_true(labs(b[0] - x0[i]) <= 4 && labs(b[2] - w[i]) <= 6 && b[3] >= 190 && b[3] <= 206);
        }
        nn_digits_free(d);
        free(c.px);
    }
}

/* A 0 drawn as a rectangle with a dot at its centre (Jura's and some other fonts' dotted 0) was taken
 * for a form's box holding a digit: the rectangle went and the dot was read. A box's digit spreads
 * over a third of its depth or more: a dot is none, and the rectangle stays, one glyph with its
 * dot. A form's box around a 0 still goes. */
static void test_digits__dotted_zero_is_no_box(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        canvas c = canvas_new(200, 160, 230);
        const int64_t pen = k == 0 ? 6 : 2;
        rect(&c, 60, 30, 70, pen, 20); /* the rectangle, 70 x 90 */
        rect(&c, 60, 120 - pen, 70, pen, 20);
        rect(&c, 60, 30, pen, 90, 20);
        rect(&c, 130 - pen, 30, pen, 90, 20);
        if (k == 0) rect(&c, 90, 70, 10, 10, 20); /* the dot */
        else ring(&c, 75, 40, 40, 70, 7, 25);      /* a 0 in a form's box */
        nn_digits *d = find(&c, NULL);
        assert_int_equal(nn_digits_count(d), 1);
        int64_t b[4];
        box(d, 0, b);
        if (k == 0) assert_true(labs(b[0] - 60) <= 2 && labs(b[2] - 70) <= 3 && labs(b[3] - 90) <= 3);
        else assert_true(labs(b[0] - 75) <= 2 && labs(b[2] - 40) <= 3 && labs(b[3] - 70) <= 3);
        nn_digits_free(d);
        free(c.px);
    }
}

/* A form's separate boxes, each a little wider than the digit in it, drawn in a pen finer than the
 * digits': their sides are lines no longer than 1.2 H, as a fine pen's 7 bar is, but the digits'
 * pen is no fine one, so the image is not read again with them left in (the boxes then joined the
 * digits and read as 1s). */
static void test_digits__form_boxes_around_ordinary_digits(void **state)
{
    (void)state;
    canvas c = canvas_new(500, 160, 230);
    for (int i = 0; i < 4; i++) {
        const int64_t x = 20 + 110 * i;
        rect(&c, x, 30, 70, 2, 25);
        rect(&c, x, 118, 70, 2, 25);
        rect(&c, x, 30, 2, 90, 25);
        rect(&c, x + 68, 30, 2, 90, 25);
        ring(&c, x + 15, 40, 40, 70, 7, 25);
    }
    expect_lefts(&c, 4, (const int64_t[]){35, 145, 255, 365});
    free(c.px);
}

/* A stamp on an envelope, a solid patch three times the digits' height, holds more ink than they
 * do: H was its height and the digits, too low, were dropped (nothing read). Solid patches do not
 * count for H, and one higher than a digit is none. */
static void test_digits__solid_patch_not_a_digit(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        canvas c = canvas_new(900, 520, 230);
        for (int i = 0; i < 2; i++) ring(&c, 300 + 50 * i, 300, 30, 40, 5, 25);
        rect(&c, 700, 60, 100, k ? 70 : 120, 40);
        expect_lefts(&c, 2, (const int64_t[]){300, 350});
        free(c.px);
    }
}

/* A ring drawn around digits (a circled answer) held more ink than they and made H its height: the
 * digits inside were dropped and the ring read as a 0. It is no digit; a ring beside the digits
 * that holds none is one (a 0), and so are a 0 beside a ring holding a digit, a 0 with a blot in it
 * and an outline 8. */
static void test_digits__ring_around_digits_not_a_digit(void **state)
{
    (void)state;
    canvas c = canvas_new(600, 200, 230);
    ring(&c, 20, 40, 220, 120, 4, 25);
    ring(&c, 80, 70, 40, 60, 6, 25);
    ring(&c, 140, 70, 40, 60, 6, 25);
    ring(&c, 300, 70, 40, 60, 6, 25);
    ring(&c, 380, 60, 70, 80, 4, 25);
    ring(&c, 500, 70, 50, 60, 5, 25); /* a 0 with a blot inside, a third of its height */
    rect(&c, 518, 90, 14, 21, 25);
    expect_lefts(&c, 5, (const int64_t[]){80, 140, 300, 380, 500});
    free(c.px);
    /* An outline font's 8: its outline holds the outlines of its holes as a ring holds digits, but
     * pinches at the waist; it stays, the whole 8's height. */
    c = canvas_new(300, 220, 230);
    for (int i = 0; i < 2; i++) ring(&c, 40 + 90 * i, 20, 60, 84, 4, 25), ring(&c, 40 + 90 * i, 98, 60, 84, 4, 25);
    for (int i = 0; i < 2; i++) ring(&c, 54 + 90 * i, 34, 32, 56, 4, 25), ring(&c, 54 + 90 * i, 112, 32, 56, 4, 25);
    nn_digits *d = find(&c, NULL);
    int tall = 0;
    for (int64_t i = 0; i < nn_digits_count(d); i++) {
        int64_t b[4];
        box(d, i, b);
        tall += labs(b[1] - 20) <= 2 && labs(b[3] - 162) <= 4;
    }
    assert_int_equal(tall, 2);
    nn_digits_free(d);
    free(c.px);
}

/* A barcode beside a number was read as a line of sure 1s. Its bars are solid, upright, level to a
 * pixel and close together; written 1s (tops a few pixels apart) and printed ones (further apart)
 * stay, however many. */
static void test_digits__barcode_not_ones(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        canvas c = canvas_new(900, 200, 230);
        for (int i = 0; i < 2; i++) ring(&c, 40 + 50 * i, 60, 30, 50, 5, 25);
        int64_t x = 200;
        for (int i = 0; i < (k == 0 ? 24 : 12); i++) {
            const int64_t bw = k == 0 ? 2 + (i * 7) % 5 : 8, top = k == 1 ? 40 + (i * 5) % 9 : 40;
            rect(&c, x, top, bw, 80, 25);
            x += bw + (k == 2 ? 30 : 3 + (i * 3) % 4);
        }
        nn_digits *d = find(&c, NULL);
        assert_int_equal(nn_digits_count(d), k == 0 ? 2 : 14);
        nn_digits_free(d);
        free(c.px);
    }
}

/* The table in a corner of a photo of a sheet turned a little: a solid wedge along the image's
 * edge, shorter than the strips dropped as what lies beyond the paper, was read as a sure 1 before
 * the number. A 1 cropped tightly, flush along the edge, keeps its width and stays. */
static void test_digits__table_wedge_in_a_corner(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        canvas c = five_rings_canvas();
        for (int64_t y = 0; y < c.h; y++)
            for (int64_t x = 0; x < c.w; x++) {
                /* 20 x 100 in the bottom left corner; 18 x 60 in the top left; 60 x 16 along the
                 * top at the right. */
                const int in = k == 0 ? x < 20.0 * (y - 60) / 100.0
                               : k == 1 ? x < 18.0 * (60 - y) / 60.0
                                        : y < 16.0 * (x - 300) / 60.0;
                if (in) c.px[y * c.w + x] = 60;
            }

        expect_five_rings(&c);
        free(c.px);
    }
    canvas c = canvas_new(300, 50, 225);
    rect(&c, 0, 0, 8, 50, 30);
    for (int i = 1; i < 5; i++) ring(&c, 50 * i, 0, 34, 50, 5, 30);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 5);
    nn_digits_free(d);
    free(c.px);
    /* A marker's 7 whose bar lies along the top edge fills much of its box and tapers from its
     * stem, but there is paper between the edge and its stem: it stays. */
    c = canvas_new(300, 90, 225);
    rect(&c, 20, 0, 44, 14, 30);
    line(&c, 58, 8, 44, 88, 13, 30);
    for (int i = 1; i < 4; i++) ring(&c, 40 + 60 * i, 10, 36, 70, 12, 30);
    d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 4);
    nn_digits_free(d);
    free(c.px);
}

/* A single box (a cheque's amount, a form's one field): its two sides were read as 1s beside the
 * digits, being no row of three. A side at the two lines' same ends is a box's corner, and goes; a
 * 1 touching both rules inside the box does not lie at their ends, and stays. */
static void test_digits__single_box_sides_taken_out(void **state)
{
    (void)state;
    for (int thick = 1; thick <= 3; thick++) {
        canvas c = canvas_new(400, 150, 0);
        rect(&c, 40, 30, 320, thick, 200);
        rect(&c, 40, 110, 320, thick, 200);
        rect(&c, 40, 30, thick, 80 + thick, 200);
        rect(&c, 360 - thick, 30, thick, 80 + thick, 200);
        for (int i = 0; i < 4; i++) ring(&c, 80 + 60 * i, 45, 34, 50, 6, 200);
        rect(&c, 330, 30, 3, 80 + thick, 200); /* a 1 from rule to rule, inside the box */
        int64_t cleared;
        rules_on(&c, &cleared);
        for (int64_t y = 40; y < 100; y++) {
            assert_int_equal(c.px[y * c.w + 40], 0);
            assert_int_equal(c.px[y * c.w + 359], 0);
            assert_int_equal(c.px[y * c.w + 331], 200);
        }
        for (int i = 0; i < 4; i++) assert_int_equal(c.px[70 * c.w + 80 + 60 * i + 2], 200); /* the rings */
        free(c.px);
    }
}

/* A form's row of equal boxes, a digit inside each: the boxes' top and bottom rules are taken out as
 * lines, and their sides too, since each ends at a rule at both ends (they are no squared page's:
 * the next side is further than half their length, and they stop short of the image's edge). They
 * were read as 1s. A fine pen's 1 standing on an underline, as thin and as tall, rests on one line
 * only, and stays. */
/* Lines written close together (1.1 H apart): a digit touching the one below it made one blob two
 * lines high, read as one digit, and the two lines ran together. It is cut between the lines, along
 * the boundary that parts the fewest strokes. A tall digit within one line whose neighbours sit
 * higher and lower (a wavering line) is not cut: their rows overlap more than two lines' do. */
static void test_digits__touching_line_below_cut(void **state)
{
    (void)state;
    canvas c = canvas_new(460, 220, 225);
    for (int i = 0; i < 5; i++) {
        ring(&c, 60 + 70 * i, 40, 34, 50, 4, 30);
        ring(&c, 60 + 70 * i, 95, 34, 50, 4, 30);
    }
    rect(&c, 60 + 15, 86, 4, 12, 30);      /* the first pair joined by a stroke */
    rect(&c, 60 + 140 + 6, 88, 22, 8, 30); /* the third by a bar across the gap */
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 10);
    assert_int_equal(nn_digits_line_count(d), 2);
    for (int64_t i = 0; i < 10; i++) {
        int64_t b[4];
        box(d, i, b);
        assert_int_equal(nn_digits_line(d, i), i / 5);
        assert_true(llabs(b[0] - (60 + 70 * (i % 5))) <= 2);
        assert_true(llabs(b[1] - (i < 5 ? 40 : 95)) <= 6 && b[3] >= 44 && b[3] <= 56);
    }
    nn_digits_free(d);
    free(c.px);
}

/* One line: a digit 1.7 H high between a neighbour level with its top and one level with its
 * bottom (a wavering line) is not cut. */
static void test_digits__tall_digit_in_a_wavering_line_kept(void **state)
{
    (void)state;
    canvas c = canvas_new(400, 300, 225);
    ring(&c, 60, 100, 34, 50, 4, 30);
    ring(&c, 130, 100, 34, 85, 4, 30);
    ring(&c, 200, 135, 34, 50, 4, 30);
    ring(&c, 270, 135, 34, 50, 4, 30);
    nn_digits *d = find(&c, NULL);
    assert_int_equal(nn_digits_count(d), 4);
    assert_int_equal(nn_digits_line_count(d), 1);
    int64_t b[4];
    box(d, 1, b);
    assert_true(b[1] <= 100 && b[1] + b[3] >= 185);
    nn_digits_free(d);
    free(c.px);
}

static void test_digits__form_boxes_taken_out(void **state)
{
    (void)state;
    for (int thick = 1; thick <= 3; thick++) {
        canvas c = canvas_new(550, 200, 0);
        rect(&c, 49, 49, 5 * 90 + thick, thick, 200);
        rect(&c, 49, 149, 5 * 90 + thick, thick, 200);
        for (int i = 0; i <= 5; i++) rect(&c, 49 + 90 * i, 49, thick, 100 + thick, 200);
        for (int i = 0; i < 5; i++) ring(&c, 72 + 90 * i, 66, 44, 66, 7, 200);
        int64_t cleared;
        rules_on(&c, &cleared);
        assert_true(cleared > 0);
        for (int i = 0; i <= 5; i++)
            for (int64_t y = 60; y < 140; y++) assert_int_equal(c.px[y * c.w + 49 + 90 * i], 0);
        for (int i = 0; i < 5; i++) assert_int_equal(c.px[99 * c.w + 72 + 90 * i + 2], 200); /* the rings */
        free(c.px);
    }
    /* A 1 touching both rules of its box, and 1s filling a ruled page's lines 52 apart: no row of
     * equally spaced sides, so they stay. */
    canvas b = canvas_new(550, 200, 0);
    rect(&b, 49, 49, 5 * 90 + 3, 3, 200);
    rect(&b, 49, 149, 5 * 90 + 3, 3, 200);
    for (int i = 0; i <= 5; i++) rect(&b, 49 + 90 * i, 49, 3, 103, 200);
    rect(&b, 49 + 90 + 44, 49, 3, 103, 200); /* the 1, in the second box */
    for (int i = 2; i < 5; i++) ring(&b, 72 + 90 * i, 66, 44, 66, 7, 200);
    int64_t cleared;
    rules_on(&b, &cleared);
    for (int64_t y = 60; y < 140; y++) assert_int_equal(b.px[y * b.w + 49 + 90 + 45], 200);
    for (int i = 0; i <= 5; i++) assert_int_equal(b.px[99 * b.w + 49 + 90 * i + 1], 0);
    free(b.px);
    b = canvas_new(300, 200, 0);
    for (int k = 0; k < 3; k++) rect(&b, 0, 30 + 52 * k, 300, 2, 200);
    rect(&b, 60, 82, 3, 52, 200);
    rect(&b, 200, 82, 3, 52, 200);
    ring(&b, 120, 84, 34, 48, 5, 200);
    rules_on(&b, &cleared);
    assert_true(cleared > 0);
    for (int64_t y = 90; y < 126; y++) assert_true(b.px[y * b.w + 61] == 200 && b.px[y * b.w + 201] == 200);
    free(b.px);

    canvas c = canvas_new(550, 200, 0);
    rect(&c, 20, 149, 500, 2, 200);
    rect(&c, 60, 49, 3, 100, 200); /* a 1 on the line, 100 high */
    for (int i = 1; i < 5; i++) ring(&c, 72 + 90 * i, 83, 44, 66, 7, 200);
    rules_on(&c, &cleared);
    assert_true(cleared > 0);
    for (int64_t y = 60; y < 140; y++) assert_int_equal(c.px[y * c.w + 61], 200);
    free(c.px);
}

/* A form's boxes printed in a line thicker than a 24th of their length (a comb field of 70-pixel
 * boxes in a 5-pixel rule, or separate boxes as long): the separate boxes' rules were too short to
 * be lines, and the sides of both too thick, and every side was read as a 1 (`18131017121` for
 * `83072`). A short lying run is a box's rule when sides go the same way from both its ends to
 * another such run, and a side framed by two rules counts from 6 times as long as thick. The
 * same boxes with a 1 touching both rules: it stays. */
static void test_digits__thick_form_boxes_taken_out(void **state)
{
    (void)state;
    for (int gap = 0; gap <= 20; gap += 20) {
        canvas c = canvas_new(500, 140, 230);
        for (int i = 0; i < 5; i++) {
            const int64_t x = 20 + (70 + gap) * i;
            rect(&c, x, 30, 75, 5, 25);
            rect(&c, x, 95, 75, 5, 25);
            rect(&c, x, 30, 5, 70, 25);
            rect(&c, x + 70, 30, 5, 70, 25);
            if (i != 3)
                ring(&c, x + 18, 37, 40, 56, 7, 25);
            else
                rect(&c, x + 26, 30, 5, 70, 25); /* a 1 from rule to rule, off the box's middle */
        }
        const int64_t g = gap;
        expect_lefts(
            &c, 5, (const int64_t[]){38, 38 + 70 + g, 38 + 140 + 2 * g, 46 + 210 + 3 * g, 38 + 280 + 4 * g});
        free(c.px);
    }
}

/* A comb field of 4 or 8 boxes: its rules' middles were measured at their quarters, where its
 * sides stand, so the rules were placed in the middle of the sides, which rested on no rule and
 * were read as 1s (`11111` for an empty comb of four; 3, 5, 6 or 7 boxes were fine). */
static void test_digits__comb_of_four_or_eight_boxes(void **state)
{
    (void)state;
    for (int n = 3; n <= 8; n++) {
        canvas c = canvas_new(40 + 90 * n, 160, 230);
        rect(&c, 20, 20, 90 * n + 1, 1, 25);
        rect(&c, 20, 130, 90 * n + 1, 1, 25);
        for (int i = 0; i <= n; i++) rect(&c, 20 + 90 * i, 20, 1, 111, 25);
        int64_t lefts[8];
        for (int i = 0; i < n; i++) ring(&c, 43 + 90 * i, 44, 44, 62, 6, 25), lefts[i] = 43 + 90 * i;
        expect_lefts(&c, n, lefts);
        free(c.px);
    }
}

/* A comb field on a tilted page. At 2 degrees a 3-pixel rule is followed in straight pieces with
 * gaps between them, and the sides' rows were judged by the height of their ends: no row held three,
 * a side ending in a gap rested on no rule, and the sides were read as 1s (`2158101316` for
 * `258036`). At 3 degrees the stretch past the last piece is too short to be followed, the last
 * side rested on no rule, and the gaps' stretches joined the digits above them. A thick rule tilted
 * by less than its thickness over its length is followed along one row, and its middle was put
 * there, 2 pixels off at its right end: the sides there rested on no rule. Tilted either way, thin
 * and thick. */
/* Point (u, v) of a comb drawn from (30, 70), turned by angle a. */
static double comb_x(double u, double v, double a) { return 30 + u * cos(a) - v * sin(a); }
static double comb_y(double u, double v, double a) { return 70 + u * sin(a) + v * cos(a); }

static void test_digits__tilted_comb_sides_taken_out(void **state)
{
    (void)state;
    const double tilts[][2] = {{2, 3}, {-2, 3}, {-3, 3}, {3, 1}, {0.7, 5}, {-0.7, 5}};
    for (size_t t = 0; t < sizeof tilts / sizeof *tilts; t++) {
        const double a = tilts[t][0] * acos(-1.0) / 180, th = tilts[t][1];
        canvas c = canvas_new(560, 230, 230);
        for (int v = 0; v <= 90; v += 90)
            line(&c, comb_x(0, v, a), comb_y(0, v, a), comb_x(480, v, a), comb_y(480, v, a), th, 25);
        for (int i = 0; i <= 6; i++)
            line(&c, comb_x(80 * i, 0, a), comb_y(80 * i, 0, a), comb_x(80 * i, 90, a), comb_y(80 * i, 90, a),
                 th, 25);
        int64_t lefts[6];
        for (int i = 0; i < 6; i++) {
            const int64_t x = (int64_t)lround(comb_x(80 * i + 40, 45, a)),
                          y = (int64_t)lround(comb_y(80 * i + 40, 45, a));
            ring(&c, x - 20, y - 30, 40, 60, 6, 25);
            lefts[i] = x - 20;
        }
        expect_lefts(&c, 6, lefts);
        free(c.px);
    }
}

/* An open comb field: a line with short ticks every 60 pixels, a digit written between each two.
 * Where a tick stands the line stayed, with the tick on it, and the ticks made a line of small 1s
 * under the digits. Ticks standing at equal spacing, alike and short, go with the line; a 1 resting
 * on it, as tall as the digits, stays. */
static void test_digits__open_comb_ticks_taken_out(void **state)
{
    (void)state;
    canvas c = canvas_new(420, 140, 230);
    rect(&c, 20, 100, 361, 3, 25);
    for (int i = 0; i <= 6; i++) rect(&c, 20 + 60 * i, 76, 3, 24, 25); /* half the digits' height */
    for (int i = 0; i < 6; i++)
        if (i != 4) ring(&c, 34 + 60 * i, 44, 32, 50, 5, 25);
    rect(&c, 20 + 60 * 4 + 28, 44, 4, 56, 25); /* a 1 resting on the line */
    expect_lefts(&c, 6, (const int64_t[]){34, 94, 154, 214, 288, 334});
    free(c.px);
    /* Tilted by 2.5 degrees either way, the line in pieces, a 7's foot on it between two ticks:
     * the ticks of the pieces' gaps, and of pieces with fewer than 4, stayed as 1s. */
    for (int sign = -1; sign <= 1; sign += 2) {
        const double a = sign * 2.5 * acos(-1.0) / 180;
        canvas t = canvas_new(560, 200, 230);
        line(&t, comb_x(-2, 40, a), comb_y(-2, 40, a), comb_x(482, 40, a), comb_y(482, 40, a), 5, 25);
        for (int i = 0; i <= 8; i++)
            line(&t, comb_x(60 * i, 40, a), comb_y(60 * i, 40, a), comb_x(60 * i, 16, a),
                 comb_y(60 * i, 16, a), 4, 25);
        int64_t lefts[8];
        for (int i = 0; i < 8; i++) {
            const int64_t x = (int64_t)lround(comb_x(60 * i + 30, -2, a)),
                          y = (int64_t)lround(comb_y(60 * i + 30, -2, a));
            lefts[i] = x - 16;
            if (i == 5) { /* a 7 as high as the rings, its foot on the line */
                const double bar = -10, u = 60 * i;
                line(&t, comb_x(u + 14, bar, a), comb_y(u + 14, bar, a), comb_x(u + 46, bar, a),
                     comb_y(u + 46, bar, a), 5, 25);
                line(&t, comb_x(u + 46, bar, a), comb_y(u + 46, bar, a), comb_x(u + 28, 40, a),
                     comb_y(u + 28, 40, a), 5, 25);
                lefts[i] = (int64_t)lround(fmin(comb_x(u + 14, bar, a), comb_x(u + 28, 40, a))) - 2;
                continue;
            }
            ring(&t, x - 16, y - 25, 32, 50, 5, 25);
        }
        expect_lefts(&t, 8, lefts);
        free(t.px);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits__square_centre_of_mass_at_14),
        cmocka_unit_test(test_digits__broken_digit_merged),
        cmocka_unit_test(test_digits__touching_blobs_split),
        cmocka_unit_test(test_digits__inverted_polarity_same_result),
        cmocka_unit_test(test_digits__gradient_background),
        cmocka_unit_test(test_digits__plate_on_a_wall_read_alone),
        cmocka_unit_test(test_digits__oval_and_framed_plates),
        cmocka_unit_test(test_digits__not_a_plate),
        cmocka_unit_test(test_digits__reading_order),
        cmocka_unit_test(test_digits__tilted_line_turned_level),
        cmocka_unit_test(test_digits__dark_edge_beyond_the_paper),
        cmocka_unit_test(test_digits__grainy_paper),
        cmocka_unit_test(test_digits__form_boxes_taken_out),
        cmocka_unit_test(test_digits__single_box_sides_taken_out),
        cmocka_unit_test(test_digits__thin_line_across_digits_taken_out),
        cmocka_unit_test(test_digits__table_wedge_in_a_corner),
        cmocka_unit_test(test_digits__small_lines_under_a_title),
        cmocka_unit_test(test_digits__slashes_and_parentheses_dropped),
        cmocka_unit_test(test_digits__date_slashes_as_high_as_digits_dropped),
        cmocka_unit_test(test_digits__printed_date_slashes_dropped),
        cmocka_unit_test(test_digits__percent_sign_dropped),
        cmocka_unit_test(test_digits__fine_pen_strokes_kept),
        cmocka_unit_test(test_digits__dotted_zero_is_no_box),
        cmocka_unit_test(test_digits__form_boxes_around_ordinary_digits),
        cmocka_unit_test(test_digits__thick_form_boxes_taken_out),
        cmocka_unit_test(test_digits__comb_of_four_or_eight_boxes),
        cmocka_unit_test(test_digits__open_comb_ticks_taken_out),
        cmocka_unit_test(test_digits__tilted_comb_sides_taken_out),
        cmocka_unit_test(test_digits__solid_patch_not_a_digit),
        cmocka_unit_test(test_digits__ring_around_digits_not_a_digit),
        cmocka_unit_test(test_digits__barcode_not_ones),
        cmocka_unit_test(test_digits__touching_line_below_cut),
        cmocka_unit_test(test_digits__tall_digit_in_a_wavering_line_kept),
        cmocka_unit_test(test_digits__bad_arguments_refused),
        cmocka_unit_test(test_digits__no_ink_is_zero_digits),
        cmocka_unit_test(test_digits__too_many_digits_refused),
        cmocka_unit_test(test_digits__stacked_blobs_refused),
        cmocka_unit_test(test_digits__hatching_left_out),
        cmocka_unit_test(test_digits__deterministic_and_stride),
        cmocka_unit_test(test_digits__thin_strokes_thickened),
        cmocka_unit_test(test_digits__hairline_on_a_large_glyph_kept),
        cmocka_unit_test(test_digits__thick_strokes_thinned),
        cmocka_unit_test(test_digits__hollow_strokes_filled),
        cmocka_unit_test(test_digits__blur_does_not_fatten),
        cmocka_unit_test(test_digits__shadow_edge_in_small_image),
        cmocka_unit_test(test_digits__shadow_band_in_small_image),
        cmocka_unit_test(test_digits__polarity_under_a_shadow),
        cmocka_unit_test(test_digits__lit_band_below_a_shadow),
        cmocka_unit_test(test_digits__faint_stretch_links_pieces),
        cmocka_unit_test(test_digits__rules_cleared_strokes_kept),
        cmocka_unit_test(test_digits__pale_lines_strokes_along_kept),
        cmocka_unit_test(test_digits__underline_taken_out),
        cmocka_unit_test(test_digits__ruled_paper_same_digits),
        cmocka_unit_test(test_digits__fine_one_beside_an_underline_kept),
        cmocka_unit_test(test_digits__mnist_digits_in_a_page),
        cmocka_unit_test(test_digits__slanted_touching_split_along_path),
        cmocka_unit_test(test_digits__read_splits_touching_by_recognition),
        cmocka_unit_test(test_digits__pieces_are_what_read_chooses_from),
        cmocka_unit_test(test_digits__read_joins_broken_digit_by_recognition),
        cmocka_unit_test(test_digits__read_reject_class_cuts_narrow_pairs),
        cmocka_unit_test(test_digits__read_text_class_leaves_words_out),
        cmocka_unit_test(test_digits__read_text_capital_beside_lower_case),
        cmocka_unit_test(test_digits__read_text_number_after_label_stays),
        cmocka_unit_test(test_digits__read_text_label_apart_from_number_goes),
        cmocka_unit_test(test_digits__read_text_digit_run_parts_at_spaces),
        cmocka_unit_test(test_digits__read_text_lower_case_beside_capital),
        cmocka_unit_test(test_digits__read_text_number_between_label_and_unit),
        cmocka_unit_test(test_digits__read_unit_lower_case_left_out),
        cmocka_unit_test(test_digits__read_unit_word_ends_at_space),
        cmocka_unit_test(test_digits__read_label_narrow_space_before_number),
        cmocka_unit_test(test_digits__read_ensemble_averages),
        cmocka_unit_test(test_digits__read_no_cut_through_a_loop),
        cmocka_unit_test(test_digits__read_non_finite_outputs_refused),
        cmocka_unit_test(test_digits__read_sure_glyph_not_cut_for_its_shape),
        cmocka_unit_test(test_digits__scales_combined_by_region),
        cmocka_unit_test(test_digits__scales_more_digits_must_be_much_surer),
        cmocka_unit_test(test_digits__read_at_scales_same_on_clear_digits),
        cmocka_unit_test(test_digits__cuts_not_along_a_stem),
        cmocka_unit_test(test_digits__cut_path_as_defined),
        cmocka_unit_test(test_digits__one_cut_is_the_cheapest_path),
        cmocka_unit_test(test_digits__cuts_part_a_one_leaning_on_a_six),
        cmocka_unit_test(test_digits__read_bad_arguments_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
