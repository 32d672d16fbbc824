// RMSNorm (Qwen2 / Hugging Face form) and LayerNorm on the GPU: one block per
// row with block-wide reductions in double, as the CPU backend sums; the
// weight and bias gradients are deterministic column sums (column_sums.cuh).
#include "kernels/cuda/column_sums.cuh"
#include "kernels/cuda/common.cuh"

namespace newsrl::kernels::cuda {

namespace {

__global__ void rmsnorm_forward_kernel(float* out, float* rstd, const float* x, const float* w, I cols, double inv_n,
                                       float eps) {
  __shared__ double shared[32];
  const I r = blockIdx.x;
  const float* xr = x + r * cols;
  float* orow = out + r * cols;
  double ss = 0;
  for (I j = threadIdx.x; j < cols; j += blockDim.x) ss += static_cast<double>(xr[j]) * xr[j];
  ss = block_sum(ss, shared);
  const float inv = static_cast<float>(1.0 / sqrt(ss * inv_n + static_cast<double>(eps)));
  if (threadIdx.x == 0) rstd[r] = inv;
  // Normalised first, scaled by the weight after, as Hugging Face does.
  for (I j = threadIdx.x; j < cols; j += blockDim.x) orow[j] = xr[j] * inv * w[j];
}

// dx += r w g - x r^3 / n * sum_j g_j w_j x_j (see kernels/cpu/norms.cpp).
__global__ void rmsnorm_backward_kernel(float* dx, const float* dout, const float* x, const float* w,
                                        const float* rstd, I cols, double inv_n) {
  __shared__ double shared[32];
  const I r = blockIdx.x;
  const float *xr = x + r * cols, *gr = dout + r * cols;
  float* dr = dx + r * cols;
  double dot = 0;
  for (I j = threadIdx.x; j < cols; j += blockDim.x) dot += static_cast<double>(gr[j]) * w[j] * xr[j];
  dot = block_sum(dot, shared);
  const double inv = rstd[r];
  const float a = rstd[r], c = static_cast<float>(inv * inv * inv * dot * inv_n);
  for (I j = threadIdx.x; j < cols; j += blockDim.x) dr[j] += a * w[j] * gr[j] - c * xr[j];
}

struct RmsWeightTerm {  // d loss / d w_j from row r: g x rstd
  const float *g, *x, *rstd;
  I cols;
  __device__ double operator()(I r, I j) const {
    const I at = r * cols + j;
    return static_cast<double>(g[at]) * x[at] * rstd[r];
  }
};

void rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& x, const Tensor& w, float eps) {
  const I cols = x.dim(-1), rows = x.shape().rows();
  if (rows == 0) return;
  const double inv_n = cols > 0 ? 1.0 / static_cast<double>(cols) : 0.0;
  rmsnorm_forward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream()>>>(
      out.data<float>(), rstd.data<float>(), x.data<float>(), w.data<float>(), cols, inv_n, eps);
  check_launch();
}

void rmsnorm_backward(Tensor& dx, Tensor& dw, const Tensor& dout, const Tensor& x, const Tensor& w,
                      const Tensor& rstd) {
  const I cols = x.dim(-1), rows = x.shape().rows();
  if (rows == 0 || cols == 0) return;
  const double inv_n = 1.0 / static_cast<double>(cols);
  rmsnorm_backward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream()>>>(
      dx.data<float>(), dout.data<float>(), x.data<float>(), w.data<float>(), rstd.data<float>(), cols, inv_n);
  check_launch();
  add_column_sums(dw.data<float>(), rows, cols, RmsWeightTerm{dout.data<float>(), x.data<float>(), rstd.data<float>(), cols});
}

__global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* x, const float* w,
                                         const float* b, I cols, double inv_n, float eps) {
  __shared__ double shared[32];
  const I r = blockIdx.x;
  const float* xr = x + r * cols;
  float* orow = out + r * cols;
  double s = 0;
  for (I j = threadIdx.x; j < cols; j += blockDim.x) s += xr[j];
  const double m = block_sum(s, shared) * inv_n;
  // Two passes, as on the CPU: E[x^2] - E[x]^2 cancels badly when the mean is large.
  double v = 0;
  for (I j = threadIdx.x; j < cols; j += blockDim.x) {
    const double d = xr[j] - m;
    v += d * d;
  }
  v = block_sum(v, shared);
  const float mf = static_cast<float>(m);
  const float inv = static_cast<float>(1.0 / sqrt(v * inv_n + static_cast<double>(eps)));
  if (threadIdx.x == 0) {
    mean[r] = mf;
    rstd[r] = inv;
  }
  for (I j = threadIdx.x; j < cols; j += blockDim.x) orow[j] = (xr[j] - mf) * inv * w[j] + b[j];
}

