/*
 * The oracle: each verdict from the flash a trial leaves behind, in order
 * of severity, and the expectations that fail a trial a verdict alone
 * would pass. The device is written directly, no engine involved: the
 * oracle must judge the flash, not take the engine's word.
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

#include "oracle.h"
#include "scenario.h"
#include "sim_flash.h"
#include "trial.h"

#define IMAGE_SIZE 65536u

static const char scenario_text[] =
    "[scenario]\nname = oracle\n"
    "[device]\npreset = w25q128\nsize = 1M\n"
    "[image]\nsize = 64K\n"
    "[engine]\nblock_size = 4K\nhash = crc32\ndigest = crc32\n"
    "[cuts]\nmax_boots = 8\n";

/* NAND with 4-bit ECC per 512-byte codeword. */
static const char nand_text[] =
    "[scenario]\nname = oracle-nand\n"
    "[device]\npreset = mt29f-slc\nsize = 4M\nfactory_bad = 0\n"
    "[image]\nsize = 64K\n"
    "[engine]\nblock_size = 4K\nhash = crc32\ndigest = crc32\n"
    "[cuts]\nmax_boots = 8\n";
static const char *base_text = scenario_text;

struct rig {
    struct scenario sc;
    struct scenario_layout lay;
    struct oracle o;
    struct sim_flash *dev;
    uint8_t img[IMAGE_SIZE];
    struct trial tr;
};

static void load(struct rig *r, const char *extra)
{
    char err[256], text[1024];
    snprintf(text, sizeof(text), "%s%s", base_text, extra);
    if (scenario_load_text(&r->sc, text, "oracle.ini", err, sizeof(err)))
        fail_msg("%s", err);
    if (scenario_layout(&r->sc, &r->lay, err, sizeof(err)))
        fail_msg("%s", err);
    r->o.sc = &r->sc;
    r->o.lay = &r->lay;
    r->o.request_bound = 100;
}

/* A device whose data area holds the image, counters reset as the torture
 * loop resets them before a trial. */
static int setup_with(void **state, const char *extra)
{
    struct rig *r = calloc(1, sizeof(*r));
    uint32_t i, page;
    assert_non_null(r);
    load(r, extra);
    page = r->sc.device.geo.prog_size;
    for (i = 0; i < IMAGE_SIZE; i++)
        r->img[i] = (uint8_t)(i * 73u + 5u);
    assert_int_equal(sim_flash_create(&r->dev, &r->sc.device), 0);
    sim_flash_power_on(r->dev);
    for (i = 0; i < IMAGE_SIZE; i += page)
        assert_int_equal(sim_flash_program(r->dev, r->lay.data_addr + i,
                                           r->img + i, page),
                         0);
    sim_flash_reset_counters(r->dev);
    r->tr.depth = 1;
    r->tr.boots = 1;
    *state = r;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, "");
}

static int teardown(void **state)
{
    struct rig *r = *state;
    sim_flash_destroy(r->dev);
    scenario_free(&r->sc);
    free(r);
    return 0;
}

static void judge(struct rig *r, int rc)
{
    oracle_judge(&r->o, r->dev, r->img, rc, &r->tr);
}

/* One image byte reads wrong: its erase unit is rewritten with the byte
 * changed (programming over it in place would break a flash rule). */
static void damage(struct rig *r, uint32_t off)
{
    static uint8_t buf[65536];
    uint32_t es = sim_flash_config(r->dev)->geo.erase_size;
    uint32_t addr = r->lay.data_addr + off, unit = addr / es * es, i;

    assert_true(es <= sizeof(buf));
    memcpy(buf, sim_flash_raw(r->dev) + unit, es);
    buf[addr - unit] ^= 0x5A;
    assert_int_equal(sim_flash_erase(r->dev, unit, es), 0);
    for (i = 0; i < es; i += 256)
        assert_int_equal(sim_flash_program(r->dev, unit + i, buf + i, 256), 0);
    sim_flash_reset_counters(r->dev);
}

static void test_exact_image_recovered(void **state)
{
    struct rig *r = *state;
    char why[160];
    assert_true(oracle_data_matches(&r->o, r->dev, r->img, why, sizeof(why)));
    assert_true(oracle_range_matches(&r->o, r->dev, r->img, 4096, 4096, NULL, 0));
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED);
    assert_int_equal(r->tr.failed, 0);
    assert_int_equal(r->tr.engine_error, 0);
}

