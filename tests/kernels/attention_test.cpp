// Causal grouped-query attention: out and lse against a naive double-precision
// reference (MHA, GQA, batches, KV-cache offsets), gradients by finite
// differences, accumulation, and independence from the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "gradcheck.h"

using namespace newsrl::kernels;
using namespace newsrl::kernels::testing;

namespace {

struct Case {
  std::int64_t batch, tq, tk, hq, hkv, dim, q_offset;
  std::string str() const {
    return "B " + std::to_string(batch) + ", Tq " + std::to_string(tq) + ", Tk " + std::to_string(tk) + ", Hq " +
           std::to_string(hq) + ", Hkv " + std::to_string(hkv) + ", D " + std::to_string(dim) + ", q_offset " +
           std::to_string(q_offset);
  }
};

struct Inputs {
  Tensor q, k, v;
};

Inputs random_inputs(const Case& c, std::uint32_t seed) {
  return {random_tensor({c.batch, c.tq, c.hq, c.dim}, seed), random_tensor({c.batch, c.tk, c.hkv, c.dim}, seed + 1),
          random_tensor({c.batch, c.tk, c.hkv, c.dim}, seed + 2)};
}

struct Reference {
  std::vector<double> out, lse;
};

// Explicit scores, causal mask, softmax and weighted sum, in double; kv head
// h / G serves query head h (Hugging Face's repeat_kv).
Reference reference_attention(const Tensor& q, const Tensor& k, const Tensor& v, std::int64_t q_offset, double scale,
                              bool causal = true) {
  const std::int64_t batch = q.dim(0), tq = q.dim(1), hq = q.dim(2), dim = q.dim(3);
  const std::int64_t tk = k.dim(1), hkv = k.dim(2), group = hq / hkv;
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  Reference r;
  r.out.assign(static_cast<std::size_t>(q.numel()), 0.0);
  r.lse.assign(static_cast<std::size_t>(batch * hq * tq), 0.0);
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t h = 0; h < hq; ++h) {
      const std::int64_t kh = h / group;
      for (std::int64_t t = 0; t < tq; ++t) {
        std::vector<double> scores(static_cast<std::size_t>(tk));
        double m = -INFINITY;
        for (std::int64_t s = 0; s < tk; ++s) {
          double x = 0;
          for (std::int64_t d = 0; d < dim; ++d) {
            x += static_cast<double>(pq[((b * tq + t) * hq + h) * dim + d]) * pk[((b * tk + s) * hkv + kh) * dim + d];
          }
          scores[static_cast<std::size_t>(s)] = !causal || s <= q_offset + t ? scale * x : -INFINITY;
          m = std::max(m, scores[static_cast<std::size_t>(s)]);
        }
        double sum = 0;
        for (double& x : scores) sum += (x = std::exp(x - m));
        for (std::int64_t d = 0; d < dim; ++d) {
          double o = 0;
          for (std::int64_t s = 0; s < tk; ++s) {
            o += scores[static_cast<std::size_t>(s)] / sum * pv[((b * tk + s) * hkv + kh) * dim + d];
          }
          r.out[static_cast<std::size_t>(((b * tq + t) * hq + h) * dim + d)] = o;
        }
        r.lse[static_cast<std::size_t>((b * hq + h) * tq + t)] = m + std::log(sum);
      }
    }
  }
  return r;
}

Tensor lse_for(const Tensor& q) { return Tensor::empty({q.dim(0), q.dim(2), q.dim(1)}); }

float default_scale(const Tensor& q) { return 1.0f / std::sqrt(static_cast<float>(q.dim(3))); }

}  // namespace

TEST(Attention, ForwardMatchesReference) {
  const Case cases[] = {
      {1, 6, 6, 3, 3, 8, 0},    // multi-head: Hq == Hkv
      {1, 6, 6, 4, 2, 8, 0},    // grouped-query
      {2, 5, 5, 4, 2, 8, 0},    // a batch
      {2, 1, 7, 4, 2, 8, 6},    // KV cache: one new token
      {2, 3, 7, 4, 2, 8, 4},    // KV cache: three new tokens
      {1, 4, 4, 6, 1, 5, 0},    // multi-query, odd head_dim
      {2, 20, 20, 4, 2, 8, 0},  // long enough for the per-head GEMM path
      {1, 17, 24, 4, 1, 6, 7},  // the GEMM path with a KV-cache offset
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.str());
    const Inputs in = random_inputs(c, 51);
    Tensor out = Tensor::empty(in.q.shape()), lse = lse_for(in.q);
    const float scale = default_scale(in.q);
    attention_forward(out, lse, in.q, in.k, in.v, c.q_offset, scale);
    const Reference want = reference_attention(in.q, in.k, in.v, c.q_offset, scale);
    expect_close(out, want.out, 1e-5, 1e-5, "out");
    expect_close(lse, want.lse, 1e-5, 1e-5, "lse");
  }
}

