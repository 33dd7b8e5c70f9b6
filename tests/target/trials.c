/*
 * The differential trial program: one source, built for the host and for
 * Cortex-M (tests/target/target.sh), whose output must be identical line
 * by line. It runs fwresume on a RAM-backed NOR part with a write-boundary
 * counter: for every boundary k of a clean download, a trial cuts the power
 * at k (the op at k not applied, or torn: half of it applied), reboots with
 * fresh RAM, lets the engine finish, and prints the engine's answers and a
 * CRC-32 of the whole flash. Host and target differing in any answer is a
 * portability bug of the engine (an unaligned access, a wider int, a
 * compiler's reading of undefined behaviour) that no host test can see.
 *
 * Uses only <fwresume.h>; output and exit go through out_line()/out_exit(),
 * which the host build implements with stdio and the target build with
 * semihosting (target_start.c). The target build also measures the stack
 * each public entry point really uses (stack painting) and prints it on
 * lines starting with "stack ", which the comparison leaves out.
 */
#include <fwresume.h>

#include <string.h>

void out_line(const char *s);
void out_exit(int status);

#ifdef FWR_TARGET
/* Stack painting: words below the caller's stack pointer are filled with a
 * pattern before an entry point runs; the lowest word found changed after
 * it returns is its depth (its own frames and the flash ops it calls). */
#define PAINT_BYTES 4096u
#define PAINT_WORD  0xC5A5C5A5u
#define STACK_GAP   16u /* left alone below sp: the call's own push */
static unsigned stack_max[8];
static const char *const stack_name[8] = {
    "fwr_init",         "fwr_begin",          "fwr_next_range",
    "fwr_feed",         "fwr_check_geometry", "fwr_image_set_crc32",
    "fwr_get_progress", "fwr_crc32"};

static inline __attribute__((always_inline)) uint32_t *sp_now(void)
{
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

#define MEASURED(slot, call)                                                   \
    __extension__({                                                            \
        volatile uint32_t *top_ = sp_now() - STACK_GAP / 4u;                   \
        volatile uint32_t *low_ = top_ - PAINT_BYTES / 4u;                     \
        for (volatile uint32_t *p_ = low_; p_ < top_; p_++)                    \
            *p_ = PAINT_WORD;                                                  \
        __typeof__(call) r_ = (call);                                          \
        volatile uint32_t *q_ = low_;                                          \
        while (q_ < top_ && *q_ == PAINT_WORD)                                 \
            q_++;                                                              \
        unsigned used_ = (unsigned)((top_ - q_) * 4u) + STACK_GAP;             \
        if (q_ == top_)                                                        \
            used_ = 0;                                                         \
        if (used_ > stack_max[slot])                                           \
            stack_max[slot] = used_;                                           \
        r_;                                                                    \
    })
#else
#define MEASURED(slot, call) (call)
#endif

/* ------------------------------------------------------------ output */

static char line[160];
static unsigned pos;

static void put_s(const char *s)
{
    while (*s && pos < sizeof(line) - 1u)
        line[pos++] = *s++;
}

static void put_u(uint32_t v)
{
    char d[11];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n && pos < sizeof(line) - 1u)
        line[pos++] = d[--n];
}

static void put_i(int v)
{
    if (v < 0) {
        put_s("-");
        put_u((uint32_t)0 - (uint32_t)v);
    } else {
        put_u((uint32_t)v);
    }
}

static void put_x(uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 28; i >= 0; i -= 4)
        if (pos < sizeof(line) - 1u)
            line[pos++] = hex[(v >> i) & 15u];
}

static void end_line(void)
{
    line[pos] = 0;
    out_line(line);
    pos = 0;
}

/* ------------------------------------------------------------ the part */

#define ERASE      1024u
#define IMAGE      (6u * 1024u + 300u)
#define MAX_REC    FWR_RECORD_AREA_SIZE(1u, ERASE, 4u, 512u, IMAGE)
#define DATA_SIZE  FWR_ROUND_UP(IMAGE, ERASE)
#define FLASH_SIZE (2u * MAX_REC + DATA_SIZE)

