/*
 * The run pipeline (pipeline.h) on a tiny scenario and a real database:
 * a run commits every trial and ends passed with its wear rows; --resume
 * of it finds it finished and runs nothing; a run cut short by a stop
 * request ends interrupted and a resume runs exactly the rest; a failing
 * insert (libfiu point fotasim/db/step) ends the run with the storage
 * status, never passed, and keeps it resumable.
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
#include <fiu-control.h>
#include <fiu.h>
#include <sqlite3.h>

#include "db.h"
#include "pipeline.h"
#include "scenario.h"
#include "tmpdir.h"
#include "torture.h"

struct rig {
    struct scenario sc;
    struct torture *t;
    struct db *db;
    const char *db_path;
    uint64_t seen, stop_after;
};

static int on_trial(void *user, const struct trial *t, int64_t run_id)
{
    struct rig *g = user;
    (void)t;
    assert_true(run_id > 0);
    if (++g->seen == g->stop_after)
        torture_request_stop();
    return 0;
}

static int64_t query(const char *path, const char *sql)
{
    sqlite3 *d;
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &d, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(d, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(d);
    return v;
}

static void rig_open(struct rig *g, const char *db_name)
{
    char err[512];
    const char *path =
        tmpdir_write("tiny.ini", "[device]\nsize = 512K\n[image]\nsize = 32K\n"
                                 "[cuts]\nstrategy = exhaustive\n");
    memset(g, 0, sizeof(*g));
    assert_int_equal(scenario_load(&g->sc, path, err, sizeof(err)), 0);
    assert_int_equal(torture_create(&g->t, &g->sc, err, sizeof(err)), 0);
    g->db_path = tmpdir_path(db_name);
    assert_int_equal(db_open(&g->db, g->db_path, err, sizeof(err)), 0);
}

static void rig_close(struct rig *g)
{
    db_close(g->db);
    torture_destroy(g->t);
    scenario_free(&g->sc);
    torture_clear_stop();
}

static struct pipeline_opts opts(struct rig *g, int resume)
{
    struct pipeline_opts o;
    memset(&o, 0, sizeof(o));
    o.db_path = g->db_path;
    o.jobs = 1;
    o.shard.count = 1;
    o.resume = resume;
    o.on_trial = on_trial;
    o.user = g;
    return o;
}

static void test_run_then_resume_finished(void **state)
{
    struct rig g;
    struct pipeline p;
    struct pipeline_opts o;
    (void)state;
    rig_open(&g, "whole.db");
    o = opts(&g, 0);
    assert_int_equal(pipeline_begin(&p, g.db, &g.sc, g.t, &o), PIPELINE_PASSED);
    assert_int_equal(p.planned, torture_planned(g.t));
    assert_false(p.resumed);
    assert_int_equal(pipeline_run(&p), PIPELINE_PASSED);
    assert_int_equal(g.seen, torture_planned(g.t));
    assert_int_equal(p.res.trials, torture_planned(g.t));
    assert_true(p.worst_unit_erases >= 1);
    pipeline_free(&p);
    assert_int_equal(query(g.db_path, "SELECT count(*) FROM trials"),
                     (int64_t)torture_planned(g.t));
    assert_int_equal(query(g.db_path, "SELECT count(*) FROM runs WHERE "
                                      "status = 'passed'"),
                     1);
    assert_true(query(g.db_path, "SELECT count(*) FROM wear") > 0);
    /* --resume: the run is finished; nothing to run, and which one. */
    o = opts(&g, 1);
    assert_int_equal(pipeline_begin(&p, g.db, &g.sc, g.t, &o), PIPELINE_INPUT);
    assert_int_equal(p.finished_run, 1);
    assert_int_equal(p.finished_status, RUN_PASSED);
    pipeline_free(&p);
    rig_close(&g);
}

static void test_interrupted_then_resumed(void **state)
{
    struct rig g;
    struct pipeline p;
    struct pipeline_opts o;
    uint64_t planned;
    (void)state;
    rig_open(&g, "cut.db");
    planned = torture_planned(g.t);
    g.stop_after = 40;
    o = opts(&g, 1); /* nothing to resume yet: a new run */
    assert_int_equal(pipeline_begin(&p, g.db, &g.sc, g.t, &o), PIPELINE_PASSED);
    assert_true(p.none_to_resume);
    assert_int_equal(pipeline_run(&p), PIPELINE_INTERRUPTED);
    pipeline_free(&p);
    assert_int_equal(query(g.db_path, "SELECT count(*) FROM trials"), 40);
    assert_int_equal(query(g.db_path, "SELECT count(*) FROM runs WHERE "
                                      "status = 'interrupted'"),
                     1);
    torture_clear_stop();
    g.seen = 0;
    g.stop_after = 0;
    o = opts(&g, 1);
    assert_int_equal(pipeline_begin(&p, g.db, &g.sc, g.t, &o), PIPELINE_PASSED);
    assert_true(p.resumed);
    assert_int_equal(p.done_before, 40);
    assert_int_equal(p.planned, planned - 40);
    assert_int_equal(pipeline_run(&p), PIPELINE_PASSED);
    assert_int_equal(g.seen, planned - 40);
    pipeline_free(&p);
    assert_int_equal(query(g.db_path, "SELECT count(*) FROM trials"),
                     (int64_t)planned);
    assert_int_equal(query(g.db_path, "SELECT count(*) FROM runs WHERE "
                                      "status = 'passed'"),
                     1);
    rig_close(&g);
}

/* The check can fail: an insert the disk refuses ends the run with the
 * storage status, and the run row is not passed. */
static void test_failing_insert_is_storage(void **state)
{
    struct rig g;
    struct pipeline p;
    struct pipeline_opts o;
    (void)state;
    setenv("FOTASIM_FIU", "1", 1);
    fiu_init(0);
    rig_open(&g, "full.db");
    o = opts(&g, 0);
    assert_int_equal(pipeline_begin(&p, g.db, &g.sc, g.t, &o), PIPELINE_PASSED);
    /* Once: the insert fails, the wear rows and the run's end go in. */
    assert_int_equal(fiu_enable("fotasim/db/step", 1,
                                (void *)(intptr_t)SQLITE_FULL, FIU_ONETIME),
                     0);
    assert_int_equal(pipeline_run(&p), PIPELINE_STORAGE);
    fiu_disable("fotasim/db/step");
    assert_true(p.storage_rc != 0);
    pipeline_free(&p);
    assert_int_equal(query(g.db_path, "SELECT count(*) FROM runs WHERE "
                                      "status = 'passed'"),
                     0);
    assert_int_equal(query(g.db_path, "SELECT count(*) FROM runs WHERE "
                                      "status = 'interrupted'"),
                     1);
    rig_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_then_resume_finished),
        cmocka_unit_test(test_interrupted_then_resumed),
        cmocka_unit_test(test_failing_insert_is_storage),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
