// How many OpenMP threads each rank runs. Several ranks on one node that each
// start one thread per core fight for the cores, and OpenMP's spinning
// threads then run many times slower (measured: 10x for generation with 2
// ranks' worth of threads on 2 cores). Unless OMP_NUM_THREADS says
// otherwise, each rank takes its share: the cores its affinity mask allows
// when mpirun or srun bound it, else the node's cores divided by the ranks
// on the node.
#pragma once

namespace newsrl::launch {

// Sets OpenMP's (and so OpenBLAS's) thread count as above; returns it.
int share_cores_among_local_ranks();

}  // namespace newsrl::launch
