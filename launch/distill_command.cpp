#include "launch/distill_command.h"

#include <filesystem>
#include <iostream>
#include <sstream>

#include "actors/distill_training.h"
#include "actors/roles.h"
#include "launch/config.h"
#include "launch/grpo_command.h"
#include "launch/run_config.h"
#include "models/model_file.h"
#include "models/tokenizer.h"
#include "runtime/checkpoint.h"
#include "runtime/cluster.h"
#include "runtime/errors.h"

namespace newsrl::launch {

namespace fs = std::filesystem;

namespace {

struct Flags {
  std::string config, run, mode, kl;
  std::vector<std::string> sets;
  std::int64_t steps = 0;
  std::uint64_t seed = 0;
  bool resume = false, seed_given = false;
};

const char* const kTables[] = {"model", "teacher", "data", "prompt", "distill", "grpo", "rewards", "placement"};

int train_distill_command(const Flags& f, const char* version) {
  std::string config_path = f.config;
  const std::string saved = (fs::path(f.run) / "config.toml").string();
  if (config_path.empty() && f.resume && fs::exists(saved)) config_path = saved;
  if (config_path.empty()) throw runtime::ConfigError("train distill needs --config FILE (or --resume of a run folder)");
  const toml::table root = load_run_config(config_path, f.sets);
  for (const auto& [key, node] : root) {
    bool known = false;
    for (const char* t : kTables) known = known || key.str() == t;
    if (!known) {
      throw runtime::ConfigError(config_path + ": unknown table [" + std::string(key.str()) +
                                 "] (train distill reads model, teacher, data, prompt, distill, grpo, rewards, "
                                 "placement)");
    }
  }
  toml::table resolved;
  actors::DistillTrainingOptions o;
  o.base = read_grpo_config(root, config_path, &resolved);
  toml::table teacher_table, distill_table;
  read_distill_config(root, config_path, o, &teacher_table, &distill_table);
  // Flags win over the file; --steps and --seed set the mode's own budget.
  if (!f.mode.empty()) o.mode = f.mode;
  if (!f.kl.empty()) o.kl = f.kl;
  if (f.steps > 0) (o.mode == "none" ? o.base.steps : o.steps) = f.steps;
  if (f.seed_given) (o.mode == "none" ? o.base.seed : o.seed) = f.seed;
  if (const std::string problem = actors::check_distill_options(o); !problem.empty()) {
    throw runtime::ConfigError(config_path + " " + problem);
  }
  check_grpo_inputs(o.base, config_path);
  const models::Qwen2Config student = checkpoint_model_config(o.base.init, "[model] init", config_path);
  if (o.mode != "none") {
    if (o.teacher.empty()) {
      throw runtime::ConfigError(config_path + " [teacher] checkpoint: missing: the teacher's model checkpoint");
    }
    o.teacher = fs::absolute(o.teacher).lexically_normal().string();
    const models::Qwen2Config t = checkpoint_model_config(o.teacher, "[teacher] checkpoint", config_path);
    if (t.vocab_size != student.vocab_size) {
      throw runtime::ConfigError(config_path + " [teacher] checkpoint: the teacher's vocabulary has " +
                                 std::to_string(t.vocab_size) + " ids, the student's " + std::to_string(student.vocab_size) +
                                 ": student and teacher must share a tokenizer");
    }
  }
  if (o.mode != "none") teacher_table.insert_or_assign("checkpoint", o.teacher);
  distill_table.insert_or_assign("mode", o.mode);
  distill_table.insert_or_assign("kl", o.kl);
  distill_table.insert_or_assign("steps", o.steps);
  distill_table.insert_or_assign("seed", static_cast<std::int64_t>(o.seed));
  resolved["grpo"].as_table()->insert_or_assign("steps", o.base.steps);
  resolved["grpo"].as_table()->insert_or_assign("seed", static_cast<std::int64_t>(o.base.seed));
  resolved.insert_or_assign("teacher", teacher_table);
  resolved.insert_or_assign("distill", distill_table);
  const toml::table* placement = root["placement"].as_table();
  const runtime::PlacementSpec spec = runtime::PlacementSpec::from_toml(placement, config_path + " [placement]",
                                                                        actors::role_names(), actors::distill_roles(o.mode));
  if (placement != nullptr) resolved.insert("placement", *placement);
  std::ostringstream text;
  text << "# newsrl train distill: the resolved config of this run\n" << resolved << "\n";
  int argc = 0;
  char** argv = nullptr;
  runtime::Cluster cluster(argc, argv, spec);
  return actors::train_distill(cluster, o, f.run, f.resume, text.str(), version, std::cerr);
}

}  // namespace

models::Qwen2Config checkpoint_model_config(const std::string& path, const std::string& key, const std::string& where) {
  if (path.empty()) throw runtime::ConfigError(where + " " + key + ": missing: a model checkpoint");
  if (!fs::is_regular_file(path)) throw runtime::ConfigError(where + " " + key + ": " + path + ": no such checkpoint file");
  try {
    return models::read_config(runtime::H5File(path, runtime::H5File::Mode::read));
  } catch (const std::exception& e) {
    throw runtime::ConfigError(where + " " + key + ": not a readable model checkpoint: " + e.what());
  }
}

void read_distill_config(const toml::table& root, const std::string& where, actors::DistillTrainingOptions& o,
                         toml::table* teacher_resolved, toml::table* distill_resolved) {
  Section teacher(root, "teacher", where), distill(root, "distill", where);
  teacher.get("checkpoint", o.teacher);
  distill.get("mode", o.mode);
  distill.get("kl", o.kl);
  distill.get("steps", o.steps);
  distill.get("prompts_per_step", o.prompts_per_step);
  distill.get("samples_per_prompt", o.samples_per_prompt);
  distill.get("max_new_tokens", o.max_new_tokens);
  distill.get("temperature", o.temperature);
  distill.get("lr", o.lr);
  distill.get("min_lr", o.min_lr);
  distill.get("warmup", o.warmup);
  distill.get("weight_decay", o.weight_decay);
  distill.get("clip_norm", o.clip_norm);
  distill.get("clip_low", o.clip_low);
  distill.get("clip_high", o.clip_high);
  distill.get("checkpoint_every", o.checkpoint_every);
  distill.get("keep_last", o.keep_last);
  distill.get("log_every", o.log_every);
  distill.get("seed", o.seed);
  distill.get("best_of", o.best_of);
  distill.get("teacher_temperature", o.teacher_temperature);
  distill.get("select", o.select);
  distill.get("batch", o.batch);
  distill.get("seq", o.seq);
  teacher.finish();
  distill.finish();
  if (teacher_resolved != nullptr) *teacher_resolved = teacher.resolved();
  if (distill_resolved != nullptr) *distill_resolved = distill.resolved();
}

Runner add_distill_command(CLI::App& train, const char* version) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = train.add_subcommand(
      "distill",
      "A small student learns from a frozen teacher: on-policy reverse KL on the student's own samples "
      "(teacher-scorers score them), supervised fine-tuning on the teacher's lists, or the GRPO recipe without a "
      "teacher; checkpoints and exact resume (docs/distillation.md). Run under mpirun for several ranks");
  cmd->add_option("--config", f->config,
                  "Run config (TOML): [model] init, [teacher] checkpoint, [data], [prompt], [distill], [grpo], "
                  "[rewards.*], [placement]")
      ->check(CLI::ExistingFile);
  cmd->add_option("--run", f->run, "Run folder: config.toml, metrics.jsonl, checkpoints/, student.h5")->required();
  cmd->add_flag("--resume", f->resume, "Continue from the run folder's latest checkpoint (and its config.toml)");
  cmd->add_option("--mode", f->mode, "on-policy, supervised or none (overrides [distill] mode)")
      ->check(CLI::IsMember({"on-policy", "supervised", "none"}));
  cmd->add_option("--kl", f->kl, "full or sampled: the on-policy KL estimator (overrides [distill] kl)")
      ->check(CLI::IsMember({"full", "sampled"}));
  cmd->add_option("--set", f->sets,
                  "Override a config key: table.key=value (repeatable), e.g. --set distill.kl=sampled; applied on "
                  "top of the config (the run folder's config.toml on --resume)");
  cmd->add_option("--steps", f->steps, "Total steps (overrides [distill] steps; [grpo] steps for mode none)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", f->seed, "Seed (overrides [distill] seed; [grpo] seed for mode none)")
      ->each([f](const std::string&) { f->seed_given = true; });
  return [=]() -> std::optional<int> {
    if (*cmd) return train_distill_command(*f, version);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
