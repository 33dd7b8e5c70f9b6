/*
 * core/port/fwr_pkg.c: the header and manifest rules of
 * docs/package-format.md, each shown refusing the package that breaks it.
 * The packages are built here by hand, field by field, from the document.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwr_pkg.h"

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

/* A package head: header, manifest (entries of the given stored lengths,
 * tiled), signature space. Returns the package size it describes. */
struct head {
    uint8_t b[64 + 68 + 40 * 16 + 64];
    uint32_t image, bs, n, flags, window;
    uint8_t key;
};

static void seal(struct head *p)
{
    put32(p->b + 60, fwr_crc32(0, p->b, 60));
}

static uint32_t build(struct head *p, const uint32_t *stored)
{
    uint32_t m = 68 + 40 * p->n, s = (p->flags & FWR_PKG_SIGNED) ? 64 : 0,
             at = 64 + m + s, i;
    memset(p->b, 0, sizeof(p->b));
    put32(p->b, FWR_PKG_MAGIC);
    put16(p->b + 4, 1);
    put16(p->b + 6, 64);
    put32(p->b + 8, p->image);
    put32(p->b + 12, p->bs);
    put32(p->b + 16, p->n);
    put32(p->b + 20, p->flags);
    put32(p->b + 24, m);
    put16(p->b + 28, s);
    p->b[30] = p->key;
    put32(p->b + 32, p->window);
    memcpy(p->b + 36, "nonce-8b", 8);
    if (p->flags & FWR_PKG_DELTA) {
        put32(p->b + 64 + 32, 4096); /* old image size */
        memset(p->b + 64 + 36, 0xAB, 32);
    }
    for (i = 0; i < p->n; i++) {
        uint8_t *e = p->b + 64 + 68 + 40 * i;
        put32(e, at);
        put32(e + 4, stored[i]);
        memset(e + 8, (int)i, 32);
        at += stored[i];
    }
    seal(p);
    return at;
}

static struct head plain(void)
{
    struct head p;
    memset(&p, 0, sizeof(p));
    p.image = 4096 * 3 + 100;
    p.bs = 4096;
    p.n = 4;
    return p;
}

static int parse(const struct head *p, struct fwr_pkg_header *h)
{
    return fwr_pkg_parse_header(p->b, 64, h);
}

static void test_plain_package_reads_back(void **s)
{
    struct head p = plain();
    uint32_t st[4] = {4096, 4096, 4096, 100}, size = build(&p, st);
    struct fwr_pkg_header h;
    struct fwr_pkg_entry e;
    (void)s;
    assert_int_equal(parse(&p, &h), 0);
    assert_int_equal(h.image_size, 4096 * 3 + 100);
    assert_int_equal(h.nblocks, 4);
    assert_int_equal(fwr_pkg_data_offset(&h), 64 + 68 + 160);
    assert_int_equal(fwr_pkg_block_len(&h, 3), 100);
    assert_int_equal(fwr_pkg_block_len(&h, 4), 0);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size), 0);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, 0), 0);
    assert_int_equal(fwr_pkg_entry(&h, p.b + 64, 2, &e), 0);
    assert_int_equal(e.offset, 64 + 68 + 160 + 8192);
    assert_int_equal(e.length, 4096);
    assert_int_equal(e.sha256[0], 2);
    assert_int_equal(fwr_pkg_entry(&h, p.b + 64, 4, &e), FWR_E_INVAL);
}

