// GPU op benchmark of the CUDA table: the qwen2.5-0.5b projection GEMMs
// (y = x Wᵀ over a batch of tokens, float32 and with bfloat16 weights, plus the
// two backward GEMMs of the MLP up-projection) and causal grouped-query
// attention forward and backward. Prints one JSON line per case:
//   {"engine":"newsrl","op":..,"name":..,"dtype":..,"shape":..,"ms":..,"tflops":..,"gpu":..}
// ms is the mean of --iters runs after --warmup runs, timed with CUDA events
// on the backend's stream. bench/cuda_ops_torch.py times the same cases in
// PyTorch; bench/gpu_check.sh runs both and prints them side by side.
//   build-kernels/bin/cuda_ops_bench [--tokens 8192] [--iters 20] [--warmup 3]
// Exits 77 (skipped) where no GPU is visible.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/devices.h"
#include "kernels/ops.h"

using namespace newsrl::kernels;

namespace {

struct Options {
  std::int64_t tokens = 8192;
  int iters = 20;
  int warmup = 3;
};

// Values in [-scale, scale) from a fixed LCG, made on the host and copied over.
Tensor device_values(const Shape& shape, std::uint64_t seed, float scale, DType dtype = DType::f32) {
  std::vector<float> v(static_cast<std::size_t>(shape.numel()));
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = scale * (static_cast<float>(s >> 40) / static_cast<float>(1ull << 24) * 2.0f - 1.0f);
  }
  Tensor host = Tensor::from(v, shape);
  if (dtype == DType::bf16) {
    std::vector<bf16> h;
    h.reserve(v.size());
    for (float x : v) h.push_back(bf16::from_float(x));
    host = Tensor::from(h, shape);
  }
  return host.to(Device::cuda);
}

double time_ms(const Options& o, const std::function<void()>& run) {
  for (int i = 0; i < o.warmup; ++i) run();
  cudaEvent_t start, stop;
  NEWSRL_CUDA_CHECK(cudaEventCreate(&start));
  NEWSRL_CUDA_CHECK(cudaEventCreate(&stop));
  NEWSRL_CUDA_CHECK(cudaEventRecord(start, cuda::stream()));
  for (int i = 0; i < o.iters; ++i) run();
  NEWSRL_CUDA_CHECK(cudaEventRecord(stop, cuda::stream()));
  NEWSRL_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0.0f;
  NEWSRL_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return static_cast<double>(ms) / o.iters;
}

std::string gpu_name;

void report(const char* op, const std::string& name, const char* dtype, const std::string& shape, double ms,
            double flops) {
  std::printf(
      "{\"engine\":\"newsrl\",\"op\":\"%s\",\"name\":\"%s\",\"dtype\":\"%s\",\"shape\":\"%s\",\"ms\":%.4f,"
      "\"tflops\":%.2f,\"gpu\":\"%s\"}\n",
      op, name.c_str(), dtype, shape.c_str(), ms, flops / (ms * 1e-3) / 1e12, gpu_name.c_str());
  std::fflush(stdout);
}

// y[M, N] = x[M, K] W[N, K]ᵀ
void bench_projection(const Options& o, const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k) {
  const Tensor x = device_values({m, k}, 1, 1.0f);
  Tensor y = Tensor::empty({m, n}, DType::f32, Device::cuda);
  const std::string shape = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Tensor w = device_values({n, k}, 2, 0.05f, dtype);
    const double ms = time_ms(o, [&] { matmul(y, x, w, false, true); });
    report("matmul", name, dtype == DType::f32 ? "float32" : "bf16_weights", shape, ms, flops);
  }
  // float32 tensors on the tensor cores (set_matmul_precision).
  const Tensor w = device_values({n, k}, 2, 0.05f);
  for (const auto& [precision, label] : {std::pair{MatmulPrecision::tf32, "float32_tf32"},
                                         std::pair{MatmulPrecision::bf16, "float32_bf16"}}) {
    set_matmul_precision(precision);
    const double ms = time_ms(o, [&] { matmul(y, x, w, false, true); });
    set_matmul_precision(MatmulPrecision::f32);
    report("matmul", name, label, shape, ms, flops);
  }
}

