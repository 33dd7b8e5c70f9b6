/*
 * fwresume engine: log-structured block records, resume scan, streaming
 * download, completion. Format and recovery table: docs/record-format.md.
 */
#include <string.h>

#include "fwr_mutant.h"
#include "fwresume.h"

/* ------------------------------------------------------------ format */

#define HDR_MAGIC    0x48525746u /* "FWRH" */
#define COMMIT_MAGIC 0xC3A5E15Au /* neither all-0 nor all-1 */
#define FMT_VERSION  1u
#define HDR_BODY     92u /* header body bytes before padding */
#define HDR_CRC      88u /* offset of the header's check value */
#define SLOT_FIXED   16u /* slot body bytes besides the hash */

enum slot_type {
    SLOT_BLOCK = 0xB1,   /* arg0 block index, arg1 0, hash */
    SLOT_VOID = 0x70,    /* arg0 first block, arg1 count */
    SLOT_COMPLETE = 0xC3 /* arg0 nblocks, arg1 image size */
};

struct entry {
    uint8_t type;
    uint32_t arg0, arg1;
    uint8_t hash[FWR_HASH_MAX];
};

#define DEFAULT_RETRIES    3u
#define DEFAULT_RESTARTS   1u
/* Log slots beyond one per block: each boot skips a slot, each void and
 * each failed record costs one; compaction reclaims them. */
#define LOG_SLACK(nblocks) (16u + (nblocks) / 4u)

/* flags */
#define FL_MIRROR 0x01u
#define FL_DIGEST 0x02u

/* ------------------------------------------------------------ helpers */

static uint32_t round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1u) / a * a;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int fail(struct fwr *f, int err)
{
    f->last_error = (int16_t)err;
    if (err != FWR_E_AGAIN && err != FWR_E_RANGE && err != FWR_E_STATE &&
        err != FWR_E_LOCKED && err != FWR_E_INVAL)
        f->state = FWR_STATE_FAILED;
    return err;
}

static uint8_t *stage(const struct fwr *f)
{
    return (uint8_t *)f->cfg->work;
}

static uint8_t *rbuf(const struct fwr *f)
{
    return (uint8_t *)f->cfg->work + f->write_size;
}

/* The bitmaps sit at the end of the work buffer, so that whatever the
 * caller gives beyond FWR_WORK_SIZE widens the read buffer in between. */
static uint32_t bitmap_bytes(const struct fwr *f)
{
    return (f->nblocks + 31u) / 32u * 8u;
}

static uint32_t *done_map(const struct fwr *f)
{
    return (uint32_t *)((uint8_t *)f->cfg->work +
                        ((f->cfg->work_size - bitmap_bytes(f)) & ~3u));
}

/* Bytes of the read buffer: at least write_size. */
static uint32_t rbuf_size(const struct fwr *f)
{
    return ((f->cfg->work_size - bitmap_bytes(f)) & ~3u) - f->write_size;
}

static uint32_t *rec_map(const struct fwr *f)
{
    return done_map(f) + (f->nblocks + 31u) / 32u;
}

static int bit_get(const uint32_t *m, uint32_t i)
{
    return (int)((m[i >> 5] >> (i & 31u)) & 1u);
}

static void bit_set(uint32_t *m, uint32_t i, int v)
{
    if (v)
        m[i >> 5] |= 1u << (i & 31u);
    else
        m[i >> 5] &= ~(1u << (i & 31u));
}

static int is_erased(const struct fwr *f, const uint8_t *p, uint32_t n)
{
    uint8_t ev = f->cfg->geometry.erased_value;
    uint32_t i;
    for (i = 0; i < n; i++)
        if (p[i] != ev)
            return 0;
    return 1;
}

/* ------------------------------------------------------------ flash */

/* Read; an uncorrectable ECC error is reported as 1 (data unreliable). */
static int fl_read(struct fwr *f, uint32_t addr, void *buf, uint32_t len)
{
    const struct fwr_flash_ops *o = &f->cfg->flash;
    int rc = o->read(o->user, addr, buf, len);
    if (rc == FWR_FLASH_ECC_FAIL)
        return 1;
    return rc < 0 ? FWR_E_IO : 0;
}

static int fl_prog(struct fwr *f, uint32_t addr, const void *buf, uint32_t len)
{
    const struct fwr_flash_ops *o = &f->cfg->flash;
    return o->program(o->user, addr, buf, len) < 0 ? FWR_E_PROG : 0;
}

static int fl_erase(struct fwr *f, uint32_t addr, uint32_t len)
{
    const struct fwr_flash_ops *o = &f->cfg->flash;
    uint32_t tries = 0;
    while (o->erase(o->user, addr, len) < 0) {
        if (++tries > f->max_retries)
            return FWR_E_ERASE;
    }
    return 0;
}

/* Data area: logical offset to device address, skipping bad erase units
 * when the driver reports them. */
static int data_addr(struct fwr *f, uint32_t off, uint32_t *addr)
{
    const struct fwr_config *c = f->cfg;
    uint32_t es = c->geometry.erase_size;
    uint32_t want = off / es, unit = 0, good = 0;

    if (!c->flash.is_bad) {
        *addr = c->layout.data_addr + off;
        return 0;
    }
    /* Resume the walk from the cached position when going forward. */
    if (f->bad_logical <= want) {
        unit = f->bad_physical;
        good = f->bad_logical;
    }
    for (;; unit++) {
        int bad;
        if ((unit + 1u) * es > c->layout.data_size)
            return FWR_E_BADBLOCK;
        bad = c->flash.is_bad(c->flash.user, c->layout.data_addr + unit * es);
        if (bad < 0)
            return FWR_E_IO;
        if (bad)
            continue;
        if (good == want)
            break;
        good++;
    }
    f->bad_logical = want;
    f->bad_physical = unit;
    *addr = c->layout.data_addr + unit * es + off % es;
    return 0;
}

