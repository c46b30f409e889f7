/*
 * The study's statistics (stats.h).
 *
 * Why hand-written special functions: nn-mnist is MIT licensed, and the libraries that have them
 * (GSL, R's standalone Rmath) are GPL, which a permissively licensed program cannot link. Only
 * lgamma, log1p and erfc come from libm. The regularized incomplete beta function is evaluated
 * from its continued fraction (DLMF 8.17.22) by the modified Lentz method (Thompson & Barnett,
 * J. Comput. Phys. 64, 1986), and binomial probabilities by Loader's saddle-point form ("Fast and
 * Accurate Computation of Binomial Probabilities", 2000), both written here from the mathematics.
 * tests/test_stats.c checks them against scipy.
 */
#include "stats.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#define LN_SQRT_2PI 0.91893853320467274178 /* log(sqrt(2 pi)) */

/* ---- log-gamma helpers ---- */

/*
 * corr(x) = lgamma(x) - [(x - 1/2) log x - x + log sqrt(2 pi)], Stirling's remainder. From its
 * asymptotic series for x >= 10 (the next term is below 1e-15 there); directly below, where the
 * terms are small enough that their difference loses nothing that matters.
 */
static double lgamma_corr(double x)
{
    if (x >= 10.0) {
        double r = 1.0 / x, r2 = r * r;
        return r * (1.0 / 12 -
                    r2 * (1.0 / 360 -
                          r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 * (1.0 / 1188 - r2 * 691.0 / 360360)))));
    }
    return lgamma(x) - ((x - 0.5) * log(x) - x + LN_SQRT_2PI);
}

/*
 * log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b). When one argument is large, lgamma(big) and
 * lgamma(big + small) are huge and nearly equal (t with df = 1e6: both about 6e6), so their
 * difference is taken from Stirling's form instead:
 * lgamma(a) - lgamma(a + b) = b - (a - 1/2) log1p(b / a) - b log(a + b) + corr(a) - corr(a + b).
 */
static double log_beta(double a, double b)
{
    double big = a > b ? a : b, small = a > b ? b : a;
    if (big < 10.0) return lgamma(a) + lgamma(b) - lgamma(a + b);
    return lgamma(small) + small - (big - 0.5) * log1p(small / big) - small * log(big + small) +
           lgamma_corr(big) - lgamma_corr(big + small);
}

/* ---- regularized incomplete beta ---- */

/*
 * K = 1 + d1 / (1 + d2 / (1 + d3 / ...)), the continued fraction in
 * I_x(a, b) = x^a (1 - x)^b / (a B(a, b) K), with (DLMF 8.17.23)
 *   d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
 *   d_{2m}   =  m (b - m) x / ((a + 2m - 1)(a + 2m)).
 *
 * When a is large and x near 1 (Student's t with many degrees of freedom), d_{2m+1} is close to -1
 * and K is tiny: 1 + d_{2m+1} computed as written keeps only a few digits (1e-8 relative at df = 1e8).
 * So the fraction is contracted to its even part, in which each 1 + d_{2m+1} appears whole:
 *   K = e_0 - d1 d2 / (e_1 + d2 - d3 d4 / (e_2 + d4 - d5 d6 / (...))),  e_m = 1 + d_{2m+1},
 * (from 1 + d / (1 + X) = 1 + d - d X / (1 + X), applied twice per level), and for b < 1 e_m is
 * taken from its expanded numerator, a sum of positive terms in y = 1 - x:
 *   e_m = [a (2m + 1 - b) + m (3m + 2 - b) + (a + m)(a + b + m) y] / ((a + 2m)(a + 2m + 1)).
 * Evaluated forwards by the modified Lentz method for B_0 + A_1 / (B_1 + A_2 / (B_2 + ...)):
 * f_j = f_{j-1} C_j D_j with C_j = B_j + A_j / C_{j-1}, D_j = 1 / (B_j + A_j D_{j-1}), a zero guarded
 * by a tiny number. It converges in O(sqrt(max(a, b))) levels for x < (a + 1) / (a + b + 2).
 */
static double cf_odd(double a, double b, double x, double m) /* d_{2m+1} */
{
    return -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
}

