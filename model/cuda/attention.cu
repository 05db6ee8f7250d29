// Causal grouped-query attention on the device, the math of model/cpu/attention.c (query head h
// reads KV head h / (H / Hkv); s_ij = q_i . k_j / sqrt(D) for j <= i in i's sequence):
//   forward: online softmax over key tiles, out_i = sum_j p_ij v_j, lse_i kept;
//   backward (FlashAttention-2's recomputation from lse, no atomics, so deterministic):
//     delta_i = dout_i . out_i, p_ij = exp(s_ij - lse_i), ds_ij = p_ij (dout_i . v_j - delta_i);
//     dq_i = sum_j ds_ij k_j / sqrt(D)   (one kernel, a warp per query row),
//     dk_j = sum_h sum_i ds_ij q_i / sqrt(D), dv_j = sum_h sum_i p_ij dout_i  (another, a warp
//     per key row, summing the query heads of its group in order);
//   decode: new k, v appended to the paged cache, then a warp per (token, head) attends to
//   cache positions 0 .. its own.
// Blocks hold ATT_WARPS rows (one warp each) and stream tiles of ATT_TILE rows of the other
// side through shared memory (rows padded to D + 1 floats: conflict-free lane-per-row reads);
// in a tile, lane j owns key (or query) j for the dot products and lane d owns columns
// d, d + 32, ... of the accumulators.
#include <math.h>

#include "model/cuda/cuda_internal.cuh"

// ATT_GRID_X blocks per (head, sequence) loop over its row blocks; ATT_FLAT_BLOCKS blocks loop
// over (token, head) pairs: fixed grids, so no launch needs a length from the device.
enum {
    ATT_WARPS = 8,
    ATT_TILE = 32,
    ATT_MAXC = CUDA_ATTN_MAX_D / 32,
    ATT_GRID_X = 32,
    ATT_FLAT_BLOCKS = 1024
};

static size_t fwd_smem(int D) {
    return (2 * ATT_TILE * (D + 1) + ATT_WARPS * D) * sizeof(float);
}
static size_t bwd_smem(int D) {
    return (2 * ATT_TILE * (D + 1) + 2 * ATT_WARPS * D + 2 * ATT_TILE) * sizeof(float);
}

// Loads rows r0 .. r0 + n_rows - 1 of sequence t0 (T tokens), columns col .. col + D - 1 of
// qkv-like rows of stride ld, into dst (n_rows x pitch); rows past T are zero.
__device__ void load_rows(float *dst, int pitch, const float *src, size_t ld, size_t col, int t0,
                          int T, int r0, int n_rows, int D) {
    for (int k = threadIdx.x; k < n_rows * D; k += blockDim.x) {
        int r = k / D, d = k % D;
        dst[r * pitch + d] = r0 + r < T ? src[(size_t)(t0 + r0 + r) * ld + col + d] : 0.0f;
    }
}

__device__ __forceinline__ float dot_shared(const float *a, const float *b, int D) {
    float s = 0;
    for (int d = 0; d < D; d++) s += a[d] * b[d];
    return s;
}

// acc[c] += sum over jj < n of (lane jj's w) * rows[jj * pitch + lane + 32 c]: the weighted
// sum of n rows, each lane owning columns lane, lane + 32, ...
__device__ __forceinline__ void accumulate_rows(float (&acc)[ATT_MAXC], float w, const float *rows,
                                                int pitch, int n, int lane, int D) {
    for (int jj = 0; jj < n; jj++) {
        float wj = __shfl_sync(0xffffffffu, w, jj);
#pragma unroll
        for (int cc = 0; cc < ATT_MAXC; cc++) {
            int d = lane + 32 * cc;
            if (d < D) acc[cc] += wj * rows[jj * pitch + d];
        }
    }
}

// dst[d] = acc * scale for the columns this lane owns.
__device__ __forceinline__ void store_row(float *dst, const float (&acc)[ATT_MAXC], float scale,
                                          int lane, int D) {
#pragma unroll
    for (int cc = 0; cc < ATT_MAXC; cc++) {
        int d = lane + 32 * cc;
        if (d < D) dst[d] = acc[cc] * scale;
    }
}

