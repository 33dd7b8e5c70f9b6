/*
 * Harness units: scenario parsing and its error messages, --set overrides,
 * the layout, the SQLite log (round trip, batching, refusals), the link
 * model's determinism, and a whole torture run of a tiny scenario.
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
#include <sqlite3.h>

#include "db.h"
#include "link.h"
#include "scenario.h"
#include "torture.h"

static char tmpdir[] = "/tmp/fotasim-test-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    FILE *fp;
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void expect_error(const char *text, const char *want)
{
    struct scenario sc;
    char err[512];
    const char *path = write_file("bad.ini", text);
    assert_int_not_equal(scenario_load(&sc, path, err, sizeof(err)), 0);
    if (!strstr(err, want))
        fail_msg("got '%s', wanted '%s'", err, want);
    scenario_free(&sc);
}

static void test_scenario_defaults_and_units(void **state)
{
    struct scenario sc;
    char err[512];
    const char *path = write_file(
        "ok.ini", "[scenario]\nname = t\nseed = 42\n[image]\nsize = 64KiB\n"
                  "[engine]\nblock_size = 0x1000\nverify = trusted\n"
                  "[link]\nbandwidth = 2Mbit\nlatency = 3ms\n"
                  "[faults]\ninitial_wear = 0.95\nwear = fail\n"
                  "[cuts]\nstrategy = logspaced\ncount = 50\n");
    (void)state;
    assert_int_equal(scenario_load(&sc, path, err, sizeof(err)), 0);
    assert_string_equal(sc.name, "t");
    assert_int_equal(sc.seed, 42);
    assert_int_equal(sc.image.size, 65536);
    assert_int_equal(sc.engine.block_size, 4096);
    assert_int_equal(sc.engine.verify, FWR_VERIFY_TRUSTED);
    assert_int_equal(sc.link.bandwidth_bps, 250000);
    assert_int_equal(sc.link.latency_ns, 3000000);
    assert_true(sc.device.faults.initial_wear > 0.94);
    assert_int_equal(sc.device.faults.wear_mode, SIM_WEAR_FAIL);
    assert_int_equal(sc.device.faults.endurance, 100000); /* preset's */
    assert_int_equal(sc.cuts.strategy, CUT_LOGSPACED);
    assert_non_null(strstr(sc.text, "count = 50"));
    assert_int_equal(
        scenario_set(&sc, "engine.block_size=1K", err, sizeof(err)), 0);
    assert_int_equal(sc.engine.block_size, 1024);
    assert_int_not_equal(
        scenario_set(&sc, "engine.block_size=big", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "--set"));
    assert_int_not_equal(scenario_set(&sc, "nonsense", err, sizeof(err)), 0);
    scenario_free(&sc);
}

static void test_scenario_errors_name_line_and_key(void **state)
{
    (void)state;
    expect_error("[engine]\n\n  blok = 3\n",
                 "bad.ini:3: engine.blok: unknown key");
    expect_error("[image]\nsize = 12 apples\n",
                 "bad.ini:2: image.size: '12 apples' is not a size");
    expect_error("[cuts]\ndepth = 9\n", "bad.ini:2: cuts.depth: '9': depth");
    expect_error("[device]\npreset = w25x\n",
                 "bad.ini:2: device.preset: unknown preset 'w25x'");
    expect_error("[link]\ndrop_rate = 1.5\n", "bad.ini:2: link.drop_rate");
    expect_error("[engine]\nverify = trusted\ndigest = none\n",
                 "engine.verify: trusted needs an image digest");
    expect_error("[device]\nsize = 1M\n[image]\nsize = 2M\n",
                 "bad.ini:4: image.size: image 2097152 bytes");
    expect_error("[engine]\nblock_size = 6K\n",
                 "bad.ini:2: engine.block_size: the engine refuses this geometry");
    expect_error("this is not ini\n", "bad.ini:1:");
}

static void test_scenario_missing_file(void **state)
{
    struct scenario sc;
    char err[512];
    (void)state;
    assert_int_not_equal(
        scenario_load(&sc, "/nonexistent/x.ini", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "/nonexistent/x.ini: cannot open"));
}

static void test_layout_fits_and_aligns(void **state)
{
    struct scenario sc;
    struct scenario_layout l;
    char err[512];
    const char *path = write_file(
        "mcu.ini", "[device]\npreset = stm32f4-internal\n[image]\nsize = "
                   "384K\n[engine]\nblock_size = 16K\npartition_addr = 128K\n");
    (void)state;
    assert_int_equal(scenario_load(&sc, path, err, sizeof(err)), 0);
    assert_int_equal(scenario_layout(&sc, &l, err, sizeof(err)), 0);
    assert_int_equal(l.record_addr, 128 * 1024);
    assert_int_equal(l.record_addr % (128 * 1024), 0);
    assert_int_equal(l.mirror_addr, l.record_addr + l.record_size);
    assert_int_equal(l.data_addr % (128 * 1024), 0);
    assert_true(l.part_hi <= (1u << 20));
    scenario_free(&sc);
}

static void test_every_shipped_scenario_parses(void **state)
{
    static const char *const names[] = {
        "nor-1m-4k.ini",        "nor-1m-1k-small-blocks.ini",
        "mcu-128k-sectors.ini", "nand-ecc-badblocks.ini",
        "nor-end-of-life.ini",  "bitflip-storm.ini",
        "flaky-link.ini",       "ci-smoke.ini",
        "nested-cuts.ini"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct scenario sc;
        char path[512], err[512];
        snprintf(path, sizeof(path), "%s/%s", SCENARIO_DIR, names[i]);
        if (scenario_load(&sc, path, err, sizeof(err)))
            fail_msg("%s", err);
        assert_true(sc.description[0] != 0);
        scenario_free(&sc);
    }
}

