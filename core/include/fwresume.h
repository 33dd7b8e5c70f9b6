/*
 * fwresume: breakpoint-resume firmware download onto raw NOR or NAND flash.
 *
 * The engine writes an image block by block into a data area and keeps, in a
 * separate record area, one record per written block (block index, hash,
 * check value, and a commit flag programmed by a separate, later program).
 * After a power cut it rebuilds its state from flash alone and asks only for
 * the blocks that are missing or whose data no longer matches its record.
 *
 * Portability contract: freestanding C99, no heap, no stdio, no globals, no
 * libc beyond memcpy/memset/memcmp/memmove. The caller owns the context, the
 * configuration and the work buffer; all flash access goes through
 * struct fwr_flash_ops, all hashing through struct fwr_hash_ops.
 *
 * Every function returns 0 (or a non-negative count where stated) on
 * success and a negative enum fwr_err value on failure, which
 * fwr_last_error() then reports. INVAL, STATE, RANGE, AGAIN and LOCKED
 * leave the engine usable; every other error stops it: state FAILED, and
 * fwr_next_range() and fwr_feed() return FWR_E_STATE and touch no flash
 * until fwr_begin() starts over (as after a reboot).
 *
 * On-flash format and the recovery table: docs/record-format.md.
 */
#ifndef FWRESUME_H
#define FWRESUME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Semantic versioning; the CMake package and fwresume.pc carry the same
 * number (core/CMakeLists.txt reads it from here). API and on-flash format
 * changes by version: CHANGELOG.md. */
#define FWR_VERSION_MAJOR 0
#define FWR_VERSION_MINOR 3
#define FWR_VERSION_PATCH 0

/* ---------------------------------------------------------------- errors */

enum fwr_err {
    FWR_OK = 0,
    FWR_E_INVAL = -1,     /* bad argument or inconsistent configuration */
    FWR_E_GEOMETRY = -2,  /* sizes/alignments the engine cannot work with */
    FWR_E_NOSPC = -3,     /* record area too small for the image's blocks */
    FWR_E_IO = -4,        /* a flash op returned an error */
    FWR_E_PROG = -5,      /* program read-back mismatch beyond max_retries */
    FWR_E_ERASE = -6,     /* erase failed beyond max_retries */
    FWR_E_HASH = -7,      /* a hash op returned an error */
    FWR_E_STATE = -8,     /* call not valid in the current state */
    FWR_E_RANGE = -9,     /* fed more bytes than the current range holds */
    FWR_E_AGAIN = -10,    /* transfer invalidated: discard it, ask next_range */
    FWR_E_DIGEST = -11,   /* image digest mismatch beyond max_restarts */
    FWR_E_LOCKED = -12,   /* image complete and locked: no further writes */
    FWR_E_BADBLOCK = -13, /* no good erase unit left (port/fwr_skipbad.h) */
    FWR_E_DIGEST_ORDER = -14, /* the image is right, but its CRC-32 digest was
                                 given byte-reversed: use fwr_image_set_crc32 */
    FWR_E_PACKAGE = -15 /* malformed package: bad magic or version, a length
                           past its end, a compressed block that overruns */
};

/* Returned by fwr_flash_ops.read when ECC could not correct the data. The
 * buffer is filled but unreliable. The engine reads again (a read flip is
 * gone on the next read), up to max_retries times, then treats the data as
 * corrupt, not as an I/O failure. Any other negative value is an I/O
 * error. */
#define FWR_FLASH_ECC_FAIL (-74)

/* ------------------------------------------------------------ flash ops */

/*
 * The one hardware seam. Addresses are absolute byte addresses of the
 * device. The engine only issues:
 *  - read:    any address/length inside its partition.
 *  - program: address and length multiples of geometry.prog_size, onto
 *             units erased since their last program (never twice).
 *  - erase:   address and length multiples of geometry.erase_size.
 * Return 0 on success, a negative value on failure. read may return a
 * positive count of bits corrected by ECC (the data is good).
 */
struct fwr_flash_ops {
    void *user; /* handed back to every op */
    int (*read)(void *user, uint32_t addr, void *buf, uint32_t len);
    int (*program)(void *user, uint32_t addr, const void *buf, uint32_t len);
    int (*erase)(void *user, uint32_t addr, uint32_t len);
    /* Optional (NULL: not supported). Write-protect (on=1) or release (on=0)
     * a range; used to lock the record area once an image is complete. */
    int (*protect)(void *user, uint32_t addr, uint32_t len, int on);
};
/* Raw NAND with bad blocks: put port/fwr_skipbad.h's layer under these ops;
 * the engine itself sees a data area without holes. */

enum fwr_flash_kind {
    FWR_FLASH_NOR = 0, /* program clears bits; any order within an erase unit */
    FWR_FLASH_NAND =
        1 /* whole pages, in order within an erase unit, once each */
};

