/*
 * torture: run -> boundary -> copy -> cut -> reboot -> recover -> judge ->
 * log. The verdict is oracle.c's, the hash ops hashes.c's; parsing, the
 * database and progress live elsewhere.
 */
#define _POSIX_C_SOURCE 200809L
#include "torture.h"
#include "clock.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "engine.h"
#include "link.h"
#include "oracle.h"
#include "pack.h"
#include "sim_flash.h"
#include "sim_rng.h"

#define DRIVE_STUCK      ORACLE_STUCK /* drive(): no completion in bound */
#define TORTURE_REWRITES 64u          /* record-area rewrites placed exactly */

/* Why trial_jmp was jumped to. */
#define JUMP_CUT      1 /* power failed during a recovery (nested cut) */
#define JUMP_WATCHDOG 2 /* a budget of the watchdog ran out */

/* Which budget ran out. */
#define WATCH_OPS 1
#define WATCH_CPU 2

/* The CPU-time watchdog's signal: a real-time one, which nothing else in
 * the process uses (SIGPROF would clash with profilers, SIGXCPU with
 * RLIMIT_CPU). */
#define WATCH_SIGNAL SIGRTMIN

/* An engine instance (engine.h) and what reaches it: the live run and the
 * trial running inside its hook each have one, so neither disturbs the
 * other. */
struct session;

struct engine {
    void *ctx; /* the engine's, from its create() */
    struct torture *t;
    struct sim_flash *direct; /* the device its flash ops reach */
    struct session *session;  /* the one driving it */
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
    int watched;          /* the engine's flash ops count against budgets */
    int reboots;        /* the live update: clean reboots (cuts.reboot_every) */
    char contract[120]; /* the first breach of the engine's API contract */
    /* What the engine is handed at each boot, and the link's open
     * request: the image it serves from, where, and what is left. */
    struct engine_env env;
    const uint8_t *img;
    uint32_t at, left;
    uint64_t fed, reboot_at; /* bytes received this drive; the next reboot */
};

/*
 * The watchdog of the engine under watch: the uncut update in
 * torture_create, or a trial's recovery. A flash op past the op budget
 * jumps to trial_jmp from the op itself. The CPU-time budget is counted in
 * ticks of a periodic timer on this thread's CPU clock, set once per run:
 * arming a one-shot timer per trial costs two timer_settime calls, 10 us
 * on this project's machine (2.5 % of the reference run); a tick costs
 * nothing between trials. The handler jumps once the trial has had its
 * ticks, unless a flash op is in progress: then a later tick does. The
 * fields the handler touches are volatile sig_atomic_t.
 */
struct watch {
    volatile sig_atomic_t armed;   /* a budget is running */
    volatile sig_atomic_t in_sim;  /* inside a flash op: no jump now */
    volatile sig_atomic_t expired; /* the CPU-time budget ran out */
    volatile sig_atomic_t ticks;   /* timer periods since watch_open */
    volatile sig_atomic_t tick0;   /* ticks when armed */
    volatile sig_atomic_t limit;   /* ticks after tick0 that expire it */
    double period_s;               /* CPU seconds per tick */
    int why;                       /* WATCH_OPS when the ops ran out */
    uint64_t ops;                  /* flash ops since armed */
    struct torture_budget budget;  /* in force while armed */
    int open;
    timer_t timer;
    struct sigaction old; /* the signal's action before watch_open */
};

struct torture {
    const struct scenario *sc;
    struct scenario_layout lay;
    struct sim_config devcfg;
    struct sim_flash *live, *trial_dev, *pristine;
    uint8_t *image[2];         /* server image v1, v2 */
    struct engine_image id[2]; /* and their manifests */
    /* image.transform: the packages the server offers instead (NULL:
     * the plain image), the old image a delta is against, and the
     * device's secrets. */
    uint8_t *package[2];
    uint32_t package_size[2];
    uint8_t *old;
    uint32_t old_size;
    uint8_t aes_key[32];
    uint32_t aes_key_len;
    uint8_t sign_pub[65];
    /* Bytes a finished device may still download per boot: a package's
     * head, which it fetches again at each boot to learn what the server
     * offers (docs/package-format.md, section 6), up to four times
     * through a corrupting link; 0 for a plain image. */
    uint64_t boot_fetch;
    const struct engine_ops *ops; /* the engine under test */
    struct engine eng[2];         /* [0] the live run, [1] the trial */
    uint64_t request_bound;
    struct oracle oracle; /* judges each trial */

    /* The uncut update. */
    uint64_t boundaries, update_bytes;
    uint64_t update_erases, update_programs, update_ns;
    /* Its rewrites of the record area (count_hook): the first one's
     * boundary (UINT64_MAX: none), the one open and the longest's ops. */
    uint64_t rewrite_from;
    uint64_t rewrite_at[TORTURE_REWRITES][2]; /* [first, end) boundaries */
    uint32_t rewrites;
    int rewrite_open;
    uint64_t rw_erases, rw_programs, rewrite_erases, rewrite_programs;
    char unsettled[160]; /* the uncut update left its contract broken */
    /* faults.read_error_rate: on during a trial's recovery only, drawn
     * from the trial's seed; read_errors counts the ones injected. */
    int bus_on;
    uint64_t bus_rng;
    uint64_t read_errors;
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
    int stopped;     /* a stop request ended the pass */
    int sink_failed; /* the sink returned non-zero */

    /* The watchdog: limits, the figures of the uncut update and of one
     * boot on its result, trial budgets. */
    struct torture_limits lim;
    uint64_t uncut_ops, boot_ops;
    /* The data bits this trial's power-off lost (faults.offline_flips
     * entries of room): an engine under verify = trusted does not see
     * them by design, so its claims are judged as if they held. */
    struct sim_bit *lost;
    uint32_t nlost;
    int records_lost; /* and record bits a trusting policy may believe */
    double uncut_cpu_s, boot_cpu_s;
    struct torture_budget trial_budget;
    struct watch watch;

    /* The trial in progress (nested cuts, the watchdog). sigsetjmp with
     * no mask saved: the watchdog's handler runs with SA_NODEFER, so
     * jumping out of it leaves the mask as it was, and a boot costs no
     * system call. */
    sigjmp_buf trial_jmp;
    uint64_t trial_boundary, trial_cut_at;
    int trial_cut_armed;
    struct sim_boundary trial_cut;
};

/* ------------------------------------------------------------ helpers */

void torture_result_add(struct torture_result *r, const struct trial *tr)
{
    r->trials++;
    r->verdicts[tr->verdict]++;
    r->failed += tr->failed;
    if (r->trials == 1 || tr->bytes_redownloaded > r->worst_redownload) {
        r->worst_redownload = tr->bytes_redownloaded;
        r->worst_trial = tr->id;
    }
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    return sim_rng_mix(a, b);
}

/* ------------------------------------------------------------ stop */

static volatile sig_atomic_t stop_requested;

void torture_request_stop(void)
{
    stop_requested = 1;
}

int torture_stop_requested(void)
{
    return stop_requested != 0;
}

void torture_clear_stop(void)
{
    stop_requested = 0;
}

/* ------------------------------------------------------------ watchdog */

