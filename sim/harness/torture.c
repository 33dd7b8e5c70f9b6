/*
 * torture: run -> boundary -> copy -> cut -> reboot -> recover -> judge ->
 * log. The verdict is oracle.c's, the hash ops hashes.c's; parsing, the
 * database and progress live elsewhere.
 */
#define _POSIX_C_SOURCE 200809L
#include "torture.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwr_skipbad.h"
#include "fwresume.h"
#include "hashes.h"
#include "link.h"
#include "oracle.h"
#include "sim_flash.h"
#include "sim_rng.h"

#define DRIVE_STUCK ORACLE_STUCK /* drive(): no completion in bound */
#define CHUNK       4096u /* bytes handed to fwr_feed at a time */

/* An engine and everything it owns: the live run and the trial running
 * inside its hook each have one, so neither disturbs the other. */
struct engine {
    struct fwr fw;
    struct fwr_config cfg;
    struct fwr_skipbad skipbad; /* NAND: bad units skipped under the ops */
    struct harness_hash blk, img; /* one context per ops, as they nest */
    uint32_t *work;
    uint8_t chunk[CHUNK];
};

/* One boot of one engine on one device, downloading over one link. */
struct session {
    struct torture *t;
    struct engine *e;
    struct sim_flash *dev;
    struct link *link;
    uint64_t scan_ns;     /* simulated time of the first resume scan */
    uint32_t resumed;     /* blocks the first resume scan found valid */
    uint32_t false_claim; /* 1 + first block taken as valid that is not */
};

struct torture {
    const struct scenario *sc;
    struct scenario_layout lay;
    struct sim_config devcfg;
    struct sim_flash *live, *trial_dev, *pristine;
    uint8_t *image[2]; /* server image v1, v2 */
    struct fwr_image id[2];
    struct engine eng[2];         /* [0] the live run, [1] the trial */
    struct harness_hash digest;   /* for image digests */
    uint32_t work_size, work_min; /* given; what the engine needs */
    uint64_t request_bound;
    struct oracle oracle; /* judges each trial */

    /* The uncut update. */
    uint64_t boundaries, update_bytes;
    uint64_t update_erases, update_programs, update_ns;
    uint64_t *plan; /* boundary index of each trial */
    uint64_t planned;
    uint32_t *erases_update, *erases_worst;

    /* The running pass. */
    struct link live_link;
    uint64_t next; /* next plan entry */
    uint64_t first_trial;
    const uint8_t *skip;               /* per planned trial: 1 = already done */
    uint64_t shard_index, shard_count; /* run ids with id % count == index */
    int64_t only_trial;                /* replay: this trial only */
    torture_sink sink;
    void *sink_user;
    struct torture_result *res;
    int stop;
    const char *dump_before, *dump_after;
    struct trial *replayed;
    const uint64_t *forced_cuts; /* replay with explicit cuts */
    uint32_t forced_depth;

    /* The trial in progress (nested cuts). */
    jmp_buf trial_jmp;
    uint64_t trial_boundary, trial_cut_at;
    int trial_cut_armed;
    struct sim_boundary trial_cut;
};

/* ------------------------------------------------------------ helpers */

static double host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    return sim_rng_mix(a, b);
}

