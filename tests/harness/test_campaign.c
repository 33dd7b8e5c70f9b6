/*
 * Campaigns: the covering-array generator against brute force (every
 * coverable pair or triple held by some row, every row valid, the
 * impossible ones named and truly impossible), its determinism, its
 * constraints (prefix checks, exclusions, rows refused when built), the
 * checker's own teeth (a dropped row is noticed); then the campaign file:
 * errors naming file:line, ${erase_size} references, the order rule, the
 * row's scenario and its stored text, and the budget's shares.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "campaign.h"
#include "tmpdir.h"

/* ------------------------------------------------------------ brute force */

/* A synthetic world: levels, a validity rule on whole rows, and the same
 * rule as a prefix check (a row is refused at the first dimension that
 * completes a forbidden set, as a scenario refuses at the first bad
 * assignment). */
struct world {
    int n;
    int lv[COVER_MAX_DIMS];
    int (*bad)(const int *row, int upto); /* 1 if row[0..upto) is refused */
    int (*unbuildable)(const int *row);   /* confirm refuses */
    int checks, confirms;
};

static int w_check(void *user, const int *row, int n, char *why, size_t len)
{
    struct world *w = user;
    w->checks++;
    if (w->bad && w->bad(row, n)) {
        snprintf(why, len, "refused at dimension %d", n - 1);
        return 1;
    }
    return 0;
}

static int w_confirm(void *user, const int *row, char *why, size_t len)
{
    struct world *w = user;
    w->confirms++;
    if (w->unbuildable && w->unbuildable(row)) {
        snprintf(why, len, "cannot build");
        return 1;
    }
    return 0;
}

static int excluded_by(const struct cover_exclude *x, int nx, const int *row)
{
    int e, i;
    for (e = 0; e < nx; e++) {
        for (i = 0; i < x[e].n && row[x[e].dim[i]] == x[e].val[i]; i++)
            ;
        if (i == x[e].n)
            return 1;
    }
    return 0;
}

static int valid_row(const struct world *w, const struct cover_exclude *x,
                     int nx, const int *row)
{
    int k;
    for (k = 1; k <= w->n; k++)
        if (w->bad && w->bad(row, k))
            return 0;
    if (w->unbuildable && w->unbuildable(row))
        return 0;
    return !excluded_by(x, nx, row);
}

/* Every row of the full product, in turn: 0 when done. */
static int next_row(const struct world *w, int *row)
{
    int d;
    for (d = w->n - 1; d >= 0 && ++row[d] == w->lv[d]; d--)
        row[d] = 0;
    return d >= 0;
}

static int holds(const int *row, int t, const int *dim, const int *val)
{
    int i;
    for (i = 0; i < t; i++)
        if (row[dim[i]] != val[i])
            return 0;
    return 1;
}

/*
 * The independent check: for every t dimensions and values, either some
 * generated row holds them, or no valid row of the whole product does
 * (and then a listed impossible combination is part of them). Every
 * generated row must be valid. Returns the number of t-way combinations
 * that a valid row could hold and no generated row does: 0 is a pass.
 */
static int brute_missing(const struct world *w, const struct cover_exclude *x,
                         int nx, int t, const int *rows, int nrows,
                         const struct cover_result *res)
{
    int dim[4], val[4], i, r, missing = 0;
    for (r = 0; r < nrows; r++)
        assert_true(valid_row(w, x, nx, rows + r * w->n));
    for (i = 0; i < t; i++)
        dim[i] = i;
    for (;;) {
        for (i = 0; i < t; i++)
            val[i] = 0;
        for (;;) {
            int covered = 0, coverable = 0, row[COVER_MAX_DIMS] = {0};
            for (r = 0; r < nrows && !covered; r++)
                covered = holds(rows + r * w->n, t, dim, val);
            do
                coverable = holds(row, t, dim, val) && valid_row(w, x, nx, row);
            while (!coverable && next_row(w, row));
            if (coverable && !covered)
                missing++;
            if (!coverable && res) {
                /* Named: some listed combination is part of this one. */
                int k, named = 0;
                for (k = 0; k < res->nimpossible && !named; k++) {
                    const struct cover_impossible *p = &res->imp[k];
                    int a, b, all = 1;
                    for (a = 0; a < p->n && all; a++) {
                        int in = 0;
                        for (b = 0; b < t; b++)
                            in |= dim[b] == p->dim[a] && val[b] == p->val[a];
                        all = in;
                    }
                    named = all;
                }
                assert_true(named);
            }
            for (i = t - 1; i >= 0 && ++val[i] == w->lv[dim[i]]; i--)
                val[i] = 0;
            if (i < 0)
                break;
        }
        for (i = t - 1; i >= 0 && dim[i] == w->n - t + i; i--)
            ;
        if (i < 0)
            break;
        dim[i]++;
        for (i = i + 1; i < t; i++)
            dim[i] = dim[i - 1] + 1;
    }
    return missing;
}

