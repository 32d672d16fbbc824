// The inputs and the serial reference shared by the collective tests (MPI
// and NCCL): member r's element i is a small integer, exact in bfloat16 and
// float32 alike, so sums and means have one right answer.
#pragma once

#include <cstddef>
#include <type_traits>

#include "runtime/dtype.h"

namespace newsrl::runtime::testing {

inline float input(int r, std::size_t i) {
  return static_cast<float>(static_cast<int>((i * 7 + static_cast<std::size_t>(r) * 13) % 61) - 30);
}

template <class T>
T as(float x) {
  if constexpr (std::is_same_v<T, bfloat16>)
    return bfloat16::from_float(x);
  else
    return static_cast<T>(x);
}

template <class T>
double value(T x) {
  if constexpr (std::is_same_v<T, bfloat16>)
    return x.to_float();
  else
    return static_cast<double>(x);
}

}  // namespace newsrl::runtime::testing
