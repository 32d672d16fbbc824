// Training a set of parameters: AdamW (decoupled weight decay) with
// global-norm gradient clipping and a warm-up + cosine learning-rate schedule.
#pragma once

#include <cstdint>
#include <vector>

#include "models/graph.h"

namespace newsrl::models {

struct Schedule {
  float peak_lr = 3e-4f;
  float min_lr = 3e-5f;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;  // cosine decay ends here, then stays at min_lr

  // The learning rate of a step (counting from 1): linear warm-up to peak_lr,
  // then half a cosine down to min_lr.
  float at(std::int64_t step) const;
};

class Optimizer {
 public:
  Optimizer(std::vector<Parameter*> params, kernels::AdamW hp, Schedule schedule, float clip_norm = 1.0f);

  // Clips the gradients to clip_norm (0: no clipping) and takes one AdamW step
  // at the schedule's rate; returns the gradient norm before clipping.
  double step();
  std::int64_t steps_taken() const { return step_; }
  // Resuming from a checkpoint: the steps already taken (the moments are
  // restored through first_moments() / second_moments()).
  void restore_steps(std::int64_t steps) { step_ = steps; }
  float last_lr() const { return last_lr_; }
  // The moments, in parameter order (for checkpoints).
  std::vector<Tensor>& first_moments() { return m_; }
  std::vector<Tensor>& second_moments() { return v_; }

 private:
  std::vector<Parameter*> params_;
  kernels::AdamW hp_;
  Schedule schedule_;
  float clip_norm_;
  std::vector<Tensor> m_, v_;
  std::vector<const Tensor*> grads_;  // made once: a step allocates nothing
  std::int64_t step_ = 0;
  float last_lr_ = 0.0f;
};

// sqrt of the sum of squares of every parameter's gradient.
double global_grad_norm(const std::vector<Parameter*>& params);

}  // namespace newsrl::models
