// Row-wise kernels on the device, the same math as model/cpu/norm.c, rope.c and swiglu.c:
// token embedding, RMSNorm, bias add, rotary embeddings and SwiGLU, each with its backward.
// Column sums (dw, dbias, dtable) are deterministic: each output column is summed by one
// thread in a fixed order, over fixed chunks of rows whose partials are then added in order.
#include <math.h>

#include "model/cuda/cuda_internal.cuh"

enum { ROWS_PER_CHUNK = 64, COL_THREADS = 128 };

__global__ void embedding_forward_kernel(float *out, const float *table, const int32_t *tokens,
                                         int C) {
    const float *src = table + (size_t)tokens[blockIdx.x] * C;
    float *dst = out + (size_t)blockIdx.x * C;
    for (int i = threadIdx.x; i < C; i += blockDim.x) dst[i] = src[i];
}

void cuda_embedding_forward(void *ctx, float *out, const float *table, const int32_t *tokens, int N,
                            int C) {
    if (N == 0) return;
    embedding_forward_kernel<<<N, 256, 0, cuda_ctx_of(ctx)->stream>>>(out, table, tokens, C);
    CHECK_LAUNCH(cuda_ctx_of(ctx));
}

// Deterministic without atomics or a sort: thread (column i, bucket k) walks the tokens in
// order and adds the rows of the tokens with id % EMB_BUCKETS == k. Every element of dtable
// has one owner that adds its contributions in token order, as the CPU does (bitwise the same
// result), and the buckets give EMB_BUCKETS times the parallelism of one thread per column.
enum { EMB_BUCKETS = 64 };

__global__ void embedding_backward_kernel(float *dtable, const float *dout, const int32_t *tokens,
                                          int N, int C) {
    int i = blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y;
    if (i >= C) return;
    for (int t = 0; t < N; t++) {
        int v = tokens[t];
        if (v % EMB_BUCKETS == k) dtable[(size_t)v * C + i] += dout[(size_t)t * C + i];
    }
}

void cuda_embedding_backward(void *ctx, float *dtable, const float *dout, const int32_t *tokens,
                             int N, int C) {
    if (N == 0) return;
    embedding_backward_kernel<<<dim3(cuda_blocks(C, COL_THREADS), EMB_BUCKETS), COL_THREADS, 0,
                                cuda_ctx_of(ctx)->stream>>>(dtable, dout, tokens, N, C);
    CHECK_LAUNCH(cuda_ctx_of(ctx));
}

// One block per row.
__global__ void rmsnorm_forward_kernel(float *out, float *rstd, const float *x, const float *w,
                                       int C, float eps) {
    __shared__ float sh[32];
    const float *xt = x + (size_t)blockIdx.x * C;
    float *yt = out + (size_t)blockIdx.x * C;
    float ss = 0;
    for (int i = threadIdx.x; i < C; i += blockDim.x) ss += xt[i] * xt[i];
    ss = block_sum(ss, sh);
    float r = 1.0f / sqrtf(ss / C + eps);
    for (int i = threadIdx.x; i < C; i += blockDim.x) yt[i] = xt[i] * r * w[i];
    if (threadIdx.x == 0) rstd[blockIdx.x] = r;
}

void cuda_rmsnorm_forward(void *ctx, float *out, float *rstd, const float *x, const float *w, int N,
                          int C, float eps) {
    if (N == 0) return;
    rmsnorm_forward_kernel<<<N, 256, 0, cuda_ctx_of(ctx)->stream>>>(out, rstd, x, w, C, eps);
    CHECK_LAUNCH(cuda_ctx_of(ctx));
}

__global__ void rmsnorm_backward_dx_kernel(float *dx, const float *dout, const float *x,
                                           const float *w, const float *rstd, int C) {
    __shared__ float sh[32];
    size_t off = (size_t)blockIdx.x * C;
    float r = rstd[blockIdx.x], dot = 0;
    for (int i = threadIdx.x; i < C; i += blockDim.x) dot += dout[off + i] * w[i] * x[off + i];
    dot = block_sum(dot, sh);
    float c = r * r * r * dot / C;
    for (int i = threadIdx.x; i < C; i += blockDim.x)
        dx[off + i] = r * dout[off + i] * w[i] - c * x[off + i];
}

// part(n_chunks, M): per chunk of ROWS_PER_CHUNK rows, the column sums of a (x b) (b == NULL:
// of a alone), each row scaled by s[t] when s is set. Rows of stride ld.
__global__ void colsum_partial_kernel(float *part, const float *a, const float *b, const float *s,
                                      int N, int M, int ld) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= M) return;
    int t0 = blockIdx.y * ROWS_PER_CHUNK, t1 = min(N, t0 + ROWS_PER_CHUNK);
    float acc = 0;
    for (int t = t0; t < t1; t++) {
        float v = a[(size_t)t * ld + i];
        if (b) v *= b[(size_t)t * ld + i];
        if (s) v *= s[t];
        acc += v;
    }
    part[(size_t)blockIdx.y * M + i] = acc;
}

__global__ void colsum_final_kernel(float *dst, const float *part, int n_chunks, int M) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= M) return;
    float acc = 0;
    for (int k = 0; k < n_chunks; k++) acc += part[(size_t)k * M + i];
    dst[i] += acc;
}

