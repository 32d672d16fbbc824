#include "models/optimizer.h"

#include <cmath>
#include <stdexcept>

namespace newsrl::models {

float Schedule::at(std::int64_t step) const {
  if (step <= 0) throw std::invalid_argument("schedule steps count from 1");
  if (warmup_steps > 0 && step <= warmup_steps) {
    return peak_lr * static_cast<float>(step) / static_cast<float>(warmup_steps);
  }
  const std::int64_t decay = std::max<std::int64_t>(1, total_steps - warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(decay));
  return static_cast<float>(min_lr + 0.5 * (peak_lr - min_lr) * (1.0 + std::cos(M_PI * progress)));
}

double global_grad_norm(const std::vector<Parameter*>& params) {
  std::vector<const kernels::Tensor*> grads;
  grads.reserve(params.size());
  for (const Parameter* p : params) grads.push_back(&p->grad);
  return std::sqrt(kernels::sum_squares(grads));
}

Optimizer::Optimizer(std::vector<Parameter*> params, kernels::AdamW hp, Schedule schedule, float clip_norm)
    : params_(std::move(params)), hp_(hp), schedule_(schedule), clip_norm_(clip_norm) {
  for (const Parameter* p : params_) {
    m_.push_back(Tensor::zeros(p->value.shape(), p->value.dtype(), p->value.device()));
    v_.push_back(Tensor::zeros(p->value.shape(), p->value.dtype(), p->value.device()));
    grads_.push_back(&p->grad);
  }
}

double Optimizer::step() {
  // One call for all gradients: on a GPU, one wait instead of one per parameter.
  const double norm = std::sqrt(kernels::sum_squares(grads_));
  if (!std::isfinite(norm)) {
    throw std::runtime_error("gradient norm is " + std::to_string(norm) + " at step " + std::to_string(step_ + 1));
  }
  if (clip_norm_ > 0.0f && norm > clip_norm_) {
    const float s = static_cast<float>(clip_norm_ / (norm + 1e-6));
    for (Parameter* p : params_) kernels::scale(p->grad, s);
  }
  ++step_;
  kernels::AdamW hp = hp_;
  hp.lr = last_lr_ = schedule_.at(step_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    kernels::adamw_step(params_[i]->value, params_[i]->grad, m_[i], v_[i], hp, step_);
  }
  return norm;
}

}  // namespace newsrl::models
