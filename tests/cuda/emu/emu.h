// A CPU emulation of the part of the CUDA execution model the kernels of model/cuda use, to run
// them where there is no GPU: every thread of a block is a fiber (see emu_switch); __syncthreads
// waits for all live threads of the block, a warp shuffle or __syncwarp for all live lanes of the
// warp, and a barrier reached by some threads while others wait at another is reported as a
// deadlock (a divergent barrier, undefined on a GPU). Blocks run one after another, so `__shared__`
// arrays are plain statics. Device memory is host memory; cuBLAS is CBLAS in column-major order.
// Not a performance model, and not a race detector beyond the barrier discipline.
#pragma once

#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <functional>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__      static
#define __launch_bounds__(...)

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// Fiber switching: on x86-64 a six-register switch (no system call, unlike swapcontext, which
// saves the signal mask each time); elsewhere ucontext.
#if defined(__x86_64__) && !defined(EMU_UCONTEXT)
#define EMU_FAST_SWITCH 1
// Saves the callee-saved registers on the current stack and its pointer in *from, then resumes
// the fiber whose stack pointer is to. Weak: every translation unit that includes this defines it.
extern "C" void emu_switch(void **from, void *to);
__asm__(".text\n.weak emu_switch\n.type emu_switch,@function\nemu_switch:\n"
        "pushq %rbp\npushq %rbx\npushq %r12\npushq %r13\npushq %r14\npushq %r15\n"
        "movq %rsp, (%rdi)\nmovq %rsi, %rsp\n"
        "popq %r15\npopq %r14\npopq %r13\npopq %r12\npopq %rbx\npopq %rbp\nret\n"
        ".size emu_switch, .-emu_switch\n");
#endif

