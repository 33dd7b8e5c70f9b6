/*
 * http_update: a device that downloads its firmware image over HTTP into
 * NOR flash with fwresume, and resumes after being killed at any instant.
 *
 * The flash is a file mapped MAP_SHARED (norfile.h), so a SIGKILL leaves
 * it exactly as a power cut leaves a part; the state file (devstate.h)
 * tells a test where each kill landed. Nothing else is saved: the
 * engine's records on flash are the whole download state.
 *
 *   http_update --url http://host/fw.bin --flash flash.img
 *
 * The image identity comes from <url>.manifest (size, sha256, block_size)
 * and the image's ETag (a HEAD); every range is one block at most, asked
 * for with Range and If-Range. The walk-through, the HTTP status table
 * and the measured figures: docs/integration.md. Options and exit
 * statuses: --help.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devstate.h"
#include "fetch.h"
#include "fwr_mbedtls.h"
#include "fwresume.h"
#include "norfile.h"

/* ------------------------------------------------------------ device */

#define ERASE_SIZE 4096u /* 4 KiB sectors */
#define PAGE_SIZE  256u  /* a page program does not cross 256 B */
#define PROG_SIZE  1u    /* SPI NOR programs single bytes */
#define WRITE_SIZE 256u  /* the engine stages one page per program */
#define MIN_BLOCK  1024u /* the record area is sized for this block size */
#define MAX_BLOCK  65536u
#define MIN_FLASH  (64u << 10)
#define MAX_FLASH  (16u << 20)
#define MAX_BLOCKS (MAX_FLASH / MIN_BLOCK)

/* Each record copy: FWR_RECORD_AREA_SIZE for the smallest block size and
 * an image as large as the whole part, so one fixed partition takes any
 * image and block size the device accepts. */
#define RECORD_COPY(flash)                                                     \
    FWR_RECORD_AREA_SIZE(PROG_SIZE, ERASE_SIZE, 4u, MIN_BLOCK, flash)

/* Work buffer: staging chunk, read buffer, bitmaps; the extra erase unit
 * widens the read buffer (resume scans, digest in 4 KiB reads). */
static uint32_t
    work[(FWR_WORK_SIZE(WRITE_SIZE, MAX_BLOCKS) + ERASE_SIZE + 3u) / 4u];

enum exit_status {
    EX_COMPLETE = 0, /* the image is on flash, digest checked, COMPLETE */
    EX_USAGE = 2,    /* bad options */
    EX_LOCAL = 3,    /* flash or state file unusable */
    EX_HTTP = 4,     /* HTTP error status (404, 5xx...) after the retries */
    EX_NET = 5,      /* no answer (refused, reset, stall) after the retries */
    EX_MANIFEST = 6, /* manifest bad, or not the served image's, or the image
                        does not fit */
    EX_ENGINE = 7,   /* the engine stopped (fwr error, e.g. FWR_E_DIGEST:
                        the served bytes are not the manifest's image) */
    EX_CHANGES = 8   /* the image changed more than --max-changes times */
};

struct opts {
    const char *url, *manifest_url, *flash, *state;
    uint32_t flash_size, block_size;
    uint32_t erase_us, prog_us, digest_us, slices;
    int tear, verify, quiet, print_layout;
    long connect_ms, stall_s, stall_bps;
    uint32_t retries, backoff_ms, backoff_max_ms, max_changes;
};

/* What names one image: the manifest's size and digest, the block size,
 * and the server's ETag (the version of struct fwr_image). */
struct identity {
    uint32_t size, block_size;
    uint8_t sha[32];
    char etag[FETCH_ETAG_MAX];
};

/* The image digest: SHA-256 (mbedTLS) with the device's hashing time, and
 * the phase word set while it runs. */
struct slow_sha {
    struct fwr_hash_ops inner;
    struct fwr_mbedtls_sha256 sha;
    volatile struct dev_state *st;
    uint32_t us_per_kib;
    uint32_t prev;
};

