// Actor calls and bulk transfers measured side by side with raw MPI, in the
// same run and interleaved block by block, so that both see the same machine.
//   mpirun -np 2 build/bin/runtime_bench [--json]
// "call" cases are round trips (the payload goes out and comes back through
// the Boost archive; 0 bytes is an empty call); "bulk" cases are one-way
// transfers of a Bulk buffer answered by 8 bytes. The raw MPI side does the
// same exchange with MPI_Send/MPI_Recv on its own communicator.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "runtime/cluster.h"

using namespace newsrl;
using Clock = std::chrono::steady_clock;

namespace {

class Echo {
 public:
  explicit Echo(MPI_Comm raw) : raw_(raw) {}
  void nop() {}
  std::vector<std::uint8_t> echo(const std::vector<std::uint8_t>& v) { return v; }
  std::uint64_t sink(const runtime::Bulk& b) { return b.bytes(); }
  // The worker's half of `reps` raw MPI exchanges with rank 0.
  void raw_peer(std::uint64_t bytes, std::uint64_t reply, int reps) {
    buffer_.resize(std::max<std::size_t>(1, std::max(bytes, reply)));
    for (int i = 0; i < reps + 1; ++i) {  // +1: the driver's untimed first exchange
      MPI_Recv(buffer_.data(), static_cast<int>(bytes), MPI_BYTE, 0, 0, raw_, MPI_STATUS_IGNORE);
      MPI_Send(buffer_.data(), static_cast<int>(reply), MPI_BYTE, 0, 0, raw_);
    }
  }
  static void expose(runtime::Methods<Echo>& m) {
    m.def("nop", &Echo::nop).def("echo", &Echo::echo).def("sink", &Echo::sink).def("raw_peer", &Echo::raw_peer);
  }

 private:
  MPI_Comm raw_;
  std::vector<char> buffer_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Case {
  const char* kind;
  std::size_t bytes;
  int reps;  // per block
};

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  for (int i = 1; i < argc; ++i) json = json || std::string(argv[i]) == "--json";
  runtime::Cluster cluster(argc, argv, runtime::PlacementSpec{}.add("echo", std::vector<int>{1}));
  if (cluster.size() != 2)
    runtime::fail_job("runtime_bench needs exactly 2 ranks: mpirun -np 2 build/bin/runtime_bench");
  MPI_Comm raw;
  MPI_Comm_dup(MPI_COMM_WORLD, &raw);
  auto echo = cluster.spawn<Echo>("echo", raw);
  if (!cluster.is_driver()) {
    const int rc = cluster.serve();
    MPI_Comm_free(&raw);
    return rc;
  }
  const Case cases[] = {
      {"call", 0, 5000}, {"call", 1024, 3000}, {"call", 65536, 500}, {"bulk", 1 << 20, 100}, {"bulk", 64 << 20, 5}};
  constexpr int kBlocks = 9;
  std::vector<char> payload(64 << 20, 7), back(64 << 20);

  for (const Case& c : cases) {
    const bool bulk = std::string(c.kind) == "bulk";
    const std::size_t reply = bulk ? 8 : c.bytes;
    std::vector<std::uint8_t> vec(payload.begin(), payload.begin() + static_cast<long>(c.bytes));
    const runtime::Bulk buf = runtime::Bulk::borrow(runtime::DType::u8, payload.data(), c.bytes);
    auto actor_once = [&] {
      if (bulk)
        echo[0].call(&Echo::sink, buf).get();
      else if (c.bytes == 0)
        echo[0].call(&Echo::nop).get();
      else
        echo[0].call(&Echo::echo, vec).get();
    };
    auto mpi_once = [&] {
      MPI_Send(payload.data(), static_cast<int>(c.bytes), MPI_BYTE, 1, 0, raw);
      MPI_Recv(back.data(), static_cast<int>(reply), MPI_BYTE, 1, 0, raw, MPI_STATUS_IGNORE);
    };
    for (int i = 0; i < std::max(1, c.reps / 4); ++i) actor_once();  // warm-up
    std::vector<double> actor_s, mpi_s;
    for (int b = 0; b < kBlocks; ++b) {
      auto t0 = Clock::now();
      for (int i = 0; i < c.reps; ++i) actor_once();
      actor_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / c.reps);

      auto peer = echo[0].call(&Echo::raw_peer, std::uint64_t{c.bytes}, std::uint64_t{reply}, c.reps);
      mpi_once();  // untimed: the worker has entered raw_peer
      t0 = Clock::now();
      for (int i = 0; i < c.reps; ++i) mpi_once();
      mpi_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / c.reps);
      peer.get();
    }
    const double a = median(actor_s), m = median(mpi_s);
    char line[256];
    if (!bulk) {
      const char* f = json ? "{\"case\":\"call\",\"bytes\":%zu,\"actor_us\":%.3f,\"mpi_us\":%.3f,\"ratio\":%.3f}"
                           : "call  %9zu B  actor %9.3f us    mpi %9.3f us    ratio %.2f";
      std::snprintf(line, sizeof line, f, c.bytes, a * 1e6, m * 1e6, a / m);
    } else {
      const double ag = static_cast<double>(c.bytes) / a / 1e9, mg = static_cast<double>(c.bytes) / m / 1e9;
      const char* f = json ? "{\"case\":\"bulk\",\"bytes\":%zu,\"actor_gbps\":%.3f,\"mpi_gbps\":%.3f,\"ratio\":%.3f}"
                           : "bulk  %9zu B  actor %9.3f GB/s  mpi %9.3f GB/s  ratio %.2f";
      std::snprintf(line, sizeof line, f, c.bytes, ag, mg, ag / mg);
    }
    std::cout << line << std::endl;
  }
  cluster.shutdown();
  MPI_Comm_free(&raw);
  return 0;
}
