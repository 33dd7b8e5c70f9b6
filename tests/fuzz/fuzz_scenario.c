/*
 * fuzz_scenario: the scenario parser (sim/harness/scenario.c).
 *
 * Each input is used twice:
 *  1. up to its first NUL, as a whole scenario text (scenario_load_text, the
 *     path a stored scenario takes out of a database);
 *  2. cut at every NUL and newline, each piece as one `--set` assignment
 *     (scenario_set) applied in turn to a valid base scenario.
 *
 * Invariants, besides no crash, undefined behaviour or leak:
 *  - a refused text or assignment says why (a non-empty message), and a
 *    refused assignment leaves the scenario exactly as it was;
 *  - an accepted scenario is one the torture loop can run: every enum in
 *    range, every size the engine divides by nonzero and a power of two
 *    where the engine wants one, every rate a number inside its documented
 *    range, the layout inside the device with the record copies at least as
 *    big as the engine needs, and the engine's own fwr_init accepting the
 *    geometry and layout the torture loop will hand it.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "fwresume.h"
#include "scenario.h"

/* A valid base for the --set half: a few keys set, so an override meets
 * keys that have lines (the parser's cross-field messages name them). */
static const char base_text[] = "[scenario]\nname = base\nseed = 3\n"
                                "[device]\npreset = w25q128\nsize = 1M\n"
                                "[image]\nsize = 64K\n"
                                "[engine]\nblock_size = 4K\nmirror = yes\n";

/* At most this many --set pieces per input: a sweep sets a handful. */
#define MAX_SETS 16

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static int pow2(uint64_t v)
{
    return v && !(v & (v - 1u));
}

/* A rate the parser took must be a number in [0, hi]: NaN compares false
 * with everything, so it is tested for explicitly. */
static void check_rate(double v, double hi, const char *what)
{
    FUZZ_CHECK(!isnan(v) && v >= 0 && v <= hi, "%s = %g accepted", what, v);
}

/* Stand-ins so fwr_init can judge the configuration: never called. */
static int no_read(void *u, uint32_t a, void *b, uint32_t n)
{
    (void)u, (void)a, (void)b, (void)n;
    return -1;
}
static int no_prog(void *u, uint32_t a, const void *b, uint32_t n)
{
    (void)u, (void)a, (void)b, (void)n;
    return -1;
}
static int no_erase(void *u, uint32_t a, uint32_t n)
{
    (void)u, (void)a, (void)n;
    return -1;
}

static uint8_t hash_bytes(uint8_t kind)
{
    return kind == FWR_HASH_SHA256 ? 32 : kind == FWR_HASH_MD5 ? 16 : 4;
}

/* The layout an accepted scenario gets must hold the engine's areas inside
 * the device, and the engine must take it as the torture loop passes it. */
