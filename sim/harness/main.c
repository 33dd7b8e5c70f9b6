/*
 * fotasim: the command. `fotasim run|replay|list`, see `fotasim --help`.
 * Exit status: 0 every trial met the expectations, 1 some did not (or the
 * run failed), 2 bad input, 3 storage error (the database or its file
 * system failed: disk full, I/O error, read-only, locked, corrupt; the run
 * is not marked passed), 130 interrupted.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli_args.h"
#include "clock.h"
#include "campaign.h"
#include "cmd_pack.h"
#include "db.h"
#include "junit.h"
#include "pipeline.h"
#include "report.h"
#include "scenario.h"
#include "sweep.h"
#include "sim_flash.h"
#include "torture.h"
#include "workers.h"

#ifndef FOTASIM_VERSION
#define FOTASIM_VERSION "0.0.0"
#endif

#define EXIT_FAILED      1
#define EXIT_USAGE       2
#define EXIT_STORAGE     3
#define EXIT_INTERRUPTED 130
#define PRINT_FAILURES   20

static volatile sig_atomic_t interrupted;
/* How this program was called: a replay line must name the same build
 * (fotasim-mut-<name> replays a mutant, not the real engine). */
static const char *prog_name = "fotasim";

#ifndef FOTASIM_REPORTS_DIR
#define FOTASIM_REPORTS_DIR "reports"
#endif

/* Where the report's queries are: $FOTASIM_REPORTS; beside an installed
 * program (PREFIX/bin/fotasim -> PREFIX/share/fotasim/reports); else the
 * source tree this build came from. */
static const char *reports_dir(void)
{
    static char dir[4200];
    const char *env = getenv("FOTASIM_REPORTS");
    char exe[4000], probe[4200];
    ssize_t n;
    if (env && *env)
        return env;
    if (dir[0])
        return dir;
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;
        exe[n] = 0;
        if ((slash = strrchr(exe, '/'))) {
            *slash = 0;
            snprintf(probe, sizeof(probe),
                     "%s/../share/fotasim/reports/runs.sql", exe);
            if (access(probe, R_OK) == 0) {
                snprintf(dir, sizeof(dir), "%s/../share/fotasim/reports", exe);
                return dir;
            }
        }
    }
    snprintf(dir, sizeof(dir), "%s", FOTASIM_REPORTS_DIR);
    return dir;
}

/* SIGINT/SIGTERM: the torture loop (and, with -j, every worker) stops
 * after the trial in progress; the caller commits and exits 130. */
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    torture_request_stop();
}

static int usage_main(FILE *to);

static int usage_run(FILE *to)
{
    fprintf(
        to,
        "usage: fotasim run SCENARIO [options]\n\n"
        "  --db FILE        SQLite outcome log (default: fotasim.db)\n"
        "  --resume         continue the unfinished run of this scenario "
        "and seed in --db\n"
        "  --junit FILE     write JUnit XML (a test case per failing trial, "
        "one for the rest)\n"
        "  --summary FILE   write the Markdown job summary (verdict line "
        "first); on GitHub\n"
        "                   append it: cat FILE >> \"$GITHUB_STEP_SUMMARY\"\n"
        "  --seed N         run seed (default: the scenario's)\n"
        "  --set S.K=V      override a scenario key, e.g. "
        "--set engine.block_size=1K (repeatable)\n"
        "  --engine E       the engine under test: fwresume, offset-only, "
        "restart-zero,\n"
        "                   or a path to a shared object "
        "(docs/engines.md); = --set engine.kind=E\n"
        "  -j N             N worker processes (default 1); same verdicts "
        "for any N\n"
        "  --shard I/N      run only trials with id %% N == I (0-based); "
        "'auto' reads\n"
        "                   SLURM_ARRAY_TASK_ID, CI_NODE_INDEX, "
        "JOB_COMPLETION_INDEX (docs/scale-out.md)\n"
        "  --progress=M     bar (default on a terminal), plain (one "
        "line every 5 s: the\n"
        "                   default when stderr is not a terminal) or "
        "none\n"
        "  --quiet          no progress, no summary\n"
        "  --version        the program's version\n\n"
        "Exit status: 0 all trials met the expectations, every one "
        "committed; 1 some did not;\n2 bad input; 3 storage error "
        "(disk full, I/O error, read-only, locked or corrupt\n"
        "database: the run is not marked passed); 130 interrupted. "
        "Committed trials are\nkept: --resume carries on.\n");
    return to == stderr ? EXIT_USAGE : 0;
}

static int usage_replay(FILE *to)
{
    fprintf(to,
            "usage: fotasim replay DB --run R --trial T [options]\n"
            "       fotasim replay SCENARIO --cut N[,M...] [options]\n\n"
            "  --dump-before FILE  save the device just before the first cut\n"
            "  --dump-after FILE   save the device after the recovery\n"
            "  --set S.K=V         override a scenario key (scenario form)\n\n"
            "Prints the trial's verdict and costs; with a database, checks "
            "they equal the stored ones.\n\n"
            "Exit status: 0 the trial passed (and, from a database, "
            "reproduced the stored one);\n1 the trial fails or differs from "
            "the stored one; 2 bad input (no such run or\ntrial, a bad "
            "scenario or cut list); 3 the database cannot be read.\n");
    return to == stderr ? EXIT_USAGE : 0;
}

static int usage_list(FILE *to)
{
    fprintf(to, "usage: fotasim list [--dir DIR]\n"
                "       fotasim list --keys [--markdown]\n\n"
                "Lists the scenarios in DIR (default: scenarios) with their "
                "descriptions, and the device presets;\nwith --keys, every "
                "scenario key with its type, range, default and meaning "
                "(--markdown:\nthe tables of docs/scenarios.md).\n\n"
                "Exit status: 0 listed; 2 bad input (DIR cannot be read, an "
                "unknown option).\n");
    return to == stderr ? EXIT_USAGE : 0;
}

/* ------------------------------------------------------------ progress */

/* A bar redrawn in place on a terminal; on a pipe (a CI log) one plain
 * line every PLAIN_EVERY_S seconds, so a long run shows it is alive. */
