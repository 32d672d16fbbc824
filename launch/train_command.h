// `newsrl train lm`: next-token training of a causal LM with checkpoints and
// exact resume (the loop is actors/lm_training.h). Later issues add
// `train sft`, `train grpo` and `train distill` to this group.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

Runner add_train_commands(CLI::App& app, const char* version);

}  // namespace newsrl::launch
