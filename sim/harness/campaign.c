/*
 * campaign: the covering-array generator and the campaign file (see
 * campaign.h and docs/campaign.md).
 *
 * Generator: greedy, AETG-style. While some t-way combination is still
 * open, build a few candidate rows, each grown from one open combination
 * (the first one, then random ones) by choosing, dimension after dimension
 * in file order, the value that closes the most open combinations with
 * the values already chosen; keep the candidate that closes the most. A
 * candidate is a depth-first search, so when the preferred value makes the
 * row invalid the next one is tried, and when no valid row holds the seed
 * combination the search proves it and the combination is listed as
 * impossible. Every open combination is either closed by a row or proven
 * impossible before the loop ends: that is the coverage guarantee.
 */
#define _POSIX_C_SOURCE 200809L
#include "campaign.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

/* ================================================================ generator */

enum { T_OPEN = 0, T_COVERED = 1, T_IMPOSSIBLE = 2 };

/* A row that confirm refused this many times for one seed combination
 * (each time a different row) makes the combination impossible: confirm
 * refusals (a run that cannot be built) cannot be searched for by prefix
 * the way check refusals are, and each costs a torture build. */
#define CONFIRM_TRIES 8

struct gen {
    const struct cover_spec *s;
    int n, t;
    const int *lv;
    /* Every set of t dimensions ("combo"), its first tuple index. */
    int ncombo;
    int (*cd)[COVER_MAX_STRENGTH];
    uint64_t *off;
    uint64_t ntuples;
    int *bydim_at, *bydim; /* combos holding each dimension */
    uint8_t *st;           /* per t-tuple: T_OPEN, T_COVERED, T_IMPOSSIBLE */
    uint8_t *tries;        /* per t-tuple: rows confirm refused for it */
    uint64_t open, first_open;
    uint64_t rng;
    /* The search in progress. */
    int row[COVER_MAX_DIMS];
    int fixed[COVER_MAX_DIMS];
    uint64_t tie[COVER_MAX_DIMS][COVER_MAX_LEVELS];
    uint64_t nodes, limit;
    char why[240]; /* the deepest refusal of the search: most likely the
                      one that makes the fixed values impossible */
    int why_depth;
    /* Rows confirm refused, and how often each value was in one: a
     * search for a combination whose rows were refused before tries the
     * values seen in fewer refused rows first, so it steers around the
     * value that most likely caused the refusal instead of rebuilding its
     * twin. Other searches stay greedy. */
    uint32_t refusals[COVER_MAX_DIMS][COVER_MAX_LEVELS];
    int steer; /* this search's combination was refused before */
    int *black;
    int nblack, capblack;
    int caprows, capimp;
    struct cover_result *res;
};

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const char *gname(const struct gen *g, int d, int v, char *buf, size_t n)
{
    const char *s = g->s->name ? g->s->name(g->s->user, d, v) : NULL;
    if (s)
        return s;
    snprintf(buf, n, v < 0 ? "d%d" : "%d", v < 0 ? d : v);
    return buf;
}

/* "dim=value dim=value" of a combination, for messages. */
static void combo_text(const struct gen *g, int n, const int *dim,
                       const int *val, char *buf, size_t len)
{
    size_t at = 0;
    int i;
    buf[0] = 0;
    for (i = 0; i < n && at < len; i++) {
        char a[16], b[16];
        at += (size_t)snprintf(buf + at, len - at, "%s%s=%s", i ? " " : "",
                               gname(g, dim[i], -1, a, sizeof(a)),
                               gname(g, dim[i], val[i], b, sizeof(b)));
    }
}

/* Combinations of k of n dimensions, lexicographic: first in c[]. */
static void comb_first(int *c, int k)
{
    int i;
    for (i = 0; i < k; i++)
        c[i] = i;
}

static int comb_next(int *c, int k, int n)
{
    int i = k - 1;
    while (i >= 0 && c[i] == n - k + i)
        i--;
    if (i < 0)
        return 0;
    c[i]++;
    for (i = i + 1; i < k; i++)
        c[i] = c[i - 1] + 1;
    return 1;
}

static uint64_t tuple_index(const struct gen *g, int c, const int *row)
{
    uint64_t idx = 0;
    int i;
    for (i = 0; i < g->t; i++)
        idx = idx * (uint64_t)g->lv[g->cd[c][i]] + (uint64_t)row[g->cd[c][i]];
    return g->off[c] + idx;
}

/* Tuple index -> its dimensions and values. */
static void tuple_decode(const struct gen *g, uint64_t id, int *dim, int *val)
{
    int lo = 0, hi = g->ncombo - 1, i;
    uint64_t r;
    while (lo < hi) { /* last combo with off <= id */
        int mid = (lo + hi + 1) / 2;
        if (g->off[mid] <= id)
            lo = mid;
        else
            hi = mid - 1;
    }
    r = id - g->off[lo];
    for (i = g->t - 1; i >= 0; i--) {
        int d = g->cd[lo][i];
        dim[i] = d;
        val[i] = (int)(r % (uint64_t)g->lv[d]);
        r /= (uint64_t)g->lv[d];
    }
}

static int known(const struct gen *g, int d, int k)
{
    return d <= k || g->fixed[d] >= 0;
}

/* Does an exclusion hold every value it names, all of them known once
 * dimension k is chosen? */
static const struct cover_exclude *excluded(const struct gen *g, int k)
{
    int e, i;
    for (e = 0; e < g->s->nexcludes; e++) {
        const struct cover_exclude *x = &g->s->excludes[e];
        for (i = 0; i < x->n; i++)
            if (!known(g, x->dim[i], k) || g->row[x->dim[i]] != x->val[i])
                break;
        if (i == x->n)
            return x;
    }
    return NULL;
}

/* Open t-tuples value v of dimension k would close, with the values known. */
static int score(const struct gen *g, int k, int v)
{
    int row[COVER_MAX_DIMS], i, j, s = 0;
    memcpy(row, g->row, sizeof(row));
    row[k] = v;
    for (i = g->bydim_at[k]; i < g->bydim_at[k + 1]; i++) {
        int c = g->bydim[i];
        for (j = 0; j < g->t; j++)
            if (!known(g, g->cd[c][j], k))
                break;
        if (j == g->t && g->st[tuple_index(g, c, row)] == T_OPEN)
            s++;
    }
    return s;
}

static int is_black(const struct gen *g, const int *row)
{
    int i;
    for (i = 0; i < g->nblack; i++)
        if (!memcmp(g->black + (size_t)i * (size_t)g->n, row,
                    (size_t)g->n * sizeof(int)))
            return 1;
    return 0;
}

/* Depth-first: choose dimension k, best value first. 1 found (g->row),
 * 0 no valid row with the fixed values, -1 node limit. */
static int dfs(struct gen *g, int k)
{
    int vals[COVER_MAX_LEVELS], sc[COVER_MAX_LEVELS], nv = 0, i, j;
    if (k == g->n) {
        if (is_black(g, g->row)) {
            if (!g->why[0])
                snprintf(g->why, sizeof(g->why), "refused when built");
            return 0;
        }
        return 1;
    }
    if (g->fixed[k] >= 0) {
        vals[nv] = g->fixed[k];
        sc[nv++] = 0;
    } else {
        for (i = 0; i < g->lv[k]; i++) {
            int s = score(g, k, i);
            /* Insertion: fewest refusals, then best score, then this
             * search's tie key. */
            for (j = nv; j > 0; j--) {
                int o = vals[j - 1];
                uint32_t ro = g->steer ? g->refusals[k][o] : 0,
                         ri = g->steer ? g->refusals[k][i] : 0;
                if (ro < ri || (ro == ri && sc[j - 1] > s) ||
                    (ro == ri && sc[j - 1] == s && g->tie[k][o] < g->tie[k][i]))
                    break;
                vals[j] = vals[j - 1];
                sc[j] = sc[j - 1];
            }
            vals[j] = i;
            sc[j] = s;
            nv++;
        }
    }
    for (i = 0; i < nv; i++) {
        const struct cover_exclude *x;
        char why[240];
        int r;
        g->row[k] = vals[i];
        if ((x = excluded(g, k))) {
            if (!g->why[0])
                snprintf(g->why, sizeof(g->why), "excluded: %s",
                         x->label ? x->label : "by the campaign");
            continue;
        }
        if (++g->nodes > g->limit)
            return -1;
        why[0] = 0;
        g->res->checks += g->s->check != NULL;
        if (g->s->check &&
            g->s->check(g->s->user, g->row, k + 1, why, sizeof(why))) {
            if (k > g->why_depth || !g->why[0]) {
                snprintf(g->why, sizeof(g->why), "%s",
                         why[0] ? why : "refused");
                g->why_depth = k;
            }
            continue;
        }
        r = dfs(g, k + 1);
        if (r)
            return r;
    }
    g->row[k] = g->fixed[k];
    return 0;
}

