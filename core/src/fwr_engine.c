/*
 * fwresume engine: log-structured block records, resume scan, streaming
 * download, completion. Format and recovery table: docs/record-format.md.
 *
 * Written for size (the budget is 4 KiB of Cortex-M4 code): every public
 * entry point reports errors through one fail() call, records are built
 * and parsed by memcpy of one struct, and the configuration is checked in
 * one expression.
 */
#include <stddef.h>
#include <string.h>

#include "fwr_mutant.h"
#include "fwresume.h"

/* ------------------------------------------------------------ format */

#define HDR_MAGIC    0x48525746u /* "FWRH" */
#define COMMIT_MAGIC 0xC3A5E15Au /* neither all-0 nor all-1 */
#define FMT_VERSION  1u
#define HDR_CRC      88u /* offset of the header's check value */
#define ENTRY_FIXED  12u /* slot body bytes before the hash */

enum slot_type {
    SLOT_BLOCK = 0xB1,   /* arg0 block index, arg1 0, hash */
    SLOT_VOID = 0x70,    /* arg0 first block, arg1 count */
    SLOT_COMPLETE = 0xC3 /* arg0 nblocks, arg1 image size */
};

/* A log entry as a slot body holds it (docs/record-format.md); the check
 * value follows the hash_size bytes of hash. */
struct entry {
    uint8_t type;
    uint8_t hash_size;
    uint8_t pad[2];
    uint32_t arg0, arg1;
    uint8_t hash[FWR_HASH_MAX];
};
typedef char
    entry_layout_check[offsetof(struct entry, hash) == ENTRY_FIXED ? 1 : -1];

#define DEFAULT_RETRIES  3u
#define DEFAULT_RESTARTS 1u

#define FL_MIRROR 1 /* flags: a mirror copy exists */

/* Errors after which the engine cannot go on (bit -err set): everything
 * but INVAL, STATE, RANGE, AGAIN and LOCKED, which leave it usable. */
#define FATAL_ERRORS                                                           \
    (1u << -FWR_E_GEOMETRY | 1u << -FWR_E_NOSPC | 1u << -FWR_E_IO |            \
     1u << -FWR_E_PROG | 1u << -FWR_E_ERASE | 1u << -FWR_E_HASH |              \
     1u << -FWR_E_DIGEST | 1u << -FWR_E_BADBLOCK | 1u << -FWR_E_DIGEST_ORDER)

/* ------------------------------------------------------------ helpers */

static uint32_t round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1u) / a * a;
}

/* Little-endian on flash, whatever the CPU. */
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

/* Record err as the last error; a fatal one stops the engine. Once failed,
 * only another fatal error replaces the one that stopped it. */
