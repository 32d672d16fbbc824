// The shipped list of generic words for the specificity reward (R_spec): words
// that make a news query vaguer rather than more specific ("latest news
// today"). A query's share of them is penalised (docs/rewards.md).
#pragma once

#include <string>
#include <vector>

namespace newsrl::news {

// Lowercase words, as news/tfidf.h's split_words writes them.
const std::vector<std::string>& default_generic_words();

}  // namespace newsrl::news