static void test_one_group_per_cut_is_free(void **state)
{
    struct rig *r = *state;
    /* A cut loses the group in flight: one 4 KiB block per cut. */
    r->tr.bytes_redownloaded = 4096;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED);
    r->tr.bytes_redownloaded = 4097;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED_EXTRA);
    assert_int_equal(r->tr.failed, 0);
    /* Two nested cuts may lose two groups. */
    r->tr.depth = 2;
    r->tr.bytes_redownloaded = 8192;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED);
}

static void test_wrong_byte_is_silent_corruption(void **state)
{
    struct rig *r = *state;
    char why[160];
    damage(r, 0x1234);
    assert_false(oracle_data_matches(&r->o, r->dev, r->img, why, sizeof(why)));
    assert_non_null(strstr(why, "0x1234"));
    assert_false(oracle_range_matches(&r->o, r->dev, r->img, 4096, 4096, NULL, 0));
    assert_true(oracle_range_matches(&r->o, r->dev, r->img, 8192, 4096, NULL, 0));
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_SILENT_CORRUPTION);
    assert_int_equal(r->tr.failed, 1);
    assert_non_null(strstr(r->tr.detail, "0x1234"));
}

static void test_false_claim_is_corruption_even_if_repaired(void **state)
{
    struct rig *r = *state;
    /* A reboot took block 3 as valid while it held other bytes; that the
     * image ended exact (a later check caught it) does not excuse it. */
    r->tr.false_claim = 4;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_SILENT_CORRUPTION);
    assert_non_null(strstr(r->tr.detail, "block 3"));
}

static void test_error_without_a_cause_is_unexpected(void **state)
{
    struct rig *r = *state;
    judge(r, -5);
    assert_int_equal(r->tr.verdict, VERDICT_UNEXPECTED_ERROR);
    assert_int_equal(r->tr.engine_error, -5);
    assert_int_equal(r->tr.failed, 1);
    assert_false(oracle_failure_unavoidable(&r->sc));
}

static void test_error_on_worn_flash_is_detected(void **state)
{
    struct rig *r = *state;
    judge(r, -5);
    assert_int_equal(r->tr.verdict, VERDICT_DETECTED_FAILURE);
    assert_true(oracle_failure_unavoidable(&r->sc));
    /* Acceptable only when the scenario says so. */
    assert_int_equal(r->tr.failed, r->sc.expect.allow_detected_failure ? 0 : 1);
    r->sc.expect.allow_detected_failure = true;
    judge(r, -5);
    assert_int_equal(r->tr.failed, 0);
}

static int setup_nand(void **state)
{
    int rc;
    base_text = nand_text;
    rc = setup_with(state, "");
    base_text = scenario_text;
    return rc;
}

/* NAND: bits lost within what the ECC corrects for certain are no
 * corruption, the device reads the image; beyond it they are. */
static void test_nand_ecc_correctable_bits_read_right(void **state)
{
    struct rig *r = *state;
    const struct sim_geometry *g = &sim_flash_config(r->dev)->geo;
    uint32_t a = r->lay.data_addr + 8192, cw = g->ecc_codeword;
    char why[160];

    assert_true(g->ecc_bits >= 2);
    assert_int_equal(sim_flash_lose_bits(r->dev, a, a + cw, g->ecc_bits,
                                         NULL),
                     g->ecc_bits);
    assert_true(memcmp(sim_flash_raw(r->dev) + r->lay.data_addr, r->img,
                       IMAGE_SIZE) != 0);
    assert_true(oracle_data_matches(&r->o, r->dev, r->img, why, sizeof(why)));
    assert_true(oracle_range_matches(&r->o, r->dev, r->img, 8192, 4096, NULL,
                                     0));
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED);
    /* One more in the same codeword: uncorrectable, the bytes are wrong. */
    assert_int_equal(sim_flash_lose_bits(r->dev, a, a + cw, 1, NULL), 1);
    assert_false(oracle_data_matches(&r->o, r->dev, r->img, why, sizeof(why)));
    assert_false(oracle_range_matches(&r->o, r->dev, r->img, 8192, 4096, NULL,
                                      0));
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_SILENT_CORRUPTION);
}

/* NOR: a lost bit is wrong data; the claim check spares it only when told
 * (verify = trusted: damage done while off is the digest's to catch). */