// ---- device memory: separate from the host's ----
// cudaMalloc maps pages of its own (one mapping per allocation, listed here). With the guard on
// (emu_device_guard, device_mem.h), they are PROT_NONE except inside the emulated runtime
// (launches, copies, memsets, cuBLAS): host code that reads or writes device memory directly,
// instead of through a copy, faults at once. Copies with an explicit direction check that each
// side is (or is not) device memory.
namespace emu {
struct dev_region {
    char *p;
    size_t n;
};
struct dev_mem {
    dev_region r[4096];
    int n;
    bool is_guarded;
    int depth; // nesting of open scopes
};
inline dev_mem &dmem() {
    static dev_mem d;
    return d;
}
inline void dev_protect(int prot) {
    dev_mem &d = dmem();
    for (int i = 0; i < d.n; i++)
        if (mprotect(d.r[i].p, d.r[i].n, prot) != 0) abort();
}
inline bool dev_owns(const void *p, size_t n) {
    dev_mem &d = dmem();
    for (int i = 0; i < d.n; i++)
        if ((const char *)p >= d.r[i].p && (const char *)p + n <= d.r[i].p + d.r[i].n) return true;
    return false;
}
struct dev_open { // device memory accessible for the lifetime of this object
    dev_open() {
        if (dmem().is_guarded && dmem().depth++ == 0) dev_protect(PROT_READ | PROT_WRITE);
    }
    ~dev_open() {
        if (dmem().is_guarded && --dmem().depth == 0) dev_protect(PROT_NONE);
    }
};
inline void *dev_alloc(size_t n) {
    dev_mem &d = dmem();
    size_t sz = ((n ? n : 1) + 4095) / 4096 * 4096;
    if (d.n == (int)(sizeof d.r / sizeof d.r[0])) return nullptr;
    void *p = mmap(nullptr, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    if (d.is_guarded && d.depth == 0) mprotect(p, sz, PROT_NONE);
    d.r[d.n++] = dev_region{(char *)p, sz};
    return p;
}
inline void dev_free(void *p) {
    dev_mem &d = dmem();
    for (int i = 0; i < d.n; i++)
        if (d.r[i].p == p) {
            munmap(p, d.r[i].n);
            d.r[i] = d.r[--d.n];
            return;
        }
    fprintf(stderr, "emu: cudaFree of %p, not from cudaMalloc\n", p);
    abort();
}
inline void dev_check(bool ok, const char *what, const void *p) {
    if (ok) return;
    fprintf(stderr, "emu: %s (%p)\n", what, p);
    abort();
}
} // namespace emu

namespace emu {
enum state { RUNNABLE, BLOCK_WAIT, WARP_WAIT, DONE };
struct fiber {
#ifdef EMU_FAST_SWITCH
    void *sp;
#else
    ucontext_t uc;
#endif
    dim3 tid;
    int lin, st;
    unsigned n_shfl; // shuffles done: their parity picks the slot buffer
    char *stack;
};
struct block_run {
    dim3 grid, block, bid;
    int n;
    fiber *f;
    fiber *cur;
#ifdef EMU_FAST_SWITCH
    void *sched_sp;
#else
    ucontext_t sched;
#endif
    unsigned char warp_slot[2][32 * 32][8]; // two buffers, per warp (up to 32), per lane
    float *dyn_smem;
    const std::function<void()> *body;
};
inline block_run &run() {
    static block_run r;
    return r;
}
inline void yield(int st) {
    block_run &r = run();
    r.cur->st = st;
#ifdef EMU_FAST_SWITCH
    emu_switch(&r.cur->sp, r.sched_sp);
#else
    swapcontext(&r.cur->uc, &r.sched);
#endif
}
inline void entry() {
    (*run().body)();
    run().cur->st = DONE;
#ifdef EMU_FAST_SWITCH
    void *dead;
    emu_switch(&dead, run().sched_sp); // never resumed
    abort();
#endif
    // (ucontext) returning goes to uc_link = the scheduler
}
// Releases warps whose live lanes all wait, then the block if all live threads wait; aborts on
// a deadlock.
inline bool release() {
    block_run &r = run();
    bool any = false;
    int n_warps = (r.n + 31) / 32;
    for (int w = 0; w < n_warps; w++) {
        int live = 0, waiting = 0;
        for (int l = w * 32; l < r.n && l < w * 32 + 32; l++) {
            if (r.f[l].st != DONE) live++;
            if (r.f[l].st == WARP_WAIT) waiting++;
        }
        if (live > 0 && waiting == live) {
            for (int l = w * 32; l < r.n && l < w * 32 + 32; l++)
                if (r.f[l].st == WARP_WAIT) r.f[l].st = RUNNABLE;
            any = true;
        }
    }
    if (any) return true;
    int live = 0, waiting = 0;
    for (int i = 0; i < r.n; i++) {
        if (r.f[i].st != DONE) live++;
        if (r.f[i].st == BLOCK_WAIT) waiting++;
    }
    if (live == 0) return false;
    if (waiting == live) {
        for (int i = 0; i < r.n; i++)
            if (r.f[i].st == BLOCK_WAIT) r.f[i].st = RUNNABLE;
        return true;
    }
    fprintf(stderr, "emu: deadlock in block (%u,%u,%u): divergent barrier\n", r.bid.x, r.bid.y,
            r.bid.z);
    abort();
}
// Runs every block of the grid in turn; the stream is ignored (everything is synchronous).
inline void launch(dim3 grid, dim3 block, size_t smem, void *stream,
                   const std::function<void()> &body) {
    (void)stream;
    dev_open o; // kernels read and write device memory
    block_run &r = run();
    r.grid = grid;
    r.block = block;
    r.n = (int)(block.x * block.y * block.z);
    if (r.n > 1024 || r.n % 32 != 0) {
        fprintf(stderr, "emu: block of %d threads\n", r.n);
        abort();
    }
    r.body = &body;
    enum { STACK = 128 * 1024 };
    r.f = (fiber *)calloc((size_t)r.n, sizeof(fiber));
    for (int i = 0; i < r.n; i++) r.f[i].stack = (char *)malloc(STACK);
    r.dyn_smem = (float *)malloc(smem + 16);
    memset(r.dyn_smem, 0xff, smem + 16); // shared memory starts as garbage (NaN)
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                r.bid = dim3(bx, by, bz);
                for (int i = 0; i < r.n; i++) {
                    fiber &f = r.f[i];
                    f.lin = i;
                    f.tid = dim3(i % block.x, i / block.x % block.y, i / (block.x * block.y));
                    f.st = RUNNABLE;
                    f.n_shfl = 0;
#ifdef EMU_FAST_SWITCH
                    // top: a zero return address (entry never returns), entry's address for
                    // emu_switch's ret, six zero registers; rsp at entry is 8 mod 16 as after
                    // a call
                    uintptr_t top = ((uintptr_t)f.stack + STACK) & ~(uintptr_t)15;
                    void **sp = (void **)top;
                    *--sp = NULL;
                    *--sp = (void *)entry;
                    for (int k = 0; k < 6; k++) *--sp = NULL;
                    f.sp = sp;
#else
                    getcontext(&f.uc);
                    f.uc.uc_stack.ss_sp = f.stack;
                    f.uc.uc_stack.ss_size = STACK;
                    f.uc.uc_link = &r.sched;
                    makecontext(&f.uc, entry, 0);
#endif
                }
                for (;;) {
                    for (int i = 0; i < r.n; i++)
                        if (r.f[i].st == RUNNABLE) {
                            r.cur = &r.f[i];
#ifdef EMU_FAST_SWITCH
                            emu_switch(&r.sched_sp, r.f[i].sp);
#else
                            swapcontext(&r.sched, &r.f[i].uc);
#endif
                        }
                    if (!release()) break;
                }
            }
    for (int i = 0; i < r.n; i++) free(r.f[i].stack);
    free(r.f);
    free(r.dyn_smem);
}
// A full-mask warp operation needs all 32 lanes alive (undefined on a GPU otherwise).
inline void check_warp_alive(const char *what) {
    block_run &r = run();
    int w0 = r.cur->lin / 32 * 32;
    for (int l = w0; l < w0 + 32; l++)
        if (r.f[l].st == DONE) {
            fprintf(stderr, "emu: %s in warp %d of block (%u,%u,%u) after lane %d returned\n", what,
                    w0 / 32, r.bid.x, r.bid.y, r.bid.z, l - w0);
            abort();
        }
}
template <typename T> inline T shfl(T v, int src_of_lane_xor, bool is_xor) {
    block_run &r = run();
    check_warp_alive("shuffle");
    // Lanes are at most one shuffle apart (each waits for the whole warp), so alternating two
    // buffers keeps a lane's next write from clobbering a slot another lane has yet to read.
    int lane = r.cur->lin % 32, w = r.cur->lin / 32, buf = r.cur->n_shfl++ & 1;
    memcpy(r.warp_slot[buf][w * 32 + lane], &v, sizeof v);
    yield(WARP_WAIT);
    int src = is_xor ? lane ^ src_of_lane_xor : src_of_lane_xor;
    T out;
    memcpy(&out, r.warp_slot[buf][w * 32 + (src & 31)], sizeof out);
    return out;
}
} // namespace emu

