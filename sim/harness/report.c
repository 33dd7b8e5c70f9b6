/*
 * report: `fotasim report DB -o DIR` writes DIR/report.html (self-contained:
 * charts as inline SVG drawn by gnuplot) and DIR/summary.md (fits a CI job
 * summary). The queries are the .sql files in reports/, so the same numbers
 * come out of the sqlite3 shell. docs/reports.md explains each part.
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"

struct rep {
    sqlite3 *h;
    const char *sql_dir, *db_path, *dir;
    FILE *html, *md;
    char err[512];
    int charts;
};

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) || !(buf = malloc((size_t)n + 1))) {
        fclose(fp);
        return NULL;
    }
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        fclose(fp);
        return NULL;
    }
    buf[n] = 0;
    fclose(fp);
    return buf;
}

/* Prepare reports/<name>.sql, binding :run. */
static sqlite3_stmt *query(struct rep *r, const char *name, int64_t run)
{
    char path[1024];
    char *sql;
    sqlite3_stmt *st = NULL;
    int i;

    snprintf(path, sizeof(path), "%s/%s.sql", r->sql_dir, name);
    sql = slurp(path);
    if (!sql) {
        snprintf(r->err, sizeof(r->err), "%.400s: cannot read: %s", path,
                 strerror(errno));
        return NULL;
    }
    if (sqlite3_prepare_v2(r->h, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(r->err, sizeof(r->err), "%.300s: %.200s", path,
                 sqlite3_errmsg(r->h));
        free(sql);
        return NULL;
    }
    free(sql);
    i = sqlite3_bind_parameter_index(st, ":run");
    if (i)
        sqlite3_bind_int64(st, i, run);
    return st;
}

static void esc(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", fp);
        else if (*s == '>')
            fputs("&gt;", fp);
        else if (*s == '&')
            fputs("&amp;", fp);
        else
            fputc(*s, fp);
    }
}

static const char *col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

/* A whole result set as an HTML table (and, when md, a Markdown one). */
static int table(struct rep *r, sqlite3_stmt *st, int md)
{
    int n = sqlite3_column_count(st), i, rows = 0, rc;
    fputs("<table><tr>", r->html);
    for (i = 0; i < n; i++) {
        fputs("<th>", r->html);
        esc(r->html, sqlite3_column_name(st, i));
        fputs("</th>", r->html);
        if (md)
            fprintf(r->md, "| %s ", sqlite3_column_name(st, i));
    }
    fputs("</tr>\n", r->html);
    if (md) {
        fputs("|\n", r->md);
        for (i = 0; i < n; i++)
            fputs("|---", r->md);
        fputs("|\n", r->md);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fputs("<tr>", r->html);
        for (i = 0; i < n; i++) {
            fputs("<td>", r->html);
            esc(r->html, col(st, i));
            fputs("</td>", r->html);
            if (md)
                fprintf(r->md, "| %s ", col(st, i));
        }
        fputs("</tr>\n", r->html);
        if (md)
            fputs("|\n", r->md);
        rows++;
    }
    fputs("</table>\n", r->html);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? rows : -1;
}

/*
 * Draw a chart with gnuplot from the rows of st (numeric columns written
 * as a data file) and inline the SVG. plot is gnuplot's plot command, using
 * 'DATA' for the data file.
 */
