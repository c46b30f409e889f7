/* Annotated heatmap with a colour bar, in the manner of seaborn.heatmap(annot=True). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"

#define PAD          15.0
#define CBAR_GAP     25.0 /* between the grid and the colour bar */
#define CBAR_W       20.0
#define COL_ANGLE    45.0 /* column labels too wide for their cell are rotated by this */
#define COL_NUDGE    4.0  /* a slanted label's anchor right of its tick, so the text's middle meets it */
#define ANNOT_MAX_PX NNM_PT(12.0)
#define ANNOT_MIN_PX NNM_PT(5.0)
#define HATCH_STEP   7.0

/* Marked cells (runs with no value, such as diverged ones) are hatched in seaborn "deep" red over the
 * missing-run grey, so they read apart from both values and missing runs. */
static const double mark_rgb[3] = {0.768, 0.306, 0.322};

typedef char label_buf[NNM_LABEL_MAX + 8];

static int labels_copy(const char *const *labels, int n, label_buf **out)
{
    *out = malloc((size_t)n * sizeof **out);
    if (!*out) return -1;
    for (int i = 0; i < n; i++) nnm_plot__shorten(labels[i], NNM_LABEL_MAX, (*out)[i], sizeof(*out)[i]);
    return 0;
}

static void labels_extent(cairo_t *cr, const label_buf *lab, int n, double angle, double *w, double *h)
{
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    *w = *h = 0.0;
    for (int i = 0; i < n; i++) {
        double lw, lh;
        nnm_plot__rotated_size(cr, lab[i], angle, &lw, &lh);
        *w = fmax(*w, lw);
        *h = fmax(*h, lh);
    }
}

/* The colour range: the finite values' span. A single value is widened around itself so that it takes
 * the middle colour, but never past 0 or 1 where the data stay within them: accuracies and other
 * fractions keep a colour bar inside [0, 1], counts one that starts at 0 at the lowest. A single value on
 * such a bound (an accuracy of exactly 1) is widened away from it and takes that end's colour. */
static void value_range(const double *v, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            *lo = fmin(*lo, v[i]);
            *hi = fmax(*hi, v[i]);
        }
    if (*lo > *hi) {
        *lo = 0.0;
        *hi = 1.0;
        return;
    }
    if (*lo < *hi) return;
    double d = *lo != 0.0 ? fabs(*lo) * 0.05 : 0.5;
    double room_below = *lo >= 0.0 ? *lo : INFINITY, room_above = *hi <= 1.0 ? 1.0 - *hi : INFINITY;
    double both = fmin(d, fmin(room_below, room_above));
    if (both > 0.0) {
        *lo -= both;
        *hi += both;
    } else if (room_below == 0.0)
        *hi += fmin(d, room_above);
    else
        *lo -= fmin(d, room_below);
    if (!(*hi > *lo)) { /* a value so near zero that 5% of it vanishes */
        *lo = fmin(*lo, 0.0);
        *hi = *lo + 1.0;
    }
}


/* What cell i says when it is not marked: its text, else its value formatted, else "n/a". */
static void cell_text(char *out, size_t cap, const double *values, const char *const *texts, size_t i,
                      const char *fmt)
{
    if (texts && texts[i])
        nnm_plot__shorten(texts[i], NNM_LABEL_MAX, out, cap);
    else if (isnan(values[i]))
        snprintf(out, cap, "n/a");
    else
        nnm_plot__format_value(out, cap, fmt, values[i]);
}

/* One size for every annotation: the largest at which the widest fits 85% of a cell's width and the
 * tallest (texts may have several lines) 85% of its height. */
static double annot_size(cairo_t *cr, const double *values, const char *const *texts, size_t n,
                         const char *fmt, double cw, double ch)
{
    double px = fmin(ANNOT_MAX_PX, 0.25 * ch);
    nnm_plot__font(cr, px, 0);
    double widest = nnm_plot__text_width(cr, "n/a"), tallest = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(values[i]) && !(texts && texts[i])) continue;
        char buf[NNM_LABEL_MAX + 8];
        cell_text(buf, sizeof buf, values, texts, i, fmt);
        widest = fmax(widest, nnm_plot__text_width(cr, buf));
        tallest = fmax(tallest, nnm_plot__text_height(cr, buf));
    }
    double shrink = fmin(1.0, 0.85 * cw / widest);
    if (tallest > 0.85 * ch) shrink = fmin(shrink, 0.85 * ch / tallest);
    if (shrink < 1.0) px *= shrink;
    return px < ANNOT_MIN_PX ? 0.0 : px;
}

