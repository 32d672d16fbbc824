// Role-group collectives on host buffers, run the way actors use them (inside
// methods called on every member at once), checked against a serial
// reference computed from every member's known input.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "collective_reference.h"
#include "runtime/cluster.h"

using namespace newsrl::runtime;
using namespace newsrl::runtime::testing;
using namespace std::chrono_literals;

namespace {

class GroupChecker {
 public:
  explicit GroupChecker(ActorContext& ctx) : group_(ctx.group) {}

  // Runs every collective on `count` elements per member; returns the mismatches found.
  std::vector<std::string> check(std::uint64_t count) {
    std::vector<std::string> bad;
    run<float>(count, bad);
    run<bfloat16>(count, bad);
    run<std::int32_t>(count, bad);
    run<std::int64_t>(count, bad);
    return bad;
  }
  int group_size() const { return group_.size(); }
  static void expose(Methods<GroupChecker>& m) {
    m.def("check", &GroupChecker::check).def("group_size", &GroupChecker::group_size);
  }

 private:
  template <class T>
  void run(std::size_t count, std::vector<std::string>& bad) {
    Collectives& c = group_.host();
    const int n = c.size(), me = c.rank();
    const std::string type(dtype_name(dtype_of_v<T>));
    auto expect = [&](const char* op, std::size_t i, double got, double want) {
      if (got != want && bad.size() < 20) {
        std::ostringstream os;
        os << type << " " << op << " element " << i << " on member " << me << ": got " << got << ", want " << want;
        bad.push_back(os.str());
      }
    };
    std::vector<T> mine(count);
    for (std::size_t i = 0; i < count; ++i) mine[i] = as<T>(input(me, i));

    for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min, ReduceOp::mean}) {
      const bool floating = std::is_same_v<T, float> || std::is_same_v<T, bfloat16>;
      if (op == ReduceOp::mean && !floating) {
        std::vector<T> v = mine;
        try {
          c.all_reduce(std::span<T>(v), op);
          bad.push_back(type + " mean was accepted");
        } catch (const std::invalid_argument&) {
        }
        continue;
      }
      std::vector<T> v = mine;
      c.all_reduce(std::span<T>(v), op);
      for (std::size_t i = 0; i < count; ++i) {
        double want = op == ReduceOp::max ? -1e30 : op == ReduceOp::min ? 1e30 : 0;
        for (int r = 0; r < n; ++r) {
          const double x = input(r, i);
          want = op == ReduceOp::max ? std::max(want, x) : op == ReduceOp::min ? std::min(want, x) : want + x;
        }
        if (op == ReduceOp::mean) want = value(as<T>(static_cast<float>(want) / static_cast<float>(n)));
        if (std::is_same_v<T, bfloat16> && op == ReduceOp::sum) continue;  // order-dependent rounding; checked below
        expect(std::string(reduce_op_name(op)).c_str(), i, value(v[i]), want);
      }
    }
    // A bf16 sum of small integers is exact whatever the order.
    if constexpr (std::is_same_v<T, bfloat16>) {
      std::vector<T> v(count, bfloat16::from_float(static_cast<float>(me + 1)));
      c.all_reduce(std::span<T>(v), ReduceOp::sum);
      for (std::size_t i = 0; i < count; ++i) expect("sum", i, value(v[i]), n * (n + 1) / 2.0);
    }

    std::vector<T> b(count);
    for (std::size_t i = 0; i < count; ++i) b[i] = as<T>(me == n - 1 ? input(n - 1, i) : 0.0f);
    c.broadcast(std::span<T>(b), n - 1);
    for (std::size_t i = 0; i < count; ++i) expect("broadcast", i, value(b[i]), input(n - 1, i));

    std::vector<T> all(count * static_cast<std::size_t>(n));
    c.all_gather(std::span<const T>(mine), std::span<T>(all));
    for (int r = 0; r < n; ++r) {
      for (std::size_t i = 0; i < count; ++i)
        expect("all_gather", i, value(all[static_cast<std::size_t>(r) * count + i]), input(r, i));
    }

    // reduce_scatter: every member sends n blocks of `count`; member me keeps block me summed.
    std::vector<T> send(count * static_cast<std::size_t>(n));
    for (std::size_t j = 0; j < send.size(); ++j) send[j] = as<T>(input(me, j));
    std::vector<T> part(count);
    if constexpr (!std::is_same_v<T, bfloat16>) {
      c.reduce_scatter(std::span<const T>(send), std::span<T>(part), ReduceOp::sum);
      for (std::size_t i = 0; i < count; ++i) {
        double want = 0;
        for (int r = 0; r < n; ++r) want += input(r, static_cast<std::size_t>(me) * count + i);
        expect("reduce_scatter", i, value(part[i]), want);
      }
    }
    try {
      std::vector<T> wrong(count * static_cast<std::size_t>(n) + 1);
      c.all_gather(std::span<const T>(mine), std::span<T>(wrong));
      bad.push_back(type + " all_gather accepted a wrong-sized buffer");
    } catch (const std::invalid_argument&) {
    }
  }

  Group& group_;
};

int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

}  // namespace

TEST(Collectives, MatchTheSerialReferenceOnEveryGroup) {
  const int n = world_size();
  std::vector<int> odd;
  for (int r = 1; r < n; r += 2) odd.push_back(r);
  if (odd.empty()) odd.push_back(0);
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add_all("everyone").add("odd", odd).add("pair", std::min(2, n)));
  auto everyone = cluster.spawn<GroupChecker>("everyone");
  auto odds = cluster.spawn<GroupChecker>("odd");
  auto pair = cluster.spawn<GroupChecker>("pair");
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  for (auto* members : {&everyone, &odds, &pair}) {
    EXPECT_EQ((*members)[0].call(&GroupChecker::group_size).get(), static_cast<int>(members->size()));
    for (std::uint64_t count : {std::uint64_t{1}, std::uint64_t{1000}, std::uint64_t{100003}}) {
      std::vector<Future<std::vector<std::string>>> f;
      for (auto& h : *members) f.push_back(h.call(&GroupChecker::check, count));
      for (const auto& problems : get_all(f, 120s)) {
        for (const auto& p : problems) ADD_FAILURE() << (*members)[0].role() << " × " << count << ": " << p;
      }
    }
  }
}
