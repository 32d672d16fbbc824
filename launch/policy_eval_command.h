// `newsrl generate` and `newsrl eval policy`: best-of-N query lists from a
// policy checkpoint on the rollout-workers, their rankings from the
// test-window index, and the metrics of `newsrl eval rankings`
// (actors/policy_eval.h, docs/evaluation.md). Both run under mpirun.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// `newsrl generate`, a top-level command.
Runner add_generate_command(CLI::App& app);
// `newsrl eval policy`, added to the eval group.
Runner add_eval_policy_command(CLI::App& eval);

}  // namespace newsrl::launch
