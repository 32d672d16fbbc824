#include "runtime/nccl_collectives.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace newsrl::runtime {

namespace {

void check_nccl(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess) throw std::runtime_error(std::string(what) + ": " + ncclGetErrorString(rc));
}
void check_cuda(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(rc));
}

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::f32:
      return ncclFloat32;
    case DType::bf16:
      return ncclBfloat16;
    case DType::i32:
      return ncclInt32;
    case DType::i64:
      return ncclInt64;
    case DType::u8:
      return ncclUint8;
  }
  throw std::invalid_argument("unknown dtype");
}

ncclRedOp_t nccl_op(ReduceOp op, DType t) {
  switch (op) {
    case ReduceOp::sum:
      return ncclSum;
    case ReduceOp::mean:
      if (t != DType::f32 && t != DType::bf16) {
        throw std::invalid_argument("mean reduction needs float32 or bfloat16, got " + std::string(dtype_name(t)));
      }
      return ncclAvg;
    case ReduceOp::max:
      return ncclMax;
    case ReduceOp::min:
      return ncclMin;
  }
  return ncclSum;
}

}  // namespace

std::vector<char> NcclCollectives::new_unique_id() {
  ncclUniqueId id;
  check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  std::vector<char> bytes(sizeof id);
  std::memcpy(bytes.data(), &id, sizeof id);
  return bytes;
}

NcclCollectives::NcclCollectives(const std::vector<char>& unique_id, int rank, int size) : rank_(rank), size_(size) {
  ncclUniqueId id;
  if (unique_id.size() != sizeof id) throw std::invalid_argument("NCCL unique id has the wrong size");
  std::memcpy(&id, unique_id.data(), sizeof id);
  // A blocking stream: each collective is ordered after the work already on the
  // legacy default stream (cudaMemcpy of its inputs, say). A non-blocking one
  // raced a host-to-device copy still in flight (seen on an H200).
  cudaStream_t s = nullptr;
  check_cuda(cudaStreamCreate(&s), "cudaStreamCreate");
  stream_ = s;
  ncclComm_t c = nullptr;
  check_nccl(ncclCommInitRank(&c, size, id, rank), "ncclCommInitRank");
  comm_ = c;
}

NcclCollectives::~NcclCollectives() {
  if (comm_ != nullptr) ncclCommDestroy(comm_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void NcclCollectives::sync() { check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

void NcclCollectives::broadcast(void* data, std::size_t count, DType dtype, int root) {
  check_nccl(ncclBroadcast(data, data, count, nccl_type(dtype), root, comm_, stream_), "ncclBroadcast");
  sync();
}

void NcclCollectives::all_reduce(void* data, std::size_t count, DType dtype, ReduceOp op) {
  check_nccl(ncclAllReduce(data, data, count, nccl_type(dtype), nccl_op(op, dtype), comm_, stream_), "ncclAllReduce");
  sync();
}

void NcclCollectives::all_gather(const void* send, void* recv, std::size_t count, DType dtype) {
  check_nccl(ncclAllGather(send, recv, count, nccl_type(dtype), comm_, stream_), "ncclAllGather");
  sync();
}

void NcclCollectives::reduce_scatter(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op) {
  check_nccl(ncclReduceScatter(send, recv, count, nccl_type(dtype), nccl_op(op, dtype), comm_, stream_),
             "ncclReduceScatter");
  sync();
}

void NcclCollectives::barrier() {
  // A one-element all-reduce is NCCL's barrier.
  void* p = nullptr;
  check_cuda(cudaMallocAsync(&p, sizeof(float), stream_), "cudaMallocAsync");
  check_cuda(cudaMemsetAsync(p, 0, sizeof(float), stream_), "cudaMemsetAsync");
  check_nccl(ncclAllReduce(p, p, 1, ncclFloat32, ncclSum, comm_, stream_), "ncclAllReduce");
  check_cuda(cudaFreeAsync(p, stream_), "cudaFreeAsync");
  sync();
}

}  // namespace newsrl::runtime
