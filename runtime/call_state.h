// What the caller knows of one remote call, shared by its futures and the
// cluster's list of calls in flight until the reply arrives.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "runtime/wire.h"

namespace newsrl::runtime {

class Cluster;

struct CallState {
  std::uint64_t id = 0;
  int rank = -1;
  const std::string* role = nullptr;    // owned by the cluster's placement
  const std::string* method = nullptr;  // "Type.method", owned by the type's method table
  bool ready = false;
  wire::Message reply;
  Cluster* cluster = nullptr;
  int refs = 0;
};

// A counted reference to a CallState. The count is a plain int, not atomic:
// calls and their futures belong to the driver's thread (MPI runs
// MPI_THREAD_FUNNELED), and on the path of an empty call shared_ptr's atomic
// counts and its allocation cost a tenth of the round trip. Released states
// wait in a per-thread free list for the next call.
class CallRef {
 public:
  CallRef() = default;
  static CallRef make();
  CallRef(const CallRef& o) : p_(o.p_) {
    if (p_) ++p_->refs;
  }
  CallRef(CallRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  CallRef& operator=(CallRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~CallRef() {
    if (p_ && --p_->refs == 0) release(p_);
  }
  CallState* get() const { return p_; }
  CallState* operator->() const { return p_; }
  CallState& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  explicit CallRef(CallState* p) : p_(p) { ++p_->refs; }
  static void release(CallState* p);
  CallState* p_ = nullptr;
};

}  // namespace newsrl::runtime
