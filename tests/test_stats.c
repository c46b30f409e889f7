/* nn-mnist's statistics (tools/nn-mnist/stats.c) against reference values from scipy 1.10.1 and
 * scikit-learn 1.2.1 (Debian 12's python3-scipy and python3-sklearn), pasted below with the call
 * that produced each; relative tolerance 1e-9. Also the documented edge cases: NaN entries
 * skipped, degenerate samples, no discordant pairs, empty classes, bad arguments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "stats.h"

#define TOL 1e-9
#define PI  3.14159265358979323846

static void near_(double got, double want, double rel, const char *what, int line)
{
    double err = fabs(got - want), scale = fabs(want) > 1e-300 ? fabs(want) : 1.0;
    if (!(err <= rel * scale))
        fail_msg("line %d, %s: got %.17g, want %.17g (relative error %.3g)", line, what, got, want,
                 err / scale);
}
#define NEAR(got, want) near_((got), (want), TOL, #got, __LINE__)
/* for the t distribution, which is computed to about 1e-14 */
#define TIGHT(got, want) near_((got), (want), 1e-12, #got, __LINE__)

/*
 * t quantiles. scipy 1.10.1's scipy.stats.t.ppf(p, df) is itself off by up to 2e-9 here (df=30,
 * p=0.6: 0.2556053644420514; df=9, p=0.995: 3.2498355440153697), so these are mpmath's at 50 digits
 * (bisection on mpmath.betainc(df/2, 1/2, 0, df/(df+t^2), regularized=True) / 2), rounded to double;
 * scipy.stats.t.cdf(t, df) maps each back to p within 2e-15, and t.ppf agrees within 2e-9.
 */
static const struct {
    double df, p, t;
} quantiles[] = {
    {1, 0.975, 12.706204736174694},
    {1, 0.995, 63.656741162871526},
    {1, 0.6, 0.32491969623290623},
    {1, 1e-6, -318309.8861827435},
    {2, 0.975, 4.302652729749462},
    {2, 0.995, 9.92484320091829},
    {2, 0.6, 0.2886751345948128},
    {2, 1e-6, -707.1057205259339},
    {4, 0.975, 2.7764451051977934},
    {4, 0.995, 4.604094871349992},
    {4, 0.6, 0.27072229470759734},
    {4, 1e-6, -41.577854150450975},
    {9, 0.975, 2.262157162798205},
    {9, 0.995, 3.249835541592126},
    {9, 0.6, 0.26095533647391095},
    {9, 1e-6, -10.7201604099095},
    {30, 0.975, 2.0422724563012378},
    {30, 0.995, 2.749995653567225},
    {30, 0.6, 0.2556053649519127},
    {30, 1e-6, -5.871117120418883},
    {1000, 0.975, 1.962339080826408},
    {1000, 0.995, 2.5807546980659506},
    {1000, 0.6, 0.2534145158394987},
    {1000, 1e-6, -4.781608620458351},
    {3.7, 0.975, 2.8675207071911886},
    {0.5, 0.01, -1028.4910104716218},
    {1e6, 0.975, 1.9599663568141066},
    {INFINITY, 0.975, 1.959963984540054}, /* scipy.stats.norm.ppf(0.975) */
    /* next to the median, where P(T > t) = 1/2 - 1e-7 has lost 7 digits (scipy: 2e-9 off) */
    {4, 0.5000001, 2.666666665263091e-07},
    {30, 0.5000001, 2.5276002247929695e-07},
    {1000, 0.5000001, 2.507255008614169e-07},
};

static void test_stats__t_quantile_matches_scipy(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof quantiles / sizeof *quantiles; i++) {
        TIGHT(nnm_t_quantile(quantiles[i].p, quantiles[i].df), quantiles[i].t);
        /* symmetric (1 - p is rounded: 1e-10 relative in the tail for p = 1e-6), and the CDF's inverse */
        NEAR(nnm_t_quantile(1.0 - quantiles[i].p, quantiles[i].df), -quantiles[i].t);
        TIGHT(nnm_t_cdf(quantiles[i].t, quantiles[i].df), quantiles[i].p);
    }
    /* df = 1 is Cauchy: t = tan(pi (p - 1/2)) exactly */
    TIGHT(nnm_t_quantile(0.975, 1), tan(PI * 0.475));
}

/* scipy.stats.t.cdf(t, df) */
static const struct {
    double t, df, p;
} cdfs[] = {
    {2.0, 1, 0.8524163823495667},      {-2.0, 1, 0.1475836176504332},    {0.5, 3, 0.6742760175759246},
    {-3.5, 4, 0.012448081730111376},   {1.96, 1000, 0.9748634075221256}, {10.0, 9, 0.999998210881284},
    {-40.0, 2, 0.0003122073360923703}, {0.1, 30, 0.5394951941048645},    {-8.0, 30, 3.132911237850386e-09},
    {2.5, 7.3, 0.9801748826671998},
};

