/*
 * fuzz_lz4: the device-side LZ4 block decoder (core/port/fwr_lz4.c) on
 * hostile streams, checked against liblz4's own safe decoder.
 *
 * Input: bytes 0-1, big-endian: bits 0-14 the output room in bytes, bit
 * 15 a 1 KiB dictionary (the input's own last 1 KiB, as a delta's old
 * image would be); the rest is the stream.
 *
 * Invariants:
 *  - the result is FWR_E_PACKAGE or a length within the room, and nothing
 *    outside the output buffer is written (ASan: the buffer is a heap block
 *    of exactly the room);
 *  - when both ours and liblz4's LZ4_decompress_safe_usingDict decode the
 *    stream into the same room, they give the same bytes. (Each refuses
 *    some streams the other takes: liblz4 enforces its encoder's end rules,
 *    the last 5 bytes literals; what liblz4's encoder writes, ours takes,
 *    which core_lz4 checks.)
 */
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "fuzz_target.h"
#include "fwr_lz4.h"

#define DICT 1024u

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t cap, n, dict_len = 0;
    const uint8_t *dict = NULL, *src;
    uint8_t *out, *ref;
    int32_t rc;
    int want;

    if (size < 3 || size > 65536)
        return 0;
    cap = ((uint32_t)data[0] << 8 | data[1]) & 0x7FFFu;
    if ((data[0] & 0x80u) && size > 2 + DICT) {
        dict = data + size - DICT;
        dict_len = DICT;
    }
    src = data + 2;
    n = (uint32_t)(size - 2 - dict_len);
    out = malloc(cap ? cap : 1);
    ref = malloc(cap ? cap : 1);
    if (!out || !ref) {
        free(out);
        free(ref);
        return 0;
    }
    rc = fwr_lz4_decode(src, n, out, cap, dict, dict_len);
    FUZZ_CHECK(rc == FWR_E_PACKAGE || (rc >= 0 && (uint32_t)rc <= cap),
               "result %d with room %u", (int)rc, (unsigned)cap);
    want = n ? LZ4_decompress_safe_usingDict((const char *)src, (char *)ref,
                                             (int)n, (int)cap,
                                             (const char *)dict, (int)dict_len)
             : -1;
    if (want >= 0 && rc >= 0) {
        FUZZ_CHECK(rc == want, "%d bytes, liblz4 %d", (int)rc, want);
        FUZZ_CHECK(!memcmp(out, ref, (size_t)rc), "bytes differ from liblz4");
    }
    free(out);
    free(ref);
    return 0;
}