static int fail(struct fwr *f, int err)
{
    int fatal = (FATAL_ERRORS >> -err) & 1u;
    if (FWR_MUTANT_IS(FWR_MUT_SOFT_ERRORS))
        fatal = 0; /* broken: the engine goes on after anything */
    if (fatal || f->state != FWR_STATE_FAILED)
        f->last_error = (int16_t)err;
    if (fatal)
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

/* Bytes of the read buffer: from the staging chunk to the bitmaps, which
 * sit at the end of the work buffer (a larger buffer widens this one). */
static uint32_t rbuf_size(const struct fwr *f)
{
    return (uint32_t)((uint8_t *)f->done - rbuf(f));
}

static uint32_t map_words(const struct fwr *f)
{
    return (f->nblocks + 31u) / 32u;
}

static int bit_get(const uint32_t *m, uint32_t i)
{
    return (int)((m[i >> 5] >> (i & 31u)) & 1u);
}

static void bit_put(uint32_t *m, uint32_t i, int v)
{
    m[i >> 5] &= ~(1u << (i & 31u));
    m[i >> 5] |= (uint32_t)v << (i & 31u);
}

static int is_erased(const struct fwr *f, const uint8_t *p, uint32_t n)
{
    while (n--)
        if (p[n] != f->erased_value)
            return 0;
    return 1;
}

static uint32_t block_len(const struct fwr *f, uint32_t i)
{
    uint32_t rest = f->image.size - i * f->block_size;
    return rest < f->block_size ? rest : f->block_size;
}

static uint32_t first_wanted(const struct fwr *f, uint32_t from)
{
    while (from < f->nblocks && bit_get(f->done, from))
        from++;
    return from;
}

/* Forget blocks [b0, b1): no live record, not done. Returns how many of
 * them were done. */
static uint32_t forget(struct fwr *f, uint32_t b0, uint32_t b1)
{
    uint32_t n = 0;
    for (; b0 < b1 && b0 < f->nblocks; b0++) {
        n += (uint32_t)bit_get(f->done, b0);
        bit_put(f->done, b0, 0);
        bit_put(f->rec, b0, 0);
    }
    return n;
}

/* ------------------------------------------------------------ flash */

/* Read; an uncorrectable ECC error is reported as 1 (data unreliable)
 * once it persists over max_retries reads: a read flip that ECC could not
 * correct is gone on the next read, and must not cost a download. */
static int fl_read(struct fwr *f, uint32_t addr, void *buf, uint32_t len)
{
    const struct fwr_flash_ops *o = &f->cfg->flash;
    uint32_t tries = 0;
    int rc;
    while ((rc = o->read(o->user, addr, buf, len)) == FWR_FLASH_ECC_FAIL)
        if (++tries > f->max_retries)
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
    int rc;
    while ((rc = o->erase(o->user, addr, len)) < 0) {
        if (rc == FWR_E_BADBLOCK)
            return rc; /* the bad-block layer has no good unit left */
        if (++tries > f->max_retries)
            return FWR_E_ERASE;
    }
    return 0;
}

/* ------------------------------------------------------------ hashing */

/* Hash len data bytes from off into out: 0, 1 when some read was
 * uncorrectable (out is then meaningless), negative on error. */
static int hash_data(struct fwr *f, const struct fwr_hash_ops *h, uint32_t off,
                     uint32_t len, uint8_t *out)
{
    uint32_t n;
    int rc, unreadable = 0;
    if (h->start(h->ctx) < 0)
        return FWR_E_HASH;
    off += f->cfg->layout.data_addr;
    while (len > 0) {
        /* As much as the read buffer holds, in whole staging chunks (on
         * NAND: whole pages). */
        n = rbuf_size(f) / f->write_size * f->write_size;
        if (n > len)
            n = len;
        rc = fl_read(f, off, rbuf(f), n);
        if (rc < 0)
            return rc;
        unreadable |= rc;
        if (h->update(h->ctx, rbuf(f), n) < 0)
            return FWR_E_HASH;
        off += n;
        len -= n;
    }
    return h->finish(h->ctx, out) < 0 ? FWR_E_HASH : unreadable;
}

/* Does block i's data hash to h? 1 yes, 0 no, negative on error. */
static int block_matches(struct fwr *f, uint32_t i, const uint8_t *h)
{
    uint8_t got[FWR_HASH_MAX];
    int rc = hash_data(f, f->bh, i * f->block_size, block_len(f, i), got);
    if (rc)
        return rc < 0 ? rc : 0;
    return memcmp(got, h, f->bh->size) == 0;
}

/* ------------------------------------------------------------ records */

static uint32_t copy_addr(const struct fwr *f, int mirror)
{
    return mirror ? f->cfg->layout.mirror_addr : f->cfg->layout.record_addr;
}

/* Header body (check value left to write_pair) for the current image. */
static void make_header(const struct fwr *f, uint8_t *b, uint32_t gen)
{
    memset(b, 0, HDR_CRC);
    put32(b, HDR_MAGIC);
    b[4] = FMT_VERSION;
    b[5] = f->bh->kind;
    b[6] = f->image.digest_kind;
    b[7] = f->image.digest_len;
    b[8] = f->image.version_len;
    put32(b + 12, f->image.size);
    put32(b + 16, f->block_size);
    put32(b + 20, gen);
    memcpy(b + 24, f->image.digest, f->image.digest_len);
    memcpy(b + 56, f->image.version, f->image.version_len);
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
    uint8_t *b = rbuf(f), commit[4];
    int rc = fl_read(f, addr + bs, commit, 4), rc2;

    if (rc < 0)
        return rc;
    rc2 = fl_read(f, addr, b, bs);
    if (rc2 < 0)
        return rc2;
    if (rc | rc2)
        return 0;
    if (is_erased(f, commit, 4) && is_erased(f, b, bs))
        return 2;
    return get32(commit) == COMMIT_MAGIC &&
           (FWR_MUTANT_IS(FWR_MUT_NO_CHECK) ||
            get32(b + crc_off) == fwr_crc32(0, b, crc_off));
}

/*
 * Program the body staged in rbuf (bs bytes, padded with the erased value)
 * with its check value at crc_off, then the commit in a separate, later
 * program, and read both back. A torn or failed body never checks out, so
 * its commit, if it lands, commits nothing.
 */
static int write_pair(struct fwr *f, uint32_t addr, uint32_t bs,
                      uint32_t crc_off)
{
    uint32_t cs = f->commit_size;
    uint8_t *b = rbuf(f);
    int rc;

    put32(b + crc_off, fwr_crc32(0, b, crc_off));
    if (FWR_MUTANT_IS(FWR_MUT_SAME_PROGRAM) && bs + cs <= rbuf_size(f)) {
        /* Broken: body and valid flag in one program, torn together. */
        memset(b + bs, f->erased_value, cs);
        put32(b + bs, COMMIT_MAGIC);
        return fl_prog(f, addr, b, bs + cs);
    }
    rc = fl_prog(f, addr, b, bs);
    if (rc)
        return rc;
    memset(b, f->erased_value, cs);
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
 * Read copy's header: its generation (generations start at 1) when it is
 * committed, checks out and names the current image; 0 otherwise;
 * negative on error.
 */
static int32_t read_header(struct fwr *f, int mirror)
{
    uint8_t *b = rbuf(f);
    int32_t gen, rc = read_pair(f, copy_addr(f, mirror),
                                f->hdr_size - f->commit_size, HDR_CRC);

    if (rc != 1)
        return rc < 0 ? rc : 0;
    gen = (int32_t)(get32(b + 20) & 0x7FFFFFFFu);
    if (FWR_MUTANT_IS(FWR_MUT_NO_VOID)) /* broken: any header is this image's */
        return get32(b) == HDR_MAGIC ? gen : 0;
    /* Everything but the check value must be this image's. Built in the
     * staging chunk, idle while records are read (and at least a header
     * body long, fwr_init checks), to keep it off the stack. */
    make_header(f, stage(f), (uint32_t)gen);
    return memcmp(stage(f), b, HDR_CRC) ? 0 : gen;
}

/* Erase a whole copy and give it a header (generation gen). */
static int reset_copy(struct fwr *f, int mirror, uint32_t gen)
{
    uint32_t bs = f->hdr_size - f->commit_size, tries = 0;
    int rc;
    do {
        rc = fl_erase(f, copy_addr(f, mirror), f->cfg->layout.record_size);
        if (rc)
            return rc;
        memset(rbuf(f), f->erased_value, bs);
        make_header(f, rbuf(f), gen);
        rc = write_pair(f, copy_addr(f, mirror), bs, HDR_CRC);
    } while (rc == FWR_E_PROG && ++tries <= f->max_retries);
    return rc;
}

static uint32_t slot_addr(const struct fwr *f, int mirror, uint32_t k)
{
    return copy_addr(f, mirror) + f->hdr_size + k * f->slot_size;
}

/*
 * Read slot k of one copy into e (when not NULL). Returns 1 valid, 0
 * invalid, 2 erased, negative on I/O error.
 */
static int read_slot(struct fwr *f, int mirror, uint32_t k, struct entry *e)
{
    uint32_t hs = f->bh->size;
    int rc = read_pair(f, slot_addr(f, mirror, k),
                       f->slot_size - f->commit_size, ENTRY_FIXED + hs);
    if (rc == 1 && e) {
        uint8_t *b = rbuf(f);
        memcpy(e, b, 4);
        e->arg0 = get32(b + 4);
        e->arg1 = get32(b + 8);
        memcpy(e->hash, b + ENTRY_FIXED, hs);
    }
    return rc;
}

/* Program entry e into slot k of one copy: body, then commit. */
static int write_slot(struct fwr *f, int mirror, uint32_t k,
                      const struct entry *e)
{
    uint32_t bs = f->slot_size - f->commit_size, hs = f->bh->size;
    uint8_t *b = rbuf(f);
    memset(b, f->erased_value, bs);
    memcpy(b, e, 4);
    put32(b + 4, e->arg0);
    put32(b + 8, e->arg1);
    memcpy(b + ENTRY_FIXED, e->hash, hs);
    return write_pair(f, slot_addr(f, mirror, k), bs, ENTRY_FIXED + hs);
}

static void set_entry(const struct fwr *f, struct entry *e, uint8_t type,
                      uint32_t arg0, uint32_t arg1)
{
    memset(e, 0, sizeof(*e));
    e->type = type;
    e->hash_size = f->bh->size;
    e->arg0 = arg0;
    e->arg1 = arg1;
}

/* Write e to the primary at the next free slot; a slot whose program
 * fails is abandoned (never re-programmed), a bounded number of times. */
static int put_primary(struct fwr *f, const struct entry *e)
{
    uint32_t tries = 0;
    int rc;
    for (;;) {
        if (f->log_next >= f->log_slots)
            return FWR_E_NOSPC;
        rc = write_slot(f, 0, f->log_next, e);
        if (rc != FWR_E_PROG || ++tries > f->max_retries)
            return rc;
        f->log_next++;
    }
}

/*
 * Compaction when the log is full: rebuild the primary as a new generation
 * holding one record per done block (re-hashed from data that was verified
 * this session), then copy it to the mirror. While the primary is rebuilt
 * the mirror (older generation) stays whole and is the one used at boot.
 */
static int scan(struct fwr *f, int rehash, int *complete, struct entry *tail);

static int compact(struct fwr *f)
{
    uint32_t gen = f->generation + 1u, i;
    struct entry e;
    int rc = 0, complete;

    /* Trusted records were never checked against the data: re-hashing
     * that data into new records would vouch for bits lost since, and
     * the final digest could no longer tell which block lies. Check the
     * old records first (the blocks that fail are downloaded again). */
    if (f->cfg->verify == FWR_VERIFY_TRUSTED && !f->rescanned) {
        uint32_t resumed = f->progress.blocks_resumed;
        rc = scan(f, 1, &complete, NULL);
        f->progress.blocks_resumed = resumed; /* a figure of the boot */
        if (rc < 0)
            return rc;
    }
    rc = reset_copy(f, 0, gen);

    f->log_next = 0;
    for (i = 0; !rc && i < f->nblocks; i++) {
        if (!bit_get(f->done, i))
            continue;
        set_entry(f, &e, SLOT_BLOCK, i, 0);
        rc = hash_data(f, f->bh, i * f->block_size, block_len(f, i), e.hash);
        if (!rc) {
            /* A read flip in that pass would become a record that lies:
             * the data must hash the same twice. */
            rc = block_matches(f, i, e.hash);
            if (rc >= 0)
                rc = !rc;
        }
        if (rc > 0) { /* unreadable: the block is downloaded again */
            forget(f, i, i + 1u);
            rc = 0;
        } else if (!rc && !(rc = put_primary(f, &e)))
            f->log_next++;
    }
    if (!rc && (f->flags & FL_MIRROR)) {
        rc = reset_copy(f, 1, gen);
        for (i = 0; !rc && i < f->log_next; i++) {
            rc = read_slot(f, 0, i, &e);
            if (rc == 1)
                rc = write_slot(f, 1, i, &e);
            if (rc == FWR_E_PROG || rc > 0)
                rc = 0; /* costs redundancy, not a record */
        }
    }
    if (rc)
        return rc;
    /* Blocks not done lose their record with the old log. */
    memcpy(f->rec, f->done, map_words(f) * 4u);
    f->generation = gen;
    return 0;
}

/* A VOID whose records went with the log a compaction replaced voids
 * nothing: the new log holds records of done blocks only. */
static int void_moot(const struct fwr *f, const struct entry *e)
{
    uint32_t i;
    if (e->type != SLOT_VOID)
        return 0;
    for (i = e->arg0; i < e->arg0 + e->arg1 && i < f->nblocks; i++)
        if (bit_get(f->rec, i))
            return 0;
    return 1;
}

/* Append e to the log: primary, then the mirror at the same slot. */
static int append(struct fwr *f, const struct entry *e)
{
    int rc = put_primary(f, e);
    if (rc == FWR_E_NOSPC) {
        /* The log is full (or slots abandoned to failed programs ran it
         * out): compact, once. */
        rc = compact(f);
        if (!rc && void_moot(f, e))
            return 0;
        if (!rc)
            rc = put_primary(f, e);
    }
    if (!rc && (f->flags & FL_MIRROR)) {
        /* A mirror failure costs redundancy, not the record. */
        rc = write_slot(f, 1, f->log_next, e);
        if (rc == FWR_E_PROG)
            rc = 0;
    }
    if (!rc)
        f->log_next++;
    return rc;
}

static int append_new(struct fwr *f, uint8_t type, uint32_t arg0, uint32_t arg1)
{
    struct entry e;
    set_entry(f, &e, type, arg0, arg1);
    return append(f, &e);
}

/* ------------------------------------------------------------ scan */

/*
 * One pass over the log (slot-level union of the copies). Sets the done
 * bitmap (rehash: only blocks whose data re-hashes to the record) and the
 * record bitmap (a live record exists), and finds the append position.
 * *complete is set when a COMPLETE entry is live; *tail is the last valid
 * entry (type 0: none; see begin).
 */
static int scan(struct fwr *f, int rehash, int *complete, struct entry *tail)
{
    uint32_t k;
    struct entry e;
    int rc, rm, used;

    memset(f->done, 0, map_words(f) * 8u);
    *complete = 0;
    if (tail)
        tail->type = 0;
    f->log_next = 1;
    for (k = 0; k < f->log_slots; k++) {
        rc = read_slot(f, 0, k, &e);
        FWR_MUTANT_WAIT_TORN(rc, read_slot(f, 0, k, &e)); /* teeth only */
        if (rc < 0)
            return rc;
        used = rc != 2;
        if (f->flags & FL_MIRROR) {
            /* The mirror's slot serves when the primary's does not; when
             * the primary's is valid it only matters for the position. */
            rm = read_slot(f, 1, k, rc == 1 ? NULL : &e);
            if (rm < 0 && FWR_MUTANT_IS(FWR_MUT_IO_IGNORED))
                rm = 0; /* broken: an unreadable mirror slot as invalid */
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
        if (tail)
            *tail = e;
        if (e.type == SLOT_BLOCK && e.arg0 < f->nblocks) {
            bit_put(f->rec, e.arg0, 1);
            /* The whitepaper's rule: a record counts only while its block
             * still hashes to it. */
            rc = 1;
            if (rehash && !FWR_MUTANT_IS(FWR_MUT_NO_RESCAN))
                rc = block_matches(f, e.arg0, e.hash);
            if (rc < 0)
                return rc;
            bit_put(f->done, e.arg0, rc);
        } else if (e.type == SLOT_VOID) {
            forget(f, e.arg0, e.arg0 + e.arg1);
            *complete = 0;
        } else if (e.type == SLOT_COMPLETE) {
            *complete = e.arg0 == f->nblocks && e.arg1 == f->image.size;
        }
    }
    f->progress.blocks_resumed = 0;
    for (k = 0; k < f->nblocks; k++)
        f->progress.blocks_resumed += (uint32_t)bit_get(f->done, k);
    /* Policy full re-hashes even a complete image: data that rotted while
     * the power was off is found before anyone installs it. */
    if (f->progress.blocks_resumed < f->nblocks)
        *complete = 0;
    return 0;
}

/* ------------------------------------------------------------ groups */

/*
 * Make block i writable: void every live record in its erase group (the
 * erase units its bytes live in, and the blocks that share them; a valid
 * record must never describe data about to be re-programmed), erase the
 * group, and restart the cursor at the group's first block. Data is only
 * ever programmed into units erased in this session: after a power cut,
 * bytes that read erased may be half-programmed. block_size divides
 * erase_size or is a multiple of it (fwr_init checks), so groups never
 * overlap.
 */
static int prepare_group(struct fwr *f, uint32_t i)
{
    uint32_t es = f->erase_size, bs = f->block_size;
    /* The group ends with the unit holding the block's last byte: a short
     * last block bigger than a unit must not take the units past the
     * image (the data area may end there). */
    uint32_t gstart = i * bs / es * es,
             gend = round_up(i * bs + block_len(f, i), es);
    uint32_t b0 = gstart / bs, b1 = round_up(gend, bs) / bs, b;
    int live = 0, rc = 0;

    if (b1 > f->nblocks)
        b1 = f->nblocks;
    if (FWR_MUTANT_IS(FWR_MUT_NO_NEIGHBOUR)) {
        /* Broken: erase for block i alone, neighbours left "done". */
        b0 = i;
        b1 = i + 1u;
    }
    for (b = b0; b < b1; b++)
        live |= bit_get(f->rec, b);
    if (live && !FWR_MUTANT_IS(FWR_MUT_NO_VOID))
        rc = append_new(f, SLOT_VOID, b0, b1 - b0);
    if (rc)
        return rc;
    f->progress.blocks_rewritten += forget(f, b0, b1);
    rc = fl_erase(f, f->cfg->layout.data_addr + gstart, gend - gstart);
    if (rc)
        return rc;
    f->erase_lo = gstart;
    f->erase_hi = gend;
    f->wr_ptr = b0 * bs;
    f->cursor = b0;
    return 0;
}

/* Block i can be programmed from its start without an erase. */
static int writable(const struct fwr *f, uint32_t i)
{
    uint32_t off = i * f->block_size;
    return off == f->wr_ptr && off >= f->erase_lo &&
           off + block_len(f, i) <= f->erase_hi;
}

/* ------------------------------------------------------------ completion */

static int set_protect(struct fwr *f, int on)
{
    const struct fwr_config *c = f->cfg;
    int m;
    for (m = 0; c->flash.protect && m <= (f->flags & FL_MIRROR); m++)
        if (c->flash.protect(c->flash.user, copy_addr(f, m),
                             c->layout.record_size, on) < 0)
            return FWR_E_IO;
    return 0;
}

/* Void everything: fresh headers for the current image in both copies.
 * The primary first: once its header names the new image, no old record
 * in either copy can count (the mirror's header differs). */
static int new_image(struct fwr *f, uint32_t gen)
{
    int m, rc = set_protect(f, 0);
    for (m = 0; !rc && m <= (f->flags & FL_MIRROR); m++)
        rc = reset_copy(f, m, gen);
    if (rc)
        return rc;
    memset(f->done, 0, map_words(f) * 8u);
    f->generation = gen;
    f->log_next = 0;
    f->erase_lo = f->erase_hi = f->wr_ptr = f->cursor = 0;
    f->progress.blocks_resumed = 0;
    return 0;
}

/* Every block is done: check the image digest, mark complete, lock. */
static int finish(struct fwr *f)
{
    /* The staging chunk is idle between blocks and holds a digest. */
    uint8_t *d = stage(f);
    int rc, complete;

    if (f->ih && !FWR_MUTANT_IS(FWR_MUT_NO_DIGEST)) {
        rc = hash_data(f, f->ih, 0, f->image.size, d);
        if (rc < 0)
            return rc;
        if (rc || memcmp(d, f->image.digest, f->image.digest_len)) {
            /* The image is right and its CRC-32 was handed over reversed
             * (a manifest's uint32 copied by hand): downloading again
             * cannot help. */
            if (!rc && f->image.digest_kind == FWR_HASH_CRC32 &&
                f->image.digest_len == 4 && !FWR_MUTANT_IS(FWR_MUT_NO_ORDER)) {
                uint32_t i = 0;
                while (i < 4u && d[i] == f->image.digest[3u - i])
                    i++;
                if (i == 4u)
                    return FWR_E_DIGEST_ORDER;
            }
            if (f->cfg->verify == FWR_VERIFY_TRUSTED && !f->rescanned) {
                /* Records were trusted: find the blocks that lie. */
                f->rescanned = 1;
                rc = scan(f, 1, &complete, NULL);
                if (rc < 0)
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
             * begin), and its records must not count again. */
            rc = append_new(f, SLOT_VOID, 0, f->nblocks);
            if (!rc)
                rc = new_image(f, f->generation + 1u);
            f->state = FWR_STATE_EMPTY;
            return rc;
        }
    }
    rc = append_new(f, SLOT_COMPLETE, f->nblocks, f->image.size);
    /* (broken, LOCK_ONCE: the lock is forgotten after a resume) */
    if (!rc &&
        !(FWR_MUTANT_IS(FWR_MUT_LOCK_ONCE) && f->progress.blocks_resumed))
        rc = set_protect(f, 1);
    f->state = FWR_STATE_COMPLETE;
    return rc;
}

/* ------------------------------------------------------------ setup */

static int overlap(uint32_t a, uint32_t b, uint32_t an, uint32_t bn)
{
    return a < b + bn && b < a + an;
}

static int pow2(uint32_t v)
{
    return v && !(v & (v - 1u));
}

/*
 * The sizes alone: powers of two, so that blocks and staging chunks tile
 * erase units exactly; chunks whole in program units and blocks whole in
 * chunks; a header body and a slot body (hash of hs bytes) fit a chunk,
 * as record ops stage them in the read buffer. *ws: 0 picks the default.
 */
static int sizes_check(const struct fwr_geometry *g, uint32_t bs, uint32_t *ws,
                       uint32_t hs)
{
    uint32_t ps = g->prog_size, es = g->erase_size, w = *ws;
    if (!w) {
        w = ps > 256u ? ps : 256u;
        if (w > bs)
            w = bs;
    }
    *ws = w;
    if (!pow2(ps) || !pow2(es) || !pow2(bs) || !pow2(w) || w < ps || bs < w ||
        es < ps || g->kind > FWR_FLASH_NAND ||
        FWR_HEADER_SIZE(ps) - FWR_COMMIT_SIZE(ps) > w ||
        FWR_SLOT_SIZE(ps, hs) - FWR_COMMIT_SIZE(ps) > w)
        return FWR_E_GEOMETRY;
    return 0;
}

int fwr_check_geometry(const struct fwr_geometry *g, uint32_t block_size,
                       uint32_t write_size, uint32_t hash_size)
{
    if (!g ||
        (hash_size > FWR_HASH_MAX && !FWR_MUTANT_IS(FWR_MUT_LAX_GEOMETRY)))
        return FWR_E_INVAL;
    return sizes_check(g, block_size, &write_size, hash_size ? hash_size : 4u);
}

static int init(struct fwr *f, const struct fwr_config *c)
{
    const struct fwr_layout *l = &c->layout;
    const struct fwr_hash_ops *h = c->block_hash;
    uint32_t ps = c->geometry.prog_size, es = c->geometry.erase_size;
    uint32_t ws = c->write_size;
    int mirror = l->mirror_addr != FWR_NO_MIRROR;

    if (!h) {
        fwr_hash_crc32(&f->crc_ops, &f->crc_ctx);
        h = &f->crc_ops;
    }
    f->bh = h;
    if (!c->flash.read || !c->flash.program || !c->flash.erase || !c->work ||
        c->verify > FWR_VERIFY_TRUSTED || !h->start || !h->update ||
        !h->finish || !h->size || h->size > FWR_HASH_MAX)
        return FWR_E_INVAL;
    /* Areas aligned to erase units and disjoint. */
    if (sizes_check(&c->geometry, c->block_size, &ws, h->size) ||
        (l->record_addr | l->record_size | l->data_addr | l->data_size |
         (mirror ? l->mirror_addr : 0)) &
            (es - 1u) ||
        !l->record_size || !l->data_size ||
        overlap(l->record_addr, l->data_addr, l->record_size, l->data_size) ||
        (mirror &&
         (overlap(l->mirror_addr, l->data_addr, l->record_size, l->data_size) ||
          overlap(l->mirror_addr, l->record_addr, l->record_size,
                  l->record_size))))
        return FWR_E_GEOMETRY;
    f->write_size = ws;
    f->block_size = c->block_size;
    f->erase_size = es;
    f->erased_value = c->geometry.erased_value;
    f->commit_size = FWR_COMMIT_SIZE(ps);
    f->hdr_size = FWR_HEADER_SIZE(ps);
    f->slot_size = FWR_SLOT_SIZE(ps, h->size);
    if (l->record_size <= f->hdr_size)
        return FWR_E_NOSPC;
    f->log_slots = (l->record_size - f->hdr_size) / f->slot_size;
    f->flags = (uint8_t)mirror;
    f->max_retries = c->max_retries ? c->max_retries : DEFAULT_RETRIES;
    f->max_restarts = c->max_restarts ? c->max_restarts : DEFAULT_RESTARTS;
    return 0;
}

int fwr_init(struct fwr *f, const struct fwr_config *cfg)
{
    int rc;
    if (!f || !cfg)
        return FWR_E_INVAL;
    memset(f, 0, sizeof(*f));
    rc = init(f, cfg);
    if (rc)
        return fail(f, rc);
    f->cfg = cfg;
    return 0;
}

static int begin(struct fwr *f, const struct fwr_image *img)
{
    const struct fwr_config *c = f->cfg;
    const struct fwr_hash_ops *ih = c->image_hash;
    uint32_t words, bitmaps;
    int32_t gen[2] = {0, 0}, keep;
    int m, complete, rc;
    struct entry tail;

    if (img->digest_kind == FWR_HASH_NONE)
        ih = NULL;
    else if (!ih && f->bh->kind == img->digest_kind)
        ih = f->bh;
    if (!img->size || img->digest_len > FWR_HASH_MAX ||
        img->version_len > sizeof(img->version) ||
        (img->digest_kind &&
         (!ih || ih->kind != img->digest_kind || ih->size < img->digest_len ||
          !img->digest_len)) ||
        (c->verify == FWR_VERIFY_TRUSTED && !ih))
        return FWR_E_INVAL;
    f->ih = ih;
    f->nblocks = (img->size + f->block_size - 1u) / f->block_size;
    words = map_words(f);
    bitmaps = words * 8u;
    /* Staging chunk, read buffer of at least a chunk, bitmaps (aligned);
     * 64-bit sums: a write_size of 2^31 must not wrap into "fits". */
    if ((uint64_t)c->work_size < 2u * (uint64_t)f->write_size + bitmaps ||
        ((c->work_size - bitmaps) & ~3u) < 2u * (uint64_t)f->write_size)
        return FWR_E_INVAL;
    f->done =
        (uint32_t *)((uint8_t *)c->work + ((c->work_size - bitmaps) & ~3u));
    f->rec = f->done + words;
    if (round_up(img->size, f->erase_size) > c->layout.data_size ||
        f->log_slots < FWR_LOG_SLOTS(f->nblocks))
        return FWR_E_NOSPC;
    memset(&f->cursor, 0,
           offsetof(struct fwr, crc_ops) - offsetof(struct fwr, cursor));
    f->image = *img;
    f->retries = f->rescanned = 0;
    f->progress.blocks_total = f->nblocks;

    for (m = 0; m <= (f->flags & FL_MIRROR); m++) {
        gen[m] = read_header(f, m);
        if (gen[m] < 0)
            return gen[m];
    }
    /*
     * Generations differ only while a compaction rebuilt the primary: the
     * older copy is then the whole log, so the older generation counts. A
     * copy that does not hold it is re-made empty (its slots read erased,
     * the other copy's count); it may sit in a locked (complete) area.
     */
    keep = gen[0] && (!gen[1] || gen[0] <= gen[1]) ? gen[0] : gen[1];
    if (!keep) {
        f->state = FWR_STATE_EMPTY;
        return new_image(f, 1);
    }
    f->generation = (uint32_t)keep;
    for (m = 0; m <= (f->flags & FL_MIRROR); m++)
        if (gen[m] != keep && ((rc = set_protect(f, 0)) ||
                               (rc = reset_copy(f, m, f->generation))))
            return rc;
    rc = scan(f, c->verify == FWR_VERIFY_FULL, &complete, &tail);
    if (rc)
        return rc;
    if (complete) {
        /* Lock (again): a copy may just have been re-made. Idempotent. */
        f->state = FWR_STATE_COMPLETE;
        return set_protect(f, 1);
    }
    /* A complete, locked image may just have failed its re-hash, or lost
     * its COMPLETE entry: release the lock before anything is written
     * again, the VOID below included. */
    rc = set_protect(f, 0);
    if (!rc && tail.type == SLOT_VOID && !FWR_MUTANT_IS(FWR_MUT_NO_VOID))
        /*
         * The last valid entry is a VOID: its commit may be a torn program
         * that read as the magic this time and may not next time, which
         * would bring the records it voids back to life after their data
         * was erased. Append a stable copy before anything acts on it.
         */
        rc = append(f, &tail);
    f->cursor = first_wanted(f, 0);
    f->state =
        f->progress.blocks_resumed ? FWR_STATE_DOWNLOADING : FWR_STATE_EMPTY;
    return rc;
}

int fwr_begin(struct fwr *f, const struct fwr_image *img)
{
    int rc;
    if (!f || !img)
        return FWR_E_INVAL;
    if (!f->cfg)
        return FWR_E_STATE; /* fwr_init failed */
    f->state = FWR_STATE_IDLE;
    rc = begin(f, img);
    /* Every block verified but no complete marker (a cut right before
     * it): finish now. Called from here, not begin(), to keep the stack
     * of the two paths apart. */
    if (!rc && f->state != FWR_STATE_COMPLETE && f->cursor >= f->nblocks)
        rc = finish(f);
    if (!rc && FWR_MUTANT_IS(FWR_MUT_COMPACT_BOOT) &&
        f->state == FWR_STATE_DOWNLOADING)
        rc = compact(f); /* teeth only: right, but costly */
    return rc ? fail(f, rc) : 0;
}

/* ------------------------------------------------------------ download */

/* The engine takes bytes (or ranges) only while downloading. */
static int check_active(const struct fwr *f)
{
    if (f->state == FWR_STATE_COMPLETE)
        return FWR_E_LOCKED;
    return f->state == FWR_STATE_EMPTY || f->state == FWR_STATE_DOWNLOADING
               ? 0
               : FWR_E_STATE;
}

static int next_range(struct fwr *f, uint32_t *offset, uint32_t *len)
{
    uint32_t bs = f->block_size, i;
    int rc = check_active(f);

    if (rc)
        return rc == FWR_E_LOCKED ? 0 : rc;
    /* While downloading, some block is always wanted: the engine finishes
     * the image as soon as none is (feed, begin). */
    if (f->block_fill == 0) {
        f->cursor = first_wanted(f, 0);
        if (!writable(f, f->cursor)) {
            rc = prepare_group(f, f->cursor);
            if (rc)
                return rc;
        }
    }
    /* The run of wanted blocks from the cursor, as one request. */
    for (i = f->cursor + 1u; i < f->nblocks && !bit_get(f->done, i); i++)
        ;
    *offset = f->cursor * bs + f->block_fill;
    *len = (i * bs < f->image.size ? i * bs : f->image.size) - *offset;
    return 0;
}

int fwr_next_range(struct fwr *f, uint32_t *offset, uint32_t *len)
{
    int rc;
    if (!f || !offset || !len)
        return FWR_E_INVAL;
    *offset = *len = 0;
    rc = next_range(f, offset, len);
    return rc ? fail(f, rc) : 0;
}

/* The cursor block is one the engine wants. */
static int cursor_wanted(const struct fwr *f)
{
    return f->cursor < f->nblocks && !bit_get(f->done, f->cursor);
}

/* Finish the current block's hash and append its record. */
static int record_block(struct fwr *f)
{
    struct entry e;
    set_entry(f, &e, SLOT_BLOCK, f->cursor, 0);
    if (f->bh->finish(f->bh->ctx, e.hash) < 0)
        return FWR_E_HASH;
    return append(f, &e);
}

/* Program the staged chunk at the write pointer and read it back. */
static int flush_stage(struct fwr *f)
{
    uint32_t a, ws = f->write_size;
    /* Whole program units of what was staged: only the image's last chunk
     * is short, and padding it to a whole chunk could run past the data
     * area when a chunk is bigger than an erase unit. */
    uint32_t n = round_up(f->stage_fill, f->cfg->geometry.prog_size);
    int rc;

    memset(stage(f) + f->stage_fill, f->erased_value, n - f->stage_fill);
    a = f->cfg->layout.data_addr + f->wr_ptr;
    rc = fl_prog(f, a, stage(f), n);
    if (!rc && !FWR_MUTANT_IS(FWR_MUT_NO_READBACK)) {
        rc = fl_read(f, a, rbuf(f), n);
        if (rc > 0 || (!rc && memcmp(rbuf(f), stage(f), n)))
            rc = FWR_E_PROG;
    }
    f->wr_ptr += ws;
    f->stage_fill = 0;
    if (rc != FWR_E_PROG)
        return rc;
    /*
     * The program failed: forget the transfer and force a fresh erase of
     * the group. Retries are counted per erase group, not per block, so
     * two blocks of one group failing in turn cannot retry forever.
     */
    a = 1u + f->cursor * f->block_size / f->erase_size;
    if (f->retry_block != a) {
        f->retry_block = a;
        f->retries = 0;
    }
    if (++f->retries > f->max_retries)
        return FWR_E_PROG;
    f->block_fill = 0;
    f->erase_lo = f->erase_hi = 0;
    return FWR_E_AGAIN;
}

static int feed(struct fwr *f, const uint8_t *p, uint32_t left)
{
    uint32_t ws = f->write_size, blen, n, want;
    int rc = check_active(f);

    if (!rc && !cursor_wanted(f))
        rc = FWR_E_RANGE;
    if (rc)
        return rc;
    f->state = FWR_STATE_DOWNLOADING;
    while (left > 0) {
        if (f->block_fill == 0) {
            /* Each new block continues at the write pointer of an erased
             * group, or opens the next group. */
            want = f->cursor;
            if (!cursor_wanted(f))
                return FWR_E_RANGE;
            if (!writable(f, want)) {
                rc = prepare_group(f, want);
                if (rc)
                    return rc;
                if (f->cursor != want)
                    return FWR_E_AGAIN;
            }
            if (f->bh->start(f->bh->ctx) < 0)
                return FWR_E_HASH;
        }
        blen = block_len(f, f->cursor);
        n = blen - f->block_fill;
        if (n > left)
            n = left;
        if (n > ws - f->stage_fill)
            n = ws - f->stage_fill;
        memcpy(stage(f) + f->stage_fill, p, n);
        if (f->bh->update(f->bh->ctx, p, n) < 0)
            return FWR_E_HASH;
        f->stage_fill += n;
        f->block_fill += n;
        p += n;
        left -= n;
        if (f->block_fill == blen && FWR_MUTANT_IS(FWR_MUT_VALID_FIRST)) {
            /* Broken: the record is committed before the block's last
             * chunk is on flash. */
            rc = record_block(f);
            if (rc)
                return rc;
        }
        if (f->stage_fill == ws || f->block_fill == blen) {
            rc = flush_stage(f);
            if (rc)
                return rc;
        }
        if (f->block_fill == blen) {
            /* The block has all its bytes on flash: record it. A short
             * last block leaves its chunks' tail erased. */
            if (!FWR_MUTANT_IS(FWR_MUT_VALID_FIRST)) {
                rc = record_block(f);
                if (rc)
                    return rc;
            }
            bit_put(f->rec, f->cursor, 1);
            bit_put(f->done, f->cursor, 1);
            f->wr_ptr = ++f->cursor * f->block_size;
            f->block_fill = 0;
        }
    }
    /* Blocks before the cursor are done, so the cheap test from the cursor
     * runs first; the full one only confirms. */
    if (f->block_fill == 0 && first_wanted(f, f->cursor) >= f->nblocks &&
        first_wanted(f, 0) >= f->nblocks)
        return finish(f);
    return 0;
}

int fwr_feed(struct fwr *f, const void *buf, uint32_t len)
{
    int rc;
    if (!f || (!buf && len))
        return FWR_E_INVAL;
    rc = feed(f, (const uint8_t *)buf, len);
    return rc ? fail(f, rc) : (int)len;
}

enum fwr_state fwr_state(const struct fwr *f)
{
    return (enum fwr_state)f->state;
}

void fwr_get_progress(const struct fwr *f, struct fwr_progress *p)
{
    uint32_t i, wanted = 0;
    *p = f->progress;
    p->blocks_done = 0;
    for (i = 0; f->state != FWR_STATE_IDLE && i < f->nblocks; i++) {
        if (fwr_block_done(f, i))
            p->blocks_done++;
        else
            wanted += block_len(f, i);
    }
    p->bytes_wanted = wanted - (f->block_fill < wanted ? f->block_fill : 0);
}

int fwr_block_done(const struct fwr *f, uint32_t i)
{
    if (f->state == FWR_STATE_IDLE || i >= f->nblocks)
        return 0;
    return f->state == FWR_STATE_COMPLETE || bit_get(f->done, i);
}

int fwr_last_error(const struct fwr *f)
{
    return f->last_error;
}
