/*
 * hashes: the hash ops the fwresume adapter plugs into the engine (and
 * its second reader hashes blocks with), one kind per
 * instance: CRC-32 through libdeflate (zlib's CRC-32, computed with
 * carry-less multiplies: 17 GB/s in the engine's 256-byte pieces where zlib
 * does 1.8, and CRC is most of a torture run's time)
 * and, when mbedTLS is installed, MD5 and SHA-256 through the engine's
 * port adapter (core/port/fwr_mbedtls.c, compiled in here: its library
 * would bring the real engine into the mutant builds).
 */
#ifndef FOTASIM_HASHES_H
#define FOTASIM_HASHES_H

#include <stddef.h>
#include <stdint.h>

#include "fwresume.h"

#ifdef FOTASIM_HAVE_MBEDTLS
#include "fwr_mbedtls.h"
#endif

struct harness_hash {
    struct fwr_hash_ops ops;
    union {
        uint32_t crc;
#ifdef FOTASIM_HAVE_MBEDTLS
        struct fwr_mbedtls_md5 md5;
        struct fwr_mbedtls_sha256 sha256;
#endif
    } ctx;
};

/* Set h up for kind (enum fwr_hash_kind, not NONE). 0, or -1 with a
 * message in err when this build cannot compute it. h must not move
 * afterwards: ops.ctx points into it. */
int harness_hash_init(struct harness_hash *h, uint8_t kind, char *err,
                      size_t errlen);

/* One-shot digest of buf into out (h's size bytes). */
int harness_hash_buf(struct harness_hash *h, const void *buf, uint32_t len,
                     uint8_t *out);

#endif /* FOTASIM_HASHES_H */
