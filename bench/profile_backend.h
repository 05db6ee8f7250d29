// A backend that forwards every call to another one and adds up wall time per op, through the
// opaque context: the per-kernel share of a training step (bench only).
#pragma once

#include "model/backend.h"

enum prof_op {
    PROF_GEMM,
    PROF_ATT_FWD,
    PROF_ATT_BWD,
    PROF_ATT_CACHE,
    PROF_NORM,
    PROF_ROPE,
    PROF_SWIGLU,
    PROF_LOGSOFTMAX,
    PROF_ADAMW,
    PROF_OTHER,
    PROF_N
};

// Time per GEMM shape (trans_a, trans_b, M, N, K, beta != 0).
struct prof_gemm_shape {
    int ta, tb, M, N, K, beta;
    int calls;
    double seconds;
};
enum { PROF_MAX_SHAPES = 64 };

struct prof_ctx {
    const struct backend *inner;
    struct backend_ops ops; // the timing table, named as inner (so its users see the CPU)
    double seconds[PROF_N];
    double gemm_flops;
    struct prof_gemm_shape shapes[PROF_MAX_SHAPES];
    int n_shapes;
};

// Fills *out (ops = p->ops, ctx = p) to profile p->inner. Code that bypasses the backend for
// the CPU (the rollout's batch-invariant GEMM) bypasses the timing too.
void prof_backend_init(struct backend *out, struct prof_ctx *p);
const char *prof_op_name(enum prof_op op);
// Prints the GEMM shapes by time, with their GFLOP/s.
void prof_print_gemm_shapes(const struct prof_ctx *p);
