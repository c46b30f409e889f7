/* nn-mnist's figures: tick and colour helpers checked against hand computations and published colours;
 * figures rendered to a temporary folder, read back with cairo, and probed where their layout put things. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <fontconfig/fontconfig.h>

#include "plot.h"
#include "plot_internal.h"

#define TOL (2.0 / 255.0) /* one 8-bit step of rounding on each side */

#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), #a, __LINE__)

static void assert_near_at(double a, double b, double eps, const char *what, int line)
{
    if (!(fabs(a - b) <= eps))
        fail_msg("line %d: %s = %.17g, expected %.17g within %g", line, what, a, b, eps);
}

/* ---- helpers -------------------------------------------------------------------------------------- */

static char tmpdir[256];

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_plot.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0) rmdir(p);
    }
    closedir(d);
}

static int group_teardown(void **state)
{
    (void)state;
    if (!getenv("NNM_PLOT_KEEP")) { /* NNM_PLOT_KEEP=1 keeps the figures for a look */
        empty_dir(tmpdir);
        rmdir(tmpdir);
    } else
        fprintf(stderr, "figures kept in %s\n", tmpdir);
    /* cairo and fontconfig keep font caches for the process's life; LeakSanitizer would report them. */
    cairo_debug_reset_static_data();
    FcFini();
    return 0;
}

static const char *path_of(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static int entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

typedef struct image {
    cairo_surface_t *s;
    int w, h, stride;
    const unsigned char *data;
} image;

static image load(const char *path)
{
    image im;
    im.s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(im.s), CAIRO_STATUS_SUCCESS);
    cairo_surface_flush(im.s);
    im.w = cairo_image_surface_get_width(im.s);
    im.h = cairo_image_surface_get_height(im.s);
    im.stride = cairo_image_surface_get_stride(im.s);
    im.data = cairo_image_surface_get_data(im.s);
    return im;
}

static void pixel(const image *im, int x, int y, double rgb[3])
{
    assert_true(x >= 0 && x < im->w && y >= 0 && y < im->h);
    uint32_t p;
    memcpy(&p, im->data + (size_t)y * im->stride + (size_t)x * 4, 4);
    rgb[0] = ((p >> 16) & 255) / 255.0;
    rgb[1] = ((p >> 8) & 255) / 255.0;
    rgb[2] = (p & 255) / 255.0;
}

static double rgb_dist(const double a[3], const double b[3])
{
    return fmax(fabs(a[0] - b[0]), fmax(fabs(a[1] - b[1]), fabs(a[2] - b[2])));
}

static void assert_rgb_near(const double got[3], const double want[3], double tol)
{
    if (rgb_dist(got, want) > tol)
        fail_msg("colour (%.3f, %.3f, %.3f), expected (%.3f, %.3f, %.3f) within %.3f", got[0], got[1], got[2],
                 want[0], want[1], want[2], tol);
}

static void hex_rgb(unsigned c, double rgb[3])
{
    rgb[0] = ((c >> 16) & 255) / 255.0;
    rgb[1] = ((c >> 8) & 255) / 255.0;
    rgb[2] = (c & 255) / 255.0;
}

static void assert_white_at(const image *im, int x, int y)
{
    double rgb[3], white[3] = {1, 1, 1};
    pixel(im, x, y, rgb);
    assert_rgb_near(rgb, white, 0.0);
}

/* A canvas whose cairo context measures text exactly as the figure functions do. */
static nnm_plot__canvas measuring_canvas(int w, int h)
{
    nnm_plot__canvas c;
    char err[128];
    assert_int_equal(nnm_plot__canvas_open(&c, w, h, err, sizeof err), 0);
    return c;
}

static double luminance(const double rgb[3])
{
    double l[3];
    for (int k = 0; k < 3; k++)
        l[k] = rgb[k] <= 0.04045 ? rgb[k] / 12.92 : pow((rgb[k] + 0.055) / 1.055, 2.4);
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
}

/* Whether two convex quadrilaterals overlap by more than tol pixels (separating axis theorem: they are
 * apart when the projections on some edge's normal are). */
static int quads_overlap(double a[4][2], double b[4][2], double tol)
{
    double(*q[2])[2] = {a, b};
    for (int which = 0; which < 2; which++)
        for (int e = 0; e < 4; e++) {
            double nx = -(q[which][(e + 1) % 4][1] - q[which][e][1]);
            double ny = q[which][(e + 1) % 4][0] - q[which][e][0];
            double len = hypot(nx, ny);
            if (len == 0.0) continue;
            nx /= len, ny /= len;
            double amin = INFINITY, amax = -INFINITY, bmin = INFINITY, bmax = -INFINITY;
            for (int k = 0; k < 4; k++) {
                double pa = a[k][0] * nx + a[k][1] * ny, pb = b[k][0] * nx + b[k][1] * ny;
                amin = fmin(amin, pa), amax = fmax(amax, pa), bmin = fmin(bmin, pb), bmax = fmax(bmax, pb);
            }
            if (amax <= bmin + tol || bmax <= amin + tol) return 0;
        }
    return 1;
}

static void assert_quad_within(double q[4][2], double x0, double y0, double x1, double y1, const char *what,
                               int i)
{
    for (int k = 0; k < 4; k++)
        if (q[k][0] < x0 - 0.5 || q[k][0] > x1 + 0.5 || q[k][1] < y0 - 0.5 || q[k][1] > y1 + 0.5)
            fail_msg("%s %d: corner (%.1f, %.1f) outside [%.0f, %.0f] x [%.0f, %.0f]", what, i, q[k][0],
                     q[k][1], x0, x1, y0, y1);
}

/* No two drawn labels overlap: quads[i] is valid where drawn[i]. */
static void assert_no_overlap(double (*quads)[4][2], const int *drawn, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n && drawn[i]; j++)
            if (drawn[j] && quads_overlap(quads[i], quads[j], 0.5))
                fail_msg("%s: labels %d and %d of %d overlap", what, i, j, n);
}

/* ---- nice ticks ---------------------------------------------------------------------------------- */

/* The step is 1, 2 or 5 times a power of ten. */
static int is_125(double step)
{
    double e = floor(log10(step)), m = step / pow(10.0, e);
    return fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6 || fabs(m - 10) < 1e-6;
}

static void assert_ticks_valid(const double *t, int n, double lo, double hi, int max_ticks)
{
    assert_true(n >= 2 && n <= max_ticks);
    double step = t[1] - t[0], eps = step * 1e-6;
    assert_true(is_125(step));
    for (int i = 1; i < n; i++) assert_true(fabs(t[i] - t[i - 1] - step) < eps);
    assert_true(t[0] <= fmin(lo, hi) + eps);
    assert_true(t[n - 1] >= fmax(lo, hi) - eps);
}

static void test_nice_ticks__accuracy_range_steps_by_hundredths(void **state)
{
    (void)state;
    double t[16];
    int n = nnm_nice_ticks(0.9, 0.99, 10, t, 16);
    assert_int_equal(n, 10); /* 0.90, 0.91, ..., 0.99 */
    assert_ticks_valid(t, n, 0.9, 0.99, 10);
    assert_near(t[0], 0.90, 1e-12);
    assert_near(t[9], 0.99, 1e-12);
    assert_near(t[1] - t[0], 0.01, 1e-12);
    /* Fewer ticks allowed: the step grows to 0.02 (0.90 .. 1.00, six ticks). */
    n = nnm_nice_ticks(0.9, 0.99, 6, t, 16);
    assert_int_equal(n, 6);
    assert_near(t[0], 0.90, 1e-12);
    assert_near(t[5], 1.00, 1e-12);
}

static void test_nice_ticks__unit_range(void **state)
{
    (void)state;
    double t[16];
    int n = nnm_nice_ticks(0.0, 1.0, 6, t, 16);
    assert_int_equal(n, 6);
    for (int i = 0; i < 6; i++) assert_near(t[i], 0.2 * i, 1e-12);
    n = nnm_nice_ticks(0.0, 1.0, 11, t, 16);
    assert_int_equal(n, 11);
    assert_near(t[10], 1.0, 1e-12);
    /* Reversed bounds give the same ticks. */
    double r[16];
    assert_int_equal(nnm_nice_ticks(1.0, 0.0, 11, r, 16), 11);
    assert_memory_equal(t, r, 11 * sizeof(double));
}

static void test_nice_ticks__negative_range_has_exact_zero(void **state)
{
    (void)state;
    double t[16];
    /* Range 9.4 in at most 6 ticks: steps 1 and 2 need 12 and 7 ticks, 5 needs -10, -5, 0, 5. */
    int n = nnm_nice_ticks(-7.3, 2.1, 6, t, 16);
    assert_int_equal(n, 4);
    assert_near(t[0], -10.0, 1e-12);
    assert_near(t[3], 5.0, 1e-12);
    assert_true(t[2] == 0.0 && !signbit(t[2]));
    n = nnm_nice_ticks(-0.31, -0.02, 8, t, 16); /* all negative, 0.05 steps: -0.35 .. 0.00 */
    assert_ticks_valid(t, n, -0.31, -0.02, 8);
    assert_near(t[0], -0.35, 1e-12);
    assert_true(t[n - 1] == 0.0 && !signbit(t[n - 1]));
}

static void test_nice_ticks__equal_bounds_widen(void **state)
{
    (void)state;
    double t[16];
    int n = nnm_nice_ticks(0.5, 0.5, 5, t, 16);
    assert_ticks_valid(t, n, 0.475, 0.525, 5); /* widened by 5% either side */
    assert_true(t[0] < 0.5 && t[n - 1] > 0.5);
    n = nnm_nice_ticks(0.0, 0.0, 5, t, 16);
    assert_ticks_valid(t, n, -0.5, 0.5, 5);
    n = nnm_nice_ticks(-2000.0, -2000.0, 5, t, 16);
    assert_ticks_valid(t, n, -2100.0, -1900.0, 5);
}

static void test_nice_ticks__smallest_step_that_fits(void **state)
{
    (void)state;
    /* Over many ranges: ticks valid, and the next smaller 1-2-5 step would need more than max_ticks. */
    unsigned seed = 12345;
    for (int trial = 0; trial < 2000; trial++) {
        seed = seed * 1103515245u + 12345u;
        double a = ((seed >> 8) % 100000) / 1000.0 - 50.0;
        if (trial % 100 == 0) /* narrow ranges across a round number need a large step */
            a = 999.9995;
        seed = seed * 1103515245u + 12345u;
        double scale = pow(10.0, (int)((seed >> 8) % 9) - 4);
        seed = seed * 1103515245u + 12345u;
        double b = a + ((seed >> 8) % 10000 + 1) / 1000.0;
        a *= scale, b *= scale;
        int max_ticks = 3 + trial % 9;
        double t[16];
        int n = nnm_nice_ticks(a, b, max_ticks, t, 16);
        assert_ticks_valid(t, n, a, b, max_ticks);
        double step = t[1] - t[0], e = floor(log10(step) + 1e-9), m = step / pow(10.0, e);
        double smaller = m < 1.5 ? 0.5 * pow(10.0, e) : (m < 3 ? pow(10.0, e) : 2 * pow(10.0, e));
        double need = ceil(b / smaller - 1e-9) - floor(a / smaller + 1e-9) + 1;
        assert_true(need > max_ticks);
    }
}

static void test_nice_ticks__rejects_bad_input(void **state)
{
    (void)state;
    double t[4];
    assert_int_equal(nnm_nice_ticks(NAN, 1.0, 5, t, 4), -1);
    assert_int_equal(nnm_nice_ticks(0.0, INFINITY, 5, t, 4), -1);
    assert_int_equal(nnm_nice_ticks(-1e308, 1e308, 5, t, 4), -1); /* the range overflows */
    assert_int_equal(nnm_nice_ticks(0.0, 1.0, 2, t, 4), -1);
    assert_int_equal(nnm_nice_ticks(0.0, 1.0, 5, NULL, 4), -1);
    assert_int_equal(nnm_nice_ticks(0.0, 1.0, 11, t, 4), -1); /* 11 ticks do not fit in 4 */
}

/* ---- colour maps and contrast ------------------------------------------------------------------- */

static void test_colormap__viridis_published_points(void **state)
{
    (void)state;
    double rgb[3], want[3];
    nnm_colormap(NNM_CMAP_VIRIDIS, 0.0, rgb);
    hex_rgb(0x440154, want);
    assert_rgb_near(rgb, want, TOL);
    nnm_colormap(NNM_CMAP_VIRIDIS, 1.0, rgb);
    hex_rgb(0xfde725, want);
    assert_rgb_near(rgb, want, TOL);
    /* matplotlib's viridis at 0.25, 0.5 and 0.75. */
    nnm_colormap(NNM_CMAP_VIRIDIS, 0.25, rgb);
    hex_rgb(0x3b528b, want);
    assert_rgb_near(rgb, want, TOL);
    nnm_colormap(NNM_CMAP_VIRIDIS, 0.5, rgb);
    hex_rgb(0x21918c, want);
    assert_rgb_near(rgb, want, TOL);
    nnm_colormap(NNM_CMAP_VIRIDIS, 0.75, rgb);
    hex_rgb(0x5ec962, want);
    assert_rgb_near(rgb, want, TOL);
}

