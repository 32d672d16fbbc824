// The Qwen2 causal LM against its PyTorch twin (tests/reference/qwen2_reference.py):
// logits, loss, every gradient, and ten AdamW steps; and the presets.
#include "models/causal_lm.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fixture.h"
#include "models/functional.h"

using namespace newsrl;
using namespace newsrl::models;

namespace {

const std::string kFixture = std::string(NEWSRL_TEST_FIXTURES) + "/qwen2_tiny.bin";

void expect_close(const Tensor& got, const Tensor& want, double rtol, double atol, const std::string& what) {
  ASSERT_EQ(got.numel(), want.numel()) << what;
  const float *g = got.data<float>(), *w = want.data<float>();
  int bad = 0;
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const double err = std::abs(static_cast<double>(g[i]) - w[i]);
    if (err > atol + rtol * std::abs(w[i]) && ++bad <= 3) {
      ADD_FAILURE() << what << "[" << i << "]: got " << g[i] << ", PyTorch " << w[i];
    }
  }
}

struct Twin {
  newsrl::testing::Fixture fx{kFixture};
  CausalLM model{Qwen2Config::from_json(nlohmann::json::parse(fx.text("config")), "fixture config")};
  Tensor ids = fx.tensor("input_ids"), labels = fx.tensor("labels");
  Twin() {
    for (Parameter* p : model.parameters()) {
      const Tensor w = fx.tensor("param/" + p->name);
      std::memcpy(p->value.raw(), w.raw(), w.bytes());
    }
  }
};

}  // namespace

TEST(CausalLM, LogitsLossAndEveryGradientMatchPyTorch) {
  Twin t;
  Graph g;
  expect_close(t.model.logits(g, t.ids).tensor(), t.fx.tensor("logits"), 1e-4, 2e-5, "logits");
  g.clear();
  t.model.zero_grad();
  Value loss = t.model.loss(g, t.ids, t.labels);
  expect_close(loss.tensor(), t.fx.tensor("loss"), 1e-5, 1e-6, "loss");
  g.backward(loss);
  for (Parameter* p : t.model.parameters()) expect_close(p->grad, t.fx.tensor("grad/" + p->name), 1e-3, 1e-6, p->name);
}

// A loss that scores a few positions (a warm start's list after its prompt) takes the LM head at those
// rows only (logits_at); its value and every gradient must equal the full logits' masked cross-entropy,
// which the test above holds to PyTorch.
TEST(CausalLM, ALossOnAFewPositionsEqualsTheFullLogitsMaskedLoss) {
  Twin t;
  const std::int64_t b = t.ids.dim(0), n = t.ids.dim(1), vocab = t.model.config().vocab_size;
  Tensor labels = Tensor::from(std::vector<std::int32_t>(static_cast<std::size_t>(b * n), kernels::kIgnoreIndex), {b, n});
  const std::int32_t* id = t.ids.data<std::int32_t>();
  std::int32_t* l = labels.data<std::int32_t>();
  const std::vector<std::int64_t> scored = {5, 6, n + 2};  // labels at t + 1 score positions t = 4, 5 and (1, 1)
  for (std::int64_t at : scored) l[at] = id[at];
  Graph g;
  t.model.zero_grad();
  Value few = t.model.loss(g, t.ids, labels);
  g.backward(few);
  std::vector<Tensor> grads;
  for (Parameter* p : t.model.parameters()) grads.push_back(p->grad.clone());

  g.clear();
  t.model.zero_grad();
  std::vector<std::int32_t> shifted(static_cast<std::size_t>(b * n), kernels::kIgnoreIndex);
  for (std::int64_t at : scored) shifted[static_cast<std::size_t>(at - 1)] = id[at];
  Value full = fn::cross_entropy(g, fn::view(g, t.model.logits(g, t.ids), {b * n, vocab}), Tensor::from(shifted, {b * n}));
  g.backward(full);
  expect_close(few.tensor(), full.tensor(), 1e-6, 1e-7, "loss");
  for (std::size_t i = 0; i < grads.size(); ++i) {
    Parameter* p = t.model.parameters()[i];
    expect_close(grads[i], p->grad, 1e-3, 1e-6, p->name);  // the sums run in another order
  }

  g.clear();
  const Tensor rows = Tensor::from(std::vector<std::int32_t>{4, 5, static_cast<std::int32_t>(n + 1)}, {3});
  const std::vector<float> at = t.model.logits_at(g, t.ids, rows, false).tensor().to_vector<float>();
  const std::vector<float> all = t.model.logits(g, t.ids, false).tensor().to_vector<float>();
  ASSERT_EQ(at.size(), static_cast<std::size_t>(3 * vocab));
  for (std::int64_t r = 0; r < 3; ++r) {
    for (std::int64_t v = 0; v < vocab; ++v) {
      EXPECT_NEAR(at[r * vocab + v], all[rows.data<std::int32_t>()[r] * vocab + v], 1e-5);
    }
  }
  const Tensor outside = Tensor::from(std::vector<std::int32_t>{static_cast<std::int32_t>(b * n)}, {1});
  EXPECT_THROW(t.model.logits_at(g, t.ids, outside), std::invalid_argument);
}

