#include "launch/model_command.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/generation.h"
#include "models/model_file.h"
#include "models/optimizer.h"
#include "runtime/h5_file.h"

namespace newsrl::launch {

namespace {

using kernels::Tensor;
using models::CausalLM;
using models::Qwen2Config;
using Clock = std::chrono::steady_clock;

nlohmann::json read_json(const std::string& text_or_path, const std::string& what) {
  std::string text = text_or_path;
  std::string source = what;
  if (!text.empty() && text.front() != '[' && text.front() != '{') {
    std::ifstream in(text_or_path);
    if (!in) throw std::invalid_argument(text_or_path + ": cannot read " + what);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    source = text_or_path;
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::invalid_argument(source + ": not valid JSON (" + std::string(e.what()) + ")");
  }
}

// A rectangular list of lists of integers → int32 [rows, cols].
Tensor id_matrix(const nlohmann::json& j, const std::string& where, std::int64_t vocab, bool allow_ignore) {
  if (!j.is_array() || j.empty())
    throw std::invalid_argument(where + " must be a non-empty list of lists of token ids");
  const std::size_t cols = j[0].is_array() ? j[0].size() : 0;
  if (cols == 0) throw std::invalid_argument(where + "[0] must be a non-empty list of token ids");
  std::vector<std::int32_t> ids;
  for (std::size_t r = 0; r < j.size(); ++r) {
    if (!j[r].is_array() || j[r].size() != cols) {
      throw std::invalid_argument(where + "[" + std::to_string(r) + "] must hold " + std::to_string(cols) +
                                  " ids like the first row");
    }
    for (std::size_t c = 0; c < cols; ++c) {
      const auto& v = j[r][c];
      if (!v.is_number_integer()) {
        throw std::invalid_argument(where + "[" + std::to_string(r) + "][" + std::to_string(c) + "] is not an integer");
      }
      const std::int64_t id = v.get<std::int64_t>();
      if ((id < 0 || id >= vocab) && !(allow_ignore && id == kernels::kIgnoreIndex)) {
        throw std::invalid_argument(where + "[" + std::to_string(r) + "][" + std::to_string(c) + "] = " +
                                    std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab));
      }
      ids.push_back(static_cast<std::int32_t>(id));
    }
  }
  return Tensor::from(ids, {static_cast<std::int64_t>(j.size()), static_cast<std::int64_t>(cols)});
}

// This machine's sgemm FLOP/s (1024³ products), the yardstick of model FLOPs utilisation, sampled between
// the timed training steps: a VM's speed drifts by 20-30% within minutes, so a rate measured once before or
// after the steps can be far from the one they ran at.
class SgemmProbe {
 public:
  void sample() {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kN, kN, kN, 1.0f, a_.data(), kN, b_.data(), kN, 0.0f,
                c_.data(), kN);
    const auto t0 = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kN, kN, kN, 1.0f, a_.data(), kN, b_.data(), kN, 0.0f,
                c_.data(), kN);
    rates_.push_back(2.0 * kN * kN * kN / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  double median() {
    std::sort(rates_.begin(), rates_.end());
    return rates_[rates_.size() / 2];
  }

 private:
  static constexpr int kN = 1024;
  std::vector<float> a_ = std::vector<float>(kN * kN, 1.0f), b_ = std::vector<float>(kN * kN, 0.5f),
                     c_ = std::vector<float>(kN * kN);
  std::vector<double> rates_;
};

struct Options {
  std::string preset, config_path, out, ckpt, tokens, prompt_ids, mode = "train", weights = "float32";
  std::uint64_t seed = 0;
  bool grads = false, json = false;
  int n = 1, max_new_tokens = 32, top_k = 0;
  float temperature = 1.0f, top_p = 1.0f;
  std::vector<int> stop;
  std::int64_t batch = 8, seq = 128, steps = 10;
};

kernels::DType weights_dtype(const std::string& name) {
  return name == "bfloat16" ? kernels::DType::bf16 : kernels::DType::f32;  // CLI11 checked the name
}

int init(const Options& o) {
  Qwen2Config c = o.preset.empty() ? Qwen2Config::from_json(read_json(o.config_path, "config"), o.config_path)
                                   : Qwen2Config::preset(o.preset);
  CausalLM m(c);
  m.init(o.seed);
  models::save_model(m, o.out);
  std::cout << "wrote " << o.out << ": " << (o.preset.empty() ? o.config_path : o.preset) << ", " << c.parameter_count()
            << " parameters, seed " << o.seed << "\n";
  return 0;
}

int forward(const Options& o) {
  CausalLM m = models::load_model(o.ckpt);
  const nlohmann::json batch = read_json(o.tokens, "tokens");
  if (!batch.is_object() || !batch.contains("input_ids")) {
    throw std::invalid_argument(o.tokens + ": needs {\"input_ids\": [[...], ...]} (and optionally \"labels\")");
  }
  const std::int64_t vocab = m.config().vocab_size;
  const Tensor ids = id_matrix(batch["input_ids"], o.tokens + ": input_ids", vocab, false);
  const bool has_labels = batch.contains("labels");
  const Tensor labels = has_labels ? id_matrix(batch["labels"], o.tokens + ": labels", vocab, true) : Tensor();
  if (has_labels && !(labels.shape() == ids.shape())) {
    throw std::invalid_argument(o.tokens + ": labels " + labels.shape().str() + " and input_ids " + ids.shape().str() +
                                " differ in shape");
  }
  if (o.grads && !has_labels) throw std::invalid_argument("--grads needs labels in " + o.tokens);
  models::Graph g;
  runtime::H5File out(o.out, runtime::H5File::Mode::create);
  const models::Value logits = m.logits(g, ids, false);
  out.write_f32("/logits", logits.shape().to_vector(), logits.tensor().data<float>());
  if (has_labels) {
    g.clear();
    m.zero_grad();
    const models::Value loss = m.loss(g, ids, labels);
    out.write_f32("/loss", {1}, loss.tensor().data<float>());
    if (o.grads) {
      g.backward(loss);
      for (const models::Parameter* p : m.parameters()) {
        out.write_f32("/grads/" + p->name, p->grad.shape().to_vector(), p->grad.data<float>());
      }
    }
    std::cout << "loss " << loss.tensor().to_vector<float>()[0] << "\n";
  }
  std::cout << "wrote " << o.out << "\n";
  return 0;
}

int generate(const Options& o) {
  CausalLM m = models::load_model(o.ckpt);
  const nlohmann::json p = read_json(o.prompt_ids, "prompt ids");
  if (!p.is_array() || p.empty()) throw std::invalid_argument("--prompt-ids must be a list of lists of token ids");
  std::vector<std::vector<std::int32_t>> prompts;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const std::string where = "--prompt-ids[" + std::to_string(i) + "]";
    if (!p[i].is_array() || p[i].empty()) throw std::invalid_argument(where + " must be a non-empty list of ids");
    std::vector<std::int32_t> ids;
    for (const auto& v : p[i]) {
      if (!v.is_number_integer()) throw std::invalid_argument(where + " holds a value that is not an integer");
      ids.push_back(v.get<std::int32_t>());
    }
    for (int k = 0; k < o.n; ++k) prompts.push_back(ids);
  }
  models::SamplingOptions s;
  s.max_new_tokens = o.max_new_tokens;
  s.temperature = o.temperature;
  s.top_k = o.top_k;
  s.top_p = o.top_p;
  s.seed = o.seed;
  s.weights = weights_dtype(o.weights);
  s.stop_tokens.assign(o.stop.begin(), o.stop.end());
  const auto out = models::generate(m, prompts, s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::cout << nlohmann::json{{"prompt", i / static_cast<std::size_t>(o.n)},
                                {"sample", i % static_cast<std::size_t>(o.n)},
                                {"ids", out[i].tokens},
                                {"logprobs", out[i].logprobs},
                                {"stopped", out[i].stopped}}
                     .dump()
              << "\n";
  }
  return 0;
}

