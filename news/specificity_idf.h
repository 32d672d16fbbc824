// Inverse document frequency of words over a corpus (the train window's news
// titles), for the specificity reward: a query made of words few articles
// use says more than one made of words every article uses. Words are those of
// news/tfidf.h's split_words (lowercased runs of letters and digits).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace newsrl::news {

class SpecificityIdf {
 public:
  // idf(w) = ln((1 + N) / (1 + df(w))) + 1 over the N texts, the embedder's smoothing.
  static SpecificityIdf fit(const std::vector<std::string>& corpus);

  // 0 for a word no text holds: it cannot retrieve anything, so it earns no
  // specificity (a made-up word would otherwise score highest).
  double idf(const std::u32string& word) const;
  // The largest idf of a word in the corpus (0 for an empty corpus).
  double max_idf() const { return max_idf_; }
  std::int64_t documents() const { return documents_; }

 private:
  std::unordered_map<std::u32string, double> idf_;
  double max_idf_ = 0;
  std::int64_t documents_ = 0;
};

}  // namespace newsrl::news