static uint8_t flash[FLASH_SIZE];
static uint8_t image[IMAGE];

/* The write-boundary counter: every program or erase is one boundary. At
 * boundary cut_at the power goes: the op is not applied (torn = 0) or half
 * of it is (torn = 1), and no later op changes anything. */
static uint32_t boundaries;
static uint32_t cut_at;
static int torn;
static int dead;

static int part_read(void *user, uint32_t addr, void *buf, uint32_t len)
{
    (void)user;
    if (dead)
        return -1;
    memcpy(buf, flash + addr, len);
    return 0;
}

static int part_program(void *user, uint32_t addr, const void *buf,
                        uint32_t len)
{
    const uint8_t *p = buf;
    uint32_t n = len;
    (void)user;
    if (dead)
        return -1;
    if (++boundaries == cut_at) {
        dead = 1;
        n = torn ? len / 2u : 0u;
    }
    for (uint32_t i = 0; i < n; i++)
        flash[addr + i] &= p[i]; /* NOR: a program only clears bits */
    return dead ? -1 : 0;
}

static int part_erase(void *user, uint32_t addr, uint32_t len)
{
    uint32_t n = len;
    (void)user;
    if (dead)
        return -1;
    if (++boundaries == cut_at) {
        dead = 1;
        n = torn ? len / 2u : 0u;
    }
    memset(flash + addr, 0xFF, n);
    return dead ? -1 : 0;
}

/* ------------------------------------------------------------ trials */

struct setup {
    const char *name;
    uint32_t block_size;
    uint32_t write_size;
    uint8_t verify;
    int mirror;
};

static const struct setup setups[] = {
    {"full-mirror-b1k", 1024u, 256u, FWR_VERIFY_FULL, 1},
    {"trusted-nomirror-b512", 512u, 128u, FWR_VERIFY_TRUSTED, 0},
};

static uint32_t work[FWR_WORK_SIZE(256u, DATA_SIZE / 512u) / 4u + 1u];

static void make_config(struct fwr_config *c, const struct setup *s)
{
    uint32_t rec = FWR_RECORD_AREA_SIZE(1u, ERASE, 4u, s->block_size, IMAGE);
    memset(c, 0, sizeof(*c));
    c->flash.read = part_read;
    c->flash.program = part_program;
    c->flash.erase = part_erase;
    c->geometry.prog_size = 1;
    c->geometry.erase_size = ERASE;
    c->geometry.erased_value = 0xFF;
    c->geometry.kind = FWR_FLASH_NOR;
    c->layout.record_addr = 0;
    c->layout.record_size = rec;
    c->layout.mirror_addr = s->mirror ? rec : FWR_NO_MIRROR;
    c->layout.data_addr = 2u * MAX_REC;
    c->layout.data_size = DATA_SIZE;
    c->block_size = s->block_size;
    c->write_size = s->write_size;
    c->verify = s->verify;
    c->work = work;
    c->work_size = sizeof(work);
}

/* One boot: init, begin, download until complete or an error (the cut). */
static int session(const struct fwr_config *c, const struct fwr_image *img,
                   struct fwr_progress *p)
{
    struct fwr fw;
    int err = MEASURED(0, fwr_init(&fw, c));
    if (!err)
        err = MEASURED(1, fwr_begin(&fw, img));
    while (!err && fwr_state(&fw) != FWR_STATE_COMPLETE) {
        uint32_t off, len;
        err = MEASURED(2, fwr_next_range(&fw, &off, &len));
        if (err || len == 0u)
            break;
        while (len) {
            uint32_t n = len < 300u ? len : 300u; /* odd-sized chunks */
            int got = MEASURED(3, fwr_feed(&fw, image + off, n));
            if (got == FWR_E_AGAIN)
                break;
            if (got < 0) {
                err = got;
                break;
            }
            off += n;
            len -= n;
        }
    }
    (void)MEASURED(6, (fwr_get_progress(&fw, p), 0));
    if (!err && fwr_state(&fw) != FWR_STATE_COMPLETE)
        err = -999;
    return err ? err : (int)fwr_state(&fw);
}

