/*
 * fwresume behind the engine seam (engine.h): the one file of the harness
 * that calls fwr_*. A boot is fwr_init + fwr_begin of the image on offer;
 * a step is one fwr_next_range and the range fed in CHUNK pieces. On NAND
 * the engine's bad-block layer (core/port/fwr_skipbad.h) sits between it
 * and the harness's flash, as on a device.
 *
 * It also holds fwresume to its API contract (fwresume.h), which only
 * this file can see: where a call fails, fwr_last_error() reports that
 * error; an error that stops the engine leaves it FAILED, refusing
 * fwr_next_range() with FWR_E_STATE and no flash op; a read the harness
 * failed under a call makes that call return FWR_E_IO; the engine's own
 * CRC ops return 0 or a negative value. A breach goes to env->breach.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fwr_mbedtls_pkg.h"
#include "fwr_pkgdl.h"
#include "fwr_skipbad.h"
#include "fwresume.h"
#include "hashes.h"
#include "record_reader.h"

#define CHUNK      4096u /* bytes handed to fwr_feed at a time */
#define GUARD      64u   /* guard bytes after the work buffer */
#define GUARD_BYTE 0x5Cu

/* The behaviour probes' own NOR: 16-byte programs, 1 KiB erase units, a
 * 2 KiB record area, then 1 KiB of data for an image of four 256-byte
 * blocks. */
#define PROBE_PS     16u
#define PROBE_ES     1024u
#define PROBE_BS     256u
#define PROBE_REC    2048u
#define PROBE_IMAGE  1024u
#define PROBE_FLASH  (PROBE_REC + PROBE_IMAGE)
#define PROBE_WORK   2048u
#define PROBE_PASSES 2u /* max_restarts of the probe context */

/* A package's head (header, manifest, signature) is fetched again at each
 * boot (docs/package-format.md, section 6); a head the link corrupted
 * fails its CRC or its signature and is fetched again, this many times
 * in all before the device gives up on the package. */
#define HEAD_TRIES 4

/* The seam's vocabulary is fwresume's, value for value: scenarios store
 * these numbers. */
_Static_assert((int)ENGINE_HASH_CRC32 == (int)FWR_HASH_CRC32 &&
                   (int)ENGINE_HASH_MD5 == (int)FWR_HASH_MD5 &&
                   (int)ENGINE_HASH_SHA256 == (int)FWR_HASH_SHA256 &&
                   (int)ENGINE_VERIFY_TRUSTED == (int)FWR_VERIFY_TRUSTED &&
                   ENGINE_FLASH_ECC_FAIL == FWR_FLASH_ECC_FAIL &&
                   ENGINE_NO_MIRROR == FWR_NO_MIRROR &&
                   ENGINE_HASH_MAX == FWR_HASH_MAX,
               "engine.h and fwresume.h disagree");

struct fwresume_engine {
    struct fwr fw;
    struct fwr_config cfg;
    struct engine_params p;
    struct engine_env env; /* of the boot in progress */
    struct fwr_skipbad skipbad;
    struct harness_hash blk, img;  /* one context per ops, as they nest */
    struct fwr_hash_ops img_inner; /* img's, or the engine's own CRC */
    struct fwr_crc32_ctx crc_ctx;
    struct fwr_hash_ops img_seen; /* img_inner, watched */
    struct fwr_image id;
    uint32_t version;  /* of id */
    uint32_t verified; /* the version whose digest the engine got right */
    uint32_t *work;
    uint32_t work_size, work_min;
    void *fence; /* exact: the mapping whose last page is the fence */
    size_t fence_len;
    /* The audit: block hashes of up to two images, and scratch. */
    struct harness_hash reader_hash;
    const uint8_t *hashed[2];
    uint8_t *block_hashes[2];
    uint8_t *reader_buf;
    int64_t *reader_live;
    uint32_t nblocks;
    uint8_t probed; /* the API probes ran (once per instance) */
    struct fwr probe_fw;
    struct harness_hash probe_crc;
    uint8_t probe_nor[PROBE_FLASH];
    uint32_t probe_work[PROBE_WORK / 4];
    uint8_t chunk[CHUNK];
    /* Packaged updates (p.package): the download layer above the engine,
     * its hooks, the head as fetched this boot and the layer's work RAM. */
    struct fwr_pkgdl pkg;
    struct fwr_pkg_ops pkg_ops;
    struct fwr_mbedtls_pkg crypto;
    struct harness_hash pkg_sha;
    uint8_t *head;
    uint32_t head_cap, head_len;
    uint32_t *pkg_work;
    uint32_t pkg_work_size;
    uint8_t pkg_ready;    /* fwr_pkgdl_open and fwr_begin done this boot */
    uint8_t sig_memo[96]; /* the last digest and signature verified */
    int sig_memo_ok;      /* its result; -1: none yet */
};

static const char *error_name(int err)
{
    static const char *names[] = {
        "FWR_OK",
        "FWR_E_INVAL (bad argument or inconsistent configuration)",
        "FWR_E_GEOMETRY (sizes or alignments the engine cannot work with)",
        "FWR_E_NOSPC (record area too small for the image's blocks)",
        "FWR_E_IO (a flash op returned an error)",
        "FWR_E_PROG (program read-back mismatch beyond the retries)",
        "FWR_E_ERASE (erase failed beyond the retries)",
        "FWR_E_HASH (a hash op returned an error)",
        "FWR_E_STATE (call not valid in the current state)",
        "FWR_E_RANGE (fed more bytes than the range holds)",
        "FWR_E_AGAIN (transfer invalidated)",
        "FWR_E_DIGEST (image digest mismatch beyond the restarts)",
        "FWR_E_LOCKED (image complete and locked)",
        "FWR_E_BADBLOCK (no good erase unit left)",
        "FWR_E_DIGEST_ORDER (the CRC-32 digest was given byte-reversed)",
        "FWR_E_PACKAGE (package refused)"};
    if (err <= 0 && -err < (int)(sizeof(names) / sizeof(names[0])))
        return names[-err];
    return "unknown engine error";
}

static uint32_t hash_size(uint8_t kind)
{
    return kind == FWR_HASH_MD5 ? 16u : kind == FWR_HASH_SHA256 ? 32u : 4u;
}

