/*
 * torture: power cut at write boundaries of an update, every trial judged.
 *
 * The update runs once uncut on a live device. At each boundary the plan
 * picks, inside the device's boundary hook, the device is copied, the op in
 * flight is torn on the copy, a fresh engine boots on it and recovers (cut
 * again during recovery when the scenario nests cuts), the oracle judges
 * and the trial goes to the sink; then the live run goes on. docs/torture.md
 * walks through it.
 */
#ifndef FOTASIM_TORTURE_H
#define FOTASIM_TORTURE_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "trial.h"

struct torture;

/* Called for every trial in id order; non-zero is a failure of the sink
 * (the database, the pipe): the run stops and returns TORTURE_E_SINK. */
typedef int (*torture_sink)(void *user, const struct trial *t);

/* torture_run's and workers_run's returns besides 0 (every trial of the
 * plan ran) and a negative fwr error of the live run. */
#define TORTURE_STOPPED 1      /* a stop request ended it between trials */
#define TORTURE_E_SINK  (-100) /* the sink failed; the run stopped there */
#define TORTURE_E_SYS   (-101) /* the watchdog's timer could not be set up */

/*
 * Ask every torture loop of this process to stop after the trial in
 * progress (torture_run then returns TORTURE_STOPPED; workers_run forwards
 * the request to its workers). Async-signal-safe: for SIGINT and SIGTERM
 * handlers. The request stays until torture_clear_stop().
 */
void torture_request_stop(void);
int torture_stop_requested(void);
void torture_clear_stop(void);

/*
 * The watchdog. A trial whose recovery (every boot, every engine call)
 * runs past either budget ends as VERDICT_STUCK, its detail naming the
 * budget and the figure; the run goes on with the next trial, on a fresh
 * engine. Trial budgets derive from what torture_create measures: the
 * uncut update plus one boot on its result (a resume scan of the whole
 * log). op_factor x their flash ops + op_const flash operations (every
 * read, program, erase and protect the engine issues), and
 * max(cpu_floor_s, cpu_factor x their CPU time) seconds of CPU time. The
 * uncut update and that boot have budgets fixed beforehand (uncut_ops,
 * uncut_cpu_s, each); past one, torture_create fails saying so.
 */
struct torture_limits {
    uint64_t op_factor, op_const;
    double cpu_factor, cpu_floor_s;
    uint64_t uncut_ops;
    double uncut_cpu_s;
};

struct torture_budget {
    uint64_t ops;
    double cpu_s;
};

/* The defaults for a scenario (docs/torture.md, "Watchdog"). */
void torture_default_limits(struct torture_limits *l,
                            const struct scenario *sc);
/* A trial's budgets, from the flash ops and CPU seconds of the uncut
 * update and the boot on its result, together. */
struct torture_budget torture_trial_budget(const struct torture_limits *l,
                                           uint64_t update_ops,
                                           double update_cpu_s);

struct torture_result {
    uint64_t boundaries; /* write boundaries of the uncut update */
    uint64_t planned;    /* trials the plan holds */
    uint64_t trials;     /* trials run now (from first_trial) */
    uint64_t failed;     /* trials that fail the run */
    uint64_t verdicts[VERDICT_COUNT];
    uint64_t worst_redownload; /* bytes, and its trial */
    uint64_t worst_trial;
    double wall_s;         /* whole run, host time */
    double recover_s;      /* host time inside recoveries (reboot to done) */
    uint64_t update_bytes; /* bytes the uncut update downloaded */
    uint64_t update_erases, update_programs;
    uint64_t update_ns; /* simulated time of the uncut update */
};

/* Count one judged trial into r: the one tally of trials, verdicts,
 * failures and the worst re-download (the loop's and the workers'). */
void torture_result_add(struct torture_result *r, const struct trial *tr);

/* Build devices and image, run the update once uncut to count boundaries
 * and make the plan. On error writes a message into err. */
int torture_create(struct torture **out, const struct scenario *sc, char *err,
                   size_t errlen);
/* The same with other watchdog limits (NULL: the defaults). */
int torture_create_limited(struct torture **out, const struct scenario *sc,
                           const struct torture_limits *lim, char *err,
                           size_t errlen);
/* Change the trial budgets of later runs (recomputed from the uncut
 * update's figures; the uncut budgets no longer matter). */
void torture_set_limits(struct torture *t, const struct torture_limits *lim);
/* The trial budgets in force, and the flash ops and CPU seconds (uncut
 * update and boot) they derive from. */
struct torture_budget torture_budget_of(const struct torture *t,
                                        uint64_t *update_ops,
                                        double *update_cpu_s);
void torture_destroy(struct torture *t);
uint64_t torture_boundaries(const struct torture *t);
uint64_t torture_planned(const struct torture *t);

/* Restrict later runs to trials with id % count == index (count <= 1:
 * all), skipping those with skip[id] != 0 (skip: NULL or one byte per
 * planned trial, e.g. the trials a database already holds). */
void torture_set_shard(struct torture *t, uint64_t index, uint64_t count,
                       const uint8_t *skip);

/* Run trials first_trial.. of the plan. Returns 0 when every one ran,
 * TORTURE_STOPPED after a stop request, TORTURE_E_SINK when the sink
 * failed, TORTURE_E_SYS, or a negative fwr error of the live run; res
 * holds the trials run either way. */
int torture_run(struct torture *t, uint64_t first_trial, torture_sink sink,
                void *user, struct torture_result *res);

/*
 * Replay one trial exactly. With cuts == NULL the trial is taken from the
 * plan by id; otherwise cuts[0..depth) are the boundaries (cuts[0] in the
 * uncut update, the others counted from each reboot). Dumps the device
 * before the first cut and after recovery when paths are given.
 */
int torture_replay(struct torture *t, uint64_t trial_id, const uint64_t *cuts,
                   uint32_t depth, const char *dump_before,
                   const char *dump_after, struct trial *out);

/* Fill res's figures of the uncut update (boundaries, plan, bytes, ops,
 * simulated time). */
void torture_update_figures(const struct torture *t,
                            struct torture_result *res);

/* The partition layout in use. */
const struct scenario_layout *torture_layout(const struct torture *t);
/* RAM the engine needs on the target: its context plus the minimum work
 * buffer (host pointer sizes; scripts/footprint gives the Cortex-M one). */
uint32_t torture_engine_ram(const struct torture *t);

/* Per erase unit: erases in the uncut update (for the wear table). */
uint32_t torture_unit_count(const struct torture *t);
uint32_t torture_update_erases(const struct torture *t, uint32_t unit);
uint32_t torture_worst_erases(const struct torture *t, uint32_t unit);

#endif /* FOTASIM_TORTURE_H */
