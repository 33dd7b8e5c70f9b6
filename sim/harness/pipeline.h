/*
 * pipeline: one run of one scenario into the outcome log, as `run` and
 * `sweep` (and so `compare`) do it: the run row (a new one, or with
 * --resume the unfinished one of this scenario, seed and shard), the
 * trials the database does not hold yet, committed as they come, the wear
 * rows, and the run's end status. The run row is passed only when every
 * planned trial of the slice is committed; any storage error leaves it
 * resumable and ends the run with PIPELINE_STORAGE. Messages about the
 * database go to stderr, naming the file; what a command prints of trials
 * and figures is its own (on_trial, the result).
 */
#ifndef FOTASIM_PIPELINE_H
#define FOTASIM_PIPELINE_H

#include <stdint.h>

#include "db.h"
#include "scenario.h"
#include "torture.h"
#include "workers.h"

enum pipeline_status {
    PIPELINE_PASSED = 0,      /* every trial committed and met expectations */
    PIPELINE_FAILED = 1,      /* some did not, or the torture loop failed */
    PIPELINE_INPUT = 2,       /* not a fotasim database; or nothing to resume */
    PIPELINE_STORAGE = 3,     /* the database or its file system failed */
    PIPELINE_INTERRUPTED = 4, /* a stop request; committed trials kept */
    PIPELINE_NOMEM = 5
};

struct pipeline_opts {
    const char *db_path; /* for messages */
    unsigned jobs;
    struct shard shard;
    int resume; /* carry on the unfinished run of this scenario */
    /* Called with every trial once committed; non-zero stops the run. */
    int (*on_trial)(void *user, const struct trial *t, int64_t run_id);
    void *user;
};

struct pipeline {
    struct db *db;
    const struct scenario *sc;
    struct torture *t;
    struct pipeline_opts o;
    int64_t run_id;
    int resumed;          /* an unfinished run was picked up */
    int none_to_resume;   /* --resume found none: a new run was begun */
    uint64_t done_before; /* its trials already committed */
    uint64_t planned;     /* trials this process is to run */
    uint8_t *skip;        /* per planned trial: committed already */
    uint32_t *worst;      /* per erase unit: most erases of any trial */
    uint32_t worst_unit_erases;
    int storage_rc; /* the first database error of a trial insert */
    int torture_rc; /* what the torture loop returned */
    struct torture_result res;
    /* PIPELINE_INPUT on --resume of a finished run: which, and how. */
    int64_t finished_run;
    enum db_run_status finished_status;
};

/*
 * Set p up for t (built from sc) into db: the run row, new or resumed,
 * and which trials are left. PIPELINE_PASSED (0) when there is a run to
 * go on with; otherwise the status to end with (the message printed,
 * except for a finished run on --resume: finished_run says which).
 */
int pipeline_begin(struct pipeline *p, struct db *db, const struct scenario *sc,
                   struct torture *t, const struct pipeline_opts *o);

/* Run the trials left, then the wear rows and the run's end. */
int pipeline_run(struct pipeline *p);

void pipeline_free(struct pipeline *p);

#endif /* FOTASIM_PIPELINE_H */
