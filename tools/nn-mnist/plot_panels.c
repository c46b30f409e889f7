/* Line plots in panels side by side: bands, dashed lines, log x axes, and a legend placed as matplotlib's
 * legend(loc="best") would place it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

#define PAD         12.0 /* between text and the canvas's bottom edge */
#define EDGE        20.0 /* left of the y label, within a panel's share of the canvas */
#define RIGHT       25.0 /* right of the axes, within a panel's share (the next panel's labels follow) */
#define RIGHT_OUT   15.0 /* right of a legend outside the axes */
#define LEGEND_GAP  15.0 /* between the axes and a legend right of them */
#define INSET       7.0  /* between an inside legend and the axes: matplotlib's borderaxespad, 0.5 em */
#define LEGEND_VPAD 8.0  /* above the first legend row and below the last */
#define MARGIN      0.05 /* matplotlib's axes margins, of the data range */
#define BAND_ALPHA  0.2
#define TICK_GAP    8.0 /* at least this between neighbouring x tick labels */
#define MINOR_LEN   (0.6 * NNM_TICK_LEN)
#define SUBTITLE_PX NNM_PT(12.0) /* matplotlib's axes title size */
#define MAX_LEVELS  1000         /* tick thinning steps tried; a log axis over 600 decades needs ~40 */

typedef char text_buf[NNM_TITLE_MAX + 8];

/* ---- data ---------------------------------------------------------------------------------------- */

/* x in axis units: what the axis is linear in. */
static double tx(int log_x, double x) { return log_x == 10 ? log10(x) : log_x == 2 ? log2(x) : x; }
static double from_t(int log_x, double t) { return log_x == 10 ? pow(10.0, t) : log_x == 2 ? exp2(t) : t; }

double nnm_plot__panel_px(const nnm_plot__panel_layout *L, double x)
{
    return nnm_plot__map(tx(L->log_x, x), L->xlo, L->xhi, L->plot.x, L->plot.x + L->plot.w);
}

double nnm_plot__panel_py(const nnm_plot__panel_layout *L, double y)
{
    return nnm_plot__map(y, L->ylo, L->yhi, L->plot.y + L->plot.h, L->plot.y);
}

static double x_at(const nnm_plot_series *s, int k) { return s->x ? s->x[k] : k + 1.0; }

/* A point of the line: a finite x (the checks refused x <= 0 on log axes) and a y that is a number. */
static int point_ok(const nnm_plot_series *s, int k) { return isfinite(x_at(s, k)) && !isnan(s->y[k]); }

/* A point of the band: a finite x and both edges. */
static int band_ok(const nnm_plot_series *s, int k)
{
    return s->lo && isfinite(x_at(s, k)) && !isnan(s->lo[k]) && !isnan(s->hi[k]);
}

static int named(const nnm_plot_series *s) { return s->name && s->name[0]; }

/* The span of the points and band edges drawn, x in axis units; lo > hi when there are none. */
static void data_ranges(const nnm_plot_panel *P, double *x0, double *x1, double *y0, double *y1)
{
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
    for (int i = 0; i < P->nseries; i++) {
        const nnm_plot_series *s = &P->series[i];
        for (int k = 0; k < s->n; k++) {
            int drawn = 0;
            if (point_ok(s, k)) {
                *y0 = fmin(*y0, s->y[k]);
                *y1 = fmax(*y1, s->y[k]);
                drawn = 1;
            }
            if (band_ok(s, k)) {
                *y0 = fmin(*y0, fmin(s->lo[k], s->hi[k]));
                *y1 = fmax(*y1, fmax(s->lo[k], s->hi[k]));
                drawn = 1;
            }
            if (drawn) {
                double t = tx(P->log_x, x_at(s, k));
                *x0 = fmin(*x0, t);
                *x1 = fmax(*x1, t);
            }
        }
    }
}

/* The view of [lo, hi]: 5% margins, as matplotlib's; a single value is widened around itself (by half a
 * unit for whole-number and log axes, whose ticks are a unit apart), no data gives [0, 1]. */
static void view(double lo, double hi, int unit_pad, double *vlo, double *vhi)
{
    if (lo > hi) lo = 0.0, hi = 1.0;
    double r = hi - lo, d = r > 0.0 ? MARGIN * r : unit_pad ? 0.5 : lo != 0.0 ? fabs(lo) * 0.05 : 0.5;
    *vlo = lo - d;
    *vhi = hi + d;
}