int bench(const Options& o) {
  const Qwen2Config c = Qwen2Config::preset(o.preset);
  if (o.batch <= 0 || o.seq < 2 || o.steps <= 0)
    throw std::invalid_argument("--batch, --seq and --steps must be positive (--seq at least 2)");
  CausalLM m(c);
  m.init(o.seed);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(o.batch * o.seq));
  for (std::size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<std::int32_t>((i * 7 + 3) % static_cast<std::size_t>(c.vocab_size));
  nlohmann::json r = {{"mode", o.mode}, {"preset", o.preset}, {"batch", o.batch}, {"seq", o.seq}, {"steps", o.steps}};
  if (o.mode == "train") {
    const Tensor x = Tensor::from(ids, {o.batch, o.seq});
    models::Optimizer opt(m.parameters(), kernels::AdamW{1e-4f, 0.9f, 0.95f, 1e-8f, 0.0f},
                          models::Schedule{1e-4f, 1e-4f, 0, 1}, 1.0f);
    models::Graph g;
    auto step = [&] {
      g.clear();
      m.zero_grad();
      models::Value loss = m.loss(g, x, x);
      g.backward(loss);
      opt.step();
    };
    step();
    step();  // warm-up: caches filled, pages touched
    SgemmProbe probe;
    double secs = 0;
    for (std::int64_t i = 0; i < o.steps; ++i) {
      const auto t0 = Clock::now();
      step();
      secs += std::chrono::duration<double>(Clock::now() - t0).count();
      probe.sample();
    }
    const double tokens = static_cast<double>(o.batch * o.seq * o.steps);
    // Model FLOPs: 6 per parameter per token (forward and backward), plus causal attention.
    const double flops_per_token = 6.0 * static_cast<double>(c.parameter_count()) +
                                   6.0 * static_cast<double>(c.num_hidden_layers * o.seq * c.hidden_size);
    const double peak = probe.median();
    r["tokens_per_s"] = tokens / secs;
    r["step_ms"] = secs / static_cast<double>(o.steps) * 1e3;
    r["model_gflops"] = tokens * flops_per_token / secs / 1e9;
    r["sgemm_gflops"] = peak / 1e9;
    r["mfu"] = tokens * flops_per_token / secs / peak;
  } else if (o.mode == "generate") {
    const std::int64_t prompt = o.seq / 2, fresh = o.seq - prompt;
    std::vector<std::vector<std::int32_t>> prompts;
    for (std::int64_t b = 0; b < o.batch; ++b) {
      prompts.emplace_back(ids.begin() + b * o.seq, ids.begin() + b * o.seq + prompt);
    }
    models::SamplingOptions s;
    s.temperature = 0.0f;
    s.max_new_tokens = static_cast<int>(fresh);
    s.weights = weights_dtype(o.weights);
    r["weights"] = o.weights;
    models::generate(m, prompts, s);  // warm-up
    std::vector<double> times;
    for (std::int64_t i = 0; i < o.steps; ++i) {
      const auto t0 = Clock::now();
      models::generate(m, prompts, s);
      times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    const double secs = times[times.size() / 2];
    r["tokens_per_s"] = static_cast<double>(o.batch * fresh) / secs;
    r["step_ms"] = secs * 1e3;
  } else {
    throw std::invalid_argument("--mode must be train or generate");
  }
  r["threads"] = omp_get_max_threads();
  r["engine"] = "newsrl";
  if (o.json) {
    std::cout << r.dump() << "\n";
  } else {
    std::cout << o.mode << " " << o.preset << " batch " << o.batch << " seq " << o.seq << ": "
              << static_cast<long>(r["tokens_per_s"].get<double>()) << " tokens/s, " << r["step_ms"].get<double>()
              << " ms per " << (o.mode == "train" ? "step" : "batch") << "\n";
  }
  return 0;
}

}  // namespace