static int chart(struct rep *r, sqlite3_stmt *st, const char *title,
                 const char *xlabel, const char *ylabel, const char *plot)
{
    char data[1024], svg[1024], script[1024], cmd[3200];
    FILE *fp;
    char *out;
    int n, i, rows = 0, rc;
    const char *p;

    snprintf(data, sizeof(data), "%s/.chart%d.dat", r->dir, r->charts);
    snprintf(svg, sizeof(svg), "%s/.chart%d.svg", r->dir, r->charts);
    snprintf(script, sizeof(script), "%s/.chart%d.gp", r->dir, r->charts);
    r->charts++;
    fp = fopen(data, "w");
    if (!fp)
        return -1;
    n = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < n; i++)
            fprintf(fp, "%s%s", i ? "\t" : "",
                    sqlite3_column_type(st, i) == SQLITE_NULL ? "0"
                                                              : col(st, i));
        fputc('\n', fp);
        rows++;
    }
    sqlite3_finalize(st);
    fclose(fp);
    if (!rows) {
        fprintf(r->html, "<p class=\"empty\">%s: no data</p>\n", title);
        unlink(data);
        return 0;
    }
    fp = fopen(script, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "set terminal svg size 760,320 dynamic font 'sans,11'\n"
            "set output '%s'\nset title '%s'\nset xlabel '%s'\n"
            "set ylabel '%s'\nset grid\nset key outside right top\n"
            "set datafile separator '\\t'\n",
            svg, title, xlabel, ylabel);
    /* Substitute DATA with the file name. */
    for (p = plot; *p; p++) {
        if (!strncmp(p, "DATA", 4)) {
            fprintf(fp, "'%s'", data);
            p += 3;
        } else {
            fputc(*p, fp);
        }
    }
    fputc('\n', fp);
    fclose(fp);
    snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>&1", script);
    rc = system(cmd);
    out = slurp(svg);
    unlink(data);
    unlink(script);
    unlink(svg);
    if (rc != 0 || !out) {
        snprintf(r->err, sizeof(r->err),
                 "gnuplot failed (is gnuplot-nox installed?) for '%s'", title);
        free(out);
        return -1;
    }
    /* Inline the <svg> element (drop the XML prolog). */
    p = strstr(out, "<svg");
    fprintf(r->html, "<figure class=\"chart\">%s</figure>\n", p ? p : out);
    free(out);
    return 0;
}

static const char style[] =
    "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;"
    "color:#222}table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
    "th{background:#f0f0f0}pre{background:#f7f7f7;padding:.5em;"
    "overflow:auto}.fail{color:#b00}.pass{color:#070}"
    "figure.chart{margin:1em 0}</style>";

static int run_section(struct rep *r, int64_t run, const char *name,
                       const char *status, const char *text, int64_t block)
{
    sqlite3_stmt *st;
    char title[256];
    int n;

    fprintf(r->html, "<h2 id=\"run%lld\">Run %lld: ", (long long)run,
            (long long)run);
    esc(r->html, name);
    fprintf(r->html, " <span class=\"%s\">%s</span></h2>\n",
            strcmp(status, "passed") ? "fail" : "pass", status);
    fprintf(r->md, "\n### Run %lld: %s (block %lld): **%s**\n\n",
            (long long)run, name, (long long)block, status);

    fputs("<h3>Verdicts</h3>\n", r->html);
    if (!(st = query(r, "verdicts", run)) || table(r, st, 1) < 0)
        return -1;

    fputs("<h3>Re-download against cut position</h3>\n", r->html);
    snprintf(title, sizeof(title), "run %lld: bytes re-downloaded per cut",
             (long long)run);
    if (!(st = query(r, "redownload", run)) ||
        chart(r, st, title, "write boundary of the cut", "bytes",
              "set yrange [0:*]\nplot DATA using 1:2 with points pt 7 ps 0.4 "
              "title 're-downloaded'"))
        return -1;

    fputs("<h3>Wear per erase unit</h3>\n", r->html);
    snprintf(title, sizeof(title), "run %lld: erases per erase unit",
             (long long)run);
    if (!(st = query(r, "wear", run)) ||
        chart(r, st, title, "erase unit", "erases",
              "set style fill solid 0.6\nset boxwidth 0.8\nset yrange [0:*]\n"
              "plot DATA using 1:3 with boxes title 'worst trial', "
              "DATA using 1:2 with boxes title 'uncut update'"))
        return -1;

    fputs("<h3>Failing trials</h3>\n", r->html);
    if (!(st = query(r, "failing", run)))
        return -1;
    n = 0;
    {
        int rc;
        fputs("<table><tr><th>trial</th><th>verdict</th><th>cuts</th>"
              "<th>where</th><th>detail</th><th>replay</th></tr>\n",
              r->html);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            fprintf(r->html,
                    "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s %s</td>"
                    "<td>",
                    col(st, 0), col(st, 1), col(st, 3), col(st, 4), col(st, 5));
            esc(r->html, col(st, 6));
            fprintf(r->html,
                    "</td><td><code>fotasim replay %s --run %lld --trial "
                    "%s</code></td></tr>\n",
                    r->db_path, (long long)run, col(st, 0));
            if (n < 20)
                fprintf(r->md,
                        "- trial %s: %s: %s  \n  `fotasim replay %s "
                        "--run %lld --trial %s`\n",
                        col(st, 0), col(st, 1), col(st, 6), r->db_path,
                        (long long)run, col(st, 0));
            n++;
        }
        fputs("</table>\n", r->html);
        sqlite3_finalize(st);
        if (!n)
            fputs("<p>none</p>\n", r->html);
    }
    fputs("<h3>Scenario</h3>\n<pre>", r->html);
    esc(r->html, text);
    fputs("</pre>\n", r->html);
    return 0;
}