/* ------------------------------------------------------------ hashing */

static int hash_data(struct fwr *f, const struct fwr_hash_ops *h, uint32_t off,
                     uint32_t len, uint8_t *out, int *unreadable)
{
    uint32_t es = f->cfg->geometry.erase_size, n, a;
    int rc;
    *unreadable = 0;
    if (h->start(h->ctx) < 0)
        return FWR_E_HASH;
    while (len > 0) {
        /* As much as the read buffer holds, within one erase unit: the
         * bad-unit mapping is per unit. */
        n = rbuf_size(f) / f->write_size * f->write_size;
        if (n > es - off % es)
            n = es - off % es;
        if (n > len)
            n = len;
        rc = data_addr(f, off, &a);
        if (rc)
            return rc;
        rc = fl_read(f, a, rbuf(f), n);
        if (rc < 0)
            return rc;
        if (rc > 0)
            *unreadable = 1;
        if (h->update(h->ctx, rbuf(f), n) < 0)
            return FWR_E_HASH;
        off += n;
        len -= n;
    }
    return h->finish(h->ctx, out) < 0 ? FWR_E_HASH : 0;
}

static uint32_t block_len(const struct fwr *f, uint32_t i)
{
    uint32_t off = i * f->cfg->block_size;
    uint32_t rest = f->image.size - off;
    return rest < f->cfg->block_size ? rest : f->cfg->block_size;
}

/* Does block i's data hash to h? 1 yes, 0 no, negative on error. */
static int block_matches(struct fwr *f, uint32_t i, const uint8_t *h)
{
    uint8_t got[FWR_HASH_MAX];
    int unreadable;
    int rc = hash_data(f, f->bh, i * f->cfg->block_size, block_len(f, i), got,
                       &unreadable);
    if (rc)
        return rc;
    return !unreadable && memcmp(got, h, f->bh->size) == 0;
}

/* ------------------------------------------------------------ records */

static uint32_t copy_addr(const struct fwr *f, int mirror)
{
    return mirror ? f->cfg->layout.mirror_addr : f->cfg->layout.record_addr;
}

static uint32_t slot_addr(const struct fwr *f, int mirror, uint32_t k)
{
    return copy_addr(f, mirror) + f->hdr_size + k * f->slot_size;
}

static uint32_t body_size(const struct fwr *f)
{
    return round_up(SLOT_FIXED + f->bh->size, f->cfg->geometry.prog_size);
}

/* Header body (HDR_BODY bytes, check value left to write_pair) for the
 * current image and generation. */
static void make_header(const struct fwr *f, uint8_t *buf, uint32_t gen)
{
    put32(buf, HDR_MAGIC);
    buf[4] = FMT_VERSION;
    buf[5] = f->bh->kind;
    buf[6] = f->image.digest_kind;
    buf[7] = f->image.digest_len;
    buf[8] = f->image.version_len;
    buf[9] = buf[10] = buf[11] = 0;
    put32(buf + 12, f->image.size);
    put32(buf + 16, f->cfg->block_size);
    put32(buf + 20, gen);
    memset(buf + 24, 0, 64);
    memcpy(buf + 24, f->image.digest, f->image.digest_len);
    memcpy(buf + 56, f->image.version, f->image.version_len);
}

/*
 * Headers and slots share one shape: a body of bs bytes whose CRC-32 sits
 * at crc_off, then a commit field at addr + bs. Read one into rbuf: 1 valid
 * (commit reads exactly the magic and the check value holds), 0 invalid,
 * 2 erased, negative on I/O error. Body and commit are read apart: on NAND
 * each is a whole page.
 */
static int read_pair(struct fwr *f, uint32_t addr, uint32_t bs,
                     uint32_t crc_off)
{
    uint8_t *b = rbuf(f);
    uint8_t commit[4];
    int rc, rc2;

    rc = fl_read(f, addr + bs, commit, 4);
    if (rc < 0)
        return rc;
    rc2 = fl_read(f, addr, b, bs);
    if (rc2 < 0)
        return rc2;
    if (rc == 0 && rc2 == 0 && is_erased(f, commit, 4) && is_erased(f, b, bs))
        return 2;
    if (rc > 0 || rc2 > 0 || get32(commit) != COMMIT_MAGIC)
        return 0;
    if (!FWR_MUTANT_IS(FWR_MUT_NO_CHECK) &&
        get32(b + crc_off) != fwr_crc32(0, b, crc_off))
        return 0;
    return 1;
}

/*
 * Program the body staged in rbuf (bs bytes, padded with the erased value)
 * with its check value at crc_off, read it back, and only then program the
 * commit, in a separate, later program: a torn body is never committed and
 * a torn commit never reads as the magic over a bad body.
 */
static int write_pair(struct fwr *f, uint32_t addr, uint32_t bs,
                      uint32_t crc_off)
{
    uint32_t cs = round_up(4, f->cfg->geometry.prog_size);
    uint8_t *b = rbuf(f);
    int rc;

    put32(b + crc_off, fwr_crc32(0, b, crc_off));
    if (FWR_MUTANT_IS(FWR_MUT_SAME_PROGRAM) && bs + cs <= rbuf_size(f)) {
        /* Broken: body and valid flag in one program, torn together. */
        memset(b + bs, f->cfg->geometry.erased_value, cs);
        put32(b + bs, COMMIT_MAGIC);
        return fl_prog(f, addr, b, bs + cs);
    }
    rc = fl_prog(f, addr, b, bs);
    if (rc)
        return rc;
    if (!FWR_MUTANT_IS(FWR_MUT_NO_READBACK)) {
        rc = fl_read(f, addr, b, bs);
        if (rc < 0)
            return rc;
        if (rc > 0 || get32(b + crc_off) != fwr_crc32(0, b, crc_off))
            return FWR_E_PROG;
    }
    memset(b, f->cfg->geometry.erased_value, cs);
    put32(b, COMMIT_MAGIC);
    rc = fl_prog(f, addr + bs, b, cs);
    if (rc || FWR_MUTANT_IS(FWR_MUT_NO_READBACK))
        return rc;
    rc = read_pair(f, addr, bs, crc_off);
    if (rc < 0)
        return rc;
    return rc == 1 ? 0 : FWR_E_PROG;
}

