// The README's example, compiled and run by the tests so that it stays true.
#include <iostream>

#include "runtime/cluster.h"
using namespace newsrl;

struct Counter {  // an actor is a plain class
  int total = 0;
  int add(int k) { return total += k; }
  static void expose(runtime::Methods<Counter>& m) { m.def("add", &Counter::add); }
};

int main(int argc, char** argv) {
  runtime::Cluster cluster(argc, argv, runtime::PlacementSpec{}.add_all("counter"));
  auto counters = cluster.spawn<Counter>("counter");  // one Counter on every rank
  if (!cluster.is_driver()) return cluster.serve();   // the other ranks answer calls
  std::vector<runtime::Future<int>> sums;
  for (auto& c : counters) sums.push_back(c.call(&Counter::add, c.rank() + 1));
  for (int s : runtime::get_all(sums)) std::cout << s << " ";  // mpirun -np 3: 1 2 3
}
