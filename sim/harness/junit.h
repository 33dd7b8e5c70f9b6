/*
 * junit: JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters).
 *
 * One <testsuite> per file (with timestamp and hostname). Per scenario
 * run: one <testcase> per failing trial up to a cap, named after the
 * scenario, the trial and its cut point, with one <failure> whose message
 * is the verdict and detail and whose body carries the cut points, the
 * engine's error and the shell-quoted replay command; trials beyond the cap
 * as one failing case pointing at the database's v_failed_cuts view; and
 * one passing case, "<scenario> passing trials", holding the run's wall
 * time and summary. One failure per test case: Jenkins' schema allows no
 * more, and GitLab shows the body (tests/harness/junit.xsd holds the shape
 * both read; a CTest validates real output against it).
 *
 * Use: junit_new, then per scenario junit_case_begin, junit_failure for
 * every failing trial as it arrives (the torture loop's sink), and
 * junit_case_end; finally junit_write and junit_free. Everything is kept
 * in memory until junit_write, so a run that dies leaves no half file.
 *
 * The shape is the one most parsers agree on: testsuites > testsuite >
 * testcase > failure | system-out, times in seconds.
 */
#ifndef FOTASIM_JUNIT_H
#define FOTASIM_JUNIT_H

#include <stddef.h>
#include <stdint.h>

#include "trial.h"

/* Default cap on failing-trial test cases per scenario: enough to see a
 * pattern, small enough for a CI page to render. */
#define JUNIT_MAX_FAILURES 200

struct junit; /* opaque */

/* suite: the <testsuite> name (e.g. "fotasim"); max_failures per case,
 * 0 for JUNIT_MAX_FAILURES. NULL when out of memory. */
struct junit *junit_new(const char *suite, unsigned max_failures);
void junit_free(struct junit *j);

/* Start a scenario: classname like "fotasim.torture" for its cases, name
 * the scenario's name. Ends an open scenario (with time 0) first. */
int junit_case_begin(struct junit *j, const char *classname,
                     const char *name);
/* One failing trial of the open scenario: a test case of its own. db_path
 * and run_id make the replay command: "fotasim replay DB --run R --trial
 * T". Past the cap only counted. 0, or -1 when no scenario is open or out
 * of memory. */
int junit_failure(struct junit *j, const struct trial *t, const char *db_path,
                  int64_t run_id);
/* A failure that is not a trial (e.g. the run itself broke): a failing
 * case "<scenario> run". */
int junit_failure_text(struct junit *j, const char *message);
/* Close the open scenario: its passing case gets the wall time in seconds
 * and a one-line summary for <system-out> (may be NULL). */
int junit_case_end(struct junit *j, double time_s, const char *system_out);

/* Failures counted so far in the open (or last) scenario, including those
 * beyond the cap. */
uint64_t junit_case_failures(const struct junit *j);

/* Write the whole document to path (replacing it). On error writes
 * "path: cannot write: reason" into err and returns -1. */
int junit_write(const struct junit *j, const char *path, char *err,
                size_t errlen);

/* The program the replay commands name (default "fotasim"): a mutant
 * build (fotasim-mut-<name>) must be replayed with itself. The string is
 * not copied; it must outlive j. */
void junit_set_program(struct junit *j, const char *prog);

/* The replay command of one trial, as JUnit and the FAIL lines print it,
 * program and database path shell-quoted where they need it; prog NULL
 * means "fotasim". Returns what snprintf returns. */
int junit_replay_command(char *buf, size_t n, const char *prog,
                         const char *db_path, int64_t run_id,
                         uint64_t trial_id);

/* word as one POSIX shell word: as it is when it needs no quoting, else in
 * single quotes (each ' as '\''). Returns the length it needs, as snprintf;
 * the result is truncated to n - 1 characters. */
int junit_shell_quote(char *buf, size_t n, const char *word);

#endif /* FOTASIM_JUNIT_H */
