// A training checkpoint: the model (float32 master weights), the AdamW
// moments and step, and the loop's state (global step, tokens seen, policy
// version, data cursor, every rank's RNG state), plus the resolved run config
// and who wrote it — one atomic, checksummed file (runtime/checkpoint.h).
// Restoring all of it makes a resumed run continue bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/causal_lm.h"
#include "models/optimizer.h"

namespace newsrl::models {

struct TrainingState {
  std::int64_t global_step = 0;
  std::int64_t tokens_seen = 0;
  std::int64_t policy_version = 0;
  std::int64_t data_cursor = 0;
  std::vector<std::string> rng_states;  // one per rank: the text form of its generator (operator<<)
};

struct RunInfo {
  std::string config_toml;  // the resolved run config
  std::string version;      // newsrl's
};

void save_training(const std::string& path, const CausalLM& model, Optimizer& optimizer, const TrainingState& state,
                   const RunInfo& run);
// Restores model weights, optimizer moments and step, and the state; throws
// one line naming the file and the first missing or damaged dataset.
TrainingState load_training(const std::string& path, CausalLM& model, Optimizer& optimizer);

}  // namespace newsrl::models
