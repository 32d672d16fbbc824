// BPE training with incremental pair counts, see bpe_trainer.h.
#include "models/bpe_trainer.h"

#include <algorithm>
#include <map>
#include <queue>
#include <set>
#include <stdexcept>

#include "models/byte_level.h"
#include "models/unicode_text.h"

namespace newsrl::models {

namespace {

constexpr const char* kQwenPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

using Pair = std::pair<std::int32_t, std::int32_t>;

nlohmann::ordered_json byte_level_json() {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
}

// The training state: words as symbol ids with their counts, the count of
// every adjacent pair, and which words hold each pair.
class Merger {
 public:
  Merger(std::vector<std::vector<std::int32_t>> words, std::vector<std::int64_t> freq)
      : words_(std::move(words)), freq_(std::move(freq)) {
    for (std::size_t w = 0; w < words_.size(); ++w) {
      const auto& s = words_[w];
      for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        counts_[{s[i], s[i + 1]}] += freq_[w];
        where_[{s[i], s[i + 1]}].insert(static_cast<std::int32_t>(w));
      }
    }
    for (const auto& [pair, count] : counts_) queue_.push({count, pair});
  }

  // The most frequent pair (smaller ids first on ties) with at least
  // min_count occurrences; false when there is none.
  bool best(std::int64_t min_count, Pair& pair) {
    while (!queue_.empty()) {
      const Entry top = queue_.top();
      queue_.pop();
      const auto it = counts_.find(top.pair);
      const std::int64_t now = it == counts_.end() ? 0 : it->second;
      if (now != top.count) {  // stale: the count changed since it was queued
        if (now > 0) queue_.push({now, top.pair});
        continue;
      }
      if (now < min_count) return false;
      pair = top.pair;
      return true;
    }
    return false;
  }

  // Replaces every (a, b) by `merged` and updates the counts of the pairs around.
  void merge(Pair pair, std::int32_t merged) {
    const auto [a, b] = pair;
    std::set<Pair> grown;
    const auto add = [&](Pair p, std::int64_t delta, std::int32_t w) {
      counts_[p] += delta;
      if (delta > 0) {
        where_[p].insert(w);
        grown.insert(p);
      }
    };
    const std::set<std::int32_t> holders = std::move(where_[pair]);
    where_.erase(pair);
    for (std::int32_t w : holders) {
      auto& s = words_[static_cast<std::size_t>(w)];
      const std::int64_t f = freq_[static_cast<std::size_t>(w)];
      std::vector<std::int32_t> out;
      out.reserve(s.size());
      for (std::size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          if (!out.empty()) {
            add({out.back(), a}, -f, w);
            add({out.back(), merged}, f, w);
          }
          if (i + 2 < s.size()) {
            add({b, s[i + 2]}, -f, w);
            add({merged, s[i + 2]}, f, w);
          }
          add(pair, -f, w);
          out.push_back(merged);
          i += 2;
        } else {
          out.push_back(s[i]);
          ++i;
        }
      }
      s = std::move(out);
    }
    counts_.erase(pair);
    for (const Pair& p : grown) queue_.push({counts_[p], p});
  }

 private:
  struct Entry {
    std::int64_t count;
    Pair pair;
    bool operator<(const Entry& o) const { return count != o.count ? count < o.count : pair > o.pair; }
  };
  std::vector<std::vector<std::int32_t>> words_;
  std::vector<std::int64_t> freq_;
  std::map<Pair, std::int64_t> counts_;
  std::map<Pair, std::set<std::int32_t>> where_;
  std::priority_queue<Entry> queue_;
};

}  // namespace

const char* BpeTrainer::split_pattern() { return kQwenPattern; }

