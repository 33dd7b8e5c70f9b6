/*
 * sim_flash: a host-side NOR / NAND flash device model.
 *
 * The device is data (geometry, timing, fault knobs) plus a few functions.
 * It keeps the rules of real parts (program only clears bits, erase by
 * unit, NAND page order / NOP / ECC), tears ops cut by power loss, flips
 * bits, wears out, and numbers every program and erase as a write boundary
 * so the torture scheduler can cut power at any of them.
 *
 * Every random choice comes from the device's own seeded generator, which is
 * part of the device state: the same seed and op sequence give the same
 * bytes, and a copy of the device continues exactly as the original would.
 *
 * CONTRACT SKETCH: names and semantics below are fixed (the harness is
 * written against them); fields may be added. See docs/flash-model.md.
 */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwresume.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sim_err {
    SIM_OK = 0,
    SIM_E_INVAL = -1, /* bad argument / impossible geometry */
    SIM_E_NOMEM = -2,
    SIM_E_RANGE = -3,      /* op outside the device */
    SIM_E_ALIGN = -4,      /* op not aligned to its unit */
    SIM_E_PROTECTED = -5,  /* write/erase into a protected range */
    SIM_E_PROG_FAIL = -6,  /* program failed (wear, injected fault) */
    SIM_E_ERASE_FAIL = -7, /* erase failed (wear, bad block, injected) */
    SIM_E_ECC = FWR_FLASH_ECC_FAIL, /* read: uncorrectable ECC error */
    SIM_E_READ_FAIL = -8,           /* read failed (injected fault) */
    SIM_E_POWER_OFF = -9, /* device lost power: every op fails until reset */
    SIM_E_IO = -10,       /* file I/O in save/load */
    SIM_E_FORMAT = -11    /* bad saved-state file */
};

enum sim_kind { SIM_NOR = 0, SIM_NAND = 1 };

enum sim_op { SIM_OP_READ = 0, SIM_OP_PROGRAM = 1, SIM_OP_ERASE = 2 };

/* How a program cut by power loss is left. */
enum sim_torn_mode {
    SIM_TORN_NONE = 0,   /* nothing of the program applied */
    SIM_TORN_ALL = 1,    /* the whole program applied */
    SIM_TORN_PREFIX = 2, /* a seeded byte prefix applied */
    SIM_TORN_RANDOM = 3, /* a seeded random subset of the bits to clear */
    SIM_TORN_FAINT = 4   /* nothing readable applied, yet the cells took
                            charge: a later program before an erase
                            breaks the program rules */
};

/* What happens past endurance (erase count > endurance). */
enum sim_wear_mode {
    SIM_WEAR_NONE = 0,    /* no consequence */
    SIM_WEAR_FAIL = 1,    /* program/erase fail with growing probability */
    SIM_WEAR_STUCK = 2,   /* bits stick at 0 (or 1) with growing probability */
    SIM_WEAR_BADBLOCK = 3 /* erase fails and the unit turns bad (NAND) */
};

enum sim_violation {
    SIM_VIOL_NONE = 0,
    SIM_VIOL_REPROGRAM,  /* program of a unit already programmed since erase */
    SIM_VIOL_MISALIGNED, /* op not aligned to program/erase unit */
    SIM_VIOL_OUT_OF_RANGE, /* op outside the device */
    SIM_VIOL_NAND_ORDER,   /* NAND page programmed out of order in its block */
    SIM_VIOL_NAND_NOP,     /* NAND partial-program limit exceeded */
    SIM_VIOL_PROTECTED,    /* write/erase into a protected range */
    SIM_VIOL_BAD_BLOCK,    /* program/erase of a unit marked bad */
    SIM_VIOL_COUNT
};

struct sim_timing {                           /* nanoseconds */
    uint64_t read_setup_ns, read_per_byte_ns; /* NOR read: setup + per byte */
    uint64_t page_read_typ_ns;                /* NAND page read (tR) */
    uint64_t prog_typ_ns, prog_max_ns;        /* per program page */
    uint64_t erase_typ_ns, erase_max_ns;      /* per erase unit */
    bool draw_times; /* false: typical; true: seeded draw in [typ, max] */
    /* NOR block erase (W25Q 32/64 KiB): an erase op aligned to and a
     * multiple of blk_size is charged per block, not per sector. 0: off. */
    uint32_t blk32_size, blk64_size;
    uint64_t blk32_typ_ns, blk32_max_ns, blk64_typ_ns, blk64_max_ns;
};

