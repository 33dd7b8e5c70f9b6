/*
 * seqwrite: what the two reference engines share: a bitwise CRC-32 (zlib's
 * polynomial, as engine_image digests of kind ENGINE_HASH_CRC32 are), and a
 * sequential writer that erases each erase unit as the image first enters
 * it and programs whole staging chunks. Header-only so each engine builds
 * as one shared object from one source file.
 */
#ifndef SEQWRITE_H
#define SEQWRITE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* fotasim_engine() must be visible from the shared object. */
#ifndef FOTASIM_ENGINE_EXPORT
#define FOTASIM_ENGINE_EXPORT __attribute__((visibility("default")))
#endif

/* Errors, as fwresume numbers them (the harness reboots on err_io). */
#define SEQ_E_INVAL  (-1)
#define SEQ_E_NOSPC  (-3)
#define SEQ_E_IO     (-4)
#define SEQ_E_PROG   (-5)
#define SEQ_E_ERASE  (-6)
#define SEQ_E_DIGEST (-11)

static inline const char *seq_error_name(int err)
{
    switch (err) {
    case 0:
        return "OK";
    case SEQ_E_INVAL:
        return "E_INVAL (a geometry this engine cannot use)";
    case SEQ_E_NOSPC:
        return "E_NOSPC (the image does not fit the data area)";
    case SEQ_E_IO:
        return "E_IO (a flash read failed)";
    case SEQ_E_PROG:
        return "E_PROG (a program failed)";
    case SEQ_E_ERASE:
        return "E_ERASE (an erase failed)";
    case SEQ_E_DIGEST:
        return "E_DIGEST (the image digest is wrong after a restart)";
    default:
        return "unknown engine error";
    }
}

static inline uint32_t seq_crc32(uint32_t crc, const void *buf, uint32_t len)
{
    const uint8_t *p = buf;
    uint32_t i;
    int k;
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static inline uint32_t seq_round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) / a * a;
}

/* A key for an image identity: its size, digest and tag. */
static inline uint32_t seq_image_key(const struct engine_image *m)
{
    uint32_t k = seq_crc32(0, &m->size, sizeof(m->size));
    k = seq_crc32(k, m->digest, m->digest_len);
    return seq_crc32(k, m->tag, m->tag_len);
}

#define SEQ_CHUNK 4096u /* bytes asked of the link, and read, at a time */

static inline uint32_t seq_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static inline void seq_put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

struct seqwrite {
    const struct engine_flash *flash;
    uint32_t data_addr, data_size;
    uint32_t erase_size, prog_size, ws;
    uint8_t erased;
    uint32_t written;  /* bytes of the image programmed */
    uint32_t erased_to; /* image offset up to which units are erased */
    uint32_t fill;      /* staged bytes after written */
    uint8_t *stage;     /* ws bytes */
    uint8_t *buf;       /* SEQ_CHUNK bytes: what the link delivers, reads */
    uint8_t *slot;      /* slot_size bytes: one metadata record */
    uint32_t slot_size;
};

/* The buffers for p's geometry (write_size: a multiple of the program
 * unit dividing the erase unit). 0, or -1 with the reason in err. */
