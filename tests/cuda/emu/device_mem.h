// The emulation's device memory seen from C tests (emu.h): cudaMalloc maps pages of its own.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// With the guard on, device memory is inaccessible (PROT_NONE) outside the emulated runtime
// (kernel launches, copies, memsets, cuBLAS): a host read or write of it faults.
void emu_device_guard(bool is_on);
// Whether [p, p + n) lies inside one cudaMalloc allocation.
bool emu_device_owns(const void *p, size_t n);

#ifdef __cplusplus
}
#endif