static void test_stats__t_cdf_matches_scipy(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cdfs / sizeof *cdfs; i++)
        TIGHT(nnm_t_cdf(cdfs[i].t, cdfs[i].df), cdfs[i].p);
    assert_true(nnm_t_cdf(0.0, 5) == 0.5);
    assert_true(nnm_t_cdf(INFINITY, 5) == 1.0 && nnm_t_cdf(-INFINITY, 5) == 0.0);
    assert_true(nnm_t_quantile(0.0, 5) == -INFINITY && nnm_t_quantile(1.0, 5) == INFINITY);
    assert_true(nnm_t_quantile(0.5, 5) == 0.0);
    /* a huge t: s^2 overflows, the tail does not (Cauchy: P(T < -t) ~ 1 / (pi t)) */
    NEAR(nnm_t_cdf(-1e200, 1), 1.0 / (PI * 1e200));
    NEAR(nnm_t_quantile(1e-250, 1), -1.0 / (PI * 1e-250));
}

static void test_stats__t_rejects_bad_arguments(void **state)
{
    (void)state;
    assert_true(isnan(nnm_t_cdf(NAN, 3)));
    assert_true(isnan(nnm_t_cdf(1.0, 0)));
    assert_true(isnan(nnm_t_cdf(1.0, -2)));
    assert_true(isnan(nnm_t_cdf(1.0, NAN)));
    assert_true(isnan(nnm_t_quantile(-0.1, 3)));
    assert_true(isnan(nnm_t_quantile(1.5, 3)));
    assert_true(isnan(nnm_t_quantile(NAN, 3)));
    assert_true(isnan(nnm_t_quantile(0.9, 0)));
}

static void test_stats__stat_of_skips_nan(void **state)
{
    (void)state;
    /* numpy.mean, numpy.std(ddof=1) of the finite values; ci95 as
     * scipy.stats.t.ppf(0.975, 4) * numpy.std(x, ddof=1) / sqrt(5) */
    const double x[] = {0.9812, 0.9797, NAN, 0.9825, 0.9803, 0.9819};
    nnm_stat s;
    nnm_stat_of(x, 6, &s);
    assert_int_equal(s.n, 5);
    NEAR(s.mean, 0.98112);
    NEAR(s.sd, 0.0011410521460476879);
    NEAR(s.ci95, 0.0014168033698205604);

    const double one[] = {NAN, 0.97, INFINITY};
    nnm_stat_of(one, 3, &s);
    assert_int_equal(s.n, 1);
    assert_true(s.mean == 0.97 && isnan(s.sd) && isnan(s.ci95));
    nnm_stat_of(NULL, 0, &s);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean) && isnan(s.sd) && isnan(s.ci95));
    /* constant runs: no spread at all, not a rounding residue */
    const double same[] = {0.1, 0.1, 0.1};
    nnm_stat_of(same, 3, &s);
    assert_true(s.mean == 0.1 && s.sd == 0.0 && s.ci95 == 0.0);
}

static void test_stats__paired_matches_scipy(void **state)
{
    (void)state;
    double t;
    int df;
    /* scipy.stats.ttest_rel(a, b) */
    const double a[] = {0.981, 0.979, 0.983, 0.980, 0.982}, b[] = {0.975, 0.978, 0.976, 0.979, 0.977};
    NEAR(nnm_paired_t_test(a, b, 5, &t, &df), 0.034109423167409614);
    NEAR(t, 3.1622776601683795);
    assert_int_equal(df, 4);
    const double a2[] = {1.2, 3.4, 2.2, 5.1, 0.3, 2.8, 4.4}, b2[] = {1.0, 3.9, 1.1, 4.0, 0.9, 2.0, 3.5};
    NEAR(nnm_paired_t_test(a2, b2, 7, &t, &df), 0.1734428442141422);
    NEAR(t, 1.5443960018728053);
    assert_int_equal(df, 6);
    NEAR(nnm_paired_t_test(b2, a2, 7, &t, NULL), 0.1734428442141422);
    NEAR(t, -1.5443960018728053);

    /* a pair with a NaN (a diverged run) on either side is left out: the same as the first case */
    const double an[] = {0.981, NAN, 0.979, 0.983, 0.980, 0.5, 0.982},
                 bn[] = {0.975, 0.5, 0.978, 0.976, 0.979, NAN, 0.977};
    NEAR(nnm_paired_t_test(an, bn, 7, &t, &df), 0.034109423167409614);
    assert_int_equal(df, 4);

    /* fewer than 2 pairs; equal differences */
    assert_true(isnan(nnm_paired_t_test(an, bn, 2, &t, &df)) && isnan(t) && df == 0);
    const double c[] = {0.5, 0.6, 0.7}, d[] = {0.4, 0.5, 0.6}, e[] = {0.3, 0.2, 0.1};
    assert_true(nnm_paired_t_test(c, c, 3, &t, &df) == 1.0 && t == 0.0 && df == 2);
    const double f[] = {1.5, 2.5, 3.5}, g[] = {1.0, 2.0, 3.0}; /* differences exactly 0.5 */
    assert_true(nnm_paired_t_test(f, g, 3, &t, &df) == 0.0 && t == INFINITY);
    assert_true(nnm_paired_t_test(g, f, 3, &t, &df) == 0.0 && t == -INFINITY);
    double p = nnm_paired_t_test(c, d, 3, &t, &df); /* 0.1 give or take an ulp: not degenerate */
    assert_true(p >= 0.0 && p <= 1.0);
    assert_true(nnm_paired_t_test(c, e, 3, NULL, NULL) > 0.0);
    assert_true(isnan(nnm_paired_t_test(NULL, e, 3, &t, &df)));
}

