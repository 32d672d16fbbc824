// Shapes, storage (a per-size cache per device) and tensors; the CUDA side of
// storage and copies lives in kernels/cuda/memory.cpp.
#include "kernels/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>

#ifdef NEWSRL_HAVE_CUDA
#include "kernels/cuda/memory.h"
#include "kernels/profile.h"
#endif

namespace newsrl::kernels {

Shape::Shape(std::initializer_list<std::int64_t> dims) {
  if (dims.size() > kMaxDims) throw std::invalid_argument("a tensor has at most 5 dimensions");
  for (std::int64_t d : dims) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape");
    dims_[static_cast<std::size_t>(ndim_++)] = d;
  }
}

Shape::Shape(const std::vector<std::int64_t>& dims) {
  if (dims.size() > kMaxDims) throw std::invalid_argument("a tensor has at most 5 dimensions");
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) throw std::invalid_argument("negative dimension in shape");
    dims_[i] = dims[i];
  }
  ndim_ = static_cast<int>(dims.size());
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

Shape Shape::with_last(std::int64_t d) const {
  if (ndim_ == 0) throw std::invalid_argument("with_last() of a scalar shape");
  Shape s = *this;
  s.dims_[static_cast<std::size_t>(ndim_ - 1)] = d;
  return s;
}

Shape Shape::appended(std::int64_t d) const {
  if (ndim_ == kMaxDims) throw std::invalid_argument("a tensor has at most 5 dimensions");
  Shape s = *this;
  s.dims_[static_cast<std::size_t>(ndim_)] = d;
  ++s.ndim_;
  return s;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < ndim_; ++i) s += (i ? ", " : "") + std::to_string(dims_[static_cast<std::size_t>(i)]);
  return s + "]";
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.ndim_ != b.ndim_) return false;
  for (int i = 0; i < a.ndim_; ++i) {
    if (a.dims_[static_cast<std::size_t>(i)] != b.dims_[static_cast<std::size_t>(i)]) return false;
  }
  return true;
}

namespace {

// Freed CPU blocks wait here, by size, for the next tensor of that size, so
// that a step which repeats its shapes allocates nothing once warm. What the
// cache holds plus what is live stays within a quarter above the most bytes
// ever live at once (or 64 MiB, however little that is): when a new block
// would pass that, every cached block is released first. Shapes that keep
// changing (generation, GRPO batches of varying length) therefore cost a
// re-fill now and then, never more than 1.25 x the peak of live memory.
class CpuCache {
 public:
  void* allocate(std::size_t bytes) {
    std::unique_lock lock(mu_);
    void* p = take(bytes);
    if (p == nullptr) {
      if (live_ + cached_ + bytes > std::max(kFloor, peak_ + peak_ / 4)) flush();
      lock.unlock();
      p = std::aligned_alloc(64, bytes);
      if (p == nullptr) throw std::bad_alloc();
      lock.lock();
    }
    live_ += bytes;
    peak_ = std::max(peak_, live_);
    return p;
  }
  void release(void* p, std::size_t bytes) {
    std::lock_guard lock(mu_);
    live_ -= bytes;
    free_[bytes].push_back(p);
    cached_ += bytes;
  }

 private:
  static constexpr std::size_t kFloor = std::size_t{64} << 20;

  // A cached block of exactly this size, or null (mu_ held).
  void* take(std::size_t bytes) {
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= bytes;
    return p;
  }
  // Releases every cached block (mu_ held).
  void flush() {
    for (auto& [size, blocks] : free_) {
      for (void* b : blocks) std::free(b);
    }
    free_.clear();
    cached_ = 0;
  }

