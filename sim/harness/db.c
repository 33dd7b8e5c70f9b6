/*
 * db: the SQLite outcome log. Schema and guarantees: docs/database.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FOTASIM_VERSION
#define FOTASIM_VERSION "0.0.0"
#endif

#define APP_ID        0x464F5441 /* "FOTA" */
#define BATCH         256
#define BATCH_SECONDS 0.5

struct db {
    sqlite3 *h;
    sqlite3_stmt *ins, *wear;
    int open_tx, pending;
    double last_commit;
    char path[256]; /* for messages */
    char msg[512];
};

/* The per-run maximum is computed once (a correlated subquery would scan
 * the run for every row); runs that re-downloaded nothing have no row. */
#define V_WORST_REDOWNLOAD_SQL                                                 \
    "CREATE VIEW v_worst_redownload AS"                                        \
    " SELECT t.run_id, t.trial_id, t.cut1, t.cut1_op, t.cut1_addr,"            \
    "  t.cut1_area, t.verdict, t.bytes_redownloaded, t.blocks_redownloaded"    \
    " FROM trials t JOIN (SELECT run_id, max(bytes_redownloaded) AS worst"     \
    "  FROM trials GROUP BY run_id) w ON w.run_id = t.run_id"                  \
    " WHERE w.worst > 0 AND t.bytes_redownloaded = w.worst"                    \
    " ORDER BY t.run_id, t.trial_id;"

/* The replay command names the database file as SQLite opened it (an
 * absolute path), so it is right wherever the file was moved since. */
#define V_FAILED_CUTS_SQL                                                      \
    "CREATE VIEW v_failed_cuts AS"                                             \
    " SELECT run_id, trial_id, depth, cut1, cut2, cut3, cut4, cut1_op,"        \
    "  cut1_addr, cut1_area, verdict, detail,"                                 \
    "  printf('fotasim replay %s --run %d --trial %d',"                        \
    "   coalesce((SELECT nullif(file, '') FROM pragma_database_list"           \
    "    WHERE name = 'main'), '<db>'), run_id, trial_id) AS replay"           \
    " FROM trials WHERE failed ORDER BY run_id, trial_id;"

static const char schema[] =
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL, scenario_path TEXT, scenario_text TEXT NOT NULL,"
    " seed INTEGER NOT NULL, preset TEXT, block_size INTEGER,"
    " hash TEXT, digest TEXT, verify TEXT, mirror INTEGER,"
    " image_size INTEGER, tool_version TEXT NOT NULL,"
    " started_at TEXT NOT NULL, ended_at TEXT,"
    " status TEXT NOT NULL CHECK (status IN"
    "  ('running','passed','failed','interrupted')),"
    " boundaries INTEGER, trials_planned INTEGER,"
    " shard_index INTEGER NOT NULL DEFAULT 0,"
    " shard_count INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE trials ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), trial_id INTEGER NOT NULL,"
    " seed INTEGER, depth INTEGER, cut1 INTEGER, cut2 INTEGER, cut3 INTEGER,"
    " cut4 INTEGER, cut1_op TEXT, cut1_addr INTEGER, cut1_area TEXT,"
    " verdict TEXT NOT NULL, verdict_code INTEGER NOT NULL,"
    " failed INTEGER NOT NULL, engine_error INTEGER, violation TEXT,"
    " detail TEXT, bytes_downloaded INTEGER, bytes_redownloaded INTEGER,"
    " blocks_redownloaded INTEGER, boots INTEGER, erases INTEGER,"
    " programs INTEGER, recover_ns INTEGER, scan_ns INTEGER, wall_ns INTEGER,"
    " blocks_resumed INTEGER, false_claim INTEGER,"
    " PRIMARY KEY (run_id, trial_id)) WITHOUT ROWID;"
    "CREATE TABLE wear ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), unit INTEGER NOT NULL,"
    " erases_update INTEGER, erases_max INTEGER,"
    " PRIMARY KEY (run_id, unit));"
    "CREATE VIEW v_verdicts_per_run AS"
    " SELECT r.id AS run_id, r.name, t.verdict, count(*) AS trials,"
    "  sum(t.failed) AS failing"
    " FROM runs r JOIN trials t ON t.run_id = r.id"
    " GROUP BY r.id, t.verdict ORDER BY r.id, "
    "t.verdict_code;" V_WORST_REDOWNLOAD_SQL V_FAILED_CUTS_SQL;

