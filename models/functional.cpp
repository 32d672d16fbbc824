#include "models/functional.h"

#include <stdexcept>

namespace newsrl::models::fn {

namespace k = kernels;

namespace {
Tensor like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }
Tensor per_row(const Tensor& t) { return Tensor::empty({t.shape().rows()}, k::DType::f32, t.device()); }
// `t` on the device of `other`: t itself when already there (or undefined),
// else a copy.
Tensor on_device_of(const Tensor& t, const Tensor& other) { return t.defined() ? t.to(other.device()) : t; }
}  // namespace

Value embedding(Graph& g, Value table, const Tensor& host_or_device_ids) {
  const Tensor ids = on_device_of(host_or_device_ids, table.tensor());
  Tensor out = Tensor::empty(ids.shape().appended(table.shape()[1]), k::DType::f32, table.tensor().device());
  k::embedding_forward(out, table.tensor(), ids);
  return g.record(out, {table}, [&g, table, ids](const Tensor& dy) { k::embedding_backward(g.grad(table), dy, ids); });
}

Value linear(Graph& g, Value x, Value w, Value b) {
  const std::int64_t in = x.shape()[-1], out_features = w.shape()[0];
  Tensor y = Tensor::empty(x.shape().with_last(out_features), k::DType::f32, x.tensor().device());
  const Tensor x2 = x.tensor().view({x.shape().rows(), in});
  Tensor y2 = y.view({x.shape().rows(), out_features});
  k::matmul(y2, x2, w.tensor(), false, true);
  if (b.defined()) k::add_bias(y2, b.tensor());
  return g.record(y, {x, w, b}, [&g, x, w, b, in, out_features](const Tensor& dy) {
    const Tensor dy2 = dy.view({dy.shape().rows(), out_features});
    if (x.requires_grad()) {
      Tensor dx2 = g.grad(x).view({dy.shape().rows(), in});
      k::matmul(dx2, dy2, w.tensor(), false, false, 1.0f, 1.0f);
    }
    if (w.requires_grad()) {
      const Tensor x2v = x.tensor().view({dy.shape().rows(), in});
      k::matmul(g.grad(w), dy2, x2v, true, false, 1.0f, 1.0f);
    }
    if (b.defined() && b.requires_grad()) k::bias_backward(g.grad(b), dy2);
  });
}

Value rmsnorm(Graph& g, Value x, Value w, float eps) {
  Tensor out = like(x.tensor()), rstd = per_row(x.tensor());
  k::rmsnorm_forward(out, rstd, x.tensor(), w.tensor(), eps);
  return g.record(out, {x, w}, [&g, x, w, rstd](const Tensor& dy) {
    Tensor dx = x.requires_grad() ? g.grad(x) : like(x.tensor());
    Tensor dw = w.requires_grad() ? g.grad(w) : like(w.tensor());
    k::rmsnorm_backward(dx, dw, dy, x.tensor(), w.tensor(), rstd);
  });
}

Value layernorm(Graph& g, Value x, Value w, Value b, float eps) {
  Tensor out = like(x.tensor()), mean = per_row(x.tensor()), rstd = per_row(x.tensor());
  k::layernorm_forward(out, mean, rstd, x.tensor(), w.tensor(), b.tensor(), eps);
  return g.record(out, {x, w, b}, [&g, x, w, b, mean, rstd](const Tensor& dy) {
    Tensor dx = x.requires_grad() ? g.grad(x) : like(x.tensor());
    Tensor dw = w.requires_grad() ? g.grad(w) : like(w.tensor());
    Tensor db = b.requires_grad() ? g.grad(b) : like(b.tensor());
    k::layernorm_backward(dx, dw, db, dy, x.tensor(), w.tensor(), mean, rstd);
  });
}

Value rope(Graph& g, Value x, std::int64_t position0, float theta) {
  Tensor out = like(x.tensor());
  k::rope_forward(out, x.tensor(), position0, theta);
  return g.record(out, {x},
                  [&g, x, position0, theta](const Tensor& dy) { k::rope_backward(g.grad(x), dy, position0, theta); });
}

Value attention(Graph& g, Value q, Value kk, Value v, std::int64_t q_offset, float scale, bool causal) {
  Tensor out = like(q.tensor());
  Tensor lse = Tensor::empty({q.shape()[0], q.shape()[2], q.shape()[1]}, k::DType::f32, q.tensor().device());
  k::attention_forward(out, lse, q.tensor(), kk.tensor(), v.tensor(), q_offset, scale, causal);
  return g.record(out, {q, kk, v}, [&g, q, kk, v, out, lse, q_offset, scale, causal](const Tensor& dy) {
    Tensor dq = q.requires_grad() ? g.grad(q) : like(q.tensor());
    Tensor dk = kk.requires_grad() ? g.grad(kk) : like(kk.tensor());
    Tensor dv = v.requires_grad() ? g.grad(v) : like(v.tensor());
    k::attention_backward(dq, dk, dv, dy, q.tensor(), kk.tensor(), v.tensor(), out, lse, q_offset, scale, causal);
  });
}

