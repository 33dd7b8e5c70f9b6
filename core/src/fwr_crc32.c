/*
 * CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) with a 16-entry table:
 * 64 bytes of rodata, two lookups a byte. Small first; the host plugs a
 * faster one in through fwr_hash_ops.
 */
#include "fwresume.h"

static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu,
    0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
    0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t fwr_crc32(uint32_t crc, const void *buf, uint32_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    }
    return ~crc;
}

static int crc_start(void *ctx)
{
    ((struct fwr_crc32_ctx *)ctx)->crc = 0;
    return 0;
}

static int crc_update(void *ctx, const void *buf, uint32_t len)
{
    struct fwr_crc32_ctx *c = (struct fwr_crc32_ctx *)ctx;
    c->crc = fwr_crc32(c->crc, buf, len);
    return 0;
}

/* Digest bytes are big-endian, as a CRC is usually printed and sent. */
static int crc_finish(void *ctx, uint8_t *digest)
{
    uint32_t v = ((struct fwr_crc32_ctx *)ctx)->crc;
    digest[0] = (uint8_t)(v >> 24);
    digest[1] = (uint8_t)(v >> 16);
    digest[2] = (uint8_t)(v >> 8);
    digest[3] = (uint8_t)v;
    return 0;
}

void fwr_hash_crc32(struct fwr_hash_ops *ops, struct fwr_crc32_ctx *ctx)
{
    ops->kind = FWR_HASH_CRC32;
    ops->size = 4;
    ops->ctx = ctx;
    ops->start = crc_start;
    ops->update = crc_update;
    ops->finish = crc_finish;
}
