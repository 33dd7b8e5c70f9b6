/*
 * scenario: INI scenario files (docs/scenarios.md), read with libinih.
 *
 * inih hands each key to a handler; the reader below feeds it one line at a
 * time and counts lines, so every error names file:line: section.key.
 */
#define _POSIX_C_SOURCE 200809L
#include "scenario.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trial.h"

/* Keys a file set, with their lines: cross-field checks run after the
 * whole file is read and must still name the line of the key at fault. */
#define MAX_KEYS 128

struct parse {
    struct scenario *sc;
    const char *name; /* file name for messages */
    const char *text; /* remaining text */
    const char *set;  /* "section.key" of a --set, else NULL */
    int line;         /* line being parsed; 0: none to name */
    int long_line;    /* line number of a line longer than inih's buffer */
    int max_line;     /* inih's buffer, characters */
    char *err;
    size_t errlen;
    int failed;
    int fail_line; /* line of the first error */
    int nset;      /* key lines read */
    int nkeys;
    struct {
        char sk[48]; /* "section.key" */
        int line;
    } keys[MAX_KEYS];
};

/* Text from a file, fit for a message: a binary file's bytes are not
 * echoed raw to the terminal, and a long name is cut short. */
static const char *printable(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    for (; *s && i + 8 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f)
            buf[i++] = (char)c;
        else
            i += (size_t)snprintf(buf + i, n - i, "\\x%02x", c);
    }
    if (*s)
        i += (size_t)snprintf(buf + i, n - i, "...");
    buf[i < n ? i : n - 1] = 0;
    return buf;
}

static void vperr(struct parse *p, const char *sec, const char *key,
                  const char *fmt, va_list ap)
{
    char sk[160], s1[64], s2[64];
    int n;
    if (p->failed)
        return;
    p->failed = 1;
    p->fail_line = p->line;
    sec = printable(sec, s1, sizeof(s1));
    key = printable(key, s2, sizeof(s2));
    snprintf(sk, sizeof(sk), "%s.%s", sec, key);
    if (!*sec) /* a key above the first [section] */
        snprintf(sk, sizeof(sk), "%s", key);
    if (p->set && strcmp(p->set, sk)) /* a --set broke another key */
        n = snprintf(p->err, p->errlen, "--set %s: %s: ", p->set, sk);
    else if (p->set)
        n = snprintf(p->err, p->errlen, "--set %s: ", sk);
    else if (p->line > 0)
        n = snprintf(p->err, p->errlen, "%s:%d: %s: ", p->name, p->line, sk);
    else /* a default the file never set */
        n = snprintf(p->err, p->errlen, "%s: %s: ", p->name, sk);
    if (n < 0 || (size_t)n >= p->errlen)
        return;
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
}

/* An error at the line being parsed. */
static void perr(struct parse *p, const char *sec, const char *key,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vperr(p, sec, key, fmt, ap);
    va_end(ap);
}

static int line_of(const struct parse *p, const char *sk)
{
    int i;
    for (i = 0; i < p->nkeys; i++)
        if (!strcmp(p->keys[i].sk, sk))
            return p->keys[i].line;
    return 0;
}

/* A cross-field error: blames the first of the candidate "section.key"s
 * (NULL-terminated) the file set (the --set key if it is one of them), or
 * the first one when the file set none. */
static void vkerr(struct parse *p, const char *const *cands, int latest,
                  const char *fmt, va_list ap)
{
    const char *pick = cands[0];
    char sec[48];
    const char *dot;
    int i, best = 0;
    for (i = 0; cands[i]; i++) {
        int at = line_of(p, cands[i]);
        if (p->set && !strcmp(p->set, cands[i])) {
            pick = cands[i];
            break;
        }
        if (at && (!best || (latest && at > best))) {
            pick = cands[i];
            best = at;
            if (!latest)
                break;
        }
    }
    dot = strchr(pick, '.');
    snprintf(sec, sizeof(sec), "%.*s", (int)(dot - pick), pick);
    p->line = line_of(p, pick);
    vperr(p, sec, dot + 1, fmt, ap);
}

static void kerr(struct parse *p, const char *const *cands, const char *fmt,
                 ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkerr(p, cands, 0, fmt, ap);
    va_end(ap);
}

/* When several keys together are at fault (sizes that do not fit), the
 * one set last is the one that tipped it over. */
static void kerr_latest(struct parse *p, const char *const *cands,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkerr(p, cands, 1, fmt, ap);
    va_end(ap);
}

/* Record bytes per copy the engine needs for sc's image, or its negative
 * error when it refuses the geometry. */
static int32_t record_need(const struct scenario *sc)
{
    struct engine_params p;
    uint32_t need = 0;
    int rc;

    const struct engine_ops *e = scenario_engine(sc);
    char why[400];

    if (!e)
        return engine_load(sc->engine.kind, why, sizeof(why)) ? 0 : -1;
    scenario_engine_params(sc, NULL, &p);
    rc = e->record_need(&p, &need);
    return rc < 0 ? rc : (int32_t)need;
}

/* ------------------------------------------------------------ values */

/* Integers: 4096, 0x1000, and binary multiples 4K, 4KiB, 1M, 1MiB, 1G.
 * No sign, no spaces, and no octal surprise: "010" is ten. */
static int parse_uint(const char *v, uint64_t *out)
{
    const char *d = v;
    uint64_t n = 0, mul = 1;
    unsigned base = 10;

    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
        base = 16, d = v + 2;
    if (!isdigit((unsigned char)*d) &&
        !(base == 16 && isxdigit((unsigned char)*d)))
        return -1;
    for (; *d; d++) {
        unsigned k;
        if (isdigit((unsigned char)*d))
            k = (unsigned)(*d - '0');
        else if (base == 16 && isxdigit((unsigned char)*d))
            k = (unsigned)(tolower((unsigned char)*d) - 'a' + 10);
        else
            break;
        if (n > (UINT64_MAX - k) / base)
            return -1;
        n = n * base + k;
    }
    if (*d == 'K' || *d == 'k')
        mul = 1ull << 10, d++;
    else if (*d == 'M')
        mul = 1ull << 20, d++;
    else if (*d == 'G')
        mul = 1ull << 30, d++;
    if (mul > 1 && (!strcmp(d, "iB") || !strcmp(d, "B")))
        d += strlen(d);
    if (*d || n > UINT64_MAX / mul)
        return -1;
    *out = n * mul;
    return 0;
}

/* A finite decimal number: nan, inf and out-of-range exponents are not. */
static int parse_real(const char *v, double *out)
{
    char *end;
    double d;
    if (!*v || isspace((unsigned char)*v))
        return -1;
    errno = 0;
    d = strtod(v, &end);
    if (end == v || *end || errno == ERANGE || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

/* The number in front of a unit suffix of letters. */
static int split_unit(const char *v, char *num, size_t n, const char **unit)
{
    const char *u = v + strlen(v);
    while (u > v && isalpha((unsigned char)u[-1]))
        u--;
    if (u == v || (size_t)(u - v) >= n)
        return -1;
    memcpy(num, v, (size_t)(u - v));
    num[u - v] = 0;
    *unit = u;
    return 0;
}

/* Durations: 10ms, 250us, 2s, 100ns (a bare number is microseconds). */
static int parse_time(const char *v, double *ns)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"", 1e3}, {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
    char num[64];
    const char *unit;
    double d;
    size_t i;
    if (split_unit(v, num, sizeof(num), &unit) || parse_real(num, &d) || d < 0)
        return -1;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcmp(unit, units[i].unit)) {
            *ns = d * units[i].ns;
            return 0;
        }
    return -1;
}