/* Older schemas this version upgrades in place, from user_version N to
 * N + 1. Version 2 lacked trials.false_claim, named the database "DB" in
 * v_failed_cuts.replay and had a quadratic v_worst_redownload. Version 1
 * (no shard columns) is refused. */
static const char *const migrations[] = {
    [2] = "ALTER TABLE trials ADD COLUMN false_claim INTEGER;"
          "DROP VIEW v_failed_cuts;"
          "DROP VIEW v_worst_redownload;" V_WORST_REDOWNLOAD_SQL
              V_FAILED_CUTS_SQL,
};

static void set_msg(struct db *db, const char *fmt, const char *a,
                    const char *b)
{
    snprintf(db->msg, sizeof(db->msg), fmt, a, b);
}

/* SQLite's message for the last failure; a damaged file says so plainly,
 * whichever statement found it. */
static void sql_msg(struct db *db, const char *what)
{
    int ec = sqlite3_errcode(db->h);
    if (ec == SQLITE_CORRUPT || ec == SQLITE_NOTADB)
        snprintf(db->msg, sizeof(db->msg), "%s: not a database or corrupt: %s",
                 db->path, sqlite3_errmsg(db->h));
    else
        snprintf(db->msg, sizeof(db->msg), "%s: %s", what,
                 sqlite3_errmsg(db->h));
}

const char *db_errmsg(struct db *db)
{
    return db->msg;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int exec(struct db *db, const char *sql)
{
    char *e = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &e) != SQLITE_OK) {
        int ec = sqlite3_errcode(db->h);
        if (ec == SQLITE_CORRUPT || ec == SQLITE_NOTADB)
            snprintf(db->msg, sizeof(db->msg),
                     "%s: not a database or corrupt: %s", db->path,
                     e ? e : "?");
        else
            set_msg(db, "%.300s (%.150s)", e ? e : "?", sql);
        sqlite3_free(e);
        return -1;
    }
    return 0;
}

static int pragma_int(struct db *db, const char *sql, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -1;
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int set_version(struct db *db, int version)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
    return exec(db, sql);
}

