// Attention on the GPU against the CPU table: causal and not, grouped-query
// heads (14 query heads on 2 kv heads, as in Qwen2.5-0.5B), head_dim 64 and
// 128 and ones that are not multiples of 16 or 4, whole sequences and a KV cache
// (Tq < Tk with q_offset); forward outputs and lse, and the backward from
// non-zero gradients (it adds into them); the decoding kernel (eight queries
// or fewer) and the tensor-core kernels (matmul precision bf16).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

struct Case {
  std::int64_t batch, tq, tk, hq, hkv, dim, q_offset;
  bool causal;
  std::string name() const {
    return "B" + std::to_string(batch) + " Tq" + std::to_string(tq) + " Tk" + std::to_string(tk) + " Hq" +
           std::to_string(hq) + " Hkv" + std::to_string(hkv) + " D" + std::to_string(dim) + " offset" +
           std::to_string(q_offset) + (causal ? " causal" : " full");
  }
};

void check(const Case& c, std::uint64_t seed) {
  SCOPED_TRACE(c.name());
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.dim));
  const Tensor q = random_tensor({c.batch, c.tq, c.hq, c.dim}, seed, -2.0f, 2.0f);
  const Tensor k = random_tensor({c.batch, c.tk, c.hkv, c.dim}, seed + 1, -2.0f, 2.0f);
  const Tensor v = random_tensor({c.batch, c.tk, c.hkv, c.dim}, seed + 2);
  const Tensor dout = random_tensor(q.shape(), seed + 3);
  const Tensor q_gpu = on_gpu(q), k_gpu = on_gpu(k), v_gpu = on_gpu(v), dout_gpu = on_gpu(dout);

  Tensor out = Tensor::empty(q.shape()), lse = Tensor::empty({c.batch, c.hq, c.tq});
  Tensor out_gpu = Tensor::empty(q.shape(), DType::f32, Device::cuda);
  Tensor lse_gpu = Tensor::empty(lse.shape(), DType::f32, Device::cuda);
  attention_forward(out, lse, q, k, v, c.q_offset, scale, c.causal);
  attention_forward(out_gpu, lse_gpu, q_gpu, k_gpu, v_gpu, c.q_offset, scale, c.causal);
  expect_close(out_gpu, out, 1e-5f, 1e-4f, "out");
  expect_close(lse_gpu, lse, 1e-5f, 1e-5f, "lse");

  Tensor dq = random_tensor(q.shape(), seed + 4), dk = random_tensor(k.shape(), seed + 5);
  Tensor dv = random_tensor(v.shape(), seed + 6);
  Tensor dq_gpu = on_gpu(dq), dk_gpu = on_gpu(dk), dv_gpu = on_gpu(dv);
  attention_backward(dq, dk, dv, dout, q, k, v, out, lse, c.q_offset, scale, c.causal);
  attention_backward(dq_gpu, dk_gpu, dv_gpu, dout_gpu, q_gpu, k_gpu, v_gpu, out_gpu, lse_gpu, c.q_offset, scale,
                     c.causal);
  expect_close(dq_gpu, dq, 2e-5f, 1e-4f, "dq");
  expect_close(dk_gpu, dk, 2e-5f, 1e-4f, "dk");
  expect_close(dv_gpu, dv, 2e-5f, 1e-4f, "dv");
}

TEST(CudaAttention, CausalGroupedQueryWholeSequences) {
  NEWSRL_REQUIRE_GPU();
  check({2, 80, 80, 14, 2, 64, 0, true}, 1);    // Qwen2.5-0.5B's heads; 80 = one tile and a part
  check({1, 70, 70, 14, 2, 128, 0, true}, 11);  // head_dim 128 (the 7B and 32B models)
  check({1, 130, 130, 4, 4, 64, 0, true}, 21);  // three tiles, one kv head per query head
}

TEST(CudaAttention, CausalWithAKvCache) {
  NEWSRL_REQUIRE_GPU();
  check({2, 1, 97, 14, 2, 64, 96, true}, 31);    // decoding one token
  check({1, 5, 100, 14, 2, 128, 95, true}, 41);  // a few tokens after a prompt
  check({1, 40, 150, 4, 2, 64, 110, true}, 51);  // a chunk of a long prompt: tiles straddle the cache
  check({1, 30, 90, 2, 1, 64, 10, true}, 61);    // keys past the last query's horizon stay unseen
}

TEST(CudaAttention, DecodingStepsOfManySequencesOverALongCache) {
  NEWSRL_REQUIRE_GPU();
  // Eight queries or fewer take the decoding kernel (warps split the keys).
  check({1, 1, 1064, 8 * 14, 8 * 2, 64, 1063, true}, 111);  // lockstep: 8 sequences as 112 heads, one token each
  check({3, 1, 1, 14, 2, 64, 0, true}, 121);                 // the first token: one key
  check({1, 8, 300, 14, 2, 128, 292, true}, 131);            // eight tokens at once, head_dim 128
  check({2, 2, 37, 4, 2, 24, 35, true}, 141);                // head_dim under one warp's width
  check({1, 3, 50, 6, 3, 100, 0, false}, 151);               // not causal: every query sees every key
  check({1, 9, 90, 2, 1, 64, 81, true}, 161);                // nine: the tiled kernel again
}

TEST(CudaAttention, NotCausalAndOddHeadDims) {
  NEWSRL_REQUIRE_GPU();
  check({2, 77, 77, 4, 4, 40, 0, false}, 71);   // an encoder: every query sees every key
  check({1, 20, 90, 6, 3, 24, 0, false}, 81);   // fewer queries than keys
  check({1, 33, 33, 2, 2, 100, 0, true}, 91);   // head_dim between 64 and 128
  check({1, 50, 50, 3, 1, 30, 0, true}, 101);  // head_dim not a multiple of 4: zero-padded in shared memory
}

// ||got - want|| / ||want|| over the elements, with `base` taken off both
// first (a backward adds into its gradients: compare what it added).
double relative_error(const Tensor& got, const Tensor& want, const Tensor& base = Tensor()) {
  const std::vector<float> g = on_cpu(got).to_vector<float>(), w = on_cpu(want).to_vector<float>();
  const std::vector<float> b = base.defined() ? base.to_vector<float>() : std::vector<float>(g.size(), 0.0f);
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double x = static_cast<double>(g[i]) - b[i], y = static_cast<double>(w[i]) - b[i];
    diff += (x - y) * (x - y);
    norm += y * y;
  }
  return std::sqrt(diff / norm);
}

// With the matmul precision at bf16, more than eight queries run on the tensor
// cores: q, k, v, P, dout and dS rounded to bf16, so the comparison with the
// float32 CPU is by relative error over each output (bf16 keeps 8 bits: a
// product is off by up to 2^-9, a sum of them by about that over its norm).
void check_tensor_cores(const Case& c, std::uint64_t seed) {
  SCOPED_TRACE(c.name() + " on the tensor cores");
  struct Guard {
    Guard() { set_matmul_precision(MatmulPrecision::bf16); }
    ~Guard() { set_matmul_precision(MatmulPrecision::f32); }
  } guard;
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.dim));
  const Tensor q = random_tensor({c.batch, c.tq, c.hq, c.dim}, seed, -2.0f, 2.0f);
  const Tensor k = random_tensor({c.batch, c.tk, c.hkv, c.dim}, seed + 1, -2.0f, 2.0f);
  const Tensor v = random_tensor({c.batch, c.tk, c.hkv, c.dim}, seed + 2);
  const Tensor dout = random_tensor(q.shape(), seed + 3);
  Tensor out = Tensor::empty(q.shape()), lse = Tensor::empty({c.batch, c.hq, c.tq});
  Tensor out_gpu = Tensor::empty(q.shape(), DType::f32, Device::cuda);
  Tensor lse_gpu = Tensor::empty(lse.shape(), DType::f32, Device::cuda);
  attention_forward(out, lse, q, k, v, c.q_offset, scale, c.causal);
  attention_forward(out_gpu, lse_gpu, on_gpu(q), on_gpu(k), on_gpu(v), c.q_offset, scale, c.causal);
  const double out_err = relative_error(out_gpu, out);
  expect_close(lse_gpu, lse, 2e-2f, 0.0f, "lse");

  const Tensor dq0 = random_tensor(q.shape(), seed + 4), dk0 = random_tensor(k.shape(), seed + 5);
  const Tensor dv0 = random_tensor(v.shape(), seed + 6);
  Tensor dq = dq0.clone(), dk = dk0.clone(), dv = dv0.clone();
  Tensor dq_gpu = on_gpu(dq0), dk_gpu = on_gpu(dk0), dv_gpu = on_gpu(dv0);
  attention_backward(dq, dk, dv, dout, q, k, v, out, lse, c.q_offset, scale, c.causal);
  // The GPU's backward from its own forward, as in training.
  attention_backward(dq_gpu, dk_gpu, dv_gpu, on_gpu(dout), on_gpu(q), on_gpu(k), on_gpu(v), out_gpu, lse_gpu,
                     c.q_offset, scale, c.causal);
  const double dq_err = relative_error(dq_gpu, dq, dq0), dk_err = relative_error(dk_gpu, dk, dk0);
  const double dv_err = relative_error(dv_gpu, dv, dv0);
  std::printf("  %s: relative error out %.2e dq %.2e dk %.2e dv %.2e\n", c.name().c_str(), out_err, dq_err, dk_err,
              dv_err);
  EXPECT_LT(out_err, 1e-2);
  EXPECT_LT(dq_err, 2e-2);
  EXPECT_LT(dk_err, 2e-2);
  EXPECT_LT(dv_err, 1e-2);
}

TEST(CudaAttention, TensorCoresAtMatmulPrecisionBf16) {
  NEWSRL_REQUIRE_GPU();
  check_tensor_cores({2, 80, 80, 14, 2, 64, 0, true}, 201);     // Qwen2.5-0.5B's heads
  check_tensor_cores({1, 70, 70, 14, 2, 128, 0, true}, 211);    // head_dim 128
  check_tensor_cores({1, 200, 200, 4, 4, 64, 0, true}, 221);    // four tiles, one kv head per query head
  check_tensor_cores({1, 40, 150, 4, 2, 64, 110, true}, 231);   // a prompt chunk after a cache
  check_tensor_cores({2, 77, 77, 4, 4, 40, 0, false}, 241);     // not causal, head_dim padded to 48
  check_tensor_cores({1, 50, 50, 3, 1, 30, 0, true}, 251);      // head_dim 30: padded to 32
  check_tensor_cores({1, 33, 33, 2, 2, 100, 0, true}, 261);     // head_dim 100: padded to 112
  check_tensor_cores({1, 9, 90, 2, 1, 64, 81, true}, 271);      // nine queries: just past the decode kernel
  EXPECT_EQ(matmul_precision(), MatmulPrecision::f32);
}

TEST(CudaAttention, TooLargeAHeadIsOneClearLine) {
  NEWSRL_REQUIRE_GPU();
  const Tensor q = on_gpu(random_tensor({1, 2, 1, 256}, 1)), k = on_gpu(random_tensor({1, 2, 1, 256}, 2));
  Tensor out = Tensor::empty(q.shape(), DType::f32, Device::cuda);
  Tensor lse = Tensor::empty({1, 1, 2}, DType::f32, Device::cuda);
  try {
    attention_forward(out, lse, q, k, k, 0, 0.1f, true);
    FAIL() << "a 256-wide head ran";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("head_dim 256 has no cuda kernel"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
