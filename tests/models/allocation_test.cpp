// A training step that repeats its shapes allocates no memory once warm: the
// tensors' storage comes from the cache, the graph keeps its capacity, and
// recorded backward closures live inside the graph's nodes.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "models/causal_lm.h"
#include "models/optimizer.h"

// GCC pairs the replaced operator new below with std::free and warns; they do match.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

// Counts every allocation made while g_counting is set (this test binary only).
void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace newsrl;
using namespace newsrl::models;

TEST(Allocation, ASteadyTrainingStepAllocatesNothing) {
  CausalLM m(Qwen2Config::preset("nano"));
  m.init(1);
  std::vector<std::int32_t> ids(2 * 16);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>((i * 5 + 1) % 1000);
  const Tensor x = Tensor::from(ids, {2, 16});
  Optimizer opt(m.parameters(), kernels::AdamW{1e-3f, 0.9f, 0.95f, 1e-8f, 0.0f}, Schedule{1e-3f, 1e-4f, 0, 10}, 1.0f);
  Graph g;
  auto step = [&] {
    g.clear();
    m.zero_grad();
    Value loss = m.loss(g, x, x);
    g.backward(loss);
    opt.step();
  };
  step();
  step();  // warm: caches filled
  g_allocations = 0;
  g_counting = true;
  step();
  step();
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0) << "allocations in two steady training steps";
}
