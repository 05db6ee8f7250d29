#!/usr/bin/env bash
# Packs tests/comm/test_nccl_mpi with the Open MPI runtime it needs into one
# folder, for the device tool's GPU machines, which have CUDA and NCCL (the
# pip nvidia-nccl package) but no MPI. CUDA's and NCCL's libraries are not
# packed (NCCL alone is over 200 MB): run.sh finds the machine's own.
# Usage: tests/comm/nccl_device_bundle.sh BUILD_DIR OUT_DIR  (OUT_DIR must be
# git-ignored, e.g. build-nccl-bundle, and named in the device run's carry).
set -euo pipefail
build=${1:?usage: nccl_device_bundle.sh BUILD_DIR OUT_DIR}
out=${2:?usage: nccl_device_bundle.sh BUILD_DIR OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
exe=$build/tests/comm/test_nccl_mpi
[ -x "$exe" ] || { echo "nccl_device_bundle: no $exe (build with CUDA first)" >&2; exit 1; }
ompi_lib=$(dirname "$(readlink -f "$(command -v mpirun)")")/../lib/x86_64-linux-gnu/openmpi/lib
ompi_lib=$(readlink -f "$ompi_lib")
pmix=$(readlink -f "$ompi_lib/../../pmix2")
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/ompi/bin" "$out/ompi/share" "$out/ompi/lib/x86_64-linux-gnu/openmpi"
cp "$exe" "$out/bin/"
cp "$here/nccl_device_run.sh" "$out/run.sh"
# Open MPI as a relocatable tree (OPAL_PREFIX), PMIx likewise (PMIX_INSTALL_PREFIX).
cp -L "$(readlink -f "$(command -v orterun)")" "$out/ompi/bin/mpirun"
cp -L "$(command -v orted)" "$out/ompi/bin/orted"
cp -rL "$ompi_lib" "$out/ompi/lib/x86_64-linux-gnu/openmpi/"
cp -rL /usr/share/openmpi "$out/ompi/share/"
[ -d "$pmix" ] && cp -rL "$pmix" "$out/pmix2"
rm -rf "$out/pmix2/include" "$out"/ompi/lib/x86_64-linux-gnu/openmpi/lib/*.a
# Every shared library these need, except the C library's, the C++ runtime's
# (the machine's own are newer) and CUDA's/NCCL's; run.sh uses a packed one
# only where the machine lacks it.
{ find "$out" -name '*.so*' -o -type f -perm -u+x | xargs ldd 2>/dev/null || true; } |
  awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -vE '/(libc|libm|libpthread|librt|libdl|libresolv|ld-linux-x86-64|libstdc\+\+|libgcc_s|libcuda|libcudart|libnccl|libcublas[A-Za-z]*)\.so' |
  grep -v "^$(readlink -f "$out")" | while read -r f; do cp -L "$f" "$out/lib/"; done
du -sh "$out"
