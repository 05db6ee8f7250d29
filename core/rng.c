// Philox4x32-10 and the conversions built on it.
//
// Round: (hi0, lo0) = M0 * c0, (hi1, lo1) = M1 * c2 (64-bit products),
//        c' = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0); the key is bumped by the
// Weyl constants (W0, W1) between rounds. Constants from Random123's philox.h.
#include "core/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void rng(uint32_t out[4], uint64_t seed, uint64_t stream, uint64_t counter) {
    const uint32_t ctr[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), (uint32_t)stream,
                             (uint32_t)(stream >> 32)};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    philox4x32_10(out, ctr, key);
}

static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t rng_stream_id(uint64_t purpose, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t h = splitmix64(purpose);
    h = splitmix64(h ^ a);
    h = splitmix64(h ^ b);
    return splitmix64(h ^ c);
}

float rng_u32_to_unit_f32(uint32_t x) {
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

double rng_u64_to_unit_f64(uint32_t hi, uint32_t lo) {
    uint64_t x = ((uint64_t)hi << 32 | lo) >> 11;
    return (double)x * (1.0 / 9007199254740992.0);
}

void rng_seq_init(struct rng_seq *s, uint64_t seed, uint64_t stream, uint64_t counter) {
    s->seed = seed;
    s->stream = stream;
    s->counter = counter;
    s->n_used = 4;
}

uint32_t rng_seq_u32(struct rng_seq *s) {
    if (s->n_used == 4) {
        rng(s->block, s->seed, s->stream, s->counter++);
        s->n_used = 0;
    }
    return s->block[s->n_used++];
}

float rng_seq_unit_f32(struct rng_seq *s) {
    return rng_u32_to_unit_f32(rng_seq_u32(s));
}

uint32_t rng_seq_below(struct rng_seq *s, uint32_t n) {
    uint64_t m = (uint64_t)rng_seq_u32(s) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)rng_seq_u32(s) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double rng_seq_normal(struct rng_seq *s) {
    uint32_t a = rng_seq_u32(s), b = rng_seq_u32(s), c = rng_seq_u32(s), d = rng_seq_u32(s);
    double u1 = 1.0 - rng_u64_to_unit_f64(a, b); // (0, 1]: log is finite
    double u2 = rng_u64_to_unit_f64(c, d);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
