// Reverse-mode autograd: a Graph records each op's output and a closure that
// carries gradients back to the op's inputs; backward() runs the closures in
// reverse order. Gradients accumulate (the kernels' backward convention), so
// a value used twice receives both contributions. Tensors come from the
// kernels' storage cache: a training step that repeats its shapes allocates
// nothing once warm.
#pragma once

#include <functional>
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
  Value record(Tensor out, std::initializer_list<Value> inputs, std::function<void(const Tensor& dy)> backward);

  // d loss / d every value, seeded with d loss = 1 (loss must hold one element).
  void backward(Value loss);
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
    std::function<void(const Tensor&)> backward;
  };
  std::vector<Node> nodes_;
};

}  // namespace newsrl::models
