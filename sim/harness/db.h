/*
 * db: the SQLite outcome log (schema in docs/database.md).
 *
 * One writer per database. Trials are inserted in batched transactions in
 * WAL mode, so a run killed at any instant loses at most its open batch and
 * `fotasim run --resume` carries on from the last committed trial.
 *
 * CONTRACT: the torture loop and the CLI are written against this API; add
 * functions, do not rename.
 */
#ifndef FOTASIM_DB_H
#define FOTASIM_DB_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "scenario.h"
#include "trial.h"

#define DB_SCHEMA_VERSION 3

struct db; /* opaque */

enum db_run_status {
    RUN_RUNNING = 0,
    RUN_PASSED = 1,
    RUN_FAILED = 2,
    RUN_INTERRUPTED = 3
};

struct db_run_info {
    int64_t run_id;
    uint64_t seed;
    uint64_t boundaries; /* write boundaries of the uncut update */
    uint64_t trials_planned;
    uint64_t trials_done; /* committed trials */
    uint64_t next_trial;  /* first trial id not committed */
};

/* Open (create) path. Refuses a file that is not a fotasim database or has
 * another schema version, with a message in err. */
int db_open(struct db **out, const char *path, char *err, size_t errlen);
void db_close(struct db *db);

/* New run: stores scenario text, seed, engine config, tool version, start. */
int db_run_begin(struct db *db, const struct scenario *sc, uint64_t boundaries,
                 uint64_t trials_planned, struct db_run_info *info);
/* Latest unfinished run of the same scenario text, seed and shard, for
 * --resume: 1 found (info filled), 0 none, -1 error. */
int db_run_find_resumable(struct db *db, const struct scenario *sc,
                          uint64_t shard_index, uint64_t shard_count,
                          struct db_run_info *info);
/* Record which slice of the plan a run holds (--shard I/N). */
int db_run_set_shard(struct db *db, int64_t run_id, uint64_t index,
                     uint64_t count);
/* Mark done[id] = 1 for every trial the run holds (ids < planned). */
int db_trials_done(struct db *db, int64_t run_id, uint8_t *done,
                   uint64_t planned, uint64_t *count);
/* Combine shard databases into one run in out (a new file). Checks that
 * the shards are of one scenario, seed and tool version, none still
 * running, none missing or twice; writes what it found to report. */
int db_merge(const char *out, char *const *in, int nin, char *err,
             size_t errlen, FILE *report);
int db_run_end(struct db *db, int64_t run_id, enum db_run_status status);

/* Buffered: committed every batch_size trials and at db_flush/db_run_end. */
int db_trial_add(struct db *db, int64_t run_id, const struct trial *t);
int db_flush(struct db *db);
/* Per erase-unit wear of the uncut update and of the worst trial. */
int db_wear_add(struct db *db, int64_t run_id, uint32_t unit,
                uint32_t erases_update, uint32_t erases_max);
/* Read back one trial (replay). */
int db_trial_get(struct db *db, int64_t run_id, uint64_t trial_id,
                 struct trial *t, struct scenario *sc_out);
const char *db_errmsg(struct db *db);

#endif /* FOTASIM_DB_H */
