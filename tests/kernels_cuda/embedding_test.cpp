// Embedding lookup and its backward on the GPU against the CPU table. Both
// add the positions of one id in position order, so even the backward, with
// many repeated ids, must agree bit for bit; a bad id throws before writing.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

Tensor random_ids(std::int64_t n, std::int32_t vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> id(0, vocab - 1);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (auto& v : ids) v = id(rng);
  return Tensor::from(ids, Shape{n});
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  const Tensor x = on_cpu(a), y = on_cpu(b);
  return x.bytes() == y.bytes() && std::memcmp(x.raw(), y.raw(), x.bytes()) == 0;
}

struct Case {
  std::int64_t vocab, dim, n;
  std::int32_t id_range;  // ids drawn from [0, id_range): small ranges repeat ids often
};

TEST(CudaEmbedding, ForwardAndBackwardMatchCpuBitForBit) {
  NEWSRL_REQUIRE_GPU();
  // A Qwen-sized vocabulary with a narrow dim; odd dims; 3000 positions over 7 ids.
  for (const Case& c : {Case{1000, 64, 300, 50}, Case{5003, 33, 1500, 5003}, Case{151936, 8, 2000, 151936},
                        Case{97, 257, 3000, 7}}) {
    const std::string what = "vocab " + std::to_string(c.vocab) + " dim " + std::to_string(c.dim);
    const Tensor table = random_tensor(Shape{c.vocab, c.dim}, 1, -1, 1);
    const Tensor ids = random_ids(c.n, c.id_range, 2);
    Tensor out = Tensor::empty(Shape{c.n, c.dim});
    Tensor gout = Tensor::empty(Shape{c.n, c.dim}, DType::f32, Device::cuda);
    embedding_forward(out, table, ids);
    embedding_forward(gout, on_gpu(table), on_gpu(ids));
    EXPECT_TRUE(same_bytes(gout, out)) << what << " forward";

    const Tensor dout = random_tensor(Shape{c.n, c.dim}, 3, -1, 1);
    const Tensor dtable0 = random_tensor(Shape{c.vocab, c.dim}, 4, -1, 1);
    Tensor dtable = dtable0.clone(), gdtable = on_gpu(dtable0);
    embedding_backward(dtable, dout, ids);
    embedding_backward(gdtable, on_gpu(dout), on_gpu(ids));
    EXPECT_TRUE(same_bytes(gdtable, dtable)) << what << " backward";
    expect_close(gdtable, dtable, 0, 0, (what + " backward").c_str());
  }
}

TEST(CudaEmbedding, BadIdThrowsOneLineAndWritesNothing) {
  NEWSRL_REQUIRE_GPU();
  const Tensor table = random_tensor(Shape{100, 16}, 5, -1, 1);
  const Tensor ids = Tensor::from(std::vector<std::int32_t>{3, 99, 100, 4, -1}, Shape{5});
  const Tensor before = random_tensor(Shape{5, 16}, 6, -1, 1);
  Tensor gout = on_gpu(before);
  try {
    embedding_forward(gout, on_gpu(table), on_gpu(ids));
    FAIL() << "an id outside the vocabulary was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("id 100 at position 2"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(same_bytes(gout, before));

  Tensor gdtable = on_gpu(table);
  EXPECT_THROW(embedding_backward(gdtable, on_gpu(before), on_gpu(ids)), std::invalid_argument);
  EXPECT_TRUE(same_bytes(gdtable, table));
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
