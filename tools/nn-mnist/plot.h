/* nn-mnist's figures: bar charts (with error bars), annotated heatmaps, learning curves and panels of line
 * plots, drawn with cairo in the look of matplotlib/seaborn (DejaVu Sans, 100 dpi, white background, bold
 * title, despined axes).
 *
 * This module belongs to the tool, not to libnn: it needs cairo and nothing from <nn/nn.h>.
 *
 *     const char *labels[] = {"sgd/relu", "adam/relu"};
 *     double acc[] = {0.9712, 0.9842};
 *     char err[256];
 *     if (nnm_plot_bars("results.png", "Test accuracy", "test accuracy", labels, acc, 2, err, sizeof err))
 *         fprintf(stderr, "nn-mnist: %s\n", err);
 *
 * Every figure function returns 0 on success, or -1 with a one-line message in err (when err is not NULL
 * and errlen > 0). None prints, exits or asserts. The PNG is written to a temporary file beside png_path
 * and renamed over it, so a failed call never leaves a truncated figure behind; a path naming a folder or
 * a device is refused. The functions keep no state of their own between calls (cairo and fontconfig
 * keep font caches, which cairo_debug_reset_static_data() and FcFini() release).
 *
 * Text is cleaned before drawing: invalid UTF-8 bytes become '?', control characters other than '\n'
 * spaces, and labels over 40 bytes (titles over 120) are shortened with "...".
 *
 * Figure sizes are fixed, in pixels at 100 dpi, so that reports can lay them out:
 *   bars           NNM_PLOT_BARS_W x NNM_PLOT_BARS_H       (1000 x 600)
 *   heatmap        NNM_PLOT_HEATMAP_W x NNM_PLOT_HEATMAP_H (800 x 600), for fewer than 8 rows
 *   tall heatmap   NNM_PLOT_HEATMAP_W x NNM_PLOT_TALL_H    (800 x 700), 8 rows or more (confusion matrices)
 *   curves         NNM_PLOT_CURVES_W x NNM_PLOT_CURVES_H   (1000 x 600) while the legend fits right of the
 *                  axes; taller by the legend's height when it goes below them (about 20 series or more)
 *   panels         NNM_PLOT_PANELS_W(n) x NNM_PLOT_PANELS_H (1000, 1400 or 1800 x 600 for 1, 2 or 3 panels)
 */
#ifndef NNM_PLOT_H
#define NNM_PLOT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Figure sizes in pixels (see the overview). */
enum {
    NNM_PLOT_BARS_W = 1000,
    NNM_PLOT_BARS_H = 600,
    NNM_PLOT_HEATMAP_W = 800,
    NNM_PLOT_HEATMAP_H = 600,
    NNM_PLOT_TALL_H = 700,
    NNM_PLOT_CURVES_W = 1000,
    NNM_PLOT_CURVES_H = 600,
    NNM_PLOT_PANELS_H = 600
};

/** Width of nnm_plot_panels()'s canvas for n panels: 1000, 1400, 1800. */
#define NNM_PLOT_PANELS_W(n) (600 + 400 * (n))
/** At most this many panels side by side. */
#define NNM_PLOT_MAX_PANELS 3

/** Heatmaps with at least this many rows get the taller canvas, so that square-ish cells stay readable. */
#define NNM_PLOT_TALL_ROWS 8

/** Input limits: larger figures would be unreadable, so they are refused rather than drawn. */
#define NNM_PLOT_MAX_BARS       200
#define NNM_PLOT_MAX_CELLS_SIDE 100
#define NNM_PLOT_MAX_SERIES     100
#define NNM_PLOT_MAX_POINTS     100000

/** Colour maps for nnm_plot_heatmap() and nnm_colormap(). */
enum {
    NNM_CMAP_VIRIDIS = 0, /**< matplotlib's viridis, dark purple (low) to yellow (high): accuracies */
    NNM_CMAP_BLUES = 1 /**< ColorBrewer's 9-class Blues as in matplotlib, near white to dark blue: counts */
};

