#include "kernels/ops.h"

#include <atomic>
#include <stdexcept>
#include <string>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/profile.h"
#ifdef NEWSRL_HAVE_CUDA
#include "kernels/cuda/cuda_ops.h"
#endif

namespace newsrl::kernels {

std::string_view unary_name(Unary op) {
  switch (op) {
    case Unary::silu:
      return "silu";
    case Unary::gelu:
      return "gelu";
    case Unary::relu:
      return "relu";
    case Unary::tanh:
      return "tanh";
    case Unary::sigmoid:
      return "sigmoid";
  }
  return "unknown";
}

namespace {
std::atomic<MatmulPrecision> precision{MatmulPrecision::f32};
}  // namespace

void set_matmul_precision(MatmulPrecision p) { precision = p; }
MatmulPrecision matmul_precision() { return precision; }

std::string_view matmul_precision_name(MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::f32:
      return "f32";
    case MatmulPrecision::tf32:
      return "tf32";
    case MatmulPrecision::bf16:
      return "bf16";
  }
  return "unknown";
}

MatmulPrecision parse_matmul_precision(std::string_view name) {
  for (MatmulPrecision p : {MatmulPrecision::f32, MatmulPrecision::tf32, MatmulPrecision::bf16}) {
    if (name == matmul_precision_name(p)) return p;
  }
  throw std::invalid_argument("matmul precision \"" + std::string(name) + "\" is not one of f32, tf32, bf16");
}

const OpTable& ops(Device device) {
  if (device == Device::cpu) return cpu::table();
#ifdef NEWSRL_HAVE_CUDA
  if (device == Device::cuda) return cuda::table();
#endif
  throw std::runtime_error("this newsrl build has no CUDA backend");
}

namespace {

// One line naming the op and what is wrong with its arguments.
[[noreturn]] void bad(const char* op, const std::string& what) {
  throw std::invalid_argument(std::string(op) + ": " + what);
}

// The message is built only when the check fails: every op call passes here.
#define NEWSRL_NEED(ok, op, what) \
  do {                            \
    if (!(ok)) bad(op, what);     \
  } while (0)

// Every tensor defined, on one device, of the given dtype.
void same_device(const char* op, DType dtype, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    NEWSRL_NEED(t->defined(), op, "an argument is an undefined tensor");
    NEWSRL_NEED(t->dtype() == dtype, op, t->str() + " should be " + std::string(dtype_name(dtype)));
    if (first == nullptr) first = t;
    NEWSRL_NEED(t->device() == first->device(), op, t->str() + " is not on the device of " + first->str());
  }
}

void same_shape(const char* op, const Tensor& a, const Tensor& b) {
  NEWSRL_NEED(a.shape() == b.shape(), op, a.str() + " and " + b.str() + " should have the same shape");
}