Value swiglu(Graph& g, Value gate, Value up) {
  Tensor out = like(gate.tensor());
  k::swiglu_forward(out, gate.tensor(), up.tensor());
  return g.record(out, {gate, up}, [&g, gate, up](const Tensor& dy) {
    Tensor dg = gate.requires_grad() ? g.grad(gate) : like(gate.tensor());
    Tensor du = up.requires_grad() ? g.grad(up) : like(up.tensor());
    k::swiglu_backward(dg, du, dy, gate.tensor(), up.tensor());
  });
}

Value unary(Graph& g, Unary op, Value x) {
  Tensor out = like(x.tensor());
  k::unary_forward(op, out, x.tensor());
  return g.record(out, {x}, [&g, op, x](const Tensor& dy) { k::unary_backward(op, g.grad(x), dy, x.tensor()); });
}

Value add(Graph& g, Value a, Value b) {
  Tensor out = like(a.tensor());
  k::add(out, a.tensor(), b.tensor());
  return g.record(out, {a, b}, [&g, a, b](const Tensor& dy) {
    if (a.requires_grad()) k::accumulate(g.grad(a), dy);
    if (b.requires_grad()) k::accumulate(g.grad(b), dy);
  });
}

Value sub(Graph& g, Value a, Value b) {
  Tensor out = a.tensor().clone();
  k::accumulate(out, b.tensor(), -1.0f);
  return g.record(out, {a, b}, [&g, a, b](const Tensor& dy) {
    if (a.requires_grad()) k::accumulate(g.grad(a), dy);
    if (b.requires_grad()) k::accumulate(g.grad(b), dy, -1.0f);
  });
}

Value mul(Graph& g, Value a, Value b) {
  Tensor out = like(a.tensor());
  k::mul(out, a.tensor(), b.tensor());
  return g.record(out, {a, b}, [&g, a, b](const Tensor& dy) {
    Tensor t = like(dy);
    if (a.requires_grad()) {
      k::mul(t, dy, b.tensor());
      k::accumulate(g.grad(a), t);
    }
    if (b.requires_grad()) {
      k::mul(t, dy, a.tensor());
      k::accumulate(g.grad(b), t);
    }
  });
}

Value softmax(Graph& g, Value x, bool log) {
  Tensor out = like(x.tensor());
  k::softmax_forward(out, x.tensor(), log);
  return g.record(out, {x}, [&g, x, out, log](const Tensor& dy) { k::softmax_backward(g.grad(x), dy, out, log); });
}

Value dropout(Graph& g, Value x, float p, std::uint64_t seed) {
  Tensor out = like(x.tensor()), mask = like(x.tensor());
  k::dropout_forward(out, mask, x.tensor(), p, seed);
  return g.record(out, {x}, [&g, x, mask](const Tensor& dy) { k::dropout_backward(g.grad(x), dy, mask); });
}

Value view(Graph& g, Value x, const Shape& shape) {
  return g.record(x.tensor().view(shape), {x}, [&g, x](const Tensor& dy) { k::accumulate(g.grad(x), dy); });
}

Value first_token(Graph& g, Value x) {
  if (x.shape().ndim() != 3) throw std::invalid_argument("first_token: " + x.tensor().str() + " is not [B, T, H]");
  const std::int64_t b = x.shape()[0], t = x.shape()[1], h = x.shape()[2];
  if (t == 0) throw std::invalid_argument("first_token: sequences of no tokens");
  // Row i * t of x seen as [B * T, H] is sequence i's first token: one copy per sequence.
  Tensor out = Tensor::empty({b, h}, x.tensor().dtype(), x.tensor().device());
  const Tensor rows = x.tensor().view({b * t, h});
  for (std::int64_t i = 0; i < b; ++i) {
    Tensor dst = out.slice(i, i + 1);
    k::copy(dst, rows.slice(i * t, i * t + 1));
  }
  return g.record(out, {x}, [&g, x, b, t, h](const Tensor& dy) {
    Tensor dx = g.grad(x).view({b * t, h});
    for (std::int64_t i = 0; i < b; ++i) {
      Tensor dst = dx.slice(i * t, i * t + 1);
      k::accumulate(dst, dy.slice(i, i + 1));
    }
  });
}

