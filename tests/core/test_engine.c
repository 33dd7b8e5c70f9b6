/*
 * fwresume behaviour, against the in-memory flash double: power cut at
 * every program and erase on NOR, MCU and NAND geometries; torn records;
 * image changes; mirror; digest; lock; program failures; bad units;
 * configuration refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flash_double.h"
#include "fwr_skipbad.h"
#include "fwresume.h"

#define IMG_MAX (1u << 20)

static uint8_t img[IMG_MAX];
static uint32_t work[8192];

struct setup {
    uint32_t dev, prog, erase;
    int nand;
    uint32_t block, write, image, rec;
    int torn, verify, mirror;
    uint32_t session; /* bytes fed per boot before the context is dropped
                         (a clean reboot); 0: no limit */
};

/* Highest record generation any run reached (compaction happened). */
static uint32_t max_gen;

static const struct setup nor_4k = {
    1u << 20,        1, 4096, 0, 4096, 256, 65536, 8192, FD_TORN_PREFIX,
    FWR_VERIFY_FULL, 1, 0};

static void fill_image(uint32_t seed)
{
    uint32_t i, x = seed * 2654435761u + 1u;
    for (i = 0; i < IMG_MAX; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        img[i] = (uint8_t)x;
    }
}

static void make_cfg(struct fwr_config *c, struct flash_double *d,
                     const struct setup *s)
{
    memset(c, 0, sizeof(*c));
    fd_ops(d, &c->flash);
    c->geometry.prog_size = s->prog;
    c->geometry.erase_size = s->erase;
    c->geometry.erased_value = 0xFF;
    c->geometry.kind = (uint8_t)s->nand;
    c->layout.record_addr = s->erase;
    c->layout.record_size = s->rec;
    c->layout.mirror_addr = s->mirror ? s->erase + s->rec : FWR_NO_MIRROR;
    c->layout.data_addr = s->erase + 2u * s->rec;
    c->layout.data_size = s->dev - c->layout.data_addr - s->erase;
    c->block_size = s->block;
    c->write_size = s->write;
    c->verify = (uint8_t)s->verify;
    c->work = work;
    c->work_size = sizeof(work);
}

static void make_image(struct fwr_image *im, uint32_t size, const char *ver)
{
    struct fwr_crc32_ctx cc;
    struct fwr_hash_ops h;

    memset(im, 0, sizeof(*im));
    im->size = size;
    im->digest_kind = FWR_HASH_CRC32;
    im->digest_len = 4;
    fwr_hash_crc32(&h, &cc);
    h.start(&cc);
    h.update(&cc, img, size);
    h.finish(&cc, im->digest);
    im->version_len = (uint8_t)strlen(ver);
    memcpy(im->version, ver, im->version_len);
}

static int done_blocks_lie(const struct flash_double *d,
                           const struct fwr_config *c, const struct fwr *f)
{
    uint32_t i, bs = c->block_size;
    for (i = 0; i * bs < f->image.size; i++) {
        uint32_t n = f->image.size - i * bs < bs ? f->image.size - i * bs : bs;
        if (fwr_block_done(f, i) &&
            memcmp(d->mem + c->layout.data_addr + i * bs, img + i * bs, n))
            return 1;
    }
    return 0;
}

/* Boot and download until complete, the device dies, `budget` bytes were
 * fed (0: no limit) or an error; bytes fed are added to *bytes. Returns 0,
 * 1 when power went, 2 when the budget ran out, or an error. */
static int run(struct flash_double *d, const struct fwr_config *c,
               const struct fwr_image *im, uint32_t *bytes, uint32_t budget)
{
    struct fwr f;
    uint32_t off, len, fed = 0;
    int rc, guard;

    rc = fwr_init(&f, c);
    if (rc)
        return rc;
    rc = fwr_begin(&f, im);
    if (rc)
        return d->off ? 1 : rc;
    /* The oracle: no block taken as done may differ from the image. */
    if (done_blocks_lie(d, c, &f))
        return -98;
    for (guard = 0; guard < 100000; guard++) {
        if (f.generation > max_gen)
            max_gen = f.generation;
        if (fwr_state(&f) == FWR_STATE_COMPLETE)
            return 0;
        rc = fwr_next_range(&f, &off, &len);
        if (rc)
            return d->off ? 1 : rc;
        while (len) {
            uint32_t n = len > 1000 ? 1000 : len;
            if (budget && fed >= budget)
                return 2;
            rc = fwr_feed(&f, img + off, n);
            if (rc == FWR_E_AGAIN)
                break;
            if (rc < 0)
                return d->off ? 1 : rc;
            *bytes += n;
            fed += n;
            off += n;
            len -= n;
        }
    }
    return -99;
}

/* Boot until complete: power-on after a cut, reboot after a session. A
 * second cut `cut2` writes after the first one lands during recovery. */
static int boot_until_done(struct flash_double *d, const struct fwr_config *c,
                           const struct fwr_image *im, const struct setup *s,
                           uint32_t cut2, uint32_t *ops)
{
    uint32_t bytes = 0, boots;
    int rc = 2, cut = 0;

    for (boots = 0; boots < 2000 && (rc == 1 || rc == 2); boots++) {
        if (rc == 1) {
            fd_power_on(d);
            if (cut2 && !cut++)
                d->cut_at = d->ops + cut2;
        }
        rc = run(d, c, im, &bytes, s->session);
    }
    if (ops)
        *ops = d->ops;
    return rc;
}

/* One trial: cut at write number `cut` (0: none), and at `cut2` writes into
 * the recovery (0: none); reboot until done; judge. */
static void trial2(const struct setup *s, uint32_t cut, uint32_t cut2,
                   uint32_t *ops)
{
    struct flash_double d;
    struct fwr_config c;
    struct fwr_image im;
    int rc;

    assert_int_equal(fd_init(&d, s->dev, s->prog, s->erase, s->nand), 0);
    d.torn = s->torn;
    d.cut_at = cut;
    d.rng += cut * 7919u + cut2;
    make_cfg(&c, &d, s);
    make_image(&im, s->image, "v1");
    rc = boot_until_done(&d, &c, &im, s, cut2, ops);
    if (rc != 0 || d.violations != 0 ||
        memcmp(d.mem + c.layout.data_addr, img, s->image) != 0 ||
        d.lo_written < c.layout.record_addr ||
        d.hi_written > c.layout.data_addr + c.layout.data_size)
        fail_msg("cut %u/%u: rc %d, violations %u, data %s, span 0x%x-0x%x",
                 cut, cut2, rc, d.violations,
                 memcmp(d.mem + c.layout.data_addr, img, s->image) ? "differs"
                                                                   : "ok",
                 d.lo_written, d.hi_written);
    fd_free(&d);
}

static void trial(const struct setup *s, uint32_t cut, uint32_t *ops)
{
    trial2(s, cut, 0, ops);
}

static void every_cut(const struct setup *s)
{
    uint32_t n, k;
    trial(s, 0, &n);
    assert_true(n > 10);
    for (k = 1; k <= n; k++)
        trial(s, k, NULL);
}

static void test_cuts_nor_prefix(void **state)
{
    (void)state;
    every_cut(&nor_4k);
}

static void test_cuts_nor_random_bits(void **state)
{
    struct setup s = nor_4k;
    (void)state;
    s.torn = FD_TORN_RANDOM;
    every_cut(&s);
}

static void test_cuts_nor_nothing_applied(void **state)
{
    struct setup s = nor_4k;
    (void)state;
    s.torn = FD_TORN_NONE;
    every_cut(&s);
}

static void test_cuts_small_blocks(void **state)
{
    struct setup s = nor_4k;
    (void)state;
    s.block = 1024;
    s.image = 65000; /* short last block too */
    s.torn = FD_TORN_RANDOM;
    every_cut(&s);
}

static void test_cuts_big_blocks(void **state)
{
    struct setup s = nor_4k;
    (void)state;
    s.block = 16384;
    every_cut(&s);
}

static void test_cuts_trusted(void **state)
{
    struct setup s = nor_4k;
    (void)state;
    s.verify = FWR_VERIFY_TRUSTED;
    s.torn = FD_TORN_RANDOM;
    every_cut(&s);
}

static void test_cuts_no_mirror(void **state)
{
    struct setup s = nor_4k;
    (void)state;
    s.mirror = 0;
    every_cut(&s);
}

static void test_cuts_mcu_wide_program(void **state)
{
    struct setup s = {
        1u << 20,        16, 16384, 0, 4096, 256, 65536, 16384, FD_TORN_RANDOM,
        FWR_VERIFY_FULL, 1,  0};
    (void)state;
    every_cut(&s);
}

static void test_cuts_nand(void **state)
{
    struct setup s = {
        2u << 20, 2048,           131072,          1, 131072, 2048, 600000,
        131072,   FD_TORN_RANDOM, FWR_VERIFY_FULL, 1, 0};
    (void)state;
    every_cut(&s);
}

static void test_cuts_nand_small_blocks(void **state)
{
    struct setup s = {
        2u << 20, 2048,           131072,          1, 16384, 2048, 300000,
        262144,   FD_TORN_RANDOM, FWR_VERIFY_FULL, 1, 0};
    (void)state;
    every_cut(&s);
}

/* ---------------------------------------------------------------- */

struct rig {
    struct flash_double d;
    struct fwr_config c;
    struct fwr_image im;
    struct fwr f;
};

static void rig_up(struct rig *r, const struct setup *s)
{
    assert_int_equal(fd_init(&r->d, s->dev, s->prog, s->erase, s->nand), 0);
    make_cfg(&r->c, &r->d, s);
    make_image(&r->im, s->image, "v1");
}

/* Power on: a fresh context over the rig's flash, begun (resumed) on its
 * image. */
static void boot(struct rig *r)
{
    assert_int_equal(fwr_init(&r->f, &r->c), 0);
    assert_int_equal(fwr_begin(&r->f, &r->im), 0);
}