static int record_need(const struct engine_params *p, uint32_t *bytes)
{
    struct fwr_geometry g;
    uint32_t hs = hash_size(p->hash);
    int rc;

    memset(&g, 0, sizeof(g));
    g.prog_size = p->prog_size;
    g.erase_size = p->erase_size;
    g.erased_value = p->erased_value;
    g.kind = p->nand ? FWR_FLASH_NAND : FWR_FLASH_NOR;
    rc = fwr_check_geometry(&g, p->block_size, p->write_size, hs);
    if (rc)
        return rc;
    *bytes =
        FWR_RECORD_AREA_SIZE(p->prog_size, p->erase_size, hs, p->block_size,
                             p->image_size ? p->image_size : 1);
    return 0;
}

/* ------------------------------------------------ the image digest */

/*
 * The image digest ops the engine gets, over the host's or the engine's
 * own CRC-32 code (img_inner), watched two ways: a digest right for the
 * image on offer means that image is finished (verified()); and the
 * engine's own CRC ops must return 0 or a negative value. The engine only
 * tests for a negative result, so a success reported as anything else
 * shows nowhere but here.
 */
static int checked(struct fwresume_engine *e, const char *op, int rc)
{
    char what[96];
    if (rc > 0 && e->p.own_crc && e->env.breach) {
        snprintf(what, sizeof(what),
                 "fwr_hash_crc32's %s returned %d (0 or negative expected)", op,
                 rc);
        e->env.breach(e->env.user, what);
    }
    return rc;
}

static int seen_start(void *ctx)
{
    struct fwresume_engine *e = ctx;
    return checked(e, "start", e->img_inner.start(e->img_inner.ctx));
}

static int seen_update(void *ctx, const void *buf, uint32_t len)
{
    struct fwresume_engine *e = ctx;
    return checked(e, "update",
                   e->img_inner.update(e->img_inner.ctx, buf, len));
}

static int seen_finish(void *ctx, uint8_t *digest)
{
    struct fwresume_engine *e = ctx;
    int rc =
        checked(e, "finish", e->img_inner.finish(e->img_inner.ctx, digest));
    if (!rc && e->id.digest_len &&
        !memcmp(digest, e->id.digest, e->id.digest_len))
        e->verified = e->version;
    return rc;
}

/* ------------------------------------------------------- an instance */

/* The write size fwr_init settles on (fwresume.h: 0 means the larger of
 * the program unit and 256, capped to the block). */
static uint32_t chosen_write_size(const struct engine_params *p)
{
    uint32_t w = p->write_size;
    if (!w) {
        w = p->prog_size > 256u ? p->prog_size : 256u;
        if (w > p->block_size)
            w = p->block_size;
    }
    return w;
}

static void destroy(void *ctx)
{
    struct fwresume_engine *e = ctx;
    if (!e)
        return;
    if (e->fence)
        munmap(e->fence, e->fence_len);
    else
        free(e->work);
    free(e->block_hashes[0]);
    free(e->block_hashes[1]);
    free(e->reader_buf);
    free(e->reader_live);
    free(e->head);
    free(e->pkg_work);
    fwr_mbedtls_pkg_free(&e->crypto);
    free(e);
}

/* ------------------------------------------------- packaged updates */

static int contract(struct fwresume_engine *e, const char *call, int rc,
                    uint64_t io0);
static void probe(struct fwresume_engine *e, const struct fwr_image *id);
static void probe_behaviour(struct fwresume_engine *e);
static void progress_check(struct fwresume_engine *e, const char *when);

static int pkg_aes(void *u, const uint8_t ctr[16], uint8_t *buf, uint32_t n)
{
    return fwr_mbedtls_aes_ctr(&((struct fwresume_engine *)u)->crypto, ctr, buf,
                               n);
}

/* Memoized (harness-side, not the device's RAM): a verification is a pure
 * function of digest and signature (the key is fixed), and an ECDSA verify
 * costs the host about 1 ms, at every boot of every trial: the torture's
 * largest cost after the flash. */
static int pkg_verify(void *u, const uint8_t digest[32], const uint8_t sig[64])
{
    struct fwresume_engine *e = u;
    if (e->sig_memo_ok < 0 || memcmp(e->sig_memo, digest, 32) ||
        memcmp(e->sig_memo + 32, sig, 64)) {
        memcpy(e->sig_memo, digest, 32);
        memcpy(e->sig_memo + 32, sig, 64);
        e->sig_memo_ok = fwr_mbedtls_verify(&e->crypto, digest, sig);
    }
    return e->sig_memo_ok;
}

static int pkg_old_read(void *u, uint32_t off, void *buf, uint32_t len)
{
    struct fwresume_engine *e = u;
    if (!e->env.old_read)
        return FWR_E_IO;
    return e->env.old_read(e->env.user, off, buf, len) ? FWR_E_IO : 0;
}

