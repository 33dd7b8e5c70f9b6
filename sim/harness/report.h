/*
 * report: the HTML and Markdown reliability report of a fotasim database.
 */
#ifndef FOTASIM_REPORT_H
#define FOTASIM_REPORT_H

#include <stddef.h>

/* Write dir/report.html and dir/summary.md from db_path, with the queries
 * in sql_dir (one .sql file per query). On error (missing, foreign,
 * older-schema or empty database; gnuplot missing) writes a message to err and
 * returns -1. */
int report_write(const char *db_path, const char *dir, const char *sql_dir,
                 char *err, size_t errlen);

#endif /* FOTASIM_REPORT_H */
