/*
 * engine: the one seam between the harness and the update engine under
 * test. The harness knows an engine only through struct engine_ops; it
 * hands the engine flash ops (the simulator, with its power cuts), a link
 * (ranges of the image on offer) and a clock, and judges the result from
 * the flash contents, the served image and what the engine returns.
 *
 * fwresume is one engine behind it (engines/fwresume.c); the shapes are
 * plain C with no harness type in them, so an engine can be built apart
 * (docs/engines.md). ENGINE_ABI changes whenever a struct below changes.
 *
 * An engine's life in the harness: record_need() once, when the scenario
 * is laid out; create() per engine instance (the harness keeps two: the
 * live update and the trial it forks); then per boot of the device,
 * boot() with fresh RAM (everything the engine knows comes from flash)
 * and step() until it returns ENGINE_DONE or an error. A power cut never
 * returns: it leaves boot() or step() from inside a flash op, and the next
 * boot() starts over.
 */
#ifndef FOTASIM_ENGINE_H
#define FOTASIM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ENGINE_ABI 2

/* step(): the image is complete; or more is wanted. Errors are negative
 * and the engine's own (error_name() names them). */
#define ENGINE_MORE 0
#define ENGINE_DONE 1

/* read() result: ECC could not correct the data (the buffer is filled
 * but unreliable); any other negative result is an I/O error. */
#define ENGINE_FLASH_ECC_FAIL (-74)

/* engine_params.mirror_addr when there is no second metadata copy. */
#define ENGINE_NO_MIRROR 0xFFFFFFFFu

/* Hash kinds a scenario names (engine.hash, engine.digest). */
enum engine_hash {
    ENGINE_HASH_NONE = 0,
    ENGINE_HASH_CRC32 = 1, /* IEEE 802.3, reflected, as zlib crc32() */
    ENGINE_HASH_MD5 = 2,
    ENGINE_HASH_SHA256 = 3
};
#define ENGINE_HASH_MAX 32 /* largest digest, bytes */

/* engine.verify: what a boot checks again before it trusts what is on
 * flash. An engine with no such choice ignores it. */
enum engine_verify {
    ENGINE_VERIFY_FULL = 0,   /* re-hash every block it keeps */
    ENGINE_VERIFY_TRUSTED = 1 /* trust its metadata; the image digest last */
};

/* The flash, as the device's driver offers it. Addresses are absolute.
 * Each op returns 0 or a negative value; read may return a positive count
 * of bits ECC corrected (the data is good). */
struct engine_flash {
    void *user; /* handed back to every op */
    int (*read)(void *user, uint32_t addr, void *buf, uint32_t len);
    int (*program)(void *user, uint32_t addr, const void *buf, uint32_t len);
    int (*erase)(void *user, uint32_t addr, uint32_t len);
    /* NULL when the flash cannot write-protect: on is 1 (lock) or 0. */
    int (*protect)(void *user, uint32_t addr, uint32_t len, int on);
    /* NAND: 1 when the erase unit at addr is bad, 0 when good, negative
     * on error. NULL on NOR. */
    int (*is_bad)(void *user, uint32_t addr);
};

/* The image the server offers: its manifest. */
struct engine_image {
    uint32_t version;    /* 1, 2...: changes when the server's image does */
    uint32_t size;       /* bytes */
    uint8_t digest_kind; /* enum engine_hash; NONE: no digest */
    uint8_t digest_len;
    uint8_t tag_len; /* bytes of tag used */
    uint8_t digest[ENGINE_HASH_MAX];
    uint8_t tag[32]; /* an ETag or version string */
    /* 0: the server offers the plain image, and ranges are of it. Else it
     * offers a package (docs/package-format.md) of this many bytes, and
     * ranges are of the package; size and digest (SHA-256) remain the
     * plaintext image's. */
    uint32_t package_size;
};

/* The network. An engine asks for a range, then receives its bytes in
 * order, as many pieces as it likes. */
struct engine_link {
    void *user;
    /* The version on offer now: cheap, for every request. */
    uint32_t (*version)(void *user);
    /* The manifest of the image on offer now. */
    void (*manifest)(void *user, struct engine_image *out);
    /* Open a request for [off, off + len) of the image on offer: returns
     * how many bytes the connection delivers before it drops (len when it
     * does not). */
    uint32_t (*request)(void *user, uint32_t off, uint32_t len);
    /* The next bytes of the open request, at most len: returns how many
     * were delivered. 0 before the request's end means the device is
     * about to power-cycle (cuts.reboot_every): return from step(). */
    uint32_t (*receive)(void *user, void *buf, uint32_t len);
};

/* What the harness gives a booting engine. */
struct engine_env {
    struct engine_flash flash;
    struct engine_link link;
    void *user; /* handed back to the calls below */
    /* Simulated time, ns: flash and link time since the device began. */
    uint64_t (*now_ns)(void *user);
    /* For adapters that check their engine against its own API contract:
     * flash ops issued so far, reads the harness failed so far (the
     * engine must report those as I/O errors), and the first breach, in
     * words (the trial is then a contract_violation). */
    uint64_t (*flash_ops)(void *user);
    uint64_t (*io_faults)(void *user);
    void (*breach)(void *user, const char *what);
    /* The image the device runs now, in its other slot (A/B): the base of a
     * delta package. Read-only while the update downloads; old_size 0 and
     * old_read NULL when the scenario has none. */
    int (*old_read)(void *user, uint32_t off, void *buf, uint32_t len);
    uint32_t old_size;
};

