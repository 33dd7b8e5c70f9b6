/*
 * Deliberately broken engine variants, for the harness's teeth test only.
 * The real build has FWR_MUTANT == 0 and every branch below folds away.
 * core/mutants.cmake builds one library per variant.
 */
#ifndef FWR_MUTANT_H
#define FWR_MUTANT_H

#ifndef FWR_MUTANT
#define FWR_MUTANT 0
#endif

#define FWR_MUT_VALID_FIRST  1  /* record committed before the data is */
#define FWR_MUT_NO_CHECK     2  /* record check value not verified */
#define FWR_MUT_NO_VOID      3  /* old image's records not voided */
#define FWR_MUT_NO_NEIGHBOUR 4  /* erase-unit neighbours left "done" */
#define FWR_MUT_NO_READBACK  5  /* no read-back compare after program */
#define FWR_MUT_SAME_PROGRAM 6  /* valid flag in the same program as body */
#define FWR_MUT_NO_RESCAN    7  /* full policy trusts records */
#define FWR_MUT_NO_DIGEST    8  /* final image digest not checked */
#define FWR_MUT_SPIN         9  /* scan waits on a torn slot: no flash op */
#define FWR_MUT_SPIN_READ    10 /* scan re-reads a torn slot forever */
#define FWR_MUT_COMPACT_BOOT 11 /* every resume compacts the log: costly */
#define FWR_MUT_LOCK_ONCE                                                      \
    12                         /* locks only an image finished without a       \
                                  resume */
#define FWR_MUT_SOFT_ERRORS 13 /* no error stops the engine */
#define FWR_MUT_IO_IGNORED                                                     \
    14                          /* scan takes a mirror slot it could not       \
                                   read as invalid */
#define FWR_MUT_NO_ORDER     15 /* a byte-reversed CRC-32 digest restarts */
#define FWR_MUT_LAX_GEOMETRY 16 /* fwr_check_geometry takes any hash size */

#define FWR_MUTANT_IS(m) ((FWR_MUTANT) == (m))

/*
 * The resume scan meets a primary slot that reads torn (state 0, from
 * read_slot) and waits for it to read valid, as if the torn program were
 * still under way: SPIN without reading it again, a loop with no flash op
 * at all (the harness's CPU-time watchdog must end it); SPIN_READ
 * re-reading it (reread), a loop on one page's reads (the flash-op
 * budget must). The volatile counter keeps the empty loop from being
 * optimised into something else. In the real engine both fold away.
 */
#define FWR_MUTANT_WAIT_TORN(state, reread)                                    \
    do {                                                                       \
        if (FWR_MUTANT_IS(FWR_MUT_SPIN) && (state) == 0) {                     \
            volatile unsigned fwr_mutant_spins = 0;                            \
            for (;;)                                                           \
                fwr_mutant_spins++;                                            \
        }                                                                      \
        while (FWR_MUTANT_IS(FWR_MUT_SPIN_READ) && (state) == 0)               \
            (state) = (reread);                                                \
    } while (0)

#endif /* FWR_MUTANT_H */
