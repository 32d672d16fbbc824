// The MPI start-up of the jobs that run on every rank of MPI_COMM_WORLD
// (`newsrl run`, `newsrl experiment`): one place for how MPI is started.
#pragma once

namespace newsrl::launch {

struct MpiRank {
  int rank = 0, size = 1;  // this process's rank in MPI_COMM_WORLD, and its size
};

// Initialises MPI (funneled threads) unless it already is, makes MPI errors
// on MPI_COMM_WORLD return codes instead of aborting, and returns the rank
// and size of MPI_COMM_WORLD.
MpiRank start_mpi();

}  // namespace newsrl::launch
