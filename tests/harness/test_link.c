/*
 * The link model: a clean link delivers exactly and charges latency plus
 * bandwidth; drops cut ranges short, corruption flips bytes, the server
 * changes image after change_after bytes; all of it repeats from a seed,
 * since a replay must see the same network as the run.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "link.h"

static uint8_t src[65536], dst[65536];

static void fill_src(void)
{
    uint32_t i;
    for (i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 131u + 7u);
}

static struct scenario_link clean(void)
{
    struct scenario_link c;
    memset(&c, 0, sizeof(c));
    c.bandwidth_bps = 1000000; /* 1 MB/s: 1 us a byte */
    c.latency_ns = 50000;
    return c;
}

static void test_clean_link_is_exact_and_timed(void **state)
{
    struct scenario_link cfg = clean();
    struct link l;
    (void)state;
    link_init(&l, &cfg, 1);
    assert_int_equal(l.version, 1);
    assert_int_equal(link_request(&l, 4096), 4096);
    link_deliver(&l, dst, src, 4096);
    assert_memory_equal(dst, src, 4096);
    assert_int_equal(l.served, 4096);
    assert_int_equal(l.requests, 1);
    assert_int_equal(l.clock_ns, 50000 + 4096 * 1000);
}

static void test_max_request_caps_a_range(void **state)
{
    struct scenario_link cfg = clean();
    struct link l;
    (void)state;
    cfg.max_request = 1024;
    link_init(&l, &cfg, 1);
    assert_int_equal(link_request(&l, 65536), 1024);
    assert_int_equal(link_request(&l, 100), 100);
}

static void test_drops_cut_ranges_short(void **state)
{
    struct scenario_link cfg = clean();
    struct link l;
    uint32_t i, short_ones = 0, n;
    (void)state;
    cfg.drop_rate = 0.5;
    link_init(&l, &cfg, 3);
    for (i = 0; i < 1000; i++) {
        n = link_request(&l, 4096);
        assert_true(n <= 4096);
        short_ones += n < 4096;
    }
    /* About half drop; far from none and far from all. */
    assert_in_range(short_ones, 350, 650);
    assert_int_equal(l.requests, 1000);
}

static void test_corruption_flips_about_the_rate(void **state)
{
    struct scenario_link cfg = clean();
    struct link l;
    uint32_t i, bad = 0;
    (void)state;
    cfg.corrupt_rate = 0.01;
    link_init(&l, &cfg, 9);
    link_deliver(&l, dst, src, sizeof(src));
    for (i = 0; i < sizeof(src); i++)
        bad += dst[i] != src[i];
    /* 655 expected; a flipped byte always differs. */
    assert_in_range(bad, 450, 900);
}

static void test_server_changes_image_after_bytes(void **state)
{
    struct scenario_link cfg = clean();
    struct link l;
    (void)state;
    cfg.change_after = 10000;
    link_init(&l, &cfg, 1);
    link_deliver(&l, dst, src, 9999);
    assert_int_equal(l.version, 1);
    link_deliver(&l, dst, src, 1);
    assert_int_equal(l.version, 2);
    link_deliver(&l, dst, src, 50000);
    assert_int_equal(l.version, 2); /* no way back to v1 */
}

static void run_faulty(struct link *l, uint32_t *ns, uint8_t *out)
{
    uint32_t i, at = 0;
    for (i = 0; i < 8; i++) {
        ns[i] = link_request(l, 8192);
        link_deliver(l, out + at, src + at, ns[i]);
        at += ns[i];
    }
}

static void test_same_seed_same_network(void **state)
{
    struct scenario_link cfg = clean();
    static uint8_t a[65536], b[65536];
    struct link x, y;
    uint32_t na[8], nb[8];
    (void)state;
    cfg.drop_rate = 0.3;
    cfg.corrupt_rate = 0.001;
    link_init(&x, &cfg, 42);
    link_init(&y, &cfg, 42);
    run_faulty(&x, na, a);
    run_faulty(&y, nb, b);
    assert_memory_equal(na, nb, sizeof(na));
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(x.clock_ns, y.clock_ns);
    assert_int_equal(x.served, y.served);
}

static void test_reseed_keeps_counters_changes_draws(void **state)
{
    struct scenario_link cfg = clean();
    static uint8_t a[65536], b[65536];
    struct link x, y;
    uint32_t na[8], nb[8];
    uint64_t served;
    (void)state;
    cfg.drop_rate = 0.3;
    cfg.corrupt_rate = 0.001;
    link_init(&x, &cfg, 1);
    run_faulty(&x, na, a);
    served = x.served;
    /* A trial forks the live link: counters carry on, draws are its own. */
    y = x;
    link_reseed(&y, 77);
    assert_int_equal(y.served, served);
    assert_int_equal(y.requests, x.requests);
    link_reseed(&x, 78);
    run_faulty(&x, na, a);
    run_faulty(&y, nb, b);
    assert_true(memcmp(na, nb, sizeof(na)) != 0 || memcmp(a, b, sizeof(a)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_link_is_exact_and_timed),
        cmocka_unit_test(test_max_request_caps_a_range),
        cmocka_unit_test(test_drops_cut_ranges_short),
        cmocka_unit_test(test_corruption_flips_about_the_rate),
        cmocka_unit_test(test_server_changes_image_after_bytes),
        cmocka_unit_test(test_same_seed_same_network),
        cmocka_unit_test(test_reseed_keeps_counters_changes_draws),
    };
    fill_src();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
