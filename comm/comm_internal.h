// Shared inside comm/: MPI error conversion, and the CUDA half of
// comm/device.c (comm/nccl.c in CUDA builds, comm/no_nccl.c in CPU-only
// builds, which report no device).
#pragma once

#include <mpi.h>
#include <stddef.h>

#include "core/err.h"

// err_internal "WHAT failed: <MPI's message>".
int comm_mpi_error(struct err *e, const char *what, int code);

#define TRY_MPI(call, what)                                                                        \
    do {                                                                                           \
        int mpi_rc_ = (call);                                                                      \
        if (mpi_rc_ != MPI_SUCCESS) return comm_mpi_error(e, what, mpi_rc_);                       \
    } while (0)

// Devices this process sees. Never fails: 0 devices, with the reason in why
// (no driver, no GPU, a CUDA error, built without CUDA), when there are none.
void comm_cuda_count_devices(int *n, char *why, size_t why_size);
// cudaSetDevice(device); err_internal naming the call on failure.
int comm_cuda_set_device(int device, struct err *e);
