// The [prompt] table of a run config: the prompt's token budget and shares
// (news::PromptConfig) and the list limits the prompt asks for and the
// grammar checks (news::ListLimits), with the defaults of `newsrl data sft`,
// so SFT data, GRPO and evaluation render the same prompts.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "news/grammar.h"
#include "news/prompt.h"

namespace newsrl::launch {

struct PromptKeys {
  news::PromptConfig prompt;
  news::ListLimits limits;
};

// Reads root's [prompt] (absent: the defaults) and validates it; one line
// naming the file, table and key on a problem. `resolved` receives the table
// with every value in effect.
PromptKeys read_prompt_config(const toml::table& root, const std::string& where, toml::table* resolved = nullptr);

}  // namespace newsrl::launch
