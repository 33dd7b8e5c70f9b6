/*
 * cmd_campaign: `fotasim campaign FILE`. Reads the campaign, builds the
 * covering array (campaign.c), shares the time budget among its rows and
 * runs each row as one torture run, as `fotasim run` does: workers_run
 * with -j, one database, one row in runs per generated run. Exit status:
 * 0 every run passed, 1 some run failed, 2 bad input, 3 a storage error
 * (as for fotasim run: a run that could not be logged proves nothing
 * either way, so it must not read as a failed run), 130 interrupted.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "clock.h"
#include "db.h"
#include "junit.h"
#include "torture.h"
#include "workers.h"

#define EXIT_FAILED      1
#define EXIT_USAGE       2
#define EXIT_STORAGE     3
#define EXIT_INTERRUPTED 130

static volatile sig_atomic_t stop_signal;
static pid_t main_pid;

/* The workers fork from this process and inherit the handler: a worker
 * told to stop (workers_run sends SIGTERM when the sink stops, as on
 * --fail-fast) must stop now, not finish its share first. */
static void on_signal(int sig)
{
    if (getpid() != main_pid)
        _exit(128 + sig);
    stop_signal = 1;
}

static int usage(FILE *to)
{
    fprintf(to,
            "usage: fotasim campaign FILE [options]\n\n"
            "Builds a covering array over the campaign's dimensions (every "
            "pair of values, or every\nt values at strength t, in some run; "
            "the combinations no valid run can hold are named),\nshares the "
            "time budget among the runs and runs each one, all into one "
            "database.\n\n"
            "  --db FILE        SQLite outcome log (default: "
            "fotasim-campaign.db)\n"
            "  -j N             N worker processes per run (default 1); same "
            "verdicts for any N\n"
            "  --budget D       override the campaign's budget (one core's "
            "time: 150s, 2.5m, 1h)\n"
            "  --shard I/N      run only runs with (number - 1) %% N == I; "
            "'auto' as for fotasim run\n"
            "  --fail-fast      stop at the first failing trial (its run is "
            "marked failed)\n"
            "  --list           print the runs, their plans and the "
            "impossible combinations; run nothing\n"
            "  --quiet          no line per passing run\n\n"
            "Exit status: 0 every run passed, 1 some run failed, 2 bad input, "
            "3 storage error,\n130 interrupted. docs/campaign.md tells "
            "more.\n");
    return to == stderr ? EXIT_USAGE : 0;
}

/* A database error, naming the file once whether or not the message
 * already does. */
static void db_fail(struct db *db, const char *path)
{
    const char *m = db_errmsg(db);
    size_t n = strlen(path);
    if (!strncmp(m, path, n) && m[n] == ':')
        fprintf(stderr, "fotasim campaign: %s\n", m);
    else
        fprintf(stderr, "fotasim campaign: %s: %s\n", path, m);
}

/* ------------------------------------------------------------ a run */

struct crun {
    struct db *db;
    const char *db_path;
    int64_t run_id;
    uint64_t failing;
    struct trial first; /* lowest-numbered failing trial */
    int have_fail;
    int storage_error;
    int fail_fast;
};

static int csink(void *user, const struct trial *t)
{
    struct crun *r = user;
    if (db_trial_add(r->db, r->run_id, t)) {
        db_fail(r->db, r->db_path);
        r->storage_error = 1;
        return 1;
    }
    if (t->failed) {
        r->failing++;
        if (!r->have_fail || t->id < r->first.id)
            r->first = *t;
        r->have_fail = 1;
        if (r->fail_fast)
            return 1;
    }
    return stop_signal ? 1 : 0;
}

struct outcome {
    int ran, failed;
    int64_t run_id;
    double cpu_s;
    uint64_t trials, failing;
    struct trial first;
    int have_fail;
    double wall_s;
};

static void verdict_list(const struct torture_result *res, char *buf, size_t n)
{
    size_t at = 0;
    int v;
    buf[0] = 0;
    for (v = 0; v < VERDICT_COUNT && at < n; v++)
        if (res->verdicts[v])
            at +=
                (size_t)snprintf(buf + at, n - at, "%s%s %llu", at ? ", " : "",
                                 verdict_name((enum verdict)v),
                                 (unsigned long long)res->verdicts[v]);
}

/*
 * Run one row. 0 ran (o->failed says how), EXIT_USAGE when it could not be
 * built, EXIT_STORAGE when it could not be logged (either ends the
 * campaign), EXIT_INTERRUPTED.
 */
