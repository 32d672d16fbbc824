#include "launch/grpo_command.h"

#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include "actors/roles.h"
#include "launch/config.h"
#include "launch/prompt_keys.h"
#include "launch/reward_keys.h"
#include "models/model_file.h"
#include "models/tokenizer.h"
#include "news/index_world.h"
#include "news/news_index.h"
#include "runtime/cluster.h"
#include "runtime/errors.h"

namespace newsrl::launch {

namespace fs = std::filesystem;

namespace {

std::string absolute(const std::string& path) {
  return path.empty() ? path : fs::absolute(path).lexically_normal().string();
}

struct Flags {
  std::string config, run;
  std::int64_t steps = 0;
  std::uint64_t seed = 0;
  bool resume = false, seed_given = false;
};

const char* const kTables[] = {"model", "data", "prompt", "grpo", "rewards", "placement"};

int train_grpo_command(const Flags& f, const char* version) {
  std::string config_path = f.config;
  const std::string saved = (fs::path(f.run) / "config.toml").string();
  if (config_path.empty() && f.resume && fs::exists(saved)) config_path = saved;
  if (config_path.empty()) throw runtime::ConfigError("train grpo needs --config FILE (or --resume of a run folder)");
  const toml::table root = load_config(config_path);
  for (const auto& [key, node] : root) {
    bool known = false;
    for (const char* t : kTables) known = known || key.str() == t;
    if (!known) {
      throw runtime::ConfigError(config_path + ": unknown table [" + std::string(key.str()) +
                                 "] (train grpo reads model, data, prompt, grpo, rewards, placement)");
    }
  }
  toml::table resolved;
  actors::GrpoTrainingOptions o = read_grpo_config(root, config_path, &resolved);
  // Flags win over the file.
  if (f.steps > 0) o.steps = f.steps;
  if (f.seed_given) o.seed = f.seed;
  resolved["grpo"].as_table()->insert_or_assign("steps", o.steps);
  resolved["grpo"].as_table()->insert_or_assign("seed", static_cast<std::int64_t>(o.seed));
  if (const std::string problem = actors::check_grpo_options(o); !problem.empty()) {
    throw runtime::ConfigError(config_path + " " + problem);
  }
  check_grpo_inputs(o, config_path);
  const toml::table* placement = root["placement"].as_table();
  const runtime::PlacementSpec spec = runtime::PlacementSpec::from_toml(
      placement, config_path + " [placement]", actors::role_names(), {"rollout", "reward", "learner"});
  if (placement != nullptr) resolved.insert("placement", *placement);
  std::ostringstream text;
  text << "# newsrl train grpo: the resolved config of this run\n" << resolved << "\n";
  int argc = 0;
  char** argv = nullptr;
  runtime::Cluster cluster(argc, argv, spec);
  return actors::train_grpo(cluster, o, f.run, f.resume, text.str(), version, std::cerr);
}

}  // namespace

actors::GrpoTrainingOptions read_grpo_config(const toml::table& root, const std::string& where,
                                             toml::table* resolved, bool paths) {
  actors::GrpoTrainingOptions o;
  const toml::table none;
  Section model(paths ? root : none, "model", where), data(paths ? root : none, "data", where),
      grpo(root, "grpo", where);
  model.get("init", o.init);
  model.get("recompute", o.recompute);
  data.get("world", o.world);
  data.get("index", o.index);
  data.get("tokenizer", o.tokenizer);
  data.get("max_users", o.max_users);  // the older spelling; [grpo] max_users is the one newsrl run reads too
  std::int64_t grpo_users = -1;
  grpo.get("max_users", grpo_users);
  grpo.get("steps", o.steps);
  grpo.get("group", o.group);
  grpo.get("prompts_per_step", o.prompts_per_step);
  grpo.get("max_new_tokens", o.max_new_tokens);
  grpo.get("temperature", o.temperature);
  grpo.get("top_k", o.top_k);
  grpo.get("top_p", o.top_p);
  grpo.get("lr", o.lr);
  grpo.get("min_lr", o.min_lr);
  grpo.get("warmup", o.warmup);
  grpo.get("weight_decay", o.weight_decay);
  grpo.get("clip_norm", o.clip_norm);
  grpo.get("clip_low", o.clip_low);
  grpo.get("clip_high", o.clip_high);
  grpo.get("beta", o.beta);
  grpo.get("epochs", o.epochs);
  grpo.get("advantage", o.advantage);
  grpo.get("micro_batch", o.micro_batch);
  grpo.get("checkpoint_every", o.checkpoint_every);
  grpo.get("keep_last", o.keep_last);
  grpo.get("log_every", o.log_every);
  grpo.get("seed", o.seed);
  model.finish();
  data.finish();
  grpo.finish();
  if (o.max_users < 0) throw runtime::ConfigError(where + " [data] max_users: must be at least 0 (0: every user)");
  if (grpo_users != -1) {
    if (grpo_users < 0) throw runtime::ConfigError(where + " [grpo] max_users: must be at least 0 (0: every user)");
    if (o.max_users != 0) {
      throw runtime::ConfigError(where + " [grpo] max_users and [data] max_users: give one (they are the same key)");
    }
    o.max_users = grpo_users;
  }
  if (const std::string problem = actors::check_grpo_options(o); !problem.empty()) {
    throw runtime::ConfigError(where + " " + problem);
  }
  toml::table prompt_table, reward_table;
  const PromptKeys prompt = read_prompt_config(root, where, &prompt_table);
  o.prompt = prompt.prompt;
  o.limits = prompt.limits;
  o.rewards = read_reward_config(root, where, &reward_table);
  // Absolute paths, so that the run's config.toml resumes from any folder.
  o.init = absolute(o.init);
  o.world = absolute(o.world);
  o.index = absolute(o.index);
  o.tokenizer = absolute(o.tokenizer);
  if (resolved != nullptr) {
    toml::table model_table = model.resolved(), data_table = data.resolved();
    model_table.insert_or_assign("init", o.init);
    data_table.insert_or_assign("world", o.world);
    data_table.insert_or_assign("index", o.index);
    data_table.insert_or_assign("tokenizer", o.tokenizer);
    if (paths) {
      resolved->insert_or_assign("model", model_table);
      resolved->insert_or_assign("data", data_table);
    }
    resolved->insert_or_assign("prompt", prompt_table);
    resolved->insert_or_assign("grpo", grpo.resolved());
    resolved->insert_or_assign("rewards", reward_table);
  }
  return o;
}

void check_grpo_inputs(const actors::GrpoTrainingOptions& o, const std::string& where) {
  auto bad = [&](const std::string& key, const std::string& what) {
    throw runtime::ConfigError(where + " " + key + ": " + what);
  };
  if (o.init.empty()) bad("[model] init", "missing: the checkpoint the policy starts from (the SFT run's)");
  if (!fs::is_regular_file(o.init)) bad("[model] init", o.init + ": no such checkpoint file");
  models::Qwen2Config config;
  try {
    config = models::read_config(runtime::H5File(o.init, runtime::H5File::Mode::read));
  } catch (const std::exception& e) {
    bad("[model] init", std::string("not a readable model checkpoint: ") + e.what());
  }
  for (const auto& [key, path] : {std::pair{"world", o.world}, std::pair{"index", o.index}}) {
    if (path.empty()) bad(std::string("[data] ") + key, "missing: a folder");
    if (!fs::is_directory(path)) bad(std::string("[data] ") + key, path + ": no such folder");
  }
  if (o.tokenizer.empty()) bad("[data] tokenizer", "missing: the policy's tokenizer.json");
  std::optional<models::Tokenizer> tokenizer;
  try {
    tokenizer.emplace(models::Tokenizer::load(o.tokenizer));
  } catch (const std::invalid_argument& e) {
    bad("[data] tokenizer", e.what());
  }
  if (!tokenizer->token_to_id(o.limits.closing)) {
    bad("[data] tokenizer", o.tokenizer + " has no " + o.limits.closing + " token (the policy's stop token)");
  }
  if (tokenizer->vocab_size() > config.vocab_size) {
    bad("[data] tokenizer", o.tokenizer + " has " + std::to_string(tokenizer->vocab_size()) + " ids, the policy " +
                                o.init + " only " + std::to_string(config.vocab_size));
  }
  std::string mismatch;
  bool has_train = false;
  try {
    const news::NewsIndex index = news::NewsIndex::load(o.index);
    for (const std::string& w : index.windows()) has_train = has_train || w == "train";
    mismatch = news::index_world_mismatch(index, o.index, o.world);
  } catch (const std::exception& e) {
    bad("[data] index", e.what());
  }
  if (!has_train) bad("[data] index", o.index + " has no train window (build it with --window all or train)");
  if (!mismatch.empty()) bad("[data] index", mismatch);
}

Runner add_grpo_command(CLI::App& train, const char* version) {
  auto f = std::make_shared<Flags>();
  CLI::App* grpo = train.add_subcommand(
      "grpo",
      "The Dr.GRPO teacher: rollout-workers sample query lists from the warm-started policy, reward-workers score "
      "them with the news rewards, learners update it; checkpoints and exact resume (docs/grpo.md). Run under "
      "mpirun for several ranks");
  grpo->add_option("--config", f->config, "Run config (TOML): [model] init, [data], [prompt], [grpo], [rewards.*], "
                                          "[placement]")
      ->check(CLI::ExistingFile);
  grpo->add_option("--run", f->run, "Run folder: config.toml, metrics.jsonl, checkpoints/, policy.h5")->required();
  grpo->add_flag("--resume", f->resume, "Continue from the run folder's latest checkpoint (and its config.toml)");
  grpo->add_option("--steps", f->steps, "Total steps (overrides [grpo] steps)")->check(CLI::PositiveNumber);
  grpo->add_option("--seed", f->seed, "Seed (overrides [grpo] seed)")->each([f](const std::string&) {
    f->seed_given = true;
  });
  return [=]() -> std::optional<int> {
    if (*grpo) return train_grpo_command(*f, version);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
