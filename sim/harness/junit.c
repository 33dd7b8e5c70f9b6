/*
 * junit: JUnit XML writer (see junit.h). Kept in memory, written at once.
 */
#define _POSIX_C_SOURCE 200809L
#include "junit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One <testcase>: a failing trial, a broken run, the "more not listed"
 * line, or a scenario's passing summary (failure NULL). */
struct junit_case {
    char *classname, *name;
    char *failure_type, *failure_message, *failure_body; /* NULL: passed */
    char *system_out;
    double time_s;
};

struct junit {
    char *suite;
    const char *prog; /* named in replay commands */
    unsigned cap;
    struct junit_case *cases;
    size_t ncases, alloc;
    /* The open scenario. */
    int open;
    char *classname, *scenario;
    unsigned listed;  /* failing trials given a test case */
    uint64_t counted; /* every failure, also past the cap */
    double wall_s;    /* sum of the scenarios' wall times */
    time_t started;
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
    j->started = time(NULL);
    if (!j->suite) {
        free(j);
        return NULL;
    }
    return j;
}

static void free_case(struct junit_case *c)
{
    free(c->classname);
    free(c->name);
    free(c->failure_type);
    free(c->failure_message);
    free(c->failure_body);
    free(c->system_out);
}

void junit_free(struct junit *j)
{
    size_t i;
    if (!j)
        return;
    for (i = 0; i < j->ncases; i++)
        free_case(&j->cases[i]);
    free(j->cases);
    free(j->classname);
    free(j->scenario);
    free(j->suite);
    free(j);
}

/* Append a test case; every string is copied. */
static int add_case(struct junit *j, const char *name, double time_s,
                    const char *type, const char *message, const char *body,
                    const char *system_out)
{
    struct junit_case *c;
    if (j->ncases == j->alloc) {
        size_t n = j->alloc ? 2 * j->alloc : 8;
        struct junit_case *p = realloc(j->cases, n * sizeof(*p));
        if (!p)
            return -1;
        j->cases = p;
        j->alloc = n;
    }
    c = &j->cases[j->ncases];
    memset(c, 0, sizeof(*c));
    c->time_s = time_s;
    c->classname = dup_str(j->classname);
    c->name = dup_str(name);
    if (message) {
        c->failure_type = dup_str(type);
        c->failure_message = dup_str(message);
        c->failure_body = dup_str(body ? body : message);
    }
    if (system_out)
        c->system_out = dup_str(system_out);
    if (!c->classname || !c->name ||
        (message &&
         (!c->failure_type || !c->failure_message || !c->failure_body)) ||
        (system_out && !c->system_out)) {
        free_case(c);
        return -1;
    }
    j->ncases++;
    return 0;
}

int junit_case_begin(struct junit *j, const char *classname, const char *name)
{
    if (j->open)
        junit_case_end(j, 0, NULL);
    free(j->classname);
    free(j->scenario);
    j->classname = dup_str(classname ? classname : "fotasim.torture");
    j->scenario = dup_str(name);
    if (!j->classname || !j->scenario)
        return -1;
    j->listed = 0;
    j->counted = 0;
    j->open = 1;
    return 0;
}

int junit_failure_text(struct junit *j, const char *message)
{
    char name[300];
    if (!j->open)
        return -1;
    j->counted++;
    snprintf(name, sizeof(name), "%s run", j->scenario);
    return add_case(j, name, 0, "run", message, message, NULL);
}

void junit_set_program(struct junit *j, const char *prog)
{
    j->prog = prog;
}

/* Characters a POSIX shell takes literally in a word. */
static int shell_plain(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_./:=@%+,-",
                    *s))
            return 0;
    return 1;
}

int junit_shell_quote(char *buf, size_t n, const char *word)
{
    size_t o = 0;
    int need = 0;
    const char *s;
    if (shell_plain(word))
        return snprintf(buf, n, "%s", word);
    /* '...' with each ' written as '\'' */
    for (s = word; *s; s++)
        need += *s == '\'' ? 4 : 1;
    need += 2;
#define PUT(ch)                                                                \
    do {                                                                       \
        if (o + 1 < n)                                                         \
            buf[o] = (ch);                                                     \
        o++;                                                                   \
    } while (0)
    PUT('\'');
    for (s = word; *s; s++) {
        if (*s == '\'') {
            PUT('\'');
            PUT('\\');
            PUT('\'');
            PUT('\'');
        } else {
            PUT(*s);
        }
    }
    PUT('\'');
#undef PUT
    if (n)
        buf[o < n ? o : n - 1] = 0;
    return need;
}

