/* Building and reading packages: docs/package-format.md. */
#define _DEFAULT_SOURCE
#include "pack.h"

#include <lz4.h>
#include <lz4hc.h>
#include <mbedtls/aes.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fwr_lz4.h"

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

int pack_sha256(const uint8_t *buf, uint32_t n, uint8_t out[32])
{
    return mbedtls_sha256_ret(buf, n, out, 0) ? -1 : 0;
}

void pack_window(uint32_t i, uint32_t block_size, uint32_t window,
                 uint32_t old_len, uint32_t *from, uint32_t *len)
{
    uint64_t end = (uint64_t)i * block_size + block_size + window / 2u;
    if (end > old_len)
        end = old_len;
    *from = end > window ? (uint32_t)end - window : 0;
    *len = (uint32_t)end - *from;
}

/* AES-CTR over one block's stored bytes, in place; the counter block is
 * nonce || i || 0 (section 4). */
static int aes_ctr(const uint8_t *key, uint32_t key_len, const uint8_t *nonce,
                   uint32_t i, uint8_t *buf, uint32_t n)
{
    mbedtls_aes_context aes;
    uint8_t ctr[16], stream[16];
    size_t off = 0;
    int rc;

    memcpy(ctr, nonce, 8);
    ctr[8] = (uint8_t)(i >> 24);
    ctr[9] = (uint8_t)(i >> 16);
    ctr[10] = (uint8_t)(i >> 8);
    ctr[11] = (uint8_t)i;
    memset(ctr + 12, 0, 4);
    mbedtls_aes_init(&aes);
    rc = mbedtls_aes_setkey_enc(&aes, key, key_len * 8u) ||
         mbedtls_aes_crypt_ctr(&aes, n, &off, ctr, stream, buf, buf);
    mbedtls_aes_free(&aes);
    return rc ? -1 : 0;
}

