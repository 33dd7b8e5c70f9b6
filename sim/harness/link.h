/*
 * link: the network between the device and the update server. Serves byte
 * ranges of the current image, at a bandwidth and a per-request latency on
 * a simulated clock; may drop a connection part-way, corrupt bytes, or
 * switch the server to a new image version after a number of bytes served.
 * Every random choice comes from its own seeded generator.
 */
#ifndef FOTASIM_LINK_H
#define FOTASIM_LINK_H

#include <stdint.h>

#include "scenario.h"

struct link {
    struct scenario_link cfg;
    uint64_t rng;
    uint64_t clock_ns; /* time spent on the link */
    uint64_t served;   /* bytes delivered, all requests */
    uint64_t requests;
    uint64_t corrupted; /* bytes delivered corrupted, all requests */
    int version; /* 1, or 2 once the server changed image */
};

void link_init(struct link *l, const struct scenario_link *cfg, uint64_t seed);
/* Reseed, keeping counters (a trial forks the live link). */
void link_reseed(struct link *l, uint64_t seed);

/*
 * Start a request for len bytes: returns how many bytes this connection
 * will deliver before it drops (len when it does not), and charges the
 * latency. Then link_deliver() copies them in order.
 */
uint32_t link_request(struct link *l, uint32_t len);
/* Copy n bytes from src (the server's image at the offset) into dst,
 * corrupting bytes at corrupt_rate; counts them and charges the time. */
void link_deliver(struct link *l, uint8_t *dst, const uint8_t *src, uint32_t n);

#endif /* FOTASIM_LINK_H */
