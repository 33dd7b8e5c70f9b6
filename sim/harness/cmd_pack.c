/*
 * fotasim pack and fotasim inspect: packaged updates from the command
 * line (docs/package-format.md). A build pipeline uses these as they
 * are, so bad input is a message naming the file and what is wrong and
 * exit 2, and a package is written whole or not at all (a temporary file
 * in the output's directory, renamed into place).
 */
#define _POSIX_C_SOURCE 200809L
#include "cmd_pack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pack.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2

/* The whole file at path in *buf (malloc'd). 0, or -1 with a message. */
static int slurp(const char *cmd, const char *what, const char *path,
                 uint8_t **buf, uint32_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    *buf = NULL;
    if (!f) {
        fprintf(stderr, "fotasim %s: %s %s: %s\n", cmd, what, path,
                strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
        n > 0xFFFFFFF0L) {
        fprintf(stderr, "fotasim %s: %s %s: cannot size it (or over 4 GiB)\n",
                cmd, what, path);
        fclose(f);
        return -1;
    }
    *buf = malloc(n ? (size_t)n : 1);
    if (!*buf || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "fotasim %s: %s %s: read failed\n", cmd, what, path);
        free(*buf);
        *buf = NULL;
        fclose(f);
        return -1;
    }
    fclose(f);
    *len = (uint32_t)n;
    return 0;
}

/* A size: bytes, or with K or M (powers of 1024). */
static int size_arg(const char *cmd, const char *opt, const char *v,
                    uint32_t *out)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (end == v)
        goto bad;
    if (*end == 'K' || *end == 'k')
        n <<= 10, end++;
    else if (*end == 'M' || *end == 'm')
        n <<= 20, end++;
    if (*end || n > 0xFFFFFFFFul)
        goto bad;
    *out = (uint32_t)n;
    return 0;
bad:
    fprintf(stderr, "fotasim %s: %s '%s': a size (bytes, K or M) expected\n",
            cmd, opt, v);
    return -1;
}

static int hex_arg(const char *cmd, const char *opt, const char *v,
                   uint8_t *out, size_t n)
{
    size_t i;
    if (strlen(v) != 2 * n)
        goto bad;
    for (i = 0; i < n; i++) {
        unsigned b;
        if (sscanf(v + 2 * i, "%2x", &b) != 1)
            goto bad;
        out[i] = (uint8_t)b;
    }
    return 0;
bad:
    fprintf(stderr, "fotasim %s: %s '%s': %zu hex digits expected\n", cmd, opt,
            v, 2 * n);
    return -1;
}