/* Search a valid row holding n fixed values. */
static int search(struct gen *g, int n, const int *dim, const int *val)
{
    int d, v;
    for (d = 0; d < g->n; d++) {
        g->fixed[d] = -1;
        for (v = 0; v < g->lv[d]; v++)
            g->tie[d][v] = splitmix(&g->rng);
    }
    for (d = 0; d < n; d++)
        g->fixed[dim[d]] = val[d];
    for (d = 0; d < g->n; d++)
        g->row[d] = g->fixed[d];
    g->nodes = 0;
    g->why[0] = 0;
    g->why_depth = -1;
    return dfs(g, 0);
}

static int add_black(struct gen *g, const int *row);

static int holds(int n, const int *dim, const int *val, int m, const int *mdim,
                 const int *mval)
{
    int i, j;
    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++)
            if (dim[j] == mdim[i] && val[j] == mval[i])
                break;
        if (j == n)
            return 0;
    }
    return 1;
}

static int add_impossible(struct gen *g, int n, const int *dim, const int *val,
                          const char *why)
{
    struct cover_result *r = g->res;
    struct cover_impossible *p;
    if (r->nimpossible == g->capimp) {
        int cap = g->capimp ? g->capimp * 2 : 16;
        p = realloc(r->imp, (size_t)cap * sizeof(*p));
        if (!p)
            return -1;
        r->imp = p;
        g->capimp = cap;
    }
    p = &r->imp[r->nimpossible++];
    memset(p, 0, sizeof(*p));
    p->n = n;
    memcpy(p->dim, dim, (size_t)n * sizeof(int));
    memcpy(p->val, val, (size_t)n * sizeof(int));
    snprintf(p->why, sizeof(p->why), "%s", why);
    return 0;
}

/* Impossible for a reason already known: a listed smaller combination or
 * an exclusion (listed the first time, when it names at most t values).
 * 1 yes, 0 no, -1 out of memory. */
static int implied(struct gen *g, int n, const int *dim, const int *val)
{
    const struct cover_result *r = g->res;
    int i;
    for (i = 0; i < r->nimpossible; i++)
        if (holds(n, dim, val, r->imp[i].n, r->imp[i].dim, r->imp[i].val))
            return 1;
    for (i = 0; i < g->s->nexcludes; i++) {
        const struct cover_exclude *x = &g->s->excludes[i];
        if (holds(n, dim, val, x->n, x->dim, x->val)) {
            char why[240];
            snprintf(why, sizeof(why), "excluded: %s",
                     x->label ? x->label : "by the campaign");
            if (x->n <= g->t && add_impossible(g, x->n, x->dim, x->val, why))
                return -1;
            return 1;
        }
    }
    return 0;
}

static int limit_error(struct gen *g, int n, const int *dim, const int *val,
                       char *err, size_t errlen)
{
    char what[200];
    combo_text(g, n, dim, val, what, sizeof(what));
    snprintf(err, errlen,
             "cannot decide whether a valid row holds %s within %llu "
             "checks: move the dimensions that refuse each other to the top "
             "of the file, or exclude the combination",
             what, (unsigned long long)g->limit);
    return -1;
}

/*
 * search(), and for single values also confirm the row found: a value
 * whose every row fails to build (a fault model the uncut update cannot
 * get through) is then listed once, not as every pair holding it, and its
 * refusals do not use up the tries of the pairs that hold it.
 * 1 found, 0 none, -1 node limit, -2 out of memory.
 */
static int confirmed_search(struct gen *g, int n, const int *dim,
                            const int *val)
{
    int tries, r;
    for (tries = 0;; tries++) {
        char why[240] = "";
        g->steer = tries > 0;
        r = search(g, n, dim, val);
        if (r <= 0 || n > 1 || !g->s->confirm)
            return r;
        g->res->confirms++;
        if (!g->s->confirm(g->s->user, g->row, why, sizeof(why)))
            return 1;
        g->res->refused++;
        if (add_black(g, g->row))
            return -2;
        if (tries + 1 == CONFIRM_TRIES) {
            snprintf(g->why, sizeof(g->why),
                     "%d rows holding it refused: %.200s", CONFIRM_TRIES,
                     why[0] ? why : "refused");
            return 0;
        }
    }
}

/* Combinations of fewer than t values that no valid row holds: listed as
 * such, so the t-way ones holding them are counted, not listed. */