static int rng(void *ctx, unsigned char *out, size_t n)
{
    (void)ctx;
    while (n) {
        ssize_t k = getrandom(out, n, 0);
        if (k <= 0)
            return -1;
        out += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ECDSA P-256 over SHA-256(head[0, n)) with the PEM private key at path,
 * r || s into sig. */
static int sign(const char *path, const uint8_t *head, uint32_t n,
                uint8_t sig[64], char *err, size_t errlen)
{
    mbedtls_pk_context pk;
    mbedtls_mpi r, s;
    uint8_t hash[32];
    int rc = -1, e;

    mbedtls_pk_init(&pk);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if ((e = mbedtls_pk_parse_keyfile(&pk, path, NULL))) {
        snprintf(err, errlen,
                 "%s: not a readable PEM or DER private key (mbedTLS -0x%04x)",
                 path, (unsigned)-e);
    } else if (!mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECKEY) ||
               mbedtls_pk_ec(pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        snprintf(err, errlen,
                 "%s: not an ECDSA P-256 (secp256r1) key: packages are "
                 "signed with P-256 only",
                 path);
    } else if (pack_sha256(head, n, hash) ||
               mbedtls_ecdsa_sign_det_ext(&mbedtls_pk_ec(pk)->grp, &r, &s,
                                          &mbedtls_pk_ec(pk)->d, hash, 32,
                                          MBEDTLS_MD_SHA256, rng, NULL) ||
               mbedtls_mpi_write_binary(&r, sig, 32) ||
               mbedtls_mpi_write_binary(&s, sig + 32, 32)) {
        snprintf(err, errlen, "%s: signing failed", path);
    } else {
        rc = 0;
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_pk_free(&pk);
    return rc;
}

int pack_build(const uint8_t *fw, uint32_t len, const struct pack_opts *o,
               uint8_t **out, uint32_t *out_len, char *err, size_t errlen)
{
    uint32_t bs = o->block_size, n, m, sig, head, cap, at, i, flags = 0;
    uint8_t *pkg = NULL, nonce[8];
    LZ4_streamHC_t *hc = NULL;
    uint64_t bound;

    *out = NULL;
    if (!len) {
        snprintf(err, errlen, "the firmware image is empty");
        return -1;
    }
    if (bs < FWR_PKG_MIN_BLOCK || bs > FWR_PKG_MAX_BLOCK || (bs & (bs - 1u))) {
        snprintf(err, errlen,
                 "block size %u: a power of two from 256 B to 1 MiB expected",
                 (unsigned)bs);
        return -1;
    }
    if (o->key && o->key_len != 16 && o->key_len != 32) {
        snprintf(err, errlen,
                 "the AES key is %u bytes: 16 (AES-128) or 32 (AES-256) "
                 "expected",
                 (unsigned)o->key_len);
        return -1;
    }
    if (o->key && !o->sign_key) {
        snprintf(err, errlen,
                 "an encrypted package must be signed (--sign-key): AES-CTR "
                 "alone lets anyone flip plaintext bits");
        return -1;
    }
    if (o->old && (o->window < 4096 || o->window > 65536 ||
                   (o->window & (o->window - 1u)))) {
        snprintf(err, errlen,
                 "delta window %u: a power of two from 4 KiB to 64 KiB "
                 "expected (LZ4 matches reach 64 KiB back)",
                 (unsigned)o->window);
        return -1;
    }
    if (o->old && !o->old_len) {
        snprintf(err, errlen, "the old image is empty");
        return -1;
    }
    n = (len - 1u) / bs + 1u;
    m = FWR_PKG_MANIFEST_FIXED + FWR_PKG_ENTRY_SIZE * n;
    sig = o->sign_key ? FWR_PKG_SIG_SIZE : 0;
    head = FWR_PKG_HEADER_SIZE + m + sig;
    bound = (uint64_t)head +
            (o->compress || o->old ? (uint64_t)n * FWR_PKG_LZ4_BOUND(bs) : len);
    if (bound > 0xFFFFFFFFu) {
        snprintf(err, errlen, "the package would pass 4 GiB");
        return -1;
    }
    cap = (uint32_t)bound;
    if (!(pkg = calloc(1, cap)) ||
        ((o->compress || o->old) && !(hc = LZ4_createStreamHC()))) {
        free(pkg);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (o->compress || o->old)
        flags |= FWR_PKG_LZ4;
    if (o->old)
        flags |= FWR_PKG_DELTA;
    if (o->key)
        flags |= FWR_PKG_AES;
    if (o->sign_key)
        flags |= FWR_PKG_SIGNED;
    if (o->nonce)
        memcpy(nonce, o->nonce, 8);
    else if (rng(NULL, nonce, 8)) {
        snprintf(err, errlen, "no random bytes for the nonce");
        goto fail;
    }

    /* The blocks, each on its own. */
    at = head;
    for (i = 0; i < n; i++) {
        const uint8_t *plain = fw + (size_t)i * bs;
        uint32_t pl = len - i * bs < bs ? len - i * bs : bs, stored;
        uint8_t *e = pkg + FWR_PKG_HEADER_SIZE + FWR_PKG_MANIFEST_FIXED +
                     FWR_PKG_ENTRY_SIZE * i;
        if (flags & FWR_PKG_LZ4) {
            int c;
            LZ4_resetStreamHC_fast(hc, LZ4HC_CLEVEL_MAX);
            if (o->old) {
                uint32_t from, wl;
                pack_window(i, bs, o->window, o->old_len, &from, &wl);
                if (wl)
                    LZ4_loadDictHC(hc, (const char *)o->old + from, (int)wl);
            }
            c = LZ4_compress_HC_continue(hc, (const char *)plain,
                                         (char *)pkg + at, (int)pl,
                                         (int)FWR_PKG_LZ4_BOUND(pl));
            if (c <= 0) {
                snprintf(err, errlen, "LZ4 failed on block %u", (unsigned)i);
                goto fail;
            }
            stored = (uint32_t)c;
        } else {
            memcpy(pkg + at, plain, pl);
            stored = pl;
        }
        if (o->key && aes_ctr(o->key, o->key_len, nonce, i, pkg + at, stored)) {
            snprintf(err, errlen, "AES-CTR failed on block %u", (unsigned)i);
            goto fail;
        }
        put32(e, at);
        put32(e + 4, stored);
        if (pack_sha256(plain, pl, e + 8)) {
            snprintf(err, errlen, "SHA-256 failed");
            goto fail;
        }
        at += stored;
    }

    /* Manifest's fixed part, then the header, then the signature over
     * both. */
    if (pack_sha256(fw, len, pkg + FWR_PKG_HEADER_SIZE) ||
        (o->old &&
         pack_sha256(o->old, o->old_len, pkg + FWR_PKG_HEADER_SIZE + 36))) {
        snprintf(err, errlen, "SHA-256 failed");
        goto fail;
    }
    if (o->old)
        put32(pkg + FWR_PKG_HEADER_SIZE + 32, o->old_len);
    put32(pkg, FWR_PKG_MAGIC);
    put16(pkg + 4, FWR_PKG_VERSION);
    put16(pkg + 6, FWR_PKG_HEADER_SIZE);
    put32(pkg + 8, len);
    put32(pkg + 12, bs);
    put32(pkg + 16, n);
    put32(pkg + 20, flags);
    put32(pkg + 24, m);
    put16(pkg + 28, sig);
    pkg[30] = (uint8_t)(o->key ? o->key_len : 0);
    put32(pkg + 32, o->old ? o->window : 0);
    memcpy(pkg + 36, nonce, 8);
    put32(pkg + 60, fwr_crc32(0, pkg, 60));
    if (o->sign_key && sign(o->sign_key, pkg, FWR_PKG_HEADER_SIZE + m,
                            pkg + FWR_PKG_HEADER_SIZE + m, err, errlen))
        goto fail;
    LZ4_freeStreamHC(hc);
    *out = pkg;
    *out_len = at;
    return 0;
fail:
    LZ4_freeStreamHC(hc);
    free(pkg);
    return -1;
}

/* ------------------------------------------------------------ reading */

static const char *header_field(uint32_t off)
{
    static const struct {
        uint32_t off;
        const char *name;
    } f[] = {{0, "magic"},
             {4, "format version"},
             {6, "header size"},
             {8, "image size"},
             {12, "block size"},
             {16, "block count"},
             {20, "transform flags"},
             {24, "manifest size"},
             {28, "signature size"},
             {30, "key size"},
             {31, "reserved byte"},
             {32, "delta window"},
             {44, "reserved bytes"},
             {60, "header CRC-32"}};
    size_t i;
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (f[i].off == off)
            return f[i].name;
    return "header";
}

int pack_open(struct pack_view *v, const uint8_t *pkg, uint32_t size, char *err,
              size_t errlen)
{
    uint32_t off;
    memset(v, 0, sizeof(*v));
    v->pkg = pkg;
    v->size = size;
    if (fwr_pkg_parse_header(pkg, size, &v->h)) {
        off = v->h.bad_offset;
        if (off >= size)
            snprintf(
                err, errlen,
                "truncated: %u bytes, a package header is 64 (FWR_E_PACKAGE)",
                (unsigned)size);
        else
            snprintf(err, errlen,
                     "header, offset %u (%s): breaks docs/package-format.md "
                     "section 2 (FWR_E_PACKAGE)",
                     (unsigned)off, header_field(off));
        return -1;
    }
    if (size < fwr_pkg_data_offset(&v->h)) {
        snprintf(err, errlen,
                 "truncated: %u bytes, the header, manifest and signature "
                 "take %u (FWR_E_PACKAGE)",
                 (unsigned)size, (unsigned)fwr_pkg_data_offset(&v->h));
        return -1;
    }
    v->manifest = pkg + FWR_PKG_HEADER_SIZE;
    if (fwr_pkg_check_manifest(&v->h, v->manifest, size)) {
        off = v->h.bad_offset;
        if (off == size)
            snprintf(err, errlen,
                     "the manifest's blocks do not end at the package's end "
                     "(%u bytes: truncated or padded) (FWR_E_PACKAGE)",
                     (unsigned)size);
        else if (off < FWR_PKG_HEADER_SIZE + FWR_PKG_MANIFEST_FIXED)
            snprintf(err, errlen,
                     "manifest, offset %u (old image %s): names a delta base "
                     "the header does not, or none it does (FWR_E_PACKAGE)",
                     (unsigned)off, off == 96 ? "size" : "SHA-256");
        else {
            uint32_t e = off - FWR_PKG_HEADER_SIZE - FWR_PKG_MANIFEST_FIXED;
            snprintf(err, errlen,
                     "manifest entry %u, offset %u (%s): %s (FWR_E_PACKAGE)",
                     (unsigned)(e / FWR_PKG_ENTRY_SIZE), (unsigned)off,
                     e % FWR_PKG_ENTRY_SIZE ? "stored length" : "block offset",
                     e % FWR_PKG_ENTRY_SIZE
                         ? "0, past its bound, or past 4 GiB"
                         : "not where the previous block ends");
        }
        return -1;
    }
    return 0;
}

int pack_verify(const struct pack_view *v, const char *pubkey_path, char *err,
                size_t errlen)
{
    mbedtls_pk_context pk;
    mbedtls_mpi r, s;
    uint8_t hash[32];
    const uint8_t *sig;
    int rc = -1, e;

    if (!(v->h.flags & FWR_PKG_SIGNED)) {
        snprintf(err, errlen, "the package is not signed");
        return 0;
    }
    sig = v->pkg + FWR_PKG_HEADER_SIZE + v->h.manifest_size;
    mbedtls_pk_init(&pk);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if ((e = mbedtls_pk_parse_public_keyfile(&pk, pubkey_path))) {
        snprintf(err, errlen,
                 "%s: not a readable PEM or DER public key (mbedTLS -0x%04x)",
                 pubkey_path, (unsigned)-e);
    } else if (!mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECKEY) ||
               mbedtls_pk_ec(pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        snprintf(err, errlen, "%s: not an ECDSA P-256 public key", pubkey_path);
    } else if (pack_sha256(v->pkg, FWR_PKG_HEADER_SIZE + v->h.manifest_size,
                           hash) ||
               mbedtls_mpi_read_binary(&r, sig, 32) ||
               mbedtls_mpi_read_binary(&s, sig + 32, 32)) {
        snprintf(err, errlen, "cannot read the signature");
    } else {
        rc = !mbedtls_ecdsa_verify(&mbedtls_pk_ec(pk)->grp, hash, 32,
                                   &mbedtls_pk_ec(pk)->Q, &r, &s);
        if (!rc)
            snprintf(err, errlen, "the signature does not verify");
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_pk_free(&pk);
    return rc;
}

int pack_public_point(const char *path, uint8_t out[65], char *err,
                      size_t errlen)
{
    mbedtls_pk_context pk;
    size_t olen = 0;
    int rc = -1, e;

    mbedtls_pk_init(&pk);
    if ((e = mbedtls_pk_parse_public_keyfile(&pk, path))) {
        snprintf(err, errlen,
                 "%s: not a readable PEM or DER public key (mbedTLS -0x%04x)",
                 path, (unsigned)-e);
    } else if (!mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECKEY) ||
               mbedtls_pk_ec(pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        snprintf(err, errlen, "%s: not an ECDSA P-256 public key", path);
    } else if (mbedtls_ecp_point_write_binary(
                   &mbedtls_pk_ec(pk)->grp, &mbedtls_pk_ec(pk)->Q,
                   MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, out, 65) ||
               olen != 65) {
        snprintf(err, errlen, "%s: cannot write the point", path);
    } else {
        rc = 0;
    }
    mbedtls_pk_free(&pk);
    return rc;
}

int pack_block(const struct pack_view *v, uint32_t i, const uint8_t *key,
               uint32_t key_len, const uint8_t *old, uint32_t old_len,
               uint8_t *out, char *err, size_t errlen)
{
    struct fwr_pkg_entry e;
    uint32_t pl = fwr_pkg_block_len(&v->h, i), from = 0, wl = 0;
    uint8_t *buf, hash[32];
    int32_t got;

    if (fwr_pkg_entry(&v->h, v->manifest, i, &e)) {
        snprintf(err, errlen, "no block %u", (unsigned)i);
        return -1;
    }
    if ((v->h.flags & FWR_PKG_AES) && (!key || key_len != v->h.key_size)) {
        snprintf(err, errlen, "block %u is encrypted: a %u-byte key is needed",
                 (unsigned)i, (unsigned)v->h.key_size);
        return -1;
    }
    if ((v->h.flags & FWR_PKG_DELTA) && !old) {
        snprintf(err, errlen, "block %u is a delta: the old image is needed",
                 (unsigned)i);
        return -1;
    }
    if (!(buf = malloc(e.length))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(buf, v->pkg + e.offset, e.length);
    if ((v->h.flags & FWR_PKG_AES) &&
        aes_ctr(key, key_len, v->h.nonce, i, buf, e.length)) {
        free(buf);
        snprintf(err, errlen, "AES-CTR failed");
        return -1;
    }
    if (v->h.flags & FWR_PKG_LZ4) {
        if (v->h.flags & FWR_PKG_DELTA)
            pack_window(i, v->h.block_size, v->h.window, old_len, &from, &wl);
        got =
            fwr_lz4_decode(buf, e.length, out, pl, old ? old + from : NULL, wl);
        if (got != (int32_t)pl) {
            free(buf);
            snprintf(err, errlen, "block %u: the LZ4 stream %s (FWR_E_PACKAGE)",
                     (unsigned)i,
                     got < 0 ? "overruns its block or is malformed"
                             : "decodes short of the block");
            return -1;
        }
    } else {
        memcpy(out, buf, pl);
    }
    free(buf);
    if (pack_sha256(out, pl, hash)) {
        snprintf(err, errlen, "SHA-256 failed");
        return -1;
    }
    return memcmp(hash, e.sha256, 32) ? 1 : 0;
}

uint32_t pack_data_offset(const struct pack_view *v)
{
    return fwr_pkg_data_offset(&v->h);
}

uint32_t pack_block_len(const struct pack_view *v, uint32_t i)
{
    return fwr_pkg_block_len(&v->h, i);
}

void pack_entry(const struct pack_view *v, uint32_t i, uint32_t *offset,
                uint32_t *length)
{
    struct fwr_pkg_entry e;
    *offset = *length = 0;
    if (!fwr_pkg_entry(&v->h, v->manifest, i, &e)) {
        *offset = e.offset;
        *length = e.length;
    }
}
