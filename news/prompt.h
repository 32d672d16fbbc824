// The policy's prompt (docs/prompt-and-grammar.md): a user's cleaned signals
// rendered in Qwen's chat format (ChatML), searches, pages and news each most
// recent first, duplicates removed, within a token budget shared between the
// three domains.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "models/tokenizer.h"
#include "news/grammar.h"
#include "news/schema.h"
#include "news/signals.h"

namespace newsrl::news {

// The [prompt] keys.
struct PromptConfig {
  // The whole prompt's tokens, fixed text included.
  int max_tokens = 384;
  // Shares of the signal lines' budget (fractions, summing to at most 1).
  double news_share = 0.40, search_share = 0.35, browse_share = 0.25;
  // Tell the policy it may start with a "Reasoning: " line (the run sets the
  // grammar's allow_reasoning from it).
  bool reasoning = false;
  // Signal lines in lowercase (letters as news/tfidf.h lowercases them), as
  // the labeller writes its queries: a phrase of the prompt is then the same
  // tokens in the list, which a small model learns to copy far sooner.
  bool lowercase = false;
};

// "" when the values make sense, else what is wrong ("[prompt] key: ...").
std::string check_prompt_config(const PromptConfig& config);

// What happened to one domain's events.
struct DomainLines {
  int kept = 0;        // lines in the prompt
  int dropped = 0;     // lines left out for the budget
  int duplicates = 0;  // repeats of a more recent line (case and whitespace ignored)
  int blank = 0;       // events with no text (an unknown article, blank text)
};

struct RenderedPrompt {
  std::string text;
  int tokens = 0;                    // of `text` under the tokenizer
  bool empty = false;                // no signal at all: the empty-signals prompt
  std::array<DomainLines, 3> lines;  // indexed by Domain
  // The events whose lines the prompt shows (indices into user.events, in
  // order): what the policy can see of the user.
  std::vector<std::size_t> shown_events;
  const DomainLines& counts(Domain d) const { return lines[static_cast<std::size_t>(d)]; }
};

// The system message, shared by every prompt.
extern const char* const kSystemMessage;

// The prompt of `user`'s events (the caller cleans them first: cleaned_signals).
// `limits` gives the number of queries asked for. Throws std::invalid_argument
// when the config is wrong or max_tokens cannot hold the fixed text.
RenderedPrompt render_prompt(const User& user, const NewsTitles& titles, const models::Tokenizer& tokenizer,
                             const PromptConfig& config, const ListLimits& limits);

}  // namespace newsrl::news