int db_open(struct db **out, const char *path, char *err, size_t errlen)
{
    struct db *db = calloc(1, sizeof(*db));
    int app = 0, ver = 0, tables = 0, ours = 0;

    *out = NULL;
    if (!db) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(db->path, sizeof(db->path), "%s", path);
    if (sqlite3_open_v2(path, &db->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path,
                 db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto fail;
    }
    /* Another process (a report, a second run) may hold the write lock
     * for a moment: wait rather than fail. */
    sqlite3_busy_timeout(db->h, 5000);
    /* SQLite opens lazily: these first reads are where a file that is not
     * a database at all shows itself. */
    if (pragma_int(db, "PRAGMA application_id", &app) ||
        pragma_int(db, "PRAGMA user_version", &ver) ||
        pragma_int(db, "SELECT count(*) FROM sqlite_master", &tables) ||
        pragma_int(db,
                   "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                   " AND name IN ('runs', 'trials', 'wear')",
                   &ours)) {
        snprintf(err, errlen, "%s: not a database or corrupt: %s", path,
                 sqlite3_errmsg(db->h));
        goto fail;
    }
    if (tables == 0 && app == 0) {
        /* A new (or empty) file: lay the schema down. */
        char sql[64];
        if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "BEGIN") ||
            exec(db, schema)) {
            snprintf(err, errlen, "%s: cannot create schema: %s", path,
                     db->msg);
            goto fail;
        }
        snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", APP_ID);
        if (exec(db, sql) || set_version(db, DB_SCHEMA_VERSION) ||
            exec(db, "COMMIT")) {
            snprintf(err, errlen, "%s: %s", path, db->msg);
            goto fail;
        }
    } else if (app != APP_ID) {
        snprintf(err, errlen,
                 "%s: not a fotasim database (application_id 0x%x, "
                 "fotasim writes 0x%x)",
                 path, (unsigned)app, (unsigned)APP_ID);
        goto fail;
    } else if (ver > DB_SCHEMA_VERSION || ver <= 0 ||
               (ver < DB_SCHEMA_VERSION && !migrations[ver])) {
        snprintf(err, errlen, "%s: schema version %d, this fotasim reads %d",
                 path, ver, DB_SCHEMA_VERSION);
        goto fail;
    } else if (ours != 3) {
        snprintf(err, errlen,
                 "%s: not a fotasim database or corrupt: tables runs, "
                 "trials, wear missing",
                 path);
        goto fail;
    } else if (ver < DB_SCHEMA_VERSION) {
        /* Upgrade in one transaction: a kill mid-way leaves the old
         * version intact. */
        if (exec(db, "BEGIN IMMEDIATE"))
            goto upgrade_failed;
        for (; ver < DB_SCHEMA_VERSION; ver++)
            if (!migrations[ver] || exec(db, migrations[ver]) ||
                set_version(db, ver + 1)) {
                exec(db, "ROLLBACK");
                goto upgrade_failed;
            }
        if (exec(db, "COMMIT"))
            goto upgrade_failed;
    }
    /* WAL + NORMAL: a commit is one append to the log, no fsync; a killed
     * process loses nothing committed (a power loss of the host may lose
     * the last commits, never the file's integrity). */
    if (exec(db, "PRAGMA journal_mode=WAL") ||
        exec(db, "PRAGMA synchronous=NORMAL") ||
        exec(db, "PRAGMA foreign_keys=ON")) {
        snprintf(err, errlen, "%s: %s", path, db->msg);
        goto fail;
    }
    if (sqlite3_prepare_v2(
            db->h,
            "INSERT OR REPLACE INTO trials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,"
            "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            -1, &db->ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->h,
                           "INSERT OR REPLACE INTO wear VALUES (?,?,?,?)", -1,
                           &db->wear, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db->h));
        goto fail;
    }
    db->last_commit = now_s();
    *out = db;
    return 0;
upgrade_failed:
    snprintf(err, errlen, "%s: cannot upgrade schema version %d to %d: %s",
             path, ver, DB_SCHEMA_VERSION, db->msg);
fail:
    db_close(db);
    return -1;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    if (db->h)
        db_flush(db);
    sqlite3_finalize(db->ins);
    sqlite3_finalize(db->wear);
    sqlite3_close(db->h);
    free(db);
}

static const char *hash_name(uint8_t k)
{
    static const char *const n[] = {"none", "crc32", "md5", "sha256"};
    return k < 4 ? n[k] : "?";
}

static void iso_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int db_run_begin(struct db *db, const struct scenario *sc, uint64_t boundaries,
                 uint64_t trials_planned, struct db_run_info *info)
{
    sqlite3_stmt *st;
    char when[32];
    int rc;

    iso_now(when, sizeof(when));
    if (sqlite3_prepare_v2(
            db->h,
            "INSERT INTO runs (name, scenario_path, scenario_text, seed,"
            " preset, block_size, hash, digest, verify, mirror, image_size,"
            " tool_version, started_at, status, boundaries, trials_planned)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'running',?,?)",
            -1, &st, NULL) != SQLITE_OK) {
        sql_msg(db, "runs");
        return -1;
    }
    sqlite3_bind_text(st, 1, sc->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, sc->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, sc->text ? sc->text : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)sc->seed);
    sqlite3_bind_text(st, 5, sc->preset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, sc->engine.block_size);
    sqlite3_bind_text(st, 7, hash_name(sc->engine.hash), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, hash_name(sc->engine.digest), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, sc->engine.verify ? "trusted" : "full", -1,
                      SQLITE_STATIC);
    sqlite3_bind_int(st, 10, sc->engine.mirror);
    sqlite3_bind_int64(st, 11, sc->image.size);
    sqlite3_bind_text(st, 12, FOTASIM_VERSION, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, when, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 14, (sqlite3_int64)boundaries);
    sqlite3_bind_int64(st, 15, (sqlite3_int64)trials_planned);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        sql_msg(db, "new run");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    memset(info, 0, sizeof(*info));
    info->run_id = sqlite3_last_insert_rowid(db->h);
    info->seed = sc->seed;
    info->boundaries = boundaries;
    info->trials_planned = trials_planned;
    return 0;
}

