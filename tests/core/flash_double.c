#include "flash_double.h"

#include <stdlib.h>
#include <string.h>

static uint32_t rnd(struct flash_double *d)
{
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return (uint32_t)(d->rng >> 11);
}

int fd_init(struct flash_double *d, uint32_t size, uint32_t prog,
            uint32_t erase, int nand)
{
    memset(d, 0, sizeof(*d));
    d->mem = malloc(size);
    d->written = calloc(size / prog, 1);
    d->weak = calloc(size, 1);
    if (!d->mem || !d->written || !d->weak)
        return -1;
    d->size = size;
    d->prog = prog;
    d->erase = erase;
    d->nand = nand;
    d->erased = 0xFF;
    d->rng = 0x9E3779B97F4A7C15ull;
    d->lo_written = UINT32_MAX;
    memset(d->mem, 0x5A, size); /* old firmware, not erased */
    return 0;
}

void fd_free(struct flash_double *d)
{
    free(d->mem);
    free(d->written);
    free(d->weak);
}

void fd_power_on(struct flash_double *d)
{
    d->off = 0;
    d->cut_at = 0;
}

void fd_flip(struct flash_double *d, uint32_t addr, int bit)
{
    d->mem[addr] ^= (uint8_t)(1u << bit);
}

static void span(struct flash_double *d, uint32_t a, uint32_t n)
{
    if (a < d->lo_written)
        d->lo_written = a;
    if (a + n > d->hi_written)
        d->hi_written = a + n;
}

static int fd_read(void *user, uint32_t addr, void *buf, uint32_t len)
{
    struct flash_double *d = user;
    if (d->off)
        return -1;
    if (addr + len > d->size || addr + len < addr) {
        d->violations++;
        return -1;
    }
    memcpy(buf, d->mem + addr, len);
    if (d->any_weak) {
        uint8_t *b = buf;
        uint32_t i;
        for (i = 0; i < len; i++)
            if (d->weak[addr + i])
                b[i] ^= d->weak[addr + i] & (uint8_t)rnd(d);
    }
    if (d->ecc_len && addr < d->ecc_addr + d->ecc_len &&
        d->ecc_addr < addr + len) {
        if (d->ecc_transient && --d->ecc_transient == 0)
            d->ecc_len = 0; /* a read flip: the next read is clean */
        return FWR_FLASH_ECC_FAIL;
    }
    return 0;
}

static int cut_now(struct flash_double *d)
{
    d->ops++;
    return d->cut_at && d->ops == d->cut_at;
}

static int fd_program(void *user, uint32_t addr, const void *buf, uint32_t len)
{
    struct flash_double *d = user;
    const uint8_t *src = buf;
    uint32_t i, u, n = len;
    int cut;

    if (d->off)
        return -1;
    if (addr % d->prog || len % d->prog || addr + len > d->size) {
        d->violations++;
        return -1;
    }
    if (d->prot_len && addr < d->prot_addr + d->prot_len &&
        d->prot_addr < addr + len) {
        d->violations++;
        return -1;
    }
    for (u = addr / d->prog; u < (addr + len) / d->prog; u++) {
        if (d->written[u]) {
            d->violations++; /* second program between erases */
        }
        if (d->nand) {
            /* NAND: pages in rising order within a block (skips allowed). */
            uint32_t v,
                end = (u * d->prog / d->erase + 1) * (d->erase / d->prog);
            for (v = u + 1; v < end; v++)
                if (d->written[v]) {
                    d->violations++;
                    break;
                }
        }
        d->written[u] = 1;
    }
    span(d, addr, len);
    if (d->log && d->log_n < d->log_cap) {
        d->log[d->log_n][0] = addr;
        d->log[d->log_n++][1] = len;
    }
    d->programs++;
    d->prog_bytes += len;
    cut = cut_now(d);
    if (cut) {
        if (d->torn == FD_TORN_NONE)
            n = 0;
        else if (d->torn == FD_TORN_PREFIX)
            n = rnd(d) % (len + 1);
    }
    for (i = 0; i < len; i++) {
        uint8_t v = src[i];
        if (cut && d->torn == FD_TORN_RANDOM)
            v |= (uint8_t)rnd(d); /* only some zero bits land */
        else if (cut && d->torn == FD_TORN_UNSTABLE) {
            /* Bits meant to clear: some solid, the rest weak. Weak bits are
             * stored cleared and read back at random. */
            uint8_t clr = (uint8_t)(d->mem[addr + i] & ~v);
            uint8_t w = (uint8_t)(clr & rnd(d));
            d->weak[addr + i] |= w;
            d->any_weak = 1;
        } else if (i >= n)
            continue;
        d->mem[addr + i] &= v;
    }
    if (d->fail_prog_count && d->programs >= d->fail_prog_at &&
        d->programs < d->fail_prog_at + d->fail_prog_count) {
        /* A worn cell: one bit that should be 0 stays 1. */
        for (i = 0; i < len; i++)
            if (src[i] != 0xFF) {
                d->mem[addr + i] |= (uint8_t)~src[i] & (uint8_t) - (~src[i]);
                break;
            }
    }
    if (cut) {
        d->off = 1;
        return -1;
    }
    return 0;
}

static int fd_erase(void *user, uint32_t addr, uint32_t len)
{
    struct flash_double *d = user;
    uint32_t a, i;
    int cut;

    if (d->off)
        return -1;
    if (addr % d->erase || len % d->erase || addr + len > d->size) {
        d->violations++;
        return -1;
    }
    if (d->prot_len && addr < d->prot_addr + d->prot_len &&
        d->prot_addr < addr + len) {
        d->violations++;
        return -1;
    }
    span(d, addr, len);
    d->erases++;
    cut = cut_now(d);
    for (a = addr; a < addr + len; a += d->erase) {
        if (cut) {
            /* Partly erased: a seeded share of bytes made 0xFF. */
            for (i = 0; i < d->erase; i++)
                if (rnd(d) & 1)
                    d->mem[a + i] = d->erased;
            memset(d->written + a / d->prog, 1, d->erase / d->prog);
        } else {
            memset(d->mem + a, d->erased, d->erase);
            memset(d->written + a / d->prog, 0, d->erase / d->prog);
            memset(d->weak + a, 0, d->erase);
        }
    }
    if (cut) {
        d->off = 1;
        return -1;
    }
    return 0;
}

static int fd_protect(void *user, uint32_t addr, uint32_t len, int on)
{
    struct flash_double *d = user;
    if (d->off)
        return -1;
    if (on != 0 && on != 1) /* the contract: 1 locks, 0 releases */
        d->violations++;
    d->prot_addr = on ? addr : 0;
    d->prot_len = on ? len : 0;
    return 0;
}

int fd_is_bad(void *user, uint32_t addr)
{
    struct flash_double *d = user;
    uint32_t u = addr / d->erase;
    return u < 32 && (d->bad_unit_mask >> u) & 1u;
}

void fd_ops(struct flash_double *d, struct fwr_flash_ops *ops)
{
    memset(ops, 0, sizeof(*ops));
    ops->user = d;
    ops->read = fd_read;
    ops->program = fd_program;
    ops->erase = fd_erase;
    ops->protect = fd_protect;
}