// dst(M) += column sums (see colsum_partial_kernel), in a fixed order.
static void colsum_accumulate(struct cuda_ctx *c, float *dst, const float *a, const float *b,
                              const float *s, int N, int M, int ld) {
    if (N == 0 || M == 0) return;
    int n_chunks = (N + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
    float *part = (float *)cuda_scratch(c, (size_t)n_chunks * M * sizeof(float));
    colsum_partial_kernel<<<dim3(cuda_blocks(M, COL_THREADS), n_chunks), COL_THREADS, 0,
                            c->stream>>>(part, a, b, s, N, M, ld);
    CHECK_LAUNCH(c);
    colsum_final_kernel<<<cuda_blocks(M, COL_THREADS), COL_THREADS, 0, c->stream>>>(dst, part,
                                                                                    n_chunks, M);
    CHECK_LAUNCH(c);
}

void cuda_rmsnorm_backward(void *ctx, float *dx, float *dw, const float *dout, const float *x,
                           const float *w, const float *rstd, int N, int C) {
    if (N == 0) return;
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    rmsnorm_backward_dx_kernel<<<N, 256, 0, c->stream>>>(dx, dout, x, w, rstd, C);
    CHECK_LAUNCH(c);
    colsum_accumulate(c, dw, dout, x, rstd, N, C, C);
}

__global__ void bias_forward_kernel(float *out, const float *bias, int N, int M, int ld) {
    size_t n = (size_t)N * M;
    for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n;
         k += (size_t)gridDim.x * blockDim.x) {
        size_t t = k / M, i = k % M;
        out[t * ld + i] += bias[i];
    }
}

void cuda_bias_forward(void *ctx, float *out, const float *bias, int N, int M, int ld) {
    if (N == 0 || M == 0) return;
    unsigned nb = cuda_grid((size_t)N * M);
    bias_forward_kernel<<<nb, 256, 0, cuda_ctx_of(ctx)->stream>>>(out, bias, N, M, ld);
    CHECK_LAUNCH(cuda_ctx_of(ctx));
}

void cuda_bias_backward(void *ctx, float *dbias, const float *dout, int N, int M, int ld) {
    colsum_accumulate(cuda_ctx_of(ctx), dbias, dout, NULL, NULL, N, M, ld);
}

// One thread per (token, head, pair i): x'_i = x_i cos a - x_{i+D/2} sin a,
// x'_{i+D/2} = x_{i+D/2} cos a + x_i sin a, a = pos theta^(-2i/D) (inverse frequency in
// double, rounded once, as the CPU computes it); sign -1 rotates back (backward).
__global__ void rope_kernel(float *x, const int32_t *pos, int N, int n_heads, int D, int ld,
                            float theta, float sign) {
    int half = D / 2;
    size_t n = (size_t)N * n_heads * half;
    for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n;
         k += (size_t)gridDim.x * blockDim.x) {
        int i = (int)(k % half);
        size_t th = k / half;
        int h = (int)(th % n_heads);
        size_t t = th / n_heads;
        float inv_freq = (float)(1.0 / pow((double)theta, (double)(2 * i) / D));
        float a = (float)pos[t] * inv_freq;
        float cs = cosf(a), sn = sign * sinf(a);
        float *v = x + t * ld + (size_t)h * D;
        float p = v[i], q = v[i + half];
        v[i] = p * cs - q * sn;
        v[i + half] = q * cs + p * sn;
    }
}

static void rope(void *ctx, float *x, const int32_t *pos, int N, int n_heads, int D, int ld,
                 float theta, float sign) {
    size_t n = (size_t)N * n_heads * (D / 2);
    if (n == 0) return;
    unsigned nb = cuda_grid(n);
    rope_kernel<<<nb, 256, 0, cuda_ctx_of(ctx)->stream>>>(x, pos, N, n_heads, D, ld, theta, sign);
    CHECK_LAUNCH(cuda_ctx_of(ctx));
}

void cuda_rope_forward(void *ctx, float *x, const int32_t *pos, int N, int n_heads, int D, int ld,
                       float theta) {
    rope(ctx, x, pos, N, n_heads, D, ld, theta, 1.0f);
}

void cuda_rope_backward(void *ctx, float *dx, const int32_t *pos, int N, int n_heads, int D, int ld,
                        float theta) {
    rope(ctx, dx, pos, N, n_heads, D, ld, theta, -1.0f);
}

// out = silu(g) u; dg = dout u s (1 + g (1 - s)), du = dout silu(g); s = 1 / (1 + e^-g).
__global__ void swiglu_kernel(float *out, float *dgu, const float *dout, const float *gu, int N,
                              int F) {
    size_t n = (size_t)N * F;
    for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n;
         k += (size_t)gridDim.x * blockDim.x) {
        size_t t = k / F, i = k % F;
        float g = gu[t * 2 * F + i], u = gu[t * 2 * F + F + i];
        if (out) {
            out[k] = g / (1.0f + expf(-g)) * u;
        } else {
            float s = 1.0f / (1.0f + expf(-g)), d = dout[k];
            dgu[t * 2 * F + F + i] = d * g * s;
            dgu[t * 2 * F + i] = d * u * s * (1.0f + g * (1.0f - s));
        }
    }
}

static void swiglu(void *ctx, float *out, float *dgu, const float *dout, const float *gu, int N,
                   int F) {
    size_t n = (size_t)N * F;
    if (n == 0) return;
    unsigned nb = cuda_grid(n);
    swiglu_kernel<<<nb, 256, 0, cuda_ctx_of(ctx)->stream>>>(out, dgu, dout, gu, N, F);
    CHECK_LAUNCH(cuda_ctx_of(ctx));
}

void cuda_swiglu_forward(void *ctx, float *out, const float *gu, int N, int F) {
    swiglu(ctx, out, NULL, NULL, gu, N, F);
}

void cuda_swiglu_backward(void *ctx, float *dgu, const float *dout, const float *gu, int N, int F) {
    swiglu(ctx, NULL, dgu, dout, gu, N, F);
}