int db_run_find_resumable(struct db *db, const struct scenario *sc,
                          uint64_t shard_index, uint64_t shard_count,
                          struct db_run_info *info)
{
    sqlite3_stmt *st;
    int rc;

    memset(info, 0, sizeof(*info));
    if (sqlite3_prepare_v2(
            db->h,
            "SELECT r.id, r.boundaries, r.trials_planned,"
            " (SELECT count(*) FROM trials t WHERE t.run_id = r.id),"
            " (SELECT coalesce(max(trial_id) + 1, 0) FROM trials t"
            "  WHERE t.run_id = r.id)"
            " FROM runs r WHERE r.scenario_text = ? AND r.seed = ?"
            " AND r.shard_index = ? AND r.shard_count = ?"
            " AND r.tool_version = ?"
            " AND r.status IN ('running', 'interrupted')"
            " ORDER BY r.id DESC LIMIT 1",
            -1, &st, NULL) != SQLITE_OK) {
        sql_msg(db, "runs");
        return -1;
    }
    sqlite3_bind_text(st, 1, sc->text ? sc->text : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)sc->seed);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)shard_index);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)shard_count);
    /* Another version may run another engine or simulator: its trials
     * and this one's must not mix in one run. */
    sqlite3_bind_text(st, 5, FOTASIM_VERSION, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        info->run_id = sqlite3_column_int64(st, 0);
        info->boundaries = (uint64_t)sqlite3_column_int64(st, 1);
        info->trials_planned = (uint64_t)sqlite3_column_int64(st, 2);
        info->trials_done = (uint64_t)sqlite3_column_int64(st, 3);
        info->next_trial = (uint64_t)sqlite3_column_int64(st, 4);
        info->seed = sc->seed;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) {
        sqlite3_stmt *u;
        if (sqlite3_prepare_v2(db->h,
                               "UPDATE runs SET status='running' WHERE id=?",
                               -1, &u, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(u, 1, info->run_id);
            sqlite3_step(u);
            sqlite3_finalize(u);
        }
        return 1;
    }
    if (rc != SQLITE_DONE) {
        sql_msg(db, "find run");
        return -1;
    }
    return 0;
}