/* ---- ticks --------------------------------------------------------------------------------------- */


/* A decade or 1-2-5 tick on a log axis: plain decimals from 0.001 to 1000 (matplotlib's range for plain
 * labels), "1e-4" and "2e5" beyond, where decimals grow long. */
static void log_label(char *out, size_t cap, double v)
{
    int k = (int)floor(log10(v) + 1e-9);
    if (k >= -3 && k <= 3)
        snprintf(out, cap, "%.*f", k < 0 ? -k : 0, v);
    else
        snprintf(out, cap, "%.0fe%d", v / pow(10.0, k), k);
}

static void pow2_label(char *out, size_t cap, double v)
{
    if (v >= 1.0)
        snprintf(out, cap, "%.0f", v);
    else
        snprintf(out, cap, "%g", v);
}

/* Whole powers (of 10 or 2) in the view taken every step-th, as matplotlib's LogLocator thins them;
 * -1 when more than fit the buffer. */
static int power_ticks(const nnm_plot__panel_layout *L, int step, double *ticks)
{
    double k0 = ceil(L->xlo - 1e-9), k1 = floor(L->xhi + 1e-9);
    int n = 0;
    for (double k = k0; k <= k1; k++) {
        double v = from_t(L->log_x, k);
        /* The margins of a view over the whole range of doubles reach powers that overflow or vanish. */
        if (fmod(fabs(k), step) != 0.0 || !isfinite(v) || !(v > 0.0)) continue;
        if (n == NNM_PANEL_MAX_TICKS) return -1;
        ticks[n++] = v;
    }
    return n;
}

/* 1, 2 and 5 times each power of ten in the view, for log axes spanning less than two decades. */
static int ticks_125(const nnm_plot__panel_layout *L, double *ticks)
{
    static const double m[] = {1.0, 2.0, 5.0};
    int n = 0;
    for (double k = floor(L->xlo) - 1; k <= ceil(L->xhi) && n < NNM_PANEL_MAX_TICKS; k++)
        for (int j = 0; j < 3 && n < NNM_PANEL_MAX_TICKS; j++) {
            double v = m[j] * pow(10.0, k), t = log10(v);
            if (t >= L->xlo - 1e-9 && t <= L->xhi + 1e-9) ticks[n++] = v;
        }
    return n;
}

/* Tick positions in data units for thinning level `level` (0 the finest), with their labels; -1 when
 * this level has more than fit the buffer (a coarser one may do), -2 once no coarser set exists. Linear axes step down from 11 ticks to 3; whole-number axes start with every
 * whole number; log axes take every decade (or power of two), then every second, third, ...; log axes
 * that span under two whole powers take 1-2-5 ticks where there are three, else linear ones. */
static int x_candidates(const nnm_plot_panel *P, const nnm_plot__panel_layout *L, double tlo, double thi,
                        int level, double *ticks, char (*labels)[16], int *by_powers)
{
    int n = -1, kind = 0; /* 0 linear labels, 1 log10 labels, 2 power-of-two labels */
    *by_powers = 0;
    if (P->log_x) {
        int powers = power_ticks(L, 1, ticks);
        if (powers < 0 || powers >= 2) { /* thinned decades (or powers of two) */
            *by_powers = level == 0;
            n = power_ticks(L, level + 1, ticks);
            if (n >= 0 && n < 2 && level > 0) return -2;
            kind = P->log_x == 10 ? 1 : 2;
        } else if (P->log_x == 10 && level == 0 && (n = ticks_125(L, ticks)) >= 3)
            kind = 1;
        else { /* narrower than two powers: linear ticks in data units */
            int max_ticks = 7 - level;
            if (max_ticks < 3) return -2;
            double lo = from_t(P->log_x, L->xlo), hi = from_t(P->log_x, L->xhi);
            n = nnm_plot__inner_ticks(from_t(P->log_x, tlo), from_t(P->log_x, thi), max_ticks, lo, hi, ticks);
            int k = 0;
            for (int i = 0; i < n; i++)
                if (ticks[i] > 0.0) ticks[k++] = ticks[i];
            n = n < 0 ? n : k;
        }
    } else if (P->integer_x) {
        double first = ceil(L->xlo - 1e-9), last = floor(L->xhi + 1e-9);
        if (level == 0 && last - first + 1 <= 11) {
            n = 0;
            for (double v = first; v <= last; v++) ticks[n++] = v;
        } else {
            int max_ticks = 12 - level;
            if (max_ticks < 3) return -2;
            n = nnm_plot__inner_ticks(tlo, thi, max_ticks, L->xlo, L->xhi, ticks);
            int k = 0;
            for (int i = 0; i < n; i++)
                if (ticks[i] == round(ticks[i])) ticks[k++] = ticks[i];
            n = n < 0 ? n : k;
        }
    } else {
        int max_ticks = 11 - level;
        if (max_ticks < 3) return -2;
        n = nnm_plot__inner_ticks(tlo, thi, max_ticks, L->xlo, L->xhi, ticks);
    }
    if (n < 0) return -1;
    int dec = P->integer_x ? 0 : nnm_plot__tick_decimals(ticks, n);
    if (n < 2 && !P->integer_x) dec = fabs(n ? ticks[0] : 0.0) >= 100.0 ? 0 : 2;
    for (int i = 0; i < n; i++) {
        if (kind == 1)
            log_label(labels[i], sizeof labels[i], ticks[i]);
        else if (kind == 2)
            pow2_label(labels[i], sizeof labels[i], ticks[i]);
        else
            nnm_plot__format_tick(labels[i], sizeof labels[i], ticks[i], dec);
    }
    return n;
}

