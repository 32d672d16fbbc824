// `newsrl train distill`: a small student learns from a frozen teacher
// (DESIGN.md, "The method", step 4; docs/distillation.md). Three modes:
//   on-policy  — rollout-workers sample the student's lists, teacher-scorers
//                score the student's own tokens, learners minimise the
//                per-token reverse KL(pi_student || pi_teacher) (kl = "full":
//                exact over the vocabulary; "sampled": the sampled-token
//                estimate as a negative advantage), weights published to the
//                rollout-workers after every step as in GRPO;
//   supervised — rollout-workers holding the teacher write a list per
//                training user (best of N by composite reward on the
//                reward-workers), then the student is fine-tuned on them with
//                the SFT trainer (actors/lm_training.h);
//   none       — the student trained with the GRPO recipe ([grpo] keys), no
//                teacher: train_grpo itself.
// Every mode ends with student.h5 in the run folder; a resumed run continues
// exactly.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "actors/grpo_training.h"
#include "runtime/cluster.h"

namespace newsrl::actors {

// Every key with its default is in docs/distillation.md.
struct DistillTrainingOptions {
  // [model] init (the student's first weights), [data], [prompt], [rewards.*],
  // and [grpo] (mode none only).
  GrpoTrainingOptions base;
  std::string teacher;              // [teacher] checkpoint
  std::string mode = "on-policy";   // on-policy | supervised | none
  std::string kl = "full";          // on-policy: full | sampled
  // [distill]
  std::int64_t steps = 100;
  int prompts_per_step = 4, samples_per_prompt = 2, max_new_tokens = 96;
  double temperature = 1.0;
  double lr = 1e-4, min_lr = 1e-5;
  std::int64_t warmup = 0;
  double weight_decay = 0.0, clip_norm = 1.0, clip_low = 0.2, clip_high = 0.2;
  std::int64_t checkpoint_every = 50;
  int keep_last = 3;
  std::int64_t log_every = 1;
  std::uint64_t seed = 0;
  // supervised only: teacher lists per user to pick the best from, the
  // teacher's sampling temperature (0: its greedy list), the rule that
  // picks, and the fine-tuning batch (examples) and sequence limit (tokens).
  int best_of = 1;
  double teacher_temperature = 1.0;
  std::string select = "composite";  // which of best_of lists to keep (actors/best_of_n.h)
  std::int64_t batch = 8, seq = 512;
};

// "" when the [distill] values make sense, else "[distill] key: what is wrong".
std::string check_distill_options(const DistillTrainingOptions& options);

// The roles a mode needs placed.
std::vector<std::string> distill_roles(const std::string& mode);

// Runs on every rank of `cluster`; the driver trains into `run_dir`. Bad
// options throw std::invalid_argument with one line. Returns the exit status.
int train_distill(runtime::Cluster& cluster, const DistillTrainingOptions& options, const std::string& run_dir,
                  bool resume, const std::string& config_toml, const std::string& version, std::ostream& progress);

}  // namespace newsrl::actors
