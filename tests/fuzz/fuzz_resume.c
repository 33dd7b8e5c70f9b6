/*
 * fuzz_resume: the real engine (core/, linked as the fwresume library)
 * booting on a flash whose record copies and data area hold whatever the
 * input says, then downloading the image to the end.
 *
 * Input (every byte optional: a short input leaves the rest erased):
 *   byte 0   variant: bits 0-1 geometry (NOR 1 B programs / NOR 16 B
 *            programs (MCU-like) / NAND-like 256 B pages / 512 B pages),
 *            bits 2-3 block size 1K << n, bit 4 mirror, bit 5 trusted
 *            policy, bit 6 a 32-byte block hash instead of CRC-32, bit 7
 *            record copies write-protected at power-on (a locked image)
 *   byte 1   options: bits 0-1 feed chunk (97 B, 512 B, 4 KiB, whole range),
 *            bit 2 no image digest (full policy only), bit 3 a wide work
 *            buffer, bits 4-5 write size (default, 128 B, 512 B, block),
 *            bits 6-7 a clean reboot after 0/2/5/11 feeds (0: none)
 *   then     one recipe byte per block for the data area: bits 0-1 erased /
 *            the image's bytes / the image's bytes with one byte altered /
 *            a prefix of the image's bytes, rest erased; bits 2-7 where
 *   then     the record copies, header first, then slot 0, 1, ...; each
 *            unit given for the primary, then the mirror, as its significant
 *            bytes (header body 92, slot body 16 + hash) and its 4 commit
 *            bytes; the padding of larger program units stays erased
 *   then     raw bytes laid over the data area from its start.
 *
 * The device is a RAM flash whose ops check every rule the engine promises
 * (fwresume.h, docs/record-format.md section 8) and abort on a breach:
 *  - every read, program and erase lies inside one of the engine's areas
 *    (primary copy, mirror copy, data area); the rest of the device, a unit
 *    before and a unit after the partition, is never touched;
 *  - programs are whole program units, erases whole erase units;
 *  - a program unit is programmed at most once between erases, the rule of
 *    the simulator (docs/flash-model.md: a NOR re-program is a violation even
 *    when it only clears bits, a NAND one is a partial program). A unit that
 *    holds any non-erased byte at power-on counts as programmed; one that
 *    reads erased counts as erased, since nothing can tell it apart (the
 *    engine's skipped slot after the log, row 6, covers weak charge);
 *  - on NAND, pages of an erase unit are programmed in rising order (skips
 *    allowed), counted from the highest non-erased page at power-on;
 *  - nothing is programmed or erased in a write-protected copy;
 *  - data is programmed only into erase units erased since this boot
 *    (section 4: bits that read erased after a cut may be half-programmed).
 *
 * The claim invariant. No assertion of the form "a block the engine takes
 * as done holds the server image's bytes" can be made on random flash: the
 * input may hold a header of this very image and a valid BLOCK record whose
 * hash matches data that is not the image's (a forged record; libFuzzer's
 * comparison hooks find the hash for it), and the engine is right to
 * believe it (full policy: the block hash is the only evidence; trusted:
 * the record is). Whatever the strength of the hash, that forgery is out of
 * the engine's reach. What the engine must never do is claim a block that
 * nothing on the flash vouches for. So this target runs its own reading of
 * docs/record-format.md over the flash as it was at power-on (a model
 * written from the document, not from the engine's code) and computes for
 * each block whether some reading of the log the document allows vouches
 * for it: a matching header (section 2), the slot-level union of the copies
 * in use (every choice of copies rows 2-5 allow is tried: primary alone,
 * mirror alone, both), the latest valid entry for the block being
 * BLOCK(i, h) with, under the full policy, the block's data hashing to h.
 * Then, after every engine call:
 *    block i taken as done  =>  its bytes on flash equal the image's, or
 *                                it is vouched for and its bytes are still
 *                                those it had at power-on.
 * It has no false positive (the model is an upper bound of what the engine
 * may believe, and bytes equal to the image are always right) and catches
 * claims from torn or corrupt records, records of another image or of
 * another block, voided records, and data re-programmed or erased under a
 * claim (a neighbour left "done" across an erase).
 *
 * Liveness: the flash never fails, so every call must succeed (FWR_E_AGAIN
 * aside) and feeding the image as asked must end in state COMPLETE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "fwresume.h"

#define IMAGE_SIZE  (9u * 1024u + 300u) /* a short last block in every size */
#define DEV_MAX     (128u * 1024u)
#define MAX_BLOCKS  16u
#define HDR_BODY    92u
#define HDR_CRC_OFF 88u
#define COMMIT      0xC3A5E15Au
#define EV          0xFFu
#define FEED_CALLS  4096 /* liveness bound: far above any legitimate run */