  std::mutex mu_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_ = 0;  // bytes waiting in free_
  std::size_t live_ = 0;    // bytes held by Storages now
  std::size_t peak_ = 0;    // the most live_ has been
};

CpuCache& cpu_cache() {
  static CpuCache* cache = new CpuCache();  // outlives every tensor, even static ones
  return *cache;
}

// Recycles the small blocks that hold a Storage and its reference count, so
// that making a tensor of a cached size allocates nothing. Freed blocks wait
// in a list of the thread that frees them.
template <class T>
struct Recycling {
  using value_type = T;
  Recycling() = default;
  template <class U>
  Recycling(const Recycling<U>&) {}
  static std::vector<void*>& spare() {
    thread_local std::vector<void*>* list = new std::vector<void*>();  // never destroyed: frees may come late
    return *list;
  }
  T* allocate(std::size_t n) {
    if (n == 1 && !spare().empty()) {
      void* p = spare().back();
      spare().pop_back();
      return static_cast<T*>(p);
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) {
    if (n == 1 && spare().size() < 4096) {
      spare().push_back(p);
      return;
    }
    ::operator delete(p);
  }
  template <class U>
  bool operator==(const Recycling<U>&) const {
    return true;
  }
};

#ifndef NEWSRL_HAVE_CUDA
[[noreturn]] void no_cuda() { throw std::runtime_error("this newsrl build has no CUDA backend"); }
#endif

// Copies bytes between any two devices.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (dst_device == Device::cpu && src_device == Device::cpu) {
    if (bytes != 0) std::memcpy(dst, src, bytes);
    return;
  }
#ifdef NEWSRL_HAVE_CUDA
  const char* what = dst_device == Device::cpu   ? "(copy to host)"
                     : src_device == Device::cpu ? "(copy to device)"
                                                 : "(copy on device)";
  profile::Scope timed(what, Device::cuda);
  cuda::copy_bytes(dst, dst_device, src, src_device, bytes);
#else
  no_cuda();
#endif
}

}  // namespace

Storage::Storage(Device d, std::size_t n) : bytes(n), device(d) {
  if (d == Device::cuda) {
#ifdef NEWSRL_HAVE_CUDA
    data = cuda::device_alloc(n);
    bytes = cuda::rounded_size(n);
    return;
#else
    no_cuda();
#endif
  }
  const std::size_t rounded = ((std::max<std::size_t>(n, 1) + 63) / 64) * 64;
  data = cpu_cache().allocate(rounded);
  bytes = rounded;
}

Storage::~Storage() {
  if (data == nullptr) return;
#ifdef NEWSRL_HAVE_CUDA
  if (device == Device::cuda) {
    cuda::device_release(data, bytes);
    return;
  }
#endif
  cpu_cache().release(data, bytes);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.storage_ = std::allocate_shared<Storage>(Recycling<Storage>{}, device,
                                             static_cast<std::size_t>(shape.numel()) * dtype_size(dtype));
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
#ifdef NEWSRL_HAVE_CUDA
  if (device == Device::cuda) {
    cuda::zero_bytes(t.raw(), t.bytes());
    return t;
  }
#endif
  std::memset(t.raw(), 0, t.bytes());
  return t;
}

Tensor Tensor::view(const Shape& shape) const {
  if (shape.numel() != numel()) {
    throw std::invalid_argument("view: " + shape.str() + " does not hold the " + std::to_string(numel()) +
                                " elements of " + shape_.str());
  }
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::slice(std::int64_t begin, std::int64_t end) const {
  if (ndim() == 0 || begin < 0 || end < begin || end > dim(0)) {
    throw std::invalid_argument("slice [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " + str());
  }
  std::vector<std::int64_t> dims = shape_.to_vector();
  const std::int64_t row = dims[0] == 0 ? 0 : numel() / dims[0];
  dims[0] = end - begin;
  Tensor t = *this;
  t.shape_ = Shape(dims);
  t.offset_ = offset_ + begin * row;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_, device());
  copy_bytes(t.raw(), device(), raw(), device(), bytes());
  return t;
}

Tensor Tensor::to(Device target) const {
  if (!storage_) throw std::logic_error("to(): use of an undefined tensor");
  if (target == device()) return *this;
  Tensor t = empty(shape_, dtype_, target);
  copy_bytes(t.raw(), target, raw(), device(), bytes());
  return t;
}

std::string Tensor::str() const {
  return std::string(dtype_name(dtype_)) + shape_.str() + " " + std::string(device_name(device()));
}

void Tensor::check_type(DType want) const {
  if (!storage_) throw std::logic_error("use of an undefined tensor");
  if (want != dtype_) {
    throw std::invalid_argument("tensor " + str() + " read as " + std::string(dtype_name(want)));
  }
}

}  // namespace newsrl::kernels
