// The encoder classifier against its PyTorch twin (tests/reference/encoder_reference.py):
// logits, loss, every gradient and ten AdamW steps; fn::first_token by finite
// differences; presets and config errors; save/load and bad files; batching
// in predict_proba; dropout; and that a tiny model learns a token rule.
#include "models/encoder_classifier.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "fixture.h"
#include "models/encoder_classifier_file.h"
#include "models/functional.h"
#include "models/model_file.h"
#include "models/optimizer.h"
#include "tests/kernels/gradcheck.h"

using namespace newsrl;
using namespace newsrl::models;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(NEWSRL_TEST_FIXTURES) + "/encoder_tiny.bin";

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
  EncoderClassifier model{EncoderConfig::from_json(nlohmann::json::parse(fx.text("config")), "fixture config")};
  Tensor ids = fx.tensor("input_ids"), labels = fx.tensor("labels");
  Twin() {
    for (Parameter* p : model.parameters()) {
      const Tensor w = fx.tensor("param/" + p->name);
      if (w.bytes() != p->value.bytes()) throw std::runtime_error("fixture " + p->name + " has the wrong size");
      std::memcpy(p->value.raw(), w.raw(), w.bytes());
    }
  }
};

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/newsrl-encoder-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

Tensor ids_of(const std::vector<std::vector<std::int32_t>>& rows) {
  const auto b = static_cast<std::int64_t>(rows.size()), t = static_cast<std::int64_t>(rows[0].size());
  Tensor ids = Tensor::empty({b, t}, kernels::DType::i32);
  for (std::int64_t i = 0; i < b; ++i) std::copy(rows[i].begin(), rows[i].end(), ids.data<std::int32_t>() + i * t);
  return ids;
}

EncoderConfig small_config() {
  EncoderConfig c;
  c.vocab_size = 16;
  c.hidden_size = 32;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.max_position_embeddings = 16;
  return c;
}

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(FirstToken, ForwardPicksPositionZeroAndBackwardMatchesFiniteDifferences) {
  const Tensor x0 = kernels::testing::random_tensor({3, 4, 5}, 11);
  Graph g;
  const std::vector<float> y = fn::first_token(g, g.constant(x0)).tensor().to_vector<float>();
  ASSERT_EQ(y.size(), 15u);
  for (int b = 0; b < 3; ++b) {
    for (int h = 0; h < 5; ++h) EXPECT_EQ(y[b * 5 + h], x0.data<float>()[b * 20 + h]);
  }
  kernels::testing::GradCheck check;
  check.inputs = {x0.clone()};
  check.names = {"x"};
  check.max_checks_per_input = 60;  // every element: the rows that are not first must get exactly 0
  check.forward = [](const std::vector<Tensor>& in) {
    Graph fg;
    return fn::first_token(fg, fg.constant(in[0])).tensor().clone();
  };
  check.backward = [](const std::vector<Tensor>& in, const Tensor& dy, std::vector<Tensor>& grads) {
    // L = sum(dy * first_token(x)), as a [1, B*H] · [1, B*H]ᵀ product so that backward() can seed it.
    Parameter x("x", in[0].clone());
    x.zero_grad();
    Graph bg;
    Value pooled = fn::first_token(bg, bg.param(x));
    Value row = fn::view(bg, pooled, {1, pooled.tensor().numel()});
    Value loss = fn::view(bg, fn::linear(bg, row, bg.constant(dy.clone().view({1, dy.numel()}))), {1});
    bg.backward(loss);
    kernels::accumulate(grads[0], x.grad);
  };
  check.run();
}

TEST(EncoderClassifier, LogitsLossAndEveryGradientMatchPyTorch) {
  Twin t;
  Graph g;
  const Value z = t.model.logits(g, t.ids);
  ASSERT_EQ(z.shape().to_vector(), (std::vector<std::int64_t>{3, 3}));
  expect_close(z.tensor(), t.fx.tensor("logits"), 1e-4, 2e-5, "logits");
  g.clear();
  t.model.zero_grad();
  Value loss = t.model.loss(g, t.ids, t.labels);
  expect_close(loss.tensor(), t.fx.tensor("loss"), 1e-5, 1e-6, "loss");
  g.backward(loss);
  for (Parameter* p : t.model.parameters()) expect_close(p->grad, t.fx.tensor("grad/" + p->name), 1e-3, 1e-6, p->name);
  // Inference gives the same logits and records nothing to differentiate.
  Graph h;
  expect_close(t.model.logits(h, t.ids, false).tensor(), t.fx.tensor("logits"), 1e-4, 2e-5, "inference logits");
}

