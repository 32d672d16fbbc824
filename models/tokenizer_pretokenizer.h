// Pre-tokenizing for byte-level BPE: optional NFC, then a split regex whose
// matches and the text between them both become words (Hugging Face's
// `Split` with behaviour `Isolated`). Works on bytes: maximal runs of
// invalid UTF-8 bypass NFC and the regex and become words of their own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace newsrl::models {

class PreTokenizer {
 public:
  // `pattern` is the regex as written in a tokenizer.json (PCRE2 syntax with
  // Unicode properties); throws std::invalid_argument when it does not compile.
  PreTokenizer(const std::string& pattern, bool nfc);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Calls `word` for each word of `text` in order; the words' bytes joined
  // are the (normalized) text. Thread-safe.
  void for_each_word(std::string_view text, const std::function<void(std::string_view)>& word) const;

  const std::string& pattern() const { return pattern_; }
  bool nfc() const { return nfc_; }

 private:
  void split_valid(std::string_view valid, const std::function<void(std::string_view)>& word) const;

  std::string pattern_;
  bool nfc_;
  struct Regex;
  std::unique_ptr<Regex> regex_;
};

}  // namespace newsrl::models
