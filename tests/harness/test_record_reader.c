/*
 * record_reader: the second reader of fwresume's record area. The areas
 * are written here byte by byte from docs/record-format.md (CRC-32 from
 * zlib's polynomial via libdeflate), no engine involved; then one area the
 * real engine wrote must read as complete too. Each discrepancy the
 * reader reports is shown failing.
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
#include <libdeflate.h>

#include "hashes.h"
#include "record_reader.h"
#include "sim_flash.h"

#define IMG    16384u
#define BS     4096u
#define NB     (IMG / BS)
#define REC    0x0000u
#define MIR    0x1000u
#define DATA   0x2000u
#define RSIZE  4096u
#define HDR    96u /* ps = 1: round(92) + round(4) */
#define SLOT   24u /* 16 + 4 (CRC-32 hash) + 4 */
#define COMMIT 0xC3A5E15Au

struct rig {
    struct sim_flash *dev;
    struct harness_hash hash;
    struct fwr_image id;
    uint8_t img[IMG];
    uint8_t buf[2 * RSIZE];
    int64_t live[NB + 1];
    uint8_t hashes[NB * 4];
    uint32_t next[2]; /* next slot per copy */
    struct record_reader r;
};

/* The reader's read: as the device reads, no side effects. */
static int settled_read(void *user, uint32_t addr, void *buf, uint32_t len)
{
    return sim_flash_read_settled(user, addr, buf, len);
}


static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void prog(struct rig *g, uint32_t addr, const uint8_t *b, uint32_t n)
{
    assert_int_equal(sim_flash_program(g->dev, addr, b, n), 0);
}

/* Section 2: header body, check value, commit. */
static void header(struct rig *g, int copy, uint32_t gen, uint32_t size)
{
    uint8_t h[HDR];
    memset(h, 0xFF, sizeof(h));
    memset(h, 0, 88);
    put32(h, 0x48525746u);
    h[4] = 1;
    h[5] = FWR_HASH_CRC32;
    h[6] = g->id.digest_kind;
    h[7] = g->id.digest_len;
    h[8] = g->id.version_len;
    put32(h + 12, size);
    put32(h + 16, BS);
    put32(h + 20, gen);
    memcpy(h + 24, g->id.digest, g->id.digest_len);
    memcpy(h + 56, g->id.version, g->id.version_len);
    put32(h + 88, (uint32_t)libdeflate_crc32(0, h, 88));
    put32(h + 92, COMMIT);
    prog(g, copy ? MIR : REC, h, HDR);
    g->next[copy] = 0;
}

/* Section 3: one slot at the copy's next position. */
static void slot(struct rig *g, int copy, uint8_t type, uint32_t a0,
                 uint32_t a1, const uint8_t *hash)
{
    uint8_t s[SLOT];
    memset(s, 0, sizeof(s));
    s[0] = type;
    s[1] = 4;
    put32(s + 4, a0);
    put32(s + 8, a1);
    if (hash)
        memcpy(s + 12, hash, 4);
    put32(s + 16, (uint32_t)libdeflate_crc32(0, s, 16));
    put32(s + 20, COMMIT);
    prog(g, (copy ? MIR : REC) + HDR + g->next[copy]++ * SLOT, s, SLOT);
}

static void block(struct rig *g, int copy, uint32_t i)
{
    uint8_t h[4];
    assert_int_equal(harness_hash_buf(&g->hash, g->img + i * BS, BS, h), 0);
    slot(g, copy, 0xB1, i, 0, h);
}

/* Both copies: a complete update of generation gen. */
static void complete(struct rig *g, uint32_t gen)
{
    int c;
    uint32_t i;
    for (c = 0; c < 2; c++) {
        header(g, c, gen, IMG);
        for (i = 0; i < NB; i++)
            block(g, c, i);
        slot(g, c, 0xC3, NB, IMG, NULL);
    }
}

