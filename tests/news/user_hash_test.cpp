// SipHash-2-4 against the reference vectors of its paper; the salted user ids.
#include "news/user_hash.h"

#include <gtest/gtest.h>

#include "news/schema.h"

namespace newsrl::news {
namespace {

TEST(SipHash, MatchesTheReferenceVectors) {
  // Key 00 01 .. 0f; messages 00 01 .. (n-1) (the paper's appendix and the reference test vectors).
  const std::uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
  std::string msg;
  for (int i = 0; i < 15; ++i) msg.push_back(static_cast<char>(i));
  EXPECT_EQ(siphash24(k0, k1, std::string_view(msg.data(), 0)), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(siphash24(k0, k1, std::string_view(msg.data(), 1)), 0x74f839c593dc67fdULL);
  EXPECT_EQ(siphash24(k0, k1, std::string_view(msg.data(), 8)), 0x93f5f5799a932462ULL);
  EXPECT_EQ(siphash24(k0, k1, msg), 0xa129ca6149be45e5ULL);
}

TEST(UserHasher, SaltedStableAndValid) {
  const UserHasher a("salt-a"), b("salt-b");
  EXPECT_EQ(a("U12345"), a("U12345"));
  EXPECT_NE(a("U12345"), b("U12345"));
  EXPECT_NE(a("U12345"), a("U12346"));
  EXPECT_TRUE(valid_user_id(a("U12345")));
  EXPECT_EQ(a("U12345").find("12345"), std::string::npos);
}

}  // namespace
}  // namespace newsrl::news
