/* workers: see workers.h. */
#define _POSIX_C_SOURCE 200809L
#include "workers.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum msg_kind { MSG_TRIAL = 1, MSG_DONE = 2 };

struct msg {
    uint32_t kind;
    int32_t rc;
    double recover_s;
    struct trial trial;
};

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static int pipe_sink(void *user, const struct trial *t)
{
    struct msg m;
    memset(&m, 0, sizeof(m));
    m.kind = MSG_TRIAL;
    m.trial = *t;
    return write_all(*(int *)user, &m, sizeof(m)) ? 1 : 0;
}

/* SIGINT (the terminal's, to the whole process group) or SIGTERM (the
 * parent's, forwarding one): finish the trial in progress, then stop. */
static void worker_signal(int sig)
{
    (void)sig;
    torture_request_stop();
}

/* A worker: its slice of the shard, trials to the pipe, then a summary. */
static void worker(struct torture *t, int fd, struct shard sh,
                   const uint8_t *skip)
{
    struct torture_result r;
    struct msg m;
    struct sigaction sa;
    uint32_t u, n = torture_unit_count(t), e;
    int rc;

    /* Whatever the parent installed, this process's trials must see the
     * request: its own handler, on its own flag. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = worker_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    torture_set_shard(t, sh.index, sh.count, skip);
    rc = torture_run(t, 0, pipe_sink, &fd, &r);
    memset(&m, 0, sizeof(m));
    m.kind = MSG_DONE;
    m.rc = rc;
    m.recover_s = r.recover_s;
    write_all(fd, &m, sizeof(m));
    write_all(fd, &n, sizeof(n));
    for (u = 0; u < n; u++) {
        e = torture_worst_erases(t, u);
        write_all(fd, &e, sizeof(e));
    }
    _exit(rc ? 1 : 0);
}

int workers_run(struct torture *t, unsigned jobs, struct shard sh,
                const uint8_t *skip, torture_sink sink, void *user,
                struct torture_result *res, uint32_t *worst)
{
    struct pollfd pfd[64];
    pid_t pid[64];
    unsigned k, open_fds;
    uint32_t u, units = torture_unit_count(t);
    int rc = 0, stop = 0, forwarded = 0;
    double t0;

    if (jobs <= 1) {
        torture_set_shard(t, sh.index, sh.count, skip);
        rc = torture_run(t, 0, sink, user, res);
        for (u = 0; worst && u < units; u++)
            worst[u] = torture_worst_erases(t, u);
        return rc;
    }
    if (jobs > 64)
        jobs = 64;
    t0 = clock_wall_s();
    fflush(NULL); /* no buffered output duplicated into the children */
    for (k = 0; k < jobs; k++) {
        int fds[2];
        if (pipe(fds))
            return -1;
        pid[k] = fork();
        if (pid[k] < 0)
            return -1;
        if (pid[k] == 0) {
            struct shard mine;
            unsigned j;
            close(fds[0]);
            for (j = 0; j < k; j++)
                close(pfd[j].fd);
            /* Worker k of J inside shard I of N: id % (N*J) == I + N*k. */
            mine.count = sh.count * jobs;
            mine.index = sh.index + sh.count * k;
            worker(t, fds[1], mine, skip);
        }
        close(fds[1]);
        pfd[k].fd = fds[0];
        pfd[k].events = POLLIN;
    }

    memset(res, 0, sizeof(*res));
    res->boundaries = torture_boundaries(t);
    res->planned = torture_planned(t);
    for (u = 0; worst && u < units; u++)
        worst[u] = 0;
    open_fds = jobs;
    while (open_fds) {
        /* A stop request (the caller's signal handler) goes on to every
         * worker once; the trials they finish still come and are sunk
         * until each worker's pipe closes. The poll's timeout bounds how
         * late a request is seen when no trial arrives. */
        if (!forwarded && torture_stop_requested()) {
            forwarded = 1;
            for (u = 0; u < jobs; u++)
                kill(pid[u], SIGTERM);
        }
        if (poll(pfd, jobs, 100) < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        for (k = 0; k < jobs; k++) {
            struct msg m;
            if (pfd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP)))
                continue;
            if (read_all(pfd[k].fd, &m, sizeof(m))) {
                /* A worker died without its summary. */
                close(pfd[k].fd);
                pfd[k].fd = -1;
                open_fds--;
                rc = rc ? rc : -1;
                continue;
            }
            if (m.kind == MSG_TRIAL) {
                torture_result_add(res, &m.trial);
                if (!stop && sink(user, &m.trial)) {
                    /* The sink failed (the database): the run must not
                     * look complete. Ask the workers to finish early. */
                    stop = 1;
                    rc = TORTURE_E_SINK;
                    for (u = 0; u < jobs; u++)
                        kill(pid[u], SIGTERM);
                }
                continue;
            }
            /* MSG_DONE, then the worker's wear table. A worker stopped by
             * the request (TORTURE_STOPPED) has not failed. */
            res->recover_s += m.recover_s;
            if (m.rc < 0 && !stop && rc >= 0)
                rc = m.rc;
            {
                uint32_t n = 0, e;
                if (!read_all(pfd[k].fd, &n, sizeof(n)))
                    for (u = 0; u < n; u++) {
                        if (read_all(pfd[k].fd, &e, sizeof(e)))
                            break;
                        if (worst && u < units && e > worst[u])
                            worst[u] = e;
                    }
            }
            close(pfd[k].fd);
            pfd[k].fd = -1;
            open_fds--;
        }
    }
    for (k = 0; k < jobs; k++) {
        int st;
        while (waitpid(pid[k], &st, 0) < 0 && errno == EINTR)
            ;
    }
    res->wall_s = clock_wall_s() - t0;
    torture_update_figures(t, res);
    return rc ? rc : forwarded ? TORTURE_STOPPED : 0;
}

