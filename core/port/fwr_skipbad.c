/*
 * fwr_skipbad: bad-block skipping under the engine's flash ops (see
 * fwr_skipbad.h).
 */
#include "fwr_skipbad.h"

enum sb_op { SB_READ, SB_PROGRAM, SB_ERASE };

/*
 * Map *addr (and clip *len to its erase unit) when it lies in the data
 * area; leave both as they are outside it. 0 or a negative error.
 */
static int map(struct fwr_skipbad *s, uint32_t *addr, uint32_t *len)
{
    uint32_t es = s->erase_size, off = *addr - s->data_addr;
    uint32_t want = off / es, unit = 0, good = 0;

    if (*addr < s->data_addr || off >= s->data_size)
        return 0;
    /* Resume the walk from the cached position when going forward. */
    if (s->logical <= want) {
        unit = s->physical;
        good = s->logical;
    }
    for (;; unit++) {
        int bad;
        if ((unit + 1u) * es > s->data_size)
            return FWR_E_BADBLOCK;
        bad = s->is_bad(s->lower.user, s->data_addr + unit * es);
        if (bad < 0)
            return bad;
        if (!bad && good++ == want)
            break;
    }
    s->logical = want;
    s->physical = unit;
    *addr = s->data_addr + unit * es + off % es;
    if (*len > es - off % es)
        *len = es - off % es;
    return 0;
}

/* Run op piece by piece, one erase unit at a time inside the data area. */
static int each(struct fwr_skipbad *s, enum sb_op op, uint32_t addr,
                uint8_t *buf, uint32_t len)
{
    const struct fwr_flash_ops *o = &s->lower;
    int result = 0;

    while (len > 0) {
        uint32_t a = addr, n = len;
        int rc = map(s, &a, &n);
        if (rc < 0)
            return rc;
        if (op == SB_READ)
            rc = o->read(o->user, a, buf, n);
        else if (op == SB_PROGRAM)
            rc = o->program(o->user, a, buf, n);
        else
            rc = o->erase(o->user, a, n);
        if (rc == FWR_FLASH_ECC_FAIL)
            result = rc; /* the data is unreliable: that stands */
        else if (rc < 0)
            return rc;
        else if (result >= 0 && rc > result)
            result = rc; /* most bits corrected in one piece */
        addr += n;
        len -= n;
        if (buf)
            buf += n;
    }
    return result;
}

static int sb_read(void *user, uint32_t addr, void *buf, uint32_t len)
{
    return each(user, SB_READ, addr, buf, len);
}

static int sb_program(void *user, uint32_t addr, const void *buf, uint32_t len)
{
    /* The lower program op takes const data; the cast only lets one loop
     * serve all three ops. */
    return each(user, SB_PROGRAM, addr, (uint8_t *)(uintptr_t)buf, len);
}

static int sb_erase(void *user, uint32_t addr, uint32_t len)
{
    return each(user, SB_ERASE, addr, NULL, len);
}

static int sb_protect(void *user, uint32_t addr, uint32_t len, int on)
{
    const struct fwr_flash_ops *o = &((struct fwr_skipbad *)user)->lower;
    return o->protect(o->user, addr, len, on);
}

void fwr_skipbad_init(struct fwr_skipbad *s, const struct fwr_flash_ops *lower,
                      fwr_is_bad_fn is_bad, const struct fwr_layout *layout,
                      uint32_t erase_size, struct fwr_flash_ops *ops)
{
    s->lower = *lower;
    s->is_bad = is_bad;
    s->erase_size = erase_size;
    s->data_addr = layout->data_addr;
    s->data_size = layout->data_size;
    s->logical = s->physical = 0;
    ops->user = s;
    ops->read = sb_read;
    ops->program = sb_program;
    ops->erase = sb_erase;
    ops->protect = lower->protect ? sb_protect : 0;
}