static int run_row(const struct campaign *c, const int *row, int number,
                   int width, const struct campaign_plan *plan, struct db *db,
                   const char *db_path, unsigned jobs, int fail_fast, int quiet,
                   struct outcome *o)
{
    char name[96], strat[48], count[48], why[512], err[512] = "";
    const char *extra[4];
    struct scenario sc;
    struct torture *t = NULL;
    struct torture_result res;
    struct db_run_info info;
    struct crun cr;
    struct shard whole = {0, 1};
    uint8_t *skip = NULL;
    uint32_t *worst = NULL, u;
    int rc, status = 0;
    double t0 = clock_wall_s(), c0 = clock_process_cpu_s();

    memset(o, 0, sizeof(*o));
    /* The run's name says which campaign row it is: campaign-ci#07. */
    snprintf(name, sizeof(name), "scenario.name=%s#%0*d", c->name, width,
             number);
    snprintf(strat, sizeof(strat), "cuts.strategy=%s",
             plan->exhaustive ? "exhaustive" : "random");
    snprintf(count, sizeof(count), "cuts.count=%u",
             plan->count ? plan->count : 1);
    extra[0] = name;
    extra[1] = strat;
    extra[2] = plan->exhaustive ? NULL : count;
    extra[3] = NULL;
    if (campaign_scenario(c, row, extra, &sc, why, sizeof(why))) {
        fprintf(stderr, "fotasim campaign: run %d: %s\n", number, why);
        return EXIT_USAGE;
    }
    if (torture_create(&t, &sc, err, sizeof(err))) {
        fprintf(stderr, "fotasim campaign: run %d: %s\n", number, err);
        scenario_free(&sc);
        return EXIT_USAGE;
    }
    memset(&cr, 0, sizeof(cr));
    cr.db = db;
    cr.db_path = db_path;
    cr.fail_fast = fail_fast;
    skip = calloc(torture_planned(t) + 1, 1);
    worst = calloc(torture_unit_count(t) + 1, sizeof(*worst));
    if (!skip || !worst) {
        fprintf(stderr, "fotasim campaign: out of memory\n");
        status = EXIT_USAGE;
        goto out;
    }
    if (db_run_begin(db, &sc, torture_boundaries(t), torture_planned(t),
                     &info)) {
        db_fail(db, db_path);
        status = EXIT_STORAGE;
        goto out;
    }
    cr.run_id = info.run_id;
    o->run_id = info.run_id;
    rc = workers_run(t, jobs, whole, skip, csink, &cr, &res, worst);
    for (u = 0; u < torture_unit_count(t) && !cr.storage_error; u++)
        if ((torture_update_erases(t, u) || worst[u]) &&
            db_wear_add(db, info.run_id, u, torture_update_erases(t, u),
                        worst[u])) {
            db_fail(db, db_path);
            cr.storage_error = 1;
        }
    if (!cr.storage_error && db_flush(db)) {
        db_fail(db, db_path);
        cr.storage_error = 1;
    }
    o->ran = 1;
    o->trials = res.trials;
    o->failing = cr.failing;
    o->first = cr.first;
    o->have_fail = cr.have_fail;
    /* A run error, or a stop that was not ours, fails the run: its
     * trials are not all there. */
    o->failed = res.failed || cr.failing ||
                (rc && !(fail_fast && cr.have_fail) && !stop_signal);
    if (cr.storage_error) {
        /* Not judged: its trials are not all in the file. Mark it failed
         * if the database still takes that; the campaign ends. */
        o->failed = 0;
        db_run_end(db, info.run_id, RUN_FAILED);
        status = EXIT_STORAGE;
        goto out;
    }
    if (stop_signal && !(fail_fast && cr.have_fail)) {
        if (db_run_end(db, info.run_id, RUN_INTERRUPTED)) {
            db_fail(db, db_path);
            status = EXIT_STORAGE;
        } else
            status = EXIT_INTERRUPTED;
        goto out;
    }
    if (db_run_end(db, info.run_id, o->failed ? RUN_FAILED : RUN_PASSED)) {
        db_fail(db, db_path);
        status = EXIT_STORAGE;
        goto out;
    }
    if (rc && o->failed && !cr.failing)
        fprintf(stderr, "fotasim campaign: run %d failed (error %d)\n", number,
                rc);
    o->wall_s = clock_wall_s() - t0;
    o->cpu_s = clock_process_cpu_s() - c0;
    if (!quiet || o->failed) {
        char combo[512], verdicts[256];
        campaign_row_text(c, row, combo, sizeof(combo));
        verdict_list(&res, verdicts, sizeof(verdicts));
        {
            printf(
                "#%0*d %s: %llu boundaries, %llu trials (%s): %s  %s  "
                "%.2f s (cpu %.2f s, est %.2f s)\n",
                width, number, combo, (unsigned long long)torture_boundaries(t),
                (unsigned long long)res.trials,
                plan->exhaustive ? "every boundary" : "random", verdicts,
                o->failed ? "FAIL" : "pass", o->wall_s, o->cpu_s, plan->est_s);
        }
    }
out:
    free(skip);
    free(worst);
    torture_destroy(t);
    scenario_free(&sc);
    return status;
}

