// The small bidirectional encoder classifier (RoBERTa-style) that cleans
// noisy signals: word + learned position embeddings → LayerNorm, blocks of
// bidirectional multi-head self-attention → residual → LayerNorm → GELU MLP
// → residual → LayerNorm (post-LayerNorm, as in BERT and RoBERTa), and
// RoBERTa's classification head on the first token's final hidden state:
// dense → tanh → out_proj → logits. Parameters carry Hugging Face's
// RobertaForSequenceClassification names.
//
// A batch holds sequences of one length: there is no padding and no
// attention mask, so the caller buckets sequences by length (predict_proba
// does this for inference). Position t of every sequence uses position
// embedding t, from 0: RoBERTa's offset of padding_idx + 1 is not used, and
// there are no token-type embeddings.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/encoder_config.h"
#include "models/graph.h"

namespace newsrl::models {

class EncoderClassifier {
 public:
  explicit EncoderClassifier(const EncoderConfig& config);  // parameters allocated (zeros), not initialised

  const EncoderConfig& config() const { return config_; }
  // Normal(0, 0.02) weights and embeddings, zero biases, LayerNorm weight 1
  // and bias 0; seeded. Also seeds the dropout masks.
  void init(std::uint64_t seed);
  // Every parameter in a fixed order (embeddings, layers in order, head).
  const std::vector<Parameter*>& parameters() const { return order_; }
  Parameter& parameter(const std::string& name);
  void zero_grad();

  // Logits [B, num_labels] of input ids [B, T] (int32, 1 <= T <=
  // max_position_embeddings, every sequence of the batch the same length).
  // With trainable = false nothing is recorded for a backward and dropout is
  // off; with trainable = true and hidden_dropout_prob > 0, dropout is applied
  // where RoBERTa applies it (after the embeddings, after each attention and
  // MLP output, twice in the head), each call with fresh masks.
  Value logits(Graph& g, const Tensor& ids, bool trainable = true);
  // Mean cross-entropy of the logits against labels [B] (int32 in [0, num_labels)).
  Value loss(Graph& g, const Tensor& ids, const Tensor& labels);

  // P(label) for each sequence, any mix of lengths: bucketed by length and
  // run in batches of at most batch_size sequences. Row i holds
  // num_labels probabilities of sequences[i]. Empty or too long sequences
  // and ids outside the vocabulary are refused with one line naming the index.
  std::vector<std::vector<float>> predict_proba(const std::vector<std::vector<std::int32_t>>& sequences,
                                                std::int64_t batch_size = 64);

  // The dropout masks' seed; each training call advances a counter after it.
  void set_dropout_seed(std::uint64_t seed) {
    dropout_seed_ = seed;
    dropout_calls_ = 0;
  }

  struct Block {
    Parameter *q, *q_bias, *k, *k_bias, *v, *v_bias, *attn_out, *attn_out_bias, *attn_norm, *attn_norm_bias;
    Parameter *inter, *inter_bias, *out, *out_bias, *out_norm, *out_norm_bias;
  };

 private:
  void add(const std::string& name, const Shape& shape);
  Value dropout(Graph& g, Value x, bool trainable);
  EncoderConfig config_;
  std::map<std::string, std::unique_ptr<Parameter>> params_;
  std::vector<Parameter*> order_;
  std::vector<Block> blocks_;
  Parameter *word_ = nullptr, *position_ = nullptr, *embed_norm_ = nullptr, *embed_norm_bias_ = nullptr;
  Parameter *head_dense_ = nullptr, *head_dense_bias_ = nullptr, *head_out_ = nullptr, *head_out_bias_ = nullptr;
  std::uint64_t dropout_seed_ = 0, dropout_calls_ = 0;
};

}  // namespace newsrl::models