/* Every listed impossible combination is truly impossible. */
static void listed_are_impossible(const struct world *w,
                                  const struct cover_exclude *x, int nx,
                                  const struct cover_result *res)
{
    int k;
    for (k = 0; k < res->nimpossible; k++) {
        const struct cover_impossible *p = &res->imp[k];
        int row[COVER_MAX_DIMS] = {0};
        do
            assert_false(holds(row, p->n, p->dim, p->val) &&
                         valid_row(w, x, nx, row));
        while (next_row(w, row));
    }
}

static void generate(struct world *w, int t, uint64_t seed,
                     const struct cover_exclude *x, int nx,
                     struct cover_result *res)
{
    struct cover_spec s;
    char err[512];
    memset(&s, 0, sizeof(s));
    s.ndims = w->n;
    s.levels = w->lv;
    s.strength = t;
    s.seed = seed;
    s.excludes = x;
    s.nexcludes = nx;
    s.check = w_check;
    s.confirm = w->unbuildable ? w_confirm : NULL;
    s.user = w;
    if (cover_generate(&s, res, err, sizeof(err)))
        fail_msg("%s", err);
}

static struct world mixed(void)
{
    static const int lv[] = {3, 3, 2, 4, 2, 3, 2, 5};
    struct world w;
    memset(&w, 0, sizeof(w));
    w.n = 8;
    memcpy(w.lv, lv, sizeof(lv));
    return w;
}

/* ------------------------------------------------------------ generator */

static void test_every_pair_covered(void **state)
{
    struct world w = mixed();
    struct cover_result r;
    (void)state;
    generate(&w, 2, 1, NULL, 0, &r);
    assert_int_equal(brute_missing(&w, NULL, 0, 2, r.rows, r.nrows, &r), 0);
    assert_int_equal(r.impossible, 0);
    assert_int_equal(r.covered, r.tuples);
    /* Greedy, not minimal, but near: the lower bound is 5 x 4 = 20. */
    assert_true(r.nrows >= 20 && r.nrows <= 32);
    cover_free(&r);
}

static void test_every_triple_covered(void **state)
{
    struct world w = mixed();
    struct cover_result r;
    (void)state;
    w.n = 6; /* 3 3 2 4 2 3 */
    generate(&w, 3, 7, NULL, 0, &r);
    assert_int_equal(brute_missing(&w, NULL, 0, 3, r.rows, r.nrows, &r), 0);
    assert_int_equal(r.covered, r.tuples);
    assert_true(r.nrows >= 36 && r.nrows <= 60);
    cover_free(&r);
}

static void test_strength_one(void **state)
{
    struct world w = mixed();
    struct cover_result r;
    (void)state;
    generate(&w, 1, 3, NULL, 0, &r);
    assert_int_equal(brute_missing(&w, NULL, 0, 1, r.rows, r.nrows, &r), 0);
    assert_int_equal(r.nrows, 5); /* the largest dimension */
    cover_free(&r);
}

static void test_deterministic(void **state)
{
    struct world w1 = mixed(), w2 = mixed();
    struct cover_result a, b, c;
    (void)state;
    generate(&w1, 2, 42, NULL, 0, &a);
    generate(&w2, 2, 42, NULL, 0, &b);
    assert_int_equal(a.nrows, b.nrows);
    assert_memory_equal(a.rows, b.rows,
                        (size_t)a.nrows * (size_t)w1.n * sizeof(int));
    /* Another seed: another array, just as complete. */
    generate(&w1, 2, 43, NULL, 0, &c);
    assert_int_equal(brute_missing(&w1, NULL, 0, 2, c.rows, c.nrows, &c), 0);
    assert_false(
        c.nrows == a.nrows &&
        !memcmp(a.rows, c.rows, (size_t)a.nrows * (size_t)w1.n * sizeof(int)));
    cover_free(&a);
    cover_free(&b);
    cover_free(&c);
}

