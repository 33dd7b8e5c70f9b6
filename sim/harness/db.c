/*
 * db: the SQLite outcome log. Schema and guarantees: docs/database.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "db.h"
#include "clock.h"
#include "fwresume.h" /* FWR_VERSION_*: the built-in engine's version */
#include "sweep.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The fault points are compiled in (libfiu is linked through simflash)
 * but consulted only when db->fiu is set: an idle point still costs a
 * call and a lookup, too much for ~2500 inserts a second. */
#ifndef FIU_ENABLE
#define FIU_ENABLE 1
#endif
#include <fiu-local.h>
#include <fiu.h>

#ifndef FOTASIM_VERSION
#define FOTASIM_VERSION "0.0.0"
#endif

#define APP_ID        0x464F5441 /* "FOTA" */
#define BATCH         256
#define BATCH_SECONDS 0.5
/* The largest shard count --shard accepts, so a merge input claiming more
 * is hostile or damaged. */
#define MAX_SHARDS    1000000

struct db {
    sqlite3 *h;
    sqlite3_stmt *ins, *wear;
    int open_tx, pending;
    int readonly;
    int version;  /* the file's schema version (2 is read, read-only) */
    int fiu;      /* consult the libfiu points (off: one branch a call) */
    int injected; /* SQLite code a libfiu point stood in for, 0 none */
    const char *injected_point;
    double last_commit;
    char *uri;       /* as opened (ATTACH in merge uses the same) */
    char path[1024]; /* for messages */
    char msg[1536];
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

/* A sweep's decision as `fotasim sweep` made and printed it: one row per
 * sweep with the printed table (lead), one per value with its figures. */
#define SWEEPS_SQL                                                             \
    "CREATE TABLE sweeps ("                                                    \
    " id INTEGER PRIMARY KEY, key TEXT NOT NULL, cut_rate TEXT NOT NULL,"      \
    " created_at TEXT NOT NULL, best TEXT, runner_up TEXT,"                    \
    " status INTEGER NOT NULL, lead TEXT NOT NULL);"                           \
    "CREATE TABLE sweep_values ("                                              \
    " sweep_id INTEGER NOT NULL REFERENCES sweeps(id), idx INTEGER NOT NULL,"  \
    " value TEXT NOT NULL, run_id INTEGER REFERENCES runs(id),"                \
    " ran INTEGER NOT NULL, eligible INTEGER NOT NULL, reason TEXT,"           \
    " trials INTEGER, failing INTEGER, unsafe INTEGER, record_bytes INTEGER,"  \
    " mean_redownload REAL, max_redownload REAL, update_erases INTEGER,"       \
    " max_unit_erases INTEGER, scan_ms REAL, ram_bytes INTEGER,"               \
    " update_s REAL, cut_cost_s REAL, cuts_per_update REAL, expected_s REAL,"  \
    " PRIMARY KEY (sweep_id, idx));"

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
    " shard_count INTEGER NOT NULL DEFAULT 1, engine TEXT);"
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
    "t.verdict_code;" V_WORST_REDOWNLOAD_SQL V_FAILED_CUTS_SQL SWEEPS_SQL;

/* Older schemas this version upgrades in place, from user_version N to
 * N + 1. Version 3 lacked runs.engine and the sweep tables; version 2 also
 * trials.false_claim, named the database "DB" in v_failed_cuts.replay and
 * had a quadratic v_worst_redownload. Version 1 (no shard columns) is
 * refused. */
static const char *const migrations[] = {
    [2] = "ALTER TABLE trials ADD COLUMN false_claim INTEGER;"
          "DROP VIEW v_failed_cuts;"
          "DROP VIEW v_worst_redownload;" V_WORST_REDOWNLOAD_SQL
              V_FAILED_CUTS_SQL,
    [3] = "ALTER TABLE runs ADD COLUMN engine TEXT;" SWEEPS_SQL,
};

/* ------------------------------------------------------------ errors */

/* What a SQLite result code means to the user, by its primary code. */
static const char *cause_name(int ec)
{
    switch (ec & 0xff) {
    case SQLITE_FULL:
        return "disk full";
    case SQLITE_IOERR:
        return "I/O error";
    case SQLITE_READONLY:
        return "read-only";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "locked";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return "not a database or corrupt";
    case SQLITE_CANTOPEN:
        return "cannot open";
    case SQLITE_NOMEM:
        return "out of memory";
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return "permission denied";
    case SQLITE_CONSTRAINT:
        return "constraint violated";
    case SQLITE_ERROR:
        return "SQL error";
    default:
        return "SQLite error";
    }
}

/* The file is the wrong one (bad input) or the storage failed. A file
 * that is not a database at all, or whose tables lack what our SQL names,
 * was the wrong file; damaged pages of a database are a storage failure. */
static int error_kind(int ec, int sys)
{
    switch (ec & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_ERROR:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        return DB_E_INPUT;
    case SQLITE_CANTOPEN:
        return sys == ENOENT || sys == ENOTDIR ? DB_E_INPUT : DB_E_STORAGE;
    default:
        return DB_E_STORAGE;
    }
}

/* "path: cause: what: message (errno text)"; what may be empty. The errno
 * is added only for the codes that come from a failed system call. */
static int describe(char *buf, size_t n, const char *path, const char *what,
                    int ec, const char *text, int sys)
{
    int p = ec & 0xff;
    int os = sys && (p == SQLITE_IOERR || p == SQLITE_FULL ||
                     p == SQLITE_CANTOPEN || p == SQLITE_READONLY);
    snprintf(buf, n, "%s: %s: %s%s%s%s%s%s", path, cause_name(ec),
             what && *what ? what : "", what && *what ? ": " : "", text,
             os ? " (" : "", os ? strerror(sys) : "", os ? ")" : "");
    return error_kind(ec, sys);
}

/* Name the cause of the last failure on db (or of the libfiu point that
 * stood in for SQLite) in db->msg; returns DB_E_INPUT or DB_E_STORAGE. */
static int fail(struct db *db, const char *what)
{
    char text[200];
    int ec, sys = 0;

    if (db->injected) {
        ec = db->injected;
        snprintf(text, sizeof(text), "%s (injected by libfiu point %s)",
                 sqlite3_errstr(ec), db->injected_point);
        db->injected = 0;
    } else if (!db->h) {
        ec = SQLITE_NOMEM;
        snprintf(text, sizeof(text), "%s", sqlite3_errstr(ec));
    } else {
        ec = sqlite3_extended_errcode(db->h);
        sys = sqlite3_system_errno(db->h);
        snprintf(text, sizeof(text), "%s", sqlite3_errmsg(db->h));
    }
    return describe(db->msg, sizeof(db->msg), db->path, what, ec, text, sys);
}

const char *db_errmsg(struct db *db)
{
    return db->msg;
}

struct sqlite3 *db_sqlite(struct db *db)
{
    return db->h;
}

int db_sqlite_error(struct db *db, const char *what)
{
    return fail(db, what);
}

/* A libfiu point: when it fires, the call it guards fails as SQLite would
 * with the code in the point's failinfo (SQLITE_IOERR without one). */
static int fault(struct db *db, const char *point)
{
    void *info;
    if (!db->fiu || !fiu_fail(point))
        return 0;
    info = fiu_failinfo();
    db->injected = info ? (int)(intptr_t)info : SQLITE_IOERR;
    db->injected_point = point;
    return db->injected;
}

static int prepare(struct db *db, const char *sql, sqlite3_stmt **st)
{
    int rc = fault(db, "fotasim/db/prepare");
    *st = NULL;
    return rc ? rc : sqlite3_prepare_v2(db->h, sql, -1, st, NULL);
}

static int step(struct db *db, sqlite3_stmt *st)
{
    int rc = fault(db, "fotasim/db/step");
    return rc ? rc : sqlite3_step(st);
}

/* Run sql, which returns no rows wanted; on failure name the cause. */
static int exec(struct db *db, const char *sql, const char *what)
{
    if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, what);
    return 0;
}

