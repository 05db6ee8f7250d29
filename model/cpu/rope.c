// Rotary position embeddings, Hugging Face's rotate_half layout: within each head the pairs
// are (i, i + D/2), angle a = pos * theta^(-2i/D):
//   x'_i = x_i cos a - x_{i+D/2} sin a,   x'_{i+D/2} = x_{i+D/2} cos a + x_i sin a.
// Backward is the rotation by -a (the transpose of the rotation).
#include <math.h>

#include "model/cpu/kernels.h"

static void rope_apply(float *x, const int32_t *pos, int N, int n_heads, int D, int ld, float theta,
                       float sign) {
    int half = D / 2;
    // Frequencies in double, rounded once: angles match inv_freq * pos computed in fp32 by
    // torch to within an ulp.
    float inv_freq[512];
    for (int i = 0; i < half; i++)
        inv_freq[i] = (float)(1.0 / pow((double)theta, (double)(2 * i) / D));
#pragma omp parallel for schedule(static) if ((size_t)N * n_heads * D >= CPU_PAR_MIN)
    for (int t = 0; t < N; t++) {
        float cs[512], sn[512];
        for (int i = 0; i < half; i++) {
            float a = (float)pos[t] * inv_freq[i];
            cs[i] = cosf(a);
            sn[i] = sign * sinf(a);
        }
        for (int h = 0; h < n_heads; h++) {
            float *v = x + (size_t)t * ld + (size_t)h * D;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * cs[i] - b * sn[i];
                v[i + half] = b * cs[i] + a * sn[i];
            }
        }
    }
}

void cpu_rope_forward(void *ctx, float *x, const int32_t *pos, int N, int n_heads, int D, int ld,
                      float theta) {
    (void)ctx;
    rope_apply(x, pos, N, n_heads, D, ld, theta, 1.0f);
}

void cpu_rope_backward(void *ctx, float *dx, const int32_t *pos, int N, int n_heads, int D, int ld,
                       float theta) {
    (void)ctx;
    rope_apply(dx, pos, N, n_heads, D, ld, theta, -1.0f);
}
