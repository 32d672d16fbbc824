// Normalisation kernels over the last dim: RMSNorm (Qwen2 / Hugging Face form) and LayerNorm.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;

// Parameter gradients sum over rows. To keep the bits independent of the thread
// count, each thread owns whole blocks of columns and walks every row in order;
// a block is wide enough to read rows in contiguous runs.
constexpr I kColumnBlock = 256;

// grad[j] += the sum over rows r, in row order and in double, of term(r, j).
template <class Term>
void add_column_sums(float* grad, I rows, I cols, Term term) {
  const I blocks = (cols + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelWork)
  for (I blk = 0; blk < blocks; ++blk) {
    const I c0 = blk * kColumnBlock, c1 = std::min(cols, c0 + kColumnBlock);
    double acc[kColumnBlock] = {};
    for (I r = 0; r < rows; ++r) {
      for (I j = c0; j < c1; ++j) acc[j - c0] += term(r, j);
    }
    for (I j = c0; j < c1; ++j) grad[j] += static_cast<float>(acc[j - c0]);
  }
}

void rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& x, const Tensor& w, float eps) {
  float *o = out.data<float>(), *rs = rstd.data<float>();
  const float *px = x.data<float>(), *pw = w.data<float>();
  const I cols = x.dim(-1), rows = x.shape().rows();
  const double inv_n = cols > 0 ? 1.0 / static_cast<double>(cols) : 0.0;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    const float* xr = px + r * cols;
    float* orow = o + r * cols;
    double ss = 0;
    for (I j = 0; j < cols; ++j) ss += static_cast<double>(xr[j]) * xr[j];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss * inv_n + static_cast<double>(eps)));
    rs[r] = inv;
    // Hugging Face normalises first and scales by the weight after.
    for (I j = 0; j < cols; ++j) orow[j] = xr[j] * inv * pw[j];
  }
}

// y = x r w with r = (mean(x^2) + eps)^-1/2, so dy_j/dx_i = r w_i [i == j] - r^3 x_i x_j w_j / n and
// dx_i = r w_i g_i - x_i r^3 / n * sum_j g_j w_j x_j.
void rmsnorm_backward(Tensor& dx, Tensor& dw, const Tensor& dout, const Tensor& x, const Tensor& w,
                      const Tensor& rstd) {
  float *pdx = dx.data<float>(), *pdw = dw.data<float>();
  const float *g = dout.data<float>(), *px = x.data<float>(), *pw = w.data<float>(), *rs = rstd.data<float>();
  const I cols = x.dim(-1), rows = x.shape().rows();
  const double inv_n = cols > 0 ? 1.0 / static_cast<double>(cols) : 0.0;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    const float *xr = px + r * cols, *gr = g + r * cols;
    float* dr = pdx + r * cols;
    double dot = 0;
    for (I j = 0; j < cols; ++j) dot += static_cast<double>(gr[j]) * pw[j] * xr[j];
    const double inv = rs[r];
    const float a = rs[r], c = static_cast<float>(inv * inv * inv * dot * inv_n);
    for (I j = 0; j < cols; ++j) dr[j] += a * pw[j] * gr[j] - c * xr[j];
  }
  add_column_sums(pdw, rows, cols, [&](I r, I j) {
    const I at = r * cols + j;
    return static_cast<double>(g[at]) * px[at] * rs[r];
  });
}

void layernorm_forward(Tensor& out, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                       float eps) {
  float *o = out.data<float>(), *mu = mean.data<float>(), *rs = rstd.data<float>();
  const float *px = x.data<float>(), *pw = w.data<float>(), *pb = b.data<float>();
  const I cols = x.dim(-1), rows = x.shape().rows();
  const double inv_n = cols > 0 ? 1.0 / static_cast<double>(cols) : 0.0;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    const float* xr = px + r * cols;
    float* orow = o + r * cols;
    double s = 0;
    for (I j = 0; j < cols; ++j) s += xr[j];
    const double m = s * inv_n;
    // Two passes: E[x^2] - E[x]^2 cancels badly when the mean is large.
    double v = 0;
    for (I j = 0; j < cols; ++j) {
      const double d = xr[j] - m;
      v += d * d;
    }
    const float mf = static_cast<float>(m);
    const float inv = static_cast<float>(1.0 / std::sqrt(v * inv_n + static_cast<double>(eps)));
    mu[r] = mf;
    rs[r] = inv;
    for (I j = 0; j < cols; ++j) orow[j] = (xr[j] - mf) * inv * pw[j] + pb[j];
  }
}

// With xhat = (x - mean) rstd and dxhat = g w: dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)).
void layernorm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                        const Tensor& mean, const Tensor& rstd) {
  float *pdx = dx.data<float>(), *pdw = dw.data<float>(), *pdb = db.data<float>();
  const float *g = dout.data<float>(), *px = x.data<float>(), *pw = w.data<float>();
  const float *mu = mean.data<float>(), *rs = rstd.data<float>();
  const I cols = x.dim(-1), rows = x.shape().rows();
  const double inv_n = cols > 0 ? 1.0 / static_cast<double>(cols) : 0.0;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelWork)
  for (I r = 0; r < rows; ++r) {
    const float *xr = px + r * cols, *gr = g + r * cols;
    float* dr = pdx + r * cols;
    const float m = mu[r], inv = rs[r];
    double sum_dxhat = 0, sum_dxhat_xhat = 0;
    for (I j = 0; j < cols; ++j) {
      const double dxhat = static_cast<double>(gr[j]) * pw[j];
      sum_dxhat += dxhat;
      sum_dxhat_xhat += dxhat * ((xr[j] - m) * inv);
    }
    const float a = static_cast<float>(sum_dxhat * inv_n), c = static_cast<float>(sum_dxhat_xhat * inv_n);
    for (I j = 0; j < cols; ++j) {
      const float xhat = (xr[j] - m) * inv;
      dr[j] += inv * (gr[j] * pw[j] - a - xhat * c);
    }
  }
  add_column_sums(pdw, rows, cols, [&](I r, I j) {
    const I at = r * cols + j;
    return static_cast<double>(g[at]) * ((px[at] - mu[r]) * rs[r]);
  });
  add_column_sums(pdb, rows, cols, [&](I r, I j) { return static_cast<double>(g[r * cols + j]); });
}

}  // namespace

void register_norms(OpTable& t) {
  t.rmsnorm_forward = rmsnorm_forward;
  t.rmsnorm_backward = rmsnorm_backward;
  t.layernorm_forward = layernorm_forward;
  t.layernorm_backward = layernorm_backward;
}

}  // namespace newsrl::kernels::cpu
