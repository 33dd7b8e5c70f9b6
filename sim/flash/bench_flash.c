/*
 * bench_flash: simulator throughput. Programs a 16 MiB NOR part page by
 * page (erasing as it goes), with faults off and with the torn/bit-flip
 * models on, and copies the device as the torture loop does. Prints
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

static void run(const char *label, struct sim_config *cfg, int rounds)
{
    struct sim_flash *f;
    uint8_t page[256], buf[256];
    uint32_t a, size = cfg->geo.size;
    uint64_t progs = 0, bytes = 0;
    double t0, t;
    int r;

    if (sim_flash_create(&f, cfg)) {
        fprintf(stderr, "create failed\n");
        exit(1);
    }
    for (a = 0; a < 256; a++)
        page[a] = (uint8_t)(a * 37);
    t0 = now();
    for (r = 0; r < rounds; r++) {
        for (a = 0; a < size; a += 256) {
            if (a % 4096 == 0)
                sim_flash_erase(f, a, 4096);
            sim_flash_program(f, a, page, 256);
            progs++;
            bytes += 256;
        }
    }
    t = now() - t0;
    printf("%-34s %8.0f MB/s programmed  %8.2f M page programs/s  "
           "(incl. erases)\n",
           label, (double)bytes / t / 1e6, (double)progs / t / 1e6);
    t0 = now();
    for (r = 0; r < rounds; r++)
        for (a = 0; a < size; a += 256)
            sim_flash_read(f, a, buf, 256);
    t = now() - t0;
    printf("%-34s %8.0f MB/s read\n", "", (double)bytes / t / 1e6);
    sim_flash_destroy(f);
}

int main(void)
{
    struct sim_config cfg;
    struct sim_flash *a, *b;
    double t0, t;
    int i;

    sim_preset("w25q128", &cfg);
    run("w25q128, faults off", &cfg, 8);
    cfg.faults.read_flip_rate = 1e-7;
    cfg.faults.torn_mode = SIM_TORN_RANDOM;
    cfg.faults.unstable_fraction = 0.2;
    cfg.faults.endurance = 100000;
    cfg.faults.wear_mode = SIM_WEAR_FAIL;
    run("w25q128, read flips 1e-7 + wear", &cfg, 8);

    sim_preset("w25q128", &cfg);
    cfg.geo.size = 4u << 20;
    sim_flash_create(&a, &cfg);
    sim_flash_create(&b, &cfg);
    t0 = now();
    for (i = 0; i < 1000; i++)
        sim_flash_copy(b, a);
    t = now() - t0;
    printf("%-34s %8.1f us per copy of a 4 MiB device (%.0f MB/s)\n",
           "sim_flash_copy", t / 1000 * 1e6, 4.0 * 1000 / t * 1.048576);
    sim_flash_destroy(a);
    sim_flash_destroy(b);
    return 0;
}
