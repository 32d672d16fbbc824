#include "news/specificity_idf.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "news/tfidf.h"

namespace newsrl::news {

SpecificityIdf SpecificityIdf::fit(const std::vector<std::string>& corpus) {
  std::unordered_map<std::u32string, std::int64_t> df;
  for (const std::string& text : corpus) {
    std::vector<std::u32string> words = split_words(text);
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (std::u32string& w : words) ++df[std::move(w)];
  }
  SpecificityIdf out;
  out.documents_ = static_cast<std::int64_t>(corpus.size());
  const double n = static_cast<double>(corpus.size());
  for (const auto& [word, count] : df) {
    const double v = std::log((1.0 + n) / (1.0 + static_cast<double>(count))) + 1.0;
    out.idf_.emplace(word, v);
    out.max_idf_ = std::max(out.max_idf_, v);
  }
  return out;
}

double SpecificityIdf::idf(const std::u32string& word) const {
  const auto it = idf_.find(word);
  return it == idf_.end() ? 0.0 : it->second;
}

}  // namespace newsrl::news
