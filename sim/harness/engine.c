/*
 * engine: see engine.h. The engines built into this program, and engines
 * loaded from shared objects (dlopen) by name or path, checked against
 * the ABI before the harness calls anything of theirs.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FOTASIM_ENGINE_DIR
#define FOTASIM_ENGINE_DIR ""
#endif

extern const struct engine_ops engine_fwresume;

static const struct engine_ops *const builtin[] = {&engine_fwresume};

/* Loaded engines, by the kind they were asked for: a process loads an
 * object once and keeps it (a run creates and destroys many instances). */
#define LOADED_MAX 16
static struct {
    char kind[256];
    const struct engine_ops *ops;
} loaded[LOADED_MAX];
static int nloaded;

const struct engine_ops *engine_find(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (!strcmp(builtin[i]->name, name))
            return builtin[i];
    return NULL;
}

const struct engine_ops *engine_default(void)
{
    return builtin[0];
}

/* Is ops whole enough to be driven? NULL, or what is missing. */
static const char *incomplete(const struct engine_ops *o)
{
    if (!o->name || !o->name[0])
        return "name";
    if (!o->error_name)
        return "error_name";
    if (!o->record_need)
        return "record_need";
    if (!o->create || !o->destroy)
        return "create/destroy";
    if (!o->boot || !o->step || !o->complete)
        return "boot/step/complete";
    return NULL;
}

static const struct engine_ops *load(const char *path, const char *kind,
                                     char *err, size_t errlen)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    const struct engine_ops *(*entry)(void);
    const struct engine_ops *o;
    const char *gap;

    if (!h) {
        snprintf(err, errlen, "cannot load engine '%s': %s", kind, dlerror());
        return NULL;
    }
    /* POSIX: a function pointer through a void * (dlsym's contract). */
    *(void **)&entry = dlsym(h, ENGINE_ENTRY_NAME);
    if (!entry) {
        snprintf(err, errlen,
                 "engine '%s': %s has no " ENGINE_ENTRY_NAME "() (not a "
                 "fotasim engine: docs/engines.md)",
                 kind, path);
        dlclose(h);
        return NULL;
    }
    o = entry();
    if (!o || o->abi != ENGINE_ABI) {
        snprintf(err, errlen,
                 "engine '%s': %s speaks engine ABI %u, this fotasim speaks "
                 "%u: rebuild it against this engine.h",
                 kind, path, o ? (unsigned)o->abi : 0u, (unsigned)ENGINE_ABI);
        dlclose(h);
        return NULL;
    }
    if ((gap = incomplete(o))) {
        snprintf(err, errlen, "engine '%s': %s: struct engine_ops has no %s",
                 kind, path, gap);
        dlclose(h);
        return NULL;
    }
    return o; /* kept loaded for the process's life */
}

/* lib<name>.so, '-' as '_', in dir: a path in out, or 0 when absent. */
static int in_dir(const char *dir, size_t dlen, const char *name, char *out,
                  size_t n)
{
    size_t i, at;
    if (!dlen)
        return 0;
    at = (size_t)snprintf(out, n, "%.*s/lib", (int)dlen, dir);
    for (i = 0; name[i] && at + 4 < n; i++)
        out[at++] = name[i] == '-' ? '_' : name[i];
    if (at + 4 >= n)
        return 0;
    memcpy(out + at, ".so", 4);
    return access(out, R_OK) == 0;
}

const struct engine_ops *engine_load(const char *kind, char *err,
                                     size_t errlen)
{
    const struct engine_ops *o;
    char path[512];
    const char *dirs, *d;
    int i, found = 0;

    if (!kind || !kind[0])
        return engine_default();
    if ((o = engine_find(kind)))
        return o;
    for (i = 0; i < nloaded; i++)
        if (!strcmp(loaded[i].kind, kind))
            return loaded[i].ops;
    if (strchr(kind, '/')) {
        snprintf(path, sizeof(path), "%s", kind);
        found = 1;
    } else {
        /* A name: FOTASIM_ENGINE_PATH's folders, then the build's. */
        dirs = getenv("FOTASIM_ENGINE_PATH");
        for (d = dirs; d && *d && !found; d += strcspn(d, ":"), d += *d == ':')
            found = in_dir(d, strcspn(d, ":"), kind, path, sizeof(path));
        if (!found)
            found = in_dir(FOTASIM_ENGINE_DIR, strlen(FOTASIM_ENGINE_DIR),
                           kind, path, sizeof(path));
        if (!found) {
            snprintf(err, errlen,
                     "no engine '%s': not built in (fwresume), and no "
                     "lib%s.so in FOTASIM_ENGINE_PATH or %s",
                     kind, kind, FOTASIM_ENGINE_DIR[0] ? FOTASIM_ENGINE_DIR
                                                       : "(no build folder)");
            return NULL;
        }
    }
    if (!(o = load(path, kind, err, errlen)))
        return NULL;
    if (nloaded < LOADED_MAX && strlen(kind) < sizeof(loaded[0].kind)) {
        snprintf(loaded[nloaded].kind, sizeof(loaded[0].kind), "%s", kind);
        loaded[nloaded++].ops = o;
    }
    return o;
}
