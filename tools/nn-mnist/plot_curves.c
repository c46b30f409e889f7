/* Learning curves: one line per series against the epoch, legend outside the axes (right, or below
 * when the series are many). */
#include <math.h>
#include <stdlib.h>

#include "plot_internal.h"

#define PAD           12.0
#define ENTRY_H       22.5 /* legend row height on the right, as the design */
#define ENTRY_H_BELOW 20.0 /* and below the axes, where rows are many */
#define LEGEND_GAP    22.0 /* between the axes and the legend */
#define MARGIN        0.05 /* matplotlib's axes margins, of the data range */
#define EDGE          20.0 /* between the canvas edge and the legend */

static void data_range(const double *const *ys, const int *lens, int nseries, double *lo, double *hi,
                       int *maxlen)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    *maxlen = 0;
    for (int s = 0; s < nseries; s++) {
        if (lens[s] > *maxlen) *maxlen = lens[s];
        for (int k = 0; k < lens[s]; k++)
            if (!isnan(ys[s][k])) {
                *lo = fmin(*lo, ys[s][k]);
                *hi = fmax(*hi, ys[s][k]);
            }
    }
    if (*lo > *hi) {
        *lo = 0.0;
        *hi = 1.0;
    }
}


int nnm_plot__curves_layout_compute(cairo_t *cr, const char *title, const char *xlabel, const char *ylabel,
                                    const char *const *series_names, const double *const *ys, const int *lens,
                                    int nseries, nnm_plot__curves_layout *out)
{
    double vlo, vhi;
    int maxlen;
    data_range(ys, lens, nseries, &vlo, &vhi, &maxlen);
    double r = vhi - vlo, d = r > 0.0 ? MARGIN * r : (vlo != 0.0 ? fabs(vlo) * 0.05 : 0.5);
    out->ylo = vlo - d;
    out->yhi = vhi + d;
    out->nyticks = nnm_plot__inner_ticks(out->ylo, out->yhi, 10, out->ylo, out->yhi, out->yticks);
    if (maxlen <= 1) {
        out->xlo = 0.5;
        out->xhi = 1.5;
        out->xticks[0] = 1.0;
        out->nxticks = 1;
    } else {
        out->xlo = 1.0 - MARGIN * (maxlen - 1);
        out->xhi = maxlen + MARGIN * (maxlen - 1);
        /* Epochs are whole: every one up to ten, beyond that at most 11 ticks, whose step is then >= 1. */
        if (maxlen <= 10) {
            for (int k = 0; k < maxlen; k++) out->xticks[k] = k + 1.0;
            out->nxticks = maxlen;
        } else
            out->nxticks = nnm_plot__inner_ticks(1.0, maxlen, 11, out->xlo, out->xhi, out->xticks);
    }
    if (out->nyticks < 0 || out->nxticks < 0) return -1;

    double top = title && *title ? 55.0 : 25.0;
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    double tick_h = nnm_plot__text_height(cr, "0");
    double bottom = NNM_PLOT_CURVES_H - PAD - tick_h - NNM_TICK_LEN - NNM_PT(3.5);
    nnm_plot__font(cr, NNM_LABEL_PX, 0);
    double ylabel_w = 0.0;
    if (xlabel && *xlabel) bottom -= nnm_plot__text_height(cr, xlabel) + 2 * PAD;
    if (ylabel && *ylabel) ylabel_w = nnm_plot__text_height(cr, ylabel) + PAD;
    double plot_h = bottom - top;

    nnm_plot__font(cr, NNM_TICK_PX, 0);
    double name_w = 0.0;
    for (int s = 0; s < nseries; s++) {
        char name[NNM_LABEL_MAX + 8];
        nnm_plot__shorten(series_names[s], NNM_LABEL_MAX, name, sizeof name);
        name_w = fmax(name_w, nnm_plot__text_width(cr, name));
    }
    double tw = nnm_plot__ticks_width(cr, out->yticks, out->nyticks,
                                      nnm_plot__tick_decimals(out->yticks, out->nyticks));
    double left = 20.0 + ylabel_w + tw + NNM_TICK_LEN + NNM_PT(3.5);
    out->legend_col_w = NNM_LEGEND_HANDLE_W + name_w + 2 * NNM_LEGEND_PAD;
    out->height = NNM_PLOT_CURVES_H;
    out->xlabel_y = NNM_PLOT_CURVES_H - PAD;

    double right_w = out->legend_col_w + NNM_LEGEND_PAD;
    out->legend_below =
        nseries * ENTRY_H + 2 * 8.0 > plot_h || right_w > NNM_CURVES_LEGEND_SHARE * NNM_PLOT_CURVES_W;
    if (!out->legend_below) { /* the design: one column right of the axes, level with their top */
        out->legend_entry_h = ENTRY_H;
        out->legend_rows = nseries;
        out->legend_cols = 1;
        out->legend =
            (nnm_plot__rect){NNM_PLOT_CURVES_W - EDGE - right_w, top, right_w, nseries * ENTRY_H + 2 * 8.0};
        out->plot = (nnm_plot__rect){left, top, out->legend.x - LEGEND_GAP - left, plot_h};
        return 0;
    }
    /* Below: as many columns as the width holds, then rows balanced over them. */
    out->legend_entry_h = ENTRY_H_BELOW;
    double avail = NNM_PLOT_CURVES_W - 2 * EDGE - NNM_LEGEND_PAD;
    int cols = (int)floor(avail / out->legend_col_w);
    if (cols < 1) cols = 1; /* names are at most NNM_LABEL_MAX bytes, so one column always fits */
    if (cols > nseries) cols = nseries;
    out->legend_rows = (nseries + cols - 1) / cols;
    out->legend_cols = (nseries + out->legend_rows - 1) / out->legend_rows;
    double lw = out->legend_cols * out->legend_col_w + NNM_LEGEND_PAD;
    double lh = out->legend_rows * ENTRY_H_BELOW + 2 * 8.0;
    out->plot = (nnm_plot__rect){left, top, NNM_PLOT_CURVES_W - 29.0 - left, plot_h};
    double lx = out->plot.x + out->plot.w / 2 - lw / 2; /* centred under the axes, kept on the canvas */
    lx = fmin(fmax(lx, EDGE), NNM_PLOT_CURVES_W - EDGE - lw);
    out->legend = (nnm_plot__rect){lx, NNM_PLOT_CURVES_H - 2.0, lw, lh};
    out->height = (int)ceil(out->legend.y + lh + EDGE);
    return 0;
}

nnm_plot__series_look nnm_plot__series_look_of(int s)
{
    if (s < 0) s = -s;
    int style = (s / 10) % NNM_CURVES_STYLES;
    return (nnm_plot__series_look){s % 10, style, style};
}

static void curve_style(cairo_t *cr, int s)
{
    nnm_plot__series_look look = nnm_plot__series_look_of(s);
    nnm_plot__line_style(cr, look.colour, look.dash);
}

static void draw_series(cairo_t *cr, const nnm_plot__curves_layout *L, const double *y, int len, int s)
{
    nnm_plot__rect p = L->plot;
    curve_style(cr, s);
    int pen = 0;
    for (int k = 0; k < len; k++) {
        if (isnan(y[k])) { /* a gap: the line stops and resumes at the next value */
            pen = 0;
            continue;
        }
        double px = nnm_plot__map(k + 1.0, L->xlo, L->xhi, p.x, p.x + p.w);
        double py = nnm_plot__map(y[k], L->ylo, L->yhi, p.y + p.h, p.y);
        if (pen)
            cairo_line_to(cr, px, py);
        else
            cairo_move_to(cr, px, py);
        pen = 1;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0.0);
    if (len > NNM_MARKERS_UP_TO) return;
    int shape = nnm_plot__series_look_of(s).marker;
    for (int k = 0; k < len; k++)
        if (!isnan(y[k]))
            nnm_plot__marker(cr, shape, nnm_plot__map(k + 1.0, L->xlo, L->xhi, p.x, p.x + p.w),
                             nnm_plot__map(y[k], L->ylo, L->yhi, p.y + p.h, p.y));
}

static void draw_x_axis(cairo_t *cr, const nnm_plot__curves_layout *L)
{
    nnm_plot__rect p = L->plot;
    int dec = nnm_plot__tick_decimals(L->xticks, L->nxticks);
    if (L->nxticks < 2) dec = 0;
    double xs[NNM_CURVES_MAX_TICKS];
    char buf[NNM_CURVES_MAX_TICKS][64];
    const char *labels[NNM_CURVES_MAX_TICKS];
    for (int i = 0; i < L->nxticks; i++) {
        xs[i] = nnm_plot__map(L->xticks[i], L->xlo, L->xhi, p.x, p.x + p.w);
        nnm_plot__format_tick(buf[i], sizeof buf[i], L->xticks[i], dec);
        labels[i] = buf[i];
    }
    nnm_plot__bottom_axis(cr, p, xs, labels, L->nxticks);
}