static int check(struct rig *g, const char *want)
{
    char why[200] = "";
    int rc = record_reader_check_complete(&g->r, why, sizeof(why));
    if (want && !strstr(why, want))
        fail_msg("reader said '%s', expected '%s'", why, want);
    return rc;
}

static int setup(void **state)
{
    struct rig *g = calloc(1, sizeof(*g));
    struct sim_config cfg;
    char err[128];
    uint32_t i;

    assert_non_null(g);
    assert_int_equal(sim_preset("w25q128", &cfg), 0);
    cfg.geo.size = 1u << 20;
    assert_int_equal(sim_flash_create(&g->dev, &cfg), 0);
    sim_flash_power_on(g->dev);
    assert_int_equal(harness_hash_init(&g->hash, FWR_HASH_CRC32, err,
                                       sizeof(err)),
                     0);
    for (i = 0; i < IMG; i++)
        g->img[i] = (uint8_t)(i * 31u + 7u);
    g->id.size = IMG;
    g->id.digest_kind = FWR_HASH_CRC32;
    g->id.digest_len = 4;
    assert_int_equal(harness_hash_buf(&g->hash, g->img, IMG, g->id.digest),
                     0);
    g->id.version_len = 3;
    memcpy(g->id.version, "v42", 3);
    g->r.read = settled_read;
    g->r.read_user = g->dev;
    g->r.record_addr = REC;
    g->r.mirror_addr = MIR;
    g->r.record_size = RSIZE;
    g->r.prog_size = 1;
    g->r.erased = 0xFF;
    g->r.block_hash_kind = FWR_HASH_CRC32;
    g->r.block_size = BS;
    g->r.image = &g->id;
    g->r.hash_size = 4;
    g->r.check_padding = 1;
    for (i = 0; i < NB; i++)
        assert_int_equal(harness_hash_buf(&g->hash, g->img + i * BS, BS,
                                          g->hashes + i * 4),
                         0);
    g->r.block_hashes = g->hashes;
    g->r.buf = g->buf;
    g->r.live = g->live;
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct rig *g = *state;
    sim_flash_destroy(g->dev);
    free(g);
    return 0;
}

static void test_complete_area_reads_complete(void **state)
{
    struct rig *g = *state;
    complete(g, 1);
    assert_int_equal(check(g, NULL), 0);
}

static void test_a_wrong_check_value_is_no_header(void **state)
{
    struct rig *g = *state;
    uint8_t zero = 0x00;
    complete(g, 1);
    /* Bits of the check values go 1 -> 0 (a program may only clear). */
    prog(g, REC + 88, &zero, 1);
    assert_int_equal(check(g, NULL), 0); /* the mirror serves */
    prog(g, MIR + 88, &zero, 1);
    assert_int_equal(check(g, "no record copy names the image"), -1);
}

static void test_header_of_another_image_does_not_count(void **state)
{
    struct rig *g = *state;
    int c;
    for (c = 0; c < 2; c++) {
        header(g, c, 1, IMG - BS); /* another size */
        slot(g, c, 0xC3, NB, IMG, NULL);
    }
    assert_int_equal(check(g, "image size"), -1);
}

static void test_void_after_complete_is_not_complete(void **state)
{
    struct rig *g = *state;
    complete(g, 1);
    slot(g, 0, 0x70, 0, NB, NULL);
    assert_int_equal(check(g, "no COMPLETE after the last VOID"), -1);
}

static void test_no_complete_entry(void **state)
{
    struct rig *g = *state;
    uint32_t i;
    header(g, 0, 1, IMG);
    header(g, 1, 1, IMG);
    for (i = 0; i < NB; i++)
        block(g, 0, i);
    assert_int_equal(check(g, "last COMPLETE: slot -1"), -1);
}

/* The slot-by-slot union: a torn slot in one copy costs nothing while the
 * other copy's is valid. */
