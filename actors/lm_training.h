// `newsrl train lm`: next-token training of a causal LM on a file of token
// ids, with checkpoints in a run folder and exact resume. One learner for
// now; the GRPO issue adds data-parallel learners on the actor runtime.
//
// The data is a JSONL file (actors/training_data.h): token streams, one JSON
// array of ids per line (what `newsrl tokenizer encode` prints), joined and
// cut into windows of `seq` tokens; or SFT examples {"prompt", "target"}
// (what `newsrl data sft` writes), the loss on the targets only. Each epoch
// visits the items in an order shuffled by the run's generator. A checkpoint holds the model, AdamW, the
// window cursor and the generator as of the epoch's start, so a resumed run
// continues bit for bit.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace newsrl::actors {

struct LmTrainingOptions {
  std::string preset;            // a model preset, or
  std::string model_config;      // a Hugging Face style config.json
  std::string init_checkpoint;   // or start from these weights
  bool recompute = false;        // recompute each block's activations in the backward (CausalLM::set_recompute)
  std::string data;              // JSONL of token-id arrays
  std::int64_t steps = 100;
  std::int64_t batch = 8;
  std::int64_t seq = 128;
  double lr = 3e-4, min_lr = 3e-5, weight_decay = 0.0, clip = 1.0;
  std::int64_t warmup = 10;
  std::uint64_t seed = 0;
  std::int64_t checkpoint_every = 50;
  int keep_last = 3;
  std::int64_t log_every = 10;
  bool sft = false;  // train sft: the data must be SFT examples (actors/training_data.h)
};

// Trains into run folder `run`: config.toml (resolved), metrics.jsonl (one
// line per step), checkpoints/ (see runtime/checkpoint.h), a progress line
// with rate and ETA on `progress`. With resume, continues from the latest
// checkpoint in `run` (an error if there is none). Returns the exit status.
int train_lm(const LmTrainingOptions& options, const std::string& run, bool resume, const std::string& config_toml,
             const std::string& version, std::ostream& progress);

}  // namespace newsrl::actors