/* The checker has teeth: without the last row (which closed at least the
 * combination it was grown from) some pair is missing. */
static void test_dropped_row_is_noticed(void **state)
{
    struct world w = mixed();
    struct cover_result r;
    int i;
    (void)state;
    generate(&w, 2, 5, NULL, 0, &r);
    assert_int_equal(brute_missing(&w, NULL, 0, 2, r.rows, r.nrows, NULL), 0);
    assert_true(brute_missing(&w, NULL, 0, 2, r.rows, r.nrows - 1, NULL) > 0);
    /* And so is one changed value in a row that alone holds a pair. */
    for (i = 0; i < r.nrows; i++) {
        int keep = r.rows[i * w.n + 7];
        r.rows[i * w.n + 7] = (keep + 1) % w.lv[7];
        if (brute_missing(&w, NULL, 0, 2, r.rows, r.nrows, NULL) > 0) {
            r.rows[i * w.n + 7] = keep;
            break;
        }
        r.rows[i * w.n + 7] = keep;
    }
    assert_true(i < r.nrows);
    cover_free(&r);
}

/* Dimension 1 = 2 refuses dimension 4 = 0 (a pair); dimension 0 = 0 with
 * dimension 2 = 1 refuses dimension 5 = 2 (a triple: a pair that only
 * some rows can hold); dimension 3 = 3 is refused outright. */
static int bad_rule(const int *row, int upto)
{
    if (upto > 4 && row[1] == 2 && row[4] == 0)
        return 1;
    if (upto > 5 && row[0] == 0 && row[2] == 1 && row[5] == 2)
        return 1;
    if (upto > 3 && row[3] == 3)
        return 1;
    return 0;
}

static void test_constraints(void **state)
{
    struct world w = mixed();
    struct cover_result r;
    int k, pair_listed = 0, value_listed = 0;
    (void)state;
    w.bad = bad_rule;
    generate(&w, 2, 1, NULL, 0, &r);
    assert_int_equal(brute_missing(&w, NULL, 0, 2, r.rows, r.nrows, &r), 0);
    listed_are_impossible(&w, NULL, 0, &r);
    for (k = 0; k < r.nimpossible; k++) {
        const struct cover_impossible *p = &r.imp[k];
        pair_listed |= p->n == 2 && p->dim[0] == 1 && p->val[0] == 2 &&
                       p->dim[1] == 4 && p->val[1] == 0;
        value_listed |= p->n == 1 && p->dim[0] == 3 && p->val[0] == 3;
        assert_non_null(strstr(p->why, "refused at dimension"));
    }
    assert_true(pair_listed);
    assert_true(value_listed);
    /* The value dimension 3 = 3 is listed once, not with every pair. */
    assert_int_equal(r.nimpossible, 2);
    /* (0=0, 5=2) and (2=1, 5=2) stay coverable: the triple rule only
     * forbids them together. */
    assert_int_equal(r.impossible, 1 + (3 + 3 + 2 + 2 + 3 + 2 + 5));
    cover_free(&r);

    generate(&w, 3, 9, NULL, 0, &r);
    assert_int_equal(brute_missing(&w, NULL, 0, 3, r.rows, r.nrows, &r), 0);
    listed_are_impossible(&w, NULL, 0, &r);
    cover_free(&r);
}

static void test_exclusions(void **state)
{
    struct world w = mixed();
    struct cover_exclude x[2];
    struct cover_result r;
    (void)state;
    memset(x, 0, sizeof(x));
    /* A pair, and a triple that with strength 2 forbids no pair. */
    x[0].n = 2;
    x[0].dim[0] = 6, x[0].val[0] = 1, x[0].dim[1] = 7, x[0].val[1] = 4;
    x[0].label = "six-seven";
    x[1].n = 3;
    x[1].dim[0] = 0, x[1].val[0] = 1, x[1].dim[1] = 1, x[1].val[1] = 1;
    x[1].dim[2] = 2, x[1].val[2] = 1;
    generate(&w, 2, 2, x, 2, &r);
    assert_int_equal(brute_missing(&w, x, 2, 2, r.rows, r.nrows, &r), 0);
    assert_int_equal(r.impossible, 1);
    assert_int_equal(r.nimpossible, 1);
    assert_non_null(strstr(r.imp[0].why, "six-seven"));
    cover_free(&r);
    generate(&w, 3, 2, x, 2, &r);
    assert_int_equal(brute_missing(&w, x, 2, 3, r.rows, r.nrows, &r), 0);
    listed_are_impossible(&w, x, 2, &r);
    cover_free(&r);
}

