// Causal GQA attention over packed sequences in 64 x 64 tiles, each tile product a
// single-threaded sgemm (FlashAttention's blocking on the CPU): the same math as
// attention.c, which stays the reference these kernels are tested against.
//   forward, per query tile i: for key tiles j <= i: S = Q_i K_j^T / sqrt(D) (causal mask on
//   the diagonal tile), online softmax into O_i; lse_i kept.
//   backward, per (sequence, KV head), per query head of the group, per tile pair j <= i:
//   P = exp(S - lse), dV_j += P^T dO_i, dP = dO_i V_j^T, dS = P (dP - delta_i) / sqrt(D),
//   dQ_i += dS K_j, dK_j += dS^T Q_i.
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "model/cpu/attention_internal.h"
#include "model/cpu/kernels.h"
#include "model/cpu/vexp.h"

enum { TILE = 64, TILED_MAX_D = 256 };

static void mm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *Cm, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
                K, alpha, A, lda, B, ldb, beta, Cm, ldc);
}

void cpu_attention_forward_tiled(void *ctx, float *out, float *lse, const float *qkv,
                                 const int32_t *cu_seqlens, int B, int H, int Hkv, int D) {
    if (D > TILED_MAX_D) {
        cpu_attention_forward(ctx, out, lse, qkv, cu_seqlens, B, H, Hkv, D);
        return;
    }
    int Q = (H + 2 * Hkv) * D, rep = H / Hkv, HD = H * D;
    float scale = 1.0f / sqrtf((float)D);
    // units: (sequence, head, query tile), counted so that the loop is flat
    int n_units = 0;
    for (int b = 0; b < B; b++)
        n_units += H * ((cu_seqlens[b + 1] - cu_seqlens[b] + TILE - 1) / TILE);
#pragma omp parallel for schedule(dynamic)
    for (int u = 0; u < n_units; u++) {
        int b = 0, r = u, nt = 0;
        for (;; b++) {
            nt = (cu_seqlens[b + 1] - cu_seqlens[b] + TILE - 1) / TILE;
            if (r < H * nt) break;
            r -= H * nt;
        }
        int h = r / nt, it = r % nt, hk = h / rep, t0 = cu_seqlens[b], T = cu_seqlens[b + 1] - t0;
        int i0 = it * TILE, ni = T - i0 < TILE ? T - i0 : TILE;
        const float *q = qkv + (size_t)(t0 + i0) * Q + (size_t)h * D;
        float S[TILE * TILE], O[TILE * TILED_MAX_D], m[TILE], l[TILE];
        for (int i = 0; i < ni; i++) m[i] = -INFINITY, l[i] = 0;
        memset(O, 0, sizeof(float) * (size_t)ni * D);
        for (int j0 = 0; j0 <= i0; j0 += TILE) {
            int nj = T - j0 < TILE ? T - j0 : TILE;
            const float *k = qkv + (size_t)(t0 + j0) * Q + (size_t)(H + hk) * D;
            const float *v = qkv + (size_t)(t0 + j0) * Q + (size_t)(H + Hkv + hk) * D;
            mm(false, true, ni, nj, D, scale, q, Q, k, Q, 0.0f, S, TILE);
            for (int i = 0; i < ni; i++) {
                float *s = S + i * TILE;
                int jmax = j0 == i0 ? i + 1 : nj; // causal within the diagonal tile
                float mx = m[i];
                for (int j = 0; j < jmax; j++) mx = s[j] > mx ? s[j] : mx;
                float c = expf(m[i] - mx), sum = 0;
                for (int j = 0; j < jmax; j++) s[j] -= mx;
                cpu_vexp(s, jmax);
                for (int j = 0; j < jmax; j++) sum += s[j];
                for (int j = jmax; j < nj; j++) s[j] = 0;
                l[i] = l[i] * c + sum;
                m[i] = mx;
                if (c != 1.0f)
                    for (int d = 0; d < D; d++) O[i * D + d] *= c;
            }
            mm(false, false, ni, D, nj, 1.0f, S, TILE, v, Q, 1.0f, O, D);
        }
        for (int i = 0; i < ni; i++) {
            float *o = out + (size_t)(t0 + i0 + i) * HD + (size_t)h * D;
            for (int d = 0; d < D; d++) o[d] = O[i * D + d] / l[i];
            lse[(size_t)(t0 + i0 + i) * H + h] = m[i] + logf(l[i]);
        }
    }
}

void cpu_attention_backward_tiled(void *ctx, float *dqkv, const float *dout, const float *out,
                                  const float *qkv, const float *lse, const int32_t *cu_seqlens,
                                  int B, int H, int Hkv, int D) {
    (void)ctx;
    int Q = (H + 2 * Hkv) * D, rep = H / Hkv, HD = H * D;
    float scale = 1.0f / sqrtf((float)D);
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int hk = 0; hk < Hkv; hk++) {
            int t0 = cu_seqlens[b], T = cu_seqlens[b + 1] - t0;
            attention_zero_unit(dqkv, t0, T, hk, H, Hkv, D);
            float S[TILE * TILE], dP[TILE * TILE], delta[TILE];
            for (int h = hk * rep; h < (hk + 1) * rep; h++)
                for (int i0 = 0; i0 < T; i0 += TILE) {
                    int ni = T - i0 < TILE ? T - i0 : TILE;
                    size_t ti = (size_t)(t0 + i0);
                    const float *q = qkv + ti * Q + (size_t)h * D;
                    const float *go = dout + ti * HD + (size_t)h * D;
                    float *dq = dqkv + ti * Q + (size_t)h * D;
                    for (int i = 0; i < ni; i++) {
                        const float *o = out + (ti + i) * HD + (size_t)h * D,
                                    *g = go + (size_t)i * HD;
                        float s = 0;
                        for (int d = 0; d < D; d++) s += g[d] * o[d];
                        delta[i] = s;
                    }
                    for (int j0 = 0; j0 <= i0; j0 += TILE) {
                        int nj = T - j0 < TILE ? T - j0 : TILE;
                        size_t tj = (size_t)(t0 + j0);
                        const float *k = qkv + tj * Q + (size_t)(H + hk) * D;
                        const float *v = qkv + tj * Q + (size_t)(H + Hkv + hk) * D;
                        float *dk = dqkv + tj * Q + (size_t)(H + hk) * D;
                        float *dv = dqkv + tj * Q + (size_t)(H + Hkv + hk) * D;
                        mm(false, true, ni, nj, D, scale, q, Q, k, Q, 0.0f, S, TILE);
                        mm(false, true, ni, nj, D, 1.0f, go, HD, v, Q, 0.0f, dP, TILE);
                        for (int i = 0; i < ni; i++) {
                            float l = lse[(ti + i) * H + h];
                            int jmax = j0 == i0 ? i + 1 : nj;
                            float *s = S + i * TILE, *dp = dP + i * TILE;
                            for (int j = 0; j < jmax; j++) s[j] -= l;
                            cpu_vexp(s, jmax);
                            for (int j = 0; j < jmax; j++)
                                dp[j] = s[j] * (dp[j] - delta[i]) * scale;
                            for (int j = jmax; j < nj; j++) s[j] = dp[j] = 0;
                        }
                        mm(true, false, nj, D, ni, 1.0f, S, TILE, go, HD, 1.0f, dv, Q);
                        mm(false, false, ni, D, nj, 1.0f, dP, TILE, k, Q, 1.0f, dq, Q);
                        mm(true, false, nj, D, ni, 1.0f, dP, TILE, q, Q, 1.0f, dk, Q);
                    }
                }
        }
}
