/*
 * campaign: coverage by construction (docs/campaign.md).
 *
 * A campaign file names a base scenario and dimensions, each with named
 * values; a value is one or more scenario assignments (section.key=value,
 * applied with scenario_set). The generator below builds a covering array
 * of strength t over the dimensions: every t values of t different
 * dimensions appear together in at least one row, except the
 * combinations no valid row can hold, which it names. Each row is one
 * scenario, run by `fotasim campaign` (cmd_campaign.c).
 *
 * The generator (cover_*) knows nothing of scenarios: it works on value
 * indices and asks two callbacks whether a row is valid, so its unit test
 * drives it with synthetic constraints.
 */
#ifndef FOTASIM_CAMPAIGN_H
#define FOTASIM_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

/* ------------------------------------------------------------ generator */

#define COVER_MAX_DIMS     32
#define COVER_MAX_LEVELS   16 /* values per dimension */
#define COVER_MAX_STRENGTH 4
#define COVER_MAX_EXCLUDE  8 /* dimensions one exclusion names */

/*
 * Can row[0..n) (dimensions 0..n-1, in order) be the start of a valid row?
 * 0: yes so far; non-zero: no row starting so is valid (a reason in why).
 * With n == ndims it judges the whole row. The generator only asks about
 * a prefix after the shorter prefix was accepted, so a check that applies
 * dimension after dimension (as a scenario does) may refuse a prefix the
 * moment one step is refused.
 */
typedef int (*cover_check_fn)(void *user, const int *row, int n, char *why,
                              size_t whylen);
/* A second, costly judgement of a whole row the check accepted (the
 * campaign builds the run); non-zero refuses it. NULL: none. */
typedef int (*cover_confirm_fn)(void *user, const int *row, char *why,
                                size_t whylen);
/* Names for messages: dimension dim's name (val < 0) or value val's. */
typedef const char *(*cover_name_fn)(void *user, int dim, int val);

/* Rows holding all these values are invalid (a constraint of the file). */
struct cover_exclude {
    int n;
    int dim[COVER_MAX_EXCLUDE], val[COVER_MAX_EXCLUDE];
    const char *label; /* why, for the list of impossible combinations */
};

struct cover_spec {
    int ndims;
    const int *levels; /* values of each dimension, 1..COVER_MAX_LEVELS */
    int strength;      /* 1..COVER_MAX_STRENGTH, at most ndims */
    uint64_t seed;  /* tie-breaks and candidate seeds: same seed, same rows */
    int candidates; /* rows built per pick, the best kept; 0: 16 */
    uint64_t node_limit; /* checks one search may spend; 0: 200000 */
    const struct cover_exclude *excludes;
    int nexcludes;
    cover_check_fn check; /* NULL: every row is valid */
    cover_confirm_fn confirm;
    cover_name_fn name; /* NULL: numbers */
    void *user;
};

/* A combination no valid row holds, of as few values as possible: the
 * larger ones that hold it are counted, not listed. */
struct cover_impossible {
    int n;
    int dim[COVER_MAX_STRENGTH], val[COVER_MAX_STRENGTH];
    char why[240];
};

struct cover_result {
    int ndims, nrows;
    int *rows;           /* nrows x ndims value indices */
    uint64_t tuples;     /* t-way combinations in all */
    uint64_t covered;    /* of them held by some row */
    uint64_t impossible; /* of them no valid row can hold */
    int nimpossible;     /* minimal impossible combinations listed */
    struct cover_impossible *imp;
    uint64_t checks, confirms, refused; /* work done; rows confirm refused */
};

/*
 * Build the array. 0, or -1 with a message in err: out of memory, a bad
 * spec, or a search that hit node_limit without deciding whether a
 * combination can be held (the message names it: the dimensions that
 * refuse each other should come earlier in the file).
 */
int cover_generate(const struct cover_spec *spec, struct cover_result *out,
                   char *err, size_t errlen);
void cover_free(struct cover_result *r);

/* ------------------------------------------------------------ campaign */

#define CAMPAIGN_MAX_ASSIGN 8 /* assignments one value makes */

enum campaign_ref { REF_NONE = 0, REF_ERASE_SIZE = 1, REF_PROG_SIZE = 2 };

struct campaign_assign {
    char key[64];   /* section.key */
    char value[96]; /* as written */
    uint8_t ref;    /* enum campaign_ref: value is ${...} */
    char op;        /* 0, '*' or '/' after the reference */
    uint32_t operand;
    uint8_t geometry; /* sets what a reference reads (preset, units) */
};

struct campaign_value {
    char name[32];
    int line;
    int nassign;
    struct campaign_assign a[CAMPAIGN_MAX_ASSIGN];
};

struct campaign_dim {
    char name[32];
    int line;
    int nvalues;
    struct campaign_value v[COVER_MAX_LEVELS];
};