/* Rows refused when built: a value no row of which builds is listed once;
 * a pair that never builds is found impossible too, and the rest covered. */
static int unbuildable_rule(const int *row)
{
    return row[5] == 1 || (row[0] == 2 && row[7] == 3);
}

static void test_refused_when_built(void **state)
{
    struct world w = mixed();
    struct cover_result r;
    int k, value = 0, pair = 0;
    (void)state;
    w.unbuildable = unbuildable_rule;
    generate(&w, 2, 4, NULL, 0, &r);
    assert_int_equal(brute_missing(&w, NULL, 0, 2, r.rows, r.nrows, &r), 0);
    listed_are_impossible(&w, NULL, 0, &r);
    for (k = 0; k < r.nimpossible; k++) {
        value |= r.imp[k].n == 1 && r.imp[k].dim[0] == 5;
        pair |= r.imp[k].n == 2 && r.imp[k].dim[0] == 0 && r.imp[k].dim[1] == 7;
        assert_non_null(strstr(r.imp[k].why, "cannot build"));
    }
    assert_true(value && pair);
    assert_true(r.refused > 0);
    cover_free(&r);
}

static void test_bad_spec(void **state)
{
    struct cover_spec s;
    struct cover_result r;
    int lv[2] = {2, 0};
    char err[256];
    (void)state;
    memset(&s, 0, sizeof(s));
    s.ndims = 2;
    s.levels = lv;
    s.strength = 3;
    assert_int_equal(cover_generate(&s, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "strength 3 over 2 dimensions"));
    s.strength = 2;
    assert_int_equal(cover_generate(&s, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "dimension 1: 0 values"));
}

/* ------------------------------------------------------------ the file */

static const char base_text[] = "[scenario]\n"
                                "name = tbase\n"
                                "description = test base\n"
                                "[device]\n"
                                "preset = w25q128\n"
                                "size = 1M\n"
                                "[image]\n"
                                "size = 64K\n"
                                "[engine]\n"
                                "block_size = 4K\n";

static const char *write_base(void)
{
    return tmpdir_write("tbase.ini", base_text);
}

/* Load campaign text; the error must be "<path>:" + want. */
static void expect_error(const char *text, const char *want)
{
    struct campaign c;
    char err[1024], full[1400];
    const char *p;
    write_base();
    p = tmpdir_write("bad-campaign.ini", text);
    snprintf(full, sizeof(full), "%s%s", p, want);
    assert_int_equal(campaign_load(&c, p, err, sizeof(err)), -1);
    if (strncmp(err, full, strlen(full)))
        fail_msg("got '%s', want '%s...'", err, full);
    campaign_free(&c);
}

#define HEAD "[campaign]\nbase = tbase.ini\n"