static void test_header_rules(void **s)
{
    uint32_t st[4] = {4096, 4096, 4096, 100};
    struct fwr_pkg_header h;
    struct head p;
    (void)s;
#define REFUSED(edit)                                                          \
    do {                                                                       \
        p = plain();                                                           \
        build(&p, st);                                                         \
        edit;                                                                  \
        assert_int_equal(parse(&p, &h), FWR_E_PACKAGE);                        \
    } while (0)
    REFUSED(p.b[0] ^= 1; seal(&p));        /* magic */
    REFUSED(put16(p.b + 4, 2); seal(&p));  /* version */
    REFUSED(put16(p.b + 6, 65); seal(&p)); /* header size */
    REFUSED(p.b[9] ^= 1);                  /* CRC */
    REFUSED(put32(p.b + 8, 0); seal(&p));  /* empty image */
    REFUSED(put32(p.b + 12, 3000); put32(p.b + 16, 5); put32(p.b + 24, 268);
            seal(&p));                               /* block not 2^k */
    REFUSED(put32(p.b + 12, 128); seal(&p));         /* block too small */
    REFUSED(put32(p.b + 12, 2u << 20); seal(&p));    /* block too big */
    REFUSED(put32(p.b + 16, 5); seal(&p));           /* count vs size */
    REFUSED(put32(p.b + 20, 0x10); seal(&p));        /* unknown flag */
    REFUSED(put32(p.b + 24, 68 + 40 * 5); seal(&p)); /* manifest size */
    REFUSED(p.b[31] = 1; seal(&p));                  /* reserved byte */
    REFUSED(p.b[50] = 1; seal(&p));                  /* reserved tail */
    REFUSED(put32(p.b + 32, 4096); seal(&p));        /* window, no delta */
    REFUSED(p.b[30] = 16; seal(&p));                 /* key, no AES */
    /* AES: a key size of 16 or 32, and signed. */
    REFUSED(put32(p.b + 20, FWR_PKG_AES); p.b[30] = 16; seal(&p));
    REFUSED(put32(p.b + 20, FWR_PKG_AES | FWR_PKG_SIGNED); p.b[30] = 24;
            put16(p.b + 28, 64); put32(p.b + 24, 68 + 160); seal(&p));
    /* Signed: S = 64. */
    REFUSED(put32(p.b + 20, FWR_PKG_SIGNED); seal(&p));
    /* Delta: needs LZ4 and a window. */
    REFUSED(put32(p.b + 20, FWR_PKG_DELTA); put32(p.b + 32, 4096); seal(&p));
    REFUSED(put32(p.b + 20, FWR_PKG_DELTA | FWR_PKG_LZ4); seal(&p));
#undef REFUSED
    p = plain();
    build(&p, st);
    assert_int_equal(fwr_pkg_parse_header(p.b, 63, &h), FWR_E_PACKAGE);
    assert_int_equal(fwr_pkg_parse_header(NULL, 64, &h), FWR_E_INVAL);
    assert_int_equal(fwr_pkg_parse_header(p.b, 64, NULL), FWR_E_INVAL);
}

static void test_every_transform_combination_parses(void **s)
{
    static const uint32_t flags[] = {FWR_PKG_LZ4,
                                     FWR_PKG_LZ4 | FWR_PKG_SIGNED,
                                     FWR_PKG_AES | FWR_PKG_SIGNED,
                                     FWR_PKG_LZ4 | FWR_PKG_AES | FWR_PKG_SIGNED,
                                     FWR_PKG_LZ4 | FWR_PKG_DELTA,
                                     FWR_PKG_LZ4 | FWR_PKG_DELTA | FWR_PKG_AES |
                                         FWR_PKG_SIGNED};
    uint32_t lz[4] = {1000, 4096 + 4096 / 255 + 16, 17, 100};
    uint32_t same[4] = {4096, 4096, 4096, 100};
    struct fwr_pkg_header h;
    size_t i;
    (void)s;
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        struct head p = plain();
        const uint32_t *st = (flags[i] & FWR_PKG_LZ4) ? lz : same;
        uint32_t size;
        p.flags = flags[i];
        p.key = (flags[i] & FWR_PKG_AES) ? 32 : 0;
        p.window = (flags[i] & FWR_PKG_DELTA) ? 16384 : 0;
        size = build(&p, st);
        assert_int_equal(parse(&p, &h), 0);
        assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size), 0);
    }
}

