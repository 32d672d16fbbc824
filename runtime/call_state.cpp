#include "runtime/call_state.h"

#include <memory>
#include <vector>

namespace newsrl::runtime {

namespace {
struct FreeList {
  std::vector<CallState*> states;
  ~FreeList() {
    for (CallState* s : states) delete s;
  }
};
thread_local FreeList free_states;
constexpr std::size_t kMaxFree = 256;
}  // namespace

CallRef CallRef::make() {
  if (free_states.states.empty()) return CallRef(new CallState());
  CallState* s = free_states.states.back();
  free_states.states.pop_back();
  return CallRef(s);
}

void CallRef::release(CallState* p) {
  if (free_states.states.size() >= kMaxFree) {
    delete p;
    return;
  }
  *p = CallState{};
  free_states.states.push_back(p);
}

}  // namespace newsrl::runtime
