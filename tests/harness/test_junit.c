/*
 * JUnit XML: one testcase per failing trial (one <failure> each, the body
 * with every cut and the replay command), one passing case per scenario,
 * the cap and its "more" case, a broken run as a case, shell quoting, XML
 * escaping, and a file that xmllint (when installed) accepts.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "junit.h"
#include "tmpdir.h"

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (; (hay = strstr(hay, needle)); hay++)
        n++;
    return n;
}

/* Well-formed XML, checked by a real parser when there is one. */
static void well_formed(const char *path)
{
    char cmd[700];
    if (system("command -v xmllint >/dev/null 2>&1"))
        return;
    snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static void failing_trial(struct trial *t, uint64_t id)
{
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->cuts[0] = 100 + id;
    t->cut_area[0] = CUT_AREA_RECORD;
    t->verdict = VERDICT_SILENT_CORRUPTION;
    t->failed = 1;
    snprintf(t->detail, sizeof(t->detail),
             "block 3 <differs> & \"claims\" 'valid'\x01");
}

static void test_passing_and_failing_cases(void **state)
{
    struct junit *j = junit_new("fotasim", 0);
    struct trial t;
    char path[600], err[512], *xml;
    (void)state;
    assert_non_null(j);
    assert_int_equal(junit_case_begin(j, "fotasim.torture", "nor-1m-4k"), 0);
    assert_int_equal(junit_case_end(j, 1.5, "4112 boundaries, 0 failing"), 0);
    assert_int_equal(junit_case_begin(j, "fotasim.torture", "a<b&c"), 0);
    failing_trial(&t, 7);
    t.depth = 2;
    t.cuts[1] = 9;
    t.cut_area[1] = CUT_AREA_DATA;
    t.wall_ns = 250000000;
    assert_int_equal(junit_failure(j, &t, "out/r.db", 2), 0);
    assert_int_equal(junit_case_failures(j), 1);
    assert_int_equal(junit_case_end(j, 0.25, NULL), 0);
    snprintf(path, sizeof(path), "%s", tmpdir_path("j.xml"));
    assert_int_equal(junit_write(j, path, err, sizeof(err)), 0);
    junit_free(j);

    xml = slurp(path);
    assert_non_null(strstr(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    /* Three cases: nor-1m-4k's passing one, the failing trial, a<b&c's
     * passing one; the suite's time is the scenarios' wall time. */
    assert_non_null(strstr(xml, "<testsuite name=\"fotasim\" tests=\"3\" "
                                "failures=\"1\" errors=\"0\" skipped=\"0\" "
                                "time=\"1.750\" timestamp=\""));
    assert_non_null(strstr(xml, "hostname=\""));
    assert_int_equal(count(xml, "<testcase "), 3);
    assert_non_null(
        strstr(xml, "name=\"nor-1m-4k passing trials\" time=\"1.500\""));
    /* The failing trial's case: scenario, trial, cut point in the name. */
    assert_non_null(strstr(xml, "name=\"a&lt;b&amp;c trial 7 cut 107 "
                                "(record)\" time=\"0.250\""));
    assert_int_equal(count(xml, "<failure "), 1);
    assert_non_null(strstr(xml, "<failure type=\"silent_corruption\" "
                                "message=\"silent_corruption: block 3"));
    /* The body: every cut, and the command that replays the trial. */
    assert_non_null(strstr(xml, "cuts at boundary: 107 (record), 9 (data)"));
    assert_non_null(
        strstr(xml, "replay: fotasim replay out/r.db --run 2 --trial 7\n"));
    assert_non_null(strstr(xml, "block 3 &lt;differs&gt; &amp; &quot;claims"
                                "&quot; &apos;valid&apos;?"));
    assert_non_null(strstr(xml, "<system-out>4112 boundaries, 0 failing"
                                "</system-out>"));
    free(xml);
    well_formed(path);
}

static void test_failures_are_capped(void **state)
{
    struct junit *j = junit_new(NULL, 50);
    struct trial t;
    char path[600], err[512], *xml;
    uint64_t i;
    (void)state;
    assert_non_null(j);
    assert_int_equal(junit_case_begin(j, NULL, "storm"), 0);
    for (i = 0; i < 1000; i++) {
        failing_trial(&t, i);
        assert_int_equal(junit_failure(j, &t, "r.db", 1), 0);
    }
    assert_int_equal(junit_case_failures(j), 1000);
    assert_int_equal(junit_case_end(j, 3, NULL), 0);
    snprintf(path, sizeof(path), "%s", tmpdir_path("cap.xml"));
    assert_int_equal(junit_write(j, path, err, sizeof(err)), 0);
    junit_free(j);
    xml = slurp(path);
    /* 50 failing-trial cases, one "more" case, one passing case. */
    assert_int_equal(count(xml, "<testcase "), 52);
    assert_int_equal(count(xml, "<failure type=\"silent_corruption\""), 50);
    assert_int_equal(count(xml, "<failure type=\"more\""), 1);
    assert_non_null(strstr(xml, "name=\"storm: 950 more failing trials\""));
    assert_non_null(strstr(xml, "--trial 49\n"));
    assert_null(strstr(xml, "--trial 50\n"));
    free(xml);
    well_formed(path);
}

static void test_run_failure_is_a_case(void **state)
{
    struct junit *j = junit_new(NULL, 0);
    char path[600], err[512], *xml;
    (void)state;
    assert_int_equal(junit_case_begin(j, NULL, "ci-smoke"), 0);
    assert_int_equal(junit_failure_text(j, "storage: disk full"), 0);
    assert_int_equal(junit_case_end(j, 1, NULL), 0);
    snprintf(path, sizeof(path), "%s", tmpdir_path("run.xml"));
    assert_int_equal(junit_write(j, path, err, sizeof(err)), 0);
    junit_free(j);
    xml = slurp(path);
    assert_non_null(strstr(xml, "name=\"ci-smoke run\""));
    assert_non_null(strstr(xml, "<failure type=\"run\" message=\"storage: "
                                "disk full\">storage: disk full</failure>"));
    free(xml);
    well_formed(path);
}

static void test_shell_quoting(void **state)
{
    char buf[128];
    (void)state;
    junit_shell_quote(buf, sizeof(buf), "out/r-1.db");
    assert_string_equal(buf, "out/r-1.db");
    junit_shell_quote(buf, sizeof(buf), "my runs/r.db");
    assert_string_equal(buf, "'my runs/r.db'");
    junit_shell_quote(buf, sizeof(buf), "it's.db");
    assert_string_equal(buf, "'it'\\''s.db'");
    junit_shell_quote(buf, sizeof(buf), "");
    assert_string_equal(buf, "''");
    assert_int_equal(junit_shell_quote(buf, 4, "a b c d"), 9);
    assert_string_equal(buf, "'a ");
    junit_replay_command(buf, sizeof(buf), NULL, "a $b.db", 1, 2);
    assert_string_equal(buf, "fotasim replay 'a $b.db' --run 1 --trial 2");
}

static void test_replay_command_and_errors(void **state)
{
    struct junit *j = junit_new("s", 0);
    char buf[128], err[512];
    (void)state;
    junit_replay_command(buf, sizeof(buf), NULL, "x.db", 3, 12);
    assert_string_equal(buf, "fotasim replay x.db --run 3 --trial 12");
    junit_replay_command(buf, sizeof(buf), "fotasim-mut-no_crc", "y.db", 1, 2);
    assert_string_equal(buf,
                        "fotasim-mut-no_crc replay y.db --run 1 --trial 2");
    /* No open case: a failure has nowhere to go. */
    assert_int_equal(junit_failure_text(j, "lost"), -1);
    assert_int_not_equal(
        junit_write(j, "/nonexistent/dir/j.xml", err, sizeof(err)), 0);
    assert_string_equal(err, "/nonexistent/dir/j.xml: cannot write: No such "
                             "file or directory");
    junit_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passing_and_failing_cases),
        cmocka_unit_test(test_failures_are_capped),
        cmocka_unit_test(test_replay_command_and_errors),
        cmocka_unit_test(test_run_failure_is_a_case),
        cmocka_unit_test(test_shell_quoting),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
