// Element types of tensors, and bfloat16 as stored (the top half of a float32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace newsrl::kernels {

enum class DType : std::uint8_t { f32, bf16, i32 };

struct bf16 {
  std::uint16_t bits = 0;
  static bf16 from_float(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0) {
      return bf16{static_cast<std::uint16_t>((u >> 16) | 0x0040u)};  // keep NaN a NaN
    }
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
    return bf16{static_cast<std::uint16_t>(u >> 16)};
  }
  float to_float() const {
    const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

constexpr std::size_t dtype_size(DType t) { return t == DType::bf16 ? 2 : 4; }

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "float32";
    case DType::bf16:
      return "bfloat16";
    case DType::i32:
      return "int32";
  }
  return "unknown";
}

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct dtype_of<bf16> {
  static constexpr DType value = DType::bf16;
};
template <>
struct dtype_of<std::int32_t> {
  static constexpr DType value = DType::i32;
};

enum class Device : std::uint8_t { cpu, cuda };
constexpr std::string_view device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

}  // namespace newsrl::kernels