struct sim_geometry {
    uint8_t kind;          /* enum sim_kind */
    uint32_t size;         /* main-area bytes */
    uint32_t prog_size;    /* program unit: NOR 1 (or 8/16 MCU); NAND page */
    uint32_t page_size;    /* NOR page-program window (256); NAND page */
    uint32_t erase_size;   /* erase unit (NOR sector / NAND block) */
    uint32_t spare_size;   /* NAND spare bytes per page (64); NOR 0 */
    uint8_t erased_value;  /* 0xFF */
    uint8_t nop;           /* NAND partial programs per page (1..4) */
    uint8_t ecc_bits;      /* NAND: correctable bits per codeword; 0 none */
    uint32_t ecc_codeword; /* NAND: codeword bytes (512) */
    uint32_t factory_bad;  /* NAND: factory bad blocks (seeded placement) */
    /* Non-uniform erase layout (MCU flash): when nregions > 0, erase units
     * are given by regions of (count, size) from address 0. */
    uint32_t nregions;
    struct {
        uint32_t count, size;
    } regions[8];
};

struct sim_faults {
    uint64_t seed;
    uint8_t torn_mode;           /* enum sim_torn_mode, for a cut program */
    double unstable_fraction;    /* of torn bits: share left unstable */
    double erase_cut_fraction;   /* cut erase: share of bits left programmed */
    double read_flip_rate;       /* per bit per read */
    double retention_rate;       /* per programmed bit per simulated second */
    uint32_t read_disturb_limit; /* reads per block before disturb flips */
    uint32_t endurance;          /* P/E cycles; 0: unlimited */
    uint8_t wear_mode;           /* enum sim_wear_mode */
    double initial_wear;         /* starting erase count, share of endurance */
    bool reprogram_as_and; /* NOR: allow re-program as AND, no violation */
    bool fiu_points;       /* consult the libfiu points (also FOTASIM_FIU=1) */
    /* A burst of failures on one unit: after each power-on, the
     * fail_burst_after-th program or erase (from 0) fails, and so do the
     * next fail_burst - 1 ones on the same unit; then it works again. A
     * failed program leaves its bits torn, a failed erase leaves the unit
     * untouched. 0: off. */
    uint32_t fail_burst;
    uint32_t fail_burst_after;
};

struct sim_config {
    struct sim_geometry geo;
    struct sim_timing timing;
    struct sim_faults faults;
};

/* A write boundary: every program and every erase, numbered from 0. */
struct sim_boundary {
    uint64_t index; /* boundary number since sim_flash_reset_counters() */
    uint8_t op;     /* SIM_OP_PROGRAM or SIM_OP_ERASE */
    uint32_t addr, len;
    const void *data; /* program data (NULL for an erase) */
};

/* The first rule the engine broke on this device. */
struct sim_violation_record {
    uint8_t kind; /* enum sim_violation; SIM_VIOL_NONE if none */
    uint8_t op;
    uint32_t addr, len;
    uint64_t boundary;
};

/* Called before each boundary's op is applied. Return false to go on;
 * true to cut power during this op: the op is torn per the fault model, the
 * device goes off, and then on_power_loss runs (the harness longjmps; if it
 * returns, the op and every later op fail with SIM_E_POWER_OFF). */
typedef bool (*sim_boundary_fn)(void *user, const struct sim_boundary *b);
typedef void (*sim_power_loss_fn)(void *user);

struct sim_stats {
    uint64_t reads, programs, erases;
    uint64_t bytes_read, bytes_programmed, bytes_erased;
    uint64_t ecc_corrected, ecc_failures, bit_flips;
    uint64_t violations[SIM_VIOL_COUNT];
    uint64_t boundaries;
    uint32_t write_lo, write_hi; /* span of every program/erase applied */
};

struct sim_flash; /* opaque */

/* Largest device main area the simulator allocates (the torture loop
 * holds three devices). */
#define SIM_MAX_SIZE (256u << 20)

/* Can cfg be a device? 0 if so; else SIM_E_INVAL with *key naming the
 * setting at fault as the scenario files spell it ("device.page_size")
 * and why (one line) in why. sim_flash_create refuses what this refuses. */
int sim_config_check(const struct sim_config *cfg, const char **key, char *why,
                     size_t n);

int sim_flash_create(struct sim_flash **out, const struct sim_config *cfg);
void sim_flash_destroy(struct sim_flash *f);

/* Exact copy of every bit of state (data, spare, wear, bad blocks,
 * unstable bits, clock, stats, generator). dst must come from the same
 * config. Fast: memcpy class, and after a first copy from src to dst only
 * the bytes either has written since (src keeps that account, hence not
 * const). */
int sim_flash_copy(struct sim_flash *dst, struct sim_flash *src);

int sim_flash_read(struct sim_flash *f, uint32_t addr, void *buf, uint32_t len);
int sim_flash_program(struct sim_flash *f, uint32_t addr, const void *buf,
                      uint32_t len);
int sim_flash_erase(struct sim_flash *f, uint32_t addr, uint32_t len);
int sim_flash_protect(struct sim_flash *f, uint32_t addr, uint32_t len,
                      bool on);
/* Protection is idempotent (locking a locked range again is a no-op) and
 * survives power cycles, as non-volatile lock bits do. */
