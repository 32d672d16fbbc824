// The labeller as a reference recall path (docs/retrieval.md): every user's
// query list exactly as `newsrl data sft` makes the warm start's target
// (label_for_prompt: the labeller on the signals the prompt shows), sent to
// the index's test window and merged as recent-searches merges a user's own
// searches. It is the warm start's ceiling: a policy that imitated the
// labeller perfectly would rank like this. Reads neither truth.jsonl nor
// interests.jsonl.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/tokenizer.h"
#include "news/news_index.h"
#include "news/rankings.h"
#include "news/sft_data.h"

namespace newsrl::news {

struct LabellerRankingStats {
  std::int64_t users = 0;
  std::int64_t labelled = 0;       // users with a list: ranked by its queries
  std::int64_t empty_signals = 0;  // no signal left after cleaning: empty ranking
  std::int64_t no_label = 0;       // the labeller found too few phrases: empty ranking
};

// One ranking per user of `dataset`/users.jsonl, in file order, at most
// `length` test-window articles each; the index's embedder clusters the
// signals (as `data sft --index` does). options.max_users plays no part.
std::vector<Ranking> labeller_rankings(const std::string& dataset, const NewsIndex& index,
                                       const models::Tokenizer& tokenizer, const SftDataOptions& options, int length,
                                       LabellerRankingStats* stats = nullptr);

}  // namespace newsrl::news
