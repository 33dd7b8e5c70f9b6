/*
 * The torture loop end to end on a tiny scenario: every boundary becomes
 * one trial, in order, all recover; a run resumes from the middle; a
 * replay gives back the trial the run made. The watchdog's budgets: their
 * arithmetic, the uncut update refused past one, trials ended as stuck
 * past one with the run going on, and a fresh engine after. A stop
 * request and a failing sink each end a run with their own code, in this
 * process and with workers. (Scenario parsing, the log, the link and the
 * oracle have their own test programs.)
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "scenario.h"
#include "tmpdir.h"
#include "torture.h"
#include "workers.h"

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

/* ------------------------------------------------------------ watchdog */

static const char *tiny_ini(void)
{
    return tmpdir_write("tiny-wd.ini",
                        "[device]\nsize = 512K\n[image]\nsize = 32K\n"
                        "[cuts]\nstrategy = exhaustive\n");
}

/* A 4 MiB update: long enough (tens of ms of CPU) for a CPU-time budget
 * of a microsecond to run out inside it, at the kernel's tick. */
static const char *big_ini(void)
{
    return tmpdir_write("big-wd.ini",
                        "[device]\nsize = 8M\n[image]\nsize = 4M\n"
                        "[cuts]\nstrategy = every\nevery = 6000\n");
}

struct verdicts {
    uint64_t n, stuck, recovered, ops_detail, cpu_detail, failed;
};

static int verdict_sink(void *user, const struct trial *t)
{
    struct verdicts *v = user;
    v->n++;
    v->failed += t->failed;
    if (t->verdict == VERDICT_STUCK) {
        v->stuck++;
        v->ops_detail += strstr(t->detail, "flash ops without") != NULL;
        v->cpu_detail += strstr(t->detail, "of CPU time without") != NULL;
    }
    if (t->verdict == VERDICT_RECOVERED ||
        t->verdict == VERDICT_RECOVERED_EXTRA)
        v->recovered++;
    return 0;
}

/* Reads the bus fails during recoveries (faults.read_error_rate): the
 * engine stops with FWR_E_IO, the device reboots and tries again; those
 * boots are counted but not held to cuts.max_boots, every trial still
 * recovers, and a replay draws the same errors. */
struct boot_counts {
    uint64_t n, failed, io_boots, max_io_boots;
};

static int boot_sink(void *user, const struct trial *t)
{
    struct boot_counts *c = user;
    c->n++;
    c->failed += t->failed;
    c->io_boots += t->io_boots;
    if (t->io_boots > c->max_io_boots)
        c->max_io_boots = t->io_boots;
    return 0;
}

static void test_read_errors_reboot_and_recover(void **state)
{
    struct scenario sc;
    struct torture *t;
    struct torture_result r;
    struct boot_counts c = {0, 0, 0, 0};
    struct trial a, b;
    char err[512];
    const char *path = tmpdir_write(
        "rerr.ini", "[device]\nsize = 512K\n[image]\nsize = 32K\n"
                    "[faults]\nread_error_rate = 5e-4\n"
                    "[cuts]\nstrategy = exhaustive\nmax_boots = 2\n");
    (void)state;
    assert_int_equal(scenario_load(&sc, path, err, sizeof(err)), 0);
    assert_int_equal(torture_create(&t, &sc, err, sizeof(err)), 0);
    assert_int_equal(torture_run(t, 0, boot_sink, &c, &r), 0);
    assert_int_equal(c.n, torture_planned(t));
    assert_int_equal(c.failed, 0);
    /* Errors did happen, some trial needed more boots than max_boots. */
    assert_true(c.io_boots > c.n / 10);
    assert_true(c.max_io_boots > 2);
    assert_int_equal(torture_replay(t, 31, NULL, 0, NULL, NULL, &a), 0);
    assert_int_equal(torture_replay(t, 31, NULL, 0, NULL, NULL, &b), 0);
    assert_int_equal(a.io_boots, b.io_boots);
    assert_int_equal(a.boots, b.boots);
    assert_int_equal(a.programs, b.programs);
    torture_destroy(t);
    scenario_free(&sc);
}

