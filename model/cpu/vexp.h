// exp over an array, in place: 16 lanes at a time with AVX-512 where the CPU has it (Cephes'
// expf: Cody-Waite reduction by ln 2, a degree-6 polynomial, scaling by 2^n; within 2 ulp of
// the correctly rounded result, exact 0 and inf beyond the range), else libm's expf. A
// machine always takes the same path, so results are deterministic on it. Used by the CPU
// kernels and by rollout's sampler.
#pragma once

void cpu_vexp(float *x, int n);
