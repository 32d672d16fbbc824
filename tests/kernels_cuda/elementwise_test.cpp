// The element-wise family of the CUDA op table against the CPU table, from the
// same random inputs: arithmetic, casts (bit for bit), the sum of squares,
// bias and its gradient, activations, SwiGLU and dropout (the same mask).
// Backwards start from the same non-zero gradient, since they add into it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

constexpr float kAtol = 1e-6f, kRtol = 1e-5f;

// Odd sizes: rows not a multiple of a block, a last dim past one block of threads.
const std::vector<Shape> kShapes = {Shape{7, 13}, Shape{3, 5, 257}, Shape{1000, 33}};

Tensor gpu_empty(const Shape& s) { return Tensor::empty(s, DType::f32, Device::cuda); }

bool same_bytes(const Tensor& a, const Tensor& b) {
  const Tensor x = on_cpu(a), y = on_cpu(b);
  return x.bytes() == y.bytes() && std::memcmp(x.raw(), y.raw(), x.bytes()) == 0;
}

TEST(CudaElementwise, ArithmeticMatchesCpu) {
  NEWSRL_REQUIRE_GPU();
  std::uint64_t seed = 10;
  for (const Shape& s : kShapes) {
    const Tensor a = random_tensor(s, ++seed, -3, 3), b = random_tensor(s, ++seed, -3, 3);
    const Tensor ga = on_gpu(a), gb = on_gpu(b);

    Tensor out = Tensor::empty(s), gout = gpu_empty(s);
    add(out, a, b);
    add(gout, ga, gb);
    expect_close(gout, out, 0, 0, "add");
    mul(out, a, b);
    mul(gout, ga, gb);
    expect_close(gout, out, 0, 0, "mul");

    Tensor y = a.clone(), gy = on_gpu(a);
    accumulate(y, b, -0.37f);
    accumulate(gy, gb, -0.37f);
    expect_close(gy, y, kAtol, kRtol, "accumulate");
    scale(y, 1.7f);
    scale(gy, 1.7f);
    expect_close(gy, y, kAtol, kRtol, "scale");
    fill(y, 0.25f);
    fill(gy, 0.25f);
    expect_close(gy, y, 0, 0, "fill");
  }
}

TEST(CudaElementwise, EmptyTensorsAreNoOps) {
  NEWSRL_REQUIRE_GPU();
  Tensor g = gpu_empty(Shape{0, 5});
  fill(g, 1.0f);
  scale(g, 2.0f);
  add(g, g, g);
  EXPECT_EQ(sum_squares(g), 0.0);
}

TEST(CudaElementwise, CopyCastsBitForBit) {
  NEWSRL_REQUIRE_GPU();
  std::vector<float> values = random_tensor(Shape{4099}, 3, -1e4f, 1e4f).to_vector<float>();
  // Rounding ties, specials and the edges of the range.
  const float specials[] = {0.0f,
                            -0.0f,
                            1.0f + 1.0f / 256.0f,  // exactly halfway between two bfloat16 values
                            1.0f + 3.0f / 256.0f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::denorm_min(),
                            -1e-40f};
  for (std::size_t i = 0; i < std::size(specials); ++i) values[i * 7] = specials[i];
  const Tensor f = Tensor::from(values, Shape{4099});

  Tensor h = Tensor::empty(f.shape(), DType::bf16);
  Tensor gh = Tensor::empty(f.shape(), DType::bf16, Device::cuda);
  copy(h, f);
  copy(gh, on_gpu(f));
  EXPECT_TRUE(same_bytes(gh, h)) << "float32 -> bfloat16";

  Tensor back = Tensor::empty(f.shape()), gback = gpu_empty(f.shape());
  copy(back, h);
  copy(gback, gh);
  EXPECT_TRUE(same_bytes(gback, back)) << "bfloat16 -> float32";

  Tensor same = gpu_empty(f.shape());
  copy(same, on_gpu(f));
  EXPECT_TRUE(same_bytes(same, f)) << "float32 -> float32";
}

TEST(CudaElementwise, SumSquaresInDoubleAndDeterministic) {
  NEWSRL_REQUIRE_GPU();
  for (std::int64_t n : {1, 255, 1000, (1 << 20) + 3}) {
    const Tensor x = random_tensor(Shape{n}, static_cast<std::uint64_t>(n), -2, 2);
    const Tensor gx = on_gpu(x);
    const double want = sum_squares(x), got = sum_squares(gx);
    EXPECT_NEAR(got, want, 1e-12 * want) << "n = " << n;
    EXPECT_EQ(sum_squares(gx), got) << "n = " << n << ": a second call differs";
  }
}

TEST(CudaElementwise, SumSquaresOfAListIsTheSumOfEachInOneRead) {
  NEWSRL_REQUIRE_GPU();
  // Sizes over one block, over the partial-sum cap, and empty.
  std::vector<Tensor> cpu, gpu;
  for (const std::int64_t n : {1, 255, 0, 70000, 300001, 33}) {
    cpu.push_back(random_tensor(Shape{n}, static_cast<std::uint64_t>(n) + 5, -2, 2));
    gpu.push_back(on_gpu(cpu.back()));
  }
  std::vector<const Tensor*> c, g;
  double each = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    c.push_back(&cpu[i]);
    g.push_back(&gpu[i]);
    each += sum_squares(gpu[i]);
  }
  const double want = sum_squares(c), got = sum_squares(g);
  EXPECT_NEAR(got, want, 1e-12 * want);
  EXPECT_NEAR(got, each, 1e-12 * want);
  EXPECT_EQ(sum_squares(g), got) << "a second call differs";
  EXPECT_EQ(sum_squares(std::vector<const Tensor*>{}), 0.0);
}

