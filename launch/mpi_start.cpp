// MPI start-up for the jobs that span MPI_COMM_WORLD (launch/mpi_start.h).
#include "launch/mpi_start.h"

#include <mpi.h>

namespace newsrl::launch {

MpiRank start_mpi() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MpiRank r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &r.size);
  return r;
}

}  // namespace newsrl::launch
