/*
 * The SQLite outcome log: round trip of every trial field, batching by
 * count, the views, resume, a real SIGKILL in the middle of batched
 * inserts, the v2 -> v3 upgrade, and the refusals (foreign, other schema
 * version, corrupt); storage failures through the libfiu points, a passed
 * status refused while trials are missing, wear kept across a resume,
 * read-only opens, and merge inputs that are hostile.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <fiu-control.h>
#include <fiu.h>
#include <sqlite3.h>

#include "db.h"
#include "scenario.h"
#include "sweep.h"
#include "tmpdir.h"

static char scen[600];

/* The scratch directory and the scenario every run here logs. */
static int setup(void **state)
{
    if (tmpdir_setup(state))
        return -1;
    snprintf(scen, sizeof(scen), "%s",
             tmpdir_write("s.ini", "[scenario]\nname = dbt\nseed = 42\n"
                                   "[image]\nsize = 64K\n"));
    return 0;
}

static void load(struct scenario *sc)
{
    char err[512];
    if (scenario_load(sc, scen, err, sizeof(err)))
        fail_msg("%s", err);
}

static void fill_trial(struct trial *t, uint64_t id)
{
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->seed = id * 7 + 1;
    t->depth = 2;
    t->cuts[0] = id;
    t->cuts[1] = 3;
    t->cut_op[0] = SIM_OP_ERASE;
    t->cut_addr[0] = 0x3000;
    t->cut_area[0] = CUT_AREA_RECORD;
    t->verdict = id % 5 ? VERDICT_RECOVERED_EXTRA : VERDICT_SILENT_CORRUPTION;
    t->failed = id % 5 == 0;
    t->engine_error = -4;
    t->violation = SIM_VIOL_NAND_NOP;
    snprintf(t->detail, sizeof(t->detail), "trial %llu: <\"odd\"> 'text'",
             (unsigned long long)id);
    t->bytes_downloaded = 70000 + id;
    t->bytes_redownloaded = id % 7 == 3 ? 8192 : 4096;
    t->blocks_redownloaded = id % 7 == 3 ? 2 : 1;
    t->boots = 2;
    t->erases = 4;
    t->programs = 40;
    t->recover_ns = 123456789;
    t->scan_ns = 2345678;
    t->blocks_resumed = 9;
    t->false_claim = id % 11 == 0 ? 6 : 0;
    t->wall_ns = 5555;
}

/* Open path and begin a run of the test scenario (boundaries and planned
 * trials as given), with trials 0..n-1 added. */
