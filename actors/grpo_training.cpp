#include "actors/grpo_training.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "actors/grpo_loop.h"
#include "actors/news_rollouts.h"
#include "actors/reward_worker.h"
#include "actors/run_folder.h"
#include "models/model_file.h"
#include "models/tokenizer.h"
#include "news/policy_users.h"
#include "runtime/checkpoint.h"

namespace newsrl::actors {

namespace fs = std::filesystem;

namespace {

// JSON has no NaN: a part with no value is null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json metrics_line(const GrpoStepLog& log) {
  nlohmann::json reward = {{"composite", {{"mean", number(log.reward_mean)}, {"std", number(log.reward_std)}}}};
  for (const auto& [name, ms] : log.parts) reward[name] = {{"mean", number(ms.mean)}, {"std", number(ms.std)}};
  return {{"step", log.step},
          {"policy_version", log.policy_version},
          {"reward", reward},
          {"zero_spread", log.zero_spread},
          {"kl", number(log.learner.kl)},
          {"entropy", number(log.entropy)},
          {"clip_fraction", log.learner.clip_fraction},
          {"mean_ratio", number(log.learner.mean_ratio)},
          {"response_length", log.mean_length},
          {"parse_failures", log.failure_share},
          {"loss", number(log.learner.loss)},
          {"grad_norm", number(log.learner.grad_norm)},
          {"lr", log.learner.lr},
          {"tokens_per_s", log.seconds > 0 ? static_cast<double>(log.completion_tokens) / log.seconds : 0.0},
          {"seconds", log.seconds},
          {"stage_seconds",
           {{"rollout", log.rollout_seconds}, {"reward", log.reward_seconds}, {"learn", log.learn_seconds}}}};
}

}  // namespace

std::string check_grpo_options(const GrpoTrainingOptions& o) {
  auto need = [](bool ok, const char* key, const char* what) { return ok ? std::string() : std::string("[grpo] ") + key + ": " + what; };
  for (const std::string& problem : {
           need(o.steps >= 1, "steps", "must be at least 1"),
           need(o.group >= 2, "group", "must be at least 2 (advantages compare samples of a group)"),
           need(o.prompts_per_step >= 1, "prompts_per_step", "must be at least 1"),
           need(o.max_new_tokens >= 1, "max_new_tokens", "must be at least 1"),
           need(o.temperature > 0 && std::isfinite(o.temperature), "temperature", "must be above 0"),
           need(o.top_k >= 0, "top_k", "must be at least 0 (0: no limit)"),
           need(o.top_p > 0 && o.top_p <= 1, "top_p", "must be in (0, 1]"),
           need(o.lr > 0 && std::isfinite(o.lr), "lr", "must be above 0"),
           need(o.min_lr >= 0 && o.min_lr <= o.lr, "min_lr", "must be in [0, lr]"),
           need(o.warmup >= 0, "warmup", "must be at least 0"),
           need(o.weight_decay >= 0, "weight_decay", "must be at least 0"),
           need(o.clip_norm >= 0, "clip_norm", "must be at least 0 (0: no clipping)"),
           need(o.clip_low >= 0 && o.clip_low < 1, "clip_low", "must be in [0, 1)"),
           need(o.clip_high >= 0, "clip_high", "must be at least 0"),
           need(o.beta >= 0 && std::isfinite(o.beta), "beta", "must be at least 0"),
           need(o.epochs >= 1, "epochs", "must be at least 1"),
           need(o.micro_batch >= 0, "micro_batch", "must be at least 0 (0: the whole share at once)"),
           need(o.advantage == "composite" || o.advantage == "per-reward", "advantage",
                "must be \"composite\" or \"per-reward\""),
           need(o.checkpoint_every >= 1, "checkpoint_every", "must be at least 1"),
           need(o.keep_last >= 1, "keep_last", "must be at least 1"),
           need(o.log_every >= 1, "log_every", "must be at least 1"),
       }) {
    if (!problem.empty()) return problem;
  }
  return "";
}