static void test_file_errors(void **state)
{
    (void)state;
    expect_error(HEAD "budget = lots\n[dim a]\nx = -\n",
                 ":3: campaign.budget: 'lots' is not a duration");
    expect_error(HEAD "colour = red\n",
                 ":3: campaign.colour: unknown key (one of ");
    expect_error(HEAD "[dims a]\nx = -\n",
                 ":4: dims a.x: unknown section [dims a] (one of campaign|dim "
                 "NAME|exclude|impossible)");
    expect_error(HEAD "[dim a]\nx = -\n[impossible]\nq = b=x\n",
                 ":6: impossible.q: no dimension 'b'");
    expect_error(HEAD "[dim a]\nx = -\n[impossible]\nq = a=y\n",
                 ":6: impossible.q: dimension a has no value 'y'");
    expect_error(HEAD "[dim a]\nx = engine.blok=3\n",
                 ":4: dim a.x: --set engine.blok: unknown key");
    expect_error(HEAD "[dim a]\nx = engin.block_size=3\n",
                 ":4: dim a.x: --set engin.block_size: unknown section");
    expect_error(HEAD "[dim a]\nx = block_size=3\n",
                 ":4: dim a.x: 'block_size=3' is not section.key=value");
    expect_error(HEAD "[dim a]\nx = engine.block_size=${sector}\n",
                 ":4: dim a.x: engine.block_size: '${sector}': a reference "
                 "is ${erase_size} or ${prog_size}");
    expect_error(HEAD "[dim a]\nx = engine.block_size=${erase_size}+1\n",
                 ":4: dim a.x: engine.block_size: '${erase_size}+1': after "
                 "the reference only *N or /N");
    expect_error(HEAD "[dim a]\nx = engine.block_size=2*${erase_size}\n",
                 ":4: dim a.x: engine.block_size: '2*${erase_size}': a "
                 "reference is the whole value");
    expect_error(HEAD "[dim a]\nx = -\nx = -\n",
                 ":5: dim a.x: value named twice (line 4)");
    expect_error(HEAD "[dim a]\nx = -\n[dim b]\ny = -\n[dim a]\nz = -\n",
                 ":8: dim a.z: section [dim a] again");
    /* The order rule: geometry after a reference that reads it. */
    expect_error(HEAD "[dim blk]\nq = engine.block_size=${erase_size}/4\n"
                      "[dim dev]\nnand = device.preset=w25n01gv\n",
                 ":6: dim dev.nand: device.preset comes after a ${...} "
                 "reference (line 4)");
    expect_error(HEAD "[dim a]\nx = engine.block_size=${erase_size} "
                      "device.erase_size=8K\n",
                 ":4: dim a.x: device.erase_size comes after a ${...} "
                 "reference (line 4)");
    expect_error(HEAD "[dim a]\nx = -\n[exclude]\nno = a=y\n",
                 ":6: exclude.no: dimension a has no value 'y'");
    expect_error(HEAD "[dim a]\nx = -\n[exclude]\nno = b=x\n",
                 ":6: exclude.no: no dimension 'b'");
    expect_error(HEAD "strength = 3\n[dim a]\nx = -\n[dim b]\ny = -\n",
                 ":3: campaign.strength: 3, but only 2 dimensions");
    expect_error("[campaign]\nstrength = 2\n[dim a]\nx = -\n",
                 ": campaign.base: missing");
    expect_error(HEAD, ": campaign.dim: no [dim NAME] section");
    expect_error("[campaign]\nbase = nothere.ini\n[dim a]\nx = -\n",
                 ":2: campaign.base: ");
    expect_error(HEAD "[dim a]\nthis line has no equals sign\n",
                 ":4: syntax: expected [section] or key = value");
}

static const char camp_text[] =
    "[campaign]\n"
    "name = tc\n"
    "description = test campaign\n"
    "base = tbase.ini\n"
    "budget = 2s\n"
    "[dim flash]\n"
    "nor = device.preset=w25q128 device.size=1M\n"
    "nand = device.preset=w25n01gv device.factory_bad=0 "
    "engine.block_size=128K device.size=2M\n"
    "[dim block]\n"
    "lt = engine.block_size=${erase_size}/4\n"
    "eq = engine.block_size=${erase_size}\n"
    "[dim verify]\n"
    "full = engine.verify=full\n"
    "trusted = engine.verify=trusted\n"
    "[dim digest]\n"
    "crc = engine.digest=crc32\n"
    "none = engine.digest=none\n"
    "[exclude]\n"
    "no-nand-none = flash=nand digest=none\n";

static void load_camp(struct campaign *c)
{
    char err[1024];
    const char *p;
    write_base();
    p = tmpdir_write("tc.ini", camp_text);
    if (campaign_load(c, p, err, sizeof(err)))
        fail_msg("%s", err);
}

