// `newsrl train lm|sft|grpo`: next-token training and the warm start
// (actors/lm_training.h), and the Dr.GRPO teacher (launch/grpo_command.h),
// each with checkpoints and exact resume.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

Runner add_train_commands(CLI::App& app, const char* version);

}  // namespace newsrl::launch
