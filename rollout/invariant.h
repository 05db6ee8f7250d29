// A batch-invariant view of a backend for inference: a row's result of every product X W^T
// does not depend on how many rows share the call or where it sits. BLAS libraries pick
// other kernels (and other summation orders) for other matrix shapes: OpenBLAS's
// small-matrix kernels gave logits differing by up to ~5e-5 between a sequence decoded alone
// and in a batch. Over the CPU backend the products run in cpu_gemm_fixed (one fixed
// multiply-add chain per element, any M: prefill and decode agree too). Over another backend
// they run in calls of exactly `rows` rows (the last chunk zero-padded); the engine sets rows
// per kind of call (prefill, decode), and a position is always computed by the same kind of
// call, so it needs only be consistent within a kind. With this view the engine's logits, and
// so its samples, are bitwise the same whatever the batch. Private to rollout/.
#pragma once

#include "model/backend.h"
#include "model/model.h"

#define INVARIANT_ROWS_DECODE  64 // decode steps (a multiple of typical G)
#define INVARIANT_ROWS_PREFILL 64 // prompts: fewer re-packings of the weights
#define INVARIANT_ROWS_MAX     64

struct invariant_backend {
    struct backend be;           // the view: ops forward to inner, ctx = this struct
    const struct backend *inner; // borrowed
    int rows;                    // rows per GEMM call now (<= INVARIANT_ROWS_MAX)
    int max_k, max_n;            // largest K and N of the model's inference GEMMs
    float *scratch;              // CPU: cpu_gemm_fixed's panels, else NULL
    float *a_pad;                // elsewhere: (INVARIANT_ROWS_MAX, max_k), else NULL
    float *c_pad;                // elsewhere: (INVARIANT_ROWS_MAX, max_n), else NULL
};

// The view over inner for a model of shape s (the padding buffers are allocated here).
struct invariant_backend *invariant_backend_create(const struct backend *inner,
                                                   const struct model_shape *s);
void invariant_backend_destroy(struct invariant_backend **b);
// Bytes it allocates at most (over a backend of n_threads threads).
size_t invariant_backend_bytes(const struct model_shape *s, int n_threads);
