/* Helpers shared by the plot_*.c files: the canvas and its PNG output, text, axes, palettes and the
 * layouts of each figure (exposed so that tests can probe pixels where the figure put them). */
#ifndef NNM_PLOT_INTERNAL_H
#define NNM_PLOT_INTERNAL_H

#include <stddef.h>

#include <cairo.h>

#include "plot.h"

#if defined(__GNUC__) || defined(__clang__)
#define NNM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NNM_PRINTF(a, b)
#endif

/* Font sizes in pixels from points at 100 dpi, the sizes matplotlib's defaults give in the design. */
#define NNM_PT(pt)   ((pt)*100.0 / 72.0)
#define NNM_TITLE_PX NNM_PT(13.0)
#define NNM_LABEL_PX NNM_PT(11.0)
#define NNM_TICK_PX  NNM_PT(10.0)
#define NNM_ANNOT_PX NNM_PT(9.0)
#define NNM_TICK_LEN NNM_PT(3.5)
#define NNM_LINE_W   1.25

/* Labels longer than this many bytes are shortened with "...", so one long name cannot squeeze a plot;
 * titles get more room. */
#define NNM_LABEL_MAX 40
#define NNM_TITLE_MAX 120

typedef struct nnm_plot__rect {
    double x, y, w, h;
} nnm_plot__rect;

typedef struct nnm_plot__canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    int width, height;
} nnm_plot__canvas;

/* Format a message into err (when there is room) and return -1, so failures read `return fail(...)`. */
int nnm_plot__fail(char *err, size_t errlen, const char *fmt, ...) NNM_PRINTF(3, 4);

/* A white canvas of w x h pixels with DejaVu Sans selected; on failure nothing is left to close. */
int nnm_plot__canvas_open(nnm_plot__canvas *c, int w, int h, char *err, size_t errlen);
/* Check that drawing succeeded, then write the PNG through a temporary file renamed over path. */
int nnm_plot__canvas_save(nnm_plot__canvas *c, const char *path, char *err, size_t errlen);
void nnm_plot__canvas_close(nnm_plot__canvas *c);

/* Colours. */
extern const double nnm_plot__text_rgb[3];          /* seaborn's ".15", for all dark text and spines */
extern const double nnm_plot__grid_rgb[3];          /* light grey grid lines */
extern const double nnm_plot__nan_rgb[3];           /* cells of missing runs */
void nnm_plot__palette_deep(int i, double rgb[3]);  /* seaborn "deep", cycling */
void nnm_plot__palette_tab10(int i, double rgb[3]); /* matplotlib "tab10", cycling */
void nnm_plot__set_rgb(cairo_t *cr, const double rgb[3]);

/* Text: multi-line ('\n'), measured with the current font. halign 0 = left .. 1 = right, valign 0 = top
 * .. 1 = bottom of the text box; the box is anchored at (x, y) and rotated about it by angle degrees
 * counter-clockwise, as matplotlib's rotation_mode="anchor". */
void nnm_plot__font(cairo_t *cr, double px, int bold);
double nnm_plot__text_width(cairo_t *cr, const char *text);
double nnm_plot__text_height(cairo_t *cr, const char *text);
void nnm_plot__text(cairo_t *cr, const char *text, double x, double y, double halign, double valign,
                    double angle);
/* Copy text into out (cap bytes) as valid UTF-8 without control characters other than '\n', cut at
 * max_bytes on a character boundary with "..." appended. NULL gives "". */
void nnm_plot__shorten(const char *text, size_t max_bytes, char *out, size_t cap);
/* The corners of the box nnm_plot__text() would fill with these arguments, in canvas pixels, clockwise
 * from the text's top left: what tests compare to find labels that overlap or leave the canvas. */
void nnm_plot__text_quad(cairo_t *cr, const char *text, double x, double y, double halign, double valign,
                         double angle, double quad[4][2]);
/* Size of the box text takes once rotated by angle degrees. */
void nnm_plot__rotated_size(cairo_t *cr, const char *text, double angle, double *w, double *h);

