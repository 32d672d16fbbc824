// `newsrl train distill`: the student learns from a frozen teacher
// (actors/distill_training.h): on-policy reverse KL, supervised fine-tuning
// on the teacher's lists, or the GRPO recipe without a teacher.
// docs/distillation.md lists every key and default.
#pragma once

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <string>

#include "actors/distill_training.h"
#include "launch/command.h"
#include "models/qwen2_config.h"

namespace newsrl::launch {

// Reads [teacher] checkpoint and [distill] of `root` into `options` (not
// options.base: read_grpo_config reads that). Wrong types and unknown keys
// throw ConfigError "WHERE [table] key: what is wrong"; `teacher` and
// `distill` (when given) receive the tables with every value in effect.
void read_distill_config(const toml::table& root, const std::string& where, actors::DistillTrainingOptions& options,
                         toml::table* teacher = nullptr, toml::table* distill = nullptr);

// The model config of the checkpoint at `path` (a model file or a training
// checkpoint); a missing or unreadable file throws ConfigError "WHERE KEY: what".
models::Qwen2Config checkpoint_model_config(const std::string& path, const std::string& key, const std::string& where);

// Adds `distill` to the `train` group; the Runner runs it when chosen.
Runner add_distill_command(CLI::App& train, const char* version);

}  // namespace newsrl::launch
