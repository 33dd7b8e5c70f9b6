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

#define DB_SCHEMA_VERSION 4

struct db;      /* opaque */
struct sqlite3; /* <sqlite3.h>: only db.c and report.c use it */

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

/*
 * Errors. Every int function returns 0 (or the positive value it
 * documents) on success and one of these on failure, with a message in
 * err or db_errmsg that names the file, the cause and what was being done:
 * "r.db: disk full: commit of 256 rows: database or disk is full (No
 * space left on device)".
 */
enum db_error {
    /* The file is not what was asked for: not a fotasim database, another
     * schema version, no such file or trial, an empty file name, a field
     * outside its range (a database is untrusted input). */
    DB_E_INPUT = -2,
    /* SQLite or the file system failed: disk full, I/O error, read-only,
     * locked, corrupt, cannot open, out of memory. */
    DB_E_STORAGE = -3,
    /* db_run_end(RUN_PASSED) while trials of the run's slice of the plan
     * are not committed: the run is not marked passed. */
    DB_E_INCOMPLETE = -4
};

/* Open (create) path for writing. Refuses a file that is not a fotasim
 * database or has another schema version (DB_E_INPUT), and a file or file
 * system it cannot write (DB_E_STORAGE), with a message in err. */
int db_open(struct db **out, const char *path, char *err, size_t errlen);
/* Open an existing database read-only (replay, report, merge inputs):
 * nothing is created or upgraded, a missing file is DB_E_INPUT. Reads
 * schema versions 2 to 4; a file on a read-only file system is read as
 * it is (SQLite's immutable mode) when no write-ahead log is beside it. */
int db_open_readonly(struct db **out, const char *path, char *err,
                     size_t errlen);
/* Commit the open batch and close. Returns the commit's error (the
 * handle is freed either way: call db_flush first to read the message). */
int db_close(struct db *db);

/* New run: stores scenario text, seed, engine config, tool version, start. */
int db_run_begin(struct db *db, const struct scenario *sc, uint64_t boundaries,
                 uint64_t trials_planned, struct db_run_info *info);
/* Latest unfinished run of the same scenario text, seed and shard, for
 * --resume: 1 found (info filled, marked running again), 0 none, < 0
 * error. */
int db_run_find_resumable(struct db *db, const struct scenario *sc,
                          uint64_t shard_index, uint64_t shard_count,
                          struct db_run_info *info);
/* Latest finished (passed or failed) run of the same scenario text, seed,
 * shard and version: 1 found (run_id and status filled), 0 none, < 0
 * error. --resume refuses to start over when there is one. */
int db_run_find_finished(struct db *db, const struct scenario *sc,
                         uint64_t shard_index, uint64_t shard_count,
                         int64_t *run_id, enum db_run_status *status);
/* Trials of the run's slice of the plan that are committed, and how many
 * the slice holds (trials_planned over shard_count). */
int db_run_count(struct db *db, int64_t run_id, uint64_t *committed,
                 uint64_t *expected);
/* Record which slice of the plan a run holds (--shard I/N). */
int db_run_set_shard(struct db *db, int64_t run_id, uint64_t index,
                     uint64_t count);
/* Mark done[id] = 1 for every trial the run holds (ids < planned). */
int db_trials_done(struct db *db, int64_t run_id, uint8_t *done,
                   uint64_t planned, uint64_t *count);
/* Combine shard databases into one run in out (a new file). The shards
 * are opened read-only and checked field by field before use (they are
 * untrusted): one scenario, seed, plan and tool version, a valid shard
 * index and count, every trial inside its slice, none still running, none
 * missing or twice; writes what it found to report. */
int db_merge(const char *out, char *const *in, int nin, char *err,
             size_t errlen, FILE *report);
/* Commit the open batch and record the run's status and end time. Refuses
 * RUN_PASSED (DB_E_INCOMPLETE, status left as it was) unless every trial of
 * the run's slice of the plan is committed, checked in the transaction
 * that writes the status. When the batch cannot be committed it is rolled
 * back, the status is still written if the file takes it, and the commit's
 * error is returned. */
int db_run_end(struct db *db, int64_t run_id, enum db_run_status status);

/* Buffered: committed every 256 trials, 0.5 s after the last commit, and
 * at db_flush/db_run_end. A failure leaves the batch's trials uncommitted
 * (the caller must stop: see db_run_end). */
int db_trial_add(struct db *db, int64_t run_id, const struct trial *t);
int db_flush(struct db *db);
/* Per erase-unit wear of the uncut update and of the worst trial. A row
 * the run already holds keeps the larger erases_max, so a resumed run,
 * which sees only its own trials, still stores the worst of all. */
int db_wear_add(struct db *db, int64_t run_id, uint32_t unit,
                uint32_t erases_update, uint32_t erases_max);
/* The engine build this program has, kept in each new run's runs.engine
 * after the engine's version ("" or NULL: as released; a mutant's name
 * for the teeth builds). Process-wide. */
void db_set_engine_build(const char *build);

/* Store a finished sweep: its key, cut rate, the table and recommendation
 * as printed (lead), the best and runner-up row (-1: none), its exit
 * status, and one row per value, in one transaction. */
struct sweep_row;
int db_sweep_add(struct db *db, const char *key, const char *cut_rate,
                 const char *lead, const struct sweep_row *rows, int n,
                 int best, int second, int status);
/* The lead of the latest sweep whose every run the file holds (malloc'd,
 * the caller frees it), with its time in when; *lead NULL when there is
 * none (schema before 4 included). 0 or an error. */
int db_sweep_lead(struct db *db, char **lead, char *when, size_t whenlen);

/* Read back one trial (replay). */
int db_trial_get(struct db *db, int64_t run_id, uint64_t trial_id,
                 struct trial *t, struct scenario *sc_out);
const char *db_errmsg(struct db *db);

/* The SQLite connection, for the report's read-only queries. */
struct sqlite3 *db_sqlite(struct db *db);
/* After a failed SQLite call on db_sqlite(db): put "path: cause: what:
 * message" in db_errmsg and return DB_E_INPUT or DB_E_STORAGE. */
int db_sqlite_error(struct db *db, const char *what);

/* libfiu fault points (docs/database.md), consulted only when FOTASIM_FIU
 * is set (not "0") or fiu-run set FIU_ENABLE when the database was
 * opened: fotasim/db/open, fotasim/db/prepare, fotasim/db/step,
 * fotasim/db/commit. A point that fires fails its call as SQLite would
 * with the result code in its failinfo (SQLITE_IOERR when 0). */

#endif /* FOTASIM_DB_H */
