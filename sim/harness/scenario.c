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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    int nkeys;
    struct {
        char sk[48]; /* "section.key" */
        int line;
    } keys[MAX_KEYS];
};

static void vperr(struct parse *p, const char *sec, const char *key,
                  const char *fmt, va_list ap)
{
    char sk[160];
    int n;
    if (p->failed)
        return;
    p->failed = 1;
    p->fail_line = p->line;
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

static int32_t record_need(const struct scenario *sc);

/* ------------------------------------------------------------ values */

/* Sizes: 4096, 0x1000, 4K, 4KiB, 1M, 1MiB, 1G. */
static int parse_size(const char *v, uint64_t *out)
{
    char *end;
    unsigned long long n;
    uint64_t mul = 1;
    errno = 0;
    if (!isdigit((unsigned char)*v))
        return -1;
    n = strtoull(v, &end, 0);
    if (errno)
        return -1;
    if (*end == 'K' || *end == 'k')
        mul = 1024, end++;
    else if (*end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'G')
        mul = 1024ull * 1024 * 1024, end++;
    if (mul > 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
        end += strlen(end);
    if (*end || (uint64_t)n > UINT64_MAX / mul)
        return -1;
    *out = (uint64_t)n * mul;
    return 0;
}

static int parse_u32(const char *v, uint32_t *out)
{
    uint64_t n;
    if (parse_size(v, &n) || n > UINT32_MAX)
        return -1;
    *out = (uint32_t)n;
    return 0;
}

static int parse_double(const char *v, double lo, double hi, double *out)
{
    char *end;
    double d;
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || d < lo || d > hi)
        return -1;
    *out = d;
    return 0;
}

/* Durations: 10ms, 250us, 2s, 100ns (a bare number is microseconds). */
static int parse_time(const char *v, uint64_t *ns)
{
    char *end;
    double d;
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || d < 0)
        return -1;
    if (!strcmp(end, "ns"))
        *ns = (uint64_t)d;
    else if (!strcmp(end, "us") || !*end)
        *ns = (uint64_t)(d * 1e3);
    else if (!strcmp(end, "ms"))
        *ns = (uint64_t)(d * 1e6);
    else if (!strcmp(end, "s"))
        *ns = (uint64_t)(d * 1e9);
    else
        return -1;
    return 0;
}

/* Bandwidth: bytes/s with K/M suffix, or 250kbit / 1Mbit. */
static int parse_bandwidth(const char *v, uint64_t *bps)
{
    char buf[64], *end;
    double d;
    size_t n = strlen(v);
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, v, n + 1);
    if (n > 3 && !strcmp(buf + n - 3, "bit")) {
        buf[n - 3] = 0;
        d = strtod(buf, &end);
        if (end == buf || d <= 0)
            return -1;
        if (*end == 'k' || *end == 'K')
            d *= 1000, end++;
        else if (*end == 'M')
            d *= 1e6, end++;
        if (*end)
            return -1;
        *bps = (uint64_t)(d / 8);
        return *bps ? 0 : -1;
    }
    return parse_size(v, bps) || !*bps ? -1 : 0;
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
static const char *const torn_names[] = {"none", "all", "prefix", "random",
                                         NULL};
static const char *const wear_names[] = {"none", "fail", "stuck", "badblock",
                                         NULL};
static const char *const verify_names[] = {"full", "trusted", NULL};
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

/* ------------------------------------------------------------ keys */

#define IS(s, k) (!strcmp(sec, s) && !strcmp(key, k))

static const char *const sections[] = {"scenario", "device", "image",
                                       "engine",   "link",   "faults",
                                       "cuts",     "expect", NULL};

