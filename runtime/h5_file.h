// A small, safe face on the HDF5 C library: typed datasets addressed by path
// ("/model/model.norm.weight"), written and read whole or in slices of rows
// (along the first dimension, so a tensor larger than memory never has to be
// whole), string attributes, and errors that name the file and the dataset.
// The checkpoint store builds on it. HDF5's own error printing is switched
// off; its failures become exceptions.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace newsrl::runtime {

struct H5Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Element types on disk. bfloat16 is stored as uint16 with a string attribute
// dtype = "bfloat16" on the dataset, so h5py and h5dump read it without us.
enum class H5Type { f32, bf16, i32, i64, u64, u8 };
const char* h5_type_name(H5Type t);  // float32, bfloat16, int32, int64, uint64, uint8
std::size_t h5_type_size(H5Type t);

class H5File {
 public:
  enum class Mode { read, create };  // create truncates
  H5File(const std::string& path, Mode mode);
  ~H5File();
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  const std::string& path() const { return path_; }
  bool has(const std::string& object) const;
  // Names directly under a group ("/model" → "model.norm.weight", ...), sorted.
  std::vector<std::string> list(const std::string& group) const;
  bool is_group(const std::string& object) const;

  // Creates a dataset (intermediate groups too), chunked in whole rows of
  // about 1 MiB; then write_rows fills rows [row0, row0 + rows). A 0-d shape
  // is a scalar: one row of one element.
  void create(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape);
  void write_rows(const std::string& dataset, std::int64_t row0, std::int64_t rows, const void* data);
  void write(const std::string& dataset, H5Type type, const std::vector<std::int64_t>& shape, const void* data);
  void write_f32(const std::string& dataset, const std::vector<std::int64_t>& shape, const float* data) {
    write(dataset, H5Type::f32, shape, data);
  }
  void write_i32(const std::string& dataset, const std::vector<std::int64_t>& shape, const std::int32_t* data) {
    write(dataset, H5Type::i32, shape, data);
  }

  std::vector<std::int64_t> shape(const std::string& dataset) const;
  H5Type type(const std::string& dataset) const;  // throws when the type is none of H5Type
  // Reads rows [row0, row0 + rows) of a dataset of type `type` into `out`.
  void read_rows(const std::string& dataset, H5Type type, std::int64_t row0, std::int64_t rows, void* out) const;
  // Reads a whole dataset whose type must be `type`; `out` holds its numel.
  void read(const std::string& dataset, H5Type type, void* out, std::int64_t numel) const;
  void read_f32(const std::string& dataset, float* out, std::int64_t numel) const {
    read(dataset, H5Type::f32, out, numel);
  }
  void read_i32(const std::string& dataset, std::int32_t* out, std::int64_t numel) const {
    read(dataset, H5Type::i32, out, numel);
  }

  // Creates a group (and its parents) unless it exists.
  void create_group(const std::string& group);
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  std::string attribute(const std::string& object, const std::string& name) const;
  bool has_attribute(const std::string& object, const std::string& name) const;

  // Writes HDF5's buffers to the file (the OS may still hold them; see fsync in the store).
  void flush();

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::string path_;
  std::int64_t id_ = -1;
};

// Elements in one row of a dataset of this shape (1 for a scalar), and its rows.
std::int64_t row_elements(const std::vector<std::int64_t>& shape);
std::int64_t row_count(const std::vector<std::int64_t>& shape);

}  // namespace newsrl::runtime
