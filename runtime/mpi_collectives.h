// Collectives on host buffers over an MPI communicator. bfloat16 reductions
// use user-defined MPI operations (MPI has no bfloat16 type); mean is a sum
// divided by the group size.
#pragma once

#include <mpi.h>

#include "runtime/collectives.h"

namespace newsrl::runtime {

class MpiCollectives final : public Collectives {
 public:
  explicit MpiCollectives(MPI_Comm comm);  // does not take ownership
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string_view backend() const override { return "mpi"; }
  void broadcast(void* data, std::size_t count, DType dtype, int root) override;
  void all_reduce(void* data, std::size_t count, DType dtype, ReduceOp op) override;
  void all_gather(const void* send, void* recv, std::size_t count, DType dtype) override;
  void reduce_scatter(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op) override;
  void barrier() override;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace newsrl::runtime
