// A vectorisable e^x for the CPU kernels (softmax, cross-entropy, attention, SiLU).
#pragma once

#include <bit>
#include <cstdint>

namespace newsrl::kernels::cpu {

// e^x without a libm call, so that the loops over a row vectorise (glibc's vector exp needs -ffast-math).
// Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2, a polynomial for e^r and the exponent bits for 2^n;
// within 1 ulp of e^x on [-87.33, 88.37]. Below that range e^x is flushed to 0 (so e^-inf = 0), above it
// is inf, and NaN stays NaN. Every argument here is at most about 0 (x - max, x - lse, a log-probability).
inline float exp_approx(float x) {
  constexpr float kMin = -87.33f;  // ~ ln 2^-126, the smallest normal float
  constexpr float kMax = 88.37f;   // n <= 127
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // n * kLn2Hi is exact
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer, left in the low bits
  const float t = x * kLog2e + kRound;
  const float n = t - kRound;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // Unsigned: out of range, the exponent is garbage (masked off below) but no undefined behaviour.
  const std::uint32_t two_n = (std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(kRound) + 127u) << 23;
  const std::uint32_t e = std::bit_cast<std::uint32_t>(p * std::bit_cast<float>(two_n));
  // The range is handled with bit masks, not by clamping x or selecting floats: under -ftrapping-math either
  // becomes a branch, and the loop would not vectorise.
  const std::uint32_t keep = x < kMin ? 0u : ~0u;
  const std::uint32_t big = x > kMax ? ~0u : 0u;
  return std::bit_cast<float>((e & keep & ~big) | (0x7f800000u & big));
}

}  // namespace newsrl::kernels::cpu
