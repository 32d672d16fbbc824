// SipHash-2-4 (Aumasson and Bernstein, 2012), written from the paper's
// description: 2 compression rounds per 8-byte word, 4 finalisation rounds.
#include "news/user_hash.h"

namespace newsrl::news {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct State {
  std::uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);
    v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;
    v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;
    v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);
  }
  void absorb(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

std::uint64_t load_le(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, std::string_view data) {
  State s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
          k1 ^ 0x7465646279746573ULL};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) s.absorb(load_le(p + i, 8));
  s.absorb(load_le(p + i, n - i) | (static_cast<std::uint64_t>(n & 0xff) << 56));
  s.v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

UserHasher::UserHasher(std::string_view salt)
    : k0_(siphash24(0x6e6577737266736bULL, 0x6b65792d68616c66ULL, salt)),  // fixed, public: "newsrfsk", "key-half"
      k1_(siphash24(0x6b65792d68616c66ULL, 0x6e6577737266736bULL, salt)) {}

std::string UserHasher::operator()(std::string_view raw_id) const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t h = siphash24(k0_, k1_, raw_id);
  std::string out(17, 'u');
  for (int i = 16; i >= 1; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kHex[h & 15];
  return out;
}

}  // namespace newsrl::news
