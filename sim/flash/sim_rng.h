/*
 * sim_rng: the one seeded generator every random choice of the simulator
 * and the harness comes from (splitmix64: a 64-bit state that copies with
 * its owner, so a copied device or link goes on exactly as the original).
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

static inline uint64_t sim_rng_finalise(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Next 64 random bits from *state. */
static inline uint64_t sim_rng_next(uint64_t *state)
{
    return sim_rng_finalise(*state += 0x9E3779B97F4A7C15ull);
}

/* A uniform double in [0, 1). */
static inline double sim_rng_unit(uint64_t *state)
{
    return (double)(sim_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Derive a seed from two values (run seed and trial id, say). */
static inline uint64_t sim_rng_mix(uint64_t a, uint64_t b)
{
    return sim_rng_finalise(a ^
                            (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2)));
}

#endif /* SIM_RNG_H */
