// Actor calls under mpirun -np 2/4/8: results, state, futures, timeouts,
// remote exceptions, several actors per rank, and the driver's own actors.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <thread>

#include "runtime/cluster.h"

using namespace newsrl::runtime;
using namespace std::chrono_literals;

namespace {

class Counter {
 public:
  explicit Counter(ActorContext& ctx, int start) : rank_(ctx.rank), value_(start) {}
  int add(int k) { return value_ += k; }
  int value() const { return value_; }
  int where() const { return rank_; }
  std::string greet(const std::string& who, int times) const {
    std::string s;
    for (int i = 0; i < times; ++i) s += "hi " + who + ";";
    return s;
  }
  void fail(const std::string& why) { throw std::invalid_argument(why); }
  void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
  static void expose(Methods<Counter>& m) {
    m.def("add", &Counter::add)
        .def("value", &Counter::value)
        .def("where", &Counter::where)
        .def("greet", &Counter::greet)
        .def("fail", &Counter::fail)
        .def("sleep_ms", &Counter::sleep_ms);
  }

 private:
  int rank_;
  int value_;
};

// A second actor type, placed on the same ranks as Counter.
class Tagger {
 public:
  explicit Tagger(std::string tag) : tag_(std::move(tag)) {}
  std::string tag(int rank) const { return tag_ + std::to_string(rank); }
  static void expose(Methods<Tagger>& m) { m.def("tag", &Tagger::tag); }

 private:
  std::string tag_;
};

int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

}  // namespace

TEST(Calls, EveryActorAnswersAndKeepsItsState) {
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add_all("worker"));
  auto counters = cluster.spawn<Counter>("worker", 100);
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  ASSERT_EQ(static_cast<int>(counters.size()), world_size());
  for (std::size_t i = 0; i < counters.size(); ++i) {
    EXPECT_EQ(counters[i].rank(), static_cast<int>(i));
    EXPECT_EQ(counters[i].role(), "worker");
    EXPECT_EQ(counters[i].call(&Counter::where).get(), static_cast<int>(i));
  }
  std::vector<Future<int>> adds;
  for (auto& c : counters) adds.push_back(c.call(&Counter::add, c.rank() + 1));
  const std::vector<int> sums = get_all(adds);
  for (std::size_t i = 0; i < sums.size(); ++i) EXPECT_EQ(sums[i], 100 + static_cast<int>(i) + 1);
  // State persists between calls.
  EXPECT_EQ(counters.back().call(&Counter::add, 5).get(), 100 + world_size() + 5);
  EXPECT_EQ(counters.back().call(&Counter::value).get(), 100 + world_size() + 5);
  // Arguments convert to the method's parameter types (const char* → std::string).
  EXPECT_EQ(counters[0].call(&Counter::greet, "ana", 2).get(), "hi ana;hi ana;");
}

TEST(Calls, SeveralActorsShareARank) {
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("a", 1).add("b", 1).add("c", 1));
  auto a = cluster.spawn<Counter>("a", 1);
  auto b = cluster.spawn<Counter>("b", 2);
  auto c = cluster.spawn<Tagger>("c", "t");
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  // With 2 ranks two of the roles share one; with 1 rank all three share the driver's.
  EXPECT_EQ(a[0].call(&Counter::add, 10).get(), 11);
  EXPECT_EQ(b[0].call(&Counter::add, 10).get(), 12);
  EXPECT_EQ(c[0].call(&Tagger::tag, 5).get(), "t5");
  EXPECT_EQ(cluster.placement().ranks_of("a"), std::vector<int>{0});  // the driver hosts actors too
}

TEST(Calls, WaitAnyReturnsTheFirstReady) {
  if (world_size() < 2) GTEST_SKIP() << "needs a second rank";
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("slow", std::vector<int>{1}).add("fast", std::vector<int>{0}));
  auto slow = cluster.spawn<Counter>("slow", 0);
  auto fast = cluster.spawn<Counter>("fast", 0);
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  std::vector<Future<void>> f;
  f.push_back(slow[0].call(&Counter::sleep_ms, 400));
  f.push_back(fast[0].call(&Counter::sleep_ms, 0));
  EXPECT_EQ(wait_any(f, 10s), 1u);
  EXPECT_FALSE(f[0].ready());
  wait_all(f, 10s);
  EXPECT_TRUE(f[0].ready());
}