static int pragma_int(struct db *db, const char *sql, int *out)
{
    sqlite3_stmt *st;
    int rc = prepare(db, sql, &st);
    *out = 0;
    if (rc == SQLITE_OK) {
        rc = step(db, st);
        if (rc == SQLITE_ROW)
            *out = sqlite3_column_int(st, 0);
    }
    if (rc != SQLITE_ROW)
        rc = fail(db, "");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc;
}

static int set_version(struct db *db, int version)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
    return exec(db, sql, "set schema version");
}

/* ------------------------------------------------------------ open */

/* path as a "file:" URI: every connection is opened with URIs on, so a
 * merge can ATTACH a shard read-only the same way, and a file name with
 * '?', '#', '%' or ':' in it still names that file. */
static char *path_uri(const char *path, int readonly, int immutable)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path), i, at;
    char *u = malloc(n * 3 + 40);
    if (!u)
        return NULL;
    /* An absolute path after an empty authority: "file:///abs"; a
     * relative one cannot start with '/', so "file:rel" is unambiguous. */
    at = (size_t)sprintf(u, "file:%s", path[0] == '/' ? "//" : "");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '_' ||
            c == '-' || c == '~') {
            u[at++] = (char)c;
        } else {
            u[at++] = '%';
            u[at++] = hex[c >> 4];
            u[at++] = hex[c & 15];
        }
    }
    sprintf(u + at, "%s",
            immutable  ? "?mode=ro&immutable=1"
            : readonly ? "?mode=ro"
                       : "");
    return u;
}

/* A handle for path, not yet connected. */
static int db_new(struct db **out, const char *path, char *err, size_t errlen)
{
    struct db *db;
    const char *e = getenv("FOTASIM_FIU");
    const char *run = getenv("FIU_ENABLE");

    *out = NULL;
    if (!path || !*path) {
        /* SQLite would open a private temporary database for "": a run
         * would log to nowhere and pass. */
        snprintf(err, errlen, "empty database file name");
        return DB_E_INPUT;
    }
    db = calloc(1, sizeof(*db));
    if (!db) {
        snprintf(err, errlen, "%s: out of memory", path);
        return DB_E_STORAGE;
    }
    snprintf(db->path, sizeof(db->path), "%s", path);
    /* fiu-run passes its enable commands in FIU_ENABLE; FOTASIM_FIU is
     * the simulator's switch and turns these points on too. */
    db->fiu = (e && *e && strcmp(e, "0")) || (run && *run);
    if (db->fiu)
        fiu_init(0);
    *out = db;
    return 0;
}

static int connect_db(struct db *db, int flags, int immutable, char *err,
                      size_t errlen)
{
    int rc;
    free(db->uri);
    db->uri = path_uri(db->path, !(flags & SQLITE_OPEN_READWRITE), immutable);
    if (!db->uri) {
        snprintf(err, errlen, "%s: out of memory", db->path);
        return DB_E_STORAGE;
    }
    rc = fault(db, "fotasim/db/open");
    if (!rc)
        rc = sqlite3_open_v2(db->uri, &db->h, flags | SQLITE_OPEN_URI, NULL);
    if (rc != SQLITE_OK) {
        rc = fail(db, "");
        snprintf(err, errlen, "%s", db->msg);
        return rc;
    }
    /* Another process (a report, a second run) may hold the write lock
     * for a moment: wait rather than fail. */
    sqlite3_busy_timeout(db->h, 5000);
    return 0;
}

/* What the file is. SQLite opens lazily: these first reads are where a
 * file that is not a database at all shows itself. */
static int identify(struct db *db, int *app, int *ver, int *tables, int *ours)
{
    int rc;
    if ((rc = pragma_int(db, "PRAGMA application_id", app)) ||
        (rc = pragma_int(db, "PRAGMA user_version", ver)) ||
        (rc = pragma_int(db, "SELECT count(*) FROM sqlite_master", tables)) ||
        (rc = pragma_int(db,
                         "SELECT count(*) FROM sqlite_master WHERE type ="
                         " 'table' AND name IN ('runs', 'trials', 'wear')",
                         ours)))
        return rc;
    return 0;
}

/* The refusals shared by both opens: not ours, another version. */
static int check_identity(struct db *db, int app, int ver, int ours,
                          int readonly, char *err, size_t errlen)
{
    if (app != APP_ID) {
        snprintf(err, errlen,
                 "%s: not a fotasim database (application_id 0x%x, "
                 "fotasim writes 0x%x)",
                 db->path, (unsigned)app, (unsigned)APP_ID);
        return DB_E_INPUT;
    }
    if (ver > DB_SCHEMA_VERSION || ver <= 0 ||
        (ver < DB_SCHEMA_VERSION && (readonly ? ver < 2 : !migrations[ver]))) {
        snprintf(err, errlen, "%s: schema version %d, this fotasim reads %d",
                 db->path, ver, DB_SCHEMA_VERSION);
        return DB_E_INPUT;
    }
    if (ours != 3) {
        snprintf(err, errlen,
                 "%s: not a fotasim database or corrupt: tables runs, "
                 "trials, wear missing",
                 db->path);
        return DB_E_INPUT;
    }
    return 0;
}