/* Bandwidth in bytes/s: a size (1M, 250K) or a bit rate (250kbit, 2Mbit). */
static int parse_bandwidth(const char *v, double *bps)
{
    static const struct {
        const char *unit;
        double mul;
    } units[] = {
        {"bit", 1}, {"kbit", 1e3}, {"Kbit", 1e3}, {"Mbit", 1e6}, {"Gbit", 1e9}};
    char num[64];
    const char *unit;
    uint64_t u;
    double d;
    size_t i;
    if (!parse_uint(v, &u)) {
        *bps = (double)u;
        return 0;
    }
    if (split_unit(v, num, sizeof(num), &unit) || parse_real(num, &d))
        return -1;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcmp(unit, units[i].unit)) {
            *bps = d * units[i].mul / 8;
            return 0;
        }
    return -1;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

static int parse_enum(const char *v, const char *const *names, uint8_t *out)
{
    uint8_t i;
    for (i = 0; names[i]; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return 0;
        }
    return -1;
}

static const char *const hash_names[] = {"none", "crc32", "md5", "sha256",
                                         NULL};
static const char *const torn_names[] = {"none",   "all",   "prefix",
                                         "random", "faint", NULL};
static const char *const wear_names[] = {"none", "fail", "stuck", "badblock",
                                         NULL};
static const char *const verify_names[] = {"full", "trusted", NULL};
static const char *const content_names[] = {"random", "code", NULL};
static const char *const old_slot_names[] = {"base", "other", NULL};
static const char *const transform_names[] = {
    "none", "lz4", "aes-ctr", "lz4+aes", "delta-lz4", "delta-lz4+aes", NULL};
static const char *const crc_ops_names[] = {"host", "engine", NULL};
static const char *const work_names[] = {"roomy", "exact", NULL};
static const char *const cut_names[] = {"exhaustive", "random", "logspaced",
                                        "every", NULL};

static void list_names(char *buf, size_t n, const char *const *names)
{
    size_t i, at = 0;
    buf[0] = 0;
    for (i = 0; names[i] && at < n; i++)
        at +=
            (size_t)snprintf(buf + at, n - at, "%s%s", i ? "|" : "", names[i]);
}

/* ------------------------------------------------------------ the keys */

enum key_type {
    KT_TEXT,      /* char array; lo..hi characters, no control bytes */
    KT_UINT,      /* integer field of 1, 4 or 8 bytes */
    KT_TIME,      /* uint64_t nanoseconds */
    KT_REAL,      /* double */
    KT_BANDWIDTH, /* uint64_t bytes per second */
    KT_BOOL,
    KT_ENUM,   /* uint8_t index into names */
    KT_PRESET, /* device.preset: loads a part */
    KT_FILE,   /* image.file: a path relative to the scenario */
    KT_ENGINE  /* engine.kind: a name, or a path relative to the scenario */
};

/* A word an integer key takes besides numbers ("auto", "min"). */
struct key_word {
    const char *name;
    uint64_t value;
};

/* One scenario key: where it goes, what it takes, what it means. Parsing,
 * --set, range checks, error messages and `fotasim list --keys` (and so
 * docs/scenarios.md) all read this one table. */
struct key_def {
    const char *section, *name;
    enum key_type type;
    size_t offset, size; /* the field in struct scenario */
    double lo, hi; /* allowed range: bytes, counts, ns, bytes/s, characters */
    const char *const *names;     /* KT_ENUM */
    const struct key_word *words; /* NULL-terminated, or NULL */
    const char *dflt, *help;      /* for the docs */
};

#define AT(f) offsetof(struct scenario, f), sizeof(((struct scenario *)0)->f)
#define KiB   1024.0
#define MiB   (1024.0 * 1024.0)
#define SEC   1e9
#define U32   4294967295.0
#define U64   18446744073709551615.0

static const struct key_word w_record[] = {{"min", SCENARIO_RECORD_MIN},
                                           {NULL, 0}};
static const struct key_word w_bound[] = {
    {"auto", EXPECT_AUTO}, {"off", 0}, {NULL, 0}};

