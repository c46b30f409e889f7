#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tu_fill_uniform(float *x, size_t n, float lo, float hi, nn_rng *rng)
{
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * nn_rng_uniform(rng);
}

double tu_gradcheck(tu_scalar_fn f, void *ctx, float *x, const float *grad, size_t n, double h, size_t *worst)
{
    double max_err = 0.0;
    for (size_t i = 0; i < n; i++) {
        float saved = x[i];
        x[i] = (float)(saved + h);
        double hp = (double)x[i] - saved; /* the step actually taken, after float rounding */
        double fp = f(ctx);
        x[i] = (float)(saved - h);
        double hm = saved - (double)x[i];
        double fm = f(ctx);
        x[i] = saved;
        double num = (fp - fm) / (hp + hm);
        double ana = grad[i];
        double scale = fmax(1.0, fmax(fabs(num), fabs(ana)));
        double err = fabs(num - ana) / scale;
        if (err > max_err) {
            max_err = err;
            if (worst) *worst = i;
        }
    }
    return max_err;
}

double tu_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t len = strlen(base) + 32;
    char *path = malloc(len);
    if (!path) return NULL;
    snprintf(path, len, "%s/nn-test-XXXXXX", base);
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path)
{
    if (path) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char watchdog_msg[256];

static void on_watchdog(int sig)
{
    (void)sig;
    if (write(2, watchdog_msg, strlen(watchdog_msg)) < 0) {}
    _exit(1);
}

void tu_watchdog(unsigned seconds, const char *what)
{
    if (seconds == 0) {
        alarm(0);
        signal(SIGALRM, SIG_DFL);
        return;
    }
    snprintf(watchdog_msg, sizeof watchdog_msg, "%s blocked (no answer in %u s)\n", what, seconds);
    signal(SIGALRM, on_watchdog);
    alarm(seconds);
}
