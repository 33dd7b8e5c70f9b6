#define _POSIX_C_SOURCE 200809L

#include "norfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void nor_sleep_us(uint32_t us)
{
    struct timespec ts;
    if (!us)
        return;
    ts.tv_sec = (time_t)(us / 1000000u);
    ts.tv_nsec = (long)(us % 1000000u) * 1000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int norfile_open(struct norfile *n, const char *path, uint32_t size,
                 uint32_t erase_size, uint32_t page_size,
                 volatile struct dev_state *st)
{
    memset(n, 0, sizeof(*n));
    if (mapfile_open(&n->map, path, size, 0xFF, 1) != 0)
        return -1;
    n->mem = (uint8_t *)n->map.mem;
    n->size = size;
    n->erase_size = erase_size;
    n->page_size = page_size;
    n->slices = 1;
    n->st = st;
    return 0;
}

void norfile_close(struct norfile *n)
{
    mapfile_close(&n->map);
    n->mem = NULL;
}

static int in_part(const struct norfile *n, uint32_t addr, uint32_t len)
{
    return addr <= n->size && len <= n->size - addr;
}

/* Does [addr, addr+len) touch a locked range? */
static int locked(const struct norfile *n, uint32_t addr, uint32_t len)
{
    uint32_t i;
    for (i = 0; i < DEV_LOCKS; i++) {
        uint32_t a = n->st->lock_addr[i], l = n->st->lock_len[i];
        if (l && addr < a + l && a < addr + len)
            return 1;
    }
    return 0;
}

/* The bits of the byte at addr that slice s of k changes (NOR_TEAR_BITS):
 * each bit belongs to exactly one slice. */
static uint8_t tear_mask(uint32_t addr, uint32_t s, uint32_t k)
{
    uint8_t m = 0;
    uint32_t b;
    for (b = 0; b < 8u; b++)
        if ((addr * 3u + b) % k == s)
            m |= (uint8_t)(1u << b);
    return m;
}

static int nor_read(void *user, uint32_t addr, void *buf, uint32_t len)
{
    struct norfile *n = user;
    if (!in_part(n, addr, len))
        return -1;
    memcpy(buf, n->mem + addr, len);
    return 0;
}

/* One page program, in slices: slice s is applied after its share of
 * tPP, so a kill during the op leaves slices 0..s-1 on the array. */
static void program_page(struct norfile *n, uint32_t addr, const uint8_t *src,
                         uint32_t len)
{
    uint32_t k = n->slices, s, i;
    for (s = 0; s < k; s++) {
        nor_sleep_us(n->prog_us / k);
        if (n->tear == NOR_TEAR_BITS) {
            for (i = 0; i < len; i++) {
                uint8_t m = tear_mask(addr + i, s, k);
                n->mem[addr + i] &= (uint8_t)(src[i] | (uint8_t)~m);
            }
        } else {
            uint32_t lo = len * s / k, hi = len * (s + 1u) / k;
            for (i = lo; i < hi; i++)
                n->mem[addr + i] &= src[i];
        }
        n->st->op_done++;
    }
}

static int nor_program(void *user, uint32_t addr, const void *buf, uint32_t len)
{
    struct norfile *n = user;
    volatile struct dev_state *st = n->st;
    const uint8_t *src = buf;
    uint32_t phase, prev, i;

    if (!in_part(n, addr, len))
        return -1;
    if (locked(n, addr, len)) {
        st->refused++;
        return -1;
    }
    for (i = 0; i < len; i++)
        if ((n->mem[addr + i] & src[i]) != src[i])
            st->violations++; /* a 0 bit asked to become 1: NOR cannot */
    if (addr >= n->data_addr) {
        phase = PH_PROG_DATA;
        st->programs_data++;
    } else {
        phase = len == n->commit_size ? PH_PROG_REC_COMMIT : PH_PROG_REC_BODY;
        st->programs_record++;
    }
    st->op_addr = addr;
    st->op_len = len;
    st->op_done = 0;
    st->op_seq++;
    prev = dev_phase(st, phase);
    while (len > 0) {
        /* A page program does not cross a page: split as a driver does. */
        uint32_t room = n->page_size - addr % n->page_size;
        uint32_t l = len < room ? len : room;
        program_page(n, addr, src, l);
        addr += l;
        src += l;
        len -= l;
    }
    dev_phase(st, prev);
    return 0;
}

static int nor_erase(void *user, uint32_t addr, uint32_t len)
{
    struct norfile *n = user;
    volatile struct dev_state *st = n->st;
    uint32_t k = n->slices, prev, a, s, i;

    if (!in_part(n, addr, len) || addr % n->erase_size || len % n->erase_size)
        return -1;
    if (locked(n, addr, len)) {
        st->refused++;
        return -1;
    }
    st->op_addr = addr;
    st->op_len = len;
    st->op_done = 0;
    st->op_seq++;
    prev = dev_phase(st, PH_ERASE);
    for (a = addr; a < addr + len; a += n->erase_size) {
        uint8_t *u = n->mem + a;
        for (s = 0; s < k; s++) {
            nor_sleep_us(n->erase_us / k);
            if (n->tear == NOR_TEAR_BITS) {
                for (i = 0; i < n->erase_size; i++)
                    u[i] |= tear_mask(a + i, s, k);
            } else {
                uint32_t lo = n->erase_size / k * s;
                uint32_t hi =
                    s + 1u == k ? n->erase_size : n->erase_size / k * (s + 1u);
                memset(u + lo, 0xFF, hi - lo);
            }
            st->op_done++;
        }
        st->erase_units++;
    }
    dev_phase(st, prev);
    return 0;
}

/* Non-volatile lock bits, kept in the state file. */
static int nor_protect(void *user, uint32_t addr, uint32_t len, int on)
{
    struct norfile *n = user;
    volatile struct dev_state *st = n->st;
    uint32_t i;

    if (!in_part(n, addr, len))
        return -1;
    for (i = 0; i < DEV_LOCKS; i++) {
        uint32_t a = st->lock_addr[i], l = st->lock_len[i];
        if (!l)
            continue;
        if (on && a == addr && l == len)
            return 0; /* already locked */
        if (!on && addr < a + l && a < addr + len)
            st->lock_len[i] = 0;
    }
    if (!on)
        return 0;
    for (i = 0; i < DEV_LOCKS; i++)
        if (!st->lock_len[i]) {
            st->lock_addr[i] = addr;
            st->lock_len[i] = len;
            return 0;
        }
    fprintf(stderr, "http_update: no free lock range\n");
    return -1;
}

void norfile_ops(struct norfile *n, struct fwr_flash_ops *ops)
{
    memset(ops, 0, sizeof(*ops));
    ops->user = n;
    ops->read = nor_read;
    ops->program = nor_program;
    ops->erase = nor_erase;
    ops->protect = nor_protect;
}
