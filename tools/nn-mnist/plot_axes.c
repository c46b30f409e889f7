/* Axes pieces shared by the figures: title, grid, left axis with ticks, bottom spine. */
#include <math.h>

#include "plot_internal.h"

double nnm_plot__map(double v, double lo, double hi, double p0, double p1)
{
    return p0 + (v - lo) / (hi - lo) * (p1 - p0);
}

/* Thin lines on pixel centres, so that a 1 px line covers one row of pixels instead of two greys. */
static double snap(double v) { return floor(v) + 0.5; }

void nnm_plot__title(cairo_t *cr, const char *title, double cx, double y)
{
    if (!title || !*title) return;
    nnm_plot__font(cr, NNM_TITLE_PX, 1);
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    nnm_plot__text(cr, title, cx, y, 0.5, 0.0, 0.0);
}

static int inside(double t, double lo, double hi)
{
    double eps = (hi - lo) * 1e-9;
    return t >= lo - eps && t <= hi + eps;
}

void nnm_plot__hgrid(cairo_t *cr, nnm_plot__rect plot, double lo, double hi, const double *ticks, int n)
{
    nnm_plot__set_rgb(cr, nnm_plot__grid_rgb);
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i < n; i++) {
        if (!inside(ticks[i], lo, hi)) continue;
        double y = snap(nnm_plot__map(ticks[i], lo, hi, plot.y + plot.h, plot.y));
        cairo_move_to(cr, plot.x, y);
        cairo_line_to(cr, plot.x + plot.w, y);
    }
    cairo_stroke(cr);
}

void nnm_plot__left_axis(cairo_t *cr, nnm_plot__rect plot, double lo, double hi, const double *ticks, int n,
                         const char *label, double label_x)
{
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    cairo_set_line_width(cr, NNM_LINE_W);
    double x = snap(plot.x);
    cairo_move_to(cr, x, plot.y);
    cairo_line_to(cr, x, plot.y + plot.h);
    for (int i = 0; i < n; i++) {
        if (!inside(ticks[i], lo, hi)) continue;
        double y = snap(nnm_plot__map(ticks[i], lo, hi, plot.y + plot.h, plot.y));
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x - NNM_TICK_LEN, y);
    }
    cairo_stroke(cr);
    int dec = nnm_plot__tick_decimals(ticks, n);
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    for (int i = 0; i < n; i++) {
        if (!inside(ticks[i], lo, hi)) continue;
        double y = snap(nnm_plot__map(ticks[i], lo, hi, plot.y + plot.h, plot.y));
        char buf[64];
        nnm_plot__format_tick(buf, sizeof buf, ticks[i], dec);
        nnm_plot__text(cr, buf, x - NNM_TICK_LEN - NNM_PT(3.5), y, 1.0, 0.5, 0.0);
    }
    if (label && *label) {
        nnm_plot__font(cr, NNM_LABEL_PX, 0);
        nnm_plot__text(cr, label, label_x, plot.y + plot.h / 2, 0.5, 0.0, 90.0);
    }
}

void nnm_plot__bottom_spine(cairo_t *cr, nnm_plot__rect plot)
{
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    cairo_set_line_width(cr, NNM_LINE_W);
    double y = snap(plot.y + plot.h);
    cairo_move_to(cr, plot.x - NNM_LINE_W / 2, y);
    cairo_line_to(cr, plot.x + plot.w, y);
    cairo_stroke(cr);
}
