// SwiGLU: gu = gate|up (N, 2F); out = silu(g) u, silu(g) = g s(g), s the logistic function.
//   dg = dout u s(g) (1 + g (1 - s(g))),  du = dout silu(g)
#include <math.h>

#include "model/cpu/kernels.h"
#include "model/cpu/vexp.h"

void cpu_swiglu_forward(void *ctx, float *out, const float *gu, int N, int F) {
    (void)ctx;
#pragma omp parallel for schedule(static) if ((size_t)N * F >= CPU_PAR_MIN)
    for (int t = 0; t < N; t++) {
        const float *g = gu + (size_t)t * 2 * F, *u = g + F;
        float *o = out + (size_t)t * F;
        for (int i = 0; i < F; i++) o[i] = -g[i];
        cpu_vexp(o, F);
        for (int i = 0; i < F; i++) o[i] = g[i] / (1.0f + o[i]) * u[i];
    }
}

void cpu_swiglu_backward(void *ctx, float *dgu, const float *dout, const float *gu, int N, int F) {
    (void)ctx;
#pragma omp parallel for schedule(static) if ((size_t)N * F >= CPU_PAR_MIN)
    for (int t = 0; t < N; t++) {
        const float *g = gu + (size_t)t * 2 * F, *u = g + F, *d = dout + (size_t)t * F;
        float *dg = dgu + (size_t)t * 2 * F, *du = dg + F;
        for (int i = 0; i < F; i++) dg[i] = -g[i];
        cpu_vexp(dg, F);
        for (int i = 0; i < F; i++) {
            float s = 1.0f / (1.0f + dg[i]);
            du[i] = d[i] * g[i] * s;
            dg[i] = d[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
        }
    }
}