TEST(EncoderClassifier, TenAdamWStepsFollowPyTorch) {
  Twin t;
  const std::vector<float> want = t.fx.tensor("adamw_losses").to_vector<float>();
  Optimizer opt(t.model.parameters(), kernels::AdamW{1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f}, Schedule{1e-2f, 1e-2f, 0, 1},
                1.0f);
  Graph g;
  for (std::size_t step = 0; step < want.size(); ++step) {
    g.clear();
    t.model.zero_grad();
    Value loss = t.model.loss(g, t.ids, t.labels);
    EXPECT_NEAR(loss.tensor().to_vector<float>()[0], want[step], 1e-4 * std::abs(want[step]) + 1e-5)
        << "loss before step " << step + 1;
    g.backward(loss);
    opt.step();
  }
  EXPECT_LT(want.back(), 0.5 * want.front());  // the steps really moved the model
}

TEST(EncoderClassifier, AttentionIsBidirectional) {
  // Under a causal mask the first token could not see the last one.
  Twin t;
  Tensor other = t.ids.clone();
  other.data<std::int32_t>()[5] = (other.data<std::int32_t>()[5] + 1) % 37;
  Graph g;
  const std::vector<float> a = t.model.logits(g, t.ids, false).tensor().to_vector<float>();
  const std::vector<float> b = t.model.logits(g, other, false).tensor().to_vector<float>();
  EXPECT_NE(a[0], b[0]);
  EXPECT_EQ(a[3], b[3]);  // the other sequences are untouched
}

TEST(EncoderClassifier, PresetsHaveTheAdvertisedSizes) {
  EXPECT_NEAR(EncoderConfig::preset("cls-tiny").parameter_count() / 1e6, 0.11, 0.02);
  EXPECT_NEAR(EncoderConfig::preset("cls-small").parameter_count() / 1e6, 1.1, 0.1);
  for (const auto& name : EncoderConfig::preset_names()) {
    EncoderClassifier model(EncoderConfig::preset(name));
    std::int64_t n = 0;
    for (const Parameter* p : model.parameters()) n += p->value.numel();
    EXPECT_EQ(n, model.config().parameter_count()) << name;
  }
  EXPECT_EQ(error_of([] { EncoderConfig::preset("tiny"); }),
            "unknown classifier preset \"tiny\" (presets: cls-tiny, cls-small)");
}

TEST(EncoderClassifier, InitFollowsRoberta) {
  EncoderClassifier model(EncoderConfig::preset("cls-tiny"));
  model.init(5);
  EXPECT_EQ(model.parameter("roberta.embeddings.LayerNorm.weight").value.to_vector<float>()[3], 1.0f);
  EXPECT_EQ(model.parameter("roberta.encoder.layer.1.output.LayerNorm.bias").value.to_vector<float>()[3], 0.0f);
  EXPECT_EQ(model.parameter("classifier.dense.bias").value.to_vector<float>()[0], 0.0f);
  const std::vector<float> w =
      model.parameter("roberta.encoder.layer.0.attention.self.query.weight").value.to_vector<float>();
  double s = 0;
  for (float x : w) s += static_cast<double>(x) * x;
  EXPECT_NEAR(std::sqrt(s / static_cast<double>(w.size())), 0.02, 0.002);
  EncoderClassifier again(EncoderConfig::preset("cls-tiny"));
  again.init(5);
  EXPECT_EQ(again.parameter("classifier.out_proj.weight").value.to_vector<float>(),
            model.parameter("classifier.out_proj.weight").value.to_vector<float>());
}