struct fwr_geometry {
    uint32_t prog_size;   /* program unit in bytes (NOR page-program
                             granularity, e.g. 1; MCU flash 8/16; NAND page
                             2048). Power of two. */
    uint32_t erase_size;  /* erase unit in bytes, uniform over the partition;
                             power of two, >= prog_size. */
    uint8_t erased_value; /* value of an erased byte, normally 0xFF */
    uint8_t kind;         /* enum fwr_flash_kind */
};

/* Where the engine lives on the device. All addresses and sizes are
 * multiples of geometry.erase_size; the areas must not overlap. */
struct fwr_layout {
    uint32_t record_addr; /* primary record copy */
    uint32_t record_size; /* bytes of one record copy */
    uint32_t mirror_addr; /* mirror copy, same size; FWR_NO_MIRROR: none */
    uint32_t data_addr;   /* data area: the image lands here */
    uint32_t data_size;   /* bytes; >= image size (+ spare units for NAND
                             bad blocks) */
};
#define FWR_NO_MIRROR 0xFFFFFFFFu

/* ------------------------------------------------------------- hash ops */

enum fwr_hash_kind {
    FWR_HASH_NONE = 0,
    FWR_HASH_CRC32 = 1, /* IEEE 802.3, reflected, as zlib crc32() */
    FWR_HASH_MD5 = 2,
    FWR_HASH_SHA256 = 3
};
#define FWR_HASH_MAX 32 /* largest digest, bytes */

/* A streaming hash. ctx is the caller's (e.g. an mbedtls_sha256_context).
 * Each op returns 0, or a negative value on failure (FWR_E_HASH). */
struct fwr_hash_ops {
    uint8_t kind; /* enum fwr_hash_kind */
    uint8_t size; /* digest bytes, <= FWR_HASH_MAX */
    void *ctx;
    int (*start)(void *ctx);
    int (*update)(void *ctx, const void *buf, uint32_t len);
    int (*finish)(void *ctx, uint8_t *digest);
};

/* The built-in, table-free-ish CRC-32 for devices (small, not fast). */
struct fwr_crc32_ctx {
    uint32_t crc;
};
void fwr_hash_crc32(struct fwr_hash_ops *ops, struct fwr_crc32_ctx *ctx);
/* CRC-32 of buf continuing from crc (start with 0), as zlib crc32(). */
uint32_t fwr_crc32(uint32_t crc, const void *buf, uint32_t len);

/* --------------------------------------------------------------- config */

enum fwr_verify {
    /* At resume, re-hash every recorded block and compare with its record
     * (the whitepaper's rule). Robust; boot time grows with the image. */
    FWR_VERIFY_FULL = 0,
    /* At resume, trust records; rely on the whole-image digest at the end,
     * and fall back to a full re-hash when it fails. Faster boot, weaker:
     * requires an image digest. */
    FWR_VERIFY_TRUSTED = 1
};

struct fwr_config {
    struct fwr_flash_ops flash;
    struct fwr_geometry geometry;
    struct fwr_layout layout;

    uint32_t block_size; /* bytes per block/record; power of two, >=
                            write_size. Smaller than erase_size is allowed:
                            see docs/record-format.md, "Blocks smaller than
                            the erase unit". */
    uint32_t write_size; /* staging chunk programmed at once; power of two,
                            prog_size..block_size. 0: max(prog_size, 256)
                            capped to block_size. */

    /* Block hash (recorded per block). NULL: built-in CRC-32. */
    const struct fwr_hash_ops *block_hash;
    /* Whole-image digest (checks struct fwr_image.digest). NULL: use the
     * block hash ops when the digest kind matches, else none. */
    const struct fwr_hash_ops *image_hash;

    uint8_t verify;       /* enum fwr_verify */
    uint8_t max_retries;  /* per block / record, on program or erase
                             failure, and re-reads of an uncorrectable
                             read; 0: default 3 */
    uint8_t max_restarts; /* whole-image restarts after a digest mismatch;
                             0: default 1 */

    /* Caller's work buffer, aligned to 4; at least FWR_WORK_SIZE(). Holds
     * the staging chunk, a read buffer (read-back, records, hashing) and
     * two bitmaps (done blocks, blocks with a live record). Bytes beyond
     * FWR_WORK_SIZE widen the read buffer: resume scans and digest checks
     * then read and hash in larger pieces (up to an erase unit). */
    void *work;
    uint32_t work_size;
};

/* Work buffer bytes for write_size and a data area of max_blocks blocks. */
#define FWR_WORK_SIZE(write_size, max_blocks)                                  \
    (2u * (uint32_t)(write_size) +                                             \
     (((uint32_t)(max_blocks) + 31u) / 32u) * 8u + 3u)