int train_grpo(runtime::Cluster& cluster, const GrpoTrainingOptions& o, const std::string& run_dir, bool resume,
               const std::string& config_toml, const std::string& version, std::ostream& progress) {
  if (const std::string problem = check_grpo_options(o); !problem.empty()) throw std::invalid_argument(problem);
  // The actors, on every rank.
  const PolicySource source{o.init, "", 0};
  auto rollouts = cluster.spawn<PolicyRollout>("rollout", source);
  RewardWorkerOptions ro{o.world, o.index, o.tokenizer, o.rewards, o.limits, o.max_users};
  auto reward_workers = cluster.spawn<RewardWorker>("reward", ro);
  LearnerOptions lo = learner_options(o);
  lo.beta = static_cast<float>(o.beta);
  lo.epochs = o.epochs;
  lo.micro_batch = o.micro_batch;
  lo.recompute = o.recompute;
  auto learners = cluster.spawn<PolicyLearner>("learner", source, lo);
  if (!cluster.is_driver()) return cluster.serve();

  // The prompts: every user with cleaned signals, rendered as `data sft` does.
  const NewsPrompts inputs = load_news_prompts(o.world, o.max_users, o.tokenizer, o.prompt, o.limits, o.init,
                                               o.max_new_tokens, "grpo", progress);
  const news::PolicyUsers& users = inputs.users;
  const std::vector<std::vector<std::int32_t>>& prompts = inputs.prompts;
  // GRPO's gain is bought user by user: say how often each comes back (docs/grpo.md).
  std::ostringstream draws;
  draws << std::fixed << std::setprecision(1)
        << static_cast<double>(o.steps) * o.prompts_per_step / static_cast<double>(prompts.size());
  progress << "grpo: " << o.steps << " steps of " << o.prompts_per_step << " prompts draw each prompt "
           << draws.str() << " times\n";
  if (o.recompute) progress << "grpo: the learners recompute each block's activations in the backward\n";

  GrpoLoopOptions lopt;
  lopt.steps = static_cast<int>(o.steps);
  lopt.group = o.group;
  lopt.prompts_per_step = o.prompts_per_step;
  lopt.seed = o.seed;
  lopt.per_reward = o.advantage == "per-reward";
  lopt.sampling.max_new_tokens = o.max_new_tokens;
  lopt.sampling.temperature = static_cast<float>(o.temperature);
  lopt.sampling.top_k = o.top_k;
  lopt.sampling.top_p = static_cast<float>(o.top_p);
  lopt.sampling.stop_tokens = inputs.stop_tokens;

  // The run folder: a fresh run, or the latest checkpoint of an interrupted one.
  runtime::RunCheckpoints checkpoints(run_dir, {.keep_last = o.keep_last, .higher_is_better = false});
  const std::string metrics_path = (fs::path(run_dir) / "metrics.jsonl").string();
  std::int64_t tokens_seen = 0;
  if (resume) {
    const std::optional<std::string> latest = checkpoints.latest();
    if (!latest) throw std::invalid_argument(run_dir + ": --resume, but there is no checkpoint to resume from");
    std::vector<runtime::Future<models::TrainingState>> restored;
    for (auto& l : learners) restored.push_back(l.call(&PolicyLearner::restore, *latest));
    models::TrainingState state;
    for (auto& f : restored) state = f.get();
    lopt.resume_step = state.global_step;
    lopt.resume_prompts = state.data_cursor;
    tokens_seen = state.tokens_seen;
    const runtime::Bulk weights = learners[0].call(&PolicyLearner::weights).get();
    std::vector<runtime::Future<void>> loads;
    for (auto& r : rollouts) loads.push_back(r.call(&PolicyRollout::load_weights, weights, state.policy_version));
    for (auto& f : loads) f.get();
    truncate_metrics(metrics_path, state.global_step);
    progress << "resuming " << run_dir << " from " << *latest << " (step " << state.global_step << ")\n";
  } else if (checkpoints.latest()) {
    throw std::invalid_argument(run_dir + " already holds checkpoints: add --resume to continue it, or pick a new folder");
  } else {
    fs::create_directories(run_dir);
    std::ofstream(metrics_path, std::ios::trunc);
  }
  runtime::write_file_atomically((fs::path(run_dir) / "config.toml").string(), config_toml);

  // Rewards: each reward-worker a contiguous share of the groups (a user's
  // completions stay in one call), all called at once.
  const RewardFn reward = news_reward_fn(reward_workers, users, o.group, o.rewards);

  std::ofstream metrics(metrics_path, std::ios::app);
  const bool terminal = (&progress == &std::cerr) && isatty(STDERR_FILENO);
  const std::int64_t kill_step = kill_at_step();
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t first_step = lopt.resume_step;
  const auto on_step = [&](const GrpoStepLog& log) {
    if (log.step == kill_step) std::raise(SIGKILL);  // after the update, before anything of this step is written
    tokens_seen += log.completion_tokens;
    metrics << metrics_line(log).dump() << "\n";
    metrics.flush();
    const bool last = log.step == o.steps;
    if (log.step % o.checkpoint_every == 0 || last) {
      models::TrainingState state;
      state.global_step = log.step;
      state.tokens_seen = tokens_seen;
      state.policy_version = log.policy_version;
      state.data_cursor = log.prompts_used;  // with the seed, the prompt order's whole state
      const std::string path = checkpoints.path_for(log.step);
      learners[0].call(&PolicyLearner::save_checkpoint, path, state, config_toml, version).get();
      checkpoints.committed(log.step);
    }
    if (log.step % o.log_every == 0 || last) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double per_step = elapsed / static_cast<double>(log.step - first_step);
      std::ostringstream line;
      line.precision(3);
      line << "step " << log.step << "/" << o.steps << "  reward " << log.reward_mean << "  parse failures "
           << log.failure_share << "  kl " << log.learner.kl << "  " << per_step << " s/step  "
           << static_cast<long>(static_cast<double>(log.completion_tokens) / log.seconds) << " tokens/s  ETA "
           << clock_text(per_step * static_cast<double>(o.steps - log.step));
      progress << (terminal ? "\r" : "") << line.str() << (terminal && !last ? "" : "\n") << std::flush;
    }
  };
  run_grpo(rollouts, learners, prompts, reward, lopt, on_step);

  // The final policy, as a model file the evaluation loads.
  const std::string policy_path = (fs::path(run_dir) / "policy.h5").string();
  learners[0].call(&PolicyLearner::save_policy, policy_path).get();
  progress << "wrote " << policy_path << "\n";
  cluster.shutdown();
  return 0;
}

}  // namespace newsrl::actors
