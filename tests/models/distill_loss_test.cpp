// The reverse-KL distillation losses: both estimators on a hand-worked
// three-token vocabulary (values and gradients written out below), the full
// estimator against finite differences and against PyTorch autograd
// (tests/reference/distill_reference.py), and on a real model: zero loss
// when the teacher is the student, and a few full-KL steps bring a student
// closer to a differently-seeded teacher.
#include "models/distill_loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "models/functional.h"
#include "models/generation.h"
#include "models/optimizer.h"

using namespace newsrl;
using namespace newsrl::models;

namespace {

#include "fixtures/distill_torch.inc"

const std::int32_t kIgnore = kernels::kIgnoreIndex;

// The full estimator's loss and gradient in the logits.
struct FullResult {
  float loss;
  std::vector<float> grad;
};

FullResult full(const std::vector<float>& logits, const std::vector<float>& teacher, const std::vector<std::int32_t>& targets,
                std::int64_t vocab, float temperature, float normaliser) {
  const std::int64_t rows = static_cast<std::int64_t>(targets.size());
  Graph g;
  Parameter z("z", Tensor::from(logits, {rows, vocab}));
  z.zero_grad();
  const Value loss = reverse_kl_full(g, g.param(z), Tensor::from(teacher, {rows, vocab}),
                                     Tensor::from(targets, {rows}), temperature, normaliser);
  g.backward(loss);
  return {loss.tensor().data<float>()[0], z.grad.to_vector<float>()};
}

struct SampledResult {
  float loss;
  std::vector<float> grad;
};

SampledResult sampled(const std::vector<float>& logp, const std::vector<float>& old, const std::vector<float>& teacher,
                      kernels::PolicyClip clip, float normaliser) {
  Graph g;
  Parameter lp("logp", Tensor::from(logp, {static_cast<std::int64_t>(logp.size())}));
  lp.zero_grad();
  const Value loss = reverse_kl_sampled(g, g.param(lp), old, teacher, clip, normaliser);
  g.backward(loss);
  return {loss.tensor().data<float>()[0], lp.grad.to_vector<float>()};
}

std::vector<float> logs(std::vector<double> p) {
  std::vector<float> out;
  for (double x : p) out.push_back(static_cast<float>(std::log(x)));
  return out;
}

}  // namespace

// Row 0: logits (1, 0, -1), so p_s = e^z / (e + 1 + 1/e) = (0.665241, 0.244728,
// 0.090031); the teacher p_t = (1/2, 1/4, 1/4).
//   KL = sum p_s (log p_s - log p_t) = 0.665241 ln 1.330482 + 0.244728 ln
//        0.978914 + 0.090031 ln 0.360122 = 0.0927889.
//   d KL / d z_j = p_s,j (log p_s,j - log p_t,j - KL)
//        = (0.665241 (0.285541 - 0.092789), 0.244728 (-0.021312 - 0.092789),
//           0.090031 (-1.021312 - 0.092789)) = (0.128227, -0.027924, -0.100303).
// Row 1 is a prompt row (ignored): no loss, no gradient. Normaliser 2 halves both.
TEST(DistillLoss, FullEstimatorHandWorked) {
  const std::vector<float> teacher = logs({0.5, 0.25, 0.25, 0.2, 0.3, 0.5});
  const FullResult r = full({1, 0, -1, 3, -2, 0.5f}, teacher, {7, kIgnore}, 3, 1.0f, 2.0f);
  EXPECT_NEAR(r.loss, 0.0927889 / 2, 1e-6);
  const double want[] = {0.128227 / 2, -0.027924 / 2, -0.100303 / 2, 0, 0, 0};
  for (int j = 0; j < 6; ++j) EXPECT_NEAR(r.grad[static_cast<std::size_t>(j)], want[j], 1e-6) << "element " << j;
}

// The same row at temperature 2: p_s = softmax(0.5, 0, -0.5) = (0.506480,
// 0.307196, 0.186324); KL = 0.0150376; the gradient in z carries 1/T:
// p_s,j (log p_s,j - log p_t,j - KL) / 2 = (-0.000547, 0.029335, -0.028788).
TEST(DistillLoss, FullEstimatorAtATemperature) {
  const FullResult r = full({1, 0, -1}, logs({0.5, 0.25, 0.25}), {0}, 3, 2.0f, 1.0f);
  EXPECT_NEAR(r.loss, 0.0150376, 1e-6);
  const double want[] = {-0.000547014, 0.0293352, -0.0287882};
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(r.grad[static_cast<std::size_t>(j)], want[j], 1e-6) << "element " << j;
}