static double cf_even(double a, double b, double x, double m) /* d_{2m} */
{
    return m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
}

static double cf_odd_plus_one(double a, double b, double x, double y, double m) /* e_m */
{
    if (b >= 1.0) return 1.0 + cf_odd(a, b, x, m);
    return (a * (2.0 * m + 1.0 - b) + m * (3.0 * m + 2.0 - b) + (a + m) * (a + b + m) * y) /
           ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
}

static double beta_fraction(double a, double b, double x, double y)
{
    const double tiny = 1e-300, eps = 1e-16;
    double f = cf_odd_plus_one(a, b, x, y, 0.0);
    if (fabs(f) < tiny) f = tiny;
    double c = f, d = 0.0;
    for (int level = 1; level <= 100000; level++) {
        double m = level;
        double A = -cf_odd(a, b, x, m - 1.0) * cf_even(a, b, x, m);
        double B = cf_odd_plus_one(a, b, x, y, m) + cf_even(a, b, x, m);
        d = B + A * d;
        if (fabs(d) < tiny) d = tiny;
        c = B + A / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double delta = c * d;
        f *= delta;
        if (fabs(delta - 1.0) < eps) break;
    }
    return f;
}

/*
 * I_x(a, b) for a, b > 0, given x and y = 1 - x and their logarithms, each computed by the caller
 * without cancellation (x near 1 comes from a small y, and a huge t gives log x without x). Where
 * the fraction would converge slowly it is applied to the complement: I_x(a, b) = 1 - I_y(b, a).
 */
static double inc_beta(double a, double b, double x, double y, double log_x, double log_y)
{
    if (log_x == -INFINITY) return 0.0; /* x may underflow to 0 while log_x is still finite */
    if (log_y == -INFINITY) return 1.0;
    double front = exp(a * log_x + b * log_y - log_beta(a, b));
    if (x < (a + 1.0) / (a + b + 2.0)) return front / (a * beta_fraction(a, b, x, y));
    return 1.0 - front / (b * beta_fraction(b, a, y, x));
}

/* ---- Student's t ---- */

/* x = df / (df + s^2), y = 1 - x and their logarithms for s > 0, each without cancellation; through
 * r = df / s^2 for a large s, whose square may overflow. */
static void t_beta_args(double s, double df, double *x, double *y, double *log_x, double *log_y)
{
    if (s < sqrt(df)) {
        double u = s * s / df;
        *x = 1.0 / (1.0 + u);
        *y = u / (1.0 + u);
        *log_x = -log1p(u);
        *log_y = log(u) - log1p(u);
    } else {
        double log_r = log(df) - 2.0 * log(s), r = exp(log_r);
        *x = r / (1.0 + r);
        *y = 1.0 / (1.0 + r);
        *log_x = log_r - log1p(r);
        *log_y = -log1p(r);
    }
}

/* P(T > s) for s >= 0: I_x(df/2, 1/2) / 2. */
static double t_upper(double s, double df)
{
    if (isinf(df)) return 0.5 * erfc(s / sqrt(2.0));
    if (isinf(s)) return 0.0;
    if (s == 0.0) return 0.5;
    double x, y, log_x, log_y;
    t_beta_args(s, df, &x, &y, &log_x, &log_y);
    return 0.5 * inc_beta(0.5 * df, 0.5, x, y, log_x, log_y);
}

/* P(0 < T < s) for s >= 0: I_y(1/2, df/2) / 2, the same as 1/2 - P(T > s) but keeping its digits
 * when it is small, for quantiles near the median. */
static double t_centre(double s, double df)
{
    if (isinf(df)) return 0.5 * erf(s / sqrt(2.0));
    if (isinf(s)) return 0.5;
    if (s == 0.0) return 0.0;
    double x, y, log_x, log_y;
    t_beta_args(s, df, &x, &y, &log_x, &log_y);
    return 0.5 * inc_beta(0.5, 0.5 * df, y, x, log_y, log_x);
}

