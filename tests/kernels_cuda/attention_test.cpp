// Attention on the GPU against the CPU table: causal and not, grouped-query
// heads (14 query heads on 2 kv heads, as in Qwen2.5-0.5B), head_dim 64 and
// 128 and one that is not a multiple of 16, whole sequences and a KV cache
// (Tq < Tk with q_offset); forward outputs and lse, and the backward from
// non-zero gradients (it adds into them).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

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

TEST(CudaAttention, NotCausalAndOddHeadDims) {
  NEWSRL_REQUIRE_GPU();
  check({2, 77, 77, 4, 4, 40, 0, false}, 71);   // an encoder: every query sees every key
  check({1, 20, 90, 6, 3, 24, 0, false}, 81);   // fewer queries than keys
  check({1, 33, 33, 2, 2, 100, 0, true}, 91);   // head_dim between 64 and 128
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
