// Private to the CPU attention kernels.
#pragma once

#include <stddef.h>
#include <string.h>

// Zeroes, in dqkv (N,Q), the gradient rows that the backward unit (sequence at t0 of T
// tokens, KV head hk) owns: dq of its rep query heads, dk and dv of hk.
static inline void attention_zero_unit(float *dqkv, int t0, int T, int hk, int H, int Hkv, int D) {
    int Q = (H + 2 * Hkv) * D, rep = H / Hkv;
    for (int t = t0; t < t0 + T; t++) {
        float *row = dqkv + (size_t)t * Q;
        memset(row + (size_t)hk * rep * D, 0, sizeof(float) * rep * D);
        memset(row + (size_t)(H + hk) * D, 0, sizeof(float) * D);
        memset(row + (size_t)(H + Hkv + hk) * D, 0, sizeof(float) * D);
    }
}