static void test_torn_slot_in_one_copy_is_served_by_the_other(void **state)
{
    struct rig *g = *state;
    uint8_t zero = 0x00;
    complete(g, 1);
    prog(g, REC + HDR + NB * SLOT + 16, &zero, 1); /* COMPLETE's CRC */
    assert_int_equal(check(g, NULL), 0);
    prog(g, MIR + HDR + NB * SLOT + 20, &zero, 1); /* and the mirror's commit */
    assert_int_equal(check(g, "no COMPLETE"), -1);
}

/* Both copies, from their headers: the given entries, then every block
 * and COMPLETE. */
static void log_then_complete(struct rig *g, const uint8_t *types,
                              const uint32_t *a0, const uint32_t *a1, int n)
{
    int c, k;
    uint32_t i;
    for (c = 0; c < 2; c++) {
        header(g, c, 1, IMG);
        for (k = 0; k < n; k++)
            if (types[k] == 0xB1)
                block(g, c, a0[k]);
            else
                slot(g, c, types[k], a0[k], a1[k], NULL);
        for (i = 0; i < NB; i++)
            block(g, c, i);
        slot(g, c, 0xC3, NB, IMG, NULL);
    }
}

/* Section 4: a VOID goes over live records; one over none is a writer
 * that voids what it never wrote (a wasted slot per erase group). */
static void test_void_over_no_live_record(void **state)
{
    struct rig *g = *state;
    const uint8_t t[] = {0xB1, 0x70};
    const uint32_t a0[] = {0, 2}, a1[] = {0, 2};
    log_then_complete(g, t, a0, a1, 2);
    assert_int_equal(check(g, "slot 1: VOID(2, 2) covers no live record"), -1);
}

/* Section 7, row 13: the last VOID written again at the next boot. */
static void test_void_repeated_is_allowed(void **state)
{
    struct rig *g = *state;
    const uint8_t t[] = {0xB1, 0x70, 0x70};
    const uint32_t a0[] = {1, 0, 0}, a1[] = {0, 2, 2};
    log_then_complete(g, t, a0, a1, 3);
    assert_int_equal(check(g, NULL), 0);
}

/* A torn slot may have read valid to its writer: a VOID after it is not
 * judged. */
static void test_void_after_a_torn_slot_is_not_judged(void **state)
{
    struct rig *g = *state;
    uint8_t body[16];
    int c;
    uint32_t i;
    memset(body, 0, sizeof(body));
    body[0] = 0xB1;
    for (c = 0; c < 2; c++) {
        header(g, c, 1, IMG);
        /* body programmed, check value and commit never */
        prog(g, (c ? MIR : REC) + HDR, body, sizeof(body));
        g->next[c]++;
        slot(g, c, 0x70, 0, 1, NULL);
        for (i = 0; i < NB; i++)
            block(g, c, i);
        slot(g, c, 0xC3, NB, IMG, NULL);
    }
    assert_int_equal(check(g, NULL), 0);
}

static void test_malformed_valid_slot(void **state)
{
    struct rig *g = *state;
    complete(g, 1);
    slot(g, 0, 0x5A, 0, 0, NULL);
    assert_int_equal(check(g, "is none of BLOCK, VOID, COMPLETE"), -1);
}

static void test_block_past_the_image(void **state)
{
    struct rig *g = *state;
    uint8_t h[4] = {0};
    complete(g, 1);
    slot(g, 1, 0xB1, NB, 0, h);
    assert_int_equal(check(g, "BLOCK(4, 0) for an image of 4 blocks"), -1);
}

static void test_live_block_with_another_hash(void **state)
{
    struct rig *g = *state;
    uint8_t h[4] = {1, 2, 3, 4};
    int c;
    uint32_t i;
    for (c = 0; c < 2; c++) {
        header(g, c, 1, IMG);
        for (i = 0; i < NB; i++)
            if (i == 2)
                slot(g, c, 0xB1, i, 0, h);
            else
                block(g, c, i);
        slot(g, c, 0xC3, NB, IMG, NULL);
    }
    assert_int_equal(check(g, "BLOCK(2) records a hash"), -1);
}

