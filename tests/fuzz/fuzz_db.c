/*
 * fuzz_db: the readers of a fotasim database (sim/harness/db.c, report.c)
 * on a file the input replaces byte for byte. The seed is a real database
 * of a tiny run (corpus/db/), so mutations start from a valid SQLite file
 * with the fotasim schema, runs, trials and wear rows.
 *
 * Each input is written to a scratch file and read the ways the CLI reads
 * a database somebody handed it:
 *  - `fotasim merge`: db_merge of the file as the only shard, into a new
 *    file;
 *  - `fotasim replay`: db_open_readonly, db_trial_get of the first trials
 *    of run 1 with their stored scenario (scenario_load_text);
 *  - `fotasim run --resume` with that scenario: db_open (for writing: an
 *    older schema is upgraded), the finished and resumable run look-ups,
 *    the committed trials; last, as it may change the file;
 *  - `fotasim report`: report_write into a scratch folder, with a stand-in
 *    for gnuplot (below) so that the whole report runs without a process
 *    per chart (a real gnuplot per chart cut the rate to a few inputs a
 *    second).
 * Invariant: no crash, undefined behaviour, leak or hang; a refusal comes
 * with a message.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "fuzz_target.h"
#include "report.h"
#include "scenario.h"

#ifndef FOTASIM_REPORTS_DIR
#define FOTASIM_REPORTS_DIR "reports"
#endif

static char dir[512], in_path[600], out_path[600], rep_dir[600];

/* The files SQLite may leave next to a database. */
static const char *const suffixes[] = {"", "-wal", "-shm", "-journal", NULL};

