/*
 * core/port/fwr_pkgdl.c over the real engine and the in-memory flash
 * double: packages made by the packer (sim/pack) downloaded block by
 * block, cut at every write boundary and resumed; a block that does not
 * check out never fed; an unverified, tampered or wrong-base package
 * refused before the flash is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/aes.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>

#include "flash_double.h"
#include "fwr_mbedtls.h"
#include "fwr_pkgdl.h"
#include "pack.h"

#define IMAGE 40000u
#define DATA  65536u

static const uint8_t key16[16] = "0123456789abcdef";

struct dev {
    struct flash_double d;
    struct fwr f;
    struct fwr_config c;
    struct fwr_mbedtls_sha256 bc, ic, pc;
    struct fwr_hash_ops bh, ih, ph;
    struct fwr_pkg_ops ops;
    struct fwr_pkgdl dl;
    mbedtls_pk_context pub;
    uint32_t work[4096];
    uint32_t dlwork[8192];
    const uint8_t *old;
    uint8_t *served; /* what the server sends: the package, or damaged */
    const uint8_t *pristine; /* non-NULL: the server heals after a reject */
    uint32_t size;
    int require_sig;
};

static int aes_hook(void *ctx, const uint8_t ctr[16], uint8_t *buf,
                    uint32_t len)
{
    mbedtls_aes_context a;
    uint8_t c[16], stream[16];
    size_t off = 0;
    int rc;
    (void)ctx;
    memcpy(c, ctr, 16);
    mbedtls_aes_init(&a);
    rc = mbedtls_aes_setkey_enc(&a, key16, 128) ||
         mbedtls_aes_crypt_ctr(&a, len, &off, c, stream, buf, buf);
    mbedtls_aes_free(&a);
    return rc ? -1 : 0;
}

static int verify_hook(void *ctx, const uint8_t digest[32],
                       const uint8_t sig[64])
{
    struct dev *v = ctx;
    mbedtls_mpi r, s;
    int ok;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ok = !mbedtls_mpi_read_binary(&r, sig, 32) &&
         !mbedtls_mpi_read_binary(&s, sig + 32, 32) &&
         !mbedtls_ecdsa_verify(&mbedtls_pk_ec(v->pub)->grp, digest, 32,
                               &mbedtls_pk_ec(v->pub)->Q, &r, &s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return ok;
}

static int old_hook(void *ctx, uint32_t off, void *buf, uint32_t len)
{
    struct dev *v = ctx;
    memcpy(buf, v->old + off, len);
    return 0;
}

static void dev_init(struct dev *v)
{
    memset(v, 0, sizeof(*v));
    assert_int_equal(fd_init(&v->d, 128u << 10, 1, 4096, 0), 0);
    fwr_hash_sha256(&v->bh, &v->bc);
    fwr_hash_sha256(&v->ih, &v->ic);
    fwr_hash_sha256(&v->ph, &v->pc);
    fd_ops(&v->d, &v->c.flash);
    v->c.geometry.prog_size = 1;
    v->c.geometry.erase_size = 4096;
    v->c.geometry.erased_value = 0xFF;
    v->c.layout.record_addr = 0;
    v->c.layout.record_size = 8192;
    v->c.layout.mirror_addr = 8192;
    v->c.layout.data_addr = DATA;
    v->c.layout.data_size = 64u << 10;
    v->c.block_size = 4096;
    v->c.block_hash = &v->bh;
    v->c.image_hash = &v->ih;
    v->c.work = v->work;
    v->c.work_size = sizeof(v->work);
    v->ops.ctx = v;
    v->ops.sha256 = &v->ph;
    v->ops.aes_ctr = aes_hook;
    v->ops.verify = verify_hook;
    v->ops.old_read = old_hook;
    mbedtls_pk_init(&v->pub);
    assert_int_equal(
        mbedtls_pk_parse_public_keyfile(&v->pub, KEYS_DIR "/test-p256.pub.pem"),
        0);
}

static void dev_free(struct dev *v)
{
    mbedtls_pk_free(&v->pub);
    fd_free(&v->d);
}

/* One boot: open, begin, fetch and feed until complete (0), power fails
 * (1) or an error. */
static int session(struct dev *v, uint32_t cut_at)
{
    struct fwr_image im;
    uint32_t off, len, ranges = 0;
    int rc;

    v->d.cut_at = cut_at;
    rc = fwr_init(&v->f, &v->c);
    if (!rc)
        rc = fwr_pkgdl_open(&v->dl, v->served, v->size, v->size, &v->ops,
                            v->require_sig, v->dlwork, sizeof(v->dlwork), &im);
    if (!rc)
        rc = fwr_begin(&v->f, &im);
    while (!rc && fwr_state(&v->f) != FWR_STATE_COMPLETE) {
        assert_true(ranges++ < 1000); /* no endless refetching */
        rc = fwr_pkgdl_next_range(&v->dl, &v->f, &off, &len);
        if (rc || !len)
            break;
        while (len) { /* the transfer arrives in pieces */
            uint32_t k = len < 1000 ? len : 1000;
            rc = fwr_pkgdl_feed(&v->dl, &v->f, v->served + off, k);
            if (rc < 0)
                break;
            rc = 0;
            off += k;
            len -= k;
        }
        if (rc == FWR_E_AGAIN) {
            rc = 0;
            if (v->pristine)
                memcpy(v->served, v->pristine, v->size);
        }
    }
    if (rc < 0 && v->d.off)
        return 1;
    return rc;
}

/* Boot until complete after a cut at write cut_at (0: none). */
static int update(struct dev *v, uint32_t cut_at)
{
    int rc, boots = 0;
    fd_power_on(&v->d);
    rc = session(v, cut_at);
    while (rc == 1 && boots++ < 8) {
        fd_power_on(&v->d);
        rc = session(v, 0);
    }
    return rc;
}

static uint8_t *firmware(uint32_t n, uint32_t seed)
{
    uint8_t *b = malloc(n);
    uint32_t i, x = seed;
    assert_non_null(b);
    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (i % 9 == 0) ? (uint8_t)(x >> 16)
                            : (uint8_t)("\x08\xb5\x00\x20"[i & 3]);
    }
    return b;
}

