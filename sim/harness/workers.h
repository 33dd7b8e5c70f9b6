/*
 * workers: run a torture plan in N local worker processes, one writer.
 *
 * The plan is fixed and every trial depends only on the scenario, the run
 * seed and its id, so splitting the ids over processes (or machines: see
 * --shard) changes nothing in any verdict. Each worker forks from a parent
 * that already built the devices and made the plan, runs its share with
 * the live update of its own, and streams finished trials over a pipe; the
 * parent alone writes the database.
 */
#ifndef FOTASIM_WORKERS_H
#define FOTASIM_WORKERS_H

#include <stdint.h>

#include "torture.h"

struct shard {
    uint64_t index, count; /* this machine's slice: id % count == index */
};

/*
 * Run the trials of shard sh not marked in skip, in jobs processes (1: in
 * this process). sink runs in this process for every trial. worst, when
 * not NULL, receives per erase unit the most erases any trial caused.
 * Returns as torture_run does. A stop request (torture_request_stop, from
 * the caller's SIGINT/SIGTERM handler) is forwarded to the workers as
 * SIGTERM; each finishes its trial in progress, the trials they finished
 * still reach the sink, and the return is TORTURE_STOPPED once every
 * worker has exited. Workers stop the same way on a SIGINT of their own.
 */
int workers_run(struct torture *t, unsigned jobs, struct shard sh,
                const uint8_t *skip, torture_sink sink, void *user,
                struct torture_result *res, uint32_t *worst);

/* Parse "I/N" (0 <= I < N) or "auto" (SLURM array, GitLab parallel,
 * Kubernetes Indexed Job; see docs/scale-out.md). Returns 0 or -1 with a
 * message in err. */
int shard_parse(const char *text, struct shard *sh, char *err, size_t n);

#endif /* FOTASIM_WORKERS_H */