// A backend may leave entries null (a kernel not written yet for that device).
template <class Fn>
Fn kernel(Fn fn, const char* op, Device d) {
  if (fn == nullptr) throw std::runtime_error(std::string(op) + " has no " + std::string(device_name(d)) + " kernel");
  return fn;
}
// The Scope temporary lives to the end of the full expression: it times the call
// when profiling is on (kernels/profile.h), and the call's value passes through.
#define NEWSRL_CALL(name, dev, ...) \
  (profile::Scope(#name, dev), kernel(ops(dev).name, #name, dev)(__VA_ARGS__))

void check_rows(const char* op, const Tensor& x, const Tensor& per_row, const std::string& what) {
  NEWSRL_NEED(per_row.numel() == x.shape().rows(), op,
              what + " " + per_row.str() + " should hold one value per row of " + x.str());
}

}  // namespace

void matmul(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, float alpha, float beta) {
  const char* op = "matmul";
  same_device(op, DType::f32, {&c, &a});
  // b may also be bfloat16 weights (decoding from half the bytes): 2-D, used as bᵀ.
  NEWSRL_NEED(b.defined() && b.device() == a.device(), op, "b should be a tensor on the device of " + a.str());
  NEWSRL_NEED(b.dtype() == DType::f32 || (b.dtype() == DType::bf16 && b.ndim() == 2 && trans_b && !trans_a), op,
              "b " + b.str() + " should be float32, or bfloat16 when 2-D and transposed (a @ bᵀ)");
  NEWSRL_NEED(a.ndim() >= 2 && b.ndim() >= 2 && c.ndim() == a.ndim(), op,
              "a " + a.str() + ", b " + b.str() + ", c " + c.str() + ": a and c need the same rank, 2 or more");
  NEWSRL_NEED(b.ndim() == 2 || b.ndim() == a.ndim(), op,
              "b " + b.str() + " should be 2-D or batched like a " + a.str());
  const std::int64_t m = trans_a ? a.dim(-1) : a.dim(-2), k = trans_a ? a.dim(-2) : a.dim(-1);
  const std::int64_t kb = trans_b ? b.dim(-1) : b.dim(-2), n = trans_b ? b.dim(-2) : b.dim(-1);
  NEWSRL_NEED(k == kb, op,
              "inner dimensions differ: op(a) is " + std::to_string(m) + "x" + std::to_string(k) + ", op(b) is " +
                  std::to_string(kb) + "x" + std::to_string(n));
  NEWSRL_NEED(c.dim(-2) == m && c.dim(-1) == n, op,
              "c " + c.str() + " should end in [" + std::to_string(m) + ", " + std::to_string(n) + "]");
  for (int i = 0; i < a.ndim() - 2; ++i) {
    NEWSRL_NEED(c.dim(i) == a.dim(i) && (b.ndim() == 2 || b.dim(i) == a.dim(i)), op,
                "batch dimensions differ: a " + a.str() + ", b " + b.str() + ", c " + c.str());
  }
  NEWSRL_CALL(matmul, a.device(), c, a, b, trans_a, trans_b, alpha, beta);
}

void add_bias(Tensor& y, const Tensor& bias) {
  same_device("add_bias", DType::f32, {&y, &bias});
  NEWSRL_NEED(bias.numel() == y.dim(-1), "add_bias", "bias " + bias.str() + " should match the last dim of " + y.str());
  NEWSRL_CALL(add_bias, y.device(), y, bias);
}

void bias_backward(Tensor& dbias, const Tensor& dy) {
  same_device("bias_backward", DType::f32, {&dbias, &dy});
  NEWSRL_NEED(dbias.numel() == dy.dim(-1), "bias_backward",
              "dbias " + dbias.str() + " should match the last dim of " + dy.str());
  NEWSRL_CALL(bias_backward, dy.device(), dbias, dy);
}

void embedding_forward(Tensor& out, const Tensor& table, const Tensor& ids) {
  const char* op = "embedding_forward";
  same_device(op, DType::f32, {&out, &table});
  NEWSRL_NEED(ids.defined() && ids.dtype() == DType::i32 && ids.device() == table.device(), op,
              "ids should be int32 on the table's device");
  NEWSRL_NEED(table.ndim() == 2, op, "table " + table.str() + " should be [vocab, dim]");
  NEWSRL_NEED(out.numel() == ids.numel() * table.dim(1) && out.dim(-1) == table.dim(1), op,
              "out " + out.str() + " should be ids " + ids.str() + " by " + std::to_string(table.dim(1)));
  NEWSRL_CALL(embedding_forward, table.device(), out, table, ids);
}

void embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids) {
  const char* op = "embedding_backward";
  same_device(op, DType::f32, {&dtable, &dout});
  NEWSRL_NEED(ids.defined() && ids.dtype() == DType::i32 && ids.device() == dtable.device(), op,
              "ids should be int32 on the table's device");
  NEWSRL_NEED(dtable.ndim() == 2 && dout.numel() == ids.numel() * dtable.dim(1), op,
              "dout " + dout.str() + " should be ids " + ids.str() + " by " + std::to_string(dtable.dim(-1)));
  NEWSRL_CALL(embedding_backward, dtable.device(), dtable, dout, ids);
}

void rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& x, const Tensor& w, float eps) {
  const char* op = "rmsnorm_forward";
  same_device(op, DType::f32, {&out, &rstd, &x, &w});
  same_shape(op, out, x);
  NEWSRL_NEED(w.numel() == x.dim(-1), op, "weight " + w.str() + " should match the last dim of " + x.str());
  check_rows(op, x, rstd, "rstd");
  NEWSRL_CALL(rmsnorm_forward, x.device(), out, rstd, x, w, eps);
}