static void test_budget_arithmetic(void **state)
{
    struct torture_limits l = {8, 4096, 64, 2.0, 0, 0};
    struct torture_budget b;
    struct scenario sc;
    char err[512];
    (void)state;

    b = torture_trial_budget(&l, 1000, 0.001);
    assert_int_equal(b.ops, 8 * 1000 + 4096);
    assert_true(b.cpu_s == 2.0); /* the floor */
    b = torture_trial_budget(&l, 1000, 0.5);
    assert_true(b.cpu_s == 32.0); /* 64 x 0.5 s */
    b = torture_trial_budget(&l, UINT64_MAX / 4, 0);
    assert_true(b.ops == UINT64_MAX); /* saturates */
    l.op_factor = 0;
    b = torture_trial_budget(&l, UINT64_MAX, 0);
    assert_int_equal(b.ops, 4096);

    /* The defaults: 8x + 4096 ops, max(2 s, 64x) CPU; the uncut update's
     * bounds from the image and the record area. */
    assert_int_equal(scenario_load(&sc, tiny_ini(), err, sizeof(err)), 0);
    torture_default_limits(&l, &sc);
    assert_int_equal(l.op_factor, 8);
    assert_int_equal(l.op_const, 4096);
    assert_true(l.cpu_floor_s == 2.0 && l.cpu_factor == 256);
    assert_true(l.uncut_ops >= 64 * (32768 / 256));
    assert_true(l.uncut_cpu_s >= 2.0);
    {
        struct torture *t;
        uint64_t ops;
        double cpu;
        assert_int_equal(torture_create(&t, &sc, err, sizeof(err)), 0);
        b = torture_budget_of(t, &ops, &cpu);
        /* The update and one boot on its result were measured. */
        assert_true(ops > torture_boundaries(t));
        assert_true(cpu > 0 && cpu < 2.0);
        assert_int_equal(b.ops, 8 * ops + 4096);
        assert_true(b.cpu_s == 2.0);
        torture_destroy(t);
    }
    scenario_free(&sc);
}

/* The uncut update past its budgets: torture_create fails, saying so,
 * instead of hanging. */
static void test_uncut_update_over_budget(void **state)
{
    struct scenario sc;
    struct torture *t = NULL;
    struct torture_limits l;
    char err[512];
    (void)state;

    assert_int_equal(scenario_load(&sc, tiny_ini(), err, sizeof(err)), 0);
    torture_default_limits(&l, &sc);
    l.uncut_ops = 10;
    err[0] = 0;
    assert_int_equal(torture_create_limited(&t, &sc, &l, err, sizeof(err)), -1);
    assert_null(t);
    assert_non_null(strstr(err, "the uncut update does not complete"));
    assert_non_null(strstr(err, "10 flash ops"));
    scenario_free(&sc);

    /* Many timer periods (1 ms at least) of CPU: big_ini's uncut update
     * takes about 3 ms with the host's CRC, too close to the first tick
     * (it failed 1 run in 3); the engine's own table CRC makes it ~30. */
    assert_int_equal(
        scenario_load(&sc,
                      tmpdir_write("slow-wd.ini",
                                   "[device]\nsize = 8M\n[image]\nsize = "
                                   "4M\n[engine]\ncrc_ops = engine\n"),
                      err, sizeof(err)),
        0);
    torture_default_limits(&l, &sc);
    l.uncut_cpu_s = 1e-6;
    err[0] = 0;
    assert_int_equal(torture_create_limited(&t, &sc, &l, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "the uncut update does not complete"));
    assert_non_null(strstr(err, "CPU time"));
    scenario_free(&sc);
}

/* Trials past the op budget end as stuck, the run goes on to the end of
 * the plan, and trials that fit the budget still recover: each boots a
 * fresh engine, on a device the stuck ones left consistent. */
static void test_trials_over_op_budget(void **state)
{
    struct scenario sc;
    struct torture *t;
    struct torture_limits l, dflt;
    struct torture_result r;
    struct verdicts v;
    char err[512];
    (void)state;

    assert_int_equal(scenario_load(&sc, tiny_ini(), err, sizeof(err)), 0);
    assert_int_equal(torture_create(&t, &sc, err, sizeof(err)), 0);
    torture_default_limits(&dflt, &sc);
    l = dflt;
    l.op_factor = 0;
    {
        /* 90 % of the uncut update and one boot: a late trial (a scan and
         * a little) fits, an early one (a scan and most of the update)
         * does not; about half and half. */
        uint64_t ops;
        torture_budget_of(t, &ops, NULL);
        l.op_const = ops * 9 / 10;
    }
    torture_set_limits(t, &l);
    memset(&v, 0, sizeof(v));
    assert_int_equal(torture_run(t, 0, verdict_sink, &v, &r), 0);
    assert_int_equal(v.n, torture_planned(t));
    assert_true(v.stuck > 0);
    assert_int_equal(v.ops_detail, v.stuck);
    assert_true(v.recovered > 0);
    assert_int_equal(v.stuck + v.recovered, v.n);
    assert_int_equal(r.verdicts[VERDICT_STUCK], v.stuck);

    /* The defaults again: every trial recovers. */
    torture_set_limits(t, &dflt);
    memset(&v, 0, sizeof(v));
    assert_int_equal(torture_run(t, 0, verdict_sink, &v, &r), 0);
    assert_int_equal(v.n, torture_planned(t));
    assert_int_equal(v.failed, 0);
    torture_destroy(t);
    scenario_free(&sc);
}

/* Trials past the CPU-time budget: the timer's handler jumps out of the
 * engine (or the flash op in progress does as it returns); every trial
 * still reaches the sink, and a later run with the default budgets
 * recovers every one. */