static void test_row_scenario(void **state)
{
    struct campaign c;
    struct scenario sc, again;
    int row[4] = {1, 0, 1, 0}; /* nand, lt, trusted, crc */
    const char *extra[] = {"scenario.name=tc#03", "cuts.strategy=random",
                           "cuts.count=7", NULL};
    char why[512], err[512], text[256];
    (void)state;
    load_camp(&c);
    assert_int_equal(c.ndims, 4);
    assert_string_equal(c.name, "tc");
    assert_int_equal(c.budget_ns, 2000000000ull);
    assert_int_equal(campaign_scenario(&c, row, extra, &sc, why, sizeof(why)),
                     0);
    /* ${erase_size}/4 read the NAND part the row chose. */
    assert_int_equal(sc.engine.block_size, 32768);
    assert_int_equal(sc.device.geo.prog_size, 2048);
    assert_int_equal(sc.engine.verify, FWR_VERIFY_TRUSTED);
    assert_string_equal(sc.name, "tc#03");
    assert_int_equal(sc.cuts.strategy, CUT_RANDOM);
    assert_int_equal(sc.cuts.count, 7);
    /* The stored text is the scenario: a replay reads the same. */
    assert_non_null(strstr(sc.text, ";   flash = nand"));
    assert_int_equal(
        scenario_load_text(&again, sc.text, "again", err, sizeof(err)), 0);
    assert_int_equal(again.engine.block_size, 32768);
    assert_string_equal(again.preset, "w25n01gv");
    assert_int_equal(again.cuts.count, 7);
    scenario_free(&again);
    scenario_free(&sc);
    campaign_row_text(&c, row, text, sizeof(text));
    assert_string_equal(text, "flash=nand block=lt verify=trusted digest=crc");

    /* trusted without a digest: refused, with the value and the reason. */
    row[3] = 1;
    assert_int_equal(campaign_scenario(&c, row, NULL, &sc, why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "digest=none: "));
    assert_non_null(strstr(why, "trusted needs an image digest"));
    campaign_free(&c);
}

static void test_campaign_generation(void **state)
{
    struct campaign c;
    struct campaign_gen *g;
    struct cover_spec s;
    struct cover_result r;
    struct campaign_figures f;
    int levels[COVER_MAX_DIMS], i, k, trusted_none = 0, excl = 0;
    char err[512];
    (void)state;
    load_camp(&c);
    g = campaign_gen_new(&c, 1);
    assert_non_null(g);
    campaign_gen_spec(g, &s, levels);
    assert_int_equal(cover_generate(&s, &r, err, sizeof(err)), 0);
    /* 2x2 + 2x2x... pairs: every one held but the two impossible ones. */
    assert_int_equal(r.impossible, 2);
    assert_int_equal(r.covered + r.impossible, r.tuples);
    for (k = 0; k < r.nimpossible; k++) {
        trusted_none |= !strcmp(c.dims[r.imp[k].dim[0]].name, "verify") &&
                        strstr(r.imp[k].why, "trusted needs") != NULL;
        excl |= strstr(r.imp[k].why, "no-nand-none") != NULL;
    }
    assert_true(trusted_none && excl);
    for (i = 0; i < r.nrows; i++) {
        struct scenario sc;
        char why[512];
        const int *row = r.rows + i * c.ndims;
        /* Every row was built (figures kept) and is a valid scenario. */
        assert_int_equal(campaign_gen_figures(g, row, &f), 0);
        assert_true(f.boundaries > 0 && f.trial_ns > 0);
        assert_int_equal(
            campaign_scenario(&c, row, NULL, &sc, why, sizeof(why)), 0);
        scenario_free(&sc);
    }
    cover_free(&r);
    campaign_gen_free(g);
    campaign_free(&c);
}

static void test_budget_shares(void **state)
{
    struct campaign_figures f[4];
    struct campaign_plan p[4], q[4];
    double total = 0;
    int i;
    (void)state;
    memset(f, 0, sizeof(f));
    /* Two cheap runs, two dear ones; 1 s of budget. */
    f[0].boundaries = 100, f[0].trial_ns = 1e5;   /* 10 ms exhaustive */
    f[1].boundaries = 10000, f[1].trial_ns = 1e6; /* 10 s */
    f[2].boundaries = 200, f[2].trial_ns = 2e5;   /* 40 ms */
    f[3].boundaries = 50000, f[3].trial_ns = 1e5; /* 5 s */
    campaign_plan_budget(1000000000ull, 50, f, 4, p);
    assert_true(p[0].exhaustive && p[2].exhaustive);
    assert_false(p[1].exhaustive || p[3].exhaustive);
    /* What the cheap runs leave is shared by the dear ones. */
    assert_int_equal(p[1].count, 475);  /* 0.475 s / 1 ms */
    assert_int_equal(p[3].count, 4750); /* 0.475 s / 0.1 ms */
    for (i = 0; i < 4; i++)
        total += p[i].est_s;
    assert_true(total <= 1.0 + 1e-9);
    /* The same figures and budget plan the same runs. */
    campaign_plan_budget(1000000000ull, 50, f, 4, q);
    assert_memory_equal(p, q, sizeof(p));
    /* A budget too small for anything still gives each run min_trials. */
    campaign_plan_budget(1000, 50, f, 4, p);
    assert_int_equal(p[1].count, 50);
    assert_true(p[0].exhaustive == 0 && p[0].count == 50);
}

