/* digest: see digest.h. */
#include "digest.h"

#include <libdeflate.h>

#ifdef FOTASIM_HAVE_MBEDTLS
#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
/* mbedTLS 3 renamed the *_ret one-shots to the plain names. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define MD5_ONE(b, n, d)    mbedtls_md5(b, n, d)
#define SHA256_ONE(b, n, d) mbedtls_sha256(b, n, d, 0)
#else
#define MD5_ONE(b, n, d)    mbedtls_md5_ret(b, n, d)
#define SHA256_ONE(b, n, d) mbedtls_sha256_ret(b, n, d, 0)
#endif
#endif

uint32_t digest_size(uint8_t kind)
{
    switch (kind) {
    case ENGINE_HASH_CRC32:
        return 4;
#ifdef FOTASIM_HAVE_MBEDTLS
    case ENGINE_HASH_MD5:
        return 16;
    case ENGINE_HASH_SHA256:
        return 32;
#endif
    default:
        return 0;
    }
}

int digest_buf(uint8_t kind, const void *buf, size_t len, uint8_t *out)
{
    uint32_t v;
    switch (kind) {
    case ENGINE_HASH_CRC32:
        v = (uint32_t)libdeflate_crc32(0, buf, len);
        out[0] = (uint8_t)(v >> 24);
        out[1] = (uint8_t)(v >> 16);
        out[2] = (uint8_t)(v >> 8);
        out[3] = (uint8_t)v;
        return 0;
#ifdef FOTASIM_HAVE_MBEDTLS
    case ENGINE_HASH_MD5:
        return MD5_ONE(buf, len, out) ? -1 : 0;
    case ENGINE_HASH_SHA256:
        return SHA256_ONE(buf, len, out) ? -1 : 0;
#endif
    default:
        return -1;
    }
}
