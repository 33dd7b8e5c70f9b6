/* Package header and manifest checks: docs/package-format.md, section 2. */
#include "fwr_pkg.h"

#include <string.h>

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static uint16_t get16(const uint8_t *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

static int all_zero(const uint8_t *b, uint32_t n)
{
    while (n--)
        if (*b++)
            return 0;
    return 1;
}

/* Note where a rule broke; 1 when it did. */
static int refuse(struct fwr_pkg_header *h, int broken, uint32_t offset)
{
    if (broken)
        h->bad_offset = offset;
    return broken;
}

int fwr_pkg_parse_header(const uint8_t *b, uint32_t len,
                         struct fwr_pkg_header *h)
{
    uint32_t bs, n, fl;

    if (!b || !h)
        return FWR_E_INVAL;
    h->bad_offset = len < 4 ? len : 0;
    if (len < 4 || get32(b) != FWR_PKG_MAGIC)
        return FWR_E_PACKAGE;
    h->bad_offset = len < FWR_PKG_HEADER_SIZE ? len : 4;
    if (len < FWR_PKG_HEADER_SIZE || get16(b + 4) != FWR_PKG_VERSION)
        return FWR_E_PACKAGE;
    if (refuse(h, get16(b + 6) != FWR_PKG_HEADER_SIZE, 6) ||
        refuse(h, get32(b + 60) != fwr_crc32(0, b, 60), 60) ||
        refuse(h, b[31] != 0, 31) || refuse(h, !all_zero(b + 44, 16), 44))
        return FWR_E_PACKAGE;
    h->image_size = get32(b + 8);
    h->block_size = bs = get32(b + 12);
    h->nblocks = n = get32(b + 16);
    h->flags = fl = get32(b + 20);
    h->manifest_size = get32(b + 24);
    h->sig_size = get16(b + 28);
    h->key_size = b[30];
    h->window = get32(b + 32);
    memcpy(h->nonce, b + 36, 8);
    if (refuse(h, !h->image_size, 8) ||
        refuse(h,
               bs < FWR_PKG_MIN_BLOCK || bs > FWR_PKG_MAX_BLOCK ||
                   (bs & (bs - 1u)),
               12) ||
        refuse(h, n != (h->image_size - 1u) / bs + 1u, 16))
        return FWR_E_PACKAGE;
    /* Known flags only; a delta is LZ4 with a dictionary; AES needs its
     * key size, and CTR without a signature lets anyone flip plaintext
     * bits. */
    if (refuse(h,
               (fl & ~(FWR_PKG_LZ4 | FWR_PKG_AES | FWR_PKG_DELTA |
                       FWR_PKG_SIGNED)) ||
                   ((fl & FWR_PKG_DELTA) && !(fl & FWR_PKG_LZ4)) ||
                   ((fl & FWR_PKG_AES) && !(fl & FWR_PKG_SIGNED)),
               20) ||
        refuse(h, !(fl & FWR_PKG_DELTA) != !h->window, 32) ||
        refuse(h,
               (fl & FWR_PKG_AES) ? h->key_size != 16u && h->key_size != 32u
                                  : h->key_size != 0u,
               30) ||
        refuse(h,
               h->sig_size != ((fl & FWR_PKG_SIGNED) ? FWR_PKG_SIG_SIZE : 0u),
               28))
        return FWR_E_PACKAGE;
    /* M = 68 + 40 N, and the whole head addressable in 32 bits. */
    if (refuse(h,
               n > (0xFFFFFFFFu - FWR_PKG_HEADER_SIZE - FWR_PKG_MANIFEST_FIXED -
                    FWR_PKG_SIG_SIZE) /
                           FWR_PKG_ENTRY_SIZE ||
                   h->manifest_size !=
                       FWR_PKG_MANIFEST_FIXED + FWR_PKG_ENTRY_SIZE * n,
               24))
        return FWR_E_PACKAGE;
    return 0;
}

uint32_t fwr_pkg_data_offset(const struct fwr_pkg_header *h)
{
    return FWR_PKG_HEADER_SIZE + h->manifest_size + h->sig_size;
}

uint32_t fwr_pkg_block_len(const struct fwr_pkg_header *h, uint32_t i)
{
    uint32_t at = i * h->block_size;
    if (i >= h->nblocks)
        return 0;
    return h->image_size - at < h->block_size ? h->image_size - at
                                              : h->block_size;
}

int fwr_pkg_check_manifest(struct fwr_pkg_header *h, const uint8_t *m,
                           uint32_t package_size)
{
    const uint32_t base = FWR_PKG_HEADER_SIZE;
    uint32_t i, at;

    if (!h || !m)
        return FWR_E_INVAL;
    at = fwr_pkg_data_offset(h);
    /* An old image named for no delta, or none named for one. */
    if (refuse(h, !(h->flags & FWR_PKG_DELTA) != !get32(m + 32), base + 32) ||
        refuse(h, !(h->flags & FWR_PKG_DELTA) && !all_zero(m + 36, 32),
               base + 36))
        return FWR_E_PACKAGE;
    for (i = 0; i < h->nblocks; i++) {
        uint32_t eo = FWR_PKG_MANIFEST_FIXED + FWR_PKG_ENTRY_SIZE * i;
        uint32_t off = get32(m + eo), len = get32(m + eo + 4),
                 plain = fwr_pkg_block_len(h, i);
        if (refuse(h, off != at, base + eo) ||
            refuse(h,
                   !len || len > 0xFFFFFFFFu - at ||
                       ((h->flags & FWR_PKG_LZ4)
                            ? len > FWR_PKG_LZ4_BOUND(plain)
                            : len != plain),
                   base + eo + 4))
            return FWR_E_PACKAGE;
        at += len;
    }
    if (refuse(h, package_size && at != package_size, package_size))
        return FWR_E_PACKAGE;
    return 0;
}

int fwr_pkg_entry(const struct fwr_pkg_header *h, const uint8_t *m, uint32_t i,
                  struct fwr_pkg_entry *e)
{
    const uint8_t *p;
    if (!h || !m || !e || i >= h->nblocks)
        return FWR_E_INVAL;
    p = m + FWR_PKG_MANIFEST_FIXED + (uint32_t)FWR_PKG_ENTRY_SIZE * i;
    e->offset = get32(p);
    e->length = get32(p + 4);
    memcpy(e->sha256, p + 8, 32);
    return 0;
}
