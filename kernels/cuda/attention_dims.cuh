// What the attention kernels of attention.cu (float32) and attention_tc.cu
// (bf16 tensor cores) share: the shape of one call and the causal horizon.
// Included only from those two files.
#pragma once

namespace newsrl::kernels::cuda {

struct AttentionDims {
  int batch, tq, tk, hq, hkv, dim;
  long long q_offset;
  float scale;
  bool causal;
};

// Keys a query at position t (0-based among the queries) may see: [0, limit).
__device__ __forceinline__ long long visible_limit(const AttentionDims& p, long long t) {
  if (!p.causal) return p.tk;
  const long long end = p.q_offset + t + 1;
  return end < p.tk ? end : p.tk;
}

// The tensor-core kernels (attention_tc.cu): bf16 products with float32
// softmax, accumulation, inputs and outputs, for head_dim up to 128. The
// backward adds into dq, dk and dv; delta[b, h, t] = sum_d dout * out.
constexpr int kTensorCoreMaxHeadDim = 128;
void attention_forward_tc(float* out, float* lse, const float* q, const float* k, const float* v,
                          const AttentionDims& p);
void attention_backward_tc(float* dq, float* dk, float* dv, const float* q, const float* k, const float* v,
                           const float* dout, const float* lse, const float* delta, const AttentionDims& p);

}  // namespace newsrl::kernels::cuda