int db_open(struct db **out, const char *path, char *err, size_t errlen)
{
    struct db *db;
    int app = 0, ver = 0, tables = 0, ours = 0, rc;

    *out = NULL;
    if ((rc = db_new(&db, path, err, errlen)))
        return rc;
    if ((rc = connect_db(db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 0, err,
                         errlen)))
        goto fail;
    /* SQLite quietly opens a file it may not write read-only: say so now,
     * not at the first insert. */
    if (sqlite3_db_readonly(db->h, "main") == 1) {
        snprintf(err, errlen,
                 "%s: read-only: the file or its file system cannot be "
                 "written",
                 path);
        rc = DB_E_STORAGE;
        goto fail;
    }
    if ((rc = identify(db, &app, &ver, &tables, &ours))) {
        snprintf(err, errlen, "%s", db->msg);
        goto fail;
    }
    if (tables == 0 && app == 0) {
        /* A new (or empty) file: lay the schema down. */
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", APP_ID);
        if ((rc = exec(db, "PRAGMA journal_mode=WAL", "set journal mode")) ||
            (rc = exec(db, "BEGIN", "create schema")) ||
            (rc = exec(db, schema, "create schema")) ||
            (rc = exec(db, sql, "create schema")) ||
            (rc = set_version(db, DB_SCHEMA_VERSION)) ||
            (rc = exec(db, "COMMIT", "create schema"))) {
            snprintf(err, errlen, "%s", db->msg);
            goto fail;
        }
    } else if ((rc = check_identity(db, app, ver, ours, 0, err, errlen))) {
        goto fail;
    } else if (ver < DB_SCHEMA_VERSION) {
        /* Upgrade in one transaction: a kill mid-way leaves the old
         * version intact. */
        char what[64];
        snprintf(what, sizeof(what), "upgrade schema version %d to %d", ver,
                 DB_SCHEMA_VERSION);
        if ((rc = exec(db, "BEGIN IMMEDIATE", what)))
            goto upgrade_failed;
        for (; ver < DB_SCHEMA_VERSION; ver++)
            if ((rc = exec(db, migrations[ver], what)) ||
                (rc = set_version(db, ver + 1))) {
                sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
                goto upgrade_failed;
            }
        if ((rc = exec(db, "COMMIT", what)))
            goto upgrade_failed;
    }
    /* WAL + NORMAL: a commit is one append to the log, no fsync; a killed
     * process loses nothing committed (a power loss of the host may lose
     * the last commits, never the file's integrity). */
    if ((rc = exec(db, "PRAGMA journal_mode=WAL", "set journal mode")) ||
        (rc = exec(db, "PRAGMA synchronous=NORMAL", "set synchronous")) ||
        (rc = exec(db, "PRAGMA foreign_keys=ON", "set foreign keys"))) {
        snprintf(err, errlen, "%s", db->msg);
        goto fail;
    }
    /* A wear row a resumed run writes again keeps the worst erase count
     * of both runs' trials: each part sees only its own trials. */
    if (prepare(db,
                "INSERT OR REPLACE INTO trials VALUES (?,?,?,?,?,?,?,?,?,?,?,"
                "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                &db->ins) != SQLITE_OK ||
        prepare(db,
                "INSERT INTO wear VALUES (?,?,?,?) ON CONFLICT(run_id, unit)"
                " DO UPDATE SET erases_update = excluded.erases_update,"
                " erases_max = max(coalesce(erases_max, 0),"
                " excluded.erases_max)",
                &db->wear) != SQLITE_OK) {
        rc = fail(db, "prepare statements");
        snprintf(err, errlen, "%s", db->msg);
        goto fail;
    }
    db->version = DB_SCHEMA_VERSION;
    db->last_commit = clock_wall_s();
    *out = db;
    return 0;
upgrade_failed:
    snprintf(err, errlen, "%s", db->msg);
fail:
    db_close(db);
    return rc;
}

/* A write-ahead log beside path that holds frames: reading the file alone
 * (immutable) would miss them. */
static int has_wal(const char *path)
{
    char wal[1100];
    struct stat st;
    snprintf(wal, sizeof(wal), "%s-wal", path);
    return !stat(wal, &st) && st.st_size > 0;
}

int db_open_readonly(struct db **out, const char *path, char *err,
                     size_t errlen)
{
    struct db *db;
    struct stat stt;
    int app = 0, ver = 0, tables = 0, ours = 0, rc, e = 0;

    *out = NULL;
    if ((rc = db_new(&db, path, err, errlen)))
        return rc;
    /* Read-only never creates: a missing file (a typo) is bad input. */
    if (stat(path, &stt))
        e = errno;
    else if (S_ISDIR(stt.st_mode))
        e = EISDIR;
    if (e) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        rc = e == ENOENT || e == ENOTDIR || e == EISDIR ? DB_E_INPUT
                                                        : DB_E_STORAGE;
        goto fail;
    }
    if ((rc = connect_db(db, SQLITE_OPEN_READONLY, 0, err, errlen)))
        goto fail;
    rc = identify(db, &app, &ver, &tables, &ours);
    if (rc &&
        ((sqlite3_extended_errcode(db->h) & 0xff) == SQLITE_CANTOPEN ||
         (sqlite3_extended_errcode(db->h) & 0xff) == SQLITE_READONLY) &&
        !has_wal(path)) {
        /* A WAL database on a read-only file system (or in a directory
         * this user cannot write): SQLite cannot create the -shm file it
         * reads through. With no log beside it the file alone is the whole
         * database, and immutable mode reads just that. */
        sqlite3_close(db->h);
        db->h = NULL;
        if ((rc = connect_db(db, SQLITE_OPEN_READONLY, 1, err, errlen)))
            goto fail;
        rc = identify(db, &app, &ver, &tables, &ours);
    }
    if (rc) {
        snprintf(err, errlen, "%s", db->msg);
        goto fail;
    }
    if (tables == 0 && app == 0) {
        snprintf(err, errlen, "%s: not a fotasim database (no tables)", path);
        rc = DB_E_INPUT;
        goto fail;
    }
    if ((rc = check_identity(db, app, ver, ours, 1, err, errlen)))
        goto fail;
    db->readonly = 1;
    db->version = ver;
    *out = db;
    return 0;
fail:
    db_close(db);
    return rc;
}

int db_close(struct db *db)
{
    int rc = 0;
    if (!db)
        return 0;
    if (db->h && !db->readonly)
        rc = db_flush(db);
    sqlite3_finalize(db->ins);
    sqlite3_finalize(db->wear);
    /* Closing rolls back a batch that could not be committed. */
    if (db->h && sqlite3_close(db->h) != SQLITE_OK && !rc)
        rc = DB_E_STORAGE;
    free(db->uri);
    free(db);
    return rc;
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

/* ------------------------------------------------------------ runs */

/* What this program builds in: "" for the engine as released, else what
 * it was changed to (a mutant's name). */
static char engine_build[64];

void db_set_engine_build(const char *build)
{
    snprintf(engine_build, sizeof(engine_build), "%s", build ? build : "");
}

/* The engine a run of sc uses, as the run row keeps it: the built-in
 * fwresume with its version (and build), or engine.kind as given. */
static void engine_identity(const struct scenario *sc, char *buf, size_t n)
{
    if (sc->engine.kind[0] && strcmp(sc->engine.kind, "fwresume"))
        snprintf(buf, n, "%.200s", sc->engine.kind);
    else
        snprintf(buf, n, "fwresume %d.%d.%d%s%s", FWR_VERSION_MAJOR,
                 FWR_VERSION_MINOR, FWR_VERSION_PATCH,
                 engine_build[0] ? " " : "", engine_build);
}

int db_run_begin(struct db *db, const struct scenario *sc, uint64_t boundaries,
                 uint64_t trials_planned, struct db_run_info *info)
{
    sqlite3_stmt *st;
    char when[32], engine[256];
    int rc;

    iso_now(when, sizeof(when));
    if (prepare(db,
                "INSERT INTO runs (name, scenario_path, scenario_text, seed,"
                " preset, block_size, hash, digest, verify, mirror, image_size,"
                " tool_version, started_at, status, boundaries, trials_planned,"
                " engine)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'running',?,?,?)",
                &st) != SQLITE_OK)
        return fail(db, "new run");
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
    engine_identity(sc, engine, sizeof(engine));
    sqlite3_bind_text(st, 16, engine, -1, SQLITE_TRANSIENT);
    rc = step(db, st);
    if (rc != SQLITE_DONE) {
        rc = fail(db, "new run");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    memset(info, 0, sizeof(*info));
    info->run_id = sqlite3_last_insert_rowid(db->h);
    info->seed = sc->seed;
    info->boundaries = boundaries;
    info->trials_planned = trials_planned;
    return 0;
}

/* Bind what identifies one scenario's run: text (overrides included),
 * seed, shard, and this fotasim's version (another version may run
 * another engine or simulator: its trials and this one's must not mix in
 * one run). */
static void bind_identity(sqlite3_stmt *st, const struct scenario *sc,
                          uint64_t shard_index, uint64_t shard_count)
{
    sqlite3_bind_text(st, 1, sc->text ? sc->text : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)sc->seed);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)shard_index);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)shard_count);
    sqlite3_bind_text(st, 5, FOTASIM_VERSION, -1, SQLITE_STATIC);
}

