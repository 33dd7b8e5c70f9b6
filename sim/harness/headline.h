/*
 * headline: the verdict of one stored run as figures and one sentence —
 * what a manager reads first and a CI summary leads with. One computation
 * feeds report.html's cover, summary.md's first line and `fotasim run
 * --summary`, so they cannot disagree.
 *
 * The statistical statement: with 0 failing trials in n power cuts, the
 * probability that one cut (drawn as the scenario draws them) fails is
 * below 1 - 0.05^(1/n) with 95 % confidence (the one-sided
 * Clopper-Pearson bound for 0 successes, about 3/n: "rule of three"); an
 * update with c cuts fails with probability below 1 - (1 - p)^c.
 */
#ifndef FOTASIM_HEADLINE_H
#define FOTASIM_HEADLINE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct headline {
    int64_t run;
    char name[64], description[160], status[16];
    char preset[32], engine[64], tool_version[32], started[32], ended[32];
    char flash[128];     /* "NOR, 2 MiB, 4 KiB erase units (preset ...)" */
    char transform[64];  /* how the image travels: "none (plaintext)" */
    char settings[160];  /* "CRC-32 block hashes, SHA-256 digest, ..." */
    uint64_t image_size; /* bytes */
    uint32_t block_size; /* bytes */
    uint64_t planned;    /* trials the run planned (its shard) */
    uint64_t stored;     /* trials in the database */
    uint64_t failing;    /* of them, failing the scenario */
    uint64_t silent;     /* judged silent_corruption */
    uint64_t unsafe;     /* judged an unsafe verdict */
    uint64_t worst_redownload; /* bytes, max over the stored trials */
    uint64_t limit_redownload; /* bytes, [expect] bound; 0: none */
    char top_verdicts[160];    /* "silent_corruption 150, over_budget 50" */
    int64_t first_failing;     /* trial id, or -1 */
    char first_detail[200];    /* its verdict and detail */
};

/* Load run's headline from an open database (the scenario text stored with
 * the run gives description, limit and part). 0, or -1 with the reason in
 * err. */
int headline_load(sqlite3 *db, int64_t run, struct headline *h, char *err,
                  size_t errlen);

/* "8,080 of 8,080 power cuts recovered; worst extra download 4 KiB (limit
 * 4 KiB); 0 silent corruptions" — for a failing run it leads with what
 * failed; for an unfinished one with how much is missing. */
void headline_sentence(const struct headline *h, char *buf, size_t n);

/* 1 - 0.05^(1/n): the 95 % upper bound on the failure probability per
 * cut after n cuts without a failure (1 for n == 0). */
double headline_upper95(uint64_t n);

/* The statistical statement of a passed run at cuts_per_update power cuts
 * per update; "" for a run that did not pass. */
void headline_confidence(const struct headline *h, double cuts_per_update,
                         char *buf, size_t n);

/* 1536 -> "1.5 KiB", 4096 -> "4 KiB", 3 MiB -> "3 MiB", 100 -> "100 B". */
void headline_bytes(uint64_t bytes, char *buf, size_t n);
/* 8080 -> "8,080". */
void headline_count(uint64_t v, char *buf, size_t n);
/* A probability as a readable bound: 0.000371 -> "0.037 %" or "1 in
 * 2,700". */
void headline_probability(double p, char *buf, size_t n);

#endif /* FOTASIM_HEADLINE_H */
