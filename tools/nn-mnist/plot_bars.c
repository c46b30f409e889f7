/* Bar chart of one value per model, zoomed to the data and annotated. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot_internal.h"

#define PAD          12.0 /* between the canvas edge and the outermost text */
#define BAR_FILL     0.7  /* bar width over slot width, as the design */
#define LABEL_ANGLE  30.0 /* x labels too wide for their slot are rotated by this */
#define LABEL_NUDGE  4.0  /* a 30-degree label's anchor right of its tick, so the text's middle meets it */
#define ANNOT_GAP    4.0  /* between a bar's top and its value */
#define ANNOT_SAMPLE "0.0000"
#define HATCH_STEP   7.0 /* between the hatch lines of a marked bar */

/* Marked bars (runs that produced no value, such as diverged ones) are outlined and hatched in
 * seaborn "deep" red over the whole height of the axes: no colour of a value bar, and no height that
 * could be read as a value. */
static const double mark_rgb[3] = {0.768, 0.306, 0.322};

typedef char label_buf[NNM_LABEL_MAX + 8];

static void shorten_all(const char *const *labels, int n, label_buf *out)
{
    for (int i = 0; i < n; i++) nnm_plot__shorten(labels[i], NNM_LABEL_MAX, out[i], sizeof out[i]);
}

/* Widest and tallest x label once rotated by angle, in the tick font. */
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

/* Horizontal when the widest label fits its slot; at 30 degrees when rotated labels still clear each other
 * (their spacing across the text is slot * sin 30); upright otherwise. */
static double label_angle(cairo_t *cr, const label_buf *lab, int n, double slot)
{
    double w, h;
    labels_extent(cr, lab, n, 0.0, &w, &h);
    if (w <= 0.95 * slot) return 0.0;
    return slot * 0.5 >= 1.1 * h ? LABEL_ANGLE : 90.0;
}

/* How far labels at 30 degrees reach left of the plot: the first long label can hang past the axis. */
static double label_overhang(cairo_t *cr, const label_buf *lab, int n, double slot)
{
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    double reach = 0.0;
    for (int i = 0; i < n; i++) {
        double w, h;
        nnm_plot__rotated_size(cr, lab[i], LABEL_ANGLE, &w, &h);
        reach = fmax(reach, w - LABEL_NUDGE - (i + 0.5) * slot);
    }
    return reach;
}

/* Ticks covering the data, with the top tick far enough above the tallest bar for its annotation. */
static int y_ticks(double vmin, double vmax, double plot_h, double annot_h, nnm_plot__bars_layout *out)
{
    double range = vmax - vmin;
    if (range <= 0.0) range = vmin != 0.0 ? fabs(vmin) * 0.1 : 1.0;
    double below = 0.15 * range, above = 0.05 * range; /* above grows below until annotations fit */
    for (int tries = 0; tries < 40; tries++, above *= 1.3) {
        int n = nnm_nice_ticks(vmin - below, vmax + above, 10, out->ticks, NNM_BARS_MAX_TICKS);
        if (n < 2) return -1;
        out->nticks = n;
        out->lo = out->ticks[0];
        out->hi = out->ticks[n - 1];
        if ((out->hi - vmax) / (out->hi - out->lo) * plot_h >= annot_h + ANNOT_GAP) return 0;
    }
    return 0; /* an unreadable annotation is better than no figure */
}

int nnm_plot__bars_layout_compute(cairo_t *cr, const char *title, const char *ylabel,
                                  const char *const *labels, const double *values, int n,
                                  nnm_plot__bars_layout *out)
{
    label_buf *lab = malloc((size_t)n * sizeof *lab);
    if (!lab) return -1;
    shorten_all(labels, n, lab);
    double vmin = INFINITY, vmax = -INFINITY;
    for (int i = 0; i < n; i++)
        if (!isnan(values[i])) {
            vmin = fmin(vmin, values[i]);
            vmax = fmax(vmax, values[i]);
        }
    if (vmin > vmax) /* all missing: an empty unit axis */
        vmin = 0.0, vmax = 1.0;

    double top = title && *title ? 55.0 : 25.0;
    double right = NNM_PLOT_BARS_W - 29.0;
    double ylabel_w = 0.0;
    if (ylabel && *ylabel) {
        nnm_plot__font(cr, NNM_LABEL_PX, 0);
        ylabel_w = nnm_plot__text_height(cr, ylabel) + PAD;
    }
    nnm_plot__font(cr, NNM_ANNOT_PX, 0);
    double annot_w = nnm_plot__text_width(cr, ANNOT_SAMPLE),
           annot_h = nnm_plot__text_height(cr, ANNOT_SAMPLE);

    /* The plot's width depends on the tick labels and on how far rotated x labels hang left, those on
     * the plot's height, the height on the x labels' rotation, and that on the width: three passes from a
     * guess settle it. */
    double plot_h, left = 100.0;
    for (int pass = 0; pass < 3; pass++) {
        double slot = (right - left) / n;
        out->annot_angle = annot_w > 0.95 * slot ? 90.0 : 0.0;
        out->label_angle = label_angle(cr, (const label_buf *)lab, n, slot);
        double w, h;
        labels_extent(cr, (const label_buf *)lab, n, out->label_angle, &w, &h);
        double bottom = NNM_PLOT_BARS_H - PAD - h - NNM_TICK_LEN - NNM_PT(3.5);
        plot_h = bottom - top;
        if (y_ticks(vmin, vmax, plot_h, out->annot_angle > 0.0 ? annot_w : annot_h, out) != 0) {
            free(lab);
            return -1;
        }
        nnm_plot__font(cr, NNM_TICK_PX, 0);
        double tw = nnm_plot__ticks_width(cr, out->ticks, out->nticks,
                                          nnm_plot__tick_decimals(out->ticks, out->nticks));
        double need = 20.0 + ylabel_w + tw + NNM_TICK_LEN + NNM_PT(3.5);
        if (out->label_angle == LABEL_ANGLE)
            need = fmax(need, PAD + label_overhang(cr, (const label_buf *)lab, n, slot));
        left = need;
        out->ylabel_x = left - (NNM_TICK_LEN + NNM_PT(3.5) + tw + ylabel_w);
        out->plot = (nnm_plot__rect){left, top, right - left, plot_h};
    }
    free(lab);
    return 0;
}

