/*
 * junit: JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters).
 *
 * One <testsuite> per file, one <testcase> per scenario run, one <failure>
 * per failing trial up to a cap; each failure message ends with the exact
 * command that replays the trial. Trials beyond the cap are summed up in
 * one last <failure> that points at the database's v_failed_cuts view.
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

/* Default cap on <failure> elements per test case: enough to see a
 * pattern, small enough for a CI page to render. */
#define JUNIT_MAX_FAILURES 200

struct junit; /* opaque */

/* suite: the <testsuite> name (e.g. "fotasim"); max_failures per case,
 * 0 for JUNIT_MAX_FAILURES. NULL when out of memory. */
struct junit *junit_new(const char *suite, unsigned max_failures);
void junit_free(struct junit *j);

/* Start a test case: classname like "fotasim.torture", name the
 * scenario's name. Ends an open case (with time 0) first. */
int junit_case_begin(struct junit *j, const char *classname,
                     const char *name);
/* One failing trial of the open case. db_path and run_id make the replay
 * command: "fotasim replay DB --run R --trial T". Past the cap only
 * counted. 0, or -1 when no case is open or out of memory. */
int junit_failure(struct junit *j, const struct trial *t, const char *db_path,
                  int64_t run_id);
/* A failure that is not a trial (e.g. the run itself broke). */
int junit_failure_text(struct junit *j, const char *message);
/* Close the open case: wall time in seconds and a one-line summary for
 * <system-out> (may be NULL). */
int junit_case_end(struct junit *j, double time_s, const char *system_out);

/* Failures counted so far in the open (or last) case, including those
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

/* The replay command of one trial, as JUnit and the FAIL lines print it;
 * prog NULL means "fotasim". Returns what snprintf returns. */
int junit_replay_command(char *buf, size_t n, const char *prog,
                         const char *db_path, int64_t run_id,
                         uint64_t trial_id);

#endif /* FOTASIM_JUNIT_H */
