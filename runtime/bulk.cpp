#include "runtime/bulk.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#include "runtime/wire.h"

namespace newsrl::runtime {

namespace {

// Large receive buffers are recycled: a fresh 64 MiB allocation costs its
// page faults on every transfer (measured: a third of the bandwidth), while a
// training loop moves same-sized buffers again and again. Freed blocks of at
// least kMinCached bytes wait here for the next allocation of a similar size,
// up to kCacheBytes in all.
constexpr std::size_t kMinCached = 256 * 1024;
constexpr std::size_t kCacheBytes = std::size_t{1} << 30;

class BlockCache {
 public:
  // A cached block of at least `bytes` (and at most twice that) with its size, or {null, 0}.
  std::pair<void*, std::size_t> take(std::size_t bytes) {
    std::lock_guard lock(mu_);
    auto it = free_.lower_bound(bytes);
    if (it == free_.end() || it->first > 2 * bytes) return {nullptr, 0};
    const std::pair<void*, std::size_t> block{it->second, it->first};
    cached_ -= it->first;
    free_.erase(it);
    return block;
  }
  void give(void* p, std::size_t bytes) {
    std::lock_guard lock(mu_);
    while (cached_ + bytes > kCacheBytes && !free_.empty()) {
      auto largest = std::prev(free_.end());  // evict the largest first
      cached_ -= largest->first;
      std::free(largest->second);
      free_.erase(largest);
    }
    if (cached_ + bytes > kCacheBytes) {
      std::free(p);
      return;
    }
    free_.emplace(bytes, p);
    cached_ += bytes;
  }
  ~BlockCache() {
    for (auto& [n, p] : free_) std::free(p);
  }

 private:
  std::mutex mu_;
  std::multimap<std::size_t, void*> free_;
  std::size_t cached_ = 0;
};

BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: Bulks may outlive static destruction
  return *cache;
}

}  // namespace

Bulk Bulk::allocate(DType dtype, std::size_t count) {
  const std::size_t bytes = count * dtype_size(dtype);
  // 64-byte alignment suits SIMD kernels and MPI's single-copy paths alike.
  const std::size_t capacity = ((bytes + 63) / 64) * 64 + 64;
  if (capacity < kMinCached) {
    void* p = std::aligned_alloc(64, capacity);
    if (p == nullptr) throw std::bad_alloc();
    return Bulk(dtype, count, p, std::shared_ptr<void>(p, [](void* q) { std::free(q); }));
  }
  auto [p, held] = block_cache().take(capacity);
  if (p == nullptr) {
    p = std::aligned_alloc(64, capacity);
    held = capacity;
  }
  if (p == nullptr) throw std::bad_alloc();
  return Bulk(dtype, count, p, std::shared_ptr<void>(p, [held](void* q) { block_cache().give(q, held); }));
}

Bulk Bulk::allocate_like(std::size_t bytes, std::size_t offset) {
  offset %= 64;
  Bulk b = allocate(DType::u8, bytes + offset);
  b.count_ = bytes;
  b.data_ = static_cast<char*>(b.data_) + offset;
  return b;
}

void Bulk::check_type(DType want) const {
  if (want != dtype_) {
    throw std::invalid_argument("bulk buffer holds " + std::string(dtype_name(dtype_)) + ", read as " +
                                std::string(dtype_name(want)));
  }
}

void Bulk::attach_outgoing() const {
  wire::BulkChannel& ch = wire::bulk_channel();
  if (ch.outgoing == nullptr) throw std::logic_error("Bulk serialised outside a runtime message");
  ch.outgoing->push_back(*this);
}

void Bulk::take_incoming(std::uint8_t dtype, std::uint64_t count) {
  wire::BulkChannel& ch = wire::bulk_channel();
  if (ch.incoming == nullptr) throw std::logic_error("Bulk read outside a runtime message");
  if (!dtype_valid(dtype)) throw std::runtime_error("malformed message: bulk buffer with unknown dtype");
  if (ch.next_incoming >= ch.incoming->size()) {
    throw std::runtime_error("malformed message: more bulk buffers named than received");
  }
  const Bulk& raw = (*ch.incoming)[ch.next_incoming++];
  const DType t = static_cast<DType>(dtype);
  if (raw.bytes() != count * dtype_size(t)) {
    throw std::runtime_error("malformed message: bulk buffer of " + std::to_string(raw.bytes()) +
                             " bytes announced as " + std::to_string(count) + " " + std::string(dtype_name(t)));
  }
  *this = Bulk(t, count, const_cast<void*>(raw.data()), raw.owner_);
}

}  // namespace newsrl::runtime