static int pkg_setup(struct fwresume_engine *e, char *err, size_t errlen)
{
    const struct engine_params *p = &e->p;

    if (p->digest != FWR_HASH_SHA256) {
        snprintf(err, errlen,
                 "a package names its image by SHA-256 (engine.digest)");
        return -1;
    }
    if (harness_hash_init(&e->pkg_sha, FWR_HASH_SHA256, err, errlen))
        return -1;
    if (fwr_mbedtls_pkg_init(&e->crypto, p->aes_key, p->aes_key_len,
                             p->sign_pub)) {
        snprintf(err, errlen, "the package keys do not load (mbedTLS)");
        return -1;
    }
    e->sig_memo_ok = -1;
    e->pkg_ops.ctx = e;
    e->pkg_ops.sha256 = &e->pkg_sha.ops;
    e->pkg_ops.aes_ctr = p->aes_key ? pkg_aes : NULL;
    e->pkg_ops.verify = p->sign_pub ? pkg_verify : NULL;
    e->pkg_ops.old_read = pkg_old_read;
    e->pkg_work_size =
        (FWR_PKGDL_WORK_SIZE(p->block_size, p->package_window) + 3u) & ~3u;
    e->pkg_work = malloc(e->pkg_work_size);
    if (!e->pkg_work) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* [off, off + len) of the package into buf, through dropped connections:
 * 0, 1 when a power cycle is due (return from step()), or FWR_E_AGAIN
 * when the server sends less than it has (the package shrank). */
static int fetch(struct fwresume_engine *e, uint32_t off, uint32_t len,
                 uint8_t *buf)
{
    const struct engine_link *l = &e->env.link;
    uint32_t tries = 0;

    while (len) {
        uint32_t n = l->request(l->user, off, len), got = 0;
        while (got < n) {
            uint32_t k = l->receive(l->user, buf + got, n - got);
            if (!k)
                return 1;
            got += k;
        }
        if (!n && ++tries > 64)
            return FWR_E_AGAIN;
        off += got;
        buf += got;
        len -= got;
    }
    return 0;
}

/* Fetch the head, open the package over it and begin its image: 0, 1 when
 * a power cycle interrupted the fetch (step() tries again), or an error. */
static int pkg_begin(struct fwresume_engine *e, const struct engine_image *m)
{
    struct fwr_pkg_header h;
    uint32_t need;
    int rc = FWR_E_PACKAGE, tries;
    uint64_t io0;

    e->pkg_ready = 0;
    e->pkg_ops.old_size = e->env.old_size;
    for (tries = 0; tries < HEAD_TRIES; tries++) {
        if (e->head_cap < FWR_PKG_HEADER_SIZE) {
            free(e->head);
            e->head_cap = 0;
            if (!(e->head = malloc(FWR_PKG_HEADER_SIZE)))
                return FWR_E_INVAL;
            e->head_cap = FWR_PKG_HEADER_SIZE;
        }
        if ((rc = fetch(e, 0, FWR_PKG_HEADER_SIZE, e->head)))
            return rc;
        if (fwr_pkg_parse_header(e->head, FWR_PKG_HEADER_SIZE, &h)) {
            rc = FWR_E_PACKAGE;
            continue; /* the link corrupted it: its CRC says so */
        }
        need = fwr_pkg_data_offset(&h);
        if (need > m->package_size) {
            rc = FWR_E_PACKAGE;
            continue;
        }
        if (need > e->head_cap) {
            uint8_t *b = realloc(e->head, need);
            if (!b)
                return FWR_E_INVAL;
            e->head = b;
            e->head_cap = need;
        }
        if ((rc = fetch(e, FWR_PKG_HEADER_SIZE, need - FWR_PKG_HEADER_SIZE,
                        e->head + FWR_PKG_HEADER_SIZE)))
            return rc;
        e->head_len = need;
        rc = fwr_pkgdl_open(&e->pkg, e->head, need, m->package_size,
                            &e->pkg_ops, e->p.sign_pub != NULL, e->pkg_work,
                            e->pkg_work_size, &e->id);
        /* A head the link damaged is fetched again; a package the device
         * refuses for what it is (a wrong base, a key it lacks) is not. */
        if (rc != FWR_E_PACKAGE || (e->pkg.refused != FWR_PKGDL_MALFORMED &&
                                    e->pkg.refused != FWR_PKGDL_BAD_SIGNATURE))
            break;
    }
    if (rc)
        return rc < 0 ? rc : FWR_E_PACKAGE;
    /* The package names the image; the server's ETag names the version. */
    e->id.version_len = m->tag_len;
    memcpy(e->id.version, m->tag, sizeof(e->id.version));
    if (!e->probed) {
        e->probed = 1;
        probe(e, &e->id);
        probe_behaviour(e);
    }
    io0 = e->env.io_faults(e->env.user);
    rc = contract(e, "fwr_begin", fwr_begin(&e->fw, &e->id), io0);
    if (!rc) {
        e->pkg_ready = 1;
        progress_check(e, "after fwr_begin");
    }
    return rc;
}

/* A package call's result held to the engine's contract when it is the
 * engine's: fwr_pkgdl's own refusals (a block that did not check out) do
 * not go through fwr_last_error(). */
static int pkg_checked(struct fwresume_engine *e, const char *call, int rc,
                       uint64_t io0, uint32_t rejected0)
{
    if (rc == FWR_E_AGAIN && e->pkg.rejected != rejected0)
        return rc;
    if (rc < 0 && rc != fwr_last_error(&e->fw) &&
        e->env.io_faults(e->env.user) == io0)
        return rc; /* fwr_pkgdl's own */
    return contract(e, call, rc, io0);
}

static void *create(const struct engine_params *p, char *err, size_t errlen)
{
    struct fwresume_engine *e = calloc(1, sizeof(*e));
    struct fwr_config *c;
    uint8_t dk = p->digest != FWR_HASH_NONE ? p->digest : p->hash;
    uint32_t n;

    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c = &e->cfg;
    e->p = *p;
    if (harness_hash_init(&e->blk, p->hash, err, errlen) ||
        harness_hash_init(&e->img, dk, err, errlen) ||
        harness_hash_init(&e->reader_hash, p->hash, err, errlen) ||
        harness_hash_init(&e->probe_crc, FWR_HASH_CRC32, err, errlen)) {
        destroy(e);
        return NULL;
    }
    e->nblocks = (p->image_size + p->block_size - 1) / p->block_size;
    n = p->write_size ? p->write_size
                      : (p->prog_size > 256 ? p->prog_size : 256);
    /* Beyond the minimum, an erase unit's worth of read buffer: the
     * engine then hashes in big pieces (zlib's CRC is twice as fast on
     * 4 KiB as on 256 B). */
    e->work_min = FWR_WORK_SIZE(n, e->nblocks);
    if (p->ram_exact) {
        /* The least fwr_begin takes in an aligned buffer (two chunks and
         * the bitmaps), ending where an inaccessible page begins: a read
         * or a write past it faults at once, as on an MCU whose RAM ends
         * there. */
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        uint8_t *m;
        e->work_size = ((2u * chosen_write_size(p) + 3u) & ~3u) +
                       (e->nblocks + 31u) / 32u * 8u;
        e->fence_len = (e->work_size + page - 1) / page * page + page;
        m = mmap(NULL, e->fence_len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED ||
            mprotect(m + e->fence_len - page, page, PROT_NONE)) {
            if (m != MAP_FAILED)
                munmap(m, e->fence_len);
            snprintf(err, errlen, "cannot map the work buffer");
            destroy(e);
            return NULL;
        }
        e->fence = m;
        e->work = (uint32_t *)(void *)(m + e->fence_len - page - e->work_size);
    } else {
        e->work_size =
            e->work_min +
            (p->erase_size < (256u << 10) ? p->erase_size : (256u << 10));
        e->work = malloc((size_t)e->work_size + GUARD);
    }
    e->reader_buf = malloc((size_t)p->record_size * 2);
    e->reader_live = malloc(((size_t)e->nblocks + 1) * sizeof(*e->reader_live));
    if (!e->work || !e->reader_buf || !e->reader_live) {
        snprintf(err, errlen, "out of memory");
        destroy(e);
        return NULL;
    }
    c->geometry.prog_size = p->prog_size;
    c->geometry.erase_size = p->erase_size;
    c->geometry.erased_value = p->erased_value;
    c->geometry.kind = p->nand ? FWR_FLASH_NAND : FWR_FLASH_NOR;
    c->layout.record_addr = p->record_addr;
    c->layout.record_size = p->record_size;
    c->layout.mirror_addr = p->mirror_addr;
    c->layout.data_addr = p->data_addr;
    c->layout.data_size = p->data_size;
    c->block_size = p->block_size;
    c->write_size = p->write_size;
    /* The engine's own CRC as a device gets it: no block hash ops given,
     * and its CRC ops for the digest, watched. */
    c->block_hash =
        p->own_crc && p->hash == FWR_HASH_CRC32 ? NULL : &e->blk.ops;
    e->img_inner = e->img.ops;
    if (p->own_crc && dk == FWR_HASH_CRC32)
        fwr_hash_crc32(&e->img_inner, &e->crc_ctx);
    else
        e->p.own_crc = 0; /* nothing of the engine's own to watch */
    e->img_seen = e->img_inner;
    e->img_seen.ctx = e;
    e->img_seen.start = seen_start;
    e->img_seen.update = seen_update;
    e->img_seen.finish = seen_finish;
    c->image_hash = &e->img_seen;
    c->verify = p->verify;
    c->work = e->work;
    c->work_size = e->work_size;
    if (p->package && pkg_setup(e, err, errlen)) {
        destroy(e);
        return NULL;
    }
    return e;
}

static uint32_t ram(const void *ctx)
{
    const struct fwresume_engine *e = ctx;
    /* A package adds its layer, work RAM and head (the manifest). */
    return (uint32_t)sizeof(struct fwr) + e->work_min +
           (e->p.package ? (uint32_t)sizeof(struct fwr_pkgdl) +
                               e->pkg_work_size + e->head_len
                         : 0u);
}

static void reset(void *ctx)
{
    struct fwresume_engine *e = ctx;
    e->verified = 0;
}

/* ------------------------------------------------------ the contract */

/* Does the engine keep on going after err (fwresume.h: these five leave
 * it usable, every other error stops it)? */
static int error_is_usable(int err)
{
    return err == FWR_E_INVAL || err == FWR_E_STATE || err == FWR_E_RANGE ||
           err == FWR_E_AGAIN || err == FWR_E_LOCKED;
}

/* A roomy buffer is followed by guard bytes; an exact one by the fence. */
static void guard_set(struct fwresume_engine *e)
{
    if (!e->fence)
        memset((uint8_t *)e->work + e->work_size, GUARD_BYTE, GUARD);
}

static int guard_intact(const struct fwresume_engine *e)
{
    const uint8_t *g = (const uint8_t *)e->work + e->work_size;
    uint32_t i;
    if (e->fence)
        return 1;
    for (i = 0; i < GUARD; i++)
        if (g[i] != GUARD_BYTE)
            return 0;
    return 1;
}

/* The error contract, checked where call returned rc; io0: the harness's
 * failed reads before the call. Returns rc. */
static int contract(struct fwresume_engine *e, const char *call, int rc,
                    uint64_t io0)
{
    const struct engine_env *env = &e->env;
    struct fwr *f = &e->fw;
    char what[160];
    uint32_t off = 0, len = 0;
    uint64_t ops;
    int again;

    what[0] = 0;
    if (!guard_intact(e)) {
        snprintf(what, sizeof(what),
                 "%s wrote past the end of its %u-byte work buffer", call,
                 (unsigned)e->work_size);
        env->breach(env->user, what);
        guard_set(e); /* one report, not one per call */
        return rc;
    }
    /* FWR_E_IO is "a flash op returned an error": one that failed a read
     * under this call must come back from it (the engine neither retries
     * nor hides one). */
    if (env->io_faults(env->user) > io0 && rc != FWR_E_IO) {
        snprintf(what, sizeof(what),
                 "a read failed with an I/O error under %s, which returned "
                 "%d (FWR_E_IO expected)",
                 call, rc);
    } else if (rc >= 0) {
        return rc;
    } else if (fwr_last_error(f) != rc) {
        snprintf(what, sizeof(what),
                 "%s returned %d, but fwr_last_error() says %d", call, rc,
                 fwr_last_error(f));
    } else if (!error_is_usable(rc) && fwr_state(f) != FWR_STATE_FAILED) {
        snprintf(what, sizeof(what),
                 "%s returned %d, which stops the engine, but its state is "
                 "%d, not FAILED",
                 call, rc, (int)fwr_state(f));
    } else if (!error_is_usable(rc)) {
        ops = env->flash_ops(env->user);
        again = fwr_next_range(f, &off, &len);
        ops = env->flash_ops(env->user) - ops;
        if (again != FWR_E_STATE || ops)
            snprintf(what, sizeof(what),
                     "after %s returned %d, fwr_next_range() returned %d "
                     "and made %llu flash ops (FWR_E_STATE and none expected)",
                     call, rc, again, (unsigned long long)ops);
        else if (fwr_last_error(f) != rc)
            snprintf(what, sizeof(what),
                     "after %s returned %d, a refused call replaced "
                     "fwr_last_error() with %d",
                     call, rc, fwr_last_error(f));
    }
    if (what[0])
        env->breach(env->user, what);
    return rc;
}

/* ------------------------------------------------------- the probes */

/*
 * Calls a device's code should never make, made once per instance on a
 * second context over a flash that fails every op (and counts them): an
 * engine that accepts one would go on to use it (a NULL pointer, a work
 * buffer smaller than it writes, a trusting policy with nothing to check
 * the records by). Each must come back FWR_E_INVAL before any flash op.
 * Nothing here touches the simulated device.
 */
struct probe_flash {
    uint32_t ops;
};

static int probe_read(void *u, uint32_t a, void *b, uint32_t n)
{
    (void)a, (void)b, (void)n;
    ((struct probe_flash *)u)->ops++;
    return -1;
}

static int probe_program(void *u, uint32_t a, const void *b, uint32_t n)
{
    (void)a, (void)b, (void)n;
    ((struct probe_flash *)u)->ops++;
    return -1;
}

static int probe_erase(void *u, uint32_t a, uint32_t n)
{
    (void)a, (void)n;
    ((struct probe_flash *)u)->ops++;
    return -1;
}

static void probe_expect(struct fwresume_engine *e, const char *what, int rc,
                         const struct probe_flash *pf)
{
    char msg[120];
    if (rc == FWR_E_INVAL && !pf->ops)
        return;
    snprintf(msg, sizeof(msg),
             "%s: %d and %u flash ops (FWR_E_INVAL, none "
             "expected)",
             what, rc, (unsigned)pf->ops);
    e->env.breach(e->env.user, msg);
}

static void probe(struct fwresume_engine *e, const struct fwr_image *id)
{
    struct fwr *pfw = &e->probe_fw;
    struct fwr_config pc = e->cfg;
    struct fwr_image pid = *id;
    struct probe_flash fl = {0};
    uint32_t off, len, w = chosen_write_size(&e->p);
    uint32_t bitmaps = ((e->nblocks + 31u) / 32u) * 8u;
    uint8_t byte = 0;
    char msg[120];
    int rc;

    pc.flash.user = &fl;
    pc.flash.read = probe_read;
    pc.flash.program = probe_program;
    pc.flash.erase = probe_erase;
    pc.flash.protect = NULL;
    probe_expect(e, "fwr_init(NULL, cfg)", fwr_init(NULL, &pc), &fl);
    probe_expect(e, "fwr_init(f, NULL)", fwr_init(pfw, NULL), &fl);
    pc.flash.read = NULL;
    memset(pfw, 0xA5, sizeof(*pfw)); /* RAM after power-on */
    probe_expect(e, "fwr_init without flash.read", fwr_init(pfw, &pc), &fl);
    /* A context whose fwr_init failed is not configured (fwresume.h). */
    rc = fwr_begin(pfw, &pid);
    if (rc != FWR_E_STATE || fl.ops) {
        snprintf(msg, sizeof(msg),
                 "fwr_begin after a refused fwr_init: %d and %u flash ops "
                 "(FWR_E_STATE, none expected)",
                 rc, (unsigned)fl.ops);
        e->env.breach(e->env.user, msg);
    }
    pc.flash.read = probe_read;
    pc.flash.program = NULL;
    probe_expect(e, "fwr_init without flash.program", fwr_init(pfw, &pc), &fl);
    pc.flash.program = probe_program;
    pc.flash.erase = NULL;
    probe_expect(e, "fwr_init without flash.erase", fwr_init(pfw, &pc), &fl);
    pc.flash.erase = probe_erase;
    if (fwr_init(pfw, &pc)) {
        e->env.breach(e->env.user, "fwr_init refused the scenario's "
                                   "configuration over other flash ops");
        return;
    }
    probe_expect(e, "fwr_begin(NULL, img)", fwr_begin(NULL, &pid), &fl);
    probe_expect(e, "fwr_begin(f, NULL)", fwr_begin(pfw, NULL), &fl);
    probe_expect(e, "fwr_next_range(NULL, ...)",
                 fwr_next_range(NULL, &off, &len), &fl);
    probe_expect(e, "fwr_next_range(f, NULL, len)",
                 fwr_next_range(pfw, NULL, &len), &fl);
    probe_expect(e, "fwr_next_range(f, off, NULL)",
                 fwr_next_range(pfw, &off, NULL), &fl);
    probe_expect(e, "fwr_feed(NULL, buf, 1)", fwr_feed(NULL, &byte, 1), &fl);
    probe_expect(e, "fwr_feed(f, NULL, 1)", fwr_feed(pfw, NULL, 1), &fl);
    /* Work buffers smaller than two chunks and the bitmaps. */
    pc.work_size = 2u * w + bitmaps - 1u;
    probe_expect(e, "fwr_begin, work buffer 1 byte short", fwr_begin(pfw, &pid),
                 &fl);
    pc.work_size = 4u;
    probe_expect(e, "fwr_begin, 4-byte work buffer", fwr_begin(pfw, &pid), &fl);
    pc.work_size = e->work_size;
    /* Trusted records need a digest to be checked by. */
    pc.verify = FWR_VERIFY_TRUSTED;
    pid.digest_kind = FWR_HASH_NONE;
    pid.digest_len = 0;
    probe_expect(e, "fwr_begin, trusted without a digest", fwr_begin(pfw, &pid),
                 &fl);
}

/*
 * Behaviour the simulated device cannot show, shown on a small RAM NOR of
 * the probes' own (program ANDs, erase sets 0xFF): what the engine does
 * with an image digest handed over wrong. Right, it completes after one
 * download; byte-reversed (a CRC-32 from a manifest copied by hand), it
 * stops with FWR_E_DIGEST_ORDER after one download, as downloading again
 * cannot help; wrong in any other way, even in one byte of an otherwise
 * reversed CRC, it starts over max_restarts times, then stops with
 * FWR_E_DIGEST. And fwr_check_geometry against fwresume.h's rules.
 */
static int pnor_read(void *u, uint32_t a, void *b, uint32_t n)
{
    struct fwresume_engine *e = u;
    if (a > PROBE_FLASH || n > PROBE_FLASH - a)
        return -1;
    memcpy(b, e->probe_nor + a, n);
    return 0;
}

static int pnor_program(void *u, uint32_t a, const void *b, uint32_t n)
{
    struct fwresume_engine *e = u;
    const uint8_t *src = b;
    uint32_t i;
    if (a > PROBE_FLASH || n > PROBE_FLASH - a || a % PROBE_PS || n % PROBE_PS)
        return -1;
    for (i = 0; i < n; i++)
        e->probe_nor[a + i] &= src[i];
    return 0;
}

static int pnor_erase(void *u, uint32_t a, uint32_t n)
{
    struct fwresume_engine *e = u;
    if (a > PROBE_FLASH || n > PROBE_FLASH - a || a % PROBE_ES || n % PROBE_ES)
        return -1;
    memset(e->probe_nor + a, 0xFF, n);
    return 0;
}

static uint8_t probe_byte(uint32_t i)
{
    return (uint8_t)(i * 7u + 3u + (i >> 8));
}

/* One update of the probe image from erased flash, fed one range at a
 * time until the engine completes or stops: its result, the bytes fed
 * in *fed and the restarts it counted in *restarts; 1 when it does
 * neither in a bound that covers every restart. */
static int probe_update(struct fwresume_engine *e, const struct fwr_image *id,
                        uint32_t *fed, uint32_t *restarts)
{
    struct fwr *f = &e->probe_fw;
    struct fwr_config c;
    struct fwr_progress pr;
    uint8_t buf[PROBE_BS];
    uint32_t off, len, k, i, ranges;
    int rc;

    memset(&c, 0, sizeof(c));
    c.flash.user = e;
    c.flash.read = pnor_read;
    c.flash.program = pnor_program;
    c.flash.erase = pnor_erase;
    c.geometry.prog_size = PROBE_PS;
    c.geometry.erase_size = PROBE_ES;
    c.geometry.erased_value = 0xFF;
    c.geometry.kind = FWR_FLASH_NOR;
    c.layout.record_addr = 0;
    c.layout.record_size = PROBE_REC;
    c.layout.mirror_addr = FWR_NO_MIRROR;
    c.layout.data_addr = PROBE_REC;
    c.layout.data_size = PROBE_IMAGE;
    c.block_size = PROBE_BS;
    c.image_hash = &e->probe_crc.ops;
    c.work = e->probe_work;
    c.work_size = PROBE_WORK;
    c.max_restarts = PROBE_PASSES;
    memset(e->probe_nor, 0xFF, sizeof(e->probe_nor));
    memset(f, 0xA5, sizeof(*f));
    *fed = *restarts = 0;
    if ((rc = fwr_init(f, &c)) || (rc = fwr_begin(f, id)))
        return rc;
    for (ranges = 0; ranges < 8u * (PROBE_PASSES + 2u) * 4u; ranges++) {
        if (fwr_state(f) == FWR_STATE_COMPLETE)
            return 0;
        rc = fwr_next_range(f, &off, &len);
        fwr_get_progress(f, &pr);
        *restarts = pr.restarts;
        if (rc < 0)
            return rc;
        while (len) {
            k = len < PROBE_BS ? len : PROBE_BS;
            for (i = 0; i < k; i++)
                buf[i] = probe_byte(off + i);
            rc = fwr_feed(f, buf, k);
            fwr_get_progress(f, &pr);
            *restarts = pr.restarts;
            if (rc == FWR_E_AGAIN)
                break;
            *fed += k; /* the last block's bytes end with the verdict */
            if (rc < 0)
                return rc;
            off += k;
            len -= k;
        }
    }
    return 1;
}

static void probe_digest(struct fwresume_engine *e, const char *what,
                         const struct fwr_image *id, int want_rc,
                         uint32_t want_passes)
{
    uint32_t fed, restarts;
    char msg[200];
    int rc = probe_update(e, id, &fed, &restarts);

    if (rc == want_rc && fed == want_passes * PROBE_IMAGE &&
        restarts == want_passes - 1u)
        return;
    snprintf(msg, sizeof(msg),
             "an update of %u bytes with %s ended %d after %u bytes fed and "
             "%u restarts (%d after %u and %u expected)",
             (unsigned)PROBE_IMAGE, what, rc, (unsigned)fed, (unsigned)restarts,
             want_rc, (unsigned)(want_passes * PROBE_IMAGE),
             (unsigned)(want_passes - 1u));
    e->env.breach(e->env.user, msg);
}

/* fwresume.h's rules for fwr_check_geometry, written from the header. */
struct geometry_case {
    uint32_t ps, es, bs, ws, hs;
    uint8_t kind;
    int want;
    const char *why;
};

static void probe_geometry(struct fwresume_engine *e)
{
    static const struct geometry_case cases[] = {
        {256, 4096, 4096, 0, 4, FWR_FLASH_NOR, 0, "a common NOR"},
        {2048, 131072, 131072, 0, 32, FWR_FLASH_NAND, 0, "a NAND, SHA-256"},
        {1, 4096, 128, 0, 4, FWR_FLASH_NOR, 0,
         "blocks under 256 B (the default write size is capped to them)"},
        {1, 4096, 4096, 0, FWR_HASH_MAX, FWR_FLASH_NOR, 0,
         "a hash of FWR_HASH_MAX bytes"},
        {128, 4096, 4096, 128, 0, FWR_FLASH_NOR, 0,
         "write size = program unit"},
        {256, 4096, 4096, 4096, 4, FWR_FLASH_NOR, 0, "write size = block"},
        {256, 256, 4096, 0, 4, FWR_FLASH_NOR, 0,
         "erase unit = program unit (a page-erasable NOR)"},
        {1, 4096, 4096, 0, FWR_HASH_MAX + 1, FWR_FLASH_NOR, FWR_E_INVAL,
         "a hash longer than FWR_HASH_MAX"},
        {3, 4096, 4096, 0, 4, FWR_FLASH_NOR, FWR_E_GEOMETRY,
         "a program unit not a power of two"},
        {256, 3000, 4096, 0, 4, FWR_FLASH_NOR, FWR_E_GEOMETRY,
         "an erase unit not a power of two"},
        {256, 4096, 3000, 0, 4, FWR_FLASH_NOR, FWR_E_GEOMETRY,
         "a block not a power of two"},
        {256, 4096, 4096, 128, 4, FWR_FLASH_NOR, FWR_E_GEOMETRY,
         "a write size under the program unit"},
        {256, 4096, 4096, 8192, 4, FWR_FLASH_NOR, FWR_E_GEOMETRY,
         "a write size over the block"},
        {256, 128, 4096, 0, 4, FWR_FLASH_NOR, FWR_E_GEOMETRY,
         "an erase unit under the program unit"},
        {256, 4096, 4096, 0, 4, 7, FWR_E_GEOMETRY, "a flash kind unknown"},
        {1, 4096, 64, 0, 4, FWR_FLASH_NOR, FWR_E_GEOMETRY,
         "a header body that no staging chunk holds"},
    };
    struct fwr_geometry g;
    char msg[200];
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct geometry_case *k = &cases[i];
        memset(&g, 0, sizeof(g));
        g.prog_size = k->ps;
        g.erase_size = k->es;
        g.erased_value = 0xFF;
        g.kind = k->kind;
        rc = fwr_check_geometry(&g, k->bs, k->ws, k->hs);
        if (rc != k->want) {
            snprintf(msg, sizeof(msg),
                     "fwr_check_geometry of %s (program %u, erase %u, block "
                     "%u, write %u, hash %u): %d (%d expected)",
                     k->why, (unsigned)k->ps, (unsigned)k->es, (unsigned)k->bs,
                     (unsigned)k->ws, (unsigned)k->hs, rc, k->want);
            e->env.breach(e->env.user, msg);
        }
    }
    if ((rc = fwr_check_geometry(NULL, 4096, 0, 4)) != FWR_E_INVAL) {
        snprintf(msg, sizeof(msg),
                 "fwr_check_geometry(NULL, ...): %d (FWR_E_INVAL expected)",
                 rc);
        e->env.breach(e->env.user, msg);
    }
}

