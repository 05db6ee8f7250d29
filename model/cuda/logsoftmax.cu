// Log-softmax statistics of LM-head rows on the device, one block per row (V up to ~152k),
// the same math as model/cpu/logsoftmax.c:
//   lse = log sum_k exp z_k,  logprob = z_target - lse,  entropy = lse - sum_k p_k z_k;
// backward, in place: dz_k = g_lp (1[k = target] - p_k) - g_ent p_k (log p_k + entropy).
// The sums run in double per thread and through a fixed block tree (the same bits every run).
#include <math.h>

#include "model/cuda/cuda_internal.cuh"

enum { LSM_THREADS = 512 };

__global__ void logsoftmax_stats_kernel(float *logprob, float *entropy, float *lse,
                                        const float *logits, const int32_t *targets, int V) {
    __shared__ float shf[32];
    __shared__ double shd[32];
    int r = blockIdx.x;
    const float *z = logits + (size_t)r * V;
    float mx = -INFINITY;
    for (int k = threadIdx.x; k < V; k += blockDim.x) mx = fmaxf(mx, z[k]);
    mx = block_max(mx, shf);
    double s = 0, sz = 0;
    for (int k = threadIdx.x; k < V; k += blockDim.x) {
        float d = z[k] - mx;
        double ek = exp((double)d);
        s += ek;
        sz += ek * d;
    }
    s = block_sum(s, shd);
    sz = block_sum(sz, shd);
    if (threadIdx.x == 0) {
        float l = mx + (float)log(s);
        lse[r] = l;
        entropy[r] = (float)(log(s) - sz / s);
        logprob[r] = targets && targets[r] >= 0 ? z[targets[r]] - l : 0.0f;
    }
}

void cuda_logsoftmax_stats(void *ctx, float *logprob, float *entropy, float *lse,
                           const float *logits, const int32_t *targets, int n, int V) {
    if (n == 0) return;
    logsoftmax_stats_kernel<<<n, LSM_THREADS, 0, cuda_ctx_of(ctx)->stream>>>(logprob, entropy, lse,
                                                                             logits, targets, V);
    CHECK_LAUNCH(cuda_ctx_of(ctx));
}

__global__ void logsoftmax_backward_kernel(float *logits, const int32_t *targets,
                                           const float *g_logprob, const float *g_entropy,
                                           const float *lse, const float *entropy, int V) {
    int r = blockIdx.x;
    float *z = logits + (size_t)r * V;
    float glp = g_logprob ? g_logprob[r] : 0.0f, gh = g_entropy ? g_entropy[r] : 0.0f;
    int tgt = targets ? targets[r] : -1;
    if (tgt < 0) glp = 0;
    float l = lse[r], h = entropy[r];
    for (int k = threadIdx.x; k < V; k += blockDim.x) {
        float lp = z[k] - l, p = expf(lp);
        float d = -glp * p - gh * p * (lp + h);
        z[k] = k == tgt ? d + glp : d;
    }
}

void cuda_logsoftmax_backward(void *ctx, float *logits, const int32_t *targets,
                              const float *g_logprob, const float *g_entropy, const float *lse,
                              const float *entropy, int n, int V) {
    if (n == 0) return;
    logsoftmax_backward_kernel<<<n, LSM_THREADS, 0, cuda_ctx_of(ctx)->stream>>>(
        logits, targets, g_logprob, g_entropy, lse, entropy, V);
    CHECK_LAUNCH(cuda_ctx_of(ctx));
}
