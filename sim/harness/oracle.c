/*
 * oracle: the verdict of one trial, from the flash alone. The order of the
 * checks is the order of severity: a broken flash rule or a write outside
 * the partition condemns a trial whatever the data area holds.
 */
#define _POSIX_C_SOURCE 200809L
#include "oracle.h"

#include <stdio.h>
#include <string.h>

static const struct sim_geometry *geo_of(struct sim_flash *dev)
{
    return &sim_flash_config(dev)->geo;
}

uint32_t oracle_data_phys(const struct oracle *o, struct sim_flash *dev,
                          uint32_t off)
{
    const struct sim_geometry *g = geo_of(dev);
    uint32_t es = g->erase_size, phys = o->lay->data_addr;
    uint32_t unit = off / es;

    if (g->kind != SIM_NAND)
        return phys + off;
    for (;; phys += es) {
        if (phys + es > o->lay->data_addr + o->lay->data_size)
            return UINT32_MAX;
        if (sim_flash_is_bad(dev, phys) == 1)
            continue;
        if (!unit--)
            return phys + off % es;
    }
}

int oracle_range_matches(const struct oracle *o, struct sim_flash *dev,
                         const uint8_t *img, uint32_t off, uint32_t len)
{
    const uint8_t *raw = sim_flash_raw(dev);
    uint32_t es = geo_of(dev)->erase_size, k;

    /* Unit by unit: on NAND consecutive units need not be adjacent. */
    for (k = 0; k < len;) {
        uint32_t o_k = off + k, a = oracle_data_phys(o, dev, o_k);
        uint32_t n = es - o_k % es;
        if (n > len - k)
            n = len - k;
        if (a == UINT32_MAX || memcmp(raw + a, img + o_k, n) ||
            sim_flash_unstable_count(dev, a, a + n))
            return 0;
        k += n;
    }
    return 1;
}

int oracle_data_matches(const struct oracle *o, struct sim_flash *dev,
                        const uint8_t *img, char *why, size_t n)
{
    const uint8_t *raw = sim_flash_raw(dev);
    const struct sim_geometry *g = geo_of(dev);
    uint32_t es = g->erase_size, size = o->sc->image.size;
    uint32_t off = 0, phys = o->lay->data_addr, unstable;

    while (off < size) {
        uint32_t k = size - off < es ? size - off : es;
        if (phys + es > o->lay->data_addr + o->lay->data_size) {
            snprintf(why, n, "data area ran out of good units at 0x%x", off);
            return 0;
        }
        if (g->kind == SIM_NAND && sim_flash_is_bad(dev, phys) == 1) {
            phys += es;
            continue;
        }
        if (memcmp(raw + phys, img + off, k) != 0) {
            uint32_t i = 0;
            while (raw[phys + i] == img[off + i])
                i++;
            snprintf(why, n, "image byte 0x%x reads 0x%02x, expected 0x%02x",
                     off + i, raw[phys + i], img[off + i]);
            return 0;
        }
        /* Bits that read right now but may not next time are no image. */
        unstable = sim_flash_unstable_count(dev, phys, phys + k);
        if (unstable) {
            snprintf(why, n, "%u unstable bits in image bytes 0x%x-0x%x",
                     unstable, off, off + k - 1);
            return 0;
        }
        off += k;
        phys += es;
    }
    return 1;
}

int oracle_failure_unavoidable(const struct scenario *sc)
{
    const struct sim_faults *x = &sc->device.faults;
    return (x->wear_mode != SIM_WEAR_NONE && x->endurance) ||
           x->read_flip_rate > 0 || x->retention_rate > 0 ||
           x->read_disturb_limit || sc->link.corrupt_rate > 0 ||
           sc->device.geo.factory_bad;
}