TEST(EncoderClassifier, ConfigMistakesAreOneClearLine) {
  nlohmann::json j = EncoderConfig::preset("cls-tiny").to_json();
  EXPECT_EQ(EncoderConfig::from_json(j, "x").to_json(), j);
  j["num_attention_heads"] = 5;
  EXPECT_EQ(error_of([&] { EncoderConfig::from_json(j, "clean/config.json"); }),
            "clean/config.json: classifier config: hidden_size 64 is not a multiple of num_attention_heads 5");
  j = EncoderConfig::preset("cls-tiny").to_json();
  j["num_labels"] = 1;
  EXPECT_EQ(error_of([&] { EncoderConfig::from_json(j, "c"); }),
            "c: classifier config: num_labels must be at least 2, not 1");
  j = EncoderConfig::preset("cls-tiny").to_json();
  j["attention_probs_dropout_prob"] = 0.1;
  EXPECT_EQ(error_of([&] { EncoderConfig::from_json(j, "c"); }),
            "c: attention_probs_dropout_prob must be 0 (attention dropout is not supported)");
  j = EncoderConfig::preset("cls-tiny").to_json();
  j["hidden_dropout_prob"] = 1.0;
  EXPECT_EQ(error_of([&] { EncoderConfig::from_json(j, "c"); }),
            "c: classifier config: hidden_dropout_prob must be in [0, 1)");
  j.erase("hidden_size");
  EXPECT_EQ(error_of([&] { EncoderConfig::from_json(j, "c"); }), "c: missing \"hidden_size\"");
  j = EncoderConfig::preset("cls-tiny").to_json();
  j["vocab_size"] = "512";
  EXPECT_EQ(error_of([&] { EncoderConfig::from_json(j, "c"); }), "c: \"vocab_size\" must be an integer");
}

TEST(EncoderClassifier, BadInputIsOneClearLine) {
  EncoderClassifier model(small_config());
  model.init(1);
  Graph g;
  EXPECT_EQ(error_of([&] {
              model.logits(g, ids_of({{1, 2, 16}}));
            }),
            "token id 16 at [0, 2] is outside the vocabulary of 16");
  EXPECT_EQ(error_of([&] { model.logits(g, ids_of({std::vector<std::int32_t>(17, 1)})); }),
            "17 tokens exceed max_position_embeddings 16");
  EXPECT_EQ(error_of([&] {
              model.loss(g, ids_of({{1, 2}, {3, 4}}), Tensor::from(std::vector<std::int32_t>{0, 2}, {2}));
            }),
            "label 2 of sequence 1 is outside [0, 2)");
  EXPECT_EQ(error_of([&] { model.predict_proba({{1, 2}, {}}); }), "sequence 1 has no tokens");
  EXPECT_EQ(error_of([&] {
              model.predict_proba({{1, -1}});
            }),
            "sequence 0 holds token id -1, outside the vocabulary of 16");
}

TEST(EncoderClassifier, PredictProbaBucketsByLengthAndKeepsOrder) {
  EncoderClassifier model(small_config());
  model.init(3);
  const std::vector<std::vector<std::int32_t>> seqs = {{1, 2, 3}, {4}, {5, 6, 7}, {8, 9}, {1, 2, 3, 4, 5}, {9, 9}};
  const auto probs = model.predict_proba(seqs);
  const auto in_twos = model.predict_proba(seqs, 1);
  ASSERT_EQ(probs.size(), seqs.size());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    Graph g;
    const std::vector<float> z = model.logits(g, ids_of({seqs[i]}), false).tensor().to_vector<float>();
    const double p1 = 1.0 / (1.0 + std::exp(static_cast<double>(z[0]) - z[1]));
    ASSERT_EQ(probs[i].size(), 2u);
    EXPECT_NEAR(probs[i][1], p1, 1e-6) << i;
    EXPECT_NEAR(probs[i][0] + probs[i][1], 1.0, 1e-6) << i;
    EXPECT_NEAR(in_twos[i][1], probs[i][1], 1e-6) << i;
  }
}

TEST(EncoderClassifier, DropoutOnlyWhileTrainingAndSeeded) {
  EncoderConfig c = small_config();
  EncoderClassifier plain(c);
  plain.init(9);
  c.hidden_dropout_prob = 0.2;
  EncoderClassifier dropped(c);
  dropped.init(9);
  const Tensor ids = ids_of({{1, 2, 3, 4}, {5, 6, 7, 8}});
  Graph g;
  const auto off = plain.logits(g, ids, false).tensor().to_vector<float>();
  EXPECT_EQ(dropped.logits(g, ids, false).tensor().to_vector<float>(), off);
  dropped.set_dropout_seed(42);
  const auto first = dropped.logits(g, ids, true).tensor().to_vector<float>();
  const auto second = dropped.logits(g, ids, true).tensor().to_vector<float>();
  EXPECT_NE(first, off);
  EXPECT_NE(first, second);  // fresh masks every call
  dropped.set_dropout_seed(42);
  EXPECT_EQ(dropped.logits(g, ids, true).tensor().to_vector<float>(), first);  // and reproducible
}