static int set_key(struct parse *p, const char *sec, const char *key,
                   const char *v)
{
    struct scenario *sc = p->sc;
    struct sim_geometry *g = &sc->device.geo;
    struct sim_timing *t = &sc->device.timing;
    struct sim_faults *x = &sc->device.faults;
    uint64_t u64;
    double rate_hi = 1;
    uint8_t u8;
    char names[128];
    const char *const *en = NULL;
    uint8_t *ep = NULL;

#define U32(field)                                                             \
    do {                                                                       \
        if (parse_u32(v, &(field)))                                            \
            goto bad_number;                                                   \
        return 0;                                                              \
    } while (0)
#define U8(field)                                                              \
    do {                                                                       \
        uint32_t tmp_;                                                         \
        if (parse_u32(v, &tmp_) || tmp_ > 255)                                 \
            goto bad_number;                                                   \
        (field) = (uint8_t)tmp_;                                               \
        return 0;                                                              \
    } while (0)
#define TIME(field)                                                            \
    do {                                                                       \
        if (parse_time(v, &(field)))                                           \
            goto bad_time;                                                     \
        return 0;                                                              \
    } while (0)
#define RATE(field, hi)                                                        \
    do {                                                                       \
        rate_hi = (hi);                                                        \
        if (parse_double(v, 0, rate_hi, &(field)))                             \
            goto bad_rate;                                                     \
        return 0;                                                              \
    } while (0)
#define BOOL(field)                                                            \
    do {                                                                       \
        if (parse_bool(v, &(field)))                                           \
            goto bad_bool;                                                     \
        return 0;                                                              \
    } while (0)

    if (!*sec) {
        perr(p, sec, key, "key before any [section]");
        return -1;
    }
    if (parse_enum(sec, sections, &u8)) {
        list_names(names, sizeof(names), sections);
        perr(p, sec, key, "unknown section [%s] (one of %s)", sec, names);
        return -1;
    }
    if (!*v && !IS("scenario", "description")) {
        perr(p, sec, key, "no value");
        return -1;
    }
    if (IS("scenario", "name")) {
        snprintf(sc->name, sizeof(sc->name), "%s", v);
        return 0;
    }
    if (IS("scenario", "description")) {
        snprintf(sc->description, sizeof(sc->description), "%s", v);
        return 0;
    }
    if (IS("scenario", "seed")) {
        if (parse_size(v, &sc->seed))
            goto bad_number;
        return 0;
    }
    if (IS("device", "preset")) {
        struct sim_faults keep = sc->device.faults;
        if (sim_preset(v, &sc->device)) {
            const char *const *n = sim_preset_names();
            size_t at = 0, i;
            names[0] = 0;
            for (i = 0; n[i]; i++)
                at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s",
                                       i ? "|" : "", n[i]);
            perr(p, sec, key, "unknown preset '%s' (one of %s)", v, names);
            return -1;
        }
        /* A preset sets the part's endurance; other fault knobs keep what
         * the file already said. */
        keep.endurance = sc->device.faults.endurance;
        sc->device.faults = keep;
        snprintf(sc->preset, sizeof(sc->preset), "%s", v);
        return 0;
    }
    if (IS("device", "size")) {
        U32(g->size);
    }
    if (IS("device", "prog_size"))
        U32(g->prog_size);
    if (IS("device", "page_size"))
        U32(g->page_size);
    if (IS("device", "erase_size"))
        U32(g->erase_size);
    if (IS("device", "spare_size"))
        U32(g->spare_size);
    if (IS("device", "nop"))
        U8(g->nop);
    if (IS("device", "ecc_bits"))
        U8(g->ecc_bits);
    if (IS("device", "ecc_codeword"))
        U32(g->ecc_codeword);
    if (IS("device", "factory_bad"))
        U32(g->factory_bad);
    if (IS("device", "erased_value"))
        U8(g->erased_value);
    if (IS("device", "read_setup"))
        TIME(t->read_setup_ns);
    if (IS("device", "read_per_byte"))
        TIME(t->read_per_byte_ns);
    if (IS("device", "page_read"))
        TIME(t->page_read_typ_ns);
    if (IS("device", "prog_typ"))
        TIME(t->prog_typ_ns);
    if (IS("device", "prog_max"))
        TIME(t->prog_max_ns);
    if (IS("device", "erase_typ"))
        TIME(t->erase_typ_ns);
    if (IS("device", "erase_max"))
        TIME(t->erase_max_ns);
    if (IS("device", "draw_times"))
        BOOL(t->draw_times);

    if (IS("image", "size"))
        U32(sc->image.size);
    if (IS("image", "seed")) {
        if (parse_size(v, &sc->image.seed))
            goto bad_number;
        return 0;
    }
    if (IS("image", "version2_seed"))
        U32(sc->image.version2_seed);
    if (IS("image", "file")) {
        /* Relative to the scenario's folder, so a scenario runs from
         * anywhere; a --set is relative to the scenario it changes. */
        const char *base = p->set ? sc->path : p->name;
        const char *slash = strrchr(base, '/');
        int dn = slash ? (int)(slash - base) : 0;
        size_t n;
        if (v[0] == '/' || !dn)
            n = (size_t)snprintf(sc->image.file, sizeof(sc->image.file), "%s",
                                 v);
        else
            n = (size_t)snprintf(sc->image.file, sizeof(sc->image.file),
                                 "%.*s/%s", dn, base, v);
        if (n >= sizeof(sc->image.file)) {
            perr(p, sec, key, "path longer than %zu characters",
                 sizeof(sc->image.file) - 1);
            return -1;
        }
        return 0;
    }

    if (IS("engine", "block_size"))
        U32(sc->engine.block_size);
    if (IS("engine", "write_size"))
        U32(sc->engine.write_size);
    if (IS("engine", "hash"))
        en = hash_names, ep = &sc->engine.hash;
    else if (IS("engine", "digest"))
        en = hash_names, ep = &sc->engine.digest;
    else if (IS("engine", "verify"))
        en = verify_names, ep = &sc->engine.verify;
    else if (IS("faults", "torn"))
        en = torn_names, ep = &x->torn_mode;
    else if (IS("faults", "wear"))
        en = wear_names, ep = &x->wear_mode;
    else if (IS("cuts", "strategy"))
        en = cut_names, ep = &sc->cuts.strategy;
    if (en) {
        if (parse_enum(v, en, ep)) {
            list_names(names, sizeof(names), en);
            perr(p, sec, key, "'%s' is not one of %s", v, names);
            return -1;
        }
        return 0;
    }
    if (IS("engine", "mirror"))
        BOOL(sc->engine.mirror);
    if (IS("engine", "record_size"))
        U32(sc->engine.record_size);
    if (IS("engine", "partition_addr"))
        U32(sc->engine.partition_addr);
    if (IS("engine", "cpu_hash_rate")) {
        if (parse_size(v, &sc->engine.cpu_hash_rate) ||
            !sc->engine.cpu_hash_rate)
            goto bad_number;
        return 0;
    }

    if (IS("link", "bandwidth")) {
        if (parse_bandwidth(v, &sc->link.bandwidth_bps)) {
            perr(p, sec, key, "'%s' is not a bandwidth (1M, 250K, 2Mbit)", v);
            return -1;
        }
        return 0;
    }
    if (IS("link", "latency"))
        TIME(sc->link.latency_ns);
    if (IS("link", "drop_rate"))
        RATE(sc->link.drop_rate, 0.95);
    if (IS("link", "corrupt_rate"))
        RATE(sc->link.corrupt_rate, 0.01);
    if (IS("link", "change_after")) {
        if (parse_size(v, &u64))
            goto bad_number;
        sc->link.change_after = u64;
        return 0;
    }
    if (IS("link", "max_request"))
        U32(sc->link.max_request);

    if (IS("faults", "seed")) {
        if (parse_size(v, &x->seed))
            goto bad_number;
        return 0;
    }
    if (IS("faults", "unstable"))
        RATE(x->unstable_fraction, 1);
    if (IS("faults", "erase_cut"))
        RATE(x->erase_cut_fraction, 1);
    if (IS("faults", "read_flip_rate"))
        RATE(x->read_flip_rate, 1e-3);
    if (IS("faults", "retention_rate"))
        RATE(x->retention_rate, 1e-3);
    if (IS("faults", "read_disturb"))
        U32(x->read_disturb_limit);
    if (IS("faults", "endurance"))
        U32(x->endurance);
    if (IS("faults", "initial_wear"))
        RATE(x->initial_wear, 2);
    if (IS("faults", "offline_flips"))
        U32(x->offline_flips);
    if (IS("faults", "offline_record_flips"))
        U32(x->offline_record_flips);
    if (IS("faults", "reprogram_as_and"))
        BOOL(x->reprogram_as_and);

    if (IS("cuts", "count"))
        U32(sc->cuts.count);
    if (IS("cuts", "every"))
        U32(sc->cuts.every);
    if (IS("cuts", "depth")) {
        if (parse_u32(v, &sc->cuts.depth) || sc->cuts.depth < 1 ||
            sc->cuts.depth > 4) {
            perr(p, sec, key, "'%s': depth is 1 to 4", v);
            return -1;
        }
        return 0;
    }
    if (IS("cuts", "nested_count"))
        U32(sc->cuts.nested_count);
    if (IS("cuts", "max_boots"))
        U32(sc->cuts.max_boots);

    if (IS("expect", "max_redownload_blocks"))
        U32(sc->expect.max_redownload_blocks);
    if (IS("expect", "max_redownload_bytes"))
        U32(sc->expect.max_redownload_bytes);
    if (IS("expect", "allow_detected_failure"))
        BOOL(sc->expect.allow_detected_failure);

    perr(p, sec, key, "unknown key");
    return -1;
