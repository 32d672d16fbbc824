// `newsrl tokenizer encode|decode|train`: a Hugging Face tokenizer.json from
// the command line, one JSON array of ids per line of text and back, and
// training a small byte-level BPE vocabulary on one's own texts.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// Adds the subcommands to `app`; the Runner runs whichever was chosen.
Runner add_tokenizer_commands(CLI::App& app);

}  // namespace newsrl::launch
