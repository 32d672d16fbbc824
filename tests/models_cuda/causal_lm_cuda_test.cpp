// Whole causal LMs on the GPU against the same models on the CPU: the loss
// and every parameter's gradient at float32 tolerance, one clipped AdamW step,
// the GRPO policy step's loss (with a KL reference) and its gradients, and
// greedy generation (the same tokens) — a `micro` model (tied embeddings)
// and a two-layer model of the qwen2.5-0.5b block shape (14 query heads over
// 2 key/value heads, biases on q/k/v, untied head) with a small vocabulary.
// Without a GPU every test reports itself skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "models/causal_lm.h"
#include "models/generation.h"
#include "models/optimizer.h"
#include "models/policy_step.h"
#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::models {
namespace {

using kernels::Device;
using kernels::cuda_test::expect_close;
using kernels::cuda_test::random_tensor;

Qwen2Config micro() { return Qwen2Config::preset("micro"); }

// The qwen2.5-0.5b block (hidden 896, MLP 4864, 14 heads over 2 KV heads of
// 64, q/k/v biases), two layers, a 512-token vocabulary, an untied head.
Qwen2Config small_qwen() {
  Qwen2Config c = Qwen2Config::preset("qwen2.5-0.5b");
  c.num_hidden_layers = 2;
  c.vocab_size = 512;
  c.tie_word_embeddings = false;
  return c;
}

// Sets a parameter of both models to the same host values.
void set_both(CausalLM& cpu, CausalLM& gpu, const std::string& name, const Tensor& host) {
  Parameter& a = cpu.parameter(name);
  Parameter& b = gpu.parameter(name);
  kernels::copy(a.value, host);
  kernels::copy(b.value, host.to(Device::cuda));
}

// The same weights on both devices: init from one seed, then non-zero biases
// (init leaves them zero) and larger embeddings, so that logits spread out and
// greedy choices are not near-ties.
void init_both(CausalLM& cpu, CausalLM& gpu, std::uint64_t seed) {
  cpu.init(seed);
  gpu.init(seed);
  std::uint64_t s = seed;
  for (Parameter* p : cpu.parameters()) {
    const std::string& n = p->name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0) {
      set_both(cpu, gpu, n, random_tensor(p->value.shape(), ++s, -0.5f, 0.5f));
    }
  }
  for (const char* name : {"model.embed_tokens.weight", "lm_head.weight"}) {
    bool has = false;
    for (Parameter* p : cpu.parameters()) has = has || p->name == name;
    if (!has) continue;
    Parameter& p = cpu.parameter(name);
    set_both(cpu, gpu, name, random_tensor(p.value.shape(), ++s, -1.0f, 1.0f));
  }
}

// Random ids [b, t] and labels: the ids, with a few positions ignored.
struct Batch {
  Tensor ids, labels;
};
Batch random_batch(std::int64_t b, std::int64_t t, std::int64_t vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> token(0, static_cast<std::int32_t>(vocab - 1));
  std::vector<std::int32_t> ids(static_cast<std::size_t>(b * t)), labels(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = token(rng);
    labels[i] = i % 5 == 2 ? kernels::kIgnoreIndex : ids[i];
  }
  return {Tensor::from(ids, {b, t}), Tensor::from(labels, {b, t})};
}

float max_abs(const Tensor& t) {
  const Tensor h = t.to(Device::cpu);
  float m = 0.0f;
  const float* p = h.data<float>();
  for (std::int64_t i = 0; i < h.numel(); ++i) m = std::max(m, std::abs(p[i]));
  return m;
}

// Gradients at float32 tolerance: each within 1e-3 of the largest of its
// tensor plus 1e-3 relative (sums of thousands of products in another order).
void expect_same_gradients(CausalLM& cpu, CausalLM& gpu) {
  for (Parameter* p : cpu.parameters()) {
    const Parameter& q = gpu.parameter(p->name);
    ASSERT_EQ(q.grad.device(), Device::cuda) << p->name;
    const float atol = 1e-3f * max_abs(p->grad) + 1e-7f;
    expect_close(q.grad, p->grad, atol, 1e-3f, p->name.c_str());
  }
}