static struct db *run_with_trials(const char *path, struct scenario *sc,
                                  uint64_t boundaries, uint64_t planned,
                                  uint64_t n, struct db_run_info *info)
{
    struct db *db;
    struct trial t;
    char err[512];
    uint64_t i;
    load(sc);
    if (db_open(&db, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(db_run_begin(db, sc, boundaries, planned, info), 0);
    for (i = 0; i < n; i++) {
        fill_trial(&t, i);
        assert_int_equal(db_trial_add(db, info->run_id, &t), 0);
    }
    return db;
}

/* One integer from a query on a separate connection: what a reader (or a
 * process after a crash) sees, committed rows only. */
static long long query_int(const char *path, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    long long v = -1;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static char *query_text(const char *path, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    char *v = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static void sql(const char *path, const char *text)
{
    sqlite3 *h;
    char *e = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    if (sqlite3_exec(h, text, NULL, NULL, &e) != SQLITE_OK)
        fail_msg("%s: %s", text, e);
    sqlite3_close(h);
}

/* ------------------------------------------------------------ round trip */

static void test_round_trip_every_field(void **state)
{
    const char *path = tmpdir_path("rt.db");
    struct db *db;
    struct scenario sc, sc2;
    struct db_run_info info;
    struct trial t, back;
    (void)state;
    db = run_with_trials(path, &sc, 1000, 100, 100, &info);
    assert_true(info.run_id > 0);
    assert_int_equal(db_run_end(db, info.run_id, RUN_FAILED), 0);

    memset(&sc2, 0, sizeof(sc2));
    fill_trial(&t, 33);
    assert_int_equal(db_trial_get(db, info.run_id, 33, &back, &sc2), 0);
    /* Only the first cut's op/address/area are stored. */
    assert_int_equal(back.id, t.id);
    assert_int_equal(back.seed, t.seed);
    assert_int_equal(back.depth, t.depth);
    assert_memory_equal(back.cuts, t.cuts, sizeof(t.cuts[0]) * 2);
    assert_int_equal(back.cut_op[0], t.cut_op[0]);
    assert_int_equal(back.cut_addr[0], t.cut_addr[0]);
    assert_int_equal(back.cut_area[0], t.cut_area[0]);
    assert_int_equal(back.verdict, t.verdict);
    assert_int_equal(back.failed, t.failed);
    assert_int_equal(back.engine_error, t.engine_error);
    assert_int_equal(back.violation, t.violation);
    assert_string_equal(back.detail, t.detail);
    assert_int_equal(back.bytes_downloaded, t.bytes_downloaded);
    assert_int_equal(back.bytes_redownloaded, t.bytes_redownloaded);
    assert_int_equal(back.blocks_redownloaded, t.blocks_redownloaded);
    assert_int_equal(back.boots, t.boots);
    assert_int_equal(back.erases, t.erases);
    assert_int_equal(back.programs, t.programs);
    assert_int_equal(back.recover_ns, t.recover_ns);
    assert_int_equal(back.scan_ns, t.scan_ns);
    assert_int_equal(back.blocks_resumed, t.blocks_resumed);
    assert_int_equal(back.false_claim, t.false_claim);
    assert_int_equal(back.wall_ns, t.wall_ns);
    /* The stored scenario text parses back into the same scenario. */
    assert_string_equal(sc2.name, "dbt");
    assert_int_equal(sc2.seed, 42);
    assert_int_equal(sc2.image.size, 65536);
    scenario_free(&sc2);

    assert_int_equal(db_trial_get(db, info.run_id, 100, &back, NULL),
                     DB_E_INPUT);
    {
        char want[700];
        snprintf(want, sizeof(want), "%s: no trial 100 in run 1", path);
        assert_string_equal(db_errmsg(db), want);
    }
    db_close(db);

    assert_int_equal(query_int(path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
    assert_int_equal(query_int(path, "PRAGMA application_id"), 0x464F5441);
    {
        char *mode = query_text(path, "PRAGMA journal_mode");
        assert_string_equal(mode, "wal");
        free(mode);
    }
    assert_int_equal(query_int(path, "SELECT count(*) FROM runs WHERE "
                                     "status = 'failed' AND ended_at IS NOT "
                                     "NULL AND tool_version <> ''"),
                     1);
    scenario_free(&sc);
}

static void test_views(void **state)
{
    const char *path = tmpdir_path("views.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    char want[700], *replay;
    (void)state;
    db = run_with_trials(path, &sc, 500, 500, 500, &info);
    assert_int_equal(db_wear_add(db, info.run_id, 3, 17, 19), 0);
    assert_int_equal(db_run_end(db, info.run_id, RUN_FAILED), 0);
    db_close(db);

    assert_int_equal(query_int(path, "SELECT trials FROM v_verdicts_per_run "
                                     "WHERE verdict = 'silent_corruption'"),
                     100);
    assert_int_equal(query_int(path, "SELECT failing FROM v_verdicts_per_run "
                                     "WHERE verdict = 'recovered_extra'"),
                     0);
    /* Trials 3, 10, 17, ..., 493 re-downloaded the most: 71 of them. */
    assert_int_equal(query_int(path, "SELECT count(*) FROM v_worst_redownload"),
                     71);
    assert_int_equal(query_int(path, "SELECT min(bytes_redownloaded) FROM "
                                     "v_worst_redownload"),
                     8192);
    assert_int_equal(query_int(path, "SELECT count(*) FROM v_failed_cuts"),
                     100);
    /* The replay command names the file as SQLite opened it. */
    replay = query_text(path, "SELECT replay FROM v_failed_cuts WHERE "
                              "trial_id = 5");
    snprintf(want, sizeof(want), "fotasim replay %s --run 1 --trial 5", path);
    assert_non_null(replay);
    assert_string_equal(replay, want);
    free(replay);
    assert_int_equal(query_int(path, "SELECT erases_max FROM wear WHERE "
                                     "unit = 3"),
                     19);
    scenario_free(&sc);
}

/* ------------------------------------------------------------ batching */

static void test_batches_commit_by_count(void **state)
{
    const char *path = tmpdir_path("batch.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    struct trial t;
    char err[512];
    uint64_t i;
    (void)state;
    load(&sc);
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_run_begin(db, &sc, 10, 1000, &info), 0);
    /* 255 trials stay in the open batch (this takes well under the half
     * second that would commit it by time)... */
    for (i = 0; i < 255; i++) {
        fill_trial(&t, i);
        assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    }
    assert_int_equal(query_int(path, "SELECT count(*) FROM trials"), 0);
    /* ...the 256th commits them. */
    fill_trial(&t, 255);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    assert_int_equal(query_int(path, "SELECT count(*) FROM trials"), 256);
    fill_trial(&t, 256);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    assert_int_equal(query_int(path, "SELECT count(*) FROM trials"), 256);
    assert_int_equal(db_flush(db), 0);
    assert_int_equal(query_int(path, "SELECT count(*) FROM trials"), 257);
    db_close(db);
    scenario_free(&sc);
}

static void test_batches_commit_by_time(void **state)
{
    const char *path = tmpdir_path("time.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    struct trial t;
    struct timespec pause = {0, 600 * 1000 * 1000};
    (void)state;
    db = run_with_trials(path, &sc, 10, 10, 1, &info);
    nanosleep(&pause, NULL);
    /* A slow run (long trials) commits each trial past half a second. */
    fill_trial(&t, 1);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    assert_int_equal(query_int(path, "SELECT count(*) FROM trials"), 2);
    db_close(db);
    scenario_free(&sc);
}

/* ------------------------------------------------------------ crash */

/* A writer that never stops: trials in id order, in batches, until it is
 * killed. It tells the parent on fd once its run row is committed. */
static void writer_child(const char *path, int fd)
{
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    struct trial t;
    char err[512];
    uint64_t id;
    int found;
    if (scenario_load(&sc, scen, err, sizeof(err)) ||
        db_open(&db, path, err, sizeof(err)))
        _exit(3);
    found = db_run_find_resumable(db, &sc, 0, 1, &info);
    if (found < 0 ||
        (!found && db_run_begin(db, &sc, 1u << 30, 1u << 30, &info)))
        _exit(4);
    id = found ? info.next_trial : 0;
    if (write(fd, "r", 1) != 1)
        _exit(5);
    for (;; id++) {
        fill_trial(&t, id);
        if (db_trial_add(db, info.run_id, &t))
            _exit(6);
    }
}

/* Kill the writer ms after it committed trials beyond the first prev: a
 * fixed delay alone may end before the first commit on a loaded machine
 * (the sanitizers, other jobs), and the round would prove nothing. */
static void kill_writer_after(const char *path, long ms, long long prev)
{
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    struct timespec poll_pause = {0, 20 * 1000 * 1000};
    int fds[2], status, tries;
    char c;
    pid_t pid;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        writer_child(path, fds[1]);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    for (tries = 0;
         tries < 1000 && query_int(path, "SELECT count(*) FROM trials") <= prev;
         tries++)
        nanosleep(&poll_pause, NULL);
    nanosleep(&pause, NULL);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_sigkill_loses_at_most_the_open_batch(void **state)
{
    const char *path = tmpdir_path("kill.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    struct trial t;
    char err[512], *ok;
    long long n, prev = 0;
    int round;
    (void)state;
    load(&sc);
    for (round = 0; round < 3; round++) {
        kill_writer_after(path, 150, prev);
        ok = query_text(path, "PRAGMA integrity_check");
        assert_non_null(ok);
        assert_string_equal(ok, "ok");
        free(ok);
        /* Committed trials are all there, with no gap: ids 0..n-1. */
        n = query_int(path, "SELECT count(*) FROM trials");
        assert_true(n > prev);
        assert_int_equal(query_int(path, "SELECT max(trial_id) + 1 FROM "
                                         "trials"),
                         n);
        assert_int_equal(query_int(path, "SELECT count(*) FROM runs"), 1);
        /* --resume finds the run and the next trial to run. */
        assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
        assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &info), 1);
        assert_int_equal(info.run_id, 1);
        assert_int_equal(info.next_trial, (uint64_t)n);
        assert_int_equal(info.trials_done, (uint64_t)n);
        /* Another shard of the same scenario is another run. */
        {
            struct db_run_info other;
            assert_int_equal(db_run_find_resumable(db, &sc, 1, 2, &other), 0);
        }
        db_close(db);
        prev = n;
    }
    /* Finish the run: nothing left to resume. Most of its 2^30 planned
     * trials never ran, so it cannot be marked passed. */
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &info), 1);
    fill_trial(&t, info.next_trial);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), DB_E_INCOMPLETE);
    assert_int_equal(db_run_end(db, info.run_id, RUN_FAILED), 0);
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &info), 0);
    db_close(db);
    scenario_free(&sc);
}

static void test_interrupted_run_is_resumable(void **state)
{
    const char *path = tmpdir_path("int.db");
    struct db *db;
    struct scenario sc, other;
    struct db_run_info info, again;
    (void)state;
    db = run_with_trials(path, &sc, 10, 10, 1, &info);
    assert_int_equal(db_run_end(db, info.run_id, RUN_INTERRUPTED), 0);
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &again), 1);
    assert_int_equal(again.next_trial, 1);
    /* Another seed is another run. */
    load(&other);
    other.seed = 43;
    assert_int_equal(db_run_find_resumable(db, &other, 0, 1, &again), 0);
    db_close(db);
    /* A run another fotasim version began is not carried on by this one. */
    sql(path, "UPDATE runs SET tool_version = '0.0.1'");
    {
        char err[512];
        assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    }
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &again), 0);
    db_close(db);
    scenario_free(&sc);
    scenario_free(&other);
}