static void test_colormap__blues_ends(void **state)
{
    (void)state;
    double rgb[3], want[3];
    nnm_colormap(NNM_CMAP_BLUES, 0.0, rgb);
    assert_true(rgb[0] > 0.95 && rgb[1] > 0.95 && rgb[2] > 0.95); /* near white */
    hex_rgb(0xf7fbff, want);
    assert_rgb_near(rgb, want, TOL);
    nnm_colormap(NNM_CMAP_BLUES, 1.0, rgb);
    hex_rgb(0x08306b, want);
    assert_rgb_near(rgb, want, TOL);
    nnm_colormap(NNM_CMAP_BLUES, 0.5, rgb); /* the fifth of nine ColorBrewer colours */
    hex_rgb(0x6baed6, want);
    assert_rgb_near(rgb, want, TOL);
}

static void test_colormap__clamps_and_is_monotone_in_luminance(void **state)
{
    (void)state;
    double a[3], b[3];
    nnm_colormap(NNM_CMAP_VIRIDIS, -3.0, a);
    nnm_colormap(NNM_CMAP_VIRIDIS, 0.0, b);
    assert_memory_equal(a, b, sizeof a);
    nnm_colormap(NNM_CMAP_VIRIDIS, NAN, a);
    assert_memory_equal(a, b, sizeof a);
    nnm_colormap(NNM_CMAP_BLUES, 7.0, a);
    nnm_colormap(NNM_CMAP_BLUES, 1.0, b);
    assert_memory_equal(a, b, sizeof a);
    /* Sequential maps: viridis brightens with t, Blues darkens. */
    double prev_v = -1.0, prev_b = 2.0;
    for (int i = 0; i <= 100; i++) {
        nnm_colormap(NNM_CMAP_VIRIDIS, i / 100.0, a);
        nnm_colormap(NNM_CMAP_BLUES, i / 100.0, b);
        double lv = luminance(a), lb = luminance(b);
        assert_true(lv > prev_v);
        assert_true(lb < prev_b);
        prev_v = lv, prev_b = lb;
        for (int k = 0; k < 3; k++) assert_true(a[k] >= 0.0 && a[k] <= 1.0 && b[k] >= 0.0 && b[k] <= 1.0);
    }
}

static void test_contrast__dark_text_on_light_backgrounds(void **state)
{
    (void)state;
    const double black[3] = {0, 0, 0}, white[3] = {1, 1, 1};
    assert_int_equal(nnm_text_is_dark(black), 0);
    assert_int_equal(nnm_text_is_dark(white), 1);
    /* Greys either side of the threshold: luminance 0.408 is sRGB 0.671. */
    const double grey_mid[3] = {0.5, 0.5, 0.5}, grey_66[3] = {0.66, 0.66, 0.66},
                 grey_68[3] = {0.68, 0.68, 0.68};
    assert_int_equal(nnm_text_is_dark(grey_mid), 0);
    assert_int_equal(nnm_text_is_dark(grey_66), 0);
    assert_int_equal(nnm_text_is_dark(grey_68), 1);
    /* Pure green is bright (0.7152), pure blue dark (0.0722), whatever their channel sums say. */
    const double green[3] = {0, 1, 0}, blue[3] = {0, 0, 1};
    assert_int_equal(nnm_text_is_dark(green), 1);
    assert_int_equal(nnm_text_is_dark(blue), 0);
    double rgb[3];
    nnm_colormap(NNM_CMAP_VIRIDIS, 0.0, rgb);
    assert_int_equal(nnm_text_is_dark(rgb), 0);
    nnm_colormap(NNM_CMAP_VIRIDIS, 1.0, rgb);
    assert_int_equal(nnm_text_is_dark(rgb), 1);
    nnm_colormap(NNM_CMAP_BLUES, 0.0, rgb);
    assert_int_equal(nnm_text_is_dark(rgb), 1);
    nnm_colormap(NNM_CMAP_BLUES, 1.0, rgb);
    assert_int_equal(nnm_text_is_dark(rgb), 0);
}

/* ---- bars ---------------------------------------------------------------------------------------- */

static const char *const bar_labels[] = {"sgd/relu", "sgd/tanh", "adam/relu", "adam/tanh", "momentum/relu"};
static const double bar_values[] = {0.9712, 0.9655, 0.9842, 0.9788, 0.9573};

/* The top of bar i: scanning up its centre column from just above the axis while the bar's colour lasts. */
static int bar_top(const image *im, const nnm_plot__bars_layout *L, int i, int n, double rgb[3])
{
    int x = (int)(L->plot.x + (i + 0.5) * L->plot.w / n);
    int y = (int)(L->plot.y + L->plot.h) - 3;
    pixel(im, x, y, rgb);
    double c[3];
    for (;; y--) {
        pixel(im, x, y - 1, c);
        if (rgb_dist(c, rgb) > TOL) return y;
    }
}

static void test_bars__size_background_and_bar_heights(void **state)
{
    (void)state;
    char err[256] = "";
    const char *p = path_of("bars.png");
    int rc = nnm_plot_bars(p, "Test accuracy", "test accuracy", bar_labels, bar_values, 5, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    image im = load(p);
    assert_int_equal(im.w, NNM_PLOT_BARS_W);
    assert_int_equal(im.h, NNM_PLOT_BARS_H);
    assert_white_at(&im, 0, 0);
    assert_white_at(&im, im.w - 1, im.h - 1);

    nnm_plot__canvas c = measuring_canvas(im.w, im.h);
    nnm_plot__bars_layout L;
    assert_int_equal(
        nnm_plot__bars_layout_compute(c.cr, "Test accuracy", "test accuracy", bar_labels, bar_values, 5, &L),
        0);
    nnm_plot__canvas_close(&c);
    /* Zoomed to the data: the axis starts below the smallest value but far above zero. */
    assert_true(L.lo <= 0.9573 && L.lo > 0.9 && L.hi >= 0.9842 && L.hi <= 1.0);

    int tops[5];
    double colours[5][3];
    for (int i = 0; i < 5; i++) {
        tops[i] = bar_top(&im, &L, i, 5, colours[i]);
        double want = nnm_plot__map(bar_values[i], L.lo, L.hi, L.plot.y + L.plot.h, L.plot.y);
        assert_true(fabs(tops[i] - want) <= 1.5);
    }
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            if (bar_values[i] > bar_values[j]) assert_true(tops[i] < tops[j]); /* taller bar, smaller y */
    /* Bars of one optimizer share a colour; other optimizers get others. */
    assert_true(rgb_dist(colours[0], colours[1]) <= TOL);
    assert_true(rgb_dist(colours[2], colours[3]) <= TOL);
    assert_true(rgb_dist(colours[0], colours[2]) > 0.1);
    assert_true(rgb_dist(colours[2], colours[4]) > 0.1);
    /* The annotation sits above its bar: dark text pixels within 20 px above the top. */
    int x = (int)(L.plot.x + 2.5 * L.plot.w / 5), dark = 0;
    for (int y = tops[2] - 20; y < tops[2]; y++)
        for (int dx = -15; dx <= 15; dx++) {
            double rgb[3];
            pixel(&im, x + dx, y, rgb);
            dark += rgb[0] < 0.4 && rgb[1] < 0.4 && rgb[2] < 0.4;
        }
    assert_true(dark > 10);
    cairo_surface_destroy(im.s);
}

static void test_bars__missing_value_draws_no_bar(void **state)
{
    (void)state;
    char err[256] = "";
    const double values[] = {0.97, NAN, 0.98};
    const char *p = path_of("bars_nan.png");
    assert_int_equal(nnm_plot_bars(p, "t", NULL, bar_labels, values, 3, err, sizeof err), 0);
    image im = load(p);
    nnm_plot__canvas c = measuring_canvas(im.w, im.h);
    nnm_plot__bars_layout L;
    assert_int_equal(nnm_plot__bars_layout_compute(c.cr, "t", NULL, bar_labels, values, 3, &L), 0);
    nnm_plot__canvas_close(&c);
    double rgb[3];
    int y = (int)(L.plot.y + L.plot.h) - 30; /* above the "n/a" text, inside where a bar would be */
    pixel(&im, (int)(L.plot.x + 1.5 * L.plot.w / 3), y, rgb);
    assert_true(rgb[0] > 0.85 && rgb[1] > 0.85 && rgb[2] > 0.85); /* background or grid */
    pixel(&im, (int)(L.plot.x + 0.5 * L.plot.w / 3), y, rgb);
    assert_true(rgb_dist(rgb, (double[3]){1, 1, 1}) > 0.2); /* a real bar */
    cairo_surface_destroy(im.s);
}

static void test_bars__same_input_same_bytes(void **state)
{
    (void)state;
    char err[256];
    const char *names[] = {"d1.png", "d2.png"};
    char *bytes[2];
    long size[2];
    for (int k = 0; k < 2; k++) {
        const char *p = path_of(names[k]);
        assert_int_equal(nnm_plot_bars(p, "Same", "y", bar_labels, bar_values, 5, err, sizeof err), 0);
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        size[k] = ftell(f);
        rewind(f);
        bytes[k] = malloc((size_t)size[k]);
        assert_int_equal(fread(bytes[k], 1, (size_t)size[k], f), (size_t)size[k]);
        fclose(f);
    }
    assert_int_equal(size[0], size[1]);
    assert_memory_equal(bytes[0], bytes[1], (size_t)size[0]);
    free(bytes[0]);
    free(bytes[1]);
}

static void test_bars__many_long_and_odd_labels_render(void **state)
{
    (void)state;
    char err[256] = "";
    char names[60][80];
    const char *labels[60];
    double values[60];
    for (int i = 0; i < 60; i++) {
        snprintf(names[i], sizeof names[i], "optimizer-number-%d/activation-with-a-long-name-%d", i, i);
        labels[i] = names[i];
        values[i] = 0.9 + 0.001 * i;
    }
    labels[3] = "bad \xff\xfe utf-8 and\ta tab";
    labels[4] = "caf\xc3\xa9/\xce\xbb\nsecond line";
    assert_int_equal(
        nnm_plot_bars(path_of("bars_many.png"), "Many", "acc", labels, values, 60, err, sizeof err), 0);
    assert_int_equal(nnm_plot_bars(path_of("bars_one.png"), NULL, NULL, labels, values, 1, err, sizeof err),
                     0);
    const double neg[] = {-0.5, 0.25, 1.5};
    assert_int_equal(nnm_plot_bars(path_of("bars_neg.png"), "neg", "v", labels, neg, 3, err, sizeof err), 0);
    image im = load(path_of("bars_many.png"));
    assert_int_equal(im.w, NNM_PLOT_BARS_W);
    cairo_surface_destroy(im.s);
}

/* Labels as report.c writes them ("optimizer\nactivation"), the longest names the parser takes. */
static const char *const study_opts[] = {"sgd",      "momentum", "adam",     "rmsprop", "adagrad",
                                         "nesterov", "adamw",    "adadelta", "nadam",   "lion"};
static const char *const study_acts[] = {
    "relu", "tanh", "sigmoid", "leaky_relu:0.01", "swish", "elu", "gelu", "softplus", "selu", "mish"};

static void study_labels(int n, const char *sep, char (*buf)[64], const char **labels, double *values)
{
    for (int i = 0; i < n; i++) {
        snprintf(buf[i], 64, "%s%s%s", study_opts[(i / 10) % 10], sep, study_acts[i % 10]);
        labels[i] = buf[i];
        values[i] = 0.92 + 0.065 * ((i * 37) % 101) / 100.0;
    }
}

static void test_bars__x_labels_never_overlap_from_1_to_200_bars(void **state)
{
    (void)state;
    static char buf[NNM_PLOT_MAX_BARS][64];
    static const char *labels[NNM_PLOT_MAX_BARS];
    static double values[NNM_PLOT_MAX_BARS], quads[NNM_PLOT_MAX_BARS][4][2];
    static int drawn[NNM_PLOT_MAX_BARS];
    const int sizes[] = {1, 2, 9, 12, 18, 30, 50, 64, 100, 150, 200};
    nnm_plot__canvas c = measuring_canvas(NNM_PLOT_BARS_W, NNM_PLOT_BARS_H);
    for (int k = 0; k < (int)(sizeof sizes / sizeof sizes[0]); k++) {
        int n = sizes[k];
        for (int variant = 0; variant < 2; variant++) {
            if (variant == 0)
                study_labels(n, "\n", buf, labels, values);
            else /* one long name among short ones: it must not squeeze the plot away */
                for (int i = 0; i < n; i++) {
                    snprintf(buf[i], 64, i == n / 2 ? "an-optimizer-with-a-very-long-name/tanh-%d" : "m%d",
                             i);
                    labels[i] = buf[i];
                    values[i] = 0.5 + 0.001 * i;
                }
            nnm_plot__bars_layout L;
            assert_int_equal(nnm_plot__bars_layout_compute(c.cr, "t", "acc", labels, values, n, &L), 0);
            int shown = 0;
            for (int i = 0; i < n; i++) {
                drawn[i] = nnm_plot__bars_label_quad(c.cr, &L, labels[i], i, n, quads[i]);
                if (!drawn[i]) continue;
                shown++;
                /* Under the axis, inside the canvas. */
                assert_quad_within(quads[i], 0, L.plot.y + L.plot.h, NNM_PLOT_BARS_W, NNM_PLOT_BARS_H,
                                   "x label", i);
            }
            assert_no_overlap(quads, drawn, n, "bars");
            /* Readable: no smaller than the floor; thinned only as far as needed; the plot keeps most of the
             * canvas height. */
            assert_true(L.label_px >= NNM_BARS_LABEL_MIN_PX - 1e-9);
            assert_true(shown >= n / 4);
            assert_true(L.plot.h >= 0.5 * NNM_PLOT_BARS_H);
            if (n <= 3 && variant == 0)
                assert_true(L.label_angle == 0.0 && L.label_step == 1); /* the design */
            if (n == 50) assert_true(L.label_step == 1 && L.annot_px > 0.0);
            /* Value annotations, when drawn, fit their slot across (upright) or along (horizontal). */
            if (L.annot_px > 0.0) {
                nnm_plot__font(c.cr, L.annot_px, 0);
                double across = L.annot_angle > 0.0 ? nnm_plot__text_height(c.cr, "0.0000")
                                                    : nnm_plot__text_width(c.cr, "0.0000");
                assert_true(across <= L.plot.w / n);
            }
        }
    }
    nnm_plot__canvas_close(&c);
    char err[256] = "";
    study_labels(100, "\n", buf, labels, values);
    int rc =
        nnm_plot_bars(path_of("bars_100.png"), "Test accuracy", "acc", labels, values, 100, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
}

/* ---- heatmap ------------------------------------------------------------------------------------- */

static const char *const opt_names[] = {"sgd", "momentum"};
static const char *const act_names[] = {"relu", "tanh", "sigmoid"};
static const double grid_values[] = {0.9712, 0.9655, 0.9286, 0.9801, NAN, 0.9842};

static void cell_rect(const nnm_plot__heatmap_layout *L, int rows, int cols, int i, int j, double *x0,
                      double *y0, double *w, double *h)
{
    *w = L->grid.w / cols;
    *h = L->grid.h / rows;
    *x0 = L->grid.x + j * *w;
    *y0 = L->grid.y + i * *h;
}

static void test_heatmap__cells_and_colour_bar_match_the_map(void **state)
{
    (void)state;
    char err[256] = "";
    const char *p = path_of("heatmap.png");
    int rc = nnm_plot_heatmap(p, "Test accuracy", "optimizer", "activation", opt_names, 2, act_names, 3,
                              grid_values, "%.4f", NNM_CMAP_VIRIDIS, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    image im = load(p);
    assert_int_equal(im.w, NNM_PLOT_HEATMAP_W);
    assert_int_equal(im.h, NNM_PLOT_HEATMAP_H);
    assert_white_at(&im, 0, 0);
    assert_white_at(&im, im.w - 1, 0);

    nnm_plot__canvas c = measuring_canvas(im.w, im.h);
    nnm_plot__heatmap_layout L;
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "Test accuracy", "optimizer", "activation",
                                                      opt_names, 2, act_names, 3, grid_values, "%.4f", &L),
                     0);
    nnm_plot__canvas_close(&c);
    assert_near(L.vmin, 0.9286, 1e-12); /* colours span the finite data */
    assert_near(L.vmax, 0.9842, 1e-12);

    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            double x0, y0, w, h, got[3], want[3];
            cell_rect(&L, 2, 3, i, j, &x0, &y0, &w, &h);
            /* The centre column, a third of a cell above the centre: clear of the annotation. */
            pixel(&im, (int)(x0 + w / 2), (int)(y0 + h / 2 - h / 3), got);
            double v = grid_values[i * 3 + j];
            if (isnan(v)) {
                assert_true(fabs(got[0] - got[1]) < TOL && fabs(got[1] - got[2]) < TOL); /* grey */
                assert_true(got[0] > 0.5 && got[0] < 0.95);
            } else {
                nnm_colormap(NNM_CMAP_VIRIDIS, (v - L.vmin) / (L.vmax - L.vmin), want);
                assert_rgb_near(got, want, TOL);
            }
        }

    /* Colour bar: top row is the map's end, bottom row its start (within one row's step). */
    double got[3], want[3], step = 1.0 / L.cbar.h;
    pixel(&im, (int)(L.cbar.x + L.cbar.w / 2), (int)L.cbar.y, got);
    nnm_colormap(NNM_CMAP_VIRIDIS, 1.0, want);
    assert_rgb_near(got, want, TOL + step);
    pixel(&im, (int)(L.cbar.x + L.cbar.w / 2), (int)(L.cbar.y + L.cbar.h) - 1, got);
    nnm_colormap(NNM_CMAP_VIRIDIS, 0.0, want);
    assert_rgb_near(got, want, TOL + step);
    /* Colour bar ticks lie inside the colour range, in 1-2-5 steps. */
    assert_true(L.nticks >= 2);
    assert_true(L.ticks[0] >= L.vmin && L.ticks[L.nticks - 1] <= L.vmax);
    assert_true(is_125(L.ticks[1] - L.ticks[0]));
    cairo_surface_destroy(im.s);
}