/* The t density, for Newton's method in the quantile. */
static double t_density(double s, double df)
{
    if (isinf(df)) return exp(-0.5 * s * s - LN_SQRT_2PI);
    double log_q = s < sqrt(df) ? log1p(s * s / df) : 2.0 * log(s) - log(df) + log1p(df / s / s);
    return exp(-log_beta(0.5 * df, 0.5) - 0.5 * log(df) - 0.5 * (df + 1.0) * log_q);
}

static bool bad_df(double df) { return isnan(df) || df <= 0.0; }

double nnm_t_cdf(double t, double df)
{
    if (isnan(t) || bad_df(df)) return NAN;
    return t < 0 ? t_upper(-t, df) : 1.0 - t_upper(t, df);
}

/* How far s is below the point where P(T > s) = q (> 0 below it, < 0 above): P(T > s) - q in the
 * tail, and near the median (1/2 - q) - P(0 < T < s) instead, as 1/2 - q is exact there and
 * P(T > s), close to 1/2, has lost the digits that matter. */
static double quantile_gap(double s, double df, double q)
{
    return q > 0.25 ? (0.5 - q) - t_centre(s, df) : t_upper(s, df) - q;
}

double nnm_t_quantile(double p, double df)
{
    if (isnan(p) || bad_df(df) || p < 0.0 || p > 1.0) return NAN;
    if (p == 0.0) return -INFINITY;
    if (p == 1.0) return INFINITY;
    if (p == 0.5) return 0.0;
    /* Solve P(T > s) = q for s > 0 on the smaller tail, so that a small p keeps its precision
     * (1 - p is exact for p >= 1/2). */
    double q = p < 0.5 ? p : 1.0 - p, sign = p < 0.5 ? -1.0 : 1.0;
    double lo = 0.0, hi = 1.0;
    while (quantile_gap(hi, df, q) > 0.0) {
        lo = hi;
        hi *= 2.0;
        if (isinf(hi)) return sign * INFINITY;
    }
    /* Newton's method (the gap falls at the rate of the density), kept inside the bracket;
     * bisection, geometric over a wide bracket, when a step would leave it. */
    double s = 0.5 * (lo + hi);
    for (int it = 0; it < 300; it++) {
        double g = quantile_gap(s, df, q);
        if (g == 0.0) break;
        if (g > 0)
            lo = s;
        else
            hi = s;
        double next = s + g / t_density(s, df);
        if (!(next > lo && next < hi)) next = lo > 0.0 && hi > 4.0 * lo ? sqrt(lo * hi) : 0.5 * (lo + hi);
        bool done = fabs(next - s) <= 1e-15 * next || hi - lo <= 4e-16 * hi;
        s = next;
        if (done) break;
    }
    return sign * s;
}

/* ---- summaries and tests ---- */

/* Count, mean and sample variance of x[i] (or of x[i] - y[i] when y is not NULL) over the entries
 * that are finite. Constant data gives exactly that mean and variance 0, which a corrected two-pass
 * sum would not promise (0.1 * 3 / 3 is not 0.1). */
typedef struct moments {
    int n;
    double mean, var;
    bool constant;
} moments;

static moments moments_of(const double *x, const double *y, int n)
{
    moments m = {0, NAN, NAN, true};
    if (!x) return m;
    double sum = 0.0, first = 0.0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || (y && !isfinite(y[i]))) continue;
        double v = y ? x[i] - y[i] : x[i];
        if (m.n == 0)
            first = v;
        else if (v != first)
            m.constant = false;
        sum += v;
        m.n++;
    }
    if (m.n == 0) return m;
    m.mean = m.constant ? first : sum / m.n;
    if (m.n < 2) return m;
    if (m.constant) {
        m.var = 0.0;
        return m;
    }
    double ss = 0.0, c = 0.0; /* corrected two-pass: c is the rounding left in the mean */
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || (y && !isfinite(y[i]))) continue;
        double dv = (y ? x[i] - y[i] : x[i]) - m.mean;
        ss += dv * dv;
        c += dv;
    }
    m.var = (ss - c * c / m.n) / (m.n - 1);
    if (m.var < 0.0) m.var = 0.0;
    return m;
}

