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
#define HATCH_STEP   7.0         /* between the hatch lines of a marked bar */
#define ERR_LINE     NNM_PT(1.5) /* error bars: matplotlib's default line width */
#define ERR_CAP      NNM_PT(4.0) /* and half the width of their caps, as errorbar(capsize=4) */

/* Marked bars (runs that produced no value, such as diverged ones) are outlined and hatched in
 * seaborn "deep" red over the whole height of the axes: no colour of a value bar, and no height that
 * could be read as a value. */
static const double mark_rgb[3] = {0.768, 0.306, 0.322};

#define LABEL_MAX_H     0.3 /* x labels take at most this share of the canvas height; longer ones are cut */
#define LABEL_MIN_BYTES 8

typedef char label_buf[NNM_LABEL_MAX + 8];

void nnm_plot__bars_label_text(const nnm_plot__bars_layout *L, const char *label, char *out, size_t cap)
{
    nnm_plot__shorten(label, (size_t)L->label_bytes, out, cap);
    /* Stacked lines turned on their side would each need a slot's width: one line fits where two cannot. */
    if (L->label_one_line)
        for (char *p = out; *p; p++)
            if (*p == '\n') *p = '/';
}

/* Widest and tallest drawn x label once rotated by angle, as L would draw them (font selected by the
 * caller). */
static void labels_extent(cairo_t *cr, const nnm_plot__bars_layout *L, const char *const *labels, int n,
                          double angle, double *w, double *h)
{
    *w = *h = 0.0;
    for (int i = 0; i < n; i += L->label_step) {
        label_buf lab;
        nnm_plot__bars_label_text(L, labels[i], lab, sizeof lab);
        double lw, lh;
        nnm_plot__rotated_size(cr, lab, angle, &lw, &lh);
        *w = fmax(*w, lw);
        *h = fmax(*h, lh);
    }
}

/* How the x labels fit slots of this width, in order of preference: horizontal as given (the design);
 * on one line at 30 degrees while slanted labels clear each other (their spacing across the text is
 * slot * sin 30); upright, at a smaller size down to NNM_BARS_LABEL_MIN_PX; then only every k-th label.
 * Labels whose rotated height would take more than LABEL_MAX_H of the canvas are cut with "...". */
static void plan_labels(cairo_t *cr, const char *const *labels, int n, double slot, nnm_plot__bars_layout *L)
{
    L->label_px = NNM_TICK_PX;
    L->label_step = 1;
    L->label_bytes = NNM_LABEL_MAX;
    L->label_one_line = 0;
    L->label_angle = 0.0;
    nnm_plot__font(cr, L->label_px, 0);
    double w, h;
    labels_extent(cr, L, labels, n, 0.0, &w, &h);
    if (w <= 0.95 * slot) return;
    L->label_one_line = 1;
    double line_h = nnm_plot__text_height(cr, "Ag");
    if (slot * 0.5 >= 1.1 * line_h)
        L->label_angle = LABEL_ANGLE;
    else {
        L->label_angle = 90.0;
        if (1.1 * line_h > slot) { /* the height of a line scales with the font size */
            L->label_px = fmax(NNM_BARS_LABEL_MIN_PX, L->label_px * slot / (1.1 * line_h));
            nnm_plot__font(cr, L->label_px, 0);
            line_h = nnm_plot__text_height(cr, "Ag");
            L->label_step = (int)ceil(1.1 * line_h / slot);
        }
    }
    for (;;) {
        labels_extent(cr, L, labels, n, L->label_angle, &w, &h);
        if (h <= LABEL_MAX_H * NNM_PLOT_BARS_H || L->label_bytes <= LABEL_MIN_BYTES) break;
        L->label_bytes -= 2;
    }
}

/* Value annotations: horizontal when "0.0000" fits the slot, else upright, shrunk to the slot's width down
 * to NNM_BARS_ANNOT_MIN_PX, and left out below that (the values are in results.csv). */