/* Section 7, row 5: two generations mean a cut compaction; the older copy
 * is the log. */
static void test_older_generation_is_the_log(void **state)
{
    struct rig *g = *state;
    uint32_t i;
    header(g, 1, 1, IMG); /* mirror: generation 1, whole */
    for (i = 0; i < NB; i++)
        block(g, 1, i);
    slot(g, 1, 0xC3, NB, IMG, NULL);
    header(g, 0, 2, IMG); /* primary: generation 2, being rebuilt */
    block(g, 0, 0);
    assert_int_equal(check(g, NULL), 0);
}

/* An area the real engine wrote: the two readers agree. */
static void write_with_engine(struct rig *g, uint32_t ps)
{
    static uint32_t work[2048];
    struct fwr f;
    struct fwr_config c;
    uint32_t off, len;

    memset(&c, 0, sizeof(c));
    sim_flash_fwr_ops(g->dev, &c.flash);
    c.geometry.prog_size = ps;
    c.geometry.erase_size = 4096;
    c.geometry.erased_value = 0xFF;
    c.geometry.kind = FWR_FLASH_NOR;
    c.layout.record_addr = REC;
    c.layout.record_size = RSIZE;
    c.layout.mirror_addr = MIR;
    c.layout.data_addr = DATA;
    c.layout.data_size = IMG;
    c.block_size = BS;
    c.block_hash = &g->hash.ops;
    c.work = work;
    c.work_size = sizeof(work);
    assert_int_equal(fwr_init(&f, &c), 0);
    assert_int_equal(fwr_begin(&f, &g->id), 0);
    while (fwr_state(&f) != FWR_STATE_COMPLETE) {
        int rc;
        assert_int_equal(fwr_next_range(&f, &off, &len), 0);
        rc = fwr_feed(&f, g->img + off, len);
        if (rc != (int)len)
            fail_msg("fwr_feed at %u+%u: %d, violation %d", off, len, rc,
                     sim_flash_first_violation(g->dev)->kind);
    }
    g->r.prog_size = ps;
}

static void test_engine_written_area(void **state)
{
    struct rig *g = *state;
    write_with_engine(g, 1);
    assert_int_equal(check(g, NULL), 0);
}

/* Program units of 16 bytes (MCU flash): slots and headers carry padding,
 * which the format says reads erased. A byte of slot 0's commit padding
 * that does not (a writer that left staging bytes there) is malformed. */
static void test_padding_reads_erased(void **state)
{
    struct rig *g = *state;
    uint8_t zero = 0x00;
    write_with_engine(g, 16);
    assert_int_equal(check(g, NULL), 0);
    /* ps 16, CRC-32: header 96 + 16, slot body 32, commit 32..35,
     * padding 36..47; the engine locked both copies */
    assert_int_equal(sim_flash_protect(g->dev, REC, RSIZE, false), 0);
    assert_int_equal(sim_flash_protect(g->dev, MIR, RSIZE, false), 0);
    prog(g, REC + 112 + 40, &zero, 1);
    prog(g, MIR + 112 + 40, &zero, 1);
    assert_int_equal(check(g, "slot 0: BLOCK: padding byte 40 reads 0x00"),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_complete_area_reads_complete,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_wrong_check_value_is_no_header,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_header_of_another_image_does_not_count, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_void_after_complete_is_not_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_complete_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_torn_slot_in_one_copy_is_served_by_the_other, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_void_over_no_live_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_void_repeated_is_allowed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_void_after_a_torn_slot_is_not_judged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_valid_slot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_block_past_the_image, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_live_block_with_another_hash,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_generation_is_the_log,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_padding_reads_erased, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_engine_written_area, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
