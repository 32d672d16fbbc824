// The wire format without MPI: archives, bulk buffers beside them, and
// malformed frames.
#include "runtime/wire.h"

#include <gtest/gtest.h>

#include <cmath>

#include "runtime/bulk.h"

using namespace newsrl::runtime;

namespace {

struct Batch {
  std::string name;
  std::vector<int> ids;
  Bulk tokens;
  Bulk logprobs;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& name& ids& tokens& logprobs;
  }
};

// What the transport does: the receiver gets the frame and fresh copies of the bulk bytes.
wire::Message deliver(const wire::Message& sent) {
  wire::Message got;
  got.frame = sent.frame;
  for (const wire::BulkSpec& spec : wire::parse_frame(got)) {
    Bulk b = Bulk::allocate_like(spec.bytes, spec.align);
    const Bulk& src = sent.bulks[got.bulks.size()];
    if (spec.bytes) std::memcpy(b.data(), src.data(), spec.bytes);
    got.bulks.push_back(b);
  }
  return got;
}

}  // namespace

TEST(Wire, ValuesRoundTrip) {
  wire::Message m = wire::begin_message(wire::Kind::call, 7, 3, 2);
  wire::write_body(m, std::string("hello"), 42, std::vector<double>{1.5, -2.0}, std::map<std::string, int>{{"a", 1}});
  wire::finish_message(m);
  wire::Message got = deliver(m);
  EXPECT_EQ(got.header.call_id, 7u);
  EXPECT_EQ(got.header.actor, 3u);
  EXPECT_EQ(got.header.method, 2u);
  auto [s, i, v, mp] = wire::read_body<std::string, int, std::vector<double>, std::map<std::string, int>>(got);
  EXPECT_EQ(s, "hello");
  EXPECT_EQ(i, 42);
  EXPECT_EQ(v, (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(mp.at("a"), 1);
}

TEST(Wire, BulkBuffersTravelBesideTheArchive) {
  std::vector<std::int32_t> tokens(100000);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::int32_t>(i * 7);
  Batch b{
      "users", {1, 2}, Bulk::adopt(std::vector<std::int32_t>(tokens)), Bulk::adopt(std::vector<float>{-0.5f, -1.25f})};
  wire::Message m = wire::begin_message(wire::Kind::call, 1);
  wire::write_body(m, b);
  wire::finish_message(m);
  // The archive holds the small fields only: the 400 KB of tokens ride beside it.
  EXPECT_LT(m.header.body_bytes, 200u);
  ASSERT_EQ(m.bulks.size(), 2u);
  EXPECT_EQ(m.bulks[0].data(), b.tokens.data());  // the sender's own memory, not a copy

  wire::Message got = deliver(m);
  auto [r] = wire::read_body<Batch>(got);
  EXPECT_EQ(r.name, "users");
  EXPECT_EQ(r.tokens.dtype(), DType::i32);
  EXPECT_EQ(r.tokens.to_vector<std::int32_t>(), tokens);
  EXPECT_EQ(r.logprobs.to_vector<float>(), (std::vector<float>{-0.5f, -1.25f}));
  EXPECT_EQ(r.tokens.data(), got.bulks[0].data());  // the received storage itself, not a copy
}

TEST(Wire, ReceivedBulkKeepsTheSendersAlignment) {
  std::vector<char> raw(1000);
  Bulk b = Bulk::borrow(DType::u8, raw.data() + 13, 500);
  wire::Message m = wire::begin_message(wire::Kind::call, 1);
  wire::write_body(m, b);
  wire::finish_message(m);
  wire::Message got = deliver(m);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(got.bulks[0].data()) % 64,
            reinterpret_cast<std::uintptr_t>(raw.data() + 13) % 64);
}

TEST(Wire, ReadingABulkAsAnotherTypeIsAnError) {
  Bulk b = Bulk::adopt(std::vector<float>{1, 2});
  EXPECT_THROW(b.as<std::int32_t>(), std::invalid_argument);
}

TEST(Wire, MalformedFramesAreRejected) {
  wire::Message m = wire::begin_message(wire::Kind::call, 1);
  wire::write_body(m, std::string("abc"));
  wire::finish_message(m);
  wire::Message cut;
  cut.frame.assign(m.frame.begin(), m.frame.begin() + 10);
  EXPECT_THROW(wire::parse_frame(cut), std::runtime_error);
  wire::Message longer;
  longer.frame = m.frame;
  longer.frame.push_back(0);
  EXPECT_THROW(wire::parse_frame(longer), std::runtime_error);
}

TEST(Wire, BulkSizeMismatchIsAnError) {
  Bulk b = Bulk::adopt(std::vector<float>{1, 2, 3});
  wire::Message m = wire::begin_message(wire::Kind::call, 1);
  wire::write_body(m, b);
  wire::finish_message(m);
  wire::Message got = deliver(m);
  got.bulks[0] = Bulk::allocate(DType::u8, 5);  // not 12 bytes
  EXPECT_THROW(wire::read_body<Bulk>(got), std::runtime_error);
}

TEST(BFloat16, RoundsToNearestEvenAndKeepsSpecials) {
  EXPECT_EQ(bfloat16::from_float(1.0f).bits, 0x3f80);
  EXPECT_EQ(bfloat16::from_float(1.0f).to_float(), 1.0f);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(bfloat16::from_float(1.0f + 1.0f / 256).to_float(), 1.0f);
  EXPECT_EQ(bfloat16::from_float(1.0f + 3.0f / 256).to_float(), 1.0f + 4.0f / 256);
  EXPECT_TRUE(std::isnan(bfloat16::from_float(NAN).to_float()));
  EXPECT_TRUE(std::isinf(bfloat16::from_float(INFINITY).to_float()));
  EXPECT_EQ(bfloat16::from_float(-2.5f).to_float(), -2.5f);
}
