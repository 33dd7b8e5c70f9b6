#define _POSIX_C_SOURCE 200809L
#include "clock.h"

#include <sys/resource.h>
#include <time.h>

static double seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double clock_wall_s(void)
{
    return seconds(CLOCK_MONOTONIC);
}

double clock_thread_cpu_s(void)
{
    return seconds(CLOCK_THREAD_CPUTIME_ID);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

double clock_process_cpu_s(void)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return tv_s(self.ru_utime) + tv_s(self.ru_stime) +
           tv_s(children.ru_utime) + tv_s(children.ru_stime);
}