// Query rows i0 .. i0 + ATT_WARPS - 1 of sequence blockIdx.z, head blockIdx.y.
__device__ void attention_forward_rows(float *out, float *lse, const float *qkv, const int32_t *cu,
                                       int H, int Hkv, int D, float scale, float *sm, int i0) {
    int P = D + 1, Q = (H + 2 * Hkv) * D;
    float *sk = sm, *sv = sk + ATT_TILE * P, *sq = sv + ATT_TILE * P;
    int b = blockIdx.z, h = blockIdx.y, hk = h / (H / Hkv);
    int t0 = cu[b], T = cu[b + 1] - t0;
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, i = i0 + w;
    bool active = i < T;
    load_rows(sq, D, qkv, Q, (size_t)h * D, t0, T, i0, ATT_WARPS, D);
    float m = -INFINITY, l = 0, acc[ATT_MAXC] = {0};
    int last = min(T, i0 + ATT_WARPS) - 1;
    for (int j0 = 0; j0 <= last; j0 += ATT_TILE) {
        __syncthreads(); // the previous tile is consumed
        load_rows(sk, P, qkv, Q, (size_t)(H + hk) * D, t0, T, j0, ATT_TILE, D);
        load_rows(sv, P, qkv, Q, (size_t)(H + Hkv + hk) * D, t0, T, j0, ATT_TILE, D);
        __syncthreads();
        if (!active || j0 > i) continue;
        int j = j0 + lane;
        float s = j <= i ? dot_shared(sq + w * D, sk + lane * P, D) * scale : -INFINITY;
        float mnew = fmaxf(m, warp_max(s)); // finite: key j0 <= i is in the tile
        float c = expf(m - mnew), p = expf(s - mnew);
        l = l * c + warp_sum(p);
        int nj = min(ATT_TILE, i - j0 + 1);
#pragma unroll
        for (int cc = 0; cc < ATT_MAXC; cc++) acc[cc] *= c;
        accumulate_rows(acc, p, sv, P, nj, lane, D);
        m = mnew;
    }
    if (!active) return;
    store_row(out + (size_t)(t0 + i) * H * D + (size_t)h * D, acc, 1.0f / l, lane, D);
    if (lane == 0) lse[(size_t)(t0 + i) * H + h] = m + logf(l);
}

// Grid (ATT_GRID_X, H, B): block x takes the query blocks x, x + ATT_GRID_X, ... of its
// sequence, so the launch needs no sequence length from the host.
__global__ void attention_forward_kernel(float *out, float *lse, const float *qkv,
                                         const int32_t *cu, int H, int Hkv, int D, float scale) {
    extern __shared__ float sm[];
    int T = cu[blockIdx.z + 1] - cu[blockIdx.z];
    for (int i0 = blockIdx.x * ATT_WARPS; i0 < T; i0 += gridDim.x * ATT_WARPS) {
        __syncthreads(); // the previous query block is done with shared memory
        attention_forward_rows(out, lse, qkv, cu, H, Hkv, D, scale, sm, i0);
    }
}

// delta(N,H) = dout . out per (token, head), a warp each, stored in the first element of that
// head's dq slot of dqkv: the dk/dv kernel reads it there, then the dq kernel reads it before
// it overwrites the slot (no scratch, no sequence length from the host: N = cu[B]).
__global__ void attention_delta_kernel(float *dqkv, const float *dout, const float *out,
                                       const int32_t *cu, int B, int H, int Q, int D) {
    int lane = threadIdx.x & 31;
    size_t NH = (size_t)cu[B] * H;
    for (size_t k = (size_t)blockIdx.x * ATT_WARPS + (threadIdx.x >> 5); k < NH;
         k += (size_t)gridDim.x * ATT_WARPS) {
        const float *a = dout + k * D, *o = out + k * D;
        float s = 0;
        for (int d = lane; d < D; d += 32) s += a[d] * o[d];
        s = warp_sum(s);
        if (lane == 0) dqkv[k / H * Q + k % H * D] = s;
    }
}

