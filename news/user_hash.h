// Raw user identifiers never leave an import: they become "u" + 16 hex digits
// of SipHash-2-4 (a keyed hash) under a 128-bit key derived from a salt.
// Without the salt the ids cannot be linked back to the raw ones by hashing
// guesses. docs/data-format.md describes the derivation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace newsrl::news {

// SipHash-2-4 of `data` under the key (k0, k1) (little-endian halves of the 16-byte key).
std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, std::string_view data);

class UserHasher {
 public:
  // The key is SipHash-2-4 of the salt under two fixed public keys.
  explicit UserHasher(std::string_view salt);
  // "u" followed by the 16 lowercase hex digits of the keyed hash of `raw_id`.
  std::string operator()(std::string_view raw_id) const;

 private:
  std::uint64_t k0_, k1_;
};

}  // namespace newsrl::news
