#!/usr/bin/env bash
# Packs the CUDA test programs and the non-CUDA shared libraries they need (OpenBLAS, cmocka,
# libgomp, libgfortran, libquadmath) into .gpu-bundle/ at the repository root, for the device
# machine, which has the CUDA runtime and cuBLAS but not the project's other libraries.
# Usage: tests/cuda/bundle.sh [build-dir]   (then see docs/cuda.md for the device command)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
progs=(tests/cuda/test_cuda_kernels tests/cuda/test_cuda_model bench/bench_cuda)
ninja -C "$build" "${progs[@]}" >/dev/null
rm -rf .gpu-bundle
mkdir -p .gpu-bundle/lib
for p in "${progs[@]}"; do
  cp "$build/$p" .gpu-bundle/
  ldd "$build/$p" | awk '/=> \// {print $3}' |
    grep -E 'openblas|cmocka|gomp|gfortran|quadmath' |
    while read -r lib; do cp -L "$lib" .gpu-bundle/lib/; done
done
cat > .gpu-bundle/run.sh <<'RUN'
#!/usr/bin/env bash
# On the device machine, from the repository root: every CUDA test, then compute-sanitizer's
# memcheck on both, racecheck, synccheck and initcheck on the kernel test, each under a time
# limit. Logs go to $OUT when set.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"
out=${OUT:-/tmp}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || true
rc=0
for t in test_cuda_kernels test_cuda_model; do
  "$here/$t" 2>&1 | tee "$out/$t.log" || rc=1
done
# tool, program, seconds: every check fits one 600 s call of the device tool
checks=("memcheck test_cuda_kernels 120" "memcheck test_cuda_model 120"
        "racecheck test_cuda_kernels 150" "synccheck test_cuda_kernels 60"
        "initcheck test_cuda_kernels 90")
if command -v compute-sanitizer >/dev/null; then
  for c in "${checks[@]}"; do
    read -r tool t secs <<<"$c"
    timeout "$secs" compute-sanitizer --tool "$tool" --error-exitcode 9 "$here/$t" >"$out/san.tmp" 2>&1
    st=$?
    if [ $st -eq 0 ]; then echo "compute-sanitizer $tool $t: clean"
    elif [ $st -eq 124 ]; then echo "compute-sanitizer $tool $t: timed out after ${secs}s"
    else echo "compute-sanitizer $tool $t: FAILED ($st, san_$tool.log)"; tail -20 "$out/san.tmp"; rc=1
    fi
    cat "$out/san.tmp" >>"$out/san_$tool.log" # one file per tool: $OUT returns 8 files at most
  done
  rm -f "$out/san.tmp"
fi
exit $rc
RUN
chmod +x .gpu-bundle/run.sh
du -sh .gpu-bundle
