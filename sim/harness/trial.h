/*
 * trial: what one torture trial was and how it ended. Produced by the
 * torture loop (torture.c), judged by the oracle (oracle.c), stored by the
 * outcome log (db.c).
 *
 * CONTRACT: torture.c, oracle.c and db.c are written against these fields;
 * add fields, do not rename.
 */
#ifndef FOTASIM_TRIAL_H
#define FOTASIM_TRIAL_H

#include <stdint.h>

#define TRIAL_MAX_DEPTH 4

enum verdict {
    VERDICT_RECOVERED = 0,         /* complete, image exact, no extra cost */
    VERDICT_RECOVERED_EXTRA = 1,   /* complete, image exact, re-downloaded */
    VERDICT_DETECTED_FAILURE = 2,  /* engine reported an error the fault model
                                      made unavoidable (e.g. worn-out flash) */
    VERDICT_SILENT_CORRUPTION = 3, /* engine said complete, data differs */
    VERDICT_STUCK = 4,             /* no completion within the boot bound */
    VERDICT_OUT_OF_PARTITION = 5,  /* a byte outside the partition changed */
    VERDICT_RULE_VIOLATION = 6,    /* the engine broke a flash rule */
    VERDICT_UNEXPECTED_ERROR = 7,  /* engine error the fault model did not
                                      make unavoidable */
    VERDICT_OVER_BUDGET = 8,       /* complete and exact, but it cost more
                                      than an [expect] bound allows */
    VERDICT_FORMAT_VIOLATION = 9,  /* complete and exact to the engine, but
                                      the record area does not read as
                                      complete (docs/record-format.md) */
    VERDICT_CONTRACT_VIOLATION = 10, /* the engine broke its API contract
                                        (fwresume.h): an error it did not
                                        report or stop on, a complete image
                                        left unlocked, or the next boot not
                                        settled on it */
    VERDICT_COUNT
};

const char *verdict_name(enum verdict v);

/* Where a cut op landed: the data area, the record area or its mirror. */
enum cut_area {
    CUT_AREA_DATA = 0,
    CUT_AREA_RECORD = 1,
    CUT_AREA_MIRROR = 2,
    CUT_AREA_COUNT
};

/* "data", "record", "mirror" (as stored in trials.cut1_area); "?" for a
 * value out of range. */
const char *cut_area_name(unsigned area);
/* The area a name stands for, or -1. */
int cut_area_parse(const char *name);
/* True for verdicts that fail a run regardless of expectations. */
int verdict_is_failure(enum verdict v, int allow_detected_failure);
/* True for the verdicts no expectation can excuse, the ones that make a
 * value unsafe: silent corruption, stuck, out of partition, rule
 * violation, format violation, contract violation. */
int verdict_is_unsafe(enum verdict v);

struct trial {
    uint64_t id;    /* trial number within the run, from 0 */
    uint64_t seed;  /* trial seed (derived from run seed + id) */
    uint32_t depth; /* cuts in this trial */
    uint64_t cuts[TRIAL_MAX_DEPTH];  /* boundary index of each cut: cuts[0] in
                                     the uncut update, cuts[k] counted from the
                                     k-th reboot */
    uint8_t cut_op[TRIAL_MAX_DEPTH]; /* enum sim_op of each cut op */
    uint32_t cut_addr[TRIAL_MAX_DEPTH]; /* address of each cut op */
    uint8_t cut_area[TRIAL_MAX_DEPTH];  /* enum cut_area of each cut op */
    uint8_t verdict;                    /* enum verdict */
    uint8_t failed;       /* 1: fails the run (verdict or expectation) */
    int32_t engine_error; /* last fwr error, 0 if none */
    uint32_t violation;   /* enum sim_violation of the first violation */
    char detail[160];     /* one line: what the oracle saw */

    /* Costs, from the first cut to completion. */
    uint64_t bytes_downloaded;   /* whole update, this trial */
    uint64_t bytes_redownloaded; /* beyond the image size */
    uint32_t blocks_redownloaded;
    uint32_t boots;            /* reboots after cuts */
    uint32_t io_boots;         /* of them, after a read error
                                  (faults.read_error_rate): not held to
                                  cuts.max_boots; not stored */
    uint64_t corrupted_before; /* bytes the link corrupted in the uncut
                                  update before the cut; not stored */
    uint32_t restarts;         /* whole-image restarts the engine made
                                  (fwr_progress.restarts, summed over the
                                  boots); not stored */
    uint64_t erases, programs; /* flash ops after the first cut */
    uint64_t recover_ns;       /* simulated time, reboot to complete */
    uint64_t scan_ns;          /* simulated time of the resume scan */
    uint32_t blocks_resumed;   /* blocks that scan found valid */
    uint32_t false_claim;      /* 1 + first block a reboot took as valid
                                  that held other bytes; 0: none */
    uint64_t wall_ns;          /* host time spent in this trial */

    /* What the trial's recovery ran into, for its cost bounds (not
     * stored: a replay observes the same). */
    uint8_t image_changed;    /* the server's image changed after the cut */
    uint64_t bytes_corrupted; /* bytes the link corrupted after the cut */
    /* The uncut update rewrote its record area (a log compaction) at or
     * before the cut, or a nested cut may land in the recovery's: a boot
     * may redo one. */
    uint8_t log_rewrite;
    /* The cut fell inside such a rewrite: for that while one record copy
     * alone is whole. */
    uint8_t in_rewrite;

    /* The yardstick of the cost bounds: what the uncut update still did
     * from this trial's first cut on (the op in flight included), and the
     * erases of the most-erased unit within this trial. */
    uint64_t erases_left, programs_left, update_ns_left;
    uint32_t unit_erases;
};

#endif /* FOTASIM_TRIAL_H */
