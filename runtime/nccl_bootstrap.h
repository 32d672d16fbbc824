// Builds a role group's NCCL communicator: the group's rank 0 makes the
// unique id and MPI carries it to the other members.
#pragma once

#include <mpi.h>

#include <memory>

#include "runtime/collectives.h"

namespace newsrl::runtime {

std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm comm);

}  // namespace newsrl::runtime