void loss_and_gradients(const Qwen2Config& config, std::int64_t b, std::int64_t t, std::uint64_t seed) {
  CausalLM cpu(config);
  CausalLM gpu(config, Device::cuda);
  init_both(cpu, gpu, seed);
  for (Parameter* p : gpu.parameters()) ASSERT_EQ(p->value.device(), Device::cuda) << p->name;
  const Batch batch = random_batch(b, t, config.vocab_size, seed + 100);

  Graph gc, gg;
  cpu.zero_grad();
  gpu.zero_grad();
  const Value lc = cpu.loss(gc, batch.ids, batch.labels);
  const Value lg = gpu.loss(gg, batch.ids, batch.labels);
  ASSERT_EQ(lg.tensor().device(), Device::cuda);
  gc.backward(lc);
  gg.backward(lg);
  expect_close(lg.tensor(), lc.tensor(), 1e-4f, 1e-5f, "loss");
  expect_same_gradients(cpu, gpu);

  // One clipped AdamW step from those gradients gives the same weights. A
  // large eps keeps the first step's update lr * g / (|g| + eps) smooth in g
  // (with a tiny eps it is lr * sign(g), which a gradient of 1e-9 on one
  // device and -1e-9 on the other would flip); lr 0.1 makes it about 10 g.
  kernels::AdamW hp;
  hp.lr = 0.1f;
  hp.eps = 1e-2f;
  hp.weight_decay = 0.1f;
  Schedule schedule;
  schedule.peak_lr = schedule.min_lr = 0.1f;
  Optimizer oc(cpu.parameters(), hp, schedule, 0.5f);
  Optimizer og(gpu.parameters(), hp, schedule, 0.5f);
  const double nc = oc.step(), ng = og.step();
  EXPECT_NEAR(ng, nc, 1e-4 * nc) << "gradient norm";
  for (Parameter* p : cpu.parameters()) {
    const Parameter& q = gpu.parameter(p->name);
    // Updates of about 1e-3 (10 g): weights within 1e-4 of the CPU's.
    expect_close(q.value, p->value, 1e-4f, 1e-4f, (p->name + " after AdamW").c_str());
  }
}

// Greedy tokens and their log-probabilities on both devices. Prompts of
// different lengths decode per sequence on the GPU; prompts of one length in
// lockstep (all sequences in one batched kernel per op), there with a stop
// token that ends one sequence early (the CPU's third token of prompt 0).
void greedy_generation(const Qwen2Config& config, std::uint64_t seed, bool equal_lengths) {
  CausalLM cpu(config);
  CausalLM gpu(config, Device::cuda);
  init_both(cpu, gpu, seed);
  std::vector<std::vector<std::int32_t>> prompts = {
      {5, 17, 300, 2, 9}, {1}, {40, 41, 42, 43, 44, 45, 46, 47, 48}, {7, 7, 7}};
  if (equal_lengths)
    prompts = {{5, 17, 300, 2, 9, 11}, {1, 2, 3, 4, 5, 6}, {40, 41, 42, 43, 44, 45}, {7, 7, 7, 7, 7, 7}};
  SamplingOptions o;
  o.max_new_tokens = 8;
  o.temperature = 0.0f;
  std::size_t stop_at = 0;  // with a stop token: prompt 0 ends after stop_at + 1 tokens
  if (equal_lengths) {
    // The first of prompt 0's tokens, after its first, that it has not drawn before.
    const std::vector<std::int32_t> alone = generate(cpu, {prompts[0]}, o)[0].tokens;
    for (std::size_t j = 1; j < alone.size() && stop_at == 0; ++j) {
      if (std::find(alone.begin(), alone.begin() + static_cast<long>(j), alone[j]) ==
          alone.begin() + static_cast<long>(j)) {
        stop_at = j;
      }
    }
    if (stop_at > 0) o.stop_tokens = {alone[stop_at]};
  }
  const std::vector<Generated> a = generate(cpu, prompts, o);
  const std::vector<Generated> b = generate(gpu, prompts, o);
  ASSERT_EQ(a.size(), b.size());
  if (stop_at > 0) {
    EXPECT_TRUE(a[0].stopped);
    EXPECT_EQ(a[0].tokens.size(), stop_at + 1);
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i].tokens, a[i].tokens) << "prompt " << i;
    EXPECT_EQ(b[i].stopped, a[i].stopped) << "prompt " << i;
    ASSERT_EQ(b[i].logprobs.size(), a[i].logprobs.size());
    for (std::size_t j = 0; j < a[i].logprobs.size(); ++j) {
      EXPECT_NEAR(b[i].logprobs[j], a[i].logprobs[j], 1e-3f + 1e-3f * std::abs(a[i].logprobs[j]))
          << "prompt " << i << " token " << j;
    }
  }
}