/**
 * Bar chart, one bar per label, each annotated with its value ("%.4f").
 *
 * The y axis is zoomed to the data: it runs from a 1-2-5 tick below the smallest value to one above the
 * largest, with room for the annotations, so that differences of 0.001 between accuracies stay visible.
 * Bars share a colour when their labels share a first part ("adam/relu", "adam-tanh" and "adam\nsigmoid"
 * are all "adam"), seaborn's "deep" palette in order of first appearance. Labels may hold '\n'. No two x
 * labels ever overlap, from 1 bar to NNM_PLOT_MAX_BARS: labels too wide for their slot are drawn on one
 * line (their lines joined by '/') and rotated by 30 degrees, or stood upright when slanted ones would
 * still collide; upright ones shrink down to 8 points, and beyond that only every k-th bar is labelled
 * (and ticked). Labels are cut with "..." where they would take more than 30% of the height. Annotations
 * too wide for a slot are stood upright and shrunk to the slot, and left out when that would take them
 * under 6.5 points (from about 70 bars; results.csv has the values). A NaN value (a missing run) draws
 * no bar and the annotation "n/a". When values straddle zero, bars grow from zero.
 *
 * @param[in] png_path  file to write (replaced if it exists)
 * @param[in] title     bold title above the plot; may be NULL or ""
 * @param[in] ylabel    y axis label; may be NULL or ""
 * @param[in] labels    n UTF-8 labels, none NULL
 * @param[in] values    n values, finite or NaN
 * @param[in] n         1 .. NNM_PLOT_MAX_BARS
 * @param[out] err      message on failure; may be NULL
 * @param[in] errlen    size of err
 * @return 0, or -1 on bad arguments, an infinite value, a cairo failure or a write failure
 */
int nnm_plot_bars(const char *png_path, const char *title, const char *ylabel, const char *const *labels,
                  const double *values, int n, char *err, size_t errlen);

/**
 * As nnm_plot_bars(), with an optional mark per bar for runs that have no value for a reason worth
 * showing (a diverged run): where marks[i] is non-NULL and values[i] is NaN, the slot holds a hatched,
 * unfilled red bar as high as the axes (no height that reads as a value), labelled with marks[i]
 * (such as "diverged") in its middle instead of "n/a". marks may be NULL; a mark on a finite value is
 * ignored.
 */
int nnm_plot_bars_marked(const char *png_path, const char *title, const char *ylabel, const char *const *labels,
                         const double *values, const char *const *marks, int n, char *err, size_t errlen);

/**
 * As nnm_plot_bars_marked(), with an error bar per bar: a vertical dark line with caps from
 * values[i] - errors[i] to values[i] + errors[i] (errors[i] is a half-width, such as a 95% confidence
 * interval's). The zoomed y range covers every bar's ends, and each annotation sits above its error bar
 * (below it for a bar hanging under zero). Caps and line narrow with crowded bars. With errors NULL the
 * figure is nnm_plot_bars_marked()'s, byte for byte.
 *
 * @param[in] errors  n half-widths, or NULL for none; an entry NaN or 0 draws no error bar, and an error on
 *                    a NaN value is ignored; negative or infinite entries are refused
 * @return 0, or -1 as nnm_plot_bars(), or on a negative or infinite error
 */
int nnm_plot_bars_err(const char *png_path, const char *title, const char *ylabel, const char *const *labels,
                      const double *values, const double *errors, const char *const *marks, int n, char *err,
                      size_t errlen);