static int small_impossibles(struct gen *g, char *err, size_t errlen)
{
    int o, c[COVER_MAX_STRENGTH], v[COVER_MAX_STRENGTH], i;
    for (o = 1; o < g->t; o++) {
        comb_first(c, o);
        do {
            for (i = 0; i < o; i++)
                v[i] = 0;
            for (;;) {
                int r = implied(g, o, c, v);
                if (r < 0)
                    goto oom;
                if (!r) {
                    r = confirmed_search(g, o, c, v);
                    if (r < 0)
                        return limit_error(g, o, c, v, err, errlen);
                    if (r == -2)
                        goto oom;
                    if (!r && add_impossible(g, o, c, v, g->why))
                        goto oom;
                }
                for (i = o - 1; i >= 0 && ++v[i] == g->lv[c[i]]; i--)
                    v[i] = 0;
                if (i < 0)
                    break;
            }
        } while (comb_next(c, o, g->n));
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int setup(struct gen *g, char *err, size_t errlen)
{
    int c[COVER_MAX_STRENGTH], i, k, d;
    uint64_t off = 0;

    g->ncombo = 0;
    comb_first(c, g->t);
    do
        g->ncombo++;
    while (comb_next(c, g->t, g->n));
    g->cd = calloc((size_t)g->ncombo, sizeof(*g->cd));
    g->off = calloc((size_t)g->ncombo + 1, sizeof(*g->off));
    g->bydim_at = calloc((size_t)g->n + 1, sizeof(int));
    g->bydim = calloc((size_t)g->ncombo * (size_t)g->t + 1, sizeof(int));
    if (!g->cd || !g->off || !g->bydim_at || !g->bydim)
        goto oom;
    comb_first(c, g->t);
    for (k = 0; k < g->ncombo; k++) {
        uint64_t size = 1;
        for (i = 0; i < g->t; i++) {
            g->cd[k][i] = c[i];
            size *= (uint64_t)g->lv[c[i]];
        }
        g->off[k] = off;
        off += size;
        comb_next(c, g->t, g->n);
    }
    g->off[g->ncombo] = off;
    g->ntuples = off;
    /* Combos by dimension, for scoring one value. */
    for (k = 0; k < g->ncombo; k++)
        for (i = 0; i < g->t; i++)
            g->bydim_at[g->cd[k][i] + 1]++;
    for (d = 0; d < g->n; d++)
        g->bydim_at[d + 1] += g->bydim_at[d];
    {
        int *fill = calloc((size_t)g->n, sizeof(int));
        if (!fill)
            goto oom;
        for (k = 0; k < g->ncombo; k++)
            for (i = 0; i < g->t; i++) {
                d = g->cd[k][i];
                g->bydim[g->bydim_at[d] + fill[d]++] = k;
            }
        free(fill);
    }
    g->st = calloc(g->ntuples + 1, 1);
    g->tries = calloc(g->ntuples + 1, 1);
    if (!g->st || !g->tries)
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void close_row(struct gen *g, const int *row)
{
    int c;
    for (c = 0; c < g->ncombo; c++) {
        uint64_t id = tuple_index(g, c, row);
        if (g->st[id] == T_OPEN) {
            g->st[id] = T_COVERED;
            g->open--;
        }
    }
}

static int gain(const struct gen *g, const int *row)
{
    int c, n = 0;
    for (c = 0; c < g->ncombo; c++)
        n += g->st[tuple_index(g, c, row)] == T_OPEN;
    return n;
}

static int add_row(struct gen *g, const int *row)
{
    struct cover_result *r = g->res;
    if (r->nrows == g->caprows) {
        int cap = g->caprows ? g->caprows * 2 : 32;
        int *p = realloc(r->rows, (size_t)cap * (size_t)g->n * sizeof(int));
        if (!p)
            return -1;
        r->rows = p;
        g->caprows = cap;
    }
    memcpy(r->rows + (size_t)r->nrows * (size_t)g->n, row,
           (size_t)g->n * sizeof(int));
    r->nrows++;
    close_row(g, row);
    return 0;
}

static int add_black(struct gen *g, const int *row)
{
    int d;
    for (d = 0; d < g->n; d++)
        g->refusals[d][row[d]]++;
    if (g->nblack == g->capblack) {
        int cap = g->capblack ? g->capblack * 2 : 16;
        int *p = realloc(g->black, (size_t)cap * (size_t)g->n * sizeof(int));
        if (!p)
            return -1;
        g->black = p;
        g->capblack = cap;
    }
    memcpy(g->black + (size_t)g->nblack * (size_t)g->n, row,
           (size_t)g->n * sizeof(int));
    g->nblack++;
    return 0;
}

static int mark_impossible(struct gen *g, uint64_t id, const char *why)
{
    int dim[COVER_MAX_STRENGTH], val[COVER_MAX_STRENGTH];
    if (g->st[id] != T_OPEN)
        return 0;
    g->st[id] = T_IMPOSSIBLE;
    g->open--;
    tuple_decode(g, id, dim, val);
    return add_impossible(g, g->t, dim, val, why);
}

static uint64_t pick_open(struct gen *g, int first)
{
    uint64_t id;
    if (first) {
        while (g->st[g->first_open] != T_OPEN)
            g->first_open++;
        return g->first_open;
    }
    id = splitmix(&g->rng) % g->ntuples;
    while (g->st[id] != T_OPEN)
        id = id + 1 == g->ntuples ? 0 : id + 1;
    return id;
}

int cover_generate(const struct cover_spec *spec, struct cover_result *out,
                   char *err, size_t errlen)
{
    struct gen g;
    int m = spec->candidates > 0 ? spec->candidates : 16, d, rc = -1;
    int *cand = NULL, *cgain = NULL, *corder = NULL;
    uint64_t *cseed = NULL, id;

    memset(out, 0, sizeof(*out));
    memset(&g, 0, sizeof(g));
    if (spec->ndims < 1 || spec->ndims > COVER_MAX_DIMS || spec->strength < 1 ||
        spec->strength > COVER_MAX_STRENGTH || spec->strength > spec->ndims) {
        snprintf(err, errlen,
                 "strength %d over %d dimensions: need 1 <= strength <= %d "
                 "and at most %d dimensions",
                 spec->strength, spec->ndims, COVER_MAX_STRENGTH,
                 COVER_MAX_DIMS);
        return -1;
    }
    for (d = 0; d < spec->ndims; d++)
        if (spec->levels[d] < 1 || spec->levels[d] > COVER_MAX_LEVELS) {
            snprintf(err, errlen, "dimension %d: %d values (1 to %d)", d,
                     spec->levels[d], COVER_MAX_LEVELS);
            return -1;
        }
    g.s = spec;
    g.n = spec->ndims;
    g.t = spec->strength;
    g.lv = spec->levels;
    g.rng = spec->seed ^ 0x636F766572ull; /* "cover" */
    g.limit = spec->node_limit ? spec->node_limit : 200000;
    g.res = out;
    out->ndims = g.n;
    if (setup(&g, err, errlen))
        goto done;
    if (small_impossibles(&g, err, errlen))
        goto done;
    /* t-way combinations impossible for a known reason. */
    for (id = 0; id < g.ntuples; id++) {
        int dim[COVER_MAX_STRENGTH], val[COVER_MAX_STRENGTH], r;
        tuple_decode(&g, id, dim, val);
        r = implied(&g, g.t, dim, val);
        if (r < 0)
            goto oom;
        g.st[id] = r ? T_IMPOSSIBLE : T_OPEN;
        g.open += !r;
    }
    cand = malloc((size_t)m * (size_t)g.n * sizeof(int));
    cgain = malloc((size_t)m * sizeof(int));
    corder = malloc((size_t)m * sizeof(int));
    cseed = malloc((size_t)m * sizeof(uint64_t));
    if (!cand || !cgain || !corder || !cseed)
        goto oom;

    while (g.open) {
        int nc = 0, c, i, j;
        for (c = 0; c < m && g.open; c++) {
            int dim[COVER_MAX_STRENGTH], val[COVER_MAX_STRENGTH], r;
            uint64_t s = pick_open(&g, c == 0);
            tuple_decode(&g, s, dim, val);
            g.steer = g.tries[s] > 0;
            r = search(&g, g.t, dim, val);
            if (r < 0) {
                limit_error(&g, g.t, dim, val, err, errlen);
                goto done;
            }
            if (!r) {
                if (mark_impossible(&g, s, g.why))
                    goto oom;
                continue;
            }
            for (i = 0; i < nc; i++)
                if (!memcmp(cand + (size_t)i * (size_t)g.n, g.row,
                            (size_t)g.n * sizeof(int)))
                    break;
            if (i < nc)
                continue;
            memcpy(cand + (size_t)nc * (size_t)g.n, g.row,
                   (size_t)g.n * sizeof(int));
            cgain[nc] = gain(&g, g.row);
            cseed[nc] = s;
            /* Best first; among equals, the earlier candidate. */
            for (j = nc; j > 0 && cgain[corder[j - 1]] < cgain[nc]; j--)
                corder[j] = corder[j - 1];
            corder[j] = nc;
            nc++;
        }
        for (i = 0; i < nc; i++) {
            const int *row = cand + (size_t)corder[i] * (size_t)g.n;
            uint64_t s = cseed[corder[i]];
            char why[240] = "";
            if (spec->confirm) {
                out->confirms++;
                if (spec->confirm(spec->user, row, why, sizeof(why))) {
                    char msg[240];
                    out->refused++;
                    if (add_black(&g, row))
                        goto oom;
                    snprintf(msg, sizeof(msg),
                             "%d rows holding it refused: %.200s",
                             CONFIRM_TRIES, why[0] ? why : "refused");
                    if (++g.tries[s] >= CONFIRM_TRIES &&
                        mark_impossible(&g, s, msg))
                        goto oom;
                    continue;
                }
            }
            if (add_row(&g, row))
                goto oom;
            break;
        }
    }
    for (id = 0; id < g.ntuples; id++) {
        out->covered += g.st[id] == T_COVERED;
        out->impossible += g.st[id] == T_IMPOSSIBLE;
    }
    out->tuples = g.ntuples;
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
done:
    free(cand);
    free(cgain);
    free(corder);
    free(cseed);
    free(g.cd);
    free(g.off);
    free(g.bydim_at);
    free(g.bydim);
    free(g.st);
    free(g.tries);
    free(g.black);
    if (rc)
        cover_free(out);
    return rc;
}

void cover_free(struct cover_result *r)
{
    free(r->rows);
    free(r->imp);
    r->rows = NULL;
    r->imp = NULL;
    r->nrows = r->nimpossible = 0;
}

/* ================================================================ file */

/* inih hands each key to the handler; the reader feeds it one line at a
 * time and counts, so every error names file:line (as scenario.c does). */
struct combo_line {
    char label[64];
    char text[200];
    int line;
};

struct cparse {
    struct campaign *c;
    const char *text;
    int line;
    int long_line, max_line;
    int failed;
    char *err;
    size_t errlen;
    char cur[80];      /* section of the previous key */
    char seen[64][80]; /* sections already closed */
    int nseen;
    /* [exclude] and [impossible] lines, resolved once every dimension
     * is known. */
    struct combo_line ex[32], im[32];
    int nex, nim;
    int line_of_base, line_of_strength;
};

static void cerr(struct cparse *p, int line, const char *sec, const char *key,
                 const char *fmt, ...)
{
    va_list ap;
    int n;
    if (p->failed)
        return;
    p->failed = 1;
    if (line > 0)
        n = snprintf(p->err, p->errlen, "%s:%d: %s%s%s: ", p->c->path, line,
                     sec, *sec ? "." : "", key);
    else
        n = snprintf(p->err, p->errlen, "%s: %s%s%s: ", p->c->path, sec,
                     *sec ? "." : "", key);
    if (n < 0 || (size_t)n >= p->errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static char *creader(char *str, int num, void *stream)
{
    struct cparse *p = stream;
    const char *nl;
    size_t n, full;
    if (!*p->text)
        return NULL;
    nl = strchr(p->text, '\n');
    full = n = nl ? (size_t)(nl - p->text) + 1 : strlen(p->text);
    if (n >= (size_t)num) {
        n = (size_t)num - 1;
        p->max_line = num - 2;
        p->long_line = p->line + 1;
    }
    memcpy(str, p->text, n);
    str[n] = 0;
    p->text += full;
    p->line++;
    return str;
}

/* Names of dimensions and values: letters, digits, _ - + . < > */
static int good_name(const char *s, size_t max)
{
    size_t n = strlen(s), i;
    if (!n || n >= max)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_-+.<>", s[i]))
            return 0;
    return 1;
}

static int parse_count(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long n;
    if (!isdigit((unsigned char)*v))
        return -1;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

int campaign_parse_duration(const char *v, uint64_t *ns)
{
    char *end;
    double d, mul = 1e9;
    if (!isdigit((unsigned char)*v) && *v != '.')
        return -1;
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || d < 0)
        return -1;
    if (!strcmp(end, "ms"))
        mul = 1e6;
    else if (!strcmp(end, "s") || !*end)
        mul = 1e9;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mul = 60e9;
    else if (!strcmp(end, "h"))
        mul = 3600e9;
    else
        return -1;
    if (d * mul > 1e18)
        return -1;
    *ns = (uint64_t)(d * mul);
    return 0;
}

/* One "section.key=value" of a value line. */
static int parse_assign(struct cparse *p, const char *sec, const char *key,
                        const char *w, struct campaign_assign *a)
{
    const char *dot = strchr(w, '.'), *eq = strchr(w, '=');
    const char *v;
    size_t kn;
    memset(a, 0, sizeof(*a));
    if (!dot || !eq || dot > eq || dot == w || eq == dot + 1) {
        cerr(p, p->line, sec, key, "'%s' is not section.key=value", w);
        return -1;
    }
    kn = (size_t)(eq - w);
    v = eq + 1;
    if (kn >= sizeof(a->key) || strlen(v) >= sizeof(a->value)) {
        cerr(p, p->line, sec, key, "'%s' is too long", w);
        return -1;
    }
    memcpy(a->key, w, kn);
    a->key[kn] = 0;
    snprintf(a->value, sizeof(a->value), "%s", v);
    if (!*v) {
        cerr(p, p->line, sec, key, "%s: no value", a->key);
        return -1;
    }
    a->geometry = !strcmp(a->key, "device.preset") ||
                  !strcmp(a->key, "device.erase_size") ||
                  !strcmp(a->key, "device.prog_size");
    if (!strncmp(v, "${", 2)) {
        const char *close = strchr(v, '}'), *rest;
        size_t nn = close ? (size_t)(close - v - 2) : 0;
        if (close && nn == 10 && !strncmp(v + 2, "erase_size", 10))
            a->ref = REF_ERASE_SIZE;
        else if (close && nn == 9 && !strncmp(v + 2, "prog_size", 9))
            a->ref = REF_PROG_SIZE;
        else {
            cerr(p, p->line, sec, key,
                 "%s: '%s': a reference is ${erase_size} or ${prog_size}",
                 a->key, v);
            return -1;
        }
        rest = close + 1;
        if (*rest) {
            uint64_t k;
            if ((*rest != '*' && *rest != '/') ||
                parse_count(rest + 1, 1, 1u << 20, &k)) {
                cerr(p, p->line, sec, key,
                     "%s: '%s': after the reference only *N or /N (N a "
                     "whole number from 1)",
                     a->key, v);
                return -1;
            }
            a->op = *rest;
            a->operand = (uint32_t)k;
        }
    } else if (strchr(v, '$')) {
        cerr(p, p->line, sec, key,
             "%s: '%s': a reference is the whole value: ${erase_size}, "
             "${prog_size}, optionally *N or /N",
             a->key, v);
        return -1;
    }
    return 0;
}

static struct campaign_dim *find_dim(struct campaign *c, const char *name)
{
    int i;
    for (i = 0; i < c->ndims; i++)
        if (!strcmp(c->dims[i].name, name))
            return &c->dims[i];
    return NULL;
}

static int key_campaign(struct cparse *p, const char *key, const char *v)
{
    struct campaign *c = p->c;
    uint64_t n;
    if (!strcmp(key, "name")) {
        if (!good_name(v, sizeof(c->name))) {
            cerr(p, p->line, "campaign", key,
                 "'%s': 1 to %zu letters, digits or _-+.", v,
                 sizeof(c->name) - 1);
            return -1;
        }
        snprintf(c->name, sizeof(c->name), "%s", v);
    } else if (!strcmp(key, "description")) {
        snprintf(c->description, sizeof(c->description), "%s", v);
    } else if (!strcmp(key, "base")) {
        const char *slash = strrchr(c->path, '/');
        int dn = slash ? (int)(slash - c->path) : 0;
        size_t len;
        /* Relative to the campaign file, so it runs from anywhere. */
        if (v[0] == '/' || !dn)
            len = (size_t)snprintf(c->base_path, sizeof(c->base_path), "%s", v);
        else
            len = (size_t)snprintf(c->base_path, sizeof(c->base_path),
                                   "%.*s/%s", dn, c->path, v);
        if (len >= sizeof(c->base_path) || !*v) {
            cerr(p, p->line, "campaign", key, "path empty or too long");
            return -1;
        }
        p->line_of_base = p->line;
    } else if (!strcmp(key, "strength")) {
        if (parse_count(v, 1, COVER_MAX_STRENGTH, &n)) {
            cerr(p, p->line, "campaign", key, "'%s' is not 1 to %d", v,
                 COVER_MAX_STRENGTH);
            return -1;
        }
        c->strength = (int)n;
        p->line_of_strength = p->line;
    } else if (!strcmp(key, "seed")) {
        if (parse_count(v, 0, UINT64_MAX, &n)) {
            cerr(p, p->line, "campaign", key, "'%s' is not a whole number", v);
            return -1;
        }
        c->seed = n;
    } else if (!strcmp(key, "candidates")) {
        if (parse_count(v, 1, 1000, &n)) {
            cerr(p, p->line, "campaign", key, "'%s' is not 1 to 1000", v);
            return -1;
        }
        c->candidates = (int)n;
    } else if (!strcmp(key, "budget")) {
        if (campaign_parse_duration(v, &c->budget_ns) || !c->budget_ns) {
            cerr(p, p->line, "campaign", key,
                 "'%s' is not a duration above 0 (150s, 2.5m, 1h)", v);
            return -1;
        }
    } else if (!strcmp(key, "min_trials")) {
        if (parse_count(v, 1, 100000000, &n)) {
            cerr(p, p->line, "campaign", key, "'%s' is not 1 to 100000000", v);
            return -1;
        }
        c->min_trials = (uint32_t)n;
    } else {
        cerr(p, p->line, "campaign", key,
             "unknown key (one of name|description|base|strength|seed|"
             "candidates|budget|min_trials)");
        return -1;
    }
    return 0;
}

static int key_dim(struct cparse *p, const char *sec, const char *dname,
                   const char *key, const char *v)
{
    struct campaign *c = p->c;
    struct campaign_dim *d = find_dim(c, dname);
    struct campaign_value *val;
    char words[200], *save = NULL, *w;
    int i;

    if (!good_name(dname, sizeof(d->name))) {
        cerr(p, p->line, sec, key,
             "dimension name '%s': 1 to 31 letters, digits or _-+.<>", dname);
        return -1;
    }
    if (!d) {
        if (c->ndims == COVER_MAX_DIMS) {
            cerr(p, p->line, sec, key, "more than %d dimensions",
                 COVER_MAX_DIMS);
            return -1;
        }
        d = &c->dims[c->ndims++];
        memset(d, 0, sizeof(*d));
        snprintf(d->name, sizeof(d->name), "%s", dname);
        d->line = p->line;
    }
    if (!good_name(key, sizeof(val->name))) {
        cerr(p, p->line, sec, key,
             "value name: 1 to 31 letters, digits or _-+.<>");
        return -1;
    }
    for (i = 0; i < d->nvalues; i++)
        if (!strcmp(d->v[i].name, key)) {
            cerr(p, p->line, sec, key, "value named twice (line %d)",
                 d->v[i].line);
            return -1;
        }
    if (d->nvalues == COVER_MAX_LEVELS) {
        cerr(p, p->line, sec, key, "more than %d values", COVER_MAX_LEVELS);
        return -1;
    }
    val = &d->v[d->nvalues++];
    memset(val, 0, sizeof(*val));
    snprintf(val->name, sizeof(val->name), "%s", key);
    val->line = p->line;
    if (strlen(v) >= sizeof(words)) {
        cerr(p, p->line, sec, key, "value line too long");
        return -1;
    }
    snprintf(words, sizeof(words), "%s", v);
    /* Whitespace separates assignments; "-" alone is the base as it is. */
    for (w = strtok_r(words, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save)) {
        if (!strcmp(w, "-") && !val->nassign && !strtok_r(NULL, " \t", &save))
            break;
        if (val->nassign == CAMPAIGN_MAX_ASSIGN) {
            cerr(p, p->line, sec, key, "more than %d assignments",
                 CAMPAIGN_MAX_ASSIGN);
            return -1;
        }
        if (parse_assign(p, sec, key, w, &val->a[val->nassign]))
            return -1;
        val->nassign++;
    }
    return 0;
}

static int handler(void *user, const char *sec, const char *key, const char *v)
{
    struct cparse *p = user;
    int i;
    if (p->failed)
        return 0;
    if (p->long_line && p->line == p->long_line) {
        cerr(p, p->line, sec, key, "line longer than %d characters",
             p->max_line);
        return 0;
    }
    /* A section given twice would split a dimension's values. */
    if (strcmp(p->cur, sec)) {
        for (i = 0; i < p->nseen; i++)
            if (!strcmp(p->seen[i], sec)) {
                cerr(p, p->line, sec, key,
                     "section [%s] again: give each section once", sec);
                return 0;
            }
        if (p->cur[0] && p->nseen < 64)
            snprintf(p->seen[p->nseen++], sizeof(p->seen[0]), "%s", p->cur);
        snprintf(p->cur, sizeof(p->cur), "%s", sec);
    }
    if (!*sec)
        cerr(p, p->line, sec, key, "key before any [section]");
    else if (!strcmp(sec, "campaign"))
        key_campaign(p, key, v);
    else if (!strncmp(sec, "dim ", 4))
        key_dim(p, sec, sec + 4, key, v);
    else if (!strcmp(sec, "exclude") || !strcmp(sec, "impossible")) {
        int ex = !strcmp(sec, "exclude");
        int *n = ex ? &p->nex : &p->nim;
        if (*n == 32) {
            cerr(p, p->line, sec, key, "more than 32 lines in [%s]", sec);
            return 0;
        }
        if (strlen(key) >= sizeof(p->ex[0].label) ||
            strlen(v) >= sizeof(p->ex[0].text) || !*v) {
            cerr(p, p->line, sec, key,
                 "expected LABEL = dim=value dim=value ...");
            return 0;
        }
        snprintf((ex ? p->ex : p->im)[*n].label, sizeof(p->ex[0].label), "%s",
                 key);
        snprintf((ex ? p->ex : p->im)[*n].text, sizeof(p->ex[0].text), "%s",
                 v);
        (ex ? p->ex : p->im)[(*n)++].line = p->line;
    } else
        cerr(p, p->line, sec, key,
             "unknown section [%s] (one of campaign|dim NAME|exclude|"
             "impossible)",
             sec);
    return !p->failed;
}

/* [exclude] or [impossible] lines into combinations of value indices. */
static int resolve_combos(struct cparse *p, const char *sec, int n,
                          const struct combo_line *src,
                          struct cover_exclude *out, char (*labels)[320],
                          int *lines)
{
    struct campaign *c = p->c;
    int e;
    for (e = 0; e < n; e++) {
        struct cover_exclude *x = &out[e];
        char words[200], *save = NULL, *w;
        memset(x, 0, sizeof(*x));
        snprintf(words, sizeof(words), "%s", src[e].text);
        for (w = strtok_r(words, " \t", &save); w;
             w = strtok_r(NULL, " \t", &save)) {
            char *eq = strchr(w, '=');
            struct campaign_dim *d;
            int i, v = -1;
            if (!eq) {
                cerr(p, src[e].line, sec, src[e].label,
                     "'%s' is not dim=value", w);
                return -1;
            }
            *eq = 0;
            d = find_dim(c, w);
            if (!d) {
                cerr(p, src[e].line, sec, src[e].label, "no dimension '%s'",
                     w);
                return -1;
            }
            for (i = 0; i < d->nvalues; i++)
                if (!strcmp(d->v[i].name, eq + 1))
                    v = i;
            if (v < 0) {
                cerr(p, src[e].line, sec, src[e].label,
                     "dimension %s has no value '%s'", w, eq + 1);
                return -1;
            }
            for (i = 0; i < x->n; i++)
                if (x->dim[i] == (int)(d - c->dims)) {
                    cerr(p, src[e].line, sec, src[e].label,
                         "dimension %s named twice", w);
                    return -1;
                }
            if (x->n == COVER_MAX_EXCLUDE) {
                cerr(p, src[e].line, sec, src[e].label, "more than %d values",
                     COVER_MAX_EXCLUDE);
                return -1;
            }
            x->dim[x->n] = (int)(d - c->dims);
            x->val[x->n++] = v;
        }
        snprintf(labels[e], sizeof(labels[0]), "%.63s (%.240s:%d)",
                 src[e].label, c->path, src[e].line);
        /* The label lives in the campaign: the pointer stays valid. */
        x->label = labels[e];
        lines[e] = src[e].line;
    }
    return 0;
}

static int resolve_excludes(struct cparse *p)
{
    struct campaign *c = p->c;
    if (resolve_combos(p, "exclude", p->nex, p->ex, c->excludes,
                       c->exclude_label, c->exclude_line) ||
        resolve_combos(p, "impossible", p->nim, p->im, c->impossibles,
                       c->impossible_label, c->impossible_line))
        return -1;
    c->nexcludes = p->nex;
    c->nimpossibles = p->nim;
    return 0;
}

/* Does combination x hold every value of y? */
static int holds_all(const struct cover_impossible *x,
                     const struct cover_exclude *y)
{
    int i, j;
    for (i = 0; i < y->n; i++) {
        for (j = 0; j < x->n; j++)
            if (x->dim[j] == y->dim[i] && x->val[j] == y->val[i])
                break;
        if (j == x->n)
            return 0;
    }
    return 1;
}

const char *campaign_declared(const struct campaign *c,
                              const struct cover_impossible *x)
{
    int i;
    for (i = 0; i < c->nexcludes; i++)
        if (holds_all(x, &c->excludes[i]))
            return c->excludes[i].label;
    for (i = 0; i < c->nimpossibles; i++)
        if (holds_all(x, &c->impossibles[i]))
            return c->impossibles[i].label;
    return NULL;
}

int campaign_stale_impossible(const struct campaign *c,
                              const struct cover_result *r, int from)
{
    int i, k, j;
    /* Stale: a run holds every value the line names. */
    for (i = from < 0 ? 0 : from; i < c->nimpossibles; i++) {
        const struct cover_exclude *y = &c->impossibles[i];
        for (k = 0; k < r->nrows; k++) {
            const int *row = r->rows + (size_t)k * (size_t)r->ndims;
            for (j = 0; j < y->n && row[y->dim[j]] == y->val[j]; j++)
                ;
            if (j == y->n)
                return i;
        }
    }
    return -1;
}

/* A ${...} value against the scenario as it stands. */
static int resolve(const struct campaign_assign *a, const struct scenario *sc,
                   char *out, size_t n, char *why, size_t whylen)
{
    uint64_t base, v;
    if (a->ref == REF_NONE) {
        snprintf(out, n, "%s", a->value);
        return 0;
    }
    base = a->ref == REF_ERASE_SIZE ? sc->device.geo.erase_size
                                    : sc->device.geo.prog_size;
    v = base;
    if (a->op == '*')
        v = base * a->operand;
    else if (a->op == '/') {
        if (base % a->operand) {
            snprintf(why, whylen, "%s=%s: %llu/%u is not a whole number",
                     a->key, a->value, (unsigned long long)base, a->operand);
            return -1;
        }
        v = base / a->operand;
    }
    if (!v || v > UINT32_MAX) {
        snprintf(why, whylen, "%s=%s: %llu is out of range", a->key, a->value,
                 (unsigned long long)v);
        return -1;
    }
    snprintf(out, n, "%llu", (unsigned long long)v);
    return 0;
}

/* Apply one value of dimension d to sc; text (may be NULL) receives the
 * resolved assignments as INI lines. */
struct tbuf {
    char *s;
    size_t n, cap;
    int oom;
};

static void tb_add(struct tbuf *b, const char *fmt, ...)
{
    va_list ap;
    int k;
    if (!b || b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        {
            size_t cap = b->cap * 2 + (size_t)k + 256;
            char *s = realloc(b->s, cap);
            if (!s) {
                b->oom = 1;
                return;
            }
            b->s = s;
            b->cap = cap;
        }
    }
}

static int apply_assign(struct scenario *sc, const char *key, const char *val,
                        struct tbuf *text, char *why, size_t whylen)
{
    char set[200], err[512];
    const char *dot = strchr(key, '.');
    snprintf(set, sizeof(set), "%s=%s", key, val);
    if (scenario_set(sc, set, err, sizeof(err))) {
        snprintf(why, whylen, "%s", err);
        return -1;
    }
    tb_add(text, "[%.*s]\n%s = %s\n", (int)(dot - key), key, dot + 1, val);
    return 0;
}

static int apply_value(const struct campaign *c, int d, int v,
                       struct scenario *sc, struct tbuf *text, char *why,
                       size_t whylen)
{
    const struct campaign_value *val = &c->dims[d].v[v];
    int i;
    for (i = 0; i < val->nassign; i++) {
        char resolved[96], w[520];
        if (resolve(&val->a[i], sc, resolved, sizeof(resolved), w, sizeof(w)) ||
            apply_assign(sc, val->a[i].key, resolved, text, w, sizeof(w))) {
            snprintf(why, whylen, "%s=%s: %s", c->dims[d].name, val->name, w);
            return -1;
        }
    }
    return 0;
}

/* The file's checks once every line is read. */
static int check_campaign(struct cparse *p)
{
    struct campaign *c = p->c;
    int d, v, i, ref_dim = -1, ref_line = 0;
    char err[512];

    if (!c->base_path[0]) {
        cerr(p, 0, "campaign", "base", "missing: the base scenario to vary");
        return -1;
    }
    if (!c->ndims) {
        cerr(p, 0, "campaign", "dim",
             "no [dim NAME] section: nothing to combine");
        return -1;
    }
    /* The default strength, 2, on a one-dimension campaign: each value. */
    if (!p->line_of_strength && c->strength > c->ndims)
        c->strength = c->ndims;
    if (c->strength > c->ndims) {
        cerr(p, p->line_of_strength, "campaign", "strength",
             "%d, but only %d dimensions", c->strength, c->ndims);
        return -1;
    }
    if (scenario_load(&c->base, c->base_path, err, sizeof(err))) {
        cerr(p, p->line_of_base, "campaign", "base", "%s", err);
        return -1;
    }
    c->base_loaded = 1;
    for (d = 0; d < c->ndims; d++) {
        struct campaign_dim *dm = &c->dims[d];
        char sec[48];
        snprintf(sec, sizeof(sec), "dim %s", dm->name);
        for (v = 0; v < dm->nvalues; v++) {
            struct campaign_value *val = &dm->v[v];
            int seen_ref = 0;
            for (i = 0; i < val->nassign; i++) {
                struct campaign_assign *a = &val->a[i];
                struct scenario tmp = c->base;
                char resolved[96], why[256];
                /*
                 * The order rule: a ${...} reads the device geometry, so
                 * nothing applied after it may change that geometry (a
                 * later dimension, or a later word of the same value).
                 * The reference then sees what the whole row sets.
                 */
                if (a->geometry &&
                    (seen_ref || (ref_dim >= 0 && ref_dim < d))) {
                    cerr(p, val->line, sec, val->name,
                         "%s comes after a ${...} reference (line %d) that "
                         "must see the final geometry: put the dimensions "
                         "that change the device first",
                         a->key, seen_ref ? val->line : ref_line);
                    return -1;
                }
                if (a->ref) {
                    seen_ref = 1;
                    if (ref_dim < 0) {
                        ref_dim = d;
                        ref_line = val->line;
                    }
                }
                /* A key the scenario does not know is a typo, not a
                 * constraint: refuse the file. Other refusals depend on
                 * the rest of the row and make combinations impossible. */
                if (resolve(a, &tmp, resolved, sizeof(resolved), why,
                            sizeof(why)))
                    snprintf(resolved, sizeof(resolved), "1");
                {
                    char set[200];
                    snprintf(set, sizeof(set), "%s=%s", a->key, resolved);
                    if (scenario_set(&tmp, set, err, sizeof(err)) &&
                        (strstr(err, ": unknown key") ||
                         strstr(err, ": unknown section") ||
                         strstr(err, "expected section.key=value"))) {
                        cerr(p, val->line, sec, val->name, "%s", err);
                        return -1;
                    }
                }
            }
        }
    }
    return resolve_excludes(p);
}

int campaign_load(struct campaign *c, const char *path, char *err,
                  size_t errlen)
{
    struct cparse *p;
    FILE *fp;
    char *text = NULL;
    size_t n = 0, cap = 0, got;
    const char *slash, *dot;
    int rc;

    memset(c, 0, sizeof(*c));
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->strength = 2;
    c->seed = 1;
    c->candidates = 16;
    c->budget_ns = 60ull * 1000000000ull;
    c->min_trials = 50;
    /* Default name: the file's, without folder and .ini. */
    slash = strrchr(path, '/');
    slash = slash ? slash + 1 : path;
    dot = strrchr(slash, '.');
    snprintf(c->name, sizeof(c->name), "%.*s",
             (int)(dot ? (size_t)(dot - slash) : strlen(slash)), slash);
    if (!good_name(c->name, sizeof(c->name)))
        snprintf(c->name, sizeof(c->name), "campaign");
    c->dims = calloc(COVER_MAX_DIMS, sizeof(*c->dims));
    p = calloc(1, sizeof(*p));
    if (!c->dims || !p) {
        free(p);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        free(p);
        return -1;
    }
    do {
        if (cap - n < 4096) {
            char *bigger = realloc(text, cap = cap ? cap * 2 : 8192);
            if (!bigger) {
                free(text);
                fclose(fp);
                free(p);
                snprintf(err, errlen, "%s: out of memory", path);
                return -1;
            }
            text = bigger;
        }
        got = fread(text + n, 1, cap - n - 1, fp);
        n += got;
    } while (got);
    fclose(fp);
    text[n] = 0;
    if (strlen(text) != n) {
        snprintf(err, errlen, "%s: not a text file (NUL byte)", path);
        free(text);
        free(p);
        return -1;
    }
    p->c = c;
    p->text = text;
    p->err = err;
    p->errlen = errlen;
    rc = ini_parse_stream(creader, p, handler, p);
    if (rc > 0 && !p->failed) {
        snprintf(err, errlen,
                 "%s:%d: syntax: expected [section] or key = value", path, rc);
        p->failed = 1;
    } else if (rc < 0 && !p->failed) {
        snprintf(err, errlen, "%s: out of memory", path);
        p->failed = 1;
    }
    if (!p->failed)
        check_campaign(p);
    rc = p->failed ? -1 : 0;
    free(text);
    free(p);
    return rc;
}

void campaign_free(struct campaign *c)
{
    if (c->base_loaded)
        scenario_free(&c->base);
    c->base_loaded = 0;
    free(c->dims);
    c->dims = NULL;
}

void campaign_row_text(const struct campaign *c, const int *row, char *buf,
                       size_t n)
{
    size_t at = 0;
    int d;
    buf[0] = 0;
    for (d = 0; d < c->ndims && at < n; d++)
        at += (size_t)snprintf(buf + at, n - at, "%s%s=%s", d ? " " : "",
                               c->dims[d].name, c->dims[d].v[row[d]].name);
}

int campaign_scenario(const struct campaign *c, const int *row,
                      const char *const *extra, struct scenario *out, char *why,
                      size_t whylen)
{
    struct scenario st = c->base;
    struct tbuf text = {NULL, 0, 0, 0};
    char err[512];
    size_t blen = strlen(c->base.text);
    int d, i, rc = -1;

    memset(out, 0, sizeof(*out));
    tb_add(&text, "%s%s", c->base.text,
           blen && c->base.text[blen - 1] != '\n' ? "\n" : "");
    /* Who made this scenario, one dimension a line (lines are short). */
    tb_add(&text, "\n; campaign %s (%s), one row:\n", c->name, c->path);
    for (d = 0; d < c->ndims; d++)
        tb_add(&text, ";   %s = %s\n", c->dims[d].name,
               c->dims[d].v[row[d]].name);
    for (d = 0; d < c->ndims; d++)
        if (apply_value(c, d, row[d], &st, &text, why, whylen))
            goto done;
    for (i = 0; extra && extra[i]; i++) {
        const char *eq = strchr(extra[i], '=');
        char key[64];
        if (!eq || (size_t)(eq - extra[i]) >= sizeof(key)) {
            snprintf(why, whylen, "%s: expected section.key=value", extra[i]);
            goto done;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - extra[i]), extra[i]);
        if (apply_assign(&st, key, eq + 1, &text, why, whylen))
            goto done;
    }
    if (text.oom) {
        snprintf(why, whylen, "out of memory");
        goto done;
    }
    /* Parse the text the database will hold, so what runs is what a
     * replay reads back. */
    if (scenario_load_text(out, text.s, c->base_path, err, sizeof(err))) {
        snprintf(why, whylen, "%s", err);
        goto done;
    }
    rc = 0;
done:
    free(text.s);
    return rc;
}

/* ================================================================ budget */

/*
 * A trial copies the device's changed span, cuts, reboots a fresh engine
 * (whose resume scan re-reads and re-hashes what was written) and
 * downloads the rest: about one update's work, which grows with the image
 * and costs more per byte on parts whose units are big (MCU sectors: each
 * erase sets and copies 128 KiB) or that read through ECC (NAND). Each
 * nested cut adds another boot and scan. SHA-256 and MD5 (mbedTLS, no
 * hardware help) cost per byte what everything else costs together; CRC-32
 * (libdeflate) is free by comparison. A run also builds three devices and
 * runs the uncut update once.
 *
 * Fitted by least squares on 40 runs of campaign-ci and a calibration
 * campaign (64-256 KiB images, every preset, depth 1-3, every digest) on
 * the project's 2-vCPU machine, Release build, CPU time: within 36% RMS,
 * worst for NAND with small blocks at depth 3 (up to 4x more). Only their
 * ratios matter to how the budget is shared; their scale to how long a
 * campaign takes (docs/campaign.md, "Budget").
 */
#define COST_LEVEL_NS     32000.0 /* per boot of a trial: copy, reboot, log */
#define COST_NOR_NS_BYTE  0.31    /* per image byte per boot, NOR */
#define COST_UNIT_NS_BYTE 0.91    /* more for 128 KiB units (scaled) */
#define COST_NAND_NS_BYTE 0.68    /* per image byte per boot, NAND */
#define COST_SHA256_BYTE  1.91    /* per byte hashed with SHA-256 */
#define COST_MD5_BYTE     1.63    /* per byte hashed with MD5 */
#define COST_NESTED_SHARE 0.6     /* a nested level's share of a boot */
#define COST_DEVICE_BYTE  6.9     /* per device byte, once per run */

static double hash_ns_byte(uint8_t kind)
{
    return kind == ENGINE_HASH_SHA256 ? COST_SHA256_BYTE
           : kind == ENGINE_HASH_MD5  ? COST_MD5_BYTE
                                   : 0;
}

double campaign_trial_cost_ns(const struct scenario *sc, uint64_t boundaries,
                              uint64_t update_bytes, uint64_t update_erases,
                              uint64_t update_programs)
{
    const struct sim_geometry *g = &sc->device.geo;
    double img = (double)sc->image.size, unit, per_byte, levels;
    unit = (double)g->erase_size / (128.0 * 1024.0);
    if (unit > 1)
        unit = 1;
    per_byte = g->kind == SIM_NAND
                   ? COST_NAND_NS_BYTE
                   : COST_NOR_NS_BYTE + COST_UNIT_NS_BYTE * unit;
    /* The block hash runs at every boot's scan (verify = full) and on
     * every byte downloaded; the digest on every byte downloaded. */
    per_byte += hash_ns_byte(sc->engine.hash);
    /* One seeded cut per level below the first. */
    levels = 1.0 + COST_NESTED_SHARE * (double)(sc->cuts.depth - 1);
    (void)boundaries;
    (void)update_erases;
    (void)update_programs;
    return levels * (COST_LEVEL_NS + per_byte * img) +
           hash_ns_byte(sc->engine.digest) * (double)update_bytes;
}

double campaign_run_cost_ns(const struct scenario *sc)
{
    return COST_DEVICE_BYTE * (double)sc->device.geo.size;
}

void campaign_plan_budget(uint64_t budget_ns, uint32_t min_trials,
                          const struct campaign_figures *f, int n,
                          struct campaign_plan *out)
{
    int *ord = malloc((size_t)(n > 0 ? n : 1) * sizeof(int)), i, j, left;
    double budget = (double)budget_ns;

    for (i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        if (ord)
            ord[i] = i;
    }
    if (!ord) {
        /* No room to sort: every run draws min_trials cuts. */
        for (i = 0; i < n; i++) {
            out[i].count = min_trials;
            out[i].trials =
                min_trials < f[i].boundaries ? min_trials : f[i].boundaries;
            out[i].exhaustive = min_trials >= f[i].boundaries;
            out[i].est_s =
                ((double)out[i].trials * f[i].trial_ns + f[i].run_ns) / 1e9;
        }
        return;
    }
    /* Cheapest exhaustive run first (then by index, for determinism):
     * each takes what it needs while that fits its share of what is
     * left, and what it leaves goes to the rest. */
    for (i = 1; i < n; i++) {
        int k = ord[i];
        double ck = (double)f[k].boundaries * f[k].trial_ns;
        for (j = i; j > 0; j--) {
            int o = ord[j - 1];
            double co = (double)f[o].boundaries * f[o].trial_ns;
            if (co < ck || (co == ck && o < k))
                break;
            ord[j] = o;
        }
        ord[j] = k;
    }
    /* What every run costs whatever its trials comes off the top. */
    for (i = 0; i < n; i++)
        budget -= f[i].run_ns;
    for (i = 0, left = n; i < n; i++, left--) {
        const struct campaign_figures *x = &f[ord[i]];
        struct campaign_plan *p = &out[ord[i]];
        double share = budget > 0 ? budget / left : 0;
        double all = (double)x->boundaries * x->trial_ns;
        if (all <= share || x->boundaries <= min_trials) {
            p->exhaustive = 1;
            p->trials = x->boundaries;
        } else {
            double k = x->trial_ns > 0 ? share / x->trial_ns : min_trials;
            uint64_t want = k < (double)min_trials ? min_trials : (uint64_t)k;
            if (want >= x->boundaries) {
                p->exhaustive = 1;
                p->trials = x->boundaries;
            } else {
                p->count = (uint32_t)(want > UINT32_MAX ? UINT32_MAX : want);
                p->trials = p->count;
            }
        }
        /* In ns, as the budget: the shares add up without rounding. */
        p->est_s = ((double)p->trials * x->trial_ns + x->run_ns) / 1e9;
        budget -= (double)p->trials * x->trial_ns;
    }
    free(ord);
}

/* ================================================================ the view */

struct memo {
    int *row;
    struct campaign_figures f;
};

struct campaign_gen {
    const struct campaign *c;
    int confirm_runs;
    /* states[k]: the base with dimensions 0..k-1 applied, for crow[0..k) */
    struct scenario *states;
    int crow[COVER_MAX_DIMS];
    int depth;
    struct memo *memo;
    int nmemo, capmemo;
};

static int gen_check(void *user, const int *row, int n, char *why,
                     size_t whylen)
{
    struct campaign_gen *g = user;
    int p = 0, k;
    while (p < g->depth && p < n && g->crow[p] == row[p])
        p++;
    for (k = p; k < n; k++) {
        g->states[k + 1] = g->states[k];
        if (apply_value(g->c, k, row[k], &g->states[k + 1], NULL, why,
                        whylen)) {
            g->depth = k;
            return 1;
        }
        g->crow[k] = row[k];
    }
    g->depth = n;
    return 0;
}

static int gen_confirm(void *user, const int *row, char *why, size_t whylen)
{
    struct campaign_gen *g = user;
    struct scenario sc;
    struct torture *t = NULL;
    struct torture_result fig;
    struct memo *m;
    char err[512] = "";

    if (campaign_scenario(g->c, row, NULL, &sc, why, whylen))
        return 1;
    if (torture_create(&t, &sc, err, sizeof(err))) {
        snprintf(why, whylen, "%s", err);
        scenario_free(&sc);
        return 1;
    }
    if (g->nmemo == g->capmemo) {
        int cap = g->capmemo ? g->capmemo * 2 : 32;
        struct memo *bigger = realloc(g->memo, (size_t)cap * sizeof(*bigger));
        if (!bigger)
            goto oom;
        g->memo = bigger;
        g->capmemo = cap;
    }
    m = &g->memo[g->nmemo];
    m->row = malloc((size_t)g->c->ndims * sizeof(int));
    if (!m->row)
        goto oom;
    memcpy(m->row, row, (size_t)g->c->ndims * sizeof(int));
    memset(&fig, 0, sizeof(fig));
    torture_update_figures(t, &fig);
    m->f.boundaries = fig.boundaries;
    m->f.update_bytes = fig.update_bytes;
    m->f.update_erases = fig.update_erases;
    m->f.update_programs = fig.update_programs;
    m->f.trial_ns =
        campaign_trial_cost_ns(&sc, fig.boundaries, fig.update_bytes,
                               fig.update_erases, fig.update_programs);
    m->f.run_ns = campaign_run_cost_ns(&sc);
    g->nmemo++;
    torture_destroy(t);
    scenario_free(&sc);
    return 0;
oom:
    snprintf(why, whylen, "out of memory");
    torture_destroy(t);
    scenario_free(&sc);
    return 1;
}

static const char *gen_name(void *user, int dim, int val)
{
    struct campaign_gen *g = user;
    if (dim < 0 || dim >= g->c->ndims)
        return NULL;
    if (val < 0)
        return g->c->dims[dim].name;
    return val < g->c->dims[dim].nvalues ? g->c->dims[dim].v[val].name : NULL;
}

struct campaign_gen *campaign_gen_new(const struct campaign *c,
                                      int confirm_runs)
{
    struct campaign_gen *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->c = c;
    g->confirm_runs = confirm_runs;
    g->states = calloc((size_t)c->ndims + 1, sizeof(*g->states));
    if (!g->states) {
        free(g);
        return NULL;
    }
    /* Copies share the base's text; only the base owns it. */
    g->states[0] = c->base;
    return g;
}

void campaign_gen_free(struct campaign_gen *g)
{
    int i;
    if (!g)
        return;
    for (i = 0; i < g->nmemo; i++)
        free(g->memo[i].row);
    free(g->memo);
    free(g->states);
    free(g);
}

void campaign_gen_spec(struct campaign_gen *g, struct cover_spec *spec,
                       int *levels)
{
    const struct campaign *c = g->c;
    int d;
    memset(spec, 0, sizeof(*spec));
    for (d = 0; d < c->ndims; d++)
        levels[d] = c->dims[d].nvalues;
    spec->ndims = c->ndims;
    spec->levels = levels;
    spec->strength = c->strength;
    spec->seed = c->seed;
    spec->candidates = c->candidates;
    spec->excludes = c->excludes;
    spec->nexcludes = c->nexcludes;
    spec->check = gen_check;
    spec->confirm = g->confirm_runs ? gen_confirm : NULL;
    spec->name = gen_name;
    spec->user = g;
}

int campaign_gen_figures(const struct campaign_gen *g, const int *row,
                         struct campaign_figures *f)
{
    int i;
    for (i = 0; i < g->nmemo; i++)
        if (!memcmp(g->memo[i].row, row, (size_t)g->c->ndims * sizeof(int))) {
            *f = g->memo[i].f;
            return 0;
        }
    return -1;
}

int campaign_describe(const char *path, char *buf, size_t n)
{
    FILE *fp = fopen(path, "r");
    char line[256], err[512];
    struct campaign c;
    int is = 0;
    if (!fp)
        return 0;
    while (!is && fgets(line, sizeof(line), fp)) {
        char *s = line, *e;
        while (isspace((unsigned char)*s))
            s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = 0;
        is = !strcmp(s, "[campaign]");
    }
    fclose(fp);
    if (!is)
        return 0;
    if (campaign_load(&c, path, err, sizeof(err)))
        snprintf(buf, n, "(invalid campaign: %s)", err);
    else
        snprintf(buf, n, "campaign (fotasim campaign): %s",
                 c.description[0] ? c.description : c.name);
    campaign_free(&c);
    return 1;
}
