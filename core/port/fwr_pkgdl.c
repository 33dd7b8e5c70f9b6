/* A package downloaded block by block above the engine: fwr_pkgdl.h. */
#include "fwr_pkgdl.h"

#include <string.h>

#include "fwr_lz4.h"

/* Deliberately broken variants, for the teeth tests only (tests/harness,
 * tests/core): a device build leaves FWR_PKGDL_MUTANT 0 and every branch
 * below folds away. */
#ifndef FWR_PKGDL_MUTANT
#define FWR_PKGDL_MUTANT 0
#endif
#define PKG_MUT_STALE_FILL                                                     \
    1                       /* a block fetched again keeps the bytes           \
                               collected before the drop */
#define PKG_MUT_UNCHECKED 2 /* a block fed before its SHA-256 is checked */
#define PKG_MUT_ANY_SIG   3 /* a signature that does not verify accepted */
#define PKG_MUT_ANY_BASE  4 /* a delta applied onto whatever old image */
#define PKG_MUTANT_IS(m)  (FWR_PKGDL_MUTANT == (m))

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static int sha256(const struct fwr_hash_ops *h, const void *buf, uint32_t n,
                  uint8_t out[32])
{
    if (h->start(h->ctx) < 0 || h->update(h->ctx, buf, n) < 0 ||
        h->finish(h->ctx, out) < 0)
        return FWR_E_HASH;
    return 0;
}

static int refuse(struct fwr_pkgdl *d, uint8_t why)
{
    d->refused = why;
    return FWR_E_PACKAGE;
}

/* The delta window of block i (docs/package-format.md, section 5). */
static void window(const struct fwr_pkgdl *d, uint32_t i, uint32_t *from,
                   uint32_t *len)
{
    uint32_t bs = d->h.block_size, w = d->h.window, old = d->ops->old_size;
    uint32_t end = i * bs; /* below 2^32: i < nblocks */
    end = end > old || old - end < bs + w / 2u ? old : end + bs + w / 2u;
    *from = end > w ? end - w : 0;
    *len = end - *from;
}

/* Hash the old image through the read hook, a block-sized piece at a
 * time (d->out is idle). */
static int base_matches(struct fwr_pkgdl *d, const uint8_t want[32])
{
    const struct fwr_hash_ops *h = d->ops->sha256;
    uint32_t at = 0, n = d->ops->old_size, bs = d->h.block_size;
    uint8_t got[32];
    if (h->start(h->ctx) < 0)
        return FWR_E_HASH;
    while (at < n) {
        uint32_t k = n - at < bs ? n - at : bs;
        if (d->ops->old_read(d->ops->ctx, at, d->out, k) < 0)
            return FWR_E_IO;
        if (h->update(h->ctx, d->out, k) < 0)
            return FWR_E_HASH;
        at += k;
    }
    if (h->finish(h->ctx, got) < 0)
        return FWR_E_HASH;
    return !memcmp(got, want, 32);
}

int fwr_pkgdl_open(struct fwr_pkgdl *d, const uint8_t *head, uint32_t head_len,
                   uint32_t pkg_size, const struct fwr_pkg_ops *ops,
                   int require_signature, void *work, uint32_t work_size,
                   struct fwr_image *img)
{
    uint32_t bs, bound, fl;
    uint8_t digest[32];
    int rc;

    if (!d || !head || !ops || !ops->sha256 || !work || !img ||
        ops->sha256->size != 32 || ((uintptr_t)work & 3u))
        return FWR_E_INVAL;
    memset(d, 0, sizeof(*d));
    d->ops = ops;
    if (fwr_pkg_parse_header(head, head_len, &d->h) ||
        head_len < fwr_pkg_data_offset(&d->h) ||
        fwr_pkg_check_manifest(&d->h, head + FWR_PKG_HEADER_SIZE, pkg_size))
        return refuse(d, FWR_PKGDL_MALFORMED);
    d->manifest = head + FWR_PKG_HEADER_SIZE;
    fl = d->h.flags;
    bs = d->h.block_size;
    bound = (FWR_PKG_LZ4_BOUND(bs) + 3u) & ~3u;
    if (work_size < FWR_PKGDL_WORK_SIZE(bs, d->h.window))
        return refuse(d, FWR_PKGDL_NO_ROOM);
    d->in = work;
    d->out = d->in + bound;
    d->dict = d->out + bs;

