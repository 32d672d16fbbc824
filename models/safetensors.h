// Hugging Face safetensors files: an 8-byte little-endian header length, a
// JSON header {name: {"dtype", "shape", "data_offsets": [begin, end)}, and an
// optional "__metadata__"}, then the tensors' bytes. The reader checks the
// header against the file (offsets inside the data, sizes that match dtype
// and shape) and reads any rows of a tensor without the rest; the writer
// streams tensors into a temporary file and renames it when complete.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace newsrl::models {

struct SafeTensor {
  std::string name, dtype;  // dtype: F32, BF16, F16 (others are listed but not read)
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte offsets within the data section
};

std::size_t safetensors_dtype_size(const std::string& dtype);  // 0 when unknown

class SafetensorsReader {
 public:
  explicit SafetensorsReader(std::string path);  // throws std::invalid_argument naming the file
  const std::string& path() const { return path_; }
  const std::map<std::string, SafeTensor>& tensors() const { return tensors_; }
  // Rows [row0, row0 + rows) along the first dimension, converted to float32
  // (from F32, BF16 or F16), or kept as bfloat16 bits (from BF16 only).
  void read_rows_f32(const SafeTensor& t, std::int64_t row0, std::int64_t rows, float* out);
  void read_rows_bf16(const SafeTensor& t, std::int64_t row0, std::int64_t rows, std::uint16_t* out);

 private:
  void read_bytes(std::uint64_t offset, std::size_t bytes, void* out);
  std::string path_;
  std::ifstream in_;
  std::uint64_t data_start_ = 0;
  std::map<std::string, SafeTensor> tensors_;
  std::vector<unsigned char> staging_;
};

class SafetensorsWriter {
 public:
  // The tensors in file order (name, dtype, shape); offsets are computed here.
  SafetensorsWriter(std::string path, std::vector<SafeTensor> tensors);
  ~SafetensorsWriter();  // unfinished: the temporary file is removed
  // The next bytes of the data section, tensors in order.
  void append(const void* data, std::size_t bytes);
  void finish();  // checks every byte was written, fsyncs and renames into place

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  std::uint64_t expected_ = 0, written_ = 0;
  bool finished_ = false;
};

}  // namespace newsrl::models