static void probe_behaviour(struct fwresume_engine *e)
{
    struct fwr_image id;
    uint8_t image[PROBE_IMAGE], d[4];
    uint32_t i;

    for (i = 0; i < PROBE_IMAGE; i++)
        image[i] = probe_byte(i);
    if (harness_hash_buf(&e->probe_crc, image, PROBE_IMAGE, d)) {
        e->env.breach(e->env.user, "the probes' CRC-32 failed");
        return;
    }
    memset(&id, 0, sizeof(id));
    id.size = PROBE_IMAGE;
    id.digest_kind = FWR_HASH_CRC32;
    id.digest_len = 4;
    memcpy(id.digest, d, 4);
    probe_digest(e, "its CRC-32 digest", &id, 0, 1);
    for (i = 0; i < 4; i++)
        id.digest[i] = d[3u - i];
    probe_digest(e, "its CRC-32 digest byte-reversed", &id, FWR_E_DIGEST_ORDER,
                 1);
    id.digest[3] ^= 0x01u; /* reversed, but for the last byte */
    probe_digest(e, "a wrong digest (reversed CRC-32, last byte off)", &id,
                 FWR_E_DIGEST, PROBE_PASSES + 1u);
    memcpy(id.digest, d, 4);
    id.digest[0] ^= 0x80u;
    probe_digest(e, "a wrong digest (one bit off)", &id, FWR_E_DIGEST,
                 PROBE_PASSES + 1u);
    probe_geometry(e);
}

