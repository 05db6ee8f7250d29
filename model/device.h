// The compute backend that run.device names (core/config.h enum cfg_run_device): the CPU
// backend, or the CUDA backend on one device. Every entry point that builds a model (grpo
// train, logprobs, generate, eval) creates its backend here.
#pragma once

#include "core/err.h"
#include "model/backend.h"

// DEVICE_CPU: backend_cpu_create(n_threads). DEVICE_CUDA: backend_cuda_create(cuda_index).
// Without CUDA compiled in, or without a visible device, a one-line ERR_USER naming key (the
// config key or the CLI option that asked, e.g. "run.device").
int model_backend_create(int device, int cuda_index, int n_threads, const char *key,
                         struct backend **out, struct err *e);
// Destroys a backend from model_backend_create (either kind); *b = NULL.
void model_backend_destroy(struct backend **b);
// "cpu" or "cuda" (a CLI --device value) into *device; ERR_USER naming key otherwise.
int model_device_parse(const char *s, const char *key, int *device, struct err *e);
