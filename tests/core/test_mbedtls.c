/*
 * The mbedTLS adapter: known MD5 and SHA-256 vectors, chunked updates, and
 * a download with SHA-256 block records (32-byte hashes in every slot) and
 * a SHA-256 image digest, cut and resumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flash_double.h"
#include "fwr_mbedtls.h"
#include "fwr_mbedtls_pkg.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include "fwresume.h"

static uint8_t img[200000];
static uint32_t work[4096];

static void digest_of(struct fwr_hash_ops *h, const void *p, uint32_t n,
                      uint32_t chunk, uint8_t *out)
{
    const uint8_t *b = p;
    assert_int_equal(h->start(h->ctx), 0);
    while (n) {
        uint32_t k = n < chunk ? n : chunk;
        assert_int_equal(h->update(h->ctx, b, k), 0);
        b += k;
        n -= k;
    }
    assert_int_equal(h->finish(h->ctx, out), 0);
}

static void test_known_vectors(void **state)
{
    static const uint8_t sha_abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const uint8_t sha_448[32] = {
        0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26,
        0x93, 0x0c, 0x3e, 0x60, 0x39, 0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff,
        0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1};
    static const uint8_t md5_abc[16] = {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2,
                                        0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d,
                                        0x28, 0xe1, 0x7f, 0x72};
    const char *m448 =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    struct fwr_mbedtls_sha256 sc;
    struct fwr_mbedtls_md5 mc;
    struct fwr_hash_ops sh, mh;
    uint8_t d[32];
    (void)state;

    fwr_hash_sha256(&sh, &sc);
    fwr_hash_md5(&mh, &mc);
    assert_int_equal(sh.kind, FWR_HASH_SHA256);
    assert_int_equal(sh.size, 32);
    assert_int_equal(mh.kind, FWR_HASH_MD5);
    assert_int_equal(mh.size, 16);
    digest_of(&sh, "abc", 3, 3, d);
    assert_memory_equal(d, sha_abc, 32);
    digest_of(&sh, m448, 56, 5, d); /* chunked; context reused */
    assert_memory_equal(d, sha_448, 32);
    digest_of(&mh, "abc", 3, 1, d);
    assert_memory_equal(d, md5_abc, 16);
}

static int session(const struct fwr_config *c, const struct fwr_image *im,
                   uint32_t budget, struct fwr_progress *p)
{
    struct fwr f;
    uint32_t off, len;
    int rc;

    if ((rc = fwr_init(&f, c)) || (rc = fwr_begin(&f, im)))
        return rc;
    fwr_get_progress(&f, p);
    while (fwr_state(&f) != FWR_STATE_COMPLETE && budget) {
        rc = fwr_next_range(&f, &off, &len);
        if (rc)
            return rc;
        if (len > 777)
            len = 777;
        if (len > budget)
            len = budget;
        rc = fwr_feed(&f, img + off, len);
        if (rc == FWR_E_AGAIN)
            continue;
        if (rc < 0)
            return rc;
        budget -= len;
    }
    return fwr_state(&f) == FWR_STATE_COMPLETE ? 1 : 0;
}

static void test_sha256_download_resumes(void **state)
{
    struct fwr_mbedtls_sha256 bc, ic;
    struct fwr_hash_ops bh, ih;
    struct flash_double d;
    struct fwr_config c;
    struct fwr_image im;
    struct fwr_progress p;
    uint32_t i, x = 7;
    (void)state;

    for (i = 0; i < sizeof(img); i++) {
        x = x * 1103515245u + 12345u;
        img[i] = (uint8_t)(x >> 16);
    }
    fwr_hash_sha256(&bh, &bc);
    fwr_hash_sha256(&ih, &ic);
    assert_int_equal(fd_init(&d, 1u << 20, 1, 4096, 0), 0);
    memset(&c, 0, sizeof(c));
    fd_ops(&d, &c.flash);
    c.geometry.prog_size = 1;
    c.geometry.erase_size = 4096;
    c.geometry.erased_value = 0xFF;
    c.layout.record_addr = 0;
    c.layout.record_size = 8192;
    c.layout.mirror_addr = 8192;
    c.layout.data_addr = 16384;
    c.layout.data_size = 512 * 1024;
    c.block_size = 4096;
    c.block_hash = &bh;
    c.image_hash = &ih;
    c.verify = FWR_VERIFY_TRUSTED;
    c.work = work;
    c.work_size = sizeof(work);

    memset(&im, 0, sizeof(im));
    im.size = sizeof(img);
    im.digest_kind = FWR_HASH_SHA256;
    im.digest_len = 32;
    digest_of(&ih, img, im.size, 65536, im.digest);

    assert_int_equal(session(&c, &im, 100000, &p), 0);
    assert_int_equal(session(&c, &im, UINT32_MAX, &p), 1);
    assert_int_equal(p.blocks_resumed, 100000 / 4096);
    assert_memory_equal(d.mem + c.layout.data_addr, img, sizeof(img));
    assert_int_equal(d.violations, 0);

    /* A wrong digest is caught by SHA-256 at the end. */
    im.digest[0] ^= 1;
    c.max_restarts = 1;
    assert_int_equal(session(&c, &im, UINT32_MAX, &p), FWR_E_DIGEST);
    fd_free(&d);
}

