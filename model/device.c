// Backend selection by run.device (model/device.h).
#include "model/device.h"

#include <string.h>

#include "grpo_build.h"
#include "core/config.h"
#include "model/cpu/cpu.h"
#include "model/cuda/cuda.h"

int model_backend_create(int device, int cuda_index, int n_threads, const char *key,
                         struct backend **out, struct err *e) {
    *out = NULL;
    if (device == DEVICE_CPU) return backend_cpu_create(n_threads, out, e);
    if (device != DEVICE_CUDA) return err_internal(e, "%s: unknown device %d", key, device);
#if GRPO_HAVE_CUDA
    int n = cuda_device_count();
    if (n == 0) return err_user(e, "%s 'cuda': no CUDA device is visible to this process", key);
    return backend_cuda_create(cuda_index, out, e);
#else
    (void)cuda_index;
    return err_user(e, "%s 'cuda': this grpo was built without CUDA (nvcc not found)", key);
#endif
}

void model_backend_destroy(struct backend **b) {
    if (!b || !*b) return;
#if GRPO_HAVE_CUDA
    if ((*b)->ops->is_device) {
        backend_cuda_destroy(b);
        return;
    }
#endif
    backend_cpu_destroy(b);
}

int model_device_parse(const char *s, const char *key, int *device, struct err *e) {
    if (!strcmp(s, "cpu"))
        *device = DEVICE_CPU;
    else if (!strcmp(s, "cuda"))
        *device = DEVICE_CUDA;
    else
        return err_user(e, "%s '%s' must be cpu or cuda", key, s);
    return 0;
}