Runner add_model_commands(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* model = app.add_subcommand("model", "The Qwen2-family engine: init, forward, generate, bench");
  model->require_subcommand(1);

  CLI::App* init_cmd = model->add_subcommand("init", "Write a freshly initialised model to an HDF5 file");
  auto* preset = init_cmd->add_option("--preset", o->preset, "nano, micro, mini, small, qwen2.5-0.5b ... qwen2.5-32b");
  auto* config = init_cmd->add_option("--config", o->config_path, "A Hugging Face config.json instead of a preset")
                     ->check(CLI::ExistingFile);
  preset->excludes(config);
  init_cmd->add_option("--seed", o->seed, "Initialisation seed");
  init_cmd->add_option("--out", o->out, "The HDF5 file to write")->required();

  CLI::App* fwd = model->add_subcommand("forward", "Logits (and loss, gradients) of a batch; written to HDF5");
  fwd->add_option("--ckpt", o->ckpt, "Model HDF5 file")->required();
  fwd->add_option("--tokens", o->tokens, "batch.json: {\"input_ids\": [[...]], \"labels\": [[...]]}")->required();
  fwd->add_option("--out", o->out, "HDF5 file for /logits, /loss, /grads/<name>")->required();
  fwd->add_flag("--grads", o->grads, "Also write d loss / d every parameter (needs labels)");

  CLI::App* gen = model->add_subcommand("generate", "Sample continuations; one JSON line per sample");
  gen->add_option("--ckpt", o->ckpt, "Model HDF5 file")->required();
  gen->add_option("--prompt-ids", o->prompt_ids, "JSON list of token-id lists, inline or a file")->required();
  gen->add_option("--n", o->n, "Samples per prompt")->check(CLI::Range(1, 4096));
  gen->add_option("--max-new-tokens", o->max_new_tokens, "Tokens to generate at most")->check(CLI::Range(0, 1 << 20));
  gen->add_option("--temperature", o->temperature, "0: greedy")->check(CLI::Range(0.0, 100.0));
  gen->add_option("--top-k", o->top_k, "0: no limit")->check(CLI::Range(0, 1 << 30));
  gen->add_option("--top-p", o->top_p, "Nucleus cut, (0, 1]")->check(CLI::Range(0.0, 1.0));
  gen->add_option("--stop", o->stop, "Stop token ids")->delimiter(',');
  gen->add_option("--seed", o->seed, "Sampling seed");
  gen->add_option("--weights", o->weights, "Decode from float32 weights or from bfloat16 copies (half the bytes)")
      ->check(CLI::IsMember({"float32", "bfloat16"}));

  CLI::App* b = model->add_subcommand("bench", "Tokens per second of a training step or of batched generation");
  b->add_option("--preset", o->preset, "Model preset")->required();
  b->add_option("--batch", o->batch, "Sequences per batch");
  b->add_option("--seq", o->seq, "Tokens per sequence (generate: half prompt, half new)");
  b->add_option("--steps", o->steps, "Timed steps (train) or batches (generate)");
  b->add_option("--mode", o->mode, "train or generate")->check(CLI::IsMember({"train", "generate"}));
  b->add_option("--weights", o->weights, "generate: decode from float32 or bfloat16 weights")
      ->check(CLI::IsMember({"float32", "bfloat16"}));
  b->add_flag("--json", o->json, "One JSON line");

  return [=]() -> std::optional<int> {
    if (*init_cmd) {
      if (o->preset.empty() && o->config_path.empty())
        throw std::invalid_argument("model init needs --preset or --config");
      return init(*o);
    }
    if (*fwd) return forward(*o);
    if (*gen) return generate(*o);
    if (*b) return bench(*o);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
