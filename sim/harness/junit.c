/*
 * junit: JUnit XML writer (see junit.h). Kept in memory, written at once.
 */
#define _POSIX_C_SOURCE 200809L
#include "junit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct junit_case {
    char *classname, *name, *system_out;
    char **failures; /* messages, at most cap */
    unsigned nfail;
    uint64_t counted; /* every failure, also past the cap */
    double time_s;
};

struct junit {
    char *suite;
    const char *prog; /* named in replay commands */
    unsigned cap;
    struct junit_case *cases;
    size_t ncases, alloc;
    int open; /* the last case still takes failures */
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

struct junit *junit_new(const char *suite, unsigned max_failures)
{
    struct junit *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->suite = dup_str(suite ? suite : "fotasim");
    j->cap = max_failures ? max_failures : JUNIT_MAX_FAILURES;
    if (!j->suite) {
        free(j);
        return NULL;
    }
    return j;
}

void junit_free(struct junit *j)
{
    size_t i;
    unsigned k;
    if (!j)
        return;
    for (i = 0; i < j->ncases; i++) {
        struct junit_case *c = &j->cases[i];
        for (k = 0; k < c->nfail; k++)
            free(c->failures[k]);
        free(c->failures);
        free(c->classname);
        free(c->name);
        free(c->system_out);
    }
    free(j->cases);
    free(j->suite);
    free(j);
}

int junit_case_begin(struct junit *j, const char *classname, const char *name)
{
    struct junit_case *c;
    if (j->open)
        junit_case_end(j, 0, NULL);
    if (j->ncases == j->alloc) {
        size_t n = j->alloc ? 2 * j->alloc : 4;
        struct junit_case *p = realloc(j->cases, n * sizeof(*p));
        if (!p)
            return -1;
        j->cases = p;
        j->alloc = n;
    }
    c = &j->cases[j->ncases];
    memset(c, 0, sizeof(*c));
    c->classname = dup_str(classname ? classname : "fotasim.torture");
    c->name = dup_str(name);
    if (!c->classname || !c->name) {
        free(c->classname);
        free(c->name);
        return -1;
    }
    j->ncases++;
    j->open = 1;
    return 0;
}

static struct junit_case *open_case(struct junit *j)
{
    return j->open ? &j->cases[j->ncases - 1] : NULL;
}

int junit_failure_text(struct junit *j, const char *message)
{
    struct junit_case *c = open_case(j);
    char *m;
    if (!c)
        return -1;
    c->counted++;
    if (c->nfail >= j->cap)
        return 0;
    if (!c->failures) {
        c->failures = calloc(j->cap, sizeof(*c->failures));
        if (!c->failures)
            return -1;
    }
    m = dup_str(message);
    if (!m)
        return -1;
    c->failures[c->nfail++] = m;
    return 0;
}

void junit_set_program(struct junit *j, const char *prog)
{
    j->prog = prog;
}

int junit_replay_command(char *buf, size_t n, const char *prog,
                         const char *db_path, int64_t run_id, uint64_t trial_id)
{
    return snprintf(buf, n, "%s replay %s --run %lld --trial %llu",
                    prog ? prog : "fotasim", db_path, (long long)run_id,
                    (unsigned long long)trial_id);
}

int junit_failure(struct junit *j, const struct trial *t, const char *db_path,
                  int64_t run_id)
{
    struct junit_case *c = open_case(j);
    char replay[320], line[640];
    if (!c)
        return -1;
    if (c->nfail >= j->cap) {
        /* Past the cap only the count matters: skip the formatting. */
        c->counted++;
        return 0;
    }
    junit_replay_command(replay, sizeof(replay), j->prog, db_path, run_id,
                         t->id);
    snprintf(line, sizeof(line),
             "trial %llu (cut at boundary %llu, %s): %s: %s (%s)",
             (unsigned long long)t->id, (unsigned long long)t->cuts[0],
             cut_area_name(t->cut_area[0]),
             verdict_name((enum verdict)t->verdict), t->detail, replay);
    return junit_failure_text(j, line);
}

int junit_case_end(struct junit *j, double time_s, const char *system_out)
{
    struct junit_case *c = open_case(j);
    if (!c)
        return -1;
    c->time_s = time_s;
    if (system_out) {
        free(c->system_out);
        c->system_out = dup_str(system_out);
        if (!c->system_out)
            return -1;
    }
    j->open = 0;
    return 0;
}

uint64_t junit_case_failures(const struct junit *j)
{
    return j->ncases ? j->cases[j->ncases - 1].counted : 0;
}

/* XML 1.0 allows no control characters but tab, LF and CR, not even as
 * character references: a detail line from the oracle must not make the
 * whole file unreadable, so they become '?'. */
static void xml_escape(FILE *fp, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '<':
            fputs("&lt;", fp);
            break;
        case '>':
            fputs("&gt;", fp);
            break;
        case '&':
            fputs("&amp;", fp);
            break;
        case '"':
            fputs("&quot;", fp);
            break;
        case '\'':
            fputs("&apos;", fp);
            break;
        case '\t':
        case '\n':
        case '\r':
            fputc(ch, fp);
            break;
        default:
            fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, fp);
        }
    }
}

static void write_case(FILE *fp, const struct junit_case *c)
{
    unsigned k;
    fputs("    <testcase classname=\"", fp);
    xml_escape(fp, c->classname);
    fputs("\" name=\"", fp);
    xml_escape(fp, c->name);
    fprintf(fp, "\" time=\"%.3f\">\n", c->time_s);
    for (k = 0; k < c->nfail; k++) {
        fputs("      <failure type=\"trial\" message=\"", fp);
        xml_escape(fp, c->failures[k]);
        fputs("\"/>\n", fp);
    }
    if (c->counted > c->nfail)
        fprintf(fp,
                "      <failure type=\"more\" message=\"%llu more failing "
                "trials not listed: SELECT * FROM v_failed_cuts\"/>\n",
                (unsigned long long)(c->counted - c->nfail));
    if (c->system_out) {
        fputs("      <system-out>", fp);
        xml_escape(fp, c->system_out);
        fputs("</system-out>\n", fp);
    }
    fputs("    </testcase>\n", fp);
}

int junit_write(const struct junit *j, const char *path, char *err,
                size_t errlen)
{
    FILE *fp = fopen(path, "w");
    size_t i, failing = 0;
    double total = 0;
    if (!fp) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    for (i = 0; i < j->ncases; i++) {
        failing += j->cases[i].counted > 0;
        total += j->cases[i].time_s;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", fp);
    fputs("  <testsuite name=\"", fp);
    xml_escape(fp, j->suite);
    fprintf(fp,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "time=\"%.3f\">\n",
            j->ncases, failing, total);
    for (i = 0; i < j->ncases; i++)
        write_case(fp, &j->cases[i]);
    fputs("  </testsuite>\n</testsuites>\n", fp);
    if (ferror(fp) | fclose(fp)) {
        snprintf(err, errlen, "%s: cannot write: %s", path,
                 strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}