static void test_stats__welch_matches_scipy(void **state)
{
    (void)state;
    double t, df;
    /* scipy.stats.ttest_ind(x, y, equal_var=False); df by the Welch-Satterthwaite formula */
    const double x[] = {0.9812, 0.9797, 0.9825, 0.9803, 0.9819},
                 y[] = {0.9770, 0.9791, 0.9755, 0.9782, 0.9768, 0.9790};
    NEAR(nnm_welch_t_test(x, 5, y, 6, &t, &df), 0.0013457914957621738);
    NEAR(t, 4.570786183025445);
    NEAR(df, 8.998948742408237);
    const double x3[] = {12.0, 15.5, 9.8, 14.1}, y3[] = {10.2, 10.9, 11.4};
    NEAR(nnm_welch_t_test(x3, 4, y3, 3, &t, &df), 0.20482301525235547);
    NEAR(t, 1.5596358114730842);
    NEAR(df, 3.4552525505218843);
    NEAR(nnm_welch_t_test(y3, 3, x3, 4, &t, &df), 0.20482301525235547);
    NEAR(t, -1.5596358114730842);

    const double xn[] = {12.0, NAN, 15.5, 9.8, 14.1};
    NEAR(nnm_welch_t_test(xn, 5, y3, 3, &t, &df), 0.20482301525235547);
    assert_true(isnan(nnm_welch_t_test(xn, 2, y3, 3, &t, &df)) && isnan(t) && isnan(df));
    const double k1[] = {0.5, 0.5, 0.5}, k2[] = {0.25, 0.25};
    assert_true(nnm_welch_t_test(k1, 3, k1, 2, &t, &df) == 1.0 && t == 0.0 && isnan(df));
    assert_true(nnm_welch_t_test(k1, 3, k2, 2, &t, &df) == 0.0 && t == INFINITY);
}

