// Collectives on CUDA device buffers over NCCL. This file needs only CUDA and
// NCCL (no MPI), so it also builds and runs on GPU machines without MPI; the
// communicator's unique id is shared by the caller (see nccl_bootstrap.h).
#pragma once

#include <memory>
#include <vector>

#include "runtime/collectives.h"

struct ncclComm;
struct CUstream_st;

namespace newsrl::runtime {

class NcclCollectives final : public Collectives {
 public:
  // The bytes of a fresh ncclUniqueId, made by one member and given to all.
  static std::vector<char> new_unique_id();
  // Joins the communicator on this process's current CUDA device.
  NcclCollectives(const std::vector<char>& unique_id, int rank, int size);
  ~NcclCollectives() override;
  NcclCollectives(const NcclCollectives&) = delete;
  NcclCollectives& operator=(const NcclCollectives&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string_view backend() const override { return "nccl"; }
  // Device pointers; each call runs on this communicator's stream, after the work
  // on the legacy default stream, and waits for it. Inputs written on other
  // streams must be synchronised by the caller first.
  void broadcast(void* data, std::size_t count, DType dtype, int root) override;
  void all_reduce(void* data, std::size_t count, DType dtype, ReduceOp op) override;
  void all_gather(const void* send, void* recv, std::size_t count, DType dtype) override;
  void reduce_scatter(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op) override;
  void barrier() override;

 private:
  void sync();
  ncclComm* comm_ = nullptr;
  CUstream_st* stream_ = nullptr;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace newsrl::runtime
