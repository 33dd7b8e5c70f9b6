/*
 * A scratch directory for one test program: made by the group setup,
 * removed with everything in it by the group teardown.
 */
#ifndef FOTASIM_TEST_TMPDIR_H
#define FOTASIM_TEST_TMPDIR_H

/* CMocka group setup and teardown. */
int tmpdir_setup(void **state);
int tmpdir_teardown(void **state);

/* "<dir>/<name>" with any earlier file of that name removed. The last four
 * results stay valid. */
const char *tmpdir_path(const char *name);

/* Write text to <dir>/<name> and return its path (as tmpdir_path). */
const char *tmpdir_write(const char *name, const char *text);

#endif