__device__ void attention_dq_rows(float *dqkv, const float *dout, const float *qkv,
                                  const float *lse, const int32_t *cu, int H, int Hkv, int D,
                                  float scale, float *sm, int i0) {
    int P = D + 1, Q = (H + 2 * Hkv) * D;
    float *sk = sm, *sv = sk + ATT_TILE * P, *sq = sv + ATT_TILE * P, *sdo = sq + ATT_WARPS * D;
    int b = blockIdx.z, h = blockIdx.y, hk = h / (H / Hkv);
    int t0 = cu[b], T = cu[b + 1] - t0;
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, i = i0 + w;
    bool active = i < T;
    load_rows(sq, D, qkv, Q, (size_t)h * D, t0, T, i0, ATT_WARPS, D);
    load_rows(sdo, D, dout, (size_t)H * D, (size_t)h * D, t0, T, i0, ATT_WARPS, D);
    float li = 0, di = 0, acc[ATT_MAXC] = {0};
    if (active) {
        li = lse[(size_t)(t0 + i) * H + h];
        di = dqkv[(size_t)(t0 + i) * Q + (size_t)h * D]; // attention_delta_kernel
    }
    int last = min(T, i0 + ATT_WARPS) - 1;
    for (int j0 = 0; j0 <= last; j0 += ATT_TILE) {
        __syncthreads();
        load_rows(sk, P, qkv, Q, (size_t)(H + hk) * D, t0, T, j0, ATT_TILE, D);
        load_rows(sv, P, qkv, Q, (size_t)(H + Hkv + hk) * D, t0, T, j0, ATT_TILE, D);
        __syncthreads();
        if (!active || j0 > i) continue;
        float ds = 0;
        if (j0 + lane <= i) {
            float p = expf(dot_shared(sq + w * D, sk + lane * P, D) * scale - li);
            ds = p * (dot_shared(sdo + w * D, sv + lane * P, D) - di) * scale;
        }
        int nj = min(ATT_TILE, i - j0 + 1);
        accumulate_rows(acc, ds, sk, P, nj, lane, D);
    }
    if (!active) return;
    store_row(dqkv + (size_t)(t0 + i) * Q + (size_t)h * D, acc, 1.0f, lane, D);
}

__global__ void attention_backward_dq_kernel(float *dqkv, const float *dout, const float *qkv,
                                             const float *lse, const int32_t *cu, int H, int Hkv,
                                             int D, float scale) {
    extern __shared__ float sm[];
    int T = cu[blockIdx.z + 1] - cu[blockIdx.z];
    for (int i0 = blockIdx.x * ATT_WARPS; i0 < T; i0 += gridDim.x * ATT_WARPS) {
        __syncthreads();
        attention_dq_rows(dqkv, dout, qkv, lse, cu, H, Hkv, D, scale, sm, i0);
    }
}

// Key rows jb .. jb + ATT_WARPS - 1 of sequence blockIdx.z, KV head blockIdx.y.
__device__ void attention_dkv_rows(float *dqkv, const float *dout, const float *qkv,
                                   const float *lse, const int32_t *cu, int H, int Hkv, int D,
                                   float scale, float *sm, int jb) {
    int P = D + 1, Q = (H + 2 * Hkv) * D, rep = H / Hkv;
    float *sq = sm, *sdo = sq + ATT_TILE * P, *sk = sdo + ATT_TILE * P, *sv = sk + ATT_WARPS * D;
    float *slse = sv + ATT_WARPS * D, *sdelta = slse + ATT_TILE;
    int b = blockIdx.z, hk = blockIdx.y;
    int t0 = cu[b], T = cu[b + 1] - t0;
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, j = jb + w;
    bool active = j < T;
    load_rows(sk, D, qkv, Q, (size_t)(H + hk) * D, t0, T, jb, ATT_WARPS, D);
    load_rows(sv, D, qkv, Q, (size_t)(H + Hkv + hk) * D, t0, T, jb, ATT_WARPS, D);
    float dk[ATT_MAXC] = {0}, dv[ATT_MAXC] = {0};
    for (int h = hk * rep; h < (hk + 1) * rep; h++)
        for (int i0 = jb / ATT_TILE * ATT_TILE; i0 < T; i0 += ATT_TILE) {
            __syncthreads();
            load_rows(sq, P, qkv, Q, (size_t)h * D, t0, T, i0, ATT_TILE, D);
            load_rows(sdo, P, dout, (size_t)H * D, (size_t)h * D, t0, T, i0, ATT_TILE, D);
            if (threadIdx.x < ATT_TILE) {
                int i = i0 + threadIdx.x;
                slse[threadIdx.x] = i < T ? lse[(size_t)(t0 + i) * H + h] : 0.0f;
                sdelta[threadIdx.x] = i < T ? dqkv[(size_t)(t0 + i) * Q + (size_t)h * D] : 0.0f;
            }
            __syncthreads();
            if (!active || i0 + ATT_TILE - 1 < j) continue;
            int i = i0 + lane;
            float p = 0, ds = 0;
            if (i < T && i >= j) {
                p = expf(dot_shared(sq + lane * P, sk + w * D, D) * scale - slse[lane]);
                ds = p * (dot_shared(sdo + lane * P, sv + w * D, D) - sdelta[lane]) * scale;
            }
            int ni = min(ATT_TILE, T - i0);
            accumulate_rows(dv, p, sdo, P, ni, lane, D);
            accumulate_rows(dk, ds, sq, P, ni, lane, D);
        }
    if (!active) return;
    float *row = dqkv + (size_t)(t0 + j) * Q;
    store_row(row + (size_t)(H + hk) * D, dk, 1.0f, lane, D);
    store_row(row + (size_t)(H + Hkv + hk) * D, dv, 1.0f, lane, D);
}