static void test_trials_over_cpu_budget(void **state)
{
    struct scenario sc;
    struct torture *t;
    struct torture_limits l, dflt;
    struct torture_result r;
    struct verdicts v;
    char err[512];
    (void)state;

    assert_int_equal(scenario_load(&sc, big_ini(), err, sizeof(err)), 0);
    assert_int_equal(torture_create(&t, &sc, err, sizeof(err)), 0);
    torture_default_limits(&dflt, &sc);
    l = dflt;
    l.cpu_factor = 0;
    l.cpu_floor_s = 1e-6;
    torture_set_limits(t, &l);
    memset(&v, 0, sizeof(v));
    assert_int_equal(torture_run(t, 0, verdict_sink, &v, &r), 0);
    assert_int_equal(v.n, torture_planned(t));
    assert_true(v.stuck > 0);
    assert_int_equal(v.cpu_detail, v.stuck);

    torture_set_limits(t, &dflt);
    memset(&v, 0, sizeof(v));
    assert_int_equal(torture_run(t, 0, verdict_sink, &v, &r), 0);
    assert_int_equal(v.n, torture_planned(t));
    assert_int_equal(v.failed, 0);
    torture_destroy(t);
    scenario_free(&sc);
}

/* ------------------------------------------------------------ stopping */

struct stopper {
    uint64_t n, at;
    int fail; /* 1: the sink fails at trial `at`; 0: it asks to stop */
    int slow; /* a slow database: workers fill their pipes and wait */
};

static int stopping_sink(void *user, const struct trial *t)
{
    struct stopper *s = user;
    (void)t;
    if (s->slow) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    if (++s->n != s->at)
        return 0;
    if (s->fail)
        return 1;
    torture_request_stop(); /* as a SIGINT handler would */
    return 0;
}

static void test_stop_and_sink_failure(void **state)
{
    struct scenario sc;
    struct torture *t;
    struct torture_result r;
    struct stopper st;
    char err[512];
    (void)state;

    assert_int_equal(scenario_load(&sc, tiny_ini(), err, sizeof(err)), 0);
    assert_int_equal(torture_create(&t, &sc, err, sizeof(err)), 0);

    /* A stop request: the trial in progress is the last. */
    st = (struct stopper){0, 10, 0, 0};
    assert_int_equal(torture_run(t, 0, stopping_sink, &st, &r),
                     TORTURE_STOPPED);
    assert_int_equal(st.n, 10);
    assert_int_equal(r.trials, 10);
    /* The request stays until cleared: the next run stops at once. */
    st = (struct stopper){0, 0, 0, 0};
    assert_int_equal(torture_run(t, 0, stopping_sink, &st, &r),
                     TORTURE_STOPPED);
    assert_int_equal(st.n, 0);
    torture_clear_stop();

    /* A failing sink: its own code, not taken for a stop or success. */
    st = (struct stopper){0, 5, 1, 0};
    assert_int_equal(torture_run(t, 0, stopping_sink, &st, &r), TORTURE_E_SINK);
    assert_int_equal(st.n, 5);
    assert_true(TORTURE_E_SINK < 0 && TORTURE_E_SINK != TORTURE_STOPPED);
    torture_destroy(t);
    scenario_free(&sc);
}

/* The same through two workers: the request is forwarded, the trials they
 * finish still reach the sink; a sink failure stops them too. */
static void test_workers_stop_and_sink_failure(void **state)
{
    struct scenario sc;
    struct torture *t;
    struct torture_result r;
    struct stopper st;
    struct shard whole = {0, 1};
    char err[512];
    const char *path =
        tmpdir_write("medium-wd.ini", "[device]\nsize = 1M\n[image]\n"
                                      "size = 256K\n[cuts]\n"
                                      "strategy = exhaustive\n");
    (void)state;

    assert_int_equal(scenario_load(&sc, path, err, sizeof(err)), 0);
    assert_int_equal(torture_create(&t, &sc, err, sizeof(err)), 0);
    st = (struct stopper){0, 20, 0, 1};
    assert_int_equal(
        workers_run(t, 2, whole, NULL, stopping_sink, &st, &r, NULL),
        TORTURE_STOPPED);
    assert_true(st.n >= 20 && st.n < torture_planned(t));
    assert_int_equal(r.trials, st.n);
    torture_clear_stop();
    st = (struct stopper){0, 5, 1, 1};
    assert_int_equal(
        workers_run(t, 2, whole, NULL, stopping_sink, &st, &r, NULL),
        TORTURE_E_SINK);
    assert_true(r.trials < torture_planned(t));
    torture_destroy(t);
    scenario_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torture_tiny_run_and_replay),
        cmocka_unit_test(test_budget_arithmetic),
        cmocka_unit_test(test_read_errors_reboot_and_recover),
        cmocka_unit_test(test_uncut_update_over_budget),
        cmocka_unit_test(test_trials_over_op_budget),
        cmocka_unit_test(test_trials_over_cpu_budget),
        cmocka_unit_test(test_stop_and_sink_failure),
        cmocka_unit_test(test_workers_stop_and_sink_failure),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
