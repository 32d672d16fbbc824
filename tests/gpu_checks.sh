#!/usr/bin/env bash
# The checks that need a GPU, as one script for a GPU machine that has CUDA,
# CMake and PyTorch but no MPI, HDF5, Boost or FAISS: builds the kernels
# preset (kernels/ and the NCCL collectives) and runs the CUDA checks.
# NCCL comes from /usr/local/cuda when it is there, else from PyTorch's
# nvidia-nccl wheel.
#   tests/gpu_checks.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
nccl_args=()
if [ ! -e /usr/local/cuda/include/nccl.h ]; then
  nccl_dir=$(python3 -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__) if nvidia.nccl.__file__ else list(nvidia.nccl.__path__)[0])')
  lib=$(ls "$nccl_dir"/lib/libnccl.so* | head -1)
  echo "NCCL from $nccl_dir ($lib)"
  nccl_args=(-DNCCL_INCLUDE_DIR="$nccl_dir/include" -DNCCL_LIBRARY="$lib")
  export LD_LIBRARY_PATH="$nccl_dir/lib:${LD_LIBRARY_PATH:-}"
fi
cmake --preset kernels -DNEWSRL_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 "${nccl_args[@]}" >"$out/configure.log" 2>&1 || {
  cat "$out/configure.log"
  exit 1
}
cmake --build build-kernels -j 16 2>&1 | tail -3
# The CUDA checks, and the CPU kernel tests where GoogleTest is there.
ctest --test-dir build-kernels --output-on-failure 2>&1 | tee "$out/ctest.log"
build-kernels/bin/nccl_collectives_check | tee "$out/nccl_check.log"
# Hugging Face interop against transformers itself, where it is installed.
if python3 -c 'import transformers' 2>/dev/null; then
  python3 tests/reference/hf_transformers_check.py "$out" | tee "$out/hf_check.log"
else
  echo "transformers not installed: skipping tests/reference/hf_transformers_check.py"
fi
