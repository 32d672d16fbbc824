// TF-IDF features: word splitting, vocabulary, hashed character 3-grams.
#include "news/tfidf.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace newsrl::news {

namespace {

// Decodes one UTF-8 sequence at text[i]; returns 0xFFFFFFFF for an invalid byte.
char32_t decode(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  int extra = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    ++i;
    return 0xFFFFFFFF;
  }
  if (i + static_cast<std::size_t>(extra) >= text.size()) {  // truncated sequence
    ++i;
    return 0xFFFFFFFF;
  }
  for (int k = 1; k <= extra; ++k) {
    const unsigned char b = byte(i + static_cast<std::size_t>(k));
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFFFFFF;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += static_cast<std::size_t>(extra) + 1;
  return cp;
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c < 0xC0) return false;                   // Latin-1 punctuation and symbols
  if (c == 0xD7 || c == 0xF7) return false;     // × ÷
  if (c >= 0x2000 && c <= 0x2BFF) return false;  // punctuation, symbols, arrows, math, box drawing
  if (c >= 0x3000 && c <= 0x303F) return false;  // CJK punctuation
  if (c >= 0xFE30 && c <= 0xFE4F) return false;  // CJK compatibility forms
  if (c >= 0xFF00 && c <= 0xFF0F) return false;  // fullwidth punctuation
  if (c >= 0x1F000 && c <= 0x1FAFF) return false;  // emoji and pictographs
  if (c == 0xFEFF || c == 0xFFFD || c == 0xFFFFFFFF) return false;
  return true;
}

char32_t lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if ((c >= 0xC0 && c <= 0xDE) && c != 0xD7) return c + 32;  // Latin-1
  if (c >= 0x100 && c <= 0x137) return c | 1;                // Latin Extended-A: even upper, odd lower
  if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;  // odd upper
  if (c >= 0x14A && c <= 0x177) return c | 1;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;  // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

// FNV-1a over code points, then a final mix: stable across platforms.
std::uint64_t hash_code_points(const char32_t* p, std::size_t n, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ULL ^ seed;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<std::uint64_t>(p[i]);
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

constexpr std::uint64_t kNgramSeed = 0x9e3779b97f4a7c15ULL;

// Bucket ids of the character 3-grams of a word padded with '<' and '>'.
void ngram_buckets(const std::u32string& word, std::int64_t buckets, std::vector<std::int64_t>& out) {
  std::u32string padded = U"<" + word + U">";
  if (padded.size() < 3) return;
  for (std::size_t i = 0; i + 3 <= padded.size(); ++i) {
    out.push_back(static_cast<std::int64_t>(hash_code_points(padded.data() + i, 3, kNgramSeed) %
                                            static_cast<std::uint64_t>(buckets)));
  }
}

// Sublinear tf-idf of one block, L2-normalised and scaled; appended to the row.
void add_block(std::map<std::int64_t, int>& counts, const std::vector<float>& idf, std::int64_t offset, float scale,
               std::vector<std::pair<std::int32_t, float>>& row) {
  double norm = 0;
  const std::size_t first = row.size();
  for (const auto& [feature, count] : counts) {
    const float w = (1.0f + std::log(static_cast<float>(count))) * idf[static_cast<std::size_t>(feature)];
    row.emplace_back(static_cast<std::int32_t>(offset + feature), w);
    norm += static_cast<double>(w) * w;
  }
  if (norm <= 0) return;
  const float inv = scale / static_cast<float>(std::sqrt(norm));
  for (std::size_t i = first; i < row.size(); ++i) row[i].second *= inv;
}

}  // namespace

std::vector<std::u32string> split_words(std::string_view text) {
  std::vector<std::u32string> words;
  std::u32string current;
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t c = decode(text, i);
    if (is_word_char(c)) {
      current.push_back(lower(c));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

std::string lowercase_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    const char32_t c = decode(text, i);
    const char32_t l = c == 0xFFFFFFFF ? c : lower(c);
    if (l == c) {
      out.append(text.substr(start, i - start));
    } else {
      out += to_utf8(std::u32string(1, l));
    }
  }
  return out;
}

