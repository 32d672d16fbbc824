// Softmax, log-softmax and cross-entropy fused with the logits, over the last dimension.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/fast_exp.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;

// A NaN in the row is skipped here but still poisons the sum of exponentials that follows.
float row_max(const float* x, I n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (I i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Summed in double: a Qwen-sized row adds up 151936 terms.
double sum_exp(const float* x, I n, float shift) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (I i = 0; i < n; ++i) s += exp_approx(x[i] - shift);
  return s;
}

// Reads x[i] before writing y[i] at every step, so y may be x.
void softmax_row(float* y, const float* x, I n, bool log) {
  const float m = row_max(x, n);
  if (log) {
    // (x - m) - log_sum rather than x - lse: no rounding of a large lse before the subtraction.
    const float log_sum = static_cast<float>(std::log(sum_exp(x, n, m)));
#pragma omp simd
    for (I i = 0; i < n; ++i) y[i] = (x[i] - m) - log_sum;
    return;
  }
  // The exponentials go into y on the way, so that each is computed once.
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (I i = 0; i < n; ++i) {
    const float e = exp_approx(x[i] - m);
    y[i] = e;
    s += e;
  }
  const float inv = static_cast<float>(1.0 / s);
#pragma omp simd
  for (I i = 0; i < n; ++i) y[i] *= inv;
}

void softmax_forward(Tensor& out, const Tensor& x, bool log) {
  float* o = out.data<float>();
  const float* p = x.data<float>();
  const I cols = x.ndim() == 0 ? 1 : x.dim(-1), rows = x.shape().rows();
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelWork)
  for (I r = 0; r < rows; ++r) softmax_row(o + r * cols, p + r * cols, cols, log);
}

void softmax_backward(Tensor& dx, const Tensor& dout, const Tensor& out, bool log) {
  float* d = dx.data<float>();
  const float *g = dout.data<float>(), *y = out.data<float>();
  const I cols = out.ndim() == 0 ? 1 : out.dim(-1), rows = out.shape().rows();
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    float* dr = d + r * cols;
    const float *gr = g + r * cols, *yr = y + r * cols;
    double s = 0;
    if (log) {
      // d/dx of log-softmax: dout - softmax * sum(dout), with softmax = e^y.
#pragma omp simd reduction(+ : s)
      for (I i = 0; i < cols; ++i) s += gr[i];
      const float sf = static_cast<float>(s);
#pragma omp simd
      for (I i = 0; i < cols; ++i) dr[i] += gr[i] - exp_approx(yr[i]) * sf;
    } else {
#pragma omp simd reduction(+ : s)
      for (I i = 0; i < cols; ++i) s += static_cast<double>(gr[i]) * yr[i];
      const float sf = static_cast<float>(s);
#pragma omp simd
      for (I i = 0; i < cols; ++i) dr[i] += yr[i] * (gr[i] - sf);
    }
  }
}

// All targets are checked before anything is written, so a bad batch leaves the outputs as they were.
void check_targets(const char* op, const std::int32_t* t, I rows, I vocab) {
  for (I r = 0; r < rows; ++r) {
    if (t[r] != kIgnoreIndex && (t[r] < 0 || t[r] >= vocab)) {
      throw std::invalid_argument(std::string(op) + ": target " + std::to_string(t[r]) + " in row " +
                                  std::to_string(r) + " is outside the vocabulary [0, " + std::to_string(vocab) +
                                  ") and is not the ignore index " + std::to_string(kIgnoreIndex));
    }
  }
}

void cross_entropy_forward(Tensor& losses, Tensor& lse, const Tensor& logits, const Tensor& targets) {
  const I rows = logits.dim(0), vocab = logits.dim(1);
  const std::int32_t* t = targets.data<std::int32_t>();
  check_targets("cross_entropy_forward", t, rows, vocab);
  float *l = losses.data<float>(), *s = lse.data<float>();
  const float* x = logits.data<float>();
#pragma omp parallel for schedule(static) if (rows * vocab >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    const float* xr = x + r * vocab;
    const float m = row_max(xr, vocab);
    const double log_sum = std::log(sum_exp(xr, vocab, m));
    s[r] = static_cast<float>(m + log_sum);
    // From log_sum and x - m in double rather than from the rounded lse: large logits keep their precision.
    l[r] = t[r] == kIgnoreIndex ? 0.0f : static_cast<float>(log_sum - (static_cast<double>(xr[t[r]]) - m));
  }
}

void cross_entropy_backward(Tensor& dlogits, const Tensor& dlosses, const Tensor& logits, const Tensor& lse,
                            const Tensor& targets) {
  const I rows = logits.dim(0), vocab = logits.dim(1);
  const std::int32_t* t = targets.data<std::int32_t>();
  check_targets("cross_entropy_backward", t, rows, vocab);
  float* d = dlogits.data<float>();
  const float *g = dlosses.data<float>(), *x = logits.data<float>(), *s = lse.data<float>();
#pragma omp parallel for schedule(static) if (rows * vocab >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    if (t[r] == kIgnoreIndex) continue;
    float* dr = d + r * vocab;
    const float* xr = x + r * vocab;
    const float gr = g[r], lr = s[r];
    // The target's entry is redone after the loop as one rounding of g * (p - 1), not (d + g p) - g.
    const float d_target = dr[t[r]];
#pragma omp simd
    for (I v = 0; v < vocab; ++v) dr[v] += gr * exp_approx(xr[v] - lr);
    dr[t[r]] = d_target + gr * (exp_approx(xr[t[r]] - lr) - 1.0f);
  }
}

}  // namespace

// Greedy decoding's pick per row: the first maximum, and its log-probability
// with the log-sum-exp summed in double with std::exp (the host sampler's own
// arithmetic, so that greedy generation is the same through either).
void argmax_rows(Tensor& ids, Tensor& logprobs, const Tensor& logits) {
  const I cols = logits.dim(-1), rows = logits.shape().rows();
  const float* x = logits.data<float>();
  std::int32_t* id = ids.data<std::int32_t>();
  float* lp = logprobs.data<float>();
#pragma omp parallel for schedule(static) if (rows > 1 && rows * cols >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    const I best = std::max_element(row, row + cols) - row;
    const double mx = row[best];
    double sum = 0;
    for (I i = 0; i < cols; ++i) sum += std::exp(static_cast<double>(row[i]) - mx);
    id[r] = static_cast<std::int32_t>(best);
    lp[r] = static_cast<float>(static_cast<double>(row[best]) - (mx + std::log(sum)));
  }
}

void register_softmax(OpTable& t) {
  t.softmax_forward = softmax_forward;
  t.softmax_backward = softmax_backward;
  t.cross_entropy_forward = cross_entropy_forward;
  t.cross_entropy_backward = cross_entropy_backward;
  t.argmax_rows = argmax_rows;
}

}  // namespace newsrl::kernels::cpu
