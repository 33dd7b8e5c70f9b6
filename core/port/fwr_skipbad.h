/*
 * fwr_skipbad: bad-block skipping for raw NAND, as a layer under the
 * engine's flash ops.
 *
 * NAND ships with bad erase units and grows more; the engine knows nothing
 * of them. This layer stands between the engine and the device driver:
 * inside the data area, logical erase unit L is the L-th good physical
 * unit (so the data area must include spare units), requests that cross a
 * unit boundary are split, and everything outside the data area passes
 * through unchanged. The record copies are not remapped: they must be good
 * units, and the mirror covers a copy that goes bad.
 *
 *     struct fwr_skipbad sb;
 *     fwr_skipbad_init(&sb, &nand_ops, nand_is_bad, &cfg.layout,
 *                      cfg.geometry.erase_size, &cfg.flash);
 *     fwr_init(&f, &cfg);
 *
 * A NOR device has no bad blocks and does not link this file. Freestanding
 * C99 like the engine; the caller owns the struct, which must outlive the
 * ops. Like the engine's context it is RAM only: build it anew at boot.
 */
#ifndef FWR_SKIPBAD_H
#define FWR_SKIPBAD_H

#include "fwresume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the erase unit at addr is bad (factory or grown), 0 when good,
 * negative on error. Typically reads the bad-block marker in the spare
 * area of the unit's first page. */
typedef int (*fwr_is_bad_fn)(void *user, uint32_t addr);

struct fwr_skipbad {
    struct fwr_flash_ops lower; /* the device's ops */
    fwr_is_bad_fn is_bad;
    uint32_t erase_size;
    uint32_t data_addr, data_size;
    uint32_t logical, physical; /* walk cache: logical unit -> physical */
};

/*
 * Set up s over the device ops lower and fill ops with the layered ones
 * (user pointer s). Reads return FWR_FLASH_ECC_FAIL when any piece was
 * uncorrectable, else the most bits corrected in a piece. An access to a
 * logical unit past the last good one fails with FWR_E_BADBLOCK (the
 * engine reports that from an erase as is).
 */
void fwr_skipbad_init(struct fwr_skipbad *s, const struct fwr_flash_ops *lower,
                      fwr_is_bad_fn is_bad, const struct fwr_layout *layout,
                      uint32_t erase_size, struct fwr_flash_ops *ops);

#ifdef __cplusplus
}
#endif

#endif /* FWR_SKIPBAD_H */