// Three sampled tokens, clip range [0.8, 1.2], normaliser 2:
//   log p   = (-0.5, -1.2, -0.2), old = (-0.5, -1.0, -0.6), teacher = (-1.0, -0.9, -0.1)
//   k = old - teacher = (0.5, -0.1, -0.5), advantage A = -k = (-0.5, 0.1, 0.5)
//   ratio r = exp(log p - old) = (1, e^-0.2 = 0.818731, e^0.4 = 1.491825)
//   token loss -min(r A, clip(r) A): (0.5, -0.0818731, -min(0.745912, 0.6) = -0.6)
//   d/d log p: -r A where the unclipped term is the smaller, else 0:
//             (0.5, -0.0818731, 0)
//   loss = (0.5 - 0.0818731 - 0.6) / 2 = -0.0909365; gradient / 2.
TEST(DistillLoss, SampledEstimatorHandWorked) {
  const SampledResult r = sampled({-0.5f, -1.2f, -0.2f}, {-0.5f, -1.0f, -0.6f}, {-1.0f, -0.9f, -0.1f}, {0.2f, 0.2f, 0.0f}, 2.0f);
  EXPECT_NEAR(r.loss, -0.0909365, 1e-6);
  const double want[] = {0.25, -0.0818731 / 2, 0.0};
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(r.grad[static_cast<std::size_t>(j)], want[j], 1e-6) << "token " << j;
  const std::vector<float> adv = sampled_kl_advantages({-0.5f, -1.0f}, {-1.0f, -0.9f});
  ASSERT_EQ(adv.size(), 2u);
  EXPECT_NEAR(adv[0], -0.5, 1e-6);
  EXPECT_NEAR(adv[1], 0.1, 1e-6);
}

TEST(DistillLoss, FullEstimatorMatchesFiniteDifferences) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  const std::int64_t rows = 4, vocab = 6;
  std::vector<float> logits(rows * vocab), raw(rows * vocab), teacher;
  for (float& x : logits) x = normal(rng);
  for (float& x : raw) x = normal(rng);
  for (std::int64_t r = 0; r < rows; ++r) {  // log-softmax rows
    double sum = 0;
    for (std::int64_t j = 0; j < vocab; ++j) sum += std::exp(raw[static_cast<std::size_t>(r * vocab + j)]);
    for (std::int64_t j = 0; j < vocab; ++j) {
      teacher.push_back(static_cast<float>(raw[static_cast<std::size_t>(r * vocab + j)] - std::log(sum)));
    }
  }
  const std::vector<std::int32_t> targets = {1, kIgnore, 2, 3};
  const FullResult at = full(logits, teacher, targets, vocab, 0.8f, 3.0f);
  for (std::size_t i = 0; i < logits.size(); ++i) {
    std::vector<float> up = logits, down = logits;
    const float h = 1e-2f;
    up[i] += h;
    down[i] -= h;
    const double fd = (static_cast<double>(full(up, teacher, targets, vocab, 0.8f, 3.0f).loss) -
                       full(down, teacher, targets, vocab, 0.8f, 3.0f).loss) / (2 * h);
    EXPECT_NEAR(at.grad[i], fd, 2e-4) << "element " << i;
  }
}

TEST(DistillLoss, FullEstimatorMatchesPyTorch) {
  const std::vector<float> logits(kFullLogits, kFullLogits + kFullRows * kFullVocab);
  const std::vector<float> teacher(kFullTeacher, kFullTeacher + kFullRows * kFullVocab);
  std::vector<std::int32_t> targets;
  for (int r = 0; r < kFullRows; ++r) targets.push_back(kFullKeep[r] ? 0 : kIgnore);
  const FullResult r = full(logits, teacher, targets, kFullVocab, kFullTemperature, kFullNormaliser);
  EXPECT_NEAR(r.loss, kFullLoss, 1e-5);
  for (std::size_t i = 0; i < r.grad.size(); ++i) EXPECT_NEAR(r.grad[i], kFullGrad[i], 1e-6) << "element " << i;
}

TEST(DistillLoss, SampledEstimatorMatchesPyTorch) {
  const std::vector<float> logp(kSampledLogp, kSampledLogp + kSampledTokens);
  const std::vector<float> old(kSampledOld, kSampledOld + kSampledTokens);
  const std::vector<float> teacher(kSampledTeacher, kSampledTeacher + kSampledTokens);
  const SampledResult r = sampled(logp, old, teacher, {kSampledLow, kSampledHigh, 0.0f}, kSampledNormaliser);
  EXPECT_NEAR(r.loss, kSampledLoss, 1e-5);
  for (std::size_t i = 0; i < r.grad.size(); ++i) EXPECT_NEAR(r.grad[i], kSampledGrad[i], 1e-5) << "token " << i;
}

namespace {

CausalLM tiny(std::uint64_t seed) {
  Qwen2Config c = Qwen2Config::preset("nano");
  c.vocab_size = 23;
  c.num_hidden_layers = 2;
  CausalLM m(c);
  m.init(seed);
  return m;
}

// The student's samples, with the teacher's per-token log-probs and full rows.
std::vector<DistillSequence> student_samples(CausalLM& student, CausalLM& teacher, std::uint64_t seed) {
  const std::vector<std::vector<std::int32_t>> prompts = {{1, 2, 3}, {4}, {5, 6}, {7, 8, 9, 10}};
  SamplingOptions o;
  o.max_new_tokens = 5;
  o.seed = seed;
  const std::vector<Generated> out = generate(student, prompts, o);
  std::vector<std::vector<std::int32_t>> completions;
  for (const Generated& g : out) completions.push_back(g.tokens);
  const std::vector<Scored> scored = score(teacher, prompts, completions, true);
  std::vector<DistillSequence> batch;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    batch.push_back({prompts[i], out[i].tokens, out[i].logprobs, scored[i].logprobs, scored[i].rows.to_vector<float>()});
  }
  return batch;
}

}  // namespace

