// Reads the fixtures written by tests/reference/*.py: named float32, int32
// and text records, in a small binary format ("NRLFIX1").
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/tensor.h"

namespace newsrl::testing {

class Fixture {
 public:
  explicit Fixture(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open (regenerate with tests/reference/)");
    char magic[8];
    in.read(magic, 8);
    if (std::string(magic, 8) != "NRLFIX1\n") throw std::runtime_error(path + ": not a newsrl fixture");
    while (in.peek() != EOF) {
      std::uint32_t name_len = 0, code = 0, ndim = 0;
      in.read(reinterpret_cast<char*>(&name_len), 4);
      std::string name(name_len, '\0');
      in.read(name.data(), name_len);
      in.read(reinterpret_cast<char*>(&code), 4);
      in.read(reinterpret_cast<char*>(&ndim), 4);
      std::vector<std::int64_t> dims(ndim);
      in.read(reinterpret_cast<char*>(dims.data()), static_cast<std::streamsize>(8 * ndim));
      std::uint64_t bytes = 0;
      in.read(reinterpret_cast<char*>(&bytes), 8);
      std::string data(bytes, '\0');
      in.read(data.data(), static_cast<std::streamsize>(bytes));
      if (!in) throw std::runtime_error(path + ": truncated at " + name);
      records_[name] = Record{code, dims, std::move(data)};
    }
  }
  bool has(const std::string& name) const { return records_.count(name) != 0; }
  std::string text(const std::string& name) const { return get(name, 2).data; }
  kernels::Tensor tensor(const std::string& name) const {
    const Record& r = records_.count(name) ? records_.at(name) : get(name, 0);
    const kernels::DType t = r.code == 0 ? kernels::DType::f32 : kernels::DType::i32;
    kernels::Tensor out = kernels::Tensor::empty(kernels::Shape(r.dims), t);
    if (out.bytes() != r.data.size()) throw std::runtime_error("fixture record " + name + " has the wrong size");
    std::memcpy(out.raw(), r.data.data(), r.data.size());
    return out;
  }

 private:
  struct Record {
    std::uint32_t code;
    std::vector<std::int64_t> dims;
    std::string data;
  };
  const Record& get(const std::string& name, std::uint32_t code) const {
    auto it = records_.find(name);
    if (it == records_.end()) throw std::runtime_error("fixture has no record " + name);
    if (it->second.code != code) throw std::runtime_error("fixture record " + name + " has another type");
    return it->second;
  }
  std::map<std::string, Record> records_;
};

}  // namespace newsrl::testing
