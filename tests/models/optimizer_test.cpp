// The learning-rate schedule's shape, global-norm clipping, and a model that
// learns: the loss of a tiny LM falls on a repeated batch.
#include "models/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "models/causal_lm.h"

using namespace newsrl;
using namespace newsrl::models;

TEST(Schedule, WarmsUpThenFollowsHalfACosine) {
  Schedule s{1.0f, 0.1f, 10, 110};
  EXPECT_FLOAT_EQ(s.at(1), 0.1f);
  EXPECT_FLOAT_EQ(s.at(10), 1.0f);
  EXPECT_NEAR(s.at(60), 0.55f, 1e-6);  // halfway down
  EXPECT_FLOAT_EQ(s.at(110), 0.1f);
  EXPECT_FLOAT_EQ(s.at(500), 0.1f);
  EXPECT_THROW(s.at(0), std::invalid_argument);
}

TEST(Optimizer, ClipsTheGlobalNormAndReportsItBeforeClipping) {
  Parameter a("a", Tensor::from(std::vector<float>{0, 0}, {2})), b("b", Tensor::from(std::vector<float>{0}, {1}));
  a.grad = Tensor::from(std::vector<float>{3, 0}, {2});
  b.grad = Tensor::from(std::vector<float>{4}, {1});
  Optimizer opt({&a, &b}, kernels::AdamW{0.0f, 0.9f, 0.999f, 1e-8f, 0.0f}, Schedule{0.0f, 0.0f, 0, 1}, 1.0f);
  EXPECT_DOUBLE_EQ(opt.step(), 5.0);
  EXPECT_NEAR(global_grad_norm({&a, &b}), 1.0, 1e-5);
  EXPECT_NEAR(a.grad.to_vector<float>()[0], 0.6f, 1e-5);
}

TEST(Optimizer, ATinyModelLearnsARepeatedBatch) {
  CausalLM m(Qwen2Config::preset("nano"));
  m.init(1);
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 2 * 16; ++i) ids.push_back((i * 7 + 3) % 50);
  const Tensor x = Tensor::from(ids, {2, 16});
  Optimizer opt(m.parameters(), kernels::AdamW{0, 0.9f, 0.95f, 1e-8f, 0.0f}, Schedule{3e-3f, 3e-4f, 5, 60}, 1.0f);
  Graph g;
  float first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    g.clear();
    m.zero_grad();
    Value loss = m.loss(g, x, x);
    last = loss.tensor().to_vector<float>()[0];
    if (step == 0) first = last;
    g.backward(loss);
    opt.step();
  }
  EXPECT_NEAR(first, std::log(1024.0f), 0.1f);  // uniform over the vocabulary at the start
  EXPECT_LT(last, 0.2f * first);
}
