/*
 * sim_flash: each rule and fault happens when configured and not otherwise;
 * copies and saved states are exact; the same seed gives the same bytes.
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

#include <fiu-control.h>
#include <fiu.h>

#include "sim_flash.h"
#include "sim_rng.h"

static struct sim_flash *nor(struct sim_config *cfg)
{
    struct sim_flash *f;
    assert_int_equal(sim_preset("w25q128", cfg), 0);
    cfg->geo.size = 64 * 1024;
    cfg->faults.seed = 1;
    assert_int_equal(sim_flash_create(&f, cfg), 0);
    return f;
}

static struct sim_flash *nand(struct sim_config *cfg)
{
    struct sim_flash *f;
    assert_int_equal(sim_preset("w25n01gv", cfg), 0);
    cfg->geo.size = 16 * 128 * 1024;
    cfg->geo.factory_bad = 0;
    cfg->faults.seed = 1;
    assert_int_equal(sim_flash_create(&f, cfg), 0);
    return f;
}

static uint64_t viol(struct sim_flash *f, enum sim_violation v)
{
    return sim_flash_stats(f)->violations[v];
}

static void test_nor_program_ands_and_reprogram_is_a_violation(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    uint8_t a = 0xF0, b = 0x3C, r;
    (void)s;
    assert_int_equal(sim_flash_read(f, 0, &r, 1), 0);
    assert_int_equal(r, 0xFF);
    assert_int_equal(sim_flash_program(f, 0, &a, 1), 0);
    assert_int_equal(viol(f, SIM_VIOL_REPROGRAM), 0);
    assert_int_equal(sim_flash_program(f, 0, &b, 1), 0);
    assert_int_equal(viol(f, SIM_VIOL_REPROGRAM), 1);
    sim_flash_read(f, 0, &r, 1);
    assert_int_equal(r, 0x30); /* AND, as physics does */
    assert_int_equal(sim_flash_first_violation(f)->kind, SIM_VIOL_REPROGRAM);
    /* Erase resets the rule. */
    assert_int_equal(sim_flash_erase(f, 0, 4096), 0);
    assert_int_equal(sim_flash_program(f, 0, &b, 1), 0);
    assert_int_equal(viol(f, SIM_VIOL_REPROGRAM), 1);
    sim_flash_destroy(f);

    c.faults.reprogram_as_and = true; /* allowed when configured */
    assert_int_equal(sim_flash_create(&f, &c), 0);
    sim_flash_program(f, 0, &a, 1);
    sim_flash_program(f, 0, &b, 1);
    assert_int_equal(viol(f, SIM_VIOL_REPROGRAM), 0);
    sim_flash_destroy(f);
}

static void test_misaligned_out_of_range_protected(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    uint8_t buf[16] = {0};
    (void)s;
    assert_int_equal(sim_flash_erase(f, 100, 4096), SIM_E_ALIGN);
    assert_int_equal(viol(f, SIM_VIOL_MISALIGNED), 1);
    assert_int_equal(sim_flash_program(f, 65530, buf, 16), SIM_E_RANGE);
    assert_int_equal(viol(f, SIM_VIOL_OUT_OF_RANGE), 1);
    assert_int_equal(sim_flash_protect(f, 8192, 4096, true), 0);
    assert_int_equal(sim_flash_program(f, 8192, buf, 16), SIM_E_PROTECTED);
    assert_int_equal(sim_flash_erase(f, 8192, 4096), SIM_E_PROTECTED);
    assert_int_equal(viol(f, SIM_VIOL_PROTECTED), 2);
    assert_int_equal(sim_flash_protect(f, 8192, 4096, false), 0);
    assert_int_equal(sim_flash_program(f, 8192, buf, 16), 0);
    sim_flash_destroy(f);
}

/* Locking is idempotent (an engine re-locks a complete image at every
 * boot: it must neither run out of ranges nor need two releases), and it
 * lasts over a power cycle. */
static void test_protect_is_idempotent_and_survives_power(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    uint8_t buf[16] = {0};
    int i;
    (void)s;
    assert_false(sim_flash_is_protected(f, 8192, 4096));
    for (i = 0; i < 10; i++)
        assert_int_equal(sim_flash_protect(f, 8192, 4096, true), 0);
    assert_true(sim_flash_is_protected(f, 8192, 4096));
    assert_true(sim_flash_is_protected(f, 8192 + 16, 16));
    assert_false(sim_flash_is_protected(f, 8192, 4097));
    assert_false(sim_flash_is_protected(f, 4096, 4097));
    {
        struct sim_boundary b = {0, SIM_OP_PROGRAM, 0, 16, NULL};
        b.data = buf;
        assert_int_equal(sim_flash_apply_cut(f, &b), 0);
        assert_false(sim_flash_powered(f));
    }
    sim_flash_power_on(f);
    assert_true(sim_flash_is_protected(f, 8192, 4096));
    assert_int_equal(sim_flash_protect(f, 8192, 4096, false), 0);
    assert_false(sim_flash_is_protected(f, 8192, 4096));
    assert_int_equal(sim_flash_program(f, 8192, buf, 16), 0);
    sim_flash_destroy(f);
}

static void test_nand_order_nop_and_ecc(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nand(&c);
    static uint8_t page[2048], out[2048];
    int rc;
    (void)s;
    memset(page, 0x5A, sizeof(page));
    assert_int_equal(sim_flash_program(f, 2 * 2048, page, 2048), 0);
    assert_int_equal(viol(f, SIM_VIOL_NAND_ORDER), 0); /* skipping is fine */
    assert_int_equal(sim_flash_program(f, 1 * 2048, page, 2048), 0);
    assert_int_equal(viol(f, SIM_VIOL_NAND_ORDER), 1); /* going back is not */
    assert_int_equal(sim_flash_program(f, 2 * 2048, page, 2048), 0);
    assert_int_equal(viol(f, SIM_VIOL_NAND_NOP), 1); /* NOP 1 */
    assert_int_equal(sim_flash_program(f, 100, page, 2048), SIM_E_ALIGN);

    /* ECC: one flipped bit per 512 B codeword is corrected, two are not. */
    sim_flash_erase(f, 0, 128 * 1024);
    sim_flash_program(f, 0, page, 2048);
    sim_flash_destroy(f);
    c.faults.retention_rate = 0;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    sim_flash_program(f, 0, page, 2048);
    rc = sim_flash_read(f, 0, out, 2048);
    assert_int_equal(rc, 0);
    assert_memory_equal(out, page, 2048);
    sim_flash_destroy(f);
}

