/*
 * scenario: one torture scenario, as read from an INI file (docs/scenarios.md).
 *
 * A scenario names a device (preset + overrides), an image, the engine's
 * configuration, a link model, a fault model, a cut strategy and the
 * expectations a run must meet. Parsing reports `file:line: key: reason`.
 *
 * CONTRACT: the torture loop (torture.c) and the outcome log (db.c) are
 * written against these fields; add fields, do not rename.
 */
#ifndef FOTASIM_SCENARIO_H
#define FOTASIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "sim_flash.h"

enum cut_strategy {
    CUT_EXHAUSTIVE = 0, /* every write boundary of the uncut update */
    CUT_RANDOM = 1,     /* cut_count boundaries drawn with the run seed */
    CUT_LOGSPACED = 2,  /* cut_count boundaries, log-spaced */
    CUT_EVERY = 3       /* every cut_every-th boundary */
};

struct scenario_image {
    uint32_t size;          /* bytes */
    uint64_t seed;          /* content generator seed (when no file) */
    char file[256];         /* image file, or "" */
    uint32_t version2_seed; /* content seed of the replacement image */
    uint8_t content;        /* enum scenario_content (generated images) */
    /* Packaged updates (docs/package-format.md): what the server offers. */
    uint8_t transform;     /* enum scenario_transform */
    uint32_t window;       /* delta dictionary bytes */
    uint32_t old_edits;    /* delta: the old image is the update, edited */
    char encrypt_key[256]; /* AES key file (16 or 32 bytes), or "" */
    char sign_key[256];    /* PEM ECDSA P-256 private key, or "" */
    char verify_key[256];  /* PEM public key the device holds, or "" */
    uint8_t old_slot;      /* enum scenario_old_slot */
    char old_file[256];    /* delta: the old image from a file, or "" */
};

/* image.content of a generated image: uniform bytes (LZ4 cannot shrink
 * them), or seeded words from a small vocabulary, which compress about
 * as machine code does. */
enum scenario_content {
    SCENARIO_CONTENT_RANDOM = 0,
    SCENARIO_CONTENT_CODE = 1
};

/* image.old_slot: the device's other slot holds the delta's base, or
 * another image (every delta package must then be refused). */
enum scenario_old_slot { SCENARIO_OLD_BASE = 0, SCENARIO_OLD_OTHER = 1 };

/* image.transform: the server offers the plain image, or a package. */
enum scenario_transform {
    SCENARIO_PLAIN = 0,
    SCENARIO_LZ4 = 1,
    SCENARIO_AES = 2,
    SCENARIO_LZ4_AES = 3,
    SCENARIO_DELTA = 4,
    SCENARIO_DELTA_AES = 5
};

/* Who computes a CRC-32 block hash or digest for the engine: the host's
 * fast one, or the engine's own table CRC (fwresume: fwr_hash_crc32), as a
 * device without a CRC library runs it. The judges always use the host's. */
enum scenario_crc_ops { SCENARIO_CRC_HOST = 0, SCENARIO_CRC_ENGINE = 1 };

/* The engine's work RAM: what it needs and an erase unit more (faster
 * hashing), or exactly what it says it needs, with guard bytes after. */
enum scenario_work { SCENARIO_WORK_ROOMY = 0, SCENARIO_WORK_EXACT = 1 };

struct scenario_engine {
    char kind[256]; /* engine.kind: "" or a name, or a path (engine_load) */
    uint32_t block_size;
    uint32_t write_size; /* 0: engine default */
    uint8_t hash;        /* enum engine_hash for blocks */
    uint8_t digest;      /* enum engine_hash for the image digest */
    uint8_t verify;      /* enum engine_verify */
    uint8_t crc_ops;     /* enum scenario_crc_ops: who computes CRC-32 */
    uint8_t work;        /* enum scenario_work */
    bool mirror;
    uint32_t record_size;    /* bytes per record copy; 0: computed minimum
                                rounded up to erase units, plus one unit;
                                SCENARIO_RECORD_MIN: the minimum exactly
                                (the log fills and is compacted) */
    uint32_t partition_addr; /* where the record area starts; data follows */
    uint64_t cpu_hash_rate;  /* target MCU's block-hash speed, bytes/s: the
                                CPU part of the boot-time resume scan */
};

struct scenario_link {
    uint64_t bandwidth_bps; /* bytes per second of payload */
    uint64_t latency_ns;    /* per request */
    double drop_rate;       /* per request: connection drops mid-range */
    double corrupt_rate;    /* per byte: delivered corrupted */
    uint64_t change_after;  /* server switches to image v2 after this many
                               bytes served; 0: never */
    uint32_t max_request;   /* largest range per request; 0: unlimited */
};

