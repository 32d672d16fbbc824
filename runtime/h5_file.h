// A small, safe face on the HDF5 C library: float32 and int32 datasets
// addressed by path ("/model/model.norm.weight"), string attributes, and
// errors that name the file and the dataset. The checkpoint store builds on
// it. HDF5's own error printing is switched off; its failures become exceptions.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace newsrl::runtime {

struct H5Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class H5File {
 public:
  enum class Mode { read, create };  // create truncates
  H5File(const std::string& path, Mode mode);
  ~H5File();
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  const std::string& path() const { return path_; }
  bool has(const std::string& dataset) const;
  // Dataset names directly under a group ("/model" → "model.norm.weight", ...), sorted.
  std::vector<std::string> list(const std::string& group) const;

  // Writes a dataset (intermediate groups are created), chunked and shaped as given.
  void write_f32(const std::string& dataset, const std::vector<std::int64_t>& shape, const float* data);
  void write_i32(const std::string& dataset, const std::vector<std::int64_t>& shape, const std::int32_t* data);
  std::vector<std::int64_t> shape(const std::string& dataset) const;
  // Reads a dataset whose element type must be float32 (or int32); `out` holds its numel.
  void read_f32(const std::string& dataset, float* out, std::int64_t numel) const;
  void read_i32(const std::string& dataset, std::int32_t* out, std::int64_t numel) const;

  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  std::string attribute(const std::string& object, const std::string& name) const;
  bool has_attribute(const std::string& object, const std::string& name) const;

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::string path_;
  std::int64_t id_ = -1;
};

}  // namespace newsrl::runtime