std::string to_utf8(const std::u32string& word) {
  std::string out;
  for (char32_t c : word) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::uint64_t TfidfFeatures::hash_word(const std::u32string& word) { return hash_code_points(word.data(), word.size(), 0); }

TfidfFeatures TfidfFeatures::fit(const std::vector<std::string>& corpus, const TfidfOptions& options) {
  if (options.max_words < 0 || options.min_document_count < 1 || options.ngram_buckets < 1) {
    throw std::invalid_argument("tf-idf: max_words >= 0, min_document_count >= 1 and ngram_buckets >= 1 are needed");
  }
  // Document frequencies of words (by hash) and of n-gram buckets.
  std::unordered_map<std::uint64_t, std::int64_t> word_df;
  std::vector<std::int64_t> ngram_df(static_cast<std::size_t>(options.ngram_buckets), 0);
  std::vector<std::int64_t> grams;
  for (const std::string& text : corpus) {
    std::vector<std::uint64_t> hashes;
    grams.clear();
    for (const std::u32string& w : split_words(text)) {
      hashes.push_back(hash_word(w));
      ngram_buckets(w, options.ngram_buckets, grams);
    }
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    for (std::uint64_t h : hashes) ++word_df[h];
    std::sort(grams.begin(), grams.end());
    grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
    for (std::int64_t g : grams) ++ngram_df[static_cast<std::size_t>(g)];
  }
  std::vector<std::pair<std::int64_t, std::uint64_t>> ranked;  // (-df, hash): most frequent first, ties by hash
  for (const auto& [h, df] : word_df) {
    if (df >= options.min_document_count) ranked.emplace_back(-df, h);
  }
  std::sort(ranked.begin(), ranked.end());
  if (ranked.size() > static_cast<std::size_t>(options.max_words)) ranked.resize(static_cast<std::size_t>(options.max_words));
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second < b.second; });

  const double n = static_cast<double>(corpus.size());
  const auto idf = [n](std::int64_t df) { return static_cast<float>(std::log((1.0 + n) / (1.0 + static_cast<double>(df))) + 1.0); };
  std::vector<std::uint64_t> hashes;
  std::vector<float> word_idf;
  for (const auto& [negative_df, h] : ranked) {
    hashes.push_back(h);
    word_idf.push_back(idf(-negative_df));
  }
  std::vector<float> gram_idf(ngram_df.size());
  for (std::size_t g = 0; g < ngram_df.size(); ++g) gram_idf[g] = idf(ngram_df[g]);
  return from_parts(std::move(hashes), std::move(word_idf), std::move(gram_idf));
}

TfidfFeatures TfidfFeatures::from_parts(std::vector<std::uint64_t> word_hashes, std::vector<float> word_idf,
                                        std::vector<float> ngram_idf) {
  if (word_hashes.size() != word_idf.size() || ngram_idf.empty()) {
    throw std::invalid_argument("tf-idf: word hashes and idf differ in length, or no n-gram buckets");
  }
  TfidfFeatures f;
  f.word_hashes_ = std::move(word_hashes);
  f.word_idf_ = std::move(word_idf);
  f.ngram_idf_ = std::move(ngram_idf);
  f.ngram_buckets_ = static_cast<std::int64_t>(f.ngram_idf_.size());
  f.word_index_.reserve(f.word_hashes_.size() * 2);
  for (std::size_t i = 0; i < f.word_hashes_.size(); ++i) f.word_index_.emplace(f.word_hashes_[i], static_cast<std::int32_t>(i));
  return f;
}

SparseRows TfidfFeatures::transform(const std::vector<std::string>& texts) const {
  SparseRows out;
  out.cols = feature_count();
  out.offsets.reserve(texts.size() + 1);
  const std::int64_t words = static_cast<std::int64_t>(word_idf_.size());
  const float scale = static_cast<float>(1.0 / std::sqrt(2.0));
  std::vector<std::int64_t> grams;
  std::vector<std::pair<std::int32_t, float>> row;
  for (const std::string& text : texts) {
    std::map<std::int64_t, int> word_counts, gram_counts;
    grams.clear();
    for (const std::u32string& w : split_words(text)) {
      const auto it = word_index_.find(hash_word(w));
      if (it != word_index_.end()) ++word_counts[it->second];
      ngram_buckets(w, ngram_buckets_, grams);
    }
    for (std::int64_t g : grams) ++gram_counts[g];
    row.clear();
    add_block(word_counts, word_idf_, 0, scale, row);
    add_block(gram_counts, ngram_idf_, words, scale, row);
    for (const auto& [feature, value] : row) {
      out.index.push_back(feature);
      out.value.push_back(value);
    }
    out.offsets.push_back(static_cast<std::int64_t>(out.index.size()));
  }
  return out;
}

}  // namespace newsrl::news