struct campaign {
    char path[256];
    char name[48];
    char description[160];
    char base_path[512]; /* the base scenario, as opened */
    int strength;
    uint64_t seed;
    int candidates;
    uint64_t budget_ns; /* one core's time for every run's trials */
    uint32_t min_trials;
    int ndims;
    struct campaign_dim *dims;
    int nexcludes;
    struct cover_exclude excludes[32];
    char exclude_label[32][320];
    int exclude_line[32];
    /* [impossible]: combinations the file expects no valid run to hold
     * (the scenario or the engine refuses them). Any other combination
     * found impossible fails the campaign (campaign_undeclared). */
    int nimpossibles;
    struct cover_exclude impossibles[32];
    char impossible_label[32][320];
    int impossible_line[32];
    struct scenario base; /* loaded base scenario */
    int base_loaded;
};

/* Read a campaign file and its base scenario. Errors name
 * "file:line: section.key: reason"; returns -1 on error. */
int campaign_load(struct campaign *c, const char *path, char *err,
                  size_t errlen);
void campaign_free(struct campaign *c);

/*
 * The row's scenario: the base with each dimension's value applied in file
 * order, each value's assignments left to right, then the extra
 * assignments (NULL-terminated, may be NULL), as a chain of scenario_set.
 * out->text is the base text with every applied assignment appended (and
 * a comment naming the row), so a replay from a database parses the same
 * scenario; out is parsed from that text. 0, or -1 with the refusal in why.
 */
int campaign_scenario(const struct campaign *c, const int *row,
                      const char *const *extra, struct scenario *out, char *why,
                      size_t whylen);

/*
 * Is the impossible combination x expected: does an [exclude] or an
 * [impossible] line name a subset of its values? Returns the line's label,
 * or NULL: the campaign found a combination impossible that its file says
 * is possible (the engine or the scenario now refuses it).
 */
const char *campaign_declared(const struct campaign *c,
                              const struct cover_impossible *x);

/*
 * An [impossible] line that names no impossible combination (a run holds
 * all its values): index of the first such line from `from`, or -1.
 */
int campaign_stale_impossible(const struct campaign *c,
                              const struct cover_result *r, int from);

/* "flash=nor block=lt ..." */
void campaign_row_text(const struct campaign *c, const int *row, char *buf,
                       size_t n);

/* The generator's view of a campaign: check applies dimension values to
 * the base (cached per prefix); confirm builds the torture run and keeps
 * what a plan needs. */
struct campaign_gen;
struct campaign_gen *campaign_gen_new(const struct campaign *c,
                                      int confirm_runs);
void campaign_gen_free(struct campaign_gen *g);
void campaign_gen_spec(struct campaign_gen *g, struct cover_spec *spec,
                       int *levels);

/* What the plan of one row needs from its uncut update, kept by confirm
 * (or filled by campaign_row_figures when confirm did not run). */
struct campaign_figures {
    uint64_t boundaries;
    uint64_t update_bytes, update_erases, update_programs;
    double trial_ns; /* estimated host time of one trial, one core */
    double run_ns;   /* and of the run around its trials */
};
/* Figures of a confirmed row: 0, or -1 when the row was not confirmed. */
int campaign_gen_figures(const struct campaign_gen *g, const int *row,
                         struct campaign_figures *f);

/* Host time of one trial, estimated from the scenario and its uncut update
 * only (no clock), so the same budget plans the same trials on any
 * machine (docs/campaign.md, "Budget"). */
double campaign_trial_cost_ns(const struct scenario *sc, uint64_t boundaries,
                              uint64_t update_bytes, uint64_t update_erases,
                              uint64_t update_programs);

/* What a run costs besides its trials (building its devices). */
double campaign_run_cost_ns(const struct scenario *sc);

/* One run's cut plan. */
struct campaign_plan {
    int exhaustive;
    uint32_t count;  /* random: cuts.count */
    uint64_t trials; /* trials expected (boundaries, or about count) */
    double est_s;    /* estimated host time, one core */
};

/* Share the budget among n runs: what each run costs besides its trials
 * first, then runs whose every boundary fits their share of the rest cut
 * at every boundary, the others draw random cuts sized to it (at least
 * min_trials). Deterministic in the figures and the budget. */
void campaign_plan_budget(uint64_t budget_ns, uint32_t min_trials,
                          const struct campaign_figures *f, int n,
                          struct campaign_plan *out);

/* "150s", "2.5m", "1h", "500ms"; a bare number is seconds. */
int campaign_parse_duration(const char *v, uint64_t *ns);

/* For `fotasim list`: 1 when path is a campaign file (a [campaign]
 * section) with its description, or "(invalid campaign: why)", in buf;
 * 0 when it is not one. */
int campaign_describe(const char *path, char *buf, size_t n);

/* The `fotasim campaign` command; prog names the binary in replay lines. */
int cmd_campaign(int argc, char **argv, const char *prog);

#endif /* FOTASIM_CAMPAIGN_H */
