/*
 * fwr_pkgdl's AES-CTR and signature hooks through mbedTLS (Debian:
 * libmbedtls-dev; 2.28 and 3.x): the device's key and public key in one
 * struct the caller owns, and a function per hook. Not part of the engine,
 * nor of fwr_pkgdl: a device links it only when its packages are encrypted
 * or signed. docs/package-format.md gives the counter rule and the
 * signature's input.
 *
 *     static struct fwr_mbedtls_pkg crypto;
 *     fwr_mbedtls_pkg_init(&crypto, key, 16, pub65);
 *     static int aes(void *c, const uint8_t ctr[16], uint8_t *b, uint32_t n)
 *     { return fwr_mbedtls_aes_ctr(&crypto, ctr, b, n); }
 *     ops.aes_ctr = aes;   (and ops.verify likewise)
 *
 * The hooks share fwr_pkg_ops.ctx with old_read (the device's flash), so
 * they are not hooks themselves: one line of glue each, as above.
 */
#ifndef FWR_MBEDTLS_PKG_H
#define FWR_MBEDTLS_PKG_H

#include <stdint.h>

#include <mbedtls/aes.h>
#include <mbedtls/ecp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of an uncompressed SEC1 P-256 public key: 0x04 || X || Y. */
#define FWR_MBEDTLS_PUB_SIZE 65u

struct fwr_mbedtls_pkg {
    mbedtls_aes_context aes;
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    uint8_t have_key, have_pub;
};

/*
 * key: the AES key (16 or 32 bytes), or NULL; pub: the signer's public
 * key, FWR_MBEDTLS_PUB_SIZE bytes, or NULL. 0, or FWR_E_INVAL (a key of
 * another length, a point not on the curve). Call fwr_mbedtls_pkg_free
 * after either result.
 */
int fwr_mbedtls_pkg_init(struct fwr_mbedtls_pkg *m, const uint8_t *key,
                         uint32_t key_len, const uint8_t *pub);
void fwr_mbedtls_pkg_free(struct fwr_mbedtls_pkg *m);

/* fwr_pkg_ops.aes_ctr: decrypt buf in place from counter block ctr. 0, or
 * FWR_E_HASH (no key, or mbedTLS failed). */
int fwr_mbedtls_aes_ctr(struct fwr_mbedtls_pkg *m, const uint8_t ctr[16],
                        uint8_t *buf, uint32_t len);

/* fwr_pkg_ops.verify: does sig (r || s, 32 bytes each) verify over digest?
 * 1 yes, 0 no (also without a public key). */
int fwr_mbedtls_verify(struct fwr_mbedtls_pkg *m, const uint8_t digest[32],
                       const uint8_t sig[64]);

#ifdef __cplusplus
}
#endif

#endif /* FWR_MBEDTLS_PKG_H */
