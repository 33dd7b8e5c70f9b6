/* cli_args: see cli_args.h. */
#define _DEFAULT_SOURCE /* realpath */
#include "cli_args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_u64_prefix(const char *text, uint64_t *out, const char **end)
{
    const char *d = text;
    uint64_t n = 0;
    unsigned base = 10, k;

    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
        base = 16, d += 2;
    if (!isxdigit((unsigned char)*d) || (base == 10 && !isdigit((unsigned char)*d)))
        return -1;
    for (; isxdigit((unsigned char)*d); d++) {
        if (isdigit((unsigned char)*d))
            k = (unsigned)(*d - '0');
        else if (base == 16)
            k = (unsigned)(tolower((unsigned char)*d) - 'a' + 10);
        else
            break;
        if (n > (UINT64_MAX - k) / base)
            return -1; /* would wrap */
        n = n * base + k;
    }
    *out = n;
    *end = d;
    return 0;
}

int arg_u64(const char *cmd, const char *opt, const char *v, uint64_t lo,
            uint64_t hi, uint64_t *out)
{
    const char *end;
    uint64_t n;
    if (parse_u64_prefix(v, &n, &end) || *end || n < lo || n > hi) {
        fprintf(stderr,
                "fotasim %s: %s %s: expected a whole number from %llu to "
                "%llu\n",
                cmd, opt, v, (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = n;
    return 0;
}

int arg_real(const char *cmd, const char *opt, const char *v, double lo,
             double hi, double *out)
{
    char *end;
    double d;
    errno = 0;
    d = strtod(v, &end);
    if (end == v || *end || isspace((unsigned char)*v) || errno == ERANGE ||
        !isfinite(d) || d < lo || d > hi) {
        fprintf(stderr, "fotasim %s: %s %s: expected a number from %g to %g\n",
                cmd, opt, v, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

int arg_engine(const char *cmd, const char *v, char *out, size_t n)
{
    char *abs;
    if (!strchr(v, '/')) {
        if ((size_t)snprintf(out, n, "%s", v) < n)
            return 0;
        fprintf(stderr, "fotasim %s: --engine %s: name too long\n", cmd, v);
        return -1;
    }
    abs = realpath(v, NULL);
    if (!abs) {
        fprintf(stderr, "fotasim %s: --engine %s: %s\n", cmd, v,
                strerror(errno));
        return -1;
    }
    if ((size_t)snprintf(out, n, "%s", abs) >= n) {
        fprintf(stderr, "fotasim %s: --engine %s: path too long\n", cmd, v);
        free(abs);
        return -1;
    }
    free(abs);
    return 0;
}
