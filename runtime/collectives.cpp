#include "runtime/collectives.h"

#include <stdexcept>
#include <string>

namespace newsrl::runtime {

std::string_view reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::mean:
      return "mean";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "unknown";
}

void Collectives::check_sizes(std::size_t want, std::size_t got, const char* op) {
  if (want != got) {
    throw std::invalid_argument(std::string(op) + ": buffer holds " + std::to_string(got) + " elements, expected " +
                                std::to_string(want));
  }
}

}  // namespace newsrl::runtime