TEST(Attention, WithoutTheCausalMaskEveryQuerySeesEveryKey) {
  // Encoders: the row path (few queries) and the GEMM path, forward and backward.
  const Case cases[] = {
      {2, 5, 5, 4, 2, 8, 0},    // rows
      {1, 3, 7, 4, 4, 6, 0},    // fewer queries than keys
      {1, 20, 20, 4, 2, 8, 0},  // GEMM path
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.str());
    const Inputs in = random_inputs(c, 53);
    const float scale = default_scale(in.q);
    Tensor out = Tensor::empty(in.q.shape()), lse = lse_for(in.q);
    attention_forward(out, lse, in.q, in.k, in.v, 0, scale, false);
    const Reference want = reference_attention(in.q, in.k, in.v, 0, scale, false);
    expect_close(out, want.out, 1e-5, 1e-5, "out");
    expect_close(lse, want.lse, 1e-5, 1e-5, "lse");
    GradCheck g;
    g.inputs = {in.q, in.k, in.v};
    g.names = {"q", "k", "v"};
    g.forward = [=](const std::vector<Tensor>& x) {
      Tensor o = Tensor::empty(x[0].shape()), l = lse_for(x[0]);
      attention_forward(o, l, x[0], x[1], x[2], 0, scale, false);
      return o;
    };
    g.backward = [=](const std::vector<Tensor>& x, const Tensor& dy, std::vector<Tensor>& grads) {
      Tensor o = Tensor::empty(x[0].shape()), l = lse_for(x[0]);
      attention_forward(o, l, x[0], x[1], x[2], 0, scale, false);
      attention_backward(grads[0], grads[1], grads[2], dy, x[0], x[1], x[2], o, l, 0, scale, false);
    };
    g.max_checks_per_input = 150;
    g.run();
  }
  Tensor out = Tensor::empty(random_inputs(cases[0], 1).q.shape()), lse = lse_for(out);
  const Inputs in = random_inputs(cases[0], 1);
  EXPECT_THROW(attention_forward(out, lse, in.q, in.k, in.v, 1, 1.0f, false), std::invalid_argument);
}

TEST(Attention, FirstRowCopiesTheFirstValue) {
  // Query 0 of a plain causal forward sees key 0 only: out = v[0], lse = the one score.
  const Inputs in = random_inputs({1, 3, 3, 2, 1, 4, 0}, 52);
  Tensor out = Tensor::empty(in.q.shape()), lse = lse_for(in.q);
  attention_forward(out, lse, in.q, in.k, in.v, 0, 0.5f);
  const auto o = out.to_vector<float>(), v = in.v.to_vector<float>();
  for (int h = 0; h < 2; ++h) {
    for (int d = 0; d < 4; ++d) EXPECT_FLOAT_EQ(o[static_cast<std::size_t>(h * 4 + d)], v[static_cast<std::size_t>(d)]);
  }
}

TEST(Attention, KvCacheRowMatchesFullForward) {
  const Case full{2, 7, 7, 4, 2, 8, 0};
  const Inputs in = random_inputs(full, 53);
  const float scale = default_scale(in.q);
  Tensor out = Tensor::empty(in.q.shape()), lse = lse_for(in.q);
  attention_forward(out, lse, in.q, in.k, in.v, 0, scale);

  // The last query of each batch row alone, against all seven cached keys.
  const std::int64_t hq = 4, dim = 8, tk = 7;
  std::vector<float> last(static_cast<std::size_t>(2 * hq * dim));
  const auto qv = in.q.to_vector<float>();
  for (std::int64_t b = 0; b < 2; ++b) {
    std::copy_n(qv.begin() + ((b * tk + tk - 1) * hq) * dim, hq * dim, last.begin() + b * hq * dim);
  }
  const Tensor q1 = Tensor::from(last, {2, 1, hq, dim});
  Tensor out1 = Tensor::empty(q1.shape()), lse1 = lse_for(q1);
  attention_forward(out1, lse1, q1, in.k, in.v, tk - 1, scale);

  const auto o = out.to_vector<float>(), o1 = out1.to_vector<float>(), l = lse.to_vector<float>(),
             l1 = lse1.to_vector<float>();
  for (std::int64_t b = 0; b < 2; ++b) {
    for (std::int64_t i = 0; i < hq * dim; ++i) {
      EXPECT_NEAR(o1[static_cast<std::size_t>(b * hq * dim + i)],
                  o[static_cast<std::size_t>((b * tk + tk - 1) * hq * dim + i)], 1e-6)
          << "batch " << b << ", element " << i;
    }
    for (std::int64_t h = 0; h < hq; ++h) {
      EXPECT_NEAR(l1[static_cast<std::size_t>(b * hq + h)], l[static_cast<std::size_t>((b * hq + h) * tk + tk - 1)],
                  1e-6)
          << "batch " << b << ", head " << h;
    }
  }
}

