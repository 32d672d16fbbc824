// A tensor: a contiguous, row-major block of elements with a shape, a dtype
// and a device. Views (reshape, a range of rows) share the storage. Storage
// comes from a per-device cache, so a training loop that keeps using the same
// shapes allocates nothing after its first step.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/dtype.h"

namespace newsrl::kernels {

class Shape {
 public:
  static constexpr int kMaxDims = 5;
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(const std::vector<std::int64_t>& dims);

  int ndim() const { return ndim_; }
  // Negative indices count from the end: dim(-1) is the last.
  std::int64_t operator[](int i) const { return dims_[static_cast<std::size_t>(i < 0 ? ndim_ + i : i)]; }
  std::int64_t numel() const;
  // Elements in all dimensions but the last: the "rows" of a row-wise op.
  std::int64_t rows() const { return ndim_ == 0 ? 1 : numel() / dims_[static_cast<std::size_t>(ndim_ - 1)]; }
  std::vector<std::int64_t> to_vector() const { return {dims_.begin(), dims_.begin() + ndim_}; }
  // This shape with its last dimension replaced, or with one more dimension appended.
  Shape with_last(std::int64_t d) const;
  Shape appended(std::int64_t d) const;
  std::string str() const;  // "[2, 3, 4]"
  friend bool operator==(const Shape& a, const Shape& b);

 private:
  std::array<std::int64_t, kMaxDims> dims_{};
  int ndim_ = 0;
};

// A block of memory on a device (host memory for the CPU, cudaMalloc'd for
// CUDA); returned to its device's cache when released.
struct Storage {
  Storage(Device device, std::size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  std::size_t bytes = 0;
  Device device = Device::cpu;
};

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  template <class T>
  static Tensor from(const std::vector<T>& values, const Shape& shape) {
    if (static_cast<std::int64_t>(values.size()) != shape.numel()) {
      throw std::invalid_argument("Tensor::from: " + std::to_string(values.size()) + " values for shape " +
                                  shape.str());
    }
    Tensor t = empty(shape, dtype_of<T>::value);
    if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
    return t;
  }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  std::int64_t dim(int i) const { return shape_[i]; }
  std::int64_t numel() const { return shape_.numel(); }
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device : Device::cpu; }

  void* raw() { return static_cast<char*>(storage_->data) + offset_ * dtype_size(dtype_); }
  const void* raw() const { return static_cast<const char*>(storage_->data) + offset_ * dtype_size(dtype_); }
  template <class T>
  T* data() {
    check_type(dtype_of<T>::value);
    return static_cast<T*>(raw());
  }
  template <class T>
  const T* data() const {
    check_type(dtype_of<T>::value);
    return static_cast<const T*>(raw());
  }

  // The same elements under another shape of the same size.
  Tensor view(const Shape& shape) const;
  // Rows [begin, end) of the first dimension.
  Tensor slice(std::int64_t begin, std::int64_t end) const;
  // A copy on the same device.
  Tensor clone() const;
  // The same elements on `device`: a copy when the tensor lives elsewhere
  // (complete when this returns), this tensor itself when it is already there.
  Tensor to(Device device) const;
  // The elements, read on the host (a CUDA tensor is copied back first).
  template <class T>
  std::vector<T> to_vector() const {
    if (device() != Device::cpu) return to(Device::cpu).to_vector<T>();
    const T* p = data<T>();
    return std::vector<T>(p, p + numel());
  }
  // "float32[2, 3] cpu"
  std::string str() const;

 private:
  void check_type(DType want) const;
  std::shared_ptr<Storage> storage_;
  std::int64_t offset_ = 0;  // in elements
  Shape shape_;
  DType dtype_ = DType::f32;
};

}  // namespace newsrl::kernels
