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

#include "sweep.h"

static void row(struct sweep_row *r, const char *value, double expected_s)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->value, sizeof(r->value), "%s", value);
    r->ok = 1;
    r->trials = 10;
    r->expected_s = expected_s;
}

static void trial(struct sweep_row *r, uint64_t id, enum verdict v,
                  int failed, const char *detail)
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
    sweep_print(mem, "engine.block_size", rows, 2, 1.0);
    fclose(mem);
    assert_memory_equal(buf, "UNSAFE: engine.block_size = 1K: 1 of 10", 39);
    assert_non_null(strstr(buf, "best: engine.block_size = 4K"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_failure_is_not_eligible),
        cmocka_unit_test(test_unsafe_value_fails_the_sweep),
        cmocka_unit_test(test_none_eligible),
        cmocka_unit_test(test_print_lists_unsafe_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
