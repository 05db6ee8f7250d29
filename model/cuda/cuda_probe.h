// The CUDA backend's device query: how many GPUs this process sees, the first
// one's name and compute capability, and a cuBLAS handle created and
// destroyed on it (which proves cuBLAS loads and initialises).
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cuda_info {
    int n_devices;  // 0 when no GPU is visible (not an error)
    char name[256]; // device 0
    int cc_major, cc_minor;
    size_t n_bytes_total;
    int runtime_version; // CUDA runtime, e.g. 13000
    int has_cublas;      // a cuBLAS handle was created on device 0
};

// Fills info; returns 0, or -2 with a message in msg when the CUDA runtime
// itself fails (a broken driver install, not "no device").
int cuda_probe(struct cuda_info *info, char *msg, size_t msg_size);

#ifdef __cplusplus
}
#endif
