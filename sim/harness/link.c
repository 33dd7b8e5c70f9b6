/* link: see link.h. */
#include "link.h"
#include "sim_rng.h"

#include <math.h>
#include <string.h>

static uint64_t rnd(struct link *l)
{
    return sim_rng_next(&l->rng);
}

static double rnd_unit(struct link *l)
{
    return sim_rng_unit(&l->rng);
}

void link_init(struct link *l, const struct scenario_link *cfg, uint64_t seed)
{
    memset(l, 0, sizeof(*l));
    l->cfg = *cfg;
    l->version = 1;
    link_reseed(l, seed);
}

void link_reseed(struct link *l, uint64_t seed)
{
    l->rng = seed ^ 0x243F6A8885A308D3ull;
}

uint32_t link_request(struct link *l, uint32_t len)
{
    l->requests++;
    l->clock_ns += l->cfg.latency_ns;
    if (l->cfg.max_request && len > l->cfg.max_request)
        len = l->cfg.max_request;
    if (l->cfg.drop_rate > 0 && len > 1 && rnd_unit(l) < l->cfg.drop_rate)
        len = (uint32_t)(rnd(l) % len); /* dropped part-way */
    return len;
}

void link_deliver(struct link *l, uint8_t *dst, const uint8_t *src, uint32_t n)
{
    memcpy(dst, src, n);
    if (l->cfg.corrupt_rate > 0) {
        /* Geometric gaps between corrupted bytes: no per-byte draws. */
        double p = l->cfg.corrupt_rate;
        uint64_t at = 0;
        for (;;) {
            double u = rnd_unit(l);
            at += (uint64_t)(log(u > 0 ? u : 1e-300) / log(1 - p));
            if (at >= n)
                break;
            dst[at] ^= (uint8_t)(1 + rnd(l) % 255);
            l->corrupted++;
            at++;
        }
    }
    l->served += n;
    if (l->cfg.bandwidth_bps)
        l->clock_ns += (uint64_t)n * 1000000000ull / l->cfg.bandwidth_bps;
    if (l->cfg.change_after && l->version == 1 &&
        l->served >= l->cfg.change_after)
        l->version = 2;
}
