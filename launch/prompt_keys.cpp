#include "launch/prompt_keys.h"

#include "launch/config.h"
#include "runtime/errors.h"

namespace newsrl::launch {

PromptKeys read_prompt_config(const toml::table& root, const std::string& where, toml::table* resolved) {
  PromptKeys k;
  k.limits.allow_reasoning = false;  // as `data sft` without --reasoning
  Section s(root, "prompt", where);
  s.get("max_tokens", k.prompt.max_tokens);
  s.get("news_share", k.prompt.news_share);
  s.get("search_share", k.prompt.search_share);
  s.get("browse_share", k.prompt.browse_share);
  s.get("reasoning", k.prompt.reasoning);
  s.get("lowercase", k.prompt.lowercase);
  s.get("min_queries", k.limits.min_queries);
  s.get("max_queries", k.limits.max_queries);
  s.get("max_query_words", k.limits.max_query_words);
  s.get("max_reasoning_words", k.limits.max_reasoning_words);
  s.finish();
  k.limits.allow_reasoning = k.prompt.reasoning;  // the grammar allows what the prompt offers
  std::string problem = news::check_prompt_config(k.prompt);
  if (problem.empty()) {
    problem = news::check_limits(k.limits);
    // The limits' keys live in [prompt] here.
    const std::string grammar = "[grammar]";
    if (problem.rfind(grammar, 0) == 0) problem = "[prompt]" + problem.substr(grammar.size());
  }
  if (!problem.empty()) throw runtime::ConfigError(where + " " + problem);
  if (resolved != nullptr) *resolved = s.resolved();
  return k;
}

}  // namespace newsrl::launch