/* Whether neighbouring labels clear each other by TICK_GAP at these positions. */
static int labels_fit(cairo_t *cr, const nnm_plot__panel_layout *L, const double *ticks, char (*labels)[16],
                      int n)
{
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    for (int i = 0; i + 1 < n; i++) {
        double gap = nnm_plot__panel_px(L, ticks[i + 1]) - nnm_plot__panel_px(L, ticks[i]);
        double need = (nnm_plot__text_width(cr, labels[i]) + nnm_plot__text_width(cr, labels[i + 1])) / 2;
        if (gap < need + TICK_GAP) return 0;
    }
    return 1;
}

/* The finest candidate whose labels clear each other, else the coarsest there is. */
static void x_ticks(cairo_t *cr, const nnm_plot_panel *P, nnm_plot__panel_layout *L, double tlo, double thi)
{
    L->nxticks = 0;
    L->nxminor = 0;
    int minor = 0;
    for (int level = 0; level < MAX_LEVELS; level++) {
        double ticks[NNM_PANEL_MAX_TICKS];
        char labels[NNM_PANEL_MAX_TICKS][16];
        int by_powers;
        int n = x_candidates(P, L, tlo, thi, level, ticks, labels, &by_powers);
        if (n == -2) break;
        if (n < 0) continue; /* too many to hold: try coarser */
        memcpy(L->xticks, ticks, sizeof ticks);
        memcpy(L->xlabels, labels, sizeof labels);
        L->nxticks = n;
        minor = by_powers && P->log_x == 10;
        if (labels_fit(cr, L, ticks, labels, n)) break;
    }
    if (!minor) return;
    /* Every decade labelled: matplotlib's unlabelled minor ticks at 2..9 times each. */
    for (double k = floor(L->xlo); k <= ceil(L->xhi); k++)
        for (int m = 2; m <= 9; m++) {
            double v = m * pow(10.0, k), t = log10(v);
            if (t < L->xlo || t > L->xhi) continue;
            if (L->nxminor == NNM_PANEL_MAX_MINOR) {
                L->nxminor = 0; /* too many decades to show them */
                return;
            }
            L->xminor[L->nxminor++] = v;
        }
}

/* ---- legend placement ---------------------------------------------------------------------------- */

typedef struct box {
    double x0, y0, x1, y1;
} box;

static int in_box(box b, double x, double y) { return x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1; }

/* Whether the segment crosses the box (Liang-Barsky clipping). */
static int seg_hits(box b, double x0, double y0, double x1, double y1)
{
    double t0 = 0.0, t1 = 1.0, dx = x1 - x0, dy = y1 - y0;
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {x0 - b.x0, b.x1 - x0, y0 - b.y0, b.y1 - y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0.0) {
            if (q[i] < 0.0) return 0;
            continue;
        }
        double r = q[i] / p[i];
        if (p[i] < 0.0)
            t0 = fmax(t0, r);
        else
            t1 = fmin(t1, r);
        if (t0 > t1) return 0;
    }
    return 1;
}