BpeTrainer::BpeTrainer(BpeTrainerOptions options) : options_(std::move(options)), pre_tokenizer_(kQwenPattern, true) {
  std::set<std::string> seen;
  for (const std::string& s : options_.special_tokens) {
    if (s.empty()) throw std::invalid_argument("a special token must not be empty");
    if (valid_utf8_prefix(s) != s.size()) throw std::invalid_argument("special token \"" + s + "\" is not valid UTF-8");
    if (!seen.insert(s).second) throw std::invalid_argument("special token \"" + s + "\" is given twice");
  }
  const auto least = static_cast<std::int32_t>(256 + options_.special_tokens.size());
  if (options_.vocab_size < least) {
    throw std::invalid_argument("vocab size " + std::to_string(options_.vocab_size) + " is below " +
                                std::to_string(least) + " (256 bytes + " +
                                std::to_string(options_.special_tokens.size()) + " special tokens)");
  }
}

void BpeTrainer::add_text(std::string_view text) {
  while (!text.empty()) {  // cut at the earliest special token
    std::size_t at = std::string_view::npos, length = 0;
    for (const std::string& s : options_.special_tokens) {
      const std::size_t p = text.find(s);
      if (p < at || (p == at && p != std::string_view::npos && s.size() > length)) {
        at = p;
        length = s.size();
      }
    }
    pre_tokenizer_.for_each_word(text.substr(0, at), [&](std::string_view word) { ++word_counts_[std::string(word)]; });
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + length);
  }
}

nlohmann::ordered_json BpeTrainer::train() const {
  // Words in byte order, so that ids and ties never depend on hashing.
  std::vector<std::pair<std::string, std::int64_t>> counted(word_counts_.begin(), word_counts_.end());
  std::sort(counted.begin(), counted.end());
  std::vector<std::vector<std::int32_t>> words;
  std::vector<std::int64_t> freq;
  for (const auto& [word, count] : counted) {
    if (word.size() < 2) continue;  // nothing to merge
    words.emplace_back(word.begin(), word.end());
    for (std::int32_t& id : words.back()) id = static_cast<std::uint8_t>(id);
    freq.push_back(count);
  }

  std::vector<std::string> tokens;  // id -> bytes; ids 0..255 are the bytes
  std::unordered_map<std::string, std::int32_t> id_of;
  for (int b = 0; b < 256; ++b) {
    tokens.emplace_back(1, static_cast<char>(b));
    id_of[tokens.back()] = b;
  }
  const auto model_size = options_.vocab_size - static_cast<std::int32_t>(options_.special_tokens.size());
  std::vector<Pair> merges;
  Merger merger(std::move(words), std::move(freq));
  Pair pair;
  while (static_cast<std::int32_t>(tokens.size()) < model_size && merger.best(options_.min_frequency, pair)) {
    const std::string joined =
        tokens[static_cast<std::size_t>(pair.first)] + tokens[static_cast<std::size_t>(pair.second)];
    auto [it, fresh] = id_of.emplace(joined, static_cast<std::int32_t>(tokens.size()));
    if (fresh) tokens.push_back(joined);
    merges.push_back(pair);
    merger.merge(pair, it->second);
  }

  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (std::size_t id = 0; id < tokens.size(); ++id) vocab[ByteLevel::encode(tokens[id])] = id;
  nlohmann::ordered_json merge_list = nlohmann::ordered_json::array();
  for (const auto& [l, r] : merges) {
    merge_list.push_back({ByteLevel::encode(tokens[static_cast<std::size_t>(l)]),
                          ByteLevel::encode(tokens[static_cast<std::size_t>(r)])});
  }
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < options_.special_tokens.size(); ++i) {
    added.push_back({{"id", tokens.size() + i},
                     {"content", options_.special_tokens[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  nlohmann::ordered_json split = {
      {"type", "Split"}, {"pattern", {{"Regex", kQwenPattern}}}, {"behavior", "Isolated"}, {"invert", false}};
  nlohmann::ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  j["normalizer"] = {{"type", "NFC"}};
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {split, byte_level_json()}}};
  j["post_processor"] = byte_level_json();
  j["decoder"] = byte_level_json();
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", merge_list}};
  return j;
}

}  // namespace newsrl::models