static void plan_annotations(cairo_t *cr, double slot, nnm_plot__bars_layout *L)
{
    L->annot_px = NNM_ANNOT_PX;
    L->annot_angle = 0.0;
    nnm_plot__font(cr, L->annot_px, 0);
    if (nnm_plot__text_width(cr, ANNOT_SAMPLE) <= 0.95 * slot) return;
    L->annot_angle = 90.0;
    double h = nnm_plot__text_height(cr, ANNOT_SAMPLE);
    if (h > 0.9 * slot) L->annot_px *= 0.9 * slot / h;
    if (L->annot_px < NNM_BARS_ANNOT_MIN_PX) L->annot_px = 0.0;
}

static void label_anchor(const nnm_plot__bars_layout *L, int i, int n, double *x, double *y, double *ha,
                         double *va)
{
    *x = L->plot.x + (i + 0.5) * L->plot.w / n;
    *y = floor(L->plot.y + L->plot.h) + 0.5 + NNM_TICK_LEN + NNM_PT(3.5);
    if (L->label_angle == LABEL_ANGLE) {
        *x += LABEL_NUDGE * L->label_px / NNM_TICK_PX;
        *ha = 1.0, *va = 0.0;
    } else if (L->label_angle > 0.0)
        *ha = 1.0, *va = 0.5;
    else
        *ha = 0.5, *va = 0.0;
}

int nnm_plot__bars_label_quad(cairo_t *cr, const nnm_plot__bars_layout *L, const char *label, int i, int n,
                              double quad[4][2])
{
    if (i % L->label_step != 0) return 0;
    label_buf lab;
    nnm_plot__bars_label_text(L, label, lab, sizeof lab);
    nnm_plot__font(cr, L->label_px, 0);
    double x, y, ha, va;
    label_anchor(L, i, n, &x, &y, &ha, &va);
    nnm_plot__text_quad(cr, lab, x, y, ha, va, L->label_angle, quad);
    return 1;
}