/* NIST SP 800-38A, F.5.1 (CTR-AES128.Encrypt), first two blocks: the
 * hook decrypts in place, and CTR decryption is encryption. */
static void test_aes_ctr_known_vector(void **state)
{
    static const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae,
                                    0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88,
                                    0x09, 0xcf, 0x4f, 0x3c};
    static const uint8_t ctr[16] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5,
                                    0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb,
                                    0xfc, 0xfd, 0xfe, 0xff};
    static const uint8_t plain[32] = {
        0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e,
        0x11, 0x73, 0x93, 0x17, 0x2a, 0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03,
        0xac, 0x9c, 0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51};
    static const uint8_t cipher[32] = {
        0x87, 0x4d, 0x61, 0x91, 0xb6, 0x20, 0xe3, 0x26, 0x1b, 0xef, 0x68,
        0x64, 0x99, 0x0d, 0xb6, 0xce, 0x98, 0x06, 0xf6, 0x6b, 0x79, 0x70,
        0xfd, 0xff, 0x86, 0x17, 0x18, 0x7b, 0xb9, 0xff, 0xfd, 0xff};
    struct fwr_mbedtls_pkg m;
    uint8_t buf[32];
    (void)state;

    assert_int_equal(fwr_mbedtls_pkg_init(&m, key, 16, NULL), 0);
    memcpy(buf, cipher, 32);
    assert_int_equal(fwr_mbedtls_aes_ctr(&m, ctr, buf, 32), 0);
    assert_memory_equal(buf, plain, 32);
    /* The counter is the caller's: a second call starts from it again. */
    assert_int_equal(fwr_mbedtls_aes_ctr(&m, ctr, buf, 32), 0);
    assert_memory_equal(buf, cipher, 32);
    /* No public key: nothing verifies. */
    {
        uint8_t sig[64];
        memcpy(sig, cipher, 32);
        memcpy(sig + 32, cipher, 32);
        assert_int_equal(fwr_mbedtls_verify(&m, buf, sig), 0);
    }
    fwr_mbedtls_pkg_free(&m);

    assert_int_equal(fwr_mbedtls_pkg_init(&m, key, 24, NULL), FWR_E_INVAL);
    fwr_mbedtls_pkg_free(&m);
    assert_int_equal(fwr_mbedtls_pkg_init(&m, NULL, 0, NULL), 0);
    assert_int_equal(fwr_mbedtls_aes_ctr(&m, ctr, buf, 32), FWR_E_HASH);
    fwr_mbedtls_pkg_free(&m);
}

/* A signature made by mbedTLS with a fresh key verifies; a bit off in the
 * digest or the signature does not; a point off the curve is refused. */
static void test_ecdsa_verify(void **state)
{
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ecdsa_context k;
    mbedtls_mpi r, s;
    struct fwr_mbedtls_pkg m;
    uint8_t pub[FWR_MBEDTLS_PUB_SIZE], digest[32], sig[64];
    size_t olen = 0;
    (void)state;

    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ecdsa_init(&k);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    assert_int_equal(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
                                           (const unsigned char *)"t", 1),
                     0);
    assert_int_equal(mbedtls_ecdsa_genkey(&k, MBEDTLS_ECP_DP_SECP256R1,
                                          mbedtls_ctr_drbg_random, &drbg),
                     0);
    assert_int_equal(mbedtls_ecp_point_write_binary(&k.grp, &k.Q,
                                                    MBEDTLS_ECP_PF_UNCOMPRESSED,
                                                    &olen, pub, sizeof(pub)),
                     0);
    assert_int_equal(olen, FWR_MBEDTLS_PUB_SIZE);
    memset(digest, 0x5a, sizeof(digest));
    assert_int_equal(mbedtls_ecdsa_sign(&k.grp, &r, &s, &k.d, digest, 32,
                                        mbedtls_ctr_drbg_random, &drbg),
                     0);
    assert_int_equal(mbedtls_mpi_write_binary(&r, sig, 32), 0);
    assert_int_equal(mbedtls_mpi_write_binary(&s, sig + 32, 32), 0);

    assert_int_equal(fwr_mbedtls_pkg_init(&m, NULL, 0, pub), 0);
    assert_int_equal(fwr_mbedtls_verify(&m, digest, sig), 1);
    digest[7] ^= 0x01;
    assert_int_equal(fwr_mbedtls_verify(&m, digest, sig), 0);
    digest[7] ^= 0x01;
    sig[40] ^= 0x10;
    assert_int_equal(fwr_mbedtls_verify(&m, digest, sig), 0);
    fwr_mbedtls_pkg_free(&m);

    pub[64] ^= 0x01; /* Y no longer on the curve */
    assert_int_equal(fwr_mbedtls_pkg_init(&m, NULL, 0, pub), FWR_E_INVAL);
    fwr_mbedtls_pkg_free(&m);

    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecdsa_free(&k);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_sha256_download_resumes),
        cmocka_unit_test(test_aes_ctr_known_vector),
        cmocka_unit_test(test_ecdsa_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
