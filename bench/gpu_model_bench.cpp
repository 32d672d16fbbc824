// GPU model benchmark: a whole models::CausalLM on Device::cuda.
//   train: the training step (forward, backward, clipped AdamW) of a preset
//     (default qwen2.5-0.5b) on [batch, seq] random tokens; tokens/s and MFU =
//     6 * parameters * tokens/s / peak (parameters: every weight, the tied
//     embedding once; peak: --peak-tflops, default 989, the dense bf16 peak
//     of an H100/H200 SXM).
//   serve: models::generate on U prompts of --prompt random tokens (for each U
//     of --users, a comma-separated list), each
//     getting --new tokens (N = 1, greedy): one batched prefill, then batched
//     decode steps with the KV cache (prompts of one length: the lockstep
//     path, one kernel per op for all users); users/s = users / wall seconds.
//     Greedy: each step's tokens are picked on the GPU (kernels::argmax_rows)
//     and only their ids and log-probs come back. Weights of the GEMMs:
//     --weights bf16|f32.
// Activations and gradients are float32; --precision f32,bf16 times the
// training step and serving once per float32-GEMM precision
// (kernels::set_matmul_precision: f32, tf32 or bf16 tensor-core rounding
// inside cuBLASLt; at bf16, attention of more than eight queries runs on the
// tensor cores too). --profile adds one
// profiled training step and one profiled serving run (kernels/profile.h: time
// per op, each op waited for) as {"bench":"profile",...} lines, and prints
// their tables on stderr. --recompute trains with CausalLM::set_recompute
// (each block's activations computed again in the backward); the train line
// reports the GPU memory the process holds after its steps (its peak, since
// the tensor cache keeps what it was given). One JSON line per measurement:
//   {"engine":"newsrl","bench":"train",...} / {"engine":"newsrl","bench":"serve",...}
// bench/gpu_model_torch.py measures PyTorch on the same shapes; bench/gpu_check.sh
// runs both. Exits 77 (skipped) where no GPU is visible.
//   build-kernels/bin/gpu_model_bench [--what train,serve] [--preset qwen2.5-0.5b]
//       [--batch 4] [--seq 1024] [--steps 5] [--warmup 2]
//       [--users 64,256] [--prompt 1000] [--new 64] [--weights bf16]
//       [--precision f32,bf16] [--profile] [--recompute]
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/devices.h"
#include "kernels/profile.h"
#include "models/causal_lm.h"
#include "models/generation.h"
#include "models/optimizer.h"

using namespace newsrl;
using kernels::Device;
using kernels::DType;
using kernels::Tensor;

namespace {

struct Options {
  std::string what = "train,serve";
  std::string preset = "qwen2.5-0.5b";
  std::int64_t batch = 4, seq = 1024;
  int steps = 5, warmup = 2;
  std::vector<int> users = {64, 256};
  int prompt = 1000, new_tokens = 64;
  std::string weights = "bf16";
  std::vector<kernels::MatmulPrecision> precisions = {kernels::MatmulPrecision::f32};
  bool profile = false, recompute = false;
  double peak_tflops = 989.0;
};

std::string gpu_name;

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
void sync() { NEWSRL_CUDA_CHECK(cudaStreamSynchronize(kernels::cuda::stream())); }

// Weights of a real model's scale without CausalLM::init's half a billion
// normal draws on one core: uniform in [-0.02, 0.02) from an LCG, unit norms,
// zero biases; made on the host and copied over.
void quick_init(models::CausalLM& model, std::uint64_t seed) {
  for (models::Parameter* p : model.parameters()) {
    const std::string& n = p->name;
    const bool norm = n.find("layernorm.weight") != std::string::npos || n == "model.norm.weight";
    const bool bias = n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0;
    std::vector<float> v(static_cast<std::size_t>(p->value.numel()));
    std::uint64_t s = ++seed * 0x9E3779B97F4A7C15ull + 1;
    for (float& x : v) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      x = norm ? 1.0f : bias ? 0.0f : 0.02f * (static_cast<float>(s >> 40) / static_cast<float>(1ull << 24) * 2 - 1);
    }
    kernels::copy(p->value, Tensor::from(v, p->value.shape()).to(Device::cuda));
  }
}

