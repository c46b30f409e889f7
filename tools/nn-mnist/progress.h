/*
 * Progress on stderr while models train.
 *
 * On a terminal (stderr is a tty and TERM is set and not "dumb"): a top line for the whole study
 * (models done / total, elapsed, ETA), one live bar per running model below it, and, above them,
 * one kept line per finished epoch and every message, which scroll and stay. Every line is fitted
 * to the terminal's width, read again after each resize (SIGWINCH): fields are shortened, then
 * dropped, so that no line ever wraps. Otherwise: plain lines (one per epoch and per message) with
 * no escape sequence and no block character, so that logs stay readable.
 *
 * Thread-safe: each worker owns a slot; output is serialised by one lock.
 */
#ifndef NNM_PROGRESS_H
#define NNM_PROGRESS_H

#include <stdint.h>

#include "clock.h" /* nnm_now: the bars' and the callers' durations */

typedef struct nnm_progress nnm_progress;

/* slots: models shown at once; quiet: print nothing; force_plain: lines even on a terminal. On a
 * terminal it handles SIGWINCH until nnm_progress_free. */
nnm_progress *nnm_progress_create(int slots, int quiet, int force_plain);
/* Clears the live lines from the screen and restores the SIGWINCH handler. */
void nnm_progress_free(nnm_progress *p);

/* The whole study: `models` in all, of which `done` were finished before this process started.
 * Without this call there is no top line (a single model needs none). Starts the study's clock. */
void nnm_progress_study(nnm_progress *p, int models, int done);

/* A run begins in a slot. */
void nnm_progress_start(nnm_progress *p, int slot, const char *run_id, int epochs, int64_t steps_per_epoch);
/* After a training step (cheap: looks at the clock, and redraws at most ~10 times a second). */
void nnm_progress_step(nnm_progress *p, int slot, int epoch, int64_t step, double loss, double accuracy);
/* At the end of an epoch: prints its kept line. */
/* What the epoch lines call the held-out set, "test" (the default) or "val"; name must outlive p. */
void nnm_progress_set_heldout(nnm_progress *p, const char *name);

void nnm_progress_epoch(nnm_progress *p, int slot, int epoch, double loss, double accuracy, double test_loss,
                        double test_accuracy, double seconds);
/* A one-off message line (run skipped, resumed...), printed above the bars; on a terminal, broken
 * at spaces to fit its width. */
void nnm_progress_message(nnm_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A model of the study is finished (trained here or on another MPI rank): counts it, and prints its
 * message as nnm_progress_message does (in plain lines, followed by the study's figures). */
void nnm_progress_finished(nnm_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The run in this slot is over; its bar is cleared. */
void nnm_progress_end(nnm_progress *p, int slot);

/* Formats seconds as "12.3s", "1m05s" or "2h03m". */
void nnm_format_duration(double seconds, char *buf, int len);

#endif