/*
 * Read copy's header: returns 1 and its generation when it is committed,
 * checks out and names the current image; 0 otherwise.
 */
static int read_header(struct fwr *f, int mirror, uint32_t *gen)
{
    uint8_t want[HDR_BODY];
    uint8_t *b = rbuf(f);
    int rc;

    rc = read_pair(f, copy_addr(f, mirror),
                   round_up(HDR_BODY, f->cfg->geometry.prog_size), HDR_CRC);
    if (rc != 1)
        return rc < 0 ? rc : 0;
    *gen = get32(b + 20);
    if (FWR_MUTANT_IS(FWR_MUT_NO_VOID))
        return get32(b) == HDR_MAGIC; /* broken: any header is this image's */
    /* Compare everything but the generation and the check value. */
    make_header(f, want, 0);
    memcpy(want + 20, b + 20, 4);
    return memcmp(want, b, HDR_CRC) == 0;
}

/* Program buf[0..len) at addr and verify by reading it back. */
static int prog_verified(struct fwr *f, uint32_t addr, const uint8_t *buf,
                         uint32_t len, uint8_t *scratch)
{
    int rc = fl_prog(f, addr, buf, len);
    if (rc)
        return rc;
    if (FWR_MUTANT_IS(FWR_MUT_NO_READBACK))
        return 0;
    rc = fl_read(f, addr, scratch, len);
    if (rc < 0)
        return rc;
    return (rc > 0 || memcmp(scratch, buf, len) != 0) ? FWR_E_PROG : 0;
}

/* Erase a whole copy and give it a header (generation gen). */
static int reset_copy(struct fwr *f, int mirror, uint32_t gen)
{
    uint32_t bs = round_up(HDR_BODY, f->cfg->geometry.prog_size);
    uint32_t tries = 0;
    int rc;
    for (;;) {
        rc = fl_erase(f, copy_addr(f, mirror), f->cfg->layout.record_size);
        if (rc)
            return rc;
        memset(rbuf(f), f->cfg->geometry.erased_value, bs);
        make_header(f, rbuf(f), gen);
        rc = write_pair(f, copy_addr(f, mirror), bs, HDR_CRC);
        if (rc != FWR_E_PROG || ++tries > f->max_retries)
            return rc;
    }
}

/*
 * Read slot k of one copy into e (when not NULL). Returns 1 valid, 0
 * invalid, 2 erased, negative on I/O error.
 */
static int read_slot(struct fwr *f, int mirror, uint32_t k, struct entry *e)
{
    uint32_t hs = f->bh->size;
    uint8_t *b = rbuf(f);
    int rc = read_pair(f, slot_addr(f, mirror, k), body_size(f), 12u + hs);

    if (rc == 1 && e) {
        e->type = b[0];
        e->arg0 = get32(b + 4);
        e->arg1 = get32(b + 8);
        memcpy(e->hash, b + 12, hs);
    }
    return rc;
}

/* Program entry e into slot k of one copy: body, then commit. */
static int write_slot(struct fwr *f, int mirror, uint32_t k,
                      const struct entry *e)
{
    uint32_t bs = body_size(f), hs = f->bh->size;
    uint8_t *b = rbuf(f);

    memset(b, f->cfg->geometry.erased_value, bs);
    b[0] = e->type;
    b[1] = (uint8_t)hs;
    b[2] = b[3] = 0;
    put32(b + 4, e->arg0);
    put32(b + 8, e->arg1);
    memcpy(b + 12, e->hash, hs);
    return write_pair(f, slot_addr(f, mirror, k), bs, 12u + hs);
}

static int compact(struct fwr *f);

/* Append e to the log: primary, then the mirror at the same slot. */
static int append(struct fwr *f, const struct entry *e)
{
    uint32_t tries = 0;
    int rc;

    for (;;) {
        if (f->log_next >= f->log_slots) {
            rc = compact(f);
            if (rc)
                return rc;
            if (f->log_next >= f->log_slots)
                return FWR_E_NOSPC;
        }
        rc = write_slot(f, 0, f->log_next, e);
        if (rc == 0)
            break;
        if (rc != FWR_E_PROG || ++tries > f->max_retries)
            return rc;
        f->log_next++; /* abandon the bad slot; never re-program it */
    }
    if (f->flags & FL_MIRROR) {
        /* A mirror failure costs redundancy, not the record. */
        rc = write_slot(f, 1, f->log_next, e);
        if (rc < 0 && rc != FWR_E_PROG)
            return rc;
    }
    f->log_next++;
    return 0;
}

/*
 * Compaction when the log is full: rebuild the primary as a new generation
 * holding one record per done block (re-hashed from data that was verified
 * this session), then copy it to the mirror. While the primary is rebuilt
 * the mirror (older generation) stays whole and is the one used at boot.
 */