std::vector<std::int32_t> random_tokens(std::size_t n, std::int64_t vocab, std::uint64_t seed) {
  std::vector<std::int32_t> v(n);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
  for (std::int32_t& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<std::int32_t>((s >> 33) % static_cast<std::uint64_t>(vocab));
  }
  return v;
}

// The profile of what ran since profile::start() as one JSON line (the top
// ops), and its table on stderr.
void print_profile(const std::string& what, const kernels::profile::Report& r) {
  std::fprintf(stderr, "profile of %s (every op waited for, so slower than the timed run):\n%s", what.c_str(),
               kernels::profile::format(r).c_str());
  std::string ops;
  for (std::size_t i = 0; i < r.ops.size() && i < 12; ++i) {
    char item[160];
    std::snprintf(item, sizeof(item), "%s{\"op\":\"%s\",\"calls\":%lld,\"ms\":%.2f}", i ? "," : "",
                  r.ops[i].op.c_str(), static_cast<long long>(r.ops[i].calls), r.ops[i].seconds * 1e3);
    ops += item;
  }
  std::printf("{\"engine\":\"newsrl\",\"bench\":\"profile\",\"of\":\"%s\",\"wall_ms\":%.1f,\"op_ms\":%.1f,"
              "\"outside_ops_ms\":%.1f,\"ops\":[%s],\"gpu\":\"%s\"}\n",
              what.c_str(), r.wall_seconds * 1e3, r.op_seconds * 1e3, (r.wall_seconds - r.op_seconds) * 1e3,
              ops.c_str(), gpu_name.c_str());
  std::fflush(stdout);
}

void bench_train(const Options& o, const models::Qwen2Config& config, kernels::MatmulPrecision precision) {
  kernels::set_matmul_precision(precision);
  models::CausalLM model(config, Device::cuda);
  quick_init(model, 1);
  model.set_recompute(o.recompute);
  kernels::AdamW hp;
  hp.lr = 1e-4f;
  hp.weight_decay = 0.1f;
  models::Schedule schedule;
  schedule.peak_lr = schedule.min_lr = 1e-4f;
  models::Optimizer optimizer(model.parameters(), hp, schedule, 1.0f);
  const std::vector<std::int32_t> tokens =
      random_tokens(static_cast<std::size_t>(o.batch * o.seq), config.vocab_size, 2);
  // The batch goes to the GPU once; labels are read on the host by loss().
  const Tensor ids = Tensor::from(tokens, {o.batch, o.seq}).to(Device::cuda);
  const Tensor labels = Tensor::from(tokens, {o.batch, o.seq});
  models::Graph g;
  double loss = 0, grad_norm = 0;
  auto step = [&](bool read_loss) {
    g.clear();
    model.zero_grad();
    const models::Value l = model.loss(g, ids, labels);
    g.backward(l);
    grad_norm = optimizer.step();
    if (read_loss) loss = l.tensor().to_vector<float>()[0];
  };
  for (int i = 0; i < o.warmup; ++i) step(false);
  sync();
  const double t0 = now_s();
  for (int i = 0; i < o.steps; ++i) step(i + 1 == o.steps);
  sync();
  const double seconds = (now_s() - t0) / o.steps;
  // What the process holds on the GPU now: the tensor cache keeps every block
  // it was ever given, so this is the peak of the steps so far (in this process).
  std::size_t free_bytes = 0, total_bytes = 0;
  NEWSRL_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const double held_gib = static_cast<double>(total_bytes - free_bytes) / (1ull << 30);
  const double timed_loss = loss, timed_norm = grad_norm;  // of the last timed step, not the profiled one
  if (o.profile) {
    kernels::profile::start();
    step(false);
    sync();
    print_profile("train step, matmul precision " + std::string(kernels::matmul_precision_name(precision)),
                  kernels::profile::stop());
  }
  kernels::set_matmul_precision(kernels::MatmulPrecision::f32);
  const double params = static_cast<double>(config.parameter_count());
  const double tokens_per_s = static_cast<double>(o.batch * o.seq) / seconds;
  const double mfu = 6.0 * params * tokens_per_s / (o.peak_tflops * 1e12);
  std::printf(
      "{\"engine\":\"newsrl\",\"bench\":\"train\",\"model\":\"%s\",\"batch\":%lld,\"seq\":%lld,"
      "\"dtype\":\"float32\",\"matmul_precision\":\"%s\",\"recompute\":%s,\"gpu_memory_gib\":%.2f,\"step_ms\":%.1f,\"tokens_per_s\":%.0f,\"params\":%.0f,\"mfu\":%.4f,"
      "\"peak_tflops\":%.0f,\"loss\":%.4f,\"grad_norm\":%.4f,\"gpu\":\"%s\"}\n",
      o.preset.c_str(), static_cast<long long>(o.batch), static_cast<long long>(o.seq),
      std::string(kernels::matmul_precision_name(precision)).c_str(), o.recompute ? "true" : "false", held_gib,
      seconds * 1e3, tokens_per_s,
      params, mfu, o.peak_tflops, timed_loss, timed_norm, gpu_name.c_str());
  std::fflush(stdout);
}