static void test_stats__mcnemar_matches_scipy(void **state)
{
    (void)state;
    /* scipy.stats.binomtest(min(n01, n10), n01 + n10, 0.5).pvalue */
    static const struct {
        int64_t n01, n10;
        double p;
    } cases[] = {
        {0, 0, 1.0},
        {5, 0, 0.0625},
        {12, 20, 0.21532714972272515},
        {300, 340, 0.12310113072196792},
        {4000, 4100, 0.27133108714393217},
        {4100, 4000, 0.27133108714393217},
        {1, 2, 1.0},
        {3, 3, 1.0},
        {0, 30, 1.862645149230957e-09},
        {0, 1000, 1.8665272370064378e-301}, /* 2^-999 */
        {1, 40, 3.8198777474462986e-11},
        {1000000, 1003000, 0.03408836507943199},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        NEAR(nnm_mcnemar_exact(cases[i].n01, cases[i].n10), cases[i].p);
    assert_true(nnm_mcnemar_exact(0, 1100) == 0.0); /* 2^-1099 underflows, as in scipy */
    assert_true(isnan(nnm_mcnemar_exact(-1, 3)));
    assert_true(isnan(nnm_mcnemar_exact(INT64_MAX, 1)));
    assert_true(isnan(nnm_mcnemar_exact(INT64_C(1) << 52, (INT64_C(1) << 52) + 1)));
}

static void test_stats__holm_matches_statsmodels(void **state)
{
    (void)state;
    /* statsmodels' multipletests(p, method='holm') by its formula: sort ascending, multiply the
     * r-th smallest (from 0) by m - r, running maximum, cap at 1 (numpy, stable argsort) */
    const double p[] = {0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9};
    const double want[] = {0.06, 0.16, 0.15, 0.035, 0.4, 0.16, 0.9};
    double adj[7];
    nnm_holm(p, 7, adj);
    for (int i = 0; i < 7; i++) NEAR(adj[i], want[i]);

    const double capped[] = {0.6, 0.7, 0.01};
    nnm_holm(capped, 3, adj);
    assert_true(adj[0] == 1.0 && adj[1] == 1.0);
    NEAR(adj[2], 0.03);

    /* NaN stays NaN and is not counted in m (R's p.adjust) */
    const double withnan[] = {0.5, NAN, 0.02, 0.45};
    nnm_holm(withnan, 4, adj);
    NEAR(adj[0], 0.9);
    assert_true(isnan(adj[1]));
    NEAR(adj[2], 0.06);
    NEAR(adj[3], 0.9);

    const double single[] = {0.3};
    nnm_holm(single, 1, adj);
    assert_true(adj[0] == 0.3);
}

static void test_stats__classification_report_matches_sklearn(void **state)
{
    (void)state;
    /* Class 1 has no true examples but is predicted 4 times. sklearn.metrics
     * precision_recall_fscore_support(y_true, y_pred, labels=[0, 1, 2], zero_division=0) (per class,
     * average='macro' and 'weighted') and accuracy_score, on the labels this matrix expands to. */
    const int64_t confusion[9] = {50, 3, 2, 0, 0, 0, 4, 1, 40};
    nnm_class_report per[3], mac, wei;
    double acc;
    assert_int_equal(nnm_classification_report(confusion, 3, per, &mac, &wei, &acc), 0);
    NEAR(per[0].precision, 0.9259259259259259);
    NEAR(per[0].recall, 0.9090909090909091);
    NEAR(per[0].f1, 0.9174311926605504);
    assert_int_equal(per[0].support, 55);
    assert_true(per[1].precision == 0.0 && per[1].recall == 0.0 && per[1].f1 == 0.0 && per[1].support == 0);
    NEAR(per[2].precision, 0.9523809523809523);
    NEAR(per[2].recall, 0.8888888888888888);
    NEAR(per[2].f1, 0.9195402298850575);
    assert_int_equal(per[2].support, 45);
    NEAR(mac.precision, 0.6261022927689593);
    NEAR(mac.recall, 0.5993265993265994);
    NEAR(mac.f1, 0.6123238075152027);
    NEAR(wei.precision, 0.9378306878306879);
    NEAR(wei.recall, 0.9);
    NEAR(wei.f1, 0.9183802594115786);
    assert_int_equal(mac.support, 100);
    assert_int_equal(wei.support, 100);
    NEAR(acc, 0.9);

    /* only the pieces asked for; an empty matrix is all zeros */
    assert_int_equal(nnm_classification_report(confusion, 3, NULL, NULL, NULL, &acc), 0);
    NEAR(acc, 0.9);
    const int64_t empty[4] = {0};
    assert_int_equal(nnm_classification_report(empty, 2, per, &mac, &wei, &acc), 0);
    assert_true(acc == 0.0 && mac.f1 == 0.0 && wei.precision == 0.0 && per[1].recall == 0.0);

    /* bad input: -1, outputs untouched */
    const int64_t negative[4] = {3, -1, 0, 2}, huge[4] = {INT64_MAX, 1, 0, 0};
    acc = 42.0;
    assert_int_equal(nnm_classification_report(negative, 2, per, &mac, &wei, &acc), -1);
    assert_int_equal(nnm_classification_report(huge, 2, per, &mac, &wei, &acc), -1);
    assert_int_equal(nnm_classification_report(NULL, 2, per, &mac, &wei, &acc), -1);
    assert_int_equal(nnm_classification_report(confusion, 0, per, &mac, &wei, &acc), -1);
    assert_true(acc == 42.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats__t_quantile_matches_scipy),
        cmocka_unit_test(test_stats__t_cdf_matches_scipy),
        cmocka_unit_test(test_stats__t_rejects_bad_arguments),
        cmocka_unit_test(test_stats__stat_of_skips_nan),
        cmocka_unit_test(test_stats__paired_matches_scipy),
        cmocka_unit_test(test_stats__welch_matches_scipy),
        cmocka_unit_test(test_stats__mcnemar_matches_scipy),
        cmocka_unit_test(test_stats__holm_matches_statsmodels),
        cmocka_unit_test(test_stats__classification_report_matches_sklearn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