TEST(CudaElementwise, BiasForwardAndBackward) {
  NEWSRL_REQUIRE_GPU();
  // 5000 rows: the gradient sums in several chunks.
  for (const Shape& s : {Shape{1, 1}, Shape{37, 33}, Shape{3, 4, 300}, Shape{5000, 17}}) {
    const std::int64_t cols = s[-1];
    const Tensor y = random_tensor(s, 21, -1, 1), bias = random_tensor(Shape{cols}, 22, -1, 1);
    Tensor cy = y.clone(), gy = on_gpu(y);
    add_bias(cy, bias);
    add_bias(gy, on_gpu(bias));
    expect_close(gy, cy, kAtol, kRtol, "add_bias");

    const Tensor dbias0 = random_tensor(Shape{cols}, 23, -1, 1);
    Tensor db = dbias0.clone(), gdb = on_gpu(dbias0), gdb2 = on_gpu(dbias0);
    bias_backward(db, y);
    bias_backward(gdb, on_gpu(y));
    bias_backward(gdb2, on_gpu(y));
    expect_close(gdb, db, 1e-5f, kRtol, "bias_backward");
    EXPECT_TRUE(same_bytes(gdb, gdb2)) << "bias_backward is not deterministic for " << s.str();
  }
}

TEST(CudaElementwise, UnaryForwardAndBackward) {
  NEWSRL_REQUIRE_GPU();
  for (Unary op : {Unary::silu, Unary::gelu, Unary::relu, Unary::tanh, Unary::sigmoid}) {
    for (const Shape& s : kShapes) {
      const std::string what = std::string(unary_name(op)) + " " + s.str();
      const Tensor x = random_tensor(s, 31, -6, 6);
      Tensor out = Tensor::empty(s), gout = gpu_empty(s);
      unary_forward(op, out, x);
      unary_forward(op, gout, on_gpu(x));
      expect_close(gout, out, kAtol, kRtol, (what + " forward").c_str());

      const Tensor dout = random_tensor(s, 32, -1, 1), dx0 = random_tensor(s, 33, -1, 1);
      Tensor dx = dx0.clone(), gdx = on_gpu(dx0);
      unary_backward(op, dx, dout, x);
      unary_backward(op, gdx, on_gpu(dout), on_gpu(x));
      expect_close(gdx, dx, kAtol, kRtol, (what + " backward").c_str());
    }
  }
}

TEST(CudaElementwise, SwigluForwardAndBackward) {
  NEWSRL_REQUIRE_GPU();
  for (const Shape& s : kShapes) {
    const Tensor gate = random_tensor(s, 41, -6, 6), up = random_tensor(s, 42, -2, 2);
    Tensor out = Tensor::empty(s), gout = gpu_empty(s);
    swiglu_forward(out, gate, up);
    swiglu_forward(gout, on_gpu(gate), on_gpu(up));
    expect_close(gout, out, kAtol, kRtol, "swiglu forward");

    const Tensor dout = random_tensor(s, 43, -1, 1), d0 = random_tensor(s, 44, -1, 1);
    Tensor dgate = d0.clone(), dup = d0.clone(), gdgate = on_gpu(d0), gdup = on_gpu(d0);
    swiglu_backward(dgate, dup, dout, gate, up);
    swiglu_backward(gdgate, gdup, on_gpu(dout), on_gpu(gate), on_gpu(up));
    expect_close(gdgate, dgate, kAtol, kRtol, "swiglu dgate");
    expect_close(gdup, dup, kAtol, kRtol, "swiglu dup");
  }
}

TEST(CudaElementwise, DropoutDrawsTheCpuMask) {
  NEWSRL_REQUIRE_GPU();
  for (float p : {0.0f, 0.1f, 0.5f}) {
    for (std::uint64_t seed : {0ull, 7ull, 0x123456789abcdefull}) {
      const Shape s{37, 129};
      const Tensor x = random_tensor(s, 51, -2, 2);
      Tensor out = Tensor::empty(s), mask = Tensor::empty(s), gout = gpu_empty(s), gmask = gpu_empty(s);
      dropout_forward(out, mask, x, p, seed);
      dropout_forward(gout, gmask, on_gpu(x), p, seed);
      EXPECT_TRUE(same_bytes(gmask, mask)) << "p " << p << " seed " << seed;
      expect_close(gout, out, 0, 0, "dropout forward");

      const Tensor dout = random_tensor(s, 52, -1, 1), d0 = random_tensor(s, 53, -1, 1);
      Tensor dx = d0.clone(), gdx = on_gpu(d0);
      dropout_backward(dx, dout, mask);
      dropout_backward(gdx, on_gpu(dout), gmask);
      expect_close(gdx, dx, kAtol, kRtol, "dropout backward");
    }
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
