/*
 * What every fuzz target in this folder provides, for libFuzzer's main and
 * for replay_main.c (the corpus replay CTest), and the one way a target
 * reports a broken invariant.
 */
#ifndef FOTASIM_FUZZ_TARGET_H
#define FOTASIM_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* One input; returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Once, before the first input. Every target defines it (possibly empty),
 * so the replay driver needs no weak symbols. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken invariant is a finding: say which and abort, so libFuzzer keeps
 * the input as a crash and the replay CTest fails. */
#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant broken: ", __FILE__, __LINE__);  \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif
