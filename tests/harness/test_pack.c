/*
 * sim/pack/pack.c: packages built by the packer read back through the
 * device's own reader and decoder, per transform; the counter rule; the
 * delta window; the signature; the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pack.h"

#ifndef KEYS_DIR
#error "KEYS_DIR: tests/harness/keys"
#endif

static const uint8_t key16[16] = "0123456789abcdef";
static const uint8_t nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static uint8_t *firmware(uint32_t n)
{
    uint8_t *b = malloc(n);
    uint32_t i, x = 7;
    assert_non_null(b);
    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        /* code-like: mostly a few words, some noise */
        b[i] = (i % 11 == 0) ? (uint8_t)(x >> 16)
                             : (uint8_t)("\x70\x47\x00\xbf"[i & 3]);
    }
    return b;
}

/* Every block decodes to its manifest hash; the blocks make the image. */
static void read_back(const uint8_t *pkg, uint32_t size, const uint8_t *fw,
                      uint32_t len, const uint8_t *key, uint32_t key_len,
                      const uint8_t *old, uint32_t old_len)
{
    struct pack_view v;
    char err[256];
    uint8_t *out;
    uint32_t i;
    assert_int_equal(pack_open(&v, pkg, size, err, sizeof(err)), 0);
    assert_int_equal(v.h.image_size, len);
    out = malloc(v.h.block_size);
    assert_non_null(out);
    for (i = 0; i < v.h.nblocks; i++) {
        assert_int_equal(pack_block(&v, i, key, key_len, old, old_len, out, err,
                                    sizeof(err)),
                         0);
        assert_memory_equal(out, fw + (size_t)i * v.h.block_size,
                            fwr_pkg_block_len(&v.h, i));
    }
    free(out);
}

static void test_every_transform_reads_back(void **s)
{
    enum { N = 50000 };
    uint8_t *fw = firmware(N), *pkg;
    uint32_t size;
    struct pack_opts o;
    char err[256];
    (void)s;

    memset(&o, 0, sizeof(o));
    o.block_size = 4096;
    o.nonce = nonce;
    assert_int_equal(pack_build(fw, N, &o, &pkg, &size, err, sizeof(err)), 0);
    assert_int_equal(size, 64 + 68 + 40 * 13 + N); /* plain: no expansion */
    read_back(pkg, size, fw, N, NULL, 0, NULL, 0);
    free(pkg);

    o.compress = 1;
    o.block_size = 1024;
    assert_int_equal(pack_build(fw, N, &o, &pkg, &size, err, sizeof(err)), 0);
    assert_true(size < N / 2);
    read_back(pkg, size, fw, N, NULL, 0, NULL, 0);
    free(pkg);

    o.key = key16;
    o.key_len = 16;
    o.sign_key = KEYS_DIR "/test-p256.pem";
    assert_int_equal(pack_build(fw, N, &o, &pkg, &size, err, sizeof(err)), 0);
    read_back(pkg, size, fw, N, key16, 16, NULL, 0);
    {
        struct pack_view v;
        assert_int_equal(pack_open(&v, pkg, size, err, sizeof(err)), 0);
        assert_int_equal(
            pack_verify(&v, KEYS_DIR "/test-p256.pub.pem", err, sizeof(err)),
            1);
        pkg[100] ^= 1; /* in the manifest: the signature no longer holds */
        assert_int_equal(
            pack_verify(&v, KEYS_DIR "/test-p256.pub.pem", err, sizeof(err)),
            0);
    }
    free(pkg);
    free(fw);
}

/* Two equal plaintext blocks encrypt differently (their counters differ),
 * and so do two packages with different nonces. */
static void test_counter_rule(void **s)
{
    enum { BS = 4096 };
    uint8_t *fw = calloc(1, 2 * BS), *a, *b, n2[8] = {9};
    uint32_t sa, sb, d = 64 + 68 + 80 + 64;
    struct pack_opts o;
    char err[256];
    (void)s;
    assert_non_null(fw);
    memset(&o, 0, sizeof(o));
    o.block_size = BS;
    o.key = key16;
    o.key_len = 16;
    o.sign_key = KEYS_DIR "/test-p256.pem";
    o.nonce = nonce;
    assert_int_equal(pack_build(fw, 2 * BS, &o, &a, &sa, err, sizeof(err)), 0);
    assert_int_equal(sa, d + 2 * BS);
    assert_memory_not_equal(a + d, a + d + BS, BS);
    o.nonce = n2;
    assert_int_equal(pack_build(fw, 2 * BS, &o, &b, &sb, err, sizeof(err)), 0);
    assert_memory_not_equal(a + d, b + d, BS);
    free(a);
    free(b);
    free(fw);
}

/* A delta of a small change is small, and needs its base. */
static void test_delta(void **s)
{
    enum { N = 65536 };
    uint8_t *old = firmware(N), *fw = firmware(N), *pkg, *full;
    uint32_t size, fsize, from, len;
    struct pack_opts o;
    struct pack_view v;
    char err[256];
    uint8_t out[4096];
    (void)s;
    memcpy(fw + 30000, "a small change", 14);
    memset(&o, 0, sizeof(o));
    o.block_size = 4096;
    o.compress = 1;
    assert_int_equal(pack_build(fw, N, &o, &full, &fsize, err, sizeof(err)), 0);
    o.old = old;
    o.old_len = N;
    o.window = 16384;
    assert_int_equal(pack_build(fw, N, &o, &pkg, &size, err, sizeof(err)), 0);
    assert_true(size * 4 < fsize);
    read_back(pkg, size, fw, N, NULL, 0, old, N);
    assert_int_equal(pack_open(&v, pkg, size, err, sizeof(err)), 0);
    assert_int_equal(pack_block(&v, 0, NULL, 0, NULL, 0, out, err, sizeof(err)),
                     -1);
    /* The window: W bytes ending half a window past the block's end. */
    pack_window(0, 4096, 16384, N, &from, &len);
    assert_int_equal(from, 0);
    assert_int_equal(len, 4096 + 8192);
    pack_window(10, 4096, 16384, N, &from, &len);
    assert_int_equal(from, 11 * 4096 + 8192 - 16384);
    assert_int_equal(len, 16384);
    pack_window(15, 4096, 16384, N, &from, &len);
    assert_int_equal(from + len, N);
    free(pkg);
    free(full);
    free(old);
    free(fw);
}

static void test_refusals(void **s)
{
    uint8_t *fw = firmware(10000), *pkg;
    uint32_t size;
    struct pack_opts o;
    char err[256];
    (void)s;
    memset(&o, 0, sizeof(o));
    o.block_size = 3000;
    assert_int_equal(pack_build(fw, 10000, &o, &pkg, &size, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "block size 3000"));
    o.block_size = 4096;
    assert_int_equal(pack_build(fw, 0, &o, &pkg, &size, err, sizeof(err)), -1);
    o.key = key16;
    o.key_len = 16;
    assert_int_equal(pack_build(fw, 10000, &o, &pkg, &size, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "must be signed"));
    o.key_len = 24;
    o.sign_key = KEYS_DIR "/test-p256.pem";
    assert_int_equal(pack_build(fw, 10000, &o, &pkg, &size, err, sizeof(err)),
                     -1);
    o.key = NULL;
    o.sign_key = KEYS_DIR "/test-p384.pem";
    assert_int_equal(pack_build(fw, 10000, &o, &pkg, &size, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "P-256"));
    assert_null(pkg);
    free(fw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_transform_reads_back),
        cmocka_unit_test(test_counter_rule),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