TEST(Attention, BackwardMatchesFiniteDifferences) {
  const Case cases[] = {
      {1, 5, 5, 4, 2, 6, 0},    // plain causal, grouped-query
      {1, 3, 7, 4, 2, 6, 4},    // KV cache offset
      {2, 4, 4, 2, 2, 6, 0},    // multi-head, a batch
      {1, 18, 18, 4, 2, 4, 0},  // the per-head GEMM path
      {1, 16, 21, 2, 1, 4, 5},  // the GEMM path with a KV-cache offset
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.str());
    const Inputs in = random_inputs(c, 61);
    const float scale = default_scale(in.q);
    const std::int64_t q_offset = c.q_offset;
    GradCheck g;
    g.inputs = {in.q, in.k, in.v};
    g.names = {"q", "k", "v"};
    g.forward = [=](const std::vector<Tensor>& x) {
      Tensor out = Tensor::empty(x[0].shape()), lse = lse_for(x[0]);
      attention_forward(out, lse, x[0], x[1], x[2], q_offset, scale);
      return out;
    };
    g.backward = [=](const std::vector<Tensor>& x, const Tensor& dy, std::vector<Tensor>& grads) {
      Tensor out = Tensor::empty(x[0].shape()), lse = lse_for(x[0]);
      attention_forward(out, lse, x[0], x[1], x[2], q_offset, scale);
      attention_backward(grads[0], grads[1], grads[2], dy, x[0], x[1], x[2], out, lse, q_offset, scale);
    };
    g.max_checks_per_input = 200;
    g.run();
  }
}

TEST(Attention, BackwardAddsIntoExistingGradients) {
  const Case c{1, 4, 6, 4, 2, 8, 0};  // keys 4 and 5 are past every query
  const Inputs in = random_inputs(c, 71);
  const float scale = default_scale(in.q);
  Tensor out = Tensor::empty(in.q.shape()), lse = lse_for(in.q);
  attention_forward(out, lse, in.q, in.k, in.v, c.q_offset, scale);
  const Tensor dout = random_tensor(out.shape(), 72);

  Tensor dq0 = Tensor::zeros(in.q.shape()), dk0 = Tensor::zeros(in.k.shape()), dv0 = Tensor::zeros(in.v.shape());
  attention_backward(dq0, dk0, dv0, dout, in.q, in.k, in.v, out, lse, c.q_offset, scale);
  const Tensor sq = random_tensor(in.q.shape(), 73), sk = random_tensor(in.k.shape(), 74),
               sv = random_tensor(in.v.shape(), 75);
  Tensor dq = sq.clone(), dk = sk.clone(), dv = sv.clone();
  attention_backward(dq, dk, dv, dout, in.q, in.k, in.v, out, lse, c.q_offset, scale);

  const auto sum = [](const Tensor& a, const Tensor& b) {
    const auto x = a.to_vector<float>(), y = b.to_vector<float>();
    std::vector<double> s(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) s[i] = static_cast<double>(x[i]) + y[i];
    return s;
  };
  expect_close(dq, sum(sq, dq0), 1e-5, 1e-5, "dq");
  expect_close(dk, sum(sk, dk0), 1e-5, 1e-5, "dk");
  expect_close(dv, sum(sv, dv0), 1e-5, 1e-5, "dv");
  // Keys past the last query's reach get no gradient: the last two tokens' rows of 2 kv heads x 8.
  const auto g = dk0.to_vector<float>();
  EXPECT_TRUE(std::all_of(g.end() - 2 * 2 * 8, g.end(), [](float x) { return x == 0.0f; })) << "dk of an unseen key";
}

TEST(Attention, SameResultWithOneOrTwoThreads) {
  // One case per path: rows (few queries) and per-head GEMMs (long sequences).
  for (const Case c : {Case{2, 9, 11, 6, 2, 16, 2}, Case{2, 20, 22, 6, 2, 16, 2}}) {
    SCOPED_TRACE(c.str());
    const Inputs in = random_inputs(c, 81);
    const float scale = default_scale(in.q);
    const Tensor dout = random_tensor(in.q.shape(), 82);
    const int keep = omp_get_max_threads();
    std::vector<std::vector<std::vector<float>>> runs;
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      Tensor out = Tensor::empty(in.q.shape()), lse = lse_for(in.q);
      attention_forward(out, lse, in.q, in.k, in.v, c.q_offset, scale);
      Tensor dq = Tensor::zeros(in.q.shape()), dk = Tensor::zeros(in.k.shape()), dv = Tensor::zeros(in.v.shape());
      attention_backward(dq, dk, dv, dout, in.q, in.k, in.v, out, lse, c.q_offset, scale);
      runs.push_back({out.to_vector<float>(), lse.to_vector<float>(), dq.to_vector<float>(), dk.to_vector<float>(),
                      dv.to_vector<float>()});
    }
    omp_set_num_threads(keep);
    const char* names[] = {"out", "lse", "dq", "dk", "dv"};
    for (std::size_t i = 0; i < runs[0].size(); ++i) EXPECT_EQ(runs[0][i], runs[1][i]) << names[i];
  }
}

TEST(Attention, RejectsQueriesPastTheKeys) {
  const Inputs in = random_inputs({1, 3, 5, 2, 1, 4, 0}, 91);
  Tensor out = Tensor::empty(in.q.shape()), lse = lse_for(in.q);
  EXPECT_THROW(attention_forward(out, lse, in.q, in.k, in.v, 3, 0.5f), std::invalid_argument);
}