__global__ void attention_backward_dkv_kernel(float *dqkv, const float *dout, const float *qkv,
                                              const float *lse, const int32_t *cu, int H, int Hkv,
                                              int D, float scale) {
    extern __shared__ float sm[];
    int T = cu[blockIdx.z + 1] - cu[blockIdx.z];
    for (int jb = blockIdx.x * ATT_WARPS; jb < T; jb += gridDim.x * ATT_WARPS) {
        __syncthreads();
        attention_dkv_rows(dqkv, dout, qkv, lse, cu, H, Hkv, D, scale, sm, jb);
    }
}

void cuda_attention_init(void) {
    int max_d = CUDA_ATTN_MAX_D;
    CHECK_CUDA(cudaFuncSetAttribute(attention_forward_kernel,
                                    cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    (int)fwd_smem(max_d)));
    CHECK_CUDA(cudaFuncSetAttribute(attention_backward_dq_kernel,
                                    cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    (int)bwd_smem(max_d)));
    CHECK_CUDA(cudaFuncSetAttribute(attention_backward_dkv_kernel,
                                    cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    (int)bwd_smem(max_d)));
}

static void check_shape(int B, int H, int Hkv, int D) {
    if (D < 1 || D > CUDA_ATTN_MAX_D || Hkv < 1 || H % Hkv != 0 || H > 65535 || B > 65535)
        check_fail(__FILE__, __LINE__, "cuda attention: unsupported B=%d H=%d Hkv=%d D=%d", B, H,
                   Hkv, D);
}

void cuda_attention_forward(void *ctx, float *out, float *lse, const float *qkv,
                            const int32_t *cu_seqlens, int B, int H, int Hkv, int D) {
    if (B == 0) return;
    check_shape(B, H, Hkv, D);
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    attention_forward_kernel<<<dim3(ATT_GRID_X, H, B), ATT_WARPS * 32, fwd_smem(D), c->stream>>>(
        out, lse, qkv, cu_seqlens, H, Hkv, D, 1.0f / sqrtf((float)D));
    CHECK_LAUNCH(c);
}

// delta into dqkv's dq slots, then dk and dv (reading delta there), then dq (reading delta
// before overwriting its slot): stream order makes the three launches one pass.
void cuda_attention_backward(void *ctx, float *dqkv, const float *dout, const float *out,
                             const float *qkv, const float *lse, const int32_t *cu_seqlens, int B,
                             int H, int Hkv, int D) {
    if (B == 0) return;
    check_shape(B, H, Hkv, D);
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    float scale = 1.0f / sqrtf((float)D);
    int Q = (H + 2 * Hkv) * D;
    attention_delta_kernel<<<ATT_FLAT_BLOCKS, ATT_WARPS * 32, 0, c->stream>>>(
        dqkv, dout, out, cu_seqlens, B, H, Q, D);
    CHECK_LAUNCH(c);
    attention_backward_dkv_kernel<<<dim3(ATT_GRID_X, Hkv, B), ATT_WARPS * 32, bwd_smem(D),
                                    c->stream>>>(dqkv, dout, qkv, lse, cu_seqlens, H, Hkv, D,
                                                 scale);
    CHECK_LAUNCH(c);
    attention_backward_dq_kernel<<<dim3(ATT_GRID_X, H, B), ATT_WARPS * 32, bwd_smem(D),
                                   c->stream>>>(dqkv, dout, qkv, lse, cu_seqlens, H, Hkv, D, scale);
    CHECK_LAUNCH(c);
}

// The paged cache (model/backend.h): k(l, hk, j) of sequence b.
__device__ __forceinline__ float *kv_at(const struct kv_view &kv, int b, int layer, int which,
                                        int hk, int pos) {
    int blk = kv.block_table[(size_t)b * kv.max_blocks_per_seq + pos / kv.block_size];
    size_t base = (((size_t)blk * kv.L + layer) * 2 + which) * kv.Hkv * kv.block_size * kv.D;
    return kv.pool + base + ((size_t)hk * kv.block_size + pos % kv.block_size) * kv.D;
}