/* How far labels at 30 degrees reach left of the plot: the first long label can hang past the axis. */
static double label_overhang(cairo_t *cr, const nnm_plot__bars_layout *L, const char *const *labels, int n,
                             double slot)
{
    nnm_plot__font(cr, L->label_px, 0);
    double reach = 0.0;
    for (int i = 0; i < n; i += L->label_step) {
        label_buf lab;
        nnm_plot__bars_label_text(L, labels[i], lab, sizeof lab);
        double w, h;
        nnm_plot__rotated_size(cr, lab, L->label_angle, &w, &h);
        reach = fmax(reach, w - LABEL_NUDGE * L->label_px / NNM_TICK_PX - (i + 0.5) * slot);
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

int nnm_plot__bars_has_error(const double *values, const double *errors, int i)
{
    return errors && !isnan(values[i]) && errors[i] > 0.0; /* false for NaN too */
}

int nnm_plot__bars_layout_compute(cairo_t *cr, const char *title, const char *ylabel,
                                  const char *const *labels, const double *values, int n,
                                  nnm_plot__bars_layout *out)
{
    return nnm_plot__bars_err_layout_compute(cr, title, ylabel, labels, values, NULL, n, out);
}

int nnm_plot__bars_err_layout_compute(cairo_t *cr, const char *title, const char *ylabel,
                                      const char *const *labels, const double *values, const double *errors,
                                      int n, nnm_plot__bars_layout *out)
{
    /* The range covers the error bars' ends, so the annotation room above the top (y_ticks()) is room
     * above the highest error bar, where annotations then sit. */
    double vmin = INFINITY, vmax = -INFINITY;
    for (int i = 0; i < n; i++)
        if (!isnan(values[i])) {
            double e = nnm_plot__bars_has_error(values, errors, i) ? errors[i] : 0.0;
            vmin = fmin(vmin, values[i] - e);
            vmax = fmax(vmax, values[i] + e);
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

    /* The plot's width depends on the tick labels and on how far rotated x labels hang left, those on
     * the plot's height, the height on the x labels' plan, and that on the width. The left margin only
     * grows from a small guess, so slots only narrow: once the margin needs no more room, the plan made
     * for these slots holds. */
    double left = 40.0;
    for (int pass = 0; pass < 8; pass++) {
        double slot = (right - left) / n;
        plan_annotations(cr, slot, out);
        plan_labels(cr, labels, n, slot, out);
        double w, h;
        nnm_plot__font(cr, out->label_px, 0);
        labels_extent(cr, out, labels, n, out->label_angle, &w, &h);
        double bottom = NNM_PLOT_BARS_H - PAD - h - NNM_TICK_LEN - NNM_PT(3.5);
        double plot_h = bottom - top;
        double annot_room = 0.0;
        if (out->annot_px > 0.0) {
            nnm_plot__font(cr, out->annot_px, 0);
            annot_room = out->annot_angle > 0.0 ? nnm_plot__text_width(cr, ANNOT_SAMPLE)
                                                : nnm_plot__text_height(cr, ANNOT_SAMPLE);
        }
        if (y_ticks(vmin, vmax, plot_h, annot_room, out) != 0) return -1;
        nnm_plot__font(cr, NNM_TICK_PX, 0);
        double tw = nnm_plot__ticks_width(cr, out->ticks, out->nticks,
                                          nnm_plot__tick_decimals(out->ticks, out->nticks));
        double axis_w = ylabel_w + tw + NNM_TICK_LEN + NNM_PT(3.5);
        double need = 20.0 + axis_w;
        if (out->label_angle == LABEL_ANGLE)
            need = fmax(need, PAD + label_overhang(cr, out, labels, n, slot));
        out->plot = (nnm_plot__rect){left, top, right - left, plot_h};
        out->ylabel_x = left - axis_w;
        if (need <= left + 0.5) break;
        left = need;
    }
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

/* Each bar's value above it (below a bar hanging under zero), "n/a" or its mark. */
static void draw_annotations(cairo_t *cr, const double *values, const double *errors,
                             const char *const *marks, int n, const nnm_plot__bars_layout *L)
{
    nnm_plot__rect p = L->plot;
    double slot = p.w / n, base = L->lo < 0.0 && L->hi > 0.0 ? 0.0 : L->lo;
    nnm_plot__font(cr, L->annot_px, 0);
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
        /* Clear of the error bar: above its top, or below its bottom for a bar hanging under zero. */
        double e = nnm_plot__bars_has_error(values, errors, i) ? errors[i] : 0.0;
        double y = nnm_plot__map(v < base ? v - e : v + e, L->lo, L->hi, p.y + p.h, p.y) - ANNOT_GAP;
        if (v < base) /* a bar hanging below zero gets its value under it */
            y += 2 * ANNOT_GAP + (L->annot_angle > 0.0 ? 0.0 : nnm_plot__text_height(cr, buf));
        if (L->annot_angle > 0.0)
            nnm_plot__text(cr, buf, cx, y, v < base ? 1.0 : 0.0, 0.5, 90.0);
        else
            nnm_plot__text(cr, buf, cx, y, 0.5, 1.0, 0.0);
    }
}

/* 95% intervals and the like: a vertical line from value - error to value + error with caps, over the
 * bar, narrowed with the bars so that crowded charts keep the line inside its bar. */
static void draw_errors(cairo_t *cr, const double *values, const double *errors, int n,
                        const nnm_plot__bars_layout *L)
{
    nnm_plot__rect p = L->plot;
    double slot = p.w / n;
    double cap = fmin(ERR_CAP, 0.25 * BAR_FILL * slot);
    cairo_save(cr);
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    cairo_set_line_width(cr, fmin(ERR_LINE, fmax(1.0, 0.3 * BAR_FILL * slot)));
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    for (int i = 0; i < n; i++) {
        if (!nnm_plot__bars_has_error(values, errors, i)) continue;
        double cx = p.x + (i + 0.5) * slot;
        double y0 = nnm_plot__map(values[i] - errors[i], L->lo, L->hi, p.y + p.h, p.y);
        double y1 = nnm_plot__map(values[i] + errors[i], L->lo, L->hi, p.y + p.h, p.y);
        cairo_move_to(cr, cx, y0);
        cairo_line_to(cr, cx, y1);
        cairo_move_to(cr, cx - cap, y0);
        cairo_line_to(cr, cx + cap, y0);
        cairo_move_to(cr, cx - cap, y1);
        cairo_line_to(cr, cx + cap, y1);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

static void draw(cairo_t *cr, const char *title, const char *ylabel, const char *const *labels,
                 const double *values, const double *errors, const char *const *marks, int n,
                 const nnm_plot__bars_layout *L, const int *groups)
{
    nnm_plot__rect p = L->plot;
    nnm_plot__hgrid(cr, p, L->lo, L->hi, L->ticks, L->nticks);
    double slot = p.w / n, base = L->lo < 0.0 && L->hi > 0.0 ? 0.0 : L->lo;
    double ybase = nnm_plot__map(base, L->lo, L->hi, p.y + p.h, p.y);
    for (int i = 0; i < n; i++) {
        if (is_marked(marks, values, i)) {
            hatched_box(cr, round(p.x + (i + 0.5) * slot - BAR_FILL * slot / 2), round(p.y),
                        round(BAR_FILL * slot), round(p.h));
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
    if (errors) draw_errors(cr, values, errors, n, L);

    nnm_plot__left_axis(cr, p, L->lo, L->hi, L->ticks, L->nticks, NULL, 0.0);
    nnm_plot__bottom_spine(cr, p);
    double ytick = floor(p.y + p.h) + 0.5;
    for (int i = 0; i < n; i += L->label_step) {
        double cx = floor(p.x + (i + 0.5) * slot) + 0.5;
        cairo_move_to(cr, cx, ytick);
        cairo_line_to(cr, cx, ytick + NNM_TICK_LEN);
    }
    cairo_stroke(cr);

    nnm_plot__font(cr, L->label_px, 0);
    for (int i = 0; i < n; i += L->label_step) {
        char lab[NNM_LABEL_MAX + 8];
        nnm_plot__bars_label_text(L, labels[i], lab, sizeof lab);
        double x, y, ha, va;
        label_anchor(L, i, n, &x, &y, &ha, &va);
        nnm_plot__text(cr, lab, x, y, ha, va, L->label_angle);
    }

    if (L->annot_px > 0.0) draw_annotations(cr, values, errors, marks, n, L);
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

int nnm_plot_bars_marked(const char *png_path, const char *title, const char *ylabel,
                         const char *const *labels, const double *values, const char *const *marks, int n,
                         char *err, size_t errlen)
{
    return nnm_plot_bars_err(png_path, title, ylabel, labels, values, NULL, marks, n, err, errlen);
}

int nnm_plot_bars_err(const char *png_path, const char *title, const char *ylabel, const char *const *labels,
                      const double *values, const double *errors, const char *const *marks, int n, char *err,
                      size_t errlen)
{
    if (!png_path || !labels || !values)
        return nnm_plot__fail(err, errlen, "bars: png_path, labels and values must not be NULL");
    if (n < 1 || n > NNM_PLOT_MAX_BARS)
        return nnm_plot__fail(err, errlen, "bars: %d bars, expects 1 to %d", n, NNM_PLOT_MAX_BARS);
    for (int i = 0; i < n; i++) {
        if (!labels[i]) return nnm_plot__fail(err, errlen, "bars: label %d is NULL", i);
        if (isinf(values[i]))
            return nnm_plot__fail(err, errlen, "bars: value %d ('%s') is infinite", i, labels[i]);
        if (errors && (isinf(errors[i]) || errors[i] < 0.0))
            return nnm_plot__fail(
                err, errlen, "bars: error %d ('%s') is %g, expects a finite half-width >= 0 (or NaN: none)",
                i, labels[i], errors[i]);
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
    int rc = nnm_plot__bars_err_layout_compute(c.cr, tbuf, ybuf, labels, values, errors, n, &L);
    if (rc != 0)
        rc = nnm_plot__fail(err, errlen, "bars: cannot lay out '%s': out of memory or values out of range",
                            png_path);
    else {
        draw(c.cr, tbuf, ybuf, labels, values, errors, marks, n, &L, groups);
        rc = nnm_plot__canvas_save(&c, png_path, err, errlen);
    }
    nnm_plot__canvas_close(&c);
    free(groups);
    return rc;
}
