/*
 * record_reader: an independent reader of fwresume's record area, written
 * from docs/record-format.md and not from the engine, with its own CRC-32
 * (libdeflate's, zlib's polynomial). It stands for the other programs that
 * read those bytes: a boot loader deciding whether the new image is
 * complete, the next firmware's engine resuming the log. An engine whose
 * records only it can read (a wrong check value, a field at the wrong
 * offset) passes every resume test and still bricks the update, so a
 * finished trial must also read as finished here.
 */
#ifndef FOTASIM_RECORD_READER_H
#define FOTASIM_RECORD_READER_H

#include <stddef.h>
#include <stdint.h>

#include "fwresume.h"

struct record_reader {
    /* Reads as the device reads (ECC applied), without side effects. */
    int (*read)(void *user, uint32_t addr, void *buf, uint32_t len);
    void *read_user;
    uint32_t record_addr, mirror_addr; /* mirror: FWR_NO_MIRROR for none */
    uint32_t record_size;              /* bytes of each copy */
    uint32_t prog_size;
    uint8_t erased; /* the erased value */
    uint8_t block_hash_kind; /* enum fwr_hash_kind of the records */
    uint32_t block_size;
    const struct fwr_image *image; /* the identity the update was for */
    uint32_t hash_size;            /* bytes of a block hash */
    /* Hold the padding of valid slots and headers to the erased value
     * (sections 2, 3). Off when the device lets erased bits creep (read
     * disturb): harmless to any reader, yet not what was written. */
    int check_padding;
    /* The hash of each of the image's blocks (hash_size bytes each, by the
     * host's code: computed once per image, not per check). */
    const uint8_t *block_hashes;
    /* Scratch the caller owns (a check runs per trial): 2 * record_size
     * bytes, and one int64_t per block. */
    uint8_t *buf;
    int64_t *live;
};

/*
 * Read the record area as docs/record-format.md defines it and check that
 * it says what a finished update must: a copy whose header names the
 * image, a COMPLETE(N, size) after the last VOID in the log those headers
 * select, well-formed valid slots, and no live BLOCK record whose hash is
 * not that of the image's block. 0 when it does; -1 with the first
 * discrepancy (slot, field, value) in why; -2 when the device refuses a
 * read.
 */
int record_reader_check_complete(const struct record_reader *r, char *why,
                                 size_t whylen);

#endif /* FOTASIM_RECORD_READER_H */
