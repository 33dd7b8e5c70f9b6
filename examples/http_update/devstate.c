#include "devstate.h"

#include <stddef.h>
#include <string.h>

/* The offsets docs/integration.md gives the test tools. */
#define AT(field, off)                                                         \
    typedef char at_##field[offsetof(struct dev_state, field) == (off) ? 1 : -1]
AT(phase, 12);
AT(exit_status, 28);
AT(data_addr, 64);
AT(op_addr, 72);
AT(violations, 100);
AT(body_bytes, 120);
AT(lock_addr, 144);
AT(slices, 176);
AT(reserved, 192);

volatile struct dev_state *dev_state_open(struct mapfile *m, const char *path)
{
    volatile struct dev_state *st;

    if (mapfile_open(m, path, DEV_STATE_SIZE, 0, 0) != 0)
        return NULL;
    st = (volatile struct dev_state *)m->mem;
    if (memcmp((const char *)st->magic, DEV_STATE_MAGIC, 8) != 0 ||
        st->version != DEV_STATE_VERSION) {
        /* New (or foreign): start from zero, the magic last. */
        memset((void *)st, 0, DEV_STATE_SIZE);
        st->version = DEV_STATE_VERSION;
        memcpy((char *)st->magic, DEV_STATE_MAGIC, 8);
    }
    return st;
}

uint32_t dev_phase(volatile struct dev_state *st, uint32_t phase)
{
    uint32_t old = st->phase;
    st->phase = phase;
    return old;
}

const char *dev_phase_name(uint32_t phase)
{
    static const char *const names[PH_COUNT] = {
        "off",           "boot",   "resume",       "http",
        "engine",        "erase",  "program-data", "record-body",
        "record-commit", "digest", "backoff",      "done"};
    return phase < PH_COUNT ? names[phase] : "?";
}