/**
 * Annotated heatmap in the style of seaborn.heatmap(annot=True): one cell per value, row labels on the
 * left, column labels below, a colour bar with 1-2-5 ticks on the right.
 *
 * Colours span the data's finite minimum (colour map start) to maximum (colour map end). When they are
 * equal the range is widened around the value (5% of it, 0.5 at zero), so that every cell takes the
 * middle colour, but never past 0 or 1 where the data stay within them: a single accuracy keeps its
 * colour bar inside [0, 1], counts one that starts at 0 at the lowest; a single value on such a bound
 * (an accuracy of 1) widens away from it and takes that end's colour. Each cell is annotated with value_fmt, in dark text on light
 * cells and white text on dark ones (nnm_text_is_dark()), at a size that fits the cell. NaN cells (missing
 * runs) are grey with "n/a"; cells too small for 5-point text get no annotation. Column labels too wide
 * for their cells are slanted (45 degrees) or upright, and on crowded axes only every k-th label is
 * drawn. Slanted labels that would hang past the canvas's left edge move the grid right. The canvas is
 * taller from NNM_PLOT_TALL_ROWS rows on.
 *
 * @param[in] png_path    file to write
 * @param[in] title       bold title; may be NULL or ""
 * @param[in] row_axis    label of the row axis ("optimizer", "True label"); may be NULL or ""
 * @param[in] col_axis    label of the column axis ("activation", "Predicted label"); may be NULL or ""
 * @param[in] row_labels  rows labels, none NULL
 * @param[in] rows        1 .. NNM_PLOT_MAX_CELLS_SIDE
 * @param[in] col_labels  cols labels, none NULL
 * @param[in] cols        1 .. NNM_PLOT_MAX_CELLS_SIDE
 * @param[in] values      rows x cols values, row-major, finite or NaN
 * @param[in] value_fmt   printf format with exactly one double conversion (f, e, g, F, E, G) and optional
 *                        flags, width and precision, such as "%.4f" or "%.0f"; NULL means "%.4f"
 * @param[in] colormap    NNM_CMAP_VIRIDIS or NNM_CMAP_BLUES
 * @param[out] err        message on failure; may be NULL
 * @param[in] errlen      size of err
 * @return 0, or -1 on bad arguments (including an unsupported value_fmt), an infinite value, a cairo
 *         failure or a write failure
 */
int nnm_plot_heatmap(const char *png_path, const char *title, const char *row_axis, const char *col_axis,
                     const char *const *row_labels, int rows, const char *const *col_labels, int cols,
                     const double *values, const char *value_fmt, int colormap, char *err, size_t errlen);

/**
 * As nnm_plot_heatmap(), with an optional mark per cell (rows x cols, row-major, like values): a NaN
 * cell with a non-NULL mark is hatched in red over the grey of missing runs and annotated with its
 * mark (such as "diverged") in place of "n/a". marks may be NULL.
 */
int nnm_plot_heatmap_marked(const char *png_path, const char *title, const char *row_axis, const char *col_axis,
                            const char *const *row_labels, int rows, const char *const *col_labels, int cols,
                            const double *values, const char *const *marks, const char *value_fmt, int colormap,
                            char *err, size_t errlen);

/**
 * As nnm_plot_heatmap_marked(), with a text per cell that replaces its annotation, such as
 * "0.9781\n±0.0012" for a mean and its spread. Colours still come from values. A text may hold '\n':
 * its lines are centred on the cell. One font size serves every cell: the largest (up to 12 points) at
 * which the widest annotation fits 85% of a cell's width and the tallest 85% of its height; cells too
 * small for 5-point text get none. Texts are cleaned and shortened as labels are (40 bytes).
 *
 * @param[in] texts  rows x cols texts, row-major, or NULL; a NULL entry shows the value formatted with
 *                   value_fmt ("n/a" for NaN). A marked cell (NaN value with a mark) shows its mark.
 */
int nnm_plot_heatmap_text(const char *png_path, const char *title, const char *row_axis, const char *col_axis,
                          const char *const *row_labels, int rows, const char *const *col_labels, int cols,
                          const double *values, const char *const *marks, const char *const *texts,
                          const char *value_fmt, int colormap, char *err, size_t errlen);

