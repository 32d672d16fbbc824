#include "runtime/mpi_collectives.h"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/mpi_error.h"

namespace newsrl::runtime {

namespace {

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::bf16:
      return MPI_UINT16_T;  // reduced by the bf16 operations below
    case DType::i32:
      return MPI_INT32_T;
    case DType::i64:
      return MPI_INT64_T;
    case DType::u8:
      return MPI_UINT8_T;
  }
  throw std::invalid_argument("unknown dtype");
}

// bfloat16 element-wise operations: widen to float, combine, round back.
template <class Combine>
void bf16_op(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const bfloat16*>(in);
  auto* b = static_cast<bfloat16*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = bfloat16::from_float(Combine{}(a[i].to_float(), b[i].to_float()));
}
struct Add {
  float operator()(float x, float y) const { return x + y; }
};
struct Max {
  float operator()(float x, float y) const { return std::max(x, y); }
};
struct Min {
  float operator()(float x, float y) const { return std::min(x, y); }
};

MPI_Op bf16_mpi_op(ReduceOp op) {
  // Created once per process, freed by MPI_Finalize.
  static MPI_Op ops[3] = {MPI_OP_NULL, MPI_OP_NULL, MPI_OP_NULL};
  const int i = op == ReduceOp::max ? 1 : op == ReduceOp::min ? 2 : 0;
  if (ops[i] == MPI_OP_NULL) {
    MPI_User_function* fns[3] = {bf16_op<Add>, bf16_op<Max>, bf16_op<Min>};
    check_mpi(MPI_Op_create(fns[i], 1, &ops[i]), "MPI_Op_create");
  }
  return ops[i];
}

MPI_Op mpi_op(ReduceOp op, DType t) {
  if (op == ReduceOp::mean && t != DType::f32 && t != DType::bf16) {
    throw std::invalid_argument("mean reduction needs float32 or bfloat16, got " + std::string(dtype_name(t)));
  }
  if (t == DType::bf16) return bf16_mpi_op(op);
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::mean:
      return MPI_SUM;
    case ReduceOp::max:
      return MPI_MAX;
    case ReduceOp::min:
      return MPI_MIN;
  }
  return MPI_SUM;
}

void divide(void* data, std::size_t count, DType t, int n) {
  if (t == DType::f32) {
    auto* p = static_cast<float*>(data);
    for (std::size_t i = 0; i < count; ++i) p[i] /= static_cast<float>(n);
  } else {
    auto* p = static_cast<bfloat16*>(data);
    for (std::size_t i = 0; i < count; ++i) p[i] = bfloat16::from_float(p[i].to_float() / static_cast<float>(n));
  }
}

int checked_int(std::size_t count, const char* op) {
  if (count > static_cast<std::size_t>(INT_MAX)) {
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(count) +
                                " elements per rank is more than MPI's int count allows; split the buffer");
  }
  return static_cast<int>(count);
}

// Large buffers are reduced or broadcast in pieces so counts fit an int.
constexpr std::size_t kChunk = std::size_t{1} << 30;

}  // namespace

MpiCollectives::MpiCollectives(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

void MpiCollectives::broadcast(void* data, std::size_t count, DType dtype, int root) {
  if (root < 0 || root >= size_)
    throw std::invalid_argument("broadcast: root " + std::to_string(root) + " is not in the group");
  auto* p = static_cast<char*>(data);
  const std::size_t es = dtype_size(dtype);
  for (std::size_t off = 0; off < count; off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, count - off));
    check_mpi(MPI_Bcast(p + off * es, n, mpi_type(dtype), root, comm_), "MPI_Bcast");
  }
}

void MpiCollectives::all_reduce(void* data, std::size_t count, DType dtype, ReduceOp op) {
  const MPI_Op mop = mpi_op(op, dtype);
  auto* p = static_cast<char*>(data);
  const std::size_t es = dtype_size(dtype);
  for (std::size_t off = 0; off < count; off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, count - off));
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, p + off * es, n, mpi_type(dtype), mop, comm_), "MPI_Allreduce");
  }
  if (op == ReduceOp::mean) divide(data, count, dtype, size_);
}

void MpiCollectives::all_gather(const void* send, void* recv, std::size_t count, DType dtype) {
  const int n = checked_int(count, "all_gather");
  check_mpi(MPI_Allgather(send, n, mpi_type(dtype), recv, n, mpi_type(dtype), comm_), "MPI_Allgather");
}

void MpiCollectives::reduce_scatter(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op) {
  const int n = checked_int(count, "reduce_scatter");
  check_mpi(MPI_Reduce_scatter_block(send, recv, n, mpi_type(dtype), mpi_op(op, dtype), comm_),
            "MPI_Reduce_scatter_block");
  if (op == ReduceOp::mean) divide(recv, count, dtype, size_);
}

void MpiCollectives::barrier() { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

}  // namespace newsrl::runtime