int db_run_set_shard(struct db *db, int64_t run_id, uint64_t index,
                     uint64_t count)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(db->h,
                           "UPDATE runs SET shard_index=?, shard_count=? "
                           "WHERE id=?",
                           -1, &st, NULL) != SQLITE_OK) {
        sql_msg(db, "set shard");
        return -1;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)count);
    sqlite3_bind_int64(st, 3, run_id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        sql_msg(db, "set shard");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int db_trials_done(struct db *db, int64_t run_id, uint8_t *done,
                   uint64_t planned, uint64_t *count)
{
    sqlite3_stmt *st;
    int rc;
    *count = 0;
    if (sqlite3_prepare_v2(db->h, "SELECT trial_id FROM trials WHERE run_id=?",
                           -1, &st, NULL) != SQLITE_OK) {
        sql_msg(db, "read trials");
        return -1;
    }
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id >= 0 && (uint64_t)id < planned) {
            done[id] = 1;
            (*count)++;
        }
    }
    if (rc != SQLITE_DONE)
        sql_msg(db, "read trials");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int db_run_end(struct db *db, int64_t run_id, enum db_run_status status)
{
    static const char *const names[] = {"running", "passed", "failed",
                                        "interrupted"};
    sqlite3_stmt *st;
    char when[32];
    int rc;

    if (db_flush(db))
        return -1;
    iso_now(when, sizeof(when));
    if (sqlite3_prepare_v2(db->h,
                           "UPDATE runs SET status=?, ended_at=? WHERE id=?",
                           -1, &st, NULL) != SQLITE_OK) {
        sql_msg(db, "end run");
        return -1;
    }
    sqlite3_bind_text(st, 1, names[status], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, when, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, run_id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        sql_msg(db, "end run");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Trials and wear rows go into the open batch transaction: one commit per
 * batch instead of one per row (a commit per row caps the rate at a few
 * thousand rows a second). */
static int begin_batch(struct db *db)
{
    if (db->open_tx)
        return 0;
    if (exec(db, "BEGIN"))
        return -1;
    db->open_tx = 1;
    return 0;
}

/* Commit by count and by time, so a kill loses little. */
static int maybe_commit(struct db *db)
{
    if (++db->pending >= BATCH || now_s() - db->last_commit > BATCH_SECONDS)
        return db_flush(db);
    return 0;
}

int db_flush(struct db *db)
{
    if (!db->open_tx)
        return 0;
    if (exec(db, "COMMIT")) {
        /* A failed COMMIT (busy past the timeout, disk full) may leave the
         * transaction open: keep the batch for the next try then. */
        db->open_tx = !sqlite3_get_autocommit(db->h);
        return -1;
    }
    db->open_tx = 0;
    db->pending = 0;
    db->last_commit = now_s();
    return 0;
}

int db_trial_add(struct db *db, int64_t run_id, const struct trial *t)
{
    static const char *const ops[] = {"read", "program", "erase"};
    static const char *const areas[] = {"data", "record", "mirror"};
    sqlite3_stmt *s = db->ins;
    int i = 1, k;

    if (begin_batch(db))
        return -1;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, i++, run_id);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->id);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->seed);
    sqlite3_bind_int(s, i++, (int)t->depth);
    for (k = 0; k < TRIAL_MAX_DEPTH; k++) {
        if ((uint32_t)k < t->depth)
            sqlite3_bind_int64(s, i++, (sqlite3_int64)t->cuts[k]);
        else
            sqlite3_bind_null(s, i++);
    }
    sqlite3_bind_text(s, i++, ops[t->cut_op[0] < 3 ? t->cut_op[0] : 0], -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(s, i++, t->cut_addr[0]);
    sqlite3_bind_text(s, i++, areas[t->cut_area[0] < 3 ? t->cut_area[0] : 0],
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, verdict_name((enum verdict)t->verdict), -1,
                      SQLITE_STATIC);
    sqlite3_bind_int(s, i++, t->verdict);
    sqlite3_bind_int(s, i++, t->failed);
    sqlite3_bind_int(s, i++, t->engine_error);
    if (t->violation)
        sqlite3_bind_text(s, i++,
                          sim_violation_name((enum sim_violation)t->violation),
                          -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i++);
    sqlite3_bind_text(s, i++, t->detail, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->bytes_downloaded);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->bytes_redownloaded);
    sqlite3_bind_int64(s, i++, t->blocks_redownloaded);
    sqlite3_bind_int64(s, i++, t->boots);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->erases);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->programs);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->recover_ns);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->scan_ns);
    sqlite3_bind_int64(s, i++, (sqlite3_int64)t->wall_ns);
    sqlite3_bind_int64(s, i++, t->blocks_resumed);
    sqlite3_bind_int64(s, i++, t->false_claim);
    if (sqlite3_step(s) != SQLITE_DONE) {
        sql_msg(db, "insert trial");
        sqlite3_reset(s);
        return -1;
    }
    return maybe_commit(db);
}

int db_wear_add(struct db *db, int64_t run_id, uint32_t unit,
                uint32_t erases_update, uint32_t erases_max)
{
    sqlite3_stmt *st = db->wear;
    int rc;
    if (begin_batch(db))
        return -1;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, unit);
    sqlite3_bind_int64(st, 3, erases_update);
    sqlite3_bind_int64(st, 4, erases_max);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        sql_msg(db, "insert wear");
        sqlite3_reset(st);
        return -1;
    }
    return maybe_commit(db);
}

