// Autograd: gradients of whole computations (an MLP, a transformer block)
// against finite differences, gradients that meet at a shared value, and
// what may not be differentiated.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "models/functional.h"

using namespace newsrl;
using namespace newsrl::models;
using kernels::DType;

namespace {

Tensor random_tensor(const Shape& shape, std::uint32_t seed, float scale = 0.5f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<std::size_t>(shape.numel()));
  for (float& x : v) x = d(rng);
  return Tensor::from(v, shape);
}

float scalar(const Value& v) { return v.tensor().to_vector<float>()[0]; }

// Checks every parameter's gradient (a sample of elements) against central differences of loss().
void check_parameters(std::vector<Parameter*> params, const std::function<float()>& loss_only,
                      const std::function<void()>& loss_and_backward, double rtol = 2e-2, double atol = 2e-3) {
  for (Parameter* p : params) p->zero_grad();
  loss_and_backward();
  std::mt19937 rng(3);
  for (Parameter* p : params) {
    float* x = p->value.data<float>();
    const float* g = p->grad.data<float>();
    const std::int64_t n = p->value.numel();
    int bad = 0;
    for (int c = 0; c < std::min<std::int64_t>(n, 24); ++c) {
      const std::int64_t j = n <= 24 ? c : static_cast<std::int64_t>(rng() % static_cast<std::uint32_t>(n));
      const float keep = x[j];
      const float eps = 1e-2f;
      x[j] = keep + eps;
      const double lp = loss_only();
      x[j] = keep - eps;
      const double lm = loss_only();
      x[j] = keep;
      const double numeric = (lp - lm) / (2 * eps);
      if (std::abs(numeric - g[j]) > atol + rtol * std::abs(numeric) && ++bad <= 3) {
        ADD_FAILURE() << p->name << "[" << j << "]: backward " << g[j] << ", finite difference " << numeric;
      }
    }
  }
}

}  // namespace

TEST(Graph, MlpWithCrossEntropyMatchesFiniteDifferences) {
  Parameter w1("w1", random_tensor({8, 6}, 1)), b1("b1", random_tensor({8}, 2)), w2("w2", random_tensor({5, 8}, 3));
  const Tensor x = random_tensor({2, 3, 6}, 4);
  const Tensor targets = Tensor::from(std::vector<std::int32_t>{0, 4, kernels::kIgnoreIndex, 2, 1, 3}, {6});
  auto forward = [&](Graph& g) {
    Value h = fn::unary(g, kernels::Unary::gelu, fn::linear(g, g.constant(x), g.param(w1), g.param(b1)));
    Value logits = fn::linear(g, h, g.param(w2));
    return fn::cross_entropy(g, fn::view(g, logits, {6, 5}), targets);
  };
  check_parameters(
      {&w1, &b1, &w2},
      [&] {
        Graph g;
        return scalar(forward(g));
      },
      [&] {
        Graph g;
        g.backward(forward(g));
      });
}

TEST(Graph, GradientsMeetAtASharedValue) {
  // y = a*a + a: dy/da = 2a + 1, from two uses of one value.
  Parameter a("a", Tensor::from(std::vector<float>{3.0f}, {1}));
  Graph g;
  Value va = g.param(a);
  Value y = fn::add(g, fn::mul(g, va, va), va);
  g.backward(y);
  EXPECT_FLOAT_EQ(a.grad.to_vector<float>()[0], 7.0f);
}

TEST(Graph, ConstantsGetNoGradientAndLossesMustBeScalars) {
  Graph g;
  Value c = g.constant(Tensor::from(std::vector<float>{1, 2}, {2}));
  Value d = fn::add(g, c, c);
  EXPECT_FALSE(d.requires_grad());
  EXPECT_THROW(g.grad(d), std::logic_error);
  Parameter p("p", Tensor::from(std::vector<float>{1, 2}, {2}));
  Value e = fn::add(g, g.param(p), c);
  EXPECT_THROW(g.backward(e), std::invalid_argument);  // two elements
}

TEST(Graph, AGruCellMatchesFiniteDifferences) {
  // The recommenders' GRU, written with the differentiable ops:
  // z = σ(x Wz + h Uz), r = σ(x Wr + h Ur), n = tanh(x Wn + r ⊙ (h Un)), h' = h + z ⊙ (n − h).
  const std::int64_t in = 5, hidden = 4;
  Parameter wz("wz", random_tensor({hidden, in}, 11)), uz("uz", random_tensor({hidden, hidden}, 12));
  Parameter wr("wr", random_tensor({hidden, in}, 13)), ur("ur", random_tensor({hidden, hidden}, 14));
  Parameter wn("wn", random_tensor({hidden, in}, 15)), un("un", random_tensor({hidden, hidden}, 16));
  Parameter h0("h0", random_tensor({3, hidden}, 17));
  const std::vector<Tensor> xs = {random_tensor({3, in}, 18), random_tensor({3, in}, 19)};
  const Tensor readout = random_tensor({3, hidden}, 20);
  using kernels::Unary;
  auto forward = [&](Graph& g) {
    Value h = g.param(h0);
    for (const Tensor& xt : xs) {
      Value x = g.constant(xt);
      Value z = fn::unary(g, Unary::sigmoid, fn::add(g, fn::linear(g, x, g.param(wz)), fn::linear(g, h, g.param(uz))));
      Value r = fn::unary(g, Unary::sigmoid, fn::add(g, fn::linear(g, x, g.param(wr)), fn::linear(g, h, g.param(ur))));
      Value n = fn::unary(g, Unary::tanh,
                          fn::add(g, fn::linear(g, x, g.param(wn)), fn::mul(g, r, fn::linear(g, h, g.param(un)))));
      h = fn::add(g, h, fn::mul(g, z, fn::sub(g, n, h)));
    }
    // A scalar: <h, readout> as a 1x1 product.
    Value flat = fn::view(g, h, {1, 3 * hidden});
    return fn::view(g, fn::linear(g, flat, g.constant(readout.view({1, 3 * hidden}))), {1});
  };
  check_parameters(
      {&wz, &uz, &wr, &ur, &wn, &un, &h0},
      [&] {
        Graph g;
        return scalar(forward(g));
      },
      [&] {
        Graph g;
        g.backward(forward(g));
      });
}
