#include "actors/distill_training.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "actors/best_of_n.h"
#include "actors/grpo_loop.h"
#include "actors/lm_training.h"
#include "actors/news_rollouts.h"
#include "actors/reward_worker.h"
#include "actors/run_folder.h"
#include "actors/teacher_scorer.h"
#include "models/grpo.h"
#include "models/model_file.h"
#include "runtime/checkpoint.h"

namespace newsrl::actors {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// JSON has no NaN: a value that is not a number is null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json reward_json(const BatchScores& scores) {
  std::vector<double> composite(scores.rewards.begin(), scores.rewards.end());
  const MeanStd c = mean_std(composite);
  nlohmann::json reward = {{"composite", {{"mean", number(c.mean)}, {"std", number(c.std)}}}};
  for (const auto& [name, values] : scores.parts) {
    const MeanStd ms = mean_std(values);
    reward[name] = {{"mean", number(ms.mean)}, {"std", number(ms.std)}};
  }
  return reward;
}

// The teacher's view of the samples, each teacher-scorer a contiguous share.
std::vector<DistillSample> teacher_view(std::vector<runtime::ActorHandle<TeacherScorer>>& teachers,
                                        std::vector<Sample> samples, bool rows) {
  std::vector<runtime::Future<TeacherScores>> pending;
  const auto shares = contiguous_shares(samples.size(), teachers.size());
  for (std::size_t w = 0; w < teachers.size(); ++w) {
    const auto [from, count] = shares[w];
    if (count == 0) continue;
    TeacherRequest r;
    r.rows = static_cast<int>(rows ? TeacherRows::full : TeacherRows::none);
    for (std::size_t i = from; i < from + count; ++i) {
      r.prompts.push_back(samples[i].prompt);
      r.completions.push_back(samples[i].completion);
    }
    pending.push_back(teachers[w].call(&TeacherScorer::score, r));
  }
  std::vector<DistillSample> out;
  out.reserve(samples.size());
  for (auto& f : pending) {
    TeacherScores t = f.get();
    for (std::size_t i = 0; i < t.logprobs.size(); ++i) {
      DistillSample d;
      d.sample = std::move(samples[out.size()]);
      d.teacher_logprobs = std::move(t.logprobs[i]);
      if (rows) d.teacher_rows = std::move(t.rows[i]);
      out.push_back(std::move(d));
    }
  }
  return out;
}

void open_run(const std::string& run_dir, bool resume, runtime::RunCheckpoints& checkpoints) {
  if (!resume && checkpoints.latest()) {
    throw std::invalid_argument(run_dir + " already holds checkpoints: add --resume to continue it, or pick a new folder");
  }
  fs::create_directories(run_dir);
}

// ---- on-policy -------------------------------------------------------------------