/* The next boot finds the 64 KiB image of 4 KiB blocks complete, every
 * block resumed, and nothing was programmed twice; frees the rig. */
static void reboot_resumes_all_16(struct rig *r)
{
    struct fwr_progress p;
    boot(r);
    fwr_get_progress(&r->f, &p);
    assert_int_equal(fwr_state(&r->f), FWR_STATE_COMPLETE);
    assert_int_equal(p.blocks_resumed, 16);
    assert_int_equal(r->d.violations, 0);
    fd_free(&r->d);
}

/* Feed exactly `count` bytes of what the engine asks for. */
static int feed_some(struct fwr *f, uint32_t count, const uint8_t *src)
{
    uint32_t off, len;
    int rc;
    while (count) {
        rc = fwr_next_range(f, &off, &len);
        if (rc || !len)
            return rc;
        if (len > count)
            len = count;
        rc = fwr_feed(f, src + off, len);
        if (rc < 0 && rc != FWR_E_AGAIN)
            return rc;
        if (rc > 0)
            count -= len;
    }
    return 0;
}

static void test_resume_redownloads_only_missing(void **state)
{
    struct rig r;
    struct fwr_progress p;
    uint32_t off, len;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY);
    assert_int_equal(feed_some(&r.f, 10 * 4096 + 100, img), 0);
    /* Power cut: the context is abandoned. A new one resumes. */
    boot(&r);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_DOWNLOADING);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 10);
    assert_int_equal(p.blocks_total, 16);
    assert_int_equal(p.bytes_wanted, 6 * 4096);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(off, 10 * 4096);
    assert_int_equal(len, 6 * 4096);
    assert_int_equal(fwr_feed(&r.f, img + off, len), (int)len);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    fd_free(&r.d);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* The on-flash format is a contract with every device already in the
 * field: header and slot bytes at the offsets docs/record-format.md gives
 * (an engine that reads back what it writes is self-consistent whatever
 * the layout; mutation testing showed these bytes were never checked). */
static void test_on_flash_format_as_documented(void **state)
{
    struct rig r;
    const uint8_t *h, *slot;
    uint32_t k, hdr = 96, slot_size = 24; /* NOR, ps 1, CRC-32 blocks */
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 2 * 4096, img), 0);
    h = r.d.mem + r.c.layout.record_addr;
    assert_int_equal(le32(h), 0x48525746u);   /* "FWRH" */
    assert_int_equal(h[4], 1);                /* format version */
    assert_int_equal(h[5], FWR_HASH_CRC32);   /* block hash kind */
    assert_int_equal(h[6], r.im.digest_kind); /* digest kind */
    assert_int_equal(h[7], r.im.digest_len);  /* digest length */
    assert_int_equal(h[8], r.im.version_len); /* version length */
    assert_int_equal(h[9] | h[10] | h[11], 0);
    assert_int_equal(le32(h + 12), 65536); /* image size */
    assert_int_equal(le32(h + 16), 4096);  /* block size */
    assert_int_equal(le32(h + 20), 1);     /* generation */
    assert_memory_equal(h + 24, r.im.digest, r.im.digest_len);
    assert_memory_equal(h + 56, r.im.version, r.im.version_len);
    assert_int_equal(le32(h + 88), fwr_crc32(0, h, 88));
    assert_int_equal(le32(h + 92), 0xC3A5E15Au); /* commit */
    for (k = 0; k < 2; k++) {
        slot = h + hdr + k * slot_size;
        assert_int_equal(slot[0], 0xB1); /* BLOCK */
        assert_int_equal(slot[1], 4);    /* H */
        assert_int_equal(slot[2] | slot[3], 0);
        assert_int_equal(le32(slot + 4), k); /* block index */
        assert_int_equal(le32(slot + 8), 0);
        assert_int_equal(le32(slot + 12 + 4), fwr_crc32(0, slot, 16));
        assert_int_equal(le32(slot + 20), 0xC3A5E15Au);
    }
    /* The mirror holds the same bytes at the same offsets. */
    assert_memory_equal(r.d.mem + r.c.layout.mirror_addr, h,
                        hdr + 2 * slot_size);
    fd_free(&r.d);
}

/* A read op that fails with a bus error once armed. */
static struct fwr_flash_ops io_lower;
static int io_armed;
static int io_read(void *user, uint32_t addr, void *buf, uint32_t len)
{
    if (io_armed)
        return -5;
    return io_lower.read(user, addr, buf, len);
}

/* A flash I/O error stops the engine: state FAILED, the error kept, and
 * every later call refused with it (not a download that carries on over
 * a bus it cannot trust). */
static void test_io_error_is_fatal(void **state)
{
    struct rig r;
    uint32_t off, len;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 4096, img), 0);
    io_lower = r.c.flash;
    r.c.flash.read = io_read;
    io_armed = 1;
    assert_int_equal(fwr_init(&r.f, &r.c), 0);
    assert_int_equal(fwr_begin(&r.f, &r.im), FWR_E_IO);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    assert_int_equal(fwr_last_error(&r.f), FWR_E_IO);
    io_armed = 0;
    assert_true(fwr_next_range(&r.f, &off, &len) < 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    r.c.flash = io_lower;
    fd_free(&r.d);
}

static void test_corrupt_data_is_redownloaded(void **state)
{
    struct rig r;
    struct fwr_progress p;
    uint32_t off, len;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 8 * 4096, img), 0);
    fd_flip(&r.d, r.c.layout.data_addr + 3 * 4096 + 77, 2);
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 7);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(off, 3 * 4096);
    assert_int_equal(len, 4096);
    assert_int_equal(fwr_feed(&r.f, img + off, len), (int)len);
    assert_int_equal(feed_some(&r.f, 8 * 4096, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

static void test_trusted_skips_rehash_then_digest_catches(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr_progress p;
    (void)state;
    s.verify = FWR_VERIFY_TRUSTED;
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 8 * 4096, img), 0);
    fd_flip(&r.d, r.c.layout.data_addr + 3 * 4096 + 77, 2);
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 8); /* trusted: no re-hash */
    assert_int_equal(feed_some(&r.f, 8 * 4096, img), 0);
    /* The digest failed, the fallback scan found block 3. */
    assert_int_equal(fwr_state(&r.f), FWR_STATE_DOWNLOADING);
    assert_int_equal(feed_some(&r.f, 4096, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    fd_free(&r.d);
}

/* Under trusted, a compaction must not launder bits lost while off into
 * fresh records: it checks the old records first, so the damaged block is
 * downloaded again, and the final digest passes without a restart. */
static void test_trusted_compaction_checks_before_rehashing(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr_progress p;
    uint32_t boots = 0, gen0;
    (void)state;
    s.verify = FWR_VERIFY_TRUSTED;
    s.block = 512;
    s.image = 61440; /* 120 blocks: the minimum record area is tight */
    s.rec = FWR_RECORD_AREA_SIZE(s.prog, s.erase, 4, s.block, s.image);
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 30 * 512, img), 0);
    fd_flip(&r.d, r.c.layout.data_addr + 3 * 512 + 9, 5); /* lost while off */
    gen0 = r.d.mem[r.c.layout.record_addr + 20];
    /* Reboots mid-group (15 blocks a boot in groups of 8) fill the log. */
    while (fwr_state(&r.f) != FWR_STATE_COMPLETE &&
           r.d.mem[r.c.layout.record_addr + 20] == gen0 && boots++ < 100) {
        boot(&r);
        assert_int_equal(feed_some(&r.f, 15 * 512, img), 0);
    }
    assert_true(r.d.mem[r.c.layout.record_addr + 20] > gen0); /* compacted */
    assert_int_equal(feed_some(&r.f, s.image, img), 0);
    while (fwr_state(&r.f) != FWR_STATE_COMPLETE && boots++ < 200)
        assert_int_equal(feed_some(&r.f, s.image, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.restarts, 0); /* found, not restarted */
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, s.image);
    fd_free(&r.d);
}

static void test_torn_record_is_never_valid(void **state)
{
    struct rig r;
    struct fwr_progress p;
    uint32_t slot0, i;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 2 * 4096, img), 0);
    /* Block 0's record is the first slot after the header in both copies:
     * wreck its check value in one copy and its commit in the other. */
    slot0 = r.f.hdr_size;
    for (i = 0; i < 2; i++) {
        uint32_t base = i ? r.c.layout.mirror_addr : r.c.layout.record_addr;
        uint32_t slot = base + slot0; /* block 0: the first slot */
        r.d.mem[slot + (i ? r.f.slot_size - 4 : 16)] ^= 0x10;
    }
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 1);
    fd_free(&r.d);
}

static void test_mirror_bitflip_costs_nothing(void **state)
{
    struct rig r;
    struct fwr_progress p;
    uint32_t slot;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 4 * 4096, img), 0);
    slot = r.c.layout.record_addr + r.f.hdr_size;
    fd_flip(&r.d, slot + 5, 0); /* primary record of block 0 */
    fd_flip(&r.d, r.c.layout.mirror_addr + r.f.hdr_size + r.f.slot_size + 6,
            3); /* mirror record of block 1 */
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 4);
    fd_free(&r.d);
}

static void test_new_image_voids_old_records(void **state)
{
    struct rig r;
    struct fwr_image v2;
    struct fwr_progress p;
    uint32_t n, k;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 12 * 4096, img), 0);
    /* Same size, same bytes for the first blocks, new version: nothing of
     * the old download may count, also when power fails while voiding. */
    make_image(&v2, 65536, "v2");
    n = r.d.ops;
    assert_int_equal(fwr_init(&r.f, &r.c), 0);
    assert_int_equal(fwr_begin(&r.f, &v2), 0);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 0);
    n = r.d.ops - n; /* writes spent voiding */
    assert_true(n >= 2);
    fd_free(&r.d);

    for (k = 1; k <= n; k++) {
        rig_up(&r, &nor_4k);
        r.d.torn = FD_TORN_RANDOM;
        assert_int_equal(fwr_init(&r.f, &r.c), 0);
        assert_int_equal(fwr_begin(&r.f, &r.im), 0);
        assert_int_equal(feed_some(&r.f, 12 * 4096, img), 0);
        r.d.cut_at = r.d.ops + k;
        assert_int_equal(fwr_init(&r.f, &r.c), 0);
        (void)fwr_begin(&r.f, &v2);
        assert_true(r.d.off);
        fd_power_on(&r.d);
        assert_int_equal(fwr_init(&r.f, &r.c), 0);
        assert_int_equal(fwr_begin(&r.f, &v2), 0);
        fwr_get_progress(&r.f, &p);
        assert_int_equal(p.blocks_resumed, 0);
        fd_free(&r.d);
    }
}