#define threadIdx    (emu::run().cur->tid)
#define blockIdx     (emu::run().bid)
#define blockDim     (emu::run().block)
#define gridDim      (emu::run().grid)
#define EMU_DYN_SMEM (emu::run().dyn_smem)

inline void __syncthreads() {
    // every thread of the block must reach it: none may have returned
    emu::block_run &r = emu::run();
    for (int i = 0; i < r.n; i++)
        if (r.f[i].st == emu::DONE) {
            fprintf(stderr, "emu: __syncthreads in block (%u,%u,%u) after thread %d returned\n",
                    r.bid.x, r.bid.y, r.bid.z, i);
            abort();
        }
    emu::yield(emu::BLOCK_WAIT);
}
inline void __syncwarp(unsigned = 0xffffffffu) {
    emu::check_warp_alive("__syncwarp");
    emu::yield(emu::WARP_WAIT);
}
template <typename T> inline T __shfl_xor_sync(unsigned, T v, int o) {
    return emu::shfl(v, o, true);
}
template <typename T> inline T __shfl_sync(unsigned, T v, int src) {
    return emu::shfl(v, src, false);
}
inline int min(int a, int b) {
    return a < b ? a : b;
}
inline int max(int a, int b) {
    return a > b ? a : b;
}

// ---- runtime ----
typedef int cudaError_t;
enum {
    cudaSuccess = 0,
    cudaErrorMemoryAllocation = 2,
    cudaErrorNoDevice = 100,
    cudaErrorInsufficientDriver = 35
};
typedef void *cudaStream_t;
enum cudaMemcpyKind {
    cudaMemcpyHostToDevice,
    cudaMemcpyDeviceToHost,
    cudaMemcpyDeviceToDevice,
    cudaMemcpyDefault
};
enum { cudaStreamNonBlocking = 1, cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum {
    cudaErrorHostMemoryAlreadyRegistered = 712,
    cudaHostRegisterPortable = 1,
    cudaHostRegisterMapped = 2
};
inline cudaError_t cudaHostRegister(void *, size_t, unsigned) {
    return cudaSuccess;
}
inline cudaError_t cudaHostUnregister(void *) {
    return cudaSuccess;
}
inline cudaError_t cudaHostGetDevicePointer(void **d, void *h, unsigned) {
    return *d = h, cudaSuccess;
}
inline const char *cudaGetErrorString(cudaError_t) {
    return "emulated error";
}
inline cudaError_t cudaGetLastError() {
    return cudaSuccess;
}
inline cudaError_t cudaGetDeviceCount(int *n) {
    return *n = 1, cudaSuccess;
}
inline cudaError_t cudaSetDevice(int) {
    return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, int) {
    return *s = 0, cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t) {
    return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) {
    return cudaSuccess;
}
inline cudaError_t cudaMalloc(void **p, size_t n) {
    *p = emu::dev_alloc(n);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaMallocHost(void **p, size_t n) {
    return *p = malloc(n), cudaSuccess;
}
inline cudaError_t cudaFree(void *p) {
    if (p) emu::dev_free(p);
    return cudaSuccess;
}
inline cudaError_t cudaFreeHost(void *p) {
    return free(p), cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind k,
                                   cudaStream_t) {
    if (k == cudaMemcpyHostToDevice || k == cudaMemcpyDeviceToDevice)
        emu::dev_check(emu::dev_owns(d, n), "copy to the device outside device memory", d);
    if (k == cudaMemcpyDeviceToHost || k == cudaMemcpyDeviceToDevice)
        emu::dev_check(emu::dev_owns(s, n), "copy from the device outside device memory", s);
    if (k == cudaMemcpyHostToDevice)
        emu::dev_check(!emu::dev_owns(s, 1), "host-to-device copy from device memory", s);
    if (k == cudaMemcpyDeviceToHost)
        emu::dev_check(!emu::dev_owns(d, 1), "device-to-host copy into device memory", d);
    emu::dev_open o;
    return memcpy(d, s, n), cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t) {
    emu::dev_open o;
    return memset(d, v, n), cudaSuccess;
}
template <typename F> inline cudaError_t cudaFuncSetAttribute(F, int, int) {
    return cudaSuccess;
}

// ---- cuBLAS (column-major, as the library) ----
typedef void *cublasHandle_t;
typedef int cublasStatus_t;
enum { CUBLAS_STATUS_SUCCESS = 0 };
enum cublasOperation_t { CUBLAS_OP_N, CUBLAS_OP_T };
enum { CUBLAS_PEDANTIC_MATH = 2 };
inline cublasStatus_t cublasCreate(cublasHandle_t *h) {
    return *h = 0, 0;
}
inline cublasStatus_t cublasDestroy(cublasHandle_t) {
    return 0;
}
inline cublasStatus_t cublasSetStream(cublasHandle_t, cudaStream_t) {
    return 0;
}
inline cublasStatus_t cublasSetMathMode(cublasHandle_t, int) {
    return 0;
}
inline cublasStatus_t cublasSgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m,
                                  int n, int k, const float *alpha, const float *A, int lda,
                                  const float *B, int ldb, const float *beta, float *C, int ldc) {
    emu::dev_open o;
    cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_T ? CblasTrans : CblasNoTrans,
                tb == CUBLAS_OP_T ? CblasTrans : CblasNoTrans, m, n, k, *alpha, A, lda, B, ldb,
                *beta, C, ldc);
    return 0;
}

