// Causal grouped-query attention. Query head h reads KV head h / (H / Hkv) (Hugging Face's
// repeat_kv). For a query i: s_j = q_i . k_j / sqrt(D) over keys j <= i of its own sequence,
// p = softmax(s), out_i = sum_j p_j v_j; lse_i = log sum_j exp s_j is kept so that backward
// recomputes p without storing (T x T) probabilities (as FlashAttention does):
//   delta_i = dout_i . out_i,  ds_ij = p_ij (dout_i . v_j - delta_i),
//   dq_i = sum_j ds_ij k_j / sqrt(D),  dk_j = sum_i ds_ij q_i / sqrt(D),  dv_j = sum_i p_ij dout_i.
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "model/cpu/attention_internal.h"
#include "model/cpu/kernels.h"

// Eight partial sums, so the compiler vectorises without -ffast-math.
static inline float dot(const float *a, const float *b, int n) {
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static inline void axpy(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

// Online softmax state for one query: running max m, sum l and weighted sum acc (D <= 1024).
struct osm {
    float m, l;
    float acc[1024];
};

static inline void osm_init(struct osm *s, int D) {
    s->m = -INFINITY;
    s->l = 0;
    memset(s->acc, 0, sizeof(float) * D);
}

// n keys at k + j*stride, values at v + j*stride.
static inline void osm_segment(struct osm *s, const float *q, const float *k, const float *v,
                               size_t stride, int n, int D, float scale) {
    for (int j = 0; j < n; j++) {
        float sc = dot(q, k + j * stride, D) * scale;
        if (sc > s->m) {
            float c = expf(s->m - sc);
            s->l *= c;
            for (int d = 0; d < D; d++) s->acc[d] *= c;
            s->m = sc;
        }
        float p = expf(sc - s->m);
        s->l += p;
        axpy(s->acc, p, v + j * stride, D);
    }
}

// n contiguous keys and values (stride D), scored 64 at a time so that the running sums are
// rescaled once per 64 keys instead of at every new maximum (the KV-cache path).
static inline void osm_block(struct osm *s, const float *q, const float *k, const float *v, int n,
                             int D, float scale) {
    float sc[64];
    for (int j0 = 0; j0 < n; j0 += 64) {
        int nj = n - j0 < 64 ? n - j0 : 64;
        float mx = s->m;
        for (int j = 0; j < nj; j++) {
            sc[j] = dot(q, k + (size_t)(j0 + j) * D, D) * scale;
            mx = sc[j] > mx ? sc[j] : mx;
        }
        if (mx > s->m) {
            float c = expf(s->m - mx);
            s->l *= c;
            for (int d = 0; d < D; d++) s->acc[d] *= c;
            s->m = mx;
        }
        for (int j = 0; j < nj; j++) {
            float p = expf(sc[j] - mx);
            s->l += p;
            axpy(s->acc, p, v + (size_t)(j0 + j) * D, D);
        }
    }
}

// Writes out (D); returns lse.
static inline float osm_finish(const struct osm *s, float *out, int D) {
    for (int d = 0; d < D; d++) out[d] = s->acc[d] / s->l;
    return s->m + logf(s->l);
}

void cpu_attention_forward(void *ctx, float *out, float *lse, const float *qkv,
                           const int32_t *cu_seqlens, int B, int H, int Hkv, int D) {
    (void)ctx;
    int Q = (H + 2 * Hkv) * D, rep = H / Hkv;
    float scale = 1.0f / sqrtf((float)D);
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int t0 = cu_seqlens[b], T = cu_seqlens[b + 1] - t0, hk = h / rep;
            const float *kbase = qkv + (size_t)t0 * Q + (size_t)(H + hk) * D;
            const float *vbase = qkv + (size_t)t0 * Q + (size_t)(H + Hkv + hk) * D;
            struct osm s;
            for (int i = 0; i < T; i++) {
                const float *q = qkv + (size_t)(t0 + i) * Q + (size_t)h * D;
                float *o = out + (size_t)(t0 + i) * H * D + (size_t)h * D;
                osm_init(&s, D);
                osm_segment(&s, q, kbase, vbase, (size_t)Q, i + 1, D, scale);
                lse[(size_t)(t0 + i) * H + h] = osm_finish(&s, o, D);
            }
        }
}

void cpu_attention_backward(void *ctx, float *dqkv, const float *dout, const float *out,
                            const float *qkv, const float *lse, const int32_t *cu_seqlens, int B,
                            int H, int Hkv, int D) {
    (void)ctx;
    int Q = (H + 2 * Hkv) * D, rep = H / Hkv;
    float scale = 1.0f / sqrtf((float)D);
    // One unit per (sequence, KV head): it owns dk, dv of that head and dq of its query heads.
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int hk = 0; hk < Hkv; hk++) {
            int t0 = cu_seqlens[b], T = cu_seqlens[b + 1] - t0;
            attention_zero_unit(dqkv, t0, T, hk, H, Hkv, D);
            for (int h = hk * rep; h < (hk + 1) * rep; h++)
                for (int i = 0; i < T; i++) {
                    size_t ti = (size_t)(t0 + i);
                    const float *q = qkv + ti * Q + (size_t)h * D;
                    const float *go = dout + ti * H * D + (size_t)h * D;
                    const float *o = out + ti * H * D + (size_t)h * D;
                    float *dq = dqkv + ti * Q + (size_t)h * D;
                    float delta = dot(go, o, D), l = lse[ti * H + h];
                    for (int j = 0; j <= i; j++) {
                        size_t tj = (size_t)(t0 + j);
                        const float *k = qkv + tj * Q + (size_t)(H + hk) * D;
                        const float *v = qkv + tj * Q + (size_t)(H + Hkv + hk) * D;
                        float p = expf(dot(q, k, D) * scale - l);
                        float ds = p * (dot(go, v, D) - delta) * scale;
                        axpy(dq, ds, k, D);
                        axpy(dqkv + tj * Q + (size_t)(H + hk) * D, ds, q, D);
                        axpy(dqkv + tj * Q + (size_t)(H + Hkv + hk) * D, p, go, D);
                    }
                }
        }
}