    /* Authenticity first: nothing of an unverified package is used. */
    if (!(fl & FWR_PKG_SIGNED) && require_signature)
        return refuse(d, FWR_PKGDL_UNSIGNED);
    if (fl & FWR_PKG_SIGNED) {
        if (!ops->verify)
            return refuse(d, FWR_PKGDL_NO_HOOK);
        if ((rc = sha256(ops->sha256, head,
                         FWR_PKG_HEADER_SIZE + d->h.manifest_size, digest)))
            return rc;
        if (ops->verify(ops->ctx, digest,
                        head + FWR_PKG_HEADER_SIZE + d->h.manifest_size) != 1 &&
            !PKG_MUTANT_IS(PKG_MUT_ANY_SIG))
            return refuse(d, FWR_PKGDL_BAD_SIGNATURE);
    }
    if ((fl & FWR_PKG_AES) && !ops->aes_ctr)
        return refuse(d, FWR_PKGDL_NO_HOOK);
    if (fl & FWR_PKG_DELTA) {
        if (!ops->old_read)
            return refuse(d, FWR_PKGDL_NO_HOOK);
        if (ops->old_size != get32(d->manifest + 32))
            return refuse(d, FWR_PKGDL_WRONG_BASE);
        if ((rc = base_matches(d, d->manifest + 36)) < 0)
            return rc;
        if (!rc && !PKG_MUTANT_IS(PKG_MUT_ANY_BASE))
            return refuse(d, FWR_PKGDL_WRONG_BASE);
    }
    /* The identity: the plaintext's size and SHA-256, whatever the
     * transform (records hold plaintext hashes, so a download begun from
     * one package of an image resumes from another of the same image). */
    memset(img, 0, sizeof(*img));
    img->size = d->h.image_size;
    img->digest_kind = FWR_HASH_SHA256;
    img->digest_len = 32;
    memcpy(img->digest, d->manifest, 32);
    return 0;
}

int fwr_pkgdl_next_range(struct fwr_pkgdl *d, struct fwr *f, uint32_t *offset,
                         uint32_t *len)
{
    struct fwr_pkg_entry e;
    uint32_t ioff, ilen;
    int rc;

    if (!d || !f || !offset || !len)
        return FWR_E_INVAL;
    if (!d->manifest)
        return FWR_E_STATE;
    d->want = 0;
    if ((rc = fwr_next_range(f, &ioff, &ilen)))
        return rc;
    *offset = *len = 0;
    if (!ilen)
        return 0;
    if (PKG_MUTANT_IS(PKG_MUT_STALE_FILL) && d->block != ioff / d->h.block_size)
        d->fill = 0;
    d->block = ioff / d->h.block_size;
    if (ioff % d->h.block_size ||
        fwr_pkg_entry(&d->h, d->manifest, d->block, &e))
        return FWR_E_STATE; /* the engine's ranges start on blocks */
    /* The range is the whole stored block, fetched again from its first
     * byte: nothing collected before survives into it. */
    if (!PKG_MUTANT_IS(PKG_MUT_STALE_FILL))
        d->fill = 0;
    d->want = e.length;
    *offset = e.offset;
    *len = e.length;
    return 0;
}

/* A whole stored block: decrypt, decode, check, feed. */
static int land(struct fwr_pkgdl *d, struct fwr *f)
{
    struct fwr_pkg_entry e;
    uint32_t i = d->block, plain = fwr_pkg_block_len(&d->h, i), from = 0,
             wl = 0;
    uint8_t got[32];
    int rc;

    fwr_pkg_entry(&d->h, d->manifest, i, &e);
    if (d->h.flags & FWR_PKG_AES) {
        uint8_t ctr[16];
        memcpy(ctr, d->h.nonce, 8);
        ctr[8] = (uint8_t)(i >> 24);
        ctr[9] = (uint8_t)(i >> 16);
        ctr[10] = (uint8_t)(i >> 8);
        ctr[11] = (uint8_t)i;
        memset(ctr + 12, 0, 4);
        if (d->ops->aes_ctr(d->ops->ctx, ctr, d->in, e.length) < 0)
            return FWR_E_HASH;
    }
    if (d->h.flags & FWR_PKG_LZ4) {
        if (d->h.flags & FWR_PKG_DELTA) {
            window(d, i, &from, &wl);
            if (wl && d->ops->old_read(d->ops->ctx, from, d->dict, wl) < 0)
                return FWR_E_IO;
        }
        if (fwr_lz4_decode(d->in, e.length, d->out, plain, d->dict, wl) !=
            (int32_t)plain)
            goto reject;
    } else {
        memcpy(d->out, d->in, plain);
    }
    if ((rc = sha256(d->ops->sha256, d->out, plain, got)))
        return rc;
    if (memcmp(got, e.sha256, 32) && !PKG_MUTANT_IS(PKG_MUT_UNCHECKED))
        goto reject;
    rc = fwr_feed(f, d->out, plain);
    return rc < 0 ? rc : 0;
reject:
    /* Not fed, so never recorded: fetched again. */
    if (d->rejected < 255u)
        d->rejected++;
    return FWR_E_AGAIN;
}

int fwr_pkgdl_feed(struct fwr_pkgdl *d, struct fwr *f, const void *buf,
                   uint32_t len)
{
    int rc;
    if (!d || !f || (!buf && len))
        return FWR_E_INVAL;
    if (!d->want)
        return FWR_E_STATE;
    if (len > d->want - d->fill)
        return FWR_E_RANGE;
    memcpy(d->in + d->fill, buf, len);
    d->fill += len;
    if (d->fill < d->want)
        return (int)len;
    d->want = 0;
    rc = land(d, f);
    return rc ? rc : (int)len;
}