static int make_image(struct torture *t, int v, char *err, size_t errlen)
{
    const struct scenario *sc = t->sc;
    uint32_t size = sc->image.size, i;
    uint64_t x = mix(v ? sc->image.version2_seed : sc->image.seed, 77);
    uint8_t *p;
    struct fwr_image *id = &t->id[v];

    p = t->image[v] = malloc(size ? size : 1);
    if (!p) {
        snprintf(err, errlen, "out of memory for the image");
        return -1;
    }
    if (sc->image.file[0] && v == 0) {
        FILE *fp = fopen(sc->image.file, "rb");
        if (!fp || fread(p, 1, size, fp) != size) {
            snprintf(err, errlen, "%s: image.file: cannot read %u bytes: %s",
                     sc->path, size, fp ? "file too short" : strerror(errno));
            if (fp)
                fclose(fp);
            return -1;
        }
        fclose(fp);
    } else {
        for (i = 0; i + 8 <= size; i += 8) {
            x = mix(x, i);
            memcpy(p + i, &x, 8);
        }
        for (; i < size; i++)
            p[i] = (uint8_t)mix(x, i);
    }
    memset(id, 0, sizeof(*id));
    id->size = size;
    id->version_len = (uint8_t)snprintf((char *)id->version,
                                        sizeof(id->version), "v%d", v + 1);
    if (sc->engine.digest != FWR_HASH_NONE) {
        id->digest_kind = t->digest.ops.kind;
        id->digest_len = t->digest.ops.size;
        if (harness_hash_buf(&t->digest, p, size, id->digest)) {
            snprintf(err, errlen, "image digest failed");
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ a session */

/*
 * Boot a fresh engine on s->dev and download until complete. Returns 0,
 * a negative fwr error, or DRIVE_STUCK. A power cut longjmps out.
 */
static void check_claims(struct session *s);

static int drive(struct session *s, int first_boot)
{
    struct torture *t = s->t;
    struct fwr_config *c = &s->e->cfg;
    struct fwr *f = &s->e->fw;
    struct link *l = s->link;
    uint64_t req, t0;
    int ver, rc;

    /* No RAM survives a reboot: the work buffer starts as garbage. */
    memset(s->e->work, 0xA5, t->work_size);
    sim_flash_fwr_ops(s->dev, &c->flash);
    if (t->devcfg.geo.kind == SIM_NAND) {
        struct fwr_flash_ops raw = c->flash;
        fwr_skipbad_init(&s->e->skipbad, &raw, sim_flash_fwr_is_bad,
                         &c->layout, c->geometry.erase_size, &c->flash);
    }
    rc = fwr_init(f, c);
    if (rc)
        return rc;
    ver = l->version;
    t0 = sim_flash_clock_ns(s->dev);
    rc = fwr_begin(f, &t->id[ver - 1]);
    /* A corrupting link makes records of wrong bytes that only the image
     * digest can catch: the claim check holds for a clean link only. */
    if (rc == 0 && s->e == &t->eng[1] && t->sc->link.corrupt_rate <= 0)
        check_claims(s);
    if (first_boot) {
        struct fwr_progress p;
        s->scan_ns = sim_flash_clock_ns(s->dev) - t0;
        fwr_get_progress(f, &p);
        s->resumed = p.blocks_resumed;
    }
    if (rc)
        return rc;
    for (req = 0; req < t->request_bound; req++) {
        uint32_t off, len, n, done = 0;
        const uint8_t *img;
        if (l->version != ver) {
            /* The server's ETag changed: the device starts the new image,
             * which voids the old one's records. */
            ver = l->version;
            rc = fwr_begin(f, &t->id[ver - 1]);
            if (rc)
                return rc;
        }
        if (fwr_state(f) == FWR_STATE_COMPLETE)
            return 0;
        rc = fwr_next_range(f, &off, &len);
        if (rc)
            return rc;
        if (!len)
            continue;
        img = t->image[ver - 1];
        n = link_request(l, len);
        while (done < n) {
            uint32_t k = n - done < CHUNK ? n - done : CHUNK;
            link_deliver(l, s->e->chunk, img + off + done, k);
            rc = fwr_feed(f, s->e->chunk, k);
            if (rc == FWR_E_AGAIN)
                break;
            if (rc < 0)
                return rc;
            done += k;
        }
    }
    return DRIVE_STUCK;
}

/* ------------------------------------------------------------ claims */

/*
 * After a reboot's resume scan: every block the engine now counts as done
 * must hold exactly the image's bytes. A block taken as valid that is not
 * is a silent corruption in the making, whether or not a later check
 * happens to catch it.
 */
static void check_claims(struct session *s)
{
    struct torture *t = s->t;
    const uint8_t *img = t->image[s->link->version - 1];
    uint32_t bs = t->sc->engine.block_size, size = t->sc->image.size, i, n;

    if (s->false_claim)
        return;
    n = (size + bs - 1) / bs;
    for (i = 0; i < n; i++) {
        uint32_t off = i * bs, len = size - off < bs ? size - off : bs;
        if (fwr_block_done(&s->e->fw, i) &&
            !oracle_range_matches(&t->oracle, s->dev, img, off, len)) {
            s->false_claim = i + 1;
            return;
        }
    }
}

/* ------------------------------------------------------------ a trial */

/* Hook of the trial device: nested cuts inside the recovery. */
static bool trial_hook(void *user, const struct sim_boundary *b)
{
    struct torture *t = user;
    (void)b;
    if (!t->trial_cut_armed)
        return false;
    if (t->trial_boundary++ != t->trial_cut_at)
        return false;
    t->trial_cut = *b;
    t->trial_cut_armed = 0;
    return true;
}

static void trial_power_loss(void *user)
{
    struct torture *t = user;
    longjmp(t->trial_jmp, 1);
}

/* Cut point of nested level `level` (>= 1) for a trial: the recovery is
 * shorter than the whole update, so draw within what is left of it. */
static uint64_t nested_cut(struct torture *t, const struct trial *tr,
                           uint32_t level)
{
    uint64_t left = t->boundaries - tr->cuts[0] + 4;
    if (t->forced_cuts)
        return t->forced_cuts[level];
    return mix(tr->seed, level) % left;
}

/* What the uncut update still did from this cut on (the op in flight
 * included): the yardstick of the cost bounds. The live device's counters
 * started with the update, as the uncut figures did. */
static void trial_yardstick(const struct torture *t, struct trial *tr)
{
    const struct sim_stats *ls = sim_flash_stats(t->live);
    uint64_t done_ns = sim_flash_clock_ns(t->live) -
                       sim_flash_clock_ns(t->pristine) +
                       t->live_link.clock_ns;
    tr->erases_left = t->update_erases - ls->erases;
    tr->programs_left = t->update_programs - ls->programs;
    tr->update_ns_left = t->update_ns > done_ns ? t->update_ns - done_ns : 0;
}

/* Per erase unit: the most erases any trial caused since the pristine
 * device (the run's wear table), and the trial's own most-erased unit
 * (counted from the cut: the wear bound). */
static void trial_wear(struct torture *t, struct sim_flash *dev,
                       struct trial *tr)
{
    uint32_t u, n = sim_flash_unit_count(dev);
    for (u = 0; u < n; u++) {
        uint32_t now = sim_flash_erase_count(dev, u);
        uint32_t since_pristine = now - sim_flash_erase_count(t->pristine, u);
        uint32_t since_cut = now - sim_flash_erase_count(t->live, u);
        if (since_pristine > t->erases_worst[u])
            t->erases_worst[u] = since_pristine;
        if (since_cut > tr->unit_erases)
            tr->unit_erases = since_cut;
    }
}

/*
 * One trial, inside the live device's hook at boundary b: copy, cut,
 * reboot and recover (with nested cuts), judge. The live device and link
 * are only read.
 */
static void run_trial(struct torture *t, const struct sim_boundary *b,
                      uint64_t id, struct trial *tr)
{
    struct sim_flash *dev = t->trial_dev;
    struct link link = t->live_link;
    struct session s = {t, &t->eng[1], dev, &link, 0, 0, 0};
    const struct sim_stats *st;
    uint64_t prog0, erase0, clock0, link0, served0, remaining;
    volatile uint32_t level = 1, boots = 0;
    volatile int rc = 0;
    double h0 = host_now(), r0;
    volatile uint32_t depth =
        t->forced_cuts ? t->forced_depth : t->sc->cuts.depth;

    memset(tr, 0, sizeof(*tr));
    tr->id = id;
    tr->seed = mix(t->sc->seed, id);
    tr->depth = 1;
    tr->cuts[0] = b->index;
    tr->cut_op[0] = b->op;
    tr->cut_addr[0] = b->addr;
    tr->cut_area[0] = b->addr >= t->lay.data_addr     ? 0
                      : b->addr >= t->lay.mirror_addr ? 2
                                                      : 1;
    trial_yardstick(t, tr);

    /* copy -> cut. The copy draws its faults (the torn pattern, unstable
     * bits, flips) from the trial's seed: the live device's generator
     * hardly moves between boundaries, and every trial would otherwise tear
     * and flip the same bit positions. */
    sim_flash_copy(dev, t->live);
    sim_flash_reseed(dev, tr->seed);
    if (t->dump_before)
        sim_flash_save(dev, t->dump_before);
    sim_flash_apply_cut(dev, b);
    if (t->sc->device.faults.offline_flips &&
        fwr_state(&t->eng[0].fw) != FWR_STATE_COMPLETE)
        /* Power stays off a while: programmed data leaks charge. Only
         * while the update is under way: rot of a finished image is the
         * boot loader's to catch, not the download engine's. */
        sim_flash_lose_bits(dev, t->lay.data_addr,
                            t->lay.data_addr + t->sc->image.size,
                            t->sc->device.faults.offline_flips);
    if (t->sc->device.faults.offline_record_flips &&
        fwr_state(&t->eng[0].fw) != FWR_STATE_COMPLETE)
        sim_flash_lose_bits(dev, t->lay.record_addr, t->lay.data_addr,
                            t->sc->device.faults.offline_record_flips);
    link_reseed(&link, tr->seed);
    st = sim_flash_stats(dev);
    prog0 = st->programs;
    erase0 = st->erases;
    clock0 = sim_flash_clock_ns(dev);
    link0 = link.clock_ns;
    served0 = link.served;
    remaining = t->update_bytes - t->live_link.served;

    /* reboot -> recover, cut again while levels remain */
    sim_flash_set_boundary_hook(dev, trial_hook, trial_power_loss, t);
    r0 = host_now();
    for (;;) {
        if (setjmp(t->trial_jmp)) {
            /* Power failed during the recovery: record the cut, reboot. */
            uint32_t k = level;
            if (k < TRIAL_MAX_DEPTH) {
                tr->cuts[k] = t->trial_cut.index;
                tr->cut_op[k] = t->trial_cut.op;
                tr->cut_addr[k] = t->trial_cut.addr;
            }
            tr->depth = k + 1;
            level = k + 1;
        }
        if (boots > t->sc->cuts.max_boots) {
            rc = DRIVE_STUCK;
            break;
        }
        boots = boots + 1;
        sim_flash_power_on(dev);
        t->trial_boundary = 0;
        t->trial_cut_armed = level < depth;
        if (t->trial_cut_armed)
            t->trial_cut_at = nested_cut(t, tr, level);
        rc = drive(&s, boots == 1);
        break;
    }
    t->trial_cut_armed = 0;
    sim_flash_set_boundary_hook(dev, NULL, NULL, NULL);
    if (t->res)
        t->res->recover_s += host_now() - r0;

    /* judge */
    st = sim_flash_stats(dev);
    tr->boots = boots;
    tr->bytes_downloaded = link.served - served0;
    tr->bytes_redownloaded =
        tr->bytes_downloaded > remaining ? tr->bytes_downloaded - remaining : 0;
    tr->blocks_redownloaded =
        (uint32_t)((tr->bytes_redownloaded + t->sc->engine.block_size - 1) /
                   t->sc->engine.block_size);
    tr->programs = st->programs - prog0;
    tr->erases = st->erases - erase0;
    tr->recover_ns = sim_flash_clock_ns(dev) - clock0 + link.clock_ns - link0;
    tr->scan_ns = s.scan_ns;
    tr->blocks_resumed = s.resumed;
    tr->false_claim = s.false_claim;
    trial_wear(t, dev, tr);
    oracle_judge(&t->oracle, dev, t->image[link.version - 1], rc, tr);
    if (t->dump_after)
        sim_flash_save(dev, t->dump_after);
    tr->wall_ns = (uint64_t)((host_now() - h0) * 1e9);
}

/* ------------------------------------------------------------ the run */

/* Live device's hook: every boundary of the uncut update passes here. */
static bool live_hook(void *user, const struct sim_boundary *b)
{
    struct torture *t = user;
    struct trial tr;

    if (t->stop || t->next >= t->planned || t->plan[t->next] != b->index)
        return false;
    /* The plan is sorted: this boundary is trial t->next. */
    for (; t->next < t->planned && t->plan[t->next] == b->index; t->next++) {
        uint64_t id = t->next;
        if (id < t->first_trial || (t->skip && t->skip[id]) ||
            (t->shard_count > 1 && id % t->shard_count != t->shard_index) ||
            (t->only_trial >= 0 && (int64_t)id != t->only_trial))
            continue;
        run_trial(t, b, id, &tr);
        if (t->replayed)
            *t->replayed = tr;
        if (t->res) {
            struct torture_result *r = t->res;
            r->trials++;
            r->verdicts[tr.verdict]++;
            r->failed += tr.failed;
            if (tr.bytes_redownloaded > r->worst_redownload || r->trials == 1) {
                r->worst_redownload = tr.bytes_redownloaded;
                r->worst_trial = tr.id;
            }
        }
        if (t->sink && t->sink(t->sink_user, &tr))
            t->stop = 1;
        if (t->only_trial >= 0)
            t->stop = 1;
    }
    return false; /* the live run is never cut */
}

/* The uncut update from the pristine device, with or without trials. */
static int live_update(struct torture *t, int with_trials)
{
    struct session s;
    int rc;

    sim_flash_copy(t->live, t->pristine);
    sim_flash_reset_counters(t->live);
    link_init(&t->live_link, &t->sc->link, mix(t->sc->seed, 0xC0FFEE));
    t->next = 0;
    t->stop = 0;
    sim_flash_set_boundary_hook(t->live, with_trials ? live_hook : NULL, NULL,
                                t);
    s.t = t;
    s.e = &t->eng[0];
    s.dev = t->live;
    s.link = &t->live_link;
    s.scan_ns = 0;
    s.resumed = 0;
    s.false_claim = 0;
    rc = drive(&s, 1);
    sim_flash_set_boundary_hook(t->live, NULL, NULL, NULL);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Which boundaries to cut, per the scenario's strategy (seeded). */
static int make_plan(struct torture *t)
{
    const struct scenario_cuts *c = &t->sc->cuts;
    uint64_t n = t->boundaries, i, k = 0, want;

    want = c->strategy == CUT_EXHAUSTIVE ? n
           : c->strategy == CUT_EVERY
               ? (n + c->every - 1) / (c->every ? c->every : 1)
               : (c->count < n ? c->count : n);
    t->plan = malloc((want ? want : 1) * sizeof(*t->plan));
    if (!t->plan)
        return -1;
    for (i = 0; i < want; i++) {
        switch (c->strategy) {
        case CUT_EXHAUSTIVE:
            t->plan[k++] = i;
            break;
        case CUT_EVERY:
            t->plan[k++] = i * (c->every ? c->every : 1);
            break;
        case CUT_RANDOM:
            t->plan[k++] = mix(t->sc->seed, i + 1) % n;
            break;
        default: { /* log-spaced over [0, n) */
            double x = want > 1 ? (double)i / (double)(want - 1) : 0;
            double v = __builtin_exp(x * __builtin_log((double)n)) - 1;
            t->plan[k++] = (uint64_t)v < n ? (uint64_t)v : n - 1;
        }
        }
    }
    qsort(t->plan, k, sizeof(*t->plan), cmp_u64);
    /* Distinct boundaries only. */
    for (i = 0, want = 0; i < k; i++)
        if (!want || t->plan[want - 1] != t->plan[i])
            t->plan[want++] = t->plan[i];
    t->planned = want;
    return 0;
}

static bool count_hook(void *user, const struct sim_boundary *b)
{
    (void)b;
    ((struct torture *)user)->boundaries++;
    return false;
}

int torture_create(struct torture **out, const struct scenario *sc, char *err,
                   size_t errlen)
{
    struct torture *t;
    struct fwr_config *c;
    uint32_t nblocks, u, n;
    int rc;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->sc = sc;
    t->only_trial = -1;
    if (scenario_layout(sc, &t->lay, err, errlen))
        goto fail;
    if (harness_hash_init(&t->digest,
                          sc->engine.digest != FWR_HASH_NONE
                              ? sc->engine.digest
                              : sc->engine.hash,
                          err, errlen) ||
        harness_hash_init(&t->eng[0].blk, sc->engine.hash, err, errlen)) {
        char why[200];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errlen, "%s: engine.hash/digest: %s", sc->path, why);
        goto fail;
    }
    t->devcfg = sc->device;
    rc = sim_flash_create(&t->pristine, &t->devcfg);
    if (!rc)
        rc = sim_flash_create(&t->live, &t->devcfg);
    if (!rc)
        rc = sim_flash_create(&t->trial_dev, &t->devcfg);
    if (rc) {
        snprintf(err, errlen, "%s: [device]: impossible geometry (error %d)",
                 sc->path, rc);
        goto fail;
    }
    /* The device arrives holding old firmware, not erased. */
    {
        struct sim_flash *p = t->pristine;
        uint32_t a, step = t->devcfg.geo.prog_size > 256
                               ? t->devcfg.geo.prog_size
                               : 256;
        uint8_t *junk = malloc(step);
        if (!junk)
            goto fail;
        for (a = 0; a < step; a++)
            junk[a] = (uint8_t)(a * 29 + 7);
        for (a = 0; a + step <= t->devcfg.geo.size; a += step)
            if (t->devcfg.geo.kind != SIM_NAND || sim_flash_is_bad(p, a) != 1)
                sim_flash_program(p, a, junk, step);
        free(junk);
        sim_flash_reset_counters(p);
    }
    if (t->devcfg.geo.kind == SIM_NAND) {
        /* The engine skips bad units in the data area only; the record
         * copies must be good (the mirror covers a copy that goes bad). */
        uint32_t a, es = t->devcfg.geo.erase_size;
        for (a = t->lay.record_addr; a < t->lay.data_addr; a += es)
            if (sim_flash_is_bad(t->pristine, a) == 1) {
                snprintf(err, errlen,
                         "%s: device.factory_bad: the record area "
                         "0x%x-0x%x holds a factory bad block at 0x%x (seed "
                         "%llu); move engine.partition_addr or change "
                         "faults.seed",
                         sc->path, t->lay.record_addr, t->lay.data_addr, a,
                         (unsigned long long)t->devcfg.faults.seed);
                goto fail;
            }
    }
    if (make_image(t, 0, err, errlen) || make_image(t, 1, err, errlen))
        goto fail;

    nblocks =
        (sc->image.size + sc->engine.block_size - 1) / sc->engine.block_size;
    n = sc->engine.write_size
            ? sc->engine.write_size
            : (t->devcfg.geo.prog_size > 256 ? t->devcfg.geo.prog_size : 256);
    /* Beyond the minimum, an erase unit's worth of read buffer: the
     * engine then hashes in big pieces (zlib's CRC is twice as fast on
     * 4 KiB as on 256 B). */
    t->work_min = FWR_WORK_SIZE(n, nblocks);
    t->work_size =
        FWR_WORK_SIZE(n, nblocks) + (t->devcfg.geo.erase_size < (256u << 10)
                                         ? t->devcfg.geo.erase_size
                                         : (256u << 10));
    for (u = 0; u < 2; u++) {
        struct engine *e = &t->eng[u];
        c = &e->cfg;
        /* Kinds were checked above: these cannot fail. */
        harness_hash_init(&e->blk, sc->engine.hash, err, errlen);
        harness_hash_init(&e->img,
                          sc->engine.digest != FWR_HASH_NONE
                              ? sc->engine.digest
                              : sc->engine.hash,
                          err, errlen);
        c->geometry.prog_size = t->devcfg.geo.prog_size;
        c->geometry.erase_size = t->devcfg.geo.erase_size;
        c->geometry.erased_value = t->devcfg.geo.erased_value;
        c->geometry.kind =
            t->devcfg.geo.kind == SIM_NAND ? FWR_FLASH_NAND : FWR_FLASH_NOR;
        c->layout.record_addr = t->lay.record_addr;
        c->layout.record_size = t->lay.record_size;
        c->layout.mirror_addr = t->lay.mirror_addr;
        c->layout.data_addr = t->lay.data_addr;
        c->layout.data_size = t->lay.data_size;
        c->block_size = sc->engine.block_size;
        c->write_size = sc->engine.write_size;
        c->block_hash = &e->blk.ops;
        c->image_hash = &e->img.ops;
        c->verify = sc->engine.verify;
        e->work = malloc(t->work_size);
        if (!e->work)
            goto fail;
        c->work = e->work;
        c->work_size = t->work_size;
    }
    t->request_bound =
        64 + (uint64_t)(8.0 * nblocks / (1.0 - sc->link.drop_rate));
    t->oracle.sc = sc;
    t->oracle.lay = &t->lay;
    t->oracle.request_bound = t->request_bound;

    /* The uncut update: count its boundaries and what it downloads. */
    sim_flash_copy(t->live, t->pristine);
    sim_flash_set_boundary_hook(t->live, count_hook, NULL, t);
    {
        struct session s = {t, &t->eng[0], t->live, &t->live_link, 0, 0, 0};
        link_init(&t->live_link, &sc->link, mix(sc->seed, 0xC0FFEE));
        rc = drive(&s, 1);
    }
    sim_flash_set_boundary_hook(t->live, NULL, NULL, NULL);
    if (rc) {
        snprintf(err, errlen,
                 "%s: the uncut update does not complete (%s %d): the "
                 "scenario cannot be tortured",
                 sc->path, rc == DRIVE_STUCK ? "stuck" : "engine error", rc);
        goto fail;
    }
    t->update_bytes = t->live_link.served;
    t->update_erases = sim_flash_stats(t->live)->erases;
    t->update_programs = sim_flash_stats(t->live)->programs;
    t->update_ns = sim_flash_clock_ns(t->live) -
                   sim_flash_clock_ns(t->pristine) + t->live_link.clock_ns;
    n = sim_flash_unit_count(t->live);
    t->erases_update = calloc(n, 4);
    t->erases_worst = calloc(n, 4);
    if (!t->erases_update || !t->erases_worst)
        goto fail;
    for (u = 0; u < n; u++) {
        t->erases_update[u] = sim_flash_erase_count(t->live, u) -
                              sim_flash_erase_count(t->pristine, u);
        if (t->erases_update[u] > t->oracle.update_unit_erases)
            t->oracle.update_unit_erases = t->erases_update[u];
    }
    t->oracle.update_erases = t->update_erases;
    t->oracle.update_programs = t->update_programs;
    t->oracle.update_ns = t->update_ns;
    if (make_plan(t))
        goto fail;
    *out = t;
    return 0;
fail:
    if (!err[0])
        snprintf(err, errlen, "out of memory");
    torture_destroy(t);
    return -1;
}

void torture_set_shard(struct torture *t, uint64_t index, uint64_t count,
                       const uint8_t *skip)
{
    t->shard_index = index;
    t->shard_count = count;
    t->skip = skip;
}

int torture_run(struct torture *t, uint64_t first_trial, torture_sink sink,
                void *user, struct torture_result *res)
{
    double h0 = host_now();
    int rc;

    memset(res, 0, sizeof(*res));
    res->boundaries = t->boundaries;
    res->planned = t->planned;
    t->first_trial = first_trial;
    t->sink = sink;
    t->sink_user = user;
    t->res = res;
    rc = live_update(t, 1);
    torture_update_figures(t, res);
    res->wall_s = host_now() - h0;
    t->res = NULL;
    return rc < 0 && !t->stop ? rc : 0;
}

int torture_replay(struct torture *t, uint64_t trial_id, const uint64_t *cuts,
                   uint32_t depth, const char *dump_before,
                   const char *dump_after, struct trial *out)
{
    uint64_t one;
    int rc;

    memset(out, 0, sizeof(*out));
    out->verdict = VERDICT_COUNT;
    t->dump_before = dump_before;
    t->dump_after = dump_after;
    t->replayed = out;
    if (cuts) {
        /* An explicit cut list: a one-entry plan at cuts[0]. */
        one = cuts[0];
        free(t->plan);
        t->plan = malloc(sizeof(*t->plan));
        if (!t->plan)
            return -1;
        t->plan[0] = one;
        t->planned = 1;
        trial_id = 0;
        t->forced_cuts = cuts;
        t->forced_depth = depth;
    } else if (trial_id >= t->planned) {
        return -1;
    }
    t->only_trial = (int64_t)trial_id;
    t->first_trial = 0;
    t->sink = NULL;
    rc = live_update(t, 1);
    t->only_trial = -1;
    t->replayed = NULL;
    t->forced_cuts = NULL;
    t->dump_before = t->dump_after = NULL;
    if (out->verdict == VERDICT_COUNT)
        return -1;
    return rc < 0 ? rc : 0;
}

void torture_destroy(struct torture *t)
{
    if (!t)
        return;
    sim_flash_destroy(t->live);
    sim_flash_destroy(t->trial_dev);
    sim_flash_destroy(t->pristine);
    free(t->image[0]);
    free(t->image[1]);
    free(t->eng[0].work);
    free(t->eng[1].work);
    free(t->plan);
    free(t->erases_update);
    free(t->erases_worst);
    free(t);
}

void torture_update_figures(const struct torture *t, struct torture_result *res)
{
    res->boundaries = t->boundaries;
    res->planned = t->planned;
    res->update_bytes = t->update_bytes;
    res->update_erases = t->update_erases;
    res->update_programs = t->update_programs;
    res->update_ns = t->update_ns;
}

const struct scenario_layout *torture_layout(const struct torture *t)
{
    return &t->lay;
}

uint32_t torture_engine_ram(const struct torture *t)
{
    return (uint32_t)sizeof(struct fwr) + t->work_min;
}

uint64_t torture_boundaries(const struct torture *t)
{
    return t->boundaries;
}

uint64_t torture_planned(const struct torture *t)
{
    return t->planned;
}

uint32_t torture_unit_count(const struct torture *t)
{
    return sim_flash_unit_count(t->live);
}

uint32_t torture_update_erases(const struct torture *t, uint32_t unit)
{
    return t->erases_update[unit];
}

uint32_t torture_worst_erases(const struct torture *t, uint32_t unit)
{
    return t->erases_worst[unit];
}
