// The PyTorch reference of the benchmarks: which interpreter runs bench/torch_ref.py.
#pragma once

#include <stddef.h>

// The interpreter to run: requested if not NULL; else bench/.venv/bin/python (made by
// bench/setup-torch, the current PyPI torch); else Debian's /usr/bin/python3 (torch 1.13, an
// old reference: a warning on stderr says so). Paths are relative to the project root.
const char *torch_python(const char *requested);
// "torch X.Y.Z" of that interpreter into out, or "no torch".
void torch_version(const char *py, char *out, size_t n);
