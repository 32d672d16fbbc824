// The generators' random numbers: SplitMix64 seeding xoshiro256**, with the
// few distributions the world needs written here: std:: distributions differ
// between standard libraries, and the same seed must give the same bytes.
// (What remains platform-dependent is libm's last bit in log/exp/pow.)
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace newsrl::news {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One stream per (seed, purpose, index), so that user 7's events do not depend on user 6's.
inline std::uint64_t stream_seed(std::uint64_t seed, std::string_view purpose, std::uint64_t index) {
  std::uint64_t h = seed ^ 0x6a09e667f3bcc909ULL;
  for (const char c : purpose) {
    h ^= static_cast<unsigned char>(c);
    h = splitmix64(h);
  }
  h ^= index;
  return splitmix64(h);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }
  Rng(std::uint64_t seed, std::string_view purpose, std::uint64_t index) : Rng(stream_seed(seed, purpose, index)) {}

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)) % n; }
  bool chance(double p) { return uniform() < p; }
  // Standard normal (Box–Muller; one value per call keeps the stream simple).
  double normal() {
    const double u1 = 1.0 - uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * uniform());
  }
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  // Poisson by inversion: fine for the means the world uses (below a few hundred).
  std::int64_t poisson(double mean) {
    if (mean <= 0) return 0;
    double p = std::exp(-mean), cdf = p;
    const double u = uniform();
    std::int64_t k = 0;
    while (u > cdf && k < 100000) {
      ++k;
      p *= mean / static_cast<double>(k);
      cdf += p;
      if (p < 1e-300 && static_cast<double>(k) > mean) break;
    }
    return k;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace newsrl::news
