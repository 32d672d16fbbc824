// Fused causal grouped-query attention, forward and backward: for whole
// sequences with small GEMMs per head, for a few queries (decoding) one row at a time.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/fast_exp.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;

// The reductions below run in a fixed order for a given build, so that results
// do not depend on the number of threads; omp simd lets them vectorise over
// head_dim without -ffast-math.
inline float dot(const float* a, const float* b, I n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (I i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline void axpy(float* y, float alpha, const float* x, I n) {
#pragma omp simd
  for (I i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// Each (batch, query head, query row) is independent: one thread computes the
// whole row, so the result is the same whatever the thread count. Rows of one
// head cost more the later they are (causal), hence the dynamic schedule.
void attention_forward_rows(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                            std::int64_t q_offset, float scale) {
  const I batch = q.dim(0), tq = q.dim(1), hq = q.dim(2), dim = q.dim(3);
  const I tk = k.dim(1), hkv = k.dim(2), group = hq / hkv;
  const I q_stride = hq * dim, k_stride = hkv * dim;  // from one token to the next
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  float *po = out.data<float>(), *pl = lse.data<float>();
#pragma omp parallel if (batch * hq * tq * (q_offset + tq) * dim >= kParallelWork)
  {
    // Per-thread scratch, reused by every row the thread takes and by later
    // calls (thread-local: a training step allocates nothing once warm).
    thread_local std::vector<float> scores, acc;
    scores.resize(static_cast<std::size_t>(tk));
    acc.resize(static_cast<std::size_t>(dim));
#pragma omp for collapse(3) schedule(dynamic)
    for (I b = 0; b < batch; ++b) {
      for (I h = 0; h < hq; ++h) {
        for (I t = 0; t < tq; ++t) {
          const float* qr = pq + (b * tq + t) * q_stride + h * dim;
          const float* kb = pk + b * tk * k_stride + (h / group) * dim;
          const float* vb = pv + b * tk * k_stride + (h / group) * dim;
          const I visible = std::min(tk, q_offset + t + 1);
          float m = -std::numeric_limits<float>::infinity();
          for (I s = 0; s < visible; ++s) {
            const float x = scale * dot(qr, kb + s * k_stride, dim);
            scores[static_cast<std::size_t>(s)] = x;
            m = std::max(m, x);
          }
          std::fill(acc.begin(), acc.end(), 0.0f);
          float sum = 0.0f;
          float* sc = scores.data();
#pragma omp simd reduction(+ : sum)
          for (I s = 0; s < visible; ++s) {
            sc[s] = exp_approx(sc[s] - m);
            sum += sc[s];
          }
          for (I s = 0; s < visible; ++s) axpy(acc.data(), sc[s], vb + s * k_stride, dim);
          const float inv = 1.0f / sum;
          float* o = po + (b * tq + t) * q_stride + h * dim;
#pragma omp simd
          for (I d = 0; d < dim; ++d) o[d] = acc[static_cast<std::size_t>(d)] * inv;
          pl[(b * hq + h) * tq + t] = m + std::log(sum);
        }
      }
    }
  }
}

// P is recomputed from q, k and lse. Work is split by (batch, kv head): the
// thread that owns a kv head accumulates its dk and dv rows, and the dq rows
// of its G query heads, in a fixed order; no two threads write one element.
void attention_backward_rows(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                             const Tensor& v, const Tensor& out, const Tensor& lse, std::int64_t q_offset,
                             float scale) {
  const I batch = q.dim(0), tq = q.dim(1), hq = q.dim(2), dim = q.dim(3);
  const I tk = k.dim(1), hkv = k.dim(2), group = hq / hkv;
  const I q_stride = hq * dim, k_stride = hkv * dim;
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  const float *pg = dout.data<float>(), *po = out.data<float>(), *pl = lse.data<float>();
  float *pdq = dq.data<float>(), *pdk = dk.data<float>(), *pdv = dv.data<float>();
#pragma omp parallel if (batch * hq * tq * (q_offset + tq) * dim >= kParallelWork)
  {
    thread_local std::vector<float> p, ds, acc;
    p.resize(static_cast<std::size_t>(tk));
    ds.resize(static_cast<std::size_t>(tk));
    acc.resize(static_cast<std::size_t>(dim));
#pragma omp for collapse(2) schedule(dynamic)
    for (I b = 0; b < batch; ++b) {
      for (I hk = 0; hk < hkv; ++hk) {
        const I kv_at = b * tk * k_stride + hk * dim;
        const float *kb = pk + kv_at, *vb = pv + kv_at;
        float *dkb = pdk + kv_at, *dvb = pdv + kv_at;
        for (I h = hk * group; h < (hk + 1) * group; ++h) {
          for (I t = 0; t < tq; ++t) {
            const I q_at = (b * tq + t) * q_stride + h * dim;
            const float *qr = pq + q_at, *g = pg + q_at;
            const float row_lse = pl[(b * hq + h) * tq + t];
            const float row_delta = dot(g, po + q_at, dim);  // sum_d dout * out = sum_s P dP
            const I visible = std::min(tk, q_offset + t + 1);
            float *pp = p.data(), *pd = ds.data();
            for (I s = 0; s < visible; ++s) {
              pp[s] = scale * dot(qr, kb + s * k_stride, dim) - row_lse;
              pd[s] = dot(g, vb + s * k_stride, dim) - row_delta;
            }
#pragma omp simd
            for (I s = 0; s < visible; ++s) {
              pp[s] = exp_approx(pp[s]);
              pd[s] *= pp[s];
            }
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (I s = 0; s < visible; ++s) {
              const float dss = ds[static_cast<std::size_t>(s)];
              axpy(acc.data(), dss, kb + s * k_stride, dim);
              axpy(dkb + s * k_stride, scale * dss, qr, dim);
              axpy(dvb + s * k_stride, p[static_cast<std::size_t>(s)], g, dim);
            }
            axpy(pdq + q_at, scale, acc.data(), dim);
          }
        }
      }
    }
  }
}

// Whole sequences: per (batch, head), S = scale · Q Kᵀ and O = P V (and the
// backward's products) as small GEMMs over the strided rows of q, k and v —
// several times faster than row-by-row dot products once a sequence is long.
// The GEMMs see the whole [Tq, Tk] block; the causal mask is applied to S.
// Threads split (batch, head) pairs (the backward: kv heads, so that dk and dv
// have one writer); OpenBLAS runs on one thread inside them.
constexpr I kGemmRows = 16;

void causal_softmax(float* s, float* lse_row_of, I tq, I tk, I q_offset) {
  for (I t = 0; t < tq; ++t) {
    float* row = s + t * tk;
    const I visible = std::min(tk, q_offset + t + 1);
    float m = -std::numeric_limits<float>::infinity();
    for (I j = 0; j < visible; ++j) m = std::max(m, row[j]);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (I j = 0; j < visible; ++j) {
      row[j] = exp_approx(row[j] - m);
      sum += row[j];
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (I j = 0; j < visible; ++j) row[j] *= inv;
    for (I j = visible; j < tk; ++j) row[j] = 0.0f;
    lse_row_of[t] = m + std::log(sum);
  }
}

void attention_forward_gemm(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                            std::int64_t q_offset, float scale) {
  const I batch = q.dim(0), tq = q.dim(1), hq = q.dim(2), dim = q.dim(3);
  const I tk = k.dim(1), hkv = k.dim(2), group = hq / hkv;
  const int qs = static_cast<int>(hq * dim), ks = static_cast<int>(hkv * dim);
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  float *po = out.data<float>(), *pl = lse.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (I b = 0; b < batch; ++b) {
    for (I h = 0; h < hq; ++h) {
      thread_local std::vector<float> scores;
      scores.resize(static_cast<std::size_t>(tq * tk));
      const float* qb = pq + b * tq * qs + h * dim;
      const float* kb = pk + b * tk * ks + (h / group) * dim;
      const float* vb = pv + b * tk * ks + (h / group) * dim;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(tq), static_cast<int>(tk),
                  static_cast<int>(dim), scale, qb, qs, kb, ks, 0.0f, scores.data(), static_cast<int>(tk));
      causal_softmax(scores.data(), pl + (b * hq + h) * tq, tq, tk, q_offset);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(tq), static_cast<int>(dim),
                  static_cast<int>(tk), 1.0f, scores.data(), static_cast<int>(tk), vb, ks, 0.0f,
                  po + b * tq * qs + h * dim, qs);
    }
  }
}

void attention_backward_gemm(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                             const Tensor& v, const Tensor& out, const Tensor& lse, std::int64_t q_offset,
                             float scale) {
  const I batch = q.dim(0), tq = q.dim(1), hq = q.dim(2), dim = q.dim(3);
  const I tk = k.dim(1), hkv = k.dim(2), group = hq / hkv;
  const int qs = static_cast<int>(hq * dim), ks = static_cast<int>(hkv * dim);
  const int itq = static_cast<int>(tq), itk = static_cast<int>(tk), idim = static_cast<int>(dim);
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  const float *pg = dout.data<float>(), *po = out.data<float>(), *pl = lse.data<float>();
  float *pdq = dq.data<float>(), *pdk = dk.data<float>(), *pdv = dv.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (I b = 0; b < batch; ++b) {
    for (I hk = 0; hk < hkv; ++hk) {
      thread_local std::vector<float> p, dp;
      p.resize(static_cast<std::size_t>(tq * tk));
      dp.resize(static_cast<std::size_t>(tq * tk));
      const float* kb = pk + b * tk * ks + hk * dim;
      const float* vb = pv + b * tk * ks + hk * dim;
      float* dkb = pdk + b * tk * ks + hk * dim;
      float* dvb = pdv + b * tk * ks + hk * dim;
      for (I h = hk * group; h < (hk + 1) * group; ++h) {
        const I q_at = b * tq * qs + h * dim;
        const float* lse_row = pl + (b * hq + h) * tq;
        // P = exp(scale · Q Kᵀ − lse) on the visible keys, 0 elsewhere.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, itq, itk, idim, scale, pq + q_at, qs, kb, ks, 0.0f,
                    p.data(), itk);
        // dP = dO Vᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, itq, itk, idim, 1.0f, pg + q_at, qs, vb, ks, 0.0f,
                    dp.data(), itk);
        for (I t = 0; t < tq; ++t) {
          float* pr = p.data() + t * tk;
          float* dr = dp.data() + t * tk;
          const I visible = std::min(tk, q_offset + t + 1);
          const float delta = dot(pg + q_at + t * qs, po + q_at + t * qs, dim);  // Σ dO·O = Σ P dP
          const float row_lse = lse_row[t];
#pragma omp simd
          for (I j = 0; j < visible; ++j) {
            pr[j] = exp_approx(pr[j] - row_lse);
            dr[j] = pr[j] * (dr[j] - delta);  // dS
          }
          for (I j = visible; j < tk; ++j) pr[j] = dr[j] = 0.0f;
        }
        // dQ += scale · dS K;  dK += scale · dSᵀ Q;  dV += Pᵀ dO
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, itq, idim, itk, scale, dp.data(), itk, kb, ks, 1.0f,
                    pdq + q_at, qs);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, itk, idim, itq, scale, dp.data(), itk, pq + q_at, qs, 1.0f,
                    dkb, ks);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, itk, idim, itq, 1.0f, p.data(), itk, pg + q_at, qs, 1.0f,
                    dvb, ks);
      }
    }
  }
}

// Inside this file a query t sees keys s < min(Tk, q_offset + t + 1); without
// the causal mask every query sees every key, which is q_offset = Tk - 1.
void attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                       std::int64_t q_offset, float scale, bool causal) {
  if (!causal) q_offset = k.dim(1) - 1;
  if (q.dim(1) >= kGemmRows)
    attention_forward_gemm(out, lse, q, k, v, q_offset, scale);
  else
    attention_forward_rows(out, lse, q, k, v, q_offset, scale);
}

void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                        const Tensor& v, const Tensor& out, const Tensor& lse, std::int64_t q_offset, float scale,
                        bool causal) {
  if (!causal) q_offset = k.dim(1) - 1;
  if (q.dim(1) >= kGemmRows)
    attention_backward_gemm(dq, dk, dv, dout, q, k, v, out, lse, q_offset, scale);
  else
    attention_backward_rows(dq, dk, dv, dout, q, k, v, out, lse, q_offset, scale);
}

}  // namespace

void register_attention(OpTable& t) {
  t.attention_forward = attention_forward;
  t.attention_backward = attention_backward;
}

}  // namespace newsrl::kernels::cpu
