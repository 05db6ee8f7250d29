// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11, the
// Random123 generator).
//
// Every random number is a pure function of (seed, stream, counter): no hidden
// state, so a value does not depend on which rank or thread draws it, on batch
// composition or on the order of completion, and a resumed run draws exactly
// what an uninterrupted one would. Streams name a purpose and its indices
// (design.md §6: purpose, step, query id, sample index); the counter walks
// positions inside a stream.
#pragma once

#include <stdint.h>

// The raw block cipher: 4 x 32-bit counter, 2 x 32-bit key, 10 rounds.
void philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]);

// rng(seed, stream, counter): four independent uniform 32-bit words.
// key = seed (low word, high word); ctr = (counter lo, counter hi, stream lo, stream hi).
void rng(uint32_t out[4], uint64_t seed, uint64_t stream, uint64_t counter);

// Purposes, the first component of every stream id.
enum rng_purpose {
    RNG_INIT = 1,    // parameter initialisation
    RNG_SHUFFLE = 2, // data order per epoch
    RNG_SAMPLE = 3,  // token sampling in rollouts
    RNG_VERIFY = 4,  // random evaluation points of the math verifier
    RNG_DROPOUT = 5, // reserved
    RNG_TEST = 99,   // tests
};

// A 64-bit stream id from a purpose and up to three indices (SplitMix64
// finaliser chained over the components; distinct tuples collide with
// probability ~2^-64).
uint64_t rng_stream_id(uint64_t purpose, uint64_t a, uint64_t b, uint64_t c);

// Conversions of random words.
float rng_u32_to_unit_f32(uint32_t x);                // uniform in [0, 1), 24 bits
double rng_u64_to_unit_f64(uint32_t hi, uint32_t lo); // uniform in [0, 1), 53 bits

// A sequential reader over one stream, for bulk draws (initialisation,
// shuffling). Its whole state is these fields, so it can be checkpointed.
struct rng_seq {
    uint64_t seed, stream, counter; // counter of the next block
    uint32_t block[4];
    int n_used; // words of block already consumed (4 = empty)
};

void rng_seq_init(struct rng_seq *s, uint64_t seed, uint64_t stream, uint64_t counter);
uint32_t rng_seq_u32(struct rng_seq *s);
float rng_seq_unit_f32(struct rng_seq *s);
// Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method).
uint32_t rng_seq_below(struct rng_seq *s, uint32_t n);
// Standard normal (Box-Muller on two 53-bit uniforms).
double rng_seq_normal(struct rng_seq *s);
