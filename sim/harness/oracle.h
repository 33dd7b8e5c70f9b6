/*
 * oracle: judges one trial from the flash it left behind (docs/fault-model.md
 * lists the verdicts and when each applies).
 *
 * The oracle looks only at the device, the image the server was serving
 * and what the driver returned; it never asks the engine, so a broken
 * engine cannot talk its way to a good verdict.
 */
#ifndef FOTASIM_ORACLE_H
#define FOTASIM_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "sim_flash.h"
#include "trial.h"

/* Driver result: no completion within the request bound (fwr errors are
 * negative, 0 is complete). */
#define ORACLE_STUCK 1

struct oracle {
    const struct scenario *sc;
    const struct scenario_layout *lay;
    uint64_t request_bound; /* link requests a recovery may make */
    /* The uncut update, for the cost bounds: its erases, programs and
     * simulated time, and the erases of its most-erased unit. */
    uint64_t update_erases, update_programs, update_ns;
    uint32_t update_unit_erases;
    /* The longest rewrite of the record area in the uncut update (erases
     * of record units it had already erased, up to its next data-area
     * op): what redoing a compaction costs. */
    uint64_t rewrite_erases, rewrite_programs;
    /* A packaged update (image.transform): bytes each boot fetches before
     * its first block (the package's head, docs/package-format.md
     * section 6, with its retries through a corrupting link), and 1 so
     * that a group's stored bytes may exceed its plaintext (LZ4's bound
     * on incompressible data). 0 for a plain image. */
    uint64_t boot_fetch;
    int packaged;
    /* Optional: 0 when the record area of a complete, exact trial reads
     * as complete to a reader other than the engine (record_reader.h);
     * else non-zero with the discrepancy in why. */
    int (*format_check)(void *user, const struct sim_flash *dev,
                        const uint8_t *img, char *why, size_t whylen);
    void *format_user;
};

/* The cost bounds in force for trial tr (the [expect] figures, with the
 * auto ones derived from the scenario and the cut): 0 means no bound. */
struct oracle_budget {
    uint64_t erases, programs, unit_erases, recover_ns;
};
void oracle_budget(const struct oracle *o, const struct trial *tr,
                   struct oracle_budget *b);

/* Device address of image offset off: bad units (NAND) are skipped, as the
 * engine skips them. UINT32_MAX when the data area runs out. */
uint32_t oracle_data_phys(const struct oracle *o, struct sim_flash *dev,
                          uint32_t off);

/* Do image bytes [off, off + len) sit in the data area exactly and stably,
 * as the device reads them (NAND: after certain ECC correction)? (The
 * per-reboot claim check.) The nlost bits of lost (device addresses) count
 * as still programmed: damage done while the power was off, which an
 * engine that trusts its records by design does not see. */
int oracle_range_matches(const struct oracle *o, struct sim_flash *dev,
                         const uint8_t *img, uint32_t off, uint32_t len,
                         const struct sim_bit *lost, uint32_t nlost);

/* Does the data area hold the whole image exactly? When not, one line in
 * why says where. */
int oracle_data_matches(const struct oracle *o, struct sim_flash *dev,
                        const uint8_t *img, char *why, size_t n);

/* Does the fault model make an engine error unavoidable (worn-out or bad
 * blocks, read errors, a corrupting link)? */
int oracle_failure_unavoidable(const struct scenario *sc);

/*
 * Judge a finished trial: rc from the driver, img the image the server
 * served last, tr's costs and boots already filled. Sets verdict, failed,
 * engine_error, violation and detail.
 */
void oracle_judge(const struct oracle *o, struct sim_flash *dev,
                  const uint8_t *img, int rc, struct trial *tr);

#endif /* FOTASIM_ORACLE_H */
