// The warm start's training data (the pipeline's stage 3): for every user of
// a dataset, the prompt of their cleaned signals (news/prompt.h) and the
// extractive labeller's query list as the target (news/labeller.h), made
// from the signals that prompt shows (observable signals only) — as token ids. Written as JSONL
// {"user", "prompt", "target"} for `newsrl train sft`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/tokenizer.h"
#include "news/embedder.h"
#include "news/labeller.h"
#include "news/prompt.h"
#include "news/schema.h"
#include "news/signals.h"
#include "news/word_idf.h"

namespace newsrl::news {

struct SftExample {
  std::string user;
  std::vector<std::int32_t> prompt, target;
};

struct SftDataStats {
  std::int64_t users = 0, examples = 0;
  std::int64_t empty_signals = 0;  // no signal left after cleaning: no example
  std::int64_t no_target = 0;      // the labeller found too few phrases: no example
  double prompt_tokens = 0, target_tokens = 0;  // means over the examples
};

struct SftDataOptions {
  PromptConfig prompt;
  ListLimits limits;
  LabellerOptions labeller;
  std::int64_t max_users = 0;  // 0: every user
};

// What the labeller reads from a dataset besides its users: every article's
// title (a news event shows as its title) and the word idf of the train
// window's titles and abstracts.
struct LabellerCorpus {
  Split split;
  NewsTitles titles;
  WordIdf idf;
};

// Reads news.jsonl and split.json of `dataset`.
LabellerCorpus read_labeller_corpus(const std::string& dataset);

// What `data sft` makes of one user: the prompt of their cleaned signals and
// the labeller's list from the signals that prompt shows (nullopt: too few
// phrases, no target). `options.max_users` plays no part.
struct PromptLabel {
  RenderedPrompt prompt;
  std::optional<Label> label;
};
PromptLabel label_for_prompt(const User& cleaned, const LabellerCorpus& corpus, const Embedder& embedder,
                             const models::Tokenizer& tokenizer, const SftDataOptions& options);

// Reads news.jsonl, split.json and users.jsonl from `dataset`; one example
// per user with signals and a label (label_for_prompt).
std::vector<SftExample> build_sft_examples(const std::string& dataset, const Embedder& embedder,
                                           const models::Tokenizer& tokenizer, const SftDataOptions& options,
                                           SftDataStats* stats = nullptr);

// One JSON object per line: {"user": …, "prompt": [ids], "target": [ids]}.
void write_sft_examples(const std::vector<SftExample>& examples, const std::string& path);

}  // namespace newsrl::news
