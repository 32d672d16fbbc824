#include "launch/threads.h"

#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace newsrl::launch {

namespace {

// Ranks on this node, from the launcher's environment (1 when not launched).
int local_ranks() {
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    if (const char* v = std::getenv(var)) {
      const int n = std::atoi(v);
      if (n > 0) return n;
    }
  }
  return 1;
}

}  // namespace

int share_cores_among_local_ranks() {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return omp_get_max_threads();
  const int node_cores = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  cpu_set_t mask;
  int allowed = node_cores;
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) allowed = std::max(1, CPU_COUNT(&mask));
  // Bound by the launcher: its mask is our share. Otherwise divide the node.
  const int threads = allowed < node_cores ? allowed : std::max(1, node_cores / local_ranks());
  omp_set_num_threads(threads);
  return threads;
}

}  // namespace newsrl::launch