int train_on_policy(runtime::Cluster& cluster, const DistillTrainingOptions& o, const std::string& run_dir,
                    bool resume, const std::string& config_toml, const std::string& version, std::ostream& progress) {
  const PolicySource student{o.base.init, "", 0};
  auto rollouts = cluster.spawn<PolicyRollout>("rollout", student);
  RewardWorkerOptions ro{o.base.world, o.base.index, o.base.tokenizer, o.base.rewards, o.base.limits, o.base.max_users};
  auto reward_workers = cluster.spawn<RewardWorker>("reward", ro);
  LearnerOptions lo = learner_options(o);
  lo.recompute = o.base.recompute;
  auto learners = cluster.spawn<PolicyLearner>("learner", student, lo);
  auto teachers = cluster.spawn<TeacherScorer>("teacher", PolicySource{o.teacher, "", 0});
  if (!cluster.is_driver()) return cluster.serve();

  const NewsPrompts inputs = load_news_prompts(o.base.world, o.base.max_users, o.base.tokenizer, o.base.prompt,
                                               o.base.limits, o.base.init, o.max_new_tokens, "distill", progress);
  std::size_t longest = 0;
  for (const auto& p : inputs.prompts) longest = std::max(longest, p.size());
  const std::int64_t teacher_context =
      models::read_config(runtime::H5File(o.teacher, runtime::H5File::Mode::read)).max_position_embeddings;
  if (static_cast<std::int64_t>(longest) + o.max_new_tokens > teacher_context) {
    throw std::invalid_argument("the longest prompt (" + std::to_string(longest) + " tokens) and max_new_tokens " +
                                std::to_string(o.max_new_tokens) + " exceed the teacher's max_position_embeddings " +
                                std::to_string(teacher_context));
  }
  const bool full = o.kl == "full";
  const RewardFn reward = news_reward_fn(reward_workers, inputs.users, o.samples_per_prompt, o.base.rewards);

  runtime::RunCheckpoints checkpoints(run_dir, {.keep_last = o.keep_last, .higher_is_better = false});
  const std::string metrics_path = (fs::path(run_dir) / "metrics.jsonl").string();
  open_run(run_dir, resume, checkpoints);
  std::int64_t first_step = 0, prompts_used = 0, tokens_seen = 0;
  if (resume) {
    const std::optional<std::string> latest = checkpoints.latest();
    if (!latest) throw std::invalid_argument(run_dir + ": --resume, but there is no checkpoint to resume from");
    std::vector<runtime::Future<models::TrainingState>> restored;
    for (auto& l : learners) restored.push_back(l.call(&PolicyLearner::restore, *latest));
    models::TrainingState state;
    for (auto& f : restored) state = f.get();
    first_step = state.global_step;
    prompts_used = state.data_cursor;
    tokens_seen = state.tokens_seen;
    const runtime::Bulk weights = learners[0].call(&PolicyLearner::weights).get();
    std::vector<runtime::Future<void>> loads;
    for (auto& r : rollouts) loads.push_back(r.call(&PolicyRollout::load_weights, weights, state.policy_version));
    for (auto& f : loads) f.get();
    truncate_metrics(metrics_path, state.global_step);
    progress << "resuming " << run_dir << " from " << *latest << " (step " << state.global_step << ")\n";
  } else {
    std::ofstream(metrics_path, std::ios::trunc);
  }
  runtime::write_file_atomically((fs::path(run_dir) / "config.toml").string(), config_toml);

  SamplingParams sampling;
  sampling.max_new_tokens = o.max_new_tokens;
  sampling.temperature = static_cast<float>(o.temperature);
  sampling.stop_tokens = inputs.stop_tokens;
  PromptOrder order(inputs.prompts.size(), o.seed);
  while (order.used() < prompts_used) order.next();  // where the interrupted run stood

  std::ofstream metrics(metrics_path, std::ios::app);
  const bool terminal = (&progress == &std::cerr) && isatty(STDERR_FILENO);
  const std::int64_t kill_step = kill_at_step();
  const auto start = Clock::now();
  for (std::int64_t step = first_step + 1; step <= o.steps; ++step) {
    const auto t0 = Clock::now();
    std::vector<std::vector<std::int32_t>> batch;
    std::vector<std::size_t> batch_index;
    for (int i = 0; i < o.prompts_per_step; ++i) {
      batch_index.push_back(order.next());
      batch.push_back(inputs.prompts[batch_index.back()]);
    }
    sampling.seed = o.seed + 1000003ull * static_cast<std::uint64_t>(step);
    std::vector<Sample> samples = sample_lists(rollouts, batch, batch_index, o.samples_per_prompt, sampling);
    const double rollout_seconds = seconds_since(t0);
    // The student's lists under the news rewards: reported, not trained on.
    const auto t1 = Clock::now();
    const BatchScores scores = reward(samples);
    const double reward_seconds = seconds_since(t1);
    std::int64_t completion_tokens = 0;
    double neg_logprob = 0;
    for (const Sample& s : samples) {
      completion_tokens += static_cast<std::int64_t>(s.completion.size());
      for (float lp : s.logprobs) neg_logprob -= lp;
    }
    const std::size_t sequences = samples.size();
    const auto t2 = Clock::now();
    std::vector<DistillSample> scored = teacher_view(teachers, std::move(samples), full);
    const double teacher_seconds = seconds_since(t2);
    const auto t3 = Clock::now();
    const float normaliser = models::dr_grpo_normaliser(static_cast<std::int64_t>(sequences), o.max_new_tokens);
    std::vector<runtime::Future<LearnerStats>> steps;
    const auto shares = contiguous_shares(scored.size(), learners.size());
    for (std::size_t l = 0; l < learners.size(); ++l) {
      const auto [from, count] = shares[l];
      std::vector<DistillSample> shard(scored.begin() + static_cast<long>(from),
                                       scored.begin() + static_cast<long>(from + count));
      steps.push_back(learners[l].call(&PolicyLearner::distill, shard, normaliser, full));
    }
    LearnerStats learner;
    for (std::size_t l = 0; l < steps.size(); ++l) {
      LearnerStats st = steps[l].get();
      if (l == 0) learner = st;
    }
    const runtime::Bulk weights = learners[0].call(&PolicyLearner::weights).get();
    std::vector<runtime::Future<void>> loads;
    for (auto& r : rollouts) loads.push_back(r.call(&PolicyRollout::load_weights, weights, std::int64_t{step}));
    for (auto& f : loads) f.get();
    const double learn_seconds = seconds_since(t3), seconds = seconds_since(t0);
    if (step == kill_step) std::raise(SIGKILL);  // after the update, before anything of this step is written
    tokens_seen += completion_tokens;
    const nlohmann::json line = {
        {"step", step},
        {"policy_version", step},
        {"teacher_kl", number(learner.kl)},
        {"entropy", number(completion_tokens > 0 ? neg_logprob / static_cast<double>(completion_tokens) : 0.0)},
        {"reward", reward_json(scores)},
        {"parse_failures", static_cast<double>(scores.failures) / static_cast<double>(sequences)},
        {"response_length", static_cast<double>(completion_tokens) / static_cast<double>(sequences)},
        {"clip_fraction", learner.clip_fraction},
        {"loss", number(learner.loss)},
        {"grad_norm", number(learner.grad_norm)},
        {"lr", learner.lr},
        {"tokens_per_s", seconds > 0 ? static_cast<double>(completion_tokens) / seconds : 0.0},
        {"seconds", seconds},
        {"stage_seconds",
         {{"rollout", rollout_seconds}, {"reward", reward_seconds}, {"teacher", teacher_seconds}, {"learn", learn_seconds}}}};
    metrics << line.dump() << "\n";
    metrics.flush();
    const bool last = step == o.steps;
    if (step % o.checkpoint_every == 0 || last) {
      models::TrainingState state;
      state.global_step = step;
      state.tokens_seen = tokens_seen;
      state.policy_version = step;
      state.data_cursor = order.used();  // with the seed, the prompt order's whole state
      const std::string path = checkpoints.path_for(step);
      learners[0].call(&PolicyLearner::save_checkpoint, path, state, config_toml, version).get();
      checkpoints.committed(step);
    }
    if (step % o.log_every == 0 || last) {
      const double per_step = seconds_since(start) / static_cast<double>(step - first_step);
      std::ostringstream text;
      text.precision(3);
      text << "step " << step << "/" << o.steps << "  teacher kl " << learner.kl << "  reward "
           << line["reward"]["composite"]["mean"].dump() << "  " << per_step << " s/step  "
           << static_cast<long>(line["tokens_per_s"].get<double>()) << " tokens/s  ETA "
           << clock_text(per_step * static_cast<double>(o.steps - step));
      progress << (terminal ? "\r" : "") << text.str() << (terminal && !last ? "" : "\n") << std::flush;
    }
  }
  const std::string student_path = (fs::path(run_dir) / "student.h5").string();
  learners[0].call(&PolicyLearner::save_policy, student_path).get();
  progress << "wrote " << student_path << "\n";
  cluster.shutdown();
  return 0;
}

