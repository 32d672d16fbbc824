// Element-wise kernels: values against std:: math in double, gradients by
// finite differences, casts, and dropout's mask.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gradcheck.h"

using namespace newsrl::kernels;
using namespace newsrl::kernels::testing;

namespace {

double reference_unary(Unary op, double x) {
  switch (op) {
    case Unary::silu:
      return x / (1 + std::exp(-x));
    case Unary::gelu:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Unary::relu:
      return x > 0 ? x : 0;
    case Unary::tanh:
      return std::tanh(x);
    case Unary::sigmoid:
      return 1 / (1 + std::exp(-x));
  }
  return 0;
}

}  // namespace

TEST(Elementwise, ActivationsMatchTheirDefinitionsAndGradients) {
  for (Unary op : {Unary::silu, Unary::gelu, Unary::relu, Unary::tanh, Unary::sigmoid}) {
    SCOPED_TRACE(std::string(unary_name(op)));
    Tensor x = random_tensor({3, 17}, 11, 2.0f);
    Tensor y = Tensor::empty(x.shape());
    unary_forward(op, y, x);
    std::vector<double> want;
    for (float v : x.to_vector<float>()) want.push_back(reference_unary(op, v));
    expect_close(y, want, 1e-5, 1e-6, std::string(unary_name(op)));

    GradCheck g;
    g.inputs = {x};
    g.names = {"x"};
    g.forward = [op](const std::vector<Tensor>& in) {
      Tensor out = Tensor::empty(in[0].shape());
      unary_forward(op, out, in[0]);
      return out;
    };
    g.backward = [op](const std::vector<Tensor>& in, const Tensor& dy, std::vector<Tensor>& grads) {
      unary_backward(op, grads[0], dy, in[0]);
    };
    if (op == Unary::relu) g.eps = 1e-3f;  // keep the probe off the kink
    g.run();
  }
}

TEST(Elementwise, SwigluAndItsGradients) {
  GradCheck g;
  g.inputs = {random_tensor({4, 9}, 21), random_tensor({4, 9}, 22)};
  g.names = {"gate", "up"};
  g.forward = [](const std::vector<Tensor>& in) {
    Tensor out = Tensor::empty(in[0].shape());
    swiglu_forward(out, in[0], in[1]);
    return out;
  };
  g.backward = [](const std::vector<Tensor>& in, const Tensor& dy, std::vector<Tensor>& grads) {
    swiglu_backward(grads[0], grads[1], dy, in[0], in[1]);
  };
  g.run();
  Tensor out = g.forward(g.inputs);
  std::vector<double> want;
  const auto gv = g.inputs[0].to_vector<float>(), uv = g.inputs[1].to_vector<float>();
  for (std::size_t i = 0; i < gv.size(); ++i) want.push_back(reference_unary(Unary::silu, gv[i]) * uv[i]);
  expect_close(out, want, 1e-5, 1e-6, "swiglu");
}

TEST(Elementwise, BiasAndItsGradient) {
  GradCheck g;
  g.inputs = {random_tensor({2, 3, 6}, 31), random_tensor({6}, 32)};
  g.names = {"y", "bias"};
  g.forward = [](const std::vector<Tensor>& in) {
    Tensor out = in[0].clone();
    add_bias(out, in[1]);
    return out;
  };
  g.backward = [](const std::vector<Tensor>&, const Tensor& dy, std::vector<Tensor>& grads) {
    accumulate(grads[0], dy);
    bias_backward(grads[1], dy);
  };
  g.run();
}

// Wide enough to run on both threads and to span column blocks with a remainder: each column's sum is
// the rows' sum in order, so one thread and two give the same bits.
TEST(Elementwise, BiasGradientOfManyRowsIsTheColumnSumOnAnyThreadCount) {
  const std::int64_t rows = 300, cols = 130;
  Tensor dy = random_tensor({rows, cols}, 33);
  const auto v = dy.to_vector<float>();
  std::vector<double> want(cols, 0.25);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < cols; ++j) want[j] += v[r * cols + j];
  std::vector<std::vector<float>> got;
  const int before = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    Tensor db = Tensor::from(std::vector<float>(cols, 0.25f), {cols});
    bias_backward(db, dy);
    expect_close(db, want, 1e-4, 1e-6, "bias_backward");
    got.push_back(db.to_vector<float>());
  }
  omp_set_num_threads(before);
  EXPECT_EQ(got[0], got[1]);
}