/* Write buf to path whole: a temporary file beside it, synced, renamed. */
static int write_whole(const char *path, const uint8_t *buf, uint32_t len)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    FILE *f;
    int fd, ok;
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp-XXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0) {
        fprintf(stderr, "fotasim pack: %s: %s\n", path, strerror(errno));
        free(tmp);
        return -1;
    }
    f = fdopen(fd, "wb");
    ok = f && fwrite(buf, 1, len, f) == len && !fflush(f) && !fsync(fileno(f));
    if (f ? fclose(f) : close(fd))
        ok = 0;
    if (!ok || rename(tmp, path)) {
        fprintf(stderr, "fotasim pack: %s: %s (nothing written)\n", path,
                strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

static int pack_usage(FILE *to)
{
    fprintf(to,
            "usage: fotasim pack FIRMWARE.bin -o PACKAGE [options]\n\n"
            "Build a package (docs/package-format.md): each block transformed "
            "on its own,\nso that a device resumes it block by block.\n\n"
            "  -o FILE               the package (written whole, or not at "
            "all)\n"
            "  --block-size N        256 to 1M, a power of two (default 4K)\n"
            "  --compress lz4        LZ4 per block (high-compression mode)\n"
            "  --encrypt-key FILE    AES-CTR with the raw key in FILE (16 or "
            "32 bytes); needs --sign-key\n"
            "  --sign-key FILE       ECDSA P-256 private key (PEM): sign "
            "header and manifest\n"
            "  --delta-from OLD.bin  LZ4 with the old image as dictionary "
            "(implies --compress lz4)\n"
            "  --window N            the delta's dictionary, 4K to 64K "
            "(default 16K)\n"
            "  --nonce HEX           the AES nonce (16 hex digits) for "
            "reproducible test vectors\n"
            "                        only: never twice with one key "
            "(default: random)\n\n"
            "Prints the package's size and its ratio to the firmware.\n\n"
            "Exit status: 0 written; 2 bad input (missing file, key of the "
            "wrong size,\nempty image, impossible option), nothing written.\n");
    return to == stderr ? EXIT_USAGE : 0;
}

int cmd_pack(int argc, char **argv)
{
    const char *fw_path = NULL, *out_path = NULL, *key_path = NULL,
               *old_path = NULL;
    struct pack_opts o;
    uint8_t *fw = NULL, *key = NULL, *old = NULL, *pkg = NULL, nonce[8];
    uint32_t fw_len = 0, key_len = 0, old_len = 0, pkg_len = 0;
    char err[256];
    int i, rc = EXIT_USAGE;

    memset(&o, 0, sizeof(o));
    o.block_size = 4096;
    o.window = 16384;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return pack_usage(stdout);
        if (a[0] != '-') {
            if (fw_path) {
                fprintf(stderr, "fotasim pack: one FIRMWARE, not '%s' too\n",
                        a);
                return EXIT_USAGE;
            }
            fw_path = a;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "fotasim pack: %s needs a value\n", a);
            return EXIT_USAGE;
        }
        if (!strcmp(a, "-o"))
            out_path = argv[++i];
        else if (!strcmp(a, "--block-size")) {
            if (size_arg("pack", a, argv[++i], &o.block_size))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--window")) {
            if (size_arg("pack", a, argv[++i], &o.window))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--compress")) {
            if (strcmp(argv[++i], "lz4")) {
                fprintf(stderr,
                        "fotasim pack: --compress '%s': lz4 is the one "
                        "compression\n",
                        argv[i]);
                return EXIT_USAGE;
            }
            o.compress = 1;
        } else if (!strcmp(a, "--encrypt-key"))
            key_path = argv[++i];
        else if (!strcmp(a, "--sign-key"))
            o.sign_key = argv[++i];
        else if (!strcmp(a, "--delta-from"))
            old_path = argv[++i];
        else if (!strcmp(a, "--nonce")) {
            if (hex_arg("pack", a, argv[++i], nonce, 8))
                return EXIT_USAGE;
            o.nonce = nonce;
        } else {
            fprintf(stderr, "fotasim pack: unknown option %s\n", a);
            return pack_usage(stderr);
        }
    }
    if (!fw_path || !out_path) {
        fprintf(stderr, "fotasim pack: FIRMWARE and -o PACKAGE are needed\n");
        return pack_usage(stderr);
    }
    if (slurp("pack", "firmware", fw_path, &fw, &fw_len) ||
        (key_path && slurp("pack", "key", key_path, &key, &key_len)) ||
        (old_path && slurp("pack", "old image", old_path, &old, &old_len)))
        goto out;
    if (o.sign_key && access(o.sign_key, R_OK)) {
        fprintf(stderr, "fotasim pack: signing key %s: %s\n", o.sign_key,
                strerror(errno));
        goto out;
    }
    if (!fw_len) {
        fprintf(stderr, "fotasim pack: firmware %s is empty\n", fw_path);
        goto out;
    }
    if (key && key_len != 16 && key_len != 32) {
        fprintf(stderr,
                "fotasim pack: key %s is %u bytes: 16 (AES-128) or 32 "
                "(AES-256) raw bytes expected\n",
                key_path, (unsigned)key_len);
        goto out;
    }
    if (old && !old_len) {
        fprintf(stderr, "fotasim pack: old image %s is empty\n", old_path);
        goto out;
    }
    o.key = key;
    o.key_len = key_len;
    o.old = old;
    o.old_len = old_len;
    if (pack_build(fw, fw_len, &o, &pkg, &pkg_len, err, sizeof(err))) {
        fprintf(stderr, "fotasim pack: %s\n", err);
        goto out;
    }
    if (write_whole(out_path, pkg, pkg_len))
        goto out;
    printf("%s: %u bytes for %u bytes of firmware (%.1f %%), %u blocks of "
           "%u%s%s%s%s\n",
           out_path, (unsigned)pkg_len, (unsigned)fw_len,
           100.0 * pkg_len / fw_len,
           (unsigned)((fw_len - 1) / o.block_size + 1), (unsigned)o.block_size,
           (o.compress || old) ? ", lz4" : "", old ? ", delta" : "",
           key ? ", aes-ctr" : "", o.sign_key ? ", signed" : "");
    rc = 0;
out:
    free(fw);
    free(key);
    free(old);
    free(pkg);
    return rc;
}

