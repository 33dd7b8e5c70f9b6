/*
 * Device presets: datasheet figures as tables, not code paths. The source
 * of every number is in docs/flash-model.md.
 */
#include <string.h>

#include "sim_flash.h"

#define US 1000ull
#define MS 1000000ull

struct preset {
    const char *name;
    struct sim_geometry geo;
    struct sim_timing timing;
    uint32_t endurance;
};

static const struct preset presets[] = {
    /* Winbond W25Q128JV: 16 MiB SPI NOR; 256 B page program, 4 KiB sector
     * erase; tPP 0.7/3 ms, tSE 45/400 ms, tBE1 (32 KiB) 120/1600 ms,
     * tBE2 (64 KiB) 150/2000 ms; 100k cycles; 104 MHz quad read
     * ~ 50 MB/s: 20 ns a byte after an 8-clock command. */
    {"w25q128",
     {SIM_NOR, 16u << 20, 1, 256, 4096, 0, 0xFF, 0, 0, 0, 0, 0, {{0, 0}}},
     {100, 20, 0, 700 * US, 3 * MS, 45 * MS, 400 * MS, false, 32u << 10,
      64u << 10, 120 * MS, 1600 * MS, 150 * MS, 2000 * MS},
     100000},
    /* STM32F405/407 internal flash (RM0090): 1 MiB in 4x16 KiB, 1x64 KiB,
     * 7x128 KiB sectors; programmed here by 8-byte double words (x64
     * parallelism, needs VPP) : 16 us each; 128 KiB sector erase 1/2 s
     * (typ/max at x64); 10k cycles. */
    {"stm32f4-internal",
     {SIM_NOR,
      1u << 20,
      8,
      8,
      128u << 10,
      0,
      0xFF,
      0,
      0,
      0,
      0,
      3,
      {{4, 16u << 10}, {1, 64u << 10}, {7, 128u << 10}}},
     {30, 1, 0, 16 * US, 100 * US, 1000 * MS, 2000 * MS, false, 0, 0, 0, 0, 0,
      0},
     10000},
    /* Winbond W25N01GV: 1 Gbit SLC SPI NAND; 2048 + 64 B pages, 64 pages
     * a block, 1024 blocks, <= 20 bad blocks; on-chip ECC 1 bit / 512 B;
     * tR 25/60 us, tPP 250/700 us, tBE 2/10 ms; 100k cycles; NOP 4 but one
     * program per sector with ECC on: modelled as 1. */
    {"w25n01gv",
     {SIM_NAND,
      128u << 20,
      2048,
      2048,
      128u << 10,
      64,
      0xFF,
      1,
      1,
      512,
      20,
      0,
      {{0, 0}}},
     {0, 0, 25 * US, 250 * US, 700 * US, 2 * MS, 10 * MS, false, 0, 0, 0, 0, 0,
      0},
     100000},
    /* Micron MT29F1G08ABADA: 1 Gbit parallel SLC NAND; 2048 + 64 B pages,
     * 64 pages a block, 1024 blocks; NOP 4; 4-bit ECC per 512 B required;
     * tR 25 us, tPROG 200/600 us, tBERS 0.7/3 ms; 100k cycles. */
    {"mt29f-slc",
     {SIM_NAND,
      128u << 20,
      2048,
      2048,
      128u << 10,
      64,
      0xFF,
      4,
      4,
      512,
      20,
      0,
      {{0, 0}}},
     {0, 0, 25 * US, 200 * US, 600 * US, 700 * US, 3 * MS, false, 0, 0, 0, 0, 0,
      0},
     100000},
};

int sim_preset(const char *name, struct sim_config *cfg)
{
    size_t i;
    for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
        if (strcmp(presets[i].name, name) != 0)
            continue;
        memset(cfg, 0, sizeof(*cfg));
        cfg->geo = presets[i].geo;
        cfg->timing = presets[i].timing;
        cfg->faults.endurance = presets[i].endurance;
        cfg->faults.torn_mode = SIM_TORN_RANDOM;
        cfg->faults.erase_cut_fraction = 0.5;
        return 0;
    }
    return SIM_E_INVAL;
}

const char *const *sim_preset_names(void)
{
    static const char *const names[] = {"w25q128", "stm32f4-internal",
                                        "w25n01gv", "mt29f-slc", NULL};
    return names;
}