/*
 * The progress figures (fwresume.h) a device shows its user, against the
 * bitmap: every block of the image counted, and bytes_wanted the bytes of
 * the blocks not done. Checked after each fwr_begin and at completion.
 */
static void progress_check(struct fwresume_engine *e, const char *when)
{
    struct fwr_progress pr;
    uint32_t bs = e->p.block_size, size = e->id.size;
    uint32_t n = (size + bs - 1u) / bs, b, done = 0;
    uint64_t wanted = 0;
    char msg[120];

    fwr_get_progress(&e->fw, &pr);
    /* Indexes past the image are no block of it, in every state. */
    if (fwr_block_done(&e->fw, n) != 0) {
        snprintf(msg, sizeof(msg),
                 "progress %s: fwr_block_done past the last block (%u of %u) "
                 "is not 0",
                 when, (unsigned)n, (unsigned)n);
        e->env.breach(e->env.user, msg);
    }
    for (b = 0; b < n; b++) {
        if (fwr_block_done(&e->fw, b) == 1)
            done++;
        else
            wanted += b + 1u < n ? bs : size - b * bs;
    }
    if (pr.blocks_total != n || pr.bytes_wanted != wanted ||
        pr.blocks_done != done ||
        (fwr_state(&e->fw) == FWR_STATE_COMPLETE && done != n)) {
        snprintf(msg, sizeof(msg),
                 "progress %s: %u blocks, %u done, %u bytes wanted (%u, %u, "
                 "%llu expected)",
                 when, (unsigned)pr.blocks_total, (unsigned)pr.blocks_done,
                 (unsigned)pr.bytes_wanted, (unsigned)n, (unsigned)done,
                 (unsigned long long)wanted);
        e->env.breach(e->env.user, msg);
    }
}