/* --------------------------------------------------------------- sizing */

/*
 * On-flash sizes (docs/record-format.md) as constant expressions, so a
 * device can lay out its partition at compile time. ps: program unit, es:
 * erase unit, hs: block hash bytes (4 for CRC-32).
 */
#define FWR_DIV_UP(v, a)                                                       \
    ((((uint32_t)(v) + (uint32_t)(a)) - 1u) / (uint32_t)(a))
#define FWR_ROUND_UP(v, a)  (FWR_DIV_UP(v, a) * (uint32_t)(a))
#define FWR_HEADER_BODY     92u /* header body bytes before padding */
#define FWR_SLOT_FIXED      16u /* slot body bytes besides the hash */
#define FWR_COMMIT_SIZE(ps) FWR_ROUND_UP(4u, ps)
#define FWR_HEADER_SIZE(ps)                                                    \
    (FWR_ROUND_UP(FWR_HEADER_BODY, ps) + FWR_COMMIT_SIZE(ps))
#define FWR_SLOT_SIZE(ps, hs)                                                  \
    (FWR_ROUND_UP(FWR_SLOT_FIXED + (hs), ps) + FWR_COMMIT_SIZE(ps))
/* Log slots for nblocks blocks: one each, plus slack for boots, voids and
 * failed records (compaction reclaims them when they run out). */
#define FWR_LOG_SLOTS(nblocks) ((nblocks) + 16u + (nblocks) / 4u)
/* Bytes of each record copy (primary and mirror) for an image of
 * image_size bytes in blocks of block_size; fwr_begin refuses a smaller
 * one with FWR_E_NOSPC. */
#define FWR_RECORD_AREA_SIZE(ps, es, hs, block_size, image_size)               \
    FWR_ROUND_UP(FWR_HEADER_SIZE(ps) +                                         \
                     FWR_LOG_SLOTS(FWR_DIV_UP(image_size, block_size)) *       \
                         FWR_SLOT_SIZE(ps, hs),                                \
                 es)

/* ---------------------------------------------------------------- image */

/* Identity of the image being downloaded. A different identity voids every
 * record of the previous one before anything is written.
 *
 * digest[] holds the digest as its hash ops' finish() writes it: the byte
 * string md5sum/sha256sum print for MD5/SHA-256, and for CRC-32 the
 * number's big-endian bytes (0x1c291ca3 is 1c 29 1c a3). Set it with
 * fwr_image_set_crc32() (the number, as zlib's crc32() returns it) or
 * fwr_image_set_digest() (MD5, SHA-256 bytes), not by hand: a manifest's
 * little-endian uint32 copied into digest[] is reversed. */
struct fwr_image {
    uint32_t size;       /* bytes */
    uint8_t digest_kind; /* enum fwr_hash_kind; NONE: no digest */
    uint8_t digest_len;  /* bytes of digest used */
    uint8_t version_len; /* bytes of version used (ETag, semver...) */
    uint8_t digest[FWR_HASH_MAX];
    uint8_t version[32];
};

/* A CRC-32 digest, the number (kind CRC32, 4 bytes). 0 or FWR_E_INVAL. */
int fwr_image_set_crc32(struct fwr_image *img, uint32_t crc);
/* An MD5 (16 bytes) or SHA-256 (32 bytes) digest, in the order the hash
 * writes it. FWR_E_INVAL for another kind or length (CRC-32 included: it
 * is a number, fwr_image_set_crc32). */
int fwr_image_set_digest(struct fwr_image *img, uint8_t kind, const void *bytes,
                         uint32_t len);

/* -------------------------------------------------------------- runtime */

enum fwr_state {
    FWR_STATE_IDLE = 0,        /* initialised, no image begun */
    FWR_STATE_EMPTY = 1,       /* image begun, nothing of it on flash */
    FWR_STATE_DOWNLOADING = 2, /* some blocks done, more wanted */
    FWR_STATE_COMPLETE = 3,    /* all blocks written, digest checked, locked */
    FWR_STATE_FAILED = 4       /* unrecoverable error; see fwr_last_error() */
};

struct fwr_progress {
    uint32_t blocks_total;
    uint32_t blocks_done;      /* written this session or verified at resume */
    uint32_t blocks_resumed;   /* found valid at the last fwr_begin() */
    uint32_t blocks_rewritten; /* downloaded again after a resume/void */
    uint32_t bytes_wanted;     /* bytes still to download */
    uint32_t restarts;         /* digest-mismatch restarts so far */
};

/*
 * The context. The caller owns it (static, stack or wherever); treat the
 * fields as private. sizeof(struct fwr) is part of the footprint budget.
 */
