// Generation with the KV cache against full forwards, reproducible sampling,
// stop tokens, and scoring.
#include "models/generation.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace newsrl;
using namespace newsrl::models;

namespace {

CausalLM tiny_model() {
  Qwen2Config c = Qwen2Config::preset("nano");
  c.vocab_size = 97;
  c.num_hidden_layers = 2;
  CausalLM m(c);
  m.init(5);
  // Larger weights than the 0.02 initialisation, so that the next token is not a coin toss.
  for (Parameter* p : m.parameters()) {
    if (p->value.ndim() == 2) kernels::scale(p->value, 10.0f);
  }
  return m;
}

// The next token by a full forward over the whole sequence, no cache.
std::int32_t argmax_next(CausalLM& m, const std::vector<std::int32_t>& seq) {
  Graph g;
  const std::int64_t t = static_cast<std::int64_t>(seq.size()), v = m.config().vocab_size;
  const Tensor logits = m.logits(g, Tensor::from(seq, {1, t}), false).tensor();
  const float* row = logits.data<float>() + (t - 1) * v;
  return static_cast<std::int32_t>(std::max_element(row, row + v) - row);
}

}  // namespace

TEST(Generation, GreedyWithTheCacheEqualsArgmaxOfFullForwards) {
  CausalLM m = tiny_model();
  const std::vector<std::vector<std::int32_t>> prompts = {{1, 2, 3}, {40, 41, 42, 43, 44, 45}, {7}};
  SamplingOptions o;
  o.temperature = 0.0f;
  o.max_new_tokens = 6;
  const auto out = generate(m, prompts, o);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    std::vector<std::int32_t> seq = prompts[i];
    for (std::int32_t token : out[i].tokens) {
      EXPECT_EQ(token, argmax_next(m, seq)) << "sequence " << i << " after " << seq.size() << " tokens";
      seq.push_back(token);
    }
    EXPECT_EQ(out[i].tokens.size(), 6u);
  }
}

TEST(Generation, LogProbsAgreeWithScoring) {
  CausalLM m = tiny_model();
  SamplingOptions o;
  o.temperature = 1.0f;
  o.max_new_tokens = 5;
  o.seed = 3;
  const std::vector<std::vector<std::int32_t>> prompts = {{5, 6, 7}, {8, 9}};
  const auto gen = generate(m, prompts, o);
  const auto scored = score(m, prompts, {gen[0].tokens, gen[1].tokens}, true);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_EQ(scored[i].logprobs.size(), gen[i].tokens.size());
    for (std::size_t j = 0; j < gen[i].tokens.size(); ++j) {
      EXPECT_NEAR(gen[i].logprobs[j], scored[i].logprobs[j], 2e-4) << "sequence " << i << " token " << j;
    }
    EXPECT_EQ(scored[i].rows.dim(0), static_cast<std::int64_t>(gen[i].tokens.size()));
    EXPECT_EQ(scored[i].rows.dim(1), m.config().vocab_size);
  }
}

// The policies' real shapes on prompts as long as the results run's (384
// tokens, several lengths in one batch): the cache's log-probs are the full
// forward's, so a memorised target is decoded as scored.
TEST(Generation, LongPromptsAtThePolicyPresetsDecodeAsTheyScore) {
  for (const char* preset : {"micro", "mini"}) {
    CausalLM m(Qwen2Config::preset(preset));
    m.init(11);
    for (Parameter* p : m.parameters()) {
      if (p->value.ndim() == 2) kernels::scale(p->value, 5.0f);
    }
    std::vector<std::vector<std::int32_t>> prompts;
    for (int length : {384, 250, 37}) {
      std::vector<std::int32_t> prompt;
      for (int i = 0; i < length; ++i) prompt.push_back(static_cast<std::int32_t>((i * 7919 + length * 31) % 2000 + 3));
      prompts.push_back(prompt);
    }
    SamplingOptions o;
    o.temperature = 1.0f;
    o.max_new_tokens = 24;
    o.seed = 4;
    const auto gen = generate(m, prompts, o);
    const auto scored = score(m, prompts, {gen[0].tokens, gen[1].tokens, gen[2].tokens}, false);
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      ASSERT_EQ(scored[i].logprobs.size(), gen[i].tokens.size()) << preset;
      for (std::size_t j = 0; j < gen[i].tokens.size(); ++j) {
        EXPECT_NEAR(gen[i].logprobs[j], scored[i].logprobs[j], 1e-3) << preset << " sequence " << i << " token " << j;
      }
    }
  }
}

TEST(Generation, BFloat16WeightsDecodeTheModelWithRoundedMatrices) {
  // Decoding from bf16 copies must be the model whose weight matrices are
  // rounded to bf16 and then run in float32: same greedy tokens as its full
  // forwards, same log-probs as scoring it. Untied, so that the embedding
  // lookup (kept in float32) and the LM head (bf16) are different tensors.
  Qwen2Config c = Qwen2Config::preset("nano");
  c.vocab_size = 97;
  c.num_hidden_layers = 2;
  c.tie_word_embeddings = false;
  CausalLM m(c);
  m.init(6);
  for (Parameter* p : m.parameters()) {
    if (p->value.ndim() == 2) kernels::scale(p->value, 10.0f);
  }
  SamplingOptions o;
  o.temperature = 0.0f;
  o.max_new_tokens = 6;
  o.weights = kernels::DType::bf16;
  const std::vector<std::vector<std::int32_t>> prompts = {{1, 2, 3}, {40, 41, 42, 43, 44, 45}, {7}};
  const auto out = generate(m, prompts, o);
  for (Parameter* p : m.parameters()) {
    if (p->value.ndim() != 2 || p == &m.embeddings()) continue;
    Tensor rounded = Tensor::empty(p->value.shape(), kernels::DType::bf16);
    kernels::copy(rounded, p->value);
    kernels::copy(p->value, rounded);
  }
  const auto scored = score(m, prompts, {out[0].tokens, out[1].tokens, out[2].tokens});
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    std::vector<std::int32_t> seq = prompts[i];
    for (std::size_t j = 0; j < out[i].tokens.size(); ++j) {
      EXPECT_EQ(out[i].tokens[j], argmax_next(m, seq)) << "sequence " << i << " after " << seq.size() << " tokens";
      EXPECT_NEAR(out[i].logprobs[j], scored[i].logprobs[j], 2e-4) << "sequence " << i << " token " << j;
      seq.push_back(out[i].tokens[j]);
    }
  }
}

