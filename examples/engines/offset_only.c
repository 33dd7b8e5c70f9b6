/*
 * offset-only: a reference engine for fotasim (docs/engines.md). The
 * resume strategy of Zephyr's stream_flash progress and of many in-house
 * updaters: write the image in order, and every engine.block_size bytes
 * save "bytes written so far" as a record in a small log; after a reboot,
 * resume from the last saved offset (rounded down to its erase unit, which
 * is erased and written again). It keeps no per-block hash: what lies
 * before the saved offset is taken as written. At the end it checks a
 * CRC-32 image digest when the manifest has one (a mismatch restarts the
 * download from zero, once), then saves offset = size: complete.
 *
 * The progress log: two halves of the record area, used in turn. A slot
 * (20 bytes, rounded up to the program unit) holds magic, image key,
 * offset, a sequence number and a CRC-32 of the sixteen before; the valid
 * slot with the highest sequence counts, and a torn slot reads as invalid
 * and is skipped. When the half in use is full, the other half is erased
 * whole and the next slot goes there: a cut during that erase leaves the
 * half in use as it was, and a half is only written after an erase that
 * completed in full (a cut erase may read erased and yet not be). A
 * device with no valid slot erases a half before its first one.
 * Raw NAND's bad blocks are not skipped (an erase of one fails).
 *
 * Build: cc -shared -fPIC -I sim/harness offset_only.c -o liboffset_only.so
 */
#include "seqwrite.h"

#define MAGIC  0x3153464Fu /* "OFS1" */
#define RESTARTS 1u        /* whole-image restarts after a bad digest */

struct oo {
    struct engine_params p;
    struct engine_env env;
    struct seqwrite w;
    struct engine_image m; /* the image being written */
    uint32_t key;
    uint32_t nslots, next_slot; /* nslots: per half */
    uint32_t half, active, seq; /* bytes of a half; the one in use; last */
    uint32_t saved;   /* offset the log holds for this image */
    uint32_t resumed; /* bytes taken as written at the last boot */
    uint32_t recv;    /* image offset of the next byte to ask for */
    uint32_t restarts;
    int complete;
};

static uint32_t slot_size_of(const struct engine_params *p)
{
    return seq_round_up(20, p->prog_size);
}

static int record_need(const struct engine_params *p, uint32_t *bytes)
{
    uint32_t s = slot_size_of(p);
    /* Saves fall on program-unit boundaries. */
    if (!p->prog_size || !p->erase_size || p->erase_size % p->prog_size ||
        !p->block_size || p->block_size % p->prog_size)
        return SEQ_E_INVAL;
    /* Two halves of at least 16 slots, each in whole erase units. */
    *bytes = 2 * seq_round_up(16 * s, p->erase_size);
    return 0;
}

static void destroy(void *ctx)
{
    struct oo *e = ctx;
    if (!e)
        return;
    seq_free(&e->w);
    free(e);
}

static void *create(const struct engine_params *p, char *err, size_t errlen)
{
    struct oo *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->p = *p;
    if (seq_init(&e->w, p, slot_size_of(p), err, errlen)) {
        destroy(e);
        return NULL;
    }
    e->half = p->record_size / p->erase_size / 2 * p->erase_size;
    e->nslots = e->half / slot_size_of(p);
    return e;
}

static uint32_t ram(const void *ctx)
{
    const struct oo *e = ctx;
    return seq_ram(&e->w, sizeof(*e));
}

/* Append "offset" for the image on offer; when the half in use is full,
 * erase the other whole and go on there. */
static int save(struct oo *e, uint32_t offset)
{
    const struct engine_flash *f = &e->env.flash;
    uint8_t *s = e->w.slot;
    uint32_t a, base;

    if (e->next_slot >= e->nslots) {
        base = e->p.record_addr + (1 - e->active) * e->half;
        for (a = 0; a < e->half; a += e->p.erase_size)
            if (f->erase(f->user, base + a, e->p.erase_size) < 0)
                return SEQ_E_ERASE;
        e->active = 1 - e->active;
        e->next_slot = 0;
    }
    memset(s, e->p.erased_value, e->w.slot_size);
    seq_put32(s, MAGIC);
    seq_put32(s + 4, e->key);
    seq_put32(s + 8, offset);
    seq_put32(s + 12, e->seq + 1);
    seq_put32(s + 16, seq_crc32(0, s, 16));
    if (f->program(f->user,
                   e->p.record_addr + e->active * e->half +
                       e->next_slot * e->w.slot_size,
                   s, e->w.slot_size) < 0)
        return SEQ_E_PROG;
    e->next_slot++;
    e->seq++;
    e->saved = offset;
    return 0;
}

/* Read both halves: the newest slot decides the half in use, where its
 * next slot goes, and (when it is the image on offer's) the offset. */