static void test_complete_locks_and_refuses(void **state)
{
    struct rig r;
    uint32_t ops, off, len;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_int_equal(r.d.prot_addr, r.c.layout.mirror_addr);
    assert_int_equal(fwr_feed(&r.f, img, 16), FWR_E_LOCKED);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(len, 0);
    /* A reboot finds it complete and writes nothing. */
    ops = r.d.ops;
    boot(&r);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_int_equal(r.d.ops, ops);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

static void test_digest_mismatch_restarts_then_fails(void **state)
{
    struct rig r;
    static uint8_t bad[65536];
    struct fwr_progress p;
    (void)state;
    rig_up(&r, &nor_4k);
    memcpy(bad, img, sizeof(bad));
    bad[5000] ^= 1; /* the link corrupts a byte: its block hash agrees */
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, bad), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY); /* restarted */
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.restarts, 1);
    assert_int_equal(feed_some(&r.f, 65536, bad), FWR_E_DIGEST);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    assert_int_equal(fwr_last_error(&r.f), FWR_E_DIGEST);
    {
        /* Later calls are refused without hiding why it stopped. */
        uint32_t off, len;
        assert_int_equal(fwr_next_range(&r.f, &off, &len), FWR_E_STATE);
        assert_int_equal(fwr_feed(&r.f, img, 1), FWR_E_STATE);
        assert_int_equal(fwr_last_error(&r.f), FWR_E_DIGEST);
    }
    /* A clean download after the restart completes. */
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fd_free(&r.d);
}

/* The digest hand-over (fwresume.h, struct fwr_image): a CRC-32 given as
 * the number, as zlib's crc32() returns it and a manifest tool prints it
 * ("crc32 image.bin" says 1c291ca3), completes; the same number copied as
 * a little-endian uint32 field into digest[] (the trap) fails at the end
 * with FWR_E_DIGEST_ORDER, without the whole-image restart a real
 * mismatch gets. MD5/SHA-256 are bytes; CRC-32 as bytes is refused. */
static void test_digest_hand_over(void **state)
{
    struct rig r;
    struct fwr_progress p;
    uint32_t crc = 0, le;
    uint8_t sha[32];
    (void)state;
    rig_up(&r, &nor_4k);
    crc = fwr_crc32(0, img, r.im.size);
    /* The one easy way. */
    memset(r.im.digest, 0, sizeof(r.im.digest));
    assert_int_equal(fwr_image_set_crc32(&r.im, crc), 0);
    assert_int_equal(r.im.digest_kind, FWR_HASH_CRC32);
    assert_int_equal(r.im.digest_len, 4);
    assert_int_equal(r.im.digest[0], (uint8_t)(crc >> 24)); /* big-endian */
    boot(&r);
    assert_int_equal(feed_some(&r.f, r.im.size, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fd_free(&r.d);

    /* The trap: the manifest's little-endian uint32 memcpy'd. */
    rig_up(&r, &nor_4k);
    le = crc; /* this host is little-endian, as the manifests are */
    memcpy(r.im.digest, &le, 4);
    assert_int_not_equal(r.im.digest[0], (uint8_t)(crc >> 24));
    boot(&r);
    assert_int_equal(feed_some(&r.f, r.im.size, img), FWR_E_DIGEST_ORDER);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.restarts, 0); /* nothing downloaded again */
    fd_free(&r.d);

    /* What manifest tools hand over, each the documented way, gives the
     * digest that completed above: the crc32 tool's hex text as a number,
     * and a manifest's little-endian uint32 field decoded as one. */
    {
        char text[16];
        uint8_t field[4] = {(uint8_t)crc, (uint8_t)(crc >> 8),
                            (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};
        struct fwr_image a = {.size = 1}, b = {.size = 1};
        uint8_t want[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16),
                           (uint8_t)(crc >> 8), (uint8_t)crc};
        snprintf(text, sizeof(text), "%08x", (unsigned)crc);
        assert_int_equal(
            fwr_image_set_crc32(&a, (uint32_t)strtoul(text, NULL, 16)), 0);
        assert_memory_equal(a.digest, want, 4);
        assert_int_equal(fwr_image_set_crc32(&b, (uint32_t)field[0] |
                                                     (uint32_t)field[1] << 8 |
                                                     (uint32_t)field[2] << 16 |
                                                     (uint32_t)field[3] << 24),
                         0);
        assert_memory_equal(b.digest, want, 4);
    }
    /* sha256sum's text, hex-decoded in order, is the byte form. */
    {
        static const char *hex = "e3b0c44298fc1c149afbf4c8996fb924"
                                 "27ae41e4649b934ca495991b7852b855";
        struct fwr_image e = {.size = 1};
        for (int i = 0; i < 32; i++) {
            char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
            sha[i] = (uint8_t)strtoul(two, NULL, 16);
        }
        assert_int_equal(fwr_image_set_digest(&e, FWR_HASH_SHA256, sha, 32), 0);
        assert_int_equal(e.digest[0], 0xe3);
        assert_int_equal(e.digest[31], 0x55);
    }

    /* Bytes for MD5/SHA-256 only, of their length. */
    memset(sha, 0xAB, sizeof(sha));
    assert_int_equal(fwr_image_set_digest(&r.im, FWR_HASH_SHA256, sha, 32), 0);
    assert_int_equal(r.im.digest_kind, FWR_HASH_SHA256);
    assert_memory_equal(r.im.digest, sha, 32);
    assert_int_equal(fwr_image_set_digest(&r.im, FWR_HASH_SHA256, sha, 31),
                     FWR_E_INVAL);
    assert_int_equal(fwr_image_set_digest(&r.im, FWR_HASH_MD5, sha, 16), 0);
    assert_int_equal(fwr_image_set_digest(&r.im, FWR_HASH_CRC32, sha, 4),
                     FWR_E_INVAL);
    assert_int_equal(fwr_image_set_digest(&r.im, FWR_HASH_NONE, sha, 0),
                     FWR_E_INVAL);
    assert_int_equal(fwr_image_set_crc32(NULL, crc), FWR_E_INVAL);
}

static void test_program_failure_retried_then_reported(void **state)
{
    struct rig r;
    (void)state;
    rig_up(&r, &nor_4k);
    r.d.fail_prog_at = 30; /* one worn program */
    r.d.fail_prog_count = 1;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);

    rig_up(&r, &nor_4k);
    r.d.fail_prog_at = 30; /* worn for good */
    r.d.fail_prog_count = 100000;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), FWR_E_PROG);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    fd_free(&r.d);
}

/* A record slot whose program silently lost a bit fails its read-back:
 * the slot is abandoned and the entry written to the next one, so a
 * reboot finds every block's record (taking the failed read-back for a
 * success would leave a block without one, to download again; with a
 * mirror the other copy hides it). */
static void test_failed_record_readback_rewrites_the_entry(void **state)
{
    static uint32_t log[4096][2];
    struct setup s = nor_4k;
    struct rig r;
    uint32_t k, n = 0, target = 0;
    (void)state;
    s.mirror = 0; /* no second copy to serve the lost slot */
    rig_up(&r, &s);
    r.d.log = log;
    r.d.log_cap = 4096;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    /* The third program into the primary's slots (past its header). */
    for (k = 0; k < r.d.log_n && !target; k++)
        if (log[k][0] >= r.c.layout.record_addr + 96 &&
            log[k][0] < r.c.layout.record_addr + r.c.layout.record_size &&
            ++n == 3)
            target = k + 1;
    assert_true(target > 0);
    fd_free(&r.d);

    rig_up(&r, &s);
    r.d.fail_prog_at = target; /* that program leaves one bit at 1 */
    r.d.fail_prog_count = 1;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    reboot_resumes_all_16(&r);
}

static void test_bad_units_are_skipped(void **state)
{
    struct setup s = {
        2u << 20, 2048,         131072,          1, 131072, 2048, 300000,
        131072,   FD_TORN_NONE, FWR_VERIFY_FULL, 1, 0};
    struct rig r;
    struct fwr_skipbad sb;
    struct fwr_flash_ops raw;
    uint32_t data_unit0;
    (void)state;
    rig_up(&r, &s);
    data_unit0 = r.c.layout.data_addr / s.erase;
    r.d.bad_unit_mask = 1u << (data_unit0 + 1); /* second data unit bad */
    fd_ops(&r.d, &raw);
    fwr_skipbad_init(&sb, &raw, fd_is_bad, &r.c.layout, s.erase, &r.c.flash);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 300000, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 131072);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr + 2 * 131072,
                        img + 131072, 300000 - 131072);
    /* The bad unit was never touched (old contents remain). */
    assert_int_equal(r.d.mem[r.c.layout.data_addr + 131072], 0x5A);
    fd_free(&r.d);

    /* No spare unit for the bad one: the engine stops with the layer's
     * FWR_E_BADBLOCK when it needs the third unit, not a generic error. */
    rig_up(&r, &s);
    r.d.bad_unit_mask = 1u << (data_unit0 + 1);
    r.c.layout.data_size = 3 * 131072;
    fd_ops(&r.d, &raw);
    fwr_skipbad_init(&sb, &raw, fd_is_bad, &r.c.layout, s.erase, &r.c.flash);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 300000, img), FWR_E_BADBLOCK);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    assert_int_equal(fwr_last_error(&r.f), FWR_E_BADBLOCK);
    fd_free(&r.d);
}