TEST(Generation, SamplingIsReproducibleAndIndependentOfTheBatch) {
  CausalLM m = tiny_model();
  SamplingOptions o;
  o.temperature = 1.2f;
  o.top_k = 20;
  o.top_p = 0.9f;
  o.max_new_tokens = 8;
  o.seed = 11;
  const auto a = generate(m, {{1, 2}, {3, 4, 5}}, o);
  const auto b = generate(m, {{1, 2}, {3, 4, 5}}, o);
  EXPECT_EQ(a[0].tokens, b[0].tokens);
  EXPECT_EQ(a[1].tokens, b[1].tokens);
  const auto alone = generate(m, {{1, 2}}, o);
  EXPECT_EQ(alone[0].tokens, a[0].tokens);  // its own random stream, whatever else is in the batch
  o.seed = 12;
  const auto c = generate(m, {{1, 2}, {3, 4, 5}}, o);
  EXPECT_TRUE(c[0].tokens != a[0].tokens || c[1].tokens != a[1].tokens);
}

TEST(Generation, TopKOfOneIsGreedyAndStopTokensEndASequence) {
  CausalLM m = tiny_model();
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  greedy.max_new_tokens = 6;
  SamplingOptions top1 = greedy;
  top1.temperature = 0.7f;
  top1.top_k = 1;
  EXPECT_EQ(generate(m, {{9, 8, 7}}, greedy)[0].tokens, generate(m, {{9, 8, 7}}, top1)[0].tokens);

  const auto free_run = generate(m, {{9, 8, 7}}, greedy)[0];
  SamplingOptions stopping = greedy;
  stopping.stop_tokens = {free_run.tokens[2]};
  const auto stopped = generate(m, {{9, 8, 7}}, stopping)[0];
  EXPECT_TRUE(stopped.stopped);
  const auto first = std::find(free_run.tokens.begin(), free_run.tokens.end(), free_run.tokens[2]);
  EXPECT_EQ(stopped.tokens, std::vector<std::int32_t>(free_run.tokens.begin(), first + 1));
  EXPECT_FALSE(free_run.stopped);
}

// Lockstep decoding (the GPU's batched path: position-major rows, all
// sequences as one sequence of many heads) chooses what per-sequence decoding
// does, including when a stop token ends one sequence early.
TEST(Generation, LockstepDecodingEqualsPerSequenceDecoding) {
  CausalLM m = tiny_model();
  const std::vector<std::vector<std::int32_t>> prompts = {{1, 2, 3, 4}, {40, 41, 42, 43}, {7, 7, 7, 7}, {90, 3, 5, 8}};
  SamplingOptions o;
  o.temperature = 0.0f;
  o.max_new_tokens = 7;
  const std::vector<std::int32_t> first = generate(m, {prompts[0]}, o)[0].tokens;
  o.stop_tokens = {first[1]};  // ends sequence 0 after two tokens, unless another stops it sooner
  const auto per_sequence = generate(m, prompts, o);
  o.lockstep = true;
  const auto lockstep = generate(m, prompts, o);
  ASSERT_EQ(lockstep.size(), per_sequence.size());
  EXPECT_LE(per_sequence[0].tokens.size(), 2u);
  bool some_ran_on = false;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(lockstep[i].tokens, per_sequence[i].tokens) << "sequence " << i;
    EXPECT_EQ(lockstep[i].stopped, per_sequence[i].stopped) << "sequence " << i;
    ASSERT_EQ(lockstep[i].logprobs.size(), per_sequence[i].logprobs.size());
    for (std::size_t j = 0; j < lockstep[i].logprobs.size(); ++j) {
      EXPECT_NEAR(lockstep[i].logprobs[j], per_sequence[i].logprobs[j], 1e-4f) << "sequence " << i << " token " << j;
    }
    some_ran_on = some_ran_on || per_sequence[i].tokens.size() > per_sequence[0].tokens.size();
  }
  EXPECT_TRUE(some_ran_on) << "no sequence outlived the stopped one";
  // Sampled, too: each sequence's own stream, the same draws.
  o.temperature = 1.0f;
  o.seed = 9;
  o.stop_tokens.clear();
  const auto sampled_lockstep = generate(m, prompts, o);
  o.lockstep = false;
  const auto sampled = generate(m, prompts, o);
  for (std::size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(sampled_lockstep[i].tokens, sampled[i].tokens) << i;
}

TEST(Generation, BadInputIsOneClearLine) {
  CausalLM m = tiny_model();
  SamplingOptions o;
  try {
    generate(m, {{1, 500}}, o);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "prompt 0: token id 500 is outside the vocabulary of 97");
  }
  EXPECT_THROW(generate(m, {{}}, o), std::invalid_argument);
  o.max_new_tokens = 5000;
  EXPECT_THROW(generate(m, {{1}}, o), std::invalid_argument);
}
