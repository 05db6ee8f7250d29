// A backend for the emulated CUDA tests that checks, before forwarding each call to the
// emulated CUDA backend, that every pointer a kernel receives lies in device memory
// (emu_device_owns): a host array handed to a kernel aborts with the op's name. Together with
// emu_device_guard (host access to device memory faults), the model's host code and its
// kernels each keep to their own memory.
#pragma once

#include "model/backend.h"

// *out wraps inner (borrowed); free it with device_guard_destroy.
void device_guard_create(const struct backend *inner, struct backend **out);
void device_guard_destroy(struct backend **b);
