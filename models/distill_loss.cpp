#include "models/distill_loss.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "models/functional.h"

namespace newsrl::models {

namespace k = kernels;

Value reverse_kl_full(Graph& g, Value student_logits, const Tensor& teacher_in, const Tensor& targets_in,
                      float temperature, float normaliser) {
  if (!(normaliser > 0)) throw std::invalid_argument("reverse_kl_full: the normaliser must be positive");
  if (!(temperature > 0)) throw std::invalid_argument("reverse_kl_full: the temperature must be positive");
  const Tensor& z_any = student_logits.tensor();
  if (z_any.ndim() != 2 || teacher_in.shape() != z_any.shape() || targets_in.numel() != z_any.dim(0)) {
    throw std::invalid_argument("reverse_kl_full: logits " + z_any.shape().str() + ", teacher rows " +
                                teacher_in.shape().str() + " and " + std::to_string(targets_in.numel()) +
                                " targets do not match");
  }
  const std::int64_t n = z_any.dim(0), v = z_any.dim(1);
  // Worked on the host: one pass per row, no kernel of its own (the rows are
  // read once forward and once backward; a device model copies them over).
  const Tensor z = z_any.to(k::Device::cpu), lt = teacher_in.to(k::Device::cpu), tg = targets_in.to(k::Device::cpu);
  const float* zp = z.data<float>();
  const float* ltp = lt.data<float>();
  const std::int32_t* tp = tg.data<std::int32_t>();
  // Per kept row: log p_s (kept for the backward) and the row's KL.
  Tensor logp = Tensor::zeros({n, v});
  std::vector<double> row_kl(static_cast<std::size_t>(n), 0.0);
  float* lp = logp.data<float>();
  double total = 0;
  for (std::int64_t r = 0; r < n; ++r) {
    if (tp[r] == k::kIgnoreIndex) continue;
    const float* zr = zp + r * v;
    float* lr = lp + r * v;
    double mx = -INFINITY;
    for (std::int64_t j = 0; j < v; ++j) mx = std::max(mx, static_cast<double>(zr[j]) / temperature);
    double sum = 0;
    for (std::int64_t j = 0; j < v; ++j) sum += std::exp(static_cast<double>(zr[j]) / temperature - mx);
    const double lse = mx + std::log(sum);
    double kl = 0;
    for (std::int64_t j = 0; j < v; ++j) {
      const double l = static_cast<double>(zr[j]) / temperature - lse;
      lr[j] = static_cast<float>(l);
      kl += std::exp(l) * (l - ltp[r * v + j]);
    }
    row_kl[static_cast<std::size_t>(r)] = kl;
    total += kl;
  }
  Tensor loss = Tensor::from(std::vector<float>{static_cast<float>(total / normaliser)}, {1}).to(z_any.device());
  // What the backward needs, behind one pointer (a graph closure has a size limit).
  struct Saved {
    Tensor logp, teacher, targets;
    std::vector<double> row_kl;
  };
  auto saved = std::make_shared<Saved>(Saved{logp, lt, tg, std::move(row_kl)});
  return g.record(loss, {student_logits}, [&g, student_logits, saved, n, v, temperature, normaliser](const Tensor& dy) {
    // d KL / d z_j = p_j (log p_j - log q_j - KL) / temperature.
    const double scale = dy.to_vector<float>()[0] / normaliser / temperature;
    Tensor dz = Tensor::zeros({n, v});
    float* d = dz.data<float>();
    const float* student_lp = saved->logp.data<float>();
    const float* teacher_lp = saved->teacher.data<float>();
    const std::int32_t* kept = saved->targets.data<std::int32_t>();
    for (std::int64_t r = 0; r < n; ++r) {
      if (kept[r] == k::kIgnoreIndex) continue;
      const double kl = saved->row_kl[static_cast<std::size_t>(r)];
      for (std::int64_t j = 0; j < v; ++j) {
        const double l = student_lp[r * v + j];
        d[r * v + j] = static_cast<float>(scale * std::exp(l) * (l - teacher_lp[r * v + j] - kl));
      }
    }
    Tensor& grad = g.grad(student_logits);
    k::accumulate(grad, dz.to(grad.device()));
  });
}

std::vector<float> sampled_kl_advantages(const std::vector<float>& old_logp, const std::vector<float>& teacher_logp) {
  if (old_logp.size() != teacher_logp.size()) {
    throw std::invalid_argument("sampled KL: " + std::to_string(old_logp.size()) + " student and " +
                                std::to_string(teacher_logp.size()) + " teacher log-probs");
  }
  std::vector<float> adv(old_logp.size());
  for (std::size_t i = 0; i < adv.size(); ++i) adv[i] = -(old_logp[i] - teacher_logp[i]);
  return adv;
}

Value reverse_kl_sampled(Graph& g, Value logp, const std::vector<float>& old_logp,
                         const std::vector<float>& teacher_logp, const kernels::PolicyClip& clip, float normaliser) {
  const std::int64_t n = static_cast<std::int64_t>(old_logp.size());
  if (logp.tensor().numel() != n) {
    throw std::invalid_argument("sampled KL: " + std::to_string(logp.tensor().numel()) + " log-probs for " +
                                std::to_string(n) + " tokens");
  }
  const Tensor old = Tensor::from(old_logp, {n});
  const Tensor adv = Tensor::from(sampled_kl_advantages(old_logp, teacher_logp), {n});
  const kernels::PolicyClip no_kl{clip.low, clip.high, 0.0f};
  return fn::policy_loss(g, logp, old, adv, Tensor(), no_kl, normaliser);
}

Value distill_step_loss(Graph& g, CausalLM& student, const std::vector<DistillSequence>& batch,
                        const DistillStepOptions& o, DistillStepStats* stats) {
  if (batch.empty()) throw std::invalid_argument("distill step: an empty batch");
  if (!(o.temperature > 0)) throw std::invalid_argument("distill step: temperature must be positive");
  const std::int64_t vocab = student.config().vocab_size;
  const bool full = o.kl == KlEstimator::full;
  std::int64_t t = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const DistillSequence& s = batch[i];
    const std::string which = "distill step: sample " + std::to_string(i);
    if (s.prompt.empty()) throw std::invalid_argument(which + " has no prompt");
    if (s.old_logprobs.size() != s.completion.size() || s.teacher_logprobs.size() != s.completion.size()) {
      throw std::invalid_argument(which + ": " + std::to_string(s.completion.size()) + " tokens, " +
                                  std::to_string(s.old_logprobs.size()) + " student and " +
                                  std::to_string(s.teacher_logprobs.size()) + " teacher log-probs");
    }
    if (full && s.teacher_rows.size() != s.completion.size() * static_cast<std::size_t>(vocab)) {
      throw std::invalid_argument(which + ": " + std::to_string(s.teacher_rows.size()) +
                                  " teacher row values, expected tokens x vocab = " +
                                  std::to_string(s.completion.size()) + " x " + std::to_string(vocab) +
                                  " (do student and teacher share a vocabulary?)");
    }
    t = std::max<std::int64_t>(t, static_cast<std::int64_t>(s.prompt.size() + s.completion.size()));
  }
  const std::int64_t b = static_cast<std::int64_t>(batch.size());
  std::int64_t rows = 0;  // one per completion token
  for (const DistillSequence& s : batch) rows += static_cast<std::int64_t>(s.completion.size());
  if (rows == 0) throw std::invalid_argument("distill step: no sequence has a completion token");
  // Right-padded ids; position (i, p - 1) predicts completion token j at p = |prompt| + j. Only those
  // positions are scored, one row each, in order: the LM head skips the prompts.
  Tensor ids = Tensor::zeros({b, t}, k::DType::i32);
  Tensor targets = Tensor::empty({rows}, k::DType::i32);
  std::vector<std::int32_t> positions;
  std::vector<float> old(static_cast<std::size_t>(rows), 0.0f), teacher(static_cast<std::size_t>(rows), 0.0f);
  Tensor teacher_rows = full ? Tensor::zeros({rows, vocab}) : Tensor();
  std::int32_t* pid = ids.data<std::int32_t>();
  std::int32_t* pt = targets.data<std::int32_t>();
  std::int64_t tokens = 0;
  for (std::int64_t i = 0; i < b; ++i) {
    const DistillSequence& s = batch[static_cast<std::size_t>(i)];
    std::int64_t p = 0;
    for (std::int32_t id : s.prompt) pid[i * t + p++] = id;
    for (std::size_t j = 0; j < s.completion.size(); ++j, ++p) {
      const std::int32_t id = s.completion[j];
      if (id < 0 || id >= vocab) throw std::invalid_argument("distill step: token id " + std::to_string(id) + " out of range");
      const std::int64_t r = tokens;
      positions.push_back(static_cast<std::int32_t>(i * t + p - 1));
      pid[i * t + p] = id;
      pt[r] = id;
      old[static_cast<std::size_t>(r)] = s.old_logprobs[j];
      teacher[static_cast<std::size_t>(r)] = s.teacher_logprobs[j];
      if (full) {
        std::copy_n(s.teacher_rows.begin() + static_cast<std::ptrdiff_t>(j) * vocab, vocab,
                    teacher_rows.data<float>() + r * vocab);
      }
      ++tokens;
    }
  }
  Value logits = student.logits_at(g, ids, Tensor::from(positions, {static_cast<std::int64_t>(positions.size())}), true);
  Value loss;
  double kl_sum = 0, clipped = 0;
  if (full) {
    loss = reverse_kl_full(g, logits, teacher_rows, targets, o.temperature, o.normaliser);
    if (stats != nullptr) kl_sum = static_cast<double>(loss.tensor().to_vector<float>()[0]) * o.normaliser;
  } else {
    if (o.temperature != 1.0f) logits = fn::scale(g, logits, 1.0f / o.temperature);
    const Value lp = fn::token_logprobs(g, logits, targets);
    loss = reverse_kl_sampled(g, lp, old, teacher, o.clip, o.normaliser);
    if (stats != nullptr) {
      const std::vector<float> l = lp.tensor().to_vector<float>();
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::size_t u = static_cast<std::size_t>(r);
        kl_sum += static_cast<double>(old[u]) - teacher[u];
        const double ratio = std::exp(static_cast<double>(l[u]) - old[u]);
        clipped += ratio < 1.0 - o.clip.low || ratio > 1.0 + o.clip.high;
      }
    }
  }
  if (stats != nullptr) {
    stats->loss = loss.tensor().to_vector<float>()[0];
    stats->tokens = tokens;
    stats->kl = tokens ? kl_sum / static_cast<double>(tokens) : 0.0;
    stats->clip_fraction = tokens ? clipped / static_cast<double>(tokens) : 0.0;
  }
  return loss;
}

}  // namespace newsrl::models
