/*
 * restart-zero: a reference engine for fotasim (docs/engines.md). The
 * simplest updater there is: it keeps no progress. Every boot without a
 * finished image starts the download from byte 0, erasing each erase unit
 * as the image enters it; at the end it checks a CRC-32 image digest when
 * the manifest has one (a mismatch restarts, once) and writes one DONE
 * record (magic, image key, size, CRC-32 of the twelve before) at
 * record_addr. A boot that finds a valid DONE for the image on offer is
 * finished. Each boot that downloads erases the record area first: an old
 * image's DONE never stands for a new one, and DONE is only written where
 * an erase completed in this boot (a cut erase may read erased and yet
 * not be).
 *
 * Build: cc -shared -fPIC -I sim/harness restart_zero.c -o librestart_zero.so
 */
#include "seqwrite.h"

#define MAGIC    0x454E4F44u /* "DONE" */
#define RESTARTS 1u

struct rz {
    struct engine_params p;
    struct engine_env env;
    struct seqwrite w;
    struct engine_image m;
    uint32_t key;
    uint32_t recv; /* image offset of the next byte to ask for */
    uint32_t restarts;
    int complete, record_erased; /* the record area erased this boot */
};

static uint32_t slot_size_of(const struct engine_params *p)
{
    return seq_round_up(16, p->prog_size);
}

static int record_need(const struct engine_params *p, uint32_t *bytes)
{
    if (!p->prog_size || !p->erase_size || p->erase_size % p->prog_size)
        return SEQ_E_INVAL;
    *bytes = seq_round_up(slot_size_of(p), p->erase_size);
    return 0;
}

static void destroy(void *ctx)
{
    struct rz *e = ctx;
    if (!e)
        return;
    seq_free(&e->w);
    free(e);
}

static void *create(const struct engine_params *p, char *err, size_t errlen)
{
    struct rz *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->p = *p;
    if (seq_init(&e->w, p, slot_size_of(p), err, errlen)) {
        destroy(e);
        return NULL;
    }
    return e;
}

static uint32_t ram(const void *ctx)
{
    const struct rz *e = ctx;
    return seq_ram(&e->w, sizeof(*e));
}

/* Read the DONE slot: is the image on offer finished? */
static int read_done(struct rz *e)
{
    const struct engine_flash *f = &e->env.flash;
    uint8_t *s = e->w.slot;
    int rc = f->read(f->user, e->p.record_addr, s, e->w.slot_size);

    if (rc < 0 && rc != ENGINE_FLASH_ECC_FAIL)
        return SEQ_E_IO;
    e->complete = rc >= 0 && seq_le32(s) == MAGIC && seq_le32(s + 4) == e->key &&
                  seq_le32(s + 8) == e->m.size &&
                  seq_le32(s + 12) == seq_crc32(0, s, 12);
    return 0;
}

static int take_offer(struct rz *e)
{
    const struct engine_link *l = &e->env.link;
    l->manifest(l->user, &e->m);
    e->key = seq_image_key(&e->m);
    seq_start(&e->w, 0);
    e->recv = 0;
    return read_done(e);
}

static int boot(void *ctx, const struct engine_env *env)
{
    struct rz *e = ctx;
    e->env = *env;
    seq_bind(&e->w, &e->env.flash, &e->p);
    e->restarts = 0;
    e->record_erased = 0;
    return take_offer(e);
}

static int write_done(struct rz *e)
{
    const struct engine_flash *f = &e->env.flash;
    uint8_t *s = e->w.slot;

    memset(s, e->p.erased_value, e->w.slot_size);
    seq_put32(s, MAGIC);
    seq_put32(s + 4, e->key);
    seq_put32(s + 8, e->m.size);
    seq_put32(s + 12, seq_crc32(0, s, 12));
    if (f->program(f->user, e->p.record_addr, s, e->w.slot_size) < 0)
        return SEQ_E_PROG;
    e->record_erased = 0; /* it holds this DONE now */
    e->complete = 1;
    return 0;
}

static int finish(struct rz *e)
{
    int rc = seq_verify(&e->w, &e->m);
    if (rc < 0)
        return rc;
    if (!rc) {
        if (e->restarts++ >= RESTARTS)
            return SEQ_E_DIGEST;
        seq_start(&e->w, 0);
        e->recv = 0;
        return 0;
    }
    return write_done(e);
}

static int step(void *ctx)
{
    struct rz *e = ctx;
    const struct engine_link *l = &e->env.link;
    const struct engine_flash *f = &e->env.flash;
    uint32_t n, got;
    int rc;

    if (l->version(l->user) != e->m.version) {
        rc = take_offer(e);
        if (rc)
            return rc;
    }
    if (e->complete)
        return ENGINE_DONE;
    if (!e->record_erased) {
        /* Another image's DONE, a torn one, or an erase a cut stopped:
         * gone before any data. */
        if (f->erase(f->user, e->p.record_addr, e->p.record_size) < 0)
            return SEQ_E_ERASE;
        e->record_erased = 1;
    }
    if (e->recv < e->m.size) {
        n = l->request(l->user, e->recv, e->m.size - e->recv);
        while (n) {
            got = l->receive(l->user, e->w.buf, n < SEQ_CHUNK ? n : SEQ_CHUNK);
            if (!got)
                return ENGINE_MORE; /* a power cycle is coming */
            n -= got;
            rc = seq_put(&e->w, e->w.buf, got);
            if (rc)
                return rc;
            e->recv += got;
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
    return ((const struct rz *)ctx)->complete;
}

/* After a boot it takes nothing as written but a finished image. */
static int claims(const void *ctx, uint32_t off, uint32_t len)
{
    const struct rz *e = ctx;
    (void)off;
    (void)len;
    return e->complete;
}

static uint32_t resumed(const void *ctx)
{
    const struct rz *e = ctx;
    return e->complete ? (e->m.size + e->p.block_size - 1) / e->p.block_size
                       : 0;
}

static uint32_t restarts(const void *ctx)
{
    return ((const struct rz *)ctx)->restarts;
}

static const struct engine_ops ops = {
    .abi = ENGINE_ABI,
    .name = "restart-zero",
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
