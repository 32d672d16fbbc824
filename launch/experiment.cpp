// The parts of an experiment: pipeline, evaluation and single-process parts,
// each recorded in stages.json so that --resume skips what is done.
#include "launch/experiment.h"

#include <mpi.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include "launch/generate_keys.h"
#include "launch/grpo_command.h"
#include "launch/stage_process.h"
#include "runtime/cluster.h"
#include "runtime/errors.h"
#include "runtime/quiet_wait.h"

namespace newsrl::launch {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

nlohmann::json ExperimentOptions::to_json() const {
  return {{"kind", kind},
          {"budget", budget},
          {"n", n},
          {"ckpt", ckpt},
          {"sizes", sizes},
          {"eval_n", eval_n},
          {"without", without},
          {"teacher", teacher},
          {"student", student},
          {"teacher_preset", teacher_preset},
          {"student_preset", student_preset},
          {"init_seed", init_seed},
          {"student_init", student_init},
          {"init", init}};
}

ExperimentOptions ExperimentOptions::from_json(const nlohmann::json& j, const std::string& where) {
  ExperimentOptions o;
  try {
    o.kind = j.at("kind").get<std::string>();
    o.budget = j.at("budget").get<std::string>();
    o.n = j.at("n").get<std::vector<int>>();
    o.ckpt = j.at("ckpt").get<std::string>();
    o.sizes = j.at("sizes").get<std::vector<std::string>>();
    o.eval_n = j.at("eval_n").get<int>();
    o.without = j.at("without").get<std::vector<std::string>>();
    o.teacher = j.at("teacher").get<std::string>();
    o.student = j.at("student").get<std::string>();
    o.teacher_preset = j.at("teacher_preset").get<std::string>();
    o.student_preset = j.at("student_preset").get<std::string>();
    o.init_seed = j.at("init_seed").get<std::uint64_t>();
    o.student_init = j.value("student_init", "");  // absent in folders of older versions
    o.init = j.value("init", "");
  } catch (const nlohmann::json::exception& e) {
    throw runtime::ConfigError(where + ": not an experiment's options (" + std::string(e.what()) + ")");
  }
  return o;
}

Experiment::Experiment(fs::path dir, toml::table config, std::string where, ExperimentOptions options,
                       std::string version, int rank, runtime::PlacementSpec placement)
    : dir_(std::move(dir)),
      config_(std::move(config)),
      where_(std::move(where)),
      options_(std::move(options)),
      version_(std::move(version)),
      rank_(rank),
      placement_(std::move(placement)),
      progress_(rank == 0),
      stages_(dir_ / "stages.json") {
  if (rank_ == 0) stages_.set_command(command_line());
}

int Experiment::part(const std::string& name, const std::function<int()>& body, bool actors) {
  const std::string label = "experiment " + options_.kind + ": [" + std::to_string(++part_number_) + "] " + name;
  int skip = rank_ == 0 && stages_.done(name) ? 1 : 0;
  skip = runtime::quiet_broadcast(MPI_COMM_WORLD, 0, skip);
  if (skip) {
    progress_.stage_line(label + ": done before, skipped");
    return 0;
  }
  int status = 0;
  if (rank_ == 0 || actors) {
    const auto t0 = Clock::now();
    progress_.stage_line(label + " ...");
    if (rank_ == 0) stages_.set(name, "running", 0);
    try {
      status = body();
    } catch (const std::exception& e) {
      progress_.stage_line(std::string("newsrl: ") + e.what());
      status = 1;
    }
    if (rank_ == 0) {
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      stages_.set(name, status == 0 ? "done" : "failed", secs);
      // A pipeline part keeps its stages' logs in its own folder.
      const fs::path logs = fs::exists(dir_ / name / "logs") ? dir_ / name / "logs" : dir_ / "logs";
      progress_.stage_line(label + (status == 0
                                        ? " done in " + human_seconds(secs)
                                        : " FAILED after " + human_seconds(secs) + " (exit " + std::to_string(status) +
                                              "; see " + logs.string() + "; --resume continues from here)"));
    }
  }
  return runtime::quiet_broadcast(MPI_COMM_WORLD, 0, status);
}

int Experiment::pipeline(const std::string& name, PipelineJob job) {
  job.out = (dir_ / name).string();
  job.label = "  " + name;
  return part(
      name, [&] { return run_pipeline_job(job, version_); }, true);
}

fs::path Experiment::clean_world(const fs::path& run, const toml::table& config) const {
  const bool clean = config["clean"]["enabled"].value_or(true);
  return run / (clean ? "clean" : "world");
}

int Experiment::evaluate(const std::string& name, const std::string& checkpoint, const fs::path& run,
                         const toml::table& config, const std::function<void(actors::GenerateConfig&)>& adjust) {
  return part(
      name,
      [&] {
        actors::PolicyEvalSpec spec;
        const actors::GrpoTrainingOptions grpo = read_grpo_config(config, where_, nullptr, false);
        spec.checkpoint = checkpoint;
        spec.world = clean_world(run, config).string();
        spec.index = (run / "index").string();
        spec.tokenizer = (run / "tokenizer.json").string();
        spec.prompt = grpo.prompt;
        spec.limits = grpo.limits;
        spec.rewards = grpo.rewards;
        spec.generate = read_generate_config(config, where_);
        adjust(spec.generate);
        if (const std::string p = spec.generate.problem(); !p.empty()) throw runtime::ConfigError(where_ + " " + p);
        actors::check_policy_eval(spec);
        const fs::path out = dir_ / name;
        if (rank_ == 0) fs::create_directories(out);
        const actors::PolicyEvalOutputs outputs{(out / "lists.jsonl").string(), (out / "rankings.jsonl").string(),
                                                (out / "metrics.json").string()};
        runtime::Cluster cluster(MPI_COMM_WORLD, placement_);
        const std::optional<actors::PolicyEvalSummary> s = actors::run_policy_eval(cluster, spec, outputs, std::cerr);
        if (s) {
          const std::int64_t signalled = s->lists / spec.generate.n;  // users who got a list
          nlohmann::ordered_json j;
          j["checkpoint"] = checkpoint;
          j["n"] = spec.generate.n;
          j["temperature"] = spec.generate.temperature_in_effect();
          j["max_new_tokens"] = spec.generate.max_new_tokens;
          j["users"] = s->users;
          j["users_with_lists"] = signalled;
          j["lists"] = s->lists;
          j["parse_failures"] = s->parse_failures;
          j["fallbacks"] = s->fallbacks;
          j["generated_tokens"] = s->generated_tokens;
          j["mean_composite"] = s->mean_composite;
          j["metrics"] = s->metrics;
          j["seconds"] = s->seconds;
          const fs::path tmp = out / "summary.json.tmp";
          std::ofstream(tmp) << j.dump(1) << "\n";
          fs::rename(tmp, out / "summary.json");
        }
        return 0;
      },
      true);
}

int Experiment::report(const std::vector<ExperimentRow>& rows, const std::vector<std::string>& notes) {
  return part(
      "report",
      [&] {
        write_report(rows, notes);
        return 0;
      },
      false);
}

int Experiment::child(const std::string& name, const std::vector<std::string>& args) {
  return part(
      name,
      [&] {
        fs::create_directories(dir_ / "logs");
        return run_newsrl_child(args, (dir_ / "logs" / (name + ".log")).string(), [](const std::string&) {});
      },
      false);
}

}  // namespace newsrl::launch
