/*
 * sim_flash: the NOR / NAND device model. docs/flash-model.md is the
 * reference for every rule and fault here.
 *
 * State is a few flat arrays (data, spare, program bitmap, per-unit and
 * per-page counters) plus two small sparse lists: unstable bits (torn
 * programs and erases, random on every read until erased) and bit errors
 * (retention, disturb, stuck cells: deviations from what was programmed,
 * which the NAND ECC model counts). A read of a range with no list entry
 * is a memcpy; a copy of the device is a handful of memcpys.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim_flash.h"
#include "sim_rng.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FIU_ENABLE
#define FIU_ENABLE 1
#endif
#include <fiu-local.h>
#include <fiu.h>

struct bitmark {
    uint32_t addr;
    uint8_t mask; /* bits of data[addr] affected */
};

struct marklist {
    struct bitmark *v;
    uint32_t n, cap;
    uint32_t lo, hi; /* address span of the entries: reads outside skip */
    /* Entry numbers sorted by address, built when a read needs it and
     * dropped by any change: a resume scan reads a sector thousands of
     * times between the changes (a cut, an erase), and each read looked
     * at every entry (campaign-ci's MCU rows: 98% of a 0.3 s trial). */
    uint32_t *ix, *hits;
    uint32_t ixcap;
    int ix_valid;
};

struct sim_flash {
    struct sim_config cfg;
    uint32_t units, pages; /* erase units; program units (prog_size) */
    uint8_t *data;
    uint8_t *spare;        /* NAND: spare_size per page */
    uint64_t *programmed;  /* bit per program unit: programmed since erase */
    uint32_t *erase_count; /* per unit */
    uint32_t *read_count;  /* per unit, since erase (read disturb) */
    uint8_t *bad;          /* per unit: 0 good, 1 factory, 2 grown */
    uint16_t *nop;         /* NAND: programs per page since erase */
    uint32_t *next_page;   /* NAND: lowest page programmable per unit */
    uint32_t *unit_start;  /* per unit: first byte (non-uniform layouts) */
    struct marklist unstable, errors;
    struct {
        uint32_t addr, len;
    } prot[4];
    uint64_t rng;
    uint64_t clock_ns, retention_ns; /* clock; retention applied up to */
    struct sim_stats stats;
    struct sim_violation_record first;
    bool powered;
    bool fiu; /* consult libfiu points (costly: off unless asked) */
    /* faults.fail_burst: program/erase ops since power-on, and the unit
     * the burst hit with the failures it has left. */
    uint32_t writes_since_on, burst_unit, burst_left;
    sim_boundary_fn hook;
    sim_power_loss_fn on_loss;
    void *hook_user;
    /* Copy tracking (sim_flash_copy): byte spans written since this device
     * was last the source of a copy (src_*) and since it was last the
     * destination of one (dst_*); lo > hi is empty. */
    uint32_t src_lo, src_hi, dst_lo, dst_hi;
    const struct sim_flash *synced_from; /* source of the last copy here */
    uint64_t copy_gen;                   /* copies made from this device */
    uint64_t synced_gen; /* synced_from's copy_gen after that copy */
};

/* Widen the span [*lo, *hi) to hold [a, b). */
static void widen(uint32_t *lo, uint32_t *hi, uint32_t a, uint32_t b)
{
    if (a < *lo)
        *lo = a;
    if (b > *hi)
        *hi = b;
}

/* Record that bytes [lo, hi) may have changed. */
static void touch(struct sim_flash *f, uint32_t lo, uint32_t hi)
{
    widen(&f->src_lo, &f->src_hi, lo, hi);
    widen(&f->dst_lo, &f->dst_hi, lo, hi);
}

/* ------------------------------------------------------------ rng */

static uint64_t rnd(struct sim_flash *f)
{
    return sim_rng_next(&f->rng);
}

static double rnd_unit(struct sim_flash *f)
{
    return sim_rng_unit(&f->rng);
}

/* Number of events for n trials at probability p (Poisson-ish draw). */
static uint64_t rnd_count(struct sim_flash *f, double n, double p)
{
    double mean = n * p, acc = 0;
    uint64_t k = 0;
    if (mean <= 0)
        return 0;
    if (mean > 64) /* normal approximation is plenty here */
        return (uint64_t)(mean + 0.5);
    /* Exponential gaps. */
    for (;;) {
        double u = rnd_unit(f);
        acc += -log(u > 0 ? u : 1e-300);
        if (acc > mean)
            return k;
        k++;
    }
}

/* ------------------------------------------------------------ lists */

static int mark_add(struct marklist *l, uint32_t addr, uint8_t mask)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 64;
        struct bitmark *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return SIM_E_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->ix_valid = 0;
    l->v[l->n].addr = addr;
    l->v[l->n].mask = mask;
    if (!l->n || addr < l->lo)
        l->lo = addr;
    if (!l->n || addr + 1 > l->hi)
        l->hi = addr + 1;
    l->n++;
    return 0;
}

static void mark_clear_range(struct marklist *l, uint32_t lo, uint32_t hi)
{
    uint32_t i, j = 0;
    if (!l->n || hi <= l->lo || lo >= l->hi)
        return;
    l->ix_valid = 0;
    for (i = 0; i < l->n; i++)
        if (l->v[i].addr < lo || l->v[i].addr >= hi) {
            struct bitmark m = l->v[i];
            if (!j || m.addr < l->lo)
                l->lo = m.addr;
            if (!j || m.addr + 1 > l->hi)
                l->hi = m.addr + 1;
            l->v[j++] = m;
        }
    l->n = j;
}

static const struct marklist *sort_list; /* for by_addr; one thread */

static int by_addr(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint32_t ax = sort_list->v[x].addr, ay = sort_list->v[y].addr;
    return ax != ay ? (ax < ay ? -1 : 1) : (x < y ? -1 : x > y);
}

