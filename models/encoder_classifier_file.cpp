#include "models/encoder_classifier_file.h"

namespace newsrl::models {

void write_classifier(runtime::CheckpointWriter& out, const EncoderClassifier& model) {
  out.set_attribute("/", "model_kind", kEncoderClassifierKind);
  out.set_attribute("/", "config", model.config().to_json().dump());
  for (const Parameter* p : model.parameters()) {
    out.write("/model/" + p->name, runtime::H5Type::f32, p->value.shape().to_vector(), p->value.data<float>());
  }
}

void save_classifier(const EncoderClassifier& model, const std::string& path) {
  runtime::CheckpointWriter out(path);
  write_classifier(out, model);
  out.commit();
}

EncoderConfig read_classifier_config(const runtime::H5File& file) {
  const std::string& path = file.path();
  if (!file.has_attribute("/", "model_kind")) {
    throw runtime::H5Error(path + ": not an encoder classifier" +
                           (file.has_attribute("/", "config") ? std::string(" (a causal LM checkpoint: no model_kind)")
                                                              : std::string(" (no model_kind attribute)")));
  }
  const std::string kind = file.attribute("/", "model_kind");
  if (kind != kEncoderClassifierKind) {
    throw runtime::H5Error(path + ": not an encoder classifier (model_kind is \"" + kind + "\")");
  }
  if (!file.has_attribute("/", "config")) throw runtime::H5Error(path + ": missing the config attribute");
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(file.attribute("/", "config"));
  } catch (const nlohmann::json::exception& e) {
    throw runtime::H5Error(path + ": the config attribute is not JSON (" + e.what() + ")");
  }
  try {
    return EncoderConfig::from_json(config, path + " config");
  } catch (const std::invalid_argument& e) {
    throw runtime::H5Error(e.what());
  }
}

void read_classifier(const runtime::H5File& file, EncoderClassifier& model) {
  const std::string& path = file.path();
  for (Parameter* p : model.parameters()) {
    const std::string name = "/model/" + p->name;
    if (!file.has(name)) throw runtime::H5Error(path + ": missing dataset " + name);
    if (file.shape(name) != p->value.shape().to_vector()) {
      throw runtime::H5Error(path + ": dataset " + name + " has shape " + kernels::Shape(file.shape(name)).str() +
                             ", the config needs " + p->value.shape().str());
    }
    const runtime::H5Type type = file.type(name);
    if (type != runtime::H5Type::f32) {
      throw runtime::H5Error(path + ": dataset " + name + " is " + runtime::h5_type_name(type) + ", not float32");
    }
    runtime::read_verified(file, name, type, p->value.data<float>(), p->value.numel());
  }
}

EncoderClassifier load_classifier(const std::string& path) {
  const runtime::H5File file(path, runtime::H5File::Mode::read);
  EncoderClassifier model(read_classifier_config(file));
  read_classifier(file, model);
  return model;
}

}  // namespace newsrl::models