/**
 * Line plot of learning curves: series i has lens[i] points, point k drawn at x = k + 1 (epochs count
 * from 1), with markers while a series has at most 30 points. Series i takes matplotlib's tab10 colour
 * i mod 10 and style i / 10: the first ten are solid with dots, as the design; each further ten has its
 * own dash pattern and marker shape (dashed with squares, dotted with triangles, ...), so that no two of
 * up to NNM_PLOT_MAX_SERIES series share a colour and a dash, or a colour and a marker.
 *
 * The legend sits outside the axes: on the right in one column while that fits the axes' height and
 * takes at most 30% of the width (the design); otherwise below the x label, in as many columns as the
 * width holds, and the canvas grows by its height, so the axes keep the whole width. One panel rather than
 * small multiples per optimizer: the figure gets only series names, one optimizer may have all the runs,
 * and one y scale keeps every run comparable with every other.
 *
 * Both axes span the data with 5% margins, as matplotlib's; x ticks are whole epochs (each one up to
 * ten). NaN points leave a gap.
 *
 * @param[in] png_path      file to write
 * @param[in] title         bold title; may be NULL or ""
 * @param[in] xlabel        x axis label ("epoch"); may be NULL or ""
 * @param[in] ylabel        y axis label; may be NULL or ""
 * @param[in] series_names  nseries legend entries, none NULL
 * @param[in] ys            nseries arrays; ys[i] may be NULL only when lens[i] is 0
 * @param[in] lens          nseries lengths, 0 .. NNM_PLOT_MAX_POINTS
 * @param[in] nseries       1 .. NNM_PLOT_MAX_SERIES
 * @param[out] err          message on failure; may be NULL
 * @param[in] errlen        size of err
 * @return 0, or -1 on bad arguments, an infinite value, a cairo failure or a write failure
 */
int nnm_plot_curves(const char *png_path, const char *title, const char *xlabel, const char *ylabel,
                    const char *const *series_names, const double *const *ys, const int *lens, int nseries,
                    char *err, size_t errlen);

/** One line of a panel (nnm_plot_panels()), with an optional band such as mean -/+ sd over seeds. */
typedef struct nnm_plot_series {
    const char *name;      /**< legend entry; NULL or "": not in the legend */
    const double *x;       /**< n x values, or NULL for 1 .. n; NaN leaves a gap on a linear axis */
    const double *y;       /**< n y values; NaN leaves a gap; may be NULL only when n is 0 */
    const double *lo, *hi; /**< the band's lower and upper edges (n each), both or neither; filled at alpha
                                0.2 in the series' colour, skipping points where either is NaN */
    int n;                 /**< 0 .. NNM_PLOT_MAX_POINTS; 0 draws nothing but the legend entry */
    int color;             /**< matplotlib tab10 index (taken mod 10) */
    int dashed;            /**< 0 solid, otherwise dashed ("--") */
} nnm_plot_series;

/** One panel (axes) of nnm_plot_panels(). */
typedef struct nnm_plot_panel {
    const char *title, *xlabel, *ylabel; /**< each may be NULL or "" */
    const nnm_plot_series *series;       /**< nseries lines, drawn in order (bands under all lines) */
    int nseries;                         /**< 0 .. NNM_PLOT_MAX_SERIES */
    int log_x;     /**< 0 linear; 10: log10 axis, ticks at decades (0.0001 ... 1000, beyond that 1e-4,
                        1e4), minor ticks between; 2: log2 axis, ticks at powers of two (16, 32, ... 512) */
    int integer_x; /**< on a linear axis, ticks at whole numbers only (epochs) */
} nnm_plot_panel;