enum progress_mode {
    PROGRESS_AUTO,
    PROGRESS_BAR,
    PROGRESS_PLAIN,
    PROGRESS_NONE
};
#define PLAIN_EVERY_S 5.0

static int progress_parse(const char *v)
{
    if (!strcmp(v, "bar"))
        return PROGRESS_BAR;
    if (!strcmp(v, "plain"))
        return PROGRESS_PLAIN;
    if (!strcmp(v, "none"))
        return PROGRESS_NONE;
    return -1;
}

struct run_state {
    struct db *db;
    int64_t run_id;
    uint64_t planned, done, first;
    double t0, last_draw;
    int tty;
    int quiet;
    int progress; /* enum progress_mode */
    uint64_t printed_failures;
    uint64_t failing;
    const char *db_path;
    struct junit *junit; /* NULL without --junit */
    int silent;          /* no FAIL lines (sweeps report per value) */
};

static void draw_progress(struct run_state *rs, int final)
{
    double t = clock_wall_s(), rate, eta;
    int width = 30, fill;
    uint64_t total = rs->planned, done = rs->done;
    if (rs->quiet || rs->progress == PROGRESS_NONE)
        return;
    if (rs->progress == PROGRESS_PLAIN) {
        if (!final && t - rs->last_draw < PLAIN_EVERY_S)
            return;
        rs->last_draw = t;
        rate = done / (t - rs->t0 + 1e-9);
        eta = rate > 0 ? (double)(total - done) / rate : 0;
        fprintf(stderr,
                "progress: %llu/%llu trials (%.1f %%), %.0f/s, %s %.0f s, "
                "%llu failing\n",
                (unsigned long long)done, (unsigned long long)total,
                total ? 100.0 * (double)done / (double)total : 100.0, rate,
                final ? "took" : "ETA", final ? t - rs->t0 : eta,
                (unsigned long long)rs->failing);
        return;
    }
    if (!final && t - rs->last_draw < 0.1)
        return;
    rs->last_draw = t;
    rate = done / (t - rs->t0 + 1e-9);
    eta = rate > 0 ? (double)(total - done) / rate : 0;
    fill = total ? (int)(width * done / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %llu/%llu trials  %.0f/s  ETA %.0fs ", fill,
            "##############################", width - fill, "",
            (unsigned long long)done, (unsigned long long)total, rate, eta);
    if (final)
        fputc('\n', stderr);
}

/* A committed trial (pipeline.h): progress, and the first failures with
 * the command that replays each. */
static int on_trial(void *user, const struct trial *t, int64_t run_id)
{
    struct run_state *rs = user;
    (void)run_id;
    rs->done++;
    rs->failing += t->failed != 0;
    if (t->failed && !rs->silent) {
        if (rs->printed_failures++ < PRINT_FAILURES) {
            char replay[320];
            junit_replay_command(replay, sizeof(replay), prog_name, rs->db_path,
                                 rs->run_id, t->id);
            if (rs->progress == PROGRESS_BAR && !rs->quiet)
                fputc('\n', stderr);
            printf("FAIL trial %llu (cut at boundary %llu, %s): %s: %s\n"
                   "  replay: %s\n",
                   (unsigned long long)t->id, (unsigned long long)t->cuts[0],
                   cut_area_name(t->cut_area[0]),
                   verdict_name((enum verdict)t->verdict), t->detail, replay);
        }
        if (rs->junit && junit_failure(rs->junit, t, rs->db_path, rs->run_id)) {
            fprintf(stderr, "fotasim: out of memory for the JUnit report\n");
            return 1;
        }
    }
    draw_progress(rs, 0);
    /* Non-zero is a sink failure; a signal stops the loop itself. */
    return 0;
}

/* One test case per scenario run; the failures were added as they came. */
static int write_junit(const char *path, const struct torture_result *r,
                       struct junit *j)
{
    char out[256], err[512] = "";
    snprintf(out, sizeof(out), "%llu boundaries, %llu trials, %llu failing",
             (unsigned long long)r->boundaries, (unsigned long long)r->trials,
             (unsigned long long)r->failed);
    if (junit_case_end(j, r->wall_s, out) ||
        junit_write(j, path, err, sizeof(err))) {
        fprintf(stderr, "fotasim: %s\n", err[0] ? err : "out of memory");
        return -1;
    }
    return 0;
}

static void print_summary(const struct scenario *sc,
                          const struct torture_result *r, int64_t run_id,
                          const char *db_path)
{
    struct rusage ru;
    int v;
    getrusage(RUSAGE_SELF, &ru);
    printf("\n%s: %llu write boundaries, %llu trials run (%llu planned)\n",
           sc->name, (unsigned long long)r->boundaries,
           (unsigned long long)r->trials, (unsigned long long)r->planned);
    printf("  uncut update: %llu bytes downloaded, %llu erases, %llu "
           "programs, %.2f s simulated\n",
           (unsigned long long)r->update_bytes,
           (unsigned long long)r->update_erases,
           (unsigned long long)r->update_programs, r->update_ns / 1e9);
    for (v = 0; v < VERDICT_COUNT; v++)
        if (r->verdicts[v])
            printf("  %-20s %8llu\n", verdict_name((enum verdict)v),
                   (unsigned long long)r->verdicts[v]);
    if (r->trials)
        printf("  worst re-download: %llu bytes (trial %llu)\n",
               (unsigned long long)r->worst_redownload,
               (unsigned long long)r->worst_trial);
    printf("  %.2f s, %.0f trials/s, recovery share %.2f, peak RSS %ld "
           "KiB\n",
           r->wall_s, r->trials / (r->wall_s + 1e-9),
           r->recover_s / (r->wall_s + 1e-9), ru.ru_maxrss);
    printf("  results: %s (run %lld)%s\n", db_path, (long long)run_id,
           r->failed ? "" : "");
}

/* The exit status of a database error: the wrong file, or the storage. */
static int db_exit(int rc)
{
    return rc == DB_E_INPUT ? EXIT_USAGE : EXIT_STORAGE;
}

