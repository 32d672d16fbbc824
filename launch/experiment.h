// The frame every `newsrl experiment` shares (docs/experiments.md): an
// experiment folder made of parts run in order: pipeline parts (`newsrl
// run`'s stages into a sub-folder, sharing the prefix that other parts made),
// evaluation parts (a policy's lists for the test users through the same
// generation path as `newsrl eval policy`), and small single-process parts.
// stages.json records each part; with --resume a finished part is skipped and
// an interrupted training resumes from its checkpoint. At the end the rows
// the evaluation parts wrote become results.json, timings.json, report.md
// and plots/*.png.
#pragma once

#include <toml++/toml.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "actors/policy_eval.h"
#include "launch/run_command.h"
#include "launch/stage_log.h"
#include "runtime/placement.h"

namespace newsrl::launch {

// What the command line chose; saved in experiment.json, which --resume reads.
struct ExperimentOptions {
  std::string kind;                       // best-of-n, scaling, ablation, throughput, distill
  std::string budget = "small";           // small | full
  std::vector<int> n = {1, 2, 4, 8, 16};  // best-of-n
  std::string ckpt;                       // best-of-n: the policy ("" = the base run's GRPO)
  std::vector<std::string> sizes = {"nano", "micro", "mini", "small"};  // scaling
  int eval_n = 0;  // scaling: N of the evaluation (0 = [generate] n)
  std::vector<std::string> without = {"ret", "cov", "spec", "div", "struct"};  // ablation
  std::string teacher,
      student;  // throughput: checkpoints ("" = a fresh init); distill: the teacher ("" = trained here)
  std::string teacher_preset = "small",
              student_preset = "nano";  // throughput: the fresh inits' presets; distill: SFT's
  std::string student_init;             // distill: the student's warm start ("" = SFT here)
  std::string init;                     // ablation: every variant's warm start ("" = SFT here)
  std::uint64_t init_seed = 1;          // throughput: the fresh inits' seed

  nlohmann::json to_json() const;
  static ExperimentOptions from_json(const nlohmann::json& j, const std::string& where);
};

// One evaluated row of an experiment's table.
struct ExperimentRow {
  std::string part;             // the evaluation part (its folder under the experiment)
  nlohmann::ordered_json keys;  // what the row is: {"name": "N=4", "n": 4, "x": 4}, ...
};

class Experiment {
 public:
  Experiment(std::filesystem::path dir, toml::table config, std::string where, ExperimentOptions options,
             std::string version, int rank, runtime::PlacementSpec placement);

  const std::filesystem::path& dir() const { return dir_; }
  const toml::table& config() const { return config_; }
  const std::string& where() const { return where_; }
  const ExperimentOptions& options() const { return options_; }
  int rank() const { return rank_; }
  const std::string& version() const { return version_; }
  const runtime::PlacementSpec& placement() const { return placement_; }

  // Runs `body` as the part `name` unless stages.json marks it done; on every
  // rank when `actors`, else on rank 0 alone. Returns the part's status, the
  // same on every rank; non-zero means the experiment stops.
  int part(const std::string& name, const std::function<int()>& body, bool actors);

  // A `newsrl run` pipeline into dir/<name> (job.out and job.label are set here).
  int pipeline(const std::string& name, PipelineJob job);

  // The policy `checkpoint` evaluated on the world and index of `run` (a
  // pipeline part's folder) with `config`'s [prompt], [rewards] and
  // [generate], the latter changed by `adjust`; writes dir/<name>/lists.jsonl,
  // rankings.jsonl, metrics.json and summary.json.
  int evaluate(const std::string& name, const std::string& checkpoint, const std::filesystem::path& run,
               const toml::table& config, const std::function<void(actors::GenerateConfig&)>& adjust);

  // A child `newsrl` subcommand on rank 0 (output in dir/logs/<name>.log).
  int child(const std::string& name, const std::vector<std::string>& args);

  // results.json, timings.json, report.md and plots/*.png from the rows'
  // summaries (rank 0). `notes` are lines the report adds under its table.
  void write_report(const std::vector<ExperimentRow>& rows, const std::vector<std::string>& notes);

  // The last part of every experiment: write_report as the part "report".
  int report(const std::vector<ExperimentRow>& rows, const std::vector<std::string>& notes);

  // The folder a pipeline part's cleaned world is in (its world when [clean] is off).
  std::filesystem::path clean_world(const std::filesystem::path& run, const toml::table& config) const;

 private:
  std::filesystem::path dir_;
  toml::table config_;
  std::string where_;
  ExperimentOptions options_;
  std::string version_;
  int rank_;
  runtime::PlacementSpec placement_;
  Progress progress_;
  StageLog stages_;
  int part_number_ = 0;
};

}  // namespace newsrl::launch
