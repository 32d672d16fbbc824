// The extractive labeller (docs/prompt-and-grammar.md): an SFT target for a
// user from their observable cleaned signals alone — never the `keep` labels
// or interests.jsonl. The signal texts are embedded, clustered (deterministic
// k-means), and each of the largest clusters gives one query: its most
// salient words by TF-IDF, in the order they usually appear.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "news/embedder.h"
#include "news/grammar.h"
#include "news/signals.h"
#include "news/word_idf.h"

namespace newsrl::news {

struct LabellerOptions {
  std::uint64_t seed = 0;
  int iterations = 20;       // k-means Lloyd steps
  int min_phrase_words = 2;  // a phrase takes at least this many words when the cluster has them
  int max_phrase_words = 4;  // and at most this many (and at most the grammar's max_query_words)
  double keep_ratio = 0.5;   // words past the minimum need at least this share of the top word's weight
};

struct Label {
  std::vector<std::string> queries;  // one per cluster, largest cluster first
  std::string completion;            // render_completion(queries): the SFT target
};

// The target for `user` (already cleaned: cleaned_signals). nullopt when the
// user has no signal text with a known feature, or fewer distinct phrases than
// limits.min_queries come out: no target, the caller counts such users.
std::optional<Label> label_user(const User& user, const NewsTitles& titles, const Embedder& embedder,
                                const WordIdf& idf, const ListLimits& limits, const LabellerOptions& options = {});

// The number of clusters for n signal texts: round(sqrt(n / 2)), at least 1,
// at most max_queries (0 when n = 0).
int label_cluster_count(std::size_t n, int max_queries);

// The phrase of one cluster's texts: its top words by (texts holding the
// word) x idf, stop words, noise-looking and corpus-unknown words skipped,
// in the order they most often take in the texts (pairwise). "" when no word
// qualifies.
std::string salient_phrase(const std::vector<std::string>& texts, const WordIdf& idf, int max_words,
                           const LabellerOptions& options);

}  // namespace newsrl::news