// ---- supervised ------------------------------------------------------------------

// Each sample's rewards as news::Rewards, grouped by user (n samples each),
// for actors/best_of_n.h; a reward the config switches off stays NaN.
std::vector<std::vector<news::Rewards>> rewards_by_user(const BatchScores& scores, std::size_t n) {
  std::vector<std::vector<news::Rewards>> users(scores.rewards.size() / n, std::vector<news::Rewards>(n));
  for (std::size_t i = 0; i < scores.rewards.size(); ++i) {
    news::Rewards& r = users[i / n][i % n];
    r.ret = r.cov = r.spec = r.div = r.structure = std::nan("");
    r.composite = scores.rewards[i];
    for (const auto& [name, values] : scores.parts) {
      double& field = name == "ret"    ? r.ret
                      : name == "cov"  ? r.cov
                      : name == "spec" ? r.spec
                      : name == "div"  ? r.div
                                       : r.structure;
      field = values[i];
    }
  }
  return users;
}

// The teacher's list for every user (best of N by `select`, the first on
// ties), as SFT examples {"prompt", "target"}; written once,
// atomically, so a resumed run reuses them.
void write_teacher_lists(std::vector<runtime::ActorHandle<PolicyRollout>>& teacher_rollouts,
                         std::vector<runtime::ActorHandle<RewardWorker>>& reward_workers, const NewsPrompts& inputs,
                         const DistillTrainingOptions& o, const std::string& path, std::ostream& progress) {
  const RewardFn reward = news_reward_fn(reward_workers, inputs.users, o.best_of, o.base.rewards);
  SamplingParams sampling;
  sampling.max_new_tokens = o.max_new_tokens;
  sampling.temperature = static_cast<float>(o.teacher_temperature);
  sampling.stop_tokens = inputs.stop_tokens;
  sampling.seed = o.seed;
  std::ostringstream lines;
  std::vector<double> chosen;
  const std::size_t chunk = static_cast<std::size_t>(o.prompts_per_step);
  for (std::size_t first = 0; first < inputs.prompts.size(); first += chunk) {
    const std::size_t end = std::min(inputs.prompts.size(), first + chunk);
    std::vector<std::vector<std::int32_t>> batch(inputs.prompts.begin() + static_cast<long>(first),
                                                 inputs.prompts.begin() + static_cast<long>(end));
    std::vector<std::size_t> index;
    for (std::size_t i = first; i < end; ++i) index.push_back(i);
    sampling.seed = o.seed + 1000003ull * static_cast<std::uint64_t>(first / chunk + 1);
    const std::vector<Sample> samples = sample_lists(teacher_rollouts, batch, index, o.best_of, sampling);
    const BatchScores scores = reward(samples);
    const std::size_t n = static_cast<std::size_t>(o.best_of);
    const std::vector<std::size_t> keep = choose_best_of_n(rewards_by_user(scores, n), o.base.rewards, o.select);
    for (std::size_t p = 0; p < batch.size(); ++p) {
      const std::size_t best = p * n + keep[p];
      chosen.push_back(scores.rewards[best]);
      lines << nlohmann::json{{"prompt", samples[best].prompt}, {"target", samples[best].completion}}.dump() << "\n";
    }
  }
  runtime::write_file_atomically(path, lines.str());
  const MeanStd ms = mean_std(chosen);
  progress << "teacher lists: " << chosen.size() << " (";
  if (o.teacher_temperature > 0) {
    progress << "best of " << o.best_of << " at temperature " << o.teacher_temperature << " by " << o.select;
  } else {
    progress << "greedy";
  }
  progress << "), composite reward " << ms.mean
           << " +- " << ms.std << ", in " << path << "\n";
}

