/*
 * The LZ4 block format (the lz4 project's "LZ4 Block Format Description"):
 * a series of sequences, each a token byte (literal count in the high
 * nibble, match length - 4 in the low one; 15 means "more bytes follow,
 * each added, until one is not 255"), the literals, a 2-byte little-endian
 * offset back into the output and the match length's extra bytes. The
 * last sequence stops after its literals. Written from that description.
 */
#include "fwr_lz4.h"

#include <string.h>

#define MIN_MATCH 4u

/* Read a length's extra bytes onto *len, refusing one beyond limit (so
 * the sum never wraps). 0, or FWR_E_PACKAGE. */
static int extra_length(const uint8_t **ip, const uint8_t *end, uint32_t *len,
                        uint32_t limit)
{
    uint8_t b;
    do {
        if (*ip >= end)
            return FWR_E_PACKAGE;
        b = *(*ip)++;
        *len += b;
        if (*len > limit)
            return FWR_E_PACKAGE;
    } while (b == 255u);
    return 0;
}

int32_t fwr_lz4_decode(const uint8_t *src, uint32_t src_len, uint8_t *dst,
                       uint32_t dst_cap, const uint8_t *dict, uint32_t dict_len)
{
    const uint8_t *ip = src, *end;
    uint32_t op = 0;

    if (!src || (!dst && dst_cap) || (!dict && dict_len) ||
        dst_cap > FWR_LZ4_MAX_OUTPUT)
        return FWR_E_INVAL;
    if (!src_len)
        return FWR_E_PACKAGE; /* even an empty block has its token */
    end = src + src_len;
    for (;;) {
        uint32_t token = *ip++, lit = token >> 4, mlen = token & 15u, off, i;

        if (lit == 15u && extra_length(&ip, end, &lit, dst_cap))
            return FWR_E_PACKAGE;
        if (lit > (uint32_t)(end - ip) || lit > dst_cap - op)
            return FWR_E_PACKAGE;
        memcpy(dst + op, ip, lit);
        ip += lit;
        op += lit;
        if (ip == end)
            return (int32_t)op; /* the last sequence: literals only */

        if (end - ip < 2)
            return FWR_E_PACKAGE;
        off = (uint32_t)ip[0] | (uint32_t)ip[1] << 8;
        ip += 2;
        if (!off || (off > op && off - op > dict_len))
            return FWR_E_PACKAGE;
        if (mlen == 15u && extra_length(&ip, end, &mlen, dst_cap))
            return FWR_E_PACKAGE;
        mlen += MIN_MATCH;
        if (mlen > dst_cap - op)
            return FWR_E_PACKAGE;
        /* From the dictionary first, while the match starts before dst. */
        i = 0;
        if (off > op) {
            uint32_t back = off - op, n = back < mlen ? back : mlen;
            memcpy(dst + op, dict + dict_len - back, n);
            op += n;
            i = n;
        }
        if (i < mlen && off >= mlen - i) {
            memcpy(dst + op, dst + op - off, mlen - i); /* no overlap */
            op += mlen - i;
        } else {
            /* Overlapping: each byte may be one this match just wrote. */
            for (; i < mlen; i++, op++)
                dst[op] = dst[op - off];
        }
        if (ip >= end)
            return FWR_E_PACKAGE; /* a match cannot end the block */
    }
}
