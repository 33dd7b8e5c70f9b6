/*
 * sweep: the decision of `fotasim sweep`. The command (main.c, cmd_sweep)
 * runs one scenario once per value of one parameter (block size, or any
 * section.key), each value a run in one database, and fills one
 * sweep_row per value; this module counts the trials into the rows,
 * picks the best eligible value and prints the table that answers
 * "which value?" with the trade-off in numbers. docs/tuning.md shows it
 * at work.
 */
#ifndef FOTASIM_SWEEP_H
#define FOTASIM_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "trial.h"

#define SWEEP_MAX_VALUES 16

/* What one value of the swept parameter cost. */
struct sweep_row {
    char value[32];
    int ok;        /* torture ran (the engine took the config) */
    char why[256]; /* when not ok */
    int64_t run_id;
    uint64_t trials, failing; /* failing: trials that fail the run */
    uint64_t unsafe;          /* of those, with a safety verdict */
    char reason[224];         /* the first failing trial: verdict: detail */
    uint64_t verdicts[VERDICT_COUNT];
    uint32_t record_bytes;                  /* both record copies */
    double record_share;                    /* of the partition */
    double mean_redownload, max_redownload; /* bytes per power cut */
    uint64_t update_erases;                 /* erases of the uncut update */
    uint32_t max_unit_erases; /* most erases of one unit in any trial */
    double scan_ms;           /* mean boot-time resume scan: flash + CPU */
    uint32_t ram_bytes;       /* engine context + work buffer */
    double update_s;          /* uncut update: flash + link, simulated */
    double cut_cost_s;        /* mean extra time a power cut costs */
    double expected_s;        /* update_s + cut_rate * cut_cost_s */
};

/* Pick the best row: least expected time among the eligible rows, those
 * whose every trial passed (verdicts and every [expect] bound). Returns
 * its index (or -1), and the runner-up in *second. */
int sweep_best(const struct sweep_row *rows, int n, int *second);

/* Account one judged trial to its row (failing, unsafe, reason). */
void sweep_count_trial(struct sweep_row *r, const struct trial *t);

/* The sweep's exit status: 1 when a value showed a safety failure (silent
 * corruption, rule violation, write out of the partition, stuck engine)
 * or no value is eligible; else 0. */
int sweep_status(const struct sweep_row *rows, int n);

/* The table and the recommendation, as text. */
void sweep_print(FILE *to, const char *key, const struct sweep_row *rows, int n,
                 double cut_rate);

#endif /* FOTASIM_SWEEP_H */