enum { AREA_REC, AREA_MIR, AREA_DATA, AREAS };

struct geom {
    uint32_t ps, es;
    uint8_t kind;
};

static const struct geom geoms[4] = {{1, 4096, FWR_FLASH_NOR},
                                     {16, 4096, FWR_FLASH_NOR},
                                     {256, 8192, FWR_FLASH_NAND},
                                     {512, 8192, FWR_FLASH_NAND}};

/* ------------------------------------------------------------ hashes */

/* CRC-32 as zlib computes it: written here, not taken from the engine, so
 * the model does not share the engine's code. */
static uint32_t crc_table[256];

static void crc_init(void)
{
    uint32_t i, j, c;
    for (i = 0; i < 256; i++) {
        for (c = i, j = 0; j < 8; j++)
            c = c & 1u ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* A 32-byte block hash (four FNV-1a-64 lanes): it gives the engine 32-byte
 * slots (the SHA-256 layout). Its strength does not matter: the claim
 * invariant never relies on a hash not colliding. */
struct wide_ctx {
    uint64_t lane[4];
};

static int wide_start(void *ctx)
{
    struct wide_ctx *w = ctx;
    int j;
    for (j = 0; j < 4; j++)
        w->lane[j] =
            0xcbf29ce484222325ull + 0x9E3779B97F4A7C15ull * (uint64_t)j;
    return 0;
}

static int wide_update(void *ctx, const void *buf, uint32_t len)
{
    struct wide_ctx *w = ctx;
    const uint8_t *p = buf;
    int j;
    while (len--) {
        for (j = 0; j < 4; j++)
            w->lane[j] = (w->lane[j] ^ *p) * 0x100000001b3ull;
        p++;
    }
    return 0;
}

static int wide_finish(void *ctx, uint8_t *digest)
{
    struct wide_ctx *w = ctx;
    int j, b;
    for (j = 0; j < 4; j++)
        for (b = 0; b < 8; b++)
            digest[j * 8 + b] = (uint8_t)(w->lane[j] >> (8 * b));
    return 0;
}

/* The block hash as the engine computes it: the built-in CRC-32 gives its
 * value big-endian (fwr_crc32.c's digest order). */
static void block_hash(int wide, const uint8_t *p, uint32_t n, uint8_t *out)
{
    if (wide) {
        struct wide_ctx w;
        wide_start(&w);
        wide_update(&w, p, n);
        wide_finish(&w, out);
    } else {
        uint32_t c = crc32(0, p, n);
        out[0] = (uint8_t)(c >> 24);
        out[1] = (uint8_t)(c >> 16);
        out[2] = (uint8_t)(c >> 8);
        out[3] = (uint8_t)c;
    }
}

/* ------------------------------------------------------------ the rig */

struct rig {
    /* From the input. */
    const struct geom *g;
    uint32_t bs, ws, hs, nblocks;
    int mirror, trusted, wide, locked, digest, wide_work;
    uint32_t chunk, reboot_after;

    /* Layout. */
    uint32_t dev, rec, area_lo[AREAS], area_hi[AREAS];
    uint32_t hdr_size, slot_size, log_slots, commit_size;

    /* The device. */
    uint8_t mem[DEV_MAX];
    uint8_t orig[DEV_MAX];               /* as at power-on, for the model */
    uint8_t programmed[DEV_MAX];         /* per program unit: since its erase */
    uint32_t next_page[DEV_MAX / 4096u]; /* NAND: lowest page allowed */
    uint8_t fresh[DEV_MAX / 4096u];      /* erase unit erased this boot */
    int prot[2];

    /* The model's verdict per block (see the top of the file). */
    uint8_t vouched[MAX_BLOCKS];
};

static struct rig R;
static uint8_t image[IMAGE_SIZE];
static struct fwr_image ident;

static uint32_t round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1u) / a * a;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint32_t block_len(uint32_t i)
{
    uint32_t rest = IMAGE_SIZE - i * R.bs;
    return rest < R.bs ? rest : R.bs;
}

/* The area holding [addr, addr + len) whole, or -1. A zero-length read at
 * an area's end is inside it. */
static int area_of(uint32_t addr, uint32_t len)
{
    uint64_t end = (uint64_t)addr + len;
    int a;
    for (a = 0; a < AREAS; a++)
        if (R.area_hi[a] > R.area_lo[a] && addr >= R.area_lo[a] &&
            end <= R.area_hi[a])
            return a;
    return -1;
}

static int op_read(void *u, uint32_t addr, void *buf, uint32_t len)
{
    (void)u;
    FUZZ_CHECK(area_of(addr, len) >= 0, "read 0x%x+%u outside the areas", addr,
               len);
    memcpy(buf, R.mem + addr, len);
    return 0;
}

/* The NAND page rule for the pages [first, first + n) of addr's unit. */
static void nand_order(uint32_t addr, uint32_t len)
{
    uint32_t unit = addr / R.g->es, page = addr % R.g->es / R.g->ps;
    FUZZ_CHECK(page >= R.next_page[unit],
               "NAND page %u of unit %u programmed after page %u", page, unit,
               R.next_page[unit] - 1u);
    R.next_page[unit] = page + len / R.g->ps;
}

static int op_prog(void *u, uint32_t addr, const void *buf, uint32_t len)
{
    const uint8_t *p = buf;
    uint32_t ps = R.g->ps, a, i;
    int area = area_of(addr, len);
    (void)u;
    FUZZ_CHECK(area >= 0 && len > 0, "program 0x%x+%u outside the areas", addr,
               len);
    FUZZ_CHECK(addr % ps == 0 && len % ps == 0,
               "program 0x%x+%u not in %u-byte units", addr, len, ps);
    FUZZ_CHECK(area == AREA_DATA || !R.prot[area],
               "program 0x%x into a protected copy", addr);
    FUZZ_CHECK(area != AREA_DATA || (R.fresh[addr / R.g->es] &&
                                     R.fresh[(addr + len - 1u) / R.g->es]),
               "data program 0x%x+%u into a unit not erased this boot", addr,
               len);
    /* A multi-unit NAND program never crosses an erase unit: each page
     * is checked against its own unit's order. */
    FUZZ_CHECK(R.g->kind != FWR_FLASH_NAND ||
                   addr / R.g->es == (addr + len - 1u) / R.g->es,
               "program 0x%x+%u crosses an erase unit", addr, len);
    for (a = addr; a < addr + len; a += ps) {
        FUZZ_CHECK(!R.programmed[a / ps],
                   "program unit 0x%x programmed twice since its erase", a);
        R.programmed[a / ps] = 1;
    }
    if (R.g->kind == FWR_FLASH_NAND)
        nand_order(addr, len);
    for (i = 0; i < len; i++)
        R.mem[addr + i] &= p[i]; /* programming only clears bits */
    return 0;
}

static int op_erase(void *u, uint32_t addr, uint32_t len)
{
    uint32_t es = R.g->es, a;
    int area = area_of(addr, len);
    (void)u;
    FUZZ_CHECK(area >= 0 && len > 0, "erase 0x%x+%u outside the areas", addr,
               len);
    FUZZ_CHECK(addr % es == 0 && len % es == 0,
               "erase 0x%x+%u not in erase units", addr, len);
    FUZZ_CHECK(area == AREA_DATA || !R.prot[area],
               "erase 0x%x in a protected copy", addr);
    memset(R.mem + addr, EV, len);
    memset(R.programmed + addr / R.g->ps, 0, len / R.g->ps);
    for (a = addr; a < addr + len; a += es) {
        R.next_page[a / es] = 0;
        R.fresh[a / es] = 1;
    }
    return 0;
}

static int op_protect(void *u, uint32_t addr, uint32_t len, int on)
{
    int area = area_of(addr, len);
    (void)u;
    FUZZ_CHECK((area == AREA_REC || area == AREA_MIR) &&
                   addr == R.area_lo[area] && len == R.rec,
               "protect 0x%x+%u is not a record copy", addr, len);
    R.prot[area] = on != 0;
    return 0;
}

/* ------------------------------------------------------------ input */

static const uint8_t *in_p;
static size_t in_n;

/* Copy up to n input bytes to dst; the rest of dst keeps its bytes. */
static void take(uint8_t *dst, uint32_t n)
{
    uint32_t k = in_n < n ? (uint32_t)in_n : n;
    memcpy(dst, in_p, k);
    in_p += k;
    in_n -= k;
}

static uint8_t take_byte(void)
{
    uint8_t b = 0;
    take(&b, 1);
    return b;
}

static void decode_variant(uint8_t v, uint8_t o)
{
    static const uint32_t chunks[4] = {97, 512, 4096, 0};
    static const uint32_t reboots[4] = {0, 2, 5, 11};
    uint32_t ws[4];

    R.g = &geoms[v & 3u];
    R.bs = 1024u << (v >> 2 & 3u);
    R.mirror = v >> 4 & 1u;
    R.trusted = v >> 5 & 1u;
    R.wide = v >> 6 & 1u;
    R.locked = v >> 7 & 1u;
    R.chunk = chunks[o & 3u];
    /* Trusted needs a digest (fwr_begin refuses it otherwise). */
    R.digest = !(o >> 2 & 1u) || R.trusted;
    R.wide_work = o >> 3 & 1u;
    /* Write sizes the engine takes: from a header body up, within the
     * block. */
    ws[0] = 0;
    ws[1] = R.g->ps > 128u ? R.g->ps : 128u;
    ws[2] = R.g->ps > 512u ? R.g->ps : 512u;
    ws[3] = R.bs;
    R.ws = ws[o >> 4 & 3u];
    R.reboot_after = reboots[o >> 6 & 3u];
    R.hs = R.wide ? 32u : 4u;
    R.nblocks = (IMAGE_SIZE + R.bs - 1u) / R.bs;
}

/* The partition: a guard unit, primary, mirror, data, a guard unit. */
static void layout(void)
{
    uint32_t es = R.g->es, at = es;
    R.rec = FWR_RECORD_AREA_SIZE(R.g->ps, es, R.hs, R.bs, IMAGE_SIZE);
    R.area_lo[AREA_REC] = at;
    R.area_hi[AREA_REC] = at += R.rec;
    R.area_lo[AREA_MIR] = R.area_hi[AREA_MIR] = 0;
    if (R.mirror) {
        R.area_lo[AREA_MIR] = at;
        R.area_hi[AREA_MIR] = at += R.rec;
    }
    R.area_lo[AREA_DATA] = at;
    R.area_hi[AREA_DATA] = at += round_up(IMAGE_SIZE, es);
    R.dev = at + es;
    R.commit_size = round_up(4, R.g->ps);
    R.hdr_size = round_up(HDR_BODY, R.g->ps) + R.commit_size;
    R.slot_size = round_up(16u + R.hs, R.g->ps) + R.commit_size;
    R.log_slots = (R.rec - R.hdr_size) / R.slot_size;
}

/* One header or slot of one copy: significant body bytes, then commit. */
static void take_unit(uint32_t at, uint32_t body)
{
    take(R.mem + at, body);
    take(R.mem + at + round_up(body, R.g->ps), 4);
}

static void fill_data(void)
{
    uint32_t i, n, where, da = R.area_lo[AREA_DATA];
    for (i = 0; i < R.nblocks; i++) {
        uint8_t r = take_byte(), *dst = R.mem + da + i * R.bs;
        n = block_len(i);
        where = (uint32_t)(r >> 2) * n / 64u;
        switch (r & 3u) {
        case 1: /* the image's bytes */
            memcpy(dst, image + i * R.bs, n);
            break;
        case 2: /* corrupt: one byte differs */
            memcpy(dst, image + i * R.bs, n);
            dst[where] ^= 0x5A;
            break;
        case 3: /* a download that stopped inside the block */
            memcpy(dst, image + i * R.bs, where);
            break;
        default: /* erased */
            break;
        }
    }
}

static void fill_records(void)
{
    uint32_t k, body = 16u + R.hs;
    int m;
    for (m = 0; m <= R.mirror; m++)
        take_unit(R.area_lo[AREA_REC + m], HDR_BODY);
    for (k = 0; k < R.log_slots; k++)
        for (m = 0; m <= R.mirror; m++)
            take_unit(R.area_lo[AREA_REC + m] + R.hdr_size + k * R.slot_size,
                      body);
}

/* Power-on state of the rules: programmed units and the NAND page order,
 * from what the cells hold. */
static void power_on_rules(void)
{
    uint32_t ps = R.g->ps, es = R.g->es, a, i;
    memset(R.programmed, 0, R.dev / ps);
    memset(R.next_page, 0, sizeof(R.next_page));
    for (a = 0; a < R.dev; a += ps)
        for (i = 0; i < ps; i++)
            if (R.mem[a + i] != EV) {
                R.programmed[a / ps] = 1;
                R.next_page[a / es] = (a % es) / ps + 1u;
                break;
            }
    R.prot[0] = R.prot[1] = R.locked;
}

/* ------------------------------------------------------------ the model */

/* Header body bytes 0..87 the document says this image has (the
 * generation at 20..23 is not part of the identity). */
static void expected_header(uint8_t *b)
{
    memset(b, 0, HDR_CRC_OFF);
    b[0] = 0x46, b[1] = 0x57, b[2] = 0x52, b[3] = 0x48; /* "FWRH" */
    b[4] = 1;
    b[5] = R.wide ? FWR_HASH_SHA256 : FWR_HASH_CRC32;
    b[6] = ident.digest_kind;
    b[7] = ident.digest_len;
    b[8] = ident.version_len;
    b[12] = (uint8_t)IMAGE_SIZE, b[13] = (uint8_t)(IMAGE_SIZE >> 8);
    b[14] = (uint8_t)(IMAGE_SIZE >> 16), b[15] = (uint8_t)(IMAGE_SIZE >> 24);
    b[16] = (uint8_t)R.bs, b[17] = (uint8_t)(R.bs >> 8);
    b[18] = (uint8_t)(R.bs >> 16), b[19] = (uint8_t)(R.bs >> 24);
    memcpy(b + 24, ident.digest, ident.digest_len);
    memcpy(b + 56, ident.version, ident.version_len);
}

/* Section 2: committed, checked, and this image's identity. */
static int copy_matches(const uint8_t *copy)
{
    uint8_t want[HDR_CRC_OFF];
    expected_header(want);
    return get32(copy + round_up(HDR_BODY, R.g->ps)) == COMMIT &&
           get32(copy + HDR_CRC_OFF) == crc32(0, copy, HDR_CRC_OFF) &&
           !memcmp(copy, want, 20) && !memcmp(copy + 24, want + 24, 64);
}

/* Section 3: slot k of a copy is valid when its commit is the magic and
 * its check value holds. */
static const uint8_t *valid_slot(const uint8_t *copy, uint32_t k)
{
    const uint8_t *s = copy + R.hdr_size + k * R.slot_size;
    uint32_t crc_off = 12u + R.hs;
    if (get32(s + round_up(16u + R.hs, R.g->ps)) != COMMIT ||
        get32(s + crc_off) != crc32(0, s, crc_off))
        return NULL;
    return s;
}

/* One reading of the log: the copies in use (primary first, slot by
 * slot), latest entry per block wins. Marks the blocks it vouches for. */
static void model_reading(const uint8_t *p, const uint8_t *m)
{
    uint8_t done[MAX_BLOCKS], h[32];
    const uint8_t *da = R.orig + R.area_lo[AREA_DATA], *s;
    uint32_t k, i, a0, a1;

    memset(done, 0, sizeof(done));
    for (k = 0; k < R.log_slots; k++) {
        s = p ? valid_slot(p, k) : NULL;
        if (!s && m)
            s = valid_slot(m, k);
        if (!s)
            continue;
        a0 = get32(s + 4);
        a1 = get32(s + 8);
        if (s[0] == 0xB1 && a0 < R.nblocks) { /* BLOCK(i, h) */
            block_hash(R.wide, da + a0 * R.bs, block_len(a0), h);
            done[a0] = R.trusted || !memcmp(h, s + 12, R.hs);
        } else if (s[0] == 0x70 && (uint64_t)a0 + a1 <= UINT32_MAX) {
            /* VOID(a, n); one whose end wraps is nothing the engine
             * writes, and reading it as voiding nothing keeps the model
             * an upper bound. */
            for (i = a0; i < a0 + a1 && i < R.nblocks; i++)
                done[i] = 0;
        }
    }
    for (i = 0; i < R.nblocks; i++)
        R.vouched[i] |= done[i];
}

static void model(void)
{
    const uint8_t *p = R.orig + R.area_lo[AREA_REC];
    const uint8_t *m = R.mirror ? R.orig + R.area_lo[AREA_MIR] : NULL;
    int pm = copy_matches(p), mm = m && copy_matches(m);

    memset(R.vouched, 0, sizeof(R.vouched));
    if (pm)
        model_reading(p, NULL);
    if (mm)
        model_reading(NULL, m);
    if (pm && mm)
        model_reading(p, m);
}

/* ------------------------------------------------------------ checks */

static void check_claims(const struct fwr *f, const char *when)
{
    uint32_t i, off, n;
    const uint8_t *now = R.mem + R.area_lo[AREA_DATA];
    const uint8_t *then = R.orig + R.area_lo[AREA_DATA];
    for (i = 0; i < R.nblocks; i++) {
        if (!fwr_block_done(f, i))
            continue;
        off = i * R.bs;
        n = block_len(i);
        FUZZ_CHECK(!memcmp(now + off, image + off, n) ||
                       (R.vouched[i] && !memcmp(now + off, then + off, n)),
                   "%s: block %u taken as done, holds neither the image nor "
                   "bytes a record vouched for",
                   when, i);
    }
}

static void check_range(const struct fwr *f, uint32_t off, uint32_t len)
{
    struct fwr_progress pr;
    FUZZ_CHECK((uint64_t)off + len <= IMAGE_SIZE, "range %u+%u past the image",
               off, len);
    FUZZ_CHECK(!len || !fwr_block_done(f, off / R.bs),
               "range at %u starts in a done block", off);
    fwr_get_progress(f, &pr);
    FUZZ_CHECK(pr.blocks_total == R.nblocks && pr.blocks_done <= R.nblocks &&
                   pr.bytes_wanted <= IMAGE_SIZE,
               "progress %u/%u blocks, %u bytes wanted", pr.blocks_done,
               pr.blocks_total, pr.bytes_wanted);
}

/* ------------------------------------------------------------ the run */

struct boot {
    struct fwr f;
    struct fwr_config c;
    struct wide_ctx wctx;
    struct fwr_hash_ops wops;
    void *work;
};

static int boot(struct boot *b)
{
    uint32_t ws = R.ws ? R.ws : (R.g->ps > 256u ? R.g->ps : 256u);
    uint32_t size;
    int rc;

    if (ws > R.bs)
        ws = R.bs;
    memset(R.fresh, 0, sizeof(R.fresh)); /* a boot: nothing erased yet */
    size = FWR_WORK_SIZE(ws, R.nblocks) + (R.wide_work ? R.g->es : 0u);
    memset(b, 0, sizeof(*b));
    /* Exactly the size given, so the sanitizer sees any overrun. */
    b->work = malloc(size);
    FUZZ_CHECK(b->work != NULL, "out of memory");
    b->c.flash.read = op_read;
    b->c.flash.program = op_prog;
    b->c.flash.erase = op_erase;
    b->c.flash.protect = op_protect;
    b->c.geometry.prog_size = R.g->ps;
    b->c.geometry.erase_size = R.g->es;
    b->c.geometry.erased_value = EV;
    b->c.geometry.kind = R.g->kind;
    b->c.layout.record_addr = R.area_lo[AREA_REC];
    b->c.layout.record_size = R.rec;
    b->c.layout.mirror_addr = R.mirror ? R.area_lo[AREA_MIR] : FWR_NO_MIRROR;
    b->c.layout.data_addr = R.area_lo[AREA_DATA];
    b->c.layout.data_size = R.area_hi[AREA_DATA] - R.area_lo[AREA_DATA];
    b->c.block_size = R.bs;
    b->c.write_size = R.ws;
    if (R.wide) {
        b->wops.kind = FWR_HASH_SHA256;
        b->wops.size = 32;
        b->wops.ctx = &b->wctx;
        b->wops.start = wide_start;
        b->wops.update = wide_update;
        b->wops.finish = wide_finish;
        b->c.block_hash = &b->wops;
    }
    b->c.verify = R.trusted ? FWR_VERIFY_TRUSTED : FWR_VERIFY_FULL;
    b->c.work = b->work;
    b->c.work_size = size;
    rc = fwr_init(&b->f, &b->c);
    FUZZ_CHECK(rc == 0, "fwr_init refused the rig's configuration: %d", rc);
    rc = fwr_begin(&b->f, &ident);
    FUZZ_CHECK(rc == 0, "fwr_begin failed on a flash that never fails: %d", rc);
    check_claims(&b->f, "after fwr_begin");
    return 0;
}

/* Feed what the engine asks for, up to max_calls feeds (0: no limit).
 * Returns the number of feeds made. */
static int download(struct boot *b, int max_calls)
{
    uint32_t off, len, n;
    int calls = 0, rc;

    while (fwr_state(&b->f) != FWR_STATE_COMPLETE) {
        FUZZ_CHECK(calls < FEED_CALLS, "no completion after %d feeds", calls);
        if (max_calls && calls >= max_calls)
            break;
        rc = fwr_next_range(&b->f, &off, &len);
        FUZZ_CHECK(rc == 0, "fwr_next_range failed: %d", rc);
        check_range(&b->f, off, len);
        FUZZ_CHECK(len > 0 || fwr_state(&b->f) == FWR_STATE_COMPLETE,
                   "nothing wanted in state %d", fwr_state(&b->f));
        while (len > 0 && (!max_calls || calls < max_calls)) {
            n = R.chunk && R.chunk < len ? R.chunk : len;
            rc = fwr_feed(&b->f, image + off, n);
            calls++;
            if (rc == FWR_E_AGAIN)
                break;
            FUZZ_CHECK(rc == (int)n, "fwr_feed(%u bytes at %u) returned %d", n,
                       off, rc);
            check_claims(&b->f, "after fwr_feed");
            off += n;
            len -= n;
            if (fwr_state(&b->f) == FWR_STATE_COMPLETE)
                break;
        }
    }
    return calls;
}

static void run(void)
{
    struct boot *b = malloc(sizeof(*b));
    FUZZ_CHECK(b != NULL, "out of memory");
    boot(b);
    if (R.reboot_after && download(b, (int)R.reboot_after) &&
        fwr_state(&b->f) != FWR_STATE_COMPLETE) {
        /* A clean reboot: the context and work buffer are gone, the
         * flash (and its protection) stays. */
        free(b->work);
        boot(b);
    }
    download(b, 0);
    FUZZ_CHECK(fwr_state(&b->f) == FWR_STATE_COMPLETE, "ended in state %d",
               fwr_state(&b->f));
    check_claims(&b->f, "complete");
    free(b->work);
    free(b);
}

/* ------------------------------------------------------------ setup */

/* The server image and its identity: fixed for every input. */
static void make_image(void)
{
    uint32_t i, x = 0x12345678u;
    for (i = 0; i < IMAGE_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image[i] = (uint8_t)x;
    }
}

static void make_ident(void)
{
    memset(&ident, 0, sizeof(ident));
    ident.size = IMAGE_SIZE;
    if (R.digest) {
        ident.digest_kind = R.wide ? FWR_HASH_SHA256 : FWR_HASH_CRC32;
        ident.digest_len = (uint8_t)R.hs;
        block_hash(R.wide, image, IMAGE_SIZE, ident.digest);
    }
    ident.version_len = 8;
    memcpy(ident.version, "fuzz-1.0", 8);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    crc_init();
    make_image();
    return 0;
}

/* Lay the input out on the device as the format at the top says. */
static void load_input(const uint8_t *data, size_t size)
{
    uint8_t v, o;
    in_p = data;
    in_n = size;
    v = take_byte();
    o = take_byte();
    decode_variant(v, o);
    layout();
    make_ident();
    memset(R.mem, EV, R.dev);
    /* The units around the partition hold someone else's bytes. */
    memset(R.mem, 0xA5, R.g->es);
    memset(R.mem + R.dev - R.g->es, 0xA5, R.g->es);
    fill_data();
    fill_records();
    take(R.mem + R.area_lo[AREA_DATA],
         R.area_hi[AREA_DATA] - R.area_lo[AREA_DATA]);
    memcpy(R.orig, R.mem, R.dev);
    power_on_rules();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_input(data, size);
    model();
    run();
    return 0;
}

#ifdef FUZZ_MKSEED
/*
 * Seed maker (built as fuzz_resume_mkseed, run by hand when the input
 * format changes): downloads part of the image with the real engine onto
 * an erased rig, stops (a clean power-off between two ops), and writes the
 * flash back in the input format above. The committed seeds under
 * corpus/resume/ come from it.
 */
#include <stdio.h>

struct seed {
    uint8_t variant, options;
    uint32_t stop;     /* stop once this many bytes were fed (0: to the end) */
    int other_version; /* records of another version of the image */
    int corrupt;       /* 1 + block whose data is altered afterwards */
};

/* A recipe byte for block i as the rig holds it now. */
static uint8_t recipe(uint32_t i)
{
    const uint8_t *d = R.mem + R.area_lo[AREA_DATA] + i * R.bs;
    const uint8_t *im = image + i * R.bs;
    uint32_t n = block_len(i), p, k;
    for (p = 0; p < n && d[p] == im[p]; p++)
        ;
    if (p == n)
        return 1;
    for (k = p; k < n && d[k] == EV; k++)
        ;
    if (k < n)
        return 2;
    return p ? (uint8_t)(3u | (p * 64u / n) << 2) : 0;
}

/* Append the significant bytes of a header or slot at at. */
static size_t put_unit(uint8_t *out, size_t o, uint32_t at, uint32_t body)
{
    memcpy(out + o, R.mem + at, body);
    memcpy(out + o + body, R.mem + at + round_up(body, R.g->ps), 4);
    return o + body + 4u;
}

static size_t encode(uint8_t *out, const struct seed *s)
{
    size_t o = 0;
    uint32_t i, k;
    int m;
    out[o++] = s->variant;
    out[o++] = s->options;
    for (i = 0; i < R.nblocks; i++)
        out[o++] =
            (uint8_t)(s->corrupt == (int)i + 1 ? 2u | 32u << 2 : recipe(i));
    for (m = 0; m <= R.mirror; m++)
        o = put_unit(out, o, R.area_lo[AREA_REC + m], HDR_BODY);
    for (k = 0; k < R.log_slots; k++)
        for (m = 0; m <= R.mirror; m++)
            o = put_unit(out, o,
                         R.area_lo[AREA_REC + m] + R.hdr_size + k * R.slot_size,
                         16u + R.hs);
    while (o > 2u + R.nblocks && out[o - 1] == EV)
        o--; /* a missing byte reads erased */
    return o;
}

static void session(const struct seed *s)
{
    struct boot *b = malloc(sizeof(*b));
    uint32_t off, len, n, fed = 0;
    FUZZ_CHECK(b != NULL, "out of memory");
    boot(b);
    while (fwr_state(&b->f) != FWR_STATE_COMPLETE &&
           (!s->stop || fed < s->stop)) {
        FUZZ_CHECK(fwr_next_range(&b->f, &off, &len) == 0, "next_range");
        while (len > 0 && (!s->stop || fed < s->stop)) {
            n = len < 700u ? len : 700u;
            if (fwr_feed(&b->f, image + off, n) != (int)n)
                break;
            off += n;
            len -= n;
            fed += n;
        }
    }
    free(b->work);
    free(b);
}

int main(int argc, char **argv)
{
    static const struct seed seeds[] = {
        {0x00, 0x00, 0, 0, 0},    {0x10, 0x00, 3000, 0, 0},
        {0x10, 0x01, 6000, 0, 0}, {0x10, 0x00, 0, 0, 0},
        {0x10, 0x00, 0, 0, 2},    {0x30, 0x02, 5000, 0, 0},
        {0x30, 0x00, 0, 0, 3},    {0x14, 0x00, 4500, 0, 0},
        {0x18, 0x40, 2000, 0, 0}, {0x0C, 0x00, 7000, 0, 0},
        {0x50, 0x08, 4000, 0, 0}, {0x11, 0x00, 3500, 0, 0},
        {0x12, 0x00, 5000, 0, 0}, {0x13, 0x10, 6500, 0, 0},
        {0x32, 0x00, 0, 0, 1},    {0x10, 0x00, 4000, 1, 0},
        {0x90, 0x00, 0, 0, 0},    {0xD0, 0xC0, 8000, 0, 0},
    };
    static uint8_t out[DEV_MAX];
    char path[4096];
    size_t i, n;
    FILE *fp;
    uint8_t vo[2];

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        const struct seed *s = &seeds[i];
        vo[0] = s->variant;
        vo[1] = s->options;
        load_input(vo, 2);
        if (s->other_version)
            ident.version[7] = '9';
        session(s);
        make_ident();
        n = encode(out, s);
        snprintf(path, sizeof(path), "%s/v%02x-o%02x-at%u%s%s", argv[1],
                 s->variant, s->options, s->stop,
                 s->other_version ? "-other" : "", s->corrupt ? "-bad" : "");
        fp = fopen(path, "wb");
        if (!fp || fwrite(out, 1, n, fp) != n || fclose(fp)) {
            fprintf(stderr, "%s: cannot write\n", path);
            return 1;
        }
        printf("%s: %zu bytes\n", path, n);
    }
    return 0;
}
#endif