/* Every write boundary of the uncut download cut once, then resumed:
 * the data area ends up the firmware, every time. */
static void cut_everywhere(const struct pack_opts *o, const uint8_t *fw,
                           const uint8_t *old)
{
    struct dev v;
    char err[256];
    uint8_t *pkg;
    uint32_t size, ops, k;

    assert_int_equal(pack_build(fw, IMAGE, o, &pkg, &size, err, sizeof(err)),
                     0);
    dev_init(&v);
    v.old = old;
    v.ops.old_size = old ? IMAGE : 0;
    v.served = pkg;
    v.size = size;
    assert_int_equal(update(&v, 0), 0);
    assert_memory_equal(v.d.mem + DATA, fw, IMAGE);
    assert_int_equal(v.d.violations, 0);
    ops = v.d.ops;
    assert_true(ops > 20);
    for (k = 1; k <= ops; k++) {
        memset(v.d.mem, 0xFF, v.d.size);
        memset(v.d.written, 0, v.d.size / v.d.prog);
        v.d.ops = 0;
        assert_int_equal(update(&v, k), 0);
        assert_memory_equal(v.d.mem + DATA, fw, IMAGE);
        assert_int_equal(v.d.violations, 0);
    }
    dev_free(&v);
    free(pkg);
}

static void test_every_transform_survives_every_cut(void **s)
{
    uint8_t *fw = firmware(IMAGE, 3), *old = firmware(IMAGE, 3);
    struct pack_opts o;
    (void)s;
    memcpy(old + 20000, "an older version", 16);
    memset(&o, 0, sizeof(o));
    o.block_size = 4096;
    cut_everywhere(&o, fw, NULL); /* plain */
    o.compress = 1;
    cut_everywhere(&o, fw, NULL); /* lz4 */
    o.key = key16;
    o.key_len = 16;
    o.sign_key = KEYS_DIR "/test-p256.pem";
    cut_everywhere(&o, fw, NULL); /* lz4 + aes, signed */
    o.key = NULL;
    o.old = old;
    o.old_len = IMAGE;
    o.window = 16384;
    cut_everywhere(&o, fw, old); /* delta, signed */
    free(fw);
    free(old);
}

/* A block damaged on the link (its LZ4 literals, so it still decodes) is
 * never fed: rejected, fetched again, and the image completes without
 * the restart a recorded bad block would cost. */