static void test_manifest_rules(void **s)
{
    uint32_t st[4] = {4096, 4096, 4096, 100}, size;
    struct fwr_pkg_header h;
    struct head p;
    uint8_t *e1;
    (void)s;
    p = plain();
    size = build(&p, st);
    assert_int_equal(parse(&p, &h), 0);
    e1 = p.b + 64 + 68 + 40;
    /* Past the end, short of it. */
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size - 1),
                     FWR_E_PACKAGE);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size + 1),
                     FWR_E_PACKAGE);
    /* A gap, an overlap. */
    put32(e1, 64 + 68 + 160 + 4097);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, 0), FWR_E_PACKAGE);
    put32(e1, 64 + 68 + 160 + 4095);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, 0), FWR_E_PACKAGE);
    put32(e1, 64 + 68 + 160 + 4096);
    /* Without LZ4 a stored block is its plaintext length exactly (the
     * entries tiled all the same). */
    st[1] = 4095;
    build(&p, st);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, 0), FWR_E_PACKAGE);
    st[1] = 4096;
    build(&p, st);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size), 0);
    /* An old image named without a delta. */
    put32(p.b + 64 + 32, 1);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size), FWR_E_PACKAGE);
    put32(p.b + 64 + 32, 0);
    p.b[64 + 40] = 1;
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size), FWR_E_PACKAGE);

    /* LZ4: at most the encoder's bound, never 0, never wrapping. */
    p = plain();
    p.flags = FWR_PKG_LZ4;
    st[1] = 4096 + 4096 / 255 + 17;
    build(&p, st);
    assert_int_equal(parse(&p, &h), 0);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, 0), FWR_E_PACKAGE);
    st[1] = 0;
    build(&p, st);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, 0), FWR_E_PACKAGE);
    st[1] = 4096;
    build(&p, st);
    put32(p.b + 64 + 68 + 4, 0xFFFFFFF0u); /* entry 0's length */
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, 0), FWR_E_PACKAGE);

    /* A delta names its base. */
    p = plain();
    p.flags = FWR_PKG_LZ4 | FWR_PKG_DELTA;
    p.window = 4096;
    size = build(&p, st);
    assert_int_equal(parse(&p, &h), 0);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size), 0);
    put32(p.b + 64 + 32, 0);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size), FWR_E_PACKAGE);
    assert_int_equal(fwr_pkg_check_manifest(NULL, p.b + 64, size), FWR_E_INVAL);
}

/* A refusal names the field: its offset in the package. */
static void test_refusal_names_the_field(void **s)
{
    uint32_t st[4] = {4096, 4096, 4096, 100}, size;
    struct fwr_pkg_header h;
    struct head p;
    (void)s;
    p = plain();
    build(&p, st);
    p.b[1] ^= 1;
    assert_int_equal(parse(&p, &h), FWR_E_PACKAGE);
    assert_int_equal(h.bad_offset, 0);
    p = plain();
    build(&p, st);
    p.b[13] ^= 1;
    assert_int_equal(parse(&p, &h), FWR_E_PACKAGE);
    assert_int_equal(h.bad_offset, 60); /* the CRC, before any field */
    seal(&p);
    assert_int_equal(parse(&p, &h), FWR_E_PACKAGE);
    assert_int_equal(h.bad_offset, 12); /* the block size */
    assert_int_equal(fwr_pkg_parse_header(p.b, 10, &h), FWR_E_PACKAGE);
    assert_int_equal(h.bad_offset, 10); /* where the bytes ran out */
    p = plain();
    size = build(&p, st);
    assert_int_equal(parse(&p, &h), 0);
    put32(p.b + 64 + 68 + 40 * 2, 1);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size), FWR_E_PACKAGE);
    assert_int_equal(h.bad_offset, 64 + 68 + 40 * 2);
    build(&p, st);
    assert_int_equal(fwr_pkg_check_manifest(&h, p.b + 64, size + 5),
                     FWR_E_PACKAGE);
    assert_int_equal(h.bad_offset, size + 5);
}

/* 4096 blocks of 1 MiB at LZ4's bound add up past 2^32: offsets that tile
 * in wrapped 32-bit arithmetic must not pass. */
static void test_offsets_never_wrap(void **s)
{
    enum { N = 4096 };
    uint32_t bs = 1u << 20, m = 68 + 40 * N, at = 64 + m, i;
    uint8_t *man = calloc(1, m);
    struct fwr_pkg_header h;
    (void)s;
    assert_non_null(man);
    memset(&h, 0, sizeof(h));
    h.image_size = 0xFFFFFFFFu;
    h.block_size = bs;
    h.nblocks = N;
    h.flags = FWR_PKG_LZ4;
    h.manifest_size = m;
    for (i = 0; i < N; i++) {
        uint32_t plain = i + 1 < N ? bs : 0xFFFFFFFFu - (N - 1) * bs;
        uint32_t len = FWR_PKG_LZ4_BOUND(plain);
        put32(man + 68 + 40 * i, at);
        put32(man + 68 + 40 * i + 4, len);
        at += len; /* wraps, as a hostile packer's arithmetic would */
    }
    assert_int_equal(fwr_pkg_check_manifest(&h, man, 0), FWR_E_PACKAGE);
    free(man);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_package_reads_back),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_every_transform_combination_parses),
        cmocka_unit_test(test_manifest_rules),
        cmocka_unit_test(test_offsets_never_wrap),
        cmocka_unit_test(test_refusal_names_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