/* Bars whose labels share the part before the first '/', '-' or newline share a colour. */
static size_t group_len(const char *label) { return strcspn(label, "/-\n"); }

static int group_of(const char *const *labels, int i, int *groups)
{
    size_t len = group_len(labels[i]);
    for (int j = 0; j < i; j++)
        if (group_len(labels[j]) == len && memcmp(labels[j], labels[i], len) == 0) return groups[j];
    int next = 0;
    for (int j = 0; j < i; j++)
        if (groups[j] >= next) next = groups[j] + 1;
    return next;
}

/* A hatched, unfilled rectangle. */
static void hatched_box(cairo_t *cr, double x, double y, double w, double h)
{
    cairo_save(cr);
    nnm_plot__set_rgb(cr, mark_rgb);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
    for (double d = -h; d < w; d += HATCH_STEP) { /* lines rising to the right */
        cairo_move_to(cr, x + d, y + h);
        cairo_line_to(cr, x + d + h, y);
    }
    cairo_stroke(cr);
    cairo_reset_clip(cr);
    cairo_set_line_width(cr, NNM_LINE_W);
    cairo_rectangle(cr, x + 0.5, y + 0.5, w - 1.0, h - 1.0);
    cairo_stroke(cr);
    cairo_restore(cr);
}

static int is_marked(const char *const *marks, const double *values, int i)
{
    return marks && marks[i] && isnan(values[i]);
}