Value cross_entropy(Graph& g, Value logits, const Tensor& host_targets) {
  const Tensor& z = logits.tensor();
  const std::int64_t n = z.dim(0);
  std::int64_t counted = 0;
  // Counted on the host: a copy back only when given device targets.
  const Tensor counted_on = host_targets.defined() ? host_targets.to(k::Device::cpu) : host_targets;
  const std::int32_t* t = counted_on.data<std::int32_t>();
  for (std::int64_t i = 0; i < counted_on.numel(); ++i) counted += t[i] != k::kIgnoreIndex;
  const Tensor targets = on_device_of(host_targets, z);
  if (counted == 0) throw std::invalid_argument("cross_entropy: every target is ignored");
  Tensor losses = Tensor::empty({n}, k::DType::f32, z.device()), lse = Tensor::empty({n}, k::DType::f32, z.device());
  k::cross_entropy_forward(losses, lse, z, targets);
  // The mean as a product with a column of 1/count, so that it runs on any device.
  Tensor weights = Tensor::empty({n, 1}, k::DType::f32, z.device());
  k::fill(weights, 1.0f / static_cast<float>(counted));
  Tensor loss = Tensor::empty({1, 1}, k::DType::f32, z.device());
  k::matmul(loss, losses.view({1, n}), weights);
  return g.record(loss.view({1}), {logits}, [&g, logits, targets, lse, weights, n](const Tensor& dy) {
    Tensor dlosses = Tensor::empty({n, 1}, k::DType::f32, dy.device());
    k::matmul(dlosses, weights, dy.view({1, 1}));  // dloss / count for every row
    k::cross_entropy_backward(g.grad(logits), dlosses.view({n}), logits.tensor(), lse, targets);
  });
}

Value token_logprobs(Graph& g, Value logits, const Tensor& host_or_device_targets) {
  const Tensor& z = logits.tensor();
  const Tensor targets = on_device_of(host_or_device_targets, z);
  const std::int64_t n = z.dim(0);
  Tensor losses = Tensor::empty({n}, k::DType::f32, z.device()), lse = Tensor::empty({n}, k::DType::f32, z.device());
  k::cross_entropy_forward(losses, lse, z, targets);
  k::scale(losses, -1.0f);  // log p = -cross-entropy
  return g.record(losses, {logits}, [&g, logits, targets, lse, n](const Tensor& dy) {
    Tensor dlosses = Tensor::empty({n}, k::DType::f32, dy.device());
    k::copy(dlosses, dy);
    k::scale(dlosses, -1.0f);
    k::cross_entropy_backward(g.grad(logits), dlosses, logits.tensor(), lse, targets);
  });
}

Value policy_loss(Graph& g, Value logp, const Tensor& old_logp_in, const Tensor& adv_in, const Tensor& ref_logp_in,
                  const kernels::PolicyClip& clip, float normaliser) {
  if (!(normaliser > 0)) throw std::invalid_argument("policy_loss: the normaliser must be positive");
  const Tensor& lp = logp.tensor();
  // The constants on the policy's device (themselves when already there).
  const Tensor old_logp = on_device_of(old_logp_in, lp), adv = on_device_of(adv_in, lp);
  const Tensor ref_logp = on_device_of(ref_logp_in, lp);
  const std::int64_t n = lp.numel();
  Tensor losses = Tensor::empty({n}, k::DType::f32, lp.device());
  k::policy_loss_forward(losses, lp, old_logp, adv, ref_logp, clip);
  // The sum over tokens / normaliser as a product with a constant column (any device).
  Tensor weights = Tensor::empty({n, 1}, k::DType::f32, lp.device());
  k::fill(weights, 1.0f / normaliser);
  Tensor loss = Tensor::empty({1, 1}, k::DType::f32, lp.device());
  k::matmul(loss, losses.view({1, n}), weights);
  return g.record(loss.view({1}), {logp}, [&g, logp, old_logp, adv, ref_logp, clip, weights, n](const Tensor& dy) {
    Tensor dlosses = Tensor::empty({n, 1}, k::DType::f32, dy.device());
    k::matmul(dlosses, weights, dy.view({1, 1}));
    k::policy_loss_backward(g.grad(logp), dlosses.view({n}), logp.tensor(), old_logp, adv, ref_logp, clip);
  });
}

Value scale(Graph& g, Value x, float s) {
  Tensor out = like(x.tensor());
  k::copy(out, x.tensor());
  k::scale(out, s);
  return g.record(out, {x}, [&g, x, s](const Tensor& dy) { k::accumulate(g.grad(x), dy, s); });
}

}  // namespace newsrl::models::fn
