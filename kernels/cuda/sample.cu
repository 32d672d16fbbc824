// Sampling with a temperature, top-k and top-p (OpTable::sample_rows) on the
// GPU, one block per row, without sorting the row. The candidates are always
// a prefix of the row's order (logit descending, lower id first), so they are
// named by a threshold key tau and a tie count: every token with a key above
// tau, and the first `ties` tokens (by id) whose key is tau. Radix selection
// finds them, 8 bits of the key at a time: by count for top-k, by probability
// units for top-p. Probabilities are whole units of 2^-40 (uint64), so every
// sum is exact whatever the order of the atomics, and the kernel draws what
// the CPU's sorting version draws from the same u.
#include <cmath>

#include "kernels/cuda/common.cuh"

namespace newsrl::kernels::cuda {

namespace {

using Units = unsigned long long;

constexpr int kSampleThreads = 512;

// A float's place in the order as an unsigned integer (-0 as +0).
__device__ std::uint32_t order_key(float x) {
  if (x == 0.0f) x = 0.0f;
  const std::uint32_t bits = __float_as_uint(x);
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

// The float whose key is k.
__device__ float key_value(std::uint32_t k) {
  return __uint_as_float((k & 0x80000000u) != 0 ? k & 0x7fffffffu : ~k);
}

__device__ Units units(float x, float max, double temperature) {
  return static_cast<Units>(::exp((static_cast<double>(x) - max) / temperature) * kSampleUnitsPerOne);
}

// The prefix of the order a radix selection found: keys above tau, and the
// first `ties` tokens whose key is tau.
struct Prefix {
  std::uint32_t tau;
  Units ties;
};

// The shortest prefix of the order whose count (by_units false) or units
// (true) reaches `need` (at least 1, at most the row's). Four passes over the
// row, one per byte of the key, highest first: each builds a histogram of the
// byte over the tokens that match the bytes chosen so far, and thread 0 walks
// it from the top to the bin where `need` is met.
__device__ Prefix radix_select(const float* xr, I cols, float max, double t, Units need, bool by_units,
                               Units* histogram, std::uint32_t* shared_prefix, Units* shared_need) {
  std::uint32_t prefix = 0, mask = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < 256; b += blockDim.x) histogram[b] = 0;
    __syncthreads();
    for (I i = threadIdx.x; i < cols; i += blockDim.x) {
      const std::uint32_t k = order_key(xr[i]);
      if ((k & mask) != prefix) continue;
      atomicAdd(&histogram[(k >> shift) & 255u], by_units ? units(xr[i], max, t) : Units{1});
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int b = 255;
      for (; b > 0 && need > histogram[b]; --b) need -= histogram[b];
      *shared_prefix = prefix | (static_cast<std::uint32_t>(b) << shift);
      *shared_need = need;
    }
    __syncthreads();
    prefix = *shared_prefix;
    need = *shared_need;
    mask |= 255u << shift;
  }
  __syncthreads();  // every thread has read the last choice before thread 0 writes the shared slots again
  if (!by_units) return {prefix, need};
  // `need` units are left among the ties, which all weigh the same.
  const Units w = units(key_value(prefix), max, t);
  return {prefix, (need + w - 1) / w};
}

__global__ void sample_rows_kernel(std::int32_t* ids, float* logprobs, const float* x, const float* uniforms, I cols,
                                   float temperature, I top_k, float top_p) {
  __shared__ float shared_max[32];
  __shared__ double shared_sum[32];
  __shared__ Units histogram[256];
  __shared__ Units chunk[kSampleThreads];
  __shared__ std::uint32_t shared_prefix;
  __shared__ Units shared_need, shared_mass, shared_before;
  __shared__ int shared_chunk;
  const I r = blockIdx.x;
  const float* xr = x + r * cols;
  const double t = temperature;

  float max = -INFINITY;
  for (I i = threadIdx.x; i < cols; i += blockDim.x) max = fmaxf(max, xr[i]);
  max = block_max(max, shared_max);
  double s = 0;
  for (I i = threadIdx.x; i < cols; i += blockDim.x) s += ::exp((static_cast<double>(xr[i]) - max) / t);
  s = block_sum(s, shared_sum);

  // The candidates: all (every key is above 0, or 0 with fewer than cols ties),
  // then the top_k, then the top_p of those.
  Prefix keep{0, static_cast<Units>(cols)};
  if (top_k > 0 && top_k < cols) {
    keep = radix_select(xr, cols, max, t, static_cast<Units>(top_k), false, histogram, &shared_prefix, &shared_need);
  }
  if (top_p < 1.0f) {
    // The candidates' units so far: those above tau, and the ties kept, which
    // weigh alike (with no top_k, tau is 0 and no key is).
    if (threadIdx.x == 0) {
      shared_mass = 0;
      shared_need = 0;
    }
    __syncthreads();
    Units above = 0, tied = 0;
    for (I i = threadIdx.x; i < cols; i += blockDim.x) {
      const std::uint32_t k = order_key(xr[i]);
      if (k > keep.tau) above += units(xr[i], max, t);
      tied += k == keep.tau ? 1 : 0;
    }
    atomicAdd(&shared_mass, above);
    atomicAdd(&shared_need, tied);
    __syncthreads();
    const Units kept_ties = keep.ties < shared_need ? keep.ties : shared_need;
    const Units mass = shared_mass + (kept_ties > 0 ? kept_ties * units(key_value(keep.tau), max, t) : 0);
    Units need = static_cast<Units>(::ceil(static_cast<double>(top_p) * static_cast<double>(mass)));
    need = need < 1 ? 1 : (need > mass ? mass : need);
    // The shortest prefix reaching `need` lies within the top_k, which hold `mass` >= need.
    keep = radix_select(xr, cols, max, t, need, true, histogram, &shared_prefix, &shared_need);
  }

  // The draw walks the candidates in id order: each thread holds a run of ids.
  const I run = (cols + blockDim.x - 1) / blockDim.x;
  const I begin = threadIdx.x * run, end = begin + run < cols ? begin + run : cols;
  // First how many ties lie before each run, then each run's candidate units.
  Units ties = 0;
  for (I i = begin; i < end; ++i) ties += order_key(xr[i]) == keep.tau ? 1 : 0;
  chunk[threadIdx.x] = ties;
  __syncthreads();
  if (threadIdx.x == 0) {
    Units before = 0;
    for (int j = 0; j < static_cast<int>(blockDim.x); ++j) {
      const Units n = chunk[j];
      chunk[j] = before;
      before += n;
    }
  }
  __syncthreads();
  const Units ties_before = chunk[threadIdx.x];
  __syncthreads();
  auto candidate = [&](I i, Units& tie_rank) {
    const std::uint32_t k = order_key(xr[i]);
    if (k > keep.tau) return true;
    if (k != keep.tau) return false;
    return tie_rank++ < keep.ties;
  };
  Units mine = 0, tie_rank = ties_before;
  for (I i = begin; i < end; ++i) {
    if (candidate(i, tie_rank)) mine += units(xr[i], max, t);
  }
  chunk[threadIdx.x] = mine;
  __syncthreads();
  if (threadIdx.x == 0) {
    Units total = 0;
    for (int j = 0; j < static_cast<int>(blockDim.x); ++j) total += chunk[j];
    const double u = fmax(static_cast<double>(uniforms[r]), 0.0) * static_cast<double>(total);
    Units target = static_cast<Units>(u);
    if (target >= total) target = total - 1;
    Units before = 0;
    int j = 0;
    while (before + chunk[j] <= target) before += chunk[j++];
    shared_chunk = j;
    shared_before = before;
    shared_need = target;
  }
  __syncthreads();
  if (static_cast<int>(threadIdx.x) != shared_chunk) return;
  const Units target = shared_need;
  Units cum = shared_before;
  tie_rank = ties_before;
  for (I i = begin; i < end; ++i) {
    if (!candidate(i, tie_rank)) continue;
    cum += units(xr[i], max, t);
    if (cum > target) {
      ids[r] = static_cast<std::int32_t>(i);
      logprobs[r] = static_cast<float>((static_cast<double>(xr[i]) - max) / t - ::log(s));
      return;
    }
  }
}

void sample_rows(Tensor& ids, Tensor& logprobs, const Tensor& logits, const Tensor& uniforms, const SampleParams& p) {
  const I cols = logits.dim(-1), rows = logits.shape().rows();
  if (rows == 0) return;
  sample_rows_kernel<<<static_cast<unsigned>(rows), kSampleThreads, 0, stream()>>>(
      ids.data<std::int32_t>(), logprobs.data<float>(), logits.data<float>(), uniforms.data<float>(), cols,
      p.temperature, p.top_k, p.top_p);
  check_launch();
}

}  // namespace

void register_sample(OpTable& t) { t.sample_rows = sample_rows; }

}  // namespace newsrl::kernels::cuda
