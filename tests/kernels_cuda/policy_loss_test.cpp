// The clipped policy loss of the CUDA op table against the CPU table, forward
// and backward, with ratios on both sides of the clip range, advantages of
// both signs, and with and without the KL term to a reference policy.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

TEST(CudaPolicyLoss, ForwardAndBackwardMatchCpu) {
  NEWSRL_REQUIRE_GPU();
  const std::int64_t n = 4099;
  const Shape s{n};
  const Tensor logp = random_tensor(s, 600, -5, -0.01f);
  // old_logp within +-0.6 of logp: ratios from about 0.55 to 1.8, many clipped.
  std::vector<float> old = logp.to_vector<float>();
  const std::vector<float> shift = random_tensor(s, 601, -0.6f, 0.6f).to_vector<float>();
  for (std::size_t i = 0; i < old.size(); ++i) old[i] += shift[i];
  const Tensor old_logp = Tensor::from(old, s);
  const Tensor adv = random_tensor(s, 602, -2, 2), ref = random_tensor(s, 603, -5, -0.01f);
  const Tensor glogp = on_gpu(logp), gold = on_gpu(old_logp), gadv = on_gpu(adv), gref = on_gpu(ref);

  for (const PolicyClip& clip : {PolicyClip{0.2f, 0.2f, 0.0f}, PolicyClip{0.2f, 0.28f, 0.04f}}) {
    const std::string what = "clip " + std::to_string(clip.low) + "/" + std::to_string(clip.high) + " beta " +
                             std::to_string(clip.beta);
    const Tensor none;  // beta 0: no reference policy
    const Tensor& r = clip.beta > 0 ? ref : none;
    const Tensor gr = clip.beta > 0 ? gref : Tensor();
    Tensor losses = Tensor::empty(s), glosses = Tensor::empty(s, DType::f32, Device::cuda);
    policy_loss_forward(losses, logp, old_logp, adv, r, clip);
    policy_loss_forward(glosses, glogp, gold, gadv, gr, clip);
    expect_close(glosses, losses, 1e-6f, 1e-5f, (what + " losses").c_str());

    const Tensor dlosses = random_tensor(s, 604, -1, 1), d0 = random_tensor(s, 605, -1, 1);
    Tensor dlogp = d0.clone(), gdlogp = on_gpu(d0);
    policy_loss_backward(dlogp, dlosses, logp, old_logp, adv, r, clip);
    policy_loss_backward(gdlogp, on_gpu(dlosses), glogp, gold, gadv, gr, clip);
    expect_close(gdlogp, dlogp, 1e-6f, 1e-5f, (what + " dlogp").c_str());
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
