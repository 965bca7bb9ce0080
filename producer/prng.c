/* xoshiro256** (Blackman & Vigna) seeded with splitmix64: small, fast, reproducible. */
#include "prng.h"

uint64_t prng_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void prng_seed(struct prng *p, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = prng_splitmix64(&st);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(struct prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Rejection sampling: draws below the largest multiple of N are accepted, so every residue is
 * equally likely (plain `% n` would favour small values when 2^64 is not a multiple of n). */
uint64_t prng_below(struct prng *p, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = prng_next(p);
    while (x >= limit);
    return x % n;
}

int64_t prng_range(struct prng *p, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span == UINT64_MAX)
        return (int64_t)prng_next(p);
    return (int64_t)((uint64_t)lo + prng_below(p, span + 1));
}