/* ------------------------------------------------------------ versions */

static void test_upgrades_version_2(void **state)
{
    const char *path = tmpdir_path("v2.db");
    struct db *db;
    struct trial back;
    char err[512];
    (void)state;
    /* A version 2 file as fotasim 0.x wrote it (no false_claim column). */
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    db_close(db);
    sql(path, "DROP VIEW v_failed_cuts; DROP VIEW v_worst_redownload;"
              "ALTER TABLE trials DROP COLUMN false_claim;"
              "ALTER TABLE runs DROP COLUMN engine;"
              "DROP TABLE sweep_values; DROP TABLE sweeps;"
              "CREATE VIEW v_failed_cuts AS SELECT run_id, trial_id,"
              " printf('fotasim replay DB --run %d --trial %d', run_id,"
              " trial_id) AS replay FROM trials WHERE failed;"
              "CREATE VIEW v_worst_redownload AS SELECT * FROM trials;"
              "INSERT INTO runs (name, scenario_text, seed, tool_version,"
              " started_at, status) VALUES ('old', '[image]\nsize = 64K\n',"
              " 1, '0.1', 'then', 'passed');"
              "INSERT INTO trials (run_id, trial_id, depth, verdict,"
              " verdict_code, failed, cut1) VALUES (1, 0, 1, 'stuck', 4, 1,"
              " 77);"
              "PRAGMA user_version = 2;");
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_trial_get(db, 1, 0, &back, NULL), 0);
    assert_int_equal(back.cuts[0], 77);
    assert_int_equal(back.verdict, VERDICT_STUCK);
    assert_int_equal(back.false_claim, 0);
    db_close(db);
    assert_int_equal(query_int(path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
    assert_int_equal(query_int(path, "SELECT count(*) FROM v_failed_cuts "
                                     "WHERE replay NOT LIKE '%replay DB %'"),
                     1);
}

/* Version 3 (no runs.engine, no sweep tables) upgrades in place: the old
 * run stays, says nothing of its engine, and sweeps can be stored. */
static void test_upgrades_version_3_and_keeps_sweeps(void **state)
{
    const char *path = tmpdir_path("v3.db");
    struct db *db;
    struct sweep_row rows[2];
    char err[512], when[32], *lead = NULL;
    (void)state;
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    db_close(db);
    sql(path, "ALTER TABLE runs DROP COLUMN engine;"
              "DROP TABLE sweep_values; DROP TABLE sweeps;"
              "INSERT INTO runs (name, scenario_text, seed, tool_version,"
              " started_at, status) VALUES ('old', '[image]\nsize = 64K\n',"
              " 1, '0.2', 'then', 'passed');"
              "PRAGMA user_version = 3;");
    /* Read-only, it is read as it is. */
    assert_int_equal(db_open_readonly(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_sweep_lead(db, &lead, when, sizeof(when)), 0);
    assert_null(lead);
    db_close(db);
    assert_int_equal(query_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_int_equal(query_int(path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
    assert_int_equal(
        query_int(path, "SELECT count(*) FROM runs WHERE engine IS NULL"), 1);
    assert_int_equal(db_sweep_lead(db, &lead, when, sizeof(when)), 0);
    assert_null(lead);
    memset(rows, 0, sizeof(rows));
    snprintf(rows[0].value, sizeof(rows[0].value), "4K");
    rows[0].ok = 1;
    rows[0].run_id = 1;
    rows[0].trials = 10;
    rows[0].expected_s = 1.5;
    snprintf(rows[1].value, sizeof(rows[1].value), "3K");
    snprintf(rows[1].why, sizeof(rows[1].why), "not a power of two");
    assert_int_equal(db_sweep_add(db, "engine.block_size", "1 per update",
                                  "best: engine.block_size = 4K\n", rows, 2, 0,
                                  -1, 0),
                     0);
    assert_int_equal(db_sweep_lead(db, &lead, when, sizeof(when)), 0);
    assert_non_null(lead);
    assert_string_equal(lead, "best: engine.block_size = 4K\n");
    assert_true(strlen(when) == 20);
    free(lead);
    db_close(db);
    assert_int_equal(query_int(path, "SELECT count(*) FROM sweep_values"
                                     " WHERE run_id IS NULL AND ran = 0 AND"
                                     " reason = 'not a power of two'"),
                     1);
    assert_int_equal(query_int(path, "SELECT count(*) FROM sweeps WHERE best"
                                     " = '4K' AND runner_up IS NULL"),
                     1);
    /* A sweep whose run the file no longer holds is not shown. */
    sql(path, "UPDATE sweep_values SET run_id = 7 WHERE idx = 0");
    assert_int_equal(db_open_readonly(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_sweep_lead(db, &lead, when, sizeof(when)), 0);
    assert_null(lead);
    db_close(db);
}

static void test_refuses_foreign_other_version_and_corrupt(void **state)
{
    const char *path;
    struct db *db;
    char err[512], want[700];
    FILE *fp;
    int i;
    (void)state;

    path = tmpdir_path("foreign.db");
    sql(path, "CREATE TABLE notes(x)");
    assert_int_not_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_null(db);
    snprintf(want, sizeof(want),
             "%s: not a fotasim database (application_id 0x0, fotasim "
             "writes 0x464f5441)",
             path);
    assert_string_equal(err, want);

    path = tmpdir_path("future.db");
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    db_close(db);
    sql(path, "PRAGMA user_version = 9");
    assert_int_not_equal(db_open(&db, path, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s: schema version 9, this fotasim reads %d",
             path, DB_SCHEMA_VERSION);
    assert_string_equal(err, want);
    sql(path, "PRAGMA user_version = 1"); /* too old to upgrade */
    assert_int_not_equal(db_open(&db, path, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s: schema version 1, this fotasim reads %d",
             path, DB_SCHEMA_VERSION);
    assert_string_equal(err, want);

    path = tmpdir_path("text.db");
    fp = fopen(path, "w");
    assert_non_null(fp);
    for (i = 0; i < 100; i++)
        fputs("this is not a database, only text that is long enough\n", fp);
    fclose(fp);
    assert_int_not_equal(db_open(&db, path, err, sizeof(err)), 0);
    snprintf(want, sizeof(want),
             "%s: not a database or corrupt: file is not a database", path);
    assert_string_equal(err, want);
}

/* A real database whose pages past the first are overwritten: the header
 * still reads, so the damage shows at the first query that touches it;
 * either way the message says what is wrong with which file. */
static void test_damaged_pages_are_reported(void **state)
{
    const char *path = tmpdir_path("damaged.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    char err[512], junk[4096], want[700];
    FILE *fp;
    long size;
    int rc;
    (void)state;
    db = run_with_trials(path, &sc, 10, 3000, 3000, &info);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), 0);
    db_close(db);
    sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
    memset(junk, 0xA5, sizeof(junk));
    fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    for (long at = 4096; at < size; at += 4096) {
        fseek(fp, at, SEEK_SET);
        fwrite(junk, 1, sizeof(junk), fp);
    }
    fclose(fp);
    snprintf(want, sizeof(want), "%s: not a database or corrupt: ", path);
    rc = db_open(&db, path, err, sizeof(err));
    if (rc) {
        assert_memory_equal(err, want, strlen(want));
    } else {
        assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &info),
                         DB_E_STORAGE);
        assert_memory_equal(db_errmsg(db), want, strlen(want));
        db_close(db);
    }
    scenario_free(&sc);
}

/* ------------------------------------------------------------ storage */

static int contains(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

/* Each libfiu point fails its call with the cause its failinfo names, and
 * the message says which cause and which point. */
static void test_fiu_points_fail_with_a_named_cause(void **state)
{
    const char *path = tmpdir_path("fiu.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    struct trial t;
    char err[512];
    int i;
    (void)state;
    setenv("FOTASIM_FIU", "1", 1);
    fiu_init(0);
    db = run_with_trials(path, &sc, 10, 300, 10, &info);

    /* An insert that finds the disk full. */
    assert_int_equal(
        fiu_enable("fotasim/db/step", 1, (void *)(intptr_t)SQLITE_FULL, 0), 0);
    fill_trial(&t, 10);
    assert_int_equal(db_trial_add(db, info.run_id, &t), DB_E_STORAGE);
    fiu_disable("fotasim/db/step");
    assert_true(contains(db_errmsg(db), ": disk full: insert trial 10: "));
    assert_true(contains(db_errmsg(db), "fotasim/db/step"));
    assert_true(contains(db_errmsg(db), path));

    /* A commit that fails with an I/O error: the batch is not in the
     * file, and the run cannot be marked passed. */
    assert_int_equal(
        fiu_enable("fotasim/db/commit", 1, (void *)(intptr_t)SQLITE_IOERR, 0),
        0);
    for (i = 10; i < 300; i++) {
        int rc;
        fill_trial(&t, (uint64_t)i);
        if ((rc = db_trial_add(db, info.run_id, &t)))
            break;
    }
    assert_true(i < 300);
    assert_true(contains(db_errmsg(db), ": I/O error: commit of "));
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), DB_E_STORAGE);
    fiu_disable("fotasim/db/commit");
    assert_int_equal(query_int(path, "SELECT count(*) FROM runs WHERE "
                                     "status = 'passed'"),
                     0);

    /* A statement the file refuses to prepare (read-only), and one that
     * reads a damaged page. */
    assert_int_equal(fiu_enable("fotasim/db/prepare", 1,
                                (void *)(intptr_t)SQLITE_READONLY, 0),
                     0);
    assert_int_equal(db_run_begin(db, &sc, 10, 10, &info), DB_E_STORAGE);
    fiu_disable("fotasim/db/prepare");
    assert_true(contains(db_errmsg(db), ": read-only: new run: "));
    assert_int_equal(
        fiu_enable("fotasim/db/step", 1, (void *)(intptr_t)SQLITE_CORRUPT, 0),
        0);
    assert_int_equal(db_trial_get(db, 1, 0, &t, NULL), DB_E_STORAGE);
    fiu_disable("fotasim/db/step");
    assert_true(contains(db_errmsg(db), ": not a database or corrupt: "));
    db_close(db);

    /* An open that finds the file locked; without failinfo, an I/O
     * error. */
    assert_int_equal(
        fiu_enable("fotasim/db/open", 1, (void *)(intptr_t)SQLITE_BUSY, 0), 0);
    assert_int_equal(db_open(&db, path, err, sizeof(err)), DB_E_STORAGE);
    assert_true(contains(err, ": locked: "));
    fiu_disable("fotasim/db/open");
    assert_int_equal(fiu_enable("fotasim/db/open", 1, NULL, 0), 0);
    assert_int_equal(db_open_readonly(&db, path, err, sizeof(err)),
                     DB_E_STORAGE);
    assert_true(contains(err, ": I/O error: "));
    fiu_disable("fotasim/db/open");

    /* Off unless asked for: the same point enabled, no FOTASIM_FIU. */
    unsetenv("FOTASIM_FIU");
    unsetenv("FIU_ENABLE");
    assert_int_equal(fiu_enable("fotasim/db/open", 1, NULL, 0), 0);
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    fiu_disable("fotasim/db/open");
    db_close(db);
    scenario_free(&sc);
}

/* db_run_end itself refuses a passed status while trials of the run's
 * slice are not committed, whatever the caller believes. */
static void test_passed_needs_every_trial_of_the_slice(void **state)
{
    const char *path = tmpdir_path("passed.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info, again;
    struct trial t;
    uint64_t committed, expected;
    char *status;
    (void)state;
    db = run_with_trials(path, &sc, 10, 10, 9, &info);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), DB_E_INCOMPLETE);
    assert_true(contains(db_errmsg(db), "9 of the 10 trials"));
    status = query_text(path, "SELECT status FROM runs");
    assert_string_equal(status, "running");
    free(status);
    /* Still resumable; once trial 9 is in, it passes. */
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &again), 1);
    fill_trial(&t, 9);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    assert_int_equal(db_run_count(db, info.run_id, &committed, &expected), 0);
    assert_int_equal(committed, 10);
    assert_int_equal(expected, 10);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), 0);

    /* A shard's slice: shard 1 of 3 of a 10-trial plan is 1, 4, 7. A
     * trial of another slice does not count. */
    assert_int_equal(db_run_begin(db, &sc, 10, 10, &info), 0);
    assert_int_equal(db_run_set_shard(db, info.run_id, 1, 3), 0);
    fill_trial(&t, 1);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    fill_trial(&t, 4);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    fill_trial(&t, 5);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), DB_E_INCOMPLETE);
    fill_trial(&t, 7);
    assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    assert_int_equal(db_run_count(db, info.run_id, &committed, &expected), 0);
    assert_int_equal(committed, 3);
    assert_int_equal(expected, 3);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), 0);
    /* A failed or interrupted run may lack trials. */
    assert_int_equal(db_run_begin(db, &sc, 10, 10, &info), 0);
    assert_int_equal(db_run_end(db, info.run_id, RUN_INTERRUPTED), 0);
    /* A damaged run row (shard_count 0) is an error, not a division by
     * zero. */
    sql(path, "UPDATE runs SET shard_count = 0 WHERE id = 3");
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), DB_E_INPUT);
    db_close(db);
    scenario_free(&sc);
}

