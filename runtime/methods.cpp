#include "runtime/methods.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace newsrl::runtime {

std::string demangled_type_name(const std::type_info& t) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
  std::string s = status == 0 && name ? name.get() : t.name();
  // "newsrl::actors::Learner" reads as "Learner" in errors; templates keep their full name.
  if (s.find('<') == std::string::npos) {
    if (auto pos = s.rfind("::"); pos != std::string::npos) s = s.substr(pos + 2);
  }
  return s;
}

}  // namespace newsrl::runtime