// ---- bf16 ----
inline unsigned __float_as_uint(float x) {
    unsigned u;
    memcpy(&u, &x, sizeof u);
    return u;
}
inline float __uint_as_float(unsigned u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}
enum cudaDataType { CUDA_R_32F = 0, CUDA_R_16BF = 14 };
enum { CUBLAS_COMPUTE_32F = 68, CUBLAS_GEMM_DEFAULT = -1 };
// A column-major (rows x cols, leading dimension ld) bf16 matrix widened to fp32.
inline float *emu_widen(const void *a, int rows, int cols, int ld) {
    size_t n = cols > 0 ? (size_t)(cols - 1) * ld + rows : 0;
    float *w = (float *)malloc(n * sizeof(float) + 1);
    for (size_t i = 0; i < n; i++) w[i] = __uint_as_float((unsigned)((const uint16_t *)a)[i] << 16);
    return w;
}
// Only what bf16.cu uses: bf16 A and B, fp32 C, fp32 compute.
inline cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                   int m, int n, int k, const float *alpha, const void *A,
                                   cudaDataType at, int lda, const void *B, cudaDataType bt,
                                   int ldb, const float *beta, void *C, cudaDataType ct, int ldc,
                                   int compute, int algo) {
    if (at != CUDA_R_16BF || bt != CUDA_R_16BF || ct != CUDA_R_32F || compute != CUBLAS_COMPUTE_32F)
        abort();
    (void)algo;
    emu::dev_open o;
    float *a = ta == CUBLAS_OP_N ? emu_widen(A, m, k, lda) : emu_widen(A, k, m, lda);
    float *b = tb == CUBLAS_OP_N ? emu_widen(B, k, n, ldb) : emu_widen(B, n, k, ldb);
    cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, (float *)C, ldc);
    free(a);
    free(b);
    return 0;
}
