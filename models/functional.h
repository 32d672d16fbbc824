// Differentiable ops on graph values: each runs a kernel forward and records
// the kernel's backward. What a model is written in.
#pragma once

#include <cstdint>

#include "models/graph.h"

namespace newsrl::models::fn {

using kernels::Unary;

// Every op allocates its outputs on its inputs' device. Integer ids and
// targets, and the policy loss's constants, may live on the host or on that
// device: host ones are copied over (on the CPU that is no copy at all).

// table [V, D], ids int32 of any shape → [ids..., D]
Value embedding(Graph& g, Value table, const Tensor& ids);
// x [..., in] · w[out, in]ᵀ (+ b[out]) → [..., out]
Value linear(Graph& g, Value x, Value w, Value b = {});
Value rmsnorm(Graph& g, Value x, Value w, float eps);
Value layernorm(Graph& g, Value x, Value w, Value b, float eps);
// x [B, T, H, D], token t at position position0 + t
Value rope(Graph& g, Value x, std::int64_t position0, float theta);
// q [B, Tq, Hq, D], k and v [B, Tk, Hkv, D] → [B, Tq, Hq, D]; causal: query t
// at key position q_offset + t; not causal (encoders): every key, q_offset 0
Value attention(Graph& g, Value q, Value k, Value v, std::int64_t q_offset, float scale, bool causal = true);
Value swiglu(Graph& g, Value gate, Value up);
Value unary(Graph& g, Unary op, Value x);
Value add(Graph& g, Value a, Value b);
Value sub(Graph& g, Value a, Value b);  // a - b
Value mul(Graph& g, Value a, Value b);
Value scale(Graph& g, Value x, float s);  // x * s
Value softmax(Graph& g, Value x, bool log = false);
Value dropout(Graph& g, Value x, float p, std::uint64_t seed);
// The same elements under another shape (shares storage).
Value view(Graph& g, Value x, const Shape& shape);
// x [B, T, H] → [B, H]: each sequence's first position (an encoder's pooling);
// the gradient flows into those positions only.
Value first_token(Graph& g, Value x);
// Mean cross-entropy of logits [N, V] against int32 targets [N],
// over the targets that are not kernels::kIgnoreIndex → a one-element value.
// (The count of targets is taken on the host: device targets are read back.)
Value cross_entropy(Graph& g, Value logits, const Tensor& targets);
// log softmax(logits)[n, targets[n]] for each row → [N] (0 where the target is kIgnoreIndex).
Value token_logprobs(Graph& g, Value logits, const Tensor& targets);
// The clipped policy-gradient objective (kernels::PolicyClip) summed over
// tokens and divided by `normaliser` → a one-element value. logp [N] is the
// policy's (with gradient); old_logp, adv and ref_logp [N] are constants.
Value policy_loss(Graph& g, Value logp, const Tensor& old_logp, const Tensor& adv, const Tensor& ref_logp,
                  const kernels::PolicyClip& clip, float normaliser);

}  // namespace newsrl::models::fn