bad_number:
    perr(p, sec, key, "'%s' is not a size or count (4096, 4K, 1MiB, 0x1000)",
         v);
    return -1;
bad_time:
    perr(p, sec, key, "'%s' is not a duration (250us, 3ms, 2s)", v);
    return -1;
bad_rate:
    perr(p, sec, key, "'%s' is not a number from 0 to %g", v, rate_hi);
    return -1;
bad_bool:
    perr(p, sec, key, "'%s' is not yes or no", v);
    return -1;
#undef U32
#undef U8
#undef TIME
#undef RATE
#undef BOOL
}

static int handler(void *user, const char *sec, const char *key, const char *v)
{
    struct parse *p = user;
    char sk[48];
    int i;
    if (p->failed)
        return 0;
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
    sc->engine.block_size = 4096;
    sc->engine.hash = FWR_HASH_CRC32;
    sc->engine.digest = FWR_HASH_CRC32;
    sc->engine.verify = FWR_VERIFY_FULL;
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
    sc->cuts.nested_count = 1;
    sc->cuts.max_boots = 16;
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

static int validate(struct parse *p)
{
    struct scenario *sc = p->sc;
    const struct sim_geometry *g = &sc->device.geo;
    struct scenario_layout l;
    char why[256];
    int32_t need;
    int rc;

    if (p->failed)
        return -1;
    if (!g->prog_size || !g->erase_size || g->erase_size % g->prog_size) {
        kerr(p, C("device.erase_size", "device.prog_size", "device.preset"),
             "erase unit %u is not a multiple of the program unit %u",
             g->erase_size, g->prog_size);
        return -1;
    }
    if (!g->nregions && (!g->size || g->size % g->erase_size)) {
        kerr(p, C("device.size", "device.erase_size", "device.preset"),
             "%u is not a whole number of %u-byte erase units", g->size,
             g->erase_size);
        return -1;
    }
    /* The engine takes power-of-two sizes only (docs/record-format.md). */
    if (!pow2(g->prog_size) || !pow2(g->erase_size)) {
        kerr(p, C("device.prog_size", "device.erase_size", "device.preset"),
             "the engine needs power-of-two program and erase units "
             "(%u, %u)",
             g->prog_size, g->erase_size);
        return -1;
    }
    if (!pow2(sc->engine.block_size)) {
        kerr(p, C("engine.block_size"), "%u is not a power of two",
             sc->engine.block_size);
        return -1;
    }
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
    if (sc->engine.hash == FWR_HASH_NONE) {
        kerr(p, C("engine.hash"), "blocks need a hash");
        return -1;
    }
    if (sc->engine.verify == FWR_VERIFY_TRUSTED &&
        sc->engine.digest == FWR_HASH_NONE) {
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
    if (!sc->cuts.every) {
        kerr(p, C("cuts.every"), "must be > 0");
        return -1;
    }
    if (!sc->cuts.max_boots) {
        kerr(p, C("cuts.max_boots"), "must be > 0");
        return -1;
    }
    if (sc->cuts.depth > 1 && !sc->cuts.nested_count) {
        kerr(p, C("cuts.nested_count", "cuts.depth"),
             "must be > 0 when depth is %u", sc->cuts.depth);
        return -1;
    }
    if (check_image_file(p))
        return -1;
    if (!sc->image.size) {
        kerr(p, C("image.size"), "must be > 0");
        return -1;
    }
    rc = scenario_layout(sc, &l, why, sizeof(why));
    if (rc == -2) { /* the engine refuses the block/device geometry */
        kerr(p, C("engine.block_size", "device.preset"), "%s", why);
        return -1;
    }
    need = record_need(sc);
    /* The layout rounds record_size up to whole erase units. */
    if (!rc && sc->engine.record_size && need >= 0 &&
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

/* Stand-ins so fwr_init can check a geometry: never called. */
static int no_start(void *ctx)
{
    (void)ctx;
    return -1;
}
static int no_update(void *ctx, const void *buf, uint32_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return -1;
}
static int no_finish(void *ctx, uint8_t *digest)
{
    (void)ctx;
    (void)digest;
    return -1;
}

/* Record bytes per copy the engine needs for sc's image, or its negative
 * error when it refuses the geometry. */
static int32_t record_need(const struct scenario *sc)
{
    const struct sim_geometry *g = &sc->device.geo;
    struct fwr_config c;
    struct fwr_hash_ops h = {0, 4, NULL, no_start, no_update, no_finish};
    struct fwr f;
    uint32_t es = g->erase_size;
    int rc;

    if (sc->engine.hash == FWR_HASH_MD5)
        h.size = 16;
    else if (sc->engine.hash == FWR_HASH_SHA256)
        h.size = 32;
    memset(&c, 0, sizeof(c));
    c.block_hash = &h;
    c.geometry.prog_size = g->prog_size;
    c.geometry.erase_size = es;
    c.geometry.erased_value = g->erased_value;
    c.geometry.kind = g->kind == SIM_NAND ? FWR_FLASH_NAND : FWR_FLASH_NOR;
    c.block_size = sc->engine.block_size;
    c.write_size = sc->engine.write_size;
    c.work = (void *)1; /* checked for non-NULL only */
    c.flash.read = (void *)1;
    c.flash.program = (void *)1;
    c.flash.erase = (void *)1;
    c.layout.record_size = es;
    c.layout.data_size = es;
    c.layout.data_addr = es * 4;
    c.layout.mirror_addr = FWR_NO_MIRROR;
    /* The engine checks the geometry; a record area too small is fine. */
    rc = fwr_init(&f, &c);
    if (rc && rc != FWR_E_NOSPC)
        return rc;
    return (int32_t)FWR_RECORD_AREA_SIZE(g->prog_size, es, h.size, c.block_size,
                                         sc->image.size ? sc->image.size : 1);
}

int scenario_layout(const struct scenario *sc, struct scenario_layout *l,
                    char *err, size_t errlen)
{
    const struct sim_geometry *g = &sc->device.geo;
    uint64_t rec, data, addr, spare_units = 0;
    /* Areas use the device's erase unit at the partition: the largest
     * sector size for non-uniform MCU flash. */
    uint32_t es = g->erase_size;
    int32_t need;

    memset(l, 0, sizeof(*l));
    need = record_need(sc);
    if (need < 0) {
        snprintf(err, errlen,
                 "the engine refuses this geometry (error %d): block %u, "
                 "program unit %u, erase unit %u",
                 (int)need, sc->engine.block_size, g->prog_size, es);
        return -2;
    }
    /* 64-bit sums: a huge size in a file must not wrap into "fits". */
    rec = sc->engine.record_size ? sc->engine.record_size : (uint64_t)need + es;
    rec = (rec + es - 1) / es * es;
    if (g->kind == SIM_NAND)
        spare_units = g->factory_bad + 2; /* room to skip bad blocks */
    data = ((uint64_t)sc->image.size + es - 1) / es * es + spare_units * es;
    addr = ((uint64_t)sc->engine.partition_addr + es - 1) / es * es;
    l->part_lo = (uint32_t)addr;
    l->record_addr = (uint32_t)addr;
    l->record_size = (uint32_t)rec;
    addr += rec;
    l->mirror_addr = FWR_NO_MIRROR;
    if (sc->engine.mirror) {
        l->mirror_addr = (uint32_t)addr;
        addr += rec;
    }
    l->data_addr = (uint32_t)addr;
    l->data_size = (uint32_t)data;
    if (addr + data > g->size) {
        snprintf(err, errlen,
                 "image %u bytes + record areas %ux%llu do not fit the "
                 "%u-byte device from 0x%x",
                 sc->image.size, sc->engine.mirror ? 2u : 1u,
                 (unsigned long long)rec, g->size, sc->engine.partition_addr);
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
