// The CPU backend: OpenBLAS sgemm for matrix products, plain C loops (OpenMP) for the rest.
// One thread count for both pools, so they never oversubscribe the machine.
#pragma once

#include "core/err.h"
#include "model/backend.h"

// n_threads <= 0: OMP_NUM_THREADS if set, else the number of online CPUs.
int backend_cpu_create(int n_threads, struct backend **out, struct err *e);
void backend_cpu_destroy(struct backend **b);

// The kernels, for the table and for tests. Only cpu_gemm uses ctx (the backend's: scratch
// for products of few rows); all of them accept NULL.
#include "model/cpu/kernels.h"
