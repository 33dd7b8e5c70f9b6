/*
 * core/port/fwr_lz4.c: what liblz4 (the packer's encoder) writes, ours
 * decodes byte for byte, with and without a dictionary; and whatever a
 * hostile package holds, it never reads or writes out of bounds (run
 * under ASan in CI) and refuses what is not a whole stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lz4.h>
#include <lz4hc.h>

#include "fwr_lz4.h"

static uint32_t rng = 12345u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Something like code: short repeats, common words, some noise. */
static void fill_code_like(uint8_t *b, uint32_t n)
{
    static const uint8_t words[][4] = {{0x00, 0xbf, 0x70, 0x47},
                                       {0x08, 0xb5, 0x00, 0x20},
                                       {0xfe, 0xe7, 0x10, 0xbd},
                                       {0x4f, 0xf0, 0x00, 0x03}};
    uint32_t i = 0;
    while (i < n) {
        uint32_t r = next();
        if (r % 5 == 0) {
            b[i++] = (uint8_t)(r >> 8);
        } else {
            uint32_t w = (r >> 3) & 3u, k;
            for (k = 0; k < 4 && i < n; k++)
                b[i++] = words[w][k];
        }
    }
}

/* Encode with liblz4's high-compression mode, after dict when given. */
static int encode(const uint8_t *src, uint32_t n, uint8_t *dst, uint32_t cap,
                  const uint8_t *dict, uint32_t dict_len)
{
    LZ4_streamHC_t *s = LZ4_createStreamHC();
    int c;
    assert_non_null(s);
    LZ4_resetStreamHC_fast(s, LZ4HC_CLEVEL_MAX);
    if (dict_len)
        LZ4_loadDictHC(s, (const char *)dict, (int)dict_len);
    c = LZ4_compress_HC_continue(s, (const char *)src, (char *)dst, (int)n,
                                 (int)cap);
    LZ4_freeStreamHC(s);
    assert_true(c > 0);
    return c;
}

static void round_trip(const uint8_t *src, uint32_t n, const uint8_t *dict,
                       uint32_t dict_len)
{
    uint32_t cap = (uint32_t)LZ4_compressBound((int)n);
    uint8_t *z = malloc(cap), *out = malloc(n + 1);
    int c;
    assert_non_null(z);
    assert_non_null(out);
    c = encode(src, n, z, cap, dict, dict_len);
    assert_int_equal(fwr_lz4_decode(z, (uint32_t)c, out, n, dict, dict_len),
                     (int32_t)n);
    assert_memory_equal(out, src, n);
    /* One byte less room: refused, never overrun (ASan watches). */
    if (n)
        assert_int_equal(
            fwr_lz4_decode(z, (uint32_t)c, out, n - 1, dict, dict_len),
            FWR_E_PACKAGE);
    free(z);
    free(out);
}

static void test_round_trip_sizes_and_kinds(void **s)
{
    static const uint32_t sizes[] = {1,    4,     5,     12,    13,
                                     15,   16,    255,   256,   1000,
                                     4096, 16384, 65536, 70000, 262144};
    uint8_t *b = malloc(262144);
    size_t i;
    (void)s;
    assert_non_null(b);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint32_t n = sizes[i], k;
        memset(b, 0, n); /* long matches, long length chains */
        round_trip(b, n, NULL, 0);
        for (k = 0; k < n; k++)
            b[k] = (uint8_t)next(); /* incompressible: literals only */
        round_trip(b, n, NULL, 0);
        fill_code_like(b, n);
        round_trip(b, n, NULL, 0);
        for (k = 0; k < n; k++)
            b[k] = (uint8_t)(k % 3 ? 'a' : 'b'); /* overlapping copies */
        round_trip(b, n, NULL, 0);
    }
    free(b);
}

static void test_empty_block(void **s)
{
    uint8_t z[16], out[1];
    int c = LZ4_compress_default("", (char *)z, 0, sizeof(z));
    (void)s;
    assert_int_equal(c, 1);
    assert_int_equal(fwr_lz4_decode(z, 1, out, 0, NULL, 0), 0);
    assert_int_equal(fwr_lz4_decode(z, 0, out, 1, NULL, 0), FWR_E_PACKAGE);
}