void rmsnorm_backward(Tensor& dx, Tensor& dw, const Tensor& dout, const Tensor& x, const Tensor& w,
                      const Tensor& rstd) {
  const char* op = "rmsnorm_backward";
  same_device(op, DType::f32, {&dx, &dw, &dout, &x, &w, &rstd});
  same_shape(op, dx, x);
  same_shape(op, dout, x);
  same_shape(op, dw, w);
  NEWSRL_NEED(w.numel() == x.dim(-1), op, "weight " + w.str() + " should match the last dim of " + x.str());
  check_rows(op, x, rstd, "rstd");
  NEWSRL_CALL(rmsnorm_backward, x.device(), dx, dw, dout, x, w, rstd);
}

void layernorm_forward(Tensor& out, Tensor& mean, Tensor& rstd, const Tensor& x, const Tensor& w, const Tensor& b,
                       float eps) {
  const char* op = "layernorm_forward";
  same_device(op, DType::f32, {&out, &mean, &rstd, &x, &w, &b});
  same_shape(op, out, x);
  NEWSRL_NEED(w.numel() == x.dim(-1) && b.numel() == x.dim(-1), op,
              "weight and bias should match the last dim of " + x.str());
  check_rows(op, x, mean, "mean");
  check_rows(op, x, rstd, "rstd");
  NEWSRL_CALL(layernorm_forward, x.device(), out, mean, rstd, x, w, b, eps);
}

void layernorm_backward(Tensor& dx, Tensor& dw, Tensor& db, const Tensor& dout, const Tensor& x, const Tensor& w,
                        const Tensor& mean, const Tensor& rstd) {
  const char* op = "layernorm_backward";
  same_device(op, DType::f32, {&dx, &dw, &db, &dout, &x, &w, &mean, &rstd});
  same_shape(op, dx, x);
  same_shape(op, dout, x);
  same_shape(op, dw, w);
  same_shape(op, db, w);
  check_rows(op, x, mean, "mean");
  check_rows(op, x, rstd, "rstd");
  NEWSRL_CALL(layernorm_backward, x.device(), dx, dw, db, dout, x, w, mean, rstd);
}

void rope_forward(Tensor& out, const Tensor& x, std::int64_t position0, float theta) {
  const char* op = "rope_forward";
  same_device(op, DType::f32, {&out, &x});
  same_shape(op, out, x);
  NEWSRL_NEED(x.ndim() == 4 && x.dim(3) % 2 == 0, op,
              "x " + x.str() + " should be [batch, tokens, heads, even head_dim]");
  NEWSRL_NEED(position0 >= 0, op, "negative position");
  NEWSRL_CALL(rope_forward, x.device(), out, x, position0, theta);
}

void rope_backward(Tensor& dx, const Tensor& dout, std::int64_t position0, float theta) {
  const char* op = "rope_backward";
  same_device(op, DType::f32, {&dx, &dout});
  same_shape(op, dx, dout);
  NEWSRL_NEED(dout.ndim() == 4 && dout.dim(3) % 2 == 0, op,
              "dout " + dout.str() + " should be [batch, tokens, heads, even head_dim]");
  NEWSRL_CALL(rope_backward, dout.device(), dx, dout, position0, theta);
}

namespace {
void check_attention(const char* op, const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                     const Tensor& v, std::int64_t q_offset, bool causal) {
  NEWSRL_NEED(causal || q_offset == 0, op, "without the causal mask q_offset must be 0");
  NEWSRL_NEED(q.ndim() == 4 && k.ndim() == 4, op,
              "q " + q.str() + " and k " + k.str() + " should be [batch, tokens, heads, head_dim]");
  same_shape(op, k, v);
  same_shape(op, out, q);
  NEWSRL_NEED(q.dim(0) == k.dim(0) && q.dim(3) == k.dim(3), op,
              "q " + q.str() + " and k " + k.str() + " differ in batch or head_dim");
  NEWSRL_NEED(
      k.dim(2) > 0 && q.dim(2) % k.dim(2) == 0, op,
      std::to_string(q.dim(2)) + " query heads are not a multiple of " + std::to_string(k.dim(2)) + " key/value heads");
  NEWSRL_NEED(q_offset >= 0 && q_offset + q.dim(1) <= k.dim(1), op,
              "queries at " + std::to_string(q_offset) + ".." + std::to_string(q_offset + q.dim(1)) + " see past the " +
                  std::to_string(k.dim(1)) + " keys");
  NEWSRL_NEED(lse.numel() == q.dim(0) * q.dim(2) * q.dim(1), op,
              "lse " + lse.str() + " should be [batch, heads, tokens]");
}
}  // namespace

void attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                       std::int64_t q_offset, float scale, bool causal) {
  const char* op = "attention_forward";
  same_device(op, DType::f32, {&out, &lse, &q, &k, &v});
  check_attention(op, out, lse, q, k, v, q_offset, causal);
  NEWSRL_CALL(attention_forward, q.device(), out, lse, q, k, v, q_offset, scale, causal);
}

void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                        const Tensor& v, const Tensor& out, const Tensor& lse, std::int64_t q_offset, float scale,
                        bool causal) {
  const char* op = "attention_backward";
  same_device(op, DType::f32, {&dq, &dk, &dv, &dout, &q, &k, &v, &out, &lse});
  check_attention(op, out, lse, q, k, v, q_offset, causal);
  same_shape(op, dq, q);
  same_shape(op, dk, k);
  same_shape(op, dv, v);
  same_shape(op, dout, out);
  NEWSRL_CALL(attention_backward, q.device(), dq, dk, dv, dout, q, k, v, out, lse, q_offset, scale, causal);
}

void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) {
  same_device("swiglu_forward", DType::f32, {&out, &gate, &up});
  same_shape("swiglu_forward", gate, up);
  same_shape("swiglu_forward", out, gate);
  NEWSRL_CALL(swiglu_forward, gate.device(), out, gate, up);
}

void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate, const Tensor& up) {
  const char* op = "swiglu_backward";
  same_device(op, DType::f32, {&dgate, &dup, &dout, &gate, &up});
  same_shape(op, gate, up);
  same_shape(op, dgate, gate);
  same_shape(op, dup, up);
  same_shape(op, dout, gate);
  NEWSRL_CALL(swiglu_backward, gate.device(), dgate, dup, dout, gate, up);
}

void unary_forward(Unary u, Tensor& out, const Tensor& x) {
  same_device("unary_forward", DType::f32, {&out, &x});
  same_shape("unary_forward", out, x);
  NEWSRL_CALL(unary_forward, x.device(), u, out, x);
}

void unary_backward(Unary u, Tensor& dx, const Tensor& dout, const Tensor& x) {
  same_device("unary_backward", DType::f32, {&dx, &dout, &x});
  same_shape("unary_backward", dx, x);
  same_shape("unary_backward", dout, x);
  NEWSRL_CALL(unary_backward, x.device(), u, dx, dout, x);
}

void softmax_forward(Tensor& out, const Tensor& x, bool log) {
  same_device("softmax_forward", DType::f32, {&out, &x});
  same_shape("softmax_forward", out, x);
  NEWSRL_CALL(softmax_forward, x.device(), out, x, log);
}

void softmax_backward(Tensor& dx, const Tensor& dout, const Tensor& out, bool log) {
  same_device("softmax_backward", DType::f32, {&dx, &dout, &out});
  same_shape("softmax_backward", dx, out);
  same_shape("softmax_backward", dout, out);
  NEWSRL_CALL(softmax_backward, out.device(), dx, dout, out, log);
}

namespace {
void check_cross_entropy(const char* op, const Tensor& losses, const Tensor& lse, const Tensor& logits,
                         const Tensor& targets) {
  NEWSRL_NEED(logits.ndim() == 2, op, "logits " + logits.str() + " should be [tokens, vocab]");
  NEWSRL_NEED(targets.defined() && targets.dtype() == DType::i32 && targets.numel() == logits.dim(0) &&
                  targets.device() == logits.device(),
              op, "targets should be int32, one per row of " + logits.str() + ", on its device");
  NEWSRL_NEED(losses.numel() == logits.dim(0) && lse.numel() == logits.dim(0), op,
              "losses and lse need one value per row");
}
}  // namespace

void cross_entropy_forward(Tensor& losses, Tensor& lse, const Tensor& logits, const Tensor& targets) {
  const char* op = "cross_entropy_forward";
  same_device(op, DType::f32, {&losses, &lse, &logits});
  check_cross_entropy(op, losses, lse, logits, targets);
  NEWSRL_CALL(cross_entropy_forward, logits.device(), losses, lse, logits, targets);
}

