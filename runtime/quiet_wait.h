// Ranks with nothing to do while the driver works alone (a single-process
// stage of a pipeline) wait for it without spinning: Open MPI's blocking
// collectives poll at full speed, which on a small machine takes the cores
// the driver's own threads need.
#pragma once

#include <mpi.h>

namespace newsrl::runtime {

// Collective over `comm`: every rank returns `root`'s `status`. Ranks other
// than root sleep between polls (about 20 ms), so waiting costs no CPU.
int quiet_broadcast(MPI_Comm comm, int root, int status);

}  // namespace newsrl::runtime