#define SAME_RUN                                                               \
    " r.scenario_text = ?1 AND r.seed = ?2 AND r.shard_index = ?3"             \
    " AND r.shard_count = ?4 AND r.tool_version = ?5"

int db_run_find_resumable(struct db *db, const struct scenario *sc,
                          uint64_t shard_index, uint64_t shard_count,
                          struct db_run_info *info)
{
    sqlite3_stmt *st;
    int rc;

    memset(info, 0, sizeof(*info));
    if (prepare(db,
                "SELECT r.id, r.boundaries, r.trials_planned,"
                " (SELECT count(*) FROM trials t WHERE t.run_id = r.id),"
                " (SELECT coalesce(max(trial_id) + 1, 0) FROM trials t"
                "  WHERE t.run_id = r.id)"
                " FROM runs r WHERE" SAME_RUN
                " AND r.status IN ('running', 'interrupted')"
                " ORDER BY r.id DESC LIMIT 1",
                &st) != SQLITE_OK)
        return fail(db, "find the run to resume");
    bind_identity(st, sc, shard_index, shard_count);
    rc = step(db, st);
    if (rc == SQLITE_ROW) {
        info->run_id = sqlite3_column_int64(st, 0);
        info->boundaries = (uint64_t)sqlite3_column_int64(st, 1);
        info->trials_planned = (uint64_t)sqlite3_column_int64(st, 2);
        info->trials_done = (uint64_t)sqlite3_column_int64(st, 3);
        info->next_trial = (uint64_t)sqlite3_column_int64(st, 4);
        info->seed = sc->seed;
    } else if (rc != SQLITE_DONE) {
        rc = fail(db, "find the run to resume");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (prepare(db, "UPDATE runs SET status='running' WHERE id=?", &st) !=
        SQLITE_OK)
        return fail(db, "mark the resumed run running");
    sqlite3_bind_int64(st, 1, info->run_id);
    rc = step(db, st);
    if (rc != SQLITE_DONE)
        rc = fail(db, "mark the resumed run running");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 1 : rc;
}

int db_run_find_finished(struct db *db, const struct scenario *sc,
                         uint64_t shard_index, uint64_t shard_count,
                         int64_t *run_id, enum db_run_status *status)
{
    sqlite3_stmt *st;
    int rc;

    *run_id = 0;
    *status = RUN_RUNNING;
    if (prepare(db,
                "SELECT r.id, r.status = 'passed' FROM runs r WHERE" SAME_RUN
                " AND r.status IN ('passed', 'failed')"
                " ORDER BY r.id DESC LIMIT 1",
                &st) != SQLITE_OK)
        return fail(db, "find a finished run");
    bind_identity(st, sc, shard_index, shard_count);
    rc = step(db, st);
    if (rc == SQLITE_ROW) {
        *run_id = sqlite3_column_int64(st, 0);
        *status = sqlite3_column_int(st, 1) ? RUN_PASSED : RUN_FAILED;
    } else if (rc != SQLITE_DONE) {
        rc = fail(db, "find a finished run");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : rc;
}

int db_run_set_shard(struct db *db, int64_t run_id, uint64_t index,
                     uint64_t count)
{
    sqlite3_stmt *st;
    int rc;
    if (prepare(db, "UPDATE runs SET shard_index=?, shard_count=? WHERE id=?",
                &st) != SQLITE_OK)
        return fail(db, "set shard");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)count);
    sqlite3_bind_int64(st, 3, run_id);
    if ((rc = step(db, st)) != SQLITE_DONE)
        rc = fail(db, "set shard");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rc;
}

int db_trials_done(struct db *db, int64_t run_id, uint8_t *done,
                   uint64_t planned, uint64_t *count)
{
    sqlite3_stmt *st;
    int rc;
    *count = 0;
    if (prepare(db, "SELECT trial_id FROM trials WHERE run_id=?", &st) !=
        SQLITE_OK)
        return fail(db, "read trials");
    sqlite3_bind_int64(st, 1, run_id);
    while ((rc = step(db, st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id >= 0 && (uint64_t)id < planned && !done[id]) {
            done[id] = 1;
            (*count)++;
        }
    }
    if (rc != SQLITE_DONE)
        rc = fail(db, "read trials");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : rc;
}

/* Trials of the run's slice of the plan the file holds, and the slice's
 * size. The run row is read as untrusted: a count or index out of range
 * is an error, not a division by zero. */
static int slice_count(struct db *db, int64_t run_id, uint64_t *committed,
                       uint64_t *expected)
{
    sqlite3_stmt *st;
    sqlite3_int64 planned, index, count;
    int rc;

    *committed = *expected = 0;
    if (prepare(db,
                "SELECT trials_planned, shard_index, shard_count,"
                " typeof(trials_planned) || typeof(shard_index)"
                " || typeof(shard_count) FROM runs WHERE id = ?",
                &st) != SQLITE_OK)
        return fail(db, "count committed trials");
    sqlite3_bind_int64(st, 1, run_id);
    rc = step(db, st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE) {
            snprintf(db->msg, sizeof(db->msg), "%s: no run %lld", db->path,
                     (long long)run_id);
            rc = DB_E_INPUT;
        } else {
            rc = fail(db, "count committed trials");
        }
        sqlite3_finalize(st);
        return rc;
    }
    planned = sqlite3_column_int64(st, 0);
    index = sqlite3_column_int64(st, 1);
    count = sqlite3_column_int64(st, 2);
    rc = strcmp((const char *)sqlite3_column_text(st, 3),
                "integerintegerinteger");
    sqlite3_finalize(st);
    if (rc || planned < 0 || count < 1 || count > MAX_SHARDS || index < 0 ||
        index >= count) {
        snprintf(db->msg, sizeof(db->msg),
                 "%s: run %lld: trials_planned %lld, shard %lld/%lld: not a "
                 "plan and a slice of it",
                 db->path, (long long)run_id, (long long)planned,
                 (long long)index, (long long)count);
        return DB_E_INPUT;
    }
    *expected = (uint64_t)(planned / count + (index < planned % count));
    if (prepare(db,
                "SELECT count(*) FROM trials WHERE run_id = ?1"
                " AND typeof(trial_id) = 'integer' AND trial_id >= 0"
                " AND trial_id < ?2 AND trial_id % ?3 = ?4",
                &st) != SQLITE_OK)
        return fail(db, "count committed trials");
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, planned);
    sqlite3_bind_int64(st, 3, count);
    sqlite3_bind_int64(st, 4, index);
    rc = step(db, st);
    if (rc == SQLITE_ROW)
        *committed = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = fail(db, "count committed trials");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc;
}

int db_run_count(struct db *db, int64_t run_id, uint64_t *committed,
                 uint64_t *expected)
{
    return slice_count(db, run_id, committed, expected);
}

/* Give up the open batch (it could not be committed): what follows must
 * not be lost with it. */
static void drop_batch(struct db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    db->open_tx = !sqlite3_get_autocommit(db->h);
    if (!db->open_tx)
        db->pending = 0;
}