static void check_layout(const struct scenario *sc)
{
    const struct sim_geometry *g = &sc->device.geo;
    struct scenario_layout l;
    struct fwr_config c;
    struct fwr f;
    uint64_t need, nblocks, end;
    uint32_t es = g->erase_size;
    uint32_t work[16];
    char err[512];
    int rc;

    err[0] = 0;
    rc = scenario_layout(sc, &l, err, sizeof(err));
    FUZZ_CHECK(rc == 0, "accepted scenario has no layout (%d): %s", rc, err);
    FUZZ_CHECK(l.part_lo <= l.record_addr && l.part_hi <= g->size &&
                   l.part_lo < l.part_hi,
               "partition 0x%x-0x%x, device %u bytes", l.part_lo, l.part_hi,
               g->size);
    FUZZ_CHECK(l.data_size >= sc->image.size, "data area %u < image %u",
               l.data_size, sc->image.size);
    end = (uint64_t)l.data_addr + l.data_size;
    FUZZ_CHECK(end <= l.part_hi && l.data_addr >= l.part_lo,
               "data area 0x%x+%u outside the partition", l.data_addr,
               l.data_size);
    FUZZ_CHECK(!sc->engine.mirror ||
                   ((uint64_t)l.mirror_addr + l.record_size <= l.part_hi &&
                    l.mirror_addr >= l.part_lo),
               "mirror 0x%x outside the partition", l.mirror_addr);
    /* The record area the engine asks for, computed here in 64 bits so a
     * wrap in the 32-bit macro cannot hide a shortfall. */
    nblocks = ((uint64_t)sc->image.size + sc->engine.block_size - 1u) /
              sc->engine.block_size;
    need = (uint64_t)FWR_HEADER_SIZE(g->prog_size) +
           (nblocks + 16u + nblocks / 4u) *
               FWR_SLOT_SIZE(g->prog_size, hash_bytes(sc->engine.hash));
    FUZZ_CHECK(l.record_size >= need, "record copy %u bytes, engine needs %llu",
               l.record_size, (unsigned long long)need);

    memset(&c, 0, sizeof(c));
    c.flash.read = no_read;
    c.flash.program = no_prog;
    c.flash.erase = no_erase;
    c.geometry.prog_size = g->prog_size;
    c.geometry.erase_size = es;
    c.geometry.erased_value = g->erased_value;
    c.geometry.kind = g->kind == SIM_NAND ? FWR_FLASH_NAND : FWR_FLASH_NOR;
    c.layout.record_addr = l.record_addr;
    c.layout.record_size = l.record_size;
    c.layout.mirror_addr = l.mirror_addr;
    c.layout.data_addr = l.data_addr;
    c.layout.data_size = l.data_size;
    c.block_size = sc->engine.block_size;
    c.write_size = sc->engine.write_size;
    c.verify = sc->engine.verify;
    c.work = work;
    c.work_size = sizeof(work);
    rc = fwr_init(&f, &c);
    FUZZ_CHECK(rc == 0, "the engine refuses an accepted scenario: %d", rc);
}

/* Everything the torture loop divides by, indexes with or casts. */
static void check_scenario(const struct scenario *sc)
{
    const struct sim_geometry *g = &sc->device.geo;
    const struct sim_faults *x = &sc->device.faults;

    FUZZ_CHECK(sc->text != NULL, "accepted scenario without its text");
    FUZZ_CHECK(memchr(sc->name, 0, sizeof(sc->name)) &&
                   memchr(sc->description, 0, sizeof(sc->description)) &&
                   memchr(sc->path, 0, sizeof(sc->path)) &&
                   memchr(sc->preset, 0, sizeof(sc->preset)) &&
                   memchr(sc->image.file, 0, sizeof(sc->image.file)),
               "unterminated string field");
    FUZZ_CHECK(g->kind == SIM_NOR || g->kind == SIM_NAND, "device kind %u",
               g->kind);
    FUZZ_CHECK(g->size && pow2(g->prog_size) && pow2(g->erase_size) &&
                   g->erase_size >= g->prog_size,
               "device size %u, program %u, erase %u", g->size, g->prog_size,
               g->erase_size);
    FUZZ_CHECK(g->nregions || g->size % g->erase_size == 0,
               "device size %u not whole erase units of %u", g->size,
               g->erase_size);
    FUZZ_CHECK(sc->image.size > 0, "image size 0");
    FUZZ_CHECK(pow2(sc->engine.block_size) &&
                   sc->engine.block_size >= g->prog_size,
               "block size %u", sc->engine.block_size);
    FUZZ_CHECK(!sc->engine.write_size ||
                   (pow2(sc->engine.write_size) &&
                    sc->engine.write_size >= g->prog_size &&
                    sc->engine.write_size <= sc->engine.block_size),
               "write size %u", sc->engine.write_size);
    FUZZ_CHECK(sc->engine.hash > FWR_HASH_NONE &&
                   sc->engine.hash <= FWR_HASH_SHA256 &&
                   sc->engine.digest <= FWR_HASH_SHA256 &&
                   sc->engine.verify <= FWR_VERIFY_TRUSTED,
               "engine hash %u digest %u verify %u", sc->engine.hash,
               sc->engine.digest, sc->engine.verify);
    FUZZ_CHECK(sc->engine.verify != FWR_VERIFY_TRUSTED ||
                   sc->engine.digest != FWR_HASH_NONE,
               "trusted without a digest");
    FUZZ_CHECK(sc->engine.cpu_hash_rate > 0, "cpu_hash_rate 0");
    FUZZ_CHECK(sc->link.bandwidth_bps > 0, "bandwidth 0");
    check_rate(sc->link.drop_rate, 0.95, "link.drop_rate");
    check_rate(sc->link.corrupt_rate, 0.01, "link.corrupt_rate");
    check_rate(x->unstable_fraction, 1, "faults.unstable");
    check_rate(x->erase_cut_fraction, 1, "faults.erase_cut");
    check_rate(x->read_flip_rate, 1e-3, "faults.read_flip_rate");
    check_rate(x->retention_rate, 1e-3, "faults.retention_rate");
    check_rate(x->initial_wear, 2, "faults.initial_wear");
    FUZZ_CHECK(x->torn_mode <= SIM_TORN_FAINT &&
                   x->wear_mode <= SIM_WEAR_BADBLOCK,
               "torn %u wear %u", x->torn_mode, x->wear_mode);
    FUZZ_CHECK(sc->cuts.strategy <= CUT_EVERY && sc->cuts.every > 0 &&
                   sc->cuts.max_boots > 0 && sc->cuts.depth >= 1 &&
                   sc->cuts.depth <= 4,
               "cuts strategy %u every %u max_boots %u depth %u",
               sc->cuts.strategy, sc->cuts.every, sc->cuts.max_boots,
               sc->cuts.depth);
    FUZZ_CHECK((sc->cuts.strategy != CUT_RANDOM &&
                sc->cuts.strategy != CUT_LOGSPACED) ||
                   sc->cuts.count > 0,
               "random/logspaced with count 0");
    check_layout(sc);
}