int junit_replay_command(char *buf, size_t n, const char *prog,
                         const char *db_path, int64_t run_id, uint64_t trial_id)
{
    char qp[300], qd[1100];
    junit_shell_quote(qp, sizeof(qp), prog ? prog : "fotasim");
    junit_shell_quote(qd, sizeof(qd), db_path);
    return snprintf(buf, n, "%s replay %s --run %lld --trial %llu", qp, qd,
                    (long long)run_id, (unsigned long long)trial_id);
}

int junit_failure(struct junit *j, const struct trial *t, const char *db_path,
                  int64_t run_id)
{
    char replay[1500], name[400], message[400], body[2400], cuts[200];
    size_t o = 0;
    uint32_t k;
    if (!j->open)
        return -1;
    j->counted++;
    if (j->listed >= j->cap)
        return 0; /* past the cap only the count matters */
    j->listed++;
    junit_replay_command(replay, sizeof(replay), j->prog, db_path, run_id,
                         t->id);
    for (k = 0; k < t->depth && k < TRIAL_MAX_DEPTH && o < sizeof(cuts); k++)
        o += (size_t)snprintf(cuts + o, sizeof(cuts) - o, "%s%llu (%s)",
                              k ? ", " : "", (unsigned long long)t->cuts[k],
                              cut_area_name(t->cut_area[k]));
    if (!k)
        snprintf(cuts, sizeof(cuts), "%llu (%s)",
                 (unsigned long long)t->cuts[0], cut_area_name(t->cut_area[0]));
    snprintf(name, sizeof(name), "%s trial %llu cut %llu (%s)", j->scenario,
             (unsigned long long)t->id, (unsigned long long)t->cuts[0],
             cut_area_name(t->cut_area[0]));
    snprintf(message, sizeof(message), "%s: %s",
             verdict_name((enum verdict)t->verdict), t->detail);
    snprintf(body, sizeof(body),
             "verdict: %s\n"
             "detail: %s\n"
             "scenario: %s\n"
             "trial: %llu (seed %llu)\n"
             "cuts at boundary: %s\n"
             "engine error: %d\n"
             "re-downloaded: %llu bytes\n"
             "replay: %s\n",
             verdict_name((enum verdict)t->verdict), t->detail, j->scenario,
             (unsigned long long)t->id, (unsigned long long)t->seed, cuts,
             (int)t->engine_error, (unsigned long long)t->bytes_redownloaded,
             replay);
    return add_case(j, name, (double)t->wall_ns / 1e9,
                    verdict_name((enum verdict)t->verdict), message, body,
                    NULL);
}

int junit_case_end(struct junit *j, double time_s, const char *system_out)
{
    char name[400], message[300];
    if (!j->open)
        return -1;
    j->open = 0;
    j->wall_s += time_s;
    if (j->counted > j->listed) {
        snprintf(name, sizeof(name), "%s: %llu more failing trials",
                 j->scenario, (unsigned long long)(j->counted - j->listed));
        snprintf(message, sizeof(message),
                 "%llu more failing trials not listed here: SELECT * FROM "
                 "v_failed_cuts in the run's database",
                 (unsigned long long)(j->counted - j->listed));
        if (add_case(j, name, 0, "more", message, message, NULL))
            return -1;
    }
    /* The scenario's passing trials as one case; its time is the run's. */
    snprintf(name, sizeof(name), "%s passing trials", j->scenario);
    return add_case(j, name, time_s, NULL, NULL, NULL, system_out);
}

uint64_t junit_case_failures(const struct junit *j)
{
    return j->counted;
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
    fputs("    <testcase classname=\"", fp);
    xml_escape(fp, c->classname);
    fputs("\" name=\"", fp);
    xml_escape(fp, c->name);
    fprintf(fp, "\" time=\"%.3f\"", c->time_s);
    if (!c->failure_message && !c->system_out) {
        fputs("/>\n", fp);
        return;
    }
    fputs(">\n", fp);
    if (c->failure_message) {
        fputs("      <failure type=\"", fp);
        xml_escape(fp, c->failure_type);
        fputs("\" message=\"", fp);
        xml_escape(fp, c->failure_message);
        fputs("\">", fp);
        xml_escape(fp, c->failure_body);
        fputs("</failure>\n", fp);
    }
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
    char stamp[32], host[256] = "localhost";
    struct tm tm;
    if (!fp) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    for (i = 0; i < j->ncases; i++)
        failing += j->cases[i].failure_message != NULL;
    /* JUnit's timestamp is an ISO 8601 date-time without a zone (UTC). */
    gmtime_r(&j->started, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    if (gethostname(host, sizeof(host) - 1) != 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", fp);
    fputs("  <testsuite name=\"", fp);
    xml_escape(fp, j->suite);
    fprintf(fp,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
            "time=\"%.3f\" timestamp=\"%s\" hostname=\"",
            j->ncases, failing, j->wall_s, stamp);
    xml_escape(fp, host);
    fputs("\">\n", fp);
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