int train_supervised(runtime::Cluster& cluster, const DistillTrainingOptions& o, const std::string& run_dir,
                     bool resume, const std::string& config_toml, const std::string& version, std::ostream& progress) {
  auto teacher_rollouts = cluster.spawn<PolicyRollout>("rollout", PolicySource{o.teacher, "", 0});
  RewardWorkerOptions ro{o.base.world, o.base.index, o.base.tokenizer, o.base.rewards, o.base.limits, o.base.max_users};
  auto reward_workers = cluster.spawn<RewardWorker>("reward", ro);
  if (!cluster.is_driver()) return cluster.serve();

  const fs::path sft_run = fs::path(run_dir) / "sft";
  runtime::RunCheckpoints checkpoints(sft_run.string(), {.keep_last = o.keep_last, .higher_is_better = false});
  const bool has_checkpoints = checkpoints.latest().has_value();
  if (!resume && (has_checkpoints || fs::exists(fs::path(run_dir) / "config.toml"))) {
    throw std::invalid_argument(run_dir + " already holds a run: add --resume to continue it, or pick a new folder");
  }
  fs::create_directories(run_dir);
  runtime::write_file_atomically((fs::path(run_dir) / "config.toml").string(), config_toml);
  const std::string lists = (fs::path(run_dir) / "teacher_lists.jsonl").string();
  if (fs::exists(lists)) {
    progress << "teacher lists: reusing " << lists << "\n";
  } else {
    const NewsPrompts inputs = load_news_prompts(o.base.world, o.base.max_users, o.base.tokenizer, o.base.prompt,
                                                 o.base.limits, o.teacher, o.max_new_tokens, "distill", progress);
    write_teacher_lists(teacher_rollouts, reward_workers, inputs, o, lists, progress);
  }
  cluster.shutdown();

  LmTrainingOptions lm;
  lm.init_checkpoint = o.base.init;
  lm.data = lists;
  lm.sft = true;
  lm.steps = o.steps;
  lm.batch = o.batch;
  lm.seq = o.seq;
  lm.lr = o.lr;
  lm.min_lr = o.min_lr;
  lm.warmup = o.warmup;
  lm.weight_decay = o.weight_decay;
  lm.clip = o.clip_norm;
  lm.seed = o.seed;
  lm.checkpoint_every = o.checkpoint_every;
  lm.keep_last = o.keep_last;
  lm.log_every = o.log_every;
  lm.recompute = o.base.recompute;
  const int status = train_lm(lm, sft_run.string(), has_checkpoints, config_toml, version, progress);
  if (status != 0) return status;
  const std::optional<std::string> last = checkpoints.latest();
  if (!last) throw std::logic_error("train sft ended without a checkpoint");
  const std::string student_path = (fs::path(run_dir) / "student.h5").string();
  models::save_model(models::load_model(*last), student_path);
  progress << "wrote " << student_path << "\n";
  return 0;
}

}  // namespace