// The learner's policy-gradient loss (clipped ratio, KL to a reference, a
// sampling temperature) and its gradients: right-padded samples of different
// lengths, host-side old log-probs and advantages.
TEST(CausalLMCuda, MicroPolicyStepMatchesTheCpu) {
  NEWSRL_REQUIRE_GPU();
  const Qwen2Config config = micro();
  CausalLM cpu(config), ref_cpu(config);
  CausalLM gpu(config, Device::cuda), ref_gpu(config, Device::cuda);
  init_both(cpu, gpu, 21);
  init_both(ref_cpu, ref_gpu, 22);
  std::vector<PolicySample> batch(3);
  batch[0] = {{3, 4, 5}, {6, 7, 8, 9}, {-2.0f, -1.5f, -3.0f, -0.5f}, 1.0f};
  batch[1] = {{10}, {11, 12}, {-1.0f, -2.5f}, -0.5f};
  batch[2] = {{20, 21, 22, 23, 24}, {25}, {-4.0f}, 0.25f};
  PolicyStepOptions o;
  o.clip.beta = 0.05f;
  o.temperature = 0.8f;
  o.normaliser = 12.0f;
  Graph gc, gg;
  cpu.zero_grad();
  gpu.zero_grad();
  PolicyStepStats sc, sg;
  const Value lc = policy_step_loss(gc, cpu, batch, o, &sc, &ref_cpu);
  const Value lg = policy_step_loss(gg, gpu, batch, o, &sg, &ref_gpu);
  ASSERT_EQ(lg.tensor().device(), Device::cuda);
  gc.backward(lc);
  gg.backward(lg);
  expect_close(lg.tensor(), lc.tensor(), 1e-4f, 1e-4f, "policy loss");
  EXPECT_EQ(sg.tokens, sc.tokens);
  EXPECT_NEAR(sg.loss, sc.loss, 1e-4 + 1e-4 * std::abs(sc.loss));
  EXPECT_NEAR(sg.mean_ratio, sc.mean_ratio, 1e-4);
  EXPECT_NEAR(sg.kl, sc.kl, 1e-4 + 1e-3 * std::abs(sc.kl));
  expect_same_gradients(cpu, gpu);
}

TEST(CausalLMCuda, MicroLossAndGradientsMatchTheCpu) {
  NEWSRL_REQUIRE_GPU();
  loss_and_gradients(micro(), 2, 24, 11);
}

TEST(CausalLMCuda, QwenBlockShapeLossAndGradientsMatchTheCpu) {
  NEWSRL_REQUIRE_GPU();
  loss_and_gradients(small_qwen(), 2, 8, 12);
}

// Recomputing the blocks in the backward (CausalLM::set_recompute) on the GPU:
// the same kernels on the same inputs, so the same loss and gradients, bit
// for bit, as the GPU without it (the kernels are deterministic).
TEST(CausalLMCuda, QwenBlockShapeRecomputeGivesTheSameGradients) {
  NEWSRL_REQUIRE_GPU();
  const Qwen2Config config = small_qwen();
  CausalLM cpu(config);
  CausalLM gpu(config, Device::cuda);
  init_both(cpu, gpu, 13);
  const Batch batch = random_batch(2, 80, config.vocab_size, 113);
  for (const bool tensor_cores : {false, true}) {
    kernels::set_matmul_precision(tensor_cores ? kernels::MatmulPrecision::bf16 : kernels::MatmulPrecision::f32);
    std::vector<std::vector<float>> grads;
    float loss = 0;
    for (const bool recompute : {false, true}) {
      gpu.set_recompute(recompute);
      Graph g;
      gpu.zero_grad();
      const Value l = gpu.loss(g, batch.ids, batch.labels);
      g.backward(l);
      const float value = l.tensor().to_vector<float>()[0];
      if (!recompute) {
        loss = value;
        for (Parameter* p : gpu.parameters()) grads.push_back(p->grad.to_vector<float>());
        continue;
      }
      EXPECT_EQ(value, loss) << "tensor cores " << tensor_cores;
      for (std::size_t i = 0; i < grads.size(); ++i) {
        EXPECT_EQ(gpu.parameters()[i]->grad.to_vector<float>(), grads[i])
            << gpu.parameters()[i]->name << ", tensor cores " << tensor_cores;
      }
    }
  }
  kernels::set_matmul_precision(kernels::MatmulPrecision::f32);
  gpu.set_recompute(false);
}

