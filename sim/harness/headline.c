/*
 * headline: one run's verdict as figures and a sentence (see headline.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "headline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scenario.h"
#include "trial.h"

static const char *text_col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

static int fail_sql(sqlite3 *db, const char *what, char *err, size_t n)
{
    snprintf(err, n, "cannot read %s: %s", what, sqlite3_errmsg(db));
    return -1;
}

/* sql with its one parameter bound to run; NULL when it does not prepare. */
static sqlite3_stmt *per_run(sqlite3 *db, const char *sql, int64_t run)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(st, 1, run);
    return st;
}

void headline_bytes(uint64_t b, char *buf, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%llu B", (unsigned long long)b);
    else if (v == floor(v))
        snprintf(buf, n, "%.0f %s", v, unit[u]);
    else
        snprintf(buf, n, "%.*f %s", v < 10 ? 1 : 0, v, unit[u]);
}

void headline_count(uint64_t v, char *buf, size_t n)
{
    char digits[32], out[48];
    int len, i, o = 0;
    len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
    for (i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = 0;
    if (n) {
        size_t k = (size_t)o < n - 1 ? (size_t)o : n - 1;
        memcpy(buf, out, k);
        buf[k] = 0;
    }
}

void headline_probability(double p, char *buf, size_t n)
{
    char c[32];
    if (p >= 0.01) {
        snprintf(buf, n, "%.1f %%", 100 * p);
        return;
    }
    /* Small bounds read best as odds: "1 in 2,700" (two significant
     * digits, rounded down: the bound stays a bound). */
    {
        double odds = 1 / p, mag = pow(10, floor(log10(odds)) - 1);
        headline_count((uint64_t)(floor(odds / mag) * mag), c, sizeof(c));
        snprintf(buf, n, "%.2g %% (1 in %s)", 100 * p, c);
    }
}

double headline_upper95(uint64_t n)
{
    return n ? 1 - pow(0.05, 1.0 / (double)n) : 1;
}

/* Part: "SPI NOR, 1 MiB, 4 KiB erase units (preset w25q80)". */
static void describe_part(const struct scenario *sc, char *buf, size_t n)
{
    char size[24], unit[24];
    headline_bytes(sc->device.geo.size, size, sizeof(size));
    headline_bytes(sc->device.geo.erase_size, unit, sizeof(unit));
    snprintf(buf, n, "%s, %.23s, %.23s erase units%s%.31s%s",
             sc->device.geo.kind == SIM_NAND ? "NAND" : "NOR", size, unit,
             sc->preset[0] ? " (preset " : "", sc->preset,
             sc->preset[0] ? ")" : "");
}

/* The engine settings a reader weighs a verdict by. */
static void describe_settings(const struct scenario *sc, char *buf, size_t n)
{
    static const char *const hashes[] = {"no", "CRC-32", "MD5", "SHA-256"};
    const char *bh = sc->engine.hash < 4 ? hashes[sc->engine.hash] : "?";
    const char *dg = sc->engine.digest < 4 ? hashes[sc->engine.digest] : "?";
    snprintf(buf, n, "%s block hashes, %s image digest, verify %s, %s", bh, dg,
             sc->engine.verify ? "trusted" : "full",
             sc->engine.mirror ? "mirrored records" : "one record copy");
}

int headline_load(sqlite3 *db, int64_t run, struct headline *h, char *err,
                  size_t errlen)
{
    sqlite3_stmt *st;
    struct scenario sc;
    char serr[512];
    int rc, o = 0, shown = 0, has_engine;

    memset(h, 0, sizeof(*h));
    h->run = run;
    h->first_failing = -1;
    if (!(st = per_run(db,
                       "SELECT name, status, preset, image_size, "
                       "block_size, trials_planned, tool_version, "
                       "started_at, ended_at, scenario_text, "
                       /* runs.engine is schema 4's: older files say
                        * nothing of the engine that ran */
                       "(SELECT CASE WHEN EXISTS (SELECT 1 FROM "
                       "pragma_table_info('runs') WHERE name = 'engine') "
                       "THEN 1 ELSE 0 END) "
                       "FROM runs WHERE id = ?",
                       run)))
        return fail_sql(db, "the run", err, errlen);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) {
            snprintf(err, errlen, "no run %lld", (long long)run);
            return -1;
        }
        return fail_sql(db, "the run", err, errlen);
    }
    snprintf(h->name, sizeof(h->name), "%s", text_col(st, 0));
    snprintf(h->status, sizeof(h->status), "%s", text_col(st, 1));
    snprintf(h->preset, sizeof(h->preset), "%s", text_col(st, 2));
    h->image_size = (uint64_t)sqlite3_column_int64(st, 3);
    h->block_size = (uint32_t)sqlite3_column_int64(st, 4);
    h->planned = (uint64_t)sqlite3_column_int64(st, 5);
    snprintf(h->tool_version, sizeof(h->tool_version), "%s", text_col(st, 6));
    snprintf(h->started, sizeof(h->started), "%s", text_col(st, 7));
    snprintf(h->ended, sizeof(h->ended), "%s", text_col(st, 8));
    /* The stored scenario gives what the run row does not keep. A text
     * that no longer parses (an older tool's key) leaves those blank. */
    if (scenario_load_text(&sc, text_col(st, 9), h->name, serr, sizeof(serr)) ==
        0) {
        snprintf(h->description, sizeof(h->description), "%s", sc.description);
        h->limit_redownload = sc.expect.max_redownload_bytes;
        if (!h->limit_redownload && sc.expect.max_redownload_blocks)
            h->limit_redownload = (uint64_t)sc.expect.max_redownload_blocks *
                                  sc.engine.block_size;
        if (!sc.engine.kind[0] || !strcmp(sc.engine.kind, "fwresume"))
            snprintf(h->engine, sizeof(h->engine),
                     "fwresume (version not recorded)");
        else
            snprintf(h->engine, sizeof(h->engine), "%.63s", sc.engine.kind);
        describe_part(&sc, h->flash, sizeof(h->flash));
        /* Images travel as they are: no compression, encryption or delta
         * transform exists yet (docs/reports.md). */
        snprintf(h->transform, sizeof(h->transform),
                 "none (the plaintext image, block by block)");
        describe_settings(&sc, h->settings, sizeof(h->settings));
        scenario_free(&sc);
    }
    has_engine = sqlite3_column_int(st, 10);
    sqlite3_finalize(st);
    /* The engine the run used, as the program that ran it said. */
    if (has_engine) {
        if (!(st = per_run(db, "SELECT engine FROM runs WHERE id = ?", run)))
            return fail_sql(db, "the run's engine", err, errlen);
        if (sqlite3_step(st) == SQLITE_ROW &&
            sqlite3_column_type(st, 0) == SQLITE_TEXT)
            snprintf(h->engine, sizeof(h->engine), "%s", text_col(st, 0));
        sqlite3_finalize(st);
    }

    if (!(st = per_run(db,
                       "SELECT count(*), coalesce(sum(failed), 0), "
                       "coalesce(max(bytes_redownloaded), 0), "
                       "coalesce(sum(verdict = 'silent_corruption'), 0) "
                       "FROM trials WHERE run_id = ?",
                       run)))
        return fail_sql(db, "the trials", err, errlen);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return fail_sql(db, "the trials", err, errlen);
    }
    h->stored = (uint64_t)sqlite3_column_int64(st, 0);
    h->failing = (uint64_t)sqlite3_column_int64(st, 1);
    h->worst_redownload = (uint64_t)sqlite3_column_int64(st, 2);
    h->silent = (uint64_t)sqlite3_column_int64(st, 3);
    sqlite3_finalize(st);

    /* The failing trials by verdict, most first; and the unsafe count. */
    if (!(st = per_run(db,
                       "SELECT verdict_code, verdict, count(*) FROM "
                       "trials WHERE run_id = ? AND failed "
                       "GROUP BY verdict_code ORDER BY count(*) DESC, "
                       "verdict_code",
                       run)))
        return fail_sql(db, "the verdicts", err, errlen);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t c = (uint64_t)sqlite3_column_int64(st, 2);
        if (verdict_is_unsafe((enum verdict)sqlite3_column_int(st, 0)))
            h->unsafe += c;
        if (shown++ < 4 && o < (int)sizeof(h->top_verdicts))
            o += snprintf(h->top_verdicts + o, sizeof(h->top_verdicts) - o,
                          "%s%s %llu", o ? ", " : "", text_col(st, 1),
                          (unsigned long long)c);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail_sql(db, "the verdicts", err, errlen);

    if (!(st = per_run(db,
                       "SELECT trial_id, verdict, detail FROM trials "
                       "WHERE run_id = ? AND failed ORDER BY trial_id "
                       "LIMIT 1",
                       run)))
        return fail_sql(db, "the failing trials", err, errlen);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        h->first_failing = sqlite3_column_int64(st, 0);
        snprintf(h->first_detail, sizeof(h->first_detail), "%s: %s",
                 text_col(st, 1), text_col(st, 2));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail_sql(db, "the failing trials", err, errlen);
    return 0;
}

