#include "models/model_file.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace newsrl::models {

namespace {
constexpr std::int64_t kSliceRows = 4096;

// Files are read and written from host memory: a model on a GPU is refused.
void need_cpu(const CausalLM& model, const char* what) {
  if (model.device() != kernels::Device::cpu) {
    throw std::invalid_argument(std::string(what) + " needs the model on the CPU (it is on " +
                                std::string(kernels::device_name(model.device())) +
                                "): move it with CausalLM::to(Device::cpu) first");
  }
}
}  // namespace

void write_model(runtime::CheckpointWriter& out, const CausalLM& model, kernels::DType dtype) {
  need_cpu(model, "writing a model");
  if (dtype != kernels::DType::f32 && dtype != kernels::DType::bf16) {
    throw std::invalid_argument("a model is stored as float32 or bfloat16");
  }
  out.set_attribute("/", "config", model.config().to_json().dump());
  for (const Parameter* p : model.parameters()) {
    const std::vector<std::int64_t> shape = p->value.shape().to_vector();
    const std::string name = "/model/" + p->name;
    if (dtype == kernels::DType::f32) {
      out.write(name, runtime::H5Type::f32, shape, p->value.data<float>());
      continue;
    }
    const std::int64_t per_row = runtime::row_elements(shape);
    const float* src = p->value.data<float>();
    out.write_rows(name, runtime::H5Type::bf16, shape, kSliceRows, [&](std::int64_t row0, std::int64_t rows, void* to) {
      auto* o = static_cast<kernels::bf16*>(to);
      for (std::int64_t i = 0; i < rows * per_row; ++i) o[i] = kernels::bf16::from_float(src[row0 * per_row + i]);
    });
  }
}

void save_model(const CausalLM& model, const std::string& path, kernels::DType dtype) {
  runtime::CheckpointWriter out(path);
  write_model(out, model, dtype);
  out.commit();
}

Qwen2Config read_config(const runtime::H5File& file) {
  // Other kinds of model (the encoder classifier) say so in a root attribute.
  if (file.has_attribute("/", "model_kind")) {
    throw runtime::H5Error(file.path() + ": not a causal LM (model_kind is \"" + file.attribute("/", "model_kind") +
                           "\")");
  }
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(file.attribute("/", "config"));
  } catch (const nlohmann::json::exception& e) {
    throw runtime::H5Error(file.path() + ": the config attribute is not JSON (" + e.what() + ")");
  }
  return Qwen2Config::from_json(config, file.path() + " config");
}

void read_model(const runtime::H5File& file, CausalLM& model) {
  need_cpu(model, "reading a model");
  const std::string& path = file.path();
  std::vector<kernels::bf16> staging;
  for (Parameter* p : model.parameters()) {
    const std::string name = "/model/" + p->name;
    if (!file.has(name)) throw runtime::H5Error(path + ": missing dataset " + name);
    if (file.shape(name) != p->value.shape().to_vector()) {
      throw runtime::H5Error(path + ": dataset " + name + " has shape " + kernels::Shape(file.shape(name)).str() +
                             ", the config needs " + p->value.shape().str());
    }
    const runtime::H5Type type = file.type(name);
    if (type == runtime::H5Type::f32) {
      runtime::read_verified(file, name, type, p->value.data<float>(), p->value.numel());
    } else if (type == runtime::H5Type::bf16) {
      staging.resize(static_cast<std::size_t>(p->value.numel()));
      runtime::read_verified(file, name, type, staging.data(), p->value.numel());
      float* dst = p->value.data<float>();
      for (std::size_t i = 0; i < staging.size(); ++i) dst[i] = staging[i].to_float();
    } else {
      throw runtime::H5Error(path + ": dataset " + name + " is " + runtime::h5_type_name(type) +
                             ", not float32 or bfloat16");
    }
  }
}

CausalLM load_model(const std::string& path) {
  const runtime::H5File file(path, runtime::H5File::Mode::read);
  CausalLM model(read_config(file));
  read_model(file, model);
  return model;
}

}  // namespace newsrl::models
