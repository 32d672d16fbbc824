// Byte-level BPE model: a vocabulary of byte-level strings and ranked merges.
// A word (raw bytes) starts as one symbol per byte; the adjacent pair with
// the lowest merge rank (leftmost first on ties) merges until none is left,
// as in Hugging Face tokenizers. Words seen before come from a per-thread cache.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace newsrl::models {

class BpeModel {
 public:
  // `vocab` maps byte-level strings (ByteLevel characters) to ids; `merges`
  // in rank order. Throws std::invalid_argument naming the first problem: a
  // byte with no token, a merge whose parts or result are not in the vocab.
  BpeModel(std::unordered_map<std::string, std::int32_t> vocab,
           const std::vector<std::pair<std::string, std::string>>& merges);

  // Appends the ids of one word (raw bytes) to `out`.
  void encode_word(std::string_view bytes, std::vector<std::int32_t>& out) const;

  const std::unordered_map<std::string, std::int32_t>& vocab() const { return vocab_; }
  std::size_t merge_count() const { return merges_.size(); }

 private:
  void merge_word(std::string_view bytes, std::vector<std::int32_t>& out) const;

  struct Merge {
    std::int32_t rank;
    std::int32_t merged;
  };
  static std::uint64_t key(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
  }

  std::unordered_map<std::string, std::int32_t> vocab_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::int32_t byte_ids_[256];
  std::uint64_t cache_owner_;  // tells this model's entries in the per-thread cache from another's
};

}  // namespace newsrl::models
