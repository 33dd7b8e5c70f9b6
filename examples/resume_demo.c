/*
 * resume_demo: download a 1 MiB image through the fwresume API onto an
 * in-memory NOR flash, lose power part-way (the flash tears the write in
 * flight and the engine's context is abandoned), boot a fresh context,
 * resume from flash alone, and print what had to be downloaded again.
 *
 *   resume_demo [--cut-at BYTES] [--block-size BYTES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_double.h"
#include "fwresume.h"

#define IMAGE_SIZE (1u << 20)
#define DEV_SIZE   (4u << 20)
#define SECTOR     4096u

static uint8_t image[IMAGE_SIZE];
static uint32_t work[4096];

struct link {
    uint32_t served, cut_at; /* power fails once cut_at bytes were fed */
    uint32_t fed_before_cut; /* bytes fed before the power failed */
    uint32_t refetched;      /* of those, bytes asked for again */
    uint32_t blocks_again;
};

/* Drive the engine until complete, error, or the power cut. */
static int download(struct fwr *f, struct flash_double *d, struct link *l,
                    int after_cut)
{
    uint32_t off, len, bs = f->cfg->block_size;
    int rc;

    while (fwr_state(f) != FWR_STATE_COMPLETE) {
        rc = fwr_next_range(f, &off, &len);
        if (rc)
            return rc;
        if (len == 0)
            break;
        if (after_cut) {
            printf("  request bytes %u-%u (blocks %u-%u)\n", off, off + len - 1,
                   off / bs, (off + len - 1) / bs);
            if (off < l->fed_before_cut) {
                uint32_t end = off + len < l->fed_before_cut
                                   ? off + len
                                   : l->fed_before_cut;
                uint32_t b;
                l->refetched += end - off;
                l->blocks_again += (end - off + bs - 1) / bs;
                for (b = off / bs; b * bs < end; b++)
                    printf("  block %u: downloaded again\n", b);
            }
        }
        while (len) {
            uint32_t n = len < 1460 ? len : 1460; /* one TCP segment */
            if (!after_cut && l->served + n > l->cut_at) {
                d->cut_at = d->ops + 1; /* the next write is torn */
                n = l->cut_at - l->served;
            }
            rc = fwr_feed(f, image + off, n);
            if (d->off)
                return 1;
            if (rc == FWR_E_AGAIN)
                break;
            if (rc < 0)
                return rc;
            l->served += n;
            off += n;
            len -= n;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct flash_double d;
    struct fwr_config cfg;
    struct fwr_image img;
    struct fwr f; /* the context: lives in RAM, lost with the power */
    struct fwr_crc32_ctx cc;
    struct fwr_hash_ops h;
    struct fwr_progress p;
    struct link l = {0, 600000, 0, 0, 0};
    uint32_t i, bs = 4096;
    int rc;

    for (i = 1; i + 1 < (uint32_t)argc; i += 2) {
        if (!strcmp(argv[i], "--cut-at"))
            l.cut_at = (uint32_t)strtoul(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--block-size"))
            bs = (uint32_t)strtoul(argv[i + 1], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--cut-at BYTES] [--block-size N]\n",
                    argv[0]);
            return 2;
        }
    }
    for (i = 0; i < IMAGE_SIZE; i++)
        image[i] = (uint8_t)((i * 2654435761u) >> 13);

    if (fd_init(&d, DEV_SIZE, 1, SECTOR, 0))
        return 1;
    memset(&cfg, 0, sizeof(cfg));
    fd_ops(&d, &cfg.flash);
    cfg.geometry.prog_size = 1;
    cfg.geometry.erase_size = SECTOR;
    cfg.geometry.erased_value = 0xFF;
    cfg.geometry.kind = FWR_FLASH_NOR;
    cfg.block_size = bs;
    cfg.write_size = 256;
    cfg.work = work;
    cfg.work_size = sizeof(work);
    cfg.layout.record_addr = 0;
    cfg.layout.record_size = 64 * 1024;
    cfg.layout.mirror_addr = 64 * 1024;
    cfg.layout.data_addr = 128 * 1024;
    cfg.layout.data_size = IMAGE_SIZE;
    if (FWR_RECORD_AREA_SIZE(1, SECTOR, 4, bs, IMAGE_SIZE) >
        cfg.layout.record_size) {
        fprintf(stderr, "block size %u needs %u record bytes\n", bs,
                (unsigned)FWR_RECORD_AREA_SIZE(1, SECTOR, 4, bs, IMAGE_SIZE));
        return 2;
    }

    memset(&img, 0, sizeof(img));
    img.size = IMAGE_SIZE;
    img.digest_kind = FWR_HASH_CRC32;
    img.digest_len = 4;
    fwr_hash_crc32(&h, &cc);
    h.start(&cc);
    h.update(&cc, image, IMAGE_SIZE);
    h.finish(&cc, img.digest);
    memcpy(img.version, "demo-1.0", 8);
    img.version_len = 8;

    printf("fwresume demo: %u-byte image, %u-byte blocks, NOR with %u-byte "
           "sectors; sizeof(struct fwr) = %u\n",
           IMAGE_SIZE, bs, SECTOR, (unsigned)sizeof(f));
    if ((rc = fwr_init(&f, &cfg)) || (rc = fwr_begin(&f, &img)))
        goto err;
    rc = download(&f, &d, &l, 0);
    if (rc < 0)
        goto err;
    printf("power cut after %u bytes fed (flash op %u torn)\n", l.served,
           d.ops);

    /* Reboot: RAM is gone; a fresh context resumes from flash alone. */
    memset(&f, 0xA5, sizeof(f));
    memset(work, 0xA5, sizeof(work));
    fd_power_on(&d);
    if ((rc = fwr_init(&f, &cfg)) || (rc = fwr_begin(&f, &img)))
        goto err;
    fwr_get_progress(&f, &p);
    printf("resume: %u of %u blocks verified on flash, %u bytes wanted\n",
           p.blocks_resumed, p.blocks_total, p.bytes_wanted);
    l.fed_before_cut = l.served;
    l.served = 0;
    rc = download(&f, &d, &l, 1);
    if (rc)
        goto err;
    printf("downloaded again (had been fed before the cut): %u bytes in %u "
           "block(s); downloaded after resume: %u bytes\n",
           l.refetched, l.blocks_again, l.served);
    if (memcmp(d.mem + cfg.layout.data_addr, image, IMAGE_SIZE) != 0 ||
        d.violations) {
        printf("FAILED: data area differs or %u flash rule violations\n",
               d.violations);
        return 1;
    }
    printf("complete: image verified byte for byte, %u erases, %u programs\n",
           d.erases, d.programs);
    fd_free(&d);
    return 0;
err:
    fprintf(stderr, "engine error %d\n", rc);
    return 1;
}