static int compact(struct fwr *f)
{
    uint32_t gen = f->generation + 1u, i, k;
    struct entry e;
    int rc, unreadable;

    rc = reset_copy(f, 0, gen);
    if (rc)
        return rc;
    f->log_next = 0;
    for (i = 0; i < f->nblocks; i++) {
        if (!bit_get(done_map(f), i))
            continue;
        memset(&e, 0, sizeof(e));
        e.type = SLOT_BLOCK;
        e.arg0 = i;
        rc = hash_data(f, f->bh, i * f->cfg->block_size, block_len(f, i),
                       e.hash, &unreadable);
        if (rc)
            return rc;
        if (unreadable) {
            bit_set(done_map(f), i, 0);
            bit_set(rec_map(f), i, 0);
            continue;
        }
        for (;;) {
            if (f->log_next >= f->log_slots)
                return FWR_E_NOSPC;
            rc = write_slot(f, 0, f->log_next++, &e);
            if (rc == 0)
                break;
            if (rc != FWR_E_PROG)
                return rc;
        }
    }
    if (f->flags & FL_MIRROR) {
        rc = reset_copy(f, 1, gen);
        if (rc)
            return rc;
        for (k = 0; k < f->log_next; k++) {
            rc = read_slot(f, 0, k, &e);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                rc = write_slot(f, 1, k, &e);
                if (rc < 0 && rc != FWR_E_PROG)
                    return rc;
            }
        }
    }
    /* Bits of blocks not done lose their record with the old log. */
    for (i = 0; i < (f->nblocks + 31u) / 32u; i++)
        rec_map(f)[i] = done_map(f)[i];
    f->generation = gen;
    return 0;
}

/* ------------------------------------------------------------ scan */

/*
 * One pass over the log (slot-level union of the copies). Sets the done
 * bitmap (verify full: only blocks whose data re-hashes to the record) and
 * the record bitmap (a live record exists), and finds the append position.
 * *complete is set when a COMPLETE entry is live; *tail is the last valid
 * entry (type 0: none; see fwr_begin).
 */
static int scan(struct fwr *f, int rehash, int *complete, struct entry *tail)
{
    uint32_t words = (f->nblocks + 31u) / 32u, k, i;
    struct entry e;
    int rc, used;

    memset(done_map(f), 0, 2u * words * 4u);
    *complete = 0;
    tail->type = 0;
    f->log_next = 1;
    f->progress.blocks_resumed = 0;
    for (k = 0; k < f->log_slots; k++) {
        rc = read_slot(f, 0, k, &e);
        if (rc < 0)
            return rc;
        used = rc != 2;
        if (f->flags & FL_MIRROR) {
            /* The mirror's slot serves when the primary's does not; when
             * the primary's is valid it only matters for the position. */
            int rm = read_slot(f, 1, k, rc == 1 ? NULL : &e);
            if (rm < 0)
                return rm;
            used |= rm != 2;
            if (rc != 1)
                rc = rm;
        }
        /* The slot after the last used one may have been cut with nothing
         * applied: it reads erased yet may hold weak charge, so it is
         * skipped, never programmed. */
        if (used)
            f->log_next = k + 2u;
        if (rc != 1)
            continue;
        *tail = e;
        switch (e.type) {
        case SLOT_BLOCK:
            if (e.arg0 >= f->nblocks)
                break;
            bit_set(rec_map(f), e.arg0, 1);
            /* The whitepaper's rule: a record counts only while its block
             * still hashes to it. */
            rc = 1;
            if (rehash && !FWR_MUTANT_IS(FWR_MUT_NO_RESCAN))
                rc = block_matches(f, e.arg0, e.hash);
            if (rc < 0)
                return rc;
            bit_set(done_map(f), e.arg0, rc);
            break;
        case SLOT_VOID:
            for (i = e.arg0; i < e.arg0 + e.arg1 && i < f->nblocks; i++) {
                bit_set(rec_map(f), i, 0);
                bit_set(done_map(f), i, 0);
            }
            *complete = 0;
            break;
        case SLOT_COMPLETE:
            if (e.arg0 == f->nblocks && e.arg1 == f->image.size)
                *complete = 1;
            break;
        default:
            break;
        }
    }
    for (i = 0; i < f->nblocks; i++)
        f->progress.blocks_resumed += (uint32_t)bit_get(done_map(f), i);
    return 0;
}

/* ------------------------------------------------------------ groups */

/*
 * The erase group of block i: the erase units its bytes live in, and the
 * blocks that share them ([*b0, *b1)). block_size divides erase_size or is
 * a multiple of it (fwr_init checks), so groups never overlap.
 */
static void group_of(const struct fwr *f, uint32_t i, uint32_t *gstart,
                     uint32_t *gend, uint32_t *b0, uint32_t *b1)
{
    uint32_t es = f->cfg->geometry.erase_size, bs = f->cfg->block_size;
    uint32_t off = i * bs;
    *gstart = off / es * es;
    *gend = round_up(off + bs, es);
    *b0 = *gstart / bs;
    *b1 = *gend / bs;
    if (*b1 > f->nblocks)
        *b1 = f->nblocks;
}

/*
 * Make block i writable: void every live record in its erase group (a valid
 * record must never describe data about to be re-programmed), erase the
 * group, and restart the cursor at the group's first block. Data is only
 * ever programmed into units erased in this session: after a power cut,
 * bytes that read erased may be half-programmed.
 */
static int prepare_group(struct fwr *f, uint32_t i)
{
    uint32_t gstart, gend, b0, b1, b, u, es = f->cfg->geometry.erase_size;
    int live = 0, rc;

    group_of(f, i, &gstart, &gend, &b0, &b1);
    if (FWR_MUTANT_IS(FWR_MUT_NO_NEIGHBOUR)) {
        /* Broken: erase for block i alone, neighbours left "done". */
        b0 = i;
        b1 = i + 1u;
    }
    for (b = b0; b < b1; b++)
        live |= bit_get(rec_map(f), b);
    if (live && !FWR_MUTANT_IS(FWR_MUT_NO_VOID)) {
        struct entry e;
        memset(&e, 0, sizeof(e));
        e.type = SLOT_VOID;
        e.arg0 = b0;
        e.arg1 = b1 - b0;
        rc = append(f, &e);
        if (rc)
            return rc;
    }
    for (b = b0; b < b1; b++) {
        if (bit_get(done_map(f), b))
            f->progress.blocks_rewritten++;
        bit_set(rec_map(f), b, 0);
        bit_set(done_map(f), b, 0);
    }
    for (u = gstart; u < gend; u += es) {
        uint32_t a;
        rc = data_addr(f, u, &a);
        if (rc)
            return rc;
        rc = fl_erase(f, a, es);
        if (rc)
            return rc;
    }
    f->erase_lo = gstart;
    f->erase_hi = gend;
    f->wr_ptr = gstart;
    f->cursor = FWR_MUTANT_IS(FWR_MUT_NO_NEIGHBOUR) ? i : b0;
    if (FWR_MUTANT_IS(FWR_MUT_NO_NEIGHBOUR))
        f->wr_ptr = i * f->cfg->block_size;
    return 0;
}