/* ---------------------------------------------------------- a boot */

/* The identity fwresume keeps of a manifest. */
static void image_id(struct fwr_image *id, const struct engine_image *m)
{
    memset(id, 0, sizeof(*id));
    id->size = m->size;
    id->digest_kind = m->digest_kind;
    id->digest_len = m->digest_len;
    id->version_len = m->tag_len;
    memcpy(id->digest, m->digest, sizeof(id->digest));
    memcpy(id->version, m->tag, sizeof(id->version));
}

static int begin_offer(struct fwresume_engine *e)
{
    const struct engine_link *l = &e->env.link;
    struct engine_image m;
    uint64_t io0;
    int rc;

    l->manifest(l->user, &m);
    e->version = m.version;
    if (m.package_size) {
        if (!e->p.package)
            return FWR_E_PACKAGE; /* a package to a device set up for none */
        rc = pkg_begin(e, &m);
        return rc > 0 ? 0 : rc;
    }
    image_id(&e->id, &m);
    if (!e->probed) {
        e->probed = 1;
        probe(e, &e->id);
        probe_behaviour(e);
    }
    io0 = e->env.io_faults(e->env.user);
    rc = contract(e, "fwr_begin", fwr_begin(&e->fw, &e->id), io0);
    if (!rc)
        progress_check(e, "after fwr_begin");
    return rc;
}