void bench_serve(const Options& o, const models::Qwen2Config& config, models::CausalLM& model, int users,
                 kernels::MatmulPrecision precision) {
  kernels::set_matmul_precision(precision);
  const std::string precision_name(kernels::matmul_precision_name(precision));
  std::vector<std::vector<std::int32_t>> prompts;
  for (int i = 0; i < users; ++i) {
    prompts.push_back(
        random_tokens(static_cast<std::size_t>(o.prompt), config.vocab_size, 100 + static_cast<std::uint64_t>(i)));
  }
  models::SamplingOptions s;
  s.temperature = 0.0f;  // greedy
  s.weights = o.weights == "bf16" ? DType::bf16 : DType::f32;
  // Warm-up: the same prefill and a few decode steps (allocations, GEMM plans).
  s.max_new_tokens = 2;
  models::generate(model, prompts, s);
  sync();
  s.max_new_tokens = o.new_tokens;
  const double t0 = now_s();
  const std::vector<models::Generated> out = models::generate(model, prompts, s);
  sync();
  const double seconds = now_s() - t0;
  std::int64_t generated = 0;
  for (const models::Generated& g : out) generated += static_cast<std::int64_t>(g.tokens.size());
  std::printf(
      "{\"engine\":\"newsrl\",\"bench\":\"serve\",\"model\":\"%s\",\"users\":%d,\"prompt\":%d,\"new_tokens\":%d,"
      "\"weights\":\"%s\",\"activations\":\"float32\",\"matmul_precision\":\"%s\",\"seconds\":%.3f,"
      "\"users_per_s\":%.2f,\"generated_tokens\":%lld,\"sampling\":\"greedy on the device\",\"gpu\":\"%s\"}\n",
      o.preset.c_str(), users, o.prompt, o.new_tokens, o.weights.c_str(), precision_name.c_str(), seconds,
      users / seconds,
      static_cast<long long>(generated), gpu_name.c_str());
  std::fflush(stdout);
  if (o.profile && users == o.users.front()) {
    kernels::profile::start();
    models::generate(model, prompts, s);
    sync();
    print_profile("serving " + std::to_string(users) + " users, matmul precision " + precision_name,
                  kernels::profile::stop());
  }
  kernels::set_matmul_precision(kernels::MatmulPrecision::f32);
}

// "64,256" → {64, 256}; empty when any entry is not a positive count.
std::vector<int> parse_counts(const std::string& list) {
  std::vector<int> out;
  std::size_t begin = 0;
  while (begin <= list.size()) {
    const std::size_t end = std::min(list.find(',', begin), list.size());
    const int n = std::atoi(list.substr(begin, end - begin).c_str());
    if (n < 1) return {};
    out.push_back(n);
    begin = end + 1;
  }
  return out;
}