static void test_config_refusals(void **state)
{
    struct rig r;
    struct fwr f;
    struct fwr_image im;
    (void)state;
    rig_up(&r, &nor_4k);

    r.c.geometry.prog_size = 16;
    r.c.block_size = 4100; /* not a multiple of the program unit */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    r.c.geometry.prog_size = 1;
    r.c.block_size = 6144; /* neither divides nor is divided by 4 KiB */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    r.c.block_size = 4096;
    r.c.layout.data_addr = r.c.layout.record_addr; /* overlap */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.layout.record_addr += 100; /* misaligned */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.flash.program = NULL;
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_INVAL);

    /* Record area too small for 1 MiB in 1 KiB blocks. */
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.block_size = 1024;
    r.c.layout.data_size = 1u << 19;
    assert_int_equal(fwr_init(&f, &r.c), 0);
    make_image(&im, 1u << 19, "big");
    assert_int_equal(fwr_begin(&f, &im), FWR_E_NOSPC);
    assert_true(FWR_RECORD_AREA_SIZE(1, 4096, 4, 1024, 1u << 19) > 8192);

    /* Trusted needs a digest. */
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.verify = FWR_VERIFY_TRUSTED;
    assert_int_equal(fwr_init(&f, &r.c), 0);
    make_image(&im, 65536, "v1");
    im.digest_kind = FWR_HASH_NONE;
    im.digest_len = 0;
    assert_int_equal(fwr_begin(&f, &im), FWR_E_INVAL);

    /* Image larger than the data area. */
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.layout.data_size = 32768;
    assert_int_equal(fwr_init(&f, &r.c), 0);
    make_image(&im, 65536, "v1");
    assert_int_equal(fwr_begin(&f, &im), FWR_E_NOSPC);
    fd_free(&r.d);
}

static void test_cuts_nor_unstable_bits(void **state)
{
    struct setup s = nor_4k;
    (void)state;
    s.torn = FD_TORN_UNSTABLE;
    every_cut(&s);
    s.block = 1024;
    s.verify = FWR_VERIFY_TRUSTED;
    every_cut(&s);
}

static void test_cuts_nand_unstable_bits(void **state)
{
    struct setup s = {2u << 20,
                      2048,
                      131072,
                      1,
                      16384,
                      2048,
                      300000,
                      262144,
                      FD_TORN_UNSTABLE,
                      FWR_VERIFY_FULL,
                      1,
                      0};
    (void)state;
    every_cut(&s);
}

/* Many short sessions on a record area of exactly FWR_RECORD_AREA_SIZE:
 * the log fills and is compacted into new generations; a cut at every
 * write, compaction included. */
static void test_cuts_through_compaction(void **state)
{
    struct setup s = nor_4k;
    (void)state;
    s.block = 512;
    s.image = 61440; /* 120 blocks: the minimum record area is tight */
    s.session = 6000;
    s.torn = FD_TORN_RANDOM;
    s.rec = FWR_RECORD_AREA_SIZE(s.prog, s.erase, 4, s.block, s.image);
    assert_int_equal(s.rec, 4096);
    max_gen = 0;
    every_cut(&s);
    assert_true(max_gen >= 2); /* compaction did happen */
    max_gen = 0;
    s.mirror = 0;
    every_cut(&s);
    assert_true(max_gen >= 2);
}

/* A second power cut during the recovery from the first, sampled. */
static void test_double_cuts(void **state)
{
    struct setup s = nor_4k;
    uint32_t n, k, j;
    (void)state;
    s.block = 2048;
    s.torn = FD_TORN_UNSTABLE;
    trial(&s, 0, &n);
    for (k = 1; k <= n; k += 13)
        for (j = 1; j <= n - k + 40; j += 5)
            trial2(&s, k, j, NULL);
}

/* Item 4: a block smaller than the erase unit. A resume in the middle of
 * an erase unit voids the unit's records, erases it and downloads its
 * first blocks again; the neighbours are never trusted over an erase. */
static void test_small_block_resume_redownloads_neighbours(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr_progress p;
    uint32_t off, len;
    (void)state;
    s.block = 1024;
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 4096 + 2048, img), 0); /* 6 blocks */
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 6);
    /* Block 6 is wanted, but blocks 4 and 5 share its erase unit. */
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(off, 4096);
    assert_int_equal(len, 65536 - 4096);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_rewritten, 2);
    /* Cut right here (void appended, unit erased): blocks 4, 5 are gone. */
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 4);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

/* An uncorrectable read of one copy's slot is a corrupt slot: the other
 * copy serves, nothing is downloaded again. */
static void test_ecc_failure_in_one_copy(void **state)
{
    struct rig r;
    struct fwr_progress p;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 4 * 4096, img), 0);
    r.d.ecc_addr = r.c.layout.record_addr + r.f.hdr_size + r.f.slot_size;
    r.d.ecc_len = 1; /* primary slot of block 1 */
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 4);
    /* ECC failure in the data of block 2: it is downloaded again. */
    r.d.ecc_addr = r.c.layout.data_addr + 2 * 4096 + 100;
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 3);
    r.d.ecc_len = 0;
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    fd_free(&r.d);
}

/* Without a mirror, a slot that stays unreadable (ECC) in its body or in
 * its commit is invalid even when the bytes that came back check out:
 * the part said they are not to be trusted. Its block is downloaded
 * again. */
static void test_ecc_failure_in_the_only_copy(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr_progress p;
    int part;
    (void)state;
    s.mirror = 0;
    for (part = 0; part < 2; part++) {
        rig_up(&r, &s);
        boot(&r);
        assert_int_equal(feed_some(&r.f, 4 * 4096, img), 0);
        /* Slot of block 1: its body (first byte) or its commit. */
        r.d.ecc_addr = r.c.layout.record_addr + r.f.hdr_size + r.f.slot_size +
                       (part ? r.f.slot_size - r.f.commit_size : 0);
        r.d.ecc_len = 1;
        boot(&r);
        fwr_get_progress(&r.f, &p);
        assert_int_equal(p.blocks_resumed, 3);
        r.d.ecc_len = 0;
        assert_int_equal(feed_some(&r.f, 65536, img), 0);
        assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
        assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
        fd_free(&r.d);
    }
}

/* Both copies lose a slot each (different slots): the union still holds
 * every record; a flipped header in one copy is re-made from the other. */
static void test_header_flip_in_one_copy(void **state)
{
    struct rig r;
    struct fwr_progress p;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 5 * 4096, img), 0);
    fd_flip(&r.d, r.c.layout.mirror_addr + 30, 1); /* mirror header */
    fd_flip(&r.d, r.c.layout.record_addr + r.f.hdr_size + 2, 4);
    boot(&r);
    fwr_get_progress(&r.f, &p);
    /* Block 0's primary slot is corrupt and the mirror was re-made: block
     * 0 alone is lost (redundancy was gone for it). */
    assert_int_equal(p.blocks_resumed, 4);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

/* Recovery row 21: every block recorded, the COMPLETE entry lost (here:
 * corrupt in both copies, as a cut right before it would leave it).
 * fwr_begin finishes by itself: digest, COMPLETE, lock; nothing is
 * downloaded or programmed in the data area. */
static void test_begin_finishes_when_only_complete_is_missing(void **state)
{
    struct rig r;
    struct fwr_progress p;
    uint32_t off, len, slot16, lo;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    /* A fresh log: BLOCK 0..15 in slots 0..15, COMPLETE in slot 16. */
    slot16 = r.f.hdr_size + 16 * r.f.slot_size;
    assert_int_equal(r.d.mem[r.c.layout.record_addr + slot16], 0xC3);
    fd_flip(&r.d, r.c.layout.record_addr + slot16 + 5, 2);
    fd_flip(&r.d, r.c.layout.mirror_addr + slot16 + 5, 2);
    r.d.lo_written = UINT32_MAX;
    r.d.hi_written = 0;
    boot(&r);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 16);
    assert_int_equal(p.bytes_wanted, 0);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(len, 0);
    /* Only the record copies were written (a new COMPLETE), and locked. */
    lo = r.c.layout.data_addr;
    assert_true(r.d.hi_written <= lo);
    assert_int_equal(r.d.prot_len, r.c.layout.record_size);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

/* A read that ECC cannot correct once (two flips in one codeword) is read
 * again: the resume re-hash and the final digest do not turn a transient
 * flip into a download. A persistent one makes the block wanted. */
static void test_transient_ecc_failure_is_read_again(void **state)
{
    struct rig r;
    struct fwr_progress p;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 5 * 4096, img), 0);
    r.d.ecc_addr = r.c.layout.data_addr + 4096 + 100; /* in block 1 */
    r.d.ecc_len = 1;
    r.d.ecc_transient = 2;
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 5);
    assert_int_equal(r.d.ecc_len, 0); /* it was read, and read again */
    /* Persistent: block 1 is downloaded again. */
    r.d.ecc_len = 1;
    r.d.ecc_transient = 0;
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 4);
    r.d.ecc_len = 0;
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fd_free(&r.d);
}

/* A complete, locked image, then a new one: unlock, void, download. */
static void test_new_image_after_locked_complete(void **state)
{
    struct rig r;
    struct fwr_image v2;
    struct fwr_progress p;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_true(r.d.prot_len > 0);
    fill_image(2);
    make_image(&v2, 65536, "v2");
    assert_int_equal(fwr_init(&r.f, &r.c), 0);
    assert_int_equal(fwr_begin(&r.f, &v2), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 0);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    assert_int_equal(r.d.violations, 0);
    fill_image(1);
    fd_free(&r.d);
}

/* The streaming contract: tiny chunks, ranges as runs of missing blocks,
 * bytes beyond the range refused, states in order. */
