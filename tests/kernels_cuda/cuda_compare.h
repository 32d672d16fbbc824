// What every CUDA kernel test needs: whether a GPU is here (tests skip
// without one), random inputs, copies between host and GPU, and an
// element-wise comparison of a CUDA result with the CPU table's result.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/devices.h"
#include "kernels/ops.h"
#include "kernels/tensor.h"

namespace newsrl::kernels::cuda_test {

inline bool gpu_available() {
  static const bool available = !cuda_devices().empty();
  return available;
}

// Ends the test as SKIPPED where this process sees no GPU.
#define NEWSRL_REQUIRE_GPU()                                                   \
  do {                                                                         \
    if (!::newsrl::kernels::cuda_test::gpu_available()) {                      \
      std::string why_;                                                        \
      ::newsrl::kernels::cuda_devices(&why_);                                  \
      GTEST_SKIP() << "no GPU: " << why_;                                      \
    }                                                                          \
  } while (0)

// float32 on the CPU, uniform in [lo, hi), the same for the same seed.
inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(static_cast<std::size_t>(shape.numel()));
  for (float& x : values) x = dist(rng);
  return Tensor::from(values, shape);
}

inline Tensor on_gpu(const Tensor& t) { return t.to(Device::cuda); }
inline Tensor on_cpu(const Tensor& t) { return t.to(Device::cpu); }

namespace detail {
inline std::vector<double> as_doubles(const Tensor& t) {
  const Tensor host = on_cpu(t);
  std::vector<double> out(static_cast<std::size_t>(host.numel()));
  switch (host.dtype()) {
    case DType::f32: {
      const float* p = host.data<float>();
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = p[i];
      break;
    }
    case DType::bf16: {
      const bf16* p = host.data<bf16>();
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = p[i].to_float();
      break;
    }
    case DType::i32: {
      const std::int32_t* p = host.data<std::int32_t>();
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = p[i];
      break;
    }
  }
  return out;
}
}  // namespace detail

// Every element of the CUDA result within atol + rtol * |cpu| of the CPU
// result (NaN only where the CPU has NaN); reports the worst element and the
// first few failures.
inline void expect_close(const Tensor& cuda_result, const Tensor& cpu_result, float atol, float rtol,
                         const char* what) {
  ASSERT_TRUE(cuda_result.defined() && cpu_result.defined()) << what << ": undefined tensor";
  ASSERT_EQ(cuda_result.shape(), cpu_result.shape())
      << what << ": shapes differ, cuda " << cuda_result.str() << " vs cpu " << cpu_result.str();
  ASSERT_EQ(cuda_result.dtype(), cpu_result.dtype()) << what << ": dtypes differ";
  const std::vector<double> got = detail::as_doubles(cuda_result), want = detail::as_doubles(cpu_result);
  std::int64_t failures = 0, worst = -1;
  double worst_excess = 0.0;
  std::string first;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    bool ok;
    double excess = 0.0;
    if (std::isnan(w) || std::isnan(g)) {
      ok = std::isnan(w) && std::isnan(g);
      excess = ok ? 0.0 : INFINITY;
    } else if (std::isinf(w) || std::isinf(g)) {
      ok = g == w;
      excess = ok ? 0.0 : INFINITY;
    } else {
      const double allowed = atol + rtol * std::abs(w);
      excess = std::abs(g - w) - allowed;
      ok = excess <= 0.0;
    }
    if (!ok) {
      if (failures < 5) {
        first += "\n  [" + std::to_string(i) + "] cuda " + std::to_string(g) + " cpu " + std::to_string(w);
      }
      ++failures;
      if (worst < 0 || excess > worst_excess) {
        worst = static_cast<std::int64_t>(i);
        worst_excess = excess;
      }
    }
  }
  EXPECT_EQ(failures, 0) << what << ": " << failures << " of " << got.size() << " elements differ beyond atol "
                         << atol << " rtol " << rtol << "; worst at [" << worst << "]" << first;
}

}  // namespace newsrl::kernels::cuda_test
