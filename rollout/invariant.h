// A batch-invariant view of a backend for inference: every product X W^T runs in calls of
// exactly `rows` rows (the last chunk zero-padded), so a row's result does not depend on how
// many rows share the call or where it sits. The engine sets rows per kind of call (prefill,
// decode): a position is always computed by the same kind of call, so it needs only be
// consistent within a kind. BLAS libraries pick other kernels (and
// other summation orders) for other matrix shapes: OpenBLAS's small-matrix kernels gave
// logits differing by up to ~5e-5 between a sequence decoded alone and in a batch. With this
// view the engine's logits, and so its samples, are bitwise the same whatever the batch.
// Private to rollout/.
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
    float *a_pad;                // (INVARIANT_ROWS_MAX, max_k)
    float *c_pad;                // (INVARIANT_ROWS_MAX, max_n)
};

// The view over inner for a model of shape s (the padding buffers are allocated here).
struct invariant_backend *invariant_backend_create(const struct backend *inner,
                                                   const struct model_shape *s);
void invariant_backend_destroy(struct invariant_backend **b);
// Bytes it allocates.
size_t invariant_backend_bytes(const struct model_shape *s);