/* Half 1: the input as a whole scenario text. */
static void whole_text(const uint8_t *data, size_t size)
{
    struct scenario sc;
    char err[512];
    char *text = malloc(size + 1u);

    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = 0; /* a stored text ends at its first NUL */
    err[0] = 0;
    if (scenario_load_text(&sc, text, "fuzz/dir/input.ini", err, sizeof(err))) {
        FUZZ_CHECK(err[0] != 0, "refused text without a message");
    } else {
        FUZZ_CHECK(!strcmp(sc.text, text), "stored text differs from input");
        check_scenario(&sc);
        scenario_free(&sc);
    }
    free(text);
}

/* Half 2: each piece as a --set on the base, in order (as the CLI applies
 * several), until one is refused or MAX_SETS were applied. */
static void set_pieces(const uint8_t *data, size_t size)
{
    struct scenario sc, before;
    char err[512], *piece;
    size_t at = 0, n;
    int sets = 0, rc;

    err[0] = 0;
    rc = scenario_load_text(&sc, base_text, "fuzz/base.ini", err, sizeof(err));
    FUZZ_CHECK(rc == 0, "base scenario refused: %s", err);
    piece = malloc(size + 1u);
    while (piece && at < size && sets < MAX_SETS) {
        for (n = 0; at + n < size && data[at + n] && data[at + n] != '\n'; n++)
            ;
        memcpy(piece, data + at, n);
        piece[n] = 0;
        at += n + 1u;
        sets++;
        before = sc;
        err[0] = 0;
        if (scenario_set(&sc, piece, err, sizeof(err))) {
            FUZZ_CHECK(err[0] != 0, "refused --set without a message");
            FUZZ_CHECK(!memcmp(&before, &sc, sizeof(sc)),
                       "refused --set '%s' changed the scenario", piece);
        } else {
            check_scenario(&sc);
        }
    }
    free(piece);
    scenario_free(&sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    whole_text(data, size);
    set_pieces(data, size);
    return 0;
}