void nnm_stat_of(const double *x, int n, nnm_stat *out)
{
    if (!out) return;
    moments m = moments_of(x, NULL, n);
    out->n = m.n;
    out->mean = m.mean;
    out->sd = m.n < 2 ? NAN : sqrt(m.var);
    out->ci95 = m.n < 2 ? NAN : nnm_t_quantile(0.975, m.n - 1) * out->sd / sqrt((double)m.n);
}

/* Two-sided p-value of t with df degrees of freedom, computed on the tail (not 1 - cdf) so that a
 * small p keeps its digits. */
static double t_two_sided(double t, double df) { return 2.0 * t_upper(fabs(t), df); }

double nnm_paired_t_test(const double *a, const double *b, int n, double *t, int *df)
{
    moments m = a && b ? moments_of(a, b, n) : (moments){0, NAN, NAN, true};
    double tv = NAN, p = NAN;
    if (m.n >= 2) {
        if (m.constant) {
            tv = m.mean == 0.0 ? 0.0 : copysign(INFINITY, m.mean);
            p = m.mean == 0.0 ? 1.0 : 0.0;
        } else {
            tv = m.mean / sqrt(m.var / m.n);
            p = t_two_sided(tv, m.n - 1);
        }
    }
    if (t) *t = tv;
    if (df) *df = m.n > 0 ? m.n - 1 : 0;
    return p;
}

double nnm_welch_t_test(const double *a, int na, const double *b, int nb, double *t, double *df)
{
    moments ma = moments_of(a, NULL, na), mb = moments_of(b, NULL, nb);
    double tv = NAN, dfv = NAN, p = NAN;
    if (ma.n >= 2 && mb.n >= 2) {
        double va = ma.var / ma.n, vb = mb.var / mb.n, diff = ma.mean - mb.mean;
        if (va + vb == 0.0) {
            tv = diff == 0.0 ? 0.0 : copysign(INFINITY, diff);
            p = diff == 0.0 ? 1.0 : 0.0;
        } else {
            /* Welch-Satterthwaite */
            dfv = (va + vb) * (va + vb) / (va * va / (ma.n - 1) + vb * vb / (mb.n - 1));
            tv = diff / sqrt(va + vb);
            p = t_two_sided(tv, dfv);
        }
    }
    if (t) *t = tv;
    if (df) *df = dfv;
    return p;
}

/* ---- McNemar's exact test ---- */

/*
 * bd0(x, np) = x log(x / np) + np - x, the deviance term of Loader's binomial. Near x = np it is
 * the difference of two close numbers; there, with v = (x - np) / (x + np),
 * bd0 = (x - np) v + 2 x (v^3 / 3 + v^5 / 5 + ...).
 */
static double bd0(double x, double np)
{
    if (fabs(x - np) < 0.1 * (x + np)) {
        double v = (x - np) / (x + np), v2 = v * v, s = (x - np) * v, term = 2.0 * x * v;
        for (int j = 1; j < 1000; j++) {
            term *= v2;
            double prev = s;
            s += term / (2 * j + 1);
            if (s == prev) break;
        }
        return s;
    }
    return x * log(x / np) + np - x;
}

/* log P(X = k), X ~ Binomial(n, 1/2), 0 < k < n (Loader 2000):
 * corr(n+1) - corr(k+1) - corr(n-k+1) - bd0(k, n/2) - bd0(n-k, n/2) + log sqrt(n / (2 pi k (n-k))),
 * where corr(m + 1) = lgamma(m + 1) - [(m + 1/2) log m - m + log sqrt(2 pi)] equals lgamma_corr(m). */
static double log_binom_half(double k, double n)
{
    double half = 0.5 * n;
    return lgamma_corr(n) - lgamma_corr(k) - lgamma_corr(n - k) - bd0(k, half) - bd0(n - k, half) +
           0.5 * log(n / (k * (n - k))) - LN_SQRT_2PI;
}