struct dev {
    struct opts o;
    char manifest_url[4096];
    struct mapfile stmap;
    volatile struct dev_state *st;
    struct norfile nor;
    struct fetch http;
    struct fwr fw;
    struct fwr_config cfg;
    struct fwr_image img;
    struct identity id;
    struct slow_sha sha;
    struct fwr_hash_ops ih;
    uint64_t body_base; /* state counters at boot: they count all runs */
    uint32_t requests_base;
    uint32_t failures; /* consecutive failed attempts, no byte gained */
    uint32_t changes;  /* image changes this run */
};

static int quiet;

static void say(const char *fmt, ...)
{
    va_list ap;
    if (quiet)
        return;
    va_start(ap, fmt);
    fputs("http_update: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("http_update: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ------------------------------------------------------------ options */

static const char usage_text[] =
    "usage: http_update --url URL [options]\n"
    "\n"
    "A device: downloads the image at URL into its NOR flash (a file) with\n"
    "fwresume, resuming from the records on flash after any kill.\n"
    "\n"
    "Image:\n"
    "  --url URL            the image; its identity is read from\n"
    "                       URL.manifest (size, sha256, block_size) and\n"
    "                       the ETag of a HEAD of URL\n"
    "  --manifest-url URL   the manifest elsewhere\n"
    "  --block-size N       block size when the manifest names none\n"
    "                       (default 4K; 1K..64K, a power of two)\n"
    "  --verify full|trusted  resume policy (default full: re-hash)\n"
    "\n"
    "Flash (SPI NOR, 4 KiB sectors, 256 B pages, byte-programmable):\n"
    "  --flash FILE         the part (default flash.img; made erased, 0xFF,\n"
    "                       when absent)\n"
    "  --flash-size N       bytes (default 1M; 64K..16M, whole sectors)\n"
    "  --state FILE         phase word, counters, lock bits (default\n"
    "                       FILE.state next to the flash)\n"
    "  --erase-us N         sector erase time, microseconds (default 45000)\n"
    "  --prog-us N          page program time, microseconds (default 700)\n"
    "  --digest-us N        final digest time per KiB (default 500)\n"
    "  --slices N           each erase / page program in N slices, the\n"
    "                       delay spread between them (default 8)\n"
    "  --tear region|bits   what a slice changes: an address range\n"
    "                       (default) or a subset of every byte's bits\n"
    "  --print-layout       print the partition and exit\n"
    "\n"
    "Network:\n"
    "  --connect-timeout-ms N  (default 5000)\n"
    "  --stall-s N          drop a transfer slower than --stall-bps for N\n"
    "                       seconds (default 10)\n"
    "  --stall-bps N        (default 64)\n"
    "  --retries N          failed attempts in a row before giving up\n"
    "                       (default 6); any byte gained resets the count\n"
    "  --backoff-ms N       first retry delay, doubled per failure\n"
    "                       (default 250)\n"
    "  --backoff-max-ms N   (default 8000)\n"
    "  --max-changes N      image changes accepted in one run (default 8)\n"
    "\n"
    "  -q, --quiet          errors only\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status:\n"
    "  0  complete: the image is on flash, its SHA-256 checked, COMPLETE\n"
    "     recorded (a run on a complete part exits 0 at once)\n"
    "  2  bad options\n"
    "  3  flash or state file unusable (cannot create, map, lock; wrong\n"
    "     size)\n"
    "  4  the server kept answering with an error status (404, 5xx, ...)\n"
    "  5  the server kept not answering (refused, reset, timeout, stall)\n"
    "  6  the manifest is bad, does not match the served image, or the\n"
    "     image does not fit the data area\n"
    "  7  the engine stopped (flash error, or the served bytes do not hash\n"
    "     to the manifest's SHA-256)\n"
    "  8  the image changed more than --max-changes times in one run\n"
    "A killed run has no status: run it again, it resumes.\n";

static int parse_size(const char *s, uint32_t *out)
{
    char *e;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &e, 10);
    if (e == s || errno)
        return -1;
    if (*e == 'K' || *e == 'k')
        v <<= 10, e++;
    else if (*e == 'M' || *e == 'm')
        v <<= 20, e++;
    if (*e || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int pow2(uint32_t v)
{
    return v && !(v & (v - 1u));
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    int i;
    memset(o, 0, sizeof(*o));
    o->flash = "flash.img";
    o->flash_size = 1u << 20;
    o->block_size = 4096;
    o->erase_us = 45000;
    o->prog_us = 700;
    o->digest_us = 500;
    o->slices = 8;
    o->connect_ms = 5000;
    o->stall_s = 10;
    o->stall_bps = 64;
    o->retries = 6;
    o->backoff_ms = 250;
    o->backoff_max_ms = 8000;
    o->max_changes = 8;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        char name[64];
        const char *eq = strchr(a, '=');
        uint32_t n = 0;
        int num = 0;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        }
        if (!strcmp(a, "--print-layout")) {
            o->print_layout = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            goto bad;
        if (eq && (size_t)(eq - a) < sizeof(name)) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            v = eq + 1;
        } else if (!eq && strlen(a) < sizeof(name) && i + 1 < argc) {
            strcpy(name, a);
            v = argv[++i];
        } else {
            goto bad;
        }
        if (!strcmp(name, "--url"))
            o->url = v;
        else if (!strcmp(name, "--manifest-url"))
            o->manifest_url = v;
        else if (!strcmp(name, "--flash"))
            o->flash = v;
        else if (!strcmp(name, "--state"))
            o->state = v;
        else if (!strcmp(name, "--tear")) {
            if (!strcmp(v, "region"))
                o->tear = NOR_TEAR_REGION;
            else if (!strcmp(v, "bits"))
                o->tear = NOR_TEAR_BITS;
            else
                goto bad;
        } else if (!strcmp(name, "--verify")) {
            if (!strcmp(v, "full"))
                o->verify = FWR_VERIFY_FULL;
            else if (!strcmp(v, "trusted"))
                o->verify = FWR_VERIFY_TRUSTED;
            else
                goto bad;
        } else {
            num = 1;
        }
        if (!num)
            continue;
        if (parse_size(v, &n))
            goto bad;
        if (!strcmp(name, "--flash-size"))
            o->flash_size = n;
        else if (!strcmp(name, "--block-size"))
            o->block_size = n;
        else if (!strcmp(name, "--erase-us"))
            o->erase_us = n;
        else if (!strcmp(name, "--prog-us"))
            o->prog_us = n;
        else if (!strcmp(name, "--digest-us"))
            o->digest_us = n;
        else if (!strcmp(name, "--slices"))
            o->slices = n;
        else if (!strcmp(name, "--connect-timeout-ms"))
            o->connect_ms = (long)n;
        else if (!strcmp(name, "--stall-s"))
            o->stall_s = (long)n;
        else if (!strcmp(name, "--stall-bps"))
            o->stall_bps = (long)n;
        else if (!strcmp(name, "--retries"))
            o->retries = n;
        else if (!strcmp(name, "--backoff-ms"))
            o->backoff_ms = n;
        else if (!strcmp(name, "--backoff-max-ms"))
            o->backoff_max_ms = n;
        else if (!strcmp(name, "--max-changes"))
            o->max_changes = n;
        else
            goto bad;
    }
    if (o->flash_size < MIN_FLASH || o->flash_size > MAX_FLASH ||
        o->flash_size % ERASE_SIZE) {
        fprintf(stderr, "http_update: --flash-size: 64K..16M in 4K sectors\n");
        return -1;
    }
    if (!pow2(o->block_size) || o->block_size < MIN_BLOCK ||
        o->block_size > MAX_BLOCK) {
        fprintf(stderr, "http_update: --block-size: 1K..64K, a power of 2\n");
        return -1;
    }
    if (o->slices < 1 || o->slices > 64) {
        fprintf(stderr, "http_update: --slices: 1..64\n");
        return -1;
    }
    if (!o->url && !o->print_layout) {
        fprintf(stderr, "http_update: --url is required (--help)\n");
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "http_update: bad option or value: %s (--help)\n", argv[i]);
    return -1;
}

/* ------------------------------------------------------------ layout */

static void layout(uint32_t flash_size, struct fwr_layout *l)
{
    uint32_t r = RECORD_COPY(flash_size);
    l->record_addr = 0;
    l->record_size = r;
    l->mirror_addr = r;
    l->data_addr = 2u * r;
    l->data_size = flash_size - 2u * r;
}

static void print_layout(const struct opts *o)
{
    struct fwr_layout l;
    layout(o->flash_size, &l);
    printf("flash        %u bytes: NOR, %u B erase unit, %u B page, "
           "program unit %u B\n",
           o->flash_size, ERASE_SIZE, PAGE_SIZE, PROG_SIZE);
    printf("record copy  0x%06x..0x%06x (%u bytes)\n", l.record_addr,
           l.record_addr + l.record_size - 1u, l.record_size);
    printf("mirror copy  0x%06x..0x%06x (%u bytes)\n", l.mirror_addr,
           l.mirror_addr + l.record_size - 1u, l.record_size);
    printf("data area    0x%06x..0x%06x (%u bytes: the largest image)\n",
           l.data_addr, l.data_addr + l.data_size - 1u, l.data_size);
}

/* ------------------------------------------------------------ digest */

static int sha_start(void *ctx)
{
    struct slow_sha *s = ctx;
    s->prev = dev_phase(s->st, PH_DIGEST);
    s->st->digest_done = 0;
    return s->inner.start(s->inner.ctx);
}

static int sha_update(void *ctx, const void *buf, uint32_t len)
{
    struct slow_sha *s = ctx;
    nor_sleep_us((uint32_t)((uint64_t)len * s->us_per_kib / 1024u));
    if (s->inner.update(s->inner.ctx, buf, len) < 0)
        return -1;
    s->st->digest_done += len;
    return 0;
}

static int sha_finish(void *ctx, uint8_t *digest)
{
    struct slow_sha *s = ctx;
    int rc = s->inner.finish(s->inner.ctx, digest);
    dev_phase(s->st, s->prev);
    return rc;
}

/* ------------------------------------------------------------ manifest */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * The manifest: lines "key value"; '#' starts a comment line. Keys: size
 * (bytes, required), sha256 (64 hex digits, required), block_size
 * (optional: 1K..64K, a power of two). Unknown keys are ignored, a key
 * given twice is an error. 0, or -1 with the reason in why.
 */
static int parse_manifest(const char *text, uint32_t default_bs,
                          struct identity *id, char *why, size_t wn)
{
    int have_size = 0, have_sha = 0, have_bs = 0;
    const char *p = text;

    id->block_size = default_bs;
    while (*p) {
        const char *line = p, *e = strchr(p, '\n'), *k, *v, *ve;
        size_t kl, vl;
        if (!e)
            e = p + strlen(p);
        p = *e ? e + 1 : e;
        while (line < e && (*line == ' ' || *line == '\t'))
            line++;
        ve = e;
        while (ve > line && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (line == ve || *line == '#')
            continue;
        k = line;
        for (v = k; v < ve && *v != ' ' && *v != '\t'; v++)
            ;
        kl = (size_t)(v - k);
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        vl = (size_t)(ve - v);
        if (kl == 4 && !strncmp(k, "size", 4)) {
            char num[16];
            uint32_t n;
            if (have_size++ || vl == 0 || vl >= sizeof(num))
                goto bad;
            memcpy(num, v, vl);
            num[vl] = 0;
            if (num[vl - 1] < '0' || num[vl - 1] > '9' || parse_size(num, &n) ||
                n == 0)
                goto bad;
            id->size = n;
        } else if (kl == 6 && !strncmp(k, "sha256", 6)) {
            size_t i;
            if (have_sha++ || vl != 64)
                goto bad;
            for (i = 0; i < 32; i++) {
                int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
                if (hi < 0 || lo < 0)
                    goto bad;
                id->sha[i] = (uint8_t)(hi << 4 | lo);
            }
        } else if (kl == 10 && !strncmp(k, "block_size", 10)) {
            char num[16];
            uint32_t n;
            if (have_bs++ || vl == 0 || vl >= sizeof(num))
                goto bad;
            memcpy(num, v, vl);
            num[vl] = 0;
            if (parse_size(num, &n) || !pow2(n) || n < MIN_BLOCK ||
                n > MAX_BLOCK)
                goto bad;
            id->block_size = n;
        }
        continue;
    bad:
        snprintf(why, wn, "manifest line \"%.*s\" is not valid",
                 (int)(ve - line < 80 ? ve - line : 80), line);
        return -1;
    }
    if (!have_size || !have_sha) {
        snprintf(why, wn, "manifest without %s",
                 !have_size ? "size" : "sha256");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ retries */

/* A failed attempt: back off and return 0 to retry, or the exit status
 * once --retries failures in a row have been spent. */
static int failed(struct dev *d, int status, const char *what)
{
    uint32_t delay, prev, i;
    d->failures++;
    if (d->failures > d->o.retries) {
        err("%s; giving up after %u attempts", what, d->failures);
        return status;
    }
    delay = d->o.backoff_ms;
    for (i = 1; i < d->failures && delay < d->o.backoff_max_ms; i++)
        delay = delay > UINT32_MAX / 2u ? UINT32_MAX : delay * 2u;
    if (delay > d->o.backoff_max_ms)
        delay = d->o.backoff_max_ms;
    say("%s; retry %u of %u in %u ms", what, d->failures, d->o.retries, delay);
    d->st->retries++;
    prev = dev_phase(d->st, PH_BACKOFF);
    nor_sleep_us(delay > UINT32_MAX / 1000u ? UINT32_MAX : delay * 1000u);
    dev_phase(d->st, prev);
    return 0;
}

static int status_of(enum fetch_rc rc)
{
    return rc == FETCH_NET ? EX_NET : EX_HTTP;
}

/* ------------------------------------------------------------ identity */

static int same_image(const struct identity *a, const struct identity *b)
{
    return a->size == b->size && a->block_size == b->block_size &&
           !memcmp(a->sha, b->sha, 32) && !strcmp(a->etag, b->etag);
}

/*
 * Read the identity: the manifest, then a HEAD of the image for its ETag
 * and Content-Length (which must be the manifest's size). prev: the
 * identity that just stopped matching (the image changed), or NULL. 0, or
 * an exit status.
 */
static int read_identity(struct dev *d, struct identity *id,
                         const struct identity *prev)
{
    static char text[4096], why[8192];
    enum fetch_rc rc;
    int st;

    for (;;) {
        memset(id, 0, sizeof(*id));
        rc = fetch_small(&d->http, d->manifest_url, text, sizeof(text));
        d->st->requests = d->requests_base + d->http.requests;
        if (rc != FETCH_OK) {
            snprintf(why, sizeof(why), "manifest %s: %s", d->manifest_url,
                     d->http.why);
            if ((st = failed(d, status_of(rc), why)))
                return st;
            continue;
        }
        if (parse_manifest(text, d->o.block_size, id, why, sizeof(why))) {
            if ((st = failed(d, EX_MANIFEST, why)))
                return st;
            continue;
        }
        rc = fetch_head(&d->http, d->o.url);
        d->st->requests = d->requests_base + d->http.requests;
        if (rc != FETCH_OK) {
            snprintf(why, sizeof(why), "image %s: %s", d->o.url, d->http.why);
            if ((st = failed(d, status_of(rc), why)))
                return st;
            continue;
        }
        snprintf(id->etag, sizeof(id->etag), "%s", d->http.etag);
        if (!d->http.have_length || d->http.length != id->size) {
            /* Mid-publication, or a wrong manifest. */
            snprintf(why, sizeof(why),
                     "image is %" PRIu64 " bytes, its manifest says %u",
                     d->http.have_length ? d->http.length : 0, id->size);
            if ((st = failed(d, EX_MANIFEST, why)))
                return st;
            continue;
        }
        if (prev && prev->size == id->size && !memcmp(prev->sha, id->sha, 32) &&
            strcmp(prev->etag, id->etag) && d->failures < d->o.retries) {
            /* A new ETag under the old manifest: the image may have been
             * replaced before its manifest. Wait a little for it; a file
             * only touched keeps its manifest, and is taken after the
             * retries. */
            snprintf(why, sizeof(why),
                     "ETag changed (%s -> %s) but the manifest did not",
                     prev->etag, id->etag);
            if ((st = failed(d, EX_MANIFEST, why)))
                return st;
            continue;
        }
        if (!id->etag[0])
            say("the server sends no ETag: no If-Range; the digest is the "
                "only check");
        d->failures = 0;
        return 0;
    }
}

/* The identity as the engine's struct fwr_image: the ETag is the version
 * (its SHA-256 when longer than the field). */
static void make_image(const struct identity *id, struct fwr_image *img)
{
    size_t n = strlen(id->etag);
    memset(img, 0, sizeof(*img));
    img->size = id->size;
    fwr_image_set_digest(img, FWR_HASH_SHA256, id->sha, 32);
    if (n <= sizeof(img->version)) {
        memcpy(img->version, id->etag, n);
        img->version_len = (uint8_t)n;
    } else {
        struct fwr_mbedtls_sha256 c;
        struct fwr_hash_ops h;
        fwr_hash_sha256(&h, &c);
        h.start(h.ctx);
        h.update(h.ctx, id->etag, (uint32_t)n);
        h.finish(h.ctx, img->version);
        img->version_len = 32;
    }
}

/* ------------------------------------------------------------ engine */

/* The name of an enum fwr_err value, for messages. */
static const char *fwr_err_name(int e)
{
    static const char *const names[] = {
        "FWR_OK",       "FWR_E_INVAL",    "FWR_E_GEOMETRY",    "FWR_E_NOSPC",
        "FWR_E_IO",     "FWR_E_PROG",     "FWR_E_ERASE",       "FWR_E_HASH",
        "FWR_E_STATE",  "FWR_E_RANGE",    "FWR_E_AGAIN",       "FWR_E_DIGEST",
        "FWR_E_LOCKED", "FWR_E_BADBLOCK", "FWR_E_DIGEST_ORDER", "FWR_E_PACKAGE"};
    return e <= 0 && -e < (int)(sizeof(names) / sizeof(names[0])) ? names[-e]
                                                                  : "?";
}

/* fwr_init + fwr_begin for d->id. 0 or an exit status. */
static int begin(struct dev *d)
{
    struct fwr_progress p;
    uint32_t prev;
    int rc;

    if (d->id.size > d->cfg.layout.data_size) {
        err("the image (%u bytes) does not fit the data area (%u bytes)",
            d->id.size, d->cfg.layout.data_size);
        return EX_MANIFEST;
    }
    make_image(&d->id, &d->img);
    d->cfg.block_size = d->id.block_size;
    d->st->block_size = d->id.block_size;
    prev = dev_phase(d->st, PH_RESUME);
    rc = fwr_init(&d->fw, &d->cfg);
    if (!rc)
        rc = fwr_begin(&d->fw, &d->img);
    dev_phase(d->st, prev);
    if (rc) {
        err("fwr_begin: %s (%d)", fwr_err_name(rc), rc);
        return EX_ENGINE;
    }
    fwr_get_progress(&d->fw, &p);
    say("image %u bytes, %u blocks of %u, ETag %s: %u blocks on flash, "
        "%u bytes wanted",
        d->id.size, p.blocks_total, d->id.block_size,
        d->id.etag[0] ? d->id.etag : "(none)", p.blocks_resumed,
        p.bytes_wanted);
    return 0;
}

/* The image changed (or may have): read the identity again and begin the
 * new one; the old records no longer count. 0 or an exit status. */
static int changed(struct dev *d, const char *why)
{
    struct identity old = d->id, now;
    int st;

    if (++d->changes > d->o.max_changes) {
        err("%s: the image changed more than %u times", why, d->o.max_changes);
        return EX_CHANGES;
    }
    say("%s: reading the identity again", why);
    if ((st = read_identity(d, &now, &old)))
        return st;
    if (same_image(&old, &now)) {
        /* Nothing changed after all (a flaky cache, say): retry. */
        d->changes--;
        return failed(d, EX_HTTP, "the identity is unchanged");
    }
    d->st->image_changes++;
    say("new image: ETag %s -> %s", old.etag[0] ? old.etag : "(none)",
        now.etag[0] ? now.etag : "(none)");
    d->id = now;
    return begin(d);
}

static int sink(void *user, const void *buf, size_t len)
{
    struct dev *d = user;
    uint32_t prev = dev_phase(d->st, PH_ENGINE);
    int rc = fwr_feed(&d->fw, buf, (uint32_t)len);
    dev_phase(d->st, prev);
    if (rc == FWR_E_AGAIN)
        return 1;
    if (rc < 0)
        return -1;
    d->st->fed_bytes += len;
    d->st->body_bytes = d->body_base + d->http.body_bytes;
    return 0;
}

/* The engine stopped: a digest that does not match may mean the manifest
 * and the image were caught mid-publication; anything else is final. */
static int engine_failed(struct dev *d)
{
    int e = fwr_last_error(&d->fw);
    if (e == FWR_E_DIGEST) {
        struct identity now;
        int st;
        say("the image does not hash to the manifest's SHA-256");
        if ((st = read_identity(d, &now, NULL)))
            return st;
        if (!same_image(&d->id, &now))
            return changed(d, "the identity differs");
    }
    err("engine stopped: %s (%d)", fwr_err_name(e), e);
    return EX_ENGINE;
}

/* Download until COMPLETE. 0 or an exit status. */
static int download(struct dev *d)
{
    uint32_t off, len, end, bs;
    uint64_t fed;
    enum fetch_rc rc;
    int st;

    while (fwr_state(&d->fw) != FWR_STATE_COMPLETE) {
        uint32_t prev = dev_phase(d->st, PH_ENGINE);
        int e = fwr_next_range(&d->fw, &off, &len);
        dev_phase(d->st, prev);
        if (e < 0) {
            if ((st = engine_failed(d)))
                return st;
            continue;
        }
        if (len == 0) {
            if (fwr_state(&d->fw) == FWR_STATE_COMPLETE)
                break;
            err("the engine wants nothing, yet is not complete");
            return EX_ENGINE;
        }
        /* At most one block per request: a kill wastes one block. */
        bs = d->id.block_size;
        end = off + len;
        if (end > off / bs * bs + bs)
            end = off / bs * bs + bs;
        d->st->range_off = off;
        d->st->range_len = end - off;
        prev = dev_phase(d->st, PH_HTTP);
        rc = fetch_range(&d->http, d->o.url, off, end - 1u, d->id.size,
                         d->id.etag, sink, d, &fed);
        dev_phase(d->st, prev);
        d->st->requests = d->requests_base + d->http.requests;
        d->st->body_bytes = d->body_base + d->http.body_bytes;
        if (fed > 0)
            d->failures = 0; /* progress: the retry budget is whole again */
        switch (rc) {
        case FETCH_OK:
        case FETCH_AGAIN:
            break;
        case FETCH_CHANGED:
            if ((st = changed(d, d->http.why)))
                return st;
            break;
        case FETCH_SINK:
            if ((st = engine_failed(d)))
                return st;
            break;
        case FETCH_HTTP:
        case FETCH_NET: {
            char why[sizeof(d->http.why) + 64];
            snprintf(why, sizeof(why), "bytes %u-%u: %s", off, end - 1u,
                     d->http.why);
            if ((st = failed(d, status_of(rc), why)))
                return st;
            break;
        }
        }
    }
    return 0;
}

/* ------------------------------------------------------------ main */

static int run(struct dev *d)
{
    struct fetch_opts fo;
    struct fwr_progress p;
    int st;

    memset(&fo, 0, sizeof(fo));
    fo.connect_timeout_ms = d->o.connect_ms;
    fo.stall_bps = d->o.stall_bps;
    fo.stall_s = d->o.stall_s;
    fo.boot = d->st->boots;
    if (fetch_init(&d->http, &fo)) {
        err("libcurl could not be set up");
        return EX_LOCAL;
    }
    if ((st = read_identity(d, &d->id, NULL)) || (st = begin(d)) ||
        (st = download(d)))
        return st;
    fwr_get_progress(&d->fw, &p);
    say("complete: %u bytes, %u blocks (%u found on flash at boot, %u "
        "downloaded again after a resume), %u requests, %" PRIu64
        " body bytes this run",
        d->id.size, p.blocks_total, p.blocks_resumed, p.blocks_rewritten,
        d->http.requests, d->http.body_bytes);
    return EX_COMPLETE;
}

int main(int argc, char **argv)
{
    static struct dev d;
    char *state_path = NULL;
    int status;

    if (parse_opts(argc, argv, &d.o))
        return EX_USAGE;
    quiet = d.o.quiet;
    if (d.o.print_layout) {
        print_layout(&d.o);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    if (d.o.manifest_url)
        snprintf(d.manifest_url, sizeof(d.manifest_url), "%s",
                 d.o.manifest_url);
    else
        snprintf(d.manifest_url, sizeof(d.manifest_url), "%s.manifest",
                 d.o.url);
    if (!d.o.state) {
        size_t n = strlen(d.o.flash) + 7;
        state_path = malloc(n);
        if (!state_path)
            return EX_LOCAL;
        snprintf(state_path, n, "%s.state", d.o.flash);
        d.o.state = state_path;
    }

    d.st = dev_state_open(&d.stmap, d.o.state);
    if (!d.st) {
        free(state_path);
        return EX_LOCAL;
    }
    if (norfile_open(&d.nor, d.o.flash, d.o.flash_size, ERASE_SIZE, PAGE_SIZE,
                     d.st)) {
        mapfile_close(&d.stmap);
        free(state_path);
        return EX_LOCAL;
    }
    /* The phase first, then the pid: a reader that sees this run's pid
     * sees this run's phase. */
    dev_phase(d.st, PH_BOOT);
    d.st->boots++;
    d.body_base = d.st->body_bytes;
    d.requests_base = d.st->requests;
    d.st->exit_status = DEV_RUNNING;
    d.st->pid = (uint32_t)getpid();

    /* The device: geometry, partition, timing. */
    memset(&d.cfg, 0, sizeof(d.cfg));
    norfile_ops(&d.nor, &d.cfg.flash);
    d.cfg.geometry.prog_size = PROG_SIZE;
    d.cfg.geometry.erase_size = ERASE_SIZE;
    d.cfg.geometry.erased_value = 0xFF;
    d.cfg.geometry.kind = FWR_FLASH_NOR;
    layout(d.o.flash_size, &d.cfg.layout);
    d.cfg.write_size = WRITE_SIZE;
    d.cfg.verify = (uint8_t)d.o.verify;
    d.cfg.work = work;
    d.cfg.work_size = sizeof(work);
    fwr_hash_sha256(&d.sha.inner, &d.sha.sha);
    d.sha.st = d.st;
    d.sha.us_per_kib = d.o.digest_us;
    d.ih = d.sha.inner;
    d.ih.ctx = &d.sha;
    d.ih.start = sha_start;
    d.ih.update = sha_update;
    d.ih.finish = sha_finish;
    d.cfg.image_hash = &d.ih; /* block hash: the built-in CRC-32 */

    d.nor.data_addr = d.cfg.layout.data_addr;
    d.nor.commit_size = FWR_COMMIT_SIZE(PROG_SIZE);
    d.nor.erase_us = d.o.erase_us;
    d.nor.prog_us = d.o.prog_us;
    d.nor.slices = d.o.slices;
    d.nor.tear = (uint8_t)d.o.tear;
    d.st->flash_size = d.o.flash_size;
    d.st->erase_size = ERASE_SIZE;
    d.st->page_size = PAGE_SIZE;
    d.st->record_addr = d.cfg.layout.record_addr;
    d.st->record_size = d.cfg.layout.record_size;
    d.st->mirror_addr = d.cfg.layout.mirror_addr;
    d.st->data_addr = d.cfg.layout.data_addr;
    d.st->data_size = d.cfg.layout.data_size;
    d.st->slices = d.o.slices;
    d.st->erase_us = d.o.erase_us;
    d.st->prog_us = d.o.prog_us;
    d.st->digest_us = d.o.digest_us;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        err("libcurl could not be set up");
        status = EX_LOCAL;
    } else {
        status = run(&d);
        fetch_free(&d.http);
        curl_global_cleanup();
    }
    if (status == EX_COMPLETE) {
        d.st->completes++;
        dev_phase(d.st, PH_DONE);
    } else {
        dev_phase(d.st, PH_OFF);
    }
    d.st->exit_status = (uint32_t)status;
    norfile_close(&d.nor);
    mapfile_close(&d.stmap);
    free(state_path);
    return status;
}
