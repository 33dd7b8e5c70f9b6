/* sweep: see sweep.h. The runs themselves are driven by main.c. */
#include "sweep.h"

#include <errno.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

#include "scenario.h"
#include "torture.h"

double sweep_cut_cost_s(const struct scenario *sc, const struct trial *t,
                        double *scan_s)
{
    double cpu_s = (double)t->blocks_resumed * sc->engine.block_size /
                   (double)sc->engine.cpu_hash_rate;
    double link_s =
        (double)t->bytes_redownloaded /
            (double)(sc->link.bandwidth_bps ? sc->link.bandwidth_bps : 1) +
        sc->link.latency_ns / 1e9;
    *scan_s = t->scan_ns / 1e9 + cpu_s;
    return *scan_s + link_s;
}

void sweep_cost_add(struct sweep_costs *c, struct sweep_row *r,
                    const struct scenario *sc, const struct trial *t)
{
    double scan_s, cut_s = sweep_cut_cost_s(sc, t, &scan_s);
    c->n++;
    /* A value is eligible only when every trial passed: a cost bound the
     * scenario sets is part of what "best" must meet. */
    sweep_count_trial(r, t);
    c->sum_redownload += (double)t->bytes_redownloaded;
    if ((double)t->bytes_redownloaded > c->max_redownload)
        c->max_redownload = (double)t->bytes_redownloaded;
    c->sum_scan_ms += scan_s * 1e3;
    c->sum_cut_s += cut_s;
}

void sweep_row_finish(struct sweep_row *r, const struct sweep_costs *c,
                      const struct torture_result *res,
                      const struct scenario_layout *lay, uint32_t ram_bytes,
                      const struct cut_rate *rate)
{
    double n = c->n ? (double)c->n : 1;
    r->ok = 1;
    r->trials = res->trials;
    memcpy(r->verdicts, res->verdicts, sizeof(r->verdicts));
    r->record_bytes =
        lay->record_size * (lay->mirror_addr != ENGINE_NO_MIRROR ? 2u : 1u);
    r->record_share =
        (double)r->record_bytes / (double)(lay->part_hi - lay->part_lo);
    r->mean_redownload = c->sum_redownload / n;
    r->max_redownload = c->max_redownload;
    r->update_erases = res->update_erases;
    r->scan_ms = c->sum_scan_ms / n;
    r->ram_bytes = ram_bytes;
    r->update_s = res->update_ns / 1e9;
    r->cut_cost_s = c->sum_cut_s / n;
    r->cuts_per_update = sweep_cuts_per_update(rate, r->update_s);
    r->expected_s = r->update_s + r->cuts_per_update * r->cut_cost_s;
}

void sweep_count_trial(struct sweep_row *r, const struct trial *t)
{
    if (!t->failed)
        return;
    if (!r->failing++)
        snprintf(r->reason, sizeof(r->reason), "trial %llu: %s: %s",
                 (unsigned long long)t->id,
                 verdict_name((enum verdict)t->verdict), t->detail);
    r->unsafe += (uint64_t)verdict_is_unsafe((enum verdict)t->verdict);
}

int sweep_status(const struct sweep_row *rows, int n)
{
    int i, second;
    for (i = 0; i < n; i++)
        if (rows[i].ok && rows[i].unsafe)
            return 1;
    return sweep_best(rows, n, &second) < 0;
}

int sweep_best(const struct sweep_row *rows, int n, int *second)
{
    int i, best = -1;
    *second = -1;
    for (i = 0; i < n; i++) {
        if (!rows[i].ok || rows[i].failing)
            continue;
        if (best < 0 || rows[i].expected_s < rows[best].expected_s) {
            *second = best;
            best = i;
        } else if (*second < 0 ||
                   rows[i].expected_s < rows[*second].expected_s) {
            *second = i;
        }
    }
    return best;
}

static void human(char *buf, size_t n, double bytes)
{
    if (bytes >= 1048576)
        snprintf(buf, n, "%.1fM", bytes / 1048576);
    else if (bytes >= 1024)
        snprintf(buf, n, "%.1fK", bytes / 1024);
    else
        snprintf(buf, n, "%.0f", bytes);
}

