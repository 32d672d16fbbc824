// Generation and scoring with a causal LM. Generation is batched over
// prompts of any lengths, keeps a KV cache per layer, and samples greedily or
// with temperature, top-k and top-p, stopping each sequence at its stop
// tokens; it is reproducible for a seed (each sequence draws from its own
// stream, so a sequence's tokens do not depend on the rest of the batch).
// Scoring returns the log-probabilities of given continuations.
#pragma once

#include <cstdint>
#include <vector>

#include "models/causal_lm.h"

namespace newsrl::models {

struct SamplingOptions {
  int max_new_tokens = 32;
  float temperature = 1.0f;  // 0: greedy
  int top_k = 0;             // 0: no limit
  float top_p = 1.0f;        // 1: no nucleus cut
  std::vector<std::int32_t> stop_tokens;
  std::uint64_t seed = 0;
  // Sequence i draws from stream first_stream + i of the seed: a batch split
  // across workers samples what it would as one batch.
  std::uint64_t first_stream = 0;
  // bf16: decode from bfloat16 copies of the weight matrices (made once per
  // call; half the bytes read per token, float32 activations and sums).
  kernels::DType weights = kernels::DType::f32;
  // Prompts of one length decode in lockstep: every step runs every sequence
  // (a finished one on its last token, unread) as one batch of heads, one
  // kernel per op however many sequences. Always so on a GPU; on the CPU only
  // when set (there the sequences otherwise run side by side on the threads).
  bool lockstep = false;
};

struct Generated {
  std::vector<std::int32_t> tokens;  // the new tokens, the stop token included when one was drawn
  // Each new token's log-probability under the model at the sampling
  // temperature (log softmax(logits / temperature); temperature 1 when greedy),
  // before any top-k or top-p cut.
  std::vector<float> logprobs;
  bool stopped = false;  // ended on a stop token (else on max_new_tokens)
};

std::vector<Generated> generate(CausalLM& model, const std::vector<std::vector<std::int32_t>>& prompts,
                                const SamplingOptions& options);

struct Scored {
  std::vector<float> logprobs;  // log p(continuation[i] | prompt, continuation[:i])
  Tensor rows;                  // with full_rows: the log-softmax rows [len, vocab]
};

// Log-probabilities of each continuation after its prompt, one forward per pair.
std::vector<Scored> score(CausalLM& model, const std::vector<std::vector<std::int32_t>>& prompts,
                          const std::vector<std::vector<std::int32_t>>& continuations, bool full_rows = false);

}  // namespace newsrl::models