TEST(CausalLMCuda, MovedModelGivesTheCpuLogits) {
  NEWSRL_REQUIRE_GPU();
  CausalLM cpu(micro());
  cpu.init(13);
  CausalLM moved(micro());
  moved.init(13);
  moved.to(Device::cuda);
  ASSERT_EQ(moved.device(), Device::cuda);
  const Batch batch = random_batch(1, 10, micro().vocab_size, 14);
  Graph gc, gg;
  const Tensor zc = cpu.logits(gc, batch.ids, false).tensor();
  const Tensor zg = moved.logits(gg, batch.ids.to(Device::cuda), false).tensor();
  ASSERT_EQ(zg.device(), Device::cuda);
  expect_close(zg, zc, 1e-5f, 1e-4f, "logits");
  // And back: the same weights, bit for bit.
  moved.to(Device::cpu);
  for (Parameter* p : cpu.parameters()) {
    const std::vector<float> want = p->value.to_vector<float>();
    EXPECT_EQ(moved.parameter(p->name).value.to_vector<float>(), want) << p->name;
  }
}

TEST(CausalLMCuda, MicroGreedyGenerationMatchesTheCpu) {
  NEWSRL_REQUIRE_GPU();
  greedy_generation(micro(), 15, false);
}

TEST(CausalLMCuda, QwenBlockShapeGreedyGenerationMatchesTheCpu) {
  NEWSRL_REQUIRE_GPU();
  greedy_generation(small_qwen(), 16, false);
}

TEST(CausalLMCuda, MicroLockstepGenerationMatchesTheCpu) {
  NEWSRL_REQUIRE_GPU();
  greedy_generation(micro(), 17, true);
}

TEST(CausalLMCuda, QwenBlockShapeLockstepGenerationMatchesTheCpu) {
  NEWSRL_REQUIRE_GPU();
  greedy_generation(small_qwen(), 18, true);
}

// Draws with a temperature on the GPU (kernels::sample_rows, one uniform of
// each sequence's stream per token), per sequence and in lockstep: the same
// seed draws the same tokens; each token's log-prob is the CPU model's
// (temperature 1); top_k 1, and a nucleus of one token, are the greedy choice.
TEST(CausalLMCuda, MicroSampledGenerationOnTheGpu) {
  NEWSRL_REQUIRE_GPU();
  CausalLM cpu(micro());
  CausalLM gpu(micro(), Device::cuda);
  init_both(cpu, gpu, 19);
  const std::vector<std::vector<std::vector<std::int32_t>>> batches = {
      {{5, 17, 300, 2, 9}, {1}, {40, 41, 42, 43, 44, 45, 46}},  // per sequence
      {{5, 17, 300, 2, 9}, {1, 2, 3, 4, 5}, {40, 41, 42, 43, 44}}};  // lockstep
  for (const auto& prompts : batches) {
    SamplingOptions o;
    o.max_new_tokens = 8;
    o.temperature = 1.0f;
    o.seed = 3;
    const std::vector<Generated> a = generate(gpu, prompts, o), b = generate(gpu, prompts, o);
    std::vector<std::vector<std::int32_t>> drawn;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].tokens, b[i].tokens) << "prompt " << i;
      drawn.push_back(a[i].tokens);
    }
    const std::vector<Scored> want = score(cpu, prompts, drawn);
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].logprobs.size(), want[i].logprobs.size());
      for (std::size_t j = 0; j < a[i].logprobs.size(); ++j) {
        EXPECT_NEAR(a[i].logprobs[j], want[i].logprobs[j], 1e-3f + 1e-3f * std::abs(want[i].logprobs[j]))
            << "prompt " << i << " token " << j;
      }
    }
    SamplingOptions greedy = o;
    greedy.temperature = 0.0f;
    const std::vector<Generated> g = generate(cpu, prompts, greedy);
    SamplingOptions top1 = o, nucleus = o;
    top1.top_k = 1;
    nucleus.top_p = 1e-6f;
    const std::vector<Generated> k1 = generate(gpu, prompts, top1), p1 = generate(gpu, prompts, nucleus);
    for (std::size_t i = 0; i < g.size(); ++i) {
      EXPECT_EQ(k1[i].tokens, g[i].tokens) << "top_k 1, prompt " << i;
      EXPECT_EQ(p1[i].tokens, g[i].tokens) << "top_p 1e-6, prompt " << i;
    }
  }
}

}  // namespace
}  // namespace newsrl::models