double nnm_mcnemar_exact(int64_t n01, int64_t n10)
{
    /* beyond 2^53 the counts are no longer whole numbers in double */
    if (n01 < 0 || n10 < 0 || n01 > (INT64_C(1) << 53) - n10) return NAN;
    if (n01 == n10) return 1.0; /* includes no discordant pairs */
    double k = (double)(n01 < n10 ? n01 : n10), n = (double)n01 + (double)n10;
    /* P(X <= k) = P(X = k) * sum_{i <= k} P(X = i) / P(X = k), the ratios by the recurrence
     * P(X = i - 1) / P(X = i) = i / (n - i + 1): each below 1 (k < n/2), so no overflow, and the
     * sum stops once a term no longer counts. Two-sided: twice the smaller tail (the distribution is
     * symmetric), at most 1. */
    double log_pk = k == 0.0 ? -n * log(2.0) : log_binom_half(k, n);
    double sum = 1.0, r = 1.0;
    for (double i = k; i >= 1.0; i -= 1.0) {
        r *= i / (n - i + 1.0);
        sum += r;
        if (r < 1e-17 * sum) break;
    }
    double log_p = log(2.0) + log_pk + log(sum);
    return log_p >= 0.0 ? 1.0 : exp(log_p);
}

/* ---- Holm ---- */

/* Whether p[i] comes before p[j] in ascending order, ties by index. */
static bool holm_before(const double *p, int i, int j) { return p[i] < p[j] || (p[i] == p[j] && i < j); }

void nnm_holm(const double *p, int m, double *adjusted)
{
    if (!p || !adjusted || m <= 0) return;
    int valid = 0;
    for (int i = 0; i < m; i++) {
        if (isnan(p[i]))
            adjusted[i] = NAN;
        else
            valid++;
    }
    /* Visit the p-values in ascending order by repeated selection of the next one (no memory to
     * sort into): the r-th smallest is multiplied by (valid - r), and the running maximum keeps the
     * adjusted values monotone. */
    int prev = -1;
    double running = 0.0;
    for (int r = 0; r < valid; r++) {
        int next = -1;
        for (int i = 0; i < m; i++) {
            if (isnan(p[i]) || (prev >= 0 && !holm_before(p, prev, i))) continue;
            if (next < 0 || holm_before(p, i, next)) next = i;
        }
        double v = (valid - r) * p[next];
        if (v > running) running = v;
        adjusted[next] = running < 1.0 ? running : 1.0;
        prev = next;
    }
}

/* ---- classification report ---- */

int nnm_classification_report(const int64_t *confusion, int k, nnm_class_report *per_class,
                              nnm_class_report *macro, nnm_class_report *weighted, double *accuracy)
{
    if (!confusion || k < 1) return -1;
    int64_t total = 0, trace = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            int64_t c = confusion[(size_t)i * k + j];
            if (c < 0 || c > INT64_MAX - total) return -1;
            total += c;
            if (i == j) trace += c;
        }
    nnm_class_report mac = {0, 0, 0, total}, wei = {0, 0, 0, total};
    for (int i = 0; i < k; i++) {
        int64_t row = 0, col = 0, tp = confusion[(size_t)i * k + i];
        for (int j = 0; j < k; j++) {
            row += confusion[(size_t)i * k + j];
            col += confusion[(size_t)j * k + i];
        }
        /* zero_division=0; F1 as 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall
         * without their rounding */
        nnm_class_report c = {
            .precision = col ? (double)tp / (double)col : 0.0,
            .recall = row ? (double)tp / (double)row : 0.0,
            .f1 = row + col ? 2.0 * (double)tp / ((double)row + (double)col) : 0.0,
            .support = row,
        };
        if (per_class) per_class[i] = c;
        mac.precision += c.precision;
        mac.recall += c.recall;
        mac.f1 += c.f1;
        wei.precision += c.precision * (double)row;
        wei.recall += c.recall * (double)row;
        wei.f1 += c.f1 * (double)row;
    }
    mac.precision /= k;
    mac.recall /= k;
    mac.f1 /= k;
    if (total) {
        wei.precision /= (double)total;
        wei.recall /= (double)total;
        wei.f1 /= (double)total;
    }
    if (macro) *macro = mac;
    if (weighted) *weighted = wei;
    if (accuracy) *accuracy = total ? (double)trace / (double)total : 0.0;
    return 0;
}