struct fwr {
    /* Hot fields first: Thumb loads reach small offsets in short forms. */
    const struct fwr_config *cfg;  /* NULL until fwr_init succeeds */
    const struct fwr_hash_ops *bh; /* block hash in use */
    const struct fwr_hash_ops *ih; /* image hash in use, or NULL */
    uint32_t *done;                /* bitmap: block written or verified */
    uint32_t *rec;                 /* bitmap: block has a live record */
    uint8_t state;
    uint8_t flags;
    uint8_t max_retries;
    uint8_t max_restarts;
    uint8_t erased_value;
    uint8_t retries;   /* program retries of the group in retry_block */
    uint8_t rescanned; /* trusted records re-checked once already */
    uint8_t reserved;
    int16_t last_error;
    uint32_t block_size; /* copies of the configuration's sizes */
    uint32_t erase_size;
    uint32_t commit_size; /* bytes of a commit field: 4 in program units */
    uint32_t write_size;  /* resolved staging chunk */
    uint32_t hdr_size;    /* bytes of a copy's header */
    uint32_t slot_size;   /* bytes of a log slot */
    uint32_t log_slots;   /* slots per record copy */
    uint32_t log_next;    /* next free slot */
    uint32_t generation;  /* record area generation (compaction) */
    uint32_t nblocks;
    /* From cursor to the end of progress: per fwr_begin(), cleared
     * together (image is set right after). */
    uint32_t cursor;     /* block being written / wanted next */
    uint32_t block_fill; /* bytes of the cursor block received */
    uint32_t stage_fill; /* bytes in the staging chunk */
    uint32_t wr_ptr;     /* data offset of the next program */
    uint32_t erase_lo;   /* data erased this session: [lo, hi) */
    uint32_t erase_hi;
    uint32_t retry_block;   /* 1 + erase unit the retry count is for */
    struct fwr_image image; /* identity being downloaded */
    struct fwr_progress progress;
    struct fwr_hash_ops crc_ops; /* the built-in CRC-32, when used */
    struct fwr_crc32_ctx crc_ctx;
};

/* Check the configuration and bind it to f. No flash access. */
int fwr_init(struct fwr *f, const struct fwr_config *cfg);

/*
 * Would fwr_init take this geometry, block size and write size (0: the
 * default) with a block hash of hash_size bytes (0: the built-in CRC-32)?
 * 0, FWR_E_GEOMETRY or FWR_E_INVAL. Needs no flash ops, layout or work
 * buffer: with FWR_RECORD_AREA_SIZE() it sizes a partition before any
 * device exists (fwr_init still checks the layout).
 */
int fwr_check_geometry(const struct fwr_geometry *g, uint32_t block_size,
                       uint32_t write_size, uint32_t hash_size);

/*
 * Start or resume downloading img. Reads the record area: a different image
 * voids all records first; the same image resumes (per cfg->verify). May
 * return with state COMPLETE when the image was already complete.
 */
int fwr_begin(struct fwr *f, const struct fwr_image *img);

/*
 * The byte range of the image wanted next: [*offset, *offset + *len).
 * Returns 0 with *len > 0 while bytes are wanted, 0 with *len == 0 when the
 * image is complete, or an error. Ranges cover runs of missing blocks; a
 * caller may fetch one in pieces (a request per block loses at most one
 * block's bytes in flight to a power cut: docs/integration.md). It may
 * erase the erase unit the range starts in, and append a VOID record for
 * the blocks that unit held, before it returns: flash ops happen here too.
 */
int fwr_next_range(struct fwr *f, uint32_t *offset, uint32_t *len);

/*
 * Feed len bytes that continue the current range. Chunks of any size;
 * bytes beyond the range give FWR_E_RANGE. FWR_E_AGAIN means the rest of
 * the transfer is no longer wanted (a block had to be rewritten): call
 * fwr_next_range(). When the last block lands, the engine checks the image
 * digest, writes the complete marker and locks the record area.
 * Returns the number of bytes consumed (== len) or an error.
 */
int fwr_feed(struct fwr *f, const void *buf, uint32_t len);

enum fwr_state fwr_state(const struct fwr *f);
/* 1 when block i (0-based, of the image begun) is done: written and
 * recorded this session, or found valid at fwr_begin(); 0 when wanted (or
 * i is out of range). For progress displays and for test oracles: no done
 * block may hold bytes other than the image's. */
int fwr_block_done(const struct fwr *f, uint32_t i);
void fwr_get_progress(const struct fwr *f, struct fwr_progress *p);
/* In state FAILED, the error that stopped the engine (a later call's
 * FWR_E_STATE does not replace it); otherwise the last error any call
 * returned, 0 when none has. */
int fwr_last_error(const struct fwr *f);

#ifdef __cplusplus
}
#endif

#endif /* FWRESUME_H */