/* Block i can be programmed from its start without an erase. */
static int writable(const struct fwr *f, uint32_t i)
{
    uint32_t off = i * f->cfg->block_size;
    return f->erase_hi > f->erase_lo && off == f->wr_ptr &&
           off >= f->erase_lo && off + f->cfg->block_size <= f->erase_hi;
}

static uint32_t first_wanted(const struct fwr *f, uint32_t from)
{
    uint32_t i;
    for (i = from; i < f->nblocks; i++)
        if (!bit_get(done_map(f), i))
            break;
    return i;
}

/* ------------------------------------------------------------ completion */

static int set_protect(struct fwr *f, int on)
{
    const struct fwr_config *c = f->cfg;
    if (!c->flash.protect)
        return 0;
    if (c->flash.protect(c->flash.user, c->layout.record_addr,
                         c->layout.record_size, on) < 0)
        return FWR_E_IO;
    if ((f->flags & FL_MIRROR) &&
        c->flash.protect(c->flash.user, c->layout.mirror_addr,
                         c->layout.record_size, on) < 0)
        return FWR_E_IO;
    return 0;
}

static int new_image(struct fwr *f, uint32_t gen);
static int scan_all(struct fwr *f, int rehash, int *complete,
                    struct entry *tail);

/* Every block is done: check the image digest, mark complete, lock. */
static int finish(struct fwr *f)
{
    struct entry e;
    int rc;

    if ((f->flags & FL_DIGEST) && !FWR_MUTANT_IS(FWR_MUT_NO_DIGEST)) {
        uint8_t d[FWR_HASH_MAX];
        int unreadable;
        rc = hash_data(f, f->ih, 0, f->image.size, d, &unreadable);
        if (rc)
            return rc;
        if (unreadable || memcmp(d, f->image.digest, f->image.digest_len)) {
            int complete;
            if (f->cfg->verify == FWR_VERIFY_TRUSTED && !f->rescanned) {
                /* Records were trusted: find the blocks that lie. */
                f->rescanned = 1;
                rc = scan_all(f, 1, &complete, &e);
                if (rc)
                    return rc;
                if (first_wanted(f, 0) < f->nblocks) {
                    f->erase_lo = f->erase_hi = 0;
                    f->state = FWR_STATE_DOWNLOADING;
                    return 0;
                }
            }
            /* Blocks match their records, yet the image is wrong: the
             * records hash corrupt bytes. Start over, a bounded number of
             * times. */
            if (f->progress.restarts >= f->max_restarts)
                return FWR_E_DIGEST;
            f->progress.restarts++;
            /* Void everything in the log first: a cut while the copies
             * are re-made below leaves the older generation in use (see
             * fwr_begin), and its records must not count again. */
            memset(&e, 0, sizeof(e));
            e.type = SLOT_VOID;
            e.arg1 = f->nblocks;
            rc = append(f, &e);
            if (rc)
                return rc;
            rc = new_image(f, f->generation + 1u);
            if (rc)
                return rc;
            f->state = FWR_STATE_EMPTY;
            return 0;
        }
    }
    memset(&e, 0, sizeof(e));
    e.type = SLOT_COMPLETE;
    e.arg0 = f->nblocks;
    e.arg1 = f->image.size;
    rc = append(f, &e);
    if (rc)
        return rc;
    rc = set_protect(f, 1);
    if (rc)
        return rc;
    f->state = FWR_STATE_COMPLETE;
    return 0;
}

/* ------------------------------------------------------------ setup */

/* Void everything: fresh headers for the current image in both copies. */
static int new_image(struct fwr *f, uint32_t gen)
{
    uint32_t words = (f->nblocks + 31u) / 32u;
    int rc;

    rc = set_protect(f, 0);
    if (rc)
        return rc;
    /* The primary first: once its header names the new image, no old
     * record in either copy can count (the mirror's header differs). */
    rc = reset_copy(f, 0, gen);
    if (rc)
        return rc;
    if (f->flags & FL_MIRROR) {
        rc = reset_copy(f, 1, gen);
        if (rc)
            return rc;
    }
    memset(done_map(f), 0, 2u * words * 4u);
    f->generation = gen;
    f->log_next = 0;
    f->erase_lo = f->erase_hi = f->wr_ptr = 0;
    f->cursor = 0;
    f->progress.blocks_resumed = 0;
    return 0;
}

static int scan_all(struct fwr *f, int rehash, int *complete,
                    struct entry *tail)
{
    int rc = scan(f, 0, complete, tail);
    if (rc || !rehash)
        return rc;
    /* Policy full re-hashes even a complete image: data that rotted
     * while the power was off is found before anyone installs it. */
    rc = scan(f, 1, complete, tail);
    if (!rc && *complete && first_wanted(f, 0) < f->nblocks)
        *complete = 0;
    return rc;
}