static int name_index(const char *v, const char *const *names, int n)
{
    int i;
    for (i = 0; v && i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    return 0;
}

int db_trial_get(struct db *db, int64_t run_id, uint64_t trial_id,
                 struct trial *t, struct scenario *sc_out)
{
    static const char *const ops[] = {"read", "program", "erase"};
    static const char *const areas[] = {"data", "record", "mirror"};
    sqlite3_stmt *st;
    char err[512];
    const char *v;
    int rc, k;

    memset(t, 0, sizeof(*t));
    if (sqlite3_prepare_v2(
            db->h,
            "SELECT t.seed, t.depth, t.cut1, t.cut2, t.cut3, t.cut4,"
            " t.verdict_code, t.bytes_downloaded, t.bytes_redownloaded,"
            " t.blocks_redownloaded, t.erases, t.programs, t.recover_ns,"
            " r.scenario_text, r.scenario_path, t.failed, t.detail, r.seed,"
            " t.cut1_op, t.cut1_addr, t.cut1_area, t.engine_error,"
            " t.violation, t.boots, t.scan_ns, t.wall_ns, t.blocks_resumed,"
            " t.false_claim"
            " FROM trials t JOIN runs r ON r.id = t.run_id"
            " WHERE t.run_id = ? AND t.trial_id = ?",
            -1, &st, NULL) != SQLITE_OK) {
        sql_msg(db, "read trial");
        return -1;
    }
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)trial_id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            snprintf(db->msg, sizeof(db->msg), "no trial %llu in run %lld",
                     (unsigned long long)trial_id, (long long)run_id);
        else
            sql_msg(db, "read trial");
        sqlite3_finalize(st);
        return -1;
    }
    t->id = trial_id;
    t->seed = (uint64_t)sqlite3_column_int64(st, 0);
    t->depth = (uint32_t)sqlite3_column_int(st, 1);
    for (k = 0; k < TRIAL_MAX_DEPTH; k++)
        t->cuts[k] = (uint64_t)sqlite3_column_int64(st, 2 + k);
    t->verdict = (uint8_t)sqlite3_column_int(st, 6);
    t->bytes_downloaded = (uint64_t)sqlite3_column_int64(st, 7);
    t->bytes_redownloaded = (uint64_t)sqlite3_column_int64(st, 8);
    t->blocks_redownloaded = (uint32_t)sqlite3_column_int64(st, 9);
    t->erases = (uint64_t)sqlite3_column_int64(st, 10);
    t->programs = (uint64_t)sqlite3_column_int64(st, 11);
    t->recover_ns = (uint64_t)sqlite3_column_int64(st, 12);
    t->failed = (uint8_t)sqlite3_column_int(st, 15);
    v = (const char *)sqlite3_column_text(st, 16);
    snprintf(t->detail, sizeof(t->detail), "%s", v ? v : "");
    /* Only the first cut's op, address and area are stored. */
    t->cut_op[0] =
        (uint8_t)name_index((const char *)sqlite3_column_text(st, 18), ops, 3);
    t->cut_addr[0] = (uint32_t)sqlite3_column_int64(st, 19);
    t->cut_area[0] = (uint8_t)name_index(
        (const char *)sqlite3_column_text(st, 20), areas, 3);
    t->engine_error = (int32_t)sqlite3_column_int64(st, 21);
    if ((v = (const char *)sqlite3_column_text(st, 22))) {
        /* Stored by name, so the log reads without the simulator's enum;
         * map it back. */
        uint32_t k2;
        for (k2 = 1; k2 < SIM_VIOL_COUNT; k2++)
            if (!strcmp(v, sim_violation_name((enum sim_violation)k2))) {
                t->violation = k2;
                break;
            }
    }
    t->boots = (uint32_t)sqlite3_column_int64(st, 23);
    t->scan_ns = (uint64_t)sqlite3_column_int64(st, 24);
    t->wall_ns = (uint64_t)sqlite3_column_int64(st, 25);
    t->blocks_resumed = (uint32_t)sqlite3_column_int64(st, 26);
    t->false_claim = (uint32_t)sqlite3_column_int64(st, 27);
    rc = 0;
    if (sc_out) {
        const char *text = (const char *)sqlite3_column_text(st, 13);
        const char *path = (const char *)sqlite3_column_text(st, 14);
        rc = scenario_load_text(sc_out, text ? text : "",
                                path ? path : "stored scenario", err,
                                sizeof(err));
        if (rc)
            snprintf(db->msg, sizeof(db->msg), "stored scenario: %.480s", err);
        else /* --seed may have overridden the file's */
            sc_out->seed = (uint64_t)sqlite3_column_int64(st, 17);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ merge */

struct shard_run {
    char *text, *tool;
    sqlite3_int64 seed, index, count, planned, boundaries, trials;
    char status[16];
};

static char *dup_col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return strdup(v ? v : "");
}