// The sequence of packed token t: the largest b < B with cu[b] <= t.
__device__ __forceinline__ int seq_of(const int32_t *cu, int B, int t) {
    int lo = 0, hi = B - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (cu[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

__global__ void kv_append_kernel(struct kv_view kv, const float *qkv, int layer,
                                 const int32_t *cu_new, const int32_t *start, int B, int H) {
    int Hkv = kv.Hkv, D = kv.D, Q = (H + 2 * Hkv) * D;
    size_t n = (size_t)cu_new[B] * 2 * Hkv * D;
    for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n;
         k += (size_t)gridDim.x * blockDim.x) {
        int d = (int)(k % D);
        size_t r = k / D;
        int hk = (int)(r % Hkv), which = (int)(r / Hkv % 2), t = (int)(r / Hkv / 2);
        int b = seq_of(cu_new, B, t), pos = start[b] + (t - cu_new[b]);
        kv_at(kv, b, layer, which, hk, pos)[d] =
            qkv[(size_t)t * Q + (size_t)(H + which * Hkv + hk) * D + d];
    }
}

// A warp per (new token, head), the warps of the grid looping over the N H pairs.
__global__ void attention_cache_kernel(float *out, const float *qkv, struct kv_view kv, int layer,
                                       const int32_t *cu_new, const int32_t *start, int B, int H,
                                       float scale) {
    extern __shared__ float sm[];
    int Hkv = kv.Hkv, D = kv.D, Q = (H + 2 * Hkv) * D;
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *sq = sm + w * D;
    int NH = cu_new[B] * H;
    for (int k = blockIdx.x * ATT_WARPS + w; k < NH; k += gridDim.x * ATT_WARPS) {
        int t = k / H, h = k % H, hk = h / (H / Hkv);
        __syncwarp(); // the previous pair is done with sq
        for (int d = lane; d < D; d += 32) sq[d] = qkv[(size_t)t * Q + (size_t)h * D + d];
        __syncwarp();
        int b = seq_of(cu_new, B, t), pos = start[b] + (t - cu_new[b]);
        float m = -INFINITY, l = 0, acc[ATT_MAXC] = {0};
        for (int j0 = 0; j0 <= pos; j0 += ATT_TILE) {
            int j = j0 + lane;
            float s = -INFINITY;
            if (j <= pos) {
                const float *kr = kv_at(kv, b, layer, 0, hk, j);
                float dot = 0;
                for (int d = 0; d < D; d++) dot += sq[d] * kr[d];
                s = dot * scale;
            }
            float mnew = fmaxf(m, warp_max(s));
            float c = expf(m - mnew), p = expf(s - mnew);
            l = l * c + warp_sum(p);
#pragma unroll
            for (int cc = 0; cc < ATT_MAXC; cc++) acc[cc] *= c;
            int nj = min(ATT_TILE, pos - j0 + 1);
            for (int jj = 0; jj < nj; jj++) {
                float pj = __shfl_sync(0xffffffffu, p, jj);
                const float *vr = kv_at(kv, b, layer, 1, hk, j0 + jj);
#pragma unroll
                for (int cc = 0; cc < ATT_MAXC; cc++) {
                    int d = lane + 32 * cc;
                    if (d < D) acc[cc] += pj * vr[d];
                }
            }
            m = mnew;
        }
        store_row(out + (size_t)t * H * D + (size_t)h * D, acc, 1.0f / l, lane, D);
    }
}

void cuda_attention_cache(void *ctx, float *out, const float *qkv, const struct kv_view *kv,
                          int layer, const int32_t *cu_new, const int32_t *start, int B, int H) {
    if (B == 0) return;
    check_shape(B, H, kv->Hkv, kv->D);
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    kv_append_kernel<<<ATT_FLAT_BLOCKS, 256, 0, c->stream>>>(*kv, qkv, layer, cu_new, start, B, H);
    CHECK_LAUNCH(c);
    attention_cache_kernel<<<ATT_FLAT_BLOCKS, ATT_WARPS * 32, ATT_WARPS * kv->D * sizeof(float),
                             c->stream>>>(out, qkv, *kv, layer, cu_new, start, B, H,
                                          1.0f / sqrtf((float)kv->D));
    CHECK_LAUNCH(c);
}
