// The CPU backend table, its thread setting, and the kernels too small for a file of
// their own: sgemm through OpenBLAS, y += x, sum of squares, AdamW.
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/check.h"
#include "model/cpu/cpu.h"
#include "model/cpu/memory.h"

// OpenBLAS's own thread count (pthread build); declared here to avoid depending on
// openblas_config.h being the one cblas.h pulls in.
void openblas_set_num_threads(int n);

// One thread pool: OpenBLAS runs single-threaded and the OpenMP threads share the products
// (cpu_gemm_packed's row panels, or a slice of C per thread for OpenBLAS: rows, or columns
// when C has few rows), so OpenBLAS's pthreads and OpenMP's never compete for the cores.
// Whichever path, an element of C does not depend on the thread count.
// The backend's context: the two GEMMs' scratch, grown on demand (calls come from one
// thread at a time; inside a parallel region cpu_gemm does not use it).
struct scratch {
    float *p; // 64-byte aligned
    size_t n; // floats
};
struct cpu_ctx {
    struct scratch fixed, packed; // cpu_gemm_fixed's, cpu_gemm_packed's
};

// s->p, grown to at least `need` floats (its old contents are dropped).
static float *scratch_grow(struct scratch *s, size_t need) {
    if (need > s->n) {
        alloc_free(NULL, MEM_OTHER, s->n * sizeof(float), (void **)&s->p);
        s->p = alloc_aligned(NULL, MEM_OTHER, need * sizeof(float));
        CHECK(s->p, "out of memory for %zu bytes of GEMM scratch", need * sizeof(float));
        s->n = need;
    }
    return s->p;
}

// X W^T products of at most this many rows run in cpu_gemm_fixed where it has its AVX-512
// kernel: it packs only the rows of X, where OpenBLAS packs W on every call (one core,
// M = 32: about 100 GFLOP/s against 60-80).
enum { FIXED_MAX_ROWS = 128 };
// Other products of at least this many multiply-adds run in cpu_gemm_packed where it has its
// AVX-512 kernel: on one Zen 4 core about 4% faster than OpenBLAS 0.3.21 on the training
// shapes (medium's: 105-110 GFLOP/s against 101-107, bench_model --gemm-shapes), and it
// scales to 2 threads at 186-203 GFLOP/s. Smaller products stay in OpenBLAS, whose
// small-matrix kernels skip packing.
#define PACKED_MIN_FLOPS 1e6

