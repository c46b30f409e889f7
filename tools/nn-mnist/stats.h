/*
 * The statistics the study's report needs (issue 13): mean, standard deviation and 95% confidence
 * interval over seeds, Student's t distribution, paired and Welch t-tests, McNemar's exact test on
 * two models' test-set predictions, Holm's correction for comparing many cells with the best one,
 * and scikit-learn's per-class classification report from a confusion matrix.
 *
 * Everything is in double and pure: no allocation, no printing, no global state, so any thread may
 * call it. Bad arguments give NaN (or -1 where an int comes back), never a crash.
 *
 *     nnm_stat s;
 *     nnm_stat_of(test_accuracy_per_seed, n_seeds, &s);        // mean +- s.ci95, over s.n runs
 *     double t; int df;
 *     double p = nnm_paired_t_test(cell, best, n_seeds, &t, &df);
 */
#ifndef NNM_STATS_H
#define NNM_STATS_H

#include <stdint.h>

/*
 * Summary of one metric over runs. sd is the sample standard deviation (divisor n - 1); ci95 the
 * half-width of the 95% confidence interval of the mean, t_{0.975, n-1} * sd / sqrt(n). mean is NaN
 * when n == 0; sd and ci95 are NaN when n < 2.
 */
typedef struct nnm_stat {
    int n;
    double mean, sd, ci95;
} nnm_stat;

/* Summary of x[0..n). Entries that are not finite (a diverged run's NaN) are skipped: out->n counts
 * the finite ones. x may be NULL when n <= 0. */
void nnm_stat_of(const double *x, int n, nnm_stat *out);

/*
 * Student's t distribution with df degrees of freedom (df > 0, not necessarily whole; df = +inf is
 * the standard normal). nnm_t_cdf is P(T <= t); nnm_t_quantile its inverse for 0 < p < 1 (-inf and
 * +inf at p = 0 and 1). Both to about 1e-13 relative (checked against mpmath from df = 0.05 to 1e8).
 * NaN for a NaN argument, df <= 0 or p outside [0, 1].
 */
double nnm_t_cdf(double t, double df);
double nnm_t_quantile(double p, double df);

/*
 * Paired two-sided t-test of the differences a[i] - b[i], i < n (as scipy.stats.ttest_rel): returns
 * the p-value, and writes t and df (pairs - 1) where the pointers are not NULL. Pairs with a value
 * that is not finite are skipped. Fewer than 2 pairs: p and t NaN. All differences equal: p = 1 and
 * t = 0 if they are 0, else p = 0 and t = +-inf.
 */
double nnm_paired_t_test(const double *a, const double *b, int n, double *t, int *df);

/*
 * Welch's two-sided t-test (unpaired, unequal variances; scipy.stats.ttest_ind(a, b,
 * equal_var=False)) with Welch-Satterthwaite degrees of freedom. Values that are not finite are
 * skipped. Fewer than 2 values on either side: p, t and df NaN. Both samples without spread: df NaN,
 * p = 1 and t = 0 if the means are equal, else p = 0 and t = +-inf.
 */
double nnm_welch_t_test(const double *a, int na, const double *b, int nb, double *t, double *df);

/*
 * McNemar's exact test of two models on the same examples: n01 examples only the first model got
 * right, n10 only the second. The two-sided exact binomial p-value of min(n01, n10) successes in
 * n01 + n10 trials with probability 1/2 (scipy.stats.binomtest(min, n, 0.5).pvalue; not the mid-p
 * variant), 1 when there are no discordant pairs. Exact for any counts in the sense that no normal
 * approximation is made: log space and Loader's saddle-point form of the binomial give about 1e-13
 * relative up to 1e8 pairs (3e-13 at 1e10, where the sum's rounding grows); values below about
 * 1e-308 come back as 0. Time grows as sqrt(n01 + n10) when the counts are close (half a millisecond
 * at 1e10). NaN for a negative count or n01 + n10 > 2^53.
 */
double nnm_mcnemar_exact(int64_t n01, int64_t n10);

/*
 * Holm-Bonferroni step-down adjustment of m p-values (as statsmodels' multipletests(method='holm')
 * and R's p.adjust(method = "holm")): adjusted[i] is monotone in p[i] and capped at 1. NaN entries
 * (tests that could not be run) stay NaN and do not count in m, as in R. adjusted must not overlap p.
 * O(m^2) time and no memory: m is the number of cells in a study.
 */
void nnm_holm(const double *p, int m, double *adjusted);

/* One row of a classification report. */
typedef struct nnm_class_report {
    double precision, recall, f1;
    int64_t support;
} nnm_class_report;

/*
 * Per-class precision, recall, F1 and support from a k x k confusion matrix (row-major, rows the
 * true class, columns the predicted one) as scikit-learn's classification_report(y_true, y_pred,
 * labels=range(k), zero_division=0): a metric whose denominator is 0 is 0. per_class holds k rows;
 * macro is the unweighted mean over all k classes, weighted the mean weighted by support (both with
 * support = the total); accuracy the trace over the total (0 for an empty matrix). Any output
 * pointer except confusion may be NULL. Returns 0, or -1 (outputs untouched) for k < 1, a NULL
 * matrix, a negative count or a total beyond int64.
 */
int nnm_classification_report(const int64_t *confusion, int k, nnm_class_report *per_class,
                              nnm_class_report *macro, nnm_class_report *weighted, double *accuracy);

#endif