int fwr_init(struct fwr *f, const struct fwr_config *cfg)
{
    const struct fwr_geometry *g;
    const struct fwr_layout *l;
    uint32_t ws, ps, es, hdr, body;

    if (!f || !cfg)
        return FWR_E_INVAL;
    memset(f, 0, sizeof(*f));
    f->cfg = cfg;
    g = &cfg->geometry;
    l = &cfg->layout;
    ps = g->prog_size;
    es = g->erase_size;
    if (!cfg->flash.read || !cfg->flash.program || !cfg->flash.erase ||
        !cfg->work)
        return fail(f, FWR_E_INVAL);
    if (ps == 0 || (ps & (ps - 1u)) || es == 0 || es % ps ||
        g->kind > FWR_FLASH_NAND)
        return fail(f, FWR_E_GEOMETRY);
    if (cfg->block_size == 0 || cfg->block_size % ps)
        return fail(f, FWR_E_GEOMETRY);
    /* Groups of blocks must tile erase units exactly. */
    if (es % cfg->block_size && cfg->block_size % es)
        return fail(f, FWR_E_GEOMETRY);
    ws = cfg->write_size;
    if (ws == 0) {
        ws = ps > 256u ? ps : 256u;
        if (ws > cfg->block_size)
            ws = cfg->block_size;
    }
    if (ws % ps || cfg->block_size % ws || (es % ws && ws % es))
        return fail(f, FWR_E_GEOMETRY);
    f->write_size = ws;

    f->bh = cfg->block_hash;
    if (!f->bh) {
        fwr_hash_crc32(&f->crc_ops, &f->crc_ctx);
        f->bh = &f->crc_ops;
    }
    if (!f->bh->start || !f->bh->update || !f->bh->finish || !f->bh->size ||
        f->bh->size > FWR_HASH_MAX)
        return fail(f, FWR_E_INVAL);
    hdr = round_up(HDR_BODY, ps) + round_up(4, ps);
    body = round_up(SLOT_FIXED + f->bh->size, ps);
    /* Record ops stage a header body, or a slot, in the read-back half. */
    if (round_up(HDR_BODY, ps) > ws || body > ws)
        return fail(f, FWR_E_GEOMETRY);
    f->hdr_size = hdr;
    f->slot_size = body + round_up(4, ps);

    if (l->record_addr % es || l->record_size % es || l->record_size == 0 ||
        l->data_addr % es || l->data_size % es || l->data_size == 0)
        return fail(f, FWR_E_GEOMETRY);
    if (l->mirror_addr != FWR_NO_MIRROR) {
        if (l->mirror_addr % es)
            return fail(f, FWR_E_GEOMETRY);
        f->flags |= FL_MIRROR;
    }
    /* Areas must not overlap. */
#define OVERLAP(a, as, b, bs) ((a) < (b) + (bs) && (b) < (a) + (as))
    if (OVERLAP(l->record_addr, l->record_size, l->data_addr, l->data_size) ||
        ((f->flags & FL_MIRROR) &&
         (OVERLAP(l->mirror_addr, l->record_size, l->data_addr, l->data_size) ||
          OVERLAP(l->mirror_addr, l->record_size, l->record_addr,
                  l->record_size))))
        return fail(f, FWR_E_GEOMETRY);
#undef OVERLAP
    if (l->record_size <= hdr)
        return fail(f, FWR_E_NOSPC);
    f->log_slots = (l->record_size - hdr) / f->slot_size;
    if (cfg->verify > FWR_VERIFY_TRUSTED)
        return fail(f, FWR_E_INVAL);
    f->max_retries = cfg->max_retries ? cfg->max_retries : DEFAULT_RETRIES;
    f->max_restarts = cfg->max_restarts ? cfg->max_restarts : DEFAULT_RESTARTS;
    f->state = FWR_STATE_IDLE;
    return 0;
}

int32_t fwr_record_area_min(const struct fwr_config *cfg, uint32_t image_size)
{
    struct fwr f;
    uint32_t nblocks, need;
    int rc;

    if (!cfg || image_size == 0)
        return FWR_E_INVAL;
    /* fwr_init checks everything but the size; a scratch context will do. */
    rc = fwr_init(&f, cfg);
    if (rc && rc != FWR_E_NOSPC && rc != FWR_E_INVAL)
        return rc;
    if (rc == FWR_E_INVAL && (!cfg->block_size || !cfg->geometry.prog_size))
        return rc;
    if (rc) {
        /* Recompute the sizes fwr_init stopped before filling in. */
        uint32_t ps = cfg->geometry.prog_size;
        uint32_t hs = cfg->block_hash ? cfg->block_hash->size : 4u;
        f.hdr_size = round_up(HDR_BODY, ps) + round_up(4, ps);
        f.slot_size = round_up(SLOT_FIXED + hs, ps) + round_up(4, ps);
    }
    nblocks = (image_size + cfg->block_size - 1u) / cfg->block_size;
    need = f.hdr_size + (nblocks + LOG_SLACK(nblocks)) * f.slot_size;
    return (int32_t)round_up(need, cfg->geometry.erase_size);
}

