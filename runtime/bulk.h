// A contiguous numeric buffer that rides beside a message as its own raw MPI
// message instead of going through the serialization archive. Passing a Bulk
// (or a struct holding Bulks) as an argument or a result costs no copy of its
// elements: the sender's MPI send reads the caller's memory and the receiver's
// MPI receive writes straight into the buffer the method gets.
#pragma once

#include <boost/serialization/split_member.hpp>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/dtype.h"

namespace newsrl::runtime {

class Bulk {
 public:
  Bulk() = default;

  // Uninitialised storage for `count` elements, 64-byte aligned.
  static Bulk allocate(DType dtype, std::size_t count);
  // `bytes` of storage starting `offset` (< 64) bytes past a 64-byte boundary.
  // The transport receives into storage aligned like the sender's buffer: a
  // copy between buffers of equal alignment runs at full memory bandwidth,
  // unequal ones lose about 15% (measured with MPI's single-copy transfers).
  static Bulk allocate_like(std::size_t bytes, std::size_t offset);
  // Takes ownership of a vector's storage; its elements are not copied.
  template <class T>
  static Bulk adopt(std::vector<T>&& values) {
    auto owner = std::make_shared<std::vector<T>>(std::move(values));
    return Bulk(dtype_of_v<T>, owner->size(), owner->data(), owner);
  }
  // Copies the elements into new storage.
  template <class T>
  static Bulk copy_of(std::span<const T> values) {
    Bulk b = allocate(dtype_of_v<T>, values.size());
    if (!values.empty()) std::memcpy(b.data(), values.data(), values.size_bytes());
    return b;
  }
  // Refers to memory the caller owns; it must stay valid and unchanged until
  // the call carrying this Bulk has completed (its future is ready).
  static Bulk borrow(DType dtype, const void* data, std::size_t count) {
    return Bulk(dtype, count, const_cast<void*>(data), nullptr);
  }

  DType dtype() const { return dtype_; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * dtype_size(dtype_); }
  bool empty() const { return count_ == 0; }
  void* data() { return data_; }
  const void* data() const { return data_; }

  template <class T>
  std::span<T> as() {
    check_type(dtype_of_v<T>);
    return {static_cast<T*>(data_), count_};
  }
  template <class T>
  std::span<const T> as() const {
    check_type(dtype_of_v<T>);
    return {static_cast<const T*>(data_), count_};
  }
  template <class T>
  std::vector<T> to_vector() const {
    auto s = as<T>();
    return {s.begin(), s.end()};
  }

  // Serialization writes only the dtype and length; the elements go through
  // the side channel of the message being built or read (see wire.h).
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    const std::uint8_t t = static_cast<std::uint8_t>(dtype_);
    const std::uint64_t n = count_;
    ar << t << n;
    attach_outgoing();
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    std::uint8_t t = 0;
    std::uint64_t n = 0;
    ar >> t >> n;
    take_incoming(t, n);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

 private:
  Bulk(DType dtype, std::size_t count, void* data, std::shared_ptr<void> owner)
      : dtype_(dtype), count_(count), data_(data), owner_(std::move(owner)) {}
  void check_type(DType want) const;
  void attach_outgoing() const;
  void take_incoming(std::uint8_t dtype, std::uint64_t count);

  DType dtype_ = DType::u8;
  std::size_t count_ = 0;
  void* data_ = nullptr;
  std::shared_ptr<void> owner_;  // null when borrowed
};

}  // namespace newsrl::runtime