struct scenario_cuts {
    uint8_t strategy;   /* enum cut_strategy */
    uint32_t count;     /* random / logspaced */
    uint32_t every;     /* every K */
    uint32_t depth;     /* 1: single cut; 2+: nested cuts in recovery */
    uint32_t max_boots; /* a trial is "stuck" past this many reboots */
    /* The live update reboots cleanly (between two flash ops, nothing
     * torn) each time it has received this many more bytes since its boot, so
     * the log ages as on a device power-cycled during a slow download;
     * cuts land anywhere in that history. 0: never. */
    uint32_t reboot_every;
};

#define SCENARIO_RECORD_MIN UINT32_MAX
/* A cost bound derived from the scenario (oracle.c says how). */
#define EXPECT_AUTO         UINT64_MAX

struct scenario_expect {
    uint32_t max_redownload_blocks; /* per trial; 0: no bound */
    uint32_t max_redownload_bytes;  /* per trial; 0: no bound */
    bool allow_detected_failure;    /* detected failures are acceptable */
    /* Cost bounds per trial, from the first cut to completion: 0 no
     * bound, EXPECT_AUTO derived from the scenario. A trial beyond one is
     * judged over_budget. */
    uint64_t max_erases, max_programs; /* flash ops */
    uint64_t max_unit_erases;          /* erases of the most-erased unit */
    uint64_t max_recover_ns;           /* simulated time, reboot to done */
};

/* Where the engine's areas land on the device (derived, see
 * scenario_layout()). */
struct scenario_layout {
    uint32_t record_addr, record_size, mirror_addr, data_addr, data_size;
    uint32_t part_lo, part_hi; /* the whole partition */
};

/* Faults the harness applies while the power is off, between a cut and
 * the reboot (sim_flash_lose_bits): the device model holds no such
 * knob, it only loses the bits it is told to. */
struct scenario_offline {
    uint32_t data_flips;   /* faults.offline_flips: data bits per cut */
    uint32_t record_flips; /* faults.offline_record_flips: record area
                              bits (both copies) per cut */
    /* faults.read_error_rate: share of the engine's reads during a
     * recovery that the bus fails (an I/O error, no data); the harness
     * injects them at the flash ops, not the device model. */
    double read_error_rate;
};

struct scenario {
    char name[64];
    char description[160];
    char path[256];
    char *text; /* whole file text (heap), for the db */
    char preset[32];
    struct sim_config device; /* preset + overrides */
    struct scenario_image image;
    struct scenario_engine engine;
    struct scenario_link link;
    struct scenario_cuts cuts;
    struct scenario_expect expect;
    struct scenario_offline offline;
    uint64_t seed; /* run seed: trial seeds derive from it */
};

/* Parse path into sc (defaults first, then the file). On error writes
 * "file:line: key: reason" into err and returns a negative value. */
int scenario_load(struct scenario *sc, const char *path, char *err,
                  size_t errlen);
/* Apply one "section.key=value" override (sweep, --set), then the
 * cross-field checks. On error writes "--set section.key: reason" into err,
 * leaves sc unchanged and returns a negative value. */
int scenario_set(struct scenario *sc, const char *assignment, char *err,
                 size_t errlen);
/* Parse scenario text (as stored in a database); name is used in errors
 * and as the folder a relative image.file is found in. */
int scenario_load_text(struct scenario *sc, const char *text, const char *name,
                       char *err, size_t errlen);
/* Compute the partition layout for sc's device, image and engine: 0, -1
 * when it does not fit the device, -2 when the engine refuses the
 * geometry (message in err). */
int scenario_layout(const struct scenario *sc, struct scenario_layout *l,
                    char *err, size_t errlen);
/* The engine of sc's engine.kind (loaded when the key was read: NULL only
 * for a scenario built by hand with a kind that does not load). */
const struct engine_ops *scenario_engine(const struct scenario *sc);
/* What the engine is told of sc (engine.h): the device, the [engine]
 * keys and, when lay is given, where its areas are. */
void scenario_engine_params(const struct scenario *sc,
                            const struct scenario_layout *lay,
                            struct engine_params *p);
void scenario_free(struct scenario *sc);

/* The scenario keys, one line each (section.key, type, range, default,
 * meaning), from the one table parsing uses: as Markdown tables, one per
 * section (docs/scenarios.md holds this output), or as plain text. */
void scenario_print_keys(FILE *to, int markdown);

#endif /* FOTASIM_SCENARIO_H */
