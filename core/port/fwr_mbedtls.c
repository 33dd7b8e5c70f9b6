/*
 * mbedTLS MD5 / SHA-256 behind struct fwr_hash_ops. mbedTLS 3.0 renamed the
 * *_ret functions to the plain names (and dropped the old void ones), so the
 * version picks the spelling.
 */
#include "fwr_mbedtls.h"

#include <mbedtls/version.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define MD5_STARTS(c)       mbedtls_md5_starts(c)
#define MD5_UPDATE(c, b, n) mbedtls_md5_update(c, b, n)
#define MD5_FINISH(c, d)    mbedtls_md5_finish(c, d)
#define SHA_STARTS(c)       mbedtls_sha256_starts(c, 0)
#define SHA_UPDATE(c, b, n) mbedtls_sha256_update(c, b, n)
#define SHA_FINISH(c, d)    mbedtls_sha256_finish(c, d)
#else
#define MD5_STARTS(c)       mbedtls_md5_starts_ret(c)
#define MD5_UPDATE(c, b, n) mbedtls_md5_update_ret(c, b, n)
#define MD5_FINISH(c, d)    mbedtls_md5_finish_ret(c, d)
#define SHA_STARTS(c)       mbedtls_sha256_starts_ret(c, 0)
#define SHA_UPDATE(c, b, n) mbedtls_sha256_update_ret(c, b, n)
#define SHA_FINISH(c, d)    mbedtls_sha256_finish_ret(c, d)
#endif

static int md5_start(void *ctx)
{
    struct fwr_mbedtls_md5 *m = ctx;
    /* init is a memset; redoing it makes a context reusable after finish:
     * mbedTLS's MD5 and SHA-256 contexts own no dynamic memory. */
    mbedtls_md5_init(&m->c);
    return MD5_STARTS(&m->c) ? -1 : 0;
}

static int md5_update(void *ctx, const void *buf, uint32_t len)
{
    struct fwr_mbedtls_md5 *m = ctx;
    return MD5_UPDATE(&m->c, buf, len) ? -1 : 0;
}

static int md5_finish(void *ctx, uint8_t *digest)
{
    struct fwr_mbedtls_md5 *m = ctx;
    int rc = MD5_FINISH(&m->c, digest);
    mbedtls_md5_free(&m->c);
    return rc ? -1 : 0;
}

static int sha_start(void *ctx)
{
    struct fwr_mbedtls_sha256 *m = ctx;
    mbedtls_sha256_init(&m->c);
    return SHA_STARTS(&m->c) ? -1 : 0;
}

static int sha_update(void *ctx, const void *buf, uint32_t len)
{
    struct fwr_mbedtls_sha256 *m = ctx;
    return SHA_UPDATE(&m->c, buf, len) ? -1 : 0;
}

static int sha_finish(void *ctx, uint8_t *digest)
{
    struct fwr_mbedtls_sha256 *m = ctx;
    int rc = SHA_FINISH(&m->c, digest);
    mbedtls_sha256_free(&m->c);
    return rc ? -1 : 0;
}

void fwr_hash_md5(struct fwr_hash_ops *ops, struct fwr_mbedtls_md5 *ctx)
{
    ops->kind = FWR_HASH_MD5;
    ops->size = 16;
    ops->ctx = ctx;
    ops->start = md5_start;
    ops->update = md5_update;
    ops->finish = md5_finish;
}

void fwr_hash_sha256(struct fwr_hash_ops *ops, struct fwr_mbedtls_sha256 *ctx)
{
    ops->kind = FWR_HASH_SHA256;
    ops->size = 32;
    ops->ctx = ctx;
    ops->start = sha_start;
    ops->update = sha_update;
    ops->finish = sha_finish;
}