/* Whether (px, py) lies inside the band of s, between its edges at that x. */
static int band_covers(const nnm_plot_series *s, const nnm_plot__panel_layout *L, double px, double py)
{
    for (int k = 0; k + 1 < s->n; k++) {
        if (!band_ok(s, k) || !band_ok(s, k + 1)) continue;
        double xa = nnm_plot__panel_px(L, x_at(s, k)), xb = nnm_plot__panel_px(L, x_at(s, k + 1));
        if (px < fmin(xa, xb) || px > fmax(xa, xb) || xa == xb) continue;
        double f = (px - xa) / (xb - xa);
        double lo = nnm_plot__panel_py(L, s->lo[k] + f * (s->lo[k + 1] - s->lo[k]));
        double hi = nnm_plot__panel_py(L, s->hi[k] + f * (s->hi[k + 1] - s->hi[k]));
        if (py >= fmin(lo, hi) && py <= fmax(lo, hi)) return 1;
    }
    return 0;
}

/* How much of the data a legend at r would hide, as matplotlib's "best" counts it: points inside, line
 * segments crossing it, and here also band edges and the band area under nine spots of the box. */
static long badness(const nnm_plot_panel *P, const nnm_plot__panel_layout *L, nnm_plot__rect r)
{
    double m = NNM_MARKER_R + 1.5; /* a marker or line just outside still touches the frame */
    box b = {r.x - m, r.y - m, r.x + r.w + m, r.y + r.h + m};
    long bad = 0;
    for (int i = 0; i < P->nseries; i++) {
        const nnm_plot_series *s = &P->series[i];
        for (int pass = 0; pass < 3; pass++) { /* the line, the band's lower edge, its upper edge */
            if (pass > 0 && !s->lo) break;
            const double *ys = pass == 0 ? s->y : pass == 1 ? s->lo : s->hi;
            int have = 0;
            double px0 = 0.0, py0 = 0.0;
            for (int k = 0; k < s->n; k++) {
                if (!(pass == 0 ? point_ok(s, k) : band_ok(s, k))) {
                    have = 0;
                    continue;
                }
                double px = nnm_plot__panel_px(L, x_at(s, k)), py = nnm_plot__panel_py(L, ys[k]);
                bad += in_box(b, px, py);
                if (have) bad += seg_hits(b, px0, py0, px, py);
                px0 = px, py0 = py, have = 1;
            }
        }
        if (!s->lo) continue;
        for (int sx = 0; sx < 3; sx++)
            for (int sy = 0; sy < 3; sy++)
                bad += band_covers(s, L, b.x0 + sx * (b.x1 - b.x0) / 2, b.y0 + sy * (b.y1 - b.y0) / 2);
    }
    return bad;
}

/* A legend of w x h at matplotlib's place code inside the axes p. */
static nnm_plot__rect inside_at(int place, nnm_plot__rect p, double w, double h)
{
    double left = p.x + INSET, right = p.x + p.w - INSET - w, mid_x = p.x + (p.w - w) / 2;
    double top = p.y + INSET, bottom = p.y + p.h - INSET - h, mid_y = p.y + (p.h - h) / 2;
    switch (place) {
    case 1: return (nnm_plot__rect){right, top, w, h};
    case 2: return (nnm_plot__rect){left, top, w, h};
    case 3: return (nnm_plot__rect){left, bottom, w, h};
    case 4: return (nnm_plot__rect){right, bottom, w, h};
    case 5: return (nnm_plot__rect){right, mid_y, w, h};
    case 6: return (nnm_plot__rect){left, mid_y, w, h};
    case 8: return (nnm_plot__rect){mid_x, bottom, w, h};
    case 9: return (nnm_plot__rect){mid_x, top, w, h};
    default: return (nnm_plot__rect){mid_x, mid_y, w, h};
    }
}

/* Inside the axes at the first free place in matplotlib's order; otherwise right of them, narrowing the
 * axes, in one column, two when the entries outgrow the height, and a "(N more)" line past that. */
/* The widest legend name once shortened to bytes. */
static double names_width(cairo_t *cr, const nnm_plot_panel *P, int bytes)
{
    double w = 0.0;
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    for (int i = 0; i < P->nseries; i++) {
        if (!named(&P->series[i])) continue;
        char name[NNM_LABEL_MAX + 8];
        nnm_plot__shorten(P->series[i].name, (size_t)bytes, name, sizeof name);
        w = fmax(w, nnm_plot__text_width(cr, name));
    }
    return w;
}