/* The exit status of a pipeline's end (pipeline.h). */
static int pipeline_exit(int rc)
{
    static const int codes[] = {[PIPELINE_PASSED] = 0,
                                [PIPELINE_FAILED] = EXIT_FAILED,
                                [PIPELINE_INPUT] = EXIT_USAGE,
                                [PIPELINE_STORAGE] = EXIT_STORAGE,
                                [PIPELINE_INTERRUPTED] = EXIT_INTERRUPTED,
                                [PIPELINE_NOMEM] = EXIT_FAILED};
    return rc >= 0 && rc <= PIPELINE_NOMEM ? codes[rc] : EXIT_FAILED;
}

/* The last line of a run: the verdict and what the file holds of the run
 * (read back from it, not counted here: only committed trials count). */
static void print_final(struct run_state *rs, int status, int quiet)
{
    uint64_t committed = 0, expected = 0;
    char held[48];
    if (db_run_count(rs->db, rs->run_id, &committed, &expected)) {
        fprintf(stderr, "fotasim: %s\n", db_errmsg(rs->db));
        snprintf(held, sizeof(held), "?");
    } else
        snprintf(held, sizeof(held), "%llu/%llu", (unsigned long long)committed,
                 (unsigned long long)expected);
    if (status == EXIT_STORAGE)
        fprintf(stderr,
                "STORAGE ERROR: %s trials committed to %s; the run is not "
                "passed (--resume carries on once the database works "
                "again)\n",
                held, rs->db_path);
    else if (!quiet)
        printf("%s: %s trials committed; %s\n", status ? "FAILED" : "PASSED",
               held,
               status ? "some did not meet the scenario's expectations"
                      : "every one met the scenario's expectations");
}

/* ------------------------------------------------------------ commands */

/* Overrides are part of what was run: keep them in the stored text, as
 * INI sections appended, so a replay parses the same scenario. */
static void append_sets(struct scenario *sc, char **sets, int nsets)
{
    size_t n = strlen(sc->text) + 64, at;
    char *text;
    int i;
    if (!nsets)
        return;
    for (i = 0; i < nsets; i++)
        n += strlen(sets[i]) + 16;
    text = malloc(n);
    if (!text)
        return;
    at = (size_t)snprintf(text, n, "%s", sc->text);
    for (i = 0; i < nsets; i++) {
        const char *dot = strchr(sets[i], '.');
        at += (size_t)snprintf(text + at, n - at, "\n[%.*s]\n%s\n",
                               (int)(dot - sets[i]), sets[i], dot + 1);
    }
    free(sc->text);
    sc->text = text;
}

/* --engine V as the override "engine.kind=V" in out. */
static int engine_set(const char *cmd, const char *v, char *out, size_t n)
{
    char kind[520];
    if (arg_engine(cmd, v, kind, sizeof(kind)))
        return -1;
    snprintf(out, n, "engine.kind=%s", kind);
    return 0;
}

