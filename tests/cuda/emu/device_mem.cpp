// C entry points to the emulation's device memory (device_mem.h).
#include "device_mem.h"

extern "C" void emu_device_guard(bool is_on) {
    emu::dev_mem &d = emu::dmem();
    if (d.is_guarded == is_on) return;
    d.is_guarded = is_on;
    if (d.depth == 0) emu::dev_protect(is_on ? PROT_NONE : PROT_READ | PROT_WRITE);
}

extern "C" bool emu_device_owns(const void *p, size_t n) {
    return emu::dev_owns(p, n);
}
