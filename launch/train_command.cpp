#include "launch/train_command.h"

#include <filesystem>
#include <iostream>
#include <sstream>

#include "actors/lm_training.h"
#include "launch/config.h"
#include "launch/distill_command.h"
#include "launch/grpo_command.h"
#include "runtime/errors.h"

namespace newsrl::launch {

namespace {

struct Flags {
  std::string config, run, data, preset;
  std::int64_t steps = 0;
  std::uint64_t seed = 0;
  bool resume = false, seed_given = false;
};

int train_lm(const Flags& f, const char* version, bool sft) {
  std::string config_path = f.config;
  const std::string saved = (std::filesystem::path(f.run) / "config.toml").string();
  if (config_path.empty() && f.resume && std::filesystem::exists(saved)) config_path = saved;
  toml::table root;
  if (!config_path.empty()) root = load_config(config_path);
  const std::string where = config_path.empty() ? "(no config)" : config_path;
  for (const auto& [key, node] : root) {
    if (key.str() != "model" && key.str() != "train") {
      throw runtime::ConfigError(where + ": unknown table [" + std::string(key.str()) + "] (train lm reads [model] and [train])");
    }
  }
  actors::LmTrainingOptions o;
  o.sft = sft;
  if (sft) o.seq = 512;  // a prompt (384 tokens by default) and its list
  Section model(root, "model", where), train(root, "train", where);
  model.get("preset", o.preset);
  model.get("config", o.model_config);
  model.get("init", o.init_checkpoint);
  model.get("recompute", o.recompute);
  train.get("data", o.data);
  train.get("steps", o.steps);
  train.get("batch", o.batch);
  train.get("seq", o.seq);
  train.get("lr", o.lr);
  train.get("min_lr", o.min_lr);
  train.get("warmup", o.warmup);
  train.get("weight_decay", o.weight_decay);
  train.get("clip", o.clip);
  train.get("seed", o.seed);
  train.get("checkpoint_every", o.checkpoint_every);
  train.get("keep_last", o.keep_last);
  train.get("log_every", o.log_every);
  model.finish();
  train.finish();
  // Flags win over the file.
  if (!f.preset.empty()) {
    o.preset = f.preset;
    o.model_config.clear();
    o.init_checkpoint.clear();
  }
  if (!f.data.empty()) o.data = f.data;
  if (f.steps > 0) o.steps = f.steps;
  if (f.seed_given) o.seed = f.seed;
  if (o.preset.empty() && o.model_config.empty() && o.init_checkpoint.empty()) o.preset = "nano";
  if (o.data.empty()) throw std::invalid_argument("train lm needs data: --data FILE or [train] data in the config");
  // Absolute paths, so that the run's config.toml resumes from any folder.
  o.data = std::filesystem::absolute(o.data).lexically_normal().string();
  if (!o.init_checkpoint.empty()) o.init_checkpoint = std::filesystem::absolute(o.init_checkpoint).lexically_normal().string();
  if (!o.model_config.empty()) o.model_config = std::filesystem::absolute(o.model_config).lexically_normal().string();

  toml::table resolved;
  toml::table model_table;
  if (!o.preset.empty()) model_table.insert("preset", o.preset);
  if (!o.model_config.empty()) model_table.insert("config", o.model_config);
  if (!o.init_checkpoint.empty()) model_table.insert("init", o.init_checkpoint);
  if (o.recompute) model_table.insert("recompute", true);
  toml::table train_table = train.resolved();
  train_table.insert_or_assign("data", o.data);
  train_table.insert_or_assign("steps", o.steps);
  train_table.insert_or_assign("seed", static_cast<std::int64_t>(o.seed));
  resolved.insert("model", model_table);
  resolved.insert("train", train_table);
  std::ostringstream text;
  text << "# newsrl train " << (sft ? "sft" : "lm") << ": the resolved config of this run\n" << resolved << "\n";
  return actors::train_lm(o, f.run, f.resume, text.str(), version, std::cerr);
}

}  // namespace

Runner add_train_commands(CLI::App& app, const char* version) {
  CLI::App* train = app.add_subcommand(
      "train",
      "Train models: lm (next-token training on token ids), sft (the warm start on prompt/target examples), grpo "
      "(the Dr.GRPO teacher on the news rewards) and distill (a student from a teacher), with checkpoints and exact "
      "resume");
  train->require_subcommand(1);
  auto f = std::make_shared<Flags>();
  auto common = [f](CLI::App* cmd) {
    cmd->add_option("--config", f->config, "Run config (TOML) with [model] and [train]")->check(CLI::ExistingFile);
    cmd->add_option("--run", f->run, "Run folder: config.toml, metrics.jsonl, checkpoints/")->required();
    cmd->add_flag("--resume", f->resume, "Continue from the run folder's latest checkpoint (and its config.toml)");
    cmd->add_option("--data", f->data, "Training data, JSONL (overrides [train] data)")->check(CLI::ExistingFile);
    cmd->add_option("--preset", f->preset, "Model preset (overrides [model])");
    cmd->add_option("--steps", f->steps, "Total steps (overrides [train] steps)")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", f->seed, "Seed (overrides [train] seed)")->each([f](const std::string&) {
      f->seed_given = true;
    });
  };
  CLI::App* lm = train->add_subcommand(
      "lm",
      "Next-token training of a causal LM on token ids (JSONL, one array per line; SFT examples work too), with "
      "checkpoints in the run folder; --resume continues bit for bit from the latest one. Keys: "
      "docs/configuration.md");
  common(lm);
  CLI::App* sft = train->add_subcommand(
      "sft",
      "The warm start: the policy learns to write query lists from `newsrl data sft` examples (loss on the targets "
      "only); the same keys, checkpoints and resume as train lm");
  common(sft);
  const Runner grpo = add_grpo_command(*train, version);
  const Runner distill = add_distill_command(*train, version);
  return [=]() -> std::optional<int> {
    if (*lm) return train_lm(*f, version, false);
    if (*sft) return train_lm(*f, version, true);
    if (std::optional<int> status = grpo()) return status;
    if (std::optional<int> status = distill()) return status;
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