/* --resume: the run after a finished one is refused by the CLI; here the
 * lookup it uses. */
static void test_finished_run_is_found(void **state)
{
    const char *path = tmpdir_path("fin.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    enum db_run_status st;
    int64_t id;
    (void)state;
    db = run_with_trials(path, &sc, 10, 3, 3, &info);
    assert_int_equal(db_run_find_finished(db, &sc, 0, 1, &id, &st), 0);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), 0);
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &info), 0);
    assert_int_equal(db_run_find_finished(db, &sc, 0, 1, &id, &st), 1);
    assert_int_equal(id, 1);
    assert_int_equal(st, RUN_PASSED);
    db_close(db);
    scenario_free(&sc);
}

/* A resumed run sees only its own trials: the wear row keeps the worst of
 * both parts. */
static void test_wear_keeps_the_worst_across_a_resume(void **state)
{
    const char *path = tmpdir_path("wear.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    (void)state;
    db = run_with_trials(path, &sc, 10, 10, 1, &info);
    assert_int_equal(db_wear_add(db, info.run_id, 3, 17, 19), 0);
    assert_int_equal(db_wear_add(db, info.run_id, 4, 17, 2), 0);
    assert_int_equal(db_run_end(db, info.run_id, RUN_INTERRUPTED), 0);
    /* The second part's trials wore unit 3 less and unit 4 more. */
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &info), 1);
    assert_int_equal(db_wear_add(db, info.run_id, 3, 17, 5), 0);
    assert_int_equal(db_wear_add(db, info.run_id, 4, 17, 8), 0);
    assert_int_equal(db_flush(db), 0);
    db_close(db);
    assert_int_equal(query_int(path, "SELECT erases_max FROM wear WHERE "
                                     "unit = 3"),
                     19);
    assert_int_equal(query_int(path, "SELECT erases_max FROM wear WHERE "
                                     "unit = 4"),
                     8);
    assert_int_equal(query_int(path, "SELECT count(*) FROM wear"), 2);
    scenario_free(&sc);
}

