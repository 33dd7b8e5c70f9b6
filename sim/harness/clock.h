/*
 * clock: the harness's one source of host time, in seconds. Nothing here
 * enters a verdict or a cost (those are simulated time): host time only
 * reports how long things took, sets watchdog budgets and plans campaign
 * budgets.
 */
#ifndef FOTASIM_CLOCK_H
#define FOTASIM_CLOCK_H

/* Monotonic wall time (CLOCK_MONOTONIC), for durations. */
double clock_wall_s(void);

/* CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): what the
 * watchdog's CPU budget counts. */
double clock_thread_cpu_s(void);

/* CPU time of this process and of its reaped children (workers), user and
 * system: what a campaign's budget estimates. */
double clock_process_cpu_s(void);

#endif /* FOTASIM_CLOCK_H */
