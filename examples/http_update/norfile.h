/*
 * norfile: the device's SPI NOR flash, a file mapped MAP_SHARED (see
 * mapfile.h), behind struct fwr_flash_ops.
 *
 * NOR rules: a program can only clear bits (it is ANDed into the array),
 * an erase sets a whole erase unit to 0xFF, a page program does not cross
 * a page. Each page program and each unit erase is carried out in slices
 * with a real delay between them (the part's tPP / tSE), so a SIGKILL that
 * lands inside an op leaves what a power cut leaves: a partly erased unit,
 * a partly programmed page.
 *
 * Every op writes its phase (and the op) into the device state file first
 * (devstate.h). A program below data_addr is a record-area program: a
 * commit field when it is commit_size bytes long, a header or slot body
 * otherwise (docs/record-format.md).
 */
#ifndef NORFILE_H
#define NORFILE_H

#include <stdint.h>

#include "devstate.h"
#include "fwresume.h"
#include "mapfile.h"

enum nor_tear {
    NOR_TEAR_REGION = 0, /* slices are address ranges, in address order */
    NOR_TEAR_BITS = 1    /* slices are bit subsets of every byte */
};

struct norfile {
    struct mapfile map;
    uint8_t *mem;
    uint32_t size, erase_size, page_size;
    uint32_t data_addr;   /* programs from here on are data programs */
    uint32_t commit_size; /* record programs this long are commits */
    uint32_t erase_us;    /* per erase unit */
    uint32_t prog_us;     /* per page program */
    uint32_t slices;      /* per op, >= 1 */
    uint8_t tear;         /* enum nor_tear */
    volatile struct dev_state *st;
};

/* Open (create erased if absent) and map path. 0 or -1 with a message. */
int norfile_open(struct norfile *n, const char *path, uint32_t size,
                 uint32_t erase_size, uint32_t page_size,
                 volatile struct dev_state *st);
void norfile_close(struct norfile *n);

/* The flash ops over n (read, program, erase, protect). */
void norfile_ops(struct norfile *n, struct fwr_flash_ops *ops);

/* Sleep us microseconds (0: none). */
void nor_sleep_us(uint32_t us);

#endif /* NORFILE_H */