static void test_nand_ecc_corrects_and_fails(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    static uint8_t page[2048], out[2048];
    int rc, corrected = 0, failed = 0, i;
    (void)s;
    assert_int_equal(sim_preset("w25n01gv", &c), 0);
    c.geo.size = 4 * 128 * 1024;
    c.geo.factory_bad = 0;
    c.faults.read_flip_rate = 2e-4; /* ~0.8 flips per codeword read */
    assert_int_equal(sim_flash_create(&f, &c), 0);
    memset(page, 0x00, sizeof(page));
    sim_flash_program(f, 0, page, 2048);
    for (i = 0; i < 200; i++) {
        rc = sim_flash_read(f, 0, out, 2048);
        if (rc > 0) {
            corrected++;
            assert_memory_equal(out, page, 2048); /* corrected data */
        } else if (rc == SIM_E_ECC) {
            failed++;
        }
    }
    assert_true(corrected > 0);
    assert_true(failed > 0);
    assert_int_equal(SIM_E_ECC, FWR_FLASH_ECC_FAIL);
    sim_flash_destroy(f);
}

static void test_factory_bad_blocks_marked(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    uint32_t u, bad = 0;
    uint8_t b;
    (void)s;
    sim_preset("w25n01gv", &c);
    c.geo.size = 64 * 128 * 1024;
    c.geo.factory_bad = 5;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    for (u = 0; u < 64; u++)
        bad += (uint32_t)sim_flash_is_bad(f, u * 128 * 1024);
    assert_true(bad >= 1 && bad <= 5);
    assert_int_equal(sim_flash_is_bad(f, 0), 0); /* block 0 is good */
    for (u = 0; u < 64; u++)
        if (sim_flash_is_bad(f, u * 128 * 1024) == 1)
            break;
    b = 0;
    assert_int_equal(sim_flash_program(f, u * 128 * 1024, &b, 1), SIM_E_ALIGN);
    assert_int_equal(sim_flash_erase(f, u * 128 * 1024, 128 * 1024),
                     SIM_E_ERASE_FAIL);
    assert_int_equal(viol(f, SIM_VIOL_BAD_BLOCK), 1);
    sim_flash_destroy(f);
}

struct cut_at {
    uint64_t index;
    int fired, lost;
};

static bool cut_hook(void *user, const struct sim_boundary *b)
{
    struct cut_at *c = user;
    if (b->index == c->index) {
        c->fired = 1;
        return true;
    }
    return false;
}

static void on_loss(void *user)
{
    ((struct cut_at *)user)->lost = 1;
}

static void torn(uint8_t mode, double unstable, uint8_t *out, uint32_t n,
                 uint32_t *flaky)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    struct cut_at cut = {1, 0, 0};
    uint8_t zeros[256] = {0}, a[256], b[256];
    uint32_t i;
    sim_flash_destroy(f);
    c.faults.torn_mode = mode;
    c.faults.unstable_fraction = unstable;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    sim_flash_set_boundary_hook(f, cut_hook, on_loss, &cut);
    assert_int_equal(sim_flash_program(f, 0, zeros, 256), 0); /* index 0 */
    assert_int_equal(sim_flash_program(f, 256, zeros, 256), SIM_E_POWER_OFF);
    assert_true(cut.fired && cut.lost);
    assert_false(sim_flash_powered(f));
    assert_int_equal(sim_flash_read(f, 0, a, 1), SIM_E_POWER_OFF);
    sim_flash_power_on(f);
    sim_flash_read(f, 256, a, 256);
    sim_flash_read(f, 256, b, 256);
    memcpy(out, a, n);
    *flaky = 0;
    for (i = 0; i < 256; i++)
        *flaky += a[i] != b[i];
    sim_flash_destroy(f);
}

static void test_torn_program_modes(void **s)
{
    uint8_t got[256];
    uint32_t flaky, i, zeros = 0;
    (void)s;
    torn(SIM_TORN_NONE, 0, got, 256, &flaky);
    for (i = 0; i < 256; i++)
        assert_int_equal(got[i], 0xFF);
    torn(SIM_TORN_ALL, 0, got, 256, &flaky);
    for (i = 0; i < 256; i++)
        assert_int_equal(got[i], 0x00);
    torn(SIM_TORN_PREFIX, 0, got, 256, &flaky);
    for (i = 0; i < 256 && got[i] == 0; i++)
        ;
    for (; i < 256; i++)
        assert_int_equal(got[i], 0xFF); /* a prefix, then nothing */
    torn(SIM_TORN_RANDOM, 0, got, 256, &flaky);
    for (i = 0; i < 256; i++)
        zeros += got[i] != 0xFF && got[i] != 0x00;
    assert_true(zeros > 100);   /* a random subset of bits */
    assert_int_equal(flaky, 0); /* no unstable bits unless configured */
    torn(SIM_TORN_RANDOM, 1.0, got, 256, &flaky);
    assert_true(flaky > 10); /* unstable bits read differently */
    torn(SIM_TORN_FAINT, 1.0, got, 256, &flaky);
    for (i = 0; i < 256; i++)
        assert_int_equal(got[i], 0xFF); /* reads erased, steadily */
    assert_int_equal(flaky, 0);
}

static void test_unstable_bits_cleared_by_erase(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    struct sim_boundary b = {0, SIM_OP_PROGRAM, 0, 256, NULL};
    uint8_t zeros[256] = {0};
    (void)s;
    sim_flash_destroy(f);
    c.faults.torn_mode = SIM_TORN_RANDOM;
    c.faults.unstable_fraction = 1.0;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    b.data = zeros;
    assert_int_equal(sim_flash_apply_cut(f, &b), 0);
    sim_flash_power_on(f);
    assert_true(sim_flash_unstable_count(f, 0, 256) > 0);
    assert_int_equal(sim_flash_erase(f, 0, 4096), 0);
    assert_int_equal(sim_flash_unstable_count(f, 0, 256), 0);
    sim_flash_destroy(f);
}

