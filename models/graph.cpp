#include "models/graph.h"

#include <stdexcept>

namespace newsrl::models {

Parameter::Parameter(std::string n, Tensor v) : name(std::move(n)), value(std::move(v)) {
  grad = Tensor::zeros(value.shape(), value.dtype(), value.device());
}

void Parameter::zero_grad() { kernels::fill(grad, 0.0f); }

const Tensor& Value::tensor() const { return graph_->tensor(*this); }
bool Value::requires_grad() const { return graph_->requires_grad(*this); }

Value Graph::constant(Tensor t) {
  nodes_.push_back(Node{std::move(t), {}, false, nullptr, BackwardFn()});
  return Value(this, static_cast<int>(nodes_.size()) - 1);
}

Value Graph::param(Parameter& p) {
  nodes_.push_back(Node{p.value, p.grad, true, &p, BackwardFn()});
  return Value(this, static_cast<int>(nodes_.size()) - 1);
}

Value Graph::record(Tensor out, std::initializer_list<Value> inputs, BackwardFn backward) {
  bool needs = false;
  for (const Value& v : inputs) needs = needs || (v.defined() && requires_grad(v));
  if (!needs) backward.reset();
  nodes_.push_back(Node{std::move(out), {}, needs, nullptr, std::move(backward)});
  return Value(this, static_cast<int>(nodes_.size()) - 1);
}

Tensor& Graph::grad(Value v) {
  Node& n = nodes_[static_cast<std::size_t>(v.id_)];
  if (!n.requires_grad) throw std::logic_error("gradient of a value that does not require one");
  if (!n.grad.defined()) n.grad = Tensor::zeros(n.value.shape(), n.value.dtype(), n.value.device());
  return n.grad;
}

void Graph::backward(Value loss) {
  Node& l = nodes_[static_cast<std::size_t>(loss.id_)];
  if (l.value.numel() != 1) throw std::invalid_argument("backward() needs a scalar loss, got " + l.value.str());
  if (!l.requires_grad) throw std::logic_error("backward() of a loss that depends on no parameter");
  kernels::fill(grad(loss), 1.0f);
  run_backward();
}

void Graph::backward(Value out, const Tensor& seed) {
  Node& o = nodes_[static_cast<std::size_t>(out.id_)];
  if (!(seed.shape() == o.value.shape())) {
    throw std::invalid_argument("backward(): seed " + seed.str() + " should be shaped like " + o.value.str());
  }
  if (!o.requires_grad) throw std::logic_error("backward() of a value that depends on no parameter");
  kernels::copy(grad(out), seed);
  run_backward();
}

void Graph::run_backward() {
  for (std::size_t i = nodes_.size(); i-- > 0;) {
    if (nodes_[i].backward && nodes_[i].grad.defined()) nodes_[i].backward(nodes_[i].grad);
  }
}

}  // namespace newsrl::models