int db_run_end(struct db *db, int64_t run_id, enum db_run_status status)
{
    static const char *const names[] = {"running", "passed", "failed",
                                        "interrupted"};
    sqlite3_stmt *st;
    char when[32];
    uint64_t committed, expected;
    int first, rc;

    if ((unsigned)status > RUN_INTERRUPTED) {
        snprintf(db->msg, sizeof(db->msg), "%s: run status %d: not a status",
                 db->path, (int)status);
        return DB_E_INPUT;
    }
    first = db_flush(db);
    if (first) {
        /* The batch's trials are not in the file (a resume runs them
         * again); a passed status is out of the question, another one is
         * still worth recording. */
        drop_batch(db);
        if (status == RUN_PASSED)
            return first;
    }
    if ((rc = exec(db, "BEGIN IMMEDIATE", "end run")))
        return first ? first : rc;
    /* In the transaction that writes the status, so no caller can mark a
     * run passed that lacks trials, whatever it believes it committed. */
    if (status == RUN_PASSED) {
        if ((rc = slice_count(db, run_id, &committed, &expected)))
            goto rollback;
        if (committed != expected) {
            snprintf(db->msg, sizeof(db->msg),
                     "%s: run %lld: %llu of the %llu trials of its slice of "
                     "the plan are committed: not marked passed",
                     db->path, (long long)run_id, (unsigned long long)committed,
                     (unsigned long long)expected);
            rc = DB_E_INCOMPLETE;
            goto rollback;
        }
    }
    iso_now(when, sizeof(when));
    if (prepare(db, "UPDATE runs SET status=?, ended_at=? WHERE id=?", &st) !=
        SQLITE_OK) {
        rc = fail(db, "end run");
        goto rollback;
    }
    sqlite3_bind_text(st, 1, names[status], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, when, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, run_id);
    rc = step(db, st);
    if (rc != SQLITE_DONE)
        rc = fail(db, "end run");
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto rollback;
    if ((rc = fault(db, "fotasim/db/commit")) ||
        (rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
        rc = fail(db, "commit the run's status");
        goto rollback;
    }
    return first;
rollback:
    drop_batch(db);
    return first ? first : rc;
}

/* ------------------------------------------------------------ trials */

/* Trials and wear rows go into the open batch transaction: one commit per
 * batch instead of one per row (a commit per row caps the rate at a few
 * thousand rows a second). */
static int begin_batch(struct db *db)
{
    int rc;
    if (db->open_tx)
        return 0;
    if ((rc = exec(db, "BEGIN", "begin a batch")))
        return rc;
    db->open_tx = 1;
    return 0;
}

/* Commit by count and by time, so a kill loses little. */
static int maybe_commit(struct db *db)
{
    if (++db->pending >= BATCH ||
        clock_wall_s() - db->last_commit > BATCH_SECONDS)
        return db_flush(db);
    return 0;
}

int db_flush(struct db *db)
{
    int rc;
    if (!db->open_tx)
        return 0;
    rc = fault(db, "fotasim/db/commit");
    if (!rc)
        rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        char what[64];
        snprintf(what, sizeof(what), "commit of %d row%s", db->pending,
                 db->pending == 1 ? "" : "s");
        rc = fail(db, what);
        /* A failed COMMIT (busy past the timeout, disk full) may leave the
         * transaction open: the batch is kept for a later try or for
         * db_run_end to drop. SQLite may also have rolled it back. */
        db->open_tx = !sqlite3_get_autocommit(db->h);
        if (!db->open_tx)
            db->pending = 0;
        return rc;
    }
    db->open_tx = 0;
    db->pending = 0;
    db->last_commit = clock_wall_s();
    return 0;
}

/* After a failed insert: the statement is undone, and SQLite may have
 * rolled the whole batch back (disk full, I/O error). */
static int insert_failed(struct db *db, sqlite3_stmt *st, const char *what)
{
    int rc = fail(db, what);
    sqlite3_reset(st);
    db->open_tx = !sqlite3_get_autocommit(db->h);
    if (!db->open_tx)
        db->pending = 0;
    return rc;
}

int db_trial_add(struct db *db, int64_t run_id, const struct trial *t)
{
    static const char *const ops[] = {"read", "program", "erase"};
    sqlite3_stmt *s = db->ins;
    int i = 1, k, rc;

    if ((rc = begin_batch(db)))
        return rc;
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
    sqlite3_bind_text(s, i++,
                      cut_area_name(t->cut_area[0] < CUT_AREA_COUNT
                                        ? t->cut_area[0]
                                        : CUT_AREA_DATA),
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
    if (step(db, s) != SQLITE_DONE) {
        char what[64];
        snprintf(what, sizeof(what), "insert trial %llu",
                 (unsigned long long)t->id);
        return insert_failed(db, s, what);
    }
    return maybe_commit(db);
}

int db_wear_add(struct db *db, int64_t run_id, uint32_t unit,
                uint32_t erases_update, uint32_t erases_max)
{
    sqlite3_stmt *st = db->wear;
    int rc;
    if ((rc = begin_batch(db)))
        return rc;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, unit);
    sqlite3_bind_int64(st, 3, erases_update);
    sqlite3_bind_int64(st, 4, erases_max);
    if (step(db, st) != SQLITE_DONE) {
        char what[64];
        snprintf(what, sizeof(what), "insert wear of unit %u", unit);
        return insert_failed(db, st, what);
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
    sqlite3_stmt *st;
    char err[512];
    const char *v;
    sqlite3_int64 depth, code;
    int rc, k;

    memset(t, 0, sizeof(*t));
    /* Version 2 (read-only: not upgraded) had no false_claim column. */
    if (prepare(db,
                db->version >= 3
                    ? "SELECT t.seed, t.depth, t.cut1, t.cut2, t.cut3, t.cut4,"
                      " t.verdict_code, t.bytes_downloaded,"
                      " t.bytes_redownloaded, t.blocks_redownloaded, t.erases,"
                      " t.programs, t.recover_ns, r.scenario_text,"
                      " r.scenario_path, t.failed, t.detail, r.seed,"
                      " t.cut1_op, t.cut1_addr, t.cut1_area, t.engine_error,"
                      " t.violation, t.boots, t.scan_ns, t.wall_ns,"
                      " t.blocks_resumed, t.false_claim"
                      " FROM trials t JOIN runs r ON r.id = t.run_id"
                      " WHERE t.run_id = ? AND t.trial_id = ?"
                    : "SELECT t.seed, t.depth, t.cut1, t.cut2, t.cut3, t.cut4,"
                      " t.verdict_code, t.bytes_downloaded,"
                      " t.bytes_redownloaded, t.blocks_redownloaded, t.erases,"
                      " t.programs, t.recover_ns, r.scenario_text,"
                      " r.scenario_path, t.failed, t.detail, r.seed,"
                      " t.cut1_op, t.cut1_addr, t.cut1_area, t.engine_error,"
                      " t.violation, t.boots, t.scan_ns, t.wall_ns,"
                      " t.blocks_resumed, 0"
                      " FROM trials t JOIN runs r ON r.id = t.run_id"
                      " WHERE t.run_id = ? AND t.trial_id = ?",
                &st) != SQLITE_OK)
        return fail(db, "read trial");
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)trial_id);
    rc = step(db, st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE) {
            snprintf(db->msg, sizeof(db->msg), "%s: no trial %llu in run %lld",
                     db->path, (unsigned long long)trial_id, (long long)run_id);
            rc = DB_E_INPUT;
        } else {
            rc = fail(db, "read trial");
        }
        sqlite3_finalize(st);
        return rc;
    }
    /* The file is untrusted: the fields the replay relies on must be in
     * range before they index anything. */
    depth = sqlite3_column_int64(st, 1);
    code = sqlite3_column_int64(st, 6);
    if (depth < 1 || depth > TRIAL_MAX_DEPTH || code < 0 ||
        code >= VERDICT_COUNT) {
        snprintf(db->msg, sizeof(db->msg),
                 "%s: trial %llu of run %lld: depth %lld (1 to %d), "
                 "verdict_code %lld (0 to %d): not a trial",
                 db->path, (unsigned long long)trial_id, (long long)run_id,
                 (long long)depth, TRIAL_MAX_DEPTH, (long long)code,
                 VERDICT_COUNT - 1);
        sqlite3_finalize(st);
        return DB_E_INPUT;
    }
    t->id = trial_id;
    t->seed = (uint64_t)sqlite3_column_int64(st, 0);
    t->depth = (uint32_t)depth;
    for (k = 0; k < TRIAL_MAX_DEPTH; k++)
        t->cuts[k] = (uint64_t)sqlite3_column_int64(st, 2 + k);
    t->verdict = (uint8_t)code;
    t->bytes_downloaded = (uint64_t)sqlite3_column_int64(st, 7);
    t->bytes_redownloaded = (uint64_t)sqlite3_column_int64(st, 8);
    t->blocks_redownloaded = (uint32_t)sqlite3_column_int64(st, 9);
    t->erases = (uint64_t)sqlite3_column_int64(st, 10);
    t->programs = (uint64_t)sqlite3_column_int64(st, 11);
    t->recover_ns = (uint64_t)sqlite3_column_int64(st, 12);
    t->failed = sqlite3_column_int(st, 15) != 0;
    v = (const char *)sqlite3_column_text(st, 16);
    snprintf(t->detail, sizeof(t->detail), "%s", v ? v : "");
    /* Only the first cut's op, address and area are stored. */
    t->cut_op[0] =
        (uint8_t)name_index((const char *)sqlite3_column_text(st, 18), ops, 3);
    t->cut_addr[0] = (uint32_t)sqlite3_column_int64(st, 19);
    {
        int area = cut_area_parse((const char *)sqlite3_column_text(st, 20));
        t->cut_area[0] = (uint8_t)(area < 0 ? CUT_AREA_DATA : area);
    }
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
        if (scenario_load_text(sc_out, text ? text : "",
                               path ? path : "stored scenario", err,
                               sizeof(err))) {
            snprintf(db->msg, sizeof(db->msg), "%s: stored scenario: %.480s",
                     db->path, err);
            rc = DB_E_INPUT;
        } else { /* --seed may have overridden the file's */
            sc_out->seed = (uint64_t)sqlite3_column_int64(st, 17);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ merge */

/* One shard's run, read from a file that is untrusted: every field is
 * checked before it sizes, indexes or divides anything. */
struct shard_run {
    char *text, *tool, *uri;
    sqlite3_int64 id, seed, index, count, planned, boundaries, trials;
    char status[16];
};

static char *dup_col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return strdup(v ? v : "");
}