static int by_number(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The entry numbers with an address in [lo, hi), in list order (the order
 * a read draws their coins in: results do not depend on the index), into
 * l->hits; returns how many, or -1 when out of memory (the caller then
 * scans the whole list).
 */
static int mark_hits(struct marklist *l, uint32_t lo, uint32_t hi)
{
    uint32_t a = 0, b, n, i;
    if (l->ixcap < l->n) {
        uint32_t cap = l->cap, *ix = realloc(l->ix, cap * sizeof(*ix)),
                 *h = ix ? realloc(l->hits, cap * sizeof(*h)) : NULL;
        if (ix)
            l->ix = ix;
        if (!h)
            return -1;
        l->hits = h;
        l->ixcap = cap;
        l->ix_valid = 0;
    }
    if (!l->ix_valid) {
        for (i = 0; i < l->n; i++)
            l->ix[i] = i;
        sort_list = l;
        qsort(l->ix, l->n, sizeof(*l->ix), by_addr);
        l->ix_valid = 1;
    }
    b = l->n;
    while (a < b) { /* first entry at or after lo */
        uint32_t m = a + (b - a) / 2;
        if (l->v[l->ix[m]].addr < lo)
            a = m + 1;
        else
            b = m;
    }
    for (n = 0; a < l->n && l->v[l->ix[a]].addr < hi; a++)
        l->hits[n++] = l->ix[a];
    if (n > 1)
        qsort(l->hits, n, sizeof(*l->hits), by_number);
    return (int)n;
}

/* Any entry in [lo, hi)? Cheap test before a scan. */
static bool mark_may_hit(const struct marklist *l, uint32_t lo, uint32_t hi)
{
    return l->n && lo < l->hi && l->lo < hi;
}

static int mark_copy(struct marklist *dst, const struct marklist *src)
{
    dst->ix_valid = 0;
    if (dst->cap < src->n) {
        struct bitmark *v = realloc(dst->v, src->cap * sizeof(*v));
        if (!v)
            return SIM_E_NOMEM;
        dst->v = v;
        dst->cap = src->cap;
    }
    if (src->n)
        memcpy(dst->v, src->v, src->n * sizeof(*src->v));
    dst->n = src->n;
    dst->lo = src->lo;
    dst->hi = src->hi;
    return 0;
}

/* ------------------------------------------------------------ geometry */

static uint32_t unit_of(const struct sim_flash *f, uint32_t addr)
{
    uint32_t lo = 0, hi = f->units;
    if (!f->cfg.geo.nregions)
        return addr / f->cfg.geo.erase_size;
    while (hi - lo > 1) { /* unit_start is sorted */
        uint32_t mid = (lo + hi) / 2;
        if (f->unit_start[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t unit_size(const struct sim_flash *f, uint32_t u)
{
    uint32_t end = u + 1 < f->units ? f->unit_start[u + 1] : f->cfg.geo.size;
    return end - f->unit_start[u];
}

static bool is_nand(const struct sim_flash *f)
{
    return f->cfg.geo.kind == SIM_NAND;
}

static void note_span(struct sim_flash *f, uint32_t addr, uint32_t len);

/* ------------------------------------------------------------ violations */

static void violate(struct sim_flash *f, enum sim_violation v, uint8_t op,
                    uint32_t addr, uint32_t len)
{
    f->stats.violations[v]++;
    if (f->first.kind == SIM_VIOL_NONE) {
        f->first.kind = (uint8_t)v;
        f->first.op = op;
        f->first.addr = addr;
        f->first.len = len;
        f->first.boundary = f->stats.boundaries;
    }
}

static bool protected_range(const struct sim_flash *f, uint32_t addr,
                            uint32_t len)
{
    uint32_t i;
    for (i = 0; i < 4; i++)
        if (f->prot[i].len && addr < f->prot[i].addr + f->prot[i].len &&
            f->prot[i].addr < addr + len)
            return true;
    return false;
}

/* ------------------------------------------------------------ create */

/* Writes "why" for the setting key and returns SIM_E_INVAL. */
static int refuse(const char **key, const char *name, char *why, size_t n,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refuse(const char **key, const char *name, char *why, size_t n,
                  const char *fmt, ...)
{
    va_list ap;
    *key = name;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return SIM_E_INVAL;
}

/* Units of the device (uniform or region map), counted as create does. */
static uint64_t config_units(const struct sim_geometry *g)
{
    uint64_t units = 0, a = 0;
    uint32_t r;
    if (!g->nregions)
        return g->size / g->erase_size;
    for (r = 0; r < g->nregions && a < g->size; r++) {
        uint64_t k = g->regions[r].count;
        uint64_t need =
            (g->size - a + g->regions[r].size - 1) / g->regions[r].size;
        units += k < need ? k : need;
        a += (k < need ? k : need) * g->regions[r].size;
    }
    return units;
}

int sim_config_check(const struct sim_config *cfg, const char **key, char *why,
                     size_t n)
{
    const struct sim_geometry *g = &cfg->geo;
    const struct sim_faults *x = &cfg->faults;
    uint64_t map = 0;
    uint32_t r;

    *key = NULL;
    if (!g->prog_size)
        return refuse(key, "device.prog_size", why, n,
                      "0: the program unit is at least a byte");
    if (!g->erase_size || g->erase_size % g->prog_size)
        return refuse(key, "device.erase_size", why, n,
                      "erase unit %u is not a multiple of the program unit %u",
                      g->erase_size, g->prog_size);
    if (!g->size || g->size > SIM_MAX_SIZE)
        return refuse(key, "device.size", why, n,
                      "%u bytes: the simulator takes 1 byte to %u MiB", g->size,
                      SIM_MAX_SIZE >> 20);
    if (!g->nregions && g->size % g->erase_size)
        return refuse(key, "device.size", why, n,
                      "%u is not a whole number of %u-byte erase units",
                      g->size, g->erase_size);
    if (g->nregions > 8)
        return refuse(key, "device.preset", why, n, "%u erase regions (max 8)",
                      g->nregions);
    for (r = 0; r < g->nregions; r++) {
        if (!g->regions[r].size || g->regions[r].size % g->prog_size)
            return refuse(key, "device.preset", why, n,
                          "erase region %u: %u-byte units are not a multiple "
                          "of the program unit %u",
                          r, g->regions[r].size, g->prog_size);
        map += (uint64_t)g->regions[r].count * g->regions[r].size;
    }
    if (g->nregions && map < g->size)
        return refuse(key, "device.size", why, n,
                      "%u bytes, but the part's sector map covers %llu",
                      g->size, (unsigned long long)map);
    if (!g->page_size || g->page_size % g->prog_size ||
        (!g->nregions && g->erase_size % g->page_size) ||
        (g->nregions && g->regions[0].size % g->page_size))
        return refuse(key, "device.page_size", why, n,
                      "%u is not a multiple of the program unit (%u) that "
                      "divides the erase unit",
                      g->page_size, g->prog_size);
    if (g->kind == SIM_NAND && g->prog_size != g->page_size)
        return refuse(key, "device.prog_size", why, n,
                      "%u: NAND programs whole pages (page_size %u)",
                      g->prog_size, g->page_size);
    if (g->kind == SIM_NAND && g->spare_size > g->page_size)
        return refuse(key, "device.spare_size", why, n,
                      "%u spare bytes for a %u-byte page", g->spare_size,
                      g->page_size);
    if (g->kind == SIM_NAND && g->ecc_bits &&
        (!g->ecc_codeword || g->page_size % g->ecc_codeword))
        return refuse(key, "device.ecc_codeword", why, n,
                      "%u does not divide the %u-byte page into ECC codewords",
                      g->ecc_codeword, g->page_size);
    if (g->kind == SIM_NAND && g->ecc_bits > g->ecc_codeword * 8u)
        return refuse(key, "device.ecc_bits", why, n,
                      "%u correctable bits in a %u-byte codeword", g->ecc_bits,
                      g->ecc_codeword);
    if (g->kind == SIM_NAND && g->factory_bad &&
        g->factory_bad >= config_units(g) / 2)
        return refuse(key, "device.factory_bad", why, n,
                      "%u bad blocks of %llu: at most half the part may be bad",
                      g->factory_bad, (unsigned long long)config_units(g));
    if (cfg->timing.prog_max_ns < cfg->timing.prog_typ_ns)
        return refuse(key, "device.prog_max", why, n,
                      "shorter than the typical program time");
    if (cfg->timing.erase_max_ns < cfg->timing.erase_typ_ns)
        return refuse(key, "device.erase_max", why, n,
                      "shorter than the typical erase time");
    if (x->initial_wear < 0 || x->initial_wear * x->endurance > 1e9)
        return refuse(key, "faults.initial_wear", why, n,
                      "%g of %u cycles: starting wear beyond 10^9 erases",
                      x->initial_wear, x->endurance);
    return 0;
}

int sim_flash_create(struct sim_flash **out, const struct sim_config *cfg)
{
    const struct sim_geometry *g = &cfg->geo;
    struct sim_flash *f;
    uint32_t u, i, r, a;
    const char *key;
    char why[160];

    *out = NULL;
    if (sim_config_check(cfg, &key, why, sizeof(why)))
        return SIM_E_INVAL;
    f = calloc(1, sizeof(*f));
    if (f)
        f->src_lo = f->dst_lo = UINT32_MAX; /* nothing written yet */
    if (!f)
        return SIM_E_NOMEM;
    f->cfg = *cfg;
    if (g->nregions) {
        for (r = 0; r < g->nregions; r++)
            f->units += g->regions[r].count;
    } else {
        f->units = g->size / g->erase_size;
    }
    f->pages = g->size / g->prog_size;
    f->data = malloc(g->size);
    f->programmed = calloc((f->pages + 63) / 64, 8);
    f->erase_count = calloc(f->units, 4);
    f->read_count = calloc(f->units, 4);
    f->bad = calloc(f->units, 1);
    f->unit_start = calloc(f->units + 1, 4);
    if (is_nand(f)) {
        f->spare =
            malloc((size_t)f->pages * (g->spare_size ? g->spare_size : 1));
        f->nop = calloc(f->pages, 2);
        f->next_page = calloc(f->units, 4);
    }
    if (!f->data || !f->programmed || !f->erase_count || !f->read_count ||
        !f->bad || !f->unit_start ||
        (is_nand(f) && (!f->spare || !f->nop || !f->next_page))) {
        sim_flash_destroy(f);
        return SIM_E_NOMEM;
    }
    if (g->nregions) {
        for (r = 0, u = 0, a = 0; r < g->nregions; r++)
            for (i = 0; i < g->regions[r].count && u < f->units; i++, u++) {
                f->unit_start[u] = a;
                a += g->regions[r].size;
            }
        /* Regions beyond the device size are dropped. */
        while (f->units && f->unit_start[f->units - 1] >= g->size)
            f->units--;
    } else {
        for (u = 0; u < f->units; u++)
            f->unit_start[u] = u * g->erase_size;
    }
    memset(f->data, g->erased_value, g->size);
    if (f->spare)
        memset(f->spare, 0xFF,
               (size_t)f->pages * (g->spare_size ? g->spare_size : 1));
    f->rng = cfg->faults.seed ^ 0x6A09E667F3BCC908ull;
    f->powered = true;
    f->stats.write_lo = UINT32_MAX;
    {
        const char *e = getenv("FOTASIM_FIU");
        f->fiu = cfg->faults.fiu_points || (e && *e && strcmp(e, "0"));
    }
    if (f->fiu)
        fiu_init(0);
    if (cfg->faults.endurance && cfg->faults.initial_wear > 0)
        for (u = 0; u < f->units; u++)
            f->erase_count[u] =
                (uint32_t)(cfg->faults.initial_wear * cfg->faults.endurance);
    /* Factory bad blocks: seeded placement, marked in the first page's
     * spare area as the datasheets describe (first spare byte != 0xFF). */
    for (i = 0; i < g->factory_bad && is_nand(f) && f->units > 1; i++) {
        u = 1 + (uint32_t)(rnd(f) % (f->units - 1)); /* block 0 is good */
        f->bad[u] = 1;
        if (g->spare_size)
            f->spare[(size_t)(f->unit_start[u] / g->prog_size) *
                     g->spare_size] = 0x00;
    }
    *out = f;
    return 0;
}

void sim_flash_destroy(struct sim_flash *f)
{
    if (!f)
        return;
    free(f->data);
    free(f->spare);
    free(f->programmed);
    free(f->erase_count);
    free(f->read_count);
    free(f->bad);
    free(f->nop);
    free(f->next_page);
    free(f->unit_start);
    free(f->unstable.v);
    free(f->unstable.ix);
    free(f->unstable.hits);
    free(f->errors.v);
    free(f->errors.ix);
    free(f->errors.hits);
    free(f);
}

/*
 * The torture loop copies the live device into the trial device at every
 * boundary; both differ only where either was written since the last such
 * copy. When dst was last synced from src and src has not been copied
 * elsewhere since, only that span (and the per-unit arrays) is copied.
 */
int sim_flash_copy(struct sim_flash *dst, struct sim_flash *src)
{
    const struct sim_geometry *g = &src->cfg.geo;
    uint32_t lo = 0, hi = g->size, p0, p1, w0, w1;
    size_t spare = g->spare_size ? g->spare_size : 1;

    if (dst->units != src->units || dst->pages != src->pages ||
        dst->cfg.geo.size != g->size)
        return SIM_E_INVAL;
    if (dst->synced_from == src && dst->synced_gen == src->copy_gen) {
        lo = src->src_lo < dst->dst_lo ? src->src_lo : dst->dst_lo;
        hi = src->src_hi > dst->dst_hi ? src->src_hi : dst->dst_hi;
        if (lo > hi)
            lo = hi = 0;
    }
    p0 = lo / g->prog_size;
    p1 = (hi + g->prog_size - 1) / g->prog_size;
    w0 = p0 / 64;
    w1 = (p1 + 63) / 64;
    memcpy(dst->data + lo, src->data + lo, hi - lo);
    memcpy(dst->programmed + w0, src->programmed + w0, (w1 - w0) * 8u);
    memcpy(dst->erase_count, src->erase_count, src->units * 4u);
    memcpy(dst->read_count, src->read_count, src->units * 4u);
    memcpy(dst->bad, src->bad, src->units);
    if (src->spare) {
        memcpy(dst->spare + p0 * spare, src->spare + p0 * spare,
               (p1 - p0) * spare);
        memcpy(dst->nop + p0, src->nop + p0, (p1 - p0) * 2u);
        memcpy(dst->next_page, src->next_page, src->units * 4u);
    }
    /* The copy wrote dst where they differed: a device synced from dst
     * must see that; and both start clean relative to each other. */
    if (lo < hi)
        touch(dst, lo, hi);
    dst->dst_lo = src->src_lo = UINT32_MAX;
    dst->dst_hi = src->src_hi = 0;
    src->copy_gen++;
    dst->synced_from = src;
    dst->synced_gen = src->copy_gen;
    if (mark_copy(&dst->unstable, &src->unstable) ||
        mark_copy(&dst->errors, &src->errors))
        return SIM_E_NOMEM;
    memcpy(dst->prot, src->prot, sizeof(dst->prot));
    dst->cfg = src->cfg;
    dst->rng = src->rng;
    dst->clock_ns = src->clock_ns;
    dst->retention_ns = src->retention_ns;
    dst->stats = src->stats;
    dst->first = src->first;
    dst->powered = src->powered;
    dst->writes_since_on = src->writes_since_on;
    dst->burst_unit = src->burst_unit;
    dst->burst_left = src->burst_left;
    /* The hook belongs to whoever drives each device: not copied. */
    return 0;
}

/* ------------------------------------------------------------ timing */

static uint64_t draw_time(struct sim_flash *f, uint64_t typ, uint64_t max)
{
    if (!f->cfg.timing.draw_times || max <= typ)
        return typ;
    return typ + rnd(f) % (max - typ + 1);
}

/* ------------------------------------------------------------ read */

static void apply_retention(struct sim_flash *f);

int sim_flash_read(struct sim_flash *f, uint32_t addr, void *buf, uint32_t len)
{
    const struct sim_geometry *g = &f->cfg.geo;
    const struct sim_faults *x = &f->cfg.faults;
    uint8_t *out = buf;
    uint32_t i, u;
    int corrected = 0, worst = 0;

    if (!f->powered)
        return SIM_E_POWER_OFF;
    if (addr >= g->size || len > g->size - addr) {
        violate(f, SIM_VIOL_OUT_OF_RANGE, SIM_OP_READ, addr, len);
        return SIM_E_RANGE;
    }
    if (f->fiu && fiu_fail("sim/flash/read"))
        return SIM_E_READ_FAIL;
    if (x->retention_rate > 0)
        apply_retention(f);
    memcpy(out, f->data + addr, len);
    f->stats.reads++;
    f->stats.bytes_read += len;
    if (is_nand(f)) {
        uint32_t p0 = addr / g->prog_size;
        uint32_t p1 = (addr + len + g->prog_size - 1) / g->prog_size;
        f->clock_ns += (uint64_t)(p1 - p0) * f->cfg.timing.page_read_typ_ns;
    } else {
        f->clock_ns += f->cfg.timing.read_setup_ns +
                       (uint64_t)len * f->cfg.timing.read_per_byte_ns;
    }
    if (x->read_disturb_limit) {
        u = unit_of(f, addr);
        if (++f->read_count[u] > x->read_disturb_limit) {
            /* Read disturb: an erased bit of the unit creeps to 0. */
            uint32_t a =
                f->unit_start[u] + (uint32_t)(rnd(f) % unit_size(f, u));
            uint8_t m = (uint8_t)(1u << (rnd(f) & 7));
            if (f->data[a] & m) {
                f->data[a] &= (uint8_t)~m;
                touch(f, a, a + 1);
                mark_add(&f->errors, a, m);
                f->stats.bit_flips++;
            }
        }
    }
    if (!mark_may_hit(&f->unstable, addr, addr + len) &&
        !(is_nand(f) && mark_may_hit(&f->errors, addr, addr + len)) &&
        x->read_flip_rate <= 0)
        return 0;

    /* Unstable bits: a fresh coin for each, every read. */
    {
        int nh =
            f->unstable.n > 32 ? mark_hits(&f->unstable, addr, addr + len) : -1;
        uint32_t k, nk = nh >= 0 ? (uint32_t)nh : f->unstable.n;
        for (k = 0; k < nk; k++) {
            const struct bitmark *m =
                &f->unstable.v[nh >= 0 ? f->unstable.hits[k] : k];
            if (m->addr >= addr && m->addr < addr + len) {
                uint8_t r = (uint8_t)rnd(f);
                out[m->addr - addr] =
                    (uint8_t)((out[m->addr - addr] & ~m->mask) | (r & m->mask));
            }
        }
    }
    /* Transient flips on this read. */
    if (x->read_flip_rate > 0) {
        uint64_t k = rnd_count(f, (double)len * 8, x->read_flip_rate);
        while (k--) {
            uint32_t a = (uint32_t)(rnd(f) % len);
            out[a] ^= (uint8_t)(1u << (rnd(f) & 7));
            f->stats.bit_flips++;
            if (is_nand(f) && g->ecc_bits)
                mark_add(&f->errors, addr + a, 0); /* counted below */
        }
    }
    if (!is_nand(f) || !g->ecc_bits)
        return 0;

    /* NAND ECC: per codeword, count the bits that differ from what was
     * programmed (persistent errors + this read's flips + unstable bits
     * that came out wrong), correct up to ecc_bits, fail beyond. */
    {
        uint32_t cw = g->ecc_codeword, c0 = addr / cw,
                 c1 = (addr + len - 1) / cw, c;
        for (c = c0; c <= c1; c++) {
            uint32_t lo = c * cw, hi = lo + cw, nerr = 0;
            for (i = 0; i < f->errors.n; i++) {
                const struct bitmark *m = &f->errors.v[i];
                if (m->addr >= lo && m->addr < hi)
                    nerr += m->mask ? (uint32_t)__builtin_popcount(m->mask) : 1;
            }
            for (i = 0; i < f->unstable.n; i++) {
                const struct bitmark *m = &f->unstable.v[i];
                if (m->addr >= lo && m->addr < hi)
                    nerr += (uint32_t)__builtin_popcount(m->mask) / 2;
            }
            if (!nerr)
                continue;
            if (nerr <= g->ecc_bits) {
                /* Corrected: what was programmed comes back. */
                for (i = 0; i < f->errors.n; i++) {
                    const struct bitmark *m = &f->errors.v[i];
                    if (m->addr >= lo && m->addr < hi && m->addr >= addr &&
                        m->addr < addr + len && m->mask)
                        out[m->addr - addr] ^= m->mask;
                }
                corrected += (int)nerr;
                f->stats.ecc_corrected += nerr;
            } else {
                worst = 1;
            }
        }
        /* Transient flip markers are not persistent errors. */
        {
            uint32_t j = 0;
            for (i = 0; i < f->errors.n; i++)
                if (f->errors.v[i].mask)
                    f->errors.v[j++] = f->errors.v[i];
            f->errors.n = j;
        }
        if (x->read_flip_rate > 0 && !worst && corrected) {
            /* Transient flips were counted, now undo them in the output:
             * re-read clean data for corrected codewords. */
            memcpy(out, f->data + addr, len);
            for (i = 0; i < f->errors.n; i++) {
                const struct bitmark *m = &f->errors.v[i];
                if (m->addr >= addr && m->addr < addr + len)
                    out[m->addr - addr] ^= m->mask;
            }
        }
    }
    if (worst) {
        f->stats.ecc_failures++;
        return SIM_E_ECC;
    }
    return corrected;
}

/* ------------------------------------------------------------ program */

static bool prog_bit(const struct sim_flash *f, uint32_t unit)
{
    return (f->programmed[unit >> 6] >> (unit & 63)) & 1u;
}

/* Word-wise operations on the program bitmap over units [p0, p1). */
static uint64_t span_mask(uint32_t lo, uint32_t hi)
{
    /* bits lo..hi-1 of one word, 0 <= lo < hi <= 64 */
    uint64_t m = hi == 64 ? ~0ull : (1ull << hi) - 1;
    return m & ~((1ull << lo) - 1);
}

static bool bits_any(const uint64_t *map, uint32_t p0, uint32_t p1)
{
    while (p0 < p1) {
        uint32_t w = p0 >> 6, lo = p0 & 63;
        uint32_t hi = (p1 - (p0 - lo)) > 64 ? 64 : p1 - (p0 - lo);
        if (map[w] & span_mask(lo, hi))
            return true;
        p0 += hi - lo;
    }
    return false;
}

static void bits_write(uint64_t *map, uint32_t p0, uint32_t p1, bool on)
{
    while (p0 < p1) {
        uint32_t w = p0 >> 6, lo = p0 & 63;
        uint32_t hi = (p1 - (p0 - lo)) > 64 ? 64 : p1 - (p0 - lo);
        if (on)
            map[w] |= span_mask(lo, hi);
        else
            map[w] &= ~span_mask(lo, hi);
        p0 += hi - lo;
    }
}

/* AND len bytes of src into the device: the hot path. */
static void and_bytes(uint8_t *dst, const uint8_t *src, uint32_t len)
{
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t a, b;
        memcpy(&a, dst + i, 8);
        memcpy(&b, src + i, 8);
        a &= b;
        memcpy(dst + i, &a, 8);
    }
    for (; i < len; i++)
        dst[i] &= src[i];
}

/* A program redefines what the cells should hold: an error bit (a cell
 * that deviates from what was programmed) that this program clears is no
 * longer a deviation once cleared. Entries left without bits go (mask 0
 * means a transient flip marker to the ECC model). */
static void errors_program(struct sim_flash *f, uint32_t addr,
                           const uint8_t *src, uint32_t len)
{
    struct marklist *l = &f->errors;
    uint32_t i, j = 0;
    if (!mark_may_hit(l, addr, addr + len))
        return;
    for (i = 0; i < l->n; i++) {
        struct bitmark m = l->v[i];
        if (m.addr >= addr && m.addr < addr + len && m.mask) {
            m.mask &= src[m.addr - addr];
            if (!m.mask)
                continue;
        }
        l->v[j++] = m;
    }
    l->n = j;
}

/* Rules of a program; returns an error for ops that do not happen. */
static int check_program(struct sim_flash *f, uint32_t addr, uint32_t len)
{
    const struct sim_geometry *g = &f->cfg.geo;
    uint32_t p, p0, p1, u;

    if (addr >= g->size || len > g->size - addr || !len) {
        violate(f, SIM_VIOL_OUT_OF_RANGE, SIM_OP_PROGRAM, addr, len);
        return SIM_E_RANGE;
    }
    if (addr % g->prog_size || len % g->prog_size) {
        violate(f, SIM_VIOL_MISALIGNED, SIM_OP_PROGRAM, addr, len);
        return SIM_E_ALIGN;
    }
    if (protected_range(f, addr, len)) {
        violate(f, SIM_VIOL_PROTECTED, SIM_OP_PROGRAM, addr, len);
        return SIM_E_PROTECTED;
    }
    u = unit_of(f, addr);
    if (f->bad[u]) {
        violate(f, SIM_VIOL_BAD_BLOCK, SIM_OP_PROGRAM, addr, len);
        return SIM_E_PROG_FAIL;
    }
    p0 = addr / g->prog_size;
    p1 = (addr + len) / g->prog_size;
    if (!is_nand(f)) {
        if (!f->cfg.faults.reprogram_as_and && bits_any(f->programmed, p0, p1))
            violate(f, SIM_VIOL_REPROGRAM, SIM_OP_PROGRAM, addr, len);
        return 0;
    }
    for (p = p0; p < p1; p++) {
        {
            uint32_t pu = unit_of(f, p * g->prog_size);
            uint32_t first = f->unit_start[pu] / g->prog_size;
            if (p - first < f->next_page[pu] - (prog_bit(f, p) ? 1u : 0u))
                violate(f, SIM_VIOL_NAND_ORDER, SIM_OP_PROGRAM, addr, len);
            if (f->nop[p] >= (g->nop ? g->nop : 1))
                violate(f, SIM_VIOL_NAND_NOP, SIM_OP_PROGRAM, addr, len);
        }
    }
    return 0;
}

/* Book-keeping of a program that happened (fully or torn). */
/* What the program rules remember of a program: the units it programmed,
 * and on NAND the partial programs per page and the highest page. */
static void account_rules(struct sim_flash *f, uint32_t addr, uint32_t len)
{
    const struct sim_geometry *g = &f->cfg.geo;
    uint32_t p, p0 = addr / g->prog_size, p1 = (addr + len) / g->prog_size;

    bits_write(f->programmed, p0, p1, true);
    for (p = p0; is_nand(f) && p < p1; p++) {
        uint32_t pu = unit_of(f, p * g->prog_size);
        uint32_t idx = p - f->unit_start[pu] / g->prog_size;
        f->nop[p]++;
        if (idx + 1 > f->next_page[pu])
            f->next_page[pu] = idx + 1;
    }
}

/* What a program costs and where it went: stats, the write span, time. */
static void account_cost(struct sim_flash *f, uint32_t addr, uint32_t len)
{
    const struct sim_geometry *g = &f->cfg.geo;
    uint32_t p0 = addr / g->prog_size, p1 = (addr + len) / g->prog_size;
    uint32_t pages;

    note_span(f, addr, len);
    f->stats.programs++;
    f->stats.bytes_programmed += len;
    pages = is_nand(f)
                ? p1 - p0
                : (addr + len - 1) / g->page_size - addr / g->page_size + 1;
    f->clock_ns += pages * draw_time(f, f->cfg.timing.prog_typ_ns,
                                     f->cfg.timing.prog_max_ns);
}

static void account_program(struct sim_flash *f, uint32_t addr, uint32_t len)
{
    account_cost(f, addr, len);
    account_rules(f, addr, len);
}

/* Past endurance a unit wears: the probability grows with the excess. */
static double wear_prob(const struct sim_flash *f, uint32_t u)
{
    const struct sim_faults *x = &f->cfg.faults;
    double excess;
    if (!x->endurance || f->erase_count[u] <= x->endurance)
        return 0;
    excess = (double)(f->erase_count[u] - x->endurance) / x->endurance;
    return excess * 20 > 1 ? 1 : excess * 20; /* 5% over: always */
}

/* NAND with ECC: the parity is programmed with the page, so a torn page
 * deviates from its parity by every bit it failed to clear. Recording them
 * as errors lets the ECC model correct a nearly complete page and report a
 * badly torn one uncorrectable, as the part would. Unstable bits are
 * counted by the ECC model separately. */
static void tear_errors(struct sim_flash *f, uint32_t addr, const uint8_t *src,
                        uint32_t len)
{
    uint32_t i;
    if (!is_nand(f) || !f->cfg.geo.ecc_bits)
        return;
    for (i = 0; i < len; i++) {
        uint8_t left = (uint8_t)(f->data[addr + i] & ~src[i]);
        if (left)
            mark_add(&f->errors, addr + i, left);
    }
}

/* Apply a program cut by power loss per the fault model. Returns whether
 * it left any trace: a cell changed, a bit left unstable or a NAND ECC
 * error. */
static bool tear_program(struct sim_flash *f, uint32_t addr, const uint8_t *src,
                         uint32_t len)
{
    uint32_t i, n, traces = f->unstable.n + f->errors.n;
    bool changed = false;
    switch (f->cfg.faults.torn_mode) {
    case SIM_TORN_NONE: /* cells untouched: the page still reads erased */
        return false;
    case SIM_TORN_FAINT:
        /* The pulse started and stopped short of flipping a bit: the page
         * reads erased, yet its cells hold charge a second program would
         * add to (NOR: the bits come out wrong, later or at once). The
         * engine must treat it as programmed; only the rules can tell. */
        return true;
    case SIM_TORN_ALL:
        errors_program(f, addr, src, len);
        for (i = 0; i < len && !changed; i++)
            changed = (f->data[addr + i] & src[i]) != f->data[addr + i];
        and_bytes(f->data + addr, src, len);
        return changed || f->unstable.n + f->errors.n != traces;
    case SIM_TORN_PREFIX:
        n = (uint32_t)(rnd(f) % (len + 1));
        if (!n)
            return false; /* nothing applied: as SIM_TORN_NONE */
        errors_program(f, addr, src, n);
        for (i = 0; i < n && !changed; i++)
            changed = (f->data[addr + i] & src[i]) != f->data[addr + i];
        and_bytes(f->data + addr, src, n);
        tear_errors(f, addr + n, src + n, len - n);
        return changed || f->unstable.n + f->errors.n != traces;
    default: /* SIM_TORN_RANDOM */
        errors_program(f, addr, src, len);
        for (i = 0; i < len; i++) {
            uint8_t clear = (uint8_t)(f->data[addr + i] & ~src[i]);
            uint8_t done, weak = 0;
            if (!clear)
                continue;
            done = (uint8_t)(clear & rnd(f));
            if (f->cfg.faults.unstable_fraction > 0) {
                uint8_t b;
                for (b = 1; b; b <<= 1)
                    if ((clear & b) && !(done & b) &&
                        rnd_unit(f) < f->cfg.faults.unstable_fraction)
                        weak |= b;
            }
            f->data[addr + i] &= (uint8_t)~done;
            changed |= done != 0;
            if (weak)
                mark_add(&f->unstable, addr + i, weak);
            if (is_nand(f) && f->cfg.geo.ecc_bits && (clear & ~done & ~weak))
                mark_add(&f->errors, addr + i,
                         (uint8_t)(clear & ~done & ~weak));
        }
        return changed || f->unstable.n + f->errors.n != traces;
    }
}

/*
 * A program cut by power loss: it costs what it costs, and counts for the
 * program rules (no second program before an erase, NAND page order and
 * NOP) only when it left a trace. A cut that changed no cell and left no
 * unstable bit is, by this model's own terms, one whose pulse never
 * started: the flash is bit for bit what it was, no engine can tell, and
 * a program there later breaks nothing. Weak charge is modelled as
 * unstable bits, and those do count.
 */
static void cut_program(struct sim_flash *f, uint32_t addr, const uint8_t *src,
                        uint32_t len)
{
    account_cost(f, addr, len);
    if (tear_program(f, addr, src, len))
        account_rules(f, addr, len);
}

static void tear_erase(struct sim_flash *f, uint32_t addr, uint32_t len);

/* faults.fail_burst: does this program or erase (at addr) fail? */
static bool burst_fails(struct sim_flash *f, uint32_t addr)
{
    const struct sim_faults *x = &f->cfg.faults;
    if (!x->fail_burst)
        return false;
    if (f->writes_since_on++ == x->fail_burst_after) {
        f->burst_unit = unit_of(f, addr);
        f->burst_left = x->fail_burst;
    }
    if (!f->burst_left || unit_of(f, addr) != f->burst_unit)
        return false;
    f->burst_left--;
    return true;
}

/* Run the boundary hook; true when power was cut during this op. */
static bool boundary(struct sim_flash *f, uint8_t op, uint32_t addr,
                     uint32_t len, const void *data)
{
    struct sim_boundary b;
    bool cut;
    b.index = f->stats.boundaries++;
    if (!f->hook)
        return false;
    b.op = op;
    b.addr = addr;
    b.len = len;
    b.data = data;
    cut = f->hook(f->hook_user, &b);
    if (!cut)
        return false;
    touch(f, addr, addr + len); /* torn below */
    if (op == SIM_OP_PROGRAM) {
        cut_program(f, addr, data, len);
    } else {
        tear_erase(f, addr, len);
    }
    f->powered = false;
    if (f->on_loss)
        f->on_loss(f->hook_user); /* normally does not return */
    return true;
}

int sim_flash_program(struct sim_flash *f, uint32_t addr, const void *buf,
                      uint32_t len)
{
    const uint8_t *src = buf;
    uint32_t u;
    int rc;

    if (!f->powered)
        return SIM_E_POWER_OFF;
    rc = check_program(f, addr, len);
    if (rc)
        return rc;
    if (boundary(f, SIM_OP_PROGRAM, addr, len, buf))
        return SIM_E_POWER_OFF;
    touch(f, addr, addr + len);
    if ((f->fiu && fiu_fail("sim/flash/program")) || burst_fails(f, addr)) {
        cut_program(f, addr, src, len);
        return SIM_E_PROG_FAIL;
    }
    account_program(f, addr, len);
    errors_program(f, addr, src, len);
    and_bytes(f->data + addr, src, len);
    u = unit_of(f, addr);
    if (f->cfg.faults.wear_mode != SIM_WEAR_NONE && wear_prob(f, u) > 0) {
        double p = wear_prob(f, u);
        if (f->cfg.faults.wear_mode == SIM_WEAR_STUCK) {
            /* A worn cell keeps a bit at 1 that should be 0. */
            uint32_t i;
            for (i = 0; i < len; i++)
                if (src[i] != 0xFF && rnd_unit(f) < p / 64) {
                    uint8_t m = (uint8_t)(~src[i] & -(~src[i]));
                    f->data[addr + i] |= m;
                    mark_add(&f->errors, addr + i, m);
                }
        } else if (rnd_unit(f) < p) {
            return SIM_E_PROG_FAIL; /* status register: program fail */
        }
    }
    return 0;
}

/* ------------------------------------------------------------ erase */

static int check_erase(struct sim_flash *f, uint32_t addr, uint32_t len,
                       uint32_t *u0, uint32_t *u1)
{
    const struct sim_geometry *g = &f->cfg.geo;
    if (addr >= g->size || len > g->size - addr || !len) {
        violate(f, SIM_VIOL_OUT_OF_RANGE, SIM_OP_ERASE, addr, len);
        return SIM_E_RANGE;
    }
    *u0 = unit_of(f, addr);
    *u1 = unit_of(f, addr + len - 1) + 1;
    if (f->unit_start[*u0] != addr ||
        (*u1 < f->units ? f->unit_start[*u1] : g->size) != addr + len) {
        violate(f, SIM_VIOL_MISALIGNED, SIM_OP_ERASE, addr, len);
        return SIM_E_ALIGN;
    }
    if (protected_range(f, addr, len)) {
        violate(f, SIM_VIOL_PROTECTED, SIM_OP_ERASE, addr, len);
        return SIM_E_PROTECTED;
    }
    return 0;
}

static void erase_unit(struct sim_flash *f, uint32_t u, bool timed)
{
    const struct sim_geometry *g = &f->cfg.geo;
    uint32_t a = f->unit_start[u], n = unit_size(f, u);
    uint32_t p0 = a / g->prog_size, p1 = (a + n) / g->prog_size;

    note_span(f, a, n);
    memset(f->data + a, g->erased_value, n);
    bits_write(f->programmed, p0, p1, false);
    if (is_nand(f)) {
        memset(f->nop + p0, 0, (p1 - p0) * 2u);
        if (g->spare_size)
            memset(f->spare + (size_t)p0 * g->spare_size, 0xFF,
                   (size_t)(p1 - p0) * g->spare_size);
        f->next_page[u] = 0;
    }
    mark_clear_range(&f->unstable, a, a + n);
    mark_clear_range(&f->errors, a, a + n);
    f->read_count[u] = 0;
    f->erase_count[u]++;
    f->stats.erases++;
    f->stats.bytes_erased += n;
    if (timed)
        f->clock_ns += draw_time(f, f->cfg.timing.erase_typ_ns,
                                 f->cfg.timing.erase_max_ns) *
                       n / (g->erase_size ? g->erase_size : n);
}

/* NOR block erase: one command erases a 32/64 KiB block in far less time
 * than its sectors one by one (W25Q: 150 ms vs 16 x 45 ms). Returns the
 * block size this erase is charged by, 0 for per-sector timing. */
static uint32_t erase_block_size(const struct sim_flash *f, uint32_t addr,
                                 uint32_t len)
{
    const struct sim_timing *t = &f->cfg.timing;
    if (is_nand(f) || f->cfg.geo.nregions)
        return 0;
    if (t->blk64_size && addr % t->blk64_size == 0 && len % t->blk64_size == 0)
        return t->blk64_size;
    if (t->blk32_size && addr % t->blk32_size == 0 && len % t->blk32_size == 0)
        return t->blk32_size;
    return 0;
}

static void tear_erase(struct sim_flash *f, uint32_t addr, uint32_t len)
{
    uint32_t u0 = unit_of(f, addr), u1 = unit_of(f, addr + len - 1) + 1, u;
    double keep = f->cfg.faults.erase_cut_fraction;
    for (u = u0; u < u1; u++) {
        uint32_t a = f->unit_start[u], n = unit_size(f, u), i;
        /* Save the programmed bits that survive, erase, put them back; a
         * share of them as unstable. */
        uint8_t ev = f->cfg.geo.erased_value;
        uint32_t ps = f->cfg.geo.prog_size;
        uint32_t p0 = a / ps, p1 = (a + n) / ps;
        if (is_nand(f))
            /* NAND: the block counts as programmed. */
            bits_write(f->programmed, p0, p1, true);
        else
            /* NOR: a page counts as programmed when the cut left a trace
             * in it (a surviving 0 bit, an unstable bit), as for a cut
             * program; a page that held none reads erased and is. */
            bits_write(f->programmed, p0, p1, false);
        for (i = 0; i < n; i++) {
            uint8_t zeros = (uint8_t)~f->data[a + i];
            uint8_t stay;
            if (!zeros)
                continue;
            stay = keep >= 1   ? zeros
                   : keep <= 0 ? 0
                               : (uint8_t)(zeros & rnd(f));
            f->data[a + i] = (uint8_t)(ev & ~stay);
            if (stay && f->cfg.faults.unstable_fraction > 0 &&
                rnd_unit(f) < f->cfg.faults.unstable_fraction)
                mark_add(&f->unstable, a + i, stay);
            if (stay && !is_nand(f))
                bits_write(f->programmed, (a + i) / ps, (a + i) / ps + 1, true);
        }
        for (i = 0; !is_nand(f) && i < f->unstable.n; i++) {
            uint32_t m = f->unstable.v[i].addr;
            if (m >= a && m < a + n)
                bits_write(f->programmed, m / ps, m / ps + 1, true);
        }
        note_span(f, a, n);
        f->erase_count[u]++;
    }
    f->stats.erases++;
}

/* One erase command: [addr, addr + len) is one unit, or one 32/64 KiB NOR
 * block (blk) charged the block erase time. */
static int erase_command(struct sim_flash *f, uint32_t addr, uint32_t len,
                         uint32_t blk)
{
    uint32_t u0 = unit_of(f, addr), u1 = unit_of(f, addr + len - 1) + 1, u;

    if (boundary(f, SIM_OP_ERASE, addr, len, NULL))
        return SIM_E_POWER_OFF;
    touch(f, addr, addr + len);
    if ((f->fiu && fiu_fail("sim/flash/erase")) || burst_fails(f, addr))
        return SIM_E_ERASE_FAIL;
    if (blk)
        f->clock_ns += blk == f->cfg.timing.blk64_size
                           ? draw_time(f, f->cfg.timing.blk64_typ_ns,
                                       f->cfg.timing.blk64_max_ns)
                           : draw_time(f, f->cfg.timing.blk32_typ_ns,
                                       f->cfg.timing.blk32_max_ns);
    for (u = u0; u < u1; u++) {
        double p = wear_prob(f, u);
        if (p > 0 && f->cfg.faults.wear_mode != SIM_WEAR_NONE &&
            f->cfg.faults.wear_mode != SIM_WEAR_STUCK && rnd_unit(f) < p) {
            f->erase_count[u]++;
            if (f->cfg.faults.wear_mode == SIM_WEAR_BADBLOCK)
                f->bad[u] = 2; /* grown bad block */
            return SIM_E_ERASE_FAIL;
        }
        erase_unit(f, u, !blk);
    }
    return 0;
}

/*
 * A range is erased as a driver does it: command by command (32/64 KiB
 * NOR blocks when the range is made of them, else unit by unit), each its
 * own write boundary, so power can fail between two of them: the units
 * before are erased, the one in flight is torn, the rest untouched.
 */
int sim_flash_erase(struct sim_flash *f, uint32_t addr, uint32_t len)
{
    uint32_t u0, u1, u, blk, a, n;
    int rc;

    if (!f->powered)
        return SIM_E_POWER_OFF;
    rc = check_erase(f, addr, len, &u0, &u1);
    if (rc)
        return rc;
    for (u = u0; u < u1; u++)
        if (f->bad[u]) {
            violate(f, SIM_VIOL_BAD_BLOCK, SIM_OP_ERASE, addr, len);
            return SIM_E_ERASE_FAIL;
        }
    blk = erase_block_size(f, addr, len);
    for (a = addr; a < addr + len; a += n) {
        n = blk ? blk : unit_size(f, unit_of(f, a));
        rc = erase_command(f, a, n, blk);
        if (rc)
            return rc;
    }
    return 0;
}

int sim_flash_apply_cut(struct sim_flash *f, const struct sim_boundary *b)
{
    if (!f->powered)
        return SIM_E_POWER_OFF;
    f->stats.boundaries = b->index + 1;
    touch(f, b->addr, b->addr + b->len);
    if (b->op == SIM_OP_PROGRAM) {
        cut_program(f, b->addr, b->data, b->len);
    } else {
        tear_erase(f, b->addr, b->len);
    }
    f->powered = false;
    return 0;
}

/* ------------------------------------------------------------ the rest */

int sim_flash_protect(struct sim_flash *f, uint32_t addr, uint32_t len, bool on)
{
    uint32_t i;
    if (!f->powered)
        return SIM_E_POWER_OFF;
    /* Idempotent, as a region register is: locking a locked range again
     * takes no second slot, and one release frees it. */
    for (i = 0; on && i < 4; i++)
        if (f->prot[i].len == len && f->prot[i].addr == addr)
            return 0;
    for (i = 0; i < 4; i++) {
        if (!on && f->prot[i].addr == addr && f->prot[i].len == len) {
            f->prot[i].len = 0;
            return 0;
        }
        if (on && !f->prot[i].len) {
            f->prot[i].addr = addr;
            f->prot[i].len = len;
            return 0;
        }
    }
    return on ? SIM_E_INVAL : 0;
}

bool sim_flash_is_protected(const struct sim_flash *f, uint32_t addr,
                            uint32_t len)
{
    uint32_t i;
    for (i = 0; i < 4; i++)
        if (f->prot[i].len && f->prot[i].addr <= addr &&
            addr - f->prot[i].addr + (uint64_t)len <= f->prot[i].len)
            return true;
    return false;
}

int sim_flash_is_bad(struct sim_flash *f, uint32_t addr)
{
    if (!f->powered)
        return SIM_E_POWER_OFF;
    if (addr >= f->cfg.geo.size)
        return SIM_E_RANGE;
    return f->bad[unit_of(f, addr)] ? 1 : 0;
}

int sim_flash_read_spare(const struct sim_flash *f, uint32_t addr, void *buf,
                         uint32_t len)
{
    const struct sim_geometry *g = &f->cfg.geo;
    if (!is_nand(f) || !g->spare_size)
        return SIM_E_INVAL;
    if (addr >= g->size || len > g->spare_size)
        return SIM_E_RANGE;
    memcpy(buf, f->spare + (size_t)(addr / g->prog_size) * g->spare_size, len);
    return 0;
}

void sim_flash_power_on(struct sim_flash *f)
{
    f->powered = true;
    f->writes_since_on = 0; /* the next burst counts from here */
    f->burst_left = 0;
}

bool sim_flash_powered(const struct sim_flash *f)
{
    return f->powered;
}

void sim_flash_set_boundary_hook(struct sim_flash *f, sim_boundary_fn fn,
                                 sim_power_loss_fn on_loss, void *user)
{
    f->hook = fn;
    f->on_loss = on_loss;
    f->hook_user = user;
}

static int op_read(void *u, uint32_t a, void *b, uint32_t n)
{
    return sim_flash_read(u, a, b, n);
}
static int op_program(void *u, uint32_t a, const void *b, uint32_t n)
{
    return sim_flash_program(u, a, b, n);
}
static int op_erase(void *u, uint32_t a, uint32_t n)
{
    return sim_flash_erase(u, a, n);
}
static int op_protect(void *u, uint32_t a, uint32_t n, int on)
{
    return sim_flash_protect(u, a, n, on != 0);
}

void sim_flash_fwr_ops(struct sim_flash *f, struct fwr_flash_ops *ops)
{
    memset(ops, 0, sizeof(*ops));
    ops->user = f;
    ops->read = op_read;
    ops->program = op_program;
    ops->erase = op_erase;
    ops->protect = op_protect;
}

int sim_flash_fwr_is_bad(void *f, uint32_t addr)
{
    return sim_flash_is_bad(f, addr);
}

const uint8_t *sim_flash_raw(const struct sim_flash *f)
{
    return f->data;
}

const struct sim_config *sim_flash_config(const struct sim_flash *f)
{
    return &f->cfg;
}

const struct sim_stats *sim_flash_stats(const struct sim_flash *f)
{
    return &f->stats;
}

const struct sim_violation_record *
sim_flash_first_violation(const struct sim_flash *f)
{
    return &f->first;
}

uint64_t sim_flash_clock_ns(const struct sim_flash *f)
{
    return f->clock_ns;
}

/* Retention: programmed 0 bits drift to 1 with simulated time. */
static void apply_retention(struct sim_flash *f)
{
    double secs = (double)(f->clock_ns - f->retention_ns) / 1e9;
    uint64_t k;
    if (secs < 0.001)
        return;
    f->retention_ns = f->clock_ns;
    k = rnd_count(f, (double)f->cfg.geo.size * 8 * 0.5,
                  f->cfg.faults.retention_rate * secs);
    while (k--) {
        uint32_t a = (uint32_t)(rnd(f) % f->cfg.geo.size);
        uint8_t m = (uint8_t)(1u << (rnd(f) & 7));
        if (!(f->data[a] & m) && prog_bit(f, a / f->cfg.geo.prog_size)) {
            f->data[a] |= m;
            touch(f, a, a + 1);
            mark_add(&f->errors, a, m);
            f->stats.bit_flips++;
        }
    }
}

int sim_flash_lose_bits(struct sim_flash *f, uint32_t lo, uint32_t hi,
                        uint32_t nbits, struct sim_bit *lost_bits)
{
    uint32_t tries = nbits * 65536u + 64, lost = 0; /* mostly erased areas */
    if (hi > f->cfg.geo.size || lo >= hi)
        return SIM_E_RANGE;
    while (lost < nbits && tries--) {
        uint32_t a = lo + (uint32_t)(rnd(f) % (hi - lo));
        uint8_t m = (uint8_t)(1u << (rnd(f) & 7));
        if (f->data[a] & m)
            continue; /* only charge that is there can leak */
        f->data[a] |= m;
        touch(f, a, a + 1);
        mark_add(&f->errors, a, m);
        f->stats.bit_flips++;
        if (lost_bits) {
            lost_bits[lost].addr = a;
            lost_bits[lost].mask = m;
        }
        lost++;
    }
    return (int)lost;
}

void sim_flash_reseed(struct sim_flash *f, uint64_t seed)
{
    f->rng = seed ^ 0x6A09E667F3BCC908ull;
}

void sim_flash_advance_clock(struct sim_flash *f, uint64_t ns)
{
    f->clock_ns += ns;
}

uint32_t sim_flash_erase_count(const struct sim_flash *f, uint32_t unit)
{
    return unit < f->units ? f->erase_count[unit] : 0;
}

uint32_t sim_flash_unit_count(const struct sim_flash *f)
{
    return f->units;
}

uint32_t sim_flash_unit_of(const struct sim_flash *f, uint32_t addr)
{
    return unit_of(f, addr);
}

void sim_flash_reset_counters(struct sim_flash *f)
{
    memset(&f->stats, 0, sizeof(f->stats));
    memset(&f->first, 0, sizeof(f->first));
    f->stats.write_lo = UINT32_MAX;
    f->writes_since_on = 0; /* a fresh run meets the burst too */
    f->burst_left = 0;
}

/* Popcount of the marks of l inside [lo, hi). */
static uint32_t marked_bits(const struct marklist *l, uint32_t lo, uint32_t hi)
{
    uint32_t i, n = 0;
    if (hi <= l->lo || lo >= l->hi)
        return 0;
    for (i = 0; i < l->n; i++)
        if (l->v[i].addr >= lo && l->v[i].addr < hi)
            n += (uint32_t)__builtin_popcount(l->v[i].mask);
    return n;
}

uint32_t sim_flash_unstable_count(const struct sim_flash *f, uint32_t lo,
                                  uint32_t hi)
{
    return marked_bits(&f->unstable, lo, hi);
}

uint32_t sim_flash_error_count(const struct sim_flash *f, uint32_t lo,
                               uint32_t hi)
{
    return marked_bits(&f->errors, lo, hi);
}

int sim_flash_read_settled(const struct sim_flash *f, uint32_t addr, void *buf,
                           uint32_t len)
{
    const struct sim_geometry *g = &f->cfg.geo;
    uint8_t *out = buf;
    uint32_t c, c1, i;
    int beyond = 0;

    if (addr > g->size || len > g->size - addr)
        return SIM_E_RANGE;
    memcpy(out, f->data + addr, len);
    if (!is_nand(f) || !g->ecc_bits || !len ||
        !marked_bits(&f->errors, addr, addr + len))
        return 0;
    c1 = (addr + len - 1) / g->ecc_codeword;
    for (c = addr / g->ecc_codeword; c <= c1; c++) {
        uint32_t lo = c * g->ecc_codeword, hi = lo + g->ecc_codeword;
        uint32_t nerr = marked_bits(&f->errors, lo, hi);
        if (!nerr)
            continue;
        /* Every unstable bit counted as wrong: corrected for certain. */
        if (nerr + marked_bits(&f->unstable, lo, hi) > g->ecc_bits) {
            beyond++;
            continue;
        }
        for (i = 0; i < f->errors.n; i++) {
            const struct bitmark *m = &f->errors.v[i];
            if (m->addr >= lo && m->addr < hi && m->addr >= addr &&
                m->addr < addr + len)
                out[m->addr - addr] ^= m->mask;
        }
    }
    return beyond;
}

static void note_span(struct sim_flash *f, uint32_t addr, uint32_t len)
{
    widen(&f->stats.write_lo, &f->stats.write_hi, addr, addr + len);
}

const char *sim_violation_name(enum sim_violation v)
{
    static const char *const names[SIM_VIOL_COUNT] = {
        "none",       "reprogram", "misaligned", "out_of_range",
        "nand_order", "nand_nop",  "protected",  "bad_block"};
    return (unsigned)v < SIM_VIOL_COUNT ? names[v] : "unknown";
}

/* ------------------------------------------------------------ save/load */

#define SAVE_MAGIC "FOTASIM-FLASH-3\n"

static int wr(FILE *fp, const void *p, size_t n)
{
    return fwrite(p, 1, n, fp) == n ? 0 : SIM_E_IO;
}

static int rd(FILE *fp, void *p, size_t n)
{
    return fread(p, 1, n, fp) == n ? 0 : SIM_E_FORMAT;
}

/* One piece of device state in a dump. */
struct state_field {
    void *p;
    size_t n;
};

/*
 * The fixed-size device state a dump holds after the magic and the
 * config, in file order; save and load both walk this one list (the two
 * mark lists follow it, each as a count and its entries). Returns how
 * many fields it filled (at most 16).
 */
static int state_fields(struct sim_flash *f, struct state_field *v)
{
    size_t pages = f->pages, units = f->units;
    int n = 0;
#define FIELD(ptr, len) (v[n].p = (void *)(ptr), v[n++].n = (size_t)(len))
    FIELD(f->data, f->cfg.geo.size);
    FIELD(f->programmed, (pages + 63) / 64 * 8);
    FIELD(f->erase_count, units * 4u);
    FIELD(f->bad, units);
    if (f->spare) {
        FIELD(f->spare,
              pages * (f->cfg.geo.spare_size ? f->cfg.geo.spare_size : 1));
        FIELD(f->nop, pages * 2u);
        FIELD(f->next_page, units * 4u);
    }
    FIELD(&f->rng, sizeof(f->rng));
    FIELD(&f->clock_ns, sizeof(f->clock_ns));
    FIELD(f->prot, sizeof(f->prot));
    FIELD(f->read_count, units * 4u);
    FIELD(&f->retention_ns, sizeof(f->retention_ns));
    FIELD(&f->stats, sizeof(f->stats));
    FIELD(&f->first, sizeof(f->first));
    FIELD(&f->powered, sizeof(f->powered));
#undef FIELD
    return n;
}

int sim_flash_save(const struct sim_flash *f, const char *path)
{
    FILE *fp = fopen(path, "wb");
    struct state_field v[16];
    const struct marklist *l[2] = {&f->unstable, &f->errors};
    int rc = 0, n, i;
    if (!fp)
        return SIM_E_IO;
    /* The table only reads f here. */
    n = state_fields((struct sim_flash *)f, v);
    rc |= wr(fp, SAVE_MAGIC, 16);
    rc |= wr(fp, &f->cfg, sizeof(f->cfg));
    for (i = 0; i < n; i++)
        rc |= wr(fp, v[i].p, v[i].n);
    for (i = 0; i < 2; i++) {
        rc |= wr(fp, &l[i]->n, 4);
        if (l[i]->n)
            rc |= wr(fp, l[i]->v, l[i]->n * sizeof(struct bitmark));
    }
    if (fclose(fp))
        rc = SIM_E_IO;
    return rc ? SIM_E_IO : 0;
}

int sim_flash_load(struct sim_flash **out, const char *path)
{
    FILE *fp = fopen(path, "rb");
    struct sim_config cfg;
    struct sim_flash *f = NULL;
    struct state_field v[16];
    char magic[16];
    uint32_t n, i;
    int rc, k, nf;

    *out = NULL;
    if (!fp)
        return SIM_E_IO;
    if (rd(fp, magic, 16) || memcmp(magic, SAVE_MAGIC, 16) ||
        rd(fp, &cfg, sizeof(cfg))) {
        fclose(fp);
        return SIM_E_FORMAT;
    }
    rc = sim_flash_create(&f, &cfg);
    if (rc) {
        fclose(fp);
        return rc == SIM_E_INVAL ? SIM_E_FORMAT : rc;
    }
    nf = state_fields(f, v);
    for (k = 0; k < nf && !rc; k++)
        rc |= rd(fp, v[k].p, v[k].n);
    for (i = 0; i < 2 && !rc; i++) {
        struct marklist *l = i ? &f->errors : &f->unstable;
        rc |= rd(fp, &n, 4);
        while (!rc && n--) {
            struct bitmark m;
            rc |= rd(fp, &m, sizeof(m));
            if (!rc && (m.addr >= cfg.geo.size || mark_add(l, m.addr, m.mask)))
                rc = SIM_E_FORMAT;
        }
    }
    fclose(fp);
    if (rc) {
        sim_flash_destroy(f);
        return SIM_E_FORMAT;
    }
    *out = f;
    return 0;
}
