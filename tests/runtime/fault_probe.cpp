// A small job that fails on purpose, for lifetime_test.sh: each mode ends in
// a known way, and the job must end with the right exit status and message,
// within seconds, never hanging.
//   mpirun -np 4 build/bin/runtime_fault_probe MODE
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "runtime/cluster.h"

using namespace newsrl::runtime;

namespace {

class Victim {
 public:
  int ping() { return 1; }
  void explode() { throw std::runtime_error("boom at step 3"); }
  void die(int how) {
    if (how == 0) std::raise(SIGKILL);
    if (how == 1) std::raise(SIGSEGV);
    std::exit(3);
  }
  static void expose(Methods<Victim>& m) {
    m.def("ping", &Victim::ping).def("explode", &Victim::explode).def("die", &Victim::die);
  }
};

int run(int argc, char** argv, const std::string& mode) {
  Cluster cluster(argc, argv, PlacementSpec{}.add_all("victim"));
  auto victims = cluster.spawn<Victim>("victim");
  if (mode == "forgot-serve") {
    // Workers fall through without serve(): their Cluster serves as it ends.
    if (cluster.is_driver()) {
      for (auto& v : victims) v.call(&Victim::ping).get();
    }
    return 0;
  }
  if (!cluster.is_driver()) return cluster.serve();
  for (auto& v : victims) v.call(&Victim::ping).get();
  auto& last = victims.back();
  if (mode == "ok") return 0;
  if (mode == "remote-error" || mode == "uncaught") last.call(&Victim::explode).get();
  if (mode == "kill") last.call(&Victim::die, 0).get();
  if (mode == "segv") last.call(&Victim::die, 1).get();
  if (mode == "exit") last.call(&Victim::die, 2).get();
  std::cerr << "runtime_fault_probe: the driver went on after the failure\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "ok";
  if (mode == "uncaught") return run(argc, argv, mode);  // std::terminate reports it
  try {
    return run(argc, argv, mode);
  } catch (const std::exception& e) {
    fail_job(e.what());
  }
}
