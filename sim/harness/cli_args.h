/*
 * cli_args: strict numbers from the command line. "--trial abc", "-j 2x",
 * "--seed -1" and "--cut-rate nan" are errors naming the option, never a
 * silent 0 or a wrapped value.
 */
#ifndef FOTASIM_CLI_ARGS_H
#define FOTASIM_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* A whole number (decimal, or hex with 0x) from lo to hi. On error prints
 * "fotasim CMD: OPT V: expected ..." to stderr and returns -1. */
int arg_u64(const char *cmd, const char *opt, const char *v, uint64_t lo,
            uint64_t hi, uint64_t *out);
/* A finite decimal number from lo to hi, likewise. */
int arg_real(const char *cmd, const char *opt, const char *v, double lo,
             double hi, double *out);
/* The same rule without a message: 0, or -1 when text is not a whole
 * number (for lists such as --cut 3,17). end receives where it stopped. */
int parse_u64_prefix(const char *text, uint64_t *out, const char **end);

/* --engine V as the value of engine.kind: a name as it is, a path (it has
 * a '/') made absolute from the current folder, so the scenario's folder
 * does not change what the user typed. 0, or -1 with a message on stderr
 * naming cmd. */
int arg_engine(const char *cmd, const char *v, char *out, size_t n);

#endif /* FOTASIM_CLI_ARGS_H */
