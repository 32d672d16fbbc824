// The caller's side of a remote call: a Future is ready once the reply has
// arrived; get() returns the result or rethrows the remote exception with the
// rank, role and method in its message. wait_all/wait_any take an optional
// timeout whose error names every call still pending.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/call_state.h"
#include "runtime/errors.h"
#include "runtime/wire.h"

namespace newsrl::runtime {

using Clock = std::chrono::steady_clock;
using Timeout = std::optional<Clock::duration>;

namespace detail {
// Drives the cluster until at least `need` of `states` are ready; throws
// TimeoutError naming the pending calls when `timeout` passes first.
void await(std::vector<CallState*> states, std::size_t need, Timeout timeout);
void await_one(CallState* state, Timeout timeout);
[[noreturn]] void throw_remote_error(const CallState& s);
}  // namespace detail

class FutureBase {
 public:
  FutureBase() = default;
  explicit FutureBase(CallRef s) : state_(std::move(s)) {}
  bool valid() const { return static_cast<bool>(state_); }
  bool ready() const { return state_ && state_->ready; }
  int rank() const { return state_->rank; }
  const std::string& role() const { return *state_->role; }
  const std::string& method() const { return *state_->method; }
  CallState* state() const { return state_.get(); }

 protected:
  void wait(Timeout timeout) const {
    if (!state_) throw std::logic_error("get() on an empty future");
    if (!state_->ready) detail::await_one(state_.get(), timeout);
    if (state_->reply.header.kind == wire::Kind::reply_error) detail::throw_remote_error(*state_);
  }
  CallRef state_;
};

template <class R>
class Future : public FutureBase {
 public:
  using FutureBase::FutureBase;
  // The result; may be called again. Throws RemoteError or TimeoutError.
  R get(Timeout timeout = std::nullopt) const {
    wait(timeout);
    if constexpr (!std::is_void_v<R>) return std::get<0>(wire::read_body<R>(state_->reply));
  }
};

// Waits for every future; the timeout error names each call still pending.
template <class Range>
void wait_all(const Range& futures, Timeout timeout = std::nullopt) {
  std::vector<CallState*> states;
  for (const auto& f : futures) states.push_back(f.state());
  detail::await(states, states.size(), timeout);
}

// Waits until one future is ready; returns the index of the first ready one.
template <class Range>
std::size_t wait_any(const Range& futures, Timeout timeout = std::nullopt) {
  std::vector<CallState*> states;
  for (const auto& f : futures) states.push_back(f.state());
  if (states.empty()) throw std::logic_error("wait_any() of no futures");
  detail::await(states, 1, timeout);
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i]->ready) return i;
  }
  return 0;
}

// Every future's result, in order (like ray.get on a list).
template <class R>
std::vector<R> get_all(const std::vector<Future<R>>& futures, Timeout timeout = std::nullopt) {
  wait_all(futures, timeout);
  std::vector<R> out;
  out.reserve(futures.size());
  for (const auto& f : futures) out.push_back(f.get());
  return out;
}
inline void get_all(const std::vector<Future<void>>& futures, Timeout timeout = std::nullopt) {
  wait_all(futures, timeout);
  for (const auto& f : futures) f.get();
}

}  // namespace newsrl::runtime