void headline_sentence(const struct headline *h, char *buf, size_t n)
{
    char a[32], b[32], w[24], l[24], limit[48] = "";
    headline_count(h->stored - h->failing, a, sizeof(a));
    headline_count(h->stored, b, sizeof(b));
    headline_bytes(h->worst_redownload, w, sizeof(w));
    if (h->limit_redownload) {
        headline_bytes(h->limit_redownload, l, sizeof(l));
        snprintf(limit, sizeof(limit), " (limit %s)", l);
    }
    if (!strcmp(h->status, "passed")) {
        snprintf(buf, n,
                 "%s of %s power cuts recovered; worst extra download %s%s; "
                 "0 silent corruptions",
                 a, b, w, limit);
    } else if (h->failing) {
        char f[32], s[32];
        headline_count(h->failing, f, sizeof(f));
        headline_count(h->silent, s, sizeof(s));
        snprintf(buf, n,
                 "%s of %s power cuts FAILED (%s); %s silent corruptions; "
                 "worst extra download %s%s",
                 f, b, h->top_verdicts, s, w, limit);
    } else {
        char p[32];
        headline_count(h->planned, p, sizeof(p));
        snprintf(buf, n,
                 "NOT FINISHED (%s): %s of %s planned power cuts stored, "
                 "all recovered so far; worst extra download %s%s",
                 h->status, b, p, w, limit);
    }
}

void headline_confidence(const struct headline *h, double cuts_per_update,
                         char *buf, size_t n)
{
    char pc[48], pu[48], cnt[32];
    double p, u;
    if (strcmp(h->status, "passed") || !h->stored || h->failing) {
        if (n)
            buf[0] = 0;
        return;
    }
    p = headline_upper95(h->stored);
    u = 1 - pow(1 - p, cuts_per_update);
    headline_probability(p, pc, sizeof(pc));
    headline_probability(u, pu, sizeof(pu));
    headline_count(h->stored, cnt, sizeof(cnt));
    snprintf(buf, n,
             "0 failures in %s power cuts: with 95 %% confidence a power cut "
             "fails with probability below %s, and an update with %g power "
             "cut%s below %s (one-sided Clopper-Pearson bound for 0 failures, "
             "1 - 0.05^(1/n); it speaks for cuts drawn as this scenario "
             "draws them, on this modelled part)",
             cnt, pc, cuts_per_update, cuts_per_update == 1 ? "" : "s", pu);
}
