/* The tool's one clock, for durations (progress, timings in records, downloads' progress lines). */
#ifndef NNM_CLOCK_H
#define NNM_CLOCK_H

/* Seconds on a monotonic clock: differences are durations, unmoved by changes to the wall clock. */
double nnm_now(void);

#endif