static void test_damaged_block_never_fed(void **s)
{
    uint8_t *fw = firmware(IMAGE, 5), *pkg, *bad;
    struct pack_opts o;
    struct pack_view pv;
    struct fwr_pkg_entry e;
    struct fwr_progress p;
    struct dev v;
    char err[256];
    uint32_t size;
    (void)s;
    memset(&o, 0, sizeof(o));
    o.block_size = 4096;
    o.compress = 1;
    assert_int_equal(pack_build(fw, IMAGE, &o, &pkg, &size, err, sizeof(err)),
                     0);
    assert_int_equal(pack_open(&pv, pkg, size, err, sizeof(err)), 0);
    assert_int_equal(fwr_pkg_entry(&pv.h, pv.manifest, 3, &e), 0);
    bad = malloc(size);
    assert_non_null(bad);
    memcpy(bad, pkg, size);
    bad[e.offset + e.length - 2] ^= 0x40; /* a literal near the end */
    dev_init(&v);
    v.served = bad;
    v.pristine = pkg;
    v.size = size;
    assert_int_equal(update(&v, 0), 0);
    assert_int_equal(v.dl.rejected, 1);
    fwr_get_progress(&v.f, &p);
    assert_int_equal(p.restarts, 0);
    assert_int_equal(fwr_state(&v.f), FWR_STATE_COMPLETE);
    assert_memory_equal(v.d.mem + DATA, fw, IMAGE);
    dev_free(&v);
    free(bad);
    free(pkg);
    free(fw);
}

/* Refused before the engine is asked to write anything. */
static void refused(struct dev *v, uint8_t *pkg, uint32_t size, uint8_t why)
{
    struct fwr_image im;
    uint32_t progs = v->d.programs, erases = v->d.erases;
    assert_int_equal(fwr_pkgdl_open(&v->dl, pkg, size, size, &v->ops,
                                    v->require_sig, v->dlwork,
                                    sizeof(v->dlwork), &im),
                     FWR_E_PACKAGE);
    assert_int_equal(v->dl.refused, why);
    assert_int_equal(v->d.programs, progs);
    assert_int_equal(v->d.erases, erases);
}

static void test_refusals(void **s)
{
    uint8_t *fw = firmware(IMAGE, 7), *old = firmware(IMAGE, 8), *pkg;
    struct pack_opts o;
    struct fwr_image im;
    struct dev v;
    char err[256];
    uint32_t size;
    (void)s;
    dev_init(&v);
    memset(&o, 0, sizeof(o));
    o.block_size = 4096;
    o.compress = 1;
    o.key = key16;
    o.key_len = 16;
    o.sign_key = KEYS_DIR "/test-p256.pem";
    assert_int_equal(pack_build(fw, IMAGE, &o, &pkg, &size, err, sizeof(err)),
                     0);
    /* A manifest entry's hash changed: the signature fails. */
    pkg[FWR_PKG_HEADER_SIZE + FWR_PKG_MANIFEST_FIXED + 10] ^= 1;
    refused(&v, pkg, size, FWR_PKGDL_BAD_SIGNATURE);
    pkg[FWR_PKG_HEADER_SIZE + FWR_PKG_MANIFEST_FIXED + 10] ^= 1;
    /* Truncated, and a header that lies. */
    refused(&v, pkg, 100, FWR_PKGDL_MALFORMED);
    refused(&v, pkg, size - 1, FWR_PKGDL_MALFORMED);
    /* No room, no hook. */
    assert_int_equal(
        fwr_pkgdl_open(&v.dl, pkg, size, size, &v.ops, 0, v.dlwork, 1024, &im),
        FWR_E_PACKAGE);
    assert_int_equal(v.dl.refused, FWR_PKGDL_NO_ROOM);
    v.ops.aes_ctr = NULL;
    refused(&v, pkg, size, FWR_PKGDL_NO_HOOK);
    v.ops.aes_ctr = aes_hook;
    free(pkg);

    /* Unsigned, where signatures are required. */
    o.key = NULL;
    o.sign_key = NULL;
    assert_int_equal(pack_build(fw, IMAGE, &o, &pkg, &size, err, sizeof(err)),
                     0);
    v.require_sig = 1;
    refused(&v, pkg, size, FWR_PKGDL_UNSIGNED);
    v.require_sig = 0;
    free(pkg);

    /* A delta for another base. */
    o.old = old;
    o.old_len = IMAGE;
    o.window = 4096;
    assert_int_equal(pack_build(fw, IMAGE, &o, &pkg, &size, err, sizeof(err)),
                     0);
    v.old = fw; /* the device holds something else */
    v.ops.old_size = IMAGE;
    refused(&v, pkg, size, FWR_PKGDL_WRONG_BASE);
    v.ops.old_size = IMAGE - 1;
    refused(&v, pkg, size, FWR_PKGDL_WRONG_BASE);
    v.old = old;
    v.ops.old_size = IMAGE;
    assert_int_equal(fwr_pkgdl_open(&v.dl, pkg, size, size, &v.ops, 0, v.dlwork,
                                    sizeof(v.dlwork), &im),
                     0);
    assert_int_equal(im.size, IMAGE);
    assert_int_equal(im.digest_kind, FWR_HASH_SHA256);
    free(pkg);
    dev_free(&v);
    free(fw);
    free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_transform_survives_every_cut),
        cmocka_unit_test(test_damaged_block_never_fed),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