static int boot(void *ctx, const struct engine_env *env)
{
    struct fwresume_engine *e = ctx;
    struct fwr_config *c = &e->cfg;
    struct fwr_flash_ops lower;
    int rc;

    e->env = *env;
    /* No RAM survives a reboot: the context and the work buffer start
     * as garbage. */
    memset(&e->fw, 0xA5, sizeof(e->fw));
    memset(e->work, 0xA5, e->work_size);
    if (e->pkg_work) {
        memset(&e->pkg, 0xA5, sizeof(e->pkg));
        memset(e->pkg_work, 0xA5, e->pkg_work_size);
        e->pkg_ready = 0;
    }
    guard_set(e);
    lower.user = env->flash.user;
    lower.read = env->flash.read;
    lower.program = env->flash.program;
    lower.erase = env->flash.erase;
    lower.protect = env->flash.protect;
    if (e->p.nand && env->flash.is_bad)
        fwr_skipbad_init(&e->skipbad, &lower, env->flash.is_bad, &c->layout,
                         c->geometry.erase_size, &c->flash);
    else
        c->flash = lower;
    rc = fwr_init(&e->fw, c);
    if (rc)
        return rc;
    return begin_offer(e);
}

/* One request of a package: the block the engine wants, as stored. */
static int pkg_step(struct fwresume_engine *e)
{
    const struct engine_link *l = &e->env.link;
    uint32_t off, len, n, done = 0, rej;
    uint64_t io0;
    int rc;

    io0 = e->env.io_faults(e->env.user);
    rej = e->pkg.rejected;
    rc = pkg_checked(e, "fwr_next_range",
                     fwr_pkgdl_next_range(&e->pkg, &e->fw, &off, &len), io0,
                     rej);
    if (rc)
        return rc;
    if (!len)
        return ENGINE_MORE;
    n = l->request(l->user, off, len);
    while (done < n) {
        uint32_t k = n - done < CHUNK ? n - done : CHUNK;
        k = l->receive(l->user, e->chunk, k);
        if (!k)
            break; /* a power cycle is coming */
        io0 = e->env.io_faults(e->env.user);
        rej = e->pkg.rejected;
        rc =
            pkg_checked(e, "fwr_feed",
                        fwr_pkgdl_feed(&e->pkg, &e->fw, e->chunk, k), io0, rej);
        if (rc == FWR_E_AGAIN)
            break;
        if (rc < 0)
            return rc;
        done += k;
    }
    return ENGINE_MORE;
}