static void test_durations(void **state)
{
    uint64_t ns;
    (void)state;
    assert_int_equal(campaign_parse_duration("150s", &ns), 0);
    assert_int_equal(ns, 150000000000ull);
    assert_int_equal(campaign_parse_duration("2.5m", &ns), 0);
    assert_int_equal(ns, 150000000000ull);
    assert_int_equal(campaign_parse_duration("1h", &ns), 0);
    assert_int_equal(ns, 3600000000000ull);
    assert_int_equal(campaign_parse_duration("20", &ns), 0);
    assert_int_equal(ns, 20000000000ull);
    assert_int_equal(campaign_parse_duration("500ms", &ns), 0);
    assert_int_equal(ns, 500000000ull);
    assert_int_equal(campaign_parse_duration("fast", &ns), -1);
    assert_int_equal(campaign_parse_duration("3 s", &ns), -1);
    assert_int_equal(campaign_parse_duration("-1s", &ns), -1);
}

/* The shipped campaigns load, and fotasim list knows them for what
 * they are. */
/* [impossible] and [exclude] lines declare impossibility: a combination
 * holding one's values is expected; any other is not; a line a run holds
 * is stale. */
static void test_impossible_declared(void **state)
{
    struct campaign c;
    struct cover_impossible x = {0};
    struct cover_result r = {0};
    int rows[4];
    char err[1024];
    const char *p;
    (void)state;
    write_base();
    p = tmpdir_write("imp-campaign.ini",
                     HEAD "[dim a]\nx = -\ny = -\n[dim b]\nu = -\nv = -\n"
                          "[dim c]\ns = -\nt = -\n"
                          "[exclude]\nno-yv = a=y b=v\n"
                          "[impossible]\nno-t = c=t\n");
    if (campaign_load(&c, p, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(c.nimpossibles, 1);
    x.n = 2; /* a=y b=v: the exclusion */
    x.dim[0] = 0, x.val[0] = 1, x.dim[1] = 1, x.val[1] = 1;
    assert_non_null(strstr(campaign_declared(&c, &x), "no-yv"));
    x.n = 2; /* a=x c=t: holds the [impossible] line's c=t */
    x.dim[0] = 0, x.val[0] = 0, x.dim[1] = 2, x.val[1] = 1;
    assert_non_null(strstr(campaign_declared(&c, &x), "no-t"));
    x.n = 1; /* b=u: nobody said so */
    x.dim[0] = 1, x.val[0] = 0;
    assert_null(campaign_declared(&c, &x));
    /* No run holds c=t: the line stands; one does: stale. */
    r.ndims = 3;
    r.nrows = 1;
    r.rows = rows;
    rows[0] = 0, rows[1] = 0, rows[2] = 0;
    assert_int_equal(campaign_stale_impossible(&c, &r, 0), -1);
    rows[2] = 1;
    assert_int_equal(campaign_stale_impossible(&c, &r, 0), 0);
    campaign_free(&c);
}

static void test_shipped_campaigns(void **state)
{
    static const char *const names[] = {"campaign-ci.ini", "campaign-full.ini"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct campaign c;
        char path[512], err[1024], desc[512];
        snprintf(path, sizeof(path), "%s/%s", SCENARIO_DIR, names[i]);
        if (campaign_load(&c, path, err, sizeof(err)))
            fail_msg("%s", err);
        assert_true(c.ndims >= 12);
        assert_true(strlen(c.description) > 10);
        campaign_free(&c);
        assert_int_equal(campaign_describe(path, desc, sizeof(desc)), 1);
        assert_null(strstr(desc, "invalid"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_pair_covered),
        cmocka_unit_test(test_every_triple_covered),
        cmocka_unit_test(test_strength_one),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_dropped_row_is_noticed),
        cmocka_unit_test(test_constraints),
        cmocka_unit_test(test_exclusions),
        cmocka_unit_test(test_refused_when_built),
        cmocka_unit_test(test_bad_spec),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_row_scenario),
        cmocka_unit_test(test_campaign_generation),
        cmocka_unit_test(test_budget_shares),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_impossible_declared),
        cmocka_unit_test(test_shipped_campaigns),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