static void draw_legend(cairo_t *cr, const nnm_plot__curves_layout *L, const char *const *names, int nseries,
                        const int *lens)
{
    nnm_plot__rect b = nnm_plot__legend_frame(cr, L->legend);
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    for (int s = 0; s < nseries; s++) {
        int col = s / L->legend_rows, row = s % L->legend_rows;
        double x = b.x + NNM_LEGEND_PAD + col * L->legend_col_w;
        double y = b.y + 8.0 + (row + 0.5) * L->legend_entry_h;
        nnm_plot__series_look look = nnm_plot__series_look_of(s);
        nnm_plot__legend_entry(cr, x, y, look.colour, look.dash,
                               lens[s] <= NNM_MARKERS_UP_TO ? look.marker : -1, names[s]);
    }
}

int nnm_plot_curves(const char *png_path, const char *title, const char *xlabel, const char *ylabel,
                    const char *const *series_names, const double *const *ys, const int *lens, int nseries,
                    char *err, size_t errlen)
{
    if (!png_path || !series_names || !ys || !lens)
        return nnm_plot__fail(err, errlen, "curves: png_path, series_names, ys and lens must not be NULL");
    if (nseries < 1 || nseries > NNM_PLOT_MAX_SERIES)
        return nnm_plot__fail(err, errlen, "curves: %d series, expects 1 to %d", nseries,
                              NNM_PLOT_MAX_SERIES);
    for (int s = 0; s < nseries; s++) {
        if (!series_names[s]) return nnm_plot__fail(err, errlen, "curves: series name %d is NULL", s);
        if (lens[s] < 0 || lens[s] > NNM_PLOT_MAX_POINTS)
            return nnm_plot__fail(err, errlen, "curves: series %d ('%s') has %d points, expects 0 to %d", s,
                                  series_names[s], lens[s], NNM_PLOT_MAX_POINTS);
        if (lens[s] > 0 && !ys[s])
            return nnm_plot__fail(err, errlen, "curves: series %d ('%s') has %d points but no data", s,
                                  series_names[s], lens[s]);
        for (int k = 0; k < lens[s]; k++)
            if (isinf(ys[s][k]))
                return nnm_plot__fail(err, errlen, "curves: point %d of series %d ('%s') is infinite", k, s,
                                      series_names[s]);
    }
    char tbuf[NNM_TITLE_MAX + 8], xbuf[NNM_TITLE_MAX + 8], ybuf[NNM_TITLE_MAX + 8];
    nnm_plot__shorten(title, NNM_TITLE_MAX, tbuf, sizeof tbuf);
    nnm_plot__shorten(xlabel, NNM_TITLE_MAX, xbuf, sizeof xbuf);
    nnm_plot__shorten(ylabel, NNM_TITLE_MAX, ybuf, sizeof ybuf);

    /* The layout needs a context to measure text, and tells the canvas height: measure on a small one. */
    nnm_plot__canvas c;
    if (nnm_plot__canvas_open(&c, 1, 1, err, errlen) != 0) return -1;
    nnm_plot__curves_layout L;
    int rc = nnm_plot__curves_layout_compute(c.cr, tbuf, xbuf, ybuf, series_names, ys, lens, nseries, &L);
    nnm_plot__canvas_close(&c);
    if (rc != 0)
        return nnm_plot__fail(err, errlen, "curves: cannot lay out '%s': values out of range", png_path);
    if (nnm_plot__canvas_open(&c, NNM_PLOT_CURVES_W, L.height, err, errlen) != 0) return -1;
    nnm_plot__rect p = L.plot;
    nnm_plot__hgrid(c.cr, p, L.ylo, L.yhi, L.yticks, L.nyticks);
    cairo_save(c.cr);
    cairo_rectangle(c.cr, p.x, p.y - NNM_MARKER_R, p.w, p.h + 2 * NNM_MARKER_R);
    cairo_clip(c.cr);
    for (int s = 0; s < nseries; s++) draw_series(c.cr, &L, ys[s], lens[s], s);
    cairo_restore(c.cr);
    nnm_plot__left_axis(c.cr, p, L.ylo, L.yhi, L.yticks, L.nyticks, ybuf, 20.0);
    draw_x_axis(c.cr, &L);
    draw_legend(c.cr, &L, series_names, nseries, lens);
    if (xbuf[0]) {
        nnm_plot__font(c.cr, NNM_LABEL_PX, 0);
        nnm_plot__set_rgb(c.cr, nnm_plot__text_rgb);
        nnm_plot__text(c.cr, xbuf, p.x + p.w / 2, L.xlabel_y, 0.5, 1.0, 0.0);
    }
    nnm_plot__title(c.cr, tbuf, p.x + p.w / 2, 18.0);
    rc = nnm_plot__canvas_save(&c, png_path, err, errlen);
    nnm_plot__canvas_close(&c);
    return rc;
}
