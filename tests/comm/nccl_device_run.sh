#!/usr/bin/env bash
# On a GPU machine, from a bundle made by nccl_device_bundle.sh: runs
# test_nccl_mpi with 2 and 3 ranks and exits non-zero if either failed.
# Status of each: 0 passed, 77 skipped (no device), else failed.
set -uo pipefail
b=$(cd "$(dirname "$0")" && pwd)
libs=/tmp/nccl-bundle-libs
rm -rf "$libs" && mkdir -p "$libs"
for f in "$b"/lib/*; do
  n=$(basename "$f")
  ldconfig -p | grep -q "^[[:space:]]*$n " || ln -s "$f" "$libs/$n"
done
find_lib() { find /usr /opt /lib -name "$1" 2>/dev/null | head -n 1; }
nccl=$(find_lib libnccl.so.2)
cudart=$(find_lib libcudart.so.13)
echo "NCCL: ${nccl:-not found}; CUDA runtime: ${cudart:-not found}"
nvidia-smi -L || true
export LD_LIBRARY_PATH="$libs:$b/ompi/lib/x86_64-linux-gnu/openmpi/lib:$(dirname "${nccl:-/x}"):$(dirname "${cudart:-/x}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OPAL_PREFIX=$b/ompi PMIX_INSTALL_PREFIX=$b/pmix2 PATH=$b/ompi/bin:$PATH
export PMIX_MCA_mca_base_component_path=$b/pmix2/lib/pmix
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_mca_base_component_show_load_errors=0 NCCL_DEBUG=${NCCL_DEBUG:-WARN}
status=0
for np in 2 3; do
  "$b/ompi/bin/mpirun" -np "$np" --oversubscribe "$b/bin/test_nccl_mpi"
  rc=$?
  echo "test_nccl_mpi -np $np: exit status $rc"
  [ "$rc" -eq 0 ] || status=1
done
exit $status