static int load_with_sets(struct scenario *sc, const char *path, char **sets,
                          int nsets)
{
    char err[512];
    int i;
    if (scenario_load(sc, path, err, sizeof(err))) {
        fprintf(stderr, "fotasim: %s\n", err);
        return -1;
    }
    for (i = 0; i < nsets; i++)
        if (scenario_set(sc, sets[i], err, sizeof(err))) {
            fprintf(stderr, "fotasim: %s\n", err);
            scenario_free(sc);
            return -1;
        }
    append_sets(sc, sets, nsets);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    const char *path = NULL, *db_path = "fotasim.db", *junit = NULL;
    const char *summary = NULL;
    char *sets[32];
    int nsets = 0, resume = 0, quiet = 0, i, rc, status;
    int progress = PROGRESS_AUTO;
    unsigned jobs = 1;
    struct shard sh = {0, 1};
    uint64_t seed = 0, u64;
    int have_seed = 0;
    struct scenario sc;
    struct torture *t = NULL;
    struct pipeline pl;
    struct pipeline_opts po;
    struct run_state rs;
    char err[512] = "", engine_kind[600];

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage_run(stdout);
        if (!strcmp(a, "--resume"))
            resume = 1;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strncmp(a, "--progress=", 11) ||
                 (i + 1 < argc && !strcmp(a, "--progress"))) {
            const char *v = a[10] == '=' ? a + 11 : argv[++i];
            progress = progress_parse(v);
            if (progress < 0) {
                fprintf(stderr,
                        "fotasim run: --progress: '%s' is not bar, plain or "
                        "none\n",
                        v);
                return EXIT_USAGE;
            }
        } else if (i + 1 < argc && !strcmp(a, "--db"))
            db_path = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--junit"))
            junit = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--summary"))
            summary = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--seed")) {
            if (arg_u64("run", a, argv[++i], 0, UINT64_MAX, &seed))
                return EXIT_USAGE;
            have_seed = 1;
        } else if (i + 1 < argc && !strcmp(a, "--set") && nsets < 32)
            sets[nsets++] = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--engine") && nsets < 32) {
            if (engine_set("run", argv[++i], engine_kind, sizeof(engine_kind)))
                return EXIT_USAGE;
            sets[nsets++] = engine_kind;
        } else if (i + 1 < argc && !strcmp(a, "-j")) {
            if (arg_u64("run", a, argv[++i], 1, 64, &u64))
                return EXIT_USAGE;
            jobs = (unsigned)u64;
        } else if (i + 1 < argc && !strcmp(a, "--shard")) {
            if (shard_parse(argv[++i], &sh, err, sizeof(err))) {
                fprintf(stderr, "fotasim run: %s\n", err);
                return EXIT_USAGE;
            }
        } else if (a[0] != '-' && !path)
            path = a;
        else {
            fprintf(stderr, "fotasim run: unknown or incomplete option '%s'\n",
                    a);
            return usage_run(stderr);
        }
    }
    if (!path)
        return usage_run(stderr);
    if (load_with_sets(&sc, path, sets, nsets))
        return EXIT_USAGE;
    if (have_seed)
        sc.seed = seed;
    if (torture_create(&t, &sc, err, sizeof(err))) {
        fprintf(stderr, "fotasim: %s\n", err);
        scenario_free(&sc);
        return EXIT_USAGE;
    }
    memset(&rs, 0, sizeof(rs));
    memset(&pl, 0, sizeof(pl));
    if ((rc = db_open(&rs.db, db_path, err, sizeof(err)))) {
        fprintf(stderr, "fotasim: %s\n", err);
        torture_destroy(t);
        scenario_free(&sc);
        return db_exit(rc);
    }
    po.db_path = db_path;
    po.jobs = jobs;
    po.shard = sh;
    po.resume = resume;
    po.on_trial = on_trial;
    po.user = &rs;
    rc = pipeline_begin(&pl, rs.db, &sc, t, &po);
    if (rc == PIPELINE_INPUT && pl.finished_run) {
        fprintf(stderr,
                "fotasim: %s: run %lld of this scenario already finished "
                "(%s); nothing to resume\n",
                db_path, (long long)pl.finished_run,
                pl.finished_status == RUN_PASSED ? "passed" : "failed");
        status = EXIT_USAGE;
        goto out;
    }
    if (rc) {
        status = pipeline_exit(rc);
        goto out;
    }
    if (pl.none_to_resume && !quiet)
        printf("no run of this scenario to resume in %s: starting a new "
               "one\n",
               db_path);
    if (pl.resumed && !quiet)
        printf("resuming run %lld: %llu trials already done\n",
               (long long)pl.run_id, (unsigned long long)pl.done_before);
    rs.db_path = db_path;
    rs.run_id = pl.run_id;
    rs.planned = pl.planned;
    rs.t0 = clock_wall_s();
    rs.tty = isatty(2);
    rs.quiet = quiet;
    rs.progress = progress != PROGRESS_AUTO ? progress
                  : rs.tty                  ? PROGRESS_BAR
                                            : PROGRESS_PLAIN;
    if (junit) {
        rs.junit = junit_new("fotasim", 0);
        if (!rs.junit ||
            junit_case_begin(rs.junit, "fotasim.torture", sc.name)) {
            fprintf(stderr, "fotasim: out of memory for the JUnit report\n");
            status = EXIT_USAGE;
            goto out;
        }
        junit_set_program(rs.junit, prog_name);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    rc = pipeline_run(&pl);
    draw_progress(&rs, 1);
    if (rc == PIPELINE_INTERRUPTED || (rc == PIPELINE_STORAGE && interrupted)) {
        uint64_t held = 0, slice = 0;
        if (db_run_count(rs.db, rs.run_id, &held, &slice))
            fprintf(stderr, "fotasim: %s\n", db_errmsg(rs.db));
        fprintf(stderr,
                "fotasim: interrupted; %llu trials committed to %s "
                "(continue with --resume)\n",
                (unsigned long long)held, db_path);
        status = pipeline_exit(rc);
        goto out;
    }
    status = pipeline_exit(rc);
    if (rc == PIPELINE_FAILED && pl.torture_rc)
        goto out;
    if (!quiet)
        print_summary(&sc, &pl.res, rs.run_id, db_path);
    if (rs.printed_failures > PRINT_FAILURES) {
        char quoted[1100];
        junit_shell_quote(quoted, sizeof(quoted), db_path);
        printf("(%llu more failing trials: sqlite3 %s 'SELECT * FROM "
               "v_failed_cuts')\n",
               (unsigned long long)(rs.printed_failures - PRINT_FAILURES),
               quoted);
    }
    print_final(&rs, status, quiet);
    if (junit && status == EXIT_STORAGE)
        /* A report of an incomplete run would read as a pass in CI. */
        fprintf(stderr, "fotasim: %s not written: the run is incomplete\n",
                junit);
    else if (junit && write_junit(junit, &pl.res, rs.junit))
        status = EXIT_FAILED;
out:
    pipeline_free(&pl);
    junit_free(rs.junit);
    if (db_close(rs.db) && status != EXIT_STORAGE) {
        fprintf(stderr, "fotasim: %s: closing the database failed\n", db_path);
        status = EXIT_STORAGE;
    }
    /* The job summary, from what the database now holds: an interrupted
     * or failing run says so in its first line. */
    if (summary && rs.run_id > 0) {
        int src = report_summary(db_path, rs.run_id, summary, reports_dir(),
                                 prog_name, err, sizeof(err));
        if (src) {
            fprintf(stderr, "fotasim: --summary: %s\n", err);
            if (!status)
                status = EXIT_STORAGE;
        }
    }
    torture_destroy(t);
    scenario_free(&sc);
    return status;
}

static void print_trial(const struct trial *t)
{
    uint32_t k;
    printf("trial %llu: cuts", (unsigned long long)t->id);
    for (k = 0; k < t->depth && k < TRIAL_MAX_DEPTH; k++)
        printf(" %llu", (unsigned long long)t->cuts[k]);
    printf("\n  verdict: %s%s%s\n", verdict_name((enum verdict)t->verdict),
           t->detail[0] ? ": " : "", t->detail);
    printf("  downloaded %llu bytes after the cut, %llu re-downloaded "
           "(%u blocks), %u boots, %llu erases, %llu programs, %.3f s "
           "simulated recovery\n",
           (unsigned long long)t->bytes_downloaded,
           (unsigned long long)t->bytes_redownloaded, t->blocks_redownloaded,
           t->boots, (unsigned long long)t->erases,
           (unsigned long long)t->programs, t->recover_ns / 1e9);
}