static void test_interrupted_erase_leaves_zeros(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    struct sim_boundary b = {0, SIM_OP_ERASE, 0, 4096, NULL};
    uint8_t zeros[256] = {0}, r[4096];
    uint32_t i, left = 0;
    (void)s;
    for (i = 0; i < 4096; i += 256)
        sim_flash_program(f, i, zeros, 256);
    assert_int_equal(sim_flash_apply_cut(f, &b), 0);
    sim_flash_power_on(f);
    sim_flash_read(f, 0, r, 4096);
    for (i = 0; i < 4096; i++)
        left += r[i] != 0xFF;
    assert_true(left > 0 && left < 4096); /* partly erased */
    /* The unit counts as programmed: programming it is a violation. */
    sim_flash_program(f, 0, zeros, 1);
    assert_int_equal(viol(f, SIM_VIOL_REPROGRAM), 1);
    sim_flash_destroy(f);
}

/* A cut erase that left no trace in a page (erase_cut = 1: every 0 bit
 * stays; no unstable bits) leaves it programmable: it held no charge
 * before and holds none now. A page with its zeros still there counts as
 * programmed. */
static void test_interrupted_erase_rules_follow_traces(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    struct sim_boundary b = {0, SIM_OP_ERASE, 0, 4096, NULL};
    uint8_t zeros[256] = {0}, r[256];
    (void)s;
    sim_flash_destroy(f);
    f = NULL;
    c.faults.erase_cut_fraction = 1.0;
    c.faults.unstable_fraction = 0.0;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    sim_flash_power_on(f);
    sim_flash_program(f, 0, zeros, 256); /* page(s) of the first 256 B */
    assert_int_equal(sim_flash_apply_cut(f, &b), 0);
    sim_flash_power_on(f);
    sim_flash_read(f, 0, r, 256);
    assert_memory_equal(r, zeros, 256); /* nothing erased */
    sim_flash_read(f, 1024, r, 256);
    assert_int_equal(r[0], 0xFF);
    sim_flash_program(f, 1024, zeros, 256);
    assert_int_equal(viol(f, SIM_VIOL_REPROGRAM), 0);
    sim_flash_program(f, 0, zeros, 1);
    assert_int_equal(viol(f, SIM_VIOL_REPROGRAM), 1);
    sim_flash_destroy(f);
}

/* A cut program counts for the rules only when it left a trace: with
 * nothing applied (torn none, an empty prefix) the flash is bit for bit as
 * before, and programming there later is no violation; with anything
 * applied, or bits left unstable, it is. NAND's NOP and page order alike. */
static void cut_then_program(uint8_t torn, double unstable, int nand_part,
                             uint64_t want_viol)
{
    struct sim_config c;
    struct sim_flash *f = nand_part ? nand(&c) : nor(&c);
    uint32_t len = nand_part ? 2048 : 256;
    static uint8_t zeros[2048];
    struct sim_boundary b = {0, SIM_OP_PROGRAM, 0, 0, zeros};
    sim_flash_destroy(f);
    c.faults.torn_mode = torn;
    c.faults.unstable_fraction = unstable;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    b.len = len;
    assert_int_equal(sim_flash_apply_cut(f, &b), 0);
    sim_flash_power_on(f);
    assert_int_equal(sim_flash_stats(f)->programs, 1); /* it cost a program */
    sim_flash_program(f, 0, zeros, len);
    assert_int_equal(
        viol(f, nand_part ? SIM_VIOL_NAND_NOP : SIM_VIOL_REPROGRAM), want_viol);
    sim_flash_destroy(f);
}

static void test_cut_program_counts_when_it_left_a_trace(void **s)
{
    (void)s;
    cut_then_program(SIM_TORN_NONE, 0, 0, 0);
    cut_then_program(SIM_TORN_NONE, 0, 1, 0);
    cut_then_program(SIM_TORN_ALL, 0, 0, 1);
    cut_then_program(SIM_TORN_ALL, 0, 1, 1);
    cut_then_program(SIM_TORN_RANDOM, 0, 0, 1);
    /* Every bit left unstable, none cleared: weak charge counts. */
    cut_then_program(SIM_TORN_RANDOM, 1.0, 0, 1);
    /* Faint: reads erased and steady, yet the charge it took counts. */
    cut_then_program(SIM_TORN_FAINT, 0, 0, 1);
    cut_then_program(SIM_TORN_FAINT, 0, 1, 1);
}

static void test_wear_fail_past_endurance_only(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    int i, fails = 0;
    (void)s;
    sim_flash_destroy(f);
    c.faults.endurance = 100;
    c.faults.wear_mode = SIM_WEAR_FAIL;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    for (i = 0; i < 100; i++)
        assert_int_equal(sim_flash_erase(f, 0, 4096), 0);
    assert_int_equal(sim_flash_erase_count(f, 0), 100);
    for (i = 0; i < 200; i++)
        fails += sim_flash_erase(f, 0, 4096) == SIM_E_ERASE_FAIL;
    assert_true(fails > 50);
    sim_flash_destroy(f);
}

static void test_timing_advances_clock(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    uint8_t p[256] = {0};
    uint64_t t0;
    (void)s;
    t0 = sim_flash_clock_ns(f);
    sim_flash_erase(f, 0, 4096);
    assert_int_equal(sim_flash_clock_ns(f) - t0, 45000000); /* tSE typ */
    t0 = sim_flash_clock_ns(f);
    sim_flash_program(f, 0, p, 256);
    assert_int_equal(sim_flash_clock_ns(f) - t0, 700000); /* tPP typ */
    assert_int_equal(sim_flash_stats(f)->programs, 1);
    assert_int_equal(sim_flash_stats(f)->erases, 1);
    sim_flash_destroy(f);
}

