// What `newsrl train lm` and `train sft` read: a JSONL file that is either
// token streams (one JSON array of ids per line: joined, then cut into windows
// of `seq` tokens, every token a target) or SFT examples (one object
// {"prompt": [ids], "target": [ids]} per line, what `newsrl data sft`
// writes: the loss counts only the target's tokens). Items — windows or
// examples — are what an epoch shuffles and a batch takes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/tensor.h"

namespace newsrl::actors {

class TrainingData {
 public:
  // Detects the format from the first line; bad lines are one line "FILE:LINE: what".
  static TrainingData load(const std::string& path, std::int64_t vocab, std::int64_t seq);

  bool examples() const { return examples_; }  // SFT examples (else windows of a stream)
  std::int64_t items() const;
  std::int64_t tokens() const { return tokens_; }  // in the file
  // ids and labels [n, T] of the items, and the target tokens among them.
  // Windows: T = seq, labels = ids. Examples: T = the longest example in the
  // batch (at most seq; a long prompt loses its oldest tokens first), labels
  // kernels::kIgnoreIndex on the prompt and the padding.
  void batch(const std::vector<std::int64_t>& items, kernels::Tensor& ids, kernels::Tensor& labels,
             std::int64_t& targets) const;

 private:
  bool examples_ = false;
  std::int64_t seq_ = 0, tokens_ = 0;
  std::vector<std::int32_t> stream_;                          // windows
  std::vector<std::vector<std::int32_t>> prompts_, targets_;  // examples
};

}  // namespace newsrl::actors