/* Read the one run a shard database holds. */
static int read_shard(const char *path, struct shard_run *r, char *err,
                      size_t errlen)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, n = 0, app = 0, ver = 0;

    memset(r, 0, sizeof(*r));
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path,
                 h ? sqlite3_errmsg(h) : "out of memory");
        goto out;
    }
    if (sqlite3_prepare_v2(h, "PRAGMA application_id", -1, &st, NULL) ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: not a database or corrupt: %s", path,
                 sqlite3_errmsg(h));
        goto out;
    }
    app = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (app != APP_ID) {
        snprintf(err, errlen,
                 "%s: not a fotasim database (application_id 0x%x)", path,
                 (unsigned)app);
        goto out;
    }
    if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) ||
        sqlite3_step(st) != SQLITE_ROW ||
        (ver = sqlite3_column_int(st, 0)) != DB_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: schema version %d, this fotasim reads %d",
                 path, ver, DB_SCHEMA_VERSION);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(
            h,
            "SELECT scenario_text, tool_version, seed, shard_index,"
            " shard_count, trials_planned, boundaries, status,"
            " (SELECT count(*) FROM trials t WHERE t.run_id = r.id)"
            " FROM runs r",
            -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(h));
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++)
            break;
        r->text = dup_col(st, 0);
        r->tool = dup_col(st, 1);
        r->seed = sqlite3_column_int64(st, 2);
        r->index = sqlite3_column_int64(st, 3);
        r->count = sqlite3_column_int64(st, 4);
        r->planned = sqlite3_column_int64(st, 5);
        r->boundaries = sqlite3_column_int64(st, 6);
        snprintf(r->status, sizeof(r->status), "%s",
                 (const char *)sqlite3_column_text(st, 7));
        r->trials = sqlite3_column_int64(st, 8);
    }
    if (n != 1) {
        snprintf(err, errlen,
                 "%s: holds %d runs; merge takes one run per shard file", path,
                 n);
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(h);
    return rc;
}

