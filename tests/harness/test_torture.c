/*
 * The torture loop end to end on a tiny scenario: every boundary becomes
 * one trial, in order, all recover; a run resumes from the middle; a
 * replay gives back the trial the run made. (Scenario parsing, the log,
 * the link and the oracle have their own test programs.)
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"
#include "tmpdir.h"
#include "torture.h"

struct counts {
    uint64_t n, failed, last_id;
    int ordered;
};

static int count_sink(void *user, const struct trial *t)
{
    struct counts *c = user;
    if (c->n && t->id != c->last_id + 1)
        c->ordered = 0;
    c->last_id = t->id;
    c->n++;
    c->failed += t->failed;
    return 0;
}

static void test_torture_tiny_run_and_replay(void **state)
{
    struct scenario sc;
    struct torture *t;
    struct torture_result r;
    struct counts c = {0, 0, 0, 1};
    struct trial tr;
    char err[512];
    const char *path =
        tmpdir_write("tiny.ini", "[device]\nsize = 512K\n[image]\nsize = 32K\n"
                                 "[cuts]\nstrategy = exhaustive\ndepth = 2\n");
    (void)state;
    assert_int_equal(scenario_load(&sc, path, err, sizeof(err)), 0);
    assert_int_equal(torture_create(&t, &sc, err, sizeof(err)), 0);
    assert_true(torture_boundaries(t) > 100);
    assert_int_equal(torture_planned(t), torture_boundaries(t));
    assert_int_equal(torture_run(t, 0, count_sink, &c, &r), 0);
    assert_int_equal(c.n, torture_planned(t));
    assert_true(c.ordered);
    assert_int_equal(c.failed, 0);
    assert_int_equal(r.trials, c.n);
    assert_int_equal(r.verdicts[VERDICT_RECOVERED] +
                         r.verdicts[VERDICT_RECOVERED_EXTRA],
                     c.n);
    /* Resume from the middle runs only the rest. */
    memset(&c, 0, sizeof(c));
    c.ordered = 1;
    assert_int_equal(torture_run(t, 50, count_sink, &c, &r), 0);
    assert_int_equal(c.n, torture_planned(t) - 50);
    /* A replay of trial 77 gives the same trial as the run did. */
    assert_int_equal(torture_replay(t, 77, NULL, 0, NULL, NULL, &tr), 0);
    assert_int_equal(tr.id, 77);
    assert_int_equal(tr.cuts[0], 77);
    torture_destroy(t);
    scenario_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torture_tiny_run_and_replay),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
