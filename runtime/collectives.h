// Collective operations over a role group, on host buffers (MPI) or device
// buffers (NCCL, when built with CUDA) behind one interface. Every call is
// blocking: the result is in place when it returns. Every member of the group
// must make the same calls in the same order.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "runtime/dtype.h"

namespace newsrl::runtime {

enum class ReduceOp { sum, mean, max, min };
std::string_view reduce_op_name(ReduceOp op);

class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string_view backend() const = 0;  // "mpi" or "nccl"

  // `count` elements from `root` to every member, in place.
  virtual void broadcast(void* data, std::size_t count, DType dtype, int root) = 0;
  // Element-wise reduction across members, in place. mean needs float32 or bfloat16.
  virtual void all_reduce(void* data, std::size_t count, DType dtype, ReduceOp op) = 0;
  // Each member's `count` elements, concatenated in rank order into recv (size() × count).
  virtual void all_gather(const void* send, void* recv, std::size_t count, DType dtype) = 0;
  // Reduces send (size() × count) across members; member r keeps block r in recv (count).
  virtual void reduce_scatter(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op) = 0;
  // Waits for every member.
  virtual void barrier() = 0;

  template <class T>
  void broadcast(std::span<T> data, int root) {
    broadcast(data.data(), data.size(), dtype_of_v<std::remove_const_t<T>>, root);
  }
  template <class T>
  void all_reduce(std::span<T> data, ReduceOp op) {
    all_reduce(data.data(), data.size(), dtype_of_v<T>, op);
  }
  template <class T>
  void all_gather(std::span<const T> send, std::span<T> recv) {
    check_sizes(send.size() * static_cast<std::size_t>(size()), recv.size(), "all_gather");
    all_gather(send.data(), recv.data(), send.size(), dtype_of_v<T>);
  }
  template <class T>
  void reduce_scatter(std::span<const T> send, std::span<T> recv, ReduceOp op) {
    check_sizes(recv.size() * static_cast<std::size_t>(size()), send.size(), "reduce_scatter");
    reduce_scatter(send.data(), recv.data(), recv.size(), dtype_of_v<T>, op);
  }

 protected:
  static void check_sizes(std::size_t want, std::size_t got, const char* op);
};

}  // namespace newsrl::runtime