static void test_copy_save_load_and_determinism(void **s)
{
    struct sim_config c;
    struct sim_flash *a = nor(&c), *b, *l;
    uint8_t p[256], ra[4096], rb[4096];
    char path[] = "/tmp/fotasim-flash-XXXXXX";
    int fd, i;
    (void)s;
    sim_flash_destroy(a);
    c.faults.read_flip_rate = 1e-4;
    c.faults.torn_mode = SIM_TORN_RANDOM;
    c.faults.unstable_fraction = 0.5;
    assert_int_equal(sim_flash_create(&a, &c), 0);
    assert_int_equal(sim_flash_create(&b, &c), 0);
    for (i = 0; i < 256; i++)
        p[i] = (uint8_t)(i * 7);
    sim_flash_program(a, 0, p, 256);
    {
        struct sim_boundary cut = {1, SIM_OP_PROGRAM, 256, 256, p};
        sim_flash_apply_cut(a, &cut);
        sim_flash_power_on(a);
    }
    assert_int_equal(sim_flash_copy(b, a), 0);
    /* Same state and generator: the same bytes on every later read. */
    for (i = 0; i < 5; i++) {
        sim_flash_read(a, 0, ra, 4096);
        sim_flash_read(b, 0, rb, 4096);
        assert_memory_equal(ra, rb, 4096);
    }
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sim_flash_save(a, path), 0);
    assert_int_equal(sim_flash_load(&l, path), 0);
    assert_memory_equal(sim_flash_raw(l), sim_flash_raw(a), c.geo.size);
    assert_int_equal(sim_flash_unstable_count(l, 0, 4096),
                     sim_flash_unstable_count(a, 0, 4096));
    sim_flash_read(a, 0, ra, 4096);
    sim_flash_read(l, 0, rb, 4096);
    assert_memory_equal(ra, rb, 4096);
    sim_flash_destroy(l);
    unlink(path);
    {
        FILE *fp = fopen(path, "w");
        fputs("garbage", fp);
        fclose(fp);
        assert_int_equal(sim_flash_load(&l, path), SIM_E_FORMAT);
        unlink(path);
    }
    sim_flash_destroy(a);
    sim_flash_destroy(b);
}

static void test_non_uniform_sectors(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    uint8_t p[8] = {0};
    (void)s;
    assert_int_equal(sim_preset("stm32f4-internal", &c), 0);
    assert_int_equal(sim_flash_create(&f, &c), 0);
    assert_int_equal(sim_flash_unit_count(f), 12);
    assert_int_equal(sim_flash_erase(f, 0, 16 * 1024), 0);
    assert_int_equal(sim_flash_erase(f, 64 * 1024, 64 * 1024), 0);
    assert_int_equal(sim_flash_erase(f, 128 * 1024, 128 * 1024), 0);
    assert_int_equal(sim_flash_erase(f, 128 * 1024, 64 * 1024), SIM_E_ALIGN);
    assert_int_equal(sim_flash_program(f, 4, p, 8), SIM_E_ALIGN);
    assert_int_equal(sim_flash_program(f, 8, p, 8), 0);
    assert_int_equal(sim_flash_unit_of(f, 200 * 1024), 5);
    sim_flash_destroy(f);
}

static void test_read_flips_only_when_configured(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    static uint8_t z[4096], r[4096];
    int i, differ = 0;
    (void)s;
    sim_flash_program(f, 0, z, 4096);
    for (i = 0; i < 50; i++) {
        sim_flash_read(f, 0, r, 4096);
        differ += memcmp(r, z, 4096) != 0;
    }
    assert_int_equal(differ, 0);
    assert_int_equal(sim_flash_stats(f)->bit_flips, 0);
    sim_flash_destroy(f);
    c.faults.read_flip_rate = 1e-4; /* ~3 flips per 4 KiB read */
    assert_int_equal(sim_flash_create(&f, &c), 0);
    sim_flash_program(f, 0, z, 4096);
    for (i = 0; i < 50; i++) {
        sim_flash_read(f, 0, r, 4096);
        differ += memcmp(r, z, 4096) != 0;
    }
    assert_true(differ > 30);
    /* Transient: the cells still hold what was programmed. */
    assert_memory_equal(sim_flash_raw(f), z, 4096);
    sim_flash_destroy(f);
}

static void test_retention_flips_with_time(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    static uint8_t z[65536], r[65536];
    (void)s;
    sim_flash_destroy(f);
    c.faults.retention_rate = 1e-7; /* per programmed bit per second */
    assert_int_equal(sim_flash_create(&f, &c), 0);
    sim_flash_program(f, 0, z, sizeof(z));
    sim_flash_read(f, 0, r, sizeof(r));
    assert_memory_equal(r, z, sizeof(z));                /* no time, no loss */
    sim_flash_advance_clock(f, 3600ull * 1000000000ull); /* an hour */
    sim_flash_read(f, 0, r, sizeof(r));
    assert_true(memcmp(r, z, sizeof(z)) != 0); /* 0s drifted to 1 */
    assert_true(sim_flash_stats(f)->bit_flips > 0);
    sim_flash_erase(f, 0, 4096); /* an erase clears the unit's history */
    sim_flash_destroy(f);
}

static void test_read_disturb_after_limit(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    uint8_t r[16];
    int i;
    (void)s;
    sim_flash_destroy(f);
    c.faults.read_disturb_limit = 100;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    for (i = 0; i < 100; i++)
        sim_flash_read(f, 0, r, 16);
    assert_int_equal(sim_flash_stats(f)->bit_flips, 0);
    for (i = 0; i < 200; i++)
        sim_flash_read(f, 0, r, 16);
    assert_true(sim_flash_stats(f)->bit_flips > 0);
    sim_flash_destroy(f);
}

static void test_wear_stuck_and_badblock(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    static uint8_t z[4096];
    int i, stuck = 0, failed = 0;
    (void)s;
    assert_int_equal(sim_preset("w25q128", &c), 0);
    c.geo.size = 64 * 1024;
    c.faults.endurance = 100;
    c.faults.initial_wear = 1.1; /* 10% past: always worn */
    c.faults.wear_mode = SIM_WEAR_STUCK;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    for (i = 0; i < 8; i++) {
        sim_flash_erase(f, 0, 4096);
        assert_int_equal(sim_flash_program(f, 0, z, 4096), 0);
        stuck += memcmp(sim_flash_raw(f), z, 4096) != 0;
    }
    assert_true(stuck > 0); /* bits that stay 1 */
    sim_flash_destroy(f);

    assert_int_equal(sim_preset("w25n01gv", &c), 0);
    c.geo.size = 8 * 128 * 1024;
    c.geo.factory_bad = 0;
    c.faults.endurance = 100;
    c.faults.initial_wear = 1.1;
    c.faults.wear_mode = SIM_WEAR_BADBLOCK;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    for (i = 0; i < 4 && !failed; i++)
        failed = sim_flash_erase(f, 128 * 1024, 128 * 1024) == SIM_E_ERASE_FAIL;
    assert_true(failed);
    assert_int_equal(sim_flash_is_bad(f, 128 * 1024), 1); /* grown bad */
    sim_flash_destroy(f);
}

