/* Seedable pseudo-random numbers for the generator: xoshiro256** seeded through splitmix64, so a
 * seed reproduces the same sequence on every platform (never rand(), whose sequence is libc's). */
#ifndef SALESCDC_PRODUCER_PRNG_H
#define SALESCDC_PRODUCER_PRNG_H

#include <stdint.h>

struct prng {
    uint64_t s[4];
};

/* Seeds P from SEED (any value, 0 included) by expanding it with splitmix64. */
void prng_seed(struct prng *p, uint64_t seed);
/* Returns the next 64 random bits (xoshiro256**). */
uint64_t prng_next(struct prng *p);
/* Returns a uniform integer in [0, n), without modulo bias; N must be > 0. */
uint64_t prng_below(struct prng *p, uint64_t n);
/* Returns a uniform integer in [lo, hi] (inclusive); requires lo <= hi. */
int64_t prng_range(struct prng *p, int64_t lo, int64_t hi);
/* One step of splitmix64 on *STATE: also useful on its own to derive independent seeds. */
uint64_t prng_splitmix64(uint64_t *state);

#endif