int report_write(const char *db_path, const char *dir, const char *sql_dir,
                 char *err, size_t errlen)
{
    struct rep r;
    struct db *db;
    sqlite3_stmt *st;
    char path[1024];
    int runs = 0, rc = -1, n;

    memset(&r, 0, sizeof(r));
    r.db_path = db_path;
    r.dir = dir;
    r.sql_dir = sql_dir;
    if (access(db_path, R_OK)) {
        snprintf(err, errlen, "%s: cannot open: %s", db_path, strerror(errno));
        return -1;
    }
    /* db_open checks it is ours and of this schema version. */
    if (db_open(&db, db_path, err, errlen))
        return -1;
    db_close(db);
    if (sqlite3_open_v2(db_path, &r.h, SQLITE_OPEN_READONLY, NULL)) {
        snprintf(err, errlen, "%s: cannot open", db_path);
        return -1;
    }
    if (mkdir(dir, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        goto out;
    }
    if (!(st = query(&r, "runs", 0)))
        goto fail;
    while (sqlite3_step(st) == SQLITE_ROW)
        runs++;
    sqlite3_finalize(st);
    if (!runs) {
        snprintf(err, errlen, "%s: holds no runs: nothing to report", db_path);
        goto out;
    }
    snprintf(path, sizeof(path), "%s/report.html", dir);
    r.html = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/summary.md", dir);
    r.md = fopen(path, "w");
    if (!r.html || !r.md) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    fprintf(r.html,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<title>fotasim report</title>%s</head><body>\n"
            "<h1>fotasim reliability report</h1>\n<p>Database: "
            "<code>",
            style);
    esc(r.html, db_path);
    fputs("</code></p>\n<h2>Runs</h2>\n", r.html);
    fprintf(r.md, "## fotasim: %d run(s) in `%s`\n\n", runs, db_path);
    if (!(st = query(&r, "runs", 0)) || table(&r, st, 1) < 0)
        goto fail;

    fputs("<h2>Trade-off across runs (sweeps)</h2>\n", r.html);
    if (!(st = query(&r, "sweep", 0)) || (n = table(&r, st, 0)) < 0)
        goto fail;
    if (n > 1) {
        if (!(st = query(&r, "sweep", 0)) ||
            chart(&r, st, "re-download per power cut against block size",
                  "block size (bytes)", "bytes",
                  "set logscale x 2\nplot DATA using 2:3 with linespoints "
                  "title 'mean', DATA using 2:4 with linespoints title "
                  "'worst'"))
            goto fail;
        if (!(st = query(&r, "sweep", 0)) ||
            chart(&r, st, "boot-time resume scan against block size",
                  "block size (bytes)", "ms (simulated flash time)",
                  "set logscale x 2\nplot DATA using 2:5 with linespoints "
                  "title 'mean scan'"))
            goto fail;
    }

    if (!(st = query(&r, "runs", 0)))
        goto fail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_stmt *t;
        const char *text = "";
        int64_t run = sqlite3_column_int64(st, 0);
        char name[128], status[32];
        int64_t block = sqlite3_column_int64(st, 3);
        snprintf(name, sizeof(name), "%s", col(st, 1));
        snprintf(status, sizeof(status), "%s", col(st, 14));
        if (sqlite3_prepare_v2(r.h, "SELECT scenario_text FROM runs WHERE id=?",
                               -1, &t, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(t, 1, run);
            if (sqlite3_step(t) == SQLITE_ROW)
                text = col(t, 0);
            if (run_section(&r, run, name, status, text, block)) {
                sqlite3_finalize(t);
                sqlite3_finalize(st);
                goto fail;
            }
            sqlite3_finalize(t);
        }
    }
    sqlite3_finalize(st);
    fputs("<p>Generated by fotasim; the queries are in "
          "<code>reports/*.sql</code>.</p>\n</body></html>\n",
          r.html);
    rc = 0;
    goto out;
fail:
    snprintf(err, errlen, "%s", r.err[0] ? r.err : "report failed");
out:
    if (r.html)
        fclose(r.html);
    if (r.md)
        fclose(r.md);
    sqlite3_close(r.h);
    return rc;
}
