/* Numbers as text: axis ticks in 1-2-5 steps, their labels, and cell annotations. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

/* Multiples of a power of ten computed as k * m / 10^-e when e < 0: dividing by an exact power of ten
 * rounds once, so 93 * 1 / 100 is the double nearest 0.93 where 93 * 0.01 is not. */
static double tick_value(double k, double m, int e)
{
    return e < 0 ? k * m / pow(10.0, -e) : k * m * pow(10.0, e);
}

int nnm_nice_ticks(double lo, double hi, int max_ticks, double *ticks, int cap)
{
    /* Two ticks can never cover a range with zero strictly inside (-step, 0 and step are needed). */
    if (!ticks || max_ticks < 3 || cap < 2 || !isfinite(lo) || !isfinite(hi)) return -1;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (lo == hi) {
        double d = fabs(lo) * 0.05;
        lo -= d;
        hi += d;
        if (!(hi > lo)) { /* zero, or so small that 5% of it vanishes */
            lo -= 0.5;
            hi += 0.5;
        }
    }
    double range = hi - lo;
    if (!isfinite(range)) return -1;
    static const double mult[] = {1.0, 2.0, 5.0};
    int e0 = (int)floor(log10(range / (max_ticks - 1)));
    /* Usually within two decades of e0; a narrow range far from zero ([999.9995, 1000.0005] in 3 ticks)
     * may need a step near its magnitude, which a power of ten at or above it always provides. */
    for (int e = e0 - 1; e <= 308; e++) {
        for (int j = 0; j < 3; j++) {
            double step = tick_value(1.0, mult[j], e);
            if (!(step > 0.0) || !isfinite(step)) continue;
            /* The tolerance keeps 0.93 / 0.01 = 93.0000001 from adding a tick below 0.93. */
            double first = floor(lo / step + 1e-9);
            double last = ceil(hi / step - 1e-9);
            double count = last - first + 1.0;
            if (count > max_ticks) continue;
            if (count > cap) return -1;
            for (int i = 0; i < (int)count; i++) {
                double v = tick_value(first + i, mult[j], e);
                ticks[i] = fabs(v) < step * 1e-6 ? 0.0 : v;
            }
            return (int)count;
        }
    }
    return -1;
}

int nnm_plot__tick_decimals(const double *ticks, int n)
{
    double big = 0.0;
    for (int i = 0; i < n; i++) big = fmax(big, fabs(ticks[i]));
    if (big >= 1e7) return -1;
    if (n < 2) return big >= 100.0 || big == 0.0 ? 0 : 2;
    double step = fabs(ticks[1] - ticks[0]);
    if (!(step > 0.0)) return 2;
    /* The slack absorbs 0.94 - 0.93 = 0.00999..., which must still mean two decimals. */
    int d = (int)ceil(-log10(step) - 1e-6);
    if (d < 0) d = 0;
    return d > 6 ? -1 : d;
}

void nnm_plot__format_tick(char *out, size_t cap, double v, int decimals)
{
    if (v == 0.0) v = 0.0; /* drops the sign of -0.0 */
    if (decimals < 0)
        snprintf(out, cap, "%.3g", v);
    else
        snprintf(out, cap, "%.*f", decimals, v);
}

double nnm_plot__ticks_width(cairo_t *cr, const double *ticks, int n, int decimals)
{
    double w = 0.0;
    for (int i = 0; i < n; i++) {
        char buf[64];
        nnm_plot__format_tick(buf, sizeof buf, ticks[i], decimals);
        w = fmax(w, nnm_plot__text_width(cr, buf));
    }
    return w;
}

int nnm_plot__check_value_fmt(const char *fmt)
{
    int conversions = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        p++;
        while (*p && strchr("-+ #0", *p)) p++;
        /* Two digits at most: a wider field could only pad the cell with spaces. */
        for (int d = 0; isdigit((unsigned char)*p); p++)
            if (++d > 2) return -1;
        if (*p == '.') {
            p++;
            for (int d = 0; isdigit((unsigned char)*p); p++)
                if (++d > 2) return -1;
        }
        if (!*p || !strchr("fFeEgG", *p)) return -1;
        conversions++;
    }
    return conversions == 1 ? 0 : -1;
}

void nnm_plot__format_value(char *out, size_t cap, const char *fmt, double v)
{
    /* fmt passed nnm_plot__check_value_fmt(): exactly one double conversion, so this call is safe. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    snprintf(out, cap, fmt, v);
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

int nnm_plot__inner_ticks(double a, double b, int max_ticks, double lo, double hi, double *ticks)
{
    double all[NNM_PLOT_MAX_TICKS];
    if (max_ticks > NNM_PLOT_MAX_TICKS) return -1;
    int n = nnm_nice_ticks(a, b, max_ticks, all, NNM_PLOT_MAX_TICKS);
    if (n < 0) return -1;
    int k = 0;
    double eps = (hi - lo) * 1e-9;
    for (int i = 0; i < n; i++)
        if (all[i] >= lo - eps && all[i] <= hi + eps) ticks[k++] = all[i];
    return k;
}