static inline int seq_init(struct seqwrite *w, const struct engine_params *p,
                           uint32_t slot_size, char *err, size_t errlen)
{
    uint32_t ws = p->write_size ? p->write_size
                                : (p->prog_size > 256 ? p->prog_size : 256);
    memset(w, 0, sizeof(*w));
    if (ws % p->prog_size || p->erase_size % ws) {
        snprintf(err, errlen,
                 "write_size %u must be a multiple of the program unit %u "
                 "dividing the erase unit %u",
                 ws, p->prog_size, p->erase_size);
        return -1;
    }
    w->ws = ws;
    w->slot_size = slot_size;
    w->stage = malloc(ws);
    w->buf = malloc(SEQ_CHUNK);
    w->slot = malloc(slot_size);
    if (!w->stage || !w->buf || !w->slot) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static inline void seq_free(struct seqwrite *w)
{
    free(w->stage);
    free(w->buf);
    free(w->slot);
}

/* At a boot: the flash and the data area it writes. */
static inline void seq_bind(struct seqwrite *w, const struct engine_flash *f,
                            const struct engine_params *p)
{
    w->flash = f;
    w->data_addr = p->data_addr;
    w->data_size = p->data_size;
    w->erase_size = p->erase_size;
    w->prog_size = p->prog_size;
    w->erased = p->erased_value;
}

/* RAM an engine of struct size bytes needs with w: not the receive
 * buffer (buf), the network stack's on a device (engine.h: ram). */
static inline uint32_t seq_ram(const struct seqwrite *w, size_t size)
{
    return (uint32_t)size + w->ws + w->slot_size;
}

/* Start writing at image offset at (a multiple of erase_size): the unit
 * there is erased again before the first program, whatever it holds. */
static inline void seq_start(struct seqwrite *w, uint32_t at)
{
    w->written = w->erased_to = at;
    w->fill = 0;
}

/* Program the staged bytes (padded to the program unit); erase the units
 * they enter first. 0 or a negative error. */
static inline int seq_flush(struct seqwrite *w)
{
    const struct engine_flash *f = w->flash;
    uint32_t n = seq_round_up(w->fill, w->prog_size);
    int rc;

    if (!w->fill)
        return 0;
    if (w->written + n > w->data_size)
        return SEQ_E_NOSPC;
    while (w->erased_to < w->written + n) {
        if (f->erase(f->user, w->data_addr + w->erased_to, w->erase_size) < 0)
            return SEQ_E_ERASE;
        w->erased_to += w->erase_size;
    }
    memset(w->stage + w->fill, w->erased, n - w->fill);
    rc = f->program(f->user, w->data_addr + w->written, w->stage, n);
    if (rc < 0)
        return SEQ_E_PROG;
    w->written += w->fill;
    w->fill = 0;
    return 0;
}

/* Stage len bytes, programming each full chunk. 0 or a negative error. */
static inline int seq_put(struct seqwrite *w, const uint8_t *b, uint32_t len)
{
    while (len) {
        uint32_t k = w->ws - w->fill < len ? w->ws - w->fill : len;
        memcpy(w->stage + w->fill, b, k);
        w->fill += k;
        b += k;
        len -= k;
        if (w->fill == w->ws) {
            int rc = seq_flush(w);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* CRC-32 of the image's size bytes as the data area holds them, read
 * through buf (len bytes). 0 with *crc, or SEQ_E_IO. An uncorrectable
 * read is data, wrong data: the digest then fails. */
static inline int seq_crc_of_data(struct seqwrite *w, uint32_t size,
                                  uint8_t *buf, uint32_t len, uint32_t *crc)
{
    const struct engine_flash *f = w->flash;
    uint32_t at, c = 0;
    for (at = 0; at < size; at += len) {
        uint32_t n = size - at < len ? size - at : len;
        int rc = f->read(f->user, w->data_addr + at, buf, n);
        if (rc < 0 && rc != ENGINE_FLASH_ECC_FAIL)
            return SEQ_E_IO;
        c = seq_crc32(c, buf, n);
    }
    *crc = c;
    return 0;
}

/* Does a CRC-32 digest say the data is the image? 1 yes, 0 no, and 1 when
 * the manifest has no CRC-32 digest to check (the boot loader's job). */
static inline int seq_digest_ok(const struct engine_image *m, uint32_t crc)
{
    uint8_t d[4];
    if (m->digest_kind != ENGINE_HASH_CRC32 || m->digest_len != 4)
        return 1;
    d[0] = (uint8_t)(crc >> 24);
    d[1] = (uint8_t)(crc >> 16);
    d[2] = (uint8_t)(crc >> 8);
    d[3] = (uint8_t)crc;
    return !memcmp(d, m->digest, 4);
}

/* All bytes are in: program the last of them and check the image digest
 * of m. 1 good, 0 wrong, or a negative error. */
static inline int seq_verify(struct seqwrite *w, const struct engine_image *m)
{
    uint32_t crc;
    int rc = seq_flush(w);
    if (!rc)
        rc = seq_crc_of_data(w, m->size, w->buf, SEQ_CHUNK, &crc);
    return rc ? rc : seq_digest_ok(m, crc);
}

#endif /* SEQWRITE_H */