// The queries h of KV head hk (rep of them) at one position, over cache positions 0 .. pos:
// each key and value block is read once for the group. Per query this is exactly osm_block's
// arithmetic over the same blocks (the same bits), only the loops are interleaved. Where the
// CPU has AVX-512, attention_cache_group_avx512 (attention_cache_avx512.c) runs instead.
__attribute__((target_clones("avx512f", "default"))) static void
cache_group(float *out, const float *q, const struct kv_view *kv, int b, int layer, int hk, int pos,
            int rep, float scale) {
    int D = kv->D;
    float m[GROUP_MAX], l[GROUP_MAX], sc[GROUP_MAX][GROUP_KEYS];
    static_assert(GROUP_MAX * GROUP_MAX_D * sizeof(float) <= 16384, "stack");
    float acc[GROUP_MAX][GROUP_MAX_D];
    for (int r = 0; r < rep; r++) {
        m[r] = -INFINITY;
        l[r] = 0;
        memset(acc[r], 0, sizeof(float) * D);
    }
    for (int j0 = 0; j0 <= pos; j0 += kv->block_size) {
        int nb = pos + 1 - j0 < kv->block_size ? pos + 1 - j0 : kv->block_size;
        const float *kb = kv_ptr(kv, b, layer, 0, hk, j0), *vb = kv_ptr(kv, b, layer, 1, hk, j0);
        kv_prefetch_next_block(kv, b, layer, hk, j0, pos);
        for (int c0 = 0; c0 < nb; c0 += GROUP_KEYS) {
            int nj = nb - c0 < GROUP_KEYS ? nb - c0 : GROUP_KEYS;
            const float *k = kb + (size_t)c0 * D, *v = vb + (size_t)c0 * D;
            for (int j = 0; j < nj; j++)
                for (int r = 0; r < rep; r++)
                    sc[r][j] = dot(q + (size_t)r * D, k + (size_t)j * D, D) * scale;
            for (int r = 0; r < rep; r++) {
                float mx = m[r];
                for (int j = 0; j < nj; j++) mx = sc[r][j] > mx ? sc[r][j] : mx;
                if (mx > m[r]) {
                    float c = expf(m[r] - mx);
                    l[r] *= c;
                    for (int d = 0; d < D; d++) acc[r][d] *= c;
                    m[r] = mx;
                }
                for (int j = 0; j < nj; j++) {
                    sc[r][j] = expf(sc[r][j] - mx);
                    l[r] += sc[r][j];
                }
            }
            // acc[r] += sum_j p_j v_j in j order, 16 outputs at a time kept in registers
            for (int r = 0; r < rep; r++)
                for (int d0 = 0; d0 < D; d0 += 16) {
                    int nd = D - d0 < 16 ? D - d0 : 16;
                    float a[16];
                    for (int i = 0; i < nd; i++) a[i] = acc[r][d0 + i];
                    if (nd == 16)
                        for (int j = 0; j < nj; j++)
                            for (int i = 0; i < 16; i++)
                                a[i] += sc[r][j] * v[(size_t)j * D + d0 + i];
                    else
                        for (int j = 0; j < nj; j++)
                            for (int i = 0; i < nd; i++)
                                a[i] += sc[r][j] * v[(size_t)j * D + d0 + i];
                    for (int i = 0; i < nd; i++) acc[r][d0 + i] = a[i];
                }
        }
    }
    for (int r = 0; r < rep; r++)
        for (int d = 0; d < D; d++) out[(size_t)r * D + d] = acc[r][d] / l[r];
}