/* An integer column of the run row, by name for the message. */
static int int_col(sqlite3_stmt *st, int i, const char *path, sqlite3_int64 *v,
                   char *err, size_t errlen)
{
    if (sqlite3_column_type(st, i) != SQLITE_INTEGER) {
        int type = sqlite3_column_type(st, i);
        snprintf(err, errlen, "%s: runs.%s is %s, not an integer", path,
                 sqlite3_column_name(st, i),
                 type == SQLITE_NULL    ? "NULL"
                 : type == SQLITE_TEXT  ? "text"
                 : type == SQLITE_FLOAT ? "a real number"
                                        : "a blob");
        return DB_E_INPUT;
    }
    *v = sqlite3_column_int64(st, i);
    return 0;
}

/* One integer from sql with ?1 = the run id, ?2..?4 = planned, count,
 * index; text (when not NULL) receives the first column as text. */
static int shard_query(struct db *db, const struct shard_run *r,
                       const char *sql, const char *what, sqlite3_int64 *n,
                       char *text, size_t textlen)
{
    sqlite3_stmt *st;
    int rc;
    *n = 0;
    if (text)
        text[0] = 0;
    if (prepare(db, sql, &st) != SQLITE_OK)
        return fail(db, what);
    sqlite3_bind_int64(st, 1, r->id);
    if (sqlite3_bind_parameter_count(st) >= 4) {
        sqlite3_bind_int64(st, 2, r->planned);
        sqlite3_bind_int64(st, 3, r->count);
        sqlite3_bind_int64(st, 4, r->index);
    }
    rc = step(db, st);
    if (rc == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        if (text)
            snprintf(text, textlen, "%s",
                     sqlite3_column_text(st, 0)
                         ? (const char *)sqlite3_column_text(st, 0)
                         : "NULL");
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = 1; /* no row */
    } else {
        rc = fail(db, what);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Read and check the one run a shard database holds. */
static int read_shard(const char *path, struct shard_run *r, char *err,
                      size_t errlen)
{
    static const char *const statuses[] = {"running", "passed", "failed",
                                           "interrupted"};
    struct db *db = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3_int64 n;
    char first[64];
    int rc, rows = 0, k;
    const char *status;

    memset(r, 0, sizeof(*r));
    if ((rc = db_open_readonly(&db, path, err, errlen)))
        return rc;
    if (db->version != DB_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: schema version %d, this fotasim reads %d",
                 path, db->version, DB_SCHEMA_VERSION);
        rc = DB_E_INPUT;
        goto out;
    }
    if (prepare(db,
                "SELECT id, seed, shard_index, shard_count, trials_planned,"
                " boundaries, scenario_text, tool_version, status FROM runs",
                &st) != SQLITE_OK) {
        rc = fail(db, "read the run");
        snprintf(err, errlen, "%s", db->msg);
        goto out;
    }
    while ((rc = step(db, st)) == SQLITE_ROW) {
        if (rows++)
            continue;
        if ((rc = int_col(st, 0, path, &r->id, err, errlen)) ||
            (rc = int_col(st, 1, path, &r->seed, err, errlen)) ||
            (rc = int_col(st, 2, path, &r->index, err, errlen)) ||
            (rc = int_col(st, 3, path, &r->count, err, errlen)) ||
            (rc = int_col(st, 4, path, &r->planned, err, errlen)) ||
            (rc = int_col(st, 5, path, &r->boundaries, err, errlen)))
            goto out;
        r->text = dup_col(st, 6);
        r->tool = dup_col(st, 7);
        status = (const char *)sqlite3_column_text(st, 8);
        snprintf(r->status, sizeof(r->status), "%s", status ? status : "");
        for (k = 0; k < 4 && strcmp(r->status, statuses[k]); k++)
            ;
        if (k == 4) {
            snprintf(err, errlen,
                     "%s: runs.status '%.40s' is not one of running, passed, "
                     "failed, interrupted",
                     path, status ? status : "NULL");
            rc = DB_E_INPUT;
            goto out;
        }
        if (!r->text || !r->tool) {
            snprintf(err, errlen, "%s: out of memory", path);
            rc = DB_E_STORAGE;
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = fail(db, "read the run");
        snprintf(err, errlen, "%s", db->msg);
        goto out;
    }
    if (rows != 1) {
        snprintf(err, errlen,
                 "%s: holds %d runs; merge takes one run per shard file", path,
                 rows);
        rc = DB_E_INPUT;
        goto out;
    }
    if (r->count < 1 || r->count > MAX_SHARDS) {
        snprintf(err, errlen, "%s: runs.shard_count %lld is not 1 to %d", path,
                 (long long)r->count, MAX_SHARDS);
        rc = DB_E_INPUT;
        goto out;
    }
    if (r->index < 0 || r->index >= r->count) {
        snprintf(err, errlen,
                 "%s: runs.shard_index %lld is not 0 to %lld (shard_count "
                 "%lld)",
                 path, (long long)r->index, (long long)r->count - 1,
                 (long long)r->count);
        rc = DB_E_INPUT;
        goto out;
    }
    if (r->planned < 0 || r->boundaries < 0) {
        snprintf(err, errlen,
                 "%s: runs.trials_planned %lld, runs.boundaries %lld: "
                 "negative",
                 path, (long long)r->planned, (long long)r->boundaries);
        rc = DB_E_INPUT;
        goto out;
    }
    /* Rows of no run in the file would be dropped by the copy: refuse
     * rather than lose them quietly. */
    if ((rc = shard_query(db, r,
                          "SELECT (SELECT count(*) FROM trials WHERE run_id IS"
                          " NOT ?1) + (SELECT count(*) FROM wear WHERE run_id"
                          " IS NOT ?1)",
                          "read trials", &n, NULL, 0)) < 0)
        goto sqlerr;
    if (n) {
        snprintf(err, errlen,
                 "%s: %lld trial or wear rows belong to no run of the file "
                 "(trials.run_id, wear.run_id other than %lld)",
                 path, (long long)n, (long long)r->id);
        rc = DB_E_INPUT;
        goto out;
    }
    /* A trial outside the slice would take the place of one of another
     * shard, or of none: the merged run would lack a trial and not say. */
    rc = shard_query(db, r,
                     "SELECT quote(trial_id) FROM trials WHERE run_id = ?1"
                     " AND NOT (typeof(trial_id) = 'integer' AND trial_id >= 0"
                     " AND trial_id < ?2 AND trial_id % ?3 = ?4) LIMIT 1",
                     "read trials", &n, first, sizeof(first));
    if (rc < 0)
        goto sqlerr;
    if (rc == 0) {
        snprintf(err, errlen,
                 "%s: trial %s lies outside shard %lld/%lld of the "
                 "%lld-trial plan (trials.trial_id)",
                 path, first, (long long)r->index, (long long)r->count,
                 (long long)r->planned);
        rc = DB_E_INPUT;
        goto out;
    }
    if ((rc =
             shard_query(db, r, "SELECT count(*) FROM trials WHERE run_id = ?1",
                         "count trials", &r->trials, NULL, 0)) < 0)
        goto sqlerr;
    r->uri = strdup(db->uri);
    if (!r->uri) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = DB_E_STORAGE;
        goto out;
    }
    rc = 0;
    goto out;
sqlerr:
    snprintf(err, errlen, "%s", db->msg);
out:
    sqlite3_finalize(st);
    db_close(db);
    return rc;
}

/* ---------------------------------------------------------- sweeps */

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *t)
{
    if (t && *t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int db_sweep_add(struct db *db, const char *key, const char *cut_rate,
                 const char *lead, const struct sweep_row *rows, int n,
                 int best, int second, int status)
{
    sqlite3_stmt *st = NULL;
    sqlite3_int64 id;
    char when[32];
    int rc, i;

    if ((rc = db_flush(db)))
        return rc;
    if ((rc = exec(db, "BEGIN IMMEDIATE", "store the sweep")))
        return rc;
    iso_now(when, sizeof(when));
    if (prepare(db,
                "INSERT INTO sweeps (key, cut_rate, created_at, best,"
                " runner_up, status, lead) VALUES (?,?,?,?,?,?,?)",
                &st) != SQLITE_OK) {
        rc = fail(db, "store the sweep");
        goto rollback;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, cut_rate, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, when, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 4, best >= 0 ? rows[best].value : NULL);
    bind_text_or_null(st, 5, second >= 0 ? rows[second].value : NULL);
    sqlite3_bind_int(st, 6, status);
    sqlite3_bind_text(st, 7, lead ? lead : "", -1, SQLITE_TRANSIENT);
    rc = step(db, st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE) {
        rc = fail(db, "store the sweep");
        goto rollback;
    }
    id = sqlite3_last_insert_rowid(db->h);
    if (prepare(db,
                "INSERT INTO sweep_values VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,"
                "?,?,?,?,?,?,?,?)",
                &st) != SQLITE_OK) {
        rc = fail(db, "store the sweep's values");
        goto rollback;
    }
    for (i = 0; i < n; i++) {
        const struct sweep_row *r = &rows[i];
        int k = 1;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, k++, id);
        sqlite3_bind_int(st, k++, i);
        sqlite3_bind_text(st, k++, r->value, -1, SQLITE_TRANSIENT);
        if (r->ok && r->run_id > 0)
            sqlite3_bind_int64(st, k++, r->run_id);
        else
            sqlite3_bind_null(st, k++);
        sqlite3_bind_int(st, k++, r->ok);
        sqlite3_bind_int(st, k++, r->ok && !r->failing);
        bind_text_or_null(st, k++, !r->ok ? r->why : r->reason);
        sqlite3_bind_int64(st, k++, (sqlite3_int64)r->trials);
        sqlite3_bind_int64(st, k++, (sqlite3_int64)r->failing);
        sqlite3_bind_int64(st, k++, (sqlite3_int64)r->unsafe);
        sqlite3_bind_int64(st, k++, r->record_bytes);
        sqlite3_bind_double(st, k++, r->mean_redownload);
        sqlite3_bind_double(st, k++, r->max_redownload);
        sqlite3_bind_int64(st, k++, (sqlite3_int64)r->update_erases);
        sqlite3_bind_int64(st, k++, r->max_unit_erases);
        sqlite3_bind_double(st, k++, r->scan_ms);
        sqlite3_bind_int64(st, k++, r->ram_bytes);
        sqlite3_bind_double(st, k++, r->update_s);
        sqlite3_bind_double(st, k++, r->cut_cost_s);
        sqlite3_bind_double(st, k++, r->cuts_per_update);
        sqlite3_bind_double(st, k++, r->expected_s);
        if (step(db, st) != SQLITE_DONE) {
            rc = fail(db, "store the sweep's values");
            goto rollback;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if ((rc = exec(db, "COMMIT", "store the sweep")))
        goto rollback;
    return 0;
rollback:
    sqlite3_finalize(st);
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return rc ? rc : DB_E_STORAGE;
}

int db_sweep_lead(struct db *db, char **lead, char *when, size_t whenlen)
{
    sqlite3_stmt *st;
    const unsigned char *t;
    int rc;

    *lead = NULL;
    if (when && whenlen)
        when[0] = 0;
    if (db->version < 4)
        return 0; /* no sweep was ever stored */
    /* The latest sweep whose every run this file still holds (a copy of
     * some of its runs is not that sweep). */
    if (prepare(db,
                "SELECT lead, created_at FROM sweeps s WHERE NOT EXISTS"
                " (SELECT 1 FROM sweep_values v WHERE v.sweep_id = s.id AND"
                " v.run_id IS NOT NULL AND v.run_id NOT IN (SELECT id FROM"
                " runs)) ORDER BY id DESC LIMIT 1",
                &st) != SQLITE_OK)
        return fail(db, "read the sweep");
    rc = step(db, st);
    if (rc == SQLITE_ROW) {
        t = sqlite3_column_text(st, 0);
        if (t && *t && !(*lead = strdup((const char *)t))) {
            sqlite3_finalize(st);
            return DB_E_STORAGE;
        }
        t = sqlite3_column_text(st, 1);
        if (when && whenlen)
            snprintf(when, whenlen, "%s", t ? (const char *)t : "");
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(db, "read the sweep");
    return 0;
}

/* Remove a merge output that is not complete, with its WAL files. */
static void remove_db(const char *path)
{
    char side[1100];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

/* The slice of a planned-trial plan shard index of count holds. */
static sqlite3_int64 slice_size(sqlite3_int64 planned, sqlite3_int64 index,
                                sqlite3_int64 count)
{
    return planned / count + (index < planned % count);
}

int db_merge(const char *out, char *const *in, int nin, char *err,
             size_t errlen, FILE *report)
{
    struct shard_run *r;
    unsigned char *seen = NULL;
    struct db *db = NULL;
    sqlite3_int64 total = 0, k;
    int i, rc = DB_E_INPUT, missing = 0;
    struct stat st;
    char sql[1536], what[1200];

    if (!out || !*out) {
        snprintf(err, errlen, "empty output file name");
        return DB_E_INPUT;
    }
    if (nin < 1) {
        snprintf(err, errlen, "no shard databases to merge");
        return DB_E_INPUT;
    }
    if (!stat(out, &st) || errno != ENOENT) {
        snprintf(err, errlen, "%s: exists; merge writes a new database", out);
        return DB_E_INPUT;
    }
    r = calloc((size_t)nin, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return DB_E_STORAGE;
    }
    for (i = 0; i < nin; i++) {
        if ((rc = read_shard(in[i], &r[i], err, errlen)))
            goto done;
        rc = DB_E_INPUT;
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
        if (i && (r[i].planned != r[0].planned ||
                  r[i].boundaries != r[0].boundaries)) {
            snprintf(err, errlen,
                     "%s: runs.trials_planned %lld, boundaries %lld; %s: %lld, "
                     "%lld: not a shard of the same run",
                     in[i], (long long)r[i].planned, (long long)r[i].boundaries,
                     in[0], (long long)r[0].planned,
                     (long long)r[0].boundaries);
            goto done;
        }
        if (i && r[i].count != r[0].count) {
            snprintf(err, errlen, "%s: split in %lld shards, %s in %lld", in[i],
                     (long long)r[i].count, in[0], (long long)r[0].count);
            goto done;
        }
    }
    /* count is 1..MAX_SHARDS and each index inside it (read_shard). */
    seen = calloc((size_t)r[0].count, 1);
    if (!seen) {
        snprintf(err, errlen, "out of memory");
        rc = DB_E_STORAGE;
        goto done;
    }
    for (i = 0; i < nin; i++) {
        sqlite3_int64 want = slice_size(r[i].planned, r[i].index, r[i].count);
        if (seen[r[i].index]) {
            snprintf(err, errlen, "%s: shard %lld/%lld given twice", in[i],
                     (long long)r[i].index, (long long)r[i].count);
            goto done;
        }
        seen[r[i].index] = 1;
        total += r[i].trials;
        /* A shard holds ids index, index + count, ... of the plan, and
         * only those (read_shard): the count tells whether all. */
        if (r[i].trials != want) {
            snprintf(err, errlen,
                     "%s: shard %lld/%lld holds %lld trials of its %lld", in[i],
                     (long long)r[i].index, (long long)r[i].count,
                     (long long)r[i].trials, (long long)want);
            goto done;
        }
        if (report)
            fprintf(report, "  shard %lld/%lld: %lld trials (%s)\n",
                    (long long)r[i].index, (long long)r[i].count,
                    (long long)r[i].trials, in[i]);
    }
    for (k = 0; k < r[0].count; k++)
        if (!seen[k]) {
            size_t at;
            if (!missing++)
                snprintf(err, errlen,
                         "missing shard(s) of %lld:", (long long)r[0].count);
            at = strlen(err);
            snprintf(err + at, errlen - at, " %lld", (long long)k);
        }
    if (missing)
        goto done;
    if (total != r[0].planned) {
        snprintf(err, errlen, "the shards hold %lld trials, the plan has %lld",
                 (long long)total, (long long)r[0].planned);
        goto done;
    }

    if ((rc = db_open(&db, out, err, errlen))) {
        remove_db(out);
        goto done;
    }
    if ((rc = exec(db, "BEGIN", "begin the merge")))
        goto sqlerr;
    for (i = 0; i < nin; i++) {
        /* The shard as read_shard opened it: read-only (a URI). */
        char *q = sqlite3_mprintf("ATTACH %Q AS s", r[i].uri);
        snprintf(what, sizeof(what), "attach %s", in[i]);
        rc = q ? exec(db, q, what) : DB_E_STORAGE;
        sqlite3_free(q);
        if (rc)
            goto sqlerr;
        snprintf(what, sizeof(what), "copy %s", in[i]);
        if (i == 0) {
            snprintf(sql, sizeof(sql),
                     "INSERT INTO runs SELECT 1, name, scenario_path,"
                     " scenario_text, seed, preset, block_size, hash, digest,"
                     " verify, mirror, image_size, tool_version, started_at,"
                     " ended_at, status, boundaries, trials_planned, 0, 1,"
                     " engine FROM s.runs WHERE id = %lld",
                     (long long)r[i].id);
            if ((rc = exec(db, sql, what)))
                goto sqlerr;
        }
        snprintf(sql, sizeof(sql),
                 "INSERT INTO trials SELECT 1, trial_id, seed, depth, cut1,"
                 " cut2, cut3, cut4, cut1_op, cut1_addr, cut1_area, verdict,"
                 " verdict_code, failed, engine_error, violation, detail,"
                 " bytes_downloaded, bytes_redownloaded, blocks_redownloaded,"
                 " boots, erases, programs, recover_ns, scan_ns, wall_ns,"
                 " blocks_resumed, false_claim FROM s.trials"
                 " WHERE run_id = %lld;"
                 "INSERT INTO wear SELECT 1, unit, erases_update, erases_max"
                 " FROM s.wear WHERE run_id = %lld"
                 " ON CONFLICT(run_id, unit) DO UPDATE SET erases_max ="
                 " max(coalesce(erases_max, 0), excluded.erases_max);"
                 "UPDATE runs SET started_at = min(started_at,"
                 " (SELECT min(started_at) FROM s.runs)), ended_at ="
                 " max(ended_at, (SELECT max(ended_at) FROM s.runs));",
                 (long long)r[i].id, (long long)r[i].id);
        if ((rc = exec(db, sql, what)) || (rc = exec(db, "COMMIT", what)) ||
            (rc = exec(db, "DETACH s", what)) || (rc = exec(db, "BEGIN", what)))
            goto sqlerr;
    }
    if ((rc = exec(db,
                   "UPDATE runs SET status = CASE WHEN (SELECT sum(failed)"
                   " FROM trials) > 0 THEN 'failed' ELSE 'passed' END",
                   "end the merged run")) ||
        (rc = exec(db, "COMMIT", "end the merged run")))
        goto sqlerr;
    if ((rc = db_close(db))) {
        db = NULL;
        snprintf(err, errlen, "%s: cannot close", out);
        remove_db(out);
        goto done;
    }
    db = NULL;
    if (report)
        fprintf(report, "merged %d shards, %lld trials into %s\n", nin,
                (long long)total, out);
    rc = 0;
    goto done;
sqlerr:
    snprintf(err, errlen, "%s", db->msg);
    db_close(db);
    db = NULL;
    remove_db(out);
done:
    db_close(db);
    for (i = 0; i < nin; i++) {
        free(r[i].text);
        free(r[i].tool);
        free(r[i].uri);
    }
    free(r);
    free(seen);
    return rc;
}