static int cmd_replay(int argc, char **argv)
{
    const char *src = NULL, *before = NULL, *after = NULL, *cutlist = NULL;
    long long run = -1, trial = -1;
    uint64_t u64;
    char *sets[32], err[512];
    int nsets = 0, i, status = 0;
    struct scenario sc;
    struct torture *t = NULL;
    struct trial stored, got;
    uint64_t cuts[TRIAL_MAX_DEPTH];
    uint32_t depth = 0;
    struct db *db = NULL;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage_replay(stdout);
        if (i + 1 < argc && !strcmp(a, "--run")) {
            if (arg_u64("replay", a, argv[++i], 1, INT64_MAX, &u64))
                return EXIT_USAGE;
            run = (long long)u64;
        } else if (i + 1 < argc && !strcmp(a, "--trial")) {
            if (arg_u64("replay", a, argv[++i], 0, INT64_MAX, &u64))
                return EXIT_USAGE;
            trial = (long long)u64;
        } else if (i + 1 < argc && !strcmp(a, "--cut"))
            cutlist = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--dump-before"))
            before = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--dump-after"))
            after = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--set") && nsets < 32)
            sets[nsets++] = argv[++i];
        else if (a[0] != '-' && !src)
            src = a;
        else {
            fprintf(stderr, "fotasim replay: unknown option '%s'\n", a);
            return usage_replay(stderr);
        }
    }
    if (!src || (!cutlist && (run < 0 || trial < 0)))
        return usage_replay(stderr);
    if (cutlist) {
        const char *end, *p = cutlist;
        while (*p && depth < TRIAL_MAX_DEPTH) {
            if (parse_u64_prefix(p, &cuts[depth++], &end) ||
                (*end && *end != ',') || (*end == ',' && !end[1])) {
                fprintf(stderr, "fotasim replay: --cut %s: expected N[,M...]\n",
                        cutlist);
                return EXIT_USAGE;
            }
            p = *end ? end + 1 : end;
        }
        if (load_with_sets(&sc, src, sets, nsets))
            return EXIT_USAGE;
    } else {
        /* Read-only: a replay writes nothing, creates no file for a
         * mistyped name, and reads a file it may not write. */
        int rc = db_open_readonly(&db, src, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "fotasim: %s\n", err);
            return db_exit(rc);
        }
        memset(&sc, 0, sizeof(sc));
        if ((rc = db_trial_get(db, run, (uint64_t)trial, &stored, &sc))) {
            fprintf(stderr, "fotasim: %s\n", db_errmsg(db));
            scenario_free(&sc);
            db_close(db);
            return db_exit(rc);
        }
    }
    if (torture_create(&t, &sc, err, sizeof(err))) {
        fprintf(stderr, "fotasim: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (torture_replay(t, (uint64_t)(trial < 0 ? 0 : trial),
                       cutlist ? cuts : NULL, depth ? depth : 1, before, after,
                       &got)) {
        fprintf(stderr, "fotasim replay: no such trial (plan has %llu)\n",
                (unsigned long long)torture_planned(t));
        status = EXIT_USAGE;
        goto out;
    }
    print_trial(&got);
    if (before)
        printf("  device before the cut: %s\n", before);
    if (after)
        printf("  device after recovery: %s\n", after);
    if (db) {
        int same = stored.verdict == got.verdict &&
                   stored.bytes_downloaded == got.bytes_downloaded &&
                   stored.erases == got.erases &&
                   stored.programs == got.programs &&
                   stored.cuts[0] == got.cuts[0];
        printf("  stored: %s, %llu bytes, %llu erases, %llu programs: %s\n",
               verdict_name((enum verdict)stored.verdict),
               (unsigned long long)stored.bytes_downloaded,
               (unsigned long long)stored.erases,
               (unsigned long long)stored.programs,
               same ? "reproduced exactly" : "DIFFERENT");
        if (!same)
            status = EXIT_FAILED;
    }
    if (!status && got.failed)
        status = EXIT_FAILED;
out:
    torture_destroy(t);
    scenario_free(&sc);
    db_close(db);
    return status;
}

/* ------------------------------------------------------------ sweep */

struct sweep_state {
    struct run_state rs;
    const struct scenario *sc;
    struct sweep_row *row;
    struct sweep_costs costs;
};

static int sweep_on_trial(void *user, const struct trial *t, int64_t run_id)
{
    struct sweep_state *w = user;
    sweep_cost_add(&w->costs, w->row, w->sc, t);
    return on_trial(&w->rs, t, run_id);
}

static int split_values(char *list, char **vals, int max)
{
    int n = 0;
    char *save = NULL, *v;
    for (v = strtok_r(list, ",", &save); v && n < max;
         v = strtok_r(NULL, ",", &save))
        vals[n++] = v;
    return n;
}

