// Word document frequencies over a corpus (news/word_idf.h).
#include "news/word_idf.h"

#include <cmath>
#include <unordered_set>

#include "news/tfidf.h"

namespace newsrl::news {

WordIdf WordIdf::fit(const std::vector<std::string>& corpus) {
  WordIdf out;
  out.documents_ = static_cast<std::int64_t>(corpus.size());
  std::unordered_set<std::string> in_document;
  for (const std::string& text : corpus) {
    in_document.clear();
    for (const std::u32string& w : split_words(text)) in_document.insert(to_utf8(w));
    for (const std::string& w : in_document) ++out.counts_[w];
  }
  return out;
}

std::int64_t WordIdf::document_count(std::string_view word) const {
  auto it = counts_.find(std::string(word));
  return it == counts_.end() ? 0 : it->second;
}

double WordIdf::idf(std::string_view word) const {
  return std::log((1.0 + static_cast<double>(documents_)) / (1.0 + static_cast<double>(document_count(word)))) + 1.0;
}

double WordIdf::max_idf() const { return std::log(1.0 + static_cast<double>(documents_)) + 1.0; }

}  // namespace newsrl::news
