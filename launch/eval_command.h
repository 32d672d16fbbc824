// `newsrl eval rankings|heuristic`: Recall@K, NDCG@K and MRR of rankings
// against a dataset's held-out clicks (news/metrics.h, docs/metrics.md).
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// Adds the subcommands to `app`; the Runner runs whichever was chosen.
Runner add_eval_commands(CLI::App& app);

}  // namespace newsrl::launch
