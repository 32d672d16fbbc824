// The ranks that host one role, with their own communicator: the learners'
// gradient all-reduce, a weight broadcast to the rollout workers, and so on.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "runtime/collectives.h"

namespace newsrl::runtime {

class Group {
 public:
  Group(std::string role, MPI_Comm comm);  // takes ownership of comm
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  const std::string& role() const { return role_; }
  int rank() const { return host_->rank(); }
  int size() const { return host_->size(); }
  MPI_Comm comm() const { return comm_; }

  // Collectives on host memory, over MPI.
  Collectives& host() { return *host_; }
  // Collectives on CUDA device memory, over NCCL; created on first use (a
  // collective call on every member). Throws when built without NCCL.
  Collectives& device();

 private:
  std::string role_;
  MPI_Comm comm_;
  std::unique_ptr<Collectives> host_;
  std::unique_ptr<Collectives> device_;
};

}  // namespace newsrl::runtime