static void test_nand_nop4_allows_partial_programs(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    static uint8_t page[2048];
    int i;
    (void)s;
    assert_int_equal(sim_preset("mt29f-slc", &c), 0);
    c.geo.size = 4 * 128 * 1024;
    c.geo.factory_bad = 0;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    memset(page, 0xFF, sizeof(page));
    for (i = 0; i < 4; i++) {
        page[i * 512] = 0x00; /* one more 512 B sector each time */
        sim_flash_program(f, 0, page, 2048);
    }
    assert_int_equal(viol(f, SIM_VIOL_NAND_NOP), 0);
    sim_flash_program(f, 0, page, 2048);
    assert_int_equal(viol(f, SIM_VIOL_NAND_NOP), 1);
    sim_flash_destroy(f);
}

static void test_libfiu_points_when_enabled(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    uint8_t z[16] = {0};
    (void)s;
    setenv("FOTASIM_FIU", "1", 1);
    f = nor(&c);
    assert_int_equal(sim_flash_program(f, 0, z, 16), 0);
    assert_int_equal(fiu_enable("sim/flash/program", 1, NULL, 0), 0);
    assert_int_equal(sim_flash_program(f, 16, z, 16), SIM_E_PROG_FAIL);
    fiu_disable("sim/flash/program");
    assert_int_equal(fiu_enable("sim/flash/erase", 1, NULL, 0), 0);
    assert_int_equal(sim_flash_erase(f, 0, 4096), SIM_E_ERASE_FAIL);
    fiu_disable("sim/flash/erase");
    assert_int_equal(sim_flash_erase(f, 0, 4096), 0);
    sim_flash_destroy(f);
    unsetenv("FOTASIM_FIU");
}

static void test_nor_block_erase_timing(void **s)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c); /* 64 KiB of w25q128 */
    uint64_t t;
    (void)s;
    t = sim_flash_clock_ns(f);
    assert_int_equal(sim_flash_erase(f, 0, 65536), 0); /* tBE2 */
    assert_int_equal(sim_flash_clock_ns(f) - t, 150000000ull);
    t = sim_flash_clock_ns(f);
    assert_int_equal(sim_flash_erase(f, 32768, 32768), 0); /* tBE1 */
    assert_int_equal(sim_flash_clock_ns(f) - t, 120000000ull);
    t = sim_flash_clock_ns(f);
    assert_int_equal(sim_flash_erase(f, 4096, 8192), 0); /* 2 x tSE */
    assert_int_equal(sim_flash_clock_ns(f) - t, 90000000ull);
    assert_int_equal(sim_flash_stats(f)->erases, 16 + 8 + 2);
    assert_int_equal(sim_flash_erase_count(f, 8), 2);
    sim_flash_destroy(f);
}

/* A cut during a NAND page program: the ECC sees the bits the program
 * failed to clear (its parity was torn with it). */
static int nand_torn_read(uint8_t mode, uint8_t *out)
{
    struct sim_config c;
    struct sim_flash *f;
    struct cut_at cut = {0, 0, 0};
    static uint8_t zeros[2048];
    int rc;
    assert_int_equal(sim_preset("mt29f-slc", &c), 0);
    c.geo.size = 4 * 128 * 1024;
    c.geo.factory_bad = 0;
    c.faults.torn_mode = mode;
    c.faults.seed = 3;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    sim_flash_set_boundary_hook(f, cut_hook, NULL, &cut);
    assert_int_equal(sim_flash_program(f, 2048, zeros, 2048), SIM_E_POWER_OFF);
    sim_flash_power_on(f);
    rc = sim_flash_read(f, 2048, out, 2048);
    sim_flash_destroy(f);
    return rc;
}

static void test_nand_torn_program_seen_by_ecc(void **s)
{
    static uint8_t got[2048];
    uint32_t i;
    (void)s;
    assert_int_equal(nand_torn_read(SIM_TORN_NONE, got), 0);
    for (i = 0; i < 2048; i++)
        assert_int_equal(got[i], 0xFF); /* still erased */
    assert_int_equal(nand_torn_read(SIM_TORN_ALL, got), 0);
    for (i = 0; i < 2048; i++)
        assert_int_equal(got[i], 0x00);
    assert_int_equal(nand_torn_read(SIM_TORN_RANDOM, got), SIM_E_ECC);
}

static void test_nand_program_resolves_errors(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    static uint8_t page[2048], got[2048];
    (void)s;
    assert_int_equal(sim_preset("mt29f-slc", &c), 0);
    c.geo.size = 4 * 128 * 1024;
    c.geo.factory_bad = 0;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    memset(page, 0xFF, sizeof(page));
    page[0] = 0x00;
    assert_int_equal(sim_flash_program(f, 0, page, 2048), 0);
    assert_int_equal(sim_flash_lose_bits(f, 0, 1, 1, NULL), 1);
    assert_int_equal(sim_flash_read(f, 0, got, 2048), 1); /* corrected */
    assert_int_equal(got[0], 0x00);
    /* A partial program (NOP 4) that clears the whole page: the lost bit
     * is cleared again and no longer an error. */
    memset(page, 0x00, sizeof(page));
    assert_int_equal(sim_flash_program(f, 0, page, 2048), 0);
    assert_int_equal(sim_flash_read(f, 0, got, 2048), 0);
    assert_int_equal(got[0], 0x00);
    sim_flash_destroy(f);
}

/* The oracle's view: ECC-correctable errors undone, others left as
 * stored, unstable bits counted against the ECC; the lost bits listed. */
