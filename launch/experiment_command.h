// `newsrl experiment best-of-n | scaling | ablation | throughput`: the
// paper's comparisons on our data, each from one command into one
// experiment folder (report.md, results.json, timings.json, plots/*.png),
// resumable part by part. docs/experiments.md.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

Runner add_experiment_commands(CLI::App& app, const char* version);

}  // namespace newsrl::launch