/**
 * Line plots side by side, in the manner of matplotlib's plt.subplots(1, n) with a bold suptitle: each
 * panel has its title, axes, ticks, horizontal grid and legend; lines take their series' tab10 colour,
 * solid or dashed, with dot markers while a series has at most 30 points; bands are drawn under every line.
 *
 * Both axes span the data (bands included) with 5% margins, in log units on a log axis. A panel's legend
 * lists its named series in order. It goes inside the axes where matplotlib's legend(loc="best") would put
 * it, the first of its ten places (upper right, upper left, lower left, ...) that no line, marker or band
 * touches; when every place is taken, or the legend is too big for the axes, it goes right of them, at
 * the top, and the axes narrow (two columns, then "(N more)", when the entries outgrow the height).
 * Tick labels never overlap: crowded ones are thinned (every k-th decade on a log axis).
 *
 * @param[in] png_path  file to write
 * @param[in] title     bold title over all panels; may be NULL or ""
 * @param[in] panels    npanels panels, left to right
 * @param[in] npanels   1 .. NNM_PLOT_MAX_PANELS
 * @param[out] err      message on failure; may be NULL
 * @param[in] errlen    size of err
 * @return 0, or -1 on bad arguments (NULL arrays, counts out of range, an unknown log_x, a band with one
 *         edge), an infinite value, an x <= 0 or NaN on a log axis, a cairo failure or a write failure
 */
int nnm_plot_panels(const char *png_path, const char *title, const nnm_plot_panel *panels, int npanels,
                    char *err, size_t errlen);

/**
 * Tick positions covering [lo, hi] with a step of 1, 2 or 5 times a power of ten: the first tick is at or
 * below lo, the last at or above hi, and the step is the smallest that needs at most max_ticks ticks.
 * lo and hi may come in either order. When lo == hi the range is widened to lo -/+ 5% of |lo| (-/+ 0.5
 * at zero), so a constant series still gets an axis. Ticks are multiples of the step, and values within
 * a millionth of a step of zero are exactly 0 (no "-0.00").
 *
 * @param[in] lo, hi      the range to cover, finite
 * @param[in] max_ticks   at least 3 (two ticks cannot cover a range around zero)
 * @param[out] ticks      the ticks, ascending
 * @param[in] cap         capacity of ticks; at least max_ticks is always enough
 * @return the number of ticks (2 .. max_ticks), or -1 on non-finite bounds, a range too wide for a double,
 *         max_ticks < 3, too small a cap or a NULL ticks
 */
int nnm_nice_ticks(double lo, double hi, int max_ticks, double *ticks, int cap);

/**
 * Colour of t in a colour map, by linear interpolation between control points: for viridis, 17 points
 * taken every 16th entry of the published 256-entry table (van der Walt and Smith, 2015, CC0), whose ends
 * are #440154 and #fde725; for Blues, ColorBrewer's nine Blues from #f7fbff to #08306b, evenly spaced as
 * matplotlib does. t is clamped to [0, 1], NaN counts as 0; an unknown cmap gives viridis.
 *
 * @param[in] cmap  NNM_CMAP_VIRIDIS or NNM_CMAP_BLUES
 * @param[in] t     position in the map
 * @param[out] rgb  red, green, blue in [0, 1] (sRGB)
 */
void nnm_colormap(int cmap, double t, double rgb[3]);

/**
 * Whether text drawn on a background of colour rgb should be dark (otherwise white).
 *
 * The rule is the relative luminance of WCAG 2 (sRGB channels linearised, weights 0.2126, 0.7152,
 * 0.0722): dark text when it exceeds 0.408. That is seaborn's heatmap threshold, which the design
 * examples follow; it is higher than the 0.179 where black and white contrast equally, because white
 * text on mid greens and blues reads better than the contrast ratio alone suggests.
 *
 * @param[in] rgb  background colour, channels in [0, 1]
 * @return 1 for dark text, 0 for white
 */
int nnm_text_is_dark(const double rgb[3]);

#ifdef __cplusplus
}
#endif

#endif /* NNM_PLOT_H */
