#include "runtime/quiet_wait.h"

#include <chrono>
#include <thread>

#include "runtime/mpi_error.h"

namespace newsrl::runtime {

int quiet_broadcast(MPI_Comm comm, int root, int status) {
  int value = status;
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Ibcast(&value, 1, MPI_INT, root, comm, &request), "MPI_Ibcast");
  int done = 0;
  while (true) {
    check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return value;
}

}  // namespace newsrl::runtime
