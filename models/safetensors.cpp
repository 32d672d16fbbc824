#include "models/safetensors.h"

#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "kernels/dtype.h"
#include "runtime/checkpoint.h"

namespace newsrl::models {

static_assert(std::endian::native == std::endian::little, "safetensors are little-endian");

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw std::invalid_argument(path + ": " + what);
}

// IEEE half to float, exactly (every half is a float).
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    exp = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

}  // namespace

std::size_t safetensors_dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "BF16" || dtype == "F16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2") return 1;
  return 0;
}

SafetensorsReader::SafetensorsReader(std::string path) : path_(std::move(path)) {
  in_.open(path_, std::ios::binary);
  if (!in_) bad(path_, "cannot open");
  const std::uint64_t file_size = std::filesystem::file_size(path_);
  std::uint64_t header_len = 0;
  if (file_size < 8 || !in_.read(reinterpret_cast<char*>(&header_len), 8)) bad(path_, "too short for a safetensors file");
  if (header_len > file_size - 8 || header_len > (100u << 20)) {
    bad(path_, "header length " + std::to_string(header_len) + " does not fit the file (not a safetensors file?)");
  }
  std::string text(header_len, '\0');
  in_.read(text.data(), static_cast<std::streamsize>(header_len));
  data_start_ = 8 + header_len;
  const std::uint64_t data_size = file_size - data_start_;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    bad(path_, "the header is not JSON");
  }
  if (!header.is_object()) bad(path_, "the header is not a JSON object");
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor " + name + ": ";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets")) {
      bad(path_, where + "needs dtype, shape and data_offsets");
    }
    SafeTensor t;
    t.name = name;
    try {
      t.dtype = entry.at("dtype").get<std::string>();
      t.shape = entry.at("shape").get<std::vector<std::int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offsets.size() != 2) bad(path_, where + "data_offsets should be [begin, end]");
      t.begin = offsets[0];
      t.end = offsets[1];
    } catch (const nlohmann::json::exception&) {
      bad(path_, where + "malformed dtype, shape or data_offsets");
    }
    std::uint64_t numel = 1;
    for (std::int64_t d : t.shape) {
      if (d < 0) bad(path_, where + "negative dimension");
      numel *= static_cast<std::uint64_t>(d);
    }
    const std::size_t size = safetensors_dtype_size(t.dtype);
    if (size == 0) bad(path_, where + "unknown dtype " + t.dtype);
    if (t.end < t.begin || t.end > data_size) bad(path_, where + "data_offsets lie outside the file (truncated?)");
    if (t.end - t.begin != numel * size) {
      bad(path_, where + "holds " + std::to_string(t.end - t.begin) + " bytes, its dtype and shape need " +
                     std::to_string(numel * size));
    }
    tensors_.emplace(name, std::move(t));
  }
}

void SafetensorsReader::read_bytes(std::uint64_t offset, std::size_t bytes, void* out) {
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(data_start_ + offset));
  if (!in_.read(static_cast<char*>(out), static_cast<std::streamsize>(bytes))) bad(path_, "read failed (truncated?)");
}

void SafetensorsReader::read_rows_f32(const SafeTensor& t, std::int64_t row0, std::int64_t rows, float* out) {
  const std::int64_t per_row = runtime::row_elements(t.shape);
  const std::size_t n = static_cast<std::size_t>(rows * per_row), size = safetensors_dtype_size(t.dtype);
  const std::uint64_t offset = t.begin + static_cast<std::uint64_t>(row0 * per_row) * size;
  if (t.dtype == "F32") {
    read_bytes(offset, n * 4, out);
    return;
  }
  if (t.dtype != "BF16" && t.dtype != "F16") bad(path_, "tensor " + t.name + " is " + t.dtype + "; newsrl reads F32, BF16 and F16");
  staging_.resize(n * 2);
  read_bytes(offset, n * 2, staging_.data());
  const auto* h = reinterpret_cast<const std::uint16_t*>(staging_.data());
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = t.dtype == "BF16" ? kernels::bf16{h[i]}.to_float() : half_to_float(h[i]);
  }
}

void SafetensorsReader::read_rows_bf16(const SafeTensor& t, std::int64_t row0, std::int64_t rows, std::uint16_t* out) {
  if (t.dtype != "BF16") bad(path_, "tensor " + t.name + " is " + t.dtype + ", not BF16");
  const std::int64_t per_row = runtime::row_elements(t.shape);
  read_bytes(t.begin + static_cast<std::uint64_t>(row0 * per_row) * 2, static_cast<std::size_t>(rows * per_row) * 2, out);
}

SafetensorsWriter::SafetensorsWriter(std::string path, std::vector<SafeTensor> tensors) : path_(std::move(path)) {
  tmp_ = path_ + ".tmp-" + std::to_string(::getpid());
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  for (SafeTensor& t : tensors) {
    std::uint64_t numel = 1;
    for (std::int64_t d : t.shape) numel *= static_cast<std::uint64_t>(d);
    t.begin = expected_;
    t.end = expected_ + numel * safetensors_dtype_size(t.dtype);
    expected_ = t.end;
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) bad(tmp_, "cannot create");
  const std::uint64_t len = text.size();
  out_.write(reinterpret_cast<const char*>(&len), 8);
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
}

SafetensorsWriter::~SafetensorsWriter() {
  if (!finished_) {
    out_.close();
    std::error_code ignored;
    std::filesystem::remove(tmp_, ignored);
  }
}

void SafetensorsWriter::append(const void* data, std::size_t bytes) {
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  written_ += bytes;
}

void SafetensorsWriter::finish() {
  if (written_ != expected_) {
    bad(path_, "wrote " + std::to_string(written_) + " data bytes, the header promises " + std::to_string(expected_));
  }
  out_.flush();
  if (!out_) bad(tmp_, "write failed (disk full?)");
  out_.close();
  std::filesystem::rename(tmp_, path_);
  finished_ = true;
}

}  // namespace newsrl::models