int fwr_begin(struct fwr *f, const struct fwr_image *img)
{
    const struct fwr_config *c;
    uint32_t gen_p = 0, gen_m = 0, words, es;
    int ok_p, ok_m, complete, rc;
    struct entry tail;

    if (!f || !f->cfg || !img)
        return FWR_E_INVAL;
    c = f->cfg;
    if (f->state == FWR_STATE_FAILED && f->last_error != 0 && !f->nblocks)
        return FWR_E_STATE;
    if (img->size == 0 || img->digest_len > FWR_HASH_MAX ||
        img->version_len > sizeof(img->version))
        return fail(f, FWR_E_INVAL);
    f->image = *img;
    f->flags &= (uint8_t)~FL_DIGEST;
    f->ih = NULL;
    if (img->digest_kind != FWR_HASH_NONE) {
        const struct fwr_hash_ops *ih = c->image_hash;
        if (!ih && f->bh->kind == img->digest_kind)
            ih = f->bh;
        if (!ih || ih->kind != img->digest_kind || ih->size < img->digest_len ||
            img->digest_len == 0)
            return fail(f, FWR_E_INVAL);
        f->ih = ih;
        f->flags |= FL_DIGEST;
    }
    if (c->verify == FWR_VERIFY_TRUSTED && !(f->flags & FL_DIGEST))
        return fail(f, FWR_E_INVAL);
    f->nblocks = (img->size + c->block_size - 1u) / c->block_size;
    words = (f->nblocks + 31u) / 32u;
    if (c->work_size < 2u * f->write_size + 2u * words * 4u ||
        rbuf_size(f) < f->write_size)
        return fail(f, FWR_E_INVAL);
    es = c->geometry.erase_size;
    if (round_up(img->size, es) > c->layout.data_size)
        return fail(f, FWR_E_NOSPC);
    if (f->log_slots < f->nblocks + LOG_SLACK(f->nblocks))
        return fail(f, FWR_E_NOSPC);
    memset(&f->progress, 0, sizeof(f->progress));
    f->progress.blocks_total = f->nblocks;
    f->cursor = f->block_fill = f->stage_fill = 0;
    f->erase_lo = f->erase_hi = f->wr_ptr = 0;
    f->bad_logical = f->bad_physical = 0;
    f->rescanned = 0;
    f->retries = 0;

    ok_p = read_header(f, 0, &gen_p);
    if (ok_p < 0)
        return fail(f, ok_p);
    ok_m = 0;
    if (f->flags & FL_MIRROR) {
        ok_m = read_header(f, 1, &gen_m);
        if (ok_m < 0)
            return fail(f, ok_m);
    }
    if (!ok_p && !ok_m) {
        rc = new_image(f, 1);
        if (rc)
            return fail(f, rc);
        f->state = FWR_STATE_EMPTY;
        return 0;
    }
    /*
     * Generations differ only while a compaction rebuilt the primary: the
     * older copy is then the whole log. A copy that does not hold the chosen
     * generation is re-made empty (its slots read erased, the other copy's
     * count).
     */
    if (ok_p && ok_m && gen_p != gen_m) {
        if (gen_p > gen_m)
            ok_p = 0;
        else
            ok_m = 0;
    }
    f->generation = ok_p ? gen_p : gen_m;
    if (!ok_p || ((f->flags & FL_MIRROR) && !ok_m)) {
        /* One copy is re-made; it may sit in a locked (complete) area. */
        rc = set_protect(f, 0);
        if (!rc)
            rc = reset_copy(f, ok_p, f->generation);
        if (rc)
            return fail(f, rc);
    }
    rc = scan_all(f, c->verify == FWR_VERIFY_FULL, &complete, &tail);
    if (rc)
        return fail(f, rc);
    if (tail.type == SLOT_VOID && !FWR_MUTANT_IS(FWR_MUT_NO_VOID)) {
        /*
         * The last valid entry is a VOID: its commit may be a torn program
         * that read as the magic this time and may not next time, which
         * would bring the records it voids back to life after their data
         * was erased. Append a stable copy before anything acts on it.
         */
        rc = append(f, &tail);
        if (rc)
            return fail(f, rc);
    }
    if (complete) {
        /* Lock (again): a copy may just have been re-made. Idempotent. */
        rc = set_protect(f, 1);
        if (rc)
            return fail(f, rc);
        f->progress.blocks_done = f->nblocks;
        f->state = FWR_STATE_COMPLETE;
        return 0;
    }
    if (c->verify == FWR_VERIFY_FULL && f->progress.blocks_resumed) {
        /* A complete, locked image may just have failed its re-hash:
         * release the lock before blocks are written again. */
        rc = set_protect(f, 0);
        if (rc)
            return fail(f, rc);
    }
    f->cursor = first_wanted(f, 0);
    f->state =
        f->progress.blocks_resumed ? FWR_STATE_DOWNLOADING : FWR_STATE_EMPTY;
    return 0;
}

/* ------------------------------------------------------------ download */

int fwr_next_range(struct fwr *f, uint32_t *offset, uint32_t *len)
{
    uint32_t bs, end, i;
    int rc;

    if (!f || !offset || !len)
        return FWR_E_INVAL;
    *offset = *len = 0;
    if (f->state == FWR_STATE_COMPLETE)
        return 0;
    if (f->state != FWR_STATE_EMPTY && f->state != FWR_STATE_DOWNLOADING)
        return FWR_E_STATE;
    bs = f->cfg->block_size;
    if (f->block_fill == 0) {
        f->cursor = first_wanted(f, 0);
        if (f->cursor >= f->nblocks) {
            rc = finish(f);
            if (rc)
                return fail(f, rc);
            if (f->state == FWR_STATE_COMPLETE)
                return 0;
            f->cursor = first_wanted(f, 0);
        }
        if (!writable(f, f->cursor)) {
            rc = prepare_group(f, f->cursor);
            if (rc)
                return fail(f, rc);
        }
    }
    /* The run of wanted blocks from the cursor, as one request. */
    for (i = f->cursor + 1u; i < f->nblocks && !bit_get(done_map(f), i); i++)
        ;
    end = i * bs;
    if (end > f->image.size)
        end = f->image.size;
    *offset = f->cursor * bs + f->block_fill;
    *len = end - *offset;
    return 0;
}

/* Program the staged chunk at the write pointer and read it back. */
static int flush_stage(struct fwr *f)
{
    uint32_t a, ws = f->write_size;
    int rc;

    if (f->stage_fill < ws)
        memset(stage(f) + f->stage_fill, f->cfg->geometry.erased_value,
               ws - f->stage_fill);
    rc = data_addr(f, f->wr_ptr, &a);
    if (rc)
        return rc;
    rc = prog_verified(f, a, stage(f), ws, rbuf(f));
    if (rc)
        return rc;
    f->wr_ptr += ws;
    f->stage_fill = 0;
    return 0;
}