static void test_lost_bits_spared_only_when_listed(void **state)
{
    struct rig *r = *state;
    uint32_t a = r->lay.data_addr + 4096;
    struct sim_bit lost[3], other = {a + 100, 0x01};
    char why[160];
    int n = sim_flash_lose_bits(r->dev, a, a + 4096, 3, lost);

    assert_int_equal(n, 3);
    assert_false(oracle_range_matches(&r->o, r->dev, r->img, 4096, 4096, NULL,
                                      0));
    assert_false(oracle_range_matches(&r->o, r->dev, r->img, 4096, 4096, lost,
                                      2));
    assert_false(oracle_range_matches(&r->o, r->dev, r->img, 4096, 4096,
                                      &other, 1));
    assert_true(oracle_range_matches(&r->o, r->dev, r->img, 4096, 4096, lost,
                                     3));
    /* The final verdict is never spared. */
    assert_false(oracle_data_matches(&r->o, r->dev, r->img, why, sizeof(why)));
}

static int setup_worn(void **state)
{
    return setup_with(state, "[faults]\nendurance = 10\nwear = fail\n");
}

static void test_stuck(void **state)
{
    struct rig *r = *state;
    judge(r, ORACLE_STUCK);
    assert_int_equal(r->tr.verdict, VERDICT_STUCK);
    assert_int_equal(r->tr.failed, 1);
    /* Too many reboots is stuck too, even when the last one completed. */
    r->tr.boots = r->sc.cuts.max_boots + 1;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_STUCK);
}

static void test_write_outside_partition(void **state)
{
    struct rig *r = *state;
    uint8_t z[256];
    memset(z, 0, sizeof(z));
    assert_true(r->lay.part_hi + 256 <= r->sc.device.geo.size);
    assert_int_equal(sim_flash_program(r->dev, r->lay.part_hi, z, 256), 0);
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_OUT_OF_PARTITION);
    assert_int_equal(r->tr.failed, 1);
}

static void test_rule_violation_outranks_everything(void **state)
{
    struct rig *r = *state;
    uint8_t z[256];
    memset(z, 0, sizeof(z));
    /* A misaligned erase, and a write outside the partition after it:
     * the first broken rule is what the trial reports. */
    sim_flash_erase(r->dev, r->lay.data_addr + 1, 4096);
    sim_flash_program(r->dev, r->lay.part_hi, z, 256);
    judge(r, ORACLE_STUCK);
    assert_int_equal(r->tr.verdict, VERDICT_RULE_VIOLATION);
    assert_int_equal(r->tr.violation, SIM_VIOL_MISALIGNED);
    assert_non_null(strstr(r->tr.detail, "erase"));
    assert_int_equal(r->tr.failed, 1);
}

static void test_redownload_bound_fails_a_good_verdict(void **state)
{
    struct rig *r = *state;
    r->sc.expect.max_redownload_bytes = 8192;
    r->tr.bytes_redownloaded = 12288;
    r->tr.blocks_redownloaded = 3;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED_EXTRA);
    assert_int_equal(r->tr.failed, 1);
    assert_non_null(strstr(r->tr.detail, "at most 8192"));
    r->sc.expect.max_redownload_bytes = 0;
    r->sc.expect.max_redownload_blocks = 2;
    judge(r, 0);
    assert_int_equal(r->tr.failed, 1);
    assert_non_null(strstr(r->tr.detail, "at most 2"));
}

/* The uncut figures the torture loop hands the oracle, and a trial that
 * did exactly what the uncut update still had to do. */
static void uncut(struct rig *r)
{
    r->o.update_erases = 40;
    r->o.update_programs = 600;
    r->o.update_ns = 2000000000ull;
    r->o.update_unit_erases = 3;
    r->tr.erases_left = r->tr.erases = 20;
    r->tr.programs_left = r->tr.programs = 300;
    r->tr.update_ns_left = r->tr.recover_ns = 1000000000ull;
    r->tr.unit_erases = 3;
}

static void test_cost_within_auto_bounds_passes(void **state)
{
    struct rig *r = *state;
    struct oracle_budget b;
    uncut(r);
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED);
    assert_int_equal(r->tr.failed, 0);
    /* Per boot: the 4 KiB group and both record copies (an erase unit
     * each) erased again, plus one; the group's 16 pages and a few
     * records written again. */
    oracle_budget(&r->o, &r->tr, &b);
    assert_int_equal(b.erases, 20 + (4096 + 2 * r->lay.record_size) / 4096 + 1);
    assert_int_equal(b.programs, 300 + 16 + ((1 + 2) * 2 + 2) * 2 + 16);
    assert_int_equal(b.unit_erases, 3 + 2);
    assert_true(b.recover_ns > r->tr.update_ns_left);
    /* A second boot doubles the allowance. */
    r->tr.boots = 2;
    oracle_budget(&r->o, &r->tr, &b);
    assert_int_equal(b.programs, 300 + 2 * (16 + 16 + 16));
}

