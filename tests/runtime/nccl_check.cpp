// NCCL collectives on device buffers against a host reference. Needs only
// CUDA and NCCL (it builds in the `kernels` preset on GPU machines without
// MPI): one rank per visible GPU, one thread per rank. Exit 77 (skipped)
// without a GPU.
//   build-kernels/bin/nccl_collectives_check
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "collective_reference.h"
#include "runtime/nccl_collectives.h"

using namespace newsrl::runtime;
using namespace newsrl::runtime::testing;

namespace {

int g_failures = 0;
void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL %s\n", what.c_str());
    ++g_failures;
  }
}

template <class T>
std::vector<T> download(const T* d, std::size_t n) {
  std::vector<T> h(n);
  cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
  return h;
}
template <class T>
T* upload(const std::vector<T>& h) {
  T* d = nullptr;
  cudaMalloc(&d, std::max<std::size_t>(1, h.size()) * sizeof(T));
  cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice);
  return d;
}

template <class T>
void check_rank(NcclCollectives& c, std::size_t count) {
  const int n = c.size(), me = c.rank();
  const std::string type(dtype_name(dtype_of_v<T>));
  std::vector<T> mine(count);
  for (std::size_t i = 0; i < count; ++i) mine[i] = as<T>(input(me, i));
  const bool floating = std::is_same_v<T, float> || std::is_same_v<T, bfloat16>;

  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min, ReduceOp::mean}) {
    T* d = upload(mine);
    if (op == ReduceOp::mean && !floating) {
      bool threw = false;
      try {
        c.all_reduce(d, count, dtype_of_v<T>, op);
      } catch (const std::invalid_argument&) {
        threw = true;
      }
      expect(threw, type + " mean on integers was accepted");
      cudaFree(d);
      continue;
    }
    c.all_reduce(d, count, dtype_of_v<T>, op);
    const std::vector<T> got = download(d, count);
    cudaFree(d);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < count; ++i) {
      double want = op == ReduceOp::max ? -1e30 : op == ReduceOp::min ? 1e30 : 0;
      for (int r = 0; r < n; ++r) {
        const double x = input(r, i);
        want = op == ReduceOp::max ? std::max(want, x) : op == ReduceOp::min ? std::min(want, x) : want + x;
      }
      if (op == ReduceOp::mean) want = value(as<T>(static_cast<float>(want / n)));
      if (std::abs(value(got[i]) - want) > (op == ReduceOp::mean ? 1e-2 : 0)) ++wrong;
    }
    expect(wrong == 0,
           type + " all_reduce " + std::string(reduce_op_name(op)) + ": " + std::to_string(wrong) + " wrong");
  }

  std::vector<T> b(count);
  for (std::size_t i = 0; i < count; ++i) b[i] = as<T>(me == n - 1 ? input(n - 1, i) : 0.0f);
  T* d = upload(b);
  c.broadcast(d, count, dtype_of_v<T>, n - 1);
  b = download(d, count);
  cudaFree(d);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < count; ++i) wrong += value(b[i]) != input(n - 1, i);
  expect(wrong == 0, type + " broadcast");

  T* dsend = upload(mine);
  T* dall = upload(std::vector<T>(count * static_cast<std::size_t>(n)));
  c.all_gather(dsend, dall, count, dtype_of_v<T>);
  const std::vector<T> all = download(dall, count * static_cast<std::size_t>(n));
  wrong = 0;
  for (int r = 0; r < n; ++r) {
    for (std::size_t i = 0; i < count; ++i) wrong += value(all[static_cast<std::size_t>(r) * count + i]) != input(r, i);
  }
  expect(wrong == 0, type + " all_gather");
  cudaFree(dsend);
  cudaFree(dall);

  std::vector<T> send(count * static_cast<std::size_t>(n));
  for (std::size_t j = 0; j < send.size(); ++j) send[j] = as<T>(input(me, j));
  dsend = upload(send);
  T* dpart = upload(std::vector<T>(count));
  c.reduce_scatter(dsend, dpart, count, dtype_of_v<T>, ReduceOp::sum);
  const std::vector<T> part = download(dpart, count);
  wrong = 0;
  for (std::size_t i = 0; i < count; ++i) {
    double want = 0;
    for (int r = 0; r < n; ++r) want += input(r, static_cast<std::size_t>(me) * count + i);
    wrong += value(part[i]) != want;
  }
  expect(wrong == 0, type + " reduce_scatter");
  cudaFree(dsend);
  cudaFree(dpart);
  c.barrier();
}

}  // namespace

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  const std::vector<char> id = NcclCollectives::new_unique_id();
  std::vector<std::thread> ranks;
  for (int r = 0; r < devices; ++r) {
    ranks.emplace_back([&, r] {
      cudaSetDevice(r);
      NcclCollectives c(id, r, devices);
      for (std::size_t count : {std::size_t{1}, std::size_t{1000}, std::size_t{1} << 20}) {
        check_rank<float>(c, count);
        check_rank<bfloat16>(c, count);
        check_rank<std::int32_t>(c, count);
        check_rank<std::int64_t>(c, count);
      }
    });
  }
  for (auto& t : ranks) t.join();
  std::printf("%s: NCCL collectives on %d GPU(s), float32/bfloat16/int32/int64 × 3 sizes\n",
              g_failures == 0 ? "PASS" : "FAIL", devices);
  return g_failures == 0 ? 0 : 1;
}
