// The op table: every compute kernel newsrl uses, one table per device. A
// backend (kernels/cpu, kernels/cuda) fills in a table and nothing else; the
// functions below check shapes, dtypes and devices once, then call the table
// of the tensors' device. Conventions:
//   - tensors are contiguous and row-major; "rows" are all dimensions but the last;
//   - a forward writes its outputs whole;
//   - a backward ADDS into its gradient outputs (dx += ...), so that the
//     contributions of several consumers of a tensor sum up;
//   - float32 everywhere on the CPU (bfloat16 also for matmul's weights and
//     copy); integer ids and targets are int32.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/tensor.h"

namespace newsrl::kernels {

enum class Unary { silu, gelu, relu, tanh, sigmoid };  // gelu: the exact (erf) form
std::string_view unary_name(Unary op);

struct AdamW {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;  // decoupled: param -= lr * weight_decay * param
};

// The policy loss's clip range and KL weight (see OpTable::policy_loss_forward).
struct PolicyClip {
  float low = 0.2f;   // ratio floor 1 - low
  float high = 0.2f;  // ratio ceiling 1 + high
  float beta = 0.0f;  // weight of the k3 KL to a reference policy
};

// How float32 GEMMs use a GPU's tensor cores (PyTorch's
// set_float32_matmul_precision): f32 computes in float32 (the default, and
// what the tests compare to the CPU), tf32 rounds the inputs to TensorFloat-32
// (10-bit mantissa), bf16 to bfloat16 (7-bit); float32 accumulation and output
// in all three. One setting per process; the CPU always computes in float32.
enum class MatmulPrecision : std::uint8_t { f32, tf32, bf16 };
void set_matmul_precision(MatmulPrecision p);
MatmulPrecision matmul_precision();
std::string_view matmul_precision_name(MatmulPrecision p);
// "f32" / "tf32" / "bf16"; throws std::invalid_argument naming the choices otherwise.
MatmulPrecision parse_matmul_precision(std::string_view name);

// Sampling with a temperature, top-k and top-p (see OpTable::sample_rows).
struct SampleParams {
  float temperature = 1.0f;  // > 0
  int top_k = 0;             // 0: no limit
  float top_p = 1.0f;        // in (0, 1]; 1: no nucleus cut
};

// sample_rows counts probability in units of 2^-40: every sum is an exact
// integer, the same in any order and on any device.
inline constexpr double kSampleUnitsPerOne = 1099511627776.0;  // 2^40

// Targets equal to this are skipped by cross-entropy (Hugging Face's convention).
inline constexpr std::int32_t kIgnoreIndex = -100;

struct OpTable {
  // c = alpha * op(a) @ op(b) + beta * c. a: [..., M, K] ([..., K, M] when trans_a),
  // b: [K, N] or [..., K, N] ([N, K] / [..., N, K] when trans_b), c: [..., M, N].
  // A 2-D b is shared by every matrix of a batched a. b may be bfloat16 when it
  // is 2-D and transposed (y = x wᵀ with bf16 weights; fp32 accumulation).
  void (*matmul)(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, float alpha, float beta);
  void (*add_bias)(Tensor& y, const Tensor& bias);                                    // y[r, :] += bias
  void (*bias_backward)(Tensor& dbias, const Tensor& dy);                             // dbias += sum over rows of dy
  void (*embedding_forward)(Tensor& out, const Tensor& table, const Tensor& ids);     // out[i] = table[ids[i]]
  void (*embedding_backward)(Tensor& dtable, const Tensor& dout, const Tensor& ids);  // dtable[ids[i]] += dout[i]
  // out = x / rms(x) * w over the last dim; rstd[r] = 1 / rms of row r.
  void (*rmsnorm_forward)(Tensor& out, Tensor& rstd, const Tensor& x, const Tensor& w, float eps);
  void (*rmsnorm_backward)(Tensor& dx, Tensor& dw, const Tensor& dout, const Tensor& x, const Tensor& w,
                           const Tensor& rstd);
  void (*layernorm_forward)(Tensor& out, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                            float eps);
  void (*layernorm_backward)(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                             const Tensor& mean, const Tensor& rstd);
  // Rotary embedding, rotate-half: x [B, T, H, D], token t at position position0 + t,
  // frequency of pair i = theta^(-2i/D).
  void (*rope_forward)(Tensor& out, const Tensor& x, std::int64_t position0, float theta);
  void (*rope_backward)(Tensor& dx, const Tensor& dout, std::int64_t position0, float theta);
  // Grouped-query attention: q [B, Tq, Hq, D], k and v [B, Tk, Hkv, D], Hq a
  // multiple of Hkv. Causal: query t sees keys s <= q_offset + t (q_offset =
  // Tk - Tq with a KV cache); not causal (encoders): every query sees every
  // key and q_offset must be 0. out [B, Tq, Hq, D]; lse [B, Hq, Tq] keeps each
  // row's log-sum-exp for the backward.
  void (*attention_forward)(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                            std::int64_t q_offset, float scale, bool causal);
  void (*attention_backward)(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                             const Tensor& v, const Tensor& out, const Tensor& lse, std::int64_t q_offset, float scale,
                             bool causal);
  void (*swiglu_forward)(Tensor& out, const Tensor& gate, const Tensor& up);  // silu(gate) * up
  void (*swiglu_backward)(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate, const Tensor& up);
  void (*unary_forward)(Unary op, Tensor& out, const Tensor& x);
  void (*unary_backward)(Unary op, Tensor& dx, const Tensor& dout, const Tensor& x);
  // Softmax (or log-softmax) over the last dim; the backward takes the forward's output.
  void (*softmax_forward)(Tensor& out, const Tensor& x, bool log);
  void (*softmax_backward)(Tensor& dx, const Tensor& dout, const Tensor& out, bool log);
  // Cross-entropy fused with the logits: logits [N, V], targets [N]; losses[n] =
  // lse[n] - logits[n, target] (0 where the target is kIgnoreIndex). The backward
  // adds dlosses[n] * (softmax(logits[n]) - onehot(target)) without storing the softmax.
  void (*cross_entropy_forward)(Tensor& losses, Tensor& lse, const Tensor& logits, const Tensor& targets);
  void (*cross_entropy_backward)(Tensor& dlogits, const Tensor& dlosses, const Tensor& logits, const Tensor& lse,
                                 const Tensor& targets);
  // The clipped policy-gradient objective of PPO / Dr.GRPO, per token: with
  // ratio = exp(logp - old_logp), losses[i] = -min(ratio * adv, clip(ratio,
  // 1 - clip_low, 1 + clip_high) * adv) + beta * k3, where k3 = exp(ref - logp)
  // - (ref - logp) - 1 is the k3 estimate of KL(policy || reference) (beta = 0:
  // ref_logp may be undefined). All [N]. The backward adds dlosses * dloss/dlogp.
  void (*policy_loss_forward)(Tensor& losses, const Tensor& logp, const Tensor& old_logp, const Tensor& adv,
                              const Tensor& ref_logp, const PolicyClip& clip);
  void (*policy_loss_backward)(Tensor& dlogp, const Tensor& dlosses, const Tensor& logp, const Tensor& old_logp,
                               const Tensor& adv, const Tensor& ref_logp, const PolicyClip& clip);
  // Inverted dropout: mask holds 0 or 1/(1-p), drawn from (seed, element index).
  void (*dropout_forward)(Tensor& out, Tensor& mask, const Tensor& x, float p, std::uint64_t seed);
  void (*dropout_backward)(Tensor& dx, const Tensor& dout, const Tensor& mask);
  void (*add)(Tensor& out, const Tensor& a, const Tensor& b);   // out = a + b
  void (*mul)(Tensor& out, const Tensor& a, const Tensor& b);   // out = a * b
  void (*accumulate)(Tensor& y, const Tensor& x, float alpha);  // y += alpha * x
  void (*scale)(Tensor& x, float s);                            // x *= s
  void (*fill)(Tensor& x, float value);
  void (*copy)(Tensor& dst, const Tensor& src);  // same shape; casts float32 <-> bfloat16
  double (*sum_squares)(const Tensor& x);        // in double
  // The sum of the squares of every element of every tensor, in double, in
  // the order given (a global gradient norm with one wait for the device).
  double (*sum_squares_list)(const std::vector<const Tensor*>& xs);
  // Greedy decoding's choice per row of logits [R, V]: ids[r] = the lowest index
  // of the row's maximum, logprobs[r] = logits[r, ids[r]] - logsumexp(row),
  // the log-sum-exp accumulated in double. ids int32 [R], logprobs [R].
  void (*argmax_rows)(Tensor& ids, Tensor& logprobs, const Tensor& logits);
  // One draw per row of logits [R, V] (finite, not NaN) at temperature T, from
  // the row's uniform u in [0, 1) (uniforms [R], drawn by the caller from its
  // own random streams). Order the row by logit, highest first, the lower id
  // first on ties. The candidates are the first top_k of that order (0: all),
  // cut to its shortest prefix holding at least top_p of their probability.
  // A token's probability is exp((x - max) / T) in double, counted in whole
  // units of 2^-40 (kSampleUnitsPerOne); the draw walks the candidates in id
  // order and takes the one holding unit floor(u * their units). ids int32
  // [R]; logprobs [R] = log softmax(logits / T) at the id, before any cut, the
  // sum in double. (The host sampler of models/generation.cpp draws from the
  // same distribution by walking the candidates in logit order.)
  void (*sample_rows)(Tensor& ids, Tensor& logprobs, const Tensor& logits, const Tensor& uniforms,
                      const SampleParams& params);
  // One AdamW step (step counts from 1): moments m, v; decoupled weight decay.
  void (*adamw_step)(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamW& hp, std::int64_t step);
};

// The table of a device; throws when this build has no backend for it.
const OpTable& ops(Device device);

// ---- checked entry points -----------------------------------------------------
void matmul(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false, float alpha = 1.0f,
            float beta = 0.0f);
void add_bias(Tensor& y, const Tensor& bias);
void bias_backward(Tensor& dbias, const Tensor& dy);
void embedding_forward(Tensor& out, const Tensor& table, const Tensor& ids);
void embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids);
void rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& x, const Tensor& w, float eps);
void rmsnorm_backward(Tensor& dx, Tensor& dw, const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& rstd);
void layernorm_forward(Tensor& out, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                       float eps);
void layernorm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                        const Tensor& mean, const Tensor& rstd);
void rope_forward(Tensor& out, const Tensor& x, std::int64_t position0, float theta);
void rope_backward(Tensor& dx, const Tensor& dout, std::int64_t position0, float theta);
void attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                       std::int64_t q_offset, float scale, bool causal = true);
void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                        const Tensor& v, const Tensor& out, const Tensor& lse, std::int64_t q_offset, float scale,
                        bool causal = true);