TEST(EncoderClassifier, GradientsWithDropoutMatchFiniteDifferences) {
  // The twin runs without dropout; here the masks are fixed by resetting the
  // seed before every forward, so central differences see the same function.
  EncoderConfig c = small_config();
  c.num_hidden_layers = 2;
  c.hidden_dropout_prob = 0.25;
  EncoderClassifier model(c);
  model.init(21);
  for (Parameter* p : model.parameters()) {  // biases and norms away from their init, so each gradient is non-trivial
    float* w = p->value.data<float>();
    std::mt19937 rng(static_cast<std::uint32_t>(p->value.numel()));
    std::normal_distribution<float> d(0.0f, 0.1f);
    for (std::int64_t i = 0; i < p->value.numel(); ++i) w[i] += d(rng);
  }
  const Tensor ids = ids_of({{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 3, 3, 0}});
  const Tensor labels = Tensor::from(std::vector<std::int32_t>{1, 0, 1}, {3});
  Graph g;
  auto loss_only = [&] {
    model.set_dropout_seed(99);
    g.clear();
    return static_cast<double>(model.loss(g, ids, labels).tensor().to_vector<float>()[0]);
  };
  model.zero_grad();
  model.set_dropout_seed(99);
  g.clear();
  g.backward(model.loss(g, ids, labels));
  std::mt19937 rng(5);
  int checked = 0;
  for (Parameter* p : model.parameters()) {
    const std::vector<float> grad = p->grad.to_vector<float>();
    float* w = p->value.data<float>();
    for (int n = 0; n < 6; ++n) {
      const auto j = static_cast<std::int64_t>(rng() % static_cast<std::uint32_t>(p->value.numel()));
      const float keep = w[j], eps = 1e-2f;
      w[j] = keep + eps;
      const double up = loss_only();
      w[j] = keep - eps;
      const double down = loss_only();
      w[j] = keep;
      const double numeric = (up - down) / (2.0 * eps);
      EXPECT_NEAR(grad[static_cast<std::size_t>(j)], numeric, 2e-3 + 2e-2 * std::abs(numeric))
          << p->name << "[" << j << "]";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6 * static_cast<int>(model.parameters().size()));
}

TEST(EncoderClassifierFile, SaveAndLoadRoundTrip) {
  Twin t;
  TempDir dir;
  save_classifier(t.model, dir / "cls.h5");
  EncoderClassifier back = load_classifier(dir / "cls.h5");
  EXPECT_EQ(back.config().to_json(), t.model.config().to_json());
  ASSERT_EQ(back.parameters().size(), t.model.parameters().size());
  for (std::size_t i = 0; i < back.parameters().size(); ++i) {
    EXPECT_EQ(back.parameters()[i]->value.to_vector<float>(), t.model.parameters()[i]->value.to_vector<float>())
        << back.parameters()[i]->name;
  }
  EXPECT_FALSE(runtime::verify_checkpoint(dir / "cls.h5").has_value());
  // The same model makes the same bytes.
  save_classifier(back, dir / "again.h5");
  auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(bytes(dir / "again.h5"), bytes(dir / "cls.h5"));
  const runtime::H5File file(dir / "cls.h5", runtime::H5File::Mode::read);
  EXPECT_EQ(file.attribute("/", "model_kind"), "encoder_classifier");
}

TEST(EncoderClassifierFile, BadFilesAreOneClearLine) {
  TempDir dir;
  Twin t;
  // A causal LM is not a classifier, and the other way round.
  Qwen2Config lm = Qwen2Config::preset("nano");
  lm.num_hidden_layers = 1;
  save_model(CausalLM(lm), dir / "lm.h5");
  EXPECT_EQ(error_of([&] { load_classifier(dir / "lm.h5"); }),
            dir / "lm.h5" + ": not an encoder classifier (a causal LM checkpoint: no model_kind)");
  save_classifier(t.model, dir / "cls.h5");
  EXPECT_EQ(error_of([&] { load_model(dir / "cls.h5"); }),
            dir / "cls.h5" + ": not a causal LM (model_kind is \"encoder_classifier\")");
  // A missing dataset.
  {
    runtime::CheckpointWriter out(dir / "missing.h5");
    out.set_attribute("/", "model_kind", "encoder_classifier");
    out.set_attribute("/", "config", t.model.config().to_json().dump());
    for (const Parameter* p : t.model.parameters()) {
      if (p->name == "classifier.out_proj.bias") continue;
      out.write("/model/" + p->name, runtime::H5Type::f32, p->value.shape().to_vector(), p->value.data<float>());
    }
    out.commit();
  }
  EXPECT_EQ(error_of([&] { load_classifier(dir / "missing.h5"); }),
            dir / "missing.h5" + ": missing dataset /model/classifier.out_proj.bias");
  // Weights of another shape than the config says (3 labels in the config, 2 in the file).
  {
    EncoderConfig two = t.model.config();
    two.num_labels = 2;
    EncoderClassifier other(two);
    runtime::CheckpointWriter out(dir / "shape.h5");
    out.set_attribute("/", "model_kind", "encoder_classifier");
    out.set_attribute("/", "config", t.model.config().to_json().dump());
    for (const Parameter* p : other.parameters()) {
      out.write("/model/" + p->name, runtime::H5Type::f32, p->value.shape().to_vector(), p->value.data<float>());
    }
    out.commit();
  }
  const std::string shape_error = error_of([&] { load_classifier(dir / "shape.h5"); });
  EXPECT_EQ(shape_error.rfind(dir / "shape.h5" + ": dataset /model/classifier.out_proj.weight has shape ", 0), 0u)
      << shape_error;
  EXPECT_NE(shape_error.find("the config needs"), std::string::npos) << shape_error;
  // A config that does not validate.
  {
    runtime::CheckpointWriter out(dir / "config.h5");
    out.set_attribute("/", "model_kind", "encoder_classifier");
    nlohmann::json j = t.model.config().to_json();
    j["num_labels"] = 0;
    out.set_attribute("/", "config", j.dump());
    out.commit();
  }
  EXPECT_EQ(error_of([&] { load_classifier(dir / "config.h5"); }),
            dir / "config.h5" + " config: classifier config: num_labels must be at least 2, not 0");
}

TEST(EncoderClassifier, LearnsATokenRuleQuickly) {
  // Label 1 when token 7 occurs anywhere in the sequence: the first token's
  // state has to gather it through attention. Lengths 3 to 8, one per batch.
  EncoderClassifier model(small_config());
  model.init(17);
  std::mt19937 rng(23);
  auto sequence = [&](std::int64_t length, bool positive) {
    std::vector<std::int32_t> s(static_cast<std::size_t>(length));
    for (auto& id : s) {
      do id = static_cast<std::int32_t>(rng() % 16);
      while (id == 7);
    }
    if (positive) s[rng() % s.size()] = 7;
    return s;
  };
  Optimizer opt(model.parameters(), kernels::AdamW{3e-3f, 0.9f, 0.98f, 1e-8f, 0.01f}, Schedule{3e-3f, 3e-4f, 20, 300},
                1.0f);
  Graph g;
  for (int step = 0; step < 300; ++step) {
    const std::int64_t length = 3 + step % 6;
    std::vector<std::vector<std::int32_t>> rows;
    std::vector<std::int32_t> labels;
    for (int i = 0; i < 32; ++i) {
      labels.push_back(static_cast<std::int32_t>(rng() % 2));
      rows.push_back(sequence(length, labels.back() == 1));
    }
    g.clear();
    model.zero_grad();
    Value loss = model.loss(g, ids_of(rows), Tensor::from(labels, {32}));
    g.backward(loss);
    opt.step();
  }
  std::vector<std::vector<std::int32_t>> test;
  std::vector<int> truth;
  for (int i = 0; i < 400; ++i) {
    truth.push_back(static_cast<int>(rng() % 2));
    test.push_back(sequence(3 + i % 6, truth.back() == 1));
  }
  const auto probs = model.predict_proba(test);
  int right = 0;
  for (std::size_t i = 0; i < test.size(); ++i) right += (probs[i][1] > 0.5f) == (truth[i] == 1);
  EXPECT_GE(right, 390) << "accuracy " << right / 400.0;
}