static void test_cost_over_a_bound_is_over_budget(void **state)
{
    struct rig *r = *state;
    struct oracle_budget b;
    uncut(r);
    oracle_budget(&r->o, &r->tr, &b);
    r->tr.programs = b.programs + 1; /* a whole-log rewrite, say */
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_OVER_BUDGET);
    assert_int_equal(r->tr.failed, 1);
    assert_non_null(strstr(r->tr.detail, "programs after the cut, bound"));
    r->tr.programs = 300;
    r->tr.unit_erases = b.unit_erases + 1;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_OVER_BUDGET);
    assert_non_null(strstr(r->tr.detail, "erases of one unit"));
    r->tr.unit_erases = 3;
    r->tr.recover_ns = b.recover_ns + 1;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_OVER_BUDGET);
    assert_non_null(strstr(r->tr.detail, "recovery took"));
}

/* A whole-image restart is for a record that hashes wrong bytes: without
 * a fault that makes one, it is a cost regression; with corrupted link
 * bytes (or record bits lost) it is what the engine must do. */
static void test_restart_without_a_cause_is_over_budget(void **state)
{
    struct rig *r = *state;
    uncut(r);
    r->tr.restarts = 1;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_OVER_BUDGET);
    assert_int_equal(r->tr.failed, 1);
    assert_non_null(strstr(r->tr.detail, "restarted the whole download 1"));
    r->tr.bytes_corrupted = 3;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED);
    r->tr.bytes_corrupted = 0;
    r->sc.offline.record_flips = 1;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED);
}

static void test_explicit_bounds_and_off(void **state)
{
    struct rig *r = *state;
    uncut(r);
    r->sc.expect.max_erases = 19; /* absolute: fewer than it did */
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_OVER_BUDGET);
    assert_string_equal(r->tr.detail,
                        "20 erases after the cut, bound 19");
    r->sc.expect.max_erases = 0; /* off */
    r->sc.expect.max_programs = 0;
    r->sc.expect.max_unit_erases = 0;
    r->sc.expect.max_recover_ns = 0;
    r->tr.erases = r->tr.programs = 1000000;
    r->tr.recover_ns = 1ull << 50;
    judge(r, 0);
    assert_int_equal(r->tr.verdict, VERDICT_RECOVERED);
    assert_int_equal(r->tr.failed, 0);
}

/* An image that changes on the server may be downloaded again in full:
 * the whole update is allowed on top. */
static void test_image_change_allows_the_whole_update_again(void **state)
{
    struct rig *r = *state;
    struct oracle_budget plain, changed;
    uncut(r);
    oracle_budget(&r->o, &r->tr, &plain);
    /* A scenario that could change its image allows nothing more... */
    r->sc.link.change_after = 1000;
    oracle_budget(&r->o, &r->tr, &changed);
    assert_int_equal(changed.erases, plain.erases);
    /* ...a trial whose image did change after the cut, a whole update;
     * corrupted bytes after the cut, one more per boot. */
    r->tr.image_changed = 1;
    oracle_budget(&r->o, &r->tr, &changed);
    assert_int_equal(changed.erases, plain.erases + 40);
    assert_int_equal(changed.programs, plain.programs + 600);
    r->tr.bytes_corrupted = 3;
    oracle_budget(&r->o, &r->tr, &changed);
    assert_int_equal(changed.erases, plain.erases + 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cost_within_auto_bounds_passes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_over_a_bound_is_over_budget,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_restart_without_a_cause_is_over_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_bounds_and_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_image_change_allows_the_whole_update_again, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_nand_ecc_correctable_bits_read_right, setup_nand, teardown),
        cmocka_unit_test_setup_teardown(test_lost_bits_spared_only_when_listed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_image_recovered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_one_group_per_cut_is_free, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_byte_is_silent_corruption,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_false_claim_is_corruption_even_if_repaired, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_error_without_a_cause_is_unexpected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_on_worn_flash_is_detected,
                                        setup_worn, teardown),
        cmocka_unit_test_setup_teardown(test_stuck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_outside_partition, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_rule_violation_outranks_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_redownload_bound_fails_a_good_verdict, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