void torture_default_limits(struct torture_limits *l, const struct scenario *sc)
{
    struct scenario_layout lay;
    char err[256];
    double mib = (double)sc->image.size / (1u << 20);
    uint64_t records = 0;

    if (!scenario_layout(sc, &lay, err, sizeof(err)))
        records = (uint64_t)lay.record_size *
                  (lay.mirror_addr != ENGINE_NO_MIRROR ? 2u : 1u);
    /* Measured on every shipped and test scenario: a trial's ops are at
     * most 1.03x the uncut update's plus one boot's with one cut, 1.7x
     * with two. A cut adds at most one boot and the update's rest, so 8x
     * leaves twice the room four cuts (TRIAL_MAX_DEPTH) need; the
     * constant covers tiny images. */
    l->op_factor = 8;
    l->op_const = 4096;
    /* CPU time is noisier than ops (caches, frequency, sanitizers) and
     * less proportional: 13x the same figure on the shipped scenarios
     * (NAND ECC, nested cuts), but about 60x on campaign-ci's MCU row
     * with a trusting policy, a corrupting link, an image change and
     * three cuts (whole restarts of 128 KiB sectors, claim checks at every
     * reboot): 64 then stopped healthy trials as stuck under ASan. A
     * factor four times that, and a floor far above any healthy trial of
     * a small image; the op budget stays the tight, deterministic one. */
    l->cpu_factor = 256;
    l->cpu_floor_s = 2.0;
    /* The uncut update and the boot have nothing measured to go by:
     * bounds from the scenario. The update issues a few ops per 256-byte
     * page of image (program, read-back, hashing reads, records), the
     * boot's scan 4 reads per record slot of a few dozen bytes: 64 per
     * page and one per record-area byte are far beyond any engine that
     * ends. Their CPU time on this project's machine is a few ms per MiB
     * (some 5x that under the sanitizers). */
    l->uncut_ops = 64 * (sc->image.size / 256u) + records + 65536;
    l->uncut_cpu_s = 2.0 + 1.0 * mib;
}

struct torture_budget torture_trial_budget(const struct torture_limits *l,
                                           uint64_t update_ops,
                                           double update_cpu_s)
{
    struct torture_budget b;
    double cpu = l->cpu_factor * update_cpu_s;

    b.ops =
        l->op_factor && update_ops > (UINT64_MAX - l->op_const) / l->op_factor
            ? UINT64_MAX
            : l->op_factor * update_ops + l->op_const;
    b.cpu_s = cpu > l->cpu_floor_s ? cpu : l->cpu_floor_s;
    return b;
}

/* The timer's handler. The jump out of a signal handler is safe here
 * because of what it can interrupt: the engine (freestanding, no heap, no
 * stdio), the hash ops and the harness's link and claim check (memory
 * only). Never the simulator: a device left half-way through an op (or
 * its heap, in a realloc) would spoil the next trial, so a tick inside
 * one only flags the expiry and the jump waits for the next tick outside
 * (a loop of flash ops is the op budget's). Between trials it only
 * counts. */
static void watch_signal(int sig, siginfo_t *si, void *uc)
{
    struct torture *t;
    struct watch *w;
    int over;

    (void)sig;
    (void)uc;
    if (si->si_code != SI_TIMER)
        return; /* someone else's signal */
    t = si->si_value.sival_ptr;
    w = &t->watch;
    /* A period shorter than the kernel's tick expires several times per
     * signal. */
    over = timer_getoverrun(w->timer);
    w->ticks += 1 + (over > 0 ? over : 0);
    if (!w->armed || w->ticks - w->tick0 < w->limit)
        return;
    w->expired = 1;
    if (!w->in_sim)
        siglongjmp(t->trial_jmp, JUMP_WATCHDOG);
}

/* The timer belongs to the process that runs the trials: a worker forked
 * after torture_create makes its own, in torture_run. Its period is an
 * eighth of the CPU budget it is to watch (within 1 ms and 100 ms): the
 * budget overshoots by at most a period. */
static int watch_open(struct torture *t, double budget_s)
{
    struct watch *w = &t->watch;
    struct sigaction sa;
    struct sigevent ev;
    struct itimerspec its;
    double p = budget_s / 8;

    p = p < 1e-3 ? 1e-3 : p > 0.1 ? 0.1 : p;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = watch_signal;
    /* SA_RESTART: a tick between trials lands in the sink's database
     * writes and pipe writes, which must not see EINTR. */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(WATCH_SIGNAL, &sa, &w->old))
        return -1;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = WATCH_SIGNAL;
    ev.sigev_value.sival_ptr = t;
    w->armed = 0;
    w->ticks = 0;
    w->period_s = p;
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &w->timer)) {
        sigaction(WATCH_SIGNAL, &w->old, NULL);
        return -1;
    }
    memset(&its, 0, sizeof(its));
    its.it_value.tv_nsec = (long)(p * 1e9);
    its.it_interval = its.it_value;
    if (timer_settime(w->timer, 0, &its, NULL)) {
        timer_delete(w->timer);
        sigaction(WATCH_SIGNAL, &w->old, NULL);
        return -1;
    }
    w->open = 1;
    return 0;
}

static void watch_close(struct torture *t)
{
    struct watch *w = &t->watch;
    if (!w->open)
        return;
    w->armed = 0;
    /* A signal the timer raised is delivered, to the handler, as the
     * system call it interrupted returns: none is left to meet the old
     * action once timer_delete has returned. */
    timer_delete(w->timer);
    sigaction(WATCH_SIGNAL, &w->old, NULL);
    w->open = 0;
}

/* Start the budgets; trial_jmp must already be set. No system call. */
static void watch_arm(struct torture *t, struct torture_budget b)
{
    struct watch *w = &t->watch;
    double n = b.cpu_s / w->period_s;

    w->ops = 0;
    w->why = 0;
    w->budget = b;
    w->in_sim = 0;
    w->expired = 0;
    /* The k-th tick from here comes after more than k - 1 periods (part
     * of the current one is spent): floor(n) + 1 ticks are at least n
     * periods, the budget, and at most one period more. */
    w->limit = n < 1e9 ? (sig_atomic_t)n + 1 : (sig_atomic_t)1000000000;
    w->tick0 = w->ticks;
    w->armed = 1;
}

static void watch_disarm(struct torture *t)
{
    t->watch.armed = 0;
    t->watch.in_sim = 0;
}

/* Which budget a jump to trial_jmp (or an expiry seen after one) means. */
static int watch_reason(const struct torture *t)
{
    return t->watch.why == WATCH_OPS ? WATCH_OPS : WATCH_CPU;
}

/* What a stuck trial's detail says: which budget, and where it came from
 * (torture_trial_budget). */
static void watch_explain(const struct torture *t, int why, char *out, size_t n)
{
    const struct torture_limits *l = &t->lim;
    if (why == WATCH_OPS)
        snprintf(
            out, n,
            "watchdog: %llu flash ops without completing (budget "
            "%llu x (%llu uncut update + %llu boot) + %llu)",
            (unsigned long long)t->watch.budget.ops,
            (unsigned long long)l->op_factor, (unsigned long long)t->uncut_ops,
            (unsigned long long)t->boot_ops, (unsigned long long)l->op_const);
    else
        snprintf(out, n,
                 "watchdog: %.3g s of CPU time without completing (budget "
                 "max(%.3g s, %.3g x %.2g s uncut update and boot))",
                 t->watch.budget.cpu_s, l->cpu_floor_s, l->cpu_factor,
                 t->uncut_cpu_s + t->boot_cpu_s);
}

/*
 * Every flash op of a watched engine passes here: counted against the op
 * budget (the jump leaves before the op starts), and marked as inside the
 * simulator, where the CPU-time handler does not jump (watch_signal): a
 * tick that finds the budget spent there leaves the jump to the next tick
 * outside. An op is the hot path of a trial, hence no more than that: on
 * NOR the wrappers call the simulator directly, in place of its own
 * ops (one-line calls of the same functions), so an op still
 * costs one call, plus the count and the two marks.
 */
