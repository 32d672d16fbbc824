// Embedding lookup and its scatter-add backward against naive references, by finite differences, with repeated
// ids, out-of-range ids, and the same bits whatever the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>

#include "gradcheck.h"

using namespace newsrl::kernels;
using namespace newsrl::kernels::testing;

namespace {

Tensor ids_of(const std::vector<std::int32_t>& v, const Shape& shape) { return Tensor::from(v, shape); }

// out[i, :] = table[ids[i], :]
std::vector<double> reference_forward(const Tensor& table, const Tensor& ids) {
  const std::int64_t dim = table.dim(1);
  std::vector<double> out;
  for (std::int32_t id : ids.to_vector<std::int32_t>()) {
    for (std::int64_t j = 0; j < dim; ++j) out.push_back(table.data<float>()[id * dim + j]);
  }
  return out;
}

// start + the scatter of dout by ids, in double.
std::vector<double> reference_backward(const Tensor& start, const Tensor& dout, const Tensor& ids) {
  const std::int64_t dim = start.dim(1);
  std::vector<double> d(start.data<float>(), start.data<float>() + start.numel());
  const auto id = ids.to_vector<std::int32_t>();
  for (std::size_t i = 0; i < id.size(); ++i) {
    for (std::int64_t j = 0; j < dim; ++j) {
      d[static_cast<std::size_t>(id[i] * dim + j)] += dout.data<float>()[static_cast<std::int64_t>(i) * dim + j];
    }
  }
  return d;
}

// The message of the std::invalid_argument that fn throws, or "" when it throws none.
template <class Fn>
std::string invalid_argument_of(Fn fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Embedding, ForwardGathersRowsForSeveralLeadingDims) {
  const Tensor table = random_tensor({10, 8}, 1);
  const Tensor ids = ids_of({3, 0, 9, 3, 7, 1}, {2, 3});
  Tensor out = Tensor::empty({2, 3, 8});
  embedding_forward(out, table, ids);
  expect_close(out, reference_forward(table, ids), 0, 0, "embedding out");
}

TEST(Embedding, BackwardScattersRepeatedIdsAndAddsIntoTheGradient) {
  const Tensor ids = ids_of({4, 1, 4, 0, 4, 1}, {2, 3});
  const Tensor dout = random_tensor({2, 3, 8}, 2);
  const Tensor start = random_tensor({6, 8}, 3);  // a gradient that already holds something
  Tensor dtable = start.clone();
  embedding_backward(dtable, dout, ids);
  expect_close(dtable, reference_backward(start, dout, ids), 1e-6, 1e-6, "embedding dtable");
  // Rows no id points at keep what they held.
  for (std::int64_t j = 0; j < 8; ++j) {
    EXPECT_EQ(dtable.data<float>()[2 * 8 + j], start.data<float>()[2 * 8 + j]);
    EXPECT_EQ(dtable.data<float>()[5 * 8 + j], start.data<float>()[5 * 8 + j]);
  }
}

TEST(Embedding, GradientOfTheTableByFiniteDifferences) {
  const Tensor ids = ids_of({2, 5, 2, 0, 2, 6}, {2, 3});
  GradCheck g;
  g.inputs = {random_tensor({7, 4}, 4)};
  g.names = {"table"};
  g.forward = [ids](const std::vector<Tensor>& in) {
    Tensor out = Tensor::empty({2, 3, 4});
    embedding_forward(out, in[0], ids);
    return out;
  };
  g.backward = [ids](const std::vector<Tensor>&, const Tensor& dy, std::vector<Tensor>& grads) {
    embedding_backward(grads[0], dy, ids);
  };
  g.run();
}

TEST(Embedding, AnIdOutsideTheVocabularyIsNamedAndNothingIsWritten) {
  const Tensor table = random_tensor({64, 4}, 5);
  Tensor out = Tensor::zeros({5, 4});
  EXPECT_EQ(invalid_argument_of([&] {
              embedding_forward(out, table, ids_of({1, 2, 3, 70, 4}, {5}));
            }),
            "embedding_forward: id 70 at position 3 is outside the vocabulary of 64");
  EXPECT_EQ(invalid_argument_of([&] {
              embedding_forward(out, table, ids_of({1, -1, 3, 2, 4}, {5}));
            }),
            "embedding_forward: id -1 at position 1 is outside the vocabulary of 64");
  for (float v : out.to_vector<float>()) EXPECT_EQ(v, 0.0f);

  Tensor dtable = Tensor::zeros({64, 4});
  const Tensor dout = random_tensor({5, 4}, 6);
  EXPECT_EQ(invalid_argument_of([&] {
              embedding_backward(dtable, dout, ids_of({0, 1, 2, 3, 64}, {5}));
            }),
            "embedding_backward: id 64 at position 4 is outside the vocabulary of 64");
  for (float v : dtable.to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(Embedding, SameBitsWithOneAndTwoThreads) {
  // Many positions over few ids, so that every table row gathers many additions.
  const std::int64_t n = 1000, vocab = 37, dim = 24;
  std::vector<std::int32_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(static_cast<std::int32_t>((i * i + 3 * i) % vocab));
  const Tensor ids = ids_of(v, {10, 100});
  const Tensor table = random_tensor({vocab, dim}, 7), dout = random_tensor({10, 100, dim}, 8);
  const Tensor start = random_tensor({vocab, dim}, 9);
  auto run = [&](int threads, Tensor& out, Tensor& dtable) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    out = Tensor::empty({10, 100, dim});
    embedding_forward(out, table, ids);
    dtable = start.clone();
    embedding_backward(dtable, dout, ids);
    omp_set_num_threads(before);
  };
  Tensor out1, dtable1, out2, dtable2;
  run(1, out1, dtable1);
  run(2, out2, dtable2);
  EXPECT_EQ(std::memcmp(out1.raw(), out2.raw(), out1.bytes()), 0);
  EXPECT_EQ(std::memcmp(dtable1.raw(), dtable2.raw(), dtable1.bytes()), 0);
  expect_close(dtable1, reference_backward(start, dout, ids), 1e-5, 1e-5, "embedding dtable");
}
