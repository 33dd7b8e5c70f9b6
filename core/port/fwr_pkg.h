/*
 * fwr_pkg: reading a package's header and manifest (docs/package-format.md,
 * format 1), freestanding and for hostile input: everything is checked
 * before a caller relies on it, and a package that breaks a rule is
 * refused with FWR_E_PACKAGE before any flash write depends on it.
 *
 * The parser trusts nothing it has not checked and checks nothing it
 * cannot: the signature (SHA-256 over header and manifest, ECDSA P-256) is
 * the port's job, through its own hook, once fwr_pkg_check_manifest() has
 * said the bytes are well formed.
 */
#ifndef FWR_PKG_H
#define FWR_PKG_H

#include <stdint.h>

#include "fwresume.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FWR_PKG_MAGIC          0x4B505746u /* "FWPK" */
#define FWR_PKG_VERSION        1u
#define FWR_PKG_HEADER_SIZE    64u
#define FWR_PKG_MANIFEST_FIXED 68u
#define FWR_PKG_ENTRY_SIZE     40u
#define FWR_PKG_SIG_SIZE       64u /* ECDSA P-256, r || s */
#define FWR_PKG_MIN_BLOCK      256u
#define FWR_PKG_MAX_BLOCK      (1u << 20)

/* Transform flags (header offset 20). */
#define FWR_PKG_LZ4    0x1u /* each block an LZ4 block */
#define FWR_PKG_AES    0x2u /* each block's stored bytes AES-CTR */
#define FWR_PKG_DELTA  0x4u /* LZ4 with the old image as dictionary */
#define FWR_PKG_SIGNED 0x8u /* a signature follows the manifest */

/* The most stored bytes an LZ4 block of n plaintext bytes may take (the
 * encoder's worst case for incompressible input). */
#define FWR_PKG_LZ4_BOUND(n) ((n) + (n) / 255u + 16u)

struct fwr_pkg_header {
    uint32_t image_size;
    uint32_t block_size;
    uint32_t nblocks;
    uint32_t flags;
    uint32_t manifest_size; /* M */
    uint32_t window;        /* delta dictionary bytes, W */
    uint16_t sig_size;      /* S */
    uint8_t key_size;       /* 16, 32, or 0 without AES */
    uint8_t nonce[8];
    /* Set by a refusal: the package offset of the field that broke a
     * rule (a host tool names it; a device may ignore it). */
    uint32_t bad_offset;
};

struct fwr_pkg_entry {
    uint32_t offset; /* of the block's stored bytes, from the package start */
    uint32_t length; /* stored bytes */
    uint8_t sha256[32];
};

/* Parse and check the 64-byte header b[0, len). 0, FWR_E_PACKAGE (too
 * short, bad magic/version/size/CRC, inconsistent sizes, unknown or
 * contradictory flags) or FWR_E_INVAL (NULL). */
int fwr_pkg_parse_header(const uint8_t *b, uint32_t len,
                         struct fwr_pkg_header *h);

/* Where block data begins: header, manifest, signature. */
uint32_t fwr_pkg_data_offset(const struct fwr_pkg_header *h);

/* Plaintext bytes of block i (the last one may be short). */
uint32_t fwr_pkg_block_len(const struct fwr_pkg_header *h, uint32_t i);

/*
 * Check the manifest m[0, h->manifest_size) against the header: entries
 * that tile the block area from fwr_pkg_data_offset() on, in order, each
 * within its bound (exactly the block's length without LZ4, at most
 * FWR_PKG_LZ4_BOUND of it with), the last ending at package_size (0: the
 * size is not known yet; the tiling is checked all the same). A refusal
 * sets h->bad_offset (the package size itself when the entries end
 * elsewhere).
 */
int fwr_pkg_check_manifest(struct fwr_pkg_header *h, const uint8_t *m,
                           uint32_t package_size);

/* Entry i of a checked manifest m. 0, or FWR_E_INVAL past the last. */
int fwr_pkg_entry(const struct fwr_pkg_header *h, const uint8_t *m, uint32_t i,
                  struct fwr_pkg_entry *e);

#ifdef __cplusplus
}
#endif

#endif /* FWR_PKG_H */