static void test_link_is_deterministic(void **state)
{
    struct scenario_link cfg;
    struct link a, b;
    static uint8_t src[65536], x[65536], y[65536];
    uint32_t i, na, nb;
    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.bandwidth_bps = 1000000;
    cfg.latency_ns = 1000;
    cfg.drop_rate = 0.3;
    cfg.corrupt_rate = 0.001;
    cfg.change_after = 100000;
    for (i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)i;
    link_init(&a, &cfg, 5);
    link_init(&b, &cfg, 5);
    for (i = 0; i < 10; i++) {
        na = link_request(&a, 65536);
        nb = link_request(&b, 65536);
        assert_int_equal(na, nb);
        link_deliver(&a, x, src, na);
        link_deliver(&b, y, src, nb);
        assert_memory_equal(x, y, na);
    }
    assert_int_equal(a.served, b.served);
    assert_int_equal(a.clock_ns, b.clock_ns);
    assert_int_equal(a.version, 2);       /* changed after 100000 bytes */
    assert_true(memcmp(x, src, na) != 0); /* some bytes corrupted */
}

static void fill_trial(struct trial *t, uint64_t id)
{
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->seed = id * 7;
    t->depth = 2;
    t->cuts[0] = id;
    t->cuts[1] = 3;
    t->verdict = id % 5 ? VERDICT_RECOVERED : VERDICT_SILENT_CORRUPTION;
    t->failed = id % 5 == 0;
    t->bytes_downloaded = 1000 + id;
    t->erases = 4;
    t->programs = 40;
    snprintf(t->detail, sizeof(t->detail), "trial %llu",
             (unsigned long long)id);
}

static void test_db_round_trip_and_views(void **state)
{
    struct db *db;
    struct scenario sc;
    struct db_run_info info, again;
    struct trial t, back;
    char err[512], path[512];
    uint64_t i;
    sqlite3 *h;
    sqlite3_stmt *st;
    const char *scen =
        write_file("db.ini", "[scenario]\nname = dbt\n[image]\nsize = 64K\n");
    (void)state;
    assert_int_equal(scenario_load(&sc, scen, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/r.db", tmpdir);
    unlink(path);
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_int_equal(db_run_begin(db, &sc, 1000, 600, &info), 0);
    for (i = 0; i < 600; i++) {
        fill_trial(&t, i);
        assert_int_equal(db_trial_add(db, info.run_id, &t), 0);
    }
    assert_int_equal(db_wear_add(db, info.run_id, 3, 17, 19), 0);
    /* Not ended: a resumable run, next trial 600. */
    assert_int_equal(db_flush(db), 0);
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &again), 1);
    assert_int_equal(again.run_id, info.run_id);
    assert_int_equal(again.next_trial, 600);
    assert_int_equal(again.trials_done, 600);
    assert_int_equal(db_run_end(db, info.run_id, RUN_FAILED), 0);
    assert_int_equal(db_run_find_resumable(db, &sc, 0, 1, &again), 0);
    {
        struct scenario sc2;
        memset(&sc2, 0, sizeof(sc2));
        assert_int_equal(db_trial_get(db, info.run_id, 35, &back, &sc2), 0);
        assert_int_equal(back.cuts[0], 35);
        assert_int_equal(back.cuts[1], 3);
        assert_int_equal(back.verdict, VERDICT_SILENT_CORRUPTION);
        assert_string_equal(sc2.name, "dbt");
        scenario_free(&sc2);
    }
    db_close(db);

    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT count(*) FROM v_failed_cuts "
                                        "WHERE replay LIKE 'fotasim replay%'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 120);
    sqlite3_finalize(st);
    sqlite3_close(h);
    scenario_free(&sc);
}

static void test_db_refuses_foreign_old_and_corrupt(void **state)
{
    struct db *db;
    char err[512], path[512];
    sqlite3 *h;
    FILE *fp;
    (void)state;

    snprintf(path, sizeof(path), "%s/foreign.db", tmpdir);
    unlink(path);
    sqlite3_open(path, &h);
    sqlite3_exec(h, "CREATE TABLE x(y)", NULL, NULL, NULL);
    sqlite3_close(h);
    assert_int_not_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "not a fotasim database"));

    snprintf(path, sizeof(path), "%s/old.db", tmpdir);
    unlink(path);
    assert_int_equal(db_open(&db, path, err, sizeof(err)), 0);
    db_close(db);
    sqlite3_open(path, &h);
    sqlite3_exec(h, "PRAGMA user_version=7", NULL, NULL, NULL);
    sqlite3_close(h);
    assert_int_not_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "schema version 7"));

    snprintf(path, sizeof(path), "%s/corrupt.db", tmpdir);
    fp = fopen(path, "w");
    fputs("this is not a database, just text long enough to look like one "
          "to somebody who does not check the header",
          fp);
    fclose(fp);
    assert_int_not_equal(db_open(&db, path, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "not a database or corrupt"));
}

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
        write_file("tiny.ini", "[device]\nsize = 512K\n[image]\nsize = 32K\n"
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
        cmocka_unit_test(test_scenario_defaults_and_units),
        cmocka_unit_test(test_scenario_errors_name_line_and_key),
        cmocka_unit_test(test_scenario_missing_file),
        cmocka_unit_test(test_layout_fits_and_aligns),
        cmocka_unit_test(test_every_shipped_scenario_parses),
        cmocka_unit_test(test_link_is_deterministic),
        cmocka_unit_test(test_db_round_trip_and_views),
        cmocka_unit_test(test_db_refuses_foreign_old_and_corrupt),
        cmocka_unit_test(test_torture_tiny_run_and_replay),
    };
    int rc;
    if (!mkdtemp(tmpdir))
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc;
}