// "f32,bf16" → {f32, bf16}; empty when an entry is not a precision.
std::vector<kernels::MatmulPrecision> parse_precisions(const std::string& list) {
  std::vector<kernels::MatmulPrecision> out;
  std::size_t begin = 0;
  while (begin <= list.size()) {
    const std::size_t end = std::min(list.find(',', begin), list.size());
    try {
      out.push_back(kernels::parse_matmul_precision(list.substr(begin, end - begin)));
    } catch (const std::invalid_argument&) {
      return {};
    }
    begin = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--what" && has)
      o.what = argv[++i];
    else if (a == "--preset" && has)
      o.preset = argv[++i];
    else if (a == "--batch" && has)
      o.batch = std::atoll(argv[++i]);
    else if (a == "--seq" && has)
      o.seq = std::atoll(argv[++i]);
    else if (a == "--steps" && has)
      o.steps = std::atoi(argv[++i]);
    else if (a == "--warmup" && has)
      o.warmup = std::atoi(argv[++i]);
    else if (a == "--users" && has)
      o.users = parse_counts(argv[++i]);
    else if (a == "--prompt" && has)
      o.prompt = std::atoi(argv[++i]);
    else if (a == "--new" && has)
      o.new_tokens = std::atoi(argv[++i]);
    else if (a == "--weights" && has)
      o.weights = argv[++i];
    else if (a == "--peak-tflops" && has)
      o.peak_tflops = std::atof(argv[++i]);
    else if (a == "--precision" && has)
      o.precisions = parse_precisions(argv[++i]);
    else if (a == "--profile")
      o.profile = true;
    else if (a == "--recompute")
      o.recompute = true;
    else {
      std::fprintf(stderr,
                   "gpu_model_bench: unknown argument %s (--what train,serve --preset NAME --batch N --seq N --steps N "
                   "--warmup N --users N[,N...] --prompt N --new N --weights bf16|f32 --peak-tflops X "
                   "--precision f32|tf32|bf16[,...] --profile --recompute)\n",
                   argv[i]);
      return 2;
    }
  }
  if (o.batch < 1 || o.seq < 2 || o.steps < 1 || o.warmup < 0 || o.users.empty() || o.prompt < 1 || o.new_tokens < 1 ||
      (o.weights != "bf16" && o.weights != "f32") || !(o.peak_tflops > 0) || o.precisions.empty()) {
    std::fprintf(
        stderr,
        "gpu_model_bench: --batch, --steps, each of --users, --prompt, --new at least 1, --seq at least 2, --warmup "
        "at least 0, --weights bf16 or f32, --peak-tflops positive, --precision a list of f32, tf32, bf16\n");
    return 2;
  }
  std::string why;
  const std::vector<kernels::DeviceInfo> gpus = kernels::cuda_devices(&why);
  if (gpus.empty()) {
    std::fprintf(stderr, "gpu_model_bench: no GPU (%s): skipped\n", why.c_str());
    return 77;
  }
  gpu_name = gpus[0].name;
  int failed = 0;
  try {
    const models::Qwen2Config config = models::Qwen2Config::preset(o.preset);
    // Each part on its own: one that fails (out of memory) leaves the other's line.
    for (const std::string part : {"train", "serve"}) {
      if (o.what.find(part) == std::string::npos) continue;
      try {
        if (part == "train") {
          for (const kernels::MatmulPrecision p : o.precisions) bench_train(o, config, p);
        } else {
          models::CausalLM model(config, Device::cuda);
          quick_init(model, 3);
          for (const kernels::MatmulPrecision p : o.precisions) {
            for (int users : o.users) bench_serve(o, config, model, users, p);
          }
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "gpu_model_bench: %s: %s\n", part.c_str(), e.what());
        failed = 1;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_model_bench: %s\n", e.what());
    return 2;
  }
  return failed;
}
