// BPE merging with a priority queue over a linked list of symbols, see bpe.h.
#include "models/bpe.h"

#include <atomic>
#include <queue>
#include <stdexcept>

#include "models/byte_level.h"

namespace newsrl::models {

namespace {

std::atomic<std::uint64_t> next_owner{1};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Words already merged, per thread; cleared when another model uses the
// thread or when it grows past a bound.
struct WordCache {
  static constexpr std::size_t kMaxEntries = 1 << 17;
  static constexpr std::size_t kMaxWordBytes = 256;
  std::uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<std::int32_t>, StringHash, std::equal_to<>> words;
};

WordCache& thread_cache(std::uint64_t owner) {
  thread_local WordCache cache;
  if (cache.owner != owner) {
    cache.words.clear();
    cache.owner = owner;
  }
  return cache;
}

}  // namespace

BpeModel::BpeModel(std::unordered_map<std::string, std::int32_t> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges)
    : vocab_(std::move(vocab)), cache_owner_(next_owner++) {
  for (int b = 0; b < 256; ++b) {
    auto it = vocab_.find(ByteLevel::char_of(static_cast<std::uint8_t>(b)));
    if (it == vocab_.end()) {
      throw std::invalid_argument("the vocab lacks the byte-level token \"" +
                                  ByteLevel::char_of(static_cast<std::uint8_t>(b)) + "\" for byte " +
                                  std::to_string(b));
    }
    byte_ids_[b] = it->second;
  }
  merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto l = vocab_.find(left), r = vocab_.find(right), m = vocab_.find(left + right);
    const std::string where = "merge " + std::to_string(rank) + " (\"" + left + "\" \"" + right + "\"): ";
    if (l == vocab_.end()) throw std::invalid_argument(where + "\"" + left + "\" is not in the vocab");
    if (r == vocab_.end()) throw std::invalid_argument(where + "\"" + right + "\" is not in the vocab");
    if (m == vocab_.end()) throw std::invalid_argument(where + "\"" + left + right + "\" is not in the vocab");
    merges_.insert_or_assign(key(l->second, r->second), Merge{static_cast<std::int32_t>(rank), m->second});
  }
}

void BpeModel::encode_word(std::string_view bytes, std::vector<std::int32_t>& out) const {
  if (bytes.size() == 1) {
    out.push_back(byte_ids_[static_cast<std::uint8_t>(bytes[0])]);
    return;
  }
  if (bytes.size() > WordCache::kMaxWordBytes) {
    merge_word(bytes, out);
    return;
  }
  WordCache& cache = thread_cache(cache_owner_);
  if (auto it = cache.words.find(bytes); it != cache.words.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  const std::size_t first = out.size();
  merge_word(bytes, out);
  if (cache.words.size() >= WordCache::kMaxEntries) cache.words.clear();
  cache.words.emplace(std::string(bytes),
                      std::vector<std::int32_t>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
}

void BpeModel::merge_word(std::string_view bytes, std::vector<std::int32_t>& out) const {
  struct Symbol {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;  // -1 at the ends
  };
  struct Candidate {
    std::int32_t rank;
    std::int32_t pos;  // the left symbol
    std::int32_t left, right, merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  const auto n = static_cast<std::int32_t>(bytes.size());
  std::vector<Symbol> symbols(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) {
    symbols[static_cast<std::size_t>(i)] = {byte_ids_[static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(i)])],
                                            i - 1, i + 1 < n ? i + 1 : -1};
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto offer = [&](std::int32_t pos) {
    if (pos < 0) return;
    const Symbol& s = symbols[static_cast<std::size_t>(pos)];
    if (s.next < 0) return;
    const std::int32_t right = symbols[static_cast<std::size_t>(s.next)].id;
    const auto it = merges_.find(key(s.id, right));
    if (it != merges_.end()) queue.push({it->second.rank, pos, s.id, right, it->second.merged});
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) offer(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& s = symbols[static_cast<std::size_t>(c.pos)];
    if (s.id != c.left || s.next < 0 || symbols[static_cast<std::size_t>(s.next)].id != c.right) continue;  // stale
    Symbol& gone = symbols[static_cast<std::size_t>(s.next)];
    s.id = c.merged;
    s.next = gone.next;
    gone.id = -1;
    if (s.next >= 0) symbols[static_cast<std::size_t>(s.next)].prev = c.pos;
    offer(s.prev);
    offer(c.pos);
  }
  for (std::int32_t i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
    out.push_back(symbols[static_cast<std::size_t>(i)].id);
  }
}

}  // namespace newsrl::models