TEST(Calls, TimeoutNamesRankRoleAndMethod) {
  const int last = world_size() - 1;
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("sleeper", std::vector<int>{last}));
  auto s = cluster.spawn<Counter>("sleeper", 0);
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  if (last == 0) GTEST_SKIP() << "the driver's own actor runs inside get(): nothing to time out";
  auto f = s[0].call(&Counter::sleep_ms, 500);
  try {
    f.get(50ms);
    FAIL() << "no timeout";
  } catch (const TimeoutError& e) {
    EXPECT_EQ(std::string(e.what()),
              "timed out after 50 ms waiting for rank " + std::to_string(last) + " (sleeper) Counter.sleep_ms");
  }
  std::vector<Future<void>> both{f, s[0].call(&Counter::sleep_ms, 0)};
  EXPECT_THROW(wait_all(both, 10ms), TimeoutError);
  EXPECT_NO_THROW(f.get(10s));  // the call itself goes on and completes
}

TEST(Calls, RemoteExceptionComesBackToGet) {
  const int last = world_size() - 1;
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("learner", std::vector<int>{last}));
  auto l = cluster.spawn<Counter>("learner", 0);
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  auto f = l[0].call(&Counter::fail, "loss is NaN at step 17");
  try {
    f.get();
    FAIL() << "no exception";
  } catch (const RemoteError& e) {
    EXPECT_EQ(std::string(e.what()),
              "rank " + std::to_string(last) + " (learner) Counter.fail: loss is NaN at step 17");
    EXPECT_EQ(e.rank, last);
    EXPECT_EQ(e.role, "learner");
    EXPECT_EQ(e.method, "Counter.fail");
    EXPECT_EQ(e.message, "loss is NaN at step 17");
  }
  EXPECT_THROW(f.get(), RemoteError);  // and again on a second get()
  // The actor survives its exception.
  EXPECT_EQ(l[0].call(&Counter::add, 3).get(), 3);
}

TEST(Calls, LargeArgumentsTravelApartFromTheInbox) {
  const int last = world_size() - 1;
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("w", std::vector<int>{last}));
  auto w = cluster.spawn<Counter>("w", 0);
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  // 3 MB of archive: more than the inbox holds, so the body goes as its own message.
  const std::string big(1 << 20, 'x');
  const std::string got = w[0].call(&Counter::greet, big, 3).get();
  EXPECT_EQ(got.size(), 3 * (big.size() + 4));
  EXPECT_EQ(got.substr(0, 5), "hi xx");
}

TEST(Calls, ManyCallsInFlight) {
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add_all("worker"));
  auto counters = cluster.spawn<Counter>("worker", 0);
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  std::vector<Future<int>> f;
  for (int i = 0; i < 2000; ++i)
    f.push_back(counters[static_cast<std::size_t>(i) % counters.size()].call(&Counter::add, 1));
  wait_all(f, 60s);
  // Each actor ran its calls in the order they were made.
  for (std::size_t i = 0; i < f.size(); ++i) EXPECT_EQ(f[i].get(), static_cast<int>(i / counters.size()) + 1);
}

TEST(Calls, TheDriverCallsItsOwnActorWithMidSizeFramesWithoutWaiting) {
  // Frames of 1-2 KiB to the driver's own actor, many before any answer is
  // awaited: sent to itself through MPI they deadlocked once both inboxes were
  // full (a blocking send to oneself waits for a posted receive). They loop back.
  Cluster cluster(MPI_COMM_WORLD, PlacementSpec{}.add("mine", std::vector<int>{0}));
  auto mine = cluster.spawn<Counter>("mine", 0);
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  const std::string who(1500, 'x');
  std::vector<Future<std::string>> f;
  for (int i = 0; i < 50; ++i) f.push_back(mine[0].call(&Counter::greet, who, 1));
  wait_all(f, 60s);
  for (auto& r : f) EXPECT_EQ(r.get().size(), who.size() + 4);
}