static void draw(cairo_t *cr, const char *title, const char *ylabel, const char *const *labels,
                 const double *values, const char *const *marks, int n, const nnm_plot__bars_layout *L,
                 const int *groups)
{
    nnm_plot__rect p = L->plot;
    nnm_plot__hgrid(cr, p, L->lo, L->hi, L->ticks, L->nticks);
    double slot = p.w / n, base = L->lo < 0.0 && L->hi > 0.0 ? 0.0 : L->lo;
    double ybase = nnm_plot__map(base, L->lo, L->hi, p.y + p.h, p.y);
    for (int i = 0; i < n; i++) {
        if (is_marked(marks, values, i)) {
            hatched_box(cr, round(p.x + (i + 0.5) * slot - BAR_FILL * slot / 2), round(p.y), round(BAR_FILL * slot),
                        round(p.h));
            continue;
        }
        if (isnan(values[i])) continue;
        double rgb[3];
        nnm_plot__palette_deep(groups[i], rgb);
        nnm_plot__set_rgb(cr, rgb);
        double x0 = p.x + (i + 0.5) * slot - BAR_FILL * slot / 2;
        double ytop = nnm_plot__map(values[i], L->lo, L->hi, p.y + p.h, p.y);
        cairo_rectangle(cr, x0, fmin(ytop, ybase), BAR_FILL * slot, fabs(ybase - ytop));
        cairo_fill(cr);
    }

    nnm_plot__left_axis(cr, p, L->lo, L->hi, L->ticks, L->nticks, NULL, 0.0);
    nnm_plot__bottom_spine(cr, p);
    double ytick = floor(p.y + p.h) + 0.5;
    for (int i = 0; i < n; i++) {
        double cx = floor(p.x + (i + 0.5) * slot) + 0.5;
        cairo_move_to(cr, cx, ytick);
        cairo_line_to(cr, cx, ytick + NNM_TICK_LEN);
    }
    cairo_stroke(cr);

    nnm_plot__font(cr, NNM_TICK_PX, 0);
    for (int i = 0; i < n; i++) {
        char lab[NNM_LABEL_MAX + 8];
        nnm_plot__shorten(labels[i], NNM_LABEL_MAX, lab, sizeof lab);
        double cx = p.x + (i + 0.5) * slot, y = ytick + NNM_TICK_LEN + NNM_PT(3.5);
        if (L->label_angle == LABEL_ANGLE)
            nnm_plot__text(cr, lab, cx + LABEL_NUDGE, y, 1.0, 0.0, L->label_angle);
        else if (L->label_angle > 0.0)
            nnm_plot__text(cr, lab, cx, y, 1.0, 0.5, L->label_angle);
        else
            nnm_plot__text(cr, lab, cx, y, 0.5, 0.0, 0.0);
    }

    nnm_plot__font(cr, NNM_ANNOT_PX, 0);
    for (int i = 0; i < n; i++) {
        char buf[64];
        if (is_marked(marks, values, i)) {
            /* On a white box in the middle of the hatching; upright when the bar is too narrow for it. */
            nnm_plot__shorten(marks[i], NNM_LABEL_MAX, buf, sizeof buf);
            double cx = p.x + (i + 0.5) * slot, cy = p.y + p.h / 2;
            double w = nnm_plot__text_width(cr, buf), h = nnm_plot__text_height(cr, buf);
            int upright = w > 0.9 * BAR_FILL * slot;
            double bw = (upright ? h : w) + 6, bh = (upright ? w : h) + 4;
            cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
            cairo_rectangle(cr, cx - bw / 2, cy - bh / 2, bw, bh);
            cairo_fill(cr);
            nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
            nnm_plot__text(cr, buf, cx, cy, 0.5, 0.5, upright ? 90.0 : 0.0);
            continue;
        }
        double v = isnan(values[i]) ? base : values[i];
        if (isnan(values[i]))
            memcpy(buf, "n/a", 4);
        else
            nnm_plot__format_value(buf, sizeof buf, "%.4f", v);
        double cx = p.x + (i + 0.5) * slot;
        double y = nnm_plot__map(v, L->lo, L->hi, p.y + p.h, p.y) - ANNOT_GAP;
        if (v < base) /* a bar hanging below zero gets its value under it */
            y += 2 * ANNOT_GAP + (L->annot_angle > 0.0 ? 0.0 : nnm_plot__text_height(cr, buf));
        if (L->annot_angle > 0.0)
            nnm_plot__text(cr, buf, cx, y, v < base ? 1.0 : 0.0, 0.5, 90.0);
        else
            nnm_plot__text(cr, buf, cx, y, 0.5, 1.0, 0.0);
    }

    if (ylabel && *ylabel) {
        nnm_plot__font(cr, NNM_LABEL_PX, 0);
        nnm_plot__text(cr, ylabel, L->ylabel_x, p.y + p.h / 2, 0.5, 0.0, 90.0);
    }
    nnm_plot__title(cr, title, p.x + p.w / 2, 18.0);
}

int nnm_plot_bars(const char *png_path, const char *title, const char *ylabel, const char *const *labels,
                  const double *values, int n, char *err, size_t errlen)
{
    return nnm_plot_bars_marked(png_path, title, ylabel, labels, values, NULL, n, err, errlen);
}

int nnm_plot_bars_marked(const char *png_path, const char *title, const char *ylabel, const char *const *labels,
                         const double *values, const char *const *marks, int n, char *err, size_t errlen)
{
    if (!png_path || !labels || !values)
        return nnm_plot__fail(err, errlen, "bars: png_path, labels and values must not be NULL");
    if (n < 1 || n > NNM_PLOT_MAX_BARS)
        return nnm_plot__fail(err, errlen, "bars: %d bars, expects 1 to %d", n, NNM_PLOT_MAX_BARS);
    for (int i = 0; i < n; i++) {
        if (!labels[i]) return nnm_plot__fail(err, errlen, "bars: label %d is NULL", i);
        if (isinf(values[i]))
            return nnm_plot__fail(err, errlen, "bars: value %d ('%s') is infinite", i, labels[i]);
    }
    char tbuf[NNM_TITLE_MAX + 8], ybuf[NNM_TITLE_MAX + 8];
    nnm_plot__shorten(title, NNM_TITLE_MAX, tbuf, sizeof tbuf);
    nnm_plot__shorten(ylabel, NNM_TITLE_MAX, ybuf, sizeof ybuf);

    int *groups = malloc((size_t)n * sizeof *groups);
    if (!groups) return nnm_plot__fail(err, errlen, "bars: out of memory");
    for (int i = 0; i < n; i++) groups[i] = group_of(labels, i, groups);

    nnm_plot__canvas c;
    if (nnm_plot__canvas_open(&c, NNM_PLOT_BARS_W, NNM_PLOT_BARS_H, err, errlen) != 0) {
        free(groups);
        return -1;
    }
    nnm_plot__bars_layout L;
    int rc = nnm_plot__bars_layout_compute(c.cr, tbuf, ybuf, labels, values, n, &L);
    if (rc != 0)
        rc = nnm_plot__fail(err, errlen, "bars: cannot lay out '%s': out of memory or values out of range",
                            png_path);
    else {
        draw(c.cr, tbuf, ybuf, labels, values, marks, n, &L, groups);
        rc = nnm_plot__canvas_save(&c, png_path, err, errlen);
    }
    nnm_plot__canvas_close(&c);
    free(groups);
    return rc;
}
