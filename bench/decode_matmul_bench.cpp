// The decode-time product y = x wᵀ (a few rows x against a wide weight w) in
// float32 and with bfloat16 weights, cycling through more distinct weight
// matrices than the caches hold, as a decode step does: prints one JSON line
// per case with the weight bytes read per second and the FLOP rate.
//   build/bin/decode_matmul_bench [--rows 8] [--seconds 1] [--layers 24 (1: the weights stay in cache)]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/ops.h"

using namespace newsrl::kernels;

int main(int argc, char** argv) {
  std::int64_t rows = 8;
  double seconds = 1.0;
  int layers = 24;  // about 160 MB of float32 weights: more than the caches hold
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rows") == 0) rows = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--layers") == 0) layers = std::atoi(argv[i + 1]);
  }
  // The `small` preset's projections: [out, in] of q, k, v, o, gate, up, down.
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes = {{512, 512}, {256, 512}, {256, 512}, {512, 512},
                                                                      {1536, 512}, {1536, 512}, {512, 1536}};
  for (DType dtype : {DType::f32, DType::bf16}) {
    // Enough layers that the weights (about 160 MB in float32) exceed the caches.
    std::vector<Tensor> weights;
    std::int64_t bytes = 0, flops = 0;
    for (int layer = 0; layer < layers; ++layer) {
      for (auto [out, in] : shapes) {
        Tensor w32 = Tensor::empty({out, in});
        fill(w32, 0.01f * static_cast<float>(layer + 1));
        Tensor w = Tensor::empty({out, in}, dtype);
        copy(w, w32);
        weights.push_back(w);
        bytes += w.bytes();
        flops += 2 * rows * out * in;
      }
    }
    Tensor x512 = Tensor::empty({rows, 512}), x1536 = Tensor::empty({rows, 1536});
    fill(x512, 0.5f);
    fill(x1536, 0.5f);
    Tensor y512 = Tensor::empty({rows, 512}), y1536 = Tensor::empty({rows, 1536}), y256 = Tensor::empty({rows, 256});
    auto pass = [&] {
      for (const Tensor& w : weights) {
        const Tensor& x = w.dim(1) == 512 ? x512 : x1536;
        Tensor& y = w.dim(0) == 512 ? y512 : (w.dim(0) == 1536 ? y1536 : y256);
        matmul(y, x, w, false, true);
      }
    };
    pass();  // warm-up
    int passes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
      pass();
      ++passes;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::printf(
        "{\"weights\":\"%s\",\"rows\":%lld,\"threads\":%d,\"weight_mb\":%.1f,\"ms_per_pass\":%.3f,\"weight_gb_per_s\":%.2f,"
        "\"gflop_per_s\":%.1f}\n",
        std::string(dtype_name(dtype)).c_str(), static_cast<long long>(rows), omp_get_max_threads(), bytes / 1e6,
        elapsed / passes * 1e3, static_cast<double>(bytes) * passes / elapsed / 1e9,
        static_cast<double>(flops) * passes / elapsed / 1e9);
  }
  return 0;
}