void cross_entropy_backward(Tensor& dlogits, const Tensor& dlosses, const Tensor& logits, const Tensor& lse,
                            const Tensor& targets) {
  const char* op = "cross_entropy_backward";
  same_device(op, DType::f32, {&dlogits, &dlosses, &logits, &lse});
  check_cross_entropy(op, dlosses, lse, logits, targets);
  same_shape(op, dlogits, logits);
  NEWSRL_CALL(cross_entropy_backward, logits.device(), dlogits, dlosses, logits, lse, targets);
}

namespace {
void check_policy(const char* op, const Tensor& out, const Tensor& logp, const Tensor& old_logp, const Tensor& adv,
                  const Tensor& ref_logp, const PolicyClip& clip) {
  same_device(op, DType::f32, {&out, &logp, &old_logp, &adv});
  const std::int64_t n = logp.numel();
  NEWSRL_NEED(out.numel() == n && old_logp.numel() == n && adv.numel() == n, op,
              "logp " + logp.str() + ", old_logp " + old_logp.str() + ", adv " + adv.str() + " and " + out.str() +
                  " should hold one value per token");
  NEWSRL_NEED(clip.low >= 0 && clip.low < 1 && clip.high >= 0 && clip.beta >= 0, op,
              "clip.low in [0, 1), clip.high and beta non-negative");
  if (clip.beta > 0) {
    same_device(op, DType::f32, {&logp, &ref_logp});
    NEWSRL_NEED(ref_logp.numel() == n, op, "ref_logp " + ref_logp.str() + " should hold one value per token");
  }
}
}  // namespace

void policy_loss_forward(Tensor& losses, const Tensor& logp, const Tensor& old_logp, const Tensor& adv,
                         const Tensor& ref_logp, const PolicyClip& clip) {
  check_policy("policy_loss_forward", losses, logp, old_logp, adv, ref_logp, clip);
  NEWSRL_CALL(policy_loss_forward, logp.device(), losses, logp, old_logp, adv, ref_logp, clip);
}

void policy_loss_backward(Tensor& dlogp, const Tensor& dlosses, const Tensor& logp, const Tensor& old_logp,
                          const Tensor& adv, const Tensor& ref_logp, const PolicyClip& clip) {
  check_policy("policy_loss_backward", dlogp, logp, old_logp, adv, ref_logp, clip);
  same_shape("policy_loss_backward", dlosses, dlogp);
  NEWSRL_CALL(policy_loss_backward, logp.device(), dlogp, dlosses, logp, old_logp, adv, ref_logp, clip);
}

void dropout_forward(Tensor& out, Tensor& mask, const Tensor& x, float p, std::uint64_t seed) {
  same_device("dropout_forward", DType::f32, {&out, &mask, &x});
  same_shape("dropout_forward", out, x);
  same_shape("dropout_forward", mask, x);
  NEWSRL_NEED(p >= 0.0f && p < 1.0f, "dropout_forward", "p = " + std::to_string(p) + " should be in [0, 1)");
  NEWSRL_CALL(dropout_forward, x.device(), out, mask, x, p, seed);
}

void dropout_backward(Tensor& dx, const Tensor& dout, const Tensor& mask) {
  same_device("dropout_backward", DType::f32, {&dx, &dout, &mask});
  same_shape("dropout_backward", dx, dout);
  same_shape("dropout_backward", mask, dout);
  NEWSRL_CALL(dropout_backward, dout.device(), dx, dout, mask);
}

void add(Tensor& out, const Tensor& a, const Tensor& b) {
  same_device("add", DType::f32, {&out, &a, &b});
  same_shape("add", a, b);
  same_shape("add", out, a);
  NEWSRL_CALL(add, a.device(), out, a, b);
}

void mul(Tensor& out, const Tensor& a, const Tensor& b) {
  same_device("mul", DType::f32, {&out, &a, &b});
  same_shape("mul", a, b);
  same_shape("mul", out, a);
  NEWSRL_CALL(mul, a.device(), out, a, b);
}