int nnm_plot__heatmap_layout_compute(cairo_t *cr, const char *title, const char *row_axis,
                                     const char *col_axis, const char *const *row_labels, int rows,
                                     const char *const *col_labels, int cols, const double *values,
                                     const char *value_fmt, nnm_plot__heatmap_layout *out)
{
    return nnm_plot__heatmap_text_layout_compute(cr, title, row_axis, col_axis, row_labels, rows, col_labels,
                                                 cols, values, NULL, value_fmt, out);
}

int nnm_plot__heatmap_text_layout_compute(cairo_t *cr, const char *title, const char *row_axis,
                                          const char *col_axis, const char *const *row_labels, int rows,
                                          const char *const *col_labels, int cols, const double *values,
                                          const char *const *texts, const char *value_fmt,
                                          nnm_plot__heatmap_layout *out)
{
    label_buf *rl, *cl;
    if (labels_copy(row_labels, rows, &rl) != 0) return -1;
    if (labels_copy(col_labels, cols, &cl) != 0) {
        free(rl);
        return -1;
    }
    out->width = NNM_PLOT_HEATMAP_W;
    out->height = rows >= NNM_PLOT_TALL_ROWS ? NNM_PLOT_TALL_H : NNM_PLOT_HEATMAP_H;
    size_t count = (size_t)rows * (size_t)cols;
    value_range(values, count, &out->vmin, &out->vmax);
    out->nticks = nnm_plot__inner_ticks(out->vmin, out->vmax, NNM_CBAR_MAX_TICKS, out->vmin, out->vmax, out->ticks);
    if (out->nticks < 0) {
        free(rl);
        free(cl);
        return -1;
    }

    nnm_plot__font(cr, NNM_TICK_PX, 0);
    double tw =
        nnm_plot__ticks_width(cr, out->ticks, out->nticks, nnm_plot__tick_decimals(out->ticks, out->nticks));
    double right = out->width - 20.0 - tw - NNM_TICK_LEN - NNM_PT(3.5) - CBAR_W - CBAR_GAP;
    double axis_h = 0.0;
    nnm_plot__font(cr, NNM_LABEL_PX, 0);
    if (row_axis && *row_axis) axis_h = nnm_plot__text_height(cr, row_axis) + PAD;
    double rw, rh;
    labels_extent(cr, (const label_buf *)rl, rows, 0.0, &rw, &rh);
    double left = 20.0 + axis_h + rw + NNM_TICK_LEN + NNM_PT(3.5);
    double cell_w = (right - left) / cols;

    /* Horizontal column labels when they fit their cells, 45 degrees while slanted labels clear each
     * other, upright otherwise; then only every k-th label where even those would collide, as seaborn. */
    double cw_lab, ch_lab;
    labels_extent(cr, (const label_buf *)cl, cols, 0.0, &cw_lab, &ch_lab);
    out->col_angle = 0.0;
    out->col_step = 1;
    if (cw_lab > 0.95 * cell_w) {
        out->col_angle =
            cell_w * sin(COL_ANGLE * 3.14159265358979323846 / 180.0) >= 1.1 * ch_lab ? COL_ANGLE : 90.0;
        if (out->col_angle == 90.0) out->col_step = (int)ceil(1.1 * ch_lab / cell_w);
        labels_extent(cr, (const label_buf *)cl, cols, out->col_angle, &cw_lab, &ch_lab);
    }
    if (out->col_angle == COL_ANGLE) { /* a long first label slants down left, past short row labels */
        double reach = 0.0;
        for (int j = 0; j < cols; j++) {
            double w, h;
            nnm_plot__rotated_size(cr, cl[j], COL_ANGLE, &w, &h);
            reach = fmax(reach, w - COL_NUDGE - (j + 0.5) * cell_w);
        }
        left = fmax(left, PAD + reach);
    }
    double bottom = out->height - PAD - ch_lab - NNM_TICK_LEN - NNM_PT(3.5);
    nnm_plot__font(cr, NNM_LABEL_PX, 0);
    if (col_axis && *col_axis) bottom -= nnm_plot__text_height(cr, col_axis) + PAD;
    double top = title && *title ? 60.0 : 25.0;

    /* Whole pixels: cells then meet without seams and probe cleanly. */
    left = round(left);
    top = round(top);
    out->grid = (nnm_plot__rect){left, top, round(right) - left, round(bottom) - top};
    out->cbar = (nnm_plot__rect){round(right + CBAR_GAP), top, CBAR_W, out->grid.h};
    out->row_step = (int)ceil(1.1 * rh / (out->grid.h / rows));
    if (out->row_step < 1) out->row_step = 1;
    out->annot_px = annot_size(cr, values, texts, count, value_fmt, out->grid.w / cols, out->grid.h / rows);
    free(rl);
    free(cl);
    return 0;
}