static void place_legend(cairo_t *cr, const nnm_plot_panel *P, nnm_plot__panel_layout *L)
{
    L->entries = 0;
    for (int i = 0; i < P->nseries; i++) L->entries += named(&P->series[i]);
    L->legend_bytes = NNM_LABEL_MAX;
    double name_w = names_width(cr, P, L->legend_bytes);
    if (L->entries == 0) {
        L->place = -1;
        L->shown = 0;
        L->legend = (nnm_plot__rect){0, 0, 0, 0};
        return;
    }
    L->legend_col_w = NNM_LEGEND_HANDLE_W + name_w + 2 * NNM_LEGEND_PAD;
    double w = L->legend_col_w + NNM_LEGEND_PAD, h = L->entries * NNM_PANEL_LEGEND_H + 2 * LEGEND_VPAD;
    L->legend_rows = L->entries;
    L->legend_cols = 1;
    L->shown = L->entries;
    if (w <= L->plot.w - 2 * INSET && h <= L->plot.h - 2 * INSET) {
        static const int order[] = {1, 2, 3, 4, 5, 6, 8, 9, 10};
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
            nnm_plot__rect r = inside_at(order[i], L->plot, w, h);
            if (badness(P, L, r) == 0) {
                L->place = order[i];
                L->legend = r;
                return;
            }
        }
    }
    L->place = 0;
    int rows_fit = (int)floor((L->plot.h - 2 * LEGEND_VPAD) / NNM_PANEL_LEGEND_H);
    if (rows_fit < 1) rows_fit = 1;
    /* The axes keep at least this much of the panel's width: names too long for the rest are cut, and a
     * second column comes only where it fits. */
    double min_w = 0.3 * L->area.w;
    double room = L->area.x + L->area.w - RIGHT_OUT - LEGEND_GAP - min_w - L->plot.x;
    while (L->legend_col_w + NNM_LEGEND_PAD > room && L->legend_bytes > 8) {
        L->legend_bytes -= 2;
        L->legend_col_w = NNM_LEGEND_HANDLE_W + names_width(cr, P, L->legend_bytes) + 2 * NNM_LEGEND_PAD;
    }
    L->legend_cols = L->entries > rows_fit && NNM_PANEL_LEGEND_MAX * L->legend_col_w + NNM_LEGEND_PAD <= room
                         ? NNM_PANEL_LEGEND_MAX
                         : 1;
    L->legend_rows = (L->entries + L->legend_cols - 1) / L->legend_cols;
    if (L->legend_rows > rows_fit) {
        L->legend_rows = rows_fit;
        L->shown = L->legend_rows * L->legend_cols - 1; /* the last slot says how many are left out */
    }
    w = L->legend_cols * L->legend_col_w + NNM_LEGEND_PAD;
    h = L->legend_rows * NNM_PANEL_LEGEND_H + 2 * LEGEND_VPAD;
    double x = L->area.x + L->area.w - RIGHT_OUT - w;
    L->plot.w = fmax(min_w, x - LEGEND_GAP - L->plot.x);
    L->legend = (nnm_plot__rect){L->plot.x + L->plot.w + LEGEND_GAP, L->plot.y, w, h};
}

/* ---- layout -------------------------------------------------------------------------------------- */

static double text_h(cairo_t *cr, double px, int bold, const char *text)
{
    nnm_plot__font(cr, px, bold);
    return nnm_plot__text_height(cr, text);
}