void accumulate(Tensor& y, const Tensor& x, float alpha) {
  same_device("accumulate", DType::f32, {&y, &x});
  NEWSRL_NEED(y.numel() == x.numel(), "accumulate", y.str() + " and " + x.str() + " differ in size");
  NEWSRL_CALL(accumulate, x.device(), y, x, alpha);
}

void scale(Tensor& x, float s) {
  same_device("scale", DType::f32, {&x});
  NEWSRL_CALL(scale, x.device(), x, s);
}

void fill(Tensor& x, float value) {
  same_device("fill", DType::f32, {&x});
  NEWSRL_CALL(fill, x.device(), x, value);
}

void copy(Tensor& dst, const Tensor& src) {
  NEWSRL_NEED(dst.defined() && src.defined() && dst.device() == src.device(), "copy",
              "both tensors defined, on one device");
  NEWSRL_NEED(dst.numel() == src.numel(), "copy", dst.str() + " and " + src.str() + " differ in size");
  NEWSRL_NEED(dst.dtype() == src.dtype() || (dst.dtype() != DType::i32 && src.dtype() != DType::i32), "copy",
              "casts only between float32 and bfloat16");
  NEWSRL_CALL(copy, src.device(), dst, src);
}

double sum_squares(const Tensor& x) {
  same_device("sum_squares", DType::f32, {&x});
  return NEWSRL_CALL(sum_squares, x.device(), x);
}

double sum_squares(const std::vector<const Tensor*>& xs) {
  if (xs.empty()) return 0.0;
  for (const Tensor* x : xs) same_device("sum_squares", DType::f32, {xs.front(), x});
  return NEWSRL_CALL(sum_squares_list, xs.front()->device(), xs);
}

void argmax_rows(Tensor& ids, Tensor& logprobs, const Tensor& logits) {
  const char* op = "argmax_rows";
  same_device(op, DType::f32, {&logprobs, &logits});
  NEWSRL_NEED(ids.defined() && ids.dtype() == DType::i32 && ids.device() == logits.device(), op,
              "ids should be int32 on the logits' device");
  NEWSRL_NEED(logits.ndim() >= 1 && logits.dim(-1) >= 1, op, "logits " + logits.str() + " have no columns");
  check_rows(op, logits, ids, "ids");
  check_rows(op, logits, logprobs, "logprobs");
  NEWSRL_CALL(argmax_rows, logits.device(), ids, logprobs, logits);
}

void sample_rows(Tensor& ids, Tensor& logprobs, const Tensor& logits, const Tensor& uniforms,
                 const SampleParams& params) {
  const char* op = "sample_rows";
  same_device(op, DType::f32, {&logprobs, &logits, &uniforms});
  NEWSRL_NEED(ids.defined() && ids.dtype() == DType::i32 && ids.device() == logits.device(), op,
              "ids should be int32 on the logits' device");
  NEWSRL_NEED(logits.ndim() >= 1 && logits.dim(-1) >= 1, op, "logits " + logits.str() + " have no columns");
  // Each row's units must fit 64 bits: 2^40 per token at most.
  NEWSRL_NEED(logits.dim(-1) <= (std::int64_t{1} << 23), op, "logits " + logits.str() + ": more than 2^23 columns");
  check_rows(op, logits, ids, "ids");
  check_rows(op, logits, logprobs, "logprobs");
  check_rows(op, logits, uniforms, "uniforms");
  NEWSRL_NEED(params.temperature > 0.0f, op, "temperature must be positive (greedy picks: argmax_rows)");
  NEWSRL_NEED(params.top_k >= 0, op, "top_k must not be negative");
  NEWSRL_NEED(params.top_p > 0.0f && params.top_p <= 1.0f, op, "top_p must be in (0, 1]");
  NEWSRL_CALL(sample_rows, logits.device(), ids, logprobs, logits, uniforms, params);
}

void adamw_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamW& hp, std::int64_t step) {
  const char* op = "adamw_step";
  same_device(op, DType::f32, {&param, &grad, &m, &v});
  same_shape(op, param, grad);
  same_shape(op, param, m);
  same_shape(op, param, v);
  NEWSRL_NEED(step >= 1, op, "step counts from 1");
  NEWSRL_CALL(adamw_step, param.device(), param, grad, m, v, hp, step);
}

}  // namespace newsrl::kernels