// With xhat = (x - mean) rstd and dxhat = g w: dx += rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)).
__global__ void layernorm_backward_kernel(float* dx, const float* dout, const float* x, const float* w,
                                          const float* mean, const float* rstd, I cols, double inv_n) {
  __shared__ double shared[32];
  const I r = blockIdx.x;
  const float *xr = x + r * cols, *gr = dout + r * cols;
  float* dr = dx + r * cols;
  const float m = mean[r], inv = rstd[r];
  double sum_dxhat = 0, sum_dxhat_xhat = 0;
  for (I j = threadIdx.x; j < cols; j += blockDim.x) {
    const double dxhat = static_cast<double>(gr[j]) * w[j];
    sum_dxhat += dxhat;
    sum_dxhat_xhat += dxhat * ((xr[j] - m) * inv);
  }
  sum_dxhat = block_sum(sum_dxhat, shared);
  sum_dxhat_xhat = block_sum(sum_dxhat_xhat, shared);
  const float a = static_cast<float>(sum_dxhat * inv_n), c = static_cast<float>(sum_dxhat_xhat * inv_n);
  for (I j = threadIdx.x; j < cols; j += blockDim.x) {
    const float xhat = (xr[j] - m) * inv;
    dr[j] += inv * (gr[j] * w[j] - a - xhat * c);
  }
}

struct LayerWeightTerm {  // d loss / d w_j from row r: g xhat
  const float *g, *x, *mean, *rstd;
  I cols;
  __device__ double operator()(I r, I j) const {
    const I at = r * cols + j;
    return static_cast<double>(g[at]) * ((x[at] - mean[r]) * rstd[r]);
  }
};

struct LayerBiasTerm {  // d loss / d b_j from row r: g
  const float* g;
  I cols;
  __device__ double operator()(I r, I j) const { return g[r * cols + j]; }
};

void layernorm_forward(Tensor& out, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                       float eps) {
  const I cols = x.dim(-1), rows = x.shape().rows();
  if (rows == 0) return;
  const double inv_n = cols > 0 ? 1.0 / static_cast<double>(cols) : 0.0;
  layernorm_forward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream()>>>(
      out.data<float>(), mean.data<float>(), rstd.data<float>(), x.data<float>(), w.data<float>(), b.data<float>(),
      cols, inv_n, eps);
  check_launch();
}

void layernorm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                        const Tensor& mean, const Tensor& rstd) {
  const I cols = x.dim(-1), rows = x.shape().rows();
  if (rows == 0 || cols == 0) return;
  const double inv_n = 1.0 / static_cast<double>(cols);
  layernorm_backward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream()>>>(
      dx.data<float>(), dout.data<float>(), x.data<float>(), w.data<float>(), mean.data<float>(), rstd.data<float>(),
      cols, inv_n);
  check_launch();
  add_column_sums(dw.data<float>(), rows, cols,
                  LayerWeightTerm{dout.data<float>(), x.data<float>(), mean.data<float>(), rstd.data<float>(), cols});
  add_column_sums(db.data<float>(), rows, cols, LayerBiasTerm{dout.data<float>(), cols});
}

}  // namespace

void register_norms(OpTable& t) {
  t.rmsnorm_forward = rmsnorm_forward;
  t.rmsnorm_backward = rmsnorm_backward;
  t.layernorm_forward = layernorm_forward;
  t.layernorm_backward = layernorm_backward;
}

}  // namespace newsrl::kernels::cuda