static int panel_layout(cairo_t *cr, const nnm_plot_panel *P, int index, int npanels, int has_title,
                        nnm_plot__panel_layout *L)
{
    memset(L, 0, sizeof *L);
    double share = (double)NNM_PLOT_PANELS_W(npanels) / npanels;
    L->area = (nnm_plot__rect){index * share, 0.0, share, NNM_PLOT_PANELS_H};
    L->log_x = P->log_x;
    text_buf t, xl, yl;
    nnm_plot__shorten(P->title, NNM_TITLE_MAX, t, sizeof t);
    nnm_plot__shorten(P->xlabel, NNM_TITLE_MAX, xl, sizeof xl);
    nnm_plot__shorten(P->ylabel, NNM_TITLE_MAX, yl, sizeof yl);

    double tlo, thi, vlo, vhi;
    data_ranges(P, &tlo, &thi, &vlo, &vhi);
    view(vlo, vhi, 0, &L->ylo, &L->yhi);
    if (tlo > thi) tlo = 0.0, thi = 1.0;
    view(tlo, thi, P->log_x || P->integer_x, &L->xlo, &L->xhi);
    L->nyticks = nnm_plot__inner_ticks(L->ylo, L->yhi, 10, L->ylo, L->yhi, L->yticks);
    if (L->nyticks < 0 || !isfinite(L->xhi - L->xlo) || !isfinite(L->yhi - L->ylo)) return -1;

    double top = has_title ? 50.0 : 18.0;
    L->title_y = top;
    if (t[0])
        top += text_h(cr, SUBTITLE_PX, 0, t) + 10.0;
    else
        top += 5.0;
    double bottom = NNM_PLOT_PANELS_H - PAD - text_h(cr, NNM_TICK_PX, 0, "0") - NNM_TICK_LEN - NNM_PT(3.5);
    if (xl[0]) bottom -= text_h(cr, NNM_LABEL_PX, 0, xl) + 2 * PAD;
    L->xlabel_y = NNM_PLOT_PANELS_H - PAD;
    double ylabel_w = yl[0] ? text_h(cr, NNM_LABEL_PX, 0, yl) + PAD : 0.0;
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    double tw =
        nnm_plot__ticks_width(cr, L->yticks, L->nyticks, nnm_plot__tick_decimals(L->yticks, L->nyticks));
    double left = L->area.x + EDGE + ylabel_w + tw + NNM_TICK_LEN + NNM_PT(3.5);
    L->plot = (nnm_plot__rect){round(left), round(top), round(L->area.x + L->area.w - RIGHT - left),
                               round(bottom - top)};
    place_legend(cr, P, L);
    x_ticks(cr, P, L, tlo, thi);
    return 0;
}

int nnm_plot__panels_layout_compute(cairo_t *cr, const char *title, const nnm_plot_panel *panels, int npanels,
                                    nnm_plot__panel_layout *out)
{
    for (int i = 0; i < npanels; i++)
        if (panel_layout(cr, &panels[i], i, npanels, title && *title, &out[i]) != 0) return -1;
    return 0;
}

/* ---- drawing ------------------------------------------------------------------------------------- */

/* The band between lo and hi over each run of points that have both, in one fill so that runs that
 * touch do not darken where they meet. */
static void draw_band(cairo_t *cr, const nnm_plot__panel_layout *L, const nnm_plot_series *s)
{
    double rgb[3];
    nnm_plot__palette_tab10(s->color, rgb);
    cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], BAND_ALPHA);
    cairo_new_path(cr);
    for (int k = 0; k < s->n;) {
        if (!band_ok(s, k)) {
            k++;
            continue;
        }
        int a = k;
        while (k < s->n && band_ok(s, k)) k++;
        if (k - a < 2) continue;
        cairo_new_sub_path(cr);
        for (int j = a; j < k; j++)
            cairo_line_to(cr, nnm_plot__panel_px(L, x_at(s, j)), nnm_plot__panel_py(L, s->lo[j]));
        for (int j = k - 1; j >= a; j--)
            cairo_line_to(cr, nnm_plot__panel_px(L, x_at(s, j)), nnm_plot__panel_py(L, s->hi[j]));
        cairo_close_path(cr);
    }
    cairo_fill(cr);
}

static void draw_line(cairo_t *cr, const nnm_plot__panel_layout *L, const nnm_plot_series *s)
{
    nnm_plot__line_style(cr, s->color, s->dashed ? 1 : 0);
    int pen = 0;
    for (int k = 0; k < s->n; k++) {
        if (!point_ok(s, k)) { /* a gap: the line stops and resumes at the next value */
            pen = 0;
            continue;
        }
        double px = nnm_plot__panel_px(L, x_at(s, k)), py = nnm_plot__panel_py(L, s->y[k]);
        if (pen)
            cairo_line_to(cr, px, py);
        else
            cairo_move_to(cr, px, py);
        pen = 1;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0.0);
    if (s->n > NNM_MARKERS_UP_TO) return;
    for (int k = 0; k < s->n; k++)
        if (point_ok(s, k))
            nnm_plot__marker(cr, 0, nnm_plot__panel_px(L, x_at(s, k)), nnm_plot__panel_py(L, s->y[k]));
}

static void draw_x_axis(cairo_t *cr, const nnm_plot__panel_layout *L)
{
    double xs[NNM_PANEL_MAX_TICKS];
    const char *labels[NNM_PANEL_MAX_TICKS];
    for (int i = 0; i < L->nxticks; i++) {
        xs[i] = nnm_plot__panel_px(L, L->xticks[i]);
        labels[i] = L->xlabels[i];
    }
    nnm_plot__bottom_axis(cr, L->plot, xs, labels, L->nxticks);
    if (L->nxminor == 0) return;
    double y = floor(L->plot.y + L->plot.h) + 0.5;
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i < L->nxminor; i++) {
        double x = floor(nnm_plot__panel_px(L, L->xminor[i])) + 0.5;
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x, y + MINOR_LEN);
    }
    cairo_stroke(cr);
}

