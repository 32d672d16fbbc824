// TF-IDF features of short texts (news titles, abstracts, search queries):
// lowercased words from a vocabulary fitted on a corpus, plus character
// 3-grams within words hashed into a fixed number of buckets; sublinear tf,
// smoothed idf. The input of the LSA embedder (news/lsa_embedder.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace newsrl::news {

// Words of a UTF-8 text: maximal runs of letters and digits, lowercased.
// Letters are ASCII letters and every code point from U+00C0 up that is not a
// known punctuation, symbol or space block; lowercasing covers Latin-1,
// Latin Extended-A, Greek and Cyrillic. Invalid UTF-8 bytes separate words.
// Written here rather than with PCRE2: PCRE2 splits but does not lowercase.
std::vector<std::u32string> split_words(std::string_view text);
std::string to_utf8(const std::u32string& word);

// `text` with its letters lowercased as split_words lowercases them; every
// other byte (punctuation, spaces, invalid UTF-8) kept as it is.
std::string lowercase_text(std::string_view text);

// A sparse matrix in compressed rows; column indices sorted within a row.
struct SparseRows {
  std::int64_t cols = 0;
  std::vector<std::int64_t> offsets = {0};  // row r spans [offsets[r], offsets[r+1])
  std::vector<std::int32_t> index;
  std::vector<float> value;
  std::int64_t rows() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
};

struct TfidfOptions {
  int max_words = 40000;       // vocabulary size cap: the words in most documents
  int min_document_count = 2;  // a word must appear in at least this many documents
  int ngram_buckets = 16384;   // hashed character 3-grams
};

class TfidfFeatures {
 public:
  TfidfFeatures() = default;
  // Fits vocabulary and idf on `corpus`.
  static TfidfFeatures fit(const std::vector<std::string>& corpus, const TfidfOptions& options);

  std::int64_t feature_count() const { return static_cast<std::int64_t>(word_idf_.size()) + ngram_buckets_; }
  // One row per text: the word block and the n-gram block each L2-normalised,
  // both scaled by 1/sqrt(2), so a row has norm 1 when both blocks are non-empty.
  SparseRows transform(const std::vector<std::string>& texts) const;

  // What a file needs to rebuild the features (news/lsa_embedder.cpp stores them).
  const std::vector<std::uint64_t>& word_hashes() const { return word_hashes_; }
  const std::vector<float>& word_idf() const { return word_idf_; }
  const std::vector<float>& ngram_idf() const { return ngram_idf_; }
  static TfidfFeatures from_parts(std::vector<std::uint64_t> word_hashes, std::vector<float> word_idf,
                                  std::vector<float> ngram_idf);

  static std::uint64_t hash_word(const std::u32string& word);

 private:
  std::vector<std::uint64_t> word_hashes_;  // feature i is the word with this 64-bit hash
  std::vector<float> word_idf_;
  std::vector<float> ngram_idf_;
  std::int64_t ngram_buckets_ = 0;
  std::unordered_map<std::uint64_t, std::int32_t> word_index_;
};

}  // namespace newsrl::news
