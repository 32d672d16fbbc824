// newsrl's actor roles, in the order the runtime places them.
#pragma once

#include <string>
#include <vector>

namespace newsrl::actors {

inline const std::vector<std::string>& role_names() {
  static const std::vector<std::string> roles = {"rollout", "reward", "learner", "teacher"};
  return roles;
}

}  // namespace newsrl::actors