/* Where the harness put the engine, and what the scenario asks of it. */
struct engine_params {
    /* The flash. */
    uint32_t prog_size, erase_size; /* powers of two */
    uint8_t erased_value;
    uint8_t nand; /* 1: whole pages in order, bad units (is_bad) */
    /* The partition: metadata (one copy, or two), then data. Multiples of
     * erase_size. record_size is what record_need() asked for, at least. */
    uint32_t record_addr, record_size, mirror_addr; /* mirror: NO_MIRROR */
    uint32_t data_addr, data_size;
    /* [engine] of the scenario. */
    uint32_t block_size;  /* bytes per block the engine records */
    uint32_t write_size;  /* 0: the engine's choice */
    uint8_t hash, digest; /* enum engine_hash */
    uint8_t verify;       /* enum engine_verify */
    uint8_t own_crc;      /* 1: the engine's own CRC-32 code, not the host's */
    uint8_t reads_disturbed; /* the device's reads may creep erased bits */
    uint32_t image_size;     /* of the first image */
    /* 1: give the engine exactly the work RAM it needs, no more (a roomy
     * buffer may hide an engine that needs more than it says). */
    uint8_t ram_exact;
    /* Packaged updates (engine_image.package_size): the device's secrets
     * and the largest delta window it must hold. package 0: none. */
    uint8_t package;
    uint32_t package_window;
    const uint8_t *aes_key; /* 16 or 32 bytes, or NULL */
    uint32_t aes_key_len;
    const uint8_t *sign_pub; /* 65-byte P-256 point, or NULL: unsigned */
};

struct engine_ops {
    uint32_t abi; /* ENGINE_ABI */
    const char *name;
    /* The value step() and boot() return when a flash op failed with an
     * I/O error (the harness reboots and retries those). */
    int err_io;
    const char *(*error_name)(int err);
    /* Bytes of one metadata copy the engine needs for p's image and
     * geometry (p's addresses are not set yet): 0, or a negative error
     * when it refuses the geometry. */
    int (*record_need)(const struct engine_params *p, uint32_t *bytes);
    /* A new instance, or NULL (out of memory, or p refused: the message in
     * err). */
    void *(*create)(const struct engine_params *p, char *err, size_t errlen);
    void (*destroy)(void *ctx);
    /* RAM the engine needs on the device: context and buffers, bytes; not
     * the buffer the link receives into (the network stack's). */
    uint32_t (*ram)(const void *ctx);
    /* A boot: fresh RAM, then what the engine does before its first
     * request (reading its state back). 0 or a negative error. */
    int (*boot)(void *ctx, const struct engine_env *env);
    /* One request: ENGINE_MORE, ENGINE_DONE or a negative error. */
    int (*step)(void *ctx);
    /* Does the engine report the image complete? */
    int (*complete)(const void *ctx);

    /* Optional (NULL when the engine cannot say). */
    /* After boot(): does it count [off, off + len) of the image as on
     * flash and good? The oracle holds it to the bytes. */
    int (*claims)(const void *ctx, uint32_t off, uint32_t len);
    /* Has it checked the whole image on offer against its digest, and
     * found it good, since create()? (Then the image is finished; rot
     * while off is no longer the download's.) Returns that version or 0. */
    uint32_t (*verified)(const void *ctx);
    /* Counters since create(): blocks the first scan of the last boot
     * found good, whole-image restarts. */
    uint32_t (*resumed)(const void *ctx);
    uint32_t (*restarts)(const void *ctx);
    /* Whether a finished device's metadata must end write-protected. */
    int locks_records;
    /* The metadata is one area: no mirror copy is laid out, whatever
     * engine.mirror says (0: the scenario decides). */
    int one_copy;
    /* A finished device must read as finished to another reader of the
     * engine's format (a boot loader): 0, or -1 with why (-2: unreadable).
     * read reads without side effects. */
    int (*audit)(void *ctx, const struct engine_flash *read,
                 const uint8_t *image, const struct engine_image *id, char *why,
                 size_t whylen);
    /* Clear the instance's counters (a new run from the pristine device). */
    void (*reset)(void *ctx);
};

/* A shared object holding an engine exports this function (C linkage),
 * returning its ops: the harness checks abi before anything else. */
#define ENGINE_ENTRY_NAME "fotasim_engine"
const struct engine_ops *fotasim_engine(void);

/* The engines built into this program, by name: NULL when unknown. */
const struct engine_ops *engine_find(const char *name);
/* The default engine (fwresume). */
const struct engine_ops *engine_default(void);
/* The engine of a scenario's engine.kind: "" the default; a built-in
 * name; another name, as lib<name>.so ('-' read as '_') in the folders of
 * FOTASIM_ENGINE_PATH (colon-separated), then in the build's engine
 * folder; or a path with a '/', to a shared object. NULL with the reason
 * in err when it cannot be loaded or is not an engine of this ABI. */
const struct engine_ops *engine_load(const char *kind, char *err,
                                     size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* FOTASIM_ENGINE_H */
