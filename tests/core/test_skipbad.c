/*
 * The NAND bad-block layer (core/port/fwr_skipbad.c) over the flash
 * double: logical units land on good physical units in order, requests
 * that cross units are split, the record area passes through, and running
 * out of good units, is_bad errors and ECC failures are reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flash_double.h"
#include "fwr_skipbad.h"

#define UNIT  4096u
#define PAGE  256u
#define UNITS 16u

/* Record area: unit 0. Data area: units 2..9 (8 units). */
struct sbrig {
    struct flash_double d;
    struct fwr_flash_ops raw, ops;
    struct fwr_layout l;
    struct fwr_skipbad sb;
};

static void sb_up(struct sbrig *r, uint32_t bad_mask)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(fd_init(&r->d, UNITS * UNIT, PAGE, UNIT, 1), 0);
    r->d.bad_unit_mask = bad_mask;
    fd_ops(&r->d, &r->raw);
    r->l.record_addr = 0;
    r->l.record_size = UNIT;
    r->l.mirror_addr = FWR_NO_MIRROR;
    r->l.data_addr = 2 * UNIT;
    r->l.data_size = 8 * UNIT;
    fwr_skipbad_init(&r->sb, &r->raw, fd_is_bad, &r->l, UNIT, &r->ops);
}

static uint8_t pattern(uint32_t i)
{
    return (uint8_t)(i * 131u + (i >> 8));
}

/* Data units 1 and 3 bad (physical units 3 and 5): logical 0, 1, 2 are
 * physical 2, 4, 6. One program and one read span all three. */
static void test_programs_and_reads_skip_bad_units(void **state)
{
    static uint8_t buf[3 * UNIT], back[3 * UNIT];
    struct sbrig r;
    uint32_t i;
    (void)state;
    sb_up(&r, 1u << 3 | 1u << 5);
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = pattern(i);
    assert_int_equal(r.ops.erase(r.ops.user, r.l.data_addr, 3 * UNIT), 0);
    assert_int_equal(r.ops.program(r.ops.user, r.l.data_addr, buf, sizeof(buf)),
                     0);
    assert_memory_equal(r.d.mem + 2 * UNIT, buf, UNIT);
    assert_memory_equal(r.d.mem + 4 * UNIT, buf + UNIT, UNIT);
    assert_memory_equal(r.d.mem + 6 * UNIT, buf + 2 * UNIT, UNIT);
    /* The bad units were never touched: the old contents remain. */
    assert_int_equal(r.d.mem[3 * UNIT], 0x5A);
    assert_int_equal(r.d.mem[5 * UNIT + UNIT - 1], 0x5A);
    assert_int_equal(r.ops.read(r.ops.user, r.l.data_addr, back, sizeof(back)),
                     0);
    assert_memory_equal(back, buf, sizeof(buf));
    /* Backwards after forwards: the walk cache starts over. */
    assert_int_equal(
        r.ops.read(r.ops.user, r.l.data_addr + 2 * UNIT + 8, back, 8), 0);
    assert_memory_equal(back, buf + 2 * UNIT + 8, 8);
    assert_int_equal(r.ops.read(r.ops.user, r.l.data_addr + PAGE, back, 8), 0);
    assert_memory_equal(back, buf + PAGE, 8);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

static void test_record_area_passes_through(void **state)
{
    struct sbrig r;
    uint8_t page[PAGE];
    (void)state;
    sb_up(&r, 1u << 0 | 1u << 2); /* marks on units the layer must ignore */
    memset(page, 0x42, sizeof(page));
    assert_int_equal(r.ops.erase(r.ops.user, 0, UNIT), 0);
    assert_int_equal(r.ops.program(r.ops.user, PAGE, page, PAGE), 0);
    assert_int_equal(r.d.mem[PAGE], 0x42);
    assert_int_equal(r.d.mem[0], 0xFF);
    fd_free(&r.d);
}

static void test_out_of_good_units(void **state)
{
    struct sbrig r;
    (void)state;
    sb_up(&r, 1u << 8 | 1u << 9); /* the last two data units bad */
    /* Six good units: logical 0..5 exist, logical 6 does not. */
    assert_int_equal(r.ops.erase(r.ops.user, r.l.data_addr + 5 * UNIT, UNIT),
                     0);
    assert_int_equal(r.ops.erase(r.ops.user, r.l.data_addr + 6 * UNIT, UNIT),
                     FWR_E_BADBLOCK);
    fd_free(&r.d);
}

static int failing_is_bad(void *user, uint32_t addr)
{
    (void)user;
    (void)addr;
    return -5;
}

static void test_errors_are_reported(void **state)
{
    struct sbrig r;
    uint8_t b[2 * PAGE];
    (void)state;
    sb_up(&r, 0);
    /* An uncorrectable page in the second unit: the whole read says so. */
    r.d.ecc_addr = 3 * UNIT;
    r.d.ecc_len = PAGE;
    assert_int_equal(
        r.ops.read(r.ops.user, r.l.data_addr + UNIT - PAGE, b, sizeof(b)),
        FWR_FLASH_ECC_FAIL);
    r.d.ecc_len = 0;
    assert_int_equal(
        r.ops.read(r.ops.user, r.l.data_addr + UNIT - PAGE, b, sizeof(b)), 0);
    /* A driver that cannot tell good from bad stops the access. */
    r.sb.is_bad = failing_is_bad;
    assert_int_equal(r.ops.read(r.ops.user, r.l.data_addr, b, PAGE), -5);
    /* Power off: the lower op's error comes through. */
    r.sb.is_bad = fd_is_bad;
    r.d.off = 1;
    assert_true(r.ops.erase(r.ops.user, r.l.data_addr, UNIT) < 0);
    fd_free(&r.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_programs_and_reads_skip_bad_units),
        cmocka_unit_test(test_record_area_passes_through),
        cmocka_unit_test(test_out_of_good_units),
        cmocka_unit_test(test_errors_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