static void test_streaming_contract(void **state)
{
    struct rig r;
    struct fwr_progress p;
    uint32_t off, len, i;
    (void)state;
    rig_up(&r, &nor_4k);
    assert_int_equal(fwr_init(&r.f, &r.c), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_IDLE);
    assert_int_equal(fwr_feed(&r.f, img, 1), FWR_E_STATE);
    assert_int_equal(fwr_begin(&r.f, &r.im), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(off, 0);
    assert_int_equal(len, 65536);
    for (i = 0; i < 5000; i++) /* one byte at a time */
        assert_int_equal(fwr_feed(&r.f, img + i, 1), 1);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_DOWNLOADING);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_done, 1);
    assert_int_equal(p.bytes_wanted, 65536 - 5000);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(off, 5000); /* mid-block, within the session */
    assert_int_equal(fwr_feed(&r.f, img + off, len + 1), FWR_E_RANGE);
    fd_free(&r.d);
}

static void test_more_config_refusals(void **state)
{
    struct rig r;
    struct fwr f;
    struct fwr_image im;
    (void)state;
    rig_up(&r, &nor_4k);
    make_image(&im, 65536, "v1");

    r.c.write_size = 384; /* does not divide the block */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.geometry.prog_size = 3; /* not a power of two */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.geometry.erase_size = 4096 + 2; /* not a multiple of prog... */
    r.c.geometry.prog_size = 4;
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.layout.mirror_addr = r.c.layout.record_addr + 4096; /* overlaps */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.verify = 7;
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_INVAL);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.work = NULL;
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_INVAL);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.layout.record_size = 4096 * 0; /* no record area */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);

    /* Work buffer one byte short of staging + read-back + bitmaps (the
     * macro adds 3 bytes of alignment slack on top). */
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.work_size = 2 * 256 + 8 - 1;
    assert_int_equal(fwr_init(&f, &r.c), 0);
    assert_int_equal(fwr_begin(&f, &im), FWR_E_INVAL);
    r.c.work_size = FWR_WORK_SIZE(256, 16);
    assert_int_equal(fwr_init(&f, &r.c), 0);
    assert_int_equal(fwr_begin(&f, &im), 0);

    /* A digest kind with no ops for it. */
    make_cfg(&r.c, &r.d, &nor_4k);
    assert_int_equal(fwr_init(&f, &r.c), 0);
    im.digest_kind = FWR_HASH_SHA256;
    im.digest_len = 32;
    assert_int_equal(fwr_begin(&f, &im), FWR_E_INVAL);
    fd_free(&r.d);
}

/* The easy unit and order mistakes of the public API are refused at
 * fwr_init/fwr_begin, never accepted into a wrong download: counts where
 * bytes are meant, FWR_WORK_SIZE's arguments swapped, an area given
 * partition-relative while the others are absolute. */
static void test_unit_mistakes_refused(void **state)
{
    struct rig r;
    struct fwr f;
    struct fwr_image im;
    (void)state;
    rig_up(&r, &nor_4k);
    make_image(&im, 65536, "v1");

    r.c.layout.data_size = 16; /* blocks, not bytes */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.layout.record_size = FWR_LOG_SLOTS(16); /* slots, not bytes */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.block_size = 4; /* KiB, not bytes */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.layout.data_addr = 0; /* partition-relative: lands on the records */
    r.c.layout.record_addr = 0;
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.layout.mirror_addr = r.c.layout.data_addr; /* mirror on the data */
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_GEOMETRY);

    /* FWR_WORK_SIZE(max_blocks, write_size) instead of (write_size,
     * max_blocks): too small for the staging chunk, refused at begin. */
    make_cfg(&r.c, &r.d, &nor_4k);
    r.c.work_size = FWR_WORK_SIZE(16, 256);
    assert_int_equal(fwr_init(&f, &r.c), 0);
    assert_int_equal(fwr_begin(&f, &im), FWR_E_INVAL);
    /* An image larger than the data area (a size in the wrong unit). */
    make_cfg(&r.c, &r.d, &nor_4k);
    assert_int_equal(fwr_init(&f, &r.c), 0);
    make_image(&im, r.c.layout.data_size + 1u, "v1");
    assert_int_not_equal(fwr_begin(&f, &im), 0);
    fd_free(&r.d);
}

/* Item 1: every record's commit is its own program, issued after the
 * program of the record's body (never in the same op). */
static void test_commit_is_a_separate_later_program(void **state)
{
    static uint32_t log[8192][2];
    struct rig r;
    uint32_t i, j, cs, base;
    (void)state;
    rig_up(&r, &nor_4k);
    r.d.log = log;
    r.d.log_cap = 8192;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_true(r.d.log_n < r.d.log_cap);
    cs = 4; /* commit field: 4 bytes rounded to prog_size (1) */
    for (i = 0; i < r.d.log_n; i++) {
        uint32_t a = log[i][0], n = log[i][1], o, body;
        if (a >= r.c.layout.record_addr &&
            a < r.c.layout.record_addr + r.c.layout.record_size)
            base = r.c.layout.record_addr;
        else if (a >= r.c.layout.mirror_addr &&
                 a < r.c.layout.mirror_addr + r.c.layout.record_size)
            base = r.c.layout.mirror_addr;
        else
            continue;
        if (a < base + r.f.hdr_size)
            continue; /* header: its own body/commit rule, same shape */
        o = (a - base - r.f.hdr_size) % r.f.slot_size;
        body = r.f.slot_size - cs;
        if (o == body) {
            /* A commit: its body was programmed by an earlier op. */
            assert_int_equal(n, cs);
            for (j = 0; j < i; j++)
                if (log[j][0] == a - body)
                    break;
            assert_true(j < i);
        } else {
            assert_int_equal(o, 0);
            assert_true(n <= body); /* a body never carries its commit */
        }
    }
    fd_free(&r.d);
}

/*
 * Blocks bigger than the erase unit and a short last block, in a data area
 * of exactly the image rounded up to erase units (the least fwr_begin
 * takes): the last block's group ends at the erase unit after the image's
 * last byte, not a whole block further, and its last chunk is programmed no
 * further than its bytes need. Found by tests/fuzz/fuzz_resume: the group
 * was erased a block size past the image, outside the data area; with a
 * write size above the erase unit the padded last chunk was too.
 */
static void test_big_last_block_stays_in_data_area(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    uint32_t end;
    (void)state;
    s.block = 16384;
    s.image = 33000; /* last block 232 bytes, in the 9th erase unit */
    for (s.write = 256; s.write <= 8192; s.write *= 32) {
        rig_up(&r, &s);
        r.c.layout.data_size = 36864;
        end = r.c.layout.data_addr + r.c.layout.data_size;
        boot(&r);
        assert_int_equal(feed_some(&r.f, s.image, img), 0);
        assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
        /* Rot in the last block: the resume erases its group again. */
        fd_flip(&r.d, r.c.layout.data_addr + 32900, 1);
        boot(&r);
        assert_int_equal(feed_some(&r.f, s.image, img), 0);
        assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
        assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, s.image);
        assert_int_equal(r.d.violations, 0);
        if (r.d.hi_written > end)
            fail_msg("write %u: wrote up to 0x%x, data area ends at 0x%x",
                     s.write, r.d.hi_written, end);
        fd_free(&r.d);
    }
}

/* Rewrite every valid COMPLETE entry of both copies as VOID(0, 1) with a
 * valid check value, as rot in the record area could leave them (NOR,
 * CRC-32 slots: body 16 bytes, check value at 16). */
static void complete_to_void(struct rig *r)
{
    uint32_t m, k, a, copy, c;
    uint8_t *s;
    for (m = 0; m < 2; m++) {
        copy = m ? r->c.layout.mirror_addr : r->c.layout.record_addr;
        for (k = 0; k < r->f.log_slots; k++) {
            a = copy + r->f.hdr_size + k * r->f.slot_size;
            s = r->d.mem + a;
            if (s[0] != 0xC3)
                continue;
            s[0] = 0x70;         /* VOID */
            memset(s + 4, 0, 8); /* first block 0 */
            s[8] = 1;            /* count 1 */
            c = fwr_crc32(0, s, 16);
            s[16] = (uint8_t)c;
            s[17] = (uint8_t)(c >> 8);
            s[18] = (uint8_t)(c >> 16);
            s[19] = (uint8_t)(c >> 24);
        }
    }
}

/*
 * A locked (complete) record area whose last valid entry is a VOID: the
 * engine appends that VOID again at boot (row 13), and must release the
 * lock first, as it does before every other write. Found by
 * tests/fuzz/fuzz_resume: the VOID went into the protected copies.
 */
