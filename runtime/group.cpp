#include "runtime/group.h"

#include <stdexcept>

#include "runtime/mpi_collectives.h"
#ifdef NEWSRL_HAVE_NCCL
#include "runtime/nccl_bootstrap.h"
#endif

namespace newsrl::runtime {

Group::Group(std::string role, MPI_Comm comm)
    : role_(std::move(role)), comm_(comm), host_(std::make_unique<MpiCollectives>(comm)) {}

Group::~Group() {
  device_.reset();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

Collectives& Group::device() {
#ifdef NEWSRL_HAVE_NCCL
  if (!device_) device_ = make_nccl_collectives(comm_);
  return *device_;
#else
  throw std::runtime_error("role group " + role_ +
                           ": device collectives need NCCL, and this newsrl was built without CUDA/NCCL");
#endif
}

}  // namespace newsrl::runtime
