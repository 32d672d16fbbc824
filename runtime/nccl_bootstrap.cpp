#include "runtime/nccl_bootstrap.h"

#include "runtime/nccl_collectives.h"

namespace newsrl::runtime {

std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  std::vector<char> id = rank == 0 ? NcclCollectives::new_unique_id() : std::vector<char>();
  int bytes = static_cast<int>(id.size());
  MPI_Bcast(&bytes, 1, MPI_INT, 0, comm);
  id.resize(static_cast<std::size_t>(bytes));
  MPI_Bcast(id.data(), bytes, MPI_BYTE, 0, comm);
  return std::make_unique<NcclCollectives>(id, rank, size);
}

}  // namespace newsrl::runtime
