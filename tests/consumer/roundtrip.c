/*
 * A firmware team's first program against an installed fwresume: download
 * an image into a RAM "NOR part", stop half way (the power goes), boot
 * again with a fresh context and finish from the records alone. Exit 0
 * when the resume skipped the blocks already written and the data area
 * holds the image; anything else prints why and exits 1.
 *
 * Built three ways by tests/consumer: find_package, pkg-config and
 * add_subdirectory. Only <fwresume.h> and libfwresume are used.
 */
#include <fwresume.h>

#include <stdio.h>
#include <string.h>

#define ERASE      4096u
#define BLOCK      4096u
#define IMAGE      (64u * 1024u + 123u) /* a short last block too */
#define REC_SIZE   FWR_RECORD_AREA_SIZE(1u, ERASE, 4u, BLOCK, IMAGE)
#define DATA_ADDR  (2u * REC_SIZE)
#define DATA_SIZE  FWR_ROUND_UP(IMAGE, ERASE)
#define FLASH_SIZE (DATA_ADDR + DATA_SIZE)

static unsigned char flash[FLASH_SIZE];
static unsigned char image[IMAGE];

static int ram_read(void *user, uint32_t addr, void *buf, uint32_t len)
{
    (void)user;
    memcpy(buf, flash + addr, len);
    return 0;
}

/* NOR: programming only clears bits. */
static int ram_program(void *user, uint32_t addr, const void *buf, uint32_t len)
{
    const unsigned char *p = buf;
    (void)user;
    for (uint32_t i = 0; i < len; i++)
        flash[addr + i] &= p[i];
    return 0;
}

static int ram_erase(void *user, uint32_t addr, uint32_t len)
{
    (void)user;
    memset(flash + addr, 0xFF, len);
    return 0;
}

static uint32_t work[FWR_WORK_SIZE(256, DATA_SIZE / BLOCK) / 4u];

static const struct fwr_config cfg = {
    .flash = {.read = ram_read, .program = ram_program, .erase = ram_erase},
    .geometry = {.prog_size = 1,
                 .erase_size = ERASE,
                 .erased_value = 0xFF,
                 .kind = FWR_FLASH_NOR},
    .layout = {.record_addr = 0,
               .record_size = REC_SIZE,
               .mirror_addr = REC_SIZE,
               .data_addr = DATA_ADDR,
               .data_size = DATA_SIZE},
    .block_size = BLOCK,
    .write_size = 256,
    .verify = FWR_VERIFY_FULL,
    .work = work,
    .work_size = sizeof(work),
};

/* Download until `stop_at` image bytes were fed (or the end). */
static int session(const struct fwr_image *img, uint32_t stop_at,
                   struct fwr_progress *out)
{
    struct fwr fw;
    int err = fwr_init(&fw, &cfg);
    if (!err)
        err = fwr_begin(&fw, img);
    uint32_t fed = 0;
    while (!err && fwr_state(&fw) != FWR_STATE_COMPLETE && fed < stop_at) {
        uint32_t off, len;
        err = fwr_next_range(&fw, &off, &len);
        if (err || len == 0)
            break;
        /* The "link" delivers 1000-byte chunks, as a socket would. */
        while (len > 0 && fed < stop_at) {
            uint32_t n = len < 1000u ? len : 1000u;
            int got = fwr_feed(&fw, image + off, n);
            if (got == FWR_E_AGAIN)
                break;
            if (got < 0) {
                err = got;
                break;
            }
            off += n;
            len -= n;
            fed += n;
        }
    }
    fwr_get_progress(&fw, out);
    if (err)
        return err;
    return fwr_state(&fw) == FWR_STATE_COMPLETE ? 1 : 0;
}

int main(void)
{
    uint32_t x = 2463534242u;
    for (uint32_t i = 0; i < IMAGE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image[i] = (unsigned char)x;
    }
    memset(flash, 0xFF, sizeof(flash));

    struct fwr_image img = {.size = IMAGE};
    /* The manifest's CRC-32 as a number (what crc32 prints, in hex). */
    if (fwr_image_set_crc32(&img, fwr_crc32(0, image, IMAGE)) != 0) {
        fprintf(stderr, "roundtrip: fwr_image_set_crc32 refused\n");
        return 1;
    }

    struct fwr_progress p;
    int rc = session(&img, IMAGE / 2u, &p);
    if (rc != 0) {
        fprintf(stderr, "roundtrip: first session: %d\n", rc);
        return 1;
    }
    rc = session(&img, 0xFFFFFFFFu, &p); /* the reboot: fresh RAM */
    if (rc != 1) {
        fprintf(stderr, "roundtrip: resumed session: %d\n", rc);
        return 1;
    }
    if (p.blocks_resumed < 7u) {
        fprintf(stderr, "roundtrip: resumed %u blocks, expected >= 7\n",
                (unsigned)p.blocks_resumed);
        return 1;
    }
    if (memcmp(flash + DATA_ADDR, image, IMAGE) != 0) {
        fprintf(stderr, "roundtrip: data area differs from the image\n");
        return 1;
    }
    printf("roundtrip: fwresume %d.%d resumed %u of %u blocks, image "
           "intact\n",
           FWR_VERSION_MAJOR, FWR_VERSION_MINOR, (unsigned)p.blocks_resumed,
           (unsigned)p.blocks_total);
    return 0;
}