static void test_nand_settled_read(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    static uint8_t page[2048], got[2048];
    struct sim_bit lost[8];
    uint32_t i, cw;
    (void)s;
    assert_int_equal(sim_preset("mt29f-slc", &c), 0);
    c.geo.size = 4 * 128 * 1024;
    c.geo.factory_bad = 0;
    cw = c.geo.ecc_codeword;
    assert_true(c.geo.ecc_bits >= 2 && c.geo.ecc_bits < 8);
    assert_int_equal(sim_flash_create(&f, &c), 0);
    for (i = 0; i < sizeof(page); i++)
        page[i] = (uint8_t)(i * 7u);
    assert_int_equal(sim_flash_program(f, 0, page, 2048), 0);
    assert_int_equal(sim_flash_read_settled(f, 0, got, 2048), 0);
    assert_memory_equal(got, page, 2048);
    /* Codeword 0: as many errors as the ECC corrects. */
    assert_int_equal(sim_flash_lose_bits(f, 0, cw, c.geo.ecc_bits, lost),
                     c.geo.ecc_bits);
    for (i = 0; i < c.geo.ecc_bits; i++) {
        assert_true(lost[i].addr < cw);
        assert_true(sim_flash_raw(f)[lost[i].addr] & lost[i].mask);
        assert_false(page[lost[i].addr] & lost[i].mask);
    }
    assert_int_equal(sim_flash_error_count(f, 0, cw), c.geo.ecc_bits);
    assert_int_equal(sim_flash_read_settled(f, 0, got, 2048), 0);
    assert_memory_equal(got, page, 2048);
    /* Codeword 1: one more than that: its bytes stay as stored. */
    assert_int_equal(
        sim_flash_lose_bits(f, cw, 2 * cw, c.geo.ecc_bits + 1u, NULL),
        c.geo.ecc_bits + 1u);
    assert_int_equal(sim_flash_read_settled(f, 0, got, 2048), 1);
    assert_memory_equal(got, page, cw);
    assert_memory_equal(got + cw, sim_flash_raw(f) + cw, cw);
    assert_true(memcmp(got + cw, page + cw, cw) != 0);
    assert_int_equal(sim_flash_read_settled(f, 2048, got, 16), 0);
    assert_int_equal(sim_flash_read_settled(f, c.geo.size - 8, got, 16),
                     SIM_E_RANGE);
    sim_flash_destroy(f);
}

/* NOR has no ECC: the settled view is the stored bytes. */
static void test_nor_settled_read_is_raw(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    uint8_t page[256], got[256];
    (void)s;
    assert_int_equal(sim_preset("w25q128", &c), 0);
    c.geo.size = 1u << 20;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    memset(page, 0x00, sizeof(page));
    assert_int_equal(sim_flash_program(f, 0, page, 256), 0);
    assert_int_equal(sim_flash_lose_bits(f, 0, 256, 1, NULL), 1);
    assert_int_equal(sim_flash_read_settled(f, 0, got, 256), 0);
    assert_memory_equal(got, sim_flash_raw(f), 256);
    assert_true(memcmp(got, page, 256) != 0);
    sim_flash_destroy(f);
}

static jmp_buf lost_jb;

static void loss_longjmp(void *user)
{
    (void)user;
    longjmp(lost_jb, 1);
}

static bool cut_second(void *user, const struct sim_boundary *b)
{
    (void)user;
    return b->index == 1;
}

/* The harness longjmps out of the power-loss callback: everything about
 * the cut must be in the device state before the callback runs. */
static void test_power_loss_longjmp_state_complete(void **s)
{
    struct sim_config c;
    struct sim_flash *volatile f = nor(&c);
    uint8_t z[256] = {0}, got[256];
    uint32_t i, n = 0;
    (void)s;
    sim_flash_destroy(f);
    c.faults.torn_mode = SIM_TORN_ALL;
    assert_int_equal(sim_flash_create((struct sim_flash **)&f, &c), 0);
    sim_flash_set_boundary_hook(f, cut_second, loss_longjmp, NULL);
    if (!setjmp(lost_jb)) {
        sim_flash_program(f, 0, z, 256);
        sim_flash_program(f, 256, z, 256);
        fail_msg("on_power_loss did not run");
    }
    assert_false(sim_flash_powered(f));
    assert_int_equal(sim_flash_stats(f)->boundaries, 2);
    assert_int_equal(sim_flash_stats(f)->programs, 2);
    sim_flash_power_on(f);
    assert_int_equal(sim_flash_read(f, 256, got, 256), 0);
    for (i = 0; i < 256; i++)
        n += got[i] != 0;
    assert_int_equal(n, 0); /* torn "all": applied before the jump */
    sim_flash_destroy(f);
}

static void test_save_load_whole_state(void **s)
{
    struct sim_config c;
    struct sim_flash *a = nor(&c), *b;
    char path[] = "/tmp/test_sim_stateXXXXXX";
    uint8_t z[8] = {0}, x[64], y[64];
    int fd;
    (void)s;
    sim_flash_program(a, 0, z, 8);
    sim_flash_program(a, 0, z, 8); /* a reprogram violation */
    sim_flash_read(a, 0, x, 64);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sim_flash_save(a, path), 0);
    assert_int_equal(sim_flash_load(&b, path), 0);
    unlink(path);
    assert_memory_equal(sim_flash_stats(a), sim_flash_stats(b),
                        sizeof(struct sim_stats));
    assert_memory_equal(sim_flash_first_violation(a),
                        sim_flash_first_violation(b),
                        sizeof(struct sim_violation_record));
    assert_int_equal(sim_flash_clock_ns(a), sim_flash_clock_ns(b));
    sim_flash_read(a, 0, x, 64);
    sim_flash_read(b, 0, y, 64);
    assert_memory_equal(x, y, 64);
    sim_flash_destroy(a);
    sim_flash_destroy(b);
}

static void test_read_spare_shows_factory_marks(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    uint32_t u;
    uint8_t sp[64];
    (void)s;
    sim_preset("w25n01gv", &c);
    c.geo.size = 32 * 128 * 1024;
    c.geo.factory_bad = 3;
    assert_int_equal(sim_flash_create(&f, &c), 0);
    for (u = 0; u < 32; u++) {
        assert_int_equal(sim_flash_read_spare(f, u * 128 * 1024, sp, 64), 0);
        assert_int_equal(sp[0] != 0xFF, sim_flash_is_bad(f, u * 128 * 1024));
    }
    sim_flash_destroy(f);
}

static void test_libfiu_points_gated(void **s)
{
    struct sim_config c;
    struct sim_flash *f;
    uint8_t z[16] = {0};
    (void)s;
    unsetenv("FOTASIM_FIU");
    assert_int_equal(fiu_enable("sim/flash/program", 1, NULL, 0), 0);
    f = nor(&c); /* gate off: the enabled point is not consulted */
    assert_int_equal(sim_flash_program(f, 0, z, 16), 0);
    sim_flash_destroy(f);
    sim_preset("w25q128", &c);
    c.geo.size = 64 * 1024;
    c.faults.fiu_points = true; /* gate on from the config */
    assert_int_equal(sim_flash_create(&f, &c), 0);
    assert_int_equal(sim_flash_program(f, 0, z, 16), SIM_E_PROG_FAIL);
    fiu_disable("sim/flash/program");
    assert_int_equal(sim_flash_program(f, 16, z, 16), 0);
    sim_flash_destroy(f);
}

