// Sampling with a temperature, top-k and top-p (OpTable::sample_rows) on the
// CPU: the row's order by sorting, its probabilities as whole units of 2^-40.
// The CUDA kernel finds the same candidates by radix selection instead of a
// sort; with the units' sums exact, both draw the same token from the same u.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;
using Units = std::uint64_t;

// A float's place in the order as an unsigned integer: a larger float has a
// larger key, and -0 is +0 (they compare equal as floats).
std::uint32_t order_key(float x) {
  if (x == 0.0f) x = 0.0f;
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

void sample_rows(Tensor& ids, Tensor& logprobs, const Tensor& logits, const Tensor& uniforms, const SampleParams& p) {
  const I cols = logits.dim(-1), rows = logits.shape().rows();
  const float* x = logits.data<float>();
  const float* u = uniforms.data<float>();
  std::int32_t* id = ids.data<std::int32_t>();
  float* lp = logprobs.data<float>();
  const double t = p.temperature;
#pragma omp parallel for schedule(static) if (rows > 1 && rows * cols >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    const float max = *std::max_element(row, row + cols);
    std::vector<Units> w(static_cast<std::size_t>(cols));
    std::vector<std::uint32_t> key(static_cast<std::size_t>(cols));
    double sum = 0;
    for (I i = 0; i < cols; ++i) {
      const double e = std::exp((static_cast<double>(row[i]) - max) / t);
      sum += e;
      w[static_cast<std::size_t>(i)] = static_cast<Units>(e * kSampleUnitsPerOne);
      key[static_cast<std::size_t>(i)] = order_key(row[i]);
    }
    std::vector<std::int32_t> order(static_cast<std::size_t>(cols));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
      const std::uint32_t ka = key[static_cast<std::size_t>(a)], kb = key[static_cast<std::size_t>(b)];
      return ka > kb || (ka == kb && a < b);
    });
    auto weight = [&](I j) { return w[static_cast<std::size_t>(order[static_cast<std::size_t>(j)])]; };
    I keep = p.top_k > 0 ? std::min<I>(p.top_k, cols) : cols;
    if (p.top_p < 1.0f) {
      Units mass = 0;
      for (I j = 0; j < keep; ++j) mass += weight(j);
      const Units need = std::clamp<Units>(static_cast<Units>(std::ceil(static_cast<double>(p.top_p) * mass)), 1, mass);
      Units cum = 0;
      for (I j = 0; j < keep; ++j) {
        cum += weight(j);
        if (cum >= need) {
          keep = j + 1;
          break;
        }
      }
    }
    std::vector<char> kept(static_cast<std::size_t>(cols), 0);
    Units total = 0;
    for (I j = 0; j < keep; ++j) {
      kept[static_cast<std::size_t>(order[static_cast<std::size_t>(j)])] = 1;
      total += weight(j);
    }
    const double draw = std::max(static_cast<double>(u[r]), 0.0) * static_cast<double>(total);
    const Units target = std::min<Units>(static_cast<Units>(draw), total - 1);
    Units cum = 0;
    I chosen = order[0];
    for (I i = 0; i < cols; ++i) {
      if (kept[static_cast<std::size_t>(i)] == 0) continue;
      cum += w[static_cast<std::size_t>(i)];
      if (cum > target) {
        chosen = i;
        break;
      }
    }
    id[r] = static_cast<std::int32_t>(chosen);
    lp[r] = static_cast<float>((static_cast<double>(row[chosen]) - max) / t - std::log(sum));
  }
}

}  // namespace

void register_sample(OpTable& t) { t.sample_rows = sample_rows; }

}  // namespace newsrl::kernels::cpu
