/* hashes: see hashes.h. */
#define _POSIX_C_SOURCE 200809L
#include "hashes.h"

#include <libdeflate.h>
#include <stdio.h>
#include <string.h>

static int zc_start(void *c)
{
    *(uint32_t *)c = 0;
    return 0;
}

static int zc_update(void *c, const void *b, uint32_t n)
{
    uint32_t *crc = c;
    *crc = libdeflate_crc32(*crc, b, n);
    return 0;
}

/* Big-endian, as the engine's own CRC-32 ops store it. */
static int zc_finish(void *c, uint8_t *d)
{
    uint32_t v = *(uint32_t *)c;
    d[0] = (uint8_t)(v >> 24);
    d[1] = (uint8_t)(v >> 16);
    d[2] = (uint8_t)(v >> 8);
    d[3] = (uint8_t)v;
    return 0;
}

int harness_hash_init(struct harness_hash *h, uint8_t kind, char *err,
                      size_t errlen)
{
    memset(h, 0, sizeof(*h));
    switch (kind) {
    case FWR_HASH_CRC32:
        h->ops.kind = FWR_HASH_CRC32;
        h->ops.size = 4;
        h->ops.ctx = &h->ctx.crc;
        h->ops.start = zc_start;
        h->ops.update = zc_update;
        h->ops.finish = zc_finish;
        return 0;
#ifdef FOTASIM_HAVE_MBEDTLS
    case FWR_HASH_MD5:
        fwr_hash_md5(&h->ops, &h->ctx.md5);
        return 0;
    case FWR_HASH_SHA256:
        fwr_hash_sha256(&h->ops, &h->ctx.sha256);
        return 0;
#endif
    default:
        snprintf(err, errlen,
                 "hash kind %u: this build has crc32 only (md5 and sha256 "
                 "need mbedTLS: apt-get install libmbedtls-dev, rebuild)",
                 kind);
        return -1;
    }
}

int harness_hash_buf(struct harness_hash *h, const void *buf, uint32_t len,
                     uint8_t *out)
{
    int rc = h->ops.start(h->ops.ctx);
    if (!rc)
        rc = h->ops.update(h->ops.ctx, buf, len);
    if (!rc)
        rc = h->ops.finish(h->ops.ctx, out);
    return rc;
}
