// Bulk buffers of every dtype and many sizes, through real MPI ranks: they
// arrive intact, as arguments and as results, alone or inside structs.
#include <gtest/gtest.h>
#include <mpi.h>

#include <numeric>

#include "runtime/cluster.h"

using namespace newsrl::runtime;

namespace {

struct Rollout {
  std::int64_t policy_version = 0;
  Bulk tokens;    // int32
  Bulk logprobs;  // float32
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& policy_version& tokens& logprobs;
  }
};

class Mirror {
 public:
  // Returns the buffer with its elements reversed, in a new buffer of the same dtype.
  Bulk reverse(const Bulk& b) const {
    Bulk out = Bulk::allocate(b.dtype(), b.size());
    const std::size_t es = dtype_size(b.dtype());
    const auto* src = static_cast<const char*>(b.data());
    auto* dst = static_cast<char*>(out.data());
    for (std::size_t i = 0; i < b.size(); ++i) std::memcpy(dst + (b.size() - 1 - i) * es, src + i * es, es);
    return out;
  }
  // A checksum of the raw bytes, to check a one-way transfer.
  std::uint64_t checksum(const Bulk& b) const {
    std::uint64_t h = 1469598103934665603ull;
    const auto* p = static_cast<const unsigned char*>(b.data());
    for (std::size_t i = 0; i < b.bytes(); ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
  }
  Rollout bump(const Rollout& r) const {
    Rollout out{r.policy_version + 1, reverse(r.tokens), Bulk::copy_of(r.logprobs.as<float>())};
    for (float& x : out.logprobs.as<float>()) x *= 2;
    return out;
  }
  static void expose(Methods<Mirror>& m) {
    m.def("reverse", &Mirror::reverse).def("checksum", &Mirror::checksum).def("bump", &Mirror::bump);
  }
};

template <class T>
std::vector<T> sample(std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, bfloat16>)
      v[i] = bfloat16::from_float(static_cast<float>(i % 251) - 100.5f);
    else
      v[i] = static_cast<T>((i * 2654435761u) % 100003) - static_cast<T>(50000);
  }
  return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, std::span<const T> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

int last_rank() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n - 1;
}

template <class T>
void check_dtype(const ActorHandle<Mirror>& m) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{3} << 20}) {
    const std::vector<T> v = sample<T>(n);
    const Bulk got = m.call(&Mirror::reverse, Bulk::copy_of(std::span<const T>(v))).get();
    ASSERT_EQ(got.dtype(), dtype_of_v<T>);
    std::vector<T> want(v.rbegin(), v.rend());
    EXPECT_TRUE(same_bits(want, got.as<T>())) << dtype_name(dtype_of_v<T>) << " × " << n;
  }
}

}  // namespace

TEST(Bulk, EveryDtypeArrivesIntact) {
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("mirror", std::vector<int>{last_rank()}));
  auto m = cluster.spawn<Mirror>("mirror");
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  check_dtype<float>(m[0]);
  check_dtype<bfloat16>(m[0]);
  check_dtype<std::int32_t>(m[0]);
  check_dtype<std::int64_t>(m[0]);
  check_dtype<std::uint8_t>(m[0]);
}

TEST(Bulk, BorrowedAndAdoptedBuffersAreNotCopiedBeforeSending) {
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("mirror", std::vector<int>{last_rank()}));
  auto m = cluster.spawn<Mirror>("mirror");
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  std::vector<std::uint8_t> data(40 << 20);
  std::iota(data.begin(), data.end(), 0);
  const Mirror local;
  const Bulk borrowed = Bulk::borrow(DType::u8, data.data(), data.size());
  EXPECT_EQ(m[0].call(&Mirror::checksum, borrowed).get(), local.checksum(borrowed));
  std::vector<std::int64_t> owned(12345, -7);
  const void* where = owned.data();
  const Bulk adopted = Bulk::adopt(std::move(owned));
  EXPECT_EQ(adopted.data(), where);
  EXPECT_EQ(m[0].call(&Mirror::checksum, adopted).get(), local.checksum(adopted));
}

TEST(Bulk, StructsCarrySeveralBuffers) {
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("mirror", std::vector<int>{last_rank()}));
  auto m = cluster.spawn<Mirror>("mirror");
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  Rollout r{41, Bulk::adopt(std::vector<std::int32_t>{1, 2, 3}), Bulk::adopt(std::vector<float>{-1.5f, -0.25f})};
  const Rollout out = m[0].call(&Mirror::bump, r).get();
  EXPECT_EQ(out.policy_version, 42);
  EXPECT_EQ(out.tokens.to_vector<std::int32_t>(), (std::vector<std::int32_t>{3, 2, 1}));
  EXPECT_EQ(out.logprobs.to_vector<float>(), (std::vector<float>{-3.0f, -0.5f}));
}