void cpu_attention_cache(void *ctx, float *out, const float *qkv, const struct kv_view *kv,
                         int layer, const int32_t *cu_new, const int32_t *start, int B, int H) {
    (void)ctx;
    int Hkv = kv->Hkv, D = kv->D, Q = (H + 2 * Hkv) * D, rep = H / Hkv;
    float scale = 1.0f / sqrtf((float)D);
    // Append the new keys and values.
    for (int b = 0; b < B; b++)
        for (int t = cu_new[b]; t < cu_new[b + 1]; t++) {
            int pos = start[b] + (t - cu_new[b]);
            for (int hk = 0; hk < Hkv; hk++) {
                memcpy(kv_ptr(kv, b, layer, 0, hk, pos), qkv + (size_t)t * Q + (size_t)(H + hk) * D,
                       sizeof(float) * D);
                memcpy(kv_ptr(kv, b, layer, 1, hk, pos),
                       qkv + (size_t)t * Q + (size_t)(H + Hkv + hk) * D, sizeof(float) * D);
            }
        }
    int N = cu_new[B];
    bool is_grouped = rep <= GROUP_MAX && D <= GROUP_MAX_D;
    bool is_avx512 = is_grouped && attention_cache_group_avx512_ok(D);
#pragma omp parallel for schedule(dynamic, 4)
    for (int u = 0; u < N * (is_grouped ? Hkv : H); u++) {
        int t = u / (is_grouped ? Hkv : H), h = u % (is_grouped ? Hkv : H);
        int lo = 0, hi = B - 1; // the sequence b of token t: cu_new[b] <= t < cu_new[b + 1]
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (cu_new[mid] <= t)
                lo = mid;
            else
                hi = mid - 1;
        }
        int b = lo, pos = start[b] + (t - cu_new[b]);
        if (is_grouped) { // h is the KV head
            float *o = out + (size_t)t * H * D + (size_t)h * rep * D;
            const float *q = qkv + (size_t)t * Q + (size_t)h * rep * D;
            if (is_avx512)
                attention_cache_group_avx512(o, q, kv, b, layer, h, pos, rep, scale);
            else
                cache_group(o, q, kv, b, layer, h, pos, rep, scale);
            continue;
        }
        int hk = h / rep;
        const float *q = qkv + (size_t)t * Q + (size_t)h * D;
        float *o = out + (size_t)t * H * D + (size_t)h * D;
        struct osm s;
        osm_init(&s, D);
        for (int j0 = 0; j0 <= pos; j0 += kv->block_size) {
            int n = pos + 1 - j0 < kv->block_size ? pos + 1 - j0 : kv->block_size;
            osm_block(&s, q, kv_ptr(kv, b, layer, 0, hk, j0), kv_ptr(kv, b, layer, 1, hk, j0), n, D,
                      scale);
        }
        (void)osm_finish(&s, o, D);
    }
}