void cpu_gemm(void *ctx, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *Cm, int ldc) {
    if (M == 0 || N == 0) return;
    struct cpu_ctx *cx = ctx;
    int nt = omp_get_max_threads();
    if (cx && !trans_a && trans_b && M <= FIXED_MAX_ROWS && !omp_in_parallel() &&
        cpu_gemm_fixed_is_vectorised()) {
        float *scratch = scratch_grow(&cx->fixed, cpu_gemm_fixed_scratch(nt, K));
        cpu_gemm_fixed(Cm, ldc, A, lda, B, ldb, M, N, K, alpha, beta, scratch, nt);
        return;
    }
    if (cx && (double)M * N * K >= PACKED_MIN_FLOPS && !omp_in_parallel() &&
        cpu_gemm_packed_is_vectorised()) {
        float *scratch = scratch_grow(&cx->packed, cpu_gemm_packed_scratch());
        cpu_gemm_packed(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, Cm, ldc, scratch,
                        nt);
        return;
    }
    enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
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

__attribute__((target_clones("avx512f", "default"))) static double sumsq_range(const float *x,
                                                                               size_t n) {
    double acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += (double)x[i + k] * x[i + k];
    for (; i < n; i++) acc[0] += (double)x[i] * x[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

double cpu_sumsq(void *ctx, const float *x, size_t n) {
    (void)ctx;
    // A fixed split into 64 parts, each summed in 8 interleaved partial sums (vectorised),
    // the parts summed in order: the same bits for any thread count.
    enum { PARTS = 64 };
    double part[PARTS];
    size_t per = (n + PARTS - 1) / PARTS;
#pragma omp parallel for schedule(static) if (n >= CPU_PAR_MIN)
    for (int p = 0; p < PARTS; p++) {
        size_t lo = (size_t)p * per < n ? (size_t)p * per : n;
        size_t hi = (size_t)(p + 1) * per < n ? (size_t)(p + 1) * per : n;
        part[p] = sumsq_range(x + lo, hi - lo);
    }
    double s = 0;
    for (int p = 0; p < PARTS; p++) s += part[p];
    return s;
}

// torch.optim.AdamW: p *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr (m / bc1) / (sqrt(v / bc2) + eps).
struct adamw_args {
    float b1, b2, eps, step, rbc2, decay, grad_scale;
};

static void adamw_plain(float *p, float *m, float *v, const float *g, size_t n,
                        const struct adamw_args *a) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * a->grad_scale;
        float mi = a->b1 * m[i] + (1.0f - a->b1) * gi;
        float vi = a->b2 * v[i] + (1.0f - a->b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * a->decay - a->step * mi / (sqrtf(vi) * a->rbc2 + a->eps);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// adamw_plain's operations in its order, 16 at a time (sqrtf's errno check keeps the
// compiler from vectorising the loop itself): the same bits.
__attribute__((target("avx512f"))) static void
adamw_avx512(float *p, float *m, float *v, const float *g, size_t n, const struct adamw_args *a) {
    const __m512 b1 = _mm512_set1_ps(a->b1), c1 = _mm512_set1_ps(1.0f - a->b1);
    const __m512 b2 = _mm512_set1_ps(a->b2), c2 = _mm512_set1_ps(1.0f - a->b2);
    const __m512 gs = _mm512_set1_ps(a->grad_scale), dec = _mm512_set1_ps(a->decay);
    const __m512 st = _mm512_set1_ps(a->step), rb = _mm512_set1_ps(a->rbc2);
    const __m512 eps = _mm512_set1_ps(a->eps);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 gi = _mm512_mul_ps(_mm512_loadu_ps(g + i), gs);
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(c1, gi));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)),
                                  _mm512_mul_ps(_mm512_mul_ps(c2, gi), gi));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        __m512 den = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vi), rb), eps);
        __m512 pi = _mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(p + i), dec),
                                  _mm512_div_ps(_mm512_mul_ps(st, mi), den));
        _mm512_storeu_ps(p + i, pi);
    }
    adamw_plain(p + i, m + i, v + i, g + i, n - i, a);
}
#define HAS_AVX512_PATH 1
#else
#define HAS_AVX512_PATH 0
#endif

static void adamw_range(float *p, float *m, float *v, const float *g, size_t n,
                        const struct adamw_args *a) {
#if HAS_AVX512_PATH
    if (__builtin_cpu_supports("avx512f")) {
        adamw_avx512(p, m, v, g, n, a);
        return;
    }
#endif
    adamw_plain(p, m, v, g, n, a);
}

void cpu_adamw(void *ctx, float *p, float *m, float *v, const float *g, size_t n, float lr,
               float b1, float b2, float eps, float wd, float bc1, float bc2, float grad_scale) {
    (void)ctx;
    struct adamw_args a = {.b1 = b1,
                           .b2 = b2,
                           .eps = eps,
                           .step = lr / bc1,
                           .rbc2 = 1.0f / sqrtf(bc2),
                           .decay = 1.0f - lr * wd,
                           .grad_scale = grad_scale};
    enum { CHUNK = 16384 };
    size_t n_chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (n >= CPU_PAR_MIN)
    for (size_t c = 0; c < n_chunks; c++) {
        size_t lo = c * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
        adamw_range(p + lo, m + lo, v + lo, g + lo, len, &a);
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
    b->ctx = xcalloc(1, sizeof(struct cpu_ctx));
    b->n_threads = n_threads;
    *out = b;
    return 0;
}

void backend_cpu_destroy(struct backend **b) {
    if (!b || !*b) return;
    struct cpu_ctx *cx = (*b)->ctx;
    if (cx) {
        alloc_free(NULL, MEM_OTHER, cx->fixed.n * sizeof(float), (void **)&cx->fixed.p);
        alloc_free(NULL, MEM_OTHER, cx->packed.n * sizeof(float), (void **)&cx->packed.p);
    }
    free(cx);
    free(*b);
    *b = NULL;
}
