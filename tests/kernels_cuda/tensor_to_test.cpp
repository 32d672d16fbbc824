// Device memory and copies: Tensor::to between host and GPU keeps every byte,
// zeros/clone/slice work on GPU tensors, and the op entry points refuse
// tensors on mixed devices.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.bytes() == b.bytes() && std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

TEST(CudaTensor, RoundTripKeepsEveryByte) {
  NEWSRL_REQUIRE_GPU();
  const Tensor f = random_tensor({3, 5, 7}, 1, -100.0f, 100.0f);
  std::vector<bf16> halves;
  std::vector<std::int32_t> ints;
  for (float x : f.to_vector<float>()) {
    halves.push_back(bf16::from_float(x));
    ints.push_back(static_cast<std::int32_t>(x * 1000.0f));
  }
  for (const Tensor& host : {f, Tensor::from(halves, f.shape()), Tensor::from(ints, f.shape())}) {
    const Tensor gpu = on_gpu(host);
    EXPECT_EQ(gpu.device(), Device::cuda);
    EXPECT_EQ(gpu.shape(), host.shape());
    EXPECT_EQ(gpu.dtype(), host.dtype());
    const Tensor back = on_cpu(gpu);
    EXPECT_EQ(back.device(), Device::cpu);
    EXPECT_TRUE(same_bytes(back, host)) << host.str();
  }
}

TEST(CudaTensor, ZerosCloneAndSlicesOnTheGpu) {
  NEWSRL_REQUIRE_GPU();
  // A block that goes back to the cache and comes out again must be zeroed anew.
  { const Tensor dirty = on_gpu(random_tensor({64, 33}, 2)); }
  const Tensor zeros = Tensor::zeros({64, 33}, DType::f32, Device::cuda);
  for (float x : zeros.to_vector<float>()) ASSERT_EQ(x, 0.0f);

  const Tensor host = random_tensor({10, 4}, 3);
  const Tensor gpu = on_gpu(host);
  const Tensor copy = gpu.clone();
  EXPECT_EQ(copy.device(), Device::cuda);
  EXPECT_NE(copy.raw(), gpu.raw());
  EXPECT_TRUE(same_bytes(on_cpu(copy), host));
  EXPECT_TRUE(same_bytes(on_cpu(gpu.slice(2, 7)), host.slice(2, 7).clone()));
  EXPECT_EQ(gpu.to_vector<float>(), host.to_vector<float>());
}

TEST(CudaTensor, ToItsOwnDeviceSharesTheStorage) {
  NEWSRL_REQUIRE_GPU();
  const Tensor host = random_tensor({4, 4}, 4);
  EXPECT_EQ(host.to(Device::cpu).raw(), host.raw());
  const Tensor gpu = on_gpu(host);
  EXPECT_EQ(gpu.to(Device::cuda).raw(), gpu.raw());
}

TEST(CudaTensor, OpsRefuseTensorsOnMixedDevices) {
  NEWSRL_REQUIRE_GPU();
  const Tensor a = on_gpu(random_tensor({4, 8}, 5));
  const Tensor b = random_tensor({8, 3}, 6);
  Tensor c = Tensor::empty({4, 3}, DType::f32, Device::cuda);
  EXPECT_THROW(matmul(c, a, b), std::invalid_argument);
  Tensor y = Tensor::empty({4, 8});
  EXPECT_THROW(add(y, a, a), std::invalid_argument);
  const Tensor ids = Tensor::from(std::vector<std::int32_t>{0, 1}, {2});
  Tensor out = Tensor::empty({2, 8}, DType::f32, Device::cuda);
  EXPECT_THROW(embedding_forward(out, a, ids), std::invalid_argument);
}

TEST(CudaTensor, WithoutAGpuAllocatingSaysSoInOneLine) {
  if (gpu_available()) GTEST_SKIP() << "a GPU is here";
  try {
    (void)Tensor::empty({4}, DType::f32, Device::cuda);
    FAIL() << "allocated on a GPU that is not there";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find(" bytes on the GPU: "), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