static int step(void *ctx)
{
    struct fwresume_engine *e = ctx;
    const struct engine_link *l = &e->env.link;
    uint32_t off, len, n, done = 0;
    uint64_t io0;
    int rc;

    if (l->version(l->user) != e->version) {
        /* The server's ETag changed: the device starts the new image,
         * which voids the old one's records. */
        rc = begin_offer(e);
        if (rc)
            return rc;
    }
    if (e->p.package && !e->pkg_ready) {
        /* A power cycle cut the head's fetch short at boot. */
        struct engine_image m;
        l->manifest(l->user, &m);
        rc = pkg_begin(e, &m);
        if (rc)
            return rc > 0 ? ENGINE_MORE : rc;
    }
    if (fwr_state(&e->fw) == FWR_STATE_COMPLETE) {
        progress_check(e, "when complete");
        return ENGINE_DONE;
    }
    if (e->p.package)
        return pkg_step(e);
    io0 = e->env.io_faults(e->env.user);
    rc = contract(e, "fwr_next_range", fwr_next_range(&e->fw, &off, &len), io0);
    if (rc)
        return rc;
    if (!len)
        return ENGINE_MORE;
    n = l->request(l->user, off, len);
    while (done < n) {
        uint32_t k = n - done < CHUNK ? n - done : CHUNK;
        k = l->receive(l->user, e->chunk, k);
        if (!k)
            break; /* a power cycle is coming */
        io0 = e->env.io_faults(e->env.user);
        rc = contract(e, "fwr_feed", fwr_feed(&e->fw, e->chunk, k), io0);
        if (rc == FWR_E_AGAIN)
            break;
        if (rc < 0)
            return rc;
        done += k;
    }
    return ENGINE_MORE;
}

static int complete(const void *ctx)
{
    const struct fwresume_engine *e = ctx;
    return fwr_state(&e->fw) == FWR_STATE_COMPLETE;
}

static int claims(const void *ctx, uint32_t off, uint32_t len)
{
    const struct fwresume_engine *e = ctx;
    (void)len;
    return fwr_block_done(&e->fw, off / e->p.block_size) == 1;
}

static uint32_t verified(const void *ctx)
{
    return ((const struct fwresume_engine *)ctx)->verified;
}

static uint32_t resumed(const void *ctx)
{
    return ((const struct fwresume_engine *)ctx)->fw.progress.blocks_resumed;
}

static uint32_t restarts(const void *ctx)
{
    return ((const struct fwresume_engine *)ctx)->fw.progress.restarts;
}

/* ------------------------------------------------------------ audit */

/* The block hashes of image, by the host's code, once per image. */
static const uint8_t *block_hashes(struct fwresume_engine *e,
                                   const uint8_t *image, uint32_t size)
{
    uint32_t hs = e->reader_hash.ops.size, bs = e->p.block_size, b, n, v;

    for (v = 0; v < 2; v++)
        if (e->hashed[v] == image)
            return e->block_hashes[v];
    v = e->hashed[0] ? 1 : 0;
    n = (size + bs - 1) / bs;
    free(e->block_hashes[v]);
    e->hashed[v] = NULL;
    if (!(e->block_hashes[v] = malloc((size_t)n * hs + 1)))
        return NULL;
    for (b = 0; b < n; b++) {
        uint32_t len = size - b * bs < bs ? size - b * bs : bs;
        if (harness_hash_buf(&e->reader_hash, image + (size_t)b * bs, len,
                             e->block_hashes[v] + (size_t)b * hs))
            return NULL;
    }
    e->hashed[v] = image;
    return e->block_hashes[v];
}

static int audit(void *ctx, const struct engine_flash *read,
                 const uint8_t *image, const struct engine_image *id, char *why,
                 size_t whylen)
{
    struct fwresume_engine *e = ctx;
    struct record_reader r;
    struct fwr_image fid;

    image_id(&fid, id);
    r.read = read->read;
    r.read_user = read->user;
    r.record_addr = e->p.record_addr;
    r.mirror_addr = e->p.mirror_addr;
    r.record_size = e->p.record_size;
    r.prog_size = e->p.prog_size;
    r.erased = e->p.erased_value;
    r.block_hash_kind = e->p.hash;
    r.block_size = e->p.block_size;
    r.image = &fid;
    r.hash_size = e->reader_hash.ops.size;
    r.check_padding = !e->p.reads_disturbed;
    r.block_hashes = block_hashes(e, image, id->size);
    r.buf = e->reader_buf;
    r.live = e->reader_live;
    if (!r.block_hashes) {
        snprintf(why, whylen, "out of memory for the image's block hashes");
        return -2;
    }
    return record_reader_check_complete(&r, why, whylen);
}

const struct engine_ops engine_fwresume = {
    .abi = ENGINE_ABI,
    .name = "fwresume",
    .err_io = FWR_E_IO,
    .error_name = error_name,
    .record_need = record_need,
    .create = create,
    .destroy = destroy,
    .ram = ram,
    .boot = boot,
    .step = step,
    .complete = complete,
    .claims = claims,
    .verified = verified,
    .resumed = resumed,
    .restarts = restarts,
    .locks_records = 1,
    .audit = audit,
    .reset = reset,
};