static void remove_db(const char *path)
{
    char p[700];
    int i;
    for (i = 0; suffixes[i]; i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

/* Every file the report left in its folder (a failed report leaves its
 * chart files). */
static void remove_report(void)
{
    char p[1200];
    DIR *d = opendir(rep_dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof(p), "%s/%s", rep_dir, e->d_name);
            unlink(p);
        }
    closedir(d);
}

static void cleanup(void)
{
    remove_db(in_path);
    remove_db(out_path);
    remove_report();
    rmdir(rep_dir);
    rmdir(dir);
}

/* A scratch folder of this process: in memory when /dev/shm is there. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *base = getenv("TMPDIR");
    struct stat st;
    (void)argc;
    (void)argv;
    if (!base || !*base)
        base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/fuzz_db.XXXXXX", base);
    FUZZ_CHECK(mkdtemp(dir) != NULL, "cannot make a scratch folder in %s",
               base);
    snprintf(in_path, sizeof(in_path), "%s/in.db", dir);
    snprintf(out_path, sizeof(out_path), "%s/out.db", dir);
    snprintf(rep_dir, sizeof(rep_dir), "%s/report", dir);
    atexit(cleanup);
    return 0;
}

/*
 * The gnuplot stand-in. report.c runs gnuplot as fork() + exec in the child
 * + waitpid(), with the chart's script in the report folder naming its SVG
 * ("set output 'NAME'", relative to that folder). This target is linked with
 * -Wl,--wrap=fork,--wrap=waitpid: while report_write runs, fork() does what
 * gnuplot would (an empty SVG for every script in the folder that has none
 * yet) and returns a pid that waitpid() reports as exited with status 0.
 * The child's half (exec, its end of the error pipe) never exists, so the
 * parent reads end-of-file on the pipe: "exec worked". Outside the report
 * both calls are the real ones.
 */
#define FAKE_PID 0x7FFFFFF0

static int in_report;

pid_t __real_fork(void);
pid_t __wrap_fork(void);
pid_t __real_waitpid(pid_t pid, int *status, int options);
pid_t __wrap_waitpid(pid_t pid, int *status, int options);

/* Write the SVG one gnuplot script names, unless it is there. */
static void draw(const char *script)
{
    char path[1200], line[1200], svg[256];
    FILE *fp;
    int found = 0;

    snprintf(path, sizeof(path), "%s/%s", rep_dir, script);
    if (!(fp = fopen(path, "r")))
        return;
    while (!found && fgets(line, sizeof(line), fp))
        found = sscanf(line, "set output '%255[^']'", svg) == 1;
    fclose(fp);
    snprintf(path, sizeof(path), "%s/%s", rep_dir, svg);
    if (!found || access(path, F_OK) == 0 || !(fp = fopen(path, "w")))
        return;
    fputs("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""
          "/>\n",
          fp);
    fclose(fp);
}

pid_t __wrap_fork(void)
{
    DIR *d;
    struct dirent *e;
    size_t n;

    if (!in_report)
        return __real_fork();
    if ((d = opendir(rep_dir))) {
        while ((e = readdir(d))) {
            n = strlen(e->d_name);
            if (n > 3 && !strcmp(e->d_name + n - 3, ".gp"))
                draw(e->d_name);
        }
        closedir(d);
    }
    return FAKE_PID;
}

pid_t __wrap_waitpid(pid_t pid, int *status, int options)
{
    if (pid != FAKE_PID)
        return __real_waitpid(pid, status, options);
    if (status)
        *status = 0; /* exited, status 0 */
    return pid;
}

static void merge(void)
{
    char err[512], *in[1] = {in_path};
    err[0] = 0;
    if (db_merge(out_path, in, 1, err, sizeof(err), NULL))
        FUZZ_CHECK(err[0] != 0, "merge refused without a message");
    remove_db(out_path);
}

/* Trials as `fotasim replay` reads them: read-only, with their stored
 * scenario. Returns the first that loads into sc (1), or 0. */
static int replay(struct scenario *sc)
{
    struct db *db;
    struct trial t;
    char err[512];
    uint64_t id;
    int found = 0;

    err[0] = 0;
    if (db_open_readonly(&db, in_path, err, sizeof(err))) {
        FUZZ_CHECK(err[0] != 0, "db_open_readonly refused without a message");
        return 0;
    }
    for (id = 0; id < 3; id++) {
        /* As the CLI does: cleared first, freed whatever the outcome. */
        memset(sc, 0, sizeof(*sc));
        if (!db_trial_get(db, 1, id, &t, sc)) {
            found = 1;
            break;
        }
        FUZZ_CHECK(db_errmsg(db)[0] != 0, "trial refused without a message");
        scenario_free(sc);
    }
    db_trial_get(db, 1, 0, &t, NULL);
    db_close(db);
    return found;
}

/* `fotasim run --resume` on the file with the stored scenario: opened for
 * writing (an older schema is upgraded), the run looked up, its trials
 * counted. Runs last: it may change the file. */
static void resume(const struct scenario *sc)
{
    struct db *db;
    struct db_run_info info;
    enum db_run_status st;
    uint8_t done[64];
    uint64_t count, committed, expected;
    int64_t run;
    char err[512];

    err[0] = 0;
    if (db_open(&db, in_path, err, sizeof(err))) {
        FUZZ_CHECK(err[0] != 0, "db_open refused without a message");
        return;
    }
    if (db_run_find_finished(db, sc, 0, 1, &run, &st) == 1)
        db_run_count(db, run, &committed, &expected);
    if (db_run_find_resumable(db, sc, 0, 1, &info) == 1) {
        memset(done, 0, sizeof(done));
        if (!db_trials_done(db, info.run_id, done, sizeof(done), &count))
            FUZZ_CHECK(count <= sizeof(done), "%llu trials of 64 done",
                       (unsigned long long)count);
    }
    db_close(db);
}

static void report(void)
{
    char err[512];
    int rc;
    err[0] = 0;
    in_report = 1;
    rc = report_write(in_path, rep_dir, FOTASIM_REPORTS_DIR, err, sizeof(err));
    in_report = 0;
    if (rc)
        FUZZ_CHECK(err[0] != 0, "report refused without a message");
    remove_report();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scenario sc;
    FILE *fp;
    int found;

    remove_db(in_path);
    remove_db(out_path);
    fp = fopen(in_path, "wb");
    FUZZ_CHECK(fp != NULL, "cannot write %s", in_path);
    FUZZ_CHECK(fwrite(data, 1, size, fp) == size && fclose(fp) == 0,
               "cannot write %s", in_path);
    merge();
    found = replay(&sc);
    report();
    if (found) {
        resume(&sc);
        scenario_free(&sc);
    }
    return 0;
}
