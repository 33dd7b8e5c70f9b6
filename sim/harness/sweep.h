/*
 * sweep: the decision of `fotasim sweep`. The command (main.c, cmd_sweep)
 * runs one scenario once per value of one parameter (block size, or any
 * section.key), each value a run in one database; this module keeps the
 * cost model (what a power cut costs in time), fills one sweep_row per
 * value from the trials and the run, picks the best eligible value and
 * prints the table that answers "which value?" with the trade-off in
 * numbers. docs/tuning.md shows it at work.
 */
#ifndef FOTASIM_SWEEP_H
#define FOTASIM_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "trial.h"

#define SWEEP_MAX_VALUES 16

/* What one value of the swept parameter cost. */
struct sweep_row {
    char value[520]; /* engine paths included */
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
    double cuts_per_update;   /* at the sweep's --cut-rate */
    double expected_s;        /* update_s + cuts_per_update * cut_cost_s */
};

/*
 * The cost model: what one power cut costs in time, per trial. The boot's
 * resume scan (simulated flash time, plus re-hashing the blocks it
 * resumed at engine.cpu_hash_rate bytes/s on the device's CPU) and the
 * bytes downloaded again over the link (bandwidth, one latency). Summed
 * over a value's trials with sweep_cost_add, turned into the row's
 * figures with sweep_row_finish.
 */
struct sweep_costs {
    uint64_t n;
    double sum_redownload, max_redownload; /* bytes */
    double sum_scan_ms;                    /* boot-time resume scan */
    double sum_cut_s;                      /* scan + link time */
};

struct scenario;
struct torture_result;
struct scenario_layout;

/* How often power fails: per update, or per hour or day of updating (a
 * field figure). A per-time rate becomes cuts per update through each
 * value's own uncut update time: rate x update_s. */
enum cut_rate_unit { CUT_RATE_PER_UPDATE, CUT_RATE_PER_HOUR, CUT_RATE_PER_DAY };
struct cut_rate {
    double n;
    enum cut_rate_unit unit;
};

/* Parse "N", "N/update", "N/h" (also "/hour") or "N/day" (N >= 0, finite).
 * 0, or -1 with the reason in err. */
int sweep_cut_rate_parse(const char *s, struct cut_rate *out, char *err,
                         size_t errlen);
/* Power cuts per update of update_s seconds at this rate. */
double sweep_cuts_per_update(const struct cut_rate *r, double update_s);
/* "1 per update", "2 per hour", "0.5 per day". */
void sweep_cut_rate_text(const struct cut_rate *r, char *buf, size_t n);

/* Seconds one trial's power cut cost (scan + re-download), the scan part
 * in *scan_s. */
double sweep_cut_cost_s(const struct scenario *sc, const struct trial *t,
                        double *scan_s);

/* Account one judged trial to the costs and to its row (sweep_count_trial). */
void sweep_cost_add(struct sweep_costs *c, struct sweep_row *r,
                    const struct scenario *sc, const struct trial *t);

/* Fill r's figures from the costs, the run's result, its layout and the
 * engine's RAM; expected_s = update_s + cuts per update x cut_cost_s.
 * Marks r as ok (the value ran). */
void sweep_row_finish(struct sweep_row *r, const struct sweep_costs *c,
                      const struct torture_result *res,
                      const struct scenario_layout *lay, uint32_t ram_bytes,
                      const struct cut_rate *rate);

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
                 const struct cut_rate *rate);

#endif /* FOTASIM_SWEEP_H */