/* Whether the middle of a cell holds pixels near white (light text) and near black (dark text). */
static void text_tones(const image *im, const nnm_plot__heatmap_layout *L, int rows, int cols, int i, int j,
                       int *light, int *dark)
{
    double x0, y0, w, h;
    cell_rect(L, rows, cols, i, j, &x0, &y0, &w, &h);
    *light = *dark = 0;
    for (int y = (int)(y0 + h * 0.35); y < (int)(y0 + h * 0.65); y++)
        for (int x = (int)(x0 + w * 0.2); x < (int)(x0 + w * 0.8); x++) {
            double rgb[3];
            pixel(im, x, y, rgb);
            *light += rgb[0] > 0.9 && rgb[1] > 0.9 && rgb[2] > 0.9;
            *dark += rgb[0] < 0.25 && rgb[1] < 0.25 && rgb[2] < 0.25;
        }
}

static void test_heatmap__annotation_colour_switches_for_contrast(void **state)
{
    (void)state;
    char err[256] = "";
    const char *p = path_of("contrast.png");
    assert_int_equal(nnm_plot_heatmap(p, "t", NULL, NULL, opt_names, 2, act_names, 3, grid_values, "%.4f",
                                      NNM_CMAP_VIRIDIS, err, sizeof err),
                     0);
    image im = load(p);
    nnm_plot__canvas c = measuring_canvas(im.w, im.h);
    nnm_plot__heatmap_layout L;
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "t", NULL, NULL, opt_names, 2, act_names, 3,
                                                      grid_values, "%.4f", &L),
                     0);
    nnm_plot__canvas_close(&c);
    int light, dark;
    text_tones(&im, &L, 2, 3, 0, 2, &light, &dark); /* the minimum: dark purple, white text */
    assert_true(light > 20 && dark == 0);
    text_tones(&im, &L, 2, 3, 1, 2, &light, &dark); /* the maximum: yellow, dark text */
    assert_true(dark > 20 && light == 0);
    cairo_surface_destroy(im.s);
}

static void test_heatmap__confusion_matrix_blues(void **state)
{
    (void)state;
    const char *digits[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    double counts[100];
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j++) counts[i * 10 + j] = i == j ? 900 + 10 * i : (i + j) % 7;
    char err[256] = "";
    const char *p = path_of("confusion.png");
    int rc = nnm_plot_heatmap(p, "Confusion matrix", "True label", "Predicted label", digits, 10, digits, 10,
                              counts, "%.0f", NNM_CMAP_BLUES, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    image im = load(p);
    assert_int_equal(im.w, NNM_PLOT_HEATMAP_W);
    assert_int_equal(im.h, NNM_PLOT_TALL_H);
    nnm_plot__canvas c = measuring_canvas(im.w, im.h);
    nnm_plot__heatmap_layout L;
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "Confusion matrix", "True label",
                                                      "Predicted label", digits, 10, digits, 10, counts,
                                                      "%.0f", &L),
                     0);
    nnm_plot__canvas_close(&c);
    assert_true(L.annot_px > 0.0);
    double x0, y0, w, h, got[3], want[3];
    cell_rect(&L, 10, 10, 0, 1, &x0, &y0, &w, &h); /* count 1: nearly the lightest */
    pixel(&im, (int)(x0 + w / 2), (int)(y0 + h / 8), got);
    nnm_colormap(NNM_CMAP_BLUES, (1.0 - L.vmin) / (L.vmax - L.vmin), want);
    assert_rgb_near(got, want, TOL);
    assert_true(got[0] > 0.9);
    cell_rect(&L, 10, 10, 9, 9, &x0, &y0, &w, &h); /* 990, the maximum: darkest blue */
    pixel(&im, (int)(x0 + w / 2), (int)(y0 + h / 8), got);
    nnm_colormap(NNM_CMAP_BLUES, 1.0, want);
    assert_rgb_near(got, want, TOL);
    int light, dark;
    text_tones(&im, &L, 10, 10, 9, 9, &light, &dark);
    assert_true(light > 5);
    cairo_surface_destroy(im.s);
}

static void test_heatmap__constant_and_large_grids_render(void **state)
{
    (void)state;
    char err[256] = "";
    const double same[] = {0.97, 0.97, 0.97, 0.97, 0.97, 0.97};
    const char *p = path_of("same.png");
    assert_int_equal(nnm_plot_heatmap(p, "same", "r", "c", opt_names, 2, act_names, 3, same, "%.2f",
                                      NNM_CMAP_VIRIDIS, err, sizeof err),
                     0);
    image im = load(p);
    nnm_plot__canvas c = measuring_canvas(im.w, im.h);
    nnm_plot__heatmap_layout L;
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "same", "r", "c", opt_names, 2, act_names, 3,
                                                      same, "%.2f", &L),
                     0);
    nnm_plot__canvas_close(&c);
    double x0, y0, w, h, got[3], want[3];
    cell_rect(&L, 2, 3, 1, 1, &x0, &y0, &w, &h);
    pixel(&im, (int)(x0 + w / 2), (int)(y0 + h / 8), got);
    nnm_colormap(NNM_CMAP_VIRIDIS, 0.5, want); /* a single value takes the middle colour */
    assert_rgb_near(got, want, TOL);
    cairo_surface_destroy(im.s);

    static double big[100 * 100];
    char names[100][8];
    const char *labels[100];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "%d", i % 1000);
        labels[i] = names[i];
    }
    for (int i = 0; i < 100 * 100; i++) big[i] = i % 101 == 0 ? 1000.0 : (double)(i % 17);
    big[5] = NAN;
    assert_int_equal(nnm_plot_heatmap(path_of("big.png"), "big", "r", "c", labels, 100, labels, 100, big,
                                      "%.0f", NNM_CMAP_BLUES, err, sizeof err),
                     0);
}

