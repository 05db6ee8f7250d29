// The CPU backend table, its thread setting, and the kernels too small for a file of
// their own: sgemm through OpenBLAS, y += x, sum of squares, AdamW.
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/check.h"
#include "model/cpu/cpu.h"
#include "model/cpu/memory.h"

// OpenBLAS's own thread count (pthread build); declared here to avoid depending on
// openblas_config.h being the one cblas.h pulls in.
void openblas_set_num_threads(int n);

// One thread pool: OpenBLAS runs single-threaded and the OpenMP threads each multiply a
// slice of C (rows, or columns when C has few rows), so OpenBLAS's pthreads and OpenMP's never
// compete for the cores. Every element of C is still one sgemm dot product over all of K.
void cpu_gemm(void *ctx, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *Cm, int ldc) {
    (void)ctx;
    if (M == 0 || N == 0) return;
    enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    int nt = omp_get_max_threads();
    if (nt == 1 || (double)M * N * K < 1e6 || omp_in_parallel()) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cm, ldc);
        return;
    }
    bool by_rows = M >= N || M >= 64 * nt;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = by_rows ? M : N;
        // slices rounded to 16 (a cache line of floats)
        int per = ((n + nt - 1) / nt + 15) / 16 * 16, lo = t * per,
            hi = lo + per < n ? lo + per : n;
        if (lo < hi) {
            if (by_rows)
                cblas_sgemm(CblasRowMajor, ta, tb, hi - lo, N, K, alpha,
                            trans_a ? A + lo : A + (size_t)lo * lda, lda, B, ldb, beta,
                            Cm + (size_t)lo * ldc, ldc);
            else
                cblas_sgemm(CblasRowMajor, ta, tb, M, hi - lo, K, alpha, A, lda,
                            trans_b ? B + (size_t)lo * ldb : B + lo, ldb, beta, Cm + lo, ldc);
        }
    }
}

void cpu_add(void *ctx, float *y, const float *x, size_t n) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (n >= CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

double cpu_sumsq(void *ctx, const float *x, size_t n) {
    (void)ctx;
    // A fixed split into 64 parts summed in order: the same bits for any thread count.
    enum { PARTS = 64 };
    double part[PARTS];
    size_t per = (n + PARTS - 1) / PARTS;
#pragma omp parallel for schedule(static) if (n >= CPU_PAR_MIN)
    for (int p = 0; p < PARTS; p++) {
        double s = 0;
        size_t hi = (size_t)(p + 1) * per < n ? (size_t)(p + 1) * per : n;
        for (size_t i = (size_t)p * per; i < hi; i++) s += (double)x[i] * x[i];
        part[p] = s;
    }
    double s = 0;
    for (int p = 0; p < PARTS; p++) s += part[p];
    return s;
}

// torch.optim.AdamW: p *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr (m / bc1) / (sqrt(v / bc2) + eps).
void cpu_adamw(void *ctx, float *p, float *m, float *v, const float *g, size_t n, float lr,
               float b1, float b2, float eps, float wd, float bc1, float bc2, float grad_scale) {
    (void)ctx;
    float step = lr / bc1;
    float rbc2 = 1.0f / sqrtf(bc2);
    float decay = 1.0f - lr * wd;
#pragma omp parallel for schedule(static) if (n >= CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * grad_scale;
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step * mi / (sqrtf(vi) * rbc2 + eps);
    }
}

static const struct backend_ops cpu_ops = {
    .name = "cpu",
    .alloc = cpu_alloc, // host memory (is_device false): model/cpu/memory.c
    .free = cpu_free,
    .copy_h2d = cpu_copy,
    .copy_d2h = cpu_copy,
    .copy_d2d = cpu_copy,
    .memset = cpu_memset,
    .gemm = cpu_gemm,
    .embedding_forward = cpu_embedding_forward,
    .embedding_backward = cpu_embedding_backward,
    .rmsnorm_forward = cpu_rmsnorm_forward,
    .rmsnorm_backward = cpu_rmsnorm_backward,
    .bias_forward = cpu_bias_forward,
    .bias_backward = cpu_bias_backward,
    .rope_forward = cpu_rope_forward,
    .rope_backward = cpu_rope_backward,
    .attention_forward = cpu_attention_forward_tiled,
    .attention_backward = cpu_attention_backward_tiled,
    .attention_cache = cpu_attention_cache,
    .swiglu_forward = cpu_swiglu_forward,
    .swiglu_backward = cpu_swiglu_backward,
    .add = cpu_add,
    .logsoftmax_stats = cpu_logsoftmax_stats,
    .logsoftmax_backward = cpu_logsoftmax_backward,
    .sumsq = cpu_sumsq,
    .adamw = cpu_adamw,
};

int backend_cpu_create(int n_threads, struct backend **out, struct err *e) {
    *out = NULL;
    if (n_threads <= 0) {
        const char *env = getenv("OMP_NUM_THREADS");
        n_threads = env ? atoi(env) : 0;
        if (n_threads <= 0) n_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
        if (n_threads <= 0) n_threads = 1;
    }
    if (n_threads > 1024) return err_user(e, "thread count '%d' out of range 1..1024", n_threads);
    // OpenMP is the one pool; OpenBLAS itself runs single-threaded inside it (cpu_gemm).
    omp_set_num_threads(n_threads);
    openblas_set_num_threads(1);
    struct backend *b = xcalloc(1, sizeof *b);
    b->ops = &cpu_ops;
    b->ctx = NULL;
    b->n_threads = n_threads;
    *out = b;
    return 0;
}

void backend_cpu_destroy(struct backend **b) {
    if (!b || !*b) return;
    free(*b);
    *b = NULL;
}
