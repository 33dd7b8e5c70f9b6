/*
 * report: `fotasim report DB -o DIR` writes DIR/report.html (self-contained:
 * charts as inline SVG drawn by gnuplot) and DIR/summary.md (fits a CI job
 * summary). The queries are the .sql files in reports/, so the same numbers
 * come out of the sqlite3 shell. docs/reports.md explains each part.
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "headline.h"
#include "junit.h"

/* Everything read from the database is untrusted: text goes into the
 * page through esc() and into the summary through md(), never as
 * markup. */
struct rep {
    struct db *db;
    sqlite3 *h;
    const char *sql_dir, *db_path, *dir;
    const char *prog; /* named in replay commands; NULL: fotasim */
    FILE *html, *md;
    char err[1536];
    int code; /* the report_error of err */
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
        r->code = REPORT_E_INPUT;
        return NULL;
    }
    if (sqlite3_prepare_v2(r->h, sql, -1, &st, NULL) != SQLITE_OK) {
        r->code = db_sqlite_error(r->db, path);
        snprintf(r->err, sizeof(r->err), "%s", db_errmsg(r->db));
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
        else if (*s == '"')
            fputs("&quot;", fp);
        else if (*s == '\'')
            fputs("&#39;", fp);
        else
            fputc(*s, fp);
    }
}

/* A Markdown table cell or list text: a '|' or a line break from the
 * database must not end the cell or the row. */
static void md(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", fp);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', fp);
        else
            fputc(*s, fp);
    }
}

/* A step that did not end in SQLITE_DONE: say what failed. */
static int step_failed(struct rep *r, const char *what)
{
    r->code = db_sqlite_error(r->db, what);
    snprintf(r->err, sizeof(r->err), "%s", db_errmsg(r->db));
    return -1;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

/* A whole result set as an HTML table (and, when with_md, a Markdown
 * one). */
static int table(struct rep *r, sqlite3_stmt *st, int with_md)
{
    int n = sqlite3_column_count(st), i, rows = 0, rc;
    fputs("<table><tr>", r->html);
    for (i = 0; i < n; i++) {
        fputs("<th>", r->html);
        esc(r->html, sqlite3_column_name(st, i));
        fputs("</th>", r->html);
        if (with_md) {
            fputs("| ", r->md);
            md(r->md, sqlite3_column_name(st, i));
            fputc(' ', r->md);
        }
    }
    fputs("</tr>\n", r->html);
    if (with_md) {
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
            if (with_md) {
                fputs("| ", r->md);
                md(r->md, col(st, i));
                fputc(' ', r->md);
            }
        }
        fputs("</tr>\n", r->html);
        if (with_md)
            fputs("|\n", r->md);
        rows++;
    }
    fputs("</table>\n", r->html);
    if (rc != SQLITE_DONE)
        step_failed(r, "read a table");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? rows : -1;
}

/* The first line gnuplot wrote to its log, for the message. */
static void first_line(const char *path, char *out, size_t n)
{
    char *text = slurp(path), *nl;
    out[0] = 0;
    if (!text)
        return;
    for (nl = text; *nl == '\n' || *nl == ' '; nl++)
        ;
    snprintf(out, n, "%s", nl);
    if ((nl = strchr(out, '\n')))
        *nl = 0;
    free(text);
}

/*
 * Run gnuplot on script, a file name inside r->dir, with r->dir as its
 * working directory and its output in log (also inside r->dir). No shell
 * and no path of the user's in the script: a directory named
 * "r'; touch x; '" is only a name.
 */