static void test_locked_area_released_before_tail_void(void **state)
{
    struct rig r;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_true(r.d.prot_len > 0);
    complete_to_void(&r);
    boot(&r);
    assert_int_equal(r.d.violations, 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_DOWNLOADING);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

static void test_crc32_matches_known_vector(void **state)
{
    (void)state;
    assert_int_equal(fwr_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(fwr_crc32(fwr_crc32(0, "1234", 4), "56789", 5),
                     0xCBF43926u);
    /* Every byte value once: every entry of the nibble table is used
     * (zlib: crc32(bytes(range(256))) = 0x29058c73). */
    {
        uint8_t all[256];
        unsigned i;
        for (i = 0; i < 256; i++)
            all[i] = (uint8_t)i;
        assert_int_equal(fwr_crc32(0, all, 256), 0x29058C73u);
    }
}

/* The built-in CRC as hash ops (what a device without a CRC engine plugs
 * in; the harness uses its own): the known vector in pieces, a digest in
 * big-endian order, and start() forgetting an earlier use. Mutation
 * testing found these uncovered (docs/mutation.md). */
static void test_crc32_ops_known_vector(void **state)
{
    static const uint8_t want[4] = {0xCB, 0xF4, 0x39, 0x26};
    struct fwr_hash_ops ops;
    struct fwr_crc32_ctx ctx;
    uint8_t d[FWR_HASH_MAX];
    int round;
    (void)state;
    memset(&ctx, 0x5A, sizeof(ctx));
    fwr_hash_crc32(&ops, &ctx);
    assert_int_equal(ops.kind, FWR_HASH_CRC32);
    assert_int_equal(ops.size, 4);
    for (round = 0; round < 2; round++) {
        memset(d, 0, sizeof(d));
        assert_int_equal(ops.start(ops.ctx), 0);
        assert_int_equal(ops.update(ops.ctx, "1234", 4), 0);
        assert_int_equal(ops.update(ops.ctx, "56789", 5), 0);
        assert_int_equal(ops.finish(ops.ctx, d), 0);
        assert_memory_equal(d, want, 4);
    }
}

/* The geometry check alone, as a partition planner asks it: the same
 * answers fwr_init gives, without flash ops or a layout. */
static void test_check_geometry(void **state)
{
    struct fwr_geometry g = {1, 4096, 0xFF, FWR_FLASH_NOR};
    (void)state;
    assert_int_equal(fwr_check_geometry(&g, 4096, 0, 0), 0);
    assert_int_equal(fwr_check_geometry(&g, 1024, 256, 32), 0);
    assert_int_equal(fwr_check_geometry(&g, 3000, 0, 0), FWR_E_GEOMETRY);
    assert_int_equal(fwr_check_geometry(&g, 4096, 8192, 0), FWR_E_GEOMETRY);
    assert_int_equal(fwr_check_geometry(&g, 64, 64, 32), FWR_E_GEOMETRY);
    assert_int_equal(fwr_check_geometry(&g, 4096, 0, FWR_HASH_MAX + 1),
                     FWR_E_INVAL);
    assert_int_equal(fwr_check_geometry(NULL, 4096, 0, 0), FWR_E_INVAL);
    g.erase_size = 3000;
    assert_int_equal(fwr_check_geometry(&g, 4096, 0, 0), FWR_E_GEOMETRY);
    g.erase_size = 4096;
    g.kind = 7;
    assert_int_equal(fwr_check_geometry(&g, 4096, 0, 0), FWR_E_GEOMETRY);
    g.kind = FWR_FLASH_NAND;
    g.prog_size = 2048;
    g.erase_size = 128u << 10;
    assert_int_equal(fwr_check_geometry(&g, 128u << 10, 0, 0), 0);
    assert_int_equal(fwr_check_geometry(&g, 1024, 0, 0), FWR_E_GEOMETRY);
}

/* ------------------------------------------- survivors of docs/mutation.md */

/* Slot k of a record copy (NOR, CRC-32 slots: body 16 bytes, check value
 * at 16, commit after the body). */
static uint8_t *slot_at(struct rig *r, uint32_t copy, uint32_t k)
{
    return r->d.mem + copy + r->f.hdr_size + k * r->f.slot_size;
}

/* Valid-looking entries of one type in a copy, by their type byte. */
static uint32_t count_type(struct rig *r, uint32_t copy, uint8_t type)
{
    uint32_t k, n = 0;
    for (k = 0; k < r->f.log_slots; k++)
        n += slot_at(r, copy, k)[0] == type;
    return n;
}

/* A read op that fails with a bus error for reads touching
 * [io_fail_addr, io_fail_addr + io_fail_len). */
static uint32_t io_fail_addr, io_fail_len;
static int io_read_at(void *user, uint32_t addr, void *buf, uint32_t len)
{
    if (addr < io_fail_addr + io_fail_len && io_fail_addr < addr + len)
        return -5;
    return io_lower.read(user, addr, buf, len);
}

/* A torn commit can leave only its last byte programmed, the body and the
 * other three bytes erased: that slot is not erased (all four bytes are
 * checked) but used, so the next boot skips the slot after it too (it may
 * hold weak charge: the scan's rule) and programs nothing twice. */
static void
test_commit_with_its_last_byte_programmed_is_not_erased(void **state)
{
    struct rig r;
    uint32_t k, slot, body, i;
    uint8_t zero = 0;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 4 * 4096, img), 0);
    k = r.f.log_next;
    body = r.f.slot_size - r.f.commit_size;
    slot = r.c.layout.record_addr + r.f.hdr_size + k * r.f.slot_size;
    for (i = 0; i < r.f.slot_size; i++)
        assert_int_equal(r.d.mem[slot + i], 0xFF);
    assert_int_equal(
        r.c.flash.program(r.c.flash.user, slot + body + 3, &zero, 1), 0);
    boot(&r);
    assert_int_equal(r.f.log_next, k + 2u);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_int_equal(r.d.mem[slot + body + 3], 0);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

/* A program op that reports failure for the program starting at
 * fail_report_addr, after writing it: the cells may be marginal even when
 * they read back right, so what the driver failed must not be used. */
static uint32_t fail_report_addr;
static int fail_report_program(void *user, uint32_t addr, const void *buf,
                               uint32_t len)
{
    int rc = io_lower.program(user, addr, buf, len);
    if (rc < 0 || addr != fail_report_addr)
        return rc;
    fail_report_addr = 0xFFFFFFFFu; /* once */
    return -1;
}

/* A record slot whose body (commit: 0) or commit (1) program is reported
 * failed, though it landed, is abandoned: the same entry is written to the
 * next slot (with or without a mirror), and a reboot resumes every block. */
static void program_reported_failed(uint32_t commit, int mirror)
{
    struct setup s = nor_4k;
    struct rig r;
    uint32_t slot2, body;
    s.mirror = mirror;
    rig_up(&r, &s);
    boot(&r);
    body = r.f.slot_size - r.f.commit_size;
    slot2 = r.c.layout.record_addr + r.f.hdr_size + 2u * r.f.slot_size;
    io_lower = r.c.flash;
    r.c.flash.program = fail_report_program;
    fail_report_addr = slot2 + (commit ? body : 0u);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fail_report_addr, 0xFFFFFFFFu);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    /* Slot 2 holds the failed entry, slot 3 the same entry again. */
    assert_memory_equal(r.d.mem + slot2, r.d.mem + slot2 + r.f.slot_size, body);
    r.c.flash = io_lower;
    reboot_resumes_all_16(&r);
}

static void test_record_program_reported_failed_is_not_used(void **state)
{
    (void)state;
    program_reported_failed(0, 1);
    program_reported_failed(0, 0);
    program_reported_failed(1, 1);
    program_reported_failed(1, 0);
}

/* An I/O error reading one record slot of the primary is fatal even when
 * the mirror could serve that slot: the bus is not to be trusted (the
 * scan must not read over the error). */
static void test_slot_io_error_is_fatal_with_a_mirror(void **state)
{
    struct rig r;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 4 * 4096, img), 0);
    io_lower = r.c.flash;
    r.c.flash.read = io_read_at;
    io_fail_addr = r.c.layout.record_addr + r.f.hdr_size + r.f.slot_size;
    io_fail_len = 1; /* the body of block 1's primary slot */
    assert_int_equal(fwr_init(&r.f, &r.c), 0);
    assert_int_equal(fwr_begin(&r.f, &r.im), FWR_E_IO);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    assert_int_equal(fwr_last_error(&r.f), FWR_E_IO);
    r.c.flash = io_lower;
    io_fail_len = 0;
    fd_free(&r.d);
}

/*
 * Row 12 before row 14: a COMPLETE entry followed by a VOID no longer
 * counts. A complete image rots in block 3; the block is downloaded again
 * over a link that corrupts a byte (its block hash agrees), and power goes
 * at the first write after its record (the digest had failed: the restart
 * VOID). The next boot must check the digest again and restart, not take
 * the old COMPLETE entry for the image being complete.
 */
static void test_complete_before_a_void_does_not_count(void **state)
{
    static uint8_t bad[65536];
    struct rig r;
    struct fwr_progress p;
    uint32_t off, len;
    (void)state;
    rig_up(&r, &nor_4k);
    memcpy(bad, img, sizeof(bad));
    bad[3 * 4096 + 500] ^= 4;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fd_flip(&r.d, r.c.layout.data_addr + 3 * 4096 + 77, 2);
    boot(&r);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_DOWNLOADING);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0); /* VOID(3, 1) */
    assert_int_equal(off, 3 * 4096);
    assert_int_equal(len, 4096);
    /* 16 data chunks, 4 record programs, then the restart's VOID. */
    r.d.torn = FD_TORN_NONE;
    r.d.cut_at = r.d.ops + 16 + 4 + 1;
    assert_true(fwr_feed(&r.f, bad + off, len) < 0);
    assert_true(r.d.off);
    fd_power_on(&r.d);
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY); /* restarted */
    assert_int_equal(p.restarts, 1);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

/* A VOID names blocks of the image only (docs/record-format.md: VOID
 * first block, block count): the last erase unit of an image that ends
 * mid-unit holds fewer blocks than the unit has room for. */
