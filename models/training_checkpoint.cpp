#include "models/training_checkpoint.h"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include "models/model_file.h"

namespace newsrl::models {

namespace {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t read_scalar(const runtime::H5File& f, const std::string& name) {
  std::int64_t v = 0;
  runtime::read_verified(f, name, runtime::H5Type::i64, &v, 1);
  return v;
}

}  // namespace

void save_training(const std::string& path, const CausalLM& model, Optimizer& optimizer, const TrainingState& state,
                   const RunInfo& run) {
  if (model.device() != kernels::Device::cpu) {
    throw std::invalid_argument("saving a training checkpoint needs the model on the CPU: move it with "
                                "CausalLM::to(Device::cpu) (and make its optimizer there) first");
  }
  runtime::CheckpointWriter out(path);
  write_model(out, model, kernels::DType::f32);
  const std::vector<Parameter*>& params = model.parameters();
  const std::int64_t steps = optimizer.steps_taken();
  out.write("/optimizer/step", runtime::H5Type::i64, {}, &steps);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::vector<std::int64_t> shape = params[i]->value.shape().to_vector();
    out.write("/optimizer/m/" + params[i]->name, runtime::H5Type::f32, shape,
              optimizer.first_moments()[i].data<float>());
    out.write("/optimizer/v/" + params[i]->name, runtime::H5Type::f32, shape,
              optimizer.second_moments()[i].data<float>());
  }
  out.write("/state/global_step", runtime::H5Type::i64, {}, &state.global_step);
  out.write("/state/tokens_seen", runtime::H5Type::i64, {}, &state.tokens_seen);
  out.write("/state/policy_version", runtime::H5Type::i64, {}, &state.policy_version);
  out.write("/state/data_cursor", runtime::H5Type::i64, {}, &state.data_cursor);
  for (std::size_t r = 0; r < state.rng_states.size(); ++r) {
    const std::string& s = state.rng_states[r];
    out.write("/state/rng/rank-" + std::to_string(r), runtime::H5Type::u8, {static_cast<std::int64_t>(s.size())},
              s.data());
  }
  out.set_attribute("/run", "config", run.config_toml);
  out.set_attribute("/run", "version", run.version);
  out.set_attribute("/run", "created", utc_now());
  out.commit();
}

TrainingState load_training(const std::string& path, CausalLM& model, Optimizer& optimizer) {
  const runtime::H5File f(path, runtime::H5File::Mode::read);
  if (!(read_config(f).to_json() == model.config().to_json())) {
    throw runtime::H5Error(path + ": its model config differs from this run's");
  }
  read_model(f, model);
  const std::vector<Parameter*>& params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    for (const auto& [group, moments] :
         {std::pair{"m", &optimizer.first_moments()}, std::pair{"v", &optimizer.second_moments()}}) {
      const std::string name = std::string("/optimizer/") + group + "/" + params[i]->name;
      Tensor& t = (*moments)[i];
      if (!f.has(name)) throw runtime::H5Error(path + ": missing dataset " + name);
      runtime::read_verified(f, name, runtime::H5Type::f32, t.data<float>(), t.numel());
    }
  }
  optimizer.restore_steps(read_scalar(f, "/optimizer/step"));
  TrainingState s;
  s.global_step = read_scalar(f, "/state/global_step");
  s.tokens_seen = read_scalar(f, "/state/tokens_seen");
  s.policy_version = read_scalar(f, "/state/policy_version");
  s.data_cursor = read_scalar(f, "/state/data_cursor");
  for (std::size_t r = 0; f.has("/state/rng/rank-" + std::to_string(r)); ++r) {
    const std::string name = "/state/rng/rank-" + std::to_string(r);
    std::string text(static_cast<std::size_t>(f.shape(name).at(0)), '\0');
    runtime::read_verified(f, name, runtime::H5Type::u8, text.data(), static_cast<std::int64_t>(text.size()));
    s.rng_states.push_back(std::move(text));
  }
  return s;
}

}  // namespace newsrl::models