static void draw_legend(cairo_t *cr, const nnm_plot__panel_layout *L, const nnm_plot_panel *P)
{
    if (L->place < 0) return;
    nnm_plot__rect b = nnm_plot__legend_frame(cr, L->legend);
    nnm_plot__font(cr, NNM_TICK_PX, 0);
    int slot = 0;
    for (int i = 0; i < P->nseries && slot < L->shown; i++) {
        const nnm_plot_series *s = &P->series[i];
        if (!named(s)) continue;
        int col = slot / L->legend_rows, row = slot % L->legend_rows;
        double x = b.x + NNM_LEGEND_PAD + col * L->legend_col_w;
        double y = b.y + LEGEND_VPAD + (row + 0.5) * NNM_PANEL_LEGEND_H;
        char name[NNM_LABEL_MAX + 8];
        nnm_plot__shorten(s->name, (size_t)L->legend_bytes, name, sizeof name);
        nnm_plot__legend_entry(cr, x, y, s->color, s->dashed ? 1 : 0, s->n <= NNM_MARKERS_UP_TO ? 0 : -1,
                               name);
        slot++;
    }
    if (L->shown < L->entries) {
        int col = slot / L->legend_rows, row = slot % L->legend_rows;
        char more[32];
        snprintf(more, sizeof more, "(%d more)", L->entries - L->shown);
        nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
        nnm_plot__text(cr, more, b.x + NNM_LEGEND_PAD + col * L->legend_col_w,
                       b.y + LEGEND_VPAD + (row + 0.5) * NNM_PANEL_LEGEND_H, 0.0, 0.5, 0.0);
    }
}

static void draw_panel(cairo_t *cr, const nnm_plot__panel_layout *L, const nnm_plot_panel *P)
{
    nnm_plot__rect p = L->plot;
    nnm_plot__hgrid(cr, p, L->ylo, L->yhi, L->yticks, L->nyticks);
    cairo_save(cr);
    cairo_rectangle(cr, p.x, p.y - NNM_MARKER_R, p.w, p.h + 2 * NNM_MARKER_R);
    cairo_clip(cr);
    for (int i = 0; i < P->nseries; i++)
        if (P->series[i].lo) draw_band(cr, L, &P->series[i]);
    for (int i = 0; i < P->nseries; i++) draw_line(cr, L, &P->series[i]);
    cairo_restore(cr);
    text_buf t, xl, yl;
    nnm_plot__shorten(P->title, NNM_TITLE_MAX, t, sizeof t);
    nnm_plot__shorten(P->xlabel, NNM_TITLE_MAX, xl, sizeof xl);
    nnm_plot__shorten(P->ylabel, NNM_TITLE_MAX, yl, sizeof yl);
    nnm_plot__left_axis(cr, p, L->ylo, L->yhi, L->yticks, L->nyticks, yl, L->area.x + EDGE);
    draw_x_axis(cr, L);
    draw_legend(cr, L, P);
    nnm_plot__set_rgb(cr, nnm_plot__text_rgb);
    if (xl[0]) {
        nnm_plot__font(cr, NNM_LABEL_PX, 0);
        nnm_plot__text(cr, xl, p.x + p.w / 2, L->xlabel_y, 0.5, 1.0, 0.0);
    }
    if (t[0]) {
        nnm_plot__font(cr, SUBTITLE_PX, 0);
        nnm_plot__text(cr, t, p.x + p.w / 2, L->title_y, 0.5, 0.0, 0.0);
    }
}

/* ---- checks -------------------------------------------------------------------------------------- */

static const char *name_of(const nnm_plot_series *s) { return named(s) ? s->name : "unnamed"; }

static int check_values(const nnm_plot_series *s, const double *v, const char *what, int p, int i, char *err,
                        size_t errlen)
{
    for (int k = 0; k < s->n; k++)
        if (isinf(v[k]))
            return nnm_plot__fail(err, errlen, "panels: panel %d, series %d ('%s'): %s[%d] is infinite", p, i,
                                  name_of(s), what, k);
    return 0;
}

