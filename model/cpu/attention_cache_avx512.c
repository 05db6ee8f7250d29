// KV-cache attention of one query group with AVX-512 (attention_internal.h): per key, its
// D values are loaded once for the rep query heads; scores are dot products reduced across
// lanes, exp is vectorised (cpu_vexp), P V accumulates with fused multiply-adds.
#include <math.h>

#include "model/cpu/attention_internal.h"
#include "model/cpu/vexp.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

// The lane sums of four vectors, in the four lanes of the result (a fixed order).
__attribute__((target("avx512f"))) static inline __m128 reduce4(__m512 a, __m512 b, __m512 c,
                                                                __m512 d) {
    __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    // per 128-bit lane: ab = [a0+a2, b0+b2, a1+a3, b1+b3] (of that lane), cd alike
    __m512 x = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, 0x44), _mm512_shuffle_ps(ab, cd, 0xee));
    // per 128-bit lane: [a, b, c, d] partial sums; add the four lanes
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(x),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

bool attention_cache_group_avx512_ok(int D) {
    return D % 16 == 0 && D <= GROUP_MAX_D && __builtin_cpu_supports("avx512f");
}

__attribute__((target("avx512f"))) void
attention_cache_group_avx512(float *out, const float *q, const struct kv_view *kv, int b, int layer,
                             int hk, int pos, int rep, float scale) {
    const int D = kv->D, nd = D / 16;
    float m[GROUP_MAX], l[GROUP_MAX];
    float sc[GROUP_MAX][GROUP_KEYS] __attribute__((aligned(64)));
    float acc[GROUP_MAX][GROUP_MAX_D] __attribute__((aligned(64)));
    for (int r = 0; r < rep; r++) {
        m[r] = -INFINITY;
        l[r] = 0;
        for (int d = 0; d < nd; d++) _mm512_store_ps(acc[r] + 16 * d, _mm512_setzero_ps());
    }
    for (int j0 = 0; j0 <= pos; j0 += kv->block_size) {
        int nb = pos + 1 - j0 < kv->block_size ? pos + 1 - j0 : kv->block_size;
        const float *kb = kv_ptr(kv, b, layer, 0, hk, j0), *vb = kv_ptr(kv, b, layer, 1, hk, j0);
        kv_prefetch_next_block(kv, b, layer, hk, j0, pos);
        for (int c0 = 0; c0 < nb; c0 += GROUP_KEYS) {
            int nj = nb - c0 < GROUP_KEYS ? nb - c0 : GROUP_KEYS;
            const float *k = kb + (size_t)c0 * D, *v = vb + (size_t)c0 * D;
            int j = 0;
            for (; j + 4 <= nj; j += 4) // four keys at a time: one reduction for four dots
                for (int r = 0; r < rep; r++) {
                    const float *qr = q + (size_t)r * D, *kj = k + (size_t)j * D;
                    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
                    for (int d = 0; d < nd; d++) {
                        __m512 qd = _mm512_loadu_ps(qr + 16 * d);
                        s0 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kj + 16 * d), s0);
                        s1 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kj + D + 16 * d), s1);
                        s2 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kj + 2 * D + 16 * d), s2);
                        s3 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kj + 3 * D + 16 * d), s3);
                    }
                    __m128 dots = reduce4(s0, s1, s2, s3);
                    _mm_storeu_ps(&sc[r][j], _mm_mul_ps(dots, _mm_set1_ps(scale)));
                }
            for (; j < nj; j++) {
                const float *kj = k + (size_t)j * D;
                for (int r = 0; r < rep; r++) {
                    const float *qr = q + (size_t)r * D;
                    __m512 s = _mm512_setzero_ps();
                    for (int d = 0; d < nd; d++)
                        s = _mm512_fmadd_ps(_mm512_loadu_ps(qr + 16 * d),
                                            _mm512_loadu_ps(kj + 16 * d), s);
                    __m128 dots =
                        reduce4(s, _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps());
                    sc[r][j] = _mm_cvtss_f32(dots) * scale;
                }
            }
            for (int r = 0; r < rep; r++) {
                float mx = m[r];
                for (int j = 0; j < nj; j++) mx = sc[r][j] > mx ? sc[r][j] : mx;
                if (mx > m[r]) {
                    float c = expf(m[r] - mx);
                    l[r] *= c;
                    __m512 vc = _mm512_set1_ps(c);
                    for (int d = 0; d < nd; d++)
                        _mm512_store_ps(acc[r] + 16 * d,
                                        _mm512_mul_ps(_mm512_load_ps(acc[r] + 16 * d), vc));
                    m[r] = mx;
                }
                for (int j = 0; j < nj; j++) sc[r][j] -= mx;
                cpu_vexp(sc[r], nj);
                for (int j = 0; j < nj; j++) l[r] += sc[r][j];
                for (int d = 0; d < nd; d++) {
                    __m512 a = _mm512_load_ps(acc[r] + 16 * d);
                    for (int j = 0; j < nj; j++)
                        a = _mm512_fmadd_ps(_mm512_set1_ps(sc[r][j]),
                                            _mm512_loadu_ps(v + (size_t)j * D + 16 * d), a);
                    _mm512_store_ps(acc[r] + 16 * d, a);
                }
            }
        }
    }
    for (int r = 0; r < rep; r++) {
        __m512 il = _mm512_set1_ps(1.0f / l[r]);
        for (int d = 0; d < nd; d++)
            _mm512_storeu_ps(out + (size_t)r * D + 16 * d,
                             _mm512_mul_ps(_mm512_load_ps(acc[r] + 16 * d), il));
    }
}
#else
bool attention_cache_group_avx512_ok(int D) {
    (void)D;
    return false;
}

void attention_cache_group_avx512(float *out, const float *q, const struct kv_view *kv, int b,
                                  int layer, int hk, int pos, int rep, float scale) {
    (void)out, (void)q, (void)kv, (void)b, (void)layer, (void)hk, (void)pos, (void)rep, (void)scale;
}
#endif