static struct watch *op_enter(struct engine *e)
{
    struct torture *t = e->t;
    if (++t->watch.ops > t->watch.budget.ops) {
        t->watch.why = WATCH_OPS;
        siglongjmp(t->trial_jmp, JUMP_WATCHDOG);
    }
    /* The CPU budget ran out while every tick found the engine inside the
     * simulator: jump here, outside it, rather than wait for a tick. */
    if (t->watch.expired)
        siglongjmp(t->trial_jmp, JUMP_WATCHDOG);
    t->watch.in_sim = 1;
    return &t->watch;
}

/* Does the bus fail this read (faults.read_error_rate)? */
static int bus_fails(struct torture *t)
{
    if (!t->bus_on)
        return 0;
    t->bus_rng = t->bus_rng * 6364136223846793005ull + 1442695040888963407ull;
    if ((double)(t->bus_rng >> 11) * 0x1p-53 >= t->sc->offline.read_error_rate)
        return 0;
    t->read_errors++;
    return 1;
}

/* The watched ops: the simulator itself, counted. */
static int w_read(void *u, uint32_t a, void *b, uint32_t n)
{
    struct engine *e = u;
    struct watch *w = op_enter(e);
    int rc =
        bus_fails(e->t) ? SIM_E_READ_FAIL : sim_flash_read(e->direct, a, b, n);
    w->in_sim = 0;
    return rc;
}

static int w_program(void *u, uint32_t a, const void *b, uint32_t n)
{
    struct engine *e = u;
    struct watch *w = op_enter(e);
    int rc = sim_flash_program(e->direct, a, b, n);
    w->in_sim = 0;
    return rc;
}

static int w_erase(void *u, uint32_t a, uint32_t n)
{
    struct engine *e = u;
    struct watch *w = op_enter(e);
    int rc = sim_flash_erase(e->direct, a, n);
    w->in_sim = 0;
    return rc;
}

static int w_protect(void *u, uint32_t a, uint32_t n, int on)
{
    struct engine *e = u;
    struct watch *w = op_enter(e);
    int rc;
    /* engine.h: on is 1 (lock) or 0 (release); a driver may test for
     * either value. */
    if (on != 0 && on != 1 && !e->session->contract[0])
        snprintf(e->session->contract, sizeof(e->session->contract),
                 "flash.protect called with on = %d (1 or 0 expected)", on);
    rc = sim_flash_protect(e->direct, a, n, on != 0);
    w->in_sim = 0;
    return rc;
}

static int w_is_bad(void *u, uint32_t a)
{
    return sim_flash_is_bad(((struct engine *)u)->direct, a);
}

/* The unwatched ops (the live run, which torture_create ran watched):
 * the simulator, nothing else. */
static int raw_read(void *u, uint32_t a, void *b, uint32_t n)
{
    return sim_flash_read(u, a, b, n);
}

static int raw_program(void *u, uint32_t a, const void *b, uint32_t n)
{
    return sim_flash_program(u, a, b, n);
}

static int raw_erase(void *u, uint32_t a, uint32_t n)
{
    return sim_flash_erase(u, a, n);
}

static int raw_protect(void *u, uint32_t a, uint32_t n, int on)
{
    return sim_flash_protect(u, a, n, on != 0);
}

static int raw_is_bad(void *u, uint32_t a)
{
    return sim_flash_is_bad(u, a);
}

/* Reads as the device reads, without side effects: an audit's. */
static int settled_read(void *u, uint32_t a, void *b, uint32_t n)
{
    return sim_flash_read_settled(u, a, b, n);
}

static int make_image(struct torture *t, int v, char *err, size_t errlen)
{
    const struct scenario *sc = t->sc;
    uint32_t size = sc->image.size, i;
    uint64_t x = mix(v ? sc->image.version2_seed : sc->image.seed, 77);
    uint8_t *p;
    struct engine_image *id = &t->id[v];
    uint8_t dk = sc->engine.digest != ENGINE_HASH_NONE ? sc->engine.digest
                                                       : sc->engine.hash;

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
    } else if (sc->image.content == SCENARIO_CONTENT_CODE) {
        /* Words of a 64-word vocabulary, runs of them repeated: about
         * what LZ4 makes of Thumb-2 code (a ratio near 0.6). */
        uint32_t vocab[64], w = 0;
        for (i = 0; i < 64; i++)
            vocab[i] = (uint32_t)mix(x, i);
        for (i = 0; i < size; i++) {
            if (!(i & 3)) {
                x = mix(x, i);
                w = vocab[x & 63u];
                if ((x >> 8) % 5u == 0)
                    w ^= (uint32_t)(x >> 16); /* an immediate, a literal */
            }
            p[i] = (uint8_t)(w >> (8u * (i & 3u)));
        }
    } else {
        for (i = 0; i + 8 <= size; i += 8) {
            x = mix(x, i);
            memcpy(p + i, &x, 8);
        }
        for (; i < size; i++)
            p[i] = (uint8_t)mix(x, i);
    }
    memset(id, 0, sizeof(*id));
    id->version = (uint32_t)v + 1;
    id->size = size;
    id->tag_len =
        (uint8_t)snprintf((char *)id->tag, sizeof(id->tag), "v%d", v + 1);
    if (sc->engine.digest != ENGINE_HASH_NONE) {
        id->digest_kind = dk;
        id->digest_len = (uint8_t)digest_size(dk);
        if (digest_buf(dk, p, size, id->digest)) {
            snprintf(err, errlen, "image digest failed");
            return -1;
        }
    }
    return 0;
}

static int read_key_file(const char *path, uint8_t *buf, uint32_t cap,
                         uint32_t *len, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    size_t n = fp ? fread(buf, 1, cap, fp) : 0;
    int more = fp && fgetc(fp) != EOF;
    if (fp)
        fclose(fp);
    if (!fp || (n != 16 && n != 32) || more) {
        snprintf(err, errlen, "image.encrypt_key: %s: %s", path,
                 fp ? "not 16 or 32 bytes" : strerror(errno));
        return -1;
    }
    *len = (uint32_t)n;
    return 0;
}

/*
 * The old image a delta is against, what the device's other slot holds:
 * image.old_file (a previous release), or else the first image with
 * image.old_edits seeded 8-byte edits.
 */
static int load_old(struct torture *t, char *err, size_t errlen)
{
    const struct scenario *sc = t->sc;
    const struct scenario_image *im = &sc->image;
    uint32_t size = im->size, i;
    FILE *fp = NULL;
    long got;

    if (im->old_file[0]) {
        fp = fopen(im->old_file, "rb");
        if (!fp || fseek(fp, 0, SEEK_END) || (got = ftell(fp)) <= 0 ||
            (uint64_t)got > UINT32_MAX || fseek(fp, 0, SEEK_SET)) {
            snprintf(err, errlen, "%s: image.old_file: cannot read %s: %s",
                     sc->path, im->old_file,
                     fp ? "empty or unseekable" : strerror(errno));
            if (fp)
                fclose(fp);
            return -1;
        }
        size = (uint32_t)got;
    }
    if (!(t->old = malloc(size ? size : 1))) {
        snprintf(err, errlen, "out of memory for the old image");
        if (fp)
            fclose(fp);
        return -1;
    }
    t->old_size = size;
    if (fp) {
        size_t n = fread(t->old, 1, size, fp);
        fclose(fp);
        if (n != size) {
            snprintf(err, errlen, "%s: image.old_file: %s changed while read",
                     sc->path, im->old_file);
            return -1;
        }
        return 0;
    }
    memcpy(t->old, t->image[0], size);
    for (i = 0; i < im->old_edits && size >= 8; i++) {
        uint64_t y = mix(mix(im->seed, 0x01D), i);
        memcpy(t->old + (y % (size - 7u)), &y, 8);
    }
    return 0;
}