/* A delta: the new block against the old image as dictionary. */
static void test_dictionary_delta(void **s)
{
    enum { OLD = 65536, BLK = 4096 };
    uint8_t *old = malloc(OLD), *blk = malloc(BLK);
    uint8_t *z = malloc((size_t)LZ4_compressBound(BLK));
    int with, without;
    (void)s;
    assert_non_null(old);
    assert_non_null(blk);
    assert_non_null(z);
    fill_code_like(old, OLD);
    /* The new block: the old one at its place with a few bytes changed
     * and a 64-byte insertion, as a small code change shifts code. */
    memcpy(blk, old + 8192, 1000);
    memset(blk + 1000, 0x42, 64);
    memcpy(blk + 1064, old + 8192 + 1000, BLK - 1064);
    blk[3000] ^= 0xFF;
    round_trip(blk, BLK, old, OLD);
    with = encode(blk, BLK, z, (uint32_t)LZ4_compressBound(BLK), old, OLD);
    without = encode(blk, BLK, z, (uint32_t)LZ4_compressBound(BLK), NULL, 0);
    assert_true(with * 10 < without); /* the point of a delta */
    /* Without the dictionary the same stream is refused: its matches
     * reach before the block. */
    with = encode(blk, BLK, z, (uint32_t)LZ4_compressBound(BLK), old, OLD);
    assert_int_equal(fwr_lz4_decode(z, (uint32_t)with, blk, BLK, NULL, 0),
                     FWR_E_PACKAGE);
    /* Nor with a shorter one than the packer used, if a match needs it. */
    assert_int_equal(
        fwr_lz4_decode(z, (uint32_t)with, blk, BLK, old + OLD - 16, 16),
        FWR_E_PACKAGE);
    free(old);
    free(blk);
    free(z);
}

/* Every prefix of a real stream: refused or short, never out of bounds. */
static void test_truncated_streams(void **s)
{
    enum { N = 8192 };
    uint8_t *b = malloc(N), *z = malloc((size_t)LZ4_compressBound(N)),
            *out = malloc(N);
    int c, k;
    (void)s;
    assert_non_null(b);
    assert_non_null(z);
    assert_non_null(out);
    fill_code_like(b, N);
    c = encode(b, N, z, (uint32_t)LZ4_compressBound(N), NULL, 0);
    for (k = 0; k < c; k++) {
        /* A heap copy of exactly k bytes: ASan sees a read past it. */
        uint8_t *t = malloc((size_t)k + 1);
        int32_t rc;
        assert_non_null(t);
        memcpy(t, z, (size_t)k);
        rc = fwr_lz4_decode(t, (uint32_t)k, out, N, NULL, 0);
        assert_true(rc == FWR_E_PACKAGE || (rc >= 0 && rc < N));
        free(t);
    }
    free(b);
    free(z);
    free(out);
}