/* A read-only open creates nothing, upgrades nothing, and refuses an
 * empty name (SQLite would open a temporary database for ""). */
static void test_read_only_open(void **state)
{
    const char *path = tmpdir_path("ro.db"), *typo;
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    struct trial back;
    char err[512];
    (void)state;
    db = run_with_trials(path, &sc, 10, 3, 3, &info);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), 0);
    db_close(db);

    typo = tmpdir_path("typo.db");
    assert_int_equal(db_open_readonly(&db, typo, err, sizeof(err)), DB_E_INPUT);
    assert_null(db);
    assert_true(contains(err, "cannot open: No such file or directory"));
    assert_int_not_equal(access(typo, F_OK), 0);
    assert_int_equal(db_open_readonly(&db, "", err, sizeof(err)), DB_E_INPUT);
    assert_int_equal(db_open(&db, "", err, sizeof(err)), DB_E_INPUT);
    assert_string_equal(err, "empty database file name");

    assert_int_equal(db_open_readonly(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_trial_get(db, 1, 2, &back, NULL), 0);
    assert_int_equal(back.id, 2);
    db_close(db);
    /* Version 2 reads as it is; it stays version 2. */
    sql(path, "ALTER TABLE trials DROP COLUMN false_claim;"
              "PRAGMA user_version = 2;");
    assert_int_equal(db_open_readonly(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_trial_get(db, 1, 2, &back, NULL), 0);
    assert_int_equal(back.false_claim, 0);
    db_close(db);
    assert_int_equal(query_int(path, "PRAGMA user_version"), 2);
    /* A stored trial out of range is refused before it is used. */
    sql(path, "PRAGMA user_version = 3; ALTER TABLE trials ADD COLUMN"
              " false_claim INTEGER; UPDATE trials SET verdict_code = 200"
              " WHERE trial_id = 1");
    assert_int_equal(db_open_readonly(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_trial_get(db, 1, 1, &back, NULL), DB_E_INPUT);
    assert_true(contains(db_errmsg(db), "verdict_code 200"));
    db_close(db);
    scenario_free(&sc);
}

/* A database cut short: every use names it corrupt, never a crash or a
 * pass. */
static void test_truncated_database_is_reported(void **state)
{
    const char *path = tmpdir_path("trunc.db");
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    char err[512], want[700];
    long size;
    FILE *fp;
    int rc;
    (void)state;
    db = run_with_trials(path, &sc, 10, 3000, 3000, &info);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), 0);
    db_close(db);
    sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
    fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(path, size / 2), 0);
    snprintf(want, sizeof(want), "%s: not a database or corrupt: ", path);
    rc = db_open(&db, path, err, sizeof(err));
    assert_int_equal(rc, DB_E_STORAGE);
    assert_memory_equal(err, want, strlen(want));
    assert_int_equal(db_open_readonly(&db, path, err, sizeof(err)),
                     DB_E_STORAGE);
    assert_memory_equal(err, want, strlen(want));
    scenario_free(&sc);
}