/*
 * A program of the cursor block failed: forget the transfer, re-prepare its
 * group. Retries are counted per erase group, not per block, so two blocks
 * of one group failing in turn cannot retry forever.
 */
static int block_failed(struct fwr *f, int err)
{
    uint32_t gs, ge, b0, b1;
    if (err != FWR_E_PROG)
        return fail(f, err);
    group_of(f, f->cursor, &gs, &ge, &b0, &b1);
    if (f->retry_block != b0 + 1u) {
        f->retry_block = b0 + 1u;
        f->retries = 0;
    }
    if (++f->retries > f->max_retries)
        return fail(f, FWR_E_PROG);
    f->block_fill = f->stage_fill = 0;
    f->erase_lo = f->erase_hi = f->wr_ptr = 0; /* force an erase */
    return fail(f, FWR_E_AGAIN);
}

/* Finish the current block's hash and append its record. */
static int record_block(struct fwr *f)
{
    struct entry e;
    memset(&e, 0, sizeof(e));
    e.type = SLOT_BLOCK;
    e.arg0 = f->cursor;
    if (f->bh->finish(f->bh->ctx, e.hash) < 0)
        return FWR_E_HASH;
    return append(f, &e);
}

/* The current block has all its bytes on flash: record it. */
static int block_done(struct fwr *f)
{
    int rc;
    if (!FWR_MUTANT_IS(FWR_MUT_VALID_FIRST)) {
        rc = record_block(f);
        if (rc)
            return rc;
    }
    bit_set(rec_map(f), f->cursor, 1);
    bit_set(done_map(f), f->cursor, 1);
    f->cursor++;
    f->block_fill = 0;
    return 0;
}

int fwr_feed(struct fwr *f, const void *buf, uint32_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    uint32_t left = len, bs, ws;
    int rc;

    if (!f || (!buf && len))
        return FWR_E_INVAL;
    if (f->state == FWR_STATE_COMPLETE)
        return FWR_E_LOCKED;
    if (f->state != FWR_STATE_EMPTY && f->state != FWR_STATE_DOWNLOADING)
        return FWR_E_STATE;
    if (f->cursor >= f->nblocks || bit_get(done_map(f), f->cursor))
        return FWR_E_RANGE;
    bs = f->cfg->block_size;
    ws = f->write_size;
    f->state = FWR_STATE_DOWNLOADING;
    while (left > 0) {
        uint32_t blen, n;
        if (f->block_fill == 0) {
            /* Each new block continues at the write pointer of an erased
             * group, or opens the next group. */
            if (f->cursor >= f->nblocks || bit_get(done_map(f), f->cursor))
                return FWR_E_RANGE;
            if (!writable(f, f->cursor)) {
                uint32_t want = f->cursor;
                rc = prepare_group(f, want);
                if (rc)
                    return fail(f, rc);
                if (f->cursor != want)
                    return fail(f, FWR_E_AGAIN);
            }
            if (f->bh->start(f->bh->ctx) < 0)
                return fail(f, FWR_E_HASH);
        }
        blen = block_len(f, f->cursor);
        n = blen - f->block_fill;
        if (n > left)
            n = left;
        if (n > ws - f->stage_fill)
            n = ws - f->stage_fill;
        memcpy(stage(f) + f->stage_fill, p, n);
        if (f->bh->update(f->bh->ctx, p, n) < 0)
            return fail(f, FWR_E_HASH);
        f->stage_fill += n;
        f->block_fill += n;
        p += n;
        left -= n;
        if (f->stage_fill == ws || f->block_fill == blen) {
            if (f->block_fill == blen && FWR_MUTANT_IS(FWR_MUT_VALID_FIRST)) {
                /* Broken: the record is committed before the block's last
                 * chunk is on flash. */
                rc = record_block(f);
                if (rc)
                    return fail(f, rc);
            }
            rc = flush_stage(f);
            if (rc)
                return block_failed(f, rc);
        }
        if (f->block_fill == blen) {
            /* A short last block leaves its chunks' tail erased. */
            f->wr_ptr = (f->cursor + 1u) * bs;
            rc = block_done(f);
            if (rc)
                return fail(f, rc);
            if (left &&
                (f->cursor >= f->nblocks || bit_get(done_map(f), f->cursor)))
                return fail(f, FWR_E_RANGE);
        }
    }
    /* Blocks before the cursor are done, so the cheap test from the cursor
     * runs first; the full one only confirms. */
    if (f->block_fill == 0 && first_wanted(f, f->cursor) >= f->nblocks &&
        first_wanted(f, 0) >= f->nblocks) {
        rc = finish(f);
        if (rc)
            return fail(f, rc);
    }
    return (int)len;
}

enum fwr_state fwr_state(const struct fwr *f)
{
    return (enum fwr_state)f->state;
}

void fwr_get_progress(const struct fwr *f, struct fwr_progress *p)
{
    uint32_t i, wanted = 0;
    *p = f->progress;
    if (f->state == FWR_STATE_IDLE || !f->nblocks)
        return;
    p->blocks_done = 0;
    for (i = 0; i < f->nblocks; i++) {
        if (bit_get(done_map(f), i) || f->state == FWR_STATE_COMPLETE)
            p->blocks_done++;
        else
            wanted += block_len(f, i);
    }
    p->bytes_wanted = wanted - (f->block_fill < wanted ? f->block_fill : 0);
}

int fwr_block_done(const struct fwr *f, uint32_t i)
{
    if (f->state == FWR_STATE_COMPLETE)
        return i < f->nblocks;
    if (f->state == FWR_STATE_IDLE || i >= f->nblocks)
        return 0;
    return bit_get(done_map(f), i);
}

int fwr_last_error(const struct fwr *f)
{
    return f->last_error;
}