static const struct key_def keys[] = {
    {"scenario", "name", KT_TEXT, AT(name), 1, 63, NULL, NULL, "`unnamed`",
     "short name (reports, JUnit test case)"},
    {"scenario", "description", KT_TEXT, AT(description), 0, 159, NULL, NULL,
     "empty", "one line, shown by `fotasim list`"},
    {"scenario", "seed", KT_UINT, AT(seed), 0, U64, NULL, NULL, "1",
     "run seed; every trial seed derives from it (`--seed` overrides)"},

    {"device", "preset", KT_PRESET, AT(preset), 0, 0, NULL, NULL, "`w25q128`",
     "a part's datasheet geometry, timing and endurance (`fotasim list`); "
     "the other keys override it"},
    {"device", "size", KT_UINT, AT(device.geo.size), 1, SIM_MAX_SIZE, NULL,
     NULL, "4M (no preset named); the part's size",
     "device bytes (the part, shrunk to what the test needs; the torture "
     "loop holds three devices of this size in memory)"},
    {"device", "prog_size", KT_UINT, AT(device.geo.prog_size), 1, 64 * KiB,
     NULL, NULL, "preset",
     "program unit, a power of two: NOR 1, MCU 8/16, NAND a page"},
    {"device", "page_size", KT_UINT, AT(device.geo.page_size), 1, 64 * KiB,
     NULL, NULL, "preset",
     "NOR page-program window (256); NAND page: a multiple of prog_size "
     "that divides the erase unit"},
    {"device", "erase_size", KT_UINT, AT(device.geo.erase_size), 1, 16 * MiB,
     NULL, NULL, "preset",
     "erase unit (NOR sector, NAND block): a power-of-two multiple of "
     "prog_size; size is a whole number of them"},
    {"device", "spare_size", KT_UINT, AT(device.geo.spare_size), 0, 64 * KiB,
     NULL, NULL, "preset", "NAND spare bytes per page (at most a page)"},
    {"device", "nop", KT_UINT, AT(device.geo.nop), 0, 16, NULL, NULL, "preset",
     "NAND partial programs per page"},
    {"device", "ecc_bits", KT_UINT, AT(device.geo.ecc_bits), 0, 64, NULL, NULL,
     "preset", "NAND ECC: correctable bits per codeword (0: none)"},
    {"device", "ecc_codeword", KT_UINT, AT(device.geo.ecc_codeword), 0,
     64 * KiB, NULL, NULL, "preset",
     "NAND ECC codeword bytes; divides the page when ecc_bits > 0"},
    {"device", "factory_bad", KT_UINT, AT(device.geo.factory_bad), 0, 65536,
     NULL, NULL, "preset",
     "NAND factory bad blocks (seeded placement; under half the part)"},
    {"device", "erased_value", KT_UINT, AT(device.geo.erased_value), 0, 255,
     NULL, NULL, "0xFF", "erased byte"},
    {"device", "read_setup", KT_TIME, AT(device.timing.read_setup_ns), 0, SEC,
     NULL, NULL, "preset", "NOR read: per command"},
    {"device", "read_per_byte", KT_TIME, AT(device.timing.read_per_byte_ns), 0,
     1e6, NULL, NULL, "preset", "NOR read: per byte"},
    {"device", "page_read", KT_TIME, AT(device.timing.page_read_typ_ns), 0, SEC,
     NULL, NULL, "preset", "NAND page read (tR)"},
    {"device", "prog_typ", KT_TIME, AT(device.timing.prog_typ_ns), 0, 10 * SEC,
     NULL, NULL, "preset", "page program, typical"},
    {"device", "prog_max", KT_TIME, AT(device.timing.prog_max_ns), 0, 10 * SEC,
     NULL, NULL, "preset", "page program, maximum (at least typical)"},
    {"device", "erase_typ", KT_TIME, AT(device.timing.erase_typ_ns), 0,
     100 * SEC, NULL, NULL, "preset", "erase of one unit, typical"},
    {"device", "erase_max", KT_TIME, AT(device.timing.erase_max_ns), 0,
     100 * SEC, NULL, NULL, "preset",
     "erase of one unit, maximum (at least typical)"},
    {"device", "draw_times", KT_BOOL, AT(device.timing.draw_times), 0, 0, NULL,
     NULL, "no",
     "draw each op's time between typical and maximum (seeded) instead of "
     "typical"},

    {"image", "size", KT_UINT, AT(image.size), 1, SIM_MAX_SIZE, NULL, NULL,
     "1M; with `file`: the file's size", "image bytes"},
    {"image", "seed", KT_UINT, AT(image.seed), 0, U64, NULL, NULL, "1",
     "content generator seed"},
    {"image", "file", KT_FILE, AT(image.file), 0, 0, NULL, NULL, "none",
     "image file instead of generated content, relative to the scenario's "
     "folder; must exist when the scenario is read and hold at least `size` "
     "bytes"},
    {"image", "version2_seed", KT_UINT, AT(image.version2_seed), 0, U32, NULL,
     NULL, "2",
     "content of the image the server switches to (`link.change_after`)"},
    {"image", "content", KT_ENUM, AT(image.content), 0, 0, content_names, NULL,
     "`random`",
     "generated content: `random` bytes (incompressible) or `code`, seeded "
     "words of a small vocabulary that LZ4 shrinks about as machine code"},
    {"image", "transform", KT_ENUM, AT(image.transform), 0, 0, transform_names,
     NULL, "`none`",
     "what the server offers (docs/package-format.md): the plain image, or a "
     "package of it, LZ4-compressed, AES-CTR-encrypted, both, or a delta "
     "against the old image; a package needs `engine.digest = sha256`; "
     "encryption needs the three key files"},
    {"image", "window", KT_UINT, AT(image.window), 4 * KiB, 64 * KiB, NULL,
     NULL, "16K", "delta dictionary bytes (a power of two): RAM on the device"},
    {"image", "old_edits", KT_UINT, AT(image.old_edits), 1, 1u << 20, NULL,
     NULL, "16",
     "delta: the old image in the device's other slot is the update with "
     "this many seeded 8-byte edits"},
    {"image", "old_file", KT_FILE, AT(image.old_file), 0, 0, NULL, NULL, "none",
     "delta: the old image (what the device's other slot holds) from a file "
     "instead of `old_edits` edits of the update, e.g. the previous release; "
     "relative to the scenario's folder, of any size up to `device` size"},
    {"image", "old_slot", KT_ENUM, AT(image.old_slot), 0, 0, old_slot_names,
     NULL, "`base`",
     "delta: the device's other slot holds the package's base, or `other` "
     "content (the engine must refuse every package: the wrong-base test)"},
    {"image", "encrypt_key", KT_FILE, AT(image.encrypt_key), 0, 0, NULL, NULL,
     "none", "AES key file, 16 or 32 bytes, shared by packer and device"},
    {"image", "sign_key", KT_FILE, AT(image.sign_key), 0, 0, NULL, NULL, "none",
     "PEM ECDSA P-256 private key the packer signs with"},
    {"image", "verify_key", KT_FILE, AT(image.verify_key), 0, 0, NULL, NULL,
     "none",
     "PEM public key the device verifies with (with `sign_key`; another "
     "key's makes every package refused)"},

    {"engine", "kind", KT_ENGINE, AT(engine.kind), 0, 0, NULL, NULL,
     "`fwresume`",
     "the engine under test (docs/engines.md): `fwresume` (built in), the "
     "name of another (`lib<name>.so` in `FOTASIM_ENGINE_PATH` or the build's "
     "examples/engines: `offset-only`, `restart-zero`), or a path to a "
     "shared object, relative to the scenario's folder; `--engine` sets it"},
    {"engine", "block_size", KT_UINT, AT(engine.block_size), 1, 16 * MiB, NULL,
     NULL, "4K",
     "bytes per block and record; a power of two, at least the program "
     "unit; smaller than the erase unit is allowed (neighbours are voided "
     "and fetched again)"},
    {"engine", "write_size", KT_UINT, AT(engine.write_size), 0, 16 * MiB, NULL,
     NULL, "0: engine default (256 B or a page)",
     "engine staging chunk; a power of two from the program unit to "
     "block_size"},
    {"engine", "hash", KT_ENUM, AT(engine.hash), 0, 0, hash_names, NULL,
     "`crc32`",
     "block hash: `crc32`, `md5`, `sha256` (mbedTLS adapter); `none` is "
     "refused"},
    {"engine", "digest", KT_ENUM, AT(engine.digest), 0, 0, hash_names, NULL,
     "`crc32`", "whole-image digest"},
    {"engine", "verify", KT_ENUM, AT(engine.verify), 0, 0, verify_names, NULL,
     "`full`",
     "`full`: re-hash every recorded block at resume; `trusted`: believe "
     "the records (needs a digest)"},
    {"engine", "crc_ops", KT_ENUM, AT(engine.crc_ops), 0, 0, crc_ops_names,
     NULL, "`host`",
     "who computes a CRC-32 block hash or digest: `host` (fast), `engine` "
     "(fwresume's own table CRC, as a device without a CRC library runs it; "
     "about 10x slower)"},
    {"engine", "work_buffer", KT_ENUM, AT(engine.work), 0, 0, work_names, NULL,
     "`roomy`",
     "the engine's work RAM: `roomy` (what it needs and an erase unit more, "
     "at most 256 KiB: hashes in big pieces; 64 guard bytes follow it, and "
     "a write into them fails the trial), `exact` (the least it accepts, "
     "ending where an inaccessible page begins: a read or write past it "
     "kills the run)"},
    {"engine", "mirror", KT_BOOL, AT(engine.mirror), 0, 0, NULL, NULL, "yes",
     "second copy of the record area"},
    {"engine", "record_size", KT_UINT, AT(engine.record_size), 0, SIM_MAX_SIZE,
     NULL, w_record, "0: the engine's minimum + one erase unit",
     "bytes per record copy, rounded up to erase units, at least what the "
     "engine needs; `min`: exactly the minimum, so the log fills and is "
     "compacted"},
    {"engine", "partition_addr", KT_UINT, AT(engine.partition_addr), 0,
     SIM_MAX_SIZE, NULL, NULL, "0",
     "where the record area starts (rounded up to an erase unit); mirror "
     "and data follow"},
    {"engine", "cpu_hash_rate", KT_UINT, AT(engine.cpu_hash_rate), 1, 1e12,
     NULL, NULL, "10M (built-in CRC-32, Cortex-M4 at 100 MHz)",
     "the target MCU's block-hash speed in bytes/s, for the boot-scan time"},

    {"link", "bandwidth", KT_BANDWIDTH, AT(link.bandwidth_bps), 1, 1e11, NULL,
     NULL, "1M", "payload rate: bytes/s (1M, 250K) or bits (2Mbit, 250kbit)"},
    {"link", "latency", KT_TIME, AT(link.latency_ns), 0, 60 * SEC, NULL, NULL,
     "50ms", "per request"},
    {"link", "drop_rate", KT_REAL, AT(link.drop_rate), 0, 0.95, NULL, NULL, "0",
     "share of requests that drop part-way"},
    {"link", "corrupt_rate", KT_REAL, AT(link.corrupt_rate), 0, 0.01, NULL,
     NULL, "0",
     "share of delivered bytes corrupted (only a digest catches "
     "them)"},
    {"link", "change_after", KT_UINT, AT(link.change_after), 0, 1e12, NULL,
     NULL, "0: never",
     "the server switches to image v2 after this many bytes served"},
    {"link", "max_request", KT_UINT, AT(link.max_request), 0, SIM_MAX_SIZE,
     NULL, NULL, "0: unlimited", "largest range per request"},

    {"faults", "seed", KT_UINT, AT(device.faults.seed), 0, U64, NULL, NULL, "0",
     "device fault generator seed"},
    {"faults", "torn", KT_ENUM, AT(device.faults.torn_mode), 0, 0, torn_names,
     NULL, "`random`",
     "what a cut program leaves: nothing, everything, a prefix, a random "
     "subset of bits, or faint charge (reads erased, counts as programmed)"},
    {"faults", "unstable", KT_REAL, AT(device.faults.unstable_fraction), 0, 1,
     NULL, NULL, "0.1",
     "share of torn bits that read differently each time until erased"},
    {"faults", "erase_cut", KT_REAL, AT(device.faults.erase_cut_fraction), 0, 1,
     NULL, NULL, "0.5", "share of bits a cut erase leaves programmed"},
    {"faults", "read_flip_rate", KT_REAL, AT(device.faults.read_flip_rate), 0,
     1e-3, NULL, NULL, "0", "bit flips per bit per read"},
    {"faults", "retention_rate", KT_REAL, AT(device.faults.retention_rate), 0,
     1e-3, NULL, NULL, "0",
     "programmed bits lost per bit per simulated second"},
    {"faults", "read_disturb", KT_UINT, AT(device.faults.read_disturb_limit), 0,
     1e9, NULL, NULL, "0: off", "reads of a unit before disturb flips"},
    {"faults", "endurance", KT_UINT, AT(device.faults.endurance), 0, 1e8, NULL,
     NULL, "preset", "P/E cycles per unit (0: unlimited)"},
    {"faults", "initial_wear", KT_REAL, AT(device.faults.initial_wear), 0, 2,
     NULL, NULL, "0",
     "starting erase count as a share of endurance (0.95: near end of "
     "life)"},
    {"faults", "wear", KT_ENUM, AT(device.faults.wear_mode), 0, 0, wear_names,
     NULL, "`none`",
     "past endurance: no consequence, program/erase fail, bits stick, the "
     "unit turns bad"},
    {"faults", "offline_flips", KT_UINT, AT(offline.data_flips), 0, 1e6, NULL,
     NULL, "0",
     "programmed data bits that leak to 1 while the power is off after "
     "each cut"},
    {"faults", "offline_record_flips", KT_UINT, AT(offline.record_flips), 0,
     1e6, NULL, NULL, "0", "the same in the record area (both copies)"},
    {"faults", "read_error_rate", KT_REAL, AT(offline.read_error_rate), 0, 0.01,
     NULL, NULL, "0",
     "share of the engine's reads during a recovery that fail with an I/O "
     "error (the device reboots and tries again)"},
    {"faults", "reprogram_as_and", KT_BOOL, AT(device.faults.reprogram_as_and),
     0, 0, NULL, NULL, "no",
     "NOR: a second program of a unit ANDs instead of being a violation"},
    {"faults", "fiu_points", KT_BOOL, AT(device.faults.fiu_points), 0, 0, NULL,
     NULL, "no",
     "consult the libfiu points `sim/flash/*` (docs/flash-model.md)"},
    {"faults", "fail_burst", KT_UINT, AT(device.faults.fail_burst), 0, 64, NULL,
     NULL, "0: off",
     "after each power-on, this many program/erase failures in a row on "
     "one unit, then success"},
    {"faults", "fail_burst_after", KT_UINT, AT(device.faults.fail_burst_after),
     0, 1e9, NULL, NULL, "0",
     "the burst starts at this program/erase after power-on (from 0)"},

    {"cuts", "strategy", KT_ENUM, AT(cuts.strategy), 0, 0, cut_names, NULL,
     "`exhaustive`",
     "every write boundary, `count` seeded ones, `count` log-spaced ones "
     "(denser early), every K-th"},
    {"cuts", "count", KT_UINT, AT(cuts.count), 0, 1e8, NULL, NULL, "100",
     "trials for random / logspaced; > 0"},
    {"cuts", "every", KT_UINT, AT(cuts.every), 1, 1e9, NULL, NULL, "1",
     "K for `every`"},
    {"cuts", "depth", KT_UINT, AT(cuts.depth), 1, TRIAL_MAX_DEPTH, NULL, NULL,
     "1", "cuts per trial; 2+ also cuts during recovery"},
    {"cuts", "max_boots", KT_UINT, AT(cuts.max_boots), 1, 1000, NULL, NULL,
     "16", "reboots before a trial is judged `stuck`"},
    {"cuts", "reboot_every", KT_UINT, AT(cuts.reboot_every), 0, U32, NULL, NULL,
     "0: never",
     "the live update reboots cleanly each time it has received this many "
     "bytes since its boot (ages the log: voids, rewrites, compaction); more "
     "than a block and an erase unit"},

    {"expect", "max_redownload_blocks", KT_UINT,
     AT(expect.max_redownload_blocks), 0, U32, NULL, NULL, "0: no bound",
     "most blocks one trial may download again"},
    {"expect", "max_redownload_bytes", KT_UINT, AT(expect.max_redownload_bytes),
     0, U32, NULL, NULL, "0: no bound",
     "most bytes one trial may download again"},
    {"expect", "allow_detected_failure", KT_BOOL,
     AT(expect.allow_detected_failure), 0, 0, NULL, NULL, "no",
     "engine errors the fault model makes unavoidable (worn flash) do not "
     "fail the run"},
    {"expect", "max_erases", KT_UINT, AT(expect.max_erases), 0, 1e12, NULL,
     w_bound, "`auto`",
     "most erases one trial may issue from its first cut to completion "
     "(`auto`: derived, docs/fault-model.md; `off`: no bound)"},
    {"expect", "max_programs", KT_UINT, AT(expect.max_programs), 0, 1e12, NULL,
     w_bound, "`auto`", "the same for programs"},
    {"expect", "max_unit_erases", KT_UINT, AT(expect.max_unit_erases), 0, 1e9,
     NULL, w_bound, "`auto`",
     "most erases of any one unit in one trial (wear)"},
    {"expect", "max_recover_time", KT_TIME, AT(expect.max_recover_ns), 0,
     86400 * SEC, NULL, w_bound, "`auto`",
     "longest simulated recovery, first reboot to completion"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const sections[] = {"scenario", "device", "image",
                                       "engine",   "link",   "faults",
                                       "cuts",     "expect", NULL};

static const struct key_def *find_key(const char *sec, const char *name)
{
    size_t i;
    for (i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].section, sec) && !strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

static void store_uint(void *at, size_t size, uint64_t v)
{
    if (size == 1) {
        uint8_t b = (uint8_t)v;
        memcpy(at, &b, 1);
    } else if (size == 4) {
        uint32_t w = (uint32_t)v;
        memcpy(at, &w, 4);
    } else {
        memcpy(at, &v, 8);
    }
}

/* A bound for messages and docs, in the key's own unit. */
static void format_bound(char *buf, size_t n, const struct key_def *k, double v)
{
    if (k->type == KT_TIME && v >= SEC)
        snprintf(buf, n, "%gs", v / SEC);
    else if (k->type == KT_TIME && v >= 1e6)
        snprintf(buf, n, "%gms", v / 1e6);
    else if (k->type == KT_TIME && v >= 1e3)
        snprintf(buf, n, "%gus", v / 1e3);
    else if (k->type == KT_TIME)
        snprintf(buf, n, "%gns", v);
    else if (k->type == KT_REAL)
        snprintf(buf, n, "%g", v);
    else if (v >= MiB && v < 1e12 && fmod(v, MiB) == 0)
        snprintf(buf, n, "%.0fM", v / MiB);
    else if (v >= KiB && v < 1e12 && fmod(v, KiB) == 0)
        snprintf(buf, n, "%.0fK", v / KiB);
    else if (v >= U32)
        snprintf(buf, n, "%s", v >= U64 ? "2^64-1" : "2^32-1");
    else
        snprintf(buf, n, "%.0f", v);
}

/* What a key takes, for messages and docs. */
static void describe_range(char *buf, size_t n, const struct key_def *k)
{
    char lo[32], hi[32];
    size_t at = 0;
    const struct key_word *w;
    switch (k->type) {
    case KT_TEXT:
        at = (size_t)snprintf(buf, n, "up to %.0f characters", k->hi);
        break;
    case KT_BOOL:
        at = (size_t)snprintf(buf, n, "yes|no");
        break;
    case KT_ENUM:
        list_names(buf, n, k->names);
        at = strlen(buf);
        break;
    case KT_PRESET:
        at = (size_t)snprintf(buf, n, "a preset name");
        break;
    case KT_FILE:
        at = (size_t)snprintf(buf, n, "a path");
        break;
    case KT_ENGINE:
        at = (size_t)snprintf(buf, n, "a name or a path");
        break;
    default:
        format_bound(lo, sizeof(lo), k, k->lo);
        format_bound(hi, sizeof(hi), k, k->hi);
        at = (size_t)snprintf(buf, n, "%s to %s", lo, hi);
    }
    for (w = k->words; w && w->name && at < n; w++)
        at += (size_t)snprintf(buf + at, n - at, ", %s", w->name);
}

static const char *type_name(const struct key_def *k)
{
    static const char *const names[] = {
        [KT_TEXT] = "text",           [KT_UINT] = "size/count",
        [KT_TIME] = "duration",       [KT_REAL] = "number",
        [KT_BANDWIDTH] = "bandwidth", [KT_BOOL] = "bool",
        [KT_ENUM] = "enum",           [KT_PRESET] = "name",
        [KT_FILE] = "path",           [KT_ENGINE] = "engine"};
    return names[k->type];
}

/* What a value of each type looks like, for "'x' is not ..." messages. */
static const char *type_example(const struct key_def *k)
{
    switch (k->type) {
    case KT_UINT:
        return "a size or count (4096, 4K, 1MiB, 0x1000)";
    case KT_TIME:
        return "a duration (250us, 3ms, 2s)";
    case KT_REAL:
        return "a finite number";
    case KT_BANDWIDTH:
        return "a bandwidth (1M, 250K, 2Mbit)";
    case KT_BOOL:
        return "yes or no";
    default:
        return "valid";
    }
}

void scenario_print_keys(FILE *to, int markdown)
{
    const char *const *s;
    char range[160];
    size_t i;
    for (s = sections; *s; s++) {
        if (markdown)
            fprintf(to,
                    "%s### [%s]\n\n| key | type | takes | default | meaning "
                    "|\n|---|---|---|---|---|\n",
                    s == sections ? "" : "\n", *s);
        for (i = 0; i < NKEYS; i++) {
            const struct key_def *k = &keys[i];
            if (strcmp(k->section, *s))
                continue;
            describe_range(range, sizeof(range), k);
            if (markdown) {
                const char *c;
                fprintf(to, "| %s | %s | ", k->name, type_name(k));
                for (c = range; *c; c++) /* a bare | splits a cell */
                    fputs(*c == '|' ? "\\|" : (char[2]){*c, 0}, to);
                fprintf(to, " | %s | %s |\n", k->dflt, k->help);
            } else
                fprintf(to, "  %s.%s (%s: %s; default %s)\n      %s\n", *s,
                        k->name, type_name(k), range, k->dflt, k->help);
        }
    }
}

/* ------------------------------------------------------------ setting */

static int set_preset(struct parse *p, const struct key_def *k, const char *v)
{
    struct scenario *sc = p->sc;
    struct sim_faults keep = sc->device.faults;
    const char *n;
    char names[160], shown[80];
    size_t at = 0, i;

    if (sim_preset(v, &sc->device)) {
        names[0] = 0;
        for (i = 0; (n = sim_preset_name(i)) && at < sizeof(names); i++)
            at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s",
                                   i ? "|" : "", n);
        perr(p, k->section, k->name, "unknown preset '%s' (one of %s)",
             printable(v, shown, sizeof(shown)), names);
        return -1;
    }
    /* A preset sets the part's endurance; other fault knobs keep what the
     * file already said. */
    keep.endurance = sc->device.faults.endurance;
    sc->device.faults = keep;
    snprintf(sc->preset, sizeof(sc->preset), "%s", v);
    return 0;
}

/* Relative to the scenario's folder, so a scenario runs from anywhere; a
 * --set is relative to the scenario it changes. */
/* A path relative to the scenario's folder into at (k->size bytes). */
static int set_file(struct parse *p, const struct key_def *k, const char *v,
                    char *at)
{
    struct scenario *sc = p->sc;
    const char *base = p->set ? sc->path : p->name;
    const char *slash = strrchr(base, '/');
    int dn = slash ? (int)(slash - base) : 0;
    size_t n;
    if (v[0] == '/' || !dn)
        n = (size_t)snprintf(at, k->size, "%s", v);
    else
        n = (size_t)snprintf(at, k->size, "%.*s/%s", dn, base, v);
    if (n >= k->size) {
        perr(p, k->section, k->name, "path longer than %zu characters",
             k->size - 1);
        return -1;
    }
    return 0;
}

/* engine.kind: a name as it is, a path (it has a '/') from the
 * scenario's folder; either must load as an engine of this ABI. */
static int set_engine(struct parse *p, const struct key_def *k, const char *v,
                      char *at)
{
    char why[400];
    if (strchr(v, '/')) {
        if (set_file(p, k, v, at))
            return -1;
    } else if (strlen(v) >= k->size || !v[0]) {
        perr(p, k->section, k->name, "an engine name of 1 to %zu characters",
             k->size - 1);
        return -1;
    } else {
        memcpy(at, v, strlen(v) + 1);
    }
    if (!engine_load(at, why, sizeof(why))) {
        perr(p, k->section, k->name, "%s", why);
        return -1;
    }
    return 0;
}

static int set_text(struct parse *p, const struct key_def *k, const char *v,
                    char *at)
{
    size_t n = strlen(v), i;
    for (i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
            perr(p, k->section, k->name, "control characters are not allowed");
            return -1;
        }
    if ((double)n < k->lo || (double)n > k->hi) {
        perr(p, k->section, k->name, "%zu characters (%.0f to %.0f)", n, k->lo,
             k->hi);
        return -1;
    }
    memcpy(at, v, n + 1);
    return 0;
}

/* Parse v per the key's type into a number in the key's unit (bytes,
 * counts, ns, bytes/s): 0, or -1 when v is not of that form. */
static int parse_number(const struct key_def *k, const char *v, double *d)
{
    uint64_t u;
    switch (k->type) {
    case KT_UINT:
        if (parse_uint(v, &u))
            return -1;
        *d = (double)u;
        return 0;
    case KT_TIME:
        return parse_time(v, d);
    case KT_REAL:
        return parse_real(v, d);
    default:
        return parse_bandwidth(v, d);
    }
}

static int set_key(struct parse *p, const char *sec, const char *name,
                   const char *v)
{
    const struct key_def *k;
    const struct key_word *w;
    char shown[80], range[160];
    char *at;
    uint8_t u8;
    uint64_t u;
    double d;
    bool b;

    if (!*sec) {
        perr(p, sec, name, "key before any [section]");
        return -1;
    }
    if (parse_enum(sec, sections, &u8)) {
        list_names(range, sizeof(range), sections);
        perr(p, sec, name, "unknown section [%s] (one of %s)",
             printable(sec, shown, sizeof(shown)), range);
        return -1;
    }
    if (!(k = find_key(sec, name))) {
        perr(p, sec, name, "unknown key");
        return -1;
    }
    if (!*v && k->type != KT_TEXT) {
        perr(p, sec, name, "no value");
        return -1;
    }
    at = (char *)p->sc + k->offset;
    for (w = k->words; w && w->name; w++)
        if (!strcmp(v, w->name)) {
            store_uint(at, k->size, w->value);
            return 0;
        }
    printable(v, shown, sizeof(shown));
    describe_range(range, sizeof(range), k);
    switch (k->type) {
    case KT_TEXT:
        return set_text(p, k, v, at);
    case KT_PRESET:
        return set_preset(p, k, v);
    case KT_FILE:
        return set_file(p, k, v, at);
    case KT_ENGINE:
        return set_engine(p, k, v, at);
    case KT_BOOL:
        if (parse_bool(v, &b))
            break;
        memcpy(at, &b, sizeof(b));
        return 0;
    case KT_ENUM:
        if (parse_enum(v, k->names, &u8)) {
            perr(p, sec, name, "'%s' is not one of %s", shown, range);
            return -1;
        }
        *(uint8_t *)at = u8;
        return 0;
    default:
        if (parse_number(k, v, &d))
            break;
        if (d < k->lo || d > k->hi) {
            perr(p, sec, name, "'%s' is out of range (%s)", shown, range);
            return -1;
        }
        if (k->type == KT_REAL) {
            memcpy(at, &d, sizeof(d));
            return 0;
        }
        /* In range, so the conversion is exact enough and defined; a
         * bandwidth or duration below one unit rounds to at least it. */
        u = (uint64_t)d;
        if (k->type == KT_BANDWIDTH && !u) {
            perr(p, sec, name, "'%s' is out of range (%s)", shown, range);
            return -1;
        }
        store_uint(at, k->type == KT_UINT ? k->size : 8, u);
        return 0;
    }
    if (k->words) {
        size_t n = 0;
        for (w = k->words; w->name && n < sizeof(range); w++)
            n += (size_t)snprintf(range + n, sizeof(range) - n, "%s%s",
                                  n ? "|" : "", w->name);
        perr(p, sec, name, "'%s' is not %s or %s", shown, type_example(k),
             range);
    } else {
        perr(p, sec, name, "'%s' is not %s", shown, type_example(k));
    }
    return -1;
}

static int handler(void *user, const char *sec, const char *key, const char *v)
{
    struct parse *p = user;
    char sk[48];
    int i;
    if (p->failed)
        return 0;
    p->nset++;
    if (p->long_line && p->line == p->long_line) {
        perr(p, sec, key, "line longer than %d characters", p->max_line);
        return 0;
    }
    /* Remember where each key was set; a repeated key (as --set appends
     * to the stored text) counts at its last line, as its value does. */
    snprintf(sk, sizeof(sk), "%s.%s", sec, key);
    for (i = 0; i < p->nkeys && strcmp(p->keys[i].sk, sk); i++)
        ;
    if (i == p->nkeys && p->nkeys < MAX_KEYS)
        snprintf(p->keys[p->nkeys++].sk, sizeof(p->keys[0].sk), "%s", sk);
    if (i < p->nkeys)
        p->keys[i].line = p->line;
    return set_key(p, sec, key, v) == 0;
}

/* inih's stream reader: one line per call, counted. A line longer than
 * inih's buffer would reach inih in pieces and shift every later line
 * number, so it is cut short here and reported. */
static char *reader(char *str, int num, void *stream)
{
    struct parse *p = stream;
    const char *nl;
    size_t n, full;
    if (!*p->text)
        return NULL;
    nl = strchr(p->text, '\n');
    full = n = nl ? (size_t)(nl - p->text) + 1 : strlen(p->text);
    if (n >= (size_t)num) {
        n = (size_t)num - 1;
        p->max_line = num - 2; /* room for the newline and the NUL */
        p->long_line = p->line + 1;
    }
    memcpy(str, p->text, n);
    str[n] = 0;
    p->text += full;
    p->line++;
    /* inih would take an indented line as the previous value's
     * continuation: "  seed = 5" would silently become part of a
     * description. Refuse it; blank and comment lines may be indented. */
    if ((str[0] == ' ' || str[0] == '\t') && !p->failed) {
        const char *c = str + strspn(str, " \t\r\n");
        if (*c && *c != ';' && *c != '#') {
            snprintf(p->err, p->errlen,
                     "%s:%d: indented line: a value continued on the next "
                     "line is not allowed (remove the leading blanks)",
                     p->name, p->line);
            p->failed = 1;
            p->fail_line = p->line;
        }
    }
    if (p->failed) /* inih reads on: give it nothing more to parse */
        str[0] = 0;
    return str;
}

/* ------------------------------------------------------------ defaults */

static void defaults(struct scenario *sc)
{
    memset(sc, 0, sizeof(*sc));
    snprintf(sc->name, sizeof(sc->name), "unnamed");
    snprintf(sc->preset, sizeof(sc->preset), "w25q128");
    sim_preset("w25q128", &sc->device);
    sc->device.geo.size = 4u << 20;
    sc->device.faults.torn_mode = SIM_TORN_RANDOM;
    sc->device.faults.unstable_fraction = 0.1;
    sc->device.faults.erase_cut_fraction = 0.5;
    sc->image.size = 1u << 20;
    sc->image.seed = 1;
    sc->image.version2_seed = 2;
    sc->image.window = 16u * 1024u;
    sc->image.old_edits = 16;
    sc->engine.block_size = 4096;
    sc->engine.hash = ENGINE_HASH_CRC32;
    sc->engine.digest = ENGINE_HASH_CRC32;
    sc->engine.verify = ENGINE_VERIFY_FULL;
    sc->engine.mirror = true;
    /* The built-in nibble-table CRC-32 on a Cortex-M4 at 100 MHz: about
     * ten cycles a byte. */
    sc->engine.cpu_hash_rate = 10000000;
    sc->link.bandwidth_bps = 1u << 20;
    sc->link.latency_ns = 50000000;
    sc->cuts.strategy = CUT_EXHAUSTIVE;
    sc->cuts.count = 100;
    sc->cuts.every = 1;
    sc->cuts.depth = 1;
    sc->cuts.max_boots = 16;
    sc->expect.max_erases = EXPECT_AUTO;
    sc->expect.max_programs = EXPECT_AUTO;
    sc->expect.max_unit_erases = EXPECT_AUTO;
    sc->expect.max_recover_ns = EXPECT_AUTO;
    sc->seed = 1;
}

#define C(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The image file: it must exist now, not minutes into a run, and gives
 * the image size unless the file says otherwise. */
static int check_image_file(struct parse *p)
{
    struct scenario *sc = p->sc;
    struct stat st;
    if (!sc->image.file[0])
        return 0;
    if (stat(sc->image.file, &st)) {
        kerr(p, C("image.file"), "cannot open %s: %s", sc->image.file,
             strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > UINT32_MAX) {
        kerr(p, C("image.file"), "%s is not a regular file of 1 byte to 4 GiB",
             sc->image.file);
        return -1;
    }
    if (!p->set && !line_of(p, "image.size"))
        sc->image.size = (uint32_t)st.st_size;
    else if ((uint64_t)st.st_size < sc->image.size) {
        kerr(p, C("image.size", "image.file"),
             "%u bytes, but %s holds only %llu", sc->image.size, sc->image.file,
             (unsigned long long)st.st_size);
        return -1;
    }
    return 0;
}

/* Cross-field rules, once the whole file (or a --set) is in. Each names
 * the key most likely at fault that the file set, with its line. */
static int pow2(uint32_t v)
{
    return v && !(v & (v - 1));
}

/* The [image] package keys: what a package needs to be built and read. */
static int package_check(struct parse *p)
{
    const struct scenario_image *im = &p->sc->image;
    int aes = im->transform == SCENARIO_AES ||
              im->transform == SCENARIO_LZ4_AES ||
              im->transform == SCENARIO_DELTA_AES;
    struct stat st;

    if (!pow2(im->window)) {
        kerr(p, C("image.window"), "%u is not a power of two", im->window);
        return -1;
    }
    if (im->transform == SCENARIO_PLAIN)
        return 0;
    if (p->sc->engine.digest != ENGINE_HASH_SHA256) {
        kerr(p, C("engine.digest", "image.transform"),
             "a package names its image by SHA-256: set engine.digest = "
             "sha256");
        return -1;
    }
    if (p->sc->engine.block_size < 256u ||
        p->sc->engine.block_size > (1u << 20)) {
        kerr(p, C("engine.block_size", "image.transform"),
             "a package's blocks are 256 B to 1M (%u)",
             p->sc->engine.block_size);
        return -1;
    }
    if (aes && !im->encrypt_key[0]) {
        kerr(p, C("image.transform"),
             "an encrypted package needs image.encrypt_key");
        return -1;
    }
    if (aes && (!im->sign_key[0] || !im->verify_key[0])) {
        kerr(p, C("image.transform"),
             "an encrypted package must be signed: set image.sign_key and "
             "image.verify_key");
        return -1;
    }
    if (!im->sign_key[0] != !im->verify_key[0]) {
        kerr(p, C(im->sign_key[0] ? "image.sign_key" : "image.verify_key"),
             "sign_key and verify_key go together");
        return -1;
    }
    if (im->old_file[0] && stat(im->old_file, &st)) {
        kerr(p, C("image.old_file"), "cannot open %s: %s", im->old_file,
             strerror(errno));
        return -1;
    }
    /* The old image is what the device's other slot holds: no larger
     * than the device. */
    if (im->old_file[0] && (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
                            (uint64_t)st.st_size > p->sc->device.geo.size)) {
        kerr(p, C("image.old_file", "device.size", "device.preset"),
             "%s is not a regular file of 1 byte up to the %u-byte device",
             im->old_file, p->sc->device.geo.size);
        return -1;
    }
    if (im->encrypt_key[0] && stat(im->encrypt_key, &st)) {
        kerr(p, C("image.encrypt_key"), "%s: %s", im->encrypt_key,
             strerror(errno));
        return -1;
    }
    if (im->encrypt_key[0] && st.st_size != 16 && st.st_size != 32) {
        kerr(p, C("image.encrypt_key"), "%s: %lld bytes, not 16 or 32",
             im->encrypt_key, (long long)st.st_size);
        return -1;
    }
    return 0;
}

static int validate(struct parse *p)
{
    struct scenario *sc = p->sc;
    const struct sim_geometry *g = &sc->device.geo;
    struct scenario_layout l;
    const char *bad_key;
    char why[256];
    int32_t need;
    int rc;

    if (p->failed)
        return -1;
    /* The engine takes power-of-two sizes only (docs/record-format.md). */
    if (!pow2(g->prog_size) || !pow2(g->erase_size)) {
        kerr(p, C("device.prog_size", "device.erase_size", "device.preset"),
             "the engine needs power-of-two program and erase units "
             "(%u, %u)",
             g->prog_size, g->erase_size);
        return -1;
    }
    /* The simulator's rules first: what it refuses, named by its key. */
    if (sim_config_check(&sc->device, &bad_key, why, sizeof(why))) {
        kerr(p, C(bad_key, "device.preset"), "%s", why);
        return -1;
    }
    if (!pow2(sc->engine.block_size)) {
        kerr(p, C("engine.block_size"), "%u is not a power of two",
             sc->engine.block_size);
        return -1;
    }
    if (package_check(p))
        return -1;
    if (sc->engine.block_size % g->prog_size) {
        kerr(p, C("engine.block_size", "device.prog_size", "device.preset"),
             "%u is not a multiple of the device's program unit (%u)",
             sc->engine.block_size, g->prog_size);
        return -1;
    }
    if (sc->engine.write_size &&
        (!pow2(sc->engine.write_size) || sc->engine.write_size % g->prog_size ||
         sc->engine.write_size > sc->engine.block_size)) {
        kerr(p, C("engine.write_size", "engine.block_size"),
             "%u is not a power of two from the program unit (%u) to the "
             "block size (%u)",
             sc->engine.write_size, g->prog_size, sc->engine.block_size);
        return -1;
    }
    if (sc->engine.hash == ENGINE_HASH_NONE) {
        kerr(p, C("engine.hash"), "blocks need a hash");
        return -1;
    }
    if (sc->engine.verify == ENGINE_VERIFY_TRUSTED &&
        sc->engine.digest == ENGINE_HASH_NONE) {
        kerr(p, C("engine.verify", "engine.digest"),
             "trusted needs an image digest (engine.digest)");
        return -1;
    }
    if ((sc->cuts.strategy == CUT_RANDOM ||
         sc->cuts.strategy == CUT_LOGSPACED) &&
        !sc->cuts.count) {
        kerr(p, C("cuts.count", "cuts.strategy"), "must be > 0 for %s",
             sc->cuts.strategy == CUT_RANDOM ? "random" : "logspaced");
        return -1;
    }
    if (sc->cuts.reboot_every &&
        sc->cuts.reboot_every <= (sc->engine.block_size > g->erase_size
                                      ? sc->engine.block_size
                                      : g->erase_size)) {
        /* A boot re-writes at most the erase group it resumes in: it
         * must be able to finish one, or the update never ends. */
        kerr(p, C("cuts.reboot_every", "engine.block_size", "device.preset"),
             "%u bytes: a boot must feed more than a block (%u) and an erase "
             "unit (%u), or the update never completes",
             sc->cuts.reboot_every, sc->engine.block_size, g->erase_size);
        return -1;
    }
    if (check_image_file(p))
        return -1;
    if (sc->engine.block_size > g->size) {
        kerr(p, C("engine.block_size", "device.size", "device.preset"),
             "%u is larger than the %u-byte device", sc->engine.block_size,
             g->size);
        return -1;
    }
    rc = scenario_layout(sc, &l, why, sizeof(why));
    if (rc == -2) { /* the engine refuses the block/device geometry */
        kerr(p, C("engine.block_size", "device.preset"), "%s", why);
        return -1;
    }
    need = record_need(sc);
    /* The layout rounds record_size up to whole erase units. */
    if (!rc && sc->engine.record_size &&
        sc->engine.record_size != SCENARIO_RECORD_MIN && need >= 0 &&
        (uint64_t)l.record_size < (uint64_t)need) {
        kerr(p, C("engine.record_size"),
             "%u bytes; the engine needs %d for %u blocks",
             sc->engine.record_size, (int)need,
             (sc->image.size + sc->engine.block_size - 1) /
                 sc->engine.block_size);
        return -1;
    }
    if (rc) { /* does not fit */
        kerr_latest(p,
                    C("image.size", "device.size", "engine.partition_addr",
                      "engine.record_size", "image.file", "device.preset"),
                    "%s", why);
        return -1;
    }
    return 0;
}

static int load(struct scenario *sc, const char *text, const char *name,
                char *err, size_t errlen)
{
    struct parse *p = calloc(1, sizeof(*p));
    int rc;

    defaults(sc);
    if (!p) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    /* The path first: image.file is resolved against it while parsing. */
    snprintf(sc->path, sizeof(sc->path), "%s", name);
    p->sc = sc;
    p->name = name;
    p->text = text;
    p->err = err;
    p->errlen = errlen;
    rc = ini_parse_stream(reader, p, handler, p);
    /* inih reads on past its own complaint (a line with no '=' or ':', an
     * unclosed section header), so a key error may come from a later
     * line: report whichever is first. */
    if (rc > 0 && (!p->failed || rc < p->fail_line)) {
        snprintf(err, errlen,
                 "%s:%d: syntax: expected [section] or key = value", name, rc);
        p->failed = 1;
    } else if (rc < 0 && !p->failed) {
        snprintf(err, errlen, "%s: out of memory", name);
        p->failed = 1;
    }
    if (!p->failed && !p->nset) {
        /* An empty file would run the default scenario: most likely the
         * wrong file was named. */
        snprintf(err, errlen,
                 "%s: no settings: the file is empty or holds only comments",
                 name);
        p->failed = 1;
    }
    rc = p->failed || validate(p) ? -1 : 0;
    free(p);
    if (rc)
        return -1;
    if (!(sc->text = strdup(text))) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    return 0;
}

int scenario_load_text(struct scenario *sc, const char *text, const char *name,
                       char *err, size_t errlen)
{
    return load(sc, text, name, err, errlen);
}

int scenario_load(struct scenario *sc, const char *path, char *err,
                  size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    size_t n = 0, cap = 0, got;
    int rc;

    memset(sc, 0, sizeof(*sc));
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    /* Read to the end rather than trust ftell: a pipe or /dev/stdin is a
     * fine scenario source too. */
    do {
        if (cap - n < 4096) {
            char *bigger = realloc(text, cap = cap ? cap * 2 : 8192);
            if (!bigger) {
                free(text);
                fclose(fp);
                snprintf(err, errlen, "%s: out of memory", path);
                return -1;
            }
            text = bigger;
        }
        got = fread(text + n, 1, cap - n - 1, fp);
        n += got;
    } while (got);
    if (ferror(fp)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        free(text);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    text[n] = 0;
    if (strlen(text) != n) {
        snprintf(err, errlen, "%s: cannot read: not a text file (NUL byte)",
                 path);
        free(text);
        return -1;
    }
    rc = load(sc, text, path, err, errlen);
    free(text);
    return rc;
}

int scenario_set(struct scenario *sc, const char *assignment, char *err,
                 size_t errlen)
{
    char sec[64], key[64], sk[130];
    const char *dot = strchr(assignment, '.'), *eq = strchr(assignment, '=');
    struct scenario saved;
    struct parse *p;
    size_t sn, kn;
    int rc;

    if (!dot || !eq || dot > eq) {
        snprintf(err, errlen, "--set %s: expected section.key=value",
                 assignment);
        return -1;
    }
    sn = (size_t)(dot - assignment);
    kn = (size_t)(eq - dot - 1);
    if (sn >= sizeof(sec) || kn >= sizeof(key)) {
        snprintf(err, errlen, "--set %s: name too long", assignment);
        return -1;
    }
    memcpy(sec, assignment, sn);
    sec[sn] = 0;
    memcpy(key, dot + 1, kn);
    key[kn] = 0;
    snprintf(sk, sizeof(sk), "%s.%s", sec, key);
    if (!(p = calloc(1, sizeof(*p)))) {
        snprintf(err, errlen, "--set %s: out of memory", sk);
        return -1;
    }
    p->sc = sc;
    p->name = "--set";
    p->set = sk;
    p->err = err;
    p->errlen = errlen;
    saved = *sc;
    rc = set_key(p, sec, key, eq + 1) || validate(p) ? -1 : 0;
    /* A refused value leaves the scenario as it was: a sweep goes on
     * to the next value. */
    if (rc)
        *sc = saved;
    free(p);
    return rc;
}

const struct engine_ops *scenario_engine(const struct scenario *sc)
{
    char why[400];
    return engine_load(sc->engine.kind, why, sizeof(why));
}

void scenario_engine_params(const struct scenario *sc,
                            const struct scenario_layout *lay,
                            struct engine_params *p)
{
    const struct sim_geometry *g = &sc->device.geo;
    const struct sim_faults *x = &sc->device.faults;

    memset(p, 0, sizeof(*p));
    p->prog_size = g->prog_size;
    p->erase_size = g->erase_size;
    p->erased_value = g->erased_value;
    p->nand = g->kind == SIM_NAND;
    p->mirror_addr = ENGINE_NO_MIRROR;
    if (lay) {
        p->record_addr = lay->record_addr;
        p->record_size = lay->record_size;
        p->mirror_addr = lay->mirror_addr;
        p->data_addr = lay->data_addr;
        p->data_size = lay->data_size;
    }
    p->block_size = sc->engine.block_size;
    p->write_size = sc->engine.write_size;
    p->hash = sc->engine.hash;
    p->digest = sc->engine.digest;
    p->verify = sc->engine.verify;
    p->own_crc = sc->engine.crc_ops == SCENARIO_CRC_ENGINE;
    p->ram_exact = sc->engine.work == SCENARIO_WORK_EXACT;
    p->reads_disturbed = x->read_disturb_limit != 0;
    p->image_size = sc->image.size;
}

int scenario_layout(const struct scenario *sc, struct scenario_layout *l,
                    char *err, size_t errlen)
{
    const struct sim_geometry *g = &sc->device.geo;
    uint64_t rec, data, addr, group, spare_units = 0;
    /* Areas use the device's erase unit at the partition: the largest
     * sector size for non-uniform MCU flash. */
    uint32_t es = g->erase_size;
    const struct engine_ops *eng = scenario_engine(sc);
    /* A mirror copy when the scenario asks and the engine keeps one. */
    unsigned copies = sc->engine.mirror && !(eng && eng->one_copy) ? 2u : 1u;
    int32_t need;

    memset(l, 0, sizeof(*l));
    need = record_need(sc);
    if (need < 0) {
        snprintf(err, errlen,
                 "the engine refuses this geometry (%s): block %u, "
                 "program unit %u, erase unit %u",
                 scenario_engine(sc) ? scenario_engine(sc)->error_name(need)
                                     : "cannot load it",
                 sc->engine.block_size, g->prog_size, es);
        return -2;
    }
    /* 64-bit sums: a huge size in a file must not wrap into "fits". */
    rec = sc->engine.record_size == SCENARIO_RECORD_MIN ? (uint64_t)need
          : sc->engine.record_size                      ? sc->engine.record_size
                                                        : (uint64_t)need + es;
    rec = (rec + es - 1) / es * es;
    if (g->kind == SIM_NAND)
        spare_units = (uint64_t)g->factory_bad + 2; /* to skip bad blocks */
    /* Whole block groups: a block larger than the erase unit is erased
     * and written as one group, the last one too. */
    group = sc->engine.block_size > es ? sc->engine.block_size : es;
    data = ((uint64_t)sc->image.size + group - 1) / group * group +
           spare_units * es;
    addr = ((uint64_t)sc->engine.partition_addr + es - 1) / es * es;
    l->part_lo = (uint32_t)addr;
    l->record_addr = (uint32_t)addr;
    l->record_size = (uint32_t)rec;
    addr += rec;
    l->mirror_addr = ENGINE_NO_MIRROR;
    if (copies == 2) {
        l->mirror_addr = (uint32_t)addr;
        addr += rec;
    }
    l->data_addr = (uint32_t)addr;
    l->data_size = (uint32_t)data;
    if (addr + data > g->size) {
        snprintf(err, errlen,
                 "image %u bytes + record areas %ux%llu do not fit the "
                 "%u-byte device from 0x%x",
                 sc->image.size, copies, (unsigned long long)rec, g->size,
                 sc->engine.partition_addr);
        return -1;
    }
    l->part_hi = (uint32_t)(addr + data);
    return 0;
}

void scenario_free(struct scenario *sc)
{
    free(sc->text);
    sc->text = NULL;
}
