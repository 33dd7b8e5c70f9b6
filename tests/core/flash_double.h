/*
 * A small in-memory flash for the engine's unit tests: NOR or NAND rules,
 * a power cut (torn op) at the Nth program or erase, bit flips, read-back
 * failures, bad units and write protection. Rule breaks are counted, not
 * asserted, so a test can check that none happened.
 */
#ifndef FLASH_DOUBLE_H
#define FLASH_DOUBLE_H

#include <stdint.h>

#include "fwresume.h"

/* What a cut program leaves: nothing, a prefix of the bytes, a random
 * subset of the bits, or a random subset solid and the rest of the bits
 * weak (read 0 or 1 at random on every read until the unit is erased). */
enum fd_torn {
    FD_TORN_NONE,
    FD_TORN_PREFIX,
    FD_TORN_RANDOM,
    FD_TORN_ALL,
    FD_TORN_UNSTABLE
};

struct flash_double {
    uint8_t *mem;
    uint8_t *written; /* per prog unit: programmed since erase */
    uint8_t *weak;    /* per byte: bits that read at random */
    uint32_t size, prog, erase;
    int nand;
    uint8_t erased;
    int any_weak; /* some byte has weak bits: reads pay for them */

    /* Power cut: the op with this 1-based write index is torn, then every
     * op fails. 0: never. */
    uint32_t cut_at;
    int torn;     /* enum fd_torn */
    uint32_t ops; /* programs + erases so far */
    int off;      /* power is off */
    uint64_t rng;

    /* Faults. */
    uint32_t fail_prog_at;    /* this program leaves one bit unprogrammed */
    uint32_t fail_prog_count; /* ... for this many programs from there */
    uint32_t bad_unit_mask;   /* bit u: erase unit u is bad */
    uint32_t prot_addr, prot_len;
    uint32_t ecc_addr, ecc_len; /* reads touching this give ECC failure */
    uint32_t ecc_transient;     /* >0: only this many such reads fail */

    /* Optional program log (caller's array): address and length of each
     * program, in order, up to log_cap. */
    uint32_t (*log)[2];
    uint32_t log_cap, log_n;

    /* Observations. */
    uint32_t violations;
    uint32_t programs, erases, prog_bytes;
    uint32_t lo_written, hi_written; /* address span of every write */
};

int fd_init(struct flash_double *d, uint32_t size, uint32_t prog,
            uint32_t erase, int nand);
void fd_free(struct flash_double *d);
void fd_ops(struct flash_double *d, struct fwr_flash_ops *ops);
/* bad_unit_mask as an is_bad function for port/fwr_skipbad.h. */
int fd_is_bad(void *user, uint32_t addr);
void fd_power_on(struct flash_double *d);
void fd_flip(struct flash_double *d, uint32_t addr, int bit);

#endif