std::string check_distill_options(const DistillTrainingOptions& o) {
  auto need = [](bool ok, const char* key, const std::string& what) {
    return ok ? std::string() : std::string("[distill] ") + key + ": " + what;
  };
  for (const std::string& problem : {
           need(o.mode == "on-policy" || o.mode == "supervised" || o.mode == "none", "mode",
                "must be \"on-policy\", \"supervised\" or \"none\""),
           need(o.kl == "full" || o.kl == "sampled", "kl", "must be \"full\" or \"sampled\""),
           need(o.steps >= 1, "steps", "must be at least 1"),
           need(o.prompts_per_step >= 1, "prompts_per_step", "must be at least 1"),
           need(o.samples_per_prompt >= 1, "samples_per_prompt", "must be at least 1"),
           need(o.max_new_tokens >= 1, "max_new_tokens", "must be at least 1"),
           need(o.temperature > 0 && std::isfinite(o.temperature), "temperature", "must be above 0"),
           need(o.lr > 0 && std::isfinite(o.lr), "lr", "must be above 0"),
           need(o.min_lr >= 0 && o.min_lr <= o.lr, "min_lr", "must be in [0, lr]"),
           need(o.warmup >= 0, "warmup", "must be at least 0"),
           need(o.weight_decay >= 0, "weight_decay", "must be at least 0"),
           need(o.clip_norm >= 0, "clip_norm", "must be at least 0 (0: no clipping)"),
           need(o.clip_low >= 0 && o.clip_low < 1, "clip_low", "must be in [0, 1)"),
           need(o.clip_high >= 0, "clip_high", "must be at least 0"),
           need(o.checkpoint_every >= 1, "checkpoint_every", "must be at least 1"),
           need(o.keep_last >= 1, "keep_last", "must be at least 1"),
           need(o.log_every >= 1, "log_every", "must be at least 1"),
           need(o.best_of >= 1, "best_of", "must be at least 1"),
           need(o.teacher_temperature >= 0 && std::isfinite(o.teacher_temperature), "teacher_temperature",
                "must be at least 0 (0: the teacher's greedy list)"),
           need(o.teacher_temperature > 0 || o.best_of == 1, "best_of",
                "must be 1 when teacher_temperature is 0: greedy lists are all the same"),
           need(known_best_of_n_rule(o.select), "select",
                "\"" + o.select + "\" (known: " + std::string(kBestOfNRules) + ")"),
           need(o.batch >= 1, "batch", "must be at least 1"),
           need(o.seq >= 2, "seq", "must be at least 2"),
       }) {
    if (!problem.empty()) return problem;
  }
  return "";
}

std::vector<std::string> distill_roles(const std::string& mode) {
  if (mode == "on-policy") return {"rollout", "reward", "learner", "teacher"};
  if (mode == "supervised") return {"rollout", "reward"};
  return {"rollout", "reward", "learner"};
}

int train_distill(runtime::Cluster& cluster, const DistillTrainingOptions& o, const std::string& run_dir, bool resume,
                  const std::string& config_toml, const std::string& version, std::ostream& progress) {
  if (const std::string problem = check_distill_options(o); !problem.empty()) throw std::invalid_argument(problem);
  if (o.mode == "on-policy") return train_on_policy(cluster, o, run_dir, resume, config_toml, version, progress);
  if (o.mode == "supervised") return train_supervised(cluster, o, run_dir, resume, config_toml, version, progress);
  // none: the GRPO recipe on the student, in this run folder.
  const int status = train_grpo(cluster, o.base, run_dir, resume, config_toml, version, progress);
  if (status == 0 && cluster.is_driver()) {
    const fs::path policy = fs::path(run_dir) / "policy.h5", student = fs::path(run_dir) / "student.h5";
    fs::copy_file(policy, student, fs::copy_options::overwrite_existing);
    progress << "wrote " << student.string() << "\n";
  }
  return status;
}

}  // namespace newsrl::actors