static int cmd_sweep(int argc, char **argv)
{
    const char *path = NULL, *db_path = "fotasim-sweep.db";
    const char *report_dir = NULL;
    char *fixed[32], *vals[SWEEP_MAX_VALUES], key[64] = "", err[512];
    char listbuf[2048] = "";
    int nfixed = 0, nvals = 0, i, quiet = 0, status = 0, rc;
    unsigned jobs = 1;
    struct cut_rate cut_rate = {1.0, CUT_RATE_PER_UPDATE};
    struct sweep_row rows[SWEEP_MAX_VALUES];
    struct db *db = NULL;
    char *lead = NULL; /* the printed table, for the database and report */

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf(
                "usage: fotasim sweep SCENARIO --block-size V1,V2,... "
                "[options]\n"
                "       fotasim sweep SCENARIO --set section.key=V1,V2,... "
                "[options]\n\n"
                "Runs the scenario once per value (each a run in --db) "
                "and prints, per value: record-area\nbytes and share, "
                "bytes re-downloaded per power cut (mean, max), erases "
                "per update and\nthe most-erased unit, boot-time resume "
                "scan (flash + engine.cpu_hash_rate), engine RAM,\n"
                "update time over the modelled link and flash, expected "
                "time with power cuts, verdicts;\nthen the best value "
                "and the runner-up among the eligible values: those "
                "whose every\ntrial passed, verdicts and every [expect] "
                "bound. Values with failing trials are\nlisted as not "
                "eligible, with the first failure; unsafe ones (silent "
                "corruption, rule\nviolation, out of partition, stuck) "
                "first of all.\n\nExit status: 0 a best value was "
                "found and no value is unsafe; 1 some value is unsafe\n"
                "or none is eligible; 2 bad input; 3 storage error (nothing is "
                "chosen from\ntrials that were not stored); 130 "
                "interrupted.\n\n"
                "  --db FILE        results (default fotasim-sweep.db)\n"
                "  --report DIR     also write DIR/report.html and summary.md, "
                "led by this\n"
                "                   table and its recommendation\n"
                "  --cut-rate R     power cuts for the objective: N or "
                "N/update (default 1),\n"
                "                   N/h or N/day (field rates: cuts per "
                "update = N x the value's\n"
                "                   uncut update time)\n"
                "  --set S.K=V      a fixed override (no comma)\n"
                "  -j N             worker processes per run\n"
                "  --quiet          no per-run output\n");
            return 0;
        }
        if (i + 1 < argc && !strcmp(a, "--block-size")) {
            snprintf(key, sizeof(key), "engine.block_size");
            snprintf(listbuf, sizeof(listbuf), "%s", argv[++i]);
        } else if (i + 1 < argc && !strcmp(a, "--set")) {
            const char *v = argv[++i];
            const char *eq = strchr(v, '=');
            if (eq && strchr(eq, ',') && !key[0]) {
                snprintf(key, sizeof(key), "%.*s", (int)(eq - v), v);
                snprintf(listbuf, sizeof(listbuf), "%s", eq + 1);
            } else if (nfixed < 31) {
                fixed[nfixed++] = argv[i];
            }
        } else if (i + 1 < argc && !strcmp(a, "--db"))
            db_path = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--report"))
            report_dir = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--cut-rate")) {
            if (sweep_cut_rate_parse(argv[++i], &cut_rate, err, sizeof(err))) {
                fprintf(stderr, "fotasim sweep: --cut-rate %s: %s\n", argv[i],
                        err);
                return EXIT_USAGE;
            }
        } else if (i + 1 < argc && !strcmp(a, "-j")) {
            uint64_t n;
            if (arg_u64("sweep", a, argv[++i], 1, 64, &n))
                return EXIT_USAGE;
            jobs = (unsigned)n;
        } else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (a[0] != '-' && !path)
            path = a;
        else {
            fprintf(stderr, "fotasim sweep: unknown option '%s'\n", a);
            return EXIT_USAGE;
        }
    }
    nvals = split_values(listbuf, vals, SWEEP_MAX_VALUES);
    if (!path || !key[0] || nvals < 1 || jobs < 1 || jobs > 64) {
        fprintf(stderr, "usage: fotasim sweep SCENARIO --block-size "
                        "V1,V2,... (see --help)\n");
        return EXIT_USAGE;
    }
    if (db_open(&db, db_path, err, sizeof(err))) {
        fprintf(stderr, "fotasim: %s\n", err);
        return EXIT_USAGE;
    }
    memset(rows, 0, sizeof(rows));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (i = 0; i < nvals && !interrupted; i++) {
        struct sweep_row *r = &rows[i];
        struct scenario sc;
        struct torture *t = NULL;
        struct pipeline pl;
        struct pipeline_opts po;
        struct sweep_state w;
        char assign[sizeof(listbuf) + 64];

        snprintf(r->value, sizeof(r->value), "%s", vals[i]);
        snprintf(assign, sizeof(assign), "%s=%s", key, vals[i]);
        fixed[nfixed] = assign;
        if (load_with_sets(&sc, path, fixed, nfixed)) {
            status = EXIT_USAGE;
            break;
        }
        if (scenario_set(&sc, assign, err, sizeof(err))) {
            /* The engine or the device refuses this value: a row. */
            snprintf(r->why, sizeof(r->why), "%.250s", err);
            scenario_free(&sc);
            continue;
        }
        {
            char *one = assign;
            append_sets(&sc, &one, 1);
        }
        if (torture_create(&t, &sc, err, sizeof(err))) {
            snprintf(r->why, sizeof(r->why), "%.250s", err);
            scenario_free(&sc);
            continue;
        }
        memset(&w, 0, sizeof(w));
        w.sc = &sc;
        w.row = r;
        w.rs.db = db;
        w.rs.db_path = db_path;
        w.rs.quiet = 1;
        w.rs.silent = 1;
        memset(&po, 0, sizeof(po));
        po.db_path = db_path;
        po.jobs = jobs;
        po.shard.count = 1;
        po.on_trial = sweep_on_trial;
        po.user = &w;
        rc = pipeline_begin(&pl, db, &sc, t, &po);
        if (!rc) {
            w.rs.run_id = pl.run_id;
            if (!quiet)
                printf("%s = %s: %llu write boundaries, %llu trials...\n", key,
                       vals[i], (unsigned long long)torture_boundaries(t),
                       (unsigned long long)torture_planned(t));
            rc = pipeline_run(&pl);
        }
        if (rc != PIPELINE_PASSED && rc != PIPELINE_FAILED &&
            rc != PIPELINE_INTERRUPTED) {
            /* A value whose trials were not all stored decides nothing:
             * the sweep stops, as a run does, the cause printed. */
            fprintf(stderr, "fotasim sweep: %s = %s: trials were not stored\n",
                    key, vals[i]);
            status = pipeline_exit(rc);
            pipeline_free(&pl);
            torture_destroy(t);
            scenario_free(&sc);
            break;
        }
        if (rc == PIPELINE_FAILED && pl.torture_rc) {
            status = EXIT_FAILED;
            pipeline_free(&pl);
            torture_destroy(t);
            scenario_free(&sc);
            break;
        }
        r->run_id = pl.run_id;
        r->max_unit_erases = pl.worst_unit_erases;
        sweep_row_finish(r, &w.costs, &pl.res, torture_layout(t),
                         torture_engine_ram(t), &cut_rate);
        pipeline_free(&pl);
        torture_destroy(t);
        scenario_free(&sc);
    }
    if (!status) {
        sweep_print(stdout, key, rows, nvals, &cut_rate);
        status = interrupted                 ? EXIT_INTERRUPTED
                 : sweep_status(rows, nvals) ? EXIT_FAILED
                                             : 0;
    }
    /* The database keeps the very table and recommendation printed above,
     * and the report leads with it (now, or `fotasim report` later): one
     * computation feeds all three. */
    if (status == 0 || status == EXIT_FAILED) {
        size_t leadn = 0;
        FILE *mem = open_memstream(&lead, &leadn);
        char rate[64];
        int best, second;
        if (!mem) {
            fprintf(stderr, "fotasim sweep: out of memory\n");
            db_close(db);
            return EXIT_STORAGE;
        }
        sweep_print(mem, key, rows, nvals, &cut_rate);
        fclose(mem);
        best = sweep_best(rows, nvals, &second);
        sweep_cut_rate_text(&cut_rate, rate, sizeof(rate));
        if (db_sweep_add(db, key, rate, lead, rows, nvals, best, second,
                         status)) {
            fprintf(stderr, "fotasim sweep: %s\n", db_errmsg(db));
            status = EXIT_STORAGE;
        } else {
            printf("results: %s (sqlite3 %s 'SELECT * FROM sweep_values')\n",
                   db_path, db_path);
        }
    }
    if (db_close(db) && (!status || status == EXIT_FAILED))
        status = EXIT_STORAGE;
    if (report_dir && (status == 0 || status == EXIT_FAILED)) {
        int rrc = report_write_lead(db_path, report_dir, reports_dir(), lead,
                                    err, sizeof(err));
        free(lead);
        lead = NULL;
        if (rrc) {
            fprintf(stderr, "fotasim sweep: --report: %s\n", err);
            return rrc == REPORT_E_GNUPLOT ? EXIT_FAILED : EXIT_STORAGE;
        }
        printf("report: %s/report.html\n", report_dir);
    }
    free(lead);
    return status;
}

