// `newsrl run`: the whole interest-generation pipeline in one job (world ->
// tokenizer -> index -> cleaning -> warm start -> GRPO -> evaluation ->
// report) into one run folder, resumable stage by stage. docs/run.md.
#pragma once

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <string>
#include <vector>

#include "launch/command.h"

namespace newsrl::launch {

// One pipeline run as a part of a larger job (an experiment, docs/experiments.md):
// the stages of `newsrl run` into `out`, where stages already done are skipped
// and training stages resume, as with `newsrl run --resume`.
struct PipelineJob {
  std::string out;                    // the run folder
  toml::table config;                 // the resolved run config (written to out/config.toml)
  std::string where;                  // the config's name in error lines
  std::string from;                   // a run folder that holds the outputs of the `reuse` stages
  std::vector<std::string> reuse;     // stages not run: their outputs are read from `from`
  std::vector<std::string> skip;      // stages this part does not need
  std::string until;                  // stop after this stage; "" runs to the end
  std::string init;                   // GRPO's warm start; "" = the sft stage's latest checkpoint
  std::string label = "run";          // what its stage lines begin with
};

// Runs `job` on every rank of MPI_COMM_WORLD (MPI initialised, failure
// handlers installed by the caller); every rank returns rank 0's status.
// Throws runtime::ConfigError for a config the pipeline does not accept.
int run_pipeline_job(const PipelineJob& job, const std::string& version);

// Reads and checks a run config as `newsrl run` does; throws ConfigError with one line.
void check_run_config(const toml::table& root, const std::string& where);

Runner add_run_commands(CLI::App& app, const char* version);

}  // namespace newsrl::launch
