/*
 * fuzz_pkg: the package header and manifest reader (core/port/fwr_pkg.c)
 * on hostile bytes. Input: a package head as it arrives (header, manifest,
 * signature space); the package size is the input's first 4 bytes
 * (little-endian; 0: not known yet), the rest is the head.
 *
 * Invariants, for a head the reader accepts:
 *  - the manifest size is 68 + 40 N and the block count matches the image
 *    size and block size (a power of two, 256 B to 1 MiB);
 *  - entries tile [data offset, end) in order with no gap, overlap or
 *    wrap, each within its bound, and end at the package size when known;
 *  - the reader never reads outside the input (ASan).
 */
#include <string.h>

#include "fuzz_target.h"
#include "fwr_pkg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fwr_pkg_header h;
    struct fwr_pkg_entry e;
    uint32_t pkg, i;
    uint64_t at;
    uint8_t *head;

    if (size < 4 || size > (1u << 20))
        return 0;
    pkg = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
          (uint32_t)data[3] << 24;
    /* A heap copy of exactly the head: a read past it is ASan's. */
    head = malloc(size - 4 ? size - 4 : 1);
    if (!head)
        return 0;
    memcpy(head, data + 4, size - 4);
    if (fwr_pkg_parse_header(head, (uint32_t)(size - 4), &h) ||
        size - 4 < FWR_PKG_HEADER_SIZE + (uint64_t)h.manifest_size) {
        free(head);
        return 0;
    }
    FUZZ_CHECK(h.manifest_size == 68u + 40u * (uint64_t)h.nblocks,
               "manifest size %u for %u blocks", (unsigned)h.manifest_size,
               (unsigned)h.nblocks);
    FUZZ_CHECK(h.block_size >= 256u && h.block_size <= (1u << 20) &&
                   !(h.block_size & (h.block_size - 1u)) &&
                   (uint64_t)h.nblocks * h.block_size >= h.image_size &&
                   (uint64_t)(h.nblocks - 1u) * h.block_size < h.image_size,
               "sizes: image %u, block %u, %u blocks", (unsigned)h.image_size,
               (unsigned)h.block_size, (unsigned)h.nblocks);
    if (!fwr_pkg_check_manifest(&h, head + FWR_PKG_HEADER_SIZE, pkg)) {
        at = fwr_pkg_data_offset(&h);
        for (i = 0; i < h.nblocks; i++) {
            uint32_t plain = fwr_pkg_block_len(&h, i);
            FUZZ_CHECK(!fwr_pkg_entry(&h, head + FWR_PKG_HEADER_SIZE, i, &e),
                       "entry %u", (unsigned)i);
            FUZZ_CHECK(e.offset == at && e.length &&
                           ((h.flags & FWR_PKG_LZ4)
                                ? e.length <= FWR_PKG_LZ4_BOUND(plain)
                                : e.length == plain),
                       "entry %u: %u+%u, expected at %llu", (unsigned)i,
                       (unsigned)e.offset, (unsigned)e.length,
                       (unsigned long long)at);
            at += e.length;
            FUZZ_CHECK(at <= 0xFFFFFFFFu, "offsets wrap");
        }
        FUZZ_CHECK(!pkg || at == pkg, "ends at %llu, package %u",
                   (unsigned long long)at, (unsigned)pkg);
    }
    free(head);
    return 0;
}
