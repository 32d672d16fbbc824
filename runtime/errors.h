// The runtime's error types. Each message is one line a user can act on.
#pragma once

#include <stdexcept>
#include <string>

namespace newsrl::runtime {

// A config or placement mistake; what() holds one line per mistake.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An exception thrown inside a remote method, rethrown at the caller's get().
// what() reads "rank 2 (learner) Learner.step: <the remote message>".
struct RemoteError : std::runtime_error {
  RemoteError(int rank_, std::string role_, std::string method_, const std::string& message_)
      : std::runtime_error("rank " + std::to_string(rank_) + " (" + role_ + ") " + method_ + ": " + message_),
        rank(rank_),
        role(std::move(role_)),
        method(std::move(method_)),
        message(message_) {}
  int rank;
  std::string role;
  std::string method;
  std::string message;  // the remote exception's own what()
};

// get()/wait_all()/wait_any() ran out of time; names what is still pending.
struct TimeoutError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace newsrl::runtime
