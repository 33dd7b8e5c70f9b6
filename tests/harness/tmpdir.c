/*
 * Scratch directory for the harness tests (see tmpdir.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "tmpdir.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[] = "/tmp/fotasim-test-XXXXXX";

int tmpdir_setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

int tmpdir_teardown(void **state)
{
    char cmd[sizeof(dir) + 16];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

const char *tmpdir_path(const char *name)
{
    static char p[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
    unlink(p[k]);
    return p[k];
}

const char *tmpdir_write(const char *name, const char *text)
{
    const char *path = tmpdir_path(name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    return path;
}