static int run_gnuplot(struct rep *r, const char *script, const char *log,
                       const char *title)
{
    int fds[2], status = 0, e = 0;
    ssize_t n;
    pid_t pid;

    if (pipe(fds)) {
        snprintf(r->err, sizeof(r->err), "cannot run gnuplot: pipe: %s",
                 strerror(errno));
        r->code = REPORT_E_STORAGE;
        return -1;
    }
    /* The child reports a failed exec through this pipe; a successful
     * exec closes it (close-on-exec), so the parent reads nothing. */
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        e = errno;
        close(fds[0]);
        close(fds[1]);
        snprintf(r->err, sizeof(r->err), "cannot run gnuplot: fork: %s",
                 strerror(e));
        r->code = REPORT_E_STORAGE;
        return -1;
    }
    if (pid == 0) {
        int fd;
        close(fds[0]);
        if (chdir(r->dir) == 0 &&
            (fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666)) >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
            execlp("gnuplot", "gnuplot", script, (char *)NULL);
        }
        e = errno;
        if (write(fds[1], &e, sizeof(e)) < 0)
            _exit(126);
        _exit(127);
    }
    close(fds[1]);
    do
        n = read(fds[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)sizeof(e)) {
        if (e == ENOENT)
            snprintf(r->err, sizeof(r->err),
                     "gnuplot not found (apt-get install gnuplot-nox): it "
                     "draws the chart '%s' from %s/%s",
                     title, r->dir, script);
        else
            snprintf(r->err, sizeof(r->err), "cannot run gnuplot on %s/%s: %s",
                     r->dir, script, strerror(e));
        r->code = REPORT_E_GNUPLOT;
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        char path[1200], line[300];
        snprintf(path, sizeof(path), "%s/%s", r->dir, log);
        first_line(path, line, sizeof(line));
        if (WIFEXITED(status))
            snprintf(r->err, sizeof(r->err),
                     "gnuplot failed (exit %d) on %s/%s (chart '%s')%s%s",
                     WEXITSTATUS(status), r->dir, script, title,
                     line[0] ? ": " : "", line);
        else
            snprintf(r->err, sizeof(r->err),
                     "gnuplot killed by signal %d on %s/%s (chart '%s')",
                     WTERMSIG(status), r->dir, script, title);
        r->code = REPORT_E_GNUPLOT;
        return -1;
    }
    return 0;
}

/*
 * Draw a chart with gnuplot from the rows of st (numeric columns written
 * as a data file) and inline the SVG. plot is gnuplot's plot command, using
 * 'DATA' for the data file. The files are named relative to the report
 * directory, gnuplot's working directory.
 */
static int chart(struct rep *r, sqlite3_stmt *st, const char *title,
                 const char *xlabel, const char *ylabel, const char *plot)
{
    char data[64], svg[64], script[64], log[64];
    char data_p[1200], svg_p[1200], script_p[1200], log_p[1200];
    FILE *fp;
    char *out;
    int n, i, rows = 0, rc;
    const char *p;

    snprintf(data, sizeof(data), ".chart%d.dat", r->charts);
    snprintf(svg, sizeof(svg), ".chart%d.svg", r->charts);
    snprintf(script, sizeof(script), ".chart%d.gp", r->charts);
    snprintf(log, sizeof(log), ".chart%d.log", r->charts);
    snprintf(data_p, sizeof(data_p), "%s/%s", r->dir, data);
    snprintf(svg_p, sizeof(svg_p), "%s/%s", r->dir, svg);
    snprintf(script_p, sizeof(script_p), "%s/%s", r->dir, script);
    snprintf(log_p, sizeof(log_p), "%s/%s", r->dir, log);
    r->charts++;
    fp = fopen(data_p, "w");
    if (!fp) {
        snprintf(r->err, sizeof(r->err), "%s: cannot write: %s", data_p,
                 strerror(errno));
        r->code = REPORT_E_STORAGE;
        sqlite3_finalize(st);
        return -1;
    }
    n = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < n; i++) {
            /* Only numbers reach gnuplot: a text value from the database
             * is not data (and must not be read as gnuplot syntax). */
            int type = sqlite3_column_type(st, i);
            if (type == SQLITE_INTEGER)
                fprintf(fp, "%s%lld", i ? "\t" : "",
                        (long long)sqlite3_column_int64(st, i));
            else if (type == SQLITE_FLOAT)
                fprintf(fp, "%s%.17g", i ? "\t" : "",
                        sqlite3_column_double(st, i));
            else
                fprintf(fp, "%s0", i ? "\t" : "");
        }
        fputc('\n', fp);
        rows++;
    }
    if (rc != SQLITE_DONE)
        step_failed(r, title);
    sqlite3_finalize(st);
    if (fclose(fp) && rc == SQLITE_DONE) {
        snprintf(r->err, sizeof(r->err), "%s: cannot write: %s", data_p,
                 strerror(errno));
        r->code = REPORT_E_STORAGE;
        rc = SQLITE_IOERR;
    }
    if (rc != SQLITE_DONE) {
        unlink(data_p);
        return -1;
    }
    if (!rows) {
        fprintf(r->html, "<p class=\"empty\">%s: no data</p>\n", title);
        unlink(data_p);
        return 0;
    }
    fp = fopen(script_p, "w");
    if (!fp) {
        snprintf(r->err, sizeof(r->err), "%s: cannot write: %s", script_p,
                 strerror(errno));
        r->code = REPORT_E_STORAGE;
        unlink(data_p);
        return -1;
    }
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
    if (fclose(fp)) {
        snprintf(r->err, sizeof(r->err), "%s: cannot write: %s", script_p,
                 strerror(errno));
        r->code = REPORT_E_STORAGE;
        unlink(data_p);
        unlink(script_p);
        return -1;
    }
    rc = run_gnuplot(r, script, log, title);
    out = rc ? NULL : slurp(svg_p);
    unlink(data_p);
    unlink(script_p);
    unlink(svg_p);
    unlink(log_p);
    if (rc)
        return -1;
    if (!out) {
        snprintf(r->err, sizeof(r->err),
                 "gnuplot wrote no %s for the chart '%s'", svg_p, title);
        r->code = REPORT_E_GNUPLOT;
        return -1;
    }
    /* Inline the <svg> element (drop the XML prolog). */
    p = strstr(out, "<svg");
    fprintf(r->html, "<figure class=\"chart\">%s</figure>\n", p ? p : out);
    free(out);
    return 0;
}