TEST(CausalLM, TenAdamWStepsFollowPyTorch) {
  Twin t;
  const std::vector<float> want = t.fx.tensor("adamw_losses").to_vector<float>();
  const kernels::AdamW hp{1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f};
  std::vector<Tensor> m, v;
  for (Parameter* p : t.model.parameters()) {
    m.push_back(Tensor::zeros(p->value.shape()));
    v.push_back(Tensor::zeros(p->value.shape()));
  }
  Graph g;
  for (std::size_t step = 0; step < want.size(); ++step) {
    g.clear();
    t.model.zero_grad();
    Value loss = t.model.loss(g, t.ids, t.labels);
    EXPECT_NEAR(loss.tensor().to_vector<float>()[0], want[step], 1e-4 * std::abs(want[step]) + 1e-5)
        << "loss before step " << step + 1;
    g.backward(loss);
    for (std::size_t i = 0; i < t.model.parameters().size(); ++i) {
      Parameter* p = t.model.parameters()[i];
      kernels::adamw_step(p->value, p->grad, m[i], v[i], hp, static_cast<std::int64_t>(step) + 1);
    }
  }
}

TEST(CausalLM, PresetsHaveTheAdvertisedSizes) {
  EXPECT_NEAR(Qwen2Config::preset("nano").parameter_count() / 1e6, 0.3, 0.05);
  EXPECT_NEAR(Qwen2Config::preset("micro").parameter_count() / 1e6, 1.0, 0.1);
  EXPECT_NEAR(Qwen2Config::preset("mini").parameter_count() / 1e6, 4.0, 0.4);
  EXPECT_NEAR(Qwen2Config::preset("small").parameter_count() / 1e6, 16.0, 1.6);
  // Qwen2.5-0.5B has 494,032,768 parameters (its model card's 0.49B).
  EXPECT_EQ(Qwen2Config::preset("qwen2.5-0.5b").parameter_count(), 494032768);
  for (const auto& name : Qwen2Config::preset_names()) EXPECT_NO_THROW(Qwen2Config::preset(name).validate()) << name;
  try {
    Qwen2Config::preset("tiny");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown preset \"tiny\" (presets: nano, micro"), std::string::npos);
  }
  CausalLM untied(Qwen2Config::preset("nano"));
  EXPECT_THROW(untied.parameter("lm_head.weight"), std::invalid_argument);  // nano ties its embeddings
  Qwen2Config c = Qwen2Config::preset("nano");
  c.tie_word_embeddings = false;
  EXPECT_NO_THROW(CausalLM(c).parameter("lm_head.weight"));
}

TEST(CausalLM, ConfigMistakesAreOneClearLine) {
  nlohmann::json j = Qwen2Config::preset("nano").to_json();
  j["num_key_value_heads"] = 3;
  try {
    Qwen2Config::from_json(j, "model/config.json");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "model/config.json: model config: num_attention_heads 4 is not a multiple of num_key_value_heads 3");
  }
  j.erase("hidden_size");
  EXPECT_THROW(Qwen2Config::from_json(j, "x"), std::invalid_argument);
  EXPECT_EQ(Qwen2Config::from_json(Qwen2Config::preset("mini").to_json(), "x").parameter_count(),
            Qwen2Config::preset("mini").parameter_count());
}

// Recomputing each block in the backward (set_recompute) runs the same ops on
// the same inputs: the loss and every gradient are the same bits, while the
// graph keeps one value a block instead of every inner activation.
TEST(CausalLM, RecomputedBlocksGiveTheSameLossAndGradients) {
  Twin t;
  Graph g;
  t.model.zero_grad();
  const Value plain = t.model.loss(g, t.ids, t.labels);
  const std::size_t plain_nodes = g.size();
  g.backward(plain);
  const float plain_loss = plain.tensor().to_vector<float>()[0];
  std::vector<std::vector<float>> grads;
  for (Parameter* p : t.model.parameters()) grads.push_back(p->grad.to_vector<float>());

  Graph r;
  t.model.zero_grad();
  t.model.set_recompute(true);
  ASSERT_TRUE(t.model.recompute());
  const Value recomputed = t.model.loss(r, t.ids, t.labels);
  const std::size_t layers = t.model.blocks().size();
  EXPECT_LT(r.size() + 20 * layers, plain_nodes) << "the inner activations were kept";
  EXPECT_THROW(r.backward(recomputed, Tensor::zeros({2})), std::invalid_argument);  // a seed of another shape
  r.backward(recomputed);
  EXPECT_EQ(recomputed.tensor().to_vector<float>()[0], plain_loss);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    Parameter* p = t.model.parameters()[i];
    EXPECT_EQ(p->grad.to_vector<float>(), grads[i]) << p->name;
  }
  // Inference records nothing either way.
  Graph inference;
  t.model.logits(inference, t.ids, false);
  t.model.set_recompute(false);
  Graph plain_inference;
  t.model.logits(plain_inference, t.ids, false);
  EXPECT_EQ(inference.size(), plain_inference.size());
}