void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up);
void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate, const Tensor& up);
void unary_forward(Unary op, Tensor& out, const Tensor& x);
void unary_backward(Unary op, Tensor& dx, const Tensor& dout, const Tensor& x);
void softmax_forward(Tensor& out, const Tensor& x, bool log = false);
void softmax_backward(Tensor& dx, const Tensor& dout, const Tensor& out, bool log = false);
void cross_entropy_forward(Tensor& losses, Tensor& lse, const Tensor& logits, const Tensor& targets);
void cross_entropy_backward(Tensor& dlogits, const Tensor& dlosses, const Tensor& logits, const Tensor& lse,
                            const Tensor& targets);
void policy_loss_forward(Tensor& losses, const Tensor& logp, const Tensor& old_logp, const Tensor& adv,
                         const Tensor& ref_logp, const PolicyClip& clip);
void policy_loss_backward(Tensor& dlogp, const Tensor& dlosses, const Tensor& logp, const Tensor& old_logp,
                          const Tensor& adv, const Tensor& ref_logp, const PolicyClip& clip);
void dropout_forward(Tensor& out, Tensor& mask, const Tensor& x, float p, std::uint64_t seed);
void dropout_backward(Tensor& dx, const Tensor& dout, const Tensor& mask);
void add(Tensor& out, const Tensor& a, const Tensor& b);
void mul(Tensor& out, const Tensor& a, const Tensor& b);
void accumulate(Tensor& y, const Tensor& x, float alpha = 1.0f);
void scale(Tensor& x, float s);
void fill(Tensor& x, float value);
void copy(Tensor& dst, const Tensor& src);
double sum_squares(const Tensor& x);
double sum_squares(const std::vector<const Tensor*>& xs);
void argmax_rows(Tensor& ids, Tensor& logprobs, const Tensor& logits);
void sample_rows(Tensor& ids, Tensor& logprobs, const Tensor& logits, const Tensor& uniforms,
                 const SampleParams& params);
void adamw_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamW& hp, std::int64_t step);

}  // namespace newsrl::kernels
