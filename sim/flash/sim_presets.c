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
    {.name = "w25q128",
     .geo = {.kind = SIM_NOR,
             .size = 16u << 20,
             .prog_size = 1,
             .page_size = 256,
             .erase_size = 4096,
             .erased_value = 0xFF},
     .timing = {.read_setup_ns = 100,
                .read_per_byte_ns = 20,
                .prog_typ_ns = 700 * US,
                .prog_max_ns = 3 * MS,
                .erase_typ_ns = 45 * MS,
                .erase_max_ns = 400 * MS,
                .blk32_size = 32u << 10,
                .blk64_size = 64u << 10,
                .blk32_typ_ns = 120 * MS,
                .blk32_max_ns = 1600 * MS,
                .blk64_typ_ns = 150 * MS,
                .blk64_max_ns = 2000 * MS},
     .endurance = 100000},
    /* STM32F405/407 internal flash (RM0090): 1 MiB in 4x16 KiB, 1x64 KiB,
     * 7x128 KiB sectors; programmed here by 8-byte double words (x64
     * parallelism, needs VPP) : 16 us each; 128 KiB sector erase 1/2 s
     * (typ/max at x64); 10k cycles. */
    {.name = "stm32f4-internal",
     .geo = {.kind = SIM_NOR,
             .size = 1u << 20,
             .prog_size = 8,
             .page_size = 8,
             .erase_size = 128u << 10,
             .erased_value = 0xFF,
             .nregions = 3,
             .regions = {{4, 16u << 10}, {1, 64u << 10}, {7, 128u << 10}}},
     .timing = {.read_setup_ns = 30,
                .read_per_byte_ns = 1,
                .prog_typ_ns = 16 * US,
                .prog_max_ns = 100 * US,
                .erase_typ_ns = 1000 * MS,
                .erase_max_ns = 2000 * MS},
     .endurance = 10000},
    /* Winbond W25N01GV: 1 Gbit SLC SPI NAND; 2048 + 64 B pages, 64 pages
     * a block, 1024 blocks, <= 20 bad blocks; on-chip ECC 1 bit / 512 B;
     * tR 25/60 us, tPP 250/700 us, tBE 2/10 ms; 100k cycles; NOP 4 but one
     * program per sector with ECC on: modelled as 1. */
    {.name = "w25n01gv",
     .geo = {.kind = SIM_NAND,
             .size = 128u << 20,
             .prog_size = 2048,
             .page_size = 2048,
             .erase_size = 128u << 10,
             .spare_size = 64,
             .erased_value = 0xFF,
             .nop = 1,
             .ecc_bits = 1,
             .ecc_codeword = 512,
             .factory_bad = 20},
     .timing = {.page_read_typ_ns = 25 * US,
                .prog_typ_ns = 250 * US,
                .prog_max_ns = 700 * US,
                .erase_typ_ns = 2 * MS,
                .erase_max_ns = 10 * MS},
     .endurance = 100000},
    /* Micron MT29F1G08ABADA: 1 Gbit parallel SLC NAND; 2048 + 64 B pages,
     * 64 pages a block, 1024 blocks; NOP 4; 4-bit ECC per 512 B required;
     * tR 25 us, tPROG 200/600 us, tBERS 0.7/3 ms; 100k cycles. */
    {.name = "mt29f-slc",
     .geo = {.kind = SIM_NAND,
             .size = 128u << 20,
             .prog_size = 2048,
             .page_size = 2048,
             .erase_size = 128u << 10,
             .spare_size = 64,
             .erased_value = 0xFF,
             .nop = 4,
             .ecc_bits = 4,
             .ecc_codeword = 512,
             .factory_bad = 20},
     .timing = {.page_read_typ_ns = 25 * US,
                .prog_typ_ns = 200 * US,
                .prog_max_ns = 600 * US,
                .erase_typ_ns = 700 * US,
                .erase_max_ns = 3 * MS},
     .endurance = 100000},
};

#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

int sim_preset(const char *name, struct sim_config *cfg)
{
    size_t i;
    for (i = 0; i < NPRESETS; i++) {
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

const char *sim_preset_name(size_t i)
{
    return i < NPRESETS ? presets[i].name : NULL;
}
