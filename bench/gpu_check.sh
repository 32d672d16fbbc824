#!/usr/bin/env bash
# The one script for a GPU machine (CUDA, CMake, Ninja and PyTorch there; no
# MPI, HDF5, Boost, FAISS or GoogleTest): prints the GPU, builds the kernels
# preset with the CUDA backend for sm_90, runs kernels_cuda_test (every CUDA
# op against the CPU table), then the op benchmark beside PyTorch on the same
# GPU, then models_cuda_test (whole models against the CPU) and the model
# benchmark (qwen2.5-0.5b training step and serving) beside PyTorch.
# Everything it writes goes to ${OUT:-results}:
#   gpu.txt, configure.log, build.log,
#   kernels_cuda_test.json (GoogleTest's JSON) and .log,
#   bench_newsrl.jsonl, bench_torch.jsonl, summary.md (side by side),
#   models_cuda_test.json and .log,
#   model_newsrl.jsonl, model_torch.jsonl, model_summary.md (side by side),
#   model_newsrl.err (the per-op profiles), model_newsrl_recompute.jsonl (the
#   training step with activation recomputation), model_newsrl_7b.jsonl (qwen2.5-7b serving).
# GoogleTest comes from third_party/googletest (a copy of /usr/src/googletest;
# this script makes it where /usr/src/googletest exists), nlohmann-json from
# third_party/nlohmann when the system has none (a copy of /usr/include/nlohmann,
# made likewise). cuDNN and NCCL are found in PyTorch's nvidia-* wheels when
# /usr/local/cuda lacks them.
# Exit status: 0 all passed and measured; 1 a step failed; 2 no GPU (the tests
# report themselves skipped and the benchmarks are skipped). Every step has a
# timeout (configure 45 s, build 180 s, tests 100 s and 90 s, each benchmark
# 60-90 s), and the model steps also stop at 7 min 40 s of the whole script,
# so that it ends within 8 minutes.
# --quick: the tests and gpu_model_bench only (no op benchmark, no PyTorch),
# for a device session with little time left.
#   bench/gpu_check.sh [--quick]
set -uo pipefail
quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *)
    echo "usage: bench/gpu_check.sh [--quick]" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/.."
out="${OUT:-results}"
mkdir -p "$out"
t0=$SECONDS
say() { echo "[gpu_check +$((SECONDS - t0))s] $*"; }
fail() {
  say "FAILED: $*"
  exit 1
}

# ---- the GPU -------------------------------------------------------------------
if nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader >"$out/gpu.txt" 2>&1; then
  say "GPU: $(head -1 "$out/gpu.txt")"
else
  say "nvidia-smi: $(head -1 "$out/gpu.txt")"
fi

# ---- GoogleTest, cuDNN, NCCL ---------------------------------------------------
if [ ! -f third_party/googletest/CMakeLists.txt ] && [ -f /usr/src/googletest/CMakeLists.txt ]; then
  mkdir -p third_party && cp -r /usr/src/googletest third_party/googletest
fi
if [ ! -f third_party/nlohmann/json.hpp ] && [ -f /usr/include/nlohmann/json.hpp ]; then
  mkdir -p third_party && cp -r /usr/include/nlohmann third_party/nlohmann