/*
 * image.transform: the package of image v the server offers instead of
 * the image (sim/pack, the packer a build pipeline runs), its nonce drawn
 * from the run seed and the version so no two images share a counter
 * stream. The old image a delta is against is the first image with
 * image.old_edits seeded 8-byte edits.
 */
static int make_package(struct torture *t, int v, char *err, size_t errlen)
{
    const struct scenario *sc = t->sc;
    const struct scenario_image *im = &sc->image;
    struct pack_opts o;
    uint8_t nonce[8];
    char why[300];
    uint64_t x = mix(sc->seed, 0x9AC0 + (uint64_t)v);
    int tr = im->transform;

    memset(&o, 0, sizeof(o));
    o.block_size = sc->engine.block_size;
    o.compress = tr != SCENARIO_AES;
    if (tr == SCENARIO_AES || tr == SCENARIO_LZ4_AES ||
        tr == SCENARIO_DELTA_AES) {
        if (!t->aes_key_len &&
            read_key_file(im->encrypt_key, t->aes_key, sizeof(t->aes_key),
                          &t->aes_key_len, err, errlen))
            return -1;
        o.key = t->aes_key;
        o.key_len = t->aes_key_len;
    }
    if (im->sign_key[0]) {
        o.sign_key = im->sign_key;
        if (pack_public_point(im->verify_key, t->sign_pub, why, sizeof(why))) {
            snprintf(err, errlen, "image.verify_key: %s", why);
            return -1;
        }
    }
    if (tr == SCENARIO_DELTA || tr == SCENARIO_DELTA_AES) {
        if (!t->old && load_old(t, err, errlen))
            return -1;
        o.old = t->old;
        o.old_len = t->old_size;
        o.window = im->window;
    }
    memcpy(nonce, &x, 8);
    o.nonce = nonce;
    if (pack_build(t->image[v], im->size, &o, &t->package[v],
                   &t->package_size[v], why, sizeof(why))) {
        snprintf(err, errlen, "%s: image.transform: %s", sc->path, why);
        return -1;
    }
    t->id[v].package_size = t->package_size[v];
    {
        struct pack_view pv;
        if (pack_open(&pv, t->package[v], t->package_size[v], why,
                      sizeof(why))) {
            snprintf(err, errlen, "%s: image.transform: %s", sc->path, why);
            return -1;
        }
        if (4u * (uint64_t)pack_data_offset(&pv) > t->boot_fetch)
            t->boot_fetch = 4u * (uint64_t)pack_data_offset(&pv);
    }
    return 0;
}

/* ------------------------------------------------- what an engine gets */

static uint32_t env_version(void *u)
{
    return (uint32_t)((struct session *)u)->link->version;
}

static void env_manifest(void *u, struct engine_image *out)
{
    struct session *s = u;
    *out = s->t->id[s->link->version - 1];
}

static uint32_t env_request(void *u, uint32_t off, uint32_t len)
{
    struct session *s = u;
    int v = s->link->version - 1;
    uint32_t size = s->t->package[v] ? s->t->package_size[v] : s->t->id[v].size;
    uint32_t n;
    /* The server serves what it has: a range past the end is cut short. */
    if (off > size)
        off = size;
    if (len > size - off)
        len = size - off;
    n = link_request(s->link, len);
    s->img = s->t->package[v] ? s->t->package[v] : s->t->image[v];
    s->at = off;
    s->left = n;
    return n;
}

/* The bytes of the open request; none once the drive's next clean reboot
 * is due (cuts.reboot_every), which drive() then takes. */
static uint32_t env_receive(void *u, void *buf, uint32_t len)
{
    struct session *s = u;
    if (len > s->left)
        len = s->left;
    if (s->reboot_at - s->fed < len)
        len = (uint32_t)(s->reboot_at - s->fed);
    if (!len)
        return 0;
    link_deliver(s->link, buf, s->img + s->at, len);
    s->at += len;
    s->left -= len;
    s->fed += len;
    return len;
}

static int env_old_read(void *u, uint32_t off, void *buf, uint32_t len)
{
    struct session *s = u;
    if (!s->t->old || off > s->t->old_size || len > s->t->old_size - off)
        return -1;
    memcpy(buf, s->t->old + off, len);
    return 0;
}

static uint64_t env_now_ns(void *u)
{
    struct session *s = u;
    return sim_flash_clock_ns(s->dev) + s->link->clock_ns;
}

static uint64_t env_flash_ops(void *u)
{
    const struct sim_stats *st = sim_flash_stats(((struct session *)u)->dev);
    return st->reads + st->programs + st->erases;
}

static uint64_t env_io_faults(void *u)
{
    return ((struct session *)u)->t->read_errors;
}

static void env_breach(void *u, const char *what)
{
    struct session *s = u;
    if (!s->contract[0])
        snprintf(s->contract, sizeof(s->contract), "%s", what);
}

/* What the engine is handed at a boot of s: the device's flash (watched
 * or not), the link, the clock and the contract's callbacks. */
static void session_env(struct session *s)
{
    struct engine_env *v = &s->env;
    struct engine *e = s->e;
    int nand = s->t->devcfg.geo.kind == SIM_NAND;

    e->t = s->t;
    e->session = s;
    e->direct = s->dev;
    memset(v, 0, sizeof(*v));
    if (s->watched) {
        v->flash.user = e;
        v->flash.read = w_read;
        v->flash.program = w_program;
        v->flash.erase = w_erase;
        v->flash.protect = w_protect;
        v->flash.is_bad = nand ? w_is_bad : NULL;
    } else {
        v->flash.user = s->dev;
        v->flash.read = raw_read;
        v->flash.program = raw_program;
        v->flash.erase = raw_erase;
        v->flash.protect = raw_protect;
        v->flash.is_bad = nand ? raw_is_bad : NULL;
    }
    v->link.user = s;
    v->link.version = env_version;
    v->link.manifest = env_manifest;
    v->link.request = env_request;
    v->link.receive = env_receive;
    v->user = s;
    v->now_ns = env_now_ns;
    v->flash_ops = env_flash_ops;
    v->io_faults = env_io_faults;
    v->breach = env_breach;
    if (s->t->old) {
        v->old_read = env_old_read;
        v->old_size = s->t->old_size;
    }
}

/* ------------------------------------------------------------ a session */

/*
 * Boot a fresh engine on s->dev and download until complete. Returns 0,
 * a negative engine error, or DRIVE_STUCK. A power cut longjmps out.
 */
static void check_claims(struct session *s);

