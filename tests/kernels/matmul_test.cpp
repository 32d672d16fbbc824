// matmul against a naive double-precision product, in every transpose and
// batching form, and its gradients by finite differences.
#include <gtest/gtest.h>

#include "gradcheck.h"

using namespace newsrl::kernels;
using namespace newsrl::kernels::testing;

namespace {

// Reference: c[b] = alpha * op(a[b]) op(b[b]) + beta * c0[b], in double.
std::vector<double> reference(const Tensor& a, const Tensor& b, const Tensor& c0, bool ta, bool tb, float alpha,
                              float beta) {
  const std::int64_t m = c0.dim(-2), n = c0.dim(-1), k = ta ? a.dim(-2) : a.dim(-1);
  const std::int64_t batch = c0.numel() / (m * n);
  const float *pa = a.data<float>(), *pb = b.data<float>(), *pc = c0.data<float>();
  std::vector<double> out(static_cast<std::size_t>(c0.numel()));
  for (std::int64_t q = 0; q < batch; ++q) {
    const float* A = pa + q * a.dim(-1) * a.dim(-2);
    const float* B = pb + (b.ndim() == 2 ? 0 : q * b.dim(-1) * b.dim(-2));
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::int64_t l = 0; l < k; ++l) {
          const double x = ta ? A[l * a.dim(-1) + i] : A[i * a.dim(-1) + l];
          const double y = tb ? B[j * b.dim(-1) + l] : B[l * b.dim(-1) + j];
          s += x * y;
        }
        const std::size_t at = static_cast<std::size_t>(q * m * n + i * n + j);
        out[at] = alpha * s + beta * static_cast<double>(pc[at]);
      }
    }
  }
  return out;
}

}  // namespace

TEST(Matmul, EveryTransposeAndBatchMatchesTheReference) {
  const std::int64_t M = 5, N = 7, K = 3;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (int batched_b = 0; batched_b < 2; ++batched_b) {
        const Tensor a = random_tensor(ta ? Shape{2, K, M} : Shape{2, M, K}, 1);
        const Tensor b = batched_b ? random_tensor(tb ? Shape{2, N, K} : Shape{2, K, N}, 2)
                                   : random_tensor(tb ? Shape{N, K} : Shape{K, N}, 2);
        Tensor c = random_tensor({2, M, N}, 3);
        const Tensor c0 = c.clone();
        matmul(c, a, b, ta, tb, 0.5f, 2.0f);
        expect_close(
            c, reference(a, b, c0, ta, tb, 0.5f, 2.0f), 1e-5, 1e-5,
            "ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) + " batched_b=" + std::to_string(batched_b));
      }
    }
  }
}

TEST(Matmul, GradientsOfALinearLayer) {
  // y = x W^T as a linear layer computes it; dx = dy W, dW = dy^T x.
  GradCheck g;
  g.inputs = {random_tensor({2, 3, 4}, 4), random_tensor({5, 4}, 5)};
  g.names = {"x", "W"};
  g.forward = [](const std::vector<Tensor>& in) {
    Tensor y = Tensor::empty({2, 3, 5});
    matmul(y, in[0], in[1], false, true);
    return y;
  };
  g.backward = [](const std::vector<Tensor>& in, const Tensor& dy, std::vector<Tensor>& grads) {
    matmul(grads[0], dy, in[1], false, false, 1.0f, 1.0f);
    Tensor x2 = in[0].view({6, 4});
    Tensor dy2 = dy.view({6, 5});
    matmul(grads[1], dy2, x2, true, false, 1.0f, 1.0f);
  };
  g.run();
}

TEST(Matmul, ShapeMistakesAreOneClearLine) {
  Tensor c = Tensor::empty({2, 3}), a = Tensor::empty({2, 4}), b = Tensor::empty({5, 3});
  try {
    matmul(c, a, b);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "matmul: inner dimensions differ: op(a) is 2x4, op(b) is 5x3");
  }
  Tensor ids = Tensor::from(std::vector<std::int32_t>{1, 2}, {2});
  EXPECT_THROW(matmul(c, ids, b), std::invalid_argument);
}

TEST(Matmul, EmptyInnerDimensionScalesC) {
  Tensor c = Tensor::from(std::vector<float>{1, 2, 3, 4}, {2, 2});
  matmul(c, Tensor::empty({2, 0}), Tensor::empty({0, 2}), false, false, 1.0f, 0.5f);
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{0.5f, 1, 1.5f, 2}));
}

TEST(Matmul, FewRowsAgainstAWideMatrixMatchTheReference) {
  // The decode path: a few rows of x against wᵀ, with row and column counts
  // that leave partial blocks (3 rows; 9 columns).
  for (std::int64_t rows : {1, 3, 16}) {
    const Tensor x = random_tensor({rows, 37}, 41), w = random_tensor({9, 37}, 42);
    Tensor y = random_tensor({rows, 9}, 43);
    const Tensor y0 = y.clone();
    matmul(y, x, w, false, true, 1.5f, 0.5f);
    expect_close(y, reference(x, w, y0, false, true, 1.5f, 0.5f), 1e-5, 1e-5, "rows=" + std::to_string(rows));
  }
}

TEST(Matmul, BFloat16WeightsEqualTheirFloat32Values) {
  // y = x wᵀ with w in bfloat16 must equal the product with w widened back to
  // float32, on the decode path (≤ 16 rows) and the prefill path (more rows,
  // w widened a block of 256 rows at a time: 600 rows leave a partial block;
  // 256 x 160 is enough work for the widening to run on several threads).
  for (std::int64_t rows : {1, 5, 16, 17, 40}) {
    const Tensor x = random_tensor({rows, 160}, 51), w = random_tensor({600, 160}, 52);
    Tensor w16 = Tensor::empty({600, 160}, DType::bf16);
    copy(w16, w);
    Tensor widened = Tensor::empty({600, 160});
    copy(widened, w16);
    Tensor y = random_tensor({rows, 600}, 53);
    const Tensor y0 = y.clone();
    matmul(y, x, w16, false, true, 1.5f, 0.5f);
    expect_close(y, reference(x, widened, y0, false, true, 1.5f, 0.5f), 1e-4, 1e-4, "rows=" + std::to_string(rows));
  }
}

TEST(Matmul, BFloat16WeightsOnlyAsTransposedTwoDimensionalB) {
  Tensor w16 = Tensor::empty({4, 3}, DType::bf16);
  Tensor y = Tensor::empty({2, 4}), x = Tensor::empty({2, 3});
  try {
    Tensor yt = Tensor::empty({2, 3});
    matmul(yt, Tensor::empty({2, 4}), w16);  // not transposed
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bfloat16 when 2-D and transposed"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(matmul(y, x, w16, false, true));
}
