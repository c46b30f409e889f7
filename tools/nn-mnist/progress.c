#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct slot {
    int active;
    char run_id[96];
    int epochs, epoch;
    int64_t steps, step;
    double loss, accuracy;
    double epoch_start, last_draw;
} slot;

struct nnm_progress {
    pthread_mutex_t lock;
    int nslots, quiet, tty, drawn; /* drawn: bar lines currently on screen */
    slot *slots;
};

double nnm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void nnm_format_duration(double s, char *buf, int len)
{
    if (s < 0) s = 0;
    if (s < 60) snprintf(buf, (size_t)len, "%.1fs", s);
    else snprintf(buf, (size_t)len, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

nnm_progress *nnm_progress_create(int slots, int quiet, int force_plain)
{
    nnm_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->slots = calloc((size_t)(slots > 0 ? slots : 1), sizeof *p->slots);
    if (!p->slots) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->nslots = slots > 0 ? slots : 1;
    p->quiet = quiet;
    p->tty = !force_plain && isatty(STDERR_FILENO);
    return p;
}

void nnm_progress_free(nnm_progress *p)
{
    if (!p) return;
    pthread_mutex_destroy(&p->lock);
    free(p->slots);
    free(p);
}

/* Moves the cursor back over the bars and clears them. Caller holds the lock. */
static void erase_bars(nnm_progress *p)
{
    for (int i = 0; i < p->drawn; i++) fputs("\033[1A\033[2K", stderr);
    p->drawn = 0;
}

static void draw_bars(nnm_progress *p)
{
    double t = nnm_now();
    for (int i = 0; i < p->nslots; i++) {
        slot *s = &p->slots[i];
        if (!s->active) continue;
        enum { WIDTH = 24 };
        double frac = s->steps ? (double)s->step / (double)s->steps : 0;
        int fill = (int)(frac * WIDTH);
        char bar[WIDTH * 3 + 1];
        size_t k = 0;
        for (int j = 0; j < WIDTH; j++) {
            const char *c = j < fill ? "\xe2\x96\x88" : "\xe2\x96\x91"; /* full block, light shade */
            memcpy(bar + k, c, 3);
            k += 3;
        }
        bar[k] = '\0';
        double el = t - s->epoch_start, rate = el > 0 ? (double)s->step / el : 0;
        double remain_steps = (double)(s->steps - s->step) + (double)(s->epochs - s->epoch) * (double)s->steps;
        char eta[16];
        if (rate > 0) nnm_format_duration(remain_steps / rate, eta, sizeof eta);
        else snprintf(eta, sizeof eta, "--");
        fprintf(stderr, "%-16s epoch %2d/%-2d %s %5lld/%lld loss %.4f acc %.4f %6.0f steps/s ETA %s\n", s->run_id,
                s->epoch, s->epochs, bar, (long long)s->step, (long long)s->steps, s->loss, s->accuracy, rate, eta);
        p->drawn++;
    }
    fflush(stderr);
}

void nnm_progress_start(nnm_progress *p, int slot_i, const char *run_id, int epochs, int64_t steps)
{
    if (!p || p->quiet || slot_i < 0 || slot_i >= p->nslots) return;
    pthread_mutex_lock(&p->lock);
    slot *s = &p->slots[slot_i];
    memset(s, 0, sizeof *s);
    s->active = 1;
    snprintf(s->run_id, sizeof s->run_id, "%s", run_id);
    s->epochs = epochs;
    s->steps = steps;
    s->epoch = 1;
    s->epoch_start = nnm_now();
    pthread_mutex_unlock(&p->lock);
}

void nnm_progress_step(nnm_progress *p, int slot_i, int epoch, int64_t step, double loss, double accuracy)
{
    if (!p || p->quiet || !p->tty || slot_i < 0 || slot_i >= p->nslots) return;
    /* Only every 64th step is shown: drawing must not cost training time. */
    if ((step & 63) != 0) return;
    pthread_mutex_lock(&p->lock);
    slot *s = &p->slots[slot_i];
    if (s->epoch != epoch) {
        s->epoch = epoch;
        s->epoch_start = nnm_now();
    }
    s->step = step;
    s->loss = loss;
    s->accuracy = accuracy;
    double t = nnm_now();
    if (t - s->last_draw >= 0.1) {
        s->last_draw = t;
        erase_bars(p);
        draw_bars(p);
    }
    pthread_mutex_unlock(&p->lock);
}

void nnm_progress_epoch(nnm_progress *p, int slot_i, int epoch, double loss, double accuracy, double test_accuracy,
                        double seconds)
{
    if (!p || p->quiet || slot_i < 0 || slot_i >= p->nslots) return;
    pthread_mutex_lock(&p->lock);
    slot *s = &p->slots[slot_i];
    if (p->tty) {
        s->epoch = epoch + 1 <= s->epochs ? epoch + 1 : epoch;
        s->epoch_start = nnm_now();
        s->step = 0;
    } else {
        fprintf(stderr, "%s: epoch %d/%d  loss %.4f  accuracy %.4f  test accuracy %.4f  (%.1fs)\n", s->run_id, epoch,
                s->epochs, loss, accuracy, test_accuracy, seconds);
        fflush(stderr);
    }
    pthread_mutex_unlock(&p->lock);
}

void nnm_progress_message(nnm_progress *p, const char *fmt, ...)
{
    if (!p || p->quiet) return;
    pthread_mutex_lock(&p->lock);
    if (p->tty) erase_bars(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (p->tty) draw_bars(p);
    fflush(stderr);
    pthread_mutex_unlock(&p->lock);
}

void nnm_progress_end(nnm_progress *p, int slot_i)
{
    if (!p || p->quiet || slot_i < 0 || slot_i >= p->nslots) return;
    pthread_mutex_lock(&p->lock);
    if (p->tty) erase_bars(p);
    p->slots[slot_i].active = 0;
    if (p->tty) draw_bars(p);
    pthread_mutex_unlock(&p->lock);
}