static int drive(struct session *s, int first_boot)
{
    struct torture *t = s->t;
    const struct engine_ops *ops = t->ops;
    void *ctx = s->e->ctx;
    uint64_t req = 0, t0;
    int rc;

    s->fed = 0;
    s->left = 0;
boot:
    session_env(s);
    s->reboot_at = UINT64_MAX;
    t0 = sim_flash_clock_ns(s->dev);
    rc = ops->boot(ctx, &s->env);
    /* A corrupting link makes records of wrong bytes that only the image
     * digest can catch: the claim check holds for a clean link only. */
    if (rc == 0 && s->e == &t->eng[1] && t->sc->link.corrupt_rate <= 0)
        check_claims(s);
    if (first_boot) {
        s->scan_ns = sim_flash_clock_ns(s->dev) - t0;
        s->resumed = ops->resumed ? ops->resumed(ctx) : 0;
    }
    if (rc)
        return rc;
    if (s->reboots && t->sc->cuts.reboot_every)
        s->reboot_at = s->fed + t->sc->cuts.reboot_every;
    /* req counts across boots: a loop of reboots is stuck as well. */
    for (; req < t->request_bound; req++) {
        rc = ops->step(ctx);
        if (rc < 0)
            return rc;
        if (rc == ENGINE_DONE)
            return 0;
        if (s->fed >= s->reboot_at && !ops->complete(ctx)) {
            /* A clean power cycle: the ops so far are all on flash. */
            first_boot = 0;
            req++;
            goto boot;
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
    int trusted = t->sc->engine.verify == ENGINE_VERIFY_TRUSTED;

    if (!t->ops->claims || s->false_claim || (trusted && t->records_lost))
        return;
    n = (size + bs - 1) / bs;
    for (i = 0; i < n; i++) {
        uint32_t off = i * bs, len = size - off < bs ? size - off : bs;
        if (t->ops->claims(s->e->ctx, off, len) &&
            !oracle_range_matches(&t->oracle, s->dev, img, off, len,
                                  trusted ? t->lost : NULL,
                                  trusted ? t->nlost : 0)) {
            s->false_claim = i + 1;
            return;
        }
    }
}

/* ------------------------------------------------------------ settled */

/* The boot of the settle check costs a resume scan (under verify = full,
 * a re-hash of the image): every trial's would add 31 % to nor-1m-4k. One
 * trial in SETTLE_EVERY (by id, so a replay does the same) reboots; the
 * boot after the uncut update always does (uncut_update). */
#define SETTLE_EVERY 4

/* Reboots after read errors in one trial, beyond which the trial ends on
 * the engine's I/O error (a detected failure the fault model allows). */
#define IO_REBOOTS_MAX 64

/* Does good data read as written? Read flips, retention loss and read
 * disturb may make a finished image re-hash wrong at the next boot, and
 * an engine then rightly writes again. */
static int reads_reliable(const struct scenario *sc)
{
    const struct sim_faults *x = &sc->device.faults;
    return x->read_flip_rate <= 0 && x->retention_rate <= 0 &&
           !x->read_disturb_limit;
}

/* Are both record copies write-protected? */
static int records_locked(const struct torture *t, const struct sim_flash *dev)
{
    return sim_flash_is_protected(dev, t->lay.record_addr,
                                  t->lay.record_size) &&
           (t->lay.mirror_addr == ENGINE_NO_MIRROR ||
            sim_flash_is_protected(dev, t->lay.mirror_addr,
                                   t->lay.record_size));
}

/*
 * A complete image stays complete (fwresume.h: COMPLETE is "all blocks
 * written, digest checked, locked"): when the flash can lock, the record
 * area is locked, and one more clean boot reports the image complete
 * without a program, an erase or a byte downloaded. An engine that does
 * otherwise rewrites its log on every boot of a finished device. Run on
 * the trial's device after the verdict's figures were taken; the boot
 * only when reboot is set. 0, or 1 with the breach in s->contract.
 */
static int settle_check(struct torture *t, struct session *s, int reboot)
{
    const struct sim_stats *st = sim_flash_stats(s->dev);
    uint64_t prog0 = st->programs, erase0 = st->erases;
    uint64_t served0 = s->link->served;
    volatile int rc = 0, stuck = 0;
    int lockable = t->ops->locks_records;

    if (lockable && !records_locked(t, s->dev)) {
        snprintf(s->contract, sizeof(s->contract),
                 "complete, but the record area is not write-protected");
        return 1;
    }
    if (!reboot)
        return 0;
    sim_flash_power_on(s->dev);
    switch (sigsetjmp(t->trial_jmp, 0)) {
    case 0:
        watch_arm(t, t->trial_budget);
        rc = drive(s, 0);
        stuck = t->watch.expired;
        break;
    default: /* the watchdog; no cut is armed */
        stuck = 1;
    }
    watch_disarm(t);
    st = sim_flash_stats(s->dev);
    if (s->contract[0])
        return 1;
    if (stuck || rc)
        snprintf(s->contract, sizeof(s->contract),
                 "the boot after completion %s (%d)",
                 stuck ? "ran out of the watchdog's budget" : "failed", rc);
    else if (st->programs != prog0 || st->erases != erase0 ||
             s->link->served - served0 > t->boot_fetch)
        snprintf(s->contract, sizeof(s->contract),
                 "the boot after completion made %llu programs and %llu "
                 "erases and downloaded %llu bytes (none expected, but a "
                 "package's head)",
                 (unsigned long long)(st->programs - prog0),
                 (unsigned long long)(st->erases - erase0),
                 (unsigned long long)(s->link->served - served0));
    else if (lockable && !records_locked(t, s->dev))
        snprintf(s->contract, sizeof(s->contract),
                 "the boot after completion left the record area unlocked");
    return s->contract[0] != 0;
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
    siglongjmp(t->trial_jmp, JUMP_CUT);
}

/* Is the live run's image finished at this cut: complete, or its digest
 * checked with only the COMPLETE mark still to write? (A cut between the
 * two may leave the mark in one copy; an engine that trusts its records
 * then boots to a finished image, rightly.) */
static int live_finished(const struct torture *t)
{
    const struct engine_ops *ops = t->ops;
    return ops->complete(t->eng[0].ctx) ||
           (ops->verified &&
            ops->verified(t->eng[0].ctx) == (uint32_t)t->live_link.version);
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

/* A finished trial must read as finished to a reader of the documented
 * format, not only to the engine that wrote it (record_reader.h). */
static int check_record_format(void *user, const struct sim_flash *dev,
                               const uint8_t *img, char *why, size_t whylen)
{
    struct torture *t = user;
    struct engine_flash peek;
    int version = img == t->image[1] ? 2 : 1;

    memset(&peek, 0, sizeof(peek));
    peek.user = (void *)(uintptr_t)dev;
    peek.read = settled_read;
    return t->ops->audit(t->eng[1].ctx, &peek, img, &t->id[version - 1], why,
                         whylen);
}

/* The cut falls inside one of the uncut update's record-area rewrites
 * (past the last one counted: assumed so). */
static int in_rewrite(const struct torture *t, uint64_t cut)
{
    uint32_t i;
    for (i = 0; i < t->rewrites; i++)
        if (i >= TORTURE_REWRITES ||
            (cut >= t->rewrite_at[i][0] && cut < t->rewrite_at[i][1]))
            return 1;
    return 0;
}

/* What the uncut update still did from this cut on (the op in flight
 * included): the yardstick of the cost bounds. The live device's counters
 * started with the update, as the uncut figures did. */
static void trial_yardstick(const struct torture *t, struct trial *tr)
{
    const struct sim_stats *ls = sim_flash_stats(t->live);
    uint64_t done_ns = sim_flash_clock_ns(t->live) -
                       sim_flash_clock_ns(t->pristine) + t->live_link.clock_ns;
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
    struct session s = {
        .t = t, .e = &t->eng[1], .dev = dev, .link = &link, .watched = 1};
    const struct sim_stats *st;
    uint64_t prog0, erase0, clock0, link0, served0, corrupted0, remaining;
    int version0;
    volatile uint32_t level = 1, boots = 0, io_boots = 0, restarts = 0;
    volatile uint64_t rerr0 = 0;
    volatile int rc = 0, stuck = 0;
    double h0 = clock_wall_s(), r0;
    volatile uint32_t depth =
        t->forced_cuts ? t->forced_depth : t->sc->cuts.depth;

    memset(tr, 0, sizeof(*tr));
    tr->id = id;
    tr->seed = mix(t->sc->seed, id);
    tr->depth = 1;
    tr->cuts[0] = b->index;
    tr->cut_op[0] = b->op;
    tr->cut_addr[0] = b->addr;
    tr->cut_area[0] = b->addr >= t->lay.data_addr     ? CUT_AREA_DATA
                      : b->addr >= t->lay.mirror_addr ? CUT_AREA_MIRROR
                                                      : CUT_AREA_RECORD;
    trial_yardstick(t, tr);
    tr->log_rewrite = t->rewrite_from != UINT64_MAX &&
                      (b->index >= t->rewrite_from || depth >= 2);
    tr->in_rewrite = in_rewrite(t, b->index);

    /* copy -> cut. The copy draws its faults (the torn pattern, unstable
     * bits, flips) from the trial's seed: the live device's generator
     * hardly moves between boundaries, and every trial would otherwise tear
     * and flip the same bit positions. */
    sim_flash_copy(dev, t->live);
    sim_flash_reseed(dev, tr->seed);
    if (t->dump_before)
        sim_flash_save(dev, t->dump_before);
    sim_flash_apply_cut(dev, b);
    t->nlost = 0;
    if (t->sc->offline.data_flips && !live_finished(t)) {
        /* Power stays off a while: programmed data leaks charge. Only
         * while the update is under way: rot of a finished image is the
         * boot loader's to catch, not the download engine's. */
        int lost = sim_flash_lose_bits(dev, t->lay.data_addr,
                                       t->lay.data_addr + t->sc->image.size,
                                       t->sc->offline.data_flips, t->lost);
        t->nlost = lost > 0 ? (uint32_t)lost : 0;
    }
    t->records_lost = 0;
    if (t->sc->offline.record_flips && !live_finished(t)) {
        int lost =
            sim_flash_lose_bits(dev, t->lay.record_addr, t->lay.data_addr,
                                t->sc->offline.record_flips, NULL);
        /* With one copy (or a bit in each, or one copy whole while a
         * compaction rewrites the other) a lost bit may undo a VOID and
         * bring its voided records back: a trusting policy believes them
         * by design and leaves them to the image digest. */
        t->records_lost =
            lost > 0 && (t->lay.mirror_addr == ENGINE_NO_MIRROR ||
                         t->sc->offline.record_flips >= 2 || tr->log_rewrite);
    }
    link_reseed(&link, tr->seed);
    t->bus_rng = mix(tr->seed, 0xB05);
    st = sim_flash_stats(dev);
    prog0 = st->programs;
    erase0 = st->erases;
    clock0 = sim_flash_clock_ns(dev);
    link0 = link.clock_ns;
    served0 = link.served;
    corrupted0 = link.corrupted;
    version0 = link.version;
    remaining = t->update_bytes - t->live_link.served;

    /* reboot -> recover, cut again while levels remain; the watchdog
     * runs from the first boot to the end of the last one */
    sim_flash_set_boundary_hook(dev, trial_hook, trial_power_loss, t);
    r0 = clock_wall_s();
    for (;;) {
        switch (sigsetjmp(t->trial_jmp, 0)) {
        case 0:
            watch_arm(t, t->trial_budget);
            break;
        case JUMP_CUT: {
            /* Power failed during the recovery: record the cut, reboot. */
            uint32_t k = level;
            t->watch.in_sim = 0; /* the cut jumped out of a flash op */
            if (t->ops->restarts)
                restarts = restarts + t->ops->restarts(s.e->ctx);
            if (k < TRIAL_MAX_DEPTH) {
                tr->cuts[k] = t->trial_cut.index;
                tr->cut_op[k] = t->trial_cut.op;
                tr->cut_addr[k] = t->trial_cut.addr;
            }
            tr->depth = k + 1;
            level = k + 1;
            break;
        }
        default: /* JUMP_WATCHDOG: this engine is not called again */
            stuck = watch_reason(t);
        }
        if (!stuck && t->watch.expired)
            stuck = WATCH_CPU; /* ran out inside the op that was cut */
        if (stuck) {
            rc = DRIVE_STUCK;
            break;
        }
        if (boots - io_boots > t->sc->cuts.max_boots) {
            rc = DRIVE_STUCK;
            break;
        }
    io_reboot:
        boots = boots + 1;
        t->watch.in_sim = 1; /* the simulator again, as in a flash op */
        sim_flash_power_on(dev);
        t->watch.in_sim = 0;
        if (t->watch.expired) {
            stuck = WATCH_CPU;
            rc = DRIVE_STUCK;
            break;
        }
        t->trial_boundary = 0;
        t->trial_cut_armed = level < depth;
        if (t->trial_cut_armed)
            t->trial_cut_at = nested_cut(t, tr, level);
        t->bus_on = 1;
        rerr0 = t->read_errors;
        rc = drive(&s, boots == 1);
        t->bus_on = 0;
        if (t->ops->restarts)
            restarts = restarts + t->ops->restarts(s.e->ctx);
        if (rc == t->ops->err_io && t->read_errors > rerr0 && !s.contract[0] &&
            io_boots < IO_REBOOTS_MAX) {
            /* The bus failed a read and the engine stopped, as it must:
             * the device's update task reboots and tries again. Such boots
             * count as boots, not against cuts.max_boots. */
            io_boots = io_boots + 1;
            watch_arm(t, t->trial_budget); /* a boot's own budgets */
            goto io_reboot;
        }
        break;
    }
    t->bus_on = 0;
    watch_disarm(t);
    t->trial_cut_armed = 0;
    sim_flash_set_boundary_hook(dev, NULL, NULL, NULL);
    if (t->res)
        t->res->recover_s += clock_wall_s() - r0;

    /* judge */
    st = sim_flash_stats(dev);
    tr->boots = boots;
    tr->io_boots = io_boots;
    tr->restarts = restarts;
    tr->bytes_downloaded = link.served - served0;
    tr->image_changed = link.version != version0;
    tr->bytes_corrupted = link.corrupted - corrupted0;
    tr->corrupted_before = corrupted0;
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
    if (!s.contract[0] && (tr->verdict == VERDICT_RECOVERED ||
                           tr->verdict == VERDICT_RECOVERED_EXTRA ||
                           tr->verdict == VERDICT_OVER_BUDGET))
        settle_check(t, &s, id % SETTLE_EVERY == 0 && reads_reliable(t->sc));
    if (s.contract[0] && !verdict_is_unsafe((enum verdict)tr->verdict)) {
        tr->verdict = VERDICT_CONTRACT_VIOLATION;
        tr->failed = 1;
        snprintf(tr->detail, sizeof(tr->detail), "%.150s", s.contract);
    }
    if (stuck && tr->verdict == VERDICT_STUCK) {
        char why[sizeof(tr->detail) - 16];
        watch_explain(t, stuck, why, sizeof(why));
        snprintf(tr->detail, sizeof(tr->detail), "%s, boot %u", why,
                 (unsigned)boots);
    }
    if (t->dump_after)
        sim_flash_save(dev, t->dump_after);
    tr->wall_ns = (uint64_t)((clock_wall_s() - h0) * 1e9);
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
        /* Between trials, never inside one; a replay is one trial. */
        if (stop_requested && t->only_trial < 0) {
            t->stop = t->stopped = 1;
            break;
        }
        run_trial(t, b, id, &tr);
        if (t->replayed)
            *t->replayed = tr;
        if (t->res)
            torture_result_add(t->res, &tr);
        if (t->sink && t->sink(t->sink_user, &tr))
            t->stop = t->sink_failed = 1;
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
    if (t->ops->reset)
        t->ops->reset(t->eng[0].ctx);
    t->next = 0;
    t->stop = t->stopped = t->sink_failed = 0;
    if (with_trials && watch_open(t, t->trial_budget.cpu_s))
        return TORTURE_E_SYS;
    sim_flash_set_boundary_hook(t->live, with_trials ? live_hook : NULL, NULL,
                                t);
    memset(&s, 0, sizeof(s));
    s.t = t;
    s.e = &t->eng[0];
    s.dev = t->live;
    s.link = &t->live_link;
    s.reboots = 1;
    /* Not watched: this is the update torture_create ran to completion
     * under the watchdog, op for op (trials only read the live device). */
    s.watched = 0;
    rc = drive(&s, 1);
    sim_flash_set_boundary_hook(t->live, NULL, NULL, NULL);
    watch_close(t);
    return rc;
}

/*
 * A session of torture_create under the uncut budgets: the uncut update
 * (counting its boundaries with count_hook), or one boot on its result.
 * Returns drive()'s result, its flash ops and CPU time; when a budget ran
 * out, DRIVE_STUCK with the reason in *why.
 */
static int watched_session(struct torture *t, struct session *s, int *why,
                           uint64_t *ops, double *cpu_s)
{
    struct torture_budget b;
    volatile double c0 = clock_thread_cpu_s();
    volatile int rc = 0;

    b.ops = t->lim.uncut_ops;
    b.cpu_s = t->lim.uncut_cpu_s;
    *why = 0;
    switch (sigsetjmp(t->trial_jmp, 0)) {
    case 0:
        watch_arm(t, b);
        rc = drive(s, 1);
        if (t->watch.expired) { /* ran out inside its last flash op */
            *why = WATCH_CPU;
            rc = DRIVE_STUCK;
        }
        break;
    default:
        *why = watch_reason(t);
        rc = DRIVE_STUCK;
    }
    watch_disarm(t);
    *ops = t->watch.ops;
    *cpu_s = clock_thread_cpu_s() - c0;
    return rc;
}

/*
 * The uncut update, then one boot of a fresh engine on a copy of what it
 * left: a resume scan over the whole log, re-hashing every block, as much
 * as any trial's scan reads. A trial is boots and what is left of the
 * update: its budgets derive from both. A boot that fails or loops (a
 * broken engine: the real one completes) is left out of the figures; the
 * trials judge it.
 */
static int uncut_update(struct torture *t, int *why)
{
    struct session s = {.t = t,
                        .e = &t->eng[0],
                        .dev = t->live,
                        .link = &t->live_link,
                        .watched = 1,
                        .reboots = 1};
    struct link link;
    int rc = watched_session(t, &s, why, &t->uncut_ops, &t->uncut_cpu_s);
    int boot_why, lockable;
    const struct sim_stats *st;
    uint64_t prog0, erase0, served0;

    if (rc)
        return rc;
    sim_flash_set_boundary_hook(t->live, NULL, NULL, NULL);
    link = t->live_link;
    sim_flash_copy(t->trial_dev, t->live);
    s.e = &t->eng[1];
    s.dev = t->trial_dev;
    s.link = &link;
    s.reboots = 0;
    st = sim_flash_stats(t->trial_dev);
    prog0 = st->programs;
    erase0 = st->erases;
    served0 = link.served;
    lockable = t->ops->locks_records;
    if (lockable && !records_locked(t, t->live)) {
        snprintf(t->unsettled, sizeof(t->unsettled),
                 "the uncut update completed with the record area not "
                 "write-protected");
        return 0;
    }
    rc = watched_session(t, &s, &boot_why, &t->boot_ops, &t->boot_cpu_s);
    st = sim_flash_stats(t->trial_dev);
    if (rc || s.contract[0]) {
        t->boot_ops = 0;
        t->boot_cpu_s = 0;
    }
    /* The settle check of a trial (settle_check), on the uncut update. */
    if (s.contract[0])
        snprintf(t->unsettled, sizeof(t->unsettled), "%s", s.contract);
    else if (rc)
        snprintf(t->unsettled, sizeof(t->unsettled),
                 "the boot after the uncut update failed (%s %d)",
                 rc == DRIVE_STUCK ? "stuck" : "engine error", rc);
    else if (reads_reliable(t->sc) &&
             (st->programs != prog0 || st->erases != erase0 ||
              link.served - served0 > t->boot_fetch))
        snprintf(t->unsettled, sizeof(t->unsettled),
                 "the boot after the uncut update made %llu programs and "
                 "%llu erases and downloaded %llu bytes (none expected, but "
                 "a package's head)",
                 (unsigned long long)(st->programs - prog0),
                 (unsigned long long)(st->erases - erase0),
                 (unsigned long long)(link.served - served0));
    else if (lockable && !records_locked(t, t->trial_dev))
        snprintf(t->unsettled, sizeof(t->unsettled),
                 "the boot after the uncut update left the record area "
                 "unlocked");
    return 0;
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

static void rewrite_close(struct torture *t)
{
    if (!t->rewrite_open)
        return;
    t->rewrite_open = 0;
    if (t->rewrites < TORTURE_REWRITES)
        t->rewrite_at[t->rewrites][1] = t->boundaries;
    t->rewrites++;
    if (t->rw_erases > t->rewrite_erases)
        t->rewrite_erases = t->rw_erases;
    if (t->rw_programs > t->rewrite_programs)
        t->rewrite_programs = t->rw_programs;
}

/* Every boundary of the uncut update: counts them, and watches for the
 * record area being rewritten (an erase of a record unit this update had
 * already erased opens a rewrite; the next data-area op closes it). The
 * harness knows the areas, not the engine's log: this is what any log
 * compaction looks like from the flash. */
static bool count_hook(void *user, const struct sim_boundary *b)
{
    struct torture *t = user;
    int in_records =
        b->addr >= t->lay.record_addr && b->addr < t->lay.data_addr;

    if (t->rewrite_open && !in_records)
        rewrite_close(t);
    t->boundaries++;
    if (!t->rewrite_open && in_records && b->op == SIM_OP_ERASE) {
        uint32_t u = sim_flash_unit_of(t->live, b->addr);
        if (sim_flash_erase_count(t->live, u) >
            sim_flash_erase_count(t->pristine, u)) {
            t->rewrite_open = 1;
            t->rw_erases = t->rw_programs = 0;
            if (t->rewrites < TORTURE_REWRITES)
                t->rewrite_at[t->rewrites][0] = b->index;
            if (t->rewrite_from == UINT64_MAX)
                t->rewrite_from = b->index;
        }
    }
    if (t->rewrite_open) {
        if (b->op == SIM_OP_ERASE)
            t->rw_erases++;
        else
            t->rw_programs++;
    }
    return false;
}

int torture_create(struct torture **out, const struct scenario *sc, char *err,
                   size_t errlen)
{
    return torture_create_limited(out, sc, NULL, err, errlen);
}

void torture_set_limits(struct torture *t, const struct torture_limits *lim)
{
    t->lim = *lim;
    t->trial_budget = torture_trial_budget(&t->lim, t->uncut_ops + t->boot_ops,
                                           t->uncut_cpu_s + t->boot_cpu_s);
}

struct torture_budget torture_budget_of(const struct torture *t,
                                        uint64_t *update_ops,
                                        double *update_cpu_s)
{
    if (update_ops)
        *update_ops = t->uncut_ops + t->boot_ops;
    if (update_cpu_s)
        *update_cpu_s = t->uncut_cpu_s + t->boot_cpu_s;
    return t->trial_budget;
}

int torture_create_limited(struct torture **out, const struct scenario *sc,
                           const struct torture_limits *lim, char *err,
                           size_t errlen)
{
    struct torture *t;
    struct engine_params ep;
    uint32_t nblocks, u, n;
    uint8_t dk = sc->engine.digest != ENGINE_HASH_NONE ? sc->engine.digest
                                                       : sc->engine.hash;
    int rc;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->sc = sc;
    t->only_trial = -1;
    if (lim)
        t->lim = *lim;
    else
        torture_default_limits(&t->lim, sc);
    if (scenario_layout(sc, &t->lay, err, errlen))
        goto fail;
    t->ops = engine_load(sc->engine.kind, err, errlen);
    if (!t->ops) {
        char why[300];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errlen, "%s: engine.kind: %s", sc->path, why);
        goto fail;
    }
    if (!digest_size(dk) || !digest_size(sc->engine.hash)) {
        snprintf(err, errlen,
                 "%s: engine.hash/digest: hash kind %u: this build has crc32 "
                 "only (md5 and sha256 need mbedTLS: apt-get install "
                 "libmbedtls-dev, rebuild)",
                 sc->path, digest_size(dk) ? sc->engine.hash : dk);
        goto fail;
    }
    t->devcfg = sc->device;
    if (sc->offline.data_flips) {
        t->lost = calloc(sc->offline.data_flips, sizeof(*t->lost));
        if (!t->lost) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
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
    if (sc->image.transform != SCENARIO_PLAIN &&
        (make_package(t, 0, err, errlen) || make_package(t, 1, err, errlen)))
        goto fail;
    /* The wrong base: the device holds another image than the one the
     * deltas were made against, by one byte. */
    if (t->old && sc->image.old_slot == SCENARIO_OLD_OTHER)
        t->old[t->old_size / 2] ^= 0x01;

    nblocks =
        (sc->image.size + sc->engine.block_size - 1) / sc->engine.block_size;
    scenario_engine_params(sc, &t->lay, &ep);
    if (t->package[0]) {
        ep.package = 1;
        ep.package_window = t->old ? sc->image.window : 0;
        ep.aes_key = t->aes_key_len ? t->aes_key : NULL;
        ep.aes_key_len = t->aes_key_len;
        ep.sign_pub = sc->image.sign_key[0] ? t->sign_pub : NULL;
    }
    for (u = 0; u < 2; u++) {
        char why[200] = "";
        t->eng[u].ctx = t->ops->create(&ep, why, sizeof(why));
        if (!t->eng[u].ctx) {
            snprintf(err, errlen, "%s: [engine]: %s: %s", sc->path,
                     t->ops->name, why);
            goto fail;
        }
    }
    t->request_bound =
        64 + (uint64_t)(8.0 * nblocks / (1.0 - sc->link.drop_rate));
    t->oracle.sc = sc;
    t->oracle.lay = &t->lay;
    t->oracle.request_bound = t->request_bound;
    /* The head each boot fetches: once, or up to four tries through a
     * corrupting link (boot_fetch is the four). */
    t->oracle.packaged = t->package[0] != NULL;
    t->oracle.boot_fetch =
        sc->link.corrupt_rate > 0 ? t->boot_fetch : t->boot_fetch / 4u;
    t->oracle.format_check = t->ops->audit ? check_record_format : NULL;
    t->oracle.format_user = t;

    /* The uncut update: count its boundaries, flash ops and CPU time and
     * what it downloads, under the watchdog. */
    sim_flash_copy(t->live, t->pristine);
    t->rewrite_from = UINT64_MAX;
    sim_flash_set_boundary_hook(t->live, count_hook, NULL, t);
    link_init(&t->live_link, &sc->link, mix(sc->seed, 0xC0FFEE));
    if (watch_open(t, t->lim.uncut_cpu_s)) {
        snprintf(err, errlen, "watchdog: cannot set up a CPU-time timer: %s",
                 strerror(errno));
        goto fail;
    }
    {
        int why;
        char why_not[160];
        rc = uncut_update(t, &why);
        watch_close(t);
        sim_flash_set_boundary_hook(t->live, NULL, NULL, NULL);
        if (why == WATCH_OPS) {
            snprintf(err, errlen,
                     "%s: the uncut update does not complete: the engine "
                     "made %llu flash ops, the watchdog's budget for it, and "
                     "went on (a loop?): the scenario cannot be tortured",
                     sc->path, (unsigned long long)t->watch.budget.ops);
            goto fail;
        }
        if (why) {
            snprintf(err, errlen,
                     "%s: the uncut update does not complete: the engine "
                     "ran %.3g s of CPU time, the watchdog's budget for it, "
                     "and went on (a loop?): the scenario cannot be "
                     "tortured",
                     sc->path, t->watch.budget.cpu_s);
            goto fail;
        }
        if (rc) {
            snprintf(err, errlen,
                     "%s: the uncut update does not complete (%s %d%s%s): "
                     "the scenario cannot be tortured",
                     sc->path, rc == DRIVE_STUCK ? "stuck" : "engine error", rc,
                     rc == DRIVE_STUCK ? "" : " ",
                     rc == DRIVE_STUCK ? "" : t->ops->error_name(rc));
            goto fail;
        }
        /* An uncut update that left other bytes than the image is the
         * trials' to judge (silent corruption); its next boot rightly
         * writes. */
        if (t->unsettled[0] &&
            oracle_data_matches(&t->oracle, t->live,
                                t->image[t->live_link.version - 1], why_not,
                                sizeof(why_not))) {
            snprintf(err, errlen,
                     "%s: the engine breaks its contract (fwresume.h) after "
                     "the uncut update: %s",
                     sc->path, t->unsettled);
            goto fail;
        }
    }
    t->trial_budget = torture_trial_budget(&t->lim, t->uncut_ops + t->boot_ops,
                                           t->uncut_cpu_s + t->boot_cpu_s);
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
    rewrite_close(t);
    t->oracle.rewrite_erases = t->rewrite_erases;
    t->oracle.rewrite_programs = t->rewrite_programs;
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
    double h0 = clock_wall_s();
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
    res->wall_s = clock_wall_s() - h0;
    t->res = NULL;
    /* A sink failure and a stop request each have their own code: the
     * caller must not take a failed database for an interrupted run, nor
     * either for a complete one. */
    if (t->sink_failed)
        return TORTURE_E_SINK;
    if (t->stopped)
        return TORTURE_STOPPED;
    return rc < 0 ? rc : 0;
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
    free(t->package[0]);
    free(t->package[1]);
    free(t->old);
    for (int u = 0; u < 2; u++)
        if (t->eng[u].ctx)
            t->ops->destroy(t->eng[u].ctx);
    free(t->plan);
    free(t->erases_update);
    free(t->erases_worst);
    free(t->lost);
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
    return t->ops->ram(t->eng[0].ctx);
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
