// Log-softmax statistics of LM-head rows without keeping probabilities:
//   lse = log sum_k exp z_k,  logprob = z_target - lse,  entropy = lse - sum_k p_k z_k.
// Backward (in place on the logits): with log p_k = z_k - lse,
//   dz_k = g_lp (1[k = target] - p_k) - g_ent p_k (log p_k + entropy).
#include <math.h>

#include "model/cpu/kernels.h"
#include "model/cpu/vexp.h"

void cpu_logsoftmax_stats(void *ctx, float *logprob, float *entropy, float *lse,
                          const float *logits, const int32_t *targets, int n, int V) {
    (void)ctx;
#pragma omp parallel for schedule(static) if ((size_t)n * V >= CPU_PAR_MIN)
    for (int r = 0; r < n; r++) {
        const float *z = logits + (size_t)r * V;
        float mx = -INFINITY;
        for (int k = 0; k < V; k++) mx = z[k] > mx ? z[k] : mx;
        double s = 0, sz = 0; // sums in double: V up to 152k terms
        enum { CH = 1024 };   // exp in float, vectorised, chunk by chunk
        float d[CH], ek[CH];
        for (int k0 = 0; k0 < V; k0 += CH) {
            int nk = V - k0 < CH ? V - k0 : CH;
            for (int k = 0; k < nk; k++) ek[k] = d[k] = z[k0 + k] - mx;
            cpu_vexp(ek, nk);
            for (int k = 0; k < nk; k++) {
                s += ek[k];
                sz += (double)ek[k] * d[k];
            }
        }
        float l = mx + (float)log(s);
        lse[r] = l;
        entropy[r] = (float)(log(s) - sz / s);
        logprob[r] = targets && targets[r] >= 0 ? z[targets[r]] - l : 0.0f;
    }
}

void cpu_logsoftmax_backward(void *ctx, float *logits, const int32_t *targets,
                             const float *g_logprob, const float *g_entropy, const float *lse,
                             const float *entropy, int n, int V) {
    (void)ctx;
#pragma omp parallel for schedule(static) if ((size_t)n * V >= CPU_PAR_MIN)
    for (int r = 0; r < n; r++) {
        float *z = logits + (size_t)r * V;
        float glp = g_logprob ? g_logprob[r] : 0.0f, gh = g_entropy ? g_entropy[r] : 0.0f;
        int tgt = targets ? targets[r] : -1;
        if (tgt < 0) glp = 0;
        float l = lse[r], h = entropy[r];
        enum { CH = 1024 }; // log p in chunks, p by a vectorised exp, then the gradient
        float lp[CH], p[CH];
        for (int k0 = 0; k0 < V; k0 += CH) {
            int nk = V - k0 < CH ? V - k0 : CH;
            float *zk = z + k0;
            for (int k = 0; k < nk; k++) p[k] = lp[k] = zk[k] - l;
            cpu_vexp(p, nk);
            for (int k = 0; k < nk; k++) zk[k] = -glp * p[k] - gh * p[k] * (lp[k] + h);
        }
        if (tgt >= 0) z[tgt] += glp;
    }
}