static int cmd_report(int argc, char **argv)
{
    const char *db = NULL, *dir = "report", *sql = NULL;
    char err[1024];
    int i;
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: fotasim report DB [-o DIR] [--sql-dir DIR]\n\n"
                   "Writes DIR/report.html (self-contained, charts drawn by "
                   "gnuplot as inline SVG)\nand DIR/summary.md (for a CI "
                   "job summary) from DB. Queries: reports/*.sql\n"
                   "(now %s: $FOTASIM_REPORTS, else PREFIX/share/fotasim/"
                   "reports beside\nan installed program, else the source "
                   "tree). DB is opened read-only.\nA sweep's database: "
                   "the page leads with the sweep's table and\n"
                   "recommendation as it printed them (kept in the file).\n\n"
                   "Exit status: 0 written; 1 gnuplot missing or failed; 2 "
                   "bad input (missing,\nforeign or empty database); 3 "
                   "storage error (reading DB or writing DIR failed).\n",
                   reports_dir());
            return 0;
        }
        if (i + 1 < argc && !strcmp(argv[i], "-o"))
            dir = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--sql-dir"))
            sql = argv[++i];
        else if (argv[i][0] != '-' && !db)
            db = argv[i];
        else {
            fprintf(stderr, "usage: fotasim report DB [-o DIR]\n");
            return EXIT_USAGE;
        }
    }
    if (!db) {
        fprintf(stderr, "usage: fotasim report DB [-o DIR]\n");
        return EXIT_USAGE;
    }
    if ((i = report_write(db, dir, sql ? sql : reports_dir(), err,
                          sizeof(err)))) {
        fprintf(stderr, "fotasim report: %s\n", err);
        return i == REPORT_E_GNUPLOT ? EXIT_FAILED : db_exit(i);
    }
    printf("report: %s/report.html\nsummary: %s/summary.md\n", dir, dir);
    return 0;
}

static int cmd_merge(int argc, char **argv)
{
    char err[1024];
    int rc;
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: fotasim merge OUT.db SHARD.db...\n\n"
               "Combines the databases of `fotasim run --shard I/N` into one "
               "run in OUT.db (a new file),\nas a single run of the same "
               "trials would have it. Refuses shards of another scenario,\n"
               "seed or tool version, shards still running, and missing or "
               "repeated shards.\nThe shards are opened read-only and "
               "checked field by field (shard index and count,\ntrial ids "
               "inside each shard's slice, the run row) before use.\n\n"
               "Exit status: 0 merged; 2 bad input (a shard refused, OUT "
               "exists); 3 storage error\n(reading a shard or writing OUT "
               "failed; OUT is removed).\n");
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: fotasim merge OUT.db SHARD.db...\n");
        return EXIT_USAGE;
    }
    if ((rc =
             db_merge(argv[0], argv + 1, argc - 1, err, sizeof(err), stdout))) {
        fprintf(stderr, "fotasim merge: %s\n", err);
        return db_exit(rc);
    }
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    const char *dir = "scenarios", *p;
    struct dirent **names;
    int i, n, keys = 0, markdown = 0;
    size_t k;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return usage_list(stdout);
        if (i + 1 < argc && !strcmp(argv[i], "--dir"))
            dir = argv[++i];
        else if (!strcmp(argv[i], "--keys"))
            keys = 1;
        else if (!strcmp(argv[i], "--markdown"))
            markdown = 1;
        else
            return usage_list(stderr);
    }
    if (keys) {
        scenario_print_keys(stdout, markdown);
        return 0;
    }
    n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "fotasim list: %s: cannot read: %s\n", dir,
                strerror(errno));
        return EXIT_USAGE;
    }
    printf("scenarios in %s:\n", dir);
    for (i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t len = strlen(nm);
        if (len > 4 && !strcmp(nm + len - 4, ".ini")) {
            char path[1024], err[512];
            struct scenario sc;
            snprintf(path, sizeof(path), "%s/%s", dir, nm);
            if (campaign_describe(path, err, sizeof(err))) {
                printf("  %-28s %s\n", nm, err);
                free(names[i]);
                continue;
            }
            if (scenario_load(&sc, path, err, sizeof(err)))
                printf("  %-28s (invalid: %s)\n", nm, err);
            else
                printf("  %-28s %s\n", nm, sc.description);
            scenario_free(&sc);
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    printf("device presets:\n");
    for (k = 0; (p = sim_preset_name(k)); k++) {
        struct sim_config c;
        sim_preset(p, &c);
        printf("  %-18s %s, %u MiB, program %u B, erase %u KiB\n", p,
               c.geo.kind == SIM_NAND ? "NAND" : "NOR", c.geo.size >> 20,
               c.geo.prog_size, c.geo.erase_size >> 10);
    }
    return 0;
}

static int run_campaign(int argc, char **argv)
{
    return cmd_campaign(argc, argv, prog_name);
}

/*
 * compare: a sweep over engine.kind. Each engine runs the same scenario,
 * seed and cut plan; the table, the unsafe list and the exit status are
 * the sweep's (an engine that corrupts silently makes it exit 1).
 */
static int cmd_compare(int argc, char **argv)
{
    static char list[2048];
    char kind[600], *args[72];
    int i, n = 0, engines = 0;
    size_t at;

    at = (size_t)snprintf(list, sizeof(list), "engine.kind=");
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: fotasim compare SCENARIO --engine A --engine B "
                   "[...] [sweep options]\n\n"
                   "Runs SCENARIO on each engine with the same seed and cuts "
                   "and prints one table:\nverdicts (silent corruption, "
                   "stuck...), re-download per cut (mean, max), engine\nRAM "
                   "and the expected update time at --cut-rate. An engine is "
                   "a name (fwresume,\noffset-only, restart-zero) or a path "
                   "to a shared object (docs/engines.md).\nOptions as for "
                   "fotasim sweep: --db FILE (default fotasim-compare.db), "
                   "--cut-rate R,\n--set S.K=V (fixed overrides), -j N, "
                   "--quiet. Exit status as for the sweep.\n");
            return 0;
        }
        if (!strcmp(a, "--engine") && i + 1 < argc) {
            if (arg_engine("compare", argv[++i], kind, sizeof(kind)))
                return EXIT_USAGE;
            if (strchr(kind, ',') || at + strlen(kind) + 2 >= sizeof(list)) {
                fprintf(stderr,
                        "fotasim compare: --engine %s: a name or "
                        "path without commas, and fewer engines\n",
                        argv[i]);
                return EXIT_USAGE;
            }
            at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s",
                                   engines ? "," : "", kind);
            engines++;
        } else if (!strcmp(a, "--block-size") ||
                   (!strcmp(a, "--set") && i + 1 < argc &&
                    strchr(argv[i + 1], ','))) {
            fprintf(stderr,
                    "fotasim compare: %s: compare varies the engine "
                    "only; fix other keys with --set S.K=V\n",
                    a);
            return EXIT_USAGE;
        } else if (n < 64) {
            args[n++] = argv[i];
        }
    }
    if (engines < 2) {
        fprintf(stderr, "fotasim compare: two engines or more, e.g. "
                        "--engine fwresume --engine offset-only\n");
        return EXIT_USAGE;
    }
    for (i = 0; i < n; i++)
        if (!strcmp(args[i], "--db"))
            break;
    if (i == n) {
        args[n++] = "--db";
        args[n++] = "fotasim-compare.db";
    }
    args[n++] = "--set";
    args[n++] = list;
    return cmd_sweep(n, args);
}