static int check_series(const nnm_plot_panel *P, int p, int i, char *err, size_t errlen)
{
    const nnm_plot_series *s = &P->series[i];
    if (s->n < 0 || s->n > NNM_PLOT_MAX_POINTS)
        return nnm_plot__fail(err, errlen,
                              "panels: panel %d, series %d ('%s') has %d points, expects 0 to %d", p, i,
                              name_of(s), s->n, NNM_PLOT_MAX_POINTS);
    if (s->n > 0 && !s->y)
        return nnm_plot__fail(err, errlen, "panels: panel %d, series %d ('%s') has %d points but no y", p, i,
                              name_of(s), s->n);
    if (!s->lo != !s->hi)
        return nnm_plot__fail(
            err, errlen, "panels: panel %d, series %d ('%s') has one band edge: give lo and hi, or neither",
            p, i, name_of(s));
    if (s->n == 0) return 0;
    if (check_values(s, s->y, "y", p, i, err, errlen) != 0) return -1;
    if (s->lo && (check_values(s, s->lo, "lo", p, i, err, errlen) != 0 ||
                  check_values(s, s->hi, "hi", p, i, err, errlen) != 0))
        return -1;
    if (!s->x) return 0;
    if (check_values(s, s->x, "x", p, i, err, errlen) != 0) return -1;
    if (P->log_x)
        for (int k = 0; k < s->n; k++)
            if (!(s->x[k] > 0.0)) /* also NaN: no gap can stand for a point a log axis cannot place */
                return nnm_plot__fail(err, errlen,
                                      "panels: panel %d, series %d ('%s'): x[%d] = %g, but the x axis is "
                                      "logarithmic: expects x > 0",
                                      p, i, name_of(s), k, s->x[k]);
    return 0;
}

static int check(const char *png_path, const nnm_plot_panel *panels, int npanels, char *err, size_t errlen)
{
    if (!png_path || !panels)
        return nnm_plot__fail(err, errlen, "panels: png_path and panels must not be NULL");
    if (npanels < 1 || npanels > NNM_PLOT_MAX_PANELS)
        return nnm_plot__fail(err, errlen, "panels: %d panels, expects 1 to %d", npanels,
                              NNM_PLOT_MAX_PANELS);
    for (int p = 0; p < npanels; p++) {
        const nnm_plot_panel *P = &panels[p];
        if (P->nseries < 0 || P->nseries > NNM_PLOT_MAX_SERIES)
            return nnm_plot__fail(err, errlen, "panels: panel %d has %d series, expects 0 to %d", p,
                                  P->nseries, NNM_PLOT_MAX_SERIES);
        if (P->nseries > 0 && !P->series)
            return nnm_plot__fail(err, errlen, "panels: panel %d has %d series but no array", p, P->nseries);
        if (P->log_x != 0 && P->log_x != 2 && P->log_x != 10)
            return nnm_plot__fail(err, errlen, "panels: panel %d: log_x is %d, expects 0 (linear), 2 or 10",
                                  p, P->log_x);
        for (int i = 0; i < P->nseries; i++)
            if (check_series(P, p, i, err, errlen) != 0) return -1;
    }
    return 0;
}

int nnm_plot_panels(const char *png_path, const char *title, const nnm_plot_panel *panels, int npanels,
                    char *err, size_t errlen)
{
    if (check(png_path, panels, npanels, err, errlen) != 0) return -1;
    text_buf tbuf;
    nnm_plot__shorten(title, NNM_TITLE_MAX, tbuf, sizeof tbuf);
    nnm_plot__canvas c;
    if (nnm_plot__canvas_open(&c, NNM_PLOT_PANELS_W(npanels), NNM_PLOT_PANELS_H, err, errlen) != 0) return -1;
    nnm_plot__panel_layout L[NNM_PLOT_MAX_PANELS];
    if (nnm_plot__panels_layout_compute(c.cr, tbuf, panels, npanels, L) != 0) {
        nnm_plot__canvas_close(&c);
        return nnm_plot__fail(err, errlen, "panels: cannot lay out '%s': values out of range", png_path);
    }
    for (int i = 0; i < npanels; i++) draw_panel(c.cr, &L[i], &panels[i]);
    /* Over the axes of all panels, as the single plot's title sits over its axes. */
    double x0 = L[0].plot.x, x1 = L[npanels - 1].plot.x + L[npanels - 1].plot.w;
    nnm_plot__title(c.cr, tbuf, (x0 + x1) / 2, 18.0);
    int rc = nnm_plot__canvas_save(&c, png_path, err, errlen);
    nnm_plot__canvas_close(&c);
    return rc;
}
