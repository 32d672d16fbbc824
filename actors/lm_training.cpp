#include "actors/lm_training.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>

#include "actors/run_folder.h"
#include "actors/training_data.h"
#include "models/model_file.h"
#include "models/training_checkpoint.h"
#include "runtime/checkpoint.h"

namespace newsrl::actors {

namespace fs = std::filesystem;
using kernels::Tensor;
using models::CausalLM;

namespace {

models::Qwen2Config model_config(const LmTrainingOptions& o) {
  const int given = !o.preset.empty() + !o.model_config.empty() + !o.init_checkpoint.empty();
  if (given != 1) throw std::invalid_argument("train lm needs exactly one of model.preset, model.config, model.init");
  if (!o.preset.empty()) return models::Qwen2Config::preset(o.preset);
  if (!o.init_checkpoint.empty()) {
    return models::read_config(runtime::H5File(o.init_checkpoint, runtime::H5File::Mode::read));
  }
  std::ifstream in(o.model_config);
  if (!in) throw std::invalid_argument(o.model_config + ": cannot read the model config");
  try {
    return models::Qwen2Config::from_json(nlohmann::json::parse(in), o.model_config);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(o.model_config + ": not JSON (" + e.what() + ")");
  }
}

}  // namespace

int train_lm(const LmTrainingOptions& o, const std::string& run, bool resume, const std::string& config_toml,
             const std::string& version, std::ostream& progress) {
  if (o.steps <= 0 || o.batch <= 0 || o.seq <= 1) {
    throw std::invalid_argument("train.steps and train.batch must be positive, train.seq at least 2");
  }
  if (o.checkpoint_every <= 0 || o.log_every <= 0) {
    throw std::invalid_argument("train.checkpoint_every and train.log_every must be positive");
  }
  const models::Qwen2Config config = model_config(o);
  if (o.seq > config.max_position_embeddings) {
    throw std::invalid_argument("train.seq " + std::to_string(o.seq) + " exceeds max_position_embeddings " +
                                std::to_string(config.max_position_embeddings));
  }
  const TrainingData data = TrainingData::load(o.data, config.vocab_size, o.seq);
  if (o.sft && !data.examples()) {
    throw std::invalid_argument(o.data + ": train sft needs {\"prompt\": [...], \"target\": [...]} lines (newsrl data sft)");
  }
  const std::int64_t windows = data.items();  // windows of the stream, or examples
  if (windows < o.batch) {
    throw std::invalid_argument(o.data + ": " + std::to_string(data.tokens()) + " tokens make " +
                                std::to_string(windows) + (data.examples() ? " examples" : " windows of " + std::to_string(o.seq)) +
                                ", fewer than one batch of " + std::to_string(o.batch));
  }

  runtime::RunCheckpoints checkpoints(run, {.keep_last = o.keep_last, .higher_is_better = false});
  const std::string metrics_path = (fs::path(run) / "metrics.jsonl").string();
  if (!resume && checkpoints.latest()) {
    throw std::invalid_argument(run + " already holds checkpoints: add --resume to continue it, or pick a new folder");
  }
  CausalLM model(config);
  model.set_recompute(o.recompute);
  models::Optimizer optimizer(model.parameters(),
                              kernels::AdamW{static_cast<float>(o.lr), 0.9f, 0.95f, 1e-8f,
                                             static_cast<float>(o.weight_decay)},
                              models::Schedule{static_cast<float>(o.lr), static_cast<float>(o.min_lr), o.warmup, o.steps},
                              static_cast<float>(o.clip));
  models::TrainingState state;
  std::mt19937_64 epoch_rng(o.seed);  // as of the current epoch's start
  if (resume) {
    const std::optional<std::string> latest = checkpoints.latest();
    if (!latest) throw std::invalid_argument(run + ": --resume, but there is no checkpoint to resume from");
    state = models::load_training(*latest, model, optimizer);
    if (state.rng_states.size() != 1) throw std::invalid_argument(*latest + ": holds no generator state for rank 0");
    std::istringstream(state.rng_states[0]) >> epoch_rng;
    truncate_metrics(metrics_path, state.global_step);
    progress << "resuming " << run << " from " << *latest << " (step " << state.global_step << ")\n";
  } else if (!o.init_checkpoint.empty()) {
    models::read_model(runtime::H5File(o.init_checkpoint, runtime::H5File::Mode::read), model);
  } else {
    model.init(o.seed);
  }
  runtime::write_file_atomically((fs::path(run) / "config.toml").string(), config_toml);

  // The current epoch's order of windows, drawn from the generator as of its start.
  std::vector<std::int64_t> order(static_cast<std::size_t>(windows));
  auto draw_order = [&] {
    std::mt19937_64 rng = epoch_rng;
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    return rng;  // the generator as the next epoch starts
  };
  std::mt19937_64 next_epoch_rng = draw_order();

  auto save = [&] {
    std::ostringstream rng_text;
    rng_text << epoch_rng;
    state.rng_states = {rng_text.str()};
    const std::string path = checkpoints.path_for(state.global_step);
    models::save_training(path, model, optimizer, state, {config_toml, version});
    checkpoints.committed(state.global_step);
  };

  std::ofstream metrics(metrics_path, std::ios::app);
  const bool terminal = (&progress == &std::cerr) && isatty(STDERR_FILENO);
  const std::int64_t kill_step = kill_at_step();
  Tensor ids, labels;
  std::vector<std::int64_t> items(static_cast<std::size_t>(o.batch));
  models::Graph graph;
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t first_step = state.global_step, first_tokens = state.tokens_seen;
  while (state.global_step < o.steps) {
    // The batch: the next `batch` items of this epoch's order.
    for (std::int64_t b = 0; b < o.batch; ++b) {
      const std::int64_t in_epoch = state.data_cursor % windows;
      if (in_epoch == 0 && state.data_cursor > 0) {  // a new epoch: its order comes from the generator
        epoch_rng = next_epoch_rng;
        next_epoch_rng = draw_order();
      }
      items[static_cast<std::size_t>(b)] = order[static_cast<std::size_t>(in_epoch)];
      ++state.data_cursor;
    }
    std::int64_t targets = 0;
    data.batch(items, ids, labels, targets);
    const auto t0 = std::chrono::steady_clock::now();
    graph.clear();
    model.zero_grad();
    const models::Value loss = model.loss(graph, ids, labels);
    graph.backward(loss);
    if (state.global_step + 1 == kill_step) std::raise(SIGKILL);
    const double grad_norm = optimizer.step();
    ++state.global_step;
    state.tokens_seen += targets;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const float loss_value = loss.tensor().data<float>()[0];
    metrics << nlohmann::json{{"step", state.global_step},       {"loss", loss_value},
                              {"lr", optimizer.last_lr()},       {"grad_norm", grad_norm},
                              {"tokens_seen", state.tokens_seen}, {"tokens_per_s", static_cast<double>(targets) / secs}}
                   .dump()
            << "\n";
    metrics.flush();
    const bool last = state.global_step == o.steps;
    if (state.global_step % o.checkpoint_every == 0 || last) save();
    if (state.global_step % o.log_every == 0 || last) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = static_cast<double>(state.global_step - first_step) / elapsed;
      std::ostringstream line;
      line << "step " << state.global_step << "/" << o.steps << "  loss " << loss_value << "  "
           << static_cast<long>(static_cast<double>(state.tokens_seen - first_tokens) / elapsed) << " tokens/s  ETA "
           << clock_text(static_cast<double>(o.steps - state.global_step) / rate);
      progress << (terminal ? "\r" : "") << line.str() << (terminal && !last ? "" : "\n") << std::flush;
    }
  }
  return 0;
}

}  // namespace newsrl::actors
