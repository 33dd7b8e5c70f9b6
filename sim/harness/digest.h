/*
 * digest: the harness's one-shot digests of the served image (the
 * manifest an update server publishes), by enum engine_hash kind. The
 * engine's own hash ops are its adapter's business (engines/), not this.
 */
#ifndef FOTASIM_DIGEST_H
#define FOTASIM_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* Digest bytes of kind, or 0 when this build cannot compute it (md5 and
 * sha256 need mbedTLS) or kind is NONE. */
uint32_t digest_size(uint8_t kind);

/* The digest of buf in out (digest_size(kind) bytes, big-endian for
 * CRC-32): 0, or -1 when this build cannot compute kind. */
int digest_buf(uint8_t kind, const void *buf, size_t len, uint8_t *out);

#endif /* FOTASIM_DIGEST_H */
