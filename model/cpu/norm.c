// Row-wise kernels: token embedding, RMSNorm, bias add, each with its backward.
//   rmsnorm: y = x r w, r = (mean(x^2) + eps)^-1/2
//   dx = r (dy w) - x r^3 mean(dy w x);  dw += sum_t dy x r
#include <math.h>
#include <string.h>

#include "model/cpu/kernels.h"

void cpu_embedding_forward(void *ctx, float *out, const float *table, const int32_t *tokens, int N,
                           int C) {
    (void)ctx;
    for (int t = 0; t < N; t++)
        memcpy(out + (size_t)t * C, table + (size_t)tokens[t] * C, sizeof(float) * C);
}

void cpu_embedding_backward(void *ctx, float *dtable, const float *dout, const int32_t *tokens,
                            int N, int C) {
    (void)ctx;
    // Sequential: two tokens may share a row.
    for (int t = 0; t < N; t++) {
        float *d = dtable + (size_t)tokens[t] * C;
        const float *g = dout + (size_t)t * C;
        for (int i = 0; i < C; i++) d[i] += g[i];
    }
}

void cpu_rmsnorm_forward(void *ctx, float *out, float *rstd, const float *x, const float *w, int N,
                         int C, float eps) {
    (void)ctx;
#pragma omp parallel for schedule(static) if ((size_t)N * C >= CPU_PAR_MIN)
    for (int t = 0; t < N; t++) {
        const float *xt = x + (size_t)t * C;
        float *yt = out + (size_t)t * C;
        float ss = 0;
        for (int i = 0; i < C; i++) ss += xt[i] * xt[i];
        float r = 1.0f / sqrtf(ss / C + eps);
        for (int i = 0; i < C; i++) yt[i] = xt[i] * r * w[i];
        rstd[t] = r;
    }
}

void cpu_rmsnorm_backward(void *ctx, float *dx, float *dw, const float *dout, const float *x,
                          const float *w, const float *rstd, int N, int C) {
    (void)ctx;
#pragma omp parallel for schedule(static) if ((size_t)N * C >= CPU_PAR_MIN)
    for (int t = 0; t < N; t++) {
        const float *xt = x + (size_t)t * C, *gt = dout + (size_t)t * C;
        float *dxt = dx + (size_t)t * C;
        float r = rstd[t], dot = 0;
        for (int i = 0; i < C; i++) dot += gt[i] * w[i] * xt[i];
        float c = r * r * r * dot / C;
        for (int i = 0; i < C; i++) dxt[i] = r * gt[i] * w[i] - c * xt[i];
    }
    // dw: column sums in row order (a fixed summation order), 64 columns at a time so that
    // each row is read in whole cache lines; parallel over column blocks.
    enum { CB = 64 };
#pragma omp parallel for schedule(static) if ((size_t)N * C >= CPU_PAR_MIN)
    for (int i0 = 0; i0 < C; i0 += CB) {
        int nc = C - i0 < CB ? C - i0 : CB;
        float s[CB] = {0};
        for (int t = 0; t < N; t++) {
            const float *g = dout + (size_t)t * C + i0, *xt = x + (size_t)t * C + i0;
            for (int i = 0; i < nc; i++) s[i] += g[i] * xt[i] * rstd[t];
        }
        for (int i = 0; i < nc; i++) dw[i0 + i] += s[i];
    }
}

void cpu_bias_forward(void *ctx, float *out, const float *bias, int N, int M, int ld) {
    (void)ctx;
#pragma omp parallel for schedule(static) if ((size_t)N * M >= CPU_PAR_MIN)
    for (int t = 0; t < N; t++)
        for (int i = 0; i < M; i++) out[(size_t)t * ld + i] += bias[i];
}

void cpu_bias_backward(void *ctx, float *dbias, const float *dout, int N, int M, int ld) {
    (void)ctx;
    enum { CB = 64 }; // column sums in row order, 64 columns at a time (as rmsnorm's dw)
#pragma omp parallel for schedule(static) if ((size_t)N * M >= CPU_PAR_MIN)
    for (int i0 = 0; i0 < M; i0 += CB) {
        int nc = M - i0 < CB ? M - i0 : CB;
        float s[CB] = {0};
        for (int t = 0; t < N; t++) {
            const float *g = dout + (size_t)t * ld + i0;
            for (int i = 0; i < nc; i++) s[i] += g[i];
        }
        for (int i = 0; i < nc; i++) dbias[i0 + i] += s[i];
    }
}