static int inspect_usage(FILE *to)
{
    fprintf(to,
            "usage: fotasim inspect PACKAGE [options]\n\n"
            "Check a package (docs/package-format.md) and print its header, "
            "manifest summary,\nratio per block and signature status.\n\n"
            "  --verify-key FILE   ECDSA P-256 public key (PEM): check the "
            "signature\n"
            "  --decrypt-key FILE  the AES key: decode every block\n"
            "  --old OLD.bin       the delta's base: checked against the "
            "manifest, then used\n"
            "  --blocks            one line per block\n\n"
            "Every block is decoded and its SHA-256 checked when nothing it "
            "needs is missing.\n\n"
            "Exit status: 0 well formed (and, when checked, signature valid "
            "and every block\nmatching); 1 a signature that does not verify, "
            "a block that decodes to other\nbytes, or an old image that is "
            "not the base; 2 bad input: a malformed package\n(named field), "
            "a missing file or a key that cannot be used.\n");
    return to == stderr ? EXIT_USAGE : 0;
}

int cmd_inspect(int argc, char **argv)
{
    const char *path = NULL, *pub = NULL, *key_path = NULL, *old_path = NULL;
    uint8_t *pkg = NULL, *key = NULL, *old = NULL, *plain = NULL, h[32];
    uint32_t size = 0, key_len = 0, old_len = 0, i, bad = 0, checked = 0;
    uint64_t stored = 0;
    struct pack_view v;
    int blocks = 0, rc = EXIT_USAGE, r;
    char err[256];

    for (i = 0; i < (uint32_t)argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return inspect_usage(stdout);
        if (!strcmp(a, "--blocks")) {
            blocks = 1;
            continue;
        }
        if (a[0] != '-') {
            if (path) {
                fprintf(stderr, "fotasim inspect: one PACKAGE, not '%s' too\n",
                        a);
                return EXIT_USAGE;
            }
            path = a;
            continue;
        }
        if (i + 1 >= (uint32_t)argc) {
            fprintf(stderr, "fotasim inspect: %s needs a value\n", a);
            return EXIT_USAGE;
        }
        if (!strcmp(a, "--verify-key"))
            pub = argv[++i];
        else if (!strcmp(a, "--decrypt-key"))
            key_path = argv[++i];
        else if (!strcmp(a, "--old"))
            old_path = argv[++i];
        else {
            fprintf(stderr, "fotasim inspect: unknown option %s\n", a);
            return inspect_usage(stderr);
        }
    }
    if (!path)
        return inspect_usage(stderr);
    if (slurp("inspect", "package", path, &pkg, &size) ||
        (key_path && slurp("inspect", "key", key_path, &key, &key_len)) ||
        (old_path && slurp("inspect", "old image", old_path, &old, &old_len)))
        goto out;
    if (pack_open(&v, pkg, size, err, sizeof(err))) {
        fprintf(stderr, "fotasim inspect: %s: %s\n", path, err);
        goto out;
    }
    printf("%s: fwresume package, format %u, %u bytes\n", path,
           (unsigned)FWR_PKG_VERSION, (unsigned)size);
    printf("  image      %u bytes in %u blocks of %u\n",
           (unsigned)v.h.image_size, (unsigned)v.h.nblocks,
           (unsigned)v.h.block_size);
    printf("  transform  %s%s%s%s\n",
           (v.h.flags & FWR_PKG_LZ4) ? "lz4" : "none",
           (v.h.flags & FWR_PKG_DELTA) ? " delta" : "",
           (v.h.flags & FWR_PKG_AES)
               ? (v.h.key_size == 32 ? " aes-256-ctr" : " aes-128-ctr")
               : "",
           (v.h.flags & FWR_PKG_SIGNED) ? " signed" : "");
    if (v.h.flags & FWR_PKG_DELTA)
        printf("  delta      base of %u bytes, window %u\n",
               (unsigned)(v.manifest[32] | v.manifest[33] << 8 |
                          v.manifest[34] << 16 |
                          (uint32_t)v.manifest[35] << 24),
               (unsigned)v.h.window);
    printf("  manifest   %u bytes; block data from offset %u\n",
           (unsigned)v.h.manifest_size, (unsigned)pack_data_offset(&v));
    rc = 0;
    if (old) {
        if (pack_sha256(old, old_len, h) || memcmp(h, v.manifest + 36, 32) ||
            old_len != (uint32_t)(v.manifest[32] | v.manifest[33] << 8 |
                                  v.manifest[34] << 16 |
                                  (uint32_t)v.manifest[35] << 24)) {
            printf("  base       %s is NOT the package's base: no block "
                   "decoded\n",
                   old_path);
            rc = EXIT_FAILED;
            free(old);
            old = NULL;
        } else {
            printf("  base       %s matches\n", old_path);
        }
    }
    if (!(v.h.flags & FWR_PKG_SIGNED))
        printf("  signature  none\n");
    else if (!pub)
        printf("  signature  present, not checked (no --verify-key)\n");
    else if ((r = pack_verify(&v, pub, err, sizeof(err))) < 0) {
        fprintf(stderr, "fotasim inspect: %s\n", err);
        rc = EXIT_USAGE;
        goto out;
    } else {
        printf("  signature  %s\n", r ? "valid" : "INVALID");
        if (!r)
            rc = EXIT_FAILED;
    }
    plain = malloc(v.h.block_size);
    if (!plain) {
        rc = EXIT_USAGE;
        goto out;
    }
    for (i = 0; i < v.h.nblocks; i++) {
        uint32_t e_offset, e_length;
        int can = !((v.h.flags & FWR_PKG_AES) && !key) &&
                  !((v.h.flags & FWR_PKG_DELTA) && !old);
        pack_entry(&v, i, &e_offset, &e_length);
        stored += e_length;
        r = can ? pack_block(&v, i, key, key_len, old, old_len, plain, err,
                             sizeof(err))
                : 2;
        if (r == 0 || r == 1)
            checked++;
        if (r == 1 || r < 0)
            bad++;
        if (blocks || r == 1 || r < 0)
            printf("  block %-5u offset %-9u %7u -> %7u bytes  %5.1f %%  %s\n",
                   (unsigned)i, (unsigned)e_offset, (unsigned)e_length,
                   (unsigned)pack_block_len(&v, i),
                   100.0 * e_length / pack_block_len(&v, i),
                   r == 0   ? "ok"
                   : r == 1 ? "DECODES TO OTHER BYTES"
                   : r == 2 ? "not decoded (key or base missing)"
                            : err);
    }
    printf("  blocks     %llu stored bytes for %u (%.1f %%); %u of %u "
           "decoded and checked, %u wrong\n",
           (unsigned long long)stored, (unsigned)v.h.image_size,
           100.0 * (double)stored / v.h.image_size, (unsigned)checked,
           (unsigned)v.h.nblocks, (unsigned)bad);
    if (bad)
        rc = EXIT_FAILED;
out:
    free(pkg);
    free(key);
    free(old);
    free(plain);
    return rc;
}
