/*
 * report: the HTML and Markdown reliability report of a fotasim database.
 */
#ifndef FOTASIM_REPORT_H
#define FOTASIM_REPORT_H

#include <stddef.h>
#include <stdint.h>

/* report_write's errors (the first two are db.h's DB_E_INPUT and
 * DB_E_STORAGE). */
enum report_error {
    REPORT_E_INPUT = -2,   /* missing, foreign, older-schema or empty db */
    REPORT_E_STORAGE = -3, /* reading the db or writing dir failed */
    REPORT_E_GNUPLOT = -5  /* gnuplot missing, or it failed on a chart */
};

/* Write dir/report.html and dir/summary.md from db_path (opened
 * read-only), with the queries in sql_dir (one .sql file per query). On
 * error writes a message naming the file to err and returns a
 * report_error. */
int report_write(const char *db_path, const char *dir, const char *sql_dir,
                 char *err, size_t errlen);

/* report_write, the page and the summary led by lead: a block of text
 * shown as it is (the sweep's table and recommendation, as the terminal
 * printed them). NULL: as report_write. */
int report_write_lead(const char *db_path, const char *dir,
                      const char *sql_dir, const char *lead, char *err,
                      size_t errlen);

/* Write the summary (summary.md's content: the verdict line first, a row
 * per run, failing trials with replay commands naming prog, NULL for
 * "fotasim") of run (0: every run) in db_path to path. The queries come
 * from sql_dir. 0 or a report_error. */
int report_summary(const char *db_path, int64_t run, const char *path,
                   const char *sql_dir, const char *prog, char *err,
                   size_t errlen);

#endif /* FOTASIM_REPORT_H */
