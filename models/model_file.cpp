#include "models/model_file.h"

#include "runtime/h5_file.h"

namespace newsrl::models {

void save_model(const CausalLM& model, const std::string& path) {
  runtime::H5File f(path, runtime::H5File::Mode::create);
  f.set_attribute("/", "config", model.config().to_json().dump());
  for (const Parameter* p : model.parameters()) {
    f.write_f32("/model/" + p->name, p->value.shape().to_vector(), p->value.data<float>());
  }
}

CausalLM load_model(const std::string& path) {
  runtime::H5File f(path, runtime::H5File::Mode::read);
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(f.attribute("/", "config"));
  } catch (const nlohmann::json::exception& e) {
    throw runtime::H5Error(path + ": the config attribute is not JSON (" + e.what() + ")");
  }
  CausalLM model(Qwen2Config::from_json(config, path + " config"));
  for (Parameter* p : model.parameters()) {
    const std::string name = "/model/" + p->name;
    if (!f.has(name)) throw runtime::H5Error(path + ": missing dataset " + name);
    if (f.shape(name) != p->value.shape().to_vector()) {
      throw runtime::H5Error(path + ": dataset " + name + " has shape " + kernels::Shape(f.shape(name)).str() +
                             ", the config needs " + p->value.shape().str());
    }
    f.read_f32(name, p->value.data<float>(), p->value.numel());
  }
  return model;
}

}  // namespace newsrl::models
