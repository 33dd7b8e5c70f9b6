/*
 * The sweep decides honestly: only values whose every trial passed are
 * eligible for best; a value with an unsafe verdict fails the sweep; one
 * that only misses a cost bound is not eligible, with the reason.
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
#include "sweep.h"
#include "torture.h"

static void row(struct sweep_row *r, const char *value, double expected_s)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->value, sizeof(r->value), "%s", value);
    r->ok = 1;
    r->trials = 10;
    r->expected_s = expected_s;
}

static void trial(struct sweep_row *r, uint64_t id, enum verdict v, int failed,
                  const char *detail)
{
    struct trial t;
    memset(&t, 0, sizeof(t));
    t.id = id;
    t.verdict = (uint8_t)v;
    t.failed = (uint8_t)failed;
    snprintf(t.detail, sizeof(t.detail), "%s", detail);
    sweep_count_trial(r, &t);
}

static void test_cost_failure_is_not_eligible(void **state)
{
    struct sweep_row rows[3];
    int second;
    (void)state;
    row(&rows[0], "16K", 1.0); /* fastest, but over a cost bound */
    row(&rows[1], "4K", 2.0);
    row(&rows[2], "1K", 3.0);
    trial(&rows[0], 3, VERDICT_RECOVERED, 0, "");
    trial(&rows[0], 7, VERDICT_RECOVERED, 1, "re-downloaded 8192 bytes");
    trial(&rows[0], 9, VERDICT_OVER_BUDGET, 1, "erases 9");
    assert_int_equal(rows[0].failing, 2);
    assert_int_equal(rows[0].unsafe, 0);
    assert_string_equal(rows[0].reason,
                        "trial 7: recovered: re-downloaded 8192 bytes");
    assert_int_equal(sweep_best(rows, 3, &second), 1);
    assert_int_equal(second, 2);
    assert_int_equal(sweep_status(rows, 3), 0);
}

static void test_unsafe_value_fails_the_sweep(void **state)
{
    struct sweep_row rows[2];
    int second;
    (void)state;
    row(&rows[0], "4K", 2.0);
    row(&rows[1], "1K", 1.0);
    trial(&rows[1], 4, VERDICT_SILENT_CORRUPTION, 1, "image byte 0x0");
    assert_int_equal(rows[1].unsafe, 1);
    /* Still a best among the others, but the sweep fails. */
    assert_int_equal(sweep_best(rows, 2, &second), 0);
    assert_int_equal(sweep_status(rows, 2), 1);
}

static void test_none_eligible(void **state)
{
    struct sweep_row rows[2];
    int second;
    (void)state;
    row(&rows[0], "4K", 2.0);
    row(&rows[1], "6K", 1.0);
    rows[1].ok = 0; /* refused by the engine */
    trial(&rows[0], 1, VERDICT_DETECTED_FAILURE, 1, "engine error");
    assert_int_equal(sweep_best(rows, 2, &second), -1);
    assert_int_equal(sweep_status(rows, 2), 1);
}

static void test_print_lists_unsafe_first(void **state)
{
    struct sweep_row rows[2];
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    (void)state;
    row(&rows[0], "4K", 2.0);
    row(&rows[1], "1K", 1.0);
    trial(&rows[1], 4, VERDICT_STUCK, 1, "no completion");
    sweep_print(mem, "engine.block_size", rows, 2,
                &(struct cut_rate){1.0, CUT_RATE_PER_UPDATE});
    fclose(mem);
    assert_memory_equal(buf, "UNSAFE: engine.block_size = 1K: 1 of 10", 39);
    assert_non_null(strstr(buf, "best: engine.block_size = 4K"));
    free(buf);
}

/* The cost model, by hand: a cut costs its boot's scan (flash time plus
 * re-hashing the resumed blocks on the device's CPU) and the bytes
 * downloaded again (bandwidth, one latency); the row's expected time is
 * the uncut update plus cut_rate such cuts. */