/* The whole state of f, as sim_flash_save writes it. */
static uint8_t *state_of(struct sim_flash *f, long *n)
{
    char path[] = "/tmp/fotasim-simstate-XXXXXX";
    uint8_t *buf;
    FILE *fp;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sim_flash_save(f, path), 0);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)*n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)*n, fp), (size_t)*n);
    fclose(fp);
    unlink(path);
    return buf;
}

/* A few seeded writes anywhere: programs, erases, torn ops, lost bits. */
static void scribble(struct sim_flash *f, uint64_t *x, int ops)
{
    const struct sim_config *c = sim_flash_config(f);
    uint32_t es = c->geo.erase_size, ps = c->geo.prog_size;
    uint8_t buf[2048];
    int i;
    memset(buf, 0x3C, sizeof(buf));
    sim_flash_power_on(f);
    for (i = 0; i < ops; i++) {
        uint32_t unit = (uint32_t)(sim_rng_next(x) % (c->geo.size / es));
        uint32_t a = unit * es, len = ps > 256 ? ps : 256;
        switch (sim_rng_next(x) % 4) {
        case 0:
            sim_flash_erase(f, a, es);
            break;
        case 1:
            sim_flash_program(
                f, a + (uint32_t)(sim_rng_next(x) % (es / len)) * len, buf,
                len);
            break;
        case 2: /* bits leak from anything programmed earlier */
            sim_flash_lose_bits(f, 0, c->geo.size, 2, NULL);
            break;
        default: {
            struct sim_boundary cut = {7, SIM_OP_ERASE, a, es, NULL};
            sim_flash_apply_cut(f, &cut);
            sim_flash_power_on(f);
        }
        }
    }
}

/* The torture loop's copies: live into trial at every boundary, the trial
 * scribbled on, sometimes copied on into a nested device. Each copy after
 * the first moves only what changed; it must equal a full copy. */
static void copy_matches_full_copy(struct sim_flash *live,
                                   const struct sim_config *c)
{
    struct sim_flash *trial, *nested, *full;
    uint64_t x = 99;
    long n1, n2;
    int round;
    assert_int_equal(sim_flash_create(&trial, c), 0);
    assert_int_equal(sim_flash_create(&nested, c), 0);
    for (round = 0; round < 40; round++) {
        uint8_t *a, *b;
        scribble(live, &x, 1);
        assert_int_equal(sim_flash_copy(trial, live), 0);
        assert_int_equal(sim_flash_create(&full, c), 0);
        assert_int_equal(sim_flash_copy(full, live), 0);
        a = state_of(trial, &n1);
        b = state_of(full, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, (size_t)n1);
        free(a);
        free(b);
        sim_flash_destroy(full);
        scribble(trial, &x, 3);
        if (round % 3 == 0) {
            assert_int_equal(sim_flash_copy(nested, trial), 0);
            scribble(nested, &x, 2);
        }
    }
    sim_flash_destroy(trial);
    sim_flash_destroy(nested);
}

static bool cut_now(void *user, const struct sim_boundary *b)
{
    (void)user;
    (void)b;
    return true;
}

/* Each way a device changes, alone, far from anything else written: the
 * next copy must carry it. */
static void copy_carries_every_kind_of_write(struct sim_config *c)
{
    struct sim_flash *live, *trial, *full;
    uint8_t buf[256], rd[16];
    uint32_t es = c->geo.erase_size;
    long n1, n2;
    int kind;
    memset(buf, 0x0F, sizeof(buf));
    for (kind = 0; kind < 7; kind++) {
        uint8_t *a, *b;
        uint32_t u = 2 + (uint32_t)kind; /* a unit of its own */
        assert_int_equal(sim_flash_create(&live, c), 0);
        assert_int_equal(sim_flash_create(&trial, c), 0);
        sim_flash_program(live, u * es, buf, sizeof(buf));
        assert_int_equal(sim_flash_copy(trial, live), 0);
        switch (kind) {
        case 0:
            sim_flash_program(live, u * es + 256, buf, sizeof(buf));
            break;
        case 1:
            sim_flash_erase(live, u * es, es);
            break;
        case 2: {
            struct sim_boundary cut = {3, SIM_OP_PROGRAM, u * es + 512, 256,
                                       buf};
            sim_flash_apply_cut(live, &cut);
            sim_flash_power_on(live);
            break;
        }
        case 3:
            assert_int_equal(
                sim_flash_lose_bits(live, u * es, u * es + 256, 4, NULL), 4);
            break;
        case 4: /* read disturb: reads past the limit flip erased bits */
            for (int i = 0; i < 50; i++)
                sim_flash_read(live, u * es, rd, sizeof(rd));
            break;
        case 5: /* retention: programmed bits leak with time */
            sim_flash_advance_clock(live, 3600ull * 1000000000ull);
            sim_flash_read(live, u * es, rd, sizeof(rd));
            break;
        default: /* the boundary hook cuts power in the middle of a program */
            sim_flash_set_boundary_hook(live, cut_now, NULL, NULL);
            assert_int_equal(sim_flash_program(live, u * es + 768, buf, 256),
                             SIM_E_POWER_OFF);
            sim_flash_set_boundary_hook(live, NULL, NULL, NULL);
            sim_flash_power_on(live);
            break;
        }
        assert_int_equal(sim_flash_copy(trial, live), 0);
        assert_int_equal(sim_flash_create(&full, c), 0);
        assert_int_equal(sim_flash_copy(full, live), 0);
        a = state_of(trial, &n1);
        b = state_of(full, &n2);
        assert_int_equal(n1, n2);
        if (memcmp(a, b, (size_t)n1))
            fail_msg("write kind %d was not carried by the copy", kind);
        free(a);
        free(b);
        sim_flash_destroy(full);
        sim_flash_destroy(trial);
        sim_flash_destroy(live);
    }
}

/* Copies of one state tear the same op alike, unless reseeded: the same
 * seed gives the same torn bits, another seed others. */
