// `newsrl run`: the whole interest-generation pipeline in one job (world ->
// tokenizer -> index -> cleaning -> warm start -> GRPO -> evaluation ->
// report) into one run folder, resumable stage by stage. docs/run.md.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

Runner add_run_commands(CLI::App& app, const char* version);

}  // namespace newsrl::launch