/* ------------------------------------------------------------ merge */

/* Shard i of 3 of a 30-trial plan, finished, in name. */
static const char *shard_file(const char *name, int i)
{
    const char *path = tmpdir_path(name);
    struct db *db;
    struct scenario sc;
    struct db_run_info info;
    struct trial t;
    char err[512];
    uint64_t id;
    load(&sc);
    if (db_open(&db, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(db_run_begin(db, &sc, 30, 30, &info), 0);
    assert_int_equal(db_run_set_shard(db, info.run_id, (uint64_t)i, 3), 0);
    for (id = (uint64_t)i; id < 30; id += 3) {
        fill_trial(&t, id);
        t.failed = 0;
        assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    }
    assert_int_equal(db_wear_add(db, info.run_id, 1, 2, 3 + (uint32_t)i), 0);
    assert_int_equal(db_run_end(db, info.run_id, RUN_PASSED), 0);
    db_close(db);
    scenario_free(&sc);
    return path;
}

/* merge of s0, s1 (after damage applied to it) and s2 into out: refused,
 * with a message naming s1 and the field, and no output left behind. */
static void refused_merge(const char *damage, const char *field)
{
    char s0[600], s1[600], s2[600], out[600], err[1024];
    char *in[3];
    snprintf(s0, sizeof(s0), "%s", shard_file("m0.db", 0));
    snprintf(s1, sizeof(s1), "%s", shard_file("m1.db", 1));
    snprintf(s2, sizeof(s2), "%s", shard_file("m2.db", 2));
    snprintf(out, sizeof(out), "%s", tmpdir_path("merged.db"));
    sql(s1, damage);
    in[0] = s0;
    in[1] = s1;
    in[2] = s2;
    err[0] = 0;
    assert_int_equal(db_merge(out, in, 3, err, sizeof(err), NULL), DB_E_INPUT);
    if (!contains(err, s1) || !contains(err, field))
        fail_msg("'%s': wanted %s and %s", err, s1, field);
    assert_int_not_equal(access(out, F_OK), 0);
}

static void test_merge_refuses_hostile_shards(void **state)
{
    char s0[600], s1[600], s2[600], out[600], err[1024];
    char *in[3];
    (void)state;
    refused_merge("UPDATE runs SET shard_count = 0", "runs.shard_count 0");
    refused_merge("UPDATE runs SET shard_index = 1000000",
                  "runs.shard_index 1000000");
    refused_merge("UPDATE runs SET shard_index = -5", "runs.shard_index -5");
    refused_merge("UPDATE runs SET shard_count = 'three'",
                  "runs.shard_count is text");
    refused_merge("UPDATE runs SET trials_planned = -1",
                  "runs.trials_planned -1");
    /* Renumbered into another slice, or past the plan: the merged run
     * would silently lack trial 1. */
    refused_merge("UPDATE trials SET trial_id = 1001 WHERE trial_id = 1",
                  "trial 1001 lies outside shard 1/3");
    refused_merge("UPDATE trials SET trial_id = 2 WHERE trial_id = 1",
                  "trial 2 lies outside shard 1/3");
    refused_merge("UPDATE trials SET trial_id = 'x' WHERE trial_id = 1",
                  "trial 'x' lies outside");
    refused_merge("UPDATE trials SET run_id = 9 WHERE trial_id = 1",
                  "trials.run_id");
    refused_merge("PRAGMA ignore_check_constraints = 1;"
                  " UPDATE runs SET status = 'weird'",
                  "runs.status 'weird'");
    refused_merge("UPDATE runs SET trials_planned = 33",
                  "runs.trials_planned 33");

    /* The same three shards undamaged merge, wear taking the worst. */
    snprintf(s0, sizeof(s0), "%s", shard_file("m0.db", 0));
    snprintf(s1, sizeof(s1), "%s", shard_file("m1.db", 1));
    snprintf(s2, sizeof(s2), "%s", shard_file("m2.db", 2));
    snprintf(out, sizeof(out), "%s", tmpdir_path("merged.db"));
    in[0] = s0;
    in[1] = s1;
    in[2] = s2;
    assert_int_equal(db_merge(out, in, 3, err, sizeof(err), NULL), 0);
    assert_int_equal(query_int(out, "SELECT count(*) FROM trials"), 30);
    assert_int_equal(query_int(out, "SELECT erases_max FROM wear"), 5);
    assert_int_equal(query_int(out, "SELECT count(*) FROM runs WHERE"
                                    " status = 'passed'"),
                     1);
    /* The inputs were opened read-only: nothing was written to them. */
    assert_int_equal(query_int(s1, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(db_merge("", in, 3, err, sizeof(err), NULL), DB_E_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_field),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_batches_commit_by_count),
        cmocka_unit_test(test_batches_commit_by_time),
        cmocka_unit_test(test_sigkill_loses_at_most_the_open_batch),
        cmocka_unit_test(test_interrupted_run_is_resumable),
        cmocka_unit_test(test_upgrades_version_2),
        cmocka_unit_test(test_upgrades_version_3_and_keeps_sweeps),
        cmocka_unit_test(test_refuses_foreign_other_version_and_corrupt),
        cmocka_unit_test(test_damaged_pages_are_reported),
        cmocka_unit_test(test_fiu_points_fail_with_a_named_cause),
        cmocka_unit_test(test_passed_needs_every_trial_of_the_slice),
        cmocka_unit_test(test_finished_run_is_found),
        cmocka_unit_test(test_wear_keeps_the_worst_across_a_resume),
        cmocka_unit_test(test_read_only_open),
        cmocka_unit_test(test_truncated_database_is_reported),
        cmocka_unit_test(test_merge_refuses_hostile_shards),
    };
    return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
