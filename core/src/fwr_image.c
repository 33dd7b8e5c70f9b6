/*
 * fwr_image: setting an image's digest the one way it cannot go wrong.
 * A CRC-32 is a number (as zlib's crc32() returns it and the `crc32` tool
 * prints it); the engine keeps it as its big-endian bytes, and copying a
 * little-endian uint32 field of a manifest into digest[] by hand hands it
 * over reversed. MD5 and SHA-256 are byte strings, in the order
 * `md5sum`/`sha256sum` print them.
 */
#include "fwresume.h"

#include <string.h>

int fwr_image_set_crc32(struct fwr_image *img, uint32_t crc)
{
    if (!img)
        return FWR_E_INVAL;
    img->digest_kind = FWR_HASH_CRC32;
    img->digest_len = 4;
    img->digest[0] = (uint8_t)(crc >> 24);
    img->digest[1] = (uint8_t)(crc >> 16);
    img->digest[2] = (uint8_t)(crc >> 8);
    img->digest[3] = (uint8_t)crc;
    return 0;
}

int fwr_image_set_digest(struct fwr_image *img, uint8_t kind, const void *bytes,
                         uint32_t len)
{
    uint32_t want = kind == FWR_HASH_MD5      ? 16u
                    : kind == FWR_HASH_SHA256 ? 32u
                                              : 0u;
    /* CRC-32 is a number: fwr_image_set_crc32, never bytes. */
    if (!img || !bytes || !want || len != want)
        return FWR_E_INVAL;
    img->digest_kind = kind;
    img->digest_len = (uint8_t)len;
    memcpy(img->digest, bytes, len);
    return 0;
}