void sweep_print(FILE *to, const char *key, const struct sweep_row *rows, int n,
                 const struct cut_rate *rate)
{
    int i, best, second, w = (int)strlen(key);
    char a[16], b[16], c[16], ratebuf[64];

    /* The first column fits the key and every value (engine names). */
    for (i = 0; i < n; i++)
        if ((int)strlen(rows[i].value) > w)
            w = (int)strlen(rows[i].value);
    if (w < 10)
        w = 10;

    /* Unsafe values first: they are the news, whatever is best. */
    for (i = 0; i < n; i++)
        if (rows[i].ok && rows[i].unsafe)
            fprintf(to,
                    "UNSAFE: %s = %s: %llu of %llu trials unsafe (first: "
                    "%s)\n",
                    key, rows[i].value, (unsigned long long)rows[i].unsafe,
                    (unsigned long long)rows[i].trials, rows[i].reason);
    fprintf(to, "\n%-*s %-14s %-15s %-12s %-9s %-8s %-7s %-9s %-10s %s\n", w,
            key, "record area", "re-dl/cut mean", "max", "erases", "max/unit",
            "scan ms", "RAM", "update s", "expected s  verdicts");
    for (i = 0; i < n; i++) {
        const struct sweep_row *r = &rows[i];
        if (!r->ok) {
            fprintf(to, "%-*s refused: %s\n", w, r->value, r->why);
            continue;
        }
        human(a, sizeof(a), r->record_bytes);
        human(b, sizeof(b), r->mean_redownload);
        human(c, sizeof(c), r->max_redownload);
        fprintf(to,
                "%-*s %6s (%4.1f%%) %-15s %-12s %-9llu %-8u %-7.1f %-9u "
                "%-10.2f %-11.2f",
                w, r->value, a, 100 * r->record_share, b, c,
                (unsigned long long)r->update_erases, r->max_unit_erases,
                r->scan_ms, r->ram_bytes, r->update_s, r->expected_s);
        {
            int v, first = 1;
            for (v = 0; v < VERDICT_COUNT; v++)
                if (r->verdicts[v]) {
                    fprintf(to, "%s%s %llu", first ? " " : ", ",
                            verdict_name((enum verdict)v),
                            (unsigned long long)r->verdicts[v]);
                    first = 0;
                }
        }
        fputc('\n', to);
    }
    for (i = 0; i < n; i++)
        if (rows[i].ok && rows[i].failing && !rows[i].unsafe)
            fprintf(to,
                    "not eligible: %s = %s: %llu of %llu trials fail the "
                    "scenario's expectations (first: %s)\n",
                    key, rows[i].value, (unsigned long long)rows[i].failing,
                    (unsigned long long)rows[i].trials, rows[i].reason);
    best = sweep_best(rows, n, &second);
    sweep_cut_rate_text(rate, ratebuf, sizeof(ratebuf));
    if (rate->unit == CUT_RATE_PER_UPDATE)
        fprintf(to,
                "\nobjective: least expected update time (uncut update + "
                "%.2f power cuts x mean cost of a cut),\n           among "
                "values whose every trial passed (verdicts and every "
                "[expect] bound)\n",
                rate->n);
    else
        fprintf(to,
                "\nobjective: least expected update time (uncut update + "
                "power cuts x mean cost of a cut,\n           at %s: cuts "
                "per update = rate x the value's uncut update time),\n"
                "           among values whose every trial passed (verdicts "
                "and every [expect] bound)\n",
                ratebuf);
    if (best < 0) {
        fprintf(to, "no value met the objective: every one has failing "
                    "trials or was refused\n");
        return;
    }
    fprintf(to,
            "best: %s = %s: %.2f s expected (%.2f s update + %.2f s per "
            "cut: %.1f ms boot scan, %s re-downloaded on average)\n",
            key, rows[best].value, rows[best].expected_s, rows[best].update_s,
            rows[best].cut_cost_s, rows[best].scan_ms,
            (human(a, sizeof(a), rows[best].mean_redownload), a));
    if (second >= 0)
        fprintf(to,
                "runner-up: %s = %s: %.2f s expected (%+.1f%%), record area "
                "%u bytes against %u, engine RAM %u bytes against %u\n",
                key, rows[second].value, rows[second].expected_s,
                100 * (rows[second].expected_s - rows[best].expected_s) /
                    rows[best].expected_s,
                rows[second].record_bytes, rows[best].record_bytes,
                rows[second].ram_bytes, rows[best].ram_bytes);
}

int sweep_cut_rate_parse(const char *s, struct cut_rate *out, char *err,
                         size_t errlen)
{
    char *end;
    double n;
    errno = 0;
    n = strtod(s, &end);
    if (end == s || errno || !(n >= 0) || n > 1e9) {
        snprintf(err, errlen,
                 "expected a number >= 0, optionally /update, /h or /day");
        return -1;
    }
    out->n = n;
    if (!*end || !strcmp(end, "/update"))
        out->unit = CUT_RATE_PER_UPDATE;
    else if (!strcmp(end, "/h") || !strcmp(end, "/hour"))
        out->unit = CUT_RATE_PER_HOUR;
    else if (!strcmp(end, "/day") || !strcmp(end, "/d"))
        out->unit = CUT_RATE_PER_DAY;
    else {
        snprintf(err, errlen, "unknown unit '%s' (use /update, /h or /day)",
                 end);
        return -1;
    }
    return 0;
}

double sweep_cuts_per_update(const struct cut_rate *r, double update_s)
{
    switch (r->unit) {
    case CUT_RATE_PER_HOUR:
        return r->n * update_s / 3600.0;
    case CUT_RATE_PER_DAY:
        return r->n * update_s / 86400.0;
    default:
        return r->n;
    }
}

void sweep_cut_rate_text(const struct cut_rate *r, char *buf, size_t n)
{
    static const char *const unit[] = {"update", "hour", "day"};
    snprintf(buf, n, "%g power cuts per %s", r->n, unit[r->unit]);
}