/* Does one protected range cover all of [addr, addr + len)? */
bool sim_flash_is_protected(const struct sim_flash *f, uint32_t addr,
                            uint32_t len);
int sim_flash_is_bad(struct sim_flash *f, uint32_t addr);
/* NAND spare area of the page holding addr (factory bad-block marks sit in
 * byte 0 of a bad block's first page). Raw: no ECC, timing or faults. */
int sim_flash_read_spare(const struct sim_flash *f, uint32_t addr, void *buf,
                         uint32_t len);

/* Power back on after a cut (unstable bits stay unstable until erased). */
void sim_flash_power_on(struct sim_flash *f);
bool sim_flash_powered(const struct sim_flash *f);

/* Apply boundary b's op torn by a power cut, per the fault model, and turn
 * the device off. For the torture loop: b comes from the hook of another
 * device with the same state (a copy taken inside the hook). */
int sim_flash_apply_cut(struct sim_flash *f, const struct sim_boundary *b);

const struct sim_violation_record *
sim_flash_first_violation(const struct sim_flash *f);

void sim_flash_set_boundary_hook(struct sim_flash *f, sim_boundary_fn fn,
                                 sim_power_loss_fn on_loss, void *user);

/* Fill ops so the engine drives this device. On NAND, put the engine's
 * bad-block layer (core/port/fwr_skipbad.h) on top, with
 * sim_flash_fwr_is_bad as its is_bad. */
void sim_flash_fwr_ops(struct sim_flash *f, struct fwr_flash_ops *ops);
/* sim_flash_is_bad with the signature the bad-block layer takes. */
int sim_flash_fwr_is_bad(void *f, uint32_t addr);

/* Raw access for the oracle: bytes as stored, bypassing faults, timing,
 * stats and hooks (unstable bits read as their current stored value). */
const uint8_t *sim_flash_raw(const struct sim_flash *f);

/* Bytes as a read returns them once the part's ECC corrected what it can
 * for certain: raw, then in each NAND codeword whose persistent errors
 * (torn pages, disturb, retention, sim_flash_lose_bits) plus its unstable
 * bits, all counted as wrong, are within ecc_bits, the errors undone.
 * Unstable bits keep their stored value. No faults, timing, stats or
 * hooks: the oracle's view of what the device will read. Returns how many
 * codewords in the range hold more errors than that (their bytes stay as
 * stored), 0 on NOR or without ECC; SIM_E_RANGE outside the device. */
int sim_flash_read_settled(const struct sim_flash *f, uint32_t addr, void *buf,
                           uint32_t len);

const struct sim_config *sim_flash_config(const struct sim_flash *f);
const struct sim_stats *sim_flash_stats(const struct sim_flash *f);
uint64_t sim_flash_clock_ns(const struct sim_flash *f);
void sim_flash_advance_clock(struct sim_flash *f, uint64_t ns); /* retention */
/* Restart the device's generator (torn patterns, unstable bits, flips)
 * from seed: a torture trial's copy draws its own faults, not the same
 * stream as every other trial copied from the same live state. */
void sim_flash_reseed(struct sim_flash *f, uint64_t seed);
/* One bit position: data[addr] & mask. */
struct sim_bit {
    uint32_t addr;
    uint8_t mask;
};

/* Retention loss while powered off: nbits programmed bits (0) in [lo, hi)
 * leak to 1, chosen by the device's generator. Returns how many; when
 * lost is not NULL it gets each (nbits entries of room). */
int sim_flash_lose_bits(struct sim_flash *f, uint32_t lo, uint32_t hi,
                        uint32_t nbits, struct sim_bit *lost);
uint32_t sim_flash_erase_count(const struct sim_flash *f, uint32_t unit);
uint32_t sim_flash_unit_count(const struct sim_flash *f);
void sim_flash_reset_counters(struct sim_flash *f); /* stats + boundaries */
/* Unstable bits inside [lo, hi): bits that read differently each time. */
uint32_t sim_flash_unstable_count(const struct sim_flash *f, uint32_t lo,
                                  uint32_t hi);
/* Persistent bit errors inside [lo, hi): bits that differ from what was
 * programmed (NAND ECC counts them; sim_flash_read_settled undoes them). */
uint32_t sim_flash_error_count(const struct sim_flash *f, uint32_t lo,
                               uint32_t hi);
/* The erase unit holding addr. */
uint32_t sim_flash_unit_of(const struct sim_flash *f, uint32_t addr);

int sim_flash_save(const struct sim_flash *f, const char *path);
int sim_flash_load(struct sim_flash **out, const char *path);

/* Presets with datasheet figures (docs/flash-model.md cites them). */
int sim_preset(const char *name, struct sim_config *cfg);
/* Preset i's name (from the one preset table), NULL past the last. */
const char *sim_preset_name(size_t i);
const char *sim_violation_name(enum sim_violation v);

#ifdef __cplusplus
}
#endif

#endif /* SIM_FLASH_H */