static void test_void_names_only_blocks_of_the_image(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    const uint8_t *e = NULL;
    uint32_t off, len, k;
    (void)state;
    s.block = 1024;
    s.image = 62 * 1024 + 100; /* 63 blocks; the last unit holds 60..62 */
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, s.image, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_int_equal(count_type(&r, r.c.layout.record_addr, 0x70), 0);
    fd_flip(&r.d, r.c.layout.data_addr + 61 * 1024 + 9, 1);
    boot(&r);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(off, 60 * 1024);
    for (k = 0; k < r.f.log_slots; k++)
        if (slot_at(&r, r.c.layout.record_addr, k)[0] == 0x70)
            e = slot_at(&r, r.c.layout.record_addr, k);
    assert_non_null(e);
    assert_int_equal(le32(e + 4), 60); /* first block */
    assert_int_equal(le32(e + 8), 3);  /* 60, 61, 62: no block 63 */
    assert_int_equal(feed_some(&r.f, s.image, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, s.image);
    fd_free(&r.d);
}

/* Without a mirror the lock is asked for the primary copy alone (not for
 * FWR_NO_MIRROR, an address that is not a copy). */
static void test_lock_without_mirror_is_the_primary_only(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    (void)state;
    s.mirror = 0;
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_int_equal(r.d.prot_addr, r.c.layout.record_addr);
    assert_int_equal(r.d.prot_len, r.c.layout.record_size);
    fd_free(&r.d);
}

/* A digest-mismatch restart forgets every record: the new generation's
 * download voids nothing, also in a 32-block image (every bit of the
 * record bitmap's word in use). */
static void test_restart_leaves_no_record_behind(void **state)
{
    static uint8_t bad[131072];
    struct setup s = nor_4k;
    struct rig r;
    (void)state;
    s.image = 131072; /* 32 blocks */
    rig_up(&r, &s);
    memcpy(bad, img, sizeof(bad));
    bad[70000] ^= 1;
    boot(&r);
    assert_int_equal(feed_some(&r.f, s.image, bad), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY); /* restarted */
    assert_int_equal(feed_some(&r.f, s.image, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_int_equal(count_type(&r, r.c.layout.record_addr, 0x70), 0);
    assert_int_equal(count_type(&r, r.c.layout.mirror_addr, 0x70), 0);
    assert_int_equal(count_type(&r, r.c.layout.record_addr, 0xB1), 32);
    fd_free(&r.d);
}

/* Policy full: a digest mismatch restarts the image (row 18); the
 * re-hash fallback that finds and re-downloads lying blocks is the
 * trusted policy's, once. Here a block rots during the session. */
static void test_full_policy_restarts_on_digest_mismatch(void **state)
{
    struct rig r;
    struct fwr_progress p;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 15 * 4096, img), 0);
    fd_flip(&r.d, r.c.layout.data_addr + 3 * 4096 + 77, 2);
    assert_int_equal(feed_some(&r.f, 4096, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.restarts, 1);
    assert_int_equal(p.blocks_done, 0);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    fd_free(&r.d);
}

/* A program op that fails for bodies of one entry type (first byte) in
 * [pf_lo, pf_hi). */
static struct fwr_flash_ops pf_lower;
static uint32_t pf_lo, pf_hi;
static uint8_t pf_type;
static int pf_program(void *user, uint32_t addr, const void *buf, uint32_t len)
{
    if (addr >= pf_lo && addr < pf_hi && len &&
        ((const uint8_t *)buf)[0] == pf_type)
        return -1;
    return pf_lower.program(user, addr, buf, len);
}

/* The COMPLETE entry cannot be written: the error is reported and the
 * engine stops (not a locked "complete" with no marker on flash). The
 * next boot finishes the image (row 21). */
static void test_complete_entry_write_failure_is_reported(void **state)
{
    struct rig r;
    (void)state;
    rig_up(&r, &nor_4k);
    pf_lower = r.c.flash;
    pf_lo = r.c.layout.record_addr;
    pf_hi = pf_lo + r.c.layout.record_size;
    pf_type = 0xC3;
    r.c.flash.program = pf_program;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), FWR_E_PROG);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    assert_int_equal(fwr_last_error(&r.f), FWR_E_PROG);
    r.c.flash = pf_lower;
    boot(&r);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

/* write_size 0 picks 256 bytes capped to the block: blocks of 128 bytes
 * work with the default. */
static void test_default_write_size_is_capped_to_the_block(void **state)
{
    struct fwr_geometry g = {1, 4096, 0xFF, FWR_FLASH_NOR};
    struct setup s = nor_4k;
    struct rig r;
    (void)state;
    assert_int_equal(fwr_check_geometry(&g, 128, 0, 0), 0);
    s.block = 128;
    s.write = 0;
    s.image = 4000;
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, s.image, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, s.image);
    fd_free(&r.d);
}

/* A record area that holds a header and no slot (or not even a header) is
 * refused by fwr_init with FWR_E_NOSPC (erase units of 32 bytes; NOR
 * header 96 bytes). */
static void test_record_area_without_slots_is_refused(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr f;
    (void)state;
    s.erase = 32;
    rig_up(&r, &s);
    s.rec = 64; /* less than a header */
    make_cfg(&r.c, &r.d, &s);
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_NOSPC);
    s.rec = 96; /* a header exactly */
    make_cfg(&r.c, &r.d, &s);
    assert_int_equal(fwr_init(&f, &r.c), FWR_E_NOSPC);
    s.rec = 128; /* a header and one slot */
    make_cfg(&r.c, &r.d, &s);
    assert_int_equal(fwr_init(&f, &r.c), 0);
    fd_free(&r.d);
}

/* Trusted records need an image digest, also when image hash ops are
 * configured: an image without a digest is refused. */
static void test_trusted_needs_a_digest_with_image_hash_set(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr_hash_ops ih;
    struct fwr_crc32_ctx ictx;
    struct fwr_image im;
    (void)state;
    s.verify = FWR_VERIFY_TRUSTED;
    rig_up(&r, &s);
    fwr_hash_crc32(&ih, &ictx);
    r.c.image_hash = &ih;
    assert_int_equal(fwr_init(&r.f, &r.c), 0);
    im = r.im;
    im.digest_kind = FWR_HASH_NONE;
    im.digest_len = 0;
    assert_int_equal(fwr_begin(&r.f, &im), FWR_E_INVAL);
    assert_int_equal(fwr_begin(&r.f, &r.im), 0);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fd_free(&r.d);
}

/* The work buffer: FWR_WORK_SIZE exactly is enough with bitmaps bigger
 * than the staging chunk (1200 blocks of 128 bytes), and staging +
 * read-back + bitmaps exactly (4-aligned) is the least fwr_begin takes. */
static void test_work_buffer_of_exactly_the_needed_size(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr f;
    (void)state;
    s.block = 128;
    s.write = 0; /* 128 */
    s.image = 1200 * 128;
    s.rec = FWR_RECORD_AREA_SIZE(1, 4096, 4, 128, 1200 * 128);
    rig_up(&r, &s);
    r.c.work_size = FWR_WORK_SIZE(128, 1200);
    boot(&r);
    assert_int_equal(feed_some(&r.f, s.image, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, s.image);
    fd_free(&r.d);

    rig_up(&r, &nor_4k);
    r.c.work_size = 2 * 256 + 8; /* 16 blocks: one word per bitmap */
    assert_int_equal(fwr_init(&f, &r.c), 0);
    assert_int_equal(fwr_begin(&f, &r.im), 0);
    assert_int_equal(feed_some(&f, 65536, img), 0);
    assert_int_equal(fwr_state(&f), FWR_STATE_COMPLETE);
    fd_free(&r.d);

    /* 32 blocks: a whole number of bitmap words, no word more. */
    s = nor_4k;
    s.image = 32 * 4096;
    s.rec = FWR_RECORD_AREA_SIZE(1, 4096, 4, 4096, 32 * 4096);
    rig_up(&r, &s);
    r.c.work_size = FWR_WORK_SIZE(256, 32);
    assert_int_equal(r.c.work_size, 2 * 256 + 8 + 3);
    assert_int_equal(fwr_init(&f, &r.c), 0);
    assert_int_equal(fwr_begin(&f, &r.im), 0);
    assert_int_equal(feed_some(&f, s.image, img), 0);
    assert_int_equal(fwr_state(&f), FWR_STATE_COMPLETE);
    fd_free(&r.d);
}

/* A last block of one byte: every hashed length is a whole number of
 * read pieces plus one byte, which must be hashed too (the record of
 * the block, and the image digest over 65537 bytes). */
static void test_one_byte_last_block(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    (void)state;
    s.image = 65536 + 1;
    s.rec = FWR_RECORD_AREA_SIZE(1, 4096, 4, 4096, 65536 + 1);
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, s.image, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, s.image);
    /* and a resume re-hashes the one-byte block right */
    assert_int_equal(fwr_init(&r.f, &r.c), 0);
    assert_int_equal(fwr_begin(&r.f, &r.im), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fd_free(&r.d);
}

/* fwr_begin again on a context in use (no fwr_init): it starts from flash
 * alone, like a fresh one; the half-fed block is wanted from its start. */
static void test_begin_again_on_a_used_context(void **state)
{
    struct rig r;
    struct fwr_progress p;
    uint32_t off, len;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 5000, img), 0);
    assert_int_equal(fwr_begin(&r.f, &r.im), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_DOWNLOADING);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 1);
    assert_int_equal(p.bytes_wanted, 65536 - 4096);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(off, 4096);
    assert_int_equal(len, 65536 - 4096);
    assert_int_equal(fwr_feed(&r.f, img + off, len), (int)len);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    fd_free(&r.d);
}

/* A refused fwr_begin leaves the context idle: no bytes or ranges are
 * taken for the image begun before. */
static void test_refused_begin_leaves_the_context_idle(void **state)
{
    struct rig r;
    struct fwr_image im;
    uint32_t off, len;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY);
    im = r.im;
    im.size = 0;
    assert_int_equal(fwr_begin(&r.f, &im), FWR_E_INVAL);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_IDLE);
    assert_int_equal(fwr_feed(&r.f, img, 1), FWR_E_STATE);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), FWR_E_STATE);
    assert_int_equal(fwr_begin(&r.f, &r.im), 0);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fd_free(&r.d);
}

/*
 * Row 13: the last valid entry is a VOID, so the boot appends it again.
 * Its first commit may have been a torn program that read as the magic
 * once: here it reads wrong at the next boot (in both copies). The copy
 * keeps the voided records dead; without it, trusted records of blocks 4
 * and 5 would revive over their erased unit.
 */
