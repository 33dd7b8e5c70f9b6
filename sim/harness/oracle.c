/*
 * oracle: the verdict of one trial, from the flash alone. The order of the
 * checks is the order of severity: a broken flash rule or a write outside
 * the partition condemns a trial whatever the data area holds.
 */
#define _POSIX_C_SOURCE 200809L
#include "oracle.h"

#include <stdio.h>
#include <stdlib.h>
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

/*
 * Device bytes [phys, phys + n) against img: equal as the device will read
 * them, after its ECC (NAND) corrected what it certainly can. The raw
 * compare is the fast path; only bytes with bit errors or a mismatch pay
 * for the settled read.
 * Returns the offset of the first differing byte, or n when they match;
 * *got is the byte read there.
 */
static uint32_t settled_mismatch(struct sim_flash *dev, uint32_t phys,
                                 const uint8_t *img, uint32_t n, uint8_t *got,
                                 const struct sim_bit *lost, uint32_t nlost)
{
    const uint8_t *raw = sim_flash_raw(dev);
    uint8_t *buf;
    uint32_t i = 0, j;

    if (!sim_flash_error_count(dev, phys, phys + n) &&
        !memcmp(raw + phys, img, n))
        return n;
    buf = malloc(n);
    if (buf && sim_flash_read_settled(dev, phys, buf, n) >= 0) {
        for (j = 0; j < nlost; j++)
            if (lost[j].addr >= phys && lost[j].addr - phys < n)
                buf[lost[j].addr - phys] &= (uint8_t)~lost[j].mask;
        while (i < n && buf[i] == img[i])
            i++;
        if (i < n)
            *got = buf[i];
    } else {
        /* No memory for the corrected view: judge the stored bytes, the
         * stricter of the two. */
        while (i < n && raw[phys + i] == img[i])
            i++;
        if (i < n)
            *got = raw[phys + i];
    }
    free(buf);
    return i;
}

int oracle_range_matches(const struct oracle *o, struct sim_flash *dev,
                         const uint8_t *img, uint32_t off, uint32_t len,
                         const struct sim_bit *lost, uint32_t nlost)
{
    uint32_t es = geo_of(dev)->erase_size, k;
    uint8_t got = 0;

    /* Unit by unit: on NAND consecutive units need not be adjacent. */
    for (k = 0; k < len;) {
        uint32_t o_k = off + k, a = oracle_data_phys(o, dev, o_k);
        uint32_t n = es - o_k % es;
        if (n > len - k)
            n = len - k;
        if (a == UINT32_MAX ||
            settled_mismatch(dev, a, img + o_k, n, &got, lost, nlost) != n ||
            sim_flash_unstable_count(dev, a, a + n))
            return 0;
        k += n;
    }
    return 1;
}