static void test_cost_model(void **state)
{
    struct scenario sc;
    struct trial a, b;
    struct sweep_costs c;
    struct sweep_row r;
    struct torture_result res;
    struct scenario_layout lay;
    double scan_s;
    (void)state;
    memset(&sc, 0, sizeof(sc));
    sc.engine.block_size = 4096;
    sc.engine.cpu_hash_rate = 4096 * 1000; /* 1 ms a block */
    sc.link.bandwidth_bps = 8192;          /* bytes per second */
    sc.link.latency_ns = 250000000;
    memset(&a, 0, sizeof(a));
    a.blocks_resumed = 10; /* 10 ms of CPU */
    a.scan_ns = 5000000;   /* 5 ms of flash */
    a.bytes_redownloaded = 4096;
    assert_float_equal(sweep_cut_cost_s(&sc, &a, &scan_s), 0.015 + 0.5 + 0.25,
                       1e-12);
    assert_float_equal(scan_s, 0.015, 1e-12);
    b = a;
    b.bytes_redownloaded = 12288;
    b.failed = 1;
    b.verdict = VERDICT_OVER_BUDGET;
    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    sweep_cost_add(&c, &r, &sc, &a);
    sweep_cost_add(&c, &r, &sc, &b);
    assert_int_equal(r.failing, 1);
    memset(&res, 0, sizeof(res));
    res.trials = 2;
    res.update_ns = 2000000000ull;
    res.update_erases = 70;
    memset(&lay, 0, sizeof(lay));
    lay.record_size = 8192;
    lay.mirror_addr = 8192;
    lay.part_lo = 0;
    lay.part_hi = 65536;
    sweep_row_finish(&r, &c, &res, &lay, 1000,
                     &(struct cut_rate){3.0, CUT_RATE_PER_UPDATE});
    assert_true(r.ok);
    assert_int_equal(r.record_bytes, 16384);
    assert_float_equal(r.record_share, 0.25, 1e-12);
    assert_float_equal(r.mean_redownload, 8192, 1e-9);
    assert_float_equal(r.max_redownload, 12288, 1e-9);
    assert_float_equal(r.scan_ms, 15, 1e-9);
    assert_float_equal(r.cut_cost_s, 0.015 + 1.0 + 0.25, 1e-12);
    assert_float_equal(r.expected_s, 2.0 + 3.0 * (0.015 + 1.0 + 0.25), 1e-12);
    assert_int_equal(r.ram_bytes, 1000);
    assert_int_equal(r.update_erases, 70);
    /* A field rate: 1800 cuts per hour over a 2 s update is one cut. */
    sweep_row_finish(&r, &c, &res, &lay, 1000,
                     &(struct cut_rate){1800, CUT_RATE_PER_HOUR});
    assert_float_equal(r.cuts_per_update, 1.0, 1e-12);
    assert_float_equal(r.expected_s, 2.0 + (0.015 + 1.0 + 0.25), 1e-12);
}

/* --cut-rate: a number per update, per hour or per day; anything else is
 * refused with the reason. */
static void test_cut_rate_parse(void **state)
{
    struct cut_rate r;
    char err[200], text[64];
    (void)state;
    assert_int_equal(sweep_cut_rate_parse("2", &r, err, sizeof(err)), 0);
    assert_true(r.n == 2 && r.unit == CUT_RATE_PER_UPDATE);
    assert_int_equal(sweep_cut_rate_parse("0.5/update", &r, err, sizeof(err)),
                     0);
    assert_true(r.n == 0.5 && r.unit == CUT_RATE_PER_UPDATE);
    assert_int_equal(sweep_cut_rate_parse("3/h", &r, err, sizeof(err)), 0);
    assert_true(r.unit == CUT_RATE_PER_HOUR);
    assert_float_equal(sweep_cuts_per_update(&r, 1200), 1.0, 1e-12);
    assert_int_equal(sweep_cut_rate_parse("24/day", &r, err, sizeof(err)), 0);
    assert_true(r.unit == CUT_RATE_PER_DAY);
    assert_float_equal(sweep_cuts_per_update(&r, 3600), 1.0, 1e-12);
    sweep_cut_rate_text(&r, text, sizeof(text));
    assert_string_equal(text, "24 power cuts per day");
    assert_int_equal(sweep_cut_rate_parse("3/week", &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown unit '/week'"));
    assert_int_equal(sweep_cut_rate_parse("-1", &r, err, sizeof(err)), -1);
    assert_int_equal(sweep_cut_rate_parse("nan", &r, err, sizeof(err)), -1);
    assert_int_equal(sweep_cut_rate_parse("/h", &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "expected a number"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_failure_is_not_eligible),
        cmocka_unit_test(test_unsafe_value_fails_the_sweep),
        cmocka_unit_test(test_none_eligible),
        cmocka_unit_test(test_print_lists_unsafe_first),
        cmocka_unit_test(test_cost_model),
        cmocka_unit_test(test_cut_rate_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
