/*
 * Corpus replay: a plain main() that feeds every file named on the command
 * line (or found directly inside a named folder) to the fuzz target's
 * LLVMFuzzerTestOneInput, once each. Built with the ordinary compiler and
 * sanitizers, it makes the committed corpora a CTest: CI needs no clang and
 * no libFuzzer. A target that finds a bug aborts, so a clean exit means every
 * input passed.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_target.h"

/* Read a whole file into a buffer of exactly its size, so AddressSanitizer
 * sees a read past the end of the input as it would under libFuzzer. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;

    if (!fp)
        return NULL;
    if (!fseek(fp, 0, SEEK_END) && (len = ftell(fp)) >= 0 &&
        !fseek(fp, 0, SEEK_SET)) {
        /* malloc(0) may return NULL: one spare byte keeps "empty" apart
         * from "failed", and is never part of the input. */
        buf = malloc((size_t)len + 1u);
        if (buf && fread(buf, 1, (size_t)len, fp) != (size_t)len) {
            free(buf);
            buf = NULL;
        }
        *n = (size_t)len;
    }
    fclose(fp);
    return buf;
}

static int run_file(const char *path)
{
    size_t n = 0;
    uint8_t *buf = slurp(path, &n);
    if (!buf) {
        fprintf(stderr, "%s: cannot read\n", path);
        return -1;
    }
    /* Named first: a finding aborts, and the log then ends with its file. */
    fprintf(stderr, "replay %s\n", path);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file directly in dir, in name order (a stable log). */
static int run_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[4096];
    size_t n = 0, cap = 0, i;
    int rc = 0;
    struct stat st;

    if (!d) {
        fprintf(stderr, "%s: cannot open\n", dir);
        return -1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **more =
                realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
            if (!more) {
                rc = -1;
                break;
            }
            names = more;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (!rc && !stat(path, &st) && S_ISREG(st.st_mode)) {
            rc = run_file(path);
            ++*count;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int i, count = 0, rc = 0;
    struct stat st;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc && !rc; i++) {
        if (stat(argv[i], &st)) {
            fprintf(stderr, "%s: not found\n", argv[i]);
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = run_dir(argv[i], &count);
        } else {
            rc = run_file(argv[i]);
            count++;
        }
    }
    if (!rc && !count) {
        fprintf(stderr, "no corpus input found\n");
        rc = -1;
    }
    if (!rc)
        printf("%d inputs replayed, no finding\n", count);
    return rc ? 1 : 0;
}