static void test_heatmap__colour_limits_stay_in_the_metric_range(void **state)
{
    (void)state;
    const char *r[] = {"adam"}, *cl[] = {"relu"};
    nnm_plot__canvas c = measuring_canvas(NNM_PLOT_HEATMAP_W, NNM_PLOT_HEATMAP_H);
    /* One accuracy (a 1 x 1 grid): the colour bar stays within [0, 1], and the value inside it. */
    const double accs[] = {0.92, 0.97, 0.999, 1.0, 0.0, 0.5, 5e-324};
    for (int k = 0; k < (int)(sizeof accs / sizeof accs[0]); k++) {
        nnm_plot__heatmap_layout L;
        assert_int_equal(
            nnm_plot__heatmap_layout_compute(c.cr, "t", "r", "c", r, 1, cl, 1, &accs[k], "%.4f", &L), 0);
        if (!(L.vmin >= 0.0 && L.vmax <= 1.0 && L.vmin < L.vmax && accs[k] >= L.vmin && accs[k] <= L.vmax))
            fail_msg("value %g: colour limits [%.17g, %.17g]", accs[k], L.vmin, L.vmax);
        assert_true(L.nticks >= 2);
        for (int i = 0; i < L.nticks; i++)
            assert_true(L.ticks[i] >= L.vmin - 1e-12 && L.ticks[i] <= L.vmax + 1e-12);
    }
    /* Away from the bounds a single value keeps the middle colour. */
    nnm_plot__heatmap_layout L;
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "t", "r", "c", r, 1, cl, 1, &accs[1], "%.4f", &L),
                     0);
    assert_near((accs[1] - L.vmin) / (L.vmax - L.vmin), 0.5, 1e-9);
    /* Counts never get a colour bar below zero; values outside [0, 1] are widened freely. */
    const double count = 3.0, neg = -2.0;
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "t", "r", "c", r, 1, cl, 1, &count, "%.0f", &L),
                     0);
    assert_true(L.vmin >= 0.0 && L.vmin < 3.0 && L.vmax > 3.0);
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "t", "r", "c", r, 1, cl, 1, &neg, "%.1f", &L), 0);
    assert_true(L.vmin < -2.0 && L.vmax > -2.0);
    /* Equal values over a grid, and on the bound 1: the top colour, and the bar still ends at 1. */
    const double perfect[] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "t", NULL, NULL, opt_names, 2, act_names, 3,
                                                      perfect, "%.4f", &L),
                     0);
    nnm_plot__canvas_close(&c);
    assert_true(L.vmax == 1.0 && L.vmin < 1.0 && L.vmin >= 0.9);
    char err[256] = "";
    const char *p = path_of("heatmap_1x1.png");
    assert_int_equal(nnm_plot_heatmap(p, "t", NULL, NULL, r, 1, cl, 1, &accs[3], "%.4f", NNM_CMAP_VIRIDIS,
                                      err, sizeof err),
                     0);
    image im = load(p);
    c = measuring_canvas(im.w, im.h);
    assert_int_equal(
        nnm_plot__heatmap_layout_compute(c.cr, "t", NULL, NULL, r, 1, cl, 1, &accs[3], "%.4f", &L), 0);
    nnm_plot__canvas_close(&c);
    double got[3], want[3];
    pixel(&im, (int)(L.grid.x + L.grid.w / 2), (int)(L.grid.y + L.grid.h / 8), got);
    nnm_colormap(NNM_CMAP_VIRIDIS, 1.0, want);
    assert_rgb_near(got, want, TOL);
    cairo_surface_destroy(im.s);
}

static void heatmap_labels_fit(int rows, const char *const *rl, int cols, const char *const *cl,
                               const double *v)
{
    static double quads[NNM_PLOT_MAX_CELLS_SIDE][4][2];
    static int drawn[NNM_PLOT_MAX_CELLS_SIDE];
    int height = rows >= NNM_PLOT_TALL_ROWS ? NNM_PLOT_TALL_H : NNM_PLOT_HEATMAP_H;
    nnm_plot__canvas c = measuring_canvas(NNM_PLOT_HEATMAP_W, height);
    nnm_plot__heatmap_layout L;
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "Test accuracy", "optimizer", "activation", rl,
                                                      rows, cl, cols, v, "%.4f", &L),
                     0);
    for (int axis = 0; axis < 2; axis++) {
        int n = axis == 0 ? rows : cols, shown = 0;
        for (int i = 0; i < n; i++) {
            drawn[i] =
                nnm_plot__heatmap_label_quad(c.cr, &L, axis, axis == 0 ? rl[i] : cl[i], i, n, quads[i]);
            if (!drawn[i]) continue;
            shown++;
            if (axis == 0) /* left of the grid */
                assert_quad_within(quads[i], 0, 0, L.grid.x, height, "row label", i);
            else /* below it */
                assert_quad_within(quads[i], 0, L.grid.y + L.grid.h, NNM_PLOT_HEATMAP_W, height,
                                   "column label", i);
        }
        assert_no_overlap(quads, drawn, n, axis == 0 ? "heatmap rows" : "heatmap columns");
        assert_true(shown >= n / 4);
    }
    assert_true(L.annot_px > 0.0 || rows * cols > 400);
    nnm_plot__canvas_close(&c);
}

static void test_heatmap__labels_fit_a_10x10_grid(void **state)
{
    (void)state;
    static double v[100 * 100];
    for (int i = 0; i < 100 * 100; i++) v[i] = 0.9 + 0.00001 * i;
    heatmap_labels_fit(10, study_opts, 10, study_acts, v);
    /* Long column names under short row names: slanted, and the first one must not leave the canvas. */
    char names[10][64];
    const char *cl[10];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "leaky_relu:0.0%d-with-a-suffix-as-long-as-any", i);
        cl[i] = names[i];
    }
    heatmap_labels_fit(10, study_opts, 10, cl, v);
    heatmap_labels_fit(3, study_opts, 10, cl, v);
    static char num[100][8];
    static const char *nl[100];
    for (int i = 0; i < 100; i++) {
        snprintf(num[i], sizeof num[i], "%d", i);
        nl[i] = num[i];
    }
    heatmap_labels_fit(100, nl, 100, nl, v);
    heatmap_labels_fit(1, study_opts, 1, study_acts, v);
}

/* ---- curves -------------------------------------------------------------------------------------- */

