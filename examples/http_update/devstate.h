/*
 * devstate: the device's "debug port", a small file mapped MAP_SHARED.
 *
 * The device writes into it which phase it is in (HTTP, erase, program of
 * data, program of a record body or commit, final digest...), the flash
 * op in progress and running counters. A process that kills the device
 * reads it after the kill and knows where the kill landed: every store is
 * in the page cache the moment it is made, so the file holds exactly what
 * the device had written when it died.
 *
 * It also holds the flash's non-volatile lock bits (what flash.protect
 * sets), as a NOR part keeps its block-protection bits in a non-volatile
 * status register.
 *
 * The layout is fixed (little-endian, offsets in docs/integration.md) so
 * that the test tools can parse it without this header.
 */
#ifndef DEVSTATE_H
#define DEVSTATE_H

#include <stdint.h>

#include "mapfile.h"

#define DEV_STATE_MAGIC   "FWRDEV1" /* 7 characters and a NUL: 8 bytes */
#define DEV_STATE_VERSION 1u
#define DEV_STATE_SIZE    256u
#define DEV_RUNNING       0xFFFFFFFFu /* exit_status while a run is alive */
#define DEV_LOCKS         4u

enum dev_phase {
    PH_OFF = 0,             /* no run yet, or the last run exited */
    PH_BOOT = 1,            /* started: options, files, identity requests */
    PH_RESUME = 2,          /* fwr_init + fwr_begin: the record scan */
    PH_HTTP = 3,            /* in the HTTP client: waiting or receiving */
    PH_ENGINE = 4,          /* in the engine, outside any flash op */
    PH_ERASE = 5,           /* inside an erase (op_addr says which area) */
    PH_PROG_DATA = 6,       /* inside a program of the data area */
    PH_PROG_REC_BODY = 7,   /* inside a record-area program: header or slot
                               body */
    PH_PROG_REC_COMMIT = 8, /* inside a record-area program: commit field */
    PH_DIGEST = 9,          /* the final image digest (SHA-256 pass) */
    PH_BACKOFF = 10,        /* sleeping before a retry */
    PH_DONE = 11,           /* image COMPLETE, exiting */
    PH_COUNT = 12
};

/* 256 bytes; every field a little-endian uint32 or uint64 at a fixed
 * offset (the comment), as this host stores them. */
struct dev_state {
    char magic[8];            /*   0 */
    uint32_t version;         /*   8 */
    uint32_t phase;           /*  12: enum dev_phase */
    uint32_t pid;             /*  16 */
    uint32_t boots;           /*  20: runs started since the file was made */
    uint32_t completes;       /*  24: runs that ended with COMPLETE */
    uint32_t exit_status;     /*  28: of the last run; DEV_RUNNING during one */
    uint32_t image_changes;   /*  32: new identities seen (ETag/manifest) */
    uint32_t flash_size;      /*  36: the partition, for tools */
    uint32_t erase_size;      /*  40 */
    uint32_t page_size;       /*  44 */
    uint32_t block_size;      /*  48: of the image being downloaded */
    uint32_t record_addr;     /*  52 */
    uint32_t record_size;     /*  56 */
    uint32_t mirror_addr;     /*  60 */
    uint32_t data_addr;       /*  64 */
    uint32_t data_size;       /*  68 */
    uint32_t op_addr;         /*  72: the flash op in progress */
    uint32_t op_len;          /*  76 */
    uint32_t op_done;         /*  80: slices of it carried out */
    uint32_t op_seq;          /*  84: flash ops begun (programs, erases) */
    uint32_t erase_units;     /*  88: erase units erased */
    uint32_t programs_data;   /*  92: page programs in the data area */
    uint32_t programs_record; /*  96: programs in the record area */
    uint32_t violations;      /* 100: program bytes that tried to set a bit */
    uint32_t refused;         /* 104: ops refused by the lock bits */
    uint32_t requests;        /* 108: HTTP requests sent */
    uint32_t retries;         /* 112: failed attempts retried */
    uint32_t digest_done;     /* 116: bytes of the final digest hashed */
    uint64_t body_bytes;      /* 120: image body bytes received */
    uint64_t fed_bytes;       /* 128: bytes fwr_feed() took */
    uint32_t range_off;       /* 136: the range request in flight */
    uint32_t range_len;       /* 140 */
    uint32_t lock_addr[DEV_LOCKS]; /* 144: lock bits: ranges, len 0 free */
    uint32_t lock_len[DEV_LOCKS];  /* 160 */
    uint32_t slices;               /* 176: slices per op (timing of this run) */
    uint32_t erase_us;             /* 180 */
    uint32_t prog_us;              /* 184 */
    uint32_t digest_us;            /* 188: per KiB */
    uint32_t reserved[16];         /* 192 .. 255 */
};

typedef char
    dev_state_size_check[sizeof(struct dev_state) == DEV_STATE_SIZE ? 1 : -1];

/* Map path into m (created zeroed if absent, see mapfile.h; a file
 * without the magic is started afresh). NULL and a message on stderr on
 * failure. */
volatile struct dev_state *dev_state_open(struct mapfile *m, const char *path);

/* Set the phase; returns the one it replaces. */
uint32_t dev_phase(volatile struct dev_state *st, uint32_t phase);

const char *dev_phase_name(uint32_t phase);

#endif /* DEVSTATE_H */
