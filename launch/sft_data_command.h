// `newsrl data sft`: the warm start's examples (prompt + labeller target, as
// token ids) of every user of a dataset (news/sft_data.h).
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// Adds `sft` under the `data` subcommand.
Runner add_sft_data_command(CLI::App& data);

}  // namespace newsrl::launch