static void test_curves__lines_where_the_values_are_and_legend_outside(void **state)
{
    (void)state;
    const double flat[] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    const double rise[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9};
    const double gap[] = {0.3, 0.3, 0.3, 0.3, NAN, 0.3, 0.3, 0.3};
    const char *names[] = {"flat", "rise", "gap"};
    const double *ys[] = {flat, rise, gap};
    const int lens[] = {8, 10, 8};
    char err[256] = "";
    const char *p = path_of("curves.png");
    int rc = nnm_plot_curves(p, "Curves", "epoch", "accuracy", names, ys, lens, 3, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    image im = load(p);
    assert_int_equal(im.w, NNM_PLOT_CURVES_W);
    assert_int_equal(im.h, NNM_PLOT_CURVES_H);
    assert_white_at(&im, 0, 0);
    assert_white_at(&im, im.w - 1, im.h - 1);
    nnm_plot__canvas c = measuring_canvas(im.w, im.h);
    nnm_plot__curves_layout L;
    assert_int_equal(
        nnm_plot__curves_layout_compute(c.cr, "Curves", "epoch", "accuracy", names, ys, lens, 3, &L), 0);
    nnm_plot__canvas_close(&c);
    /* Margins as matplotlib's: 5% of the data range each side. */
    assert_near(L.ylo, 0.1 - 0.04, 1e-12);
    assert_near(L.yhi, 0.9 + 0.04, 1e-12);
    assert_true(L.legend.x >= L.plot.x + L.plot.w); /* outside the axes */

    double got[3], blue[3], green[3];
    nnm_plot__palette_tab10(0, blue);
    nnm_plot__palette_tab10(2, green);
    /* Between epochs 4 and 5 the flat line runs at 0.5: the pixel there is the first series' colour. */
    int x = (int)nnm_plot__map(4.5, L.xlo, L.xhi, L.plot.x, L.plot.x + L.plot.w);
    int y = (int)nnm_plot__map(0.5, L.ylo, L.yhi, L.plot.y + L.plot.h, L.plot.y);
    pixel(&im, x, y, got);
    assert_rgb_near(got, blue, TOL);
    /* The third series has no value at epoch 5: no line between epochs 4 and 6 ... */
    int x5 = (int)nnm_plot__map(5.0, L.xlo, L.xhi, L.plot.x, L.plot.x + L.plot.w);
    int y3 = (int)nnm_plot__map(0.3, L.ylo, L.yhi, L.plot.y + L.plot.h, L.plot.y);
    pixel(&im, x5, y3, got);
    assert_true(rgb_dist(got, green) > 0.3);
    /* ... but a line elsewhere. */
    pixel(&im, (int)nnm_plot__map(2.5, L.xlo, L.xhi, L.plot.x, L.plot.x + L.plot.w), y3, got);
    assert_rgb_near(got, green, TOL);
    /* The legend holds each series' colour. */
    int found = 0;
    for (int yy = (int)L.legend.y; yy < (int)(L.legend.y + L.legend.h) && !found; yy++)
        for (int xx = (int)L.legend.x; xx < (int)(L.legend.x + L.legend.w) && !found; xx++) {
            pixel(&im, xx, yy, got);
            found = rgb_dist(got, green) <= TOL;
        }
    assert_true(found);
    cairo_surface_destroy(im.s);
}

static void test_curves__edge_cases_render(void **state)
{
    (void)state;
    char err[256] = "";
    const double one[] = {0.5};
    const double *ys1[] = {one, NULL};
    const int lens1[] = {1, 0};
    const char *names[] = {"one point", "empty"};
    assert_int_equal(
        nnm_plot_curves(path_of("one.png"), NULL, NULL, NULL, names, ys1, lens1, 2, err, sizeof err), 0);
    /* Two epochs get the ticks 1 and 2, never 1.5; 37 epochs get whole steps too. */
    const double two[] = {0.4, 0.6};
    const double *ys2[] = {two};
    const int lens2[] = {2}, lens37[] = {37};
    assert_int_equal(
        nnm_plot_curves(path_of("two.png"), "t", "x", "y", names, ys2, lens2, 1, err, sizeof err), 0);
    nnm_plot__canvas c = measuring_canvas(NNM_PLOT_CURVES_W, NNM_PLOT_CURVES_H);
    nnm_plot__curves_layout L;
    assert_int_equal(nnm_plot__curves_layout_compute(c.cr, "t", "x", "y", names, ys2, lens2, 1, &L), 0);
    assert_int_equal(L.nxticks, 2);
    assert_near(L.xticks[0], 1.0, 0.0);
    assert_near(L.xticks[1], 2.0, 0.0);
    static double d37[37];
    const double *ys37[] = {d37};
    assert_int_equal(nnm_plot__curves_layout_compute(c.cr, "t", "x", "y", names, ys37, lens37, 1, &L), 0);
    nnm_plot__canvas_close(&c);
    assert_true(L.nxticks >= 3 && L.nxticks <= 11);
    for (int i = 0; i < L.nxticks; i++) assert_near(L.xticks[i], round(L.xticks[i]), 0.0);
    /* 64 series of 200 points: legend in columns, no markers. */
    static double data[64][200];
    const double *ys[64];
    int lens[64];
    char nm[64][32];
    const char *nms[64];
    for (int s = 0; s < 64; s++) {
        for (int k = 0; k < 200; k++) data[s][k] = 1.0 - exp(-0.02 * (k + 1) * (1 + 0.05 * s));
        ys[s] = data[s];
        lens[s] = 200 - s;
        snprintf(nm[s], sizeof nm[s], "series %d", s);
        nms[s] = nm[s];
    }
    assert_int_equal(
        nnm_plot_curves(path_of("many.png"), "many", "epoch", "acc", nms, ys, lens, 64, err, sizeof err), 0);
}

static void test_curves__every_series_has_its_own_colour_and_style(void **state)
{
    (void)state;
    /* The first ten are the design's: tab10 in order, solid, dots. */
    for (int s = 0; s < 10; s++) {
        nnm_plot__series_look a = nnm_plot__series_look_of(s);
        assert_int_equal(a.colour, s);
        assert_int_equal(a.dash, 0);
        assert_int_equal(a.marker, 0);
    }
    /* Up to the most series a figure takes, no two share colour and dash (lines without markers), nor
     * colour and marker (markers alone, as in the legend). */
    assert_true(NNM_PLOT_MAX_SERIES >= 50);
    for (int s = 0; s < NNM_PLOT_MAX_SERIES; s++)
        for (int t = s + 1; t < NNM_PLOT_MAX_SERIES; t++) {
            nnm_plot__series_look a = nnm_plot__series_look_of(s), b = nnm_plot__series_look_of(t);
            if (a.colour == b.colour && (a.dash == b.dash || a.marker == b.marker))
                fail_msg("series %d and %d look alike", s, t);
        }
}

static void curves_study(int n, char (*buf)[64], const char **names, double (*data)[10], const double **ys,
                         int *lens)
{
    for (int i = 0; i < n; i++) {
        snprintf(buf[i], 64, "%s / %s", study_opts[(i / 10) % 10], study_acts[i % 10]);
        names[i] = buf[i];
        for (int k = 0; k < 10; k++) data[i][k] = 0.95 - (0.15 + 0.002 * i) * exp(-0.45 * k);
        ys[i] = data[i];
        lens[i] = 10;
    }
}

static void test_curves__many_runs_legend_below_keeps_the_width(void **state)
{
    (void)state;
    static char buf[NNM_PLOT_MAX_SERIES][64];
    static const char *names[NNM_PLOT_MAX_SERIES];
    static double data[NNM_PLOT_MAX_SERIES][10];
    static const double *ys[NNM_PLOT_MAX_SERIES];
    static int lens[NNM_PLOT_MAX_SERIES];
    curves_study(NNM_PLOT_MAX_SERIES, buf, names, data, ys, lens);
    nnm_plot__canvas c = measuring_canvas(NNM_PLOT_CURVES_W, NNM_PLOT_CURVES_H);
    const int sizes[] = {1, 9, 20, 21, 50, NNM_PLOT_MAX_SERIES};
    for (int k = 0; k < (int)(sizeof sizes / sizeof sizes[0]); k++) {
        int n = sizes[k];
        nnm_plot__curves_layout L;
        assert_int_equal(
            nnm_plot__curves_layout_compute(c.cr, "t", "Epoch", "Test accuracy", names, ys, lens, n, &L), 0);
        /* What the legend takes beside the axes: at most NNM_CURVES_LEGEND_SHARE of the width. */
        double beside = (NNM_PLOT_CURVES_W - (L.plot.x + L.plot.w)) / NNM_PLOT_CURVES_W;
        if (beside > NNM_CURVES_LEGEND_SHARE + 0.03)
            fail_msg("%d runs: the legend takes %.0f%% of the width", n, 100 * beside);
        assert_true(L.plot.w >= 0.6 * NNM_PLOT_CURVES_W);
        assert_true(L.plot.h >= 0.7 * NNM_PLOT_CURVES_H);
        /* Inside the canvas, clear of the axes and of the x label, every entry in its box. */
        assert_true(L.legend.x >= 0 && L.legend.x + L.legend.w <= NNM_PLOT_CURVES_W);
        assert_true(L.legend.y >= 0 && L.legend.y + L.legend.h <= L.height);
        if (L.legend_below)
            assert_true(L.legend.y >= L.xlabel_y);
        else
            assert_true(L.legend.x >= L.plot.x + L.plot.w);
        assert_true(L.legend_rows * L.legend_cols >= n);
        assert_true(L.legend_cols * L.legend_col_w <= L.legend.w);
        assert_true(L.legend_rows * L.legend_entry_h <= L.legend.h);
        if (n <= 9) /* the design: right of the axes, the canvas as it was */
            assert_true(!L.legend_below && L.height == NNM_PLOT_CURVES_H);
        if (n >= 50) assert_true(L.legend_below && L.legend_cols >= 3);
    }
    nnm_plot__canvas_close(&c);
    /* Rendered at 50 runs: the canvas grew by the legend, which holds the last series' colour. */
    char err[256] = "";
    const char *p = path_of("curves_50.png");
    int rc = nnm_plot_curves(p, "t", "Epoch", "Test accuracy", names, ys, lens, 50, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    image im = load(p);
    c = measuring_canvas(im.w, im.h);
    nnm_plot__curves_layout L;
    assert_int_equal(
        nnm_plot__curves_layout_compute(c.cr, "t", "Epoch", "Test accuracy", names, ys, lens, 50, &L), 0);
    nnm_plot__canvas_close(&c);
    assert_int_equal(im.w, NNM_PLOT_CURVES_W);
    assert_int_equal(im.h, L.height);
    assert_true(im.h > NNM_PLOT_CURVES_H);
    double got[3], want[3];
    nnm_plot__palette_tab10(49 % 10, want);
    int found = 0;
    int col = 49 / L.legend_rows, row = 49 % L.legend_rows;
    int y = (int)(L.legend.y + 8.0 + (row + 0.5) * L.legend_entry_h);
    for (int x = (int)(L.legend.x + col * L.legend_col_w); x < (int)(L.legend.x + (col + 1) * L.legend_col_w);
         x++) {
        pixel(&im, x, y, got);
        found += rgb_dist(got, want) <= TOL;
    }
    assert_true(found > 3);
    cairo_surface_destroy(im.s);
}

/* ---- bars with error bars ------------------------------------------------------------------------ */

/* Whether two files hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
    FILE *f[2] = {fopen(a, "rb"), fopen(b, "rb")};
    int same = f[0] && f[1];
    while (same) {
        int ca = fgetc(f[0]), cb = fgetc(f[1]);
        if (ca != cb) same = 0;
        if (ca == EOF) break;
    }
    for (int k = 0; k < 2; k++)
        if (f[k]) fclose(f[k]);
    return same;
}

static int is_dark(const image *im, int x, int y)
{
    double rgb[3];
    pixel(im, x, y, rgb);
    return rgb[0] < 0.35 && rgb[1] < 0.35 && rgb[2] < 0.35;
}

/* Dark pixels in the box [x0, x1) x [y0, y1). */
static int dark_in(const image *im, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) n += is_dark(im, x, y);
    return n;
}

static void test_bars_err__no_errors_draw_the_marked_figure(void **state)
{
    (void)state;
    char err[256] = "";
    const double values[] = {0.9712, NAN, 0.9842, 0.9788, 0.9573};
    const char *marks[] = {NULL, "diverged", NULL, NULL, NULL};
    const double none[] = {NAN, 0.01, 0.0, NAN, 0.0}; /* NaN, 0, or on a NaN value: no error bar */
    char p[4][512];
    for (int k = 0; k < 4; k++) snprintf(p[k], sizeof p[k], "%s/same%d.png", tmpdir, k);
    assert_int_equal(nnm_plot_bars_marked(p[0], "t", "y", bar_labels, values, marks, 5, err, sizeof err), 0);
    assert_int_equal(nnm_plot_bars_err(p[1], "t", "y", bar_labels, values, NULL, marks, 5, err, sizeof err),
                     0);
    assert_int_equal(nnm_plot_bars_err(p[2], "t", "y", bar_labels, values, none, marks, 5, err, sizeof err),
                     0);
    assert_true(same_bytes(p[0], p[1]));
    assert_true(same_bytes(p[0], p[2]));
    /* nnm_plot_bars() is the same figure without marks; marks do change it. */
    assert_int_equal(nnm_plot_bars_err(p[3], "t", "y", bar_labels, values, NULL, NULL, 5, err, sizeof err),
                     0);
    assert_false(same_bytes(p[0], p[3]));
    assert_int_equal(nnm_plot_bars(p[0], "t", "y", bar_labels, values, 5, err, sizeof err), 0);
    assert_true(same_bytes(p[0], p[3]));
}

static void test_bars_err__error_bars_drawn_and_range_covers_them(void **state)
{
    (void)state;
    char err[256] = "";
    const double small[] = {0.002, 0.003, 0.001, 0.002, 0.004};
    const double large[] = {0.002, 0.003, 0.001, 0.002, 0.05}; /* bar 4: 0.9573 -/+ 0.05 */
    char p0[512], p1[512], p2[512];                            /* path_of() reuses one buffer */
    snprintf(p0, sizeof p0, "%s", path_of("err_none.png"));
    snprintf(p1, sizeof p1, "%s", path_of("err_small.png"));
    snprintf(p2, sizeof p2, "%s", path_of("err_large.png"));
    assert_int_equal(nnm_plot_bars(p0, "t", "y", bar_labels, bar_values, 5, err, sizeof err), 0);
    int rc = nnm_plot_bars_err(p1, "t", "y", bar_labels, bar_values, small, NULL, 5, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    assert_int_equal(nnm_plot_bars_err(p2, "t", "y", bar_labels, bar_values, large, NULL, 5, err, sizeof err),
                     0);
    assert_false(same_bytes(p0, p1));

    nnm_plot__canvas c = measuring_canvas(NNM_PLOT_BARS_W, NNM_PLOT_BARS_H);
    nnm_plot__bars_layout L0, L1, L2;
    assert_int_equal(nnm_plot__bars_layout_compute(c.cr, "t", "y", bar_labels, bar_values, 5, &L0), 0);
    assert_int_equal(nnm_plot__bars_err_layout_compute(c.cr, "t", "y", bar_labels, bar_values, small, 5, &L1),
                     0);
    assert_int_equal(nnm_plot__bars_err_layout_compute(c.cr, "t", "y", bar_labels, bar_values, large, 5, &L2),
                     0);
    nnm_plot__canvas_close(&c);
    /* The zoomed range covers every bar's ends, and grows for a large error. */
    for (int i = 0; i < 5; i++) {
        assert_true(L1.lo <= bar_values[i] - small[i] && L1.hi >= bar_values[i] + small[i]);
        assert_true(L2.lo <= bar_values[i] - large[i] && L2.hi >= bar_values[i] + large[i]);
    }
    assert_true(L2.lo < L0.lo && L2.hi > L0.hi);
    assert_true(L2.lo <= 0.9073 && L2.hi >= 1.0073);

    image im = load(p2), im0 = load(p0);
    /* Bar 4's error line runs from 0.9073 to 1.0073: dark at its centre column above and inside the bar,
     * where the figure without errors has background and bar colour. */
    int cx = (int)floor(L2.plot.x + 4.5 * L2.plot.w / 5);
    for (int k = 0; k < 2; k++) {
        double v = k == 0 ? bar_values[4] + 0.03 : bar_values[4] - 0.03;
        int y = (int)nnm_plot__map(v, L2.lo, L2.hi, L2.plot.y + L2.plot.h, L2.plot.y);
        assert_true(is_dark(&im, cx, y) || is_dark(&im, cx - 1, y));
    }
    int y_top = (int)nnm_plot__map(bar_values[4] + 0.05, L2.lo, L2.hi, L2.plot.y + L2.plot.h, L2.plot.y);
    int y_bot = (int)nnm_plot__map(bar_values[4] - 0.05, L2.lo, L2.hi, L2.plot.y + L2.plot.h, L2.plot.y);
    /* Caps: dark pixels a few pixels either side of the line at both ends. */
    assert_true(dark_in(&im, cx - 5, y_top - 1, cx - 2, y_top + 2) > 0);
    assert_true(dark_in(&im, cx + 3, y_bot - 1, cx + 6, y_bot + 2) > 0);
    /* The annotation sits above the error bar's top, not on the line: text within 20 px above it. */
    assert_true(dark_in(&im, cx - 20, y_top - 22, cx + 20, y_top - 3) > 10);
    /* Without errors that column is clear above the bar's annotation. */
    int y0 = (int)nnm_plot__map(bar_values[4] + 0.02, L0.lo, L0.hi, L0.plot.y + L0.plot.h, L0.plot.y);
    int cx0 = (int)floor(L0.plot.x + 4.5 * L0.plot.w / 5);
    assert_int_equal(dark_in(&im0, cx0 - 1, y0 - 20, cx0 + 2, y0), 0);
    cairo_surface_destroy(im.s);
    cairo_surface_destroy(im0.s);
}

static void test_bars_err__bad_errors_refused(void **state)
{
    (void)state;
    char err[256];
    const char *p = path_of("never_err.png");
    const double neg[] = {0.001, -0.002, 0.0, 0.0, 0.0}, inf[] = {0.001, INFINITY, 0.0, 0.0, 0.0};
    err[0] = '\0';
    assert_int_equal(nnm_plot_bars_err(p, "t", "y", bar_labels, bar_values, neg, NULL, 5, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "error 1 ('sgd/tanh')"));
    err[0] = '\0';
    assert_int_equal(nnm_plot_bars_err(p, "t", "y", bar_labels, bar_values, inf, NULL, 5, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "error 1"));
    err[0] = '\0';
    assert_int_equal(nnm_plot_bars_err(p, "t", "y", NULL, bar_values, inf, NULL, 5, err, sizeof err), -1);
    assert_true(strlen(err) > 10);
    struct stat sb;
    assert_int_equal(stat(p, &sb), -1);
}

/* ---- heatmap with texts -------------------------------------------------------------------------- */

/* Rows of cell (i, j) of layout L that hold text: pixels far from the cell's own colour. */
static int text_rows(const image *im, const nnm_plot__heatmap_layout *L, int rows, int cols, int i, int j,
                     int *first, int *last)
{
    int x0 = (int)round(L->grid.x + L->grid.w * j / cols),
        x1 = (int)round(L->grid.x + L->grid.w * (j + 1) / cols);
    int y0 = (int)round(L->grid.y + L->grid.h * i / rows),
        y1 = (int)round(L->grid.y + L->grid.h * (i + 1) / rows);
    double bg[3], c[3];
    pixel(im, x0 + 2, y0 + 2, bg);
    int n = 0;
    *first = -1, *last = -1;
    for (int y = y0 + 1; y < y1 - 1; y++) {
        int hit = 0;
        for (int x = x0 + 1; x < x1 - 1 && !hit; x++) {
            pixel(im, x, y, c);
            hit = rgb_dist(c, bg) > 0.3;
        }
        if (hit) {
            if (*first < 0) *first = y;
            *last = y;
            n++;
        }
    }
    return n;
}

static void test_heatmap_text__texts_replace_annotations(void **state)
{
    (void)state;
    char err[256] = "";
    const char *marks[] = {NULL, NULL, NULL, NULL, "diverged", NULL};
    const char *texts[] = {"0.9712\n±0.0021", NULL, NULL, NULL, NULL, "x"};
    char pm[512], p0[512], pt[512];
    snprintf(pm, sizeof pm, "%s", path_of("hm_marked.png"));
    snprintf(p0, sizeof p0, "%s", path_of("hm_text0.png"));
    snprintf(pt, sizeof pt, "%s", path_of("hm_text.png"));
    assert_int_equal(nnm_plot_heatmap_marked(pm, "t", "o", "a", opt_names, 2, act_names, 3, grid_values,
                                             marks, "%.4f", NNM_CMAP_VIRIDIS, err, sizeof err),
                     0);
    assert_int_equal(nnm_plot_heatmap_text(p0, "t", "o", "a", opt_names, 2, act_names, 3, grid_values, marks,
                                           NULL, "%.4f", NNM_CMAP_VIRIDIS, err, sizeof err),
                     0);
    assert_true(same_bytes(pm, p0)); /* no texts: the marked figure */
    int rc = nnm_plot_heatmap_text(pt, "t", "o", "a", opt_names, 2, act_names, 3, grid_values, marks, texts,
                                   "%.4f", NNM_CMAP_VIRIDIS, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    image a = load(p0), b = load(pt);
    nnm_plot__canvas c = measuring_canvas(a.w, a.h);
    nnm_plot__heatmap_layout L0, L1;
    assert_int_equal(nnm_plot__heatmap_layout_compute(c.cr, "t", "o", "a", opt_names, 2, act_names, 3,
                                                      grid_values, "%.4f", &L0),
                     0);
    assert_int_equal(nnm_plot__heatmap_text_layout_compute(c.cr, "t", "o", "a", opt_names, 2, act_names, 3,
                                                           grid_values, texts, "%.4f", &L1),
                     0);
    nnm_plot__canvas_close(&c);
    assert_near(L1.annot_px, L0.annot_px, 1e-9); /* two short lines still fit at the same size */
    /* Cell (0, 0) has two lines: about twice as tall as the one line of cell (0, 1), in both figures. */
    int f0, l0, f1, l1;
    int one = text_rows(&a, &L0, 2, 3, 0, 1, &f0, &l0);
    int two = text_rows(&b, &L1, 2, 3, 0, 0, &f1, &l1);
    assert_true(one > 5);
    assert_true(l1 - f1 > 1.8 * (l0 - f0));
    (void)two;
    /* Its lines are centred on the cell. */
    double mid = L1.grid.y + L1.grid.h / 4;
    assert_true(fabs((f1 + l1) / 2.0 - mid) < 4.0);
    /* Colours still come from the values: the cell's background is unchanged. */
    double ca[3], cb[3];
    pixel(&a, (int)L0.grid.x + 3, (int)L0.grid.y + 3, ca);
    pixel(&b, (int)L1.grid.x + 3, (int)L1.grid.y + 3, cb);
    assert_rgb_near(ca, cb, 0.0);
    /* The marked cell keeps its mark; cell (1, 2) now says "x": far fewer text pixels than "0.9842". */
    int fx, lx, fy, ly;
    int rows_a = text_rows(&a, &L0, 2, 3, 1, 2, &fx, &lx), rows_b = text_rows(&b, &L1, 2, 3, 1, 2, &fy, &ly);
    assert_true(rows_a > 0 && rows_b > 0 && rows_b < rows_a);
    cairo_surface_destroy(a.s);
    cairo_surface_destroy(b.s);
}

static void test_heatmap_text__tall_and_wide_texts_fit_their_cells(void **state)
{
    (void)state;
    const char *tall[] = {"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl", NULL, NULL, NULL, NULL, NULL};
    const char *wide[] = {"0.97123456789 +- 0.00211111", NULL, NULL, NULL, NULL, NULL};
    nnm_plot__canvas c = measuring_canvas(NNM_PLOT_HEATMAP_W, NNM_PLOT_HEATMAP_H);
    nnm_plot__heatmap_layout L0, Lt, Lw;
    assert_int_equal(nnm_plot__heatmap_text_layout_compute(c.cr, "t", NULL, NULL, opt_names, 2, act_names, 3,
                                                           grid_values, NULL, "%.4f", &L0),
                     0);
    assert_int_equal(nnm_plot__heatmap_text_layout_compute(c.cr, "t", NULL, NULL, opt_names, 2, act_names, 3,
                                                           grid_values, tall, "%.4f", &Lt),
                     0);
    assert_int_equal(nnm_plot__heatmap_text_layout_compute(c.cr, "t", NULL, NULL, opt_names, 2, act_names, 3,
                                                           grid_values, wide, "%.4f", &Lw),
                     0);
    assert_true(Lt.annot_px < L0.annot_px && Lt.annot_px > 0.0);
    assert_true(Lw.annot_px < L0.annot_px && Lw.annot_px > 0.0);
    nnm_plot__font(c.cr, Lt.annot_px, 0);
    assert_true(nnm_plot__text_height(c.cr, tall[0]) <= 0.86 * Lt.grid.h / 2);
    nnm_plot__font(c.cr, Lw.annot_px, 0);
    assert_true(nnm_plot__text_width(c.cr, wide[0]) <= 0.86 * Lw.grid.w / 3);
    nnm_plot__canvas_close(&c);
    char err[256] = "";
    assert_int_equal(nnm_plot_heatmap_text(path_of("hm_tall.png"), "t", NULL, NULL, opt_names, 2, act_names,
                                           3, grid_values, NULL, tall, NULL, NNM_CMAP_VIRIDIS, err,
                                           sizeof err),
                     0);
    /* Bad input is refused as by the other heatmaps. */
    err[0] = '\0';
    assert_int_equal(nnm_plot_heatmap_text(path_of("never_hm.png"), "t", NULL, NULL, opt_names, 0, act_names,
                                           3, grid_values, NULL, tall, NULL, NNM_CMAP_VIRIDIS, err,
                                           sizeof err),
                     -1);
    assert_true(strlen(err) > 10);
}

/* ---- panels -------------------------------------------------------------------------------------- */

static void panels_layout(const char *title, const nnm_plot_panel *p, int n, nnm_plot__panel_layout *L)
{
    nnm_plot__canvas c = measuring_canvas(NNM_PLOT_PANELS_W(n), NNM_PLOT_PANELS_H);
    assert_int_equal(nnm_plot__panels_layout_compute(c.cr, title, p, n, L), 0);
    nnm_plot__canvas_close(&c);
}

/* No two x tick labels of the panel overlap, and all stay inside the canvas. */
static void assert_x_labels_apart(const nnm_plot__panel_layout *L, int canvas_w)
{
    nnm_plot__canvas c = measuring_canvas(10, 10);
    nnm_plot__font(c.cr, NNM_TICK_PX, 0);
    double prev_right = -INFINITY;
    for (int i = 0; i < L->nxticks; i++) {
        double x = nnm_plot__panel_px(L, L->xticks[i]), w = nnm_plot__text_width(c.cr, L->xlabels[i]);
        if (x - w / 2 < prev_right + 2.0)
            fail_msg("x labels '%s' and '%s' overlap", L->xlabels[i - 1], L->xlabels[i]);
        if (x - w / 2 < 0.0 || x + w / 2 > canvas_w)
            fail_msg("x label '%s' at %.1f leaves the canvas", L->xlabels[i], x);
        prev_right = x + w / 2;
    }
    nnm_plot__canvas_close(&c);
}

static void test_panels__sizes_and_titles(void **state)
{
    (void)state;
    const double y[] = {0.3, 0.5, 0.4, 0.6};
    nnm_plot_series s = {"a", NULL, y, NULL, NULL, 4, 0, 0};
    nnm_plot_panel p[3] = {{"Loss", "epoch", "loss", &s, 1, 0, 1},
                           {"Accuracy", "epoch", "accuracy", &s, 1, 0, 1},
                           {NULL, NULL, NULL, &s, 1, 0, 0}};
    char err[256] = "";
    for (int n = 1; n <= 3; n++) {
        char name[32];
        snprintf(name, sizeof name, "panels%d.png", n);
        int rc = nnm_plot_panels(path_of(name), "History", p, n, err, sizeof err);
        if (rc != 0) fail_msg("%s", err);
        image im = load(path_of(name));
        assert_int_equal(im.w, n == 1 ? 1000 : n == 2 ? 1400 : 1800);
        assert_int_equal(im.w, NNM_PLOT_PANELS_W(n));
        assert_int_equal(im.h, NNM_PLOT_PANELS_H);
        assert_white_at(&im, 0, 0);
        assert_white_at(&im, im.w - 1, im.h - 1);
        nnm_plot__panel_layout L[3];
        panels_layout("History", p, n, L);
        for (int i = 0; i < n; i++) {
            /* Side by side, each within its share, with whole-epoch ticks. */
            assert_true(L[i].plot.x >= i * im.w / n && L[i].plot.x + L[i].plot.w <= (i + 1) * im.w / n);
            assert_true(L[i].plot.w > 0.5 * im.w / n && L[i].plot.h > 0.6 * im.h);
            assert_x_labels_apart(&L[i], im.w);
            if (i < 2)
                for (int k = 0; k < L[i].nxticks; k++) assert_near(L[i].xticks[k], k + 1.0, 0.0);
        }
        /* The bold title in dark pixels above the axes, over the middle of the panels. */
        double mid = (L[0].plot.x + L[n - 1].plot.x + L[n - 1].plot.w) / 2;
        assert_true(dark_in(&im, (int)mid - 40, 15, (int)mid + 40, 40) > 50);
        if (n >= 2) /* the second panel's own title, over its axes */
            assert_true(dark_in(&im, (int)(L[1].plot.x + L[1].plot.w / 2) - 30, (int)L[1].title_y,
                                (int)(L[1].plot.x + L[1].plot.w / 2) + 30, (int)L[1].title_y + 18) > 20);
        cairo_surface_destroy(im.s);
    }
}

static void test_panels__lines_dashes_gaps_and_bands(void **state)
{
    (void)state;
    enum { N = 12 };
    double flat[N], dashed[N], band_y[N], lo[N], hi[N];
    for (int k = 0; k < N; k++) {
        flat[k] = 0.5;
        dashed[k] = 0.2;
        band_y[k] = 0.8;
        lo[k] = 0.7;
        hi[k] = 0.9;
    }
    flat[4] = NAN; /* x = 5: a gap in the line */
    lo[8] = NAN;   /* x = 9: a gap in the band */
    nnm_plot_series s[3] = {{"flat", NULL, flat, NULL, NULL, N, 0, 0},
                            {"dashed", NULL, dashed, NULL, NULL, N, 1, 1},
                            {"band", NULL, band_y, lo, hi, N, 2, 0}};
    nnm_plot_panel p = {"t", "epoch", "y", s, 3, 0, 1};
    char err[256] = "";
    const char *path = path_of("panel_lines.png");
    int rc = nnm_plot_panels(path, NULL, &p, 1, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    image im = load(path);
    nnm_plot__panel_layout L;
    panels_layout(NULL, &p, 1, &L);
    /* The y range covers the band (0.2 .. 0.9) with 5% margins. */
    assert_near(L.ylo, 0.2 - 0.035, 1e-12);
    assert_near(L.yhi, 0.9 + 0.035, 1e-12);
    double c0[3], c1[3], c2[3], got[3];
    nnm_plot__palette_tab10(0, c0);
    nnm_plot__palette_tab10(1, c1);
    nnm_plot__palette_tab10(2, c2);
    int y_flat = (int)nnm_plot__panel_py(&L, 0.5);
    pixel(&im, (int)nnm_plot__panel_px(&L, 2.5), y_flat, got);
    assert_rgb_near(got, c0, TOL);
    /* No line from x = 4 to x = 6 around the missing point 5, nor a marker on it. */
    for (double x = 4.3; x <= 5.7; x += 0.1) {
        pixel(&im, (int)nnm_plot__panel_px(&L, x), y_flat, got);
        assert_true(rgb_dist(got, c0) > 0.3);
    }
    /* The dashed line has both its colour and gaps along a row; the solid one only its colour. */
    int y_dash = (int)nnm_plot__panel_py(&L, 0.2), on = 0, off = 0, solid_off = 0;
    for (int x = (int)nnm_plot__panel_px(&L, 2.2); x < (int)nnm_plot__panel_px(&L, 3.8); x++) {
        pixel(&im, x, y_dash, got);
        if (rgb_dist(got, c1) <= TOL)
            on++;
        else if (rgb_dist(got, (double[3]){1, 1, 1}) <= 0.15)
            off++;
        pixel(&im, x, y_flat, got);
        solid_off += rgb_dist(got, c0) > TOL;
    }
    assert_true(on > 10 && off > 5);
    assert_int_equal(solid_off, 0);
    /* The band: the series colour at alpha 0.2 over white between the line and its edges ... */
    double want[3];
    for (int k = 0; k < 3; k++) want[k] = 1.0 - 0.2 * (1.0 - c2[k]);
    int y_band = (int)nnm_plot__panel_py(&L, 0.8625); /* between the grid lines at 0.85 and 0.9 */
    pixel(&im, (int)nnm_plot__panel_px(&L, 3.5), y_band, got);
    assert_rgb_near(got, want, 3.0 / 255.0);
    /* ... and none between x = 8 and 10, around the point whose lower edge is missing, where the runs on
     * either side still have it. */
    for (double x = 8.2; x <= 9.8; x += 0.2) {
        pixel(&im, (int)nnm_plot__panel_px(&L, x), y_band, got);
        assert_rgb_near(got, (double[3]){1, 1, 1}, 0.0);
    }
    for (double x = 7.5; x <= 10.5; x += 3.0) {
        pixel(&im, (int)nnm_plot__panel_px(&L, x), y_band, got);
        assert_rgb_near(got, want, 3.0 / 255.0);
    }
    cairo_surface_destroy(im.s);
}

static void test_panels__log_axes_ticks_at_powers(void **state)
{
    (void)state;
    double lr[9], acc[9], bs[] = {16, 32, 64, 128, 256, 512},
                          bacc[] = {0.97, 0.975, 0.976, 0.974, 0.97, 0.96};
    for (int k = 0; k < 9; k++) {
        lr[k] = pow(10.0, -4 + 0.5 * k);
        acc[k] = 0.9 - 0.01 * (k - 4) * (k - 4);
    }
    nnm_plot_series s10 = {"adam", lr, acc, NULL, NULL, 9, 1, 0},
                    s2 = {"adam", bs, bacc, NULL, NULL, 6, 1, 0};
    nnm_plot_panel p[2] = {{"lr", "learning rate", "accuracy", &s10, 1, 10, 0},
                           {"batch", "batch size", "accuracy", &s2, 1, 2, 0}};
    char err[256] = "";
    int rc = nnm_plot_panels(path_of("log.png"), "Sensitivity", p, 2, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    nnm_plot__panel_layout L[2];
    panels_layout("Sensitivity", p, 2, L);
    const char *want10[] = {"1e-4", "0.001", "0.01", "0.1", "1"};
    assert_int_equal(L[0].nxticks, 5);
    for (int k = 0; k < 5; k++) {
        assert_near(L[0].xticks[k], pow(10.0, k - 4), 1e-12 * pow(10.0, k - 4));
        assert_string_equal(L[0].xlabels[k], want10[k]);
    }
    /* Decades are evenly spaced; minor ticks at 2..9 times each decade, between them. */
    double d1 = nnm_plot__panel_px(&L[0], 0.001) - nnm_plot__panel_px(&L[0], 1e-4);
    double d2 = nnm_plot__panel_px(&L[0], 1.0) - nnm_plot__panel_px(&L[0], 0.1);
    assert_near(d1, d2, 1e-6);
    assert_true(L[0].nxminor >= 4 * 8);
    const char *want2[] = {"16", "32", "64", "128", "256", "512"};
    assert_int_equal(L[1].nxticks, 6);
    for (int k = 0; k < 6; k++) {
        assert_near(L[1].xticks[k], bs[k], 1e-9);
        assert_string_equal(L[1].xlabels[k], want2[k]);
    }
    assert_int_equal(L[1].nxminor, 0);
    for (int i = 0; i < 2; i++) assert_x_labels_apart(&L[i], NNM_PLOT_PANELS_W(2));
    /* Wide and narrow ranges: thinned decades, 1-2-5 or linear ticks, never overlapping. */
    const double ranges[][2] = {{1e-12, 1e12}, {1e-300, 1e300}, {0.002, 0.008}, {0.02, 0.5}, {3, 5}, {1, 1}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        for (int base = 2; base <= 10; base += 8) {
            const double xs[] = {ranges[r][0], ranges[r][1]}, ys[] = {1, 2};
            nnm_plot_series s = {"s", xs, ys, NULL, NULL, 2, 0, 0};
            nnm_plot_panel q[3] = {{"t", "x", "y", &s, 1, base, 0},
                                   {"t", "x", "y", &s, 1, base, 0},
                                   {"t", "x", "y", &s, 1, base, 0}};
            nnm_plot__panel_layout M[3];
            panels_layout("t", q, 3, M);
            assert_true(M[2].nxticks >= 1);
            for (int i = 0; i < 3; i++) assert_x_labels_apart(&M[i], NNM_PLOT_PANELS_W(3));
            assert_int_equal(nnm_plot_panels(path_of("log_range.png"), "t", q, 3, err, sizeof err), 0);
        }
}

static void test_panels__linear_ticks_never_overlap(void **state)
{
    (void)state;
    const double ranges[][2] = {{1, 200},         {1, 7}, {0, 1e-6}, {-123456.5, 987654.25},
                                {0.9731, 0.9732}, {5, 5}};
    char err[256] = "";
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        for (int integer = 0; integer <= 1; integer++)
            for (int n = 1; n <= 3; n++) {
                const double xs[] = {ranges[r][0], ranges[r][1]}, ys[] = {1, 2};
                nnm_plot_series s = {"s", xs, ys, NULL, NULL, 2, 0, 0};
                nnm_plot_panel q[3] = {{"t", "x", "y", &s, 1, 0, integer},
                                       {"t", "x", "y", &s, 1, 0, integer},
                                       {"t", "x", "y", &s, 1, 0, integer}};
                nnm_plot__panel_layout M[3];
                panels_layout("t", q, n, M);
                for (int i = 0; i < n; i++) {
                    assert_x_labels_apart(&M[i], NNM_PLOT_PANELS_W(n));
                    if (integer)
                        for (int k = 0; k < M[i].nxticks; k++)
                            assert_near(M[i].xticks[k], round(M[i].xticks[k]), 0.0);
                }
                assert_int_equal(nnm_plot_panels(path_of("lin_range.png"), "t", q, n, err, sizeof err), 0);
            }
}

/* Whether any drawn point of s falls in r, grown by a marker's radius. */
static int point_in(const nnm_plot__panel_layout *L, const nnm_plot_series *s, nnm_plot__rect r)
{
    for (int k = 0; k < s->n; k++) {
        double x = nnm_plot__panel_px(L, s->x ? s->x[k] : k + 1.0), y = nnm_plot__panel_py(L, s->y[k]);
        if (x >= r.x - 3 && x <= r.x + r.w + 3 && y >= r.y - 3 && y <= r.y + r.h + 3) return 1;
    }
    return 0;
}

static void test_panels__legend_best_place_or_outside(void **state)
{
    (void)state;
    enum { N = 20 };
    /* Lines rising to the upper right leave the upper left and lower right free: matplotlib's order
     * picks upper left (2) first after upper right (1). */
    static double rise[3][N];
    nnm_plot_series s[3];
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < N; k++) rise[i][k] = (k + 1.0) / N - 0.02 * i;
        s[i] =
            (nnm_plot_series){i == 0 ? "one" : i == 1 ? "two" : "three", NULL, rise[i], NULL, NULL, N, i, 0};
    }
    nnm_plot_panel p = {"t", "x", "y", s, 3, 0, 1};
    nnm_plot__panel_layout L;
    panels_layout("t", &p, 1, &L);
    assert_int_equal(L.place, 2);
    for (int i = 0; i < 3; i++) assert_false(point_in(&L, &s[i], L.legend));
    assert_true(L.legend.x >= L.plot.x && L.legend.x + L.legend.w <= L.plot.x + L.plot.w);
    /* Falling lines: upper right is free. */
    static double fall[N];
    for (int k = 0; k < N; k++) fall[k] = 1.0 - (k + 1.0) / N;
    nnm_plot_series f = {"fall", NULL, fall, NULL, NULL, N, 0, 0};
    nnm_plot_panel pf = {"t", "x", "y", &f, 1, 0, 1};
    panels_layout("t", &pf, 1, &L);
    assert_int_equal(L.place, 1);
    /* Lines at five levels and a band over the rest leave no free corner: the legend goes right of the
     * axes, which narrow for it. */
    static double lvl[5][N], lo[N], hi[N];
    nnm_plot_series full[5];
    for (int i = 0; i < 5; i++) {
        for (int k = 0; k < N; k++) {
            lvl[i][k] = i + 0.3 * sin(k);
            lo[k] = -0.5;
            hi[k] = 4.5;
        }
        full[i] = (nnm_plot_series){"level", NULL, lvl[i], i == 0 ? lo : NULL, i == 0 ? hi : NULL, N, i, 0};
    }
    nnm_plot_panel pfull = {"t", "x", "y", full, 5, 0, 1};
    panels_layout("t", &pfull, 1, &L);
    assert_int_equal(L.place, 0);
    assert_true(L.legend.x >= L.plot.x + L.plot.w);
    assert_true(L.legend.x + L.legend.w <= NNM_PLOT_PANELS_W(1));
    char err[256] = "";
    const char *path = path_of("legend_out.png");
    assert_int_equal(nnm_plot_panels(path, "t", &pfull, 1, err, sizeof err), 0);
    image im = load(path);
    /* The legend holds the last series' colour. */
    double want[3], got[3];
    nnm_plot__palette_tab10(4, want);
    int found = 0;
    int y = (int)(L.legend.y + 8.0 + 4.5 * NNM_PANEL_LEGEND_H);
    for (int x = (int)L.legend.x; x < (int)(L.legend.x + L.legend.w); x++) {
        pixel(&im, x, y, got);
        found += rgb_dist(got, want) <= TOL;
    }
    assert_true(found > 5);
    cairo_surface_destroy(im.s);
    /* Unnamed series are not in the legend; a panel with none has no legend. */
    nnm_plot_series anon = f;
    anon.name = "";
    nnm_plot_panel pa = {"t", "x", "y", &anon, 1, 0, 0};
    panels_layout("t", &pa, 1, &L);
    assert_int_equal(L.place, -1);
    assert_int_equal(L.entries, 0);
}

static void test_panels__crowded_legends_stay_on_the_canvas(void **state)
{
    (void)state;
    static double y[NNM_PLOT_MAX_SERIES][10];
    static char names[NNM_PLOT_MAX_SERIES][64];
    static nnm_plot_series s[NNM_PLOT_MAX_SERIES];
    for (int i = 0; i < NNM_PLOT_MAX_SERIES; i++) {
        for (int k = 0; k < 10; k++) y[i][k] = 0.9 + 0.001 * i + 0.005 * k;
        snprintf(names[i], sizeof names[i], "%s WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW %d", i % 2 ? "long" : "x",
                 i);
        s[i] = (nnm_plot_series){names[i], NULL, y[i], NULL, NULL, 10, i, i / 10 % 2};
    }
    const int counts[] = {1, 9, 20, 21, 45, NNM_PLOT_MAX_SERIES};
    char err[256] = "";
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (int n = 1; n <= 3; n++) {
            nnm_plot_panel p[3] = {{"a", "x", "y", s, counts[c], 0, 1},
                                   {"b", "x", "y", s, counts[c], 0, 1},
                                   {"c", "x", "y", s, counts[c], 0, 1}};
            nnm_plot__panel_layout L[3];
            panels_layout("t", p, n, L);
            for (int i = 0; i < n; i++) {
                nnm_plot__rect g = L[i].legend;
                assert_true(g.x >= L[i].area.x && g.x + g.w <= L[i].area.x + L[i].area.w + 0.5);
                assert_true(g.y >= 0 && g.y + g.h <= L[i].plot.y + L[i].plot.h + 0.5);
                assert_true(L[i].plot.w >= 0.3 * L[i].area.w - 0.5);
                assert_true(L[i].shown <= L[i].entries && L[i].shown >= 1);
                assert_true(L[i].legend_rows * L[i].legend_cols >= L[i].shown);
                if (L[i].place > 0) /* inside: clear of every line */
                    for (int k = 0; k < counts[c]; k++) assert_false(point_in(&L[i], &s[k], g));
            }
            assert_int_equal(nnm_plot_panels(path_of("crowded.png"), "t", p, n, err, sizeof err), 0);
        }
}

static void test_panels__bad_arguments_rejected_with_a_message(void **state)
{
    (void)state;
    char err[512];
    const char *p = path_of("never_panels.png");
    const double y[] = {0.1, 0.2, 0.3}, x0[] = {0.0, 1.0, 2.0}, xneg[] = {1.0, -1.0, 2.0},
                 xnan[] = {1.0, NAN, 2.0}, yinf[] = {0.1, INFINITY, 0.3}, xinf[] = {1.0, 2.0, -INFINITY};
    nnm_plot_series ok = {"ok", NULL, y, NULL, NULL, 3, 0, 0};
    nnm_plot_panel good = {"t", "x", "y", &ok, 1, 0, 0};
#define REJECTS(call, needle)                                                                                \
    do {                                                                                                     \
        err[0] = '\0';                                                                                       \
        assert_int_equal((call), -1);                                                                        \
        if (!strstr(err, needle)) fail_msg("message '%s' lacks '%s'", err, needle);                          \
    } while (0)
    REJECTS(nnm_plot_panels(NULL, "t", &good, 1, err, sizeof err), "must not be NULL");
    REJECTS(nnm_plot_panels(p, "t", NULL, 1, err, sizeof err), "must not be NULL");
    REJECTS(nnm_plot_panels(p, "t", &good, 0, err, sizeof err), "0 panels, expects 1 to 3");
    REJECTS(nnm_plot_panels(p, "t", &good, 4, err, sizeof err), "4 panels");
    nnm_plot_panel bad = good;
    bad.nseries = -1;
    REJECTS(nnm_plot_panels(p, "t", &bad, 1, err, sizeof err), "-1 series");
    bad = good;
    bad.nseries = NNM_PLOT_MAX_SERIES + 1;
    REJECTS(nnm_plot_panels(p, "t", &bad, 1, err, sizeof err), "series, expects 0 to");
    bad = good;
    bad.series = NULL;
    REJECTS(nnm_plot_panels(p, "t", &bad, 1, err, sizeof err), "no array");
    bad = good;
    bad.log_x = 3;
    REJECTS(nnm_plot_panels(p, "t", &bad, 1, err, sizeof err), "log_x is 3");
    struct {
        nnm_plot_series s;
        int log_x;
        const char *needle;
    } cases[] = {
        {{"s", NULL, NULL, NULL, NULL, 3, 0, 0}, 0, "no y"},
        {{"s", NULL, y, y, NULL, 3, 0, 0}, 0, "one band edge"},
        {{"s", NULL, y, NULL, y, 3, 0, 0}, 0, "one band edge"},
        {{"s", NULL, y, NULL, NULL, -1, 0, 0}, 0, "-1 points"},
        {{"s", NULL, y, NULL, NULL, NNM_PLOT_MAX_POINTS + 1, 0, 0}, 0, "points, expects 0 to"},
        {{"s", NULL, yinf, NULL, NULL, 3, 0, 0}, 0, "y[1] is infinite"},
        {{"s", NULL, y, yinf, y, 3, 0, 0}, 0, "lo[1] is infinite"},
        {{"s", NULL, y, y, yinf, 3, 0, 0}, 0, "hi[1] is infinite"},
        {{"s", xinf, y, NULL, NULL, 3, 0, 0}, 0, "x[2] is infinite"},
        {{"s", x0, y, NULL, NULL, 3, 0, 0}, 10, "x[0] = 0, but the x axis is logarithmic"},
        {{"s", xneg, y, NULL, NULL, 3, 0, 0}, 2, "x[1] = -1, but the x axis is logarithmic"},
        {{"s", xnan, y, NULL, NULL, 3, 0, 0}, 10, "logarithmic"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nnm_plot_series two[2] = {ok, cases[k].s};
        nnm_plot_panel q[2] = {good, {"t", "x", "y", two, 2, cases[k].log_x, 0}};
        REJECTS(nnm_plot_panels(p, "t", q, 2, err, sizeof err), cases[k].needle);
        assert_non_null(strstr(err, "panel 1, series 1 ('s')"));
    }
#undef REJECTS
    struct stat sb;
    assert_int_equal(stat(p, &sb), -1); /* nothing was written */
    /* Fine: NaN x on a linear axis (a gap), empty series, empty panels, a legend-only entry. */
    nnm_plot_series fine[3] = {{"gap", xnan, y, NULL, NULL, 3, 0, 0},
                               {"empty", NULL, NULL, NULL, NULL, 0, 1, 1},
                               {NULL, x0, y, y, y, 3, 2, 0}};
    nnm_plot_panel q[2] = {{"t", "x", "y", fine, 3, 0, 0}, {NULL, NULL, NULL, NULL, 0, 10, 0}};
    int rc = nnm_plot_panels(path_of("fine.png"), NULL, q, 2, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    /* A missing folder: the path and the system's reason. */
    err[0] = '\0';
    const char *missing = "/nonexistent-nnm-folder/history.png";
    assert_int_equal(nnm_plot_panels(missing, "t", &good, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, "No such file or directory"));
}

/* ---- errors -------------------------------------------------------------------------------------- */

static void test_errors__missing_folder_reports_path_and_cairo_status(void **state)
{
    (void)state;
    char err[512] = "";
    const char *p = "/nonexistent-nnm-folder/results.png";
    assert_int_equal(nnm_plot_bars(p, "t", "y", bar_labels, bar_values, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, cairo_status_to_string(CAIRO_STATUS_WRITE_ERROR)));
    assert_non_null(strstr(err, "No such file or directory"));
    err[0] = '\0';
    assert_int_equal(nnm_plot_heatmap(p, "t", NULL, NULL, opt_names, 2, act_names, 3, grid_values, NULL,
                                      NNM_CMAP_VIRIDIS, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, p));
    const double *ys[] = {bar_values};
    const int lens[] = {5};
    err[0] = '\0';
    assert_int_equal(nnm_plot_curves(p, "t", NULL, NULL, bar_labels, ys, lens, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, p));
    /* No room for a message is no reason to crash. */
    assert_int_equal(nnm_plot_bars(p, "t", "y", bar_labels, bar_values, 5, NULL, 0), -1);
    char tiny[8];
    assert_int_equal(nnm_plot_bars(p, "t", "y", bar_labels, bar_values, 5, tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

static void test_errors__bad_arguments_rejected_with_a_message(void **state)
{
    (void)state;
    char err[256];
    const char *p = path_of("never.png");
    const double with_inf[] = {0.9, INFINITY};
    const char *null_label[] = {"a", NULL};
#define REJECTS(call)                                                                                        \
    do {                                                                                                     \
        err[0] = '\0';                                                                                       \
        assert_int_equal((call), -1);                                                                        \
        assert_true(strlen(err) > 10);                                                                       \
    } while (0)
    REJECTS(nnm_plot_bars(p, "t", "y", bar_labels, bar_values, 0, err, sizeof err));
    REJECTS(nnm_plot_bars(p, "t", "y", bar_labels, bar_values, NNM_PLOT_MAX_BARS + 1, err, sizeof err));
    REJECTS(nnm_plot_bars(NULL, "t", "y", bar_labels, bar_values, 5, err, sizeof err));
    REJECTS(nnm_plot_bars(p, "t", "y", NULL, bar_values, 5, err, sizeof err));
    REJECTS(nnm_plot_bars(p, "t", "y", null_label, bar_values, 2, err, sizeof err));
    REJECTS(nnm_plot_bars(p, "t", "y", bar_labels, with_inf, 2, err, sizeof err));
    const char *bad_fmts[] = {"%s", "%d", "%.4f %.4f", "%*f", "no conversion", "%.4", "%123f", "%n"};
    for (size_t k = 0; k < sizeof bad_fmts / sizeof bad_fmts[0]; k++)
        REJECTS(nnm_plot_heatmap(p, "t", NULL, NULL, opt_names, 2, act_names, 3, grid_values, bad_fmts[k],
                                 NNM_CMAP_VIRIDIS, err, sizeof err));
    REJECTS(nnm_plot_heatmap(p, "t", NULL, NULL, opt_names, 2, act_names, 3, grid_values, "%.2f", 7, err,
                             sizeof err));
    REJECTS(nnm_plot_heatmap(p, "t", NULL, NULL, opt_names, 0, act_names, 3, grid_values, "%.2f", 0, err,
                             sizeof err));
    REJECTS(nnm_plot_heatmap(p, "t", NULL, NULL, opt_names, 1, act_names, 2, with_inf, "%.2f", 0, err,
                             sizeof err));
    const double *ys[] = {bar_values, NULL};
    const int lens_neg[] = {5, -1}, lens_null[] = {5, 3};
    REJECTS(nnm_plot_curves(p, "t", NULL, NULL, bar_labels, ys, lens_neg, 2, err, sizeof err));
    REJECTS(nnm_plot_curves(p, "t", NULL, NULL, bar_labels, ys, lens_null, 2, err, sizeof err));
    REJECTS(nnm_plot_curves(p, "t", NULL, NULL, bar_labels, ys, lens_null, 0, err, sizeof err));
    const double *ys_inf[] = {with_inf};
    const int lens2[] = {2};
    REJECTS(nnm_plot_curves(p, "t", NULL, NULL, bar_labels, ys_inf, lens2, 1, err, sizeof err));
#undef REJECTS
    struct stat sb;
    assert_int_equal(stat(p, &sb), -1); /* nothing was written */
    /* Formats that are fine. */
    const char *good_fmts[] = {"%.0f", "%.2e", "%g", "%5.1f%%", "acc %.3f"};
    for (size_t k = 0; k < sizeof good_fmts / sizeof good_fmts[0]; k++)
        assert_int_equal(nnm_plot_heatmap(path_of("fmt.png"), "t", NULL, NULL, opt_names, 2, act_names, 3,
                                          grid_values, good_fmts[k], NNM_CMAP_VIRIDIS, err, sizeof err),
                         0);
}

static void test_errors__replaces_files_but_never_folders(void **state)
{
    (void)state;
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/replace", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/fig.png", dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs("old", f);
    fclose(f);
    assert_int_equal(nnm_plot_bars(p, "t", "y", bar_labels, bar_values, 5, err, sizeof err), 0);
    image im = load(p); /* the old bytes were replaced by a PNG */
    cairo_surface_destroy(im.s);
    assert_int_equal(entries_in(dir), 1); /* no temporary file left behind */
    /* A folder in the way is refused, not replaced. */
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sub.png", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(nnm_plot_bars(sub, "t", "y", bar_labels, bar_values, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    struct stat sb;
    assert_int_equal(stat(sub, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(entries_in(dir), 2);
    rmdir(sub);
    empty_dir(dir);
    rmdir(dir);
}

static void test_errors__full_disk_fails_and_leaves_nothing(void **state)
{
    (void)state;
    char dir[512], err[512] = "";
    snprintf(dir, sizeof dir, "%s/full", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    /* 8 KiB of tmpfs cannot hold a 1000 x 600 figure: a real ENOSPC (needs root; skipped otherwise). */
    if (mount("tmpfs", dir, "tmpfs", 0, "size=8k") != 0) {
        rmdir(dir);
        skip();
    }
    char p[600];
    snprintf(p, sizeof p, "%s/fig.png", dir);
    int rc = nnm_plot_bars(p, "t", "y", bar_labels, bar_values, 5, err, sizeof err);
    int left = entries_in(dir);
    umount2(dir, MNT_DETACH);
    rmdir(dir);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "No space left on device"));
    assert_int_equal(left, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_ticks__accuracy_range_steps_by_hundredths),
        cmocka_unit_test(test_nice_ticks__unit_range),
        cmocka_unit_test(test_nice_ticks__negative_range_has_exact_zero),
        cmocka_unit_test(test_nice_ticks__equal_bounds_widen),
        cmocka_unit_test(test_nice_ticks__smallest_step_that_fits),
        cmocka_unit_test(test_nice_ticks__rejects_bad_input),
        cmocka_unit_test(test_colormap__viridis_published_points),
        cmocka_unit_test(test_colormap__blues_ends),
        cmocka_unit_test(test_colormap__clamps_and_is_monotone_in_luminance),
        cmocka_unit_test(test_contrast__dark_text_on_light_backgrounds),
        cmocka_unit_test(test_bars__size_background_and_bar_heights),
        cmocka_unit_test(test_bars__missing_value_draws_no_bar),
        cmocka_unit_test(test_bars__same_input_same_bytes),
        cmocka_unit_test(test_bars__many_long_and_odd_labels_render),
        cmocka_unit_test(test_bars__x_labels_never_overlap_from_1_to_200_bars),
        cmocka_unit_test(test_heatmap__cells_and_colour_bar_match_the_map),
        cmocka_unit_test(test_heatmap__annotation_colour_switches_for_contrast),
        cmocka_unit_test(test_heatmap__confusion_matrix_blues),
        cmocka_unit_test(test_heatmap__constant_and_large_grids_render),
        cmocka_unit_test(test_heatmap__colour_limits_stay_in_the_metric_range),
        cmocka_unit_test(test_heatmap__labels_fit_a_10x10_grid),
        cmocka_unit_test(test_curves__lines_where_the_values_are_and_legend_outside),
        cmocka_unit_test(test_curves__edge_cases_render),
        cmocka_unit_test(test_curves__every_series_has_its_own_colour_and_style),
        cmocka_unit_test(test_curves__many_runs_legend_below_keeps_the_width),
        cmocka_unit_test(test_bars_err__no_errors_draw_the_marked_figure),
        cmocka_unit_test(test_bars_err__error_bars_drawn_and_range_covers_them),
        cmocka_unit_test(test_bars_err__bad_errors_refused),
        cmocka_unit_test(test_heatmap_text__texts_replace_annotations),
        cmocka_unit_test(test_heatmap_text__tall_and_wide_texts_fit_their_cells),
        cmocka_unit_test(test_panels__sizes_and_titles),
        cmocka_unit_test(test_panels__lines_dashes_gaps_and_bands),
        cmocka_unit_test(test_panels__log_axes_ticks_at_powers),
        cmocka_unit_test(test_panels__linear_ticks_never_overlap),
        cmocka_unit_test(test_panels__legend_best_place_or_outside),
        cmocka_unit_test(test_panels__crowded_legends_stay_on_the_canvas),
        cmocka_unit_test(test_panels__bad_arguments_rejected_with_a_message),
        cmocka_unit_test(test_errors__missing_folder_reports_path_and_cairo_status),
        cmocka_unit_test(test_errors__bad_arguments_rejected_with_a_message),
        cmocka_unit_test(test_errors__replaces_files_but_never_folders),
        cmocka_unit_test(test_errors__full_disk_fails_and_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
