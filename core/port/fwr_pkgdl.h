/*
 * fwr_pkgdl: downloading a package (docs/package-format.md) through the
 * engine, block by block, a layer above it: the engine keeps taking
 * plaintext and never knows a package was involved, so the plaintext path
 * stays exactly as small as it is.
 *
 * The device asks fwr_pkgdl_next_range() what to fetch: a *package*
 * range, one block's stored bytes. It hands what arrives to
 * fwr_pkgdl_feed(), which collects the block, decrypts it (AES-CTR, the
 * counter rule of section 4), decodes it (LZ4, with the old image's window
 * as dictionary for a delta), checks its SHA-256 against the manifest and
 * only then feeds the plaintext to fwr_feed(). A block that does not check
 * out is never fed, so never recorded: it is fetched again.
 *
 * fwr_pkgdl_open() refuses, before the engine writes a byte: a malformed
 * head (FWR_E_PACKAGE), an encrypted package without a verified
 * signature, a signature that does not verify, a delta whose base is not
 * the old image the device has (FWR_E_PACKAGE each; the device's own
 * reasons are in fwr_pkgdl.refused).
 *
 * RAM: the caller's work buffer holds the stored block (at most
 * FWR_PKG_LZ4_BOUND(block size)), the plaintext block and, for a delta,
 * the window: FWR_PKGDL_WORK_SIZE(). The manifest stays in the caller's
 * buffer (it is fetched again at each boot: section 6).
 */
#ifndef FWR_PKGDL_H
#define FWR_PKGDL_H

#include <stdint.h>

#include "fwr_pkg.h"
#include "fwresume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Work buffer bytes for a package's block size and delta window. */
#define FWR_PKGDL_WORK_SIZE(block_size, window)                                \
    (FWR_PKG_LZ4_BOUND(block_size) + (block_size) + (window) + 8u)

/* What the device provides. Hooks a package does not need may be NULL. */
struct fwr_pkg_ops {
    void *ctx;
    /* SHA-256 (kind FWR_HASH_SHA256, size 32): block checks, the base. */
    const struct fwr_hash_ops *sha256;
    /* Decrypt len bytes in place, AES-CTR from the 16-byte counter block
     * ctr (the device holds the key). 0 or negative. */
    int (*aes_ctr)(void *ctx, const uint8_t ctr[16], uint8_t *buf,
                   uint32_t len);
    /* Does sig (r || s) verify over digest, SHA-256 of header and
     * manifest, with the device's public key? 1 yes, 0 no. */
    int (*verify)(void *ctx, const uint8_t digest[32], const uint8_t sig[64]);
    /* Read len bytes of the old image (the other slot) at off. 0 or
     * negative. */
    int (*old_read)(void *ctx, uint32_t off, void *buf, uint32_t len);
    uint32_t old_size; /* bytes of the old image in its slot */
};

/* Why fwr_pkgdl_open refused (fwr_pkgdl.refused). */
enum fwr_pkgdl_refusal {
    FWR_PKGDL_OK = 0,
    FWR_PKGDL_MALFORMED, /* head or manifest breaks section 2 */
    FWR_PKGDL_UNSIGNED,  /* encrypted, or signatures required, unsigned */
    FWR_PKGDL_BAD_SIGNATURE /* the signature does not verify */,
    FWR_PKGDL_WRONG_BASE, /* a delta for another old image */
    FWR_PKGDL_NO_HOOK,    /* a transform whose hook the device lacks */
    FWR_PKGDL_NO_ROOM     /* work buffer under FWR_PKGDL_WORK_SIZE */
};

struct fwr_pkgdl {
    struct fwr_pkg_header h;
    const uint8_t *manifest;
    const struct fwr_pkg_ops *ops;
    uint8_t *in, *out, *dict;
    uint32_t block;   /* block being collected */
    uint32_t fill;    /* its stored bytes received */
    uint32_t want;    /* its stored length (0: none wanted) */
    uint8_t refused;  /* enum fwr_pkgdl_refusal */
    uint8_t rejected; /* blocks that did not check out, this session */
};

/*
 * Open the package whose head (header, manifest, signature: the first
 * fwr_pkg_data_offset() bytes) is head[0, head_len), of pkg_size bytes
 * in all (0: unknown), and fill *img with the image identity to give
 * fwr_begin(): the image size and the manifest's SHA-256 as digest (the
 * engine's image_hash must be SHA-256). require_signature: refuse an
 * unsigned package even without AES. The head must stay in place while
 * the package downloads.
 */
int fwr_pkgdl_open(struct fwr_pkgdl *d, const uint8_t *head, uint32_t head_len,
                   uint32_t pkg_size, const struct fwr_pkg_ops *ops,
                   int require_signature, void *work, uint32_t work_size,
                   struct fwr_image *img);

/* The package range to fetch next: [*offset, *offset + *len), one block's
 * stored bytes; *len == 0 when the image is complete. Calls
 * fwr_next_range() (which may erase and record). */
int fwr_pkgdl_next_range(struct fwr_pkgdl *d, struct fwr *f, uint32_t *offset,
                         uint32_t *len);

/* Bytes continuing the range. Returns len, FWR_E_RANGE past the range,
 * FWR_E_AGAIN when the block did not check out (not fed; fetch the range
 * fwr_pkgdl_next_range() gives now), or fwr_feed()'s error. */
int fwr_pkgdl_feed(struct fwr_pkgdl *d, struct fwr *f, const void *buf,
                   uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* FWR_PKGDL_H */