static void test_crafted_streams(void **s)
{
    uint8_t out[64], dict[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    /* token: 1 literal, match 4; literal 'A'; offset 0 */
    static const uint8_t off0[] = {0x10, 'A', 0x00, 0x00, 0x00};
    /* offset 2 with one byte written, no dictionary */
    static const uint8_t before[] = {0x10, 'A', 0x02, 0x00, 0x00};
    /* literal count 15 + extension bytes running off the end */
    static const uint8_t lit_chain[] = {0xF0, 0xFF, 0xFF};
    /* literal count 15 + 10 more, only 3 bytes of them */
    static const uint8_t lit_short[] = {0xF0, 0x0A, 'a', 'b', 'c'};
    /* a match with no sequence after it */
    static const uint8_t match_last[] = {0x10, 'A', 0x01, 0x00};
    /* a match length chain past the room */
    static const uint8_t match_chain[] = {0x1F, 'A',  0x01, 0x00,
                                          0xFF, 0xFF, 0x00, 0x00};
    /* half an offset */
    static const uint8_t half_off[] = {0x10, 'A', 0x01};
    /* 'A', then a match of 4 at offset 1 (run), then literal 'B' */
    static const uint8_t run[] = {0x10, 'A', 0x01, 0x00, 0x10, 'B'};
    /* a match from the dictionary's last 4 bytes, then literal 'C' */
    static const uint8_t from_dict[] = {0x00, 0x04, 0x00, 0x10, 'C'};
    /* reaching one byte before the dictionary */
    static const uint8_t past_dict[] = {0x00, 0x09, 0x00, 0x10, 'C'};
    (void)s;

    assert_int_equal(fwr_lz4_decode(off0, sizeof(off0), out, 64, NULL, 0),
                     FWR_E_PACKAGE);
    assert_int_equal(fwr_lz4_decode(before, sizeof(before), out, 64, NULL, 0),
                     FWR_E_PACKAGE);
    assert_int_equal(
        fwr_lz4_decode(lit_chain, sizeof(lit_chain), out, 64, NULL, 0),
        FWR_E_PACKAGE);
    assert_int_equal(
        fwr_lz4_decode(lit_short, sizeof(lit_short), out, 64, NULL, 0),
        FWR_E_PACKAGE);
    assert_int_equal(
        fwr_lz4_decode(match_last, sizeof(match_last), out, 64, NULL, 0),
        FWR_E_PACKAGE);
    assert_int_equal(
        fwr_lz4_decode(match_chain, sizeof(match_chain), out, 64, NULL, 0),
        FWR_E_PACKAGE);
    assert_int_equal(
        fwr_lz4_decode(half_off, sizeof(half_off), out, 64, NULL, 0),
        FWR_E_PACKAGE);

    assert_int_equal(fwr_lz4_decode(run, sizeof(run), out, 64, NULL, 0), 6);
    assert_memory_equal(out, "AAAAAB", 6);
    assert_int_equal(fwr_lz4_decode(run, sizeof(run), out, 5, NULL, 0),
                     FWR_E_PACKAGE);

    assert_int_equal(
        fwr_lz4_decode(from_dict, sizeof(from_dict), out, 64, dict, 8), 5);
    assert_memory_equal(out,
                        "\x05\x06\x07\x08"
                        "C",
                        5);
    assert_int_equal(
        fwr_lz4_decode(past_dict, sizeof(past_dict), out, 64, dict, 8),
        FWR_E_PACKAGE);

    assert_int_equal(fwr_lz4_decode(NULL, 1, out, 64, NULL, 0), FWR_E_INVAL);
    assert_int_equal(fwr_lz4_decode(run, sizeof(run), NULL, 64, NULL, 0),
                     FWR_E_INVAL);
    assert_int_equal(fwr_lz4_decode(run, sizeof(run), out, 64, NULL, 8),
                     FWR_E_INVAL);
    assert_int_equal(
        fwr_lz4_decode(run, sizeof(run), out, FWR_LZ4_MAX_OUTPUT + 1u, NULL, 0),
        FWR_E_INVAL);
}

/* Random bytes and mutated real streams: the result is an error or a
 * length within the room, and nothing is touched outside it. */
static void test_random_inputs_stay_in_bounds(void **s)
{
    enum { N = 2048 };
    uint8_t *b = malloc(N), *z = malloc((size_t)LZ4_compressBound(N));
    uint8_t dict[256];
    int c, i;
    (void)s;
    assert_non_null(b);
    assert_non_null(z);
    fill_code_like(b, N);
    fill_code_like(dict, sizeof(dict));
    c = encode(b, N, z, (uint32_t)LZ4_compressBound(N), NULL, 0);
    for (i = 0; i < 20000; i++) {
        uint32_t len = 1 + next() % 64, cap = next() % 128, k;
        uint8_t *in = malloc(len), *out = malloc(cap ? cap : 1);
        int32_t rc;
        assert_non_null(in);
        assert_non_null(out);
        if (i & 1) {
            for (k = 0; k < len; k++)
                in[k] = (uint8_t)next();
        } else {
            len = len < (uint32_t)c ? len : (uint32_t)c;
            memcpy(in, z, len);
            in[next() % len] ^= (uint8_t)(1u << (next() & 7));
        }
        rc = fwr_lz4_decode(in, len, out, cap, dict, (i & 2) ? 256 : 0);
        assert_true(rc == FWR_E_PACKAGE || (rc >= 0 && (uint32_t)rc <= cap));
        free(in);
        free(out);
    }
    free(b);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_sizes_and_kinds),
        cmocka_unit_test(test_empty_block),
        cmocka_unit_test(test_dictionary_delta),
        cmocka_unit_test(test_truncated_streams),
        cmocka_unit_test(test_crafted_streams),
        cmocka_unit_test(test_random_inputs_stay_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