static double edge(double start, double length, int i, int n) { return round(start + length * i / n); }

static void hatch(cairo_t *cr, double x0, double y0, double x1, double y1)
{
    cairo_save(cr);
    nnm_plot__set_rgb(cr, mark_rgb);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
    cairo_clip(cr);
    double h = y1 - y0;
    for (double d = -h; d < x1 - x0; d += HATCH_STEP) {
        cairo_move_to(cr, x0 + d, y1);
        cairo_line_to(cr, x0 + d + h, y0);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

/* A mark's text in a box on the cell's middle, shrunk to fit the cell. */
static void mark_text(cairo_t *cr, const char *mark, double px, double x0, double y0, double x1, double y1)
{
    char buf[NNM_LABEL_MAX + 8];
    nnm_plot__shorten(mark, NNM_LABEL_MAX, buf, sizeof buf);
    nnm_plot__font(cr, px, 0);
    double w = nnm_plot__text_width(cr, buf);
    if (w > 0.8 * (x1 - x0)) {
        px *= 0.8 * (x1 - x0) / w;
        nnm_plot__font(cr, px, 0);
        w = nnm_plot__text_width(cr, buf);
    }
    double h = nnm_plot__text_height(cr, buf), cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
    cairo_rectangle(cr, cx - w / 2 - 3, cy - h / 2 - 2, w + 6, h + 4);
    cairo_fill(cr);
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    nnm_plot__text(cr, buf, cx, cy, 0.5, 0.5, 0.0);
}

static void draw_cells(cairo_t *cr, const nnm_plot__heatmap_layout *L, int rows, int cols,
                       const double *values, const char *const *marks, const char *const *texts,
                       const char *fmt, int cmap)
{
    nnm_plot__rect g = L->grid;
    if (L->annot_px > 0.0) nnm_plot__font(cr, L->annot_px, 0);
    for (int i = 0; i < rows; i++) {
        double y0 = edge(g.y, g.h, i, rows), y1 = edge(g.y, g.h, i + 1, rows);
        for (int j = 0; j < cols; j++) {
            double x0 = edge(g.x, g.w, j, cols), x1 = edge(g.x, g.w, j + 1, cols);
            double v = values[(size_t)i * cols + j], rgb[3];
            if (isnan(v))
                memcpy(rgb, nnm_plot__nan_rgb, sizeof rgb);
            else
                nnm_colormap(cmap, (v - L->vmin) / (L->vmax - L->vmin), rgb);
            nnm_plot__set_rgb(cr, rgb);
            cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
            cairo_fill(cr);
            if (isnan(v) && marks && marks[(size_t)i * cols + j]) {
                hatch(cr, x0, y0, x1, y1);
                if (L->annot_px > 0.0) {
                    mark_text(cr, marks[(size_t)i * cols + j], L->annot_px, x0, y0, x1, y1);
                    nnm_plot__font(cr, L->annot_px, 0);
                }
                continue;
            }
            if (L->annot_px <= 0.0) continue;
            char buf[NNM_LABEL_MAX + 8];
            cell_text(buf, sizeof buf, values, texts, (size_t)i * cols + j, fmt);
            if (nnm_text_is_dark(rgb))
                nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
            else
                cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
            nnm_plot__text(cr, buf, (x0 + x1) / 2, (y0 + y1) / 2, 0.5, 0.5, 0.0);
        }
    }
}

static void draw_cbar(cairo_t *cr, const nnm_plot__heatmap_layout *L, int cmap)
{
    nnm_plot__rect b = L->cbar;
    /* One row of pixels per colour: exact colours at every height, including both ends. */
    for (int k = 0; k < (int)b.h; k++) {
        double rgb[3];
        nnm_colormap(cmap, 1.0 - (k + 0.5) / b.h, rgb);
        nnm_plot__set_rgb(cr, rgb);
        cairo_rectangle(cr, b.x, b.y + k, b.w, 1.0);
        cairo_fill(cr);
    }
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    cairo_set_line_width(cr, NNM_LINE_W);
    double x = b.x + b.w;
    for (int i = 0; i < L->nticks; i++) {
        double y = floor(nnm_plot__map(L->ticks[i], L->vmin, L->vmax, b.y + b.h, b.y)) + 0.5;
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + NNM_TICK_LEN, y);
    }
    cairo_stroke(cr);
    int dec = nnm_plot__tick_decimals(L->ticks, L->nticks);
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    for (int i = 0; i < L->nticks; i++) {
        double y = floor(nnm_plot__map(L->ticks[i], L->vmin, L->vmax, b.y + b.h, b.y)) + 0.5;
        char buf[64];
        nnm_plot__format_tick(buf, sizeof buf, L->ticks[i], dec);
        nnm_plot__text(cr, buf, x + NNM_TICK_LEN + NNM_PT(3.5), y, 0.0, 0.5, 0.0);
    }
}

/* Where row (axis 0) or column (axis 1) label i of n is drawn, as nnm_plot__text() arguments. */
static void label_anchor(const nnm_plot__heatmap_layout *L, int axis, int i, int n, double *x, double *y,
                         double *ha, double *va, double *angle)
{
    nnm_plot__rect g = L->grid;
    if (axis == 0) {
        *x = g.x - NNM_TICK_LEN - NNM_PT(3.5);
        *y = g.y + g.h * (i + 0.5) / n;
        *ha = 1.0, *va = 0.5, *angle = 0.0;
        return;
    }
    *x = g.x + g.w * (i + 0.5) / n;
    *y = g.y + g.h + NNM_TICK_LEN + NNM_PT(3.5);
    *angle = L->col_angle;
    if (L->col_angle == COL_ANGLE) {
        *x += COL_NUDGE;
        *ha = 1.0, *va = 0.0;
    } else if (L->col_angle > 0.0)
        *ha = 1.0, *va = 0.5;
    else
        *ha = 0.5, *va = 0.0;
}

int nnm_plot__heatmap_label_quad(cairo_t *cr, const nnm_plot__heatmap_layout *L, int axis, const char *label,
                                 int i, int n, double quad[4][2])
{
    if (i % (axis == 0 ? L->row_step : L->col_step) != 0) return 0;
    char lab[NNM_LABEL_MAX + 8];
    nnm_plot__shorten(label, NNM_LABEL_MAX, lab, sizeof lab);
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    double x, y, ha, va, angle;
    label_anchor(L, axis, i, n, &x, &y, &ha, &va, &angle);
    nnm_plot__text_quad(cr, lab, x, y, ha, va, angle, quad);
    return 1;
}

static void draw_labels(cairo_t *cr, const nnm_plot__heatmap_layout *L, const char *const *row_labels,
                        int rows, const char *const *col_labels, int cols)
{
    nnm_plot__rect g = L->grid;
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    cairo_set_line_width(cr, NNM_LINE_W);
    for (int i = 0; i < rows; i += L->row_step) {
        double y = floor(g.y + g.h * (i + 0.5) / rows) + 0.5;
        cairo_move_to(cr, g.x, y);
        cairo_line_to(cr, g.x - NNM_TICK_LEN, y);
    }
    double ybot = g.y + g.h;
    for (int j = 0; j < cols; j += L->col_step) {
        double x = floor(g.x + g.w * (j + 0.5) / cols) + 0.5;
        cairo_move_to(cr, x, ybot);
        cairo_line_to(cr, x, ybot + NNM_TICK_LEN);
    }
    cairo_stroke(cr);
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    char lab[NNM_LABEL_MAX + 8];
    for (int i = 0; i < rows; i += L->row_step) {
        nnm_plot__shorten(row_labels[i], NNM_LABEL_MAX, lab, sizeof lab);
        double x, y, ha, va, angle;
        label_anchor(L, 0, i, rows, &x, &y, &ha, &va, &angle);
        nnm_plot__text(cr, lab, x, y, ha, va, angle);
    }
    for (int j = 0; j < cols; j += L->col_step) {
        nnm_plot__shorten(col_labels[j], NNM_LABEL_MAX, lab, sizeof lab);
        double x, y, ha, va, angle;
        label_anchor(L, 1, j, cols, &x, &y, &ha, &va, &angle);
        nnm_plot__text(cr, lab, x, y, ha, va, angle);
    }
}

int nnm_plot_heatmap(const char *png_path, const char *title, const char *row_axis, const char *col_axis,
                     const char *const *row_labels, int rows, const char *const *col_labels, int cols,
                     const double *values, const char *value_fmt, int colormap, char *err, size_t errlen)
{
    return nnm_plot_heatmap_marked(png_path, title, row_axis, col_axis, row_labels, rows, col_labels, cols,
                                   values, NULL, value_fmt, colormap, err, errlen);
}

int nnm_plot_heatmap_marked(const char *png_path, const char *title, const char *row_axis,
                            const char *col_axis, const char *const *row_labels, int rows,
                            const char *const *col_labels, int cols, const double *values,
                            const char *const *marks, const char *value_fmt, int colormap, char *err,
                            size_t errlen)
{
    return nnm_plot_heatmap_text(png_path, title, row_axis, col_axis, row_labels, rows, col_labels, cols,
                                 values, marks, NULL, value_fmt, colormap, err, errlen);
}

int nnm_plot_heatmap_text(const char *png_path, const char *title, const char *row_axis, const char *col_axis,
                          const char *const *row_labels, int rows, const char *const *col_labels, int cols,
                          const double *values, const char *const *marks, const char *const *texts,
                          const char *value_fmt, int colormap, char *err, size_t errlen)
{
    if (!png_path || !row_labels || !col_labels || !values)
        return nnm_plot__fail(err, errlen, "heatmap: png_path, labels and values must not be NULL");
    if (rows < 1 || rows > NNM_PLOT_MAX_CELLS_SIDE || cols < 1 || cols > NNM_PLOT_MAX_CELLS_SIDE)
        return nnm_plot__fail(err, errlen, "heatmap: %d x %d cells, expects 1 to %d on each side", rows, cols,
                              NNM_PLOT_MAX_CELLS_SIDE);
    if (colormap != NNM_CMAP_VIRIDIS && colormap != NNM_CMAP_BLUES)
        return nnm_plot__fail(err, errlen, "heatmap: unknown colour map %d", colormap);
    if (!value_fmt) value_fmt = "%.4f";
    if (nnm_plot__check_value_fmt(value_fmt) != 0)
        return nnm_plot__fail(
            err, errlen,
            "heatmap: value format '%s' must hold one %%f, %%e or %%g conversion, such as '%%.4f'",
            value_fmt);
    for (int i = 0; i < rows; i++)
        if (!row_labels[i]) return nnm_plot__fail(err, errlen, "heatmap: row label %d is NULL", i);
    for (int j = 0; j < cols; j++)
        if (!col_labels[j]) return nnm_plot__fail(err, errlen, "heatmap: column label %d is NULL", j);
    for (int i = 0; i < rows * cols; i++)
        if (isinf(values[i]))
            return nnm_plot__fail(err, errlen, "heatmap: value at row %d, column %d is infinite", i / cols,
                                  i % cols);
    char tbuf[NNM_TITLE_MAX + 8], rbuf[NNM_TITLE_MAX + 8], cbuf[NNM_TITLE_MAX + 8];
    nnm_plot__shorten(title, NNM_TITLE_MAX, tbuf, sizeof tbuf);
    nnm_plot__shorten(row_axis, NNM_TITLE_MAX, rbuf, sizeof rbuf);
    nnm_plot__shorten(col_axis, NNM_TITLE_MAX, cbuf, sizeof cbuf);

    nnm_plot__canvas c;
    int height = rows >= NNM_PLOT_TALL_ROWS ? NNM_PLOT_TALL_H : NNM_PLOT_HEATMAP_H;
    if (nnm_plot__canvas_open(&c, NNM_PLOT_HEATMAP_W, height, err, errlen) != 0) return -1;
    nnm_plot__heatmap_layout L;
    int rc = nnm_plot__heatmap_text_layout_compute(c.cr, tbuf, rbuf, cbuf, row_labels, rows, col_labels, cols,
                                                   values, texts, value_fmt, &L);
    if (rc != 0) {
        nnm_plot__canvas_close(&c);
        return nnm_plot__fail(err, errlen,
                              "heatmap: cannot lay out '%s': out of memory or values out of range", png_path);
    }
    draw_cells(c.cr, &L, rows, cols, values, marks, texts, value_fmt, colormap);
    draw_cbar(c.cr, &L, colormap);
    draw_labels(c.cr, &L, row_labels, rows, col_labels, cols);
    nnm_plot__rect g = L.grid;
    nnm_plot__set_rgb(c.cr, nnm_plot__text_rgb);
    if (rbuf[0]) {
        nnm_plot__font(c.cr, NNM_LABEL_PX, 0);
        nnm_plot__text(c.cr, rbuf, 20.0, g.y + g.h / 2, 0.5, 0.0, 90.0);
    }
    if (cbuf[0]) {
        nnm_plot__font(c.cr, NNM_LABEL_PX, 0);
        nnm_plot__text(c.cr, cbuf, g.x + g.w / 2, L.height - PAD, 0.5, 1.0, 0.0);
    }
    nnm_plot__title(c.cr, tbuf, g.x + g.w / 2, 20.0);
    rc = nnm_plot__canvas_save(&c, png_path, err, errlen);
    nnm_plot__canvas_close(&c);
    return rc;
}