/* ------------------------------------------------------------ output */

static void print_combo(const struct campaign *c,
                        const struct cover_impossible *p, FILE *to)
{
    int k;
    for (k = 0; k < p->n; k++)
        fprintf(to, "%s%s=%s", k ? " " : "", c->dims[p->dim[k]].name,
                c->dims[p->dim[k]].v[p->val[k]].name);
}

/* The impossible combinations; with only_undeclared, those the file does
 * not expect (returns how many there are either way). */
static int print_impossible(const struct campaign *c,
                            const struct cover_result *r, int only_undeclared,
                            FILE *to)
{
    int i, undeclared = 0;
    for (i = 0; i < r->nimpossible; i++) {
        const struct cover_impossible *p = &r->imp[i];
        int known = campaign_declared(c, p) != NULL;
        undeclared += !known;
        if (only_undeclared && known)
            continue;
        fprintf(to, "  ");
        print_combo(c, p, to);
        fprintf(to, ": %s%s\n", p->why,
                known || only_undeclared
                    ? ""
                    : "  [NOT DECLARED: no [exclude] or [impossible] line "
                      "names it]");
    }
    return undeclared;
}

/*
 * The file's expectations of impossibility against what generation found:
 * a combination no valid run holds that no [exclude] or [impossible] line
 * names means the engine or the scenario refuses what the file says it
 * takes (a broken engine refusing every geometry once made a campaign of
 * 0 runs pass); an [impossible] line that some run holds is out of date.
 * 0, EXIT_FAILED or EXIT_USAGE, with the reasons printed.
 */
static int check_impossibles(const struct campaign *c,
                             const struct cover_result *r)
{
    int i, k, undeclared = 0;
    for (i = 0; i < r->nimpossible; i++)
        undeclared += campaign_declared(c, &r->imp[i]) == NULL;
    if (undeclared) {
        printf("combinations no valid run holds, which %s does not declare "
               "impossible:\n",
               c->path);
        print_impossible(c, r, 1, stdout);
        printf("FAILED: %d combination%s of the campaign cannot be run: the "
               "engine or the scenario refuses %s the file says it takes "
               "(declare %s in [impossible] with the reason if that is "
               "right)\n",
               undeclared, undeclared == 1 ? "" : "s",
               undeclared == 1 ? "one" : "them",
               undeclared == 1 ? "it" : "them");
        return EXIT_FAILED;
    }
    if ((k = campaign_stale_impossible(c, r, 0)) >= 0) {
        fprintf(stderr,
                "fotasim campaign: [impossible] %s: a run holds every value "
                "it names: the combination is possible now; remove the "
                "line\n",
                c->impossible_label[k]);
        return EXIT_USAGE;
    }
    return 0;
}

static const char *way_name(int t)
{
    static const char *const n[] = {"", "single values", "pairs", "triples",
                                    "4-way combinations"};
    return t >= 1 && t <= 4 ? n[t] : "combinations";
}

/* ------------------------------------------------------------ command */

