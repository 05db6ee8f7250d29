// Device query and cuBLAS initialisation for the CUDA backend.
#include "model/cuda/cuda_probe.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

extern "C" int cuda_probe(struct cuda_info *info, char *msg, size_t msg_size) {
    memset(info, 0, sizeof *info);
    cudaRuntimeGetVersion(&info->runtime_version);
    int n = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc == cudaErrorNoDevice || rc == cudaErrorInsufficientDriver) {
        cudaGetLastError(); // clear the sticky error: no GPU is a normal state
        return 0;
    }
    if (rc != cudaSuccess) {
        snprintf(msg, msg_size, "cudaGetDeviceCount: %s", cudaGetErrorString(rc));
        return -2;
    }
    info->n_devices = n;
    if (n == 0) return 0;
    cudaDeviceProp prop;
    rc = cudaGetDeviceProperties(&prop, 0);
    if (rc != cudaSuccess) {
        snprintf(msg, msg_size, "cudaGetDeviceProperties: %s", cudaGetErrorString(rc));
        return -2;
    }
    snprintf(info->name, sizeof info->name, "%s", prop.name);
    info->cc_major = prop.major;
    info->cc_minor = prop.minor;
    info->n_bytes_total = prop.totalGlobalMem;
    cublasHandle_t handle;
    if (cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS) {
        info->has_cublas = 1;
        cublasDestroy(handle);
    }
    return 0;
}