fi
# The folder of a Python package (nvidia.cudnn is a namespace package: no __file__).
package_dir() { python3 -c 'import importlib, sys; print(list(importlib.import_module(sys.argv[1]).__path__)[0])' "$1" 2>/dev/null; }
cmake_args=(-DNEWSRL_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
if cudnn_dir=$(package_dir nvidia.cudnn) && [ -d "$cudnn_dir/lib" ]; then
  say "cuDNN from $cudnn_dir"
  cmake_args+=(-DCUDNN_ROOT="$cudnn_dir")
  export LD_LIBRARY_PATH="$cudnn_dir/lib:${LD_LIBRARY_PATH:-}"
fi
if ! ls /usr/local/cuda/lib64/libnccl.so* >/dev/null 2>&1 && nccl_dir=$(package_dir nvidia.nccl) && [ -d "$nccl_dir/lib" ]; then
  say "NCCL from $nccl_dir"
  cmake_args+=(-DNCCL_INCLUDE_DIR="$nccl_dir/include" -DNCCL_LIBRARY="$(ls "$nccl_dir"/lib/libnccl.so* | head -1)")
  export LD_LIBRARY_PATH="$nccl_dir/lib:${LD_LIBRARY_PATH:-}"
fi

# ---- configure and build -------------------------------------------------------
say "configuring: cmake --preset kernels ${cmake_args[*]}"
timeout 45 cmake --preset kernels "${cmake_args[@]}" >"$out/configure.log" 2>&1 || {
  tail -30 "$out/configure.log"
  fail "configure (see $out/configure.log)"
}
grep -q 'newsrl: CUDA backend ON' "$out/configure.log" || fail "CMake found no CUDA compiler (see $out/configure.log)"
grep -q 'kernels_cuda_test' build-kernels/build.ninja ||
  fail "no GoogleTest: copy /usr/src/googletest to third_party/googletest (and carry it to this machine)"
targets=(kernels_cuda_test models_cuda_test gpu_model_bench)
[ "$quick" -eq 1 ] || targets+=(cuda_ops_bench)
say "building ${targets[*]}"
timeout 180 cmake --build build-kernels -j 16 --target "${targets[@]}" >"$out/build.log" 2>&1 || {
  grep -m 20 -E 'error|Error' "$out/build.log"
  fail "build (see $out/build.log)"
}

# ---- tests ---------------------------------------------------------------------
say "running kernels_cuda_test"
timeout 100 build-kernels/bin/kernels_cuda_test --gtest_output="json:$out/kernels_cuda_test.json" \
  >"$out/kernels_cuda_test.log" 2>&1
tests_rc=$?
grep -E '^\[  (PASSED|FAILED)  \]|^\[  SKIPPED \] [0-9]+ test|^\[==========\] [0-9]+ tests|Failure$' "$out/kernels_cuda_test.log" | head -40
[ "$tests_rc" -eq 124 ] && fail "kernels_cuda_test ran past 100 s"
# Seconds a model step may take: its own limit, or what is left of 460 s.
budget() {
  local left=$((460 - (SECONDS - t0)))
  [ "$left" -lt 1 ] && left=1  # timeout 0 would mean no limit
  [ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}
say "running models_cuda_test"
timeout "$(budget 90)" build-kernels/bin/models_cuda_test --gtest_output="json:$out/models_cuda_test.json" \
  >"$out/models_cuda_test.log" 2>&1
models_rc=$?
grep -E '^\[  (PASSED|FAILED)  \]|^\[  SKIPPED \] [0-9]+ test|^\[==========\] [0-9]+ tests|Failure$' "$out/models_cuda_test.log" | head -20

# The training step with activation recomputation, in a process of its own
# (the memory it reports is that process's peak).
recompute_step() {
  say "running gpu_model_bench --what train --precision bf16 --recompute"
  timeout "$(budget 60)" build-kernels/bin/gpu_model_bench --what train --precision bf16 --recompute \
    >"$out/model_newsrl_recompute.jsonl" 2>"$out/model_newsrl_recompute.err"
  echo "recompute exited $?: $(cat "$out/model_newsrl_recompute.jsonl" "$out/model_newsrl_recompute.err")"
}

# ---- benchmarks ----------------------------------------------------------------
if [ "$quick" -eq 1 ]; then
  say "running gpu_model_bench --precision f32,bf16 --profile (quick: no op benchmark, no PyTorch)"
  timeout "$(budget 120)" build-kernels/bin/gpu_model_bench --precision f32,bf16 --profile \
    >"$out/model_newsrl.jsonl" 2>"$out/model_newsrl.err"
  model_rc=$?
  cat "$out/model_newsrl.err" "$out/model_newsrl.jsonl"
  recompute_step
  say "results in $out: $(cd "$out" && ls | tr '\n' ' ')"
  [ "$model_rc" -eq 77 ] && exit 2
  [ "$tests_rc" -eq 0 ] || fail "kernels_cuda_test (see $out/kernels_cuda_test.log)"
  [ "$models_rc" -eq 0 ] || fail "models_cuda_test exited $models_rc (see $out/models_cuda_test.log)"
  [ "$model_rc" -eq 0 ] || fail "gpu_model_bench exited $model_rc (see $out/model_newsrl.err)"
  say "all passed"
  exit 0
fi
say "running cuda_ops_bench"
timeout 60 build-kernels/bin/cuda_ops_bench >"$out/bench_newsrl.jsonl" 2>"$out/bench_newsrl.err"
bench_rc=$?
cat "$out/bench_newsrl.err"
if [ "$bench_rc" -eq 77 ]; then
  say "no GPU: benchmarks skipped"
  [ "$tests_rc" -eq 0 ] || fail "kernels_cuda_test (see $out/kernels_cuda_test.log)"
  exit 2
fi
[ "$bench_rc" -eq 0 ] || fail "cuda_ops_bench exited $bench_rc"
say "running bench/cuda_ops_torch.py"
timeout 75 python3 bench/cuda_ops_torch.py --out "$out/bench_torch.jsonl" --newsrl "$out/bench_newsrl.jsonl" \
  --summary "$out/summary.md" >"$out/bench_torch.log" 2>&1
torch_rc=$?
cat "$out/summary.md" 2>/dev/null || tail -20 "$out/bench_torch.log"

# ---- model benchmarks: qwen2.5-0.5b training step and serving -------------------
say "running gpu_model_bench (training step B4 T1024 at matmul precision f32 and bf16; serving 64, 256 and 512 users x 1000+64 tokens; a profile of each)"
timeout "$(budget 90)" build-kernels/bin/gpu_model_bench --precision f32,bf16 --profile --users 64,256,512 \
  >"$out/model_newsrl.jsonl" 2>"$out/model_newsrl.err"
model_rc=$?
cat "$out/model_newsrl.err"
say "running bench/gpu_model_torch.py"
timeout "$(budget 90)" python3 bench/gpu_model_torch.py --out "$out/model_torch.jsonl" \
  --newsrl "$out/model_newsrl.jsonl" --summary "$out/model_summary.md" >"$out/model_torch.log" 2>&1
model_torch_rc=$?
cat "$out/model_summary.md" 2>/dev/null || {
  tail -20 "$out/model_torch.log"
  cat "$out/model_newsrl.jsonl"
}

recompute_step

# ---- a larger model: qwen2.5-7b serving (32B's float32 master weights, 128 GB, do not fit) --
say "running gpu_model_bench --what serve --preset qwen2.5-7b --users 64 --precision bf16"
timeout "$(budget 100)" build-kernels/bin/gpu_model_bench --what serve --preset qwen2.5-7b --users 64 \
  --precision bf16 >"$out/model_newsrl_7b.jsonl" 2>"$out/model_newsrl_7b.err"
echo "qwen2.5-7b serving exited $?: $(cat "$out/model_newsrl_7b.jsonl" "$out/model_newsrl_7b.err")"

say "results in $out: $(cd "$out" && ls | tr '\n' ' ')"
[ "$tests_rc" -eq 0 ] || fail "kernels_cuda_test (see $out/kernels_cuda_test.log)"
[ "$models_rc" -eq 0 ] || fail "models_cuda_test exited $models_rc (see $out/models_cuda_test.log)"
[ "$torch_rc" -eq 0 ] || fail "bench/cuda_ops_torch.py exited $torch_rc (see $out/bench_torch.log)"
[ "$model_rc" -eq 0 ] || fail "gpu_model_bench exited $model_rc (see $out/model_newsrl.err)"
[ "$model_torch_rc" -eq 0 ] || fail "bench/gpu_model_torch.py exited $model_torch_rc (see $out/model_torch.log)"
say "all passed"
