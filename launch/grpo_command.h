// `newsrl train grpo`: the Dr.GRPO teacher on the news rewards
// (actors/grpo_training.h), and the reading of its config, which `newsrl run`
// shares: [model] init, [data], [prompt], [grpo] and [rewards.*]
// (docs/grpo.md lists every key and default).
#pragma once

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <string>

#include "actors/grpo_training.h"
#include "launch/command.h"

namespace newsrl::launch {

// Reads [model] init, [data], [prompt], [grpo] and [rewards.*] of `root`
// (other tables are the caller's business). Wrong types, unknown keys and
// impossible values throw ConfigError "WHERE [table] key: what is wrong".
// Paths are made absolute. `resolved` receives those tables with every value
// in effect (model, data, prompt, grpo, rewards), for the run's config.toml.
actors::GrpoTrainingOptions read_grpo_config(const toml::table& root, const std::string& where,
                                             toml::table* resolved = nullptr);

// Checks what the options point at, before any work: the init checkpoint is
// a readable model, the world, index and tokenizer load, the index was built
// from this world and has a train window, the tokenizer has the closing
// token and fits the model's vocabulary. Throws ConfigError with one line.
void check_grpo_inputs(const actors::GrpoTrainingOptions& options, const std::string& where);

// Adds `grpo` to the `train` group; the Runner runs it when chosen.
Runner add_grpo_command(CLI::App& train, const char* version);

}  // namespace newsrl::launch