static const char style[] =
    "<style>body{font-family:sans-serif;max-width:1180px;margin:2em auto;"
    "color:#222}table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right;"
    "white-space:nowrap}"
    "th{background:#f0f0f0}pre{background:#f7f7f7;padding:.5em;"
    "overflow:auto}.fail{color:#b00}.pass{color:#070}"
    "figure.chart{margin:1em 0}"
    ".cover{border:1px solid #ccc;padding:.5em 1em;margin:1em 0}"
    ".verdict{font-size:1.3em;font-weight:bold}"
    ".facts th,.facts td{text-align:left}.confidence{color:#444}"
    "pre.lead{font-size:.8em;white-space:pre-wrap}"
    "td.wrap{white-space:normal;text-align:left;max-width:28em;"
    "overflow-wrap:anywhere}.facts td{white-space:normal}"
    "</style>";

static int run_section(struct rep *r, int64_t run, const char *name,
                       const char *status, const char *text, int64_t block)
{
    sqlite3_stmt *st;
    char title[256];
    int n, rc;

    fprintf(r->html, "<h2 id=\"run%lld\">Run %lld: ", (long long)run,
            (long long)run);
    esc(r->html, name);
    fprintf(r->html, " <span class=\"%s\">",
            strcmp(status, "passed") ? "fail" : "pass");
    esc(r->html, status);
    fputs("</span></h2>\n", r->html);
    (void)block;
    fputs("<h3>Verdicts</h3>\n", r->html);
    if (!(st = query(r, "verdicts", run)) || table(r, st, 0) < 0)
        return -1;

    fputs("<h3>Re-download against cut position</h3>\n", r->html);
    snprintf(title, sizeof(title), "run %lld: bytes re-downloaded per cut",
             (long long)run);
    {
        /* The scenario's limit as a line (the cover's figure too). */
        struct headline h;
        char herr[300], script[900], limit[400] = "";
        if (!headline_load(r->h, run, &h, herr, sizeof(herr)) &&
            h.limit_redownload)
            snprintf(
                limit, sizeof(limit),
                "set arrow from graph 0, first %llu to graph 1, first "
                "%llu nohead dt 2 lw 2 lc rgb '#b00000'\n"
                "set label 'limit' at graph 0.01, first %llu offset 0,0.6 "
                "tc rgb '#b00000'\nset yrange [0:%llu]\n",
                (unsigned long long)h.limit_redownload,
                (unsigned long long)h.limit_redownload,
                (unsigned long long)h.limit_redownload,
                (unsigned long long)(h.limit_redownload +
                                     h.limit_redownload / 4 +
                                     (h.worst_redownload > h.limit_redownload
                                          ? h.worst_redownload
                                          : 0)));
        snprintf(script, sizeof(script),
                 "set xrange [0:*]\nset yrange [0:*]\n%splot DATA using 1:2 "
                 "with points pt 7 ps 0.4 title 're-downloaded'",
                 limit);
        if (!(st = query(r, "redownload", run)) ||
            chart(r, st, title, "write boundary of the cut", "bytes", script))
            return -1;
    }

    fputs("<h3>Wear per erase unit</h3>\n", r->html);
    snprintf(title, sizeof(title), "run %lld: erases per erase unit",
             (long long)run);
    {
        /* A box per unit reads well for a few dozen units; beyond, one
         * filled step outline per series draws the same shape in a
         * fraction of the page (256 units: 180 KB of SVG as boxes). */
        sqlite3_stmt *cnt;
        int units = 0;
        if (sqlite3_prepare_v2(r->h,
                               "SELECT count(*) FROM wear WHERE run_id = ?", -1,
                               &cnt, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(cnt, 1, run);
            if (sqlite3_step(cnt) == SQLITE_ROW)
                units = sqlite3_column_int(cnt, 0);
            sqlite3_finalize(cnt);
        }
        if (!(st = query(r, "wear", run)) ||
            chart(r, st, title, "erase unit", "erases",
                  units > 64
                      ? "set style fill solid 0.6\nset yrange [0:*]\n"
                        "set autoscale xfix\n"
                        "plot DATA using 1:3 with fillsteps title 'worst "
                        "trial', DATA using 1:2 with fillsteps title 'uncut "
                        "update'"
                      : "set style fill solid 0.6\nset boxwidth 0.8\n"
                        "set yrange [0:*]\nset autoscale xfix\n"
                        "set offsets 0.6, 0.6, 0, 0\n"
                        "plot DATA using 1:3 with boxes title 'worst trial', "
                        "DATA using 1:2 with boxes title 'uncut update'"))
            return -1;
    }

    fputs("<h3>Failing trials</h3>\n", r->html);
    if (!(st = query(r, "failing", run)))
        return -1;
    n = 0;
    fputs("<table><tr><th>trial</th><th>verdict</th><th>cuts</th>"
          "<th>where</th><th>detail</th><th>replay</th></tr>\n",
          r->html);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* trial, verdict, cut1, "op area", detail (depth not shown) */
        fputs("<tr><td>", r->html);
        esc(r->html, col(st, 0));
        fputs("</td><td>", r->html);
        esc(r->html, col(st, 1));
        fputs("</td><td>", r->html);
        esc(r->html, col(st, 3));
        fputs("</td><td>", r->html);
        esc(r->html, col(st, 4));
        fputc(' ', r->html);
        esc(r->html, col(st, 5));
        fputs("</td><td class=\"wrap\">", r->html);
        esc(r->html, col(st, 6));
        fputs("</td><td class=\"wrap\"><code>", r->html);
        {
            char replay[1400];
            junit_replay_command(replay, sizeof(replay), NULL, r->db_path, run,
                                 (uint64_t)sqlite3_column_int64(st, 0));
            esc(r->html, replay);
        }
        fputs("</code></td></tr>\n", r->html);
        n++;
    }
    fputs("</table>\n", r->html);
    if (rc != SQLITE_DONE)
        step_failed(r, "read the failing trials");
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    if (!n)
        fputs("<p>none</p>\n", r->html);
    fputs("<h3>Scenario</h3>\n<pre>", r->html);
    esc(r->html, text);
    fputs("</pre>\n", r->html);
    return 0;
}