TEST(Elementwise, ArithmeticAndReductions) {
  Tensor a = Tensor::from(std::vector<float>{1, -2, 3}, {3}), b = Tensor::from(std::vector<float>{4, 5, -6}, {3});
  Tensor out = Tensor::empty({3});
  add(out, a, b);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{5, 3, -3}));
  mul(out, a, b);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{4, -10, -18}));
  accumulate(out, a, 2.0f);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{6, -14, -12}));
  scale(out, 0.5f);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{3, -7, -6}));
  EXPECT_DOUBLE_EQ(sum_squares(out), 9 + 49 + 36);
  fill(out, 0.25f);
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0.25f, 0.25f, 0.25f}));
  EXPECT_THROW(add(out, a, Tensor::empty({4})), std::invalid_argument);
}

TEST(Elementwise, CastsBetweenFloat32AndBfloat16) {
  Tensor f = Tensor::from(std::vector<float>{1.0f, -2.5f, 3.14159f, 1e-3f}, {4});
  Tensor h = Tensor::empty({4}, DType::bf16), back = Tensor::empty({4});
  copy(h, f);
  copy(back, h);
  const auto v = back.to_vector<float>();
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.5f);
  EXPECT_NEAR(v[2], 3.14159f, 0.0125f);  // 8 bits of mantissa
  EXPECT_NEAR(v[3], 1e-3f, 1e-5f);
  EXPECT_THROW(copy(h, Tensor::from(std::vector<std::int32_t>{1, 2, 3, 4}, {4})), std::invalid_argument);
}

TEST(Elementwise, DropoutKeepsTheExpectationAndIsReproducible) {
  Tensor x = Tensor::zeros({10000});
  fill(x, 1.0f);
  Tensor out = Tensor::empty(x.shape()), mask = Tensor::empty(x.shape());
  dropout_forward(out, mask, x, 0.25f, 42);
  double sum = 0;
  int dropped = 0;
  for (float v : out.to_vector<float>()) {
    sum += v;
    dropped += v == 0.0f;
  }
  EXPECT_NEAR(dropped / 10000.0, 0.25, 0.02);
  EXPECT_NEAR(sum / 10000.0, 1.0, 0.03);  // kept values are scaled by 1 / (1 - p)
  Tensor out2 = Tensor::empty(x.shape()), mask2 = Tensor::empty(x.shape());
  dropout_forward(out2, mask2, x, 0.25f, 42);
  EXPECT_EQ(out.to_vector<float>(), out2.to_vector<float>());
  Tensor dx = Tensor::zeros(x.shape());
  dropout_backward(dx, x, mask);
  EXPECT_EQ(dx.to_vector<float>(), out.to_vector<float>());
  EXPECT_THROW(dropout_forward(out, mask, x, 1.0f, 1), std::invalid_argument);
}

TEST(SumSquares, OfAListAddsEachTensorInOrder) {
  const Tensor a = Tensor::from(std::vector<float>{1, 2}, {2}), b = Tensor::from(std::vector<float>{3}, {1});
  const Tensor empty = Tensor::empty({0});
  EXPECT_EQ(sum_squares({&a, &empty, &b}), 14.0);
  EXPECT_EQ(sum_squares(std::vector<const Tensor*>{}), 0.0);
  const Tensor ids = Tensor::empty({2}, DType::i32);
  EXPECT_THROW(sum_squares({&a, &ids}), std::invalid_argument);
}

TEST(MatmulPrecision, NamesParseBackAndBadNamesAreRefused) {
  for (const MatmulPrecision p : {MatmulPrecision::f32, MatmulPrecision::tf32, MatmulPrecision::bf16}) {
    EXPECT_EQ(parse_matmul_precision(matmul_precision_name(p)), p);
  }
  EXPECT_EQ(matmul_precision(), MatmulPrecision::f32);  // the default
  try {
    parse_matmul_precision("fp16");
    FAIL() << "fp16 parsed";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("not one of f32, tf32, bf16"), std::string::npos) << e.what();
  }
}
