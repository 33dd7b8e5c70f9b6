/*
 * headline: the units and rounding a reader sees, the 95 % bound, and the
 * sentence for a passed, a failed and an unfinished run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "headline.h"

static void test_units(void **state)
{
    char b[48];
    (void)state;
    headline_bytes(100, b, sizeof(b));
    assert_string_equal(b, "100 B");
    headline_bytes(4096, b, sizeof(b));
    assert_string_equal(b, "4 KiB");
    headline_bytes(1536, b, sizeof(b));
    assert_string_equal(b, "1.5 KiB");
    headline_bytes(1572864, b, sizeof(b));
    assert_string_equal(b, "1.5 MiB");
    headline_bytes(200 * 1024 + 1, b, sizeof(b));
    assert_string_equal(b, "200 KiB");
    headline_count(0, b, sizeof(b));
    assert_string_equal(b, "0");
    headline_count(8080, b, sizeof(b));
    assert_string_equal(b, "8,080");
    headline_count(1234567, b, sizeof(b));
    assert_string_equal(b, "1,234,567");
    headline_count(1234567, b, 4);
    assert_string_equal(b, "1,2");
}

static void test_bound(void **state)
{
    char b[48];
    (void)state;
    assert_true(headline_upper95(0) == 1);
    /* 1 - 0.05^(1/n) is about 3/n for large n (rule of three). */
    assert_float_equal(headline_upper95(1), 0.95, 1e-12);
    assert_float_equal(headline_upper95(8080), 3.7069e-4, 1e-7);
    headline_probability(0.95, b, sizeof(b));
    assert_string_equal(b, "95.0 %");
    headline_probability(3.7069e-4, b, sizeof(b));
    assert_string_equal(b, "0.037 % (1 in 2,600)");
}

static void base(struct headline *h)
{
    memset(h, 0, sizeof(*h));
    strcpy(h->name, "nor-1m-4k");
    strcpy(h->status, "passed");
    h->planned = h->stored = 8080;
    h->worst_redownload = 4096;
    h->limit_redownload = 4096;
    h->first_failing = -1;
}

static void test_sentences(void **state)
{
    struct headline h;
    char s[512];
    (void)state;
    base(&h);
    headline_sentence(&h, s, sizeof(s));
    assert_string_equal(s, "8,080 of 8,080 power cuts recovered; worst extra "
                           "download 4 KiB (limit 4 KiB); 0 silent "
                           "corruptions");
    headline_confidence(&h, 2, s, sizeof(s));
    assert_non_null(strstr(s, "0 failures in 8,080 power cuts"));
    assert_non_null(strstr(s, "below 0.037 % (1 in 2,600)"));
    assert_non_null(strstr(s, "an update with 2 power cuts below 0.074 %"));

    strcpy(h.status, "failed");
    h.failing = 200;
    h.silent = 150;
    strcpy(h.top_verdicts, "silent_corruption 150, over_budget 50");
    headline_sentence(&h, s, sizeof(s));
    assert_string_equal(s, "200 of 8,080 power cuts FAILED (silent_corruption "
                           "150, over_budget 50); 150 silent corruptions; "
                           "worst extra download 4 KiB (limit 4 KiB)");
    headline_confidence(&h, 1, s, sizeof(s));
    assert_string_equal(s, "");

    base(&h);
    strcpy(h.status, "interrupted");
    h.stored = 3072;
    h.planned = 5390;
    h.limit_redownload = 0;
    headline_sentence(&h, s, sizeof(s));
    assert_string_equal(s, "NOT FINISHED (interrupted): 3,072 of 5,390 planned "
                           "power cuts stored, all recovered so far; worst "
                           "extra download 4 KiB");
    headline_confidence(&h, 1, s, sizeof(s));
    assert_string_equal(s, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_sentences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
