// `newsrl clean train|apply`: stage 1 of the pipeline, the noise-cleaning
// classifier (news/cleaning.h, docs/cleaning.md).
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

Runner add_clean_commands(CLI::App& app);

}  // namespace newsrl::launch