static void test_tail_void_is_appended_again(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr_progress p;
    uint32_t off, len, m, copy, first;
    (void)state;
    s.block = 1024;
    s.verify = FWR_VERIFY_TRUSTED;
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 6 * 1024, img), 0);
    boot(&r);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0); /* VOID(4, 4) */
    assert_int_equal(off, 4096);
    boot(&r); /* cut right after the VOID and the erase */
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 4);
    assert_int_equal(count_type(&r, r.c.layout.record_addr, 0x70), 2);
    for (first = 0; slot_at(&r, r.c.layout.record_addr, first)[0] != 0x70;)
        first++;
    for (m = 0; m < 2; m++) {
        copy = m ? r.c.layout.mirror_addr : r.c.layout.record_addr;
        fd_flip(&r.d,
                copy + r.f.hdr_size + (first + 1u) * r.f.slot_size -
                    r.f.commit_size,
                3); /* the first VOID's commit */
    }
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_resumed, 4);
    assert_false(done_blocks_lie(&r.d, &r.c, &r.f));
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

/* After the trusted fallback re-hash the old transfer is over: bytes fed
 * without asking fwr_next_range are beyond any range (the image has a
 * short last block, so no block past it may be taken). */
static void test_feed_after_trusted_rescan_needs_a_new_range(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    uint32_t off, len;
    (void)state;
    s.verify = FWR_VERIFY_TRUSTED;
    s.image = 65000;
    rig_up(&r, &s);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 8 * 4096, img), 0);
    fd_flip(&r.d, r.c.layout.data_addr + 3 * 4096 + 77, 2);
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65000 - 8 * 4096, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_DOWNLOADING); /* rescan */
    assert_int_equal(fwr_feed(&r.f, img + 65000, 1), FWR_E_RANGE);
    assert_int_equal(fwr_next_range(&r.f, &off, &len), 0);
    assert_int_equal(off, 3 * 4096);
    assert_int_equal(len, 4096);
    assert_int_equal(fwr_feed(&r.f, img + off, len), (int)len);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65000);
    assert_int_equal(r.d.violations, 0);
    fd_free(&r.d);
}

/* The engine writes nothing past its work buffer, given exactly
 * FWR_WORK_SIZE bytes, also when it pads the image's short last chunk. */
static void test_engine_stays_inside_its_work_buffer(void **state)
{
    static uint32_t wb[(FWR_WORK_SIZE(256, 16) + 3) / 4 + 64];
    struct setup s = nor_4k;
    struct rig r;
    uint32_t i, n = FWR_WORK_SIZE(256, 16);
    (void)state;
    s.image = 65000; /* last chunk: 232 bytes */
    rig_up(&r, &s);
    memset(wb, 0xA5, sizeof(wb));
    r.c.work = wb;
    r.c.work_size = n;
    boot(&r);
    assert_int_equal(feed_some(&r.f, s.image, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, s.image);
    for (i = n; i < sizeof(wb); i++)
        if (((const uint8_t *)wb)[i] != 0xA5)
            fail_msg("work buffer of %u bytes: byte %u written", n, i);
    fd_free(&r.d);
}

/* max_retries (default 3) program failures of one erase group are
 * retried; one more stops the engine. */
static void test_program_retries_are_max_retries_per_group(void **state)
{
    struct rig r;
    (void)state;
    rig_up(&r, &nor_4k);
    r.d.fail_prog_at = 30; /* data of block 1, three programs in a row */
    r.d.fail_prog_count = 3;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    assert_memory_equal(r.d.mem + r.c.layout.data_addr, img, 65536);
    fd_free(&r.d);

    rig_up(&r, &nor_4k);
    r.d.fail_prog_at = 30;
    r.d.fail_prog_count = 4;
    boot(&r);
    assert_int_equal(feed_some(&r.f, 65536, img), FWR_E_PROG);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_FAILED);
    fd_free(&r.d);
}

/* fwr_feed's arguments: no context, or no bytes for a non-zero length,
 * is FWR_E_INVAL and takes nothing; no bytes for length 0 is fine. */
static void test_feed_argument_checks(void **state)
{
    struct rig r;
    (void)state;
    rig_up(&r, &nor_4k);
    boot(&r);
    assert_int_equal(fwr_feed(NULL, img, 1), FWR_E_INVAL);
    assert_int_equal(fwr_feed(&r.f, NULL, 1), FWR_E_INVAL);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_EMPTY);
    assert_int_equal(fwr_feed(&r.f, NULL, 0), 0);
    assert_int_equal(feed_some(&r.f, 65536, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fd_free(&r.d);
}

/* Progress of an image with a short last block: bytes_wanted counts the
 * image's bytes only. */
static void test_progress_with_a_short_last_block(void **state)
{
    struct setup s = nor_4k;
    struct rig r;
    struct fwr_progress p;
    (void)state;
    s.image = 65000;
    rig_up(&r, &s);
    boot(&r);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_total, 16);
    assert_int_equal(p.bytes_wanted, 65000);
    assert_int_equal(feed_some(&r.f, 10 * 4096 + 100, img), 0);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_done, 10);
    assert_int_equal(p.bytes_wanted, 65000 - 10 * 4096 - 100);
    assert_int_equal(feed_some(&r.f, 65000, img), 0);
    assert_int_equal(fwr_state(&r.f), FWR_STATE_COMPLETE);
    fwr_get_progress(&r.f, &p);
    assert_int_equal(p.blocks_done, 16);
    assert_int_equal(p.bytes_wanted, 0);
    fd_free(&r.d);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_matches_known_vector),
        cmocka_unit_test(test_crc32_ops_known_vector),
        cmocka_unit_test(test_config_refusals),
        cmocka_unit_test(test_check_geometry),
        cmocka_unit_test(test_resume_redownloads_only_missing),
        cmocka_unit_test(test_on_flash_format_as_documented),
        cmocka_unit_test(test_io_error_is_fatal),
        cmocka_unit_test(test_corrupt_data_is_redownloaded),
        cmocka_unit_test(test_trusted_skips_rehash_then_digest_catches),
        cmocka_unit_test(test_trusted_compaction_checks_before_rehashing),
        cmocka_unit_test(test_torn_record_is_never_valid),
        cmocka_unit_test(test_mirror_bitflip_costs_nothing),
        cmocka_unit_test(test_new_image_voids_old_records),
        cmocka_unit_test(test_complete_locks_and_refuses),
        cmocka_unit_test(test_digest_mismatch_restarts_then_fails),
        cmocka_unit_test(test_digest_hand_over),
        cmocka_unit_test(test_program_failure_retried_then_reported),
        cmocka_unit_test(test_failed_record_readback_rewrites_the_entry),
        cmocka_unit_test(test_bad_units_are_skipped),
        cmocka_unit_test(test_cuts_nor_prefix),
        cmocka_unit_test(test_cuts_nor_random_bits),
        cmocka_unit_test(test_cuts_nor_nothing_applied),
        cmocka_unit_test(test_cuts_small_blocks),
        cmocka_unit_test(test_cuts_big_blocks),
        cmocka_unit_test(test_cuts_trusted),
        cmocka_unit_test(test_cuts_no_mirror),
        cmocka_unit_test(test_cuts_mcu_wide_program),
        cmocka_unit_test(test_cuts_nand),
        cmocka_unit_test(test_cuts_nand_small_blocks),
        cmocka_unit_test(test_cuts_nor_unstable_bits),
        cmocka_unit_test(test_cuts_nand_unstable_bits),
        cmocka_unit_test(test_cuts_through_compaction),
        cmocka_unit_test(test_double_cuts),
        cmocka_unit_test(test_small_block_resume_redownloads_neighbours),
        cmocka_unit_test(test_ecc_failure_in_one_copy),
        cmocka_unit_test(test_ecc_failure_in_the_only_copy),
        cmocka_unit_test(test_header_flip_in_one_copy),
        cmocka_unit_test(test_new_image_after_locked_complete),
        cmocka_unit_test(test_begin_finishes_when_only_complete_is_missing),
        cmocka_unit_test(test_transient_ecc_failure_is_read_again),
        cmocka_unit_test(test_streaming_contract),
        cmocka_unit_test(test_more_config_refusals),
        cmocka_unit_test(test_unit_mistakes_refused),
        cmocka_unit_test(test_commit_is_a_separate_later_program),
        cmocka_unit_test(test_big_last_block_stays_in_data_area),
        cmocka_unit_test(test_locked_area_released_before_tail_void),
        cmocka_unit_test(test_slot_io_error_is_fatal_with_a_mirror),
        cmocka_unit_test(test_record_program_reported_failed_is_not_used),
        cmocka_unit_test(
            test_commit_with_its_last_byte_programmed_is_not_erased),
        cmocka_unit_test(test_complete_before_a_void_does_not_count),
        cmocka_unit_test(test_void_names_only_blocks_of_the_image),
        cmocka_unit_test(test_lock_without_mirror_is_the_primary_only),
        cmocka_unit_test(test_restart_leaves_no_record_behind),
        cmocka_unit_test(test_full_policy_restarts_on_digest_mismatch),
        cmocka_unit_test(test_complete_entry_write_failure_is_reported),
        cmocka_unit_test(test_default_write_size_is_capped_to_the_block),
        cmocka_unit_test(test_record_area_without_slots_is_refused),
        cmocka_unit_test(test_trusted_needs_a_digest_with_image_hash_set),
        cmocka_unit_test(test_work_buffer_of_exactly_the_needed_size),
        cmocka_unit_test(test_one_byte_last_block),
        cmocka_unit_test(test_begin_again_on_a_used_context),
        cmocka_unit_test(test_refused_begin_leaves_the_context_idle),
        cmocka_unit_test(test_tail_void_is_appended_again),
        cmocka_unit_test(test_feed_after_trusted_rescan_needs_a_new_range),
        cmocka_unit_test(test_engine_stays_inside_its_work_buffer),
        cmocka_unit_test(test_program_retries_are_max_retries_per_group),
        cmocka_unit_test(test_feed_argument_checks),
        cmocka_unit_test(test_progress_with_a_short_last_block),
    };
    /* Optional argument: a test-name filter (glob), e.g. for the mutant
     * runs: test_engine 'test_cuts_nor_*'. */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    fill_image(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
