// `newsrl index build|query`: the news index (news/news_index.h) from the
// command line.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// Adds the subcommands to `app`; the Runner runs whichever was chosen.
Runner add_index_commands(CLI::App& app);

}  // namespace newsrl::launch