/* Expectations beyond the verdict: a bound on what one cut may cost. */
static void check_expectations(const struct scenario_expect *ex,
                               struct trial *tr)
{
    if (!tr->failed && ex->max_redownload_bytes &&
        tr->bytes_redownloaded > ex->max_redownload_bytes) {
        tr->failed = 1;
        snprintf(tr->detail, sizeof(tr->detail),
                 "re-downloaded %llu bytes, expected at most %u",
                 (unsigned long long)tr->bytes_redownloaded,
                 ex->max_redownload_bytes);
    }
    if (!tr->failed && ex->max_redownload_blocks &&
        tr->blocks_redownloaded > ex->max_redownload_blocks) {
        tr->failed = 1;
        snprintf(tr->detail, sizeof(tr->detail),
                 "re-downloaded %u blocks, expected at most %u",
                 tr->blocks_redownloaded, ex->max_redownload_blocks);
    }
}

void oracle_judge(const struct oracle *o, struct sim_flash *dev,
                  const uint8_t *img, int rc, struct trial *tr)
{
    const struct scenario *sc = o->sc;
    const struct scenario_layout *lay = o->lay;
    const struct sim_stats *st = sim_flash_stats(dev);
    const struct sim_violation_record *v = sim_flash_first_violation(dev);
    char why[160] = "";
    uint32_t group;

    tr->engine_error = rc < 0 ? rc : 0;
    tr->violation = v->kind;
    if (v->kind != SIM_VIOL_NONE) {
        tr->verdict = VERDICT_RULE_VIOLATION;
        snprintf(tr->detail, sizeof(tr->detail), "%s %s at 0x%x+%u",
                 sim_violation_name((enum sim_violation)v->kind),
                 v->op == SIM_OP_ERASE ? "erase" : "program", v->addr, v->len);
    } else if (st->write_lo < lay->part_lo ||
               (st->write_hi > lay->part_hi && st->write_hi != 0)) {
        tr->verdict = VERDICT_OUT_OF_PARTITION;
        snprintf(tr->detail, sizeof(tr->detail),
                 "wrote 0x%x-0x%x, partition is 0x%x-0x%x", st->write_lo,
                 st->write_hi, lay->part_lo, lay->part_hi);
    } else if (tr->false_claim) {
        tr->verdict = VERDICT_SILENT_CORRUPTION;
        snprintf(tr->detail, sizeof(tr->detail),
                 "after a reboot the engine took block %u as valid, but it "
                 "holds other bytes",
                 tr->false_claim - 1);
    } else if (rc == ORACLE_STUCK || tr->boots > sc->cuts.max_boots) {
        tr->verdict = VERDICT_STUCK;
        snprintf(tr->detail, sizeof(tr->detail),
                 "no completion after %u boots / %llu requests", tr->boots,
                 (unsigned long long)o->request_bound);
    } else if (rc < 0) {
        tr->verdict = oracle_failure_unavoidable(sc)
                          ? VERDICT_DETECTED_FAILURE
                          : VERDICT_UNEXPECTED_ERROR;
        snprintf(tr->detail, sizeof(tr->detail), "engine error %d", rc);
    } else if (!oracle_data_matches(o, dev, img, why, sizeof(why))) {
        tr->verdict = VERDICT_SILENT_CORRUPTION;
        snprintf(tr->detail, sizeof(tr->detail), "complete, but %.140s", why);
    } else {
        /* The group in flight (block or erase unit, the larger) is the
         * loss each cut makes unavoidable; more is extra download. */
        group = sc->engine.block_size > geo_of(dev)->erase_size
                    ? sc->engine.block_size
                    : geo_of(dev)->erase_size;
        tr->verdict = tr->bytes_redownloaded <= (uint64_t)group * tr->depth
                          ? VERDICT_RECOVERED
                          : VERDICT_RECOVERED_EXTRA;
    }
    tr->failed = (uint8_t)verdict_is_failure((enum verdict)tr->verdict,
                                             sc->expect.allow_detected_failure);
    check_expectations(&sc->expect, tr);
}
