/*
 * bench_flash: simulator throughput. Programs a NOR part page by page with
 * faults off and with the fault models on, measures the cost of the
 * boundary hook and of the libfiu gate, a NAND part with ECC, and the
 * copy + torn-op branch the torture loop runs at every boundary. Prints
 * figures; asserts nothing (scripts/bench-flash runs it).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_flash.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct sim_flash *make(const struct sim_config *cfg)
{
    struct sim_flash *f;
    if (sim_flash_create(&f, cfg)) {
        fprintf(stderr, "create failed\n");
        exit(1);
    }
    return f;
}

static bool no_cut(void *user, const struct sim_boundary *b)
{
    (void)b;
    ++*(uint64_t *)user;
    return false;
}

static void row(const char *label, uint64_t ops, uint64_t bytes, double t)
{
    printf("%-40s %8.0f MB/s %8.2f M ops/s\n", label, (double)bytes / t / 1e6,
           (double)ops / t / 1e6);
}

/* Program every page of the device `rounds` times. Erases are done before
 * each round, outside the timed part, unless with_erase: then each sector
 * is erased just before its first page, inside it. */
static void programs(const char *label, const struct sim_config *cfg,
                     int rounds, bool hook, bool with_erase)
{
    struct sim_flash *f = make(cfg);
    uint32_t page = cfg->geo.page_size, es = cfg->geo.erase_size;
    uint32_t size = cfg->geo.size, a;
    uint8_t *buf = malloc(page);
    uint64_t ops = 0, seen = 0;
    double t = 0, t0;
    int r;

    for (a = 0; a < page; a++)
        buf[a] = (uint8_t)(a * 37);
    if (hook)
        sim_flash_set_boundary_hook(f, no_cut, NULL, &seen);
    for (r = 0; r < rounds; r++) {
        if (!with_erase)
            for (a = 0; a < size; a += es)
                sim_flash_erase(f, a, es);
        t0 = now();
        for (a = 0; a < size; a += page) {
            if (with_erase && a % es == 0)
                sim_flash_erase(f, a, es);
            sim_flash_program(f, a, buf, page);
            ops++;
        }
        t += now() - t0;
    }
    row(label, ops, ops * page, t);
    t0 = now();
    for (r = 0; r < rounds; r++)
        for (a = 0; a < size; a += page)
            sim_flash_read(f, a, buf, page);
    t = now() - t0;
    row("  ... reads of the same pages", ops, ops * page, t);
    free(buf);
    sim_flash_destroy(f);
}

/* The torture loop's branch at a boundary: copy the live device, tear the
 * op on the copy, power it back on. Two bounds: a whole-device copy (the
 * trial device was last synced from another device: here two live
 * devices take turns), and the incremental floor (only the torn page
 * changed since the last copy). The torture loop sits in between: the
 * trial's recovery wrote the rest of the image, and the copy moves the
 * span of what both devices wrote. */
static void branches(const char *label, const struct sim_config *cfg, int n)
{
    struct sim_flash *live[2] = {make(cfg), make(cfg)}, *trial = make(cfg);
    struct sim_boundary b;
    uint8_t page[256];
    double t0, t;
    int i, k, whole;

    memset(page, 0x5A, sizeof(page));
    for (k = 0; k < 2; k++)
        for (i = 0; i < (int)(cfg->geo.size / 2 / 256); i++)
            sim_flash_program(live[k], (uint32_t)i * 256, page, 256);
    memset(&b, 0, sizeof(b));
    b.op = SIM_OP_PROGRAM;
    b.len = 256;
    b.data = page;
    for (whole = 1; whole >= 0; whole--) {
        t0 = now();
        for (i = 0; i < n; i++) {
            b.addr = cfg->geo.size / 2 + (uint32_t)(i % 64) * 256;
            sim_flash_copy(trial, live[whole ? i & 1 : 0]);
            sim_flash_apply_cut(trial, &b);
            sim_flash_power_on(trial);
        }
        t = now() - t0;
        if (whole)
            printf("%-40s %8.1f us per branch (%.0f MB/s copied)\n", label,
                   t / n * 1e6, (double)cfg->geo.size * n / t / 1e6);
        else
            printf("  ... incremental, one page changed      %8.2f us per "
                   "branch\n",
                   t / n * 1e6);
    }
    sim_flash_destroy(live[0]);
    sim_flash_destroy(live[1]);
    sim_flash_destroy(trial);
}

/* Reference: plain memcpy of the same size, to read the branch cost by. */
static void memcpy_ref(uint32_t size, int n)
{
    uint8_t *a = malloc(size), *b = malloc(size);
    double t0, t;
    int i;
    memset(a, 1, size);
    memset(b, 2, size);
    t0 = now();
    for (i = 0; i < n; i++) {
        a[i % size] = (uint8_t)i; /* keep the copies from being elided */
        memcpy(b, a, size);
    }
    t = now() - t0;
    printf("%-40s %8.1f us per copy (%.0f MB/s) [b[7]=%u]\n",
           size >> 20 == 1 ? "memcpy of 1 MiB (reference)"
                           : "memcpy of 4 MiB (reference)",
           t / n * 1e6, (double)size * n / t / 1e6, b[7]);
    free(a);
    free(b);
}

int main(void)
{
    struct sim_config cfg, faulty;

    sim_preset("w25q128", &cfg);
    cfg.geo.size = 4u << 20; /* in cache-ish sizes, as scenarios run */
    printf("NOR w25q128, 4 MiB, 256 B page programs\n");
    programs("faults off", &cfg, 32, false, false);
    programs("faults off, 4 KiB erase every 16 pages", &cfg, 32, false, true);
    programs("faults off, boundary hook installed", &cfg, 32, true, false);
    cfg.faults.fiu_points = true;
    programs("faults off, libfiu points consulted", &cfg, 8, false, false);
    cfg.faults.fiu_points = false;
    faulty = cfg;
    faulty.faults.torn_mode = SIM_TORN_RANDOM;
    faulty.faults.unstable_fraction = 0.2;
    faulty.faults.read_flip_rate = 1e-7;
    faulty.faults.retention_rate = 1e-12;
    faulty.faults.read_disturb_limit = 100000;
    faulty.faults.wear_mode = SIM_WEAR_FAIL;
    programs("torn + flips + retention + disturb + wear", &faulty, 32, true,
             false);

    sim_preset("mt29f-slc", &cfg);
    cfg.geo.size = 16u << 20;
    cfg.geo.factory_bad = 0;
    printf("NAND mt29f-slc, 16 MiB, 2 KiB page programs, 4-bit ECC\n");
    programs("faults off", &cfg, 8, false, false);
    faulty = cfg;
    faulty.faults.torn_mode = SIM_TORN_RANDOM;
    faulty.faults.read_flip_rate = 1e-6;
    programs("read flips 1e-6 (ECC corrects)", &faulty, 8, false, false);

    printf("torture branch: copy + apply_cut + power_on\n");
    sim_preset("w25q128", &cfg);
    cfg.geo.size = 1u << 20;
    memcpy_ref(1u << 20, 20000);
    branches("1 MiB NOR", &cfg, 20000);
    cfg.geo.size = 4u << 20;
    memcpy_ref(4u << 20, 5000);
    branches("4 MiB NOR", &cfg, 5000);
    return 0;
}