int oracle_data_matches(const struct oracle *o, struct sim_flash *dev,
                        const uint8_t *img, char *why, size_t n)
{
    const struct sim_geometry *g = geo_of(dev);
    uint32_t es = g->erase_size, size = o->sc->image.size;
    uint32_t off = 0, phys = o->lay->data_addr, unstable, i;
    uint8_t got = 0;

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
        i = settled_mismatch(dev, phys, img + off, k, &got, NULL, 0);
        if (i != k) {
            snprintf(why, n, "image byte 0x%x reads 0x%02x, expected 0x%02x",
                     off + i, got, img[off + i]);
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
    /* A burst longer than fwresume's default retries (3) may exhaust
     * them. */
    return (x->wear_mode != SIM_WEAR_NONE && x->endurance) ||
           x->fail_burst > 3 || x->read_flip_rate > 0 ||
           x->retention_rate > 0 || sc->offline.read_error_rate > 0 ||
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

/*
 * The auto cost bounds (docs/fault-model.md, "Cost bounds"). A trial must
 * finish what the uncut update still had to do from its cut on, and per
 * boot it may redo what a cut makes unavoidable: the block group in
 * flight (erase and rewrite it), the record copies' erase units (a cut
 * while they were being formatted), a handful of records (voids of the
 * group's blocks, the header), a read of the whole partition (the resume
 * scan) and a request's latency. Not a rewrite of the whole log: a
 * compaction is needed only when the log is full, which one boot's few
 * records cannot cause; where the uncut update compacted before the cut
 * (or a nested cut may land in the recovery's compaction), one per boot,
 * as long as the uncut update's longest. Where the fault model lets the image
 * be downloaded again in full (the server's image changes, a corrupting link
 * fails the digest, ...), the whole update is allowed again, once per
 * cause.
 */
void oracle_budget(const struct oracle *o, const struct trial *tr,
                   struct oracle_budget *b)
{
    const struct scenario *sc = o->sc;
    const struct sim_geometry *g = &sc->device.geo;
    const struct sim_timing *tm = &sc->device.timing;
    const struct scenario_expect *ex = &sc->expect;
    uint64_t es = g->erase_size, boots = tr->boots ? tr->boots : 1;
    uint64_t group = sc->engine.block_size > es ? sc->engine.block_size : es;
    uint64_t copies = o->lay->mirror_addr != ENGINE_NO_MIRROR ? 2 : 1;
    uint64_t rec_bytes = (uint64_t)o->lay->record_size * copies;
    uint64_t part = (uint64_t)o->lay->part_hi - o->lay->part_lo;
    uint64_t wprog = g->prog_size > 256 ? g->prog_size : 256;
    uint64_t prog_ns = tm->draw_times ? tm->prog_max_ns : tm->prog_typ_ns;
    uint64_t erase_ns = tm->draw_times ? tm->erase_max_ns : tm->erase_typ_ns;
    uint64_t bw = sc->link.bandwidth_bps ? sc->link.bandwidth_bps : 1;
    const struct sim_faults *x = &sc->device.faults;
    /* Whole updates a trial may do again, one per cause, as each can
     * force one on its own and they add up (campaign-full #017: bits
     * lost in the only record copy's header, then the image changed: two
     * whole downloads in one boot). Causes the trial ran into, not the
     * ones its scenario could have dealt (a bound that allows everything
     * everywhere catches nothing: the compact_boot mutant passed
     * campaign-ci that way). The server's image changed after the cut
     * (what the uncut update still had to do covers a change before);
     * the link corrupted bytes after the cut: the digest fails, one
     * restart per boot (fwresume's default max_restarts, which the
     * harness keeps, counted per engine instance); bits lost in the
     * record copies may hit every header at each boot (one bit with a
     * mirror hits one copy: the other serves, except once the record area
     * is being rewritten: one copy alone is whole during a compaction); a cut
     * while the only copy is rewritten (a compaction without a mirror) loses
     * the log. Faults drawn at random per op (worn cells, read flips,
     * retention, read disturb, dropped transfers) bound nothing per boot: each
     * may cost a group again, any number of times; one whole update covers
     * them. A read error (faults.read_error_rate) ends its boot: the boots pay
     * for it. */
    uint64_t whole =
        (tr->image_changed ? 1u : 0u) + (tr->bytes_corrupted ? boots : 0u) +
        (sc->offline.record_flips &&
                 (copies == 1 || sc->offline.record_flips >= 2 ||
                  tr->log_rewrite)
             ? boots
             : 0u) +
        (copies == 1 && (tr->in_rewrite || (tr->log_rewrite && tr->depth > 1))
             ? boots
             : 0u) +
        (sc->link.drop_rate > 0 ||
                 (x->wear_mode != SIM_WEAR_NONE && x->endurance) ||
                 x->read_flip_rate > 0 || x->retention_rate > 0 ||
                 x->read_disturb_limit
             ? 1u
             : 0u);
    /* Groups a boot may redo: the one in flight, one per bit lost while
     * the power was off (data, or a record of either copy), one per
     * failure of a burst. */
    uint64_t groups = 1 + (uint64_t)sc->offline.data_flips +
                      (uint64_t)sc->offline.record_flips * copies +
                      x->fail_burst;
    /* Per boot: those groups' units and the record copies erased again;
     * the groups rewritten, and per record copy a header, a void record
     * for each block of the groups, one for each group in flight and one
     * more. */
    uint64_t e_boot = (groups * group + rec_bytes) / es + 1;
    uint64_t p_boot =
        groups * group / wprog +
        ((groups * group / sc->engine.block_size + groups + 1) * 2 + 2) *
            copies +
        16;
    uint64_t read_ns = tm->read_setup_ns * (part / es + 1) +
                       tm->read_per_byte_ns * part +
                       tm->page_read_typ_ns * (part / g->prog_size + 1);
    uint64_t ns_boot;

    if (tr->log_rewrite) {
        /* A cut inside a compaction: the boot redoes it, as long as the
         * uncut update's longest one, re-reading the data it re-hashes. */
        e_boot += o->rewrite_erases;
        p_boot += o->rewrite_programs;
        read_ns *= 2;
    }
    /* What a boot downloads again: its groups (as stored, for a package:
     * LZ4 may make a block longer), and a package's head. */
    uint64_t fetch = groups * group +
                     (o->packaged ? groups * (group / 255u + 16u) : 0u) +
                     o->boot_fetch;
    ns_boot = read_ns + e_boot * erase_ns + p_boot * prog_ns +
              fetch * 1000000000ull / bw +
              (groups + 1 + (o->packaged ? 2u : 0u)) * sc->link.latency_ns;

    b->erases =
        ex->max_erases != EXPECT_AUTO
            ? ex->max_erases
            : tr->erases_left + boots * e_boot + whole * o->update_erases;
    b->programs =
        ex->max_programs != EXPECT_AUTO
            ? ex->max_programs
            : tr->programs_left + boots * p_boot + whole * o->update_programs;
    b->unit_erases = ex->max_unit_erases != EXPECT_AUTO
                         ? ex->max_unit_erases
                         : o->update_unit_erases + (groups + 1) * boots +
                               whole * o->update_unit_erases;
    b->recover_ns =
        ex->max_recover_ns != EXPECT_AUTO
            ? ex->max_recover_ns
            : tr->update_ns_left + boots * ns_boot + whole * o->update_ns;
}

/*
 * Could this trial call for a whole-image restart? fwresume restarts when
 * every block matches its record and the image digest still fails: a
 * record that hashes wrong bytes. Only bytes corrupted on the link (before
 * the cut or after), record bits lost, reads that may return other bytes,
 * or worn cells make one;
 * anything else (a cut, bits lost in data) is found block by block.
 */
static int restart_cause(const struct scenario *sc, const struct trial *tr)
{
    const struct sim_faults *x = &sc->device.faults;
    return tr->bytes_corrupted > 0 || tr->corrupted_before > 0 ||
           sc->offline.record_flips > 0 || x->read_flip_rate > 0 ||
           x->retention_rate > 0 || x->read_disturb_limit ||
           (x->wear_mode != SIM_WEAR_NONE && x->endurance);
}

/* A complete, exact trial that cost more than a bound: over_budget, with
 * the figure and the bound. */
static void check_budget(const struct oracle *o, struct trial *tr)
{
    struct oracle_budget b;
    const char *what = NULL;
    uint64_t got = 0, max = 0;

    oracle_budget(o, tr, &b);
    if (b.erases && tr->erases > b.erases)
        what = "erases", got = tr->erases, max = b.erases;
    else if (b.programs && tr->programs > b.programs)
        what = "programs", got = tr->programs, max = b.programs;
    else if (b.unit_erases && tr->unit_erases > b.unit_erases)
        what = "erases of one unit", got = tr->unit_erases, max = b.unit_erases;
    if (!what && tr->restarts && !restart_cause(o->sc, tr)) {
        tr->verdict = VERDICT_OVER_BUDGET;
        snprintf(tr->detail, sizeof(tr->detail),
                 "restarted the whole download %u times; nothing this "
                 "trial ran into calls for one",
                 tr->restarts);
        return;
    }
    if (what) {
        tr->verdict = VERDICT_OVER_BUDGET;
        snprintf(tr->detail, sizeof(tr->detail),
                 "%llu %s after the cut, bound %llu", (unsigned long long)got,
                 what, (unsigned long long)max);
    } else if (b.recover_ns && tr->recover_ns > b.recover_ns) {
        tr->verdict = VERDICT_OVER_BUDGET;
        snprintf(tr->detail, sizeof(tr->detail),
                 "recovery took %.3f s simulated, bound %.3f s",
                 tr->recover_ns / 1e9, b.recover_ns / 1e9);
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
    uint64_t group;

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
    } else if (rc == ORACLE_STUCK ||
               tr->boots - tr->io_boots > sc->cuts.max_boots) {
        tr->verdict = VERDICT_STUCK;
        snprintf(tr->detail, sizeof(tr->detail),
                 "no completion after %u boots / %llu requests", tr->boots,
                 (unsigned long long)o->request_bound);
    } else if (rc < 0) {
        tr->verdict = oracle_failure_unavoidable(sc) ? VERDICT_DETECTED_FAILURE
                                                     : VERDICT_UNEXPECTED_ERROR;
        snprintf(tr->detail, sizeof(tr->detail), "engine error %d", rc);
    } else if (!oracle_data_matches(o, dev, img, why, sizeof(why))) {
        tr->verdict = VERDICT_SILENT_CORRUPTION;
        snprintf(tr->detail, sizeof(tr->detail), "complete, but %.140s", why);
    } else if (o->format_check &&
               o->format_check(o->format_user, dev, img, why, sizeof(why))) {
        tr->verdict = VERDICT_FORMAT_VIOLATION;
        snprintf(tr->detail, sizeof(tr->detail), "%.150s", why);
    } else {
        /* The group in flight (block or erase unit, the larger) is the
         * loss each cut makes unavoidable; more is extra download. */
        group = sc->engine.block_size > geo_of(dev)->erase_size
                    ? sc->engine.block_size
                    : geo_of(dev)->erase_size;
        /* A package's group as stored may be a little longer, and every
         * boot fetches the head again (section 6 of package-format.md). */
        if (o->packaged)
            group += group / 255u + 16u + o->boot_fetch;
        tr->verdict = tr->bytes_redownloaded <= group * tr->depth
                          ? VERDICT_RECOVERED
                          : VERDICT_RECOVERED_EXTRA;
        check_budget(o, tr);
    }
    tr->failed = (uint8_t)verdict_is_failure((enum verdict)tr->verdict,
                                             sc->expect.allow_detected_failure);
    check_expectations(&sc->expect, tr);
}