TEST(DistillStep, TeacherEqualToStudentGivesZeroKl) {
  CausalLM student = tiny(1), same = tiny(1);
  const std::vector<DistillSequence> batch = student_samples(student, same, 3);
  for (KlEstimator kl : {KlEstimator::full, KlEstimator::sampled}) {
    DistillStepOptions o;
    o.kl = kl;
    o.normaliser = 20.0f;
    DistillStepStats st;
    Graph g;
    const Value loss = distill_step_loss(g, student, batch, o, &st);
    EXPECT_NEAR(st.kl, 0.0, 1e-5);
    EXPECT_NEAR(loss.tensor().data<float>()[0], 0.0, 1e-5);
    EXPECT_GT(st.tokens, 0);
  }
}

TEST(DistillStep, FullKlMatchesTheRowsAndFallsUnderTraining) {
  CausalLM student = tiny(1), teacher = tiny(2);
  std::vector<DistillSequence> batch = student_samples(student, teacher, 5);
  // The exact KL per token from both models' own scoring rows.
  std::vector<std::vector<std::int32_t>> prompts, completions;
  for (const auto& s : batch) {
    prompts.push_back(s.prompt);
    completions.push_back(s.completion);
  }
  const std::vector<Scored> mine = score(student, prompts, completions, true);
  double kl = 0;
  std::int64_t tokens = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::vector<float> ls = mine[i].rows.to_vector<float>();
    for (std::size_t x = 0; x < ls.size(); ++x) kl += std::exp(ls[x]) * (ls[x] - batch[i].teacher_rows[x]);
    tokens += static_cast<std::int64_t>(batch[i].completion.size());
  }
  DistillStepOptions o;
  o.normaliser = 20.0f;
  DistillStepStats first;
  {
    Graph g;
    distill_step_loss(g, student, batch, o, &first);
  }
  EXPECT_NEAR(first.kl, kl / static_cast<double>(tokens), 1e-4);
  EXPECT_GT(first.kl, 0.01);
  // Ten on-policy steps of the full estimator: fresh samples each step.
  Optimizer opt(student.parameters(), kernels::AdamW{3e-3f, 0.9f, 0.99f, 1e-8f, 0.0f}, Schedule{3e-3f, 3e-3f, 0, 100},
                1.0f);
  DistillStepStats last;
  for (int step = 0; step < 10; ++step) {
    batch = student_samples(student, teacher, 100 + static_cast<std::uint64_t>(step));
    student.zero_grad();
    Graph g;
    g.backward(distill_step_loss(g, student, batch, o, &last));
    opt.step();
  }
  EXPECT_LT(last.kl, 0.5 * first.kl) << "first " << first.kl << ", last " << last.kl;
}

TEST(DistillStep, SampledStepsLowerTheExactKl) {
  // The sampled estimator's gradient is the reverse KL's only in expectation:
  // with enough samples per step it brings the exact KL down too.
  CausalLM student = tiny(1), teacher = tiny(2);
  auto exact_kl = [&] {
    std::vector<DistillSequence> batch;
    for (std::uint64_t s = 0; s < 4; ++s) {
      for (DistillSequence& d : student_samples(student, teacher, 900 + s)) batch.push_back(std::move(d));
    }
    DistillStepOptions o;
    DistillStepStats st;
    Graph g;
    distill_step_loss(g, student, batch, o, &st);
    return st.kl;
  };
  const double before = exact_kl();
  Optimizer opt(student.parameters(), kernels::AdamW{1e-3f, 0.9f, 0.99f, 1e-8f, 0.0f}, Schedule{1e-3f, 1e-3f, 0, 100},
                1.0f);
  DistillStepOptions o;
  o.kl = KlEstimator::sampled;
  o.normaliser = 80.0f;
  for (int step = 0; step < 10; ++step) {
    std::vector<DistillSequence> batch;
    for (std::uint64_t s = 0; s < 4; ++s) {  // 16 sequences a step
      for (DistillSequence& d : student_samples(student, teacher, 1000 + 10 * static_cast<std::uint64_t>(step) + s)) {
        d.teacher_rows.clear();
        batch.push_back(std::move(d));
      }
    }
    student.zero_grad();
    Graph g;
    g.backward(distill_step_loss(g, student, batch, o));
    opt.step();
  }
  const double after = exact_kl();
  EXPECT_LT(after, 0.8 * before) << "before " << before << ", after " << after;
}
