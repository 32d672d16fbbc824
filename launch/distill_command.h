// `newsrl train distill`: the student learns from a frozen teacher
// (actors/distill_training.h): on-policy reverse KL, supervised fine-tuning
// on the teacher's lists, or the GRPO recipe without a teacher.
// docs/distillation.md lists every key and default.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// Adds `distill` to the `train` group; the Runner runs it when chosen.
Runner add_distill_command(CLI::App& train, const char* version);

}  // namespace newsrl::launch