static int scan(struct oo *e)
{
    const struct engine_flash *f = &e->env.flash;
    uint8_t *s = e->w.slot;
    uint32_t h, i, j, used[2] = {0, 0};
    int rc, found = 0;

    e->saved = 0;
    e->seq = 0;
    for (h = 0; h < 2; h++)
        for (i = 0; i < e->nslots; i++) {
            int erased = 1;
            rc = f->read(f->user,
                         e->p.record_addr + h * e->half + i * e->w.slot_size, s,
                         e->w.slot_size);
            if (rc < 0 && rc != ENGINE_FLASH_ECC_FAIL)
                return SEQ_E_IO;
            for (j = 0; j < e->w.slot_size && erased; j++)
                erased = s[j] == e->p.erased_value;
            if (erased)
                continue;
            used[h] = i + 1; /* a torn slot still takes its place */
            if (rc < 0 || seq_le32(s) != MAGIC ||
                seq_le32(s + 16) != seq_crc32(0, s, 16) ||
                (found && seq_le32(s + 12) <= e->seq))
                continue;
            found = 1;
            e->seq = seq_le32(s + 12);
            e->active = h;
            e->saved = seq_le32(s + 4) == e->key && seq_le32(s + 8) <= e->m.size
                           ? seq_le32(s + 8)
                           : 0;
        }
    /* Nothing valid: the first save erases a half (half 0). */
    if (!found) {
        e->active = 1;
        e->next_slot = e->nslots;
    } else {
        e->next_slot = used[e->active];
    }
    return 0;
}

/* Take the image on offer: resume from what the log says of it. */
static int take_offer(struct oo *e)
{
    const struct engine_link *l = &e->env.link;
    uint32_t at;
    int rc;

    l->manifest(l->user, &e->m);
    e->key = seq_image_key(&e->m);
    rc = scan(e);
    if (rc)
        return rc;
    e->complete = e->saved == e->m.size && e->m.size > 0;
    at = e->complete ? e->m.size
                     : e->saved / e->p.erase_size * e->p.erase_size;
    e->resumed = at;
    seq_start(&e->w, at);
    e->recv = at;
    return 0;
}

static int boot(void *ctx, const struct engine_env *env)
{
    struct oo *e = ctx;
    e->env = *env;
    seq_bind(&e->w, &e->env.flash, &e->p);
    e->complete = 0;
    e->restarts = 0;
    return take_offer(e);
}

/* All bytes are in: check the digest, then mark the image complete. */
static int finish(struct oo *e)
{
    int rc = seq_verify(&e->w, &e->m);
    if (rc < 0)
        return rc;
    if (!rc) {
        if (e->restarts++ >= RESTARTS)
            return SEQ_E_DIGEST;
        rc = save(e, 0); /* from zero: nothing before is to be trusted */
        seq_start(&e->w, 0);
        e->recv = 0;
        return rc;
    }
    rc = save(e, e->m.size);
    if (!rc)
        e->complete = 1;
    return rc;
}

static int step(void *ctx)
{
    struct oo *e = ctx;
    const struct engine_link *l = &e->env.link;
    uint32_t n, got, every = e->p.block_size;
    int rc;

    if (l->version(l->user) != e->m.version) {
        rc = take_offer(e);
        if (rc)
            return rc;
    }
    if (e->complete)
        return ENGINE_DONE;
    if (e->recv < e->m.size) {
        n = l->request(l->user, e->recv, e->m.size - e->recv);
        while (n) {
            uint32_t i = 0;
            got = l->receive(l->user, e->w.buf, n < SEQ_CHUNK ? n : SEQ_CHUNK);
            if (!got)
                return ENGINE_MORE; /* a power cycle is coming */
            n -= got;
            /* Save the offset at each multiple of block_size, once the
             * bytes before it are programmed. */
            while (i < got) {
                uint32_t k = every - e->recv % every;
                if (k > got - i)
                    k = got - i;
#ifdef OFFSET_ONLY_SAVE_FIRST
                /* The bug the tests build this file with: the offset saved
                 * as the bytes arrive, before they are programmed. */
                if ((e->recv + k) % every == 0 && e->recv + k < e->m.size &&
                    (rc = save(e, e->recv + k)))
                    return rc;
#endif
                rc = seq_put(&e->w, e->w.buf + i, k);
                if (rc)
                    return rc;
                i += k;
                e->recv += k;
#ifndef OFFSET_ONLY_SAVE_FIRST
                if (e->recv % every == 0 && e->recv < e->m.size) {
                    rc = seq_flush(&e->w);
                    if (!rc)
                        rc = save(e, e->recv);
                    if (rc)
                        return rc;
                }
#endif
            }
        }
        if (e->recv < e->m.size)
            return ENGINE_MORE;
    }
    /* Done or restarted, the next step says so: it first asks whether
     * the server has moved on to another image meanwhile. */
    return finish(e);
}

static int complete(const void *ctx)
{
    return ((const struct oo *)ctx)->complete;
}

/* What it takes as written after a boot: everything before the resume
 * point. The harness holds it to those bytes. */
static int claims(const void *ctx, uint32_t off, uint32_t len)
{
    const struct oo *e = ctx;
    return off + len <= e->resumed;
}

static uint32_t resumed(const void *ctx)
{
    const struct oo *e = ctx;
    return e->resumed / e->p.block_size;
}

static uint32_t restarts(const void *ctx)
{
    return ((const struct oo *)ctx)->restarts;
}

static const struct engine_ops ops = {
    .abi = ENGINE_ABI,
    .name = "offset-only",
    .err_io = SEQ_E_IO,
    .error_name = seq_error_name,
    .record_need = record_need,
    .create = create,
    .destroy = destroy,
    .ram = ram,
    .boot = boot,
    .step = step,
    .complete = complete,
    .claims = claims,
    .resumed = resumed,
    .restarts = restarts,
    .one_copy = 1,
};

FOTASIM_ENGINE_EXPORT const struct engine_ops *fotasim_engine(void)
{
    return &ops;
}