/* summary.md: the verdict line first (all runs), one short row per run,
 * the statistical statement of a single passed run, then each failing
 * run's first failing trials with the commands that replay them. only: a
 * run id, or 0 for every run. */
static int write_summary(struct rep *r, FILE *fp, int64_t only)
{
    sqlite3_stmt *st;
    struct headline h;
    int rc, runs = 0, failed = 0, unfinished = 0;
    char sentence[512], w[24], l[24], c[32], f[32], err[600];
    int64_t last = 0;

    if (sqlite3_prepare_v2(r->h,
                           "SELECT id FROM runs WHERE ?1 = 0 OR id = ?1 "
                           "ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return step_failed(r, "read the runs");
    sqlite3_bind_int64(st, 1, only);
    /* Pass 1: the verdict over all runs. */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (headline_load(r->h, sqlite3_column_int64(st, 0), &h, err,
                          sizeof(err))) {
            /* Named as every read error is (corrupt, I/O, locked). */
            step_failed(r, "read a run's verdict");
            sqlite3_finalize(st);
            return -1;
        }
        runs++;
        last = h.run;
        failed += h.failing > 0 || !strcmp(h.status, "failed");
        unfinished += !h.failing && strcmp(h.status, "passed") &&
                      strcmp(h.status, "failed");
    }
    if (rc != SQLITE_DONE) {
        sqlite3_finalize(st);
        return step_failed(r, "read the runs");
    }
    if (runs == 1) {
        headline_load(r->h, last, &h, err, sizeof(err));
        headline_sentence(&h, sentence, sizeof(sentence));
        fprintf(fp, "%s **",
                failed       ? "\xe2\x9c\x98"
                : unfinished ? "\xe2\x9a\xa0"
                             : "\xe2\x9c\x94");
        md(fp, h.name);
        fprintf(fp, " %s**: ", h.status);
        md(fp, sentence);
        fputs("\n\n", fp);
    } else if (failed || unfinished) {
        fprintf(fp, "%s **%d of %d runs failed, %d not finished**\n\n",
                failed ? "\xe2\x9c\x98" : "\xe2\x9a\xa0", failed, runs,
                unfinished);
    } else {
        fprintf(fp, "\xe2\x9c\x94 **all %d runs passed**\n\n", runs);
    }
    /* Pass 2: one row per run. */
    fputs("| run | scenario | verdict | power cuts | failing | worst extra "
          "download | limit |\n|---:|---|---|---:|---:|---:|---:|\n",
          fp);
    sqlite3_reset(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (headline_load(r->h, sqlite3_column_int64(st, 0), &h, err,
                          sizeof(err)))
            continue;
        headline_count(h.stored, c, sizeof(c));
        headline_count(h.failing, f, sizeof(f));
        headline_bytes(h.worst_redownload, w, sizeof(w));
        if (h.limit_redownload)
            headline_bytes(h.limit_redownload, l, sizeof(l));
        else
            snprintf(l, sizeof(l), "none");
        fprintf(fp, "| %lld | ", (long long)h.run);
        md(fp, h.name);
        fprintf(fp, " | %s %s | %s | %s | %s | %s |\n",
                h.failing || !strcmp(h.status, "failed") ? "\xe2\x9c\x98"
                : strcmp(h.status, "passed")             ? "\xe2\x9a\xa0"
                                                         : "\xe2\x9c\x94",
                h.status, c, f, w, l);
    }
    if (runs == 1 && !failed && !unfinished) {
        headline_load(r->h, last, &h, err, sizeof(err));
        headline_confidence(&h, 1.0, sentence, sizeof(sentence));
        fputs("\n", fp);
        md(fp, sentence);
        fputs(".\n", fp);
    }
    /* Pass 3: the failing trials of each failing run. */
    sqlite3_reset(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_stmt *ft;
        int64_t run = sqlite3_column_int64(st, 0);
        int n = 0, frc;
        if (!(ft = query(r, "failing", run))) {
            sqlite3_finalize(st);
            return -1;
        }
        while ((frc = sqlite3_step(ft)) == SQLITE_ROW) {
            char replay[1400];
            if (!n++)
                fprintf(fp, "\n### Run %lld: failing trials\n\n",
                        (long long)run);
            if (n > 20)
                continue;
            junit_replay_command(replay, sizeof(replay), r->prog, r->db_path,
                                 run, (uint64_t)sqlite3_column_int64(ft, 0));
            fputs("- trial ", fp);
            md(fp, col(ft, 0));
            fputs(" (cut at ", fp);
            md(fp, col(ft, 3));
            fputs(", ", fp);
            md(fp, col(ft, 5));
            fputs("): ", fp);
            md(fp, col(ft, 1));
            fputs(": ", fp);
            md(fp, col(ft, 6));
            fputs("  \n  `", fp);
            md(fp, replay);
            fputs("`\n", fp);
        }
        if (n > 20)
            fprintf(fp,
                    "- ... %d more: `sqlite3 %s 'SELECT * FROM "
                    "v_failed_cuts'`\n",
                    n - 20, r->db_path);
        sqlite3_finalize(ft);
        if (frc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return step_failed(r, "read the failing trials");
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : step_failed(r, "read the runs");
}

/* The page's first screen for one run: the verdict as a sentence, what was
 * tested, and (passed) what 0 failures means or (failed) what failed and
 * how to replay it. */
static void cover(struct rep *r, const struct headline *h)
{
    char sentence[512], img[24], blk[24], conf[700];
    int pass = !strcmp(h->status, "passed");
    headline_sentence(h, sentence, sizeof(sentence));
    headline_bytes(h->image_size, img, sizeof(img));
    headline_bytes(h->block_size, blk, sizeof(blk));
    fprintf(r->html, "<section class=\"cover\"><p class=\"verdict %s\">",
            pass ? "pass" : "fail");
    esc(r->html, pass ? "\xe2\x9c\x94 " : "\xe2\x9c\x98 ");
    esc(r->html, sentence);
    fputs(".</p>\n", r->html);
    if (h->first_failing >= 0) {
        char replay[1400];
        junit_replay_command(replay, sizeof(replay), NULL, r->db_path, h->run,
                             (uint64_t)h->first_failing);
        fprintf(r->html, "<p>First failing trial: %lld, ",
                (long long)h->first_failing);
        esc(r->html, h->first_detail);
        fputs(". Replay it: <code>", r->html);
        esc(r->html, replay);
        fputs("</code></p>\n", r->html);
    }
    fputs("<table class=\"facts\">", r->html);
#define FACT(k, v)                                                             \
    do {                                                                       \
        fputs("<tr><th>" k "</th><td>", r->html);                              \
        esc(r->html, v);                                                       \
        fputs("</td></tr>", r->html);                                          \
    } while (0)
    FACT("Scenario", h->name);
    if (h->description[0])
        FACT("What it tests", h->description);
    if (h->flash[0])
        FACT("Flash part", h->flash);
    FACT("Image", img);
    FACT("Block size", blk);
    if (h->transform[0])
        FACT("Transform", h->transform);
    if (h->settings[0])
        FACT("Engine settings", h->settings);
    if (h->engine[0])
        FACT("Engine", h->engine);
    FACT("Tool", h->tool_version);
    FACT("Started (UTC)", h->started);
    FACT("Database", r->db_path);
#undef FACT
    fputs("</table>\n", r->html);
    headline_confidence(h, 1.0, conf, sizeof(conf));
    if (conf[0]) {
        fputs("<p class=\"confidence\">", r->html);
        esc(r->html, conf);
        fputs(".</p>\n", r->html);
    }
    fputs("</section>\n", r->html);
}

/* Open dir/name for writing. */
static FILE *out_file(struct rep *r, const char *name)
{
    char path[1200];
    FILE *fp;
    snprintf(path, sizeof(path), "%s/%s", r->dir, name);
    if (!(fp = fopen(path, "w"))) {
        snprintf(r->err, sizeof(r->err), "%s: cannot write: %s", path,
                 strerror(errno));
        r->code = REPORT_E_STORAGE;
    }
    return fp;
}

/* Close dir/name, which was written: a full disk shows here. */
static int out_close(struct rep *r, FILE *fp, const char *name)
{
    int bad = ferror(fp);
    if (fclose(fp) || bad) {
        if (!r->code) {
            snprintf(r->err, sizeof(r->err), "%s/%s: cannot write: %s", r->dir,
                     name, strerror(errno));
            r->code = REPORT_E_STORAGE;
        }
        return -1;
    }
    return 0;
}

int report_write(const char *db_path, const char *dir, const char *sql_dir,
                 char *err, size_t errlen)
{
    return report_write_lead(db_path, dir, sql_dir, NULL, err, errlen);
}

int report_write_lead(const char *db_path, const char *dir, const char *sql_dir,
                      const char *lead, char *err, size_t errlen)
{
    struct rep r;
    sqlite3_stmt *st;
    char *stored = NULL, when[32] = "";
    int runs = 0, rc, n;

    memset(&r, 0, sizeof(r));
    r.db_path = db_path;
    r.dir = dir;
    r.sql_dir = sql_dir;
    /* Read-only: a report writes nothing to the database, creates none
     * for a mistyped name, and reads a file it may not write (a read-only
     * mount, another user's results). It also checks the file is ours. */
    if ((rc = db_open_readonly(&r.db, db_path, err, errlen)))
        return rc;
    r.h = db_sqlite(r.db);
    /* A sweep's database keeps the table and recommendation it printed:
     * the page leads with them when the sweep did not hand them over. */
    if (!lead) {
        if ((rc = db_sweep_lead(r.db, &stored, when, sizeof(when)))) {
            snprintf(err, errlen, "%s", db_errmsg(r.db));
            goto out;
        }
        lead = stored;
    }
    if (!*dir) {
        snprintf(err, errlen, "-o: empty directory name");
        rc = REPORT_E_INPUT;
        goto out;
    }
    if (mkdir(dir, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        rc = errno == ENOENT || errno == ENOTDIR ? REPORT_E_INPUT
                                                 : REPORT_E_STORAGE;
        goto out;
    }
    if (!(st = query(&r, "runs", 0)))
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        runs++;
    if (rc != SQLITE_DONE)
        step_failed(&r, "read the runs");
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto fail;
    if (!runs) {
        snprintf(err, errlen, "%s: holds no runs: nothing to report", db_path);
        rc = REPORT_E_INPUT;
        goto out;
    }
    if (!(r.html = out_file(&r, "report.html")) ||
        !(r.md = out_file(&r, "summary.md")))
        goto fail;
    fprintf(r.html,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<title>fotasim report</title>%s</head><body>\n",
            style);
    /* A sweep's recommendation first, as the terminal printed it. */
    if (lead) {
        fputs("<h1>fotasim sweep: the recommendation</h1>\n<section "
              "class=\"cover\">",
              r.html);
        if (when[0]) {
            fputs("<p>As the sweep printed it on ", r.html);
            esc(r.html, when);
            fputs(" (kept in the database's sweeps table).</p>", r.html);
        }
        fputs("<pre class=\"lead\">", r.html);
        esc(r.html, lead);
        fputs("</pre></section>\n", r.html);
    }
    /* The cover: a single run's verdict and facts, or one line per run. */
    {
        struct headline h;
        char herr[600], sentence[512];
        if (!(st = query(&r, "runs", 0)))
            goto fail;
        if (runs == 1) {
            if (sqlite3_step(st) != SQLITE_ROW ||
                headline_load(r.h, sqlite3_column_int64(st, 0), &h, herr,
                              sizeof(herr))) {
                step_failed(&r, "read the run's verdict");
                sqlite3_finalize(st);
                goto fail;
            }
            fputs("<h1>fotasim reliability report: ", r.html);
            esc(r.html, h.name);
            fputs("</h1>\n", r.html);
            cover(&r, &h);
        } else {
            fprintf(r.html,
                    "<h1>fotasim reliability report: %d runs</h1>\n"
                    "<section class=\"cover\"><ul>\n",
                    runs);
            while (sqlite3_step(st) == SQLITE_ROW) {
                if (headline_load(r.h, sqlite3_column_int64(st, 0), &h, herr,
                                  sizeof(herr)))
                    continue;
                headline_sentence(&h, sentence, sizeof(sentence));
                fprintf(r.html, "<li class=\"%s\"><a href=\"#run%lld\">",
                        strcmp(h.status, "passed") ? "fail" : "pass",
                        (long long)h.run);
                esc(r.html, h.name);
                fprintf(r.html, " (run %lld, block ", (long long)h.run);
                headline_bytes(h.block_size, herr, sizeof(herr));
                esc(r.html, herr);
                fputs(")</a>: ", r.html);
                esc(r.html, sentence);
                fputs("</li>\n", r.html);
            }
            fprintf(r.html, "</ul><p>Database: <code>");
            esc(r.html, db_path);
            fputs("</code></p></section>\n", r.html);
        }
        sqlite3_finalize(st);
    }
    if (write_summary(&r, r.md, 0))
        goto fail;
    if (lead) {
        fputs("\n```\n", r.md);
        fputs(lead, r.md);
        fputs("```\n", r.md);
    }
    fputs("<h2>Runs</h2>\n", r.html);
    if (!(st = query(&r, "runs_table", 0)) || table(&r, st, 0) < 0)
        goto fail;

    /* A trade-off needs two runs at least. */
    n = runs;
    if (n > 1) {
        fputs("<h2>Trade-off across runs (sweeps)</h2>\n", r.html);
        if (!(st = query(&r, "sweep_table", 0)) || table(&r, st, 0) < 0)
            goto fail;
        if (!(st = query(&r, "sweep", 0)) ||
            chart(&r, st, "re-download per power cut against block size",
                  "block size (bytes)", "bytes",
                  "set logscale x 2\nset yrange [0:*]\nplot DATA using 2:3 "
                  "with linespoints "
                  "title 'mean', DATA using 2:4 with linespoints title "
                  "'worst'"))
            goto fail;
        if (!(st = query(&r, "sweep", 0)) ||
            chart(&r, st, "boot-time resume scan against block size",
                  "block size (bytes)", "ms (simulated flash time)",
                  "set logscale x 2\nset yrange [0:*]\nplot DATA using 2:5 "
                  "with linespoints "
                  "title 'mean scan'"))
            goto fail;
    }

    if (!(st = query(&r, "runs", 0)))
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_stmt *t;
        char *text;
        int64_t run = sqlite3_column_int64(st, 0);
        char name[128], status[32];
        int64_t block = sqlite3_column_int64(st, 3);
        int bad;
        snprintf(name, sizeof(name), "%s", col(st, 1));
        snprintf(status, sizeof(status), "%s", col(st, 14));
        if (sqlite3_prepare_v2(r.h, "SELECT scenario_text FROM runs WHERE id=?",
                               -1, &t, NULL) != SQLITE_OK) {
            step_failed(&r, "read the scenario text");
            sqlite3_finalize(st);
            goto fail;
        }
        sqlite3_bind_int64(t, 1, run);
        rc = sqlite3_step(t);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            step_failed(&r, "read the scenario text");
            sqlite3_finalize(t);
            sqlite3_finalize(st);
            goto fail;
        }
        text = strdup(rc == SQLITE_ROW ? col(t, 0) : "");
        sqlite3_finalize(t);
        if (!text) {
            snprintf(r.err, sizeof(r.err), "out of memory");
            r.code = REPORT_E_STORAGE;
            sqlite3_finalize(st);
            goto fail;
        }
        bad = run_section(&r, run, name, status, text, block);
        free(text);
        if (bad) {
            sqlite3_finalize(st);
            goto fail;
        }
    }
    if (rc != SQLITE_DONE)
        step_failed(&r, "read the runs");
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto fail;
    fputs("<p>Generated by fotasim; the queries are in "
          "<code>reports/*.sql</code>.</p>\n</body></html>\n",
          r.html);
    rc = out_close(&r, r.html, "report.html");
    r.html = NULL;
    if (out_close(&r, r.md, "summary.md") || rc) {
        r.md = NULL;
        goto fail;
    }
    r.md = NULL;
    rc = 0;
    goto out;
fail:
    snprintf(err, errlen, "%s", r.err[0] ? r.err : "report failed");
    rc = r.code ? r.code : REPORT_E_STORAGE;
    /* A page cut short would read as a report: none rather than half. */
    if (r.html || r.md || r.charts) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/report.html", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/summary.md", dir);
        unlink(path);
    }
out:
    if (r.html)
        fclose(r.html);
    if (r.md)
        fclose(r.md);
    db_close(r.db);
    free(stored);
    return rc;
}

int report_summary(const char *db_path, int64_t run, const char *path,
                   const char *sql_dir, const char *prog, char *err,
                   size_t errlen)
{
    struct rep r;
    FILE *fp;
    int rc;
    memset(&r, 0, sizeof(r));
    r.db_path = db_path;
    r.sql_dir = sql_dir;
    r.prog = prog;
    if ((rc = db_open_readonly(&r.db, db_path, err, errlen)))
        return rc;
    r.h = db_sqlite(r.db);
    if (!(fp = fopen(path, "w"))) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        db_close(r.db);
        return REPORT_E_STORAGE;
    }
    rc = write_summary(&r, fp, run);
    if ((ferror(fp) | fclose(fp)) && !rc) {
        snprintf(r.err, sizeof(r.err), "%s: cannot write: %s", path,
                 strerror(errno ? errno : EIO));
        r.code = REPORT_E_STORAGE;
        rc = -1;
    }
    db_close(r.db);
    if (rc) {
        snprintf(err, errlen, "%s", r.err[0] ? r.err : "summary failed");
        unlink(path);
        return r.code ? r.code : REPORT_E_STORAGE;
    }
    return 0;
}
