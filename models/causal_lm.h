// The Qwen2-family causal language model: token embeddings, blocks of
// RMSNorm → grouped-query self-attention with rotary embeddings (q/k/v with
// bias, o without) → residual → RMSNorm → SwiGLU MLP → residual, a final
// RMSNorm and the LM head (tied to the embeddings when the config says so).
// Parameters carry their Hugging Face names. A model lives on one device
// (the CPU unless moved with to()); everything it computes stays there.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/graph.h"
#include "models/qwen2_config.h"

namespace newsrl::models {

class CausalLM {
 public:
  // Parameters allocated (zeros) on `device`, not initialised.
  explicit CausalLM(const Qwen2Config& config, kernels::Device device = kernels::Device::cpu);

  const Qwen2Config& config() const { return config_; }
  kernels::Device device() const { return device_; }
  // Moves every parameter and its gradient to `device` (a copy; nothing when
  // already there). Optimizers made before hold moments on the old device:
  // make them after the move.
  void to(kernels::Device device);
  // Normal(0, 0.02) weights (Hugging Face's initializer_range), zero biases,
  // unit norms; seeded. Drawn on the host, so the same on every device.
  void init(std::uint64_t seed);
  // Every parameter in a fixed order (embeddings, layers in order, final norm, LM head).
  const std::vector<Parameter*>& parameters() const { return order_; }
  Parameter& parameter(const std::string& name);
  void zero_grad();

  // Logits [B, T, vocab] of input ids [B, T] (int32, on the host or the
  // model's device), on the model's device. With trainable = false
  // nothing is recorded for a backward (inference).
  Value logits(Graph& g, const Tensor& ids, bool trainable = true);
  // Logits [M, vocab] at M positions only (int32 [M] on the host, each
  // b * T + t: a row of the [B * T, vocab] logits): a loss that scores a few
  // positions of long sequences (a prompt's list) skips the LM head elsewhere.
  Value logits_at(Graph& g, const Tensor& ids, const Tensor& positions, bool trainable = true);
  // Mean next-token cross-entropy, Hugging Face's convention: logits at t
  // predict labels at t + 1; labels of kernels::kIgnoreIndex are skipped.
  Value loss(Graph& g, const Tensor& ids, const Tensor& labels);

  // Activation recomputation (gradient checkpointing), off by default: when
  // on, a trainable forward keeps only each block's input and output; the
  // block's inner activations (norms, q/k/v, attention, the MLP's 4.9x-wide
  // gate and up) are freed at once and computed again from the saved input
  // during the backward. Memory for activations falls from about 20 [B, T,
  // hidden]-sized tensors a layer to one, for one more forward pass of compute;
  // the gradients are the same bits.
  void set_recompute(bool on) { recompute_ = on; }
  bool recompute() const { return recompute_; }

  // A block's parameters, found once (a step would otherwise build their names
  // again and again); generation's cached decoder reads them too.
  struct Block {
    Parameter *input_norm, *q, *q_bias, *k, *k_bias, *v, *v_bias, *o, *post_norm, *gate, *up, *down;
  };
  const std::vector<Block>& blocks() const { return blocks_; }
  Parameter& embeddings() const { return *embed_; }
  Parameter& final_norm() const { return *final_norm_; }
  Parameter& lm_head() const { return *head_; }  // the embeddings when tied

 private:
  Parameter& add(const std::string& name, const Shape& shape);
  // The final norm's output [B, T, hidden], which the LM head reads.
  Value hidden(Graph& g, const Tensor& ids, bool trainable);
  // One decoder block on x [B, T, hidden].
  Value block(Graph& g, const Block& blk, Value x, bool trainable);
  // The same, its inner values freed and recomputed in the backward.
  Value recomputed_block(Graph& g, const Block& blk, Value x);
  bool recompute_ = false;
  kernels::Device device_ = kernels::Device::cpu;
  std::vector<Block> blocks_;
  Parameter *embed_ = nullptr, *final_norm_ = nullptr, *head_ = nullptr;
  Qwen2Config config_;
  std::map<std::string, std::unique_ptr<Parameter>> params_;
  std::vector<Parameter*> order_;
};

}  // namespace newsrl::models
