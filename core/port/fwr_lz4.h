/*
 * fwr_lz4: a freestanding decoder of the LZ4 *block* format, for packaged
 * updates whose blocks are compressed one by one (docs/package-format.md).
 * No heap, no state between calls: each package block is decoded on its
 * own, so a resume after a power cut never needs decoder state from
 * before it.
 *
 * Hostile input is expected: every length and offset is checked against
 * the input, the output capacity and the dictionary before a byte moves.
 * A stream that would read past its end, write past dst_cap, or copy from
 * before the dictionary is refused with FWR_E_PACKAGE, having written
 * nothing outside dst[0, dst_cap).
 *
 * Delta updates decode with a dictionary: the bytes of the old image that
 * the packer gave LZ4 as history, logically just before dst[0] (matches
 * may reach back into it). Pass NULL, 0 for none.
 */
#ifndef FWR_LZ4_H
#define FWR_LZ4_H

#include <stdint.h>

#include "fwresume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest dst_cap accepted (the result is an int32_t). */
#define FWR_LZ4_MAX_OUTPUT 0x7FFFFFFFu

/*
 * Decode the LZ4 block src[0, src_len) into dst[0, dst_cap), after a
 * dictionary dict[0, dict_len). Returns the bytes decoded (the caller
 * checks they are the block's length), FWR_E_PACKAGE for a malformed or
 * overrunning stream, FWR_E_INVAL for NULL buffers or dst_cap beyond
 * FWR_LZ4_MAX_OUTPUT.
 */
int32_t fwr_lz4_decode(const uint8_t *src, uint32_t src_len, uint8_t *dst,
                       uint32_t dst_cap, const uint8_t *dict,
                       uint32_t dict_len);

#ifdef __cplusplus
}
#endif

#endif /* FWR_LZ4_H */