/* Ticks: decimals that tell steps of this size apart, and a tick label with them. */
int nnm_plot__tick_decimals(const double *ticks, int n);
void nnm_plot__format_tick(char *out, size_t cap, double v, int decimals);
/* The width of the widest tick label. */
double nnm_plot__ticks_width(cairo_t *cr, const double *ticks, int n, int decimals);

/* Axes pieces drawn in the seaborn "ticks"/"whitegrid" manner: left and bottom spines only. */
void nnm_plot__title(cairo_t *cr, const char *title, double cx, double y);
void nnm_plot__hgrid(cairo_t *cr, nnm_plot__rect plot, double lo, double hi, const double *ticks, int n);
void nnm_plot__left_axis(cairo_t *cr, nnm_plot__rect plot, double lo, double hi, const double *ticks, int n,
                         const char *label, double label_x);
void nnm_plot__bottom_spine(cairo_t *cr, nnm_plot__rect plot);
double nnm_plot__map(double v, double lo, double hi, double p0, double p1);

/* Bars: the plot area and y range nnm_plot_bars() uses for these inputs, and how the x labels and the
 * value annotations are set so that none overlaps another at any number of bars. */
#define NNM_BARS_MAX_TICKS    12
#define NNM_BARS_LABEL_MIN_PX NNM_PT(8.0) /* x labels shrink to this before they are thinned */
#define NNM_BARS_ANNOT_MIN_PX NNM_PT(6.5) /* narrower bars than this size allows get no annotations */
typedef struct nnm_plot__bars_layout {
    nnm_plot__rect plot;
    double lo, hi;                    /* y range of the axes */
    double ticks[NNM_BARS_MAX_TICKS]; /* y ticks */
    int nticks;
    double label_angle; /* x labels: 0, 30 or 90 degrees */
    double label_px;    /* x label font size */
    int label_step;     /* bars 0, step, 2 step, ... are labelled and ticked */
    int label_bytes;    /* labels are shortened to this many bytes, so the bottom margin stays bounded */
    int label_one_line; /* rotated labels are drawn on one line, their lines joined by '/' */
    double annot_angle; /* value annotations: 0 or 90 degrees */
    double annot_px;    /* annotation font size; 0 when bars are too narrow for readable values */
    double ylabel_x;    /* left edge of the rotated y label */
} nnm_plot__bars_layout;
int nnm_plot__bars_layout_compute(cairo_t *cr, const char *title, const char *ylabel,
                                  const char *const *labels, const double *values, int n,
                                  nnm_plot__bars_layout *out);
/* The same with error bars (errors may be NULL): the y range then covers every value -/+ its error. */
int nnm_plot__bars_err_layout_compute(cairo_t *cr, const char *title, const char *ylabel,
                                      const char *const *labels, const double *values, const double *errors,
                                      int n, nnm_plot__bars_layout *out);
/* Whether bar i gets an error bar: a value, and an error above 0 (NaN and 0 draw none). */
int nnm_plot__bars_has_error(const double *values, const double *errors, int i);
/* The text drawn for a label under layout L (shortened, and on one line when rotated). */
void nnm_plot__bars_label_text(const nnm_plot__bars_layout *L, const char *label, char *out, size_t cap);
/* Select the label font and put into quad the box of bar i's label as drawn (nnm_plot__text_quad());
 * returns 1, or 0 when the label is thinned out and not drawn (quad is then untouched). */
int nnm_plot__bars_label_quad(cairo_t *cr, const nnm_plot__bars_layout *L, const char *label, int i, int n,
                              double quad[4][2]);

/* Heatmap: the canvas size, the cell grid, the colour bar and the colour range. */
#define NNM_CBAR_MAX_TICKS 8

/* The largest max_ticks nnm_plot__inner_ticks takes: ticks holds that many. */
#define NNM_PLOT_MAX_TICKS 16

/* Ticks of a 1-2-5 covering of [a, b] (nnm_nice_ticks, at most max_ticks <= NNM_PLOT_MAX_TICKS) that
 * fall inside the view [lo, hi]; their number, or -1 when they cannot be made. */
