/*
 * fwresume hash adapter for mbedTLS: MD5 and SHA-256 as struct
 * fwr_hash_ops, for cfg->block_hash and cfg->image_hash.
 *
 * Not part of the fwresume library: a device compiles this file in when it
 * links mbedTLS anyway; the host builds it as library fwresume_mbedtls.
 * Works with mbedTLS 2.x (the *_ret functions, Debian 12 ships 2.28) and 3.x.
 *
 *     struct fwr_mbedtls_sha256 sha;
 *     struct fwr_hash_ops ih;
 *     fwr_hash_sha256(&ih, &sha);
 *     cfg.image_hash = &ih;
 *
 * The caller owns the context struct; it must outlive the engine's use of
 * the ops. One context per ops: block and image hashes need two.
 */
#ifndef FWR_MBEDTLS_H
#define FWR_MBEDTLS_H

#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>

#include "fwresume.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fwr_mbedtls_md5 {
    mbedtls_md5_context c;
};

struct fwr_mbedtls_sha256 {
    mbedtls_sha256_context c;
};

/* Fill ops for MD5 (16-byte digest) over ctx. */
void fwr_hash_md5(struct fwr_hash_ops *ops, struct fwr_mbedtls_md5 *ctx);
/* Fill ops for SHA-256 (32-byte digest) over ctx. */
void fwr_hash_sha256(struct fwr_hash_ops *ops, struct fwr_mbedtls_sha256 *ctx);

#ifdef __cplusplus
}
#endif

#endif /* FWR_MBEDTLS_H */