// The backward GEMMs of y = x Wᵀ: dx = dy W and dW += dyᵀ x.
void bench_projection_backward(const Options& o, const std::string& name, std::int64_t m, std::int64_t n,
                               std::int64_t k) {
  const Tensor x = device_values({m, k}, 3, 1.0f), w = device_values({n, k}, 4, 0.05f);
  const Tensor dy = device_values({m, n}, 5, 1.0f);
  Tensor dx = Tensor::empty({m, k}, DType::f32, Device::cuda), dw = Tensor::zeros({n, k}, DType::f32, Device::cuda);
  const std::string shape = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  for (const auto& [precision, label] : {std::pair{MatmulPrecision::f32, "float32"},
                                         std::pair{MatmulPrecision::bf16, "float32_bf16"}}) {
    set_matmul_precision(precision);
    report("matmul", name + "_dx", label, shape, time_ms(o, [&] { matmul(dx, dy, w); }), flops);
    report("matmul", name + "_dw", label, shape, time_ms(o, [&] { matmul(dw, dy, x, true, false, 1.0f, 1.0f); }),
           flops);
  }
  set_matmul_precision(MatmulPrecision::f32);
}

void bench_attention(const Options& o, std::int64_t batch, std::int64_t t, std::int64_t hq, std::int64_t hkv,
                     std::int64_t dim) {
  const Tensor q = device_values({batch, t, hq, dim}, 6, 1.0f), k = device_values({batch, t, hkv, dim}, 7, 1.0f);
  const Tensor v = device_values({batch, t, hkv, dim}, 8, 1.0f), dout = device_values({batch, t, hq, dim}, 9, 1.0f);
  Tensor out = Tensor::empty(q.shape(), DType::f32, Device::cuda);
  Tensor lse = Tensor::empty({batch, hq, t}, DType::f32, Device::cuda);
  Tensor dq = Tensor::zeros(q.shape(), DType::f32, Device::cuda), dk = Tensor::zeros(k.shape(), DType::f32, Device::cuda);
  Tensor dv = Tensor::zeros(v.shape(), DType::f32, Device::cuda);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
  // Causal: half of the T x T scores; two GEMM-like products forward, five backward.
  const double fwd_flops = 4.0 * static_cast<double>(batch * hq * dim) * static_cast<double>(t * t) / 2.0;
  const std::string shape = "B" + std::to_string(batch) + " T" + std::to_string(t) + " Hq" + std::to_string(hq) +
                            " Hkv" + std::to_string(hkv) + " D" + std::to_string(dim) + " causal";
  // float32 kernels, then the tensor-core ones (matmul precision bf16: bf16 products, float32 tensors).
  for (const auto& [precision, label] : {std::pair{MatmulPrecision::f32, "float32"},
                                         std::pair{MatmulPrecision::bf16, "float32_bf16"}}) {
    set_matmul_precision(precision);
    const double fwd = time_ms(o, [&] { attention_forward(out, lse, q, k, v, 0, scale, true); });
    report("attention", "attention_fwd", label, shape, fwd, fwd_flops);
    const double bwd =
        time_ms(o, [&] { attention_backward(dq, dk, dv, dout, q, k, v, out, lse, 0, scale, true); });
    report("attention", "attention_bwd", label, shape, bwd, 2.5 * fwd_flops);
    report("attention", "attention_fwd_bwd", label, shape, fwd + bwd, 3.5 * fwd_flops);
  }
  set_matmul_precision(MatmulPrecision::f32);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--tokens") == 0 && has_value) {
      o.tokens = std::atoll(argv[++i]);
    } else if (std::strcmp(argv[i], "--iters") == 0 && has_value) {
      o.iters = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--warmup") == 0 && has_value) {
      o.warmup = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "cuda_ops_bench: unknown argument %s (--tokens N, --iters N, --warmup N)\n", argv[i]);
      return 2;
    }
  }
  if (o.tokens < 1 || o.iters < 1 || o.warmup < 0) {
    std::fprintf(stderr, "cuda_ops_bench: --tokens and --iters at least 1, --warmup at least 0\n");
    return 2;
  }
  std::string why;
  const std::vector<DeviceInfo> gpus = cuda_devices(&why);
  if (gpus.empty()) {
    std::fprintf(stderr, "cuda_ops_bench: no GPU (%s): skipped\n", why.c_str());
    return 77;
  }
  gpu_name = gpus[0].name;
  try {
    // qwen2.5-0.5b: hidden 896, intermediate 4864, 14 query heads and 2 kv heads of 64, vocab 151936.
    const std::int64_t tokens = o.tokens;
    bench_projection(o, "q_proj", tokens, 896, 896);
    bench_projection(o, "kv_proj", tokens, 128, 896);
    bench_projection(o, "o_proj", tokens, 896, 896);
    bench_projection(o, "mlp_up", tokens, 4864, 896);
    bench_projection(o, "mlp_down", tokens, 896, 4864);
    bench_projection(o, "lm_head", std::min<std::int64_t>(tokens, 1024), 151936, 896);
    bench_projection_backward(o, "mlp_up", tokens, 4864, 896);
    bench_attention(o, 8, 1024, 14, 2, 64);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_ops_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