int nnm_plot__inner_ticks(double a, double b, int max_ticks, double lo, double hi, double *ticks);
typedef struct nnm_plot__heatmap_layout {
    int width, height;
    nnm_plot__rect grid;
    nnm_plot__rect cbar;
    double vmin, vmax;
    double ticks[NNM_CBAR_MAX_TICKS];
    int nticks;
    double col_angle; /* column labels: 0, 45 or 90 degrees */
    int row_step;     /* every row_step-th row label is drawn, so that labels never overlap */
    int col_step;
    double annot_px; /* annotation font size; 0 when cells are too small for any */
} nnm_plot__heatmap_layout;
int nnm_plot__heatmap_layout_compute(cairo_t *cr, const char *title, const char *row_axis,
                                     const char *col_axis, const char *const *row_labels, int rows,
                                     const char *const *col_labels, int cols, const double *values,
                                     const char *value_fmt, nnm_plot__heatmap_layout *out);
/* The same with per-cell texts in place of formatted values (texts may be NULL, as may any entry). */
int nnm_plot__heatmap_text_layout_compute(cairo_t *cr, const char *title, const char *row_axis,
                                          const char *col_axis, const char *const *row_labels, int rows,
                                          const char *const *col_labels, int cols, const double *values,
                                          const char *const *texts, const char *value_fmt,
                                          nnm_plot__heatmap_layout *out);
/* Select the label font and put into quad the box of row (axis 0) or column (axis 1) label i of n as
 * drawn; returns 1, or 0 when the label is thinned out and not drawn. */
int nnm_plot__heatmap_label_quad(cairo_t *cr, const nnm_plot__heatmap_layout *L, int axis, const char *label,
                                 int i, int n, double quad[4][2]);
/* Format v with a format nnm_plot__check_value_fmt() accepted. */
int nnm_plot__check_value_fmt(const char *fmt);
void nnm_plot__format_value(char *out, size_t cap, const char *fmt, double v);

/* Line plots (curves and panels) share their lines, markers, legends and x axis. */
#define NNM_LINES_PX        NNM_PT(1.5) /* matplotlib's default line width */
#define NNM_MARKER_R        2.5
#define NNM_MARKERS_UP_TO   30   /* more points than this and markers would hide the line */
#define NNM_LEGEND_HANDLE_W 30.0 /* legend line sample */
#define NNM_LEGEND_PAD      12.0
/* Dash patterns: 0 solid, 1 matplotlib's "--", 2 ":", 3 "-.", then longer and looser ones. */
#define NNM_LINE_DASHES 10
/* Colour (tab10 index), width, joins, caps and dash pattern for a line. */
void nnm_plot__line_style(cairo_t *cr, int colour, int dash);
/* A filled marker in the current colour: 0 dot, then matplotlib's "s ^ D v P X p * h". */
void nnm_plot__marker(cairo_t *cr, int shape, double x, double y);
/* A legend's rounded white box with a light grey edge; returns the box as drawn (on pixel centres). */
nnm_plot__rect nnm_plot__legend_frame(cairo_t *cr, nnm_plot__rect box);
/* One legend entry: a line sample from (x, y), with a marker when marker >= 0, and the name after it in
 * the current font. */
void nnm_plot__legend_entry(cairo_t *cr, double x, double y, int colour, int dash, int marker,
                            const char *name);
/* The bottom spine with ticks at pixel columns xs and labels under them. */
void nnm_plot__bottom_axis(cairo_t *cr, nnm_plot__rect plot, const double *xs, const char *const *labels,
                           int n);

/* Curves: the canvas height, the plot area, the x and y ranges and the legend box. The legend sits right
 * of the axes while it fits there in one column of at most NNM_CURVES_LEGEND_SHARE of the width; beyond
 * that it goes below the x label in columns, and the canvas grows by its height (as matplotlib's
 * bbox_inches="tight" would), so the axes never give up their width to it. */
