// Inverse document frequency of words over a corpus (the news titles and
// abstracts): idf(w) = ln((1 + N) / (1 + df(w))) + 1, as news/tfidf.h smooths
// it. Words are split and lowercased by news/tfidf.h's split_words. Used by
// the labeller to weigh a cluster's words; a word the corpus never holds is
// reported as unknown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace newsrl::news {

class WordIdf {
 public:
  WordIdf() = default;
  static WordIdf fit(const std::vector<std::string>& corpus);

  std::int64_t documents() const { return documents_; }
  // Documents holding `word` (lowercased); 0 when unknown.
  std::int64_t document_count(std::string_view word) const;
  bool known(std::string_view word) const { return document_count(word) > 0; }
  // The smoothed idf; an unknown word gets the idf of df = 0 (the largest).
  double idf(std::string_view word) const;
  // The largest idf any word can have in this corpus (df = 0).
  double max_idf() const;

 private:
  std::int64_t documents_ = 0;
  std::unordered_map<std::string, std::int64_t> counts_;
};

}  // namespace newsrl::news
