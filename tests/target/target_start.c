/*
 * Bare-metal start for the differential trials on QEMU's mps2 boards
 * (mps2-an386: Cortex-M4; the Cortex-M0+ build runs there too, with
 * unaligned accesses made to fault as on a real M0+). No C library start
 * code: the vector table, .data/.bss set-up, and ARM semihosting (BKPT
 * 0xAB) for output and exit.
 */
#include <stdint.h>

int trials_main(void);
void out_line(const char *s);
void out_exit(int status);

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[], __stack_top[];

#define SYS_WRITE0                      0x04
#define SYS_EXIT                        0x18
#define ADP_Stopped_ApplicationExit     0x20026
#define ADP_Stopped_RunTimeErrorUnknown 0x20023

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void out_line(const char *s)
{
    semihost(SYS_WRITE0, s);
    semihost(SYS_WRITE0, "\n");
}

void out_exit(int status)
{
    /* 32-bit semihosting exit carries a reason, not a status: QEMU exits 0
     * for ApplicationExit and 1 for any other. */
    semihost(SYS_EXIT,
             (const void *)(uintptr_t)(status ? ADP_Stopped_RunTimeErrorUnknown
                                              : ADP_Stopped_ApplicationExit));
    for (;;) {
    }
}

static void fault(void)
{
    out_line("FAULT: the engine took a hard fault (an unaligned access on "
             "the M0+ build, or a bad address)");
    out_exit(3);
}

#define SCB_CCR         (*(volatile uint32_t *)0xE000ED14u)
#define CCR_UNALIGN_TRP (1u << 3)

void reset(void)
{
    uint32_t *s = __data_load, *d = __data_start;
    while (d < __data_end)
        *d++ = *s++;
    for (d = __bss_start; d < __bss_end; d++)
        *d = 0;
#ifdef FWR_TRAP_UNALIGNED
    /* Cortex-M0/M0+ have no unaligned access: trap them like one. */
    SCB_CCR |= CCR_UNALIGN_TRP;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#ifdef FWR_PROBE_UNALIGNED
    /* The trap's own test: an unaligned word load must fault here. */
    {
        static uint32_t words[2];
        const uint8_t *odd = (const uint8_t *)words + 1;
        uint32_t v;
        /* In assembly: the compiler would split a misaligned C load. */
        __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(odd) : "memory");
        (void)v;
        out_line("unaligned load did not fault");
        out_exit(0);
    }
#endif
    out_exit(trials_main());
}

__attribute__((section(".vectors"),
               used)) static void (*const vectors[16])(void) = {
    (void (*)(void))__stack_top,
    reset,
    fault,
    fault,
    fault,
    fault,
    fault,
    0,
    0,
    0,
    0,
    fault,
    fault,
    0,
    fault,
    fault,
};