#define NNM_CURVES_MAX_TICKS    12
#define NNM_CURVES_LEGEND_SHARE 0.3
typedef struct nnm_plot__curves_layout {
    int height; /* canvas height: NNM_PLOT_CURVES_H, more with the legend below */
    nnm_plot__rect plot;
    nnm_plot__rect legend;
    double xlo, xhi, ylo, yhi;
    double xticks[NNM_CURVES_MAX_TICKS], yticks[NNM_CURVES_MAX_TICKS];
    int nxticks, nyticks;
    int legend_below;
    int legend_rows; /* entries per legend column */
    int legend_cols;
    double legend_col_w;
    double legend_entry_h;
    double xlabel_y; /* bottom of the x label */
} nnm_plot__curves_layout;
int nnm_plot__curves_layout_compute(cairo_t *cr, const char *title, const char *xlabel, const char *ylabel,
                                    const char *const *series_names, const double *const *ys, const int *lens,
                                    int nseries, nnm_plot__curves_layout *out);

/* How series s is drawn: a tab10 colour (s mod 10), and a style (s / 10: 0 is the design's solid line
 * with dot markers) that sets both the dash pattern and the marker shape, so that series stay apart by
 * colour and dash when there are too many points for markers. NNM_CURVES_STYLES x 10 pairs are distinct,
 * which covers NNM_PLOT_MAX_SERIES. */
#define NNM_CURVES_STYLES NNM_LINE_DASHES
typedef struct nnm_plot__series_look {
    int colour; /* index into tab10 */
    int dash;   /* 0 solid .. NNM_CURVES_STYLES - 1 */
    int marker; /* 0 dot .. NNM_CURVES_STYLES - 1 */
} nnm_plot__series_look;
nnm_plot__series_look nnm_plot__series_look_of(int s);

/* Panels: each panel's share of the canvas, its axes, ranges, ticks and legend. x ranges are in axis
 * units (log10 x or log2 x on log axes); ticks are in data units. */
#define NNM_PANEL_MAX_TICKS  16
#define NNM_PANEL_MAX_MINOR  80
#define NNM_PANEL_LEGEND_H   20.0 /* legend row height */
#define NNM_PANEL_LEGEND_MAX 2    /* columns of an outside legend */
typedef struct nnm_plot__panel_layout {
    nnm_plot__rect area; /* the panel's share of the canvas */
    nnm_plot__rect plot;
    int log_x;
    double xlo, xhi, ylo, yhi;
    double xticks[NNM_PANEL_MAX_TICKS], yticks[NNM_PANEL_MAX_TICKS];
    char xlabels[NNM_PANEL_MAX_TICKS][16]; /* the x tick labels as drawn */
    int nxticks, nyticks;
    double xminor[NNM_PANEL_MAX_MINOR]; /* unlabelled ticks between decades */
    int nxminor;
    /* Legend: entries counts the named series; shown those drawn (one fewer than the slots when a last
     * "(N more)" line stands for the rest). place is matplotlib's loc code inside the axes (1 upper
     * right, 2 upper left, 3 lower left, 4 lower right, 5 right, 6 center left, 8 lower center,
     * 9 upper center, 10 center), 0 right of the axes, -1 no legend. */
    nnm_plot__rect legend;
    int place;
    int entries, shown;
    int legend_bytes; /* names are shortened to this many bytes, so that the axes keep their width */
    int legend_rows, legend_cols;
    double legend_col_w;
    double title_y;  /* top of the panel's title */
    double xlabel_y; /* bottom of the x label */
} nnm_plot__panel_layout;
/* The layout of each panel into out[npanels]; the panels must have passed nnm_plot_panels()' checks. */
int nnm_plot__panels_layout_compute(cairo_t *cr, const char *title, const nnm_plot_panel *panels, int npanels,
                                    nnm_plot__panel_layout *out);
/* Canvas coordinates of a data point in a panel. */
double nnm_plot__panel_px(const nnm_plot__panel_layout *L, double x);
double nnm_plot__panel_py(const nnm_plot__panel_layout *L, double y);

#endif /* NNM_PLOT_INTERNAL_H */
