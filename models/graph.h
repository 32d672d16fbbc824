// Reverse-mode autograd: a Graph records each op's output and a closure that
// carries gradients back to the op's inputs; backward() runs the closures in
// reverse order. Gradients accumulate (the kernels' backward convention), so
// a value used twice receives both contributions. Tensors come from the
// kernels' storage cache: a training step that repeats its shapes allocates
// nothing once warm.
#pragma once

#include <new>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace newsrl::models {

using kernels::Shape;
using kernels::Tensor;

// A trainable tensor and its gradient, named as in Hugging Face checkpoints.
struct Parameter {
  std::string name;
  Tensor value;
  Tensor grad;  // allocated with the parameter, zeroed by zero_grad()
  Parameter(std::string n, Tensor v);
  void zero_grad();
};

class Graph;

// An op's recorded backward: its closure lives inside the graph's node, not on
// the heap, so that a training step allocates nothing once the graph has its
// capacity. Closures up to kInline bytes fit (the largest, the policy loss, is 368).
class BackwardFn {
 public:
  static constexpr std::size_t kInline = 384;
  BackwardFn() = default;
  template <class F>
  BackwardFn(F f) {  // NOLINT: converts from any closure
    static_assert(sizeof(F) <= kInline, "backward closure too large for BackwardFn::kInline");
    static_assert(alignof(F) <= 16, "backward closure over-aligned");
    new (buffer_) F(std::move(f));
    call_ = [](void* p, const Tensor& dy) { (*static_cast<F*>(p))(dy); };
    relocate_ = [](void* to, void* from) {
      if (to != nullptr) new (to) F(std::move(*static_cast<F*>(from)));
      static_cast<F*>(from)->~F();
    };
  }
  BackwardFn(BackwardFn&& o) noexcept { take(o); }
  BackwardFn& operator=(BackwardFn&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  BackwardFn(const BackwardFn&) = delete;
  BackwardFn& operator=(const BackwardFn&) = delete;
  ~BackwardFn() { reset(); }
  explicit operator bool() const { return call_ != nullptr; }
  void operator()(const Tensor& dy) { call_(buffer_, dy); }
  void reset() {
    if (relocate_ != nullptr) relocate_(nullptr, buffer_);
    call_ = nullptr;
    relocate_ = nullptr;
  }

 private:
  void take(BackwardFn& o) {
    if (o.relocate_ != nullptr) o.relocate_(buffer_, o.buffer_);
    call_ = o.call_;
    relocate_ = o.relocate_;
    o.call_ = nullptr;
    o.relocate_ = nullptr;
  }
  alignas(16) unsigned char buffer_[kInline];
  void (*call_)(void*, const Tensor&) = nullptr;
  void (*relocate_)(void* to, void* from) = nullptr;  // move into `to` (if any), destroy `from`
};

// A value in a graph: a handle, cheap to copy.
class Value {
 public:
  Value() = default;
  const Tensor& tensor() const;
  const Shape& shape() const { return tensor().shape(); }
  bool requires_grad() const;
  bool defined() const { return graph_ != nullptr; }

 private:
  friend class Graph;
  Value(Graph* g, int id) : graph_(g), id_(id) {}
  Graph* graph_ = nullptr;
  int id_ = -1;
};

class Graph {
 public:
  // A constant: no gradient flows into it.
  Value constant(Tensor t);
  // A parameter: gradients add into p.grad.
  Value param(Parameter& p);
  // An op's output; `backward(dy)` adds the gradient dy of the output into its
  // inputs' grads. Kept only when some input requires a gradient.
  Value record(Tensor out, std::initializer_list<Value> inputs, BackwardFn backward);

  // d loss / d every value, seeded with d loss = 1 (loss must hold one element).
  void backward(Value loss);
  // The same from any value, seeded with d out = seed (shaped like out): how
  // a recomputed block (CausalLM::set_recompute) carries its output's
  // gradient back through the ops it ran again.
  void backward(Value out, const Tensor& seed);
  // The gradient of a value requiring one (zeros until backward fills it).
  Tensor& grad(Value v);
  bool requires_grad(Value v) const { return nodes_[static_cast<std::size_t>(v.id_)].requires_grad; }
  const Tensor& tensor(Value v) const { return nodes_[static_cast<std::size_t>(v.id_)].value; }
  // Forgets every recorded value (keeps capacity for the next step).
  void clear() { nodes_.clear(); }
  std::size_t size() const { return nodes_.size(); }

 private:
  struct Node {
    Tensor value;
    Tensor grad;
    bool requires_grad = false;
    Parameter* param = nullptr;
    BackwardFn backward;
  };
  void run_backward();
  std::vector<Node> nodes_;
};

}  // namespace newsrl::models
