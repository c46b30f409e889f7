/*
 * Progress on stderr while models train: on a terminal, one live bar per running model (epoch, step,
 * running loss and accuracy, steps/s, ETA), redrawn in place; otherwise one plain line per epoch, so CI
 * logs stay readable. Thread-safe: each worker owns a slot.
 */
#ifndef NNM_PROGRESS_H
#define NNM_PROGRESS_H

#include <stdint.h>

typedef struct nnm_progress nnm_progress;

/* slots: models shown at once; quiet: print nothing; force_plain: lines even on a terminal. */
nnm_progress *nnm_progress_create(int slots, int quiet, int force_plain);
void nnm_progress_free(nnm_progress *p);

/* A run begins in a slot. */
void nnm_progress_start(nnm_progress *p, int slot, const char *run_id, int epochs, int64_t steps_per_epoch);
/* After a training step (cheap: redraws at most ~10 times a second). */
void nnm_progress_step(nnm_progress *p, int slot, int epoch, int64_t step, double loss, double accuracy);
/* At the end of an epoch. */
void nnm_progress_epoch(nnm_progress *p, int slot, int epoch, double loss, double accuracy, double test_accuracy,
                        double seconds);
/* A one-off message line (run finished, skipped, resumed...), printed above the bars. */
void nnm_progress_message(nnm_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The run in this slot is over; its bar is cleared. */
void nnm_progress_end(nnm_progress *p, int slot);

/* Seconds on a monotonic clock, for durations. */
double nnm_now(void);

/* Formats seconds as "1m05s" or "12.3s". */
void nnm_format_duration(double seconds, char *buf, int len);

#endif