static uint32_t flash_crc(void)
{
    return fwr_crc32(0, flash, sizeof(flash));
}

int trials_main(void)
{
    struct fwr_image img;
    struct fwr_progress p;
    uint32_t x = 0x2545F491u, failures = 0, trials = 0;
    struct fwr_geometry g = {1, ERASE, 0xFF, FWR_FLASH_NOR};

    for (uint32_t i = 0; i < IMAGE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image[i] = (uint8_t)(x >> 8);
    }
    memset(&img, 0, sizeof(img));
    img.size = IMAGE;
    x = MEASURED(7, fwr_crc32(0, image, IMAGE));
    if (MEASURED(5, fwr_image_set_crc32(&img, x)))
        out_exit(2);
    put_s("check_geometry ");
    put_i(MEASURED(4, fwr_check_geometry(&g, 1024u, 256u, 4u)));
    put_s(" ");
    put_i(fwr_check_geometry(&g, 1000u, 256u, 4u));
    end_line();

    for (unsigned si = 0; si < sizeof(setups) / sizeof(setups[0]); si++) {
        const struct setup *s = &setups[si];
        struct fwr_config c;
        uint32_t total;
        make_config(&c, s);

        /* A clean download counts the boundaries to cut at. */
        memset(flash, 0xFF, sizeof(flash));
        boundaries = 0;
        cut_at = 0;
        dead = 0;
        int rc = session(&c, &img, &p);
        total = boundaries;
        put_s("setup ");
        put_s(s->name);
        put_s(" boundaries ");
        put_u(total);
        put_s(" rc ");
        put_i(rc);
        put_s(" flash ");
        put_x(flash_crc());
        end_line();

        for (uint32_t k = 1; k <= total; k++) {
            for (torn = 0; torn <= 1; torn++) {
                int rc1, rc2;
                uint32_t crc1;
                memset(flash, 0xFF, sizeof(flash));
                boundaries = 0;
                cut_at = k;
                dead = 0;
                rc1 = session(&c, &img, &p);
                crc1 = flash_crc();
                dead = 0; /* power back: a reboot with fresh RAM */
                cut_at = 0;
                boundaries = 0;
                rc2 = session(&c, &img, &p);
                trials++;
                int ok = rc2 == FWR_STATE_COMPLETE &&
                         !memcmp(flash + c.layout.data_addr, image, IMAGE);
                if (!ok)
                    failures++;
                put_s(s->name);
                put_s(" cut ");
                put_u(k);
                put_s(torn ? " torn" : " clean");
                put_s(" rc ");
                put_i(rc1);
                put_s(" ");
                put_x(crc1);
                put_s(" resume ");
                put_i(rc2);
                put_s(" resumed ");
                put_u(p.blocks_resumed);
                put_s(" rewritten ");
                put_u(p.blocks_rewritten);
                put_s(" restarts ");
                put_u(p.restarts);
                put_s(" writes ");
                put_u(boundaries);
                put_s(" flash ");
                put_x(flash_crc());
                put_s(ok ? " ok" : " WRONG");
                end_line();
            }
        }
    }
    put_s("trials ");
    put_u(trials);
    put_s(" wrong ");
    put_u(failures);
    end_line();
#ifdef FWR_TARGET
    for (unsigned i = 0; i < 8u; i++) {
        put_s("stack ");
        put_s(stack_name[i]);
        put_s(" ");
        put_u(stack_max[i]);
        end_line();
    }
#endif
    return failures ? 1 : 0;
}

#ifndef FWR_TARGET
#include <stdio.h>
#include <stdlib.h>

void out_line(const char *s)
{
    puts(s);
}

void out_exit(int status)
{
    fflush(stdout);
    _Exit(status);
}

int main(void)
{
    return trials_main();
}
#endif