int cmd_campaign(int argc, char **argv, const char *prog)
{
    const char *path = NULL, *db_path = "fotasim-campaign.db";
    char err[1024] = "";
    int i, list = 0, quiet = 0, fail_fast = 0, status = 0, width, nrun = 0;
    int nfailed = 0;
    unsigned jobs = 1;
    uint64_t budget = 0, trials = 0, est_trials = 0;
    double est_s = 0, t0, gen_s;
    struct shard sh = {0, 1};
    struct campaign c;
    struct campaign_gen *g = NULL;
    struct cover_spec spec;
    struct cover_result cov;
    struct campaign_figures *fig = NULL;
    struct campaign_plan *plan = NULL;
    struct outcome *outc = NULL;
    int levels[COVER_MAX_DIMS];
    struct db *db = NULL;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout);
        if (!strcmp(a, "--list"))
            list = 1;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strcmp(a, "--fail-fast"))
            fail_fast = 1;
        else if (i + 1 < argc && !strcmp(a, "--db"))
            db_path = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--budget")) {
            if (campaign_parse_duration(argv[++i], &budget) || !budget) {
                fprintf(stderr,
                        "fotasim campaign: --budget %s: a duration above 0 "
                        "(150s, 2.5m, 1h)\n",
                        argv[i]);
                return EXIT_USAGE;
            }
        } else if (i + 1 < argc && !strcmp(a, "-j")) {
            char *end;
            unsigned long j = strtoul(argv[++i], &end, 10);
            if (*end || j < 1 || j > 64) {
                fprintf(stderr, "fotasim campaign: -j %s: 1 to 64\n", argv[i]);
                return EXIT_USAGE;
            }
            jobs = (unsigned)j;
        } else if (i + 1 < argc && !strcmp(a, "--shard")) {
            if (shard_parse(argv[++i], &sh, err, sizeof(err))) {
                fprintf(stderr, "fotasim campaign: %s\n", err);
                return EXIT_USAGE;
            }
        } else if (a[0] != '-' && !path)
            path = a;
        else {
            fprintf(stderr,
                    "fotasim campaign: unknown or incomplete option '%s'\n", a);
            return usage(stderr);
        }
    }
    if (!path)
        return usage(stderr);
    if (campaign_load(&c, path, err, sizeof(err))) {
        fprintf(stderr, "fotasim campaign: %s\n", err);
        campaign_free(&c);
        return EXIT_USAGE;
    }
    if (budget)
        c.budget_ns = budget;

    t0 = clock_wall_s();
    g = campaign_gen_new(&c, 1);
    if (!g) {
        fprintf(stderr, "fotasim campaign: out of memory\n");
        campaign_free(&c);
        return EXIT_USAGE;
    }
    campaign_gen_spec(g, &spec, levels);
    if (cover_generate(&spec, &cov, err, sizeof(err))) {
        fprintf(stderr, "fotasim campaign: %s: %s\n", path, err);
        campaign_gen_free(g);
        campaign_free(&c);
        return EXIT_USAGE;
    }
    gen_s = clock_wall_s() - t0;
    fig = calloc((size_t)cov.nrows + 1, sizeof(*fig));
    plan = calloc((size_t)cov.nrows + 1, sizeof(*plan));
    outc = calloc((size_t)cov.nrows + 1, sizeof(*outc));
    if (!fig || !plan || !outc) {
        fprintf(stderr, "fotasim campaign: out of memory\n");
        status = EXIT_USAGE;
        goto out;
    }
    for (i = 0; i < cov.nrows; i++)
        if (campaign_gen_figures(g, cov.rows + (size_t)i * (size_t)c.ndims,
                                 &fig[i])) {
            fprintf(stderr, "fotasim campaign: run %d was never built\n",
                    i + 1);
            status = EXIT_USAGE;
            goto out;
        }
    /* The plan covers every row, whatever the shard: a shard runs its
     * rows exactly as the whole campaign would. */
    campaign_plan_budget(c.budget_ns, c.min_trials, fig, cov.nrows, plan);
    for (i = 0; i < cov.nrows; i++) {
        est_s += plan[i].est_s;
        est_trials += plan[i].trials;
    }
    width = cov.nrows >= 100 ? 3 : 2;

    printf("campaign %s (%s): base %s, %d dimensions, strength %d, "
           "%d runs\n",
           c.name, path, c.base_path, c.ndims, c.strength, cov.nrows);
    printf("  %s: %llu, %llu covered, %llu impossible; generated in %.1f s "
           "(%llu checks, %llu builds)\n",
           way_name(c.strength), (unsigned long long)cov.tuples,
           (unsigned long long)cov.covered, (unsigned long long)cov.impossible,
           gen_s, (unsigned long long)cov.checks,
           (unsigned long long)cov.confirms);
    printf("  budget %.0f s of one core: about %llu trials, %.0f s "
           "estimated (divide by -j)\n",
           c.budget_ns / 1e9, (unsigned long long)est_trials, est_s);
    if (sh.count > 1)
        printf("  shard %llu/%llu: runs with (number - 1) %% %llu == %llu\n",
               (unsigned long long)sh.index, (unsigned long long)sh.count,
               (unsigned long long)sh.count, (unsigned long long)sh.index);

    if (list) {
        printf("dimensions:\n");
        for (i = 0; i < c.ndims; i++) {
            int v;
            printf("  %-12s", c.dims[i].name);
            for (v = 0; v < c.dims[i].nvalues; v++)
                printf(" %s", c.dims[i].v[v].name);
            printf("\n");
        }
        printf("runs:\n");
        for (i = 0; i < cov.nrows; i++) {
            char combo[512];
            if ((uint64_t)i % sh.count != sh.index)
                continue;
            campaign_row_text(&c, cov.rows + (size_t)i * (size_t)c.ndims, combo,
                              sizeof(combo));
            printf("  #%0*d %s: %llu boundaries, ", width, i + 1, combo,
                   (unsigned long long)fig[i].boundaries);
            if (plan[i].exhaustive)
                printf("every boundary");
            else
                printf("random %u", plan[i].count);
            printf(", est %.2f s\n", plan[i].est_s);
        }
        printf("impossible (no valid run holds these; larger combinations "
               "holding them are counted only):\n");
        if (!cov.nimpossible)
            printf("  none\n");
        if (print_impossible(&c, &cov, 0, stdout))
            status = EXIT_FAILED;
        goto out;
    }
    status = check_impossibles(&c, &cov);
    if (status)
        goto out;

    if (db_open(&db, db_path, err, sizeof(err))) {
        fprintf(stderr, "fotasim campaign: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    main_pid = getpid();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    t0 = clock_wall_s();
    for (i = 0; i < cov.nrows; i++) {
        struct outcome *o = &outc[i];
        int rc;
        if ((uint64_t)i % sh.count != sh.index)
            continue;
        rc = run_row(&c, cov.rows + (size_t)i * (size_t)c.ndims, i + 1, width,
                     &plan[i], db, db_path, jobs, fail_fast, quiet, o);
        nrun += o->ran;
        trials += o->trials;
        nfailed += o->failed;
        if (rc) {
            status = rc;
            break;
        }
        if (o->failed) {
            if (o->have_fail) {
                char replay[400];
                junit_replay_command(replay, sizeof(replay), prog, db_path,
                                     o->run_id, o->first.id);
                printf("  first failing trial %llu: %s: %s\n  replay: %s\n",
                       (unsigned long long)o->first.id,
                       verdict_name((enum verdict)o->first.verdict),
                       o->first.detail, replay);
            }
            if (fail_fast)
                break;
        }
    }
    /* The summary, also after a stop: what ran is in the database. */
    printf("\ncampaign %s: %d runs, %llu trials, %.1f s (-j %u)\n", c.name,
           nrun, (unsigned long long)trials, clock_wall_s() - t0, jobs);
    printf("  %s: %llu of %llu covered by the %d runs, %llu impossible "
           "(--list names them)\n",
           way_name(c.strength), (unsigned long long)cov.covered,
           (unsigned long long)cov.tuples, cov.nrows,
           (unsigned long long)cov.impossible);
    printf("  results: %s\n", db_path);
    if (nfailed) {
        printf("  failing runs:\n");
        for (i = 0; i < cov.nrows; i++) {
            char combo[512], replay[400];
            if (!outc[i].failed)
                continue;
            campaign_row_text(&c, cov.rows + (size_t)i * (size_t)c.ndims, combo,
                              sizeof(combo));
            printf("    #%0*d %s: %llu failing trials\n", width, i + 1, combo,
                   (unsigned long long)outc[i].failing);
            if (outc[i].have_fail) {
                junit_replay_command(replay, sizeof(replay), prog, db_path,
                                     outc[i].run_id, outc[i].first.id);
                printf("      replay: %s\n", replay);
            }
        }
    }
    /* Everything committed before the verdict: a campaign whose last
     * trials did not reach the file has not passed. */
    if (status != EXIT_STORAGE && db_flush(db)) {
        db_fail(db, db_path);
        status = EXIT_STORAGE;
    }
    if (status == EXIT_INTERRUPTED)
        printf("INTERRUPTED: runs so far are in %s\n", db_path);
    else if (status == EXIT_STORAGE)
        printf("STORAGE ERROR: %s could not hold the campaign; it has not "
               "passed\n",
               db_path);
    else if (status)
        printf("ERROR: the campaign could not be run\n");
    else if (nfailed) {
        printf("FAILED: %d of %d runs did not meet their scenario's "
               "expectations\n",
               nfailed, nrun);
        status = EXIT_FAILED;
    } else
        printf("PASSED: every run met its scenario's expectations\n");
out:
    db_close(db);
    free(fig);
    free(plan);
    free(outc);
    cover_free(&cov);
    campaign_gen_free(g);
    campaign_free(&c);
    return status;
}