int db_merge(const char *out, char *const *in, int nin, char *err,
             size_t errlen, FILE *report)
{
    struct shard_run *r = calloc((size_t)nin, sizeof(*r));
    unsigned char *seen = NULL;
    struct db *db = NULL;
    sqlite3_int64 total = 0, k;
    int i, rc = -1, missing = 0;
    char sql[1024];
    FILE *probe;

    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if ((probe = fopen(out, "r"))) {
        fclose(probe);
        snprintf(err, errlen, "%s: exists; merge writes a new database", out);
        goto done;
    }
    for (i = 0; i < nin; i++) {
        if (read_shard(in[i], &r[i], err, errlen))
            goto done;
        if (!strcmp(r[i].status, "running") ||
            !strcmp(r[i].status, "interrupted")) {
            snprintf(err, errlen,
                     "%s: shard %lld/%lld is %s: finish it (fotasim run "
                     "--resume) before merging",
                     in[i], (long long)r[i].index, (long long)r[i].count,
                     r[i].status);
            goto done;
        }
        if (i && (strcmp(r[i].text, r[0].text) || r[i].seed != r[0].seed)) {
            snprintf(err, errlen,
                     "%s: another scenario or seed than %s: not a shard of "
                     "the same run",
                     in[i], in[0]);
            goto done;
        }
        if (i && strcmp(r[i].tool, r[0].tool)) {
            snprintf(err, errlen, "%s: made by fotasim %s, %s by %s", in[i],
                     r[i].tool, in[0], r[0].tool);
            goto done;
        }
        if (i && r[i].count != r[0].count) {
            snprintf(err, errlen, "%s: split in %lld shards, %s in %lld", in[i],
                     (long long)r[i].count, in[0], (long long)r[0].count);
            goto done;
        }
    }
    seen = calloc((size_t)r[0].count, 1);
    if (!seen)
        goto done;
    for (i = 0; i < nin; i++) {
        if (seen[r[i].index]) {
            snprintf(err, errlen, "%s: shard %lld/%lld given twice", in[i],
                     (long long)r[i].index, (long long)r[i].count);
            goto done;
        }
        seen[r[i].index] = 1;
        total += r[i].trials;
        /* A shard holds ids index, index + count, ... of the plan. */
        if (r[i].trials != r[i].planned / r[i].count +
                               (r[i].index < r[i].planned % r[i].count)) {
            snprintf(err, errlen,
                     "%s: shard %lld/%lld holds %lld trials of its %lld", in[i],
                     (long long)r[i].index, (long long)r[i].count,
                     (long long)r[i].trials,
                     (long long)(r[i].planned / r[i].count +
                                 (r[i].index < r[i].planned % r[i].count)));
            goto done;
        }
        if (report)
            fprintf(report, "  shard %lld/%lld: %lld trials (%s)\n",
                    (long long)r[i].index, (long long)r[i].count,
                    (long long)r[i].trials, in[i]);
    }
    for (k = 0; k < r[0].count; k++)
        if (!seen[k]) {
            if (!missing++)
                snprintf(err, errlen,
                         "missing shard(s) of %lld:", (long long)r[0].count);
            snprintf(err + strlen(err), errlen - strlen(err), " %lld",
                     (long long)k);
        }
    if (missing)
        goto done;
    if (total != r[0].planned) {
        snprintf(err, errlen, "the shards hold %lld trials, the plan has %lld",
                 (long long)total, (long long)r[0].planned);
        goto done;
    }

    if (db_open(&db, out, err, errlen))
        goto done;
    if (exec(db, "BEGIN"))
        goto sqlerr;
    for (i = 0; i < nin; i++) {
        char *q = sqlite3_mprintf("ATTACH %Q AS s", in[i]);
        int bad = exec(db, q);
        sqlite3_free(q);
        if (bad)
            goto sqlerr;
        if (i == 0 &&
            exec(db, "INSERT INTO runs SELECT 1, name, scenario_path,"
                     " scenario_text, seed, preset, block_size, hash, digest,"
                     " verify, mirror, image_size, tool_version, started_at,"
                     " ended_at, status, boundaries, trials_planned, 0, 1"
                     " FROM s.runs"))
            goto sqlerr;
        snprintf(sql, sizeof(sql),
                 "INSERT INTO trials SELECT 1, trial_id, seed, depth, cut1,"
                 " cut2, cut3, cut4, cut1_op, cut1_addr, cut1_area, verdict,"
                 " verdict_code, failed, engine_error, violation, detail,"
                 " bytes_downloaded, bytes_redownloaded, blocks_redownloaded,"
                 " boots, erases, programs, recover_ns, scan_ns, wall_ns,"
                 " blocks_resumed, false_claim FROM s.trials;"
                 "INSERT INTO wear SELECT 1, unit, erases_update, erases_max"
                 " FROM s.wear WHERE true ON CONFLICT(run_id, unit) DO UPDATE"
                 " SET erases_max = max(erases_max, excluded.erases_max);"
                 "UPDATE runs SET started_at = min(started_at,"
                 " (SELECT min(started_at) FROM s.runs)), ended_at ="
                 " max(ended_at, (SELECT max(ended_at) FROM s.runs));");
        if (exec(db, sql))
            goto sqlerr;
        if (exec(db, "COMMIT") || exec(db, "DETACH s") || exec(db, "BEGIN"))
            goto sqlerr;
    }
    if (exec(db, "UPDATE runs SET status = CASE WHEN (SELECT sum(failed)"
                 " FROM trials) > 0 THEN 'failed' ELSE 'passed' END") ||
        exec(db, "COMMIT"))
        goto sqlerr;
    if (report)
        fprintf(report, "merged %d shards, %lld trials into %s\n", nin,
                (long long)total, out);
    rc = 0;
    goto done;
sqlerr:
    snprintf(err, errlen, "%s: %s", out, db->msg);
    db_close(db);
    db = NULL;
    remove(out);
done:
    if (db)
        db_close(db);
    for (i = 0; i < nin; i++) {
        free(r[i].text);
        free(r[i].tool);
    }
    free(r);
    free(seen);
    return rc;
}