/* The subcommands: dispatch and the usage text both come from here. */
static const struct command {
    const char *name, *synopsis, *summary;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"run", "run SCENARIO",
     "cut power at write boundaries of an update, judge and log every trial",
     cmd_run},
    {"replay", "replay ...",
     "rerun one trial exactly (from a database or a scenario and cut points)",
     cmd_replay},
    {"merge", "merge OUT IN...", "combine shard databases into one run",
     cmd_merge},
    {"sweep", "sweep SCENARIO --block-size 1K,4K,...",
     "which value? the trade-off in numbers", cmd_sweep},
    {"compare", "compare SCENARIO --engine A --engine B",
     "the same cuts on each engine: what each strategy loses, one table",
     cmd_compare},
    {"report", "report DB -o DIR", "write DIR/report.html and DIR/summary.md",
     cmd_report},
    {"campaign", "campaign FILE",
     "every pair of a campaign's dimensions in some run (docs/campaign.md)",
     run_campaign},
    {"pack", "pack FIRMWARE -o PKG",
     "build a compressed, encrypted, signed or delta package "
     "(docs/package-format.md)",
     cmd_pack},
    {"inspect", "inspect PKG",
     "check a package: header, manifest, ratio per block, signature",
     cmd_inspect},
    {"list", "list", "list scenarios and device presets", cmd_list},
};

static int usage_main(FILE *to)
{
    size_t i;
    fprintf(to,
            "fotasim %s: power-cut torture for firmware updates on raw "
            "flash\n\n"
            "usage: fotasim <command> [options]\n\n"
            "commands:\n",
            FOTASIM_VERSION);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct command *c = &commands[i];
        /* Two spaces at least: help2man (the man page) splits there. */
        if (strlen(c->synopsis) <= 16)
            fprintf(to, "  %-16s  %s\n", c->synopsis, c->summary);
        else
            fprintf(to, "  %s  %s\n", c->synopsis, c->summary);
    }
    fprintf(to, "\n`fotasim help <command>` (or `fotasim <command> --help`) "
                "tells more, with its exit\nstatus; `fotasim --version`.\n");
    return to == stderr ? EXIT_USAGE : 0;
}

static const struct command *find_command(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

#ifndef FOTASIM_ENGINE_BUILD
#define FOTASIM_ENGINE_BUILD "" /* the engine as released */
#endif

int main(int argc, char **argv)
{
    const struct command *c;
    int i;
    if (argc < 2)
        return usage_main(stderr);
    setvbuf(stdout, NULL, _IOLBF, 0);
    db_set_engine_build(FOTASIM_ENGINE_BUILD);
    prog_name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    /* --version anywhere, before any option's value is taken for a file:
     * "fotasim run --version" answers, as every command does. */
    for (i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--version")) {
            printf("fotasim %s (engine ABI %d)\n", FOTASIM_VERSION, ENGINE_ABI);
            return 0;
        }
    if ((c = find_command(argv[1])))
        return c->run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "help") && argc >= 3) {
        char help[] = "--help";
        char *args[] = {help, NULL};
        if (!(c = find_command(argv[2]))) {
            fprintf(stderr, "fotasim help: unknown command '%s'\n", argv[2]);
            return usage_main(stderr);
        }
        return c->run(1, args);
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help"))
        return usage_main(stdout);
    fprintf(stderr, "fotasim: unknown command '%s'\n", argv[1]);
    return usage_main(stderr);
}