static void test_reseed_gives_each_copy_its_own_faults(void **state)
{
    struct sim_config c;
    struct sim_flash *live = nor(&c), *a, *b;
    struct sim_boundary cut = {5, SIM_OP_PROGRAM, 0, 256, NULL};
    uint8_t page[256];
    int same_seed, other_seed;
    (void)state;
    sim_flash_destroy(live);
    c.faults.torn_mode = SIM_TORN_RANDOM;
    assert_int_equal(sim_flash_create(&live, &c), 0);
    assert_int_equal(sim_flash_create(&a, &c), 0);
    assert_int_equal(sim_flash_create(&b, &c), 0);
    memset(page, 0x00, sizeof(page));
    cut.data = page;
    assert_int_equal(sim_flash_copy(a, live), 0);
    assert_int_equal(sim_flash_copy(b, live), 0);
    sim_flash_reseed(a, 11);
    sim_flash_reseed(b, 11);
    sim_flash_apply_cut(a, &cut);
    sim_flash_apply_cut(b, &cut);
    same_seed = !memcmp(sim_flash_raw(a), sim_flash_raw(b), 256);
    assert_int_equal(sim_flash_copy(a, live), 0);
    assert_int_equal(sim_flash_copy(b, live), 0);
    sim_flash_reseed(a, 11);
    sim_flash_reseed(b, 12);
    sim_flash_apply_cut(a, &cut);
    sim_flash_apply_cut(b, &cut);
    other_seed = !memcmp(sim_flash_raw(a), sim_flash_raw(b), 256);
    assert_true(same_seed);
    assert_false(other_seed);
    sim_flash_destroy(a);
    sim_flash_destroy(b);
    sim_flash_destroy(live);
}

struct count_cut {
    uint32_t seen, at;
};

static bool cut_at_boundary(void *user, const struct sim_boundary *b)
{
    struct count_cut *c = user;
    (void)b;
    return c->seen++ == c->at;
}

/* A range erase is one boundary per command: four 4 KiB sectors are four
 * (a cut in the third leaves two erased, one torn, one untouched); an
 * aligned 64 KiB block is one. */
static void test_range_erase_is_a_boundary_per_command(void **state)
{
    struct sim_config c;
    struct sim_flash *f = nor(&c);
    struct count_cut cut = {0, 99};
    uint8_t page[256];
    uint32_t i;
    (void)state;
    memset(page, 0x00, sizeof(page));
    for (i = 0; i < 4; i++)
        sim_flash_program(f, i * 4096, page, 256);
    sim_flash_set_boundary_hook(f, cut_at_boundary, NULL, &cut);
    assert_int_equal(sim_flash_erase(f, 0, 16384), 0);
    assert_int_equal(cut.seen, 4);
    cut.seen = 0;
    assert_int_equal(sim_flash_erase(f, 0, 65536), 0);
    assert_int_equal(cut.seen, 1);
    for (i = 0; i < 4; i++)
        sim_flash_program(f, i * 4096, page, 256);
    cut.seen = 0;
    cut.at = 2;
    assert_int_equal(sim_flash_erase(f, 0, 16384), SIM_E_POWER_OFF);
    assert_int_equal(sim_flash_raw(f)[0], 0xFF);
    assert_int_equal(sim_flash_raw(f)[4096], 0xFF);
    assert_int_equal(sim_flash_raw(f)[3 * 4096], 0x00); /* never reached */
    sim_flash_destroy(f);
}

static void test_incremental_copy_equals_full_copy(void **state)
{
    struct sim_config c;
    struct sim_flash *f;
    (void)state;
    f = nor(&c);
    c.faults.torn_mode = SIM_TORN_RANDOM;
    c.faults.unstable_fraction = 0.3;
    sim_flash_destroy(f);
    assert_int_equal(sim_flash_create(&f, &c), 0);
    copy_matches_full_copy(f, &c);
    sim_flash_destroy(f);
    c.faults.read_disturb_limit = 10;
    c.faults.retention_rate = 1e-4;
    copy_carries_every_kind_of_write(&c);
    f = nand(&c);
    copy_matches_full_copy(f, &c);
    sim_flash_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nor_program_ands_and_reprogram_is_a_violation),
        cmocka_unit_test(test_misaligned_out_of_range_protected),
        cmocka_unit_test(test_protect_is_idempotent_and_survives_power),
        cmocka_unit_test(test_nand_order_nop_and_ecc),
        cmocka_unit_test(test_nand_ecc_corrects_and_fails),
        cmocka_unit_test(test_factory_bad_blocks_marked),
        cmocka_unit_test(test_torn_program_modes),
        cmocka_unit_test(test_cut_program_counts_when_it_left_a_trace),
        cmocka_unit_test(test_unstable_bits_cleared_by_erase),
        cmocka_unit_test(test_interrupted_erase_leaves_zeros),
        cmocka_unit_test(test_interrupted_erase_rules_follow_traces),
        cmocka_unit_test(test_wear_fail_past_endurance_only),
        cmocka_unit_test(test_timing_advances_clock),
        cmocka_unit_test(test_copy_save_load_and_determinism),
        cmocka_unit_test(test_non_uniform_sectors),
        cmocka_unit_test(test_read_flips_only_when_configured),
        cmocka_unit_test(test_retention_flips_with_time),
        cmocka_unit_test(test_read_disturb_after_limit),
        cmocka_unit_test(test_wear_stuck_and_badblock),
        cmocka_unit_test(test_nand_nop4_allows_partial_programs),
        cmocka_unit_test(test_libfiu_points_when_enabled),
        cmocka_unit_test(test_nor_block_erase_timing),
        cmocka_unit_test(test_nand_torn_program_seen_by_ecc),
        cmocka_unit_test(test_nand_program_resolves_errors),
        cmocka_unit_test(test_nand_settled_read),
        cmocka_unit_test(test_nor_settled_read_is_raw),
        cmocka_unit_test(test_power_loss_longjmp_state_complete),
        cmocka_unit_test(test_save_load_whole_state),
        cmocka_unit_test(test_read_spare_shows_factory_marks),
        cmocka_unit_test(test_libfiu_points_gated),
        cmocka_unit_test(test_incremental_copy_equals_full_copy),
        cmocka_unit_test(test_range_erase_is_a_boundary_per_command),
        cmocka_unit_test(test_reseed_gives_each_copy_its_own_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
