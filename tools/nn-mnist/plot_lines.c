/* Pieces shared by the line plots (nnm_plot_curves(), nnm_plot_panels()): dash patterns, markers,
 * legends and the x axis. */
#include <math.h>

#include "plot_internal.h"

#define PLOT_PI 3.14159265358979323846

/* Dash patterns in pixels, after matplotlib's ("--", ":", "-." scaled by the line width) and then longer
 * and looser ones; each differs from the others in its rhythm, not only its scale. */
static const double dash_on_off[NNM_LINE_DASHES][8] = {
    {0},                                       /* solid */
    {7.7, 3.3},                                /* dashed */
    {2.1, 3.4},                                /* dotted */
    {13.3, 3.3, 2.1, 3.3},                     /* dash-dot */
    {18.0, 4.5},                               /* long dash */
    {10.0, 3.0, 2.1, 3.0, 2.1, 3.0},           /* dash-dot-dot */
    {2.1, 7.5},                                /* loose dots */
    {6.0, 8.0},                                /* loose dashes */
    {14.0, 3.0, 5.0, 3.0},                     /* long-short */
    {10.0, 3.0, 2.1, 3.0, 2.1, 3.0, 2.1, 3.0}, /* dash-dot-dot-dot */
};
static const int dash_count[NNM_LINE_DASHES] = {0, 2, 2, 4, 2, 6, 2, 2, 4, 8};

void nnm_plot__line_style(cairo_t *cr, int colour, int dash)
{
    if (dash < 0 || dash >= NNM_LINE_DASHES) dash = 0;
    double rgb[3];
    nnm_plot__palette_tab10(colour, rgb);
    nnm_plot__set_rgb(cr, rgb);
    cairo_set_line_width(cr, NNM_LINES_PX);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    /* Butt caps on dashed lines, as matplotlib's: round caps would lengthen the dashes into the gaps. */
    cairo_set_line_cap(cr, dash ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_ROUND);
    cairo_set_dash(cr, dash_on_off[dash], dash_count[dash], 0.0);
}

/* A regular polygon of k corners of radius r, the first at angle a0 (radians, 0 = right, y down). */
static void polygon(cairo_t *cr, double x, double y, int k, double r, double a0)
{
    cairo_new_sub_path(cr);
    for (int i = 0; i < k; i++)
        cairo_line_to(cr, x + r * cos(a0 + 2 * PLOT_PI * i / k), y + r * sin(a0 + 2 * PLOT_PI * i / k));
    cairo_close_path(cr);
}

/* Marker shapes, as matplotlib's "o s ^ D v P X p * h", sized to about the same ink as the design's dot. */
void nnm_plot__marker(cairo_t *cr, int shape, double x, double y)
{
    double r = NNM_MARKER_R + 0.8, up = -PLOT_PI / 2;
    switch (shape) {
    case 1: cairo_rectangle(cr, x - 0.85 * r, y - 0.85 * r, 1.7 * r, 1.7 * r); break;
    case 2: polygon(cr, x, y + 0.2 * r, 3, 1.2 * r, up); break;
    case 3: polygon(cr, x, y, 4, 1.15 * r, up); break;
    case 4: polygon(cr, x, y - 0.2 * r, 3, 1.2 * r, -up); break;
    case 5:   /* plus, filled */
    case 6: { /* cross, filled: the plus turned by 45 degrees */
        double t = 0.38 * r, a = shape == 6 ? PLOT_PI / 4 : 0.0, c = cos(a), sn = sin(a);
        const double pts[12][2] = {{-t, -r}, {t, -r}, {t, -t}, {r, -t}, {r, t},   {t, t},
                                   {t, r},   {-t, r}, {-t, t}, {-r, t}, {-r, -t}, {-t, -t}};
        cairo_new_sub_path(cr);
        for (int i = 0; i < 12; i++)
            cairo_line_to(cr, x + c * pts[i][0] - sn * pts[i][1], y + sn * pts[i][0] + c * pts[i][1]);
        cairo_close_path(cr);
        break;
    }
    case 7: polygon(cr, x, y, 5, 1.1 * r, up); break;
    case 8: /* five-pointed star */
        cairo_new_sub_path(cr);
        for (int i = 0; i < 10; i++) {
            double rr = i % 2 ? 0.5 * r : 1.3 * r, a = up + PLOT_PI * i / 5;
            cairo_line_to(cr, x + rr * cos(a), y + rr * sin(a));
        }
        cairo_close_path(cr);
        break;
    case 9: polygon(cr, x, y, 6, 1.05 * r, up); break;
    default: cairo_new_sub_path(cr); cairo_arc(cr, x, y, NNM_MARKER_R, 0.0, 2 * PLOT_PI);
    }
    cairo_fill(cr);
}

static void rounded_rect(cairo_t *cr, nnm_plot__rect r, double radius)
{
    double pi = 3.14159265358979323846;
    cairo_new_sub_path(cr);
    cairo_arc(cr, r.x + r.w - radius, r.y + radius, radius, -pi / 2, 0.0);
    cairo_arc(cr, r.x + r.w - radius, r.y + r.h - radius, radius, 0.0, pi / 2);
    cairo_arc(cr, r.x + radius, r.y + r.h - radius, radius, pi / 2, pi);
    cairo_arc(cr, r.x + radius, r.y + radius, radius, pi, 3 * pi / 2);
    cairo_close_path(cr);
}

nnm_plot__rect nnm_plot__legend_frame(cairo_t *cr, nnm_plot__rect b)
{
    b.x = floor(b.x) + 0.5;
    b.y = floor(b.y) + 0.5;
    rounded_rect(cr, b, 3.0);
    cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
    return b;
}

void nnm_plot__legend_entry(cairo_t *cr, double x, double y, int colour, int dash, int marker,
                            const char *name)
{
    nnm_plot__line_style(cr, colour, dash);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + NNM_LEGEND_HANDLE_W, y);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0.0);
    if (marker >= 0) nnm_plot__marker(cr, marker, x + NNM_LEGEND_HANDLE_W / 2, y);
    char buf[NNM_LABEL_MAX + 8];
    nnm_plot__shorten(name, NNM_LABEL_MAX, buf, sizeof buf);
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    nnm_plot__text(cr, buf, x + NNM_LEGEND_HANDLE_W + NNM_LEGEND_PAD, y, 0.0, 0.5, 0.0);
}

void nnm_plot__bottom_axis(cairo_t *cr, nnm_plot__rect plot, const double *xs, const char *const *labels,
                           int n)
{
    nnm_plot__bottom_spine(cr, plot);
    double y = floor(plot.y + plot.h) + 0.5;
    for (int i = 0; i < n; i++) {
        double x = floor(xs[i]) + 0.5;
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x, y + NNM_TICK_LEN);
    }
    cairo_stroke(cr);
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    for (int i = 0; i < n; i++)
        nnm_plot__text(cr, labels[i], floor(xs[i]) + 0.5, y + NNM_TICK_LEN + NNM_PT(3.5), 0.5, 0.0, 0.0);
}
