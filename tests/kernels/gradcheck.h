// Finite-difference checks of the kernels' backward passes. For an op with
// output y = f(x1, x2, ...), the loss L = sum_j w_j * y_j with fixed random
// weights w; the analytic gradients come from the op's backward with dy = w,
// the numerical ones from central differences of L, computed in double.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace newsrl::kernels::testing {

inline Tensor random_tensor(const Shape& shape, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<std::size_t>(shape.numel()));
  for (float& x : v) x = d(rng);
  return Tensor::from(v, shape);
}

inline double dot(const Tensor& a, const Tensor& b) {
  const float *x = a.data<float>(), *y = b.data<float>();
  double s = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) s += static_cast<double>(x[i]) * y[i];
  return s;
}

struct GradCheck {
  // The differentiable inputs (float32); other inputs are captured by the lambdas.
  std::vector<Tensor> inputs;
  std::vector<std::string> names;
  // y = f(inputs)
  std::function<Tensor(const std::vector<Tensor>&)> forward;
  // Adds d L / d inputs[i] into grads[i] (zeroed beforehand) given dy.
  std::function<void(const std::vector<Tensor>& inputs, const Tensor& dy, std::vector<Tensor>& grads)> backward;
  float eps = 1e-2f;
  double rtol = 1e-2;
  double atol = 1e-3;
  int max_checks_per_input = 48;  // elements sampled per input

  void run(std::uint32_t seed = 7) {
    const Tensor y = forward(inputs);
    const Tensor w = random_tensor(y.shape(), seed + 1000);
    std::vector<Tensor> grads;
    for (const Tensor& x : inputs) grads.push_back(Tensor::zeros(x.shape()));
    backward(inputs, w, grads);
    std::mt19937 rng(seed);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      Tensor& x = inputs[i];
      float* px = x.data<float>();
      const float* g = grads[i].data<float>();
      const std::int64_t n = x.numel();
      const int checks = static_cast<int>(std::min<std::int64_t>(n, max_checks_per_input));
      int bad = 0;
      for (int c = 0; c < checks; ++c) {
        const std::int64_t j =
            n <= max_checks_per_input ? c : static_cast<std::int64_t>(rng() % static_cast<std::uint32_t>(n));
        const float keep = px[j];
        px[j] = keep + eps;
        const double lp = dot(forward(inputs), w);
        px[j] = keep - eps;
        const double lm = dot(forward(inputs), w);
        px[j] = keep;
        const double numeric = (lp - lm) / (2.0 * eps);
        const double analytic = g[j];
        if (std::abs(numeric - analytic) > atol + rtol * std::abs(numeric)) {
          if (++bad <= 5) {
            ADD_FAILURE() << "d loss / d " << (i < names.size() ? names[i] : "input " + std::to_string(i)) << "[" << j
                          << "]: backward " << analytic << ", finite difference " << numeric;
          }
        }
      }
    }
  }
};

// Element-wise comparison with a reference, one failure line per bad element (up to 5).
inline void expect_close(const Tensor& got, const std::vector<double>& want, double rtol, double atol,
                         const std::string& what) {
  ASSERT_EQ(static_cast<std::size_t>(got.numel()), want.size()) << what;
  const float* p = got.data<float>();
  int bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!(std::abs(p[i] - want[i]) <= atol + rtol * std::abs(want[i]))) {
      if (++bad <= 5) ADD_FAILURE() << what << "[" << i << "]: got " << p[i] << ", want " << want[i];
    }
  }
}

}  // namespace newsrl::kernels::testing
