/*
 * The host side of packaged updates (docs/package-format.md): build a
 * package from a firmware image, and open one to inspect or unpack it.
 * LZ4 through Debian's liblz4 (high-compression mode), AES-CTR, SHA-256
 * and ECDSA P-256 through mbedTLS. Used by `fotasim pack` and `fotasim
 * inspect`, and by the harness to serve packages.
 */
#ifndef FOTASIM_PACK_H
#define FOTASIM_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "fwr_pkg.h"

struct pack_opts {
    uint32_t block_size; /* power of two, 256 B to 1 MiB */
    int compress;        /* LZ4 per block */
    const uint8_t *key;  /* AES-CTR key (16 or 32 bytes), or NULL */
    uint32_t key_len;
    const char *sign_key; /* PEM file of an ECDSA P-256 private key, or NULL */
    const uint8_t *old;   /* delta base (the image in the other slot) */
    uint32_t old_len;
    uint32_t window;      /* delta dictionary bytes, 4 KiB to 64 KiB */
    const uint8_t *nonce; /* 8 bytes; NULL: drawn from the system */
};

/* The package for fw[0, len) in *out (malloc'd, *out_len bytes). 0, or -1
 * with a message naming what is wrong in err. */
int pack_build(const uint8_t *fw, uint32_t len, const struct pack_opts *o,
               uint8_t **out, uint32_t *out_len, char *err, size_t errlen);

/* A package opened for reading: its checked header and manifest. */
struct pack_view {
    const uint8_t *pkg;
    uint32_t size;
    struct fwr_pkg_header h;
    const uint8_t *manifest;
};

/* Check pkg[0, size) (header, manifest, tiling). 0, or -1 with the rule
 * and the field's offset in err. */
int pack_open(struct pack_view *v, const uint8_t *pkg, uint32_t size, char *err,
              size_t errlen);

/* Signature over header and manifest against the PEM public key at path:
 * 1 valid, 0 invalid, -1 (err) when the key cannot be used. */
int pack_verify(const struct pack_view *v, const char *pubkey_path, char *err,
                size_t errlen);

/* The P-256 public key in the PEM or DER file at path as a device holds
 * it: the uncompressed point 0x04 || X || Y. 0, or -1 (err). */
int pack_public_point(const char *path, uint8_t out[65], char *err,
                      size_t errlen);
/* Block i decoded into out (the block's plaintext length, at most the
 * block size) with key (NULL unless AES) and the delta base old (NULL
 * unless delta): 0 when its SHA-256 is the manifest's, 1 when it decodes
 * but differs, -1 (err) when it does not decode. */
int pack_block(const struct pack_view *v, uint32_t i, const uint8_t *key,
               uint32_t key_len, const uint8_t *old, uint32_t old_len,
               uint8_t *out, char *err, size_t errlen);

/* The delta dictionary for block i: the window's bytes of old, as both
 * packer and device take them (docs/package-format.md, section 5). */
void pack_window(uint32_t i, uint32_t block_size, uint32_t window,
                 uint32_t old_len, uint32_t *from, uint32_t *len);

/* Of an opened package: where block data begins, block i's plaintext
 * length, and its entry (offset and stored length). */
uint32_t pack_data_offset(const struct pack_view *v);
uint32_t pack_block_len(const struct pack_view *v, uint32_t i);
void pack_entry(const struct pack_view *v, uint32_t i, uint32_t *offset,
                uint32_t *length);

/* SHA-256 of buf[0, n) into out. 0 or -1. */
int pack_sha256(const uint8_t *buf, uint32_t n, uint8_t out[32]);

#endif