static int env_u64(const char *name, uint64_t *out)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !*v)
        return -1;
    *out = strtoull(v, &end, 10);
    return *end ? -1 : 0;
}

int shard_parse(const char *text, struct shard *sh, char *err, size_t n)
{
    uint64_t a, b, min;
    char *end;

    if (!strcmp(text, "auto")) {
        /* Slurm job array: SLURM_ARRAY_TASK_ID within MIN..MAX. */
        if (!env_u64("SLURM_ARRAY_TASK_ID", &a) &&
            !env_u64("SLURM_ARRAY_TASK_COUNT", &b)) {
            if (env_u64("SLURM_ARRAY_TASK_MIN", &min))
                min = 0;
            a -= min;
        } else if (!env_u64("CI_NODE_INDEX", &a) &&
                   !env_u64("CI_NODE_TOTAL", &b)) {
            a -= 1; /* GitLab parallel jobs count from 1 */
        } else if (!env_u64("JOB_COMPLETION_INDEX", &a) &&
                   !env_u64("FOTASIM_SHARDS", &b)) {
            /* Kubernetes Indexed Job: the count is the Job's completions,
             * which the pod does not see; the manifest passes it. */
        } else if (!env_u64("FOTASIM_SHARD", &a) &&
                   !env_u64("FOTASIM_SHARDS", &b)) {
            /* GitHub Actions matrix, GNU parallel, anything else. */
        } else {
            snprintf(err, n,
                     "--shard auto: none of SLURM_ARRAY_TASK_ID+"
                     "SLURM_ARRAY_TASK_COUNT, CI_NODE_INDEX+CI_NODE_TOTAL, "
                     "JOB_COMPLETION_INDEX+FOTASIM_SHARDS, "
                     "FOTASIM_SHARD+FOTASIM_SHARDS is set");
            return -1;
        }
    } else {
        a = strtoull(text, &end, 10);
        if (end == text || *end != '/') {
            snprintf(err, n, "--shard %s: expected I/N or auto", text);
            return -1;
        }
        text = end + 1;
        b = strtoull(text, &end, 10);
        if (end == text || *end) {
            snprintf(err, n, "--shard: expected I/N or auto");
            return -1;
        }
    }
    if (b == 0 || a >= b || b > 1000000) {
        snprintf(err, n, "--shard %llu/%llu: need 0 <= I < N",
                 (unsigned long long)a, (unsigned long long)b);
        return -1;
    }
    sh->index = a;
    sh->count = b;
    return 0;
}
